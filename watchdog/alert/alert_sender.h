/*
 * alert_sender: delivers alert events, apart from the checks.
 *
 * A thread of its own ("rw-alert") takes events from a bounded queue that
 * never blocks the caller (the supervisor's loop), and delivers each one
 * through every route whose severities include the event's severity (a
 * resolve goes where its trigger went; a test or a report to the routes it
 * names). One slow, failing or hanging receiver delays nobody else:
 * deliveries run side by side through curl multi, in order per route (a
 * resolve never overtakes its trigger), at most one in flight per route,
 * each attempt bounded by the route's timeout_ms.
 *
 * Claims. Before an alert opens or resolves, the sender claims the event
 * in Redis (SET NX under cfg->claim_prefix with the dedup key and the
 * opening number), so two replicas watching one bridge page once. When
 * Redis cannot be reached the event is sent anyway: a duplicate page beats
 * a missing one. Updates, tests and reports are not claimed.
 *
 * Retries: 429, 5xx, timeouts and network errors are retried with
 * exponential backoff and jitter (1 s doubling to 5 min; Retry-After
 * honoured), up to the route's max_attempts; then the message goes to the
 * spool, STATE_DIR/alert-spool.jsonl (fsync'd), retried every
 * spool_retry_s and at the next start, so nothing is silently dropped. A
 * route whose messages go to the spool raises ALERT_DELIVERY_FAILED
 * through the other routes (alert_sender_take_failures); it resolves when
 * the spool of that route is empty again. 4xx other than 429 is rejected:
 * logged with the receiver's answer, not retried, and also counts as a
 * delivery failure. A per-route min_interval_ms spaces messages out.
 *
 * Nothing here logs a URL, a routing key, a secret or a password.
 */
#ifndef RELAYWATCH_ALERT_SENDER_H
#define RELAYWATCH_ALERT_SENDER_H

#include <stddef.h>
#include <stdint.h>

#include "alert.h"
#include "config.h"
#include "rwerr.h"

struct cJSON;
struct alert_sender;

#define ALERT_QUEUE_MAX 1024

/*
 * A sender for `cfg` (borrowed: it must outlive the sender, so a reload
 * makes a new sender and frees the old one after alert_sender_stop). Loads
 * the spool. NULL on OOM or when the spool cannot be read (`err` says so).
 * Nothing runs until alert_sender_start.
 */
struct alert_sender *alert_sender_new(const struct config *cfg, struct rwerr *err);

/* Starts the thread. RW_OK, or RW_ERR_NOMEM / RW_ERR_IO. */
int alert_sender_start(struct alert_sender *s);

/*
 * Stops the thread: what is in flight is given up to `grace_ms` (monotonic)
 * to finish, and what still waits is written to the spool, so a restart
 * sends it. Then frees everything. Accepts NULL.
 */
void alert_sender_free(struct alert_sender *s, uint64_t grace_ms);

/*
 * Queues a copy of `a`. `route` names the one route to use (tests and
 * `relaywatch alert test`), or NULL for the routing by severity. Never
 * blocks: RW_ERR_RANGE when the queue is full (the caller keeps it and
 * tries later), RW_ERR_NOMEM. Safe from any thread.
 */
int alert_sender_submit(struct alert_sender *s, const struct alert *a, const char *route);

/*
 * Routes whose delivery state changed since the last call: for each, its
 * name, 1 when it now fails (a message reached the spool or was rejected)
 * or 0 when it works again (its spool emptied), and the last problem.
 * Fills at most `cap` entries; returns how many. Safe from any thread.
 */
struct alert_route_change {
        char route[64];
        int failing;
        char problem[RWERR_MSG_MAX];
};
size_t alert_sender_take_failures(struct alert_sender *s, struct alert_route_change *out,
                                  size_t cap);

/*
 * Adds "alert_routes" to `status`: per route its type, queued, in flight,
 * spooled, delivered, failed, retried, the last problem. -1 on OOM.
 */
int alert_sender_status_json(struct alert_sender *s, struct cJSON *status);

/*
 * Delivers `a` through `route` once, now, on the calling thread, without
 * retries, claims or spool: `relaywatch alert test`. `status` gets the
 * HTTP status or SMTP code (0 when none came), `answer` the start of the
 * receiver's answer. Returns the outcome's RW code (RW_OK when delivered).
 */
int alert_send_once(const struct config *cfg, const struct config_alert_route *route,
                    const struct alert *a, long *status, char *answer, size_t cap,
                    struct rwerr *err);

#endif
