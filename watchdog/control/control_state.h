/*
 * control_state: a reader's view of the control stream — the HALTs in
 * force and the message ids accepted so far — built by judging entries one
 * by one exactly as docs/PROTOCOL.md section 6 says a relayer must:
 *
 *   step 1       the entry has one msg field, one sig field and nothing else;
 *   steps 2-11   control_msg_judge (size, signature, UTF-8, strict JSON,
 *                version, fields, key_id, who may sign a RESUME);
 *   step 12      not a replay: the id was not accepted from an earlier
 *                entry, and a RESUME lifts at least one HALT in force.
 *                The same entry (same entry id) judged again — pending
 *                entries read again after a reconnection — is accepted
 *                and changes nothing (`known`).
 *
 * An accepted HALT adds its id to the HALTs in force; an accepted RESUME
 * removes the ids it lists in `lifts`. The halt key is read first
 * (control_state_halt_key): its HALT is in force, and the same HALT met
 * again on the stream is the same HALT, not a replay.
 *
 * The reference consumer, `relaywatch control tail`, `status`, `resume` and
 * the supervisor's stream watch all use it, so they agree with each other
 * and with the conformance vectors. No I/O, no clock: feed it what Redis
 * returned. One thread at a time.
 */
#ifndef RELAYWATCH_CONTROL_STATE_H
#define RELAYWATCH_CONTROL_STATE_H

#include <stddef.h>

#include "control_msg.h"
#include "keyring.h"

#define CONTROL_ENTRY_ID_SIZE 48 /* "1700000000000-0"; Redis ids are at most 41 characters */
#define CONTROL_FROM_HALT_KEY "halt key" /* where a HALT came from when not from an entry */

/* One field of a stream entry or of the halt key's hash, as Redis returned it (bytes). */
struct control_field {
        const char *name;
        size_t name_len;
        const char *value;
        size_t value_len;
};

/* A HALT in force. */
struct control_in_force {
        char halt_id[CONTROL_ID_SIZE];
        char entry_id
                [CONTROL_ENTRY_ID_SIZE]; /* its stream entry; "" while known from the halt key only */
        char key_id[SIGNING_KEY_ID_SIZE]; /* the key that signed it */
        enum control_role role;           /* that key's role */
        char *msg;                        /* the verified msg bytes (NUL-terminated copy) */
        size_t msg_len;
};

/* What became of one entry. */
struct control_outcome {
        enum control_reject reject;       /* CONTROL_ACCEPTED, or the first step that failed */
        enum control_type type;           /* when accepted, or a replay */
        enum control_role role;           /* of the verifying key; NONE when none verified */
        char key_id[SIGNING_KEY_ID_SIZE]; /* of the verifying key; "" when none */
        char msg_id[CONTROL_ID_SIZE];     /* when accepted, or a replay; else "" */
        size_t nlifted;                   /* an accepted RESUME: HALTs it took out of force */
        int known; /* accepted, changing nothing: a HALT in force already, or an entry read again */
        char first_seen[CONTROL_ENTRY_ID_SIZE]; /* a replay of an id: where it was accepted */
        char detail[RWERR_MSG_MAX];             /* a rejection: what failed; escaped, safe to log */
};

struct control_state;

/* The trusted keys of `ring` (borrowed: ring must outlive k). */
void control_keys_from_keyring(struct control_keys *k, const struct keyring *ring);

/* A new, empty state trusting `keys` (copied). NULL when out of memory. */
struct control_state *control_state_new(const struct control_keys *keys);

/* Frees; NULL is allowed. */
void control_state_free(struct control_state *st);

/*
 * Judges the stream entry `entry_id` with fields[0..n) and applies it when
 * accepted. Returns out->reject. With `m` non-NULL an accepted entry's
 * parsed msg is left there (free with control_msg_free); otherwise *m is
 * zeroed. CONTROL_NO_MEMORY leaves the state as it was: judge it again.
 */
enum control_reject control_state_entry(struct control_state *st, const char *entry_id,
                                        const struct control_field *fields, size_t n,
                                        struct control_msg *m, struct control_outcome *out);

/*
 * Judges the halt key's fields (a HALT only; a RESUME there is a
 * CONTROL_BAD_FIELD) and, when accepted, puts its HALT in force. Read it
 * before the stream's entries. A HALT whose id a RESUME already lifted is
 * a CONTROL_REPLAY (a stale or copied halt key).
 */
enum control_reject control_state_halt_key(struct control_state *st,
                                           const struct control_field *fields, size_t n,
                                           struct control_msg *m, struct control_outcome *out);

/* 1 while any HALT is in force. */
int control_state_halted(const struct control_state *st);

/* The HALTs in force, oldest first: *list borrowed until the next call that changes st. */
size_t control_state_in_force(const struct control_state *st, const struct control_in_force **list);

/* Forgets every HALT in force and every accepted id (keeps the keys). */
void control_state_reset(struct control_state *st);

#endif
