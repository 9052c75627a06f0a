// ControlClient against a private redis-server started by the test (the
// live test against relaywatch itself is live.test.js).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import Redis from 'ioredis';
import { ControlClient } from '../src/client.js';
import { Keyring } from '../src/keys.js';
import { PrivateRedis, redisServerPath } from '../testing/redis-helpers.js';
import { newKeyPair, entry, haltMsg, resumeMsg, heartbeatMsg, signB64 } from '../testing/helpers.js';

const skip = redisServerPath() ? false : 'redis-server is not on PATH';
const watchdog = newKeyPair();
const operator = newKeyPair();
const stranger = newKeyPair();
const keyring = new Keyring({
  watchdog: [{ raw: watchdog.raw, name: 'watchdog.pub' }],
  operator: [{ raw: operator.raw, name: 'operator.pub' }],
});
const STREAM = 'relayer:control';

let server;
let admin;
before(async () => {
  if (skip) return;
  server = await new PrivateRedis().start();
  admin = new Redis(server.url, { retryStrategy: () => 200 });
  admin.on('error', () => {});
});
after(async () => {
  admin?.disconnect();
  await server?.destroy();
});

const xadd = (pair, msg) => admin.xadd(STREAM, '*', ...entry(pair, msg).flat());
const xaddRaw = (...fields) => admin.xadd(STREAM, '*', ...fields);
const writeHeartbeat = (ms = Date.now(), pair = watchdog) => {
  const msg = JSON.stringify(heartbeatMsg(pair, ms, 3000));
  return admin.hset('relayer:watchdog:heartbeat', 'msg', msg, 'sig', signB64(pair.privateKey, msg));
};
const pendingCount = async (group) => (await admin.xpending(STREAM, group))[0];

function newClient(group, extra = {}) {
  const events = [];
  const client = new ControlClient({ redisUrl: server.url, group, keyring, onEvent: (e) => events.push(e), ...extra });
  client.events = events;
  return client;
}

test('open: group from 0, connection name, version announced; paused without a heartbeat', { skip }, async () => {
  await admin.flushall();
  const c = newClient('g-open');
  await c.open();
  try {
    const groups = await admin.xinfo('GROUPS', STREAM);
    assert.ok(JSON.stringify(groups).includes('g-open'));
    assert.match(await admin.client('LIST'), /name=g-open /);
    assert.equal(await admin.hget(`${STREAM}:clients`, 'g-open'), '1');
    await c.poll(0);
    assert.equal(c.mayRun(), false);
    assert.match(c.reason(), /heartbeat missing/);
    await writeHeartbeat();
    await c.poll(0);
    assert.equal(c.mayRun(), true, c.reason());
    assert.equal(c.reason(), '');
  } finally {
    await c.close();
  }
});

test('HALT: stops, acknowledges after confirmStopped, rejects forgeries, resumes on a RESUME', { skip }, async () => {
  await admin.flushall();
  await writeHeartbeat();
  const c = newClient('g-halt');
  await c.open();
  try {
    await c.poll(0);
    assert.equal(c.mayRun(), true, c.reason());
    const h = haltMsg(watchdog);
    await xadd(watchdog, h);
    await c.poll(100);
    assert.equal(c.mayRun(), false);
    assert.deepEqual(c.haltsInForce(), [h.id]);
    assert.match(c.reason(), new RegExp(`halted by ${h.id}`));
    assert.equal(await pendingCount('g-halt'), 1); // not acked before the stop
    assert.equal(await admin.exists(`${STREAM}:ack:${h.id}`), 0);
    assert.deepEqual(await c.confirmStopped(Date.parse('2026-01-02T03:04:05.678Z')), [h.id]);
    assert.deepEqual(await admin.hgetall(`${STREAM}:ack:${h.id}`), { 'g-halt': '2026-01-02T03:04:05.678Z' });
    assert.equal(await pendingCount('g-halt'), 0);
    assert.deepEqual(await c.confirmStopped(), []); // once per HALT

    // forgeries: rejected, XACKed, nothing changes
    await xadd(stranger, resumeMsg(stranger, [h.id]));
    await xadd(watchdog, resumeMsg(watchdog, [h.id]));
    await xaddRaw('msg', Buffer.from([0x7b, 0xff, 0x7d]), 'sig', 'x');
    await xaddRaw('msg', '{}');
    await xaddRaw('msg', '{}', 'sig', signB64(operator.privateKey, '{}'), 'extra', '1');
    await c.poll(100);
    const rejects = c.events.filter((e) => e.event === 'reject').map((e) => e.reason);
    assert.deepEqual(rejects, ['bad_signature', 'resume_by_watchdog_key', 'bad_signature', 'bad_entry', 'bad_entry']);
    assert.deepEqual(c.haltsInForce(), [h.id]);
    assert.equal(await pendingCount('g-halt'), 0);
    for (const e of c.events) assert.doesNotMatch(JSON.stringify(e), /\\u00ff|\ufffd/);

    const r = resumeMsg(operator, [h.id]);
    await xadd(operator, r);
    await c.poll(100);
    assert.equal(c.mayRun(), true, c.reason());
    assert.equal(await pendingCount('g-halt'), 0);
    await xadd(operator, r); // replayed
    await c.poll(100);
    assert.equal(c.events.at(-1).reason, 'replay');
    assert.equal(c.mayRun(), true);
  } finally {
    await c.close();
  }
});

test('start: the halt key halts; unacked HALTs come back from the pending list after a restart', { skip }, async () => {
  await admin.flushall();
  await writeHeartbeat();
  const hk = haltMsg(watchdog);
  await admin.hset('relayer:halt', ...entry(watchdog, hk).flat());
  const c1 = newClient('g-restart');
  await c1.open();
  await c1.poll(0);
  assert.deepEqual(c1.haltsInForce(), [hk.id]);
  const h2 = haltMsg(operator);
  await xadd(operator, h2);
  await c1.poll(100);
  assert.deepEqual(c1.haltsInForce(), [hk.id, h2.id]);
  await c1.close(); // before confirmStopped: h2 stays pending

  await admin.del('relayer:halt');
  const c2 = newClient('g-restart');
  await c2.open();
  try {
    assert.deepEqual(c2.haltsInForce(), [h2.id]);
    assert.equal(await pendingCount('g-restart'), 1);
    await c2.poll(0); // the pending HALT is not judged twice
    assert.equal(c2.events.filter((e) => e.event === 'reject').length, 0);
    await c2.confirmStopped();
    assert.equal(await pendingCount('g-restart'), 0);
    assert.ok(await admin.hget(`${STREAM}:ack:${h2.id}`, 'g-restart'));
  } finally {
    await c2.close();
  }
});

test('a forged halt key is ignored and logged', { skip }, async () => {
  await admin.flushall();
  await writeHeartbeat();
  await admin.hset('relayer:halt', ...entry(stranger, haltMsg(stranger)).flat());
  const c = newClient('g-forged');
  await c.open();
  try {
    await c.poll(0);
    assert.equal(c.mayRun(), true, c.reason());
    const e = c.events.find((x) => x.event === 'halt_key_ignored');
    assert.equal(e.reason, 'bad_signature');
  } finally {
    await c.close();
  }
});

test('heartbeat: stale or forged pauses, fresh again runs again', { skip }, async () => {
  await admin.flushall();
  await writeHeartbeat();
  const c = newClient('g-hb');
  await c.open();
  try {
    await c.poll(0);
    assert.equal(c.mayRun(), true, c.reason());
    await writeHeartbeat(Date.now() - 10_000);
    await c.poll(0);
    assert.match(c.reason(), /heartbeat stale/);
    await writeHeartbeat(Date.now(), operator);
    await c.poll(0);
    assert.match(c.reason(), /heartbeat bad_signature/);
    await admin.del('relayer:watchdog:heartbeat');
    await c.poll(0);
    assert.match(c.reason(), /heartbeat missing/);
    await writeHeartbeat();
    await c.poll(0);
    assert.equal(c.mayRun(), true, c.reason());
    assert.equal(c.halted(), false);
  } finally {
    await c.close();
  }
});

test('Redis down: fail safe, reconnect, re-read pending, run again', { skip, timeout: 30_000 }, async () => {
  await admin.flushall();
  await writeHeartbeat();
  const c = newClient('g-down');
  await c.open();
  try {
    await c.poll(0);
    assert.equal(c.mayRun(), true, c.reason());
    await server.stop();
    const t0 = Date.now();
    await c.poll(200);
    assert.equal(c.mayRun(), false);
    assert.match(c.reason(), /Redis unavailable/);
    await c.poll(200);
    assert.equal(c.mayRun(), false);
    await server.start(); // empty again: no stream, no group, no heartbeat
    await writeHeartbeat();
    const h = haltMsg(watchdog);
    await xadd(watchdog, h);
    for (let i = 0; i < 40 && !c.halted(); i++) await c.poll(100);
    assert.ok(Date.now() - t0 >= 1000, 'reconnects no faster than once a second');
    assert.deepEqual(c.haltsInForce(), [h.id]);
    assert.ok(c.events.some((e) => e.event === 'redis_down'));
    assert.ok(c.events.some((e) => e.event === 'redis_up'));
    await xadd(operator, resumeMsg(operator, [h.id]));
    await c.poll(100);
    await writeHeartbeat();
    await c.poll(0);
    assert.equal(c.mayRun(), true, c.reason());
  } finally {
    await c.close();
  }
});

test('mayRun is false when the stream has not been read recently', { skip }, async () => {
  await admin.flushall();
  await writeHeartbeat();
  let now = Date.now();
  const c = newClient('g-age', { now: () => now, maxPollAgeMs: 5000 });
  await c.open();
  try {
    await c.poll(0);
    assert.equal(c.mayRun(), true, c.reason());
    now += 5001;
    assert.equal(c.mayRun(), false);
    assert.match(c.reason(), /last read/);
  } finally {
    await c.close();
  }
});

test('a relayer user allowed HGET/HMGET but not HGETALL (section 2) still reads the halt key and heartbeat', { skip }, async () => {
  await admin.flushall();
  await admin.call('ACL', 'SETUSER', 'relayer', 'reset', 'on', '>pw', '~*', '&*', '+@all', '-hgetall');
  await writeHeartbeat();
  const hk = haltMsg(watchdog);
  await admin.hset('relayer:halt', ...entry(watchdog, hk).flat());
  const c = newClient('g-acl', { redisUrl: server.url.replace('redis://', 'redis://relayer:pw@') });
  await c.open();
  try {
    await c.poll(0);
    assert.deepEqual(c.haltsInForce(), [hk.id]);
    assert.equal(c.heartbeatFresh().fresh, true);
    assert.ok(c.events.some((e) => e.event === 'hgetall_denied'));
  } finally {
    await c.close();
    await admin.call('ACL', 'DELUSER', 'relayer');
  }
});

test('the halt key and its own stream entry: one HALT, its entry XACKed once stopped', { skip }, async () => {
  await admin.flushall();
  await writeHeartbeat();
  const h = haltMsg(watchdog);
  await admin.hset('relayer:halt', ...entry(watchdog, h).flat());
  await xadd(watchdog, h);
  const c = newClient('g-hk-entry');
  await c.open();
  try {
    await c.poll(0);
    assert.deepEqual(c.haltsInForce(), [h.id]);
    assert.equal(c.events.filter((e) => e.event === 'reject').length, 0);
    assert.ok(c.events.some((e) => e.event === 'halt_entry'));
    assert.equal(await pendingCount('g-hk-entry'), 1);
    await c.confirmStopped();
    assert.equal(await pendingCount('g-hk-entry'), 0);
  } finally {
    await c.close();
  }
});
