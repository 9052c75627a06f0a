/*
 * alert: the event value, its identity and its JSON form (alert.h).
 */
#include "alert.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <sodium.h>

#include "config.h"

const char *alert_state_name(enum alert_state s)
{
        return s == ALERT_RESOLVED ? "resolved" : "firing";
}

static int key_char(char c)
{
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
               c == '.' || c == '_' || c == ':' || c == '-';
}

/* Appends `s` to out[*n], with characters outside key_char made '_'. */
static void append_key_text(char *out, size_t *n, const char *s, size_t max)
{
        for (; *s != '\0' && *n < max; s++) {
                char c = *s;

                if (!key_char(c))
                        c = '_';
                out[(*n)++] = c;
        }
}

void alert_dedup_key(const char *name, const char *subject, char out[ALERT_DEDUP_MAX])
{
        size_t n = 0, max = ALERT_DEDUP_MAX - 1;

        append_key_text(out, &n, name, max);
        if (subject != NULL && subject[0] != '\0') {
                if (n + 1 + strlen(subject) <= max) {
                        out[n++] = '/';
                        append_key_text(out, &n, subject, max);
                } else {
                        unsigned char h[16];
                        char hex[33];

                        (void)crypto_generichash(h, sizeof h, (const unsigned char *)subject,
                                                 strlen(subject), NULL, 0);
                        (void)sodium_bin2hex(hex, sizeof hex, h, sizeof h);
                        if (n > max - 33)
                                n = max - 33;
                        out[n++] = '/';
                        memcpy(out + n, hex, 32);
                        n += 32;
                }
        }
        out[n] = '\0';
}

void alert_set_runbook(struct alert *a, const struct config *cfg)
{
        const char *base = cfg != NULL && cfg->runbook_url != NULL ? cfg->runbook_url : "";
        int w = snprintf(a->runbook_url, sizeof a->runbook_url, "%s%s.md", base, a->name);

        if (w < 0 || (size_t)w >= sizeof a->runbook_url)
                a->runbook_url[0] = '\0'; /* a cut-off link is worse than none */
}

int alert_copy(struct alert *dst, const struct alert *src)
{
        char *details = NULL;

        if (src->details_json != NULL && (details = strdup(src->details_json)) == NULL)
                return RW_ERR_NOMEM;
        *dst = *src;
        dst->details_json = details;
        return RW_OK;
}

void alert_release(struct alert *a)
{
        if (a == NULL)
                return;
        free(a->details_json);
        memset(a, 0, sizeof *a);
}

cJSON *alert_to_json(const struct alert *a)
{
        static const char *const purposes[] = {"incident", "test", "report"};
        cJSON *o = cJSON_CreateObject(), *details = NULL;

        if (o == NULL)
                return NULL;
        if (a->details_json != NULL && (details = cJSON_Parse(a->details_json)) == NULL)
                details = cJSON_CreateObject(); /* never happens for our own text; stay valid */
        if (cJSON_AddStringToObject(o, "name", a->name) == NULL ||
            cJSON_AddStringToObject(o, "subject", a->subject) == NULL ||
            cJSON_AddStringToObject(o, "dedup_key", a->dedup_key) == NULL ||
            cJSON_AddStringToObject(o, "severity", finding_severity_name(a->severity)) == NULL ||
            cJSON_AddStringToObject(o, "state", alert_state_name(a->state)) == NULL ||
            cJSON_AddStringToObject(o, "purpose", purposes[a->purpose]) == NULL ||
            cJSON_AddBoolToObject(o, "update", a->update) == NULL ||
            cJSON_AddNumberToObject(o, "tier", a->tier) == NULL ||
            cJSON_AddStringToObject(o, "summary", a->summary) == NULL ||
            cJSON_AddStringToObject(o, "correlation_id", a->correlation_id) == NULL ||
            cJSON_AddStringToObject(o, "halt_id", a->halt_id) == NULL ||
            cJSON_AddStringToObject(o, "runbook_url", a->runbook_url) == NULL ||
            cJSON_AddNumberToObject(o, "opened_ms", (double)a->opened_ms) == NULL ||
            cJSON_AddNumberToObject(o, "at_ms", (double)a->at_ms) == NULL ||
            cJSON_AddNumberToObject(o, "seq", (double)a->seq) == NULL ||
            (a->audit_size > 0 &&
             (cJSON_AddNumberToObject(o, "audit_size", (double)a->audit_size) == NULL ||
              cJSON_AddStringToObject(o, "audit_root", a->audit_root) == NULL)) ||
            (details != NULL && !cJSON_AddItemToObject(o, "details", details))) {
                cJSON_Delete(details);
                cJSON_Delete(o);
                return NULL;
        }
        return o;
}

/* o[key] as a string that fits out[cap]; names the field when it does not. */
static int get_text(const cJSON *o, const char *key, char *out, size_t cap, struct rwerr *err)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

        if (!cJSON_IsString(v))
                return rwerr_set(err, RW_ERR_INVALID, "alert: \"%s\" is missing or not a string",
                                 key);
        if (strlen(v->valuestring) >= cap)
                return rwerr_set(err, RW_ERR_RANGE, "alert: \"%s\" is longer than %zu bytes", key,
                                 cap - 1);
        memcpy(out, v->valuestring, strlen(v->valuestring) + 1);
        return RW_OK;
}

/* o[key] as a whole number in [min, max]. */
static int get_int(const cJSON *o, const char *key, double min, double max, int64_t *out,
                   struct rwerr *err)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

        if (!cJSON_IsNumber(v) || v->valuedouble < min || v->valuedouble > max ||
            v->valuedouble != (double)(int64_t)v->valuedouble)
                return rwerr_set(err, RW_ERR_INVALID,
                                 "alert: \"%s\" is missing or not a whole number in range", key);
        *out = (int64_t)v->valuedouble;
        return RW_OK;
}

static int parse_severity(const char *s, enum finding_severity *out)
{
        enum finding_severity k;

        for (k = FINDING_INFO; k <= FINDING_CRITICAL; k++) {
                if (strcmp(s, finding_severity_name(k)) == 0) {
                        *out = k;
                        return 0;
                }
        }
        return -1;
}

int alert_from_json(const cJSON *o, struct alert *out, struct rwerr *err)
{
        char severity[16], state[16], purpose[16];
        const cJSON *update, *details;
        int64_t tier = 0, seq = 0;
        int rc;

        memset(out, 0, sizeof *out);
        if (!cJSON_IsObject(o))
                return rwerr_set(err, RW_ERR_INVALID, "alert: not a JSON object");
        if ((rc = get_text(o, "name", out->name, sizeof out->name, err)) != RW_OK ||
            (rc = get_text(o, "subject", out->subject, sizeof out->subject, err)) != RW_OK ||
            (rc = get_text(o, "dedup_key", out->dedup_key, sizeof out->dedup_key, err)) != RW_OK ||
            (rc = get_text(o, "severity", severity, sizeof severity, err)) != RW_OK ||
            (rc = get_text(o, "state", state, sizeof state, err)) != RW_OK ||
            (rc = get_text(o, "purpose", purpose, sizeof purpose, err)) != RW_OK ||
            (rc = get_text(o, "summary", out->summary, sizeof out->summary, err)) != RW_OK ||
            (rc = get_text(o, "correlation_id", out->correlation_id, sizeof out->correlation_id,
                           err)) != RW_OK ||
            (rc = get_text(o, "halt_id", out->halt_id, sizeof out->halt_id, err)) != RW_OK ||
            (rc = get_text(o, "runbook_url", out->runbook_url, sizeof out->runbook_url, err)) !=
                    RW_OK ||
            (rc = get_int(o, "tier", 0, 3, &tier, err)) != RW_OK ||
            (rc = get_int(o, "opened_ms", 0, 9.0e15, &out->opened_ms, err)) != RW_OK ||
            (rc = get_int(o, "at_ms", 0, 9.0e15, &out->at_ms, err)) != RW_OK ||
            (rc = get_int(o, "seq", 0, 9.0e15, &seq, err)) != RW_OK)
                return rc;
        if (cJSON_GetObjectItemCaseSensitive(o, "audit_size") != NULL) { /* optional */
                int64_t size = 0;

                if ((rc = get_int(o, "audit_size", 1, 9.0e15, &size, err)) != RW_OK ||
                    (rc = get_text(o, "audit_root", out->audit_root, sizeof out->audit_root,
                                   err)) != RW_OK)
                        return rc;
                out->audit_size = (uint64_t)size;
        }
        if (out->name[0] == '\0')
                return rwerr_set(err, RW_ERR_INVALID, "alert: \"name\" is empty");
        if (parse_severity(severity, &out->severity) != 0)
                return rwerr_set(err, RW_ERR_INVALID,
                                 "alert: \"severity\" is not INFO, WARNING, ERROR or CRITICAL");
        if (strcmp(state, "firing") == 0)
                out->state = ALERT_FIRING;
        else if (strcmp(state, "resolved") == 0)
                out->state = ALERT_RESOLVED;
        else
                return rwerr_set(err, RW_ERR_INVALID, "alert: \"state\" is not firing or resolved");
        if (strcmp(purpose, "incident") == 0)
                out->purpose = ALERT_INCIDENT;
        else if (strcmp(purpose, "test") == 0)
                out->purpose = ALERT_TEST;
        else if (strcmp(purpose, "report") == 0)
                out->purpose = ALERT_REPORT;
        else
                return rwerr_set(err, RW_ERR_INVALID,
                                 "alert: \"purpose\" is not incident, test or report");
        update = cJSON_GetObjectItemCaseSensitive(o, "update");
        if (!cJSON_IsBool(update))
                return rwerr_set(err, RW_ERR_INVALID,
                                 "alert: \"update\" is missing or not a boolean");
        out->update = cJSON_IsTrue(update);
        out->tier = (int)tier;
        out->seq = (uint64_t)seq;
        details = cJSON_GetObjectItemCaseSensitive(o, "details");
        if (details != NULL) {
                if (!cJSON_IsObject(details))
                        return rwerr_set(err, RW_ERR_INVALID,
                                         "alert: \"details\" is not an object");
                if ((out->details_json = cJSON_PrintUnformatted(details)) == NULL)
                        return rwerr_set(err, RW_ERR_NOMEM, "alert: out of memory");
        }
        return RW_OK;
}
