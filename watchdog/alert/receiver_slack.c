/*
 * receiver_slack: a Slack incoming webhook (receiver.h).
 *
 *   POST the webhook URL
 *   {"text": "[CRITICAL] NAME firing: SUMMARY",      the notification fallback
 *    "blocks": [
 *      {"type": "header", "text": {"type": "plain_text", "text": "[CRITICAL] NAME firing"}},
 *      {"type": "section", "text": {"type": "mrkdwn", "text": SUMMARY}},
 *      {"type": "section", "fields": [{"type": "mrkdwn", "text": "*Subject*\nasset SIGIL"},
 *                                     ... at most 10]},
 *      {"type": "context", "elements": [{"type": "mrkdwn", "text": "<URL|Runbook: NAME>"},
 *                                       {"type": "mrkdwn", "text": "Source: SOURCE"}]}]}
 *
 * A test is marked "[TEST]" in the header and the summary; a daily report
 * has its text in sections of its own. Slack's limits are kept (header
 * text 150, a section's text 3000, a field 2000, 10 fields, 50 blocks),
 * counted in bytes, which are never fewer than Slack's characters. Text in
 * mrkdwn has &, < and > escaped as Slack documents.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "receiver_impl.h"

#define SLACK_HEADER_MAX 150
#define SLACK_TEXT_MAX 3000
#define SLACK_FIELD_MAX 2000
#define SLACK_FIELDS_MAX 10
#define SLACK_REPORT_SECTIONS_MAX 10 /* of the 50 blocks a message may have */

/* Appends `s` with &, < and > escaped as Slack's mrkdwn wants them. */
static void escape_into(struct rcv_buf *b, const char *s)
{
        for (; *s != '\0'; s++) {
                if (*s == '&')
                        rcv_buf_puts(b, "&amp;");
                else if (*s == '<')
                        rcv_buf_puts(b, "&lt;");
                else if (*s == '>')
                        rcv_buf_puts(b, "&gt;");
                else
                        rcv_buf_add(b, s, 1);
        }
}

/*
 * Where escaped text may be cut at or before `at`: a UTF-8 boundary that
 * is not inside an "&amp;", "&lt;" or "&gt;".
 */
static size_t cut_point(const char *s, size_t at)
{
        size_t i;

        at = rcv_utf8_floor(s, at);
        for (i = at; i > 0 && at - i < 5; i--) {
                if (s[i - 1] == ';')
                        break;
                if (s[i - 1] == '&')
                        return i - 1;
        }
        return at;
}

/* Cuts escaped text in place to `max` bytes ending with "…" when longer. */
static void cut_escaped(char *s, size_t len, size_t max)
{
        size_t keep;

        if (len <= max)
                return;
        keep = cut_point(s, max - (sizeof RCV_ELLIPSIS - 1));
        memcpy(s + keep, RCV_ELLIPSIS, sizeof RCV_ELLIPSIS);
}

/* A {"type": TYPE, "text": TEXT} object added to `to` (array or object under `key`). */
static cJSON *text_object(cJSON *to, const char *key, const char *type, const char *text)
{
        cJSON *o = cJSON_CreateObject();

        if (o == NULL || cJSON_AddStringToObject(o, "type", type) == NULL ||
            cJSON_AddStringToObject(o, "text", text) == NULL) {
                cJSON_Delete(o);
                return NULL;
        }
        if (key != NULL ? !cJSON_AddItemToObject(to, key, o) : !cJSON_AddItemToArray(to, o)) {
                cJSON_Delete(o);
                return NULL;
        }
        return o;
}

/* `label` (already mrkdwn) and `value` escaped, cut to `max` bytes; malloc'd, NULL on OOM. */
static char *escaped(const char *label, const char *value, size_t max)
{
        struct rcv_buf b = {0};

        rcv_buf_puts(&b, label);
        escape_into(&b, value);
        if (b.failed)
                return NULL;
        cut_escaped(b.p, b.len, max);
        return b.p;
}

/* A mrkdwn text object of `label` and escaped `value`, added to `to`. */
static cJSON *mrkdwn(cJSON *to, const char *key, const char *label, const char *value, size_t max)
{
        char *text = escaped(label, value, max);
        cJSON *o = text != NULL ? text_object(to, key, "mrkdwn", text) : NULL;

        free(text);
        return o;
}

static cJSON *add_block(cJSON *blocks, const char *type)
{
        cJSON *b = cJSON_CreateObject();

        if (b == NULL || cJSON_AddStringToObject(b, "type", type) == NULL ||
            !cJSON_AddItemToArray(blocks, b)) {
                cJSON_Delete(b);
                return NULL;
        }
        return b;
}

/* "[TEST] [CRITICAL] NAME firing", as plain text. */
static void headline(const struct alert *a, char *out, size_t cap)
{
        char raw[256];

        (void)snprintf(
                raw, sizeof raw, "%s[%s] %s%s%s%s", a->purpose == ALERT_TEST ? "[TEST] " : "",
                finding_severity_name(a->severity), a->name, a->purpose == ALERT_REPORT ? "" : " ",
                a->purpose == ALERT_REPORT ? "" : alert_state_name(a->state),
                a->update && a->state == ALERT_FIRING ? " (update)" : "");
        rcv_line(raw, SLACK_HEADER_MAX, out, cap);
}

/* One top-level scalar of the details as field text; 0 when it is not a scalar. */
static int scalar_text(const cJSON *v, char *out, size_t cap)
{
        if (cJSON_IsString(v)) {
                rcv_line(v->valuestring, cap - 1, out, cap);
        } else if (cJSON_IsBool(v)) {
                (void)snprintf(out, cap, "%s", cJSON_IsTrue(v) ? "true" : "false");
        } else if (cJSON_IsNumber(v)) {
                /* the shortest of 15 or 17 digits that reads back the same */
                (void)snprintf(out, cap, "%.15g", v->valuedouble);
                if (strtod(out, NULL) != v->valuedouble)
                        (void)snprintf(out, cap, "%.17g", v->valuedouble);
        } else {
                return 0;
        }
        return 1;
}

/* One field: "*LABEL*" on a line, the value below it, both escaped. */
static int add_field(cJSON *fields, const char *label, const char *value)
{
        char name[101], line[SLACK_FIELD_MAX + 1];
        struct rcv_buf head = {0};
        char *label_text;
        int rc;

        if (cJSON_GetArraySize(fields) >= SLACK_FIELDS_MAX || value[0] == '\0')
                return 0;
        rcv_line(label, sizeof name - 1, name, sizeof name);
        if ((label_text = escaped("", name, 500)) == NULL)
                return -1;
        rcv_buf_printf(&head, "*%s*\n", label_text);
        free(label_text);
        if (head.failed)
                return -1;
        rcv_line(value, SLACK_FIELD_MAX, line, sizeof line);
        rc = mrkdwn(fields, NULL, head.p, line, SLACK_FIELD_MAX) != NULL ? 0 : -1;
        rcv_buf_free(&head);
        return rc;
}

/* The section of fields: subject, correlation id, halt id, then the details' figures. */
static int add_fields(cJSON *blocks, const struct alert *a, const cJSON *details)
{
        cJSON *fields = cJSON_CreateArray(), *block;
        const cJSON *v;
        char value[SLACK_FIELD_MAX + 1];

        if (fields == NULL || add_field(fields, "Subject", a->subject) != 0 ||
            add_field(fields, "Correlation id", a->correlation_id) != 0 ||
            add_field(fields, "Halt id", a->halt_id) != 0) {
                cJSON_Delete(fields);
                return -1;
        }
        cJSON_ArrayForEach(v, details)
        {
                if (a->purpose == ALERT_REPORT && strcmp(v->string, "text") == 0)
                        continue;
                if (scalar_text(v, value, sizeof value) &&
                    add_field(fields, v->string, value) != 0) {
                        cJSON_Delete(fields);
                        return -1;
                }
        }
        if (cJSON_GetArraySize(fields) == 0) {
                cJSON_Delete(fields);
                return 0;
        }
        if ((block = add_block(blocks, "section")) == NULL ||
            !cJSON_AddItemToObject(block, "fields", fields)) {
                cJSON_Delete(fields);
                return -1;
        }
        return 0;
}

/*
 * The end of the next piece of escaped `text` (from `at`, `len` in all)
 * that fits a section: a line end where there is one, else a safe cut.
 */
static size_t piece_end(const char *text, size_t at, size_t len)
{
        size_t end;

        if (len - at <= SLACK_TEXT_MAX)
                return len;
        for (end = at + SLACK_TEXT_MAX; end > at && text[end] != '\n'; end--)
                ;
        return end > at ? end : at + cut_point(text + at, SLACK_TEXT_MAX);
}

static int add_section_text(cJSON *blocks, const char *text, size_t n, int cut)
{
        char *piece = malloc(n + sizeof RCV_ELLIPSIS);
        cJSON *block;
        int rc = -1;

        if (piece == NULL)
                return -1;
        memcpy(piece, text, n);
        memcpy(piece + n, cut ? RCV_ELLIPSIS : "", cut ? sizeof RCV_ELLIPSIS : 1);
        if ((block = add_block(blocks, "section")) != NULL &&
            text_object(block, "text", "mrkdwn", piece) != NULL)
                rc = 0;
        free(piece);
        return rc;
}

/* The report's text in sections of at most 3000 bytes, cut at line ends where it can be. */
static int add_report_sections(cJSON *blocks, const char *text)
{
        struct rcv_buf b = {0};
        size_t at = 0, n, end;
        int rc = 0;

        escape_into(&b, text);
        if (b.failed)
                return -1;
        for (n = 0; at < b.len && rc == 0; n++) {
                end = piece_end(b.p, at, b.len);
                if (n == SLACK_REPORT_SECTIONS_MAX - 1 && end < b.len) {
                        /* the last section there is room for: the rest is cut */
                        end = at + cut_point(b.p + at, SLACK_TEXT_MAX - (sizeof RCV_ELLIPSIS - 1));
                        rc = add_section_text(blocks, b.p + at, end - at, 1);
                        break;
                }
                rc = add_section_text(blocks, b.p + at, end - at, 0);
                at = end < b.len && b.p[end] == '\n' ? end + 1 : end;
        }
        rcv_buf_free(&b);
        return rc;
}

/* The runbook link and the source, small print under the alert. */
static int add_context(cJSON *blocks, const struct config *cfg, const struct alert *a)
{
        cJSON *block = add_block(blocks, "context");
        cJSON *elements = block != NULL ? cJSON_AddArrayToObject(block, "elements") : NULL;
        char source[256];

        if (elements == NULL)
                return -1;
        if (a->runbook_url[0] != '\0') {
                struct rcv_buf b = {0};
                char url[ALERT_URL_MAX * 3];
                size_t i, n = 0;
                cJSON *o;

                /* a '|' or '>' in the URL would end the link early */
                for (i = 0; a->runbook_url[i] != '\0' && n + 4 < sizeof url; i++) {
                        char c = a->runbook_url[i];

                        if (c == '|' || c == '>' || c == '<' || (unsigned char)c <= 0x20)
                                n += (size_t)snprintf(url + n, sizeof url - n, "%%%02X",
                                                      (unsigned char)c);
                        else
                                url[n++] = c;
                }
                url[n] = '\0';
                rcv_buf_puts(&b, "<");
                escape_into(&b, url);
                rcv_buf_puts(&b, "|Runbook: ");
                escape_into(&b, a->name);
                rcv_buf_puts(&b, ">");
                o = b.failed ? NULL : text_object(elements, NULL, "mrkdwn", b.p);
                rcv_buf_free(&b);
                if (o == NULL)
                        return -1;
        }
        rcv_line(rcv_source(cfg), 200, source, sizeof source);
        return mrkdwn(elements, NULL, "Source: ", source, SLACK_TEXT_MAX) != NULL ? 0 : -1;
}

static int add_blocks(cJSON *root, const struct config *cfg, const struct alert *a,
                      const cJSON *details, const char *head, const char *summary)
{
        cJSON *blocks = cJSON_AddArrayToObject(root, "blocks"), *b;
        const char *report = a->purpose == ALERT_REPORT ? rcv_report_text(details) : NULL;

        if (blocks == NULL || (b = add_block(blocks, "header")) == NULL ||
            text_object(b, "text", "plain_text", head) == NULL)
                return -1;
        if (summary[0] != '\0' && ((b = add_block(blocks, "section")) == NULL ||
                                   mrkdwn(b, "text", "", summary, SLACK_TEXT_MAX) == NULL))
                return -1;
        if (report != NULL && add_report_sections(blocks, report) != 0)
                return -1;
        if (add_fields(blocks, a, details) != 0 || add_context(blocks, cfg, a) != 0)
                return -1;
        return 0;
}

int rcv_slack_build(const struct config *cfg, const struct config_alert_route *route,
                    const struct alert *a, int64_t now_ms, struct receiver_request *out,
                    struct rwerr *err)
{
        char head[SLACK_HEADER_MAX + 1], summary[ALERT_SUMMARY_MAX + 16];
        char fallback[sizeof head + sizeof summary + 2];
        cJSON *root, *details;
        char *text;
        int rc;

        (void)now_ms;
        if (route->url == NULL || route->url[0] == '\0')
                return rcv_fail(err, RW_ERR_INVALID, route, "url (the webhook URL) is not set");
        headline(a, head, sizeof head);
        rcv_summary(a, ALERT_SUMMARY_MAX + 8, summary, sizeof summary);
        /* the fallback's head already says [TEST]: the summary goes without it */
        (void)snprintf(fallback, sizeof fallback, "%s%s", head, a->summary[0] ? ": " : "");
        rcv_line(a->summary, ALERT_SUMMARY_MAX, fallback + strlen(fallback),
                 sizeof fallback - strlen(fallback));
        details = rcv_details(a);
        root = cJSON_CreateObject();
        text = escaped("", fallback, SLACK_TEXT_MAX);
        if (details == NULL || root == NULL || text == NULL ||
            cJSON_AddStringToObject(root, "text", text) == NULL ||
            add_blocks(root, cfg, a, details, head, summary) != 0) {
                free(text);
                cJSON_Delete(details);
                cJSON_Delete(root);
                return rcv_fail(err, RW_ERR_NOMEM, route, "out of memory for the message");
        }
        free(text);
        cJSON_Delete(details);
        if ((rc = rcv_set_url(route, route->url, "", out, err)) != RW_OK ||
            (rc = rcv_json_headers(route, out, err)) != RW_OK) {
                cJSON_Delete(root);
                return rc;
        }
        return rcv_json_body(route, root, out, err);
}

enum receiver_outcome rcv_slack_judge(const struct config_alert_route *route, long status,
                                      const char *body, size_t len, char *why, size_t cap)
{
        char answer[RECEIVER_ANSWER_MAX];

        if (status >= 200 && status <= 299) {
                if (body != NULL && len == 2 && memcmp(body, "ok", 2) == 0)
                        return rcv_why(RECEIVER_DELIVERED, route, why, cap, "HTTP %ld, ok", status);
                receiver_quote_answer(route, body, len, answer, sizeof answer);
                return rcv_why(RECEIVER_RETRY, route, why, cap,
                               "HTTP %ld but the answer is not \"ok\", will retry: %s", status,
                               answer[0] ? answer : "(no answer text)");
        }
        return rcv_judge_http(route, status, body, len, why, cap);
}
