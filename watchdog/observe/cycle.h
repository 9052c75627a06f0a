/*
 * cycle: one observe → evaluate pass, shared by `relaywatch validate` and
 * the supervisor, so what an operator checks by hand is exactly what the
 * daemon checks.
 *
 * cycle_run observes, evaluates every check, and when a Tier 1 violation
 * seen through one endpoint needs confirming (invariant.h, the quorum)
 * reads the chain's other endpoints at the same heights and evaluates
 * again. It does not act: halting, alerting and cursors belong to the caller.
 */
#ifndef RELAYWATCH_CYCLE_H
#define RELAYWATCH_CYCLE_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "cycle_result.h"
#include "invariant.h"
#include "observe.h"
#include "snapshot.h"

/*
 * Runs one cycle into `out` (zeroed here). `previous_cycle_ms` is the
 * duration of the caller's previous cycle (0: none), for HIGH_LATENCY.
 * Returns RW_OK, or an error only when memory ran out; read failures are
 * verdicts. Release `out` with cycle_result_release in every case.
 */
int cycle_run(struct observer *o, const struct invariant_params *params,
              const struct observe_window *w, uint64_t previous_cycle_ms, struct cycle_result *out,
              struct rwerr *err) __attribute__((warn_unused_result));

/*
 * One full validate cycle on `cfg` (borrowed): what `relaywatch validate`
 * runs and what `relaywatch resume` runs before it resumes. A new observer
 * for this one cycle, every check from the deploy blocks, no cursor moved,
 * nothing acted on. Fills *out; release it with cycle_result_release in
 * every case. RW_OK, or an error when the observer cannot be set up or
 * memory ran out (read failures are verdicts, not errors).
 */
int cycle_validate(const struct config *cfg, struct cycle_result *out, struct rwerr *err)
        __attribute__((warn_unused_result));

/* A new random correlation id (32 hex digits, no "0x") into `out` (33 bytes or more). */
void cycle_new_correlation_id(char *out, size_t cap);

#endif
