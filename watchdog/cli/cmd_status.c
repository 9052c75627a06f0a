#include "cmd_status.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "cli_setup.h"
#include "config.h"
#include "control_msg.h"
#include "control_read.h"
#include "control_state.h"
#include "fileio.h"
#include "halt_publish.h"
#include "halt_state.h"
#include "heartbeat.h"
#include "rwclock.h"
#include "silence.h"

#define STATUS_FILE_MAX ((size_t)4 << 20)
#define PROBLEMS_MAX 48
#define PROBLEM_MAX 768
#define REJECTED_SHOWN 5 /* the last rejected entries listed; the others only counted */
#define TO_TEXT_(x) #x
#define TO_TEXT(x) TO_TEXT_(x)
#define EXIT_HALTED 1
#define EXIT_CANNOT_TELL 2

static const char help[] =
        "Says whether the relayer is halted (why, since when, acknowledged by which\n"
        "relayer instance), what the last cycle of `relaywatch run` saw (Tier 1\n"
        "verdicts, anything not ok, endpoint health), the heartbeat, the relayer\n"
        "groups and any problem with the halt path.\n"
        "\n"
        "The control stream is judged as a relayer judges it (docs/PROTOCOL.md): the\n"
        "halt key, then every entry in order. Any valid HALT in force is shown, whoever\n"
        "signed it (a watchdog or an operator key) and whoever wrote it; entries that\n"
        "are rejected (forged, altered, replayed) and a rejected halt key are listed\n"
        "as notices: the supervisor pages each once (CONTROL_STREAM_FORGERY), and\n"
        "they do not change the exit status. Each group of\n"
        "[control] consumer_group is checked: it exists, has exactly one consumer, that\n"
        "consumer is live, and the protocol versions it announced; each HALT in force\n"
        "shows which groups acknowledged it.\n"
        "\n"
        "Also reads STATE_DIR/status.json and STATE_DIR/" HALT_STATE_FILE ", and lists\n"
        "the silences in force (`relaywatch silence`); they never change the exit\n"
        "status.\n"
        "\n"
        "  -c, --config FILE  the configuration (default: $RELAYWATCH_CONFIG, then\n"
        "                     " CONFIG_DEFAULT_PATH ")\n"
        "  --json             one JSON object instead of text (halts_in_force, groups,\n"
        "                     rejected_entries, rejected_total, problems, notices, ...)\n"
        "\n"
        "Exit status: 0 not halted and healthy; 1 halted; 2 cannot tell or not\n"
        "healthy (a state file unreadable, status.json missing or stale, Redis\n"
        "unreachable, no key to verify with, the halt path down: the problems are\n"
        "listed); 64 a usage error.\n";

/* A HALT in force, as the stream and the halt key put it there. */
struct halt_view {
        const struct control_in_force *f; /* borrowed from the view's control_state */
        struct control_msg m;             /* parsed from f->msg (verified bytes) */
        int parsed;
        int acks_known;
        int acked[CONFIG_GROUPS_MAX]; /* per configured group, when acks_known */
};

/* One configured relayer group (one relayer instance). */
struct group_view {
        const char *name;
        int known; /* the consumers could be listed (or the group is missing) */
        int exists;
        size_t consumers, live;
        int versions_known;
        char versions[HALT_PUBLISH_VERSIONS_SIZE]; /* "" when it announced none */
};

/* A rejected stream entry. */
struct rejected_entry {
        char entry_id[CONTROL_ENTRY_ID_SIZE];
        enum control_reject reject;
        char first_seen[CONTROL_ENTRY_ID_SIZE]; /* a replay: the entry it copies */
        char detail[RWERR_MSG_MAX];
};

struct view {
        const struct config *cfg;
        const struct keyring *ring; /* what could be loaded of [control]'s keys */
        int64_t now_ms;
        /* STATE_DIR/status.json */
        char status_path[4096];
        cJSON *status; /* NULL when it could not be used */
        int64_t status_age_ms;
        int status_fresh;
        /* STATE_DIR/halt-state.json */
        char state_path[4096];
        int state_ok;
        struct halt_state state;
        /* Redis */
        struct halt_publish_keys keys;
        int redis_ok;
        /* the control stream, judged (judged 0: no key to verify with, or Redis failed) */
        int judged;
        struct control_state *cs;
        size_t nentries;
        int hk_present;
        struct control_outcome hk; /* the halt key's outcome, when present */
        struct halt_view *halts;   /* the HALTs in force, oldest first */
        size_t nhalts;
        struct rejected_entry rejected[REJECTED_SHOWN]; /* a ring: the last ones */
        size_t rejected_total;
        int no_memory; /* judging ran out of memory: the view is not whole */
        /* relaywatch's bookkeeping of open halts (STREAM:incidents) */
        struct halt_publish_open *open;
        size_t nopen;
        /* the relayer instances' groups */
        struct group_view groups[CONFIG_GROUPS_MAX];
        size_t ngroups;
        /* heartbeat */
        int hb_found, hb_verified;
        int64_t hb_issued_ms, hb_ttl_ms;
        long long hb_pttl_ms;
        const char *hb_role;
        char hb_error[RWERR_MSG_MAX + HALT_PUBLISH_KEY_MAX + 128];
        /* STATE_DIR/silences.json: shown, never weighed in the exit status */
        struct silence_set *silences; /* NULL when it could not be read */
        char silences_error[RWERR_MSG_MAX];
        /* verdict */
        int halted;
        size_t nproblems;
        char problems[PROBLEMS_MAX][PROBLEM_MAX];
        /* what the engineer should know but that does not make relaywatch unhealthy */
        size_t nnotices;
        char notices[PROBLEMS_MAX][PROBLEM_MAX];
};

const struct cli_command cmd_status_command = {
        "status", "relaywatch status [-c FILE] [--json]",
        "halted or running, which HALTs are in force and who acknowledged them, the last cycle's "
        "verdicts, relayer groups, heartbeat; exit 0 running, 1 halted, 2 cannot tell",
        help, cmd_status};

static void problem(struct view *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void problem(struct view *v, const char *fmt, ...)
{
        va_list ap;

        if (v->nproblems >= PROBLEMS_MAX)
                return;
        va_start(ap, fmt);
        (void)vsnprintf(v->problems[v->nproblems], PROBLEM_MAX, fmt, ap);
        va_end(ap);
        v->nproblems++;
}

static void notice(struct view *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Like problem, but not weighed in the exit status: rejected entries stay on
 * the stream for good (each was paged once as CONTROL_STREAM_FORGERY by the
 * supervisor), and a status that stayed "cannot tell" for ever would hide
 * every later problem.
 */
static void notice(struct view *v, const char *fmt, ...)
{
        va_list ap;

        if (v->nnotices >= PROBLEMS_MAX)
                return;
        va_start(ap, fmt);
        (void)vsnprintf(v->notices[v->nnotices], PROBLEM_MAX, fmt, ap);
        va_end(ap);
        v->nnotices++;
}

/* keyring_load's skip: a key file that cannot be read is a problem, not the end. */
static void key_problem(void *arg, const struct rwerr *err)
{
        problem(arg, "%s", err->msg);
}

/*
 * How old status.json is. `relaywatch run` on this host writes the
 * monotonic time too, which a step of the wall clock cannot move; the wall
 * clock is the fallback (a file from an older version, or another host).
 */
static int64_t status_age_ms(const struct view *v, const cJSON *updated_at_ms)
{
        const cJSON *mono = cJSON_GetObjectItemCaseSensitive(v->status, "updated_mono_ms");
        uint64_t now = rwclock_mono_ms();

        if (cJSON_IsNumber(mono) && mono->valuedouble >= 0 && (double)now >= mono->valuedouble)
                return (int64_t)(now - (uint64_t)mono->valuedouble);
        return v->now_ms - (int64_t)updated_at_ms->valuedouble;
}

static void read_status_file(struct view *v)
{
        const struct config *c = v->cfg;
        uint64_t interval = c->interval_ms > 1000 ? c->interval_ms : 1000;
        int64_t limit = (int64_t)(3 * interval + 10000);
        const cJSON *ver, *upd, *cyc, *path, *audit;
        char *text = NULL;
        size_t len = 0;
        struct rwerr err;
        int rc;

        (void)snprintf(v->status_path, sizeof v->status_path, "%s/%s", c->state_dir,
                       CMD_STATUS_FILE);
        rc = fileio_read(v->status_path, STATUS_FILE_MAX, &text, &len, &err);
        if (rc == RW_ERR_IO && errno == ENOENT) {
                problem(v,
                        "%s does not exist: `relaywatch run` has not written it (is it running "
                        "with state_dir %s?)",
                        v->status_path, c->state_dir);
                return;
        }
        if (rc != RW_OK) {
                problem(v, "%s cannot be read: %s", v->status_path, err.msg);
                return;
        }
        v->status = cJSON_ParseWithLength(text, len);
        free(text);
        ver = cJSON_GetObjectItemCaseSensitive(v->status, "v");
        upd = cJSON_GetObjectItemCaseSensitive(v->status, "updated_at_ms");
        if (!cJSON_IsObject(v->status) || !cJSON_IsNumber(ver) || ver->valuedouble != 1 ||
            !cJSON_IsNumber(upd)) {
                problem(v, "%s is not a v1 status object with updated_at_ms (damaged?)",
                        v->status_path);
                cJSON_Delete(v->status);
                v->status = NULL;
                return;
        }
        v->status_age_ms = status_age_ms(v, upd);
        v->status_fresh = v->status_age_ms <= limit;
        if (!v->status_fresh)
                problem(v,
                        "%s is %" PRId64 " s old, more than the %" PRId64
                        " s allowed: `relaywatch run` is not running, or stuck",
                        v->status_path, v->status_age_ms / 1000, limit / 1000);
        cyc = cJSON_GetObjectItemCaseSensitive(v->status, "cycle");
        if (cJSON_IsObject(cyc)) {
                const cJSON *t1 = cJSON_GetObjectItemCaseSensitive(cyc, "tier1");

                if (cJSON_IsString(t1) && strcmp(t1->valuestring, "ok") != 0)
                        problem(v, "the last cycle's Tier 1 result is %s", t1->valuestring);
        } else {
                problem(v, "%s records no cycle yet: `relaywatch run` has not finished its first",
                        v->status_path);
        }
        audit = cJSON_GetObjectItemCaseSensitive(v->status, "audit");
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(audit, "down"))) {
                const cJSON *dir = cJSON_GetObjectItemCaseSensitive(audit, "dir");

                problem(v,
                        "the audit log (%s) cannot be written: AUDIT_LOG_DOWN; halts go on "
                        "without it",
                        cJSON_IsString(dir) ? dir->valuestring : "?");
        }
        path = cJSON_GetObjectItemCaseSensitive(v->status, "halt_path");
        if (cJSON_IsObject(path) && !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(path, "ok"))) {
                const cJSON *p, *list = cJSON_GetObjectItemCaseSensitive(path, "problems");
                int any = 0;

                cJSON_ArrayForEach(p, list)
                {
                        if (cJSON_IsString(p)) {
                                problem(v, "halt path down (last check): %s", p->valuestring);
                                any = 1;
                        }
                }
                if (!any)
                        problem(v, "halt path down (last check)");
        }
}

static void read_state_file(struct view *v)
{
        struct rwerr err;

        (void)snprintf(v->state_path, sizeof v->state_path, "%s/%s", v->cfg->state_dir,
                       HALT_STATE_FILE);
        if (halt_state_load(v->cfg->state_dir, &v->state, &err) != RW_OK) {
                if (strstr(err.msg, v->state_path) != NULL)
                        problem(v, "%s; so health cannot be told", err.msg);
                else
                        problem(v, "%s cannot be read, so health cannot be told: %s", v->state_path,
                                err.msg);
                return;
        }
        v->state_ok = 1;
}

/* The silences; one that cannot be read is said, not counted as a problem. */
static void read_silences(struct view *v)
{
        struct rwerr err = {{0}};

        if ((v->silences = calloc(1, sizeof *v->silences)) == NULL) {
                (void)snprintf(v->silences_error, sizeof v->silences_error, "out of memory");
                return;
        }
        if (silence_load(v->cfg->state_dir, v->silences, &err) != RW_OK) {
                (void)snprintf(v->silences_error, sizeof v->silences_error, "%s", err.msg);
                free(v->silences);
                v->silences = NULL;
        }
}

static void read_heartbeat(struct view *v, redisContext *ctx)
{
        const char *key = v->cfg->heartbeat_key;
        const redisReply *msg = NULL, *sig = NULL;
        redisReply *r = redisCommand(ctx, "HGETALL %s", key);
        struct rwerr err;
        size_t i;
        int rc;

        if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements % 2 != 0) {
                (void)snprintf(v->hb_error, sizeof v->hb_error, "heartbeat key %s: %s", key,
                               r == NULL                      ? ctx->errstr
                               : r->type == REDIS_REPLY_ERROR ? r->str
                                                              : "not a hash");
                goto out;
        }
        for (i = 0; i < r->elements; i += 2) {
                const redisReply *f = r->element[i];

                if (f->type == REDIS_REPLY_STRING && strcmp(f->str, "msg") == 0)
                        msg = r->element[i + 1];
                else if (f->type == REDIS_REPLY_STRING && strcmp(f->str, "sig") == 0)
                        sig = r->element[i + 1];
        }
        if (r->elements == 0) {
                (void)snprintf(v->hb_error, sizeof v->hb_error,
                               "heartbeat key %s is missing (expired, or never set): a relayer "
                               "that requires it fails safe",
                               key);
                goto out;
        }
        v->hb_found = 1;
        if (msg == NULL || sig == NULL || msg->type != REDIS_REPLY_STRING ||
            sig->type != REDIS_REPLY_STRING) {
                (void)snprintf(v->hb_error, sizeof v->hb_error,
                               "heartbeat key %s lacks its msg or sig field", key);
                goto out;
        }
        if (v->ring->nwatchdog == 0) {
                (void)snprintf(v->hb_error, sizeof v->hb_error,
                               "heartbeat key %s not verified: no watchdog keys configured", key);
                goto out;
        }
        rc = heartbeat_check(v->ring->watchdog, v->ring->nwatchdog, msg->str, msg->len, sig->str,
                             v->now_ms, &v->hb_issued_ms, &v->hb_ttl_ms, &err);
        if (rc < 0) {
                (void)snprintf(v->hb_error, sizeof v->hb_error, "heartbeat key %s rejected: %s",
                               key, err.msg);
                goto out;
        }
        v->hb_verified = 1;
        v->hb_role = "watchdog";
out:
        freeReplyObject(r);
        v->hb_pttl_ms = -2;
        if (ctx->err == 0 && (r = redisCommand(ctx, "PTTL %s", key)) != NULL) {
                if (r->type == REDIS_REPLY_INTEGER)
                        v->hb_pttl_ms = r->integer;
                freeReplyObject(r);
        }
        if (!v->hb_verified)
                problem(v, "%s", v->hb_error);
}

/* ------------------------------------------------------------ the control stream */

/* control_read's callback: the halt key's outcome, and the rejected entries. */
static void judged_entry(void *arg, const char *entry_id, const struct control_field *fields,
                         size_t nfields, const struct control_outcome *out)
{
        struct view *v = arg;
        struct rejected_entry *r;

        (void)fields;
        (void)nfields;
        if (out->reject == CONTROL_NO_MEMORY)
                v->no_memory = 1;
        if (entry_id[0] == '\0') {
                v->hk_present = 1;
                v->hk = *out;
                return;
        }
        v->nentries++;
        if (out->reject == CONTROL_ACCEPTED || out->reject == CONTROL_NO_MEMORY)
                return;
        r = &v->rejected[v->rejected_total % REJECTED_SHOWN];
        v->rejected_total++;
        (void)snprintf(r->entry_id, sizeof r->entry_id, "%s", entry_id);
        r->reject = out->reject;
        (void)snprintf(r->first_seen, sizeof r->first_seen, "%s", out->first_seen);
        (void)snprintf(r->detail, sizeof r->detail, "%s", out->detail);
}

/*
 * The halt key, then every entry of the stream, into v->cs. RW_OK, or the
 * Redis error (RW_ERR_IO: the connection is lost); a problem said.
 */
static int judge_stream(struct view *v, redisContext *ctx)
{
        struct control_keys keys;
        struct rwerr err;
        int rc;

        if (v->ring->nwatchdog + v->ring->noperator == 0) {
                problem(v,
                        "no key to verify the control stream with ([control] signing_key, "
                        "watchdog_keys, operator_keys of %s): whether a HALT is in force cannot "
                        "be told",
                        v->cfg->path);
                return RW_OK;
        }
        control_keys_from_keyring(&keys, v->ring);
        if ((v->cs = control_state_new(&keys)) == NULL) {
                problem(v, "out of memory judging the control stream");
                return RW_OK;
        }
        rc = control_read_halt_key(ctx, v->keys.halt_key, v->cs, &v->hk_present, judged_entry, v,
                                   &err);
        if (rc == RW_OK)
                rc = control_read_stream(ctx, v->keys.stream, "0-0", v->cs, NULL, judged_entry, v,
                                         &err);
        if (rc != RW_OK) {
                if (rc != RW_ERR_IO)
                        problem(v, "the control stream cannot be judged: %s", err.msg);
                return rc;
        }
        if (v->no_memory) {
                problem(v, "out of memory judging the control stream: what follows is not whole");
                return RW_OK;
        }
        v->judged = 1;
        return RW_OK;
}

/* Each HALT in force, parsed, with its acknowledgements per group. RW_ERR_IO: lost. */
static int read_halts(struct view *v, redisContext *ctx)
{
        const struct control_in_force *list;
        struct rwerr err;
        size_t n = control_state_in_force(v->cs, &list), i;
        int rc;

        if (n == 0)
                return RW_OK;
        if ((v->halts = calloc(n, sizeof *v->halts)) == NULL) {
                problem(v, "out of memory for %zu HALTs in force", n);
                return RW_OK;
        }
        v->nhalts = n;
        for (i = 0; i < n; i++) {
                struct halt_view *h = &v->halts[i];

                h->f = &list[i];
                h->parsed = control_msg_parse(h->f->msg, h->f->msg_len, &h->m, &err) == RW_OK;
                if (!h->parsed)
                        problem(v, "HALT %s in force: %s", h->f->halt_id, err.msg);
                rc = halt_publish_acks(ctx, &v->keys, h->f->halt_id,
                                       (const char *const *)v->cfg->consumer_groups, v->ngroups,
                                       h->acked, &err);
                if (rc == RW_ERR_IO)
                        return rc;
                if (rc != RW_OK)
                        problem(v, "the acknowledgements of HALT %s cannot be read: %s",
                                h->f->halt_id, err.msg);
                h->acks_known = rc == RW_OK;
        }
        return RW_OK;
}

static const struct halt_view *halt_in_force(const struct view *v, const char *halt_id)
{
        size_t i;

        for (i = 0; i < v->nhalts; i++) {
                if (strcmp(v->halts[i].f->halt_id, halt_id) == 0)
                        return &v->halts[i];
        }
        return NULL;
}

/*
 * What the judging found wrong: the halt key and rejected entries (notices:
 * paged by the supervisor, never weighed here), bookkeeping that disagrees
 * (a problem).
 */
static void stream_problems(struct view *v)
{
        size_t i, shown, first;

        if (v->hk_present && v->hk.reject != CONTROL_ACCEPTED)
                notice(v,
                       "halt key %s is rejected, %s: %s. A relayer ignores it (it halts no one); "
                       "relaywatch never writes one like it: find who else can write to Redis",
                       v->keys.halt_key, control_reject_name(v->hk.reject), v->hk.detail);
        if (v->rejected_total > 0) {
                shown = v->rejected_total < REJECTED_SHOWN ? v->rejected_total : REJECTED_SHOWN;
                notice(v,
                       "control stream %s: %zu entr%s rejected (forged, altered or replayed): a "
                       "relayer ignores %s, but someone other than relaywatch can write to the "
                       "stream%s; `relaywatch control tail` shows each",
                       v->keys.stream, v->rejected_total, v->rejected_total == 1 ? "y" : "ies",
                       v->rejected_total == 1 ? "it" : "them",
                       v->rejected_total > shown
                               ? " (the last " TO_TEXT(REJECTED_SHOWN) " are listed)"
                               : "");
                first = v->rejected_total > REJECTED_SHOWN ? v->rejected_total % REJECTED_SHOWN : 0;
                for (i = 0; i < shown; i++) {
                        const struct rejected_entry *r = &v->rejected[(first + i) % REJECTED_SHOWN];

                        notice(v, "control stream %s entry %s REJECTED %s: %s%s%s%s%s",
                               v->keys.stream, r->entry_id, control_reject_name(r->reject),
                               r->reject == CONTROL_REPLAY ? "REPLAY" : "",
                               r->first_seen[0] != '\0' ? " of entry " : "", r->first_seen,
                               r->reject == CONTROL_REPLAY ? ": " : "", r->detail);
                }
        }
        for (i = 0; i < v->nopen; i++) {
                const struct halt_publish_open *o = &v->open[i];

                if (halt_in_force(v, o->halt_id) == NULL)
                        problem(v,
                                "%s:incidents lists HALT %s (%s, entry %s) as open, but it is not "
                                "in force on the stream (trimmed, rejected or lifted): "
                                "relaywatch's "
                                "bookkeeping and the stream disagree; `relaywatch resume` clears "
                                "it",
                                v->keys.stream, o->halt_id, o->field, o->entry_id);
        }
}

/* ------------------------------------------------------------ the relayer groups */

/* One group: exists, one consumer, live, versions. RW_ERR_IO: lost. */
static int read_group(struct view *v, redisContext *ctx, struct group_view *g)
{
        const struct config *c = v->cfg;
        struct rwerr err;
        int rc = halt_publish_live_consumers(ctx, &v->keys, g->name, c->consumer_idle_ms, &g->live,
                                             &g->consumers, &err);

        if (rc == RW_ERR_IO)
                return rc;
        if (rc == RW_ERR_REFUSED) {
                g->known = 1;
                problem(v,
                        "halt path down: %s: relayer instance %s is not reading the control "
                        "stream; a HALT would not reach it",
                        err.msg, g->name);
        } else if (rc != RW_OK) {
                problem(v, "relayer group %s: %s", g->name, err.msg);
        } else {
                g->known = g->exists = 1;
                if (g->consumers > 1)
                        problem(v,
                                "halt path down: group %s on %s has %zu consumers: a HALT reaches "
                                "only one of them; give each relayer instance a group of its own "
                                "([control] consumer_group lists them)",
                                g->name, v->keys.stream, g->consumers);
                else if (g->live == 0)
                        problem(v,
                                "halt path down: no live consumer in group %s on %s (%zu "
                                "consumer%s, none active in the last %" PRIu64
                                " ms): a HALT would not be read",
                                g->name, v->keys.stream, g->consumers, g->consumers == 1 ? "" : "s",
                                c->consumer_idle_ms);
        }
        rc = halt_publish_client_versions(ctx, &v->keys, g->name, g->versions, &err);
        if (rc == RW_ERR_IO)
                return rc;
        if (rc != RW_OK) {
                problem(v, "relayer instance %s: %s", g->name, err.msg);
                return RW_OK;
        }
        g->versions_known = 1;
        if (g->versions[0] != '\0' &&
            !halt_publish_versions_include(g->versions, CONTROL_MSG_VERSION))
                problem(v,
                        "halt path down: relayer instance %s announced control protocol "
                        "version%s %s, not %d, which relaywatch writes: it could not read a HALT",
                        g->name, strchr(g->versions, ',') != NULL ? "s" : "", g->versions,
                        CONTROL_MSG_VERSION);
        return RW_OK;
}

static void read_redis(struct view *v, struct cli_setup *s)
{
        const struct config *c = v->cfg;
        redisContext *ctx;
        struct rwerr err = {""};
        size_t i;
        int rc;

        halt_publish_keys_from_config(&v->keys, c);
        v->ngroups =
                c->nconsumer_groups < CONFIG_GROUPS_MAX ? c->nconsumer_groups : CONFIG_GROUPS_MAX;
        for (i = 0; i < v->ngroups; i++)
                v->groups[i].name = c->consumer_groups[i];
        if ((ctx = cli_setup_redis(s, &err)) == NULL) {
                if (c->redis_url == NULL)
                        problem(v, "%s", err.msg);
                else
                        problem(v,
                                "Redis unreachable, so whether the relayer is halted cannot be "
                                "told: %s",
                                err.msg);
                return;
        }
        if (judge_stream(v, ctx) == RW_ERR_IO)
                goto lost;
        if (v->judged && read_halts(v, ctx) == RW_ERR_IO)
                goto lost;
        /* relaywatch's bookkeeping, checked against the stream */
        rc = halt_publish_open_halts(ctx, &v->keys, &v->open, &v->nopen, &err);
        if (rc == RW_ERR_IO)
                goto lost;
        if (rc != RW_OK)
                problem(v, "%s", err.msg);
        if (v->judged)
                stream_problems(v);
        for (i = 0; i < v->ngroups; i++) {
                if (read_group(v, ctx, &v->groups[i]) == RW_ERR_IO)
                        goto lost;
        }
        read_heartbeat(v, ctx);
        if (ctx->err != 0)
                goto lost;
        v->redis_ok = 1;
        v->halted = v->judged && control_state_halted(v->cs);
        return;
lost:
        problem(v, "Redis connection lost while reading the halt state: %s",
                ctx->errstr[0] ? ctx->errstr : err.msg);
}

static int exit_code(const struct view *v)
{
        if (!v->redis_ok)
                return EXIT_CANNOT_TELL;
        if (v->halted)
                return EXIT_HALTED;
        if (!v->judged)
                return EXIT_CANNOT_TELL;
        return v->nproblems > 0 ? EXIT_CANNOT_TELL : CLI_EXIT_OK;
}

static const char *state_word(const struct view *v)
{
        return !v->redis_ok || (!v->judged && !v->halted) ? "UNKNOWN"
               : v->halted                                ? "HALTED"
                                                          : "RUNNING";
}

static const char *json_str(const cJSON *o, const char *name)
{
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, name);

        return cJSON_IsString(s) ? s->valuestring : "";
}

static double json_num(const cJSON *o, const char *name)
{
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(o, name);

        return cJSON_IsNumber(n) ? n->valuedouble : 0;
}

/* "acknowledged by A; waiting for B", or why it is not known. */
static void print_acks(const struct view *v, const struct halt_view *h, FILE *out)
{
        size_t i, nacked = 0, nwaiting;
        int first;

        if (!h->acks_known) {
                fprintf(out, "acknowledgement unknown (see the problems below)\n");
                return;
        }
        for (i = 0; i < v->ngroups; i++)
                nacked += h->acked[i] != 0;
        nwaiting = v->ngroups - nacked;
        if (nacked > 0) {
                fprintf(out, "acknowledged by");
                for (i = 0, first = 1; i < v->ngroups; i++) {
                        if (h->acked[i]) {
                                fprintf(out, "%s %s", first ? "" : ",", v->groups[i].name);
                                first = 0;
                        }
                }
        } else {
                fprintf(out, "NOT acknowledged");
        }
        if (nwaiting > 0) {
                fprintf(out, "; waiting for");
                for (i = 0, first = 1; i < v->ngroups; i++) {
                        if (!h->acked[i]) {
                                fprintf(out, "%s %s", first ? "" : ",", v->groups[i].name);
                                first = 0;
                        }
                }
        }
        fputc('\n', out);
}

static void print_headline(const struct view *v, FILE *out)
{
        const struct halt_view *h = v->nhalts > 0 ? &v->halts[0] : NULL;

        if (!v->redis_ok) {
                fprintf(out, "UNKNOWN: whether the relayer is halted cannot be told (Redis)\n");
                return;
        }
        if (!v->judged) {
                fprintf(out, "UNKNOWN: whether the relayer is halted cannot be told: the control "
                             "stream could not be judged (problems below)\n");
                return;
        }
        if (!v->halted) {
                fprintf(out, "RUNNING: no halt in force%s\n",
                        v->nproblems > 0 ? ", but not healthy (problems below)" : "");
                return;
        }
        if (h == NULL || !h->parsed) {
                fprintf(out, "HALTED: %zu HALT%s in force\n", v->nhalts, v->nhalts == 1 ? "" : "s");
                return;
        }
        fprintf(out, "HALTED since %s: %s (%s): %s\n", h->m.issued_at, h->m.invariant,
                h->m.severity, h->m.reason);
        if (v->nhalts > 1)
                fprintf(out, "  and %zu more HALT%s in force: a RESUME must lift every one\n",
                        v->nhalts - 1, v->nhalts == 2 ? "" : "s");
}

static void print_halt(const struct view *v, const struct halt_view *h, FILE *out)
{
        const struct control_in_force *f = h->f;

        fprintf(out, "  %s %s, ", f->halt_id, h->parsed ? h->m.invariant : "?");
        if (f->entry_id[0] != '\0')
                fprintf(out, "stream entry %s", f->entry_id);
        else
                fprintf(out, "from the halt key only (its stream entry is gone)");
        fprintf(out, ", signed by %s key %s\n", control_role_name(f->role), f->key_id);
        if (h->parsed)
                fprintf(out, "    issued %s by %s, correlation id %s: %s\n", h->m.issued_at,
                        h->m.watchdog_id, h->m.correlation_id, h->m.reason);
        fprintf(out, "    ");
        print_acks(v, h, out);
}

static void print_halts(const struct view *v, FILE *out)
{
        size_t i;

        if (!v->redis_ok)
                return;
        if (v->cs == NULL)
                fprintf(out, "halt key %s: not judged (no key to verify with)\n", v->keys.halt_key);
        else if (!v->hk_present)
                fprintf(out, "halt key %s: not set\n", v->keys.halt_key);
        else if (v->hk.reject == CONTROL_ACCEPTED)
                fprintf(out, "halt key %s: HALT %s, verified, %s key %s\n", v->keys.halt_key,
                        v->hk.msg_id, control_role_name(v->hk.role), v->hk.key_id);
        else
                fprintf(out, "halt key %s: REJECTED %s (a relayer ignores it)\n", v->keys.halt_key,
                        control_reject_name(v->hk.reject));
        if (!v->judged)
                return;
        fprintf(out, "control stream %s: %zu entr%s judged, %zu rejected\n", v->keys.stream,
                v->nentries, v->nentries == 1 ? "y" : "ies", v->rejected_total);
        if (v->nhalts == 0)
                return;
        fprintf(out,
                "halts in force (%zu; the relayer stays halted until a RESUME lifts every "
                "one):\n",
                v->nhalts);
        for (i = 0; i < v->nhalts; i++)
                print_halt(v, &v->halts[i], out);
}

static void print_group(const struct view *v, const struct group_view *g, FILE *out)
{
        fprintf(out, "  %s: ", g->name);
        if (!g->known)
                fprintf(out, "consumers unknown");
        else if (!g->exists)
                fprintf(out, "MISSING (no such group on %s)", v->keys.stream);
        else
                fprintf(out, "%zu consumer%s, %zu live%s", g->consumers,
                        g->consumers == 1 ? "" : "s", g->live,
                        g->consumers > 1 ? " (MORE THAN ONE: a HALT reaches only one of them)"
                                         : "");
        if (!g->versions_known)
                fprintf(out, "; versions unknown\n");
        else if (g->versions[0] == '\0')
                fprintf(out, "; announced no versions (taken as 1)\n");
        else
                fprintf(out, "; announced versions %s\n", g->versions);
}

static void print_health(const struct view *v, FILE *out)
{
        size_t i;

        if (!v->redis_ok)
                return;
        fprintf(out,
                "relayer groups on %s (one per relayer instance; live: active in the last "
                "%" PRIu64 " ms):\n",
                v->keys.stream, v->cfg->consumer_idle_ms);
        for (i = 0; i < v->ngroups; i++)
                print_group(v, &v->groups[i], out);
        if (v->hb_verified)
                fprintf(out,
                        "heartbeat: verified (%s key), issued %" PRId64 " ms ago, ttl %" PRId64
                        " ms, key expires in %lld ms\n",
                        v->hb_role, v->now_ms - v->hb_issued_ms, v->hb_ttl_ms, v->hb_pttl_ms);
        else
                fprintf(out, "heartbeat: %s\n", v->hb_error);
}
static void print_cycle(const struct view *v, FILE *out)
{
        const cJSON *cyc, *verdicts, *vd, *eps, *ep, *heights, *h, *findings, *f;

        if (v->status == NULL)
                return;
        fprintf(out, "\nlast cycle (%s, updated %" PRId64 " s ago by %s pid %.0f):\n",
                v->status_path, v->status_age_ms / 1000, json_str(v->status, "watchdog_id"),
                json_num(v->status, "pid"));
        cyc = cJSON_GetObjectItemCaseSensitive(v->status, "cycle");
        if (cJSON_IsObject(cyc)) {
                fprintf(out, "  %s at %s, %.0f ms%s, tier 1 %s; heights",
                        json_str(cyc, "correlation_id"), json_str(cyc, "started_at"),
                        json_num(cyc, "duration_ms"),
                        cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cyc, "full_sweep"))
                                ? ", full sweep"
                                : "",
                        json_str(cyc, "tier1"));
                heights = cJSON_GetObjectItemCaseSensitive(cyc, "heights");
                cJSON_ArrayForEach(h, heights)
                {
                        fprintf(out, " %s %.0f", h->string, cJSON_IsNumber(h) ? h->valuedouble : 0);
                }
                fprintf(out, "\n");
                verdicts = cJSON_GetObjectItemCaseSensitive(cyc, "verdicts");
                cJSON_ArrayForEach(vd, verdicts)
                {
                        int tier = (int)json_num(vd, "tier");
                        const char *st = json_str(vd, "status");

                        if (tier != 1 && strcmp(st, "ok") == 0)
                                continue;
                        fprintf(out, "  %-24s tier %d %-7s %-9s %s\n", json_str(vd, "invariant"),
                                tier, json_str(vd, "mode"), st, json_str(vd, "summary"));
                }
        }
        eps = cJSON_GetObjectItemCaseSensitive(v->status, "endpoints");
        if (cJSON_GetArraySize(eps) > 0)
                fprintf(out, "endpoints:\n");
        cJSON_ArrayForEach(ep, eps)
        {
                int ok = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ep, "ok"));
                const char *breaker = json_str(ep, "breaker");
                /* the chain reads fine, but this endpoint is resting or refused */
                int benched = breaker[0] != '\0' && strcmp(breaker, "closed") != 0;

                fprintf(out, "  %-9s %s %s%s%s\n", json_str(ep, "chain"), json_str(ep, "endpoint"),
                        !ok       ? "FAILING: "
                        : benched ? "breaker "
                                  : "ok",
                        !ok ? json_str(ep, "error") : "", ok && benched ? breaker : "");
        }
        findings = cJSON_GetObjectItemCaseSensitive(v->status, "findings");
        if (cJSON_GetArraySize(findings) > 0)
                fprintf(out, "recent findings:\n");
        cJSON_ArrayForEach(f, findings)
        {
                fprintf(out, "  %s %s %s: %s\n", json_str(f, "at"), json_str(f, "severity"),
                        json_str(f, "kind"), json_str(f, "summary"));
        }
}

static void print_incidents(const struct view *v, FILE *out)
{
        size_t i;

        if (!v->state_ok || v->state.n == 0)
                return;
        fprintf(out, "incidents (%s):\n", v->state_path);
        for (i = 0; i < v->state.n; i++) {
                const struct incident *inc = &v->state.incidents[i];

                fprintf(out, "  %-24s %s %s%s%s\n", inc->invariant, inc->id,
                        incident_phase_name(inc->phase), inc->ours ? ", ours" : "",
                        inc->acked_at_ms > 0 ? ", acknowledged" : "");
        }
}

/* What paging has open (STATE_DIR/status.json "alerts") and the routes that fail. */
static void print_alerts(const struct view *v, FILE *out)
{
        const cJSON *alerts = cJSON_GetObjectItemCaseSensitive(v->status, "alerts");
        const cJSON *routes = cJSON_GetObjectItemCaseSensitive(v->status, "alert_routes");
        const cJSON *a, *r;

        if (cJSON_GetArraySize(alerts) > 0)
                fprintf(out, "open alerts:\n");
        cJSON_ArrayForEach(a, alerts)
        {
                const char *subject = json_str(a, "subject");

                fprintf(out, "  %s %s%s%s%s%s: %s\n", json_str(a, "severity"), json_str(a, "name"),
                        subject[0] != '\0' ? " " : "", subject,
                        cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(a, "silenced"))
                                ? " (silenced)"
                                : "",
                        cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(a, "clearing"))
                                ? " (clearing)"
                                : "",
                        json_str(a, "summary"));
        }
        cJSON_ArrayForEach(r, routes)
        {
                if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "failing")))
                        fprintf(out, "alert route %s FAILING (%.0f kept in the spool): %s\n",
                                r->string, json_num(r, "spooled"), json_str(r, "last_problem"));
        }
}

/* The silences in force: they hold pages, never a HALT. */
static void print_silences(const struct view *v, FILE *out)
{
        size_t i, shown = 0;

        if (v->silences == NULL) {
                fprintf(out, "silences: cannot be read (they are not shown): %s\n",
                        v->silences_error);
                return;
        }
        for (i = 0; i < v->silences->n; i++) {
                const struct silence *s = &v->silences->items[i];
                char ends[RWCLOCK_UTC_SIZE];

                if (s->ends_ms <= v->now_ms)
                        continue;
                if (shown++ == 0)
                        fprintf(out, "silences in force (pages held, never a HALT):\n");
                (void)rwclock_format_utc(s->ends_ms, ends, NULL);
                fprintf(out, "  %s %s%s%s until %s, by %s: %s\n", s->id, s->name,
                        s->subject[0] != '\0' ? ":" : " (every subject)", s->subject, ends,
                        s->created_by, s->reason);
        }
}
/* The audit log as the last status file saw it: records and the last checkpoint. */
static void print_audit(const struct view *v, FILE *out)
{
        const cJSON *a =
                v->status != NULL ? cJSON_GetObjectItemCaseSensitive(v->status, "audit") : NULL;

        if (!cJSON_IsObject(a))
                return;
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(a, "down"))) {
                fprintf(out, "\naudit log: DOWN (%s): see AUDIT_LOG_DOWN\n", json_str(a, "dir"));
                return;
        }
        fprintf(out, "\naudit log: %.0f records in %s", json_num(a, "records"), json_str(a, "dir"));
        if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(a, "checkpoint_size")))
                fprintf(out, "; last checkpoint %.0f records, root %s, key epoch %.0f",
                        json_num(a, "checkpoint_size"), json_str(a, "checkpoint_root"),
                        json_num(a, "epoch"));
        fprintf(out, "\n");
}

static void print_text(const struct view *v, FILE *out)
{
        size_t i;

        print_headline(v, out);
        print_halts(v, out);
        print_health(v, out);
        print_cycle(v, out);
        print_audit(v, out);
        print_incidents(v, out);
        print_alerts(v, out);
        print_silences(v, out);
        if (v->nproblems > 0) {
                fprintf(out, "\nproblems:\n");
                for (i = 0; i < v->nproblems; i++)
                        fprintf(out, "  - %s\n", v->problems[i]);
        }
        if (v->nnotices > 0) {
                fprintf(out,
                        "\nnotices (paged once by the supervisor as CONTROL_STREAM_FORGERY; not "
                        "weighed in the exit status):\n");
                for (i = 0; i < v->nnotices; i++)
                        fprintf(out, "  - %s\n", v->notices[i]);
        }
}

/* ------------------------------------------------------------ JSON */

/* Adds item to parent (taken over in every case); 0 when item is NULL or adding failed. */
static int add(cJSON *parent, const char *name, cJSON *item)
{
        if (item == NULL)
                return 0;
        if (!cJSON_AddItemToObject(parent, name, item)) {
                cJSON_Delete(item);
                return 0;
        }
        return 1;
}

/* Appends item to the array (taken over in every case); 0 when that failed. */
static int append(cJSON *array, cJSON *item)
{
        if (item == NULL)
                return 0;
        if (!cJSON_AddItemToArray(array, item)) {
                cJSON_Delete(item);
                return 0;
        }
        return 1;
}

static cJSON *str_or_null(const char *s)
{
        return s != NULL && s[0] != '\0' ? cJSON_CreateString(s) : cJSON_CreateNull();
}

static cJSON *halt_key_json(const struct view *v)
{
        cJSON *o = cJSON_CreateObject();
        int judged = v->cs != NULL && v->hk_present, accepted = judged && v->hk.reject == 0;

        if (o == NULL)
                return NULL;
        if (add(o, "key", cJSON_CreateString(v->keys.halt_key)) &&
            add(o, "present",
                v->cs != NULL ? cJSON_CreateBool(v->hk_present) : cJSON_CreateNull()) &&
            add(o, "verified", cJSON_CreateBool(accepted)) &&
            add(o, "halt_id", str_or_null(accepted ? v->hk.msg_id : NULL)) &&
            add(o, "key_role",
                accepted ? cJSON_CreateString(control_role_name(v->hk.role))
                         : cJSON_CreateNull()) &&
            add(o, "key_id", str_or_null(accepted ? v->hk.key_id : NULL)) &&
            add(o, "rejection",
                judged && !accepted ? cJSON_CreateString(control_reject_name(v->hk.reject))
                                    : cJSON_CreateNull()) &&
            add(o, "detail", str_or_null(judged && !accepted ? v->hk.detail : NULL)))
                return o;
        cJSON_Delete(o);
        return NULL;
}

static cJSON *halt_json(const struct view *v, const struct halt_view *h)
{
        const struct control_msg *m = h->parsed ? &h->m : NULL;
        cJSON *o = cJSON_CreateObject(), *acks = NULL;
        size_t i;
        int ok;

        if (o == NULL)
                return NULL;
        ok = add(o, "halt_id", cJSON_CreateString(h->f->halt_id)) &&
             add(o, "entry_id", str_or_null(h->f->entry_id)) &&
             add(o, "invariant", str_or_null(m != NULL ? m->invariant : NULL)) &&
             add(o, "severity", str_or_null(m != NULL ? m->severity : NULL)) &&
             add(o, "reason", str_or_null(m != NULL ? m->reason : NULL)) &&
             add(o, "key_role", cJSON_CreateString(control_role_name(h->f->role))) &&
             add(o, "key_id", cJSON_CreateString(h->f->key_id)) &&
             add(o, "issued_at", str_or_null(m != NULL ? m->issued_at : NULL)) &&
             add(o, "watchdog_id", str_or_null(m != NULL ? m->watchdog_id : NULL)) &&
             add(o, "correlation_id", str_or_null(m != NULL ? m->correlation_id : NULL));
        if (ok && h->acks_known) {
                ok = add(o, "acks", acks = cJSON_CreateObject());
                for (i = 0; ok && i < v->ngroups; i++)
                        ok = add(acks, v->groups[i].name, cJSON_CreateBool(h->acked[i]));
        } else if (ok) {
                ok = add(o, "acks", cJSON_CreateNull());
        }
        if (ok)
                return o;
        cJSON_Delete(o);
        return NULL;
}

static cJSON *group_json(const struct group_view *g)
{
        cJSON *o = cJSON_CreateObject();

        if (o == NULL)
                return NULL;
        if (add(o, "name", cJSON_CreateString(g->name)) &&
            add(o, "exists", g->known ? cJSON_CreateBool(g->exists) : cJSON_CreateNull()) &&
            add(o, "consumers",
                g->exists ? cJSON_CreateNumber((double)g->consumers) : cJSON_CreateNull()) &&
            add(o, "live", g->exists ? cJSON_CreateNumber((double)g->live) : cJSON_CreateNull()) &&
            add(o, "versions", str_or_null(g->versions_known ? g->versions : NULL)))
                return o;
        cJSON_Delete(o);
        return NULL;
}

static cJSON *rejected_json(const struct rejected_entry *r)
{
        cJSON *o = cJSON_CreateObject();

        if (o == NULL)
                return NULL;
        if (add(o, "entry_id", cJSON_CreateString(r->entry_id)) &&
            add(o, "rejection", cJSON_CreateString(control_reject_name(r->reject))) &&
            add(o, "detail", cJSON_CreateString(r->detail)) &&
            add(o, "replay_of", str_or_null(r->first_seen)))
                return o;
        cJSON_Delete(o);
        return NULL;
}

static cJSON *open_json(const struct view *v, const struct halt_publish_open *op)
{
        cJSON *o = cJSON_CreateObject();

        if (o == NULL)
                return NULL;
        if (add(o, "invariant", cJSON_CreateString(op->field)) &&
            add(o, "halt_id", cJSON_CreateString(op->halt_id)) &&
            add(o, "entry_id", cJSON_CreateString(op->entry_id)) &&
            add(o, "in_force",
                v->judged ? cJSON_CreateBool(halt_in_force(v, op->halt_id) != NULL)
                          : cJSON_CreateNull()))
                return o;
        cJSON_Delete(o);
        return NULL;
}

/* The Redis side: the halt key, the HALTs in force, rejected entries, groups, heartbeat. */
static int redis_json(const struct view *v, cJSON *root)
{
        size_t i, first, shown;
        cJSON *list, *o;
        int ok = add(root, "halt_key", halt_key_json(v)) &&
                 (o = cJSON_AddObjectToObject(root, "stream")) != NULL &&
                 add(o, "key", cJSON_CreateString(v->keys.stream)) &&
                 add(o, "judged", cJSON_CreateBool(v->judged)) &&
                 add(o, "entries", cJSON_CreateNumber((double)v->nentries));

        ok = ok && (list = cJSON_AddArrayToObject(root, "halts_in_force")) != NULL;
        for (i = 0; ok && i < v->nhalts; i++)
                ok = append(list, halt_json(v, &v->halts[i]));
        ok = ok && (list = cJSON_AddArrayToObject(root, "rejected_entries")) != NULL;
        shown = v->rejected_total < REJECTED_SHOWN ? v->rejected_total : REJECTED_SHOWN;
        first = v->rejected_total > REJECTED_SHOWN ? v->rejected_total % REJECTED_SHOWN : 0;
        for (i = 0; ok && i < shown; i++)
                ok = append(list, rejected_json(&v->rejected[(first + i) % REJECTED_SHOWN]));
        ok = ok && add(root, "rejected_total", cJSON_CreateNumber((double)v->rejected_total));
        ok = ok && (list = cJSON_AddArrayToObject(root, "open_halts")) != NULL;
        for (i = 0; ok && i < v->nopen; i++)
                ok = append(list, open_json(v, &v->open[i]));
        ok = ok && (list = cJSON_AddArrayToObject(root, "groups")) != NULL;
        for (i = 0; ok && i < v->ngroups; i++)
                ok = append(list, group_json(&v->groups[i]));
        if (ok && (o = cJSON_AddObjectToObject(root, "heartbeat")) != NULL) {
                cJSON_AddStringToObject(o, "key", v->cfg->heartbeat_key);
                cJSON_AddBoolToObject(o, "present", v->hb_found);
                cJSON_AddBoolToObject(o, "verified", v->hb_verified);
                if (v->hb_verified) {
                        cJSON_AddNumberToObject(o, "age_ms", (double)(v->now_ms - v->hb_issued_ms));
                        cJSON_AddNumberToObject(o, "ttl_ms", (double)v->hb_ttl_ms);
                } else {
                        cJSON_AddStringToObject(o, "error", v->hb_error);
                }
                cJSON_AddNumberToObject(o, "pttl_ms", (double)v->hb_pttl_ms);
        }
        return ok;
}

static int print_json(struct view *v, FILE *out)
{
        cJSON *root = cJSON_CreateObject(), *o, *list;
        char *text;
        size_t i;
        int ok = root != NULL;

        if (!ok)
                return RW_ERR_NOMEM;
        cJSON_AddStringToObject(root, "state", state_word(v));
        cJSON_AddBoolToObject(root, "halted", v->halted);
        cJSON_AddBoolToObject(root, "healthy", v->redis_ok && v->judged && v->nproblems == 0);
        cJSON_AddNumberToObject(root, "exit_code", exit_code(v));
        if (v->redis_ok)
                ok = redis_json(v, root);
        if (ok && (o = cJSON_AddObjectToObject(root, "status_file")) != NULL) {
                cJSON_AddStringToObject(o, "path", v->status_path);
                cJSON_AddBoolToObject(o, "read", v->status != NULL);
                if (v->status != NULL) {
                        cJSON_AddNumberToObject(o, "age_ms", (double)v->status_age_ms);
                        cJSON_AddBoolToObject(o, "fresh", v->status_fresh);
                }
        }
        if (ok && v->status != NULL) {
                /* what `relaywatch run` wrote, as it wrote it */
                ok = add(root, "supervisor", cJSON_Duplicate(v->status, 1));
        }
        if (ok && (o = cJSON_AddObjectToObject(root, "halt_state")) != NULL) {
                cJSON_AddStringToObject(o, "path", v->state_path);
                cJSON_AddBoolToObject(o, "read", v->state_ok);
                list = cJSON_AddArrayToObject(o, "incidents");
                for (i = 0; v->state_ok && list != NULL && i < v->state.n; i++) {
                        cJSON *inc = halt_state_incident_json(&v->state.incidents[i]);

                        if (inc == NULL || !cJSON_AddItemToArray(list, inc)) {
                                cJSON_Delete(inc);
                                ok = 0;
                                break;
                        }
                }
        }
        if (ok && v->silences != NULL) {
                ok = add(root, "silences", silence_list_json(v->silences, v->now_ms));
        } else if (ok) {
                ok = cJSON_AddNullToObject(root, "silences") != NULL &&
                     cJSON_AddStringToObject(root, "silences_error", v->silences_error) != NULL;
        }
        if (ok && (list = cJSON_AddArrayToObject(root, "problems")) != NULL) {
                for (i = 0; i < v->nproblems; i++)
                        cJSON_AddItemToArray(list, cJSON_CreateString(v->problems[i]));
        }
        if (ok && (list = cJSON_AddArrayToObject(root, "notices")) != NULL) {
                for (i = 0; i < v->nnotices; i++)
                        cJSON_AddItemToArray(list, cJSON_CreateString(v->notices[i]));
        }
        text = ok ? cJSON_PrintUnformatted(root) : NULL;
        cJSON_Delete(root);
        if (text == NULL)
                return RW_ERR_NOMEM;
        fprintf(out, "%s\n", text);
        free(text);
        return RW_OK;
}

int cmd_status(int argc, char **argv, FILE *out, FILE *errout)
{
        enum { OPT_JSON = CLI_OPT_LONG };
        static const struct cli_option options[] = {CLI_OPTION_CONFIG, {"json", OPT_JSON, NULL}};
        const struct cli_command *cmd = &cmd_status_command;
        const char *given = NULL;
        struct cli_setup s;
        struct cli_args a;
        struct view *v = NULL;
        struct rwerr err = {{0}};
        int json = 0, opt, code = EXIT_CANNOT_TELL;
        size_t k;

        cli_args_init(&a, cmd, options, CLI_NOPTIONS(options), argc, argv, out, errout);
        while ((opt = cli_args_next(&a)) > 0) {
                if (opt == 'c')
                        given = a.value;
                else
                        json = 1;
        }
        if (opt == CLI_ARGS_EXIT)
                return a.exit_code;
        cli_setup_init(&s, cmd, errout);
        if (cli_setup_config(&s, given) != RW_OK)
                return EXIT_CANNOT_TELL;
        if ((v = calloc(1, sizeof *v)) == NULL) {
                cli_error(cmd, errout, "out of memory");
                goto done;
        }
        v->cfg = s.cfg;
        v->ring = &s.keys;
        v->now_ms = rwclock_wall_ms();
        if (cli_setup_keys(&s, NULL, key_problem, v, &err) != RW_OK)
                problem(v, "%s", err.msg);
        read_state_file(v);
        read_status_file(v);
        read_silences(v);
        read_redis(v, &s);
        code = exit_code(v);
        if (json) {
                if (print_json(v, out) != RW_OK) {
                        cli_error(cmd, errout, "out of memory printing JSON");
                        code = EXIT_CANNOT_TELL;
                }
        } else {
                print_text(v, out);
        }
        /* the problems also go to stderr, so a script that keeps only that sees them */
        for (k = 0; k < v->nproblems; k++)
                cli_error(cmd, errout, "%s", v->problems[k]);
done:
        if (v != NULL) {
                for (k = 0; k < v->nhalts; k++)
                        control_msg_free(&v->halts[k].m);
                free(v->halts);
                free(v->open);
                control_state_free(v->cs);
                free(v->silences);
                cJSON_Delete(v->status);
        }
        free(v);
        cli_setup_release(&s);
        return code;
}
