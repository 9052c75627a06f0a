/*
 * control_msg: the signed messages of the relayer's control stream, as
 * docs/PROTOCOL.md (version 1) defines them: building and signing them
 * (relaywatch's side) and judging them (a relayer's side, and relaywatch's
 * own reading of the stream).
 *
 * A stream entry has two fields: `msg`, a JSON object (unformatted text),
 * and `sig`, the Ed25519 detached signature (libsodium crypto_sign_detached)
 * of exactly the bytes of `msg`, base64 with the original alphabet and
 * padding (88 characters). There is no canonical form: the signature covers
 * the bytes shipped, and a reader verifies those bytes BEFORE it parses them.
 *
 * `msg` v1, every field required unless noted (PROTOCOL.md section 4):
 *
 *   v               number, 1
 *   type            "HALT" or "RESUME"
 *   id              HALT: "halt-" + 32 lowercase hex digits (control_new_halt_id);
 *                   RESUME: "resume-" + 32 lowercase hex digits
 *   invariant       non-empty string: the invariant that broke (RESUME: "*")
 *   severity        non-empty string ("CRITICAL" for a Tier 1 halt)
 *   reason          non-empty string, for humans
 *   evidence        object: the numbers that broke (amounts as decimal strings)
 *   heights         object: chain name -> block number (integer, 0 .. 2^53-1)
 *   lifts           RESUME only (and required there): array of 1 to
 *                   CONTROL_LIFTS_MAX distinct HALT ids it lifts
 *   resume_from     RESUME only (and required there), non-empty, same shape as heights
 *   issued_at       "YYYY-MM-DDTHH:MM:SS.mmmZ" (RFC 3339, UTC, milliseconds)
 *   watchdog_id     non-empty string: which relaywatch issued it
 *   correlation_id  non-empty string: the cycle (or command) that issued it
 *   key_id          16 lowercase hex digits: the key that signed it (signing_key.h)
 *
 * Unknown extra fields are allowed (later v1 additions); the text must pass
 * json_strict (UTF-8, strict grammar, no duplicate names at any depth).
 *
 * control_msg_judge runs the protocol's checks in its order (section 6.1,
 * steps 2 to 11) and names the first that fails with an enum control_reject,
 * whose names (control_reject_name) are the ones of the conformance vectors.
 * Whom to trust: a HALT verified with a watchdog key or an operator key (an
 * operator may halt by hand), a RESUME only with an operator key.
 */
#ifndef RELAYWATCH_CONTROL_MSG_H
#define RELAYWATCH_CONTROL_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "rwerr.h"
#include "signing_key.h"

struct cJSON;
struct audit_ref;

#define CONTROL_MSG_VERSION 1
#define CONTROL_MSG_MAX 65536                  /* a longer msg is refused before it is verified */
#define CONTROL_ID_SIZE 40                     /* "resume-" + 32 hex + NUL, and room to spare */
#define CONTROL_SIG_B64_SIZE 89                /* 88 base64 characters + NUL */
#define CONTROL_ISSUED_AT_SIZE 25              /* "2024-01-02T03:04:05.678Z" + NUL */
#define CONTROL_HEIGHT_MAX 9007199254740991ULL /* 2^53 - 1: exact in every JSON reader */
#define CONTROL_LIFTS_MAX 256                  /* HALT ids one RESUME may lift */

enum control_type {
        CONTROL_HALT = 1,
        CONTROL_RESUME = 2,
};

/*
 * Why an entry is rejected: the steps of PROTOCOL.md section 6.1, in their
 * order. CONTROL_ACCEPTED (0) is no rejection.
 */
enum control_reject {
        CONTROL_ACCEPTED = 0,
        CONTROL_BAD_ENTRY,              /* not exactly one msg and one sig field */
        CONTROL_TOO_LONG,               /* msg over CONTROL_MSG_MAX bytes */
        CONTROL_BAD_SIGNATURE,          /* sig malformed, or no trusted key verifies it */
        CONTROL_NOT_UTF8,               /* msg is not well-formed UTF-8 (or holds a NUL) */
        CONTROL_BAD_JSON,               /* not exactly one strict JSON object */
        CONTROL_DUPLICATE_KEY,          /* a name twice in one object */
        CONTROL_UNKNOWN_VERSION,        /* v is not 1 */
        CONTROL_MISSING_FIELD,          /* a required field is absent */
        CONTROL_BAD_FIELD,              /* a field breaks its rule */
        CONTROL_KEY_ID_MISMATCH,        /* key_id is not the key that verified */
        CONTROL_RESUME_BY_WATCHDOG_KEY, /* a RESUME verified only by a watchdog key */
        CONTROL_REPLAY,                 /* an id accepted before, or a RESUME lifting nothing */
        CONTROL_NO_MEMORY,              /* the reader ran out of memory: judge again later */
};

/* The rejection's name in PROTOCOL.md and the vectors: "bad_signature", ...; "accepted" for 0. */
const char *control_reject_name(enum control_reject r);

/* Which trusted role verified a message. */
enum control_role {
        CONTROL_ROLE_NONE = 0,
        CONTROL_ROLE_WATCHDOG = 1, /* may sign a HALT (and the heartbeat) */
        CONTROL_ROLE_OPERATOR = 2, /* may sign a HALT or a RESUME */
};

/* "watchdog", "operator" or "none". */
const char *control_role_name(enum control_role role);

/* The trusted public keys by role; borrowed. */
struct control_keys {
        const struct verify_key *watchdog_keys;
        size_t nwatchdog;
        const struct verify_key *operator_keys;
        size_t noperator;
};

/* What control_msg_judge found. */
struct control_judgement {
        enum control_reject reject;   /* CONTROL_ACCEPTED when the msg passed */
        enum control_role role;       /* of the key that verified; NONE when none did */
        const struct verify_key *key; /* that key (points into the keys given), or NULL */
        char detail[RWERR_MSG_MAX];   /* on a rejection, what failed; safe to log (escaped) */
};

/* Bits for control_msg_check's `allow`. */
#define CONTROL_ALLOW_HALT (1u << CONTROL_HALT)
#define CONTROL_ALLOW_RESUME (1u << CONTROL_RESUME)

/* One chain's block. */
struct control_height {
        const char *chain;
        uint64_t block;
};

/* What control_msg_build turns into a msg. Nothing is taken over. */
struct control_msg_fields {
        enum control_type type;
        const char *id;
        const char *invariant;
        const char *severity;
        const char *reason;
        const struct cJSON *evidence; /* an object, copied; NULL for {} */
        const struct control_height *heights;
        size_t nheights;
        const char *const *lifts; /* RESUME only: the HALT ids it lifts */
        size_t nlifts;
        const struct control_height *resume_from; /* RESUME only */
        size_t nresume_from;
        int64_t issued_at_ms; /* unix time in milliseconds */
        const char *watchdog_id;
        const char *correlation_id;
        const char *key_id;
        /* the audit log's checkpoint covering what caused it (audit_sink.h); NULL: none */
        const struct audit_ref *audit;
};

/* A parsed msg. Strings and evidence point into `root`; free with control_msg_free. */
struct control_msg {
        struct cJSON *root;
        enum control_type type;
        const char *id;
        const char *invariant;
        const char *severity;
        const char *reason;
        const struct cJSON *evidence;
        struct control_height *heights; /* malloc'd array, chain names point into root */
        size_t nheights;
        const char **lifts; /* RESUME only (malloc'd array into root), else NULL */
        size_t nlifts;
        struct control_height *resume_from; /* RESUME only, else NULL */
        size_t nresume_from;
        const char *issued_at;
        int64_t issued_at_ms;
        const char *watchdog_id;
        const char *correlation_id;
        const char *key_id;
};

/*
 * A fresh HALT id for a new incident: "halt-" + 32 hex digits of 16 random
 * bytes. Drawn once when the incident opens and kept with it (the halt
 * state, the outbox), so publishing it again is idempotent; a replica that
 * finds a HALT in force for the same invariant adopts that one's id. Never
 * derived from what broke: a new incident must never reuse an old id, or a
 * reader that remembers the old one would take the new HALT for a copy.
 */
void control_new_halt_id(char out[CONTROL_ID_SIZE]);

/*
 * A reproducible HALT id, for tests and the conformance vectors: "halt-" and
 * the 32 hex digits of BLAKE2b with a 16-byte output over the bytes
 * invariant NUL subject NUL height (decimal). relaywatch's own HALTs use
 * control_new_halt_id.
 */
void control_halt_id(const char *invariant, const char *subject, uint64_t first_height,
                     char out[CONTROL_ID_SIZE]);

/* A fresh RESUME id: "resume-" + 32 hex digits of 16 random bytes. */
void control_resume_id(char out[CONTROL_ID_SIZE]);

/* Formats unix milliseconds as issued_at text; out has CONTROL_ISSUED_AT_SIZE bytes. */
int control_format_time(int64_t unix_ms, char out[CONTROL_ISSUED_AT_SIZE], struct rwerr *err)
        __attribute__((warn_unused_result));

/*
 * Builds the msg text (unformatted JSON, fields in the order listed above)
 * from `f`, after checking every field against the rules control_msg_parse
 * applies. On success *out is a NUL-terminated string of *outlen bytes that
 * the caller frees with free(); on failure *out is NULL.
 */
int control_msg_build(const struct control_msg_fields *f, char **out, size_t *outlen,
                      struct rwerr *err) __attribute__((warn_unused_result));

/* Signs exactly msg[0..len) with `key`: base64 of the 64-byte detached signature into sig_out. */
int control_msg_sign(const struct signing_key *key, const char *msg, size_t len,
                     char sig_out[CONTROL_SIG_B64_SIZE], struct rwerr *err)
        __attribute__((warn_unused_result));

/*
 * Verifies sig_b64 (NUL-terminated) over exactly msg[0..len) with each of
 * keys[0..nkeys). Returns the index of the first key that verifies, or a
 * negative code: RW_ERR_INVALID for a signature that is not 64 bytes of
 * base64 (or no keys), RW_ERR_REFUSED when no key verifies it.
 */
int control_msg_verify(const struct verify_key *keys, size_t nkeys, const char *msg, size_t len,
                       const char *sig_b64, struct rwerr *err) __attribute__((warn_unused_result));

/*
 * Parses a msg strictly (json_strict, then the field list above). Call it
 * only on bytes that verified. On success fills *out (free with
 * control_msg_free); on failure *out is zeroed and the message names the
 * field. control_msg_parse_why also says which rejection it is (why may
 * be NULL): CONTROL_TOO_LONG, CONTROL_NOT_UTF8 .. CONTROL_BAD_FIELD, or
 * CONTROL_NO_MEMORY.
 */
int control_msg_parse(const char *msg, size_t len, struct control_msg *out, struct rwerr *err)
        __attribute__((warn_unused_result));
int control_msg_parse_why(const char *msg, size_t len, struct control_msg *out,
                          enum control_reject *why, struct rwerr *err)
        __attribute__((warn_unused_result));

/*
 * Judges one msg/sig pair as PROTOCOL.md section 6.1 steps 2 to 11 do
 * (step 1, the entry's fields, and step 12, replays, need the entry and
 * the reader's state: control_state.h). `sig` is sig_len bytes (not
 * necessarily NUL-terminated; a NUL inside is a bad signature). Returns
 * j->reject; when it is CONTROL_ACCEPTED *out holds the parsed msg (free
 * with control_msg_free), else *out is zeroed and j->detail says why.
 */
enum control_reject control_msg_judge(const struct control_keys *keys, const char *msg, size_t len,
                                      const char *sig, size_t sig_len, struct control_msg *out,
                                      struct control_judgement *j);

/*
 * What a consumer calls for each stream entry: refuses a msg longer than
 * CONTROL_MSG_MAX, verifies, parses, checks that the msg's key_id is the id
 * of the key that verified it, and that its type is in `allow`
 * (CONTROL_ALLOW_*). Returns the index of the verifying key and fills *out
 * (free with control_msg_free), or a negative code with *out zeroed.
 */
int control_msg_check(const struct verify_key *keys, size_t nkeys, unsigned allow, const char *msg,
                      size_t len, const char *sig_b64, struct control_msg *out, struct rwerr *err)
        __attribute__((warn_unused_result));

/* "HALT" or "RESUME". */
const char *control_type_name(enum control_type type);

/* Frees what control_msg_parse filled in and zeroes it; a zeroed struct is fine. */
void control_msg_free(struct control_msg *msg);

#endif
