#include "supervisor.h"

#include <errno.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <sodium.h>

#include "config.h"
#include "cycle.h"
#include "fileio.h"
#include "finding.h"
#include "halt_control.h"
#include "jsonlog.h"
#include "observe.h"
#include "sdnotify.h"
#include "status_file.h"
#include "version.h"

#define PROBLEMS_MAX 8192       /* bytes of config problems quoted in a reload_refused line */
#define VERDICT_REPEAT_MS 60000 /* a verdict that stays not ok is logged again this often */
#define OUTBOX_RETRY_MS 100     /* between cycles, while a HALT waits in the outbox */
#define VERDICTS_MAX 64         /* invariant_count + 1, with room */

/* When each check's verdict was last logged, so a standing one is not logged every cycle. */
struct verdict_log {
        enum verdict_status status[VERDICTS_MAX];
        int64_t logged_ms[VERDICTS_MAX];
};

struct supervisor {
        const struct supervisor_options *opt;
        struct config *cfg;
        struct observer *obs;
        struct halt_control *hc;
        struct finding_journal journal;
        sigset_t signals;
        int stop;
        int reload;

        uint64_t cycles;
        uint64_t previous_cycle_ms;
        int64_t last_start_ms;            /* monotonic */
        int64_t last_full_ms;             /* monotonic; 0: never */
        uint64_t last_head[SNAP_NCHAINS]; /* block mode: the heads the last poll saw */
        int head_known[SNAP_NCHAINS];
        /* incremental reads: valid after a cycle in which every Tier 1 check passed */
        int cursors_valid;
        int64_t anchors_after;
        uint64_t batches_after;
        struct verdict_log vlog;
};

static int64_t monotonic_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t unix_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void notify(const char *what, int rc, const struct rwerr *err)
{
        if (rc != RW_OK)
                jsonlog_message(JSONLOG_WARN, "sdnotify_failed", NULL, "%s: %s", what, err->msg);
}

/* ------------------------------------------------------------ signals */

static void take_signal(struct supervisor *sv, int sig)
{
        if (sig == SIGTERM || sig == SIGINT) {
                if (!sv->stop)
                        jsonlog_message(JSONLOG_INFO, "stop_requested", NULL,
                                        "%s: finishing the current cycle, then stopping",
                                        sig == SIGTERM ? "SIGTERM" : "SIGINT");
                sv->stop = 1;
        } else if (sig == SIGHUP) {
                sv->reload = 1;
        }
}

/* Waits up to `ms` for one of our signals; 1 when one came. */
static int wait_signal(struct supervisor *sv, int64_t ms)
{
        struct timespec ts;
        int sig;

        if (ms < 0)
                ms = 0;
        ts.tv_sec = ms / 1000;
        ts.tv_nsec = (ms % 1000) * 1000000;
        sig = sigtimedwait(&sv->signals, NULL, &ts);
        if (sig < 0)
                return 0; /* EAGAIN: the time is up; EINTR: another signal, go on */
        take_signal(sv, sig);
        return 1;
}

/* ------------------------------------------------------------ setup */

/* The problems of a refused config as one string (for one log line). */
static struct config *load_config(const char *path, char *problems, size_t cap, struct rwerr *err)
{
        FILE *mem = fmemopen(problems, cap, "w");
        struct config *c;

        problems[0] = '\0';
        c = config_load(path, mem, err);
        if (mem != NULL)
                fclose(mem);
        problems[cap - 1] = '\0';
        return c;
}

static int build(struct config *cfg, struct finding_journal *journal, struct observer **obs,
                 struct halt_control **hc, struct rwerr *err)
{
        *obs = observer_new(cfg, err);
        if (*obs == NULL)
                return RW_ERR_INVALID;
        *hc = halt_control_new(cfg, journal, err);
        if (*hc == NULL) {
                observer_free(*obs);
                *obs = NULL;
                return RW_ERR_INVALID;
        }
        return RW_OK;
}

static void log_start(const struct supervisor *sv, const char *event)
{
        cJSON *line = jsonlog_begin(JSONLOG_INFO, event, NULL);

        if (line == NULL)
                return;
        cJSON_AddStringToObject(line, "version", RELAYWATCH_VERSION);
        cJSON_AddStringToObject(line, "config", sv->opt->config_path);
        cJSON_AddStringToObject(line, "watchdog_id", sv->cfg->watchdog_id);
        cJSON_AddStringToObject(line, "mode",
                                sv->cfg->run_mode == CONFIG_RUN_BLOCK ? "block" : "interval");
        cJSON_AddNumberToObject(line, "interval_ms", (double)sv->cfg->interval_ms);
        if (sv->cfg->run_mode == CONFIG_RUN_BLOCK)
                cJSON_AddNumberToObject(line, "poll_ms", (double)sv->cfg->poll_ms);
        cJSON_AddNumberToObject(line, "full_sweep_s", (double)sv->cfg->full_sweep_s);
        cJSON_AddStringToObject(line, "state_dir", sv->cfg->state_dir);
        cJSON_AddStringToObject(line, "control_stream", sv->cfg->control_stream);
        jsonlog_emit(line);
}

/* SIGHUP: the new config replaces the running one only when all of it works. */
static void reload(struct supervisor *sv)
{
        static char problems[PROBLEMS_MAX];
        struct config *cfg;
        struct observer *obs = NULL;
        struct halt_control *hc = NULL;
        struct rwerr err;
        cJSON *line;

        sv->reload = 0;
        notify("RELOADING=1", sdnotify_reloading(&err), &err);
        cfg = load_config(sv->opt->config_path, problems, sizeof problems, &err);
        if (cfg == NULL || build(cfg, &sv->journal, &obs, &hc, &err) != RW_OK) {
                line = jsonlog_begin(JSONLOG_ERROR, "reload_refused", NULL);
                if (line != NULL) {
                        cJSON_AddStringToObject(line, "config", sv->opt->config_path);
                        cJSON_AddStringToObject(line, "message", err.msg);
                        if (problems[0] != '\0')
                                cJSON_AddStringToObject(line, "problems", problems);
                        cJSON_AddStringToObject(line, "detail",
                                                "still running on the configuration loaded before");
                        jsonlog_emit(line);
                }
                config_free(cfg);
                notify("READY=1", sdnotify_ready("reload refused; running on the old config", &err),
                       &err);
                return;
        }
        halt_control_free(sv->hc);
        observer_free(sv->obs);
        config_free(sv->cfg);
        sv->cfg = cfg;
        sv->obs = obs;
        sv->hc = hc;
        sv->cursors_valid = 0; /* the new config may watch something else: sweep */
        memset(sv->head_known, 0, sizeof sv->head_known);
        log_start(sv, "reloaded");
        notify("READY=1", sdnotify_ready("reloaded", &err), &err);
}

/* ------------------------------------------------------------ when */

/*
 * Block mode: whether either chain has a new head since the last poll. Both
 * are polled: a violation on the source chain must not wait for the
 * execution chain's next block (up to a block time when the two are not in
 * step).
 */
static int new_block(struct supervisor *sv)
{
        struct rwerr err;
        int role, changed = 0;

        for (role = 0; role < SNAP_NCHAINS; role++) {
                uint64_t head;

                if (observer_head(sv->obs, (enum snap_chain_role)role, &head, &err) != RW_OK)
                        continue; /* the cycle's own reads report it */
                if (!sv->head_known[role] || head != sv->last_head[role])
                        changed = 1;
                sv->last_head[role] = head;
                sv->head_known[role] = 1;
        }
        return changed;
}

/* Returns when the next cycle is due, or a signal came. */
static void wait_for_cycle(struct supervisor *sv)
{
        const struct config *c = sv->cfg;

        if (sv->cycles == 0)
                return;
        for (;;) {
                int64_t now = monotonic_ms();
                int64_t due = sv->last_start_ms + (int64_t)c->interval_ms;

                if (sv->stop || sv->reload || now >= due)
                        return;
                if (halt_control_outbox_waiting(sv->hc) > 0) {
                        /* a HALT waits for Redis: try again between cycles too */
                        (void)halt_control_deliver(sv->hc, "outbox-retry");
                        (void)wait_signal(sv, OUTBOX_RETRY_MS < due - now ? OUTBOX_RETRY_MS
                                                                          : due - now);
                        if (c->run_mode == CONFIG_RUN_INTERVAL)
                                continue;
                }
                if (c->run_mode == CONFIG_RUN_INTERVAL) {
                        (void)wait_signal(sv, due - now);
                        continue;
                }
                if (new_block(sv))
                        return;
                (void)wait_signal(sv, (int64_t)c->poll_ms < due - now ? (int64_t)c->poll_ms
                                                                      : due - now);
        }
}

/* ------------------------------------------------------------ one cycle */

/* The incremental window, or a full sweep when one is due. */
static int choose_window(struct supervisor *sv, int64_t now, struct observe_window *w)
{
        int full = !sv->cursors_valid || sv->last_full_ms == 0 ||
                   now - sv->last_full_ms >= (int64_t)sv->cfg->full_sweep_s * 1000;

        memset(w, 0, sizeof *w);
        w->anchors_after = -1;
        w->ops_after = -1;
        w->cycles_after = -1;
        if (!full) {
                w->anchors_after = sv->anchors_after;
                w->batches_after = sv->batches_after;
        }
        return full;
}

/*
 * After a cycle in which every Tier 1 check passed: anchors are checked
 * through the source chain's pinned block; batches through the last one
 * of the unbroken run of anchored batches (a batch not anchored yet must
 * be read again once it is).
 */
static void advance_cursors(struct supervisor *sv, const struct cycle_result *r)
{
        const struct snapshot *s = &r->snapshot;
        const struct snap_chain *src = &s->chains[SNAP_SOURCE];
        const struct snap_view *v;
        static const uint8_t zero[32];
        uint64_t through = sv->cursors_valid ? sv->batches_after : 0;
        size_t i;

        if (r->tier1 != VERDICT_OK || !s->ledger.ok || !src->ok || src->nviews == 0) {
                if (r->tier1 != VERDICT_OK)
                        sv->cursors_valid = 0; /* read everything again until it passes */
                return;
        }
        v = &src->views[0];
        for (i = 0; i < s->ledger.nbatches; i++) {
                if (v->anchored_roots == NULL || memcmp(v->anchored_roots[i], zero, 32) == 0)
                        break;
                through = s->ledger.batches[i].batch_number;
        }
        sv->batches_after = through;
        sv->anchors_after = (int64_t)src->pinned;
        sv->cursors_valid = 1;
}

/*
 * The cycle line (debug when all is well), and a line per check that is
 * not ok: when its status changed, and again every VERDICT_REPEAT_MS while
 * it stays so.
 */
static void log_cycle(struct verdict_log *vl, const struct cycle_result *r, int full, int64_t now)
{
        const struct snapshot *s = &r->snapshot;
        cJSON *line, *heights;
        size_t i;
        int role;

        line = jsonlog_begin(r->tier1 == VERDICT_OK ? JSONLOG_DEBUG : JSONLOG_INFO, "cycle",
                             s->correlation_id);
        if (line != NULL) {
                cJSON_AddStringToObject(line, "tier1", verdict_status_name(r->tier1));
                cJSON_AddNumberToObject(line, "duration_ms", (double)r->duration_ms);
                cJSON_AddBoolToObject(line, "full_sweep", full);
                heights = cJSON_AddObjectToObject(line, "heights");
                for (role = 0; heights != NULL && role < SNAP_NCHAINS; role++)
                        cJSON_AddNumberToObject(heights,
                                                snap_chain_role_name((enum snap_chain_role)role),
                                                (double)s->chains[role].pinned);
                jsonlog_emit(line);
        }
        for (i = 0; i < r->nverdicts; i++) {
                const struct verdict *v = &r->verdicts[i];
                enum jsonlog_level level;

                if (i < VERDICTS_MAX) {
                        int changed = vl->status[i] != v->status;

                        vl->status[i] = v->status;
                        if (!changed && now - vl->logged_ms[i] < VERDICT_REPEAT_MS)
                                continue;
                        if (changed && v->status == VERDICT_OK && v->tier != VERDICT_TIER_TRACK) {
                                vl->logged_ms[i] = now;
                                jsonlog_message(JSONLOG_INFO, "verdict_ok", s->correlation_id,
                                                "%s is ok again", v->invariant);
                                continue;
                        }
                        vl->logged_ms[i] = now;
                }
                if (v->status == VERDICT_OK || v->tier == VERDICT_TIER_TRACK)
                        continue;
                level = v->status == VERDICT_UNKNOWN ? JSONLOG_WARN
                        : v->tier == VERDICT_TIER_HALT && v->mode == INVARIANT_ENFORCE
                                ? JSONLOG_CRITICAL
                                : JSONLOG_ERROR;
                line = jsonlog_begin(level, "verdict", s->correlation_id);
                if (line == NULL)
                        continue;
                cJSON_AddStringToObject(line, "invariant", v->invariant);
                cJSON_AddNumberToObject(line, "tier", (double)v->tier);
                cJSON_AddStringToObject(line, "status", verdict_status_name(v->status));
                cJSON_AddStringToObject(line, "mode", invariant_mode_name(v->mode));
                cJSON_AddStringToObject(line, "summary", v->summary);
                if (v->evidence != NULL)
                        cJSON_AddItemToObject(line, "evidence", cJSON_Duplicate(v->evidence, 1));
                jsonlog_emit(line);
        }
}

static cJSON *status_json(const struct supervisor *sv, const struct cycle_result *r, int full,
                          int64_t started_ms)
{
        struct status_file_info info = {sv->cfg->watchdog_id,
                                        sv->cfg->interval_ms,
                                        halt_control_healthy(sv->hc),
                                        r,
                                        full,
                                        started_ms};
        cJSON *st = status_file_json(&info), *findings;

        if (st == NULL)
                return NULL;
        if (halt_control_status_json(sv->hc, st) != 0)
                goto oom;
        findings = finding_journal_recent_json(&sv->journal);
        if (findings == NULL || !cJSON_AddItemToObject(st, "findings", findings)) {
                cJSON_Delete(findings);
                goto oom;
        }
        return st;
oom:
        cJSON_Delete(st);
        return NULL;
}

static void write_status(struct supervisor *sv, const struct cycle_result *r, int full,
                         int64_t started_ms)
{
        cJSON *st = status_json(sv, r, full, started_ms);
        struct rwerr err;

        if (st == NULL) {
                jsonlog_message(JSONLOG_ERROR, "status_write_failed", r->snapshot.correlation_id,
                                "out of memory building %s", STATUS_FILE_NAME);
                return;
        }
        if (status_file_write(sv->cfg->state_dir, st, &err) != RW_OK)
                jsonlog_message(JSONLOG_ERROR, "status_write_failed", r->snapshot.correlation_id,
                                "%s", err.msg);
        cJSON_Delete(st);
}

static int run_cycle(struct supervisor *sv)
{
        struct cycle_result r;
        struct observe_window w;
        int64_t now = monotonic_ms(), started_ms = unix_ms();
        char cid[sizeof r.snapshot.correlation_id + 32];
        size_t cid_len;
        struct rwerr err;
        int full, rc;

        sv->last_start_ms = now;
        full = choose_window(sv, now, &w);
        rc = cycle_run(sv->obs, &sv->cfg->params, &w, sv->previous_cycle_ms, &r, &err);
        if (rc != RW_OK) {
                jsonlog_message(JSONLOG_ERROR, "cycle_failed", r.snapshot.correlation_id, "%s",
                                err.msg);
                cycle_result_release(&r);
                return rc;
        }
        /* the prefix is at most 16 characters: "rw-" + 32 hex digits fits */
        (void)snprintf(cid, sizeof cid, "%s-%s", sv->cfg->correlation_prefix,
                       r.snapshot.correlation_id);
        cid_len = strlen(cid);
        if (cid_len >= sizeof r.snapshot.correlation_id)
                cid_len = sizeof r.snapshot.correlation_id - 1;
        memcpy(r.snapshot.correlation_id, cid, cid_len);
        r.snapshot.correlation_id[cid_len] = '\0';

        halt_control_act(sv->hc, &r); /* the halt before anything else */
        log_cycle(&sv->vlog, &r, full, now);
        halt_control_watch(sv->hc, &r, observer_db(sv->obs));
        write_status(sv, &r, full, started_ms);
        if (full && r.tier1 == VERDICT_OK)
                sv->last_full_ms = now;
        advance_cursors(sv, &r);
        sv->previous_cycle_ms = r.duration_ms;
        sv->cycles++;

        notify("WATCHDOG=1", sdnotify_watchdog(&err), &err);
        notify("STATUS",
               sdnotify_status(&err, "cycle %llu: tier 1 %s in %llu ms%s",
                               (unsigned long long)sv->cycles, verdict_status_name(r.tier1),
                               (unsigned long long)r.duration_ms,
                               halt_control_healthy(sv->hc) ? "" : "; halt path NOT healthy"),
               &err);
        cycle_result_release(&r);
#ifdef __GLIBC__
        /*
         * A full sweep reads the bridge's whole history, so its peak grows with
         * the bridge; hand the freed memory back, or RSS would follow the peak.
         */
        if (full)
                (void)malloc_trim(0);
#endif
        return RW_OK;
}

/* ------------------------------------------------------------ run */

int supervisor_run(const struct supervisor_options *opt)
{
        static char problems[PROBLEMS_MAX];
        struct supervisor sv;
        struct rwerr err;
        int rc = 0;

        memset(&sv, 0, sizeof sv);
        sv.opt = opt;
        if (sodium_init() < 0) {
                jsonlog_message(JSONLOG_ERROR, "start_failed", NULL,
                                "libsodium failed to initialise");
                return 1;
        }
        /* Blocked before any thread starts, so every thread inherits the mask. */
        sigemptyset(&sv.signals);
        sigaddset(&sv.signals, SIGTERM);
        sigaddset(&sv.signals, SIGINT);
        sigaddset(&sv.signals, SIGHUP);
        if (pthread_sigmask(SIG_BLOCK, &sv.signals, NULL) != 0) {
                jsonlog_message(JSONLOG_ERROR, "start_failed", NULL, "cannot block signals");
                return 1;
        }
        sv.cfg = load_config(opt->config_path, problems, sizeof problems, &err);
        if (sv.cfg == NULL) {
                cJSON *line = jsonlog_begin(JSONLOG_ERROR, "start_failed", NULL);

                if (line != NULL) {
                        cJSON_AddStringToObject(line, "message", err.msg);
                        if (problems[0] != '\0')
                                cJSON_AddStringToObject(line, "problems", problems);
                        jsonlog_emit(line);
                }
                rc = 2;
                goto out;
        }
        if (build(sv.cfg, &sv.journal, &sv.obs, &sv.hc, &err) != RW_OK) {
                jsonlog_message(JSONLOG_ERROR, "start_failed", NULL, "%s", err.msg);
                rc = 2;
                goto out;
        }
        log_start(&sv, "start");
        /* What waited in the outbox from the last run goes out before anything new. */
        if (!halt_control_deliver(sv.hc, "start"))
                jsonlog_message(JSONLOG_ERROR, "outbox_not_empty", NULL,
                                "HALTs from the last run could not be delivered yet; retried "
                                "every cycle");
        notify("READY=1", sdnotify_ready("watching", &err), &err);

        while (!sv.stop) {
                wait_for_cycle(&sv);
                while (wait_signal(&sv, 0))
                        ; /* take every signal that is waiting */
                if (sv.stop)
                        break;
                if (sv.reload) {
                        reload(&sv);
                        continue;
                }
                if (run_cycle(&sv) != RW_OK) {
                        rc = 1; /* out of memory */
                        break;
                }
                if (opt->max_cycles > 0 && sv.cycles >= opt->max_cycles)
                        break;
        }
        notify("STOPPING=1", sdnotify_stopping(&err), &err);
        jsonlog_message(JSONLOG_INFO, "stop", NULL, "stopped after %llu cycles",
                        (unsigned long long)sv.cycles);
out:
        halt_control_free(sv.hc);
        observer_free(sv.obs);
        config_free(sv.cfg);
        finding_journal_release(&sv.journal);
        return rc;
}
