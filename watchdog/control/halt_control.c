#include "halt_control.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <hiredis/hiredis.h>

#include "audit_sink.h"
#include "control_msg.h"
#include "control_read.h"
#include "control_state.h"
#include "halt_publish.h"
#include "heartbeat.h"
#include "jsonlog.h"
#include "keyring.h"
#include "outbox.h"
#include "record_queue.h"
#include "redisconn.h"
#include "rwclock.h"
#include "signing_key.h"

#define PATH_PROBLEMS_MAX 5
#define PROBLEM_MAX (RWERR_MSG_MAX + 128)        /* a reason with a prefix of ours */
#define PATH_REMIND_MS ((int64_t)10 * 60 * 1000) /* HALT_PATH_DOWN again while it lasts */
#define HALT_SEVERITY "CRITICAL"
#define FORGERY_BUDGET 20                            /* entries paged one by one per window */
#define FORGERY_WINDOW_MS ((uint64_t)10 * 60 * 1000) /* beyond the budget: one summary a window */

struct halt_control {
        const struct config *cfg;
        struct finding_journal *journal;
        struct record_queue *records;
        struct halt_publish_keys keys;
        struct redisconn *redis; /* reconnects with a backoff on the monotonic clock */
        size_t outbox_waiting;   /* messages in the outbox at the last look */

        const struct audit_sink *audit; /* the audit log (borrowed; may be NULL) */
        struct signing_key *key;
        char key_problem[PROBLEM_MAX];
        struct outbox *outbox;
        char outbox_problem[PROBLEM_MAX];
        struct halt_state state;
        int state_ok; /* read (or absent) at start, and written since */
        char state_problem[PROBLEM_MAX];

        /* the halt path, as of the last watch */
        int path_ok;
        size_t nproblems;
        char problems[PATH_PROBLEMS_MAX][PROBLEM_MAX];
        int path_down_reported;
        uint64_t path_down_reported_mono_ms;

        /*
         * The control stream as a relayer reads it (PROTOCOL.md section 6):
         * read whole once, then entry by entry; what fails the checks after
         * the state's stream_cursor is CONTROL_STREAM_FORGERY.
         */
        struct keyring ring;
        char ring_problem[PROBLEM_MAX];
        struct control_state *stream;
        int stream_loaded;
        char stream_last[CONTROL_ENTRY_ID_SIZE];      /* the last entry judged */
        char halt_key_reported[CONTROL_SIG_B64_SIZE]; /* sig of the bad halt key last reported */
        /* a flood of forged entries pages FORGERY_BUDGET of them, then one summary a window */
        uint64_t forgery_window_mono_ms;
        size_t forgeries_in_window, forgeries_held;
        char forgery_first_held[CONTROL_ENTRY_ID_SIZE], forgery_last_held[CONTROL_ENTRY_ID_SIZE];

        uint64_t last_evaluated_mono_ms; /* the last cycle that evaluated Tier 1 (or the start) */
        int blind_reported;
        int heartbeat_ok;
        int64_t heartbeat_ms; /* wall clock, for status.json */
        char last_cid[64];    /* of the last cycle: for findings of the timer */
};

static void report(struct halt_control *hc, const char *kind, enum finding_severity sev,
                   const char *cid, const char *halt_id, const cJSON *evidence, const char *fmt,
                   ...) __attribute__((format(printf, 7, 8)));

static void report(struct halt_control *hc, const char *kind, enum finding_severity sev,
                   const char *cid, const char *halt_id, const cJSON *evidence, const char *fmt,
                   ...)
{
        char summary[FINDING_TEXT_MAX];
        struct finding f;
        va_list ap;

        va_start(ap, fmt);
        (void)vsnprintf(summary, sizeof summary, fmt, ap);
        va_end(ap);
        f.kind = kind;
        f.severity = sev;
        f.summary = summary;
        f.evidence = evidence;
        f.correlation_id = cid;
        f.halt_id = halt_id;
        f.subject = NULL;
        f.cleared = 0;
        finding_report(hc->journal, &f);
}

/* ------------------------------------------------------------ Redis */

/* The connection, made again after the link's backoff when it broke; NULL meanwhile. */
static redisContext *redis_get(struct halt_control *hc)
{
        return redisconn_get(hc->redis);
}

/* After a failed call: the problem is kept, a broken connection dropped. */
static void redis_failed(struct halt_control *hc, int rc, const struct rwerr *err)
{
        (void)redisconn_failed(hc->redis, rc, err);
}

/* ------------------------------------------------------------ setup */

static void ensure_dir(const char *dir, struct rwerr *err, int *ok)
{
        if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
                rwerr_set(err, RW_ERR_IO, "cannot create the state directory %s: %s", dir,
                          strerror(errno));
                *ok = 0;
        }
}

/* The public keys a relayer trusts, to read the stream as it does. */
static void load_ring(struct halt_control *hc)
{
        struct control_keys keys;
        struct keyring_paths p;
        struct rwerr e;

        memset(&p, 0, sizeof p);
        p.watchdog_keys = hc->cfg->watchdog_pubkeys;
        p.nwatchdog = hc->cfg->nwatchdog_pubkeys;
        p.operator_keys = hc->cfg->operator_pubkeys;
        p.noperator = hc->cfg->noperator_pubkeys;
        if (keyring_load(&hc->ring, &p, NULL, NULL, &e) != RW_OK) {
                (void)snprintf(hc->ring_problem, sizeof hc->ring_problem,
                               "the control stream cannot be checked for forgeries: %s", e.msg);
                return;
        }
        control_keys_from_keyring(&keys, &hc->ring);
        if ((hc->stream = control_state_new(&keys)) == NULL)
                (void)snprintf(hc->ring_problem, sizeof hc->ring_problem,
                               "out of memory for the control stream's state");
}

struct halt_control *halt_control_new(const struct config *cfg, struct finding_journal *journal,
                                      struct record_queue *records, struct rwerr *err)
{
        struct redisconn_options ro = {0};
        struct halt_control *hc;
        char dir[PATH_MAX];
        struct rwerr e;
        int dir_ok = 1;

        if (!cfg->control_present || cfg->redis_url == NULL) {
                rwerr_set(err, RW_ERR_INVALID,
                          "%s has no [control] section (with [redis] url): relaywatch cannot "
                          "halt the relayer without it",
                          cfg->path);
                return NULL;
        }
        hc = calloc(1, sizeof *hc);
        if (hc == NULL) {
                rwerr_set(err, RW_ERR_NOMEM, "out of memory for the halt control");
                return NULL;
        }
        hc->cfg = cfg;
        hc->journal = journal;
        hc->records = records;
        hc->last_evaluated_mono_ms = rwclock_mono_ms();
        (void)snprintf(hc->last_cid, sizeof hc->last_cid, "start");
        halt_publish_keys_from_config(&hc->keys, cfg);
        ro.url = cfg->redis_url;
        ro.timeout_ms = (long)cfg->redis_timeout_ms;
        if ((hc->redis = redisconn_new(&ro, err)) == NULL) {
                free(hc);
                return NULL;
        }

        load_ring(hc);
        if (cfg->signing_key == NULL)
                (void)snprintf(hc->key_problem, sizeof hc->key_problem,
                               "[control] signing_key is not set: no HALT can be signed");
        else if (signing_key_load(cfg->signing_key, &hc->key, &e) != RW_OK)
                (void)snprintf(hc->key_problem, sizeof hc->key_problem, "signing key: %s", e.msg);

        ensure_dir(cfg->state_dir, &e, &dir_ok);
        if (!dir_ok) {
                (void)snprintf(hc->state_problem, sizeof hc->state_problem, "%s", e.msg);
                (void)snprintf(hc->outbox_problem, sizeof hc->outbox_problem, "%s", e.msg);
                return hc;
        }
        if (halt_state_load(cfg->state_dir, &hc->state, &e) == RW_OK)
                hc->state_ok = 1;
        else
                (void)snprintf(hc->state_problem, sizeof hc->state_problem, "%s", e.msg);
        if (snprintf(dir, sizeof dir, "%s/outbox", cfg->state_dir) >= (int)sizeof dir)
                (void)snprintf(hc->outbox_problem, sizeof hc->outbox_problem,
                               "the outbox path under %s is too long", cfg->state_dir);
        else if ((hc->outbox = outbox_open(dir, &e)) == NULL)
                (void)snprintf(hc->outbox_problem, sizeof hc->outbox_problem, "%s", e.msg);
        return hc;
}

void halt_control_free(struct halt_control *hc)
{
        if (hc == NULL)
                return;
        redisconn_free(hc->redis);
        control_state_free(hc->stream);
        keyring_free(&hc->ring);
        signing_key_free(hc->key);
        outbox_close(hc->outbox);
        free(hc);
}

/* Writes the state when it is ours to write (never over a file we could not read). */
static void save_state(struct halt_control *hc, const char *cid)
{
        struct rwerr err;

        if (!hc->state_ok)
                return;
        if (halt_state_save(hc->cfg->state_dir, &hc->state, &err) != RW_OK) {
                (void)snprintf(hc->state_problem, sizeof hc->state_problem, "%s", err.msg);
                jsonlog_message(JSONLOG_ERROR, "halt_state_write_failed", cid, "%s", err.msg);
        }
}

/* ------------------------------------------------------------ act */

/* What broke, for the incident id: the summary up to its first ':' ("SIGIL backing", ...). */
static void subject_of(const struct verdict *v, char *out, size_t cap)
{
        const char *colon = strchr(v->summary, ':');
        size_t n = colon != NULL ? (size_t)(colon - v->summary) : 0;

        if (n >= cap)
                n = cap - 1;
        memcpy(out, v->summary, n);
        out[n] = '\0';
}

/* Queues a halt for relaywatch_state.halts (written by the cycle thread). */
static void keep_record(struct halt_control *hc, const char *msg, size_t len, const char *sig,
                        int64_t published_ms)
{
        if (hc->records != NULL &&
            record_queue_add_halt(hc->records, msg, len, sig, published_ms) != RW_OK)
                jsonlog_message(JSONLOG_WARN, "state_record_failed", hc->last_cid,
                                "out of memory queueing a halt record; the stream and the log "
                                "have it");
}

/* The incident's event as an audit record: durable for what changes whether the relayer runs. */
static void audit_halt(struct halt_control *hc, const char *event, const struct incident *inc,
                       const char *detail, int64_t latency_ms)
{
        cJSON *c;
        int durable = strcmp(event, "halt_published") == 0 || strcmp(event, "halt_queued") == 0 ||
                      strcmp(event, "halt_delivered") == 0 || strcmp(event, "halt_lifted") == 0;

        if (hc->audit == NULL || (c = cJSON_CreateObject()) == NULL)
                return;
        cJSON_AddStringToObject(c, "halt_id", inc->id);
        cJSON_AddStringToObject(c, "invariant", inc->invariant);
        if (inc->entry_id[0] != '\0')
                cJSON_AddStringToObject(c, "entry_id", inc->entry_id);
        cJSON_AddStringToObject(c, "phase", incident_phase_name(inc->phase));
        cJSON_AddBoolToObject(c, "ours", inc->ours);
        if (latency_ms >= 0)
                cJSON_AddNumberToObject(c, "detect_to_publish_ms", (double)latency_ms);
        if (detail != NULL)
                cJSON_AddStringToObject(c, "detail", detail);
        cJSON_AddStringToObject(c, "reason", inc->reason);
        audit_sink_record(hc->audit, event, inc->correlation_id, c, durable);
        cJSON_Delete(c);
}

static void log_halt(struct halt_control *hc, const char *event, enum jsonlog_level level,
                     const struct incident *inc, const char *detail, int64_t latency_ms)
{
        cJSON *line = jsonlog_begin(level, event, inc->correlation_id);

        audit_halt(hc, event, inc, detail, latency_ms);
        if (line == NULL)
                return;
        cJSON_AddStringToObject(line, "halt_id", inc->id);
        cJSON_AddStringToObject(line, "invariant", inc->invariant);
        if (inc->entry_id[0] != '\0')
                cJSON_AddStringToObject(line, "entry_id", inc->entry_id);
        cJSON_AddStringToObject(line, "phase", incident_phase_name(inc->phase));
        cJSON_AddBoolToObject(line, "ours", inc->ours);
        if (latency_ms >= 0)
                cJSON_AddNumberToObject(line, "detect_to_publish_ms", (double)latency_ms);
        if (detail != NULL)
                cJSON_AddStringToObject(line, "detail", detail);
        cJSON_AddStringToObject(line, "reason", inc->reason);
        if (strcmp(inc->invariant, HALT_PUBLISH_MANUAL) != 0)
                jsonlog_add_runbook(line, inc->invariant);
        jsonlog_emit(line);
}

/* Applies the outcome of halt_publish to the incident. */
static void apply_outcome(struct incident *inc, const struct halt_publish_result *res,
                          int64_t at_ms)
{
        switch (res->outcome) {
        case HALT_PUBLISHED:
                inc->phase = INCIDENT_PUBLISHED;
                inc->ack_wait_from_mono_ms = rwclock_mono_ms();
                inc->ours = 1;
                (void)snprintf(inc->entry_id, sizeof inc->entry_id, "%s", res->entry_id);
                inc->published_at_ms = at_ms;
                break;
        case HALT_ALREADY_OPEN:
                /* another replica (or an earlier run) halted for it first: that halt is ours too */
                inc->phase = INCIDENT_PUBLISHED;
                inc->ack_wait_from_mono_ms = rwclock_mono_ms();
                (void)snprintf(inc->id, sizeof inc->id, "%s", res->halt_id);
                (void)snprintf(inc->entry_id, sizeof inc->entry_id, "%s", res->entry_id);
                if (inc->published_at_ms == 0)
                        inc->published_at_ms = at_ms;
                break;
        case HALT_ALREADY_SENT:
        case HALT_RESUMED_OPEN:
        default:
                /* published before and lifted by an operator since */
                inc->phase = INCIDENT_RESUMED;
                if (res->halt_id[0] != '\0')
                        (void)snprintf(inc->id, sizeof inc->id, "%s", res->halt_id);
                break;
        }
}

static int build_halt(struct halt_control *hc, const struct verdict *v, const struct snapshot *s,
                      const struct incident *inc, char **msg, size_t *len,
                      char sig[CONTROL_SIG_B64_SIZE], struct rwerr *err)
{
        struct control_height heights[SNAP_NCHAINS];
        struct control_msg_fields f;
        struct audit_ref audit;
        int role, rc;

        memset(&f, 0, sizeof f);
        for (role = 0; role < SNAP_NCHAINS; role++) {
                heights[role].chain = snap_chain_role_name((enum snap_chain_role)role);
                heights[role].block = s->chains[role].pinned;
        }
        f.type = CONTROL_HALT;
        f.id = inc->id;
        f.invariant = v->invariant;
        f.severity = HALT_SEVERITY;
        f.reason = v->summary;
        f.evidence = v->evidence;
        f.heights = heights;
        f.nheights = SNAP_NCHAINS;
        f.issued_at_ms = rwclock_wall_ms();
        f.watchdog_id = hc->cfg->watchdog_id;
        f.correlation_id = s->correlation_id;
        f.key_id = hc->key->pub.key_id;
        /* the checkpoint that covers this verdict (written just before), when the log is up */
        if (audit_sink_latest(hc->audit, &audit) == 0)
                f.audit = &audit;
        if ((rc = control_msg_build(&f, msg, len, err)) != RW_OK)
                return rc;
        if ((rc = control_msg_sign(hc->key, *msg, *len, sig, err)) != RW_OK) {
                free(*msg);
                *msg = NULL;
        }
        return rc;
}

/* One new incident: sign, publish (or queue), remember. 1 when the state changed. */
static int halt_for(struct halt_control *hc, const struct verdict *v, const struct snapshot *s)
{
        struct incident inc;
        struct halt_publish_result res;
        char sig[CONTROL_SIG_B64_SIZE];
        char *msg = NULL;
        size_t len = 0;
        redisContext *ctx;
        struct rwerr err, oerr;
        struct incident *slot;
        int rc;

        memset(&inc, 0, sizeof inc);
        (void)snprintf(inc.invariant, sizeof inc.invariant, "%s", v->invariant);
        subject_of(v, inc.subject, sizeof inc.subject);
        /* the source chain's tip (head - confirmations) when it was first seen */
        inc.first_height = s->chains[SNAP_SOURCE].tip;
        (void)snprintf(inc.correlation_id, sizeof inc.correlation_id, "%s", s->correlation_id);
        (void)snprintf(inc.severity, sizeof inc.severity, "%s", HALT_SEVERITY);
        (void)snprintf(inc.reason, sizeof inc.reason, "%s", v->summary);
        inc.detected_at_ms = s->taken_ms;
        control_new_halt_id(inc.id);

        if (hc->key == NULL) {
                report(hc, "HALT_PATH_DOWN", FINDING_CRITICAL, s->correlation_id, inc.id,
                       v->evidence, "%s is violated and relaywatch cannot halt the relayer: %s",
                       v->invariant, hc->key_problem);
                return 0;
        }
        if (build_halt(hc, v, s, &inc, &msg, &len, sig, &err) != RW_OK) {
                report(hc, "HALT_PATH_DOWN", FINDING_CRITICAL, s->correlation_id, inc.id,
                       v->evidence, "%s is violated and its HALT cannot be built: %s", v->invariant,
                       err.msg);
                return 0;
        }
        ctx = redisconn_get_now(
                hc->redis); /* a new HALT tries Redis at once, whatever the backoff */
        rc = ctx != NULL ? halt_publish(ctx, &hc->keys, inc.id, inc.invariant, msg, len, sig, &res,
                                        &err)
                         : rwerr_set(&err, RW_ERR_IO, "%s", redisconn_problem(hc->redis));
        if (rc == RW_OK) {
                apply_outcome(&inc, &res, rwclock_wall_ms());
                if (res.outcome == HALT_PUBLISHED)
                        keep_record(hc, msg, len, sig, inc.published_at_ms);
        } else {
                if (ctx != NULL)
                        redis_failed(hc, rc, &err);
                if (hc->outbox == NULL ||
                    outbox_put(hc->outbox, inc.id, msg, len, sig, &oerr) != RW_OK) {
                        report(hc, "HALT_PATH_DOWN", FINDING_CRITICAL, s->correlation_id, inc.id,
                               v->evidence,
                               "the HALT for %s could not be published (%s) nor kept in the "
                               "outbox (%s): it will be tried again next cycle",
                               v->invariant, err.msg,
                               hc->outbox == NULL ? hc->outbox_problem : oerr.msg);
                        free(msg);
                        return 0;
                }
                inc.phase = INCIDENT_PENDING;
                hc->outbox_waiting++;
                keep_record(hc, msg, len, sig, 0);
        }
        free(msg);
        slot = halt_state_add(&hc->state, inc.invariant);
        if (slot == NULL)
                return 0; /* cannot happen: one incident per invariant */
        *slot = inc;
        if (inc.phase == INCIDENT_PENDING)
                log_halt(hc, "halt_queued", JSONLOG_CRITICAL, slot, err.msg, -1);
        else if (inc.phase == INCIDENT_PUBLISHED && inc.ours)
                log_halt(hc, "halt_published", JSONLOG_CRITICAL, slot, NULL,
                         slot->published_at_ms - s->taken_ms);
        else if (inc.phase == INCIDENT_PUBLISHED)
                log_halt(hc, "halt_joined", JSONLOG_CRITICAL, slot,
                         "a HALT for this invariant was already in force", -1);
        else
                log_halt(hc, "halt_not_repeated", JSONLOG_WARN, slot,
                         "an operator resumed while this invariant was violated", -1);
        return 1;
}

/* Whether verdict `v` calls for a HALT that is not in force yet. */
static int needs_halt(struct halt_control *hc, const struct verdict *v)
{
        return v->tier == VERDICT_TIER_HALT && v->mode == INVARIANT_ENFORCE &&
               v->status == VERDICT_VIOLATED && halt_state_find(&hc->state, v->invariant) == NULL;
}

int halt_control_will_halt(struct halt_control *hc, const struct cycle_result *r)
{
        size_t i;

        for (i = 0; i < r->nverdicts; i++)
                if (needs_halt(hc, &r->verdicts[i]))
                        return 1;
        return 0;
}

void halt_control_act(struct halt_control *hc, const struct cycle_result *r)
{
        size_t i;
        int changed = 0;

        for (i = 0; i < r->nverdicts; i++) {
                const struct verdict *v = &r->verdicts[i];

                if (needs_halt(hc, v))
                        changed |= halt_for(hc, v, &r->snapshot);
        }
        if (changed)
                save_state(hc, r->snapshot.correlation_id);
}

/* ------------------------------------------------------------ the outbox */

/* The invariant named in one of our own queued messages (the incidents field). */
static int field_of(const struct outbox_entry *e, char field[HALT_PUBLISH_FIELD_SIZE],
                    struct rwerr *err)
{
        struct control_msg m;
        int rc = control_msg_parse(e->msg, e->msg_len, &m, err);

        if (rc != RW_OK)
                return rc;
        (void)snprintf(field, HALT_PUBLISH_FIELD_SIZE, "%s", m.invariant);
        control_msg_free(&m);
        return RW_OK;
}

int halt_control_deliver(struct halt_control *hc, const char *cid)
{
        struct outbox_list list;
        struct rwerr err;
        redisContext *ctx;
        size_t i;
        int changed = 0, empty = 0;

        if (hc->outbox == NULL)
                return 0;
        if (outbox_list(hc->outbox, &list, &err) != RW_OK) {
                (void)snprintf(hc->outbox_problem, sizeof hc->outbox_problem, "%s", err.msg);
                return 0;
        }
        hc->outbox_problem[0] = '\0';
        hc->outbox_waiting = list.n;
        if (list.n == 0) {
                outbox_list_free(&list);
                return 1;
        }
        ctx = redis_get(hc);
        for (i = 0; ctx != NULL && i < list.n; i++) {
                const struct outbox_entry *e = &list.entries[i];
                char field[HALT_PUBLISH_FIELD_SIZE];
                struct halt_publish_result res;
                struct incident *inc;
                int rc;

                if ((rc = field_of(e, field, &err)) == RW_OK)
                        rc = halt_publish(ctx, &hc->keys, e->id, field, e->msg, e->msg_len, e->sig,
                                          &res, &err);
                if (rc != RW_OK) {
                        redis_failed(hc, rc, &err);
                        jsonlog_message(JSONLOG_ERROR, "outbox_delivery_failed", cid,
                                        "%s stays in the outbox: %s", e->id, err.msg);
                        break; /* keep the order: nothing after it goes first */
                }
                if (outbox_done(hc->outbox, e, &err) != RW_OK) {
                        jsonlog_message(JSONLOG_ERROR, "outbox_delivery_failed", cid,
                                        "%s was delivered but stays in the outbox: %s", e->id,
                                        err.msg);
                        break;
                }
                inc = halt_state_find(&hc->state, field);
                if (inc != NULL && strcmp(inc->id, e->id) == 0) {
                        apply_outcome(inc, &res, rwclock_wall_ms());
                        changed = 1;
                        log_halt(hc, "halt_delivered", JSONLOG_CRITICAL, inc, "from the outbox",
                                 -1);
                } else {
                        cJSON *line = jsonlog_begin(JSONLOG_CRITICAL, "halt_delivered", cid);

                        if (line != NULL) {
                                cJSON_AddStringToObject(line, "halt_id", e->id);
                                cJSON_AddStringToObject(line, "invariant", field);
                                cJSON_AddStringToObject(line, "outcome",
                                                        res.outcome == HALT_PUBLISHED
                                                                ? "published"
                                                                : "already on the stream");
                                cJSON_AddStringToObject(line, "detail", "from the outbox");
                                jsonlog_emit(line);
                        }
                }
                if (res.outcome == HALT_PUBLISHED)
                        keep_record(hc, e->msg, e->msg_len, e->sig, rwclock_wall_ms());
                hc->outbox_waiting--;
                if (i + 1 == list.n)
                        empty = 1;
        }
        outbox_list_free(&list);
        if (changed)
                save_state(hc, cid);
        return empty;
}

/* ------------------------------------------------------------ watch */

/* The relayer's activity: its accounts' pending nonces per chain and the newest operation. */
static int activity(const struct snapshot *s, uint64_t nonces[SNAP_NCHAINS], uint64_t *op_id)
{
        size_t i;
        int role;

        if (!s->ledger.ok)
                return 0;
        for (role = 0; role < SNAP_NCHAINS; role++) {
                const struct snap_chain *ch = &s->chains[role];

                if (!ch->ok || ch->nviews == 0 || !ch->views[0].ok ||
                    ch->views[0].nonce_pending == NULL)
                        return 0;
                nonces[role] = 0;
        }
        for (i = 0; i < s->naccounts; i++) {
                const struct snap_account *a = &s->accounts[i];

                nonces[a->chain] += s->chains[a->chain].views[0].nonce_pending[i];
        }
        *op_id = 0;
        for (i = 0; i < s->ledger.noperations; i++) {
                if (s->ledger.operations[i].op_id > *op_id)
                        *op_id = s->ledger.operations[i].op_id;
        }
        return 1;
}

/*
 * HALT_NOT_EFFECTIVE: after the ack the relayer must stand still. The
 * baseline is the first cycle observed after the ack (one observed before
 * it may predate the relayer's last sends). 1 when the state changed.
 */
static int check_effect(struct halt_control *hc, struct incident *inc, const struct cycle_result *r)
{
        const struct snapshot *s = &r->snapshot;
        uint64_t nonces[SNAP_NCHAINS] = {0}, op_id = 0;
        cJSON *ev;
        int role, moved = 0;

        if (inc->acked_at_ms == 0 || inc->not_effective_reported || !activity(s, nonces, &op_id))
                return 0;
        if (!inc->has_baseline) {
                if (r->observed_mono_ms < inc->acked_mono_ms)
                        return 0;
                memcpy(inc->baseline_nonces, nonces, sizeof nonces);
                inc->baseline_op_id = op_id;
                inc->has_baseline = 1;
                return 1;
        }
        for (role = 0; role < SNAP_NCHAINS; role++)
                moved |= nonces[role] > inc->baseline_nonces[role];
        moved |= op_id > inc->baseline_op_id;
        if (!moved)
                return 0;
        ev = cJSON_CreateObject();
        if (ev != NULL) {
                for (role = 0; role < SNAP_NCHAINS; role++) {
                        cJSON *c = cJSON_AddObjectToObject(
                                ev, snap_chain_role_name((enum snap_chain_role)role));

                        cJSON_AddNumberToObject(c, "nonces_at_ack",
                                                (double)inc->baseline_nonces[role]);
                        cJSON_AddNumberToObject(c, "nonces_now", (double)nonces[role]);
                }
                cJSON_AddNumberToObject(ev, "ledger_operation_at_ack", (double)inc->baseline_op_id);
                cJSON_AddNumberToObject(ev, "ledger_operation_now", (double)op_id);
        }
        report(hc, "HALT_NOT_EFFECTIVE", FINDING_CRITICAL, s->correlation_id, inc->id, ev,
               "the relayer acknowledged HALT %s (%s) but keeps working: its nonces or the "
               "ledger's operations moved on after the ack; stop it by hand",
               inc->id, inc->invariant);
        cJSON_Delete(ev);
        inc->not_effective_reported = 1;
        return 1;
}

/*
 * The acknowledgement of one published halt (PROTOCOL.md section 8: each
 * relayer instance's group names the HALT id in STREAM:ack:HALT_ID), and
 * its deadline, timed on the monotonic clock from when this run started
 * waiting. 1 when the state changed.
 */
static int check_ack(struct halt_control *hc, redisContext *ctx, struct incident *inc,
                     uint64_t now_mono)
{
        const struct config *c = hc->cfg;
        int acked[CONFIG_GROUPS_MAX] = {0};
        char missing[FINDING_TEXT_MAX / 2] = "";
        size_t i, used = 0, nmissing = 0;
        struct rwerr err;
        uint64_t waited;
        int rc;

        if (inc->acked_at_ms != 0 || inc->entry_id[0] == '\0')
                return 0;
        if (inc->ack_wait_from_mono_ms == 0)
                inc->ack_wait_from_mono_ms = now_mono; /* loaded from disk: wait from now */
        rc = halt_publish_acks(ctx, &hc->keys, inc->id, (const char *const *)c->consumer_groups,
                               c->nconsumer_groups, acked, &err);
        if (rc != RW_OK) {
                redis_failed(hc, rc, &err);
                return 0;
        }
        for (i = 0; i < c->nconsumer_groups; i++) {
                int w;

                if (acked[i])
                        continue;
                nmissing++;
                w = snprintf(missing + used, sizeof missing - used, "%s%s", used ? ", " : "",
                             c->consumer_groups[i]);
                if (w > 0 && (size_t)w < sizeof missing - used)
                        used += (size_t)w;
        }
        if (nmissing == 0) {
                inc->acked_at_ms = rwclock_wall_ms();
                inc->acked_mono_ms = now_mono;
                log_halt(hc, "halt_acknowledged", JSONLOG_INFO, inc, NULL, -1);
                if (inc->not_acked_reported)
                        finding_clear(hc->journal, "HALT_NOT_ACKNOWLEDGED", inc->id,
                                      inc->correlation_id, "the relayer acknowledged the HALT");
                if (hc->records != NULL &&
                    record_queue_add_acknowledged(hc->records, inc->id, inc->acked_at_ms) != RW_OK)
                        jsonlog_message(JSONLOG_WARN, "state_record_failed", inc->correlation_id,
                                        "out of memory queueing the acknowledgement of %s",
                                        inc->id);
                return 1;
        }
        waited = now_mono - inc->ack_wait_from_mono_ms;
        if (!inc->not_acked_reported && waited > c->ack_timeout_ms) {
                report(hc, "HALT_NOT_ACKNOWLEDGED", FINDING_CRITICAL, inc->correlation_id, inc->id,
                       NULL,
                       "the relayer has not acknowledged HALT %s (%s) after %llu ms (limit %llu "
                       "ms): no acknowledgement from group%s %s in %s:ack:%s; make sure it "
                       "stopped",
                       inc->id, inc->invariant, (unsigned long long)waited,
                       (unsigned long long)c->ack_timeout_ms, nmissing == 1 ? "" : "s", missing,
                       c->control_stream, inc->id);
                inc->not_acked_reported = 1;
                return 1;
        }
        return 0;
}

static int is_open(const struct halt_publish_open *open, size_t n, const char *field)
{
        size_t i;

        for (i = 0; i < n; i++) {
                if (strcmp(open[i].field, field) == 0)
                        return 1;
        }
        return 0;
}

/*
 * Incidents whose HALT an operator's RESUME lifted are over: a violation
 * seen now is a new one (its own HALT), unless the RESUME was forced over
 * it: then halt_publish answers RESUMED_OPEN and nothing is published until
 * it passes. Runs before anything judges the relayer's activity, which a
 * RESUME allows again. 1 when the state changed; -1 when Redis failed.
 */
static int sync_lifted(struct halt_control *hc, redisContext *ctx)
{
        struct halt_publish_open *open = NULL;
        size_t nopen = 0, i;
        struct rwerr err;
        int changed = 0, rc;

        rc = halt_publish_open_halts(ctx, &hc->keys, &open, &nopen, &err);
        if (rc != RW_OK) {
                redis_failed(hc, rc, &err);
                return -1;
        }
        for (i = 0; i < hc->state.n;) {
                struct incident *inc = &hc->state.incidents[i];

                /* one from the stream is lifted when the stream says so (track_stream) */
                if (inc->phase == INCIDENT_PUBLISHED && !inc->from_stream &&
                    !is_open(open, nopen, inc->invariant)) {
                        log_halt(hc, "halt_lifted", JSONLOG_INFO, inc, NULL, -1);
                        report(hc, "HALT_LIFTED", FINDING_INFO, inc->correlation_id, inc->id, NULL,
                               "HALT %s (%s) was lifted by an operator's RESUME", inc->id,
                               inc->invariant);
                        halt_state_remove(&hc->state, i);
                        changed = 1;
                        continue;
                }
                i++;
        }
        free(open);
        return changed;
}

/* The halts an operator forced a RESUME over and that now pass may halt again. */
static void clear_resumed(struct halt_control *hc, redisContext *ctx, const struct cycle_result *r)
{
        const char *ok_fields[HALT_STATE_MAX + 8];
        struct rwerr err;
        size_t i, nok = 0;
        int rc;

        for (i = 0; i < r->nverdicts && nok < sizeof ok_fields / sizeof ok_fields[0]; i++) {
                const struct verdict *v = &r->verdicts[i];

                if (v->tier == VERDICT_TIER_HALT && v->status == VERDICT_OK)
                        ok_fields[nok++] = v->invariant;
        }
        if (nok > 0 &&
            (rc = halt_publish_clear_resumed(ctx, &hc->keys, ok_fields, nok, &err)) != RW_OK)
                redis_failed(hc, rc, &err);
}

static int watch_stream(struct halt_control *hc, redisContext *ctx, int *read_ok);

static int has_stream_incident(const struct halt_control *hc)
{
        size_t i;

        for (i = 0; i < hc->state.n; i++)
                if (hc->state.incidents[i].from_stream)
                        return 1;
        return 0;
}

void halt_control_observe(struct halt_control *hc, const struct cycle_result *r)
{
        redisContext *ctx = redis_get(hc);
        int changed = 0, lifted_known = 0, stream_known = 0;
        size_t i;

        (void)snprintf(hc->last_cid, sizeof hc->last_cid, "%s", r->snapshot.correlation_id);
        if (r->tier1 != VERDICT_UNKNOWN)
                hc->last_evaluated_mono_ms = rwclock_mono_ms();
        if (ctx != NULL) {
                int rc = sync_lifted(hc, ctx);

                lifted_known = rc >= 0;
                changed |= rc > 0;
        }
        /* the RESUMEs on the stream up to now, for the incidents that came from it */
        if (has_stream_incident(hc) && (ctx = redis_get(hc)) != NULL)
                changed |= watch_stream(hc, ctx, &stream_known);
        for (i = 0; i < hc->state.n;) {
                struct incident *inc = &hc->state.incidents[i];
                const struct verdict *v = cycle_result_verdict(r, inc->invariant);

                if (inc->phase == INCIDENT_RESUMED && (v == NULL || v->status == VERDICT_OK)) {
                        /* forced over, and now passing (a manual halt has no verdict) */
                        log_halt(hc, "incident_closed", JSONLOG_INFO, inc, NULL, -1);
                        halt_state_remove(&hc->state, i);
                        changed = 1;
                        continue;
                }
                /* the effect only when a RESUME cannot have allowed the activity */
                if (inc->phase == INCIDENT_PUBLISHED &&
                    (inc->from_stream ? stream_known : lifted_known))
                        changed |= check_effect(hc, inc, r);
                i++;
        }
        if ((ctx = redis_get(hc)) != NULL)
                clear_resumed(hc, ctx, r);
        if (changed)
                save_state(hc, hc->last_cid);
}

static void add_problem(struct halt_control *hc, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static void add_problem(struct halt_control *hc, const char *fmt, ...)
{
        va_list ap;

        if (hc->nproblems == PATH_PROBLEMS_MAX)
                return;
        va_start(ap, fmt);
        (void)vsnprintf(hc->problems[hc->nproblems++], PROBLEM_MAX, fmt, ap);
        va_end(ap);
}

/*
 * Each relayer instance's group (PROTOCOL.md section 8): it exists, has
 * exactly one consumer, that consumer is alive, and the instance reads the
 * protocol version relaywatch writes.
 */
static void check_consumers(struct halt_control *hc, redisContext *ctx)
{
        const struct config *c = hc->cfg;
        char versions[HALT_PUBLISH_VERSIONS_SIZE];
        struct rwerr err;
        size_t i;

        for (i = 0; i < c->nconsumer_groups && (ctx = redis_get(hc)) != NULL; i++) {
                const char *g = c->consumer_groups[i];
                size_t live = 0, total = 0;
                int rc = halt_publish_live_consumers(ctx, &hc->keys, g, c->consumer_idle_ms, &live,
                                                     &total, &err);

                if (rc == RW_ERR_REFUSED) {
                        add_problem(hc, "%s: relayer instance %s is not reading the control stream",
                                    err.msg, g);
                        continue;
                }
                if (rc != RW_OK) {
                        redis_failed(hc, rc, &err);
                        return;
                }
                if (total > 1)
                        add_problem(hc,
                                    "group %s on %s has %zu consumers: a HALT reaches only one of "
                                    "them; give each relayer instance a group of its own",
                                    g, c->control_stream, total);
                else if (live == 0)
                        add_problem(hc,
                                    "no live consumer in group %s on %s (%zu consumer%s, none "
                                    "active in the last %llu ms): a HALT would not be read",
                                    g, c->control_stream, total, total == 1 ? "" : "s",
                                    (unsigned long long)c->consumer_idle_ms);
                rc = halt_publish_client_versions(ctx, &hc->keys, g, versions, &err);
                if (rc == RW_ERR_IO) {
                        redis_failed(hc, rc, &err);
                        return;
                }
                if (rc != RW_OK)
                        add_problem(hc, "relayer instance %s: %s", g, err.msg);
                else if (versions[0] != '\0' &&
                         !halt_publish_versions_include(versions, CONTROL_MSG_VERSION))
                        add_problem(hc,
                                    "relayer instance %s reads control protocol version%s %s, "
                                    "not %d, which relaywatch writes: it could not read a HALT",
                                    g, strchr(versions, ',') != NULL ? "s" : "", versions,
                                    CONTROL_MSG_VERSION);
        }
}

/* ------------------------------------------------------------ the stream watch */

/* CONTROL_STREAM_FORGERY for one entry (or the halt key: entry_id ""). */
static void report_forgery(struct halt_control *hc, const char *entry_id,
                           const struct control_outcome *out)
{
        const char *where = entry_id[0] != '\0' ? entry_id : CONTROL_FROM_HALT_KEY;
        cJSON *ev = cJSON_CreateObject();
        char subject[CONTROL_ENTRY_ID_SIZE + 16];
        struct finding f;
        char summary[FINDING_TEXT_MAX];

        if (ev != NULL) {
                cJSON_AddStringToObject(ev, "stream", hc->cfg->control_stream);
                cJSON_AddStringToObject(ev, entry_id[0] != '\0' ? "entry_id" : "halt_key",
                                        entry_id[0] != '\0' ? entry_id : hc->cfg->halt_key);
                cJSON_AddStringToObject(ev, "rejection", control_reject_name(out->reject));
                cJSON_AddStringToObject(ev, "detail", out->detail);
                if (out->key_id[0] != '\0') {
                        cJSON_AddStringToObject(ev, "key_id", out->key_id);
                        cJSON_AddStringToObject(ev, "key_role", control_role_name(out->role));
                }
                if (out->msg_id[0] != '\0')
                        cJSON_AddStringToObject(ev, "message_id", out->msg_id);
        }
        (void)snprintf(subject, sizeof subject, "%s", where);
        (void)snprintf(summary, sizeof summary,
                       "%s %s on the control stream %s fails the protocol's checks (%s: %s): "
                       "relaywatch did not write it; someone else can write to the stream",
                       entry_id[0] != '\0' ? "entry" : "the halt key",
                       entry_id[0] != '\0' ? entry_id : hc->cfg->halt_key, hc->cfg->control_stream,
                       control_reject_name(out->reject), out->detail);
        f.kind = "CONTROL_STREAM_FORGERY";
        f.severity = FINDING_CRITICAL;
        f.summary = summary;
        f.evidence = ev;
        f.correlation_id = hc->last_cid;
        f.halt_id = NULL;
        f.subject = subject;
        f.cleared = 0;
        finding_report(hc->journal, &f);
        cJSON_Delete(ev);
        /* one entry is one event: paged once, resolved after the flap window */
        finding_clear(hc->journal, "CONTROL_STREAM_FORGERY", subject, hc->last_cid,
                      "reported; the entry stays on the stream, rejected by every reader");
}

/*
 * Pages a forged entry, unless FORGERY_BUDGET of them were paged in this
 * window already: then it is counted, and forgery_summary pages the count.
 */
static void forgery_seen(struct halt_control *hc, const char *entry_id,
                         const struct control_outcome *out)
{
        uint64_t now = rwclock_mono_ms();

        if (hc->forgery_window_mono_ms == 0 ||
            now - hc->forgery_window_mono_ms >= FORGERY_WINDOW_MS) {
                hc->forgery_window_mono_ms = now;
                hc->forgeries_in_window = 0;
        }
        if (hc->forgeries_in_window++ < FORGERY_BUDGET) {
                report_forgery(hc, entry_id, out);
                return;
        }
        jsonlog_message(JSONLOG_CRITICAL, "control_stream_forgery_held", hc->last_cid,
                        "entry %s fails the protocol's checks (%s); more than %d such entries in "
                        "%llu s: counted in one summary",
                        entry_id[0] != '\0' ? entry_id : CONTROL_FROM_HALT_KEY,
                        control_reject_name(out->reject), FORGERY_BUDGET,
                        (unsigned long long)(FORGERY_WINDOW_MS / 1000));
        if (hc->forgeries_held++ == 0)
                (void)snprintf(hc->forgery_first_held, sizeof hc->forgery_first_held, "%s",
                               entry_id);
        (void)snprintf(hc->forgery_last_held, sizeof hc->forgery_last_held, "%s", entry_id);
}

/* The held forgeries, as one finding, when the window that held them is over. */
static void forgery_summary(struct halt_control *hc)
{
        if (hc->forgeries_held == 0 ||
            rwclock_mono_ms() - hc->forgery_window_mono_ms < FORGERY_WINDOW_MS)
                return;
        report(hc, "CONTROL_STREAM_FORGERY", FINDING_CRITICAL, hc->last_cid, NULL, NULL,
               "%zu more entries on the control stream %s failed the protocol's checks (entries "
               "%s to %s), beyond the %d paged one by one: someone is writing to the stream; "
               "see relaywatch control tail",
               hc->forgeries_held, hc->cfg->control_stream, hc->forgery_first_held,
               hc->forgery_last_held, FORGERY_BUDGET);
        finding_clear(hc->journal, "CONTROL_STREAM_FORGERY", NULL, hc->last_cid,
                      "the held entries were reported");
        hc->forgeries_held = 0;
}

/* What control_read tells of each entry: rejections after the cursor are forgeries. */
static int incident_with_id(const struct halt_state *st, const char *id)
{
        size_t i;

        for (i = 0; i < st->n; i++)
                if (strcmp(st->incidents[i].id, id) == 0)
                        return 1;
        return 0;
}

/*
 * An accepted entry the stream brought: a RESUME (with the operator key that
 * signed it), or a HALT relaywatch did not publish itself (a manual halt, or
 * another replica's), as an audit record with the signed message itself.
 */
static void audit_entry(struct halt_control *hc, const char *entry_id,
                        const struct control_field *fields, size_t nfields,
                        const struct control_outcome *out)
{
        const char *kind;
        cJSON *c;
        size_t i;

        if (out->known || hc->audit == NULL)
                return;
        if (out->type == CONTROL_RESUME)
                kind = "resume";
        else if (out->role == CONTROL_ROLE_OPERATOR)
                kind = "manual_halt";
        else if (!incident_with_id(&hc->state, out->msg_id))
                kind = "halt_seen";
        else
                return; /* our own HALT: halt_published said it */
        if ((c = cJSON_CreateObject()) == NULL)
                return;
        cJSON_AddStringToObject(c, "entry_id", entry_id);
        cJSON_AddStringToObject(c, "id", out->msg_id);
        cJSON_AddStringToObject(c, "key_id", out->key_id);
        cJSON_AddStringToObject(c, "role", control_role_name(out->role));
        if (out->type == CONTROL_RESUME)
                cJSON_AddNumberToObject(c, "lifted", (double)out->nlifted);
        for (i = 0; i < nfields; i++) {
                char *text;

                if (fields[i].name_len != 3 || memcmp(fields[i].name, "msg", 3) != 0 ||
                    fields[i].value_len > CONTROL_MSG_MAX ||
                    (text = malloc(fields[i].value_len + 1)) == NULL)
                        continue;
                memcpy(text, fields[i].value, fields[i].value_len);
                text[fields[i].value_len] = '\0'; /* accepted: strict UTF-8, no NUL */
                cJSON_AddStringToObject(c, "msg", text);
                free(text);
        }
        audit_sink_record(hc->audit, kind, out->msg_id, c, 1);
        cJSON_Delete(c);
}

/* Queues an accepted RESUME for relaywatch_state.resumes (written by the cycle thread). */
static void keep_resume(struct halt_control *hc, const char *entry_id,
                        const struct control_field *fields, size_t nfields)
{
        const struct control_field *msg = NULL;
        char sig[CONTROL_SIG_B64_SIZE] = "";
        size_t i;

        if (hc->records == NULL)
                return;
        for (i = 0; i < nfields; i++) {
                if (fields[i].name_len == 3 && memcmp(fields[i].name, "msg", 3) == 0)
                        msg = &fields[i];
                else if (fields[i].name_len == 3 && memcmp(fields[i].name, "sig", 3) == 0 &&
                         fields[i].value_len < sizeof sig) {
                        memcpy(sig, fields[i].value, fields[i].value_len);
                        sig[fields[i].value_len] = '\0';
                }
        }
        if (msg == NULL || sig[0] == '\0')
                return; /* cannot happen: an accepted entry has both */
        if (record_queue_add_resume(hc->records, msg->value, msg->value_len, sig, entry_id,
                                    rwclock_wall_ms()) != RW_OK)
                jsonlog_message(JSONLOG_WARN, "state_record_failed", hc->last_cid,
                                "out of memory queueing the RESUME of entry %s; the stream and "
                                "the audit log have it",
                                entry_id);
}

/* The unix ms of a stream entry id "MS-SEQ"; 0 when it is not one. */
static int64_t entry_ms(const char *entry_id)
{
        char *end = NULL;
        unsigned long long ms;

        if (entry_id[0] < '0' || entry_id[0] > '9')
                return 0;
        ms = strtoull(entry_id, &end, 10);
        if (end == NULL || *end != '-' || ms > (unsigned long long)INT64_MAX)
                return 0;
        return (int64_t)ms;
}

static int in_force_has(const struct control_in_force *list, size_t n, const char *halt_id)
{
        size_t i;

        for (i = 0; i < n; i++)
                if (strcmp(list[i].halt_id, halt_id) == 0)
                        return 1;
        return 0;
}

/*
 * Opens an incident for a valid HALT in force that no incident tracks: a
 * manual halt or another signer's. Nothing is published (it is on the
 * stream already); the halt goes to relaywatch_state.halts with the time
 * of its entry. 1 when an incident was opened; 0 when not (now); -1 when
 * Redis failed.
 */
static int adopt_halt(struct halt_control *hc, redisContext *ctx, const struct control_in_force *h)
{
        char sig[CONTROL_SIG_B64_SIZE];
        char *msg = NULL;
        size_t len = 0;
        struct control_msg m;
        struct incident *inc;
        struct rwerr err;
        int found = 0, rc;

        /* the exact bytes and signature, for the record */
        if (h->entry_id[0] != '\0')
                rc = halt_publish_read_entry(ctx, &hc->keys, h->entry_id, &found, &msg, &len, sig,
                                             &err);
        else
                rc = halt_publish_read_halt_key(ctx, &hc->keys, &found, &msg, &len, sig, &err);
        if (rc == RW_ERR_IO) {
                redis_failed(hc, rc, &err);
                return -1;
        }
        if (rc != RW_OK || !found || len != h->msg_len || memcmp(msg, h->msg, len) != 0) {
                /* trimmed or replaced meanwhile: the stream is read again next tick */
                free(msg);
                return 0;
        }
        if (control_msg_parse(msg, len, &m, &err) != RW_OK) {
                free(msg);
                return 0; /* verified and parsed by the stream state already: cannot happen */
        }
        inc = halt_state_add(&hc->state, m.invariant);
        if (inc == NULL) {
                jsonlog_message(JSONLOG_ERROR, "halt_not_tracked", hc->last_cid,
                                "HALT %s (%s) is in force but %d incidents are open already: it "
                                "is not tracked",
                                h->halt_id, m.invariant, HALT_STATE_MAX);
                control_msg_free(&m);
                free(msg);
                return 0;
        }
        (void)snprintf(inc->id, sizeof inc->id, "%s", h->halt_id);
        (void)snprintf(inc->entry_id, sizeof inc->entry_id, "%s",
                       h->entry_id[0] != '\0' ? h->entry_id : CONTROL_FROM_HALT_KEY);
        (void)snprintf(inc->correlation_id, sizeof inc->correlation_id, "%s", m.correlation_id);
        (void)snprintf(inc->severity, sizeof inc->severity, "%s", m.severity);
        (void)snprintf(inc->reason, sizeof inc->reason, "%s", m.reason);
        (void)snprintf(inc->key_id, sizeof inc->key_id, "%s", h->key_id);
        inc->phase = INCIDENT_PUBLISHED;
        inc->ours = 0;
        inc->from_stream = 1;
        inc->detected_at_ms = rwclock_wall_ms();
        inc->published_at_ms = entry_ms(h->entry_id);
        if (inc->published_at_ms == 0)
                inc->published_at_ms = m.issued_at_ms;
        inc->ack_wait_from_mono_ms = rwclock_mono_ms();
        keep_record(hc, msg, len, sig, inc->published_at_ms);
        log_halt(hc, "halt_tracked", JSONLOG_WARN, inc,
                 h->role == CONTROL_ROLE_OPERATOR
                         ? "a manual HALT (operator key) is in force: tracked like relaywatch's own"
                         : "a HALT relaywatch did not publish is in force: tracked like its own",
                 -1);
        control_msg_free(&m);
        free(msg);
        return 1;
}

/*
 * The HALTs in force on the stream (as a relayer reads it) against the
 * incidents: one from the stream that is no longer in force was lifted by
 * a RESUME and is over; one in force that no incident tracks (by id, or
 * for its invariant) is adopted. After a restart a tracked one is in the
 * halt state already, so it is neither opened nor paged again. 1 when the
 * state changed.
 */
static int track_stream(struct halt_control *hc, redisContext *ctx)
{
        const struct control_in_force *list = NULL;
        size_t n = control_state_in_force(hc->stream, &list), i;
        int changed = 0;

        for (i = 0; i < hc->state.n;) {
                struct incident *inc = &hc->state.incidents[i];

                if (inc->from_stream && inc->phase == INCIDENT_PUBLISHED &&
                    !in_force_has(list, n, inc->id)) {
                        log_halt(hc, "halt_lifted", JSONLOG_INFO, inc, NULL, -1);
                        report(hc, "HALT_LIFTED", FINDING_INFO, inc->correlation_id, inc->id, NULL,
                               "HALT %s (%s) was lifted by an operator's RESUME", inc->id,
                               inc->invariant);
                        if (inc->not_acked_reported && inc->acked_at_ms == 0)
                                finding_clear(hc->journal, "HALT_NOT_ACKNOWLEDGED", inc->id,
                                              inc->correlation_id, "the HALT was lifted");
                        halt_state_remove(&hc->state, i);
                        changed = 1;
                        continue;
                }
                i++;
        }
        for (i = 0; i < n; i++) {
                struct control_msg m;
                struct rwerr err;
                int tracked, rc;

                if (incident_with_id(&hc->state, list[i].halt_id))
                        continue;
                /* one incident per invariant: another for the same is covered by it */
                if (control_msg_parse(list[i].msg, list[i].msg_len, &m, &err) != RW_OK)
                        continue;
                tracked = halt_state_find(&hc->state, m.invariant) != NULL;
                control_msg_free(&m);
                if (tracked)
                        continue;
                rc = adopt_halt(hc, ctx, &list[i]);
                if (rc < 0)
                        break;
                changed |= rc;
        }
        return changed;
}

static void judged_entry(void *arg, const char *entry_id, const struct control_field *fields,
                         size_t nfields, const struct control_outcome *out)
{
        struct halt_control *hc = arg;
        int cmp = 1;
        struct rwerr err;

        (void)snprintf(hc->stream_last, sizeof hc->stream_last, "%s", entry_id);
        if (out->reject == CONTROL_NO_MEMORY)
                return;
        /*
         * Every RESUME on the stream goes to relaywatch_state.resumes, those
         * an earlier run saw too: the row is written once (by resume id), and
         * a restart that lost the queue before it was written loses nothing.
         */
        if (out->reject == CONTROL_ACCEPTED && out->type == CONTROL_RESUME && !out->known)
                keep_resume(hc, entry_id, fields, nfields);
        if (hc->state.stream_cursor[0] != '\0' &&
            halt_publish_entry_id_cmp(entry_id, hc->state.stream_cursor, &cmp, &err) != RW_OK)
                cmp = 1;
        if (cmp <= 0)
                return; /* an earlier run saw it */
        if (out->reject == CONTROL_ACCEPTED)
                audit_entry(hc, entry_id, fields, nfields, out);
        else
                forgery_seen(hc, entry_id, out);
}

/* The halt key, judged on its own each tick: reported once per distinct bad content. */
static void judged_halt_key(void *arg, const char *entry_id, const struct control_field *fields,
                            size_t nfields, const struct control_outcome *out)
{
        struct halt_control *hc = arg;
        char sig[CONTROL_SIG_B64_SIZE] = "-";
        size_t i;

        (void)entry_id;
        if (out->reject == CONTROL_ACCEPTED || out->reject == CONTROL_NO_MEMORY ||
            out->reject == CONTROL_REPLAY)
                return;
        for (i = 0; i < nfields; i++) {
                if (fields[i].name_len == 3 && memcmp(fields[i].name, "sig", 3) == 0)
                        (void)snprintf(sig, sizeof sig, "%.*s",
                                       (int)(fields[i].value_len < sizeof sig - 1
                                                     ? fields[i].value_len
                                                     : sizeof sig - 1),
                                       fields[i].value);
        }
        if (strcmp(sig, hc->halt_key_reported) == 0)
                return;
        (void)snprintf(hc->halt_key_reported, sizeof hc->halt_key_reported, "%s", sig);
        forgery_seen(hc, "", out);
}

/*
 * Judges what is new on the stream, as a relayer would. The first time the
 * whole stream is read; entries up to the saved cursor were reported by an
 * earlier run. 1 when the cursor moved (the state is to be saved).
 */
static int watch_stream(struct halt_control *hc, redisContext *ctx, int *read_ok)
{
        struct control_keys keys;
        struct control_state *scratch;
        struct rwerr err;
        int rc, present = 0, changed;

        *read_ok = 0;
        if (hc->stream == NULL)
                return 0;
        if (!hc->stream_loaded) {
                control_state_reset(hc->stream);
                (void)snprintf(hc->stream_last, sizeof hc->stream_last, "0-0");
                rc = control_read_halt_key(ctx, hc->cfg->halt_key, hc->stream, &present, NULL, NULL,
                                           &err);
                if (rc != RW_OK) {
                        redis_failed(hc, rc, &err);
                        return 0;
                }
                hc->stream_loaded = 1;
        }
        rc = control_read_stream(ctx, hc->cfg->control_stream, hc->stream_last, hc->stream, NULL,
                                 judged_entry, hc, &err);
        if (rc != RW_OK) {
                redis_failed(hc, rc, &err);
                return 0;
        }
        *read_ok = 1;
        changed = track_stream(hc, ctx);
        if ((ctx = redis_get(hc)) == NULL)
                return changed;
        forgery_summary(hc);
        /* the halt key as it is now, judged alone (a fresh state: no history) */
        control_keys_from_keyring(&keys, &hc->ring);
        if ((scratch = control_state_new(&keys)) != NULL) {
                rc = control_read_halt_key(ctx, hc->cfg->halt_key, scratch, &present,
                                           judged_halt_key, hc, &err);
                control_state_free(scratch);
                if (rc != RW_OK)
                        redis_failed(hc, rc, &err);
        }
        if (strcmp(hc->stream_last, "0-0") == 0 ||
            strcmp(hc->stream_last, hc->state.stream_cursor) == 0)
                return changed;
        (void)snprintf(hc->state.stream_cursor, sizeof hc->state.stream_cursor, "%s",
                       hc->stream_last);
        return 1;
}

static void set_heartbeat(struct halt_control *hc, redisContext *ctx)
{
        char msg[HEARTBEAT_MSG_MAX], sig[CONTROL_SIG_B64_SIZE];
        int64_t now = rwclock_wall_ms(); /* issued_at: it leaves the process */
        size_t len = 0;
        struct rwerr err;
        int rc;

        hc->heartbeat_ok = 0;
        rc = heartbeat_build(hc->cfg->watchdog_id, now, (int64_t)hc->cfg->heartbeat_ttl_ms,
                             hc->key->pub.key_id, msg, sizeof msg, &len, &err);
        if (rc == RW_OK)
                rc = control_msg_sign(hc->key, msg, len, sig, &err);
        if (rc == RW_OK)
                rc = heartbeat_publish(ctx, hc->cfg->heartbeat_key, msg, len, sig,
                                       (int64_t)hc->cfg->heartbeat_ttl_ms, &err);
        if (rc != RW_OK) {
                redis_failed(hc, rc, &err);
                add_problem(hc, "heartbeat: %s", err.msg);
                return;
        }
        hc->heartbeat_ok = 1;
        hc->heartbeat_ms = now;
}

static void report_path(struct halt_control *hc, uint64_t now_mono)
{
        char joined[FINDING_TEXT_MAX] = "";
        size_t i, n = 0;

        hc->path_ok = hc->nproblems == 0;
        if (hc->path_ok) {
                if (hc->path_down_reported)
                        finding_clear(hc->journal, "HALT_PATH_DOWN", NULL, hc->last_cid,
                                      "the halt path is up again");
                hc->path_down_reported = 0;
                return;
        }
        if (hc->path_down_reported && now_mono - hc->path_down_reported_mono_ms < PATH_REMIND_MS)
                return;
        for (i = 0; i < hc->nproblems; i++) {
                int w = snprintf(joined + n, sizeof joined - n, "%s%s", i > 0 ? "; " : "",
                                 hc->problems[i]);

                if (w < 0 || (size_t)w >= sizeof joined - n)
                        break;
                n += (size_t)w;
        }
        report(hc, "HALT_PATH_DOWN", FINDING_CRITICAL, hc->last_cid, NULL, NULL,
               "relaywatch could not halt the relayer right now: %s", joined);
        hc->path_down_reported = 1;
        hc->path_down_reported_mono_ms = now_mono;
}

/* WATCHDOG_BLIND when no Tier 1 evaluation came for blind_limit_ms; 1 while blind. */
static int check_blind(struct halt_control *hc, uint64_t now_mono)
{
        uint64_t since = now_mono - hc->last_evaluated_mono_ms;
        int blind = since > hc->cfg->blind_limit_ms;

        if (blind && !hc->blind_reported) {
                report(hc, "WATCHDOG_BLIND", FINDING_ERROR, hc->last_cid, NULL, NULL,
                       "no Tier 1 invariant could be evaluated for %llu ms (limit %llu ms): the "
                       "heartbeat stops, so a relayer that requires it stops too",
                       (unsigned long long)since, (unsigned long long)hc->cfg->blind_limit_ms);
                hc->blind_reported = 1;
        } else if (!blind && hc->blind_reported) {
                finding_clear(hc->journal, "WATCHDOG_BLIND", NULL, hc->last_cid,
                              "Tier 1 invariants are evaluated again");
                hc->blind_reported = 0;
        }
        return blind;
}

void halt_control_tick(struct halt_control *hc)
{
        uint64_t now = rwclock_mono_ms();
        redisContext *ctx;
        int changed = 0, blind, stream_ok = 0;
        size_t i;

        hc->nproblems = 0;
        if (hc->key == NULL)
                add_problem(hc, "%s", hc->key_problem);
        if (!hc->state_ok)
                add_problem(hc, "%s", hc->state_problem);
        if (hc->outbox == NULL)
                add_problem(hc, "outbox: %s", hc->outbox_problem);

        (void)halt_control_deliver(hc, hc->last_cid);
        if ((ctx = redis_get(hc)) != NULL)
                changed |= sync_lifted(hc, ctx) > 0;
        for (i = 0; i < hc->state.n && (ctx = redis_get(hc)) != NULL; i++) {
                if (hc->state.incidents[i].phase == INCIDENT_PUBLISHED)
                        changed |= check_ack(hc, ctx, &hc->state.incidents[i], now);
        }
        if ((ctx = redis_get(hc)) != NULL)
                check_consumers(hc, ctx);
        if ((ctx = redis_get(hc)) != NULL)
                changed |= watch_stream(hc, ctx, &stream_ok);
        if (hc->ring_problem[0] != '\0')
                add_problem(hc, "%s", hc->ring_problem);

        blind = check_blind(hc, now);
        ctx = redis_get(hc);
        if (ctx == NULL)
                add_problem(hc, "Redis: %s", redisconn_problem(hc->redis));
        hc->heartbeat_ok = 0;
        if (ctx != NULL && hc->key != NULL && hc->state_ok && !blind)
                set_heartbeat(hc, ctx);

        if (changed)
                save_state(hc, hc->last_cid);
        report_path(hc, now);
        if (hc->records != NULL)
                record_queue_take_findings(hc->records, hc->journal);
}

int halt_control_blind(const struct halt_control *hc)
{
        return hc->blind_reported;
}

size_t halt_control_outbox_waiting(const struct halt_control *hc)
{
        return hc->outbox_waiting;
}

int halt_control_healthy(const struct halt_control *hc)
{
        return hc->path_ok && hc->state_ok && hc->heartbeat_ok;
}

const struct halt_state *halt_control_state(const struct halt_control *hc)
{
        return &hc->state;
}

int halt_control_status_json(const struct halt_control *hc, cJSON *status)
{
        cJSON *path = cJSON_AddObjectToObject(status, "halt_path");
        cJSON *hb = cJSON_AddObjectToObject(status, "heartbeat");
        cJSON *problems, *incidents = cJSON_AddArrayToObject(status, "incidents");
        size_t i;

        if (path == NULL || hb == NULL || incidents == NULL)
                return -1;
        cJSON_AddBoolToObject(path, "ok", hc->path_ok);
        cJSON_AddBoolToObject(path, "state_readable", hc->state_ok);
        cJSON_AddNumberToObject(path, "outbox_waiting", (double)halt_control_outbox_waiting(hc));
        problems = cJSON_AddArrayToObject(path, "problems");
        for (i = 0; problems != NULL && i < hc->nproblems; i++)
                cJSON_AddItemToArray(problems, cJSON_CreateString(hc->problems[i]));
        cJSON_AddBoolToObject(hb, "ok", hc->heartbeat_ok);
        cJSON_AddNumberToObject(hb, "last_set_at_ms", (double)hc->heartbeat_ms);
        cJSON_AddNumberToObject(hb, "ttl_ms", (double)hc->cfg->heartbeat_ttl_ms);
        cJSON_AddStringToObject(hb, "key", hc->cfg->heartbeat_key);
        for (i = 0; i < hc->state.n; i++) {
                cJSON *o = halt_state_incident_json(&hc->state.incidents[i]);

                if (o == NULL || !cJSON_AddItemToArray(incidents, o)) {
                        cJSON_Delete(o);
                        return -1;
                }
        }
        return problems != NULL ? 0 : -1;
}

void halt_control_set_audit(struct halt_control *hc, const struct audit_sink *sink)
{
        hc->audit = sink;
}
