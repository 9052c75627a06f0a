/*
 * DUPLICATE_BATCH: no merkle root or batch number twice in the ledger; no
 * root, and no batch number, anchored twice on the source chain; every root
 * anchored on chain known to the ledger under the same batch number (an
 * unknown root is a forged anchor). A root is anchored twice when two
 * events read this cycle hold it, or when an event read this cycle holds a
 * root the watchdog's known-anchors index (events checked in earlier
 * cycles, snapshot.h) holds under another event: so an old root anchored
 * again is caught by the next cycle, incremental or not.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "checks.h"
#include "evidence.h"

#define FINDINGS_MAX 100 /* findings listed in the evidence; the count is always exact */
#define FINDING_TEXT 512

struct findings {
        struct verdict *out; /* where each finding names what it is about (a subject) */
        size_t n;
        size_t chain; /* of them, findings that rest on what the source chain said */
        char first[FINDING_TEXT];
        cJSON *arr;
};

static cJSON *finding(struct findings *f, const char *kind, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static cJSON *finding(struct findings *f, const char *kind, const char *fmt, ...)
{
        char text[FINDING_TEXT];
        va_list ap;
        cJSON *o;

        va_start(ap, fmt);
        (void)vsnprintf(text, sizeof text, fmt, ap);
        va_end(ap);
        if (f->n++ == 0)
                memcpy(f->first, text, sizeof f->first);
        if (f->n > FINDINGS_MAX || f->arr == NULL)
                return NULL;
        o = cJSON_CreateObject();
        if (o == NULL || !cJSON_AddItemToArray(f->arr, o)) {
                cJSON_Delete(o);
                return NULL;
        }
        evidence_str(o, "kind", kind);
        evidence_str(o, "message", text);
        return o;
}

static void anchor_evidence(cJSON *arr, const struct snap_anchor *a)
{
        cJSON *o = cJSON_CreateObject();

        if (o == NULL || !cJSON_AddItemToArray(arr, o)) {
                cJSON_Delete(o);
                return;
        }
        evidence_u64(o, "batch_id", a->batch_id);
        evidence_hex(o, "root", a->root, sizeof a->root);
        evidence_u64(o, "block", a->block_number);
        evidence_hex(o, "tx_hash", a->tx_hash, sizeof a->tx_hash);
}

/* An anchor in a sorted order of its own. */
struct anchor_ref {
        const struct snap_anchor *a;
};

/* Sorted by root (or batch id), then by position, so the first of a run is the earliest. */
static int by_root(const void *x, const void *y)
{
        const struct snap_anchor *a = ((const struct anchor_ref *)x)->a;
        const struct snap_anchor *b = ((const struct anchor_ref *)y)->a;
        int c = memcmp(a->root, b->root, sizeof a->root);

        if (c != 0)
                return c;
        return a < b ? -1 : (a > b);
}

static int by_batch(const void *x, const void *y)
{
        const struct snap_anchor *a = ((const struct anchor_ref *)x)->a;
        const struct snap_anchor *b = ((const struct anchor_ref *)y)->a;

        if (a->batch_id != b->batch_id)
                return a->batch_id < b->batch_id ? -1 : 1;
        return a < b ? -1 : (a > b);
}

static int known_by_root(const void *x, const void *y)
{
        const struct snap_root_known *a = x, *b = y;
        int c = memcmp(a->root, b->root, sizeof a->root);

        if (c != 0)
                return c;
        return a->batch_number < b->batch_number ? -1 : (a->batch_number > b->batch_number);
}

/*
 * What a ledger duplicate is about: "batch N", or "root 0x..." in the
 * lowercase anchors are named in, so the ledger and the chain name one root
 * alike.
 */
static void duplicate_subject(struct findings *f, const struct snap_duplicate *d)
{
        char text[sizeof d->value];
        size_t i;

        if (!d->is_root) {
                verdict_add_subject(f->out, "batch %s", d->value);
                return;
        }
        for (i = 0; d->value[i] != '\0' && i + 1 < sizeof text; i++)
                text[i] = (char)tolower((unsigned char)d->value[i]);
        text[i] = '\0';
        verdict_add_subject(f->out, "root %s", text);
}

static void ledger_duplicates(const struct snap_ledger *l, struct findings *f)
{
        size_t i;

        for (i = 0; i < l->nduplicates && l->duplicates != NULL; i++) {
                const struct snap_duplicate *d = &l->duplicates[i];
                cJSON *o;

                duplicate_subject(f, d);
                if (d->is_root)
                        o = finding(f, "ledger_duplicate_root",
                                    "the ledger holds merkle root %s under more than one batch "
                                    "(batches %s)",
                                    d->value, d->batch_numbers);
                else
                        o = finding(f, "ledger_duplicate_batch",
                                    "the ledger holds batch number %s more than once (%s)",
                                    d->value, d->batch_numbers);
                evidence_str(o, "value", d->value);
                evidence_str(o, "batch_numbers", d->batch_numbers);
        }
}

static void twice(struct findings *f, const struct snap_anchor *first,
                  const struct snap_anchor *again, int same_root)
{
        char r1[EVIDENCE_HASH_TEXT], r2[EVIDENCE_HASH_TEXT];
        char t1[EVIDENCE_HASH_TEXT], t2[EVIDENCE_HASH_TEXT];
        cJSON *o;

        evidence_hex_text(first->root, 32, r1, sizeof r1);
        evidence_hex_text(again->root, 32, r2, sizeof r2);
        evidence_hex_text(first->tx_hash, 32, t1, sizeof t1);
        evidence_hex_text(again->tx_hash, 32, t2, sizeof t2);
        if (same_root) {
                verdict_add_subject(f->out, "root %s", r1);
                o = finding(f, "root_anchored_twice",
                            "root %s anchored twice on source: as batch %llu at block %llu tx "
                            "%s and as batch %llu at block %llu tx %s",
                            r1, (unsigned long long)first->batch_id,
                            (unsigned long long)first->block_number, t1,
                            (unsigned long long)again->batch_id,
                            (unsigned long long)again->block_number, t2);
        } else {
                verdict_add_subject(f->out, "batch %llu", (unsigned long long)first->batch_id);
                o = finding(f, "batch_anchored_twice",
                            "batch %llu anchored twice on source: root %s at block %llu tx %s "
                            "and root %s at block %llu tx %s",
                            (unsigned long long)first->batch_id, r1,
                            (unsigned long long)first->block_number, t1, r2,
                            (unsigned long long)again->block_number, t2);
        }
        if (o != NULL) {
                cJSON *arr = cJSON_AddArrayToObject(o, "anchors");

                anchor_evidence(arr, first);
                anchor_evidence(arr, again);
        }
}

/* Runs of equal roots, then of equal batch ids (one finding per pair that is not also a root run). */
static void anchored_twice(struct anchor_ref *idx, size_t n, struct findings *f)
{
        size_t i, start;

        qsort(idx, n, sizeof *idx, by_root);
        for (start = 0, i = 1; i < n; i++) {
                if (memcmp(idx[i].a->root, idx[start].a->root, 32) != 0) {
                        start = i;
                        continue;
                }
                twice(f, idx[start].a, idx[i].a, 1);
                f->chain++;
        }
        qsort(idx, n, sizeof *idx, by_batch);
        for (start = 0, i = 1; i < n; i++) {
                if (idx[i].a->batch_id != idx[start].a->batch_id) {
                        start = i;
                        continue;
                }
                if (memcmp(idx[i].a->root, idx[start].a->root, 32) != 0) {
                        twice(f, idx[start].a, idx[i].a, 0);
                        f->chain++;
                }
        }
}

static int same_event(const struct snap_anchor *a, const struct snap_anchor *b)
{
        return a->batch_id == b->batch_id && memcmp(a->root, b->root, 32) == 0 &&
               memcmp(a->tx_hash, b->tx_hash, 32) == 0;
}

static int anchor_by_root(const void *x, const void *y)
{
        const struct snap_anchor *a = x, *b = y;
        int c = memcmp(a->root, b->root, sizeof a->root);

        if (c != 0)
                return c;
        if (a->block_number != b->block_number)
                return a->block_number < b->block_number ? -1 : 1;
        return memcmp(a->tx_hash, b->tx_hash, sizeof a->tx_hash);
}

/* The first of `n` anchors sorted by root (anchor_by_root) with `root`. */
static size_t first_with_root(const struct snap_anchor *v, size_t n, const uint8_t *root)
{
        size_t lo = 0, hi = n;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (memcmp(v[mid].root, root, 32) < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

/*
 * Roots anchored again across cycles: an event read now whose root the
 * watchdog's index (s->known_anchors, events checked in earlier cycles)
 * holds under another event. An indexed event this cycle read as well is
 * left to anchored_twice, which reports the pair already. `read` is a copy
 * of the view's anchors and `known` of the index, both sorted by root.
 */
static void anchored_again(const struct snap_anchor *read, size_t nread,
                           const struct snap_anchor *known, size_t nknown, struct findings *f)
{
        size_t i, j, k;

        for (i = 0; i < nread; i++) {
                const struct snap_anchor *a = &read[i];

                if (i > 0 && same_event(&read[i - 1], a))
                        continue; /* the same event twice in the read: one finding is enough */
                for (j = first_with_root(known, nknown, a->root);
                     j < nknown && memcmp(known[j].root, a->root, 32) == 0; j++) {
                        const struct snap_anchor *old = &known[j], *first, *again;
                        int also_read = 0;

                        if (same_event(old, a))
                                continue;
                        for (k = first_with_root(read, nread, a->root);
                             k < nread && memcmp(read[k].root, a->root, 32) == 0; k++)
                                also_read |= same_event(&read[k], old);
                        if (also_read)
                                continue;
                        first = old->block_number <= a->block_number ? old : a;
                        again = first == old ? a : old;
                        {
                                char r[EVIDENCE_HASH_TEXT], t1[EVIDENCE_HASH_TEXT],
                                        t2[EVIDENCE_HASH_TEXT];
                                cJSON *o;

                                evidence_hex_text(a->root, 32, r, sizeof r);
                                evidence_hex_text(first->tx_hash, 32, t1, sizeof t1);
                                evidence_hex_text(again->tx_hash, 32, t2, sizeof t2);
                                verdict_add_subject(f->out, "root %s", r);
                                o = finding(f, "root_anchored_again",
                                            "root %s anchored again on source: as batch %llu at "
                                            "block %llu tx %s, and as batch %llu at block %llu "
                                            "tx %s (checked in an earlier cycle)",
                                            r, (unsigned long long)again->batch_id,
                                            (unsigned long long)again->block_number, t2,
                                            (unsigned long long)first->batch_id,
                                            (unsigned long long)first->block_number, t1);
                                f->chain++;
                                if (o != NULL) {
                                        cJSON *arr = cJSON_AddArrayToObject(o, "anchors");

                                        anchor_evidence(arr, first);
                                        anchor_evidence(arr, again);
                                        evidence_hex(o, "known_tx_hash", old->tx_hash, 32);
                                        evidence_u64(o, "known_block", old->block_number);
                                }
                        }
                        break; /* one finding per event read */
                }
        }
}

/* Every anchored root known to the ledger, under the anchor's batch number. */
static void anchors_known(const struct snap_view *src, struct snap_root_known *known, size_t nknown,
                          struct findings *f)
{
        size_t i, j;

        qsort(known, nknown, sizeof *known, known_by_root);
        for (i = 0; i < src->nanchors; i++) {
                const struct snap_anchor *a = &src->anchors[i];
                char root[EVIDENCE_HASH_TEXT], tx[EVIDENCE_HASH_TEXT], under[160];
                size_t lo = 0, hi = nknown, len = 0;
                int same = 0;
                cJSON *o;

                while (lo < hi) {
                        size_t mid = lo + (hi - lo) / 2;

                        if (memcmp(known[mid].root, a->root, 32) < 0)
                                lo = mid + 1;
                        else
                                hi = mid;
                }
                under[0] = '\0';
                for (j = lo; j < nknown && memcmp(known[j].root, a->root, 32) == 0; j++) {
                        int w;

                        same |= known[j].batch_number == a->batch_id;
                        if (len < sizeof under) {
                                w = snprintf(under + len, sizeof under - len, "%s%llu",
                                             len > 0 ? ", " : "",
                                             (unsigned long long)known[j].batch_number);
                                len += w > 0 ? (size_t)w : 0;
                        }
                }
                if (same)
                        continue;
                f->chain++;
                evidence_hex_text(a->root, 32, root, sizeof root);
                evidence_hex_text(a->tx_hash, 32, tx, sizeof tx);
                verdict_add_subject(f->out, "root %s", root);
                if (j == lo)
                        o = finding(f, "forged_anchor",
                                    "forged anchor: root %s anchored as batch %llu at block %llu "
                                    "tx %s is unknown to the ledger",
                                    root, (unsigned long long)a->batch_id,
                                    (unsigned long long)a->block_number, tx);
                else
                        o = finding(f, "batch_number_mismatch",
                                    "root %s anchored as batch %llu at block %llu tx %s is batch "
                                    "%s in the ledger",
                                    root, (unsigned long long)a->batch_id,
                                    (unsigned long long)a->block_number, tx, under);
                if (o != NULL)
                        anchor_evidence(cJSON_AddArrayToObject(o, "anchors"), a);
                if (o != NULL && j > lo)
                        evidence_str(o, "ledger_batches", under);
        }
}

static void evaluate(const struct snapshot *s, const size_t view[SNAP_NCHAINS],
                     const struct invariant_params *p, struct verdict *out)
{
        const struct snap_ledger *l = &s->ledger;
        struct anchor_ref *idx = NULL;
        struct snap_root_known *known = NULL;
        struct snap_anchor *read = NULL, *index = NULL;
        size_t nindex = s->known_anchors != NULL ? s->nknown_anchors : 0;
        char why[RWERR_MSG_MAX];
        const struct snap_view *src;
        struct findings f;
        cJSON *ev = verdict_evidence(out);
        size_t i;

        (void)p;
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
        evidence_u64(ev, "anchors_from", s->chains[SNAP_SOURCE].anchors_from);
        evidence_u64(ev, "anchors_to", s->chains[SNAP_SOURCE].anchors_to);
        evidence_u64(ev, "anchors", src->nanchors);
        evidence_u64(ev, "ledger_batches", l->nbatches);
        evidence_u64(ev, "known_anchors", nindex);
        if (s->known_anchors_failed)
                evidence_str(ev, "known_anchors_error", s->known_anchors_error);
        f.arr = cJSON_AddArrayToObject(ev, "findings");
        if (src->nanchors > 0 && src->anchors == NULL) {
                verdict_set(out, VERDICT_UNKNOWN, "source endpoint %s: %zu anchors but no list",
                            src->endpoint, src->nanchors);
                return;
        }
        if (src->nanchors > 0) {
                idx = malloc(src->nanchors * sizeof *idx);
                known = malloc((l->nroots_known > 0 ? l->nroots_known : 1) * sizeof *known);
                if (idx == NULL || known == NULL) {
                        verdict_set(out, VERDICT_UNKNOWN,
                                    "out of memory sorting %zu anchors and %zu known roots",
                                    src->nanchors, l->nroots_known);
                        goto cleanup;
                }
                for (i = 0; i < src->nanchors; i++)
                        idx[i].a = &src->anchors[i];
                if (l->nroots_known > 0 && l->roots_known != NULL)
                        memcpy(known, l->roots_known, l->nroots_known * sizeof *known);
        }
        if (src->nanchors > 0 && nindex > 0) {
                read = malloc(src->nanchors * sizeof *read);
                index = malloc(nindex * sizeof *index);
                if (read == NULL || index == NULL) {
                        verdict_set(out, VERDICT_UNKNOWN,
                                    "out of memory sorting %zu anchors and %zu known anchors",
                                    src->nanchors, nindex);
                        goto cleanup;
                }
                memcpy(read, src->anchors, src->nanchors * sizeof *read);
                memcpy(index, s->known_anchors, nindex * sizeof *index);
                qsort(read, src->nanchors, sizeof *read, anchor_by_root);
                qsort(index, nindex, sizeof *index, anchor_by_root);
        }

        ledger_duplicates(l, &f);
        if (src->nanchors > 0) {
                anchored_twice(idx, src->nanchors, &f);
                anchors_known(src, known, l->roots_known != NULL ? l->nroots_known : 0, &f);
                if (read != NULL)
                        anchored_again(read, src->nanchors, index, nindex, &f);
        }
        evidence_u64(ev, "problems", f.n);
        if (f.n == 0)
                verdict_set(out, VERDICT_OK,
                            "%zu ledger batches, %zu anchors on source in blocks %llu..%llu: no "
                            "root or batch number twice, every anchored root known to the ledger "
                            "under its batch number%s%s",
                            l->nbatches, src->nanchors,
                            (unsigned long long)s->chains[SNAP_SOURCE].anchors_from + 1,
                            (unsigned long long)s->chains[SNAP_SOURCE].anchors_to,
                            s->known_anchors_failed
                                    ? " (roots anchored in earlier cycles not compared: the "
                                      "known-anchors index was not read: "
                                    : "",
                            s->known_anchors_failed ? "see known_anchors_error)" : "");
        else if (f.n == 1)
                verdict_set(out, VERDICT_VIOLATED, "%s", f.first);
        else
                verdict_set(out, VERDICT_VIOLATED, "%zu problems, first: %s", f.n, f.first);
        /* A duplicate in the ledger stands whatever any endpoint says. */
        if (f.n > f.chain)
                checks_rests_on(out, CHECKS_LEDGER);
        else if (f.n > 0)
                checks_rests_on(out, snap_chain_role_name(SNAP_SOURCE));
cleanup:
        free(idx);
        free(known);
        free(read);
        free(index);
}

const struct invariant duplicate_batch_check = {
        .name = "DUPLICATE_BATCH",
        .tier = VERDICT_TIER_HALT,
        .weighs_views = 1,
        .evaluate = evaluate,
        .reads_history = 1,
};
