/*
 * receiver_alertmanager: Prometheus Alertmanager's API v2 (receiver.h).
 *
 *   POST {url}/api/v2/alerts
 *   [{"labels": {"alertname", "severity", "invariant" (Tier 1 and 2),
 *                "subject" (when there is one), "source", "test" (tests)},
 *     "annotations": {"summary", "runbook_url" (when set), "correlation_id",
 *                     "halt_id" (when set)},
 *     "startsAt": when it opened, "endsAt": now + 4 x resend_s while firing,
 *     now once resolved, "generatorURL": the runbook (when set)}]
 *
 * Alertmanager forgets an alert at endsAt, so the sender re-sends a firing
 * alert every resend_s; four periods leave room for three lost ones. The
 * labels are the identity Alertmanager groups and deduplicates by: they
 * hold nothing that changes while the alert is open. The daily report is
 * not an alert: it is refused here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "receiver_impl.h"

#define AM_RESEND_DEFAULT_S 60
#define AM_RESEND_PERIODS 4

static int add_labels(cJSON *alert, const struct config *cfg, const struct alert *a)
{
        cJSON *l = cJSON_AddObjectToObject(alert, "labels");

        if (l == NULL || rcv_add_line(l, "alertname", a->name) == NULL ||
            cJSON_AddStringToObject(l, "severity", rcv_severity_lower(a->severity)) == NULL ||
            ((a->tier == 1 || a->tier == 2) && rcv_add_line(l, "invariant", a->name) == NULL) ||
            (a->subject[0] != '\0' && rcv_add_line(l, "subject", a->subject) == NULL) ||
            rcv_add_line(l, "source", rcv_source(cfg)) == NULL ||
            (a->purpose == ALERT_TEST && cJSON_AddStringToObject(l, "test", "true") == NULL))
                return -1;
        return 0;
}

static int add_annotations(cJSON *alert, const struct alert *a)
{
        cJSON *n = cJSON_AddObjectToObject(alert, "annotations");
        char summary[ALERT_SUMMARY_MAX + 16];

        rcv_summary(a, sizeof summary - 1, summary, sizeof summary);
        if (n == NULL || cJSON_AddStringToObject(n, "summary", summary) == NULL ||
            (a->runbook_url[0] != '\0' && rcv_add_line(n, "runbook_url", a->runbook_url) == NULL) ||
            rcv_add_line(n, "correlation_id", a->correlation_id) == NULL ||
            (a->halt_id[0] != '\0' && rcv_add_line(n, "halt_id", a->halt_id) == NULL))
                return -1;
        if (a->audit_size > 0) {
                char size[24];

                (void)snprintf(size, sizeof size, "%llu", (unsigned long long)a->audit_size);
                if (cJSON_AddStringToObject(n, "audit_checkpoint_size", size) == NULL ||
                    cJSON_AddStringToObject(n, "audit_checkpoint_root", a->audit_root) == NULL)
                        return -1;
        }
        return 0;
}

/* startsAt and endsAt, as RFC 3339. */
static int times(const struct config_alert_route *route, const struct alert *a, int64_t now_ms,
                 char starts[32], char ends[32], struct rwerr *err)
{
        uint64_t resend_s = route->resend_s > 0 ? route->resend_s : AM_RESEND_DEFAULT_S;
        int64_t end_ms = now_ms;
        int rc;

        if (a->state == ALERT_FIRING) {
                if (resend_s > 86400)
                        return rcv_fail(err, RW_ERR_RANGE, route, "resend_s is over a day (%llu s)",
                                        (unsigned long long)resend_s);
                end_ms = now_ms + (int64_t)(resend_s * AM_RESEND_PERIODS * 1000);
        }
        if ((rc = rcv_time(route, a->opened_ms > 0 ? a->opened_ms : a->at_ms, "opened_ms", starts,
                           err)) != RW_OK ||
            (rc = rcv_time(route, end_ms, "the time of sending", ends, err)) != RW_OK)
                return rc;
        return RW_OK;
}

int rcv_alertmanager_build(const struct config *cfg, const struct config_alert_route *route,
                           const struct alert *a, int64_t now_ms, struct receiver_request *out,
                           struct rwerr *err)
{
        char starts[32], ends[32];
        cJSON *root, *alert;
        int rc;

        if (a->purpose == ALERT_REPORT)
                return rcv_fail(err, RW_ERR_INVALID, route,
                                "the daily report is not an alert: it is not sent to "
                                "Alertmanager (route it to slack, email or webhook)");
        if (route->url == NULL || route->url[0] == '\0')
                return rcv_fail(err, RW_ERR_INVALID, route, "url (Alertmanager's base) is not set");
        if ((rc = times(route, a, now_ms, starts, ends, err)) != RW_OK)
                return rc;
        root = cJSON_CreateArray();
        alert = cJSON_CreateObject();
        if (root == NULL || alert == NULL || !cJSON_AddItemToArray(root, alert)) {
                cJSON_Delete(alert);
                cJSON_Delete(root);
                return rcv_fail(err, RW_ERR_NOMEM, route, "out of memory for the alert");
        }
        if (add_labels(alert, cfg, a) != 0 || add_annotations(alert, a) != 0 ||
            cJSON_AddStringToObject(alert, "startsAt", starts) == NULL ||
            cJSON_AddStringToObject(alert, "endsAt", ends) == NULL ||
            (a->runbook_url[0] != '\0' &&
             rcv_add_line(alert, "generatorURL", a->runbook_url) == NULL)) {
                cJSON_Delete(root);
                return rcv_fail(err, RW_ERR_NOMEM, route, "out of memory for the alert");
        }
        if ((rc = rcv_set_url(route, route->url, "/api/v2/alerts", out, err)) != RW_OK ||
            (rc = rcv_json_headers(route, out, err)) != RW_OK) {
                cJSON_Delete(root);
                return rc;
        }
        return rcv_json_body(route, root, out, err);
}

enum receiver_outcome rcv_alertmanager_judge(const struct config_alert_route *route, long status,
                                             const char *body, size_t len, char *why, size_t cap)
{
        if (status >= 200 && status <= 299)
                return rcv_why(RECEIVER_DELIVERED, route, why, cap, "HTTP %ld", status);
        return rcv_judge_http(route, status, body, len, why, cap);
}
