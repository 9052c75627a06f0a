/*
 * http_server: what operators look at while `relaywatch run` works —
 * Prometheus metrics, the three Kubernetes probes, the status JSON, the
 * on-call page and the runbooks — over HTTP, with libmicrohttpd.
 *
 *   GET /metrics           the last text the loop published (Prometheus 0.0.4)
 *   GET /health/live       200 while the loop turns, else 503
 *   GET /health/ready      200 when the loop turns, the halt path is up and
 *                          Tier 1 was evaluated within the blind limit
 *   GET /health/startup    200 once the first cycle is done
 *   GET /status            the JSON of `relaywatch status --json`
 *   GET /                  the on-call page, with that JSON inside
 *   GET /runbooks/NAME.md  a runbook, as compiled into the binary
 *
 * The server runs on its own thread and never calls into the loop: the
 * loop publishes (http_server_set_metrics, http_server_set_health) and the
 * handlers read what was published last, under a mutex held for a pointer
 * swap or a copy. The status JSON is made on a second thread of the
 * server's (http_server_options.status_json) when a client asks for it and
 * what it has is older than status_max_age_ms; meanwhile the older copy is
 * served. So a slow client, a slow Redis or a thousand idle connections
 * cost the loop nothing: at most max_connections are open (half of them
 * from any one address, so one client cannot take the probes' room), each
 * closed after timeout_s without traffic.
 *
 * Only GET and HEAD (405 otherwise); a request with a body is refused
 * (413); unknown paths are 404. With a token, everything but the probes
 * needs "Authorization: Bearer TOKEN" or "?token=TOKEN" (401 otherwise);
 * the comparison takes the same time whatever the guess.
 */
#ifndef RELAYWATCH_HTTP_SERVER_H
#define RELAYWATCH_HTTP_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "rwerr.h"

#define HTTP_PROBLEM_MAX 256

struct http_server;

struct http_server_options {
        const char *host;           /* "127.0.0.1", "[::1]", "localhost" or "*" (every address) */
        unsigned port;              /* 0: a free port (http_server_port tells which) */
        const char *token;          /* copied; NULL: no authentication */
        unsigned max_connections;   /* open at once; more are refused at accept */
        unsigned timeout_s;         /* an idle connection is closed after */
        uint64_t status_max_age_ms; /* a /status older than this is made again; 0: 2000 */
        /*
         * Makes the /status JSON (malloc'd text, *len its length), or NULL.
         * Called on the server's status thread, never on the loop's.
         */
        char *(*status_json)(void *ctx, size_t *len);
        void *status_ctx;
};

/*
 * What the probes judge, as the loop last saw it. Monotonic milliseconds
 * (rwclock_mono_ms); the probes compare them with the time of the request,
 * so a loop that stopped turning stops being live without telling anyone.
 */
struct http_health {
        uint64_t tick_mono_ms;  /* the loop's last turn */
        uint64_t live_limit_ms; /* not live when the last turn is older than this */
        int halt_path_up;
        char halt_path_problem[HTTP_PROBLEM_MAX]; /* why not, when !halt_path_up */
        int tier1_evaluated;                      /* some cycle evaluated every Tier 1 check */
        uint64_t tier1_mono_ms;                   /* the last such cycle's end */
        uint64_t blind_limit_ms;
        uint64_t cycles; /* cycles reported; startup is done after the first */
};

/*
 * Binds and starts serving. NULL with `err` naming the address and the
 * reason (address in use, bad host) when it cannot.
 */
struct http_server *http_server_start(const struct http_server_options *opt, struct rwerr *err);

/* The port it listens on. */
unsigned http_server_port(const struct http_server *s);

/* Publishes the /metrics text: takes `text` (malloc'd, len bytes); frees the one it replaces. */
void http_server_set_metrics(struct http_server *s, char *text, size_t len);

/* Publishes what the probes judge (copied). */
void http_server_set_health(struct http_server *s, const struct http_health *h);

/* Requests counted since the start, per answer class, for a log line: 2xx, 4xx, 5xx. */
void http_server_counts(const struct http_server *s, uint64_t *ok, uint64_t *client_errors,
                        uint64_t *server_errors);

/* Stops the threads, closes every connection and frees `s`. Accepts NULL. */
void http_server_stop(struct http_server *s);

#endif
