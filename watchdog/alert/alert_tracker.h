/*
 * alert_tracker: turns verdicts and findings into alert events, once.
 *
 * Lives on the supervisor's loop thread and never blocks: it hands events
 * to the sender's queue (alert_sender.h) and returns.
 *
 *   alert_tracker_observe  after halt control has acted on a cycle: each
 *                          Tier 1 and Tier 2 verdict that is violated is an
 *                          alert per subject it names (evidence
 *                          "subjects"), severity from the escalation table
 *                          (README): Tier 1 in enforce mode CRITICAL,
 *                          shadow mode WARNING; RPC_TIMEOUT,
 *                          DB_CONNECTION_LOST, ENDPOINT_DISAGREEMENT ERROR;
 *                          other Tier 2 WARNING. An open alert whose verdict
 *                          is ok again starts to clear; could-not-evaluate
 *                          changes nothing (WATCHDOG_BLIND speaks for it).
 *   alert_tracker_finding  a finding sink (finding.h): a finding opens its
 *                          alert (subject from the finding) or, with
 *                          `cleared`, starts to clear it. A finding about a
 *                          HALT (HALT_NOT_ACKNOWLEDGED, HALT_NOT_EFFECTIVE)
 *                          re-pages the open alert that caused the HALT
 *                          (same dedup key, updated summary) instead of
 *                          opening a page of its own, and again every
 *                          repage_s while it stands.
 *   alert_tracker_tick     on the loop's timer: resolves alerts that stayed
 *                          clear for flap_window_s, re-sends firing alerts
 *                          to Alertmanager routes (resend_s), reads the
 *                          silences again when the file changed, sends what
 *                          a silence held once it ends, turns route
 *                          failures into ALERT_DELIVERY_FAILED, and sends the
 *                          daily report at report_at.
 *
 * Once: an alert opens once per incident. A worse figure (the summary
 * changes) sends an update on the same dedup key; the same figure sends
 * nothing. A verdict that goes ok and violated again within flap_window_s
 * is the same alert (no new page). The open alerts are kept in
 * STATE_DIR/alerts.json (rewritten atomically on every change), so a
 * restart does not page again; the sender's Redis claim keeps a second
 * replica from paging again.
 */
#ifndef RELAYWATCH_ALERT_TRACKER_H
#define RELAYWATCH_ALERT_TRACKER_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "cycle_result.h"
#include "finding.h"
#include "rwerr.h"

struct cJSON;
struct alert_sender;
struct alert_tracker;

/*
 * A tracker for `cfg` handing events to `sender` (both borrowed; `sender`
 * may be NULL: events are tracked, kept and logged but not sent). Loads
 * the open alerts and the silences; a file that cannot be read is logged
 * and set aside (renamed *.unreadable), never fatal. NULL on OOM.
 */
struct alert_tracker *alert_tracker_new(const struct config *cfg, struct alert_sender *sender,
                                        struct rwerr *err);
void alert_tracker_free(struct alert_tracker *t);

/* A reload: the new config and sender (borrowed); the open alerts stay. */
void alert_tracker_reconfigure(struct alert_tracker *t, const struct config *cfg,
                               struct alert_sender *sender);

/*
 * Lends the audit log (borrowed; NULL: none): every page carries its
 * checkpoint (written when the alert opens or resolves), and alert events
 * and silences added, removed and expired are recorded there.
 */
struct audit_sink;
void alert_tracker_set_audit(struct alert_tracker *t, const struct audit_sink *sink);

/* A HALT in force and the invariant that caused it (halt control knows them). */
struct alert_halt_ref {
        const char *invariant;
        const char *halt_id;
};

/*
 * The alerts a cycle's result calls for. `halts` (nhalts entries, may be
 * NULL) name the HALT each Tier 1 alert caused, for its page and for the
 * re-pages of HALT_NOT_ACKNOWLEDGED / HALT_NOT_EFFECTIVE.
 */
void alert_tracker_observe(struct alert_tracker *t, const struct cycle_result *r,
                           const struct alert_halt_ref *halts, size_t nhalts,
                           const char *correlation_id);

/* The finding sink: register with finding_journal_add_sink(j, &(sink){alert_tracker_sink, t}). */
void alert_tracker_sink(void *tracker, const struct finding *f);

/* The timer's work (see above); call it about once a second. */
void alert_tracker_tick(struct alert_tracker *t);

/* Adds "alerts" (open ones, with silenced flags) and "silences" to `status`. -1 on OOM. */
int alert_tracker_status_json(const struct alert_tracker *t, struct cJSON *status);

#endif
