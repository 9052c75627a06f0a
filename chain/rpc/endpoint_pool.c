#include "endpoint_pool.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rwclock.h"

#define DEFAULT_FAILURE_THRESHOLD 3u
#define DEFAULT_SLOW_CALL_MS 10000u
#define DEFAULT_JITTER_PERCENT 20u
#define DEFAULT_BREAKER_OPEN_MS 30000u

#define LATENCY_CLASSES 4
#define NO_HEDGE UINT64_MAX
/* The longest single wait for progress: deadlines are looked at again after it. */
#define WAIT_SLICE_MS 1000u
/* Past an exchange's own timeout, the pool stops waiting for libcurl to notice. */
#define OVERDUE_GRACE_MS 1000u

static const uint64_t default_backoff_ms[] = {0, 1000, 2000, 5000};

enum attempt_phase {
        IDLE = 0, /* no attempt under way */
        CHECKING, /* its eth_chainId question is in flight */
        SENDING,  /* the batch is in flight */
};

struct endpoint {
        struct rpc_client *client;
        struct rpc_batch *chain_query; /* eth_chainId, asked before it serves */
        int chain_verified;
        uint64_t verified_at_ms; /* pool clock: its chain id last checked */
        uint64_t opened_at_ms;   /* pool clock: its breaker opened */
        uint64_t not_before_ms;  /* pool clock: the end of its backoff; 0: none */
        /* The attempt under way during a send (real clock). */
        enum attempt_phase phase;
        int hedge;
        uint64_t attempt_started_ms;
        uint64_t attempt_started_us; /* the same instant, finer: for health.latency */
        uint64_t exchange_started_ms;
        struct endpoint_health health;
};

/* The latest successful exchanges of one size class, for the automatic hedge delay. */
struct latency_class {
        uint64_t ms[ENDPOINT_POOL_HEDGE_WINDOW];
        unsigned n;
        unsigned next;
};

struct endpoint_pool {
        char chain[32];
        uint64_t chain_id;
        unsigned failure_threshold;
        uint64_t slow_call_ms;
        uint64_t backoff_ms[ENDPOINT_POOL_BACKOFF_MAX];
        size_t nbackoff;
        unsigned jitter_percent;
        uint64_t breaker_open_ms;
        uint64_t hedge_ms; /* configured; 0: automatic */
        struct endpoint_pool_clock clock;
        uint64_t jitter_state;
        struct latency_class latency[LATENCY_CLASSES];
        int quiet;              /* quiet_from_ms is set */
        uint64_t quiet_from_ms; /* pool clock: the latest failed attempt or blind probe */
        struct rpc_multi *multi;
        int interrupted; /* endpoint_pool_interrupt was called (atomic: any thread sets it) */
        size_t n;
        struct endpoint endpoints[ENDPOINT_POOL_MAX];
        struct endpoint_pool_status status;
        /* RPC_TIMEOUT raised by any send since endpoint_pool_take_rpc_timeout */
        int timeout_untaken;
        char timeout_untaken_reason[RWERR_MSG_MAX];
};

/* One send: the endpoints it may try, in order, and how far it got. */
struct race {
        struct endpoint_pool *p;
        struct rpc_batch *b;
        size_t order[ENDPOINT_POOL_MAX];
        size_t n;        /* endpoints in order */
        size_t next;     /* the next one to start */
        size_t inflight; /* attempts under way */
        uint64_t hedge_ms;
        uint64_t last_start_ms;
        int start_now; /* an attempt failed: start the next one without waiting */
        int winner;
        int last_rc; /* the latest failure, for endpoint_pool_send_to */
        struct rwerr last_err;
        int aborted; /* out of memory or interrupted: nobody's fault, the send ends */
        int abort_rc;
        struct rwerr abort_err;
};

static uint64_t real_now_ms(void *ctx)
{
        (void)ctx;
        return rwclock_mono_ms();
}

static uint64_t pool_now(const struct endpoint_pool *p)
{
        return p->clock.now_ms(p->clock.ctx);
}

const char *endpoint_breaker_name(enum endpoint_breaker b)
{
        switch (b) {
        case ENDPOINT_CLOSED:
                return "closed";
        case ENDPOINT_OPEN:
                return "open";
        case ENDPOINT_HALF_OPEN:
                return "half-open";
        case ENDPOINT_REFUSED:
                return "refused";
        }
        return "invalid";
}

/* ---------------------------------------------------------------- setup */

static int check_config(const struct endpoint_pool_config *cfg, struct rwerr *err)
{
        const char *chain = cfg->chain ? cfg->chain : "(unnamed)";

        if (cfg->n == 0 || cfg->n > ENDPOINT_POOL_MAX)
                return rwerr_set(err, RW_ERR_INVALID,
                                 "chain %s: %zu RPC endpoints configured, need 1 to %d", chain,
                                 cfg->n, ENDPOINT_POOL_MAX);
        if (cfg->nbackoff > ENDPOINT_POOL_BACKOFF_MAX)
                return rwerr_set(err, RW_ERR_INVALID, "chain %s: %zu backoff delays, at most %d",
                                 chain, cfg->nbackoff, ENDPOINT_POOL_BACKOFF_MAX);
        if (cfg->hedge_ms != 0 && (cfg->hedge_ms < ENDPOINT_POOL_HEDGE_CONFIG_MIN_MS ||
                                   cfg->hedge_ms > ENDPOINT_POOL_HEDGE_MAX_MS))
                return rwerr_set(err, RW_ERR_INVALID,
                                 "chain %s: hedge_ms %llu is out of range (0 for automatic, or "
                                 "%u to %u)",
                                 chain, (unsigned long long)cfg->hedge_ms,
                                 ENDPOINT_POOL_HEDGE_CONFIG_MIN_MS, ENDPOINT_POOL_HEDGE_MAX_MS);
        return RW_OK;
}

static void copy_settings(struct endpoint_pool *p, const struct endpoint_pool_config *cfg)
{
        (void)snprintf(p->chain, sizeof p->chain, "%s", cfg->chain ? cfg->chain : "(unnamed)");
        p->chain_id = cfg->chain_id;
        p->failure_threshold =
                cfg->failure_threshold ? cfg->failure_threshold : DEFAULT_FAILURE_THRESHOLD;
        p->slow_call_ms = cfg->slow_call_ms ? cfg->slow_call_ms : DEFAULT_SLOW_CALL_MS;
        if (cfg->backoff_ms != NULL && cfg->nbackoff > 0) {
                memcpy(p->backoff_ms, cfg->backoff_ms, cfg->nbackoff * sizeof cfg->backoff_ms[0]);
                p->nbackoff = cfg->nbackoff;
        } else {
                memcpy(p->backoff_ms, default_backoff_ms, sizeof default_backoff_ms);
                p->nbackoff = sizeof default_backoff_ms / sizeof default_backoff_ms[0];
        }
        p->jitter_percent = cfg->jitter_percent ? cfg->jitter_percent : DEFAULT_JITTER_PERCENT;
        if (p->jitter_percent > 100)
                p->jitter_percent = 100;
        p->breaker_open_ms = cfg->breaker_open_ms ? cfg->breaker_open_ms : DEFAULT_BREAKER_OPEN_MS;
        p->hedge_ms = cfg->hedge_ms;
        if (cfg->clock != NULL && cfg->clock->now_ms != NULL)
                p->clock = *cfg->clock;
        else
                p->clock.now_ms = real_now_ms;
        p->jitter_state = real_now_ms(NULL) * 0x9E3779B97F4A7C15ULL | 1u;
        p->status.served_by = -1;
}

struct endpoint_pool *endpoint_pool_new(const struct endpoint_pool_config *cfg, struct rwerr *err)
{
        struct endpoint_pool *p;
        size_t i;

        if (check_config(cfg, err) != RW_OK)
                return NULL;
        p = calloc(1, sizeof *p);
        if (p == NULL) {
                rwerr_set(err, RW_ERR_NOMEM, "chain %s: out of memory", cfg->chain);
                return NULL;
        }
        copy_settings(p, cfg);
        if ((p->multi = rpc_multi_new(err)) == NULL)
                goto fail;
        for (i = 0; i < cfg->n; i++) {
                struct endpoint *e = &p->endpoints[i];

                e->client = rpc_client_new(&cfg->endpoints[i], err);
                if (e->client == NULL)
                        goto fail;
                p->n++;
                e->health.name = rpc_client_name(e->client);
                e->chain_query = rpc_batch_new();
                if (e->chain_query == NULL) {
                        rwerr_set(err, RW_ERR_NOMEM, "out of memory");
                        goto fail;
                }
                if (rpc_batch_add(e->chain_query, "eth_chainId", NULL, err) < 0)
                        goto fail;
        }
        return p;
fail:
        rwerr_prefix(err, RW_ERR_INVALID, p->chain);
        endpoint_pool_free(p);
        return NULL;
}

void endpoint_pool_free(struct endpoint_pool *p)
{
        size_t i;

        if (p == NULL)
                return;
        /* Clients first: each leaves the multi set it may still be in. */
        for (i = 0; i < p->n; i++) {
                rpc_client_free(p->endpoints[i].client);
                rpc_batch_free(p->endpoints[i].chain_query);
        }
        rpc_multi_free(p->multi);
        free(p);
}

size_t endpoint_pool_size(const struct endpoint_pool *p)
{
        return p->n;
}

void endpoint_pool_health(const struct endpoint_pool *p, size_t index, struct endpoint_health *out)
{
        const struct endpoint *e = &p->endpoints[index];

        *out = e->health;
        out->retry_at_ms = 0;
        if (e->health.breaker == ENDPOINT_OPEN)
                out->retry_at_ms = e->opened_at_ms + p->breaker_open_ms;
        else if (e->health.breaker == ENDPOINT_CLOSED && e->not_before_ms > pool_now(p))
                out->retry_at_ms = e->not_before_ms;
}

void endpoint_pool_last_status(const struct endpoint_pool *p, struct endpoint_pool_status *out)
{
        *out = p->status;
}

int endpoint_pool_take_rpc_timeout(struct endpoint_pool *p, char *reason, size_t size)
{
        int raised = p->timeout_untaken;

        if (size > 0)
                (void)snprintf(reason, size, "%s", raised ? p->timeout_untaken_reason : "");
        p->timeout_untaken = 0;
        p->timeout_untaken_reason[0] = '\0';
        return raised;
}

/* ---------------------------------------------------------------- hedge delay */

static size_t latency_class_of(size_t nrequests)
{
        if (nrequests <= 10)
                return 0;
        if (nrequests <= 100)
                return 1;
        if (nrequests <= 1000)
                return 2;
        return 3;
}

static void note_latency(struct endpoint_pool *p, size_t nrequests, uint64_t ms)
{
        struct latency_class *lc = &p->latency[latency_class_of(nrequests)];

        lc->ms[lc->next] = ms;
        lc->next = (lc->next + 1) % ENDPOINT_POOL_HEDGE_WINDOW;
        if (lc->n < ENDPOINT_POOL_HEDGE_WINDOW)
                lc->n++;
}

uint64_t endpoint_pool_hedge_ms(const struct endpoint_pool *p, size_t nrequests)
{
        const struct latency_class *lc = &p->latency[latency_class_of(nrequests)];
        uint64_t slowest = 0, h;
        unsigned i;

        if (p->hedge_ms != 0)
                return p->hedge_ms;
        if (lc->n == 0)
                return ENDPOINT_POOL_HEDGE_MAX_MS;
        for (i = 0; i < lc->n; i++) {
                if (lc->ms[i] > slowest)
                        slowest = lc->ms[i];
        }
        if (slowest > ENDPOINT_POOL_HEDGE_MAX_MS)
                return ENDPOINT_POOL_HEDGE_MAX_MS;
        h = slowest * ENDPOINT_POOL_HEDGE_FACTOR;
        if (h < ENDPOINT_POOL_HEDGE_MIN_MS)
                return ENDPOINT_POOL_HEDGE_MIN_MS;
        return h > ENDPOINT_POOL_HEDGE_MAX_MS ? ENDPOINT_POOL_HEDGE_MAX_MS : h;
}

/* ---------------------------------------------------------------- health */

/* A delay varied by up to ± jitter_percent (xorshift; no need for crypto here). */
static uint64_t jittered(struct endpoint_pool *p, uint64_t ms)
{
        uint64_t x = p->jitter_state, span;

        if (ms == 0)
                return 0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        p->jitter_state = x;
        span = ms * p->jitter_percent / 100;
        if (span == 0)
                return ms;
        return ms - span + x % (2 * span + 1);
}

static void raise_rpc_timeout(struct endpoint_pool *p, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static void raise_rpc_timeout(struct endpoint_pool *p, const char *fmt, ...)
{
        va_list ap;

        if (p->status.rpc_timeout)
                return; /* keep the first reason */
        p->status.rpc_timeout = 1;
        va_start(ap, fmt);
        (void)vsnprintf(p->status.reason, sizeof p->status.reason, fmt, ap);
        va_end(ap);
        if (!p->timeout_untaken) {
                p->timeout_untaken = 1;
                (void)snprintf(p->timeout_untaken_reason, sizeof p->timeout_untaken_reason, "%s",
                               p->status.reason);
        }
}

/*
 * The attempt of `e` is over, counted as a success or a failure: its
 * duration goes to last_duration_ms and, to the microsecond, into the
 * latency histogram (see the header for which attempts count there).
 */
static void note_duration(struct endpoint_pool *p, struct endpoint *e, uint64_t ms, int answered)
{
        latency_hist_add(&e->health.latency,
                         (double)(rwclock_mono_us() - e->attempt_started_us) / 1000.0);
        e->health.last_duration_ms = ms;
        if (ms <= p->slow_call_ms)
                return;
        e->health.slow_exchanges++;
        raise_rpc_timeout(p,
                          answered ? "%s took %llu ms to answer" : "%s had no answer after %llu ms",
                          e->health.name, (unsigned long long)ms);
}

static void open_breaker(struct endpoint_pool *p, struct endpoint *e)
{
        e->health.breaker = ENDPOINT_OPEN;
        e->opened_at_ms = pool_now(p);
        e->not_before_ms = 0;
        e->chain_verified = 0; /* it may come back as something else */
}

static void record_success(struct endpoint_pool *p, struct endpoint *e, uint64_t ms)
{
        note_duration(p, e, ms, 1);
        e->health.consecutive_failures = 0;
        e->health.breaker = ENDPOINT_CLOSED;
        e->health.last_error[0] = '\0';
        e->not_before_ms = 0;
}

/*
 * A failed attempt: after the k-th in a row the endpoint waits backoff[k];
 * when the schedule is spent, or a probe of an open endpoint failed, its
 * breaker opens (again).
 */
static void record_failure(struct endpoint_pool *p, struct endpoint *e, const char *why,
                           uint64_t ms)
{
        unsigned k;

        note_duration(p, e, ms, 0);
        e->health.failures++;
        k = ++e->health.consecutive_failures;
        (void)snprintf(e->health.last_error, sizeof e->health.last_error, "%s", why);
        if (k >= p->failure_threshold)
                raise_rpc_timeout(p, "%s failed %u times in a row", e->health.name, k);
        p->quiet = 1;
        p->quiet_from_ms = pool_now(p);
        if (e->health.breaker == ENDPOINT_OPEN || e->health.breaker == ENDPOINT_HALF_OPEN ||
            k >= p->nbackoff)
                open_breaker(p, e);
        else
                e->not_before_ms = pool_now(p) + jittered(p, p->backoff_ms[k]);
}

/* Open endpoints whose rest is over become half-open: their next attempt is the probe. */
static void promote_rested(struct endpoint_pool *p, uint64_t now)
{
        size_t i;

        for (i = 0; i < p->n; i++) {
                struct endpoint *e = &p->endpoints[i];

                if (e->health.breaker == ENDPOINT_OPEN &&
                    now - e->opened_at_ms >= p->breaker_open_ms)
                        e->health.breaker = ENDPOINT_HALF_OPEN;
        }
}

static int usable(const struct endpoint *e, uint64_t now)
{
        return (e->health.breaker == ENDPOINT_CLOSED && now >= e->not_before_ms) ||
               e->health.breaker == ENDPOINT_HALF_OPEN;
}

/* When an endpoint that is not usable may be tried again (pool clock). */
static uint64_t ready_at(const struct endpoint_pool *p, const struct endpoint *e)
{
        return e->health.breaker == ENDPOINT_OPEN ? e->opened_at_ms + p->breaker_open_ms
                                                  : e->not_before_ms;
}

/* ---------------------------------------------------------------- the race */

static struct endpoint *endpoint_of(struct endpoint_pool *p, const struct rpc_client *c)
{
        size_t i;

        for (i = 0; i < p->n; i++) {
                if (p->endpoints[i].client == c)
                        return &p->endpoints[i];
        }
        return NULL;
}

static void race_init(struct race *r, struct endpoint_pool *p, struct rpc_batch *b)
{
        memset(r, 0, sizeof *r);
        r->p = p;
        r->b = b;
        r->hedge_ms = NO_HEDGE;
        r->winner = -1;
        r->last_rc = RW_ERR_IO;
}

/* The send ends without blaming an endpoint (our memory ran out, or a stop). */
static void race_abort(struct race *r, int rc, const struct rwerr *why)
{
        if (r->aborted)
                return;
        r->aborted = 1;
        r->abort_rc = rc;
        r->abort_err = *why;
}

/* The attempt of `e` is over without an answer. */
static void attempt_failed(struct race *r, struct endpoint *e, int rc, const struct rwerr *why)
{
        uint64_t ms = rwclock_mono_ms() - e->attempt_started_ms;

        e->phase = IDLE;
        r->inflight--;
        if (rc == RW_ERR_NOMEM) {
                race_abort(r, rc, why); /* not the endpoint's fault: no failure, no backoff */
                return;
        }
        r->start_now = 1;
        r->last_rc = rc;
        r->last_err = *why;
        record_failure(r->p, e, why->msg, ms);
}

/* `e` serves another chain: refused for good (not a failure to back off from). */
static void attempt_refused(struct race *r, struct endpoint *e, const struct rwerr *why)
{
        e->phase = IDLE;
        r->inflight--;
        r->start_now = 1;
        r->last_rc = RW_ERR_REFUSED;
        r->last_err = *why;
        e->health.breaker = ENDPOINT_REFUSED;
        (void)snprintf(e->health.last_error, sizeof e->health.last_error, "%s", why->msg);
}

/* Puts the next exchange of `e`'s attempt in flight: the chain id check if due, else the batch. */
static int exchange_start(struct race *r, struct endpoint *e, struct rwerr *why)
{
        int rc;

        if (e->chain_verified &&
            pool_now(r->p) - e->verified_at_ms >= ENDPOINT_POOL_CHAIN_RECHECK_MS)
                e->chain_verified = 0; /* a provider can be moved to another network */
        if (!e->chain_verified) {
                rc = rpc_multi_start(r->p->multi, e->client, e->chain_query, why);
                e->phase = CHECKING;
        } else {
                rc = rpc_multi_start(r->p->multi, e->client, r->b, why);
                e->phase = SENDING;
        }
        e->exchange_started_ms = rwclock_mono_ms();
        return rc;
}

static void attempt_start(struct race *r, uint64_t now)
{
        struct endpoint *e = &r->p->endpoints[r->order[r->next++]];
        struct rwerr why;
        int rc;

        e->hedge = r->inflight > 0 && !r->start_now;
        if (e->hedge) {
                e->health.hedges++;
                r->p->status.hedges++;
        }
        r->start_now = 0;
        r->last_start_ms = now;
        r->p->status.attempts++;
        e->health.exchanges++;
        e->attempt_started_ms = now;
        e->attempt_started_us = rwclock_mono_us();
        r->inflight++;
        if ((rc = exchange_start(r, e, &why)) != RW_OK)
                attempt_failed(r, e, rc, &why);
}

/* An exchange of `e` finished with `rc`. */
static void exchange_done(struct race *r, struct endpoint *e, int rc, struct rwerr *why)
{
        struct endpoint_pool *p = r->p;
        struct rpc_client_stats stats;

        rpc_client_stats(e->client, &stats);
        if (e->phase == CHECKING) {
                if (rc == RW_OK) {
                        note_latency(p, 1, stats.last_duration_ms);
                        rc = rpc_chain_id_check(e->client, e->chain_query, p->chain_id, why);
                }
                if (rc == RW_ERR_REFUSED) {
                        attempt_refused(r, e, why);
                        return;
                }
                if (rc == RW_OK) {
                        e->chain_verified = 1;
                        e->verified_at_ms = pool_now(p);
                        if ((rc = exchange_start(r, e, why)) == RW_OK)
                                return;
                }
                attempt_failed(r, e, rc, why);
                return;
        }
        if (rc != RW_OK) {
                attempt_failed(r, e, rc, why);
                return;
        }
        note_latency(p, rpc_batch_count(r->b), stats.last_duration_ms);
        e->phase = IDLE;
        r->inflight--;
        record_success(p, e, rwclock_mono_ms() - e->attempt_started_ms);
        if (e->hedge)
                e->health.hedges_won++;
        r->winner = (int)(e - p->endpoints);
}

/* The winner answered: the others stop, and those that had their whole hedge delay failed. */
static void cancel_losers(struct race *r)
{
        struct endpoint_pool *p = r->p;
        const char *winner = p->endpoints[r->winner].health.name;
        uint64_t now = rwclock_mono_ms();
        size_t i;

        for (i = 0; i < p->n; i++) {
                struct endpoint *e = &p->endpoints[i];
                uint64_t ms = now - e->attempt_started_ms;
                struct rwerr why;

                if (e->phase == IDLE)
                        continue;
                rpc_multi_cancel(p->multi, e->client);
                e->phase = IDLE;
                r->inflight--;
                if (r->hedge_ms != NO_HEDGE && ms >= r->hedge_ms) {
                        rwerr_set(&why, RW_ERR_TIMEOUT,
                                  "%s did not answer within %llu ms; %s answered", e->health.name,
                                  (unsigned long long)ms, winner);
                        record_failure(p, e, why.msg, ms);
                } else {
                        e->health.cancelled++;
                }
        }
}

/*
 * Every attempt in flight stops: with `why`, each counts a failure of its
 * endpoint (libcurl itself failed; nothing more can progress); without,
 * nobody is blamed (out of memory, or a stop).
 */
static void stop_all(struct race *r, const struct rwerr *why)
{
        size_t i;

        for (i = 0; i < r->p->n; i++) {
                struct endpoint *e = &r->p->endpoints[i];

                if (e->phase == IDLE)
                        continue;
                rpc_multi_cancel(r->p->multi, e->client);
                if (why != NULL) {
                        attempt_failed(r, e, RW_ERR_IO, why);
                } else {
                        e->phase = IDLE;
                        r->inflight--;
                        e->health.cancelled++;
                }
        }
        if (why != NULL)
                r->next = r->n;
}

/* Exchanges libcurl should have timed out by now are cut off here: no wait is unbounded. */
static void expire_overdue(struct race *r, uint64_t now)
{
        size_t i;

        for (i = 0; i < r->p->n; i++) {
                struct endpoint *e = &r->p->endpoints[i];
                long timeout = rpc_client_timeout_ms(e->client);
                struct rwerr why;

                if (e->phase == IDLE ||
                    now - e->exchange_started_ms < (uint64_t)timeout + OVERDUE_GRACE_MS)
                        continue;
                rpc_multi_cancel(r->p->multi, e->client);
                rwerr_set(&why, RW_ERR_TIMEOUT, "%s: no complete reply within %ld ms",
                          e->health.name, timeout);
                attempt_failed(r, e, RW_ERR_TIMEOUT, &why);
        }
}

/* How long to wait for progress before something is due: a hedge or a deadline. */
static uint64_t wait_budget(const struct race *r, uint64_t now)
{
        uint64_t w = WAIT_SLICE_MS, due;
        size_t i;

        if (r->next < r->n && r->hedge_ms != NO_HEDGE) {
                due = r->last_start_ms + r->hedge_ms;
                w = due > now ? (due - now < w ? due - now : w) : 0;
        }
        for (i = 0; i < r->p->n; i++) {
                const struct endpoint *e = &r->p->endpoints[i];

                if (e->phase == IDLE)
                        continue;
                due = e->exchange_started_ms + (uint64_t)rpc_client_timeout_ms(e->client) +
                      OVERDUE_GRACE_MS;
                if (due <= now)
                        return 0;
                if (due - now < w)
                        w = due - now;
        }
        return w;
}

static int start_due(const struct race *r, uint64_t now)
{
        if (r->next >= r->n)
                return 0;
        return r->inflight == 0 || r->start_now ||
               (r->hedge_ms != NO_HEDGE && now - r->last_start_ms >= r->hedge_ms);
}

static int interrupted(const struct endpoint_pool *p)
{
        return __atomic_load_n(&p->interrupted, __ATOMIC_ACQUIRE);
}

static int interrupted_error(const struct endpoint_pool *p, struct rwerr *err)
{
        return rwerr_set(err, RW_ERR_IO, "chain %s: reads interrupted (relaywatch is stopping)",
                         p->chain);
}

/*
 * Runs attempts until one answers, all have failed or the send is aborted
 * (out of memory, interrupted); the winner's index, or -1.
 */
static int race_run(struct race *r)
{
        while (r->winner < 0 && !r->aborted) {
                uint64_t now = rwclock_mono_ms();
                struct rpc_client *done = NULL;
                struct endpoint *e;
                struct rwerr why;
                int rc = RW_OK, wrc;

                if (interrupted(r->p)) {
                        race_abort(r, interrupted_error(r->p, &why), &why);
                        break;
                }
                expire_overdue(r, now);
                if (start_due(r, now)) {
                        attempt_start(r, now);
                        continue;
                }
                if (r->inflight == 0)
                        break;
                if ((wrc = rpc_multi_wait(r->p->multi, (long)wait_budget(r, now), &done, &rc,
                                          &why)) != RW_OK) {
                        if (wrc == RW_ERR_NOMEM)
                                race_abort(r, wrc, &why);
                        else
                                stop_all(r, &why);
                        break;
                }
                if (done != NULL && (e = endpoint_of(r->p, done)) != NULL && e->phase != IDLE)
                        exchange_done(r, e, rc, &why);
        }
        if (r->aborted) {
                stop_all(r, NULL);
                return -1;
        }
        if (r->winner >= 0)
                cancel_losers(r);
        return r->winner;
}

void endpoint_pool_interrupt(struct endpoint_pool *p)
{
        __atomic_store_n(&p->interrupted, 1, __ATOMIC_RELEASE);
        rpc_multi_wakeup(p->multi);
}

/* ---------------------------------------------------------------- sends */

static void status_reset(struct endpoint_pool *p)
{
        memset(&p->status, 0, sizeof p->status);
        p->status.served_by = -1;
}

static int all_failed(struct endpoint_pool *p, const char *what, struct rwerr *err)
{
        char msg[RWERR_MSG_MAX];
        size_t i, used;
        int n;

        n = snprintf(msg, sizeof msg, "no RPC endpoint of chain %s %s", p->chain, what);
        used = n > 0 ? (size_t)n : 0;
        for (i = 0; i < p->n && used < sizeof msg; i++) {
                const struct endpoint_health *h = &p->endpoints[i].health;

                n = snprintf(msg + used, sizeof msg - used, "; %s",
                             h->last_error[0] ? h->last_error : h->name);
                used += n > 0 ? (size_t)n : 0;
        }
        return rwerr_set(err, RW_ERR_IO, "%s", msg);
}

/*
 * No endpoint is usable: the one whose backoff or rest ends first is probed
 * alone, unless the pool's latest failed attempt or blind probe is less than
 * ENDPOINT_POOL_BLIND_PROBE_MS old. Returns 0 with the probe in `r`, or the
 * error to return.
 */
static int blind_probe(struct endpoint_pool *p, struct race *r, uint64_t now, struct rwerr *err)
{
        char what[96];
        int best = -1;
        size_t i;

        for (i = 0; i < p->n; i++) {
                const struct endpoint *e = &p->endpoints[i];

                if (e->health.breaker != ENDPOINT_REFUSED &&
                    (best < 0 || ready_at(p, e) < ready_at(p, &p->endpoints[best])))
                        best = (int)i;
        }
        if (best < 0)
                return all_failed(p, "answered", err);
        if (p->quiet && now - p->quiet_from_ms < ENDPOINT_POOL_BLIND_PROBE_MS) {
                (void)snprintf(what, sizeof what,
                               "answered (all backing off or resting; no probe for %llu ms)",
                               (unsigned long long)(p->quiet_from_ms +
                                                    ENDPOINT_POOL_BLIND_PROBE_MS - now));
                return all_failed(p, what, err);
        }
        p->quiet = 1;
        p->quiet_from_ms = now;
        if (p->endpoints[best].health.breaker == ENDPOINT_OPEN)
                p->endpoints[best].health.breaker = ENDPOINT_HALF_OPEN;
        r->order[r->n++] = (size_t)best;
        return RW_OK;
}

int endpoint_pool_send(struct endpoint_pool *p, struct rpc_batch *b, struct rwerr *err)
{
        struct race r;
        uint64_t now = pool_now(p);
        size_t i;
        int rc;

        status_reset(p);
        if (rpc_batch_count(b) == 0)
                return rwerr_set(err, RW_ERR_INVALID, "chain %s: empty batch", p->chain);
        if (interrupted(p))
                return interrupted_error(p, err);
        race_init(&r, p, b);
        promote_rested(p, now);
        for (i = 0; i < p->n; i++) {
                if (usable(&p->endpoints[i], now))
                        r.order[r.n++] = i;
        }
        if (r.n > 0) {
                r.hedge_ms = endpoint_pool_hedge_ms(p, rpc_batch_count(b));
                p->status.hedge_ms = r.hedge_ms;
        } else if ((rc = blind_probe(p, &r, now, err)) != RW_OK) {
                return rc;
        }
        if (race_run(&r) < 0) {
                if (!r.aborted)
                        return all_failed(p, "answered", err);
                if (err != NULL)
                        *err = r.abort_err;
                return r.abort_rc;
        }
        p->status.served_by = r.winner;
        return RW_OK;
}

int endpoint_pool_send_to(struct endpoint_pool *p, size_t index, struct rpc_batch *b,
                          struct rwerr *err)
{
        struct endpoint *e;
        struct race r;

        status_reset(p);
        if (index >= p->n)
                return rwerr_set(err, RW_ERR_RANGE, "chain %s has no RPC endpoint %zu", p->chain,
                                 index);
        e = &p->endpoints[index];
        if (e->health.breaker == ENDPOINT_REFUSED)
                return rwerr_set(err, RW_ERR_REFUSED, "%s", e->health.last_error);
        if (rpc_batch_count(b) == 0)
                return rwerr_set(err, RW_ERR_INVALID, "%s: empty batch", e->health.name);
        if (interrupted(p))
                return interrupted_error(p, err);
        race_init(&r, p, b);
        r.order[r.n++] = index;
        if (race_run(&r) < 0) {
                if (err != NULL)
                        *err = r.aborted ? r.abort_err : r.last_err;
                return r.aborted ? r.abort_rc : r.last_rc;
        }
        p->status.served_by = (int)index;
        return RW_OK;
}
