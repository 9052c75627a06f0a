/*
 * audit_note: checkpoints of the audit log as C2SP signed notes.
 *
 * A checkpoint (C2SP tlog-checkpoint) is a note whose text is
 *
 *     <origin>\n
 *     <tree size, decimal, no leading zeros>\n
 *     <root hash, base64 (standard alphabet, padded)>\n
 *     [extension lines]
 *
 * and a signed note (C2SP signed-note) is that text, an empty line, and one
 * signature line per signer:
 *
 *     — <key name> <base64(key hash (4 bytes) || signature)>\n
 *
 * ("—" is U+2014, the em dash, then a space). For an Ed25519 key
 * (algorithm byte 0x01) the key hash is the first 4 bytes of
 * SHA-256(name || 0x0A || 0x01 || public key) and the signature is over
 * exactly the note's text (every byte up to and including the text's last
 * newline). A verifier key is written `<name>+<key hash, 8 hex>+<base64(0x01
 * || public key)>` (what Go's golang.org/x/mod/sumdb/note reads).
 *
 * A witness countersigns with a C2SP tlog-cosignature (cosignature/v1): an
 * Ed25519 signature over
 *
 *     cosignature/v1\n
 *     time <seconds since the epoch, decimal>\n
 *     <the checkpoint's text>
 *
 * whose key hash uses the algorithm byte 0x04 (SHA-256(name || 0x0A || 0x04
 * || public key)[0..4)) and whose signature line carries key hash ||
 * 8-byte big-endian time || 64-byte signature.
 *
 * Parsing is strict: a note is UTF-8 text, every line ends in \n, the text
 * has no empty line and is followed by exactly one empty line, names have no
 * space or '+', a note has 1 to AUDIT_NOTE_SIGS_MAX signature lines and is at
 * most AUDIT_NOTE_MAX bytes. Errors name what is wrong and where ("line 4:
 * the signature is not base64").
 */
#ifndef RELAYWATCH_AUDIT_NOTE_H
#define RELAYWATCH_AUDIT_NOTE_H

#include <stddef.h>
#include <stdint.h>

#include "audit_tree.h"
#include "rwerr.h"

#define AUDIT_NOTE_MAX 16384    /* bytes of a whole signed note */
#define AUDIT_NOTE_SIGS_MAX 32  /* signature lines on one note */
#define AUDIT_NOTE_NAME_MAX 256 /* bytes of a key name or an origin */
#define AUDIT_NOTE_ALG_ED25519 0x01
#define AUDIT_NOTE_ALG_COSIGNATURE 0x04
#define AUDIT_NOTE_KEYHASH_BYTES 4

/* One signature line, as parsed: nothing is verified yet. */
struct audit_note_sig {
        char name[AUDIT_NOTE_NAME_MAX];
        unsigned char key_hash[AUDIT_NOTE_KEYHASH_BYTES];
        unsigned char sig[72]; /* the signature bytes after the key hash */
        size_t sig_len;        /* 64 for Ed25519, 72 for a cosignature (time || sig) */
};

/* A parsed note; owns `text` (malloc'd, NUL-terminated). Free with audit_note_release. */
struct audit_note {
        char *text; /* the signed text, ending in \n */
        size_t text_len;
        struct audit_note_sig sigs[AUDIT_NOTE_SIGS_MAX];
        size_t nsigs;
};

/* A checkpoint's body. */
struct audit_checkpoint {
        char origin[AUDIT_NOTE_NAME_MAX];
        uint64_t size;
        unsigned char root[AUDIT_HASH_BYTES];
};

/* The key hash of (name, algorithm byte, 32-byte public key). */
void audit_note_key_hash(const char *name, unsigned char alg, const unsigned char pk[32],
                         unsigned char out[AUDIT_NOTE_KEYHASH_BYTES]);

/*
 * The verifier key string of an Ed25519 key ("name+hash+base64"), into
 * out[cap]. RW_ERR_INVALID for a name that is empty, too long, or holds a
 * space, '+' or a control character; RW_ERR_RANGE when cap is too small.
 */
int audit_note_vkey(const char *name, const unsigned char pk[32], char *out, size_t cap,
                    struct rwerr *err) __attribute__((warn_unused_result));

/* Parses a verifier key string back (Ed25519 only): name into name[AUDIT_NOTE_NAME_MAX], key into pk. */
int audit_note_vkey_parse(const char *vkey, char name[AUDIT_NOTE_NAME_MAX], unsigned char pk[32],
                          struct rwerr *err) __attribute__((warn_unused_result));

/*
 * The checkpoint text of (origin, size, root) into *text (malloc'd,
 * NUL-terminated; the caller frees). RW_ERR_INVALID for a bad origin.
 */
int audit_checkpoint_format(const struct audit_checkpoint *c, char **text, struct rwerr *err)
        __attribute__((warn_unused_result));

/*
 * Reads a checkpoint's text (a note's `text`): origin, size and root;
 * extension lines after the root are allowed and ignored. Strict: decimal
 * without leading zeros or sign, base64 of exactly 32 bytes.
 */
int audit_checkpoint_parse(const char *text, size_t len, struct audit_checkpoint *out,
                           struct rwerr *err) __attribute__((warn_unused_result));

/*
 * Signs `text` (which must end in \n and hold no empty line) with the
 * Ed25519 secret key sk (libsodium's 64-byte layout) under `name`: *note is
 * the whole signed note (text, empty line, one signature line), malloc'd
 * and NUL-terminated; the caller frees.
 */
int audit_note_sign(const char *text, const char *name, const unsigned char sk[64], char **note,
                    struct rwerr *err) __attribute__((warn_unused_result));

/*
 * Parses a signed note of len bytes into *out (zeroed first). On failure
 * *out holds nothing to release.
 */
int audit_note_parse(const char *note, size_t len, struct audit_note *out, struct rwerr *err)
        __attribute__((warn_unused_result));

/* Frees what audit_note_parse allocated and zeroes the note. NULL ok. */
void audit_note_release(struct audit_note *n);

/*
 * Whether the note carries a valid Ed25519 signature by (name, pk): RW_OK
 * when a signature line with that name and key hash verifies over the
 * text; RW_ERR_REFUSED when a line with that name and key hash is there but
 * does not verify, or none is there (the message says which).
 */
int audit_note_verify(const struct audit_note *n, const char *name, const unsigned char pk[32],
                      struct rwerr *err) __attribute__((warn_unused_result));

/*
 * Adds a cosignature by the witness (name, sk) at `time_s` to the signed
 * note `note` (as audit_note_sign made it, or as parsed text): *out is the
 * note with one more signature line, appended after the existing ones
 * (malloc'd; the caller frees). A previous cosignature by the same key is
 * replaced.
 */
int audit_note_cosign(const char *note, size_t len, const char *name, const unsigned char sk[64],
                      uint64_t time_s, char **out, struct rwerr *err)
        __attribute__((warn_unused_result));

/*
 * Whether the note carries a valid cosignature/v1 by (name, pk): RW_OK with
 * *time_s (may be NULL) the time it states; RW_ERR_REFUSED otherwise.
 */
int audit_note_verify_cosignature(const struct audit_note *n, const char *name,
                                  const unsigned char pk[32], uint64_t *time_s, struct rwerr *err)
        __attribute__((warn_unused_result));

#endif
