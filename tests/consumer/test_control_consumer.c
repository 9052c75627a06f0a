/*
 * Integration tests of the reference control-stream consumer on the local
 * stack's Redis: it stops on a signed HALT and acks it only once stopped,
 * refuses forged and altered messages (and a RESUME a watchdog key signed,
 * and a replayed old RESUME), honours the durable halt key and its own
 * pending entries on start, fails safe without a fresh heartbeat or without
 * Redis, and comes back when they do.
 *
 * Every test works on keys of its own, "test:consumer:PID:N:...", deleted
 * at the end, so other tests on the same Redis never meet them.
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

#include <cmocka.h>
#include <hiredis/hiredis.h>
#include <sodium.h>

#include "control_consumer.h"
#include "control_msg.h"
#include "halt_publish.h"
#include "heartbeat.h"
#include "redisconn.h"
#include "signing_key.h"
#include "stack_env.h"
#include "test_util.h"

#define LOG_MAX 16384

struct fx {
        char redis_url[512];
        char dir[64];
        struct signing_key *watchdog, *operator, * stranger;
        /* this test's names */
        char prefix[96], stream[128], halt_key[128], heartbeat_key[128], marker_base[128];
        redisContext *redis;
        struct control_consumer_config cfg;
        char log[LOG_MAX]; /* "level event: detail\n" lines */
};

static void capture_log(void *ctx, const char *level, const char *event, const char *detail)
{
        struct fx *f = ctx;
        size_t used = strlen(f->log);

        (void)snprintf(f->log + used, sizeof f->log - used, "%s %s: %s\n", level, event, detail);
}

/* How many log lines have this event. */
static int logged(const struct fx *f, const char *event)
{
        char needle[64];
        const char *p = f->log;
        int n = 0;

        (void)snprintf(needle, sizeof needle, " %s: ", event);
        while ((p = strstr(p, needle)) != NULL) {
                n++;
                p += strlen(needle);
        }
        return n;
}

static void key_pair(struct fx *f, const char *name, struct signing_key **out)
{
        char path[128];
        struct rwerr err;

        (void)snprintf(path, sizeof path, "%s/%s.key", f->dir, name);
        if (signing_key_generate(path, &err) != RW_OK || signing_key_load(path, out, &err) != RW_OK)
                fail_msg("%s", err.msg);
}

static int group_setup(void **state)
{
        static struct fx f;
        struct rwerr err;

        memset(&f, 0, sizeof f);
        assert_true(sodium_init() >= 0);
        if (stack_env_copy("REDIS_URL", f.redis_url, sizeof f.redis_url, &err) != RW_OK)
                fail_msg("%s", err.msg);
        (void)snprintf(f.dir, sizeof f.dir, "/tmp/relaywatch-consumer.XXXXXX");
        assert_non_null(mkdtemp(f.dir));
        key_pair(&f, "watchdog", &f.watchdog);
        key_pair(&f, "operator", &f.operator);
        key_pair(&f, "stranger", &f.stranger);
        *state = &f;
        return 0;
}

static int group_teardown(void **state)
{
        struct fx *f = *state;
        const char *names[] = {"watchdog", "operator", "stranger"};
        char path[160];
        size_t i;

        signing_key_free(f->watchdog);
        signing_key_free(f->operator);
        signing_key_free(f->stranger);
        for (i = 0; i < 3; i++) {
                (void)snprintf(path, sizeof path, "%s/%s.key", f->dir, names[i]);
                unlink(path);
                (void)snprintf(path, sizeof path, "%s/%s.key.pub", f->dir, names[i]);
                unlink(path);
        }
        rmdir(f->dir);
        return 0;
}

/* Fresh names and a default config for each test. */
static int setup(void **state)
{
        static int n;
        struct fx *f = *state;
        struct rwerr err;

        (void)snprintf(f->prefix, sizeof f->prefix, "test:consumer:%d:%d", (int)getpid(), ++n);
        (void)snprintf(f->stream, sizeof f->stream, "%s:control", f->prefix);
        (void)snprintf(f->halt_key, sizeof f->halt_key, "%s:halt", f->prefix);
        (void)snprintf(f->heartbeat_key, sizeof f->heartbeat_key, "%s:heartbeat", f->prefix);
        (void)snprintf(f->marker_base, sizeof f->marker_base, "%s:published", f->prefix);
        f->redis = redisconn_connect(f->redis_url, 2000, &err);
        if (f->redis == NULL)
                fail_msg("%s", err.msg);
        memset(&f->cfg, 0, sizeof f->cfg);
        f->cfg.redis_url = f->redis_url;
        f->cfg.stream = f->stream;
        f->cfg.group = "relayer";
        f->cfg.consumer = "relayer-test";
        f->cfg.halt_key = f->halt_key;
        f->cfg.heartbeat_key = f->heartbeat_key;
        f->cfg.watchdog_keys = &f->watchdog->pub;
        f->cfg.nwatchdog_keys = 1;
        f->cfg.operator_keys = &f->operator->pub;
        f->cfg.noperator_keys = 1;
        f->cfg.log = capture_log;
        f->cfg.log_ctx = f;
        f->log[0] = '\0';
        return 0;
}

/* Deletes every key of this test. */
static int teardown(void **state)
{
        struct fx *f = *state;
        char pattern[128];
        redisReply *r;

        (void)snprintf(pattern, sizeof pattern, "%s:*", f->prefix);
        r = redisCommand(f->redis, "EVAL %s 0 %s",
                         "local k = redis.call('KEYS', ARGV[1]) "
                         "for i = 1, #k do redis.call('DEL', k[i]) end return #k",
                         pattern);
        assert_non_null(r);
        assert_int_equal(r->type, REDIS_REPLY_INTEGER);
        freeReplyObject(r);
        redisFree(f->redis);
        f->redis = NULL;
        return 0;
}

static int64_t now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A HALT or RESUME, signed by `key` and naming `key_id`; *msg is malloc'd. */
static void signed_msg(const struct signing_key *key, const char *key_id, enum control_type type,
                       const char *invariant, int64_t issued_ms, char **msg, size_t *len,
                       char sig[CONTROL_SIG_B64_SIZE], char id[CONTROL_ID_SIZE])
{
        struct control_height h[2] = {{"source", 1000}, {"execution", 2000}};
        struct control_msg_fields m;
        struct rwerr err;

        memset(&m, 0, sizeof m);
        if (type == CONTROL_HALT)
                control_halt_id(invariant, "SIGIL", (uint64_t)issued_ms, id);
        else
                control_resume_id(id);
        m.type = type;
        m.id = id;
        m.invariant = invariant;
        m.severity = "CRITICAL";
        m.reason = type == CONTROL_HALT ? "locked total is not minted total" : "fixed";
        m.heights = h;
        m.nheights = 2;
        if (type == CONTROL_RESUME) {
                m.resume_from = h;
                m.nresume_from = 2;
        }
        m.issued_at_ms = issued_ms;
        m.watchdog_id = "test";
        m.correlation_id = "0123456789abcdef";
        m.key_id = key_id;
        if (control_msg_build(&m, msg, len, &err) != RW_OK ||
            control_msg_sign(key, *msg, *len, sig, &err) != RW_OK)
                fail_msg("%s", err.msg);
}

/* XADDs msg/sig as they are (a forger needs nothing more than Redis access). */
static void xadd(const struct fx *f, const char *msg, size_t len, const char *sig)
{
        redisReply *r = redisCommand(f->redis, "XADD %s * msg %b sig %s", f->stream, msg, len, sig);

        assert_non_null(r);
        assert_int_equal(r->type, REDIS_REPLY_STRING);
        freeReplyObject(r);
}

/* Publishes a signed message the way relaywatch does (halt_publish, no halt key). */
static void publish(const struct fx *f, const struct signing_key *key, enum control_type type,
                    const char *invariant, int64_t issued_ms, char id[CONTROL_ID_SIZE])
{
        struct halt_publish_keys k = {f->stream, NULL, f->marker_base, NULL, NULL};
        char sig[CONTROL_SIG_B64_SIZE], entry[HALT_PUBLISH_ENTRY_ID_SIZE];
        struct halt_publish_result res;
        char *msg = NULL;
        size_t len = 0;
        struct rwerr err;
        int rc, published = 0;

        signed_msg(key, key->pub.key_id, type, invariant, issued_ms, &msg, &len, sig, id);
        if (type == CONTROL_HALT) {
                rc = halt_publish(f->redis, &k, id, invariant, msg, len, sig, &res, &err);
                published = rc == RW_OK && res.outcome == HALT_PUBLISHED;
        } else {
                rc = halt_publish_resume(f->redis, &k, id, msg, len, sig, 0, &published, entry,
                                         &err);
        }
        if (rc != RW_OK)
                fail_msg("%s", err.msg);
        assert_int_equal(published, 1);
        free(msg);
}

/* Entries delivered to the group and not acked. */
static long long pending(const struct fx *f)
{
        redisReply *r = redisCommand(f->redis, "XPENDING %s relayer", f->stream);
        long long n;

        assert_non_null(r);
        assert_int_equal(r->type, REDIS_REPLY_ARRAY);
        assert_true(r->elements >= 1);
        assert_int_equal(r->element[0]->type, REDIS_REPLY_INTEGER);
        n = r->element[0]->integer;
        freeReplyObject(r);
        return n;
}

static long long stream_length(const struct fx *f)
{
        redisReply *r = redisCommand(f->redis, "XLEN %s", f->stream);
        long long n;

        assert_non_null(r);
        assert_int_equal(r->type, REDIS_REPLY_INTEGER);
        n = r->integer;
        freeReplyObject(r);
        return n;
}

static struct control_consumer *open_or_fail(struct fx *f)
{
        struct rwerr err;
        struct control_consumer *c = control_consumer_open(&f->cfg, &err);

        if (c == NULL)
                fail_msg("%s", err.msg);
        return c;
}

static void poll_or_fail(struct control_consumer *c, long block_ms)
{
        struct rwerr err;

        if (control_consumer_poll(c, block_ms, &err) != RW_OK)
                fail_msg("%s", err.msg);
}

/* ---- tests ---- */

static void a_valid_halt_stops_and_is_acked_only_once_stopped(void **state)
{
        struct fx *f = *state;
        char id[CONTROL_ID_SIZE];
        struct rwerr err;
        struct control_consumer *c = open_or_fail(f);

        assert_true(control_consumer_may_run(c));
        assert_string_equal(control_consumer_reason(c), "running");
        assert_int_equal(logged(f, "redis_ok"), 1);
        publish(f, f->watchdog, CONTROL_HALT, "SUPPLY_MISMATCH", now_ms(), id);
        poll_or_fail(c, 1000);
        assert_false(control_consumer_may_run(c));
        assert_non_null(strstr(control_consumer_reason(c), id));
        assert_non_null(strstr(control_consumer_reason(c), "SUPPLY_MISMATCH"));
        assert_int_equal(logged(f, "halt"), 1);
        /* delivered, not acked: relaywatch sees the relayer has not confirmed yet */
        assert_int_equal(pending(f), 1);
        poll_or_fail(c, 0);
        assert_int_equal(pending(f), 1);
        assert_int_equal(control_consumer_confirm_stopped(c, &err), RW_OK);
        assert_int_equal(pending(f), 0);
        assert_int_equal(logged(f, "acked"), 1);
        /* still halted after the ack; nothing more to ack */
        assert_false(control_consumer_may_run(c));
        assert_int_equal(control_consumer_confirm_stopped(c, &err), RW_OK);
        assert_int_equal(logged(f, "acked"), 1);
        control_consumer_close(c);
}

static void forged_and_altered_messages_are_rejected_and_acked(void **state)
{
        struct fx *f = *state;
        char sig[CONTROL_SIG_B64_SIZE], id[CONTROL_ID_SIZE];
        char *msg = NULL, *digit;
        size_t len = 0;
        struct control_consumer *c = open_or_fail(f);

        /* signed by a key nobody configured, naming it honestly */
        signed_msg(f->stranger, f->stranger->pub.key_id, CONTROL_HALT, "NONCE_DESYNC", now_ms(),
                   &msg, &len, sig, id);
        xadd(f, msg, len, sig);
        free(msg);
        poll_or_fail(c, 1000);
        assert_true(control_consumer_may_run(c));
        assert_int_equal(logged(f, "rejected"), 1);
        assert_non_null(strstr(f->log, "does not verify"));
        assert_int_equal(pending(f), 0);

        /* signed by the stranger but claiming to be the watchdog's key */
        signed_msg(f->stranger, f->watchdog->pub.key_id, CONTROL_HALT, "NONCE_DESYNC", now_ms(),
                   &msg, &len, sig, id);
        xadd(f, msg, len, sig);
        free(msg);
        poll_or_fail(c, 1000);
        assert_true(control_consumer_may_run(c));
        assert_int_equal(logged(f, "rejected"), 2);

        /* a valid HALT of the watchdog's with one byte changed */
        signed_msg(f->watchdog, f->watchdog->pub.key_id, CONTROL_HALT, "NONCE_DESYNC", now_ms(),
                   &msg, &len, sig, id);
        digit = strstr(msg, "\"source\":1000");
        assert_non_null(digit);
        digit[9] = '9';
        xadd(f, msg, len, sig);
        free(msg);
        poll_or_fail(c, 1000);
        assert_true(control_consumer_may_run(c));
        assert_int_equal(logged(f, "rejected"), 3);

        /* garbage: no msg, no sig */
        {
                redisReply *r = redisCommand(f->redis, "XADD %s * hello world", f->stream);

                assert_non_null(r);
                freeReplyObject(r);
        }
        poll_or_fail(c, 1000);
        assert_true(control_consumer_may_run(c));
        assert_int_equal(logged(f, "rejected"), 4);
        assert_non_null(strstr(f->log, "no msg field"));
        assert_int_equal(logged(f, "halt"), 0);
        assert_int_equal(stream_length(f), 4);
        assert_int_equal(pending(f), 0);
        control_consumer_close(c);
}

static void only_an_operator_key_resumes(void **state)
{
        struct fx *f = *state;
        char id[CONTROL_ID_SIZE], resume_id[CONTROL_ID_SIZE], sig[CONTROL_SIG_B64_SIZE];
        int64_t t = now_ms();
        char *old_resume = NULL;
        size_t old_len = 0;
        struct control_consumer *c = open_or_fail(f);

        publish(f, f->watchdog, CONTROL_HALT, "DUPLICATE_BATCH", t, id);
        poll_or_fail(c, 1000);
        assert_false(control_consumer_may_run(c));
        assert_int_equal(pending(f), 1);

        /* the watchdog may halt but never resume */
        publish(f, f->watchdog, CONTROL_RESUME, "DUPLICATE_BATCH", t + 10, resume_id);
        poll_or_fail(c, 1000);
        assert_false(control_consumer_may_run(c));
        assert_int_equal(logged(f, "rejected"), 1);
        assert_non_null(strstr(f->log, "not configured to sign a RESUME"));
        assert_non_null(strstr(control_consumer_reason(c), id));
        assert_int_equal(pending(f), 1); /* the refused RESUME is acked, the HALT is not */

        /* the operator's RESUME lifts it, and the HALT is acked with it */
        signed_msg(f->operator, f->operator->pub.key_id, CONTROL_RESUME, "DUPLICATE_BATCH", t + 20,
                   &old_resume, &old_len, sig, resume_id);
        xadd(f, old_resume, old_len, sig);
        poll_or_fail(c, 1000);
        assert_true(control_consumer_may_run(c));
        assert_int_equal(logged(f, "resume"), 1);
        assert_int_equal(pending(f), 0);

        /* a later halt is not lifted by replaying that old RESUME */
        publish(f, f->watchdog, CONTROL_HALT, "NONCE_DESYNC", t + 30, id);
        poll_or_fail(c, 1000);
        assert_false(control_consumer_may_run(c));
        xadd(f, old_resume, old_len, sig);
        poll_or_fail(c, 1000);
        assert_false(control_consumer_may_run(c));
        assert_int_equal(logged(f, "rejected"), 2);
        assert_non_null(strstr(f->log, "a replay"));
        free(old_resume);
        control_consumer_close(c);
}

static void the_halt_key_halts_before_any_stream_entry(void **state)
{
        struct fx *f = *state;
        char sig[CONTROL_SIG_B64_SIZE], id[CONTROL_ID_SIZE];
        struct control_consumer *c;
        char *msg = NULL;
        size_t len = 0;
        redisReply *r;

        /* a halt key the stranger signed is ignored */
        signed_msg(f->stranger, f->stranger->pub.key_id, CONTROL_HALT, "SUPPLY_MISMATCH", now_ms(),
                   &msg, &len, sig, id);
        r = redisCommand(f->redis, "HSET %s msg %b sig %s", f->halt_key, msg, len, sig);
        assert_non_null(r);
        freeReplyObject(r);
        free(msg);
        c = open_or_fail(f);
        assert_true(control_consumer_may_run(c));
        assert_int_equal(logged(f, "halt_key_rejected"), 1);
        control_consumer_close(c);

        /* the watchdog's halt, there before the relayer starts */
        signed_msg(f->watchdog, f->watchdog->pub.key_id, CONTROL_HALT, "SUPPLY_MISMATCH", now_ms(),
                   &msg, &len, sig, id);
        r = redisCommand(f->redis, "HSET %s msg %b sig %s", f->halt_key, msg, len, sig);
        assert_non_null(r);
        freeReplyObject(r);
        free(msg);
        c = open_or_fail(f);
        assert_false(control_consumer_may_run(c));
        assert_non_null(strstr(control_consumer_reason(c), id));
        assert_non_null(strstr(control_consumer_reason(c), "halt key"));
        assert_int_equal(stream_length(f), 0);
        poll_or_fail(c, 0);
        assert_false(control_consumer_may_run(c));
        control_consumer_close(c);
}

static void a_restart_rereads_its_unacked_halt(void **state)
{
        struct fx *f = *state;
        char id[CONTROL_ID_SIZE];
        struct rwerr err;
        struct control_consumer *c = open_or_fail(f);

        publish(f, f->watchdog, CONTROL_HALT, "PROOF_VERIFICATION_FAIL", now_ms(), id);
        poll_or_fail(c, 1000);
        assert_false(control_consumer_may_run(c));
        control_consumer_close(c); /* crashed before it confirmed */

        c = open_or_fail(f);
        assert_false(control_consumer_may_run(c));
        assert_non_null(strstr(control_consumer_reason(c), id));
        assert_int_equal(pending(f), 1);
        assert_int_equal(control_consumer_confirm_stopped(c, &err), RW_OK);
        assert_int_equal(pending(f), 0);
        control_consumer_close(c);

        /* acked: a later restart does not halt again from the stream */
        c = open_or_fail(f);
        assert_true(control_consumer_may_run(c));
        control_consumer_close(c);
}

/* Builds, signs and publishes a heartbeat of `key`, issued at `issued`. */
static void heartbeat(const struct fx *f, const struct signing_key *key, int64_t issued)
{
        char msg[HEARTBEAT_MSG_MAX + 1], sig[CONTROL_SIG_B64_SIZE];
        struct rwerr err;
        size_t len = 0;

        if (heartbeat_build("test-watchdog", issued, 30000, key->pub.key_id, msg, sizeof msg, &len,
                            &err) != RW_OK ||
            control_msg_sign(key, msg, len, sig, &err) != RW_OK ||
            heartbeat_publish(f->redis, f->heartbeat_key, msg, len, sig, 30000, &err) != RW_OK)
                fail_msg("%s", err.msg);
}

static void a_required_heartbeat_must_be_fresh_and_signed(void **state)
{
        struct fx *f = *state;
        struct control_consumer *c;
        redisReply *r;

        f->cfg.require_heartbeat = 1;
        c = open_or_fail(f);
        assert_false(control_consumer_may_run(c));
        assert_non_null(strstr(control_consumer_reason(c), "no heartbeat"));
        poll_or_fail(c, 0);
        assert_int_equal(logged(f, "heartbeat_bad"), 1); /* transitions only */

        heartbeat(f, f->watchdog, now_ms());
        r = redisCommand(f->redis, "PTTL %s", f->heartbeat_key);
        assert_non_null(r);
        assert_true(r->integer > 25000 && r->integer <= 30000);
        freeReplyObject(r);
        r = redisCommand(f->redis, "HLEN %s", f->heartbeat_key);
        assert_non_null(r);
        assert_int_equal(r->integer, 2);
        freeReplyObject(r);
        poll_or_fail(c, 0);
        assert_true(control_consumer_may_run(c));
        assert_int_equal(logged(f, "heartbeat_ok"), 1);

        /* issued 40 s ago with a 30 s ttl: a replay of an old one */
        heartbeat(f, f->watchdog, now_ms() - 40000);
        poll_or_fail(c, 0);
        assert_false(control_consumer_may_run(c));
        assert_non_null(strstr(control_consumer_reason(c), "stale"));

        heartbeat(f, f->watchdog, now_ms());
        poll_or_fail(c, 0);
        assert_true(control_consumer_may_run(c));

        /* fresh, but signed by a key that is not the watchdog's */
        heartbeat(f, f->stranger, now_ms());
        poll_or_fail(c, 0);
        assert_false(control_consumer_may_run(c));
        assert_non_null(strstr(control_consumer_reason(c), "does not verify"));
        assert_int_equal(logged(f, "heartbeat_bad"), 3);
        assert_int_equal(logged(f, "heartbeat_ok"), 2);
        control_consumer_close(c);
}

static void without_redis_it_may_not_run(void **state)
{
        struct fx *f = *state;
        char url[64];
        struct timespec t0, t1;
        struct control_consumer *c;
        struct rwerr err;
        uint16_t port = test_free_port();

        assert_true(port != 0);
        (void)snprintf(url, sizeof url, "redis://127.0.0.1:%u/0", port);
        f->cfg.redis_url = url;
        c = control_consumer_open(&f->cfg, &err);
        assert_non_null(c);
        assert_non_null(strstr(err.msg, "Redis"));
        assert_false(control_consumer_may_run(c));
        assert_non_null(strstr(control_consumer_reason(c), "Redis"));
        assert_non_null(strstr(control_consumer_reason(c), url));
        assert_int_equal(logged(f, "redis_down"), 1);
        /* a poll while Redis is away waits its block out instead of returning at once */
        clock_gettime(CLOCK_MONOTONIC, &t0);
        assert_int_equal(control_consumer_poll(c, 50, &err), RW_ERR_IO);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        assert_true((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 >= 50);
        assert_false(control_consumer_may_run(c));
        assert_int_equal(logged(f, "redis_down"), 1);
        control_consumer_close(c);
}

static void a_redis_error_fails_safe_until_it_is_gone(void **state)
{
        struct fx *f = *state;
        struct control_consumer *c = open_or_fail(f);
        struct rwerr err;
        redisReply *r;

        assert_true(control_consumer_may_run(c));
        r = redisCommand(f->redis, "XGROUP DESTROY %s relayer", f->stream);
        assert_non_null(r);
        assert_int_equal(r->integer, 1);
        freeReplyObject(r);
        assert_int_not_equal(control_consumer_poll(c, 0, &err), RW_OK);
        assert_non_null(strstr(err.msg, "NOGROUP"));
        assert_false(control_consumer_may_run(c));
        assert_non_null(strstr(control_consumer_reason(c), "Redis"));
        /* one reconnection a second at most: this poll only waits */
        assert_int_equal(control_consumer_poll(c, 1100, &err), RW_ERR_IO);
        poll_or_fail(c, 0); /* reconnects and makes the group again */
        assert_true(control_consumer_may_run(c));
        assert_int_equal(logged(f, "redis_down"), 1);
        assert_int_equal(logged(f, "redis_ok"), 2);
        control_consumer_close(c);
}

static void a_config_that_cannot_work_is_refused(void **state)
{
        struct fx *f = *state;
        struct rwerr err;

        f->cfg.nwatchdog_keys = 0;
        f->cfg.noperator_keys = 0;
        assert_null(control_consumer_open(&f->cfg, &err));
        assert_non_null(strstr(err.msg, "no watchdog or operator public key"));
        f->cfg.noperator_keys = 1;
        f->cfg.require_heartbeat = 1;
        assert_null(control_consumer_open(&f->cfg, &err));
        assert_non_null(strstr(err.msg, "heartbeat"));
        f->cfg.require_heartbeat = 0;
        f->cfg.redis_url = "http://127.0.0.1:6379";
        assert_null(control_consumer_open(&f->cfg, &err));
        assert_non_null(strstr(err.msg, "redis://"));
        control_consumer_close(NULL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(a_valid_halt_stops_and_is_acked_only_once_stopped,
                                                setup, teardown),
                cmocka_unit_test_setup_teardown(forged_and_altered_messages_are_rejected_and_acked,
                                                setup, teardown),
                cmocka_unit_test_setup_teardown(only_an_operator_key_resumes, setup, teardown),
                cmocka_unit_test_setup_teardown(the_halt_key_halts_before_any_stream_entry, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(a_restart_rereads_its_unacked_halt, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(a_required_heartbeat_must_be_fresh_and_signed,
                                                setup, teardown),
                cmocka_unit_test_setup_teardown(without_redis_it_may_not_run, setup, teardown),
                cmocka_unit_test_setup_teardown(a_redis_error_fails_safe_until_it_is_gone, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(a_config_that_cannot_work_is_refused, setup,
                                                teardown),
        };

        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
