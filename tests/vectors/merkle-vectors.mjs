#!/usr/bin/env node
// merkle-vectors.mjs OUT: Merkle tree test vectors computed by the real
// library, @openzeppelin/merkle-tree (StandardMerkleTree, default options:
// leaves sorted), for tests/unit/test_merkle.c.
//
// Every tree holds bridge withdrawal leaves with the types Lockbox.sol
// verifies, ["uint256","address","address","uint256"], built from a seeded
// pseudo-random generator so the file is the same on every run. Trees of
// 1, 2, 3, 4, 5, 7, 8, 16, 33 and 100 leaves, plus one tree with repeated
// leaves (the library's stable sort keeps equal hashes in input order). Amounts include 0,
// 1, values above 2^128, 2^255 and 2^256 - 1.
//
// OUT gets (written atomically):
//   { "library": "@openzeppelin/merkle-tree <version>",
//     "leafEncoding": [...],
//     "trees": [ { "name", "values": [ { "withdrawalId", "token", "recipient",
//                  "amount" } ],            // ids and amounts as 0x + 64 hex digits
//                  "leafHashes": [ ... ],    // tree.leafHash(value), input order
//                  "root": "0x...",
//                  "proofs": [ [ ... ] ] } ] } // tree.getProof(i), input order
// The library is resolved from the node_modules next to this repository.

import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";

const SCRIPT_DIR = path.dirname(fileURLToPath(import.meta.url));
const REPO_DIR = path.resolve(SCRIPT_DIR, "..", "..");
const require = createRequire(path.join(REPO_DIR, "package.json"));

const LEAF_ENCODING = ["uint256", "address", "address", "uint256"];
const SIZES = [1, 2, 3, 4, 5, 7, 8, 16, 33, 100];
const MASK64 = (1n << 64n) - 1n;
const MAX_UINT256 = (1n << 256n) - 1n;

function die(msg) {
  process.stderr.write(`merkle-vectors: ${msg}\n`);
  process.exit(1);
}

// SplitMix64: a tiny, well-known generator; BigInt keeps it exact.
function makeRng(seed) {
  let state = BigInt(seed) & MASK64;
  return function next64() {
    state = (state + 0x9e3779b97f4a7c15n) & MASK64;
    let z = state;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
    return z ^ (z >> 31n);
  };
}

function randomBits(next64, bits) {
  let v = 0n;
  for (let have = 0; have < bits; have += 64) v = (v << 64n) | next64();
  return v & ((1n << BigInt(bits)) - 1n);
}

function word(v) {
  return "0x" + v.toString(16).padStart(64, "0");
}

function address(v) {
  return "0x" + v.toString(16).padStart(40, "0");
}

// Amounts cycle through edge cases and sizes: token amounts with 18 decimals,
// values above 2^128, and the largest uint256.
function amountFor(next64, i) {
  switch (i % 8) {
    case 0: return randomBits(next64, 64) * 10n ** 6n;
    case 1: return (randomBits(next64, 32) + 1n) * 10n ** 18n;
    case 2: return (1n << 128n) + randomBits(next64, 100);
    case 3: return randomBits(next64, 256);
    case 4: return MAX_UINT256;
    case 5: return i % 16 === 5 ? 0n : 1n;
    case 6: return 1n << 255n;
    default: return randomBits(next64, 160);
  }
}

function withdrawals(n, seed) {
  const next64 = makeRng(seed);
  const tokens = [randomBits(next64, 160), randomBits(next64, 160), 0n];
  const out = [];
  for (let i = 0; i < n; i++) {
    // Mostly sequential ids (as the relayer assigns them), some full-width.
    const id = i % 5 === 4 ? randomBits(next64, 256) : BigInt(seed) * 1000n + BigInt(i);
    out.push([id, tokens[i % tokens.length], randomBits(next64, 160), amountFor(next64, i)]);
  }
  return out;
}

function treeVector(StandardMerkleTree, name, rows) {
  const values = rows.map(([id, token, recipient, amount]) => [word(id), address(token), address(recipient), word(amount)]);
  const tree = StandardMerkleTree.of(values, LEAF_ENCODING);
  const proofs = values.map((_, i) => tree.getProof(i));
  values.forEach((v, i) => {
    if (!StandardMerkleTree.verify(tree.root, LEAF_ENCODING, v, proofs[i])) die(`${name}: proof ${i} does not verify`);
  });
  return {
    name,
    values: values.map(([withdrawalId, token, recipient, amount]) => ({ withdrawalId, token, recipient, amount })),
    leafHashes: values.map((v) => tree.leafHash(v)),
    root: tree.root,
    proofs,
  };
}

function main() {
  const out = process.argv[2];
  if (!out || process.argv.length !== 3) die("usage: merkle-vectors.mjs OUT");
  let lib, version;
  try {
    lib = require("@openzeppelin/merkle-tree");
    version = require("@openzeppelin/merkle-tree/package.json").version;
  } catch (e) {
    die(`cannot load @openzeppelin/merkle-tree from ${REPO_DIR}/node_modules (run scripts/bootstrap): ${e.message}`);
  }
  const { StandardMerkleTree } = lib;

  const trees = SIZES.map((n) => treeVector(StandardMerkleTree, `withdrawals-${n}`, withdrawals(n, n)));
  // Repeated leaves: equal hashes keep their input order in the sorted tree,
  // which decides whose proof is whose.
  const base = withdrawals(4, 1001);
  // Three copies of one leaf cannot all be siblings, so their proofs differ.
  trees.push(treeVector(StandardMerkleTree, "withdrawals-repeated-7", [base[0], base[1], base[0], base[2], base[0], base[3], base[1]]));

  const doc = { library: `@openzeppelin/merkle-tree ${version}`, leafEncoding: LEAF_ENCODING, trees };
  const tmp = `${out}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(doc, null, 1) + "\n");
  fs.renameSync(tmp, out);
  process.stderr.write(`merkle-vectors: ${trees.length} trees written to ${out}\n`);
}

main();
