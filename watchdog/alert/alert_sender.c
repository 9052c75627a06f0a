/*
 * alert_sender: the thread that delivers alert events (alert_sender.h).
 *
 * In the order of this file: the routes (a FIFO of deliveries each, at
 * most one attempt in flight), the failure changes and the counters, the
 * spool's hooks (the spool, alert_spool.h, writes and reads the file; the
 * messages it lists and loads are the routes' deliveries), the claims
 * (Redis), the intake and the routing, the outcomes, the thread, and the
 * public functions. One attempt, the curl transfer shared by the thread
 * and alert_send_once, is alert_attempt.h's.
 *
 * Only the sender thread touches the routes, their deliveries and the
 * spool once the thread runs (before alert_sender_start and after it has
 * been joined, the caller of new and free does). The intake, the stop
 * request, the failure changes and each route's published counters are
 * shared and live under `lock`.
 */
#define _GNU_SOURCE /* pthread_setname_np */
#include "alert_sender.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <sodium.h>

#include "audit_sink.h"
#include "alert_attempt.h"
#include "alert_spool.h"
#include "jsonlog.h"
#include "receiver.h"
#include "redisconn.h"
#include "rwclock.h"

#define ROUTE_BACKLOG_MAX 10000                     /* deliveries waiting on one route */
#define CHANGES_MAX ((size_t)4 * CONFIG_ROUTES_MAX) /* failure changes not taken yet */
#define CLAIM_TTL_MS 604800000ULL                   /* 7 days */
#define CLAIM_KEY_MAX 512
#define CLAIM_DEBTS_MAX 64 /* resolves sent without a claim, recorded once Redis is back */
#define CLAIM_DEFAULT_PREFIX "relayer:control:alert:" /* config's default, for hand-made configs */
#define BACKOFF_FIRST_MS 1000
#define BACKOFF_MAX_MS 300000
#define RETRY_AFTER_MAX_MS 3600000
#define IDLE_WAIT_MS 5000 /* the longest poll when nothing is due */
#define BACKOFF_SCALE_ENV "RELAYWATCH_ALERT_BACKOFF_SCALE"

/* ================================================================ the routes */

/* One (route, alert) to deliver. */
struct delivery {
        struct delivery *next;
        struct alert alert;
        unsigned attempts; /* made so far, counted across restarts */
        int spooled;       /* in the spool file */
        char problem[RWERR_MSG_MAX];
};

/* A route's counters as alert_sender_status_json shows them (under the sender's lock). */
struct route_stats {
        size_t queued, spooled, in_flight;
        uint64_t delivered, failed, retried;
        int failing;
        char last_problem[RWERR_MSG_MAX];
};

struct route {
        const struct config_alert_route *cfg;
        struct delivery *head, *tail; /* waiting, oldest first */
        size_t waiting;
        struct delivery *current; /* in flight, or NULL */
        struct alert_attempt att; /* current's */
        uint64_t not_before_ms;   /* monotonic: no attempt starts before */
        int failing;              /* a message reached the spool or was rejected */
        uint64_t delivered, failed, retried;
        char last_problem[RWERR_MSG_MAX];
        struct route_stats stats; /* the copy alert_sender_status_json reads */
};

struct intake {
        struct intake *next;
        struct alert alert;
        char route[SNAP_NAME_MAX]; /* "" for the routing by severity */
};

struct alert_sender {
        const struct config *cfg;
        const struct audit_sink *audit; /* borrowed; records deliveries */
        CURLM *multi;
        struct redisconn *redis;
        char claim_prefix[256];
        double backoff_scale; /* RELAYWATCH_ALERT_BACKOFF_SCALE, 1 unless set */
        pthread_t thread;
        int started;

        pthread_mutex_t lock; /* guards what follows, up to the thread's own */
        struct intake *in_head, *in_tail;
        size_t in_n;
        int stopping;
        uint64_t grace_ms;
        struct alert_route_change changes[CHANGES_MAX];
        size_t nchanges;

        /* the thread's own */
        struct route *routes;
        size_t nroutes;
        struct alert_spool spool; /* the messages it lists are the routes' */
        int claim_down; /* claims failed and that was logged; logged again when they work */
        /* resolves sent while Redis could not be asked: their claims are
         * written first thing once it can, so the key's next opening is not
         * taken for the old one still firing */
        struct claim_debt {
                char key[CLAIM_KEY_MAX];
                uint64_t seq;
                uint64_t sent_mono_ms;
        } debts[CLAIM_DEBTS_MAX];
        size_t ndebts;
};

static void delivery_free(struct delivery *d)
{
        if (d == NULL)
                return;
        alert_release(&d->alert);
        free(d);
}

static void route_push_tail(struct route *r, struct delivery *d)
{
        d->next = NULL;
        if (r->tail != NULL)
                r->tail->next = d;
        else
                r->head = d;
        r->tail = d;
        r->waiting++;
}

static void route_push_head(struct route *r, struct delivery *d)
{
        d->next = r->head;
        r->head = d;
        if (r->tail == NULL)
                r->tail = d;
        r->waiting++;
}

static struct delivery *route_pop(struct route *r)
{
        struct delivery *d = r->head;

        if (d == NULL)
                return NULL;
        r->head = d->next;
        if (r->head == NULL)
                r->tail = NULL;
        r->waiting--;
        d->next = NULL;
        return d;
}

/* Spooled deliveries of `r`, in flight included. */
static size_t route_spooled(const struct route *r)
{
        const struct delivery *d;
        size_t n = r->current != NULL && r->current->spooled;

        for (d = r->head; d != NULL; d = d->next)
                n += d->spooled != 0;
        return n;
}

static uint64_t route_min_interval(const struct route *r)
{
        return r->cfg->min_interval_ms;
}

static unsigned route_max_attempts(const struct route *r)
{
        return r->cfg->max_attempts > 0 ? r->cfg->max_attempts : 1;
}

static uint64_t spool_retry_ms(const struct alert_sender *s)
{
        uint64_t sec = s->cfg->spool_retry_s > 0 ? s->cfg->spool_retry_s : 60;

        return sec * 1000;
}

/* ================================================================ changes and counters */

/* Copies `r`'s state into its published stats at once, under the lock. */
static void route_publish(struct alert_sender *s, struct route *r)
{
        size_t spooled = route_spooled(r);
        size_t spooled_waiting = spooled - (r->current != NULL && r->current->spooled);

        (void)pthread_mutex_lock(&s->lock);
        r->stats.spooled = spooled;
        r->stats.in_flight = r->current != NULL;
        r->stats.queued = r->waiting - spooled_waiting;
        r->stats.delivered = r->delivered;
        r->stats.failed = r->failed;
        r->stats.retried = r->retried;
        r->stats.failing = r->failing;
        memcpy(r->stats.last_problem, r->last_problem, sizeof r->stats.last_problem);
        (void)pthread_mutex_unlock(&s->lock);
}

/* Counts one outcome of `r` and keeps `problem` as its last (NULL keeps the old one). */
static void route_count(struct route *r, uint64_t *counter, const char *problem)
{
        (*counter)++;
        if (problem != NULL && problem[0] != '\0')
                (void)snprintf(r->last_problem, sizeof r->last_problem, "%s", problem);
}

/*
 * Records that `r` now fails (1) or works again (0), when that is a
 * change. When CHANGES_MAX changes wait untaken the oldest is dropped.
 */
static void route_set_failing(struct alert_sender *s, struct route *r, int failing,
                              const char *problem)
{
        struct alert_route_change *c;

        if (r->failing == failing)
                return;
        r->failing = failing;
        (void)pthread_mutex_lock(&s->lock);
        if (s->nchanges == CHANGES_MAX) {
                memmove(&s->changes[0], &s->changes[1], (CHANGES_MAX - 1) * sizeof s->changes[0]);
                s->nchanges--;
        }
        c = &s->changes[s->nchanges++];
        memset(c, 0, sizeof *c);
        (void)snprintf(c->route, sizeof c->route, "%s", r->cfg->name);
        c->failing = failing;
        (void)snprintf(c->problem, sizeof c->problem, "%s", problem != NULL ? problem : "");
        (void)pthread_mutex_unlock(&s->lock);
}

/* ================================================================ logging */

/* A log line about delivery `d` of route `r`. */
static cJSON *log_delivery(enum jsonlog_level level, const char *event, const struct route *r,
                           const struct delivery *d)
{
        const struct alert *a = &d->alert;
        cJSON *line = jsonlog_begin(level, event,
                                    a->correlation_id[0] != '\0' ? a->correlation_id : NULL);

        cJSON_AddStringToObject(line, "route", r->cfg->name);
        cJSON_AddStringToObject(line, "name", a->name);
        cJSON_AddStringToObject(line, "dedup_key", a->dedup_key);
        cJSON_AddStringToObject(line, "state", alert_state_name(a->state));
        if (a->purpose == ALERT_TEST)
                cJSON_AddBoolToObject(line, "test", 1);
        cJSON_AddNumberToObject(line, "attempt", d->attempts);
        return line;
}

static void log_outcome(enum jsonlog_level level, const char *event, const struct route *r,
                        const struct delivery *d, const struct alert_attempt_result *res)
{
        cJSON *line = log_delivery(level, event, r, d);

        cJSON_AddNumberToObject(line, "status", (double)res->status);
        cJSON_AddNumberToObject(line, "ms", (double)res->ms);
        if (res->outcome != RECEIVER_DELIVERED)
                cJSON_AddStringToObject(line, "problem", res->why);
        if (res->outcome == RECEIVER_REJECTED) {
                cJSON_AddStringToObject(line, "answer", res->answer);
                cJSON_AddStringToObject(line, "message",
                                        "not retried and not spooled: a message the receiver "
                                        "rejects does not become valid by retrying");
        }
        jsonlog_emit(line);
}

/* ================================================================ the spool's hooks */

/* Hands delivery `d` of `r` to the spool being written, when it belongs there. */
static void spool_put_delivery(const struct route *r, const struct delivery *d,
                               alert_spool_put_fn *put, void *sink)
{
        struct alert_spool_msg m;

        if (!d->spooled)
                return;
        m.route = r->cfg->name;
        m.alert = &d->alert;
        m.attempts = d->attempts;
        m.problem = d->problem;
        put(sink, &m);
}

/* alert_spool_hooks.list: each route's spooled deliveries, in flight first, in order. */
static void spool_list(void *ctx, alert_spool_put_fn *put, void *sink)
{
        const struct alert_sender *s = ctx;
        const struct delivery *d;
        size_t i;

        for (i = 0; i < s->nroutes; i++) {
                const struct route *r = &s->routes[i];

                if (r->current != NULL)
                        spool_put_delivery(r, r->current, put, sink);
                for (d = r->head; d != NULL; d = d->next)
                        spool_put_delivery(r, d, put, sink);
        }
}

static struct route *route_by_name(struct alert_sender *s, const char *name)
{
        size_t i;

        for (i = 0; i < s->nroutes; i++) {
                if (strcmp(s->routes[i].cfg->name, name) == 0)
                        return &s->routes[i];
        }
        return NULL;
}

/* alert_spool_hooks.take: a loaded message goes behind its route's, spooled. */
static int spool_take(void *ctx, const char *route, struct alert *alert, unsigned attempts,
                      const char *problem)
{
        struct alert_sender *s = ctx;
        struct route *r = route_by_name(s, route);
        struct delivery *d;

        if (r == NULL)
                return ALERT_SPOOL_NO_ROUTE;
        if ((d = calloc(1, sizeof *d)) == NULL)
                return RW_ERR_NOMEM;
        d->alert = *alert; /* moved: the spool forgets it */
        d->attempts = attempts;
        (void)snprintf(d->problem, sizeof d->problem, "%s", problem);
        d->spooled = 1;
        route_push_tail(r, d);
        r->failing = 1; /* works again when its spool empties (alert_sender.h) */
        return RW_OK;
}

/* Loads the spool into the routes; a start retries it at once. */
static int load_spool(struct alert_sender *s, struct rwerr *err)
{
        size_t i;
        int rc;

        if ((rc = alert_spool_load(&s->spool, err)) != RW_OK)
                return rc;
        for (i = 0; i < s->nroutes; i++) {
                s->routes[i].not_before_ms = 0; /* a start retries the spool at once */
                route_publish(s, &s->routes[i]);
        }
        alert_spool_flush(&s->spool, 1);
        return RW_OK;
}

/* ================================================================ claims */

/*
 * KEYS[1] the claim, ARGV[1] "open", "resolve" or "repair", ARGV[2] the
 * opening number (kept in the value for people reading Redis; replicas
 * number their openings apart, so it decides nothing), ARGV[3] the TTL in
 * ms, ARGV[4] how long ago (ms, on this replica's clock) the alert opened
 * (open, resolve) or its unclaimed resolve was sent (repair). The key's age
 * is the TTL less its PTTL, on Redis's clock, so the two compare.
 *   open     an alert that is firing is not opened again, whichever
 *            replica did it
 *   resolve  one resolved since this replica opened it is not resolved
 *            again; a "resolved" older than that is an earlier incident's
 *            (this opening was sent while Redis could not be asked), and
 *            the resolve goes out: a page must never stay open for it
 *   repair   records a resolve sent while Redis could not be asked, unless
 *            the key was opened again since
 * 1: won (send; repair: recorded), 0: lost (another replica sent it).
 */
static const char claim_script[] =
        "local v = redis.call('GET', KEYS[1])\n"
        "local since = -1\n"
        "if v then\n"
        "  local pttl = redis.call('PTTL', KEYS[1])\n"
        "  if pttl >= 0 then since = tonumber(ARGV[3]) - pttl end\n"
        "end\n"
        "local recent = since >= 0 and since <= tonumber(ARGV[4])\n"
        "if ARGV[1] == 'open' then\n"
        "  if v and string.sub(v, 1, 7) == 'firing:' then return 0 end\n"
        "  redis.call('SET', KEYS[1], 'firing:' .. ARGV[2], 'PX', ARGV[3])\n"
        "  return 1\n"
        "end\n"
        "if ARGV[1] == 'repair' then\n"
        "  if v and string.sub(v, 1, 7) == 'firing:' and recent then return 0 end\n"
        "elseif v and string.sub(v, 1, 9) == 'resolved:' and recent then\n"
        "  return 0\n"
        "end\n"
        "redis.call('SET', KEYS[1], 'resolved:' .. ARGV[2], 'PX', ARGV[3])\n"
        "return 1\n";

enum claim {
        CLAIM_WON,
        CLAIM_LOST,
        CLAIM_UNKNOWN, /* Redis cannot say: send anyway */
};

static int needs_claim(const struct alert *a)
{
        return a->purpose == ALERT_INCIDENT &&
               (a->state == ALERT_RESOLVED || (a->state == ALERT_FIRING && !a->update));
}

static void claim_failed(struct alert_sender *s, const char *problem)
{
        if (s->claim_down)
                return;
        s->claim_down = 1;
        jsonlog_message(JSONLOG_WARN, "alert_claim_unavailable", NULL,
                        "alerts are sent without a claim (a second replica may page too): %s",
                        problem);
}

static void claim_worked(struct alert_sender *s)
{
        if (!s->claim_down)
                return;
        s->claim_down = 0;
        jsonlog_message(JSONLOG_INFO, "alert_claim_available", NULL,
                        "alert claims work again: replicas page once");
}

/* Runs the claim script: MODE for KEY, SEQ, AGE_MS (see claim_script). */
static enum claim claim_eval(struct alert_sender *s, redisContext *ctx, const char *key,
                             const char *mode, uint64_t seq_no, uint64_t age_ms)
{
        char seq[24], ttl[24], age[24];
        struct rwerr err;
        redisReply *reply;
        enum claim out = CLAIM_UNKNOWN;

        (void)snprintf(seq, sizeof seq, "%llu", (unsigned long long)seq_no);
        (void)snprintf(ttl, sizeof ttl, "%llu", CLAIM_TTL_MS);
        (void)snprintf(age, sizeof age, "%llu", (unsigned long long)age_ms);
        reply = redisCommand(ctx, "EVAL %s 1 %s %s %s %s %s", claim_script, key, mode, seq, ttl,
                             age);
        if (reply == NULL) {
                (void)rwerr_set(&err, RW_ERR_IO, "claim: %s", ctx->errstr);
                (void)redisconn_failed(s->redis, RW_ERR_IO, &err);
                claim_failed(s, redisconn_problem(s->redis));
                return CLAIM_UNKNOWN;
        }
        if (reply->type == REDIS_REPLY_INTEGER && (reply->integer == 0 || reply->integer == 1)) {
                out = reply->integer == 1 ? CLAIM_WON : CLAIM_LOST;
                claim_worked(s);
        } else {
                (void)rwerr_set(&err, RW_ERR_PROTOCOL, "claim: Redis answered %s%s%.200s",
                                redisconn_reply_type_name(reply->type),
                                reply->type == REDIS_REPLY_ERROR ? ": " : "",
                                reply->type == REDIS_REPLY_ERROR ? reply->str : "");
                (void)redisconn_failed(s->redis, RW_ERR_PROTOCOL, &err);
                claim_failed(s, redisconn_problem(s->redis));
        }
        freeReplyObject(reply);
        return out;
}

static int claim_key(const struct alert_sender *s, const struct alert *a, char key[CLAIM_KEY_MAX])
{
        return snprintf(key, CLAIM_KEY_MAX, "%s%s", s->claim_prefix, a->dedup_key) < CLAIM_KEY_MAX;
}

/* A resolve of `a` went out without a claim: recorded once Redis answers. */
static void claim_owed(struct alert_sender *s, const struct alert *a)
{
        struct claim_debt *d;

        if (s->ndebts == CLAIM_DEBTS_MAX) {
                jsonlog_message(JSONLOG_WARN, "alert_claim_debt_dropped", NULL,
                                "%d resolves were sent without a claim while Redis was away; the "
                                "oldest is forgotten: if its alert opens again, a second replica "
                                "may not page it",
                                CLAIM_DEBTS_MAX);
                memmove(&s->debts[0], &s->debts[1], (CLAIM_DEBTS_MAX - 1) * sizeof s->debts[0]);
                s->ndebts--;
        }
        d = &s->debts[s->ndebts];
        if (!claim_key(s, a, d->key))
                return;
        d->seq = a->seq;
        d->sent_mono_ms = rwclock_mono_ms();
        s->ndebts++;
}

/* Records the owed resolves, oldest first, while Redis answers. */
static void settle_debts(struct alert_sender *s, redisContext *ctx)
{
        size_t done = 0;

        while (done < s->ndebts) {
                const struct claim_debt *d = &s->debts[done];

                if (claim_eval(s, ctx, d->key, "repair", d->seq,
                               rwclock_mono_ms() - d->sent_mono_ms) == CLAIM_UNKNOWN)
                        break;
                done++;
        }
        memmove(&s->debts[0], &s->debts[done], (s->ndebts - done) * sizeof s->debts[0]);
        s->ndebts -= done;
}

/* Claims an opening or a resolve between replicas (bounded by redis_timeout_ms). */
static enum claim claim(struct alert_sender *s, const struct alert *a)
{
        char key[CLAIM_KEY_MAX];
        int64_t age = rwclock_wall_ms() - a->opened_ms;
        redisContext *ctx;

        if (!claim_key(s, a, key)) {
                claim_failed(s, "the claim key is too long");
                return CLAIM_UNKNOWN;
        }
        if ((ctx = redisconn_get(s->redis)) == NULL) {
                claim_failed(s, redisconn_problem(s->redis));
                return CLAIM_UNKNOWN;
        }
        settle_debts(s, ctx);
        if (s->ndebts > 0 || (ctx = redisconn_get(s->redis)) == NULL)
                return CLAIM_UNKNOWN; /* Redis went away again */
        /* a wall clock stepped back makes the age 0: a resolve then goes out, twice at worst */
        return claim_eval(s, ctx, key, a->state == ALERT_RESOLVED ? "resolve" : "open", a->seq,
                          age > 0 ? (uint64_t)age : 0);
}

/* ================================================================ intake and routing */

static int route_is_paging(const struct config_alert_route *r)
{
        return r->type == RECEIVER_PAGERDUTY || r->type == RECEIVER_ALERTMANAGER;
}

/* 1 when the event `in` goes through route `r` (alert_sender.h, "Routing"). */
static int route_wants(const struct config_alert_route *r, const struct intake *in)
{
        const struct alert *a = &in->alert;
        unsigned bit = 1u << (unsigned)a->severity;

        if (in->route[0] != '\0')
                return strcmp(r->name, in->route) == 0;
        if (a->purpose == ALERT_REPORT)
                return (r->severities & (1u << FINDING_INFO)) != 0 && !route_is_paging(r);
        if (a->purpose == ALERT_INCIDENT && a->severity == FINDING_INFO)
                return 0; /* the daily report's business */
        return (r->severities & bit) != 0;
}

/* Puts a new delivery at the end of its route; behind a spooled one it is spooled too. */
static void route_enqueue(struct alert_sender *s, struct route *r, struct delivery *d)
{
        if (r->waiting >= ROUTE_BACKLOG_MAX) {
                cJSON *line = log_delivery(JSONLOG_ERROR, "alert_dropped", r, d);

                cJSON_AddStringToObject(line, "message",
                                        "the route has too many undelivered messages");
                jsonlog_emit(line);
                route_count(r, &r->failed, "too many undelivered messages");
                delivery_free(d);
                route_publish(s, r);
                return;
        }
        if (route_spooled(r) > 0) {
                d->spooled = 1; /* the route fails: what waits behind the spool is kept on disk */
                alert_spool_mark(&s->spool);
        }
        route_push_tail(r, d);
        alert_spool_flush(&s->spool, 0);
        route_publish(s, r);
}

/* Fans one event out to its routes, after its claim when it needs one. */
static void route_event(struct alert_sender *s, const struct intake *in)
{
        size_t i, n = 0;
        enum claim c = CLAIM_WON;

        for (i = 0; i < s->nroutes; i++)
                n += route_wants(s->routes[i].cfg, in);
        if (n == 0)
                return;
        if (needs_claim(&in->alert) && (c = claim(s, &in->alert)) == CLAIM_LOST) {
                cJSON *line = jsonlog_begin(
                        JSONLOG_INFO, "alert_claimed_elsewhere",
                        in->alert.correlation_id[0] != '\0' ? in->alert.correlation_id : NULL);

                cJSON_AddStringToObject(line, "name", in->alert.name);
                cJSON_AddStringToObject(line, "dedup_key", in->alert.dedup_key);
                cJSON_AddStringToObject(line, "state", alert_state_name(in->alert.state));
                cJSON_AddNumberToObject(line, "seq", (double)in->alert.seq);
                jsonlog_emit(line);
                return;
        }
        if (c == CLAIM_UNKNOWN && in->alert.state == ALERT_RESOLVED)
                claim_owed(s, &in->alert);
        for (i = 0; i < s->nroutes; i++) {
                struct route *r = &s->routes[i];
                struct delivery *d;

                if (!route_wants(r->cfg, in))
                        continue;
                if ((d = calloc(1, sizeof *d)) == NULL || alert_copy(&d->alert, &in->alert) != 0) {
                        free(d);
                        jsonlog_message(JSONLOG_ERROR, "alert_dropped", NULL,
                                        "out of memory: %s not queued for route %s",
                                        in->alert.dedup_key, r->cfg->name);
                        continue;
                }
                route_enqueue(s, r, d);
        }
}

/* Takes everything submitted so far and routes it, in order. */
static void take_intake(struct alert_sender *s)
{
        struct intake *in, *next;

        (void)pthread_mutex_lock(&s->lock);
        in = s->in_head;
        s->in_head = s->in_tail = NULL;
        s->in_n = 0;
        (void)pthread_mutex_unlock(&s->lock);
        for (; in != NULL; in = next) {
                next = in->next;
                route_event(s, in);
                alert_release(&in->alert);
                free(in);
        }
}

/* ================================================================ outcomes */

/* The backoff before attempt `attempts` + 1: 1 s doubling to 5 min, +-20 % jitter, scaled. */
static uint64_t backoff_ms(const struct alert_sender *s, unsigned attempts)
{
        uint64_t ms = BACKOFF_FIRST_MS;
        unsigned i;

        for (i = 1; i < attempts && ms < BACKOFF_MAX_MS; i++)
                ms *= 2;
        if (ms > BACKOFF_MAX_MS)
                ms = BACKOFF_MAX_MS;
        ms = ms * (80 + randombytes_uniform(41)) / 100;
        return (uint64_t)((double)ms * s->backoff_scale);
}

static void schedule(struct route *r, uint64_t at_ms)
{
        if (at_ms > r->not_before_ms)
                r->not_before_ms = at_ms;
}

/* What became of one alert on one route, in the audit log: sent, rejected or spooled. */
static void audit_delivery(struct alert_sender *s, const char *outcome, const struct route *r,
                           const struct delivery *d, const struct alert_attempt_result *res)
{
        const struct alert *a = &d->alert;
        cJSON *c;

        if (s->audit == NULL || (c = cJSON_CreateObject()) == NULL)
                return;
        cJSON_AddStringToObject(c, "outcome", outcome);
        cJSON_AddStringToObject(c, "route", r->cfg->name);
        cJSON_AddStringToObject(c, "name", a->name);
        cJSON_AddStringToObject(c, "dedup_key", a->dedup_key);
        cJSON_AddStringToObject(c, "state", alert_state_name(a->state));
        cJSON_AddNumberToObject(c, "attempt", d->attempts);
        cJSON_AddNumberToObject(c, "status", (double)res->status);
        if (res->outcome != RECEIVER_DELIVERED)
                cJSON_AddStringToObject(c, "problem", res->why);
        if (a->audit_size > 0) {
                cJSON_AddNumberToObject(c, "audit_size", (double)a->audit_size);
                cJSON_AddStringToObject(c, "audit_root", a->audit_root);
        }
        audit_sink_record(s->audit, "alert_delivery", a->correlation_id, c, 0);
        cJSON_Delete(c);
}

static void on_delivered(struct alert_sender *s, struct route *r, struct delivery *d,
                         const struct alert_attempt_result *res)
{
        log_outcome(JSONLOG_INFO, "alert_delivered", r, d, res);
        audit_delivery(s, d->alert.state == ALERT_RESOLVED ? "resolve_sent" : "sent", r, d, res);
        if (d->spooled)
                alert_spool_mark(&s->spool);
        route_count(r, &r->delivered, NULL);
        delivery_free(d);
        if (r->failing && route_spooled(r) == 0)
                route_set_failing(s, r, 0, "");
}

static void on_rejected(struct alert_sender *s, struct route *r, struct delivery *d,
                        const struct alert_attempt_result *res)
{
        log_outcome(JSONLOG_ERROR, "alert_rejected", r, d, res);
        audit_delivery(s, "rejected", r, d, res);
        if (d->spooled)
                alert_spool_mark(&s->spool);
        route_count(r, &r->failed, res->why);
        delivery_free(d);
        route_set_failing(s, r, 1, res->why);
}

/* `d` failed for the last time before the spool: it and all behind it go there. */
static void to_spool(struct alert_sender *s, struct route *r, struct delivery *d,
                     const struct alert_attempt_result *res, uint64_t now)
{
        struct delivery *w;
        cJSON *line = log_delivery(JSONLOG_ERROR, "alert_spooled", r, d);

        cJSON_AddStringToObject(line, "problem", res->why);
        cJSON_AddNumberToObject(line, "retry_in_ms", (double)spool_retry_ms(s));
        jsonlog_emit(line);
        audit_delivery(s, "failed_spooled", r, d, res);
        d->spooled = 1;
        for (w = r->head; w != NULL; w = w->next)
                w->spooled = 1;
        route_push_head(r, d);
        alert_spool_mark(&s->spool);
        schedule(r, now + spool_retry_ms(s));
        route_count(r, &r->failed, res->why);
        route_set_failing(s, r, 1, res->why);
}

static void on_retry(struct alert_sender *s, struct route *r, struct delivery *d,
                     const struct alert_attempt_result *res, uint64_t now)
{
        uint64_t wait;
        cJSON *line;

        (void)snprintf(d->problem, sizeof d->problem, "%s", res->why);
        if (!d->spooled && d->attempts >= route_max_attempts(r)) {
                to_spool(s, r, d, res, now);
                return;
        }
        if (d->spooled) {
                wait = spool_retry_ms(s);
                alert_spool_mark(&s->spool); /* its attempts changed */
        } else {
                wait = backoff_ms(s, d->attempts);
        }
        if (res->retry_after_ms >= 0)
                wait = (uint64_t)(res->retry_after_ms < RETRY_AFTER_MAX_MS ? res->retry_after_ms
                                                                           : RETRY_AFTER_MAX_MS);
        if (d->spooled && wait < spool_retry_ms(s))
                wait = spool_retry_ms(s);
        line = log_delivery(JSONLOG_WARN, "alert_retry", r, d);
        cJSON_AddNumberToObject(line, "status", (double)res->status);
        cJSON_AddStringToObject(line, "problem", res->why);
        cJSON_AddNumberToObject(line, "retry_in_ms", (double)wait);
        jsonlog_emit(line);
        route_push_head(r, d);
        schedule(r, now + wait);
        route_count(r, &r->retried, res->why);
}

/* Settles delivery `d` of `r` after an attempt. */
static void settle(struct alert_sender *s, struct route *r, struct delivery *d,
                   const struct alert_attempt_result *res)
{
        uint64_t now = rwclock_mono_ms();

        switch (res->outcome) {
        case RECEIVER_DELIVERED:
                on_delivered(s, r, d, res);
                break;
        case RECEIVER_REJECTED:
                on_rejected(s, r, d, res);
                break;
        case RECEIVER_RETRY:
        default:
                on_retry(s, r, d, res, now);
                break;
        }
        alert_spool_flush(&s->spool, 0); /* on disk before the counters say "spooled" */
        route_publish(s, r);
}

/* A result that never reached a receiver (the request could not be made). */
static void local_result(struct alert_attempt_result *res, int rc, const char *why)
{
        memset(res, 0, sizeof *res);
        /* a message that cannot be built never will be; out of memory may pass */
        res->outcome = rc == RW_ERR_NOMEM ? RECEIVER_RETRY : RECEIVER_REJECTED;
        res->transport_rc = rc;
        res->retry_after_ms = -1;
        (void)snprintf(res->why, sizeof res->why, "%s", why);
}

/* Starts the next attempt of `r` when one is due. */
static void route_start(struct alert_sender *s, struct route *r, uint64_t now)
{
        struct delivery *d;
        struct alert_attempt_result res;
        struct rwerr err;
        CURLMcode mc;
        int rc;

        if (r->current != NULL || r->head == NULL || now < r->not_before_ms)
                return;
        d = route_pop(r);
        d->attempts++;
        r->not_before_ms = now + route_min_interval(r);
        if ((rc = alert_attempt_open(&r->att, s->cfg, r->cfg, &d->alert, &err)) != RW_OK) {
                local_result(&res, rc, err.msg);
                settle(s, r, d, &res);
                return;
        }
        curl_easy_setopt(r->att.curl, CURLOPT_PRIVATE, (void *)r);
        if ((mc = curl_multi_add_handle(s->multi, r->att.curl)) != CURLM_OK) {
                alert_attempt_close(&r->att);
                (void)rwerr_set(&err, RW_ERR_IO, "route %s: libcurl: %s", r->cfg->name,
                                curl_multi_strerror(mc));
                local_result(&res, RW_ERR_NOMEM, err.msg); /* retried */
                settle(s, r, d, &res);
                return;
        }
        r->current = d;
        route_publish(s, r);
}

/* The attempt of `r` ended with `cc`. */
static void route_finished(struct alert_sender *s, struct route *r, CURLcode cc)
{
        struct delivery *d = r->current;
        struct alert_attempt_result res;

        (void)curl_multi_remove_handle(s->multi, r->att.curl);
        alert_attempt_result(&r->att, r->cfg, cc, &res);
        alert_attempt_close(&r->att);
        r->current = NULL;
        settle(s, r, d, &res);
}

/* Drives the transfers and settles the ones that ended. */
static void pump(struct alert_sender *s)
{
        CURLMsg *msg;
        CURLMcode mc;
        int running = 0, queued;

        if ((mc = curl_multi_perform(s->multi, &running)) != CURLM_OK)
                jsonlog_message(JSONLOG_ERROR, "alert_curl_failed", NULL, "libcurl: %s",
                                curl_multi_strerror(mc));
        while ((msg = curl_multi_info_read(s->multi, &queued)) != NULL) {
                char *priv = NULL;
                CURLcode cc = msg->data.result;

                if (msg->msg != CURLMSG_DONE)
                        continue;
                (void)curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
                if (priv != NULL)
                        route_finished(s, (struct route *)(void *)priv, cc); /* msg invalid now */
        }
}

static size_t in_flight(const struct alert_sender *s)
{
        size_t i, n = 0;

        for (i = 0; i < s->nroutes; i++)
                n += s->routes[i].current != NULL;
        return n;
}

/* `wait` shortened to what is left until `at_ms`. */
static uint64_t wait_until(uint64_t wait, uint64_t now, uint64_t at_ms)
{
        if (at_ms <= now)
                return 0;
        return at_ms - now < wait ? at_ms - now : wait;
}

/* How long the thread may sleep: until the next route is due, at most IDLE_WAIT_MS. */
static int wait_budget(const struct alert_sender *s, uint64_t now)
{
        uint64_t wait = IDLE_WAIT_MS, at_ms;
        size_t i;

        for (i = 0; i < s->nroutes; i++) {
                const struct route *r = &s->routes[i];

                if (r->current == NULL && r->head != NULL)
                        wait = wait_until(wait, now, r->not_before_ms);
        }
        if (alert_spool_pending(&s->spool, &at_ms))
                wait = wait_until(wait, now, at_ms);
        return (int)wait;
}

/* ================================================================ the thread */

static int stop_requested(struct alert_sender *s, uint64_t *grace_ms)
{
        int stop;

        (void)pthread_mutex_lock(&s->lock);
        stop = s->stopping;
        if (grace_ms != NULL)
                *grace_ms = s->grace_ms;
        (void)pthread_mutex_unlock(&s->lock);
        return stop;
}

/* Gives what is in flight until `grace_ms` to end; what does not is cut short. */
static void drain(struct alert_sender *s, uint64_t grace_ms)
{
        uint64_t deadline = rwclock_mono_ms() + grace_ms, now;
        size_t i;

        pump(s);
        while (in_flight(s) > 0 && (now = rwclock_mono_ms()) < deadline) {
                uint64_t left = deadline - now;

                (void)curl_multi_poll(s->multi, NULL, 0, left < 100 ? (int)left : 100, NULL);
                pump(s);
        }
        for (i = 0; i < s->nroutes; i++) {
                struct route *r = &s->routes[i];
                struct delivery *d = r->current;

                if (d == NULL)
                        continue;
                (void)curl_multi_remove_handle(s->multi, r->att.curl);
                alert_attempt_close(&r->att);
                r->current = NULL;
                (void)snprintf(d->problem, sizeof d->problem,
                               "route %s: the attempt was cut short by a shutdown", r->cfg->name);
                route_push_head(r, d);
        }
}

/* Everything still waiting (the intake too) goes to the spool, so a restart sends it. */
static void finish(struct alert_sender *s)
{
        size_t i, n = 0;
        struct delivery *d;

        take_intake(s);
        for (i = 0; i < s->nroutes; i++) {
                for (d = s->routes[i].head; d != NULL; d = d->next) {
                        if (!d->spooled)
                                alert_spool_mark(&s->spool);
                        d->spooled = 1;
                        n++;
                }
                route_publish(s, &s->routes[i]);
        }
        alert_spool_flush(&s->spool, 1);
        if (n > 0)
                jsonlog_message(JSONLOG_INFO, "alert_spool_saved", NULL,
                                "%zu undelivered alert message%s kept in the spool for the "
                                "next start",
                                n, n == 1 ? "" : "s");
}

static void *sender_main(void *arg)
{
        struct alert_sender *s = arg;
        uint64_t grace_ms = 0, now;
        size_t i;

        (void)pthread_setname_np(pthread_self(), "rw-alert"); /* top -H, gdb, the tests */
        while (!stop_requested(s, NULL)) {
                take_intake(s);
                pump(s);
                now = rwclock_mono_ms();
                for (i = 0; i < s->nroutes; i++)
                        route_start(s, &s->routes[i], now);
                pump(s);
                alert_spool_flush(&s->spool, 0);
                (void)curl_multi_poll(s->multi, NULL, 0, wait_budget(s, rwclock_mono_ms()), NULL);
        }
        (void)stop_requested(s, &grace_ms);
        drain(s, grace_ms);
        finish(s);
        return NULL;
}

/* ================================================================ the public side */

static double backoff_scale(void)
{
        const char *v = getenv(BACKOFF_SCALE_ENV);
        char *end = NULL;
        double x;

        if (v == NULL || v[0] == '\0')
                return 1.0;
        x = strtod(v, &end);
        if (end == v || *end != '\0' || !(x > 0.0) || x > 1.0) {
                jsonlog_message(JSONLOG_WARN, "alert_backoff_scale_ignored", NULL,
                                "%s is not a number in (0, 1]: the backoff is not scaled",
                                BACKOFF_SCALE_ENV);
                return 1.0;
        }
        return x;
}

static void set_claim_prefix(struct alert_sender *s)
{
        const char *p = s->cfg->claim_prefix != NULL ? s->cfg->claim_prefix : CLAIM_DEFAULT_PREFIX;

        (void)snprintf(s->claim_prefix, sizeof s->claim_prefix, "%s", p);
}

static void free_routes(struct alert_sender *s)
{
        struct delivery *d;
        size_t i;

        for (i = 0; i < s->nroutes; i++) {
                struct route *r = &s->routes[i];

                while ((d = route_pop(r)) != NULL)
                        delivery_free(d);
                if (r->current != NULL) {
                        alert_attempt_close(&r->att);
                        delivery_free(r->current);
                }
        }
        free(s->routes);
}

static void free_sender(struct alert_sender *s)
{
        struct intake *in, *next;

        free_routes(s);
        for (in = s->in_head; in != NULL; in = next) {
                next = in->next;
                alert_release(&in->alert);
                free(in);
        }
        alert_spool_release(&s->spool);
        if (s->multi != NULL)
                curl_multi_cleanup(s->multi);
        redisconn_free(s->redis);
        (void)pthread_mutex_destroy(&s->lock);
        free(s);
}

/* The parts of a sender: routes, curl multi, Redis link. */
static int sender_parts(struct alert_sender *s, struct rwerr *err)
{
        struct redisconn_options ro;
        size_t i;

        if (alert_attempt_ready(err) != RW_OK)
                return RW_ERR_IO;
        if (s->cfg->nroutes > 0 && (s->routes = calloc(s->cfg->nroutes, sizeof *s->routes)) == NULL)
                return rwerr_set(err, RW_ERR_NOMEM, "out of memory for the alert routes");
        s->nroutes = s->cfg->nroutes;
        for (i = 0; i < s->nroutes; i++)
                s->routes[i].cfg = &s->cfg->routes[i];
        if ((s->multi = curl_multi_init()) == NULL)
                return rwerr_set(err, RW_ERR_NOMEM, "out of memory for the alert transfers");
        memset(&ro, 0, sizeof ro);
        ro.url = s->cfg->redis_url;
        ro.timeout_ms = s->cfg->redis_timeout_ms;
        if ((s->redis = redisconn_new(&ro, err)) == NULL)
                return RW_ERR_NOMEM;
        return RW_OK;
}

struct alert_sender *alert_sender_new(const struct config *cfg, struct rwerr *err)
{
        struct alert_spool_hooks hooks = {.list = spool_list, .take = spool_take};
        struct alert_sender *s;

        if (cfg->state_dir == NULL) {
                rwerr_set(err, RW_ERR_INVALID, "alert sender: no state_dir for the spool");
                return NULL;
        }
        if (sodium_init() < 0) {
                rwerr_set(err, RW_ERR_IO, "alert sender: libsodium initialisation failed");
                return NULL;
        }
        if ((s = calloc(1, sizeof *s)) == NULL) {
                rwerr_set(err, RW_ERR_NOMEM, "out of memory for the alert sender");
                return NULL;
        }
        if (pthread_mutex_init(&s->lock, NULL) != 0) {
                free(s);
                rwerr_set(err, RW_ERR_NOMEM, "alert sender: cannot make a mutex");
                return NULL;
        }
        s->cfg = cfg;
        s->backoff_scale = backoff_scale();
        set_claim_prefix(s);
        hooks.ctx = s;
        alert_spool_init(&s->spool, cfg->state_dir, &hooks);
        if (sender_parts(s, err) != RW_OK || load_spool(s, err) != RW_OK) {
                free_sender(s);
                return NULL;
        }
        return s;
}

int alert_sender_start(struct alert_sender *s)
{
        int rc;

        if (s->started)
                return RW_OK;
        if ((rc = pthread_create(&s->thread, NULL, sender_main, s)) != 0)
                return rc == EAGAIN ? RW_ERR_IO : RW_ERR_NOMEM;
        s->started = 1;
        return RW_OK;
}

void alert_sender_free(struct alert_sender *s, uint64_t grace_ms)
{
        if (s == NULL)
                return;
        if (s->started) {
                (void)pthread_mutex_lock(&s->lock);
                s->stopping = 1;
                s->grace_ms = grace_ms;
                (void)pthread_mutex_unlock(&s->lock);
                (void)curl_multi_wakeup(s->multi);
                (void)pthread_join(s->thread, NULL);
        } else {
                finish(s); /* never started: what was submitted or loaded is kept */
        }
        free_sender(s);
}

static int config_has_route(const struct config *cfg, const char *name)
{
        size_t i;

        for (i = 0; i < cfg->nroutes; i++) {
                if (strcmp(cfg->routes[i].name, name) == 0)
                        return 1;
        }
        return 0;
}

int alert_sender_submit(struct alert_sender *s, const struct alert *a, const char *route)
{
        struct intake *in;

        if (route != NULL && !config_has_route(s->cfg, route))
                return RW_ERR_INVALID;
        if ((in = calloc(1, sizeof *in)) == NULL)
                return RW_ERR_NOMEM;
        if (alert_copy(&in->alert, a) != RW_OK) {
                free(in);
                return RW_ERR_NOMEM;
        }
        if (route != NULL)
                (void)snprintf(in->route, sizeof in->route, "%s", route);
        (void)pthread_mutex_lock(&s->lock);
        if (s->in_n >= ALERT_QUEUE_MAX) {
                (void)pthread_mutex_unlock(&s->lock);
                alert_release(&in->alert);
                free(in);
                return RW_ERR_RANGE;
        }
        if (s->in_tail != NULL)
                s->in_tail->next = in;
        else
                s->in_head = in;
        s->in_tail = in;
        s->in_n++;
        (void)pthread_mutex_unlock(&s->lock);
        (void)curl_multi_wakeup(s->multi); /* thread-safe by libcurl's contract */
        return RW_OK;
}

size_t alert_sender_take_failures(struct alert_sender *s, struct alert_route_change *out,
                                  size_t cap)
{
        size_t n;

        (void)pthread_mutex_lock(&s->lock);
        n = s->nchanges < cap ? s->nchanges : cap;
        if (n > 0) {
                memcpy(out, s->changes, n * sizeof *out);
                memmove(&s->changes[0], &s->changes[n], (s->nchanges - n) * sizeof s->changes[0]);
                s->nchanges -= n;
        }
        (void)pthread_mutex_unlock(&s->lock);
        return n;
}

static cJSON *route_status(const struct route *r)
{
        const struct route_stats *st = &r->stats;
        cJSON *o = cJSON_CreateObject();

        if (cJSON_AddStringToObject(o, "type", config_receiver_type_name(r->cfg->type)) == NULL ||
            cJSON_AddNumberToObject(o, "queued", (double)st->queued) == NULL ||
            cJSON_AddNumberToObject(o, "in_flight", (double)st->in_flight) == NULL ||
            cJSON_AddNumberToObject(o, "spooled", (double)st->spooled) == NULL ||
            cJSON_AddNumberToObject(o, "delivered", (double)st->delivered) == NULL ||
            cJSON_AddNumberToObject(o, "failed", (double)st->failed) == NULL ||
            cJSON_AddNumberToObject(o, "retried", (double)st->retried) == NULL ||
            cJSON_AddBoolToObject(o, "failing", st->failing) == NULL ||
            cJSON_AddStringToObject(o, "last_problem", st->last_problem) == NULL) {
                cJSON_Delete(o);
                return NULL;
        }
        return o;
}

int alert_sender_status_json(struct alert_sender *s, cJSON *status)
{
        cJSON *all = cJSON_CreateObject(), *o;
        size_t i;
        int rc = 0;

        if (all == NULL)
                return -1;
        (void)pthread_mutex_lock(&s->lock);
        for (i = 0; i < s->nroutes && rc == 0; i++) {
                if ((o = route_status(&s->routes[i])) == NULL ||
                    !cJSON_AddItemToObject(all, s->routes[i].cfg->name, o)) {
                        cJSON_Delete(o);
                        rc = -1;
                }
        }
        (void)pthread_mutex_unlock(&s->lock);
        if (rc != 0 || !cJSON_AddItemToObject(status, "alert_routes", all)) {
                cJSON_Delete(all);
                return -1;
        }
        return 0;
}

int alert_send_once(const struct config *cfg, const struct config_alert_route *route,
                    const struct alert *a, long *status, char *answer, size_t cap,
                    struct rwerr *err)
{
        struct alert_attempt t;
        struct alert_attempt_result res;
        int rc;

        *status = 0;
        if (cap > 0)
                answer[0] = '\0';
        if ((rc = alert_attempt_ready(err)) != RW_OK ||
            (rc = alert_attempt_open(&t, cfg, route, a, err)) != RW_OK)
                return rc;
        alert_attempt_result(&t, route, curl_easy_perform(t.curl), &res);
        alert_attempt_close(&t);
        *status = res.status;
        if (cap > 0)
                (void)snprintf(answer, cap, "%s", res.answer); /* escaped already */
        if (res.outcome == RECEIVER_DELIVERED)
                return RW_OK;
        return rwerr_set(err, res.transport_rc != RW_OK ? res.transport_rc : RW_ERR_REMOTE, "%s",
                         res.why);
}

void alert_sender_set_audit(struct alert_sender *s, const struct audit_sink *sink)
{
        s->audit = sink; /* before alert_sender_start: the thread reads it unlocked */
}
