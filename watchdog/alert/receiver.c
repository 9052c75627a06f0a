/*
 * receiver: the dispatch to each receiver's file, what they share (clean
 * text, JSON bodies, headers, messages that name the route and never a
 * secret) and the Retry-After parser (receiver.h).
 */
#include "receiver.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <sodium.h>

#include "receiver_impl.h"
#include "rwclock.h"

#define RETRY_AFTER_CAP_S 3600

/* ---------------------------------------------------------------- text */

size_t rcv_utf8_seq(const char *s, size_t n)
{
        const unsigned char *u = (const unsigned char *)s;
        unsigned long cp;
        size_t len, i;

        if (n == 0)
                return 0;
        if (u[0] < 0x80)
                return 1;
        if (u[0] >= 0xc2 && u[0] <= 0xdf) {
                len = 2;
                cp = u[0] & 0x1fu;
        } else if (u[0] >= 0xe0 && u[0] <= 0xef) {
                len = 3;
                cp = u[0] & 0x0fu;
        } else if (u[0] >= 0xf0 && u[0] <= 0xf4) {
                len = 4;
                cp = u[0] & 0x07u;
        } else {
                return 0;
        }
        if (n < len)
                return 0;
        for (i = 1; i < len; i++) {
                if ((u[i] & 0xc0) != 0x80)
                        return 0;
                cp = cp << 6 | (u[i] & 0x3fu);
        }
        /* overlong forms, UTF-16 surrogates and code points past U+10FFFF */
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
                return 0;
        return len;
}

size_t rcv_utf8_floor(const char *s, size_t at)
{
        while (at > 0 && ((unsigned char)s[at] & 0xc0) == 0x80)
                at--;
        return at;
}

void rcv_line(const char *in, size_t max, char *out, size_t cap)
{
        static const char replacement[] = "\xef\xbf\xbd";
        size_t n = strlen(in), i = 0, pos = 0;
        int cut = 0;

        if (max > cap - 1)
                max = cap - 1;
        while (i < n) {
                size_t step = rcv_utf8_seq(in + i, n - i), ulen = step;
                const char *unit = in + i;

                if (step == 0) {
                        unit = replacement;
                        ulen = sizeof replacement - 1;
                        step = 1;
                } else if (step == 1 && ((unsigned char)in[i] < 0x20 || in[i] == 0x7f)) {
                        unit = " ";
                }
                if (pos + ulen > max) {
                        cut = 1;
                        break;
                }
                memcpy(out + pos, unit, ulen);
                pos += ulen;
                i += step;
        }
        if (cut && max >= sizeof RCV_ELLIPSIS - 1) {
                /* drop whole characters until the "…" fits */
                while (pos > 0 && pos + sizeof RCV_ELLIPSIS - 1 > max) {
                        pos--;
                        while (pos > 0 && ((unsigned char)out[pos] & 0xc0) == 0x80)
                                pos--;
                }
                memcpy(out + pos, RCV_ELLIPSIS, sizeof RCV_ELLIPSIS - 1);
                pos += sizeof RCV_ELLIPSIS - 1;
        }
        out[pos] = '\0';
}

char *rcv_utf8_fix(const char *s, size_t len)
{
        char *out = malloc(len * 3 + 1);
        size_t i = 0, pos = 0;

        if (out == NULL)
                return NULL;
        while (i < len) {
                size_t step = rcv_utf8_seq(s + i, len - i);

                if (step == 0) {
                        memcpy(out + pos, "\xef\xbf\xbd", 3);
                        pos += 3;
                        i++;
                } else {
                        memcpy(out + pos, s + i, step);
                        pos += step;
                        i += step;
                }
        }
        out[pos] = '\0';
        return out;
}

void rcv_buf_add(struct rcv_buf *b, const char *s, size_t n)
{
        if (b->failed)
                return;
        if (b->len + n + 1 > b->cap) {
                size_t want = b->cap ? b->cap : 1024;
                char *grown;

                while (want < b->len + n + 1)
                        want *= 2;
                grown = realloc(b->p, want);
                if (grown == NULL) {
                        rcv_buf_free(b);
                        b->failed = 1;
                        return;
                }
                b->p = grown;
                b->cap = want;
        }
        memcpy(b->p + b->len, s, n);
        b->len += n;
        b->p[b->len] = '\0';
}

void rcv_buf_puts(struct rcv_buf *b, const char *s)
{
        rcv_buf_add(b, s, strlen(s));
}

void rcv_buf_printf(struct rcv_buf *b, const char *fmt, ...)
{
        char small[256];
        va_list ap;
        int w;

        va_start(ap, fmt);
        w = vsnprintf(small, sizeof small, fmt, ap);
        va_end(ap);
        if (w < 0) {
                rcv_buf_free(b);
                b->failed = 1;
                return;
        }
        if ((size_t)w < sizeof small) {
                rcv_buf_add(b, small, (size_t)w);
                return;
        }
        {
                char *big = malloc((size_t)w + 1);

                if (big == NULL) {
                        rcv_buf_free(b);
                        b->failed = 1;
                        return;
                }
                va_start(ap, fmt);
                (void)vsnprintf(big, (size_t)w + 1, fmt, ap);
                va_end(ap);
                rcv_buf_add(b, big, (size_t)w);
                free(big);
        }
}

void rcv_buf_free(struct rcv_buf *b)
{
        free(b->p);
        b->p = NULL;
        b->len = b->cap = 0;
}

/* ---------------------------------------------------------------- the alert */

const char *rcv_severity_lower(enum finding_severity s)
{
        switch (s) {
        case FINDING_CRITICAL:
                return "critical";
        case FINDING_ERROR:
                return "error";
        case FINDING_WARNING:
                return "warning";
        case FINDING_INFO:
        default:
                return "info";
        }
}

const char *rcv_tier_group(int tier)
{
        return tier == 1 ? "tier1" : tier == 2 ? "tier2" : "finding";
}

const char *rcv_source(const struct config *cfg)
{
        if (cfg != NULL && cfg->alert_source != NULL && cfg->alert_source[0] != '\0')
                return cfg->alert_source;
        if (cfg != NULL && cfg->watchdog_id != NULL && cfg->watchdog_id[0] != '\0')
                return cfg->watchdog_id;
        return "relaywatch";
}

void rcv_dedup_key(const struct alert *a, char out[ALERT_DEDUP_MAX])
{
        if (a->dedup_key[0] != '\0' && memchr(a->dedup_key, '\0', ALERT_DEDUP_MAX) != NULL)
                memcpy(out, a->dedup_key, strlen(a->dedup_key) + 1);
        else
                alert_dedup_key(a->name, a->subject, out);
}

void rcv_summary(const struct alert *a, size_t max, char *out, size_t cap)
{
        char text[sizeof RCV_TEST_MARK + ALERT_SUMMARY_MAX];
        const char *mark = a->purpose == ALERT_TEST ? RCV_TEST_MARK : "";

        (void)snprintf(text, sizeof text, "%s%.*s", mark, (int)(ALERT_SUMMARY_MAX - 1), a->summary);
        rcv_line(text, max, out, cap);
}

cJSON *rcv_details(const struct alert *a)
{
        cJSON *d = NULL;

        if (a->details_json != NULL) {
                char *fixed = rcv_utf8_fix(a->details_json, strlen(a->details_json));

                if (fixed == NULL)
                        return NULL;
                d = cJSON_Parse(fixed);
                free(fixed);
                if (d != NULL && !cJSON_IsObject(d)) {
                        cJSON_Delete(d);
                        d = NULL;
                }
        }
        return d != NULL ? d : cJSON_CreateObject();
}

const char *rcv_report_text(const cJSON *details)
{
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(details, "text");

        return cJSON_IsString(t) ? t->valuestring : NULL;
}

cJSON *rcv_add_line(cJSON *o, const char *key, const char *text)
{
        char line[1024 + 1];

        rcv_line(text, sizeof line - 1, line, sizeof line);
        return cJSON_AddStringToObject(o, key, line);
}

/* ---------------------------------------------------------------- requests */

int rcv_fail(struct rwerr *err, int code, const struct config_alert_route *route, const char *fmt,
             ...)
{
        char msg[RWERR_MSG_MAX];
        va_list ap;

        va_start(ap, fmt);
        (void)vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        return rwerr_set(err, code, "alert route %s (%s): %s", route->name,
                         rcv_type_name(route->type), msg);
}

int rcv_time(const struct config_alert_route *route, int64_t ms, const char *what, char out[32],
             struct rwerr *err)
{
        char t[RWCLOCK_UTC_SIZE];

        if (rwclock_format_utc(ms, t, NULL) != RW_OK)
                return rcv_fail(err, RW_ERR_RANGE, route, "%s is outside the years 1970..9999",
                                what);
        memcpy(out, t, sizeof t);
        return RW_OK;
}

int rcv_set_url(const struct config_alert_route *route, const char *base, const char *suffix,
                struct receiver_request *out, struct rwerr *err)
{
        size_t n = strlen(base), m = strlen(suffix);

        while (m > 0 && n > 0 && base[n - 1] == '/')
                n--;
        out->url = malloc(n + m + 1);
        if (out->url == NULL)
                return rcv_fail(err, RW_ERR_NOMEM, route, "out of memory for the URL");
        memcpy(out->url, base, n);
        memcpy(out->url + n, suffix, m + 1);
        return RW_OK;
}

int rcv_add_header(const struct config_alert_route *route, const char *line,
                   struct receiver_request *out, struct rwerr *err)
{
        struct curl_slist *h = curl_slist_append(out->headers, line);

        if (h == NULL)
                return rcv_fail(err, RW_ERR_NOMEM, route, "out of memory for the headers");
        out->headers = h;
        return RW_OK;
}

int rcv_json_headers(const struct config_alert_route *route, struct receiver_request *out,
                     struct rwerr *err)
{
        int rc;

        /* "Expect:" stops libcurl from waiting for a 100 Continue on large bodies */
        if ((rc = rcv_add_header(route, "Content-Type: application/json", out, err)) != RW_OK ||
            (rc = rcv_add_header(route, "User-Agent: " RCV_USER_AGENT, out, err)) != RW_OK ||
            (rc = rcv_add_header(route, "Expect:", out, err)) != RW_OK)
                return rc;
        return RW_OK;
}

int rcv_json_body(const struct config_alert_route *route, cJSON *root, struct receiver_request *out,
                  struct rwerr *err)
{
        char *text = root != NULL ? cJSON_PrintUnformatted(root) : NULL;

        cJSON_Delete(root);
        if (text == NULL)
                return rcv_fail(err, RW_ERR_NOMEM, route, "out of memory for the body");
        /* cJSON passes bytes >= 0x80 through as they are: make them valid UTF-8 */
        out->body = rcv_utf8_fix(text, strlen(text));
        free(text);
        if (out->body == NULL)
                return rcv_fail(err, RW_ERR_NOMEM, route, "out of memory for the body");
        out->body_len = strlen(out->body);
        return RW_OK;
}

/* ---------------------------------------------------------------- dispatch */

/* What every receiver needs of the alert and the route. */
static int check_common(const struct config_alert_route *route, const struct alert *a,
                        struct rwerr *err)
{
        if (memchr(a->name, '\0', sizeof a->name) == NULL || a->name[0] == '\0')
                return rcv_fail(err, RW_ERR_INVALID, route, "the alert has no name");
        if (memchr(a->summary, '\0', sizeof a->summary) == NULL ||
            memchr(a->subject, '\0', sizeof a->subject) == NULL ||
            memchr(a->correlation_id, '\0', sizeof a->correlation_id) == NULL ||
            memchr(a->halt_id, '\0', sizeof a->halt_id) == NULL ||
            memchr(a->runbook_url, '\0', sizeof a->runbook_url) == NULL)
                return rcv_fail(err, RW_ERR_INVALID, route, "alert %s has an unterminated text",
                                a->name);
        if (a->purpose != ALERT_INCIDENT && a->purpose != ALERT_TEST && a->purpose != ALERT_REPORT)
                return rcv_fail(err, RW_ERR_INVALID, route, "alert %s has an unknown purpose",
                                a->name);
        return RW_OK;
}

int receiver_build(const struct config *cfg, const struct config_alert_route *route,
                   const struct alert *a, int64_t now_ms, struct receiver_request *out,
                   struct rwerr *err)
{
        int rc;

        memset(out, 0, sizeof *out);
        if (route == NULL || a == NULL)
                return rwerr_set(err, RW_ERR_INVALID, "receiver: no route or no alert");
        if ((rc = check_common(route, a, err)) != RW_OK)
                return rc;
        switch (route->type) {
        case RECEIVER_PAGERDUTY:
                rc = rcv_pagerduty_build(cfg, route, a, now_ms, out, err);
                break;
        case RECEIVER_SLACK:
                rc = rcv_slack_build(cfg, route, a, now_ms, out, err);
                break;
        case RECEIVER_EMAIL:
                rc = rcv_email_build(cfg, route, a, now_ms, out, err);
                break;
        case RECEIVER_WEBHOOK:
                rc = rcv_webhook_build(cfg, route, a, now_ms, out, err);
                break;
        case RECEIVER_ALERTMANAGER:
                rc = rcv_alertmanager_build(cfg, route, a, now_ms, out, err);
                break;
        default:
                rc = rcv_fail(err, RW_ERR_INVALID, route, "unknown receiver type %d",
                              (int)route->type);
                break;
        }
        if (rc != RW_OK)
                receiver_request_release(out);
        return rc;
}

void receiver_request_release(struct receiver_request *r)
{
        if (r == NULL)
                return;
        /* the URL and a PagerDuty body (its routing key) are secrets */
        if (r->url != NULL)
                sodium_memzero(r->url, strlen(r->url));
        if (r->body != NULL)
                sodium_memzero(r->body, r->body_len);
        free(r->url);
        curl_slist_free_all(r->headers);
        free(r->body);
        memset(r, 0, sizeof *r);
}

/* ---------------------------------------------------------------- answers */

const char *rcv_type_name(enum config_receiver_type t)
{
        switch (t) {
        case RECEIVER_PAGERDUTY:
                return "pagerduty";
        case RECEIVER_SLACK:
                return "slack";
        case RECEIVER_EMAIL:
                return "email";
        case RECEIVER_WEBHOOK:
                return "webhook";
        case RECEIVER_ALERTMANAGER:
                return "alertmanager";
        default:
                return "receiver";
        }
}

enum receiver_outcome rcv_why(enum receiver_outcome o, const struct config_alert_route *route,
                              char *why, size_t cap, const char *fmt, ...)
{
        char msg[RECEIVER_ANSWER_MAX + 128];
        va_list ap;

        if (why == NULL || cap == 0)
                return o;
        va_start(ap, fmt);
        (void)vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        (void)snprintf(why, cap, "alert route %s (%s): %s", route->name, rcv_type_name(route->type),
                       msg);
        return o;
}

/* A byte of an answer as it is logged: printable ASCII, whitespace a space, else '?'. */
static char printable(char c)
{
        if (c == '\n' || c == '\r' || c == '\t')
                return ' ';
        if (c >= 0x20 && c < 0x7f)
                return c;
        return '?';
}

/* The secrets an answer might echo, for receiver_quote_answer. */
static size_t route_secrets(const struct config_alert_route *route, const char *s[5], size_t n[5])
{
        const char *list[4] = {route->url, route->routing_key, route->secret, route->password};
        size_t k = 0, i;

        for (i = 0; i < 4; i++) {
                if (list[i] != NULL && strlen(list[i]) >= 4) {
                        s[k] = list[i];
                        n[k++] = strlen(list[i]);
                }
        }
        /* the path of a webhook URL is its secret part (Slack's T.../B.../...) */
        if (route->url != NULL) {
                const char *p = strstr(route->url, "://");

                p = p != NULL ? strchr(p + 3, '/') : NULL;
                if (p != NULL && strlen(p) >= 8) {
                        s[k] = p;
                        n[k++] = strlen(p);
                }
        }
        return k;
}

void receiver_quote_answer(const struct config_alert_route *route, const char *body, size_t len,
                           char *out, size_t cap)
{
        const char *secret[5];
        size_t slen[5], nsecrets = route_secrets(route, secret, slen), i = 0, pos = 0, k;

        if (cap == 0)
                return;
        while (body != NULL && i < len && pos + 1 < cap) {
                for (k = 0; k < nsecrets; k++) {
                        if (len - i >= slen[k] && memcmp(body + i, secret[k], slen[k]) == 0)
                                break;
                }
                if (k < nsecrets) {
                        size_t w = (size_t)snprintf(out + pos, cap - pos, "<redacted>");

                        pos = w < cap - pos ? pos + w : cap - 1;
                        i += slen[k];
                        continue;
                }
                out[pos++] = printable(body[i++]);
        }
        out[pos] = '\0';
        while (pos > 0 && out[pos - 1] == ' ')
                out[--pos] = '\0';
}

enum receiver_outcome rcv_judge_http(const struct config_alert_route *route, long status,
                                     const char *body, size_t len, char *why, size_t cap)
{
        char answer[RECEIVER_ANSWER_MAX];

        receiver_quote_answer(route, body, len, answer, sizeof answer);
        if (status == 408 || status == 429 || (status >= 500 && status <= 599))
                return rcv_why(RECEIVER_RETRY, route, why, cap, "HTTP %ld, will retry: %s", status,
                               answer[0] ? answer : "(no answer text)");
        if (status >= 400 && status <= 499)
                return rcv_why(RECEIVER_REJECTED, route, why, cap, "HTTP %ld, refused: %s", status,
                               answer[0] ? answer : "(no answer text)");
        return rcv_why(RECEIVER_RETRY, route, why, cap, "unexpected HTTP status %ld, will retry",
                       status);
}

enum receiver_outcome receiver_judge(const struct config_alert_route *route, int transport_rc,
                                     long status, const char *body, size_t len, char *why,
                                     size_t cap)
{
        if (why != NULL && cap > 0)
                why[0] = '\0';
        if (route->type == RECEIVER_EMAIL)
                return rcv_email_judge(route, transport_rc, status, body, len, why, cap);
        if (transport_rc != RW_OK)
                return rcv_why(RECEIVER_RETRY, route, why, cap, "no answer (%s), will retry",
                               rwerr_code_name(transport_rc));
        switch (route->type) {
        case RECEIVER_PAGERDUTY:
                return rcv_pagerduty_judge(route, status, body, len, why, cap);
        case RECEIVER_SLACK:
                return rcv_slack_judge(route, status, body, len, why, cap);
        case RECEIVER_WEBHOOK:
                return rcv_webhook_judge(route, status, body, len, why, cap);
        case RECEIVER_ALERTMANAGER:
                return rcv_alertmanager_judge(route, status, body, len, why, cap);
        default:
                return rcv_why(RECEIVER_REJECTED, route, why, cap, "unknown receiver type %d",
                               (int)route->type);
        }
}

/* ---------------------------------------------------------------- Retry-After */

/* Days from 1970-01-01 to y-m-d of the proleptic Gregorian calendar. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
        int64_t era, yoe, doy, doe;

        y -= m <= 2;
        era = (y >= 0 ? y : y - 399) / 400;
        yoe = y - era * 400;
        doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
        doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146097 + doe - 719468;
}

static int digits(const char *s, size_t n, int *out)
{
        int v = 0;
        size_t i;

        for (i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -1;
                v = v * 10 + (s[i] - '0');
        }
        *out = v;
        return 0;
}

static int month_index(const char *s)
{
        static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
        int m;

        for (m = 0; m < 12; m++) {
                if (memcmp(s, months + (size_t)3 * (size_t)m, 3) == 0)
                        return m + 1;
        }
        return -1;
}

static int month_days(int year, int month)
{
        static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

        return month == 2 && leap ? 29 : days[month - 1];
}

/*
 * An IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT" (exactly 29 bytes), as
 * Unix seconds. -1 when it is not one.
 */
static int parse_imf_fixdate(const char *s, size_t n, int64_t *out)
{
        static const char days[] = "MonTueWedThuFriSatSun";
        int day, month, year, hh, mm, ss, ok = 0, i;

        if (n != 29 || s[3] != ',' || s[4] != ' ' || s[7] != ' ' || s[11] != ' ' || s[16] != ' ' ||
            s[19] != ':' || s[22] != ':' || s[25] != ' ' || memcmp(s + 26, "GMT", 3) != 0)
                return -1;
        for (i = 0; i < 7; i++)
                ok |= memcmp(s, days + (size_t)3 * (size_t)i, 3) == 0;
        if (!ok || (month = month_index(s + 8)) < 0 || digits(s + 5, 2, &day) != 0 ||
            digits(s + 12, 4, &year) != 0 || digits(s + 17, 2, &hh) != 0 ||
            digits(s + 20, 2, &mm) != 0 || digits(s + 23, 2, &ss) != 0)
                return -1;
        if (day < 1 || day > month_days(year, month) || hh > 23 || mm > 59 || ss > 60)
                return -1;
        *out = days_from_civil(year, month, day) * 86400 + (int64_t)hh * 3600 + (int64_t)mm * 60 +
               ss;
        return 0;
}

int64_t receiver_retry_after_ms(const char *header_value, int64_t now_ms)
{
        const int64_t cap_ms = (int64_t)RETRY_AFTER_CAP_S * 1000;
        const char *s = header_value;
        size_t n, i;
        int64_t secs = 0, at_ms;

        if (s == NULL)
                return -1;
        while (*s == ' ' || *s == '\t')
                s++;
        n = strlen(s);
        while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
                n--;
        if (n == 0)
                return -1;
        if (s[0] >= '0' && s[0] <= '9') {
                for (i = 0; i < n; i++) {
                        if (s[i] < '0' || s[i] > '9')
                                return -1;
                        if (secs <= RETRY_AFTER_CAP_S)
                                secs = secs * 10 + (s[i] - '0');
                }
                return secs > RETRY_AFTER_CAP_S ? cap_ms : secs * 1000;
        }
        if (parse_imf_fixdate(s, n, &secs) != 0)
                return -1;
        at_ms = secs * 1000;
        if (now_ms >= at_ms)
                return 0;
        if (now_ms <= at_ms - cap_ms)
                return cap_ms;
        return at_ms - now_ms;
}
