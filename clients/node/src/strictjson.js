// The strict JSON checks of docs/PROTOCOL.md section 5.2, in their order:
// UTF-8 (not_utf8), grammar (bad_json), duplicate names (duplicate_key).
//
// JSON.parse accepts duplicate names (the last wins) and lone surrogate
// escapes, so the text is checked here by a small tokenizer first and only
// handed to JSON.parse once it has passed.

export const MAX_DEPTH = 32;

// ignoreBOM: true keeps a leading U+FEFF in the decoded text (by default the
// decoder silently drops it), so the grammar check sees it and refuses it.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * @typedef {{ok: true, text: string} | {ok: false, reason: 'not_utf8'|'bad_json'|'duplicate_key', detail: string}} CheckResult
 */

/**
 * Decodes `bytes` as well-formed UTF-8 with no NUL byte (section 5.2 step 1).
 * @param {Uint8Array} bytes
 * @returns {{ok: true, text: string} | {ok: false, reason: 'not_utf8', detail: string}}
 */
export function decodeUtf8Strict(bytes) {
  const nul = bytes.indexOf(0);
  if (nul >= 0) return { ok: false, reason: 'not_utf8', detail: `NUL byte at byte ${nul}` };
  try {
    return { ok: true, text: utf8.decode(bytes) };
  } catch {
    return { ok: false, reason: 'not_utf8', detail: 'not well-formed UTF-8' };
  }
}

/**
 * Runs all three checks of section 5.2 on raw bytes, then parses.
 * @param {Uint8Array} bytes
 * @returns {{ok: true, value: object, text: string} | {ok: false, reason: string, detail: string}}
 */
export function parseStrictJson(bytes) {
  const decoded = decodeUtf8Strict(bytes);
  if (!decoded.ok) return decoded;
  const checked = checkJsonText(decoded.text);
  if (!checked.ok) return checked;
  return { ok: true, value: JSON.parse(decoded.text), text: decoded.text };
}

class GrammarError extends Error {}

const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;

/**
 * Section 5.2 steps 2 and 3 on text already decoded from UTF-8: exactly one
 * JSON object, nothing before or after it, nesting at most 32, no lone
 * surrogate escapes (bad_json); then no duplicate member names at any depth,
 * compared after unescaping (duplicate_key). A grammar error anywhere wins
 * over a duplicate found before it.
 * @param {string} text
 * @returns {{ok: true, text: string} | {ok: false, reason: 'bad_json'|'duplicate_key', detail: string}}
 */
export function checkJsonText(text) {
  let pos = 0;
  /** @type {number | null} offset of the first duplicate name */
  let duplicate = null;

  const fail = (what) => {
    throw new GrammarError(`${what} at character ${pos}`);
  };
  const skipWhitespace = () => {
    while (pos < text.length && ' \t\n\r'.includes(text[pos])) pos++;
  };
  const expect = (c) => {
    if (text[pos] !== c) fail(`expected '${c}'`);
    pos++;
  };

  const parseString = () => {
    expect('"');
    let out = '';
    for (;;) {
      if (pos >= text.length) fail('unterminated string');
      const c = text[pos];
      const code = text.charCodeAt(pos);
      if (c === '"') {
        pos++;
        return out;
      }
      if (code < 0x20) fail('control character in string');
      if (c !== '\\') {
        out += c;
        pos++;
        continue;
      }
      pos++;
      const e = text[pos];
      const simple = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' }[e];
      if (simple !== undefined) {
        out += simple;
        pos++;
        continue;
      }
      if (e !== 'u') fail('invalid escape');
      pos++;
      const unit = readHex4();
      // a NUL would end a name or a string for readers of NUL-terminated text
      if (unit === 0) fail('\\u0000 is not allowed');
      if (unit >= 0xdc00 && unit <= 0xdfff) fail('lone low surrogate escape');
      if (unit >= 0xd800 && unit <= 0xdbff) {
        if (text[pos] !== '\\' || text[pos + 1] !== 'u') fail('high surrogate escape without a low one');
        pos += 2;
        const low = readHex4();
        if (low < 0xdc00 || low > 0xdfff) fail('high surrogate escape without a low one');
        out += String.fromCharCode(unit, low);
      } else {
        out += String.fromCharCode(unit);
      }
    }
  };

  const readHex4 = () => {
    const hex = text.slice(pos, pos + 4);
    if (!/^[0-9A-Fa-f]{4}$/.test(hex)) fail('invalid \\u escape');
    pos += 4;
    return parseInt(hex, 16);
  };

  const parseNumber = () => {
    NUMBER.lastIndex = pos;
    const m = NUMBER.exec(text);
    if (!m) fail('invalid value');
    pos += m[0].length;
    // A digit right after the number (e.g. "01") is a leading zero.
    if (pos < text.length && /[0-9.eE+-]/.test(text[pos])) fail('invalid number');
  };

  const parseValue = (depth) => {
    const c = text[pos];
    if (c === '{') return parseObject(depth + 1);
    if (c === '[') return parseArray(depth + 1);
    if (c === '"') return void parseString();
    for (const word of ['true', 'false', 'null']) {
      if (text.startsWith(word, pos)) {
        pos += word.length;
        return;
      }
    }
    if (c === '-' || (c >= '0' && c <= '9')) return parseNumber();
    fail('invalid value');
  };

  const parseObject = (depth) => {
    if (depth > MAX_DEPTH) fail(`nesting deeper than ${MAX_DEPTH}`);
    expect('{');
    const names = new Set();
    skipWhitespace();
    if (text[pos] === '}') {
      pos++;
      return;
    }
    for (;;) {
      skipWhitespace();
      const start = pos;
      const name = parseString();
      if (names.has(name) && duplicate === null) duplicate = start;
      names.add(name);
      skipWhitespace();
      expect(':');
      skipWhitespace();
      parseValue(depth);
      skipWhitespace();
      if (text[pos] === ',') {
        pos++;
        continue;
      }
      expect('}');
      return;
    }
  };

  const parseArray = (depth) => {
    if (depth > MAX_DEPTH) fail(`nesting deeper than ${MAX_DEPTH}`);
    expect('[');
    skipWhitespace();
    if (text[pos] === ']') {
      pos++;
      return;
    }
    for (;;) {
      skipWhitespace();
      parseValue(depth);
      skipWhitespace();
      if (text[pos] === ',') {
        pos++;
        continue;
      }
      expect(']');
      return;
    }
  };

  try {
    // Text decoded from UTF-8 is always well-formed; a JS string handed in directly may not be.
    if (!text.isWellFormed()) fail('lone surrogate');
    if (text[0] !== '{') fail('not a JSON object starting at the first byte');
    parseObject(1);
    if (pos !== text.length) fail('bytes after the object');
  } catch (err) {
    if (err instanceof GrammarError) return { ok: false, reason: 'bad_json', detail: err.message };
    throw err;
  }
  if (duplicate !== null) {
    return { ok: false, reason: 'duplicate_key', detail: `a member name appears twice in one object (the second at character ${duplicate})` };
  }
  return { ok: true, text };
}
