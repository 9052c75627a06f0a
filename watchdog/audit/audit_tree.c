#include "audit_tree.h"

#include <inttypes.h>
#include <string.h>

#include <sodium.h>

#include "rwerr.h"

#define AUDIT_TREE_SIZE_LIMIT (UINT64_C(1) << 63)

void audit_tree_leaf_hash(const void *data, size_t len, unsigned char out[AUDIT_HASH_BYTES])
{
        static const unsigned char prefix = 0x00;
        crypto_hash_sha256_state st;

        crypto_hash_sha256_init(&st);
        crypto_hash_sha256_update(&st, &prefix, 1);
        if (len > 0)
                crypto_hash_sha256_update(&st, data, len);
        crypto_hash_sha256_final(&st, out);
}

void audit_tree_node_hash(const unsigned char left[AUDIT_HASH_BYTES],
                          const unsigned char right[AUDIT_HASH_BYTES],
                          unsigned char out[AUDIT_HASH_BYTES])
{
        unsigned char buf[1 + 2 * AUDIT_HASH_BYTES];

        /* Copied first, so `out` may be `left` or `right`. */
        buf[0] = 0x01;
        memcpy(buf + 1, left, AUDIT_HASH_BYTES);
        memcpy(buf + 1 + AUDIT_HASH_BYTES, right, AUDIT_HASH_BYTES);
        crypto_hash_sha256(out, buf, sizeof buf);
}

void audit_tree_empty_root(unsigned char out[AUDIT_HASH_BYTES])
{
        crypto_hash_sha256(out, NULL, 0);
}

void audit_tree_init(struct audit_tree *t)
{
        memset(t, 0, sizeof *t);
}

int audit_tree_append(struct audit_tree *t, const unsigned char leaf_hash[AUDIT_HASH_BYTES])
{
        unsigned char h[AUDIT_HASH_BYTES];
        unsigned level = 0;

        if (t->size >= AUDIT_TREE_SIZE_LIMIT)
                return RW_ERR_RANGE;
        /* Like a binary increment: each carry merges two perfect subtrees. */
        memcpy(h, leaf_hash, AUDIT_HASH_BYTES);
        while (t->size & (UINT64_C(1) << level)) {
                audit_tree_node_hash(t->edge[level], h, h);
                level++;
        }
        memcpy(t->edge[level], h, AUDIT_HASH_BYTES);
        t->size++;
        return RW_OK;
}

void audit_tree_root(const struct audit_tree *t, unsigned char out[AUDIT_HASH_BYTES])
{
        unsigned char h[AUDIT_HASH_BYTES];
        unsigned level;
        int have = 0;

        if (t->size == 0) {
                audit_tree_empty_root(out);
                return;
        }
        /* Fold the perfect subtrees from the smallest (rightmost) up. */
        for (level = 0; level < AUDIT_TREE_LEVELS; level++) {
                if (!(t->size & (UINT64_C(1) << level)))
                        continue;
                if (!have) {
                        memcpy(h, t->edge[level], AUDIT_HASH_BYTES);
                        have = 1;
                } else {
                        audit_tree_node_hash(t->edge[level], h, h);
                }
        }
        memcpy(out, h, AUDIT_HASH_BYTES);
}

int audit_tree_range_leaves(void *ctx, uint64_t begin, uint64_t end,
                            unsigned char out[AUDIT_HASH_BYTES], struct rwerr *err)
{
        const struct audit_tree_leaves *l = ctx;
        struct audit_tree t;
        uint64_t i;

        if (l == NULL || begin >= end || end > l->n)
                return rwerr_set(err, RW_ERR_RANGE,
                                 "leaves [%" PRIu64 ", %" PRIu64 ") are not within the %" PRIu64
                                 " leaves held",
                                 begin, end, l == NULL ? 0 : l->n);
        /* MTH(D[begin:end]) is the root of the tree of those leaves alone. */
        audit_tree_init(&t);
        for (i = begin; i < end; i++)
                (void)audit_tree_append(&t, l->leaf[i]);
        audit_tree_root(&t, out);
        return RW_OK;
}

/* The largest power of two strictly below n (n >= 2): RFC 6962's split point k. */
static uint64_t split_point(uint64_t n)
{
        uint64_t k = 1;

        while (k < n - k)
                k <<= 1;
        return k;
}

static int bit_length(uint64_t x)
{
        int n = 0;

        while (x != 0) {
                n++;
                x >>= 1;
        }
        return n;
}

static int popcount(uint64_t x)
{
        int n = 0;

        while (x != 0) {
                x &= x - 1;
                n++;
        }
        return n;
}

/* Reverses proof[0..n): the builders find the siblings top-down; proofs list them bottom-up. */
static void reverse_hashes(unsigned char proof[][AUDIT_HASH_BYTES], size_t n)
{
        unsigned char tmp[AUDIT_HASH_BYTES];
        size_t i;

        for (i = 0; i < n / 2; i++) {
                memcpy(tmp, proof[i], AUDIT_HASH_BYTES);
                memcpy(proof[i], proof[n - 1 - i], AUDIT_HASH_BYTES);
                memcpy(proof[n - 1 - i], tmp, AUDIT_HASH_BYTES);
        }
}

/* The range source's hash of [begin, end) into proof[*n], the message prefixed with `what`. */
static int take_range(audit_tree_range_fn range, void *ctx, uint64_t begin, uint64_t end,
                      unsigned char proof[][AUDIT_HASH_BYTES], size_t *n, const char *what,
                      struct rwerr *err)
{
        int rc;

        if (*n >= AUDIT_PROOF_MAX)
                return rwerr_set(err, RW_ERR_RANGE, "%s: more than %d hashes", what,
                                 AUDIT_PROOF_MAX);
        if ((rc = range(ctx, begin, end, proof[*n], err)) != RW_OK)
                return rwerr_prefix(err, rc, what);
        (*n)++;
        return RW_OK;
}

int audit_tree_inclusion_proof(audit_tree_range_fn range, void *ctx, uint64_t index, uint64_t size,
                               unsigned char proof[][AUDIT_HASH_BYTES], size_t *n,
                               struct rwerr *err)
{
        char what[96];
        uint64_t begin = 0, end = size, k;
        size_t got = 0;
        int rc;

        (void)snprintf(what, sizeof what,
                       "inclusion proof of record %" PRIu64 " in a tree of %" PRIu64, index, size);
        if (index >= size)
                return rwerr_set(err, RW_ERR_RANGE, "%s: the record is not in the tree", what);
        /*
         * PATH(m, D[begin:end]) (RFC 6962 section 2.1.1), unrolled: at each
         * level the sibling is the half that does not hold the record.
         */
        while (end - begin > 1) {
                k = split_point(end - begin);
                if (index < begin + k) {
                        rc = take_range(range, ctx, begin + k, end, proof, &got, what, err);
                        end = begin + k;
                } else {
                        rc = take_range(range, ctx, begin, begin + k, proof, &got, what, err);
                        begin += k;
                }
                if (rc != RW_OK)
                        return rc;
        }
        reverse_hashes(proof, got);
        *n = got;
        return RW_OK;
}

int audit_tree_consistency_proof(audit_tree_range_fn range, void *ctx, uint64_t from, uint64_t to,
                                 unsigned char proof[][AUDIT_HASH_BYTES], size_t *n,
                                 struct rwerr *err)
{
        char what[96];
        uint64_t begin = 0, end = to, k;
        size_t got = 0;
        int whole = 1; /* SUBPROOF's b: still the whole old tree */
        int rc = RW_OK;

        (void)snprintf(what, sizeof what, "consistency proof from %" PRIu64 " to %" PRIu64, from,
                       to);
        if (from == 0 || from > to)
                return rwerr_set(err, RW_ERR_RANGE, "%s: needs 0 < from <= to", what);
        /*
         * SUBPROOF(m, D[begin:end], b) (RFC 6962 section 2.1.2), unrolled:
         * descend towards the old tree's right edge, taking the other half
         * at each level; where the old tree ends on a subtree boundary,
         * that subtree's own hash ends the proof unless it is the whole old
         * tree (the verifier has that one already).
         */
        while (from != end) {
                k = split_point(end - begin);
                if (from <= begin + k) {
                        rc = take_range(range, ctx, begin + k, end, proof, &got, what, err);
                        end = begin + k;
                } else {
                        rc = take_range(range, ctx, begin, begin + k, proof, &got, what, err);
                        begin += k;
                        whole = 0;
                }
                if (rc != RW_OK)
                        return rc;
        }
        if (!whole && (rc = take_range(range, ctx, begin, end, proof, &got, what, err)) != RW_OK)
                return rc;
        reverse_hashes(proof, got);
        *n = got;
        return RW_OK;
}

/*
 * The number of hashes in the inclusion proof of `index` in a tree of
 * `size` (index < size): one per level below the point where the paths to
 * index and to size - 1 part, plus one per left sibling above it.
 */
static size_t inclusion_len(uint64_t index, uint64_t size)
{
        int inner = bit_length(index ^ (size - 1));

        return (size_t)inner + (size_t)popcount(inner >= 64 ? 0 : index >> inner);
}

/* The number of hashes in the consistency proof from `from` to `to` (0 < from < to). */
static size_t consistency_len(uint64_t from, uint64_t to)
{
        int shift = 0, inner;
        uint64_t f = from - 1;

        while (!(from & (UINT64_C(1) << shift)))
                shift++;
        inner = bit_length(f ^ (to - 1));
        /* A power-of-two old tree is a node of the new one: its hash is not sent. */
        return (size_t)(inner - shift) + (size_t)popcount(inner >= 64 ? 0 : f >> inner) +
               ((from & (from - 1)) != 0);
}

int audit_tree_verify_inclusion(const unsigned char leaf_hash[AUDIT_HASH_BYTES], uint64_t index,
                                uint64_t size, const unsigned char root[AUDIT_HASH_BYTES],
                                const unsigned char proof[][AUDIT_HASH_BYTES], size_t n,
                                struct rwerr *err)
{
        unsigned char r[AUDIT_HASH_BYTES];
        uint64_t fn, sn;
        size_t i, want;

        if (index >= size)
                return rwerr_set(err, RW_ERR_INVALID,
                                 "inclusion proof of record %" PRIu64 " in a tree of %" PRIu64
                                 ": the record is not in the tree",
                                 index, size);
        want = inclusion_len(index, size);
        if (n != want)
                return rwerr_set(err, RW_ERR_INVALID,
                                 "inclusion proof of record %" PRIu64 " in a tree of %" PRIu64
                                 ": expected %zu hashes, got %zu",
                                 index, size, want, n);
        /* RFC 9162 section 2.1.3.2. */
        fn = index;
        sn = size - 1;
        memcpy(r, leaf_hash, AUDIT_HASH_BYTES);
        for (i = 0; i < n; i++) {
                if (sn == 0)
                        return rwerr_set(err, RW_ERR_INVALID,
                                         "inclusion proof of record %" PRIu64
                                         " in a tree of %" PRIu64 ": too many hashes",
                                         index, size);
                if ((fn & 1) || fn == sn) {
                        audit_tree_node_hash(proof[i], r, r);
                        while (!(fn & 1) && fn != 0) {
                                fn >>= 1;
                                sn >>= 1;
                        }
                } else {
                        audit_tree_node_hash(r, proof[i], r);
                }
                fn >>= 1;
                sn >>= 1;
        }
        if (sn != 0 || sodium_memcmp(r, root, AUDIT_HASH_BYTES) != 0)
                return rwerr_set(err, RW_ERR_INVALID,
                                 "inclusion proof of record %" PRIu64 " in a tree of %" PRIu64
                                 ": the root it leads to is not the checkpoint's root",
                                 index, size);
        return RW_OK;
}

int audit_tree_verify_consistency(uint64_t from, const unsigned char from_root[AUDIT_HASH_BYTES],
                                  uint64_t to, const unsigned char to_root[AUDIT_HASH_BYTES],
                                  const unsigned char proof[][AUDIT_HASH_BYTES], size_t n,
                                  struct rwerr *err)
{
        unsigned char fr[AUDIT_HASH_BYTES], sr[AUDIT_HASH_BYTES];
        uint64_t fn, sn;
        size_t i, start, want;

        if (from == 0)
                return rwerr_set(err, RW_ERR_INVALID,
                                 "consistency proof from 0 to %" PRIu64
                                 ": the empty tree has nothing to be consistent with",
                                 to);
        if (from > to)
                return rwerr_set(err, RW_ERR_INVALID,
                                 "consistency proof from %" PRIu64 " to %" PRIu64
                                 ": the new tree is smaller than the old one",
                                 from, to);
        want = from == to ? 0 : consistency_len(from, to);
        if (n != want)
                return rwerr_set(err, RW_ERR_INVALID,
                                 "consistency proof from %" PRIu64 " to %" PRIu64
                                 ": expected %zu hashes, got %zu",
                                 from, to, want, n);
        if (from == to) {
                if (sodium_memcmp(from_root, to_root, AUDIT_HASH_BYTES) != 0)
                        return rwerr_set(err, RW_ERR_INVALID,
                                         "consistency proof from %" PRIu64 " to %" PRIu64
                                         ": two different roots for the same size",
                                         from, to);
                return RW_OK;
        }
        /*
         * RFC 9162 section 2.1.4.2. When `from` is a power of two the old
         * root is the proof's implicit first hash (step 2) instead of
         * being prepended to a copy.
         */
        if ((from & (from - 1)) == 0) {
                memcpy(fr, from_root, AUDIT_HASH_BYTES);
                start = 0;
        } else {
                memcpy(fr, proof[0], AUDIT_HASH_BYTES);
                start = 1;
        }
        memcpy(sr, fr, AUDIT_HASH_BYTES);
        fn = from - 1;
        sn = to - 1;
        while (fn & 1) {
                fn >>= 1;
                sn >>= 1;
        }
        for (i = start; i < n; i++) {
                if (sn == 0)
                        return rwerr_set(err, RW_ERR_INVALID,
                                         "consistency proof from %" PRIu64 " to %" PRIu64
                                         ": too many hashes",
                                         from, to);
                if ((fn & 1) || fn == sn) {
                        audit_tree_node_hash(proof[i], fr, fr);
                        audit_tree_node_hash(proof[i], sr, sr);
                        while (!(fn & 1) && fn != 0) {
                                fn >>= 1;
                                sn >>= 1;
                        }
                } else {
                        audit_tree_node_hash(sr, proof[i], sr);
                }
                fn >>= 1;
                sn >>= 1;
        }
        if (sn != 0)
                return rwerr_set(err, RW_ERR_INVALID,
                                 "consistency proof from %" PRIu64 " to %" PRIu64
                                 ": too few hashes",
                                 from, to);
        if (sodium_memcmp(fr, from_root, AUDIT_HASH_BYTES) != 0)
                return rwerr_set(
                        err, RW_ERR_INVALID,
                        "consistency proof from %" PRIu64 " to %" PRIu64
                        ": the old root it leads to is not the root of the tree of %" PRIu64,
                        from, to, from);
        if (sodium_memcmp(sr, to_root, AUDIT_HASH_BYTES) != 0)
                return rwerr_set(
                        err, RW_ERR_INVALID,
                        "consistency proof from %" PRIu64 " to %" PRIu64
                        ": the new root it leads to is not the root of the tree of %" PRIu64,
                        from, to, to);
        return RW_OK;
}
