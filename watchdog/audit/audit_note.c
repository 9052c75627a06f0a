#include "audit_note.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "b64.h"
#include "hex.h"
#include "json_strict.h"
#include "rwerr.h"

/*
 * What follows c2sp.org/signed-note, c2sp.org/tlog-checkpoint and
 * c2sp.org/tlog-cosignature (cosignature/v1), and Go's
 * golang.org/x/mod/sumdb/note, byte for byte. Where this reader is
 * stricter than Go's note.Open it says so:
 *
 *   - the text holds no empty line (the spec allows them and splits at the
 *     last one; a checkpoint never has one), so the one empty line is the
 *     separator;
 *   - base64 is canonical (no stray bits in the last character, padding as
 *     RFC 4648 writes it), as libsodium decodes it, and of the base64
 *     alphabet only (b64_decode);
 *   - a key name holds no control character (C0, DEL, C1) either;
 *   - a signature carries at most 72 bytes after its key hash (Ed25519 and
 *     cosignature/v1 need 64 and 72) and a note at most 32 signature lines.
 *
 * Of several lines with the name and key hash asked for, the first decides
 * (Go ignores the later ones too).
 */

#define EM_DASH_SP_LEN 4
#define SIG_BYTES_MAX (AUDIT_NOTE_KEYHASH_BYTES + 72)
#define SIG_B64_MAX 104 /* base64 of SIG_BYTES_MAX bytes */
#define ED25519_SIG_BYTES 64
#define COSIG_BYTES (8 + ED25519_SIG_BYTES)
#define COSIG_HEADER "cosignature/v1\n"
#define TIME_MAX UINT64_C(0x7fffffffffffffff)
/* "— " name " " base64 "\n" at its longest. */
#define SIG_LINE_MAX (EM_DASH_SP_LEN + AUDIT_NOTE_NAME_MAX + 1 + SIG_B64_MAX + 1)

/* U+2014 (em dash) in UTF-8 and a space: the start of a signature line. */
static const unsigned char em_dash_sp[EM_DASH_SP_LEN] = {0xe2, 0x80, 0x94, 0x20};

static int sodium_ready(struct rwerr *err)
{
        if (sodium_init() < 0)
                return rwerr_set(err, RW_ERR_IO, "libsodium failed to initialise");
        return RW_OK;
}

/* The code point of the well-formed UTF-8 sequence of n bytes at s. */
static uint32_t utf8_decode(const unsigned char *s, size_t n)
{
        switch (n) {
        case 1:
                return s[0];
        case 2:
                return ((uint32_t)(s[0] & 0x1f) << 6) | (s[1] & 0x3f);
        case 3:
                return ((uint32_t)(s[0] & 0x0f) << 12) | ((uint32_t)(s[1] & 0x3f) << 6) |
                       (s[2] & 0x3f);
        default:
                return ((uint32_t)(s[0] & 0x07) << 18) | ((uint32_t)(s[1] & 0x3f) << 12) |
                       ((uint32_t)(s[2] & 0x3f) << 6) | (s[3] & 0x3f);
        }
}

/* Go's unicode.IsSpace: the White_Space property. */
static int is_unicode_space(uint32_t c)
{
        return (c >= 0x09 && c <= 0x0d) || c == 0x20 || c == 0x85 || c == 0xa0 || c == 0x1680 ||
               (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f ||
               c == 0x205f || c == 0x3000;
}

/*
 * Why s[0..len) is not a key name (C2SP signed-note: non-empty, no Unicode
 * space, no '+'; here also UTF-8 with no control character and shorter
 * than AUDIT_NOTE_NAME_MAX), or NULL when it is one.
 */
static const char *name_fault(const char *s, size_t len)
{
        const unsigned char *u = (const unsigned char *)s;
        size_t i = 0, n;
        uint32_t c;

        if (len == 0)
                return "is empty";
        if (len >= AUDIT_NOTE_NAME_MAX)
                return "is longer than 255 bytes";
        while (i < len) {
                if (u[i] == 0 || (n = utf8_sequence_len(u + i, len - i)) == 0)
                        return "is not UTF-8";
                c = utf8_decode(u + i, n);
                if (is_unicode_space(c))
                        return "holds a space";
                if (c == '+')
                        return "holds a '+'";
                if (c < 0x20 || (c >= 0x7f && c <= 0x9f))
                        return "holds a control character";
                i += n;
        }
        return NULL;
}

/*
 * Checks that s[0..len) is UTF-8 with no control character but newline
 * (C2SP signed-note). Messages count lines from 1.
 */
static int check_chars(const char *s, size_t len, struct rwerr *err)
{
        const unsigned char *u = (const unsigned char *)s;
        size_t i = 0, line = 1, n;

        while (i < len) {
                if (u[i] == '\n') {
                        line++;
                        i++;
                } else if (u[i] < 0x20) {
                        return rwerr_set(err, RW_ERR_INVALID,
                                         "line %zu: a control character (0x%02x)", line, u[i]);
                } else if (u[i] < 0x80) {
                        i++;
                } else if ((n = utf8_sequence_len(u + i, len - i)) == 0) {
                        return rwerr_set(err, RW_ERR_INVALID, "line %zu: not UTF-8 (byte %zu)",
                                         line, i);
                } else {
                        i += n;
                }
        }
        return RW_OK;
}

/* The 1-based line that byte `at` of s is on. */
static size_t line_of(const char *s, size_t at)
{
        size_t i, line = 1;

        for (i = 0; i < at; i++)
                line += s[i] == '\n';
        return line;
}

/*
 * Checks a note's text on its own: 1 to AUDIT_NOTE_MAX bytes of UTF-8, no
 * control character but newline, ending in a newline, no empty line.
 */
static int check_text(const char *text, size_t len, struct rwerr *err)
{
        size_t i;
        int rc;

        if (len == 0)
                return rwerr_set(err, RW_ERR_INVALID, "the text is empty");
        if (len > AUDIT_NOTE_MAX)
                return rwerr_set(err, RW_ERR_RANGE, "a text of %zu bytes: at most %d are allowed",
                                 len, AUDIT_NOTE_MAX);
        if ((rc = check_chars(text, len, err)) != RW_OK)
                return rc;
        if (text[len - 1] != '\n')
                return rwerr_set(err, RW_ERR_INVALID, "the text does not end in a newline");
        if (text[0] == '\n')
                return rwerr_set(err, RW_ERR_INVALID, "line 1 is empty: a text has no empty line");
        for (i = 0; i + 1 < len; i++) {
                if (text[i] == '\n' && text[i + 1] == '\n')
                        return rwerr_set(err, RW_ERR_INVALID,
                                         "line %zu is empty: a text has no empty line",
                                         line_of(text, i + 1));
        }
        return RW_OK;
}

static uint32_t key_hash_u32(const unsigned char kh[AUDIT_NOTE_KEYHASH_BYTES])
{
        return ((uint32_t)kh[0] << 24) | ((uint32_t)kh[1] << 16) | ((uint32_t)kh[2] << 8) | kh[3];
}

void audit_note_key_hash(const char *name, unsigned char alg, const unsigned char pk[32],
                         unsigned char out[AUDIT_NOTE_KEYHASH_BYTES])
{
        static const unsigned char nl = '\n';
        unsigned char h[crypto_hash_sha256_BYTES];
        crypto_hash_sha256_state st;

        crypto_hash_sha256_init(&st);
        crypto_hash_sha256_update(&st, (const unsigned char *)name, strlen(name));
        crypto_hash_sha256_update(&st, &nl, 1);
        crypto_hash_sha256_update(&st, &alg, 1);
        crypto_hash_sha256_update(&st, pk, 32);
        crypto_hash_sha256_final(&st, h);
        memcpy(out, h, AUDIT_NOTE_KEYHASH_BYTES);
}

int audit_note_vkey(const char *name, const unsigned char pk[32], char *out, size_t cap,
                    struct rwerr *err)
{
        unsigned char key[33], kh[AUDIT_NOTE_KEYHASH_BYTES];
        char b64[sodium_base64_ENCODED_LEN(33, sodium_base64_VARIANT_ORIGINAL)];
        const char *why;
        size_t need;

        if ((why = name_fault(name, strlen(name))) != NULL)
                return rwerr_set(err, RW_ERR_INVALID, "verifier key: the name %s", why);
        key[0] = AUDIT_NOTE_ALG_ED25519;
        memcpy(key + 1, pk, 32);
        audit_note_key_hash(name, AUDIT_NOTE_ALG_ED25519, pk, kh);
        sodium_bin2base64(b64, sizeof b64, key, sizeof key, sodium_base64_VARIANT_ORIGINAL);
        need = strlen(name) + 1 + 8 + 1 + strlen(b64) + 1;
        if (cap < need)
                return rwerr_set(err, RW_ERR_RANGE,
                                 "verifier key: needs %zu bytes, the buffer has %zu", need, cap);
        (void)snprintf(out, cap, "%s+%08" PRIx32 "+%s", name, key_hash_u32(kh), b64);
        return RW_OK;
}

int audit_note_vkey_parse(const char *vkey, char name[AUDIT_NOTE_NAME_MAX], unsigned char pk[32],
                          struct rwerr *err)
{
        unsigned char key[36], kh[AUDIT_NOTE_KEYHASH_BYTES];
        const char *plus1, *plus2, *why;
        char nm[AUDIT_NOTE_NAME_MAX];
        uint32_t want = 0;
        size_t name_len, key_len, b64_len;
        int i, d;

        if ((plus1 = strchr(vkey, '+')) == NULL || (plus2 = strchr(plus1 + 1, '+')) == NULL)
                return rwerr_set(err, RW_ERR_INVALID,
                                 "verifier key: not name+hash+key (two '+' are needed)");
        name_len = (size_t)(plus1 - vkey);
        if ((why = name_fault(vkey, name_len)) != NULL)
                return rwerr_set(err, RW_ERR_INVALID, "verifier key: the name %s", why);
        if (plus2 - plus1 - 1 != 8)
                return rwerr_set(err, RW_ERR_INVALID,
                                 "verifier key: the key hash is not 8 hex digits");
        for (i = 0; i < 8; i++) {
                if ((d = hex_digit_value(plus1[1 + i])) < 0)
                        return rwerr_set(err, RW_ERR_INVALID,
                                         "verifier key: the key hash is not 8 hex digits");
                want = (want << 4) | (uint32_t)d;
        }
        b64_len = strlen(plus2 + 1);
        if (b64_len > 48 || b64_decode(plus2 + 1, b64_len, key, sizeof key, &key_len) != 0)
                return rwerr_set(err, RW_ERR_INVALID, "verifier key: the key is not base64");
        if (key_len == 0)
                return rwerr_set(err, RW_ERR_INVALID, "verifier key: the key is empty");
        if (key[0] != AUDIT_NOTE_ALG_ED25519)
                return rwerr_set(err, RW_ERR_INVALID,
                                 "verifier key: algorithm 0x%02x, not Ed25519 (0x01)", key[0]);
        if (key_len != 33)
                return rwerr_set(err, RW_ERR_INVALID,
                                 "verifier key: an Ed25519 key of %zu bytes, not 32", key_len - 1);
        memcpy(nm, vkey, name_len);
        nm[name_len] = '\0';
        audit_note_key_hash(nm, AUDIT_NOTE_ALG_ED25519, key + 1, kh);
        if (key_hash_u32(kh) != want)
                return rwerr_set(err, RW_ERR_INVALID,
                                 "verifier key: the key hash %08" PRIx32
                                 " is not that of the name and key (%08" PRIx32 ")",
                                 want, key_hash_u32(kh));
        memcpy(name, nm, name_len + 1);
        memcpy(pk, key + 1, 32);
        return RW_OK;
}

int audit_checkpoint_format(const struct audit_checkpoint *c, char **text, struct rwerr *err)
{
        char b64[sodium_base64_ENCODED_LEN(AUDIT_HASH_BYTES, sodium_base64_VARIANT_ORIGINAL)];
        const char *why;
        size_t origin_len, cap;
        char *t;

        origin_len = strnlen(c->origin, AUDIT_NOTE_NAME_MAX);
        if ((why = name_fault(c->origin, origin_len)) != NULL)
                return rwerr_set(err, RW_ERR_INVALID, "checkpoint: the origin %s", why);
        sodium_bin2base64(b64, sizeof b64, c->root, AUDIT_HASH_BYTES,
                          sodium_base64_VARIANT_ORIGINAL);
        cap = origin_len + 1 + 20 + 1 + strlen(b64) + 1 + 1;
        if ((t = malloc(cap)) == NULL)
                return rwerr_set(err, RW_ERR_NOMEM, "checkpoint: cannot allocate %zu bytes", cap);
        (void)snprintf(t, cap, "%s\n%" PRIu64 "\n%s\n", c->origin, c->size, b64);
        *text = t;
        return RW_OK;
}

/* The tree size line: ASCII decimal, no sign, no leading zero but for "0", within uint64_t. */
static int parse_size(const char *s, size_t len, uint64_t *out, struct rwerr *err)
{
        uint64_t v = 0;
        size_t i;
        unsigned d;

        if (len == 0)
                return rwerr_set(err, RW_ERR_INVALID, "checkpoint line 2: the tree size is empty");
        if (len > 1 && s[0] == '0')
                return rwerr_set(err, RW_ERR_INVALID,
                                 "checkpoint line 2: the tree size has a leading zero");
        for (i = 0; i < len; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return rwerr_set(
                                err, RW_ERR_INVALID,
                                "checkpoint line 2: the tree size is not a decimal number");
                d = (unsigned)(s[i] - '0');
                if (v > (UINT64_MAX - d) / 10)
                        return rwerr_set(err, RW_ERR_RANGE,
                                         "checkpoint line 2: the tree size is above 2^64 - 1");
                v = v * 10 + d;
        }
        *out = v;
        return RW_OK;
}

int audit_checkpoint_parse(const char *text, size_t len, struct audit_checkpoint *out,
                           struct rwerr *err)
{
        const char *line[3], *p, *end = text + len, *nl;
        size_t line_len[3], root_len, n = 0;
        unsigned char root[48];
        uint64_t size = 0;
        int rc;

        if (len > AUDIT_NOTE_MAX)
                return rwerr_set(err, RW_ERR_RANGE,
                                 "checkpoint: a text of %zu bytes: at most %d are allowed", len,
                                 AUDIT_NOTE_MAX);
        if ((rc = check_chars(text, len, err)) != RW_OK)
                return rwerr_prefix(err, rc, "checkpoint");
        if (len == 0 || text[len - 1] != '\n')
                return rwerr_set(err, RW_ERR_INVALID,
                                 "checkpoint: the text does not end in a newline");
        /* Every line, the extension lines too, is non-empty. */
        for (p = text; p < end; p = nl + 1) {
                nl = memchr(p, '\n', (size_t)(end - p));
                if (nl == p)
                        return rwerr_set(err, RW_ERR_INVALID, "checkpoint line %zu is empty",
                                         n + 1);
                if (n < 3) {
                        line[n] = p;
                        line_len[n] = (size_t)(nl - p);
                }
                n++;
        }
        if (n < 3)
                return rwerr_set(err, RW_ERR_INVALID,
                                 "checkpoint: %zu line(s), not the 3 of origin, size and root", n);
        if (line_len[0] >= AUDIT_NOTE_NAME_MAX)
                return rwerr_set(
                        err, RW_ERR_RANGE,
                        "checkpoint line 1: an origin of %zu bytes: at most %d are allowed",
                        line_len[0], AUDIT_NOTE_NAME_MAX - 1);
        if ((rc = parse_size(line[1], line_len[1], &size, err)) != RW_OK)
                return rc;
        if (line_len[2] > 64 || b64_decode(line[2], line_len[2], root, sizeof root, &root_len) != 0)
                return rwerr_set(err, RW_ERR_INVALID,
                                 "checkpoint line 3: the root hash is not base64 of 32 bytes");
        if (root_len != AUDIT_HASH_BYTES)
                return rwerr_set(err, RW_ERR_INVALID,
                                 "checkpoint line 3: a root hash of %zu bytes, not %d", root_len,
                                 AUDIT_HASH_BYTES);
        memcpy(out->origin, line[0], line_len[0]);
        out->origin[line_len[0]] = '\0';
        out->size = size;
        memcpy(out->root, root, AUDIT_HASH_BYTES);
        return RW_OK;
}

/* Appends "— name base64(kh || sig)\n" at buf + *pos (room for SIG_LINE_MAX bytes there). */
static void put_sig_line(char *buf, size_t *pos, const char *name,
                         const unsigned char kh[AUDIT_NOTE_KEYHASH_BYTES], const unsigned char *sig,
                         size_t sig_len)
{
        unsigned char raw[SIG_BYTES_MAX];
        size_t name_len = strnlen(name, AUDIT_NOTE_NAME_MAX - 1); /* a checked name */

        memcpy(raw, kh, AUDIT_NOTE_KEYHASH_BYTES);
        memcpy(raw + AUDIT_NOTE_KEYHASH_BYTES, sig, sig_len);
        memcpy(buf + *pos, em_dash_sp, EM_DASH_SP_LEN);
        *pos += EM_DASH_SP_LEN;
        memcpy(buf + *pos, name, name_len);
        *pos += name_len;
        buf[(*pos)++] = ' ';
        sodium_bin2base64(buf + *pos, SIG_B64_MAX + 1, raw, AUDIT_NOTE_KEYHASH_BYTES + sig_len,
                          sodium_base64_VARIANT_ORIGINAL);
        *pos += strlen(buf + *pos);
        buf[(*pos)++] = '\n';
}

int audit_note_sign(const char *text, const char *name, const unsigned char sk[64], char **note,
                    struct rwerr *err)
{
        unsigned char sig[ED25519_SIG_BYTES], kh[AUDIT_NOTE_KEYHASH_BYTES];
        size_t text_len = strlen(text), pos;
        const char *why;
        char *out;
        int rc;

        if ((rc = check_text(text, text_len, err)) != RW_OK)
                return rwerr_prefix(err, rc, "signing a note");
        if ((why = name_fault(name, strlen(name))) != NULL)
                return rwerr_set(err, RW_ERR_INVALID, "signing a note: the key name %s", why);
        if ((rc = sodium_ready(err)) != RW_OK)
                return rc;
        audit_note_key_hash(name, AUDIT_NOTE_ALG_ED25519, sk + 32, kh);
        if (crypto_sign_detached(sig, NULL, (const unsigned char *)text, text_len, sk) != 0)
                return rwerr_set(err, RW_ERR_INVALID, "signing a note: Ed25519 signing failed");
        if ((out = malloc(text_len + 1 + SIG_LINE_MAX + 1)) == NULL)
                return rwerr_set(err, RW_ERR_NOMEM, "signing a note: out of memory");
        memcpy(out, text, text_len);
        pos = text_len;
        out[pos++] = '\n';
        put_sig_line(out, &pos, name, kh, sig, sizeof sig);
        out[pos] = '\0';
        if (pos > AUDIT_NOTE_MAX) {
                free(out);
                return rwerr_set(err, RW_ERR_RANGE,
                                 "signing a note: the note would be %zu bytes, more than %d", pos,
                                 AUDIT_NOTE_MAX);
        }
        *note = out;
        return RW_OK;
}

/* Reads the signature line s[0..len) (no newline), line `line` of the note, into *sig. */
static int parse_sig_line(const char *s, size_t len, size_t line, struct audit_note_sig *sig,
                          struct rwerr *err)
{
        unsigned char raw[SIG_BYTES_MAX + 2];
        const char *sp, *why, *b64;
        size_t name_len, b64_len, raw_len;

        if (len < EM_DASH_SP_LEN || memcmp(s, em_dash_sp, EM_DASH_SP_LEN) != 0)
                return rwerr_set(err, RW_ERR_INVALID,
                                 "line %zu: a signature line starts with an em dash (U+2014) "
                                 "and a space",
                                 line);
        s += EM_DASH_SP_LEN;
        len -= EM_DASH_SP_LEN;
        if ((sp = memchr(s, ' ', len)) == NULL)
                return rwerr_set(err, RW_ERR_INVALID,
                                 "line %zu: no space between the key name and the signature", line);
        name_len = (size_t)(sp - s);
        if ((why = name_fault(s, name_len)) != NULL)
                return rwerr_set(err, RW_ERR_INVALID, "line %zu: the key name %s", line, why);
        b64 = sp + 1;
        b64_len = len - name_len - 1;
        if (b64_len > SIG_B64_MAX)
                return rwerr_set(err, RW_ERR_RANGE,
                                 "line %zu: a signature of more than %d bytes after the key hash",
                                 line, SIG_BYTES_MAX - AUDIT_NOTE_KEYHASH_BYTES);
        if (b64_decode(b64, b64_len, raw, sizeof raw, &raw_len) != 0)
                return rwerr_set(err, RW_ERR_INVALID, "line %zu: the signature is not base64",
                                 line);
        if (raw_len <= AUDIT_NOTE_KEYHASH_BYTES)
                return rwerr_set(err, RW_ERR_INVALID,
                                 "line %zu: a signature of %zu bytes, too short for a key hash "
                                 "and a signature",
                                 line, raw_len);
        if (raw_len > SIG_BYTES_MAX)
                return rwerr_set(err, RW_ERR_RANGE,
                                 "line %zu: a signature of more than %d bytes after the key hash",
                                 line, SIG_BYTES_MAX - AUDIT_NOTE_KEYHASH_BYTES);
        memcpy(sig->name, s, name_len);
        sig->name[name_len] = '\0';
        memcpy(sig->key_hash, raw, AUDIT_NOTE_KEYHASH_BYTES);
        sig->sig_len = raw_len - AUDIT_NOTE_KEYHASH_BYTES;
        memcpy(sig->sig, raw + AUDIT_NOTE_KEYHASH_BYTES, sig->sig_len);
        return RW_OK;
}

/* The byte at which the last "\n\n" of s[0..len) starts, or len when there is none. */
static size_t last_empty_line(const char *s, size_t len)
{
        size_t i;

        for (i = len; i >= 2; i--) {
                if (s[i - 2] == '\n' && s[i - 1] == '\n')
                        return i - 2;
        }
        return len;
}

static int parse_note(const char *note, size_t len, struct audit_note *out, struct rwerr *err)
{
        size_t split, text_len, line, pos;
        const char *nl;
        int rc;

        if (len > AUDIT_NOTE_MAX)
                return rwerr_set(err, RW_ERR_RANGE, "a note of %zu bytes: at most %d are allowed",
                                 len, AUDIT_NOTE_MAX);
        if (len == 0)
                return rwerr_set(err, RW_ERR_INVALID, "the note is empty");
        if ((rc = check_chars(note, len, err)) != RW_OK)
                return rc;
        if (note[len - 1] != '\n')
                return rwerr_set(err, RW_ERR_INVALID, "the note does not end in a newline");
        if ((split = last_empty_line(note, len)) == len)
                return rwerr_set(err, RW_ERR_INVALID,
                                 "no empty line between the text and the signatures");
        text_len = split + 1;
        if ((rc = check_text(note, text_len, err)) != RW_OK)
                return rc;
        pos = split + 2;
        if (pos == len)
                return rwerr_set(err, RW_ERR_INVALID, "no signature line after the empty line");
        line = line_of(note, pos);
        for (; pos < len; pos = (size_t)(nl - note) + 1, line++) {
                nl = memchr(note + pos, '\n', len - pos);
                if (out->nsigs == AUDIT_NOTE_SIGS_MAX)
                        return rwerr_set(err, RW_ERR_RANGE,
                                         "line %zu: more than %d signature lines", line,
                                         AUDIT_NOTE_SIGS_MAX);
                rc = parse_sig_line(note + pos, (size_t)(nl - (note + pos)), line,
                                    &out->sigs[out->nsigs], err);
                if (rc != RW_OK)
                        return rc;
                out->nsigs++;
        }
        if ((out->text = malloc(text_len + 1)) == NULL)
                return rwerr_set(err, RW_ERR_NOMEM, "cannot allocate a note's text (%zu bytes)",
                                 text_len + 1);
        memcpy(out->text, note, text_len);
        out->text[text_len] = '\0';
        out->text_len = text_len;
        return RW_OK;
}

int audit_note_parse(const char *note, size_t len, struct audit_note *out, struct rwerr *err)
{
        int rc;

        memset(out, 0, sizeof *out);
        rc = parse_note(note, len, out, err);
        /* (parse_note sets text whenever it succeeds: said for the analyzer.) */
        if (rc != RW_OK || out->text == NULL) {
                memset(out, 0, sizeof *out);
                return rc != RW_OK ? rc : RW_ERR_NOMEM;
        }
        return RW_OK;
}

void audit_note_release(struct audit_note *n)
{
        if (n == NULL)
                return;
        free(n->text);
        memset(n, 0, sizeof *n);
}

/* The first signature line by (name, kh), or NULL. */
static const struct audit_note_sig *find_sig(const struct audit_note *n, const char *name,
                                             const unsigned char kh[AUDIT_NOTE_KEYHASH_BYTES])
{
        size_t i;

        for (i = 0; i < n->nsigs; i++) {
                if (strcmp(n->sigs[i].name, name) == 0 &&
                    memcmp(n->sigs[i].key_hash, kh, AUDIT_NOTE_KEYHASH_BYTES) == 0)
                        return &n->sigs[i];
        }
        return NULL;
}

int audit_note_verify(const struct audit_note *n, const char *name, const unsigned char pk[32],
                      struct rwerr *err)
{
        unsigned char kh[AUDIT_NOTE_KEYHASH_BYTES];
        const struct audit_note_sig *s;
        int rc;

        if ((rc = sodium_ready(err)) != RW_OK)
                return rc;
        audit_note_key_hash(name, AUDIT_NOTE_ALG_ED25519, pk, kh);
        if ((s = find_sig(n, name, kh)) == NULL)
                return rwerr_set(err, RW_ERR_REFUSED,
                                 "the note has no signature by %.64s+%08" PRIx32, name,
                                 key_hash_u32(kh));
        if (s->sig_len != ED25519_SIG_BYTES)
                return rwerr_set(err, RW_ERR_REFUSED,
                                 "the signature by %.64s+%08" PRIx32
                                 " is %zu bytes, not an Ed25519 signature (64)",
                                 name, key_hash_u32(kh), s->sig_len);
        if (crypto_sign_verify_detached(s->sig, (const unsigned char *)n->text, n->text_len, pk) !=
            0)
                return rwerr_set(err, RW_ERR_REFUSED,
                                 "the signature by %.64s+%08" PRIx32 " does not verify", name,
                                 key_hash_u32(kh));
        return RW_OK;
}

/* The message a cosignature/v1 signs: header, time line, the checkpoint's text. malloc'd. */
static unsigned char *cosig_message(const char *text, size_t text_len, uint64_t time_s, size_t *len)
{
        char head[64];
        unsigned char *m;
        int hl;

        hl = snprintf(head, sizeof head, COSIG_HEADER "time %" PRIu64 "\n", time_s);
        if ((m = malloc((size_t)hl + text_len)) == NULL)
                return NULL;
        memcpy(m, head, (size_t)hl);
        memcpy(m + hl, text, text_len);
        *len = (size_t)hl + text_len;
        return m;
}

static uint64_t get_be64(const unsigned char *p)
{
        uint64_t v = 0;
        int i;

        for (i = 0; i < 8; i++)
                v = (v << 8) | p[i];
        return v;
}

static void put_be64(unsigned char *p, uint64_t v)
{
        int i;

        for (i = 7; i >= 0; i--) {
                p[i] = (unsigned char)(v & 0xff);
                v >>= 8;
        }
}

/* Builds the cosigned note from the parsed `n` and the new signature line into *out. */
static int cosigned_note(const struct audit_note *n, const char *name,
                         const unsigned char kh[AUDIT_NOTE_KEYHASH_BYTES],
                         const unsigned char cosig[COSIG_BYTES], char **out, struct rwerr *err)
{
        size_t i, pos, lines = 1;
        char *buf;

        for (i = 0; i < n->nsigs; i++)
                lines += !(strcmp(n->sigs[i].name, name) == 0 &&
                           memcmp(n->sigs[i].key_hash, kh, AUDIT_NOTE_KEYHASH_BYTES) == 0);
        if (lines > AUDIT_NOTE_SIGS_MAX)
                return rwerr_set(err, RW_ERR_RANGE,
                                 "cosigning: the note would have more than %d signature lines",
                                 AUDIT_NOTE_SIGS_MAX);
        if ((buf = malloc(n->text_len + 1 + lines * SIG_LINE_MAX + 1)) == NULL)
                return rwerr_set(err, RW_ERR_NOMEM, "cosigning: out of memory");
        memcpy(buf, n->text, n->text_len);
        pos = n->text_len;
        buf[pos++] = '\n';
        /* The existing lines as they were (their base64 is canonical), but ours. */
        for (i = 0; i < n->nsigs; i++) {
                if (strcmp(n->sigs[i].name, name) == 0 &&
                    memcmp(n->sigs[i].key_hash, kh, AUDIT_NOTE_KEYHASH_BYTES) == 0)
                        continue;
                put_sig_line(buf, &pos, n->sigs[i].name, n->sigs[i].key_hash, n->sigs[i].sig,
                             n->sigs[i].sig_len);
        }
        put_sig_line(buf, &pos, name, kh, cosig, COSIG_BYTES);
        buf[pos] = '\0';
        if (pos > AUDIT_NOTE_MAX) {
                free(buf);
                return rwerr_set(err, RW_ERR_RANGE,
                                 "cosigning: the note would be %zu bytes, more than %d", pos,
                                 AUDIT_NOTE_MAX);
        }
        *out = buf;
        return RW_OK;
}

int audit_note_cosign(const char *note, size_t len, const char *name, const unsigned char sk[64],
                      uint64_t time_s, char **out, struct rwerr *err)
{
        unsigned char kh[AUDIT_NOTE_KEYHASH_BYTES], cosig[COSIG_BYTES], *msg;
        struct audit_note *n;
        const char *why;
        size_t msg_len;
        int rc;

        if (time_s > TIME_MAX)
                return rwerr_set(err, RW_ERR_RANGE, "cosigning: a time past 2^63 - 1");
        if ((why = name_fault(name, strlen(name))) != NULL)
                return rwerr_set(err, RW_ERR_INVALID, "cosigning: the key name %s", why);
        if ((rc = sodium_ready(err)) != RW_OK)
                return rc;
        if ((n = malloc(sizeof *n)) == NULL)
                return rwerr_set(err, RW_ERR_NOMEM, "cosigning: out of memory");
        if ((rc = audit_note_parse(note, len, n, err)) != RW_OK) {
                free(n);
                return rwerr_prefix(err, rc, "cosigning");
        }
        audit_note_key_hash(name, AUDIT_NOTE_ALG_COSIGNATURE, sk + 32, kh);
        if ((msg = cosig_message(n->text, n->text_len, time_s, &msg_len)) == NULL) {
                rc = rwerr_set(err, RW_ERR_NOMEM, "cosigning: out of memory");
                goto out;
        }
        put_be64(cosig, time_s);
        rc = crypto_sign_detached(cosig + 8, NULL, msg, msg_len, sk);
        free(msg);
        if (rc != 0) {
                rc = rwerr_set(err, RW_ERR_INVALID, "cosigning: Ed25519 signing failed");
                goto out;
        }
        rc = cosigned_note(n, name, kh, cosig, out, err);
out:
        audit_note_release(n);
        free(n);
        return rc;
}

int audit_note_verify_cosignature(const struct audit_note *n, const char *name,
                                  const unsigned char pk[32], uint64_t *time_s, struct rwerr *err)
{
        unsigned char kh[AUDIT_NOTE_KEYHASH_BYTES], *msg;
        const struct audit_note_sig *s;
        size_t msg_len;
        uint64_t t;
        int rc;

        if ((rc = sodium_ready(err)) != RW_OK)
                return rc;
        audit_note_key_hash(name, AUDIT_NOTE_ALG_COSIGNATURE, pk, kh);
        if ((s = find_sig(n, name, kh)) == NULL)
                return rwerr_set(err, RW_ERR_REFUSED,
                                 "the note has no cosignature by %.64s+%08" PRIx32, name,
                                 key_hash_u32(kh));
        if (s->sig_len != COSIG_BYTES)
                return rwerr_set(err, RW_ERR_REFUSED,
                                 "the cosignature by %.64s+%08" PRIx32
                                 " is %zu bytes, not time and signature (72)",
                                 name, key_hash_u32(kh), s->sig_len);
        if ((t = get_be64(s->sig)) > TIME_MAX)
                return rwerr_set(err, RW_ERR_REFUSED,
                                 "the cosignature by %.64s+%08" PRIx32
                                 " states a time past 2^63 - 1",
                                 name, key_hash_u32(kh));
        if ((msg = cosig_message(n->text, n->text_len, t, &msg_len)) == NULL)
                return rwerr_set(err, RW_ERR_NOMEM, "checking a cosignature: out of memory");
        rc = crypto_sign_verify_detached(s->sig + 8, msg, msg_len, pk);
        free(msg);
        if (rc != 0)
                return rwerr_set(err, RW_ERR_REFUSED,
                                 "the cosignature by %.64s+%08" PRIx32 " does not verify", name,
                                 key_hash_u32(kh));
        if (time_s != NULL)
                *time_s = t;
        return RW_OK;
}
