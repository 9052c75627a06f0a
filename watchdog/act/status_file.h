/*
 * status_file: STATE_DIR/status.json, what `relaywatch status` reads to
 * tell an operator what the supervisor last saw.
 *
 * status_file_json builds the object from the last cycle's result: the
 * watchdog's identity, when it was written (wall clock, for people, and
 * the monotonic clock, which `relaywatch status` on the same host can
 * compare without trusting the wall clock), the cycle (correlation id,
 * duration, pinned heights, every verdict with its evaluation time, each
 * chain's heights, the bridge's progress and, per asset, the locked and
 * minted figures of the ledger and the chains with their signed deltas)
 * and the endpoints, and the process's own figures (start, cycles). The daemon
 * adds what other rooms know (the halt path, incidents, findings) before
 * status_file_write replaces the file atomically.
 */
#ifndef RELAYWATCH_STATUS_FILE_H
#define RELAYWATCH_STATUS_FILE_H

#include <stdint.h>

#include "cycle_result.h"
#include "rwerr.h"

struct cJSON;

#define STATUS_FILE_NAME "status.json"

struct status_file_info {
        const char *watchdog_id;
        uint64_t interval_ms;
        int healthy;                   /* the halt path is up and the watchdog not blind */
        const struct cycle_result *r;  /* the last cycle; NULL before the first */
        const char *failure;           /* why that cycle could not run, or NULL */
        int full_sweep;                /* that cycle read everything from the deploy blocks */
        int64_t cycle_started_unix_ms; /* when it started, wall clock */
        int64_t started_unix_ms;       /* when the process started ("started_at_ms") */
        uint64_t cycles;               /* cycle reports so far, failed ones included */
        uint64_t cycles_failed;        /* of those, cycles that could not run */
        uint64_t cycle_target_ms;      /* the watchdog's own cycle: HIGH_LATENCY above this */
};

/*
 * In "cycle" (when there is one), beside the existing fields:
 *   "assets": [{"asset", "decimals", "tolerance_units", "ok",
 *               "locked": {"ledger", "chain", "delta"}, "minted": {...}}]
 *     each figure {"base": "<decimal>", "units": "<token units>"}, signed
 *     ("-1.5"): ledger locked = deposited - released, ledger minted =
 *     minted - burnt, chain = view 0's lockbox balance (source) or
 *     totalSupply (execution), delta = ledger minus chain. A figure that
 *     was not read (the ledger, or that chain) is null, and so is its
 *     delta; "ok" is true when both deltas are within the tolerance, false
 *     when one is not, null when a delta is unknown and the other is within.
 *   "chains": [{"chain", "chain_id", "ok", "head", "pinned", "tip",
 *               "confirmations", "depth"}]   (depth = head - pinned)
 *   "progress": {"known", "problem" (when not known), and when known
 *                "deposits", "deposits_pending", "batches_created",
 *                "batches_anchored", "withdrawals", "withdrawals_claimed",
 *                "withdrawals_pending"}
 *   each verdict: "eval_us"
 */

/* A new status object (caller frees with cJSON_Delete), or NULL when out of memory. */
struct cJSON *status_file_json(const struct status_file_info *info);

/* Replaces STATE_DIR/status.json with `status`, printed. RW_OK or the error naming the file. */
int status_file_write(const char *state_dir, const struct cJSON *status, struct rwerr *err)
        __attribute__((warn_unused_result));

#endif
