/*
 * signing_key: the Ed25519 keys (libsodium) that sign and verify control
 * messages (control_msg.h).
 *
 * A key pair lives in two text files of one line each:
 *
 *     FILE      relaywatch-ed25519-secret-v1 <base64 of the 64-byte secret key>
 *     FILE.pub  relaywatch-ed25519-public-v1 <base64 of the 32-byte public key>
 *
 * base64 is the original alphabet with padding (sodium_bin2base64,
 * sodium_base64_VARIANT_ORIGINAL). The 64-byte secret key is libsodium's
 * layout: the 32-byte seed followed by the 32-byte public key. The secret
 * file must be mode 0600 (or stricter); loading refuses anything readable or
 * writable by group or others.
 *
 * Every key has a key_id: 16 lowercase hex digits, the first 8 bytes of
 * BLAKE2b-256 (crypto_generichash, 32-byte output, no key) of the 32-byte
 * public key. It names the key in messages and logs; key material itself
 * is never formatted into text by this module.
 */
#ifndef RELAYWATCH_SIGNING_KEY_H
#define RELAYWATCH_SIGNING_KEY_H

#include <stddef.h>

#include "rwerr.h"

#define SIGNING_KEY_SECRET_BYTES 64 /* crypto_sign_SECRETKEYBYTES */
#define SIGNING_KEY_PUBLIC_BYTES 32 /* crypto_sign_PUBLICKEYBYTES */
#define SIGNING_KEY_ID_LEN 16
#define SIGNING_KEY_ID_SIZE (SIGNING_KEY_ID_LEN + 1)

#define SIGNING_KEY_SECRET_HEADER "relaywatch-ed25519-secret-v1"
#define SIGNING_KEY_PUBLIC_HEADER "relaywatch-ed25519-public-v1"

/* A public key: a plain value, no secret, copy it freely. */
struct verify_key {
        unsigned char pk[SIGNING_KEY_PUBLIC_BYTES];
        char key_id[SIGNING_KEY_ID_SIZE];
};

/*
 * A secret key. Allocated with sodium_malloc (locked in memory, guard
 * pages) by signing_key_load, wiped and released by signing_key_free.
 */
struct signing_key {
        unsigned char sk[SIGNING_KEY_SECRET_BYTES];
        struct verify_key pub;
};

/*
 * Generates a key pair: the secret key to `path` (created, never replaced:
 * O_EXCL, mode 0600, fsync'd) and the public key to `path`.pub (mode 0644).
 * Refuses when either file exists; on any failure neither file is left
 * behind. The directory is fsync'd too, so the pair survives a crash.
 */
int signing_key_generate(const char *path, struct rwerr *err) __attribute__((warn_unused_result));

/*
 * Loads the secret key at `path`: refuses a file other than a regular one, a
 * mode that gives group or others any access, a wrong header, bad base64, a
 * wrong length, and a secret key whose embedded public half is not the one
 * its seed derives. On success *out is a new key, freed with
 * signing_key_free; on failure *out is NULL and nothing is left in memory.
 */
int signing_key_load(const char *path, struct signing_key **out, struct rwerr *err)
        __attribute__((warn_unused_result));

/* Wipes and frees a key from signing_key_load; NULL is allowed. */
void signing_key_free(struct signing_key *key);

/* Loads a public key file (FILE.pub format above) into *out; *out is untouched on failure. */
int verify_key_load(const char *path, struct verify_key *out, struct rwerr *err)
        __attribute__((warn_unused_result));

/*
 * Which of keys[0..nkeys) verifies sig_b64 (NUL-terminated; base64 of the
 * 64-byte detached Ed25519 signature, original alphabet, padded) over
 * exactly msg[0..len). Returns the index of the first key that verifies,
 * or a negative code: RW_ERR_INVALID for a signature that is not 64 bytes
 * of base64 (or no keys), RW_ERR_REFUSED when no key verifies it.
 */
int verify_key_find(const struct verify_key *keys, size_t nkeys, const char *msg, size_t len,
                    const char *sig_b64, struct rwerr *err) __attribute__((warn_unused_result));

/* A verify_key from 32 raw public key bytes (computes its key_id). */
void verify_key_from_bytes(const unsigned char pk[SIGNING_KEY_PUBLIC_BYTES],
                           struct verify_key *out);

#endif
