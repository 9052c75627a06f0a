#include "audit_record.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "json_strict.h"

void audit_record_time(int64_t unix_ms, char out[32])
{
        time_t s = (time_t)(unix_ms / 1000);
        struct tm tm;

        if (unix_ms < 0 || gmtime_r(&s, &tm) == NULL) {
                snprintf(out, 32, "1970-01-01T00:00:00.000Z");
                return;
        }
        {
                char wide[96]; /* as wide as any int fields could make it; years stay 4 digits */

                snprintf(wide, sizeof wide, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                         tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                         tm.tm_sec, (int)(unix_ms % 1000));
                snprintf(out, 32, "%.31s", wide);
        }
}

static int kind_valid(const char *kind)
{
        size_t i, n = strlen(kind);

        if (n == 0 || n >= AUDIT_KIND_MAX)
                return 0;
        for (i = 0; i < n; i++)
                if (!((kind[i] >= 'a' && kind[i] <= 'z') || (kind[i] >= '0' && kind[i] <= '9') ||
                      kind[i] == '_'))
                        return 0;
        return 1;
}

int audit_record_format(uint64_t seq, int64_t unix_ms, const char *kind, const char *correlation_id,
                        const cJSON *content, char **line, size_t *len, struct rwerr *err)
{
        char ts[32], *cid = NULL, *body = NULL, *out = NULL;
        size_t need;
        int n;

        *line = NULL;
        *len = 0;
        if (kind == NULL || !kind_valid(kind))
                return rwerr_set(err, RW_ERR_INVALID,
                                 "audit record kind \"%s\" is not 1 to %d of [a-z0-9_]",
                                 kind != NULL ? kind : "", AUDIT_KIND_MAX - 1);
        if (content != NULL && !cJSON_IsObject(content))
                return rwerr_set(err, RW_ERR_INVALID,
                                 "audit record %s: the content is not a JSON object", kind);
        audit_record_time(unix_ms, ts);
        {
                cJSON *s = cJSON_CreateString(correlation_id != NULL ? correlation_id : "");

                cid = s != NULL ? cJSON_PrintUnformatted(s) : NULL;
                cJSON_Delete(s);
        }
        body = content != NULL ? cJSON_PrintUnformatted(content) : strdup("{}");
        if (cid == NULL || body == NULL)
                goto nomem;
        need = strlen(cid) + strlen(body) + strlen(kind) + 128;
        if (need > AUDIT_RECORD_MAX) {
                free(cid);
                free(body);
                return rwerr_set(err, RW_ERR_RANGE,
                                 "audit record %s is %zu bytes, more than the %zu a record may be",
                                 kind, need, AUDIT_RECORD_MAX);
        }
        if ((out = malloc(need)) == NULL)
                goto nomem;
        n = snprintf(out, need,
                     "{\"seq\":%" PRIu64 ",\"ts\":\"%s\",\"kind\":\"%s\",\"correlation_id\":%s,"
                     "\"content\":%s}",
                     seq, ts, kind, cid, body);
        free(cid);
        free(body);
        if (n < 0 || (size_t)n >= need) {
                free(out);
                return rwerr_set(err, RW_ERR_RANGE, "audit record %s: formatting failed", kind);
        }
        *line = out;
        *len = (size_t)n;
        return RW_OK;
nomem:
        free(cid);
        free(body);
        return rwerr_set(err, RW_ERR_NOMEM, "out of memory formatting an audit record");
}

void audit_record_release(struct audit_record *r)
{
        if (r == NULL)
                return;
        free(r->correlation_id);
        cJSON_Delete(r->content);
        memset(r, 0, sizeof *r);
}

/* A whole number 0..2^53 written as digits only (no sign, fraction or exponent). */
static int plain_uint(const cJSON *item, uint64_t *out)
{
        if (!cJSON_IsNumber(item) || item->valuedouble < 0 ||
            item->valuedouble > 9007199254740992.0 ||
            item->valuedouble != (double)(uint64_t)item->valuedouble)
                return 0;
        *out = (uint64_t)item->valuedouble;
        return 1;
}

int audit_record_parse(const char *line, size_t len, struct audit_record *out, struct rwerr *err)
{
        static const char *const names[] = {"seq", "ts", "kind", "correlation_id", "content"};
        char why[160];
        cJSON *root, *item;
        size_t i;

        memset(out, 0, sizeof *out);
        if (len > AUDIT_RECORD_MAX)
                return rwerr_set(err, RW_ERR_RANGE,
                                 "the line is %zu bytes, more than a record may be", len);
        if (json_strict_check(line, len, why, sizeof why) != JSON_STRICT_OK)
                return rwerr_set(err, RW_ERR_INVALID, "not a strict JSON object: %s", why);
        root = cJSON_ParseWithLength(line, len);
        if (root == NULL)
                return rwerr_set(err, RW_ERR_NOMEM, "out of memory reading a record");
        for (i = 0, item = root->child; i < 5; i++, item = item->next) {
                if (item == NULL || item->string == NULL || strcmp(item->string, names[i]) != 0) {
                        cJSON_Delete(root);
                        return rwerr_set(err, RW_ERR_INVALID,
                                         "member %zu is not \"%s\" (a record has seq, ts, kind, "
                                         "correlation_id and content, in that order)",
                                         i + 1, names[i]);
                }
        }
        if (item != NULL) {
                cJSON_Delete(root);
                return rwerr_set(err, RW_ERR_INVALID, "a member after \"content\": \"%s\"",
                                 item->string);
        }
        item = root->child;
        if (!plain_uint(item, &out->seq)) {
                cJSON_Delete(root);
                return rwerr_set(err, RW_ERR_INVALID, "\"seq\" is not a whole number");
        }
        item = item->next;
        if (!cJSON_IsString(item) || strlen(item->valuestring) != 24) {
                cJSON_Delete(root);
                return rwerr_set(err, RW_ERR_INVALID,
                                 "\"ts\" is not a YYYY-MM-DDTHH:MM:SS.mmmZ time");
        }
        memcpy(out->ts, item->valuestring, 25);
        item = item->next;
        if (!cJSON_IsString(item) || !kind_valid(item->valuestring)) {
                cJSON_Delete(root);
                return rwerr_set(err, RW_ERR_INVALID, "\"kind\" is not 1 to %d of [a-z0-9_]",
                                 AUDIT_KIND_MAX - 1);
        }
        snprintf(out->kind, sizeof out->kind, "%s", item->valuestring);
        item = item->next;
        if (!cJSON_IsString(item) || (out->correlation_id = strdup(item->valuestring)) == NULL) {
                cJSON_Delete(root);
                return rwerr_set(err, cJSON_IsString(item) ? RW_ERR_NOMEM : RW_ERR_INVALID,
                                 "\"correlation_id\" is not a string");
        }
        item = item->next;
        if (!cJSON_IsObject(item)) {
                audit_record_release(out);
                cJSON_Delete(root);
                return rwerr_set(err, RW_ERR_INVALID, "\"content\" is not an object");
        }
        out->content = cJSON_DetachItemViaPointer(root, item);
        cJSON_Delete(root);
        return RW_OK;
}
