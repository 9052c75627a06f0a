/*
 * audit_record: one line of the audit log.
 *
 * A record is one JSON object on one line, its members always in this order:
 *
 *     {"seq":N,"ts":"2026-12-03T12:00:00.123Z","kind":"KIND",
 *      "correlation_id":"ID","content":{...}}
 *
 * `seq` counts from 0 across every file of one log, `ts` is the wall-clock
 * time it was written (UTC, milliseconds), `kind` says what happened
 * (AUDIT_KIND_* below, and the event kinds the rest of relaywatch hands
 * over), `correlation_id` ties it to the cycle, command or alert that caused
 * it, and `content` holds the details. The line's bytes, without the
 * newline, are the record's leaf in the Merkle tree (audit_tree.h): they are
 * hashed exactly as written and never re-serialised.
 */
#ifndef RELAYWATCH_AUDIT_RECORD_H
#define RELAYWATCH_AUDIT_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "rwerr.h"

struct cJSON;

#define AUDIT_RECORD_MAX ((size_t)1024 * 1024) /* bytes of one record line */
#define AUDIT_KIND_MAX 64

/* The kinds the log itself writes; the verifier gives these meaning. */
#define AUDIT_KIND_KEY_EPOCH "key_epoch"   /* a (new) audit public key, certified by the last */
#define AUDIT_KIND_CHECKPOINT "checkpoint" /* a signed checkpoint over every record before it */
#define AUDIT_KIND_RECOVERED "recovered"   /* a record cut short by a crash was set aside */

/* A record as read back; `content` and the strings are owned by the record. */
struct audit_record {
        uint64_t seq;
        char ts[32];
        char kind[AUDIT_KIND_MAX];
        char *correlation_id;
        struct cJSON *content; /* an object */
};

/*
 * The line of a record (no newline), in a new NUL-terminated buffer *line
 * of *len bytes that the caller frees. `content` is borrowed and must be an
 * object (NULL: {}). `kind` is 1..AUDIT_KIND_MAX-1 bytes of [a-z0-9_].
 */
int audit_record_format(uint64_t seq, int64_t unix_ms, const char *kind, const char *correlation_id,
                        const struct cJSON *content, char **line, size_t *len, struct rwerr *err)
        __attribute__((warn_unused_result));

/*
 * Reads one line (no newline) back: strict JSON (json_strict.h), exactly the
 * five members in the order above, with their types. On success *out owns
 * what it holds (audit_record_release); on failure it holds nothing and
 * `err` says which member is wrong.
 */
int audit_record_parse(const char *line, size_t len, struct audit_record *out, struct rwerr *err)
        __attribute__((warn_unused_result));

void audit_record_release(struct audit_record *r);

/* "YYYY-MM-DDTHH:MM:SS.mmmZ" for unix_ms, into out[32]. */
void audit_record_time(int64_t unix_ms, char out[32]);

#endif
