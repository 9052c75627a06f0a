/*
 * heartbeat: the signed "watchdog is alive" key a relayer checks so it can
 * fail safe when its watchdog disappears (the README's control-stream
 * protocol, version 1).
 *
 * The heartbeat key (default relayer:watchdog:heartbeat) is a HASH with two
 * fields, set again on every healthy cycle and given a TTL each time:
 *
 *   msg  unformatted JSON, fields in this order:
 *        {"v":1,"type":"HEARTBEAT","watchdog_id":"...",
 *         "issued_at":"YYYY-MM-DDTHH:MM:SS.mmmZ","issued_at_ms":<int>,
 *         "ttl_ms":<int>,"key_id":"<16 hex>"}
 *   sig  Ed25519 over exactly the bytes of msg, base64 (control_msg_sign)
 *
 * A consumer accepts a heartbeat only when the signature verifies with one
 * of the watchdog's public keys, `key_id` names that key, issued_at and
 * issued_at_ms say the same instant, and it is fresh:
 *
 *   now_ms - issued_at_ms <= ttl_ms + HEARTBEAT_CLOCK_SLACK_MS
 *   issued_at_ms - now_ms <= HEARTBEAT_CLOCK_SLACK_MS
 *
 * The key's own TTL removes a heartbeat nobody renews; the check above is
 * what makes a replayed old heartbeat useless to someone with Redis access.
 */
#ifndef RELAYWATCH_HEARTBEAT_H
#define RELAYWATCH_HEARTBEAT_H

#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

#include "rwerr.h"
#include "signing_key.h"

#define HEARTBEAT_MSG_MAX 512           /* a longer msg is refused before it is verified */
#define HEARTBEAT_CLOCK_SLACK_MS 1000   /* clock difference allowed between watchdog and relayer */
#define HEARTBEAT_TTL_MAX_MS 86400000LL /* one day: a longer ttl is refused */
#define HEARTBEAT_WATCHDOG_ID_MAX 128   /* bytes of watchdog_id */

/*
 * Builds the heartbeat msg for `watchdog_id` issued at unix time now_ms,
 * valid for ttl_ms (1 .. HEARTBEAT_TTL_MAX_MS), naming the signing key
 * key_id (16 lowercase hex digits). Writes the NUL-terminated text into
 * out[0..cap) and its length (without the NUL) into *len. RW_ERR_INVALID
 * for a bad argument, RW_ERR_RANGE when the text does not fit in `cap` or
 * in HEARTBEAT_MSG_MAX; on failure out is "" and *len 0.
 */
int heartbeat_build(const char *watchdog_id, int64_t now_ms, int64_t ttl_ms, const char *key_id,
                    char *out, size_t cap, size_t *len, struct rwerr *err)
        __attribute__((warn_unused_result));

/*
 * Verifies msg[0..len) and sig_b64 (NUL-terminated) with keys[0..nkeys),
 * parses it strictly and checks its freshness against now_ms (unix ms).
 * Returns the index of the key that verified and fills *issued_ms and
 * *ttl_ms, or a negative code with both set to 0:
 *   RW_ERR_RANGE    msg longer than HEARTBEAT_MSG_MAX, or issued in the future
 *   RW_ERR_INVALID  bad signature text, no keys, or a msg that is not a heartbeat
 *   RW_ERR_REFUSED  no key verifies it, or key_id is not the key that did
 *   RW_ERR_TIMEOUT  stale: older than its ttl_ms plus the clock slack
 */
int heartbeat_check(const struct verify_key *keys, size_t nkeys, const char *msg, size_t len,
                    const char *sig_b64, int64_t now_ms, int64_t *issued_ms, int64_t *ttl_ms,
                    struct rwerr *err) __attribute__((warn_unused_result));

/*
 * Replaces the heartbeat hash `key` with exactly {msg, sig} and gives it a
 * TTL of ttl_ms, atomically (one Lua script: DEL, HSET, PEXPIRE).
 * RW_ERR_IO when Redis cannot be reached, RW_ERR_REMOTE when it refuses.
 */
int heartbeat_publish(redisContext *ctx, const char *key, const char *msg, size_t len,
                      const char *sig, int64_t ttl_ms, struct rwerr *err)
        __attribute__((warn_unused_result));

#endif
