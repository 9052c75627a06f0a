// Public keys, key files and key_ids (docs/PROTOCOL.md section 3).

import { readFileSync } from 'node:fs';
import { createPublicKey, verify } from 'node:crypto';
import { decodeBase64Strict } from './base64.js';
import { blake2b } from './blake2b.js';

export const PUBLIC_HEADER = 'relaywatch-ed25519-public-v1';

/**
 * key_id of a public key: the first 8 bytes of BLAKE2b-256 of its 32 bytes,
 * as 16 lowercase hex digits (section 3.1).
 * @param {Uint8Array} publicKey
 */
export function keyIdOf(publicKey) {
  return blake2b(publicKey, 32).subarray(0, 8).toString('hex');
}

/**
 * @typedef {object} TrustedKey
 * @property {'watchdog'|'operator'} role
 * @property {string} name      where it came from (a file name), for logs
 * @property {Buffer} raw       the 32 bytes
 * @property {string} keyId
 * @property {import('node:crypto').KeyObject} keyObject
 */

/**
 * A public key from its 32 raw bytes.
 * @param {Uint8Array} raw
 * @param {'watchdog'|'operator'} role
 * @param {string} name
 * @returns {TrustedKey}
 */
export function makeKey(raw, role, name) {
  if (raw.length !== 32) throw new Error(`${name}: an Ed25519 public key is 32 bytes, not ${raw.length}`);
  const bytes = Buffer.from(raw);
  const keyObject = createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: bytes.toString('base64url') },
    format: 'jwk',
  });
  return { role, name, raw: bytes, keyId: keyIdOf(bytes), keyObject };
}

/**
 * Reads one `.pub` file: `relaywatch-ed25519-public-v1 <44 base64 characters>`
 * and at most one trailing newline. Throws an error naming the file.
 * @param {string} path
 * @returns {Buffer} the 32 bytes
 */
export function readPublicKeyFile(path) {
  let content;
  try {
    content = readFileSync(path);
  } catch (err) {
    throw new Error(`${path}: cannot read the public key file: ${err.message}`);
  }
  return parsePublicKeyLine(content, path);
}

/**
 * @param {Uint8Array | string} content  the whole content of a `.pub` file
 * @param {string} name  the file's name, for the error
 * @returns {Buffer}
 */
export function parsePublicKeyLine(content, name) {
  let text = typeof content === 'string' ? content : Buffer.from(content).toString('latin1');
  if (text.endsWith('\n')) text = text.slice(0, -1);
  const prefix = PUBLIC_HEADER + ' ';
  const b64 = text.startsWith(prefix) ? text.slice(prefix.length) : null;
  const raw = b64 !== null && b64.length === 44 ? decodeBase64Strict(b64, 32) : null;
  if (raw === null) {
    throw new Error(
      `${name}: not a relaywatch public key file (expected one line "${PUBLIC_HEADER} " ` +
        'followed by 44 characters of standard base64 decoding to 32 bytes, and at most a trailing newline)',
    );
  }
  return raw;
}

/**
 * The trusted keys, by role. The same key in both roles is refused (section 3).
 */
export class Keyring {
  /**
   * @param {{watchdog: Array<{raw: Uint8Array, name: string}>, operator: Array<{raw: Uint8Array, name: string}>}} keys
   */
  constructor({ watchdog, operator }) {
    if (!watchdog?.length) throw new Error('keyring: at least one watchdog public key is required');
    /** @type {TrustedKey[]} */
    this.watchdog = watchdog.map((k) => makeKey(k.raw, 'watchdog', k.name));
    /** @type {TrustedKey[]} */
    this.operator = (operator ?? []).map((k) => makeKey(k.raw, 'operator', k.name));
    for (const w of this.watchdog) {
      const both = this.operator.find((o) => o.raw.equals(w.raw));
      if (both) {
        throw new Error(`keyring: the same public key is configured as a watchdog key (${w.name}) and an operator key (${both.name})`);
      }
    }
  }

  /**
   * Keyring from `.pub` file paths (what stack.env's CONTROL_WATCHDOG_PUBKEYS
   * and CONTROL_OPERATOR_PUBKEYS name, comma-separated).
   * @param {{watchdog: string[] | string, operator: string[] | string}} files
   */
  static fromFiles({ watchdog, operator }) {
    const list = (v) => (Array.isArray(v) ? v : (v ?? '').split(',')).map((s) => s.trim()).filter(Boolean);
    const load = (paths) => list(paths).map((path) => ({ raw: readPublicKeyFile(path), name: path }));
    return new Keyring({ watchdog: load(watchdog), operator: load(operator) });
  }

  /**
   * The first key that verifies `sig` over `data`: watchdog keys first,
   * then operator keys (section 6.1). `roles` narrows the search (the
   * heartbeat is signed by a watchdog key only).
   * @param {Uint8Array} data
   * @param {Uint8Array} sig  64 bytes
   * @param {Array<'watchdog'|'operator'>} [roles]
   * @returns {TrustedKey | null}
   */
  verifier(data, sig, roles = ['watchdog', 'operator']) {
    for (const role of roles) {
      for (const key of this[role]) {
        if (verify(null, data, key.keyObject, sig)) return key;
      }
    }
    return null;
  }
}
