/*
 * alert_tracker: verdicts and findings in, alert events out, once each
 * (alert_tracker.h).
 *
 * Each alert the tracker knows is a `struct tracked`: the last event made
 * for it and the timers around it. An alert is open from its first FIRING
 * until its RESOLVED; while the condition is clear but flap_window_s has
 * not passed it is "clearing", and a violation then only cancels the
 * clearing. The open alerts are written to STATE_DIR/alerts.json on every
 * change; the monotonic timers are not (a restart begins them again).
 */
#include "alert_tracker.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "audit_sink.h"
#include "alert.h"
#include "alert_history.h"
#include "alert_sender.h"
#include "fileio.h"
#include "jsonlog.h"
#include "rwclock.h"
#include "silence.h"

#define ALERTS_FILE "alerts.json"
#define ALERTS_FILE_MAX ((size_t)8 * 1024 * 1024)
#define TRACKED_MAX 4096     /* open alerts; past this a new one is logged, not tracked */
#define BACKLOG_MAX 4096     /* events the sender's queue had no room for */
#define UPDATE_MIN_MS 60000u /* an open alert's figure is re-sent at most this often */
#define DAY_MS ((int64_t)24 * 3600 * 1000)

struct tracked {
        struct alert a;            /* the last FIRING made for it */
        int clearing;              /* the condition is clear; resolve after the flap window */
        int held;                  /* a silence held its FIRING: nothing was sent */
        int halt_in_force;         /* its HALT still stands: no resolve yet */
        int escalated;             /* re-paged for a HALT not acknowledged / not effective */
        uint64_t clear_since_mono; /* when the clearing began */
        uint64_t last_sent_mono;   /* the last FIRING or update handed to the sender */
        uint64_t last_resend_mono[CONFIG_ROUTES_MAX]; /* per Alertmanager route: last re-send */
        uint64_t last_repage_mono;                    /* the last re-page of an escalation */
        char escalation[ALERT_NAME_MAX];              /* the finding that escalated it */
};

struct alert_tracker {
        const struct config *cfg;
        struct alert_sender *sender;
        struct tracked *items;
        size_t n, cap;
        struct alert *backlog; /* events to hand to the sender when its queue has room */
        size_t nbacklog;
        struct silence_set silences;
        struct timespec silences_mtime;
        int silences_present;
        int64_t last_report_day; /* UTC day number of the last daily report */
        char last_cid[64];
        const struct audit_sink *audit; /* borrowed; NULL: nothing recorded */
        int silences_recorded;          /* the silences in force were recorded once */
        char expired[SILENCE_MAX][20];  /* silences whose end was recorded */
        size_t nexpired;
};

/* ------------------------------------------------------------ helpers */

static void copy_text(char *dst, size_t cap, const char *src)
{
        (void)snprintf(dst, cap, "%s", src != NULL ? src : "");
}

static struct tracked *find(struct alert_tracker *t, const char *dedup_key)
{
        size_t i;

        for (i = 0; i < t->n; i++) {
                if (strcmp(t->items[i].a.dedup_key, dedup_key) == 0)
                        return &t->items[i];
        }
        return NULL;
}

static void drop(struct alert_tracker *t, struct tracked *x)
{
        size_t i = (size_t)(x - t->items);

        alert_release(&x->a);
        memmove(&t->items[i], &t->items[i + 1], (t->n - i - 1) * sizeof *t->items);
        t->n--;
}

static void history(struct alert_tracker *t, const char *event, const struct alert *a)
{
        struct rwerr err;
        cJSON *c;

        if (t->audit != NULL && (c = cJSON_CreateObject()) != NULL) {
                cJSON_AddStringToObject(c, "event", event);
                cJSON_AddItemToObject(c, "alert", alert_to_json(a));
                audit_sink_record(t->audit, "alert", a->correlation_id, c, 0);
                cJSON_Delete(c);
        }
        if (alert_history_append(t->cfg->state_dir, event, a, &err) != RW_OK)
                jsonlog_message(JSONLOG_WARN, "alert_history_failed", a->correlation_id, "%s",
                                err.msg);
}

static void log_event(const char *event, const struct alert *a)
{
        cJSON *line = jsonlog_begin(a->severity >= FINDING_ERROR ? JSONLOG_WARN : JSONLOG_INFO,
                                    event, a->correlation_id);

        if (line == NULL)
                return;
        cJSON_AddStringToObject(line, "alert", a->name);
        if (a->subject[0] != '\0')
                cJSON_AddStringToObject(line, "subject", a->subject);
        cJSON_AddStringToObject(line, "dedup_key", a->dedup_key);
        cJSON_AddStringToObject(line, "severity", finding_severity_name(a->severity));
        cJSON_AddStringToObject(line, "summary", a->summary);
        if (a->halt_id[0] != '\0')
                cJSON_AddStringToObject(line, "halt_id", a->halt_id);
        if (a->runbook_url[0] != '\0')
                cJSON_AddStringToObject(line, "runbook", a->runbook_url);
        jsonlog_emit(line);
}

/* Hands `a` to the sender, or keeps it for the next tick when its queue is full. */
static void submit(struct alert_tracker *t, const struct alert *a, const char *route)
{
        struct alert *grown;
        int rc;

        if (t->sender == NULL)
                return;
        rc = alert_sender_submit(t->sender, a, route);
        if (rc == RW_OK)
                return;
        if (route == NULL && t->nbacklog < BACKLOG_MAX) {
                grown = realloc(t->backlog, (t->nbacklog + 1) * sizeof *grown);
                if (grown != NULL) {
                        t->backlog = grown;
                        if (alert_copy(&t->backlog[t->nbacklog], a) == RW_OK) {
                                t->nbacklog++;
                                return;
                        }
                }
        }
        jsonlog_message(JSONLOG_ERROR, "alert_not_queued", a->correlation_id,
                        "%s %s could not be queued for sending (%s): it is in the log and the "
                        "history only",
                        a->dedup_key, alert_state_name(a->state),
                        rc == RW_ERR_RANGE ? "the send queue and its backlog are full"
                                           : "out of memory");
}

static void retry_backlog(struct alert_tracker *t)
{
        size_t done = 0;

        while (done < t->nbacklog &&
               alert_sender_submit(t->sender, &t->backlog[done], NULL) == RW_OK) {
                alert_release(&t->backlog[done]);
                done++;
        }
        if (done == 0)
                return;
        memmove(t->backlog, t->backlog + done, (t->nbacklog - done) * sizeof *t->backlog);
        t->nbacklog -= done;
}

/* ------------------------------------------------------------ the file */

static int tracked_to_json(const struct tracked *x, cJSON *arr)
{
        cJSON *o = alert_to_json(&x->a);

        if (o == NULL || !cJSON_AddItemToArray(arr, o)) {
                cJSON_Delete(o);
                return -1;
        }
        if (cJSON_AddBoolToObject(o, "held", x->held) == NULL ||
            cJSON_AddBoolToObject(o, "escalated", x->escalated) == NULL ||
            cJSON_AddStringToObject(o, "escalation", x->escalation) == NULL)
                return -1;
        return 0;
}

/* Writes the open alerts and the day of the last report to STATE_DIR/alerts.json. */
static void save(struct alert_tracker *t)
{
        cJSON *root = cJSON_CreateObject(), *arr;
        struct rwerr err;
        char *text = NULL;
        size_t i;
        int ok = root != NULL && cJSON_AddNumberToObject(root, "version", 1) != NULL &&
                 cJSON_AddNumberToObject(root, "last_report_day", (double)t->last_report_day) !=
                         NULL &&
                 (arr = cJSON_AddArrayToObject(root, "alerts")) != NULL;

        for (i = 0; ok && i < t->n; i++)
                ok = tracked_to_json(&t->items[i], arr) == 0;
        if (ok)
                text = cJSON_PrintUnformatted(root);
        cJSON_Delete(root);
        if (text == NULL) {
                jsonlog_message(JSONLOG_ERROR, "alert_state_write_failed", t->last_cid,
                                "out of memory writing %s/%s: a restart may page again",
                                t->cfg->state_dir, ALERTS_FILE);
                return;
        }
        if (fileio_replace(t->cfg->state_dir, ALERTS_FILE, text, strlen(text), 0600, 1, &err) !=
            RW_OK)
                jsonlog_message(JSONLOG_ERROR, "alert_state_write_failed", t->last_cid,
                                "%s: a restart may page again", err.msg);
        free(text);
}

/* Moves an unreadable alerts.json aside so the next save does not destroy the evidence. */
static void set_aside(const struct alert_tracker *t, const char *path, const char *why)
{
        char aside[4096];

        (void)snprintf(aside, sizeof aside, "%s.unreadable", path);
        if (rename(path, aside) != 0)
                aside[0] = '\0';
        jsonlog_message(JSONLOG_ERROR, "alert_state_unreadable", NULL,
                        "%s: %s; set aside as %s, open alerts start empty (they open again, "
                        "once, while their condition stands)",
                        path, why, aside[0] != '\0' ? aside : "(could not rename)");
        (void)t;
}

static void begin_clearing(struct tracked *x, uint64_t now);

/*
 * Findings halt control judges again on every tick from the start (the
 * halt path, the heartbeat's blindness): the only proof they still stand.
 */
static int rejudged_at_start(const char *name)
{
        return strcmp(name, "HALT_PATH_DOWN") == 0 || strcmp(name, "WATCHDOG_BLIND") == 0;
}

static int load_one(struct alert_tracker *t, const cJSON *o, struct rwerr *err)
{
        struct tracked x;
        const cJSON *esc;
        int rc;

        memset(&x, 0, sizeof x);
        if ((rc = alert_from_json(o, &x.a, err)) != RW_OK)
                return rc;
        x.held = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "held"));
        x.escalated = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "escalated"));
        esc = cJSON_GetObjectItemCaseSensitive(o, "escalation");
        if (cJSON_IsString(esc))
                copy_text(x.escalation, sizeof x.escalation, esc->valuestring);
        if (x.a.state != ALERT_FIRING || find(t, x.a.dedup_key) != NULL || t->n >= t->cap) {
                alert_release(&x.a);
                return rwerr_set(err, RW_ERR_INVALID, "alert %s: resolved, repeated or too many",
                                 x.a.dedup_key);
        }
        x.last_sent_mono = x.last_repage_mono = rwclock_mono_ms();
        for (size_t k = 0; k < CONFIG_ROUTES_MAX; k++)
                x.last_resend_mono[k] = x.last_sent_mono;
        x.halt_in_force = x.a.halt_id[0] != '\0';
        /* a condition the new process judges on its first ticks: reported
         * again while it stands, else resolved after the flap window (the
         * process that opened it, and would have cleared it, is gone) */
        if (rejudged_at_start(x.a.name))
                begin_clearing(&x, rwclock_mono_ms());
        t->items[t->n++] = x;
        return RW_OK;
}

static void load(struct alert_tracker *t)
{
        char path[4096], *text = NULL;
        const cJSON *arr, *o, *day;
        struct rwerr err;
        cJSON *root;
        size_t len;

        (void)snprintf(path, sizeof path, "%s/%s", t->cfg->state_dir, ALERTS_FILE);
        if (fileio_read(path, ALERTS_FILE_MAX, &text, &len, &err) != RW_OK) {
                if (errno != ENOENT)
                        set_aside(t, path, err.msg);
                t->last_report_day = rwclock_wall_ms() / DAY_MS; /* no report at first start */
                return;
        }
        root = cJSON_ParseWithLength(text, len);
        free(text);
        arr = cJSON_GetObjectItemCaseSensitive(root, "alerts");
        day = cJSON_GetObjectItemCaseSensitive(root, "last_report_day");
        if (!cJSON_IsArray(arr) || !cJSON_IsNumber(day)) {
                cJSON_Delete(root);
                set_aside(t, path,
                          "not an alerts file (\"alerts\" array and "
                          "\"last_report_day\" expected)");
                t->last_report_day = rwclock_wall_ms() / DAY_MS;
                return;
        }
        t->last_report_day = (int64_t)day->valuedouble;
        cJSON_ArrayForEach(o, arr)
        {
                if (load_one(t, o, &err) != RW_OK)
                        jsonlog_message(JSONLOG_WARN, "alert_state_entry_skipped", NULL, "%s: %s",
                                        path, err.msg);
        }
        cJSON_Delete(root);
        if (t->n > 0)
                jsonlog_message(JSONLOG_INFO, "alerts_loaded", NULL,
                                "%zu open alert%s from %s: they are not paged again", t->n,
                                t->n == 1 ? "" : "s", path);
}

/* ------------------------------------------------------------ silences */

static cJSON *silence_json(const struct silence *x)
{
        cJSON *c = cJSON_CreateObject();

        if (c == NULL)
                return NULL;
        cJSON_AddStringToObject(c, "id", x->id);
        cJSON_AddStringToObject(c, "name", x->name);
        cJSON_AddStringToObject(c, "subject", x->subject);
        cJSON_AddStringToObject(c, "reason", x->reason);
        cJSON_AddStringToObject(c, "created_by", x->created_by);
        cJSON_AddNumberToObject(c, "created_ms", (double)x->created_ms);
        cJSON_AddNumberToObject(c, "ends_ms", (double)x->ends_ms);
        return c;
}

static const struct silence *silence_by_id(const struct silence_set *set, const char *id)
{
        size_t i;

        for (i = 0; i < set->n; i++)
                if (strcmp(set->items[i].id, id) == 0)
                        return &set->items[i];
        return NULL;
}

static void record_silence(struct alert_tracker *t, const char *kind, const struct silence *x)
{
        cJSON *c = silence_json(x);

        audit_sink_record(t->audit, kind, x->id, c, 0);
        cJSON_Delete(c);
}

/* The audit records of a change of the silences file: added and removed ones. */
static void record_silences(struct alert_tracker *t, const struct silence_set *before)
{
        size_t i;

        if (t->audit == NULL)
                return;
        if (!t->silences_recorded) { /* the first read: what is in force, once per start */
                cJSON *c = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(c, "silences");

                for (i = 0; arr != NULL && i < t->silences.n; i++)
                        cJSON_AddItemToArray(arr, silence_json(&t->silences.items[i]));
                audit_sink_record(t->audit, "silences_in_force", "silences", c, 0);
                cJSON_Delete(c);
                t->silences_recorded = 1;
                return;
        }
        for (i = 0; i < t->silences.n; i++)
                if (silence_by_id(before, t->silences.items[i].id) == NULL)
                        record_silence(t, "silence_added", &t->silences.items[i]);
        for (i = 0; i < before->n; i++)
                if (silence_by_id(&t->silences, before->items[i].id) == NULL)
                        record_silence(t, "silence_removed", &before->items[i]);
}

/* A silence whose end has come is recorded once as expired. */
static void record_expired(struct alert_tracker *t)
{
        int64_t now = rwclock_wall_ms();
        size_t i, j;

        for (i = 0; t->audit != NULL && i < t->silences.n; i++) {
                const struct silence *x = &t->silences.items[i];

                if (x->ends_ms > now)
                        continue;
                for (j = 0; j < t->nexpired && strcmp(t->expired[j], x->id) != 0; j++)
                        ;
                if (j < t->nexpired)
                        continue;
                record_silence(t, "silence_expired", x);
                if (t->nexpired == SILENCE_MAX) /* the oldest note makes room */
                        memmove(t->expired[0], t->expired[1],
                                (SILENCE_MAX - 1) * sizeof t->expired[0]);
                else
                        t->nexpired++;
                copy_text(t->expired[t->nexpired - 1], sizeof t->expired[0], x->id);
        }
}

/* Reads STATE_DIR/silences.json again when it changed (or appeared, or went). */
static void reload_silences(struct alert_tracker *t)
{
        struct silence_set before;
        char path[4096];
        struct stat st;
        struct rwerr err;
        int present;

        (void)snprintf(path, sizeof path, "%s/silences.json", t->cfg->state_dir);
        present = stat(path, &st) == 0;
        if (present == t->silences_present &&
            (!present || (st.st_mtim.tv_sec == t->silences_mtime.tv_sec &&
                          st.st_mtim.tv_nsec == t->silences_mtime.tv_nsec)))
                return;
        t->silences_present = present;
        if (present)
                t->silences_mtime = st.st_mtim;
        before = t->silences;
        if (silence_load(t->cfg->state_dir, &t->silences, &err) != RW_OK) {
                jsonlog_message(JSONLOG_ERROR, "silences_unreadable", t->last_cid,
                                "%s; the silences read before stay in force", err.msg);
                return;
        }
        jsonlog_message(JSONLOG_INFO, "silences_loaded", t->last_cid, "%zu silence%s in %s",
                        t->silences.n, t->silences.n == 1 ? "" : "s", path);
        record_silences(t, &before);
}

static const struct silence *silenced(const struct alert_tracker *t, const struct alert *a)
{
        return silence_match(&t->silences, a->name, a->subject, rwclock_wall_ms());
}

/* ------------------------------------------------------------ events */

/*
 * Sends an alert's FIRING (or notes that a silence holds it). A re-page for
 * a HALT that is not acknowledged or not effective goes out whatever is
 * silenced: it says the relayer may not have stopped.
 */
/* The audit log's checkpoint that covers what raised `a` (written now if needed). */
static void stamp_audit(struct alert_tracker *t, struct alert *a)
{
        struct audit_ref ref;

        if (audit_sink_checkpoint(t->audit, a->correlation_id, &ref) != 0)
                return;
        a->audit_size = ref.size;
        copy_text(a->audit_root, sizeof a->audit_root, ref.root);
}

static void send_firing(struct alert_tracker *t, struct tracked *x)
{
        const struct silence *s = x->escalated ? NULL : silenced(t, &x->a);

        x->last_sent_mono = rwclock_mono_ms();
        if (s != NULL) {
                if (!x->held)
                        jsonlog_message(JSONLOG_INFO, "alert_silenced", x->a.correlation_id,
                                        "%s is held by silence %s until it ends (%s)",
                                        x->a.dedup_key, s->id, s->reason);
                x->held = 1;
                history(t, "silenced", &x->a);
                return;
        }
        x->held = 0;
        stamp_audit(t, &x->a);
        log_event(x->a.update ? "alert_updated" : "alert_opened", &x->a);
        history(t, x->a.update ? "updated" : "opened", &x->a);
        submit(t, &x->a, NULL);
}

/* The alert's RESOLVED event, then it is forgotten. */
static void resolve(struct alert_tracker *t, struct tracked *x, const char *why)
{
        struct alert r;

        if (alert_copy(&r, &x->a) != RW_OK) {
                jsonlog_message(JSONLOG_ERROR, "alert_not_queued", x->a.correlation_id,
                                "out of memory resolving %s; it stays open", x->a.dedup_key);
                return;
        }
        r.state = ALERT_RESOLVED;
        r.update = 0;
        r.at_ms = rwclock_wall_ms();
        copy_text(r.summary, sizeof r.summary, why);
        stamp_audit(t, &r);
        log_event("alert_resolved", &r);
        history(t, "resolved", &r);
        if (!x->held)
                submit(t, &r, NULL); /* a held alert was never sent: nothing to resolve */
        alert_release(&r);
        drop(t, x);
}

struct observed {
        const char *name;
        const char *subject;
        enum finding_severity severity;
        int tier;
        const char *summary;
        const cJSON *details; /* may be NULL */
        const char *cid;
        const char *halt_id; /* may be NULL */
};

static void fill_alert(struct alert_tracker *t, struct alert *a, const struct observed *o)
{
        char *details = o->details != NULL ? cJSON_PrintUnformatted(o->details) : NULL;

        free(a->details_json);
        a->details_json = details;
        copy_text(a->name, sizeof a->name, o->name);
        copy_text(a->subject, sizeof a->subject, o->subject);
        alert_dedup_key(a->name, a->subject, a->dedup_key);
        a->severity = o->severity;
        a->state = ALERT_FIRING;
        a->purpose = ALERT_INCIDENT;
        a->tier = o->tier;
        copy_text(a->summary, sizeof a->summary, o->summary);
        copy_text(a->correlation_id, sizeof a->correlation_id, o->cid);
        if (o->halt_id != NULL)
                copy_text(a->halt_id, sizeof a->halt_id, o->halt_id);
        a->at_ms = rwclock_wall_ms();
        alert_set_runbook(a, t->cfg);
}

/* The condition of o stands: open its alert, or keep the open one (and update a new figure). */
static void fire(struct alert_tracker *t, const struct observed *o)
{
        char key[ALERT_DEDUP_MAX];
        struct tracked *x;
        uint64_t now = rwclock_mono_ms(), min_gap;

        alert_dedup_key(o->name, o->subject, key);
        x = find(t, key);
        if (x == NULL) {
                if (t->n == t->cap) {
                        jsonlog_message(JSONLOG_ERROR, "alert_not_tracked", o->cid,
                                        "%d alerts are open already; %s: %s is logged here only",
                                        TRACKED_MAX, key, o->summary);
                        return;
                }
                x = &t->items[t->n++];
                memset(x, 0, sizeof *x);
                fill_alert(t, &x->a, o);
                x->a.opened_ms = x->a.at_ms;
                x->a.seq = (uint64_t)x->a.opened_ms;
                x->halt_in_force = o->halt_id != NULL;
                for (size_t k = 0; k < CONFIG_ROUTES_MAX; k++)
                        x->last_resend_mono[k] = now;
                send_firing(t, x);
                save(t);
                return;
        }
        if (x->clearing) {
                x->clearing = 0; /* a flap: the same incident, no new page */
                jsonlog_message(JSONLOG_INFO, "alert_flapped", o->cid,
                                "%s is violated again within flap_window_s: still the same alert",
                                key);
        }
        if (o->halt_id != NULL && x->a.halt_id[0] == '\0') {
                copy_text(x->a.halt_id, sizeof x->a.halt_id, o->halt_id);
                x->halt_in_force = 1;
        }
        min_gap = t->cfg->flap_window_s * 1000 > UPDATE_MIN_MS ? t->cfg->flap_window_s * 1000
                                                               : UPDATE_MIN_MS;
        if (strcmp(x->a.summary, o->summary) == 0 || now - x->last_sent_mono < min_gap)
                return; /* the same figure, or one sent a moment ago */
        fill_alert(t, &x->a, o);
        x->a.update = 1;
        send_firing(t, x);
        save(t);
}

/* The condition of an open alert is clear: start the flap window. */
static void begin_clearing(struct tracked *x, uint64_t now)
{
        if (!x->clearing) {
                x->clearing = 1;
                x->clear_since_mono = now;
        }
}

/* ------------------------------------------------------------ verdicts */

static enum finding_severity verdict_severity(const struct verdict *v)
{
        if (v->tier == VERDICT_TIER_HALT)
                return v->mode == INVARIANT_ENFORCE ? FINDING_CRITICAL : FINDING_WARNING;
        if (strcmp(v->invariant, "RPC_TIMEOUT") == 0 ||
            strcmp(v->invariant, "DB_CONNECTION_LOST") == 0 ||
            strcmp(v->invariant, "ENDPOINT_DISAGREEMENT") == 0)
                return FINDING_ERROR;
        return FINDING_WARNING;
}

static const char *halt_of(const char *invariant, const struct alert_halt_ref *halts, size_t nhalts)
{
        size_t i;

        for (i = 0; i < nhalts; i++) {
                if (strcmp(halts[i].invariant, invariant) == 0)
                        return halts[i].halt_id;
        }
        return NULL;
}

/* Whether `subject` is among the verdict's subjects ("" when it names none). */
static int names_subject(const cJSON *subjects, const char *subject)
{
        const cJSON *s;

        if (!cJSON_IsArray(subjects) || cJSON_GetArraySize(subjects) == 0)
                return subject[0] == '\0';
        cJSON_ArrayForEach(s, subjects)
        {
                if (cJSON_IsString(s) && strcmp(s->valuestring, subject) == 0)
                        return 1;
        }
        return 0;
}

static void observe_verdict(struct alert_tracker *t, const struct verdict *v, const char *halt_id,
                            const char *cid, uint64_t now)
{
        const cJSON *subjects = cJSON_GetObjectItemCaseSensitive(v->evidence, "subjects");
        int truncated =
                cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(v->evidence, "subjects_truncated"));
        struct observed o = {
                .name = v->invariant,
                .subject = "",
                .severity = verdict_severity(v),
                .tier = (int)v->tier,
                .summary = v->summary,
                .details = v->evidence,
                .cid = cid,
                .halt_id = v->tier == VERDICT_TIER_HALT ? halt_id : NULL,
        };
        const cJSON *s;
        size_t i;

        if (v->status == VERDICT_UNKNOWN)
                return; /* could not evaluate: nothing is known to have changed */
        if (v->status == VERDICT_VIOLATED) {
                if (cJSON_IsArray(subjects) && cJSON_GetArraySize(subjects) > 0) {
                        cJSON_ArrayForEach(s, subjects)
                        {
                                if (!cJSON_IsString(s))
                                        continue;
                                o.subject = s->valuestring;
                                fire(t, &o);
                        }
                } else {
                        fire(t, &o);
                }
        }
        if (v->status == VERDICT_VIOLATED && truncated)
                return; /* a subject past the list may still be violated */
        for (i = 0; i < t->n; i++) {
                struct tracked *x = &t->items[i];

                if (strcmp(x->a.name, v->invariant) != 0 || x->a.tier == 0)
                        continue;
                if (v->status == VERDICT_OK || !names_subject(subjects, x->a.subject))
                        begin_clearing(x, now);
        }
}

void alert_tracker_observe(struct alert_tracker *t, const struct cycle_result *r,
                           const struct alert_halt_ref *halts, size_t nhalts,
                           const char *correlation_id)
{
        uint64_t now = rwclock_mono_ms();
        size_t i;

        copy_text(t->last_cid, sizeof t->last_cid, correlation_id);
        reload_silences(t); /* a silence added a moment ago holds this cycle's pages too */
        for (i = 0; i < r->nverdicts; i++) {
                const struct verdict *v = &r->verdicts[i];

                if (v->tier == VERDICT_TIER_TRACK || v->invariant == NULL)
                        continue;
                observe_verdict(t, v, halt_of(v->invariant, halts, nhalts), correlation_id, now);
        }
        /* A Tier 1 alert resolves only once its HALT is lifted, whatever the verdict says. */
        for (i = 0; i < t->n; i++) {
                struct tracked *x = &t->items[i];

                if (x->a.halt_id[0] != '\0')
                        x->halt_in_force = halt_of(x->a.name, halts, nhalts) != NULL;
        }
}

/* ------------------------------------------------------------ findings */

static int is_halt_finding(const char *kind)
{
        return strcmp(kind, "HALT_NOT_ACKNOWLEDGED") == 0 ||
               strcmp(kind, "HALT_NOT_EFFECTIVE") == 0;
}

/* Re-pages the open alerts that caused HALT `halt_id`; 0 when there is none. */
static int escalate(struct alert_tracker *t, const struct finding *f)
{
        char summary[ALERT_SUMMARY_MAX];
        size_t i;
        int found = 0;

        for (i = 0; i < t->n; i++) {
                struct tracked *x = &t->items[i];

                if (strcmp(x->a.halt_id, f->halt_id) != 0)
                        continue;
                found = 1;
                (void)snprintf(summary, sizeof summary, "%s: %s", f->kind, f->summary);
                copy_text(x->a.summary, sizeof x->a.summary, summary);
                copy_text(x->escalation, sizeof x->escalation, f->kind);
                x->a.severity = FINDING_CRITICAL;
                x->a.update = 1;
                x->a.at_ms = rwclock_wall_ms();
                x->escalated = 1;
                x->last_repage_mono = rwclock_mono_ms();
                send_firing(t, x);
        }
        if (found)
                save(t);
        return found;
}

/* The escalation of the alerts behind HALT `halt_id` ends (the relayer acknowledged). */
static void end_escalation(struct alert_tracker *t, const char *kind, const char *halt_id)
{
        size_t i;

        for (i = 0; i < t->n; i++) {
                struct tracked *x = &t->items[i];

                if (x->escalated && strcmp(x->a.halt_id, halt_id) == 0 &&
                    strcmp(x->escalation, kind) == 0) {
                        x->escalated = 0;
                        x->escalation[0] = '\0';
                }
        }
}

static void clear_finding(struct alert_tracker *t, const struct finding *f)
{
        char key[ALERT_DEDUP_MAX];
        struct tracked *x;
        const char *subject = f->subject != NULL ? f->subject : "";

        if (is_halt_finding(f->kind) && subject[0] != '\0')
                end_escalation(t, f->kind, subject);
        alert_dedup_key(f->kind, subject, key);
        if ((x = find(t, key)) != NULL)
                begin_clearing(x, rwclock_mono_ms());
}

static void info_event(struct alert_tracker *t, const struct finding *f)
{
        struct observed o = {f->kind,           f->subject != NULL ? f->subject : "",
                             FINDING_INFO,      0,
                             f->summary,        f->evidence,
                             f->correlation_id, f->halt_id};
        struct alert a;

        memset(&a, 0, sizeof a);
        fill_alert(t, &a, &o);
        a.opened_ms = a.at_ms;
        history(t, "info", &a);
        alert_release(&a);
}

void alert_tracker_sink(void *tracker, const struct finding *f)
{
        struct alert_tracker *t = tracker;
        struct observed o = {
                .name = f->kind,
                .subject = f->subject != NULL ? f->subject : "",
                .severity = f->severity,
                .tier = 0,
                .summary = f->summary,
                .details = f->evidence,
                .cid = f->correlation_id,
                .halt_id = f->halt_id,
        };

        if (f->cleared) {
                clear_finding(t, f);
                return;
        }
        reload_silences(t);
        if (f->severity == FINDING_INFO) {
                info_event(t, f);
                return;
        }
        if (is_halt_finding(f->kind) && f->halt_id != NULL && escalate(t, f))
                return;
        if (is_halt_finding(f->kind) && f->halt_id != NULL)
                o.subject = f->halt_id; /* no alert behind the HALT (a manual one): its own */
        fire(t, &o);
}

/* ------------------------------------------------------------ the tick */

static void resolve_cleared(struct alert_tracker *t, uint64_t now)
{
        size_t i = 0;
        int changed = 0;

        while (i < t->n) {
                struct tracked *x = &t->items[i];

                if (x->clearing && !x->halt_in_force &&
                    now - x->clear_since_mono >= t->cfg->flap_window_s * 1000) {
                        resolve(t, x, "resolved: the condition has been clear for flap_window_s");
                        changed = 1;
                        continue; /* items[i] is the next one now */
                }
                i++;
        }
        if (changed)
                save(t);
}

/* A silence that held an open alert ended: send what it held. */
static void release_held(struct alert_tracker *t)
{
        size_t i;

        for (i = 0; i < t->n; i++) {
                struct tracked *x = &t->items[i];

                if (x->held && !x->clearing && silenced(t, &x->a) == NULL) {
                        jsonlog_message(JSONLOG_INFO, "alert_released", x->a.correlation_id,
                                        "%s: the silence that held it ended and it still stands",
                                        x->a.dedup_key);
                        x->a.update = 0;
                        send_firing(t, x);
                        save(t);
                }
        }
}

/* Re-pages escalated alerts every repage_s, re-sends firing ones to Alertmanager. */
static void repeat_open(struct alert_tracker *t, uint64_t now)
{
        size_t i, k;

        for (i = 0; i < t->n; i++) {
                struct tracked *x = &t->items[i];

                if (x->held)
                        continue;
                if (x->escalated && now - x->last_repage_mono >= t->cfg->repage_s * 1000) {
                        x->last_repage_mono = now;
                        x->a.update = 1;
                        x->a.at_ms = rwclock_wall_ms();
                        send_firing(t, x);
                }
                for (k = 0; k < t->cfg->nroutes; k++) {
                        const struct config_alert_route *rt = &t->cfg->routes[k];

                        if (rt->type != RECEIVER_ALERTMANAGER ||
                            !(rt->severities & (1u << x->a.severity)) ||
                            now - x->last_resend_mono[k] < rt->resend_s * 1000)
                                continue;
                        x->last_resend_mono[k] = now;
                        x->a.update = 1;
                        submit(t, &x->a, rt->name);
                }
        }
}

/* A route that started failing, for the daily report's delivery failures. */
static void delivery_failed_history(struct alert_tracker *t, const struct finding *f)
{
        struct observed o = {f->kind,    f->subject, f->severity,       0,
                             f->summary, NULL,       f->correlation_id, NULL};
        struct alert a;

        memset(&a, 0, sizeof a);
        fill_alert(t, &a, &o);
        a.opened_ms = a.at_ms;
        history(t, "delivery_failed", &a);
        alert_release(&a);
}

/* Routes that started or stopped failing: ALERT_DELIVERY_FAILED, routed as any ERROR. */
static void delivery_changes(struct alert_tracker *t)
{
        struct alert_route_change c[8];
        char summary[ALERT_SUMMARY_MAX], subject[ALERT_SUBJECT_MAX];
        size_t i, n;

        n = alert_sender_take_failures(t->sender, c, sizeof c / sizeof c[0]);
        for (i = 0; i < n; i++) {
                struct finding f;

                memset(&f, 0, sizeof f);
                (void)snprintf(subject, sizeof subject, "route %.100s", c[i].route);
                f.kind = "ALERT_DELIVERY_FAILED";
                f.subject = subject;
                f.correlation_id = t->last_cid;
                if (c[i].failing) {
                        (void)snprintf(summary, sizeof summary,
                                       "alerts to route %.100s are not delivered (kept on disk "
                                       "and retried): %.800s",
                                       c[i].route, c[i].problem);
                        f.severity = FINDING_ERROR;
                        f.summary = summary;
                        delivery_failed_history(t, &f);
                } else {
                        f.severity = FINDING_INFO;
                        f.summary = "the route delivers again";
                        f.cleared = 1;
                }
                alert_tracker_sink(t, &f);
        }
}

static void daily_report(struct alert_tracker *t)
{
        int64_t now = rwclock_wall_ms(), day = now / DAY_MS;
        int64_t minute = (now % DAY_MS) / 60000;
        cJSON *json = NULL, *details;
        char *text = NULL, *line_end;
        struct rwerr err;
        struct alert a;

        if (day <= t->last_report_day || minute < (int64_t)t->cfg->report_minute)
                return;
        t->last_report_day = day;
        save(t);
        if (alert_report_build(t->cfg->state_dir, now - DAY_MS, now, &json, &text, &err) != RW_OK) {
                jsonlog_message(JSONLOG_ERROR, "report_failed", t->last_cid,
                                "the daily report could not be made: %s", err.msg);
                return;
        }
        memset(&a, 0, sizeof a);
        copy_text(a.name, sizeof a.name, "DAILY_REPORT");
        alert_dedup_key(a.name, "", a.dedup_key);
        a.severity = FINDING_INFO;
        a.purpose = ALERT_REPORT;
        a.opened_ms = a.at_ms = now;
        a.seq = (uint64_t)now;
        copy_text(a.summary, sizeof a.summary, text);
        if ((line_end = strchr(a.summary, '\n')) != NULL)
                *line_end = '\0';
        copy_text(a.correlation_id, sizeof a.correlation_id, t->last_cid);
        details = cJSON_CreateObject();
        if (details != NULL && cJSON_AddStringToObject(details, "text", text) != NULL &&
            cJSON_AddItemToObject(details, "report", json)) {
                json = NULL;
                a.details_json = cJSON_PrintUnformatted(details);
        }
        cJSON_Delete(details);
        cJSON_Delete(json);
        free(text);
        jsonlog_message(JSONLOG_INFO, "daily_report", t->last_cid, "%s", a.summary);
        submit(t, &a, NULL);
        alert_release(&a);
}

void alert_tracker_tick(struct alert_tracker *t)
{
        uint64_t now = rwclock_mono_ms();

        reload_silences(t);
        record_expired(t);
        if (t->sender != NULL) {
                retry_backlog(t);
                delivery_changes(t);
        }
        resolve_cleared(t, now);
        release_held(t);
        repeat_open(t, now);
        daily_report(t);
}

/* ------------------------------------------------------------ life */

struct alert_tracker *alert_tracker_new(const struct config *cfg, struct alert_sender *sender,
                                        struct rwerr *err)
{
        struct alert_tracker *t = calloc(1, sizeof *t);

        if (t == NULL || (t->items = calloc(TRACKED_MAX, sizeof *t->items)) == NULL) {
                free(t);
                (void)rwerr_set(err, RW_ERR_NOMEM, "out of memory for the alert tracker");
                return NULL;
        }
        t->cap = TRACKED_MAX;
        t->cfg = cfg;
        t->sender = sender;
        load(t);
        reload_silences(t);
        return t;
}

void alert_tracker_reconfigure(struct alert_tracker *t, const struct config *cfg,
                               struct alert_sender *sender)
{
        t->cfg = cfg;
        t->sender = sender;
        t->silences_present = -1; /* read the silences of the new state dir */
        reload_silences(t);
}

void alert_tracker_free(struct alert_tracker *t)
{
        size_t i;

        if (t == NULL)
                return;
        for (i = 0; i < t->n; i++)
                alert_release(&t->items[i].a);
        for (i = 0; i < t->nbacklog; i++)
                alert_release(&t->backlog[i]);
        free(t->items);
        free(t->backlog);
        free(t);
}

int alert_tracker_status_json(const struct alert_tracker *t, cJSON *status)
{
        cJSON *arr = cJSON_AddArrayToObject(status, "alerts"), *sil;
        size_t i;

        if (arr == NULL)
                return -1;
        for (i = 0; i < t->n; i++) {
                const struct tracked *x = &t->items[i];
                cJSON *o = cJSON_CreateObject();

                if (o == NULL || !cJSON_AddItemToArray(arr, o) ||
                    cJSON_AddStringToObject(o, "name", x->a.name) == NULL ||
                    cJSON_AddStringToObject(o, "subject", x->a.subject) == NULL ||
                    cJSON_AddStringToObject(o, "severity", finding_severity_name(x->a.severity)) ==
                            NULL ||
                    cJSON_AddStringToObject(o, "summary", x->a.summary) == NULL ||
                    cJSON_AddNumberToObject(o, "opened_ms", (double)x->a.opened_ms) == NULL ||
                    cJSON_AddBoolToObject(o, "silenced", x->held) == NULL ||
                    cJSON_AddBoolToObject(o, "clearing", x->clearing) == NULL ||
                    cJSON_AddStringToObject(o, "halt_id", x->a.halt_id) == NULL)
                        return -1;
        }
        sil = silence_list_json(&t->silences, rwclock_wall_ms());
        if (sil == NULL || !cJSON_AddItemToObject(status, "silences", sil)) {
                cJSON_Delete(sil);
                return -1;
        }
        return 0;
}

void alert_tracker_set_audit(struct alert_tracker *t, const struct audit_sink *sink)
{
        t->audit = sink;
}
