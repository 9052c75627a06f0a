#include "keyring.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

const char *keyring_role_name(enum keyring_role role)
{
        switch (role) {
        case KEYRING_WATCHDOG:
                return "watchdog";
        case KEYRING_OPERATOR:
                return "operator";
        case KEYRING_NONE:
                break;
        }
        return "unknown";
}

/* The arrays of one role. */
struct role_keys {
        struct verify_key *keys;
        char **paths;
        size_t *n;
};

static struct role_keys role_keys(struct keyring *ring, enum keyring_role role)
{
        struct role_keys r;

        if (role == KEYRING_WATCHDOG) {
                r.keys = ring->watchdog;
                r.paths = ring->watchdog_path;
                r.n = &ring->nwatchdog;
        } else {
                r.keys = ring->operator;
                r.paths = ring->operator_path;
                r.n = &ring->noperator;
        }
        return r;
}

int keyring_add(struct keyring *ring, enum keyring_role role, const char *path, struct rwerr *err)
{
        struct role_keys r;
        struct verify_key vk;
        size_t i;
        int rc;

        if (role != KEYRING_WATCHDOG && role != KEYRING_OPERATOR)
                return rwerr_set(err, RW_ERR_INVALID, "%s: not a key role", path);
        r = role_keys(ring, role);
        if ((rc = verify_key_load(path, &vk, err)) != RW_OK)
                return rwerr_prefix(err, rc,
                                    role == KEYRING_WATCHDOG ? "watchdog key" : "operator key");
        for (i = 0; i < *r.n; i++) {
                if (strcmp(r.keys[i].key_id, vk.key_id) == 0)
                        return RW_OK;
        }
        if (*r.n == KEYRING_KEYS_MAX)
                return rwerr_set(err, RW_ERR_RANGE, "%s key: %s: more than %d %s keys",
                                 keyring_role_name(role), path, KEYRING_KEYS_MAX,
                                 keyring_role_name(role));
        if ((r.paths[*r.n] = strdup(path)) == NULL)
                return rwerr_set(err, RW_ERR_NOMEM, "out of memory for the key ring");
        r.keys[*r.n] = vk;
        (*r.n)++;
        return RW_OK;
}

/* Adds paths[0..n) to `role`; a failure goes to `skip` when there is one. */
static int add_all(struct keyring *ring, enum keyring_role role, char *const *paths, size_t n,
                   keyring_skip_fn skip, void *arg, struct rwerr *err)
{
        size_t i;
        int rc;

        for (i = 0; i < n; i++) {
                if ((rc = keyring_add(ring, role, paths[i], err)) == RW_OK)
                        continue;
                if (skip == NULL || rc == RW_ERR_NOMEM)
                        return rc;
                skip(arg, err);
        }
        return RW_OK;
}

int keyring_load(struct keyring *ring, const struct keyring_paths *paths, keyring_skip_fn skip,
                 void *arg, struct rwerr *err)
{
        int rc = RW_OK;

        memset(ring, 0, sizeof *ring);
        if (sodium_init() < 0)
                return rwerr_set(err, RW_ERR_IO, "libsodium failed to initialise");
        if (paths->signing_key != NULL &&
            (rc = signing_key_load(paths->signing_key, &ring->signing, err)) != RW_OK) {
                (void)rwerr_prefix(err, rc, "signing key");
                if (skip == NULL || rc == RW_ERR_NOMEM)
                        goto out;
                skip(arg, err);
        }
        rc = add_all(ring, KEYRING_WATCHDOG, paths->watchdog_keys, paths->nwatchdog, skip, arg,
                     err);
        if (rc == RW_OK)
                rc = add_all(ring, KEYRING_OPERATOR, paths->operator_keys, paths->noperator, skip,
                             arg, err);
out:
        if (rc != RW_OK)
                keyring_free(ring);
        return rc;
}

void keyring_free(struct keyring *ring)
{
        size_t i;

        if (ring == NULL)
                return;
        signing_key_free(ring->signing);
        for (i = 0; i < ring->nwatchdog; i++)
                free(ring->watchdog_path[i]);
        for (i = 0; i < ring->noperator; i++)
                free(ring->operator_path[i]);
        memset(ring, 0, sizeof *ring);
}

static long find_id(const struct verify_key *keys, size_t n, const char *key_id)
{
        size_t i;

        for (i = 0; i < n; i++) {
                if (strcmp(keys[i].key_id, key_id) == 0)
                        return (long)i;
        }
        return -1;
}

enum keyring_role keyring_role_of(const struct keyring *ring, const char *key_id, size_t *index)
{
        long i;

        if ((i = find_id(ring->watchdog, ring->nwatchdog, key_id)) >= 0) {
                if (index != NULL)
                        *index = (size_t)i;
                return KEYRING_WATCHDOG;
        }
        if ((i = find_id(ring->operator, ring->noperator, key_id)) >= 0) {
                if (index != NULL)
                        *index = (size_t)i;
                return KEYRING_OPERATOR;
        }
        return KEYRING_NONE;
}

int keyring_signer(const struct keyring *ring, unsigned roles, const char *msg, size_t len,
                   const char *sig_b64, const struct verify_key **key, enum keyring_role *role,
                   struct rwerr *err)
{
        int use_w = (roles & (1u << KEYRING_WATCHDOG)) && ring->nwatchdog > 0;
        int use_o = (roles & (1u << KEYRING_OPERATOR)) && ring->noperator > 0;
        int i = RW_ERR_REFUSED;

        *key = NULL;
        *role = KEYRING_NONE;
        if (!use_w && !use_o)
                return rwerr_set(err, RW_ERR_INVALID, "no public key configured to verify with");
        if (use_w) {
                i = verify_key_find(ring->watchdog, ring->nwatchdog, msg, len, sig_b64, err);
                if (i >= 0) {
                        *key = &ring->watchdog[i];
                        *role = KEYRING_WATCHDOG;
                        return RW_OK;
                }
                if (i != RW_ERR_REFUSED) /* the signature itself is malformed */
                        return i;
        }
        if (use_o) {
                i = verify_key_find(ring->operator, ring->noperator, msg, len, sig_b64, err);
                if (i >= 0) {
                        *key = &ring->operator[i];
                        *role = KEYRING_OPERATOR;
                        return RW_OK;
                }
                if (i != RW_ERR_REFUSED)
                        return i;
        }
        return rwerr_set(err, RW_ERR_REFUSED,
                         "signature does not verify with any configured key (%zu watchdog, %zu "
                         "operator)",
                         use_w ? ring->nwatchdog : 0, use_o ? ring->noperator : 0);
}
