/*
 * keyring: the keys of halt control in one place, loaded once.
 *
 * A key ring holds the public keys a relayer trusts (signing_key.h): the
 * watchdog keys (a HALT, a heartbeat) and the operator keys (a HALT or a
 * RESUME), and optionally one secret key to sign with (the watchdog's, or
 * for `relaywatch resume` the operator's). It answers which configured key
 * verifies a signature and whether a key_id is a watchdog or an operator
 * key.
 *
 * It takes plain file names (struct keyring_paths), not the configuration:
 * base/ sits below config/. A command fills the paths from [control]
 * signing_key, watchdog_keys and operator_keys.
 *
 * The ring is a plain struct the caller owns (zero it, or let keyring_load
 * do it); keyring_free wipes and frees the secret key and the file names.
 */
#ifndef RELAYWATCH_KEYRING_H
#define RELAYWATCH_KEYRING_H

#include <stddef.h>

#include "rwerr.h"
#include "signing_key.h"

/* Public keys per role: the configuration's 8, and the watchdog's own .pub besides. */
#define KEYRING_KEYS_MAX 16

enum keyring_role {
        KEYRING_NONE = 0,
        KEYRING_WATCHDOG = 1, /* may sign a HALT and the heartbeat */
        KEYRING_OPERATOR = 2, /* may sign a HALT or a RESUME */
};

/* Key files to load; borrowed for the call only. */
struct keyring_paths {
        const char *signing_key;    /* a secret key file; NULL: none loaded */
        char *const *watchdog_keys; /* public key files ([control] watchdog_keys) */
        size_t nwatchdog;
        char *const *operator_keys; /* public key files ([control] operator_keys) */
        size_t noperator;
};

struct keyring {
        struct signing_key *signing; /* NULL unless loaded; wiped by keyring_free */
        size_t nwatchdog, noperator;
        struct verify_key watchdog[KEYRING_KEYS_MAX];
        struct verify_key operator[KEYRING_KEYS_MAX];
        char *watchdog_path[KEYRING_KEYS_MAX]; /* the file each key came from */
        char *operator_path[KEYRING_KEYS_MAX];
};

/*
 * Called by keyring_load for a key file that could not be loaded when the
 * caller wants the others anyway; `err` names the role and the file.
 */
typedef void (*keyring_skip_fn)(void *arg, const struct rwerr *err);

/*
 * Loads `paths` into `ring`, which must hold nothing (new, or after
 * keyring_free; it is zeroed first): the secret key, then the
 * watchdog keys, then the operator keys. Messages name the role and the
 * file: "watchdog key: /etc/relaywatch/a.pub: cannot open ...". With
 * `skip` NULL the first file that fails fails the load and the ring is
 * left empty; otherwise each failing file is passed to skip(arg, err) and
 * the others are loaded (a failing secret key is skipped too). RW_ERR_RANGE
 * for more than KEYRING_KEYS_MAX files of a role. Free with keyring_free
 * in every case.
 */
int keyring_load(struct keyring *ring, const struct keyring_paths *paths, keyring_skip_fn skip,
                 void *arg, struct rwerr *err) __attribute__((warn_unused_result));

/*
 * Adds the public key file `path` to `role`'s keys. A key already there
 * (same key_id in that role) is not added twice: RW_OK. The message names
 * the role and the file.
 */
int keyring_add(struct keyring *ring, enum keyring_role role, const char *path, struct rwerr *err)
        __attribute__((warn_unused_result));

/* Wipes and frees the secret key and the file names, and zeroes the ring. NULL ok. */
void keyring_free(struct keyring *ring);

/*
 * Whether `key_id` is one of the ring's keys: KEYRING_WATCHDOG (looked up
 * first), KEYRING_OPERATOR or KEYRING_NONE; *index (may be NULL) is its
 * place in that role's arrays.
 */
enum keyring_role keyring_role_of(const struct keyring *ring, const char *key_id, size_t *index);

/*
 * Which key of the roles in `roles` (a mask: KEYRING_ANY, or 1u << a role)
 * verifies sig_b64 over exactly msg[0..len), whatever the msg says; the
 * watchdog keys are tried first. RW_OK with *key (borrowed from the ring)
 * and *role set; RW_ERR_INVALID for a signature that is not 64 bytes of
 * base64 or no key of those roles; RW_ERR_REFUSED when none verifies it.
 * On failure *key is NULL and *role KEYRING_NONE.
 */
#define KEYRING_ANY ((1u << KEYRING_WATCHDOG) | (1u << KEYRING_OPERATOR))
int keyring_signer(const struct keyring *ring, unsigned roles, const char *msg, size_t len,
                   const char *sig_b64, const struct verify_key **key, enum keyring_role *role,
                   struct rwerr *err) __attribute__((warn_unused_result));

/* "watchdog", "operator" or "unknown". */
const char *keyring_role_name(enum keyring_role role);

#endif
