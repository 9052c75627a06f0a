/*
 * Unit tests for watchdog/alert/receiver: every receiver's request byte
 * for byte (URL, headers, body), the providers' limits (PagerDuty's 1024
 * summary, Slack's 150/3000/2000/10), the webhook's HMAC checked by an
 * HMAC built here from SHA-256 alone, RFC 3339 and RFC 5322 times, email
 * header injection, how each class of answer is judged, and Retry-After in
 * both of its forms. No network: receiver.h is pure formatting.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <sodium.h>

#include "receiver.h"
#include "receiver_impl.h"

#define NOW_MS 1764744200000 /* 2025-12-03T06:43:20Z */
#define AT_MS 1764744194123  /* 2025-12-03T06:43:14.123Z */
#define ROUTING_KEY "R0123456789abcdef0123456789abcde"
#define WEBHOOK_SECRET "whsec-0123456789abcdef"

static char mail_to_0[] = "oncall@example.com";
static char mail_to_1[] = "bridge-team@example.com";

struct fx {
        struct config cfg;
        struct config_alert_route route;
        struct alert a;
        struct receiver_request req;
        struct rwerr err;
};

static struct fx *fixture(enum config_receiver_type type)
{
        static struct fx f;

        memset(&f, 0, sizeof f);
        f.cfg.watchdog_id = "wd-1";
        f.cfg.runbook_url = "https://runbooks.example/relaywatch/";
        (void)snprintf(f.route.name, sizeof f.route.name, "oncall");
        f.route.type = type;
        switch (type) {
        case RECEIVER_PAGERDUTY:
                f.route.routing_key = ROUTING_KEY;
                break;
        case RECEIVER_SLACK:
                f.route.url = "https://hooks.slack.example/services/T000/B000/XXXXXXXXXXXX";
                break;
        case RECEIVER_EMAIL:
                f.route.url = "smtp://127.0.0.1:2525";
                f.route.mail_from = "relaywatch@example.com";
                f.route.nmail_to = 2;
                f.route.mail_to[0] = mail_to_0;
                f.route.mail_to[1] = mail_to_1;
                f.route.password = "smtp-password-123";
                break;
        case RECEIVER_WEBHOOK:
                f.route.url = "https://hooks.example/relaywatch/in";
                f.route.secret = WEBHOOK_SECRET;
                break;
        case RECEIVER_ALERTMANAGER:
                f.route.url = "http://127.0.0.1:9093/";
                f.route.resend_s = 60;
                break;
        }
        (void)snprintf(f.a.name, sizeof f.a.name, "SUPPLY_MISMATCH");
        (void)snprintf(f.a.subject, sizeof f.a.subject, "asset SIGIL");
        alert_dedup_key(f.a.name, f.a.subject, f.a.dedup_key);
        f.a.severity = FINDING_CRITICAL;
        f.a.state = ALERT_FIRING;
        f.a.purpose = ALERT_INCIDENT;
        f.a.tier = 1;
        (void)snprintf(f.a.summary, sizeof f.a.summary,
                       "SIGIL: 1000.5 bridged > 1000 locked & rising");
        (void)snprintf(f.a.correlation_id, sizeof f.a.correlation_id, "rw-42");
        (void)snprintf(f.a.halt_id, sizeof f.a.halt_id, "halt-7");
        alert_set_runbook(&f.a, &f.cfg);
        f.a.opened_ms = AT_MS;
        f.a.at_ms = AT_MS;
        f.a.seq = 1;
        return &f;
}

static void set_details(struct fx *f, const char *json)
{
        free(f->a.details_json);
        f->a.details_json = json != NULL ? strdup(json) : NULL;
        assert_true(json == NULL || f->a.details_json != NULL);
}

static void standard_details(struct fx *f)
{
        set_details(f, "{\"locked\":\"1000\",\"bridged\":\"1000.5\",\"height\":123,\"ok\":false,"
                       "\"nested\":{\"a\":1}}");
}

static void done(struct fx *f)
{
        receiver_request_release(&f->req);
        free(f->a.details_json);
        f->a.details_json = NULL;
}

static void build_ok(struct fx *f)
{
        int rc = receiver_build(&f->cfg, &f->route, &f->a, NOW_MS, &f->req, &f->err);

        if (rc != RW_OK)
                fail_msg("receiver_build: %s", f->err.msg);
        assert_non_null(f->req.url);
        assert_non_null(f->req.body);
        assert_int_equal(f->req.body_len, strlen(f->req.body));
}

static int build_fails(struct fx *f)
{
        int rc = receiver_build(&f->cfg, &f->route, &f->a, NOW_MS, &f->req, &f->err);

        assert_int_not_equal(rc, RW_OK);
        assert_null(f->req.url);
        assert_null(f->req.body);
        assert_null(f->req.headers);
        assert_non_null(strstr(f->err.msg, "alert route oncall ("));
        return rc;
}

/* The request's headers, one per line, "\n" after each. */
static void headers_text(const struct receiver_request *r, char *out, size_t cap)
{
        const struct curl_slist *h;
        size_t n = 0;

        out[0] = '\0';
        for (h = r->headers; h != NULL; h = h->next)
                n += (size_t)snprintf(out + n, n < cap ? cap - n : 0, "%s\n", h->data);
        assert_true(n < cap);
}

static cJSON *parsed(const struct fx *f)
{
        cJSON *o = cJSON_ParseWithLength(f->req.body, f->req.body_len);

        assert_non_null(o);
        return o;
}

/* o[key], or o[N] when o is an array. */
static const cJSON *member(const cJSON *o, const char *key)
{
        return cJSON_IsArray(o) ? cJSON_GetArrayItem(o, (int)strtol(key, NULL, 10))
                                : cJSON_GetObjectItemCaseSensitive(o, key);
}

/* The value at "a.b.0.c". */
static const cJSON *at_path(const cJSON *o, const char *path)
{
        char key[64];
        const char *dot;

        while ((dot = strchr(path, '.')) != NULL) {
                assert_true((size_t)(dot - path) < sizeof key);
                memcpy(key, path, (size_t)(dot - path));
                key[dot - path] = '\0';
                o = member(o, key);
                path = dot + 1;
        }
        return member(o, path);
}

static const char *str_at(const cJSON *o, const char *path)
{
        const cJSON *v = at_path(o, path);

        if (!cJSON_IsString(v))
                fail_msg("%s is not a string", path);
        return v->valuestring;
}

/* UTF-8 checked here without the code under test: a table of lead bytes. */
static int utf8_valid(const char *s, size_t n)
{
        const unsigned char *u = (const unsigned char *)s;
        size_t i = 0, k, need;

        while (i < n) {
                unsigned char c = u[i];
                unsigned long cp;

                if (c < 0x80) {
                        i++;
                        continue;
                }
                need = (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2 : (c & 0xf8) == 0xf0 ? 3 : 9;
                if (need == 9 || i + need >= n)
                        return 0;
                cp = c & (0x3fu >> need);
                for (k = 1; k <= need; k++) {
                        if ((u[i + k] & 0xc0) != 0x80)
                                return 0;
                        cp = (cp << 6) | (u[i + k] & 0x3fu);
                }
                if ((need == 1 && cp < 0x80) || (need == 2 && cp < 0x800) ||
                    (need == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
                    (cp >= 0xd800 && cp <= 0xdfff))
                        return 0;
                i += need + 1;
        }
        return 1;
}

/* "YYYY-MM-DDTHH:MM:SS.mmmZ" */
static int rfc3339_ms(const char *s)
{
        static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";
        size_t i;

        if (strlen(s) != sizeof shape - 1)
                return 0;
        for (i = 0; shape[i] != '\0'; i++) {
                if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != shape[i])
                        return 0;
        }
        return 1;
}

static void expect_outcome(const struct config_alert_route *route, int transport_rc, long status,
                           const char *body, enum receiver_outcome want, const char *why_has)
{
        char why[RECEIVER_ANSWER_MAX + 200];
        enum receiver_outcome got =
                receiver_judge(route, transport_rc, status, body, body != NULL ? strlen(body) : 0,
                               why, sizeof why);

        if (got != want)
                fail_msg("status %ld: outcome %d, wanted %d (%s)", status, (int)got, (int)want,
                         why);
        assert_non_null(strstr(why, "alert route oncall ("));
        if (why_has != NULL && strstr(why, why_has) == NULL)
                fail_msg("status %ld: \"%s\" does not say \"%s\"", status, why, why_has);
}

/* ================================================================ PagerDuty */

static void test_pd_trigger_bytes(void **state)
{
        struct fx *f = fixture(RECEIVER_PAGERDUTY);
        char headers[512];

        (void)state;
        standard_details(f);
        build_ok(f);
        assert_string_equal(f->req.url, "https://events.pagerduty.com/v2/enqueue");
        headers_text(&f->req, headers, sizeof headers);
        assert_string_equal(headers, "Content-Type: application/json\n"
                                     "User-Agent: relaywatch\n"
                                     "Expect:\n");
        assert_string_equal(
                f->req.body,
                "{\"routing_key\":\"" ROUTING_KEY "\",\"event_action\":\"trigger\","
                "\"dedup_key\":\"SUPPLY_MISMATCH/asset_SIGIL\",\"payload\":{"
                "\"summary\":\"SIGIL: 1000.5 bridged > 1000 locked & rising\","
                "\"source\":\"wd-1\",\"severity\":\"critical\","
                "\"timestamp\":\"2025-12-03T06:43:14.123Z\",\"component\":\"relaywatch\","
                "\"group\":\"tier1\",\"class\":\"SUPPLY_MISMATCH\",\"custom_details\":{"
                "\"subject\":\"asset SIGIL\",\"correlation_id\":\"rw-42\",\"halt_id\":\"halt-7\","
                "\"opened_at\":\"2025-12-03T06:43:14.123Z\",\"details\":{\"locked\":\"1000\","
                "\"bridged\":\"1000.5\",\"height\":123,\"ok\":false,\"nested\":{\"a\":1}}}},"
                "\"links\":[{\"href\":\"https://runbooks.example/relaywatch/SUPPLY_MISMATCH.md\","
                "\"text\":\"Runbook: SUPPLY_MISMATCH\"}],\"client\":\"relaywatch\","
                "\"client_url\":\"https://runbooks.example/relaywatch/\"}");
        done(f);
}

static void test_pd_resolve_bytes(void **state)
{
        struct fx *f = fixture(RECEIVER_PAGERDUTY);

        (void)state;
        standard_details(f);
        f->a.state = ALERT_RESOLVED;
        f->a.at_ms = AT_MS + 60000;
        f->route.url = "http://127.0.0.1:8080/";
        build_ok(f);
        assert_string_equal(f->req.url, "http://127.0.0.1:8080/v2/enqueue");
        assert_string_equal(f->req.body, "{\"routing_key\":\"" ROUTING_KEY "\","
                                         "\"event_action\":\"resolve\","
                                         "\"dedup_key\":\"SUPPLY_MISMATCH/asset_SIGIL\"}");
        done(f);
}

static void test_pd_fields_and_types(void **state)
{
        static const struct {
                enum finding_severity sev;
                int tier;
                const char *severity, *group;
        } cases[] = {
                {FINDING_CRITICAL, 1, "critical", "tier1"},
                {FINDING_ERROR, 2, "error", "tier2"},
                {FINDING_WARNING, 0, "warning", "finding"},
                {FINDING_INFO, 0, "info", "finding"},
        };
        size_t i;

        (void)state;
        for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                struct fx *f = fixture(RECEIVER_PAGERDUTY);
                cJSON *o;

                f->a.severity = cases[i].sev;
                f->a.tier = cases[i].tier;
                f->a.at_ms = 1700000000007;
                f->cfg.alert_source = "bridge-prod";
                build_ok(f);
                o = parsed(f);
                assert_string_equal(str_at(o, "payload.severity"), cases[i].severity);
                assert_string_equal(str_at(o, "payload.group"), cases[i].group);
                assert_string_equal(str_at(o, "payload.source"), "bridge-prod");
                assert_string_equal(str_at(o, "payload.timestamp"), "2023-11-14T22:13:20.007Z");
                assert_true(rfc3339_ms(str_at(o, "payload.custom_details.opened_at")));
                /* no details: an empty object, never null */
                assert_true(cJSON_IsObject(at_path(o, "payload.custom_details.details")));
                assert_null(at_path(o, "payload.custom_details.test"));
                assert_int_equal(cJSON_GetArraySize(o), 7);
                cJSON_Delete(o);
                done(f);
        }
}

static void test_pd_summary_cut_at_utf8(void **state)
{
        static const char *const chars[] = {"a", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x94\xa5"};
        size_t i;

        (void)state;
        for (i = 0; i < 4; i++) {
                struct fx *f = fixture(RECEIVER_PAGERDUTY);
                size_t n = 0, clen = strlen(chars[i]), len;
                const char *summary;
                cJSON *o;

                while (n + clen < sizeof f->a.summary) {
                        memcpy(f->a.summary + n, chars[i], clen);
                        n += clen;
                }
                f->a.summary[n] = '\0';
                f->a.purpose = ALERT_TEST;
                build_ok(f);
                o = parsed(f);
                summary = str_at(o, "payload.summary");
                len = strlen(summary);
                assert_true(len <= 1024);
                assert_true(len > 1024 - 4 - 3);
                if (i == 0) /* ASCII: "[TEST] ", 1014 of the summary and "…" */
                        assert_int_equal(len, 1024);
                assert_true(utf8_valid(summary, len));
                assert_memory_equal(summary, "[TEST] ", 7);
                assert_string_equal(summary + len - 3, RCV_ELLIPSIS);
                assert_true(cJSON_IsTrue(at_path(o, "payload.custom_details.test")));
                cJSON_Delete(o);
                done(f);
        }
}

static void test_pd_no_runbook(void **state)
{
        struct fx *f = fixture(RECEIVER_PAGERDUTY);
        cJSON *o;

        (void)state;
        f->a.runbook_url[0] = '\0';
        f->cfg.runbook_url = NULL;
        f->cfg.watchdog_id = NULL;
        build_ok(f);
        o = parsed(f);
        assert_null(at_path(o, "links"));
        assert_null(at_path(o, "client_url"));
        assert_string_equal(str_at(o, "client"), "relaywatch");
        assert_string_equal(str_at(o, "payload.source"), "relaywatch");
        cJSON_Delete(o);
        done(f);
}

static void test_pd_refusals(void **state)
{
        struct fx *f = fixture(RECEIVER_PAGERDUTY);

        (void)state;
        f->a.purpose = ALERT_REPORT;
        f->a.severity = FINDING_INFO;
        assert_int_equal(build_fails(f), RW_ERR_INVALID);
        assert_non_null(strstr(f->err.msg, "daily report"));

        f = fixture(RECEIVER_PAGERDUTY);
        f->route.routing_key = NULL;
        assert_int_equal(build_fails(f), RW_ERR_INVALID);
        assert_non_null(strstr(f->err.msg, "routing_key"));

        f = fixture(RECEIVER_PAGERDUTY);
        f->route.routing_key = "short-key-0123456789";
        assert_int_equal(build_fails(f), RW_ERR_INVALID);
        assert_null(strstr(f->err.msg, "short-key"));

        f = fixture(RECEIVER_PAGERDUTY);
        f->a.name[0] = '\0';
        assert_int_equal(build_fails(f), RW_ERR_INVALID);

        f = fixture(RECEIVER_PAGERDUTY);
        f->route.type = (enum config_receiver_type)9;
        assert_int_equal(build_fails(f), RW_ERR_INVALID);
}

static void test_pd_text_made_clean(void **state)
{
        struct fx *f = fixture(RECEIVER_PAGERDUTY);
        const char *s;
        cJSON *o;

        (void)state;
        (void)snprintf(f->a.summary, sizeof f->a.summary, "bad \xff byte\r\nand \xc3 cut");
        (void)snprintf(f->a.subject, sizeof f->a.subject, "tab\there");
        set_details(f, "{\"who\":\"\xfe\xfe\",\"n\":1}");
        f->a.dedup_key[0] = '\0'; /* made again from name and subject */
        build_ok(f);
        assert_true(utf8_valid(f->req.body, f->req.body_len));
        o = parsed(f);
        s = str_at(o, "payload.summary");
        assert_string_equal(s, "bad \xef\xbf\xbd byte  and \xef\xbf\xbd cut");
        assert_string_equal(str_at(o, "payload.custom_details.subject"), "tab here");
        assert_string_equal(str_at(o, "payload.custom_details.details.who"),
                            "\xef\xbf\xbd\xef\xbf\xbd");
        assert_string_equal(str_at(o, "dedup_key"), "SUPPLY_MISMATCH/tab_here");
        cJSON_Delete(o);
        done(f);
}

static void test_pd_judge(void **state)
{
        struct fx *f = fixture(RECEIVER_PAGERDUTY);
        const struct config_alert_route *r = &f->route;
        char why[600];

        (void)state;
        expect_outcome(r, RW_OK, 202,
                       "{\"status\":\"success\",\"message\":\"Event processed\","
                       "\"dedup_key\":\"SUPPLY_MISMATCH/asset_SIGIL\"}",
                       RECEIVER_DELIVERED, "202");
        expect_outcome(r, RW_OK, 202, "{}", RECEIVER_RETRY, "\"status\":\"success\"");
        expect_outcome(r, RW_OK, 202, "<html>", RECEIVER_RETRY, "<html>");
        expect_outcome(r, RW_OK, 202, NULL, RECEIVER_RETRY, "no answer text");
        expect_outcome(r, RW_OK, 400,
                       "{\"status\":\"invalid event\",\"message\":\"Event object is invalid\","
                       "\"errors\":[\"'payload.summary' is missing\",\"Length of 'dedup_key' "
                       "is too long\"]}",
                       RECEIVER_REJECTED,
                       "Event object is invalid: 'payload.summary' is missing; Length of "
                       "'dedup_key' is too long");
        expect_outcome(r, RW_OK, 400, "not json", RECEIVER_REJECTED, "not json");
        expect_outcome(r, RW_OK, 429, "{\"status\":\"throttle event\"}", RECEIVER_RETRY, "429");
        expect_outcome(r, RW_OK, 500, "", RECEIVER_RETRY, "500");
        expect_outcome(r, RW_OK, 503, "", RECEIVER_RETRY, "503");
        expect_outcome(r, RW_OK, 408, "", RECEIVER_RETRY, "408");
        expect_outcome(r, RW_OK, 404, "nope", RECEIVER_REJECTED, "404");
        expect_outcome(r, RW_OK, 301, "", RECEIVER_RETRY, "unexpected");
        expect_outcome(r, RW_ERR_TIMEOUT, 0, NULL, RECEIVER_RETRY, "no answer");
        expect_outcome(r, RW_ERR_IO, 202, "{\"status\":\"success\"}", RECEIVER_RETRY, NULL);
        /* an answer that echoes the routing key does not put it in the log */
        assert_int_equal(receiver_judge(r, RW_OK, 400, "{\"message\":\"bad key " ROUTING_KEY "\"}",
                                        strlen("{\"message\":\"bad key " ROUTING_KEY "\"}"), why,
                                        sizeof why),
                         RECEIVER_REJECTED);
        assert_null(strstr(why, ROUTING_KEY));
        assert_non_null(strstr(why, "bad key <redacted>"));
}

/* ================================================================ Slack */

static void test_slack_bytes(void **state)
{
        struct fx *f = fixture(RECEIVER_SLACK);
        char headers[512];

        (void)state;
        standard_details(f);
        build_ok(f);
        assert_string_equal(f->req.url,
                            "https://hooks.slack.example/services/T000/B000/XXXXXXXXXXXX");
        headers_text(&f->req, headers, sizeof headers);
        assert_string_equal(headers, "Content-Type: application/json\n"
                                     "User-Agent: relaywatch\n"
                                     "Expect:\n");
        assert_string_equal(
                f->req.body,
                "{\"text\":\"[CRITICAL] SUPPLY_MISMATCH firing: SIGIL: 1000.5 bridged &gt; 1000 "
                "locked &amp; rising\",\"blocks\":["
                "{\"type\":\"header\",\"text\":{\"type\":\"plain_text\","
                "\"text\":\"[CRITICAL] SUPPLY_MISMATCH firing\"}},"
                "{\"type\":\"section\",\"text\":{\"type\":\"mrkdwn\","
                "\"text\":\"SIGIL: 1000.5 bridged &gt; 1000 locked &amp; rising\"}},"
                "{\"type\":\"section\",\"fields\":["
                "{\"type\":\"mrkdwn\",\"text\":\"*Subject*\\nasset SIGIL\"},"
                "{\"type\":\"mrkdwn\",\"text\":\"*Correlation id*\\nrw-42\"},"
                "{\"type\":\"mrkdwn\",\"text\":\"*Halt id*\\nhalt-7\"},"
                "{\"type\":\"mrkdwn\",\"text\":\"*locked*\\n1000\"},"
                "{\"type\":\"mrkdwn\",\"text\":\"*bridged*\\n1000.5\"},"
                "{\"type\":\"mrkdwn\",\"text\":\"*height*\\n123\"},"
                "{\"type\":\"mrkdwn\",\"text\":\"*ok*\\nfalse\"}]},"
                "{\"type\":\"context\",\"elements\":["
                "{\"type\":\"mrkdwn\",\"text\":\"<https://runbooks.example/relaywatch/"
                "SUPPLY_MISMATCH.md|Runbook: SUPPLY_MISMATCH>\"},"
                "{\"type\":\"mrkdwn\",\"text\":\"Source: wd-1\"}]}]}");
        done(f);
}

static void test_slack_resolved_test_update(void **state)
{
        struct fx *f = fixture(RECEIVER_SLACK);
        cJSON *o;

        (void)state;
        f->a.state = ALERT_RESOLVED;
        f->a.severity = FINDING_WARNING;
        build_ok(f);
        o = parsed(f);
        assert_string_equal(str_at(o, "blocks.0.text.text"), "[WARNING] SUPPLY_MISMATCH resolved");
        cJSON_Delete(o);
        done(f);

        f = fixture(RECEIVER_SLACK);
        f->a.purpose = ALERT_TEST;
        f->a.update = 1;
        build_ok(f);
        o = parsed(f);
        assert_string_equal(str_at(o, "blocks.0.text.text"),
                            "[TEST] [CRITICAL] SUPPLY_MISMATCH firing (update)");
        assert_string_equal(str_at(o, "blocks.1.text.text"),
                            "[TEST] SIGIL: 1000.5 bridged &gt; 1000 locked &amp; rising");
        assert_string_equal(str_at(o, "text"),
                            "[TEST] [CRITICAL] SUPPLY_MISMATCH firing (update): SIGIL: 1000.5 "
                            "bridged &gt; 1000 locked &amp; rising");
        cJSON_Delete(o);
        done(f);
}

/* Escaped mrkdwn never ends inside an entity: every '&' starts &amp; &lt; or &gt;. */
static int entities_whole(const char *s)
{
        for (; (s = strchr(s, '&')) != NULL; s++) {
                if (strncmp(s, "&amp;", 5) != 0 && strncmp(s, "&lt;", 4) != 0 &&
                    strncmp(s, "&gt;", 4) != 0)
                        return 0;
        }
        return 1;
}

static void test_slack_limits(void **state)
{
        struct fx *f = fixture(RECEIVER_SLACK);
        struct rcv_buf details = {0};
        const cJSON *fields, *v;
        const char *text;
        cJSON *o;
        int i;

        (void)state;
        memset(f->a.summary, '&', sizeof f->a.summary - 1); /* 1023 x "&amp;": 5115 bytes */
        f->a.summary[sizeof f->a.summary - 1] = '\0';
        rcv_buf_puts(&details, "{\"long\":\"");
        for (i = 0; i < 3000; i++)
                rcv_buf_puts(&details, i % 2 ? "\xc3\xa9" : "<");
        rcv_buf_puts(&details, "\",\"plain\":\"");
        for (i = 0; i < 3000; i++)
                rcv_buf_puts(&details, "x");
        rcv_buf_puts(&details, "\"");
        for (i = 0; i < 15; i++)
                rcv_buf_printf(&details, ",\"k%02d\":%d", i, i);
        rcv_buf_puts(&details, ",\"obj\":{\"x\":1},\"arr\":[1],\"nul\":null}");
        assert_false(details.failed);
        set_details(f, details.p);
        rcv_buf_free(&details);
        build_ok(f);
        o = parsed(f);
        text = str_at(o, "blocks.1.text.text");
        assert_true(strlen(text) <= 3000);
        assert_true(strlen(text) > 3000 - 5 - 3);
        assert_true(entities_whole(text));
        assert_string_equal(text + strlen(text) - 3, RCV_ELLIPSIS);
        text = str_at(o, "text");
        assert_true(strlen(text) <= 3000 && entities_whole(text));
        assert_true(strlen(str_at(o, "blocks.0.text.text")) <= 150);
        fields = at_path(o, "blocks.2.fields");
        assert_int_equal(cJSON_GetArraySize(fields), 10);
        cJSON_ArrayForEach(v, fields)
        {
                text = str_at(v, "text");
                assert_true(strlen(text) <= 2000);
                assert_true(utf8_valid(text, strlen(text)));
                assert_true(entities_whole(text));
        }
        assert_memory_equal(str_at(fields, "3.text"), "*long*\n&lt;\xc3\xa9&lt;", 16);
        text = str_at(fields, "4.text"); /* 2000 exactly: "*plain*\n", 1989 x and "…" */
        assert_int_equal(strlen(text), 2000);
        assert_string_equal(text + 1997, RCV_ELLIPSIS);
        assert_string_equal(str_at(fields, "5.text"), "*k00*\n0");
        assert_string_equal(str_at(fields, "9.text"), "*k04*\n4");
        assert_true(cJSON_GetArraySize(at_path(o, "blocks")) <= 50);
        cJSON_Delete(o);
        done(f);
}

static void test_slack_report(void **state)
{
        struct fx *f = fixture(RECEIVER_SLACK);
        struct rcv_buf d = {0}, joined = {0};
        const cJSON *blocks, *b;
        cJSON *o;
        int i, sections = 0;

        (void)state;
        f->a.purpose = ALERT_REPORT;
        f->a.severity = FINDING_INFO;
        f->a.tier = 0;
        (void)snprintf(f->a.name, sizeof f->a.name, "DAILY_REPORT");
        (void)snprintf(f->a.summary, sizeof f->a.summary, "relaywatch daily report");
        f->a.subject[0] = f->a.halt_id[0] = f->a.runbook_url[0] = '\0';
        rcv_buf_puts(&d, "{\"text\":\"");
        for (i = 0; i < 200; i++) /* 49 bytes a line escaped: 61 lines a section, 4 sections */
                rcv_buf_printf(&d, "line %03d: 12 alerts <2 open> & fine...\\n", i);
        rcv_buf_puts(&d, "\",\"alerts\":12}");
        set_details(f, d.p);
        rcv_buf_free(&d);
        build_ok(f);
        o = parsed(f);
        assert_string_equal(str_at(o, "blocks.0.text.text"), "[INFO] DAILY_REPORT");
        assert_string_equal(str_at(o, "blocks.1.text.text"), "relaywatch daily report");
        blocks = at_path(o, "blocks");
        for (i = 2; (b = cJSON_GetArrayItem(blocks, i)) != NULL; i++) {
                const char *t;

                if (at_path(b, "text") == NULL)
                        break;
                t = str_at(b, "text.text");
                assert_true(strlen(t) <= 3000);
                rcv_buf_printf(&joined, "%s\n", t);
                sections++;
        }
        assert_int_equal(sections, 4);
        assert_false(joined.failed);
        assert_non_null(strstr(joined.p, "line 000: 12 alerts &lt;2 open&gt; &amp; fine...\n"));
        assert_non_null(strstr(joined.p, "line 199: 12 alerts &lt;2 open&gt; &amp; fine...\n"));
        assert_int_equal(joined.len, 200 * strlen("line 000: 12 alerts &lt;2 open&gt; &amp; "
                                                  "fine...\n") +
                                             1);
        rcv_buf_free(&joined);
        /* the fields: correlation id and the figures, not the text again */
        assert_string_equal(str_at(b, "type"), "section");
        assert_string_equal(str_at(b, "fields.0.text"), "*Correlation id*\nrw-42");
        assert_string_equal(str_at(b, "fields.1.text"), "*alerts*\n12");
        assert_null(at_path(b, "fields.2"));
        /* no runbook: the context says the source only */
        assert_string_equal(str_at(o, "blocks.7.elements.0.text"), "Source: wd-1");
        assert_null(at_path(o, "blocks.7.elements.1"));
        cJSON_Delete(o);
        done(f);
}

static void test_slack_huge_report_cut(void **state)
{
        struct fx *f = fixture(RECEIVER_SLACK);
        struct rcv_buf d = {0};
        const cJSON *b;
        const char *t = NULL;
        cJSON *o;
        int i, sections = 0;

        (void)state;
        f->a.purpose = ALERT_REPORT;
        rcv_buf_puts(&d, "{\"text\":\"");
        for (i = 0; i < 40000; i++) /* one line of 40000 bytes, no place to break */
                rcv_buf_puts(&d, "x");
        rcv_buf_puts(&d, "\"}");
        set_details(f, d.p);
        rcv_buf_free(&d);
        build_ok(f);
        o = parsed(f);
        cJSON_ArrayForEach(b, at_path(o, "blocks"))
        {
                if (strcmp(str_at(b, "type"), "section") == 0 && at_path(b, "text") != NULL) {
                        t = str_at(b, "text.text");
                        assert_true(strlen(t) <= 3000);
                        sections++;
                }
        }
        assert_int_equal(sections, 1 + 10); /* the summary and 10 of the report */
        assert_non_null(t);
        assert_string_equal(t + strlen(t) - 3, RCV_ELLIPSIS);
        assert_true(cJSON_GetArraySize(at_path(o, "blocks")) <= 50);
        cJSON_Delete(o);
        done(f);
}

static void test_slack_runbook_link_escaped(void **state)
{
        struct fx *f = fixture(RECEIVER_SLACK);
        cJSON *o;

        (void)state;
        (void)snprintf(f->a.runbook_url, sizeof f->a.runbook_url, "https://rb.example/a|b>c&d.md");
        build_ok(f);
        o = parsed(f);
        assert_string_equal(str_at(o, "blocks.3.elements.0.text"),
                            "<https://rb.example/a%7Cb%3Ec&amp;d.md|Runbook: SUPPLY_MISMATCH>");
        cJSON_Delete(o);
        done(f);

        f = fixture(RECEIVER_SLACK);
        f->route.url = NULL;
        assert_int_equal(build_fails(f), RW_ERR_INVALID);
}

static void test_slack_judge(void **state)
{
        struct fx *f = fixture(RECEIVER_SLACK);
        const struct config_alert_route *r = &f->route;
        char why[600];

        (void)state;
        expect_outcome(r, RW_OK, 200, "ok", RECEIVER_DELIVERED, NULL);
        expect_outcome(r, RW_OK, 200, "okay", RECEIVER_RETRY, "okay");
        expect_outcome(r, RW_OK, 200, "", RECEIVER_RETRY, "not \"ok\"");
        expect_outcome(r, RW_OK, 400, "invalid_payload", RECEIVER_REJECTED, "invalid_payload");
        expect_outcome(r, RW_OK, 403, "invalid_token", RECEIVER_REJECTED, "invalid_token");
        expect_outcome(r, RW_OK, 404, "no_service", RECEIVER_REJECTED, "no_service");
        expect_outcome(r, RW_OK, 410, "channel_is_archived", RECEIVER_REJECTED,
                       "channel_is_archived");
        expect_outcome(r, RW_OK, 429, "rate_limited", RECEIVER_RETRY, "rate_limited");
        expect_outcome(r, RW_OK, 500, "rollup_error", RECEIVER_RETRY, "500");
        expect_outcome(r, RW_ERR_IO, 0, NULL, RECEIVER_RETRY, NULL);
        /* the webhook's path is its secret */
        assert_int_equal(receiver_judge(r, RW_OK, 404, "no hook /services/T000/B000/XXXXXXXXXXXX",
                                        strlen("no hook /services/T000/B000/XXXXXXXXXXXX"), why,
                                        sizeof why),
                         RECEIVER_REJECTED);
        assert_null(strstr(why, "XXXXXXXX"));
        assert_non_null(strstr(why, "no hook <redacted>"));
}

/* ================================================================ email */

static void test_email_bytes(void **state)
{
        struct fx *f = fixture(RECEIVER_EMAIL);

        (void)state;
        set_details(f, "{\"locked\":\"1000\",\"nested\":{\"a\":[1,2]}}");
        build_ok(f);
        assert_string_equal(f->req.url, "smtp://127.0.0.1:2525");
        assert_null(f->req.headers);
        assert_string_equal(f->req.body,
                            "Date: Wed, 03 Dec 2025 06:43:14 +0000\r\n"
                            "From: relaywatch@example.com\r\n"
                            "To: oncall@example.com,\r\n"
                            " bridge-team@example.com\r\n"
                            "Subject: [relaywatch CRITICAL] SUPPLY_MISMATCH firing: SIGIL: 1000.5 "
                            "bridged > 1000 locked & rising\r\n"
                            "Message-ID: <SUPPLY_MISMATCH_asset_SIGIL.1764744194123@relaywatch>\r\n"
                            "MIME-Version: 1.0\r\n"
                            "Content-Type: text/plain; charset=UTF-8\r\n"
                            "Content-Transfer-Encoding: 8bit\r\n"
                            "Auto-Submitted: auto-generated\r\n"
                            "\r\n"
                            "SIGIL: 1000.5 bridged > 1000 locked & rising\r\n"
                            "\r\n"
                            "Alert:          SUPPLY_MISMATCH\r\n"
                            "State:          firing\r\n"
                            "Severity:       CRITICAL\r\n"
                            "Subject:        asset SIGIL\r\n"
                            "Source:         wd-1\r\n"
                            "Opened:         2025-12-03T06:43:14.123Z\r\n"
                            "At:             2025-12-03T06:43:14.123Z\r\n"
                            "Correlation id: rw-42\r\n"
                            "Halt id:        halt-7\r\n"
                            "Runbook:        https://runbooks.example/relaywatch/"
                            "SUPPLY_MISMATCH.md\r\n"
                            "\r\n"
                            "Details:\r\n"
                            "{\r\n"
                            "  \"locked\": \"1000\",\r\n"
                            "  \"nested\": {\r\n"
                            "    \"a\": [1, 2]\r\n"
                            "  }\r\n"
                            "}\r\n");
        done(f);
}

/* Every line ends in CRLF, none is longer than 998 bytes. */
static void check_lines(const char *m, size_t len)
{
        size_t i, start = 0;

        assert_true(len >= 2 && m[len - 2] == '\r' && m[len - 1] == '\n');
        for (i = 0; i < len; i++) {
                if (m[i] == '\r') {
                        assert_true(i + 1 < len && m[i + 1] == '\n');
                        assert_true(i - start <= 998);
                        start = i + 2;
                        i++;
                } else {
                        assert_true(m[i] != '\n');
                }
        }
}

/* The header lines (to the first empty line) each start with a known name or a fold. */
static void check_header_names(const char *m)
{
        static const char *const names[] = {
                "Date: ",
                "From: ",
                "To: ",
                "Subject:",
                "Message-ID: ",
                "In-Reply-To: ",
                "References: ",
                "MIME-Version: ",
                "Content-Type: ",
                "Content-Transfer-Encoding: ",
                "Auto-Submitted: ",
        };
        const char *line = m;
        int seen_subject = 0;

        while (strncmp(line, "\r\n", 2) != 0) {
                size_t k, ok = line[0] == ' ';

                for (k = 0; k < sizeof names / sizeof names[0]; k++)
                        ok |= strncmp(line, names[k], strlen(names[k])) == 0;
                if (!ok)
                        fail_msg("unexpected header line: %.40s", line);
                seen_subject += strncmp(line, "Subject:", 8) == 0;
                line = strstr(line, "\r\n");
                assert_non_null(line);
                line += 2;
        }
        assert_int_equal(seen_subject, 1);
}

static void test_email_header_injection(void **state)
{
        struct fx *f = fixture(RECEIVER_EMAIL);
        const char *p;

        (void)state;
        (void)snprintf(f->a.summary, sizeof f->a.summary,
                       "x\r\nBcc: evil@example.com\r\n\r\nfake body\n.\nRCPT TO:<x@y>");
        (void)snprintf(f->a.subject, sizeof f->a.subject, "s\nX-Evil: 1");
        (void)snprintf(f->a.correlation_id, sizeof f->a.correlation_id, "c\rFrom: boss@example");
        f->a.purpose = ALERT_TEST;
        build_ok(f);
        check_lines(f->req.body, f->req.body_len);
        check_header_names(f->req.body);
        for (p = f->req.body; p != NULL; p = strstr(p, "\r\n")) {
                p += p == f->req.body ? 0 : 2;
                assert_true(strncmp(p, "Bcc:", 4) != 0);
                assert_true(strncmp(p, "X-Evil:", 7) != 0);
                assert_true(strncmp(p, "From: boss", 10) != 0);
                assert_true(strncmp(p, "RCPT", 4) != 0);
                assert_true(strncmp(p, ".\r\n", 3) != 0);
        }
        assert_non_null(strstr(f->req.body, "\r\nSubject: [TEST] [relaywatch CRITICAL] "
                                            "SUPPLY_MISMATCH firing: x  Bcc: evil@example.com    "
                                            "fake body . RCPT TO:<x@y>\r\n"));
        assert_non_null(strstr(f->req.body, "\r\nSubject:        s X-Evil: 1\r\n"));
        done(f);

        f = fixture(RECEIVER_EMAIL);
        f->route.mail_to[1] = "ok@example.com\r\nBcc: evil@example.com";
        assert_int_equal(build_fails(f), RW_ERR_INVALID);
        assert_non_null(strstr(f->err.msg, "mail_to (address 2)"));
        f = fixture(RECEIVER_EMAIL);
        f->route.mail_from = "a@b\nBcc: c@d";
        assert_int_equal(build_fails(f), RW_ERR_INVALID);
        f = fixture(RECEIVER_EMAIL);
        f->route.nmail_to = 0;
        assert_int_equal(build_fails(f), RW_ERR_INVALID);
        f = fixture(RECEIVER_EMAIL);
        f->route.url = NULL;
        assert_int_equal(build_fails(f), RW_ERR_INVALID);
}

static void test_email_long_lines_wrapped(void **state)
{
        struct fx *f = fixture(RECEIVER_EMAIL);
        struct rcv_buf d = {0};
        size_t i;

        (void)state;
        rcv_buf_puts(&d, "{\"blob\":\"");
        for (i = 0; i < 1500; i++) /* 3000 bytes of "é" on one JSON line */
                rcv_buf_puts(&d, "\xc3\xa9");
        rcv_buf_puts(&d, "\",\"lf\":\"a\\r\\nb\"}");
        set_details(f, d.p);
        rcv_buf_free(&d);
        build_ok(f);
        check_lines(f->req.body, f->req.body_len);
        assert_true(utf8_valid(f->req.body, f->req.body_len));
        done(f);
}

/* The subject's encoded words decoded and put together. */
static void decode_subject(const char *m, char *out, size_t cap)
{
        const char *p = strstr(m, "\r\nSubject:"), *end;
        size_t n = 0;

        assert_non_null(p);
        p += 10;
        end = strstr(p, "\r\nMessage-ID:");
        assert_non_null(end);
        while ((p = strstr(p, "=?UTF-8?B?")) != NULL && p < end) {
                const char *q = strstr(p + 10, "?=");
                size_t got = 0;

                assert_non_null(q);
                assert_true(q + 2 - p <= 75); /* RFC 2047: an encoded word is 75 at most */
                assert_int_equal(sodium_base642bin((unsigned char *)out + n, cap - n - 1, p + 10,
                                                   (size_t)(q - p - 10), NULL, &got, NULL,
                                                   sodium_base64_VARIANT_ORIGINAL),
                                 0);
                /* and holds whole characters (RFC 2047 section 5) */
                assert_true(utf8_valid(out + n, got));
                n += got;
                p = q + 2;
        }
        out[n] = '\0';
}

static void test_email_subject_encoded(void **state)
{
        struct fx *f = fixture(RECEIVER_EMAIL);
        char subject[512];

        (void)state;
        (void)snprintf(f->a.summary, sizeof f->a.summary,
                       "\xc3\x9c"
                       "berweisung \xc3\xbc"
                       "ber 1000 \xe2\x82\xac blockiert \xf0\x9f\x94\xa5 on chain source, and more "
                       "words to pass the hundred and twenty byte cut of the subject line here");
        build_ok(f);
        check_lines(f->req.body, f->req.body_len);
        check_header_names(f->req.body);
        decode_subject(f->req.body, subject, sizeof subject);
        assert_string_equal(subject, "[relaywatch CRITICAL] SUPPLY_MISMATCH firing: "
                                     "\xc3\x9c"
                                     "berweisung \xc3\xbc"
                                     "ber 1000 \xe2\x82\xac blockiert \xf0\x9f\x94\xa5 on chain "
                                     "source, and more words to pass the hundred and twenty byte "
                                     "cut of\xe2\x80\xa6");
        done(f);

        /* "€" at subject bytes 88..90 straddles the second word's end: it moves whole */
        f = fixture(RECEIVER_EMAIL);
        for (size_t i = 0; i < 40; i++)
                memcpy(f->a.summary + 3 * i, "\xe2\x82\xac", 4);
        build_ok(f);
        decode_subject(f->req.body, subject, sizeof subject);
        assert_memory_equal(subject, "[relaywatch CRITICAL] SUPPLY_MISMATCH firing: ", 46);
        assert_string_equal(subject + 46, f->a.summary);
        done(f);
}

static void test_email_resolve_threads_and_ids(void **state)
{
        struct fx *f = fixture(RECEIVER_EMAIL);

        (void)state;
        f->a.state = ALERT_RESOLVED;
        f->a.at_ms = AT_MS + 61000;
        (void)snprintf(f->a.dedup_key, sizeof f->a.dedup_key, "HALT_NOT_ACKNOWLEDGED/a:b.c");
        build_ok(f);
        assert_null(strstr(f->req.body, "\r\nDate: ")); /* the first line, once */
        assert_memory_equal(f->req.body, "Date: Wed, 03 Dec 2025 06:44:15 +0000\r\n", 39);
        assert_non_null(strstr(f->req.body,
                               "\r\nMessage-ID: <HALT_NOT_ACKNOWLEDGED_a_b_c.1764744255123@"
                               "relaywatch>\r\n"
                               "In-Reply-To: <HALT_NOT_ACKNOWLEDGED_a_b_c.1764744194123@"
                               "relaywatch>\r\n"
                               "References: <HALT_NOT_ACKNOWLEDGED_a_b_c.1764744194123@"
                               "relaywatch>\r\n"));
        assert_non_null(strstr(f->req.body, "resolved: SIGIL"));
        done(f);
}

static void test_email_report(void **state)
{
        struct fx *f = fixture(RECEIVER_EMAIL);

        (void)state;
        f->a.purpose = ALERT_REPORT;
        f->a.severity = FINDING_INFO;
        (void)snprintf(f->a.name, sizeof f->a.name, "DAILY_REPORT");
        (void)snprintf(f->a.summary, sizeof f->a.summary, "relaywatch daily report");
        set_details(f, "{\"text\":\"open alerts: 0\\nhalts: 1\\n\",\"halts\":1}");
        build_ok(f);
        check_lines(f->req.body, f->req.body_len);
        assert_non_null(strstr(f->req.body, "\r\nSubject: [relaywatch INFO] DAILY_REPORT: "
                                            "relaywatch daily report\r\n"));
        assert_non_null(strstr(f->req.body, "\r\n\r\nrelaywatch daily report\r\n\r\n"
                                            "open alerts: 0\r\nhalts: 1\r\n\r\n"
                                            "Alert:          DAILY_REPORT\r\n"
                                            "Severity:       INFO\r\n"));
        assert_null(strstr(f->req.body, "State:"));
        assert_non_null(strstr(f->req.body, "Details:\r\n{\r\n  \"halts\": 1\r\n}\r\n"));
        done(f);
}

static void test_email_judge(void **state)
{
        struct fx *f = fixture(RECEIVER_EMAIL);
        const struct config_alert_route *r = &f->route;

        (void)state;
        expect_outcome(r, RW_OK, 250, NULL, RECEIVER_DELIVERED, "SMTP 250");
        expect_outcome(r, RW_OK, 451, NULL, RECEIVER_RETRY, "SMTP 451");
        expect_outcome(r, RW_ERR_IO, 421, NULL, RECEIVER_RETRY, "SMTP 421");
        expect_outcome(r, RW_OK, 550, "5.1.1 no such user", RECEIVER_REJECTED, "no such user");
        /* libcurl reports a 5xx as a failed transfer: the code still decides */
        expect_outcome(r, RW_ERR_IO, 554, NULL, RECEIVER_REJECTED, "SMTP 554");
        expect_outcome(r, RW_ERR_IO, 535, "auth smtp-password-123", RECEIVER_REJECTED,
                       "<redacted>");
        expect_outcome(r, RW_ERR_TIMEOUT, 0, NULL, RECEIVER_RETRY, "no answer");
        expect_outcome(r, RW_ERR_IO, 250, NULL, RECEIVER_RETRY, "no answer");
        expect_outcome(r, RW_OK, 354, NULL, RECEIVER_RETRY, "unexpected");
}

/* ================================================================ webhook */

/* HMAC-SHA256 made here from SHA-256 alone (RFC 2104), to check the code under test. */
static void hmac_ref(const unsigned char *key, size_t klen, const unsigned char *msg, size_t mlen,
                     unsigned char out[32])
{
        unsigned char k[64] = {0}, pad[64], inner[32];
        crypto_hash_sha256_state st;
        size_t i;

        if (klen > 64)
                crypto_hash_sha256(k, key, klen);
        else
                memcpy(k, key, klen);
        for (i = 0; i < 64; i++)
                pad[i] = k[i] ^ 0x36;
        crypto_hash_sha256_init(&st);
        crypto_hash_sha256_update(&st, pad, 64);
        crypto_hash_sha256_update(&st, msg, mlen);
        crypto_hash_sha256_final(&st, inner);
        for (i = 0; i < 64; i++)
                pad[i] = k[i] ^ 0x5c;
        crypto_hash_sha256_init(&st);
        crypto_hash_sha256_update(&st, pad, 64);
        crypto_hash_sha256_update(&st, inner, 32);
        crypto_hash_sha256_final(&st, out);
}

static void hmac_ref_hex(const char *key, size_t klen, const char *msg, size_t mlen, char hex[65])
{
        unsigned char mac[32];

        hmac_ref((const unsigned char *)key, klen, (const unsigned char *)msg, mlen, mac);
        (void)sodium_bin2hex(hex, 65, mac, sizeof mac);
}

static void test_hmac_vectors(void **state)
{
        unsigned char long_key[131];
        char hex[65];

        (void)state;
        /* RFC 4231 test cases 2 and 6: the reference itself is right */
        hmac_ref_hex("Jefe", 4, "what do ya want for nothing?", 28, hex);
        assert_string_equal(hex,
                            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
        memset(long_key, 0xaa, sizeof long_key);
        hmac_ref_hex((const char *)long_key, sizeof long_key,
                     "Test Using Larger Than Block-Size Key - Hash Key First", 54, hex);
        assert_string_equal(hex,
                            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
        /* and the code under test agrees on short, block-size and long keys */
        rcv_webhook_signature("Jefe", 4, "what do ya want for nothing?", "", 0, hex);
        {
                char want[65];

                hmac_ref_hex("Jefe", 4, "what do ya want for nothing?.", 29, want);
                assert_string_equal(hex, want);
        }
        rcv_webhook_signature((const char *)long_key, sizeof long_key, "1", "{}", 2, hex);
        {
                char want[65];

                hmac_ref_hex((const char *)long_key, sizeof long_key, "1.{}", 4, want);
                assert_string_equal(hex, want);
        }
}

static void test_webhook_bytes_and_signature(void **state)
{
        struct fx *f = fixture(RECEIVER_WEBHOOK);
        char headers[1024], want_headers[1024], sig[65], *signed_text;
        unsigned char key32[32], mac[32];
        const struct curl_slist *h;
        size_t n;

        (void)state;
        standard_details(f);
        build_ok(f);
        assert_string_equal(f->req.url, "https://hooks.example/relaywatch/in");
        assert_string_equal(
                f->req.body,
                "{\"name\":\"SUPPLY_MISMATCH\",\"subject\":\"asset SIGIL\","
                "\"dedup_key\":\"SUPPLY_MISMATCH/asset_SIGIL\",\"severity\":\"CRITICAL\","
                "\"state\":\"firing\",\"purpose\":\"incident\",\"update\":false,\"tier\":1,"
                "\"summary\":\"SIGIL: 1000.5 bridged > 1000 locked & rising\","
                "\"correlation_id\":\"rw-42\",\"halt_id\":\"halt-7\","
                "\"runbook_url\":\"https://runbooks.example/relaywatch/SUPPLY_MISMATCH.md\","
                "\"opened_ms\":1764744194123,\"at_ms\":1764744194123,\"seq\":1,"
                "\"details\":{\"locked\":\"1000\",\"bridged\":\"1000.5\",\"height\":123,"
                "\"ok\":false,\"nested\":{\"a\":1}},\"source\":\"wd-1\"}");
        /* the signature, checked against the HMAC built here */
        n = strlen("1764744200.") + f->req.body_len;
        signed_text = malloc(n + 1);
        assert_non_null(signed_text);
        (void)snprintf(signed_text, n + 1, "1764744200.%s", f->req.body);
        hmac_ref_hex(WEBHOOK_SECRET, strlen(WEBHOOK_SECRET), signed_text, n, sig);
        (void)snprintf(want_headers, sizeof want_headers,
                       "Content-Type: application/json\n"
                       "User-Agent: relaywatch\n"
                       "Expect:\n"
                       "X-Relaywatch-Timestamp: 1764744200\n"
                       "X-Relaywatch-Signature: v1=%s\n",
                       sig);
        headers_text(&f->req, headers, sizeof headers);
        assert_string_equal(headers, want_headers);
        free(signed_text);
        done(f);

        /* a 32-byte key: libsodium's one-shot HMAC agrees */
        f = fixture(RECEIVER_WEBHOOK);
        memset(key32, 'k', sizeof key32);
        f->route.secret = "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk";
        f->a.purpose = ALERT_TEST;
        build_ok(f);
        n = strlen("1764744200.") + f->req.body_len;
        signed_text = malloc(n + 1);
        assert_non_null(signed_text);
        (void)snprintf(signed_text, n + 1, "1764744200.%s", f->req.body);
        crypto_auth_hmacsha256(mac, (const unsigned char *)signed_text, n, key32);
        (void)sodium_bin2hex(sig, sizeof sig, mac, sizeof mac);
        for (h = f->req.headers; h != NULL; h = h->next) {
                if (strncmp(h->data, "X-Relaywatch-Signature: ", 24) == 0)
                        break;
        }
        (void)snprintf(want_headers, sizeof want_headers, "X-Relaywatch-Signature: v1=%s", sig);
        if (h == NULL)
                fail_msg("no X-Relaywatch-Signature header");
        else
                assert_string_equal(h->data, want_headers);
        free(signed_text);
        done(f);
}

static void test_webhook_matches_alert_json(void **state)
{
        struct fx *f = fixture(RECEIVER_WEBHOOK);
        cJSON *got, *want;

        (void)state;
        f->a.purpose = ALERT_REPORT;
        f->cfg.alert_source = "bridge-prod";
        set_details(f, "{\"text\":\"line 1\\nline 2\",\"n\":2}");
        build_ok(f);
        got = parsed(f);
        want = alert_to_json(&f->a);
        assert_non_null(want);
        assert_non_null(cJSON_AddStringToObject(want, "source", "bridge-prod"));
        assert_true(cJSON_Compare(got, want, 1));
        assert_string_equal(str_at(got, "details.text"), "line 1\nline 2");
        cJSON_Delete(got);
        cJSON_Delete(want);
        done(f);

        f = fixture(RECEIVER_WEBHOOK);
        f->route.secret = "";
        assert_int_equal(build_fails(f), RW_ERR_INVALID);
        assert_non_null(strstr(f->err.msg, "secret"));
}

static void test_webhook_judge(void **state)
{
        struct fx *f = fixture(RECEIVER_WEBHOOK);
        const struct config_alert_route *r = &f->route;

        (void)state;
        expect_outcome(r, RW_OK, 200, "", RECEIVER_DELIVERED, NULL);
        expect_outcome(r, RW_OK, 204, NULL, RECEIVER_DELIVERED, NULL);
        expect_outcome(r, RW_OK, 202, "queued", RECEIVER_DELIVERED, NULL);
        expect_outcome(r, RW_OK, 401, "bad signature", RECEIVER_REJECTED, "bad signature");
        expect_outcome(r, RW_OK, 400, "{\"error\":\"x\"}", RECEIVER_REJECTED, "{\"error\":\"x\"}");
        expect_outcome(r, RW_OK, 413, "", RECEIVER_REJECTED, "413");
        expect_outcome(r, RW_OK, 408, "", RECEIVER_RETRY, "408");
        expect_outcome(r, RW_OK, 429, "", RECEIVER_RETRY, "429");
        expect_outcome(r, RW_OK, 502, "<html>\n<b>bad gateway</b>", RECEIVER_RETRY,
                       "<html> <b>bad gateway</b>");
        expect_outcome(r, RW_ERR_REFUSED, 0, NULL, RECEIVER_RETRY, NULL);
        expect_outcome(r, RW_OK, 400, "secret was " WEBHOOK_SECRET, RECEIVER_REJECTED,
                       "secret was <redacted>");
}

/* ================================================================ Alertmanager */

static void test_am_bytes(void **state)
{
        struct fx *f = fixture(RECEIVER_ALERTMANAGER);
        char headers[512];

        (void)state;
        standard_details(f);
        build_ok(f);
        assert_string_equal(f->req.url, "http://127.0.0.1:9093/api/v2/alerts");
        headers_text(&f->req, headers, sizeof headers);
        assert_string_equal(headers, "Content-Type: application/json\n"
                                     "User-Agent: relaywatch\n"
                                     "Expect:\n");
        assert_string_equal(
                f->req.body,
                "[{\"labels\":{\"alertname\":\"SUPPLY_MISMATCH\",\"severity\":\"critical\","
                "\"invariant\":\"SUPPLY_MISMATCH\",\"subject\":\"asset SIGIL\","
                "\"source\":\"wd-1\"},\"annotations\":{"
                "\"summary\":\"SIGIL: 1000.5 bridged > 1000 locked & rising\","
                "\"runbook_url\":\"https://runbooks.example/relaywatch/SUPPLY_MISMATCH.md\","
                "\"correlation_id\":\"rw-42\",\"halt_id\":\"halt-7\"},"
                "\"startsAt\":\"2025-12-03T06:43:14.123Z\","
                "\"endsAt\":\"2025-12-03T06:47:20.000Z\","
                "\"generatorURL\":\"https://runbooks.example/relaywatch/SUPPLY_MISMATCH.md\"}]");
        done(f);
}

static void test_am_resolved_and_optional(void **state)
{
        struct fx *f = fixture(RECEIVER_ALERTMANAGER);
        const cJSON *labels;
        cJSON *o;

        (void)state;
        f->route.url = "https://am.example//";
        f->route.resend_s = 0; /* the default, 60 s */
        f->a.state = ALERT_RESOLVED;
        f->a.tier = 0;
        f->a.severity = FINDING_WARNING;
        f->a.subject[0] = f->a.halt_id[0] = f->a.runbook_url[0] = '\0';
        (void)snprintf(f->a.name, sizeof f->a.name, "HALT_PATH_DOWN");
        build_ok(f);
        assert_string_equal(f->req.url, "https://am.example/api/v2/alerts");
        assert_string_equal(
                f->req.body,
                "[{\"labels\":{\"alertname\":\"HALT_PATH_DOWN\",\"severity\":\"warning\","
                "\"source\":\"wd-1\"},\"annotations\":{"
                "\"summary\":\"SIGIL: 1000.5 bridged > 1000 locked & rising\","
                "\"correlation_id\":\"rw-42\"},"
                "\"startsAt\":\"2025-12-03T06:43:14.123Z\","
                "\"endsAt\":\"2025-12-03T06:43:20.000Z\"}]");
        done(f);

        f = fixture(RECEIVER_ALERTMANAGER);
        f->route.resend_s = 15;
        f->a.purpose = ALERT_TEST;
        f->a.tier = 2;
        (void)snprintf(f->a.subject, sizeof f->a.subject, "chain \xff source");
        build_ok(f);
        assert_true(utf8_valid(f->req.body, f->req.body_len));
        o = parsed(f);
        labels = at_path(o, "0.labels");
        assert_string_equal(str_at(labels, "test"), "true");
        assert_string_equal(str_at(labels, "invariant"), "SUPPLY_MISMATCH");
        assert_string_equal(str_at(labels, "subject"), "chain \xef\xbf\xbd source");
        assert_string_equal(str_at(o, "0.annotations.summary"),
                            "[TEST] SIGIL: 1000.5 bridged > 1000 locked & rising");
        assert_string_equal(str_at(o, "0.endsAt"), "2025-12-03T06:44:20.000Z");
        assert_true(rfc3339_ms(str_at(o, "0.startsAt")));
        cJSON_Delete(o);
        done(f);

        f = fixture(RECEIVER_ALERTMANAGER);
        f->a.purpose = ALERT_REPORT;
        assert_int_equal(build_fails(f), RW_ERR_INVALID);
        assert_non_null(strstr(f->err.msg, "daily report"));
}

static void test_am_judge(void **state)
{
        struct fx *f = fixture(RECEIVER_ALERTMANAGER);
        const struct config_alert_route *r = &f->route;

        (void)state;
        expect_outcome(r, RW_OK, 200, "", RECEIVER_DELIVERED, NULL);
        expect_outcome(r, RW_OK, 400,
                       "{\"code\":400,\"message\":\"start time must be before end "
                       "time\"}",
                       RECEIVER_REJECTED, "start time must be before end time");
        expect_outcome(r, RW_OK, 404, "", RECEIVER_REJECTED, "404");
        expect_outcome(r, RW_OK, 429, "", RECEIVER_RETRY, NULL);
        expect_outcome(r, RW_OK, 500, "", RECEIVER_RETRY, NULL);
        expect_outcome(r, RW_OK, 503, "", RECEIVER_RETRY, NULL);
}

/* ================================================================ shared */

static void test_retry_after(void **state)
{
        const int64_t t0 = 784111777000; /* Sun, 06 Nov 1994 08:49:37 GMT */

        (void)state;
        assert_int_equal(receiver_retry_after_ms(NULL, NOW_MS), -1);
        assert_int_equal(receiver_retry_after_ms("", NOW_MS), -1);
        assert_int_equal(receiver_retry_after_ms("  \t", NOW_MS), -1);
        assert_int_equal(receiver_retry_after_ms("0", NOW_MS), 0);
        assert_int_equal(receiver_retry_after_ms("120", NOW_MS), 120000);
        assert_int_equal(receiver_retry_after_ms(" 7\t", NOW_MS), 7000);
        assert_int_equal(receiver_retry_after_ms("3600", NOW_MS), 3600000);
        assert_int_equal(receiver_retry_after_ms("3601", NOW_MS), 3600000);
        assert_int_equal(receiver_retry_after_ms("99999999999999999999999999999", NOW_MS), 3600000);
        assert_int_equal(receiver_retry_after_ms("-5", NOW_MS), -1);
        assert_int_equal(receiver_retry_after_ms("+5", NOW_MS), -1);
        assert_int_equal(receiver_retry_after_ms("1.5", NOW_MS), -1);
        assert_int_equal(receiver_retry_after_ms("5s", NOW_MS), -1);
        assert_int_equal(receiver_retry_after_ms("5 5", NOW_MS), -1);
        assert_int_equal(receiver_retry_after_ms("soon", NOW_MS), -1);
        /* HTTP-date (IMF-fixdate) */
        assert_int_equal(receiver_retry_after_ms("Sun, 06 Nov 1994 08:49:37 GMT", t0), 0);
        assert_int_equal(receiver_retry_after_ms("Sun, 06 Nov 1994 08:49:37 GMT", t0 - 30000),
                         30000);
        assert_int_equal(receiver_retry_after_ms("Sun, 06 Nov 1994 08:49:37 GMT", t0 - 250), 250);
        assert_int_equal(receiver_retry_after_ms(" Sun, 06 Nov 1994 08:49:37 GMT ", t0 - 1000),
                         1000);
        assert_int_equal(receiver_retry_after_ms("Sun, 06 Nov 1994 08:49:37 GMT", t0 + 5000), 0);
        assert_int_equal(receiver_retry_after_ms("Sun, 06 Nov 1994 09:49:38 GMT", t0), 3600000);
        assert_int_equal(receiver_retry_after_ms("Thu, 29 Feb 2024 00:00:10 GMT", 1709164800000),
                         10000);
        assert_int_equal(receiver_retry_after_ms("Wed, 03 Dec 2025 06:44:20 GMT", NOW_MS), 60000);
        assert_int_equal(
                receiver_retry_after_ms("Mon, 01 Mar 2100 00:00:00 GMT", 4107542400000 - 2000),
                2000);
        /* not dates: other zones, the obsolete forms, impossible days and times */
        assert_int_equal(receiver_retry_after_ms("Sun, 06 Nov 1994 08:49:37 UTC", t0), -1);
        assert_int_equal(receiver_retry_after_ms("Sunday, 06-Nov-94 08:49:37 GMT", t0), -1);
        assert_int_equal(receiver_retry_after_ms("Sun Nov  6 08:49:37 1994", t0), -1);
        assert_int_equal(receiver_retry_after_ms("Sun, 31 Feb 1994 08:49:37 GMT", t0), -1);
        assert_int_equal(receiver_retry_after_ms("Mon, 29 Feb 2100 00:00:00 GMT", t0), -1);
        assert_int_equal(receiver_retry_after_ms("Sun, 06 Nov 1994 24:00:00 GMT", t0), -1);
        assert_int_equal(receiver_retry_after_ms("Sun, 06 Nov 1994 08:60:00 GMT", t0), -1);
        assert_int_equal(receiver_retry_after_ms("Sun, 06 Xyz 1994 08:49:37 GMT", t0), -1);
        assert_int_equal(receiver_retry_after_ms("Sun, 06 Nov 1994 08:49:37 GMTx", t0), -1);
        assert_int_equal(receiver_retry_after_ms("Abc, 06 Nov 1994 08:49:37 GMT", t0), -1);
        assert_int_equal(receiver_retry_after_ms("Sun, 6 Nov 1994 08:49:37 GMT", t0), -1);
        /* far from now on either side: capped, never overflowing */
        assert_int_equal(receiver_retry_after_ms("Fri, 31 Dec 9999 23:59:59 GMT", INT64_MIN),
                         3600000);
        assert_int_equal(receiver_retry_after_ms("Sun, 06 Nov 1994 08:49:37 GMT", INT64_MAX), 0);
}

static void test_release(void **state)
{
        struct fx *f = fixture(RECEIVER_WEBHOOK);

        (void)state;
        receiver_request_release(NULL);
        build_ok(f);
        receiver_request_release(&f->req);
        assert_null(f->req.url);
        assert_null(f->req.body);
        assert_null(f->req.headers);
        assert_int_equal(f->req.body_len, 0);
        receiver_request_release(&f->req);
        done(f);
}

static void test_line_and_quote(void **state)
{
        struct config_alert_route r;
        char out[64];

        (void)state;
        rcv_line("abc\xe2\x82\xac", 5, out, sizeof out); /* no room for "€": cut, and "…" */
        assert_string_equal(out, "ab" RCV_ELLIPSIS);
        rcv_line("abc\xe2\x82\xac", 6, out, sizeof out);
        assert_string_equal(out, "abc\xe2\x82\xac");
        rcv_line("\xed\xa0\x80 \xc0\xaf \xf4\x90\x80\x80", 60, out, sizeof out);
        assert_true(utf8_valid(out, strlen(out)));
        assert_null(strstr(out, "\xed"));
        memset(&r, 0, sizeof r);
        (void)snprintf(r.name, sizeof r.name, "x");
        r.type = RECEIVER_WEBHOOK;
        r.url = "https://h.example/hook/abcdefgh";
        receiver_quote_answer(&r, "x https://h.example/hook/abcdefgh y /hook/abcdefgh z\x01", 53,
                              out, sizeof out);
        assert_string_equal(out, "x <redacted> y <redacted> z?");
        receiver_quote_answer(&r, "0123456789", 10, out, 5);
        assert_string_equal(out, "0123");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_pd_trigger_bytes),
                cmocka_unit_test(test_pd_resolve_bytes),
                cmocka_unit_test(test_pd_fields_and_types),
                cmocka_unit_test(test_pd_summary_cut_at_utf8),
                cmocka_unit_test(test_pd_no_runbook),
                cmocka_unit_test(test_pd_refusals),
                cmocka_unit_test(test_pd_text_made_clean),
                cmocka_unit_test(test_pd_judge),
                cmocka_unit_test(test_slack_bytes),
                cmocka_unit_test(test_slack_resolved_test_update),
                cmocka_unit_test(test_slack_limits),
                cmocka_unit_test(test_slack_report),
                cmocka_unit_test(test_slack_huge_report_cut),
                cmocka_unit_test(test_slack_runbook_link_escaped),
                cmocka_unit_test(test_slack_judge),
                cmocka_unit_test(test_email_bytes),
                cmocka_unit_test(test_email_header_injection),
                cmocka_unit_test(test_email_long_lines_wrapped),
                cmocka_unit_test(test_email_subject_encoded),
                cmocka_unit_test(test_email_resolve_threads_and_ids),
                cmocka_unit_test(test_email_report),
                cmocka_unit_test(test_email_judge),
                cmocka_unit_test(test_hmac_vectors),
                cmocka_unit_test(test_webhook_bytes_and_signature),
                cmocka_unit_test(test_webhook_matches_alert_json),
                cmocka_unit_test(test_webhook_judge),
                cmocka_unit_test(test_am_bytes),
                cmocka_unit_test(test_am_resolved_and_optional),
                cmocka_unit_test(test_am_judge),
                cmocka_unit_test(test_retry_after),
                cmocka_unit_test(test_release),
                cmocka_unit_test(test_line_and_quote),
        };

        if (sodium_init() < 0)
                return 1;
        return cmocka_run_group_tests(tests, NULL, NULL);
}
