#include "heartbeat.h"

#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "control_msg.h"
#include "json_strict.h"

#define HEARTBEAT_VERSION 1
#define HEARTBEAT_TYPE "HEARTBEAT"

/*
 * KEYS[1] the heartbeat hash; ARGV[1] msg, ARGV[2] sig, ARGV[3] ttl in ms.
 * DEL first, so the hash never keeps a field of an older writer.
 */
static const char publish_script[] = "redis.call('DEL', KEYS[1])\n"
                                     "redis.call('HSET', KEYS[1], 'msg', ARGV[1], 'sig', ARGV[2])\n"
                                     "redis.call('PEXPIRE', KEYS[1], ARGV[3])\n"
                                     "return 1\n";

static int valid_key_id(const char *s)
{
        size_t i;

        for (i = 0; i < SIGNING_KEY_ID_LEN; i++) {
                if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
                        return 0;
        }
        return s[SIGNING_KEY_ID_LEN] == '\0';
}

int heartbeat_build(const char *watchdog_id, int64_t now_ms, int64_t ttl_ms, const char *key_id,
                    char *out, size_t cap, size_t *len, struct rwerr *err)
{
        char when[CONTROL_ISSUED_AT_SIZE], issued[24], ttl[24];
        cJSON *root = NULL;
        char *text = NULL;
        size_t n;
        int rc, ok;

        *len = 0;
        if (cap > 0)
                out[0] = '\0';
        if (watchdog_id == NULL || watchdog_id[0] == '\0')
                return rwerr_set(err, RW_ERR_INVALID, "heartbeat: watchdog_id is missing or empty");
        if (strlen(watchdog_id) > HEARTBEAT_WATCHDOG_ID_MAX)
                return rwerr_set(err, RW_ERR_RANGE, "heartbeat: watchdog_id is over %d bytes",
                                 HEARTBEAT_WATCHDOG_ID_MAX);
        if (key_id == NULL || !valid_key_id(key_id))
                return rwerr_set(err, RW_ERR_INVALID,
                                 "heartbeat: key_id must be %d lowercase hex digits",
                                 SIGNING_KEY_ID_LEN);
        if (ttl_ms < 1 || ttl_ms > HEARTBEAT_TTL_MAX_MS)
                return rwerr_set(err, RW_ERR_RANGE, "heartbeat: ttl %lld ms is not in 1..%lld",
                                 (long long)ttl_ms, (long long)HEARTBEAT_TTL_MAX_MS);
        if ((rc = control_format_time(now_ms, when, err)) != RW_OK)
                return rwerr_prefix(err, rc, "heartbeat");
        /* Integers as raw text: cJSON would print them through a double. */
        (void)snprintf(issued, sizeof issued, "%lld", (long long)now_ms);
        (void)snprintf(ttl, sizeof ttl, "%lld", (long long)ttl_ms);
        root = cJSON_CreateObject();
        ok = root != NULL && cJSON_AddNumberToObject(root, "v", HEARTBEAT_VERSION) != NULL &&
             cJSON_AddStringToObject(root, "type", HEARTBEAT_TYPE) != NULL &&
             cJSON_AddStringToObject(root, "watchdog_id", watchdog_id) != NULL &&
             cJSON_AddStringToObject(root, "issued_at", when) != NULL &&
             cJSON_AddRawToObject(root, "issued_at_ms", issued) != NULL &&
             cJSON_AddRawToObject(root, "ttl_ms", ttl) != NULL &&
             cJSON_AddStringToObject(root, "key_id", key_id) != NULL;
        if (ok)
                text = cJSON_PrintUnformatted(root);
        cJSON_Delete(root);
        if (text == NULL)
                return rwerr_set(err, RW_ERR_NOMEM, "heartbeat: out of memory");
        n = strlen(text);
        if (n > HEARTBEAT_MSG_MAX || n >= cap) {
                rc = rwerr_set(err, RW_ERR_RANGE,
                               "heartbeat: the msg is %zu bytes, the limit is %d and the "
                               "buffer holds %zu",
                               n, HEARTBEAT_MSG_MAX, cap > 0 ? cap - 1 : 0);
        } else {
                memcpy(out, text, n + 1);
                *len = n;
                rc = RW_OK;
        }
        cJSON_free(text);
        return rc;
}

/* An integer member in [min, max], or 0 (with err) when it is missing or not one. */
static int get_int(const cJSON *root, const char *name, int64_t min, int64_t max, int64_t *out,
                   struct rwerr *err)
{
        const cJSON *it = cJSON_GetObjectItemCaseSensitive(root, name);

        *out = 0;
        if (it == NULL) {
                (void)rwerr_set(err, RW_ERR_INVALID, "heartbeat %s: missing", name);
                return 0;
        }
        if (!cJSON_IsNumber(it) || it->valuedouble < (double)min || it->valuedouble > (double)max ||
            (double)(int64_t)it->valuedouble != it->valuedouble) {
                (void)rwerr_set(err, RW_ERR_INVALID,
                                "heartbeat %s: must be an integer in %lld..%lld", name,
                                (long long)min, (long long)max);
                return 0;
        }
        *out = (int64_t)it->valuedouble;
        return 1;
}

/* A non-empty string member, or NULL (with err). */
static const char *get_string(const cJSON *root, const char *name, struct rwerr *err)
{
        const cJSON *it = cJSON_GetObjectItemCaseSensitive(root, name);

        if (!cJSON_IsString(it) || it->valuestring == NULL || it->valuestring[0] == '\0') {
                (void)rwerr_set(err, RW_ERR_INVALID,
                                "heartbeat %s: missing or not a non-empty string", name);
                return NULL;
        }
        return it->valuestring;
}

/* The fields a heartbeat has: exactly these (PROTOCOL.md section 9), in any order. */
static const char *const heartbeat_fields[] = {
        "v", "type", "watchdog_id", "issued_at", "issued_at_ms", "ttl_ms", "key_id"};

#define NHEARTBEAT_FIELDS (sizeof heartbeat_fields / sizeof heartbeat_fields[0])

/* 1 when root has a member that is not a heartbeat field (the strict check refused duplicates). */
static int has_extra_field(const cJSON *root, struct rwerr *err)
{
        const cJSON *a;
        size_t i, n = 0;

        for (a = root->child; a != NULL; a = a->next, n++) {
                for (i = 0; i < NHEARTBEAT_FIELDS; i++) {
                        if (strcmp(a->string, heartbeat_fields[i]) == 0)
                                break;
                }
                if (i == NHEARTBEAT_FIELDS) {
                        (void)rwerr_set(err, RW_ERR_INVALID,
                                        "heartbeat msg: a field that is not a heartbeat's");
                        return 1;
                }
        }
        if (n != NHEARTBEAT_FIELDS) {
                (void)rwerr_set(err, RW_ERR_INVALID, "heartbeat msg: %zu fields, expected %zu", n,
                                NHEARTBEAT_FIELDS);
                return 1;
        }
        return 0;
}

/* Parses a verified msg; fills the times and checks everything but freshness. */
static int parse(const char *msg, size_t len, const struct verify_key *key, int64_t *issued_ms,
                 int64_t *ttl_ms, struct rwerr *err)
{
        char when[CONTROL_ISSUED_AT_SIZE], why[RWERR_MSG_MAX] = "";
        const char *end = NULL, *type, *issued_at, *key_id;
        int64_t v = 0;
        cJSON *root;
        int rc = RW_ERR_INVALID;

        root = json_strict_check(msg, len, why, sizeof why) == JSON_STRICT_OK
                       ? cJSON_ParseWithLengthOpts(msg, len, &end, 0)
                       : NULL;
        if (root == NULL || end != msg + len || !cJSON_IsObject(root)) {
                (void)rwerr_set(err, RW_ERR_INVALID,
                                "heartbeat msg: not one strict JSON object%s%s",
                                why[0] != '\0' ? ": " : "", why);
                goto out;
        }
        if (has_extra_field(root, err) || !get_int(root, "v", 0, INT32_MAX, &v, err))
                goto out;
        if (v != HEARTBEAT_VERSION) {
                (void)rwerr_set(err, RW_ERR_INVALID, "heartbeat v: %lld, expected %d", (long long)v,
                                HEARTBEAT_VERSION);
                goto out;
        }
        if ((type = get_string(root, "type", err)) == NULL)
                goto out;
        if (strcmp(type, HEARTBEAT_TYPE) != 0) {
                (void)rwerr_set(err, RW_ERR_INVALID, "heartbeat type: \"%.32s\", expected \"%s\"",
                                type, HEARTBEAT_TYPE);
                goto out;
        }
        if (get_string(root, "watchdog_id", err) == NULL ||
            (issued_at = get_string(root, "issued_at", err)) == NULL ||
            (key_id = get_string(root, "key_id", err)) == NULL ||
            !get_int(root, "issued_at_ms", 0, (int64_t)CONTROL_HEIGHT_MAX, issued_ms, err) ||
            !get_int(root, "ttl_ms", 1, HEARTBEAT_TTL_MAX_MS, ttl_ms, err))
                goto out;
        if (control_format_time(*issued_ms, when, err) != RW_OK || strcmp(when, issued_at) != 0) {
                (void)rwerr_set(err, RW_ERR_INVALID,
                                "heartbeat issued_at: \"%.32s\" is not issued_at_ms %lld",
                                issued_at, (long long)*issued_ms);
                goto out;
        }
        if (strcmp(key_id, key->key_id) != 0) {
                rc = rwerr_set(err, RW_ERR_REFUSED,
                               "heartbeat key_id: the msg names key %.16s but key %s signed it",
                               key_id, key->key_id);
                goto out;
        }
        rc = RW_OK;
out:
        cJSON_Delete(root);
        return rc;
}

int heartbeat_check(const struct verify_key *keys, size_t nkeys, const char *msg, size_t len,
                    const char *sig_b64, int64_t now_ms, int64_t *issued_ms, int64_t *ttl_ms,
                    struct rwerr *err)
{
        int64_t issued = 0, ttl = 0;
        int idx, rc;

        *issued_ms = 0;
        *ttl_ms = 0;
        if (len > HEARTBEAT_MSG_MAX)
                return rwerr_set(err, RW_ERR_RANGE, "heartbeat msg: %zu bytes, at most %d", len,
                                 HEARTBEAT_MSG_MAX);
        idx = control_msg_verify(keys, nkeys, msg, len, sig_b64, err);
        if (idx < 0)
                return rwerr_prefix(err, idx, "heartbeat");
        if ((rc = parse(msg, len, &keys[idx], &issued, &ttl, err)) != RW_OK)
                return rc;
        if (now_ms - issued > ttl + HEARTBEAT_CLOCK_SLACK_MS)
                return rwerr_set(err, RW_ERR_TIMEOUT,
                                 "heartbeat is stale: issued %lld ms ago, valid for %lld ms "
                                 "(+%d ms clock slack)",
                                 (long long)(now_ms - issued), (long long)ttl,
                                 HEARTBEAT_CLOCK_SLACK_MS);
        if (issued - now_ms > HEARTBEAT_CLOCK_SLACK_MS)
                return rwerr_set(err, RW_ERR_RANGE,
                                 "heartbeat is issued %lld ms in the future (clock slack is %d ms)",
                                 (long long)(issued - now_ms), HEARTBEAT_CLOCK_SLACK_MS);
        *issued_ms = issued;
        *ttl_ms = ttl;
        return idx;
}

int heartbeat_publish(redisContext *ctx, const char *key, const char *msg, size_t len,
                      const char *sig, int64_t ttl_ms, struct rwerr *err)
{
        redisReply *r;
        int rc = RW_OK;

        if (ttl_ms < 1 || ttl_ms > HEARTBEAT_TTL_MAX_MS)
                return rwerr_set(err, RW_ERR_RANGE, "heartbeat %s: ttl %lld ms is not in 1..%lld",
                                 key, (long long)ttl_ms, (long long)HEARTBEAT_TTL_MAX_MS);
        r = redisCommand(ctx, "EVAL %s 1 %s %b %s %lld", publish_script, key, msg, len, sig,
                         (long long)ttl_ms);
        if (r == NULL)
                return rwerr_set(err, RW_ERR_IO, "setting heartbeat %s: %s", key,
                                 ctx->errstr[0] ? ctx->errstr : "no reply from Redis");
        if (r->type == REDIS_REPLY_ERROR)
                rc = rwerr_set(err, RW_ERR_REMOTE, "setting heartbeat %s: Redis says: %s", key,
                               r->str);
        else if (r->type != REDIS_REPLY_INTEGER)
                rc = rwerr_set(err, RW_ERR_PROTOCOL,
                               "setting heartbeat %s: unexpected reply type %d", key, r->type);
        freeReplyObject(r);
        return rc;
}
