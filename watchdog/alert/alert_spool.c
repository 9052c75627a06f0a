/*
 * alert_spool: the on-disk spool of undelivered alert messages
 * (alert_spool.h).
 *
 * In the order of this file: a spool line and the text of the whole
 * spool, the atomic rewrite, the set-aside of unreadable lines and the
 * lines kept as they were read, and the load.
 */
#include "alert_spool.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "config.h" /* SNAP_NAME_MAX: a route's name */
#include "fileio.h"
#include "jsonlog.h"
#include "rwclock.h"

#define SPOOL_FILE_MAX (64u << 20) /* a spool larger than this is refused */
#define SPOOL_WRITE_RETRY_MS 1000  /* after a spool rewrite failed */

/* A line kept as it was read: its route is unknown, or it could not be set aside. */
struct alert_spool_kept {
        struct alert_spool_kept *next;
        char *line;
};

void alert_spool_init(struct alert_spool *sp, const char *state_dir,
                      const struct alert_spool_hooks *hooks)
{
        memset(sp, 0, sizeof *sp);
        sp->state_dir = state_dir;
        sp->hooks = *hooks;
}

void alert_spool_release(struct alert_spool *sp)
{
        struct alert_spool_kept *k, *next;

        if (sp == NULL)
                return;
        for (k = sp->kept; k != NULL; k = next) {
                next = k->next;
                free(k->line);
                free(k);
        }
        sp->kept = sp->kept_tail = NULL;
}

void alert_spool_mark(struct alert_spool *sp)
{
        sp->dirty = 1;
}

int alert_spool_pending(const struct alert_spool *sp, uint64_t *at_ms)
{
        if (!sp->dirty)
                return 0;
        *at_ms = sp->retry_at_ms;
        return 1;
}

/* ================================================================ writing */

/* One spool line (no newline) for message `m`; caller frees. */
static char *spool_line(const struct alert_spool_msg *m)
{
        cJSON *o = cJSON_CreateObject(), *a = alert_to_json(m->alert);
        char *text = NULL;

        if (o != NULL && a != NULL && cJSON_AddStringToObject(o, "route", m->route) != NULL &&
            cJSON_AddItemToObject(o, "alert", a)) {
                a = NULL; /* o owns it now */
                if (cJSON_AddNumberToObject(o, "attempts", m->attempts) != NULL &&
                    cJSON_AddStringToObject(o, "last_problem", m->problem) != NULL)
                        text = cJSON_PrintUnformatted(o);
        }
        cJSON_Delete(a);
        cJSON_Delete(o);
        return text;
}

/* A growing text buffer for the spool's new contents. */
struct text {
        char *p;
        size_t len, cap;
        int nomem;
};

static void text_add(struct text *t, const char *s)
{
        size_t n = strlen(s);
        char *p;

        if (t->nomem)
                return;
        if (t->len + n + 2 > t->cap) {
                size_t cap = (t->cap == 0 ? 4096 : t->cap * 2) + n;

                if ((p = realloc(t->p, cap)) == NULL) {
                        t->nomem = 1;
                        return;
                }
                t->p = p;
                t->cap = cap;
        }
        memcpy(t->p + t->len, s, n);
        t->len += n;
        t->p[t->len++] = '\n';
        t->p[t->len] = '\0';
}

/* The put of alert_spool_hooks.list: `sink` is the text being made. */
static void text_put(void *sink, const struct alert_spool_msg *m)
{
        struct text *t = sink;
        char *line;

        if ((line = spool_line(m)) == NULL) {
                t->nomem = 1;
                return;
        }
        text_add(t, line);
        free(line);
}

/* The spool as it should be now: the owner's messages in order, then the kept lines. */
static int spool_text(const struct alert_spool *sp, struct text *t)
{
        const struct alert_spool_kept *k;

        memset(t, 0, sizeof *t);
        sp->hooks.list(sp->hooks.ctx, text_put, t);
        for (k = sp->kept; k != NULL; k = k->next)
                text_add(t, k->line);
        if (t->nomem) {
                free(t->p);
                memset(t, 0, sizeof *t);
                return RW_ERR_NOMEM;
        }
        return RW_OK;
}

/* Rewrites the spool atomically (temp, fsync, rename) when it changed. */
void alert_spool_flush(struct alert_spool *sp, int force)
{
        struct rwerr err;
        struct text t;
        int rc;

        if (!sp->dirty || (!force && rwclock_mono_ms() < sp->retry_at_ms))
                return;
        rc = spool_text(sp, &t);
        if (rc != RW_OK)
                (void)rwerr_set(&err, rc, "out of memory writing the alert spool");
        else
                rc = fileio_replace(sp->state_dir, ALERT_SPOOL_NAME, t.p != NULL ? t.p : "", t.len,
                                    0600, 1, &err);
        free(t.p);
        if (rc == RW_OK) {
                sp->dirty = 0;
                if (sp->write_failing)
                        jsonlog_message(JSONLOG_INFO, "alert_spool_written", NULL,
                                        "the alert spool is written again");
                sp->write_failing = 0;
                return;
        }
        sp->retry_at_ms = rwclock_mono_ms() + SPOOL_WRITE_RETRY_MS;
        if (!sp->write_failing)
                jsonlog_message(JSONLOG_ERROR, "alert_spool_write_failed", NULL,
                                "%s; undelivered alerts are kept in memory and the write is "
                                "tried again",
                                err.msg);
        sp->write_failing = 1;
}

/* ================================================================ lines set aside or kept */

/* Appends an unreadable spool line (`len` bytes) to alert-spool.unreadable (fsync'd). */
static int spool_set_aside(const struct alert_spool *sp, const char *line, size_t len,
                           struct rwerr *err)
{
        char path[PATH_MAX];
        int fd, rc = RW_OK;

        if (snprintf(path, sizeof path, "%s/%s", sp->state_dir, ALERT_SPOOL_UNREADABLE_NAME) >=
            (int)sizeof path)
                return rwerr_set(err, RW_ERR_RANGE, "the path of %s is too long",
                                 ALERT_SPOOL_UNREADABLE_NAME);
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (fd < 0)
                return rwerr_set(err, RW_ERR_IO, "cannot open %s: %s", path, strerror(errno));
        if (fileio_write_all(fd, line, len) != 0 || fileio_write_all(fd, "\n", 1) != 0 ||
            fsync(fd) != 0)
                rc = rwerr_set(err, RW_ERR_IO, "cannot write %s: %s", path, strerror(errno));
        if (close(fd) != 0 && rc == RW_OK)
                rc = rwerr_set(err, RW_ERR_IO, "cannot write %s: %s", path, strerror(errno));
        return rc;
}

/* Keeps `line` (copied) to be written back as it is, after the owner's messages. */
static int kept_add(struct alert_spool *sp, const char *line)
{
        struct alert_spool_kept *k = calloc(1, sizeof *k);

        if (k == NULL || (k->line = strdup(line)) == NULL) {
                free(k);
                return RW_ERR_NOMEM;
        }
        if (sp->kept_tail != NULL)
                sp->kept_tail->next = k;
        else
                sp->kept = k;
        sp->kept_tail = k;
        return RW_OK;
}

/* A line that cannot be read: set aside, or kept in the spool when even that fails. */
static int spool_unreadable(struct alert_spool *sp, const char *line, size_t len, unsigned lineno,
                            const struct rwerr *why)
{
        struct rwerr err;
        cJSON *log = jsonlog_begin(JSONLOG_ERROR, "alert_spool_unreadable", NULL);

        cJSON_AddNumberToObject(log, "line", lineno);
        cJSON_AddStringToObject(log, "problem", why->msg);
        if (spool_set_aside(sp, line, len, &err) == RW_OK) {
                cJSON_AddStringToObject(log, "kept_in", ALERT_SPOOL_UNREADABLE_NAME);
                jsonlog_emit(log);
                sp->dirty = 1; /* the spool is rewritten without it */
                return RW_OK;
        }
        cJSON_AddStringToObject(log, "kept_in", ALERT_SPOOL_NAME);
        cJSON_AddStringToObject(log, "set_aside_failed", err.msg);
        jsonlog_emit(log);
        return kept_add(sp, line);
}

/* ================================================================ loading */

/* One spool line as read. */
struct record {
        char route[SNAP_NAME_MAX];
        struct alert alert; /* owned until taken */
        unsigned attempts;
        char problem[RWERR_MSG_MAX];
};

/* Reads one spool line into `rec` (zeroed by the caller); on failure nothing is kept. */
static int spool_parse(const char *line, struct record *rec, struct rwerr *err)
{
        cJSON *o = cJSON_Parse(line);
        const cJSON *rn, *at, *lp;
        int rc = RW_OK;

        if (o == NULL)
                return rwerr_set(err, RW_ERR_INVALID, "not JSON");
        rn = cJSON_GetObjectItemCaseSensitive(o, "route");
        at = cJSON_GetObjectItemCaseSensitive(o, "attempts");
        lp = cJSON_GetObjectItemCaseSensitive(o, "last_problem");
        if (!cJSON_IsString(rn) || rn->valuestring[0] == '\0' ||
            strlen(rn->valuestring) >= sizeof rec->route)
                rc = rwerr_set(err, RW_ERR_INVALID, "\"route\" is missing or not a route name");
        else if (!cJSON_IsNumber(at) || at->valuedouble < 0 || at->valuedouble > 1e9)
                rc = rwerr_set(err, RW_ERR_INVALID, "\"attempts\" is missing or out of range");
        else if (lp != NULL && !cJSON_IsString(lp))
                rc = rwerr_set(err, RW_ERR_INVALID, "\"last_problem\" is not a string");
        else
                rc = alert_from_json(cJSON_GetObjectItemCaseSensitive(o, "alert"), &rec->alert,
                                     err);
        if (rc == RW_OK) {
                (void)snprintf(rec->route, sizeof rec->route, "%s", rn->valuestring);
                rec->attempts = (unsigned)at->valuedouble;
                (void)snprintf(rec->problem, sizeof rec->problem, "%s",
                               lp != NULL ? lp->valuestring : "");
        } else {
                alert_release(&rec->alert);
        }
        cJSON_Delete(o);
        return rc;
}

/*
 * One line of the spool, `len` bytes with a NUL after them (no newline),
 * to the owner, or kept aside.
 */
static int spool_load_line(struct alert_spool *sp, const char *line, size_t len, unsigned lineno)
{
        struct record rec;
        struct rwerr why;
        cJSON *log;
        int rc;

        memset(&rec, 0, sizeof rec);
        if (memchr(line, '\0', len) != NULL)
                (void)rwerr_set(&why, RW_ERR_INVALID, "the line holds a NUL byte");
        else if (spool_parse(line, &rec, &why) == RW_OK)
                why.msg[0] = '\0';
        if (why.msg[0] != '\0')
                return spool_unreadable(sp, line, len, lineno, &why);
        rc = sp->hooks.take(sp->hooks.ctx, rec.route, &rec.alert, rec.attempts, rec.problem);
        if (rc == RW_OK)
                return RW_OK; /* the alert is the owner's now */
        alert_release(&rec.alert);
        if (rc != ALERT_SPOOL_NO_ROUTE)
                return rc;
        log = jsonlog_begin(JSONLOG_WARN, "alert_spool_route_unknown", NULL);
        cJSON_AddStringToObject(log, "route", rec.route);
        cJSON_AddNumberToObject(log, "line", lineno);
        cJSON_AddStringToObject(log, "message",
                                "the configuration has no such route: the line is kept "
                                "in the spool, not sent");
        jsonlog_emit(log);
        return kept_add(sp, line);
}

static int line_is_blank(const char *line, size_t len)
{
        size_t i;

        for (i = 0; i < len; i++) {
                if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
                        return 0;
        }
        return 1;
}

/* Loads STATE_DIR/alert-spool.jsonl; a missing file is an empty spool. */
int alert_spool_load(struct alert_spool *sp, struct rwerr *err)
{
        char path[PATH_MAX], *text = NULL, *line, *nl;
        unsigned lineno = 0;
        size_t len = 0;
        int rc;

        if (snprintf(path, sizeof path, "%s/%s", sp->state_dir, ALERT_SPOOL_NAME) >=
            (int)sizeof path)
                return rwerr_set(err, RW_ERR_RANGE, "the path of the alert spool is too long");
        rc = fileio_read(path, SPOOL_FILE_MAX, &text, &len, err);
        if (rc == RW_ERR_IO && errno == ENOENT)
                return RW_OK;
        if (rc != RW_OK)
                return rwerr_prefix(err, rc, "the alert spool");
        for (line = text; rc == RW_OK && line < text + len; line = nl + 1) {
                lineno++;
                nl = memchr(line, '\n', (size_t)(text + len - line));
                if (nl == NULL)
                        nl = text + len; /* the last line without its newline */
                *nl = '\0';
                if (!line_is_blank(line, (size_t)(nl - line)))
                        rc = spool_load_line(sp, line, (size_t)(nl - line), lineno);
        }
        free(text);
        if (rc != RW_OK)
                return rwerr_set(err, rc, "out of memory loading the alert spool");
        return RW_OK;
}
