/*
 * record_queue: the watchdog's own records (halts, their
 * acknowledgements, findings) on their way to relaywatch_state in the
 * ledger database.
 *
 * The loop's thread adds records as they happen and never waits for the
 * database; the cycle thread, which owns the database connection, writes
 * them between cycles with record_queue_flush. Records are written in the
 * order they were added (a halt before its acknowledgement); one that
 * fails stays at the head of the queue and is tried again at the next
 * flush. The queue is bounded: when RECORD_QUEUE_MAX records wait (the
 * database has been away for long) the oldest finding is dropped first,
 * then the oldest record of any kind, and the count of dropped records is
 * kept. Nothing in the queue is the only copy: every record is also in the
 * log, the control stream or the halt state on disk.
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

/* Where a flush writes; record_queue_flush_db is the real one. Each returns RW_OK or an error. */
struct record_writer {
        /* a halt: its exact signed msg (NUL-terminated) and signature; published_at 0: not yet */
        int (*halt)(void *ctx, const char *msg, size_t len, const char *sig,
                    int64_t published_at_ms, struct rwerr *err);
        int (*acknowledged)(void *ctx, const char *halt_id, int64_t acked_at_ms, struct rwerr *err);
        int (*finding)(void *ctx, const struct finding_record *f, struct rwerr *err);
        void *ctx;
};

/* A new empty queue, or NULL when out of memory. Free with record_queue_free (NULL ok). */
struct record_queue *record_queue_new(void);
void record_queue_free(struct record_queue *q);

/* Each copies what it is given. RW_OK, or RW_ERR_NOMEM (nothing added). */
int record_queue_add_halt(struct record_queue *q, const char *msg, size_t len, const char *sig,
                          int64_t published_at_ms);
int record_queue_add_acknowledged(struct record_queue *q, const char *halt_id, int64_t acked_at_ms);

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

/* Records waiting, and records dropped since the start because the queue was full. */
size_t record_queue_waiting(struct record_queue *q);
size_t record_queue_dropped(struct record_queue *q);

#endif
