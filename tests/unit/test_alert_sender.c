/*
 * Unit tests for watchdog/alert/alert_sender: the sender thread against
 * real HTTP receivers on loopback (tests/support/fake_http), a small SMTP
 * stand-in for the email route, and a real redis-server started here for
 * the claims between replicas (the claim test is skipped, saying so, when
 * redis-server is not installed).
 *
 * What a test sees is what an operator sees: the per-route counters of
 * alert_sender_status_json, the failure changes, the JSON log lines, the
 * spool file, and what the receivers got. The backoff is scaled down
 * (RELAYWATCH_ALERT_BACKOFF_SCALE) so retries take milliseconds;
 * Retry-After and the spool's retry interval are not scaled.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>
#include <hiredis/hiredis.h>

#include "alert.h"
#include "alert_sender.h"
#include "config.h"
#include "fake_http.h"
#include "jsonlog.h"
#include "receiver.h"
#include "rwclock.h"
#include "test_util.h"

#define NROUTES_MAX 4
#define WAIT_MS 10000 /* the longest any condition is waited for */
#define SECRET "0123456789abcdef0123456789abcdef"

/* ------------------------------------------------------------ helpers */

static void sleep_ms(long ms)
{
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

        (void)nanosleep(&ts, NULL);
}

/* A configuration by hand: NROUTES_MAX routes at most, a state dir of its own. */
struct fx {
        char dir[64];
        char log_path[128];
        FILE *log;
        struct config cfg;
        struct config_alert_route routes[NROUTES_MAX];
        char urls[NROUTES_MAX][96];
        char *mail_to[1];
};

static void fx_open(struct fx *f)
{
        memset(f, 0, sizeof *f);
        (void)snprintf(f->dir, sizeof f->dir, "/tmp/rw-alert-sender-XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        (void)snprintf(f->log_path, sizeof f->log_path, "%s/log.jsonl", f->dir);
        f->log = fopen(f->log_path, "w");
        assert_non_null(f->log);
        jsonlog_set_output(f->log);
        f->cfg.state_dir = f->dir;
        f->cfg.watchdog_id = (char *)"test-watchdog";
        f->cfg.alert_source = (char *)"test-watchdog";
        f->cfg.runbook_url = (char *)"https://runbooks.example.org/";
        f->cfg.control_stream = (char *)"relayer:control";
        f->cfg.claim_prefix = (char *)"test:alert:";
        f->cfg.redis_timeout_ms = 300;
        f->cfg.spool_retry_s = 1;
        f->cfg.routes = f->routes;
}

/* Adds a route; CRITICAL, ERROR and WARNING unless `severities` says otherwise. */
static struct config_alert_route *fx_route(struct fx *f, const char *name,
                                           enum config_receiver_type type, const char *url,
                                           unsigned severities)
{
        size_t i = f->cfg.nroutes++;
        struct config_alert_route *r = &f->routes[i];

        assert_true(f->cfg.nroutes <= NROUTES_MAX);
        (void)snprintf(r->name, sizeof r->name, "%s", name);
        r->type = type;
        (void)snprintf(f->urls[i], sizeof f->urls[i], "%s", url);
        r->url = f->urls[i];
        r->severities = severities != 0 ? severities
                                        : (1u << FINDING_CRITICAL) | (1u << FINDING_ERROR) |
                                                  (1u << FINDING_WARNING);
        r->secret = (char *)SECRET;
        r->routing_key = (char *)SECRET; /* 32 characters, like PagerDuty's */
        r->timeout_ms = 2000;
        r->max_attempts = 4;
        return r;
}

static void remove_dir(const char *dir)
{
        static const char *const names[] = {"log.jsonl", "alert-spool.jsonl",
                                            "alert-spool.jsonl.tmp", "alert-spool.unreadable"};
        char path[192];
        size_t i;

        for (i = 0; i < sizeof names / sizeof names[0]; i++) {
                (void)snprintf(path, sizeof path, "%s/%s", dir, names[i]);
                (void)unlink(path);
        }
        (void)rmdir(dir);
}

static void fx_close(struct fx *f)
{
        jsonlog_set_output(NULL);
        if (f->log != NULL)
                (void)fclose(f->log);
        remove_dir(f->dir);
}

static struct alert_sender *sender_new(const struct config *cfg)
{
        struct rwerr err;
        struct alert_sender *s = alert_sender_new(cfg, &err);

        if (s == NULL)
                fail_msg("alert_sender_new: %s", err.msg);
        return s;
}

static struct alert_sender *sender_start(const struct config *cfg)
{
        struct alert_sender *s = sender_new(cfg);

        assert_int_equal(alert_sender_start(s), RW_OK);
        return s;
}

static void make_alert(struct alert *a, const char *name, enum finding_severity sev,
                       enum alert_state state, uint64_t seq)
{
        memset(a, 0, sizeof *a);
        (void)snprintf(a->name, sizeof a->name, "%s", name);
        (void)snprintf(a->subject, sizeof a->subject, "asset SIGIL");
        alert_dedup_key(a->name, a->subject, a->dedup_key);
        a->severity = sev;
        a->state = state;
        a->purpose = ALERT_INCIDENT;
        a->tier = 1;
        (void)snprintf(a->summary, sizeof a->summary, "%s on asset SIGIL", name);
        (void)snprintf(a->correlation_id, sizeof a->correlation_id, "rw-test-1");
        (void)snprintf(a->runbook_url, sizeof a->runbook_url, "https://runbooks.example.org/%s.md",
                       name);
        a->opened_ms = 1700000000000LL;
        a->at_ms = a->opened_ms + (state == ALERT_RESOLVED ? 60000 : 0);
        a->seq = seq;
}

static void submit(struct alert_sender *s, const char *name, enum finding_severity sev,
                   enum alert_state state, uint64_t seq)
{
        struct alert a;

        make_alert(&a, name, sev, state, seq);
        assert_int_equal(alert_sender_submit(s, &a, NULL), RW_OK);
}

/* A counter of a route from alert_sender_status_json (a boolean as 0 or 1). */
static double stat_of(struct alert_sender *s, const char *route, const char *field)
{
        cJSON *status = cJSON_CreateObject();
        const cJSON *v;
        double out;

        assert_int_equal(alert_sender_status_json(s, status), 0);
        v = cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(
                        cJSON_GetObjectItemCaseSensitive(status, "alert_routes"), route),
                field);
        out = v == NULL ? -1 : cJSON_IsBool(v) ? (double)cJSON_IsTrue(v) : v->valuedouble;
        cJSON_Delete(status);
        if (v == NULL)
                fail_msg("status has no alert_routes.%s.%s", route, field);
        return out;
}

/* Waits until the counter reaches `want`; 1 when it did within WAIT_MS. */
static int wait_stat(struct alert_sender *s, const char *route, const char *field, double want)
{
        uint64_t end = rwclock_mono_ms() + WAIT_MS;

        while (rwclock_mono_ms() < end) {
                if (stat_of(s, route, field) >= want)
                        return 1;
                sleep_ms(5);
        }
        return 0;
}

#define assert_reaches(s, route, field, want)                                                      \
        do {                                                                                       \
                if (!wait_stat((s), (route), (field), (want)))                                     \
                        fail_msg("%s.%s stayed at %g, wanted %g", (route), (field),                \
                                 stat_of((s), (route), (field)), (double)(want));                  \
        } while (0)

static void assert_stat(struct alert_sender *s, const char *route, const char *field, double want)
{
        double got = stat_of(s, route, field);

        if (got != want)
                fail_msg("%s.%s is %g, expected %g", route, field, got, want);
}

/* The log lines of `event` so far (a JSON array the caller frees), in order. */
static cJSON *log_events(struct fx *f, const char *event)
{
        cJSON *out = cJSON_CreateArray();
        char *text, *line, *save = NULL;

        (void)fflush(f->log);
        text = test_read_file(f->log_path);
        assert_non_null(text);
        for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
                cJSON *o = cJSON_Parse(line);
                const cJSON *e = cJSON_GetObjectItemCaseSensitive(o, "event");

                if (o == NULL)
                        fail_msg("a log line is not JSON: %s", line);
                if (cJSON_IsString(e) && strcmp(e->valuestring, event) == 0)
                        cJSON_AddItemToArray(out, o);
                else
                        cJSON_Delete(o);
        }
        free(text);
        return out;
}

static int log_count(struct fx *f, const char *event)
{
        cJSON *a = log_events(f, event);
        int n = cJSON_GetArraySize(a);

        cJSON_Delete(a);
        return n;
}

static const char *str_field(const cJSON *o, const char *key)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

        return cJSON_IsString(v) ? v->valuestring : "";
}

static double num_field(const cJSON *o, const char *key)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

        return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

/* The spool's lines, parsed (a JSON array the caller frees); empty when there is no file. */
static cJSON *spool_lines(const struct fx *f)
{
        char path[192], *text, *line, *save = NULL;
        cJSON *out = cJSON_CreateArray();

        (void)snprintf(path, sizeof path, "%s/alert-spool.jsonl", f->dir);
        if ((text = test_read_file(path)) == NULL)
                return out;
        for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
                cJSON *o = cJSON_Parse(line);

                if (o == NULL)
                        fail_msg("a spool line is not JSON: %s", line);
                cJSON_AddItemToArray(out, o);
        }
        free(text);
        return out;
}

static const char *spooled_name(const cJSON *lines, int i)
{
        return str_field(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(lines, i), "alert"),
                         "name");
}

/* The one failure change waiting, checked against `route` and `failing`. */
static void expect_change(struct alert_sender *s, const char *route, int failing)
{
        struct alert_route_change c[4];
        size_t n = alert_sender_take_failures(s, c, 4);

        assert_int_equal(n, 1);
        assert_string_equal(c[0].route, route);
        assert_int_equal(c[0].failing, failing);
        if (failing)
                assert_true(c[0].problem[0] != '\0');
}

static void expect_no_change(struct alert_sender *s)
{
        struct alert_route_change c[4];

        assert_int_equal(alert_sender_take_failures(s, c, 4), 0);
}

/* ------------------------------------------------------------ delivery and retries */

static void delivered_first_try(void **state)
{
        struct fake_http *h = fake_http_start(1);
        struct alert_sender *s;
        char *head = NULL, *body = NULL;
        cJSON *lines;
        struct fx f;

        (void)state;
        fx_open(&f);
        fake_http_set(h, FAKE_HTTP_REPLY, 200, "{}");
        fx_route(&f, "hook", RECEIVER_WEBHOOK, fake_http_url(h), 0);
        s = sender_start(&f.cfg);
        submit(s, "SUPPLY_MISMATCH", FINDING_CRITICAL, ALERT_FIRING, 1);
        assert_reaches(s, "hook", "delivered", 1);
        assert_int_equal(fake_http_requests(h), 1);
        assert_stat(s, "hook", "retried", 0);
        assert_stat(s, "hook", "failed", 0);
        assert_stat(s, "hook", "failing", 0);
        assert_int_equal(fake_http_last_request(h, &head, &body), 0);
        assert_non_null(strstr(head, "POST "));
        assert_non_null(strstr(body, "SUPPLY_MISMATCH/asset_SIGIL"));
        lines = log_events(&f, "alert_delivered");
        assert_int_equal(cJSON_GetArraySize(lines), 1);
        assert_string_equal(str_field(cJSON_GetArrayItem(lines, 0), "route"), "hook");
        assert_string_equal(str_field(cJSON_GetArrayItem(lines, 0), "state"), "firing");
        assert_true(num_field(cJSON_GetArrayItem(lines, 0), "attempt") == 1);
        assert_true(num_field(cJSON_GetArrayItem(lines, 0), "status") == 200);
        cJSON_Delete(lines);
        expect_no_change(s);
        alert_sender_free(s, 1000);
        free(head);
        free(body);
        fake_http_stop(h);
        fx_close(&f);
}

static void server_error_is_retried(void **state)
{
        struct fake_http *h = fake_http_start(1);
        struct alert_sender *s;
        cJSON *lines;
        struct fx f;

        (void)state;
        fx_open(&f);
        fake_http_set(h, FAKE_HTTP_REPLY, 202, "{}");
        fake_http_fail_next(h, 1, 500);
        fx_route(&f, "hook", RECEIVER_WEBHOOK, fake_http_url(h), 0);
        s = sender_start(&f.cfg);
        submit(s, "SUPPLY_MISMATCH", FINDING_CRITICAL, ALERT_FIRING, 1);
        assert_reaches(s, "hook", "delivered", 1);
        assert_int_equal(fake_http_requests(h), 2);
        assert_stat(s, "hook", "retried", 1);
        assert_stat(s, "hook", "failed", 0);
        lines = log_events(&f, "alert_delivered");
        assert_true(num_field(cJSON_GetArrayItem(lines, 0), "attempt") == 2);
        assert_true(num_field(cJSON_GetArrayItem(lines, 0), "status") == 202);
        cJSON_Delete(lines);
        assert_int_equal(log_count(&f, "alert_retry"), 1);
        expect_no_change(s);
        alert_sender_free(s, 1000);
        fake_http_stop(h);
        fx_close(&f);
}

static void retry_after_is_honoured(void **state)
{
        struct fake_http *h = fake_http_start(1);
        struct alert_sender *s;
        uint64_t t0, took;
        cJSON *lines;
        struct fx f;

        (void)state;
        fx_open(&f);
        fake_http_set(h, FAKE_HTTP_REPLY, 200, "{}");
        fake_http_set_headers(h, "Retry-After: 1\r\n");
        fake_http_fail_next(h, 1, 429);
        fx_route(&f, "hook", RECEIVER_WEBHOOK, fake_http_url(h), 0);
        s = sender_start(&f.cfg);
        t0 = rwclock_mono_ms();
        submit(s, "SUPPLY_MISMATCH", FINDING_CRITICAL, ALERT_FIRING, 1);
        assert_reaches(s, "hook", "delivered", 1);
        took = rwclock_mono_ms() - t0;
        assert_int_equal(fake_http_requests(h), 2);
        assert_stat(s, "hook", "retried", 1);
        /* the scaled backoff would be ~10 ms: only Retry-After waits a second */
        if (took < 900)
                fail_msg("delivered %llu ms after a 429 asking for 1 s", (unsigned long long)took);
        lines = log_events(&f, "alert_retry");
        assert_true(num_field(cJSON_GetArrayItem(lines, 0), "retry_in_ms") == 1000);
        assert_true(num_field(cJSON_GetArrayItem(lines, 0), "status") == 429);
        cJSON_Delete(lines);
        alert_sender_free(s, 1000);
        fake_http_stop(h);
        fx_close(&f);
}

static void client_error_is_rejected(void **state)
{
        struct fake_http *h = fake_http_start(1);
        struct alert_sender *s;
        const cJSON *line;
        cJSON *lines;
        struct fx f;

        (void)state;
        fx_open(&f);
        fake_http_set(h, FAKE_HTTP_REPLY, 400, "bad \x1b[31mkey\x7f " SECRET "!");
        fx_route(&f, "hook", RECEIVER_WEBHOOK, fake_http_url(h), 0);
        s = sender_start(&f.cfg);
        submit(s, "SUPPLY_MISMATCH", FINDING_CRITICAL, ALERT_FIRING, 1);
        assert_reaches(s, "hook", "failed", 1);
        sleep_ms(200); /* a retry would come after ~10 ms */
        assert_int_equal(fake_http_requests(h), 1);
        assert_stat(s, "hook", "retried", 0);
        assert_stat(s, "hook", "spooled", 0);
        assert_stat(s, "hook", "delivered", 0);
        assert_stat(s, "hook", "failing", 1);
        expect_change(s, "hook", 1);
        lines = log_events(&f, "alert_rejected");
        assert_int_equal(cJSON_GetArraySize(lines), 1);
        line = cJSON_GetArrayItem(lines, 0);
        assert_true(num_field(line, "status") == 400);
        /* untrusted text: control bytes escaped, and a secret it echoes is not logged */
        assert_string_equal(str_field(line, "answer"), "bad ?[31mkey? <redacted>!");
        assert_null(strstr(str_field(line, "problem"), SECRET));
        assert_non_null(strstr(str_field(line, "message"), "not retried"));
        cJSON_Delete(lines);
        lines = spool_lines(&f); /* a rejected message is not spooled */
        assert_int_equal(cJSON_GetArraySize(lines), 0);
        cJSON_Delete(lines);
        alert_sender_free(s, 1000);
        fake_http_stop(h);
        fx_close(&f);
}

static void hung_receiver_delays_nobody(void **state)
{
        struct fake_http *hung = fake_http_start(1), *fine = fake_http_start(1);
        struct alert_sender *s;
        uint64_t t0;
        cJSON *lines;
        struct fx f;

        (void)state;
        fx_open(&f);
        fake_http_set(hung, FAKE_HTTP_HANG, 200, "{}");
        fake_http_set(fine, FAKE_HTTP_REPLY, 200, "{}");
        fx_route(&f, "hung", RECEIVER_WEBHOOK, fake_http_url(hung), 0)->timeout_ms = 1500;
        fx_route(&f, "fine", RECEIVER_WEBHOOK, fake_http_url(fine), 0);
        s = sender_start(&f.cfg);
        t0 = rwclock_mono_ms();
        submit(s, "SUPPLY_MISMATCH", FINDING_CRITICAL, ALERT_FIRING, 1);
        assert_reaches(s, "fine", "delivered", 1);
        /* the healthy route was served while the hung one still waited for its answer */
        assert_stat(s, "hung", "in_flight", 1);
        assert_stat(s, "hung", "delivered", 0);
        assert_stat(s, "hung", "retried", 0);
        /*
         * Only once the hung receiver has read the request is it sure to hang
         * it: "in flight" is the sender's side, and a request read after the
         * switch below would be answered at once (seen under ASan in CI).
         */
        for (int i = 0; i < 200 && fake_http_requests(hung) == 0; i++)
                nanosleep(&(struct timespec){0, 10000000L}, NULL);
        assert_int_equal(fake_http_requests(hung), 1);
        fake_http_set(hung, FAKE_HTTP_REPLY, 200, "{}");
        assert_reaches(s, "hung", "delivered", 1);
        assert_true(rwclock_mono_ms() - t0 >= 1400); /* the first attempt ran to its timeout */
        assert_stat(s, "hung", "retried", 1);
        lines = log_events(&f, "alert_retry");
        assert_int_equal(cJSON_GetArraySize(lines), 1);
        assert_string_equal(str_field(cJSON_GetArrayItem(lines, 0), "route"), "hung");
        assert_non_null(strstr(str_field(cJSON_GetArrayItem(lines, 0), "problem"), "imeout"));
        cJSON_Delete(lines);
        alert_sender_free(s, 1000);
        fake_http_stop(hung);
        fake_http_stop(fine);
        fx_close(&f);
}

static void order_is_kept_per_route(void **state)
{
        struct fake_http *h = fake_http_start(1);
        struct alert_sender *s;
        char *head = NULL, *body = NULL;
        cJSON *lines;
        struct fx f;

        (void)state;
        fx_open(&f);
        fake_http_set(h, FAKE_HTTP_REPLY, 200, "{}");
        fake_http_fail_next(h, 1, 503); /* the trigger needs a second attempt */
        fx_route(&f, "hook", RECEIVER_WEBHOOK, fake_http_url(h), 0);
        s = sender_start(&f.cfg);
        submit(s, "SUPPLY_MISMATCH", FINDING_CRITICAL, ALERT_FIRING, 1);
        submit(s, "SUPPLY_MISMATCH", FINDING_CRITICAL, ALERT_RESOLVED, 1);
        assert_reaches(s, "hook", "delivered", 2);
        assert_int_equal(fake_http_requests(h), 3);
        lines = log_events(&f, "alert_delivered");
        assert_int_equal(cJSON_GetArraySize(lines), 2);
        assert_string_equal(str_field(cJSON_GetArrayItem(lines, 0), "state"), "firing");
        assert_true(num_field(cJSON_GetArrayItem(lines, 0), "attempt") == 2);
        assert_string_equal(str_field(cJSON_GetArrayItem(lines, 1), "state"), "resolved");
        cJSON_Delete(lines);
        assert_int_equal(fake_http_last_request(h, &head, &body), 0);
        assert_non_null(strstr(body, "resolved")); /* the receiver's last word is the resolve */
        free(head);
        free(body);
        alert_sender_free(s, 1000);
        fake_http_stop(h);
        fx_close(&f);
}

/* ------------------------------------------------------------ the spool */

static void exhausted_attempts_go_to_the_spool(void **state)
{
        struct fake_http *h = fake_http_start(1);
        struct alert_sender *s;
        cJSON *lines;
        struct fx f;
        int i;

        (void)state;
        fx_open(&f);
        fake_http_set(h, FAKE_HTTP_REPLY, 503, "down");
        fx_route(&f, "hook", RECEIVER_WEBHOOK, fake_http_url(h), 0)->max_attempts = 3;
        s = sender_start(&f.cfg);
        submit(s, "SUPPLY_MISMATCH", FINDING_CRITICAL, ALERT_FIRING, 1);
        assert_reaches(s, "hook", "spooled", 1);
        /* 3 attempts before the spool (its line says so below); a spool round, every 1 s, may
         * have tried once more since on a slow machine */
        assert_true(fake_http_requests(h) >= 3);
        assert_stat(s, "hook", "failing", 1);
        expect_change(s, "hook", 1);
        lines = spool_lines(&f);
        assert_int_equal(cJSON_GetArraySize(lines), 1);
        assert_string_equal(str_field(cJSON_GetArrayItem(lines, 0), "route"), "hook");
        assert_true(num_field(cJSON_GetArrayItem(lines, 0), "attempts") == 3);
        assert_non_null(strstr(str_field(cJSON_GetArrayItem(lines, 0), "last_problem"), "503"));
        assert_string_equal(spooled_name(lines, 0), "SUPPLY_MISMATCH");
        cJSON_Delete(lines);
        assert_int_equal(log_count(&f, "alert_spooled"), 1);

        /* a new message waits behind the spool, on disk too, and is not tried before it */
        submit(s, "NONCE_DESYNC", FINDING_CRITICAL, ALERT_FIRING, 1);
        assert_reaches(s, "hook", "spooled", 2);
        lines = log_events(&f, "alert_retry");
        for (i = 0; i < cJSON_GetArraySize(lines); i++)
                assert_string_equal(str_field(cJSON_GetArrayItem(lines, i), "name"),
                                    "SUPPLY_MISMATCH");
        cJSON_Delete(lines);
        lines = spool_lines(&f);
        assert_int_equal(cJSON_GetArraySize(lines), 2);
        assert_string_equal(spooled_name(lines, 1), "NONCE_DESYNC");
        cJSON_Delete(lines);

        /* the receiver is back: the next spool round (spool_retry_s = 1) sends both, in order */
        fake_http_set(h, FAKE_HTTP_REPLY, 200, "{}");
        assert_reaches(s, "hook", "delivered", 2);
        lines = log_events(&f, "alert_delivered");
        assert_string_equal(str_field(cJSON_GetArrayItem(lines, 0), "name"), "SUPPLY_MISMATCH");
        assert_true(num_field(cJSON_GetArrayItem(lines, 0), "attempt") >= 4);
        assert_string_equal(str_field(cJSON_GetArrayItem(lines, 1), "name"), "NONCE_DESYNC");
        cJSON_Delete(lines);
        assert_stat(s, "hook", "spooled", 0);
        assert_stat(s, "hook", "failing", 0);
        expect_change(s, "hook", 0);
        alert_sender_free(s, 1000);
        lines = spool_lines(&f);
        assert_int_equal(cJSON_GetArraySize(lines), 0);
        cJSON_Delete(lines);
        fake_http_stop(h);
        fx_close(&f);
}

static void restart_sends_the_spool(void **state)
{
        struct fake_http *h = fake_http_start(1);
        struct alert_sender *s;
        cJSON *lines;
        struct fx f;

        (void)state;
        fx_open(&f);
        fake_http_set(h, FAKE_HTTP_REPLY, 500, "oops");
        fx_route(&f, "hook", RECEIVER_WEBHOOK, fake_http_url(h), 0)->max_attempts = 2;
        f.cfg.spool_retry_s = 3600; /* only a restart retries it here */
        s = sender_start(&f.cfg);
        submit(s, "SUPPLY_MISMATCH", FINDING_CRITICAL, ALERT_FIRING, 1);
        assert_reaches(s, "hook", "spooled", 1);
        expect_change(s, "hook", 1);
        alert_sender_free(s, 1000);
        assert_int_equal(fake_http_requests(h), 2);

        fake_http_set(h, FAKE_HTTP_REPLY, 200, "{}");
        s = sender_new(&f.cfg);
        assert_stat(s, "hook", "spooled", 1); /* loaded, not sent before the start */
        assert_stat(s, "hook", "failing", 1);
        assert_int_equal(alert_sender_start(s), RW_OK);
        assert_reaches(s, "hook", "delivered", 1);
        assert_int_equal(fake_http_requests(h), 3);
        assert_stat(s, "hook", "spooled", 0);
        expect_change(s, "hook", 0);
        lines = log_events(&f, "alert_delivered");
        assert_true(num_field(cJSON_GetArrayItem(lines, 0), "attempt") == 3);
        cJSON_Delete(lines);
        alert_sender_free(s, 1000);
        lines = spool_lines(&f);
        assert_int_equal(cJSON_GetArraySize(lines), 0);
        cJSON_Delete(lines);
        fake_http_stop(h);
        fx_close(&f);
}

static void free_spools_what_waits(void **state)
{
        struct fake_http *h = fake_http_start(1);
        struct alert_sender *s;
        cJSON *lines;
        struct fx f;

        (void)state;
        fx_open(&f);
        fake_http_set(h, FAKE_HTTP_HANG, 200, "{}");
        fx_route(&f, "hook", RECEIVER_WEBHOOK, fake_http_url(h), 0)->timeout_ms = 5000;
        s = sender_start(&f.cfg);
        submit(s, "SUPPLY_MISMATCH", FINDING_CRITICAL, ALERT_FIRING, 1);
        submit(s, "NONCE_DESYNC", FINDING_ERROR, ALERT_FIRING, 1);
        submit(s, "QUEUE_BUILDUP", FINDING_WARNING, ALERT_FIRING, 1);
        assert_reaches(s, "hook", "in_flight", 1);
        assert_reaches(s, "hook", "queued", 2);
        alert_sender_free(s, 100); /* the hung attempt is cut short after 100 ms */
        lines = spool_lines(&f);
        assert_int_equal(cJSON_GetArraySize(lines), 3);
        assert_string_equal(spooled_name(lines, 0), "SUPPLY_MISMATCH");
        assert_true(num_field(cJSON_GetArrayItem(lines, 0), "attempts") == 1);
        assert_non_null(
                strstr(str_field(cJSON_GetArrayItem(lines, 0), "last_problem"), "shutdown"));
        assert_string_equal(spooled_name(lines, 1), "NONCE_DESYNC");
        assert_true(num_field(cJSON_GetArrayItem(lines, 1), "attempts") == 0);
        assert_string_equal(spooled_name(lines, 2), "QUEUE_BUILDUP");
        cJSON_Delete(lines);
        fake_http_stop(h);
        fx_close(&f);
}

static void queue_full_then_free_unstarted(void **state)
{
        struct alert_sender *s;
        struct alert a;
        cJSON *lines;
        struct fx f;
        int i;

        (void)state;
        fx_open(&f);
        fx_route(&f, "hook", RECEIVER_WEBHOOK, "http://127.0.0.1:9/", 0);
        s = sender_new(&f.cfg);
        for (i = 0; i < ALERT_QUEUE_MAX; i++) {
                make_alert(&a, "SUPPLY_MISMATCH", FINDING_CRITICAL, ALERT_FIRING, (uint64_t)i + 1);
                a.details_json = (char *)"{\"n\":1}";
                assert_int_equal(alert_sender_submit(s, &a, NULL), RW_OK);
        }
        assert_int_equal(alert_sender_submit(s, &a, NULL), RW_ERR_RANGE);
        assert_int_equal(alert_sender_submit(s, &a, "no-such-route"), RW_ERR_INVALID);
        alert_sender_free(s, 0); /* never started: the intake is kept for the next start */
        lines = spool_lines(&f);
        assert_int_equal(cJSON_GetArraySize(lines), ALERT_QUEUE_MAX);
        assert_true(num_field(cJSON_GetObjectItemCaseSensitive(
                                      cJSON_GetArrayItem(lines, ALERT_QUEUE_MAX - 1), "alert"),
                              "seq") == ALERT_QUEUE_MAX);
        cJSON_Delete(lines);
        assert_int_equal(log_count(&f, "alert_claim_unavailable"), 1); /* no Redis: said once */
        fx_close(&f);
}

/* Writes `len` bytes of `text` as the spool of `f`. */
static void write_spool(const struct fx *f, const char *text, size_t len)
{
        char path[192];
        FILE *out;

        (void)snprintf(path, sizeof path, "%s/alert-spool.jsonl", f->dir);
        out = fopen(path, "w");
        assert_non_null(out);
        assert_int_equal(fwrite(text, 1, len, out), len);
        assert_int_equal(fclose(out), 0);
}

/* One spool line for `name` on `route`. Caller frees. */
static char *spool_entry(const char *route, const char *name)
{
        cJSON *o = cJSON_CreateObject();
        struct alert a;
        char *text;

        make_alert(&a, name, FINDING_CRITICAL, ALERT_FIRING, 1);
        cJSON_AddStringToObject(o, "route", route);
        cJSON_AddItemToObject(o, "alert", alert_to_json(&a));
        cJSON_AddNumberToObject(o, "attempts", 6);
        cJSON_AddStringToObject(o, "last_problem", "HTTP 503");
        text = cJSON_PrintUnformatted(o);
        cJSON_Delete(o);
        return text;
}

/* Puts a line "\0x" after the text (room for it assumed); the length of the whole. */
static size_t add_nul_line(char *text)
{
        size_t len = strlen(text);

        text[len] = '\0';
        text[len + 1] = 'x';
        text[len + 2] = '\n';
        return len + 3;
}

static void corrupted_spool_line_is_kept_aside(void **state)
{
        struct fake_http *h = fake_http_start(1);
        char *l1 = spool_entry("hook", "SUPPLY_MISMATCH"), *l3 = spool_entry("gone", "OLD_ROUTE");
        char *l4 = spool_entry("hook", "NONCE_DESYNC"), text[8192], path[192], *aside;
        static const char bad_alert[] =
                "{\"route\":\"hook\",\"alert\":{\"name\":5},\"attempts\":1}";
        struct alert_sender *s;
        struct stat st;
        cJSON *lines;
        struct fx f;
        size_t len;

        (void)state;
        fx_open(&f);
        fake_http_set(h, FAKE_HTTP_REPLY, 200, "{}");
        fx_route(&f, "hook", RECEIVER_WEBHOOK, fake_http_url(h), 0);
        (void)snprintf(text, sizeof text, "%s\n{not json\n%s\n%s\n%s\n", l1, l3, l4, bad_alert);
        len = add_nul_line(text); /* line 6 */
        write_spool(&f, text, len);
        s = sender_new(&f.cfg);
        assert_stat(s, "hook", "spooled", 2);
        lines = log_events(&f, "alert_spool_unreadable");
        assert_int_equal(cJSON_GetArraySize(lines), 3);
        assert_true(num_field(cJSON_GetArrayItem(lines, 0), "line") == 2);
        assert_true(num_field(cJSON_GetArrayItem(lines, 1), "line") == 5);
        assert_non_null(strstr(str_field(cJSON_GetArrayItem(lines, 1), "problem"), "name"));
        assert_true(num_field(cJSON_GetArrayItem(lines, 2), "line") == 6);
        cJSON_Delete(lines);
        lines = log_events(&f, "alert_spool_route_unknown");
        assert_int_equal(cJSON_GetArraySize(lines), 1);
        assert_string_equal(str_field(cJSON_GetArrayItem(lines, 0), "route"), "gone");
        assert_true(num_field(cJSON_GetArrayItem(lines, 0), "line") == 3);
        cJSON_Delete(lines);
        (void)snprintf(path, sizeof path, "%s/alert-spool.unreadable", f.dir);
        aside = test_read_file(path);
        assert_non_null(aside);
        (void)snprintf(text, sizeof text, "{not json\n%s\n", bad_alert);
        len = add_nul_line(text);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal((size_t)st.st_size, len); /* every byte kept, the NUL too */
        assert_memory_equal(aside, text, len);
        free(aside);

        assert_int_equal(alert_sender_start(s), RW_OK);
        assert_reaches(s, "hook", "delivered", 2);
        lines = log_events(&f, "alert_delivered");
        assert_string_equal(str_field(cJSON_GetArrayItem(lines, 0), "name"), "SUPPLY_MISMATCH");
        assert_string_equal(str_field(cJSON_GetArrayItem(lines, 1), "name"), "NONCE_DESYNC");
        cJSON_Delete(lines);
        expect_change(s, "hook", 0);
        alert_sender_free(s, 1000);
        lines = spool_lines(&f); /* the line of the route that is gone stays */
        assert_int_equal(cJSON_GetArraySize(lines), 1);
        assert_string_equal(str_field(cJSON_GetArrayItem(lines, 0), "route"), "gone");
        cJSON_Delete(lines);
        free(l1);
        free(l3);
        free(l4);
        fake_http_stop(h);
        fx_close(&f);
}

/* ------------------------------------------------------------ routing */

static void routing_by_severity_report_and_name(void **state)
{
        struct fake_http *pd = fake_http_start(1), *chat = fake_http_start(1),
                         *ops = fake_http_start(1);
        struct alert_sender *s;
        struct alert a;
        struct fx f;

        (void)state;
        fx_open(&f);
        fake_http_set(
                pd, FAKE_HTTP_REPLY, 202,
                "{\"status\":\"success\",\"message\":\"Event processed\",\"dedup_key\":\"x\"}");
        fake_http_set(chat, FAKE_HTTP_REPLY, 200, "{}");
        fake_http_set(ops, FAKE_HTTP_REPLY, 200, "{}");
        fx_route(&f, "page", RECEIVER_PAGERDUTY, fake_http_url(pd),
                 (1u << FINDING_CRITICAL) | (1u << FINDING_INFO));
        fx_route(&f, "chat", RECEIVER_WEBHOOK, fake_http_url(chat), 0xfu);
        fx_route(&f, "ops", RECEIVER_WEBHOOK, fake_http_url(ops),
                 (1u << FINDING_CRITICAL) | (1u << FINDING_ERROR));
        s = sender_start(&f.cfg);
        submit(s, "RPC_SLOW", FINDING_INFO, ALERT_FIRING, 1); /* nobody: the report's */
        make_alert(&a, "DAILY_REPORT", FINDING_INFO, ALERT_FIRING, 0);
        a.purpose = ALERT_REPORT;
        assert_int_equal(alert_sender_submit(s, &a, NULL), RW_OK);    /* chat: INFO, not paging */
        submit(s, "QUEUE_BUILDUP", FINDING_WARNING, ALERT_FIRING, 1); /* chat */
        submit(s, "SUPPLY_MISMATCH", FINDING_CRITICAL, ALERT_FIRING, 1); /* all three */
        make_alert(&a, "TEST", FINDING_CRITICAL, ALERT_FIRING, 0);
        a.purpose = ALERT_TEST;
        assert_int_equal(alert_sender_submit(s, &a, "ops"), RW_OK);        /* ops only */
        submit(s, "SUPPLY_MISMATCH", FINDING_CRITICAL, ALERT_RESOLVED, 1); /* all three */
        assert_reaches(s, "page", "delivered", 2);
        assert_reaches(s, "chat", "delivered", 4);
        assert_reaches(s, "ops", "delivered", 3);
        sleep_ms(100);
        assert_stat(s, "page", "delivered", 2);
        assert_stat(s, "chat", "delivered", 4);
        assert_stat(s, "ops", "delivered", 3);
        assert_int_equal(fake_http_requests(pd), 2);
        assert_int_equal(fake_http_requests(chat), 4);
        assert_int_equal(fake_http_requests(ops), 3);
        alert_sender_free(s, 1000);
        fake_http_stop(pd);
        fake_http_stop(chat);
        fake_http_stop(ops);
        fx_close(&f);
}

/* ------------------------------------------------------------ claims */

struct redis_proc {
        pid_t pid;
        uint16_t port;
        char url[64];
};

/* A redis-server of our own on loopback port `on` (0: a free one); 0 when it cannot be had. */
static int redis_start_on(struct redis_proc *r, uint16_t on)
{
        char port[8];
        int i;

        memset(r, 0, sizeof *r);
        if (access("/usr/bin/redis-server", X_OK) != 0 &&
            access("/usr/local/bin/redis-server", X_OK) != 0)
                return 0;
        if ((r->port = on != 0 ? on : test_free_port()) == 0)
                return 0;
        (void)snprintf(port, sizeof port, "%u", (unsigned)r->port);
        (void)snprintf(r->url, sizeof r->url, "redis://127.0.0.1:%u", (unsigned)r->port);
        r->pid = fork();
        if (r->pid == 0) {
                int null = open("/dev/null", O_WRONLY);

                if (null >= 0) {
                        (void)dup2(null, 1);
                        (void)dup2(null, 2);
                }
                execlp("redis-server", "redis-server", "--port", port, "--bind", "127.0.0.1",
                       "--save", "", "--appendonly", "no", "--daemonize", "no", (char *)NULL);
                _exit(127);
        }
        if (r->pid < 0)
                return 0;
        for (i = 0; i < 500; i++) {
                if (test_port_accepts(r->port))
                        return 1;
                sleep_ms(10);
        }
        return 0;
}

static int redis_start(struct redis_proc *r)
{
        return redis_start_on(r, 0);
}

static void redis_stop(struct redis_proc *r)
{
        if (r->pid > 0) {
                (void)kill(r->pid, SIGTERM);
                (void)waitpid(r->pid, NULL, 0);
        }
        r->pid = 0;
}

static double delivered_sum(struct alert_sender *a, struct alert_sender *b)
{
        return stat_of(a, "hook", "delivered") + stat_of(b, "hook", "delivered");
}

/* Waits until the two replicas delivered `want` in all and `lost` claims were lost. */
static void wait_replicas(struct fx *f, struct alert_sender *a, struct alert_sender *b, double want,
                          int lost)
{
        uint64_t end = rwclock_mono_ms() + WAIT_MS;

        while (rwclock_mono_ms() < end &&
               (delivered_sum(a, b) < want || log_count(f, "alert_claimed_elsewhere") < lost))
                sleep_ms(10);
        sleep_ms(100); /* a second delivery, if there were one, would show now */
        if (delivered_sum(a, b) != want || log_count(f, "alert_claimed_elsewhere") != lost)
                fail_msg("replicas delivered %g (wanted %g), lost %d claims (wanted %d)",
                         delivered_sum(a, b), want, log_count(f, "alert_claimed_elsewhere"), lost);
}

static void two_replicas_page_once(void **state)
{
        struct fake_http *h1 = fake_http_start(1), *h2 = fake_http_start(1);
        struct alert_sender *s1, *s2;
        char key[256], value[64];
        struct redis_proc rp;
        struct fx f1, f2;
        redisContext *c;
        long long pttl;
        redisReply *r;
        struct alert a;

        (void)state;
        if (!redis_start(&rp)) {
                redis_stop(&rp);
                fake_http_stop(h1);
                fake_http_stop(h2);
                print_message("no redis-server could be started here: the claim test is "
                              "skipped\n");
                skip();
        }
        fx_open(&f2);
        fx_open(&f1); /* the log of both replicas goes to f1's file */
        fake_http_set(h1, FAKE_HTTP_REPLY, 200, "{}");
        fake_http_set(h2, FAKE_HTTP_REPLY, 200, "{}");
        fx_route(&f1, "hook", RECEIVER_WEBHOOK, fake_http_url(h1), 0);
        fx_route(&f2, "hook", RECEIVER_WEBHOOK, fake_http_url(h2), 0);
        f1.cfg.redis_url = f2.cfg.redis_url = rp.url;
        s1 = sender_start(&f1.cfg);
        s2 = sender_start(&f2.cfg);
        make_alert(&a, "SUPPLY_MISMATCH", FINDING_CRITICAL, ALERT_FIRING, 7);
        assert_int_equal(alert_sender_submit(s1, &a, NULL), RW_OK);
        assert_int_equal(alert_sender_submit(s2, &a, NULL), RW_OK);
        wait_replicas(&f1, s1, s2, 1, 1);
        a.state = ALERT_RESOLVED;
        assert_int_equal(alert_sender_submit(s2, &a, NULL), RW_OK);
        assert_int_equal(alert_sender_submit(s1, &a, NULL), RW_OK);
        wait_replicas(&f1, s1, s2, 2, 2);
        a.state = ALERT_FIRING; /* an update is not claimed: both send it */
        a.update = 1;
        assert_int_equal(alert_sender_submit(s1, &a, NULL), RW_OK);
        assert_int_equal(alert_sender_submit(s2, &a, NULL), RW_OK);
        wait_replicas(&f1, s1, s2, 4, 2);
        assert_int_equal(fake_http_requests(h1) + fake_http_requests(h2), 4);
        assert_int_equal(log_count(&f1, "alert_claim_unavailable"), 0);

        (void)snprintf(key, sizeof key, "test:alert:%s", a.dedup_key);
        c = redisConnect("127.0.0.1", rp.port);
        assert_true(c != NULL && c->err == 0);
        r = redisCommand(c, "GET %s", key);
        (void)snprintf(value, sizeof value, "%s",
                       r != NULL && r->type == REDIS_REPLY_STRING ? r->str : "(not a string)");
        freeReplyObject(r);
        assert_string_equal(value, "resolved:7");
        r = redisCommand(c, "PTTL %s", key);
        pttl = r != NULL && r->type == REDIS_REPLY_INTEGER ? r->integer : -1000;
        freeReplyObject(r);
        assert_true(pttl > 0 && pttl <= 604800000LL); /* 7 days */
        redisFree(c);

        alert_sender_free(s1, 1000);
        alert_sender_free(s2, 1000);
        redis_stop(&rp);
        fake_http_stop(h1);
        fake_http_stop(h2);
        fx_close(&f1);
        fx_close(&f2);
}

/* Redis back after an outage, with its data (as written `age_ms` ago): KEY = VALUE. */
static void redis_back_with(struct redis_proc *rp, const char *key, const char *value,
                            long long age_ms)
{
        uint16_t port = rp->port;
        redisContext *c;
        redisReply *r;

        assert_true(redis_start_on(rp, port));
        c = redisConnect("127.0.0.1", port);
        assert_true(c != NULL && c->err == 0);
        r = redisCommand(c, "SET %s %s PX %lld", key, value, 604800000LL - age_ms);
        assert_true(r != NULL && r->type == REDIS_REPLY_STATUS);
        freeReplyObject(r);
        redisFree(c);
}

/*
 * An opening or a resolve sent while Redis was away leaves the claim of the
 * incident before it in Redis. Neither may cost a page: the resolve of an
 * opening sent unclaimed goes out (the "resolved" there is older than the
 * opening), and an unclaimed resolve is recorded once Redis is back, so the
 * key's next opening is not taken for the old one still firing.
 */
static void claims_left_by_an_outage_cost_no_page(void **state)
{
        struct fake_http *h = fake_http_start(1);
        struct alert_sender *s;
        struct redis_proc rp;
        char key[256];
        struct alert a;
        struct fx f;

        (void)state;
        if (!redis_start(&rp)) {
                redis_stop(&rp);
                fake_http_stop(h);
                print_message("no redis-server could be started here: the claim test is "
                              "skipped\n");
                skip();
        }
        fx_open(&f);
        fake_http_set(h, FAKE_HTTP_REPLY, 200, "{}");
        fx_route(&f, "hook", RECEIVER_WEBHOOK, fake_http_url(h), 0);
        f.cfg.redis_url = rp.url;
        s = sender_start(&f.cfg);
        make_alert(&a, "SUPPLY_MISMATCH", FINDING_CRITICAL, ALERT_FIRING, 1);
        (void)snprintf(key, sizeof key, "test:alert:%s", a.dedup_key);

        /* incident 1, claimed; incident 2 opens while Redis is away */
        a.opened_ms = rwclock_wall_ms();
        assert_int_equal(alert_sender_submit(s, &a, NULL), RW_OK);
        a.state = ALERT_RESOLVED;
        assert_int_equal(alert_sender_submit(s, &a, NULL), RW_OK);
        assert_reaches(s, "hook", "delivered", 2);
        redis_stop(&rp);
        make_alert(&a, "SUPPLY_MISMATCH", FINDING_CRITICAL, ALERT_FIRING, 2);
        a.opened_ms = rwclock_wall_ms();
        assert_int_equal(alert_sender_submit(s, &a, NULL), RW_OK);
        assert_reaches(s, "hook", "delivered", 3);
        redis_back_with(&rp, key, "resolved:1", 60000);
        a.state = ALERT_RESOLVED;
        assert_int_equal(alert_sender_submit(s, &a, NULL), RW_OK);
        assert_reaches(s, "hook", "delivered", 4); /* incident 2's resolve went out */

        /* incident 3 opens, claimed; its resolve is sent while Redis is away */
        make_alert(&a, "SUPPLY_MISMATCH", FINDING_CRITICAL, ALERT_FIRING, 3);
        a.opened_ms = rwclock_wall_ms();
        assert_int_equal(alert_sender_submit(s, &a, NULL), RW_OK);
        assert_reaches(s, "hook", "delivered", 5);
        redis_stop(&rp);
        a.state = ALERT_RESOLVED;
        assert_int_equal(alert_sender_submit(s, &a, NULL), RW_OK);
        assert_reaches(s, "hook", "delivered", 6);
        redis_back_with(&rp, key, "firing:3", 60000);
        make_alert(&a, "SUPPLY_MISMATCH", FINDING_CRITICAL, ALERT_FIRING, 4);
        a.opened_ms = rwclock_wall_ms();
        assert_int_equal(alert_sender_submit(s, &a, NULL), RW_OK);
        assert_reaches(s, "hook", "delivered", 7); /* incident 4 paged */
        assert_int_equal(log_count(&f, "alert_claimed_elsewhere"), 0);

        alert_sender_free(s, 1000);
        redis_stop(&rp);
        fake_http_stop(h);
        fx_close(&f);
}

static void redis_down_still_delivers(void **state)
{
        struct fake_http *h = fake_http_start(1);
        struct alert_sender *s;
        char url[64];
        struct fx f;

        (void)state;
        fx_open(&f);
        fake_http_set(h, FAKE_HTTP_REPLY, 200, "{}");
        fx_route(&f, "hook", RECEIVER_WEBHOOK, fake_http_url(h), 0);
        (void)snprintf(url, sizeof url, "redis://127.0.0.1:%u", (unsigned)test_free_port());
        f.cfg.redis_url = url;
        s = sender_start(&f.cfg);
        submit(s, "SUPPLY_MISMATCH", FINDING_CRITICAL, ALERT_FIRING, 1);
        submit(s, "SUPPLY_MISMATCH", FINDING_CRITICAL, ALERT_RESOLVED, 1);
        assert_reaches(s, "hook", "delivered", 2);
        assert_int_equal(log_count(&f, "alert_claim_unavailable"), 1); /* once per outage */
        assert_int_equal(log_count(&f, "alert_claimed_elsewhere"), 0);
        alert_sender_free(s, 1000);
        fake_http_stop(h);
        fx_close(&f);
}

/* ------------------------------------------------------------ alert_send_once */

static void send_once_outcomes(void **state)
{
        struct fake_http *h = fake_http_start(1);
        struct config_alert_route *r;
        char answer[RECEIVER_ANSWER_MAX * 4 + 1], url[64];
        struct rwerr err;
        struct alert a;
        long status;
        struct fx f;

        (void)state;
        fx_open(&f);
        r = fx_route(&f, "hook", RECEIVER_WEBHOOK, fake_http_url(h), 0);
        make_alert(&a, "SUPPLY_MISMATCH", FINDING_CRITICAL, ALERT_FIRING, 1);
        fake_http_set(h, FAKE_HTTP_REPLY, 200, "{}");
        assert_int_equal(alert_send_once(&f.cfg, r, &a, &status, answer, sizeof answer, &err),
                         RW_OK);
        assert_int_equal(status, 200);
        fake_http_set(h, FAKE_HTTP_REPLY, 400, "nope");
        assert_int_equal(alert_send_once(&f.cfg, r, &a, &status, answer, sizeof answer, &err),
                         RW_ERR_REMOTE);
        assert_int_equal(status, 400);
        assert_string_equal(answer, "nope");
        assert_non_null(strstr(err.msg, "400"));
        fake_http_set(h, FAKE_HTTP_REPLY, 503, "busy");
        assert_int_equal(alert_send_once(&f.cfg, r, &a, &status, answer, sizeof answer, &err),
                         RW_ERR_REMOTE);
        assert_int_equal(status, 503);
        fake_http_set(h, FAKE_HTTP_HANG, 200, "{}");
        r->timeout_ms = 300;
        assert_int_equal(alert_send_once(&f.cfg, r, &a, &status, answer, sizeof answer, &err),
                         RW_ERR_TIMEOUT);
        assert_int_equal(status, 0);
        (void)snprintf(url, sizeof url, "http://127.0.0.1:%u/", (unsigned)test_free_port());
        r->url = url;
        assert_int_equal(alert_send_once(&f.cfg, r, &a, &status, answer, sizeof answer, &err),
                         RW_ERR_IO);
        assert_null(strstr(err.msg, url)); /* no URL in a message */
        assert_int_equal(fake_http_requests(h), 4);
        fake_http_stop(h);
        fx_close(&f);
}

/* ------------------------------------------------------------ email */

/* A one-connection-at-a-time SMTP stand-in: enough of RFC 5321 for libcurl. */
struct smtp_stub {
        int fd;
        uint16_t port;
        pthread_t thread;
        pthread_mutex_t lock;
        int stop;
        int rcpt_code; /* what RCPT TO gets: 250 or a refusal */
        unsigned messages;
        char rcpt[256];
        char data[16384];
        char url[64];
};

static int smtp_stopping(struct smtp_stub *m)
{
        int s;

        (void)pthread_mutex_lock(&m->lock);
        s = m->stop;
        (void)pthread_mutex_unlock(&m->lock);
        return s;
}

static int smtp_readable(struct smtp_stub *m, int fd)
{
        struct pollfd p = {fd, POLLIN, 0};

        while (!smtp_stopping(m)) {
                int r = poll(&p, 1, 20);

                if (r != 0)
                        return r > 0;
        }
        return 0;
}

/* One line (CRLF cut off) into out; 0 when the peer left. */
static int smtp_line(struct smtp_stub *m, int fd, char *out, size_t cap)
{
        size_t n = 0;
        char c;

        while (smtp_readable(m, fd) && recv(fd, &c, 1, 0) == 1) {
                if (c == '\n') {
                        if (n > 0 && out[n - 1] == '\r')
                                n--;
                        out[n] = '\0';
                        return 1;
                }
                if (n + 1 < cap)
                        out[n++] = c;
        }
        return 0;
}

static void smtp_say(int fd, const char *text)
{
        (void)send(fd, text, strlen(text), MSG_NOSIGNAL);
}

static void smtp_data(struct smtp_stub *m, int fd)
{
        char line[1024];
        size_t used = 0;

        smtp_say(fd, "354 go ahead\r\n");
        while (smtp_line(m, fd, line, sizeof line) && strcmp(line, ".") != 0) {
                int w = snprintf(m->data + used, sizeof m->data - used, "%s\n", line);

                if (w > 0 && used + (size_t)w < sizeof m->data)
                        used += (size_t)w;
        }
        (void)pthread_mutex_lock(&m->lock);
        m->messages++;
        (void)pthread_mutex_unlock(&m->lock);
        smtp_say(fd, "250 queued\r\n");
}

static void smtp_session(struct smtp_stub *m, int fd)
{
        char line[1024], reply[64];

        smtp_say(fd, "220 relaywatch-test ESMTP\r\n");
        while (smtp_line(m, fd, line, sizeof line)) {
                if (strncasecmp(line, "EHLO", 4) == 0 || strncasecmp(line, "HELO", 4) == 0 ||
                    strncasecmp(line, "MAIL FROM", 9) == 0 || strncasecmp(line, "RSET", 4) == 0 ||
                    strncasecmp(line, "NOOP", 4) == 0) {
                        smtp_say(fd, "250 ok\r\n");
                } else if (strncasecmp(line, "RCPT TO", 7) == 0) {
                        (void)pthread_mutex_lock(&m->lock);
                        (void)snprintf(m->rcpt, sizeof m->rcpt, "%.200s", line);
                        (void)snprintf(reply, sizeof reply, "%d %s\r\n", m->rcpt_code,
                                       m->rcpt_code == 250 ? "ok" : "no such mailbox");
                        (void)pthread_mutex_unlock(&m->lock);
                        smtp_say(fd, reply);
                } else if (strncasecmp(line, "DATA", 4) == 0) {
                        smtp_data(m, fd);
                } else if (strncasecmp(line, "QUIT", 4) == 0) {
                        smtp_say(fd, "221 bye\r\n");
                        return;
                } else {
                        smtp_say(fd, "502 not here\r\n");
                }
        }
}

static void *smtp_serve(void *arg)
{
        struct smtp_stub *m = arg;

        while (smtp_readable(m, m->fd)) {
                int fd = accept(m->fd, NULL, NULL);

                if (fd >= 0) {
                        smtp_session(m, fd);
                        (void)close(fd);
                }
        }
        return NULL;
}

static void smtp_start(struct smtp_stub *m)
{
        struct sockaddr_in addr;
        socklen_t len = sizeof addr;

        memset(m, 0, sizeof *m);
        m->rcpt_code = 250;
        (void)pthread_mutex_init(&m->lock, NULL);
        memset(&addr, 0, sizeof addr);
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        m->fd = socket(AF_INET, SOCK_STREAM, 0);
        assert_true(m->fd >= 0);
        assert_int_equal(bind(m->fd, (struct sockaddr *)&addr, sizeof addr), 0);
        assert_int_equal(listen(m->fd, 8), 0);
        assert_int_equal(getsockname(m->fd, (struct sockaddr *)&addr, &len), 0);
        m->port = ntohs(addr.sin_port);
        (void)snprintf(m->url, sizeof m->url, "smtp://127.0.0.1:%u", (unsigned)m->port);
        assert_int_equal(pthread_create(&m->thread, NULL, smtp_serve, m), 0);
}

static void smtp_stop(struct smtp_stub *m)
{
        (void)pthread_mutex_lock(&m->lock);
        m->stop = 1;
        (void)pthread_mutex_unlock(&m->lock);
        (void)pthread_join(m->thread, NULL);
        (void)close(m->fd);
        (void)pthread_mutex_destroy(&m->lock);
}

static void email_over_plain_smtp_to_loopback(void **state)
{
        static struct smtp_stub m; /* large: off the stack */
        struct config_alert_route *r;
        char answer[RECEIVER_ANSWER_MAX * 4 + 1];
        struct alert_sender *s;
        struct rwerr err;
        struct alert a;
        long status;
        struct fx f;

        (void)state;
        smtp_start(&m);
        fx_open(&f);
        r = fx_route(&f, "mail", RECEIVER_EMAIL, m.url, 0);
        r->mail_from = (char *)"watchdog@example.org";
        f.mail_to[0] = (char *)"oncall@example.org";
        r->mail_to[0] = f.mail_to[0];
        r->nmail_to = 1;
        make_alert(&a, "SUPPLY_MISMATCH", FINDING_CRITICAL, ALERT_FIRING, 1);

        /* no STARTTLS offered: a loopback smtp:// URL goes without it */
        assert_int_equal(alert_send_once(&f.cfg, r, &a, &status, answer, sizeof answer, &err),
                         RW_OK);
        assert_int_equal(status, 250);
        (void)pthread_mutex_lock(&m.lock);
        assert_int_equal(m.messages, 1);
        assert_non_null(strstr(m.rcpt, "oncall@example.org"));
        assert_non_null(strstr(m.data, "SUPPLY_MISMATCH"));
        m.rcpt_code = 550;
        (void)pthread_mutex_unlock(&m.lock);

        assert_true(alert_send_once(&f.cfg, r, &a, &status, answer, sizeof answer, &err) != RW_OK);
        assert_int_equal(status, 550);

        (void)pthread_mutex_lock(&m.lock);
        m.rcpt_code = 250;
        (void)pthread_mutex_unlock(&m.lock);
        s = sender_start(&f.cfg);
        submit(s, "NONCE_DESYNC", FINDING_CRITICAL, ALERT_FIRING, 1);
        assert_reaches(s, "mail", "delivered", 1);
        alert_sender_free(s, 1000);
        (void)pthread_mutex_lock(&m.lock);
        assert_int_equal(m.messages, 2);
        assert_non_null(strstr(m.data, "NONCE_DESYNC"));
        (void)pthread_mutex_unlock(&m.lock);
        smtp_stop(&m);
        fx_close(&f);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(delivered_first_try),
                cmocka_unit_test(server_error_is_retried),
                cmocka_unit_test(retry_after_is_honoured),
                cmocka_unit_test(client_error_is_rejected),
                cmocka_unit_test(hung_receiver_delays_nobody),
                cmocka_unit_test(order_is_kept_per_route),
                cmocka_unit_test(exhausted_attempts_go_to_the_spool),
                cmocka_unit_test(restart_sends_the_spool),
                cmocka_unit_test(free_spools_what_waits),
                cmocka_unit_test(queue_full_then_free_unstarted),
                cmocka_unit_test(corrupted_spool_line_is_kept_aside),
                cmocka_unit_test(routing_by_severity_report_and_name),
                cmocka_unit_test(two_replicas_page_once),
                cmocka_unit_test(redis_down_still_delivers),
                cmocka_unit_test(claims_left_by_an_outage_cost_no_page),
                cmocka_unit_test(send_once_outcomes),
                cmocka_unit_test(email_over_plain_smtp_to_loopback),
        };

        (void)setenv("RELAYWATCH_ALERT_BACKOFF_SCALE", "0.01", 1);
        (void)signal(SIGPIPE, SIG_IGN);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
