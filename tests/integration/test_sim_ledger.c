/*
 * The stack's relayer simulator keeps a true ledger: while it moves real
 * deposits, mints, burns, batches and releases, the ledger read through the
 * contract (as the watchdog's role, in one snapshot, at the heights it has
 * indexed) agrees with both chains read at those same heights: locked total
 * == Lockbox balance, minted total == bSIGIL totalSupply, every anchored
 * root is the registry's, every proof verifies against it, every batch is
 * signed by the relayer. Checked again and again until traffic of every
 * kind has been seen.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "abi.h"
#include "dbconn.h"
#include "endpoint_pool.h"
#include "ledger.h"
#include "merkle.h"
#include "rpc.h"
#include "rwerr.h"
#include "sig.h"
#include "stack_env.h"
#include "u256.h"

#define DEADLINE_S 150

static const char *need(const struct stack_env *env, const char *key)
{
        const char *v = stack_env_get(env, key);

        if (v == NULL || v[0] == '\0')
                fail_msg("stack.env has no %s", key);
        return v;
}

static struct endpoint_pool *pool(const struct stack_env *env, const char *url_key,
                                  const char *id_key)
{
        struct rpc_config ep = {0};
        struct endpoint_pool_config cfg = {0};
        struct endpoint_pool *p;
        struct rwerr err;

        ep.url = need(env, url_key);
        cfg.chain = url_key;
        cfg.chain_id = strtoull(need(env, id_key), NULL, 10);
        cfg.endpoints = &ep;
        cfg.n = 1;
        p = endpoint_pool_new(&cfg, &err);
        if (p == NULL)
                fail_msg("%s", err.msg);
        return p;
}

/* One uint256 view call at a block: balanceOf(holder) when holder is set, else `signature`. */
static struct u256 read_uint(struct endpoint_pool *p, const char *to, const char *signature,
                             const char *holder, uint64_t block)
{
        struct rpc_block at = {NULL, block};
        struct rpc_batch *b = rpc_batch_new();
        char data[ABI_CALL_HEX_SIZE];
        uint8_t addr[ABI_ADDRESS_BYTES];
        struct abi_call call;
        const char *hex;
        struct rwerr err;
        struct u256 v;

        abi_call_init(&call, signature);
        if (holder != NULL) {
                assert_int_equal(abi_address_parse(holder, strlen(holder), addr, &err), RW_OK);
                assert_int_equal(abi_call_add_address(&call, addr), RW_OK);
        }
        assert_true(abi_call_hex(&call, data, sizeof data) > 0);
        assert_true(rpc_batch_add(b, "eth_call", rpc_params_eth_call(to, data, &at), &err) >= 0);
        if (endpoint_pool_send(p, b, &err) != RW_OK || rpc_batch_hex(b, 0, &hex, &err) != RW_OK ||
            abi_decode_uint256(hex, strlen(hex), &v, &err) != RW_OK)
                fail_msg("%s at block %llu: %s", signature, (unsigned long long)block, err.msg);
        rpc_batch_free(b);
        return v;
}

static void registry_root(struct endpoint_pool *p, const char *registry, uint64_t batch,
                          uint8_t out[32])
{
        struct rpc_block latest = {"latest", 0};
        struct rpc_batch *b = rpc_batch_new();
        char data[ABI_CALL_HEX_SIZE];
        struct abi_call call;
        const char *hex;
        struct rwerr err;

        abi_call_init(&call, "roots(uint256)");
        assert_int_equal(abi_call_add_u64(&call, batch), RW_OK);
        assert_true(abi_call_hex(&call, data, sizeof data) > 0);
        assert_true(rpc_batch_add(b, "eth_call", rpc_params_eth_call(registry, data, &latest),
                                  &err) >= 0);
        if (endpoint_pool_send(p, b, &err) != RW_OK || rpc_batch_hex(b, 0, &hex, &err) != RW_OK ||
            abi_decode_bytes32(hex, strlen(hex), out, &err) != RW_OK)
                fail_msg("roots(%llu): %s", (unsigned long long)batch, err.msg);
        rpc_batch_free(b);
}

static void assert_same(const char *what, const struct u256 *ledger, const struct u256 *chain,
                        uint64_t block)
{
        char a[U256_DEC_SIZE], b[U256_DEC_SIZE];

        if (!u256_eq(ledger, chain)) {
                u256_format_dec(ledger, a, sizeof a);
                u256_format_dec(chain, b, sizeof b);
                fail_msg("%s at block %llu: ledger %s, chain %s", what, (unsigned long long)block,
                         a, b);
        }
}

/* Checks every anchored batch; returns how many there were. */
static size_t check_batches(struct dbconn *c, struct endpoint_pool *src,
                            const struct stack_env *env)
{
        struct ledger_batches batches;
        struct ledger_withdrawals w;
        uint8_t relayer[20], signer[20], root[32], leaf[32], id[32], amount[32];
        const char *relayer_hex = need(env, "RELAYER_ADDRESS");
        struct rwerr err;
        size_t i, anchored = 0;
        uint64_t last = 0;

        assert_int_equal(abi_address_parse(relayer_hex, strlen(relayer_hex), relayer, &err), RW_OK);
        assert_int_equal(ledger_batches_after(c, 0, 100000, &batches, &err), RW_OK);
        for (i = 0; i < batches.n; i++) {
                const struct ledger_batch *b = &batches.rows[i];

                if (sig_recover_personal(b->merkle_root, 32, b->relayer_signature, signer, &err) !=
                    RW_OK)
                        fail_msg("batch %llu signature: %s", (unsigned long long)b->batch_number,
                                 err.msg);
                assert_memory_equal(signer, relayer, 20);
                if (!b->anchored)
                        continue;
                anchored++;
                last = b->batch_number;
                registry_root(src, need(env, "ROOT_REGISTRY_ADDRESS"), b->batch_number, root);
                assert_memory_equal(root, b->merkle_root, 32);
        }
        assert_int_equal(ledger_withdrawals_in_batches(c, 0, last, &w, &err), RW_OK);
        for (i = 0; i < w.n; i++) {
                const struct ledger_withdrawal *x = &w.rows[i];
                struct u256 wid = u256_from_u64(x->withdrawal_id);
                size_t k;

                u256_to_be32(&wid, id);
                u256_to_be32(&x->amount, amount);
                merkle_withdrawal_leaf(id, x->token, x->recipient, amount, leaf);
                for (k = 0; k < batches.n; k++) {
                        if (batches.rows[k].batch_number == x->batch_number)
                                break;
                }
                assert_true(k < batches.n);
                if (!merkle_verify(leaf, (const uint8_t(*)[32])x->proof, x->proof_len,
                                   batches.rows[k].merkle_root))
                        fail_msg("withdrawal %llu: proof does not verify against batch %llu",
                                 (unsigned long long)x->withdrawal_id,
                                 (unsigned long long)x->batch_number);
        }
        ledger_withdrawals_free(&w);
        ledger_batches_free(&batches);
        return anchored;
}

static void simulated_ledger_agrees_with_both_chains(void **state)
{
        const struct stack_env *env = *state;
        struct endpoint_pool *src = pool(env, "SOURCE_RPC_URL", "SOURCE_CHAIN_ID");
        struct endpoint_pool *exec = pool(env, "EXEC_RPC_URL", "EXEC_CHAIN_ID");
        struct dbconn_config cfg = {0};
        struct dbconn *c;
        struct rwerr err;
        time_t deadline = time(NULL) + DEADLINE_S;
        int checks = 0, saw_release = 0, saw_burn = 0;
        size_t anchored = 0;

        cfg.conninfo = need(env, "DATABASE_URL");
        cfg.name = "ledger";
        cfg.statements = ledger_statements;
        cfg.nstatements = ledger_nstatements;
        c = dbconn_new(&cfg, &err);
        if (c == NULL || dbconn_ensure(c, &err) != RW_OK)
                fail_msg("%s", err.msg);

        while (time(NULL) < deadline && !(saw_release && saw_burn && anchored > 0)) {
                struct ledger_progress_list p;
                struct ledger_totals locked = {0, NULL}, minted = {0, NULL};
                uint64_t sb = 0, eb = 0;
                struct u256 ledger_total, chain_total;
                size_t i;

                assert_int_equal(ledger_snapshot_begin(c, &err), RW_OK);
                assert_int_equal(ledger_indexed_through(c, &p, &err), RW_OK);
                for (i = 0; i < p.n; i++) {
                        if (strcmp(p.rows[i].role, "source") == 0)
                                sb = p.rows[i].indexed_through;
                        else
                                eb = p.rows[i].indexed_through;
                }
                ledger_progress_free(&p);
                if (sb == 0 || eb == 0) {
                        assert_int_equal(ledger_snapshot_end(c, &err), RW_OK);
                        nanosleep(&(struct timespec){1, 0}, NULL);
                        continue;
                }
                if (ledger_totals_in_range(c, LEDGER_LOCKED, -1, sb, &locked, &err) != RW_OK ||
                    ledger_totals_in_range(c, LEDGER_MINTED, -1, eb, &minted, &err) != RW_OK)
                        fail_msg("%s", err.msg);
                anchored = check_batches(c, src, env);
                assert_int_equal(ledger_snapshot_end(c, &err), RW_OK);

                if (locked.n != 1 || minted.n != 1 || locked.rows == NULL || minted.rows == NULL) {
                        fail_msg("expected one asset on each side, got %zu and %zu", locked.n,
                                 minted.n);
                        return;
                }
                assert_string_equal(locked.rows[0].asset, "SIGIL");
                assert_int_equal(
                        u256_sub(&locked.rows[0].credited, &locked.rows[0].debited, &ledger_total),
                        RW_OK);
                chain_total = read_uint(src, need(env, "SIGIL_ADDRESS"), "balanceOf(address)",
                                        need(env, "LOCKBOX_ADDRESS"), sb);
                assert_same("locked total vs Lockbox balance", &ledger_total, &chain_total, sb);
                assert_int_equal(
                        u256_sub(&minted.rows[0].credited, &minted.rows[0].debited, &ledger_total),
                        RW_OK);
                chain_total = read_uint(exec, need(env, "BRIDGED_SIGIL_ADDRESS"), "totalSupply()",
                                        NULL, eb);
                assert_same("minted total vs bSIGIL totalSupply", &ledger_total, &chain_total, eb);
                saw_release |= !u256_is_zero(&locked.rows[0].debited);
                saw_burn |= !u256_is_zero(&minted.rows[0].debited);
                ledger_totals_free(&locked);
                ledger_totals_free(&minted);
                checks++;
                nanosleep(&(struct timespec){2, 0}, NULL);
        }
        fprintf(stderr, "ledger and chains agreed in %d checks; %zu batches anchored\n", checks,
                anchored);
        assert_true(saw_burn);
        assert_true(saw_release);
        assert_true(anchored > 0);
        dbconn_free(c);
        endpoint_pool_free(src);
        endpoint_pool_free(exec);
}

static int setup(void **state)
{
        const char *path = getenv("RELAYWATCH_STACK_ENV");
        struct rwerr err;
        struct stack_env *env;

        if (path == NULL || (env = stack_env_load(path, &err)) == NULL) {
                fprintf(stderr, "RELAYWATCH_STACK_ENV: %s\n", path ? err.msg : "not set");
                return -1;
        }
        if (strcmp(stack_env_get(env, "RELAYER_SIMULATOR") ? stack_env_get(env, "RELAYER_SIMULATOR")
                                                           : "0",
                   "1") != 0) {
                fprintf(stderr, "this stack runs no relayer simulator\n");
                stack_env_free(env);
                return -1;
        }
        *state = env;
        return 0;
}

static int teardown(void **state)
{
        stack_env_free(*state);
        return 0;
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(simulated_ledger_agrees_with_both_chains),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
