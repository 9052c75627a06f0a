#include "cycle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "hex.h"
#include "rwclock.h"

void cycle_new_correlation_id(char *out, size_t cap)
{
        uint8_t id[16];
        char text[HEX_ENCODED_SIZE(16)];

        randombytes_buf(id, sizeof id);
        (void)hex_encode(id, sizeof id, text, sizeof text);
        (void)snprintf(out, cap, "%s", text + 2); /* without "0x" */
}

/* Orders events by their identity: tx hash, root, batch id. */
static int by_event(const void *x, const void *y)
{
        const struct snap_anchor *a = *(const struct snap_anchor *const *)x;
        const struct snap_anchor *b = *(const struct snap_anchor *const *)y;
        int c = memcmp(a->tx_hash, b->tx_hash, sizeof a->tx_hash);

        if (c == 0)
                c = memcmp(a->root, b->root, sizeof a->root);
        if (c == 0)
                c = (a->batch_id > b->batch_id) - (a->batch_id < b->batch_id);
        return c;
}

/* Keeps view 0's events of this page that the known-anchors index lacks, for the caller. */
static void keep_new_anchors(struct cycle_result *out, const struct snap_view *v)
{
        const struct snapshot *s = &out->snapshot;
        const struct snap_anchor **known = NULL;
        size_t i, n = s->nknown_anchors;

        if (v->nanchors == 0 || v->anchors == NULL)
                return;
        if (n > 0 && (known = malloc(n * sizeof(const struct snap_anchor *))) != NULL) {
                for (i = 0; i < n; i++)
                        known[i] = &s->known_anchors[i];
                qsort(known, n, sizeof(const struct snap_anchor *), by_event);
        }
        for (i = 0; i < v->nanchors; i++) {
                const struct snap_anchor *a = &v->anchors[i];
                struct snap_anchor *grown;

                if (known != NULL &&
                    bsearch(&a, known, n, sizeof(const struct snap_anchor *), by_event) != NULL)
                        continue; /* indexed already */
                if (out->nnew_anchors >= CYCLE_NEW_ANCHORS_MAX) {
                        out->new_anchors_dropped++;
                        continue;
                }
                if ((out->nnew_anchors & (out->nnew_anchors - 1)) == 0) { /* 0, 1, 2, 4, ... */
                        size_t cap = out->nnew_anchors ? 2 * out->nnew_anchors : 16;

                        grown = realloc(out->new_anchors, cap * sizeof *grown);
                        if (grown == NULL) {
                                out->new_anchors_dropped++;
                                continue;
                        }
                        out->new_anchors = grown;
                }
                out->new_anchors[out->nnew_anchors++] = *a;
        }
        free(known);
}

/* What the page in the snapshot adds to the cycle's result before the next replaces it. */
static void account_page(struct cycle_result *out, int *unbroken)
{
        const struct snapshot *s = &out->snapshot;
        const struct snap_chain *src = &s->chains[SNAP_SOURCE];
        const struct snap_view *v = src->nviews > 0 ? &src->views[0] : NULL;
        static const uint8_t zero[32];
        size_t i;

        out->pages.pages++;
        out->pages.batches += s->ledger.nbatches;
        out->pages.withdrawals += s->ledger.nwithdrawals;
        out->pages.anchors += v != NULL ? v->nanchors : 0;
        for (i = 0; *unbroken && i < s->ledger.nbatches; i++) {
                if (v == NULL || !v->ok || v->anchored_roots == NULL ||
                    memcmp(v->anchored_roots[i], zero, 32) == 0)
                        *unbroken = 0;
                else
                        out->anchored_through = s->ledger.batches[i].batch_number;
        }
        if (v != NULL && v->ok)
                keep_new_anchors(out, v);
}

/*
 * A cycle whose totals came from running totals and whose Tier 1 verdicts
 * show a violation is evaluated again on a full sum of the ledger (same
 * heights, same transaction): a row the relayer wrote late at a block
 * already counted must not raise a false halt.
 */
static void recount_if_not_ok(struct observer *o, const struct invariant_params *params,
                              struct cycle_result *out)
{
        size_t i;

        if (!out->snapshot.ledger.totals_running ||
            invariants_tier1_status(out->verdicts, out->nverdicts) != VERDICT_VIOLATED)
                return;
        observer_recount_totals(o, &out->snapshot);
        for (i = 0; i < out->nverdicts; i++)
                verdict_release(&out->verdicts[i]);
        invariants_evaluate(&out->snapshot, params, out->verdicts);
        out->totals_recounted = 1;
}

static size_t views_read(const struct snapshot *s)
{
        size_t c, n = 0;

        for (c = 0; c < SNAP_NCHAINS; c++)
                n += s->chains[c].nviews;
        return n;
}

/* Confirms through the other endpoints while a verdict of `v` asks for it, and evaluates again. */
static int confirm(struct observer *o, const struct invariant_params *params,
                   struct cycle_result *out, struct verdict *v, int history_only, struct rwerr *err)
{
        size_t i;
        int rc;

        /* each round reads only as many endpoints as a quorum needs; views
         * that disagree or fail ask for the next ones */
        while (invariants_need_confirmation(v, invariant_count)) {
                size_t before = views_read(&out->snapshot);

                if ((rc = observer_confirm(o, &out->snapshot, err)) != RW_OK)
                        return rc;
                if (views_read(&out->snapshot) == before)
                        break; /* no endpoint left to ask */
                for (i = 0; i <= invariant_count; i++)
                        verdict_release(&v[i]);
                if (history_only)
                        invariants_evaluate_history(&out->snapshot, params, v);
                else
                        invariants_evaluate(&out->snapshot, params, v);
                out->confirmed = 1;
        }
        return RW_OK;
}

/* The pages after the first, each evaluated by the checks that read history and merged in. */
static int read_pages(struct observer *o, const struct invariant_params *params,
                      struct cycle_result *out, int *unbroken, struct rwerr *err)
{
        struct verdict *page = calloc(invariant_count + 1, sizeof *page);
        size_t i;
        int rc = RW_OK, more = 1;

        if (page == NULL)
                return rwerr_set(err, RW_ERR_NOMEM, "out of memory for a page's verdicts");
        while (rc == RW_OK) {
                if ((rc = observer_next_page(o, &out->snapshot, &more, err)) != RW_OK || !more)
                        break;
                invariants_evaluate_history(&out->snapshot, params, page);
                if ((rc = confirm(o, params, out, page, 1, err)) != RW_OK)
                        break;
                for (i = 0; i < invariant_count; i++)
                        pages_merge(invariant_table[i], &out->verdicts[i], &page[i]);
                account_page(out, unbroken);
        }
        for (i = 0; i <= invariant_count; i++)
                verdict_release(&page[i]);
        free(page);
        if (rc == RW_OK && out->pages.pages > 1) {
                pages_note_totals(out->verdicts, &out->pages);
                invariants_evaluate_disagreement(params, out->verdicts);
        }
        return rc;
}

int cycle_run(struct observer *o, const struct invariant_params *params,
              const struct observe_window *w, uint64_t previous_cycle_ms, struct cycle_result *out,
              struct rwerr *err)
{
        uint64_t started = rwclock_mono_ms();
        int rc, unbroken = 1;

        memset(out, 0, sizeof *out);
        if (sodium_init() < 0)
                return rwerr_set(err, RW_ERR_INVALID, "libsodium failed to initialise");
        out->nverdicts = invariant_count + 1;
        out->verdicts = calloc(out->nverdicts, sizeof *out->verdicts);
        if (out->verdicts == NULL) {
                out->nverdicts = 0;
                return rwerr_set(err, RW_ERR_NOMEM, "out of memory for verdicts");
        }
        cycle_new_correlation_id(out->snapshot.correlation_id, sizeof out->snapshot.correlation_id);
        out->snapshot.previous_cycle_ms = previous_cycle_ms;
        out->anchored_through = w->batches_after;
        if ((rc = observer_observe(o, w, &out->snapshot, err)) != RW_OK)
                goto done;
        invariants_evaluate(&out->snapshot, params, out->verdicts);
        recount_if_not_ok(o, params, out);
        if ((rc = confirm(o, params, out, out->verdicts, 0, err)) != RW_OK)
                goto done;
        account_page(out, &unbroken);
        if ((rc = read_pages(o, params, out, &unbroken, err)) != RW_OK)
                goto done;
        out->tier1 = invariants_tier1_status(out->verdicts, out->nverdicts);
        out->duration_ms = rwclock_mono_ms() - started;
done:
        observer_end_pages(o); /* on every path: the next cycle's snapshot is its own */
        return rc;
}

int cycle_validate(const struct config *cfg, struct cycle_result *out, struct rwerr *err)
{
        /* every anchor from the deploy block, every batch, the latest rows: no cursor */
        struct observe_window w = {-1, 0, 0, -1, -1, 0, 0, 0};
        struct observer *obs;
        int rc;

        memset(out, 0, sizeof *out);
        w.max_batches = cfg->page_batches;
        if ((obs = observer_new(cfg, err)) == NULL)
                return RW_ERR_INVALID;
        rc = cycle_run(obs, &cfg->params, &w, 0, out, err);
        observer_free(obs);
        return rc;
}
