// The relayer's state (docs/PROTOCOL.md sections 6.2, 6.3 and 7): the set of
// HALTs in force and the set of message ids accepted. No Redis here, so the
// conformance vectors can drive it directly.

import { judgeMessage } from './message.js';

/**
 * @typedef {object} HaltInForce
 * @property {string} id
 * @property {'stream'|'halt_key'} source
 * @property {string | null} entryId   the stream entry that carried it (null from the halt key)
 * @property {object} message          the verified HALT
 */

export class ControlState {
  /** @param {import('./keys.js').Keyring} keyring */
  constructor(keyring) {
    this.keyring = keyring;
    /** @type {Map<string, HaltInForce>} HALT id -> where it came from */
    this.inForce = new Map();
    /** @type {Set<string>} ids of every HALT and RESUME accepted */
    this.accepted = new Set();
    /** @type {Map<string, string>} message id -> the stream entry it was accepted from */
    this.acceptedFrom = new Map();
  }

  /** Halted while any HALT is in force. */
  halted() {
    return this.inForce.size > 0;
  }

  /** @returns {string[]} the ids of the HALTs in force, oldest first */
  haltsInForce() {
    return [...this.inForce.keys()];
  }

  /**
   * Judges one stream entry (section 6.1, all 12 steps) and applies it when
   * it passes. Rejected entries change nothing.
   * @param {string} entryId
   * @param {Array<[Uint8Array, Uint8Array]> | null} fields
   * @returns {import('./message.js').Verdict & {entryId: string, lifted?: string[]}}
   */
  applyEntry(entryId, fields) {
    const verdict = { entryId, ...judgeMessage(fields, this.keyring) };
    if (verdict.outcome === 'reject') return verdict;
    const m = verdict.message;

    // The stream entry of the HALT read from the halt key: the same HALT,
    // known, not a replay (vector halt_key_then_its_entry). It is bound to
    // the HALT so that it is XACKed once the relayer has stopped.
    const fromHaltKey = m.type === 'HALT' ? this.inForce.get(m.id) : undefined;
    if (fromHaltKey && fromHaltKey.source === 'halt_key' && fromHaltKey.entryId === null) {
      fromHaltKey.entryId = entryId;
      return { ...verdict, known: true };
    }

    // The same entry judged again (pending entries read after a reconnection):
    // accepted, changing nothing (vector entry_read_again).
    if (this.acceptedFrom.get(m.id) === entryId) {
      return { ...verdict, known: true };
    }

    // 12. replays (section 6.3)
    if (this.accepted.has(m.id)) {
      return { ...verdict, outcome: 'reject', reason: 'replay', detail: `message id ${m.id} was already accepted` };
    }
    if (m.type === 'RESUME' && !m.lifts.some((id) => this.inForce.has(id))) {
      return { ...verdict, outcome: 'reject', reason: 'replay', detail: `RESUME ${m.id} lifts no HALT in force` };
    }

    this.accepted.add(m.id);
    this.acceptedFrom.set(m.id, entryId);
    if (m.type === 'HALT') {
      this.inForce.set(m.id, { id: m.id, source: 'stream', entryId, message: m });
      return verdict;
    }
    /** @type {HaltInForce[]} */
    const lifted = [];
    for (const id of m.lifts) {
      const halt = this.inForce.get(id);
      if (halt) {
        lifted.push(halt);
        this.inForce.delete(id);
      }
    }
    return { ...verdict, lifted: lifted.map((h) => h.id), liftedHalts: lifted };
  }

  /**
   * The halt key's hash (section 7): steps 2 to 11 as for an entry; a valid
   * HALT there is in force. A hash with other fields, or without both,
   * something that does not verify, or a message that is not a HALT is
   * ignored: outcome 'reject' with the rejection name (a RESUME there is
   * bad_field), to log. A HALT already accepted (the halt key read again
   * after a reconnect) changes nothing: outcome 'known'.
   * @param {Array<[Uint8Array, Uint8Array]> | null} fields  null or [] when the key does not exist
   * @returns {{outcome: 'none'|'halt'|'known'|'reject', reason?: string, detail?: string, message?: object, key?: object}}
   */
  applyHaltKey(fields) {
    if (!fields || fields.length === 0) return { outcome: 'none' };
    const verdict = judgeMessage(fields, this.keyring);
    if (verdict.outcome === 'reject') return verdict;
    const m = verdict.message;
    if (m.type !== 'HALT') return { ...verdict, outcome: 'reject', reason: 'bad_field', detail: `the halt key holds a ${m.type}, not a HALT` };
    if (this.accepted.has(m.id)) return { ...verdict, outcome: 'known' };
    this.accepted.add(m.id);
    this.inForce.set(m.id, { id: m.id, source: 'halt_key', entryId: null, message: m });
    return verdict;
  }
}
