/*
 * Integration tests for watchdog/halt_publish on the local stack's Redis:
 * one HALT per incident id however many replicas publish it at once, the
 * entry verifies as the relayer would check it, the durable halt key keeps
 * the first halt, and a second incident gets its own entry.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
        struct halt_publish_keys keys;
        char stream[96], halt_key[96], marker_base[96];
};

static int setup(void **state)
{
        static struct fx f;
        const char *path = getenv("RELAYWATCH_STACK_ENV");
        struct stack_env *env;
        struct rwerr err;
        const char *url;

        memset(&f, 0, sizeof f);
        assert_non_null(path);
        assert_true(sodium_init() >= 0);
        env = stack_env_load(path, &err);
        if (env == NULL)
                fail_msg("%s", err.msg);
        url = stack_env_get(env, "REDIS_URL");
        assert_non_null(url);
        (void)snprintf(f.redis_url, sizeof f.redis_url, "%s", url);
        stack_env_free(env);
        (void)snprintf(f.dir, sizeof f.dir, "/tmp/relaywatch-halt-publish.XXXXXX");
        assert_non_null(mkdtemp(f.dir));
        (void)snprintf(f.key_path, sizeof f.key_path, "%s/watchdog.key", f.dir);
        assert_int_equal(signing_key_generate(f.key_path, &err), RW_OK);
        assert_int_equal(signing_key_load(f.key_path, &f.key, &err), RW_OK);
        /* keys of this test's own, so runs and other tests never meet */
        (void)snprintf(f.stream, sizeof f.stream, "test:%d:control", (int)getpid());
        (void)snprintf(f.halt_key, sizeof f.halt_key, "test:%d:halt", (int)getpid());
        (void)snprintf(f.marker_base, sizeof f.marker_base, "test:%d:published", (int)getpid());
        f.keys.stream = f.stream;
        f.keys.halt_key = f.halt_key;
        f.keys.marker_base = f.marker_base;
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

/* A signed HALT for `invariant` at `height`; msg is malloc'd. */
static void signed_halt(const struct fx *f, const char *invariant, uint64_t height, char **msg,
                        size_t *len, char sig[CONTROL_SIG_B64_SIZE], char id[CONTROL_ID_SIZE])
{
        struct control_height h[2] = {{"source", height}, {"execution", height + 7}};
        struct control_msg_fields m;
        struct rwerr err;

        control_halt_id(invariant, "SIGIL", height, id);
        memset(&m, 0, sizeof m);
        m.type = CONTROL_HALT;
        m.id = id;
        m.invariant = invariant;
        m.severity = "CRITICAL";
        m.reason = "test halt";
        m.heights = h;
        m.nheights = 2;
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

struct replica {
        const struct fx *f;
        const char *id, *msg, *sig;
        size_t len;
        pthread_barrier_t *start;
        int rc, published;
};

static void *replica_run(void *arg)
{
        struct replica *r = arg;
        char entry[HALT_PUBLISH_ENTRY_ID_SIZE];
        struct rwerr err;
        redisContext *ctx = redisconn_connect(r->f->redis_url, 2000, &err);

        (void)pthread_barrier_wait(r->start);
        if (ctx == NULL) {
                r->rc = RW_ERR_IO;
                return NULL;
        }
        r->rc = halt_publish(ctx, &r->f->keys, r->id, r->msg, r->len, r->sig, &r->published, entry,
                             &err);
        redisFree(ctx);
        return NULL;
}

static void replicas_publish_one_halt_per_incident(void **state)
{
        struct fx *f = *state;
        struct replica reps[REPLICAS];
        pthread_t threads[REPLICAS];
        pthread_barrier_t start;
        char sig[CONTROL_SIG_B64_SIZE], id[CONTROL_ID_SIZE];
        char *msg = NULL;
        size_t len = 0;
        int i, published = 0;
        redisContext *ctx = connect_or_fail(f);

        signed_halt(f, "SUPPLY_MISMATCH", 1234, &msg, &len, sig, id);
        assert_int_equal(pthread_barrier_init(&start, NULL, REPLICAS), 0);
        for (i = 0; i < REPLICAS; i++) {
                reps[i] = (struct replica){f, id, msg, sig, len, &start, -100, 0};
                assert_int_equal(pthread_create(&threads[i], NULL, replica_run, &reps[i]), 0);
        }
        for (i = 0; i < REPLICAS; i++) {
                assert_int_equal(pthread_join(threads[i], NULL), 0);
                assert_int_equal(reps[i].rc, RW_OK);
                published += reps[i].published;
        }
        pthread_barrier_destroy(&start);
        assert_int_equal(published, 1);
        assert_int_equal(stream_length(ctx, f->stream), 1);
        freeReplyObject(
                redisCommand(ctx, "DEL %s %s %s:%s", f->stream, f->halt_key, f->marker_base, id));
        free(msg);
        redisFree(ctx);
}

static void the_entry_verifies_and_the_halt_key_keeps_the_first(void **state)
{
        struct fx *f = *state;
        char sig[CONTROL_SIG_B64_SIZE], sig2[CONTROL_SIG_B64_SIZE];
        char id[CONTROL_ID_SIZE], id2[CONTROL_ID_SIZE], entry[HALT_PUBLISH_ENTRY_ID_SIZE];
        char *msg = NULL, *msg2 = NULL;
        size_t len = 0, len2 = 0;
        struct control_msg parsed;
        struct rwerr err;
        redisContext *ctx = connect_or_fail(f);
        redisReply *r;
        long long before = stream_length(ctx, f->stream);
        int published = -1;

        r = redisCommand(ctx, "DEL %s", f->halt_key); /* no halt in force yet */
        assert_non_null(r);
        freeReplyObject(r);

        signed_halt(f, "NONCE_DESYNC", 77, &msg, &len, sig, id);
        signed_halt(f, "DUPLICATE_BATCH", 78, &msg2, &len2, sig2, id2);
        assert_int_equal(halt_publish(ctx, &f->keys, id, msg, len, sig, &published, entry, &err),
                         RW_OK);
        assert_int_equal(published, 1);
        assert_true(strchr(entry, '-') != NULL);
        /* the same incident again: nothing new */
        assert_int_equal(halt_publish(ctx, &f->keys, id, msg, len, sig, &published, entry, &err),
                         RW_OK);
        assert_int_equal(published, 0);
        assert_string_equal(entry, "");
        /* another invariant during the halt: its own entry */
        assert_int_equal(
                halt_publish(ctx, &f->keys, id2, msg2, len2, sig2, &published, entry, &err), RW_OK);
        assert_int_equal(published, 1);
        assert_int_equal(stream_length(ctx, f->stream), before + 2);

        /* the last entry is exactly what was signed, and checks as a relayer checks it */
        r = redisCommand(ctx, "XREVRANGE %s + - COUNT 1", f->stream);
        assert_non_null(r);
        assert_int_equal(r->type, REDIS_REPLY_ARRAY);
        assert_int_equal(r->elements, 1);
        {
                const redisReply *fields = r->element[0]->element[1];

                assert_int_equal(fields->elements, 4);
                assert_string_equal(fields->element[0]->str, "msg");
                assert_int_equal(fields->element[1]->len, len2);
                assert_memory_equal(fields->element[1]->str, msg2, len2);
                assert_string_equal(fields->element[2]->str, "sig");
                assert_string_equal(fields->element[3]->str, sig2);
                assert_int_equal(control_msg_check(&f->key->pub, 1, CONTROL_ALLOW_HALT,
                                                   fields->element[1]->str, fields->element[1]->len,
                                                   fields->element[3]->str, &parsed, &err),
                                 RW_OK);
                assert_string_equal(parsed.id, id2);
                control_msg_free(&parsed);
        }
        freeReplyObject(r);

        /* the durable halt key still holds the first halt, byte for byte, with its signature */
        r = redisCommand(ctx, "HMGET %s msg sig", f->halt_key);
        assert_non_null(r);
        assert_int_equal(r->type, REDIS_REPLY_ARRAY);
        assert_int_equal(r->elements, 2);
        assert_int_equal(r->element[0]->type, REDIS_REPLY_STRING);
        assert_int_equal(r->element[0]->len, len);
        assert_memory_equal(r->element[0]->str, msg, len);
        assert_string_equal(r->element[1]->str, sig);
        freeReplyObject(r);
        r = redisCommand(ctx, "DEL %s %s %s:%s %s:%s", f->stream, f->halt_key, f->marker_base, id,
                         f->marker_base, id2);
        freeReplyObject(r);
        free(msg);
        free(msg2);
        redisFree(ctx);
}

static void an_id_too_long_for_a_key_is_refused(void **state)
{
        struct fx *f = *state;
        char id[300], entry[HALT_PUBLISH_ENTRY_ID_SIZE];
        struct rwerr err;
        int published = -1;
        redisContext *ctx = connect_or_fail(f);

        memset(id, 'a', sizeof id - 1);
        id[sizeof id - 1] = '\0';
        assert_int_equal(halt_publish(ctx, &f->keys, id, "{}", 2, "x", &published, entry, &err),
                         RW_ERR_RANGE);
        assert_int_equal(published, 0);
        redisFree(ctx);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(replicas_publish_one_halt_per_incident),
                cmocka_unit_test(the_entry_verifies_and_the_halt_key_keeps_the_first),
                cmocka_unit_test(an_id_too_long_for_a_key_is_refused),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
