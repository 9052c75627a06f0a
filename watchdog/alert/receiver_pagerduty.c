/*
 * receiver_pagerduty: PagerDuty Events API v2 (receiver.h).
 *
 *   POST {url}/v2/enqueue
 *   trigger  {"routing_key", "event_action": "trigger", "dedup_key",
 *             "payload": {"summary", "source", "severity", "timestamp",
 *             "component", "group", "class", "custom_details"},
 *             "links", "client", "client_url"}
 *   resolve  {"routing_key", "event_action": "resolve", "dedup_key"}
 *
 * The daily report is not for paging: it is refused here. A 202 whose
 * body says "status":"success" is delivered; a 400 is refused for good,
 * quoting PagerDuty's "message" and "errors".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "receiver_impl.h"

#define PD_DEFAULT_URL "https://events.pagerduty.com"
#define PD_SUMMARY_MAX 1024 /* payload.summary, in characters: bytes are never fewer */

static int check_route(const struct config_alert_route *route, const struct alert *a,
                       struct rwerr *err)
{
        if (a->purpose == ALERT_REPORT)
                return rcv_fail(err, RW_ERR_INVALID, route,
                                "the daily report is not sent to PagerDuty (route it to slack, "
                                "email or webhook)");
        if (route->routing_key == NULL || route->routing_key[0] == '\0')
                return rcv_fail(err, RW_ERR_INVALID, route, "routing_key is not set");
        if (strlen(route->routing_key) != CONFIG_PD_ROUTING_KEY_LEN)
                return rcv_fail(err, RW_ERR_INVALID, route,
                                "routing_key is %zu characters long, PagerDuty's are %d",
                                strlen(route->routing_key), CONFIG_PD_ROUTING_KEY_LEN);
        return RW_OK;
}

/* payload.custom_details: what the on-call engineer needs beside the summary. */
static int add_custom_details(cJSON *payload, const struct config_alert_route *route,
                              const struct alert *a, struct rwerr *err)
{
        cJSON *cd = cJSON_AddObjectToObject(payload, "custom_details");
        cJSON *details = rcv_details(a);
        char opened[32];
        int rc;

        if (details == NULL)
                return rcv_fail(err, RW_ERR_NOMEM, route, "out of memory for the details");
        if ((rc = rcv_time(route, a->opened_ms, "opened_ms", opened, err)) != RW_OK) {
                cJSON_Delete(details);
                return rc;
        }
        if (cd == NULL || rcv_add_line(cd, "subject", a->subject) == NULL ||
            rcv_add_line(cd, "correlation_id", a->correlation_id) == NULL ||
            rcv_add_line(cd, "halt_id", a->halt_id) == NULL ||
            cJSON_AddStringToObject(cd, "opened_at", opened) == NULL ||
            !cJSON_AddItemToObject(cd, "details", details)) {
                cJSON_Delete(details);
                return rcv_fail(err, RW_ERR_NOMEM, route, "out of memory for custom_details");
        }
        if (a->audit_size > 0) {
                cJSON *cp = cJSON_AddObjectToObject(cd, "audit_checkpoint");

                if (cp == NULL ||
                    cJSON_AddNumberToObject(cp, "size", (double)a->audit_size) == NULL ||
                    cJSON_AddStringToObject(cp, "root", a->audit_root) == NULL)
                        return rcv_fail(err, RW_ERR_NOMEM, route,
                                        "out of memory for custom_details");
        }
        if (a->purpose == ALERT_TEST && cJSON_AddTrueToObject(cd, "test") == NULL)
                return rcv_fail(err, RW_ERR_NOMEM, route, "out of memory for custom_details");
        /* a re-page or a new figure of an alert already paged: the same incident */
        if (a->update && cJSON_AddTrueToObject(cd, "update") == NULL)
                return rcv_fail(err, RW_ERR_NOMEM, route, "out of memory for custom_details");
        return RW_OK;
}

static int add_payload(cJSON *root, const struct config *cfg,
                       const struct config_alert_route *route, const struct alert *a,
                       struct rwerr *err)
{
        cJSON *p = cJSON_AddObjectToObject(root, "payload");
        char summary[PD_SUMMARY_MAX + 1], at[32];
        int rc;

        rcv_summary(a, PD_SUMMARY_MAX, summary, sizeof summary);
        if ((rc = rcv_time(route, a->at_ms, "at_ms", at, err)) != RW_OK)
                return rc;
        if (p == NULL || cJSON_AddStringToObject(p, "summary", summary) == NULL ||
            rcv_add_line(p, "source", rcv_source(cfg)) == NULL ||
            cJSON_AddStringToObject(p, "severity", rcv_severity_lower(a->severity)) == NULL ||
            cJSON_AddStringToObject(p, "timestamp", at) == NULL ||
            cJSON_AddStringToObject(p, "component", "relaywatch") == NULL ||
            cJSON_AddStringToObject(p, "group", rcv_tier_group(a->tier)) == NULL ||
            rcv_add_line(p, "class", a->name) == NULL)
                return rcv_fail(err, RW_ERR_NOMEM, route, "out of memory for the payload");
        return add_custom_details(p, route, a, err);
}

/* links (the runbook, when there is one), client and client_url. */
static int add_links(cJSON *root, const struct config *cfg, const struct config_alert_route *route,
                     const struct alert *a, struct rwerr *err)
{
        const char *base = cfg != NULL ? cfg->runbook_url : NULL;

        if (a->runbook_url[0] != '\0') {
                cJSON *links = cJSON_AddArrayToObject(root, "links");
                cJSON *link = cJSON_CreateObject();
                char text[ALERT_NAME_MAX + 16];

                (void)snprintf(text, sizeof text, "Runbook: %s", a->name);
                if (links == NULL || link == NULL || !cJSON_AddItemToArray(links, link)) {
                        cJSON_Delete(link);
                        return rcv_fail(err, RW_ERR_NOMEM, route, "out of memory for links");
                }
                if (rcv_add_line(link, "href", a->runbook_url) == NULL ||
                    rcv_add_line(link, "text", text) == NULL)
                        return rcv_fail(err, RW_ERR_NOMEM, route, "out of memory for links");
        }
        if (cJSON_AddStringToObject(root, "client", "relaywatch") == NULL ||
            (base != NULL && base[0] != '\0' && rcv_add_line(root, "client_url", base) == NULL))
                return rcv_fail(err, RW_ERR_NOMEM, route, "out of memory for client");
        return RW_OK;
}

int rcv_pagerduty_build(const struct config *cfg, const struct config_alert_route *route,
                        const struct alert *a, int64_t now_ms, struct receiver_request *out,
                        struct rwerr *err)
{
        const char *base =
                route->url != NULL && route->url[0] != '\0' ? route->url : PD_DEFAULT_URL;
        int resolve = a->state == ALERT_RESOLVED;
        char key[ALERT_DEDUP_MAX];
        cJSON *root;
        int rc;

        (void)now_ms; /* PagerDuty is given the alert's own time */
        if ((rc = check_route(route, a, err)) != RW_OK)
                return rc;
        rcv_dedup_key(a, key);
        root = cJSON_CreateObject();
        if (root == NULL ||
            cJSON_AddStringToObject(root, "routing_key", route->routing_key) == NULL ||
            cJSON_AddStringToObject(root, "event_action", resolve ? "resolve" : "trigger") ==
                    NULL ||
            cJSON_AddStringToObject(root, "dedup_key", key) == NULL) {
                cJSON_Delete(root);
                return rcv_fail(err, RW_ERR_NOMEM, route, "out of memory for the event");
        }
        if (!resolve && ((rc = add_payload(root, cfg, route, a, err)) != RW_OK ||
                         (rc = add_links(root, cfg, route, a, err)) != RW_OK)) {
                cJSON_Delete(root);
                return rc;
        }
        if ((rc = rcv_set_url(route, base, "/v2/enqueue", out, err)) != RW_OK ||
            (rc = rcv_json_headers(route, out, err)) != RW_OK) {
                cJSON_Delete(root);
                return rc;
        }
        return rcv_json_body(route, root, out, err);
}

/* The answer is JSON with "status": "success". */
static int says_success(const char *body, size_t len)
{
        cJSON *o = body != NULL ? cJSON_ParseWithLength(body, len) : NULL;
        const cJSON *status = cJSON_GetObjectItemCaseSensitive(o, "status");
        int ok = cJSON_IsString(status) && strcmp(status->valuestring, "success") == 0;

        cJSON_Delete(o);
        return ok;
}

/* PagerDuty's "message" and "errors" of a 400, or the answer as it came. */
static void refusal_text(const struct config_alert_route *route, const char *body, size_t len,
                         char *out, size_t cap)
{
        cJSON *o = body != NULL ? cJSON_ParseWithLength(body, len) : NULL;
        const cJSON *message = cJSON_GetObjectItemCaseSensitive(o, "message");
        const cJSON *errors = cJSON_GetObjectItemCaseSensitive(o, "errors");
        const cJSON *e;
        struct rcv_buf b = {0};

        if (!cJSON_IsString(message)) {
                cJSON_Delete(o);
                receiver_quote_answer(route, body, len, out, cap);
                return;
        }
        rcv_buf_puts(&b, message->valuestring);
        cJSON_ArrayForEach(e, errors)
        {
                if (cJSON_IsString(e))
                        rcv_buf_printf(&b, "%s %s", e == errors->child ? ":" : ";", e->valuestring);
        }
        cJSON_Delete(o);
        if (b.failed)
                receiver_quote_answer(route, body, len, out, cap);
        else
                receiver_quote_answer(route, b.p, b.len, out, cap);
        rcv_buf_free(&b);
}

enum receiver_outcome rcv_pagerduty_judge(const struct config_alert_route *route, long status,
                                          const char *body, size_t len, char *why, size_t cap)
{
        char answer[RECEIVER_ANSWER_MAX];

        if (status >= 200 && status <= 299) {
                if (says_success(body, len))
                        return rcv_why(RECEIVER_DELIVERED, route, why, cap,
                                       "HTTP %ld, event processed", status);
                receiver_quote_answer(route, body, len, answer, sizeof answer);
                return rcv_why(RECEIVER_RETRY, route, why, cap,
                               "HTTP %ld without \"status\":\"success\", will retry: %s", status,
                               answer[0] ? answer : "(no answer text)");
        }
        if (status == 400) {
                refusal_text(route, body, len, answer, sizeof answer);
                return rcv_why(RECEIVER_REJECTED, route, why, cap,
                               "HTTP 400, PagerDuty refused the event: %s",
                               answer[0] ? answer : "(no answer text)");
        }
        return rcv_judge_http(route, status, body, len, why, cap);
}
