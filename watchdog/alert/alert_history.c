/*
 * alert_history: the history of paging and the report made from it
 * (alert_history.h).
 *
 * Appending: one JSON line per event, written with one write(2) on a file
 * opened O_APPEND, under a POSIX record lock so that the daemon and a
 * command appending at the same moment never rotate the file twice.
 *
 * The report reads alert-history.1.jsonl (older) and then
 * alert-history.jsonl, line by line. An alert is one opening of one dedup
 * key: its events (opened, silenced, updated, resolved) share dedup_key and
 * seq, and are gathered in a hash table so a long history stays linear.
 * The report is made as JSON first; the text is written from that JSON, so
 * the two always hold the same figures.
 */
#include "alert_history.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "fileio.h"
#include "rwclock.h"
#include "silence.h"
#include "verdict.h"

#define HISTORY_FILE "alert-history.jsonl"
#define HISTORY_OLD "alert-history.1.jsonl"
#define STATUS_FILE "status.json" /* STATUS_FILE_NAME of act/status_file.h, a room beside */
#define STATUS_FILE_MAX ((size_t)4 << 20)
#define APPEND_TRIES 4      /* opens of the file when another writer rotates it meanwhile */
#define LISTED_MAX 200      /* alerts listed in a report; the others are counted */
#define NOTES_MAX 100       /* info events, silence changes, delivery failures listed */
#define UNREADABLE_NAMED 20 /* unreadable lines named; the others are counted */
#define WHERE_MAX (PATH_MAX + 32 + RWERR_MSG_MAX)
#define SILENCE_EVENT_PREFIX "SILENCE_" /* info events about silences: SILENCE_ADDED, ... */

/* ------------------------------------------------------------ appending */

static int history_path(const char *state_dir, const char *name, char *out, size_t cap,
                        struct rwerr *err)
{
        int w = snprintf(out, cap, "%s/%s", state_dir, name);

        if (w < 0 || (size_t)w >= cap)
                return rwerr_set(err, RW_ERR_RANGE, "the path %s/%s is too long", state_dir, name);
        return RW_OK;
}

/* The event as one line, "\n" included; NULL on OOM. */
static char *event_line(const char *event, const struct alert *a, size_t *len)
{
        cJSON *o = alert_to_json(a);
        char *text = NULL, *line = NULL;

        if (o != NULL && cJSON_AddStringToObject(o, "event", event) != NULL)
                text = cJSON_PrintUnformatted(o);
        cJSON_Delete(o);
        if (text == NULL)
                return NULL;
        *len = strlen(text);
        if ((line = malloc(*len + 2)) != NULL) {
                memcpy(line, text, *len);
                line[(*len)++] = '\n';
                line[*len] = '\0';
        }
        free(text);
        return line;
}

/* Waits for the write lock on the whole of fd. */
static int lock_file(int fd)
{
        struct flock fl;

        memset(&fl, 0, sizeof fl);
        fl.l_type = F_WRLCK;
        fl.l_whence = SEEK_SET;
        while (fcntl(fd, F_SETLKW, &fl) != 0) {
                if (errno != EINTR)
                        return -1;
        }
        return 0;
}

/*
 * One attempt: 1 when the line was written, 0 when the file was rotated
 * (by us or another writer) and must be opened again, or an RW_ERR code.
 */
static int append_once(const char *path, const char *old, const char *line, size_t len,
                       struct rwerr *err)
{
        struct stat held, named;
        int fd, rc = 1;

        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0)
                return rwerr_set(err, RW_ERR_IO, "cannot open %s: %s", path, strerror(errno));
        if (lock_file(fd) != 0 || fstat(fd, &held) != 0) {
                rc = rwerr_set(err, RW_ERR_IO, "cannot lock %s: %s", path, strerror(errno));
        } else if (stat(path, &named) != 0 || named.st_ino != held.st_ino ||
                   named.st_dev != held.st_dev) {
                rc = 0; /* another writer rotated it while we waited */
        } else if (held.st_size >= ALERT_HISTORY_MAX_BYTES) {
                if (rename(path, old) != 0)
                        rc = rwerr_set(err, RW_ERR_IO, "cannot rename %s to %s: %s", path, old,
                                       strerror(errno));
                else
                        rc = 0;
        } else if (fileio_write_all(fd, line, len) != 0) {
                rc = rwerr_set(err, RW_ERR_IO, "cannot write %s: %s", path, strerror(errno));
        }
        close(fd); /* releases the lock */
        return rc;
}

int alert_history_append(const char *state_dir, const char *event, const struct alert *a,
                         struct rwerr *err)
{
        char path[PATH_MAX], old[PATH_MAX], *line;
        size_t len = 0;
        int rc, tries;

        if (event == NULL || event[0] == '\0')
                return rwerr_set(err, RW_ERR_INVALID, "alert history: the event has no name");
        if ((rc = history_path(state_dir, HISTORY_FILE, path, sizeof path, err)) != RW_OK ||
            (rc = history_path(state_dir, HISTORY_OLD, old, sizeof old, err)) != RW_OK)
                return rc;
        if ((line = event_line(event, a, &len)) == NULL)
                return rwerr_set(err, RW_ERR_NOMEM, "out of memory writing %s", path);
        rc = 0;
        for (tries = 0; rc == 0 && tries < APPEND_TRIES; tries++)
                rc = append_once(path, old, line, len, err);
        free(line);
        if (rc == 0)
                return rwerr_set(err, RW_ERR_IO, "%s kept being rotated; the event is not kept",
                                 path);
        return rc < 0 ? rc : RW_OK;
}

/* ------------------------------------------------------------ the report's gathering */

/* One opening of one dedup key, as the history tells it. */
struct inst {
        char key[ALERT_DEDUP_MAX];
        uint64_t seq;
        char name[ALERT_NAME_MAX];
        char subject[ALERT_SUBJECT_MAX];
        char halt_id[48];
        enum finding_severity severity; /* the worst seen */
        int tier;
        char *summary;       /* of the first line seen (the opening, unless it is lost) */
        int64_t opened_ms;   /* when it first fired */
        int64_t resolved_ms; /* -1: no resolve up to the report's end */
        unsigned updates;    /* in the window */
        int held;            /* a silence held it, in the window */
        int paged;           /* an "opened" line: it was sent */
        int firing;          /* an opened, silenced or updated line */
        size_t next;         /* the next in its hash bucket */
};

/* An event listed as it is: an info event, a silence change, a delivery failure. */
struct note {
        char name[ALERT_NAME_MAX];
        char subject[ALERT_SUBJECT_MAX];
        char halt_id[48];
        enum finding_severity severity;
        char *summary;
        int64_t at_ms;
};

struct notes {
        struct note *v;
        size_t n;     /* kept (at most NOTES_MAX) */
        size_t total; /* seen in the window */
};

struct gather {
        int64_t since, now;
        struct inst *items;
        size_t n, cap;
        size_t *buckets; /* SIZE_MAX: empty */
        size_t nbuckets;
        struct notes info, silences, delivery;
        size_t other;      /* events of other kinds in the window */
        size_t unreadable; /* lines */
        char named[UNREADABLE_NAMED][WHERE_MAX];
        int history_ok;
        char history_error[RWERR_MSG_MAX + PATH_MAX];
};

#define NONE SIZE_MAX

static size_t hash_of(const char *key, uint64_t seq)
{
        uint64_t h = 1469598103934665603ULL; /* FNV-1a */
        int i;

        for (; *key != '\0'; key++)
                h = (h ^ (unsigned char)*key) * 1099511628211ULL;
        for (i = 0; i < 8; i++)
                h = (h ^ ((seq >> (8 * i)) & 0xff)) * 1099511628211ULL;
        return (size_t)h;
}

/* Doubles the buckets and threads every item again. -1 on OOM. */
static int rehash(struct gather *g)
{
        size_t n = g->nbuckets == 0 ? 1024 : g->nbuckets * 2, i;
        size_t *b = malloc(n * sizeof *b);

        if (b == NULL)
                return -1;
        for (i = 0; i < n; i++)
                b[i] = NONE;
        for (i = 0; i < g->n; i++) {
                size_t k = hash_of(g->items[i].key, g->items[i].seq) & (n - 1);

                g->items[i].next = b[k];
                b[k] = i;
        }
        free(g->buckets);
        g->buckets = b;
        g->nbuckets = n;
        return 0;
}

/* The alert of a's dedup key and seq, made from `a` when it is new; NULL on OOM. */
static struct inst *inst_of(struct gather *g, const struct alert *a)
{
        struct inst *x;
        size_t i, k;

        if (g->nbuckets > 0) {
                for (i = g->buckets[hash_of(a->dedup_key, a->seq) & (g->nbuckets - 1)]; i != NONE;
                     i = g->items[i].next) {
                        if (g->items[i].seq == a->seq && strcmp(g->items[i].key, a->dedup_key) == 0)
                                return &g->items[i];
                }
        }
        if (g->n == g->cap) {
                size_t cap = g->cap == 0 ? 64 : g->cap * 2;
                struct inst *p = realloc(g->items, cap * sizeof *p);

                if (p == NULL)
                        return NULL;
                g->items = p;
                g->cap = cap;
        }
        x = &g->items[g->n];
        memset(x, 0, sizeof *x);
        if ((x->summary = strdup(a->summary)) == NULL)
                return NULL;
        memcpy(x->key, a->dedup_key, sizeof x->key);
        memcpy(x->name, a->name, sizeof x->name);
        memcpy(x->subject, a->subject, sizeof x->subject);
        memcpy(x->halt_id, a->halt_id, sizeof x->halt_id);
        x->seq = a->seq;
        x->severity = a->severity;
        x->tier = a->tier;
        x->opened_ms = a->opened_ms;
        x->resolved_ms = -1;
        g->n++;
        if (g->n > g->nbuckets) {
                if (rehash(g) != 0) {
                        g->n--;
                        free(x->summary);
                        return NULL;
                }
                return &g->items[g->n - 1];
        }
        k = hash_of(x->key, x->seq) & (g->nbuckets - 1);
        x->next = g->buckets[k];
        g->buckets[k] = g->n - 1;
        return x;
}

static int note_add(struct notes *l, const struct alert *a)
{
        struct note *x;

        l->total++;
        if (l->n >= NOTES_MAX)
                return RW_OK;
        if (l->v == NULL && (l->v = calloc(NOTES_MAX, sizeof *l->v)) == NULL)
                return RW_ERR_NOMEM;
        x = &l->v[l->n];
        if ((x->summary = strdup(a->summary)) == NULL)
                return RW_ERR_NOMEM;
        memcpy(x->name, a->name, sizeof x->name);
        memcpy(x->subject, a->subject, sizeof x->subject);
        memcpy(x->halt_id, a->halt_id, sizeof x->halt_id);
        x->severity = a->severity;
        x->at_ms = a->at_ms;
        l->n++;
        return RW_OK;
}

static void notes_free(struct notes *l)
{
        size_t i;

        for (i = 0; i < l->n; i++)
                free(l->v[i].summary);
        free(l->v);
}

static void gather_free(struct gather *g)
{
        size_t i;

        for (i = 0; i < g->n; i++)
                free(g->items[i].summary);
        free(g->items);
        free(g->buckets);
        notes_free(&g->info);
        notes_free(&g->silences);
        notes_free(&g->delivery);
}

static int is_alert_event(const char *event)
{
        return strcmp(event, "opened") == 0 || strcmp(event, "updated") == 0 ||
               strcmp(event, "silenced") == 0 || strcmp(event, "resolved") == 0;
}

/* One opened, updated, silenced or resolved event of an incident. */
static int take_alert_event(struct gather *g, const char *event, const struct alert *a, int in)
{
        struct inst *x = inst_of(g, a);

        if (x == NULL)
                return RW_ERR_NOMEM;
        if (strcmp(event, "resolved") == 0) {
                x->resolved_ms = a->at_ms;
                return RW_OK;
        }
        x->firing = 1;
        if (a->severity > x->severity)
                x->severity = a->severity;
        if (x->halt_id[0] == '\0')
                memcpy(x->halt_id, a->halt_id, sizeof x->halt_id);
        if (strcmp(event, "opened") == 0)
                x->paged = 1;
        else if (strcmp(event, "silenced") == 0)
                x->held |= in;
        else if (in)
                x->updates++;
        return RW_OK;
}

/* One event read from the history. */
static int take_event(struct gather *g, const char *event, const struct alert *a)
{
        int in = a->at_ms >= g->since;

        if (a->at_ms > g->now)
                return RW_OK; /* after the report's end: not yet, as far as it goes */
        if (is_alert_event(event) && a->purpose == ALERT_INCIDENT)
                return take_alert_event(g, event, a, in);
        if (!in)
                return RW_OK;
        if (strcmp(event, "info") == 0)
                return note_add(
                        strncmp(a->name, SILENCE_EVENT_PREFIX, strlen(SILENCE_EVENT_PREFIX)) == 0
                                ? &g->silences
                                : &g->info,
                        a);
        if (strcmp(event, "delivery_failed") == 0)
                return note_add(&g->delivery, a);
        g->other++;
        return RW_OK;
}

static void unreadable(struct gather *g, const char *path, size_t line, const char *why)
{
        if (g->unreadable < UNREADABLE_NAMED)
                (void)snprintf(g->named[g->unreadable], WHERE_MAX, "%s:%zu: %s", path, line, why);
        g->unreadable++;
}

/* Only spaces, tabs and line ends from s on. */
static int blank_from(const char *s, const char *end)
{
        for (; s < end; s++) {
                if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
                        return 0;
        }
        return 1;
}

static int take_line(struct gather *g, const char *path, size_t lineno, const char *line,
                     size_t len)
{
        const char *end = NULL;
        cJSON *o = cJSON_ParseWithLengthOpts(line, len, &end, 0);
        const cJSON *ev = cJSON_GetObjectItemCaseSensitive(o, "event");
        struct alert a;
        struct rwerr e;
        int rc = RW_OK;

        if (o == NULL)
                unreadable(g, path, lineno, "not JSON");
        else if (!blank_from(end, line + len))
                unreadable(g, path, lineno, "more than one JSON value on the line");
        else if (!cJSON_IsString(ev) || ev->valuestring[0] == '\0')
                unreadable(g, path, lineno, "no \"event\" name");
        else if (alert_from_json(o, &a, &e) != RW_OK)
                unreadable(g, path, lineno, e.msg);
        else {
                rc = take_event(g, ev->valuestring, &a);
                alert_release(&a);
        }
        cJSON_Delete(o);
        return rc;
}

/* Reads one history file; an absent one is empty. RW_ERR_NOMEM only: the rest is noted. */
static int read_history(struct gather *g, const char *path)
{
        FILE *f = fopen(path, "r");
        char *line = NULL;
        size_t cap = 0, lineno = 0;
        ssize_t n;
        int rc = RW_OK;

        if (f == NULL) {
                if (errno != ENOENT) {
                        g->history_ok = 0;
                        (void)snprintf(g->history_error, sizeof g->history_error,
                                       "cannot open %s: %s", path, strerror(errno));
                }
                return RW_OK;
        }
        while (rc == RW_OK && (n = getline(&line, &cap, f)) >= 0) {
                lineno++;
                rc = take_line(g, path, lineno, line, (size_t)n);
        }
        if (rc == RW_OK && ferror(f)) {
                g->history_ok = 0;
                (void)snprintf(g->history_error, sizeof g->history_error,
                               "cannot read %s past line %zu: %s", path, lineno, strerror(errno));
        }
        free(line);
        fclose(f);
        return rc;
}

/* ------------------------------------------------------------ the JSON form */

static int add_time(cJSON *o, const char *key, int64_t ms)
{
        char text[RWCLOCK_UTC_SIZE];

        (void)rwclock_format_utc(ms, text, NULL);
        return cJSON_AddStringToObject(o, key, text) != NULL ? 0 : -1;
}

static int add_num(cJSON *o, const char *key, double v)
{
        return cJSON_AddNumberToObject(o, key, v) != NULL ? 0 : -1;
}

static int add_str(cJSON *o, const char *key, const char *v)
{
        return cJSON_AddStringToObject(o, key, v) != NULL ? 0 : -1;
}

/* Adds `item` to array `list`; frees it when it cannot. */
static int append_item(cJSON *list, cJSON *item)
{
        if (item == NULL || !cJSON_AddItemToArray(list, item)) {
                cJSON_Delete(item);
                return -1;
        }
        return 0;
}

static int opened_in(const struct gather *g, const struct inst *x)
{
        return x->firing && x->opened_ms >= g->since && x->opened_ms <= g->now;
}

static int resolved_in(const struct gather *g, const struct inst *x)
{
        return x->resolved_ms >= g->since;
}

static int open_at_end(const struct inst *x)
{
        return x->firing && x->resolved_ms < 0;
}

/* Belongs in the report: it did something in the window or is still open. */
static int listed(const struct gather *g, const struct inst *x)
{
        return opened_in(g, x) || resolved_in(g, x) || open_at_end(x) || x->updates > 0 || x->held;
}

static cJSON *inst_json(const struct gather *g, const struct inst *x)
{
        cJSON *o = cJSON_CreateObject();
        int ok = o != NULL;

        ok = ok && add_str(o, "name", x->name) == 0 && add_str(o, "subject", x->subject) == 0 &&
             add_str(o, "dedup_key", x->key) == 0 && add_num(o, "seq", (double)x->seq) == 0 &&
             add_str(o, "severity", finding_severity_name(x->severity)) == 0 &&
             add_num(o, "tier", x->tier) == 0 && add_str(o, "summary", x->summary) == 0 &&
             add_str(o, "halt_id", x->halt_id) == 0 &&
             add_num(o, "opened_ms", (double)x->opened_ms) == 0 &&
             add_time(o, "opened_at", x->opened_ms) == 0 &&
             cJSON_AddBoolToObject(o, "opened_in_window", opened_in(g, x)) != NULL &&
             cJSON_AddBoolToObject(o, "paged", x->paged) != NULL &&
             cJSON_AddBoolToObject(o, "held_by_silence", x->held) != NULL &&
             add_num(o, "updates", x->updates) == 0 &&
             cJSON_AddBoolToObject(o, "open_at_end", open_at_end(x)) != NULL;
        if (ok && x->resolved_ms >= 0)
                ok = add_num(o, "resolved_ms", (double)x->resolved_ms) == 0 &&
                     add_time(o, "resolved_at", x->resolved_ms) == 0 &&
                     add_num(o, "duration_ms", (double)(x->resolved_ms - x->opened_ms)) == 0;
        else if (ok)
                ok = cJSON_AddNullToObject(o, "resolved_ms") != NULL &&
                     cJSON_AddNullToObject(o, "resolved_at") != NULL &&
                     add_num(o, "open_for_ms", (double)(g->now - x->opened_ms)) == 0;
        if (!ok) {
                cJSON_Delete(o);
                return NULL;
        }
        return o;
}

static int by_opening(const void *pa, const void *pb)
{
        const struct inst *a = pa, *b = pb;

        if (a->opened_ms != b->opened_ms)
                return a->opened_ms < b->opened_ms ? -1 : 1;
        return strcmp(a->key, b->key);
}

/*
 * The alerts to list, oldest opening first, and the counts of the
 * headline. Sorts the gathered alerts in place: the hash table is done with.
 */
static int add_alerts(cJSON *root, cJSON *counts, struct gather *g)
{
        size_t i, n = 0, opened = 0, resolved = 0, open = 0, updates = 0, held = 0;
        cJSON *list = cJSON_AddArrayToObject(root, "alerts");
        int ok = list != NULL;

        if (g->n > 1)
                qsort(g->items, g->n, sizeof *g->items, by_opening);
        for (i = 0; ok && i < g->n; i++) {
                const struct inst *x = &g->items[i];

                opened += (size_t)opened_in(g, x);
                resolved += (size_t)resolved_in(g, x);
                open += (size_t)open_at_end(x);
                updates += x->updates;
                held += (size_t)(x->held != 0);
                if (listed(g, x) && n++ < LISTED_MAX)
                        ok = append_item(list, inst_json(g, x)) == 0;
        }
        ok = ok &&
             add_num(root, "alerts_left_out", (double)(n > LISTED_MAX ? n - LISTED_MAX : 0)) == 0;
        ok = ok && add_num(counts, "opened", (double)opened) == 0 &&
             add_num(counts, "resolved", (double)resolved) == 0 &&
             add_num(counts, "still_open", (double)open) == 0 &&
             add_num(counts, "updates", (double)updates) == 0 &&
             add_num(counts, "held_by_silence", (double)held) == 0;
        return ok ? 0 : -1;
}

static cJSON *notes_json(const struct notes *l)
{
        cJSON *list = cJSON_CreateArray();
        size_t i;

        for (i = 0; list != NULL && i < l->n; i++) {
                const struct note *x = &l->v[i];
                cJSON *o = cJSON_CreateObject();

                if (append_item(list, o) != 0 || add_str(o, "name", x->name) != 0 ||
                    add_str(o, "subject", x->subject) != 0 ||
                    add_str(o, "severity", finding_severity_name(x->severity)) != 0 ||
                    add_str(o, "summary", x->summary) != 0 ||
                    add_str(o, "halt_id", x->halt_id) != 0 ||
                    add_num(o, "at_ms", (double)x->at_ms) != 0 ||
                    add_time(o, "at", x->at_ms) != 0) {
                        cJSON_Delete(list);
                        return NULL;
                }
        }
        return list;
}

/* `l` under `key`, with its total in counts[count_key]. */
static int add_notes(cJSON *root, cJSON *counts, const char *key, const char *count_key,
                     const struct notes *l)
{
        cJSON *list = notes_json(l);

        if (list == NULL || !cJSON_AddItemToObject(root, key, list)) {
                cJSON_Delete(list);
                return -1;
        }
        return add_num(counts, count_key, (double)l->total);
}

/* "silences": those in force at the end, and whether the file could be read. */
static int add_silences(cJSON *root, const char *state_dir, int64_t now)
{
        struct silence_set *set = calloc(1, sizeof *set);
        cJSON *o = cJSON_AddObjectToObject(root, "silences_in_force"), *list = NULL;
        struct rwerr e;
        int ok = set != NULL && o != NULL;

        if (ok && silence_load(state_dir, set, &e) != RW_OK) {
                ok = cJSON_AddBoolToObject(o, "read", 0) != NULL && add_str(o, "error", e.msg) == 0;
                set->n = 0;
        } else if (ok) {
                ok = cJSON_AddBoolToObject(o, "read", 1) != NULL;
        }
        if (ok)
                list = silence_list_json(set, now);
        ok = ok && list != NULL && cJSON_AddItemToObject(o, "list", list);
        if (!ok)
                cJSON_Delete(list);
        free(set);
        return ok ? 0 : -1;
}

/* One Tier 3 verdict of status.json, as it is there (value and unit when it has them). */
static cJSON *figure_json(const cJSON *vd)
{
        static const char *const keys[] = {"invariant", "status", "mode",
                                           "summary",   "value",  "unit"};
        cJSON *o = cJSON_CreateObject();
        size_t k;

        for (k = 0; o != NULL && k < sizeof keys / sizeof keys[0]; k++) {
                const cJSON *v = cJSON_GetObjectItemCaseSensitive(vd, keys[k]);
                cJSON *copy;

                if (!cJSON_IsString(v) && !cJSON_IsNumber(v))
                        continue;
                if ((copy = cJSON_Duplicate(v, 0)) == NULL ||
                    !cJSON_AddItemToObject(o, keys[k], copy)) {
                        cJSON_Delete(copy);
                        cJSON_Delete(o);
                        return NULL;
                }
        }
        return o;
}

static int tier3_figures(cJSON *t3, const cJSON *status)
{
        const cJSON *cyc = cJSON_GetObjectItemCaseSensitive(status, "cycle");
        const cJSON *cid = cJSON_GetObjectItemCaseSensitive(cyc, "correlation_id");
        const cJSON *at = cJSON_GetObjectItemCaseSensitive(cyc, "started_at");
        const cJSON *upd = cJSON_GetObjectItemCaseSensitive(status, "updated_at");
        const cJSON *vd, *tier;
        cJSON *list = cJSON_AddArrayToObject(t3, "figures");

        if (list == NULL ||
            add_str(t3, "cycle", cJSON_IsString(cid) ? cid->valuestring : "") != 0 ||
            add_str(t3, "cycle_started_at", cJSON_IsString(at) ? at->valuestring : "") != 0 ||
            add_str(t3, "updated_at", cJSON_IsString(upd) ? upd->valuestring : "") != 0)
                return -1;
        cJSON_ArrayForEach(vd, cJSON_GetObjectItemCaseSensitive(cyc, "verdicts"))
        {
                tier = cJSON_GetObjectItemCaseSensitive(vd, "tier");
                if (cJSON_IsNumber(tier) && tier->valuedouble == VERDICT_TIER_TRACK &&
                    append_item(list, figure_json(vd)) != 0)
                        return -1;
        }
        return 0;
}

/* "tier3": the Tier 3 verdicts of the last cycle in STATE_DIR/status.json. */
static int add_tier3(cJSON *root, const char *state_dir)
{
        cJSON *t3 = cJSON_AddObjectToObject(root, "tier3"), *status = NULL;
        char path[PATH_MAX], *text = NULL, why[PATH_MAX + RWERR_MSG_MAX];
        struct rwerr e;
        size_t len = 0;
        int rc;

        if (t3 == NULL || history_path(state_dir, STATUS_FILE, path, sizeof path, &e) != RW_OK ||
            add_str(t3, "file", path) != 0)
                return -1;
        rc = fileio_read(path, STATUS_FILE_MAX, &text, &len, &e);
        if (rc == RW_ERR_NOMEM)
                return -1;
        if (rc == RW_ERR_IO && errno == ENOENT)
                (void)snprintf(why, sizeof why, "%s does not exist: no cycle has been recorded",
                               path);
        else if (rc != RW_OK)
                (void)snprintf(why, sizeof why, "%s", e.msg);
        else if (!cJSON_IsObject(status = cJSON_ParseWithLength(text, len)))
                (void)snprintf(why, sizeof why, "%s is not a JSON object (damaged?)", path);
        else if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(status, "cycle")))
                (void)snprintf(why, sizeof why, "%s records no cycle yet", path);
        else
                why[0] = '\0';
        free(text);
        rc = cJSON_AddBoolToObject(t3, "read", why[0] == '\0') != NULL ? 0 : -1;
        if (rc == 0 && why[0] != '\0')
                rc = add_str(t3, "error", why);
        else if (rc == 0)
                rc = tier3_figures(t3, status);
        cJSON_Delete(status);
        return rc;
}

static int add_unreadable(cJSON *root, cJSON *counts, const struct gather *g)
{
        cJSON *list = cJSON_AddArrayToObject(root, "unreadable_lines");
        size_t i;

        for (i = 0; list != NULL && i < g->unreadable && i < UNREADABLE_NAMED; i++) {
                if (append_item(list, cJSON_CreateString(g->named[i])) != 0)
                        return -1;
        }
        return list != NULL && add_num(counts, "unreadable_lines", (double)g->unreadable) == 0 ? 0
                                                                                               : -1;
}

static cJSON *report_json(struct gather *g, const char *state_dir)
{
        cJSON *root = cJSON_CreateObject(), *counts = NULL, *history;
        int ok = root != NULL;

        ok = ok && add_num(root, "version", 1) == 0 &&
             add_num(root, "since_ms", (double)g->since) == 0 &&
             add_num(root, "now_ms", (double)g->now) == 0 &&
             add_time(root, "since", g->since) == 0 && add_time(root, "until", g->now) == 0 &&
             (history = cJSON_AddObjectToObject(root, "history")) != NULL &&
             cJSON_AddBoolToObject(history, "read", g->history_ok) != NULL &&
             (g->history_ok || add_str(history, "error", g->history_error) == 0) &&
             (counts = cJSON_AddObjectToObject(root, "counts")) != NULL;
        ok = ok && add_alerts(root, counts, g) == 0 &&
             add_notes(root, counts, "info", "info", &g->info) == 0 &&
             add_notes(root, counts, "silence_changes", "silence_changes", &g->silences) == 0 &&
             add_notes(root, counts, "delivery_failed", "delivery_failed", &g->delivery) == 0 &&
             add_num(counts, "other_events", (double)g->other) == 0 &&
             add_unreadable(root, counts, g) == 0 && add_silences(root, state_dir, g->now) == 0 &&
             add_tier3(root, state_dir) == 0;
        if (!ok) {
                cJSON_Delete(root);
                return NULL;
        }
        return root;
}

/* ------------------------------------------------------------ the text form */

static const char *jstr(const cJSON *o, const char *key)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

        return cJSON_IsString(v) ? v->valuestring : "";
}

static double jnum(const cJSON *o, const char *key)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

        return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static const char *plural(double n)
{
        return n == 1 ? "" : "s";
}

/* "2026-12-03T08:00:00Z": RFC 3339 UTC to the second, for people. */
static void when(const cJSON *o, const char *key, char out[RWCLOCK_UTC_SIZE])
{
        const char *t = jstr(o, key), *dot = strchr(t, '.');
        size_t n = dot != NULL ? (size_t)(dot - t) : strlen(t);

        if (n >= RWCLOCK_UTC_SIZE - 1)
                n = RWCLOCK_UTC_SIZE - 2;
        memcpy(out, t, n);
        if (dot != NULL)
                out[n++] = 'Z';
        out[n] = '\0';
}

/* "2d 3h", "1h 2m", "5m 10s", "45s": the two largest units. */
static void span(double ms, char *out, size_t cap)
{
        long long s = ms > 0 ? (long long)(ms / 1000) : 0;
        long long d = s / 86400, h = s % 86400 / 3600, m = s % 3600 / 60;

        if (d > 0)
                (void)snprintf(out, cap, "%lldd %lldh", d, h);
        else if (h > 0)
                (void)snprintf(out, cap, "%lldh %lldm", h, m);
        else if (m > 0)
                (void)snprintf(out, cap, "%lldm %llds", m, s % 60);
        else
                (void)snprintf(out, cap, "%llds", s);
}

static void headline(const cJSON *r, FILE *f)
{
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(r, "counts");
        const cJSON *h = cJSON_GetObjectItemCaseSensitive(r, "history");
        char since[RWCLOCK_UTC_SIZE], until[RWCLOCK_UTC_SIZE];
        double unread = jnum(c, "unreadable_lines");

        when(r, "since", since);
        when(r, "until", until);
        fprintf(f, "relaywatch report %s to %s: ", since, until);
        if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(h, "read")))
                fprintf(f, "HISTORY NOT READ (%s); ", jstr(h, "error"));
        fprintf(f,
                "%.0f alert%s opened, %.0f resolved, %.0f still open; %.0f update%s or re-page%s; "
                "%.0f held by a silence; %.0f halt%s lifted or resume%s; %.0f delivery "
                "failure%s",
                jnum(c, "opened"), plural(jnum(c, "opened")), jnum(c, "resolved"),
                jnum(c, "still_open"), jnum(c, "updates"), plural(jnum(c, "updates")),
                plural(jnum(c, "updates")), jnum(c, "held_by_silence"), jnum(c, "info"),
                plural(jnum(c, "info")), plural(jnum(c, "info")), jnum(c, "delivery_failed"),
                plural(jnum(c, "delivery_failed")));
        if (unread > 0)
                fprintf(f, "; %.0f unreadable history line%s", unread, plural(unread));
        fprintf(f, "\n");
}

/* One alert: when, how bad, what; then what became of it; then its summary. */
static void alert_text(const cJSON *a, FILE *f)
{
        char opened[RWCLOCK_UTC_SIZE], resolved[RWCLOCK_UTC_SIZE], d[32];
        const char *subject = jstr(a, "subject");
        double updates = jnum(a, "updates");

        when(a, "opened_at", opened);
        fprintf(f, "  %s %-8s %s%s%s", opened, jstr(a, "severity"), jstr(a, "name"),
                subject[0] != '\0' ? " " : "", subject);
        if (jnum(a, "tier") > 0)
                fprintf(f, " (tier %.0f)", jnum(a, "tier"));
        fprintf(f, "\n      ");
        if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(a, "duration_ms"))) {
                when(a, "resolved_at", resolved);
                span(jnum(a, "duration_ms"), d, sizeof d);
                fprintf(f, "resolved %s after %s", resolved, d);
        } else {
                span(jnum(a, "open_for_ms"), d, sizeof d);
                fprintf(f, "STILL OPEN, for %s", d);
        }
        if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(a, "opened_in_window")))
                fprintf(f, " (opened before the window)");
        if (updates > 0)
                fprintf(f, "; %.0f update%s", updates, plural(updates));
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(a, "held_by_silence")))
                fprintf(f, cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(a, "paged"))
                                   ? "; held by a silence for a while"
                                   : "; held by a silence, never paged");
        if (jstr(a, "halt_id")[0] != '\0')
                fprintf(f, "; halt %s", jstr(a, "halt_id"));
        fprintf(f, "\n      %s\n", jstr(a, "summary"));
}

static void alerts_text(const cJSON *r, FILE *f)
{
        const cJSON *list = cJSON_GetObjectItemCaseSensitive(r, "alerts"), *a;
        double left = jnum(r, "alerts_left_out");
        int any = 0;

        fprintf(f, "\nAlerts opened, resolved or open in the window:\n");
        cJSON_ArrayForEach(a, list)
        {
                alert_text(a, f);
                any = 1;
        }
        if (!any)
                fprintf(f, "  none\n");
        if (left > 0)
                fprintf(f, "  ... and %.0f more (see the JSON form)\n", left);
}

static void notes_text(const cJSON *r, const char *key, const char *title, double total, FILE *f)
{
        const cJSON *list = cJSON_GetObjectItemCaseSensitive(r, key), *n;
        int shown = 0;

        fprintf(f, "\n%s:\n", title);
        cJSON_ArrayForEach(n, list)
        {
                char at[RWCLOCK_UTC_SIZE];
                const char *subject = jstr(n, "subject");

                when(n, "at", at);
                fprintf(f, "  %s %s%s%s: %s\n", at, jstr(n, "name"), subject[0] != '\0' ? " " : "",
                        subject, jstr(n, "summary"));
                shown++;
        }
        if (total == 0)
                fprintf(f, "  none\n");
        else if (total > shown)
                fprintf(f, "  ... and %.0f more\n", total - shown);
}

static void silences_text(const cJSON *r, FILE *f)
{
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(r, "silences_in_force"), *x;
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(r, "counts");
        int any = 0;

        notes_text(r, "silence_changes", "Silences added or expired", jnum(c, "silence_changes"),
                   f);
        fprintf(f, "\nSilences in force at the end:\n");
        if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "read")))
                fprintf(f, "  UNKNOWN: %s\n", jstr(s, "error"));
        cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(s, "list"))
        {
                char ends[RWCLOCK_UTC_SIZE];
                const char *subject = jstr(x, "subject");

                when(x, "ends_at", ends);
                fprintf(f, "  %s %s%s%s until %s, by %s: %s\n", jstr(x, "id"), jstr(x, "name"),
                        subject[0] != '\0' ? ":" : "", subject, ends, jstr(x, "created_by"),
                        jstr(x, "reason"));
                any = 1;
        }
        if (!any && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "read")))
                fprintf(f, "  none\n");
}

static void tier3_text(const cJSON *r, FILE *f)
{
        const cJSON *t3 = cJSON_GetObjectItemCaseSensitive(r, "tier3"), *x;
        char started[RWCLOCK_UTC_SIZE];
        int any = 0;

        if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(t3, "read"))) {
                fprintf(f, "\nTier 3 figures: not available: %s\n", jstr(t3, "error"));
                return;
        }
        when(t3, "cycle_started_at", started);
        fprintf(f, "\nTier 3 figures of the last cycle (%s, started %s):\n", jstr(t3, "cycle"),
                started);
        cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(t3, "figures"))
        {
                fprintf(f, "  %-22s %-18s", jstr(x, "invariant"), jstr(x, "status"));
                if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(x, "value")))
                        fprintf(f, " %g %s:", jnum(x, "value"), jstr(x, "unit"));
                fprintf(f, " %s\n", jstr(x, "summary"));
                any = 1;
        }
        if (!any)
                fprintf(f, "  none recorded\n");
}

static void unreadable_text(const cJSON *r, FILE *f)
{
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(r, "counts"), *x;
        double total = jnum(c, "unreadable_lines");
        int shown = 0;

        if (total == 0)
                return;
        fprintf(f, "\nUnreadable history lines (%.0f, left out of the figures above):\n", total);
        cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(r, "unreadable_lines"))
        {
                fprintf(f, "  %s\n", cJSON_IsString(x) ? x->valuestring : "");
                shown++;
        }
        if (total > shown)
                fprintf(f, "  ... and %.0f more\n", total - shown);
}

static char *report_text(const cJSON *r)
{
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(r, "counts");
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);

        if (f == NULL)
                return NULL;
        headline(r, f);
        alerts_text(r, f);
        notes_text(r, "info", "Halts lifted and resumes", jnum(c, "info"), f);
        silences_text(r, f);
        notes_text(r, "delivery_failed", "Delivery failures", jnum(c, "delivery_failed"), f);
        tier3_text(r, f);
        unreadable_text(r, f);
        if (ferror(f) || fclose(f) != 0) {
                free(text);
                return NULL;
        }
        return text;
}

/* ------------------------------------------------------------ the report */

int alert_report_build(const char *state_dir, int64_t since_ms, int64_t now_ms, struct cJSON **json,
                       char **text, struct rwerr *err)
{
        char path[PATH_MAX], old[PATH_MAX];
        struct gather *g;
        cJSON *root;
        int rc;

        if (json != NULL)
                *json = NULL;
        if (text != NULL)
                *text = NULL;
        if (since_ms > now_ms || since_ms < 0)
                return rwerr_set(err, RW_ERR_INVALID, "report: the window starts after it ends");
        if ((rc = history_path(state_dir, HISTORY_FILE, path, sizeof path, err)) != RW_OK ||
            (rc = history_path(state_dir, HISTORY_OLD, old, sizeof old, err)) != RW_OK)
                return rc;
        if ((g = calloc(1, sizeof *g)) == NULL)
                return rwerr_set(err, RW_ERR_NOMEM, "out of memory for the report");
        g->since = since_ms;
        g->now = now_ms;
        g->history_ok = 1;
        rc = read_history(g, old);
        if (rc == RW_OK)
                rc = read_history(g, path);
        root = rc == RW_OK ? report_json(g, state_dir) : NULL;
        gather_free(g);
        free(g);
        if (root == NULL)
                return rwerr_set(err, RW_ERR_NOMEM, "out of memory making the report");
        if (text != NULL && (*text = report_text(root)) == NULL) {
                cJSON_Delete(root);
                return rwerr_set(err, RW_ERR_NOMEM, "out of memory writing the report");
        }
        if (json != NULL)
                *json = root;
        else
                cJSON_Delete(root);
        return RW_OK;
}
