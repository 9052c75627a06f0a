// Unit tests: strict base64, BLAKE2b, key files and key_ids.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { decodeBase64Strict } from '../src/base64.js';
import { blake2b } from '../src/blake2b.js';
import { keyIdOf, parsePublicKeyLine, readPublicKeyFile, Keyring } from '../src/keys.js';
import { newKeyPair } from '../testing/helpers.js';

test('base64: the standard alphabet with padding decodes', () => {
  assert.deepEqual(decodeBase64Strict('Zm9vYmFy'), Buffer.from('foobar'));
  assert.deepEqual(decodeBase64Strict('Zm9vYg=='), Buffer.from('foob'));
  assert.deepEqual(decodeBase64Strict('Zm9vYmE='), Buffer.from('fooba'));
  assert.deepEqual(decodeBase64Strict('+/+/'), Buffer.from([0xfb, 0xff, 0xbf]));
  assert.deepEqual(decodeBase64Strict(Buffer.from('Zm9v')), Buffer.from('foo'));
});

test('base64: everything Buffer.from(s, "base64") forgives is refused', () => {
  for (const bad of [
    '', // empty
    'Zm9vYg', // missing padding
    'Zm9vYg=', // short padding
    'Zm9v YmFy', // space
    'Zm9v\nYmFy', // line break
    ' Zm9vYmFy', // leading space
    'Zm9vYmFy\n', // trailing newline
    '-_-_', // URL-safe alphabet
    'Zm9vYh==', // non-zero padding bits (2 '=')
    'Zm9vYmF=', // non-zero padding bits (1 '=')
    'Zg==Zg==', // padding in the middle
    '====',
    'A===',
    'Zm9v=', // length not a multiple of 4
    'Zm9vYmFy\u00e9AAA', // non-ASCII
  ]) {
    assert.equal(decodeBase64Strict(bad), null, JSON.stringify(bad));
  }
  assert.equal(decodeBase64Strict(Buffer.from([0x5a, 0x6d, 0x39, 0xff])), null);
});

test('base64: an expected length is enforced', () => {
  const sig = Buffer.alloc(64, 7).toString('base64');
  assert.equal(sig.length, 88);
  assert.equal(decodeBase64Strict(sig, 64).length, 64);
  assert.equal(decodeBase64Strict(sig, 32), null);
  assert.equal(decodeBase64Strict(Buffer.alloc(63).toString('base64'), 64), null);
});

test('blake2b: RFC 7693 appendix A, BLAKE2b-512 of "abc"', () => {
  assert.equal(
    blake2b(Buffer.from('abc'), 64).toString('hex'),
    'ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1' +
      '7d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923',
  );
});

test('blake2b: 512-bit digests agree with OpenSSL for lengths around the block size', () => {
  for (const n of [0, 1, 32, 127, 128, 129, 255, 256, 257, 1000]) {
    const data = Buffer.alloc(n, n & 0xff);
    assert.deepEqual(blake2b(data, 64), createHash('blake2b512').update(data).digest(), `length ${n}`);
  }
});

test('blake2b: BLAKE2b-256 is not BLAKE2b-512 cut short', () => {
  // BLAKE2b-256("") from the BLAKE2 reference implementation.
  assert.equal(blake2b(Buffer.alloc(0), 32).toString('hex'), '0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8');
  assert.notDeepEqual(blake2b(Buffer.from('abc'), 32), blake2b(Buffer.from('abc'), 64).subarray(0, 32));
  assert.throws(() => blake2b(Buffer.alloc(1), 0), /digest length/);
  assert.throws(() => blake2b(Buffer.alloc(1), 65), /digest length/);
});

test('key_id is 16 lowercase hex digits of BLAKE2b-256', () => {
  const raw = Buffer.from('af2a9a6bd8ec74cffcb1d3dbea0d33466835647775f6f866a63fc02dbe894a26', 'hex');
  assert.match(keyIdOf(raw), /^[0-9a-f]{16}$/);
  assert.equal(keyIdOf(raw), blake2b(raw, 32).subarray(0, 8).toString('hex'));
});

test('public key files: the one-line format, a trailing newline and nothing else', () => {
  const raw = newKeyPair().raw;
  const line = `relaywatch-ed25519-public-v1 ${raw.toString('base64')}`;
  assert.deepEqual(parsePublicKeyLine(line, 'k.pub'), raw);
  assert.deepEqual(parsePublicKeyLine(line + '\n', 'k.pub'), raw);
  for (const bad of [
    line + '\n\n',
    line + '\r\n',
    line + ' ',
    ' ' + line,
    line.replace('public', 'secret'),
    line.replace(' ', '  '),
    line.replace(' ', '\t'),
    `relaywatch-ed25519-public-v1 ${raw.toString('base64').replace(/=$/, '')}`,
    `relaywatch-ed25519-public-v1 ${Buffer.alloc(32, 0xfb).toString("base64url")}=`,
    `relaywatch-ed25519-public-v1 ${Buffer.alloc(33).toString('base64')}`,
    '\ufeff' + line,
  ]) {
    assert.throws(() => parsePublicKeyLine(bad, 'k.pub'), /^Error: k\.pub: not a relaywatch public key file/, JSON.stringify(bad));
  }
});

test('public key files are read from disk, errors name the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rw-keys-'));
  const good = join(dir, 'w.pub');
  const bad = join(dir, 'bad.pub');
  const raw = newKeyPair().raw;
  writeFileSync(good, `relaywatch-ed25519-public-v1 ${raw.toString('base64')}\n`);
  writeFileSync(bad, 'hello\n');
  assert.deepEqual(readPublicKeyFile(good), raw);
  assert.throws(() => readPublicKeyFile(bad), new RegExp(`^Error: ${bad}: not a relaywatch`));
  assert.throws(() => readPublicKeyFile(join(dir, 'none.pub')), /none\.pub: cannot read/);
  const ring = Keyring.fromFiles({ watchdog: `${good}`, operator: [] });
  assert.equal(ring.watchdog.length, 1);
  assert.throws(() => Keyring.fromFiles({ watchdog: good, operator: good }), /same public key/);
  rmSync(dir, { recursive: true, force: true });
});
