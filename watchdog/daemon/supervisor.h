/*
 * supervisor: `relaywatch run`, the loop that runs for months.
 *
 * Two threads with one job each, and a queue between them:
 *
 *   the loop (the calling thread): a libevent loop on the monotonic clock
 *     that owns halt control, the finding journal, the status file and
 *     the systemd notifications. It never waits for a cycle's reads. It
 *     wakes for
 *       - a cycle's report (cycle_worker.h): its audit record (with a
 *         signed checkpoint when a new HALT follows, which the HALT then
 *         carries: a few ms, never a wait), then the halt
 *         (halt_control_act), then the cycle's log lines, then what the
 *         result says about open incidents, then STATE_DIR/status.json and
 *         STATUS= for systemd;
 *       - the tick, every min(1 s, heartbeat_ttl_ms / 3): the outbox, the
 *         acknowledgements, RESUMEs, the halt path, WATCHDOG_BLIND and the
 *         signed heartbeat (halt_control_tick), the status file, the audit
 *         log's batched fsync, checkpoints, key epochs and publication
 *         (audit_trail.h), witnessing another log (witness_mode.h), and
 *         WATCHDOG=1 for systemd while the cycle thread makes progress;
 *       - the outbox retry, every 100 ms while a HALT waits for Redis;
 *       - signals, taken synchronously through a signalfd (no handler
 *         runs): SIGTERM and SIGINT stop (a cycle in progress is cut
 *         short), SIGHUP reloads.
 *   the cycle thread (cycle_worker.h): observes and evaluates, on its
 *     schedule, and hands each report to the loop.
 *
 * A slow or hung RPC provider, a slow ledger or a cycle that fails (even
 * out of memory) costs cycles, never the heartbeat, the outbox or a
 * signal: the heartbeat stops only when WATCHDOG_BLIND fires.
 *
 * SIGHUP reads the config again and switches only when it loads and its
 * keys and state open; a broken one is logged (`reload_refused`, with every
 * problem) and the running one kept. The loop switches at once, the cycle
 * thread before its next cycle (with a full sweep).
 *
 * systemd Type=notify: READY=1 after the outbox left by the last run is
 * delivered (or tried), STATUS= after every cycle, WATCHDOG=1 on the tick
 * while the cycle thread has shown progress within blind_limit_ms,
 * RELOADING=1 / READY=1 around a reload, STOPPING=1 at the end.
 */
#ifndef RELAYWATCH_SUPERVISOR_H
#define RELAYWATCH_SUPERVISOR_H

#include <stddef.h>
#include <stdint.h>

struct supervisor_options {
        const char *config_path; /* as config_path() resolved it */
        uint64_t max_cycles; /* 0: until a signal; else stop after this many (tests, benchmarks) */
        /*
         * GET /status (http_server.h): the JSON of `relaywatch status --json`,
         * made on the HTTP server's own thread; NULL: /status answers 503.
         */
        char *(*status_json)(void *ctx, size_t *len);
        void *status_ctx;
};

/*
 * Runs until SIGTERM/SIGINT (or max_cycles). Returns 0 after a clean stop,
 * 1 when it could not start (the reason is logged), 2 for a usage problem
 * in the config. Logs go to stderr as JSON lines (jsonlog.h).
 */
int supervisor_run(const struct supervisor_options *opt);

#endif
