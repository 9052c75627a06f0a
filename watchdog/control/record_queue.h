/*
 * record_queue: the watchdog's own records (halts, their
 * acknowledgements, findings, the audit log's signed checkpoints) on their
 * way to relaywatch_state in the ledger database.
 *
 * RESUMEs seen on the control stream go to relaywatch_state.resumes
 * (db/state_resume.h), idempotently by resume id.
 *
 * The loop's thread adds records as they happen and never waits for the
 * database; the cycle thread, which owns the database connection, writes
 * them between cycles with record_queue_flush. Records are written in the
 * order they were added (a halt before its acknowledgement); one that
 * fails stays at the head of the queue and is tried again at the next
 * flush. The queue is bounded: when RECORD_QUEUE_MAX records wait (the
 * database has been away for long) the oldest finding is dropped first,
 * then the oldest checkpoint (a later one covers what it signed), then the
 * oldest record of any kind, and the count of dropped records is kept.
 * Nothing in the queue is the only copy: every record is also in the log,
 * the control stream, the halt state on disk or the audit log.
 *
 * One exception to "a failed write stays at the head": a checkpoint the
 * writer refuses (RW_ERR_REFUSED: the database already holds another root
 * for that origin and size, so the audit log was rewritten or forked) is
 * never going to be accepted, and retrying it would hold every record
 * behind it forever. It is logged at CRITICAL (jsonlog event
 * "audit_checkpoint_refused", with the origin, size, root and the
 * writer's message), dropped, and counted (record_queue_refused); the
 * flush goes on with the next record.
 *
 * Every function is safe to call from any thread.
 */
#ifndef RELAYWATCH_RECORD_QUEUE_H
#define RELAYWATCH_RECORD_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "finding.h"
#include "rwerr.h"

#define RECORD_QUEUE_MAX 1024

struct record_queue;
struct dbconn;

#define RECORD_ROOT_BYTES 32

/* A signed checkpoint of the audit log, as queued (every string owned by the queue). */
struct record_checkpoint {
        char *origin;
        uint64_t size;
        unsigned char root[RECORD_ROOT_BYTES];
        char *note; /* the exact signed note */
        uint64_t epoch;
        char *key_id;
        int64_t signed_at_ms;
};

/*
 * Where a flush writes; record_queue_flush_db is the real one. Each returns
 * RW_OK or an error; `checkpoint` returns RW_ERR_REFUSED for a checkpoint
 * that contradicts one already written (see above: dropped, not retried).
 */
struct record_writer {
        /* a halt: its exact signed msg (NUL-terminated) and signature; published_at 0: not yet */
        int (*halt)(void *ctx, const char *msg, size_t len, const char *sig,
                    int64_t published_at_ms, struct rwerr *err);
        int (*acknowledged)(void *ctx, const char *halt_id, int64_t acked_at_ms, struct rwerr *err);
        int (*finding)(void *ctx, const struct finding_record *f, struct rwerr *err);
        int (*checkpoint)(void *ctx, const struct record_checkpoint *cp, struct rwerr *err);
        void *ctx;
        /*
         * A RESUME seen on the stream: its exact signed msg (NUL-terminated),
         * signature, stream entry id and when it was read (unix ms). Last, so
         * that writers initialised without it take none: NULL drops RESUME
         * records (counted as written, nothing sent).
         */
        int (*resume)(void *ctx, const char *msg, size_t len, const char *sig, const char *entry_id,
                      int64_t seen_at_ms, struct rwerr *err);
};

/* A new empty queue, or NULL when out of memory. Free with record_queue_free (NULL ok). */
struct record_queue *record_queue_new(void);
void record_queue_free(struct record_queue *q);

/* Each copies what it is given. RW_OK, or RW_ERR_NOMEM (nothing added). */
int record_queue_add_halt(struct record_queue *q, const char *msg, size_t len, const char *sig,
                          int64_t published_at_ms);
int record_queue_add_acknowledged(struct record_queue *q, const char *halt_id, int64_t acked_at_ms);

/*
 * A RESUME read from the control stream (accepted: it lifted HALTs in
 * force): its exact signed msg of `len` bytes, its signature, the entry id
 * that carried it and when it was read. Copies everything. RW_OK;
 * RW_ERR_INVALID when msg, sig or entry_id is NULL; RW_ERR_NOMEM.
 */
int record_queue_add_resume(struct record_queue *q, const char *msg, size_t len, const char *sig,
                            const char *entry_id, int64_t seen_at_ms);

/*
 * A checkpoint of the audit log as signed: its origin, tree size, 32-byte
 * root, the exact signed note, the signing key's epoch and id, and when it
 * was signed (unix ms). Copies everything. RW_OK; RW_ERR_INVALID when
 * origin, root32, note or key_id is NULL; RW_ERR_NOMEM (nothing added).
 */
int record_queue_add_checkpoint(struct record_queue *q, const char *origin, uint64_t size,
                                const unsigned char *root32, const char *note, uint64_t epoch,
                                const char *key_id, int64_t signed_at_ms);

/* Moves the journal's unsaved findings into the queue (finding_journal_saved for those moved). */
void record_queue_take_findings(struct record_queue *q, struct finding_journal *j);

/*
 * Writes waiting records through `w`, oldest first, until the queue is
 * empty or a write fails (that record stays first; `err` says why). Records
 * added meanwhile wait for the next flush. Returns RW_OK or the failed
 * write's code; *written (may be NULL) counts the records written.
 */
int record_queue_flush(struct record_queue *q, const struct record_writer *w, size_t *written,
                       struct rwerr *err);

/* record_queue_flush to relaywatch_state through `db` (state statements registered). */
int record_queue_flush_db(struct record_queue *q, struct dbconn *db, size_t *written,
                          struct rwerr *err);

/*
 * Records waiting, records dropped since the start because the queue was
 * full, and checkpoints dropped because the writer refused them (forked).
 */
size_t record_queue_waiting(struct record_queue *q);
size_t record_queue_dropped(struct record_queue *q);
size_t record_queue_refused(struct record_queue *q);

#endif
