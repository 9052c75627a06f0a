/*
 * receiver_email: the whole RFC 5322 message libcurl sends over SMTP
 * (receiver.h).
 *
 *   Date: Thu, 03 Dec 2026 06:43:14 +0000          (the alert's time, UTC)
 *   From: MAIL_FROM
 *   To: MAIL_TO[0],
 *    MAIL_TO[1]
 *   Subject: [relaywatch CRITICAL] NAME firing: SUMMARY (cut to 120 bytes)
 *   Message-ID: <DEDUP_KEY.AT_MS@relaywatch>
 *   In-Reply-To, References: <DEDUP_KEY.OPENED_MS@relaywatch>  (not on the first page)
 *   MIME-Version: 1.0
 *   Content-Type: text/plain; charset=UTF-8
 *   Content-Transfer-Encoding: 8bit
 *   Auto-Submitted: auto-generated
 *
 *   the summary, the alert's facts one a line, the runbook, the details
 *
 * Every line ends in CRLF and is at most 998 bytes (longer body lines are
 * broken). Header fields never carry a CR or LF from alert text: it is
 * made one line first; a subject that is not ASCII is sent as RFC 2047
 * encoded words. A test is marked "[TEST]" at the front of the subject.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <sodium.h>

#include "receiver_impl.h"

#define EMAIL_LINE_MAX 998            /* RFC 5322 2.1.1, without the CRLF */
#define EMAIL_SUBJECT_SUMMARY_MAX 120 /* of the summary in the subject */
#define EMAIL_ADDRESS_MAX 254         /* RFC 5321's path limit, less the brackets */
#define EMAIL_WORD_BYTES 45           /* of text in one encoded word: 60 base64 characters */

/* An address fit for a header: set, not too long, printable ASCII. */
static int check_address(const struct config_alert_route *route, const char *key, size_t index,
                         const char *addr, struct rwerr *err)
{
        size_t i, n;

        if (addr == NULL || addr[0] == '\0')
                return rcv_fail(err, RW_ERR_INVALID, route, "%s is not set", key);
        n = strlen(addr);
        if (n > EMAIL_ADDRESS_MAX)
                return rcv_fail(err, RW_ERR_INVALID, route,
                                "%s (address %zu) is longer than %d bytes", key, index + 1,
                                EMAIL_ADDRESS_MAX);
        for (i = 0; i < n; i++) {
                if ((unsigned char)addr[i] < 0x20 || (unsigned char)addr[i] >= 0x7f)
                        return rcv_fail(err, RW_ERR_INVALID, route,
                                        "%s (address %zu) holds a control or non-ASCII byte", key,
                                        index + 1);
        }
        return RW_OK;
}

static int check_route(const struct config_alert_route *route, struct rwerr *err)
{
        size_t i;
        int rc;

        if (route->url == NULL || route->url[0] == '\0')
                return rcv_fail(err, RW_ERR_INVALID, route, "url (the SMTP server) is not set");
        if ((rc = check_address(route, "mail_from", 0, route->mail_from, err)) != RW_OK)
                return rc;
        if (route->nmail_to == 0 || route->nmail_to > CONFIG_MAIL_TO_MAX)
                return rcv_fail(err, RW_ERR_INVALID, route, "mail_to needs 1 to %d addresses",
                                CONFIG_MAIL_TO_MAX);
        for (i = 0; i < route->nmail_to; i++) {
                if ((rc = check_address(route, "mail_to", i, route->mail_to[i], err)) != RW_OK)
                        return rc;
        }
        return RW_OK;
}

/* "Thu, 03 Dec 2026 06:43:14 +0000" (RFC 5322 3.3), from a time rcv_time accepted. */
static void rfc5322_date(int64_t ms, char *out, size_t cap)
{
        static const char days[] = "SunMonTueWedThuFriSat";
        static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
        time_t t = (time_t)(ms / 1000);
        struct tm tm;

        if (gmtime_r(&t, &tm) == NULL)
                memset(&tm, 0, sizeof tm);
        (void)snprintf(out, cap, "%.3s, %02d %.3s %04d %02d:%02d:%02d +0000",
                       days + (size_t)3 * (size_t)tm.tm_wday, tm.tm_mday,
                       months + (size_t)3 * (size_t)tm.tm_mon, tm.tm_year + 1900, tm.tm_hour,
                       tm.tm_min, tm.tm_sec);
}

/* "<KEY.MS@relaywatch>" with the key made of letters, digits, '-' and '_' only. */
static void message_id(const char *key, int64_t ms, char *out, size_t cap)
{
        char clean[ALERT_DEDUP_MAX];
        size_t i;

        for (i = 0; key[i] != '\0' && i + 1 < sizeof clean; i++) {
                char c = key[i];
                int keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                           (c >= '0' && c <= '9') || c == '-';

                clean[i] = '_';
                if (keep)
                        clean[i] = c;
        }
        clean[i] = '\0';
        (void)snprintf(out, cap, "<%s.%lld@relaywatch>", clean, (long long)ms);
}

/* The Subject header line: as it is when ASCII, else RFC 2047 encoded words, one a line. */
static void subject_header(struct rcv_buf *b, const char *text)
{
        size_t n = strlen(text), at = 0, i;
        int ascii = 1;

        for (i = 0; i < n; i++)
                ascii &= (unsigned char)text[i] < 0x80;
        if (ascii) {
                rcv_buf_printf(b, "Subject: %s\n", text);
                return;
        }
        rcv_buf_puts(b, "Subject:");
        while (at < n) {
                size_t take = n - at;
                char b64[sodium_base64_ENCODED_LEN(EMAIL_WORD_BYTES,
                                                   sodium_base64_VARIANT_ORIGINAL)];

                if (take > EMAIL_WORD_BYTES)
                        take = rcv_utf8_floor(text + at, EMAIL_WORD_BYTES);
                (void)sodium_bin2base64(b64, sizeof b64, (const unsigned char *)text + at, take,
                                        sodium_base64_VARIANT_ORIGINAL);
                rcv_buf_printf(b, "%s=?UTF-8?B?%s?=", at == 0 ? " " : "\n ", b64);
                at += take;
        }
        rcv_buf_puts(b, "\n");
}

/* "[relaywatch CRITICAL] NAME firing: SUMMARY", "[TEST] " first for a test. */
static void subject_text(const struct alert *a, char *out, size_t cap)
{
        char summary[EMAIL_SUBJECT_SUMMARY_MAX + 1], name[ALERT_NAME_MAX], raw[512];

        rcv_line(a->summary, EMAIL_SUBJECT_SUMMARY_MAX, summary, sizeof summary);
        rcv_line(a->name, sizeof name - 1, name, sizeof name);
        (void)snprintf(raw, sizeof raw, "%s[relaywatch %s] %s%s%s%s%s%s",
                       a->purpose == ALERT_TEST ? RCV_TEST_MARK : "",
                       finding_severity_name(a->severity), name,
                       a->purpose == ALERT_REPORT ? "" : " ",
                       a->purpose == ALERT_REPORT ? "" : alert_state_name(a->state),
                       a->update && a->state == ALERT_FIRING ? " (update)" : "",
                       summary[0] ? ": " : "", summary);
        rcv_line(raw, cap - 1, out, cap);
}

static void add_headers(struct rcv_buf *b, const struct config_alert_route *route,
                        const struct alert *a)
{
        char date[64], id[ALERT_DEDUP_MAX + 48], subject[512], key[ALERT_DEDUP_MAX];
        size_t i;

        rcv_dedup_key(a, key);
        rfc5322_date(a->at_ms, date, sizeof date);
        rcv_buf_printf(b, "Date: %s\nFrom: %s\nTo:", date, route->mail_from);
        for (i = 0; i < route->nmail_to; i++)
                rcv_buf_printf(b, "%s%s", i == 0 ? " " : ",\n ", route->mail_to[i]);
        rcv_buf_puts(b, "\n");
        subject_text(a, subject, sizeof subject);
        subject_header(b, subject);
        message_id(key, a->at_ms, id, sizeof id);
        rcv_buf_printf(b, "Message-ID: %s\n", id);
        if (a->opened_ms > 0 && a->opened_ms != a->at_ms) {
                /* threads an update or a resolve under the first page */
                message_id(key, a->opened_ms, id, sizeof id);
                rcv_buf_printf(b, "In-Reply-To: %s\nReferences: %s\n", id, id);
        }
        rcv_buf_puts(b, "MIME-Version: 1.0\n"
                        "Content-Type: text/plain; charset=UTF-8\n"
                        "Content-Transfer-Encoding: 8bit\n"
                        "Auto-Submitted: auto-generated\n"
                        "\n");
}

/* "Label: value" when value is not empty, the values lined up. */
static void fact(struct rcv_buf *b, const char *label, const char *value)
{
        char line[1024 + 1];

        if (value == NULL || value[0] == '\0')
                return;
        rcv_line(value, sizeof line - 1, line, sizeof line);
        rcv_buf_printf(b, "%-16s%s\n", label, line);
}

static void add_facts(struct rcv_buf *b, const struct config *cfg, const struct alert *a,
                      const char *opened, const char *at)
{
        char state[32];

        (void)snprintf(state, sizeof state, "%s%s", alert_state_name(a->state),
                       a->update && a->state == ALERT_FIRING ? " (update)" : "");
        fact(b, "Alert:", a->name);
        if (a->purpose != ALERT_REPORT)
                fact(b, "State:", state);
        fact(b, "Severity:", finding_severity_name(a->severity));
        fact(b, "Subject:", a->subject);
        fact(b, "Source:", rcv_source(cfg));
        if (a->purpose != ALERT_REPORT)
                fact(b, "Opened:", opened);
        fact(b, "At:", at);
        fact(b, "Correlation id:", a->correlation_id);
        fact(b, "Halt id:", a->halt_id);
        if (a->audit_size > 0) {
                char cp[96];

                (void)snprintf(cp, sizeof cp, "size %llu, root %s",
                               (unsigned long long)a->audit_size, a->audit_root);
                fact(b, "Audit checkpoint:", cp);
        }
        fact(b, "Runbook:", a->runbook_url);
}

/* cJSON's formatted text with two spaces an indent and one after each colon. */
static void add_json_text(struct rcv_buf *b, const char *json)
{
        int line_start = 1;

        for (; *json != '\0'; json++) {
                if (*json == '\t') /* a tab inside a string is written \t: this is layout */
                        rcv_buf_puts(b, line_start ? "  " : " ");
                else
                        rcv_buf_add(b, json, 1);
                if (*json != '\t')
                        line_start = *json == '\n';
        }
}

/* The details as indented JSON (for a report, without its text). */
static void add_details(struct rcv_buf *b, cJSON *details, int report)
{
        char *json;

        if (report)
                cJSON_DeleteItemFromObjectCaseSensitive(details, "text");
        if (cJSON_GetArraySize(details) == 0)
                return;
        json = cJSON_Print(details);
        if (json == NULL) {
                rcv_buf_free(b);
                b->failed = 1;
                return;
        }
        rcv_buf_puts(b, "\nDetails:\n");
        add_json_text(b, json);
        rcv_buf_puts(b, "\n");
        free(json);
}

static void add_body(struct rcv_buf *b, const struct config *cfg, const struct alert *a,
                     cJSON *details, const char *opened, const char *at)
{
        char summary[ALERT_SUMMARY_MAX + 16];
        const char *report = a->purpose == ALERT_REPORT ? rcv_report_text(details) : NULL;

        rcv_summary(a, sizeof summary - 1, summary, sizeof summary);
        rcv_buf_printf(b, "%s\n\n", summary);
        if (a->purpose == ALERT_TEST)
                rcv_buf_puts(b, "This is a test message from relaywatch: nothing is wrong.\n\n");
        if (report != NULL) {
                size_t n = strlen(report);

                while (n > 0 && (report[n - 1] == '\n' || report[n - 1] == '\r'))
                        n--;
                rcv_buf_add(b, report, n);
                rcv_buf_puts(b, "\n\n");
        }
        add_facts(b, cfg, a, opened, at);
        add_details(b, details, a->purpose == ALERT_REPORT);
}

/* `text` with every line ending in CRLF and no line longer than 998 bytes. */
static void crlf_lines(struct rcv_buf *out, const char *text, size_t len)
{
        size_t i = 0;

        while (i < len) {
                size_t start = i, end;

                while (i < len && text[i] != '\r' && text[i] != '\n')
                        i++;
                end = i;
                while (end - start > EMAIL_LINE_MAX) {
                        size_t cut = rcv_utf8_floor(text + start, EMAIL_LINE_MAX);

                        if (cut == 0)
                                cut = EMAIL_LINE_MAX;
                        rcv_buf_add(out, text + start, cut);
                        rcv_buf_add(out, "\r\n", 2);
                        start += cut;
                }
                rcv_buf_add(out, text + start, end - start);
                rcv_buf_add(out, "\r\n", 2);
                if (i < len && text[i] == '\r' && i + 1 < len && text[i + 1] == '\n')
                        i++;
                if (i < len)
                        i++;
        }
}

int rcv_email_build(const struct config *cfg, const struct config_alert_route *route,
                    const struct alert *a, int64_t now_ms, struct receiver_request *out,
                    struct rwerr *err)
{
        struct rcv_buf draft = {0}, msg = {0};
        char opened[32], at[32];
        cJSON *details;
        char *fixed;
        int rc;

        (void)now_ms; /* the Date is the alert's own time: a retry sends the same message */
        if ((rc = check_route(route, err)) != RW_OK ||
            (rc = rcv_time(route, a->at_ms, "at_ms", at, err)) != RW_OK ||
            (rc = rcv_time(route, a->opened_ms, "opened_ms", opened, err)) != RW_OK)
                return rc;
        if ((details = rcv_details(a)) == NULL)
                return rcv_fail(err, RW_ERR_NOMEM, route, "out of memory for the details");
        add_headers(&draft, route, a);
        add_body(&draft, cfg, a, details, opened, at);
        cJSON_Delete(details);
        fixed = draft.failed ? NULL : rcv_utf8_fix(draft.p, draft.len);
        rcv_buf_free(&draft);
        if (fixed != NULL)
                crlf_lines(&msg, fixed, strlen(fixed));
        free(fixed);
        if (fixed == NULL || msg.failed) {
                rcv_buf_free(&msg);
                return rcv_fail(err, RW_ERR_NOMEM, route, "out of memory for the message");
        }
        out->body = msg.p;
        out->body_len = msg.len;
        return rcv_set_url(route, route->url, "", out, err);
}

enum receiver_outcome rcv_email_judge(const struct config_alert_route *route, int transport_rc,
                                      long status, const char *body, size_t len, char *why,
                                      size_t cap)
{
        char answer[RECEIVER_ANSWER_MAX];

        receiver_quote_answer(route, body, len, answer, sizeof answer);
        /* libcurl fails the transfer on a 4xx or 5xx reply: the code still decides */
        if (status >= 400 && status <= 499)
                return rcv_why(RECEIVER_RETRY, route, why, cap, "SMTP %ld, will retry%s%s", status,
                               answer[0] ? ": " : "", answer);
        if (status >= 500 && status <= 599)
                return rcv_why(RECEIVER_REJECTED, route, why, cap, "SMTP %ld, refused%s%s", status,
                               answer[0] ? ": " : "", answer);
        if (transport_rc != RW_OK)
                return rcv_why(RECEIVER_RETRY, route, why, cap, "no answer (%s), will retry",
                               rwerr_code_name(transport_rc));
        if (status >= 200 && status <= 299)
                return rcv_why(RECEIVER_DELIVERED, route, why, cap, "SMTP %ld, accepted", status);
        return rcv_why(RECEIVER_RETRY, route, why, cap, "unexpected SMTP reply %ld, will retry",
                       status);
}
