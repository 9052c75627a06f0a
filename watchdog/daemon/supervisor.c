#include "supervisor.h"

#include <errno.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <event2/event.h>
#include <sodium.h>

#include "config.h"
#include "cycle_log.h"
#include "cycle_worker.h"
#include "finding.h"
#include "halt_control.h"
#include "http_view.h"
#include "jsonlog.h"
#include "observe.h"
#include "record_queue.h"
#include "rwclock.h"
#include "sdnotify.h"
#include "alert_sender.h"
#include "alert_tracker.h"
#include "audit_trail.h"
#include "witness_mode.h"
#include "status_file.h"
#include "version.h"

#define PROBLEMS_MAX 8192   /* bytes of config problems quoted in a reload_refused line */
#define TICK_MAX_MS 1000    /* the control plane's timer, at most */
#define TICK_MIN_MS 50      /* and at least (a very short heartbeat TTL) */
#define OUTBOX_RETRY_MS 100 /* while a HALT waits in the outbox */
#define STOP_GRACE_MS 800   /* for the cycle thread to end after SIGTERM */
#define ALERT_GRACE_MS 300  /* for alerts in flight at a stop; the rest goes to the spool */

struct supervisor {
        const struct supervisor_options *opt;
        struct config *cfg; /* the loop's; the cycle thread may still use the one before */
        struct halt_control *hc;
        struct alert_sender *sender;  /* NULL when it could not start: alerts are logged only */
        struct alert_tracker *alerts; /* a finding sink of the journal */
        struct audit_trail *audit;    /* the audit log's writer */
        struct witness_mode *witness; /* another watchdog's log witnessed; NULL: none */
        struct http_view *http;       /* metrics, probes, status and the on-call page */
        struct http_view_options http_opt;
        struct finding_journal journal;
        struct record_queue *records;
        struct cycle_worker *worker;
        struct cycle_log log;
        struct cycle_report last; /* the last report, for the status file */
        uint64_t reports;
        uint64_t reports_failed;

        struct event_base *base;
        struct event *signal_ev, *report_ev, *tick_ev, *outbox_ev;
        int signal_fd, wake_fd;
        sigset_t signals;
};

static void notify(const char *what, int rc, const struct rwerr *err)
{
        if (rc != RW_OK)
                jsonlog_message(JSONLOG_WARN, "sdnotify_failed", NULL, "%s: %s", what, err->msg);
}

static uint64_t tick_ms(const struct config *c)
{
        uint64_t t = c->heartbeat_ttl_ms / 3;

        if (t > TICK_MAX_MS)
                t = TICK_MAX_MS;
        return t < TICK_MIN_MS ? TICK_MIN_MS : t;
}

static struct timeval timeval_of(uint64_t ms)
{
        struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)((ms % 1000) * 1000)};

        return tv;
}

/* ------------------------------------------------------------ the status file */

static void write_status(struct supervisor *sv)
{
        const struct cycle_report *rep = sv->reports > 0 ? &sv->last : NULL;
        struct status_file_info info = {
                .watchdog_id = sv->cfg->watchdog_id,
                .interval_ms = sv->cfg->interval_ms,
                .healthy = halt_control_healthy(sv->hc),
                .r = rep != NULL ? &rep->r : NULL,
                .failure = rep != NULL && rep->failed ? rep->reason : NULL,
                .full_sweep = rep != NULL && rep->full_sweep,
                .cycle_started_unix_ms = rep != NULL ? rep->started_unix_ms : 0,
                .started_unix_ms = sv->http_opt.started_unix_ms,
                .cycles = sv->reports,
                .cycles_failed = sv->reports_failed,
                .cycle_target_ms = sv->cfg->params.watchdog_cycle_ms,
        };
        cJSON *st = status_file_json(&info), *findings = NULL;
        struct rwerr err;

        if (st == NULL || halt_control_status_json(sv->hc, st) != 0 ||
            alert_tracker_status_json(sv->alerts, st) != 0 ||
            (audit_trail_status_json(sv->audit, st), 0) ||
            (sv->sender != NULL && alert_sender_status_json(sv->sender, st) != 0) ||
            (findings = finding_journal_recent_json(&sv->journal)) == NULL ||
            !cJSON_AddItemToObject(st, "findings", findings)) {
                cJSON_Delete(findings);
                cJSON_Delete(st);
                jsonlog_message(JSONLOG_ERROR, "status_write_failed", NULL,
                                "out of memory building %s", STATUS_FILE_NAME);
                return;
        }
        if (status_file_write(sv->cfg->state_dir, st, &err) != RW_OK)
                jsonlog_message(JSONLOG_ERROR, "status_write_failed", NULL, "%s", err.msg);
        http_view_publish(sv->http, st, halt_control_healthy(sv->hc), tick_ms(sv->cfg), sv->cfg);
        cJSON_Delete(st);
}

/* ------------------------------------------------------------ the outbox */

static void arm_outbox_retry(struct supervisor *sv)
{
        struct timeval tv = timeval_of(OUTBOX_RETRY_MS);

        if (halt_control_outbox_waiting(sv->hc) > 0 && !evtimer_pending(sv->outbox_ev, NULL))
                (void)evtimer_add(sv->outbox_ev, &tv);
}

static void on_outbox(evutil_socket_t fd, short what, void *arg)
{
        struct supervisor *sv = arg;

        (void)fd;
        (void)what;
        (void)halt_control_deliver(sv->hc, "outbox-retry");
        arm_outbox_retry(sv);
}

/* ------------------------------------------------------------ reports */

/* Paging, after the halt: the alerts the result calls for, with the HALTs in force. */
static void observe_alerts(struct supervisor *sv, const struct cycle_result *r)
{
        const struct halt_state *hs = halt_control_state(sv->hc);
        struct alert_halt_ref refs[HALT_STATE_MAX];
        size_t i, n = 0;

        for (i = 0; hs != NULL && i < hs->n && n < HALT_STATE_MAX; i++) {
                if (hs->incidents[i].phase == INCIDENT_RESUMED)
                        continue; /* a RESUME forced over it: no HALT stands */
                refs[n].invariant = hs->incidents[i].invariant;
                refs[n].halt_id = hs->incidents[i].id;
                n++;
        }
        alert_tracker_observe(sv->alerts, r, refs, n, r->snapshot.correlation_id);
}

static void take_report(struct supervisor *sv, struct cycle_report *rep)
{
        uint64_t now = rwclock_mono_ms();
        struct rwerr err;

        if (rep->failed) {
                cycle_log_failure(rep->r.snapshot.correlation_id, rep->number, rep->reason);
                audit_trail_cycle_failed(sv->audit, rep->r.snapshot.correlation_id, rep->number,
                                         rep->reason);
        } else {
                /* what the halt rests on is written and signed first (a few ms, never a wait) */
                audit_trail_cycle(sv->audit, &rep->r, rep->number, rep->full_sweep,
                                  halt_control_will_halt(sv->hc, &rep->r));
                halt_control_act(sv->hc, &rep->r); /* the halt before anything else */
                cycle_log_result(&sv->log, &rep->r, rep->full_sweep, now);
                halt_control_observe(sv->hc, &rep->r);
                observe_alerts(sv, &rep->r);
        }
        http_view_cycle(sv->http, rep, rwclock_wall_ms());
        cycle_report_release(&sv->last);
        sv->last = *rep;
        memset(rep, 0, sizeof *rep);
        sv->reports++;
        sv->reports_failed += sv->last.failed != 0;
        write_status(sv);
        arm_outbox_retry(sv);
        notify("STATUS",
               sdnotify_status(&err, "cycle %llu: tier 1 %s in %llu ms%s",
                               (unsigned long long)sv->last.number,
                               sv->last.failed ? "could not run"
                                               : verdict_status_name(sv->last.r.tier1),
                               (unsigned long long)sv->last.r.duration_ms,
                               halt_control_healthy(sv->hc) ? "" : "; halt path NOT healthy"),
               &err);
#ifdef __GLIBC__
        /*
         * A full sweep reads the bridge's whole history, so its peak grows with
         * the bridge; hand the freed memory back, or RSS would follow the peak.
         */
        if (sv->last.full_sweep)
                (void)malloc_trim(0);
#endif
}

static void on_report(evutil_socket_t fd, short what, void *arg)
{
        struct supervisor *sv = arg;
        struct cycle_report rep;
        uint64_t count;

        (void)what;
        if (read(fd, &count, sizeof count) < 0) {
                /* EAGAIN: another wake-up took it; the queue is what counts */
        }
        while (cycle_worker_take(sv->worker, &rep)) {
                take_report(sv, &rep);
                if (sv->opt->max_cycles > 0 && sv->reports >= sv->opt->max_cycles) {
                        (void)event_base_loopbreak(sv->base);
                        return;
                }
        }
        if (cycle_worker_done(sv->worker))
                (void)event_base_loopbreak(sv->base);
}

/* ------------------------------------------------------------ the tick */

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
        struct supervisor *sv = arg;
        uint64_t now = rwclock_mono_ms();
        struct config *retired;
        struct rwerr err;

        (void)fd;
        (void)what;
        halt_control_tick(sv->hc);
        alert_tracker_tick(sv->alerts);
        write_status(sv);
        arm_outbox_retry(sv);
        /* the audit log's housekeeping after what an operator or a relayer waits for */
        audit_trail_tick(sv->audit);
        witness_mode_tick(sv->witness);
        if (now - cycle_worker_progress_ms(sv->worker) <= sv->cfg->blind_limit_ms)
                notify("WATCHDOG=1", sdnotify_watchdog(&err), &err);
        if ((retired = cycle_worker_retired_config(sv->worker)) != NULL)
                config_free(retired);
}

static int arm_tick(struct supervisor *sv)
{
        struct timeval tv = timeval_of(tick_ms(sv->cfg));

        if (sv->tick_ev != NULL)
                event_free(sv->tick_ev);
        sv->tick_ev = event_new(sv->base, -1, EV_PERSIST, on_tick, sv);
        if (sv->tick_ev == NULL || event_add(sv->tick_ev, &tv) != 0)
                return RW_ERR_NOMEM;
        event_active(sv->tick_ev, EV_TIMEOUT, 0); /* the first tick now */
        return RW_OK;
}

/* ------------------------------------------------------------ config */

/* Loads the config; the problems of a refused one land in problems[cap] (for one log line). */
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

static void log_start(const struct supervisor *sv, const char *event)
{
        const struct config *c = sv->cfg;
        cJSON *line = jsonlog_begin(JSONLOG_INFO, event, NULL);

        if (line == NULL)
                return;
        cJSON_AddStringToObject(line, "version", RELAYWATCH_VERSION);
        cJSON_AddStringToObject(line, "config", sv->opt->config_path);
        cJSON_AddStringToObject(line, "watchdog_id", c->watchdog_id);
        cJSON_AddStringToObject(line, "mode",
                                c->run_mode == CONFIG_RUN_BLOCK ? "block" : "interval");
        cJSON_AddNumberToObject(line, "interval_ms", (double)c->interval_ms);
        if (c->run_mode == CONFIG_RUN_BLOCK)
                cJSON_AddNumberToObject(line, "poll_ms", (double)c->poll_ms);
        cJSON_AddNumberToObject(line, "full_sweep_s", (double)c->full_sweep_s);
        cJSON_AddNumberToObject(line, "tick_ms", (double)tick_ms(c));
        cJSON_AddStringToObject(line, "state_dir", c->state_dir);
        cJSON_AddStringToObject(line, "control_stream", c->control_stream);
        jsonlog_emit(line);
}

static void log_refused(const char *event, const char *path, const char *msg, const char *problems,
                        const char *detail)
{
        cJSON *line = jsonlog_begin(JSONLOG_ERROR, event, NULL);

        if (line == NULL)
                return;
        cJSON_AddStringToObject(line, "config", path);
        cJSON_AddStringToObject(line, "message", msg);
        if (problems[0] != '\0')
                cJSON_AddStringToObject(line, "problems", problems);
        if (detail != NULL)
                cJSON_AddStringToObject(line, "detail", detail);
        jsonlog_emit(line);
}

/*
 * The alert sender for `cfg`, started; NULL (logged) when it cannot start:
 * the watchdog goes on watching and halting, and its alerts are logged.
 */
static struct alert_sender *start_sender(const struct config *cfg, const struct audit_sink *audit)
{
        struct rwerr err;
        struct alert_sender *s = alert_sender_new(cfg, &err);

        if (s == NULL) {
                jsonlog_message(JSONLOG_ERROR, "alert_sender_failed", NULL,
                                "alerts cannot be sent, only logged: %s", err.msg);
                return NULL;
        }
        alert_sender_set_audit(s, audit);
        if (alert_sender_start(s) != RW_OK) {
                jsonlog_message(JSONLOG_ERROR, "alert_sender_failed", NULL,
                                "the alert thread could not start: alerts are only logged");
                alert_sender_free(s, 0);
                return NULL;
        }
        return s;
}

/* SIGHUP: the new config replaces the running one only when all of it works. */
static void reload(struct supervisor *sv)
{
        static char problems[PROBLEMS_MAX];
        struct config *cfg;
        struct observer *obs = NULL;
        struct halt_control *hc = NULL;
        struct rwerr err;

        notify("RELOADING=1", sdnotify_reloading(&err), &err);
        cfg = load_config(sv->opt->config_path, problems, sizeof problems, &err);
        if (cfg != NULL && (obs = observer_new(cfg, &err)) != NULL &&
            observer_track_progress(obs, &err) == RW_OK)
                hc = halt_control_new(cfg, &sv->journal, sv->records, &err);
        if (hc == NULL) {
                log_refused("reload_refused", sv->opt->config_path, err.msg, problems,
                            "still running on the configuration loaded before");
                audit_trail_reload_refused(sv->audit, sv->opt->config_path, err.msg);
                observer_free(obs);
                config_free(cfg);
                notify("READY=1", sdnotify_ready("reload refused; running on the old config", &err),
                       &err);
                return;
        }
        halt_control_free(sv->hc);
        sv->hc = hc;
        sv->cfg = cfg;
        halt_control_set_audit(hc, http_view_audit_tee(sv->http, audit_trail_sink(sv->audit)));
        http_view_reconfigure(sv->http, cfg, &sv->http_opt);
        /* what the old sender holds goes to the spool, which the new one reads */
        alert_sender_free(sv->sender, 0);
        sv->sender = start_sender(cfg, audit_trail_sink(sv->audit));
        alert_tracker_reconfigure(sv->alerts, cfg, sv->sender);
        audit_trail_reconfigure(sv->audit, cfg);
        witness_mode_free(sv->witness);
        sv->witness = witness_mode_new(cfg, &sv->journal);
        audit_trail_config(sv->audit, "config_loaded", sv->opt->config_path);
        cycle_worker_reload(sv->worker, cfg, obs); /* it hands the old config back when done */
        if (arm_tick(sv) != RW_OK)
                jsonlog_message(JSONLOG_ERROR, "reload_tick_failed", NULL,
                                "out of memory re-arming the timer; stopping");
        log_start(sv, "reloaded");
        notify("READY=1", sdnotify_ready("reloaded", &err), &err);
}

/* ------------------------------------------------------------ signals */

static void on_signal(evutil_socket_t fd, short what, void *arg)
{
        struct supervisor *sv = arg;
        struct signalfd_siginfo si;

        (void)what;
        while (read(fd, &si, sizeof si) == (ssize_t)sizeof si) {
                if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
                        jsonlog_message(JSONLOG_INFO, "stop_requested", NULL,
                                        "%s: stopping (a cycle in progress is cut short)",
                                        si.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
                        (void)event_base_loopbreak(sv->base);
                        return;
                }
                if (si.ssi_signo == SIGHUP)
                        reload(sv);
        }
}

/* Blocks our signals in every thread (before any starts) and opens a signalfd for them. */
static int take_signals(struct supervisor *sv, struct rwerr *err)
{
        sigemptyset(&sv->signals);
        sigaddset(&sv->signals, SIGTERM);
        sigaddset(&sv->signals, SIGINT);
        sigaddset(&sv->signals, SIGHUP);
        /* a peer that closes a socket must not kill the watchdog: writes get EPIPE */
        if (signal(SIGPIPE, SIG_IGN) == SIG_ERR ||
            pthread_sigmask(SIG_BLOCK, &sv->signals, NULL) != 0)
                return rwerr_set(err, RW_ERR_IO, "cannot set up signal handling: %s",
                                 strerror(errno));
        sv->signal_fd = signalfd(-1, &sv->signals, SFD_NONBLOCK | SFD_CLOEXEC);
        if (sv->signal_fd < 0)
                return rwerr_set(err, RW_ERR_IO, "signalfd: %s", strerror(errno));
        return RW_OK;
}

/* ------------------------------------------------------------ start and stop */

static int make_loop(struct supervisor *sv, struct rwerr *err)
{
        struct event_config *ec = event_config_new();

        if (ec == NULL)
                return rwerr_set(err, RW_ERR_NOMEM, "out of memory for the event loop");
        /* one thread uses the loop; timers on CLOCK_MONOTONIC, not its coarse variant */
        (void)event_config_set_flag(ec, EVENT_BASE_FLAG_NOLOCK | EVENT_BASE_FLAG_PRECISE_TIMER);
        sv->base = event_base_new_with_config(ec);
        event_config_free(ec);
        if (sv->base == NULL)
                return rwerr_set(err, RW_ERR_IO, "cannot create the event loop");
        sv->signal_ev = event_new(sv->base, sv->signal_fd, EV_READ | EV_PERSIST, on_signal, sv);
        sv->report_ev = event_new(sv->base, sv->wake_fd, EV_READ | EV_PERSIST, on_report, sv);
        sv->outbox_ev = evtimer_new(sv->base, on_outbox, sv);
        if (sv->signal_ev == NULL || sv->report_ev == NULL || sv->outbox_ev == NULL ||
            event_add(sv->signal_ev, NULL) != 0 || event_add(sv->report_ev, NULL) != 0 ||
            arm_tick(sv) != RW_OK)
                return rwerr_set(err, RW_ERR_NOMEM, "out of memory for the event loop's events");
        return RW_OK;
}

/* Config, records, halt control, the cycle thread; 2 for a config problem, 1 otherwise. */
static int start(struct supervisor *sv, struct rwerr *err)
{
        static char problems[PROBLEMS_MAX];
        struct cycle_worker_options wo;
        struct finding_sink metrics_sink;
        struct observer *obs;

        sv->cfg = load_config(sv->opt->config_path, problems, sizeof problems, err);
        if (sv->cfg == NULL) {
                log_refused("start_failed", sv->opt->config_path, err->msg, problems, NULL);
                return 2;
        }
        if ((sv->records = record_queue_new()) == NULL) {
                rwerr_set(err, RW_ERR_NOMEM, "out of memory for the record queue");
                return 1;
        }
        if ((obs = observer_new(sv->cfg, err)) == NULL)
                return 2;
        if (observer_track_progress(obs, err) != RW_OK) {
                observer_free(obs);
                return 2;
        }
        /* the audit log first: the sender, paging and halt control record into it */
        sv->audit = audit_trail_open(sv->cfg, &sv->journal, sv->records);
        /* the HTTP endpoints count findings and halts from the start */
        sv->http_opt.status_json = sv->opt->status_json;
        sv->http_opt.status_ctx = sv->opt->status_ctx;
        sv->http_opt.started_unix_ms = rwclock_wall_ms();
        sv->http = http_view_start(sv->cfg, &sv->http_opt);
        metrics_sink = http_view_finding_sink(sv->http);
        if (sv->http != NULL && finding_journal_add_sink(&sv->journal, &metrics_sink) != 0) {
                observer_free(obs);
                rwerr_set(err, RW_ERR_NOMEM, "no room for the metrics' finding sink");
                return 1;
        }
        /* paging listens to the journal before halt control can report anything */
        sv->sender = start_sender(sv->cfg, audit_trail_sink(sv->audit));
        if ((sv->alerts = alert_tracker_new(sv->cfg, sv->sender, err)) == NULL ||
            finding_journal_add_sink(&sv->journal,
                                     &(struct finding_sink){alert_tracker_sink, sv->alerts}) != 0) {
                observer_free(obs);
                return 1;
        }
        if ((sv->hc = halt_control_new(sv->cfg, &sv->journal, sv->records, err)) == NULL) {
                observer_free(obs);
                return 2;
        }
        alert_tracker_set_audit(sv->alerts, audit_trail_sink(sv->audit));
        halt_control_set_audit(sv->hc, http_view_audit_tee(sv->http, audit_trail_sink(sv->audit)));
        sv->witness = witness_mode_new(sv->cfg, &sv->journal);
        log_start(sv, "start");
        audit_trail_config(sv->audit, "start", sv->opt->config_path);
        /* What waited in the outbox from the last run goes out before anything new. */
        if (!halt_control_deliver(sv->hc, "start"))
                jsonlog_message(JSONLOG_ERROR, "outbox_not_empty", NULL,
                                "HALTs from the last run could not be delivered yet; retried "
                                "every %d ms",
                                OUTBOX_RETRY_MS);
        sv->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (sv->wake_fd < 0) {
                observer_free(obs);
                rwerr_set(err, RW_ERR_IO, "eventfd: %s", strerror(errno));
                return 1;
        }
        memset(&wo, 0, sizeof wo);
        wo.cfg = sv->cfg;
        wo.obs = obs;
        wo.records = sv->records;
        wo.wake_fd = sv->wake_fd;
        wo.max_cycles = sv->opt->max_cycles;
        if ((sv->worker = cycle_worker_start(&wo, err)) == NULL)
                return 1;
        return make_loop(sv, err) == RW_OK ? 0 : 1;
}

static void stop(struct supervisor *sv)
{
        struct config *last_cfg = NULL;

        if (sv->base != NULL) {
                if (sv->tick_ev != NULL)
                        event_free(sv->tick_ev);
                if (sv->outbox_ev != NULL)
                        event_free(sv->outbox_ev);
                if (sv->report_ev != NULL)
                        event_free(sv->report_ev);
                if (sv->signal_ev != NULL)
                        event_free(sv->signal_ev);
                event_base_free(sv->base);
        }
        http_view_free(sv->http); /* first: its threads read what the others publish */
        sv->http = NULL;
        halt_control_free(sv->hc);
        alert_sender_free(sv->sender, ALERT_GRACE_MS); /* before the config it borrows */
        sv->sender = NULL;
        alert_tracker_free(sv->alerts);
        sv->alerts = NULL;
        witness_mode_free(sv->witness);
        sv->witness = NULL;
        /* last of those that record into it */
        audit_trail_close(sv->audit, "stopped");
        sv->audit = NULL;
        cycle_report_release(&sv->last);
        if (sv->worker == NULL) {
                config_free(sv->cfg); /* the worker never took it */
        } else if (cycle_worker_stop(sv->worker, STOP_GRACE_MS, &last_cfg) == RW_OK) {
                config_free(last_cfg);
        } else {
                jsonlog_message(JSONLOG_WARN, "stop_without_cycle", NULL,
                                "the cycle in progress did not end within %d ms; it ends with "
                                "the process",
                                STOP_GRACE_MS);
                return; /* the thread may still use what is left: the exit frees it */
        }
        record_queue_free(sv->records);
        finding_journal_release(&sv->journal);
        if (sv->wake_fd >= 0)
                (void)close(sv->wake_fd);
        if (sv->signal_fd >= 0)
                (void)close(sv->signal_fd);
}

int supervisor_run(const struct supervisor_options *opt)
{
        struct supervisor sv;
        struct rwerr err;
        int rc;

        memset(&sv, 0, sizeof sv);
        sv.opt = opt;
        sv.signal_fd = -1;
        sv.wake_fd = -1;
        if (sodium_init() < 0) {
                jsonlog_message(JSONLOG_ERROR, "start_failed", NULL,
                                "libsodium failed to initialise");
                return 1;
        }
        if (take_signals(&sv, &err) != RW_OK) {
                jsonlog_message(JSONLOG_ERROR, "start_failed", NULL, "%s", err.msg);
                return 1;
        }
        if ((rc = start(&sv, &err)) != 0) {
                if (rc == 1 || sv.cfg != NULL)
                        jsonlog_message(JSONLOG_ERROR, "start_failed", NULL, "%s", err.msg);
                stop(&sv);
                return rc;
        }
        notify("READY=1", sdnotify_ready("watching", &err), &err);
        (void)event_base_dispatch(sv.base);
        notify("STOPPING=1", sdnotify_stopping(&err), &err);
        jsonlog_message(JSONLOG_INFO, "stop", NULL, "stopped after %llu cycles",
                        (unsigned long long)sv.reports);
        stop(&sv);
        return 0;
}
