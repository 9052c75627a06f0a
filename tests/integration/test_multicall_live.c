/*
 * test_multicall_live: on the shared stack's source chain, the per-asset
 * and per-batch reads give the same values through Multicall3's aggregate3
 * as through one eth_call each, at the same block, and a Multicall3 that is
 * absent or a read that fails inside an aggregate ends exactly as the
 * single calls do.
 *
 * The assets are ASSETS copies of the stack's token contract placed at
 * fresh addresses (anvil_setCode), each with its own lockbox balance
 * (anvil_setStorageAt on the balances mapping), so a value read into the
 * wrong asset's slot cannot pass; the batches are the ledger's batch
 * numbers 0..BATCHES-1, anchored or not.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "abi.h"
#include "config.h"
#include "endpoint_pool.h"
#include "hex.h"
#include "keccak.h"
#include "multicall.h"
#include "observe_chain.h"
#include "rpc.h"
#include "rwerr.h"
#include "snapshot.h"
#include "stack_env.h"
#include "test_rpc.h"

#define ASSETS 1203 /* three aggregates, the last one partial */
#define BATCHES 40
#define NO_CODE "0x00000000000000000000000000000000000dead1"

struct fixture {
        char source_url[256];
        struct config *cfg;
        struct endpoint_pool *pool;
        uint8_t tokens[ASSETS][ABI_ADDRESS_BYTES];
        uint64_t head;
};

static struct fixture fx;

static void must(int rc, const struct rwerr *err)
{
        if (rc != RW_OK)
                fail_msg("%s", err->msg);
}

static char *rpc(const char *method, const char *params)
{
        struct rwerr err;
        char *out = test_rpc_call(fx.source_url, method, params, &err);

        if (out == NULL)
                fail_msg("%s: %s", method, err.msg);
        return out;
}

/* The slot of balances[holder] of an OpenZeppelin ERC20 (the mapping is slot 0). */
static void balance_slot(const uint8_t holder[ABI_ADDRESS_BYTES], char out[67])
{
        uint8_t key[64] = {0}, slot[32];

        memcpy(key + 12, holder, ABI_ADDRESS_BYTES);
        keccak256(key, sizeof key, slot);
        (void)hex_encode(slot, sizeof slot, out, 67);
}

/* ASSETS copies of the stack's token with lockbox balances 1000 + 7i. */
static void place_tokens(const char *token, const uint8_t lockbox[ABI_ADDRESS_BYTES])
{
        char params[512], slot[67], addr[ABI_ADDRESS_TEXT_SIZE];
        char *code, *big;
        size_t i;

        (void)snprintf(params, sizeof params, "[\"%s\",\"latest\"]", token);
        code = rpc("eth_getCode", params);
        balance_slot(lockbox, slot);
        big = malloc(strlen(code) + 128);
        assert_non_null(big);
        for (i = 0; i < ASSETS; i++) {
                memset(fx.tokens[i], 0, ABI_ADDRESS_BYTES);
                fx.tokens[i][0] = 0x7e;
                fx.tokens[i][18] = (uint8_t)(i >> 8);
                fx.tokens[i][19] = (uint8_t)i;
                abi_address_format(fx.tokens[i], addr);
                (void)snprintf(big, strlen(code) + 128, "[\"%s\",\"%s\"]", addr, code);
                free(rpc("anvil_setCode", big));
                (void)snprintf(params, sizeof params, "[\"%s\",\"%s\",\"0x%064zx\"]", addr, slot,
                               1000 + 7 * i);
                free(rpc("anvil_setStorageAt", params));
        }
        free(big);
        free(code);
        free(rpc("evm_mine", "[]"));
}

static int setup(void **state)
{
        char path[512], token[64];
        struct rpc_config rc = {0};
        struct endpoint_pool_config pc;
        struct rwerr err;
        uint8_t tok[ABI_ADDRESS_BYTES];
        char *head;

        (void)state;
        must(stack_env_copy("SOURCE_RPC_URL", fx.source_url, sizeof fx.source_url, &err), &err);
        must(stack_env_copy("RELAYWATCH_CONFIG", path, sizeof path, &err), &err);
        must(stack_env_copy("SIGIL_ADDRESS", token, sizeof token, &err), &err);
        must(abi_address_parse(token, strlen(token), tok, &err), &err);
        fx.cfg = config_load(path, stderr, &err);
        if (fx.cfg == NULL) {
                print_error("%s\n", err.msg);
                return -1;
        }
        place_tokens(token, fx.cfg->chains[SNAP_SOURCE].lockbox);
        rc.url = fx.cfg->chains[SNAP_SOURCE].endpoints[0];
        rc.name = "source[0]";
        rc.timeout_ms = 10000;
        memset(&pc, 0, sizeof pc);
        pc.chain = "source";
        pc.chain_id = fx.cfg->chains[SNAP_SOURCE].chain_id;
        pc.endpoints = &rc;
        pc.n = 1;
        if ((fx.pool = endpoint_pool_new(&pc, &err)) == NULL)
                fail_msg("%s", err.msg);
        head = rpc("eth_blockNumber", "[]");
        must(rpc_quantity_u64(head, &fx.head, &err), &err);
        free(head);
        return 0;
}

static int teardown(void **state)
{
        (void)state;
        endpoint_pool_free(fx.pool);
        config_free(fx.cfg);
        return 0;
}

/* A source snapshot at pinned = head - 1 and tip = head, with the fixture's assets and batches. */
static void snapshot_for(struct snapshot *s, const uint8_t (*tokens)[ABI_ADDRESS_BYTES])
{
        size_t i;

        memset(s, 0, sizeof *s);
        assert_int_equal(snapshot_alloc_assets_accounts(s, ASSETS, 0), RW_OK);
        for (i = 0; i < ASSETS; i++) {
                (void)snprintf(s->assets[i].name, sizeof s->assets[i].name, "A%zu", i);
                memcpy(s->assets[i].source_token, tokens[i], ABI_ADDRESS_BYTES);
        }
        s->ledger.batches = calloc(BATCHES, sizeof *s->ledger.batches);
        assert_non_null(s->ledger.batches);
        for (i = 0; i < BATCHES; i++)
                s->ledger.batches[i].batch_number = i;
        s->ledger.nbatches = BATCHES;
        s->chains[SNAP_SOURCE].pinned = fx.head - 1;
        s->chains[SNAP_SOURCE].tip = fx.head;
        /* no anchors to read: the view's logs are not what this test compares */
        s->chains[SNAP_SOURCE].anchors_from = fx.head - 1;
        s->chains[SNAP_SOURCE].anchors_to = fx.head - 1;
        assert_int_equal(snapshot_alloc_view(s, SNAP_SOURCE, &s->chains[SNAP_SOURCE].views[0]),
                         RW_OK);
        s->chains[SNAP_SOURCE].nviews = 1;
}

/* Reads the view; returns the rc (the view keeps the error). */
static int read_view(struct snapshot *s, struct multicall_memo *memo)
{
        struct rwerr err = {{0}};

        return observe_chain_view(fx.pool, 0, fx.cfg, SNAP_SOURCE, s,
                                  &s->chains[SNAP_SOURCE].views[0], memo, &err);
}

static void assert_same_reads(const struct snap_view *a, const struct snap_view *b)
{
        size_t i;

        for (i = 0; i < ASSETS; i++) {
                assert_memory_equal(&a->token_values[i], &b->token_values[i],
                                    sizeof a->token_values[i]);
                assert_memory_equal(&a->tip_values[i], &b->tip_values[i], sizeof a->tip_values[i]);
        }
        assert_memory_equal(a->anchored_roots, b->anchored_roots, (size_t)BATCHES * 32);
}

static void aggregate_reads_equal_single_calls(void **state)
{
        struct snapshot multi, single;
        struct multicall_memo memo = {0, ""};
        struct u256 want;
        size_t i, anchored = 0;
        static const uint8_t zero[32];

        (void)state;
        snapshot_for(&multi, (const uint8_t(*)[ABI_ADDRESS_BYTES])fx.tokens);
        snapshot_for(&single, (const uint8_t(*)[ABI_ADDRESS_BYTES])fx.tokens);
        assert_int_equal(read_view(&multi, &memo), RW_OK);
        assert_int_equal(read_view(&single, NULL), RW_OK);
        /* three aggregates per height (1203 reads) and one for the roots; nothing again */
        assert_int_equal(multi.chains[SNAP_SOURCE].views[0].multicall_calls, 3 + 3 + 1);
        assert_int_equal(multi.chains[SNAP_SOURCE].views[0].multicall_fallbacks, 0);
        assert_int_equal(single.chains[SNAP_SOURCE].views[0].multicall_calls, 0);
        assert_int_equal(memo.retry_ms, 0);
        assert_same_reads(&multi.chains[SNAP_SOURCE].views[0],
                          &single.chains[SNAP_SOURCE].views[0]);
        for (i = 0; i < ASSETS; i++) {
                want = u256_from_u64(1000 + 7 * i);
                assert_memory_equal(&multi.chains[SNAP_SOURCE].views[0].token_values[i], &want,
                                    sizeof want);
        }
        for (i = 0; i < BATCHES; i++)
                anchored +=
                        memcmp(multi.chains[SNAP_SOURCE].views[0].anchored_roots[i], zero, 32) != 0;
        print_message("%zu of %d batches anchored on the stack\n", anchored, BATCHES);
        snapshot_free(&multi);
        snapshot_free(&single);
}

/* A read that fails inside an aggregate is made again alone and fails in the same words. */
static void failing_read_fails_the_same(void **state)
{
        uint8_t(*tokens)[ABI_ADDRESS_BYTES] = malloc(sizeof fx.tokens);
        struct snapshot multi, single;
        struct multicall_memo memo = {0, ""};
        struct rwerr err;
        size_t k;

        (void)state;
        assert_non_null(tokens);
        for (k = 0; k < 2; k++) {
                memcpy(tokens, fx.tokens, sizeof fx.tokens);
                if (k == 0) /* no contract there: an empty result */
                        must(abi_address_parse(NO_CODE, strlen(NO_CODE), tokens[700], &err), &err);
                else /* a contract without balanceOf: the call reverts */
                        memcpy(tokens[700], fx.cfg->chains[SNAP_SOURCE].root_registry,
                               ABI_ADDRESS_BYTES);
                snapshot_for(&multi, (const uint8_t(*)[ABI_ADDRESS_BYTES])tokens);
                snapshot_for(&single, (const uint8_t(*)[ABI_ADDRESS_BYTES])tokens);
                assert_int_not_equal(read_view(&multi, &memo), RW_OK);
                assert_int_not_equal(read_view(&single, NULL), RW_OK);
                print_message("%s\n", single.chains[SNAP_SOURCE].views[0].error);
                assert_string_equal(multi.chains[SNAP_SOURCE].views[0].error,
                                    single.chains[SNAP_SOURCE].views[0].error);
                assert_non_null(strstr(single.chains[SNAP_SOURCE].views[0].error, "A700"));
                assert_true(multi.chains[SNAP_SOURCE].views[0].multicall_fallbacks >= 1);
                assert_int_equal(memo.retry_ms, 0); /* the aggregate itself worked */
                snapshot_free(&multi);
                snapshot_free(&single);
        }
        free(tokens);
}

/* No Multicall3 at the configured address: single calls, now and until the retry time. */
static void absent_multicall_falls_back(void **state)
{
        uint8_t saved[ABI_ADDRESS_BYTES];
        struct snapshot first, second, single;
        struct multicall_memo memo = {0, ""};
        struct rwerr err;

        (void)state;
        memcpy(saved, fx.cfg->chains[SNAP_SOURCE].multicall3, sizeof saved);
        must(abi_address_parse(NO_CODE, strlen(NO_CODE), fx.cfg->chains[SNAP_SOURCE].multicall3,
                               &err),
             &err);
        snapshot_for(&first, (const uint8_t(*)[ABI_ADDRESS_BYTES])fx.tokens);
        snapshot_for(&second, (const uint8_t(*)[ABI_ADDRESS_BYTES])fx.tokens);
        snapshot_for(&single, (const uint8_t(*)[ABI_ADDRESS_BYTES])fx.tokens);
        assert_int_equal(read_view(&first, &memo), RW_OK);
        assert_int_not_equal(memo.retry_ms, 0);
        print_message("%s\n", memo.problem);
        assert_non_null(strstr(memo.problem, "no Multicall3 contract"));
        assert_int_equal(first.chains[SNAP_SOURCE].views[0].multicall_calls, 0);
        assert_int_equal(read_view(&second, &memo), RW_OK);
        assert_int_equal(second.chains[SNAP_SOURCE].views[0].multicall_fallbacks, 0);
        assert_int_equal(read_view(&single, NULL), RW_OK);
        assert_same_reads(&first.chains[SNAP_SOURCE].views[0],
                          &single.chains[SNAP_SOURCE].views[0]);
        assert_same_reads(&second.chains[SNAP_SOURCE].views[0],
                          &single.chains[SNAP_SOURCE].views[0]);
        memcpy(fx.cfg->chains[SNAP_SOURCE].multicall3, saved, sizeof saved);
        snapshot_free(&first);
        snapshot_free(&second);
        snapshot_free(&single);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(aggregate_reads_equal_single_calls),
                cmocka_unit_test(failing_read_fails_the_same),
                cmocka_unit_test(absent_multicall_falls_back),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
