/*
 * Unit tests for chain/rpc: URL redaction, reply matching, every way a
 * provider can misbehave on the wire, and exchanges side by side in a multi
 * set (rpc_multi), against fake providers on loopback
 * (tests/support/fake_http.c). The real-chain tests are in
 * tests/integration/test_chain_live.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "fake_http.h"
#include "rpc.h"
#include "rwerr.h"

#define CHAIN_ID 31337

struct fixture {
        struct fake_http *server;
        struct rpc_client *client;
        struct rpc_batch *batch;
};

static int setup(void **state)
{
        struct fixture *fx = calloc(1, sizeof *fx);
        struct rpc_config cfg = {0};
        struct rwerr err;

        if (fx == NULL)
                return -1;
        *state = fx;
        if ((fx->server = fake_http_start(CHAIN_ID)) == NULL)
                return -1;
        cfg.url = fake_http_url(fx->server);
        cfg.name = "test";
        cfg.timeout_ms = 500;
        cfg.max_reply_bytes = (size_t)64 * 1024;
        fx->client = rpc_client_new(&cfg, &err);
        fx->batch = rpc_batch_new();
        return fx->client != NULL && fx->batch != NULL ? 0 : -1;
}

static int teardown(void **state)
{
        struct fixture *fx = *state;

        rpc_batch_free(fx->batch);
        rpc_client_free(fx->client);
        fake_http_stop(fx->server);
        free(fx);
        return 0;
}

static void add_calls(struct rpc_batch *b, int n)
{
        struct rwerr err;
        int i;

        for (i = 0; i < n; i++)
                assert_int_equal(rpc_batch_add(b, "eth_blockNumber", NULL, &err), i);
}

static void redaction_hides_keys(void **state)
{
        char out[128];

        (void)state;
        assert_int_equal(
                rpc_url_redact("https://mainnet.infura.io/v3/0123456789abcdef", out, sizeof out),
                RW_OK);
        assert_string_equal(out, "https://mainnet.infura.io/<redacted>");
        assert_int_equal(rpc_url_redact("http://127.0.0.1:8545", out, sizeof out), RW_OK);
        assert_string_equal(out, "http://127.0.0.1:8545");
        assert_int_equal(rpc_url_redact("http://127.0.0.1:8545/", out, sizeof out), RW_OK);
        assert_string_equal(out, "http://127.0.0.1:8545");
        assert_int_equal(rpc_url_redact("https://node.example?apikey=secret", out, sizeof out),
                         RW_OK);
        assert_string_equal(out, "https://node.example/<redacted>");
        assert_int_equal(rpc_url_redact("https://user:secret@node.example/", out, sizeof out),
                         RW_OK);
        assert_string_equal(out, "https://node.example/<redacted>");
        assert_int_equal(rpc_url_redact("not a url", out, sizeof out), RW_ERR_INVALID);
        assert_string_equal(out, "(invalid URL)");
}

static void client_refuses_bad_urls_without_echoing_them(void **state)
{
        struct rpc_config cfg = {0};
        struct rwerr err;

        (void)state;
        cfg.url = "ftp://files.example/secretkey";
        cfg.name = "source[1]";
        assert_null(rpc_client_new(&cfg, &err));
        assert_non_null(strstr(err.msg, "only http:// and https://"));
        assert_null(strstr(err.msg, "secretkey"));
        cfg.url = "";
        assert_null(rpc_client_new(&cfg, &err));
        assert_string_equal(err.msg, "RPC endpoint has no URL");
}

static void client_name_is_redacted(void **state)
{
        struct rpc_config cfg = {0};
        struct rpc_client *c;
        struct rwerr err;

        (void)state;
        cfg.url = "https://eth.example/v2/topsecret";
        cfg.name = "source[0]";
        c = rpc_client_new(&cfg, &err);
        assert_non_null(c);
        assert_string_equal(rpc_client_name(c), "source[0] (https://eth.example/<redacted>)");
        rpc_client_free(c);
}

static void batch_of_100_in_one_exchange_matched_by_id(void **state)
{
        struct fixture *fx = *state;
        struct rpc_client_stats stats;
        struct rwerr err;
        uint64_t v;
        size_t i;

        add_calls(fx->batch, 100);
        assert_int_equal(rpc_batch_send(fx->client, fx->batch, &err), RW_OK);
        assert_int_equal(fake_http_requests(fx->server), 1);
        /* The fake answers in reverse order; each result must land on its own request. */
        for (i = 0; i < 100; i++) {
                assert_int_equal(rpc_batch_u64(fx->batch, i, &v, &err), RW_OK);
                assert_int_equal(v, i + 1);
        }
        rpc_client_stats(fx->client, &stats);
        assert_int_equal(stats.exchanges, 1);
        assert_int_equal(stats.requests, 100);
        assert_int_equal(stats.failed_exchanges, 0);
}

static void connection_is_kept_alive(void **state)
{
        struct fixture *fx = *state;
        struct rwerr err;
        int i;

        add_calls(fx->batch, 3);
        for (i = 0; i < 10; i++)
                assert_int_equal(rpc_batch_send(fx->client, fx->batch, &err), RW_OK);
        assert_int_equal(fake_http_requests(fx->server), 10);
        assert_int_equal(fake_http_connections(fx->server), 1);
}

static void single_request_round_trip(void **state)
{
        struct fixture *fx = *state;
        struct rwerr err;
        uint64_t v;

        add_calls(fx->batch, 1);
        assert_int_equal(rpc_batch_send(fx->client, fx->batch, &err), RW_OK);
        assert_int_equal(rpc_batch_u64(fx->batch, 0, &v, &err), RW_OK);
        assert_int_equal(v, 1);
}

static void expect_send_error(struct fixture *fx, int code, const char *needle)
{
        struct rwerr err;
        int rc = rpc_batch_send(fx->client, fx->batch, &err);

        if (rc != code || strstr(err.msg, needle) == NULL)
                fail_msg("expected %s containing \"%s\", got %s: %s", rwerr_code_name(code), needle,
                         rwerr_code_name(rc), err.msg);
        /* Nothing of a failed exchange may be read as a result. */
        assert_null(rpc_batch_result(fx->batch, 0));
        assert_non_null(strstr(err.msg, "test (http://127.0.0.1:"));
}

static void garbage_body_is_a_protocol_error(void **state)
{
        struct fixture *fx = *state;

        add_calls(fx->batch, 2);
        fake_http_set(fx->server, FAKE_HTTP_REPLY, 200, "<html>502 Bad Gateway</html>");
        expect_send_error(fx, RW_ERR_PROTOCOL,
                          "reply is not JSON (28 bytes: \"<html>502 Bad Gateway</html>\")");
}

static void truncated_body_is_a_protocol_error(void **state)
{
        struct fixture *fx = *state;

        add_calls(fx->batch, 2);
        fake_http_set(fx->server, FAKE_HTTP_TRUNCATE, 200,
                      "[{\"jsonrpc\":\"2.0\",\"id\":0,\"result\":\"0x1\"}");
        expect_send_error(fx, RW_ERR_PROTOCOL, "reply cut short");
}

static void http_errors_name_the_status(void **state)
{
        struct fixture *fx = *state;

        add_calls(fx->batch, 1);
        fake_http_set(fx->server, FAKE_HTTP_REPLY, 503, "busy");
        expect_send_error(fx, RW_ERR_IO, "HTTP status 503");
        fake_http_set(fx->server, FAKE_HTTP_REPLY, 429, "slow down");
        expect_send_error(fx, RW_ERR_IO, "rate limited (HTTP 429)");
}

static void silent_close_is_an_error(void **state)
{
        struct fixture *fx = *state;

        add_calls(fx->batch, 1);
        fake_http_set(fx->server, FAKE_HTTP_CLOSE, 200, NULL);
        expect_send_error(fx, RW_ERR_PROTOCOL, "reply cut short");
}

static void hung_endpoint_is_cut_off_by_the_timeout(void **state)
{
        struct fixture *fx = *state;
        struct timespec a, b;
        double seconds;

        add_calls(fx->batch, 1);
        fake_http_set(fx->server, FAKE_HTTP_HANG, 200, NULL);
        clock_gettime(CLOCK_MONOTONIC, &a);
        expect_send_error(fx, RW_ERR_TIMEOUT, "no complete reply within 500 ms");
        clock_gettime(CLOCK_MONOTONIC, &b);
        seconds = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
        /* Cut off by the 500 ms timeout, not by the hang ending (it never does). */
        assert_true(seconds < 5.0);
}

static void oversized_reply_is_refused(void **state)
{
        struct fixture *fx = *state;
        char *big = malloc((size_t)100 * 1024);

        assert_non_null(big);
        memset(big, ' ', (size_t)100 * 1024 - 1);
        big[(size_t)100 * 1024 - 1] = '\0';
        add_calls(fx->batch, 1);
        fake_http_set(fx->server, FAKE_HTTP_REPLY, 200, big);
        free(big);
        expect_send_error(fx, RW_ERR_PROTOCOL, "reply larger than the 65536-byte limit");
}

static void chain_id_is_verified(void **state)
{
        struct fixture *fx = *state;
        struct rwerr err;

        assert_int_equal(rpc_client_verify_chain(fx->client, CHAIN_ID, &err), RW_OK);
        assert_int_equal(rpc_client_verify_chain(fx->client, 1, &err), RW_ERR_REFUSED);
        assert_non_null(strstr(err.msg, "serves chain id 31337, but this chain is configured with "
                                        "chain id 1: refusing the endpoint"));
}

/* ------------------------------------------------------------ multi */

static uint64_t now_ms(void)
{
        struct timespec t;

        clock_gettime(CLOCK_MONOTONIC, &t);
        return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

/* Waits in `m` until an exchange finishes (at most 10 s); returns its client. */
static struct rpc_client *next_done(struct rpc_multi *m, int *rc, struct rwerr *err)
{
        uint64_t until = now_ms() + 10000;
        struct rpc_client *done = NULL;

        while (done == NULL && now_ms() < until)
                assert_int_equal(rpc_multi_wait(m, 200, &done, rc, err), RW_OK);
        assert_non_null(done);
        return done;
}

static struct rpc_client *second_client(struct fake_http *server)
{
        struct rpc_config cfg = {0};
        struct rpc_client *c;
        struct rwerr err;

        cfg.url = fake_http_url(server);
        cfg.name = "second";
        cfg.timeout_ms = 5000;
        c = rpc_client_new(&cfg, &err);
        assert_non_null(c);
        return c;
}

static void multi_runs_exchanges_side_by_side(void **state)
{
        struct fixture *fx = *state;
        struct fake_http *fast = fake_http_start(CHAIN_ID);
        struct rpc_client *second, *done;
        struct rpc_client_stats stats;
        struct rpc_multi *m;
        struct rwerr err;
        uint64_t t0, v;
        int rc = RW_OK;

        assert_non_null(fast);
        second = second_client(fast);
        m = rpc_multi_new(&err);
        assert_non_null(m);
        add_calls(fx->batch, 2);
        /* The same batch through a slow endpoint and a fast one. */
        fake_http_set_delay(fx->server, 400);
        t0 = now_ms();
        assert_int_equal(rpc_multi_start(m, fx->client, fx->batch, &err), RW_OK);
        assert_int_equal(rpc_multi_start(m, second, fx->batch, &err), RW_OK);
        assert_true(rpc_client_busy(fx->client) && rpc_client_busy(second));
        assert_int_equal(rpc_multi_start(m, second, fx->batch, &err), RW_ERR_INVALID);
        assert_non_null(strstr(err.msg, "an exchange is already under way"));
        assert_int_equal(rpc_batch_send(second, fx->batch, &err), RW_ERR_INVALID);
        done = next_done(m, &rc, &err);
        assert_ptr_equal(done, second);
        assert_int_equal(rc, RW_OK);
        assert_true(now_ms() - t0 < 400); /* it did not wait for the slow one */
        assert_false(rpc_client_busy(second));
        /* The slow one is cancelled; the winner's results stay. */
        rpc_multi_cancel(m, fx->client);
        assert_false(rpc_client_busy(fx->client));
        assert_int_equal(rpc_batch_u64(fx->batch, 1, &v, &err), RW_OK);
        assert_int_equal(v, 2);
        rpc_client_stats(fx->client, &stats);
        assert_int_equal(stats.exchanges, 1);
        assert_int_equal(stats.failed_exchanges, 1);
        rpc_client_stats(second, &stats);
        assert_int_equal(stats.failed_exchanges, 0);
        /* Connections stay open in the set and are reused. */
        fake_http_set_delay(fx->server, 0);
        assert_int_equal(rpc_multi_start(m, second, fx->batch, &err), RW_OK);
        assert_ptr_equal(next_done(m, &rc, &err), second);
        assert_int_equal(rc, RW_OK);
        assert_int_equal(fake_http_connections(fast), 1);
        assert_int_equal(fake_http_requests(fast), 2);
        rpc_multi_free(m);
        rpc_client_free(second);
        fake_http_stop(fast);
}

static void multi_waits_are_bounded_and_timeouts_kept(void **state)
{
        struct fixture *fx = *state;
        struct rpc_client *done = NULL;
        struct rpc_multi *m = rpc_multi_new(NULL);
        struct rwerr err;
        uint64_t t0, took;
        int rc = RW_OK;

        assert_non_null(m);
        add_calls(fx->batch, 1);
        fake_http_set(fx->server, FAKE_HTTP_HANG, 200, NULL);
        assert_int_equal(rpc_multi_start(m, fx->client, fx->batch, &err), RW_OK);
        t0 = now_ms();
        while (done == NULL && now_ms() - t0 < 100)
                assert_int_equal(rpc_multi_wait(m, 100, &done, &rc, &err), RW_OK);
        took = now_ms() - t0;
        assert_null(done);
        assert_true(took >= 100 && took < 450);
        /* The client's 500 ms timeout holds inside the set. */
        assert_ptr_equal(next_done(m, &rc, &err), fx->client);
        assert_int_equal(rc, RW_ERR_TIMEOUT);
        assert_non_null(strstr(err.msg, "test (http://127.0.0.1:"));
        assert_non_null(strstr(err.msg, "no complete reply within 500 ms"));
        assert_null(rpc_batch_result(fx->batch, 0));
        /* Nothing in flight: a wait returns at once. */
        t0 = now_ms();
        assert_int_equal(rpc_multi_wait(m, 1000, &done, &rc, &err), RW_OK);
        assert_null(done);
        assert_true(now_ms() - t0 < 500);
        rpc_multi_free(m);
}

static void multi_failures_come_back_with_their_reason(void **state)
{
        struct fixture *fx = *state;
        struct rpc_multi *m = rpc_multi_new(NULL);
        struct rwerr err;
        int rc = RW_OK;

        assert_non_null(m);
        add_calls(fx->batch, 2);
        fake_http_set(fx->server, FAKE_HTTP_REPLY, 200, "<html>502 Bad Gateway</html>");
        assert_int_equal(rpc_multi_start(m, fx->client, fx->batch, &err), RW_OK);
        assert_ptr_equal(next_done(m, &rc, &err), fx->client);
        assert_int_equal(rc, RW_ERR_PROTOCOL);
        assert_non_null(strstr(err.msg, "test (http://127.0.0.1:"));
        assert_non_null(strstr(err.msg, "reply is not JSON"));
        assert_null(rpc_batch_result(fx->batch, 0));
        rpc_multi_free(m);
}

static void freeing_with_exchanges_in_flight(void **state)
{
        struct fixture *fx = *state;
        struct fake_http *other = fake_http_start(CHAIN_ID);
        struct rpc_client *second;
        struct rpc_multi *m = rpc_multi_new(NULL);
        struct rwerr err;

        assert_non_null(other);
        assert_non_null(m);
        second = second_client(other);
        add_calls(fx->batch, 1);
        fake_http_set(fx->server, FAKE_HTTP_HANG, 200, NULL);
        fake_http_set(other, FAKE_HTTP_HANG, 200, NULL);
        assert_int_equal(rpc_multi_start(m, fx->client, fx->batch, &err), RW_OK);
        assert_int_equal(rpc_multi_start(m, second, fx->batch, &err), RW_OK);
        /* A busy client leaves its set when freed; the set cancels the rest. */
        rpc_client_free(second);
        rpc_multi_free(m);
        assert_false(rpc_client_busy(fx->client));
        fake_http_stop(other);
}

static void chain_id_reply_is_checked(void **state)
{
        struct fixture *fx = *state;
        struct rwerr err;

        assert_int_equal(rpc_batch_add(fx->batch, "eth_chainId", NULL, &err), 0);
        assert_int_equal(rpc_batch_send(fx->client, fx->batch, &err), RW_OK);
        assert_int_equal(rpc_chain_id_check(fx->client, fx->batch, CHAIN_ID, &err), RW_OK);
        assert_int_equal(rpc_chain_id_check(fx->client, fx->batch, 5, &err), RW_ERR_REFUSED);
        assert_non_null(strstr(err.msg, "test (http://127.0.0.1:"));
        assert_non_null(strstr(err.msg, "serves chain id 31337, but this chain is configured "
                                        "with chain id 5"));
        fake_http_set(fx->server, FAKE_HTTP_REPLY, 200,
                      "{\"jsonrpc\":\"2.0\",\"id\":0,\"result\":\"0x07\"}");
        assert_int_equal(rpc_batch_send(fx->client, fx->batch, &err), RW_OK);
        assert_int_equal(rpc_chain_id_check(fx->client, fx->batch, 7, &err), RW_ERR_INVALID);
        assert_non_null(strstr(err.msg, "test (http://127.0.0.1:"));
        assert_non_null(strstr(err.msg, "leading zero"));
}

/* Parses `reply` for a batch of `n` eth_call requests; returns the code. */
static int parse(struct rpc_batch *b, int n, const char *reply, struct rwerr *err)
{
        int i;

        for (i = 0; i < n; i++)
                assert_int_equal(rpc_batch_add(b, "eth_call", NULL, err), i);
        return rpc_batch_parse_reply(b, reply, strlen(reply), err);
}

static void parse_case(int n, const char *reply, int code, const char *needle)
{
        struct rpc_batch *b = rpc_batch_new();
        struct rwerr err;
        int rc;

        assert_non_null(b);
        rc = parse(b, n, reply, &err);
        if (rc != code || (needle != NULL && strstr(err.msg, needle) == NULL))
                fail_msg("reply %s: expected %s \"%s\", got %s \"%s\"", reply,
                         rwerr_code_name(code), needle ? needle : "", rwerr_code_name(rc),
                         rc ? err.msg : "");
        rpc_batch_free(b);
}

static void malformed_replies_are_named(void **state)
{
        (void)state;
        parse_case(2, "[{\"jsonrpc\":\"2.0\",\"id\":0,\"result\":\"0x1\"}]", RW_ERR_PROTOCOL,
                   "reply has no answer to request 1 (eth_call)");
        parse_case(2,
                   "[{\"jsonrpc\":\"2.0\",\"id\":0,\"result\":\"0x1\"},"
                   "{\"jsonrpc\":\"2.0\",\"id\":0,\"result\":\"0x1\"}]",
                   RW_ERR_PROTOCOL, "reply repeats id 0 (eth_call)");
        parse_case(1, "[{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":\"0x1\"}]", RW_ERR_PROTOCOL,
                   "has id 7, which was never sent");
        parse_case(1, "[{\"jsonrpc\":\"2.0\",\"id\":0.5,\"result\":\"0x1\"}]", RW_ERR_PROTOCOL,
                   "which was never sent");
        parse_case(1, "{\"jsonrpc\":\"2.0\",\"id\":0}", RW_ERR_PROTOCOL,
                   "must have exactly one of result and error");
        parse_case(1,
                   "{\"jsonrpc\":\"2.0\",\"id\":0,\"result\":\"0x1\",\"error\":{\"code\":1,"
                   "\"message\":\"x\"}}",
                   RW_ERR_PROTOCOL, "must have exactly one of result and error");
        parse_case(1, "{\"jsonrpc\":\"2.0\",\"id\":0,\"error\":{\"message\":\"no code\"}}",
                   RW_ERR_PROTOCOL, "malformed error object");
        parse_case(1, "{\"id\":0,\"result\":\"0x1\"}", RW_ERR_PROTOCOL,
                   "lacks \"jsonrpc\": \"2.0\"");
        parse_case(2, "[1,2]", RW_ERR_PROTOCOL, "reply element 0 is not an object");
        parse_case(2, "\"0x1\"", RW_ERR_PROTOCOL, "neither a JSON object nor an array");
        parse_case(2, "{\"jsonrpc\":\"2.0\",\"id\":0,\"result\":\"0x1\"}", RW_ERR_PROTOCOL,
                   "reply to a batch of 2 is a single object");
        parse_case(2,
                   "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32600,"
                   "\"message\":\"batch too large\"}}",
                   RW_ERR_REMOTE, "provider rejected the request: error -32600: batch too large");
        parse_case(1, "", RW_ERR_PROTOCOL, "reply is not JSON (0 bytes");
        parse_case(1, "{\"jsonrpc\":\"2.0\",\"id\":1e300,\"result\":\"0x1\"}", RW_ERR_PROTOCOL,
                   "never sent");
}

static void per_request_errors_are_kept_apart(void **state)
{
        struct rpc_batch *b = rpc_batch_new();
        const struct rpc_error *e;
        const char *hex;
        struct rwerr err;

        (void)state;
        assert_int_equal(parse(b, 2,
                               "[{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":3,\"message\":"
                               "\"execution reverted\",\"data\":\"0x08c379a0\"}},"
                               "{\"jsonrpc\":\"2.0\",\"id\":0,\"result\":\"0x2a\"}]",
                               &err),
                         RW_OK);
        assert_int_equal(rpc_batch_hex(b, 0, &hex, &err), RW_OK);
        assert_string_equal(hex, "0x2a");
        assert_null(rpc_batch_error(b, 0));
        assert_null(rpc_batch_result(b, 1));
        e = rpc_batch_error(b, 1);
        assert_non_null(e);
        assert_int_equal(e->code, 3);
        assert_string_equal(e->message, "execution reverted");
        assert_int_equal(rpc_batch_hex(b, 1, &hex, &err), RW_ERR_REMOTE);
        assert_string_equal(err.msg, "eth_call: error 3: execution reverted");
        rpc_batch_free(b);
}

static void quantities_are_strict(void **state)
{
        struct rwerr err;
        uint64_t v;

        (void)state;
        assert_int_equal(rpc_quantity_u64("0x0", &v, &err), RW_OK);
        assert_int_equal(v, 0);
        assert_int_equal(rpc_quantity_u64("0x7a69", &v, &err), RW_OK);
        assert_int_equal(v, 31337);
        assert_int_equal(rpc_quantity_u64("0xffffffffffffffff", &v, &err), RW_OK);
        assert_true(v == UINT64_MAX);
        assert_int_equal(rpc_quantity_u64("0x", &v, &err), RW_ERR_INVALID);
        assert_int_equal(rpc_quantity_u64("0x01", &v, &err), RW_ERR_INVALID);
        assert_string_equal(err.msg, "quantity 0x01 has a leading zero");
        assert_int_equal(rpc_quantity_u64("0x10000000000000000", &v, &err), RW_ERR_INVALID);
        assert_int_equal(rpc_quantity_u64("0x1g", &v, &err), RW_ERR_INVALID);
        assert_int_equal(rpc_quantity_u64("12", &v, &err), RW_ERR_INVALID);
        assert_int_equal(rpc_quantity_u64(NULL, &v, &err), RW_ERR_INVALID);
}

static void assert_json(cJSON *params, const char *want)
{
        char *text;

        assert_non_null(params);
        text = cJSON_PrintUnformatted(params);
        assert_string_equal(text, want);
        free(text);
        cJSON_Delete(params);
}

static void params_pin_the_block(void **state)
{
        struct rpc_block at = {NULL, 1234};
        struct rpc_block fin = {"finalized", 0};
        struct rpc_block bogus = {"newest", 0};

        (void)state;
        assert_json(rpc_params_eth_call("0xabc", "0x18160ddd", &at),
                    "[{\"to\":\"0xabc\",\"data\":\"0x18160ddd\"},\"0x4d2\"]");
        assert_json(rpc_params_address_at("0xabc", &fin), "[\"0xabc\",\"finalized\"]");
        assert_json(rpc_params_get_logs("0xabc", "0xdd", 16, 31),
                    "[{\"address\":\"0xabc\",\"fromBlock\":\"0x10\",\"toBlock\":\"0x1f\","
                    "\"topics\":[\"0xdd\"]}]");
        assert_json(rpc_params_get_logs("0xabc", NULL, 0, 0),
                    "[{\"address\":\"0xabc\",\"fromBlock\":\"0x0\",\"toBlock\":\"0x0\"}]");
        /* An unknown tag is refused rather than sent. */
        assert_null(rpc_params_address_at("0xabc", &bogus));
}

static void batch_limits(void **state)
{
        struct rpc_batch *b = rpc_batch_new();
        struct rwerr err;
        int i;

        (void)state;
        assert_int_equal(rpc_batch_add(b, "x", cJSON_CreateObject(), &err), RW_ERR_INVALID);
        assert_string_equal(err.msg, "x: params must be a JSON array");
        for (i = 0; i < RPC_BATCH_MAX; i++)
                assert_int_equal(rpc_batch_add(b, "eth_chainId", NULL, &err), i);
        assert_int_equal(rpc_batch_add(b, "eth_chainId", NULL, &err), RW_ERR_RANGE);
        assert_int_equal(rpc_batch_count(b), RPC_BATCH_MAX);
        rpc_batch_free(b);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(redaction_hides_keys),
                cmocka_unit_test(client_refuses_bad_urls_without_echoing_them),
                cmocka_unit_test(client_name_is_redacted),
                cmocka_unit_test_setup_teardown(batch_of_100_in_one_exchange_matched_by_id, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(connection_is_kept_alive, setup, teardown),
                cmocka_unit_test_setup_teardown(single_request_round_trip, setup, teardown),
                cmocka_unit_test_setup_teardown(garbage_body_is_a_protocol_error, setup, teardown),
                cmocka_unit_test_setup_teardown(truncated_body_is_a_protocol_error, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(http_errors_name_the_status, setup, teardown),
                cmocka_unit_test_setup_teardown(silent_close_is_an_error, setup, teardown),
                cmocka_unit_test_setup_teardown(hung_endpoint_is_cut_off_by_the_timeout, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(oversized_reply_is_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(chain_id_is_verified, setup, teardown),
                cmocka_unit_test_setup_teardown(multi_runs_exchanges_side_by_side, setup, teardown),
                cmocka_unit_test_setup_teardown(multi_waits_are_bounded_and_timeouts_kept, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(multi_failures_come_back_with_their_reason, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(freeing_with_exchanges_in_flight, setup, teardown),
                cmocka_unit_test_setup_teardown(chain_id_reply_is_checked, setup, teardown),
                cmocka_unit_test(malformed_replies_are_named),
                cmocka_unit_test(per_request_errors_are_kept_apart),
                cmocka_unit_test(quantities_are_strict),
                cmocka_unit_test(params_pin_the_block),
                cmocka_unit_test(batch_limits),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
