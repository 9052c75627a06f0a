/*
 * Unit tests for chain/endpoint_pool: retries with backoff and jitter,
 * failover, the circuit breaker and its half-open probe, refusal of a
 * wrong-chain endpoint, and the RPC_TIMEOUT condition. Endpoints are fake
 * providers on loopback (tests/support/fake_http.c); time is a fake clock,
 * so the backoff schedule is checked without waiting for it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "endpoint_pool.h"
#include "fake_http.h"
#include "rpc.h"
#include "rwerr.h"

#define CHAIN_ID 31337
#define MAX_SLEEPS 64

struct fake_clock {
        uint64_t now;
        uint64_t sleeps[MAX_SLEEPS];
        size_t nsleeps;
};

static uint64_t fake_now(void *ctx)
{
        return ((struct fake_clock *)ctx)->now;
}

static void fake_sleep(void *ctx, uint64_t ms)
{
        struct fake_clock *c = ctx;

        if (c->nsleeps < MAX_SLEEPS)
                c->sleeps[c->nsleeps++] = ms;
        c->now += ms;
}

struct fixture {
        struct fake_http *servers[2];
        struct fake_clock clock;
        struct endpoint_pool_clock pool_clock;
        struct endpoint_pool *pool;
        struct rpc_batch *batch;
};

static struct endpoint_pool *make_pool(struct fixture *fx, uint64_t chain_id, const char *url0,
                                       const char *url1)
{
        struct rpc_config endpoints[2] = {{0}, {0}};
        struct endpoint_pool_config cfg = {0};
        struct rwerr err;
        struct endpoint_pool *p;

        endpoints[0].url = url0;
        endpoints[0].name = "primary";
        endpoints[0].timeout_ms = 500;
        endpoints[1].url = url1;
        endpoints[1].name = "secondary";
        endpoints[1].timeout_ms = 500;
        cfg.chain = "source";
        cfg.chain_id = chain_id;
        cfg.endpoints = endpoints;
        cfg.n = url1 ? 2 : 1;
        cfg.breaker_open_ms = 30000;
        cfg.clock = &fx->pool_clock;
        p = endpoint_pool_new(&cfg, &err);
        if (p == NULL)
                fail_msg("%s", err.msg);
        return p;
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
        fx->pool_clock.sleep_ms = fake_sleep;
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

static struct endpoint_pool *pool_of_two(struct fixture *fx)
{
        fx->pool = make_pool(fx, CHAIN_ID, fake_http_url(fx->servers[0]),
                             fake_http_url(fx->servers[1]));
        return fx->pool;
}

static int send_ok(struct fixture *fx)
{
        struct endpoint_pool_status st;
        struct rwerr err;

        if (endpoint_pool_send(fx->pool, fx->batch, &err) != RW_OK)
                fail_msg("send failed: %s", err.msg);
        endpoint_pool_last_status(fx->pool, &st);
        return st.served_by;
}

static void assert_delay_near(uint64_t got, uint64_t nominal)
{
        /* Default jitter: ± 20 %. */
        if (got < nominal - nominal / 5 || got > nominal + nominal / 5)
                fail_msg("delay %llu ms is not within 20%% of %llu ms", (unsigned long long)got,
                         (unsigned long long)nominal);
}

static void healthy_primary_serves_without_delay(void **state)
{
        struct fixture *fx = *state;
        struct endpoint_health h;

        pool_of_two(fx);
        assert_int_equal(send_ok(fx), 0);
        assert_int_equal(send_ok(fx), 0);
        assert_int_equal(fx->clock.nsleeps, 0);
        assert_int_equal(fake_http_requests(fx->servers[1]), 0);
        endpoint_pool_health(fx->pool, 0, &h);
        assert_int_equal(h.breaker, ENDPOINT_CLOSED);
        assert_int_equal(h.failures, 0);
        assert_non_null(strstr(h.name, "primary (http://127.0.0.1:"));
}

static void retries_follow_the_backoff_schedule(void **state)
{
        struct fixture *fx = *state;
        struct endpoint_pool_status st;
        struct endpoint_health h;

        pool_of_two(fx);
        assert_int_equal(send_ok(fx), 0); /* verifies the chain id first */
        fake_http_fail_next(fx->servers[0], 2, 503);
        assert_int_equal(send_ok(fx), 0);
        /* Attempt 1 at once, attempt 2 after ~1 s, attempt 3 after ~2 s. */
        assert_int_equal(fx->clock.nsleeps, 2);
        assert_delay_near(fx->clock.sleeps[0], 1000);
        assert_delay_near(fx->clock.sleeps[1], 2000);
        endpoint_pool_last_status(fx->pool, &st);
        assert_int_equal(st.attempts, 3);
        assert_false(st.rpc_timeout); /* two failures in a row are not yet RPC_TIMEOUT */
        endpoint_pool_health(fx->pool, 0, &h);
        assert_int_equal(h.failures, 2);
        assert_int_equal(h.consecutive_failures, 0);
        assert_string_equal(h.last_error, "");
}

static void three_failures_in_a_row_raise_rpc_timeout(void **state)
{
        struct fixture *fx = *state;
        struct endpoint_pool_status st;

        pool_of_two(fx);
        assert_int_equal(send_ok(fx), 0);
        fake_http_fail_next(fx->servers[0], 3, 502);
        assert_int_equal(send_ok(fx), 0);
        endpoint_pool_last_status(fx->pool, &st);
        assert_true(st.rpc_timeout);
        assert_non_null(strstr(st.reason, "primary ("));
        assert_non_null(strstr(st.reason, "failed 3 times in a row"));
}

static void failover_then_half_open_probe_brings_primary_back(void **state)
{
        struct fixture *fx = *state;
        struct endpoint_health h;
        unsigned before;

        pool_of_two(fx);
        assert_int_equal(send_ok(fx), 0);
        /* The primary fails all four attempts (0, 1, 2, 5 s): the secondary answers. */
        fake_http_set(fx->servers[0], FAKE_HTTP_REPLY, 500, "down");
        assert_int_equal(send_ok(fx), 1);
        assert_int_equal(fx->clock.nsleeps, 3);
        assert_delay_near(fx->clock.sleeps[2], 5000);
        endpoint_pool_health(fx->pool, 0, &h);
        assert_int_equal(h.breaker, ENDPOINT_OPEN);
        assert_int_equal(h.consecutive_failures, 4);
        assert_non_null(strstr(h.last_error, "HTTP status 500"));

        /* While the primary rests it is not asked at all. */
        before = fake_http_requests(fx->servers[0]);
        fx->clock.nsleeps = 0;
        assert_int_equal(send_ok(fx), 1);
        assert_int_equal(fake_http_requests(fx->servers[0]), before);
        assert_int_equal(fx->clock.nsleeps, 0);

        /* The primary recovers; after its rest one probe finds it healthy. */
        fake_http_set(fx->servers[0], FAKE_HTTP_RPC, 200, NULL);
        fx->clock.now += 30000;
        assert_int_equal(send_ok(fx), 0);
        endpoint_pool_health(fx->pool, 0, &h);
        assert_int_equal(h.breaker, ENDPOINT_CLOSED);
        assert_int_equal(h.consecutive_failures, 0);
}

static void failed_probe_rests_again(void **state)
{
        struct fixture *fx = *state;
        struct endpoint_health h;
        unsigned before;

        pool_of_two(fx);
        fake_http_set(fx->servers[0], FAKE_HTTP_REPLY, 500, "down");
        assert_int_equal(send_ok(fx), 1);
        fx->clock.now += 30000;
        before = fake_http_requests(fx->servers[0]);
        assert_int_equal(send_ok(fx), 1);
        /* Exactly one probe, then open again. */
        assert_int_equal(fake_http_requests(fx->servers[0]), before + 1);
        endpoint_pool_health(fx->pool, 0, &h);
        assert_int_equal(h.breaker, ENDPOINT_OPEN);
}

static void wrong_chain_endpoint_is_refused(void **state)
{
        struct fixture *fx = *state;
        struct endpoint_health h;

        /* The primary serves chain 1: it must never serve reads for chain 31337. */
        fake_http_stop(fx->servers[0]);
        fx->servers[0] = fake_http_start(1);
        assert_non_null(fx->servers[0]);
        pool_of_two(fx);
        assert_int_equal(send_ok(fx), 1);
        endpoint_pool_health(fx->pool, 0, &h);
        assert_int_equal(h.breaker, ENDPOINT_REFUSED);
        assert_non_null(strstr(h.last_error, "serves chain id 1, but this chain is configured with "
                                             "chain id 31337: refusing the endpoint"));
        /* Only the eth_chainId question ever reached it, also on later sends. */
        assert_int_equal(send_ok(fx), 1);
        assert_int_equal(fake_http_requests(fx->servers[0]), 1);
        assert_string_equal(endpoint_breaker_name(h.breaker), "refused");
}

static void all_down_names_every_endpoint(void **state)
{
        struct fixture *fx = *state;
        struct rwerr err;

        pool_of_two(fx);
        fake_http_set(fx->servers[0], FAKE_HTTP_REPLY, 500, "down");
        fake_http_set(fx->servers[1], FAKE_HTTP_REPLY, 200, "garbage");
        assert_int_equal(endpoint_pool_send(fx->pool, fx->batch, &err), RW_ERR_IO);
        assert_non_null(strstr(err.msg, "no RPC endpoint of chain source answered"));
        assert_non_null(strstr(err.msg, "primary ("));
        assert_non_null(strstr(err.msg, "HTTP status 500"));
        assert_non_null(strstr(err.msg, "secondary ("));
        assert_non_null(strstr(err.msg, "reply is not JSON"));
        /* Next send: both resting, the longest-rested one is probed anyway. */
        fake_http_set(fx->servers[0], FAKE_HTTP_RPC, 200, NULL);
        assert_int_equal(send_ok(fx), 0);
}

static void hung_primary_is_cut_off_and_raises_rpc_timeout(void **state)
{
        struct fixture *fx = *state;
        struct endpoint_pool_status st;

        pool_of_two(fx);
        assert_int_equal(send_ok(fx), 0);
        fake_http_set(fx->servers[0], FAKE_HTTP_HANG, 200, NULL);
        assert_int_equal(send_ok(fx), 1);
        endpoint_pool_last_status(fx->pool, &st);
        assert_true(st.rpc_timeout);
}

static void send_to_one_endpoint(void **state)
{
        struct fixture *fx = *state;
        struct endpoint_pool_status st;
        struct rwerr err;

        pool_of_two(fx);
        assert_int_equal(endpoint_pool_send_to(fx->pool, 1, fx->batch, &err), RW_OK);
        endpoint_pool_last_status(fx->pool, &st);
        assert_int_equal(st.served_by, 1);
        assert_int_equal(fake_http_requests(fx->servers[0]), 0);
        assert_int_equal(endpoint_pool_send_to(fx->pool, 2, fx->batch, &err), RW_ERR_RANGE);
        assert_string_equal(err.msg, "chain source has no RPC endpoint 2");
}

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
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(healthy_primary_serves_without_delay, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(retries_follow_the_backoff_schedule, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(three_failures_in_a_row_raise_rpc_timeout, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(failover_then_half_open_probe_brings_primary_back,
                                                setup, teardown),
                cmocka_unit_test_setup_teardown(failed_probe_rests_again, setup, teardown),
                cmocka_unit_test_setup_teardown(wrong_chain_endpoint_is_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(all_down_names_every_endpoint, setup, teardown),
                cmocka_unit_test_setup_teardown(hung_primary_is_cut_off_and_raises_rpc_timeout,
                                                setup, teardown),
                cmocka_unit_test_setup_teardown(send_to_one_endpoint, setup, teardown),
                cmocka_unit_test(configuration_is_checked),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
