#!/usr/bin/env node
// bench_halt.mjs — detection-to-halt latency of `relaywatch run`: from the
// moment a violating block becomes evaluable to the moment the signed HALT
// is in the control stream. Run by `scripts/bench halt` on a local stack of
// its own: the relayer simulator running with --control (it obeys HALTs and
// acks them) and `relaywatch run` in block mode, started by the caller with
// `confirmations = 2` on both chains.
//
// Usage: node tests/bench/bench_halt.mjs --stack-env FILE --relaywatch BIN
//             [--rounds 50] [--depth 2]
//
// Each round:
//   1. inject: a real transaction moves SIGIL out of the lockbox
//      (anvil_impersonateAccount on the lockbox, SIGIL.transfer to 0x…dEaD of
//      the lockbox balance less half the bridged supply), so the bridged
//      supply exceeds the backing from block B on (SUPPLY_MISMATCH);
//   2. evaluable: the source chain's head reaches B + depth, seen by an
//      eth_blockNumber poll every 1-2 ms (the midpoint between the last reply
//      below B + depth and the first at it); the execution chain is polled
//      alongside, since relaywatch's cycles follow the execution chain's blocks;
//   3. halt: the HALT's entry in the control stream (XREAD BLOCK on
//      relayer:control); its id is Redis's clock in ms, on this machine.
//      latency = entry ms - evaluable ms. relaywatch's own
//      detect_to_publish_ms (observe start -> XADD returned) comes from the
//      halt_published line of its log, and the ack from halt_acknowledged;
//   4. mend: the tokens go back from 0x…dEaD (impersonated); then
//      `relaywatch validate` until it passes, `relaywatch resume
//      --from-last-checkpoint`, and the next round starts once relaywatch's
//      log shows the incident over ("halt_lifted", or "incident_closed"
//      after a forced RESUME) and status.json lists no open incident. Should
//      validate still fail 8 s after the mend (the ledger's indexed height,
//      which pins the "locked" comparison, stuck inside the drained range),
//      the round resumes with --force --reason; such rounds are counted.
// Prints every sample, then p50, p90, p99 and max (nearest rank).

import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import { spawn } from "node:child_process";
import { Interface } from "ethers";
import { readEnv } from "./stack_env.mjs";

const DEAD = "0x000000000000000000000000000000000000dEaD";
const ERC20 = new Interface([
  "function transfer(address to, uint256 amount) returns (bool)",
  "function balanceOf(address) view returns (uint256)",
  "function totalSupply() view returns (uint256)",
]);
const ONE_TOKEN = 10n ** 18n;
const MIN_SUPPLY = 200n * ONE_TOKEN; // half of it is the violation's margin
const GAS_ETH = "0x56bc75e2d63100000"; // 100 ETH for the impersonated senders
const SLOW_POLL_MS = 20;
const HALT_WAIT_MS = 15000; // after evaluable
const ACK_WAIT_MS = 15000;
const VALIDATE_WAIT_MS = 8000; // after the mend is mined (its block reaches the depth in 2-3 s)
const CLOSE_WAIT_MS = 30000;

function die(msg) {
  process.stderr.write(`bench_halt: ${msg}\n`);
  process.exit(1);
}
const note = (msg) => process.stderr.write(`bench_halt: ${msg}\n`);

function parseArgs(argv) {
  const a = { rounds: 50, depth: 2, stackEnv: null, relaywatch: null };
  for (let i = 0; i < argv.length; i += 2) {
    const v = argv[i + 1];
    if (v === undefined) die(`missing value for ${argv[i]}`);
    if (argv[i] === "--stack-env") a.stackEnv = v;
    else if (argv[i] === "--relaywatch") a.relaywatch = v;
    else if (argv[i] === "--rounds") a.rounds = Number(v);
    else if (argv[i] === "--depth") a.depth = Number(v);
    else die(`unknown argument ${argv[i]}`);
  }
  if (!a.stackEnv || !a.relaywatch) die("usage: bench_halt.mjs --stack-env FILE --relaywatch BIN [--rounds 50] [--depth 2]");
  if (!Number.isInteger(a.rounds) || a.rounds < 1) die("--rounds: a positive count");
  if (!Number.isInteger(a.depth) || a.depth < 0) die("--depth: the confirmations relaywatch is configured with");
  return a;
}

// Wall-clock milliseconds with sub-millisecond resolution (Redis's stream ids
// are its wall clock in ms).
const wallMs = () => performance.timeOrigin + performance.now();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- JSON-RPC

// One kept-alive connection per chain, so a poll costs one loopback round trip.
class Rpc {
  constructor(url) {
    this.url = new URL(url);
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    this.id = 0;
  }

  call(method, params = []) {
    const body = JSON.stringify({ jsonrpc: "2.0", id: ++this.id, method, params });
    return new Promise((resolve, reject) => {
      const req = http.request(
        { host: this.url.hostname, port: this.url.port, path: this.url.pathname, method: "POST", agent: this.agent, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) } },
        (res) => {
          const chunks = [];
          res.on("data", (c) => chunks.push(c));
          res.on("end", () => {
            try {
              const r = JSON.parse(Buffer.concat(chunks).toString("utf8"));
              if (r.error) reject(new Error(`${method} @ ${this.url.origin}: ${r.error.message}`));
              else resolve(r.result);
            } catch (e) {
              reject(new Error(`${method} @ ${this.url.origin}: ${e.message}`));
            }
          });
        },
      );
      req.on("error", reject);
      req.end(body);
    });
  }

  async head() {
    return Number(await this.call("eth_blockNumber"));
  }

  async erc20(token, fn, args = []) {
    const data = ERC20.encodeFunctionData(fn, args);
    return ERC20.decodeFunctionResult(fn, await this.call("eth_call", [{ to: token, data }, "latest"]))[0];
  }

  // SIGIL.transfer(to, amount) sent as `from` (impersonated); resolves with the receipt's block.
  async transferAs(token, from, to, amount) {
    await this.call("anvil_impersonateAccount", [from]);
    await this.call("anvil_setBalance", [from, GAS_ETH]);
    const hash = await this.call("eth_sendTransaction", [{ from, to: token, data: ERC20.encodeFunctionData("transfer", [to, amount]) }]);
    for (;;) {
      const r = await this.call("eth_getTransactionReceipt", [hash]);
      if (r) {
        if (r.status !== "0x1") throw new Error(`transfer of ${amount} from ${from} to ${to} reverted (tx ${hash})`);
        return { hash, block: Number(r.blockNumber) };
      }
      await sleep(SLOW_POLL_MS);
    }
  }
}

// ---------------------------------------------------------------- Redis (RESP2, the few commands used)

class Redis {
  constructor(host, port) {
    this.host = host;
    this.port = port;
    this.buf = Buffer.alloc(0);
    this.waiting = [];
  }

  async connect(password) {
    this.sock = net.createConnection({ host: this.host, port: this.port });
    this.sock.setNoDelay(true);
    await new Promise((resolve, reject) => {
      this.sock.once("connect", resolve);
      this.sock.once("error", reject);
    });
    this.sock.on("data", (d) => {
      this.buf = Buffer.concat([this.buf, d]);
      for (;;) {
        const r = this.parse(0);
        if (!r) break;
        this.buf = this.buf.subarray(r.next);
        const w = this.waiting.shift();
        if (r.value instanceof Error) w.reject(r.value);
        else w.resolve(r.value);
      }
    });
    this.sock.on("error", (e) => this.waiting.splice(0).forEach((w) => w.reject(e)));
    if (password) await this.cmd("AUTH", password);
  }

  // One reply starting at `at`, or null when the buffer does not hold all of it yet.
  parse(at) {
    const eol = this.buf.indexOf("\r\n", at);
    if (eol < 0) return null;
    const type = String.fromCharCode(this.buf[at]);
    const line = this.buf.toString("utf8", at + 1, eol);
    const next = eol + 2;
    if (type === "+") return { value: line, next };
    if (type === "-") return { value: new Error(`redis: ${line}`), next };
    if (type === ":") return { value: Number(line), next };
    if (type === "$") {
      const n = Number(line);
      if (n < 0) return { value: null, next };
      if (this.buf.length < next + n + 2) return null;
      return { value: this.buf.toString("utf8", next, next + n), next: next + n + 2 };
    }
    if (type === "*") {
      const n = Number(line);
      if (n < 0) return { value: null, next };
      const out = [];
      let p = next;
      for (let i = 0; i < n; i++) {
        const r = this.parse(p);
        if (!r) return null;
        out.push(r.value);
        p = r.next;
      }
      return { value: out, next: p };
    }
    throw new Error(`redis: unexpected reply type ${type}`);
  }

  cmd(...args) {
    let s = `*${args.length}\r\n`;
    for (const a of args) s += `$${Buffer.byteLength(String(a))}\r\n${a}\r\n`;
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.sock.write(s);
    });
  }

  close() {
    this.sock.end();
  }
}

const fieldsOf = (flat) => {
  const o = {};
  for (let i = 0; i + 1 < flat.length; i += 2) o[flat[i]] = flat[i + 1];
  return o;
};

// The id of the stream's newest entry ("0-0" when empty).
async function lastEntryId(redis, stream) {
  const r = await redis.cmd("XREVRANGE", stream, "+", "-", "COUNT", "1");
  return r && r.length ? r[0][0] : "0-0";
}

// The first HALT for `invariant` after entry `after`: { id, ms, msg, sig }.
async function awaitHalt(redis, stream, after, invariant, deadline) {
  let from = after;
  for (;;) {
    const left = Math.ceil(deadline() - wallMs());
    if (left <= 0) return null;
    const r = await redis.cmd("XREAD", "COUNT", "16", "BLOCK", String(Math.min(left, 1000)), "STREAMS", stream, from);
    if (!r) continue;
    for (const [id, flat] of r[0][1]) {
      from = id;
      const f = fieldsOf(flat || []);
      let m;
      try {
        m = JSON.parse(f.msg);
      } catch {
        continue;
      }
      if (m.type === "HALT" && m.invariant === invariant) return { id, ms: Number(id.split("-")[0]), msg: m, sig: f.sig };
    }
  }
}

// ---------------------------------------------------------------- relaywatch's log

class Log {
  constructor(file) {
    this.file = file;
    this.offset = fs.statSync(file).size;
    this.rest = "";
  }

  skipToEnd() {
    this.offset = fs.statSync(this.file).size;
    this.rest = "";
  }

  read() {
    const size = fs.statSync(this.file).size;
    if (size <= this.offset) return [];
    const fd = fs.openSync(this.file, "r");
    const buf = Buffer.alloc(size - this.offset);
    fs.readSync(fd, buf, 0, buf.length, this.offset);
    fs.closeSync(fd);
    this.offset = size;
    const lines = (this.rest + buf.toString("utf8")).split("\n");
    this.rest = lines.pop();
    const out = [];
    for (const l of lines) {
      try {
        out.push(JSON.parse(l));
      } catch {
        /* not ours: a line of another writer */
      }
    }
    return out;
  }
}

// Waits for a log line matching `pred`, keeping every line read in `seen`.
async function awaitLine(log, seen, pred, ms) {
  const end = Date.now() + ms;
  for (;;) {
    const hit = seen.find(pred);
    if (hit) return hit;
    if (Date.now() > end) return null;
    seen.push(...log.read());
    if (!seen.find(pred)) await sleep(SLOW_POLL_MS);
  }
}

// ---------------------------------------------------------------- commands

function run(cmd, args, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, out }));
  });
}

// ---------------------------------------------------------------- one round

// Source head from B+1 on at 1-2 ms, execution head alongside; returns when
// the source head reached `target` and the execution chain has moved on
// since (or 1.5 s later). A change is dated at the midpoint between the last
// reply without it and the first with it.
async function pollEvaluable(src, exe, target) {
  const gaps = [];
  let prevAt = null;
  let prevExe = null;
  let evaluable = null;
  let resolution = null;
  let exeNext = null;
  let tight = false; // the last pause was the 1 ms one
  for (;;) {
    const [s, e] = await Promise.all([src.head(), exe.head()]);
    const now = wallMs();
    if (tight && evaluable === null) gaps.push(now - prevAt);
    if (evaluable === null && s >= target && prevAt !== null) {
      evaluable = (prevAt + now) / 2;
      resolution = now - prevAt;
    }
    if (prevExe !== null && e !== prevExe && evaluable !== null && exeNext === null) exeNext = Math.max(evaluable, (prevAt + now) / 2);
    prevAt = now;
    prevExe = e;
    if (evaluable !== null && (exeNext !== null || now - evaluable > 1500)) break;
    tight = s >= target - 1;
    await sleep(tight ? 1 : SLOW_POLL_MS);
  }
  return { evaluable, exeNext, gaps, resolution };
}

async function round(ctx, n) {
  const { env, src, exe, redis, log, args } = ctx;
  const r = { round: n };
  // A clean start: no incident open, so this violation is a new incident.
  const st = JSON.parse(fs.readFileSync(ctx.statusFile, "utf8"));
  if ((st.incidents || []).length) die(`round ${n}: relaywatch still has open incidents: ${JSON.stringify(st.incidents)}`);

  const after = await lastEntryId(redis, ctx.stream);
  log.skipToEnd();
  const seen = [];
  const balance = await src.erc20(env.SIGIL_ADDRESS, "balanceOf", [env.LOCKBOX_ADDRESS]);
  const supply = await exe.erc20(env.BRIDGED_SIGIL_ADDRESS, "totalSupply");
  const amount = balance - supply / 2n;
  if (amount <= 0n) die(`round ${n}: the lockbox holds ${balance}, less than half the bridged supply ${supply}`);

  const inject = await src.transferAs(env.SIGIL_ADDRESS, env.LOCKBOX_ADDRESS, DEAD, amount);
  r.block = inject.block;
  const poll = await pollEvaluable(src, exe, inject.block + args.depth);
  r.evaluable = poll.evaluable;
  r.resolution = poll.resolution;
  r.pollGapMedian = median(poll.gaps);
  r.exeWait = poll.exeNext === null ? null : poll.exeNext - poll.evaluable;
  r.exeNext = poll.exeNext;

  const halt = await awaitHalt(redis, ctx.stream, after, "SUPPLY_MISMATCH", () => poll.evaluable + HALT_WAIT_MS);
  if (!halt) {
    seen.push(...log.read());
    die(`round ${n}: no HALT for SUPPLY_MISMATCH in ${ctx.stream} within ${HALT_WAIT_MS} ms of block ${inject.block + args.depth}; relaywatch logged:\n${seen.map((l) => JSON.stringify(l)).join("\n")}`);
  }
  if (!halt.sig) die(`round ${n}: HALT ${halt.id} has no signature`);
  r.entry = halt.id;
  r.haltId = halt.msg.id;
  r.latency = halt.ms - poll.evaluable;
  const published = await awaitLine(log, seen, (l) => l.event === "halt_published" && l.entry_id === halt.id, 5000);
  r.detectToPublish = published ? published.detect_to_publish_ms : null;
  // from the execution block to the snapshot: relaywatch's 100 ms head poll, mostly
  r.pollWait = r.exeNext !== null && r.detectToPublish !== null ? halt.ms - r.detectToPublish - r.exeNext : null;
  const acked = await awaitLine(log, seen, (l) => l.event === "halt_acknowledged" && l.halt_id === halt.msg.id, ACK_WAIT_MS);
  r.ack = acked ? Date.parse(acked.ts) - halt.ms : null;

  // Mend, then lift the halt the way an operator would.
  const mend = await src.transferAs(env.SIGIL_ADDRESS, DEAD, env.LOCKBOX_ADDRESS, amount);
  r.mendBlock = mend.block;
  const end = Date.now() + VALIDATE_WAIT_MS;
  let v;
  for (;;) {
    v = await run(args.relaywatch, ["validate", "-c", env.RELAYWATCH_CONFIG]);
    if (v.code === 0 || Date.now() > end) break;
    await sleep(250);
  }
  const resumeArgs = ["resume", "-c", env.RELAYWATCH_CONFIG, "--from-last-checkpoint"];
  r.forced = v.code !== 0;
  if (r.forced) {
    const why = v.out.split("\n").find((l) => l.startsWith("SUPPLY_MISMATCH")) || v.out.trim().split("\n").pop();
    note(`round ${n}: validate still fails ${VALIDATE_WAIT_MS / 1000} s after the mend (block ${mend.block}): ${why.replace(/\s+/g, " ")}; resuming with --force`);
    resumeArgs.push("--force", "--reason", `bench_halt round ${n}: lockbox mended in block ${mend.block}; the halted relayer's ledger stopped inside the drained range`);
  }
  const res = await run(args.relaywatch, resumeArgs, { RELAYWATCH_OPERATOR_KEY: env.RELAYWATCH_OPERATOR_KEY });
  if (res.code !== 0) die(`round ${n}: relaywatch ${resumeArgs.join(" ")} exited ${res.code}:\n${res.out}`);
  // A RESUME after a passing validate ends the incident ("halt_lifted"); one
  // forced over a violation ends it once the check passes ("incident_closed").
  const closed = await awaitLine(log, seen, (l) => (l.event === "halt_lifted" || l.event === "incident_closed") && l.halt_id === halt.msg.id && (!r.forced || l.event === "incident_closed"), CLOSE_WAIT_MS);
  if (!closed) die(`round ${n}: relaywatch did not end incident ${halt.msg.id} within ${CLOSE_WAIT_MS / 1000} s of the RESUME; its log since the HALT:\n${seen.map((l) => JSON.stringify(l).slice(0, 300)).join("\n")}`);
  // status.json is written after the cycle that closed it
  for (let i = 0; ; i++) {
    const s = JSON.parse(fs.readFileSync(ctx.statusFile, "utf8"));
    if (!(s.incidents || []).length) break;
    if (i * SLOW_POLL_MS > 5000) die(`round ${n}: ${ctx.statusFile} still lists open incidents 5 s after the incident ended: ${JSON.stringify(s.incidents)}`);
    await sleep(SLOW_POLL_MS);
  }
  return r;
}

// ---------------------------------------------------------------- statistics

const sorted = (xs) => [...xs].sort((a, b) => a - b);
const quantile = (xs, q) => {
  const s = sorted(xs);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
};
function median(xs) {
  if (!xs.length) return NaN;
  const s = sorted(xs);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}
const f1 = (x) => (x === null || x === undefined || !Number.isFinite(x) ? "n/a" : x.toFixed(1));
const summary = (xs) => `p50 ${f1(quantile(xs, 0.5))}  p90 ${f1(quantile(xs, 0.9))}  p99 ${f1(quantile(xs, 0.99))}  max ${f1(Math.max(...xs))}  (n ${xs.length})`;

// ---------------------------------------------------------------- main

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const env = readEnv(args.stackEnv);
  for (const k of ["SOURCE_RPC_URL", "EXEC_RPC_URL", "REDIS_HOST", "REDIS_PORT", "REDIS_PASSWORD", "SIGIL_ADDRESS", "BRIDGED_SIGIL_ADDRESS", "LOCKBOX_ADDRESS", "RELAYWATCH_CONFIG", "RELAYWATCH_LOG", "RELAYWATCH_OPERATOR_KEY", "STACK_DIR"]) {
    if (!env[k]) die(`${args.stackEnv} has no ${k}`);
  }
  const src = new Rpc(env.SOURCE_RPC_URL);
  const exe = new Rpc(env.EXEC_RPC_URL);
  const redis = new Redis(env.REDIS_HOST, env.REDIS_PORT);
  await redis.connect(env.REDIS_PASSWORD);
  const ctx = { env, src, exe, redis, args, stream: "relayer:control", statusFile: `${env.STACK_DIR}/state/status.json`, log: new Log(env.RELAYWATCH_LOG) };
  const conf = fs.readFileSync(env.RELAYWATCH_CONFIG, "utf8");
  const stream = /^\s*control_stream\s*=\s*(\S+)/m.exec(conf);
  if (stream) ctx.stream = stream[1];

  // Enough bridged supply that half of it is a clear violation.
  const warm = Date.now() + 180000;
  for (;;) {
    const supply = await exe.erc20(env.BRIDGED_SIGIL_ADDRESS, "totalSupply");
    if (supply >= MIN_SUPPLY) break;
    if (Date.now() > warm) die(`the bridged supply is still ${supply} after 3 minutes of simulator traffic`);
    await sleep(1000);
  }
  for (let i = 0; i < 200 && !fs.existsSync(ctx.statusFile); i++) await sleep(100);
  if (!fs.existsSync(ctx.statusFile)) die(`relaywatch wrote no ${ctx.statusFile}: is relaywatch run up?`);

  const clockSkew = wallMs() - Date.now();
  const results = [];
  console.log("round  block  entry                 latency_ms  exec_block_wait_ms  head_poll_wait_ms  detect_to_publish_ms  ack_seen_ms  resume");
  for (let n = 1; n <= args.rounds; n++) {
    const r = await round(ctx, n);
    results.push(r);
    console.log(
      `${String(n).padStart(5)}  ${String(r.block).padStart(5)}  ${r.entry.padEnd(20)}  ${f1(r.latency).padStart(10)}  ${f1(r.exeWait).padStart(18)}  ${f1(r.pollWait).padStart(17)}  ${String(r.detectToPublish ?? "n/a").padStart(20)}  ${String(r.ack ?? "n/a").padStart(11)}  ${r.forced ? "forced" : "validated"}`,
    );
    if (r.latency < 0) die(`round ${n}: the HALT (${r.entry}) is older than the moment its block became evaluable: a clock or measurement problem`);
  }
  redis.close();
  const lat = results.map((r) => r.latency);
  const d2p = results.map((r) => r.detectToPublish).filter((x) => x !== null);
  const ew = results.map((r) => r.exeWait).filter((x) => x !== null);
  const ack = results.map((r) => r.ack).filter((x) => x !== null);
  const pw = results.map((r) => r.pollWait).filter((x) => x !== null);
  console.log(`evaluable -> HALT in the stream (ms):     ${summary(lat)}`);
  console.log(`  of which waiting for the next execution block after evaluable: ${summary(ew)}`);
  console.log(`  then until relaywatch's snapshot (its head poll, every 100 ms):   ${summary(pw)}`);
  console.log(`relaywatch detect_to_publish_ms (observe start -> XADD): ${summary(d2p)}`);
  console.log(`HALT -> relaywatch logs the simulator's ack (checked once a cycle): ${summary(ack)}`);
  console.log(`evaluable-moment resolution: poll reply every ${f1(median(results.map((r) => r.pollGapMedian)))} ms (median), window ${f1(median(results.map((r) => r.resolution)))} ms (median), max ${f1(Math.max(...results.map((r) => r.resolution)))} ms; wall clock vs Date.now() ${f1(clockSkew)} ms`);
  console.log(`rounds resumed with --force (validate could not pass with the relayer's ledger inside the drained range): ${results.filter((r) => r.forced).length} of ${results.length}`);
  const p99 = quantile(lat, 0.99);
  console.log(`target: p99 under 250 ms: p99 ${f1(p99)} ms: ${p99 < 250 ? "met" : "NOT met"}`);
}

main().catch((e) => die(e.stack || String(e)));
