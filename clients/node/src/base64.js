// Strict base64 (docs/PROTOCOL.md section 5.1): RFC 4648 section 4, the
// standard alphabet with '=' padding, nothing else. Node's
// Buffer.from(s, 'base64') is lenient (it skips whitespace, accepts the
// URL-safe alphabet and missing padding, ignores non-zero padding bits), so
// it is only used here after the text has been checked.

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const VALUE = new Map([...ALPHABET].map((c, i) => [c, i]));

/**
 * Decodes strict base64, or returns null when `text` is not strict base64
 * (or does not decode to `expectedBytes` bytes, when that is given).
 * @param {string | Uint8Array} text  a string, or the raw bytes of one
 * @param {number} [expectedBytes]
 * @returns {Buffer | null}
 */
export function decodeBase64Strict(text, expectedBytes) {
  if (typeof text !== 'string') {
    const bytes = Buffer.from(text.buffer, text.byteOffset, text.byteLength);
    if (bytes.some((b) => b > 0x7e || b < 0x21)) return null;
    text = bytes.toString('latin1');
  }
  if (text.length === 0 || text.length % 4 !== 0) return null;
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  const body = text.slice(0, text.length - padding);
  for (const c of body) if (!VALUE.has(c)) return null;
  // The padding bits of the last character before '=' must be zero.
  const last = VALUE.get(body[body.length - 1]);
  if (padding === 2 && (last & 0x0f) !== 0) return null;
  if (padding === 1 && (last & 0x03) !== 0) return null;
  const decoded = Buffer.from(text, 'base64');
  if (decoded.length !== (text.length / 4) * 3 - padding) return null; // cannot happen; belt and braces
  if (expectedBytes !== undefined && decoded.length !== expectedBytes) return null;
  return decoded;
}

/** Standard base64 with padding, for what this client writes or prints. */
export function encodeBase64(bytes) {
  return Buffer.from(bytes).toString('base64');
}
