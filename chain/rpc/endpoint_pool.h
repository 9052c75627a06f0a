/*
 * endpoint_pool: the RPC endpoints of one chain, in order of preference,
 * with hedged failover, a backoff per endpoint and a circuit breaker per
 * endpoint. No call sleeps: every wait is a wait for an answer, bounded by
 * the endpoints' timeouts.
 *
 * An attempt on an endpoint is its eth_chainId check when one is due (before
 * it serves for the first time, again after its breaker opened, and once
 * ENDPOINT_POOL_CHAIN_RECHECK_MS (pool clock) have passed since the last
 * one, so a provider moved to another network mid-run is found out; an
 * endpoint on another chain is refused for good) followed by the batch.
 *
 * endpoint_pool_send() starts an attempt on the most preferred usable
 * endpoint. An attempt that fails fast (connection refused, an HTTP error,
 * garbage, a truncated reply, a wrong chain id) starts one on the next usable
 * endpoint at once; an attempt that has not answered within the hedge delay
 * gets company: the next usable endpoint is asked too, and so on. All of them
 * run side by side on the caller's thread (rpc_multi); the first good answer
 * wins and the others are cancelled. An attempt cancelled after being in
 * flight for the whole hedge delay, or one that timed out, counts as a
 * failure of its endpoint ("... did not answer within 212 ms; source[1]
 * answered"); a hedge cancelled sooner than that (the slow endpoint answered
 * after all) is not held against it.
 *
 * The hedge delay is `hedge_ms` when configured. Otherwise (0) it follows
 * the pool's own latency, per size of batch: successful exchanges are
 * recorded in four classes by request count (1-10, 11-100, 101-1000, more),
 * keeping the last ENDPOINT_POOL_HEDGE_WINDOW of each, and a batch of n
 * requests is hedged after
 *
 *     clamp(ENDPOINT_POOL_HEDGE_FACTOR x the slowest of its class's window,
 *           ENDPOINT_POOL_HEDGE_MIN_MS, ENDPOINT_POOL_HEDGE_MAX_MS)
 *
 * that is 3 x the slowest recent exchange of its size, at least 200 ms, at
 * most 2000 ms; 2000 ms while its class has seen nothing yet. A batch of
 * 2,000 eth_calls is only compared with batches of its size (a few hundred
 * ms on a real provider: hedged after about a second), never with the
 * 20 ms of an eth_blockNumber, so it does not routinely trigger hedges.
 *
 * Backoff: after an endpoint's k-th consecutive failure it is not tried
 * again before backoff_ms[k] (jittered) has passed on the pool's monotonic
 * clock; meanwhile it stands behind every endpoint that is not backing off,
 * which in practice means it is skipped. Entry 0 of the schedule would be the
 * delay before a first attempt: it is not used (a first attempt never
 * waits), but it counts in the schedule's length. When the whole schedule
 * has failed (as many consecutive failures as it has entries) the breaker
 * opens: the endpoint rests for `breaker_open_ms`, then one attempt is a
 * half-open probe; a success closes the breaker (and, being preferred, the
 * endpoint serves again), a failure opens it for another rest.
 *
 * A blind watchdog keeps trying: when no endpoint is usable (every one
 * backing off or resting), endpoint_pool_send probes the one whose backoff
 * or rest ends first, once, alone (as a half-open probe when it was open).
 * A blind probe comes at least ENDPOINT_POOL_BLIND_PROBE_MS (pool clock)
 * after the pool's latest failed attempt or blind probe: a caller polling
 * every 100 ms against dead endpoints makes about one request a second, and
 * in between its sends fail at once, without traffic.
 *
 * Latency (endpoint_health.latency): every attempt that ends as a success
 * or a failure of its endpoint adds its duration, from its start (the chain
 * id check included when one was due) to its end, measured to the
 * microsecond. That includes a hedge loser blamed for not answering within
 * the hedge delay (its duration is how long it was waited for, a lower
 * bound) and an attempt cut off at its timeout. Attempts that end blaming
 * nobody are not counted, since they say nothing about the endpoint: a hedge
 * cancelled sooner than its hedge delay (`cancelled`), a send interrupted or
 * out of our own memory, and an endpoint refused for serving another chain.
 * So latency.count is exchanges minus those.
 *
 * RPC_TIMEOUT (Tier 2, docs/ARCHITECTURE.md) is raised on the pool's status when an
 * endpoint reaches `failure_threshold` consecutive failures or one attempt
 * takes longer than `slow_call_ms`. The pool only reports; the caller alerts.
 *
 * Nothing here prints a URL: endpoints are named by their configured name
 * and redacted URL (rpc.h).
 *
 * Threads: a pool belongs to one thread at a time; different pools may be
 * used from different threads at once.
 */
#ifndef RELAYWATCH_ENDPOINT_POOL_H
#define RELAYWATCH_ENDPOINT_POOL_H

#include <stddef.h>
#include <stdint.h>

#include "rpc.h"
#include "latency_hist.h"
#include "rwerr.h"

struct endpoint_pool;

#define ENDPOINT_POOL_MAX 16
#define ENDPOINT_POOL_BACKOFF_MAX 8

/* The automatic hedge delay (see above) and the bounds of a configured one. */
/* How long an endpoint's chain id, once checked, is taken on trust. */
#define ENDPOINT_POOL_CHAIN_RECHECK_MS 60000u
#define ENDPOINT_POOL_HEDGE_FACTOR 3
#define ENDPOINT_POOL_HEDGE_WINDOW 16
#define ENDPOINT_POOL_HEDGE_MIN_MS 200u
#define ENDPOINT_POOL_HEDGE_MAX_MS 2000u
#define ENDPOINT_POOL_HEDGE_CONFIG_MIN_MS 10u /* hedge_ms: 0, or 10 .. 2000 */

/* Blind probes (no endpoint usable) are at least this far apart. */
#define ENDPOINT_POOL_BLIND_PROBE_MS 1000u

/*
 * The clock of backoffs and breaker rests, injectable so tests need not
 * wait for them. The exchanges themselves (timeouts, hedge delays) run on
 * the real monotonic clock.
 */
struct endpoint_pool_clock {
        uint64_t (*now_ms)(void *ctx); /* monotonic milliseconds */
        void *ctx;
};

struct endpoint_pool_config {
        const char *chain;                  /* name for messages: "source", "execution" */
        uint64_t chain_id;                  /* every endpoint must serve this chain */
        const struct rpc_config *endpoints; /* in order of preference; copied */
        size_t n;                           /* 1 .. ENDPOINT_POOL_MAX */
        unsigned failure_threshold;         /* consecutive failures that raise RPC_TIMEOUT; 0: 3 */
        uint64_t slow_call_ms;              /* an attempt slower than this raises it; 0: 10000 */
        const uint64_t *backoff_ms;         /* wait after each consecutive failure (above); */
        size_t nbackoff;                    /*   NULL/0: {0, 1000, 2000, 5000} */
        unsigned jitter_percent;            /* each wait varies by up to ± this; 0: 20 */
        uint64_t breaker_open_ms;           /* rest of an endpoint whose breaker opened; 0: 30000 */
        uint64_t hedge_ms;                  /* 0: automatic; else 10 .. 2000 */
        const struct endpoint_pool_clock *clock; /* NULL: rwclock_mono_ms */
};

enum endpoint_breaker {
        ENDPOINT_CLOSED = 0, /* healthy, or backing off after a failure */
        ENDPOINT_OPEN,       /* failed the whole schedule: rests until its probe is due */
        ENDPOINT_HALF_OPEN,  /* rest over: the next attempt probes it */
        ENDPOINT_REFUSED,    /* serves another chain: never used */
};

/* One endpoint's health, for metrics and `relaywatch status`. */
struct endpoint_health {
        const char *name; /* redacted, owned by the pool */
        enum endpoint_breaker breaker;
        unsigned consecutive_failures;
        uint64_t exchanges; /* attempts */
        uint64_t failures;
        uint64_t slow_exchanges;
        uint64_t last_duration_ms;      /* of its latest attempt */
        char last_error[RWERR_MSG_MAX]; /* "" when the last attempt succeeded */
        uint64_t hedges;                /* attempts started as a hedge of a slower endpoint */
        uint64_t hedges_won;            /* of those, the ones that answered first */
        uint64_t cancelled;          /* attempts cancelled without blame: another answered first */
        uint64_t retry_at_ms;        /* pool clock: not tried before (backoff or rest); 0: free */
        struct latency_hist latency; /* every finished attempt's duration, since the pool began */
};

/* What the latest endpoint_pool_send or endpoint_pool_send_to saw. */
struct endpoint_pool_status {
        int rpc_timeout;            /* RPC_TIMEOUT condition seen during the send */
        char reason[RWERR_MSG_MAX]; /* why, when rpc_timeout is set */
        int served_by;              /* endpoint index that answered, or -1 */
        unsigned attempts;          /* attempts the send started */
        unsigned hedges;            /* of those, started because another was slow */
        uint64_t hedge_ms;          /* the hedge delay it used; 0: not hedged */
};

/*
 * Creates clients for every endpoint (no network traffic yet). NULL with
 * `err` filled for a bad configuration. Free with endpoint_pool_free (NULL ok).
 */
struct endpoint_pool *endpoint_pool_new(const struct endpoint_pool_config *cfg, struct rwerr *err);
void endpoint_pool_free(struct endpoint_pool *p);

/*
 * Sends `b` as described above. Returns 0 when an endpoint answered (results
 * are in `b`), RW_ERR_INVALID for an empty batch, RW_ERR_IO when none did,
 * with the last error of each endpoint in the message, or when interrupted,
 * and RW_ERR_NOMEM when our own memory ran out (no endpoint is blamed for
 * that: no failure is counted, no backoff starts).
 */
int endpoint_pool_send(struct endpoint_pool *p, struct rpc_batch *b, struct rwerr *err)
        __attribute__((warn_unused_result));

/*
 * Sends `b` to endpoint `index` only: one attempt, not hedged, for reading a
 * value through a second, independent endpoint. Health is updated as for
 * any attempt. The attempt is made whatever the endpoint's backoff or
 * breaker say: the caller asked for that endpoint because a view read
 * anywhere else would not be independent, so being refused would only make
 * it blind. It costs at most that endpoint's timeout (twice when its chain
 * id is checked first), once per call; a failure restarts the rest of an
 * open endpoint. Callers that may skip the endpoint read endpoint_pool_health
 * first. A refused (wrong-chain) endpoint is never sent anything:
 * RW_ERR_REFUSED. RW_ERR_RANGE for an index past the pool.
 */
int endpoint_pool_send_to(struct endpoint_pool *p, size_t index, struct rpc_batch *b,
                          struct rwerr *err) __attribute__((warn_unused_result));

/*
 * Makes the send in progress (on another thread) and every later one fail
 * at once with RW_ERR_IO ("reads interrupted"), blaming no endpoint: for a
 * stop that must not wait for a hung provider. The one function here that
 * may be called from any thread; there is no way back (free the pool).
 */
void endpoint_pool_interrupt(struct endpoint_pool *p);

/* The hedge delay endpoint_pool_send would use now for a batch of `nrequests`. */
uint64_t endpoint_pool_hedge_ms(const struct endpoint_pool *p, size_t nrequests);

size_t endpoint_pool_size(const struct endpoint_pool *p);
void endpoint_pool_health(const struct endpoint_pool *p, size_t index, struct endpoint_health *out);
void endpoint_pool_last_status(const struct endpoint_pool *p, struct endpoint_pool_status *out);

/*
 * 1 when any send since the last call raised the RPC_TIMEOUT condition,
 * with the first reason copied to `reason` (`size` bytes, NUL-terminated);
 * 0 otherwise. Clears it: a cycle takes what all of its reads saw, not only
 * its last send's (a hung endpoint is often only found out, by its third
 * lost race, in a later read than the heads).
 */
int endpoint_pool_take_rpc_timeout(struct endpoint_pool *p, char *reason, size_t size);

/* "closed", "open", "half-open", "refused". */
const char *endpoint_breaker_name(enum endpoint_breaker b);

#endif
