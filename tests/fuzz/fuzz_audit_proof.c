/*
 * Fuzz target for watchdog/audit/audit_tree's proof checks: what a verifier
 * is handed as sizes, indices, roots and proof hashes.
 *
 * The first byte picks the mode:
 *
 *   even  raw: two sizes (8 bytes each), then hashes (a leaf or old root,
 *         a root, the proof) straight from the input into both checks. They
 *         must not crash, read out of bounds or overflow, and a refusal
 *         comes with a message.
 *
 *   odd   differential: a tree of FUZZ_LEAVES known leaves; the input picks
 *         a true claim (index in size, or from and to), builds its proof,
 *         then changes the claim (index, sizes, hash count) and the proof's
 *         bytes. The check must accept exactly when what it is handed is
 *         the proof audit_tree builds for the claim as changed (a proof is
 *         unique: any other is a hash collision).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_tree.h"
#include "rwerr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define H AUDIT_HASH_BYTES
#define FUZZ_LEAVES 300

static unsigned char leaf[FUZZ_LEAVES][H];
static unsigned char root[FUZZ_LEAVES + 1][H];
static struct audit_tree_leaves src;
static int ready;

static void tree_init(void)
{
        struct audit_tree t;
        char rec[32];
        int i, len;

        if (ready)
                return;
        audit_tree_init(&t);
        audit_tree_root(&t, root[0]);
        for (i = 0; i < FUZZ_LEAVES; i++) {
                len = snprintf(rec, sizeof rec, "record %d", i);
                audit_tree_leaf_hash(rec, (size_t)len, leaf[i]);
                if (audit_tree_append(&t, leaf[i]) != RW_OK)
                        abort();
                audit_tree_root(&t, root[i + 1]);
        }
        src.leaf = (const unsigned char(*)[H])leaf;
        src.n = FUZZ_LEAVES;
        ready = 1;
}

/* A cursor over the input: takes bytes, zeros once it is used up. */
struct in {
        const uint8_t *p;
        size_t left;
};

static uint64_t take(struct in *in, size_t bytes)
{
        uint64_t v = 0;

        while (bytes-- > 0) {
                v <<= 8;
                if (in->left > 0) {
                        v |= *in->p++;
                        in->left--;
                }
        }
        return v;
}

static void check_refusal(int rc, const struct rwerr *err)
{
        if (rc != RW_OK &&
            (strnlen(err->msg, sizeof err->msg) == sizeof err->msg || err->msg[0] == '\0'))
                abort();
}

static void raw(struct in *in)
{
        unsigned char h1[H], h2[H], proof[AUDIT_PROOF_MAX][H];
        uint64_t a = take(in, 8), b = take(in, 8);
        struct rwerr err;
        size_t n = 0;
        int rc;

        memset(h1, 0, H);
        memset(h2, 0, H);
        memcpy(h1, in->p, in->left < H ? in->left : H);
        in->p += in->left < H ? in->left : H;
        in->left -= in->left < H ? in->left : H;
        memcpy(h2, in->p, in->left < H ? in->left : H);
        in->p += in->left < H ? in->left : H;
        in->left -= in->left < H ? in->left : H;
        while (in->left >= H && n < AUDIT_PROOF_MAX) {
                memcpy(proof[n++], in->p, H);
                in->p += H;
                in->left -= H;
        }
        memset(&err, 0, sizeof err);
        rc = audit_tree_verify_inclusion(h1, a, b, h2, (const unsigned char(*)[H])proof, n, &err);
        check_refusal(rc, &err);
        memset(&err, 0, sizeof err);
        rc = audit_tree_verify_consistency(a, h1, b, h2, (const unsigned char(*)[H])proof, n, &err);
        check_refusal(rc, &err);
}

/* Changes the claim and the proof as the input says. */
static size_t mutate(struct in *in, unsigned char proof[][H], size_t n, uint64_t *x, uint64_t *y)
{
        uint8_t what = (uint8_t)take(in, 1);
        size_t i, pos;

        if (what & 1)
                *x = take(in, 2) % (FUZZ_LEAVES + 2);
        if (what & 2)
                *y = take(in, 2) % (FUZZ_LEAVES + 1);
        if (what & 4)
                n = (size_t)take(in, 1) % (AUDIT_PROOF_MAX + 1);
        /* Hashes past the built proof are zero unless the input says otherwise. */
        for (i = 0; i < 4 && in->left >= 3; i++) {
                pos = (size_t)take(in, 2) % ((size_t)AUDIT_PROOF_MAX * H);
                proof[pos / H][pos % H] ^= (unsigned char)take(in, 1);
        }
        return n;
}

static void differential_inclusion(struct in *in)
{
        unsigned char proof[AUDIT_PROOF_MAX][H], want[AUDIT_PROOF_MAX][H];
        uint64_t size = 1 + take(in, 2) % FUZZ_LEAVES, index = take(in, 2) % size;
        uint64_t index2 = index, size2 = size;
        size_t n, n2, want_n = 0;
        struct rwerr err;
        int rc, true_claim;

        memset(proof, 0, sizeof proof);
        if (audit_tree_inclusion_proof(audit_tree_range_leaves, &src, index, size, proof, &n,
                                       &err) != RW_OK)
                abort();
        if (audit_tree_verify_inclusion(leaf[index], index, size, root[size],
                                        (const unsigned char(*)[H])proof, n, &err) != RW_OK)
                abort();
        n2 = mutate(in, proof, n, &index2, &size2);
        /* The claim as changed holds only for leaf[index] at index, with its canonical proof. */
        true_claim = index2 == index && size2 >= 1 && index2 < size2;
        if (true_claim) {
                if (audit_tree_inclusion_proof(audit_tree_range_leaves, &src, index2, size2, want,
                                               &want_n, &err) != RW_OK)
                        abort();
                true_claim = want_n == n2 && memcmp(want, proof, n2 * H) == 0;
        }
        memset(&err, 0, sizeof err);
        rc = audit_tree_verify_inclusion(leaf[index], index2, size2,
                                         root[size2 <= FUZZ_LEAVES ? size2 : 0],
                                         (const unsigned char(*)[H])proof, n2, &err);
        check_refusal(rc, &err);
        if ((rc == RW_OK) != true_claim)
                abort();
}

static void differential_consistency(struct in *in)
{
        unsigned char proof[AUDIT_PROOF_MAX][H], want[AUDIT_PROOF_MAX][H];
        uint64_t to = 1 + take(in, 2) % FUZZ_LEAVES, from = 1 + take(in, 2) % to;
        uint64_t from2 = from, to2 = to;
        size_t n, n2, want_n = 0;
        struct rwerr err;
        int rc, true_claim;

        memset(proof, 0, sizeof proof);
        if (audit_tree_consistency_proof(audit_tree_range_leaves, &src, from, to, proof, &n,
                                         &err) != RW_OK)
                abort();
        if (audit_tree_verify_consistency(from, root[from], to, root[to],
                                          (const unsigned char(*)[H])proof, n, &err) != RW_OK)
                abort();
        n2 = mutate(in, proof, n, &from2, &to2);
        if (from2 > FUZZ_LEAVES)
                from2 = FUZZ_LEAVES;
        true_claim = from2 >= 1 && from2 <= to2;
        if (true_claim) {
                if (audit_tree_consistency_proof(audit_tree_range_leaves, &src, from2, to2, want,
                                                 &want_n, &err) != RW_OK)
                        abort();
                true_claim = want_n == n2 && memcmp(want, proof, n2 * H) == 0;
        }
        memset(&err, 0, sizeof err);
        rc = audit_tree_verify_consistency(from2, root[from2], to2, root[to2],
                                           (const unsigned char(*)[H])proof, n2, &err);
        check_refusal(rc, &err);
        if ((rc == RW_OK) != true_claim)
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct in in = {data, size};
        uint8_t mode;

        tree_init();
        mode = (uint8_t)take(&in, 1);
        if (!(mode & 1))
                raw(&in);
        else if (mode & 2)
                differential_inclusion(&in);
        else
                differential_consistency(&in);
        return 0;
}
