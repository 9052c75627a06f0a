#include "control_msg.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <sodium.h>

#include "audit_sink.h"
#include "json_strict.h"
#include "rwclock.h"

#define B64_VARIANT sodium_base64_VARIANT_ORIGINAL
#define SIG_BYTES crypto_sign_BYTES
#define ID_HASH_BYTES 16
#define HEIGHTS_MAX 64 /* chains in one heights object */

_Static_assert(CONTROL_SIG_B64_SIZE == sodium_base64_ENCODED_LEN(SIG_BYTES, B64_VARIANT),
               "signature text size");

_Static_assert(CONTROL_ISSUED_AT_SIZE == RWCLOCK_UTC_SIZE, "issued_at text size");

static const char hexdigits[] = "0123456789abcdef";

static void hex_lower(const unsigned char *in, size_t n, char *out)
{
        size_t i;

        for (i = 0; i < n; i++) {
                out[2 * i] = hexdigits[in[i] >> 4];
                out[2 * i + 1] = hexdigits[in[i] & 0xf];
        }
        out[2 * n] = '\0';
}

static int is_lower_hex(const char *s, size_t n)
{
        size_t i;

        for (i = 0; i < n; i++) {
                if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
                        return 0;
        }
        return s[n] == '\0';
}

const char *control_type_name(enum control_type type)
{
        switch (type) {
        case CONTROL_HALT:
                return "HALT";
        case CONTROL_RESUME:
                return "RESUME";
        }
        return "?";
}

void control_halt_id(const char *invariant, const char *subject, uint64_t first_height,
                     char out[CONTROL_ID_SIZE])
{
        crypto_generichash_state st;
        unsigned char h[ID_HASH_BYTES];
        char height[24], hex[2 * ID_HASH_BYTES + 1];
        int n;

        n = snprintf(height, sizeof height, "%llu", (unsigned long long)first_height);
        (void)crypto_generichash_init(&st, NULL, 0, sizeof h);
        (void)crypto_generichash_update(&st, (const unsigned char *)invariant,
                                        strlen(invariant) + 1);
        (void)crypto_generichash_update(&st, (const unsigned char *)subject, strlen(subject) + 1);
        (void)crypto_generichash_update(&st, (const unsigned char *)height, (size_t)n);
        (void)crypto_generichash_final(&st, h, sizeof h);
        hex_lower(h, sizeof h, hex);
        (void)snprintf(out, CONTROL_ID_SIZE, "halt-%s", hex);
}

/* prefix + 32 hex digits of 16 random bytes. */
static void random_id(const char *prefix, char out[CONTROL_ID_SIZE])
{
        unsigned char r[ID_HASH_BYTES];
        char hex[2 * ID_HASH_BYTES + 1];

        if (sodium_init() < 0)
                abort(); /* no random source at all: never issue a guessable id */
        randombytes_buf(r, sizeof r);
        hex_lower(r, sizeof r, hex);
        (void)snprintf(out, CONTROL_ID_SIZE, "%s%s", prefix, hex);
}

void control_new_halt_id(char out[CONTROL_ID_SIZE])
{
        random_id("halt-", out);
}

void control_resume_id(char out[CONTROL_ID_SIZE])
{
        random_id("resume-", out);
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
        int64_t era;
        unsigned yoe, doy, doe;

        y -= m <= 2;
        era = (y >= 0 ? y : y - 399) / 400;
        yoe = (unsigned)(y - era * 400);
        doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
        doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146097 + (int64_t)doe - 719468;
}

int control_format_time(int64_t unix_ms, char out[CONTROL_ISSUED_AT_SIZE], struct rwerr *err)
{
        int rc = rwclock_format_utc(unix_ms, out, err);

        return rc == RW_OK ? RW_OK : rwerr_prefix(err, rc, "issued_at");
}

static int digits(const char *s, int n, unsigned *v)
{
        int i;

        *v = 0;
        for (i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return 0;
                *v = *v * 10 + (unsigned)(s[i] - '0');
        }
        return 1;
}

/* Strict "YYYY-MM-DDTHH:MM:SS.mmmZ" into unix ms. */
static int parse_time(const char *s, int64_t *ms)
{
        static const unsigned mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        unsigned y, mo, d, h, mi, sec, milli;
        int leap;

        if (strlen(s) != CONTROL_ISSUED_AT_SIZE - 1 || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
            s[13] != ':' || s[16] != ':' || s[19] != '.' || s[23] != 'Z')
                return 0;
        if (!digits(s, 4, &y) || !digits(s + 5, 2, &mo) || !digits(s + 8, 2, &d) ||
            !digits(s + 11, 2, &h) || !digits(s + 14, 2, &mi) || !digits(s + 17, 2, &sec) ||
            !digits(s + 20, 3, &milli))
                return 0;
        if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 ||
            sec > 59)
                return 0;
        leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        if (mo == 2 && d == 29 && !leap)
                return 0;
        *ms = ((days_from_civil(y, mo, d) * 86400 + (int64_t)h * 3600 + (int64_t)mi * 60 + sec) *
               1000) +
              milli;
        return 1;
}

static int valid_id(enum control_type type, const char *id)
{
        const char *prefix = type == CONTROL_HALT ? "halt-" : "resume-";
        size_t pl = strlen(prefix);

        return strncmp(id, prefix, pl) == 0 && strlen(id) == pl + 2 * (size_t)ID_HASH_BYTES &&
               is_lower_hex(id + pl, 2 * (size_t)ID_HASH_BYTES);
}

static int valid_key_id(const char *key_id)
{
        return strlen(key_id) == SIGNING_KEY_ID_LEN && is_lower_hex(key_id, SIGNING_KEY_ID_LEN);
}

static const char *id_rule(enum control_type type)
{
        return type == CONTROL_HALT ? "'halt-' and 32 lowercase hex digits"
                                    : "'resume-' and 32 lowercase hex digits";
}

/* ---- building ---- */

static int check_heights(const char *field, const struct control_height *h, size_t n,
                         struct rwerr *err)
{
        size_t i, j;

        if (n > HEIGHTS_MAX)
                return rwerr_set(err, RW_ERR_RANGE, "%s: %zu chains, at most %d", field, n,
                                 HEIGHTS_MAX);
        for (i = 0; i < n; i++) {
                if (h[i].chain == NULL || h[i].chain[0] == '\0')
                        return rwerr_set(err, RW_ERR_INVALID, "%s: entry %zu has no chain name",
                                         field, i);
                if (h[i].block > CONTROL_HEIGHT_MAX)
                        return rwerr_set(err, RW_ERR_RANGE,
                                         "%s.%s: block %llu is above 2^53-1, which JSON "
                                         "readers cannot hold exactly",
                                         field, h[i].chain, (unsigned long long)h[i].block);
                for (j = 0; j < i; j++) {
                        if (strcmp(h[i].chain, h[j].chain) == 0)
                                return rwerr_set(err, RW_ERR_INVALID,
                                                 "%s: chain '%s' is given twice", field,
                                                 h[i].chain);
                }
        }
        return RW_OK;
}

static int check_lifts(const char *const *lifts, size_t n, struct rwerr *err)
{
        size_t i, j;

        if (n == 0 || n > CONTROL_LIFTS_MAX)
                return rwerr_set(err, RW_ERR_INVALID,
                                 "lifts: a RESUME lifts 1 to %d HALT ids, not %zu",
                                 CONTROL_LIFTS_MAX, n);
        for (i = 0; i < n; i++) {
                if (lifts[i] == NULL || !valid_id(CONTROL_HALT, lifts[i]))
                        return rwerr_set(err, RW_ERR_INVALID, "lifts[%zu]: a HALT id is %s", i,
                                         id_rule(CONTROL_HALT));
                for (j = 0; j < i; j++) {
                        if (strcmp(lifts[i], lifts[j]) == 0)
                                return rwerr_set(err, RW_ERR_INVALID, "lifts: %s is given twice",
                                                 lifts[i]);
                }
        }
        return RW_OK;
}

static int check_fields(const struct control_msg_fields *f, struct rwerr *err)
{
        const struct {
                const char *name;
                const char *value;
        } strs[] = {
                {"invariant", f->invariant},
                {"severity", f->severity},
                {"reason", f->reason},
                {"watchdog_id", f->watchdog_id},
                {"correlation_id", f->correlation_id},
        };
        size_t i;
        int rc;

        if (f->type != CONTROL_HALT && f->type != CONTROL_RESUME)
                return rwerr_set(err, RW_ERR_INVALID, "type: must be HALT or RESUME");
        if (f->id == NULL || !valid_id(f->type, f->id))
                return rwerr_set(err, RW_ERR_INVALID, "id: a %s id is %s",
                                 control_type_name(f->type), id_rule(f->type));
        for (i = 0; i < sizeof strs / sizeof strs[0]; i++) {
                if (strs[i].value == NULL || strs[i].value[0] == '\0')
                        return rwerr_set(err, RW_ERR_INVALID, "%s: missing or empty", strs[i].name);
        }
        if (f->key_id == NULL || !valid_key_id(f->key_id))
                return rwerr_set(err, RW_ERR_INVALID, "key_id: must be %d lowercase hex digits",
                                 SIGNING_KEY_ID_LEN);
        if (f->evidence != NULL && !cJSON_IsObject(f->evidence))
                return rwerr_set(err, RW_ERR_INVALID, "evidence: must be a JSON object");
        if ((rc = check_heights("heights", f->heights, f->nheights, err)) != RW_OK)
                return rc;
        if (f->type == CONTROL_RESUME) {
                if ((rc = check_lifts(f->lifts, f->nlifts, err)) != RW_OK)
                        return rc;
                if (f->nresume_from == 0)
                        return rwerr_set(err, RW_ERR_INVALID,
                                         "resume_from: a RESUME needs at least one chain height");
                return check_heights("resume_from", f->resume_from, f->nresume_from, err);
        }
        if (f->nresume_from != 0 || f->nlifts != 0)
                return rwerr_set(err, RW_ERR_INVALID,
                                 "resume_from, lifts: only a RESUME carries them");
        return RW_OK;
}

/*
 * Block numbers are written as raw decimal text: cJSON prints a double with
 * 15 significant digits when that reads back "close enough", which would
 * change a block number above 10^15.
 */
static cJSON *heights_object(const struct control_height *h, size_t n)
{
        cJSON *o = cJSON_CreateObject();
        char num[24];
        size_t i;

        for (i = 0; o != NULL && i < n; i++) {
                (void)snprintf(num, sizeof num, "%llu", (unsigned long long)h[i].block);
                if (cJSON_AddRawToObject(o, h[i].chain, num) == NULL) {
                        cJSON_Delete(o);
                        o = NULL;
                }
        }
        return o;
}

static int add_item(cJSON *root, const char *name, cJSON *item)
{
        if (item == NULL)
                return 0;
        if (!cJSON_AddItemToObject(root, name, item)) {
                cJSON_Delete(item);
                return 0;
        }
        return 1;
}

/* {"size":N,"root":"…","checkpoint":"<signed note>"}: the audit log's state at the HALT. */
static cJSON *audit_object(const struct audit_ref *a)
{
        cJSON *o = cJSON_CreateObject();

        if (o == NULL || cJSON_AddNumberToObject(o, "size", (double)a->size) == NULL ||
            cJSON_AddStringToObject(o, "root", a->root) == NULL ||
            cJSON_AddStringToObject(o, "checkpoint", a->note) == NULL) {
                cJSON_Delete(o);
                return NULL;
        }
        return o;
}

int control_msg_build(const struct control_msg_fields *f, char **out, size_t *outlen,
                      struct rwerr *err)
{
        char when[CONTROL_ISSUED_AT_SIZE];
        struct control_msg check;
        char *text = NULL;
        cJSON *root = NULL;
        size_t len;
        int rc, ok;

        *out = NULL;
        *outlen = 0;
        memset(&check, 0, sizeof check);
        if ((rc = check_fields(f, err)) != RW_OK)
                return rc;
        if ((rc = control_format_time(f->issued_at_ms, when, err)) != RW_OK)
                return rc;
        root = cJSON_CreateObject();
        ok = root != NULL && cJSON_AddNumberToObject(root, "v", CONTROL_MSG_VERSION) != NULL &&
             cJSON_AddStringToObject(root, "type", control_type_name(f->type)) != NULL &&
             cJSON_AddStringToObject(root, "id", f->id) != NULL &&
             cJSON_AddStringToObject(root, "invariant", f->invariant) != NULL &&
             cJSON_AddStringToObject(root, "severity", f->severity) != NULL &&
             cJSON_AddStringToObject(root, "reason", f->reason) != NULL &&
             add_item(root, "evidence",
                      f->evidence != NULL ? cJSON_Duplicate(f->evidence, 1)
                                          : cJSON_CreateObject()) &&
             add_item(root, "heights", heights_object(f->heights, f->nheights)) &&
             (f->type != CONTROL_RESUME ||
              (add_item(root, "lifts",
                        cJSON_CreateStringArray((const char *const *)f->lifts, (int)f->nlifts)) &&
               add_item(root, "resume_from", heights_object(f->resume_from, f->nresume_from)))) &&
             cJSON_AddStringToObject(root, "issued_at", when) != NULL &&
             cJSON_AddStringToObject(root, "watchdog_id", f->watchdog_id) != NULL &&
             cJSON_AddStringToObject(root, "correlation_id", f->correlation_id) != NULL &&
             cJSON_AddStringToObject(root, "key_id", f->key_id) != NULL &&
             (f->audit == NULL || add_item(root, "audit", audit_object(f->audit)));
        if (ok)
                text = cJSON_PrintUnformatted(root);
        cJSON_Delete(root);
        if (text == NULL)
                return rwerr_set(err, RW_ERR_NOMEM, "out of memory building a %s message",
                                 control_type_name(f->type));
        len = strlen(text);
        *out = malloc(len + 1);
        if (*out == NULL) {
                cJSON_free(text);
                return rwerr_set(err, RW_ERR_NOMEM, "out of memory building a %s message",
                                 control_type_name(f->type));
        }
        memcpy(*out, text, len + 1);
        cJSON_free(text);
        /* Never ship what a consumer would refuse. */
        if (len > CONTROL_MSG_MAX)
                rc = rwerr_set(err, RW_ERR_RANGE, "the %s message is %zu bytes, at most %d",
                               control_type_name(f->type), len, CONTROL_MSG_MAX);
        else if ((rc = control_msg_parse(*out, len, &check, err)) != RW_OK)
                (void)rwerr_prefix(err, rc, "the built message does not parse back");
        control_msg_free(&check);
        if (rc != RW_OK) {
                free(*out);
                *out = NULL;
                return rc;
        }
        *outlen = len;
        return RW_OK;
}

/* ---- signing and verifying ---- */

int control_msg_sign(const struct signing_key *key, const char *msg, size_t len,
                     char sig_out[CONTROL_SIG_B64_SIZE], struct rwerr *err)
{
        unsigned char sig[SIG_BYTES];

        sig_out[0] = '\0';
        if (sodium_init() < 0)
                return rwerr_set(err, RW_ERR_IO, "libsodium failed to initialise");
        if (crypto_sign_detached(sig, NULL, (const unsigned char *)msg, len, key->sk) != 0)
                return rwerr_set(err, RW_ERR_IO, "signing with key %s failed", key->pub.key_id);
        (void)sodium_bin2base64(sig_out, CONTROL_SIG_B64_SIZE, sig, sizeof sig, B64_VARIANT);
        return RW_OK;
}

int control_msg_verify(const struct verify_key *keys, size_t nkeys, const char *msg, size_t len,
                       const char *sig_b64, struct rwerr *err)
{
        return verify_key_find(keys, nkeys, msg, len, sig_b64, err);
}

/* ---- parsing ---- */

const char *control_reject_name(enum control_reject r)
{
        switch (r) {
        case CONTROL_ACCEPTED:
                return "accepted";
        case CONTROL_BAD_ENTRY:
                return "bad_entry";
        case CONTROL_TOO_LONG:
                return "too_long";
        case CONTROL_BAD_SIGNATURE:
                return "bad_signature";
        case CONTROL_NOT_UTF8:
                return "not_utf8";
        case CONTROL_BAD_JSON:
                return "bad_json";
        case CONTROL_DUPLICATE_KEY:
                return "duplicate_key";
        case CONTROL_UNKNOWN_VERSION:
                return "unknown_version";
        case CONTROL_MISSING_FIELD:
                return "missing_field";
        case CONTROL_BAD_FIELD:
                return "bad_field";
        case CONTROL_KEY_ID_MISMATCH:
                return "key_id_mismatch";
        case CONTROL_RESUME_BY_WATCHDOG_KEY:
                return "resume_by_watchdog_key";
        case CONTROL_REPLAY:
                return "replay";
        case CONTROL_NO_MEMORY:
                return "no_memory";
        }
        return "unknown";
}

const char *control_role_name(enum control_role role)
{
        switch (role) {
        case CONTROL_ROLE_WATCHDOG:
                return "watchdog";
        case CONTROL_ROLE_OPERATOR:
                return "operator";
        case CONTROL_ROLE_NONE:
                break;
        }
        return "none";
}

/*
 * The fields every message needs, in the order of PROTOCOL.md section 4
 * (lifts and resume_from, a RESUME's, come after heights).
 */
static const char *const common_fields[] = {
        "v",        "type",    "id",        "invariant",   "severity",       "reason",
        "evidence", "heights", "issued_at", "watchdog_id", "correlation_id", "key_id",
};

#define NCOMMON (sizeof common_fields / sizeof common_fields[0])

/* A field error: the code into *why, the text into err. */
static int field_error(enum control_reject *why, enum control_reject code, struct rwerr *err,
                       const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int field_error(enum control_reject *why, enum control_reject code, struct rwerr *err,
                       const char *fmt, ...)
{
        char text[RWERR_MSG_MAX];
        va_list ap;

        *why = code;
        va_start(ap, fmt);
        (void)vsnprintf(text, sizeof text, fmt, ap);
        va_end(ap);
        return rwerr_set(err, code == CONTROL_NO_MEMORY ? RW_ERR_NOMEM : RW_ERR_INVALID, "%s",
                         text);
}

/*
 * Step 8: every required field present, in the order of the tables (a
 * RESUME's lifts and resume_from, when type is the string "RESUME", right
 * after heights), so the first one missing is the one PROTOCOL.md names.
 */
static int check_presence(const cJSON *root, enum control_reject *why, struct rwerr *err)
{
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(root, "type");
        int resume = cJSON_IsString(type) && strcmp(type->valuestring, "RESUME") == 0;
        size_t i;

        for (i = 0; i < NCOMMON; i++) {
                if (cJSON_GetObjectItemCaseSensitive(root, common_fields[i]) == NULL)
                        return field_error(why, CONTROL_MISSING_FIELD, err, "%s: missing",
                                           common_fields[i]);
                if (!resume || strcmp(common_fields[i], "heights") != 0)
                        continue;
                if (cJSON_GetObjectItemCaseSensitive(root, "lifts") == NULL)
                        return field_error(why, CONTROL_MISSING_FIELD, err,
                                           "lifts: missing (a RESUME names the HALTs it lifts)");
                if (cJSON_GetObjectItemCaseSensitive(root, "resume_from") == NULL)
                        return field_error(why, CONTROL_MISSING_FIELD, err, "resume_from: missing");
        }
        return RW_OK;
}

static int get_string(const cJSON *root, const char *name, const char **out,
                      enum control_reject *why, struct rwerr *err)
{
        const cJSON *it = cJSON_GetObjectItemCaseSensitive(root, name);

        /* (RW_ERR_INVALID returned here, not through field_error: the analyzer sees *out set) */
        *out = NULL;
        if (!cJSON_IsString(it) || it->valuestring == NULL) {
                (void)field_error(why, CONTROL_BAD_FIELD, err, "%s: must be a string", name);
                return RW_ERR_INVALID;
        }
        if (it->valuestring[0] == '\0') {
                (void)field_error(why, CONTROL_BAD_FIELD, err, "%s: must not be empty", name);
                return RW_ERR_INVALID;
        }
        *out = it->valuestring;
        return RW_OK;
}

static int get_heights(const cJSON *root, const char *name, int required_nonempty,
                       struct control_height **out, size_t *n, enum control_reject *why,
                       struct rwerr *err)
{
        const cJSON *obj = cJSON_GetObjectItemCaseSensitive(root, name), *c;
        size_t count = 0, i;

        *out = NULL;
        *n = 0;
        if (!cJSON_IsObject(obj))
                return field_error(why, CONTROL_BAD_FIELD, err,
                                   "%s: must be an object of chain name to block number", name);
        for (c = obj->child; c != NULL; c = c->next) {
                if (++count > HEIGHTS_MAX)
                        return field_error(why, CONTROL_BAD_FIELD, err, "%s: more than %d chains",
                                           name, HEIGHTS_MAX);
                if (c->string == NULL || c->string[0] == '\0')
                        return field_error(why, CONTROL_BAD_FIELD, err, "%s: a chain name is empty",
                                           name);
                if (!cJSON_IsNumber(c) || c->valuedouble < 0 ||
                    c->valuedouble > (double)CONTROL_HEIGHT_MAX ||
                    (double)(uint64_t)c->valuedouble != c->valuedouble)
                        return field_error(why, CONTROL_BAD_FIELD, err,
                                           "%s: a value is not a block number (an integer from "
                                           "0 to 2^53-1)",
                                           name);
        }
        if (count == 0 && required_nonempty)
                return field_error(why, CONTROL_BAD_FIELD, err, "%s: must name at least one chain",
                                   name);
        if (count == 0)
                return RW_OK;
        if ((*out = calloc(count, sizeof **out)) == NULL)
                return field_error(why, CONTROL_NO_MEMORY, err, "%s: out of memory", name);
        for (c = obj->child, i = 0; c != NULL; c = c->next, i++) {
                (*out)[i].chain = c->string;
                (*out)[i].block = (uint64_t)c->valuedouble;
        }
        *n = count;
        return RW_OK;
}

static int get_lifts(const cJSON *root, struct control_msg *m, enum control_reject *why,
                     struct rwerr *err)
{
        const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "lifts"), *c;
        size_t n, i = 0, j;

        if (!cJSON_IsArray(arr))
                return field_error(why, CONTROL_BAD_FIELD, err,
                                   "lifts: must be an array of HALT ids");
        n = (size_t)cJSON_GetArraySize(arr);
        if (n == 0 || n > CONTROL_LIFTS_MAX)
                return field_error(why, CONTROL_BAD_FIELD, err,
                                   "lifts: a RESUME lifts 1 to %d HALT ids, not %zu",
                                   CONTROL_LIFTS_MAX, n);
        if ((m->lifts = calloc(n, sizeof *m->lifts)) == NULL)
                return field_error(why, CONTROL_NO_MEMORY, err, "lifts: out of memory");
        cJSON_ArrayForEach(c, arr)
        {
                if (!cJSON_IsString(c) || !valid_id(CONTROL_HALT, c->valuestring))
                        return field_error(why, CONTROL_BAD_FIELD, err,
                                           "lifts[%zu]: a HALT id is %s", i, id_rule(CONTROL_HALT));
                for (j = 0; j < i; j++) {
                        if (strcmp(m->lifts[j], c->valuestring) == 0)
                                return field_error(why, CONTROL_BAD_FIELD, err,
                                                   "lifts: %s is given twice", c->valuestring);
                }
                m->lifts[i++] = c->valuestring;
        }
        m->nlifts = n;
        return RW_OK;
}

/* Step 9: each field's rule, in the order of the tables. */
static int check_rules(struct control_msg *m, enum control_reject *why, struct rwerr *err)
{
        const cJSON *root = m->root, *it;
        const char *type = NULL;
        int rc;

        if ((rc = get_string(root, "type", &type, why, err)) != RW_OK)
                return rc;
        if (strcmp(type, "HALT") == 0)
                m->type = CONTROL_HALT;
        else if (strcmp(type, "RESUME") == 0)
                m->type = CONTROL_RESUME;
        else
                return field_error(why, CONTROL_BAD_FIELD, err,
                                   "type: must be \"HALT\" or \"RESUME\"");
        if ((rc = get_string(root, "id", &m->id, why, err)) != RW_OK)
                return rc;
        if (!valid_id(m->type, m->id))
                return field_error(why, CONTROL_BAD_FIELD, err, "id: a %s id is %s", type,
                                   id_rule(m->type));
        if ((rc = get_string(root, "invariant", &m->invariant, why, err)) != RW_OK ||
            (rc = get_string(root, "severity", &m->severity, why, err)) != RW_OK ||
            (rc = get_string(root, "reason", &m->reason, why, err)) != RW_OK)
                return rc;
        it = cJSON_GetObjectItemCaseSensitive(root, "evidence");
        if (!cJSON_IsObject(it))
                return field_error(why, CONTROL_BAD_FIELD, err, "evidence: must be an object");
        m->evidence = it;
        if ((rc = get_heights(root, "heights", 0, &m->heights, &m->nheights, why, err)) != RW_OK)
                return rc;
        if (m->type == CONTROL_RESUME) {
                if ((rc = get_lifts(root, m, why, err)) != RW_OK ||
                    (rc = get_heights(root, "resume_from", 1, &m->resume_from, &m->nresume_from,
                                      why, err)) != RW_OK)
                        return rc;
        } else if (cJSON_GetObjectItemCaseSensitive(root, "lifts") != NULL ||
                   cJSON_GetObjectItemCaseSensitive(root, "resume_from") != NULL) {
                return field_error(why, CONTROL_BAD_FIELD, err,
                                   "lifts, resume_from: only a RESUME carries them");
        }
        if ((rc = get_string(root, "issued_at", &m->issued_at, why, err)) != RW_OK)
                return rc;
        if (!parse_time(m->issued_at, &m->issued_at_ms))
                return field_error(why, CONTROL_BAD_FIELD, err,
                                   "issued_at: must be UTC as YYYY-MM-DDTHH:MM:SS.mmmZ "
                                   "(a real date, 1970 or later)");
        if ((rc = get_string(root, "watchdog_id", &m->watchdog_id, why, err)) != RW_OK ||
            (rc = get_string(root, "correlation_id", &m->correlation_id, why, err)) != RW_OK ||
            (rc = get_string(root, "key_id", &m->key_id, why, err)) != RW_OK)
                return rc;
        if (!valid_key_id(m->key_id))
                return field_error(why, CONTROL_BAD_FIELD, err,
                                   "key_id: must be %d lowercase hex digits", SIGNING_KEY_ID_LEN);
        return RW_OK;
}

int control_msg_parse_why(const char *msg, size_t len, struct control_msg *out,
                          enum control_reject *why, struct rwerr *err)
{
        enum control_reject ignored = CONTROL_ACCEPTED;
        char detail[RWERR_MSG_MAX];
        const cJSON *v;
        int rc;

        memset(out, 0, sizeof *out);
        if (why == NULL)
                why = &ignored;
        *why = CONTROL_ACCEPTED;
        if (len > CONTROL_MSG_MAX)
                return field_error(why, CONTROL_TOO_LONG, err, "msg: %zu bytes, at most %d", len,
                                   CONTROL_MSG_MAX);
        switch (json_strict_check(msg, len, detail, sizeof detail)) {
        case JSON_STRICT_OK:
                break;
        case JSON_STRICT_NOT_UTF8:
                return field_error(why, CONTROL_NOT_UTF8, err, "msg: %s", detail);
        case JSON_STRICT_BAD_JSON:
                return field_error(why, CONTROL_BAD_JSON, err, "msg: not strict JSON: %s", detail);
        case JSON_STRICT_DUPLICATE_KEY:
                return field_error(why, CONTROL_DUPLICATE_KEY, err, "msg: %s", detail);
        case JSON_STRICT_NO_MEMORY:
                return field_error(why, CONTROL_NO_MEMORY, err, "msg: out of memory");
        }
        /* json_strict proved it is one object with nothing after it */
        if ((out->root = cJSON_ParseWithLength(msg, len)) == NULL || !cJSON_IsObject(out->root)) {
                control_msg_free(out);
                return field_error(why, CONTROL_NO_MEMORY, err, "msg: out of memory parsing it");
        }
        v = cJSON_GetObjectItemCaseSensitive(out->root, "v");
        if (v != NULL && (!cJSON_IsNumber(v) || v->valuedouble != CONTROL_MSG_VERSION))
                rc = field_error(why, CONTROL_UNKNOWN_VERSION, err,
                                 "v: version %s is not one this reader implements (%d)",
                                 cJSON_IsNumber(v) ? "other than 1" : "that is not a number",
                                 CONTROL_MSG_VERSION);
        else if ((rc = check_presence(out->root, why, err)) == RW_OK)
                rc = check_rules(out, why, err);
        if (rc != RW_OK)
                control_msg_free(out);
        return rc;
}

int control_msg_parse(const char *msg, size_t len, struct control_msg *out, struct rwerr *err)
{
        return control_msg_parse_why(msg, len, out, NULL, err);
}

/* Step 3: the first key of a role that verifies, or -1. */
static int find_signer(const struct verify_key *keys, size_t n, const char *msg, size_t len,
                       const char *sig)
{
        struct rwerr ignored;

        return n > 0 ? verify_key_find(keys, n, msg, len, sig, &ignored) : -1;
}

static enum control_reject judged(struct control_judgement *j, enum control_reject r,
                                  const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static enum control_reject judged(struct control_judgement *j, enum control_reject r,
                                  const char *fmt, ...)
{
        va_list ap;

        j->reject = r;
        va_start(ap, fmt);
        (void)vsnprintf(j->detail, sizeof j->detail, fmt, ap);
        va_end(ap);
        return r;
}

enum control_reject control_msg_judge(const struct control_keys *keys, const char *msg, size_t len,
                                      const char *sig, size_t sig_len, struct control_msg *out,
                                      struct control_judgement *j)
{
        char sigtext[CONTROL_SIG_B64_SIZE];
        enum control_reject why = CONTROL_ACCEPTED;
        struct rwerr err;
        int w, o;

        memset(out, 0, sizeof *out);
        memset(j, 0, sizeof *j);
        if (len > CONTROL_MSG_MAX)
                return judged(j, CONTROL_TOO_LONG, "msg: %zu bytes, at most %d", len,
                              CONTROL_MSG_MAX);
        if (sig_len != CONTROL_SIG_B64_SIZE - 1 || memchr(sig, '\0', sig_len) != NULL)
                return judged(j, CONTROL_BAD_SIGNATURE,
                              "sig: %zu bytes, expected %d base64 characters", sig_len,
                              CONTROL_SIG_B64_SIZE - 1);
        memcpy(sigtext, sig, sig_len);
        sigtext[sig_len] = '\0';
        w = find_signer(keys->watchdog_keys, keys->nwatchdog, msg, len, sigtext);
        o = find_signer(keys->operator_keys, keys->noperator, msg, len, sigtext);
        if (w < 0 && o < 0) {
                struct verify_key none;
                int rc;

                memset(&none, 0, sizeof none);
                rc = verify_key_find(&none, 1, msg, len, sigtext, &err);
                return judged(j, CONTROL_BAD_SIGNATURE, "%s",
                              rc == RW_ERR_INVALID
                                      ? err.msg
                                      : "no configured watchdog or operator key verifies the "
                                        "signature");
        }
        /* a RESUME counts as the operator's when an operator key verifies it too */
        j->role = w >= 0 ? CONTROL_ROLE_WATCHDOG : CONTROL_ROLE_OPERATOR;
        j->key = w >= 0 ? &keys->watchdog_keys[w] : &keys->operator_keys[o];
        if (control_msg_parse_why(msg, len, out, &why, &err) != RW_OK)
                return judged(j, why, "%s", err.msg);
        if (out->type == CONTROL_RESUME && o >= 0) {
                j->role = CONTROL_ROLE_OPERATOR;
                j->key = &keys->operator_keys[o];
        }
        if (strcmp(out->key_id, j->key->key_id) != 0) {
                judged(j, CONTROL_KEY_ID_MISMATCH,
                       "key_id: the msg names key %s but key %s signed it", out->key_id,
                       j->key->key_id);
                control_msg_free(out);
                return j->reject;
        }
        if (out->type == CONTROL_RESUME && j->role != CONTROL_ROLE_OPERATOR) {
                judged(j, CONTROL_RESUME_BY_WATCHDOG_KEY,
                       "a RESUME signed with watchdog key %s: only an operator key may sign a "
                       "RESUME",
                       j->key->key_id);
                control_msg_free(out);
                return j->reject;
        }
        j->reject = CONTROL_ACCEPTED;
        return CONTROL_ACCEPTED;
}

int control_msg_check(const struct verify_key *keys, size_t nkeys, unsigned allow, const char *msg,
                      size_t len, const char *sig_b64, struct control_msg *out, struct rwerr *err)
{
        struct control_keys k = {NULL, 0, NULL, 0};
        struct control_judgement j;
        int rc;

        /* keys allowed a RESUME are operator keys; the others watchdog keys */
        if (allow & CONTROL_ALLOW_RESUME) {
                k.operator_keys = keys;
                k.noperator = nkeys;
        } else {
                k.watchdog_keys = keys;
                k.nwatchdog = nkeys;
        }
        if (nkeys == 0) {
                memset(out, 0, sizeof *out);
                return rwerr_set(err, RW_ERR_INVALID, "no public key configured to verify with");
        }
        switch (control_msg_judge(&k, msg, len, sig_b64, sig_b64 != NULL ? strlen(sig_b64) : 0, out,
                                  &j)) {
        case CONTROL_ACCEPTED:
                break;
        case CONTROL_TOO_LONG:
                return rwerr_set(err, RW_ERR_RANGE, "%s", j.detail);
        case CONTROL_NO_MEMORY:
                return rwerr_set(err, RW_ERR_NOMEM, "%s", j.detail);
        case CONTROL_BAD_SIGNATURE:
                /* judge says "sig: ..." for a malformed signature, else that none verified */
                return rwerr_set(
                        err, strncmp(j.detail, "sig: ", 5) == 0 ? RW_ERR_INVALID : RW_ERR_REFUSED,
                        "%s", j.detail);
        case CONTROL_KEY_ID_MISMATCH:
        case CONTROL_RESUME_BY_WATCHDOG_KEY:
                return rwerr_set(err, RW_ERR_REFUSED, "%s", j.detail);
        default:
                return rwerr_set(err, RW_ERR_INVALID, "signed msg: %s", j.detail);
        }
        if ((allow & (1u << out->type)) == 0) {
                rc = rwerr_set(err, RW_ERR_REFUSED,
                               "type: a %s signed by key %s, which is not configured to sign "
                               "a %s",
                               control_type_name(out->type), j.key->key_id,
                               control_type_name(out->type));
                control_msg_free(out);
                return rc;
        }
        return (int)(j.key - keys);
}

void control_msg_free(struct control_msg *msg)
{
        if (msg == NULL)
                return;
        cJSON_Delete(msg->root);
        free(msg->heights);
        free(msg->resume_from);
        free(msg->lifts);
        memset(msg, 0, sizeof *msg);
}
