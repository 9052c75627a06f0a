#include "halt_state.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "fileio.h"

#define HALT_STATE_VERSION 1
#define HALT_STATE_FILE_MAX ((size_t)1024 * 1024)
#define JSON_INT_MAX 999999999999999.0 /* cJSON (1.7.15) prints 15 significant digits exactly */

const char *incident_phase_name(enum incident_phase phase)
{
        switch (phase) {
        case INCIDENT_PENDING:
                return "pending";
        case INCIDENT_PUBLISHED:
                return "published";
        case INCIDENT_RESUMED:
                return "resumed";
        }
        return "unknown";
}

static int phase_from_name(const char *s, enum incident_phase *out)
{
        static const enum incident_phase all[] = {INCIDENT_PENDING, INCIDENT_PUBLISHED,
                                                  INCIDENT_RESUMED};
        size_t i;

        for (i = 0; i < sizeof all / sizeof all[0]; i++) {
                if (strcmp(s, incident_phase_name(all[i])) == 0) {
                        *out = all[i];
                        return 1;
                }
        }
        return 0;
}

struct incident *halt_state_find(struct halt_state *s, const char *invariant)
{
        size_t i;

        for (i = 0; i < s->n; i++) {
                if (strcmp(s->incidents[i].invariant, invariant) == 0)
                        return &s->incidents[i];
        }
        return NULL;
}

struct incident *halt_state_add(struct halt_state *s, const char *invariant)
{
        struct incident *inc;

        if (s->n >= HALT_STATE_MAX)
                return NULL;
        inc = &s->incidents[s->n++];
        memset(inc, 0, sizeof *inc);
        (void)snprintf(inc->invariant, sizeof inc->invariant, "%s", invariant);
        return inc;
}

void halt_state_remove(struct halt_state *s, size_t i)
{
        if (i >= s->n)
                return;
        memmove(&s->incidents[i], &s->incidents[i + 1], (s->n - i - 1) * sizeof s->incidents[0]);
        s->n--;
}

/* ------------------------------------------------------------ to JSON */

static int add_num(cJSON *o, const char *name, double v)
{
        return cJSON_AddNumberToObject(o, name, v) != NULL;
}

cJSON *halt_state_incident_json(const struct incident *inc)
{
        cJSON *o = cJSON_CreateObject(), *nonces;
        int ok;

        if (o == NULL)
                return NULL;
        ok = cJSON_AddStringToObject(o, "invariant", inc->invariant) != NULL &&
             cJSON_AddStringToObject(o, "subject", inc->subject) != NULL &&
             cJSON_AddStringToObject(o, "id", inc->id) != NULL &&
             cJSON_AddStringToObject(o, "entry_id", inc->entry_id) != NULL &&
             add_num(o, "first_height", (double)inc->first_height) &&
             cJSON_AddStringToObject(o, "correlation_id", inc->correlation_id) != NULL &&
             cJSON_AddStringToObject(o, "severity", inc->severity) != NULL &&
             cJSON_AddStringToObject(o, "reason", inc->reason) != NULL &&
             cJSON_AddStringToObject(o, "phase", incident_phase_name(inc->phase)) != NULL &&
             cJSON_AddBoolToObject(o, "ours", inc->ours) != NULL &&
             cJSON_AddStringToObject(o, "origin", inc->from_stream ? "stream" : "cycle") != NULL &&
             (inc->key_id[0] == '\0' ||
              cJSON_AddStringToObject(o, "key_id", inc->key_id) != NULL) &&
             add_num(o, "detected_at_ms", (double)inc->detected_at_ms) &&
             add_num(o, "published_at_ms", (double)inc->published_at_ms) &&
             add_num(o, "acked_at_ms", (double)inc->acked_at_ms) &&
             cJSON_AddBoolToObject(o, "not_acked_reported", inc->not_acked_reported) != NULL &&
             cJSON_AddBoolToObject(o, "not_effective_reported", inc->not_effective_reported) !=
                     NULL &&
             cJSON_AddBoolToObject(o, "has_baseline", inc->has_baseline) != NULL &&
             add_num(o, "baseline_op_id", (double)inc->baseline_op_id);
        nonces = ok ? cJSON_AddArrayToObject(o, "baseline_nonces") : NULL;
        if (nonces != NULL) {
                int i;

                for (i = 0; i < SNAP_NCHAINS && ok; i++) {
                        cJSON *n = cJSON_CreateNumber((double)inc->baseline_nonces[i]);

                        ok = n != NULL && cJSON_AddItemToArray(nonces, n);
                }
        }
        if (!ok || nonces == NULL) {
                cJSON_Delete(o);
                return NULL;
        }
        return o;
}

/* ------------------------------------------------------------ from JSON */

/* Where a field is read from, for messages; the error goes to `err`. */
struct reader {
        const char *path;
        size_t index;
};

static int bad(const struct reader *r, struct rwerr *err, const char *field, const char *what)
{
        return rwerr_set(err, RW_ERR_INVALID, "%s: incident %zu: %s %s", r->path, r->index, field,
                         what);
}

static int get_string(const struct reader *r, struct rwerr *err, const cJSON *o, const char *field,
                      char *out, size_t cap)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, field);

        if (!cJSON_IsString(v) || v->valuestring == NULL)
                return bad(r, err, field, "is missing or not a string");
        if (strlen(v->valuestring) >= cap)
                return bad(r, err, field, "is too long");
        memcpy(out, v->valuestring, strlen(v->valuestring) + 1);
        return RW_OK;
}

static int get_number(const struct reader *r, struct rwerr *err, const cJSON *o, const char *field,
                      double *out)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, field);

        if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > JSON_INT_MAX ||
            v->valuedouble != (double)(uint64_t)v->valuedouble)
                return bad(r, err, field, "is missing or not a whole number from 0 to 10^15 - 1");
        *out = v->valuedouble;
        return RW_OK;
}

static int get_u64(const struct reader *r, struct rwerr *err, const cJSON *o, const char *field,
                   uint64_t *out)
{
        double d = 0;
        int rc = get_number(r, err, o, field, &d);

        *out = (uint64_t)d;
        return rc;
}

static int get_i64(const struct reader *r, struct rwerr *err, const cJSON *o, const char *field,
                   int64_t *out)
{
        double d = 0;
        int rc = get_number(r, err, o, field, &d);

        *out = (int64_t)d;
        return rc;
}

static int get_bool(const struct reader *r, struct rwerr *err, const cJSON *o, const char *field,
                    int *out)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, field);

        if (!cJSON_IsBool(v))
                return bad(r, err, field, "is missing or not true/false");
        *out = cJSON_IsTrue(v);
        return RW_OK;
}

static int read_incident(const struct reader *r, struct rwerr *err, const cJSON *o,
                         struct incident *inc)
{
        char phase[16];
        const cJSON *nonces, *n, *v;
        int rc, i = 0;

        memset(inc, 0, sizeof *inc);
        if (!cJSON_IsObject(o))
                return bad(r, err, "the entry", "is not an object");
        if ((rc = get_string(r, err, o, "invariant", inc->invariant, sizeof inc->invariant)) !=
                    RW_OK ||
            (rc = get_string(r, err, o, "subject", inc->subject, sizeof inc->subject)) != RW_OK ||
            (rc = get_string(r, err, o, "id", inc->id, sizeof inc->id)) != RW_OK ||
            (rc = get_string(r, err, o, "entry_id", inc->entry_id, sizeof inc->entry_id)) !=
                    RW_OK ||
            (rc = get_u64(r, err, o, "first_height", &inc->first_height)) != RW_OK ||
            (rc = get_string(r, err, o, "correlation_id", inc->correlation_id,
                             sizeof inc->correlation_id)) != RW_OK ||
            (rc = get_string(r, err, o, "severity", inc->severity, sizeof inc->severity)) !=
                    RW_OK ||
            (rc = get_string(r, err, o, "reason", inc->reason, sizeof inc->reason)) != RW_OK ||
            (rc = get_string(r, err, o, "phase", phase, sizeof phase)) != RW_OK ||
            (rc = get_bool(r, err, o, "ours", &inc->ours)) != RW_OK ||
            (rc = get_i64(r, err, o, "detected_at_ms", &inc->detected_at_ms)) != RW_OK ||
            (rc = get_i64(r, err, o, "published_at_ms", &inc->published_at_ms)) != RW_OK ||
            (rc = get_i64(r, err, o, "acked_at_ms", &inc->acked_at_ms)) != RW_OK ||
            (rc = get_bool(r, err, o, "not_acked_reported", &inc->not_acked_reported)) != RW_OK ||
            (rc = get_bool(r, err, o, "not_effective_reported", &inc->not_effective_reported)) !=
                    RW_OK ||
            (rc = get_bool(r, err, o, "has_baseline", &inc->has_baseline)) != RW_OK ||
            (rc = get_u64(r, err, o, "baseline_op_id", &inc->baseline_op_id)) != RW_OK)
                return rc;
        if (inc->invariant[0] == '\0' || inc->id[0] == '\0')
                return bad(r, err, "invariant and id", "must not be empty");
        /* origin and key_id came later: a file without them is of incidents from cycles */
        v = cJSON_GetObjectItemCaseSensitive(o, "origin");
        if (v != NULL) {
                if (!cJSON_IsString(v) || v->valuestring == NULL ||
                    (strcmp(v->valuestring, "cycle") != 0 && strcmp(v->valuestring, "stream") != 0))
                        return bad(r, err, "origin", "is not cycle or stream");
                inc->from_stream = strcmp(v->valuestring, "stream") == 0;
        }
        if (cJSON_GetObjectItemCaseSensitive(o, "key_id") != NULL &&
            (rc = get_string(r, err, o, "key_id", inc->key_id, sizeof inc->key_id)) != RW_OK)
                return rc;
        if (!phase_from_name(phase, &inc->phase))
                return bad(r, err, "phase", "is not pending, published or resumed");
        nonces = cJSON_GetObjectItemCaseSensitive(o, "baseline_nonces");
        if (!cJSON_IsArray(nonces) || cJSON_GetArraySize(nonces) != SNAP_NCHAINS)
                return bad(r, err, "baseline_nonces", "is not an array of one number per chain");
        cJSON_ArrayForEach(n, nonces)
        {
                if (!cJSON_IsNumber(n) || n->valuedouble < 0 || n->valuedouble > JSON_INT_MAX)
                        return bad(r, err, "baseline_nonces", "holds something not a nonce");
                inc->baseline_nonces[i++] = (uint64_t)n->valuedouble;
        }
        return RW_OK;
}

int halt_state_load(const char *state_dir, struct halt_state *out, struct rwerr *err)
{
        char path[PATH_MAX];
        char *text = NULL;
        size_t len = 0;
        cJSON *root = NULL;
        const cJSON *v, *list, *item;
        struct reader r = {path, 0};
        int rc;

        memset(out, 0, sizeof *out);
        if (snprintf(path, sizeof path, "%s/%s", state_dir, HALT_STATE_FILE) >= (int)sizeof path)
                return rwerr_set(err, RW_ERR_RANGE, "the state directory path %s is too long",
                                 state_dir);
        rc = fileio_read(path, HALT_STATE_FILE_MAX, &text, &len, err);
        if (rc == RW_ERR_IO && errno == ENOENT)
                return RW_OK; /* a first start */
        if (rc != RW_OK)
                return rwerr_prefix(err, rc, "halt state");
        /* fileio_read NUL-terminates: a NUL inside is damage, and so is text after the object */
        root = strlen(text) == len ? cJSON_ParseWithOpts(text, NULL, 1) : NULL;
        free(text);
        if (root == NULL || !cJSON_IsObject(root)) {
                rc = rwerr_set(err, RW_ERR_INVALID,
                               "halt state %s is not a JSON object (damaged?): move it aside "
                               "only after checking the control stream for open halts",
                               path);
                goto out;
        }
        v = cJSON_GetObjectItemCaseSensitive(root, "v");
        if (!cJSON_IsNumber(v) || v->valueint != HALT_STATE_VERSION) {
                rc = rwerr_set(err, RW_ERR_INVALID, "halt state %s: version is not %d", path,
                               HALT_STATE_VERSION);
                goto out;
        }
        v = cJSON_GetObjectItemCaseSensitive(root, "stream_cursor"); /* optional: added later */
        if (v != NULL &&
            (!cJSON_IsString(v) || strlen(v->valuestring) >= sizeof out->stream_cursor)) {
                rc = rwerr_set(err, RW_ERR_INVALID,
                               "halt state %s: stream_cursor is not an entry id", path);
                goto out;
        }
        if (v != NULL)
                (void)snprintf(out->stream_cursor, sizeof out->stream_cursor, "%s", v->valuestring);
        list = cJSON_GetObjectItemCaseSensitive(root, "incidents");
        if (!cJSON_IsArray(list) || cJSON_GetArraySize(list) > HALT_STATE_MAX) {
                rc = rwerr_set(err, RW_ERR_INVALID,
                               "halt state %s: incidents is not an array of at most %d", path,
                               HALT_STATE_MAX);
                goto out;
        }
        cJSON_ArrayForEach(item, list)
        {
                r.index = out->n;
                if ((rc = read_incident(&r, err, item, &out->incidents[out->n])) != RW_OK)
                        goto out;
                out->n++;
        }
        rc = RW_OK;
out:
        cJSON_Delete(root);
        if (rc != RW_OK)
                memset(out, 0, sizeof *out);
        return rc;
}

int halt_state_save(const char *state_dir, const struct halt_state *s, struct rwerr *err)
{
        cJSON *root = cJSON_CreateObject(), *list;
        char *text = NULL;
        size_t i;
        int rc;

        list = root != NULL && cJSON_AddNumberToObject(root, "v", HALT_STATE_VERSION) != NULL &&
                               cJSON_AddStringToObject(root, "stream_cursor", s->stream_cursor) !=
                                       NULL
                       ? cJSON_AddArrayToObject(root, "incidents")
                       : NULL;
        for (i = 0; list != NULL && i < s->n; i++) {
                cJSON *o = halt_state_incident_json(&s->incidents[i]);

                if (o == NULL || !cJSON_AddItemToArray(list, o)) {
                        cJSON_Delete(o);
                        list = NULL;
                }
        }
        if (list != NULL)
                text = cJSON_Print(root);
        cJSON_Delete(root);
        if (text == NULL)
                return rwerr_set(err, RW_ERR_NOMEM, "out of memory writing the halt state");
        rc = fileio_replace(state_dir, HALT_STATE_FILE, text, strlen(text), 0600, 1, err);
        free(text);
        return rc != RW_OK ? rwerr_prefix(err, rc, "halt state") : RW_OK;
}
