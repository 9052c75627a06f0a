/*
 * Unit tests for chain/rpc/endpoint_pool: hedged failover (a hung endpoint
 * costs a hedge delay, a fast failure costs nothing), backoff as a
 * per-endpoint "not before" time, the circuit breaker and its half-open
 * probe, blind probes that never spin, refusal of a wrong-chain endpoint,
 * the automatic hedge delay, and the RPC_TIMEOUT condition. Endpoints are
 * fake providers on loopback (tests/support/fake_http.c). Backoffs and
 * rests run on a fake clock, so they are checked without waiting for them;
 * hedges and timeouts run on the real one.
 */
#include <arpa/inet.h>
#include <pthread.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "endpoint_pool.h"
#include "fake_http.h"
#include "latency_hist.h"
#include "rpc.h"
#include "rwclock.h"
#include "rwerr.h"

#define CHAIN_ID 31337
#define LONG_TIMEOUT_MS 30000
#define REST_MS UINT64_C(30000)

struct fake_clock {
        uint64_t now;
};

static uint64_t fake_now(void *ctx)
{
        return ((struct fake_clock *)ctx)->now;
}

/* How a test wants its pool; zero fields take the pool's defaults. */
struct pool_opts {
        long timeout_ms; /* 0: 500 */
        uint64_t hedge_ms;
        const uint64_t *backoff_ms;
        size_t nbackoff;
        uint64_t slow_call_ms;
};

struct fixture {
        struct fake_http *servers[2];
        struct fake_clock clock;
        struct endpoint_pool_clock pool_clock;
        struct endpoint_pool *pool;
        struct rpc_batch *batch;
        char refused_url[64];
};

static struct endpoint_pool *make_pool(struct fixture *fx, const char *url0, const char *url1,
                                       const struct pool_opts *o)
{
        struct rpc_config endpoints[2] = {{0}, {0}};
        struct endpoint_pool_config cfg = {0};
        struct rwerr err;

        endpoints[0].url = url0;
        endpoints[0].name = "primary";
        endpoints[0].timeout_ms = o->timeout_ms ? o->timeout_ms : 500;
        endpoints[1].url = url1;
        endpoints[1].name = "secondary";
        endpoints[1].timeout_ms = endpoints[0].timeout_ms;
        cfg.chain = "source";
        cfg.chain_id = CHAIN_ID;
        cfg.endpoints = endpoints;
        cfg.n = url1 ? 2 : 1;
        cfg.breaker_open_ms = REST_MS;
        cfg.hedge_ms = o->hedge_ms;
        cfg.backoff_ms = o->backoff_ms;
        cfg.nbackoff = o->nbackoff;
        cfg.slow_call_ms = o->slow_call_ms;
        cfg.clock = &fx->pool_clock;
        endpoint_pool_free(fx->pool);
        fx->pool = endpoint_pool_new(&cfg, &err);
        if (fx->pool == NULL)
                fail_msg("%s", err.msg);
        return fx->pool;
}

static struct endpoint_pool *pool_of_two(struct fixture *fx, const struct pool_opts *o)
{
        static const struct pool_opts defaults;

        return make_pool(fx, fake_http_url(fx->servers[0]), fake_http_url(fx->servers[1]),
                         o ? o : &defaults);
}

/* A loopback URL where nothing listens: connections are refused at once. */
static void closed_port_url(char *out, size_t cap)
{
        struct sockaddr_in a;
        socklen_t len = sizeof a;
        int fd = socket(AF_INET, SOCK_STREAM, 0);

        memset(&a, 0, sizeof a);
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        assert_true(fd >= 0);
        assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
        assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
        close(fd);
        (void)snprintf(out, cap, "http://127.0.0.1:%u/", (unsigned)ntohs(a.sin_port));
}

static int setup(void **state)
{
        struct fixture *fx = calloc(1, sizeof *fx);
        struct rwerr err;

        if (fx == NULL)
                return -1;
        *state = fx;
        fx->servers[0] = fake_http_start(CHAIN_ID);
        fx->servers[1] = fake_http_start(CHAIN_ID);
        fx->clock.now = 1000000;
        fx->pool_clock.now_ms = fake_now;
        fx->pool_clock.ctx = &fx->clock;
        fx->batch = rpc_batch_new();
        if (fx->servers[0] == NULL || fx->servers[1] == NULL || fx->batch == NULL ||
            rpc_batch_add(fx->batch, "eth_blockNumber", NULL, &err) != 0)
                return -1;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *fx = *state;

        endpoint_pool_free(fx->pool);
        rpc_batch_free(fx->batch);
        fake_http_stop(fx->servers[0]);
        fake_http_stop(fx->servers[1]);
        free(fx);
        return 0;
}

static int send_ok(struct fixture *fx)
{
        struct endpoint_pool_status st;
        struct rwerr err;
        uint64_t v;

        if (endpoint_pool_send(fx->pool, fx->batch, &err) != RW_OK)
                fail_msg("send failed: %s", err.msg);
        assert_int_equal(rpc_batch_u64(fx->batch, 0, &v, &err), RW_OK);
        assert_int_equal(v, 1); /* the fake's answer to request 0 */
        endpoint_pool_last_status(fx->pool, &st);
        return st.served_by;
}

static struct endpoint_health health(struct fixture *fx, size_t i)
{
        struct endpoint_health h;

        endpoint_pool_health(fx->pool, i, &h);
        return h;
}

static struct endpoint_pool_status status(struct fixture *fx)
{
        struct endpoint_pool_status st;

        endpoint_pool_last_status(fx->pool, &st);
        return st;
}

/* Moves the fake clock to where endpoint `i` may be tried again. */
static void until_retry(struct fixture *fx, size_t i)
{
        struct endpoint_health h = health(fx, i);

        assert_true(h.retry_at_ms > fx->clock.now);
        fx->clock.now = h.retry_at_ms;
}

static void assert_retry_in(struct fixture *fx, size_t i, uint64_t nominal)
{
        struct endpoint_health h = health(fx, i);
        uint64_t in = h.retry_at_ms - fx->clock.now;

        /* Default jitter: ± 20 %. */
        if (h.retry_at_ms < fx->clock.now || in < nominal - nominal / 5 ||
            in > nominal + nominal / 5)
                fail_msg("%s: retry in %lld ms, not within 20%% of %llu ms", h.name,
                         (long long)(h.retry_at_ms - fx->clock.now), (unsigned long long)nominal);
}

/* Four failed sends, each past the backoff of the one before: the primary's breaker opens. */
/*
 * With the primary failing and once failed already: its second failure is
 * not yet RPC_TIMEOUT, its third is, and the reason names it.
 */
static void second_and_third_failures(struct fixture *fx)
{
        until_retry(fx, 0);
        assert_int_equal(send_ok(fx), 1);
        assert_false(status(fx).rpc_timeout);
        until_retry(fx, 0);
        assert_int_equal(send_ok(fx), 1);
        assert_true(status(fx).rpc_timeout);
        assert_non_null(strstr(status(fx).reason, "primary ("));
        assert_non_null(strstr(status(fx).reason, "failed 3 times in a row"));
}

static void fail_primary_whole_schedule(struct fixture *fx)
{
        int k;

        for (k = 0; k < 4; k++) {
                if (k > 0)
                        until_retry(fx, 0);
                assert_int_equal(send_ok(fx), 1);
        }
        assert_int_equal(health(fx, 0).breaker, ENDPOINT_OPEN);
}

/* ------------------------------------------------------------ healthy */

static void healthy_primary_serves_alone(void **state)
{
        struct fixture *fx = *state;
        struct endpoint_health h;

        pool_of_two(fx, NULL);
        assert_int_equal(send_ok(fx), 0);
        assert_int_equal(send_ok(fx), 0);
        assert_int_equal(status(fx).attempts, 1);
        assert_int_equal(status(fx).hedges, 0);
        assert_int_equal(fake_http_requests(fx->servers[1]), 0);
        /* eth_chainId once, then one request per send on one kept-alive connection */
        assert_int_equal(fake_http_requests(fx->servers[0]), 3);
        assert_int_equal(fake_http_connections(fx->servers[0]), 1);
        h = health(fx, 0);
        assert_int_equal(h.breaker, ENDPOINT_CLOSED);
        assert_int_equal(h.failures, 0);
        assert_int_equal(h.exchanges, 2);
        assert_int_equal(h.retry_at_ms, 0);
        assert_non_null(strstr(h.name, "primary (http://127.0.0.1:"));
}

static void empty_batch_is_refused_without_traffic(void **state)
{
        struct fixture *fx = *state;
        struct rpc_batch *empty = rpc_batch_new();
        struct rwerr err;

        assert_non_null(empty);
        pool_of_two(fx, NULL);
        assert_int_equal(endpoint_pool_send(fx->pool, empty, &err), RW_ERR_INVALID);
        assert_string_equal(err.msg, "chain source: empty batch");
        assert_int_equal(endpoint_pool_send_to(fx->pool, 1, empty, &err), RW_ERR_INVALID);
        assert_int_equal(fake_http_requests(fx->servers[0]), 0);
        assert_int_equal(fake_http_requests(fx->servers[1]), 0);
        rpc_batch_free(empty);
}

/* ------------------------------------------------------------ hedging */

static void hung_primary_is_hedged_well_before_its_timeout(void **state)
{
        struct fixture *fx = *state;
        struct pool_opts o = {.timeout_ms = LONG_TIMEOUT_MS, .hedge_ms = 100};
        struct endpoint_health h;
        uint64_t t0, took;

        /* It accepts and reads, never answers: not even its eth_chainId. */
        fake_http_set(fx->servers[0], FAKE_HTTP_HANG, 200, NULL);
        pool_of_two(fx, &o);
        t0 = rwclock_mono_ms();
        assert_int_equal(send_ok(fx), 1);
        took = rwclock_mono_ms() - t0;
        if (took >= 5000)
                fail_msg("the send took %llu ms, the hedge delay is 100 ms",
                         (unsigned long long)took);
        assert_true(took >= 100); /* it was given its hedge delay */
        assert_int_equal(status(fx).attempts, 2);
        assert_int_equal(status(fx).hedges, 1);
        assert_int_equal(status(fx).hedge_ms, 100);
        h = health(fx, 0);
        assert_int_equal(h.failures, 1);
        assert_int_equal(h.consecutive_failures, 1);
        assert_int_equal(h.breaker, ENDPOINT_CLOSED);
        assert_non_null(strstr(h.last_error, "primary (http://127.0.0.1:"));
        assert_non_null(strstr(h.last_error, ") did not answer within "));
        assert_non_null(strstr(h.last_error, " ms; secondary (http://127.0.0.1:"));
        assert_non_null(strstr(h.last_error, ") answered"));
        assert_retry_in(fx, 0, 1000);
        h = health(fx, 1);
        assert_int_equal(h.hedges, 1);
        assert_int_equal(h.hedges_won, 1);
        assert_int_equal(h.failures, 0);
        assert_false(status(fx).rpc_timeout); /* one failure is not yet RPC_TIMEOUT */
}

static void hung_primary_is_not_asked_again_while_it_backs_off(void **state)
{
        struct fixture *fx = *state;
        struct pool_opts o = {.timeout_ms = LONG_TIMEOUT_MS, .hedge_ms = 100};
        unsigned asked;
        int i;

        pool_of_two(fx, &o);
        assert_int_equal(send_ok(fx), 0);
        fake_http_set(fx->servers[0], FAKE_HTTP_HANG, 200, NULL);
        assert_int_equal(send_ok(fx), 1);
        asked = fake_http_requests(fx->servers[0]);

        /* Its backoff runs on the pool clock, which stands still: not asked, no hedge wait. */
        for (i = 0; i < 5; i++) {
                assert_int_equal(send_ok(fx), 1);
                assert_int_equal(status(fx).attempts, 1);
                assert_int_equal(status(fx).hedges, 0);
        }
        fx->clock.now = health(fx, 0).retry_at_ms - 1;
        assert_int_equal(send_ok(fx), 1);
        assert_int_equal(fake_http_requests(fx->servers[0]), asked);

        /* Backoff over: it is preferred again, hedged again, and fails a second time. */
        until_retry(fx, 0);
        assert_int_equal(send_ok(fx), 1);
        assert_int_equal(fake_http_requests(fx->servers[0]), asked + 1);
        assert_int_equal(status(fx).hedges, 1);
        assert_int_equal(health(fx, 0).consecutive_failures, 2);
        assert_retry_in(fx, 0, 2000);
}

static void hung_primary_raises_rpc_timeout_on_its_third_failure(void **state)
{
        struct fixture *fx = *state;
        struct pool_opts o = {.timeout_ms = LONG_TIMEOUT_MS, .hedge_ms = 100};

        pool_of_two(fx, &o);
        fake_http_set(fx->servers[0], FAKE_HTTP_HANG, 200, NULL);
        assert_int_equal(send_ok(fx), 1);
        assert_false(status(fx).rpc_timeout);
        second_and_third_failures(fx);
}

/*
 * A cycle reads its heads first and its balances later: RPC_TIMEOUT raised by
 * any of its sends is taken once, with the first reason, even when the sends
 * after it were clean.
 */
static void rpc_timeout_of_any_send_is_taken_once(void **state)
{
        struct fixture *fx = *state;
        struct pool_opts o = {.timeout_ms = LONG_TIMEOUT_MS, .hedge_ms = 100};
        char reason[RWERR_MSG_MAX];

        pool_of_two(fx, &o);
        assert_int_equal(send_ok(fx), 0);
        assert_false(endpoint_pool_take_rpc_timeout(fx->pool, reason, sizeof reason));
        assert_string_equal(reason, "");
        fake_http_set(fx->servers[0], FAKE_HTTP_HANG, 200, NULL);
        assert_int_equal(send_ok(fx), 1);
        second_and_third_failures(fx);
        /* the primary now backs off: the next send is clean, served by the secondary */
        assert_int_equal(send_ok(fx), 1);
        assert_false(status(fx).rpc_timeout);
        assert_true(endpoint_pool_take_rpc_timeout(fx->pool, reason, sizeof reason));
        assert_non_null(strstr(reason, "primary ("));
        assert_non_null(strstr(reason, "failed 3 times in a row"));
        assert_false(endpoint_pool_take_rpc_timeout(fx->pool, reason, sizeof reason));
        assert_string_equal(reason, "");
}

static void two_hung_endpoints_are_hedged_in_turn(void **state)
{
        struct fixture *fx = *state;
        struct fake_http *third = fake_http_start(CHAIN_ID);
        struct rpc_config endpoints[3] = {{0}, {0}, {0}};
        struct endpoint_pool_config cfg = {0};
        struct endpoint_pool_status st;
        struct endpoint_health h;
        struct rwerr err;
        uint64_t t0, took;
        size_t i;

        assert_non_null(third);
        fake_http_set(fx->servers[0], FAKE_HTTP_HANG, 200, NULL);
        fake_http_set(fx->servers[1], FAKE_HTTP_HANG, 200, NULL);
        endpoints[0].url = fake_http_url(fx->servers[0]);
        endpoints[1].url = fake_http_url(fx->servers[1]);
        endpoints[2].url = fake_http_url(third);
        for (i = 0; i < 3; i++)
                endpoints[i].timeout_ms = LONG_TIMEOUT_MS;
        cfg.chain = "execution";
        cfg.chain_id = CHAIN_ID;
        cfg.endpoints = endpoints;
        cfg.n = 3;
        cfg.hedge_ms = 100;
        cfg.clock = &fx->pool_clock;
        fx->pool = endpoint_pool_new(&cfg, &err);
        assert_non_null(fx->pool);
        /* The first at once, the second after 100 ms, the third after 200 ms: it answers. */
        t0 = rwclock_mono_ms();
        assert_int_equal(send_ok(fx), 2);
        took = rwclock_mono_ms() - t0;
        assert_true(took >= 200);
        if (took >= 5000)
                fail_msg("the send took %llu ms", (unsigned long long)took);
        endpoint_pool_last_status(fx->pool, &st);
        assert_int_equal(st.attempts, 3);
        assert_int_equal(st.hedges, 2);
        for (i = 0; i < 2; i++) {
                endpoint_pool_health(fx->pool, i, &h);
                assert_int_equal(h.failures, 1);
                assert_non_null(strstr(h.last_error, "did not answer within"));
        }
        /* Both back off: the next send goes straight to the third. */
        assert_int_equal(send_ok(fx), 2);
        endpoint_pool_last_status(fx->pool, &st);
        assert_int_equal(st.attempts, 1);
        endpoint_pool_free(fx->pool);
        fx->pool = NULL;
        fake_http_stop(third);
}

static void fast_failures_fail_over_without_the_hedge_wait(void **state)
{
        static const struct {
                const char *what;
                enum fake_http_mode mode;
                int status;
                const char *body;
                const char *error;
        } cases[] = {
                {"garbage", FAKE_HTTP_REPLY, 200, "garbage", "reply is not JSON"},
                {"cut short", FAKE_HTTP_TRUNCATE, 200, "{\"jsonrpc\":\"2.0\",\"id\":0,\"res",
                 "reply cut short"},
                {"HTTP 503", FAKE_HTTP_REPLY, 503, "", "HTTP status 503"},
                {"closed", FAKE_HTTP_CLOSE, 200, NULL, "primary ("},
                {"refused", FAKE_HTTP_RPC, 200, NULL, "primary ("},
                {"another chain", FAKE_HTTP_RPC, 200, NULL, "serves chain id 1,"},
        };
        struct fixture *fx = *state;
        struct pool_opts o = {.timeout_ms = LONG_TIMEOUT_MS, .hedge_ms = 2000};
        size_t i;

        closed_port_url(fx->refused_url, sizeof fx->refused_url);
        for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                const char *url0 = fake_http_url(fx->servers[0]);
                uint64_t t0, took;

                fake_http_set(fx->servers[0], cases[i].mode, cases[i].status, cases[i].body);
                fake_http_set_chain_id(fx->servers[0], CHAIN_ID);
                if (strcmp(cases[i].what, "refused") == 0)
                        url0 = fx->refused_url;
                if (strcmp(cases[i].what, "another chain") == 0)
                        fake_http_set_chain_id(fx->servers[0], 1);
                make_pool(fx, url0, fake_http_url(fx->servers[1]), &o);
                t0 = rwclock_mono_ms();
                assert_int_equal(send_ok(fx), 1);
                took = rwclock_mono_ms() - t0;
                if (status(fx).hedges != 0 || took >= 2000)
                        fail_msg("%s: %u hedges, %llu ms: the failover waited for the hedge",
                                 cases[i].what, status(fx).hedges, (unsigned long long)took);
                assert_int_equal(status(fx).attempts, 2);
                if (strstr(health(fx, 0).last_error, cases[i].error) == NULL)
                        fail_msg("%s: last error \"%s\" lacks \"%s\"", cases[i].what,
                                 health(fx, 0).last_error, cases[i].error);
        }
        /* The wrong-chain endpoint is refused for good, not backing off. */
        assert_int_equal(health(fx, 0).breaker, ENDPOINT_REFUSED);
}

static void slow_primary_that_answers_first_keeps_its_record(void **state)
{
        struct fixture *fx = *state;
        struct pool_opts o = {.timeout_ms = LONG_TIMEOUT_MS, .hedge_ms = 500};
        struct endpoint_health h;
        struct rwerr err;

        pool_of_two(fx, &o);
        assert_int_equal(send_ok(fx), 0);
        assert_int_equal(endpoint_pool_send_to(fx->pool, 1, fx->batch, &err), RW_OK);
        /* The primary answers after 600 ms; the hedge, started at 500 ms, would need 3 s. */
        fake_http_set_delay(fx->servers[0], 600);
        fake_http_set_delay(fx->servers[1], 3000);
        assert_int_equal(send_ok(fx), 0);
        assert_int_equal(status(fx).hedges, 1);
        h = health(fx, 0);
        assert_int_equal(h.failures, 0);
        assert_string_equal(h.last_error, "");
        /* The hedge lost without having had its own hedge delay: cancelled, not blamed. */
        h = health(fx, 1);
        assert_int_equal(h.hedges, 1);
        assert_int_equal(h.hedges_won, 0);
        assert_int_equal(h.cancelled, 1);
        assert_int_equal(h.failures, 0);
        assert_int_equal(h.retry_at_ms, 0);
}

/* Every bucket of `h` below index `from` is empty, and the buckets add up to its count. */
static void assert_hist_from(const struct latency_hist *h, unsigned from)
{
        uint64_t total = 0;
        unsigned i;

        for (i = 0; i <= LATENCY_HIST_BOUNDS; i++) {
                if (i < from && h->bucket[i] != 0)
                        fail_msg("bucket %u (<= %g ms) holds %llu, expected nothing that fast", i,
                                 latency_hist_bounds_ms[i], (unsigned long long)h->bucket[i]);
                total += h->bucket[i];
        }
        assert_int_equal(total, h->count);
}

static void latency_histogram_counts_finished_attempts(void **state)
{
        struct fixture *fx = *state;
        struct pool_opts o = {.timeout_ms = LONG_TIMEOUT_MS, .hedge_ms = 400};
        struct endpoint_health h;
        struct rwerr err;

        pool_of_two(fx, &o);
        h = health(fx, 0);
        assert_int_equal(h.latency.count, 0);

        /* Two successes, each answer 30 ms late; the first asks eth_chainId too (60 ms). */
        fake_http_set_delay(fx->servers[0], 30);
        assert_int_equal(send_ok(fx), 0);
        h = health(fx, 0);
        assert_int_equal(h.latency.count, 1);
        assert_true(h.latency.sum_ms >= 60.0);
        assert_hist_from(&h.latency, 6); /* bucket 6 is (50, 100] ms */
        assert_int_equal(send_ok(fx), 0);
        h = health(fx, 0);
        assert_int_equal(h.latency.count, 2);
        assert_true(h.latency.sum_ms >= 90.0);
        assert_hist_from(&h.latency, 5); /* bucket 5 is (25, 50] ms */

        /* A failure counts too; the secondary's success (chain id check and batch) is its one. */
        fake_http_fail_next(fx->servers[0], 1, 503);
        assert_int_equal(send_ok(fx), 1);
        h = health(fx, 0);
        assert_int_equal(h.failures, 1);
        assert_int_equal(h.latency.count, 3);
        assert_true(h.latency.sum_ms >= 120.0);
        assert_hist_from(&h.latency, 5);
        h = health(fx, 1);
        assert_int_equal(h.latency.count, 1);
        assert_hist_from(&h.latency, 0);

        /*
         * A hedge cancelled before its own hedge delay blames nobody and is not
         * counted: the primary answers after 600 ms, the hedge started at 400 ms.
         */
        until_retry(fx, 0);
        assert_int_equal(endpoint_pool_send_to(fx->pool, 1, fx->batch, &err), RW_OK);
        fake_http_set_delay(fx->servers[0], 600);
        fake_http_set_delay(fx->servers[1], 3000);
        assert_int_equal(send_ok(fx), 0);
        assert_int_equal(status(fx).hedges, 1);
        h = health(fx, 0);
        assert_int_equal(h.latency.count, 4);
        assert_true(h.latency.sum_ms >= 720.0);
        assert_hist_from(&h.latency, 5);
        assert_int_equal(h.latency.count, h.exchanges);
        h = health(fx, 1);
        assert_int_equal(h.cancelled, 1);
        assert_int_equal(h.failures, 0);
        assert_int_equal(h.latency.count, 2); /* its success and the send_to, not the hedge */
        assert_int_equal(h.latency.count, h.exchanges - h.cancelled);
}

static void automatic_hedge_delay_stays_within_bounds(void **state)
{
        struct fixture *fx = *state;
        struct rpc_batch *big = rpc_batch_new();
        struct pool_opts o = {.timeout_ms = 5000};
        struct rwerr err;
        uint64_t h;
        int i;

        assert_non_null(big);
        for (i = 0; i < 150; i++)
                assert_true(rpc_batch_add(big, "eth_blockNumber", NULL, &err) >= 0);
        /* One endpoint: nothing to hedge with, so every answer is waited for and observed. */
        make_pool(fx, fake_http_url(fx->servers[0]), NULL, &o);
        /* Nothing observed yet: the ceiling. */
        assert_int_equal(endpoint_pool_hedge_ms(fx->pool, 1), ENDPOINT_POOL_HEDGE_MAX_MS);
        assert_int_equal(endpoint_pool_hedge_ms(fx->pool, 2000), ENDPOINT_POOL_HEDGE_MAX_MS);
        assert_int_equal(send_ok(fx), 0);
        assert_int_equal(status(fx).hedge_ms, ENDPOINT_POOL_HEDGE_MAX_MS);
        /* Loopback answers in a few ms: the floor, for small batches only. */
        assert_int_equal(endpoint_pool_hedge_ms(fx->pool, 1), ENDPOINT_POOL_HEDGE_MIN_MS);
        assert_int_equal(endpoint_pool_hedge_ms(fx->pool, 150), ENDPOINT_POOL_HEDGE_MAX_MS);
        assert_int_equal(endpoint_pool_hedge_ms(fx->pool, 2000), ENDPOINT_POOL_HEDGE_MAX_MS);
        assert_int_equal(send_ok(fx), 0);
        assert_int_equal(status(fx).hedge_ms, ENDPOINT_POOL_HEDGE_MIN_MS);
        /* A batch of 150 is measured against batches of its own size class. */
        assert_int_equal(endpoint_pool_send(fx->pool, big, &err), RW_OK);
        h = endpoint_pool_hedge_ms(fx->pool, 150);
        assert_true(h >= ENDPOINT_POOL_HEDGE_MIN_MS && h < ENDPOINT_POOL_HEDGE_MAX_MS);
        assert_int_equal(endpoint_pool_hedge_ms(fx->pool, 1), ENDPOINT_POOL_HEDGE_MIN_MS);
        /* Slow answers to big batches leave small batches' delay alone. */
        fake_http_set_delay(fx->servers[0], 400);
        assert_int_equal(endpoint_pool_send(fx->pool, big, &err), RW_OK);
        h = endpoint_pool_hedge_ms(fx->pool, 150);
        assert_true(h >= 1200 && h <= ENDPOINT_POOL_HEDGE_MAX_MS); /* 3 x 400 ms */
        assert_int_equal(endpoint_pool_hedge_ms(fx->pool, 1), ENDPOINT_POOL_HEDGE_MIN_MS);
        /* A slow provider: three times its slowest answer... */
        assert_int_equal(send_ok(fx), 0);
        h = endpoint_pool_hedge_ms(fx->pool, 1);
        assert_true(h >= 1200 && h <= ENDPOINT_POOL_HEDGE_MAX_MS); /* 3 x 400 ms */
        /* ...and never more than the ceiling. */
        fake_http_set_delay(fx->servers[0], 800);
        assert_int_equal(send_ok(fx), 0);
        assert_int_equal(endpoint_pool_hedge_ms(fx->pool, 1), ENDPOINT_POOL_HEDGE_MAX_MS);
        rpc_batch_free(big);

        /* A configured delay is used as it is. */
        fake_http_set_delay(fx->servers[0], 0);
        o.hedge_ms = 150;
        pool_of_two(fx, &o);
        assert_int_equal(endpoint_pool_hedge_ms(fx->pool, 1), 150);
        assert_int_equal(endpoint_pool_hedge_ms(fx->pool, 2000), 150);
        assert_int_equal(send_ok(fx), 0);
        assert_int_equal(status(fx).hedge_ms, 150);
}

/* ------------------------------------------------------------ backoff */

static void backoff_is_time_based_and_never_slept(void **state)
{
        struct fixture *fx = *state;
        uint64_t t0 = rwclock_mono_ms(), fake0 = fx->clock.now, took;
        unsigned asked;

        pool_of_two(fx, NULL);
        assert_int_equal(send_ok(fx), 0); /* verifies the chain id first */
        fake_http_fail_next(fx->servers[0], 2, 503);
        /* First failure: the secondary answers at once; the primary waits ~1 s. */
        assert_int_equal(send_ok(fx), 1);
        assert_int_equal(status(fx).attempts, 2);
        assert_int_equal(status(fx).hedges, 0);
        assert_retry_in(fx, 0, 1000);
        asked = fake_http_requests(fx->servers[0]);
        assert_int_equal(send_ok(fx), 1);
        assert_int_equal(fake_http_requests(fx->servers[0]), asked);
        /* Second failure after the first backoff; then ~2 s. */
        until_retry(fx, 0);
        assert_int_equal(send_ok(fx), 1);
        assert_int_equal(health(fx, 0).consecutive_failures, 2);
        assert_retry_in(fx, 0, 2000);
        assert_false(status(fx).rpc_timeout); /* two failures in a row are not yet RPC_TIMEOUT */
        /* It has recovered: served again once its backoff has passed. */
        until_retry(fx, 0);
        assert_int_equal(send_ok(fx), 0);
        assert_int_equal(health(fx, 0).failures, 2);
        assert_int_equal(health(fx, 0).consecutive_failures, 0);
        assert_int_equal(health(fx, 0).retry_at_ms, 0);
        assert_string_equal(health(fx, 0).last_error, "");
        /* Three seconds passed on the pool clock; the sends themselves did not wait them. */
        took = rwclock_mono_ms() - t0;
        assert_true(fx->clock.now - fake0 >= 2400);
        if (took >= 2000)
                fail_msg("the sends took %llu ms of real time", (unsigned long long)took);
}

static void three_failures_in_a_row_raise_rpc_timeout(void **state)
{
        struct fixture *fx = *state;

        pool_of_two(fx, NULL);
        assert_int_equal(send_ok(fx), 0);
        fake_http_fail_next(fx->servers[0], 3, 502);
        assert_int_equal(send_ok(fx), 1);
        second_and_third_failures(fx);
}

static void slow_answer_raises_rpc_timeout(void **state)
{
        struct fixture *fx = *state;
        struct pool_opts o = {.timeout_ms = 5000, .slow_call_ms = 500};

        make_pool(fx, fake_http_url(fx->servers[0]), NULL, &o);
        assert_int_equal(send_ok(fx), 0);
        assert_false(status(fx).rpc_timeout);
        fake_http_set_delay(fx->servers[0], 700);
        assert_int_equal(send_ok(fx), 0);
        assert_true(status(fx).rpc_timeout);
        assert_non_null(strstr(status(fx).reason, "primary ("));
        assert_non_null(strstr(status(fx).reason, " ms to answer"));
        assert_int_equal(health(fx, 0).slow_exchanges, 1);
}

/* ------------------------------------------------------------ breaker */

static void breaker_opens_after_the_schedule_and_a_probe_closes_it(void **state)
{
        struct fixture *fx = *state;
        struct endpoint_health h;
        unsigned before;

        pool_of_two(fx, NULL);
        assert_int_equal(send_ok(fx), 0);
        /* Four failures in a row (0, 1, 2, 5 s apart): the breaker opens. */
        fake_http_set(fx->servers[0], FAKE_HTTP_REPLY, 500, "down");
        assert_int_equal(send_ok(fx), 1);
        assert_int_equal(health(fx, 0).breaker, ENDPOINT_CLOSED);
        until_retry(fx, 0);
        assert_int_equal(send_ok(fx), 1);
        until_retry(fx, 0);
        assert_int_equal(send_ok(fx), 1);
        assert_retry_in(fx, 0, 5000);
        until_retry(fx, 0);
        assert_int_equal(send_ok(fx), 1);
        h = health(fx, 0);
        assert_int_equal(h.breaker, ENDPOINT_OPEN);
        assert_int_equal(h.consecutive_failures, 4);
        assert_int_equal(h.retry_at_ms, fx->clock.now + REST_MS);
        assert_non_null(strstr(h.last_error, "HTTP status 500"));

        /* While the primary rests it is not asked at all. */
        before = fake_http_requests(fx->servers[0]);
        fx->clock.now += REST_MS - 1;
        assert_int_equal(send_ok(fx), 1);
        assert_int_equal(fake_http_requests(fx->servers[0]), before);

        /* The primary recovers; after its rest one probe (chain id again, then the batch). */
        fake_http_set(fx->servers[0], FAKE_HTTP_RPC, 200, NULL);
        fx->clock.now += 1;
        assert_int_equal(send_ok(fx), 0);
        assert_int_equal(fake_http_requests(fx->servers[0]), before + 2);
        h = health(fx, 0);
        assert_int_equal(h.breaker, ENDPOINT_CLOSED);
        assert_int_equal(h.consecutive_failures, 0);
}

static void failed_probe_rests_again(void **state)
{
        struct fixture *fx = *state;
        unsigned before;

        pool_of_two(fx, NULL);
        fake_http_set(fx->servers[0], FAKE_HTTP_REPLY, 500, "down");
        fail_primary_whole_schedule(fx);
        fx->clock.now += REST_MS;
        before = fake_http_requests(fx->servers[0]);
        assert_int_equal(send_ok(fx), 1);
        /* Exactly one probe, then open again for a whole rest. */
        assert_int_equal(fake_http_requests(fx->servers[0]), before + 1);
        assert_int_equal(health(fx, 0).breaker, ENDPOINT_OPEN);
        assert_int_equal(health(fx, 0).retry_at_ms, fx->clock.now + REST_MS);
        assert_int_equal(send_ok(fx), 1);
        assert_int_equal(fake_http_requests(fx->servers[0]), before + 1);
}

static void wrong_chain_endpoint_is_refused(void **state)
{
        struct fixture *fx = *state;
        struct endpoint_health h;
        struct rwerr err;

        /* The primary serves chain 1: it must never serve reads for chain 31337. */
        fake_http_set_chain_id(fx->servers[0], 1);
        pool_of_two(fx, NULL);
        assert_int_equal(send_ok(fx), 1);
        assert_int_equal(status(fx).hedges, 0);
        h = health(fx, 0);
        assert_int_equal(h.breaker, ENDPOINT_REFUSED);
        assert_non_null(strstr(h.last_error, "serves chain id 1, but this chain is configured with "
                                             "chain id 31337: refusing the endpoint"));
        /* Only the eth_chainId question ever reached it, also on later sends and send_to. */
        fx->clock.now += 10 * REST_MS;
        assert_int_equal(send_ok(fx), 1);
        assert_int_equal(endpoint_pool_send_to(fx->pool, 0, fx->batch, &err), RW_ERR_REFUSED);
        assert_non_null(strstr(err.msg, "serves chain id 1"));
        assert_int_equal(fake_http_requests(fx->servers[0]), 1);
        assert_string_equal(endpoint_breaker_name(h.breaker), "refused");
}

static void endpoint_back_on_another_chain_is_refused(void **state)
{
        struct fixture *fx = *state;

        pool_of_two(fx, NULL);
        assert_int_equal(send_ok(fx), 0);
        fake_http_set(fx->servers[0], FAKE_HTTP_REPLY, 500, "down");
        fail_primary_whole_schedule(fx);
        /* It comes back answering for another chain: the probe checks the id first. */
        fake_http_set(fx->servers[0], FAKE_HTTP_RPC, 200, NULL);
        fake_http_set_chain_id(fx->servers[0], 5);
        fx->clock.now += REST_MS;
        assert_int_equal(send_ok(fx), 1);
        assert_int_equal(health(fx, 0).breaker, ENDPOINT_REFUSED);
        assert_non_null(strstr(health(fx, 0).last_error, "serves chain id 5"));
}

/* A healthy endpoint moved to another network mid-run: refused once its check is due again. */
static void endpoint_moved_to_another_chain_is_refused_at_its_recheck(void **state)
{
        struct fixture *fx = *state;

        pool_of_two(fx, NULL);
        assert_int_equal(send_ok(fx), 0);
        fake_http_set_chain_id(fx->servers[0], 5);
        fx->clock.now += ENDPOINT_POOL_CHAIN_RECHECK_MS - 1;
        assert_int_equal(send_ok(fx), 0); /* its check is not due yet */
        assert_int_equal(health(fx, 0).breaker, ENDPOINT_CLOSED);
        fx->clock.now += 1;
        assert_int_equal(send_ok(fx), 1);
        assert_int_equal(health(fx, 0).breaker, ENDPOINT_REFUSED);
        assert_non_null(strstr(health(fx, 0).last_error, "serves chain id 5"));
}

/* ------------------------------------------------------------ blind */

static void all_down_names_every_endpoint_and_does_not_spin(void **state)
{
        struct fixture *fx = *state;
        unsigned before0, before1;
        struct rwerr err;

        pool_of_two(fx, NULL);
        fake_http_set(fx->servers[0], FAKE_HTTP_REPLY, 500, "down");
        fake_http_set(fx->servers[1], FAKE_HTTP_REPLY, 200, "garbage");
        assert_int_equal(endpoint_pool_send(fx->pool, fx->batch, &err), RW_ERR_IO);
        assert_non_null(strstr(err.msg, "no RPC endpoint of chain source answered"));
        assert_non_null(strstr(err.msg, "primary ("));
        assert_non_null(strstr(err.msg, "HTTP status 500"));
        assert_non_null(strstr(err.msg, "secondary ("));
        assert_non_null(strstr(err.msg, "reply is not JSON"));
        assert_null(rpc_batch_result(fx->batch, 0));
        /* Both back off; a send right after fails at once, without traffic. */
        before0 = fake_http_requests(fx->servers[0]);
        before1 = fake_http_requests(fx->servers[1]);
        assert_int_equal(endpoint_pool_send(fx->pool, fx->batch, &err), RW_ERR_IO);
        assert_non_null(strstr(err.msg, "(all backing off or resting; no probe for 1000 ms)"));
        assert_int_equal(status(fx).attempts, 0);
        assert_int_equal(fake_http_requests(fx->servers[0]), before0);
        assert_int_equal(fake_http_requests(fx->servers[1]), before1);
}

static void blind_probe_asks_the_first_to_be_ready(void **state)
{
        static const uint64_t one_step[] = {0}; /* the first failure opens the breaker */
        struct fixture *fx = *state;
        struct pool_opts o = {.backoff_ms = one_step, .nbackoff = 1};
        struct rwerr err;

        pool_of_two(fx, &o);
        fake_http_set(fx->servers[1], FAKE_HTTP_REPLY, 500, "down");
        assert_int_equal(endpoint_pool_send_to(fx->pool, 1, fx->batch, &err), RW_ERR_IO);
        fx->clock.now += 5000;
        fake_http_set(fx->servers[0], FAKE_HTTP_REPLY, 500, "down");
        assert_int_equal(endpoint_pool_send(fx->pool, fx->batch, &err), RW_ERR_IO);
        assert_int_equal(health(fx, 0).breaker, ENDPOINT_OPEN);
        assert_int_equal(health(fx, 1).breaker, ENDPOINT_OPEN);

        /* Both rest; a second later the secondary, which opened first, is probed alone. */
        fake_http_set(fx->servers[0], FAKE_HTTP_RPC, 200, NULL);
        fake_http_set(fx->servers[1], FAKE_HTTP_RPC, 200, NULL);
        fx->clock.now += ENDPOINT_POOL_BLIND_PROBE_MS;
        assert_int_equal(send_ok(fx), 1);
        assert_int_equal(status(fx).attempts, 1);
        assert_int_equal(health(fx, 1).breaker, ENDPOINT_CLOSED);
        assert_int_equal(health(fx, 0).breaker, ENDPOINT_OPEN);
}

static void polling_dead_endpoints_every_100_ms_does_not_spin(void **state)
{
        struct fixture *fx = *state;
        uint64_t t0 = rwclock_mono_ms(), took;
        struct rwerr err;
        unsigned calls;

        make_pool(fx, fake_http_url(fx->servers[0]), NULL, &(struct pool_opts){0});
        fake_http_set(fx->servers[0], FAKE_HTTP_REPLY, 503, "");
        /* 60 s of polling every 100 ms: 600 calls. */
        for (calls = 0; calls < 600; calls++) {
                assert_int_equal(endpoint_pool_send(fx->pool, fx->batch, &err), RW_ERR_IO);
                fx->clock.now += 100;
        }
        /* About one request a second, never one per call. */
        if (fake_http_requests(fx->servers[0]) > 61)
                fail_msg("%u requests for %u calls", fake_http_requests(fx->servers[0]), calls);
        assert_true(fake_http_requests(fx->servers[0]) >= 30); /* still trying */
        took = rwclock_mono_ms() - t0;
        if (took >= 20000)
                fail_msg("600 calls took %llu ms", (unsigned long long)took);
}

/* ------------------------------------------------------------ send_to */

static void send_to_one_endpoint(void **state)
{
        struct fixture *fx = *state;
        struct rwerr err;

        pool_of_two(fx, NULL);
        assert_int_equal(endpoint_pool_send_to(fx->pool, 1, fx->batch, &err), RW_OK);
        assert_int_equal(status(fx).served_by, 1);
        assert_int_equal(status(fx).hedges, 0);
        assert_int_equal(status(fx).hedge_ms, 0);
        assert_int_equal(fake_http_requests(fx->servers[0]), 0);
        assert_int_equal(endpoint_pool_send_to(fx->pool, 2, fx->batch, &err), RW_ERR_RANGE);
        assert_string_equal(err.msg, "chain source has no RPC endpoint 2");
}

static void send_to_asks_a_backing_off_or_open_endpoint_once(void **state)
{
        struct fixture *fx = *state;
        struct pool_opts o = {.timeout_ms = 300};
        unsigned before;
        struct rwerr err;

        pool_of_two(fx, &o);
        assert_int_equal(send_ok(fx), 0);
        fake_http_set(fx->servers[0], FAKE_HTTP_REPLY, 503, "");
        assert_int_equal(send_ok(fx), 1);
        /* Backing off, but asked for by name: one attempt, its own error. */
        before = fake_http_requests(fx->servers[0]);
        assert_int_equal(endpoint_pool_send_to(fx->pool, 0, fx->batch, &err), RW_ERR_IO);
        assert_non_null(strstr(err.msg, "primary ("));
        assert_non_null(strstr(err.msg, "HTTP status 503"));
        assert_int_equal(fake_http_requests(fx->servers[0]), before + 1);
        assert_int_equal(status(fx).attempts, 1);
        assert_int_equal(health(fx, 0).consecutive_failures, 2);

        /* Hung: one attempt, cut off by its own timeout; never hedged. */
        fake_http_set(fx->servers[0], FAKE_HTTP_HANG, 200, NULL);
        assert_int_equal(endpoint_pool_send_to(fx->pool, 0, fx->batch, &err), RW_ERR_TIMEOUT);
        assert_non_null(strstr(err.msg, "no complete reply within 300 ms"));
        assert_int_equal(fake_http_requests(fx->servers[1]), 2); /* chain id, one send */

        /* Open and resting: asked all the same; a success closes its breaker. */
        until_retry(fx, 0);
        assert_int_equal(send_ok(fx), 1);
        assert_int_equal(health(fx, 0).breaker, ENDPOINT_OPEN);
        fake_http_set(fx->servers[0], FAKE_HTTP_RPC, 200, NULL);
        before = fake_http_requests(fx->servers[0]);
        assert_int_equal(endpoint_pool_send_to(fx->pool, 0, fx->batch, &err), RW_OK);
        assert_int_equal(fake_http_requests(fx->servers[0]), before + 2); /* chain id again */
        assert_int_equal(health(fx, 0).breaker, ENDPOINT_CLOSED);
        assert_int_equal(send_ok(fx), 0);
}

/* ------------------------------------------------------------ config */

static void configuration_is_checked(void **state)
{
        struct endpoint_pool_config cfg = {0};
        struct rpc_config ep = {0};
        struct rwerr err;

        (void)state;
        cfg.chain = "execution";
        cfg.endpoints = &ep;
        assert_null(endpoint_pool_new(&cfg, &err));
        assert_string_equal(err.msg, "chain execution: 0 RPC endpoints configured, need 1 to 16");
        cfg.n = 1;
        ep.url = "gopher://x";
        ep.name = "execution[0]";
        assert_null(endpoint_pool_new(&cfg, &err));
        assert_non_null(strstr(err.msg, "execution: RPC endpoint execution[0]: only http://"));
        ep.url = "http://127.0.0.1:1/";
        cfg.hedge_ms = 5;
        assert_null(endpoint_pool_new(&cfg, &err));
        assert_string_equal(err.msg, "chain execution: hedge_ms 5 is out of range (0 for "
                                     "automatic, or 10 to 2000)");
        cfg.hedge_ms = 2001;
        assert_null(endpoint_pool_new(&cfg, &err));
        cfg.hedge_ms = 2000;
        endpoint_pool_free(endpoint_pool_new(&cfg, &err));
}

/* Interrupts `arg`'s pool after 200 ms, from another thread. */
static void *interrupt_later(void *arg)
{
        struct timespec t = {0, 200000000L};

        (void)nanosleep(&t, NULL);
        endpoint_pool_interrupt(arg);
        return NULL;
}

static void interrupt_ends_a_send_at_once_and_blames_nobody(void **state)
{
        struct fixture *fx = *state;
        struct pool_opts o = {.timeout_ms = LONG_TIMEOUT_MS, .hedge_ms = 2000};
        struct endpoint_health h;
        struct rwerr err;
        pthread_t thread;
        uint64_t t0, took;
        size_t i;

        /* Both hang: without the interrupt the send would wait 30 s. */
        fake_http_set(fx->servers[0], FAKE_HTTP_HANG, 200, NULL);
        fake_http_set(fx->servers[1], FAKE_HTTP_HANG, 200, NULL);
        pool_of_two(fx, &o);
        assert_int_equal(pthread_create(&thread, NULL, interrupt_later, fx->pool), 0);
        t0 = rwclock_mono_ms();
        assert_int_equal(endpoint_pool_send(fx->pool, fx->batch, &err), RW_ERR_IO);
        took = rwclock_mono_ms() - t0;
        assert_int_equal(pthread_join(thread, NULL), 0);
        assert_non_null(strstr(err.msg, "interrupted"));
        if (took >= 1900)
                fail_msg("the interrupted send took %llu ms", (unsigned long long)took);
        for (i = 0; i < 2; i++) {
                h = health(fx, i);
                assert_int_equal(h.failures, 0); /* a stop is no endpoint's fault */
                assert_int_equal(h.retry_at_ms, 0);
        }
        /* later sends fail at once, without traffic */
        assert_int_equal(endpoint_pool_send(fx->pool, fx->batch, &err), RW_ERR_IO);
        assert_int_equal(endpoint_pool_send_to(fx->pool, 1, fx->batch, &err), RW_ERR_IO);
        assert_non_null(strstr(err.msg, "interrupted"));
        assert_int_equal(fake_http_requests(fx->servers[1]), 0);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        const struct CMUnitTest tests[] = {
                T(healthy_primary_serves_alone),
                T(empty_batch_is_refused_without_traffic),
                T(hung_primary_is_hedged_well_before_its_timeout),
                T(interrupt_ends_a_send_at_once_and_blames_nobody),
                T(hung_primary_is_not_asked_again_while_it_backs_off),
                T(hung_primary_raises_rpc_timeout_on_its_third_failure),
                T(rpc_timeout_of_any_send_is_taken_once),
                T(two_hung_endpoints_are_hedged_in_turn),
                T(fast_failures_fail_over_without_the_hedge_wait),
                T(slow_primary_that_answers_first_keeps_its_record),
                T(latency_histogram_counts_finished_attempts),
                T(automatic_hedge_delay_stays_within_bounds),
                T(backoff_is_time_based_and_never_slept),
                T(three_failures_in_a_row_raise_rpc_timeout),
                T(slow_answer_raises_rpc_timeout),
                T(breaker_opens_after_the_schedule_and_a_probe_closes_it),
                T(failed_probe_rests_again),
                T(wrong_chain_endpoint_is_refused),
                T(endpoint_back_on_another_chain_is_refused),
                T(endpoint_moved_to_another_chain_is_refused_at_its_recheck),
                T(all_down_names_every_endpoint_and_does_not_spin),
                T(blind_probe_asks_the_first_to_be_ready),
                T(polling_dead_endpoints_every_100_ms_does_not_spin),
                T(send_to_one_endpoint),
                T(send_to_asks_a_backing_off_or_open_endpoint_once),
                cmocka_unit_test(configuration_is_checked),
        };
#undef T

        return cmocka_run_group_tests(tests, NULL, NULL);
}
