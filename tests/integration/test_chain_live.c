/*
 * The chain toolkit against real chains: reads pinned to a block stay put
 * while the chain moves on, 100 calls travel in one round trip, a killed
 * endpoint fails over and comes back, a wrong-chain endpoint is refused,
 * a hung endpoint is hedged around and a garbage-speaking one is cut off.
 *
 * Uses the shared stack ($RELAYWATCH_STACK_ENV) and, for the tests that kill
 * a chain, anvil processes of its own ($RELAYWATCH_ANVIL).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "abi.h"
#include "anvil_proc.h"
#include "endpoint_pool.h"
#include "fake_http.h"
#include "rpc.h"
#include "rwerr.h"
#include "stack_env.h"
#include "test_rpc.h"
#include "test_util.h"
#include "u256.h"

struct fixture {
        struct stack_env *env;
        uint64_t source_chain_id;
        uint64_t exec_chain_id;
};

static const char *need(const struct stack_env *env, const char *key)
{
        const char *v = stack_env_get(env, key);

        if (v == NULL || v[0] == '\0')
                fail_msg("stack.env has no %s", key);
        return v;
}

static int setup(void **state)
{
        struct fixture *fx = calloc(1, sizeof *fx);
        const char *path = getenv("RELAYWATCH_STACK_ENV");
        struct rwerr err;

        if (fx == NULL || path == NULL) {
                fprintf(stderr, "RELAYWATCH_STACK_ENV is not set: run through ctest\n");
                free(fx);
                return -1;
        }
        fx->env = stack_env_load(path, &err);
        if (fx->env == NULL) {
                fprintf(stderr, "%s\n", err.msg);
                free(fx);
                return -1;
        }
        fx->source_chain_id = strtoull(stack_env_get(fx->env, "SOURCE_CHAIN_ID"), NULL, 10);
        fx->exec_chain_id = strtoull(stack_env_get(fx->env, "EXEC_CHAIN_ID"), NULL, 10);
        *state = fx;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *fx = *state;

        anvil_proc_kill_all(); /* those a failed test left running */
        stack_env_free(fx->env);
        free(fx);
        return 0;
}

static struct endpoint_pool *pool_for(uint64_t chain_id, const char *const *urls, size_t n,
                                      long timeout_ms)
{
        static const uint64_t quick_backoff[] = {0, 100, 200};
        struct rpc_config endpoints[4];
        struct endpoint_pool_config cfg = {0};
        struct endpoint_pool *p;
        struct rwerr err;
        size_t i;

        memset(endpoints, 0, sizeof endpoints);
        for (i = 0; i < n; i++) {
                endpoints[i].url = urls[i];
                endpoints[i].name = i == 0 ? "first" : "second";
                endpoints[i].timeout_ms = timeout_ms;
        }
        cfg.chain = "test";
        cfg.chain_id = chain_id;
        cfg.endpoints = endpoints;
        cfg.n = n;
        cfg.backoff_ms = quick_backoff;
        cfg.nbackoff = 3;
        cfg.breaker_open_ms = 1000;
        p = endpoint_pool_new(&cfg, &err);
        if (p == NULL)
                fail_msg("%s", err.msg);
        return p;
}

static void add_balance_of(struct rpc_batch *b, const char *token, const char *holder,
                           const struct rpc_block *at)
{
        struct abi_call call;
        uint8_t addr[ABI_ADDRESS_BYTES];
        char data[2 + 2 * sizeof call.data + 1];
        struct rwerr err;

        abi_call_init(&call, "balanceOf(address)");
        assert_int_equal(abi_address_parse(holder, strlen(holder), addr, &err), RW_OK);
        assert_int_equal(abi_call_add_address(&call, addr), RW_OK);
        assert_true(abi_call_hex(&call, data, sizeof data) > 0);
        assert_true(rpc_batch_add(b, "eth_call", rpc_params_eth_call(token, data, at), &err) >= 0);
}

static void add_total_supply(struct rpc_batch *b, const char *token, const struct rpc_block *at)
{
        struct abi_call call;
        char data[16];
        struct rwerr err;

        abi_call_init(&call, "totalSupply()");
        assert_true(abi_call_hex(&call, data, sizeof data) > 0);
        assert_true(rpc_batch_add(b, "eth_call", rpc_params_eth_call(token, data, at), &err) >= 0);
}

static struct u256 result_u256(const struct rpc_batch *b, size_t i)
{
        struct u256 v;
        const char *hex;
        struct rwerr err;

        if (rpc_batch_hex(b, i, &hex, &err) != RW_OK ||
            abi_decode_uint256(hex, strlen(hex), &v, &err) != RW_OK)
                fail_msg("request %zu: %s", i, err.msg);
        return v;
}

static void send_or_fail(struct endpoint_pool *p, struct rpc_batch *b)
{
        struct rwerr err;

        if (endpoint_pool_send(p, b, &err) != RW_OK)
                fail_msg("%s", err.msg);
}

static uint64_t block_number(struct endpoint_pool *p)
{
        struct rpc_batch *b = rpc_batch_new();
        struct rwerr err;
        uint64_t n = 0;

        assert_int_equal(rpc_batch_add(b, "eth_blockNumber", NULL, &err), 0);
        send_or_fail(p, b);
        assert_int_equal(rpc_batch_u64(b, 0, &n, &err), RW_OK);
        rpc_batch_free(b);
        return n;
}

/* Sends a transaction from an unlocked account and waits for its block. */
static uint64_t transact(const char *url, const char *from, const char *to, const char *data)
{
        char params[1024];
        char *hash, *receipt = NULL;
        struct rwerr err;
        uint64_t block = 0;
        int i;

        snprintf(params, sizeof params, "[{\"from\":\"%s\",\"to\":\"%s\",\"data\":\"%s\"}]", from,
                 to, data);
        hash = test_rpc_call(url, "eth_sendTransaction", params, &err);
        if (hash == NULL)
                fail_msg("%s", err.msg);
        snprintf(params, sizeof params, "[\"%s\"]", hash);
        for (i = 0; i < 200; i++) {
                receipt = test_rpc_call(url, "eth_getTransactionReceipt", params, &err);
                if (receipt != NULL && strcmp(receipt, "null") != 0)
                        break;
                free(receipt);
                receipt = NULL;
                nanosleep(&(struct timespec){0, 100000000L}, NULL);
        }
        if (receipt == NULL)
                fail_msg("no receipt for %s after 20 s", hash);
        {
                cJSON *r = cJSON_Parse(receipt);
                const cJSON *bn = cJSON_GetObjectItemCaseSensitive(r, "blockNumber");
                const cJSON *status = cJSON_GetObjectItemCaseSensitive(r, "status");

                assert_true(cJSON_IsString(status) && strcmp(status->valuestring, "0x1") == 0);
                assert_int_equal(
                        rpc_quantity_u64(cJSON_IsString(bn) ? bn->valuestring : NULL, &block, &err),
                        RW_OK);
                cJSON_Delete(r);
        }
        free(hash);
        free(receipt);
        return block;
}

/* A fresh address no one else uses, so runs of this test on one stack do not meet. */
static void fresh_address(char out[43])
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        snprintf(out, 43, "0x00000000%08x%08x%016llx", (unsigned)getpid(), (unsigned)ts.tv_nsec,
                 (unsigned long long)ts.tv_sec);
}

/* 0x-hex calldata of `signature` with an address and an amount. */
static void address_amount_call(const char *signature, const char *address,
                                const struct u256 *amount, char *out, size_t cap)
{
        struct abi_call call;
        uint8_t addr[ABI_ADDRESS_BYTES];
        struct rwerr err;

        abi_call_init(&call, signature);
        assert_int_equal(abi_address_parse(address, strlen(address), addr, &err), RW_OK);
        assert_int_equal(abi_call_add_address(&call, addr), RW_OK);
        assert_int_equal(abi_call_add_uint(&call, amount), RW_OK);
        if (strncmp(signature, "mint(", 5) == 0)
                assert_int_equal(abi_call_add_u64(&call, 1), RW_OK);
        assert_true(abi_call_hex(&call, out, cap) > 0);
}

/* Deploys the stack's compiled BridgedToken on `url` with `minter`; returns its address. */
static void deploy_bridged_token(const char *stack_dir, const char *url, const char *minter,
                                 char out[43])
{
        char path[512], params[16384];
        char *text, *hash, *receipt = NULL;
        cJSON *artifact, *r;
        const cJSON *bytecode, *addr;
        struct rwerr err;
        int i;

        snprintf(path, sizeof path, "%s/artifacts/BridgedToken.json", stack_dir);
        text = test_read_file(path);
        assert_non_null(text);
        artifact = cJSON_Parse(text);
        free(text);
        bytecode = cJSON_GetObjectItemCaseSensitive(artifact, "bytecode");
        assert_true(cJSON_IsString(bytecode));
        snprintf(params, sizeof params,
                 "[{\"from\":\"%s\",\"data\":\"%s000000000000000000000000%s\"}]", minter,
                 bytecode->valuestring, minter + 2);
        cJSON_Delete(artifact);
        hash = test_rpc_call(url, "eth_sendTransaction", params, &err);
        if (hash == NULL)
                fail_msg("%s", err.msg);
        snprintf(params, sizeof params, "[\"%s\"]", hash);
        for (i = 0; i < 100 && receipt == NULL; i++) {
                receipt = test_rpc_call(url, "eth_getTransactionReceipt", params, &err);
                if (receipt != NULL && strcmp(receipt, "null") == 0) {
                        free(receipt);
                        receipt = NULL;
                        nanosleep(&(struct timespec){0, 50000000L}, NULL);
                }
        }
        assert_non_null(receipt);
        r = cJSON_Parse(receipt);
        addr = cJSON_GetObjectItemCaseSensitive(r, "contractAddress");
        assert_true(cJSON_IsString(addr));
        snprintf(out, 43, "%s", addr->valuestring);
        cJSON_Delete(r);
        free(receipt);
        free(hash);
}

static void reads_pinned_to_a_block_stay_put(void **state)
{
        struct fixture *fx = *state;
        const char *src_url = need(fx->env, "SOURCE_RPC_URL");
        const char *sigil = need(fx->env, "SIGIL_ADDRESS");
        char users[512], data[2 + 2 * sizeof(struct abi_call) + 1], holder[43], token[43];
        char *user0, *save = NULL, *accounts;
        struct endpoint_pool *src = pool_for(fx->source_chain_id, &src_url, 1, 5000);
        struct endpoint_pool *own;
        struct rpc_block before, after;
        struct rpc_batch *b = rpc_batch_new();
        struct u256 v, one_token, zero = u256_from_u64(0);
        struct anvil_proc chain;
        const char *own_url;
        char minter[43];
        struct rwerr err;

        snprintf(users, sizeof users, "%s", need(fx->env, "USER_ADDRESSES"));
        user0 = strtok_r(users, ",", &save);
        assert_non_null(user0);
        assert_int_equal(u256_parse_units("1", 1, 18, &one_token, &err), RW_OK);

        /* Source chain: one SIGIL to an address of this run's own. */
        fresh_address(holder);
        before = (struct rpc_block){NULL, block_number(src)};
        address_amount_call("transfer(address,uint256)", holder, &one_token, data, sizeof data);
        after = (struct rpc_block){NULL, transact(src_url, user0, sigil, data)};
        assert_true(after.number > before.number);
        add_balance_of(b, sigil, holder, &before);
        add_balance_of(b, sigil, holder, &after);
        send_or_fail(src, b);
        v = result_u256(b, 0);
        assert_true(u256_eq(&v, &zero));
        v = result_u256(b, 1);
        assert_true(u256_eq(&v, &one_token));
        rpc_batch_free(b);
        endpoint_pool_free(src);

        /*
         * totalSupply moves only by mints and burns, which on the shared stack
         * belong to the bridge: this part mints on a chain of its own.
         */
        if (anvil_proc_start(&chain, 31338, &err) != RW_OK)
                fail_msg("%s", err.msg);
        own_url = chain.url;
        accounts = test_rpc_call(own_url, "eth_accounts", "[]", &err);
        assert_non_null(accounts);
        snprintf(minter, sizeof minter, "%.42s", accounts + 2); /* ["0x..." */
        free(accounts);
        deploy_bridged_token(need(fx->env, "STACK_DIR"), own_url, minter, token);
        own = pool_for(31338, &own_url, 1, 5000);
        b = rpc_batch_new();
        before = (struct rpc_block){NULL, block_number(own)};
        address_amount_call("mint(address,uint256,uint256)", holder, &one_token, data, sizeof data);
        after = (struct rpc_block){NULL, transact(own_url, minter, token, data)};
        add_total_supply(b, token, &before);
        add_total_supply(b, token, &after);
        send_or_fail(own, b);
        v = result_u256(b, 0);
        assert_true(u256_eq(&v, &zero));
        v = result_u256(b, 1);
        assert_true(u256_eq(&v, &one_token));

        /* The chain moves on; the pinned reads do not. */
        transact(own_url, minter, token, data);
        send_or_fail(own, b);
        v = result_u256(b, 0);
        assert_true(u256_eq(&v, &zero));
        v = result_u256(b, 1);
        assert_true(u256_eq(&v, &one_token));

        rpc_batch_free(b);
        endpoint_pool_free(own);
        anvil_proc_kill(&chain);
}

static void hundred_calls_in_one_round_trip(void **state)
{
        struct fixture *fx = *state;
        const char *url = need(fx->env, "SOURCE_RPC_URL");
        const char *sigil = need(fx->env, "SIGIL_ADDRESS");
        struct rpc_block ready = {NULL, strtoull(need(fx->env, "SOURCE_READY_BLOCK"), NULL, 10)};
        struct rpc_config cfg = {0};
        struct rpc_client *c;
        struct rpc_batch *b = rpc_batch_new();
        struct rpc_client_stats stats;
        struct u256 grant, zero = u256_from_u64(0), v;
        char users[512], holder[64];
        char *user, *save = NULL;
        struct rwerr err;
        int i, nusers = 0;

        cfg.url = url;
        c = rpc_client_new(&cfg, &err);
        assert_non_null(c);
        assert_int_equal(u256_parse_units("10000", 5, 18, &grant, &err), RW_OK);
        snprintf(users, sizeof users, "%s", need(fx->env, "USER_ADDRESSES"));
        for (user = strtok_r(users, ",", &save); user != NULL; user = strtok_r(NULL, ",", &save)) {
                add_balance_of(b, sigil, user, &ready);
                nusers++;
        }
        for (i = nusers; i < 100; i++) {
                snprintf(holder, sizeof holder, "0x%040x", 0x1000 + i);
                add_balance_of(b, sigil, holder, &ready);
        }
        assert_int_equal(rpc_batch_count(b), 100);
        assert_int_equal(rpc_batch_send(c, b, &err), RW_OK);
        rpc_client_stats(c, &stats);
        assert_int_equal(stats.exchanges, 1);
        assert_int_equal(stats.requests, 100);
        for (i = 0; i < 100; i++) {
                v = result_u256(b, (size_t)i);
                assert_true(u256_eq(&v, i < nusers ? &grant : &zero));
        }
        rpc_batch_free(b);
        rpc_client_free(c);
}

static void killed_endpoint_fails_over_and_comes_back(void **state)
{
        struct anvil_proc a, bproc;
        struct endpoint_pool *p;
        struct endpoint_pool_status st;
        struct endpoint_health h;
        struct rwerr err;
        const char *urls[2];
        int i;

        (void)state;
        if (anvil_proc_start(&a, 424242, &err) != RW_OK ||
            anvil_proc_start(&bproc, 424242, &err) != RW_OK)
                fail_msg("%s", err.msg);
        urls[0] = a.url;
        urls[1] = bproc.url;
        p = pool_for(424242, urls, 2, 2000);

        for (i = 0; i < 20; i++) {
                if (i == 5)
                        anvil_proc_kill(&a); /* mid-run */
                block_number(p);
                endpoint_pool_last_status(p, &st);
                assert_int_equal(st.served_by, i < 5 ? 0 : 1);
        }
        /*
         * Refused connections fail over at once; the first endpoint is asked
         * again only as its backoff (0.1 s, 0.2 s) allows, and after the
         * third failure in a row its breaker opens.
         */
        for (i = 0; i < 100; i++) {
                endpoint_pool_health(p, 0, &h);
                if (h.breaker == ENDPOINT_OPEN)
                        break;
                nanosleep(&(struct timespec){0, 50000000L}, NULL);
                block_number(p);
                endpoint_pool_last_status(p, &st);
                assert_int_equal(st.served_by, 1);
                assert_int_equal(st.hedges, 0);
        }
        assert_int_equal(h.breaker, ENDPOINT_OPEN);
        assert_true(h.failures >= 3);

        /* The first endpoint returns; after its rest a probe brings it back. */
        if (anvil_proc_restart(&a, &err) != RW_OK)
                fail_msg("%s", err.msg);
        nanosleep(&(struct timespec){1, 200000000L}, NULL);
        block_number(p);
        endpoint_pool_last_status(p, &st);
        assert_int_equal(st.served_by, 0);
        endpoint_pool_health(p, 0, &h);
        assert_int_equal(h.breaker, ENDPOINT_CLOSED);

        endpoint_pool_free(p);
        anvil_proc_kill(&a);
        anvil_proc_kill(&bproc);
}

static void wrong_chain_endpoint_is_refused(void **state)
{
        struct fixture *fx = *state;
        const char *urls[2] = {need(fx->env, "EXEC_RPC_URL"), need(fx->env, "SOURCE_RPC_URL")};
        struct endpoint_pool *p = pool_for(fx->source_chain_id, urls, 2, 5000);
        struct endpoint_pool_status st;
        struct endpoint_health h;
        struct rpc_batch *b = rpc_batch_new();
        struct rwerr err;
        char want[160];

        block_number(p);
        endpoint_pool_last_status(p, &st);
        assert_int_equal(st.served_by, 1);
        endpoint_pool_health(p, 0, &h);
        assert_int_equal(h.breaker, ENDPOINT_REFUSED);
        snprintf(want, sizeof want,
                 "serves chain id %llu, but this chain is configured with chain id %llu",
                 (unsigned long long)fx->exec_chain_id, (unsigned long long)fx->source_chain_id);
        assert_non_null(strstr(h.last_error, want));
        endpoint_pool_free(p);

        /* With only the wrong endpoint, nothing is read at all. */
        p = pool_for(fx->source_chain_id, urls, 1, 5000);
        assert_int_equal(rpc_batch_add(b, "eth_blockNumber", NULL, &err), 0);
        assert_int_equal(endpoint_pool_send(p, b, &err), RW_ERR_IO);
        assert_non_null(strstr(err.msg, want));
        assert_null(rpc_batch_result(b, 0));
        rpc_batch_free(b);
        endpoint_pool_free(p);
}

static void hung_and_garbage_endpoints_are_cut_off(void **state)
{
        struct fixture *fx = *state;
        struct fake_http *bad = fake_http_start(fx->source_chain_id);
        const char *urls[2];
        struct endpoint_pool *p;
        struct endpoint_pool_status st;
        struct endpoint_health h;
        struct timespec t0, t1;
        double seconds;

        assert_non_null(bad);
        urls[0] = fake_http_url(bad);
        urls[1] = need(fx->env, "SOURCE_RPC_URL");
        p = pool_for(fx->source_chain_id, urls, 2, 1000);
        block_number(p); /* the fake answers eth_chainId and serves */

        /*
         * It accepts and never answers: anvil is asked too after the hedge
         * delay (200 ms after loopback answers) and its answer wins, well
         * before the 1 s timeout.
         */
        fake_http_set(bad, FAKE_HTTP_HANG, 200, NULL);
        clock_gettime(CLOCK_MONOTONIC, &t0);
        block_number(p);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        endpoint_pool_last_status(p, &st);
        assert_int_equal(st.served_by, 1);
        assert_int_equal(st.hedges, 1);
        assert_true(seconds < 1.0); /* it did not wait for the timeout */
        endpoint_pool_health(p, 0, &h);
        assert_non_null(strstr(h.last_error, "did not answer within"));
        /* Asked by name it is cut off by its timeout; the third failure is RPC_TIMEOUT. */
        {
                struct rpc_batch *b = rpc_batch_new();
                struct rwerr err;
                int k;

                assert_int_equal(rpc_batch_add(b, "eth_blockNumber", NULL, &err), 0);
                for (k = 0; k < 2; k++)
                        assert_int_equal(endpoint_pool_send_to(p, 0, b, &err), RW_ERR_TIMEOUT);
                assert_non_null(strstr(err.msg, "no complete reply within 1000 ms"));
                endpoint_pool_last_status(p, &st);
                assert_true(st.rpc_timeout);
                assert_non_null(strstr(st.reason, "failed 3 times in a row"));
                rpc_batch_free(b);
        }
        endpoint_pool_free(p);

        /* Garbage and a truncated body: named, and the real chain serves. */
        fake_http_set(bad, FAKE_HTTP_RPC, 200, NULL);
        p = pool_for(fx->source_chain_id, urls, 2, 1000);
        block_number(p);
        fake_http_set(bad, FAKE_HTTP_REPLY, 200, "{\"jsonrpc\":\"2.0\",\"id\":0,\"resu");
        block_number(p);
        endpoint_pool_health(p, 0, &h);
        assert_non_null(strstr(h.last_error, "reply is not JSON"));
        endpoint_pool_free(p);

        p = pool_for(fx->source_chain_id, urls, 2, 1000);
        fake_http_set(bad, FAKE_HTTP_RPC, 200, NULL);
        block_number(p);
        fake_http_set(bad, FAKE_HTTP_TRUNCATE, 200,
                      "{\"jsonrpc\":\"2.0\",\"id\":0,\"result\":\"0x1\"}");
        block_number(p);
        endpoint_pool_last_status(p, &st);
        assert_int_equal(st.served_by, 1);
        endpoint_pool_health(p, 0, &h);
        assert_non_null(strstr(h.last_error, "reply cut short"));
        endpoint_pool_free(p);
        fake_http_stop(bad);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(reads_pinned_to_a_block_stay_put),
                cmocka_unit_test(hundred_calls_in_one_round_trip),
                cmocka_unit_test(killed_endpoint_fails_over_and_comes_back),
                cmocka_unit_test(wrong_chain_endpoint_is_refused),
                cmocka_unit_test(hung_and_garbage_endpoints_are_cut_off),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
