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
#include "fileio.h"
#include "halt_publish.h"
#include "halt_state.h"
#include "heartbeat.h"
#include "rwclock.h"
#include "silence.h"

#define STATUS_FILE_MAX ((size_t)4 << 20)
#define PROBLEMS_MAX 32
#define PROBLEM_MAX 768
#define EXIT_HALTED 1
#define EXIT_CANNOT_TELL 2

static const char help[] =
        "Says whether the relayer is halted (why, since when, acknowledged or not),\n"
        "what the last cycle of `relaywatch run` saw (Tier 1 verdicts, anything not\n"
        "ok, endpoint health), the heartbeat, the relayer's consumers and any\n"
        "problem with the halt path. Reads STATE_DIR/status.json and\n"
        "STATE_DIR/" HALT_STATE_FILE " and asks Redis; verifies every signed message.\n"
        "Lists the silences in force (`relaywatch silence`); they never change the\n"
        "exit status.\n"
        "\n"
        "  -c, --config FILE  the configuration (default: $RELAYWATCH_CONFIG, then\n"
        "                     " CONFIG_DEFAULT_PATH ")\n"
        "  --json             one JSON object instead of text\n"
        "\n"
        "Exit status: 0 not halted and healthy; 1 halted; 2 cannot tell or not\n"
        "healthy (a state file unreadable, status.json missing or stale, Redis\n"
        "unreachable, the halt path down: the problems are listed); 64 a usage error.\n";

/* A verified (or not) control message read from Redis. */
struct seen_msg {
        int found;    /* there was something to read */
        int verified; /* its signature verified with a configured key */
        const char *role;
        char error[RWERR_MSG_MAX];
        struct control_msg m; /* when verified */
};

struct open_view {
        struct halt_publish_open o;
        int acked; /* 1, 0, or -1 unknown */
        struct seen_msg msg;
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
        struct seen_msg halt;
        struct open_view *open;
        size_t nopen;
        int consumers_known;
        size_t live, total;
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
};

const struct cli_command cmd_status_command = {
        "status", "relaywatch status [-c FILE] [--json]",
        "halted or running, why and since when, acknowledged or not, the last cycle's verdicts, "
        "endpoints, heartbeat; exit 0 running, 1 halted, 2 cannot tell",
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

static void seen_free(struct seen_msg *s)
{
        control_msg_free(&s->m);
}

/* keyring_load's skip: a key file that cannot be read is a problem, not the end. */
static void key_problem(void *arg, const struct rwerr *err)
{
        problem(arg, "%s", err->msg);
}

/* Verifies a HALT as a relayer does: watchdog keys, then operator keys. */
static void verify_halt(struct view *v, const char *msg, size_t len, const char *sig,
                        struct seen_msg *s)
{
        struct rwerr err = {{0}};

        s->found = 1;
        if (v->ring->nwatchdog == 0 && v->ring->noperator == 0) {
                (void)snprintf(s->error, sizeof s->error,
                               "not verified: no watchdog_keys or operator_keys configured");
                return;
        }
        if (v->ring->nwatchdog > 0 &&
            (control_msg_check(v->ring->watchdog, v->ring->nwatchdog, CONTROL_ALLOW_HALT, msg, len,
                               sig, &s->m, &err)) >= 0) {
                s->verified = 1;
                s->role = "watchdog";
                return;
        }
        if (v->ring->noperator > 0 &&
            (control_msg_check(v->ring->operator, v->ring->noperator, CONTROL_ALLOW_HALT, msg, len,
                               sig, &s->m, &err)) >= 0) {
                s->verified = 1;
                s->role = "operator";
                return;
        }
        (void)snprintf(s->error, sizeof s->error, "%s", err.msg);
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
        const cJSON *ver, *upd, *cyc, *path;
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

static void read_redis(struct view *v, struct cli_setup *s)
{
        const struct config *c = v->cfg;
        struct halt_publish_open *open = NULL;
        redisContext *ctx;
        char *msg = NULL, sig[CONTROL_SIG_B64_SIZE];
        size_t len = 0, i;
        struct rwerr err;
        int found = 0, rc, group_missing = 0;

        halt_publish_keys_from_config(&v->keys, c);
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
        /* the durable halt key */
        rc = halt_publish_read_halt_key(ctx, &v->keys, &found, &msg, &len, sig, &err);
        if (rc == RW_ERR_IO)
                goto lost;
        if (rc != RW_OK) {
                v->halt.found = 1;
                (void)snprintf(v->halt.error, sizeof v->halt.error, "%s", err.msg);
        } else if (found) {
                verify_halt(v, msg, len, sig, &v->halt);
        }
        free(msg);
        msg = NULL;
        if (v->halt.found && !v->halt.verified)
                problem(v,
                        "halt key %s holds a HALT that does not verify (a relayer ignores it): %s",
                        v->keys.halt_key, v->halt.error);
        /* the open halts, each read back from the stream and verified */
        if ((rc = halt_publish_open_halts(ctx, &v->keys, &open, &v->nopen, &err)) != RW_OK) {
                if (rc == RW_ERR_IO)
                        goto lost;
                problem(v, "%s", err.msg);
        }
        if (v->nopen > 0 && (v->open = calloc(v->nopen, sizeof *v->open)) == NULL) {
                problem(v, "out of memory for %zu open halts", v->nopen);
                v->nopen = 0;
        }
        for (i = 0; i < v->nopen; i++) {
                struct open_view *o = &v->open[i];

                o->o = open[i];
                o->acked = -1;
                rc = halt_publish_read_entry(ctx, &v->keys, o->o.entry_id, &found, &msg, &len, sig,
                                             &err);
                if (rc == RW_ERR_IO)
                        goto lost;
                if (rc != RW_OK)
                        (void)snprintf(o->msg.error, sizeof o->msg.error, "%s", err.msg);
                else if (!found)
                        (void)snprintf(o->msg.error, sizeof o->msg.error,
                                       "entry %s is no longer in %s (trimmed?)", o->o.entry_id,
                                       v->keys.stream);
                else
                        verify_halt(v, msg, len, sig, &o->msg);
                free(msg);
                msg = NULL;
                if (!o->msg.verified)
                        problem(v, "open halt %s (%s): %s", o->o.halt_id, o->o.field, o->msg.error);
                if (group_missing)
                        continue;
                rc = halt_publish_acks(ctx, &v->keys, o->o.halt_id,
                                       (const char *const *)c->consumer_groups, 1, &o->acked, &err);
                if (rc == RW_ERR_IO)
                        goto lost;
                if (rc == RW_ERR_REFUSED)
                        group_missing = 1; /* said once, by the consumer check below */
                else if (rc != RW_OK)
                        problem(v, "acknowledgement of %s: %s", o->o.halt_id, err.msg);
                if (rc != RW_OK)
                        o->acked = -1;
        }
        /* the relayer's consumers */
        rc = halt_publish_live_consumers(ctx, &v->keys, c->consumer_groups[0], c->consumer_idle_ms,
                                         &v->live, &v->total, &err);
        if (rc == RW_ERR_IO)
                goto lost;
        if (rc == RW_ERR_REFUSED)
                problem(v, "halt path down: %s: no relayer reads the control stream", err.msg);
        else if (rc != RW_OK)
                problem(v, "%s", err.msg);
        else if (v->live == 0)
                problem(v,
                        "halt path down: no live consumer in group %s on %s (%zu consumer%s, "
                        "none active in the last %" PRIu64 " ms)",
                        c->consumer_groups[0], v->keys.stream, v->total, v->total == 1 ? "" : "s",
                        c->consumer_idle_ms);
        v->consumers_known = rc == RW_OK;
        read_heartbeat(v, ctx);
        if (ctx->err != 0)
                goto lost;
        v->redis_ok = 1;
        v->halted = (v->halt.found && v->halt.verified) || v->nopen > 0;
        goto out;
lost:
        problem(v, "Redis connection lost while reading the halt state: %s",
                ctx->errstr[0] ? ctx->errstr : err.msg);
out:
        free(msg);
        free(open);
}

static int exit_code(const struct view *v)
{
        if (!v->redis_ok)
                return EXIT_CANNOT_TELL;
        if (v->halted)
                return EXIT_HALTED;
        return v->nproblems > 0 ? EXIT_CANNOT_TELL : CLI_EXIT_OK;
}

static const char *state_word(const struct view *v)
{
        return !v->redis_ok ? "UNKNOWN" : v->halted ? "HALTED" : "RUNNING";
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

static const char *ack_word(int acked)
{
        return acked == 1   ? "acknowledged"
               : acked == 0 ? "NOT acknowledged"
                            : "acknowledgement unknown";
}

/* The primary halt: the halt key when it verified, else the first open halt that did. */
static const struct control_msg *primary_halt(const struct view *v)
{
        size_t i;

        if (v->halt.verified)
                return &v->halt.m;
        for (i = 0; i < v->nopen; i++) {
                if (v->open[i].msg.verified)
                        return &v->open[i].msg.m;
        }
        return NULL;
}

static void print_headline(const struct view *v, FILE *out)
{
        const struct control_msg *h = primary_halt(v);
        size_t i;
        int acked = -1;

        if (!v->redis_ok) {
                fprintf(out, "UNKNOWN: whether the relayer is halted cannot be told (Redis)\n");
                return;
        }
        if (!v->halted) {
                fprintf(out, "RUNNING: no halt in force%s\n",
                        v->nproblems > 0 ? ", but not healthy (problems below)" : "");
                return;
        }
        if (h == NULL) {
                fprintf(out, "HALTED: %zu open halt%s (none of them verifies)\n", v->nopen,
                        v->nopen == 1 ? "" : "s");
                return;
        }
        fprintf(out, "HALTED since %s: %s (%s): %s\n", h->issued_at, h->invariant, h->severity,
                h->reason);
        fprintf(out, "  halt %s, issued by %s, correlation id %s\n", h->id, h->watchdog_id,
                h->correlation_id);
        for (i = 0; i < v->nopen; i++) {
                if (strcmp(v->open[i].o.halt_id, h->id) == 0)
                        acked = v->open[i].acked;
        }
        if (acked < 0)
                fprintf(out, "  acknowledgement unknown (group %s; see the problems below)\n",
                        v->cfg->consumer_groups[0]);
        else
                fprintf(out, "  %s by the relayer (group %s)\n", ack_word(acked),
                        v->cfg->consumer_groups[0]);
}

static void print_halts(const struct view *v, FILE *out)
{
        size_t i;

        if (!v->redis_ok)
                return;
        if (v->halt.found)
                fprintf(out, "halt key %s: %s%s%s%s\n", v->keys.halt_key,
                        v->halt.verified ? "verified, " : "NOT VERIFIED: ",
                        v->halt.verified ? v->halt.role : v->halt.error,
                        v->halt.verified ? " key " : "", v->halt.verified ? v->halt.m.key_id : "");
        else
                fprintf(out, "halt key %s: not set\n", v->keys.halt_key);
        if (v->nopen == 0)
                return;
        fprintf(out, "open halts:\n");
        for (i = 0; i < v->nopen; i++) {
                const struct open_view *o = &v->open[i];

                fprintf(out, "  %-24s %s entry %s, %s\n", o->o.field, o->o.halt_id, o->o.entry_id,
                        ack_word(o->acked));
                if (o->msg.verified)
                        fprintf(out, "  %-24s issued %s by %s (%s key %s): %s\n", "",
                                o->msg.m.issued_at, o->msg.m.watchdog_id, o->msg.role,
                                o->msg.m.key_id, o->msg.m.reason);
                else
                        fprintf(out, "  %-24s NOT VERIFIED: %s\n", "", o->msg.error);
        }
}

static void print_health(const struct view *v, FILE *out)
{
        const struct config *c = v->cfg;

        if (!v->redis_ok)
                return;
        if (v->consumers_known)
                fprintf(out,
                        "relayer consumers: %zu live of %zu in group %s (active in the last "
                        "%" PRIu64 " ms)\n",
                        v->live, v->total, c->consumer_groups[0], c->consumer_idle_ms);
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

                fprintf(out, "  %-9s %s %s%s\n", json_str(ep, "chain"), json_str(ep, "endpoint"),
                        ok ? "ok" : "FAILING: ", ok ? "" : json_str(ep, "error"));
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

static void print_text(const struct view *v, FILE *out)
{
        size_t i;

        print_headline(v, out);
        print_halts(v, out);
        print_health(v, out);
        print_cycle(v, out);
        print_incidents(v, out);
        print_alerts(v, out);
        print_silences(v, out);
        if (v->nproblems > 0) {
                fprintf(out, "\nproblems:\n");
                for (i = 0; i < v->nproblems; i++)
                        fprintf(out, "  - %s\n", v->problems[i]);
        }
}

static cJSON *msg_json(const struct seen_msg *s)
{
        cJSON *o = cJSON_CreateObject();

        if (o == NULL)
                return NULL;
        cJSON_AddBoolToObject(o, "verified", s->verified);
        if (!s->verified) {
                cJSON_AddStringToObject(o, "error", s->error);
                return o;
        }
        cJSON_AddStringToObject(o, "key_role", s->role);
        cJSON_AddStringToObject(o, "key_id", s->m.key_id);
        cJSON_AddStringToObject(o, "id", s->m.id);
        cJSON_AddStringToObject(o, "invariant", s->m.invariant);
        cJSON_AddStringToObject(o, "severity", s->m.severity);
        cJSON_AddStringToObject(o, "reason", s->m.reason);
        cJSON_AddStringToObject(o, "issued_at", s->m.issued_at);
        cJSON_AddStringToObject(o, "watchdog_id", s->m.watchdog_id);
        cJSON_AddStringToObject(o, "correlation_id", s->m.correlation_id);
        return o;
}

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
        cJSON_AddBoolToObject(root, "healthy", v->redis_ok && v->nproblems == 0);
        cJSON_AddNumberToObject(root, "exit_code", exit_code(v));
        if (v->redis_ok) {
                o = v->halt.found ? msg_json(&v->halt) : cJSON_CreateNull();
                ok = ok && add(root, "halt_key", o);
                list = cJSON_AddArrayToObject(root, "open_halts");
                for (i = 0; ok && list != NULL && i < v->nopen; i++) {
                        const struct open_view *ov = &v->open[i];
                        cJSON *e = cJSON_CreateObject();

                        ok = e != NULL && cJSON_AddItemToArray(list, e);
                        if (!ok) {
                                cJSON_Delete(e);
                                break;
                        }
                        cJSON_AddStringToObject(e, "invariant", ov->o.field);
                        cJSON_AddStringToObject(e, "halt_id", ov->o.halt_id);
                        cJSON_AddStringToObject(e, "entry_id", ov->o.entry_id);
                        if (ov->acked < 0)
                                cJSON_AddNullToObject(e, "acknowledged");
                        else
                                cJSON_AddBoolToObject(e, "acknowledged", ov->acked);
                        ok = add(e, "msg", msg_json(&ov->msg));
                }
                ok = ok && list != NULL;
                if (ok && (o = cJSON_AddObjectToObject(root, "consumers")) != NULL) {
                        cJSON_AddStringToObject(o, "group", v->cfg->consumer_groups[0]);
                        if (v->consumers_known) {
                                cJSON_AddNumberToObject(o, "live", (double)v->live);
                                cJSON_AddNumberToObject(o, "total", (double)v->total);
                        }
                }
                if (ok && (o = cJSON_AddObjectToObject(root, "heartbeat")) != NULL) {
                        cJSON_AddStringToObject(o, "key", v->cfg->heartbeat_key);
                        cJSON_AddBoolToObject(o, "present", v->hb_found);
                        cJSON_AddBoolToObject(o, "verified", v->hb_verified);
                        if (v->hb_verified) {
                                cJSON_AddNumberToObject(o, "age_ms",
                                                        (double)(v->now_ms - v->hb_issued_ms));
                                cJSON_AddNumberToObject(o, "ttl_ms", (double)v->hb_ttl_ms);
                        } else {
                                cJSON_AddStringToObject(o, "error", v->hb_error);
                        }
                        cJSON_AddNumberToObject(o, "pttl_ms", (double)v->hb_pttl_ms);
                }
        }
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
                seen_free(&v->halt);
                for (k = 0; k < v->nopen; k++)
                        seen_free(&v->open[k].msg);
                free(v->open);
                free(v->silences);
                cJSON_Delete(v->status);
        }
        free(v);
        cli_setup_release(&s);
        return code;
}
