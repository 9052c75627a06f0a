#!/usr/bin/env node
// bench_validate.mjs — `relaywatch validate` on 1, 100 and 1000 assets
// against a straightforward script doing the same checks
// (naive_validate.mjs), on a running quiet local stack (scripts/stack-up
// with STACK_SIMULATOR=0 STACK_BLOCK_TIME=0). Run by `scripts/bench validate`.
//
// Usage: node tests/bench/bench_validate.mjs --stack-env FILE --relaywatch BIN
//             [--assets 1,100,1000] [--runs 20] [--work DIR]
//
// For each asset count N, it makes N assets exist on both chains and in
// the ledger, consistently (so every check is valid):
//   - source chain: the deployed SIGIL runtime code copied (anvil_setCode) to
//     N new addresses; each token's _totalSupply (slot 2) and the lockbox's
//     _balances entry (slot 0 mapping) set with anvil_setStorageAt;
//   - execution chain: the bSIGIL code copied to N addresses, _totalSupply and
//     the recipient's balance set the same way;
//   - ledger (as the relayer role): relayer.assets rows, one deposit and one
//     mint per asset whose amounts equal the balances, relayer.chains,
//     nonce_state at the chains' nonces, and chain_progress through the block
//     mined after the state was set;
//   - a configuration: the stack's relaywatch.conf with the N assets in
//     place of SIGIL.
// Assets are added on top of the previous count (1, then 99 more, ...).
//
// Beside relaywatch as configured (Multicall3's aggregate3 for the
// per-asset reads, the stack carrying the contract), the same relaywatch
// with "multicall3 = off" (one eth_call per read, in JSON-RPC batches) runs
// in every round, and bench_cycle's warm cycles of both alternate.
//
// Then, per N: one validate and one naive run must both say valid (any
// other verdict or exit status aborts the benchmark); at the first N, one
// asset's lockbox balance is moved off by one token and both must say
// violated, then it is put back. Each side then runs once through a
// counting proxy (HTTP round trips and JSON-RPC calls per chain), and RUNS
// timed runs alternate between the two (the order flips every round).
// Prints per N the median and p90 of wall time (process start to exit) and
// of the in-process figure (relaywatch's cycle_ms, the script's check_ms),
// the ratio of medians, and the counts.

import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { AbiCoder, id as keccakText, keccak256, toBeHex } from "ethers";
import pg from "pg";
import { readEnv } from "./stack_env.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const NAIVE = path.join(HERE, "naive_validate.mjs");
const SETUP_BATCH = 500; // anvil requests per setup batch
const ONE_TOKEN = 10n ** 18n;

function die(msg) {
  process.stderr.write(`bench_validate: ${msg}\n`);
  process.exit(1);
}

function parseArgs(argv) {
  const a = { assets: [1, 100, 1000], runs: 20, work: null, stackEnv: null, relaywatch: null, benchCycle: null };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i + 1];
    if (v === undefined) die(`missing value for ${argv[i]}`);
    if (argv[i] === "--stack-env") a.stackEnv = v;
    else if (argv[i] === "--relaywatch") a.relaywatch = v;
    else if (argv[i] === "--bench-cycle") a.benchCycle = v;
    else if (argv[i] === "--assets") a.assets = v.split(",").map(Number);
    else if (argv[i] === "--runs") a.runs = Number(v);
    else if (argv[i] === "--work") a.work = v;
    else die(`unknown argument ${argv[i]}`);
    i++;
  }
  if (!a.stackEnv || !a.relaywatch) die("usage: bench_validate.mjs --stack-env FILE --relaywatch BIN [--bench-cycle BIN] [--assets 1,100,1000] [--runs 20] [--work DIR]");
  if (a.assets.some((n, i) => !Number.isInteger(n) || n < 1 || (i > 0 && n <= a.assets[i - 1]))) die("--assets: increasing positive counts");
  a.work = a.work || path.join(path.dirname(a.stackEnv), "bench-validate");
  return a;
}

// ---------------------------------------------------------------- JSON-RPC (setup only: batched)

let rpcId = 0;

async function rpcBatch(url, calls) {
  const out = [];
  for (let i = 0; i < calls.length; i += SETUP_BATCH) {
    const chunk = calls.slice(i, i + SETUP_BATCH).map(([method, params]) => ({ jsonrpc: "2.0", id: ++rpcId, method, params }));
    const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(chunk) });
    if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
    const replies = await res.json();
    const byId = new Map(replies.map((r) => [r.id, r]));
    for (const req of chunk) {
      const r = byId.get(req.id);
      if (!r || r.error) throw new Error(`${req.method} @ ${url}: ${r ? r.error.message : "no reply"}`);
      out.push(r.result);
    }
  }
  return out;
}

const rpc = async (url, method, params = []) => (await rpcBatch(url, [[method, params]]))[0];

// ---------------------------------------------------------------- the bridge state

const word = (n) => toBeHex(n, 32);
const balanceSlot = (holder) => keccak256(AbiCoder.defaultAbiCoder().encode(["address", "uint256"], [holder, 0]));
const TOTAL_SUPPLY_SLOT = word(2n);
const addr = (prefix, i) => "0x" + prefix + i.toString(16).padStart(38, "0");
const assetName = (i) => "A" + String(i).padStart(4, "0");
const amountOf = (i) => BigInt(i) * ONE_TOKEN + BigInt(i);

class Bridge {
  constructor(env) {
    this.env = env;
    this.src = env.SOURCE_RPC_URL;
    this.exe = env.EXEC_RPC_URL;
    this.lockbox = env.LOCKBOX_ADDRESS;
    this.user = env.USER_ADDRESSES.split(",")[0];
    this.relayer = env.RELAYER_ADDRESS;
    this.count = 0;
  }

  async open() {
    this.db = new pg.Client({ connectionString: this.env.RELAYER_DATABASE_URL });
    await this.db.connect();
    this.srcCode = await rpc(this.src, "eth_getCode", [this.env.SIGIL_ADDRESS, "latest"]);
    this.exeCode = await rpc(this.exe, "eth_getCode", [this.env.BRIDGED_SIGIL_ADDRESS, "latest"]);
    if (this.srcCode.length < 100 || this.exeCode.length < 100) throw new Error("the stack's tokens have no code");
    const nonce = async (url) => BigInt(await rpc(url, "eth_getTransactionCount", [this.relayer, "latest"]));
    await this.db.query("BEGIN");
    await this.db.query("INSERT INTO relayer.chains (chain_id, role) VALUES ($1, 'source'), ($2, 'execution')", [this.env.SOURCE_CHAIN_ID, this.env.EXEC_CHAIN_ID]);
    await this.db.query("INSERT INTO relayer.chain_progress (chain_id, indexed_through) VALUES ($1, 0), ($2, 0)", [this.env.SOURCE_CHAIN_ID, this.env.EXEC_CHAIN_ID]);
    await this.db.query("INSERT INTO relayer.nonce_state (chain_id, account, next_nonce) VALUES ($1, decode($3, 'hex'), $4), ($2, decode($3, 'hex'), $5)", [
      this.env.SOURCE_CHAIN_ID,
      this.env.EXEC_CHAIN_ID,
      this.relayer.slice(2),
      (await nonce(this.src)).toString(),
      (await nonce(this.exe)).toString(),
    ]);
    await this.db.query("COMMIT");
  }

  // Mines one block on each chain and tells the ledger it has indexed it.
  async settle() {
    await rpc(this.src, "evm_mine");
    await rpc(this.exe, "evm_mine");
    const s = BigInt(await rpc(this.src, "eth_blockNumber"));
    const e = BigInt(await rpc(this.exe, "eth_blockNumber"));
    return { s, e };
  }

  async progress(blocks) {
    await this.db.query("UPDATE relayer.chain_progress SET indexed_through = $2, updated_at = now() WHERE chain_id = $1", [this.env.SOURCE_CHAIN_ID, blocks.s.toString()]);
    await this.db.query("UPDATE relayer.chain_progress SET indexed_through = $2, updated_at = now() WHERE chain_id = $1", [this.env.EXEC_CHAIN_ID, blocks.e.toString()]);
  }

  // Assets count+1 .. n on both chains and in the ledger.
  async grow(n) {
    const srcCalls = [];
    const exeCalls = [];
    const rows = { name: [], src: [], exe: [], amount: [], nonce: [], tx: [] };
    for (let i = this.count + 1; i <= n; i++) {
      const s = addr("5a", i);
      const e = addr("ba", i);
      const amount = word(amountOf(i));
      srcCalls.push(["anvil_setCode", [s, this.srcCode]], ["anvil_setStorageAt", [s, TOTAL_SUPPLY_SLOT, amount]], ["anvil_setStorageAt", [s, balanceSlot(this.lockbox), amount]]);
      exeCalls.push(["anvil_setCode", [e, this.exeCode]], ["anvil_setStorageAt", [e, TOTAL_SUPPLY_SLOT, amount]], ["anvil_setStorageAt", [e, balanceSlot(this.user), amount]]);
      rows.name.push(assetName(i));
      rows.src.push(s.slice(2));
      rows.exe.push(e.slice(2));
      rows.amount.push(amountOf(i).toString());
      rows.nonce.push(String(i));
      rows.tx.push(keccakText(`bench deposit ${i}`).slice(2));
    }
    await rpcBatch(this.src, srcCalls);
    await rpcBatch(this.exe, exeCalls);
    const blocks = await this.settle();
    await this.db.query("BEGIN");
    await this.db.query(
      `INSERT INTO relayer.assets (symbol, decimals, source_token, bridged_token)
       SELECT n, 18, decode(s, 'hex'), decode(e, 'hex') FROM unnest($1::text[], $2::text[], $3::text[]) AS t(n, s, e)`,
      [rows.name, rows.src, rows.exe],
    );
    await this.db.query(
      `INSERT INTO relayer.deposits (asset_id, deposit_nonce, depositor, recipient, amount, tx_hash, log_index, block_number)
       SELECT a.asset_id, t.nonce::numeric, decode($5, 'hex'), decode($5, 'hex'), t.amount::numeric, decode(t.tx, 'hex'), 0, $6
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS t(name, amount, nonce, tx)
       JOIN relayer.assets a ON a.symbol = t.name`,
      [rows.name, rows.amount, rows.nonce, rows.tx, this.user.slice(2), blocks.s.toString()],
    );
    await this.db.query(
      `INSERT INTO relayer.mints (deposit_id, asset_id, recipient, amount, tx_hash, block_number)
       SELECT d.deposit_id, d.asset_id, d.recipient, d.amount, sha256(d.tx_hash), $1
       FROM relayer.deposits d WHERE NOT EXISTS (SELECT 1 FROM relayer.mints m WHERE m.deposit_id = d.deposit_id)`,
      [blocks.e.toString()],
    );
    await this.progress(blocks);
    await this.db.query("COMMIT");
    this.count = n;
  }

  // Moves asset 1's lockbox balance by `delta` base units and has the ledger index that block.
  async nudge(delta) {
    const s = addr("5a", 1);
    await rpc(this.src, "anvil_setStorageAt", [s, balanceSlot(this.lockbox), word(amountOf(1) + delta)]);
    await this.progress(await this.settle());
  }

  async close() {
    await this.db.end();
  }
}

// The stack's configuration with assets 1..n in place of its own.
// multicall3: true keeps the default (aggregate3 at the standard address,
// which the stack carries); false writes "multicall3 = off" on both chains.
function writeConfig(base, n, file, endpoints = null, multicall3 = true) {
  let text = base.replace(/^\[asset [^\]]+\]\n(?:(?!\[)[^\n]*\n)*/gm, "");
  if (!multicall3) text = text.replace(/^(\[chain (?:source|execution)\]\n)/gm, "$1multicall3 = off\n");
  if (endpoints) {
    text = text.replace(/(\[chain source\]\n(?:(?!\[)[^\n]*\n)*?)endpoints = [^\n]*/, `$1endpoints = ${endpoints.source}`);
    text = text.replace(/(\[chain execution\]\n(?:(?!\[)[^\n]*\n)*?)endpoints = [^\n]*/, `$1endpoints = ${endpoints.execution}`);
  }
  const sections = [];
  for (let i = 1; i <= n; i++) sections.push(`[asset ${assetName(i)}]\nsource_token = ${addr("5a", i)}\nbridged_token = ${addr("ba", i)}\ndecimals = 18\n`);
  fs.writeFileSync(file, text.trimEnd() + "\n\n" + sections.join("\n"), { mode: 0o600 });
}

// ---------------------------------------------------------------- counting proxy

// Forwards POSTs to `target` and counts round trips and JSON-RPC calls.
async function countingProxy(target) {
  const counts = { trips: 0, calls: 0, largest: 0 };
  const server = http.createServer(async (req, res) => {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const body = Buffer.concat(chunks).toString("utf8");
    let n = 1;
    try {
      const parsed = JSON.parse(body);
      n = Array.isArray(parsed) ? parsed.length : 1;
    } catch {
      /* forwarded as it is: anvil answers the error */
    }
    counts.trips++;
    counts.calls += n;
    counts.largest = Math.max(counts.largest, n);
    const up = await fetch(target, { method: "POST", headers: { "content-type": "application/json" }, body });
    const text = await up.text();
    res.writeHead(up.status, { "content-type": "application/json" });
    res.end(text);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${server.address().port}`, counts, close: () => new Promise((r) => server.close(r)) };
}

// ---------------------------------------------------------------- running and timing

function run(cmd, args) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, out, err, wallMs: Number(process.hrtime.bigint() - t0) / 1e6 }));
  });
}

function lastJson(r, who) {
  const line = r.out.trim().split("\n").pop();
  try {
    return JSON.parse(line);
  } catch {
    die(`${who} printed no JSON (exit ${r.code}): ${r.out}${r.err}`);
  }
}

async function relaywatch(bin, conf) {
  const r = await run(bin, ["validate", "-c", conf, "--json"]);
  const j = lastJson(r, "relaywatch validate");
  // Where the cycle went: observe_ms (both chains and the ledger read) is in
  // HIGH_LATENCY's evidence, each ledger query's time in LEDGER_QUERY_TIME's.
  const ev = (name) => j.checks?.find((c) => c.check === name)?.evidence || {};
  const observeMs = ev("HIGH_LATENCY").observe_ms;
  const ledgerMs = (ev("LEDGER_QUERY_TIME").queries || []).reduce((sum, q) => sum + q.ms, 0);
  return { code: r.code, result: j.result, ms: j.cycle_ms, observeMs, ledgerMs, wallMs: r.wallMs, json: j, err: r.err };
}

async function naive(conf) {
  const r = await run(process.execPath, [NAIVE, "-c", conf, "--json"]);
  const j = lastJson(r, "naive_validate");
  return { code: r.code, result: j.result, ms: j.check_ms, wallMs: r.wallMs, json: j, err: r.err };
}

function expect(r, who, result, code) {
  if (r.result !== result || r.code !== code) {
    const detail = who === "relaywatch" ? JSON.stringify(r.json.checks?.filter((c) => c.status !== "ok").map((c) => `${c.check}: ${c.summary}`)) : JSON.stringify(r.json.problems);
    die(`${who} said ${r.result} (exit ${r.code}) where ${result} (exit ${code}) was expected: ${detail} ${r.err}`);
  }
}

const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
};
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : "n/a");

// ---------------------------------------------------------------- main

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const env = readEnv(args.stackEnv);
  const base = fs.readFileSync(env.RELAYWATCH_CONFIG, "utf8");
  fs.mkdirSync(args.work, { recursive: true });
  const bridge = new Bridge(env);
  await bridge.open();
  const results = [];

  for (const [k, n] of args.assets.entries()) {
    const t = Date.now();
    await bridge.grow(n);
    const conf = path.join(args.work, `validate-${n}.conf`);
    writeConfig(base, n, conf);
    // The same reads one eth_call each (in JSON-RPC batches), side by side.
    const confBatched = path.join(args.work, `validate-${n}-batched.conf`);
    writeConfig(base, n, confBatched, null, false);
    const cc = await run(args.relaywatch, ["check-config", "-c", conf]);
    if (cc.code !== 0) {
      const lines = (cc.out + cc.err).trim().split("\n");
      const shown = lines.length > 6 ? [...lines.slice(0, 4), `... ${lines.length - 5} more lines ...`, lines[lines.length - 1]] : lines;
      die(`relaywatch check-config refuses the ${n}-asset configuration:\n${shown.join("\n")}`);
    }
    process.stderr.write(`bench_validate: ${n} asset(s) set up in ${Date.now() - t} ms\n`);

    // Both must agree, and both must be able to disagree.
    expect(await relaywatch(args.relaywatch, conf), "relaywatch", "valid", 0);
    expect(await relaywatch(args.relaywatch, confBatched), "relaywatch (multicall3 off)", "valid", 0);
    expect(await naive(conf), "naive script", "valid", 0);
    if (k === 0) {
      await bridge.nudge(ONE_TOKEN);
      expect(await relaywatch(args.relaywatch, conf), "relaywatch", "violated", 1);
      expect(await naive(conf), "naive script", "violated", 1);
      await bridge.nudge(0n);
      expect(await relaywatch(args.relaywatch, conf), "relaywatch", "valid", 0);
      expect(await naive(conf), "naive script", "valid", 0);
    }

    // Round trips and calls, through a counting proxy.
    const counted = {};
    for (const who of ["relaywatch", "batched", "naive"]) {
      const ps = await countingProxy(env.SOURCE_RPC_URL);
      const pe = await countingProxy(env.EXEC_RPC_URL);
      const pconf = path.join(args.work, `validate-${n}-counted.conf`);
      writeConfig(base, n, pconf, { source: ps.url, execution: pe.url }, who !== "batched");
      const r = who === "naive" ? await naive(pconf) : await relaywatch(args.relaywatch, pconf);
      expect(r, who, "valid", 0);
      counted[who] = { source: { ...ps.counts }, execution: { ...pe.counts } };
      await ps.close();
      await pe.close();
    }

    // Timed, alternating.
    const rw = [];
    const bt = [];
    const nv = [];
    const orders = [["relaywatch", "batched", "naive"], ["batched", "naive", "relaywatch"], ["naive", "relaywatch", "batched"]];
    for (let round = 0; round < args.runs; round++) {
      for (const who of orders[round % 3]) {
        const r = who === "naive" ? await naive(conf) : await relaywatch(args.relaywatch, who === "batched" ? confBatched : conf);
        expect(r, who, "valid", 0);
        ({ relaywatch: rw, batched: bt, naive: nv })[who].push(r);
      }
    }
    const stat = (rs, key) => ({ median: median(rs.map((r) => r[key])), p90: quantile(rs.map((r) => r[key]), 0.9) });
    const row = {
      assets: n,
      relaywatch: { cycle: stat(rw, "ms"), wall: stat(rw, "wallMs"), observe: stat(rw, "observeMs"), ledger: stat(rw, "ledgerMs") },
      batched: { cycle: stat(bt, "ms"), wall: stat(bt, "wallMs"), observe: stat(bt, "observeMs") },
      naive: { check: stat(nv, "ms"), wall: stat(nv, "wallMs") },
      counted,
    };
    row.ratio = { inProcess: row.naive.check.median / row.relaywatch.cycle.median, wall: row.naive.wall.median / row.relaywatch.wall.median };
    // The supervisor's cycle: one process, connections kept (bench_cycle).
    // Multicall3 and batched calls alternate in blocks of a process each.
    if (args.benchCycle) {
      const warm = { relaywatch: [], batched: [] };
      for (let round = 0; round < 4; round++) {
        for (const who of round % 2 === 0 ? ["relaywatch", "batched"] : ["batched", "relaywatch"]) {
          const r = await run(args.benchCycle, [who === "batched" ? confBatched : conf, String(Math.ceil(args.runs / 2) + 1)]);
          if (r.code !== 0) die(`bench_cycle failed (exit ${r.code}):\n${r.out}${r.err}`);
          for (const m of r.out.matchAll(/^cycle (\d+): (\d+) ms/gm)) if (Number(m[1]) > 1) warm[who].push(Number(m[2]));
        }
      }
      if (warm.relaywatch.length === 0 || warm.batched.length === 0) die("bench_cycle printed no warm cycle times");
      row.warm = { median: median(warm.relaywatch), p90: quantile(warm.relaywatch, 0.9) };
      row.warmBatched = { median: median(warm.batched), p90: quantile(warm.batched, 0.9) };
    }
    results.push(row);
    const c = (x) => `${x.source.trips}+${x.execution.trips} round trips, ${x.source.calls}+${x.execution.calls} calls (largest batch ${Math.max(x.source.largest, x.execution.largest)})`;
    console.log(`${n} asset(s), ${args.runs} alternating runs each:`);
    console.log(`  relaywatch validate  cycle_ms median ${f1(row.relaywatch.cycle.median)} (p90 ${f1(row.relaywatch.cycle.p90)}), wall median ${f1(row.relaywatch.wall.median)} ms (p90 ${f1(row.relaywatch.wall.p90)})`);
    console.log(
      `    of which observe (chains + ledger) median ${f1(row.relaywatch.observe.median)} ms, ledger queries ${f1(row.relaywatch.ledger.median)} ms; evaluating the checks the rest`,
    );
    console.log(`  relaywatch, multicall3 = off (one eth_call per read, batched): cycle_ms median ${f1(row.batched.cycle.median)} (p90 ${f1(row.batched.cycle.p90)}), wall median ${f1(row.batched.wall.median)} ms (p90 ${f1(row.batched.wall.p90)}); Multicall3 / batched wall ${(row.relaywatch.wall.median / row.batched.wall.median).toFixed(2)}x`);
    if (row.warm) {
      console.log(`  warm cycle (bench_cycle: one process, connections kept, as relaywatch run) median ${row.warm.median} ms (p90 ${row.warm.p90})`);
      console.log(`    the same with multicall3 = off: median ${row.warmBatched.median} ms (p90 ${row.warmBatched.p90}); Multicall3 / batched ${(row.warm.median / row.warmBatched.median).toFixed(2)}x`);
    }
    console.log(`  naive script         check_ms median ${f1(row.naive.check.median)} (p90 ${f1(row.naive.check.p90)}), wall median ${f1(row.naive.wall.median)} ms (p90 ${f1(row.naive.wall.p90)})`);
    console.log(`  ratio (naive / relaywatch): in-process ${row.ratio.inProcess.toFixed(1)}x, wall ${row.ratio.wall.toFixed(1)}x`);
    console.log(`  JSON-RPC, source+execution: relaywatch ${c(counted.relaywatch)}; multicall3 off ${c(counted.batched)}; naive ${c(counted.naive)}`);
  }
  await bridge.close();
  fs.writeFileSync(path.join(args.work, "results.json"), JSON.stringify(results, null, 2) + "\n");
  const at1000 = results.find((r) => r.assets === 1000);
  if (at1000) {
    const ms = at1000.relaywatch.cycle.median;
    const wall = at1000.relaywatch.wall.median;
    console.log(`target: 1000 assets, a fresh validate under 100 ms: wall median ${f1(wall)} ms (cycle_ms ${f1(ms)}): ${wall < 100 ? "met" : "NOT met"}`);
    if (at1000.warm) console.log(`        1000 assets, the warm cycle under 25 ms: median ${at1000.warm.median} ms: ${at1000.warm.median < 25 ? "met" : "NOT met"}`);
  }
}

main().catch((e) => die(e.stack || String(e)));
