// Judging one control message (docs/PROTOCOL.md sections 4, 5 and 6.1,
// steps 1 to 11) and the heartbeat (section 9). Step 12, the replay check,
// needs the relayer's state: see state.js.

import { decodeBase64Strict } from './base64.js';
import { parseStrictJson } from './strictjson.js';

export const MAX_MSG_BYTES = 65536;
export const MAX_HEARTBEAT_BYTES = 512;
export const MAX_LIFTS = 256;
export const MAX_TTL_MS = 86_400_000;
export const CLOCK_SKEW_MS = 1000;

/** The rejection names of section 6.1, in the order of its steps. */
export const REJECTIONS = [
  'bad_entry',
  'too_long',
  'bad_signature',
  'not_utf8',
  'bad_json',
  'duplicate_key',
  'unknown_version',
  'missing_field',
  'bad_field',
  'key_id_mismatch',
  'resume_by_watchdog_key',
  'replay',
];

const HALT_ID = /^halt-[0-9a-f]{32}$/;
const RESUME_ID = /^resume-[0-9a-f]{32}$/;
const KEY_ID = /^[0-9a-f]{16}$/;
const ISSUED_AT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.(\d{3})Z$/;

/**
 * Redis returns a stream entry's or a hash's fields as a flat list
 * [name, value, name, value, ...] (null for a deleted entry). This turns it
 * into [name, value] pairs of Buffers, keeping repeats.
 * @param {Array<Buffer|string> | null | undefined} flat
 * @returns {Array<[Buffer, Buffer]> | null}
 */
export function pairsFromFlat(flat) {
  if (!flat) return null;
  const pairs = [];
  for (let i = 0; i + 1 < flat.length; i += 2) pairs.push([Buffer.from(flat[i]), Buffer.from(flat[i + 1])]);
  if (flat.length % 2 === 1) pairs.push([Buffer.from(flat[flat.length - 1]), Buffer.alloc(0)]);
  return pairs;
}

/**
 * Section 6.1 step 1: exactly one `msg`, one `sig`, nothing else.
 * @param {Array<[Uint8Array, Uint8Array]> | null} fields
 * @returns {{ok: true, msg: Buffer, sig: Buffer} | {ok: false, detail: string}}
 */
export function splitFields(fields) {
  if (!fields || fields.length === 0) return { ok: false, detail: 'the entry has no fields (deleted?)' };
  let msg = null;
  let sig = null;
  let others = 0;
  for (const [name, value] of fields) {
    const n = Buffer.from(name).toString('latin1');
    if (n === 'msg') {
      if (msg !== null) return { ok: false, detail: 'field "msg" appears more than once' };
      msg = Buffer.from(value);
    } else if (n === 'sig') {
      if (sig !== null) return { ok: false, detail: 'field "sig" appears more than once' };
      sig = Buffer.from(value);
    } else {
      others++;
    }
  }
  if (msg === null) return { ok: false, detail: 'no "msg" field' };
  if (sig === null) return { ok: false, detail: 'no "sig" field' };
  if (others > 0) return { ok: false, detail: `${others} field(s) other than "msg" and "sig"` };
  return { ok: true, msg, sig };
}

/**
 * Milliseconds since 1970 of an `issued_at` (`YYYY-MM-DDTHH:MM:SS.mmmZ`,
 * a real UTC date from 1970 on), or null when it is not one.
 * @param {unknown} s
 */
export function parseIssuedAt(s) {
  if (typeof s !== 'string') return null;
  const m = ISSUED_AT.exec(s);
  if (!m) return null;
  const [year, month, day, hour, minute, second, ms] = m.slice(1).map(Number);
  if (year < 1970 || month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return null;
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day > daysInMonth) return null;
  const t = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  return t;
}

const isObject = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNonEmptyString = (v) => typeof v === 'string' && v.length > 0;
/** A block number: a JSON number with an integer value from 0 to 2^53-1 (section 4.3). */
const isBlockNumber = (v) => Number.isSafeInteger(v) && v >= 0;
const isChainMap = (v) => isObject(v) && Object.values(v).every(isBlockNumber);

/**
 * The required fields in the order of section 4's tables, each with its rule.
 * `lifts` and `resume_from` are required of a RESUME and forbidden in a HALT.
 */
const FIELDS = [
  ['v', (v) => v === 1],
  ['type', (v) => v === 'HALT' || v === 'RESUME'],
  ['id', (v, type) => typeof v === 'string' && (type === 'RESUME' ? RESUME_ID : HALT_ID).test(v)],
  ['invariant', isNonEmptyString],
  ['severity', isNonEmptyString],
  ['reason', isNonEmptyString],
  ['evidence', isObject],
  ['heights', isChainMap],
  ['lifts', (v) => Array.isArray(v) && v.length >= 1 && v.length <= MAX_LIFTS && v.every((id) => typeof id === 'string' && HALT_ID.test(id)) && new Set(v).size === v.length],
  ['resume_from', (v) => isChainMap(v) && Object.keys(v).length >= 1],
  ['issued_at', (v) => parseIssuedAt(v) !== null],
  ['watchdog_id', isNonEmptyString],
  ['correlation_id', isNonEmptyString],
  ['key_id', (v) => typeof v === 'string' && KEY_ID.test(v)],
];
const RESUME_ONLY = new Set(['lifts', 'resume_from']);

/**
 * @typedef {object} Verdict
 * @property {'halt'|'resume'|'reject'} outcome   'halt'/'resume' only once the message passed every step
 * @property {string} [reason]     the rejection name, for 'reject'
 * @property {string} [detail]     what exactly failed, safe to log (never raw entry bytes)
 * @property {object} [message]    the parsed message, once it passed step 6
 * @property {import('./keys.js').TrustedKey} [key]  the key that verified it
 */

const reject = (reason, detail, extra = {}) => ({ outcome: 'reject', reason, detail, ...extra });

/**
 * Section 6.1 steps 1 to 11 for one stream entry (or the halt key's hash).
 * Returns outcome 'halt' or 'resume' for a message that passed them all;
 * the caller then applies step 12 (replays) against its state.
 * @param {Array<[Uint8Array, Uint8Array]> | null} fields
 * @param {import('./keys.js').Keyring} keyring
 * @returns {Verdict}
 */
export function judgeMessage(fields, keyring) {
  // 1. exactly msg and sig
  const split = splitFields(fields);
  if (!split.ok) return reject('bad_entry', split.detail);
  const { msg, sig } = split;

  // 2. size
  if (msg.length > MAX_MSG_BYTES) return reject('too_long', `msg is ${msg.length} bytes, more than ${MAX_MSG_BYTES}`);

  // 3. signature: 88 strict base64 characters, 64 bytes, verified by a trusted key
  const sigBytes = sig.length === 88 ? decodeBase64Strict(sig, 64) : null;
  if (sigBytes === null) return reject('bad_signature', `sig is not 88 characters of strict base64 decoding to 64 bytes (${sig.length} bytes)`);
  const key = keyring.verifier(msg, sigBytes);
  if (key === null) return reject('bad_signature', 'no trusted watchdog or operator key verifies sig over msg');

  // 4-6. UTF-8, grammar, duplicate names
  const parsed = parseStrictJson(msg);
  if (!parsed.ok) return reject(parsed.reason, parsed.detail, { key });
  const message = parsed.value;

  // 7. version
  if (Object.hasOwn(message, 'v') && message.v !== 1) {
    return reject('unknown_version', 'v is not the number 1', { key, message });
  }

  // 8. presence, then 9. rules, each in the order of the tables
  const type = message.type;
  const required = FIELDS.filter(([name]) => type === 'RESUME' || !RESUME_ONLY.has(name));
  for (const [name] of required) {
    if (!Object.hasOwn(message, name)) return reject('missing_field', `field "${name}" is missing`, { key, message });
  }
  for (const [name, rule] of FIELDS) {
    if (RESUME_ONLY.has(name) && type !== 'RESUME') {
      if (Object.hasOwn(message, name)) return reject('bad_field', `field "${name}" is not allowed in a HALT`, { key, message });
      continue;
    }
    if (!rule(message[name], type)) return reject('bad_field', `field "${name}" breaks its rule`, { key, message });
  }

  // 10. key_id names the key that verified
  if (message.key_id !== key.keyId) {
    return reject('key_id_mismatch', `key_id ${message.key_id} is not the id ${key.keyId} of the key that verified (${key.role} key ${key.name})`, { key, message });
  }

  // 11. a RESUME needs an operator key
  if (type === 'RESUME' && key.role !== 'operator') {
    return reject('resume_by_watchdog_key', `the RESUME is signed by watchdog key ${key.keyId}, not by an operator key`, { key, message });
  }

  return { outcome: type === 'HALT' ? 'halt' : 'resume', message, key };
}

const HEARTBEAT_FIELDS = ['v', 'type', 'watchdog_id', 'issued_at', 'issued_at_ms', 'ttl_ms', 'key_id'];

/**
 * @typedef {object} HeartbeatVerdict
 * @property {boolean} fresh
 * @property {string} [reason]    why it is not fresh
 * @property {string} [detail]
 * @property {number} [issuedAtMs]
 * @property {number} [ttlMs]
 * @property {string} [watchdogId]
 */

/**
 * Checks the heartbeat hash (section 9) against the relayer's clock.
 * Reasons: missing, bad_entry, too_long, bad_signature, not_utf8, bad_json,
 * duplicate_key, unknown_version, missing_field, bad_field, key_id_mismatch,
 * stale, from_future (these names are this client's; the page defines none).
 * @param {Array<[Uint8Array, Uint8Array]> | null} fields  the hash's fields (null or [] when the key is missing)
 * @param {import('./keys.js').Keyring} keyring
 * @param {number} nowMs
 * @returns {HeartbeatVerdict}
 */
export function judgeHeartbeat(fields, keyring, nowMs) {
  if (!fields || fields.length === 0) return { fresh: false, reason: 'missing', detail: 'no heartbeat' };
  const v = verifyHeartbeat(fields, keyring);
  if (!v.fresh) return v;
  return heartbeatFreshAt(v, nowMs);
}

/**
 * Everything of section 9 but the clock: signature and content.
 * @returns {HeartbeatVerdict}
 */
export function verifyHeartbeat(fields, keyring) {
  const bad = (reason, detail) => ({ fresh: false, reason, detail });
  const split = splitFields(fields);
  if (!split.ok) return bad('bad_entry', split.detail);
  const { msg, sig } = split;
  if (msg.length > MAX_HEARTBEAT_BYTES) return bad('too_long', `heartbeat msg is ${msg.length} bytes, more than ${MAX_HEARTBEAT_BYTES}`);
  const sigBytes = sig.length === 88 ? decodeBase64Strict(sig, 64) : null;
  if (sigBytes === null) return bad('bad_signature', 'heartbeat sig is not 88 characters of strict base64 decoding to 64 bytes');
  const key = keyring.verifier(msg, sigBytes, ['watchdog']);
  if (key === null) return bad('bad_signature', 'no trusted watchdog key verifies the heartbeat');
  const parsed = parseStrictJson(msg);
  if (!parsed.ok) return bad(parsed.reason, parsed.detail);
  const hb = parsed.value;
  if (Object.hasOwn(hb, 'v') && hb.v !== 1) return bad('unknown_version', 'heartbeat v is not the number 1');
  for (const name of HEARTBEAT_FIELDS) {
    if (!Object.hasOwn(hb, name)) return bad('missing_field', `heartbeat field "${name}" is missing`);
  }
  const extra = Object.keys(hb).filter((k) => !HEARTBEAT_FIELDS.includes(k));
  if (extra.length > 0) return bad('bad_field', `heartbeat has ${extra.length} field(s) beyond the seven of section 9`);
  const issuedAt = parseIssuedAt(hb.issued_at);
  const checks = [
    ['type', hb.type === 'HEARTBEAT'],
    ['watchdog_id', isNonEmptyString(hb.watchdog_id)],
    ['issued_at', issuedAt !== null],
    ['issued_at_ms', Number.isSafeInteger(hb.issued_at_ms) && hb.issued_at_ms >= 0 && hb.issued_at_ms === issuedAt],
    ['ttl_ms', Number.isSafeInteger(hb.ttl_ms) && hb.ttl_ms >= 1 && hb.ttl_ms <= MAX_TTL_MS],
    ['key_id', typeof hb.key_id === 'string' && KEY_ID.test(hb.key_id)],
  ];
  for (const [name, ok] of checks) if (!ok) return bad('bad_field', `heartbeat field "${name}" breaks its rule`);
  if (hb.key_id !== key.keyId) return bad('key_id_mismatch', `heartbeat key_id is not the id ${key.keyId} of the key that verified`);
  return { fresh: true, issuedAtMs: hb.issued_at_ms, ttlMs: hb.ttl_ms, watchdogId: hb.watchdog_id };
}

/**
 * The clock part of section 9: now - issued_at_ms <= ttl_ms + 1000 and
 * issued_at_ms - now <= 1000.
 * @param {{issuedAtMs: number, ttlMs: number, watchdogId?: string}} hb
 * @param {number} nowMs
 * @returns {HeartbeatVerdict}
 */
export function heartbeatFreshAt(hb, nowMs) {
  if (nowMs - hb.issuedAtMs > hb.ttlMs + CLOCK_SKEW_MS) {
    return { ...hb, fresh: false, reason: 'stale', detail: `heartbeat issued ${nowMs - hb.issuedAtMs} ms ago, ttl ${hb.ttlMs} ms` };
  }
  if (hb.issuedAtMs - nowMs > CLOCK_SKEW_MS) {
    return { ...hb, fresh: false, reason: 'from_future', detail: `heartbeat issued ${hb.issuedAtMs - nowMs} ms in the future` };
  }
  return { fresh: true, ...hb };
}
