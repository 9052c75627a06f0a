/*
 * Integration tests of the reference control-stream consumer on the local
 * stack's Redis (docs/PROTOCOL.md): it stops on a signed HALT and writes the
 * acknowledgement (STREAM:ack:HALT_ID) only once stopped and only for a
 * HALT it accepted; refuses forged, altered, non-UTF-8 and replayed
 * messages (and a RESUME a watchdog key signed), XACKing them at once and
 * logging no raw byte of them; lifts exactly what a RESUME lists; honours
 * the durable halt key and its own pending entries on start, and does not
 * judge them twice after a reconnection; fails safe without a fresh
 * heartbeat or without Redis, and comes back when they do; and gives every
 * outcome of the conformance vectors (docs/protocol-vectors/vectors.json)
 * on a real stream.
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
#include <cjson/cJSON.h>
#include <hiredis/hiredis.h>
#include <sodium.h>

#include "control_consumer.h"
#include "control_msg.h"
#include "halt_publish.h"
#include "json_strict.h"
#include "heartbeat.h"
#include "redisconn.h"
#include "signing_key.h"
#include "stack_env.h"
#include "test_util.h"

#define LOG_MAX 65536

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

/*
 * A HALT or RESUME (lifting lifts[0..nlifts)), signed by `key` and naming
 * `key_id`; *msg is malloc'd.
 */
static void signed_msg(const struct signing_key *key, const char *key_id, enum control_type type,
                       const char *invariant, int64_t issued_ms, const char *const *lifts,
                       size_t nlifts, char **msg, size_t *len, char sig[CONTROL_SIG_B64_SIZE],
                       char id[CONTROL_ID_SIZE])
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
                m.lifts = lifts;
                m.nlifts = nlifts;
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

/*
 * Publishes a signed message the way relaywatch does (halt_publish, no halt
 * key); a RESUME lifts lifts[0..nlifts).
 */
static void publish(const struct fx *f, const struct signing_key *key, enum control_type type,
                    const char *invariant, int64_t issued_ms, const char *const *lifts,
                    size_t nlifts, char id[CONTROL_ID_SIZE])
{
        struct halt_publish_keys k = {f->stream, NULL, f->marker_base, NULL, NULL};
        char sig[CONTROL_SIG_B64_SIZE];
        struct halt_publish_resume_result rres;
        struct halt_publish_result res;
        char *msg = NULL;
        size_t len = 0;
        struct rwerr err;
        int rc, published = 0;

        signed_msg(key, key->pub.key_id, type, invariant, issued_ms, lifts, nlifts, &msg, &len, sig,
                   id);
        if (type == CONTROL_HALT) {
                rc = halt_publish(f->redis, &k, id, invariant, msg, len, sig, &res, &err);
                published = rc == RW_OK && res.outcome == HALT_PUBLISHED;
        } else {
                rc = halt_publish_resume(f->redis, &k, id, msg, len, sig, 0, lifts, nlifts, &rres,
                                         &err);
                published = rc == RW_OK && rres.outcome == HALT_RESUME_PUBLISHED;
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

/* The acknowledgement of HALT `halt_id` by group "relayer": its value (static), or NULL. */
static const char *ack_of(const struct fx *f, const char *halt_id)
{
        static char value[64];
        redisReply *r = redisCommand(f->redis, "HGET %s:ack:%s relayer", f->stream, halt_id);
        const char *out = NULL;

        assert_non_null(r);
        if (r->type == REDIS_REPLY_STRING) {
                (void)snprintf(value, sizeof value, "%s", r->str);
                out = value;
        } else {
                assert_int_equal(r->type, REDIS_REPLY_NIL);
        }
        freeReplyObject(r);
        return out;
}

/* How many acknowledgement hashes exist for this test's stream. */
static long long ack_hashes(const struct fx *f)
{
        redisReply *r = redisCommand(f->redis, "EVAL %s 0 %s:ack:*",
                                     "return #redis.call('KEYS', ARGV[1])", f->stream);
        long long n;

        assert_non_null(r);
        assert_int_equal(r->type, REDIS_REPLY_INTEGER);
        n = r->integer;
        freeReplyObject(r);
        return n;
}

/* "YYYY-MM-DDTHH:MM:SS.mmmZ" */
static void assert_utc(const char *t)
{
        static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";
        size_t i;

        assert_non_null(t);
        assert_int_equal(strlen(t), sizeof shape - 1);
        for (i = 0; shape[i] != '\0'; i++) {
                if (shape[i] == 'd')
                        assert_true(t[i] >= '0' && t[i] <= '9');
                else
                        assert_int_equal(t[i], shape[i]);
        }
}

/* The whole log is UTF-8 with no control character but the line ends. */
static void assert_log_is_clean(const struct fx *f)
{
        size_t n = strlen(f->log), i, at = 0;

        if (!utf8_valid(f->log, n, &at))
                fail_msg("byte %zu of the log is not UTF-8: %.80s", at, f->log + at);
        for (i = 0; i < n; i++) {
                unsigned char ch = (unsigned char)f->log[i];

                if ((ch < 0x20 && ch != '\n') || ch == 0x7f)
                        fail_msg("byte %zu of the log is 0x%02x: %.80s", i, ch,
                                 f->log + (i > 40 ? i - 40 : 0));
        }
}

/* Kills the consumer's connection (named relayer-test) from the outside. */
static void kill_consumer_connection(const struct fx *f)
{
        redisReply *r = redisCommand(f->redis, "CLIENT LIST");
        const char *p, *line;
        long long id = -1;

        assert_non_null(r);
        assert_int_equal(r->type, REDIS_REPLY_STRING);
        for (line = r->str; line != NULL && *line != '\0'; line = p != NULL ? p + 1 : NULL) {
                p = strchr(line, '\n');
                if (strncmp(line, "id=", 3) == 0 && strstr(line, " name=relayer-test ") != NULL &&
                    (p == NULL || strstr(line, " name=relayer-test ") < p))
                        id = strtoll(line + 3, NULL, 10);
        }
        freeReplyObject(r);
        assert_true(id > 0);
        r = redisCommand(f->redis, "CLIENT KILL ID %lld", id);
        assert_non_null(r);
        assert_int_equal(r->type, REDIS_REPLY_INTEGER);
        assert_int_equal(r->integer, 1);
        freeReplyObject(r);
}

/* ---- tests ---- */

static void a_valid_halt_stops_and_is_acked_only_once_stopped(void **state)
{
        struct fx *f = *state;
        char id[CONTROL_ID_SIZE];
        struct rwerr err;
        struct control_consumer *c = open_or_fail(f);
        redisReply *r;

        assert_true(control_consumer_may_run(c));
        assert_string_equal(control_consumer_reason(c), "running");
        assert_int_equal(logged(f, "redis_ok"), 1);
        /* the version announcement (PROTOCOL.md section 10) */
        r = redisCommand(f->redis, "HGET %s:clients relayer", f->stream);
        assert_non_null(r);
        assert_int_equal(r->type, REDIS_REPLY_STRING);
        assert_string_equal(r->str, "1");
        freeReplyObject(r);

        publish(f, f->watchdog, CONTROL_HALT, "SUPPLY_MISMATCH", now_ms(), NULL, 0, id);
        poll_or_fail(c, 1000);
        assert_false(control_consumer_may_run(c));
        assert_non_null(strstr(control_consumer_reason(c), id));
        assert_non_null(strstr(control_consumer_reason(c), "SUPPLY_MISMATCH"));
        assert_int_equal(logged(f, "halt"), 1);
        /* delivered, not acked, not acknowledged: the relayer has not confirmed yet */
        assert_int_equal(pending(f), 1);
        assert_null(ack_of(f, id));
        poll_or_fail(c, 0);
        assert_int_equal(pending(f), 1);
        assert_null(ack_of(f, id));
        assert_int_equal(control_consumer_confirm_stopped(c, &err), RW_OK);
        assert_int_equal(pending(f), 0);
        assert_utc(ack_of(f, id));
        assert_int_equal(ack_hashes(f), 1);
        assert_int_equal(logged(f, "acked"), 1);
        assert_non_null(strstr(f->log, id));
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
        struct rwerr err;
        struct control_consumer *c = open_or_fail(f);

        /* signed by a key nobody configured, naming it honestly */
        signed_msg(f->stranger, f->stranger->pub.key_id, CONTROL_HALT, "NONCE_DESYNC", now_ms(),
                   NULL, 0, &msg, &len, sig, id);
        xadd(f, msg, len, sig);
        free(msg);
        poll_or_fail(c, 1000);
        assert_true(control_consumer_may_run(c));
        assert_int_equal(logged(f, "rejected"), 1);
        assert_non_null(strstr(f->log, ": bad_signature;"));
        assert_non_null(strstr(f->log, "no configured watchdog or operator key verifies"));
        assert_int_equal(pending(f), 0);

        /* signed by the stranger but claiming to be the watchdog's key */
        signed_msg(f->stranger, f->watchdog->pub.key_id, CONTROL_HALT, "NONCE_DESYNC", now_ms(),
                   NULL, 0, &msg, &len, sig, id);
        xadd(f, msg, len, sig);
        free(msg);
        poll_or_fail(c, 1000);
        assert_true(control_consumer_may_run(c));
        assert_int_equal(logged(f, "rejected"), 2);

        /* signed by the watchdog but naming the operator's key */
        signed_msg(f->watchdog, f->operator->pub.key_id, CONTROL_HALT, "NONCE_DESYNC", now_ms(),
                   NULL, 0, &msg, &len, sig, id);
        xadd(f, msg, len, sig);
        free(msg);
        poll_or_fail(c, 1000);
        assert_true(control_consumer_may_run(c));
        assert_non_null(strstr(f->log, ": key_id_mismatch (verified by watchdog key"));

        /* a valid HALT of the watchdog's with one byte changed */
        signed_msg(f->watchdog, f->watchdog->pub.key_id, CONTROL_HALT, "NONCE_DESYNC", now_ms(),
                   NULL, 0, &msg, &len, sig, id);
        digit = strstr(msg, "\"source\":1000");
        assert_non_null(digit);
        digit[9] = '9';
        xadd(f, msg, len, sig);
        free(msg);
        poll_or_fail(c, 1000);
        assert_true(control_consumer_may_run(c));
        assert_int_equal(logged(f, "rejected"), 4);

        /* garbage: no msg, no sig */
        {
                redisReply *r = redisCommand(f->redis, "XADD %s * hello world", f->stream);

                assert_non_null(r);
                freeReplyObject(r);
        }
        poll_or_fail(c, 1000);
        assert_true(control_consumer_may_run(c));
        assert_int_equal(logged(f, "rejected"), 5);
        assert_non_null(strstr(f->log, ": bad_entry;"));
        assert_int_equal(logged(f, "halt"), 0);
        assert_int_equal(stream_length(f), 5);
        assert_int_equal(pending(f), 0);
        /* nothing was accepted: nothing to acknowledge */
        assert_int_equal(control_consumer_confirm_stopped(c, &err), RW_OK);
        assert_int_equal(logged(f, "acked"), 0);
        assert_int_equal(ack_hashes(f), 0);
        assert_log_is_clean(f);
        control_consumer_close(c);
}

static void a_rejected_halt_is_acked_but_never_acknowledged(void **state)
{
        struct fx *f = *state;
        char sig[CONTROL_SIG_B64_SIZE], bad[CONTROL_ID_SIZE], good[CONTROL_ID_SIZE];
        char *msg = NULL;
        size_t len = 0;
        struct rwerr err;
        struct control_consumer *c = open_or_fail(f);

        /* a HALT of the wrong key, then a real one */
        signed_msg(f->stranger, f->stranger->pub.key_id, CONTROL_HALT, "INVALID_PROOF", now_ms(),
                   NULL, 0, &msg, &len, sig, bad);
        xadd(f, msg, len, sig);
        free(msg);
        publish(f, f->watchdog, CONTROL_HALT, "SUPPLY_MISMATCH", now_ms(), NULL, 0, good);
        poll_or_fail(c, 1000);
        assert_false(control_consumer_may_run(c));
        assert_int_equal(logged(f, "rejected"), 1);
        /* the rejected one is XACKed already ("read"), the valid one waits for the stop */
        assert_int_equal(pending(f), 1);
        assert_int_equal(control_consumer_confirm_stopped(c, &err), RW_OK);
        assert_int_equal(pending(f), 0);
        assert_utc(ack_of(f, good));
        assert_null(ack_of(f, bad));
        assert_int_equal(ack_hashes(f), 1);
        control_consumer_close(c);
}

static void only_an_operator_key_resumes(void **state)
{
        struct fx *f = *state;
        char id[CONTROL_ID_SIZE], id2[CONTROL_ID_SIZE], resume_id[CONTROL_ID_SIZE];
        char sig[CONTROL_SIG_B64_SIZE];
        const char *lifts[1] = {id};
        int64_t t = now_ms();
        char *old_resume = NULL;
        size_t old_len = 0;
        struct rwerr err;
        struct control_consumer *c = open_or_fail(f);

        publish(f, f->watchdog, CONTROL_HALT, "DUPLICATE_BATCH", t, NULL, 0, id);
        poll_or_fail(c, 1000);
        assert_false(control_consumer_may_run(c));
        assert_int_equal(pending(f), 1);

        /* the watchdog may halt but never resume */
        publish(f, f->watchdog, CONTROL_RESUME, "DUPLICATE_BATCH", t + 10, lifts, 1, resume_id);
        poll_or_fail(c, 1000);
        assert_false(control_consumer_may_run(c));
        assert_int_equal(logged(f, "rejected"), 1);
        assert_non_null(strstr(f->log, ": resume_by_watchdog_key (verified by watchdog key"));
        assert_non_null(strstr(control_consumer_reason(c), id));
        assert_int_equal(pending(f), 1); /* the refused RESUME is acked, the HALT is not */
        assert_int_equal(control_consumer_confirm_stopped(c, &err), RW_OK);
        assert_utc(ack_of(f, id));

        /* the operator's RESUME lifts it */
        signed_msg(f->operator, f->operator->pub.key_id, CONTROL_RESUME, "DUPLICATE_BATCH", t + 20,
                   lifts, 1, &old_resume, &old_len, sig, resume_id);
        xadd(f, old_resume, old_len, sig);
        poll_or_fail(c, 1000);
        assert_true(control_consumer_may_run(c));
        assert_int_equal(logged(f, "resume"), 1);
        assert_int_equal(pending(f), 0);

        /* a later halt is not lifted by replaying that old RESUME, whatever its issued_at */
        publish(f, f->watchdog, CONTROL_HALT, "NONCE_DESYNC", t - 100000, NULL, 0, id2);
        poll_or_fail(c, 1000);
        assert_false(control_consumer_may_run(c));
        xadd(f, old_resume, old_len, sig);
        poll_or_fail(c, 1000);
        assert_false(control_consumer_may_run(c));
        assert_int_equal(logged(f, "rejected"), 2);
        assert_non_null(strstr(f->log, ": replay (verified by operator key"));
        assert_non_null(strstr(control_consumer_reason(c), id2));
        free(old_resume);
        control_consumer_close(c);
}

static void a_resume_lifts_exactly_what_it_lists(void **state)
{
        struct fx *f = *state;
        char a[CONTROL_ID_SIZE], b[CONTROL_ID_SIZE], r1[CONTROL_ID_SIZE], r2[CONTROL_ID_SIZE];
        char sig[CONTROL_SIG_B64_SIZE];
        const char *la[1] = {a}, *lb[1] = {b};
        int64_t t = now_ms();
        char *msg = NULL;
        size_t len = 0;
        struct rwerr err;
        struct control_consumer *c = open_or_fail(f);

        publish(f, f->watchdog, CONTROL_HALT, "SUPPLY_MISMATCH", t, NULL, 0, a);
        publish(f, f->watchdog, CONTROL_HALT, "NONCE_DESYNC", t + 1, NULL, 0, b);
        poll_or_fail(c, 1000);
        assert_false(control_consumer_may_run(c));
        assert_non_null(strstr(control_consumer_reason(c), "halted by 2 HALTs in force"));
        assert_int_equal(pending(f), 2);
        /* confirmed for both */
        assert_int_equal(control_consumer_confirm_stopped(c, &err), RW_OK);
        assert_utc(ack_of(f, a));
        assert_utc(ack_of(f, b));
        assert_int_equal(pending(f), 0);

        /* a RESUME of A only: B stays in force */
        signed_msg(f->operator, f->operator->pub.key_id, CONTROL_RESUME, "*", t + 10, la, 1, &msg,
                   &len, sig, r1);
        xadd(f, msg, len, sig);
        free(msg);
        poll_or_fail(c, 1000);
        assert_false(control_consumer_may_run(c));
        assert_null(strstr(control_consumer_reason(c), a));
        assert_non_null(strstr(control_consumer_reason(c), b));
        assert_non_null(strstr(f->log, "lifted 1 of the 1 HALT(s) it lists; still halted"));
        assert_int_equal(pending(f), 0);

        /* a new HALT C, unconfirmed; a RESUME of B and C acks C's entry with it */
        {
                char cid[CONTROL_ID_SIZE];
                const char *lbc[2] = {b, cid};

                publish(f, f->watchdog, CONTROL_HALT, "DUPLICATE_ROOT", t + 20, NULL, 0, cid);
                poll_or_fail(c, 1000);
                assert_int_equal(pending(f), 1);
                assert_null(ack_of(f, cid));
                signed_msg(f->operator, f->operator->pub.key_id, CONTROL_RESUME, "*", t + 30, lbc,
                           2, &msg, &len, sig, r2);
                xadd(f, msg, len, sig);
                free(msg);
                poll_or_fail(c, 1000);
                assert_true(control_consumer_may_run(c));
                assert_int_equal(pending(f), 0);
                /* lifted before the relayer confirmed: never acknowledged */
                assert_null(ack_of(f, cid));
                assert_non_null(strstr(f->log, "lifted 2 of the 2 HALT(s) it lists; nothing"));
        }
        /* B's RESUME again, alone: lifts nothing in force */
        signed_msg(f->operator, f->operator->pub.key_id, CONTROL_RESUME, "*", t + 40, lb, 1, &msg,
                   &len, sig, r2);
        xadd(f, msg, len, sig);
        free(msg);
        poll_or_fail(c, 1000);
        assert_true(control_consumer_may_run(c));
        assert_non_null(strstr(f->log, ": replay (verified by operator key"));
        assert_int_equal(control_consumer_confirm_stopped(c, &err), RW_OK);
        control_consumer_close(c);
}

static void bad_bytes_are_rejected_and_never_logged_raw(void **state)
{
        struct fx *f = *state;
        char sig[CONTROL_SIG_B64_SIZE], id[CONTROL_ID_SIZE];
        char *msg = NULL, *at;
        size_t len = 0;
        struct control_consumer *c = open_or_fail(f);
        redisReply *r;

        /* a 0xff byte in the reason, signed for real by the watchdog */
        signed_msg(f->watchdog, f->watchdog->pub.key_id, CONTROL_HALT, "SUPPLY_MISMATCH", now_ms(),
                   NULL, 0, &msg, &len, sig, id);
        at = strstr(msg, "locked total");
        assert_non_null(at);
        at[6] = (char)0xff;
        {
                struct rwerr err;

                assert_int_equal(control_msg_sign(f->watchdog, msg, len, sig, &err), RW_OK);
        }
        xadd(f, msg, len, sig);
        /* an overlong '/' and an ESC in field names and values of a bad entry */
        r = redisCommand(f->redis, "XADD %s * %b %b msg %b", f->stream, "m\xc0\xafg\x1b[2J", 7,
                         "\x1b]0;pwned\x07", 10, "\xed\xa0\x80", 3);
        assert_non_null(r);
        freeReplyObject(r);
        poll_or_fail(c, 1000);
        assert_true(control_consumer_may_run(c));
        assert_int_equal(logged(f, "rejected"), 2);
        assert_non_null(strstr(f->log, ": not_utf8 (verified by watchdog key"));
        assert_non_null(strstr(f->log, "(byte 0xff)"));
        free(msg);

        /* accepted, with escapes that decode to control characters and a bidi override */
        signed_msg(f->watchdog, f->watchdog->pub.key_id, CONTROL_HALT, "NONCE_DESYNC", now_ms(),
                   NULL, 0, &msg, &len, sig, id);
        {
                const char *from = "locked total is not minted total";
                const char *to =
                        "line\\nbreak \\u001b[31mred\\u001b[0m \\u202etxt \\u0085 ok \\u00e9";
                size_t n = len - strlen(from) + strlen(to);
                char *edited = malloc(n + 1);
                struct rwerr err;

                assert_non_null(edited);
                at = strstr(msg, from);
                assert_non_null(at);
                (void)snprintf(edited, n + 1, "%.*s%s%s", (int)(at - msg), msg, to,
                               at + strlen(from));
                len = n;
                assert_int_equal(control_msg_sign(f->watchdog, edited, len, sig, &err), RW_OK);
                xadd(f, edited, len, sig);
                free(edited);
        }
        poll_or_fail(c, 1000);
        assert_false(control_consumer_may_run(c));
        assert_int_equal(logged(f, "halt"), 1);
        assert_non_null(strstr(f->log, "line\\x0abreak \\x1b[31mred\\x1b[0m \\xe2"));
        assert_non_null(strstr(f->log, "\\xc2\\x85 ok \xc3\xa9")); /* U+0085 escaped, é kept */
        assert_non_null(strstr(control_consumer_reason(c), "\\x1b[31m"));
        assert_null(strchr(control_consumer_reason(c), 0x1b));
        free(msg);
        assert_log_is_clean(f);
        control_consumer_close(c);
}

static void the_halt_key_halts_before_any_stream_entry(void **state)
{
        struct fx *f = *state;
        char sig[CONTROL_SIG_B64_SIZE], id[CONTROL_ID_SIZE];
        struct control_consumer *c;
        struct rwerr err;
        char *msg = NULL;
        size_t len = 0;
        redisReply *r;

        /* a halt key the stranger signed is ignored */
        signed_msg(f->stranger, f->stranger->pub.key_id, CONTROL_HALT, "SUPPLY_MISMATCH", now_ms(),
                   NULL, 0, &msg, &len, sig, id);
        r = redisCommand(f->redis, "HSET %s msg %b sig %s", f->halt_key, msg, len, sig);
        assert_non_null(r);
        freeReplyObject(r);
        free(msg);
        c = open_or_fail(f);
        assert_true(control_consumer_may_run(c));
        assert_int_equal(logged(f, "halt_key_rejected"), 1);
        assert_non_null(strstr(f->log, "ignored (bad_signature)"));
        assert_int_equal(control_consumer_confirm_stopped(c, &err), RW_OK);
        assert_null(ack_of(f, id));
        control_consumer_close(c);

        /* the watchdog's halt, there before the relayer starts */
        signed_msg(f->watchdog, f->watchdog->pub.key_id, CONTROL_HALT, "SUPPLY_MISMATCH", now_ms(),
                   NULL, 0, &msg, &len, sig, id);
        r = redisCommand(f->redis, "HSET %s msg %b sig %s", f->halt_key, msg, len, sig);
        assert_non_null(r);
        freeReplyObject(r);
        c = open_or_fail(f);
        assert_false(control_consumer_may_run(c));
        assert_non_null(strstr(control_consumer_reason(c), id));
        assert_non_null(strstr(control_consumer_reason(c), "halt key"));
        assert_int_equal(stream_length(f), 0);
        poll_or_fail(c, 0);
        assert_false(control_consumer_may_run(c));
        /* acknowledged although it has no entry here */
        assert_null(ack_of(f, id));
        assert_int_equal(control_consumer_confirm_stopped(c, &err), RW_OK);
        assert_utc(ack_of(f, id));
        /* its entry arrives: the same HALT, not a replay; acked at the next confirmation */
        xadd(f, msg, len, sig);
        poll_or_fail(c, 1000);
        assert_int_equal(logged(f, "rejected"), 0);
        assert_non_null(strstr(f->log, "in force already from the halt key"));
        assert_int_equal(pending(f), 1);
        assert_int_equal(control_consumer_confirm_stopped(c, &err), RW_OK);
        assert_int_equal(pending(f), 0);
        free(msg);
        control_consumer_close(c);
}

static void a_restart_rereads_its_unacked_halt(void **state)
{
        struct fx *f = *state;
        char id[CONTROL_ID_SIZE];
        struct rwerr err;
        struct control_consumer *c = open_or_fail(f);

        publish(f, f->watchdog, CONTROL_HALT, "PROOF_VERIFICATION_FAIL", now_ms(), NULL, 0, id);
        poll_or_fail(c, 1000);
        assert_false(control_consumer_may_run(c));
        control_consumer_close(c); /* crashed before it confirmed */

        c = open_or_fail(f);
        assert_false(control_consumer_may_run(c));
        assert_non_null(strstr(control_consumer_reason(c), id));
        assert_int_equal(pending(f), 1);
        assert_int_equal(control_consumer_confirm_stopped(c, &err), RW_OK);
        assert_int_equal(pending(f), 0);
        assert_utc(ack_of(f, id));
        control_consumer_close(c);

        /* acked: a later restart does not halt again from the stream */
        c = open_or_fail(f);
        assert_true(control_consumer_may_run(c));
        control_consumer_close(c);
}

static void a_reconnection_does_not_judge_an_entry_twice(void **state)
{
        struct fx *f = *state;
        char id[CONTROL_ID_SIZE];
        struct rwerr err;
        struct control_consumer *c = open_or_fail(f);

        publish(f, f->watchdog, CONTROL_HALT, "SUPPLY_MISMATCH", now_ms(), NULL, 0, id);
        poll_or_fail(c, 1000);
        assert_false(control_consumer_may_run(c));
        assert_int_equal(pending(f), 1);
        kill_consumer_connection(f);
        assert_int_not_equal(control_consumer_poll(c, 0, &err), RW_OK);
        assert_int_equal(control_consumer_poll(c, 1100, &err), RW_ERR_IO); /* waits its second */
        poll_or_fail(c, 0); /* reconnects and re-reads its pending HALT */
        assert_false(control_consumer_may_run(c));
        assert_int_equal(logged(f, "rejected"), 0); /* not a "replay" of itself */
        assert_int_equal(logged(f, "halt"), 1);
        assert_int_equal(pending(f), 1);
        assert_null(ack_of(f, id));
        assert_int_equal(control_consumer_confirm_stopped(c, &err), RW_OK);
        assert_int_equal(pending(f), 0);
        assert_utc(ack_of(f, id));
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

/* An ACL user with exactly the rights PROTOCOL.md section 2 lists for a relayer. */
static void acl_user(const struct fx *f, const char *user, const char *password, int set)
{
        redisReply *r;

        if (set)
                r = redisCommand(f->redis,
                                 "ACL SETUSER %s reset on >%s ~* &* -@all +xgroup|create "
                                 "+xreadgroup +xack +hget +hmget +hset +client|setname",
                                 user, password);
        else
                r = redisCommand(f->redis, "ACL DELUSER %s", user);
        assert_non_null(r);
        if (r->type == REDIS_REPLY_ERROR)
                fail_msg("ACL: %s", r->str);
        freeReplyObject(r);
}

static void the_rights_of_section_2_are_enough(void **state)
{
        struct fx *f = *state;
        char user[64], url[600], sig[CONTROL_SIG_B64_SIZE], id[CONTROL_ID_SIZE],
                rid[CONTROL_ID_SIZE];
        const char *lifts[1] = {id};
        struct redisconn_target t;
        struct control_consumer *c;
        struct rwerr err;
        char *msg = NULL;
        size_t len = 0;
        redisReply *r;

        assert_int_equal(redisconn_parse_url(f->redis_url, &t, &err), RW_OK);
        (void)snprintf(user, sizeof user, "relayer-test-%d", (int)getpid());
        (void)snprintf(url, sizeof url, "redis://%s:s3cret-%d@%s:%d/%d", user, (int)getpid(),
                       t.host, t.port, t.db);
        memset(t.password, 0, sizeof t.password);
        {
                char password[32];

                (void)snprintf(password, sizeof password, "s3cret-%d", (int)getpid());
                acl_user(f, user, password, 1);
        }
        f->cfg.redis_url = url;
        f->cfg.require_heartbeat = 1;
        /* a HALT in the halt key, before the relayer starts; and a heartbeat */
        signed_msg(f->watchdog, f->watchdog->pub.key_id, CONTROL_HALT, "SUPPLY_MISMATCH", now_ms(),
                   NULL, 0, &msg, &len, sig, id);
        r = redisCommand(f->redis, "HSET %s msg %b sig %s", f->halt_key, msg, len, sig);
        assert_non_null(r);
        freeReplyObject(r);
        free(msg);
        heartbeat(f, f->watchdog, now_ms());

        c = open_or_fail(f);
        assert_int_equal(logged(f, "redis_down"), 0);
        assert_non_null(strstr(f->log, "HGETALL is denied"));
        assert_false(control_consumer_may_run(c));
        assert_non_null(strstr(control_consumer_reason(c), id));
        assert_int_equal(control_consumer_confirm_stopped(c, &err), RW_OK);
        assert_utc(ack_of(f, id));
        signed_msg(f->operator, f->operator->pub.key_id, CONTROL_RESUME, "*", now_ms(), lifts, 1,
                   &msg, &len, sig, rid);
        xadd(f, msg, len, sig);
        free(msg);
        poll_or_fail(c, 1000);
        assert_true(control_consumer_may_run(c));
        assert_int_equal(pending(f), 0);
        assert_int_equal(logged(f, "redis_down"), 0);
        control_consumer_close(c);
        acl_user(f, user, NULL, 0);
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
        f->cfg.redis_url = f->redis_url;
        /* one key in both roles (PROTOCOL.md section 3) */
        f->cfg.nwatchdog_keys = 1;
        f->cfg.operator_keys = &f->watchdog->pub;
        assert_null(control_consumer_open(&f->cfg, &err));
        assert_non_null(strstr(err.msg, "both as a watchdog and as an operator key"));
        control_consumer_close(NULL);
}

/* ---- the conformance vectors on a real stream ---- */

/* base64 text of the vectors into bytes (malloc'd, NUL-terminated). */
static char *unb64(const char *text, size_t *n)
{
        size_t cap = strlen(text) / 4 * 3 + 1;
        char *out = malloc(cap + 1);

        assert_non_null(out);
        assert_int_equal(sodium_base642bin((unsigned char *)out, cap, text, strlen(text), NULL, n,
                                           NULL, sodium_base64_VARIANT_ORIGINAL),
                         0);
        out[*n] = '\0';
        return out;
}

static const char *jstr(const cJSON *o, const char *name)
{
        const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);

        assert_true(cJSON_IsString(it));
        return it->valuestring;
}

/* A command of argv[0..argc) with binary-safe lengths (values from the vectors). */
static void run_argv(const struct fx *f, int argc, const char **argv, const size_t *lens)
{
        redisReply *r = redisCommandArgv(f->redis, argc, argv, lens);

        assert_non_null(r);
        if (r->type == REDIS_REPLY_ERROR)
                fail_msg("%s %s: %s", argv[0], argv[1], r->str);
        freeReplyObject(r);
}

/* HSET key / XADD stream id, with the vector's fields. Returns 0 when it has none. */
static int put_fields(const struct fx *f, const char *cmd, const char *key, const char *id,
                      const cJSON *fields)
{
        const char *argv[3 + 2 * 8];
        size_t lens[3 + 2 * 8];
        char *bufs[8];
        const cJSON *fl;
        int argc = 0, nb = 0, i;

        argv[argc] = cmd;
        lens[argc++] = strlen(cmd);
        argv[argc] = key;
        lens[argc++] = strlen(key);
        if (id != NULL) {
                argv[argc] = id;
                lens[argc++] = strlen(id);
        }
        cJSON_ArrayForEach(fl, fields)
        {
                assert_true(nb < 8);
                argv[argc] = jstr(fl, "name");
                lens[argc] = strlen(argv[argc]);
                argc++;
                bufs[nb] = unb64(jstr(fl, "value_b64"), &lens[argc]);
                argv[argc++] = bufs[nb++];
        }
        if (nb > 0)
                run_argv(f, argc, argv, lens);
        for (i = 0; i < nb; i++)
                free(bufs[i]);
        return nb > 0;
}

/* The log says entry `id` had outcome `expect` (and rejection `reason`). */
static int logged_outcome(const struct fx *f, const char *id, const char *expect,
                          const char *reason)
{
        char needle[128];
        const char *p;

        if (strcmp(expect, "reject") != 0) {
                (void)snprintf(needle, sizeof needle, " %s: %s ", expect,
                               expect[0] == 'h' ? "HALT" : "RESUME");
                for (p = f->log; (p = strstr(p, needle)) != NULL; p++) {
                        char entry[64];
                        const char *eol = strchr(p, '\n');

                        (void)snprintf(entry, sizeof entry, "(entry %s)", id);
                        if (strstr(p, entry) != NULL && (eol == NULL || strstr(p, entry) < eol))
                                return 1;
                }
                return 0;
        }
        (void)snprintf(needle, sizeof needle, " rejected: entry %s: %s", id, reason);
        p = strstr(f->log, needle);
        return p != NULL && (p[strlen(needle)] == ';' || p[strlen(needle)] == ' ');
}

/* One vector case through a fresh consumer on a stream of its own. */
static int consumer_case(struct fx *f, const struct control_consumer_config *base, const cJSON *c,
                         int n)
{
        const char *name = jstr(c, "name");
        const cJSON *hk = cJSON_GetObjectItemCaseSensitive(c, "halt_key"), *e, *id;
        struct control_consumer_config cfg = *base;
        char stream[160], halt_key[160];
        struct control_consumer *cons;
        struct rwerr err;
        int ok = 1, halted;

        (void)snprintf(stream, sizeof stream, "%s:v%d:control", f->prefix, n);
        (void)snprintf(halt_key, sizeof halt_key, "%s:v%d:halt", f->prefix, n);
        cfg.stream = stream;
        cfg.halt_key = halt_key;
        if (strcmp(name, "entry_read_again") == 0) {
                /* one stream entry judged twice: a consumer does it after a reconnection */
                fprintf(stderr, "case %s: skipped (one entry id, read twice)\n", name);
                return 1;
        }
        cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(c, "entries"))
        {
                /* an entry with no field exists only once deleted: XADD cannot make one */
                if (!put_fields(f, "XADD", stream, jstr(e, "entry_id"),
                                cJSON_GetObjectItemCaseSensitive(e, "fields"))) {
                        fprintf(stderr, "case %s: skipped (an entry with no field)\n", name);
                        return 1;
                }
        }
        if (cJSON_IsObject(hk))
                (void)put_fields(f, "HSET", halt_key, NULL,
                                 cJSON_GetObjectItemCaseSensitive(hk, "fields"));
        f->log[0] = '\0';
        if ((cons = control_consumer_open(&cfg, &err)) == NULL)
                fail_msg("case %s: %s", name, err.msg);
        if (cJSON_IsObject(hk)) {
                const cJSON *he = cJSON_GetObjectItemCaseSensitive(c, "halt_key_expect");
                const cJSON *hr = cJSON_GetObjectItemCaseSensitive(c, "halt_key_reason");
                char needle[224];

                if (strcmp(he->valuestring, "halt") == 0)
                        (void)snprintf(needle, sizeof needle, "from the halt key %s", halt_key);
                else
                        (void)snprintf(needle, sizeof needle, "ignored (%s)", hr->valuestring);
                if (strstr(f->log, needle) == NULL) {
                        fprintf(stderr, "case %s, halt key: wanted '%s'\n", name, needle);
                        ok = 0;
                }
        }
        cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(c, "entries"))
        {
                const cJSON *reason = cJSON_GetObjectItemCaseSensitive(e, "reason");

                if (!logged_outcome(f, jstr(e, "entry_id"), jstr(e, "expect"),
                                    cJSON_IsString(reason) ? reason->valuestring : "")) {
                        fprintf(stderr, "case %s, entry %s: wanted %s %s\n", name,
                                jstr(e, "entry_id"), jstr(e, "expect"),
                                cJSON_IsString(reason) ? reason->valuestring : "");
                        ok = 0;
                }
        }
        /* halted exactly when something is in force; each acknowledged once stopped */
        halted = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(c, "final_in_force")) > 0;
        if (control_consumer_may_run(cons) == halted) {
                fprintf(stderr, "case %s: may_run %d: %s\n", name, control_consumer_may_run(cons),
                        control_consumer_reason(cons));
                ok = 0;
        }
        if (control_consumer_confirm_stopped(cons, &err) != RW_OK)
                fail_msg("case %s: %s", name, err.msg);
        cJSON_ArrayForEach(id, cJSON_GetObjectItemCaseSensitive(c, "final_in_force"))
        {
                redisReply *r =
                        redisCommand(f->redis, "HGET %s:ack:%s relayer", stream, id->valuestring);

                assert_non_null(r);
                if (r->type != REDIS_REPLY_STRING) {
                        fprintf(stderr, "case %s: %s not acknowledged\n", name, id->valuestring);
                        ok = 0;
                }
                freeReplyObject(r);
        }
        {
                redisReply *r = redisCommand(f->redis, "EVAL %s 0 %s:ack:*",
                                             "return #redis.call('KEYS', ARGV[1])", stream);
                redisReply *p = redisCommand(f->redis, "XPENDING %s relayer", stream);

                assert_non_null(r);
                assert_non_null(p);
                if (r->integer != cJSON_GetArraySize(
                                          cJSON_GetObjectItemCaseSensitive(c, "final_in_force")) ||
                    p->element[0]->integer != 0) {
                        fprintf(stderr, "case %s: %lld acknowledgements, %lld pending\n", name,
                                r->integer, p->element[0]->integer);
                        ok = 0;
                }
                freeReplyObject(r);
                freeReplyObject(p);
        }
        assert_log_is_clean(f);
        control_consumer_close(cons);
        return ok;
}

static void the_vectors_give_the_same_outcomes_on_a_stream(void **state)
{
        struct fx *f = *state;
        struct verify_key w[4], o[4];
        struct control_consumer_config cfg = f->cfg;
        const char *dir = getenv("RELAYWATCH_SOURCE_DIR");
        char path[512], *text;
        const cJSON *c;
        cJSON *root, *keys;
        size_t nw = 0, no = 0;
        int n = 0, failed = 0;

        assert_non_null(dir);
        (void)snprintf(path, sizeof path, "%s/docs/protocol-vectors/vectors.json", dir);
        text = test_read_file(path);
        if (text == NULL)
                fail_msg("%s: cannot read it", path);
        root = cJSON_Parse(text);
        free(text);
        assert_non_null(root);
        keys = cJSON_GetObjectItemCaseSensitive(root, "keys");
        {
                const cJSON *k;
                size_t len = 0;
                char *raw;

                cJSON_ArrayForEach(k, cJSON_GetObjectItemCaseSensitive(keys, "watchdog"))
                {
                        raw = unb64(jstr(k, "public_key_b64"), &len);
                        verify_key_from_bytes((const unsigned char *)raw, &w[nw++]);
                        free(raw);
                }
                cJSON_ArrayForEach(k, cJSON_GetObjectItemCaseSensitive(keys, "operator"))
                {
                        raw = unb64(jstr(k, "public_key_b64"), &len);
                        verify_key_from_bytes((const unsigned char *)raw, &o[no++]);
                        free(raw);
                }
        }
        cfg.watchdog_keys = w;
        cfg.nwatchdog_keys = nw;
        cfg.operator_keys = o;
        cfg.noperator_keys = no;
        cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(root, "cases"))
        {
                failed += !consumer_case(f, &cfg, c, n);
                n++;
        }
        fprintf(stderr, "%d vector cases through the consumer, %d failed\n", n, failed);
        cJSON_Delete(root);
        assert_int_equal(failed, 0);
        assert_true(n >= 40);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(a_valid_halt_stops_and_is_acked_only_once_stopped,
                                                setup, teardown),
                cmocka_unit_test_setup_teardown(forged_and_altered_messages_are_rejected_and_acked,
                                                setup, teardown),
                cmocka_unit_test_setup_teardown(a_rejected_halt_is_acked_but_never_acknowledged,
                                                setup, teardown),
                cmocka_unit_test_setup_teardown(only_an_operator_key_resumes, setup, teardown),
                cmocka_unit_test_setup_teardown(a_resume_lifts_exactly_what_it_lists, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(bad_bytes_are_rejected_and_never_logged_raw, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(the_halt_key_halts_before_any_stream_entry, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(a_restart_rereads_its_unacked_halt, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(a_reconnection_does_not_judge_an_entry_twice, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(a_required_heartbeat_must_be_fresh_and_signed,
                                                setup, teardown),
                cmocka_unit_test_setup_teardown(the_rights_of_section_2_are_enough, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(without_redis_it_may_not_run, setup, teardown),
                cmocka_unit_test_setup_teardown(a_redis_error_fails_safe_until_it_is_gone, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(a_config_that_cannot_work_is_refused, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(the_vectors_give_the_same_outcomes_on_a_stream,
                                                setup, teardown),
        };

        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
