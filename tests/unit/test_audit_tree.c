/*
 * Unit tests of watchdog/audit/audit_tree: the RFC 6962 tree, its proofs
 * and their checks.
 *
 * Vectors:
 *   - the certificate-transparency reference vectors (8 leaves, the roots of
 *     sizes 1 to 8, four inclusion and four consistency proofs), as
 *     transparency-dev/merkle's proof/verify_test.go lists them (taken from
 *     CT's merkle_tree_test);
 *   - a digest of 27895 proof hashes made by Go's golang.org/x/mod/sumdb/tlog
 *     (ProveRecord, ProveTree) over 70 records: see tlog_digest below.
 * Then properties over every size 1..70: each proof verifies, and a flipped
 * byte, a wrong index or size, a missing or extra hash does not.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "audit_tree.h"
#include "rwerr.h"

#define H AUDIT_HASH_BYTES
#define PROP_MAX 70

static void unhex(const char *hex, unsigned char *out, size_t len)
{
        size_t got = 0;

        assert_int_equal(strlen(hex), 2 * len);
        assert_int_equal(sodium_hex2bin(out, len, hex, strlen(hex), NULL, &got, NULL), 0);
        assert_int_equal(got, len);
}

static void assert_hash_hex(const unsigned char h[H], const char *hex)
{
        char got[2 * H + 1];

        sodium_bin2hex(got, sizeof got, h, H);
        assert_string_equal(got, hex);
}

static void assert_has(const struct rwerr *err, const char *want)
{
        if (strstr(err->msg, want) == NULL)
                fail_msg("message '%s' does not say '%s'", err->msg, want);
}

/* ------------------------------------------------------- the CT vectors */

static const char *const ct_leaf_hex[8] = {
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
};

static const char *const ct_root_hex[8] = {
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

struct ct_proof {
        uint64_t a, b; /* (index, size) or (from, to) */
        size_t n;
        const char *hex[3];
};

/* verify_test.go lists leaves 1-based: {1, 8} there is index 0 here. */
static const struct ct_proof ct_inclusion[] = {
        {0,
         8,
         3,
         {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
          "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
          "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
        {5,
         8,
         3,
         {"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
          "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
          "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
        {2, 3, 1, {"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"}},
        {1,
         5,
         3,
         {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
          "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
          "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
};

static const struct ct_proof ct_consistency[] = {
        {1, 1, 0, {NULL}},
        {1,
         8,
         3,
         {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
          "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
          "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
        {6,
         8,
         3,
         {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
          "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
          "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
        {2,
         5,
         2,
         {"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
          "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
        {6,
         7,
         3,
         {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
          "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
          "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
};

struct ct {
        unsigned char leaf[8][H];
        unsigned char root[8][H]; /* root[n - 1]: the tree of n leaves */
        struct audit_tree_leaves src;
};

static int ct_setup(void **state)
{
        struct ct *c = calloc(1, sizeof *c);
        unsigned char data[16];
        size_t i, len;

        if (c == NULL)
                return -1;
        for (i = 0; i < 8; i++) {
                len = strlen(ct_leaf_hex[i]) / 2;
                unhex(ct_leaf_hex[i], data, len);
                audit_tree_leaf_hash(data, len, c->leaf[i]);
                unhex(ct_root_hex[i], c->root[i], H);
        }
        c->src.leaf = (const unsigned char(*)[H])c->leaf;
        c->src.n = 8;
        *state = c;
        return 0;
}

static int ct_teardown(void **state)
{
        free(*state);
        return 0;
}

static void empty_root(void **state)
{
        static const char e3[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        struct audit_tree t;
        unsigned char h[H];

        (void)state;
        audit_tree_empty_root(h);
        assert_hash_hex(h, e3);
        audit_tree_init(&t);
        assert_int_equal(t.size, 0);
        memset(h, 0, sizeof h);
        audit_tree_root(&t, h);
        assert_hash_hex(h, e3);
}

static void leaf_and_node_hash(void **state)
{
        unsigned char l0[H], l1[H], n[H], alias[H];

        (void)state;
        /* The root of the one-leaf tree over "" is its leaf hash. */
        audit_tree_leaf_hash("", 0, l0);
        assert_hash_hex(l0, ct_root_hex[0]);
        audit_tree_leaf_hash("\x00", 1, l1);
        audit_tree_node_hash(l0, l1, n);
        assert_hash_hex(n, ct_root_hex[1]);
        /* out may alias either input. */
        memcpy(alias, l0, H);
        audit_tree_node_hash(alias, l1, alias);
        assert_memory_equal(alias, n, H);
        memcpy(alias, l1, H);
        audit_tree_node_hash(l0, alias, alias);
        assert_memory_equal(alias, n, H);
}

static void ct_roots(void **state)
{
        struct ct *c = *state;
        struct audit_tree t;
        unsigned char h[H];
        struct rwerr err;
        size_t n;

        audit_tree_init(&t);
        for (n = 1; n <= 8; n++) {
                assert_int_equal(audit_tree_append(&t, c->leaf[n - 1]), RW_OK);
                assert_int_equal(t.size, n);
                audit_tree_root(&t, h);
                assert_hash_hex(h, ct_root_hex[n - 1]);
                assert_int_equal(audit_tree_range_leaves(&c->src, 0, n, h, &err), RW_OK);
                assert_hash_hex(h, ct_root_hex[n - 1]);
        }
}

static void ct_inclusion_proofs(void **state)
{
        struct ct *c = *state;
        unsigned char proof[AUDIT_PROOF_MAX][H], want[H];
        struct rwerr err;
        size_t i, j, n;

        for (i = 0; i < sizeof ct_inclusion / sizeof ct_inclusion[0]; i++) {
                const struct ct_proof *v = &ct_inclusion[i];

                n = 99;
                assert_int_equal(audit_tree_inclusion_proof(audit_tree_range_leaves, &c->src, v->a,
                                                            v->b, proof, &n, &err),
                                 RW_OK);
                assert_int_equal(n, v->n);
                for (j = 0; j < n; j++) {
                        unhex(v->hex[j], want, H);
                        assert_memory_equal(proof[j], want, H);
                }
                assert_int_equal(
                        audit_tree_verify_inclusion(c->leaf[v->a], v->a, v->b, c->root[v->b - 1],
                                                    (const unsigned char(*)[H])proof, n, &err),
                        RW_OK);
        }
}

static void ct_consistency_proofs(void **state)
{
        struct ct *c = *state;
        unsigned char proof[AUDIT_PROOF_MAX][H], want[H];
        struct rwerr err;
        size_t i, j, n;

        for (i = 0; i < sizeof ct_consistency / sizeof ct_consistency[0]; i++) {
                const struct ct_proof *v = &ct_consistency[i];

                n = 99;
                assert_int_equal(audit_tree_consistency_proof(audit_tree_range_leaves, &c->src,
                                                              v->a, v->b, proof, &n, &err),
                                 RW_OK);
                assert_int_equal(n, v->n);
                for (j = 0; j < n; j++) {
                        unhex(v->hex[j], want, H);
                        assert_memory_equal(proof[j], want, H);
                }
                assert_int_equal(audit_tree_verify_consistency(
                                         v->a, c->root[v->a - 1], v->b, c->root[v->b - 1],
                                         (const unsigned char(*)[H])proof, n, &err),
                                 RW_OK);
        }
}

/* ------------------------------------------- 70 records: tlog and properties */

struct prop {
        unsigned char leaf[PROP_MAX][H];
        unsigned char root[PROP_MAX + 1][H]; /* root[n]: the tree of n leaves */
        struct audit_tree_leaves src;
};

static int prop_setup(void **state)
{
        struct prop *p = calloc(1, sizeof *p);
        struct audit_tree t;
        char rec[32];
        int i, len;

        if (p == NULL)
                return -1;
        audit_tree_init(&t);
        audit_tree_root(&t, p->root[0]);
        for (i = 0; i < PROP_MAX; i++) {
                len = snprintf(rec, sizeof rec, "record %d", i);
                audit_tree_leaf_hash(rec, (size_t)len, p->leaf[i]);
                if (audit_tree_append(&t, p->leaf[i]) != RW_OK)
                        return -1;
                audit_tree_root(&t, p->root[i + 1]);
        }
        p->src.leaf = (const unsigned char(*)[H])p->leaf;
        p->src.n = PROP_MAX;
        *state = p;
        return 0;
}

static int prop_teardown(void **state)
{
        free(*state);
        return 0;
}

/*
 * The same walk as this throwaway Go program (go1.19, golang.org/x/mod of
 * Debian's golang-golang-x-mod-dev) made: records "record 0" .. "record 69"
 * (tlog.StoredHashes), and for each size n = 1..70 the hashes of
 * tlog.ProveRecord(n, i) for i = 0..n-1, then of tlog.ProveTree(n, m) for
 * m = 1..n, all concatenated; SHA-256 of that, and tlog.TreeHash(70).
 */
static void tlog_digest(void **state)
{
        struct prop *p = *state;
        unsigned char proof[AUDIT_PROOF_MAX][H], digest[H];
        crypto_hash_sha256_state st;
        size_t np, count = 0;
        struct rwerr err;
        uint64_t n, i;

        assert_hash_hex(p->root[70],
                        "ccc65ded93f8400bd7bf1743ffa2de21857472313eba13761624798a3bfc2bed");
        crypto_hash_sha256_init(&st);
        for (n = 1; n <= PROP_MAX; n++) {
                for (i = 0; i < n; i++) {
                        assert_int_equal(audit_tree_inclusion_proof(audit_tree_range_leaves,
                                                                    &p->src, i, n, proof, &np,
                                                                    &err),
                                         RW_OK);
                        crypto_hash_sha256_update(&st, proof[0], np * H);
                        count += np;
                }
                for (i = 1; i <= n; i++) {
                        assert_int_equal(audit_tree_consistency_proof(audit_tree_range_leaves,
                                                                      &p->src, i, n, proof, &np,
                                                                      &err),
                                         RW_OK);
                        crypto_hash_sha256_update(&st, proof[0], np * H);
                        count += np;
                }
        }
        crypto_hash_sha256_final(&st, digest);
        assert_int_equal(count, 27895);
        assert_hash_hex(digest, "a1889cf976f4be6fdc89ed5c9a33641cffd3a839c95922c5136337a06a08539e");
}

static void incremental_equals_range(void **state)
{
        struct prop *p = *state;
        unsigned char h[H];
        struct rwerr err;
        uint64_t n, b;

        for (n = 1; n <= PROP_MAX; n++) {
                assert_int_equal(audit_tree_range_leaves(&p->src, 0, n, h, &err), RW_OK);
                assert_memory_equal(h, p->root[n], H);
        }
        /* A range from b is the tree of the leaves from b on. */
        for (b = 1; b < 8; b++) {
                struct audit_tree_leaves sub = {p->src.leaf + b, PROP_MAX - b};
                unsigned char want[H];

                assert_int_equal(audit_tree_range_leaves(&p->src, b, PROP_MAX, h, &err), RW_OK);
                assert_int_equal(audit_tree_range_leaves(&sub, 0, PROP_MAX - b, want, &err), RW_OK);
                assert_memory_equal(h, want, H);
        }
        assert_int_equal(audit_tree_range_leaves(&p->src, 3, 3, h, &err), RW_ERR_RANGE);
        assert_int_equal(audit_tree_range_leaves(&p->src, 4, 3, h, &err), RW_ERR_RANGE);
        assert_int_equal(audit_tree_range_leaves(&p->src, 0, PROP_MAX + 1, h, &err), RW_ERR_RANGE);
        assert_has(&err, "[0, 71)");
}

static int incl_ok(const struct prop *p, uint64_t leaf, uint64_t index, uint64_t size,
                   const unsigned char proof[][H], size_t n)
{
        struct rwerr err;
        int rc;

        memset(&err, 0, sizeof err);
        rc = audit_tree_verify_inclusion(p->leaf[leaf], index, size, p->root[size], proof, n, &err);
        if (rc != RW_OK)
                assert_true(err.msg[0] != '\0');
        return rc == RW_OK;
}

static void inclusion_properties(void **state)
{
        struct prop *p = *state;
        unsigned char proof[AUDIT_PROOF_MAX + 1][H];
        uint64_t size, i;
        struct rwerr err;
        size_t n, j;

        for (size = 1; size <= PROP_MAX; size++) {
                for (i = 0; i < size; i++) {
                        assert_int_equal(audit_tree_inclusion_proof(audit_tree_range_leaves,
                                                                    &p->src, i, size, proof, &n,
                                                                    &err),
                                         RW_OK);
                        assert_true(incl_ok(p, i, i, size, (const unsigned char(*)[H])proof, n));
                        /* A flipped bit anywhere. */
                        for (j = 0; j < n; j++) {
                                proof[j][j % H] ^= 0x10;
                                assert_false(incl_ok(p, i, i, size,
                                                     (const unsigned char(*)[H])proof, n));
                                proof[j][j % H] ^= 0x10;
                        }
                        /* Another leaf, another index. */
                        if (size > 1)
                                assert_false(incl_ok(p, (i + 1) % size, i, size,
                                                     (const unsigned char(*)[H])proof, n));
                        if (i + 1 < size)
                                assert_false(incl_ok(p, i, i + 1, size,
                                                     (const unsigned char(*)[H])proof, n));
                        if (i > 0)
                                assert_false(incl_ok(p, i, i - 1, size,
                                                     (const unsigned char(*)[H])proof, n));
                        if ((i ^ 1) < size)
                                assert_false(incl_ok(p, i, i ^ 1, size,
                                                     (const unsigned char(*)[H])proof, n));
                        /* Another size, with that size's own root. */
                        if (size < PROP_MAX)
                                assert_false(incl_ok(p, i, i, size + 1,
                                                     (const unsigned char(*)[H])proof, n));
                        if (i < size - 1)
                                assert_false(incl_ok(p, i, i, size - 1,
                                                     (const unsigned char(*)[H])proof, n));
                        if (2 * size <= PROP_MAX)
                                assert_false(incl_ok(p, i, i, 2 * size,
                                                     (const unsigned char(*)[H])proof, n));
                        /* A hash missing, one too many. */
                        if (n > 0)
                                assert_false(incl_ok(p, i, i, size,
                                                     (const unsigned char(*)[H])proof, n - 1));
                        memcpy(proof[n], p->root[size], H);
                        assert_false(
                                incl_ok(p, i, i, size, (const unsigned char(*)[H])proof, n + 1));
                        /* The first hash dropped, the root put in front. */
                        if (n > 0)
                                assert_false(incl_ok(p, i, i, size,
                                                     (const unsigned char(*)[H])proof + 1, n));
                }
                /* The index must be in the tree. */
                assert_int_equal(audit_tree_inclusion_proof(audit_tree_range_leaves, &p->src, size,
                                                            size, proof, &n, &err),
                                 RW_ERR_RANGE);
                assert_false(incl_ok(p, 0, size, size, (const unsigned char(*)[H])proof, 0));
        }
}

static int cons_ok(const struct prop *p, uint64_t from, uint64_t to, const unsigned char proof[][H],
                   size_t n)
{
        struct rwerr err;
        int rc;

        memset(&err, 0, sizeof err);
        rc = audit_tree_verify_consistency(from, p->root[from], to, p->root[to], proof, n, &err);
        if (rc != RW_OK)
                assert_true(err.msg[0] != '\0');
        return rc == RW_OK;
}

static void consistency_properties(void **state)
{
        struct prop *p = *state;
        unsigned char proof[AUDIT_PROOF_MAX + 1][H];
        uint64_t from, to;
        struct rwerr err;
        size_t n, j;

        for (to = 1; to <= PROP_MAX; to++) {
                for (from = 1; from <= to; from++) {
                        assert_int_equal(audit_tree_consistency_proof(audit_tree_range_leaves,
                                                                      &p->src, from, to, proof, &n,
                                                                      &err),
                                         RW_OK);
                        assert_true(cons_ok(p, from, to, (const unsigned char(*)[H])proof, n));
                        for (j = 0; j < n; j++) {
                                proof[j][(j + 7) % H] ^= 0x01;
                                assert_false(
                                        cons_ok(p, from, to, (const unsigned char(*)[H])proof, n));
                                proof[j][(j + 7) % H] ^= 0x01;
                        }
                        /* Swapped or wrong roots. */
                        if (from < to) {
                                assert_int_equal(audit_tree_verify_consistency(
                                                         from, p->root[to], to, p->root[from],
                                                         (const unsigned char(*)[H])proof, n, &err),
                                                 RW_ERR_INVALID);
                                assert_int_equal(audit_tree_verify_consistency(
                                                         from, p->root[from], to, p->root[to - 1],
                                                         (const unsigned char(*)[H])proof, n, &err),
                                                 RW_ERR_INVALID);
                        }
                        /* Other sizes, with their own roots. */
                        if (from > 1)
                                assert_false(cons_ok(p, from - 1, to,
                                                     (const unsigned char(*)[H])proof, n));
                        if (from < to)
                                assert_false(cons_ok(p, from + 1, to,
                                                     (const unsigned char(*)[H])proof, n));
                        if (to < PROP_MAX)
                                assert_false(cons_ok(p, from, to + 1,
                                                     (const unsigned char(*)[H])proof, n));
                        if (from < to)
                                assert_false(cons_ok(p, from, to - 1,
                                                     (const unsigned char(*)[H])proof, n));
                        /* Truncated, extended, shifted. */
                        if (n > 0) {
                                assert_false(cons_ok(p, from, to, (const unsigned char(*)[H])proof,
                                                     n - 1));
                                assert_false(cons_ok(p, from, to,
                                                     (const unsigned char(*)[H])proof + 1, n - 1));
                        }
                        memcpy(proof[n], p->root[from], H);
                        assert_false(cons_ok(p, from, to, (const unsigned char(*)[H])proof, n + 1));
                }
        }
}

static void messages(void **state)
{
        struct prop *p = *state;
        unsigned char proof[AUDIT_PROOF_MAX][H];
        struct rwerr err;
        size_t n;

        assert_int_equal(audit_tree_consistency_proof(audit_tree_range_leaves, &p->src, 5, 9, proof,
                                                      &n, &err),
                         RW_OK);
        assert_int_equal(n, 5);
        assert_int_equal(audit_tree_verify_consistency(5, p->root[5], 9, p->root[9],
                                                       (const unsigned char(*)[H])proof, 4, &err),
                         RW_ERR_INVALID);
        assert_string_equal(err.msg, "consistency proof from 5 to 9: expected 5 hashes, got 4");
        assert_int_equal(audit_tree_verify_consistency(5, p->root[6], 9, p->root[9],
                                                       (const unsigned char(*)[H])proof, 5, &err),
                         RW_ERR_INVALID);
        assert_has(&err, "consistency proof from 5 to 9: the old root");
        assert_int_equal(audit_tree_verify_consistency(5, p->root[5], 9, p->root[8],
                                                       (const unsigned char(*)[H])proof, 5, &err),
                         RW_ERR_INVALID);
        assert_has(&err, "consistency proof from 5 to 9: the new root");
        assert_int_equal(audit_tree_verify_consistency(0, p->root[0], 9, p->root[9],
                                                       (const unsigned char(*)[H])proof, 0, &err),
                         RW_ERR_INVALID);
        assert_has(&err, "consistency proof from 0 to 9: the empty tree");
        assert_int_equal(audit_tree_verify_consistency(9, p->root[9], 5, p->root[5],
                                                       (const unsigned char(*)[H])proof, 0, &err),
                         RW_ERR_INVALID);
        assert_has(&err, "from 9 to 5");
        /* Equal sizes: an empty proof and the same root. */
        assert_int_equal(audit_tree_verify_consistency(7, p->root[7], 7, p->root[7],
                                                       (const unsigned char(*)[H])proof, 0, &err),
                         RW_OK);
        assert_int_equal(audit_tree_verify_consistency(7, p->root[7], 7, p->root[6],
                                                       (const unsigned char(*)[H])proof, 0, &err),
                         RW_ERR_INVALID);
        assert_int_equal(audit_tree_verify_consistency(7, p->root[7], 7, p->root[7],
                                                       (const unsigned char(*)[H])proof, 1, &err),
                         RW_ERR_INVALID);
        assert_string_equal(err.msg, "consistency proof from 7 to 7: expected 0 hashes, got 1");
        assert_int_equal(audit_tree_consistency_proof(audit_tree_range_leaves, &p->src, 0, 9, proof,
                                                      &n, &err),
                         RW_ERR_RANGE);

        assert_int_equal(
                audit_tree_inclusion_proof(audit_tree_range_leaves, &p->src, 4, 7, proof, &n, &err),
                RW_OK);
        proof[1][0] ^= 1;
        assert_int_equal(audit_tree_verify_inclusion(p->leaf[4], 4, 7, p->root[7],
                                                     (const unsigned char(*)[H])proof, n, &err),
                         RW_ERR_INVALID);
        assert_string_equal(err.msg, "inclusion proof of record 4 in a tree of 7: the root it "
                                     "leads to is not the checkpoint's root");
        assert_int_equal(audit_tree_verify_inclusion(p->leaf[4], 4, 7, p->root[7],
                                                     (const unsigned char(*)[H])proof, n + 1, &err),
                         RW_ERR_INVALID);
        assert_string_equal(err.msg, "inclusion proof of record 4 in a tree of 7: expected 3 "
                                     "hashes, got 4");
        assert_int_equal(audit_tree_verify_inclusion(p->leaf[4], 7, 7, p->root[7],
                                                     (const unsigned char(*)[H])proof, n, &err),
                         RW_ERR_INVALID);
        assert_has(&err, "not in the tree");
        /* NULL err is allowed. */
        assert_int_equal(audit_tree_verify_inclusion(p->leaf[4], 4, 7, p->root[7],
                                                     (const unsigned char(*)[H])proof, n, NULL),
                         RW_ERR_INVALID);
}

/* A source that records what it is asked, checks the header's promise, and can fail. */
struct spy {
        struct audit_tree_leaves leaves;
        int calls, fail_at;
};

static int spy_range(void *ctx, uint64_t begin, uint64_t end, unsigned char out[H],
                     struct rwerr *err)
{
        struct spy *s = ctx;
        uint64_t k = 1;

        assert_true(begin < end);
        while (k <= (end - begin) / 2)
                k <<= 1;
        /* begin is a multiple of the largest power of two not above end - begin. */
        assert_int_equal(begin % k, 0);
        if (++s->calls == s->fail_at)
                return rwerr_set(err, RW_ERR_IO, "store unreadable");
        return audit_tree_range_leaves(&s->leaves, begin, end, out, err);
}

static void range_source(void **state)
{
        struct prop *p = *state;
        unsigned char proof[AUDIT_PROOF_MAX][H];
        struct spy s = {{(const unsigned char(*)[H])p->leaf, PROP_MAX}, 0, 0};
        uint64_t size, i;
        struct rwerr err;
        size_t n;

        for (size = 1; size <= PROP_MAX; size++) {
                for (i = 0; i < size; i++) {
                        assert_int_equal(
                                audit_tree_inclusion_proof(spy_range, &s, i, size, proof, &n, &err),
                                RW_OK);
                        assert_int_equal(audit_tree_consistency_proof(spy_range, &s, i + 1, size,
                                                                      proof, &n, &err),
                                         RW_OK);
                }
        }
        /* A failing source fails the proof, and the message says which proof. */
        s.calls = 0;
        s.fail_at = 2;
        n = 1234;
        assert_int_equal(audit_tree_inclusion_proof(spy_range, &s, 4, 7, proof, &n, &err),
                         RW_ERR_IO);
        assert_string_equal(err.msg,
                            "inclusion proof of record 4 in a tree of 7: store unreadable");
        assert_int_equal(n, 1234);
        s.calls = 0;
        assert_int_equal(audit_tree_consistency_proof(spy_range, &s, 5, 9, proof, &n, &err),
                         RW_ERR_IO);
        assert_string_equal(err.msg, "consistency proof from 5 to 9: store unreadable");
}

static void append_limit(void **state)
{
        struct audit_tree *t = calloc(1, sizeof *t);
        unsigned char leaf[H] = {1};

        (void)state;
        assert_non_null(t);
        audit_tree_init(t);
        t->size = UINT64_C(1) << 63;
        assert_int_equal(audit_tree_append(t, leaf), RW_ERR_RANGE);
        assert_int_equal(t->size, UINT64_C(1) << 63);
        free(t);
}

/* Huge sizes: lengths are computed without overflow, and wrong ones refused. */
static void huge_sizes(void **state)
{
        unsigned char proof[AUDIT_PROOF_MAX][H], h[H] = {0};
        struct rwerr err;

        (void)state;
        memset(proof, 0, sizeof proof);
        assert_int_equal(audit_tree_verify_inclusion(h, UINT64_MAX - 1, UINT64_MAX, h,
                                                     (const unsigned char(*)[H])proof, 3, &err),
                         RW_ERR_INVALID);
        assert_has(&err, "expected 63 hashes, got 3");
        assert_int_equal(audit_tree_verify_inclusion(h, UINT64_MAX - 1, UINT64_MAX, h,
                                                     (const unsigned char(*)[H])proof, 63, &err),
                         RW_ERR_INVALID);
        assert_has(&err, "not the checkpoint's root");
        assert_int_equal(audit_tree_verify_consistency(UINT64_MAX - 1, h, UINT64_MAX, h,
                                                       (const unsigned char(*)[H])proof, 2, &err),
                         RW_ERR_INVALID);
        assert_has(&err, "expected");
}

int main(void)
{
        const struct CMUnitTest ct_tests[] = {
                cmocka_unit_test(empty_root),
                cmocka_unit_test(leaf_and_node_hash),
                cmocka_unit_test(ct_roots),
                cmocka_unit_test(ct_inclusion_proofs),
                cmocka_unit_test(ct_consistency_proofs),
        };
        const struct CMUnitTest prop_tests[] = {
                cmocka_unit_test(tlog_digest),
                cmocka_unit_test(incremental_equals_range),
                cmocka_unit_test(inclusion_properties),
                cmocka_unit_test(consistency_properties),
                cmocka_unit_test(messages),
                cmocka_unit_test(range_source),
                cmocka_unit_test(append_limit),
                cmocka_unit_test(huge_sizes),
        };
        int failed;

        failed = cmocka_run_group_tests_name("audit_tree CT vectors", ct_tests, ct_setup,
                                             ct_teardown);
        failed += cmocka_run_group_tests_name("audit_tree properties", prop_tests, prop_setup,
                                              prop_teardown);
        return failed;
}
