/*
 * Fuzz target for watchdog/audit/audit_note: whatever a witness, a mirror or
 * a disk hands back as a signed note, a checkpoint or a verifier key.
 *
 * The input goes, in a buffer of exactly its size, through audit_note_parse
 * and audit_checkpoint_parse, and NUL-terminated through
 * audit_note_vkey_parse and audit_note_sign. Nothing may read or write out
 * of bounds or leak; a refusal must come with a terminated message; and
 * what is accepted must hold what the header promises:
 *   - a parsed note's text ends in a newline, is NUL-terminated, comes
 *     before the note's end, and it has 1 to AUDIT_NOTE_SIGS_MAX signatures
 *     of 1 to 72 bytes under non-empty names; a cosignature added to it
 *     parses and verifies (unless the note is full);
 *   - a parsed checkpoint formats back to its first three lines (when its
 *     origin is also a key name);
 *   - a parsed verifier key is written back the same (hex case aside);
 *   - a text audit_note_sign accepts comes back from parse and verify.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "audit_note.h"
#include "rwerr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fuzz_keys {
        unsigned char pk[32], sk[64];
};

static struct fuzz_keys log_key, witness_key;
static int keys_ready;

static void keys_init(void)
{
        unsigned char seed[32];

        if (keys_ready)
                return;
        if (sodium_init() < 0)
                abort();
        memset(seed, 0x5e, sizeof seed);
        crypto_sign_seed_keypair(log_key.pk, log_key.sk, seed);
        memset(seed, 0x77, sizeof seed);
        crypto_sign_seed_keypair(witness_key.pk, witness_key.sk, seed);
        keys_ready = 1;
}

static void check_refusal(int rc, const struct rwerr *err)
{
        if (rc < 0 &&
            (strnlen(err->msg, sizeof err->msg) == sizeof err->msg || err->msg[0] == '\0'))
                abort();
}

static void check_cosign(const struct audit_note *n, const char *note, size_t len)
{
        struct audit_note back;
        struct rwerr err;
        uint64_t t = 0;
        char *out = NULL;
        int rc;

        memset(&err, 0, sizeof err);
        rc = audit_note_cosign(note, len, "witness.example/fuzz", witness_key.sk, 1795405749, &out,
                               &err);
        check_refusal(rc, &err);
        if (rc != RW_OK) {
                if (rc != RW_ERR_RANGE)
                        abort(); /* a note that parses is refused only when it is full */
                return;
        }
        if (audit_note_parse(out, strlen(out), &back, &err) != RW_OK)
                abort();
        if (back.text_len != n->text_len || memcmp(back.text, n->text, n->text_len) != 0)
                abort();
        if (audit_note_verify_cosignature(&back, "witness.example/fuzz", witness_key.pk, &t,
                                          &err) != RW_OK ||
            t != 1795405749)
                abort();
        audit_note_release(&back);
        free(out);
}

static void fuzz_note(const char *buf, size_t size)
{
        struct audit_note n;
        struct rwerr err;
        size_t i;
        int rc;

        memset(&err, 0, sizeof err);
        rc = audit_note_parse(buf, size, &n, &err);
        check_refusal(rc, &err);
        if (rc != RW_OK) {
                if (n.text != NULL || n.nsigs != 0)
                        abort();
                return;
        }
        if (n.text == NULL || n.text_len == 0 || n.text_len >= size ||
            n.text[n.text_len - 1] != '\n' || n.text[n.text_len] != '\0' ||
            strlen(n.text) != n.text_len || memcmp(n.text, buf, n.text_len) != 0)
                abort();
        if (n.nsigs == 0 || n.nsigs > AUDIT_NOTE_SIGS_MAX)
                abort();
        for (i = 0; i < n.nsigs; i++) {
                if (n.sigs[i].name[0] == '\0' || n.sigs[i].sig_len == 0 ||
                    n.sigs[i].sig_len > sizeof n.sigs[i].sig)
                        abort();
        }
        rc = audit_note_verify(&n, "relaywatch.example/fuzz", log_key.pk, &err);
        check_refusal(rc, &err);
        check_cosign(&n, buf, size);
        audit_note_release(&n);
}

static void fuzz_checkpoint(const char *buf, size_t size)
{
        struct audit_checkpoint c;
        struct rwerr err;
        char *text = NULL;
        size_t len;
        int rc;

        memset(&err, 0, sizeof err);
        rc = audit_checkpoint_parse(buf, size, &c, &err);
        check_refusal(rc, &err);
        if (rc != RW_OK)
                return;
        if (strnlen(c.origin, sizeof c.origin) == sizeof c.origin || c.origin[0] == '\0')
                abort();
        rc = audit_checkpoint_format(&c, &text, &err);
        check_refusal(rc, &err);
        if (rc != RW_OK)
                return; /* an origin that is no key name: parsed, not written */
        len = strlen(text);
        if (len > size || memcmp(text, buf, len) != 0)
                abort();
        free(text);
}

static void fuzz_vkey(const char *s)
{
        char name[AUDIT_NOTE_NAME_MAX], back[512];
        unsigned char pk[32];
        struct rwerr err;
        size_t name_len;
        int rc;

        memset(&err, 0, sizeof err);
        rc = audit_note_vkey_parse(s, name, pk, &err);
        check_refusal(rc, &err);
        if (rc != RW_OK)
                return;
        if (audit_note_vkey(name, pk, back, sizeof back, &err) != RW_OK)
                abort();
        name_len = strlen(name);
        if (strlen(back) != strlen(s) || memcmp(back, s, name_len + 1) != 0 ||
            strncasecmp(back + name_len + 1, s + name_len + 1, 8) != 0 ||
            strcmp(back + name_len + 9, s + name_len + 9) != 0)
                abort();
}

static void fuzz_sign(const char *s)
{
        struct audit_note n;
        struct rwerr err;
        char *note = NULL;
        int rc;

        memset(&err, 0, sizeof err);
        rc = audit_note_sign(s, "relaywatch.example/fuzz", log_key.sk, &note, &err);
        check_refusal(rc, &err);
        if (rc != RW_OK)
                return;
        if (audit_note_parse(note, strlen(note), &n, &err) != RW_OK)
                abort();
        if (strcmp(n.text, s) != 0 || n.nsigs != 1 ||
            audit_note_verify(&n, "relaywatch.example/fuzz", log_key.pk, &err) != RW_OK)
                abort();
        audit_note_release(&n);
        free(note);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *buf, *str;

        keys_init();
        /* Exactly `size` bytes, so a read past the end is caught. */
        buf = malloc(size > 0 ? size : 1);
        str = malloc(size + 1);
        if (buf == NULL || str == NULL) {
                free(buf);
                free(str);
                return 0;
        }
        if (size > 0)
                memcpy(buf, data, size);
        fuzz_note(buf, size);
        fuzz_checkpoint(buf, size);
        memcpy(str, buf, size);
        str[size] = '\0';
        fuzz_vkey(str);
        fuzz_sign(str);
        free(buf);
        free(str);
        return 0;
}
