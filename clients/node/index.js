// @relaywatch/control-client: relaywatch's control-stream protocol, version 1.
export { ControlClient, DEFAULTS, PROTOCOL_VERSIONS, escapeBytes, defaultLogger } from './src/client.js';
export { ControlState } from './src/state.js';
export { Keyring, keyIdOf, makeKey, readPublicKeyFile, parsePublicKeyLine } from './src/keys.js';
export { judgeMessage, judgeHeartbeat, verifyHeartbeat, heartbeatFreshAt, pairsFromFlat, REJECTIONS } from './src/message.js';
export { parseStrictJson, checkJsonText, decodeUtf8Strict } from './src/strictjson.js';
export { decodeBase64Strict } from './src/base64.js';
export { blake2b } from './src/blake2b.js';
