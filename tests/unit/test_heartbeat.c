/*
 * Unit tests for watchdog/heartbeat: the exact msg text, and everything a
 * relayer must refuse (altered bytes, a foreign key, a key_id that names
 * another key, a stale or future heartbeat, an oversized msg, a msg that is
 * not a heartbeat). Keys are made in memory with libsodium.
 * heartbeat_publish is exercised on the real Redis by test_control_consumer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "control_msg.h"
#include "heartbeat.h"
#include "rwerr.h"
#include "signing_key.h"

#define NOW 1795000000123LL /* 2026-11-18T11:06:40.123Z */
#define TTL 30000LL

struct keys {
        struct signing_key a, b;
        struct verify_key both[2]; /* b, a: a verifies at index 1 */
};

static void new_key(struct signing_key *k)
{
        unsigned char pk[SIGNING_KEY_PUBLIC_BYTES];

        assert_int_equal(crypto_sign_keypair(pk, k->sk), 0);
        verify_key_from_bytes(pk, &k->pub);
}

static int setup(void **state)
{
        struct keys *k = calloc(1, sizeof *k);

        if (k == NULL || sodium_init() < 0) {
                free(k);
                return -1;
        }
        new_key(&k->a);
        new_key(&k->b);
        k->both[0] = k->b.pub;
        k->both[1] = k->a.pub;
        *state = k;
        return 0;
}

static int teardown(void **state)
{
        struct keys *k = *state;

        sodium_memzero(k, sizeof *k);
        free(k);
        return 0;
}

/* Signs text with `key` into sig. */
static void sign(const struct signing_key *key, const char *text, size_t len,
                 char sig[CONTROL_SIG_B64_SIZE])
{
        struct rwerr err;

        assert_int_equal(control_msg_sign(key, text, len, sig, &err), RW_OK);
}

/* A heartbeat from watchdog "wd-1" issued at NOW, naming key_id, signed by `key`. */
static size_t signed_heartbeat(const struct signing_key *key, const char *key_id,
                               char msg[HEARTBEAT_MSG_MAX + 1], char sig[CONTROL_SIG_B64_SIZE])
{
        struct rwerr err;
        size_t len = 0;

        assert_int_equal(
                heartbeat_build("wd-1", NOW, TTL, key_id, msg, HEARTBEAT_MSG_MAX + 1, &len, &err),
                RW_OK);
        sign(key, msg, len, sig);
        return len;
}

static void build_writes_the_documented_text_and_checks_back(void **state)
{
        struct keys *k = *state;
        char msg[HEARTBEAT_MSG_MAX + 1], sig[CONTROL_SIG_B64_SIZE], want[256];
        int64_t issued = -1, ttl = -1;
        struct rwerr err;
        size_t len = signed_heartbeat(&k->a, k->a.pub.key_id, msg, sig);

        (void)snprintf(want, sizeof want,
                       "{\"v\":1,\"type\":\"HEARTBEAT\",\"watchdog_id\":\"wd-1\","
                       "\"issued_at\":\"2026-11-18T11:06:40.123Z\",\"issued_at_ms\":1795000000123,"
                       "\"ttl_ms\":30000,\"key_id\":\"%s\"}",
                       k->a.pub.key_id);
        assert_string_equal(msg, want);
        assert_int_equal(len, strlen(want));
        /* a's key is second in the list: the index says which key verified */
        assert_int_equal(heartbeat_check(k->both, 2, msg, len, sig, NOW + 5, &issued, &ttl, &err),
                         1);
        assert_int_equal(issued, NOW);
        assert_int_equal(ttl, TTL);
}

static void an_altered_byte_is_refused(void **state)
{
        struct keys *k = *state;
        char msg[HEARTBEAT_MSG_MAX + 1], sig[CONTROL_SIG_B64_SIZE];
        int64_t issued = -1, ttl = -1;
        struct rwerr err;
        size_t len = signed_heartbeat(&k->a, k->a.pub.key_id, msg, sig);
        char *digit = strstr(msg, "\"ttl_ms\":30000");

        assert_non_null(digit);
        digit[9] = '9'; /* ttl_ms 90000: a longer life than was signed */
        assert_int_equal(heartbeat_check(&k->a.pub, 1, msg, len, sig, NOW, &issued, &ttl, &err),
                         RW_ERR_REFUSED);
        assert_non_null(strstr(err.msg, "does not verify"));
        assert_int_equal(issued, 0);
        assert_int_equal(ttl, 0);
        /* the signature altered instead */
        digit[9] = '3';
        sig[10] = sig[10] == 'A' ? 'B' : 'A';
        assert_int_equal(heartbeat_check(&k->a.pub, 1, msg, len, sig, NOW, &issued, &ttl, &err),
                         RW_ERR_REFUSED);
        /* not base64 at all */
        assert_int_equal(heartbeat_check(&k->a.pub, 1, msg, len, "not a signature", NOW, &issued,
                                         &ttl, &err),
                         RW_ERR_INVALID);
}

static void a_foreign_key_is_refused(void **state)
{
        struct keys *k = *state;
        char msg[HEARTBEAT_MSG_MAX + 1], sig[CONTROL_SIG_B64_SIZE];
        int64_t issued = -1, ttl = -1;
        struct rwerr err;
        /* signed by b, and honest about it, but only a is the watchdog's */
        size_t len = signed_heartbeat(&k->b, k->b.pub.key_id, msg, sig);

        assert_int_equal(heartbeat_check(&k->a.pub, 1, msg, len, sig, NOW, &issued, &ttl, &err),
                         RW_ERR_REFUSED);
        assert_non_null(strstr(err.msg, "heartbeat: signature does not verify"));
        assert_int_equal(heartbeat_check(&k->a.pub, 0, msg, len, sig, NOW, &issued, &ttl, &err),
                         RW_ERR_INVALID);
}

static void a_key_id_naming_another_key_is_refused(void **state)
{
        struct keys *k = *state;
        char msg[HEARTBEAT_MSG_MAX + 1], sig[CONTROL_SIG_B64_SIZE];
        int64_t issued = -1, ttl = -1;
        struct rwerr err;
        /* a signs a heartbeat claiming to come from b's key */
        size_t len = signed_heartbeat(&k->a, k->b.pub.key_id, msg, sig);

        assert_int_equal(heartbeat_check(k->both, 2, msg, len, sig, NOW, &issued, &ttl, &err),
                         RW_ERR_REFUSED);
        assert_non_null(strstr(err.msg, "key_id"));
        assert_non_null(strstr(err.msg, k->b.pub.key_id));
}

static void a_stale_heartbeat_is_refused(void **state)
{
        struct keys *k = *state;
        char msg[HEARTBEAT_MSG_MAX + 1], sig[CONTROL_SIG_B64_SIZE];
        int64_t issued = -1, ttl = -1;
        struct rwerr err;
        size_t len = signed_heartbeat(&k->a, k->a.pub.key_id, msg, sig);
        int64_t last_ok = NOW + TTL + HEARTBEAT_CLOCK_SLACK_MS;

        assert_int_equal(heartbeat_check(&k->a.pub, 1, msg, len, sig, last_ok, &issued, &ttl, &err),
                         0);
        assert_int_equal(
                heartbeat_check(&k->a.pub, 1, msg, len, sig, last_ok + 1, &issued, &ttl, &err),
                RW_ERR_TIMEOUT);
        assert_non_null(strstr(err.msg, "stale"));
        assert_non_null(strstr(err.msg, "31001 ms ago"));
        assert_int_equal(issued, 0);
        assert_int_equal(ttl, 0);
}

static void a_heartbeat_from_the_future_is_refused(void **state)
{
        struct keys *k = *state;
        char msg[HEARTBEAT_MSG_MAX + 1], sig[CONTROL_SIG_B64_SIZE];
        int64_t issued = -1, ttl = -1;
        struct rwerr err;
        size_t len = signed_heartbeat(&k->a, k->a.pub.key_id, msg, sig);
        int64_t earliest_ok = NOW - HEARTBEAT_CLOCK_SLACK_MS;

        assert_int_equal(
                heartbeat_check(&k->a.pub, 1, msg, len, sig, earliest_ok, &issued, &ttl, &err), 0);
        assert_int_equal(
                heartbeat_check(&k->a.pub, 1, msg, len, sig, earliest_ok - 1, &issued, &ttl, &err),
                RW_ERR_RANGE);
        assert_non_null(strstr(err.msg, "1001 ms in the future"));
}

static void an_oversized_msg_is_refused(void **state)
{
        struct keys *k = *state;
        char big[HEARTBEAT_MSG_MAX + 2], sig[CONTROL_SIG_B64_SIZE],
                id[HEARTBEAT_WATCHDOG_ID_MAX + 2];
        char small[64];
        int64_t issued = -1, ttl = -1;
        struct rwerr err;
        size_t len = 99;
        size_t n = signed_heartbeat(&k->a, k->a.pub.key_id, big, sig);

        /* a real heartbeat padded with spaces past the limit, signed as it is */
        memset(big + n, ' ', sizeof big - 1 - n);
        big[sizeof big - 1] = '\0';
        sign(&k->a, big, HEARTBEAT_MSG_MAX + 1, sig);
        assert_int_equal(heartbeat_check(&k->a.pub, 1, big, HEARTBEAT_MSG_MAX + 1, sig, NOW,
                                         &issued, &ttl, &err),
                         RW_ERR_RANGE);
        assert_non_null(strstr(err.msg, "513 bytes"));
        /* the builder never makes one: a watchdog_id over the limit, a buffer too small */
        memset(id, 'w', sizeof id - 1);
        id[sizeof id - 1] = '\0';
        assert_int_equal(
                heartbeat_build(id, NOW, TTL, k->a.pub.key_id, big, sizeof big, &len, &err),
                RW_ERR_RANGE);
        assert_int_equal(len, 0);
        assert_int_equal(
                heartbeat_build("wd-1", NOW, TTL, k->a.pub.key_id, small, sizeof small, &len, &err),
                RW_ERR_RANGE);
        assert_string_equal(small, "");
}

static void a_signed_msg_that_is_not_a_heartbeat_is_refused(void **state)
{
        struct keys *k = *state;
        char msg[HEARTBEAT_MSG_MAX + 1], sig[CONTROL_SIG_B64_SIZE];
        int64_t issued = -1, ttl = -1;
        struct rwerr err;
        const char *bad[] = {
                /* another type */
                "{\"v\":1,\"type\":\"HALT\",\"watchdog_id\":\"wd-1\",\"issued_at\":\"2026-11-18T11:"
                "06:40.123Z\",\"issued_at_ms\":1795000000123,\"ttl_ms\":30000,\"key_id\":"
                "\"KKKKKKKKKKKKKKKK\"}",
                /* issued_at and issued_at_ms disagree */
                "{\"v\":1,\"type\":\"HEARTBEAT\",\"watchdog_id\":\"wd-1\",\"issued_at\":\"2026-11-"
                "18T11:06:40.123Z\",\"issued_at_ms\":1795000000124,\"ttl_ms\":30000,\"key_id\":"
                "\"KKKKKKKKKKKKKKKK\"}",
                /* ttl_ms given twice */
                "{\"v\":1,\"type\":\"HEARTBEAT\",\"watchdog_id\":\"wd-1\",\"issued_at\":\"2026-11-"
                "18T11:06:40.123Z\",\"issued_at_ms\":1795000000123,\"ttl_ms\":1,\"ttl_ms\":30000,"
                "\"key_id\":\"KKKKKKKKKKKKKKKK\"}",
                /* version 2 */
                "{\"v\":2,\"type\":\"HEARTBEAT\",\"watchdog_id\":\"wd-1\",\"issued_at\":\"2026-11-"
                "18T11:06:40.123Z\",\"issued_at_ms\":1795000000123,\"ttl_ms\":30000,\"key_id\":"
                "\"KKKKKKKKKKKKKKKK\"}",
                /* no ttl */
                "{\"v\":1,\"type\":\"HEARTBEAT\",\"watchdog_id\":\"wd-1\",\"issued_at\":\"2026-11-"
                "18T11:06:40.123Z\",\"issued_at_ms\":1795000000123,\"key_id\":"
                "\"KKKKKKKKKKKKKKKK\"}",
                /* trailing bytes */
                "{\"v\":1,\"type\":\"HEARTBEAT\",\"watchdog_id\":\"wd-1\",\"issued_at\":\"2026-11-"
                "18T11:06:40.123Z\",\"issued_at_ms\":1795000000123,\"ttl_ms\":30000,\"key_id\":"
                "\"KKKKKKKKKKKKKKKK\"}x",
        };
        size_t i;

        for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                int n = snprintf(msg, sizeof msg, "%s", bad[i]);
                char *key_id = strstr(msg, "KKKKKKKKKKKKKKKK");

                assert_true(n > 0 && (size_t)n < sizeof msg);
                assert_non_null(key_id);
                memcpy(key_id, k->a.pub.key_id, SIGNING_KEY_ID_LEN);
                sign(&k->a, msg, (size_t)n, sig);
                assert_int_equal(heartbeat_check(&k->a.pub, 1, msg, (size_t)n, sig, NOW, &issued,
                                                 &ttl, &err),
                                 RW_ERR_INVALID);
                assert_non_null(strstr(err.msg, "heartbeat"));
        }
}

static void build_refuses_bad_arguments(void **state)
{
        struct keys *k = *state;
        char msg[HEARTBEAT_MSG_MAX + 1];
        struct rwerr err;
        size_t len = 0;

        assert_int_equal(
                heartbeat_build("", NOW, TTL, k->a.pub.key_id, msg, sizeof msg, &len, &err),
                RW_ERR_INVALID);
        assert_int_equal(
                heartbeat_build("wd", NOW, TTL, "ABCDEF0123456789", msg, sizeof msg, &len, &err),
                RW_ERR_INVALID);
        assert_int_equal(
                heartbeat_build("wd", NOW, 0, k->a.pub.key_id, msg, sizeof msg, &len, &err),
                RW_ERR_RANGE);
        assert_int_equal(
                heartbeat_build("wd", -1, TTL, k->a.pub.key_id, msg, sizeof msg, &len, &err),
                RW_ERR_RANGE);
        /* a watchdog_id that needs escaping stays one JSON string */
        assert_int_equal(
                heartbeat_build("wd \"2\"", NOW, TTL, k->a.pub.key_id, msg, sizeof msg, &len, &err),
                RW_OK);
        assert_non_null(strstr(msg, "\"watchdog_id\":\"wd \\\"2\\\"\""));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(build_writes_the_documented_text_and_checks_back),
                cmocka_unit_test(an_altered_byte_is_refused),
                cmocka_unit_test(a_foreign_key_is_refused),
                cmocka_unit_test(a_key_id_naming_another_key_is_refused),
                cmocka_unit_test(a_stale_heartbeat_is_refused),
                cmocka_unit_test(a_heartbeat_from_the_future_is_refused),
                cmocka_unit_test(an_oversized_msg_is_refused),
                cmocka_unit_test(a_signed_msg_that_is_not_a_heartbeat_is_refused),
                cmocka_unit_test(build_refuses_bad_arguments),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
