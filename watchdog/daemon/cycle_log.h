/*
 * cycle_log: the supervisor's log lines about its cycles.
 *
 * One "cycle" line per cycle (debug while every Tier 1 check passes, info
 * otherwise), one "cycle_failed" line for a cycle that could not run, and
 * one "verdict" line per check that is not ok: when its status changes,
 * and again every CYCLE_LOG_REPEAT_MS while it stays so, so a standing
 * violation is neither silent nor logged every block. A check that comes
 * back is logged once as "verdict_ok".
 */
#ifndef RELAYWATCH_CYCLE_LOG_H
#define RELAYWATCH_CYCLE_LOG_H

#include <stdint.h>

#include "cycle_result.h"

#define CYCLE_LOG_REPEAT_MS 60000
#define CYCLE_LOG_VERDICTS_MAX 64 /* invariant_count + 1, with room */

/* What was last logged of each check. A zeroed one is ready. */
struct cycle_log {
        enum verdict_status status[CYCLE_LOG_VERDICTS_MAX];
        uint64_t logged_mono_ms[CYCLE_LOG_VERDICTS_MAX];
};

/* Logs cycle `r` (full: a full sweep) at monotonic time `now_mono_ms`. */
void cycle_log_result(struct cycle_log *log, const struct cycle_result *r, int full,
                      uint64_t now_mono_ms);

/* Logs a cycle that could not run (nothing was evaluated). */
void cycle_log_failure(const char *correlation_id, uint64_t number, const char *reason);

#endif
