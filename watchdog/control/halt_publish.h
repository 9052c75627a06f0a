/*
 * halt_publish: every Redis operation on the relayer's control keys
 * (the README's control-stream protocol, version 1; the keys are listed below).
 *
 * Publishing is idempotent inside Redis itself: one Lua script per
 * operation decides and writes atomically, so any number of relaywatch
 * replicas (and retries after a crash) yield one HALT per incident.
 *
 * The keys, with their defaults (config [control]):
 *
 *   stream      relayer:control            entries {msg, sig}, written only by relaywatch
 *   halt_key    relayer:halt               HASH {msg, sig}: the first HALT of the halt in force
 *   marker_base relayer:control:published  MARKER_BASE:ID, SET NX once per message id
 *   incidents   relayer:control:incidents  HASH invariant (or "MANUAL") -> "HALT_ID ENTRY_ID"
 *                                          of the HALT in force for it
 *   resumed     relayer:control:resumed    HASH invariant -> the halt id a forced RESUME
 *                                          lifted while the violation persisted; the
 *                                          supervisor does not halt again for it until it
 *                                          has seen it ok (halt_publish_clear_resumed)
 *
 * A member left NULL in struct halt_publish_keys is derived from the
 * stream name: STREAM:published, STREAM:incidents, STREAM:resumed.
 *
 * Errors: RW_ERR_IO when Redis cannot be reached or the connection broke
 * (the caller keeps a HALT in its outbox), RW_ERR_REMOTE when Redis refused
 * a command, RW_ERR_PROTOCOL for a reply of an unexpected shape; every
 * message names the key and what was wrong. After RW_ERR_IO the context
 * must not be used again (hiredis: reconnect).
 */
#ifndef RELAYWATCH_HALT_PUBLISH_H
#define RELAYWATCH_HALT_PUBLISH_H

#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

#include "control_msg.h"
#include "rwerr.h"

struct config;

#define HALT_PUBLISH_ENTRY_ID_SIZE 48 /* "1700000000000-0" and room to spare */
#define HALT_PUBLISH_FIELD_SIZE 64    /* an incidents field: an invariant name or "MANUAL" */
#define HALT_PUBLISH_KEY_MAX 256      /* a key name, derived ones included */
#define HALT_PUBLISH_MANUAL "MANUAL"  /* the incidents field of a manual halt */

/* Key names; borrowed, they must outlive every call that uses them. */
struct halt_publish_keys {
        const char *stream;      /* the control stream */
        const char *halt_key;    /* the durable halt hash; NULL: none is set or deleted */
        const char *marker_base; /* NULL: STREAM:published */
        const char *incidents;   /* NULL: STREAM:incidents */
        const char *resumed;     /* NULL: STREAM:resumed */
};

/* The defaults above: relayer:control, relayer:halt, relayer:control:{published,incidents,resumed}. */
void halt_publish_default_keys(struct halt_publish_keys *k);

/*
 * The stream and the halt key of `c` ([control] stream, halt_key; borrowed
 * from `c`, which must outlive `k`); the other names derive from the stream.
 */
void halt_publish_keys_from_config(struct halt_publish_keys *k, const struct config *c);

enum halt_publish_outcome {
        HALT_PUBLISHED = 1,    /* this call put the HALT on the stream */
        HALT_ALREADY_OPEN = 2, /* a HALT for this incidents field is in force already */
        HALT_ALREADY_SENT = 3, /* this message id was published before (marker exists) */
        HALT_RESUMED_OPEN = 4, /* an operator forced a RESUME while this invariant was violated */
};

struct halt_publish_result {
        enum halt_publish_outcome outcome;
        /* PUBLISHED: ours; ALREADY_OPEN: the open halt's entry; "" otherwise */
        char entry_id[HALT_PUBLISH_ENTRY_ID_SIZE];
        /* the id in force: ours (PUBLISHED, ALREADY_SENT), the open one's (ALREADY_OPEN,
         * maybe another replica's), or the one the forced RESUME lifted (RESUMED_OPEN) */
        char halt_id[CONTROL_ID_SIZE];
};

/*
 * Publishes a signed HALT (msg/sig exact bytes, from control_msg) with
 * message id `id` for the incident `incident_field` (its invariant, or
 * HALT_PUBLISH_MANUAL). One Lua script, atomically:
 *   1. a field other than MANUAL present in `resumed`  -> HALT_RESUMED_OPEN
 *      (nothing is published until the supervisor saw the invariant ok and
 *      cleared the field);
 *   2. a HALT in force for the field in `incidents`    -> HALT_ALREADY_OPEN;
 *   3. SET NX of MARKER_BASE:ID fails                  -> HALT_ALREADY_SENT;
 *   4. XADD msg/sig, HSET incidents field "ID ENTRY", and HSET the halt key
 *      msg/sig when it does not exist                  -> HALT_PUBLISHED.
 * On RW_OK *res is filled; on failure res->outcome is 0.
 */
int halt_publish(redisContext *ctx, const struct halt_publish_keys *k, const char *id,
                 const char *incident_field, const char *msg, size_t msg_len, const char *sig,
                 struct halt_publish_result *res, struct rwerr *err)
        __attribute__((warn_unused_result));

enum halt_resume_outcome {
        HALT_RESUME_ALREADY_SENT = 0, /* the marker of this RESUME id existed: nothing written */
        HALT_RESUME_PUBLISHED = 1,    /* on the stream */
        HALT_RESUME_NOT_LISTED = 2,   /* a HALT in `incidents` is not in lifts: nothing written */
};

struct halt_publish_resume_result {
        int outcome;                               /* enum halt_resume_outcome */
        char entry_id[HALT_PUBLISH_ENTRY_ID_SIZE]; /* PUBLISHED */
        char halt_id[CONTROL_ID_SIZE];             /* NOT_LISTED: the HALT it would leave */
};

/*
 * Publishes a signed RESUME with message id `id` that lifts the HALT ids
 * lifts[0..nlifts) (the msg's `lifts`), atomically: when a HALT in force
 * in `incidents` is not among them (it came after the RESUME was signed)
 * nothing happens (NOT_LISTED: sign a new RESUME); when the marker
 * MARKER_BASE:ID exists nothing happens (ALREADY_SENT); else XADD, and when
 * `forced` copy each incidents field but MANUAL into `resumed` (value: its
 * halt id), then DEL incidents, the halt key and the acknowledgement hash
 * STREAM:ack:HALT_ID of every HALT lifted (PUBLISHED).
 */
int halt_publish_resume(redisContext *ctx, const struct halt_publish_keys *k, const char *id,
                        const char *msg, size_t msg_len, const char *sig, int forced,
                        const char *const *lifts, size_t nlifts,
                        struct halt_publish_resume_result *res, struct rwerr *err)
        __attribute__((warn_unused_result));

/* HDELs `resumed` fields invariants[0..n): those that evaluated ok. n == 0 sends nothing. */
int halt_publish_clear_resumed(redisContext *ctx, const struct halt_publish_keys *k,
                               const char *const *invariants, size_t n, struct rwerr *err)
        __attribute__((warn_unused_result));

/* One open halt, as `incidents` holds it. */
struct halt_publish_open {
        char field[HALT_PUBLISH_FIELD_SIZE];
        char halt_id[CONTROL_ID_SIZE];
        char entry_id[HALT_PUBLISH_ENTRY_ID_SIZE];
};

/*
 * The open halts (HGETALL incidents), sorted by entry id. On RW_OK *out is
 * a malloc'd array of *n entries (NULL when there are none) that the caller
 * frees with free(); on failure *out is NULL and *n 0. A value that is not
 * "HALT_ID ENTRY_ID" is an error naming the key and the field.
 */
int halt_publish_open_halts(redisContext *ctx, const struct halt_publish_keys *k,
                            struct halt_publish_open **out, size_t *n, struct rwerr *err)
        __attribute__((warn_unused_result));

/*
 * Which of the relayer instances' groups[0..ngroups) acknowledged HALT
 * `halt_id` (PROTOCOL.md section 8): HMGET STREAM:ack:HALT_ID GROUP...;
 * acked[i] is 1 when groups[i] has a field there. A missing hash is no
 * acknowledgement; one of another type is RW_ERR_PROTOCOL.
 */
int halt_publish_acks(redisContext *ctx, const struct halt_publish_keys *k, const char *halt_id,
                      const char *const *groups, size_t ngroups, int *acked, struct rwerr *err)
        __attribute__((warn_unused_result));

#define HALT_PUBLISH_VERSIONS_SIZE 64

/*
 * The protocol versions relayer group `group` announced (HGET
 * STREAM:clients GROUP, e.g. "1" or "1,2"); "" when it announced none.
 */
int halt_publish_client_versions(redisContext *ctx, const struct halt_publish_keys *k,
                                 const char *group, char versions[HALT_PUBLISH_VERSIONS_SIZE],
                                 struct rwerr *err) __attribute__((warn_unused_result));

/* 1 when the comma-separated list `versions` names `version`. */
int halt_publish_versions_include(const char *versions, int version);

/*
 * The consumers of `group` (XINFO CONSUMERS): *total of them, *live those
 * idle for less than idle_ms. Redis before 7.2 resets a consumer's idle
 * time only when a read delivers entries, so a relayer blocked in
 * XREADGROUP on a quiet stream looks idle there; such a consumer also
 * counts as live when a client connection named exactly like it (CLIENT
 * SETNAME CONSUMER, what the reference consumer does) sent a command less
 * than idle_ms ago (CLIENT LIST; skipped when that command is not allowed).
 * RW_ERR_REFUSED when the group (or the stream) does not exist. Both 0 on
 * failure.
 */
int halt_publish_live_consumers(redisContext *ctx, const struct halt_publish_keys *k,
                                const char *group, uint64_t idle_ms, size_t *live, size_t *total,
                                struct rwerr *err) __attribute__((warn_unused_result));

/*
 * Reads the stream entry `entry_id` (XRANGE): *found 0 when the stream has
 * no such entry (trimmed or never there). When found, *msg is a malloc'd
 * NUL-terminated copy of its `msg` field of *msg_len bytes (caller frees
 * with free()) and sig its `sig` field. An entry without both fields, or
 * with a msg longer than CONTROL_MSG_MAX or a sig that does not fit, is an
 * RW_ERR_PROTOCOL naming the entry. On failure *msg is NULL.
 */
int halt_publish_read_entry(redisContext *ctx, const struct halt_publish_keys *k,
                            const char *entry_id, int *found, char **msg, size_t *msg_len,
                            char sig[CONTROL_SIG_B64_SIZE], struct rwerr *err)
        __attribute__((warn_unused_result));

/*
 * Reads the halt key (HGETALL): *found 0 when it does not exist. Same
 * ownership and checks as halt_publish_read_entry.
 */
int halt_publish_read_halt_key(redisContext *ctx, const struct halt_publish_keys *k, int *found,
                               char **msg, size_t *msg_len, char sig[CONTROL_SIG_B64_SIZE],
                               struct rwerr *err) __attribute__((warn_unused_result));

/*
 * Compares two stream entry ids "MS-SEQ" as numbers (not as text): <0, 0,
 * >0 into *cmp. RW_ERR_INVALID naming the id that is not of that form.
 */
int halt_publish_entry_id_cmp(const char *a, const char *b, int *cmp, struct rwerr *err)
        __attribute__((warn_unused_result));

#endif
