#define _GNU_SOURCE /* pthread_setname_np */
#include "cycle_worker.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "cycle.h"
#include "jsonlog.h"
#include "hex.h"
#include "observe.h"
#include "record_queue.h"
#include "rwclock.h"
#include "state.h"

#define REPORTS_MAX 4         /* reports waiting for the loop; the worker waits when it is full */
#define RECORDS_RETRY_MS 5000 /* between flushes of the record queue after one failed */
/* between saves of the cursors and the anchor index after one failed */
#define PERSIST_RETRY_MS 5000
/* checked anchors waiting for the index; beyond, a full sweep adds them again */
#define PENDING_ANCHORS_MAX 200000
#define CURSOR_NAME_MAX 192

struct cycle_worker {
        pthread_t thread;
        pthread_mutex_t lock;
        pthread_cond_t wake;     /* the worker's waits: stop, reload, a freed report slot */
        pthread_cond_t finished; /* the worker's thread is about to end */
        int wake_fd;
        uint64_t max_cycles;
        struct record_queue *records;

        /* under lock */
        int stopping;
        int done;
        struct config *pending_cfg;
        struct observer *pending_obs;
        struct config *retired_cfg;
        struct cycle_report reports[REPORTS_MAX];
        size_t first, nreports;
        uint64_t progress_ms;

        /* the worker thread's own (changed under lock, by the worker only) */
        struct config *cfg;
        struct observer *obs;
        uint64_t cycles;
        uint64_t previous_cycle_ms;
        uint64_t last_start_ms; /* monotonic */
        uint64_t last_full_ms;  /* monotonic; 0: never */
        uint64_t records_retry_ms;
        uint64_t last_head[SNAP_NCHAINS]; /* block mode: the heads the last poll saw */
        int head_known[SNAP_NCHAINS];
        int cursors_valid; /* the incremental window below holds */
        int64_t anchors_after;
        uint64_t batches_after;
        /* persisted in relaywatch_state between cycles, on the observer's connection */
        int cursors_dirty; /* save_values differ from what the database holds */
        /* batches_after, anchors_after as saved; -1, -1: sweep first; INT64_MIN: not known */
        int64_t save_values[2];
        uint64_t persist_retry_ms;    /* monotonic: no save before */
        struct state_anchor *pending; /* checked anchors not in the index yet */
        size_t npending, cap_pending;
        int index_unread; /* the last cycle could not read the known-anchors index */
        /*
         * The running totals of the last cycle that summed them in full and
         * passed every Tier 1 check, per side, waiting to be saved as the
         * checkpoints (totals_dirty); copies, since later cycles move on.
         */
        int totals_dirty;
        struct ledger_totals save_totals[2];
        uint64_t save_through[2];
        int multicall_unused[SNAP_NCHAINS]; /* the last cycle's reads went one call each */
};

void cycle_report_release(struct cycle_report *rep)
{
        if (rep == NULL)
                return;
        cycle_result_release(&rep->r);
        memset(rep, 0, sizeof *rep);
}

/* ------------------------------------------------------------ waits */

static int stopping(struct cycle_worker *w)
{
        int s;

        (void)pthread_mutex_lock(&w->lock);
        s = w->stopping;
        (void)pthread_mutex_unlock(&w->lock);
        return s;
}

/* Waits up to `ms` or until a stop or a reload; 1 when one of those came. Under lock. */
static int wait_locked(struct cycle_worker *w, uint64_t ms)
{
        struct timespec until;

        if (w->stopping || w->pending_obs != NULL)
                return 1;
        until = rwclock_mono_deadline(ms);
        while (!w->stopping && w->pending_obs == NULL) {
                if (pthread_cond_timedwait(&w->wake, &w->lock, &until) == ETIMEDOUT)
                        break;
        }
        return w->stopping || w->pending_obs != NULL;
}

static int wait_ms(struct cycle_worker *w, uint64_t ms)
{
        int woken;

        (void)pthread_mutex_lock(&w->lock);
        woken = wait_locked(w, ms);
        w->progress_ms = rwclock_mono_ms();
        (void)pthread_mutex_unlock(&w->lock);
        return woken;
}

/* ------------------------------------------------------------ reload */

static void persist(struct cycle_worker *w, int force);
static void load_cursors(struct cycle_worker *w);
static void load_checkpoints(struct cycle_worker *w);
static void drop_saved_totals(struct cycle_worker *w);

static void switch_if_reloaded(struct cycle_worker *w)
{
        struct observer *old_obs = NULL;
        int pending;

        (void)pthread_mutex_lock(&w->lock);
        pending = w->pending_obs != NULL && !w->stopping;
        (void)pthread_mutex_unlock(&w->lock);
        if (!pending)
                return;
        /* what the old configuration checked, saved under its own names, before it goes */
        persist(w, 1);
        (void)pthread_mutex_lock(&w->lock);
        if (w->pending_obs != NULL && !w->stopping) {
                old_obs = w->obs;
                w->retired_cfg = w->cfg; /* the loop frees it; it keeps at most one waiting */
                w->cfg = w->pending_cfg;
                w->obs = w->pending_obs;
                w->pending_cfg = NULL;
                w->pending_obs = NULL;
        }
        (void)pthread_mutex_unlock(&w->lock);
        if (old_obs == NULL)
                return;
        if (w->npending > 0 || w->cursors_dirty)
                jsonlog_message(JSONLOG_WARN, "cursor_save_dropped", NULL,
                                "reload: %zu checked anchors not indexed and %s not saved "
                                "under the old configuration (a full sweep indexes what it "
                                "reads)",
                                w->npending, w->cursors_dirty ? "the cursors" : "no cursor");
        if (w->totals_dirty)
                jsonlog_message(JSONLOG_WARN, "totals_checkpoint_dropped", NULL,
                                "reload: the running totals' checkpoints were not saved under "
                                "the old configuration");
        drop_saved_totals(w);
        w->npending = 0;
        w->cursors_dirty = 0;
        w->persist_retry_ms = 0;
        w->save_values[0] = INT64_MIN; /* the new names' values: not known yet */
        w->save_values[1] = INT64_MIN;
        observer_free(old_obs);
        w->cursors_valid = 0; /* the new config may watch something else: its own cursors */
        memset(w->head_known, 0, sizeof w->head_known);
        w->last_start_ms = 0;
        load_cursors(w);
        load_checkpoints(w);
}

/* ------------------------------------------------------------ records */

static void flush_records(struct cycle_worker *w)
{
        struct rwerr err;
        size_t written = 0;
        uint64_t now = rwclock_mono_ms();

        if (w->records == NULL || record_queue_waiting(w->records) == 0 ||
            now < w->records_retry_ms)
                return;
        if (record_queue_flush_db(w->records, observer_db(w->obs), &written, &err) != RW_OK) {
                jsonlog_message(JSONLOG_WARN, "state_record_failed", NULL,
                                "%s (%zu records wait; tried again in %d s)", err.msg,
                                record_queue_waiting(w->records), RECORDS_RETRY_MS / 1000);
                w->records_retry_ms = now + RECORDS_RETRY_MS;
        }
}

/* ------------------------------------------------------------ cursors and the anchor index */

/*
 * The names the cursors are saved under, keyed by what they are positions
 * in: the source chain's id, the root registry's address and the deploy
 * block (where a sweep starts). A cursor saved under another configuration
 * has other names and is never read under this one.
 */
static void cursor_names(const struct config *c, char batches[CURSOR_NAME_MAX],
                         char anchors[CURSOR_NAME_MAX])
{
        const struct config_chain *src = &c->chains[SNAP_SOURCE];
        char reg[HEX_ENCODED_SIZE(20)];
        char key[CURSOR_NAME_MAX - 32];

        (void)hex_encode(src->root_registry, sizeof src->root_registry, reg, sizeof reg);
        (void)snprintf(key, sizeof key, "source=%llu/registry=%s/deploy=%llu",
                       (unsigned long long)src->chain_id, reg,
                       (unsigned long long)src->deploy_block);
        (void)snprintf(batches, CURSOR_NAME_MAX, "batches_after/%s", key);
        (void)snprintf(anchors, CURSOR_NAME_MAX, "anchors_after/%s", key);
}

/*
 * At start and after a reload: the cursors the last good cycle under this
 * configuration saved, so the first cycle is incremental. A full sweep is
 * then due full_sweep_s after now. Anything else (none saved, a failed
 * read, values that cannot be, or saved as "sweep first") leaves a full
 * sweep first, with a log line saying why.
 */
static void load_cursors(struct cycle_worker *w)
{
        char names[2][CURSOR_NAME_MAX];
        int64_t v[2] = {-1, -1};
        int found[2] = {0, 0};
        struct rwerr err;
        int64_t floor;
        size_t i;

        cursor_names(w->cfg, names[0], names[1]);
        for (i = 0; i < 2; i++) {
                if ((i == 0 && dbconn_ensure(observer_db(w->obs), &err) != RW_OK) ||
                    state_cursor_load(observer_db(w->obs), names[i], &v[i], &found[i], &err) !=
                            RW_OK) {
                        jsonlog_message(JSONLOG_WARN, "cursors_unread", NULL,
                                        "cannot read the saved cursors (%s): a full sweep first",
                                        err.msg);
                        return;
                }
        }
        if (found[0] && found[1]) {
                w->save_values[0] = v[0]; /* what the database holds */
                w->save_values[1] = v[1];
        }
        if (!found[0] || !found[1]) {
                jsonlog_message(JSONLOG_INFO, "cursors_not_found", NULL,
                                "no cursors saved under %s (a first start, or cursors saved "
                                "under another chain, registry or deploy block, which are "
                                "ignored): a full sweep first",
                                strchr(names[0], '/') + 1);
                return;
        }
        floor = w->cfg->chains[SNAP_SOURCE].deploy_block > 0
                        ? (int64_t)(w->cfg->chains[SNAP_SOURCE].deploy_block - 1)
                        : 0;
        if (v[0] == -1 && v[1] == -1) {
                jsonlog_message(JSONLOG_INFO, "cursors_not_found", NULL,
                                "the saved cursors say a Tier 1 check was violated in the last "
                                "cycle saved: a full sweep first");
                return;
        }
        if (v[0] < 0 || v[1] < floor) {
                jsonlog_message(JSONLOG_WARN, "cursors_ignored", NULL,
                                "saved cursors ignored: batch %lld, source block %lld (before "
                                "the deploy block's %lld): a full sweep first",
                                (long long)v[0], (long long)v[1], (long long)floor);
                return;
        }
        w->batches_after = (uint64_t)v[0];
        w->anchors_after = v[1];
        w->cursors_valid = 1;
        w->save_values[0] = v[0];
        w->save_values[1] = v[1];
        if (w->last_full_ms == 0)
                w->last_full_ms = rwclock_mono_ms(); /* the next sweep: full_sweep_s from now */
        jsonlog_message(JSONLOG_INFO, "cursors_loaded", NULL,
                        "saved cursors loaded: batches after %lld, anchors after source block "
                        "%lld; the first cycle is incremental, a full sweep in %llu s",
                        (long long)v[0], (long long)v[1], (unsigned long long)w->cfg->full_sweep_s);
}

/* ------------------------------------------------------------ the running totals' checkpoints */

static const char *const side_names[2] = {"locked", "minted"};

/*
 * What a side's checkpoint is saved under: the chain whose blocks its
 * totals run through (locked: the source chain; minted: the execution
 * chain). A checkpoint saved while watching another chain is never read.
 */
static void checkpoint_scope(const struct config *c, enum ledger_side side, char *out, size_t size)
{
        enum snap_chain_role role = side == LEDGER_LOCKED ? SNAP_SOURCE : SNAP_EXECUTION;

        (void)snprintf(out, size, "%s=%llu", role == SNAP_SOURCE ? "source" : "execution",
                       (unsigned long long)c->chains[role].chain_id);
}

static void drop_saved_totals(struct cycle_worker *w)
{
        ledger_totals_free(&w->save_totals[0]);
        ledger_totals_free(&w->save_totals[1]);
        w->totals_dirty = 0;
}

/*
 * At start and after a reload, with the cursors: the checkpoints saved
 * under this configuration's chains seed the running totals. The first
 * cycle sums the whole ledger whatever happens; seeded, it also compares,
 * so rows at blocks already counted that were written, changed or deleted
 * while no watchdog ran are reported (ledger_totals_changed).
 */
static void load_checkpoints(struct cycle_worker *w)
{
        char scope[64];
        struct rwerr err;
        int side;

        for (side = 0; side < 2; side++) {
                struct ledger_totals t = {0, NULL};
                uint64_t through = 0;
                int found = 0;

                checkpoint_scope(w->cfg, (enum ledger_side)side, scope, sizeof scope);
                if (state_checkpoint_load(observer_db(w->obs), scope, (enum ledger_side)side, &t,
                                          &through, &found, &err) != RW_OK) {
                        jsonlog_message(JSONLOG_WARN, "totals_checkpoint_unread", NULL,
                                        "cannot read the %s totals' checkpoint under %s (%s): the "
                                        "first cycle sums them in full with nothing to compare",
                                        side_names[side], scope, err.msg);
                        continue;
                }
                if (!found) {
                        jsonlog_message(JSONLOG_INFO, "totals_checkpoint_not_found", NULL,
                                        "no %s totals' checkpoint saved under %s: the first "
                                        "cycle sums them in full with nothing to compare",
                                        side_names[side], scope);
                        continue;
                }
                if (observer_seed_totals(w->obs, (enum ledger_side)side, &t, through, &err) !=
                    RW_OK)
                        jsonlog_message(JSONLOG_WARN, "totals_checkpoint_unread", NULL,
                                        "the %s totals' checkpoint under %s not used: %s",
                                        side_names[side], scope, err.msg);
                else
                        jsonlog_message(JSONLOG_INFO, "totals_checkpoint_loaded", NULL,
                                        "the %s totals' checkpoint under %s loaded: %zu assets "
                                        "through block %llu; the first cycle sums in full and "
                                        "compares",
                                        side_names[side], scope, t.n, (unsigned long long)through);
                ledger_totals_free(&t);
        }
}

/*
 * After a cycle in which every Tier 1 check passed and whose totals were
 * summed in full (the first, then at least every full_sweep_s): copies of
 * its totals, to be saved as the checkpoints. A cycle on running totals
 * saves nothing: a checkpoint only ever holds full sums the chains agreed
 * with.
 */
static void note_totals(struct cycle_worker *w, const struct cycle_result *r)
{
        struct ledger_totals copy[2] = {{0, NULL}, {0, NULL}};
        uint64_t through[2];
        int side;

        if (!r->snapshot.ledger.ok || r->snapshot.ledger.totals_running)
                return;
        for (side = 0; side < 2; side++) {
                const struct ledger_totals *t;

                if (!observer_totals(w->obs, (enum ledger_side)side, &t, &through[side]) ||
                    (copy[side].rows = malloc((t->n ? t->n : 1) * sizeof *t->rows)) == NULL) {
                        ledger_totals_free(&copy[0]);
                        return;
                }
                if (t->n > 0)
                        memcpy(copy[side].rows, t->rows, t->n * sizeof *t->rows);
                copy[side].n = t->n;
        }
        drop_saved_totals(w);
        for (side = 0; side < 2; side++) {
                w->save_totals[side] = copy[side];
                w->save_through[side] = through[side];
        }
        w->totals_dirty = 1;
}

/* Saves the checkpoints note_totals kept; RW_OK with nothing left to save. */
static int save_checkpoints(struct cycle_worker *w, struct dbconn *db, struct rwerr *err)
{
        char scope[64];
        int side, rc;

        for (side = 0; side < 2; side++) {
                checkpoint_scope(w->cfg, (enum ledger_side)side, scope, sizeof scope);
                if ((rc = state_checkpoint_save(db, scope, (enum ledger_side)side,
                                                &w->save_totals[side], w->save_through[side],
                                                err)) != RW_OK)
                        return rc;
        }
        jsonlog_message(JSONLOG_DEBUG, "totals_checkpoint_saved", NULL,
                        "running totals saved: locked through block %llu, minted through block "
                        "%llu, %zu assets",
                        (unsigned long long)w->save_through[0],
                        (unsigned long long)w->save_through[1], w->save_totals[0].n);
        drop_saved_totals(w);
        return RW_OK;
}

/*
 * After a cycle in which every Tier 1 check passed: its events the index
 * lacks (the cycle's pages already left out those it holds), for the index.
 */
static void note_anchors(struct cycle_worker *w, const struct cycle_result *r)
{
        size_t i, n = r->nnew_anchors;

        if (r->new_anchors_dropped > 0)
                jsonlog_message(JSONLOG_WARN, "anchor_index_dropped", r->snapshot.correlation_id,
                                "%zu checked anchors of this cycle are not kept for the index "
                                "(past %d in one cycle, or out of memory): the next full sweep "
                                "reads them again",
                                r->new_anchors_dropped, CYCLE_NEW_ANCHORS_MAX);
        if (n == 0)
                return;
        if (w->npending + n > PENDING_ANCHORS_MAX) {
                jsonlog_message(JSONLOG_WARN, "anchor_index_dropped", NULL,
                                "%zu checked anchors wait for the index already; %zu more are "
                                "not kept (a full sweep indexes what it reads)",
                                w->npending, n);
                return;
        }
        if (w->npending + n > w->cap_pending) {
                size_t cap = (w->npending + n) * 2;
                struct state_anchor *p = realloc(w->pending, cap * sizeof *p);

                if (p == NULL) {
                        jsonlog_message(JSONLOG_WARN, "anchor_index_dropped", NULL,
                                        "out of memory keeping %zu checked anchors for the index",
                                        n);
                        return;
                }
                w->pending = p;
                w->cap_pending = cap;
        }
        for (i = 0; i < n; i++) {
                struct state_anchor *a = &w->pending[w->npending++];

                memcpy(a->root, r->new_anchors[i].root, sizeof a->root);
                a->batch_number = r->new_anchors[i].batch_id;
                a->block_number = r->new_anchors[i].block_number;
                memcpy(a->tx_hash, r->new_anchors[i].tx_hash, sizeof a->tx_hash);
        }
}

/*
 * Between cycles, on the cycle thread's own connection (like the record
 * queue): the checked anchors into the index, then the cursors. The
 * cursors are saved only once the anchors before them are indexed, so a
 * restart never reads past an anchor the index lacks. A failure is logged
 * and tried again after PERSIST_RETRY_MS (at once when `force`); nothing
 * here fails or delays a cycle beyond the statement timeout.
 */
static void persist(struct cycle_worker *w, int force)
{
        const struct config_chain *src = &w->cfg->chains[SNAP_SOURCE];
        struct dbconn *db = observer_db(w->obs);
        uint64_t now = rwclock_mono_ms();
        struct rwerr err;

        if ((w->npending == 0 && !w->cursors_dirty && !w->totals_dirty) ||
            (!force && now < w->persist_retry_ms))
                return;
        if (dbconn_ensure(db, &err) != RW_OK) {
                jsonlog_message(JSONLOG_WARN, "cursor_save_failed", NULL,
                                "%s (%zu checked anchors and %s wait; tried again in %d s)",
                                err.msg, w->npending,
                                w->cursors_dirty ? "the cursors" : "no cursor",
                                PERSIST_RETRY_MS / 1000);
                w->persist_retry_ms = now + PERSIST_RETRY_MS;
                return;
        }
        if (w->npending > 0) {
                if (state_anchors_add(db, src->chain_id, src->root_registry, w->pending,
                                      w->npending, &err) != RW_OK) {
                        jsonlog_message(JSONLOG_WARN, "anchor_index_failed", NULL,
                                        "%s (%zu checked anchors wait; cursors not saved; tried "
                                        "again in %d s)",
                                        err.msg, w->npending, PERSIST_RETRY_MS / 1000);
                        w->persist_retry_ms = now + PERSIST_RETRY_MS;
                        return;
                }
                w->npending = 0;
        }
        if (w->cursors_dirty) {
                char names[2][CURSOR_NAME_MAX];
                const char *n[2] = {names[0], names[1]};

                cursor_names(w->cfg, names[0], names[1]);
                if (state_cursors_save(db, n, w->save_values, 2, &err) != RW_OK) {
                        jsonlog_message(JSONLOG_WARN, "cursor_save_failed", NULL,
                                        "%s (the cursors stay in memory; tried again in %d s)",
                                        err.msg, PERSIST_RETRY_MS / 1000);
                        w->persist_retry_ms = now + PERSIST_RETRY_MS;
                        return;
                }
                w->cursors_dirty = 0;
        }
        if (w->totals_dirty && save_checkpoints(w, db, &err) != RW_OK) {
                jsonlog_message(JSONLOG_WARN, "totals_checkpoint_save_failed", NULL,
                                "%s (the running totals' checkpoints stay in memory; tried again "
                                "in %d s)",
                                err.msg, PERSIST_RETRY_MS / 1000);
                w->persist_retry_ms = now + PERSIST_RETRY_MS;
                return;
        }
        w->persist_retry_ms = 0;
}

/* ------------------------------------------------------------ when */

/*
 * Block mode: whether either chain has a new head since the last poll. Both
 * are polled: a violation on the source chain must not wait for the
 * execution chain's next block.
 */
static int new_block(struct cycle_worker *w)
{
        struct rwerr err;
        int role, changed = 0;

        for (role = 0; role < SNAP_NCHAINS; role++) {
                uint64_t head;

                if (observer_head(w->obs, (enum snap_chain_role)role, &head, &err) != RW_OK)
                        continue; /* the cycle's own reads report it */
                if (!w->head_known[role] || head != w->last_head[role])
                        changed = 1;
                w->last_head[role] = head;
                w->head_known[role] = 1;
        }
        return changed;
}

/* Returns 1 when the next cycle is due, 0 when a stop or a reload came first. */
static int wait_for_cycle(struct cycle_worker *w)
{
        const struct config *c = w->cfg;

        if (w->last_start_ms == 0)
                return 1; /* the first cycle, or the first after a reload */
        for (;;) {
                uint64_t now = rwclock_mono_ms();
                uint64_t due = w->last_start_ms + c->interval_ms;

                if (now >= due)
                        return 1;
                if (c->run_mode == CONFIG_RUN_BLOCK && new_block(w))
                        return 1;
                now = rwclock_mono_ms();
                if (now >= due)
                        return 1;
                if (wait_ms(w, c->run_mode == CONFIG_RUN_BLOCK && c->poll_ms < due - now
                                       ? c->poll_ms
                                       : due - now))
                        return 0;
        }
}

/* ------------------------------------------------------------ one cycle */

/* The incremental window, or a full sweep when one is due. 1 for a full sweep. */
static int choose_window(struct cycle_worker *w, uint64_t now, struct observe_window *win)
{
        int full = !w->cursors_valid || w->last_full_ms == 0 ||
                   now - w->last_full_ms >= w->cfg->full_sweep_s * 1000u;

        memset(win, 0, sizeof *win);
        win->max_batches = w->cfg->page_batches;
        win->anchors_after = -1;
        win->ops_after = -1;
        win->cycles_after = -1;
        if (!full) {
                win->anchors_after = w->anchors_after;
                win->batches_after = w->batches_after;
        }
        return full;
}

/*
 * After a cycle in which every Tier 1 check passed: anchors are checked
 * through the source chain's pinned block; batches through the last one
 * of the unbroken run of anchored batches (r->anchored_through, over all
 * the cycle's pages: a batch not anchored yet must be read again once it
 * is).
 */
static void advance_cursors(struct cycle_worker *w, const struct cycle_result *r)
{
        const struct snapshot *s = &r->snapshot;
        const struct snap_chain *src = &s->chains[SNAP_SOURCE];
        uint64_t through = r->anchored_through;

        if (r->tier1 != VERDICT_OK || !s->ledger.ok || !src->ok || src->nviews == 0) {
                if (r->tier1 != VERDICT_OK) {
                        w->cursors_valid = 0; /* read everything again until it passes */
                        /*
                         * A violation: after a restart too (a full sweep also reads
                         * what lies before the cursors). Could-not-evaluate (a stop
                         * cuts a cycle short so) leaves the saved cursors: a restart
                         * reads everything after them again.
                         */
                        if (r->tier1 == VERDICT_VIOLATED &&
                            (w->save_values[0] != -1 || w->save_values[1] != -1)) {
                                w->save_values[0] = -1;
                                w->save_values[1] = -1;
                                w->cursors_dirty = 1;
                        }
                }
                return;
        }
        w->batches_after = through;
        w->anchors_after = (int64_t)src->pinned;
        w->cursors_valid = 1;
        note_anchors(w, r);
        note_totals(w, r);
        if (through <= (uint64_t)INT64_MAX && src->pinned <= (uint64_t)INT64_MAX &&
            (w->save_values[0] != (int64_t)through || w->save_values[1] != (int64_t)src->pinned)) {
                w->save_values[0] = (int64_t)through;
                w->save_values[1] = (int64_t)src->pinned;
                w->cursors_dirty = 1;
        }
}

/* A known-anchors index that cannot be read is said once, and once when it can again. */
static void log_index_read(struct cycle_worker *w, const struct snapshot *s)
{
        if (s->known_anchors_failed && !w->index_unread)
                jsonlog_message(JSONLOG_WARN, "anchor_index_unread", s->correlation_id,
                                "the known-anchors index could not be read (%s): a root "
                                "anchored again in an earlier cycle's range is caught at the "
                                "next full sweep only (is migration 0004 applied? relaywatch "
                                "db migrate)",
                                s->known_anchors_error);
        else if (!s->known_anchors_failed && w->index_unread)
                jsonlog_message(JSONLOG_INFO, "anchor_index_read", s->correlation_id,
                                "the known-anchors index is read again");
        w->index_unread = s->known_anchors_failed;
}

/* A chain whose Multicall3 stopped (or started again) answering is said once. */
static void log_multicall(struct cycle_worker *w, const struct snapshot *s)
{
        size_t role;

        for (role = 0; role < SNAP_NCHAINS; role++) {
                const struct snap_chain *ch = &s->chains[role];
                int unused = ch->nviews > 0 && ch->views[0].multicall_problem[0] != '\0';

                if (ch->nviews == 0 || unused == w->multicall_unused[role])
                        continue;
                if (unused)
                        jsonlog_message(JSONLOG_WARN, "multicall_unused", s->correlation_id,
                                        "%s chain, %s: reads go one eth_call each (slower, same "
                                        "values) and Multicall3 is tried again in 10 minutes: %s "
                                        "(set multicall3 = off in [chain %s] if the chain has "
                                        "none)",
                                        snap_chain_role_name((enum snap_chain_role)role),
                                        ch->views[0].endpoint, ch->views[0].multicall_problem,
                                        snap_chain_role_name((enum snap_chain_role)role));
                else
                        jsonlog_message(JSONLOG_INFO, "multicall_used", s->correlation_id,
                                        "%s chain, %s: reads go through Multicall3 again",
                                        snap_chain_role_name((enum snap_chain_role)role),
                                        ch->views[0].endpoint);
                w->multicall_unused[role] = unused;
        }
}

/* The configured prefix before the cycle's correlation id ("rw-<32 hex>"). */
static void prefix_correlation_id(const struct config *c, struct snapshot *s)
{
        char cid[sizeof s->correlation_id + 32];
        size_t len;

        (void)snprintf(cid, sizeof cid, "%s-%s", c->correlation_prefix, s->correlation_id);
        len = strlen(cid);
        if (len >= sizeof s->correlation_id)
                len = sizeof s->correlation_id - 1;
        memcpy(s->correlation_id, cid, len);
        s->correlation_id[len] = '\0';
}

static void run_cycle(struct cycle_worker *w, struct cycle_report *rep)
{
        struct observe_window win;
        uint64_t now = rwclock_mono_ms();
        struct rwerr err;
        char cid[sizeof rep->r.snapshot.correlation_id];

        memset(rep, 0, sizeof *rep);
        w->last_start_ms = now;
        rep->started_unix_ms = rwclock_wall_ms();
        rep->full_sweep = choose_window(w, now, &win);
        rep->number = ++w->cycles;
        if (cycle_run(w->obs, &w->cfg->params, &win, w->previous_cycle_ms, &rep->r, &err) !=
            RW_OK) {
                /* could not evaluate: keep only the correlation id and the reason */
                memcpy(cid, rep->r.snapshot.correlation_id, sizeof cid);
                cycle_result_release(&rep->r);
                memcpy(rep->r.snapshot.correlation_id, cid, sizeof cid);
                rep->r.tier1 = VERDICT_UNKNOWN;
                rep->failed = 1;
                (void)snprintf(rep->reason, sizeof rep->reason, "%s", err.msg);
                w->cursors_valid = 0;
        } else {
                rep->r.observed_mono_ms = now;
                if (rep->full_sweep && rep->r.tier1 == VERDICT_OK)
                        w->last_full_ms = now;
                advance_cursors(w, &rep->r);
                log_index_read(w, &rep->r.snapshot);
                log_multicall(w, &rep->r.snapshot);
                w->previous_cycle_ms = rep->r.duration_ms;
        }
        if (rep->r.snapshot.correlation_id[0] != '\0')
                prefix_correlation_id(w->cfg, &rep->r.snapshot);
}

/* Hands a report to the loop, waiting for a free slot; 0 when stopped first (report released). */
static int post(struct cycle_worker *w, struct cycle_report *rep)
{
        static const uint64_t one = 1;

        (void)pthread_mutex_lock(&w->lock);
        while (w->nreports == REPORTS_MAX && !w->stopping)
                (void)pthread_cond_wait(&w->wake, &w->lock);
        if (w->stopping) {
                (void)pthread_mutex_unlock(&w->lock);
                cycle_report_release(rep);
                return 0;
        }
        w->reports[(w->first + w->nreports) % REPORTS_MAX] = *rep;
        w->nreports++;
        w->progress_ms = rwclock_mono_ms();
        (void)pthread_mutex_unlock(&w->lock);
        if (write(w->wake_fd, &one, sizeof one) < 0) {
                /* an eventfd at its limit is already readable: the loop wakes */
        }
        return 1;
}

static void *worker_main(void *arg)
{
        struct cycle_worker *w = arg;
        struct cycle_report rep;

        (void)pthread_setname_np(pthread_self(), "rw-cycle"); /* top -H, gdb, the tests */
        w->save_values[0] = INT64_MIN; /* what the database holds: not known yet */
        w->save_values[1] = INT64_MIN;
        if (!stopping(w)) {
                load_cursors(w);
                load_checkpoints(w);
        }
        while (!stopping(w)) {
                switch_if_reloaded(w);
                flush_records(w);
                persist(w, 0);
                if (!wait_for_cycle(w))
                        continue; /* a stop or a reload */
                run_cycle(w, &rep);
                if (!post(w, &rep))
                        break;
                persist(w, 0); /* right after the cycle: a restart then resumes from it */
                if (w->max_cycles > 0 && w->cycles >= w->max_cycles)
                        break;
        }
        flush_records(w);
        persist(w, 1);
        (void)pthread_mutex_lock(&w->lock);
        w->done = 1;
        (void)pthread_cond_broadcast(&w->finished);
        (void)pthread_mutex_unlock(&w->lock);
        {
                static const uint64_t one = 1;

                if (write(w->wake_fd, &one, sizeof one) < 0) {
                        /* already readable */
                }
        }
        return NULL;
}

/* ------------------------------------------------------------ the loop's side */

struct cycle_worker *cycle_worker_start(const struct cycle_worker_options *o, struct rwerr *err)
{
        struct cycle_worker *w = calloc(1, sizeof *w);
        pthread_condattr_t attr;
        int rc;

        if (w == NULL) {
                observer_free(o->obs);
                rwerr_set(err, RW_ERR_NOMEM, "out of memory for the cycle worker");
                return NULL;
        }
        w->cfg = o->cfg;
        w->obs = o->obs;
        w->records = o->records;
        w->wake_fd = o->wake_fd;
        w->max_cycles = o->max_cycles;
        w->progress_ms = rwclock_mono_ms();
        (void)pthread_mutex_init(&w->lock, NULL);
        (void)pthread_condattr_init(&attr);
        (void)pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
        (void)pthread_cond_init(&w->wake, &attr);
        (void)pthread_cond_init(&w->finished, &attr);
        (void)pthread_condattr_destroy(&attr);
        if ((rc = pthread_create(&w->thread, NULL, worker_main, w)) != 0) {
                rwerr_set(err, RW_ERR_IO, "cannot start the cycle thread: %s", strerror(rc));
                observer_free(w->obs);
                (void)pthread_cond_destroy(&w->finished);
                (void)pthread_cond_destroy(&w->wake);
                (void)pthread_mutex_destroy(&w->lock);
                free(w);
                return NULL;
        }
        return w;
}

int cycle_worker_take(struct cycle_worker *w, struct cycle_report *out)
{
        int got = 0;

        (void)pthread_mutex_lock(&w->lock);
        if (w->nreports > 0) {
                *out = w->reports[w->first];
                memset(&w->reports[w->first], 0, sizeof w->reports[w->first]);
                w->first = (w->first + 1) % REPORTS_MAX;
                w->nreports--;
                got = 1;
                (void)pthread_cond_broadcast(&w->wake); /* a slot is free */
        }
        (void)pthread_mutex_unlock(&w->lock);
        return got;
}

void cycle_worker_reload(struct cycle_worker *w, struct config *cfg, struct observer *obs)
{
        struct observer *superseded;
        struct config *superseded_cfg;

        (void)pthread_mutex_lock(&w->lock);
        superseded = w->pending_obs; /* a reload the worker has not taken yet */
        superseded_cfg = w->pending_cfg;
        w->pending_cfg = cfg;
        w->pending_obs = obs;
        (void)pthread_cond_broadcast(&w->wake);
        (void)pthread_mutex_unlock(&w->lock);
        observer_free(superseded);
        config_free(superseded_cfg);
}

struct config *cycle_worker_retired_config(struct cycle_worker *w)
{
        struct config *c;

        (void)pthread_mutex_lock(&w->lock);
        c = w->retired_cfg;
        w->retired_cfg = NULL;
        (void)pthread_mutex_unlock(&w->lock);
        return c;
}

uint64_t cycle_worker_progress_ms(struct cycle_worker *w)
{
        uint64_t t;

        (void)pthread_mutex_lock(&w->lock);
        t = w->progress_ms;
        (void)pthread_mutex_unlock(&w->lock);
        return t;
}

int cycle_worker_done(struct cycle_worker *w)
{
        int d;

        (void)pthread_mutex_lock(&w->lock);
        d = w->done;
        (void)pthread_mutex_unlock(&w->lock);
        return d;
}

/* Waits on the monotonic clock for the worker's end; 1 when it ended. Under lock. */
static int wait_finished_locked(struct cycle_worker *w, uint64_t grace_ms)
{
        struct timespec until;

        until = rwclock_mono_deadline(grace_ms);
        while (!w->done) {
                if (pthread_cond_timedwait(&w->finished, &w->lock, &until) == ETIMEDOUT)
                        break;
        }
        return w->done;
}

int cycle_worker_stop(struct cycle_worker *w, uint64_t grace_ms, struct config **last_cfg)
{
        size_t i;
        int ended;

        *last_cfg = NULL;
        (void)pthread_mutex_lock(&w->lock);
        w->stopping = 1;
        (void)pthread_cond_broadcast(&w->wake);
        observer_interrupt(w->obs); /* a cycle in progress ends at its next read */
        ended = wait_finished_locked(w, grace_ms);
        (void)pthread_mutex_unlock(&w->lock);
        if (!ended)
                return RW_ERR_TIMEOUT;
        (void)pthread_join(w->thread, NULL);
        for (i = 0; i < w->nreports; i++)
                cycle_report_release(&w->reports[(w->first + i) % REPORTS_MAX]);
        observer_free(w->obs);
        observer_free(w->pending_obs);
        free(w->pending);
        drop_saved_totals(w);
        config_free(w->pending_cfg);
        config_free(w->retired_cfg);
        *last_cfg = w->cfg;
        (void)pthread_cond_destroy(&w->finished);
        (void)pthread_cond_destroy(&w->wake);
        (void)pthread_mutex_destroy(&w->lock);
        free(w);
        return RW_OK;
}
