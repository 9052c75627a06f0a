/*
 * Unit tests for watchdog/base/redisconn: the Redis link (sticky problem,
 * backoff on the injected monotonic clock, reconnection) against a port
 * nothing listens on and a small in-process stand-in for Redis, and the
 * XINFO GROUPS and XINFO CONSUMERS parsers on replies made by hiredis's own
 * reader from RESP bytes.
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <hiredis/hiredis.h>

#include "redisconn.h"
#include "test_util.h"

/* ------------------------------------------------------------ a clock of our own */

static uint64_t fake_clock(void *arg)
{
        return *(const uint64_t *)arg;
}

struct link_fx {
        uint64_t now;
        uint16_t port;
        char url[96];
        struct redisconn *link;
};

/*
 * A link on the fake clock to 127.0.0.1:port: with a password and database
 * 2, or (`plain`) with neither, which the stand-in below can serve.
 */
static void link_open(struct link_fx *f, uint16_t port, int plain)
{
        struct redisconn_options o;
        struct rwerr err;

        f->now = 1000000;
        f->port = port;
        if (plain)
                (void)snprintf(f->url, sizeof f->url, "redis://127.0.0.1:%u", (unsigned)port);
        else
                (void)snprintf(f->url, sizeof f->url, "redis://:s3cret@127.0.0.1:%u/2",
                               (unsigned)port);
        memset(&o, 0, sizeof o);
        o.url = f->url;
        o.timeout_ms = 500;
        o.clock = fake_clock;
        o.clock_arg = &f->now;
        f->link = redisconn_new(&o, &err);
        assert_non_null(f->link);
}

static void sleep_ms(long ms)
{
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

        (void)nanosleep(&ts, NULL);
}

static void refused_connection_is_a_sticky_problem(void **state)
{
        struct link_fx f;
        char server[64];

        (void)state;
        link_open(&f, test_free_port(), 0);
        (void)snprintf(server, sizeof server, "redis://127.0.0.1:%u/2", (unsigned)f.port);
        assert_string_equal(redisconn_server(f.link), server);
        assert_string_equal(redisconn_problem(f.link), "");
        assert_null(redisconn_get(f.link));
        assert_int_equal(redisconn_failures(f.link), 1);
        assert_non_null(strstr(redisconn_problem(f.link), server));
        assert_non_null(strstr(redisconn_problem(f.link), "cannot connect"));
        assert_null(strstr(redisconn_problem(f.link), "s3cret"));
        /* it stays while nothing changes */
        assert_null(redisconn_get(f.link));
        assert_non_null(strstr(redisconn_problem(f.link), server));
        redisconn_free(f.link);
}

static void backoff_grows_on_the_injected_clock(void **state)
{
        static const uint64_t waits[] = {100, 200, 500, 1000, 2000, 5000, 5000, 5000};
        struct link_fx f;
        unsigned failures;
        size_t i;

        (void)state;
        link_open(&f, test_free_port(), 0);
        assert_int_equal(redisconn_retry_in_ms(f.link), 0);
        assert_null(redisconn_get(f.link)); /* the first attempt is at once */
        for (i = 0; i < sizeof waits / sizeof waits[0]; i++) {
                failures = redisconn_failures(f.link);
                assert_int_equal(redisconn_retry_in_ms(f.link), waits[i]);
                /* one millisecond early: no attempt */
                f.now += waits[i] - 1;
                assert_null(redisconn_get(f.link));
                assert_int_equal(redisconn_failures(f.link), failures);
                /* due: an attempt, which fails again */
                f.now += 1;
                assert_null(redisconn_get(f.link));
                assert_int_equal(redisconn_failures(f.link), failures + 1);
        }
        /* The wall clock does not count: real time passes, the link's clock does not... */
        failures = redisconn_failures(f.link);
        sleep_ms(150);
        assert_null(redisconn_get(f.link));
        assert_int_equal(redisconn_failures(f.link), failures);
        /* ...and the link's clock moves 5 s in no real time at all. */
        f.now += 5000;
        assert_int_equal(redisconn_retry_in_ms(f.link), 0);
        assert_null(redisconn_get(f.link));
        assert_int_equal(redisconn_failures(f.link), failures + 1);
        /* now or never: tried whatever the backoff, and counted */
        assert_true(redisconn_retry_in_ms(f.link) > 0);
        assert_null(redisconn_get_now(f.link));
        assert_int_equal(redisconn_failures(f.link), failures + 2);
        redisconn_free(f.link);
}

static void unusable_urls_never_connect(void **state)
{
        struct redisconn_options o;
        struct redisconn *l;
        struct rwerr err;

        (void)state;
        memset(&o, 0, sizeof o);
        l = redisconn_new(&o, &err); /* no URL */
        assert_non_null(l);
        assert_null(redisconn_get_now(l));
        assert_string_equal(redisconn_problem(l), "no Redis URL configured");
        assert_int_equal(redisconn_failures(l), 0);
        redisconn_free(l);
        o.url = "rediss://:hunter2@cache.example:6380/0";
        l = redisconn_new(&o, &err);
        assert_non_null(l);
        assert_null(redisconn_get(l));
        assert_non_null(strstr(redisconn_problem(l), "redis://"));
        assert_null(strstr(redisconn_problem(l), "hunter2"));
        assert_string_equal(redisconn_server(l), "redis (no usable URL)");
        redisconn_free(l);
        redisconn_free(NULL);
}

/* ------------------------------------------------------------ a stand-in for Redis */

/*
 * Accepts one connection at a time on 127.0.0.1:port and answers every
 * read with +PONG (the tests send one command at a time), or, when `drop`
 * is set, closes the connection instead (once).
 */
struct fake_redis {
        int fd;
        pthread_t thread;
        pthread_mutex_t lock;
        int stop, drop;
        unsigned accepted;
};

static int fake_flag(struct fake_redis *s, int *flag, int clear)
{
        int v;

        pthread_mutex_lock(&s->lock);
        v = *flag;
        if (clear)
                *flag = 0;
        pthread_mutex_unlock(&s->lock);
        return v;
}

static void serve_client(struct fake_redis *s, int c)
{
        char buf[512];

        while (!fake_flag(s, &s->stop, 0)) {
                struct pollfd p = {c, POLLIN, 0};
                ssize_t n;

                if (poll(&p, 1, 50) <= 0)
                        continue;
                n = read(c, buf, sizeof buf);
                if (n <= 0 || fake_flag(s, &s->drop, 1))
                        break;
                if (write(c, "+PONG\r\n", 7) != 7)
                        break;
        }
        (void)close(c);
}

static void *fake_run(void *arg)
{
        struct fake_redis *s = arg;

        while (!fake_flag(s, &s->stop, 0)) {
                struct pollfd p = {s->fd, POLLIN, 0};
                int c;

                if (poll(&p, 1, 50) <= 0)
                        continue;
                if ((c = accept(s->fd, NULL, NULL)) < 0)
                        continue;
                pthread_mutex_lock(&s->lock);
                s->accepted++;
                pthread_mutex_unlock(&s->lock);
                serve_client(s, c);
        }
        return NULL;
}

static void fake_start(struct fake_redis *s, uint16_t port)
{
        struct sockaddr_in a;
        int one = 1;

        memset(s, 0, sizeof *s);
        assert_int_equal(pthread_mutex_init(&s->lock, NULL), 0);
        s->fd = socket(AF_INET, SOCK_STREAM, 0);
        assert_true(s->fd >= 0);
        assert_int_equal(setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one), 0);
        memset(&a, 0, sizeof a);
        a.sin_family = AF_INET;
        a.sin_port = htons(port);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        assert_int_equal(bind(s->fd, (struct sockaddr *)&a, sizeof a), 0);
        assert_int_equal(listen(s->fd, 4), 0);
        assert_int_equal(pthread_create(&s->thread, NULL, fake_run, s), 0);
}

static void fake_stop(struct fake_redis *s)
{
        pthread_mutex_lock(&s->lock);
        s->stop = 1;
        pthread_mutex_unlock(&s->lock);
        assert_int_equal(pthread_join(s->thread, NULL), 0);
        (void)close(s->fd);
        pthread_mutex_destroy(&s->lock);
}

/* PING on the link's connection: 1 when it answered PONG. */
static int ping(redisContext *ctx)
{
        redisReply *r = redisCommand(ctx, "PING");
        int ok = r != NULL && r->type == REDIS_REPLY_STATUS && strcmp(r->str, "PONG") == 0;

        freeReplyObject(r);
        return ok;
}

static void reconnects_after_the_server_returns(void **state)
{
        struct fake_redis srv;
        struct link_fx plain;
        redisContext *ctx;
        struct rwerr err;
        char server[64];

        (void)state;
        /* no password, database 0: the stand-in need not know AUTH or SELECT */
        link_open(&plain, test_free_port(), 1);
        (void)snprintf(server, sizeof server, "redis://127.0.0.1:%u/0", (unsigned)plain.port);

        assert_null(redisconn_get(plain.link));
        assert_int_equal(redisconn_failures(plain.link), 1);
        /* the server comes back, but the backoff holds until the link's clock says so */
        fake_start(&srv, plain.port);
        assert_null(redisconn_get(plain.link));
        assert_int_equal(redisconn_failures(plain.link), 1);
        plain.now += 100;
        ctx = redisconn_get(plain.link);
        assert_non_null(ctx);
        assert_int_equal(redisconn_failures(plain.link), 0);
        assert_string_equal(redisconn_problem(plain.link), "");
        assert_true(ping(ctx));
        assert_ptr_equal(redisconn_get(plain.link), ctx); /* kept while it works */

        /* the server drops the connection: an I/O error, reported, and the context dropped */
        pthread_mutex_lock(&srv.lock);
        srv.drop = 1;
        pthread_mutex_unlock(&srv.lock);
        assert_false(ping(ctx));
        assert_true(ctx->err != 0);
        (void)rwerr_set(&err, RW_ERR_IO, "PING: %s", ctx->errstr);
        assert_int_equal(redisconn_failed(plain.link, RW_ERR_IO, &err), RW_ERR_IO);
        assert_non_null(strstr(redisconn_problem(plain.link), server));
        assert_non_null(strstr(redisconn_problem(plain.link), "PING: "));
        /* a new connection at once: the backoff is for failed connection attempts */
        ctx = redisconn_get(plain.link);
        assert_non_null(ctx);
        assert_true(ping(ctx));
        pthread_mutex_lock(&srv.lock);
        assert_int_equal(srv.accepted, 2);
        pthread_mutex_unlock(&srv.lock);

        /* an error of the command's own keeps the connection */
        (void)rwerr_set(&err, RW_ERR_REMOTE, "XADD: Redis says: WRONGTYPE");
        assert_int_equal(redisconn_failed(plain.link, RW_ERR_REMOTE, &err), RW_ERR_REMOTE);
        assert_ptr_equal(redisconn_get(plain.link), ctx);

        /* a connection hiredis marked broken is made again by the next get */
        pthread_mutex_lock(&srv.lock);
        srv.drop = 1;
        pthread_mutex_unlock(&srv.lock);
        assert_false(ping(ctx));
        ctx = redisconn_get(plain.link);
        assert_non_null(ctx);
        assert_true(ping(ctx));
        fake_stop(&srv);
        redisconn_free(plain.link);
}

/* ------------------------------------------------------------ XINFO replies */

/* A reply as hiredis reads it from resp[0..len); freed with freeReplyObject. */
static redisReply *reply_from_bytes(const char *resp, size_t len)
{
        redisReader *reader = redisReaderCreate();
        void *reply = NULL;

        assert_non_null(reader);
        assert_int_equal(redisReaderFeed(reader, resp, len), REDIS_OK);
        assert_int_equal(redisReaderGetReply(reader, &reply), REDIS_OK);
        assert_non_null(reply);
        redisReaderFree(reader);
        return reply;
}

static redisReply *reply_from(const char *resp)
{
        return reply_from_bytes(resp, strlen(resp));
}

/* One group of Redis 7.0 (entries-read and lag; lag nil) and one of Redis 6. */
#define GROUP7                                                                                     \
        "*12\r\n$4\r\nname\r\n$7\r\nrelayer\r\n$9\r\nconsumers\r\n:2\r\n$7\r\npending\r\n:1\r\n"   \
        "$17\r\nlast-delivered-id\r\n$15\r\n1700000000000-3\r\n$12\r\nentries-read\r\n:42\r\n"     \
        "$3\r\nlag\r\n$-1\r\n"
#define GROUP6                                                                                     \
        "*8\r\n$4\r\nname\r\n$5\r\nother\r\n$9\r\nconsumers\r\n:0\r\n$7\r\npending\r\n:0\r\n"      \
        "$17\r\nlast-delivered-id\r\n$3\r\n0-0\r\n"

static void groups_nil_lag_and_old_redis(void **state)
{
        redisReply *r = reply_from("*2\r\n" GROUP7 GROUP6);
        struct redisconn_group *g = NULL;
        struct rwerr err;
        size_t n = 0;

        (void)state;
        assert_int_equal(redisconn_xinfo_groups(r, &g, &n, &err), RW_OK);
        assert_int_equal(n, 2);
        assert_string_equal(g[0].name, "relayer");
        assert_int_equal(g[0].consumers, 2);
        assert_int_equal(g[0].pending, 1);
        assert_string_equal(g[0].last_delivered_id, "1700000000000-3");
        assert_true(g[0].entries_read_known);
        assert_int_equal(g[0].entries_read, 42);
        assert_false(g[0].lag_known); /* nil: Redis cannot tell after a trim */
        assert_string_equal(g[1].name, "other");
        assert_false(g[1].entries_read_known);
        assert_false(g[1].lag_known);
        free(g);
        freeReplyObject(r);

        r = reply_from(
                "*1\r\n*12\r\n$4\r\nname\r\n$1\r\ng\r\n$3\r\nlag\r\n:7\r\n"
                "$9\r\nconsumers\r\n:1\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n"
                "$3\r\n5-0\r\n$7\r\nfuture!\r\n$5\r\nvalue\r\n");
        assert_int_equal(redisconn_xinfo_groups(r, &g, &n, &err), RW_OK);
        assert_int_equal(n, 1);
        assert_true(g[0].lag_known);
        assert_int_equal(g[0].lag, 7);
        free(g);
        freeReplyObject(r);

        r = reply_from("*0\r\n");
        assert_int_equal(redisconn_xinfo_groups(r, &g, &n, &err), RW_OK);
        assert_int_equal(n, 0);
        assert_null(g);
        freeReplyObject(r);
}

/* Parses resp[0..len) as XINFO GROUPS, expecting `code` and `want` in the message. */
static void groups_refused_bytes(const char *resp, size_t len, int code, const char *want)
{
        redisReply *r = reply_from_bytes(resp, len);
        struct redisconn_group *g = (struct redisconn_group *)&g;
        struct rwerr err;
        size_t n = 99;

        assert_int_equal(redisconn_xinfo_groups(r, &g, &n, &err), code);
        assert_null(g);
        assert_int_equal(n, 0);
        if (strstr(err.msg, want) == NULL)
                fail_msg("'%s' not in '%s'", want, err.msg);
        freeReplyObject(r);
}

static void groups_refused(const char *resp, int code, const char *want)
{
        groups_refused_bytes(resp, strlen(resp), code, want);
}

static void groups_missing_fields_and_wrong_types(void **state)
{
        static const char nul_name[] =
                "*1\r\n*8\r\n$4\r\nname\r\n$3\r\na\0b\r\n$9\r\nconsumers\r\n:1\r\n"
                "$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$3\r\n0-0\r\n";

        (void)state;
        groups_refused("-ERR no such key\r\n", RW_ERR_REMOTE, "ERR no such key");
        groups_refused(":3\r\n", RW_ERR_PROTOCOL, "Redis returned an integer, not a list");
        groups_refused("*1\r\n:3\r\n", RW_ERR_PROTOCOL,
                       "group 1 is an integer, not field/value pairs");
        groups_refused("*1\r\n*1\r\n$4\r\nname\r\n", RW_ERR_PROTOCOL,
                       "group 1 is an odd-length array");
        groups_refused("*1\r\n*2\r\n$9\r\nconsumers\r\n:1\r\n", RW_ERR_PROTOCOL,
                       "group 1 has no name");
        groups_refused("*2\r\n" GROUP6 "*4\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:1\r\n",
                       RW_ERR_PROTOCOL, "group 2 (g) has no pending");
        groups_refused("*1\r\n*8\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:1\r\n"
                       "$7\r\npending\r\n$1\r\n1\r\n$17\r\nlast-delivered-id\r\n$3\r\n0-0\r\n",
                       RW_ERR_PROTOCOL,
                       "group 1 (g): pending is a string, expected an integer >= 0");
        groups_refused("*1\r\n*8\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:-1\r\n"
                       "$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$3\r\n0-0\r\n",
                       RW_ERR_PROTOCOL, "consumers is an integer out of range");
        groups_refused("*1\r\n*8\r\n$4\r\nname\r\n:5\r\n$9\r\nconsumers\r\n:1\r\n"
                       "$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$3\r\n0-0\r\n",
                       RW_ERR_PROTOCOL, "group 1: name is an integer, expected a string");
        groups_refused_bytes(nul_name, sizeof nul_name - 1, RW_ERR_PROTOCOL,
                             "name is too long or holds a NUL byte");
        groups_refused("*1\r\n*10\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:1\r\n"
                       "$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$3\r\n0-0\r\n"
                       "$3\r\nlag\r\n$2\r\n12\r\n",
                       RW_ERR_PROTOCOL, "lag is a string, expected an integer >= 0 or nil");
        groups_refused("*1\r\n*6\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:1\r\n"
                       "$7\r\npending\r\n:0\r\n",
                       RW_ERR_PROTOCOL, "group 1 (g) has no last-delivered-id");
}

static void consumers_parsed(void **state)
{
        redisReply *r = reply_from("*2\r\n"
                                   "*6\r\n$4\r\nname\r\n$2\r\nr1\r\n$7\r\npending\r\n:3\r\n"
                                   "$4\r\nidle\r\n:1500\r\n"
                                   "*8\r\n$4\r\nname\r\n$2\r\nr2\r\n$7\r\npending\r\n:0\r\n"
                                   "$4\r\nidle\r\n:10\r\n$8\r\ninactive\r\n:-1\r\n");
        struct redisconn_consumer *c = NULL;
        struct rwerr err;
        size_t n = 0;

        (void)state;
        assert_int_equal(redisconn_xinfo_consumers(r, &c, &n, &err), RW_OK);
        assert_int_equal(n, 2);
        assert_string_equal(c[0].name, "r1");
        assert_int_equal(c[0].pending, 3);
        assert_int_equal(c[0].idle_ms, 1500);
        assert_false(c[0].inactive_known);
        assert_string_equal(c[1].name, "r2");
        assert_true(c[1].inactive_known);
        assert_int_equal(c[1].inactive_ms, -1);
        free(c);
        freeReplyObject(r);

        r = reply_from("*1\r\n*4\r\n$4\r\nname\r\n$2\r\nr1\r\n$7\r\npending\r\n:3\r\n");
        assert_int_equal(redisconn_xinfo_consumers(r, &c, &n, &err), RW_ERR_PROTOCOL);
        assert_non_null(strstr(err.msg, "consumer 1 (r1) has no idle"));
        assert_null(c);
        freeReplyObject(r);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(refused_connection_is_a_sticky_problem),
                cmocka_unit_test(backoff_grows_on_the_injected_clock),
                cmocka_unit_test(unusable_urls_never_connect),
                cmocka_unit_test(reconnects_after_the_server_returns),
                cmocka_unit_test(groups_nil_lag_and_old_redis),
                cmocka_unit_test(groups_missing_fields_and_wrong_types),
                cmocka_unit_test(consumers_parsed),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
