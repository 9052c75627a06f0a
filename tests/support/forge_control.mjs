// forge_control.mjs KIND WATCHDOG_KEY OPERATOR_KEY STRANGER_KEY [LIFTS]
//
// Prints a control-stream entry of the kind asked for, signed with the
// stack's real key files (relaywatch keygen's format), as two lines:
// the base64 of the msg bytes and the sig text. The tests XADD them to see
// every reader reject them for the named reason (docs/PROTOCOL.md section
// 6.1): relaywatch's CONTROL_STREAM_FORGERY, the reference consumer, the
// Node client.
//
// KIND is the rejection the entry must cause:
//   bad_signature            a valid HALT with the signature of another msg
//   stranger                 a valid HALT signed by STRANGER_KEY (bad_signature)
//   not_utf8                 a HALT whose reason holds the byte 0xff, signed for real
//   duplicate_key            a HALT with "invariant" twice, signed for real
//   too_long                 a HALT of 70,000 bytes, signed for real
//   missing_field            a HALT without key_id, signed for real
//   unknown_version          a HALT with "v":2, signed for real
//   key_id_mismatch          a HALT naming the operator key, signed by the watchdog key
//   resume_by_watchdog_key   a RESUME lifting LIFTS (comma-separated), signed by the watchdog key
//   operator_halt            a VALID manual HALT signed by the operator key (not a forgery)
import { readFileSync } from 'node:fs';
import { createPrivateKey, createPublicKey, randomBytes, sign } from 'node:crypto';
import { keyIdOf } from '../../clients/node/src/keys.js';

const SECRET_HEADER = 'relaywatch-ed25519-secret-v1';
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

function loadSecret(path) {
  const [header, b64] = readFileSync(path, 'utf8').trim().split(' ');
  if (header !== SECRET_HEADER) throw new Error(`${path}: not a relaywatch secret key file`);
  const secret = Buffer.from(b64, 'base64');
  if (secret.length !== 64) throw new Error(`${path}: the secret key is not 64 bytes`);
  const key = createPrivateKey({
    key: Buffer.concat([PKCS8_ED25519_PREFIX, secret.subarray(0, 32)]),
    format: 'der',
    type: 'pkcs8',
  });
  const jwk = createPublicKey(key).export({ format: 'jwk' });
  return { key, keyId: keyIdOf(Buffer.from(jwk.x, 'base64url')) };
}

const [kind, watchdogPath, operatorPath, strangerPath, lifts = ''] = process.argv.slice(2);
if (!kind || !strangerPath) {
  console.error('usage: forge_control.mjs KIND WATCHDOG_KEY OPERATOR_KEY STRANGER_KEY [LIFTS]');
  process.exit(64);
}
const watchdog = loadSecret(watchdogPath);
const operator = loadSecret(operatorPath);
const stranger = loadSecret(strangerPath);

const hex = (n) => randomBytes(n).toString('hex');
const now = new Date().toISOString();

function halt(signer, extra = {}) {
  return {
    v: 1,
    type: 'HALT',
    id: `halt-${hex(16)}`,
    invariant: 'MANUAL',
    severity: 'CRITICAL',
    reason: `forged by the test: ${kind}`,
    evidence: {},
    heights: {},
    issued_at: now,
    watchdog_id: 'forge',
    correlation_id: `forge-${hex(4)}`,
    key_id: signer.keyId,
    ...extra,
  };
}

let signer = watchdog;
let msg;
switch (kind) {
  case 'bad_signature':
  case 'stranger':
    signer = kind === 'stranger' ? stranger : watchdog;
    msg = Buffer.from(JSON.stringify(halt(signer)));
    break;
  case 'not_utf8':
    msg = Buffer.concat([
      Buffer.from(JSON.stringify(halt(watchdog, { reason: 'XX' })).replace('"XX"', '"\u0001"')),
    ]);
    msg[msg.indexOf(1)] = 0xff;
    break;
  case 'duplicate_key': {
    const text = JSON.stringify(halt(watchdog));
    msg = Buffer.from(text.replace('"invariant":"MANUAL"', '"invariant":"MANUAL","invariant":"NONE"'));
    break;
  }
  case 'too_long':
    msg = Buffer.from(JSON.stringify(halt(watchdog, { reason: 'x'.repeat(70000) })));
    break;
  case 'missing_field': {
    const m = halt(watchdog);
    delete m.key_id;
    msg = Buffer.from(JSON.stringify(m));
    break;
  }
  case 'unknown_version':
    msg = Buffer.from(JSON.stringify(halt(watchdog, { v: 2 })));
    break;
  case 'key_id_mismatch':
    msg = Buffer.from(JSON.stringify(halt(watchdog, { key_id: operator.keyId })));
    break;
  case 'resume_by_watchdog_key': {
    const m = halt(watchdog, {
      type: 'RESUME',
      id: `resume-${hex(16)}`,
      invariant: '*',
      severity: 'INFO',
      lifts: lifts.split(',').filter(Boolean),
      resume_from: { source: 1 },
    });
    msg = Buffer.from(JSON.stringify(m));
    break;
  }
  case 'operator_halt':
    signer = operator;
    msg = Buffer.from(JSON.stringify(halt(operator, { reason: 'an operator halts by hand' })));
    break;
  default:
    console.error(`forge_control.mjs: unknown kind ${kind}`);
    process.exit(64);
}

let sig = sign(null, msg, signer.key);
if (kind === 'bad_signature') sig = sign(null, Buffer.concat([msg, Buffer.from(' ')]), signer.key);
process.stdout.write(`${msg.toString('base64')}\n${sig.toString('base64')}\n`);
