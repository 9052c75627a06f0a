/*
 * halt_control: the act side of a halt. Turns a cycle's enforce-mode Tier 1
 * violations into signed HALTs on the relayer's control stream, and then
 * watches that they work. It lives on the supervisor's loop thread:
 *
 *   halt_control_act      as soon as a cycle's result arrives, before
 *                         anything else: one HALT per incident (one per
 *                         invariant while it is open), published
 *                         idempotently (halt_publish.h), or put in the
 *                         fsync'd outbox when Redis cannot be reached; then
 *                         the incident is saved on disk (halt_state.h).
 *   halt_control_observe  right after: what the result says about the open
 *                         incidents (HALT_NOT_EFFECTIVE when the relayer's
 *                         nonces or the ledger's operations move on after
 *                         the ack; incidents an operator forced a RESUME
 *                         over that now pass), and the time of the last
 *                         Tier 1 evaluation.
 *   halt_control_tick     on the loop's timer, whatever the cycles do:
 *                         delivers the outbox (oldest first), notices
 *                         RESUMEs, checks each halt's acknowledgement
 *                         (HALT_NOT_ACKNOWLEDGED after ack_timeout_ms),
 *                         checks the halt path (HALT_PATH_DOWN: Redis, a
 *                         live consumer in the relayer's group, the signing
 *                         key, the halt state on disk), raises
 *                         WATCHDOG_BLIND when no Tier 1 evaluation came for
 *                         blind_limit_ms, and refreshes the signed
 *                         heartbeat while all is well and it is not blind.
 *
 * Every duration (ack deadline, blind limit, Redis reconnect backoff,
 * reminders) is on the monotonic clock. Findings go to the finding journal
 * given at creation; halts, acknowledgements and findings for
 * relaywatch_state go to the record queue, which the cycle thread writes.
 * Nothing here blocks for longer than the Redis timeout of one exchange.
 */
#ifndef RELAYWATCH_HALT_CONTROL_H
#define RELAYWATCH_HALT_CONTROL_H

#include <stdint.h>

#include "config.h"
#include "cycle_result.h"
#include "finding.h"
#include "halt_state.h"
#include "rwerr.h"

struct cJSON;
struct halt_control;
struct record_queue;

/*
 * Creates the halt side for `cfg` (borrowed; must outlive it) reporting to
 * `journal` and queueing records to `records` (both borrowed; `records` may
 * be NULL: no database records). Loads the signing key and the halt state and opens
 * the outbox; what fails there does not fail creation: it is a halt path
 * problem, reported by every tick until fixed. NULL only when `cfg` has no
 * [control] section or memory ran out (`err` says which).
 */
struct halt_control *halt_control_new(const struct config *cfg, struct finding_journal *journal,
                                      struct record_queue *records, struct rwerr *err);
void halt_control_free(struct halt_control *hc);

/*
 * Lends the audit log (borrowed; it must outlive hc, or be set to NULL):
 * every HALT carries its latest checkpoint, and what halt control does
 * (halts published, queued, delivered, acknowledged, lifted; RESUMEs and
 * HALTs by others seen on the stream) is recorded there.
 */
struct audit_sink;
void halt_control_set_audit(struct halt_control *hc, const struct audit_sink *sink);

/* Publishes what the cycle's verdicts call for (see above). */
/* Whether halt_control_act would publish a new HALT for `r` (a violation with none in force). */
int halt_control_will_halt(struct halt_control *hc, const struct cycle_result *r);

void halt_control_act(struct halt_control *hc, const struct cycle_result *r);

/* What the result says about the open incidents (see above); after halt_control_act. */
void halt_control_observe(struct halt_control *hc, const struct cycle_result *r);

/* The timer's work (see above). Call it well inside heartbeat_ttl_ms. */
void halt_control_tick(struct halt_control *hc);

/* 1 while WATCHDOG_BLIND stands (as of the last tick). */
int halt_control_blind(const struct halt_control *hc);

/*
 * Delivers what waits in the outbox, oldest first; 1 when it is empty
 * afterwards. Used at start, by every tick, and more often while
 * something waits (Redis connection attempts follow a backoff of 0.1 s
 * growing to 5 s, so calling it often is cheap).
 */
int halt_control_deliver(struct halt_control *hc, const char *correlation_id);

/* Messages waiting in the outbox, as of the last look. */
size_t halt_control_outbox_waiting(const struct halt_control *hc);

/* 1 when the halt path is up, the halt state readable and the heartbeat was set last tick. */
int halt_control_healthy(const struct halt_control *hc);

/* The open incidents (borrowed, valid until the next call on hc). */
const struct halt_state *halt_control_state(const struct halt_control *hc);

/*
 * Adds "halt_path", "heartbeat" and "incidents" to `status` (the object
 * written to status.json). 0, or -1 on OOM.
 */
int halt_control_status_json(const struct halt_control *hc, struct cJSON *status);

#endif
