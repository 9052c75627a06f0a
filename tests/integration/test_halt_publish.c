/*
 * Integration tests for watchdog/halt_publish on the local stack's Redis:
 * one HALT per incident however many replicas publish it at once, the
 * incidents hash naming the halt in force, forced and plain resumes, the
 * acknowledgement check and the count of live consumers.
 *
 * Every test works on keys of its own (test:PID:NAME:...), deleted at the end.
 */
#include <pthread.h>
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

#include "control_msg.h"
#include "halt_publish.h"
#include "redisconn.h"
#include "signing_key.h"
#include "stack_env.h"

#define REPLICAS 8

struct fx {
        char redis_url[512];
        char dir[64];
        char key_path[96];
        struct signing_key *key;
};

/* One test's key names, all under test:PID:NAME. */
struct tkeys {
        char base[96];
        char stream[128], halt_key[128];
        struct halt_publish_keys keys;
};

static int setup(void **state)
{
        static struct fx f;
        struct rwerr err;

        memset(&f, 0, sizeof f);
        assert_true(sodium_init() >= 0);
        if (stack_env_copy("REDIS_URL", f.redis_url, sizeof f.redis_url, &err) != RW_OK)
                fail_msg("%s", err.msg);
        (void)snprintf(f.dir, sizeof f.dir, "/tmp/relaywatch-halt-publish.XXXXXX");
        assert_non_null(mkdtemp(f.dir));
        (void)snprintf(f.key_path, sizeof f.key_path, "%s/watchdog.key", f.dir);
        assert_int_equal(signing_key_generate(f.key_path, &err), RW_OK);
        assert_int_equal(signing_key_load(f.key_path, &f.key, &err), RW_OK);
        *state = &f;
        return 0;
}

static int teardown(void **state)
{
        struct fx *f = *state;
        char path[128];

        signing_key_free(f->key);
        (void)snprintf(path, sizeof path, "%s.pub", f->key_path);
        unlink(path);
        unlink(f->key_path);
        rmdir(f->dir);
        return 0;
}

static redisContext *connect_or_fail(const struct fx *f)
{
        struct rwerr err;
        redisContext *ctx = redisconn_connect(f->redis_url, 2000, &err);

        if (ctx == NULL)
                fail_msg("%s", err.msg);
        return ctx;
}

/* Keys of test NAME; `derived`: leave marker/incidents/resumed to the stream name. */
static void tkeys_init(struct tkeys *t, const char *name, int derived)
{
        static char marker[128], incidents[128], resumed[128];

        memset(t, 0, sizeof *t);
        (void)snprintf(t->base, sizeof t->base, "test:%d:%s", (int)getpid(), name);
        (void)snprintf(t->stream, sizeof t->stream, "%s:control", t->base);
        (void)snprintf(t->halt_key, sizeof t->halt_key, "%s:halt", t->base);
        t->keys.stream = t->stream;
        t->keys.halt_key = t->halt_key;
        if (!derived) {
                (void)snprintf(marker, sizeof marker, "%s:control:published", t->base);
                (void)snprintf(incidents, sizeof incidents, "%s:control:incidents", t->base);
                (void)snprintf(resumed, sizeof resumed, "%s:control:resumed", t->base);
                t->keys.marker_base = marker;
                t->keys.incidents = incidents;
                t->keys.resumed = resumed;
        }
}

/* Deletes every key of the test (all of them start with its base). */
static void tkeys_cleanup(redisContext *ctx, const struct tkeys *t)
{
        redisReply *r = redisCommand(ctx, "KEYS %s:*", t->base);
        size_t i;

        assert_non_null(r);
        assert_int_equal(r->type, REDIS_REPLY_ARRAY);
        for (i = 0; i < r->elements; i++)
                freeReplyObject(redisCommand(ctx, "DEL %s", r->element[i]->str));
        freeReplyObject(r);
}

/* A RESUME lifts these (set by the test before signing one). */
static const char *resume_lifts[4];
static size_t resume_nlifts;

/* A signed HALT (or RESUME) for `invariant` at `height`; msg is malloc'd. */
static void signed_msg(const struct fx *f, enum control_type type, const char *invariant,
                       uint64_t height, char **msg, size_t *len, char sig[CONTROL_SIG_B64_SIZE],
                       char id[CONTROL_ID_SIZE])
{
        struct control_height h[2] = {{"source", height}, {"execution", height + 7}};
        struct control_msg_fields m;
        struct rwerr err;

        if (type == CONTROL_HALT)
                control_halt_id(invariant, "SIGIL", height, id);
        else
                control_resume_id(id);
        memset(&m, 0, sizeof m);
        m.type = type;
        m.id = id;
        m.invariant = invariant;
        m.severity = type == CONTROL_HALT ? "CRITICAL" : "INFO";
        m.reason = "test";
        m.heights = h;
        m.nheights = 2;
        if (type == CONTROL_RESUME) {
                m.resume_from = h;
                m.nresume_from = 2;
                m.lifts = resume_lifts;
                m.nlifts = resume_nlifts;
        }
        m.issued_at_ms = 1795000000000;
        m.watchdog_id = "test";
        m.correlation_id = "0123456789abcdef";
        m.key_id = f->key->pub.key_id;
        assert_int_equal(control_msg_build(&m, msg, len, &err), RW_OK);
        assert_int_equal(control_msg_sign(f->key, *msg, *len, sig, &err), RW_OK);
}

static long long stream_length(redisContext *ctx, const char *stream)
{
        redisReply *r = redisCommand(ctx, "XLEN %s", stream);
        long long n;

        assert_non_null(r);
        assert_int_equal(r->type, REDIS_REPLY_INTEGER);
        n = r->integer;
        freeReplyObject(r);
        return n;
}

static long long key_exists(redisContext *ctx, const char *key)
{
        redisReply *r = redisCommand(ctx, "EXISTS %s", key);
        long long n;

        assert_non_null(r);
        assert_int_equal(r->type, REDIS_REPLY_INTEGER);
        n = r->integer;
        freeReplyObject(r);
        return n;
}

/* HGET key field into out ("" when missing). */
static void hget(redisContext *ctx, const char *key, const char *field, char *out, size_t cap)
{
        redisReply *r = redisCommand(ctx, "HGET %s %s", key, field);

        assert_non_null(r);
        out[0] = '\0';
        if (r->type == REDIS_REPLY_STRING)
                (void)snprintf(out, cap, "%s", r->str);
        else
                assert_int_equal(r->type, REDIS_REPLY_NIL);
        freeReplyObject(r);
}

static void command_ok(redisContext *ctx, const char *fmt, ...)
{
        va_list ap;
        redisReply *r;

        va_start(ap, fmt);
        r = redisvCommand(ctx, fmt, ap);
        va_end(ap);
        assert_non_null(r);
        if (r->type == REDIS_REPLY_ERROR)
                fail_msg("%s: %s", fmt, r->str);
        freeReplyObject(r);
}

struct replica {
        const struct fx *f;
        const struct halt_publish_keys *keys;
        const char *id, *msg, *sig;
        size_t len;
        pthread_barrier_t *start;
        int rc;
        struct halt_publish_result res;
};

static void *replica_run(void *arg)
{
        struct replica *r = arg;
        struct rwerr err;
        redisContext *ctx = redisconn_connect(r->f->redis_url, 2000, &err);

        (void)pthread_barrier_wait(r->start);
        if (ctx == NULL) {
                r->rc = RW_ERR_IO;
                return NULL;
        }
        r->rc = halt_publish(ctx, r->keys, r->id, "SUPPLY_MISMATCH", r->msg, r->len, r->sig,
                             &r->res, &err);
        redisFree(ctx);
        return NULL;
}

static void replicas_publish_one_halt_per_incident(void **state)
{
        struct fx *f = *state;
        struct replica reps[REPLICAS];
        pthread_t threads[REPLICAS];
        pthread_barrier_t start;
        struct tkeys t;
        char sig[CONTROL_SIG_B64_SIZE], id[CONTROL_ID_SIZE], entry[HALT_PUBLISH_ENTRY_ID_SIZE];
        char value[128], expect[128];
        char *msg = NULL;
        size_t len = 0;
        int i, published = 0;
        redisContext *ctx = connect_or_fail(f);

        tkeys_init(&t, "race", 1);
        signed_msg(f, CONTROL_HALT, "SUPPLY_MISMATCH", 1234, &msg, &len, sig, id);
        assert_int_equal(pthread_barrier_init(&start, NULL, REPLICAS), 0);
        for (i = 0; i < REPLICAS; i++) {
                reps[i] = (struct replica){f, &t.keys, id, msg, sig, len, &start, -100, {0}};
                assert_int_equal(pthread_create(&threads[i], NULL, replica_run, &reps[i]), 0);
        }
        entry[0] = '\0';
        for (i = 0; i < REPLICAS; i++) {
                assert_int_equal(pthread_join(threads[i], NULL), 0);
                assert_int_equal(reps[i].rc, RW_OK);
                assert_string_equal(reps[i].res.halt_id, id);
                if (reps[i].res.outcome == HALT_PUBLISHED) {
                        published++;
                        (void)snprintf(entry, sizeof entry, "%s", reps[i].res.entry_id);
                } else {
                        assert_int_equal(reps[i].res.outcome, HALT_ALREADY_OPEN);
                }
        }
        pthread_barrier_destroy(&start);
        assert_int_equal(published, 1);
        assert_int_equal(stream_length(ctx, t.stream), 1);
        /* every replica that lost saw the winner's entry */
        for (i = 0; i < REPLICAS; i++)
                assert_string_equal(reps[i].res.entry_id, entry);
        /* the incidents hash (derived name) names the halt in force */
        (void)snprintf(expect, sizeof expect, "%s %s", id, entry);
        {
                char incidents[160];

                (void)snprintf(incidents, sizeof incidents, "%s:incidents", t.stream);
                hget(ctx, incidents, "SUPPLY_MISMATCH", value, sizeof value);
        }
        assert_string_equal(value, expect);
        tkeys_cleanup(ctx, &t);
        free(msg);
        redisFree(ctx);
}

static void the_entry_verifies_and_the_halt_key_keeps_the_first(void **state)
{
        struct fx *f = *state;
        char sig[CONTROL_SIG_B64_SIZE], sig2[CONTROL_SIG_B64_SIZE], got_sig[CONTROL_SIG_B64_SIZE];
        char id[CONTROL_ID_SIZE], id2[CONTROL_ID_SIZE], first_entry[HALT_PUBLISH_ENTRY_ID_SIZE];
        char *msg = NULL, *msg2 = NULL, *got = NULL;
        size_t len = 0, len2 = 0, got_len = 0;
        struct halt_publish_result res;
        struct control_msg parsed;
        struct tkeys t;
        struct rwerr err;
        int found = -1;
        redisContext *ctx = connect_or_fail(f);

        tkeys_init(&t, "verify", 0);
        signed_msg(f, CONTROL_HALT, "NONCE_DESYNC", 77, &msg, &len, sig, id);
        signed_msg(f, CONTROL_HALT, "DUPLICATE_BATCH", 78, &msg2, &len2, sig2, id2);
        assert_int_equal(halt_publish(ctx, &t.keys, id, "NONCE_DESYNC", msg, len, sig, &res, &err),
                         RW_OK);
        assert_int_equal(res.outcome, HALT_PUBLISHED);
        assert_string_equal(res.halt_id, id);
        assert_true(strchr(res.entry_id, '-') != NULL);
        (void)snprintf(first_entry, sizeof first_entry, "%s", res.entry_id);
        /* the same incident again: nothing new, the open halt named */
        assert_int_equal(halt_publish(ctx, &t.keys, id, "NONCE_DESYNC", msg, len, sig, &res, &err),
                         RW_OK);
        assert_int_equal(res.outcome, HALT_ALREADY_OPEN);
        assert_string_equal(res.entry_id, first_entry);
        /* another invariant during the halt: its own entry */
        assert_int_equal(
                halt_publish(ctx, &t.keys, id2, "DUPLICATE_BATCH", msg2, len2, sig2, &res, &err),
                RW_OK);
        assert_int_equal(res.outcome, HALT_PUBLISHED);
        assert_int_equal(stream_length(ctx, t.stream), 2);

        /* the second entry is exactly what was signed, and checks as a relayer checks it */
        assert_int_equal(halt_publish_read_entry(ctx, &t.keys, res.entry_id, &found, &got, &got_len,
                                                 got_sig, &err),
                         RW_OK);
        assert_int_equal(found, 1);
        assert_int_equal(got_len, len2);
        assert_memory_equal(got, msg2, len2);
        assert_string_equal(got_sig, sig2);
        assert_int_equal(control_msg_check(&f->key->pub, 1, CONTROL_ALLOW_HALT, got, got_len,
                                           got_sig, &parsed, &err),
                         0);
        assert_string_equal(parsed.id, id2);
        control_msg_free(&parsed);
        free(got);
        got = NULL;

        /* the durable halt key still holds the first halt, byte for byte, with its signature */
        assert_int_equal(
                halt_publish_read_halt_key(ctx, &t.keys, &found, &got, &got_len, got_sig, &err),
                RW_OK);
        assert_int_equal(found, 1);
        assert_int_equal(got_len, len);
        assert_memory_equal(got, msg, len);
        assert_string_equal(got_sig, sig);
        free(got);

        /* an entry that is not there is not found; a malformed id is refused */
        assert_int_equal(
                halt_publish_read_entry(ctx, &t.keys, "1-0", &found, &got, &got_len, got_sig, &err),
                RW_OK);
        assert_int_equal(found, 0);
        assert_null(got);
        assert_int_equal(halt_publish_read_entry(ctx, &t.keys, "latest", &found, &got, &got_len,
                                                 got_sig, &err),
                         RW_ERR_INVALID);
        assert_non_null(strstr(err.msg, "'latest' is not a stream entry id"));

        /* a halt key with a field that does not belong is refused, naming the key */
        command_ok(ctx, "HSET %s extra 1", t.halt_key);
        assert_int_equal(
                halt_publish_read_halt_key(ctx, &t.keys, &found, &got, &got_len, got_sig, &err),
                RW_ERR_PROTOCOL);
        assert_non_null(strstr(err.msg, t.halt_key));
        assert_non_null(strstr(err.msg, "'extra'"));
        assert_null(got);

        tkeys_cleanup(ctx, &t);
        free(msg);
        free(msg2);
        redisFree(ctx);
}

static void a_second_replica_id_for_an_open_field_gets_the_first(void **state)
{
        struct fx *f = *state;
        char sig[CONTROL_SIG_B64_SIZE], sig2[CONTROL_SIG_B64_SIZE];
        char id[CONTROL_ID_SIZE], id2[CONTROL_ID_SIZE], entry[HALT_PUBLISH_ENTRY_ID_SIZE];
        char *msg = NULL, *msg2 = NULL;
        size_t len = 0, len2 = 0;
        struct halt_publish_result res;
        struct halt_publish_open *open = NULL;
        size_t nopen = 0;
        struct tkeys t;
        struct rwerr err;
        redisContext *ctx = connect_or_fail(f);

        tkeys_init(&t, "second", 0);
        /* replica A saw the violation first at 100, replica B at 101: two ids, one incident */
        signed_msg(f, CONTROL_HALT, "SUPPLY_MISMATCH", 100, &msg, &len, sig, id);
        signed_msg(f, CONTROL_HALT, "SUPPLY_MISMATCH", 101, &msg2, &len2, sig2, id2);
        assert_string_not_equal(id, id2);
        assert_int_equal(
                halt_publish(ctx, &t.keys, id, "SUPPLY_MISMATCH", msg, len, sig, &res, &err),
                RW_OK);
        assert_int_equal(res.outcome, HALT_PUBLISHED);
        (void)snprintf(entry, sizeof entry, "%s", res.entry_id);
        assert_int_equal(
                halt_publish(ctx, &t.keys, id2, "SUPPLY_MISMATCH", msg2, len2, sig2, &res, &err),
                RW_OK);
        assert_int_equal(res.outcome, HALT_ALREADY_OPEN);
        assert_string_equal(res.halt_id, id);
        assert_string_equal(res.entry_id, entry);
        assert_int_equal(stream_length(ctx, t.stream), 1);

        assert_int_equal(halt_publish_open_halts(ctx, &t.keys, &open, &nopen, &err), RW_OK);
        assert_int_equal(nopen, 1);
        assert_string_equal(open[0].field, "SUPPLY_MISMATCH");
        assert_string_equal(open[0].halt_id, id);
        assert_string_equal(open[0].entry_id, entry);
        free(open);

        /* a value that is not "HALT_ID ENTRY_ID" is an error naming the field */
        command_ok(ctx, "HSET %s BROKEN garbage", t.keys.incidents);
        assert_int_equal(halt_publish_open_halts(ctx, &t.keys, &open, &nopen, &err),
                         RW_ERR_PROTOCOL);
        assert_null(open);
        assert_int_equal(nopen, 0);
        assert_non_null(strstr(err.msg, "field BROKEN"));
        assert_non_null(strstr(err.msg, t.keys.incidents));

        tkeys_cleanup(ctx, &t);
        free(msg);
        free(msg2);
        redisFree(ctx);
}

/* Publishes a HALT for `invariant` at `height` and checks the outcome. */
static void publish_expect(const struct fx *f, redisContext *ctx, const struct tkeys *t,
                           const char *invariant, uint64_t height, enum halt_publish_outcome expect,
                           struct halt_publish_result *res, char id[CONTROL_ID_SIZE])
{
        char sig[CONTROL_SIG_B64_SIZE];
        char *msg = NULL;
        size_t len = 0;
        struct rwerr err;

        signed_msg(f, CONTROL_HALT, invariant, height, &msg, &len, sig, id);
        if (halt_publish(ctx, &t->keys, id, invariant, msg, len, sig, res, &err) != RW_OK)
                fail_msg("%s", err.msg);
        assert_int_equal(res->outcome, expect);
        free(msg);
}

static void a_forced_resume_holds_back_the_invariant_until_cleared(void **state)
{
        struct fx *f = *state;
        char sig[CONTROL_SIG_B64_SIZE], rid[CONTROL_ID_SIZE], id[CONTROL_ID_SIZE];
        char id_supply[CONTROL_ID_SIZE], value[128];
        char *msg = NULL;
        size_t len = 0;
        struct halt_publish_result res;
        struct halt_publish_resume_result rr;
        const char *ok_now[] = {"SUPPLY_MISMATCH"};
        struct tkeys t;
        struct rwerr err;
        redisContext *ctx = connect_or_fail(f);

        tkeys_init(&t, "forced", 0);
        publish_expect(f, ctx, &t, "SUPPLY_MISMATCH", 500, HALT_PUBLISHED, &res, id_supply);
        publish_expect(f, ctx, &t, "MANUAL", 501, HALT_PUBLISHED, &res, id);
        assert_int_equal(key_exists(ctx, t.halt_key), 1);

        resume_lifts[0] = id_supply;
        resume_lifts[1] = id;
        resume_nlifts = 2;
        signed_msg(f, CONTROL_RESUME, "*", 502, &msg, &len, sig, rid);
        assert_int_equal(halt_publish_resume(ctx, &t.keys, rid, msg, len, sig, 1, resume_lifts,
                                             resume_nlifts, &rr, &err),
                         RW_OK);
        assert_int_equal(rr.outcome, HALT_RESUME_PUBLISHED);
        assert_true(strchr(rr.entry_id, '-') != NULL);
        assert_int_equal(stream_length(ctx, t.stream), 3);
        assert_int_equal(key_exists(ctx, t.halt_key), 0);
        assert_int_equal(key_exists(ctx, t.keys.incidents), 0);
        /* the invariant moved to resumed with its halt id; MANUAL did not */
        hget(ctx, t.keys.resumed, "SUPPLY_MISMATCH", value, sizeof value);
        assert_string_equal(value, id_supply);
        hget(ctx, t.keys.resumed, "MANUAL", value, sizeof value);
        assert_string_equal(value, "");
        /* the same RESUME again publishes nothing */
        assert_int_equal(halt_publish_resume(ctx, &t.keys, rid, msg, len, sig, 1, resume_lifts,
                                             resume_nlifts, &rr, &err),
                         RW_OK);
        assert_int_equal(rr.outcome, HALT_RESUME_ALREADY_SENT);
        assert_string_equal(rr.entry_id, "");
        assert_int_equal(stream_length(ctx, t.stream), 3);

        /* the violation persists: a new HALT for it is held back, naming the lifted halt */
        publish_expect(f, ctx, &t, "SUPPLY_MISMATCH", 600, HALT_RESUMED_OPEN, &res, id);
        assert_string_equal(res.halt_id, id_supply);
        assert_string_equal(res.entry_id, "");
        assert_int_equal(stream_length(ctx, t.stream), 3);
        /* a manual halt and another invariant are not held back */
        publish_expect(f, ctx, &t, "MANUAL", 601, HALT_PUBLISHED, &res, id);
        publish_expect(f, ctx, &t, "NONCE_DESYNC", 602, HALT_PUBLISHED, &res, id);
        /* seen ok: cleared, and the next violation halts again */
        assert_int_equal(halt_publish_clear_resumed(ctx, &t.keys, ok_now, 1, &err), RW_OK);
        assert_int_equal(halt_publish_clear_resumed(ctx, &t.keys, NULL, 0, &err), RW_OK);
        hget(ctx, t.keys.resumed, "SUPPLY_MISMATCH", value, sizeof value);
        assert_string_equal(value, "");
        publish_expect(f, ctx, &t, "SUPPLY_MISMATCH", 700, HALT_PUBLISHED, &res, id);
        assert_string_equal(res.halt_id, id);
        assert_int_equal(stream_length(ctx, t.stream), 6);

        tkeys_cleanup(ctx, &t);
        free(msg);
        redisFree(ctx);
}

static void a_plain_resume_clears_the_incidents_and_the_halt_key(void **state)
{
        struct fx *f = *state;
        char sig[CONTROL_SIG_B64_SIZE], rid[CONTROL_ID_SIZE], id[CONTROL_ID_SIZE];
        char id_root[CONTROL_ID_SIZE], ack_key[256];
        char *msg = NULL;
        size_t len = 0;
        struct halt_publish_result res;
        struct halt_publish_resume_result rr;
        struct halt_publish_open *open = NULL;
        size_t nopen = 99;
        struct tkeys t;
        struct rwerr err;
        redisContext *ctx = connect_or_fail(f);

        tkeys_init(&t, "plain", 1);
        publish_expect(f, ctx, &t, "ROOT_MISMATCH", 800, HALT_PUBLISHED, &res, id_root);
        publish_expect(f, ctx, &t, "NONCE_DESYNC", 801, HALT_PUBLISHED, &res, id);
        (void)snprintf(ack_key, sizeof ack_key, "%s:ack:%s", t.stream, id_root);
        command_ok(ctx, "HSET %s relayer 2026-12-03T00:00:00.000Z", ack_key);
        assert_int_equal(halt_publish_open_halts(ctx, &t.keys, &open, &nopen, &err), RW_OK);
        assert_int_equal(nopen, 2);
        /* sorted by entry: the first published first */
        assert_string_equal(open[0].field, "ROOT_MISMATCH");
        assert_string_equal(open[1].field, "NONCE_DESYNC");
        free(open);

        /* a RESUME that leaves a HALT in force out of its lifts writes nothing */
        resume_lifts[0] = id_root;
        resume_nlifts = 1;
        signed_msg(f, CONTROL_RESUME, "*", 802, &msg, &len, sig, rid);
        assert_int_equal(halt_publish_resume(ctx, &t.keys, rid, msg, len, sig, 0, resume_lifts,
                                             resume_nlifts, &rr, &err),
                         RW_OK);
        assert_int_equal(rr.outcome, HALT_RESUME_NOT_LISTED);
        assert_string_equal(rr.halt_id, id);
        assert_int_equal(stream_length(ctx, t.stream), 2);
        assert_int_equal(key_exists(ctx, t.halt_key), 1);
        free(msg);
        /* one that lists both is published, and takes the acknowledgements with it */
        resume_lifts[1] = id;
        resume_nlifts = 2;
        signed_msg(f, CONTROL_RESUME, "*", 802, &msg, &len, sig, rid);
        assert_int_equal(halt_publish_resume(ctx, &t.keys, rid, msg, len, sig, 0, resume_lifts,
                                             resume_nlifts, &rr, &err),
                         RW_OK);
        assert_int_equal(rr.outcome, HALT_RESUME_PUBLISHED);
        assert_int_equal(key_exists(ctx, ack_key), 0);
        assert_int_equal(key_exists(ctx, t.halt_key), 0);
        assert_int_equal(halt_publish_open_halts(ctx, &t.keys, &open, &nopen, &err), RW_OK);
        assert_int_equal(nopen, 0);
        assert_null(open);
        {
                char resumed[160];

                (void)snprintf(resumed, sizeof resumed, "%s:resumed", t.stream);
                assert_int_equal(key_exists(ctx, resumed), 0);
        }
        /* halted again later: a new halt key */
        publish_expect(f, ctx, &t, "ROOT_MISMATCH", 900, HALT_PUBLISHED, &res, id);
        assert_int_equal(key_exists(ctx, t.halt_key), 1);

        tkeys_cleanup(ctx, &t);
        free(msg);
        redisFree(ctx);
}

static void acks_name_the_halt_per_group(void **state)
{
        struct fx *f = *state;
        char id[CONTROL_ID_SIZE], ack_key[256];
        const char *groups[] = {"relayer-a", "relayer-b"};
        struct halt_publish_result res;
        struct tkeys t;
        struct rwerr err;
        int acked[2] = {-1, -1};
        redisContext *ctx = connect_or_fail(f);

        tkeys_init(&t, "acked", 1);
        publish_expect(f, ctx, &t, "SUPPLY_MISMATCH", 1000, HALT_PUBLISHED, &res, id);
        (void)snprintf(ack_key, sizeof ack_key, "%s:ack:%s", t.stream, id);
        /* nothing yet; an XACK of the entry is not an acknowledgement */
        command_ok(ctx, "XGROUP CREATE %s relayer-a 0", t.stream);
        command_ok(ctx, "XREADGROUP GROUP relayer-a r1 COUNT 10 STREAMS %s >", t.stream);
        command_ok(ctx, "XACK %s relayer-a %s", t.stream, res.entry_id);
        assert_int_equal(halt_publish_acks(ctx, &t.keys, id, groups, 2, acked, &err), RW_OK);
        assert_int_equal(acked[0], 0);
        assert_int_equal(acked[1], 0);
        /* one instance acknowledged by naming the HALT */
        command_ok(ctx, "HSET %s relayer-a 2026-12-03T10:00:00.000Z", ack_key);
        assert_int_equal(halt_publish_acks(ctx, &t.keys, id, groups, 2, acked, &err), RW_OK);
        assert_int_equal(acked[0], 1);
        assert_int_equal(acked[1], 0);
        command_ok(ctx, "HSET %s relayer-b 2026-12-03T10:00:01.000Z", ack_key);
        assert_int_equal(halt_publish_acks(ctx, &t.keys, id, groups, 2, acked, &err), RW_OK);
        assert_int_equal(acked[1], 1);
        /* an ack key of another type is named */
        command_ok(ctx, "DEL %s", ack_key);
        command_ok(ctx, "SET %s x", ack_key);
        assert_int_equal(halt_publish_acks(ctx, &t.keys, id, groups, 2, acked, &err),
                         RW_ERR_PROTOCOL);
        assert_non_null(strstr(err.msg, ack_key));
        command_ok(ctx, "DEL %s", ack_key);

        tkeys_cleanup(ctx, &t);
        redisFree(ctx);
}

static void announced_versions_are_read(void **state)
{
        struct fx *f = *state;
        char versions[HALT_PUBLISH_VERSIONS_SIZE], clients[256];
        struct tkeys t;
        struct rwerr err;
        redisContext *ctx = connect_or_fail(f);

        tkeys_init(&t, "clients", 1);
        (void)snprintf(clients, sizeof clients, "%s:clients", t.stream);
        assert_int_equal(halt_publish_client_versions(ctx, &t.keys, "relayer", versions, &err),
                         RW_OK);
        assert_string_equal(versions, "");
        command_ok(ctx, "HSET %s relayer 1,2", clients);
        assert_int_equal(halt_publish_client_versions(ctx, &t.keys, "relayer", versions, &err),
                         RW_OK);
        assert_string_equal(versions, "1,2");
        assert_true(halt_publish_versions_include(versions, 1));
        assert_true(halt_publish_versions_include(versions, 2));
        assert_false(halt_publish_versions_include(versions, 3));
        assert_false(halt_publish_versions_include("12", 1));
        assert_false(halt_publish_versions_include("", 1));
        command_ok(ctx, "DEL %s", clients);

        tkeys_cleanup(ctx, &t);
        redisFree(ctx);
}

static void live_consumers_are_counted_by_idle_time(void **state)
{
        struct fx *f = *state;
        struct tkeys t;
        struct rwerr err;
        size_t live = 99, total = 99;
        const struct timespec wait = {1, 200000000};
        redisContext *ctx = connect_or_fail(f);

        tkeys_init(&t, "consumers", 1);
        assert_int_equal(
                halt_publish_live_consumers(ctx, &t.keys, "relayer", 30000, &live, &total, &err),
                RW_ERR_REFUSED);
        assert_int_equal(live, 0);
        assert_int_equal(total, 0);
        command_ok(ctx, "XGROUP CREATE %s relayer $ MKSTREAM", t.stream);
        assert_int_equal(
                halt_publish_live_consumers(ctx, &t.keys, "relayer", 30000, &live, &total, &err),
                RW_OK);
        assert_int_equal(total, 0);
        assert_int_equal(live, 0);
        /* (Redis 7.0 counts a consumer, and resets its idle time, only when a read
         * delivers something) */
        command_ok(ctx, "XADD %s * msg a sig b", t.stream);
        command_ok(ctx, "XREADGROUP GROUP relayer r1 COUNT 1 STREAMS %s >", t.stream);
        command_ok(ctx, "XGROUP CREATECONSUMER %s relayer r2", t.stream);
        assert_int_equal(
                halt_publish_live_consumers(ctx, &t.keys, "relayer", 30000, &live, &total, &err),
                RW_OK);
        assert_int_equal(total, 2);
        assert_int_equal(live, 2);
        (void)nanosleep(&wait, NULL);
        /* both idle for over a second now */
        assert_int_equal(
                halt_publish_live_consumers(ctx, &t.keys, "relayer", 1000, &live, &total, &err),
                RW_OK);
        assert_int_equal(total, 2);
        assert_int_equal(live, 0);
        /* a connection named like r2 that just sent a command: r2 is there, blocked
         * on a quiet stream as far as Redis 7.0 counts idle time */
        {
                redisContext *r2 = connect_or_fail(f);

                command_ok(r2, "CLIENT SETNAME r2");
                command_ok(r2, "PING");
                assert_int_equal(halt_publish_live_consumers(ctx, &t.keys, "relayer", 1000, &live,
                                                             &total, &err),
                                 RW_OK);
                assert_int_equal(total, 2);
                assert_int_equal(live, 1);
                redisFree(r2);
        }
        /* r1 reads again: live again */
        command_ok(ctx, "XADD %s * msg c sig d", t.stream);
        command_ok(ctx, "XREADGROUP GROUP relayer r1 COUNT 1 STREAMS %s >", t.stream);
        assert_int_equal(
                halt_publish_live_consumers(ctx, &t.keys, "relayer", 1000, &live, &total, &err),
                RW_OK);
        assert_int_equal(total, 2);
        assert_int_equal(live, 1);

        tkeys_cleanup(ctx, &t);
        redisFree(ctx);
}

static void entry_ids_compare_as_numbers(void **state)
{
        struct rwerr err;
        int cmp = 99;

        (void)state;
        assert_int_equal(halt_publish_entry_id_cmp("9-0", "10-0", &cmp, &err), RW_OK);
        assert_true(cmp < 0);
        assert_int_equal(halt_publish_entry_id_cmp("10-2", "10-10", &cmp, &err), RW_OK);
        assert_true(cmp < 0);
        assert_int_equal(
                halt_publish_entry_id_cmp("1700000000000-5", "1700000000000-5", &cmp, &err), RW_OK);
        assert_int_equal(cmp, 0);
        assert_int_equal(halt_publish_entry_id_cmp("18446744073709551615-0", "2-0", &cmp, &err),
                         RW_OK);
        assert_true(cmp > 0);
        assert_int_equal(halt_publish_entry_id_cmp("18446744073709551616-0", "2-0", &cmp, &err),
                         RW_ERR_INVALID);
        assert_int_equal(halt_publish_entry_id_cmp("1-", "2-0", &cmp, &err), RW_ERR_INVALID);
        assert_int_equal(halt_publish_entry_id_cmp("2-0", "-1-0", &cmp, &err), RW_ERR_INVALID);
        assert_non_null(strstr(err.msg, "'-1-0'"));
}

static void bad_ids_and_fields_are_refused(void **state)
{
        struct fx *f = *state;
        char id[300];
        struct halt_publish_result res;
        struct tkeys t;
        struct rwerr err;
        redisContext *ctx = connect_or_fail(f);

        tkeys_init(&t, "bad", 1);
        memset(id, 'a', sizeof id - 1);
        id[sizeof id - 1] = '\0';
        assert_int_equal(halt_publish(ctx, &t.keys, id, "X", "{}", 2, "x", &res, &err),
                         RW_ERR_RANGE);
        assert_int_equal(res.outcome, 0);
        assert_int_equal(halt_publish(ctx, &t.keys, "halt-1", "", "{}", 2, "x", &res, &err),
                         RW_ERR_INVALID);
        assert_int_equal(key_exists(ctx, t.stream), 0);
        redisFree(ctx);
}

static void default_keys_are_the_protocol_names(void **state)
{
        struct halt_publish_keys k;

        (void)state;
        halt_publish_default_keys(&k);
        assert_string_equal(k.stream, "relayer:control");
        assert_string_equal(k.halt_key, "relayer:halt");
        assert_string_equal(k.marker_base, "relayer:control:published");
        assert_string_equal(k.incidents, "relayer:control:incidents");
        assert_string_equal(k.resumed, "relayer:control:resumed");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(replicas_publish_one_halt_per_incident),
                cmocka_unit_test(the_entry_verifies_and_the_halt_key_keeps_the_first),
                cmocka_unit_test(a_second_replica_id_for_an_open_field_gets_the_first),
                cmocka_unit_test(a_forced_resume_holds_back_the_invariant_until_cleared),
                cmocka_unit_test(a_plain_resume_clears_the_incidents_and_the_halt_key),
                cmocka_unit_test(acks_name_the_halt_per_group),
                cmocka_unit_test(announced_versions_are_read),
                cmocka_unit_test(live_consumers_are_counted_by_idle_time),
                cmocka_unit_test(entry_ids_compare_as_numbers),
                cmocka_unit_test(bad_ids_and_fields_are_refused),
                cmocka_unit_test(default_keys_are_the_protocol_names),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
