/*
 * state: relaywatch's own records in the ledger database
 * (relaywatch_state): the running-totals checkpoints, so a restarted
 * watchdog resumes from them and checks them against a full sum first, and
 * the cursors of its incremental reads, every halt it published (with the
 * signed message), the findings that are not halts, and the audit log's
 * signed checkpoints (an auditor's copy outside the log's files).
 *
 * Writes run in a transaction of their own, never inside a cycle's
 * read-only snapshot. Register the statements on the connection first:
 * dbconn_add_statements(c, state_statements, state_nstatements, &err).
 */
#ifndef RELAYWATCH_STATE_H
#define RELAYWATCH_STATE_H

#include <stdint.h>

#include "dbconn.h"
#include "ledger.h"

extern const struct dbconn_statement state_statements[];
extern const size_t state_nstatements;

/*
 * The running totals' checkpoints (relaywatch_state.checkpoints), one per
 * `scope` and side: the scope names the chain whose blocks the side's
 * totals run through ("source=<chain id>" for locked, "execution=<chain id>"
 * for minted), so a configuration watching another chain never reads them.
 */

/* Replaces the checkpoint of (`scope`, `side`) with `totals` through `through_block`, atomically. */
int state_checkpoint_save(struct dbconn *c, const char *scope, enum ledger_side side,
                          const struct ledger_totals *totals, uint64_t through_block,
                          struct rwerr *err) __attribute__((warn_unused_result));

/*
 * Loads the checkpoint of (`scope`, `side`): *found = 0 when there is none.
 * On success with *found the caller frees `out` with ledger_totals_free. All
 * assets of a checkpoint share one block; rows that disagree are an error.
 */
int state_checkpoint_load(struct dbconn *c, const char *scope, enum ledger_side side,
                          struct ledger_totals *out, uint64_t *through_block, int *found,
                          struct rwerr *err) __attribute__((warn_unused_result));

int state_cursor_save(struct dbconn *c, const char *name, int64_t value, struct rwerr *err)
        __attribute__((warn_unused_result));

/* *found = 0 and *value untouched when the cursor was never saved. */
int state_cursor_load(struct dbconn *c, const char *name, int64_t *value, int *found,
                      struct rwerr *err) __attribute__((warn_unused_result));

/*
 * Saves n cursors together, in one transaction of its own (refused inside
 * an open transaction, RW_ERR_INVALID): all of them or, on a failure,
 * none. Names are required, at most STATE_NAME_MAX bytes.
 */
int state_cursors_save(struct dbconn *c, const char *const *names, const int64_t *values, size_t n,
                       struct rwerr *err) __attribute__((warn_unused_result));

/*
 * The known-anchors index (relaywatch_state.anchors, migration 0004): the
 * RootAnchored events the watchdog has checked, per source chain id and
 * root registry address (an index filled under another configuration is
 * never read under this one). An event is identified by (tx hash, root,
 * batch number).
 */
#define STATE_ADDRESS_BYTES 20
#define STATE_ANCHORS_PER_STATEMENT 1000 /* rows sent, or roots asked for, per statement */

struct state_anchor {
        uint8_t root[32];
        uint64_t batch_number;
        uint64_t block_number; /* at most INT64_MAX */
        uint8_t tx_hash[32];
};

/*
 * Adds `n` events to the index of (chain_id, registry: STATE_ADDRESS_BYTES
 * bytes), in autocommit (refused inside an open transaction), one statement
 * per STATE_ANCHORS_PER_STATEMENT events. Idempotent: an event already
 * indexed is left as it is (its first_seen stays). On a failure the
 * statements before it stay applied, which is harmless: add them all again.
 */
int state_anchors_add(struct dbconn *c, uint64_t chain_id, const uint8_t *registry,
                      const struct state_anchor *a, size_t n, struct rwerr *err)
        __attribute__((warn_unused_result));

/*
 * Every indexed event of (chain_id, registry) whose root is one of
 * `roots`, ordered by block. *out is malloc'd (NULL when none): the caller
 * frees it. May run inside a read-only transaction. On an error *out is
 * NULL and *nout 0.
 */
int state_anchors_lookup(struct dbconn *c, uint64_t chain_id, const uint8_t *registry,
                         const uint8_t (*roots)[32], size_t nroots, struct state_anchor **out,
                         size_t *nout, struct rwerr *err) __attribute__((warn_unused_result));

/*
 * Halts and findings (relaywatch_state.halts, relaywatch_state.findings).
 *
 * Each call is one statement in autocommit: it refuses to run inside an
 * open transaction (RW_ERR_INVALID), so a record is never lost with a
 * rolled-back cycle nor refused by a read-only snapshot. Required strings
 * must be non-NULL and non-empty, and every value is bounded (the limits
 * below); a violation is RW_ERR_INVALID / RW_ERR_RANGE naming the field,
 * before anything is sent. JSON text is checked by PostgreSQL (jsonb); its
 * refusal comes back as RW_ERR_IO with the server's message. Times are unix
 * milliseconds, stored exactly as timestamptz.
 */
#define STATE_NAME_MAX 256    /* halt_id, invariant, severity, correlation_id, kind, sig */
#define STATE_TEXT_MAX 4096   /* reason, summary */
#define STATE_MSG_MAX 65536   /* the signed msg (CONTROL_MSG_MAX) */
#define STATE_JSON_MAX 262144 /* evidence, heights */
#define STATE_TIME_MAX_MS 253402300799999LL /* 9999-12-31T23:59:59.999Z */

/* One halt as published. Nothing is taken over; strings are NUL-terminated. */
struct state_halt {
        const char *halt_id; /* control_msg id, "halt-..." */
        const char *invariant;
        const char *severity;
        const char *reason;
        const char *evidence_json; /* a JSON object; NULL for {} */
        const char *heights_json;  /* a JSON object, chain -> block */
        const char *correlation_id;
        const char *msg;         /* the exact signed bytes */
        const char *sig;         /* base64 signature of msg */
        int64_t issued_at_ms;    /* > 0 */
        int64_t published_at_ms; /* 0: not (yet) on the stream */
};

/*
 * Records a halt, idempotently: the first record of a halt_id stays as it
 * is, except that a later record fills published_at when it was still
 * unset (recorded from the outbox before delivery, published later). A set
 * published_at is never changed.
 */
int state_halt_record(struct dbconn *c, const struct state_halt *h, struct rwerr *err)
        __attribute__((warn_unused_result));

/*
 * Sets acknowledged_at of halt `halt_id` to acked_at_ms (> 0) unless it is
 * already set (the first acknowledgement stays); RW_OK either way.
 * RW_ERR_INVALID when no halt with that id is recorded.
 */
int state_halt_acknowledged(struct dbconn *c, const char *halt_id, int64_t acked_at_ms,
                            struct rwerr *err) __attribute__((warn_unused_result));

/* The times of a recorded halt, unix milliseconds, 0 where not set. */
struct state_halt_times {
        int64_t issued_at_ms;
        int64_t published_at_ms;
        int64_t acknowledged_at_ms;
};

/* *found = 0 and *out untouched when no halt with that id is recorded. */
int state_halt_times(struct dbconn *c, const char *halt_id, struct state_halt_times *out,
                     int *found, struct rwerr *err) __attribute__((warn_unused_result));

/*
 * Appends a finding (HALT_NOT_ACKNOWLEDGED, HALT_PATH_DOWN, ...): kind,
 * severity, summary and correlation_id required; evidence_json is a JSON
 * object, NULL for {}. observed_at is the server's now().
 */
int state_finding_record(struct dbconn *c, const char *kind, const char *severity,
                         const char *summary, const char *evidence_json, const char *correlation_id,
                         struct rwerr *err) __attribute__((warn_unused_result));

/*
 * The audit log's signed checkpoints (relaywatch_state.audit_checkpoints,
 * docs/AUDIT.md): append-only, one row per (origin, size).
 */
#define STATE_NOTE_MAX 16384 /* a whole signed note (AUDIT_NOTE_MAX) */
#define STATE_ROOT_BYTES 32

/* One checkpoint as signed. Nothing is taken over. */
struct state_audit_checkpoint {
        const char *origin;        /* the note's origin line and key name */
        uint64_t size;             /* tree size, at most INT64_MAX */
        const unsigned char *root; /* STATE_ROOT_BYTES bytes */
        const char *note;          /* the exact signed note */
        uint64_t epoch;            /* the signing key's epoch, at most INT64_MAX */
        const char *key_id;        /* the signing key's id */
        int64_t signed_at_ms;      /* > 0 */
};

/*
 * Records a checkpoint, in autocommit like halts and findings, with the
 * same checks (required strings, limits; RW_ERR_INVALID / RW_ERR_RANGE
 * naming the field). The note must begin with the checkpoint it claims to
 * sign ("ORIGIN\nSIZE\nBASE64 ROOT\n"; RW_ERR_INVALID otherwise).
 *
 * The same checkpoint sent again (after a restart) is RW_OK and changes
 * nothing, whatever its note. Another root for an (origin, size) already
 * recorded is RW_ERR_REFUSED ("the database already holds another root for
 * checkpoint SIZE of ORIGIN: the audit log was rewritten or forked"), and
 * the row first recorded stays.
 */
int state_audit_checkpoint_put(struct dbconn *c, const struct state_audit_checkpoint *cp,
                               struct rwerr *err) __attribute__((warn_unused_result));

/* A checkpoint read back. `note` is malloc'd: the caller frees it (free()). */
struct state_audit_checkpoint_row {
        uint64_t size;
        unsigned char root[STATE_ROOT_BYTES];
        uint64_t epoch;
        char key_id[STATE_NAME_MAX + 1];
        int64_t signed_at_ms;
        char *note;
};

/*
 * The newest checkpoint of `origin` (the largest size): *found = 1 and
 * *out filled, or *found = 0 and *out untouched when none is recorded.
 */
int state_audit_checkpoint_latest(struct dbconn *c, const char *origin,
                                  struct state_audit_checkpoint_row *out, int *found,
                                  struct rwerr *err) __attribute__((warn_unused_result));

#endif
