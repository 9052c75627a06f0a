/*
 * PROOF_VERIFICATION_FAIL: for every ledger batch after the batch cursor,
 * the root recomputed from its leaves (each leaf hash recomputed from the
 * leaf's fields, OpenZeppelin StandardMerkleTree encoding) equals the ledger
 * root and the root anchored on the source chain; the root is signed by an
 * authorised relayer key; and every withdrawal's proof verifies against the
 * root anchored on chain (the ledger's root while the anchor is in flight).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "abi.h"
#include "checks.h"
#include "evidence.h"
#include "merkle.h"
#include "sig.h"

#define FINDINGS_MAX 100 /* findings listed in the evidence; the counts are always exact */
#define FINDING_TEXT 512

struct findings {
        struct verdict *out;             /* where each violated batch is named as a subject */
        size_t violated, unknown, chain; /* chain: violations that rest on the source chain */
        char first_violated[FINDING_TEXT];
        char first_unknown[FINDING_TEXT];
        cJSON *arr;
};

static void finding(struct findings *f, enum verdict_status st, int on_chain, const char *kind,
                    uint64_t batch, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static void finding(struct findings *f, enum verdict_status st, int on_chain, const char *kind,
                    uint64_t batch, const char *fmt, ...)
{
        char text[FINDING_TEXT];
        va_list ap;
        cJSON *o;

        va_start(ap, fmt);
        (void)vsnprintf(text, sizeof text, fmt, ap);
        va_end(ap);
        if (st == VERDICT_VIOLATED) {
                verdict_add_subject(f->out, "batch %llu", (unsigned long long)batch);
                if (f->violated++ == 0)
                        memcpy(f->first_violated, text, sizeof text);
                f->chain += on_chain != 0;
        } else if (f->unknown++ == 0) {
                memcpy(f->first_unknown, text, sizeof text);
        }
        if (f->violated + f->unknown > FINDINGS_MAX || f->arr == NULL)
                return;
        o = cJSON_CreateObject();
        if (o == NULL || !cJSON_AddItemToArray(f->arr, o)) {
                cJSON_Delete(o);
                return;
        }
        evidence_str(o, "kind", kind);
        evidence_str(o, "status", verdict_status_name(st));
        evidence_u64(o, "batch", batch);
        evidence_str(o, "message", text);
}

static int is_zero(const uint8_t *b, size_t n)
{
        size_t i;

        for (i = 0; i < n; i++)
                if (b[i] != 0)
                        return 0;
        return 1;
}

/* A leaf row in a sorted order of its own. */
struct leaf_ref {
        const struct snap_leaf *l;
};

static int by_batch_then_index(const void *x, const void *y)
{
        const struct snap_leaf *a = ((const struct leaf_ref *)x)->l;
        const struct snap_leaf *b = ((const struct leaf_ref *)y)->l;

        if (a->batch_number != b->batch_number)
                return a->batch_number < b->batch_number ? -1 : 1;
        if (a->leaf_index != b->leaf_index)
                return a->leaf_index < b->leaf_index ? -1 : 1;
        return a < b ? -1 : (a > b);
}

/* First position of `batch` in the sorted leaves, and how many there are. */
static size_t leaves_of(const struct leaf_ref *sorted, size_t n, uint64_t batch, size_t *count)
{
        size_t lo = 0, hi = n, end;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (sorted[mid].l->batch_number < batch)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        for (end = lo; end < n && sorted[end].l->batch_number == batch; end++)
                ;
        *count = end - lo;
        return lo;
}

static void leaf_hash(const struct snap_leaf *l, uint8_t out[32])
{
        uint8_t id[32], amount[32];

        checks_u64_word(l->withdrawal_id, id);
        u256_to_be32(&l->amount, amount);
        merkle_withdrawal_leaf(id, l->token, l->recipient, amount, out);
}

/* The leaves' hashes against the stored ones, and the root they make against the ledger's. */
static void check_leaves(const struct snap_batch *b, const struct leaf_ref *leaves, size_t m,
                         struct findings *f)
{
        char h1[EVIDENCE_HASH_TEXT], h2[EVIDENCE_HASH_TEXT];
        unsigned long long bn = (unsigned long long)b->batch_number;
        uint8_t(*hashes)[32] = NULL;
        uint8_t root[32];
        struct rwerr err;
        size_t i;

        if (m != b->leaf_count)
                finding(f, VERDICT_VIOLATED, 0, "leaf_count", b->batch_number,
                        "batch %llu: the ledger says %u leaves but holds %zu leaf rows", bn,
                        b->leaf_count, m);
        if (m == 0) {
                if (b->leaf_count == 0)
                        finding(f, VERDICT_UNKNOWN, 0, "no_leaves", b->batch_number,
                                "batch %llu has no leaves: nothing to recompute its root from", bn);
                return;
        }
        hashes = malloc(m * sizeof *hashes);
        if (hashes == NULL) {
                finding(f, VERDICT_UNKNOWN, 0, "out_of_memory", b->batch_number,
                        "batch %llu: out of memory for %zu leaf hashes", bn, m);
                return;
        }
        for (i = 0; i < m; i++) {
                leaf_hash(leaves[i].l, hashes[i]);
                if (memcmp(hashes[i], leaves[i].l->leaf_hash, 32) == 0)
                        continue;
                evidence_hex_text(leaves[i].l->leaf_hash, 32, h1, sizeof h1);
                evidence_hex_text(hashes[i], 32, h2, sizeof h2);
                finding(f, VERDICT_VIOLATED, 0, "leaf_hash", b->batch_number,
                        "batch %llu leaf %u (withdrawal %llu): stored leaf hash %s differs from "
                        "%s recomputed from its fields",
                        bn, leaves[i].l->leaf_index, (unsigned long long)leaves[i].l->withdrawal_id,
                        h1, h2);
        }
        if (merkle_root((const uint8_t(*)[32])hashes, m, root, &err) != RW_OK) {
                finding(f, VERDICT_UNKNOWN, 0, "root", b->batch_number,
                        "batch %llu: cannot recompute the root: %s", bn, err.msg);
        } else if (memcmp(root, b->merkle_root, 32) != 0) {
                evidence_hex_text(root, 32, h1, sizeof h1);
                evidence_hex_text(b->merkle_root, 32, h2, sizeof h2);
                finding(f, VERDICT_VIOLATED, 0, "root", b->batch_number,
                        "batch %llu: root %s recomputed from its %zu leaves differs from the "
                        "ledger root %s",
                        bn, h1, m, h2);
        }
        free(hashes);
}

/* The ledger's root against the one the root registry holds at the pinned height. */
static void check_anchor(const struct snapshot *s, const struct snap_view *src, size_t bi,
                         struct findings *f, size_t *in_flight)
{
        const struct snap_batch *b = &s->ledger.batches[bi];
        unsigned long long bn = (unsigned long long)b->batch_number;
        unsigned long long pinned = (unsigned long long)s->chains[SNAP_SOURCE].pinned;
        char h1[EVIDENCE_HASH_TEXT], h2[EVIDENCE_HASH_TEXT];
        const uint8_t *onchain = src->anchored_roots[bi];

        if (!is_zero(onchain, 32)) {
                if (memcmp(onchain, b->merkle_root, 32) == 0)
                        return;
                evidence_hex_text(onchain, 32, h1, sizeof h1);
                evidence_hex_text(b->merkle_root, 32, h2, sizeof h2);
                finding(f, VERDICT_VIOLATED, 1, "anchored_root", b->batch_number,
                        "batch %llu: root %s anchored on source (endpoint %s, block %llu) differs "
                        "from the ledger root %s",
                        bn, h1, src->endpoint, pinned, h2);
                return;
        }
        if (!b->anchored)
                return;
        if (b->has_anchor_block && b->anchor_block > s->chains[SNAP_SOURCE].pinned) {
                (*in_flight)++; /* anchored after the pinned block: next cycle */
                return;
        }
        if (!b->has_anchor_block) {
                finding(f, VERDICT_UNKNOWN, 0, "anchor_block", b->batch_number,
                        "batch %llu: the ledger says anchored but records no anchor block, and "
                        "the root registry on source has no root for it at block %llu",
                        bn, pinned);
                return;
        }
        finding(f, VERDICT_VIOLATED, 1, "not_anchored", b->batch_number,
                "batch %llu: the ledger says anchored at block %llu, but the root registry on "
                "source (endpoint %s) has no root for it at block %llu",
                bn, (unsigned long long)b->anchor_block, src->endpoint, pinned);
}

static void check_signature(const struct snap_batch *b, const struct invariant_params *p,
                            struct findings *f)
{
        uint8_t addr[SIG_ADDRESS_BYTES];
        char text[ABI_ADDRESS_TEXT_SIZE];
        struct rwerr err;
        size_t i;

        if (sig_recover_personal(b->merkle_root, 32, b->relayer_signature, addr, &err) != RW_OK) {
                finding(f, VERDICT_VIOLATED, 0, "signature", b->batch_number,
                        "batch %llu: the relayer signature of its root does not recover a "
                        "signer: %s",
                        (unsigned long long)b->batch_number, err.msg);
                return;
        }
        for (i = 0; i < p->nsigners && i < INVARIANT_SIGNERS_MAX; i++)
                if (memcmp(addr, p->signers[i], sizeof addr) == 0)
                        return;
        abi_address_format(addr, text);
        finding(f, VERDICT_VIOLATED, 0, "signature", b->batch_number,
                "batch %llu: root signed by %s, which is not an authorised signer",
                (unsigned long long)b->batch_number, text);
}

static void check_withdrawals(const struct snapshot *s, const struct snap_view *src,
                              struct findings *f, size_t *verified)
{
        const struct snap_ledger *l = &s->ledger;
        char why[FINDING_TEXT];
        size_t i;

        for (i = 0; i < l->nwithdrawals && l->withdrawals != NULL; i++) {
                const struct snap_withdrawal *w = &l->withdrawals[i];
                int on_chain = 0, r;

                r = checks_withdrawal_proof(s, src, w, &on_chain, why, sizeof why);
                if (r > 0)
                        (*verified)++;
                else
                        finding(f, r == 0 ? VERDICT_VIOLATED : VERDICT_UNKNOWN, on_chain,
                                "withdrawal_proof", w->batch_number, "%s", why);
        }
}

static void evaluate(const struct snapshot *s, const size_t view[SNAP_NCHAINS],
                     const struct invariant_params *p, struct verdict *out)
{
        const struct snap_ledger *l = &s->ledger;
        struct leaf_ref *sorted = NULL;
        size_t bi, i, in_flight = 0, verified = 0;
        char why[RWERR_MSG_MAX];
        const struct snap_view *src;
        struct findings f;
        cJSON *ev = verdict_evidence(out);

        memset(&f, 0, sizeof f);
        f.out = out;
        evidence_chain(ev, "source", s, SNAP_SOURCE, view[SNAP_SOURCE]);
        if (!l->ok) {
                verdict_set(out, VERDICT_UNKNOWN, "ledger not read: %s", l->error);
                return;
        }
        src = evidence_view(s, SNAP_SOURCE, view[SNAP_SOURCE], why, sizeof why);
        if (src == NULL) {
                verdict_set(out, VERDICT_UNKNOWN, "%s", why);
                return;
        }
        if (l->nbatches > 0 && (l->batches == NULL || src->anchored_roots == NULL)) {
                verdict_set(out, VERDICT_UNKNOWN,
                            "source endpoint %s: no roots read for the %zu ledger batches",
                            src->endpoint, l->nbatches);
                return;
        }
        if (l->nleaves > 0 && l->leaves != NULL) {
                sorted = malloc(l->nleaves * sizeof *sorted);
                if (sorted == NULL) {
                        verdict_set(out, VERDICT_UNKNOWN, "out of memory sorting %zu leaves",
                                    l->nleaves);
                        return;
                }
                for (i = 0; i < l->nleaves; i++)
                        sorted[i].l = &l->leaves[i];
                qsort(sorted, l->nleaves, sizeof *sorted, by_batch_then_index);
        }
        f.arr = cJSON_AddArrayToObject(ev, "findings");
        if (l->nbatches > 0 && p->nsigners == 0)
                finding(&f, VERDICT_UNKNOWN, 0, "signers", l->batches[0].batch_number,
                        "no authorised signers configured: batch signatures cannot be checked");
        for (bi = 0; bi < l->nbatches; bi++) {
                const struct snap_batch *b = &l->batches[bi];
                size_t m = 0, first = 0;

                if (sorted != NULL)
                        first = leaves_of(sorted, l->nleaves, b->batch_number, &m);
                check_leaves(b, sorted != NULL ? sorted + first : NULL, m, &f);
                check_anchor(s, src, bi, &f, &in_flight);
                if (p->nsigners > 0)
                        check_signature(b, p, &f);
        }
        check_withdrawals(s, src, &f, &verified);
        free(sorted);

        evidence_u64(ev, "batches_after", l->batches_after);
        evidence_u64(ev, "batches", l->nbatches);
        evidence_u64(ev, "leaves", l->nleaves);
        evidence_u64(ev, "withdrawals", l->nwithdrawals);
        evidence_u64(ev, "proofs_verified", verified);
        evidence_u64(ev, "anchors_in_flight", in_flight);
        evidence_u64(ev, "violations", f.violated);
        if (f.violated > 0) {
                checks_rests_on(out, f.violated > f.chain ? CHECKS_LEDGER
                                                          : snap_chain_role_name(SNAP_SOURCE));
                if (f.violated == 1)
                        verdict_set(out, VERDICT_VIOLATED, "%s", f.first_violated);
                else
                        verdict_set(out, VERDICT_VIOLATED, "%zu problems, first: %s", f.violated,
                                    f.first_violated);
        } else if (f.unknown > 0) {
                verdict_set(out, VERDICT_UNKNOWN, "%s", f.first_unknown);
        } else if (l->nbatches == 0 && l->nwithdrawals == 0) {
                verdict_set(out, VERDICT_OK, "no batches after batch %llu to check",
                            (unsigned long long)l->batches_after);
        } else {
                verdict_set(out, VERDICT_OK,
                            "%zu batches after batch %llu: roots recomputed from %zu leaves match "
                            "the ledger and source (endpoint %s, block %llu), signatures "
                            "authorised, %zu of %zu withdrawal proofs verify",
                            l->nbatches, (unsigned long long)l->batches_after, l->nleaves,
                            src->endpoint, (unsigned long long)s->chains[SNAP_SOURCE].pinned,
                            verified, l->nwithdrawals);
        }
}

const struct invariant proof_verification_fail_check = {
        .name = "PROOF_VERIFICATION_FAIL",
        .tier = VERDICT_TIER_HALT,
        .weighs_views = 1,
        .evaluate = evaluate,
        .reads_history = 1,
};
