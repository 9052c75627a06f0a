// Unit tests: judging entries (PROTOCOL.md section 6.1), the state of
// sections 6.2/6.3 and 7, and the heartbeat of section 9, on messages
// signed here with keys generated here.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Keyring } from '../src/keys.js';
import { ControlState } from '../src/state.js';
import { judgeMessage, judgeHeartbeat } from '../src/message.js';
import { newKeyPair, entry, signB64, haltMsg, resumeMsg, heartbeatMsg, hex32 } from '../testing/helpers.js';

const watchdog = newKeyPair();
const operator = newKeyPair();
const stranger = newKeyPair();
const keyring = new Keyring({
  watchdog: [{ raw: watchdog.raw, name: 'watchdog.pub' }],
  operator: [{ raw: operator.raw, name: 'operator.pub' }],
});

const raw = (pairs) => pairs.map(([n, v]) => [Buffer.from(n), Buffer.from(v)]);
/** outcome, or the rejection name */
const outcomeOf = (fields) => {
  const v = judgeMessage(fields, keyring);
  return v.outcome === 'reject' ? v.reason : v.outcome;
};
/** a message object signed by `pair` after JSON.stringify, with a field changed */
const signedWith = (pair, msg) => entry(pair, msg);

test('a valid HALT (watchdog or operator key) and a valid RESUME (operator key) pass steps 1-11', () => {
  assert.equal(outcomeOf(signedWith(watchdog, haltMsg(watchdog))), 'halt');
  assert.equal(outcomeOf(signedWith(operator, haltMsg(operator, { invariant: 'MANUAL', heights: {} }))), 'halt');
  assert.equal(outcomeOf(signedWith(operator, resumeMsg(operator, [`halt-${hex32()}`]))), 'resume');
  // Unknown fields are ignored, the order of members does not matter.
  const { v, ...rest } = haltMsg(watchdog);
  assert.equal(outcomeOf(signedWith(watchdog, { ...rest, future_field: [1, { x: null }], v })), 'halt');
});

test('step 1, bad_entry: exactly one msg and one sig, nothing else', () => {
  const good = signedWith(watchdog, haltMsg(watchdog));
  assert.equal(outcomeOf(null), 'bad_entry'); // a deleted entry
  assert.equal(outcomeOf([]), 'bad_entry');
  assert.equal(outcomeOf([good[0]]), 'bad_entry');
  assert.equal(outcomeOf([good[1]]), 'bad_entry');
  assert.equal(outcomeOf([...good, good[0]]), 'bad_entry');
  assert.equal(outcomeOf([...good, good[1]]), 'bad_entry');
  assert.equal(outcomeOf([...good, [Buffer.from('extra'), Buffer.from('x')]]), 'bad_entry');
  assert.equal(outcomeOf(raw([['MSG', good[0][1]], good[1]])), 'bad_entry');
  assert.equal(outcomeOf(raw([['msg ', good[0][1]], good[1]])), 'bad_entry');
  assert.equal(outcomeOf([good[1], good[0]]), 'halt'); // order of the fields does not matter
});

test('step 2, too_long: more than 65,536 bytes', () => {
  const base = haltMsg(watchdog);
  const sizeWith = (n) => Buffer.byteLength(JSON.stringify({ ...base, pad: 'x'.repeat(n) }));
  const fill = 65536 - sizeWith(0);
  const exact = { ...base, pad: 'x'.repeat(fill) };
  assert.equal(Buffer.byteLength(JSON.stringify(exact)), 65536);
  assert.equal(outcomeOf(signedWith(watchdog, exact)), 'halt');
  assert.equal(outcomeOf(signedWith(watchdog, { ...base, pad: 'x'.repeat(fill + 1) })), 'too_long');
  // too_long comes before the signature check
  assert.equal(outcomeOf(raw([['msg', Buffer.alloc(70000, 0x41)], ['sig', 'x']])), 'too_long');
});

test('step 3, bad_signature: format, unknown key, altered bytes', () => {
  const msg = Buffer.from(JSON.stringify(haltMsg(watchdog)));
  const sig = signB64(watchdog.privateKey, msg);
  assert.equal(outcomeOf(raw([['msg', msg], ['sig', sig]])), 'halt');
  for (const badSig of [
    sig.slice(0, 86), // unpadded
    sig + '\n',
    ' ' + sig.slice(1),
    sig.replace(/\+/g, '-').replace(/\//g, '_').padEnd(88, '='), // URL-safe (if it has + or /)
    Buffer.alloc(64).toString('base64').slice(0, 84) + 'AAB=', // 4 chars too many in 88, wrong length
    Buffer.from(sig, 'base64').toString('hex'),
    sig.slice(0, 85) + 'B==', // non-zero padding bits
  ]) {
    if (badSig === sig) continue;
    assert.equal(outcomeOf(raw([['msg', msg], ['sig', badSig]])), 'bad_signature', badSig);
  }
  assert.equal(outcomeOf(raw([['msg', msg], ['sig', Buffer.alloc(64).toString('base64')]])), 'bad_signature');
  const altered = Buffer.from(msg);
  altered[altered.length - 2] ^= 1;
  assert.equal(outcomeOf(raw([['msg', altered], ['sig', sig]])), 'bad_signature');
  assert.equal(outcomeOf(raw([['msg', Buffer.concat([msg, Buffer.from('\n')])], ['sig', sig]])), 'bad_signature');
  assert.equal(outcomeOf(signedWith(stranger, haltMsg(stranger))), 'bad_signature');
});

test('steps 4-6: not_utf8, bad_json, duplicate_key, after the signature', () => {
  const bytes = Buffer.concat([Buffer.from('{"v":1,"x":"'), Buffer.from([0xff]), Buffer.from('"}')]);
  assert.equal(outcomeOf(entry(watchdog, bytes)), 'not_utf8');
  assert.equal(outcomeOf(entry(stranger, bytes)), 'bad_signature');
  assert.equal(outcomeOf(entry(watchdog, ' ' + JSON.stringify(haltMsg(watchdog)))), 'bad_json');
  assert.equal(outcomeOf(entry(watchdog, JSON.stringify(haltMsg(watchdog)) + '\n')), 'bad_json');
  assert.equal(outcomeOf(entry(watchdog, JSON.stringify(haltMsg(watchdog), null, 2))), 'halt'); // whitespace inside is fine
  const text = JSON.stringify(haltMsg(watchdog));
  assert.equal(outcomeOf(entry(watchdog, text.replace('{', '{"type":"RESUME",'))), 'duplicate_key');
  assert.equal(outcomeOf(entry(watchdog, text.replace('"type"', '"\\u0074ype":"RESUME","type"'))), 'duplicate_key');
});

test('step 7, unknown_version: v present and not the number 1', () => {
  for (const v of [2, 0, '1', null, true, [1], 1.5]) {
    assert.equal(outcomeOf(signedWith(watchdog, haltMsg(watchdog, { v }))), 'unknown_version', JSON.stringify(v));
  }
  // before missing_field
  const { id, ...noId } = haltMsg(watchdog, { v: 2 });
  assert.equal(outcomeOf(signedWith(watchdog, noId)), 'unknown_version');
  assert.equal(outcomeOf(entry(watchdog, JSON.stringify(haltMsg(watchdog)).replace('"v":1', '"v":1.0'))), 'halt');
});

test('step 8, missing_field: every required field, v included', () => {
  const fields = ['v', 'type', 'id', 'invariant', 'severity', 'reason', 'evidence', 'heights', 'issued_at', 'watchdog_id', 'correlation_id', 'key_id'];
  for (const f of fields) {
    const m = haltMsg(watchdog);
    delete m[f];
    assert.equal(outcomeOf(signedWith(watchdog, m)), 'missing_field', `HALT without ${f}`);
  }
  for (const f of [...fields, 'lifts', 'resume_from']) {
    const m = resumeMsg(operator, [`halt-${hex32()}`]);
    delete m[f];
    const v = judgeMessage(signedWith(operator, m), keyring);
    assert.equal(v.reason, 'missing_field', `RESUME without ${f}`);
    assert.match(v.detail, new RegExp(`"${f}"`));
  }
  // missing_field comes before bad_field
  const m = haltMsg(watchdog, { id: 'nope' });
  delete m.key_id;
  assert.equal(outcomeOf(signedWith(watchdog, m)), 'missing_field');
});

test('step 9, bad_field: types and rules', () => {
  const H = (o) => outcomeOf(signedWith(watchdog, haltMsg(watchdog, o)));
  const R = (o) => outcomeOf(signedWith(operator, resumeMsg(operator, [`halt-${hex32()}`], o)));
  const halts = [
    { type: 'PING' },
    { type: 'halt' },
    { id: 'halt-' + 'A'.repeat(32) },
    { id: 'halt-' + '0'.repeat(31) },
    { id: 'resume-' + '0'.repeat(32) },
    { id: 7 },
    { invariant: '' },
    { severity: '' },
    { reason: '' },
    { reason: 1 },
    { evidence: [] },
    { evidence: null },
    { evidence: 'x' },
    { heights: [] },
    { heights: { a: -1 } },
    { heights: { a: 1.5 } },
    { heights: { a: 2 ** 53 } },
    { heights: { a: '10' } },
    { issued_at: '2026-01-01T00:00:00Z' },
    { issued_at: '2026-01-01T00:00:00.000+00:00' },
    { issued_at: '2026-02-30T00:00:00.000Z' },
    { issued_at: '2026-01-01T24:00:00.000Z' },
    { issued_at: '1969-12-31T23:59:59.999Z' },
    { issued_at: '2026-01-01 00:00:00.000Z' },
    { watchdog_id: '' },
    { correlation_id: '' },
    { key_id: watchdog.keyId.toUpperCase() },
    { key_id: watchdog.keyId.slice(1) },
    { lifts: [`halt-${hex32()}`] },
    { resume_from: { a: 1 } },
  ];
  for (const o of halts) {
    if (o.key_id === watchdog.keyId) continue; // keyId without letters
    assert.equal(H(o), 'bad_field', JSON.stringify(o));
  }
  assert.equal(H({ heights: { a: 2 ** 53 - 1, b: 0 } }), 'halt');
  assert.equal(H({ issued_at: '2024-02-29T23:59:59.999Z' }), 'halt');
  assert.equal(H({ issued_at: '1970-01-01T00:00:00.000Z' }), 'halt');
  const h = `halt-${hex32()}`;
  for (const o of [
    { type: 'HALT' }, // then lifts/resume_from are not allowed
    { id: `halt-${hex32()}` },
    { lifts: [] },
    { lifts: [h, h] },
    { lifts: ['resume-' + hex32()] },
    { lifts: Array.from({ length: 257 }, () => `halt-${hex32()}`) },
    { lifts: `halt-${hex32()}` },
    { resume_from: {} },
    { resume_from: { a: -1 } },
    { resume_from: [] },
  ]) {
    assert.equal(R(o), 'bad_field', JSON.stringify(o));
  }
  assert.equal(R({ lifts: Array.from({ length: 256 }, () => `halt-${hex32()}`) }), 'resume');
});

test('step 10, key_id_mismatch; step 11, resume_by_watchdog_key', () => {
  assert.equal(outcomeOf(signedWith(watchdog, haltMsg(operator))), 'key_id_mismatch');
  assert.equal(outcomeOf(signedWith(operator, haltMsg(watchdog))), 'key_id_mismatch');
  assert.equal(outcomeOf(signedWith(watchdog, haltMsg(watchdog, { key_id: '0123456789abcdef' }))), 'key_id_mismatch');
  assert.equal(outcomeOf(signedWith(watchdog, resumeMsg(watchdog, [`halt-${hex32()}`]))), 'resume_by_watchdog_key');
  assert.equal(outcomeOf(signedWith(watchdog, resumeMsg(operator, [`halt-${hex32()}`]))), 'key_id_mismatch');
});

test('rejections never carry raw entry bytes in their detail', () => {
  const evil = Buffer.from('{"v":1,"\u001b[31mevil\n":1}');
  for (const fields of [
    raw([['msg', evil], ['sig', 'not a sig \u001b[0m\n']]),
    raw([['msg', evil], ['sig', 'a'], ['\u001b]0;x\u0007', 'y']]),
    entry(watchdog, evil),
  ]) {
    const v = judgeMessage(fields, keyring);
    assert.equal(v.outcome, 'reject');
    assert.doesNotMatch(v.detail, /[\u0000-\u001f]|evil/, v.detail);
  }
});

test('state: HALTs in force, RESUME lifts what it lists, replays', () => {
  const s = new ControlState(keyring);
  const h1 = haltMsg(watchdog);
  const h2 = haltMsg(operator);
  const apply = (id, fields) => {
    const v = s.applyEntry(id, fields);
    return v.outcome === 'reject' ? v.reason : v.outcome;
  };
  assert.equal(apply('1-0', entry(watchdog, h1)), 'halt');
  assert.equal(apply('2-0', entry(operator, h2)), 'halt');
  assert.deepEqual(s.haltsInForce(), [h1.id, h2.id]);
  assert.equal(apply('3-0', entry(watchdog, h1)), 'replay'); // the same HALT again
  const r1 = resumeMsg(operator, [h1.id, `halt-${hex32()}`]);
  assert.equal(apply('4-0', entry(operator, r1)), 'resume');
  assert.deepEqual(s.haltsInForce(), [h2.id]);
  assert.equal(s.halted(), true);
  assert.equal(apply('5-0', entry(operator, r1)), 'replay'); // the same RESUME again
  const r1b = resumeMsg(operator, [h1.id]); // a new RESUME naming no HALT in force
  assert.equal(apply('6-0', entry(operator, r1b)), 'replay');
  const r2 = resumeMsg(operator, [h2.id]);
  assert.equal(apply('7-0', entry(operator, r2)), 'resume');
  assert.equal(s.halted(), false);
  assert.equal(apply('8-0', entry(operator, h2)), 'replay'); // a lifted HALT replayed
  assert.equal(s.halted(), false);
  // Rejected entries change nothing.
  assert.equal(apply('9-0', entry(stranger, haltMsg(stranger))), 'bad_signature');
  assert.equal(s.halted(), false);
  const h3 = haltMsg(watchdog);
  assert.equal(apply('10-0', entry(watchdog, h3)), 'halt');
  // A RESUME signed before h3 existed never lifts it.
  assert.equal(apply('11-0', entry(operator, resumeMsg(operator, [h1.id, h2.id]))), 'replay');
  assert.deepEqual(s.haltsInForce(), [h3.id]);
});

test('state: the halt key', () => {
  const s = new ControlState(keyring);
  const h = haltMsg(watchdog);
  assert.equal(s.applyHaltKey(null).outcome, 'none');
  assert.equal(s.applyHaltKey(entry(stranger, haltMsg(stranger))).reason, 'bad_signature');
  assert.equal(s.applyHaltKey([...entry(watchdog, h), [Buffer.from('x'), Buffer.from('y')]]).reason, 'bad_entry');
  const r = s.applyHaltKey(entry(operator, resumeMsg(operator, [h.id])));
  assert.equal(r.outcome, 'reject');
  assert.equal(r.reason, 'bad_field');
  assert.equal(s.halted(), false);
  assert.equal(s.applyHaltKey(entry(watchdog, h)).outcome, 'halt');
  assert.deepEqual(s.haltsInForce(), [h.id]);
  assert.equal(s.applyHaltKey(entry(watchdog, h)).outcome, 'known');
  // Its stream entry is the same HALT, known (bound to it), not a replay; a second copy is.
  const first = s.applyEntry('1-0', entry(watchdog, h));
  assert.equal(first.outcome, 'halt');
  assert.equal(first.known, true);
  assert.equal(s.inForce.get(h.id).entryId, '1-0');
  assert.equal(s.applyEntry('2-0', entry(watchdog, h)).reason, 'replay');
  assert.equal(s.applyEntry('3-0', entry(operator, resumeMsg(operator, [h.id]))).outcome, 'resume');
  assert.equal(s.halted(), false);
  // Reading the halt key again (a reconnect) does not bring a lifted HALT back.
  assert.equal(s.applyHaltKey(entry(watchdog, h)).outcome, 'known');
  assert.equal(s.halted(), false);
  // Nor does its stream entry once lifted.
  assert.equal(s.applyEntry('4-0', entry(watchdog, h)).reason, 'replay');
});

test('heartbeat: fresh, stale, from the future, forged', () => {
  const now = Date.parse('2026-03-01T12:00:00.000Z');
  const hb = (pair, msg) => judgeHeartbeat(entry(pair, msg), keyring, now);
  assert.equal(hb(watchdog, heartbeatMsg(watchdog, now)).fresh, true);
  assert.equal(hb(watchdog, heartbeatMsg(watchdog, now - 6000, 5000)).fresh, true); // ttl + 1 s
  assert.equal(hb(watchdog, heartbeatMsg(watchdog, now - 6001, 5000)).reason, 'stale');
  assert.equal(hb(watchdog, heartbeatMsg(watchdog, now - 6001, 5000)).fresh, false);
  assert.equal(hb(watchdog, heartbeatMsg(watchdog, now + 1001)).fresh, false);
  assert.equal(hb(watchdog, heartbeatMsg(watchdog, now + 1000)).fresh, true);
  assert.equal(hb(watchdog, heartbeatMsg(watchdog, now + 1001)).reason, 'from_future');
  assert.equal(judgeHeartbeat(null, keyring, now).reason, 'missing');
  assert.equal(judgeHeartbeat([], keyring, now).reason, 'missing');
  assert.equal(hb(operator, heartbeatMsg(operator, now)).reason, 'bad_signature'); // watchdog keys only
  assert.equal(hb(stranger, heartbeatMsg(stranger, now)).reason, 'bad_signature');
  assert.equal(hb(watchdog, heartbeatMsg(operator, now)).reason, 'key_id_mismatch');
  assert.equal(hb(watchdog, heartbeatMsg(watchdog, now, 5000, { issued_at_ms: now + 1 })).reason, 'bad_field');
  assert.equal(hb(watchdog, heartbeatMsg(watchdog, now, 0)).reason, 'bad_field');
  assert.equal(hb(watchdog, heartbeatMsg(watchdog, now, 86_400_001)).reason, 'bad_field');
  assert.equal(hb(watchdog, heartbeatMsg(watchdog, now, 86_400_000)).fresh, true);
  assert.equal(hb(watchdog, heartbeatMsg(watchdog, now, 5000, { type: 'HALT' })).reason, 'bad_field');
  assert.equal(hb(watchdog, heartbeatMsg(watchdog, now, 5000, { v: 2 })).reason, 'unknown_version');
  assert.equal(hb(watchdog, heartbeatMsg(watchdog, now, 5000, { extra: 1 })).reason, 'bad_field');
  const { ttl_ms, ...noTtl } = heartbeatMsg(watchdog, now);
  assert.equal(hb(watchdog, noTtl).reason, 'missing_field');
  assert.equal(hb(watchdog, { ...heartbeatMsg(watchdog, now), pad: 'x'.repeat(600) }).reason, 'too_long');
});
