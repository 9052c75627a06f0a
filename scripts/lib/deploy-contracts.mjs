#!/usr/bin/env node
// deploy-contracts.mjs — compile the local test bridge contracts with solc-js
// and deploy them onto two running (anvil) chains.
//
// Usage:
//   node scripts/lib/deploy-contracts.mjs --source-rpc URL --exec-rpc URL \
//        --contracts DIR --out FILE [--artifacts DIR]
//
// 1. Compiles every *.sol in --contracts (standard JSON, optimizer on,
//    evmVersion cancun); @openzeppelin/... imports resolve from the
//    node_modules next to this repo (found from this script's location).
//    Compile errors -> stderr, exit 1. --artifacts DIR gets <Name>.json {abi, bytecode}.
// 2. Uses anvil's unlocked accounts (eth_accounts): [0] deployer, [1] relayer,
//    [2..4] users; sends transactions with eth_sendTransaction and waits for
//    each receipt (status must be 0x1).
// 3. Source chain: SigilToken(deployer, 1e24), RootRegistry(relayer),
//    Lockbox(registry), then 10,000 SIGIL to each user.
//    Execution chain: BridgedToken(minter = relayer).
//    Both chains: Multicall3, whose code is then copied (anvil_setCode) to
//    the address the contract has on public chains (MULTICALL3_ADDRESS),
//    unless something is there already.
// 4. Reads the state back with eth_call and exits 1 on any mismatch.
// 5. Writes --out atomically as KEY=value lines, with the first block of each
//    deployment and the block at which the verified state holds (*_READY_BLOCK).
//    Logs go to stderr; stdout stays empty.

import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";

const SCRIPT_DIR = path.dirname(fileURLToPath(import.meta.url));
const REPO_DIR = path.resolve(SCRIPT_DIR, "..", "..");
const NODE_MODULES = path.join(REPO_DIR, "node_modules");
const require = createRequire(path.join(REPO_DIR, "package.json"));

const EVM_VERSION = "cancun";
const RPC_TIMEOUT_MS = 10_000;
const RECEIPT_POLL_MS = 50;
const RECEIPT_TIMEOUT_MS = 30_000;
const SIGIL_DECIMALS = 18n;
const SIGIL_INITIAL_SUPPLY = 1_000_000n * 10n ** SIGIL_DECIMALS; // 10^24
const USER_GRANT = 10_000n * 10n ** SIGIL_DECIMALS; // 10^22
const MULTICALL3_ADDRESS = "0xca11bde05977b3631167028862be2a173976ca11";

function die(msg) {
  process.stderr.write(`deploy-contracts: ${msg}\n`);
  process.exit(1);
}

function log(msg) {
  process.stderr.write(`deploy-contracts: ${msg}\n`);
}

function parseArgs(argv) {
  const known = { "--source-rpc": "sourceRpc", "--exec-rpc": "execRpc", "--contracts": "contracts", "--out": "out", "--artifacts": "artifacts" };
  const args = {};
  for (let i = 0; i < argv.length; i++) {
    const key = known[argv[i]];
    if (!key) die(`unknown argument: ${argv[i]}`);
    if (i + 1 >= argv.length) die(`missing value for ${argv[i]}`);
    args[key] = argv[++i];
  }
  for (const req of ["sourceRpc", "execRpc", "contracts", "out"]) {
    if (!args[req]) die("usage: deploy-contracts.mjs --source-rpc URL --exec-rpc URL --contracts DIR --out FILE [--artifacts DIR]");
  }
  return args;
}

// ---------------------------------------------------------------- compile

function compile(dir) {
  const solc = require("solc");
  const files = fs.readdirSync(dir).filter((f) => f.endsWith(".sol")).sort();
  if (files.length === 0) die(`no *.sol files in ${dir}`);
  const sources = {};
  for (const f of files) sources[f] = { content: fs.readFileSync(path.join(dir, f), "utf8") };

  const input = {
    language: "Solidity",
    sources,
    settings: {
      optimizer: { enabled: true, runs: 200 },
      evmVersion: EVM_VERSION,
      outputSelection: { "*": { "*": ["abi", "evm.bytecode.object", "evm.methodIdentifiers"] } },
    },
  };

  const findImports = (p) => {
    if (!p.startsWith("@openzeppelin/")) return { error: `import not found: ${p}` };
    const file = path.join(NODE_MODULES, p);
    try {
      return { contents: fs.readFileSync(file, "utf8") };
    } catch (e) {
      return { error: `cannot read ${file}: ${e.message}` };
    }
  };

  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }));
  const diags = output.errors || [];
  const errors = diags.filter((d) => d.severity === "error");
  for (const d of diags) process.stderr.write(d.formattedMessage || `${d.severity}: ${d.message}\n`);
  if (errors.length > 0) die(`compilation failed with ${errors.length} error(s) (solc ${solc.version()})`);

  // Keep only contracts defined in the project's own files (not OpenZeppelin's).
  const contracts = {};
  for (const f of files) {
    for (const [name, c] of Object.entries(output.contracts[f] || {})) {
      if (!c.evm.bytecode.object) continue; // interfaces / abstract contracts
      contracts[name] = { abi: c.abi, bytecode: "0x" + c.evm.bytecode.object, methods: c.evm.methodIdentifiers };
    }
  }
  return contracts;
}

function writeArtifacts(dir, contracts) {
  fs.mkdirSync(dir, { recursive: true });
  for (const [name, c] of Object.entries(contracts)) {
    fs.writeFileSync(path.join(dir, `${name}.json`), JSON.stringify({ abi: c.abi, bytecode: c.bytecode }, null, 2) + "\n");
  }
}

// ---------------------------------------------------------------- JSON-RPC

let rpcId = 0;

async function rpc(url, method, params = []) {
  let res;
  try {
    res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: ++rpcId, method, params }),
      signal: AbortSignal.timeout(RPC_TIMEOUT_MS),
    });
  } catch (e) {
    throw new Error(`${method} @ ${url}: request failed: ${e.cause?.message || e.message}`);
  }
  if (!res.ok) throw new Error(`${method} @ ${url}: HTTP ${res.status} ${res.statusText}`);
  const body = await res.json();
  if (body.error) {
    const data = body.error.data ? ` data=${JSON.stringify(body.error.data)}` : "";
    throw new Error(`${method} @ ${url}: RPC error ${body.error.code}: ${body.error.message}${data}`);
  }
  return body.result;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitReceipt(url, hash, what) {
  const deadline = Date.now() + RECEIPT_TIMEOUT_MS;
  for (;;) {
    const rcpt = await rpc(url, "eth_getTransactionReceipt", [hash]);
    if (rcpt) {
      if (rcpt.status !== "0x1") throw new Error(`${what}: transaction ${hash} reverted (status ${rcpt.status})`);
      return rcpt;
    }
    if (Date.now() > deadline) throw new Error(`${what}: no receipt for ${hash} after ${RECEIPT_TIMEOUT_MS / 1000} s`);
    await sleep(RECEIPT_POLL_MS);
  }
}

async function sendTx(url, tx, what) {
  const hash = await rpc(url, "eth_sendTransaction", [tx]);
  return waitReceipt(url, hash, what);
}

// ---------------------------------------------------------------- ABI helpers (only static types needed here)

const word = (hex) => hex.replace(/^0x/, "").padStart(64, "0");
const encAddress = (a) => word(a.toLowerCase());
const encUint = (n) => word(BigInt(n).toString(16));

function selector(contract, signature) {
  const sel = contract.methods[signature];
  if (!sel) throw new Error(`no method ${signature} in ABI`);
  return "0x" + sel;
}

function calldata(contract, signature, ...encodedArgs) {
  return selector(contract, signature) + encodedArgs.join("");
}

async function deploy(url, from, contract, name, chain, ...encodedArgs) {
  const rcpt = await sendTx(url, { from, data: contract.bytecode + encodedArgs.join("") }, `deploy ${name}`);
  const addr = rcpt.contractAddress.toLowerCase();
  log(`${name} on ${chain} chain at ${addr}`);
  return { addr, block: BigInt(rcpt.blockNumber) };
}

async function callUint(url, to, contract, signature, ...encodedArgs) {
  const out = await rpc(url, "eth_call", [{ to, data: calldata(contract, signature, ...encodedArgs) }, "latest"]);
  if (!out || out === "0x") throw new Error(`eth_call ${signature} on ${to} returned no data`);
  return BigInt(out.slice(0, 66));
}

async function callAddress(url, to, contract, signature) {
  const v = await callUint(url, to, contract, signature);
  return "0x" + v.toString(16).padStart(40, "0");
}

// Deploys Multicall3 and copies its code to MULTICALL3_ADDRESS when that is empty.
async function placeMulticall3(url, from, contract, chain) {
  const there = await rpc(url, "eth_getCode", [MULTICALL3_ADDRESS, "latest"]);
  if (there && there !== "0x") {
    log(`Multicall3 already on ${chain} chain at ${MULTICALL3_ADDRESS}`);
    return;
  }
  const { addr } = await deploy(url, from, contract, "Multicall3", chain);
  const code = await rpc(url, "eth_getCode", [addr, "latest"]);
  await rpc(url, "anvil_setCode", [MULTICALL3_ADDRESS, code]);
  await rpc(url, "evm_mine"); // the code counts from this block on
  log(`Multicall3's code placed on ${chain} chain at ${MULTICALL3_ADDRESS}`);
}

// aggregate3 of one call with a one-word result, through MULTICALL3_ADDRESS.
async function aggregate3Uint(url, multicall, target, data) {
  const bytes = data.replace(/^0x/, "");
  const padded = bytes.padEnd(Math.ceil(bytes.length / 64) * 64, "0");
  const args = encUint(32) + encUint(1) + encUint(32) + encAddress(target) + encUint(1) + encUint(96) + encUint(bytes.length / 2) + padded;
  const out = await rpc(url, "eth_call", [{ to: MULTICALL3_ADDRESS, data: calldata(multicall, "aggregate3((address,bool,bytes)[])", args) }, "latest"]);
  // (offset, length, offset of result 0, success, offset of returnData, its length, the word)
  const words = out.replace(/^0x/, "").match(/.{64}/g) || [];
  if (words.length < 7 || BigInt("0x" + words[3]) !== 1n || BigInt("0x" + words[5]) !== 32n) throw new Error(`aggregate3 on ${url} returned ${out}`);
  return BigInt("0x" + words[6]);
}

// ---------------------------------------------------------------- main

async function main() {
  const args = parseArgs(process.argv.slice(2));

  let t0 = performance.now();
  const contracts = compile(args.contracts);
  for (const n of ["SigilToken", "RootRegistry", "Lockbox", "BridgedToken", "Multicall3"]) {
    if (!contracts[n]) die(`contract ${n} not found in ${args.contracts}`);
  }
  if (args.artifacts) writeArtifacts(args.artifacts, contracts);
  log(`compiled ${Object.keys(contracts).length} contracts in ${((performance.now() - t0) / 1000).toFixed(2)} s`);
  t0 = performance.now();

  const { SigilToken, RootRegistry, Lockbox, BridgedToken, Multicall3 } = contracts;
  const src = args.sourceRpc;
  const exe = args.execRpc;

  const sourceChainId = BigInt(await rpc(src, "eth_chainId"));
  const execChainId = BigInt(await rpc(exe, "eth_chainId"));
  if (sourceChainId === execChainId) die(`source and execution chains have the same chain id ${sourceChainId}`);

  const accounts = (await rpc(src, "eth_accounts")).map((a) => a.toLowerCase());
  const execAccounts = (await rpc(exe, "eth_accounts")).map((a) => a.toLowerCase());
  if (accounts.length < 5) die(`source chain has ${accounts.length} unlocked accounts, need 5`);
  const [deployer, relayer, ...rest] = accounts;
  const users = rest.slice(0, 3);
  for (const [who, a] of [["deployer", deployer], ["relayer", relayer]]) {
    if (!execAccounts.includes(a)) die(`${who} ${a} is not an unlocked account on the execution chain`);
  }

  // Source chain.
  const sigil = await deploy(src, deployer, SigilToken, "SigilToken", "source", encAddress(deployer), encUint(SIGIL_INITIAL_SUPPLY));
  const registry = await deploy(src, deployer, RootRegistry, "RootRegistry", "source", encAddress(relayer));
  const lockbox = await deploy(src, deployer, Lockbox, "Lockbox", "source", encAddress(registry.addr));
  for (const u of users) {
    await sendTx(src, { from: deployer, to: sigil.addr, data: calldata(SigilToken, "transfer(address,uint256)", encAddress(u), encUint(USER_GRANT)) }, `SIGIL transfer to ${u}`);
  }

  // Execution chain.
  const bridged = await deploy(exe, deployer, BridgedToken, "BridgedToken", "exec", encAddress(relayer));

  // Multicall3 on both chains, after the bridge's contracts so their addresses stay the same.
  for (const [url, chain] of [[src, "source"], [exe, "exec"]]) await placeMulticall3(url, deployer, Multicall3, chain);

  // Verify.
  const checks = [
    ["SIGIL totalSupply", await callUint(src, sigil.addr, SigilToken, "totalSupply()"), SIGIL_INITIAL_SUPPLY],
    ["SIGIL decimals", await callUint(src, sigil.addr, SigilToken, "decimals()"), SIGIL_DECIMALS],
    ...(await Promise.all(users.map(async (u) => [`SIGIL balanceOf(${u})`, await callUint(src, sigil.addr, SigilToken, "balanceOf(address)", encAddress(u)), USER_GRANT]))),
    ["SIGIL balanceOf(lockbox)", await callUint(src, sigil.addr, SigilToken, "balanceOf(address)", encAddress(lockbox.addr)), 0n],
    ["registry.relayer()", await callAddress(src, registry.addr, RootRegistry, "relayer()"), relayer],
    ["lockbox.registry()", await callAddress(src, lockbox.addr, Lockbox, "registry()"), registry.addr],
    ["bridged.minter()", await callAddress(exe, bridged.addr, BridgedToken, "minter()"), relayer],
    ["bridged totalSupply", await callUint(exe, bridged.addr, BridgedToken, "totalSupply()"), 0n],
    ["aggregate3(SIGIL totalSupply())", await aggregate3Uint(src, Multicall3, sigil.addr, calldata(SigilToken, "totalSupply()")), SIGIL_INITIAL_SUPPLY],
    ["aggregate3(bridged totalSupply())", await aggregate3Uint(exe, Multicall3, bridged.addr, calldata(BridgedToken, "totalSupply()")), 0n],
  ];
  const bad = checks.filter(([, got, want]) => got !== want);
  for (const [what, got, want] of bad) log(`verification failed: ${what} = ${got}, expected ${want}`);
  if (bad.length > 0) die(`${bad.length} verification check(s) failed`);

  const env = {
    SOURCE_CHAIN_ID: sourceChainId,
    EXEC_CHAIN_ID: execChainId,
    DEPLOYER_ADDRESS: deployer,
    RELAYER_ADDRESS: relayer,
    USER_ADDRESSES: users.join(","),
    SIGIL_ADDRESS: sigil.addr,
    SIGIL_DECIMALS: SIGIL_DECIMALS,
    SIGIL_INITIAL_SUPPLY: SIGIL_INITIAL_SUPPLY,
    ROOT_REGISTRY_ADDRESS: registry.addr,
    LOCKBOX_ADDRESS: lockbox.addr,
    BRIDGED_SIGIL_ADDRESS: bridged.addr,
    SOURCE_DEPLOY_BLOCK: sigil.block,
    EXEC_DEPLOY_BLOCK: bridged.block,
    // The blocks at which the state above holds: read there, it stays true
    // whatever traffic comes later.
    SOURCE_READY_BLOCK: BigInt(await rpc(src, "eth_blockNumber")),
    EXEC_READY_BLOCK: BigInt(await rpc(exe, "eth_blockNumber")),
  };
  const text = Object.entries(env).map(([k, v]) => `${k}=${v}\n`).join("");
  const tmp = `${args.out}.tmp`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, args.out);
  log(`deployed and verified in ${((performance.now() - t0) / 1000).toFixed(2)} s; wrote ${args.out}`);
}

main().catch((e) => die(e.message));
