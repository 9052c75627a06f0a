/*
 * halt_control: the act side of a halt. Turns a cycle's enforce-mode Tier 1
 * violations into signed HALTs on the relayer's control stream, and then
 * watches that they work.
 *
 *   halt_control_act     right after evaluation, before anything else:
 *                        one HALT per incident (one per invariant while it
 *                        is open), published idempotently (halt_publish.h),
 *                        or put in the fsync'd outbox when Redis cannot be
 *                        reached; then the incident is saved on disk
 *                        (halt_state.h).
 *   halt_control_watch   after the cycle's other work: delivers the outbox
 *                        (oldest first; also the first thing after a
 *                        start), checks each halt's acknowledgement
 *                        (HALT_NOT_ACKNOWLEDGED after ack_timeout_ms) and
 *                        its effect (HALT_NOT_EFFECTIVE when the relayer's
 *                        nonces or the ledger's operations move on after
 *                        the ack), notices RESUMEs, checks the halt path
 *                        (HALT_PATH_DOWN: Redis, a live consumer in the
 *                        relayer's group, the signing key, the halt state
 *                        on disk) and refreshes the signed heartbeat while
 *                        all is well.
 *
 * Findings go to the finding journal given at creation. Nothing here
 * blocks for longer than the Redis timeout of one exchange.
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
struct dbconn;
struct halt_control;

/*
 * Creates the halt side for `cfg` (borrowed; must outlive it) reporting to
 * `journal` (borrowed). Loads the signing key and the halt state and opens
 * the outbox; what fails there does not fail creation: it is a halt path
 * problem, reported by every watch until fixed. NULL only when `cfg` has no
 * [control] section or memory ran out (`err` says which).
 */
struct halt_control *halt_control_new(const struct config *cfg, struct finding_journal *journal,
                                      struct rwerr *err);
void halt_control_free(struct halt_control *hc);

/* Publishes what the cycle's verdicts call for (see above). */
void halt_control_act(struct halt_control *hc, const struct cycle_result *r);

/*
 * Everything else (see above). `db` (may be NULL) receives the halt and
 * finding records; a failure there is logged, never fatal.
 */
void halt_control_watch(struct halt_control *hc, const struct cycle_result *r, struct dbconn *db);

/*
 * Delivers what waits in the outbox, oldest first; 1 when it is empty
 * afterwards. Used at start, by every watch, and between cycles while
 * something waits (Redis connection attempts follow a backoff of 0.1 s
 * growing to 5 s, so calling it often is cheap).
 */
int halt_control_deliver(struct halt_control *hc, const char *correlation_id);

/* Messages waiting in the outbox, as of the last look. */
size_t halt_control_outbox_waiting(const struct halt_control *hc);

/* 1 when the halt path is up, the halt state readable and the heartbeat was set last watch. */
int halt_control_healthy(const struct halt_control *hc);

/* The open incidents (borrowed, valid until the next call on hc). */
const struct halt_state *halt_control_state(const struct halt_control *hc);

/*
 * Adds "halt_path", "heartbeat" and "incidents" to `status` (the object
 * written to status.json). 0, or -1 on OOM.
 */
int halt_control_status_json(const struct halt_control *hc, struct cJSON *status);

#endif
