/*
 * Unit tests of watchdog/audit/audit_note: C2SP signed notes, checkpoints
 * and cosignatures (cosignature/v1).
 *
 * Vectors:
 *   - the example of Go's golang.org/x/mod/sumdb/note package documentation
 *     (PeterNeumann's signer and verifier keys, the signed note, and the
 *     note signed again by EnochRoot);
 *   - notes made by Go's note package (go1.19, Debian's
 *     golang-golang-x-mod-dev) with a throwaway program, not kept: keys from
 *     the seeds seed(1) and seed(0x41) below (note.NewSigner on
 *     "PRIVATE+KEY+<name>+<hash>+base64(0x01 || seed)",
 *     note.NewEd25519VerifierKey), note.Sign of a checkpoint, of one with
 *     an extension line, then note.Open and note.Sign again with a
 *     cosignature/v1 signer written in that program after
 *     c2sp.org/tlog-cosignature (key hash with 0x04; signs "cosignature/v1\n"
 *     "time T\n" and the text; the signature is the big-endian time and the
 *     Ed25519 signature), at two times: the second note.Sign replaces the
 *     first cosignature. Ed25519 is deterministic, so audit_note_sign and
 *     audit_note_cosign must give the same bytes;
 *   - a cosignature from transparency-dev/formats's note_cosigv1_test.go
 *     (TestCosignatureTimestamp), for the time it carries;
 *   - the example note of c2sp.org/signed-note, which has an empty line in
 *     its text: refused here, on purpose.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "audit_note.h"
#include "audit_tree.h"
#include "rwerr.h"

#define DASH "\xe2\x80\x94 " /* U+2014 EM DASH, then a space */

/* ------------------------------------------------------------ helpers */

struct keys {
        unsigned char pk[32], sk[64];
};

/* seed(b): the 32 bytes b, b + 1, ..., b + 31 (as the Go program made them). */
static void key_from_seed(unsigned char b, struct keys *k)
{
        unsigned char seed[32];
        int i;

        for (i = 0; i < 32; i++)
                seed[i] = (unsigned char)(b + i);
        assert_int_equal(crypto_sign_seed_keypair(k->pk, k->sk, seed), 0);
}

static void assert_has(const struct rwerr *err, const char *want)
{
        if (strstr(err->msg, want) == NULL)
                fail_msg("message '%s' does not say '%s'", err->msg, want);
}

/* Parses s (all of it) into *n, which must succeed. */
static void parse_ok(const char *s, struct audit_note *n)
{
        struct rwerr err;

        if (audit_note_parse(s, strlen(s), n, &err) != RW_OK)
                fail_msg("audit_note_parse of '%.60s...': %s", s, err.msg);
}

/* audit_note_parse of s[0..len) fails with `code`, a message holding `has`, and *out empty. */
static void parse_fails_n(const char *s, size_t len, int code, const char *has)
{
        struct audit_note n;
        struct rwerr err;
        int rc;

        memset(&n, 0x5a, sizeof n);
        memset(&err, 0, sizeof err);
        rc = audit_note_parse(s, len, &n, &err);
        if (rc != code)
                fail_msg("audit_note_parse of '%.60s...': %d (%s), wanted %d", s, rc, err.msg,
                         code);
        assert_null(n.text);
        assert_int_equal(n.nsigs, 0);
        assert_int_equal(n.text_len, 0);
        assert_has(&err, has);
}

static void parse_fails(const char *s, int code, const char *has)
{
        parse_fails_n(s, strlen(s), code, has);
}

/* -------------------------------------------- Go's package documentation */

static const char neumann_skey_b64[] = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
static const char neumann_vkey[] =
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
static const char neumann_text[] = "If you think cryptography is the answer to your problem,\n"
                                   "then you don't know what your problem is.\n";
static const char neumann_note[] =
        "If you think cryptography is the answer to your problem,\n"
        "then you don't know what your problem is.\n"
        "\n" DASH "PeterNeumann "
        "x08go/ZJkuBS9UG/"
        "SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
static const char neumann_enoch_note[] =
        "If you think cryptography is the answer to your problem,\n"
        "then you don't know what your problem is.\n"
        "\n" DASH "PeterNeumann "
        "x08go/ZJkuBS9UG/"
        "SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n" DASH
        "EnochRoot "
        "rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/"
        "5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";

static void neumann_keys(struct keys *k)
{
        unsigned char raw[33];
        size_t len;

        assert_int_equal(sodium_base642bin(raw, sizeof raw, neumann_skey_b64,
                                           strlen(neumann_skey_b64), NULL, &len, NULL,
                                           sodium_base64_VARIANT_ORIGINAL),
                         0);
        assert_int_equal(len, 33);
        assert_int_equal(raw[0], AUDIT_NOTE_ALG_ED25519);
        assert_int_equal(crypto_sign_seed_keypair(k->pk, k->sk, raw + 1), 0);
}

static void go_doc_vkey(void **state)
{
        char vkey[400], name[AUDIT_NOTE_NAME_MAX];
        unsigned char pk[32], kh[4];
        struct keys k;
        struct rwerr err;

        (void)state;
        neumann_keys(&k);
        assert_int_equal(audit_note_vkey("PeterNeumann", k.pk, vkey, sizeof vkey, &err), RW_OK);
        assert_string_equal(vkey, neumann_vkey);
        assert_int_equal(audit_note_vkey_parse(neumann_vkey, name, pk, &err), RW_OK);
        assert_string_equal(name, "PeterNeumann");
        assert_memory_equal(pk, k.pk, 32);
        audit_note_key_hash("PeterNeumann", AUDIT_NOTE_ALG_ED25519, k.pk, kh);
        assert_memory_equal(kh, "\xc7\x4f\x20\xa3", 4);
}

static void go_doc_sign_and_open(void **state)
{
        struct audit_note n;
        struct keys k;
        struct rwerr err;
        char *note = NULL;

        (void)state;
        neumann_keys(&k);
        assert_int_equal(audit_note_sign(neumann_text, "PeterNeumann", k.sk, &note, &err), RW_OK);
        assert_string_equal(note, neumann_note);
        free(note);

        parse_ok(neumann_note, &n);
        assert_string_equal(n.text, neumann_text);
        assert_int_equal(n.text_len, strlen(neumann_text));
        assert_int_equal(n.nsigs, 1);
        assert_string_equal(n.sigs[0].name, "PeterNeumann");
        assert_int_equal(n.sigs[0].sig_len, 64);
        assert_memory_equal(n.sigs[0].key_hash, "\xc7\x4f\x20\xa3", 4);
        assert_int_equal(audit_note_verify(&n, "PeterNeumann", k.pk, &err), RW_OK);
        audit_note_release(&n);
        assert_null(n.text);

        /* Signed again by EnochRoot, a key not known here: still verifies by PeterNeumann. */
        parse_ok(neumann_enoch_note, &n);
        assert_int_equal(n.nsigs, 2);
        assert_string_equal(n.sigs[1].name, "EnochRoot");
        assert_int_equal(audit_note_verify(&n, "PeterNeumann", k.pk, &err), RW_OK);
        assert_int_equal(audit_note_verify(&n, "EnochRoot", k.pk, &err), RW_ERR_REFUSED);
        assert_has(&err, "no signature by EnochRoot+");
        audit_note_release(&n);
        audit_note_release(NULL);
}

/* ------------------------------------------------- Go-made notes (above) */

#define GO_ORIGIN "relaywatch.example/audit"
#define GO_WITNESS "witness.example/w1"
#define GO_ROOT7 "3bib5AOAnjJXUNPSY814kpwpQreUKjS3fhIslZSnTIw=" /* the CT root of size 7 */
#define GO_TEXT GO_ORIGIN "\n7\n" GO_ROOT7 "\n"
#define GO_LOG_SIG                                                                                 \
        DASH GO_ORIGIN " s4cTT8BQ4TCsz1SadwshkOMK6+o/1gBK8pny/oaorGZFirwDg/OV9x5fgLrMU8S530LOA4bx" \
                       "VwBb/4MuNoszz6CwXws=\n"
static const char go_vkey[] = GO_ORIGIN "+b387134f+AXm1Vi6P5lT5QHixEuipi6eQH4U65pW+1+DjkQutBJZk";
static const char go_signed[] = GO_TEXT "\n" GO_LOG_SIG;
static const char go_signed_ext[] = GO_TEXT
        "extension line\n\n" DASH GO_ORIGIN
        " s4cTT4c3lBXuvXEt8tRsGnOZT1m/O8ezIe9GDgCc1YBvwOKfSnqfpi0dwV0mVdOzLMqgfTUgyYXw5VfT26"
        "uEsxF/qAA=\n";
static const char go_cosigned[] = GO_TEXT
        "\n" GO_LOG_SIG DASH GO_WITNESS
        " XJF/9QAAAABrA7e1X2wERGMHVrtjPZZhNLnOKvgPgIxT1mqXdyspDt6TqRS7brmXkN8QJTc69WPwhoxGPN"
        "CCFCSVKG2888TPHCeYDA==\n";
static const char go_recosigned[] = GO_TEXT
        "\n" GO_LOG_SIG DASH GO_WITNESS
        " XJF/9QAAAABrA7fonsSk3daIn/DyOlQX1mbuI+xMRlHoB+QQV3uhR41MvyPe1gYEHQ72sxq2wraES26xgP"
        "XnmsTERAVI7aeg5KNCDQ==\n";
#define GO_TIME1 UINT64_C(1795405749)
#define GO_TIME2 UINT64_C(1795405800)

static const unsigned char ct_root7[32] = {
        0xdd, 0xb8, 0x9b, 0xe4, 0x03, 0x80, 0x9e, 0x32, 0x57, 0x50, 0xd3,
        0xd2, 0x63, 0xcd, 0x78, 0x92, 0x9c, 0x29, 0x42, 0xb7, 0x94, 0x2a,
        0x34, 0xb7, 0x7e, 0x12, 0x2c, 0x95, 0x94, 0xa7, 0x4c, 0x8c,
};

static void go_vectors_sign(void **state)
{
        struct audit_checkpoint c;
        struct keys log;
        struct rwerr err;
        char vkey[200], *text = NULL, *note = NULL;

        (void)state;
        key_from_seed(1, &log);
        assert_int_equal(audit_note_vkey(GO_ORIGIN, log.pk, vkey, sizeof vkey, &err), RW_OK);
        assert_string_equal(vkey, go_vkey);

        memset(&c, 0, sizeof c);
        (void)snprintf(c.origin, sizeof c.origin, "%s", GO_ORIGIN);
        c.size = 7;
        memcpy(c.root, ct_root7, 32);
        assert_int_equal(audit_checkpoint_format(&c, &text, &err), RW_OK);
        assert_string_equal(text, GO_TEXT);
        assert_int_equal(audit_note_sign(text, GO_ORIGIN, log.sk, &note, &err), RW_OK);
        assert_string_equal(note, go_signed);
        free(note);
        free(text);

        assert_int_equal(
                audit_note_sign(GO_TEXT "extension line\n", GO_ORIGIN, log.sk, &note, &err), RW_OK);
        assert_string_equal(note, go_signed_ext);
        free(note);
}

static void go_vectors_open(void **state)
{
        struct audit_checkpoint c;
        struct audit_note n;
        struct keys log, other;
        struct rwerr err;
        char name[AUDIT_NOTE_NAME_MAX];
        unsigned char pk[32];

        (void)state;
        key_from_seed(1, &log);
        key_from_seed(2, &other);
        assert_int_equal(audit_note_vkey_parse(go_vkey, name, pk, &err), RW_OK);
        assert_string_equal(name, GO_ORIGIN);
        assert_memory_equal(pk, log.pk, 32);

        parse_ok(go_signed, &n);
        assert_int_equal(audit_note_verify(&n, GO_ORIGIN, log.pk, &err), RW_OK);
        assert_int_equal(audit_note_verify(&n, GO_ORIGIN, other.pk, &err), RW_ERR_REFUSED);
        assert_has(&err, "no signature by " GO_ORIGIN "+");
        assert_int_equal(audit_checkpoint_parse(n.text, n.text_len, &c, &err), RW_OK);
        assert_string_equal(c.origin, GO_ORIGIN);
        assert_int_equal(c.size, 7);
        assert_memory_equal(c.root, ct_root7, 32);
        audit_note_release(&n);

        parse_ok(go_signed_ext, &n);
        assert_int_equal(audit_note_verify(&n, GO_ORIGIN, log.pk, &err), RW_OK);
        assert_int_equal(audit_checkpoint_parse(n.text, n.text_len, &c, &err), RW_OK);
        assert_int_equal(c.size, 7);
        audit_note_release(&n);
}

static void go_vectors_cosign(void **state)
{
        struct audit_note n;
        struct keys log, w;
        struct rwerr err;
        uint64_t t = 0;
        char *once = NULL, *twice = NULL;

        (void)state;
        key_from_seed(1, &log);
        key_from_seed(0x41, &w);
        assert_int_equal(audit_note_cosign(go_signed, strlen(go_signed), GO_WITNESS, w.sk, GO_TIME1,
                                           &once, &err),
                         RW_OK);
        assert_string_equal(once, go_cosigned);
        /* Again, later: the witness's first cosignature is replaced, as note.Sign does. */
        assert_int_equal(
                audit_note_cosign(once, strlen(once), GO_WITNESS, w.sk, GO_TIME2, &twice, &err),
                RW_OK);
        assert_string_equal(twice, go_recosigned);

        parse_ok(go_cosigned, &n);
        assert_int_equal(n.nsigs, 2);
        assert_int_equal(n.sigs[1].sig_len, 72);
        assert_int_equal(audit_note_verify(&n, GO_ORIGIN, log.pk, &err), RW_OK);
        assert_int_equal(audit_note_verify_cosignature(&n, GO_WITNESS, w.pk, &t, &err), RW_OK);
        assert_int_equal(t, GO_TIME1);
        /* A cosignature is no plain Ed25519 signature, and the other way round. */
        assert_int_equal(audit_note_verify(&n, GO_WITNESS, w.pk, &err), RW_ERR_REFUSED);
        assert_int_equal(audit_note_verify_cosignature(&n, GO_ORIGIN, log.pk, NULL, &err),
                         RW_ERR_REFUSED);
        assert_has(&err, "no cosignature by " GO_ORIGIN "+");
        audit_note_release(&n);

        parse_ok(go_recosigned, &n);
        assert_int_equal(n.nsigs, 2);
        assert_int_equal(audit_note_verify_cosignature(&n, GO_WITNESS, w.pk, &t, &err), RW_OK);
        assert_int_equal(t, GO_TIME2);
        audit_note_release(&n);
        free(once);
        free(twice);
}

/* transparency-dev/formats: a cosignature/v1 line's bytes carry 1727964367 after the key hash. */
static void published_cosignature_time(void **state)
{
        static const char note[] =
                "test\n123\nf+7CoKgXKE/tNys9TTXcr/ad6U/K3xvznmzew9y6SP0=\n\n" DASH "w "
                "ZGhGuQAAAABm/qTPeyKXD+R2rzyQsxPiP8mXum7qq/iF0u4vanlqJyocWODBt97w9uL+8qT7S5gxEHWWOw"
                "orDcFiEBYJXORmnFBOBA==\n";
        struct audit_note n;
        uint64_t t = 0;
        int i;

        (void)state;
        parse_ok(note, &n);
        assert_int_equal(n.nsigs, 1);
        assert_memory_equal(n.sigs[0].key_hash, "\x64\x68\x46\xb9", 4);
        assert_int_equal(n.sigs[0].sig_len, 72);
        for (i = 0; i < 8; i++)
                t = (t << 8) | n.sigs[0].sig[i];
        assert_int_equal(t, UINT64_C(1727964367));
        audit_note_release(&n);
}

/* ------------------------------------------------------ round trips */

static void round_trip(void **state)
{
        static const char text[] = "example.com/log\n42\n" GO_ROOT7 "\n";
        struct audit_note n;
        struct keys k, other;
        struct rwerr err;
        char *note = NULL, *bad;

        (void)state;
        crypto_sign_keypair(k.pk, k.sk);
        crypto_sign_keypair(other.pk, other.sk);
        assert_int_equal(audit_note_sign(text, "example.com/log", k.sk, &note, &err), RW_OK);
        assert_int_equal(strncmp(note, text, strlen(text)), 0);
        assert_int_equal(strncmp(note + strlen(text), "\n" DASH "example.com/log ",
                                 strlen("\n" DASH "example.com/log ")),
                         0);
        assert_int_equal(note[strlen(note) - 1], '\n');
        parse_ok(note, &n);
        assert_string_equal(n.text, text);
        assert_int_equal(audit_note_verify(&n, "example.com/log", k.pk, &err), RW_OK);
        /* The wrong key: its key hash is not on the note. */
        assert_int_equal(audit_note_verify(&n, "example.com/log", other.pk, &err), RW_ERR_REFUSED);
        assert_has(&err, "no signature");
        /* The right key under another name. */
        assert_int_equal(audit_note_verify(&n, "example.com/other", k.pk, &err), RW_ERR_REFUSED);
        audit_note_release(&n);

        /* The text changed under the signature: the line is there and does not verify. */
        bad = strdup(note);
        assert_non_null(bad);
        bad[strlen("example.com/log\n")] = '5';
        parse_ok(bad, &n);
        assert_int_equal(audit_note_verify(&n, "example.com/log", k.pk, &err), RW_ERR_REFUSED);
        assert_has(&err, "does not verify");
        audit_note_release(&n);
        free(bad);
        free(note);
}

static void cosign_round_trip(void **state)
{
        static const char text[] = "example.com/log\n42\n" GO_ROOT7 "\n";
        struct audit_note n;
        struct keys log, w1, w2;
        struct rwerr err;
        char *note = NULL, *c1 = NULL, *c2 = NULL, *c3 = NULL;
        uint64_t t = 0;

        (void)state;
        crypto_sign_keypair(log.pk, log.sk);
        crypto_sign_keypair(w1.pk, w1.sk);
        crypto_sign_keypair(w2.pk, w2.sk);
        assert_int_equal(audit_note_sign(text, "example.com/log", log.sk, &note, &err), RW_OK);
        assert_int_equal(
                audit_note_cosign(note, strlen(note), "w1.example", w1.sk, 1000, &c1, &err), RW_OK);
        assert_int_equal(audit_note_cosign(c1, strlen(c1), "w2.example", w2.sk, 2000, &c2, &err),
                         RW_OK);
        /* w1 again: its old line goes, the new one comes last; w2's stays. */
        assert_int_equal(audit_note_cosign(c2, strlen(c2), "w1.example", w1.sk, 3000, &c3, &err),
                         RW_OK);
        parse_ok(c3, &n);
        assert_int_equal(n.nsigs, 3);
        assert_string_equal(n.sigs[0].name, "example.com/log");
        assert_string_equal(n.sigs[1].name, "w2.example");
        assert_string_equal(n.sigs[2].name, "w1.example");
        assert_int_equal(audit_note_verify(&n, "example.com/log", log.pk, &err), RW_OK);
        assert_int_equal(audit_note_verify_cosignature(&n, "w1.example", w1.pk, &t, &err), RW_OK);
        assert_int_equal(t, 3000);
        assert_int_equal(audit_note_verify_cosignature(&n, "w2.example", w2.pk, &t, &err), RW_OK);
        assert_int_equal(t, 2000);
        /* The wrong key is refused. */
        assert_int_equal(audit_note_verify_cosignature(&n, "w1.example", w2.pk, &t, &err),
                         RW_ERR_REFUSED);
        assert_has(&err, "no cosignature by w1.example+");
        audit_note_release(&n);

        /* The same name with another key is another line: both are kept. */
        free(c3);
        assert_int_equal(audit_note_cosign(c2, strlen(c2), "w1.example", w2.sk, 4000, &c3, &err),
                         RW_OK);
        parse_ok(c3, &n);
        assert_int_equal(n.nsigs, 4);
        audit_note_release(&n);

        /* A forged time: the line is there, the signature does not cover it. */
        parse_ok(c1, &n);
        n.sigs[1].sig[7] ^= 1;
        assert_int_equal(audit_note_verify_cosignature(&n, "w1.example", w1.pk, &t, &err),
                         RW_ERR_REFUSED);
        assert_has(&err, "does not verify");
        n.sigs[1].sig[0] = 0x80;
        assert_int_equal(audit_note_verify_cosignature(&n, "w1.example", w1.pk, &t, &err),
                         RW_ERR_REFUSED);
        assert_has(&err, "past 2^63 - 1");
        audit_note_release(&n);

        /* Times past 2^63 - 1, bad names and bad notes are refused. */
        assert_int_equal(audit_note_cosign(note, strlen(note), "w1.example", w1.sk,
                                           UINT64_C(1) << 63, &c3, &err),
                         RW_ERR_RANGE);
        assert_int_equal(audit_note_cosign(note, strlen(note), "w 1", w1.sk, 1, &c3, &err),
                         RW_ERR_INVALID);
        assert_has(&err, "holds a space");
        assert_int_equal(audit_note_cosign(text, strlen(text), "w1.example", w1.sk, 1, &c3, &err),
                         RW_ERR_INVALID);
        assert_has(&err, "cosigning: no empty line");
        free(note);
        free(c1);
        free(c2);
        free(c3);
}

static void cosign_full_note(void **state)
{
        char *note, *out = (char *)0x1;
        struct keys w;
        struct rwerr err;
        size_t len, i;

        (void)state;
        crypto_sign_keypair(w.pk, w.sk);
        note = malloc(AUDIT_NOTE_MAX + 1);
        assert_non_null(note);
        len = (size_t)snprintf(note, AUDIT_NOTE_MAX + 1, "%s\n", GO_TEXT);
        for (i = 0; i < AUDIT_NOTE_SIGS_MAX; i++) {
                memcpy(note + len, GO_LOG_SIG, sizeof GO_LOG_SIG - 1);
                len += sizeof GO_LOG_SIG - 1;
        }
        assert_int_equal(audit_note_cosign(note, len, "w1.example", w.sk, 1, &out, &err),
                         RW_ERR_RANGE);
        assert_has(&err, "more than 32 signature lines");
        assert_ptr_equal(out, (char *)0x1);
        free(note);
}

/* ------------------------------------------------- strict rejections */

static void reject_structure(void **state)
{
        (void)state;
        parse_fails("", RW_ERR_INVALID, "empty");
        parse_fails(GO_TEXT "\n" DASH GO_ORIGIN " s4cTT8BQ", RW_ERR_INVALID,
                    "does not end in a newline");
        parse_fails(GO_TEXT DASH GO_ORIGIN " s4cTT8BQ4TCsz1SadwshkOMK6+o/1gBK8pny/oaorGZFirwDg/OV"
                                           "9x5fgLrMU8S530LOA4bxVwBb/4MuNoszz6CwXws=\n",
                    RW_ERR_INVALID, "no empty line between the text and the signatures");
        parse_fails(GO_TEXT "\n", RW_ERR_INVALID, "no signature line");
        parse_fails("\n\n" DASH "a AAAAAAA=\n", RW_ERR_INVALID, "line 1 is empty");
        /* c2sp.org/signed-note's example: a text with an empty line. */
        parse_fails("Ognuno sta solo sul cuor della terra\n"
                    "trafitto da un raggio di sole:\n"
                    "\n"
                    "ed \xc3\xa8 subito sera.\n"
                    "\n" DASH "quasimodo.example/salvatore NnugSzTjtVAewIS+Z/iJhUPeFDkO/5QQ2i5ddnG"
                    "ITLlC+EhfLW9oJKONrMouFSQU0xMcXxj99ihAQwaqP3ZekRwNtIc=\n",
                    RW_ERR_INVALID, "line 3 is empty");
        /* An empty line among the signatures makes the text hold one. */
        parse_fails(GO_TEXT "\n" GO_LOG_SIG "\n" GO_LOG_SIG, RW_ERR_INVALID, "line 4 is empty");
        /* Bytes after the signatures. */
        parse_fails(GO_TEXT "\n" GO_LOG_SIG "trailing words\n", RW_ERR_INVALID,
                    "line 6: a signature line starts with an em dash");
        parse_fails(GO_TEXT "\n" GO_LOG_SIG "x", RW_ERR_INVALID, "does not end in a newline");
        parse_fails_n(GO_TEXT "\n" GO_LOG_SIG "\0", sizeof(GO_TEXT "\n" GO_LOG_SIG), RW_ERR_INVALID,
                      "line 6: a control character (0x00)");
        /* A hyphen is not the em dash. */
        parse_fails(GO_TEXT "\n- a AAAAAAA=\n", RW_ERR_INVALID, "line 5: a signature line starts");
        parse_fails(GO_TEXT "\n" DASH "nospace\n", RW_ERR_INVALID, "line 5: no space");
}

static void reject_chars(void **state)
{
        (void)state;
        parse_fails(GO_ORIGIN "\n7\xff\n" GO_ROOT7 "\n\n" GO_LOG_SIG, RW_ERR_INVALID,
                    "line 2: not UTF-8");
        parse_fails(GO_ORIGIN "\n\xc0\xaf\n\n" GO_LOG_SIG, RW_ERR_INVALID, "line 2: not UTF-8");
        parse_fails(GO_ORIGIN "\n\xed\xa0\x80\n\n" GO_LOG_SIG, RW_ERR_INVALID, "not UTF-8");
        parse_fails(GO_ORIGIN "\n\xe2\x80\n\n" GO_LOG_SIG, RW_ERR_INVALID, "not UTF-8");
        parse_fails(GO_ORIGIN "\r\n7\n" GO_ROOT7 "\n\n" GO_LOG_SIG, RW_ERR_INVALID,
                    "line 1: a control character (0x0d)");
        parse_fails(GO_ORIGIN "\n7\t\n\n" GO_LOG_SIG, RW_ERR_INVALID, "(0x09)");
}

static void reject_signature_lines(void **state)
{
        char line[512];

        (void)state;
        parse_fails(GO_TEXT "\n" DASH "a not-base64!\n", RW_ERR_INVALID,
                    "line 5: the signature is not base64");
        /* Canonical base64 only: padding is needed, stray bits are not allowed. */
        parse_fails(GO_TEXT "\n" DASH GO_ORIGIN
                            " s4cTT8BQ4TCsz1SadwshkOMK6+o/1gBK8pny/oaorGZFirwDg/"
                            "OV9x5fgLrMU8S530LOA4bxVwBb/4MuNoszz6CwXws\n",
                    RW_ERR_INVALID, "not base64");
        parse_fails(GO_TEXT "\n" DASH GO_ORIGIN
                            " s4cTT8BQ4TCsz1SadwshkOMK6+o/1gBK8pny/oaorGZFirwDg/"
                            "OV9x5fgLrMU8S530LOA4bxVwBb/4MuNoszz6CwXwt=\n",
                    RW_ERR_INVALID, "not base64");
        parse_fails(GO_TEXT "\n" DASH "a AAAA AAAA\n", RW_ERR_INVALID, "not base64");
        /* Bytes above 0x7f, which libsodium 1.0.18 alone would decode. */
        parse_fails(GO_TEXT "\n" DASH "a AAAAA\xc3\xa9=\n", RW_ERR_INVALID, "not base64");
        parse_fails(GO_TEXT "\n" DASH "a \n", RW_ERR_INVALID, "0 bytes, too short");
        /* Names: no space (U+00A0, U+3000 too), no '+', not empty, not too long. */
        parse_fails(GO_TEXT "\n" DASH "na+me AAAAAAA=\n", RW_ERR_INVALID,
                    "line 5: the key name holds a '+'");
        parse_fails(GO_TEXT "\n" DASH "na\xc2\xa0me AAAAAAA=\n", RW_ERR_INVALID,
                    "the key name holds a space");
        parse_fails(GO_TEXT "\n" DASH "na\xe3\x80\x80me AAAAAAA=\n", RW_ERR_INVALID,
                    "the key name holds a space");
        parse_fails(GO_TEXT "\n" DASH "na\x7fme AAAAAAA=\n", RW_ERR_INVALID,
                    "the key name holds a control character");
        parse_fails(GO_TEXT "\n" DASH " AAAAAAA=\n", RW_ERR_INVALID, "the key name is empty");
        (void)snprintf(line, sizeof line, GO_TEXT "\n" DASH "%0256d AAAAAAA=\n", 0);
        parse_fails(line, RW_ERR_INVALID, "the key name is longer than 255 bytes");
        (void)snprintf(line, sizeof line, GO_TEXT "\n" DASH "%0255d AAAAAAA=\n", 0);
        {
                struct audit_note n;

                parse_ok(line, &n);
                assert_int_equal(strlen(n.sigs[0].name), 255);
                audit_note_release(&n);
        }
        /* Sizes: a key hash and at least one byte; at most 72 after the key hash. */
        parse_fails(GO_TEXT "\n" DASH "a AAAAAA==\n", RW_ERR_INVALID, "4 bytes, too short");
        (void)snprintf(line, sizeof line, GO_TEXT "\n" DASH "a %.104s\n",
                       "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
                       "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
        parse_fails(line, RW_ERR_RANGE, "more than 72 bytes");
        (void)snprintf(
                line, sizeof line, GO_TEXT "\n" DASH "a %.104s\n",
                "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
                "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
        parse_fails(line, RW_ERR_RANGE, "more than 72 bytes");
}

static void reject_sizes(void **state)
{
        struct audit_note n;
        char *note;
        size_t len, i, sig_len = strlen(GO_LOG_SIG);

        (void)state;
        /* 32 signature lines are fine, 33 are not. */
        note = malloc(AUDIT_NOTE_MAX + 2);
        assert_non_null(note);
        len = (size_t)snprintf(note, AUDIT_NOTE_MAX + 2, "%s\n", GO_TEXT);
        for (i = 0; i < AUDIT_NOTE_SIGS_MAX; i++) {
                memcpy(note + len, GO_LOG_SIG, sig_len);
                len += sig_len;
        }
        note[len] = '\0';
        parse_ok(note, &n);
        assert_int_equal(n.nsigs, AUDIT_NOTE_SIGS_MAX);
        audit_note_release(&n);
        memcpy(note + len, GO_LOG_SIG, sig_len + 1);
        parse_fails(note, RW_ERR_RANGE, "line 37: more than 32 signature lines");

        /* AUDIT_NOTE_MAX bytes are fine, one more is not. */
        len = (size_t)snprintf(note, AUDIT_NOTE_MAX + 2, "%s", GO_ORIGIN "\n7\n" GO_ROOT7 "\n");
        while (len < AUDIT_NOTE_MAX - sig_len - 2)
                note[len++] = 'x';
        note[len++] = '\n';
        note[len++] = '\n';
        memcpy(note + len, GO_LOG_SIG, sig_len + 1);
        len += sig_len;
        assert_int_equal(len, AUDIT_NOTE_MAX);
        parse_ok(note, &n);
        audit_note_release(&n);
        memmove(note + 1, note, len + 1);
        note[0] = 'x';
        parse_fails(note, RW_ERR_RANGE, "a note of 16385 bytes: at most 16384");
        free(note);
}

/* ------------------------------------------------------ checkpoints */

static void checkpoint_parse_fails(const char *text, int code, const char *has)
{
        struct audit_checkpoint c;
        struct rwerr err;
        int rc;

        memset(&c, 0x5a, sizeof c);
        rc = audit_checkpoint_parse(text, strlen(text), &c, &err);
        if (rc != code)
                fail_msg("audit_checkpoint_parse of '%s': %d (%s), wanted %d", text, rc, err.msg,
                         code);
        assert_has(&err, has);
        assert_int_equal(c.size, 0x5a5a5a5a5a5a5a5aULL);
}

static void checkpoint_format_parse(void **state)
{
        struct audit_checkpoint c, back;
        struct rwerr err;
        char *text = NULL;

        (void)state;
        memset(&c, 0, sizeof c);
        (void)snprintf(c.origin, sizeof c.origin, "%s", "example.com/behind-the-sofa");
        c.size = 20852163;
        memcpy(c.root, ct_root7, 32);
        assert_int_equal(audit_checkpoint_format(&c, &text, &err), RW_OK);
        assert_string_equal(text, "example.com/behind-the-sofa\n20852163\n" GO_ROOT7 "\n");
        assert_int_equal(audit_checkpoint_parse(text, strlen(text), &back, &err), RW_OK);
        assert_string_equal(back.origin, c.origin);
        assert_int_equal(back.size, c.size);
        assert_memory_equal(back.root, c.root, 32);
        free(text);

        c.size = 0;
        assert_int_equal(audit_checkpoint_format(&c, &text, &err), RW_OK);
        assert_string_equal(text, "example.com/behind-the-sofa\n0\n" GO_ROOT7 "\n");
        free(text);
        c.size = UINT64_MAX;
        assert_int_equal(audit_checkpoint_format(&c, &text, &err), RW_OK);
        assert_int_equal(audit_checkpoint_parse(text, strlen(text), &back, &err), RW_OK);
        assert_int_equal(back.size, UINT64_MAX);
        free(text);

        /* The C2SP tlog-checkpoint example, and extension lines. */
        assert_int_equal(audit_checkpoint_parse("example.com/behind-the-sofa\n20852163\n"
                                                "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
                                                82, &back, &err),
                         RW_OK);
        assert_int_equal(back.size, 20852163);
        assert_int_equal(back.root[0], 0x0a);
        assert_int_equal(audit_checkpoint_parse(GO_TEXT "ext one\next two\n",
                                                strlen(GO_TEXT "ext one\next two\n"), &back, &err),
                         RW_OK);
        assert_int_equal(back.size, 7);
        /* Spec: clients assume nothing of the origin's form. */
        assert_int_equal(audit_checkpoint_parse("my log\n1\n" GO_ROOT7 "\n",
                                                strlen("my log\n1\n" GO_ROOT7 "\n"), &back, &err),
                         RW_OK);
        assert_string_equal(back.origin, "my log");

        /* A bad origin is not formatted. */
        (void)snprintf(c.origin, sizeof c.origin, "%s", "two words");
        assert_int_equal(audit_checkpoint_format(&c, &text, &err), RW_ERR_INVALID);
        assert_has(&err, "origin holds a space");
        (void)snprintf(c.origin, sizeof c.origin, "%s", "a+b");
        assert_int_equal(audit_checkpoint_format(&c, &text, &err), RW_ERR_INVALID);
        c.origin[0] = '\0';
        assert_int_equal(audit_checkpoint_format(&c, &text, &err), RW_ERR_INVALID);
        assert_has(&err, "origin is empty");
        memset(c.origin, 'a', sizeof c.origin);
        assert_int_equal(audit_checkpoint_format(&c, &text, &err), RW_ERR_INVALID);
}

static void checkpoint_rejections(void **state)
{
        char line[400];

        (void)state;
        checkpoint_parse_fails("o\n07\n" GO_ROOT7 "\n", RW_ERR_INVALID, "leading zero");
        checkpoint_parse_fails("o\n00\n" GO_ROOT7 "\n", RW_ERR_INVALID, "leading zero");
        checkpoint_parse_fails("o\n+7\n" GO_ROOT7 "\n", RW_ERR_INVALID, "not a decimal number");
        checkpoint_parse_fails("o\n-1\n" GO_ROOT7 "\n", RW_ERR_INVALID, "not a decimal number");
        checkpoint_parse_fails("o\n7 \n" GO_ROOT7 "\n", RW_ERR_INVALID, "not a decimal number");
        checkpoint_parse_fails("o\n0x7\n" GO_ROOT7 "\n", RW_ERR_INVALID, "leading zero");
        checkpoint_parse_fails("o\n7x\n" GO_ROOT7 "\n", RW_ERR_INVALID, "not a decimal number");
        checkpoint_parse_fails("o\n\xd9\xa7\n" GO_ROOT7 "\n", RW_ERR_INVALID, "not a decimal");
        checkpoint_parse_fails("o\n18446744073709551616\n" GO_ROOT7 "\n", RW_ERR_RANGE,
                               "above 2^64 - 1");
        /* The root: base64 of exactly 32 bytes. */
        checkpoint_parse_fails("o\n7\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\n",
                               RW_ERR_INVALID, "line 3: a root hash of 31 bytes, not 32");
        checkpoint_parse_fails("o\n7\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n",
                               RW_ERR_INVALID, "a root hash of 33 bytes");
        checkpoint_parse_fails("o\n7\n3bib5AOAnjJXUNPSY814kpwpQreUKjS3fhIslZSnTIw\n",
                               RW_ERR_INVALID, "not base64");
        checkpoint_parse_fails("o\n7\n3bib5AOAnjJXUNPSY814kpwpQreUKjS3fhIslZSnTIx=\n",
                               RW_ERR_INVALID, "not base64");
        checkpoint_parse_fails("o\n7\n3bib5AOAnjJXUNPSY81\xc8\x99\xd4\xbe++tAUKjS3fhIslZSnTIw=\n",
                               RW_ERR_INVALID, "not base64");
        checkpoint_parse_fails("o\n7\n3bib5AOAnjJXUNPSY814kpwpQreUKjS3fhIslZSnTIw=x\n",
                               RW_ERR_INVALID, "not base64");
        checkpoint_parse_fails("o\n7\n3bib5AOAnjJXUNPSY814kpwpQreUKjS3fhIslZSnTIw= \n",
                               RW_ERR_INVALID, "not base64");
        checkpoint_parse_fails("o\n7\n3bib5AOAnjJXUNPSY814kpwpQreUKjS3fhIslZSnTIw=\n\next\n",
                               RW_ERR_INVALID, "line 4 is empty");
        checkpoint_parse_fails("o\n7\n3bib5AOAnjJXUNPSY814kpwpQreUKjS3fhIslZSnTIw=", RW_ERR_INVALID,
                               "does not end in a newline");
        checkpoint_parse_fails("o\n7\n", RW_ERR_INVALID, "2 line(s), not the 3");
        checkpoint_parse_fails("\n7\n" GO_ROOT7 "\n", RW_ERR_INVALID, "line 1 is empty");
        checkpoint_parse_fails("", RW_ERR_INVALID, "does not end in a newline");
        checkpoint_parse_fails("o\xff\n7\n" GO_ROOT7 "\n", RW_ERR_INVALID,
                               "checkpoint: line 1: not UTF-8");
        (void)snprintf(line, sizeof line, "%0256d\n7\n" GO_ROOT7 "\n", 0);
        checkpoint_parse_fails(line, RW_ERR_RANGE, "an origin of 256 bytes");
}

/* -------------------------------------------------- keys and signing */

static void vkey_errors(void **state)
{
        char out[200], name[AUDIT_NOTE_NAME_MAX] = "untouched";
        unsigned char pk[32], pk_before[32];
        struct keys k;
        struct rwerr err;

        (void)state;
        key_from_seed(1, &k);
        assert_int_equal(audit_note_vkey("a b", k.pk, out, sizeof out, &err), RW_ERR_INVALID);
        assert_has(&err, "holds a space");
        assert_int_equal(audit_note_vkey("a+b", k.pk, out, sizeof out, &err), RW_ERR_INVALID);
        assert_int_equal(audit_note_vkey("", k.pk, out, sizeof out, &err), RW_ERR_INVALID);
        assert_int_equal(audit_note_vkey("a\nb", k.pk, out, sizeof out, &err), RW_ERR_INVALID);
        /* The exact size fits, one less does not. */
        assert_int_equal(audit_note_vkey(GO_ORIGIN, k.pk, out, sizeof go_vkey, &err), RW_OK);
        assert_string_equal(out, go_vkey);
        assert_int_equal(audit_note_vkey(GO_ORIGIN, k.pk, out, sizeof go_vkey - 1, &err),
                         RW_ERR_RANGE);

        memset(pk, 0x77, sizeof pk);
        memcpy(pk_before, pk, sizeof pk);
        assert_int_equal(audit_note_vkey_parse("nohash", name, pk, &err), RW_ERR_INVALID);
        assert_int_equal(audit_note_vkey_parse(GO_ORIGIN "+b387134f", name, pk, &err),
                         RW_ERR_INVALID);
        assert_int_equal(audit_note_vkey_parse(GO_ORIGIN "+b387134+AXm1Vi6P5lT5QHixEuipi6eQH4U65pW"
                                                         "+1+DjkQutBJZk",
                                               name, pk, &err),
                         RW_ERR_INVALID);
        assert_has(&err, "not 8 hex digits");
        assert_int_equal(audit_note_vkey_parse(GO_ORIGIN "+b387134g+AXm1Vi6P5lT5QHixEuipi6eQH4U65pW"
                                                         "+1+DjkQutBJZk",
                                               name, pk, &err),
                         RW_ERR_INVALID);
        assert_int_equal(audit_note_vkey_parse(GO_ORIGIN "+b387134e+AXm1Vi6P5lT5QHixEuipi6eQH4U65pW"
                                                         "+1+DjkQutBJZk",
                                               name, pk, &err),
                         RW_ERR_INVALID);
        assert_has(&err, "the key hash b387134e is not that of the name and key (b387134f)");
        /* Go prints lowercase and reads either case. */
        assert_int_equal(audit_note_vkey_parse(GO_ORIGIN "+B387134F+AXm1Vi6P5lT5QHixEuipi6eQH4U65pW"
                                                         "+1+DjkQutBJZk",
                                               name, pk, &err),
                         RW_OK);
        memcpy(pk, pk_before, sizeof pk);
        (void)snprintf(name, sizeof name, "%s", "untouched");
        assert_int_equal(audit_note_vkey_parse(GO_ORIGIN "+b387134f+AXm1Vi6P5lT5QHixEuipi6eQH4U65pW"
                                                         "+1+DjkQutBJZk=",
                                               name, pk, &err),
                         RW_ERR_INVALID);
        assert_has(&err, "not base64");
        assert_int_equal(audit_note_vkey_parse("a b+b387134f+AXm1Vi6P5lT5QHixEuipi6eQH4U65pW+1+"
                                               "DjkQutBJZk",
                                               name, pk, &err),
                         RW_ERR_INVALID);
        assert_has(&err, "the name holds a space");
        assert_int_equal(audit_note_vkey_parse(GO_ORIGIN "+b387134f+AXm1Vi6P5lT5QHixEuipi6eQH4U65pW"
                                                         "+1+DjkQutBJ\xc3\xa9",
                                               name, pk, &err),
                         RW_ERR_INVALID);
        assert_has(&err, "not base64");
        /* transparency-dev/formats: a cosignature/v1 (0x04) verifier key is not Ed25519 here. */
        assert_int_equal(audit_note_vkey_parse("remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtV"
                                               "tNbZpXh34x7onlmtw2",
                                               name, pk, &err),
                         RW_ERR_INVALID);
        assert_has(&err, "algorithm 0x04, not Ed25519");
        assert_int_equal(audit_note_vkey_parse("a+12345678+AQID", name, pk, &err), RW_ERR_INVALID);
        assert_has(&err, "an Ed25519 key of 2 bytes, not 32");
        assert_int_equal(audit_note_vkey_parse("a+12345678+", name, pk, &err), RW_ERR_INVALID);
        assert_has(&err, "the key is empty");
        /* Nothing written on failure. */
        assert_string_equal(name, "untouched");
        assert_memory_equal(pk, pk_before, sizeof pk);
}

static void sign_errors(void **state)
{
        struct keys k;
        struct rwerr err;
        char *note = (char *)0x1, *big;

        (void)state;
        key_from_seed(3, &k);
        assert_int_equal(audit_note_sign("no newline", "a", k.sk, &note, &err), RW_ERR_INVALID);
        assert_has(&err, "signing a note: the text does not end in a newline");
        assert_int_equal(audit_note_sign("", "a", k.sk, &note, &err), RW_ERR_INVALID);
        assert_int_equal(audit_note_sign("a\n\nb\n", "a", k.sk, &note, &err), RW_ERR_INVALID);
        assert_has(&err, "line 2 is empty");
        assert_int_equal(audit_note_sign("\n", "a", k.sk, &note, &err), RW_ERR_INVALID);
        assert_int_equal(audit_note_sign("a\tb\n", "a", k.sk, &note, &err), RW_ERR_INVALID);
        assert_int_equal(audit_note_sign("\xc3\x28\n", "a", k.sk, &note, &err), RW_ERR_INVALID);
        assert_int_equal(audit_note_sign("a\n", "a b", k.sk, &note, &err), RW_ERR_INVALID);
        assert_has(&err, "the key name holds a space");
        assert_int_equal(audit_note_sign("a\n", "a+b", k.sk, &note, &err), RW_ERR_INVALID);
        assert_int_equal(audit_note_sign("a\n", "", k.sk, &note, &err), RW_ERR_INVALID);
        /* A note that would be longer than AUDIT_NOTE_MAX is not made. */
        big = malloc(AUDIT_NOTE_MAX);
        assert_non_null(big);
        memset(big, 'x', AUDIT_NOTE_MAX - 2);
        big[AUDIT_NOTE_MAX - 2] = '\n';
        big[AUDIT_NOTE_MAX - 1] = '\0';
        assert_int_equal(audit_note_sign(big, "a", k.sk, &note, &err), RW_ERR_RANGE);
        assert_has(&err, "more than 16384");
        assert_ptr_equal(note, (char *)0x1);
        free(big);
}

/* A signature line with the right name and key hash but the wrong length is refused. */
static void verify_wrong_length(void **state)
{
        struct audit_note n;
        struct keys log;
        struct rwerr err;

        (void)state;
        key_from_seed(1, &log);
        parse_ok(go_signed, &n);
        n.sigs[0].sig_len = 63;
        assert_int_equal(audit_note_verify(&n, GO_ORIGIN, log.pk, &err), RW_ERR_REFUSED);
        assert_has(&err, "63 bytes, not an Ed25519 signature");
        audit_note_release(&n);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(go_doc_vkey),
                cmocka_unit_test(go_doc_sign_and_open),
                cmocka_unit_test(go_vectors_sign),
                cmocka_unit_test(go_vectors_open),
                cmocka_unit_test(go_vectors_cosign),
                cmocka_unit_test(published_cosignature_time),
                cmocka_unit_test(round_trip),
                cmocka_unit_test(cosign_round_trip),
                cmocka_unit_test(cosign_full_note),
                cmocka_unit_test(reject_structure),
                cmocka_unit_test(reject_chars),
                cmocka_unit_test(reject_signature_lines),
                cmocka_unit_test(reject_sizes),
                cmocka_unit_test(checkpoint_format_parse),
                cmocka_unit_test(checkpoint_rejections),
                cmocka_unit_test(vkey_errors),
                cmocka_unit_test(sign_errors),
                cmocka_unit_test(verify_wrong_length),
        };

        if (sodium_init() < 0)
                return 1;
        return cmocka_run_group_tests_name("audit_note", tests, NULL, NULL);
}
