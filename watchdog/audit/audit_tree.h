/*
 * audit_tree: the RFC 6962 Merkle tree over the audit log's records.
 *
 * Hashes are SHA-256 (libsodium's crypto_hash_sha256), 32 bytes:
 *
 *     leaf hash   SHA-256(0x00 || record)
 *     node hash   SHA-256(0x01 || left || right)
 *     empty tree  SHA-256("")
 *
 * and MTH(D[0:n]) splits at the largest power of two below n, as RFC 6962
 * section 2.1 says. The tree of size n is the one over records 0..n-1 (a
 * record's leaf index is its sequence number).
 *
 * struct audit_tree keeps the tree incrementally, as its right edge (the
 * roots of the perfect subtrees that make up [0, size), one per set bit of
 * size): an append costs O(log n) hashes and never looks at older records.
 *
 * Proofs (RFC 6962 section 2.1.1 and 2.1.2) are built over a source of
 * subtree hashes (audit_tree_range_fn), so the same code serves an
 * in-memory array of leaf hashes (the command line) and a daemon that keeps
 * only some of them; they are checked with no source at all.
 *
 * Nothing here allocates and nothing here does I/O.
 */
#ifndef RELAYWATCH_AUDIT_TREE_H
#define RELAYWATCH_AUDIT_TREE_H

#include <stddef.h>
#include <stdint.h>

#include "rwerr.h"

#define AUDIT_HASH_BYTES 32
#define AUDIT_TREE_LEVELS 64 /* a size is a uint64_t: at most 64 perfect subtrees */
#define AUDIT_PROOF_MAX 128  /* hashes in any proof of a tree below 2^63 leaves */

/* SHA-256(0x00 || data[0..len)). */
void audit_tree_leaf_hash(const void *data, size_t len, unsigned char out[AUDIT_HASH_BYTES]);

/* SHA-256(0x01 || left || right); `out` may alias either input. */
void audit_tree_node_hash(const unsigned char left[AUDIT_HASH_BYTES],
                          const unsigned char right[AUDIT_HASH_BYTES],
                          unsigned char out[AUDIT_HASH_BYTES]);

/* SHA-256 of nothing: the root of the empty tree. */
void audit_tree_empty_root(unsigned char out[AUDIT_HASH_BYTES]);

/*
 * The tree's right edge. edge[i] holds the root of the perfect subtree of
 * 2^i leaves when bit i of size is set (else it is unused). A plain value:
 * copy it, store it, zero it (audit_tree_init) for the empty tree.
 */
struct audit_tree {
        uint64_t size;
        unsigned char edge[AUDIT_TREE_LEVELS][AUDIT_HASH_BYTES];
};

void audit_tree_init(struct audit_tree *t);

/* Adds one leaf (its leaf hash, not the record). RW_ERR_RANGE at 2^63 leaves. */
int audit_tree_append(struct audit_tree *t, const unsigned char leaf_hash[AUDIT_HASH_BYTES]);

/* MTH of the tree as it stands (the empty root for size 0). */
void audit_tree_root(const struct audit_tree *t, unsigned char out[AUDIT_HASH_BYTES]);

/*
 * A source of subtree hashes: fills `out` with MTH(D[begin:end]) for
 * 0 <= begin < end <= the source's size, and returns RW_OK or an error
 * (filled in `err`). The proof builders below ask only for ranges RFC 6962
 * recursion produces: `begin` is a multiple of the largest power of two
 * not above end - begin... or the whole remaining right part of a range.
 */
typedef int (*audit_tree_range_fn)(void *ctx, uint64_t begin, uint64_t end,
                                   unsigned char out[AUDIT_HASH_BYTES], struct rwerr *err);

/* An in-memory array of leaf hashes as a source (ctx for audit_tree_range_leaves). */
struct audit_tree_leaves {
        const unsigned char (*leaf)[AUDIT_HASH_BYTES];
        uint64_t n;
};

/* audit_tree_range_fn over a struct audit_tree_leaves: O(end - begin) hashes. */
int audit_tree_range_leaves(void *ctx, uint64_t begin, uint64_t end,
                            unsigned char out[AUDIT_HASH_BYTES], struct rwerr *err);

/*
 * The inclusion proof (RFC 6962 PATH) of leaf `index` in the tree of size
 * `size` (index < size), into proof[0..*n), *n <= AUDIT_PROOF_MAX, ordered
 * from the leaf's sibling up, as RFC 6962 and RFC 9162 list it.
 */
int audit_tree_inclusion_proof(audit_tree_range_fn range, void *ctx, uint64_t index, uint64_t size,
                               unsigned char proof[][AUDIT_HASH_BYTES], size_t *n,
                               struct rwerr *err) __attribute__((warn_unused_result));

/*
 * The consistency proof (RFC 6962 PROOF(m, D[n])) between the trees of size
 * `from` and `to` (0 < from <= to), into proof[0..*n). from == to gives an
 * empty proof.
 */
int audit_tree_consistency_proof(audit_tree_range_fn range, void *ctx, uint64_t from, uint64_t to,
                                 unsigned char proof[][AUDIT_HASH_BYTES], size_t *n,
                                 struct rwerr *err) __attribute__((warn_unused_result));

/*
 * Checks an inclusion proof: that the leaf with hash `leaf_hash` is at
 * `index` in the tree of size `size` whose root is `root` (RFC 9162
 * section 2.1.3.2). RW_OK, or RW_ERR_INVALID with a message saying what
 * does not hold (wrong length for this index and size, root mismatch).
 */
int audit_tree_verify_inclusion(const unsigned char leaf_hash[AUDIT_HASH_BYTES], uint64_t index,
                                uint64_t size, const unsigned char root[AUDIT_HASH_BYTES],
                                const unsigned char proof[][AUDIT_HASH_BYTES], size_t n,
                                struct rwerr *err) __attribute__((warn_unused_result));

/*
 * Checks a consistency proof between (from, from_root) and (to, to_root)
 * (RFC 9162 section 2.1.4.2): that the tree of size `to` extends the one of
 * size `from`. from == to needs an empty proof and equal roots; from == 0
 * is refused (there is nothing to be consistent with). RW_OK or
 * RW_ERR_INVALID with the reason.
 */
int audit_tree_verify_consistency(uint64_t from, const unsigned char from_root[AUDIT_HASH_BYTES],
                                  uint64_t to, const unsigned char to_root[AUDIT_HASH_BYTES],
                                  const unsigned char proof[][AUDIT_HASH_BYTES], size_t n,
                                  struct rwerr *err) __attribute__((warn_unused_result));

#endif
