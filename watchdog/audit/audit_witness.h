/*
 * audit_witness: a witness of another watchdog's audit log (docs/AUDIT.md,
 * "Witnesses").
 *
 * The witnessed watchdog (the primary) publishes under its Redis key K its
 * latest signed checkpoint, the chain of its audit keys (one entry per key
 * epoch, each certified by the one before, from the genesis key), and
 * consistency proofs from the sizes its witnesses last cosigned. A witness
 * pins the genesis public key and, at every poll:
 *
 *   - follows the published key chain from the pinned genesis key (every
 *     certificate must verify, and the chain must still hold the key of
 *     the epoch it accepted before);
 *   - checks the checkpoint is signed by the newest key of that chain, and
 *     never by a key older than the one it accepted before;
 *   - checks the checkpoint extends the one it accepted before: same size
 *     and root (unchanged), or a larger size with an RFC 6962 consistency
 *     proof from the old size that verifies;
 *   - then stores the new checkpoint (a file in its state directory,
 *     replaced atomically and durably) and countersigns it with a C2SP
 *     cosignature/v1 line, which goes back to Redis.
 *
 * A smaller size (rolled back), the same size with another root (a fork or a
 * rewrite), a proof that does not verify, a key chain that does not start at
 * the pinned key or has a bad certificate, and a checkpoint signed by an
 * expired key are AUDIT_WITNESS_INCONSISTENT: the finding
 * AUDIT_LOG_INCONSISTENT (CRITICAL), with both checkpoints as evidence. The
 * first checkpoint ever seen for a log is accepted on the pinned key's
 * authority alone (trust on first use for consistency), and the result
 * says so.
 *
 * The decision (audit_witness_step) does no network I/O: it takes the
 * published items and a callback for the proof, so tests drive it without
 * Redis. audit_witness_poll is the Redis side: one atomic read, the step,
 * and the HSET of the cosigned note. Nothing here logs.
 *
 * The state file, DIR/witness-<genesis key_id>.json, one per witnessed log
 * (named after the pinned key, so a log cannot shed its history by changing
 * its origin), holds the origin, the genesis key_id, the accepted epoch and
 * its public key, the size, the root, the accepted note and when.
 */
#ifndef RELAYWATCH_AUDIT_WITNESS_H
#define RELAYWATCH_AUDIT_WITNESS_H

#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

#include "audit_note.h"
#include "audit_tree.h"
#include "rwerr.h"
#include "signing_key.h"

struct cJSON;

#define AUDIT_WITNESS_FINDING "AUDIT_LOG_INCONSISTENT" /* reported CRITICAL */
#define AUDIT_WITNESS_STATE_PREFIX "witness-"
#define AUDIT_WITNESS_STATE_SUFFIX ".json"
#define AUDIT_WITNESS_STATE_MAX ((size_t)64 * 1024)       /* bytes of a state file */
#define AUDIT_WITNESS_KEYS_MAX ((size_t)16 * 1024 * 1024) /* bytes of the published key chain */
#define AUDIT_WITNESS_EPOCHS_MAX 65536                    /* key epochs in the published chain */
#define AUDIT_WITNESS_PROOF_JSON_MAX ((size_t)64 * 1024)  /* bytes of one published proof */
#define AUDIT_WITNESS_REDIS_KEY_MAX 512                   /* bytes of the Redis key K */

enum audit_witness_outcome {
        AUDIT_WITNESS_ACCEPTED = 0,  /* a new checkpoint, consistent (or the first): cosigned */
        AUDIT_WITNESS_UNCHANGED = 1, /* the one accepted before (same size and root): cosigned */
        AUDIT_WITNESS_WAITING = 2,   /* larger, but no proof from our size yet: cannot tell yet */
        AUDIT_WITNESS_INCONSISTENT = 3, /* rolled back, forked, rewritten or badly signed */
        AUDIT_WITNESS_CANNOT_TELL = 4,  /* nothing published, unreadable, Redis or disk failed */
};

/* "accepted", "unchanged", "waiting", "inconsistent", "cannot_tell". */
const char *audit_witness_outcome_name(enum audit_witness_outcome o);

/*
 * The proof the primary published from tree size `from` to its current
 * checkpoint: the JSON text {"from":M,"to":N,"proof":["b64",...]} in *json
 * (malloc'd, *len bytes; the caller frees), or *json NULL when there is
 * none. RW_OK, or an error (with `err`) when it could not be fetched:
 * the step then cannot tell.
 */
typedef int (*audit_witness_proof_fn)(void *ctx, uint64_t from, char **json, size_t *len,
                                      struct rwerr *err);

/* What the primary published (everything borrowed for the call). */
struct audit_witness_published {
        const char *checkpoint; /* HGET K checkpoint: the signed note; NULL: none */
        size_t checkpoint_len;
        const char *keys; /* HGET K keys: the JSON array of key epochs; NULL: none */
        size_t keys_len;
        audit_witness_proof_fn proof; /* HGET K:proofs <from>; NULL: no proofs at all */
        void *proof_ctx;
};

/* Who witnesses, and where it keeps what it accepted (borrowed). */
struct audit_witness_config {
        const struct verify_key *genesis; /* the witnessed log's pinned genesis public key */
        const struct signing_key *key;    /* the witness's own key, to cosign with */
        const char *name;                 /* the cosignature's key name */
        const char *state_dir;            /* created (0700) when missing */
        int64_t now_s;                    /* wall clock: the cosignature's time */
};

/* One poll's verdict. Release with audit_witness_result_release. */
struct audit_witness_result {
        enum audit_witness_outcome outcome;
        char message[1024]; /* what was decided and why, naming sizes, epochs and keys */
        /* for INCONSISTENT: "rollback", "fork", "proof", "key_chain", "expired_key",
           "signature", "origin"; "" otherwise */
        const char *reason;
        char origin[AUDIT_NOTE_NAME_MAX]; /* the witnessed log's, once known */
        int first_use;                    /* ACCEPTED with nothing accepted before */
        uint64_t size, epoch;             /* the published checkpoint's size and signing epoch */
        char root[48];                    /* its root, base64 ("" when not read) */
        uint64_t previous_size;           /* the checkpoint accepted before (0: none) */
        char previous_root[48];
        char *published_note; /* the published note (malloc'd), once it was read */
        char *accepted_note;  /* the note accepted before (malloc'd), NULL when none */
        char *cosigned;       /* the note with our cosignature, to HSET K:cosigned (malloc'd) */
        int published;        /* audit_witness_poll: the cosigned note was stored in Redis */
};

/*
 * Decides on the published items against the state in c->state_dir, as
 * above, saving the state on ACCEPTED (and on UNCHANGED when the note was
 * signed by a newer epoch). r->cosigned is set for ACCEPTED and UNCHANGED
 * (the published note), and for WAITING (the note accepted before, cosigned
 * again at now_s: it tells the primary which size to prove from). Always
 * fills *r; returns its outcome.
 */
enum audit_witness_outcome audit_witness_step(const struct audit_witness_published *p,
                                              const struct audit_witness_config *c,
                                              struct audit_witness_result *r);

/* Frees what the result holds and zeroes it. NULL ok. */
void audit_witness_result_release(struct audit_witness_result *r);

/*
 * The Redis side of one poll on `ctx` (borrowed; from redisconn) for the
 * log published under `redis_key`: reads checkpoint, keys and the proof
 * from the size accepted before in one MULTI/EXEC, runs the step, and on a
 * cosigned note runs HSET <redis_key>:cosigned <c->name> <note>
 * (r->published). Always fills *r. Returns RW_OK when Redis answered every
 * command, else the failure's code with `err` naming the command (pass it
 * to redisconn_failed): when the read failed, r->outcome is CANNOT_TELL;
 * when only the HSET did, the outcome stands and r->published is 0.
 */
int audit_witness_poll(redisContext *ctx, const char *redis_key,
                       const struct audit_witness_config *c, struct audit_witness_result *r,
                       struct rwerr *err) __attribute__((warn_unused_result));

/*
 * The evidence of an INCONSISTENT result, for the finding: {"origin",
 * "reason", "message", "accepted": {"size", "root", "note"} (null when
 * none), "published": {"size", "root", "note"}}. NULL when out of memory.
 * The caller frees it with cJSON_Delete.
 */
struct cJSON *audit_witness_evidence(const struct audit_witness_result *r);

/* What a witness has accepted for one log, as kept in its state file. */
struct audit_witness_state {
        char origin[AUDIT_NOTE_NAME_MAX];
        char genesis_key_id[SIGNING_KEY_ID_SIZE];
        uint64_t epoch;        /* the epoch whose key signed the accepted note */
        struct verify_key key; /* that key */
        uint64_t size;         /* the accepted checkpoint */
        unsigned char root[AUDIT_HASH_BYTES];
        char *note; /* the accepted signed note (malloc'd) */
        int64_t accepted_s;
};

/*
 * The state file's name for the log whose genesis key is `genesis`:
 * "witness-<key_id>.json", into out[cap].
 */
void audit_witness_state_name(const struct verify_key *genesis, char *out, size_t cap);

/*
 * Loads the state of the log pinned by `genesis` from `dir`: RW_OK with
 * *found 1 and *st filled (release with audit_witness_state_release), or
 * *found 0 when there is none yet. A state file that cannot be read, does
 * not parse, is for another genesis key, or whose note does not verify
 * with the key it names is an error naming the file: never taken as
 * "none" (that would start trust on first use again).
 */
int audit_witness_state_load(const char *dir, const struct verify_key *genesis,
                             struct audit_witness_state *st, int *found, struct rwerr *err)
        __attribute__((warn_unused_result));

/* Saves *st to `dir` (created 0700 when missing) with fileio_replace, durably. */
int audit_witness_state_save(const char *dir, const struct audit_witness_state *st,
                             struct rwerr *err) __attribute__((warn_unused_result));

/* Frees the note and zeroes *st. NULL ok. */
void audit_witness_state_release(struct audit_witness_state *st);

#endif
