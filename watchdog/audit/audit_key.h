/*
 * audit_key: the audit log's signing key, which evolves by epoch so that a
 * key stolen today cannot sign yesterday's checkpoints.
 *
 * The key lives in the log's directory:
 *
 *     audit.key       the current epoch's secret key, mode 0600:
 *                     "relaywatch-audit-key-v1 EPOCH STARTED_UNIX_S BASE64(secret)\n"
 *     audit.key.pub   the genesis (epoch 0) public key, in the format of
 *                     signing_key.h ("relaywatch-ed25519-public-v1 ..."):
 *                     the one verifiers and witnesses pin
 *     audit.key.next  the next epoch's secret while a rotation is under way
 *
 * At the end of an epoch the log draws a new key pair, keeps it in
 * audit.key.next, writes a key_epoch record that the old key certifies
 * (audit_key_cert_message), and then commits: the old audit.key is
 * overwritten with zeros and fsync'd, audit.key.next is renamed over it, and
 * the old secret is wiped from memory (sodium_memzero through
 * signing_key_free). A crash in between leaves audit.key.next, which
 * audit_key_open hands back so the log can finish or abandon the rotation.
 *
 * On a journaling or flash file system the zeroed blocks may survive in
 * the journal or in remapped cells; the runbook says so.
 */
#ifndef RELAYWATCH_AUDIT_KEY_H
#define RELAYWATCH_AUDIT_KEY_H

#include <stddef.h>
#include <stdint.h>

#include "rwerr.h"
#include "signing_key.h"

#define AUDIT_KEY_FILE "audit.key"
#define AUDIT_KEY_PUB_FILE "audit.key.pub"
#define AUDIT_KEY_NEXT_FILE "audit.key.next"
#define AUDIT_KEY_HEADER "relaywatch-audit-key-v1"
#define AUDIT_KEY_CERT_MAX 512

/* One epoch's key. Secret parts are in sodium_malloc'd memory; free with audit_key_free. */
struct audit_key {
        struct signing_key *key; /* the secret, with its public half and key_id */
        uint64_t epoch;
        int64_t started_s; /* wall-clock second the epoch began */
};

/*
 * Opens the key of the log in `dir`. When neither audit.key nor
 * audit.key.pub exists and `create` is set, makes the genesis key (epoch 0,
 * started now) and its .pub. *next is the audit.key.next a crash left (NULL
 * when none); the caller decides with the log whether to commit or abandon
 * it. RW_ERR_REFUSED names a missing or unreadable audit.key next to an
 * existing log.
 */
int audit_key_open(const char *dir, int create, int64_t now_s, struct audit_key **cur,
                   struct audit_key **next, struct rwerr *err) __attribute__((warn_unused_result));

/* A new key for epoch cur->epoch + 1, started at now_s, saved (fsync'd) as audit.key.next. */
int audit_key_prepare_next(const char *dir, const struct audit_key *cur, int64_t now_s,
                           struct audit_key **next, struct rwerr *err)
        __attribute__((warn_unused_result));

/*
 * Makes `next` the key: zeroes audit.key on disk, renames audit.key.next
 * over it, and frees *cur (wiped). On success *cur = next.
 */
int audit_key_commit(const char *dir, struct audit_key **cur, struct audit_key *next,
                     struct rwerr *err) __attribute__((warn_unused_result));

/* Drops a prepared next key: zeroes and removes audit.key.next, frees next. */
void audit_key_abandon(const char *dir, struct audit_key *next);

/* Wipes and frees; NULL ok. */
void audit_key_free(struct audit_key *k);

/*
 * The bytes the previous epoch's key signs to certify epoch `epoch`'s
 * public key: "relaywatch-audit-key/v1\n<origin>\n<epoch>\n<base64 pk>\n".
 * Returns its length, or 0 when it does not fit in out[AUDIT_KEY_CERT_MAX].
 */
size_t audit_key_cert_message(const char *origin, uint64_t epoch,
                              const unsigned char pk[SIGNING_KEY_PUBLIC_BYTES],
                              char out[AUDIT_KEY_CERT_MAX]);

#endif
