#include "endpoint_pool.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rwclock.h"

#define DEFAULT_FAILURE_THRESHOLD 3u
#define DEFAULT_SLOW_CALL_MS 10000u
#define DEFAULT_JITTER_PERCENT 20u
#define DEFAULT_BREAKER_OPEN_MS 30000u

static const uint64_t default_backoff_ms[] = {0, 1000, 2000, 5000};

struct endpoint {
        struct rpc_client *client;
        int chain_verified;
        uint64_t opened_at_ms;
        struct endpoint_health health;
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
        struct endpoint_pool_clock clock;
        uint64_t jitter_state;
        size_t n;
        struct endpoint endpoints[ENDPOINT_POOL_MAX];
        struct endpoint_pool_status status;
};

static uint64_t real_now_ms(void *ctx)
{
        (void)ctx;
        return rwclock_mono_ms();
}

static void real_sleep_ms(void *ctx, uint64_t ms)
{
        struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};

        (void)ctx;
        while (nanosleep(&ts, &ts) != 0)
                ;
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

struct endpoint_pool *endpoint_pool_new(const struct endpoint_pool_config *cfg, struct rwerr *err)
{
        struct endpoint_pool *p;
        size_t i;

        if (cfg->n == 0 || cfg->n > ENDPOINT_POOL_MAX) {
                rwerr_set(err, RW_ERR_INVALID,
                          "chain %s: %zu RPC endpoints configured, need 1 to %d", cfg->chain,
                          cfg->n, ENDPOINT_POOL_MAX);
                return NULL;
        }
        if (cfg->nbackoff > ENDPOINT_POOL_BACKOFF_MAX) {
                rwerr_set(err, RW_ERR_INVALID, "chain %s: %zu backoff delays, at most %d",
                          cfg->chain, cfg->nbackoff, ENDPOINT_POOL_BACKOFF_MAX);
                return NULL;
        }
        p = calloc(1, sizeof *p);
        if (p == NULL) {
                rwerr_set(err, RW_ERR_NOMEM, "chain %s: out of memory", cfg->chain);
                return NULL;
        }
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
        if (cfg->clock != NULL) {
                p->clock = *cfg->clock;
        } else {
                p->clock.now_ms = real_now_ms;
                p->clock.sleep_ms = real_sleep_ms;
        }
        p->jitter_state = real_now_ms(NULL) * 0x9E3779B97F4A7C15ULL | 1u;
        p->status.served_by = -1;
        for (i = 0; i < cfg->n; i++) {
                struct endpoint *e = &p->endpoints[i];

                e->client = rpc_client_new(&cfg->endpoints[i], err);
                if (e->client == NULL) {
                        rwerr_prefix(err, RW_ERR_INVALID, p->chain);
                        endpoint_pool_free(p);
                        return NULL;
                }
                p->n++;
                e->health.name = rpc_client_name(e->client);
        }
        return p;
}

void endpoint_pool_free(struct endpoint_pool *p)
{
        size_t i;

        if (p == NULL)
                return;
        for (i = 0; i < p->n; i++)
                rpc_client_free(p->endpoints[i].client);
        free(p);
}

size_t endpoint_pool_size(const struct endpoint_pool *p)
{
        return p->n;
}

void endpoint_pool_health(const struct endpoint_pool *p, size_t index, struct endpoint_health *out)
{
        *out = p->endpoints[index].health;
}

void endpoint_pool_last_status(const struct endpoint_pool *p, struct endpoint_pool_status *out)
{
        *out = p->status;
}

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
}

static void open_breaker(struct endpoint_pool *p, struct endpoint *e)
{
        e->health.breaker = ENDPOINT_OPEN;
        e->opened_at_ms = p->clock.now_ms(p->clock.ctx);
        e->chain_verified = 0; /* it may come back as something else */
}

/* One exchange with endpoint `e`, with all the bookkeeping. */
static int exchange(struct endpoint_pool *p, struct endpoint *e, struct rpc_batch *b,
                    struct rwerr *err)
{
        struct rpc_client_stats stats;
        int rc;

        if (!e->chain_verified) {
                rc = rpc_client_verify_chain(e->client, p->chain_id, err);
                if (rc == RW_ERR_REFUSED) {
                        e->health.breaker = ENDPOINT_REFUSED;
                        (void)snprintf(e->health.last_error, sizeof e->health.last_error, "%s",
                                       err ? err->msg : "serves another chain");
                        return rc;
                }
                if (rc == RW_OK)
                        e->chain_verified = 1;
        } else {
                rc = RW_OK;
        }
        if (rc == RW_OK)
                rc = rpc_batch_send(e->client, b, err);
        p->status.attempts++;
        rpc_client_stats(e->client, &stats);
        e->health.exchanges++;
        e->health.last_duration_ms = stats.last_duration_ms;
        if (stats.last_duration_ms > p->slow_call_ms) {
                e->health.slow_exchanges++;
                raise_rpc_timeout(p, "%s took %llu ms to answer", e->health.name,
                                  (unsigned long long)stats.last_duration_ms);
        }
        if (rc == RW_OK) {
                e->health.consecutive_failures = 0;
                e->health.breaker = ENDPOINT_CLOSED;
                e->health.last_error[0] = '\0';
                return RW_OK;
        }
        e->health.failures++;
        e->health.consecutive_failures++;
        (void)snprintf(e->health.last_error, sizeof e->health.last_error, "%s",
                       err ? err->msg : rwerr_code_name(rc));
        if (e->health.consecutive_failures >= p->failure_threshold)
                raise_rpc_timeout(p, "%s failed %llu times in a row", e->health.name,
                                  (unsigned long long)e->health.consecutive_failures);
        return rc;
}

/* Attempts on one endpoint: the whole backoff schedule, or one half-open probe. */
static int try_endpoint(struct endpoint_pool *p, struct endpoint *e, struct rpc_batch *b,
                        struct rwerr *err)
{
        size_t attempts = e->health.breaker == ENDPOINT_HALF_OPEN ? 1 : p->nbackoff;
        size_t a;
        int rc = RW_ERR_IO;

        for (a = 0; a < attempts; a++) {
                uint64_t delay = jittered(p, p->backoff_ms[a]);

                if (delay > 0)
                        p->clock.sleep_ms(p->clock.ctx, delay);
                rc = exchange(p, e, b, err);
                if (rc == RW_OK || rc == RW_ERR_REFUSED)
                        return rc;
        }
        open_breaker(p, e);
        return rc;
}

/* Open endpoints whose rest is over become half-open; returns how many can serve. */
static size_t promote_rested(struct endpoint_pool *p)
{
        uint64_t now = p->clock.now_ms(p->clock.ctx);
        size_t i, usable = 0;

        for (i = 0; i < p->n; i++) {
                struct endpoint *e = &p->endpoints[i];

                if (e->health.breaker == ENDPOINT_OPEN &&
                    now - e->opened_at_ms >= p->breaker_open_ms)
                        e->health.breaker = ENDPOINT_HALF_OPEN;
                if (e->health.breaker == ENDPOINT_CLOSED || e->health.breaker == ENDPOINT_HALF_OPEN)
                        usable++;
        }
        return usable;
}

/* The open endpoint that has rested longest, made half-open; -1 if none. */
static int longest_rested(struct endpoint_pool *p)
{
        int best = -1;
        size_t i;

        for (i = 0; i < p->n; i++) {
                const struct endpoint *e = &p->endpoints[i];

                if (e->health.breaker == ENDPOINT_OPEN &&
                    (best < 0 || e->opened_at_ms < p->endpoints[best].opened_at_ms))
                        best = (int)i;
        }
        if (best >= 0)
                p->endpoints[best].health.breaker = ENDPOINT_HALF_OPEN;
        return best;
}

static int all_failed(struct endpoint_pool *p, struct rwerr *err)
{
        char msg[RWERR_MSG_MAX];
        size_t i, used;

        used = (size_t)snprintf(msg, sizeof msg, "no RPC endpoint of chain %s answered", p->chain);
        for (i = 0; i < p->n && used < sizeof msg; i++) {
                const struct endpoint_health *h = &p->endpoints[i].health;

                used += (size_t)snprintf(msg + used, sizeof msg - used, "; %s",
                                         h->last_error[0] ? h->last_error : h->name);
        }
        return rwerr_set(err, RW_ERR_IO, "%s", msg);
}

int endpoint_pool_send(struct endpoint_pool *p, struct rpc_batch *b, struct rwerr *err)
{
        size_t i;
        int probe;

        memset(&p->status, 0, sizeof p->status);
        p->status.served_by = -1;
        if (promote_rested(p) > 0) {
                for (i = 0; i < p->n; i++) {
                        struct endpoint *e = &p->endpoints[i];

                        if (e->health.breaker != ENDPOINT_CLOSED &&
                            e->health.breaker != ENDPOINT_HALF_OPEN)
                                continue;
                        if (try_endpoint(p, e, b, err) == RW_OK) {
                                p->status.served_by = (int)i;
                                return RW_OK;
                        }
                }
                return all_failed(p, err);
        }
        /* Every endpoint is resting: probe the one that has rested longest. */
        probe = longest_rested(p);
        if (probe >= 0 && try_endpoint(p, &p->endpoints[probe], b, err) == RW_OK) {
                p->status.served_by = probe;
                return RW_OK;
        }
        return all_failed(p, err);
}

int endpoint_pool_send_to(struct endpoint_pool *p, size_t index, struct rpc_batch *b,
                          struct rwerr *err)
{
        struct endpoint *e;
        int rc;

        memset(&p->status, 0, sizeof p->status);
        p->status.served_by = -1;
        if (index >= p->n)
                return rwerr_set(err, RW_ERR_RANGE, "chain %s has no RPC endpoint %zu", p->chain,
                                 index);
        e = &p->endpoints[index];
        if (e->health.breaker == ENDPOINT_REFUSED)
                return rwerr_set(err, RW_ERR_REFUSED, "%s", e->health.last_error);
        rc = exchange(p, e, b, err);
        if (rc == RW_OK)
                p->status.served_by = (int)index;
        return rc;
}
