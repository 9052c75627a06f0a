/*
 * silence: operator silences in STATE_DIR/silences.json (silence.h).
 *
 * The file is small (at most SILENCE_MAX entries) and read whole; it is
 * refused whole when anything in it is not what silence_save writes, so a
 * hand edit that would make a silence last longer than 7 days, or hold a
 * name no alert has, never holds a page.
 */
#include "silence.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <sodium.h>

#include "fileio.h"
#include "rwclock.h"

#define SILENCE_FILE "silences.json"
#define SILENCE_FILE_MAX ((size_t)1 << 20)
#define SILENCE_FOR_MIN_MS ((int64_t)60 * 1000)
#define SILENCE_ID_HEX 16
#define SILENCE_CREATED_BY_MAX ((size_t)64)
#define SILENCE_TIME_MAX 9.0e15 /* ms; what a double holds exactly, and past year 9999 */

/* ------------------------------------------------------------ shapes */

/* An alert name: [A-Z0-9_]+, at most ALERT_NAME_MAX - 1 characters. */
static int name_ok(const char *s)
{
        size_t i;

        for (i = 0; s[i] != '\0'; i++) {
                char c = s[i];

                if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
                        return 0;
        }
        return i > 0 && i < ALERT_NAME_MAX;
}

/* "s-" and 16 lowercase hex digits. */
static int id_ok(const char *s)
{
        size_t i;

        if (strncmp(s, "s-", 2) != 0 || strlen(s) != 2 + SILENCE_ID_HEX)
                return 0;
        for (i = 2; s[i] != '\0'; i++) {
                if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
                        return 0;
        }
        return 1;
}

/* No control characters: a reason or subject is printed on one line in reports. */
static int text_ok(const char *s)
{
        for (; *s != '\0'; s++) {
                if ((unsigned char)*s < 0x20 || *s == 0x7f)
                        return 0;
        }
        return 1;
}

/* Some character that is not a space. */
static int has_content(const char *s)
{
        for (; *s != '\0'; s++) {
                if (*s != ' ')
                        return 1;
        }
        return 0;
}

static void copy_text(char *dst, size_t cap, const char *src)
{
        size_t n = strlen(src);

        if (n >= cap)
                n = cap - 1;
        memcpy(dst, src, n);
        dst[n] = '\0';
}

/* ------------------------------------------------------------ reading the file */

struct reader {
        const char *path;
        size_t index; /* of the silence being read */
        struct rwerr *err;
};

static int bad(const struct reader *r, const char *field, const char *what)
{
        return rwerr_set(r->err, RW_ERR_INVALID, "%s: silences[%zu].%s %s", r->path, r->index,
                         field, what);
}

/* o[key] as a string shorter than cap, into out. */
static int read_text(const struct reader *r, const cJSON *o, const char *key, char *out, size_t cap)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

        if (!cJSON_IsString(v))
                return bad(r, key, "is missing or not a string");
        if (strlen(v->valuestring) >= cap) {
                char what[64];

                (void)snprintf(what, sizeof what, "is longer than %zu bytes", cap - 1);
                return bad(r, key, what);
        }
        if (!text_ok(v->valuestring))
                return bad(r, key, "holds a control character");
        memcpy(out, v->valuestring, strlen(v->valuestring) + 1);
        return RW_OK;
}

/* o[key] as a whole number of ms in [0, SILENCE_TIME_MAX]. */
static int read_ms(const struct reader *r, const cJSON *o, const char *key, int64_t *out)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

        if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > SILENCE_TIME_MAX ||
            v->valuedouble != (double)(int64_t)v->valuedouble)
                return bad(r, key, "is missing or not a whole number of ms");
        *out = (int64_t)v->valuedouble;
        return RW_OK;
}

/* Every key of a silence is one silence_save writes, and none comes twice. */
static int known_keys_only(const struct reader *r, const cJSON *o)
{
        static const char *const keys[] = {"id",         "name",       "subject", "reason",
                                           "created_by", "created_ms", "ends_ms"};
        const cJSON *item;
        size_t k;

        cJSON_ArrayForEach(item, o)
        {
                for (k = 0; k < sizeof keys / sizeof keys[0]; k++) {
                        if (item->string != NULL && strcmp(item->string, keys[k]) == 0)
                                break;
                }
                if (k == sizeof keys / sizeof keys[0])
                        return bad(r, item->string != NULL ? item->string : "?",
                                   "is not a key of a silence");
        }
        if (cJSON_GetArraySize(o) > (int)(sizeof keys / sizeof keys[0]))
                return rwerr_set(r->err, RW_ERR_INVALID, "%s: silences[%zu] has a key twice",
                                 r->path, r->index);
        return RW_OK;
}

static int read_silence(const struct reader *r, const cJSON *o, struct silence *s)
{
        int rc;

        memset(s, 0, sizeof *s);
        if (!cJSON_IsObject(o))
                return rwerr_set(r->err, RW_ERR_INVALID, "%s: silences[%zu] is not an object",
                                 r->path, r->index);
        if ((rc = known_keys_only(r, o)) != RW_OK ||
            (rc = read_text(r, o, "id", s->id, sizeof s->id)) != RW_OK ||
            (rc = read_text(r, o, "name", s->name, sizeof s->name)) != RW_OK ||
            (rc = read_text(r, o, "subject", s->subject, sizeof s->subject)) != RW_OK ||
            (rc = read_text(r, o, "reason", s->reason, sizeof s->reason)) != RW_OK ||
            (rc = read_text(r, o, "created_by", s->created_by, sizeof s->created_by)) != RW_OK ||
            (rc = read_ms(r, o, "created_ms", &s->created_ms)) != RW_OK ||
            (rc = read_ms(r, o, "ends_ms", &s->ends_ms)) != RW_OK)
                return rc;
        if (!id_ok(s->id))
                return bad(r, "id", "is not \"s-\" and 16 lowercase hex digits");
        if (!name_ok(s->name))
                return bad(r, "name", "is not an alert name (A-Z, 0-9 and _)");
        if (!has_content(s->reason))
                return bad(r, "reason", "is empty");
        if (s->ends_ms - s->created_ms > SILENCE_FOR_MAX_MS)
                return bad(r, "ends_ms", "is more than 7 days after created_ms");
        return RW_OK;
}

static int parse_set(const char *path, const char *text, size_t len, struct silence_set *set,
                     struct rwerr *err)
{
        struct reader r = {path, 0, err};
        const cJSON *ver, *list, *item;
        cJSON *root = cJSON_ParseWithLength(text, len);
        int rc = RW_OK;
        size_t i;

        memset(set, 0, sizeof *set);
        ver = cJSON_GetObjectItemCaseSensitive(root, "version");
        list = cJSON_GetObjectItemCaseSensitive(root, "silences");
        if (!cJSON_IsObject(root))
                rc = rwerr_set(err, RW_ERR_INVALID, "%s: not a JSON object", path);
        else if (!cJSON_IsNumber(ver) || ver->valuedouble != 1)
                rc = rwerr_set(err, RW_ERR_INVALID, "%s: \"version\" is missing or not 1", path);
        else if (!cJSON_IsArray(list))
                rc = rwerr_set(err, RW_ERR_INVALID, "%s: \"silences\" is missing or not an array",
                               path);
        else if (cJSON_GetArraySize(root) != 2)
                rc = rwerr_set(err, RW_ERR_INVALID,
                               "%s: holds keys besides \"version\" and \"silences\", or one "
                               "of them twice",
                               path);
        else if (cJSON_GetArraySize(list) > SILENCE_MAX)
                rc = rwerr_set(err, RW_ERR_RANGE, "%s: more than %d silences", path, SILENCE_MAX);
        if (rc != RW_OK)
                goto out;
        cJSON_ArrayForEach(item, list)
        {
                r.index = set->n;
                if ((rc = read_silence(&r, item, &set->items[set->n])) != RW_OK)
                        break;
                for (i = 0; i < set->n; i++) {
                        if (strcmp(set->items[i].id, set->items[set->n].id) == 0) {
                                rc = bad(&r, "id", "is the id of an earlier silence too");
                                break;
                        }
                }
                if (rc != RW_OK)
                        break;
                set->n++;
        }
out:
        cJSON_Delete(root);
        if (rc != RW_OK)
                set->n = 0;
        return rc;
}

static int file_path(const char *state_dir, char *out, size_t cap, struct rwerr *err)
{
        int w = snprintf(out, cap, "%s/%s", state_dir, SILENCE_FILE);

        if (w < 0 || (size_t)w >= cap)
                return rwerr_set(err, RW_ERR_RANGE, "the path %s/%s is too long", state_dir,
                                 SILENCE_FILE);
        return RW_OK;
}

int silence_load(const char *state_dir, struct silence_set *out, struct rwerr *err)
{
        struct silence_set *set;
        char path[PATH_MAX], *text = NULL;
        size_t len = 0;
        int rc;

        if ((rc = file_path(state_dir, path, sizeof path, err)) != RW_OK)
                return rc;
        rc = fileio_read(path, SILENCE_FILE_MAX, &text, &len, err);
        if (rc == RW_ERR_IO && errno == ENOENT) {
                memset(out, 0, sizeof *out);
                return RW_OK;
        }
        if (rc != RW_OK)
                return rc;
        /* read aside, so a refused file leaves *out as it was */
        if ((set = malloc(sizeof *set)) == NULL) {
                free(text);
                return rwerr_set(err, RW_ERR_NOMEM, "out of memory reading %s", path);
        }
        rc = parse_set(path, text, len, set, err);
        if (rc == RW_OK)
                *out = *set;
        free(set);
        free(text);
        return rc;
}

/* ------------------------------------------------------------ writing it */

static cJSON *silence_json(const struct silence *s)
{
        cJSON *o = cJSON_CreateObject();

        if (o == NULL || cJSON_AddStringToObject(o, "id", s->id) == NULL ||
            cJSON_AddStringToObject(o, "name", s->name) == NULL ||
            cJSON_AddStringToObject(o, "subject", s->subject) == NULL ||
            cJSON_AddStringToObject(o, "reason", s->reason) == NULL ||
            cJSON_AddStringToObject(o, "created_by", s->created_by) == NULL ||
            cJSON_AddNumberToObject(o, "created_ms", (double)s->created_ms) == NULL ||
            cJSON_AddNumberToObject(o, "ends_ms", (double)s->ends_ms) == NULL) {
                cJSON_Delete(o);
                return NULL;
        }
        return o;
}

int silence_save(const char *state_dir, const struct silence_set *set, struct rwerr *err)
{
        int64_t now = rwclock_wall_ms();
        cJSON *root = cJSON_CreateObject(), *list;
        char *text = NULL;
        size_t i;
        int rc;

        list = cJSON_AddArrayToObject(root, "silences");
        if (cJSON_AddNumberToObject(root, "version", 1) == NULL || list == NULL)
                goto oom;
        for (i = 0; i < set->n && i < SILENCE_MAX; i++) {
                cJSON *o;

                if (set->items[i].ends_ms <= now)
                        continue; /* ended: nothing to keep */
                if ((o = silence_json(&set->items[i])) == NULL || !cJSON_AddItemToArray(list, o)) {
                        cJSON_Delete(o);
                        goto oom;
                }
        }
        if ((text = cJSON_Print(root)) == NULL)
                goto oom;
        cJSON_Delete(root);
        rc = fileio_replace(state_dir, SILENCE_FILE, text, strlen(text), 0600, 1, err);
        free(text);
        return rc;
oom:
        cJSON_Delete(root);
        return rwerr_set(err, RW_ERR_NOMEM, "out of memory writing %s/%s", state_dir, SILENCE_FILE);
}

/* ------------------------------------------------------------ the set */

/* Drops the silences that ended at `now_ms`, keeping the order of the others. */
static void drop_ended(struct silence_set *set, int64_t now_ms)
{
        size_t i, kept = 0;

        for (i = 0; i < set->n; i++) {
                if (set->items[i].ends_ms > now_ms)
                        set->items[kept++] = set->items[i];
        }
        set->n = kept;
}

static const struct silence *find_id(const struct silence_set *set, const char *id)
{
        size_t i;

        for (i = 0; i < set->n; i++) {
                if (strcmp(set->items[i].id, id) == 0)
                        return &set->items[i];
        }
        return NULL;
}

/* A new id, unique in `set`. */
static int new_id(const struct silence_set *set, char out[20], struct rwerr *err)
{
        unsigned char raw[SILENCE_ID_HEX / 2];
        char hex[SILENCE_ID_HEX + 1];

        if (sodium_init() < 0)
                return rwerr_set(err, RW_ERR_IO, "libsodium could not be initialised");
        do {
                randombytes_buf(raw, sizeof raw);
                (void)sodium_bin2hex(hex, sizeof hex, raw, sizeof raw);
                (void)snprintf(out, 20, "s-%s", hex);
        } while (find_id(set, out) != NULL);
        return RW_OK;
}

/* Checks what silence_add is given, before anything changes. */
static int check_add(const struct silence_set *set, const char *name, const char *subject,
                     const char *reason, int64_t for_ms, struct rwerr *err)
{
        if (name == NULL || !name_ok(name))
                return rwerr_set(err, RW_ERR_INVALID,
                                 "'%s' is not an alert name: A-Z, 0-9 and _ only, 1 to %d "
                                 "characters",
                                 name != NULL ? name : "", ALERT_NAME_MAX - 1);
        if (strlen(subject) >= ALERT_SUBJECT_MAX)
                return rwerr_set(err, RW_ERR_RANGE, "the subject is longer than %d bytes",
                                 ALERT_SUBJECT_MAX - 1);
        if (!text_ok(subject))
                return rwerr_set(err, RW_ERR_INVALID, "the subject holds a control character");
        if (reason == NULL || !has_content(reason))
                return rwerr_set(err, RW_ERR_INVALID, "the reason is empty: say why");
        if (strlen(reason) >= SILENCE_REASON_MAX)
                return rwerr_set(err, RW_ERR_RANGE, "the reason is %zu bytes; keep it under %d",
                                 strlen(reason), SILENCE_REASON_MAX);
        if (!text_ok(reason))
                return rwerr_set(err, RW_ERR_INVALID,
                                 "the reason holds a control character (one line, please)");
        if (for_ms < SILENCE_FOR_MIN_MS || for_ms > SILENCE_FOR_MAX_MS)
                return rwerr_set(err, RW_ERR_RANGE, "a silence lasts from 1 minute to 7 days");
        if (set->n >= SILENCE_MAX)
                return rwerr_set(err, RW_ERR_RANGE,
                                 "%d silences are in force already: expire one first", SILENCE_MAX);
        return RW_OK;
}

/* The user as kept: control characters made '?', cut to fit, "unknown" when there is none. */
static void set_user(char out[SILENCE_CREATED_BY_MAX], const char *user)
{
        size_t i;

        if (user == NULL || user[0] == '\0')
                user = "unknown";
        copy_text(out, SILENCE_CREATED_BY_MAX, user);
        for (i = 0; out[i] != '\0'; i++) {
                if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
                        out[i] = '?';
        }
}

int silence_add(struct silence_set *set, const char *name, const char *subject, const char *reason,
                const char *user, int64_t now_ms, int64_t for_ms, struct silence *out,
                struct rwerr *err)
{
        struct silence s;
        int rc;

        if (subject == NULL)
                subject = "";
        drop_ended(set, now_ms);
        if ((rc = check_add(set, name, subject, reason, for_ms, err)) != RW_OK)
                return rc;
        memset(&s, 0, sizeof s);
        if ((rc = new_id(set, s.id, err)) != RW_OK)
                return rc;
        copy_text(s.name, sizeof s.name, name);
        copy_text(s.subject, sizeof s.subject, subject);
        copy_text(s.reason, sizeof s.reason, reason);
        set_user(s.created_by, user);
        s.created_ms = now_ms;
        s.ends_ms = now_ms + for_ms;
        set->items[set->n++] = s;
        if (out != NULL)
                *out = s;
        return RW_OK;
}

int silence_expire(struct silence_set *set, const char *id, int64_t now_ms, struct rwerr *err)
{
        size_t i;

        for (i = 0; i < set->n; i++) {
                struct silence *s = &set->items[i];

                if (strcmp(s->id, id) != 0)
                        continue;
                if (s->ends_ms <= now_ms)
                        return rwerr_set(err, RW_ERR_INVALID, "silence %s has already ended", id);
                s->ends_ms = now_ms;
                return RW_OK;
        }
        return rwerr_set(err, RW_ERR_INVALID, "there is no silence %s", id);
}

const struct silence *silence_match(const struct silence_set *set, const char *name,
                                    const char *subject, int64_t now_ms)
{
        const struct silence *best = NULL;
        size_t i;

        if (subject == NULL)
                subject = "";
        for (i = 0; i < set->n; i++) {
                const struct silence *s = &set->items[i];

                if (s->ends_ms <= now_ms || strcmp(s->name, name) != 0)
                        continue;
                if (s->subject[0] != '\0' && strcmp(s->subject, subject) != 0)
                        continue;
                if (best == NULL || s->ends_ms > best->ends_ms)
                        best = s;
        }
        return best;
}

static int add_time(cJSON *o, const char *key, int64_t ms)
{
        char text[RWCLOCK_UTC_SIZE];

        (void)rwclock_format_utc(ms, text, NULL);
        return cJSON_AddStringToObject(o, key, text) != NULL ? 0 : -1;
}

cJSON *silence_list_json(const struct silence_set *set, int64_t now_ms)
{
        cJSON *list = cJSON_CreateArray();
        size_t i;

        if (list == NULL)
                return NULL;
        for (i = 0; i < set->n; i++) {
                const struct silence *s = &set->items[i];
                cJSON *o;

                if (s->ends_ms <= now_ms)
                        continue;
                o = silence_json(s);
                if (o == NULL || !cJSON_AddItemToArray(list, o)) {
                        cJSON_Delete(o);
                        cJSON_Delete(list);
                        return NULL;
                }
                if (add_time(o, "created_at", s->created_ms) != 0 ||
                    add_time(o, "ends_at", s->ends_ms) != 0) {
                        cJSON_Delete(list);
                        return NULL;
                }
        }
        return list;
}

/* ------------------------------------------------------------ durations */

int silence_parse_duration(const char *text, int64_t *ms, struct rwerr *err)
{
        int64_t v = 0, unit;
        size_t i;

        for (i = 0; text[i] >= '0' && text[i] <= '9'; i++) {
                if (v > (INT64_MAX - 9) / 10)
                        return rwerr_set(err, RW_ERR_RANGE, "'%s' is too long a duration", text);
                v = v * 10 + (text[i] - '0');
        }
        /* one unit letter, and nothing after it */
        switch (i > 0 && text[i] != '\0' && text[i + 1] == '\0' ? text[i] : '\0') {
        case 's':
                unit = 1000;
                break;
        case 'm':
                unit = (int64_t)60 * 1000;
                break;
        case 'h':
                unit = (int64_t)3600 * 1000;
                break;
        case 'd':
                unit = (int64_t)24 * 3600 * 1000;
                break;
        default:
                return rwerr_set(err, RW_ERR_INVALID,
                                 "'%s' is not a duration: a number and one of s, m, h, d "
                                 "(45s, 90m, 2h, 1d)",
                                 text);
        }
        if (v > INT64_MAX / unit)
                return rwerr_set(err, RW_ERR_RANGE, "'%s' is too long a duration", text);
        *ms = v * unit;
        return RW_OK;
}
