#include "totals.h"

#include <stdlib.h>
#include <string.h>

#include "rwerr.h"

struct totals_tracker {
        enum ledger_side side;
        uint64_t full_every_ms;
        int have;   /* running totals cover `through` */
        int verify; /* next advance must recompute and compare (seeded) */
        uint64_t through;
        uint64_t last_full_ms;
        struct ledger_totals running;
        struct totals_history_change *changes;
        size_t nchanges;
};

struct totals_tracker *totals_tracker_new(enum ledger_side side, uint64_t full_every_ms)
{
        struct totals_tracker *t = calloc(1, sizeof *t);

        if (t != NULL) {
                t->side = side;
                t->full_every_ms = full_every_ms;
        }
        return t;
}

void totals_tracker_free(struct totals_tracker *t)
{
        if (t == NULL)
                return;
        ledger_totals_free(&t->running);
        free(t->changes);
        free(t);
}

/*
 * The row of `asset` in `t`, or t->n when there is none. Every read of the
 * contract lists the assets in the same order, so the row is looked for at
 * `hint` (the asset's row in the other list) first: linear in the number of
 * assets instead of quadratic.
 */
static size_t index_of(const struct ledger_totals *t, const char *asset, size_t hint)
{
        size_t i;

        if (hint < t->n && strcmp(t->rows[hint].asset, asset) == 0)
                return hint;
        for (i = 0; i < t->n; i++) {
                if (strcmp(t->rows[i].asset, asset) == 0)
                        break;
        }
        return i;
}

static const struct ledger_total *find(const struct ledger_totals *t, const char *asset,
                                       size_t hint)
{
        size_t i = index_of(t, asset, hint);

        return i < t->n ? &t->rows[i] : NULL;
}

static int copy_totals(const struct ledger_totals *from, struct ledger_totals *to,
                       struct rwerr *err)
{
        struct ledger_total *rows = calloc(from->n > 0 ? from->n : 1, sizeof *rows);

        if (rows == NULL)
                return rwerr_set(err, RW_ERR_NOMEM, "out of memory copying ledger totals");
        if (from->n > 0)
                memcpy(rows, from->rows, from->n * sizeof *rows);
        ledger_totals_free(to);
        to->rows = rows;
        to->n = from->n;
        return RW_OK;
}

int totals_tracker_seed(struct totals_tracker *t, const struct ledger_totals *saved,
                        uint64_t through_block, struct rwerr *err)
{
        int rc = copy_totals(saved, &t->running, err);

        if (rc != RW_OK)
                return rc;
        t->through = through_block;
        t->have = 1;
        t->verify = 1;
        return RW_OK;
}

/*
 * running += delta, asset by asset. An asset new to the running totals is
 * appended (the contract returns every asset, so this only happens when
 * the operator adds one). Overflow past 2^256 is an error.
 */
static int add_delta(struct ledger_totals *running, const struct ledger_totals *delta,
                     enum ledger_side side, struct rwerr *err)
{
        struct ledger_totals sum = {0, NULL};
        size_t i;
        int rc;

        if ((rc = copy_totals(running, &sum, err)) != RW_OK)
                return rc;
        for (i = 0; i < delta->n; i++) {
                const struct ledger_total *d = &delta->rows[i];
                size_t at = index_of(&sum, d->asset, i);
                struct ledger_total *r;

                if (at == sum.n) {
                        struct ledger_total *grown = realloc(sum.rows, (sum.n + 1) * sizeof *grown);

                        if (grown == NULL) {
                                ledger_totals_free(&sum);
                                return rwerr_set(err, RW_ERR_NOMEM,
                                                 "out of memory adding an asset");
                        }
                        sum.rows = grown;
                        sum.rows[sum.n++] = *d;
                        continue;
                }
                r = &sum.rows[at];
                if (u256_add(&r->credited, &d->credited, &r->credited) != RW_OK ||
                    u256_add(&r->debited, &d->debited, &r->debited) != RW_OK) {
                        ledger_totals_free(&sum);
                        return rwerr_set(err, RW_ERR_RANGE,
                                         "%s total of asset %s exceeds 2^256-1 in the ledger",
                                         ledger_side_name(side), d->asset);
                }
        }
        ledger_totals_free(running);
        *running = sum;
        return RW_OK;
}

/* Records every asset whose running and full figures differ. */
static int compare(struct totals_tracker *t, const struct ledger_totals *running,
                   const struct ledger_totals *full, uint64_t block, struct rwerr *err)
{
        static const struct ledger_total zero;
        size_t i, cap = running->n + full->n;

        t->changes = calloc(cap > 0 ? cap : 1, sizeof *t->changes);
        if (t->changes == NULL)
                return rwerr_set(err, RW_ERR_NOMEM, "out of memory comparing ledger totals");
        for (i = 0; i < cap; i++) {
                const struct ledger_total *r, *f;
                struct totals_history_change *c;
                const char *asset;

                if (i < running->n) {
                        asset = running->rows[i].asset;
                } else {
                        asset = full->rows[i - running->n].asset;
                        if (find(running, asset, i - running->n) != NULL)
                                continue; /* compared in the first pass */
                }
                if (asset == NULL)
                        continue;
                r = find(running, asset, i < running->n ? i : i - running->n);
                f = find(full, asset, i < running->n ? i : i - running->n);
                r = r ? r : &zero;
                f = f ? f : &zero;
                if (u256_eq(&r->credited, &f->credited) && u256_eq(&r->debited, &f->debited))
                        continue;
                c = &t->changes[t->nchanges++];
                memcpy(c->asset, asset, sizeof c->asset);
                c->through_block = block;
                c->running_credited = r->credited;
                c->full_credited = f->credited;
                c->running_debited = r->debited;
                c->full_debited = f->debited;
        }
        return RW_OK;
}

static int recompute(struct totals_tracker *t, struct dbconn *c, uint64_t through_block,
                     uint64_t now_ms, struct rwerr *err)
{
        struct ledger_totals full = {0, NULL}, delta = {0, NULL}, ahead = {0, NULL};
        int rc;

        if ((rc = ledger_totals_in_range(c, t->side, -1, through_block, &full, err)) != RW_OK)
                return rc;
        /* Compare like with like: a copy of the running totals brought to the same block. */
        if (t->have && through_block >= t->through) {
                rc = copy_totals(&t->running, &ahead, err);
                if (rc == RW_OK && through_block > t->through)
                        rc = ledger_totals_in_range(c, t->side, (int64_t)t->through, through_block,
                                                    &delta, err);
                if (rc == RW_OK)
                        rc = add_delta(&ahead, &delta, t->side, err);
                if (rc == RW_OK)
                        rc = compare(t, &ahead, &full, through_block, err);
                ledger_totals_free(&delta);
                ledger_totals_free(&ahead);
        }
        if (rc == RW_OK) {
                ledger_totals_free(&t->running);
                t->running = full;
                t->through = through_block;
                t->have = 1;
                t->verify = 0;
                t->last_full_ms = now_ms;
        } else {
                ledger_totals_free(&full);
        }
        return rc;
}

int totals_tracker_current(const struct totals_tracker *t, const struct ledger_totals **totals,
                           uint64_t *through_block)
{
        if (!t->have || t->verify)
                return 0;
        *totals = &t->running;
        *through_block = t->through;
        return 1;
}

void totals_tracker_recount(struct totals_tracker *t)
{
        if (t->have)
                t->verify = 1;
}

/* Whether the next advance to `through_block` sums the whole ledger. */
static int full_due(const struct totals_tracker *t, uint64_t through_block, uint64_t now_ms)
{
        return !t->have || t->verify || through_block < t->through ||
               now_ms - t->last_full_ms >= t->full_every_ms;
}

size_t totals_tracker_reads(const struct totals_tracker *t, uint64_t through_block, uint64_t now_ms,
                            struct ledger_read r[2])
{
        struct rwerr ignored;
        size_t n = 0;

        if (full_due(t, through_block, now_ms)) {
                if (ledger_read_totals(&r[n], t->side, -1, through_block, &ignored) == RW_OK)
                        n++;
                if (!t->have || through_block < t->through)
                        return n; /* nothing to compare with */
        }
        if (through_block > t->through && ledger_read_totals(&r[n], t->side, (int64_t)t->through,
                                                             through_block, &ignored) == RW_OK)
                n++;
        return n;
}

int totals_tracker_advance(struct totals_tracker *t, struct dbconn *c, uint64_t through_block,
                           uint64_t now_ms, struct totals_result *out, struct rwerr *err)
{
        int full = full_due(t, through_block, now_ms);
        int rc = RW_OK;

        free(t->changes);
        t->changes = NULL;
        t->nchanges = 0;
        if (full) {
                rc = recompute(t, c, through_block, now_ms, err);
        } else if (through_block > t->through) {
                struct ledger_totals delta = {0, NULL};

                rc = ledger_totals_in_range(c, t->side, (int64_t)t->through, through_block, &delta,
                                            err);
                if (rc == RW_OK)
                        rc = add_delta(&t->running, &delta, t->side, err);
                if (rc == RW_OK)
                        t->through = through_block;
                ledger_totals_free(&delta);
        }
        if (rc != RW_OK)
                return rc;
        out->totals = &t->running;
        out->through_block = t->through;
        out->full_recompute = full;
        out->nchanges = t->nchanges;
        out->changes = t->changes;
        return RW_OK;
}
