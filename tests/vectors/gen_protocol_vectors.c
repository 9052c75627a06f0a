/*
 * gen_protocol_vectors OUT: writes the control-stream protocol's
 * conformance vectors (docs/PROTOCOL.md section 12) to OUT ("-": standard
 * output).
 *
 * Everything in the file is made by relaywatch's own code (control_msg_build,
 * control_msg_sign, heartbeat_build) with fixed test keys (seeds of 32
 * bytes 0x11, 0x22, 0x33) and fixed times, so the output is the same bytes
 * on every run: the ctest protocol_vectors_current compares it with the
 * checked-in docs/protocol-vectors/vectors.json. The expected outcomes are
 * written here by hand from PROTOCOL.md, not computed by the code under
 * test; test_protocol_vectors (and the Node client's tests) check them.
 *
 * Every forged entry is signed for real by a trusted key unless the
 * signature is what it tests, so its rejection is the step it names and
 * not an earlier one.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <sodium.h>

#include "audit_note.h"
#include "control_msg.h"
#include "heartbeat.h"
#include "signing_key.h"

#define T0 1735689600000LL /* 2025-01-01T00:00:00.000Z: every issued_at counts from it */
#define HEARTBEAT_TTL 5000

/* ------------------------------------------------------------ small helpers */

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
        va_list ap;

        fputs("gen_protocol_vectors: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        exit(1);
}

static void *need(void *p)
{
        if (p == NULL)
                die("out of memory");
        return p;
}

/* Bytes with their length: a msg may hold a NUL. */
struct bytes {
        char *p;
        size_t n;
};

static struct bytes bytes_of(const char *p, size_t n)
{
        struct bytes b = {need(malloc(n + 1)), n};

        memcpy(b.p, p, n);
        b.p[n] = '\0';
        return b;
}

static struct bytes text(const char *s)
{
        return bytes_of(s, strlen(s));
}

/* b with the first `from` replaced by `to`; b is freed. */
static struct bytes edit(struct bytes b, const char *from, const char *to)
{
        const char *at = strstr(b.p, from);
        size_t head, lf = strlen(from), lt = strlen(to);
        struct bytes out;

        if (at == NULL)
                die("'%s' is not in %s", from, b.p);
        head = (size_t)(at - b.p);
        out.n = b.n - lf + lt;
        out.p = need(malloc(out.n + 1));
        memcpy(out.p, b.p, head);
        memcpy(out.p + head, to, lt);
        memcpy(out.p + head + lt, at + lf, b.n - head - lf);
        out.p[out.n] = '\0';
        free(b.p);
        return out;
}

static char *b64(const void *p, size_t n)
{
        size_t cap = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
        char *out = need(malloc(cap));

        (void)sodium_bin2base64(out, cap, p, n, sodium_base64_VARIANT_ORIGINAL);
        return out;
}

static void hex(const unsigned char *p, size_t n, char *out)
{
        static const char digits[] = "0123456789abcdef";
        size_t i;

        for (i = 0; i < n; i++) {
                out[2 * i] = digits[p[i] >> 4];
                out[2 * i + 1] = digits[p[i] & 0xf];
        }
        out[2 * n] = '\0';
}

/* ------------------------------------------------------------------- keys */

struct key {
        const char *name;
        const char *role;
        unsigned char fill; /* the seed: 32 bytes of it */
        struct signing_key sk;
};

static struct key watchdog = {"watchdog-1", "watchdog", 0x11, {{0}, {{0}, ""}}};
static struct key operator_key = {"operator-1", "operator", 0x22, {{0}, {{0}, ""}}};
static struct key stranger = {"stranger", "stranger", 0x33, {{0}, {{0}, ""}}};

static void key_init(struct key *k)
{
        unsigned char seed[32], pk[SIGNING_KEY_PUBLIC_BYTES];

        memset(seed, k->fill, sizeof seed);
        if (crypto_sign_seed_keypair(pk, k->sk.sk, seed) != 0)
                die("crypto_sign_seed_keypair failed");
        verify_key_from_bytes(pk, &k->sk.pub);
}

static cJSON *key_json(const struct key *k, cJSON *key_ids)
{
        unsigned char seed[32], digest[32];
        char seed_hex[65], digest_hex[65], pk_hex[65], line[128];
        char *pub = b64(k->sk.pub.pk, SIGNING_KEY_PUBLIC_BYTES);
        cJSON *o = need(cJSON_CreateObject());

        memset(seed, k->fill, sizeof seed);
        hex(seed, sizeof seed, seed_hex);
        (void)crypto_generichash(digest, sizeof digest, k->sk.pub.pk, SIGNING_KEY_PUBLIC_BYTES,
                                 NULL, 0);
        hex(digest, sizeof digest, digest_hex);
        if (strncmp(digest_hex, k->sk.pub.key_id, SIGNING_KEY_ID_LEN) != 0)
                die("key_id of %s is not the digest's first 8 bytes", k->name);
        (void)snprintf(line, sizeof line, "%s %s", SIGNING_KEY_PUBLIC_HEADER, pub);
        cJSON_AddStringToObject(o, "name", k->name);
        cJSON_AddStringToObject(o, "public_file_line", line);
        cJSON_AddStringToObject(o, "public_key_b64", pub);
        hex(k->sk.pub.pk, SIGNING_KEY_PUBLIC_BYTES, pk_hex);
        cJSON_AddStringToObject(o, "public_key_hex", pk_hex);
        cJSON_AddStringToObject(o, "blake2b_256_hex", digest_hex);
        cJSON_AddStringToObject(o, "key_id", k->sk.pub.key_id);
        cJSON_AddStringToObject(o, "seed_hex", seed_hex);
        cJSON_AddStringToObject(key_ids, pub, k->sk.pub.key_id);
        free(pub);
        return o;
}

/* --------------------------------------------------------------- messages */

static const char *halt_id(const char *invariant, uint64_t height)
{
        static char ids[16][CONTROL_ID_SIZE];
        static int next;
        char *id = ids[next++ % 16];

        control_halt_id(invariant, "SIGIL", height, id);
        return id;
}

/* "resume-" and 32 hex digits of n. */
static const char *resume_id(unsigned n)
{
        static char ids[8][CONTROL_ID_SIZE];
        static int next;
        char *id = ids[next++ % 8];

        (void)snprintf(id, CONTROL_ID_SIZE, "resume-%032x", n);
        return id;
}

/* A HALT as relaywatch builds it, naming key_id. */
/*
 * m with the "audit" member relaywatch adds to a HALT (PROTOCOL.md section
 * 4.1): a checkpoint of a tree of 42 records signed as a C2SP note by a
 * fixed audit key (seed 0x44 x 32).
 */
static struct bytes with_audit(struct bytes m)
{
        unsigned char seed[32], pk[32], sk[64];
        struct audit_checkpoint cp;
        char *textp = NULL, *note = NULL, *root, *escaped, *member;
        cJSON *str;
        struct rwerr err;
        size_t n;

        memset(seed, 0x44, sizeof seed);
        if (crypto_sign_seed_keypair(pk, sk, seed) != 0)
                die("crypto_sign_seed_keypair failed");
        memset(&cp, 0, sizeof cp);
        snprintf(cp.origin, sizeof cp.origin, "relaywatch/watchdog-1");
        cp.size = 42;
        crypto_hash_sha256(cp.root, (const unsigned char *)"vectors", 7);
        if (audit_checkpoint_format(&cp, &textp, &err) != RW_OK ||
            audit_note_sign(textp, cp.origin, sk, &note, &err) != RW_OK)
                die("audit note: %s", err.msg);
        root = b64(cp.root, sizeof cp.root);
        str = need(cJSON_CreateString(note));
        escaped = need(cJSON_PrintUnformatted(str));
        n = strlen(root) + strlen(escaped) + 96;
        member = need(malloc(n));
        snprintf(member, n, "\"v\":1,\"audit\":{\"size\":42,\"root\":\"%s\",\"checkpoint\":%s},",
                 root, escaped);
        m = edit(m, "\"v\":1,", member);
        free(member);
        free(escaped);
        cJSON_Delete(str);
        free(root);
        free(textp);
        free(note);
        sodium_memzero(sk, sizeof sk);
        return m;
}

static struct bytes halt(const char *id, const char *invariant, int64_t at, const char *key_id)
{
        static const struct control_height heights[] = {{"source", 1200}, {"execution", 3400}};
        struct control_msg_fields f;
        cJSON *evidence = need(cJSON_Parse("{\"locked\":\"1000000\",\"minted\":\"1000001\"}"));
        struct bytes b;
        struct rwerr err;

        memset(&f, 0, sizeof f);
        f.type = CONTROL_HALT;
        f.id = id;
        f.invariant = invariant;
        f.severity = "CRITICAL";
        f.reason = "minted exceeds locked";
        f.evidence = evidence;
        f.heights = heights;
        f.nheights = 2;
        f.issued_at_ms = at;
        f.watchdog_id = "relaywatch-vectors";
        f.correlation_id = "rw-vectors-1";
        f.key_id = key_id;
        if (control_msg_build(&f, &b.p, &b.n, &err) != RW_OK)
                die("building a HALT: %s", err.msg);
        cJSON_Delete(evidence);
        return b;
}

/* A RESUME as `relaywatch resume` builds it, lifting lifts[0..n). */
static struct bytes resume(const char *id, const char *const *lifts, size_t n, int64_t at,
                           const char *key_id)
{
        static const struct control_height from[] = {{"source", 1300}, {"execution", 3500}};
        struct control_msg_fields f;
        cJSON *evidence = need(cJSON_CreateObject()), *lifted;
        struct bytes b;
        struct rwerr err;

        cJSON_AddStringToObject(evidence, "validate", "VALID");
        cJSON_AddFalseToObject(evidence, "forced");
        lifted = need(cJSON_CreateStringArray(lifts, (int)n));
        cJSON_AddItemToObject(evidence, "lifted", lifted);
        memset(&f, 0, sizeof f);
        f.type = CONTROL_RESUME;
        f.id = id;
        f.invariant = "*";
        f.severity = "INFO";
        f.reason = "validated: the ledger and both chains agree";
        f.evidence = evidence;
        f.lifts = lifts;
        f.nlifts = n;
        f.resume_from = from;
        f.nresume_from = 2;
        f.issued_at_ms = at;
        f.watchdog_id = "operator";
        f.correlation_id = "resume-vectors";
        f.key_id = key_id;
        if (control_msg_build(&f, &b.p, &b.n, &err) != RW_OK)
                die("building a RESUME: %s", err.msg);
        cJSON_Delete(evidence);
        return b;
}

/* The signature text of b by k. */
static const char *sign(const struct key *k, struct bytes b)
{
        static char sigs[8][CONTROL_SIG_B64_SIZE];
        static int next;
        char *sig = sigs[next++ % 8];
        struct rwerr err;

        if (control_msg_sign(&k->sk, b.p, b.n, sig, &err) != RW_OK)
                die("signing: %s", err.msg);
        return sig;
}

/* ------------------------------------------------------------------ cases */

static cJSON *cases;

struct vcase {
        cJSON *obj, *entries;
        int next_entry;
};

static struct vcase case_begin(const char *name, const char *description)
{
        struct vcase c;

        c.obj = need(cJSON_CreateObject());
        cJSON_AddStringToObject(c.obj, "name", name);
        cJSON_AddStringToObject(c.obj, "description", description);
        cJSON_AddNullToObject(c.obj, "halt_key");
        c.entries = need(cJSON_AddArrayToObject(c.obj, "entries"));
        c.next_entry = 1;
        return c;
}

static cJSON *field(const char *name, const char *value, size_t n)
{
        cJSON *f = need(cJSON_CreateObject());
        char *v = b64(value, n);

        cJSON_AddStringToObject(f, "name", name);
        cJSON_AddStringToObject(f, "value_b64", v);
        free(v);
        return f;
}

static cJSON *msg_sig(struct bytes msg, const char *sig, size_t sig_len)
{
        cJSON *fields = need(cJSON_CreateArray());

        cJSON_AddItemToArray(fields, field("msg", msg.p, msg.n));
        cJSON_AddItemToArray(fields, field("sig", sig, sig_len));
        return fields;
}

/* The halt key holds `fields`; expect "halt", or "reject" with reason. */
static void case_halt_key(struct vcase *c, cJSON *fields, const char *expect, const char *reason)
{
        cJSON *hk = need(cJSON_CreateObject());

        cJSON_AddItemToObject(hk, "fields", fields);
        cJSON_ReplaceItemInObjectCaseSensitive(c->obj, "halt_key", hk);
        cJSON_AddStringToObject(c->obj, "halt_key_expect", expect);
        if (reason != NULL)
                cJSON_AddStringToObject(c->obj, "halt_key_reason", reason);
}

/* The next entry ("N-0"), with `fields` (taken over). */
static void entry(struct vcase *c, cJSON *fields, const char *expect, const char *reason)
{
        cJSON *e = need(cJSON_CreateObject());
        char id[24];

        (void)snprintf(id, sizeof id, "%d-0", c->next_entry++);
        cJSON_AddStringToObject(e, "entry_id", id);
        cJSON_AddItemToObject(e, "fields", fields);
        cJSON_AddStringToObject(e, "expect", expect);
        if (reason != NULL)
                cJSON_AddStringToObject(e, "reason", reason);
        cJSON_AddItemToArray(c->entries, e);
}

/* The last entry again, same entry id and fields (pending entries read after a reconnection). */
static void entry_again(struct vcase *c, const char *expect)
{
        const cJSON *last = cJSON_GetArrayItem(c->entries, cJSON_GetArraySize(c->entries) - 1);
        cJSON *e = need(cJSON_Duplicate(last, 1));

        cJSON_ReplaceItemInObjectCaseSensitive(e, "expect", need(cJSON_CreateString(expect)));
        cJSON_AddItemToArray(c->entries, e);
}

/* An entry {msg, sig} with msg signed by `by` (freed). */
static void signed_entry(struct vcase *c, struct bytes msg, const struct key *by,
                         const char *expect, const char *reason)
{
        const char *sig = sign(by, msg);

        entry(c, msg_sig(msg, sig, strlen(sig)), expect, reason);
        free(msg.p);
}

/* Ends the case: the HALT in force at the end (NULL: none; no case needs two). */
static void case_end(struct vcase *c, const char *in_force)
{
        cJSON *final = need(cJSON_AddArrayToObject(c->obj, "final_in_force"));

        if (in_force != NULL)
                cJSON_AddItemToArray(final, need(cJSON_CreateString(in_force)));
        cJSON_AddItemToArray(cases, c->obj);
}

/* A case of one entry: m, signed by the watchdog key, rejected with `reason`. */
static void forged(const char *name, const char *description, struct bytes m, const char *reason)
{
        struct vcase c = case_begin(name, description);

        signed_entry(&c, m, &watchdog, "reject", reason);
        case_end(&c, NULL);
}

/* The watchdog's HALT of SUPPLY_MISMATCH, as relaywatch builds it. */
static struct bytes the_halt(void)
{
        return halt(halt_id("SUPPLY_MISMATCH", 1200), "SUPPLY_MISMATCH", T0,
                    watchdog.sk.pub.key_id);
}

/* That HALT with one edit, signed by the watchdog; rejected with `reason`. */
static void forged_halt(const char *name, const char *description, const char *from, const char *to,
                        const char *reason)
{
        forged(name, description, edit(the_halt(), from, to), reason);
}

/* The same with two edits. */
static void forged_halt2(const char *name, const char *description, const char *from,
                         const char *to, const char *from2, const char *to2, const char *reason)
{
        forged(name, description, edit(edit(the_halt(), from, to), from2, to2), reason);
}

/* ------------------------------------------------------- the cases themselves */

static void valid_cases(void)
{
        const char *a = halt_id("SUPPLY_MISMATCH", 1200), *b = halt_id("NONCE_DESYNC", 1201),
                   *d = halt_id("DUPLICATE_ROOT", 1202);
        const char *la[1] = {a}, *lad[2] = {a, d};
        struct vcase c;

        c = case_begin("halt_by_watchdog_key", "A HALT signed by a watchdog key halts.");
        signed_entry(&c, halt(a, "SUPPLY_MISMATCH", T0, watchdog.sk.pub.key_id), &watchdog, "halt",
                     NULL);
        case_end(&c, a);

        c = case_begin("halt_by_operator_key",
                       "A HALT signed by an operator key halts: an operator may halt by hand.");
        signed_entry(&c, halt(a, "MANUAL", T0, operator_key.sk.pub.key_id), &operator_key, "halt",
                     NULL);
        case_end(&c, a);

        c = case_begin("halt_then_resume",
                       "A HALT, then the operator's RESUME that lifts it: nothing in force.");
        signed_entry(&c, halt(a, "SUPPLY_MISMATCH", T0, watchdog.sk.pub.key_id), &watchdog, "halt",
                     NULL);
        signed_entry(&c, resume(resume_id(1), la, 1, T0 + 60000, operator_key.sk.pub.key_id),
                     &operator_key, "resume", NULL);
        case_end(&c, NULL);

        c = case_begin("resume_lifts_two_of_three",
                       "Three HALTs; a RESUME lifts the two it lists and the third stays in "
                       "force: a relayer stays halted.");
        signed_entry(&c, halt(a, "SUPPLY_MISMATCH", T0, watchdog.sk.pub.key_id), &watchdog, "halt",
                     NULL);
        signed_entry(&c, halt(b, "NONCE_DESYNC", T0 + 1000, watchdog.sk.pub.key_id), &watchdog,
                     "halt", NULL);
        signed_entry(&c, halt(d, "DUPLICATE_ROOT", T0 + 2000, watchdog.sk.pub.key_id), &watchdog,
                     "halt", NULL);
        signed_entry(&c, resume(resume_id(2), lad, 2, T0 + 60000, operator_key.sk.pub.key_id),
                     &operator_key, "resume", NULL);
        case_end(&c, b);

        c = case_begin("resume_does_not_lift_a_later_halt",
                       "A RESUME lifts what it lists, nothing else: a HALT after it stays in "
                       "force, whatever the issued_at values say.");
        signed_entry(&c, halt(a, "SUPPLY_MISMATCH", T0, watchdog.sk.pub.key_id), &watchdog, "halt",
                     NULL);
        signed_entry(&c, halt(b, "NONCE_DESYNC", T0 + 120000, watchdog.sk.pub.key_id), &watchdog,
                     "halt", NULL);
        /* signed (issued) after B, but lists only A */
        signed_entry(&c, resume(resume_id(3), la, 1, T0 + 180000, operator_key.sk.pub.key_id),
                     &operator_key, "resume", NULL);
        case_end(&c, b);

        c = case_begin("unknown_fields_are_ignored",
                       "Fields a later revision of version 1 may add are ignored.");
        signed_entry(&c,
                     edit(halt(a, "SUPPLY_MISMATCH", T0, watchdog.sk.pub.key_id), "\"v\":1,",
                          "\"v\":1,\"later\":{\"list\":[1,2.5,\"x\",null,true]},"),
                     &watchdog, "halt", NULL);
        case_end(&c, a);

        c = case_begin(
                "halt_with_audit_checkpoint",
                "relaywatch's HALTs carry \"audit\": the audit log's checkpoint (size, root, "
                "signed note); informational, not checked.");
        signed_entry(&c, with_audit(halt(a, "SUPPLY_MISMATCH", T0, watchdog.sk.pub.key_id)),
                     &watchdog, "halt", NULL);
        case_end(&c, a);

        c = case_begin("escapes_and_unicode",
                       "Escapes, a surrogate pair and non-ASCII UTF-8 in strings are fine.");
        signed_entry(&c,
                     edit(halt(a, "SUPPLY_MISMATCH", T0, watchdog.sk.pub.key_id),
                          "minted exceeds locked",
                          "minted \\u003e locked \\ud83d\\ude00 \\\"quoted\\\" \\n caf\xc3\xa9"),
                     &watchdog, "halt", NULL);
        case_end(&c, a);
}

static void signature_cases(void)
{
        const char *a = halt_id("SUPPLY_MISMATCH", 1200);
        struct bytes m;
        struct vcase c;
        char sig[CONTROL_SIG_B64_SIZE + 4];
        size_t i;
        int changed = 0;

        c = case_begin("tampered_msg",
                       "A valid HALT with one byte of msg changed after it was signed.");
        m = halt(a, "SUPPLY_MISMATCH", T0, watchdog.sk.pub.key_id);
        (void)snprintf(sig, sizeof sig, "%s", sign(&watchdog, m));
        m = edit(m, "\"source\":1200", "\"source\":1201");
        entry(&c, msg_sig(m, sig, strlen(sig)), "reject", "bad_signature");
        free(m.p);
        case_end(&c, NULL);

        c = case_begin("tampered_sig",
                       "A valid HALT whose signature has one base64 character changed (still "
                       "88 characters of 64 bytes).");
        m = halt(a, "SUPPLY_MISMATCH", T0, watchdog.sk.pub.key_id);
        (void)snprintf(sig, sizeof sig, "%s", sign(&watchdog, m));
        sig[20] = sig[20] == 'A' ? 'B' : 'A';
        entry(&c, msg_sig(m, sig, strlen(sig)), "reject", "bad_signature");
        free(m.p);
        case_end(&c, NULL);

        c = case_begin("stranger_key", "A HALT signed by a key nobody configured, naming it.");
        signed_entry(&c, halt(a, "SUPPLY_MISMATCH", T0, stranger.sk.pub.key_id), &stranger,
                     "reject", "bad_signature");
        case_end(&c, NULL);

        c = case_begin("stranger_key_naming_the_watchdog",
                       "A HALT signed by a key nobody configured, naming the watchdog's key.");
        signed_entry(&c, halt(a, "SUPPLY_MISMATCH", T0, watchdog.sk.pub.key_id), &stranger,
                     "reject", "bad_signature");
        case_end(&c, NULL);

        c = case_begin("sig_wrong_length", "The signature cut to 87 characters.");
        m = halt(a, "SUPPLY_MISMATCH", T0, watchdog.sk.pub.key_id);
        (void)snprintf(sig, sizeof sig, "%s", sign(&watchdog, m));
        entry(&c, msg_sig(m, sig, 87), "reject", "bad_signature");
        free(m.p);
        case_end(&c, NULL);

        c = case_begin("sig_with_newline",
                       "The signature followed by a newline (89 bytes): no whitespace.");
        m = halt(a, "SUPPLY_MISMATCH", T0, watchdog.sk.pub.key_id);
        (void)snprintf(sig, sizeof sig, "%s\n", sign(&watchdog, m));
        entry(&c, msg_sig(m, sig, 89), "reject", "bad_signature");
        free(m.p);
        case_end(&c, NULL);

        c = case_begin("sig_url_safe_alphabet",
                       "The right signature in the URL-safe alphabet ('-' and '_').");
        m = halt(a, "SUPPLY_MISMATCH", T0, watchdog.sk.pub.key_id);
        (void)snprintf(sig, sizeof sig, "%s", sign(&watchdog, m));
        for (i = 0; i < 88; i++) {
                if (sig[i] == '+' || sig[i] == '/') {
                        sig[i] = sig[i] == '+' ? '-' : '_';
                        changed = 1;
                }
        }
        if (!changed)
                die("the signature has no '+' or '/' to make URL-safe: change the message");
        entry(&c, msg_sig(m, sig, 88), "reject", "bad_signature");
        free(m.p);
        case_end(&c, NULL);

        c = case_begin("sig_without_padding", "The right signature without its '==' (86 "
                                              "characters).");
        m = halt(a, "SUPPLY_MISMATCH", T0, watchdog.sk.pub.key_id);
        (void)snprintf(sig, sizeof sig, "%s", sign(&watchdog, m));
        if (strcmp(sig + 86, "==") != 0)
                die("a signature does not end in '=='");
        entry(&c, msg_sig(m, sig, 86), "reject", "bad_signature");
        free(m.p);
        case_end(&c, NULL);

        c = case_begin("sig_nonzero_padding_bits",
                       "The right signature with the 4 unused bits of its last character set: "
                       "the same 64 bytes to a lax decoder, not base64 to a strict one.");
        m = halt(a, "SUPPLY_MISMATCH", T0, watchdog.sk.pub.key_id);
        (void)snprintf(sig, sizeof sig, "%s", sign(&watchdog, m));
        {
                static const char alphabet[] =
                        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
                const char *p = strchr(alphabet, sig[85]);

                if (p == NULL || ((p - alphabet) & 0xf) != 0)
                        die("the last character of a signature has padding bits set");
                sig[85] = alphabet[(p - alphabet) | 1];
        }
        entry(&c, msg_sig(m, sig, 88), "reject", "bad_signature");
        free(m.p);
        case_end(&c, NULL);

        c = case_begin("bad_signature_over_bad_utf8",
                       "Bytes that are not UTF-8 under a signature that does not verify: the "
                       "signature is checked first.");
        m = text("{\"v\":1,\"type\":\"HALT\",\"reason\":\"\xff\"}");
        (void)snprintf(sig, sizeof sig, "%s", sign(&stranger, m));
        entry(&c, msg_sig(m, sig, 88), "reject", "bad_signature");
        free(m.p);
        case_end(&c, NULL);
}

static void json_cases(void)
{
        const char *a = halt_id("SUPPLY_MISMATCH", 1200), *b = halt_id("NONCE_DESYNC", 1201);
        char from[64], to[160];
        struct bytes m;
        struct vcase c;

        forged_halt("not_utf8", "A 0xff byte in reason; the signature over it is valid.",
                    "minted exceeds", "minted \xff exceeds", "not_utf8");
        forged_halt("overlong_utf8", "An overlong form of '/' (c0 af) in reason.", "minted exceeds",
                    "minted \xc0\xaf exceeds", "not_utf8");
        forged_halt("surrogate_utf8", "A UTF-16 surrogate encoded as UTF-8 (ed a0 80) in reason.",
                    "minted exceeds", "minted \xed\xa0\x80 exceeds", "not_utf8");
        forged_halt("above_u10ffff", "A code point above U+10FFFF (f4 90 80 80) in reason.",
                    "minted exceeds", "minted \xf4\x90\x80\x80 exceeds", "not_utf8");
        forged_halt("truncated_utf8", "A 3-byte sequence cut short (e2 82) in reason.",
                    "minted exceeds", "minted \xe2\x82 exceeds", "not_utf8");

        c = case_begin("nul_byte", "A NUL byte in reason (a raw byte, not an escape).");
        m = halt(a, "SUPPLY_MISMATCH", T0, watchdog.sk.pub.key_id);
        m.p[strstr(m.p, "exceeds") - m.p] = '\0';
        signed_entry(&c, m, &watchdog, "reject", "not_utf8");
        case_end(&c, NULL);

        (void)snprintf(from, sizeof from, "\"id\":\"%s\"", a);
        (void)snprintf(to, sizeof to, "\"id\":\"%s\",\"id\":\"%s\"", a, b);
        forged_halt("duplicate_top_level_key",
                    "id given twice: a HALT of one id to a reader that keeps the first, of "
                    "another to one that keeps the last.",
                    from, to, "duplicate_key");
        forged_halt("duplicate_nested_key", "A name twice in the evidence object.",
                    "\"minted\":\"1000001\"", "\"minted\":\"1000001\",\"minted\":\"0\"",
                    "duplicate_key");
        forged_halt("duplicate_key_in_array",
                    "A name twice in an object inside an array inside evidence.",
                    "\"minted\":\"1000001\"",
                    "\"minted\":\"1000001\",\"rows\":[{\"n\":1},{\"n\":2,\"n\":3}]",
                    "duplicate_key");
        forged_halt("duplicate_key_escaped", "\"\\u0069d\" is \"id\": the same name, escaped.",
                    "\"v\":1,", "\"v\":1,\"\\u0069d\":\"x\",", "duplicate_key");
        forged_halt("duplicate_then_bad_json",
                    "A duplicate name and, after it, a grammar error: the grammar (step 5) "
                    "comes first.",
                    "\"v\":1,", "\"v\":1,\"v\":1,,", "bad_json");

        forged_halt("leading_whitespace", "A space before the '{'.", "{\"v\":1", " {\"v\":1",
                    "bad_json");
        c = case_begin("trailing_bytes", "A newline after the closing '}'.");
        m = halt(a, "SUPPLY_MISMATCH", T0, watchdog.sk.pub.key_id);
        m.p = need(realloc(m.p, m.n + 2));
        m.p[m.n++] = '\n';
        m.p[m.n] = '\0';
        signed_entry(&c, m, &watchdog, "reject", "bad_json");
        case_end(&c, NULL);
        forged_halt("lone_high_surrogate_escape", "\\ud800 with no low surrogate after it.",
                    "minted exceeds", "minted \\ud800 exceeds", "bad_json");
        forged_halt("lone_low_surrogate_escape", "\\udc00 with no high surrogate before it.",
                    "minted exceeds", "minted \\udc00 exceeds", "bad_json");
        forged_halt("trailing_comma", "A comma before a closing '}'.", "\"minted\":\"1000001\"",
                    "\"minted\":\"1000001\",", "bad_json");
        forged_halt("leading_zero", "A block number with a leading zero.", "\"source\":1200",
                    "\"source\":01200", "bad_json");
        forged_halt("plus_sign", "A block number with a leading '+'.", "\"source\":1200",
                    "\"source\":+1200", "bad_json");
        forged_halt("nan", "NaN as a value.", "\"minted\":\"1000001\"",
                    "\"minted\":\"1000001\",\"ratio\":NaN", "bad_json");
        forged_halt("single_quotes", "A string in single quotes.", "\"minted\":\"1000001\"",
                    "\"minted\":'1000001'", "bad_json");
        forged_halt("comment", "A comment.", "\"v\":1,", "\"v\":1,/* v1 */", "bad_json");
        forged_halt("bad_escape", "\\x41 is not a JSON escape.", "minted exceeds",
                    "minted \\x41 exceeds", "bad_json");
        forged_halt("nul_escape",
                    "\\u0000 in a name: readers of NUL-terminated strings would see \"id\" "
                    "where others see another name.",
                    "\"v\":1,", "\"v\":1,\"id\\u0000x\":\"halt-0\",", "bad_json");

        /* evidence is at depth 2: k arrays inside it make 2 + k */
        {
                char deep[128];
                int k;

                for (k = 30; k <= 31; k++) {
                        int i, n = 0;

                        n += snprintf(deep + n, sizeof deep - (size_t)n, "\"deep\":");
                        for (i = 0; i < k; i++)
                                deep[n++] = '[';
                        for (i = 0; i < k; i++)
                                deep[n++] = ']';
                        deep[n++] = ',';
                        deep[n] = '\0';
                        (void)snprintf(to, sizeof to, "\"evidence\":{%s", deep);
                        if (k == 30) {
                                c = case_begin("depth_32", "Objects and arrays nested 32 deep "
                                                           "(the outer object counts): fine.");
                                signed_entry(
                                        &c,
                                        edit(halt(a, "SUPPLY_MISMATCH", T0, watchdog.sk.pub.key_id),
                                             "\"evidence\":{", to),
                                        &watchdog, "halt", NULL);
                                case_end(&c, a);
                        } else {
                                forged_halt("depth_33", "Objects and arrays nested 33 deep.",
                                            "\"evidence\":{", to, "bad_json");
                        }
                }
        }
}

/* A HALT of exactly `size` bytes (reason padded), signed by the watchdog. */
static struct bytes halt_of_size(const char *id, size_t size)
{
        struct bytes m = halt(id, "SUPPLY_MISMATCH", T0, watchdog.sk.pub.key_id);
        size_t pad = size - m.n;
        char *reason = need(malloc(pad + sizeof "minted exceeds locked"));

        memset(reason, 'x', pad);
        memcpy(reason + pad, "minted exceeds locked", sizeof "minted exceeds locked");
        m = edit(m, "minted exceeds locked", reason);
        free(reason);
        if (m.n != size)
                die("a HALT of %zu bytes came out at %zu", size, m.n);
        return m;
}

static void size_and_field_cases(void)
{
        const char *a = halt_id("SUPPLY_MISMATCH", 1200);
        const char *la[1] = {a};
        struct vcase c;

        c = case_begin("max_length", "A HALT of exactly 65,536 bytes: fine.");
        signed_entry(&c, halt_of_size(a, CONTROL_MSG_MAX), &watchdog, "halt", NULL);
        case_end(&c, a);
        c = case_begin("too_long", "A valid, signed HALT of 65,537 bytes.");
        signed_entry(&c, halt_of_size(a, CONTROL_MSG_MAX + 1), &watchdog, "reject", "too_long");
        case_end(&c, NULL);

        forged_halt("version_2", "\"v\":2: a version this reader does not implement.", "\"v\":1",
                    "\"v\":2", "unknown_version");
        forged_halt("version_string", "\"v\":\"1\": a string is not the number 1.", "\"v\":1",
                    "\"v\":\"1\"", "unknown_version");
        forged_halt2("version_before_fields",
                     "\"v\":2 and key_id absent: the version (step 7) is checked first.", "\"v\":1",
                     "\"v\":2", ",\"key_id\":\"", ",\"kid\":\"", "unknown_version");

        forged_halt("missing_key_id", "key_id absent.", ",\"key_id\":\"", ",\"kid\":\"",
                    "missing_field");
        forged_halt("missing_version", "v absent.", "{\"v\":1,", "{", "missing_field");
        forged_halt2("missing_before_bad",
                     "type is \"PAUSE\" and reason is absent: a missing field (step 8) comes "
                     "before a bad one (step 9), wherever they stand.",
                     "\"HALT\"", "\"PAUSE\"", "\"reason\":", "\"cause\":", "missing_field");
        forged_halt2("bad_field_before_key_id",
                     "type is \"PAUSE\" and key_id names the operator key: a bad field (step "
                     "9) comes before the key_id check (step 10).",
                     "\"HALT\"", "\"PAUSE\"", watchdog.sk.pub.key_id, operator_key.sk.pub.key_id,
                     "bad_field");
        c = case_begin("resume_without_lifts",
                       "A RESUME of the operator's without lifts: it could lift anything.");
        signed_entry(&c, halt(a, "SUPPLY_MISMATCH", T0, watchdog.sk.pub.key_id), &watchdog, "halt",
                     NULL);
        {
                char from[64];

                (void)snprintf(from, sizeof from, "\"lifts\":[\"%s\"],", a);
                signed_entry(
                        &c,
                        edit(resume(resume_id(4), la, 1, T0 + 60000, operator_key.sk.pub.key_id),
                             from, ""),
                        &operator_key, "reject", "missing_field");
        }
        case_end(&c, a);

        {
                char to[96];

                (void)snprintf(to, sizeof to, "\"lifts\":[\"%s\"],\"issued_at\"", a);
                forged_halt("halt_with_lifts", "A HALT carrying lifts.", "\"issued_at\"", to,
                            "bad_field");
        }
        forged_halt("halt_with_resume_from", "A HALT carrying resume_from.", "\"issued_at\"",
                    "\"resume_from\":{\"source\":1},\"issued_at\"", "bad_field");
        forged_halt("type_pause", "type \"PAUSE\".", "\"HALT\"", "\"PAUSE\"", "bad_field");
        forged_halt("type_lowercase", "type \"halt\".", "\"HALT\"", "\"halt\"", "bad_field");
        {
                char upper[CONTROL_ID_SIZE];
                size_t i;

                for (i = 0; a[i] != '\0'; i++)
                        upper[i] = (char)(i >= 5 && a[i] >= 'a' && a[i] <= 'f' ? a[i] - 32 : a[i]);
                upper[i] = '\0';
                if (strcmp(upper, a) == 0)
                        die("HALT id %s has no hex letter to put in uppercase", a);
                forged_halt("id_uppercase_hex", "A HALT id with uppercase hex digits.", a, upper,
                            "bad_field");
        }
        forged_halt("empty_reason", "reason \"\".", "\"reason\":\"minted exceeds locked\"",
                    "\"reason\":\"\"", "bad_field");
        forged_halt("height_too_big", "A block number of 2^53.", "\"source\":1200",
                    "\"source\":9007199254740992", "bad_field");
        forged_halt("height_fraction", "A block number of 1200.5.", "\"source\":1200",
                    "\"source\":1200.5", "bad_field");
        forged_halt("issued_at_not_a_date", "issued_at on February 30th.", "2025-01-01T",
                    "2025-02-30T", "bad_field");
        {
                char upper[SIGNING_KEY_ID_SIZE];
                size_t i;

                for (i = 0; i < SIGNING_KEY_ID_SIZE; i++) {
                        char ch = watchdog.sk.pub.key_id[i];

                        upper[i] = (char)(ch >= 'a' && ch <= 'f' ? ch - 32 : ch);
                }
                forged_halt("key_id_uppercase",
                            "The watchdog's key_id in uppercase hex: its form is step 9.",
                            watchdog.sk.pub.key_id, upper, "bad_field");
        }
        c = case_begin("resume_lifts_a_resume_id",
                       "A RESUME whose lifts names something that is not a HALT id.");
        signed_entry(&c, halt(a, "SUPPLY_MISMATCH", T0, watchdog.sk.pub.key_id), &watchdog, "halt",
                     NULL);
        {
                char from[64], to[64];

                (void)snprintf(from, sizeof from, "\"lifts\":[\"%s\"]", a);
                (void)snprintf(to, sizeof to, "\"lifts\":[\"%s\"]", resume_id(9));
                signed_entry(
                        &c,
                        edit(resume(resume_id(5), la, 1, T0 + 60000, operator_key.sk.pub.key_id),
                             from, to),
                        &operator_key, "reject", "bad_field");
        }
        case_end(&c, a);
}

static void key_cases(void)
{
        const char *a = halt_id("SUPPLY_MISMATCH", 1200);
        const char *la[1] = {a};
        struct vcase c;

        c = case_begin("key_id_mismatch",
                       "A HALT signed by the watchdog key whose key_id names the operator key.");
        signed_entry(&c, halt(a, "SUPPLY_MISMATCH", T0, operator_key.sk.pub.key_id), &watchdog,
                     "reject", "key_id_mismatch");
        case_end(&c, NULL);

        c = case_begin("key_id_of_nobody",
                       "A HALT signed by the watchdog key whose key_id names no key at all.");
        signed_entry(&c, halt(a, "SUPPLY_MISMATCH", T0, "0000000000000000"), &watchdog, "reject",
                     "key_id_mismatch");
        case_end(&c, NULL);

        c = case_begin("resume_by_watchdog_key",
                       "A RESUME signed by the watchdog key, naming it: a watchdog cannot "
                       "resume what it halted.");
        signed_entry(&c, halt(a, "SUPPLY_MISMATCH", T0, watchdog.sk.pub.key_id), &watchdog, "halt",
                     NULL);
        signed_entry(&c, resume(resume_id(6), la, 1, T0 + 60000, watchdog.sk.pub.key_id), &watchdog,
                     "reject", "resume_by_watchdog_key");
        case_end(&c, a);

        c = case_begin("resume_by_watchdog_key_naming_operator",
                       "A RESUME signed by the watchdog key whose key_id names the operator "
                       "key: key_id (step 10) comes before who may resume (step 11).");
        signed_entry(&c, halt(a, "SUPPLY_MISMATCH", T0, watchdog.sk.pub.key_id), &watchdog, "halt",
                     NULL);
        signed_entry(&c, resume(resume_id(6), la, 1, T0 + 60000, operator_key.sk.pub.key_id),
                     &watchdog, "reject", "key_id_mismatch");
        case_end(&c, a);
}

static void entry_cases(void)
{
        const char *a = halt_id("SUPPLY_MISMATCH", 1200);
        struct bytes m = halt(a, "SUPPLY_MISMATCH", T0, watchdog.sk.pub.key_id);
        const char *sig = sign(&watchdog, m);
        cJSON *fields;
        struct vcase c;

        c = case_begin("entry_only_msg", "An entry with a msg field and no sig.");
        fields = need(cJSON_CreateArray());
        cJSON_AddItemToArray(fields, field("msg", m.p, m.n));
        entry(&c, fields, "reject", "bad_entry");
        case_end(&c, NULL);

        c = case_begin("entry_extra_field", "msg, sig and a third field.");
        fields = msg_sig(m, sig, strlen(sig));
        cJSON_AddItemToArray(fields, field("note", "hello", 5));
        entry(&c, fields, "reject", "bad_entry");
        case_end(&c, NULL);

        c = case_begin("entry_msg_twice", "msg twice (with the same bytes) and sig.");
        fields = msg_sig(m, sig, strlen(sig));
        cJSON_AddItemToArray(fields, field("msg", m.p, m.n));
        entry(&c, fields, "reject", "bad_entry");
        case_end(&c, NULL);

        c = case_begin("entry_no_fields", "An entry with no field (what XDEL leaves in a "
                                          "consumer group's pending list).");
        entry(&c, need(cJSON_CreateArray()), "reject", "bad_entry");
        case_end(&c, NULL);

        c = case_begin("entry_field_names_differ", "MSG and SIG in capitals.");
        fields = need(cJSON_CreateArray());
        cJSON_AddItemToArray(fields, field("MSG", m.p, m.n));
        cJSON_AddItemToArray(fields, field("SIG", sig, strlen(sig)));
        entry(&c, fields, "reject", "bad_entry");
        case_end(&c, NULL);

        c = case_begin("entry_sig_first", "sig before msg: the order of the fields does not "
                                          "matter.");
        fields = need(cJSON_CreateArray());
        cJSON_AddItemToArray(fields, field("sig", sig, strlen(sig)));
        cJSON_AddItemToArray(fields, field("msg", m.p, m.n));
        entry(&c, fields, "halt", NULL);
        case_end(&c, a);
        free(m.p);
}

static void replay_cases(void)
{
        const char *a = halt_id("SUPPLY_MISMATCH", 1200), *b = halt_id("NONCE_DESYNC", 1201);
        const char *la[1] = {a}, *lb[1] = {b};
        struct bytes r, h;
        const char *sig;
        char rsig[CONTROL_SIG_B64_SIZE], hsig[CONTROL_SIG_B64_SIZE];
        struct vcase c;

        c = case_begin("replayed_resume",
                       "HALT A, RESUME [A], HALT B, then a copy of the RESUME: it lifts no "
                       "HALT in force, and its id was accepted before.");
        signed_entry(&c, halt(a, "SUPPLY_MISMATCH", T0, watchdog.sk.pub.key_id), &watchdog, "halt",
                     NULL);
        r = resume(resume_id(7), la, 1, T0 + 60000, operator_key.sk.pub.key_id);
        (void)snprintf(rsig, sizeof rsig, "%s", sign(&operator_key, r));
        entry(&c, msg_sig(r, rsig, strlen(rsig)), "resume", NULL);
        signed_entry(&c, halt(b, "NONCE_DESYNC", T0 + 120000, watchdog.sk.pub.key_id), &watchdog,
                     "halt", NULL);
        entry(&c, msg_sig(r, rsig, strlen(rsig)), "reject", "replay");
        free(r.p);
        case_end(&c, b);

        c = case_begin("replayed_resume_new_issued_at",
                       "A copy of an accepted RESUME's id, signed again with a later issued_at "
                       "(an operator's tool run twice): a replay all the same; no clock.");
        signed_entry(&c, halt(a, "SUPPLY_MISMATCH", T0, watchdog.sk.pub.key_id), &watchdog, "halt",
                     NULL);
        signed_entry(&c, halt(b, "NONCE_DESYNC", T0 + 1000, watchdog.sk.pub.key_id), &watchdog,
                     "halt", NULL);
        signed_entry(&c, resume(resume_id(8), la, 1, T0 + 60000, operator_key.sk.pub.key_id),
                     &operator_key, "resume", NULL);
        signed_entry(&c, resume(resume_id(8), lb, 1, T0 + 90000, operator_key.sk.pub.key_id),
                     &operator_key, "reject", "replay");
        case_end(&c, b);

        c = case_begin("same_halt_twice", "A copy of an accepted HALT on a second entry.");
        h = halt(a, "SUPPLY_MISMATCH", T0, watchdog.sk.pub.key_id);
        (void)snprintf(hsig, sizeof hsig, "%s", sign(&watchdog, h));
        entry(&c, msg_sig(h, hsig, strlen(hsig)), "halt", NULL);
        entry(&c, msg_sig(h, hsig, strlen(hsig)), "reject", "replay");
        case_end(&c, a);

        c = case_begin("entry_read_again",
                       "The same entry (same entry id) judged twice, as pending entries are after "
                       "a reconnection: accepted again, changing nothing.");
        entry(&c, msg_sig(h, hsig, strlen(hsig)), "halt", NULL);
        entry_again(&c, "halt");
        case_end(&c, a);

        c = case_begin("lifted_halt_replayed",
                       "HALT A, RESUME [A], then a copy of HALT A: it does not halt again.");
        entry(&c, msg_sig(h, hsig, strlen(hsig)), "halt", NULL);
        signed_entry(&c, resume(resume_id(10), la, 1, T0 + 60000, operator_key.sk.pub.key_id),
                     &operator_key, "resume", NULL);
        entry(&c, msg_sig(h, hsig, strlen(hsig)), "reject", "replay");
        case_end(&c, NULL);

        c = case_begin("resume_lifting_nothing",
                       "HALT A, then a RESUME that lists only B, which is not in force.");
        entry(&c, msg_sig(h, hsig, strlen(hsig)), "halt", NULL);
        signed_entry(&c, resume(resume_id(11), lb, 1, T0 + 60000, operator_key.sk.pub.key_id),
                     &operator_key, "reject", "replay");
        case_end(&c, a);

        c = case_begin("resume_before_any_halt", "A RESUME on an empty stream.");
        signed_entry(&c, resume(resume_id(12), la, 1, T0 + 60000, operator_key.sk.pub.key_id),
                     &operator_key, "reject", "replay");
        case_end(&c, NULL);

        /* the halt key */
        c = case_begin("halt_key_then_its_entry",
                       "The halt key holds HALT A, and the stream has its entry: the same "
                       "HALT (known), not a replay.");
        case_halt_key(&c, msg_sig(h, hsig, strlen(hsig)), "halt", NULL);
        entry(&c, msg_sig(h, hsig, strlen(hsig)), "halt", NULL);
        case_end(&c, a);

        c = case_begin("halt_key_then_resume",
                       "The halt key holds HALT A (its entry trimmed away); a RESUME lifts it.");
        case_halt_key(&c, msg_sig(h, hsig, strlen(hsig)), "halt", NULL);
        signed_entry(&c, resume(resume_id(13), la, 1, T0 + 60000, operator_key.sk.pub.key_id),
                     &operator_key, "resume", NULL);
        case_end(&c, NULL);

        c = case_begin("halt_key_forged",
                       "The halt key holds a HALT signed by a key nobody configured: ignored.");
        r = halt(a, "SUPPLY_MISMATCH", T0, watchdog.sk.pub.key_id);
        sig = sign(&stranger, r);
        case_halt_key(&c, msg_sig(r, sig, strlen(sig)), "reject", "bad_signature");
        free(r.p);
        case_end(&c, NULL);

        c = case_begin("halt_key_holds_a_resume",
                       "The halt key holds a valid RESUME: only a HALT belongs there.");
        entry(&c, msg_sig(h, hsig, strlen(hsig)), "halt", NULL);
        r = resume(resume_id(14), la, 1, T0 + 60000, operator_key.sk.pub.key_id);
        sig = sign(&operator_key, r);
        case_halt_key(&c, msg_sig(r, sig, strlen(sig)), "reject", "bad_field");
        free(r.p);
        case_end(&c, a);
        free(h.p);
}

/* ------------------------------------------------------------- heartbeats */

static cJSON *heartbeats;

static void heartbeat_vector(const char *name, const char *description, struct bytes msg,
                             const char *sig, int64_t now_ms, const char *expect)
{
        cJSON *o = need(cJSON_CreateObject());
        char *m = b64(msg.p, msg.n), *s = b64(sig, strlen(sig));

        cJSON_AddStringToObject(o, "name", name);
        cJSON_AddStringToObject(o, "description", description);
        cJSON_AddStringToObject(o, "msg_b64", m);
        cJSON_AddStringToObject(o, "sig_b64", s);
        cJSON_AddNumberToObject(o, "now_ms", (double)now_ms);
        cJSON_AddStringToObject(o, "expect", expect);
        cJSON_AddItemToArray(heartbeats, o);
        free(m);
        free(s);
}

static struct bytes heartbeat(const struct key *k, int64_t at)
{
        char buf[HEARTBEAT_MSG_MAX + 1];
        struct rwerr err;
        size_t len = 0;

        if (heartbeat_build("relaywatch-vectors", at, HEARTBEAT_TTL, k->sk.pub.key_id, buf,
                            sizeof buf, &len, &err) != RW_OK)
                die("heartbeat_build: %s", err.msg);
        return bytes_of(buf, len);
}

static void heartbeat_cases(void)
{
        const int64_t at = T0 + 3600000;
        struct bytes m = heartbeat(&watchdog, at), t;
        char sig[CONTROL_SIG_B64_SIZE];

        (void)snprintf(sig, sizeof sig, "%s", sign(&watchdog, m));
        heartbeat_vector("fresh", "Signed by the watchdog key, read 500 ms later.", m, sig,
                         at + 500, "fresh");
        heartbeat_vector("fresh_at_the_limit",
                         "Read ttl_ms + 1000 ms after it was issued: still fresh.", m, sig,
                         at + HEARTBEAT_TTL + 1000, "fresh");
        heartbeat_vector("stale", "Read ttl_ms + 1001 ms after it was issued.", m, sig,
                         at + HEARTBEAT_TTL + 1001, "reject");
        heartbeat_vector("future_within_slack", "Issued 1000 ms after the reader's now.", m, sig,
                         at - 1000, "fresh");
        heartbeat_vector("future", "Issued 1001 ms after the reader's now.", m, sig, at - 1001,
                         "reject");
        t = bytes_of(m.p, m.n);
        t.p[t.n - 3] = t.p[t.n - 3] == 'a' ? 'b' : 'a';
        heartbeat_vector("tampered", "One byte of the msg changed after it was signed.", t, sig,
                         at + 500, "reject");
        free(t.p);
        free(m.p);

        m = heartbeat(&operator_key, at);
        heartbeat_vector("operator_key",
                         "Signed by the operator key, naming it: only a watchdog key may sign "
                         "the heartbeat.",
                         m, sign(&operator_key, m), at + 500, "reject");
        free(m.p);
        m = heartbeat(&stranger, at);
        heartbeat_vector("stranger_key", "Signed by a key nobody configured.", m,
                         sign(&stranger, m), at + 500, "reject");
        free(m.p);
        m = heartbeat(&watchdog, at);
        m = edit(m, watchdog.sk.pub.key_id, operator_key.sk.pub.key_id);
        heartbeat_vector("key_id_mismatch", "Signed by the watchdog key, naming the operator key.",
                         m, sign(&watchdog, m), at + 500, "reject");
        free(m.p);
        m = heartbeat(&watchdog, at);
        m = edit(m, ".000Z", ".001Z");
        heartbeat_vector("issued_at_disagrees",
                         "issued_at one millisecond away from issued_at_ms; signed.", m,
                         sign(&watchdog, m), at + 500, "reject");
        free(m.p);
        m = heartbeat(&watchdog, at);
        m = edit(m, "\"v\":1,", "\"v\":1,\"extra\":true,");
        heartbeat_vector("extra_field", "A field a heartbeat does not have; signed.", m,
                         sign(&watchdog, m), at + 500, "reject");
        free(m.p);
        m = heartbeat(&watchdog, at);
        m = edit(m, "{\"v\"", " {\"v\"");
        heartbeat_vector("leading_whitespace", "A space before the '{'; signed.", m,
                         sign(&watchdog, m), at + 500, "reject");
        free(m.p);
}

/* ------------------------------------------------------------------- main */

int main(int argc, char **argv)
{
        cJSON *root, *keys, *key_ids, *role;
        FILE *out;
        char *json;

        if (argc != 2)
                die("usage: gen_protocol_vectors OUT (docs/protocol-vectors/vectors.json, or -)");
        if (sodium_init() < 0)
                die("libsodium failed to initialise");
        key_init(&watchdog);
        key_init(&operator_key);
        key_init(&stranger);

        root = need(cJSON_CreateObject());
        cJSON_AddNumberToObject(root, "protocol", CONTROL_MSG_VERSION);
        cJSON_AddStringToObject(
                root, "description",
                "Conformance vectors of the relaywatch control-stream protocol, version 1 "
                "(docs/PROTOCOL.md). Generated by tests/vectors/gen_protocol_vectors.c with "
                "fixed test keys; do not edit. A relayer trusting keys.watchdog and "
                "keys.operator (never keys.stranger), fed each case's halt_key (when not null) "
                "and then its entries in order, starting from nothing, gives each entry's "
                "expect (and reason: the rejection names of PROTOCOL.md section 6.1) and ends "
                "with final_in_force as its HALTs in force. Field values are base64 of their "
                "exact bytes (this file's own transport; the sig field's bytes are themselves "
                "base64 text). The seeds are published test seeds: never use them for "
                "anything else.");
        keys = need(cJSON_AddObjectToObject(root, "keys"));
        key_ids = need(cJSON_CreateObject());
        role = need(cJSON_AddArrayToObject(keys, "watchdog"));
        cJSON_AddItemToArray(role, key_json(&watchdog, key_ids));
        role = need(cJSON_AddArrayToObject(keys, "operator"));
        cJSON_AddItemToArray(role, key_json(&operator_key, key_ids));
        role = need(cJSON_AddArrayToObject(keys, "stranger"));
        cJSON_AddItemToArray(role, key_json(&stranger, key_ids));
        cJSON_AddItemToObject(root, "key_ids", key_ids);

        cases = need(cJSON_AddArrayToObject(root, "cases"));
        valid_cases();
        signature_cases();
        json_cases();
        size_and_field_cases();
        key_cases();
        entry_cases();
        replay_cases();
        heartbeats = need(cJSON_AddArrayToObject(root, "heartbeats"));
        heartbeat_cases();

        json = need(cJSON_Print(root));
        cJSON_Delete(root);
        if (strcmp(argv[1], "-") == 0) {
                if (fputs(json, stdout) == EOF || fputc('\n', stdout) == EOF || fflush(stdout) != 0)
                        die("standard output: write failed");
        } else {
                if ((out = fopen(argv[1], "w")) == NULL)
                        die("%s: cannot write", argv[1]);
                if (fputs(json, out) == EOF || fputc('\n', out) == EOF) {
                        (void)fclose(out);
                        die("%s: write failed", argv[1]);
                }
                if (fclose(out) != 0)
                        die("%s: write failed", argv[1]);
        }
        free(json);
        return 0;
}
