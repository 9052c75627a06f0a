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
 * Routing. An incident goes to every route whose `severities` has the bit
 * of its severity, and its resolve to the same routes (same severity); an
 * incident of severity INFO goes nowhere (it belongs to the daily report)
 * and is dropped silently. A report goes to the routes with the INFO bit
 * that are not pagerduty or alertmanager. A test, like an incident, by
 * severity unless a route is named; a named route gets the event alone.
 *
 * Claims. Before an incident opens (FIRING, update 0) or resolves, the
 * sender claims the event in Redis, on the sender thread, with one Lua
 * script on the key cfg->claim_prefix + dedup key, so two replicas
 * watching one bridge page once: an opening is lost when the key already
 * holds "firing:…" (whichever replica opened it), else it sets
 * "firing:SEQ" (7 days) and is won; a resolve is lost when the key holds
 * "resolved:…", else it sets "resolved:SEQ" (7 days) and is won. SEQ is
 * the replica's own opening number, kept for people reading Redis: two
 * replicas number their openings apart, so it decides nothing. A lost
 * claim is logged
 * (alert_claimed_elsewhere) and nothing is sent. When Redis cannot be
 * reached, answers an error or no redis_url is configured the event is
 * sent anyway (a duplicate page beats a missing one), logged once per
 * outage. Updates, tests and reports are not claimed.
 *
 * Retries: 429, 5xx, timeouts and network errors are retried with
 * exponential backoff and jitter (1 s doubling to 5 min, +-20 %; a
 * Retry-After is used instead, up to one hour), up to the route's
 * max_attempts; then the message goes to the spool,
 * STATE_DIR/alert-spool.jsonl (one JSON line per (route, alert):
 * {"route", "alert", "attempts", "last_problem"}, rewritten atomically and
 * fsync'd on every change), so nothing is silently dropped. While a route
 * has spooled messages, what arrives for it is spooled behind them (on
 * disk at once), and its spool is retried in order, one attempt per
 * message, every spool_retry_s (and at once after a start): spooled
 * messages always go before the route's newer ones, so order holds across
 * failures and restarts. A route whose messages go to the spool, or whose
 * message is rejected, now fails (alert_sender_take_failures), and the
 * tracker raises ALERT_DELIVERY_FAILED (an ERROR, routed as any); it works
 * again at its next delivery that leaves its spool empty. 4xx other than
 * 408 and 429 is rejected: logged with the receiver's answer (control
 * characters escaped), not retried, not spooled, and counted as a failure.
 * A per-route min_interval_ms spaces the attempts out.
 *
 * The spool at load: a line that cannot be read is logged with its line
 * number and appended to STATE_DIR/alert-spool.unreadable; a line of a
 * route the configuration no longer has is logged and kept in the spool
 * as it is. The routes of the loaded lines count as failing (their failure
 * was reported before the restart), so their recovery is reported.
 *
 * For tests only: RELAYWATCH_ALERT_BACKOFF_SCALE (a number in (0, 1]),
 * read once by alert_sender_new, multiplies the retry backoff (not
 * Retry-After, not spool_retry_s).
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
 * makes a new sender and frees the old one with alert_sender_free first).
 * Loads the spool. NULL on OOM, when cfg->state_dir is NULL or when the
 * spool cannot be read (`err` says so). Nothing runs until
 * alert_sender_start.
 */
struct alert_sender *alert_sender_new(const struct config *cfg, struct rwerr *err);

/*
 * Lends the audit log (borrowed; call before alert_sender_start): each
 * delivery's outcome per route (sent, resolve sent, rejected, spooled after
 * its last attempt) is recorded there from the sender's thread.
 */
struct audit_sink;
void alert_sender_set_audit(struct alert_sender *s, const struct audit_sink *sink);

/* Starts the thread. RW_OK, or RW_ERR_NOMEM / RW_ERR_IO. */
int alert_sender_start(struct alert_sender *s);

/*
 * Stops the thread: what is in flight is given up to `grace_ms` (monotonic)
 * to finish (an attempt cut short counts as one), and what still waits,
 * the submitted events not yet routed included (claimed first), is
 * written to the spool, so a restart sends it. A sender never started
 * writes what was submitted or loaded the same way. Then frees everything.
 * Accepts NULL. No submit may run during or after it.
 */
void alert_sender_free(struct alert_sender *s, uint64_t grace_ms);

/*
 * Queues a copy of `a`. `route` names the one route to use (tests and
 * `relaywatch alert test`), or NULL for the routing by severity. Never
 * blocks beyond a mutex: RW_ERR_RANGE when ALERT_QUEUE_MAX events wait
 * (the caller keeps it and tries later), RW_ERR_INVALID when `route` names
 * no configured route, RW_ERR_NOMEM. Safe from any thread.
 */
int alert_sender_submit(struct alert_sender *s, const struct alert *a, const char *route);

/*
 * Routes whose delivery state changed since the last call, oldest first:
 * for each, its name, 1 when it now fails (a message reached the spool or
 * was rejected) or 0 when it works again (a delivery left its spool
 * empty), and the last problem. Fills at most `cap` entries; returns how
 * many; the rest wait for the next call (at most 4 x CONFIG_ROUTES_MAX
 * are kept: past that the oldest is dropped). Safe from any thread.
 */
struct alert_route_change {
        char route[64];
        int failing;
        char problem[RWERR_MSG_MAX];
};
size_t alert_sender_take_failures(struct alert_sender *s, struct alert_route_change *out,
                                  size_t cap);

/*
 * Adds "alert_routes" to `status`: {NAME: {type, queued (waiting in
 * memory), in_flight (0 or 1), spooled (in the spool file), delivered,
 * failed (rejected or sent to the spool), retried (attempts that will be
 * tried again), failing (a boolean), last_problem}}. 0, or -1 on OOM.
 * Safe from any thread.
 */
int alert_sender_status_json(struct alert_sender *s, struct cJSON *status);

/*
 * Delivers `a` through `route` once, now, on the calling thread, without
 * retries, claims or spool: `relaywatch alert test`. The request and the
 * transfer are set up as the thread's are. `status` gets the HTTP status
 * or SMTP code (0 when none came), `answer` (`cap` bytes) the start of the
 * receiver's answer with control characters escaped as \xNN. RW_OK when
 * delivered; RW_ERR_REMOTE when the receiver answered but did not take it
 * (rejected or to be retried: `err` says which); RW_ERR_TIMEOUT or
 * RW_ERR_IO when no answer came; RW_ERR_INVALID or RW_ERR_NOMEM when the
 * request could not be made.
 */
int alert_send_once(const struct config *cfg, const struct config_alert_route *route,
                    const struct alert *a, long *status, char *answer, size_t cap,
                    struct rwerr *err);

#endif
