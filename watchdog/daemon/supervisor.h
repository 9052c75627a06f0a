/*
 * supervisor: `relaywatch run`, the loop that runs for months.
 *
 * Each cycle: observe → evaluate (cycle.h) → act: the halt first
 * (halt_control_act), then the cycle's log lines, then the watch of halts,
 * the halt path and the heartbeat (halt_control_watch), then
 * STATE_DIR/status.json for `relaywatch status`, then a systemd watchdog
 * keep-alive.
 *
 * When: in interval mode a cycle starts every interval_ms; in block mode
 * both chains' heads are polled every poll_ms and a cycle runs on every
 * new block of either, and at least every interval_ms without one (the
 * heartbeat and the halt checks must go on when no block comes). A cycle
 * reads incrementally after cursors that advance only after a cycle in
 * which every Tier 1 check passed, and a full sweep runs at the start,
 * after a reload and at least every full_sweep_s.
 *
 * Signals: SIGTERM and SIGINT finish the current cycle and stop; SIGHUP
 * reads the config again and switches to it only when it is valid (a bad
 * one is logged with every problem and the running config stays). The
 * signals are blocked and taken with sigtimedwait between cycles, so no
 * handler runs in the middle of one.
 *
 * systemd Type=notify: READY=1 after the outbox is delivered at start,
 * STATUS= after every cycle, WATCHDOG=1 after every completed cycle (set
 * WatchdogSec above the longest cycle you expect, failovers included),
 * RELOADING=1 / READY=1 around a reload, STOPPING=1 at the end.
 */
#ifndef RELAYWATCH_SUPERVISOR_H
#define RELAYWATCH_SUPERVISOR_H

#include <stdint.h>

struct supervisor_options {
        const char *config_path; /* as config_path() resolved it */
        uint64_t max_cycles; /* 0: until a signal; else stop after this many (tests, benchmarks) */
};

/*
 * Runs until SIGTERM/SIGINT (or max_cycles). Returns 0 after a clean stop,
 * 1 when it could not start (the reason is logged), 2 for a usage problem
 * in the config. Logs go to stderr as JSON lines (jsonlog.h).
 */
int supervisor_run(const struct supervisor_options *opt);

#endif
