/*
 * The local bridge stack, checked from the outside over real connections:
 * both anvil chains answer with their own chain ids, the contracts are
 * deployed and hold the state scripts/lib/deploy-contracts.mjs promises,
 * PostgreSQL serves the ledger database on loopback, and Redis answers and
 * insists on its password.
 *
 * Reads the stack from $RELAYWATCH_STACK_ENV (ctest sets it; the "stack_up"
 * fixture writes it).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>
#include <hiredis/hiredis.h>
#include <libpq-fe.h>

#include "hex.h"
#include "rwerr.h"
#include "stack_env.h"
#include "test_rpc.h"

/* Selectors: the first four bytes of keccak256 of each signature. */
#define SEL_TOTAL_SUPPLY "0x18160ddd"
#define SEL_BALANCE_OF "0x70a08231"
#define SEL_DECIMALS "0x313ce567"
#define SEL_RELAYER "0x8406c079"
#define SEL_MINTER "0x07546172"
#define SEL_REGISTRY "0x7b103999"

/* 10^24 (1,000,000 SIGIL), 10^22 (10,000 SIGIL) and 18 as ABI words. */
#define WORD_1E24 "0x00000000000000000000000000000000000000000000d3c21bcecceda1000000"
#define WORD_1E22 "0x00000000000000000000000000000000000000000000021e19e0c9bab2400000"
#define WORD_18 "0x0000000000000000000000000000000000000000000000000000000000000012"
#define WORD_0 "0x0000000000000000000000000000000000000000000000000000000000000000"

static const char *need(const struct stack_env *env, const char *key)
{
        const char *v = stack_env_get(env, key);

        if (v == NULL || v[0] == '\0')
                fail_msg("stack.env has no %s", key);
        return v;
}

static int setup(void **state)
{
        const char *path = getenv("RELAYWATCH_STACK_ENV");
        struct rwerr err;
        struct stack_env *env;

        if (path == NULL) {
                fprintf(stderr, "RELAYWATCH_STACK_ENV is not set: run through ctest, "
                                "or scripts/stack-up DIR and point it at DIR/stack.env\n");
                return -1;
        }
        env = stack_env_load(path, &err);
        if (env == NULL) {
                fprintf(stderr, "%s\n", err.msg);
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

static char *rpc(const char *url, const char *method, const char *params)
{
        struct rwerr err;
        char *res = test_rpc_call(url, method, params, &err);

        if (res == NULL)
                fail_msg("%s", err.msg);
        return res;
}

/*
 * eth_call of a no-argument or one-address-argument view function, at the
 * block where the deployment's state holds (later traffic changes "latest").
 */
static char *call_view(const char *url, const char *block, const char *to, const char *selector,
                       const char *address_arg)
{
        char data[80];
        struct rwerr err;
        char *res;

        if (address_arg != NULL)
                snprintf(data, sizeof data, "%s000000000000000000000000%s", selector,
                         address_arg + 2);
        else
                snprintf(data, sizeof data, "%s", selector);
        res = test_rpc_eth_call(url, to, data, block, &err);
        if (res == NULL)
                fail_msg("%s", err.msg);
        return res;
}

static void assert_word(char *got, const char *want)
{
        uint8_t word[32];
        struct rwerr err;

        if (hex_decode(got, strlen(got), word, sizeof word, &err) != 0)
                fail_msg("eth_call result %s is not one ABI word: %s", got, err.msg);
        if (strcasecmp(got, want) != 0)
                fail_msg("eth_call returned %s, expected %s", got, want);
        free(got);
}

static void assert_address_word(char *got, const char *address)
{
        char want[67];

        snprintf(want, sizeof want, "0x000000000000000000000000%s", address + 2);
        assert_word(got, want);
}

static void assert_chain_id(const char *url, const char *want_decimal)
{
        char *got = rpc(url, "eth_chainId", "[]");

        assert_int_equal(strtoull(got, NULL, 16), strtoull(want_decimal, NULL, 10));
        free(got);
}

static void chains_answer_with_distinct_ids(void **state)
{
        const struct stack_env *env = *state;
        const char *src = need(env, "SOURCE_CHAIN_ID");
        const char *exec = need(env, "EXEC_CHAIN_ID");

        assert_string_not_equal(src, exec);
        assert_string_not_equal(need(env, "SOURCE_RPC_URL"), need(env, "EXEC_RPC_URL"));
        assert_chain_id(need(env, "SOURCE_RPC_URL"), src);
        assert_chain_id(need(env, "EXEC_RPC_URL"), exec);
}

static void assert_has_code(const char *url, const char *address)
{
        char params[128];
        char *code;

        snprintf(params, sizeof params, "[\"%s\",\"latest\"]", address);
        code = rpc(url, "eth_getCode", params);
        if (strlen(code) <= 2)
                fail_msg("no contract code at %s", address);
        free(code);
}

static void contracts_are_deployed(void **state)
{
        const struct stack_env *env = *state;
        const char *src = need(env, "SOURCE_RPC_URL");
        const char *exec = need(env, "EXEC_RPC_URL");

        assert_has_code(src, need(env, "SIGIL_ADDRESS"));
        assert_has_code(src, need(env, "LOCKBOX_ADDRESS"));
        assert_has_code(src, need(env, "ROOT_REGISTRY_ADDRESS"));
        assert_has_code(exec, need(env, "BRIDGED_SIGIL_ADDRESS"));
}

static void tokens_hold_the_initial_state(void **state)
{
        const struct stack_env *env = *state;
        const char *src = need(env, "SOURCE_RPC_URL");
        const char *exec = need(env, "EXEC_RPC_URL");
        const char *src_at = need(env, "SOURCE_READY_BLOCK");
        const char *exec_at = need(env, "EXEC_READY_BLOCK");
        const char *sigil = need(env, "SIGIL_ADDRESS");
        const char *bridged = need(env, "BRIDGED_SIGIL_ADDRESS");
        char users[512];
        char *user, *save = NULL;
        int nusers = 0;

        assert_string_equal(need(env, "SIGIL_INITIAL_SUPPLY"), "1000000000000000000000000");
        assert_string_equal(need(env, "SIGIL_DECIMALS"), "18");
        assert_word(call_view(src, src_at, sigil, SEL_TOTAL_SUPPLY, NULL), WORD_1E24);
        assert_word(call_view(src, src_at, sigil, SEL_DECIMALS, NULL), WORD_18);
        assert_word(call_view(exec, exec_at, bridged, SEL_DECIMALS, NULL), WORD_18);
        /* Nothing is locked or minted until the relayer simulator runs. */
        assert_word(call_view(src, src_at, sigil, SEL_BALANCE_OF, need(env, "LOCKBOX_ADDRESS")),
                    WORD_0);
        assert_word(call_view(exec, exec_at, bridged, SEL_TOTAL_SUPPLY, NULL), WORD_0);

        snprintf(users, sizeof users, "%s", need(env, "USER_ADDRESSES"));
        for (user = strtok_r(users, ",", &save); user != NULL; user = strtok_r(NULL, ",", &save)) {
                assert_word(call_view(src, src_at, sigil, SEL_BALANCE_OF, user), WORD_1E22);
                nusers++;
        }
        assert_int_equal(nusers, 3);
}

static void roles_point_at_the_relayer(void **state)
{
        const struct stack_env *env = *state;
        const char *src = need(env, "SOURCE_RPC_URL");
        const char *exec = need(env, "EXEC_RPC_URL");
        const char *src_at = need(env, "SOURCE_READY_BLOCK");
        const char *exec_at = need(env, "EXEC_READY_BLOCK");
        const char *relayer = need(env, "RELAYER_ADDRESS");

        assert_string_not_equal(relayer, need(env, "DEPLOYER_ADDRESS"));
        assert_address_word(
                call_view(src, src_at, need(env, "ROOT_REGISTRY_ADDRESS"), SEL_RELAYER, NULL),
                relayer);
        assert_address_word(
                call_view(exec, exec_at, need(env, "BRIDGED_SIGIL_ADDRESS"), SEL_MINTER, NULL),
                relayer);
        assert_address_word(
                call_view(src, src_at, need(env, "LOCKBOX_ADDRESS"), SEL_REGISTRY, NULL),
                need(env, "ROOT_REGISTRY_ADDRESS"));
}

static void postgres_serves_the_ledger_on_loopback(void **state)
{
        const struct stack_env *env = *state;
        PGconn *conn = PQconnectdb(need(env, "DATABASE_URL"));
        PGresult *res;

        if (PQstatus(conn) != CONNECTION_OK)
                fail_msg("PostgreSQL: %s", PQerrorMessage(conn));
        res = PQexec(conn, "SELECT current_database(), inet_server_addr()::text, "
                           "current_setting('server_version_num')::int");
        assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
        assert_string_equal(PQgetvalue(res, 0, 0), "bridge");
        assert_string_equal(PQgetvalue(res, 0, 1), "127.0.0.1/32");
        assert_true(strtol(PQgetvalue(res, 0, 2), NULL, 10) >= 150000);
        PQclear(res);
        PQfinish(conn);
}

static void redis_answers_and_requires_its_password(void **state)
{
        const struct stack_env *env = *state;
        struct timeval tv = {5, 0};
        redisContext *c = redisConnectWithTimeout(
                need(env, "REDIS_HOST"), (int)strtol(need(env, "REDIS_PORT"), NULL, 10), tv);
        redisReply *r;

        assert_non_null(c);
        if (c->err)
                fail_msg("Redis: %s", c->errstr);
        r = redisCommand(c, "PING");
        assert_non_null(r);
        assert_int_equal(r->type, REDIS_REPLY_ERROR);
        assert_non_null(strstr(r->str, "NOAUTH"));
        freeReplyObject(r);
        r = redisCommand(c, "AUTH %s", need(env, "REDIS_PASSWORD"));
        assert_non_null(r);
        assert_int_equal(r->type, REDIS_REPLY_STATUS);
        freeReplyObject(r);
        r = redisCommand(c, "PING");
        assert_non_null(r);
        assert_int_equal(r->type, REDIS_REPLY_STATUS);
        assert_string_equal(r->str, "PONG");
        freeReplyObject(r);
        redisFree(c);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(chains_answer_with_distinct_ids),
                cmocka_unit_test(contracts_are_deployed),
                cmocka_unit_test(tokens_hold_the_initial_state),
                cmocka_unit_test(roles_point_at_the_relayer),
                cmocka_unit_test(postgres_serves_the_ledger_on_loopback),
                cmocka_unit_test(redis_answers_and_requires_its_password),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
