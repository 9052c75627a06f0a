// ControlClient: a relayer's side of relaywatch's control stream
// (docs/PROTOCOL.md), over one Redis connection.
//
//   const client = new ControlClient({ redisUrl, group: 'relayer-eu-1', keyring });
//   await client.open();
//   for (;;) {
//     await client.poll(1000);              // read the stream, the heartbeat
//     if (!client.mayRun()) { ...stop...; await client.confirmStopped(); continue; }
//     await sendOneTransaction();
//   }

import Redis from 'ioredis';
import { Keyring } from './keys.js';
import { ControlState } from './state.js';
import { pairsFromFlat, verifyHeartbeat, heartbeatFreshAt } from './message.js';

export const PROTOCOL_VERSIONS = '1';
export const DEFAULTS = Object.freeze({
  stream: 'relayer:control',
  haltKey: 'relayer:halt',
  heartbeatKey: 'relayer:watchdog:heartbeat',
});

/**
 * Text from Redis made safe for a log line: printable ASCII as is, every
 * other byte as \xNN (section 6.1: never copy raw entry bytes into a log).
 * @param {Buffer | string} bytes
 */
export function escapeBytes(bytes) {
  const b = Buffer.isBuffer(bytes) ? bytes : Buffer.from(String(bytes), 'utf8');
  let out = '';
  for (const c of b) out += c >= 0x20 && c < 0x7f && c !== 0x5c ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, '0')}`;
  return out;
}

/** `YYYY-MM-DDTHH:MM:SS.mmmZ` */
const isoMs = (date) => new Date(date).toISOString();

/** Writes each event as one JSON line on stderr. */
export function defaultLogger(event) {
  process.stderr.write(JSON.stringify({ time: new Date().toISOString(), ...event }) + '\n');
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * @typedef {object} ControlClientOptions
 * @property {string} redisUrl          e.g. redis://:password@127.0.0.1:6379/0
 * @property {string} group             this relayer instance's own consumer group (section 8)
 * @property {string} [consumer]        the one consumer in it, and the connection's name (default: group)
 * @property {Keyring} [keyring]        trusted keys, or:
 * @property {string[]|string} [watchdogKeyFiles]  `.pub` files (an array, or comma-separated)
 * @property {string[]|string} [operatorKeyFiles]
 * @property {string} [stream]          default relayer:control
 * @property {string} [haltKey]         default relayer:halt
 * @property {string} [heartbeatKey]    default relayer:watchdog:heartbeat
 * @property {boolean} [requireHeartbeat]  default true: pause while the heartbeat is missing, stale or forged
 * @property {number | null} [maxPollAgeMs] mayRun() is false when the last good poll is older (default 10000; null: off)
 * @property {number} [count]           entries per XREADGROUP (default 100)
 * @property {(event: object) => void} [onEvent]  every event; default: JSON lines on stderr
 * @property {() => number} [now]       the clock, unix ms (default Date.now)
 * @property {object} [redisOptions]    extra ioredis options
 */

export class ControlClient {
  /** @param {ControlClientOptions} options */
  constructor(options) {
    const o = { ...DEFAULTS, requireHeartbeat: true, maxPollAgeMs: 10_000, count: 100, onEvent: defaultLogger, now: Date.now, ...options };
    if (!o.redisUrl) throw new Error('ControlClient: redisUrl is required');
    if (!o.group) throw new Error('ControlClient: group is required (one consumer group per relayer instance)');
    o.consumer ??= o.group;
    // CLIENT SETNAME refuses spaces and anything unprintable.
    if (!/^[!-~]+$/.test(o.consumer)) throw new Error(`ControlClient: consumer name ${JSON.stringify(o.consumer)} must be printable ASCII without spaces`);
    this.options = o;
    this.keyring = o.keyring ?? Keyring.fromFiles({ watchdog: o.watchdogKeyFiles, operator: o.operatorKeyFiles });
    this.state = new ControlState(this.keyring);
    /** @type {import('ioredis').default | null} */
    this.redis = null;
    this.needSetup = true;
    this.redisOk = false;
    this.redisProblem = 'not opened yet';
    this.hmgetOnly = false; // set when an ACL denies HGETALL
    this.downReported = false;
    this.lastGoodPoll = null;
    this.lastSetupAttempt = 0;
    /** the heartbeat's verified content (no clock), or why it is not usable */
    this.heartbeat = { fresh: false, reason: 'missing', detail: 'not read yet' };
    this.heartbeatWasFresh = null;
    /** HALT ids this client has written an acknowledgement for */
    this.acknowledged = new Set();
    /** stream entry ids whose XACK is still owed */
    this.owedAcks = new Set();
    this.queue = Promise.resolve();
  }

  /** Runs `fn` after every earlier call: poll() and confirmStopped() share one connection. */
  serial(fn) {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => {});
    return run;
  }

  emit(level, event, fields = {}) {
    try {
      this.options.onEvent({ level, event, group: this.options.group, ...fields });
    } catch {
      // a logger that throws must not break the client
    }
  }

  /**
   * Connects and sets up (section 8 steps 1-4). Refuses bad key files (in the
   * constructor). Redis being down is not an error: the client stays fail
   * safe and poll() keeps trying, at most once a second.
   */
  async open() {
    if (this.redis) return;
    const { redisUrl, consumer, redisOptions } = this.options;
    this.redis = new Redis(redisUrl, {
      protocol: 2,
      connectionName: consumer, // CLIENT SETNAME again on every reconnect
      retryStrategy: () => 1000, // reconnect at most once a second, forever
      enableOfflineQueue: false, // fail at once while disconnected: that is fail safe
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      lazyConnect: true,
      ...redisOptions,
    });
    this.redis.on('error', (err) => this.down(err));
    this.redis.on('close', () => this.down(new Error('connection closed')));
    try {
      await this.redis.connect();
    } catch (err) {
      this.down(err);
      return;
    }
    await this.serial(() => this.round(0));
  }

  /** Closes the connection; the client may not run afterwards. */
  async close() {
    const redis = this.redis;
    this.redis = null;
    this.redisOk = false;
    this.redisProblem = 'closed';
    this.downReported = true;
    if (redis) {
      redis.removeAllListeners('close');
      redis.disconnect();
    }
  }

  down(err) {
    const problem = err?.message ?? String(err);
    this.needSetup = true;
    if (!this.downReported) this.emit('error', 'redis_down', { problem: escapeBytes(problem) }); // once per outage
    this.downReported = true;
    this.redisOk = false;
    this.redisProblem = problem;
  }

  /** One Redis command with a deadline, replies as Buffers. */
  async call(args, timeoutMs = 5000) {
    let timer;
    const deadline = new Promise((_, reject) => {
      timer = setTimeout(() => {
        reject(new Error(`${args[0]} got no reply within ${timeoutMs} ms`));
        this.redis?.disconnect(true); // drop the connection we can no longer trust
      }, timeoutMs);
    });
    try {
      return await Promise.race([this.redis.callBuffer(args[0], args.slice(1)), deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Reads the stream (new entries, blocking up to `blockMs`) and the
   * heartbeat; after a reconnect first sets up again and reads the halt key
   * and the pending entries. Never throws for Redis trouble: it leaves the
   * client fail safe (mayRun() false) and reports it.
   * @param {number} [blockMs]  0: do not block
   */
  async poll(blockMs = 1000) {
    if (!this.redis) throw new Error('ControlClient: open() first');
    return this.serial(() => this.round(blockMs));
  }

  async round(blockMs) {
    if (!this.redis) return;
    if (this.redis.status !== 'ready') {
      this.down(new Error(`not connected (${this.redis.status})`));
      await sleep(Math.min(Math.max(blockMs, 50), 1000));
      return;
    }
    try {
      if (this.needSetup) {
        const wait = this.lastSetupAttempt + 1000 - this.options.now();
        if (wait > 0) await sleep(Math.min(wait, Math.max(blockMs, 50)));
        if (this.lastSetupAttempt + 1000 > this.options.now()) return;
        this.lastSetupAttempt = this.options.now();
        await this.setup();
      }
      await this.readEntries('>', blockMs);
      await this.readHeartbeat();
      this.lastGoodPoll = this.options.now();
      if (!this.redisOk) this.emit('info', 'redis_up', {});
      this.redisOk = true;
      this.downReported = false;
      this.redisProblem = null;
    } catch (err) {
      if (/^(NOGROUP|UNBLOCKED)/.test(err?.message ?? '')) this.emit('warn', 'group_missing', { problem: escapeBytes(err.message) });
      this.down(err);
    }
  }

  /** Section 8 steps 1-4, and the announcement of section 10. */
  async setup() {
    const { stream, group, consumer, haltKey } = this.options;
    try {
      await this.call(['XGROUP', 'CREATE', stream, group, '0', 'MKSTREAM']);
    } catch (err) {
      if (!/^BUSYGROUP/.test(err.message)) throw err;
    }
    await this.call(['CLIENT', 'SETNAME', consumer]);
    await this.call(['HSET', `${stream}:clients`, group, PROTOCOL_VERSIONS]);
    await this.readHaltKey(haltKey);
    await this.readEntries('0', 0);
    this.needSetup = false;
    this.emit('info', 'ready', { stream, consumer, halts_in_force: this.state.haltsInForce() });
  }

  /**
   * The fields of a hash as [name, value] pairs ([] when it does not exist).
   * HGETALL sees fields other than msg and sig (section 7); where an ACL
   * grants only HGET/HMGET (section 2) it falls back to HMGET msg sig.
   */
  async readHash(key) {
    if (!this.hmgetOnly) {
      try {
        return pairsFromFlat(await this.call(['HGETALL', key]));
      } catch (err) {
        if (!/^NOPERM/.test(err.message)) throw err;
        this.hmgetOnly = true;
        this.emit('warn', 'hgetall_denied', { detail: 'HGETALL is denied: reading msg and sig with HMGET, other fields of the halt and heartbeat keys go unseen' });
      }
    }
    const [msg, sig] = await this.call(['HMGET', key, 'msg', 'sig']);
    const pairs = [];
    if (msg !== null) pairs.push([Buffer.from('msg'), msg]);
    if (sig !== null) pairs.push([Buffer.from('sig'), sig]);
    return pairs;
  }

  async readHaltKey(haltKey) {
    let fields;
    try {
      fields = await this.readHash(haltKey);
    } catch (err) {
      if (!/^WRONGTYPE/.test(err.message)) throw err;
      this.emit('warn', 'halt_key_ignored', { reason: 'not_a_hash', detail: 'the halt key is not a hash' });
      return;
    }
    const verdict = this.state.applyHaltKey(fields);
    if (verdict.outcome === 'halt') {
      this.emit('error', 'halt', { source: 'halt_key', ...describe(verdict) });
    } else if (verdict.outcome === 'reject') {
      this.emit('warn', 'halt_key_ignored', { reason: verdict.reason, detail: verdict.detail });
    }
  }

  /**
   * XREADGROUP from `from`: '0' reads this consumer's pending entries, page
   * by page, until none is left; '>' reads new ones (blocking up to blockMs).
   */
  async readEntries(from, blockMs) {
    const { stream, group, consumer, count } = this.options;
    let id = from;
    for (;;) {
      const args = ['XREADGROUP', 'GROUP', group, consumer, 'COUNT', String(count)];
      if (from === '>' && blockMs > 0) args.push('BLOCK', String(Math.floor(blockMs))); // BLOCK 0 would wait forever
      args.push('STREAMS', stream, id);
      const reply = await this.call(args, blockMs + 5000);
      const entries = reply?.[0]?.[1] ?? [];
      for (const [entryId, flat] of entries) await this.handleEntry(entryId.toString('latin1'), flat);
      // '>' once per poll; pending: go on after the last entry read (reading
      // from '0' again would return the HALTs kept pending until the stop).
      if (from === '>' || entries.length === 0) return;
      id = entries[entries.length - 1][0].toString('latin1');
    }
  }

  async handleEntry(entryId, flat) {
    const safeId = escapeBytes(entryId);
    if (this.owedAcks.has(entryId)) return this.xack([entryId]);
    const halt = [...this.state.inForce.values()].find((h) => h.entryId === entryId);
    if (halt) return this.acknowledged.has(halt.id) ? this.xack([entryId]) : undefined; // acked once stopped
    const verdict = this.state.applyEntry(entryId, pairsFromFlat(flat));
    if (verdict.outcome === 'reject') {
      this.emit('error', 'reject', { entry_id: safeId, reason: verdict.reason, detail: escapeBytes(verdict.detail) });
      return this.xack([entryId]); // "read", not "stopped"
    }
    if (verdict.outcome === 'halt') {
      if (verdict.known) {
        // the stream entry of the HALT read from the halt key: acked with it
        this.emit('info', 'halt_entry', { entry_id: safeId, id: verdict.message.id, detail: 'the stream entry of the HALT in force from the halt key' });
        return this.acknowledged.has(verdict.message.id) ? this.xack([entryId]) : undefined;
      }
      this.emit('error', 'halt', { source: 'stream', entry_id: safeId, ...describe(verdict) });
      return;
    }
    // A RESUME: ack it, and the entries of the HALTs it lifted that were not yet acked.
    for (const id of verdict.lifted) this.acknowledged.delete(id);
    this.emit('warn', 'resume', {
      entry_id: safeId,
      ...describe(verdict),
      lifted: verdict.lifted,
      resume_from: verdict.message.resume_from,
      halts_in_force: this.state.haltsInForce(),
    });
    const lifted = verdict.liftedHalts.map((h) => h.entryId).filter((e) => e !== null);
    return this.xack([entryId, ...lifted]);
  }

  async xack(entryIds) {
    for (const e of entryIds) this.owedAcks.add(e);
    await this.call(['XACK', this.options.stream, this.options.group, ...entryIds]);
    for (const e of entryIds) this.owedAcks.delete(e);
  }

  async readHeartbeat() {
    if (!this.options.requireHeartbeat) return;
    let fields;
    try {
      fields = await this.readHash(this.options.heartbeatKey);
    } catch (err) {
      if (!/^WRONGTYPE/.test(err.message)) throw err;
      fields = [[Buffer.from('not a hash'), Buffer.alloc(0)]];
    }
    this.heartbeat = !fields || fields.length === 0 ? { fresh: false, reason: 'missing', detail: 'no heartbeat key' } : verifyHeartbeat(fields, this.keyring);
    const fresh = this.heartbeatFresh().fresh;
    if (fresh !== this.heartbeatWasFresh) {
      if (fresh) this.emit('info', 'heartbeat_ok', { watchdog_id: this.heartbeat.watchdogId });
      else this.emit('warn', 'heartbeat_lost', { reason: this.heartbeatFresh().reason, detail: this.heartbeatFresh().detail });
      this.heartbeatWasFresh = fresh;
    }
  }

  /** The last heartbeat read, judged against the clock now. */
  heartbeatFresh() {
    if (!this.heartbeat.fresh) return this.heartbeat;
    return heartbeatFreshAt(this.heartbeat, this.options.now());
  }

  /** Everything that keeps the relayer from sending, most serious first. */
  blockers() {
    const out = [];
    const halts = [...this.state.inForce.values()];
    if (halts.length > 0) {
      out.push(`halted by ${halts.map((h) => `${h.id} (${h.message.invariant}: ${JSON.stringify(h.message.reason)})`).join(', ')}`);
    }
    if (!this.redis) out.push('not open');
    else if (!this.redisOk || this.needSetup) out.push(`paused: Redis unavailable (${escapeBytes(this.redisProblem ?? 'setting up')})`);
    const age = this.lastGoodPoll === null ? null : this.options.now() - this.lastGoodPoll;
    if (this.options.maxPollAgeMs !== null && this.redisOk && (age === null || age > this.options.maxPollAgeMs)) {
      out.push(`paused: the stream was last read ${age} ms ago (poll before sending)`);
    }
    if (this.options.requireHeartbeat) {
      const hb = this.heartbeatFresh();
      if (!hb.fresh) out.push(`paused: heartbeat ${hb.reason} (${hb.detail})`);
    }
    return out;
  }

  /** True only when no HALT is in force, Redis answers and the heartbeat is fresh. */
  mayRun() {
    return this.blockers().length === 0;
  }

  /** Why mayRun() is false (empty string when it is true). */
  reason() {
    return this.blockers().join('; ');
  }

  /** Halted by at least one HALT (a heartbeat or Redis pause is not a halt). */
  halted() {
    return this.state.halted();
  }

  /** @returns {string[]} */
  haltsInForce() {
    return this.state.haltsInForce();
  }

  /**
   * Call once the relayer has stopped (nothing in flight will be sent,
   * nothing new will start): writes `HSET STREAM:ack:HALT_ID GROUP STOPPED_AT`
   * for every HALT in force not yet acknowledged, then XACKs their stream
   * entries (section 8). Throws when Redis fails; call it again then.
   * @param {Date | number} [stoppedAt]  when it stopped (default now)
   * @returns {Promise<string[]>} the HALT ids acknowledged by this call
   */
  async confirmStopped(stoppedAt = this.options.now()) {
    if (!this.redis) throw new Error('ControlClient: open() first');
    return this.serial(async () => {
      const halts = [...this.state.inForce.values()].filter((h) => !this.acknowledged.has(h.id));
      const { stream, group } = this.options;
      try {
        for (const h of halts) {
          await this.call(['HSET', `${stream}:ack:${h.id}`, group, isoMs(stoppedAt)]);
          this.acknowledged.add(h.id);
          this.emit('info', 'acknowledged', { id: h.id, stopped_at: isoMs(stoppedAt) });
        }
        const entries = halts.map((h) => h.entryId).filter((e) => e !== null);
        if (entries.length > 0) await this.xack(entries);
      } catch (err) {
        this.down(err);
        throw new Error(`ControlClient: the acknowledgement could not be written: ${err.message}`);
      }
      return halts.map((h) => h.id);
    });
  }
}

/** The validated parts of an accepted message, for a log line. */
function describe(verdict) {
  const m = verdict.message;
  return {
    id: m.id,
    type: m.type,
    invariant: m.invariant,
    severity: m.severity,
    reason: m.reason,
    correlation_id: m.correlation_id,
    watchdog_id: m.watchdog_id,
    issued_at: m.issued_at,
    key_id: m.key_id,
    key_role: verdict.key.role,
    key_name: verdict.key.name,
  };
}
