/*
 * audit_verify: checks an audit log from its files alone, the way an
 * auditor who trusts nothing but the pinned genesis key would.
 *
 * It reads every record in order and
 *   - recomputes the RFC 6962 tree from the records' bytes;
 *   - checks sequence numbers run from 0 without a gap or a repeat across
 *     the files (a record deleted, two swapped, a rotated file removed);
 *   - follows the key chain: record 0 is the genesis key_epoch and its key
 *     must be the pinned one; each later key_epoch is certified by the key
 *     before it;
 *   - checks every checkpoint record: it covers exactly the records before
 *     it, its root is the recomputed one, and its note is signed by the key
 *     of the epoch in force (a checkpoint signed by an expired epoch's key
 *     is refused);
 *   - checks that the log extends every checkpoint given from outside (a
 *     witness, a HALT message, a page, the database): a log shorter than
 *     one was cut short or rolled back; a different root at that size is a
 *     rewrite or a fork.
 *
 * The verdict: AUDIT_INTACT, AUDIT_TAMPERED (with the first bad record's
 * file and line), or AUDIT_CANNOT_TELL (a file that is not an audit log,
 * cannot be read, no pinned key, nothing signed). An incomplete last line
 * in the newest file (a crash in the middle of a write) is not tampering:
 * the log verifies up to the last complete record and a notice says so.
 */
#ifndef RELAYWATCH_AUDIT_VERIFY_H
#define RELAYWATCH_AUDIT_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#include "audit_note.h"
#include "audit_tree.h"
#include "signing_key.h"

enum audit_verdict {
        AUDIT_INTACT = 0,
        AUDIT_TAMPERED = 1,
        AUDIT_CANNOT_TELL = 2,
};

/* A checkpoint from outside the log: a signed note, and where it came from (for messages). */
struct audit_external {
        const char *note;
        size_t len;
        const char *source;
};

struct audit_verify_options {
        const struct verify_key
                *genesis; /* the pinned key; NULL: not pinned (CANNOT_TELL at best) */
        const struct audit_external *external;
        size_t nexternal;
        int keep_leaves; /* keep every leaf hash in the result (for proofs) */
};

struct audit_verify_result {
        enum audit_verdict verdict;
        char message[1024]; /* the first problem; for INTACT a one-line summary */
        char notices[2048]; /* things worth saying that are not tampering, one per line */
        char origin[AUDIT_NOTE_NAME_MAX];
        uint64_t records;             /* complete records read and verified */
        uint64_t checkpoints;         /* checkpoint records verified */
        uint64_t epochs;              /* key epochs followed (1 for the genesis alone) */
        struct audit_checkpoint last; /* the last checkpoint record (size 0: none) */
        char *last_note;              /* its signed note (malloc'd) */
        unsigned char (*leaves)[AUDIT_HASH_BYTES]; /* with keep_leaves: records' leaf hashes */
        struct verify_key *keys; /* the key of each epoch, in order (malloc'd, `epochs` of them) */
        /* with keep_leaves: every checkpoint verified, in order (size and signed note, malloc'd) */
        struct audit_verified_checkpoint {
                uint64_t size;
                char *note;
        } * cps;
        size_t ncps;
};

/* The note of the verified checkpoint of exactly `size` records (keep_leaves), or NULL. */
const char *audit_verify_note_at(const struct audit_verify_result *r, uint64_t size);

/*
 * Verifies the log made of `files` (paths, in any order: they are put in
 * record order). Always fills *r; returns its verdict. Release with
 * audit_verify_release.
 */
enum audit_verdict audit_verify_files(const char *const *files, size_t n,
                                      const struct audit_verify_options *o,
                                      struct audit_verify_result *r);

void audit_verify_release(struct audit_verify_result *r);

#endif
