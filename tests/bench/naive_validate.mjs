#!/usr/bin/env node
// naive_validate.mjs — the yardstick of `scripts/bench validate`: the checks
// of `relaywatch validate` that compare the chains with the ledger, written
// the way a user might write them without relaywatch. Node with ethers (one
// JSON-RPC call per read, each awaited before the next; no batching) and pg
// (one query per read, through the same `relaywatch` contract views and
// functions relaywatch reads).
//
// Usage: node tests/bench/naive_validate.mjs -c relaywatch.conf [--json]
//
// It reads the same configuration file as relaywatch ([database] url,
// [chain source]/[chain execution] endpoints, confirmations, deploy_block,
// lockbox, root_registry, log_chunk_blocks, every [asset NAME] with its
// tolerance, [relayer] accounts, [thresholds] nonce_gap) and checks:
//   - per asset, at heights pinned to min(head - confirmations, what the
//     ledger has indexed): lockbox balanceOf against the ledger's deposits
//     minus releases, bridged totalSupply against mints minus burns, and
//     totalSupply <= lockbox balance, each within the asset's tolerance
//     (SUPPLY_MISMATCH);
//   - per relayer account and chain: the ledger's next nonce against the
//     chain's nonce at the pinned block and pending (NONCE_DESYNC);
//   - per anchored ledger batch: roots(batch) in the RootRegistry equals the
//     ledger's root; every RootAnchored log's root is known to the ledger
//     under its batch number; no root or batch number twice (DUPLICATE_BATCH,
//     without relaywatch's signature and merkle proof checks).
// Prints "VALID" or "VIOLATED: ..." (or one JSON object with --json) and
// exits 0 when valid, 1 when violated, 2 when it could not check. The
// check_ms it reports runs from the first read to the verdict (module
// loading excluded), like relaywatch's cycle_ms.

import fs from "node:fs";
import { performance } from "node:perf_hooks";
import { Contract, JsonRpcProvider, Network, id as eventTopic } from "ethers";
import pg from "pg";

const ERC20_ABI = ["function balanceOf(address) view returns (uint256)", "function totalSupply() view returns (uint256)"];
const REGISTRY_ABI = ["function roots(uint256) view returns (bytes32)"];
const ROOT_ANCHORED = eventTopic("RootAnchored(uint256,bytes32,address)");

function fail(msg) {
  process.stderr.write(`naive_validate: ${msg}\n`);
  process.exit(2);
}

// A minimal INI reader for relaywatch.conf: sections, key = value, ; and # comments, ${ENV}.
function readConfig(file) {
  const sections = new Map();
  let cur = null;
  for (const raw of fs.readFileSync(file, "utf8").split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith(";") || line.startsWith("#")) continue;
    const sec = line.match(/^\[(.+)\]$/);
    if (sec) {
      cur = new Map();
      sections.set(sec[1].trim().replace(/\s+/g, " "), cur);
      continue;
    }
    const eq = line.indexOf("=");
    if (cur === null || eq < 0) fail(`${file}: cannot read line: ${raw}`);
    const value = line.slice(eq + 1).trim().replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name) => {
      if (process.env[name] === undefined) fail(`${file}: \${${name}} is not set`);
      return process.env[name];
    });
    cur.set(line.slice(0, eq).trim(), value);
  }
  const need = (name) => sections.get(name) || fail(`${file}: no [${name}] section`);
  const chain = (name) => {
    const s = need(`chain ${name}`);
    return {
      chainId: BigInt(s.get("chain_id")),
      endpoint: s.get("endpoints").split(",")[0].trim(),
      confirmations: BigInt(s.get("confirmations") || "0"),
      deployBlock: BigInt(s.get("deploy_block") || "0"),
      logChunk: BigInt(s.get("log_chunk_blocks") || "2000"),
      lockbox: s.get("lockbox"),
      registry: s.get("root_registry"),
    };
  };
  const assets = [];
  for (const [name, s] of sections) {
    if (!name.startsWith("asset ")) continue;
    const decimals = Number(s.get("decimals"));
    assets.push({
      name: name.slice(6),
      decimals,
      sourceToken: s.get("source_token").toLowerCase(),
      bridgedToken: s.get("bridged_token").toLowerCase(),
      tolerance: s.has("tolerance") ? units(s.get("tolerance"), decimals) : decimals >= 3 ? 10n ** BigInt(decimals - 3) : 0n,
    });
  }
  const thresholds = sections.get("thresholds") || new Map();
  return {
    databaseUrl: need("database").get("url"),
    source: chain("source"),
    execution: chain("execution"),
    assets,
    accounts: need("relayer").get("accounts").split(",").map((a) => a.trim().toLowerCase()),
    nonceGap: BigInt(thresholds.get("nonce_gap") || "5"),
  };
}

// "1.5" of a token with `decimals` decimals, in base units.
function units(text, decimals) {
  const [whole, frac = ""] = text.split(".");
  if (frac.length > decimals) fail(`tolerance ${text} has more than ${decimals} decimals`);
  return BigInt(whole || "0") * 10n ** BigInt(decimals) + BigInt(frac.padEnd(decimals, "0") || "0");
}

function provider(chain) {
  const network = Network.from(chain.chainId);
  // batchMaxCount 1: every request goes alone, as most scripts do.
  return new JsonRpcProvider(chain.endpoint, network, { staticNetwork: network, batchMaxCount: 1 });
}

async function main() {
  const args = process.argv.slice(2);
  let configFile = null;
  let json = false;
  for (let i = 0; i < args.length; i++) {
    if ((args[i] === "-c" || args[i] === "--config") && i + 1 < args.length) configFile = args[++i];
    else if (args[i] === "--json") json = true;
    else fail(`unexpected argument ${args[i]} (usage: naive_validate.mjs -c FILE [--json])`);
  }
  if (configFile === null) fail("usage: naive_validate.mjs -c FILE [--json]");
  const cfg = readConfig(configFile);
  const problems = [];

  const started = performance.now();
  const db = new pg.Client({ connectionString: cfg.databaseUrl });
  await db.connect();
  const chains = { source: cfg.source, execution: cfg.execution };
  const rpc = { source: provider(cfg.source), execution: provider(cfg.execution) };

  // Where the ledger is, then where the chains are; read both at the lower.
  const indexed = (await db.query("SELECT chain_id, role, indexed_through FROM relaywatch.indexed_through")).rows;
  const pinned = {};
  for (const role of ["source", "execution"]) {
    const head = BigInt(await rpc[role].getBlockNumber());
    const row = indexed.find((r) => BigInt(r.chain_id) === chains[role].chainId);
    if (!row || row.indexed_through === null) fail(`the ledger has recorded nothing of the ${role} chain`);
    const base = head > chains[role].confirmations ? head - chains[role].confirmations : 0n;
    pinned[role] = BigInt(row.indexed_through) < base ? BigInt(row.indexed_through) : base;
    await rpc[role].getBlock(pinned[role]); // the pinned block's hash, as relaywatch reports it
  }
  const at = (role) => ({ blockTag: Number(pinned[role]) });

  // The ledger's figures.
  const ledgerAssets = new Map((await db.query("SELECT asset, decimals, source_token, bridged_token FROM relaywatch.assets")).rows.map((r) => [r.asset, r]));
  const locked = new Map(
    (await db.query("SELECT asset, credited, debited FROM relaywatch.locked_in_range($1, $2)", [-1, pinned.source.toString()])).rows.map((r) => [r.asset, BigInt(r.credited) - BigInt(r.debited)]),
  );
  const minted = new Map(
    (await db.query("SELECT asset, credited, debited FROM relaywatch.minted_in_range($1, $2)", [-1, pinned.execution.toString()])).rows.map((r) => [r.asset, BigInt(r.credited) - BigInt(r.debited)]),
  );

  // SUPPLY_MISMATCH, one asset at a time.
  for (const a of cfg.assets) {
    const balance = await new Contract(a.sourceToken, ERC20_ABI, rpc.source).balanceOf(cfg.source.lockbox, at("source"));
    const supply = await new Contract(a.bridgedToken, ERC20_ABI, rpc.execution).totalSupply(at("execution"));
    const l = ledgerAssets.get(a.name);
    if (!l || l.source_token !== a.sourceToken || l.bridged_token !== a.bridgedToken || l.decimals !== a.decimals) {
      problems.push(`${a.name}: the ledger does not describe it as the configuration does`);
      continue;
    }
    const abs = (x) => (x < 0n ? -x : x);
    const ledgerLocked = locked.get(a.name) ?? 0n;
    const ledgerMinted = minted.get(a.name) ?? 0n;
    if (abs(balance - ledgerLocked) > a.tolerance) problems.push(`${a.name} locked: lockbox balance ${balance} vs ledger ${ledgerLocked}`);
    if (abs(supply - ledgerMinted) > a.tolerance) problems.push(`${a.name} minted: totalSupply ${supply} vs ledger ${ledgerMinted}`);
    if (supply > balance + a.tolerance) problems.push(`${a.name} backing: totalSupply ${supply} exceeds lockbox balance ${balance}`);
  }

  // NONCE_DESYNC, one account and chain at a time.
  const nonces = (await db.query("SELECT chain_id, account, next_nonce FROM relaywatch.expected_nonces")).rows;
  for (const role of ["source", "execution"]) {
    for (const account of cfg.accounts) {
      const latest = BigInt(await rpc[role].getTransactionCount(account, Number(pinned[role])));
      const pending = BigInt(await rpc[role].getTransactionCount(account, "pending"));
      const row = nonces.find((r) => BigInt(r.chain_id) === chains[role].chainId && r.account === account);
      const next = row ? BigInt(row.next_nonce) : 0n;
      if (latest > next) problems.push(`${account} on ${role}: chain nonce ${latest} ahead of the ledger's ${next}`);
      else if (next > pending && next - pending > cfg.nonceGap) problems.push(`${account} on ${role}: ledger nonce ${next} ahead of pending ${pending}`);
    }
  }

  // DUPLICATE_BATCH: anchored roots against the ledger's batches, one batch at a time.
  const batches = (await db.query("SELECT batch_number, merkle_root, status FROM relaywatch.batches_after($1, $2)", [0, 100000])).rows;
  const registry = new Contract(cfg.source.registry, REGISTRY_ABI, rpc.source);
  for (const b of batches) {
    if (b.status !== "anchored") continue;
    const root = await registry.roots(b.batch_number, at("source"));
    if (root.toLowerCase() !== b.merkle_root) problems.push(`batch ${b.batch_number}: registry root ${root} vs ledger ${b.merkle_root}`);
  }
  const anchors = [];
  for (let from = cfg.source.deployBlock; from <= pinned.source; from += cfg.source.logChunk) {
    const to = from + cfg.source.logChunk - 1n < pinned.source ? from + cfg.source.logChunk - 1n : pinned.source;
    const logs = await rpc.source.getLogs({ address: cfg.source.registry, topics: [ROOT_ANCHORED], fromBlock: Number(from), toBlock: Number(to) });
    for (const log of logs) anchors.push({ batch: BigInt(log.topics[1]), root: log.topics[2].toLowerCase() });
  }
  if (anchors.length > 0) {
    const known = (await db.query("SELECT merkle_root, batch_number FROM relaywatch.batches_with_roots($1)", [anchors.map((x) => x.root)])).rows;
    for (const x of anchors) {
      if (!known.some((k) => k.merkle_root === x.root && BigInt(k.batch_number) === x.batch)) problems.push(`anchored root ${x.root} (batch ${x.batch}) unknown to the ledger`);
    }
  }
  const dups = (await db.query("SELECT kind, value FROM relaywatch.duplicate_batches")).rows;
  for (const d of dups) problems.push(`${d.kind} ${d.value} appears more than once in the ledger`);

  const checkMs = performance.now() - started;
  await db.end();
  rpc.source.destroy();
  rpc.execution.destroy();
  if (json) {
    process.stdout.write(
      JSON.stringify({
        result: problems.length === 0 ? "valid" : "violated",
        problems,
        check_ms: Number(checkMs.toFixed(2)),
        assets: cfg.assets.length,
        pinned: { source: Number(pinned.source), execution: Number(pinned.execution) },
      }) + "\n",
    );
  } else {
    for (const p of problems) process.stdout.write(`${p}\n`);
    process.stdout.write(problems.length === 0 ? "VALID\n" : `VIOLATED: ${problems.length} problem(s)\n`);
    process.stdout.write(`checked ${cfg.assets.length} assets in ${checkMs.toFixed(1)} ms\n`);
  }
  return problems.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e) => fail(e.stack || String(e)),
);
