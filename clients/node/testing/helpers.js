// Test helpers: Ed25519 key pairs, signing, and well-formed messages.

import { generateKeyPairSync, createPrivateKey, sign, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { keyIdOf } from '../src/keys.js';
import { decodeBase64Strict } from '../src/base64.js';

/** A fresh Ed25519 pair: {privateKey, raw (32 public bytes), keyId}. */
export function newKeyPair() {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x, 'base64url');
  return { privateKey, raw, keyId: keyIdOf(raw) };
}

/** The private key of a 32-byte seed (RFC 8032), as a Node KeyObject. */
export function privateKeyFromSeed(seed) {
  // PKCS#8 DER prefix of an Ed25519 private key, followed by the 32-byte seed.
  const prefix = Buffer.from('302e020100300506032b657004220420', 'hex');
  return createPrivateKey({ key: Buffer.concat([prefix, seed]), format: 'der', type: 'pkcs8' });
}

/** A relaywatch secret key file (`relaywatch-ed25519-secret-v1 <base64 of seed||pk>`). */
export function readSecretKeyFile(path) {
  const text = readFileSync(path, 'latin1').replace(/\n$/, '');
  const m = /^relaywatch-ed25519-secret-v1 (\S+)$/.exec(text);
  const bytes = m && decodeBase64Strict(m[1], 64);
  if (!bytes) throw new Error(`${path}: not a relaywatch secret key file`);
  const seed = bytes.subarray(0, 32);
  const raw = bytes.subarray(32);
  return { privateKey: privateKeyFromSeed(seed), raw: Buffer.from(raw), keyId: keyIdOf(raw) };
}

/** Signs the exact bytes of msg; returns the base64 signature. */
export function signB64(privateKey, msg) {
  return sign(null, Buffer.from(msg), privateKey).toString('base64');
}

/** The [name, value] pairs of an entry {msg, sig} signed by `pair`. */
export function entry(pair, msg) {
  const bytes = Buffer.isBuffer(msg) ? msg : Buffer.from(typeof msg === 'string' ? msg : JSON.stringify(msg));
  return [
    [Buffer.from('msg'), bytes],
    [Buffer.from('sig'), Buffer.from(signB64(pair.privateKey, bytes))],
  ];
}

export const hex32 = () => randomBytes(16).toString('hex');
export const nowIso = () => new Date().toISOString();

/** A valid HALT signed (key_id) by `pair`. */
export function haltMsg(pair, overrides = {}) {
  return {
    v: 1,
    type: 'HALT',
    id: `halt-${hex32()}`,
    invariant: 'SUPPLY_MISMATCH',
    severity: 'CRITICAL',
    reason: 'test halt',
    evidence: { locked: '100', minted: '101' },
    heights: { source: 10, exec: 20 },
    issued_at: nowIso(),
    watchdog_id: 'test-watchdog',
    correlation_id: 'rw-test',
    key_id: pair.keyId,
    ...overrides,
  };
}

/** A valid RESUME lifting `lifts`, signed (key_id) by `pair`. */
export function resumeMsg(pair, lifts, overrides = {}) {
  return {
    v: 1,
    type: 'RESUME',
    id: `resume-${hex32()}`,
    invariant: '*',
    severity: 'INFO',
    reason: 'test resume',
    evidence: { validate: 'VALID', forced: false, lifted: lifts },
    heights: { source: 11, exec: 21 },
    lifts,
    resume_from: { source: 11, exec: 21 },
    issued_at: nowIso(),
    watchdog_id: 'test-watchdog',
    correlation_id: 'op-test',
    key_id: pair.keyId,
    ...overrides,
  };
}

/** A heartbeat message (section 9) issued at `ms`. */
export function heartbeatMsg(pair, ms, ttl = 5000, overrides = {}) {
  return {
    v: 1,
    type: 'HEARTBEAT',
    watchdog_id: 'test-watchdog',
    issued_at: new Date(ms).toISOString(),
    issued_at_ms: ms,
    ttl_ms: ttl,
    key_id: pair.keyId,
    ...overrides,
  };
}
