/*
 * http_view: what the supervisor shows over HTTP (http_server.h) and how
 * it keeps it current: the metrics accumulator (metrics.h) fed by every
 * cycle report, every finding and every halt record, the /metrics text
 * rendered from it and the status object after each report and tick, and
 * what the probes judge.
 *
 * Everything here runs on the loop's thread except the server's own
 * threads, which only read what was published. The view counts even when
 * there is no server ([http] listen = off, or it could not start: the
 * watchdog's job is to watch, and a port in use must not stop it), so a
 * reload that turns the server on finds the counts. NULL views (out of
 * memory at the start) are accepted everywhere.
 */
#ifndef RELAYWATCH_HTTP_VIEW_H
#define RELAYWATCH_HTTP_VIEW_H

#include <stddef.h>
#include <stdint.h>

#include "audit_sink.h"
#include "finding.h"

struct cJSON;
struct config;
struct cycle_report;
struct http_view;

struct http_view_options {
        char *(*status_json)(void *ctx, size_t *len); /* the /status JSON; see http_server.h */
        void *status_ctx;
        int64_t started_unix_ms;
};

/*
 * A new view, serving as [http] says: with no server when it is off or
 * could not start (logged as http_failed with the reason). NULL only when
 * out of memory (logged).
 */
struct http_view *http_view_start(const struct config *cfg, const struct http_view_options *opt);

/* A finding sink that counts findings for relaywatch_findings_total. */
struct finding_sink http_view_finding_sink(struct http_view *v);

/*
 * An audit sink that counts the halt records (published, acknowledged,
 * lifted) and passes everything to `inner`. The returned sink lives as
 * long as `v`; with a NULL view it is `inner` itself. Loop thread only.
 */
const struct audit_sink *http_view_audit_tee(struct http_view *v, const struct audit_sink *inner);

/* Counts a cycle's report into the metrics. */
void http_view_cycle(struct http_view *v, const struct cycle_report *rep, int64_t now_unix_ms);

/*
 * Publishes the metrics (rendered with `status`, the object just written
 * to status.json) and the probes' health. Called after each report and
 * each tick.
 */
void http_view_publish(struct http_view *v, const struct cJSON *status, int halt_path_up,
                       uint64_t tick_ms, const struct config *cfg);

/*
 * After a reload: keeps the server when [http] did not change, else
 * stops it and starts the new one (a failure is logged). The counts stay.
 */
void http_view_reconfigure(struct http_view *v, const struct config *cfg,
                           const struct http_view_options *opt);

/* Stops the server and frees everything. Accepts NULL. */
void http_view_free(struct http_view *v);

#endif
