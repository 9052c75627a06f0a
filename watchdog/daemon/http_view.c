#include "http_view.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <sodium.h>

#include "config.h"
#include "cycle_worker.h"
#include "http_server.h"
#include "jsonlog.h"
#include "metrics.h"
#include "rwclock.h"
#include "version.h"

#define LIVE_LIMIT_MIN_MS 5000 /* a loop that has not turned for this long is not live */
#define LIVE_LIMIT_TICKS 5     /* or for this many ticks, when longer */

struct http_view {
        struct http_server *server;
        struct metrics *metrics;
        /* what the server was started with, to tell whether a reload changes it */
        char host[sizeof((struct config *)0)->http_host];
        unsigned port, max_connections, timeout_s;
        char *token;
        /* the probes' memory of the cycles */
        uint64_t cycles;
        int tier1_evaluated;
        uint64_t tier1_mono_ms;
        struct audit_sink tee;
        const struct audit_sink *inner;
};

static struct http_server *start_server(struct http_view *v, const struct config *cfg,
                                        const struct http_view_options *opt)
{
        struct http_server_options so;
        struct http_server *s;
        struct rwerr err;

        memset(&so, 0, sizeof so);
        so.host = cfg->http_host;
        so.port = cfg->http_port;
        so.token = cfg->http_token;
        so.max_connections = cfg->http_max_connections;
        so.timeout_s = cfg->http_timeout_s;
        so.status_json = opt->status_json;
        so.status_ctx = opt->status_ctx;
        if ((s = http_server_start(&so, &err)) == NULL) {
                jsonlog_message(JSONLOG_ERROR, "http_failed", NULL,
                                "%s; the watchdog goes on without /metrics, the probes and "
                                "the on-call page",
                                err.msg);
                return NULL;
        }
        jsonlog_message(JSONLOG_INFO, "http_listening", NULL,
                        "serving /metrics, /health/*, /status and the on-call page on "
                        "http://%s:%u/%s",
                        strcmp(cfg->http_host, "*") == 0 ? "0.0.0.0" : cfg->http_host,
                        http_server_port(s), cfg->http_token != NULL ? " (token required)" : "");
        (void)memcpy(v->host, cfg->http_host, sizeof v->host);
        v->port = cfg->http_port;
        v->max_connections = cfg->http_max_connections;
        v->timeout_s = cfg->http_timeout_s;
        if (v->token != NULL) {
                sodium_memzero(v->token, strlen(v->token));
                free(v->token);
        }
        v->token = cfg->http_token != NULL ? strdup(cfg->http_token) : NULL;
        return s;
}

struct http_view *http_view_start(const struct config *cfg, const struct http_view_options *opt)
{
        struct http_view *v;
        struct metrics_info mi = {
                .version = RELAYWATCH_VERSION,
                .started_unix_ms = opt->started_unix_ms,
                .blind_limit_ms = cfg->blind_limit_ms,
                .cycle_target_ms = cfg->params.watchdog_cycle_ms,
        };

        if ((v = calloc(1, sizeof *v)) == NULL || (v->metrics = metrics_new(&mi)) == NULL) {
                free(v);
                jsonlog_message(JSONLOG_ERROR, "http_failed", NULL,
                                "out of memory for the HTTP endpoints; the watchdog goes on "
                                "without them");
                return NULL;
        }
        if (cfg->http_enabled)
                v->server = start_server(v, cfg, opt);
        return v;
}

/* ------------------------------------------------------------ counting */

static void count_finding(void *ctx, const struct finding *f)
{
        metrics_count_finding(((struct http_view *)ctx)->metrics, f->kind,
                              finding_severity_name(f->severity));
}

struct finding_sink http_view_finding_sink(struct http_view *v)
{
        struct finding_sink s = {count_finding, v};

        return s;
}

static void tee_record(void *ctx, const char *kind, const char *correlation_id,
                       const struct cJSON *content, int durable)
{
        struct http_view *v = ctx;

        metrics_count_record(v->metrics, kind);
        audit_sink_record(v->inner, kind, correlation_id, content, durable);
}

static int tee_latest(void *ctx, struct audit_ref *out)
{
        return audit_sink_latest(((struct http_view *)ctx)->inner, out);
}

static int tee_checkpoint(void *ctx, const char *correlation_id, struct audit_ref *out)
{
        return audit_sink_checkpoint(((struct http_view *)ctx)->inner, correlation_id, out);
}

const struct audit_sink *http_view_audit_tee(struct http_view *v, const struct audit_sink *inner)
{
        if (v == NULL)
                return inner;
        v->inner = inner;
        v->tee.record = tee_record;
        v->tee.latest = tee_latest;
        v->tee.checkpoint = tee_checkpoint;
        v->tee.ctx = v;
        return &v->tee;
}

void http_view_cycle(struct http_view *v, const struct cycle_report *rep, int64_t now_unix_ms)
{
        if (v == NULL)
                return;
        v->cycles++;
        if (!rep->failed && rep->r.tier1 != VERDICT_UNKNOWN) {
                v->tier1_evaluated = 1;
                v->tier1_mono_ms = rwclock_mono_ms();
        }
        if (metrics_observe_cycle(v->metrics, rep->failed ? NULL : &rep->r, now_unix_ms) != 0)
                jsonlog_message(JSONLOG_WARN, "metrics_incomplete", rep->r.snapshot.correlation_id,
                                "out of memory copying the cycle's figures for /metrics; the "
                                "last ones stay");
}

/* ------------------------------------------------------------ publishing */

/* The first problem status.json lists for the halt path, or "". */
static const char *halt_path_problem(const cJSON *status)
{
        const cJSON *path = cJSON_GetObjectItemCaseSensitive(status, "halt_path");
        const cJSON *problems = cJSON_GetObjectItemCaseSensitive(path, "problems");
        const cJSON *first = cJSON_GetArrayItem(problems, 0);

        return cJSON_IsString(first) ? first->valuestring : "";
}

void http_view_publish(struct http_view *v, const cJSON *status, int halt_path_up, uint64_t tick_ms,
                       const struct config *cfg)
{
        struct http_health h;
        size_t len = 0;
        char *text;

        if (v == NULL || v->server == NULL)
                return;
        memset(&h, 0, sizeof h);
        h.tick_mono_ms = rwclock_mono_ms();
        h.live_limit_ms = tick_ms * LIVE_LIMIT_TICKS > LIVE_LIMIT_MIN_MS
                                  ? tick_ms * LIVE_LIMIT_TICKS
                                  : LIVE_LIMIT_MIN_MS;
        h.halt_path_up = halt_path_up;
        if (!halt_path_up)
                (void)snprintf(h.halt_path_problem, sizeof h.halt_path_problem, "%s",
                               halt_path_problem(status));
        h.tier1_evaluated = v->tier1_evaluated;
        h.tier1_mono_ms = v->tier1_mono_ms;
        h.blind_limit_ms = cfg->blind_limit_ms;
        h.cycles = v->cycles;
        http_server_set_health(v->server, &h);
        if ((text = metrics_render(v->metrics, status, rwclock_wall_ms(), &len)) != NULL)
                http_server_set_metrics(v->server, text, len);
}

/* ------------------------------------------------------------ reload and free */

static int same_server(const struct http_view *v, const struct config *cfg)
{
        return strcmp(v->host, cfg->http_host) == 0 && v->port == cfg->http_port &&
               v->max_connections == cfg->http_max_connections &&
               v->timeout_s == cfg->http_timeout_s &&
               (v->token == NULL) == (cfg->http_token == NULL) &&
               (v->token == NULL || strcmp(v->token, cfg->http_token) == 0);
}

void http_view_reconfigure(struct http_view *v, const struct config *cfg,
                           const struct http_view_options *opt)
{
        if (v == NULL || (v->server != NULL && cfg->http_enabled && same_server(v, cfg)))
                return;
        if (v->server != NULL && !cfg->http_enabled)
                jsonlog_message(JSONLOG_INFO, "http_stopped", NULL,
                                "[http] listen = off: the HTTP endpoints are closed");
        http_server_stop(v->server); /* the port is free again before the new one binds */
        v->server = cfg->http_enabled ? start_server(v, cfg, opt) : NULL;
}

void http_view_free(struct http_view *v)
{
        if (v == NULL)
                return;
        http_server_stop(v->server);
        metrics_free(v->metrics);
        if (v->token != NULL) {
                sodium_memzero(v->token, strlen(v->token));
                free(v->token);
        }
        free(v);
}
