#include "merkle.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "keccak.h"
#include "rwerr.h"

/* The most leaves whose tree of 2n - 1 nodes still has a size_t byte count. */
#define MERKLE_LEAVES_MAX (SIZE_MAX / (2 * (size_t)MERKLE_HASH_BYTES))

typedef uint8_t merkle_node[MERKLE_HASH_BYTES];

/* qsort comparator: descending, so the leaf region holds tree[2n-2-i] = i-th smallest. */
static int merkle_cmp_desc(const void *a, const void *b)
{
        return memcmp(b, a, MERKLE_HASH_BYTES);
}

/* The error for leaves that fail the check (n == 0 || !leaf_hashes || n > MERKLE_LEAVES_MAX). */
static int merkle_bad_leaves(const merkle_node *leaf_hashes, size_t n, struct rwerr *err)
{
        if (n == 0)
                return rwerr_set(err, RW_ERR_INVALID, "merkle tree needs at least one leaf");
        if (leaf_hashes == NULL)
                return rwerr_set(err, RW_ERR_INVALID, "merkle leaf hashes are missing");
        return rwerr_set(err, RW_ERR_RANGE, "merkle tree of %zu leaves is too large", n);
}

/*
 * Builds the whole tree of 2 <= n <= MERKLE_LEAVES_MAX leaves into one
 * allocated array of 2n - 1 nodes, which the caller frees. NULL when the
 * allocation fails.
 */
static merkle_node *merkle_build(const merkle_node *leaf_hashes, size_t n)
{
        merkle_node *tree = malloc((2 * n - 1) * sizeof *tree);
        size_t i;

        if (tree == NULL)
                return NULL;
        memcpy(tree + (n - 1), leaf_hashes, n * sizeof *tree);
        qsort(tree + (n - 1), n, sizeof *tree, merkle_cmp_desc);
        for (i = n - 1; i-- > 0;)
                merkle_hash_pair(tree[2 * i + 1], tree[2 * i + 2], tree[i]);
        return tree;
}

static int merkle_nomem(size_t n, struct rwerr *err)
{
        return rwerr_set(err, RW_ERR_NOMEM, "cannot allocate a merkle tree of %zu nodes",
                         2 * n - 1);
}

/*
 * The tree index of leaf_hashes[leaf_index]: its rank among the sorted leaves,
 * equal hashes ranked by the caller's order as the library's stable sort does.
 */
static size_t merkle_tree_index(const merkle_node *leaf_hashes, size_t n, size_t leaf_index)
{
        size_t rank = 0, j;

        for (j = 0; j < n; j++) {
                int c = memcmp(leaf_hashes[j], leaf_hashes[leaf_index], MERKLE_HASH_BYTES);

                if (c < 0 || (c == 0 && j < leaf_index))
                        rank++;
        }
        return 2 * n - 2 - rank;
}

void merkle_leaf_hash(const uint8_t *abi_encoded, size_t len, uint8_t out[MERKLE_HASH_BYTES])
{
        uint8_t inner[KECCAK256_BYTES];

        keccak256(abi_encoded, len, inner);
        keccak256(inner, sizeof inner, out);
}

void merkle_hash_pair(const uint8_t a[MERKLE_HASH_BYTES], const uint8_t b[MERKLE_HASH_BYTES],
                      uint8_t out[MERKLE_HASH_BYTES])
{
        uint8_t buf[2 * MERKLE_HASH_BYTES];

        if (memcmp(a, b, MERKLE_HASH_BYTES) <= 0) {
                memcpy(buf, a, MERKLE_HASH_BYTES);
                memcpy(buf + MERKLE_HASH_BYTES, b, MERKLE_HASH_BYTES);
        } else {
                memcpy(buf, b, MERKLE_HASH_BYTES);
                memcpy(buf + MERKLE_HASH_BYTES, a, MERKLE_HASH_BYTES);
        }
        keccak256(buf, sizeof buf, out);
}

void merkle_withdrawal_leaf(const uint8_t withdrawal_id[32], const uint8_t token[20],
                            const uint8_t recipient[20], const uint8_t amount[32],
                            uint8_t out[MERKLE_HASH_BYTES])
{
        uint8_t enc[4 * 32] = {0};

        /* Addresses are right-aligned in their words, zero-padded on the left. */
        memcpy(enc, withdrawal_id, 32);
        memcpy(enc + 32 + 12, token, 20);
        memcpy(enc + 64 + 12, recipient, 20);
        memcpy(enc + 96, amount, 32);
        merkle_leaf_hash(enc, sizeof enc, out);
}

size_t merkle_proof_max(size_t n)
{
        size_t m, bits = 0;

        /* floor(log2(2n - 1)) = ceil(log2(n)) = the bit length of n - 1. */
        if (n <= 1)
                return 0;
        for (m = n - 1; m != 0; m >>= 1)
                bits++;
        return bits;
}

int merkle_root(const uint8_t (*leaf_hashes)[MERKLE_HASH_BYTES], size_t n,
                uint8_t root[MERKLE_HASH_BYTES], struct rwerr *err)
{
        merkle_node *tree;

        if (n == 0 || leaf_hashes == NULL || n > MERKLE_LEAVES_MAX)
                return merkle_bad_leaves(leaf_hashes, n, err);
        if (n == 1) {
                memcpy(root, leaf_hashes[0], MERKLE_HASH_BYTES);
                return RW_OK;
        }
        if ((tree = merkle_build(leaf_hashes, n)) == NULL)
                return merkle_nomem(n, err);
        memcpy(root, tree[0], MERKLE_HASH_BYTES);
        free(tree);
        return RW_OK;
}

int merkle_proof(const uint8_t (*leaf_hashes)[MERKLE_HASH_BYTES], size_t n, size_t leaf_index,
                 uint8_t (*proof)[MERKLE_HASH_BYTES], size_t proof_cap, size_t *proof_len,
                 struct rwerr *err)
{
        merkle_node *tree;
        size_t t, depth = 0, k;

        if (n == 0 || leaf_hashes == NULL || n > MERKLE_LEAVES_MAX)
                return merkle_bad_leaves(leaf_hashes, n, err);
        if (proof_len == NULL || (proof == NULL && proof_cap > 0))
                return rwerr_set(err, RW_ERR_INVALID, "merkle proof output is missing");
        if (leaf_index >= n)
                return rwerr_set(err, RW_ERR_RANGE,
                                 "merkle leaf index %zu is out of range (tree of %zu leaves)",
                                 leaf_index, n);
        t = merkle_tree_index(leaf_hashes, n, leaf_index);
        for (k = t; k > 0; k = (k - 1) / 2)
                depth++;
        if (depth > proof_cap)
                return rwerr_set(err, RW_ERR_RANGE,
                                 "merkle proof of leaf %zu needs %zu hashes, room for %zu",
                                 leaf_index, depth, proof_cap);
        if (depth == 0) {
                *proof_len = 0;
                return RW_OK;
        }
        if ((tree = merkle_build(leaf_hashes, n)) == NULL)
                return merkle_nomem(n, err);
        /* The sibling of a left child (odd index) is to its right, and vice versa. */
        for (k = 0; t > 0; k++, t = (t - 1) / 2)
                memcpy(proof[k], tree[t % 2 == 1 ? t + 1 : t - 1], MERKLE_HASH_BYTES);
        *proof_len = depth;
        free(tree);
        return RW_OK;
}

bool merkle_verify(const uint8_t leaf[MERKLE_HASH_BYTES], const uint8_t (*proof)[MERKLE_HASH_BYTES],
                   size_t proof_len, const uint8_t root[MERKLE_HASH_BYTES])
{
        uint8_t h[MERKLE_HASH_BYTES];
        size_t i;

        memcpy(h, leaf, MERKLE_HASH_BYTES);
        for (i = 0; i < proof_len; i++)
                merkle_hash_pair(h, proof[i], h);
        return memcmp(h, root, MERKLE_HASH_BYTES) == 0;
}
