/*
 * merkle: Merkle trees as OpenZeppelin's StandardMerkleTree builds them
 * (@openzeppelin/merkle-tree 1.0.8) and MerkleProof.sol verifies them.
 *
 * - leaf = keccak256(keccak256(abi.encode(values)))
 * - node = keccak256 of its two children sorted byte-wise ascending
 * - the leaf hashes are sorted ascending (the library's default; equal hashes
 *   keep the caller's order) and laid out as a binary heap of 2n - 1 nodes:
 *   tree[2n - 2 - i] = i-th smallest leaf, children of i at 2i + 1 and 2i + 2,
 *   root at tree[0]. A proof is the sibling hashes from the leaf up.
 *
 * Callers pass leaf hashes in their own order and name a leaf by its index
 * in that order, exactly like tree.getProof(i). merkle_root and merkle_proof
 * allocate one array of (2n - 1) * 32 bytes for the call and free it before
 * returning; nothing is left for the caller to free. Every function is
 * reentrant.
 */
#ifndef RELAYWATCH_MERKLE_H
#define RELAYWATCH_MERKLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rwerr;

#define MERKLE_HASH_BYTES 32

/* Writes keccak256(keccak256(abi_encoded[0..len))). `abi_encoded` may be NULL when len is 0. */
void merkle_leaf_hash(const uint8_t *abi_encoded, size_t len, uint8_t out[MERKLE_HASH_BYTES]);

/*
 * Writes keccak256(min(a, b) || max(a, b)) (byte-wise order), so the pair hash
 * is commutative. `out` may be `a` or `b`.
 */
void merkle_hash_pair(const uint8_t a[MERKLE_HASH_BYTES], const uint8_t b[MERKLE_HASH_BYTES],
                      uint8_t out[MERKLE_HASH_BYTES]);

/*
 * The bridge's withdrawal leaf: merkle_leaf_hash of
 * abi.encode(uint256 withdrawalId, address token, address recipient, uint256 amount),
 * the leaf Lockbox.release checks. The two uint256 arguments are their 32-byte
 * big-endian ABI words. Cannot fail.
 */
void merkle_withdrawal_leaf(const uint8_t withdrawal_id[32], const uint8_t token[20],
                            const uint8_t recipient[20], const uint8_t amount[32],
                            uint8_t out[MERKLE_HASH_BYTES]);

/*
 * The longest proof in a tree of n leaves: floor(log2(2n - 1)), 0 for n <= 1.
 * A proof buffer of this many hashes fits the proof of any leaf.
 */
size_t merkle_proof_max(size_t n);

/*
 * Writes the root of the tree over leaf_hashes[0..n). One leaf is its own
 * root. Returns 0, RW_ERR_INVALID for n = 0 (or NULL leaves), RW_ERR_RANGE
 * when n is too large to size the tree, RW_ERR_NOMEM when the tree cannot be
 * allocated. `root` is untouched on failure.
 */
int merkle_root(const uint8_t (*leaf_hashes)[MERKLE_HASH_BYTES], size_t n,
                uint8_t root[MERKLE_HASH_BYTES], struct rwerr *err)
        __attribute__((warn_unused_result));

/*
 * Writes the proof of leaf_hashes[leaf_index] (tree.getProof(leaf_index)) to
 * proof[0..*proof_len), sibling nearest the leaf first; a tree of one leaf has
 * an empty proof. Errors as merkle_root, plus RW_ERR_RANGE when leaf_index is
 * not below n or the proof needs more than proof_cap hashes (see
 * merkle_proof_max). `proof` and `*proof_len` are untouched on failure.
 */
int merkle_proof(const uint8_t (*leaf_hashes)[MERKLE_HASH_BYTES], size_t n, size_t leaf_index,
                 uint8_t (*proof)[MERKLE_HASH_BYTES], size_t proof_cap, size_t *proof_len,
                 struct rwerr *err) __attribute__((warn_unused_result));

/*
 * True when folding `leaf` with proof[0..proof_len) through merkle_hash_pair
 * gives `root` (MerkleProof.verify). `proof` may be NULL when proof_len is 0.
 */
bool merkle_verify(const uint8_t leaf[MERKLE_HASH_BYTES], const uint8_t (*proof)[MERKLE_HASH_BYTES],
                   size_t proof_len, const uint8_t root[MERKLE_HASH_BYTES]);

#endif
