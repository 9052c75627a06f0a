#include "observe.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dbconn.h"
#include "endpoint_pool.h"
#include "ledger.h"
#include "observe_chain.h"
#include "observe_streams.h"
#include "progress_reader.h"
#include "redisconn.h"
#include "state.h"
#include "rwclock.h"

struct observer {
        const struct config *cfg;
        struct endpoint_pool *pools[SNAP_NCHAINS];
        int served[SNAP_NCHAINS];     /* endpoint that answered this cycle's heads */
        uint32_t asked[SNAP_NCHAINS]; /* endpoints (bits) read at this cycle's heights */
        struct dbconn *db;
        struct redisconn *redis;          /* made at the first cycle that reads a stream */
        struct progress_reader *progress; /* relaywatch.progress, off the cycle's path; NULL:
                                             not tracked (observer_track_progress) */
        /* per endpoint: whether its Multicall3 answers (observe_chain.h) */
        struct multicall_memo multicall[SNAP_NCHAINS][CONFIG_ENDPOINTS_MAX];
        /* history in pages (pages.h): the snapshot transaction stays open between them */
        int pages_open;
        unsigned page_batches;
        uint64_t page_blocks;
        /* the ledger's running totals, locked and minted (db/totals.h) */
        struct totals_tracker *totals[2];
};

static const char *const chain_names[SNAP_NCHAINS] = {"source", "execution"};

static struct endpoint_pool *pool_new(const struct config *cfg, enum snap_chain_role role,
                                      struct rwerr *err)
{
        const struct config_chain *cc = &cfg->chains[role];
        struct rpc_config rc[CONFIG_ENDPOINTS_MAX];
        char names[CONFIG_ENDPOINTS_MAX][32];
        struct endpoint_pool_config pc;
        size_t i;

        memset(&pc, 0, sizeof pc);
        memset(rc, 0, sizeof rc);
        for (i = 0; i < cc->nendpoints; i++) {
                (void)snprintf(names[i], sizeof names[i], "%s[%zu]", chain_names[role], i);
                rc[i].url = cc->endpoints[i];
                rc[i].name = names[i];
                rc[i].timeout_ms = cc->timeout_ms;
        }
        pc.chain = chain_names[role];
        pc.chain_id = cc->chain_id;
        pc.endpoints = rc;
        pc.n = cc->nendpoints;
        pc.failure_threshold = cfg->rpc_failure_threshold;
        pc.slow_call_ms = cfg->rpc_slow_call_ms;
        pc.hedge_ms = cc->hedge_ms;
        return endpoint_pool_new(&pc, err);
}

struct observer *observer_new(const struct config *cfg, struct rwerr *err)
{
        struct observer *o = calloc(1, sizeof *o);
        struct dbconn_config dc;
        size_t role;

        if (o == NULL) {
                rwerr_set(err, RW_ERR_NOMEM, "out of memory for the observer");
                return NULL;
        }
        o->cfg = cfg;
        for (role = 0; role < SNAP_NCHAINS; role++) {
                o->served[role] = -1;
                if ((o->pools[role] = pool_new(cfg, (enum snap_chain_role)role, err)) == NULL)
                        goto fail;
        }
        memset(&dc, 0, sizeof dc);
        dc.conninfo = cfg->database_url;
        dc.name = "ledger";
        dc.statement_timeout_ms = (unsigned)cfg->statement_timeout_ms;
        dc.failure_threshold = cfg->db_failure_threshold;
        dc.statements = ledger_statements;
        dc.nstatements = ledger_nstatements;
        /* a full sum of the ledger's totals at least as often as a full sweep */
        for (role = 0; role < 2; role++) {
                if ((o->totals[role] = totals_tracker_new(
                             (enum ledger_side)role,
                             (cfg->full_sweep_s ? cfg->full_sweep_s : 300) * 1000)) == NULL) {
                        rwerr_set(err, RW_ERR_NOMEM, "out of memory for the ledger's totals");
                        goto fail;
                }
        }
        if ((o->db = dbconn_new(&dc, err)) == NULL ||
            dbconn_add_statements(o->db, state_statements, state_nstatements, err) != RW_OK)
                goto fail;
        return o;
fail:
        observer_free(o);
        return NULL;
}

void observer_free(struct observer *o)
{
        size_t role;

        if (o == NULL)
                return;
        for (role = 0; role < SNAP_NCHAINS; role++)
                endpoint_pool_free(o->pools[role]);
        progress_reader_free(o->progress);
        dbconn_free(o->db);
        redisconn_free(o->redis);
        totals_tracker_free(o->totals[0]);
        totals_tracker_free(o->totals[1]);
        free(o);
}

void observer_interrupt(struct observer *o)
{
        size_t role;

        for (role = 0; role < SNAP_NCHAINS; role++)
                endpoint_pool_interrupt(o->pools[role]);
}

struct dbconn *observer_db(struct observer *o)
{
        return o->db;
}

int observer_head(struct observer *o, enum snap_chain_role role, uint64_t *head, struct rwerr *err)
{
        struct rpc_batch *b = rpc_batch_new();
        int rc, i;

        *head = 0;
        if (b == NULL)
                return rwerr_set(err, RW_ERR_NOMEM, "out of memory for a batch");
        i = rpc_batch_add(b, "eth_blockNumber", NULL, err);
        rc = i < 0 ? i : endpoint_pool_send(o->pools[role], b, err);
        if (rc == RW_OK)
                rc = rpc_batch_u64(b, (size_t)i, head, err);
        rpc_batch_free(b);
        return rc != RW_OK ? rwerr_prefix(err, rc, chain_names[role]) : RW_OK;
}

/* The configured assets and one account entry per relayer address and chain. */
static int fill_config(const struct config *cfg, struct snapshot *s, struct rwerr *err)
{
        size_t i, role;

        if (snapshot_alloc_assets_accounts(s, cfg->nassets, cfg->naccounts * SNAP_NCHAINS) != RW_OK)
                return rwerr_set(err, RW_ERR_NOMEM, "out of memory for the snapshot");
        memcpy(s->assets, cfg->assets, cfg->nassets * sizeof *s->assets);
        for (role = 0; role < SNAP_NCHAINS; role++) {
                struct snap_chain *ch = &s->chains[role];

                ch->chain_id = cfg->chains[role].chain_id;
                ch->confirmations = cfg->chains[role].confirmations;
                ch->use_finalized = cfg->chains[role].finalized;
                for (i = 0; i < cfg->naccounts; i++) {
                        struct snap_account *a = &s->accounts[role * cfg->naccounts + i];

                        memcpy(a->address, cfg->accounts[i], sizeof a->address);
                        a->chain = (enum snap_chain_role)role;
                }
        }
        return RW_OK;
}

static void chain_failed(struct snap_chain *ch, const struct rwerr *err)
{
        ch->ok = 0;
        (void)snprintf(ch->error, sizeof ch->error, "%s", err->msg);
}

/* The end of the page of events that starts after `from`: at most page_blocks on, at most pinned. */
static uint64_t page_end(const struct observer *o, uint64_t from, uint64_t pinned)
{
        return pinned > from && pinned - from > o->page_blocks ? from + o->page_blocks : pinned;
}

/* min(head - confirmations or finalized, what the ledger has indexed). */
static void pin(struct observer *o, struct snapshot *s, const struct observe_window *w,
                enum snap_chain_role role)
{
        const struct config *cfg = o->cfg;
        struct snap_chain *ch = &s->chains[role];
        uint64_t base;

        if (ch->use_finalized)
                base = ch->finalized;
        else
                base = ch->head > ch->confirmations ? ch->head - ch->confirmations : 0;
        ch->pinned = base;
        ch->tip = base;
        if (s->ledger.ok && ch->ledger_indexed && ch->indexed_through < base)
                ch->pinned = ch->indexed_through;
        if (w->anchors_after >= 0)
                ch->anchors_from = (uint64_t)w->anchors_after;
        else
                ch->anchors_from =
                        cfg->chains[role].deploy_block > 0 ? cfg->chains[role].deploy_block - 1 : 0;
        ch->anchors_to = page_end(o, ch->anchors_from, ch->pinned);
}

/* A ledger that has recorded nothing of a chain cannot be compared with it. */
static void mark_unindexed(struct snapshot *s)
{
        size_t i, role;

        if (!s->ledger.ok)
                return;
        for (role = 0; role < SNAP_NCHAINS; role++) {
                if (s->chains[role].ledger_indexed)
                        continue;
                for (i = 0; i < s->nassets; i++) {
                        s->ledger.assets[i].known = 0;
                        (void)snprintf(
                                s->ledger.assets[i].problem, sizeof s->ledger.assets[i].problem,
                                "the ledger has recorded nothing of the %s chain (chain "
                                "id %llu) yet",
                                chain_names[role], (unsigned long long)s->chains[role].chain_id);
                }
        }
}

/*
 * The bridge's progress figures (metrics only): the latest the progress
 * reader has (progress_reader.h says why they are read apart from the
 * cycle). A cycle whose ledger reads failed reports them unknown rather
 * than old.
 */
static void read_progress(struct observer *o, struct snapshot *s)
{
        struct snap_progress *p = &s->ledger.progress;
        struct ledger_progress_state st;
        const struct ledger_progress_figures *f = &st.figures;

        memset(p, 0, sizeof *p);
        if (!s->ledger.ok) {
                (void)snprintf(p->problem, sizeof p->problem,
                               "relaywatch.progress: not read: the ledger's reads failed this "
                               "cycle");
                return;
        }
        if (o->progress == NULL) {
                (void)snprintf(p->problem, sizeof p->problem,
                               "relaywatch.progress: not read by this command (relaywatch run "
                               "reads it)");
                return;
        }
        progress_reader_latest(o->progress, &st);
        p->known = st.attempted && st.known;
        if (!st.attempted) {
                (void)snprintf(p->problem, sizeof p->problem,
                               "relaywatch.progress: not read yet (read every %u s on a "
                               "connection of its own)",
                               LEDGER_PROGRESS_PERIOD_MS / 1000);
                return;
        }
        if (!p->known) {
                (void)snprintf(p->problem, sizeof p->problem, "%s", st.problem);
                return;
        }
        p->deposits = f->deposits;
        p->deposits_pending = f->deposits_pending;
        p->batches_created = f->batches_created;
        p->batches_anchored = f->batches_anchored;
        p->withdrawals = f->withdrawals;
        p->withdrawals_claimed = f->withdrawals_claimed;
        p->withdrawals_pending = f->withdrawals_pending;
}

static void read_health(struct observer *o, struct snapshot *s)
{
        struct dbconn_health dh;
        size_t role, i;

        for (role = 0; role < SNAP_NCHAINS; role++) {
                struct snap_chain *ch = &s->chains[role];
                size_t n = endpoint_pool_size(o->pools[role]);

                ch->nendpoints = n < SNAP_VIEWS_MAX ? n : SNAP_VIEWS_MAX;
                for (i = 0; i < ch->nendpoints; i++) {
                        struct endpoint_health h;

                        endpoint_pool_health(o->pools[role], i, &h);
                        (void)snprintf(ch->endpoints[i].endpoint, sizeof ch->endpoints[i].endpoint,
                                       "%s", h.name);
                        ch->endpoints[i].exchanges = h.exchanges;
                        ch->endpoints[i].failures = h.failures;
                        ch->endpoints[i].breaker = endpoint_breaker_name(h.breaker);
                        ch->endpoints[i].latency = h.latency;
                }
        }
        dbconn_health(o->db, &dh);
        s->ledger.connection_lost = dh.connection_lost;
        s->ledger.consecutive_failures = dh.consecutive_failures;
        if (dh.connection_lost &&
            snprintf(s->ledger.connection_reason, sizeof s->ledger.connection_reason,
                     "%s: %u failures in a row, last: %s", dh.description, dh.consecutive_failures,
                     dh.last_error) < 0) {
                s->ledger.connection_reason[0] = '\0';
        }
}

static int read_streams(struct observer *o, struct snapshot *s, struct rwerr *err)
{
        struct redisconn_options ro;

        if (o->cfg->nstreams == 0)
                return RW_OK;
        if (o->cfg->redis_url == NULL)
                return observe_streams(NULL, "no [redis] url configured", o->cfg, s, err);
        if (o->redis == NULL) {
                memset(&ro, 0, sizeof ro);
                ro.url = o->cfg->redis_url;
                ro.timeout_ms = o->cfg->redis_timeout_ms;
                if ((o->redis = redisconn_new(&ro, err)) == NULL)
                        return RW_ERR_NOMEM;
        }
        /* a Redis that is away is tried again after the link's backoff, not every cycle */
        return observe_streams(redisconn_get(o->redis), redisconn_problem(o->redis), o->cfg, s,
                               err);
}

/* Adds an empty view to chain `role` (its reads come after). */
static struct snap_view *add_view(struct snapshot *s, enum snap_chain_role role, struct rwerr *err)
{
        struct snap_chain *ch = &s->chains[role];
        struct snap_view *v = &ch->views[ch->nviews];

        if (snapshot_alloc_view(s, role, v) != RW_OK) {
                rwerr_set(err, RW_ERR_NOMEM, "out of memory for a view");
                return NULL;
        }
        ch->nviews++;
        return v;
}

/* One view's reads; failures are recorded in the view (ok 0, error). */
struct view_job {
        struct observer *o;
        enum snap_chain_role role;
        size_t endpoint;
        struct snapshot *s;
        struct snap_view *v;
        int state_only; /* the history comes after the ledger's batches (observe_chain.h) */
};

static void *view_job_run(void *arg)
{
        struct view_job *j = arg;
        struct rwerr ignored = {{0}};
        struct multicall_memo *memo =
                j->endpoint < CONFIG_ENDPOINTS_MAX ? &j->o->multicall[j->role][j->endpoint] : NULL;
        int rc;

        j->v->endpoint_index = j->endpoint;
        if (j->state_only)
                rc = observe_chain_state(j->o->pools[j->role], j->endpoint, j->o->cfg, j->role,
                                         j->s, j->v, memo, &ignored);
        else
                rc = observe_chain_view(j->o->pools[j->role], j->endpoint, j->o->cfg, j->role, j->s,
                                        j->v, memo, &ignored);
        if (rc != RW_OK) {
                /* recorded in the view: v->ok is 0 and v->error says why */
        }
        return NULL;
}

/*
 * The views' reads run on threads of their own (the chains are separate
 * endpoints, and the ledger is read meanwhile on the caller's thread); a
 * job whose thread could not start is read in view_jobs_join. Each job
 * writes only its own view.
 */
struct view_threads {
        pthread_t thread[SNAP_NCHAINS];
        int started[SNAP_NCHAINS];
};

static void view_jobs_start(struct view_job *jobs, size_t n, struct view_threads *t)
{
        size_t i;

        for (i = 0; i < n; i++)
                t->started[i] = pthread_create(&t->thread[i], NULL, view_job_run, &jobs[i]) == 0;
}

static void view_jobs_join(struct view_job *jobs, size_t n, struct view_threads *t)
{
        size_t i;

        for (i = 0; i < n; i++) {
                if (t->started[i])
                        (void)pthread_join(t->thread[i], NULL);
                else
                        (void)view_job_run(&jobs[i]); /* no thread: read it here */
        }
}

/* The source view's history for this page through its own endpoint; a failure is the chain's. */
static int read_view_history(struct observer *o, struct snapshot *s, struct snap_view *v,
                             struct rwerr *err)
{
        struct snap_chain *src = &s->chains[SNAP_SOURCE];
        size_t e = v->endpoint_index;
        struct rwerr step = {{0}};

        if (!v->ok)
                return RW_OK; /* its state failed: nothing of it is believed */
        free(v->anchored_roots);
        v->anchored_roots = NULL;
        if (s->ledger.nbatches > 0 &&
            (v->anchored_roots = calloc(s->ledger.nbatches, sizeof *v->anchored_roots)) == NULL)
                return rwerr_set(err, RW_ERR_NOMEM, "out of memory for %zu roots",
                                 s->ledger.nbatches);
        if (observe_chain_history(o->pools[SNAP_SOURCE], e, o->cfg, s, v,
                                  e < CONFIG_ENDPOINTS_MAX ? &o->multicall[SNAP_SOURCE][e] : NULL,
                                  &step) != RW_OK &&
            src->ok) {
                src->ok = 0;
                memcpy(src->error, v->error, sizeof src->error);
        }
        return RW_OK;
}

/* More history to read at the same heights: the ledger's page was full, or events are left. */
static int history_left(const struct snapshot *s)
{
        const struct snap_chain *src = &s->chains[SNAP_SOURCE];

        if (!s->ledger.ok || !src->ok || src->nviews == 0)
                return 0; /* the history checks cannot pass this cycle: nothing more to read */
        return s->ledger.more_batches || src->anchors_to < src->pinned;
}

/* Ends the snapshot transaction; a failure to end it is the ledger's. */
static void end_pages(struct observer *o, struct snapshot *s)
{
        struct rwerr step = {{0}};

        if (!o->pages_open)
                return;
        o->pages_open = 0;
        if (observe_ledger_end(o->db, &step) != RW_OK && s != NULL && s->ledger.ok) {
                s->ledger.ok = 0;
                (void)snprintf(s->ledger.error, sizeof s->ledger.error, "%s", step.msg);
        }
}

/* The running totals as the ledger's reads take them, now. */
static struct observe_totals running_totals(struct observer *o)
{
        struct observe_totals t = {{o->totals[0], o->totals[1]}, rwclock_mono_ms()};

        return t;
}

/* Connects the ledger (a fresh process, or after a drop) while the heads are read. */
static void *connect_ledger(void *arg)
{
        struct rwerr ignored;

        if (dbconn_ensure(arg, &ignored) != RW_OK) {
                /* observe_ledger_begin tries (or waits out the backoff) and says why */
        }
        return NULL;
}

int observer_observe(struct observer *o, const struct observe_window *w, struct snapshot *s,
                     struct rwerr *err)
{
        static const enum snap_chain_role head_order[SNAP_NCHAINS] = {SNAP_EXECUTION, SNAP_SOURCE};
        struct view_job jobs[SNAP_NCHAINS];
        struct view_threads threads;
        struct observe_totals totals;
        pthread_t connector;
        int connecting;
        struct rwerr step = {{0}};
        uint64_t started = rwclock_mono_ms();
        size_t i, njobs;
        int rc;

        s->taken_ms = rwclock_wall_ms();
        o->page_batches = w->max_batches ? w->max_batches : OBSERVE_PAGE_BATCHES;
        o->page_blocks = w->page_blocks;
        if (o->page_blocks == 0) {
                uint64_t chunk = o->cfg->chains[SNAP_SOURCE].log_chunk_blocks;

                o->page_blocks = OBSERVE_PAGE_LOG_CHUNKS * (chunk ? chunk : 2000);
        }
        if ((rc = fill_config(o->cfg, s, err)) != RW_OK)
                return rc;
        /* no snapshot is taken here: the transaction begins after the heads are read */
        connecting = dbconn_pg(o->db) == NULL &&
                     pthread_create(&connector, NULL, connect_ledger, o->db) == 0;
        for (i = 0; i < SNAP_NCHAINS; i++) {
                enum snap_chain_role role = head_order[i];
                struct snap_chain *ch = &s->chains[role];

                o->served[role] = -1;
                o->asked[role] = 0;
                if (observe_chain_heads(o->pools[role], &o->cfg->chains[role], role, s,
                                        &o->served[role], &step) != RW_OK) {
                        chain_failed(ch, &step);
                } else {
                        ch->ok = 1;
                }
        }
        if (connecting)
                (void)pthread_join(connector, NULL);
        o->pages_open = 1; /* from here, a transaction may be open: observer_end_pages */
        if (observe_ledger_begin(o->db, o->cfg, s, &step) != RW_OK)
                s->ledger.ok = 0; /* the reason is in s->ledger.error */
        for (i = 0; i < SNAP_NCHAINS; i++)
                pin(o, s, w, (enum snap_chain_role)i);
        /* the chains' state at the pinned heights, while the ledger is read here */
        njobs = 0;
        for (i = 0; i < SNAP_NCHAINS; i++) {
                struct snap_view *v;

                if (!s->chains[i].ok || o->served[i] < 0)
                        continue;
                if ((v = add_view(s, (enum snap_chain_role)i, err)) == NULL)
                        return RW_ERR_NOMEM;
                jobs[njobs++] = (struct view_job){
                        o, (enum snap_chain_role)i, (size_t)o->served[i], s, v, 1};
        }
        view_jobs_start(jobs, njobs, &threads);
        totals = running_totals(o);
        if (s->ledger.ok && observe_ledger_read(o->db, w, &totals, s, &step) != RW_OK) {
                /* recorded: s->ledger.ok is 0 and s->ledger.error says why */
        }
        view_jobs_join(jobs, njobs, &threads);
        mark_unindexed(s);
        /* the first page of history, now that the ledger's batches are known */
        if (s->chains[SNAP_SOURCE].nviews > 0 &&
            (rc = read_view_history(o, s, &s->chains[SNAP_SOURCE].views[0], err)) != RW_OK)
                return rc;
        for (i = 0; i < njobs; i++) {
                struct snap_chain *ch = &s->chains[jobs[i].role];

                if (!jobs[i].v->ok) {
                        ch->ok = 0;
                        memcpy(ch->error, jobs[i].v->error, sizeof ch->error);
                }
        }
        if (observe_ledger_roots(o->db, s, &step) != RW_OK) {
                /* recorded in s->ledger as above */
        }
        /* under a savepoint: a failure cannot spoil the ledger's reads */
        if ((rc = observe_ledger_known_anchors(o->db, o->cfg, s, err)) != RW_OK)
                return rc;
        read_progress(o, s);
        if (!history_left(s))
                end_pages(o, s);
        read_health(o, s);
        if ((rc = read_streams(o, s, err)) != RW_OK)
                return rc;
        /* RPC_TIMEOUT as any read of the cycle (or of the last one's pages and
         * confirmations, after it was taken) saw it: the heads, the views */
        for (i = 0; i < SNAP_NCHAINS; i++) {
                struct snap_chain *ch = &s->chains[i];

                ch->rpc_timeout = endpoint_pool_take_rpc_timeout(
                        o->pools[i], ch->rpc_timeout_reason, sizeof ch->rpc_timeout_reason);
        }
        s->observe_ms = rwclock_mono_ms() - started;
        return RW_OK;
}

int observer_next_page(struct observer *o, struct snapshot *s, int *more, struct rwerr *err)
{
        struct snap_chain *src = &s->chains[SNAP_SOURCE];
        struct snap_ledger *l = &s->ledger;
        struct rwerr step = {{0}};
        uint64_t after;
        int batches_left;
        size_t k;
        int rc;

        *more = 0;
        if (!o->pages_open)
                return RW_OK;
        if (!history_left(s)) {
                end_pages(o, s);
                return RW_OK;
        }
        batches_left = l->more_batches;
        after = l->nbatches > 0 ? l->batches[l->nbatches - 1].batch_number : l->batches_after;
        snapshot_free_history(s);
        l->more_batches = 0;
        l->batches_after = after;
        if (batches_left && observe_ledger_page(o->db, after, o->page_batches, s, &step) != RW_OK) {
                /* recorded: s->ledger.ok is 0 and s->ledger.error says why */
        }
        src->anchors_from = src->anchors_to;
        src->anchors_to = page_end(o, src->anchors_from, src->pinned);
        for (k = 0; k < src->nviews; k++) {
                if ((rc = read_view_history(o, s, &src->views[k], err)) != RW_OK)
                        return rc;
        }
        if (observe_ledger_roots(o->db, s, &step) != RW_OK) {
                /* recorded in s->ledger */
        }
        if ((rc = observe_ledger_known_anchors(o->db, o->cfg, s, err)) != RW_OK)
                return rc;
        *more = 1;
        if (!history_left(s))
                end_pages(o, s);
        return RW_OK;
}

void observer_end_pages(struct observer *o)
{
        end_pages(o, NULL);
}

void observer_recount_totals(struct observer *o, struct snapshot *s)
{
        struct observe_totals t = running_totals(o);
        struct rwerr step = {{0}};

        if (observe_ledger_recount(o->db, &t, s, &step) != RW_OK) {
                /* recorded: s->ledger.ok is 0 and s->ledger.error says why */
        }
}

int observer_track_progress(struct observer *o, struct rwerr *err)
{
        struct dbconn_config dc;

        if (o->progress != NULL)
                return RW_OK;
        memset(&dc, 0, sizeof dc);
        dc.conninfo = o->cfg->database_url;
        dc.name = "ledger progress";
        dc.failure_threshold = o->cfg->db_failure_threshold;
        return (o->progress = progress_reader_new(&dc, err)) != NULL ? RW_OK : RW_ERR_NOMEM;
}

int observer_totals(struct observer *o, enum ledger_side side, const struct ledger_totals **totals,
                    uint64_t *through_block)
{
        return totals_tracker_current(o->totals[side], totals, through_block);
}

int observer_seed_totals(struct observer *o, enum ledger_side side,
                         const struct ledger_totals *saved, uint64_t through_block,
                         struct rwerr *err)
{
        return totals_tracker_seed(o->totals[side], saved, through_block, err);
}

static size_t ok_views(const struct snap_chain *ch)
{
        size_t k, n = 0;

        for (k = 0; k < ch->nviews; k++)
                n += ch->views[k].ok != 0;
        return n;
}

/*
 * The endpoints of `role` not read yet at this cycle's heights, in the
 * order to ask them: those in service (breaker closed) first, then by the
 * fewest failures in a row, then as configured. A hung or dead endpoint is
 * asked last, so it costs its timeout only when the quorum needs it.
 */
static size_t confirm_order(struct observer *o, enum snap_chain_role role, size_t *order)
{
        size_t n = endpoint_pool_size(o->pools[role]), m = 0, i, j;
        struct endpoint_health h[SNAP_VIEWS_MAX];

        for (i = 0; i < n && i < SNAP_VIEWS_MAX; i++) {
                if ((int)i == o->served[role] || (o->asked[role] & (1u << i)))
                        continue;
                endpoint_pool_health(o->pools[role], i, &h[i]);
                for (j = m; j > 0; j--) { /* insertion: stable, n is small */
                        const struct endpoint_health *a = &h[order[j - 1]], *b = &h[i];
                        int a_out = a->breaker != ENDPOINT_CLOSED,
                            b_out = b->breaker != ENDPOINT_CLOSED;

                        if (a_out < b_out ||
                            (a_out == b_out && a->consecutive_failures <= b->consecutive_failures))
                                break;
                        order[j] = order[j - 1];
                }
                order[j] = i;
                m++;
        }
        return m;
}

int observer_confirm(struct observer *o, struct snapshot *s, struct rwerr *err)
{
        size_t role, k;

        for (role = 0; role < SNAP_NCHAINS; role++) {
                struct snap_chain *ch = &s->chains[role];
                size_t n = endpoint_pool_size(o->pools[role]), m;
                size_t quorum = o->cfg->chains[role].quorum < n ? o->cfg->chains[role].quorum : n;
                size_t order[SNAP_VIEWS_MAX];

                if (!ch->ok || o->served[role] < 0 || ok_views(ch) >= quorum)
                        continue;
                m = confirm_order(o, (enum snap_chain_role)role, order);
                /* only as many as the quorum needs: the checks ask again if views disagree */
                for (k = 0; k < m && ok_views(ch) < quorum && ch->nviews < SNAP_VIEWS_MAX; k++) {
                        struct view_job job = {o, (enum snap_chain_role)role, order[k], s, NULL, 0};

                        if ((job.v = add_view(s, (enum snap_chain_role)role, err)) == NULL)
                                return RW_ERR_NOMEM;
                        o->asked[role] |= 1u << order[k];
                        (void)view_job_run(&job);
                }
        }
        return RW_OK;
}
