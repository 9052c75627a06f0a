/*
 * control_consumer: the reference relayer side of relaywatch's control
 * stream (the README's "The control-stream protocol, for relayer authors",
 * version 1). Copy it into
 * your relayer, or read it as the specification in C.
 *
 * How a relayer uses it:
 *
 *     c = control_consumer_open(&cfg, &err);       NULL only for a bad cfg
 *     for (;;) {
 *             control_consumer_poll(c, 0, &err);   before every step that sends a transaction
 *             if (!control_consumer_may_run(c)) {
 *                     ...finish or abandon nothing in flight, then...
 *                     control_consumer_confirm_stopped(c, &err);   XACKs the HALTs
 *                     control_consumer_poll(c, 100, &err);         wait for RESUME
 *                     continue;
 *             }
 *             ...one relayer step...
 *     }
 *     control_consumer_close(c);
 *
 * What it does, and why:
 *
 * - Open connects to Redis, creates the consumer group if it is missing
 *   (XGROUP CREATE stream group 0 MKSTREAM: a new group reads the whole
 *   stream, so it replays every HALT and RESUME in order), then reads the
 *   durable halt key once: a HALT there that verifies means halted from
 *   the start, so a relayer that restarts after missing the stream still
 *   stops. A halt key that does not verify is logged and ignored. Then it
 *   re-reads this consumer's own pending entries (delivered before a
 *   restart, never acked: a HALT the relayer had not yet confirmed) and
 *   then the new ones. When Redis cannot be reached, open still returns a
 *   consumer, failed safe, and every poll tries again (at most once a second).
 *
 * - Every entry must carry `msg` and `sig`. The msg is checked with
 *   control_msg_check (signature over the exact bytes first, then a strict
 *   parse, then key_id == the key that verified): with the watchdog keys it
 *   may only be a HALT; with the operator keys a HALT or a RESUME. Anything
 *   else (unknown key, altered byte, a RESUME signed by a watchdog key,
 *   garbage) is logged as rejected with the reason, XACKed at once so it
 *   does not sit in the pending list, and changes nothing.
 *
 * - A valid HALT halts. Its entry stays pending until the relayer calls
 *   control_consumer_confirm_stopped, which XACKs it: relaywatch reads the
 *   ack as "the relayer has stopped", and pages when it does not come.
 *
 * - A valid RESUME lifts the halt and is XACKed at once, together with any
 *   HALT still unconfirmed (a restart must not re-read a lifted HALT). A
 *   RESUME issued before the newest HALT in force is refused: it is an old
 *   RESUME replayed by someone with write access to Redis, not an answer to
 *   this halt. (A replayed old HALT does halt: stopping is the safe side.)
 *
 * - With require_heartbeat, every poll reads the heartbeat key and checks it
 *   with heartbeat_check and the watchdog keys: missing, unverifiable or
 *   stale means fail safe (may not run) until a fresh one is there again.
 *
 * - Redis unreachable or answering errors means fail safe too; the
 *   connection is dropped and made again on a later poll. A poll never
 *   returns sooner than block_ms when Redis is down, so a loop around it
 *   does not spin.
 *
 * Every decision goes through cfg.log (level "info", "warn" or "error"; an
 * event name; a human detail); changes of the heartbeat or Redis state are
 * logged on the transition only. Single-threaded: one consumer, one thread.
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
        const struct verify_key *operator_keys; /* may sign HALT and RESUME */
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
 * a config that cannot work (no URL, a malformed URL, no keys, a heartbeat
 * required without watchdog keys) or no memory, with err filled. When Redis
 * cannot be reached the consumer is returned failed safe and err names the
 * Redis problem. Free with control_consumer_close.
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
 * Tells relaywatch the relayer has stopped: XACKs every HALT entry seen
 * since the last call. RW_OK (also when there was nothing to ack), or the
 * code of the Redis failure; unacked entries are kept for the next call.
 */
int control_consumer_confirm_stopped(struct control_consumer *c, struct rwerr *err);

#endif
