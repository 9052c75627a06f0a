/*
 * endpoint_pool: the RPC endpoints of one chain, in order of preference,
 * with retries, failover and a circuit breaker per endpoint.
 *
 * endpoint_pool_send() sends a batch to the most preferred endpoint that is
 * usable. On a failure it retries the same endpoint after each delay of the
 * backoff schedule (default 0, 1, 2, 5 s, each with jitter); when those are
 * spent it opens that endpoint's breaker and moves to the next one. An open
 * endpoint rests for `breaker_open_ms`, then gets one half-open probe: a
 * success closes its breaker (and, being preferred, it serves again), a
 * failure opens it for another rest. When every endpoint is resting the one
 * that has rested longest is probed anyway: a blind watchdog keeps trying.
 *
 * Before an endpoint serves for the first time, and again after its breaker
 * has opened, its eth_chainId is checked against the chain's configured id;
 * an endpoint on another chain is refused and never used.
 *
 * RPC_TIMEOUT (DESIGN.md, Tier 2) is raised on the pool's status when an
 * endpoint reaches `failure_threshold` consecutive failures or one exchange
 * takes longer than `slow_call_ms`. The pool only reports; the caller alerts.
 */
#ifndef RELAYWATCH_ENDPOINT_POOL_H
#define RELAYWATCH_ENDPOINT_POOL_H

#include <stddef.h>
#include <stdint.h>

#include "rpc.h"
#include "rwerr.h"

struct endpoint_pool;

#define ENDPOINT_POOL_MAX 16
#define ENDPOINT_POOL_BACKOFF_MAX 8

/* Time, injectable so tests of the retry logic need not wait. */
struct endpoint_pool_clock {
        uint64_t (*now_ms)(void *ctx); /* monotonic milliseconds */
        void (*sleep_ms)(void *ctx, uint64_t ms);
        void *ctx;
};

struct endpoint_pool_config {
        const char *chain;                  /* name for messages: "source", "execution" */
        uint64_t chain_id;                  /* every endpoint must serve this chain */
        const struct rpc_config *endpoints; /* in order of preference; copied */
        size_t n;                           /* 1 .. ENDPOINT_POOL_MAX */
        unsigned failure_threshold;         /* consecutive failures that raise RPC_TIMEOUT; 0: 3 */
        uint64_t slow_call_ms;              /* an exchange slower than this raises it; 0: 10000 */
        const uint64_t *backoff_ms;         /* delay before each attempt on one endpoint; */
        size_t nbackoff;                    /*   NULL/0: {0, 1000, 2000, 5000} */
        unsigned jitter_percent;            /* each delay varies by up to ± this; 0: 20 */
        uint64_t breaker_open_ms;           /* rest of an endpoint whose breaker opened; 0: 30000 */
        const struct endpoint_pool_clock *clock; /* NULL: real time */
};

enum endpoint_breaker {
        ENDPOINT_CLOSED = 0, /* healthy: serves */
        ENDPOINT_OPEN,       /* failed: rests until its probe is due */
        ENDPOINT_HALF_OPEN,  /* rest over: the next send probes it once */
        ENDPOINT_REFUSED,    /* serves another chain: never used */
};

/* One endpoint's health, for metrics and `relaywatch status`. */
struct endpoint_health {
        const char *name; /* redacted, owned by the pool */
        enum endpoint_breaker breaker;
        uint64_t exchanges;
        uint64_t failures;
        unsigned consecutive_failures;
        uint64_t slow_exchanges;
        uint64_t last_duration_ms;
        char last_error[RWERR_MSG_MAX]; /* "" when the last exchange succeeded */
};

/* What the latest endpoint_pool_send saw. */
struct endpoint_pool_status {
        int rpc_timeout;            /* RPC_TIMEOUT condition seen during the send */
        char reason[RWERR_MSG_MAX]; /* why, when rpc_timeout is set */
        int served_by;              /* endpoint index that answered, or -1 */
        unsigned attempts;          /* exchanges the send made */
};

/*
 * Creates clients for every endpoint (no network traffic yet). NULL with
 * `err` filled for a bad configuration. Free with endpoint_pool_free (NULL ok).
 */
struct endpoint_pool *endpoint_pool_new(const struct endpoint_pool_config *cfg, struct rwerr *err);
void endpoint_pool_free(struct endpoint_pool *p);

/*
 * Sends `b` as described above. Returns 0 when an endpoint answered (results
 * are in `b`), or RW_ERR_IO when none did, with the last error of each
 * endpoint in the message.
 */
int endpoint_pool_send(struct endpoint_pool *p, struct rpc_batch *b, struct rwerr *err)
        __attribute__((warn_unused_result));

/*
 * Sends `b` to endpoint `index` only, once, whatever its breaker says
 * (after checking its chain id if not yet done): for re-reading a value
 * through a second, independent endpoint. Health is updated as usual.
 */
int endpoint_pool_send_to(struct endpoint_pool *p, size_t index, struct rpc_batch *b,
                          struct rwerr *err) __attribute__((warn_unused_result));

size_t endpoint_pool_size(const struct endpoint_pool *p);
void endpoint_pool_health(const struct endpoint_pool *p, size_t index, struct endpoint_health *out);
void endpoint_pool_last_status(const struct endpoint_pool *p, struct endpoint_pool_status *out);

/* "closed", "open", "half-open", "refused". */
const char *endpoint_breaker_name(enum endpoint_breaker b);

#endif
