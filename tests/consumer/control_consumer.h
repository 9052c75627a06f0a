/*
 * control_consumer: the reference relayer side of relaywatch's control
 * stream. docs/PROTOCOL.md (version 1) is the contract; this is one
 * implementation of it, checked against the conformance vectors of
 * docs/protocol-vectors/ (test_control_consumer). Copy it into your
 * relayer, or read it as the protocol in C.
 *
 * How a relayer uses it:
 *
 *     c = control_consumer_open(&cfg, &err);       NULL only for a bad cfg
 *     for (;;) {
 *             control_consumer_poll(c, 0, &err);   before every step that sends a transaction
 *             if (!control_consumer_may_run(c)) {
 *                     ...finish or abandon nothing in flight, then...
 *                     control_consumer_confirm_stopped(c, &err);   acknowledges the HALTs
 *                     control_consumer_poll(c, 100, &err);         wait for a RESUME
 *                     continue;
 *             }
 *             ...one relayer step...
 *     }
 *     control_consumer_close(c);
 *
 * What it does, and why (the section numbers are PROTOCOL.md's):
 *
 * - Open connects to Redis, names the connection after the consumer
 *   (CLIENT SETNAME: relaywatch tells a live consumer by it), creates its
 *   group if it is missing (XGROUP CREATE stream group 0 MKSTREAM, BUSYGROUP
 *   ignored: from 0, so a new group reads every HALT and RESUME on the
 *   stream, in order) and announces the protocol versions it implements
 *   (HSET STREAM:clients GROUP 1, section 10). Then, once, it reads the
 *   durable halt key (section 7): a HALT there that passes every check is
 *   in force from the start, so a relayer that restarts after missing the
 *   stream still stops; one that does not is logged and ignored. Then it
 *   re-reads its own pending entries (XREADGROUP ... 0: delivered before a
 *   restart and never acked, such as a HALT it had not yet confirmed), and
 *   then new ones (>). When Redis cannot be reached, open still returns a
 *   consumer, failed safe, and every poll tries again (at most once a second).
 *
 * - Every entry is judged by control_state (control_state.h) in the order
 *   of section 6.1: exactly one msg and one sig field, msg at most 65,536
 *   bytes, the signature of a watchdog or operator key over the exact
 *   bytes, strict UTF-8 and JSON with no duplicate names, version 1, every
 *   field and its rule, key_id the key that verified, a RESUME signed by an
 *   operator key, and no replay. A rejected entry changes nothing: it is
 *   logged with its entry id, the rejection's name and the (escaped)
 *   detail, and XACKed at once ("read", not "stopped").
 *
 * - A valid HALT halts: its id joins the HALTs in force. Its entry stays
 *   pending until the relayer calls control_consumer_confirm_stopped, which
 *   writes the acknowledgement HSET STREAM:ack:HALT_ID GROUP STOPPED_AT
 *   (UTC, YYYY-MM-DDTHH:MM:SS.mmmZ) for every HALT in force, those from the
 *   halt key included, and then XACKs their entries (section 8).
 *   relaywatch pages when the acknowledgement does not come in time.
 *
 * - A valid RESUME lifts exactly the HALTs it lists in `lifts` (section
 *   6.2); the relayer stays halted while any other is in force. It is
 *   XACKed at once, with the entries of the HALTs it lifted that were not
 *   acked yet. Replays are refused without any clock (section 6.3): a
 *   message id accepted before, or a RESUME that lifts no HALT in force
 *   (an old RESUME copied onto the stream names HALTs no longer in force).
 *   A replayed old HALT this consumer does not remember does halt:
 *   stopping is the safe side.
 *
 * - Nothing raw from the stream reaches a log line: rejection details are
 *   escaped by control_state, and what is logged from an accepted message
 *   (invariant, reason, correlation id, chain names) is escaped here:
 *   control characters, bidirectional overrides and bytes that are not
 *   UTF-8 become \xNN.
 *
 * - With require_heartbeat, every poll reads the heartbeat key and checks it
 *   with heartbeat_check and the watchdog keys (section 9): missing,
 *   unverifiable or stale means fail safe (may not run) until a fresh one
 *   is there again. That pause is not a halt: it is not acknowledged.
 *
 * - Redis unreachable or answering errors means fail safe too; the
 *   connection is dropped and made again on a later poll, which XACKs what
 *   could not be acked and re-reads the pending entries (those it judged
 *   already are not judged twice). A poll never returns sooner than
 *   block_ms when Redis is down, so a loop around it does not spin.
 *
 * Every decision goes through cfg.log (level "info", "warn" or "error"; an
 * event name: halt, resume, rejected, acked, halt_key, halt_key_rejected,
 * redis_down, redis_ok, heartbeat_bad, heartbeat_ok; a human detail);
 * changes of the heartbeat or Redis state are logged on the transition
 * only. Single-threaded: one consumer, one thread.
 */
#ifndef RELAYWATCH_CONTROL_CONSUMER_H
#define RELAYWATCH_CONTROL_CONSUMER_H

#include <stddef.h>

#include "rwerr.h"
#include "signing_key.h"

#define CONTROL_CONSUMER_DEFAULT_STREAM "relayer:control"
#define CONTROL_CONSUMER_DEFAULT_GROUP "relayer"
#define CONTROL_CONSUMER_DEFAULT_CONSUMER "relayer-1"
#define CONTROL_CONSUMER_DEFAULT_HALT_KEY "relayer:halt"
#define CONTROL_CONSUMER_DEFAULT_HEARTBEAT_KEY "relayer:watchdog:heartbeat"
#define CONTROL_CONSUMER_DEFAULT_TIMEOUT_MS 1000L
#define CONTROL_CONSUMER_BLOCK_MAX_MS 60000L /* a longer poll block is cut to this */

struct control_consumer_config {
        const char *redis_url; /* redis://[[USER]:PASSWORD@]HOST[:PORT][/DB], required */
        /* NULL for the defaults above */
        const char *stream, *group, *consumer, *halt_key, *heartbeat_key;
        const struct verify_key *watchdog_keys; /* may sign HALT and heartbeats */
        size_t nwatchdog_keys;
        /* may sign HALT and RESUME; never the same key as a watchdog key */
        const struct verify_key *operator_keys;
        size_t noperator_keys;
        int require_heartbeat; /* fail safe (may not run) without a fresh, valid heartbeat */
        long redis_timeout_ms; /* per Redis command; 0 for the default */
        /* Every decision is logged through it; NULL drops the lines. */
        void (*log)(void *ctx, const char *level, const char *event, const char *detail);
        void *log_ctx;
};

struct control_consumer;

/*
 * Copies everything cfg points to (the consumer keeps no pointer into it,
 * except log_ctx) and does a first poll with no wait. Returns NULL only for
 * a config that cannot work (no URL, a malformed URL, no keys, a key in
 * both roles, a heartbeat required without watchdog keys) or no memory,
 * with err filled. When Redis cannot be reached the consumer is returned
 * failed safe and err names the Redis problem. Free with
 * control_consumer_close.
 */
struct control_consumer *control_consumer_open(const struct control_consumer_config *cfg,
                                               struct rwerr *err);

/* Closes the connection and frees; NULL is allowed. */
void control_consumer_close(struct control_consumer *c);

/*
 * Reads and processes new entries, waiting up to block_ms (0: do not wait;
 * at most CONTROL_CONSUMER_BLOCK_MAX_MS) for the first, then checks the
 * heartbeat when it is required. Returns RW_OK, or the code of the Redis
 * failure (the consumer is then failed safe and err says why). A rejected
 * entry or a bad heartbeat is not an error of the poll: see may_run.
 */
int control_consumer_poll(struct control_consumer *c, long block_ms, struct rwerr *err);

/* 1 when the relayer may send transactions: not halted and not failed safe. */
int control_consumer_may_run(const struct control_consumer *c);

/* Why it may not run ("running" when it may); owned by c, valid until the next call on c. */
const char *control_consumer_reason(const struct control_consumer *c);

/*
 * Tells relaywatch the relayer has stopped: for every HALT in force not
 * acknowledged yet, HSET STREAM:ack:HALT_ID GROUP STOPPED_AT (now, UTC);
 * then XACKs the stream entries of the HALTs in force. Call it only once
 * nothing is in flight. RW_OK (also when there was nothing to do), or the
 * code of the Redis failure; what was not written is kept for the next call.
 */
int control_consumer_confirm_stopped(struct control_consumer *c, struct rwerr *err);

#endif
