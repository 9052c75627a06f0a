#include "audit_trail.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <sodium.h>

#include "audit_log.h"
#include "audit_sink.h"
#include "audit_publish.h"
#include "fileio.h"
#include "jsonlog.h"
#include "record_queue.h"
#include "rwclock.h"
#include "signing_key.h"
#include "version.h"

#define CONFIG_FILE_MAX ((size_t)4 * 1024 * 1024)

struct audit_trail {
        /*
         * Guards `log` (the pointer: it is set when a reopen works) for the
         * sink's callers on other threads; the log locks itself for the rest.
         */
        pthread_mutex_t lock;
        const struct config *cfg; /* borrowed; replaced at a reload */
        struct finding_journal *journal;
        struct audit_log *log;  /* NULL while down */
        struct audit_sink sink; /* lent to halt control and paging */
        struct audit_publish *publish;
        struct record_queue *records;
        char open_problem[RWERR_MSG_MAX]; /* why the log could not be opened */
        int down;
        uint64_t last_try_mono_ms;
        /* healthy cycles since the last summary */
        uint64_t ok_cycles, ok_first, ok_last;
        char ok_last_cid[64];
        uint64_t ok_heights[SNAP_NCHAINS];
};

static int64_t wall_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void report_down(struct audit_trail *t, const char *why)
{
        cJSON *ev = cJSON_CreateObject();
        char summary[FINDING_TEXT_MAX];
        struct finding f;

        snprintf(summary, sizeof summary,
                 "the audit log cannot be written (%s): halts and pages go on without it", why);
        cJSON_AddStringToObject(ev, "error", why);
        cJSON_AddStringToObject(ev, "dir", t->cfg->audit_dir);
        memset(&f, 0, sizeof f);
        f.kind = "AUDIT_LOG_DOWN";
        f.severity = FINDING_CRITICAL;
        f.summary = summary;
        f.evidence = ev;
        f.correlation_id = "audit";
        f.subject = "audit";
        finding_report(t->journal, &f);
        cJSON_Delete(ev);
        t->down = 1;
}

static void went_up(struct audit_trail *t)
{
        if (!t->down)
                return;
        t->down = 0;
        finding_clear(t->journal, "AUDIT_LOG_DOWN", "audit", "audit",
                      "the audit log is written again");
}

static void try_open(struct audit_trail *t)
{
        struct audit_log *log;
        struct audit_log_options o;
        struct rwerr err;

        memset(&o, 0, sizeof o);
        o.dir = t->cfg->audit_dir;
        o.origin = t->cfg->audit_origin;
        o.rotate_bytes = t->cfg->audit_rotate_bytes;
        o.rotate_daily = t->cfg->audit_rotate_daily;
        o.fsync_batch_ms = t->cfg->audit_fsync_batch_ms;
        o.key_epoch_s = t->cfg->audit_key_epoch_s;
        t->last_try_mono_ms = rwclock_mono_ms();
        log = audit_log_open(&o, wall_ms(), &err);
        if (log == NULL) {
                /* reported by the tick, once the journal's sinks (paging) listen */
                snprintf(t->open_problem, sizeof t->open_problem, "%s", err.msg);
                return;
        }
        (void)pthread_mutex_lock(&t->lock);
        t->log = log;
        (void)pthread_mutex_unlock(&t->lock);
        went_up(t);
}

/*
 * Appends (any thread). A failure marks the log broken, and the loop's tick
 * reports AUDIT_LOG_DOWN: the finding journal belongs to the loop.
 */
static void append(struct audit_trail *t, const char *kind, const char *cid, const cJSON *c,
                   int durable)
{
        struct rwerr err;

        (void)pthread_mutex_lock(&t->lock);
        if (t->log != NULL &&
            audit_log_append(t->log, kind, cid, c, durable, wall_ms(), NULL, &err) != RW_OK &&
            !audit_log_broken(t->log, NULL, 0))
                jsonlog_message(JSONLOG_ERROR, "audit_record_refused", cid, "%s", err.msg);
        (void)pthread_mutex_unlock(&t->lock);
}

/* ------------------------------------------------------------ the sink */

static void sink_record(void *ctx, const char *kind, const char *correlation_id,
                        const cJSON *content, int durable)
{
        append(ctx, kind, correlation_id, content, durable);
}

static int ref_of(const struct audit_log_checkpoint *cp, struct audit_ref *out)
{
        if (cp->unix_ms == 0)
                return -1;
        out->size = cp->size;
        snprintf(out->root, sizeof out->root, "%s", cp->root_b64);
        snprintf(out->note, sizeof out->note, "%s", cp->note);
        return 0;
}

static int sink_latest(void *ctx, struct audit_ref *out)
{
        struct audit_trail *t = ctx;
        struct audit_log_checkpoint cp;
        int rc = -1;

        (void)pthread_mutex_lock(&t->lock);
        if (t->log != NULL && !audit_log_broken(t->log, NULL, 0)) {
                (void)audit_log_latest(t->log, &cp);
                rc = ref_of(&cp, out);
        }
        (void)pthread_mutex_unlock(&t->lock);
        return rc;
}

static int sink_checkpoint(void *ctx, const char *correlation_id, struct audit_ref *out)
{
        struct audit_trail *t = ctx;
        struct audit_log_checkpoint cp;
        struct rwerr err;
        int rc = -1;

        (void)pthread_mutex_lock(&t->lock);
        if (t->log != NULL && !audit_log_broken(t->log, NULL, 0)) {
                (void)audit_log_latest(t->log, &cp);
                if ((cp.unix_ms == 0 || audit_log_size(t->log) > cp.size + 1) &&
                    audit_log_checkpoint(t->log, correlation_id, wall_ms(), &cp, &err) != RW_OK)
                        jsonlog_message(JSONLOG_ERROR, "audit_checkpoint_failed", correlation_id,
                                        "the page goes out with the checkpoint before: %s",
                                        err.msg);
                rc = ref_of(&cp, out);
        }
        (void)pthread_mutex_unlock(&t->lock);
        return rc;
}

const struct audit_sink *audit_trail_sink(struct audit_trail *t)
{
        return t != NULL ? &t->sink : NULL;
}

struct audit_trail *audit_trail_open(const struct config *cfg, struct finding_journal *journal,
                                     struct record_queue *records)
{
        struct audit_trail *t = calloc(1, sizeof *t);

        if (t == NULL)
                return NULL;
        (void)pthread_mutex_init(&t->lock, NULL);
        t->cfg = cfg;
        t->journal = journal;
        t->sink.record = sink_record;
        t->sink.latest = sink_latest;
        t->sink.checkpoint = sink_checkpoint;
        t->sink.ctx = t;
        t->records = records;
        t->publish = audit_publish_new(cfg, journal, records);
        try_open(t);
        return t;
}

static void flush_summary(struct audit_trail *t)
{
        cJSON *c, *h;
        int role;

        if (t->ok_cycles == 0 || (c = cJSON_CreateObject()) == NULL)
                return;
        cJSON_AddNumberToObject(c, "cycles", (double)t->ok_cycles);
        cJSON_AddNumberToObject(c, "first_cycle", (double)t->ok_first);
        cJSON_AddNumberToObject(c, "last_cycle", (double)t->ok_last);
        h = cJSON_AddObjectToObject(c, "last_heights");
        for (role = 0; h != NULL && role < SNAP_NCHAINS; role++)
                cJSON_AddNumberToObject(h, snap_chain_role_name((enum snap_chain_role)role),
                                        (double)t->ok_heights[role]);
        append(t, "cycles_ok", t->ok_last_cid, c, 0);
        cJSON_Delete(c);
        t->ok_cycles = 0;
}

void audit_trail_close(struct audit_trail *t, const char *why)
{
        cJSON *c;
        struct rwerr err;

        if (t == NULL)
                return;
        flush_summary(t);
        if ((c = cJSON_CreateObject()) != NULL) {
                cJSON_AddStringToObject(c, "reason", why);
                append(t, "stop", "stop", c, 1);
                cJSON_Delete(c);
        }
        if (t->log != NULL && audit_log_checkpoint(t->log, "stop", wall_ms(), NULL, &err) != RW_OK)
                jsonlog_message(JSONLOG_ERROR, "audit_checkpoint_failed", "stop", "%s", err.msg);
        audit_log_close(t->log);
        audit_publish_free(t->publish);
        (void)pthread_mutex_destroy(&t->lock);
        free(t);
}

/* The keys the configuration loads, by key_id: the watchdog's signing key and the trusted ones. */
static void add_keys(cJSON *c, const struct config *cfg)
{
        struct signing_key *key = NULL;
        struct verify_key vk;
        struct rwerr err;
        cJSON *arr;
        size_t i;

        if (cfg->signing_key != NULL) {
                if (signing_key_load(cfg->signing_key, &key, &err) == RW_OK)
                        cJSON_AddStringToObject(c, "signing_key_id", key->pub.key_id);
                else
                        cJSON_AddStringToObject(c, "signing_key_problem", err.msg);
                signing_key_free(key);
        }
        if ((arr = cJSON_AddArrayToObject(c, "operator_key_ids")) != NULL)
                for (i = 0; i < cfg->noperator_pubkeys; i++)
                        if (verify_key_load(cfg->operator_pubkeys[i], &vk, &err) == RW_OK)
                                cJSON_AddItemToArray(arr, cJSON_CreateString(vk.key_id));
        if ((arr = cJSON_AddArrayToObject(c, "watchdog_key_ids")) != NULL)
                for (i = 0; i < cfg->nwatchdog_pubkeys; i++)
                        if (verify_key_load(cfg->watchdog_pubkeys[i], &vk, &err) == RW_OK)
                                cJSON_AddItemToArray(arr, cJSON_CreateString(vk.key_id));
}

void audit_trail_config(struct audit_trail *t, const char *kind, const char *config_path)
{
        unsigned char hash[32];
        char hex[65], *text = NULL;
        size_t len;
        struct verify_key pub;
        uint64_t epoch;
        struct rwerr err;
        cJSON *c;

        if (t == NULL || t->log == NULL || (c = cJSON_CreateObject()) == NULL)
                return;
        cJSON_AddStringToObject(c, "version", RELAYWATCH_VERSION);
        cJSON_AddStringToObject(c, "watchdog_id", t->cfg->watchdog_id);
        cJSON_AddStringToObject(c, "config", config_path);
        if (fileio_read(config_path, CONFIG_FILE_MAX, &text, &len, &err) == RW_OK) {
                crypto_hash_sha256(hash, (const unsigned char *)text, len);
                sodium_bin2hex(hex, sizeof hex, hash, sizeof hash);
                cJSON_AddStringToObject(c, "config_sha256", hex);
                free(text);
        } else {
                cJSON_AddStringToObject(c, "config_unreadable", err.msg);
        }
        add_keys(c, t->cfg);
        audit_log_key(t->log, &pub, &epoch);
        cJSON_AddStringToObject(c, "audit_key_id", pub.key_id);
        cJSON_AddNumberToObject(c, "audit_epoch", (double)epoch);
        cJSON_AddStringToObject(c, "origin", t->cfg->audit_origin);
        append(t, kind, kind, c, 1);
        cJSON_Delete(c);
}

void audit_trail_reconfigure(struct audit_trail *t, const struct config *cfg)
{
        struct audit_publish *p;

        if (t == NULL)
                return;
        t->cfg = cfg;
        /* the publisher keeps pointers into the config: a new one (it publishes again once) */
        p = audit_publish_new(cfg, t->journal, t->records); /* NULL: out of memory, none */
        audit_publish_free(t->publish);
        t->publish = p;
}

void audit_trail_reload_refused(struct audit_trail *t, const char *config_path, const char *why)
{
        cJSON *c;

        if (t == NULL || (c = cJSON_CreateObject()) == NULL)
                return;
        cJSON_AddStringToObject(c, "config", config_path);
        cJSON_AddStringToObject(c, "reason", why);
        append(t, "reload_refused", "reload", c, 0);
        cJSON_Delete(c);
}

static cJSON *heights_json(const struct snapshot *s)
{
        cJSON *h = cJSON_CreateObject(), *one;
        char hex[67];
        int role;

        for (role = 0; h != NULL && role < SNAP_NCHAINS; role++) {
                one = cJSON_AddObjectToObject(h, snap_chain_role_name((enum snap_chain_role)role));
                if (one == NULL)
                        continue;
                const struct snap_chain *ch = &s->chains[role];
                cJSON *eps;
                size_t i;

                cJSON_AddNumberToObject(one, "pinned", (double)ch->pinned);
                cJSON_AddNumberToObject(one, "head", (double)ch->head);
                if (ch->nviews > 0 && ch->views[0].ok) {
                        hex[0] = '0';
                        hex[1] = 'x';
                        sodium_bin2hex(hex + 2, sizeof hex - 2, ch->views[0].block_hash, 32);
                        cJSON_AddStringToObject(one, "block_hash", hex);
                }
                /* which endpoints served the figures (names are redacted) */
                eps = cJSON_AddArrayToObject(one, "endpoints");
                for (i = 0; eps != NULL && i < ch->nviews; i++)
                        cJSON_AddItemToArray(eps, cJSON_CreateString(ch->views[i].endpoint));
        }
        return h;
}

void audit_trail_cycle(struct audit_trail *t, const struct cycle_result *r, uint64_t number,
                       int full_sweep, int halting)
{
        const struct snapshot *s = &r->snapshot;
        int healthy = 1, role;
        cJSON *c, *arr;
        struct rwerr err;
        size_t i;

        if (t == NULL || t->log == NULL)
                return;
        for (i = 0; i < r->nverdicts; i++)
                if (r->verdicts[i].status != VERDICT_OK &&
                    r->verdicts[i].tier != VERDICT_TIER_TRACK)
                        healthy = 0;
        if (healthy) {
                if (t->ok_cycles++ == 0)
                        t->ok_first = number;
                t->ok_last = number;
                snprintf(t->ok_last_cid, sizeof t->ok_last_cid, "%s", s->correlation_id);
                for (role = 0; role < SNAP_NCHAINS; role++)
                        t->ok_heights[role] = s->chains[role].pinned;
                return;
        }
        flush_summary(t);
        if ((c = cJSON_CreateObject()) == NULL)
                return;
        cJSON_AddNumberToObject(c, "cycle", (double)number);
        cJSON_AddStringToObject(c, "tier1", verdict_status_name(r->tier1));
        cJSON_AddBoolToObject(c, "full_sweep", full_sweep);
        cJSON_AddNumberToObject(c, "duration_ms", (double)r->duration_ms);
        cJSON_AddItemToObject(c, "heights", heights_json(s));
        arr = cJSON_AddArrayToObject(c, "verdicts");
        for (i = 0; arr != NULL && i < r->nverdicts; i++) {
                const struct verdict *v = &r->verdicts[i];
                cJSON *one;

                if (v->status == VERDICT_OK || v->tier == VERDICT_TIER_TRACK)
                        continue;
                if ((one = cJSON_CreateObject()) == NULL)
                        continue;
                cJSON_AddStringToObject(one, "invariant", v->invariant);
                cJSON_AddNumberToObject(one, "tier", (double)v->tier);
                cJSON_AddStringToObject(one, "status", verdict_status_name(v->status));
                cJSON_AddStringToObject(one, "mode", invariant_mode_name(v->mode));
                cJSON_AddStringToObject(one, "summary", v->summary);
                if (v->evidence != NULL)
                        cJSON_AddItemToObject(one, "evidence", cJSON_Duplicate(v->evidence, 1));
                cJSON_AddItemToArray(arr, one);
        }
        /* a HALT follows: the checkpoint's sync below covers this record too */
        append(t, "cycle_verdict", s->correlation_id, c, 0);
        cJSON_Delete(c);
        /* what caused a halt is signed before the halt goes out */
        if (halting && t->log != NULL &&
            audit_log_checkpoint(t->log, s->correlation_id, wall_ms(), NULL, &err) != RW_OK)
                jsonlog_message(JSONLOG_ERROR, "audit_checkpoint_failed", s->correlation_id,
                                "the HALT goes out without a checkpoint: %s", err.msg);
}

void audit_trail_cycle_failed(struct audit_trail *t, const char *correlation_id, uint64_t number,
                              const char *reason)
{
        cJSON *c;

        if (t == NULL || (c = cJSON_CreateObject()) == NULL)
                return;
        flush_summary(t);
        cJSON_AddNumberToObject(c, "cycle", (double)number);
        cJSON_AddStringToObject(c, "reason", reason);
        append(t, "cycle_failed", correlation_id, c, 0);
        cJSON_Delete(c);
}

void audit_trail_tick(struct audit_trail *t)
{
        char why[RWERR_MSG_MAX];
        struct audit_log_checkpoint last;
        uint64_t checkpoint_ms;
        struct rwerr err;
        int64_t now;

        if (t == NULL)
                return;
        if (t->log == NULL) {
                if (!t->down)
                        report_down(t, t->open_problem);
                if (rwclock_mono_ms() - t->last_try_mono_ms >= AUDIT_TRAIL_RETRY_MS)
                        try_open(t);
                return;
        }
        if (audit_log_broken(t->log, why, sizeof why)) {
                if (!t->down)
                        report_down(t, why);
                if (rwclock_mono_ms() - t->last_try_mono_ms >= AUDIT_TRAIL_RETRY_MS) {
                        t->last_try_mono_ms = rwclock_mono_ms();
                        if (audit_log_retry(t->log, wall_ms(), &err) == RW_OK)
                                went_up(t);
                }
                return;
        }
        checkpoint_ms = t->cfg->audit_checkpoint_s * 1000;
        now = wall_ms();
        (void)audit_log_latest(t->log, &last);
        if (t->ok_cycles > 0 && (last.unix_ms == 0 || now - last.unix_ms >= (int64_t)checkpoint_ms))
                flush_summary(t);
        if (audit_log_tick(t->log, now, checkpoint_ms, NULL, &err) != RW_OK && !t->down)
                report_down(t, err.msg);
        audit_publish_tick(t->publish, t->log);
}

void audit_trail_status_json(struct audit_trail *t, cJSON *status)
{
        struct audit_log_checkpoint last;
        cJSON *a;
        char why[RWERR_MSG_MAX];

        if (t == NULL || (a = cJSON_AddObjectToObject(status, "audit")) == NULL)
                return;
        cJSON_AddStringToObject(a, "dir", t->cfg->audit_dir);
        cJSON_AddBoolToObject(a, "down",
                              t->log == NULL || audit_log_broken(t->log, why, sizeof why));
        if (t->log == NULL)
                return;
        cJSON_AddNumberToObject(a, "records", (double)audit_log_size(t->log));
        (void)audit_log_latest(t->log, &last);
        if (last.unix_ms > 0) {
                cJSON_AddNumberToObject(a, "checkpoint_size", (double)last.size);
                cJSON_AddStringToObject(a, "checkpoint_root", last.root_b64);
                cJSON_AddNumberToObject(a, "checkpoint_unix_ms", (double)last.unix_ms);
                cJSON_AddNumberToObject(a, "epoch", (double)last.epoch);
        }
}
