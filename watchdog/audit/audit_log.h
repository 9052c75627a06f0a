/*
 * audit_log: the writer of the audit log, one per watchdog.
 *
 * The log is a directory (by default STATE_DIR/audit) holding
 *
 *     audit-<first seq, 12 digits>.jsonl   the records (audit_record.h), in
 *                                          files rotated by size or by day;
 *                                          only the last is ever appended to
 *     leaves.bin                           every record's leaf hash, for
 *                                          proofs (audit_leaves.h; derived,
 *                                          rebuilt when it disagrees)
 *     tree.state                           where the writer stands: tree
 *                                          size, right edge, file and offset
 *                                          (saved by the tick after a
 *                                          checkpoint, off the halt path)
 *     audit.key, audit.key.pub             the evolving key (audit_key.h)
 *     partial-<seq>.bin                    the bytes of a record a crash cut
 *                                          short, set aside at the next start
 *
 * Records are appended with one write(2) on an O_APPEND descriptor. Each
 * record's leaf goes into the RFC 6962 tree (audit_tree.h) as it is
 * written, so the tree is always that of the records on disk. Durable
 * records (halts, resumes, checkpoints, key epochs) are synced to disk
 * (fdatasync) before the append returns; the rest within `fsync_batch_ms`
 * (audit_log_tick).
 *
 * A checkpoint (audit_log_checkpoint) signs (origin, size, root) as a C2SP
 * checkpoint with the current epoch's key and writes it as a record whose
 * seq is the size it covers. Key epochs: the first record of a log is a
 * key_epoch record for epoch 0 (the genesis key, audit.key.pub); when an
 * epoch is over, audit_log_tick writes a checkpoint, a key_epoch record for
 * the next key certified by the old one, and a checkpoint signed by the new
 * key, then wipes the old key.
 *
 * At open the writer picks up where it stood: it reads tree.state, then the
 * records written after it (at most one checkpoint interval), and sets
 * aside an incomplete last line. A log whose files disagree with the saved
 * state (shorter, a different record where one was) is refused with the
 * file and line named: audit recording stops, and the caller reports
 * AUDIT_LOG_DOWN; it never rewrites what is there.
 *
 * Every function takes the log's lock: any thread may append.
 */
#ifndef RELAYWATCH_AUDIT_LOG_H
#define RELAYWATCH_AUDIT_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "audit_note.h"
#include "audit_tree.h"
#include "rwerr.h"
#include "signing_key.h"

struct cJSON;
struct audit_log;

#define AUDIT_LOG_STATE_FILE "tree.state"
#define AUDIT_LOG_FILE_PREFIX "audit-"
#define AUDIT_LOG_FILE_SUFFIX ".jsonl"

struct audit_log_options {
        const char *dir;         /* the log's directory; created (0700) when missing */
        const char *origin;      /* the checkpoints' origin line and key name */
        uint64_t rotate_bytes;   /* a new file once the current one is this big; 0: never */
        int rotate_daily;        /* and a new file on the first record of each UTC day */
        uint64_t fsync_batch_ms; /* records that are not durable are fsync'd within this */
        uint64_t key_epoch_s;    /* the key evolves after this many seconds; 0: never */
};

/* The latest checkpoint, as signed. */
struct audit_log_checkpoint {
        uint64_t size;
        unsigned char root[AUDIT_HASH_BYTES];
        char root_b64[48];
        uint64_t epoch;
        char key_id[SIGNING_KEY_ID_SIZE];
        char note[1024]; /* the signed note */
        int64_t unix_ms; /* when it was signed; 0: no checkpoint yet */
};

/*
 * Opens (or creates) the log in o->dir, recovering as above. `now_ms` is
 * the wall clock. NULL with `err` saying what and where when it cannot.
 */
struct audit_log *audit_log_open(const struct audit_log_options *o, int64_t now_ms,
                                 struct rwerr *err);

/* fsyncs what is waiting and closes; NULL ok. */
void audit_log_close(struct audit_log *l);

/*
 * Appends a record of `kind` with `content` (borrowed; NULL: {}). With
 * `durable` it is fsync'd before returning. *seq (may be NULL) is its
 * number. On an I/O error nothing partial stays in the tree; the log is
 * marked broken and every later append fails fast with the first error
 * until audit_log_retry succeeds.
 */
int audit_log_append(struct audit_log *l, const char *kind, const char *correlation_id,
                     const struct cJSON *content, int durable, int64_t now_ms, uint64_t *seq,
                     struct rwerr *err) __attribute__((warn_unused_result));

/* Signs and writes a checkpoint over every record so far (fsync'd); *out (may be NULL) is it. */
int audit_log_checkpoint(struct audit_log *l, const char *correlation_id, int64_t now_ms,
                         struct audit_log_checkpoint *out, struct rwerr *err)
        __attribute__((warn_unused_result));

/*
 * Housekeeping, from a timer: the batched fsync, the key epoch (which
 * writes its records and checkpoints), and a checkpoint when none was
 * written for `checkpoint_ms` and records were added since. *wrote (may be
 * NULL) is set when a new checkpoint was written.
 */
int audit_log_tick(struct audit_log *l, int64_t now_ms, uint64_t checkpoint_ms, int *wrote,
                   struct rwerr *err) __attribute__((warn_unused_result));

/* The last checkpoint written (unix_ms 0 when none); RW_OK. */
int audit_log_latest(struct audit_log *l, struct audit_log_checkpoint *out);

/* Records in the log, and bytes in its current file. */
uint64_t audit_log_size(struct audit_log *l);

/* Whether the log is broken (an append failed), and why (into why[cap]). */
int audit_log_broken(struct audit_log *l, char *why, size_t cap);

/* Tries again after a failure: reopens the current file and writes a "recovered" record. */
int audit_log_retry(struct audit_log *l, int64_t now_ms, struct rwerr *err)
        __attribute__((warn_unused_result));

/*
 * The names (not paths) of the log files in `dir`, sorted by first record,
 * into a new array *out of *n (free with audit_log_files_free).
 */
int audit_log_files(const char *dir, char ***out, size_t *n, struct rwerr *err)
        __attribute__((warn_unused_result));
void audit_log_files_free(char **names, size_t n);

/* Whether `name` is a log file's name: audit-<12 digits>.jsonl. */
int audit_log_is_file_name(const char *name);

/*
 * The consistency proof from the tree of `from` records to that of `to`
 * (0 < from <= to <= records), from the leaf index (audit_leaves.h) in a
 * few reads, for a witness. RW_ERR_IO when the index could not be kept.
 */
int audit_log_consistency_proof(struct audit_log *l, uint64_t from, uint64_t to,
                                unsigned char proof[][AUDIT_HASH_BYTES], size_t *n,
                                struct rwerr *err) __attribute__((warn_unused_result));

/* The root of the tree of the first `size` records. */
int audit_log_root_at(struct audit_log *l, uint64_t size, unsigned char out[AUDIT_HASH_BYTES],
                      struct rwerr *err) __attribute__((warn_unused_result));

/*
 * The key chain as published for witnesses: a JSON array of every
 * key_epoch record's content, in order (malloc'd text; NULL on no memory).
 */
char *audit_log_keys_json(struct audit_log *l);

/* The current epoch's public key and number. */
void audit_log_key(struct audit_log *l, struct verify_key *pub, uint64_t *epoch);

#endif
