#include "observe_ledger.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ledger.h"
#include "rwclock.h"
#include "state.h"

#define DEFAULT_RECENT_ROWS 100u
#define DEFAULT_RECENT_BLOCKS 10u

/* Query timings in fractional milliseconds. */
static double mono_ms_precise(void)
{
        return (double)rwclock_mono_us() / 1000.0;
}

/* Records how long query `name` took since `started`. */
static void timed(struct snapshot *s, const char *name, double started)
{
        struct snap_ledger *l = &s->ledger;

        if (l->nqueries < SNAP_QUERIES_MAX) {
                l->queries[l->nqueries].name = name;
                l->queries[l->nqueries].ms = mono_ms_precise() - started;
                l->nqueries++;
        }
}

/* Keeps the first failure of the cycle's ledger reads in the snapshot. */
static int ledger_failed(struct snapshot *s, int rc, const struct rwerr *err)
{
        if (s->ledger.ok || s->ledger.error[0] == '\0')
                (void)snprintf(s->ledger.error, sizeof s->ledger.error, "%s", err->msg);
        s->ledger.ok = 0;
        return rc;
}

int observe_ledger_begin(struct dbconn *c, const struct config *cfg, struct snapshot *s,
                         struct rwerr *err)
{
        struct ledger_progress_list progress = {0, NULL};
        double t;
        size_t i, role;
        int rc;

        s->ledger.ok = 0;
        /* a transaction an earlier cycle left open (it never should) is not this snapshot */
        if ((rc = ledger_snapshot_end(c, err)) != RW_OK)
                return ledger_failed(s, rc, err);
        if ((rc = dbconn_ensure(c, err)) != RW_OK || (rc = ledger_snapshot_begin(c, err)) != RW_OK)
                return ledger_failed(s, rc, err);
        t = mono_ms_precise();
        if ((rc = ledger_indexed_through(c, &progress, err)) != RW_OK)
                return ledger_failed(s, rc, err);
        timed(s, "indexed_through", t);
        for (role = 0; role < SNAP_NCHAINS; role++) {
                struct snap_chain *ch = &s->chains[role];

                ch->ledger_indexed = 0;
                for (i = 0; i < progress.n; i++) {
                        if (progress.rows[i].chain_id != cfg->chains[role].chain_id)
                                continue;
                        ch->ledger_indexed = progress.rows[i].indexed;
                        ch->indexed_through = progress.rows[i].indexed_through;
                }
        }
        ledger_progress_free(&progress);
        s->ledger.ok = 1;
        return RW_OK;
}

/* Rows found by name: the ledger orders them by its collation, not by strcmp. */
struct name_index {
        const char *name;
        size_t row;
};

static int name_index_cmp(const void *a, const void *b)
{
        return strcmp(((const struct name_index *)a)->name, ((const struct name_index *)b)->name);
}

/*
 * An index of `n` rows of `size` bytes whose name is at `name_offset`,
 * sorted for name_index_find. NULL when out of memory (or n == 0).
 */
static struct name_index *name_index_new(const void *rows, size_t n, size_t size,
                                         size_t name_offset)
{
        struct name_index *idx = n > 0 ? calloc(n, sizeof *idx) : NULL;
        size_t i;

        for (i = 0; idx != NULL && i < n; i++) {
                idx[i].name = (const char *)rows + i * size + name_offset;
                idx[i].row = i;
        }
        if (idx != NULL)
                qsort(idx, n, sizeof *idx, name_index_cmp);
        return idx;
}

/* The row named `name`, or -1. */
static long name_index_find(const struct name_index *idx, size_t n, const char *name)
{
        struct name_index key = {name, 0};
        const struct name_index *hit =
                idx != NULL ? bsearch(&key, idx, n, sizeof *idx, name_index_cmp) : NULL;

        return hit != NULL ? (long)hit->row : -1;
}

/*
 * The ledger's description of each configured asset must match the
 * configuration (the trusted side); a mismatch makes the asset unknown.
 */
static int read_assets(struct dbconn *c, struct snapshot *s, struct rwerr *err)
{
        struct ledger_assets la = {0, NULL};
        struct name_index *idx;
        double t = mono_ms_precise();
        size_t i;
        int rc;

        if ((rc = ledger_assets(c, &la, err)) != RW_OK)
                return rc;
        timed(s, "assets", t);
        idx = name_index_new(la.rows, la.n, sizeof *la.rows, offsetof(struct ledger_asset, asset));
        if (idx == NULL && la.n > 0) {
                ledger_assets_free(&la);
                return rwerr_set(err, RW_ERR_NOMEM, "out of memory for %zu assets", la.n);
        }
        for (i = 0; i < s->nassets; i++) {
                const struct snap_asset *a = &s->assets[i];
                struct snap_ledger_asset *l = &s->ledger.assets[i];
                long j = name_index_find(idx, la.n, a->name);

                l->known = 0;
                (void)snprintf(l->problem, sizeof l->problem,
                               "the ledger has no asset named %s (relaywatch.assets)", a->name);
                if (j >= 0) {
                        const struct ledger_asset *r = &la.rows[j];

                        if (memcmp(r->source_token, a->source_token, 20) != 0 ||
                            memcmp(r->bridged_token, a->bridged_token, 20) != 0)
                                (void)snprintf(l->problem, sizeof l->problem,
                                               "the ledger's %s has other token addresses than "
                                               "the configuration",
                                               a->name);
                        else if (r->decimals != a->decimals)
                                (void)snprintf(l->problem, sizeof l->problem,
                                               "the ledger's %s has %u decimals, the "
                                               "configuration %u",
                                               a->name, r->decimals, a->decimals);
                        else {
                                l->known = 1;
                                l->problem[0] = '\0';
                        }
                }
        }
        free(idx);
        ledger_assets_free(&la);
        return RW_OK;
}

/* Credited and debited of `side` from `t` into the asset fields chosen by `recent`. */
static int apply_totals(struct snapshot *s, enum ledger_side side, int recent,
                        const struct ledger_totals *t, struct rwerr *err)
{
        struct name_index *idx;
        size_t i;

        idx = name_index_new(t->rows, t->n, sizeof *t->rows, offsetof(struct ledger_total, asset));
        if (idx == NULL && t->n > 0)
                return rwerr_set(err, RW_ERR_NOMEM, "out of memory for %zu totals", t->n);
        for (i = 0; i < s->nassets; i++) {
                struct snap_ledger_asset *l = &s->ledger.assets[i];
                long row = name_index_find(idx, t->n, s->assets[i].name);
                const struct ledger_total *r = row >= 0 ? &t->rows[row] : NULL;
                struct u256 zero = {{0, 0, 0, 0}};
                struct u256 credited = r ? r->credited : zero, debited = r ? r->debited : zero;

                if (side == LEDGER_LOCKED && !recent) {
                        l->deposited = credited;
                        l->released = debited;
                } else if (side == LEDGER_LOCKED) {
                        l->recent_deposited = credited;
                        l->recent_released = debited;
                } else if (!recent) {
                        l->minted = credited;
                        l->burnt = debited;
                } else {
                        l->recent_minted = credited;
                        l->recent_burnt = debited;
                }
        }
        free(idx);
        return RW_OK;
}

static const char *totals_query_name(enum ledger_side side, int recent)
{
        return side == LEDGER_LOCKED ? (recent ? "locked_recent" : "locked_in_range")
                                     : (recent ? "minted_recent" : "minted_in_range");
}

/* Credited and debited of `side` in (after, through] into the asset fields chosen by `recent`. */
static int read_totals(struct dbconn *c, struct snapshot *s, enum ledger_side side, int64_t after,
                       uint64_t through, int recent, struct rwerr *err)
{
        struct ledger_totals t = {0, NULL};
        double started = mono_ms_precise();
        int rc;

        if ((rc = ledger_totals_in_range(c, side, after, through, &t, err)) != RW_OK)
                return rc;
        timed(s, totals_query_name(side, recent), started);
        rc = apply_totals(s, side, recent, &t, err);
        ledger_totals_free(&t);
        return rc;
}

/*
 * The totals of `side` since the first block through `through`, from its
 * running totals: only the blocks after those it covered are read, unless
 * a full sum is due (totals.h). Assets whose running totals a full sum
 * contradicted are counted in s->ledger.totals_changed.
 */
static int advance_totals(struct dbconn *c, struct snapshot *s, struct totals_tracker *t,
                          enum ledger_side side, uint64_t through, uint64_t now_ms,
                          struct rwerr *err)
{
        struct totals_result r;
        double started = mono_ms_precise();
        int rc;

        if ((rc = totals_tracker_advance(t, c, through, now_ms, &r, err)) != RW_OK)
                return rc;
        timed(s, totals_query_name(side, 0), started);
        if (!r.full_recompute)
                s->ledger.totals_running = 1;
        s->ledger.totals_changed += r.nchanges;
        return apply_totals(s, side, 0, r.totals, err);
}

/* The four totals a cycle reads: both sides through the pinned heights, and their recent blocks. */
struct totals_read {
        int64_t after; /* -1: from the first block */
        uint64_t through;
        enum ledger_side side;
        int recent;
};

static uint64_t recent_blocks(const struct observe_window *w)
{
        return w->recent_blocks ? w->recent_blocks : DEFAULT_RECENT_BLOCKS;
}

static void plan_totals(const struct observe_window *w, const struct snapshot *s,
                        struct totals_read plan[4])
{
        uint64_t recent = recent_blocks(w);
        uint64_t src = s->chains[SNAP_SOURCE].pinned, exe = s->chains[SNAP_EXECUTION].pinned;

        plan[0] = (struct totals_read){-1, src, LEDGER_LOCKED, 0};
        plan[1] = (struct totals_read){-1, exe, LEDGER_MINTED, 0};
        plan[2] = (struct totals_read){src > recent ? (int64_t)(src - recent) : -1, src,
                                       LEDGER_LOCKED, 1};
        plan[3] = (struct totals_read){exe > recent ? (int64_t)(exe - recent) : -1, exe,
                                       LEDGER_MINTED, 1};
}

static int read_all_totals(struct dbconn *c, const struct observe_window *w,
                           const struct observe_totals *totals, struct snapshot *s,
                           struct rwerr *err)
{
        struct totals_read plan[4];
        size_t i;
        int rc;

        plan_totals(w, s, plan);
        s->ledger.totals_running = 0;
        s->ledger.totals_changed = 0;
        for (i = 0; i < 4; i++) {
                struct totals_tracker *t =
                        totals != NULL && !plan[i].recent ? totals->side[plan[i].side] : NULL;

                if (t != NULL)
                        rc = advance_totals(c, s, t, plan[i].side, plan[i].through, totals->now_ms,
                                            err);
                else
                        rc = read_totals(c, s, plan[i].side, plan[i].after, plan[i].through,
                                         plan[i].recent, err);
                if (rc != RW_OK)
                        return rc;
        }
        for (i = 0; i < s->nassets; i++)
                s->ledger.assets[i].recent_blocks = recent_blocks(w);
        return RW_OK;
}

int observe_ledger_recount(struct dbconn *c, const struct observe_totals *totals,
                           struct snapshot *s, struct rwerr *err)
{
        enum ledger_side side;
        int rc;

        if (!s->ledger.ok || !s->ledger.totals_running)
                return RW_OK;
        for (side = LEDGER_LOCKED; side <= LEDGER_MINTED; side++) {
                uint64_t through =
                        s->chains[side == LEDGER_LOCKED ? SNAP_SOURCE : SNAP_EXECUTION].pinned;

                totals_tracker_recount(totals->side[side]);
                if ((rc = advance_totals(c, s, totals->side[side], side, through, totals->now_ms,
                                         err)) != RW_OK)
                        return ledger_failed(s, rc, err);
        }
        s->ledger.totals_running = 0; /* summed in full just now */
        return RW_OK;
}

/*
 * Sends ahead the leaves and withdrawals of the batches in (after, last]
 * (none when last is 0: no batches), and `more` reads with them. A failure
 * to send is no failure: the reads then run one by one when asked for.
 */
static void send_page_reads(struct dbconn *c, uint64_t after, uint64_t last,
                            const struct ledger_read *more, size_t nmore)
{
        struct ledger_read r[AHEAD_MAX];
        struct rwerr ignored;
        size_t n = 0, i;

        if (last > after) {
                if (ledger_read_leaves(&r[n], after, last, &ignored) == RW_OK)
                        n++;
                if (ledger_read_withdrawals(&r[n], after, last, &ignored) == RW_OK)
                        n++;
        }
        for (i = 0; i < nmore && n < AHEAD_MAX; i++)
                r[n++] = more[i];
        if (n > 0 && ledger_send_ahead(c, r, n, &ignored) != RW_OK) {
                /* asked for one by one */
        }
}

/*
 * One page of history: the batches after `after`, with their leaves and
 * withdrawals, these two sent ahead together with `more` (nmore reads the
 * caller asks for next) as soon as the page's last batch is known.
 */
static int read_batches(struct dbconn *c, uint64_t after, unsigned max_batches,
                        const struct ledger_read *more, size_t nmore, struct snapshot *s,
                        struct rwerr *err)
{
        struct snap_ledger *l = &s->ledger;
        struct ledger_batches b = {0, NULL};
        struct ledger_leaves leaves = {0, NULL};
        struct ledger_withdrawals wd = {0, NULL};
        unsigned limit = max_batches ? max_batches : OBSERVE_PAGE_BATCHES;
        uint64_t last;
        double t = mono_ms_precise();
        size_t i;
        int rc;

        l->batches_after = after;
        l->more_batches = 0;
        if ((rc = ledger_batches_after(c, after, limit, &b, err)) != RW_OK)
                return rc;
        timed(s, "batches_after", t);
        last = b.n > 0 ? b.rows[b.n - 1].batch_number : 0;
        send_page_reads(c, after, last, more, nmore);
        if (b.n == 0) {
                ledger_batches_free(&b);
                return RW_OK;
        }
        l->more_batches = b.n >= limit;
        t = mono_ms_precise();
        if ((rc = ledger_leaves_in_batches(c, after, last, &leaves, err)) != RW_OK)
                goto done;
        timed(s, "leaves_in_batches", t);
        t = mono_ms_precise();
        if ((rc = ledger_withdrawals_in_batches(c, after, last, &wd, err)) != RW_OK)
                goto done;
        timed(s, "withdrawals_in_batches", t);
        l->batches = calloc(b.n, sizeof *l->batches);
        l->leaves = calloc(leaves.n ? leaves.n : 1, sizeof *l->leaves);
        l->withdrawals = calloc(wd.n ? wd.n : 1, sizeof *l->withdrawals);
        if (l->batches == NULL || l->leaves == NULL || l->withdrawals == NULL) {
                rc = rwerr_set(err, RW_ERR_NOMEM, "out of memory for %zu batches", b.n);
                goto done;
        }
        for (i = 0; i < b.n; i++) {
                const struct ledger_batch *r = &b.rows[i];
                struct snap_batch *o = &l->batches[i];

                o->batch_number = r->batch_number;
                memcpy(o->merkle_root, r->merkle_root, 32);
                o->leaf_count = r->leaf_count;
                o->anchored = r->anchored;
                o->has_anchor_block = r->has_anchor_block;
                o->anchor_block = r->anchor_block;
                memcpy(o->relayer_signature, r->relayer_signature, 65);
                o->created_ms = r->created_ms;
                o->anchored_ms = r->anchored_ms;
        }
        l->nbatches = b.n;
        for (i = 0; i < leaves.n; i++) {
                const struct ledger_leaf *r = &leaves.rows[i];
                struct snap_leaf *o = &l->leaves[i];

                o->batch_number = r->batch_number;
                o->leaf_index = r->leaf_index;
                o->withdrawal_id = r->withdrawal_id;
                memcpy(o->token, r->token, 20);
                memcpy(o->recipient, r->recipient, 20);
                o->amount = r->amount;
                memcpy(o->leaf_hash, r->leaf_hash, 32);
        }
        l->nleaves = leaves.n;
        for (i = 0; i < wd.n; i++) {
                const struct ledger_withdrawal *r = &wd.rows[i];
                struct snap_withdrawal *o = &l->withdrawals[i];

                o->withdrawal_id = r->withdrawal_id;
                o->batch_number = r->batch_number;
                memcpy(o->token, r->token, 20);
                memcpy(o->recipient, r->recipient, 20);
                o->amount = r->amount;
                o->proof_len = r->proof_len;
                memcpy(o->proof, r->proof, r->proof_len * 32);
        }
        l->nwithdrawals = wd.n;
done:
        ledger_batches_free(&b);
        ledger_leaves_free(&leaves);
        ledger_withdrawals_free(&wd);
        return rc;
}

static int read_duplicates(struct dbconn *c, struct snapshot *s, struct rwerr *err)
{
        struct ledger_duplicates d = {0, NULL};
        double t = mono_ms_precise();
        size_t i;
        int rc;

        if ((rc = ledger_duplicate_batches(c, &d, err)) != RW_OK)
                return rc;
        timed(s, "duplicate_batches", t);
        if (d.n > 0) {
                s->ledger.duplicates = calloc(d.n, sizeof *s->ledger.duplicates);
                if (s->ledger.duplicates == NULL) {
                        ledger_duplicates_free(&d);
                        return rwerr_set(err, RW_ERR_NOMEM, "out of memory for duplicates");
                }
        }
        for (i = 0; i < d.n; i++) {
                struct snap_duplicate *o = &s->ledger.duplicates[i];

                o->is_root = d.rows[i].is_root;
                (void)snprintf(o->value, sizeof o->value, "%s", d.rows[i].value);
                (void)snprintf(o->batch_numbers, sizeof o->batch_numbers, "%s",
                               d.rows[i].batch_numbers);
        }
        s->ledger.nduplicates = d.n;
        ledger_duplicates_free(&d);
        return RW_OK;
}

static int read_nonces(struct dbconn *c, struct snapshot *s, struct rwerr *err)
{
        struct ledger_nonces n = {0, NULL};
        double t = mono_ms_precise();
        size_t i, j;
        int rc;

        if ((rc = ledger_expected_nonces(c, &n, err)) != RW_OK)
                return rc;
        timed(s, "expected_nonces", t);
        for (i = 0; i < s->naccounts; i++) {
                struct snap_account *a = &s->accounts[i];

                /* No row: the relayer has never sent from this account on this
                 * chain, so the ledger expects nonce 0 (sql/README.md). */
                a->ledger_known = 1;
                a->ledger_next = 0;
                for (j = 0; j < n.n; j++) {
                        if (n.rows[j].chain_id == s->chains[a->chain].chain_id &&
                            memcmp(n.rows[j].account, a->address, 20) == 0) {
                                a->ledger_known = 1;
                                a->ledger_next = n.rows[j].next_nonce;
                        }
                }
        }
        ledger_nonces_free(&n);
        return RW_OK;
}

static uint64_t start_after(int64_t cursor, uint64_t latest, unsigned recent)
{
        if (cursor >= 0)
                return (uint64_t)cursor;
        return latest > recent ? latest - recent : 0;
}

/* Where the operations and cycle timings start: after the window's cursors, or the recent rows. */
struct operations_from {
        uint64_t ops_after, cycles_after;
        unsigned max_rows;
};

/* The latest ids (for where the operations start) and the pending operations. */
static int read_latest(struct dbconn *c, const struct observe_window *w, struct snapshot *s,
                       struct operations_from *from, struct rwerr *err)
{
        unsigned recent = w->recent_rows ? w->recent_rows : DEFAULT_RECENT_ROWS;
        uint64_t latest_op = 0, latest_cycle = 0;
        double t = mono_ms_precise();
        int rc;

        if ((rc = ledger_latest_ids(c, &latest_op, &latest_cycle, err)) != RW_OK)
                return rc;
        timed(s, "latest_ids", t);
        from->ops_after = start_after(w->ops_after, latest_op, recent);
        from->cycles_after = start_after(w->cycles_after, latest_cycle, recent);
        from->max_rows = recent * 10;
        t = mono_ms_precise();
        if ((rc = ledger_pending_operations(c, &s->ledger.pending_operations, err)) != RW_OK)
                return rc;
        timed(s, "pending_operations", t);
        return RW_OK;
}

/* The two reads of read_operations, described to go ahead with a page's (read_batches). */
static size_t describe_operations(const struct operations_from *from, struct ledger_read r[2])
{
        struct rwerr ignored;
        size_t n = 0;

        if (ledger_read_operations(&r[n], from->ops_after, from->max_rows, &ignored) == RW_OK)
                n++;
        if (ledger_read_cycle_timings(&r[n], from->cycles_after, from->max_rows, &ignored) == RW_OK)
                n++;
        return n;
}

static int read_operations(struct dbconn *c, const struct operations_from *from, struct snapshot *s,
                           struct rwerr *err)
{
        struct ledger_operations ops = {0, NULL};
        struct ledger_cycles cyc = {0, NULL};
        double t = mono_ms_precise();
        size_t i;
        int rc;

        if ((rc = ledger_operations_after(c, from->ops_after, from->max_rows, &ops, err)) != RW_OK)
                return rc;
        timed(s, "operations_after", t);
        t = mono_ms_precise();
        if ((rc = ledger_cycle_timings_after(c, from->cycles_after, from->max_rows, &cyc, err)) !=
            RW_OK)
                goto done;
        timed(s, "cycle_timings_after", t);
        s->ledger.operations = calloc(ops.n ? ops.n : 1, sizeof *s->ledger.operations);
        s->ledger.cycles = calloc(cyc.n ? cyc.n : 1, sizeof *s->ledger.cycles);
        if (s->ledger.operations == NULL || s->ledger.cycles == NULL) {
                rc = rwerr_set(err, RW_ERR_NOMEM, "out of memory for operations");
                goto done;
        }
        for (i = 0; i < ops.n; i++) {
                const struct ledger_operation *r = &ops.rows[i];
                struct snap_operation *o = &s->ledger.operations[i];

                o->op_id = r->op_id;
                (void)snprintf(o->kind, sizeof o->kind, "%s", r->kind);
                o->chain_id = r->chain_id;
                o->nonce = r->nonce;
                o->has_tx_hash = r->has_tx_hash;
                memcpy(o->tx_hash, r->tx_hash, 32);
                o->gas_estimate = r->gas_estimate;
                o->has_gas_used = r->has_gas_used;
                o->gas_used = r->gas_used;
                (void)snprintf(o->status, sizeof o->status, "%s", r->status);
        }
        s->ledger.noperations = ops.n;
        for (i = 0; i < cyc.n; i++) {
                s->ledger.cycles[i].cycle_id = cyc.rows[i].cycle_id;
                s->ledger.cycles[i].duration_ms = cyc.rows[i].duration_ms;
        }
        s->ledger.ncycles = cyc.n;
done:
        ledger_operations_free(&ops);
        ledger_cycles_free(&cyc);
        return rc;
}

/*
 * The snapshot's first reads, every one of whose arguments is known once
 * the heights are pinned, sent ahead together in the order they are asked
 * for below; a failure to send them is no failure (one by one then).
 */
static void send_first_reads(struct dbconn *c, const struct observe_window *w,
                             const struct observe_totals *totals, const struct snapshot *s)
{
        struct ledger_read r[AHEAD_MAX];
        struct totals_read plan[4];
        struct rwerr ignored;
        size_t n = 0, i;

        ledger_read_assets(&r[n++]);
        plan_totals(w, s, plan);
        for (i = 0; i < 4; i++) {
                struct totals_tracker *t =
                        totals != NULL && !plan[i].recent ? totals->side[plan[i].side] : NULL;

                if (t != NULL)
                        n += totals_tracker_reads(t, plan[i].through, totals->now_ms, &r[n]);
                else if (ledger_read_totals(&r[n], plan[i].side, plan[i].after, plan[i].through,
                                            &ignored) == RW_OK)
                        n++;
        }
        if (w->batches_after == 0)
                ledger_read_duplicates(&r[n++]);
        ledger_read_nonces(&r[n++]);
        ledger_read_latest_ids(&r[n++]);
        ledger_read_pending_operations(&r[n++]);
        if (ledger_read_batches(&r[n], w->batches_after,
                                w->max_batches ? w->max_batches : OBSERVE_PAGE_BATCHES,
                                &ignored) == RW_OK)
                n++;
        if (ledger_send_ahead(c, r, n, &ignored) != RW_OK) {
                /* asked for one by one */
        }
}

int observe_ledger_read(struct dbconn *c, const struct observe_window *w,
                        const struct observe_totals *totals, struct snapshot *s, struct rwerr *err)
{
        struct operations_from from;
        struct ledger_read ops[2];
        size_t nops;
        int rc;

        if (!s->ledger.ok)
                return rwerr_set(err, RW_ERR_INVALID, "%s", s->ledger.error);
        send_first_reads(c, w, totals, s);
        s->ledger.duplicates_in_page = w->batches_after > 0;
        if ((rc = read_assets(c, s, err)) != RW_OK ||
            (rc = read_all_totals(c, w, totals, s, err)) != RW_OK ||
            (!s->ledger.duplicates_in_page && (rc = read_duplicates(c, s, err)) != RW_OK) ||
            (rc = read_nonces(c, s, err)) != RW_OK ||
            (rc = read_latest(c, w, s, &from, err)) != RW_OK)
                return ledger_failed(s, rc, err);
        nops = describe_operations(&from, ops);
        if ((rc = read_batches(c, w->batches_after, w->max_batches, ops, nops, s, err)) != RW_OK ||
            (rc = read_operations(c, &from, s, err)) != RW_OK)
                return ledger_failed(s, rc, err);
        return RW_OK;
}

int observe_ledger_page(struct dbconn *c, uint64_t after, unsigned max_batches, struct snapshot *s,
                        struct rwerr *err)
{
        int rc;

        if (!s->ledger.ok)
                return rwerr_set(err, RW_ERR_INVALID, "%s", s->ledger.error);
        if ((rc = read_batches(c, after, max_batches, NULL, 0, s, err)) != RW_OK)
                return ledger_failed(s, rc, err);
        return RW_OK;
}

/*
 * The roots to ask the ledger about: those anchored in view 0 (when it was
 * read), then, when duplicates are found by page, those of the page's batches.
 */
static uint8_t (*roots_to_look_up(const struct snapshot *s, size_t *n))[32]
{
        const struct snap_view *v = &s->chains[SNAP_SOURCE].views[0];
        const struct snap_ledger *l = &s->ledger;
        size_t nanchors = s->chains[SNAP_SOURCE].nviews > 0 && v->ok ? v->nanchors : 0;
        size_t nbatches = l->duplicates_in_page ? l->nbatches : 0, i;
        uint8_t(*roots)[32];

        *n = nanchors + nbatches;
        if (*n == 0 || (roots = calloc(*n, sizeof *roots)) == NULL)
                return NULL;
        for (i = 0; i < nanchors; i++)
                memcpy(roots[i], v->anchors[i].root, 32);
        for (i = 0; i < nbatches; i++)
                memcpy(roots[nanchors + i], l->batches[i].merkle_root, 32);
        return roots;
}

static int root_batch_order(const void *x, const void *y)
{
        const struct ledger_root_batch *a = x, *b = y;
        int c = memcmp(a->merkle_root, b->merkle_root, 32);

        if (c != 0)
                return c;
        return a->batch_number < b->batch_number ? -1 : (a->batch_number > b->batch_number);
}

/*
 * Batch numbers listed as PostgreSQL writes an array, "{1,2,3}"; a list
 * too long for its buffer ends ",...}".
 */
struct batch_list {
        char *out;
        size_t size, len;
        int cut;
};

static void batch_list_start(struct batch_list *b, char *out, size_t size)
{
        *b = (struct batch_list){out, size, 1, 0};
        (void)snprintf(out, size, "{");
}

static void batch_list_add(struct batch_list *b, uint64_t number)
{
        char item[24];
        int w = snprintf(item, sizeof item, "%s%" PRIu64, b->len > 1 ? "," : "", number);

        if (b->cut || w < 0 || b->len + (size_t)w + sizeof ",...}" > b->size) {
                b->cut = 1;
                return;
        }
        memcpy(b->out + b->len, item, (size_t)w + 1);
        b->len += (size_t)w;
}

static void batch_list_end(struct batch_list *b)
{
        (void)snprintf(b->out + b->len, b->size - b->len, "%s", b->cut ? ",...}" : "}");
}

static struct snap_duplicate *add_duplicate(struct snap_ledger *l, size_t *cap)
{
        if (l->nduplicates == *cap) {
                size_t ncap = *cap ? *cap * 2 : 4;
                struct snap_duplicate *d = realloc(l->duplicates, ncap * sizeof *d);

                if (d == NULL)
                        return NULL;
                l->duplicates = d;
                *cap = ncap;
        }
        memset(&l->duplicates[l->nduplicates], 0, sizeof *l->duplicates);
        return &l->duplicates[l->nduplicates++];
}

/* 1 when one of the page's batches holds `root`. */
static int page_holds_root(const struct snap_ledger *l, const uint8_t root[32])
{
        size_t i;

        for (i = 0; i < l->nbatches; i++)
                if (memcmp(l->batches[i].merkle_root, root, 32) == 0)
                        return 1;
        return 0;
}

/*
 * The page's duplicates, as relaywatch.duplicate_batches lists them: each
 * root of the page's batches held by more than one batch (`r` sorted by
 * root then batch number), then each batch number twice among the page's
 * batches (listed in order). Replaces the last page's.
 */
static int page_duplicates(struct snap_ledger *l, const struct ledger_root_batches *r,
                           struct rwerr *err)
{
        struct batch_list list;
        struct snap_duplicate *d;
        size_t cap = 0, i, j, k;

        free(l->duplicates);
        l->duplicates = NULL;
        l->nduplicates = 0;
        for (i = 0; i < r->n; i = j) {
                const uint8_t *root = r->rows[i].merkle_root;

                for (j = i + 1; j < r->n && memcmp(r->rows[j].merkle_root, root, 32) == 0; j++)
                        ;
                if (j - i < 2 || !page_holds_root(l, root))
                        continue;
                if ((d = add_duplicate(l, &cap)) == NULL)
                        goto nomem;
                d->is_root = 1;
                (void)snprintf(d->value, sizeof d->value, "0x");
                for (k = 0; k < 32; k++)
                        (void)snprintf(d->value + 2 + 2 * k, 3, "%02x", root[k]);
                batch_list_start(&list, d->batch_numbers, sizeof d->batch_numbers);
                for (k = i; k < j; k++)
                        batch_list_add(&list, r->rows[k].batch_number);
                batch_list_end(&list);
        }
        for (i = 0; i < l->nbatches; i = j) {
                uint64_t b = l->batches[i].batch_number;

                for (j = i + 1; j < l->nbatches && l->batches[j].batch_number == b; j++)
                        ;
                if (j - i < 2)
                        continue;
                if ((d = add_duplicate(l, &cap)) == NULL)
                        goto nomem;
                (void)snprintf(d->value, sizeof d->value, "%" PRIu64, b);
                batch_list_start(&list, d->batch_numbers, sizeof d->batch_numbers);
                for (k = i; k < j; k++)
                        batch_list_add(&list, b);
                batch_list_end(&list);
        }
        return RW_OK;
nomem:
        return rwerr_set(err, RW_ERR_NOMEM, "out of memory for the page's duplicates");
}

int observe_ledger_roots(struct dbconn *c, struct snapshot *s, struct rwerr *err)
{
        struct ledger_root_batches r = {0, NULL};
        uint8_t(*roots)[32];
        size_t nroots, i;
        double t;
        int rc;

        if (!s->ledger.ok)
                return RW_OK;
        roots = roots_to_look_up(s, &nroots);
        if (roots == NULL && nroots > 0)
                return ledger_failed(s, rwerr_set(err, RW_ERR_NOMEM, "out of memory for roots"),
                                     err);
        if (nroots > 0) {
                t = mono_ms_precise();
                rc = ledger_batches_with_roots(c, (const uint8_t(*)[32])roots, nroots, &r, err);
                free(roots);
                if (rc != RW_OK)
                        return ledger_failed(s, rc, err);
                timed(s, "batches_with_roots", t);
        }
        if (r.n > 0) {
                qsort(r.rows, r.n, sizeof *r.rows, root_batch_order);
                s->ledger.roots_known = calloc(r.n, sizeof *s->ledger.roots_known);
                if (s->ledger.roots_known == NULL) {
                        ledger_root_batches_free(&r);
                        return ledger_failed(
                                s, rwerr_set(err, RW_ERR_NOMEM, "out of memory for roots"), err);
                }
        }
        for (i = 0; i < r.n; i++) {
                memcpy(s->ledger.roots_known[i].root, r.rows[i].merkle_root, 32);
                s->ledger.roots_known[i].batch_number = r.rows[i].batch_number;
        }
        s->ledger.nroots_known = r.n;
        rc = s->ledger.duplicates_in_page ? page_duplicates(&s->ledger, &r, err) : RW_OK;
        ledger_root_batches_free(&r);
        return rc == RW_OK ? RW_OK : ledger_failed(s, rc, err);
}

int observe_ledger_end(struct dbconn *c, struct rwerr *err)
{
        return ledger_snapshot_end(c, err);
}

struct anchors_lookup {
        const struct config *cfg;
        const uint8_t (*roots)[32];
        size_t nroots;
        struct state_anchor *rows; /* out */
        size_t nrows;
};

static int lookup_anchors(struct dbconn *c, void *arg, struct rwerr *err)
{
        struct anchors_lookup *l = arg;
        const struct config_chain *src = &l->cfg->chains[SNAP_SOURCE];

        return state_anchors_lookup(c, src->chain_id, src->root_registry, l->roots, l->nroots,
                                    &l->rows, &l->nrows, err);
}

int observe_ledger_known_anchors(struct dbconn *c, const struct config *cfg, struct snapshot *s,
                                 struct rwerr *err)
{
        const struct snap_chain *src = &s->chains[SNAP_SOURCE];
        const struct snap_view *v = &src->views[0];
        struct state_anchor *rows = NULL;
        uint8_t(*roots)[32];
        struct snap_anchor *known;
        struct rwerr step = {{0}};
        struct anchors_lookup lookup;
        size_t i, nrows = 0;
        int rc;

        if (!s->ledger.ok || src->nviews == 0 || v->nanchors == 0 || v->anchors == NULL)
                return RW_OK;
        if ((roots = malloc(v->nanchors * sizeof *roots)) == NULL)
                return rwerr_set(err, RW_ERR_NOMEM, "out of memory for %zu roots", v->nanchors);
        for (i = 0; i < v->nanchors; i++)
                memcpy(roots[i], v->anchors[i].root, sizeof roots[i]);
        lookup = (struct anchors_lookup){cfg, (const uint8_t(*)[32])roots, v->nanchors, NULL, 0};
        rc = dbconn_with_savepoint(c, "known_anchors", lookup_anchors, &lookup, &step);
        rows = lookup.rows;
        nrows = lookup.nrows;
        free(roots);
        if (rc == RW_ERR_NOMEM) {
                *err = step;
                return rc;
        }
        if (rc != RW_OK) {
                s->known_anchors_failed = 1;
                (void)snprintf(s->known_anchors_error, sizeof s->known_anchors_error, "%s",
                               step.msg);
                return RW_OK;
        }
        if (nrows == 0)
                return RW_OK;
        if ((known = calloc(nrows, sizeof *known)) == NULL) {
                free(rows);
                return rwerr_set(err, RW_ERR_NOMEM, "out of memory for %zu known anchors", nrows);
        }
        for (i = 0; i < nrows; i++) {
                known[i].batch_id = rows[i].batch_number;
                memcpy(known[i].root, rows[i].root, sizeof known[i].root);
                known[i].block_number = rows[i].block_number;
                memcpy(known[i].tx_hash, rows[i].tx_hash, sizeof known[i].tx_hash);
        }
        free(rows);
        free(s->known_anchors);
        s->known_anchors = known;
        s->nknown_anchors = nrows;
        return RW_OK;
}
