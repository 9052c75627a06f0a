// The client against the real local stack, with relaywatch running:
//
//   RELAYWATCH_BIN=.../relaywatch RELAYER_SIM_BIN=.../relayer_sim STACK_WATCHDOG=1 scripts/stack-up DIR
//   RELAYWATCH_STACK_DIR=DIR RELAYWATCH_BIN=.../relaywatch npm test
//
// It causes real HALTs (scripts/inject DIR mint, relaywatch halt), forges
// entries on the stream, resumes with relaywatch resume and takes relaywatch
// away to let the heartbeat lapse. Skipped when RELAYWATCH_STACK_DIR is not set.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Redis from 'ioredis';
import { ControlClient, DEFAULTS } from '../src/client.js';
import { readSecretKeyFile, newKeyPair, signB64, haltMsg, resumeMsg } from '../testing/helpers.js';

const DIR = process.env.RELAYWATCH_STACK_DIR;
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const GROUP = 'node-client-test';

function readEnv(file) {
  const env = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line);
    if (m) env[m[1]] = m[2];
  }
  return env;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test('live: the Node client against relaywatch on the local stack', { timeout: 600_000 }, async (t) => {
  if (!DIR) {
    t.skip('RELAYWATCH_STACK_DIR is not set: start a stack with STACK_WATCHDOG=1 scripts/stack-up DIR and set it to DIR');
    return;
  }
  assert.ok(existsSync(`${DIR}/stack.env`), `${DIR}/stack.env: no stack there`);
  const env = readEnv(`${DIR}/stack.env`);
  const stream = env.CONTROL_STREAM || DEFAULTS.stream;
  const haltKey = env.CONTROL_HALT_KEY || DEFAULTS.haltKey;
  const heartbeatKey = env.CONTROL_HEARTBEAT_KEY || DEFAULTS.heartbeatKey;
  const conf = env.RELAYWATCH_CONFIG || `${DIR}/relaywatch.conf`;
  const bin = process.env.RELAYWATCH_BIN || `${ROOT}build/watchdog/relaywatch`;
  const childEnv = { ...process.env, RELAYWATCH_BIN: bin };
  const run = (file, args, extraEnv = {}) => {
    const started = Date.now();
    try {
      const out = execFileSync(file, args, { env: { ...childEnv, ...extraEnv }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 180_000 });
      return { ok: true, out, ms: Date.now() - started };
    } catch (err) {
      return { ok: false, out: `${err.stdout ?? ''}${err.stderr ?? ''}`, status: err.status, ms: Date.now() - started };
    }
  };
  const script = (name, ...args) => {
    const r = run(`${ROOT}scripts/${name}`, [DIR, ...args]);
    assert.ok(r.ok, `scripts/${name} ${args.join(' ')} failed: ${r.out}`);
    return r.out;
  };
  const resume = () => {
    let r = run(bin, ['resume', '-c', conf, '--from-last-checkpoint'], { RELAYWATCH_OPERATOR_KEY: env.RELAYWATCH_OPERATOR_KEY });
    if (!r.ok) {
      t.diagnostic(`relaywatch resume without --force failed (${r.status}): ${r.out.trim().split('\n').slice(-3).join(' | ')}; forcing`);
      r = run(bin, ['resume', '-c', conf, '--from-last-checkpoint', '--force', '--reason', 'node client live test'], { RELAYWATCH_OPERATOR_KEY: env.RELAYWATCH_OPERATOR_KEY });
    }
    assert.ok(r.ok, `relaywatch resume failed (${r.status}): ${r.out}`);
  };

  const admin = new Redis(env.REDIS_URL, { retryStrategy: () => 500 });
  admin.on('error', () => {});
  await admin.xgroup('DESTROY', stream, GROUP).catch(() => {});
  await admin.hdel(`${stream}:clients`, GROUP);

  const events = [];
  const client = new ControlClient({
    redisUrl: env.REDIS_URL,
    group: GROUP,
    stream,
    haltKey,
    heartbeatKey,
    watchdogKeyFiles: env.CONTROL_WATCHDOG_PUBKEYS,
    operatorKeyFiles: env.CONTROL_OPERATOR_PUBKEYS,
    onEvent: (e) => events.push(e),
  });
  const until = async (what, predicate, timeoutMs) => {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      await client.poll(500);
      if (predicate()) return;
    }
    assert.fail(`${what}: not within ${timeoutMs} ms; mayRun ${client.mayRun()}, reason: ${client.reason()}; last events: ${JSON.stringify(events.slice(-5))}`);
  };
  const pending = async () => (await admin.xpending(stream, GROUP))[0];
  const rejectOf = (entryId) => events.find((e) => e.event === 'reject' && e.entry_id === entryId)?.reason;

  const watchdogKey = readSecretKeyFile(`${DIR}/keys/watchdog.key`);
  const operatorKey = readSecretKeyFile(env.RELAYWATCH_OPERATOR_KEY);
  const stranger = newKeyPair();
  /** XADDs msg signed by `pair` (or with the given sig); returns the entry id */
  const forge = (pair, msg, sig) => {
    const bytes = Buffer.isBuffer(msg) ? msg : Buffer.from(typeof msg === 'string' ? msg : JSON.stringify(msg));
    return admin.xadd(stream, '*', 'msg', bytes, 'sig', sig ?? signB64(pair.privateKey, bytes));
  };

  try {
    await client.open();
    await t.test('start: running (no HALT in force, fresh heartbeat), group and announcement written', async () => {
      await until('running at start', () => client.mayRun(), 20_000);
      assert.equal(await admin.hget(`${stream}:clients`, GROUP), '1');
      assert.match(await admin.client('LIST'), new RegExp(`name=${GROUP} `));
    });

    let halt1;
    await t.test('(a) stops on the HALT relaywatch publishes for a supply violation, and acknowledges it', async () => {
      const mark = events.length; // the stream's history, read from 0, came before
      script('inject', 'mint');
      await until('halted after inject mint', () => client.halted(), 90_000);
      const ev = events.slice(mark).find((e) => e.event === 'halt');
      t.diagnostic(`HALT ${ev.id} ${ev.invariant} from ${ev.source}, key ${ev.key_role} ${ev.key_id}, correlation ${ev.correlation_id}`);
      halt1 = ev;
      assert.equal(client.mayRun(), false);
      assert.deepEqual(client.haltsInForce(), [ev.id]);
      const stoppedAt = Date.now();
      assert.deepEqual(await client.confirmStopped(stoppedAt), [ev.id]);
      assert.equal(await admin.hget(`${stream}:ack:${ev.id}`, GROUP), new Date(stoppedAt).toISOString());
      assert.equal(await pending(), 0);
    });

    await t.test('(b) rejects forged entries and stays halted', async () => {
      const id = halt1.id;
      const cases = [];
      const add = async (name, expected, entryId) => cases.push({ name, expected, entryId: await entryId });
      const goodHalt = haltMsg(watchdogKey);
      await add('bad signature', 'bad_signature', forge(watchdogKey, goodHalt, signB64(watchdogKey.privateKey, 'other bytes')));
      await add('stranger key', 'bad_signature', forge(stranger, resumeMsg(stranger, [id])));
      await add('RESUME signed by the watchdog key', 'resume_by_watchdog_key', forge(watchdogKey, resumeMsg(watchdogKey, [id])));
      await add('non-UTF-8 msg', 'not_utf8', forge(operatorKey, Buffer.concat([Buffer.from('{"v":1,"type":"RESUME","reason":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')])));
      const dup = JSON.stringify(resumeMsg(operatorKey, [id])).replace('"type":"RESUME"', '"type":"RESUME","type":"HALT"');
      await add('duplicate key', 'duplicate_key', forge(operatorKey, dup));
      await add('too long', 'too_long', forge(operatorKey, resumeMsg(operatorKey, [id], { pad: 'x'.repeat(65536) })));
      const { resume_from, ...noResumeFrom } = resumeMsg(operatorKey, [id]);
      await add('missing field', 'missing_field', forge(operatorKey, noResumeFrom));
      await add('unknown version', 'unknown_version', forge(operatorKey, resumeMsg(operatorKey, [id], { v: 2 })));
      await add('extra field in the entry', 'bad_entry', admin.xadd(stream, '*', 'msg', '{}', 'sig', signB64(operatorKey.privateKey, '{}'), 'x', 'y'));
      await add('no sig', 'bad_entry', admin.xadd(stream, '*', 'msg', '{}'));
      await until('all forged entries judged', () => cases.every((c) => rejectOf(c.entryId)), 15_000);
      for (const c of cases) assert.equal(rejectOf(c.entryId), c.expected, c.name);
      assert.deepEqual(client.haltsInForce(), [id]);
      assert.equal(client.mayRun(), false);
      assert.equal(await pending(), 0, 'rejected entries are XACKed');
    });

    let resume1;
    await t.test('(c) resumes on the RESUME of relaywatch resume, once the violation is mended', async () => {
      const mark = events.length;
      script('inject', 'mint', '--undo');
      resume();
      await until('running after relaywatch resume', () => client.mayRun(), 30_000);
      resume1 = events.slice(mark).find((e) => e.event === 'resume');
      t.diagnostic(`RESUME ${resume1.id} lifted ${resume1.lifted} resume_from ${JSON.stringify(resume1.resume_from)}`);
      assert.deepEqual(resume1.lifted, [halt1.id]);
      assert.equal(resume1.key_role, 'operator');
      assert.equal(await pending(), 0);
      t.diagnostic(`ack hash of ${halt1.id} after the RESUME: ${(await admin.exists(`${stream}:ack:${halt1.id}`)) ? 'still there' : 'deleted'}`);
    });

    await t.test('(b) replays: the old RESUME and the old HALT do nothing to a new HALT', async () => {
      const r = run(bin, ['halt', '-c', conf, '--reason', 'node client live test: manual halt']);
      assert.ok(r.ok, `relaywatch halt failed: ${r.out}`);
      await until('halted after relaywatch halt', () => client.halted(), 30_000);
      const halt2 = events.filter((e) => e.event === 'halt').at(-1);
      assert.notEqual(halt2.id, halt1.id);
      await client.confirmStopped();
      // copy the old entries, signatures and all
      const entries = await admin.xrangeBuffer(stream, '-', '+');
      const copy = async (messageId) => {
        const [, flat] = entries.findLast(([, f]) => f && Buffer.concat(f).includes(Buffer.from(`"id":"${messageId}"`)));
        return admin.xadd(stream, '*', ...flat);
      };
      const replayedResume = await copy(resume1.id);
      const replayedHalt = await copy(halt1.id);
      await until('replays judged', () => rejectOf(replayedResume) && rejectOf(replayedHalt), 15_000);
      assert.equal(rejectOf(replayedResume), 'replay');
      assert.equal(rejectOf(replayedHalt), 'replay');
      assert.deepEqual(client.haltsInForce(), [halt2.id]);
      assert.equal(client.mayRun(), false);
      resume();
      await until('running after the second resume', () => client.mayRun(), 30_000);
    });

    await t.test('(d) pauses when the heartbeat lapses, runs again when relaywatch is back', async () => {
      const hb = JSON.parse(await admin.hget(heartbeatKey, 'msg'));
      script('stack-service', 'relaywatch', 'stop');
      const stopped = Date.now();
      try {
        await until('paused for the heartbeat', () => !client.mayRun(), hb.ttl_ms + 5000);
        t.diagnostic(`paused ${Date.now() - stopped} ms after relaywatch stopped (ttl ${hb.ttl_ms} ms): ${client.reason()}`);
        assert.match(client.reason(), /heartbeat (stale|missing)/);
        assert.equal(client.halted(), false, 'a heartbeat pause is not a halt');
        await sleep(2000);
        await client.poll(0);
        assert.equal(client.mayRun(), false);
      } finally {
        script('stack-service', 'relaywatch', 'start');
      }
      await until('running again with a fresh heartbeat', () => client.mayRun(), 30_000);
    });

    await t.test('Redis away: fail safe, reconnects, runs again', async () => {
      script('stack-service', 'redis', 'stop');
      try {
        await client.poll(500);
        assert.equal(client.mayRun(), false);
        assert.match(client.reason(), /Redis unavailable/);
      } finally {
        script('stack-service', 'redis', 'start');
      }
      await until('running after Redis came back', () => client.mayRun(), 30_000);
    });
  } finally {
    await client.close();
    admin.disconnect();
  }
});
