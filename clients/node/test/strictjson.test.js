// Unit tests: the strict JSON checks of PROTOCOL.md section 5.2.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseStrictJson, checkJsonText, MAX_DEPTH } from '../src/strictjson.js';

const judge = (input) => {
  const r = parseStrictJson(Buffer.isBuffer(input) ? input : Buffer.from(input));
  return r.ok ? 'ok' : r.reason;
};

test('strict JSON: well-formed objects pass and parse', () => {
  for (const ok of [
    '{}',
    '{"a":1}',
    '{ "a" : [ 1 , 2.5e-3 , -0 , true , false , null , "x" ] }',
    '{"a":{"b":{"c":[]}}}',
    '{"s":"\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00"}',
    '{"a":"é😀"}',
    '{"a":1,"A":2}',
    '{"a":{"x":1},"b":{"x":1}}', // the same name in two objects is not a duplicate
  ]) {
    assert.equal(judge(ok), 'ok', ok);
  }
  const r = parseStrictJson(Buffer.from('{"a":[1,{"b":"c"}]}'));
  assert.deepEqual(r.value, { a: [1, { b: 'c' }] });
});

test('strict JSON: not UTF-8', () => {
  for (const bytes of [
    [0x7b, 0x7d, 0x00], // NUL
    [0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0x00, 0x22, 0x7d], // NUL inside a string
    [0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d], // 0xff
    [0x7b, 0x22, 0xc0, 0xaf, 0x22, 0x3a, 0x31, 0x7d], // overlong '/'
    [0x7b, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x3a, 0x31, 0x7d], // encoded surrogate U+D800
    [0x7b, 0x22, 0xf4, 0x90, 0x80, 0x80, 0x22, 0x3a, 0x31, 0x7d], // above U+10FFFF
    [0x7b, 0x22, 0xe2, 0x82, 0x22, 0x3a, 0x31, 0x7d], // truncated sequence
  ]) {
    assert.equal(judge(Buffer.from(bytes)), 'not_utf8', Buffer.from(bytes).toString('hex'));
  }
});

test('strict JSON: grammar', () => {
  for (const bad of [
    '',
    ' {}', // leading whitespace
    '\n{}',
    '{} ', // trailing whitespace
    '{}\n',
    '{}{}',
    '{}x',
    '\ufeff{}', // a byte-order mark is a byte before the '{'
    '[]', // not an object
    '"a"',
    '1',
    '{"a":1,}', // trailing comma
    '{"a":[1,]}',
    '{"\\u0000":1}', // an escaped NUL: a NUL-terminated reader would cut the name
    "{'a':1}", // single quotes
    '{a:1}',
    '{"a":NaN}',
    '{"a":Infinity}',
    '{"a":+1}',
    '{"a":01}',
    '{"a":-01}',
    '{"a":1.}',
    '{"a":.5}',
    '{"a":1e}',
    '{"a":--1}',
    '{"a":0x10}',
    '{"a":1 /* c */}',
    '{"a":1} // c',
    '{"a":"\t"}', // raw control character
    '{"a":"\\x41"}', // invalid escape
    '{"a":"\\u12"}',
    '{"a":"\\ud800"}', // lone high surrogate escape
    '{"a":"\\ud800x"}',
    '{"a":"\\ud800\\u0041"}', // high surrogate followed by a non-surrogate escape
    '{"a":"\\udc00"}', // lone low surrogate escape
    '{"\\ud83d":1}', // lone surrogate in a name
    '{"a":tru}',
    '{"a":True}',
    '{"a" 1}',
    '{"a":1 "b":2}',
    '{"a":1',
    '{"a":"x}',
  ]) {
    assert.equal(judge(bad), 'bad_json', JSON.stringify(bad));
  }
});

test(`strict JSON: nesting at most ${MAX_DEPTH} deep, the top-level object counting as 1`, () => {
  const nested = (depth) => '{"a":'.repeat(depth - 1) + '{}' + '}'.repeat(depth - 1);
  assert.equal(judge(nested(32)), 'ok');
  assert.equal(judge(nested(33)), 'bad_json');
  const arrays = (depth) => '{"a":' + '['.repeat(depth - 1) + ']'.repeat(depth - 1) + '}';
  assert.equal(judge(arrays(32)), 'ok');
  assert.equal(judge(arrays(33)), 'bad_json');
  assert.equal(judge('{"a":' + '['.repeat(100000) + ']'.repeat(100000) + '}'), 'bad_json'); // no stack overflow
});

test('strict JSON: duplicate names at any depth, compared after unescaping', () => {
  for (const dup of [
    '{"a":1,"a":2}',
    '{"a":1,"b":2,"a":1}',
    '{"a":1,"\\u0061":2}',
    '{"\\u00e9":1,"é":2}',
    '{"\\ud83d\\ude00":1,"😀":2}',
    '{"\\/":1,"/":2}',
    '{"x":{"y":{"a":1,"a":2}}}',
    '{"x":[{"a":1},{"b":1,"b":2}]}',
  ]) {
    assert.equal(judge(dup), 'duplicate_key', dup);
  }
});

test('strict JSON: a grammar error after a duplicate is bad_json (grammar is checked first)', () => {
  assert.equal(judge('{"a":1,"a":2,}'), 'bad_json');
  assert.equal(judge('{"a":1,"a":2} '), 'bad_json');
});

test('strict JSON: long numbers and strings are fine', () => {
  assert.equal(judge(`{"a":${'9'.repeat(5000)}}`), 'ok');
  assert.equal(judge(`{"a":"${'x'.repeat(60000)}"}`), 'ok');
});

test('checkJsonText on a JS string refuses raw lone surrogates', () => {
  assert.equal(checkJsonText('{"a":"\ud800"}').reason, 'bad_json');
});
