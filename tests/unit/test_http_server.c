/*
 * The HTTP server (watchdog/http/http_server.c) over real loopback
 * sockets, asked with libcurl the way Prometheus, a kubelet and a browser
 * ask it: the routes and their status codes, HEAD, refused methods and
 * bodies, the token, what the probes say before and after the loop
 * publishes, the page with the status JSON inside (and a "</script>" in it
 * made harmless), the runbooks, and idle connections that hold every slot
 * until the timeout closes them.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "http_server.h"
#include "rwclock.h"

struct reply {
        long code;
        char body[65536];
        size_t len;
        char type[256];
        char allow[256];
        char auth[256];
};

static void sleep_ms(long ms)
{
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

        (void)nanosleep(&ts, NULL);
}

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
        struct reply *r = arg;
        size_t k = size * n, room = sizeof r->body - 1 - r->len;

        memcpy(r->body + r->len, data, k < room ? k : room);
        r->len += k < room ? k : room;
        r->body[r->len] = '\0';
        return k;
}

static size_t on_header(char *data, size_t size, size_t n, void *arg)
{
        struct reply *r = arg;
        size_t k = size * n;
        char line[256];

        (void)snprintf(line, sizeof line, "%.*s", (int)(k < 255 ? k : 255), data);
        line[strcspn(line, "\r\n")] = '\0';
        if (strncasecmp(line, "Content-Type: ", 14) == 0)
                (void)snprintf(r->type, sizeof r->type, "%s", line + 14);
        if (strncasecmp(line, "Allow: ", 7) == 0)
                (void)snprintf(r->allow, sizeof r->allow, "%s", line + 7);
        if (strncasecmp(line, "WWW-Authenticate: ", 18) == 0)
                (void)snprintf(r->auth, sizeof r->auth, "%s", line + 18);
        return k;
}

/* One request: METHOD PATH on `port`, with an optional header and body. */
static void ask(unsigned port, const char *method, const char *path, const char *header,
                const char *body, struct reply *r)
{
        CURL *c = curl_easy_init();
        struct curl_slist *h = header != NULL ? curl_slist_append(NULL, header) : NULL;
        char url[512];

        assert_non_null(c);
        memset(r, 0, sizeof *r);
        (void)snprintf(url, sizeof url, "http://127.0.0.1:%u%s", port, path);
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
        if (strcmp(method, "HEAD") == 0)
                curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
        if (body != NULL)
                curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        if (h != NULL)
                curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
        curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
        if (curl_easy_perform(c) == CURLE_OK)
                curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->code);
        else
                r->code = -1;
        curl_slist_free_all(h);
        curl_easy_cleanup(c);
}

static const char status_text[] = "{\"state\":\"HALTED\",\"reason\":\"</script><b>x</b>\"}";

static char *make_status(void *ctx, size_t *len)
{
        char *t = strdup(status_text);

        (*(int *)ctx)++;
        *len = strlen(status_text);
        return t;
}

struct fixture {
        struct http_server *s;
        unsigned port;
        int status_calls;
};

static struct http_server *start(struct fixture *f, const char *token, unsigned max_conn,
                                 unsigned timeout_s)
{
        struct http_server_options o = {
                .host = "127.0.0.1",
                .port = 0,
                .token = token,
                .max_connections = max_conn,
                .timeout_s = timeout_s,
                .status_json = make_status,
                .status_ctx = &f->status_calls,
        };
        struct rwerr err;

        f->s = http_server_start(&o, &err);
        assert_non_null(f->s);
        f->port = http_server_port(f->s);
        assert_true(f->port > 0);
        return f->s;
}

static void healthy(struct fixture *f)
{
        struct http_health h = {
                .tick_mono_ms = rwclock_mono_ms(),
                .live_limit_ms = 5000,
                .halt_path_up = 1,
                .tier1_evaluated = 1,
                .tier1_mono_ms = rwclock_mono_ms(),
                .blind_limit_ms = 60000,
                .cycles = 3,
        };

        http_server_set_health(f->s, &h);
}

/* Waits (at most 3 s) for the status thread to have made a status. */
static void wait_status(struct fixture *f)
{
        struct reply r;
        int i;

        for (i = 0; i < 300; i++) {
                ask(f->port, "GET", "/status", NULL, NULL, &r);
                if (r.code == 200)
                        return;
                sleep_ms(10);
        }
        fail_msg("no /status within 3 s");
}

static void test_routes_and_methods(void **state)
{
        struct fixture f = {0};
        struct reply r;

        (void)state;
        start(&f, NULL, 16, 5);
        ask(f.port, "GET", "/nope", NULL, NULL, &r);
        assert_int_equal(r.code, 404);
        assert_non_null(strstr(r.body, "no such page: /nope"));
        ask(f.port, "POST", "/metrics", NULL, "x=1", &r);
        assert_int_equal(r.code, 405);
        assert_string_equal(r.allow, "GET, HEAD");
        ask(f.port, "DELETE", "/status", NULL, NULL, &r);
        assert_int_equal(r.code, 405);
        /* a GET that carries a body is refused, not read */
        ask(f.port, "GET", "/metrics", "Content-Type: text/plain", "hello", &r);
        assert_int_equal(r.code, 413);
        assert_non_null(strstr(r.body, "request bodies are refused"));
        /* nothing published yet: metrics 503 with the reason */
        ask(f.port, "GET", "/metrics", NULL, NULL, &r);
        assert_int_equal(r.code, 503);
        assert_non_null(strstr(r.body, "no metrics yet"));
        http_server_set_metrics(f.s, strdup("relaywatch_up 1\n"), strlen("relaywatch_up 1\n"));
        ask(f.port, "GET", "/metrics", NULL, NULL, &r);
        assert_int_equal(r.code, 200);
        assert_string_equal(r.body, "relaywatch_up 1\n");
        assert_string_equal(r.type, "text/plain; version=0.0.4; charset=utf-8");
        ask(f.port, "HEAD", "/metrics", NULL, NULL, &r);
        assert_int_equal(r.code, 200);
        assert_int_equal(r.len, 0);
        /* a newer text replaces the older */
        http_server_set_metrics(f.s, strdup("relaywatch_up 2\n"), strlen("relaywatch_up 2\n"));
        ask(f.port, "GET", "/metrics", NULL, NULL, &r);
        assert_string_equal(r.body, "relaywatch_up 2\n");
        http_server_stop(f.s);
}

static void test_probes(void **state)
{
        struct fixture f = {0};
        struct http_health h;
        struct reply r;

        (void)state;
        start(&f, "a-token-of-sixteen-chars", 16, 5);
        /* before the loop publishes: nothing is live, and the probes need no token */
        ask(f.port, "GET", "/health/live", NULL, NULL, &r);
        assert_int_equal(r.code, 503);
        assert_non_null(strstr(r.body, "the loop has not started"));
        ask(f.port, "GET", "/health/startup", NULL, NULL, &r);
        assert_int_equal(r.code, 503);
        healthy(&f);
        ask(f.port, "GET", "/health/live", NULL, NULL, &r);
        assert_int_equal(r.code, 200);
        assert_non_null(strstr(r.body, "\"ok\":true"));
        ask(f.port, "GET", "/health/ready", NULL, NULL, &r);
        assert_int_equal(r.code, 200);
        ask(f.port, "GET", "/health/startup", NULL, NULL, &r);
        assert_int_equal(r.code, 200);

        /* the halt path down: not ready, still live, with the problem in words */
        memset(&h, 0, sizeof h);
        h.tick_mono_ms = rwclock_mono_ms();
        h.live_limit_ms = 5000;
        h.tier1_evaluated = 1;
        h.tier1_mono_ms = rwclock_mono_ms();
        h.blind_limit_ms = 60000;
        h.cycles = 4;
        (void)snprintf(h.halt_path_problem, sizeof h.halt_path_problem,
                       "Redis at 127.0.0.1:6379: \"connection refused\"");
        http_server_set_health(f.s, &h);
        ask(f.port, "GET", "/health/ready", NULL, NULL, &r);
        assert_int_equal(r.code, 503);
        assert_non_null(strstr(r.body, "the halt path is down: Redis at 127.0.0.1:6379: "
                                       "'connection refused'"));
        ask(f.port, "GET", "/health/live", NULL, NULL, &r);
        assert_int_equal(r.code, 200);

        /* blind: the last Tier 1 evaluation older than the limit */
        h.halt_path_up = 1;
        h.tier1_mono_ms = rwclock_mono_ms() - 120000;
        http_server_set_health(f.s, &h);
        ask(f.port, "GET", "/health/ready", NULL, NULL, &r);
        assert_int_equal(r.code, 503);
        assert_non_null(strstr(r.body, "blind limit 60000 ms"));

        /* the loop stopped turning: nothing is live any more */
        h.tick_mono_ms = rwclock_mono_ms() - 6000;
        http_server_set_health(f.s, &h);
        ask(f.port, "GET", "/health/live", NULL, NULL, &r);
        assert_int_equal(r.code, 503);
        assert_non_null(strstr(r.body, "the loop has not turned for"));
        ask(f.port, "HEAD", "/health/live", NULL, NULL, &r);
        assert_int_equal(r.code, 503);
        http_server_stop(f.s);
}

static void test_token(void **state)
{
        struct fixture f = {0};
        struct reply r;

        (void)state;
        start(&f, "a-token-of-sixteen-chars", 16, 5);
        http_server_set_metrics(f.s, strdup("m 1\n"), 4);
        ask(f.port, "GET", "/metrics", NULL, NULL, &r);
        assert_int_equal(r.code, 401);
        assert_string_equal(r.auth, "Bearer realm=\"relaywatch\"");
        ask(f.port, "GET", "/metrics", "Authorization: Bearer wrong-token-of-sixteen", NULL, &r);
        assert_int_equal(r.code, 401);
        ask(f.port, "GET", "/metrics", "Authorization: Bearer a-token-of-sixteen-char", NULL, &r);
        assert_int_equal(r.code, 401); /* a prefix is not the token */
        ask(f.port, "GET", "/metrics", "Authorization: Bearer a-token-of-sixteen-chars", NULL, &r);
        assert_int_equal(r.code, 200);
        ask(f.port, "GET", "/metrics?token=a-token-of-sixteen-chars", NULL, NULL, &r);
        assert_int_equal(r.code, 200);
        ask(f.port, "GET", "/?token=nope", NULL, NULL, &r);
        assert_int_equal(r.code, 401);
        ask(f.port, "GET", "/runbooks/SUPPLY_MISMATCH.md", NULL, NULL, &r);
        assert_int_equal(r.code, 401);
        http_server_stop(f.s);
}

static void test_status_page_and_runbooks(void **state)
{
        struct fixture f = {0};
        struct reply r;

        (void)state;
        start(&f, NULL, 16, 5);
        wait_status(&f);
        ask(f.port, "GET", "/status", NULL, NULL, &r);
        assert_int_equal(r.code, 200);
        assert_string_equal(r.body, status_text);
        assert_string_equal(r.type, "application/json");
        /* fresh enough: a second ask within 2 s makes no new one */
        int calls = f.status_calls;
        ask(f.port, "GET", "/status", NULL, NULL, &r);
        assert_int_equal(f.status_calls, calls);

        ask(f.port, "GET", "/", NULL, NULL, &r);
        assert_int_equal(r.code, 200);
        assert_string_equal(r.type, "text/html; charset=utf-8");
        assert_null(strstr(r.body, "/*RELAYWATCH_STATUS*/"));
        assert_null(strstr(r.body, "</script><b>"));
        assert_non_null(strstr(r.body, "\\u003c/script>\\u003cb>x\\u003c/b>"));

        ask(f.port, "GET", "/runbooks/SUPPLY_MISMATCH.md", NULL, NULL, &r);
        assert_int_equal(r.code, 200);
        assert_non_null(strstr(r.body, "SUPPLY_MISMATCH"));
        assert_string_equal(r.type, "text/plain; charset=utf-8");
        ask(f.port, "GET", "/runbooks/README.md", NULL, NULL, &r);
        assert_int_equal(r.code, 200);
        ask(f.port, "GET", "/runbooks/../README.md", NULL, NULL, &r);
        assert_true(r.code == 404 || r.code == 400);
        ask(f.port, "GET", "/runbooks/%2e%2e%2fREADME.md", NULL, NULL, &r);
        assert_int_equal(r.code, 404);
        ask(f.port, "GET", "/runbooks/NO_SUCH_ALERT.md", NULL, NULL, &r);
        assert_int_equal(r.code, 404);
        http_server_stop(f.s);
}

/* A TCP connection to the server that sends nothing. */
static int idle_connection(unsigned port)
{
        struct sockaddr_in a;
        int fd = socket(AF_INET, SOCK_STREAM, 0);

        memset(&a, 0, sizeof a);
        a.sin_family = AF_INET;
        a.sin_port = htons((uint16_t)port);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
                close(fd);
                fd = -1;
        }
        return fd;
}

static void test_idle_connections_time_out(void **state)
{
        struct fixture f = {0};
        int fds[64], i, served = 0;
        struct reply r;

        (void)state;
        start(&f, NULL, 8, 1);
        healthy(&f);
        for (i = 0; i < 64; i++)
                fds[i] = idle_connection(f.port);
        /* every slot is held: the server stays up, and frees them after the timeout */
        for (i = 0; i < 40 && !served; i++) {
                sleep_ms(100);
                healthy(&f);
                ask(f.port, "GET", "/health/live", NULL, NULL, &r);
                served = r.code == 200;
        }
        assert_true(served);
        for (i = 0; i < 64; i++)
                if (fds[i] >= 0)
                        close(fds[i]);
        http_server_stop(f.s);
}

static void test_bad_listen(void **state)
{
        struct http_server_options o = {
                .host = "not-an-address", .max_connections = 4, .timeout_s = 1};
        struct fixture f = {0};
        struct http_server *s;
        struct rwerr err;

        (void)state;
        assert_null(http_server_start(&o, &err));
        assert_non_null(strstr(err.msg, "not-an-address"));
        /* a port in use: the error names it */
        start(&f, NULL, 4, 1);
        o.host = "127.0.0.1";
        o.port = f.port;
        s = http_server_start(&o, &err);
        assert_null(s);
        assert_non_null(strstr(err.msg, "cannot listen on 127.0.0.1:"));
        http_server_stop(f.s);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_routes_and_methods),
                cmocka_unit_test(test_probes),
                cmocka_unit_test(test_token),
                cmocka_unit_test(test_status_page_and_runbooks),
                cmocka_unit_test(test_idle_connections_time_out),
                cmocka_unit_test(test_bad_listen),
        };
        int rc;

        curl_global_init(CURL_GLOBAL_DEFAULT);
        rc = cmocka_run_group_tests(tests, NULL, NULL);
        curl_global_cleanup();
        return rc;
}
