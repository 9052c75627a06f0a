/*
 * Unit tests of watchdog/control/control_state: a reader's state machine
 * over the control stream (docs/PROTOCOL.md section 6): the HALTs in force,
 * what a RESUME lifts, replays, the halt key, and the order of the checks
 * of section 6.1, each rejection reached by an entry that passes every
 * step before it (so a signature is real wherever the step named comes
 * after step 3).
 *
 * Keys come from fixed seeds (0x11 watchdog, 0x22 operator, 0x33 nobody's,
 * 0x44 a second watchdog key): no files, no randomness.
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

#include "control_msg.h"
#include "control_state.h"
#include "keyring.h"
#include "signing_key.h"

#define T0 1704164645678LL /* 2024-01-02T03:04:05.678Z */

static struct signing_key wd, op, nobody, wd2;

static void seed_key(struct signing_key *k, unsigned char fill)
{
        unsigned char seed[32], pk[SIGNING_KEY_PUBLIC_BYTES];

        memset(seed, fill, sizeof seed);
        assert_int_equal(crypto_sign_seed_keypair(pk, k->sk, seed), 0);
        verify_key_from_bytes(pk, &k->pub);
}

static int group_setup(void **state)
{
        (void)state;
        if (sodium_init() < 0)
                return -1;
        seed_key(&wd, 0x11);
        seed_key(&op, 0x22);
        seed_key(&nobody, 0x33);
        seed_key(&wd2, 0x44);
        return 0;
}

/* A state trusting wd and wd2 (watchdog) and op (operator). */
static int setup(void **state)
{
        struct verify_key w[2] = {wd.pub, wd2.pub};
        struct control_keys k = {w, 2, &op.pub, 1};

        *state = control_state_new(&k);
        return *state == NULL ? -1 : 0;
}

static int teardown(void **state)
{
        control_state_free(*state);
        return 0;
}

/* "halt-" + 32 hex digits made of `c`. */
static const char *halt_id(char c)
{
        static char ids[8][CONTROL_ID_SIZE];
        static int next;
        char *id = ids[next++ % 8];

        memcpy(id, "halt-", 5);
        memset(id + 5, c, 32);
        id[37] = '\0';
        return id;
}

static const char *resume_id(char c)
{
        static char ids[4][CONTROL_ID_SIZE];
        static int next;
        char *id = ids[next++ % 4];

        memcpy(id, "resume-", 7);
        memset(id + 7, c, 32);
        id[39] = '\0';
        return id;
}

/* A signed message: text (malloc'd, NUL-terminated) and sig. */
struct msg {
        char *text;
        size_t len;
        char sig[CONTROL_SIG_B64_SIZE];
};

static void sign(struct msg *m, const struct signing_key *key)
{
        char sig[CONTROL_SIG_B64_SIZE];
        struct rwerr err;

        /* (into a buffer of its own: m stays out of the call) */
        if (control_msg_sign(key, m->text, m->len, sig, &err) != RW_OK)
                abort(); /* a seeded key always signs */
        memcpy(m->sig, sig, sizeof sig);
}

/* A HALT with id, naming key_id (NULL: the signer's), signed by `key`. */
static struct msg halt(const char *id, const struct signing_key *key, const char *key_id)
{
        static const struct control_height h[] = {{"source", 100}, {"execution", 200}};
        struct control_msg_fields f;
        struct rwerr err;
        struct msg m;

        memset(&f, 0, sizeof f);
        f.type = CONTROL_HALT;
        f.id = id;
        f.invariant = "SUPPLY_MISMATCH";
        f.severity = "CRITICAL";
        f.reason = "minted exceeds locked";
        f.heights = h;
        f.nheights = 2;
        f.issued_at_ms = T0;
        f.watchdog_id = "wd-test";
        f.correlation_id = "rw-test-1";
        f.key_id = key_id != NULL ? key_id : key->pub.key_id;
        if (control_msg_build(&f, &m.text, &m.len, &err) != RW_OK)
                fail_msg("%s", err.msg);
        sign(&m, key);
        return m;
}

/* A RESUME lifting lifts[0..n), signed by `key`. */
static struct msg resume(const char *id, const char *const *lifts, size_t n,
                         const struct signing_key *key, const char *key_id)
{
        static const struct control_height from[] = {{"source", 100}};
        struct control_msg_fields f;
        struct rwerr err;
        struct msg m;

        memset(&f, 0, sizeof f);
        f.type = CONTROL_RESUME;
        f.id = id;
        f.invariant = "*";
        f.severity = "INFO";
        f.reason = "fixed";
        f.lifts = lifts;
        f.nlifts = n;
        f.resume_from = from;
        f.nresume_from = 1;
        f.issued_at_ms = T0 + 1000;
        f.watchdog_id = "operator";
        f.correlation_id = "resume-test";
        f.key_id = key_id != NULL ? key_id : key->pub.key_id;
        if (control_msg_build(&f, &m.text, &m.len, &err) != RW_OK)
                fail_msg("%s", err.msg);
        sign(&m, key);
        return m;
}

/* Raw text (not built), signed by `key`. */
static struct msg raw(const char *text, size_t len, const struct signing_key *key)
{
        struct msg m;

        m.len = len;
        m.text = malloc(len + 1);
        assert_non_null(m.text);
        memcpy(m.text, text, len);
        m.text[len] = '\0';
        sign(&m, key);
        return m;
}

/* m's text with the first `from` replaced by `to`, signed again by `key`. */
static struct msg edited(const struct msg *m, const char *from, const char *to,
                         const struct signing_key *key)
{
        const char *at = strstr(m->text, from);
        size_t lf = strlen(from), lt = strlen(to), n = m->len - lf + lt;
        char *text;
        struct msg out;

        if (at == NULL) {
                fail_msg("'%s' is not in %s", from, m->text);
                abort(); /* (fail_msg does not return) */
        }
        text = malloc(n + 1);
        if (text == NULL)
                abort();
        /* (built messages hold no NUL byte: text functions are fine here) */
        (void)snprintf(text, n + 1, "%.*s%s%s", (int)(at - m->text), m->text, to, at + lf);
        out = raw(text, n, key);
        free(text);
        return out;
}

static void msg_free(struct msg *m)
{
        free(m->text);
        m->text = NULL;
}

/* Feeds {msg, sig} as entry `entry_id`; returns the rejection. */
static enum control_reject feed(struct control_state *st, const char *entry_id, const struct msg *m,
                                struct control_outcome *out)
{
        struct control_field f[2] = {{"msg", 3, m->text, m->len},
                                     {"sig", 3, m->sig, strlen(m->sig)}};

        return control_state_entry(st, entry_id, f, 2, NULL, out);
}

static enum control_reject feed_key(struct control_state *st, const struct msg *m,
                                    struct control_outcome *out)
{
        struct control_field f[2] = {{"sig", 3, m->sig, strlen(m->sig)},
                                     {"msg", 3, m->text, m->len}};

        return control_state_halt_key(st, f, 2, NULL, out);
}

/* Feeds m and requires rejection `want`; frees m. */
static void expect_reject(struct control_state *st, const char *entry_id, struct msg m,
                          enum control_reject want)
{
        struct control_outcome out;
        enum control_reject got = feed(st, entry_id, &m, &out);

        if (got != want)
                fail_msg("entry %s: %s (%s), wanted %s; msg %.300s", entry_id,
                         control_reject_name(got), out.detail, control_reject_name(want), m.text);
        assert_int_equal(out.reject, want);
        assert_true(out.detail[0] != '\0');
        msg_free(&m);
}

static void expect_accept(struct control_state *st, const char *entry_id, struct msg m,
                          struct control_outcome *out)
{
        enum control_reject got = feed(st, entry_id, &m, out);

        if (got != CONTROL_ACCEPTED)
                fail_msg("entry %s: %s (%s); msg %.300s", entry_id, control_reject_name(got),
                         out->detail, m.text);
        msg_free(&m);
}

/* The HALT ids in force, space-separated, oldest first. */
static const char *in_force(const struct control_state *st)
{
        static char buf[1024];
        const struct control_in_force *list;
        size_t n = control_state_in_force(st, &list), i, used = 0;

        buf[0] = '\0';
        for (i = 0; i < n; i++)
                used += (size_t)snprintf(buf + used, sizeof buf - used, "%s%s", i ? " " : "",
                                         list[i].halt_id);
        return buf;
}

static void ids_text(char *out, size_t cap, const char *a, const char *b, const char *c)
{
        (void)snprintf(out, cap, "%s%s%s%s%s", a, b ? " " : "", b ? b : "", c ? " " : "",
                       c ? c : "");
}

/* -------------------------------------------------------- HALT and RESUME */

static void a_valid_halt_is_in_force(void **state)
{
        struct control_state *st = *state;
        const struct control_in_force *list;
        struct control_outcome out;
        struct control_msg kept;
        const char *a = halt_id('a');
        struct msg m = halt(a, &wd, NULL);
        struct control_field f[2] = {{"msg", 3, m.text, m.len}, {"sig", 3, m.sig, strlen(m.sig)}};

        assert_false(control_state_halted(st));
        assert_int_equal(control_state_in_force(st, &list), 0);
        assert_int_equal(control_state_entry(st, "1700000000000-0", f, 2, &kept, &out),
                         CONTROL_ACCEPTED);
        assert_int_equal(out.reject, CONTROL_ACCEPTED);
        assert_int_equal(out.type, CONTROL_HALT);
        assert_int_equal(out.role, CONTROL_ROLE_WATCHDOG);
        assert_string_equal(out.key_id, wd.pub.key_id);
        assert_string_equal(out.msg_id, a);
        assert_false(out.known);
        assert_string_equal(out.detail, "");
        /* the parsed msg is the caller's */
        assert_non_null(kept.root);
        assert_string_equal(kept.id, a);
        assert_string_equal(kept.invariant, "SUPPLY_MISMATCH");
        control_msg_free(&kept);

        assert_true(control_state_halted(st));
        assert_int_equal(control_state_in_force(st, &list), 1);
        assert_string_equal(list[0].halt_id, a);
        assert_string_equal(list[0].entry_id, "1700000000000-0");
        assert_string_equal(list[0].key_id, wd.pub.key_id);
        assert_int_equal(list[0].role, CONTROL_ROLE_WATCHDOG);
        assert_int_equal(list[0].msg_len, m.len);
        assert_memory_equal(list[0].msg, m.text, m.len);
        assert_int_equal(list[0].msg[m.len], '\0');
        msg_free(&m);

        /* an operator may halt too, and a second watchdog key */
        m = halt(halt_id('b'), &op, NULL);
        expect_accept(st, "1700000000000-1", m, &out);
        assert_int_equal(out.role, CONTROL_ROLE_OPERATOR);
        assert_string_equal(out.key_id, op.pub.key_id);
        m = halt(halt_id('c'), &wd2, NULL);
        expect_accept(st, "1700000000001-0", m, &out);
        assert_int_equal(out.role, CONTROL_ROLE_WATCHDOG);
        assert_string_equal(out.key_id, wd2.pub.key_id);
        assert_int_equal(control_state_in_force(st, &list), 3);
        assert_int_equal(list[1].role, CONTROL_ROLE_OPERATOR);
}

static void a_resume_lifts_only_what_it_lists(void **state)
{
        struct control_state *st = *state;
        const char *a = halt_id('a'), *b = halt_id('b'), *c = halt_id('c'), *d = halt_id('d');
        const char *ac[] = {a, c}, *bd[] = {b, d};
        struct control_outcome out;
        char want[256];

        expect_accept(st, "1-0", halt(a, &wd, NULL), &out);
        expect_accept(st, "2-0", halt(b, &wd, NULL), &out);
        expect_accept(st, "3-0", halt(c, &op, NULL), &out);
        ids_text(want, sizeof want, a, b, c);
        assert_string_equal(in_force(st), want);

        expect_accept(st, "4-0", resume(resume_id('1'), ac, 2, &op, NULL), &out);
        assert_int_equal(out.type, CONTROL_RESUME);
        assert_int_equal(out.role, CONTROL_ROLE_OPERATOR);
        assert_int_equal(out.nlifted, 2);
        assert_string_equal(out.msg_id, resume_id('1'));
        assert_string_equal(in_force(st), b);
        assert_true(control_state_halted(st));

        /* d is not in force: ignored; b is lifted */
        expect_accept(st, "5-0", resume(resume_id('2'), bd, 2, &op, NULL), &out);
        assert_int_equal(out.nlifted, 1);
        assert_string_equal(in_force(st), "");
        assert_false(control_state_halted(st));

        /* a HALT after a RESUME that did not list it stays */
        expect_accept(st, "6-0", halt(d, &wd, NULL), &out);
        expect_reject(st, "7-0", resume(resume_id('3'), ac, 2, &op, NULL), CONTROL_REPLAY);
        assert_string_equal(in_force(st), d);
}

static void a_resume_lifting_nothing_is_a_replay(void **state)
{
        struct control_state *st = *state;
        const char *a = halt_id('a'), *b = halt_id('b');
        const char *la[] = {a}, *lb[] = {b};
        struct control_outcome out;
        struct msg r;

        /* nothing in force at all */
        r = resume(resume_id('1'), la, 1, &op, NULL);
        assert_int_equal(feed(st, "1-0", &r, &out), CONTROL_REPLAY);
        assert_int_equal(out.type, CONTROL_RESUME);
        assert_string_equal(out.msg_id, resume_id('1'));
        assert_string_equal(out.first_seen, "");
        assert_non_null(strstr(out.detail, "lifts no HALT in force"));
        /* not accepted, so the same RESUME is still good once its HALT is there */
        expect_accept(st, "2-0", halt(a, &wd, NULL), &out);
        assert_int_equal(feed(st, "3-0", &r, &out), CONTROL_ACCEPTED);
        assert_false(control_state_halted(st));

        /* the old RESUME, replayed against a new HALT */
        expect_accept(st, "4-0", halt(b, &wd, NULL), &out);
        assert_int_equal(feed(st, "5-0", &r, &out), CONTROL_REPLAY);
        assert_string_equal(out.first_seen, "3-0");
        assert_non_null(strstr(out.detail, "was accepted before, from entry 3-0"));
        assert_string_equal(in_force(st), b);
        msg_free(&r);

        /* a new RESUME naming only a lifted HALT: a replay too */
        expect_reject(st, "6-0", resume(resume_id('2'), la, 1, &op, NULL), CONTROL_REPLAY);
        expect_accept(st, "7-0", resume(resume_id('3'), lb, 1, &op, NULL), &out);
        assert_false(control_state_halted(st));
}

static void the_same_id_twice_is_a_replay(void **state)
{
        struct control_state *st = *state;
        const char *a = halt_id('a');
        const char *la[] = {a};
        struct control_outcome out;
        struct msg h = halt(a, &wd, NULL), other;

        assert_int_equal(feed(st, "10-0", &h, &out), CONTROL_ACCEPTED);
        assert_int_equal(feed(st, "11-0", &h, &out), CONTROL_REPLAY);
        assert_int_equal(out.type, CONTROL_HALT);
        assert_string_equal(out.msg_id, a);
        assert_string_equal(out.first_seen, "10-0");
        assert_string_equal(out.key_id, wd.pub.key_id);
        /* other bytes, another valid signature, the same id: still the same HALT */
        other = edited(&h, "\"reason\":\"minted exceeds locked\"", "\"reason\":\"again\"", &wd);
        assert_int_equal(feed(st, "12-0", &other, &out), CONTROL_REPLAY);
        assert_string_equal(out.first_seen, "10-0");
        msg_free(&other);
        /* it stays in force from its first entry */
        {
                const struct control_in_force *list;

                assert_int_equal(control_state_in_force(st, &list), 1);
                assert_string_equal(list[0].entry_id, "10-0");
        }
        /* lifted: a copy of the HALT does not halt again */
        expect_accept(st, "13-0", resume(resume_id('1'), la, 1, &op, NULL), &out);
        assert_int_equal(feed(st, "14-0", &h, &out), CONTROL_REPLAY);
        assert_false(control_state_halted(st));
        msg_free(&h);
}

/* ---------------------------------------------------------------- halt key */

static void the_halt_key_then_its_entry_is_known(void **state)
{
        struct control_state *st = *state;
        const struct control_in_force *list;
        const char *a = halt_id('a');
        const char *la[] = {a};
        struct control_outcome out;
        struct control_msg kept;
        struct msg h = halt(a, &wd, NULL);
        struct control_field f[2] = {{"msg", 3, h.text, h.len}, {"sig", 3, h.sig, strlen(h.sig)}};

        assert_int_equal(control_state_halt_key(st, f, 2, &kept, &out), CONTROL_ACCEPTED);
        assert_int_equal(out.type, CONTROL_HALT);
        assert_false(out.known);
        assert_string_equal(kept.id, a);
        control_msg_free(&kept);
        assert_true(control_state_halted(st));
        assert_int_equal(control_state_in_force(st, &list), 1);
        assert_string_equal(list[0].entry_id, "");
        /* the halt key read again: the same HALT */
        assert_int_equal(feed_key(st, &h, &out), CONTROL_ACCEPTED);
        assert_true(out.known);
        assert_int_equal(control_state_in_force(st, &list), 1);

        /* its stream entry: known, not a replay, and now it has an entry */
        assert_int_equal(feed(st, "5-0", &h, &out), CONTROL_ACCEPTED);
        assert_true(out.known);
        assert_int_equal(control_state_in_force(st, &list), 1);
        assert_string_equal(list[0].entry_id, "5-0");
        /* a second entry of it is a copy */
        assert_int_equal(feed(st, "6-0", &h, &out), CONTROL_REPLAY);
        assert_string_equal(out.first_seen, "5-0");
        expect_accept(st, "7-0", resume(resume_id('1'), la, 1, &op, NULL), &out);
        assert_int_equal(out.nlifted, 1);
        assert_false(control_state_halted(st));
        msg_free(&h);
}

static void a_halt_key_holding_a_lifted_halt_is_a_replay(void **state)
{
        struct control_state *st = *state;
        const char *a = halt_id('a');
        const char *la[] = {a};
        struct control_outcome out;
        struct msg h = halt(a, &wd, NULL);

        assert_int_equal(feed(st, "1-0", &h, &out), CONTROL_ACCEPTED);
        expect_accept(st, "2-0", resume(resume_id('1'), la, 1, &op, NULL), &out);
        assert_int_equal(feed_key(st, &h, &out), CONTROL_REPLAY);
        assert_non_null(strstr(out.detail, "a stale or copied halt key"));
        assert_non_null(strstr(out.detail, a));
        assert_false(control_state_halted(st));
        msg_free(&h);
}

static void a_halt_key_is_judged_like_an_entry(void **state)
{
        struct control_state *st = *state;
        const char *la[] = {halt_id('a')};
        struct control_outcome out;
        struct msg m = halt(halt_id('b'), &nobody, NULL), r;
        struct control_field three[3] = {
                {"msg", 3, m.text, m.len}, {"sig", 3, m.sig, strlen(m.sig)}, {"x", 1, "y", 1}};

        assert_int_equal(feed_key(st, &m, &out), CONTROL_BAD_SIGNATURE);
        assert_int_equal(control_state_halt_key(st, three, 3, NULL, &out), CONTROL_BAD_ENTRY);
        assert_int_equal(control_state_halt_key(st, three, 0, NULL, &out), CONTROL_BAD_ENTRY);
        msg_free(&m);
        /* a RESUME does not belong in the halt key */
        r = resume(resume_id('1'), la, 1, &op, NULL);
        assert_int_equal(feed_key(st, &r, &out), CONTROL_BAD_FIELD);
        assert_non_null(strstr(out.detail, "holds a RESUME"));
        msg_free(&r);
        /* a HALT whose key_id lies */
        m = halt(halt_id('c'), &wd, op.pub.key_id);
        assert_int_equal(feed_key(st, &m, &out), CONTROL_KEY_ID_MISMATCH);
        msg_free(&m);
        assert_false(control_state_halted(st));
}

/* --------------------------------------------------------------- step 1 */

static void entries_without_exactly_msg_and_sig(void **state)
{
        struct control_state *st = *state;
        struct control_outcome out;
        struct msg m = halt(halt_id('a'), &wd, NULL);
        size_t sl = strlen(m.sig);
        const struct control_field msg = {"msg", 3, m.text, m.len}, sig = {"sig", 3, m.sig, sl};
        const struct control_field extra = {"note", 4, "x", 1}, upper = {"MSG", 3, m.text, m.len};
        const struct control_field msgsig[] = {msg, sig}, sigmsg[] = {sig, msg};
        const struct control_field only_msg[] = {msg}, three[] = {msg, sig, extra};
        const struct control_field msg_twice[] = {msg, msg}, msg_twice_sig[] = {msg, msg, sig};
        const struct control_field sig_twice[] = {msg, sig, sig}, wrong_case[] = {upper, sig};
        const struct control_field extra_first[] = {extra, msg, sig};
        const struct control_field nul_name[] = {{"msg\0", 4, m.text, m.len}, sig};

        assert_int_equal(control_state_entry(st, "1-0", NULL, 0, NULL, &out), CONTROL_BAD_ENTRY);
        assert_non_null(strstr(out.detail, "0 fields"));
        assert_int_equal(control_state_entry(st, "2-0", only_msg, 1, NULL, &out),
                         CONTROL_BAD_ENTRY);
        assert_int_equal(control_state_entry(st, "3-0", three, 3, NULL, &out), CONTROL_BAD_ENTRY);
        assert_non_null(strstr(out.detail, "3 fields (1 msg, 1 sig)"));
        assert_int_equal(control_state_entry(st, "4-0", extra_first, 3, NULL, &out),
                         CONTROL_BAD_ENTRY);
        assert_int_equal(control_state_entry(st, "5-0", msg_twice, 2, NULL, &out),
                         CONTROL_BAD_ENTRY);
        assert_non_null(strstr(out.detail, "2 msg, 0 sig"));
        assert_int_equal(control_state_entry(st, "6-0", msg_twice_sig, 3, NULL, &out),
                         CONTROL_BAD_ENTRY);
        assert_int_equal(control_state_entry(st, "7-0", sig_twice, 3, NULL, &out),
                         CONTROL_BAD_ENTRY);
        assert_int_equal(control_state_entry(st, "8-0", wrong_case, 2, NULL, &out),
                         CONTROL_BAD_ENTRY);
        assert_int_equal(control_state_entry(st, "9-0", nul_name, 2, NULL, &out),
                         CONTROL_BAD_ENTRY);
        assert_int_equal(out.role, CONTROL_ROLE_NONE);
        assert_string_equal(out.key_id, "");
        assert_string_equal(out.msg_id, "");
        assert_false(control_state_halted(st));
        /* the order of the two fields does not matter */
        assert_int_equal(control_state_entry(st, "10-0", sigmsg, 2, NULL, &out), CONTROL_ACCEPTED);
        assert_int_equal(control_state_entry(st, "11-0", msgsig, 2, NULL, &out), CONTROL_REPLAY);
        msg_free(&m);
}

/* ----------------------------------------------------- steps 2 to 11, in order */

static void too_long_comes_before_the_signature(void **state)
{
        struct control_state *st = *state;
        struct control_outcome out;
        char *big = malloc(CONTROL_MSG_MAX + 2);
        struct msg m;

        assert_non_null(big);
        memset(big, ' ', CONTROL_MSG_MAX + 1);
        big[CONTROL_MSG_MAX + 1] = '\0';
        /* signed for real, and an unsigned one: too_long either way */
        m = raw(big, CONTROL_MSG_MAX + 1, &wd);
        expect_reject(st, "1-0", m, CONTROL_TOO_LONG);
        m = raw(big, CONTROL_MSG_MAX + 1, &wd);
        m.sig[0] = '!';
        assert_int_equal(feed(st, "2-0", &m, &out), CONTROL_TOO_LONG);
        assert_non_null(strstr(out.detail, "65537 bytes, at most 65536"));
        msg_free(&m);
        /* exactly 65,536 bytes is not too long (it is bad JSON here) */
        m = raw(big, CONTROL_MSG_MAX, &wd);
        expect_reject(st, "3-0", m, CONTROL_BAD_JSON);
        free(big);
}

static void bad_signatures(void **state)
{
        struct control_state *st = *state;
        struct control_outcome out;
        struct msg m = halt(halt_id('a'), &wd, NULL), t;
        char good[CONTROL_SIG_B64_SIZE];
        size_t i;

        memcpy(good, m.sig, sizeof good);
        /* nobody's key, naming itself honestly */
        t = halt(halt_id('a'), &nobody, NULL);
        assert_int_equal(feed(st, "1-0", &t, &out), CONTROL_BAD_SIGNATURE);
        assert_int_equal(out.role, CONTROL_ROLE_NONE);
        assert_string_equal(out.key_id, "");
        assert_string_equal(out.msg_id, "");
        assert_non_null(strstr(out.detail, "no configured watchdog or operator key"));
        msg_free(&t);
        /* nobody's key, naming the watchdog's */
        expect_reject(st, "2-0", halt(halt_id('a'), &nobody, wd.pub.key_id), CONTROL_BAD_SIGNATURE);
        /* one byte of msg changed, anywhere */
        for (i = 0; i < m.len; i += 7) {
                m.text[i] ^= 0x20;
                assert_int_equal(feed(st, "3-0", &m, &out), CONTROL_BAD_SIGNATURE);
                m.text[i] ^= 0x20;
        }
        /* one character of sig changed */
        m.sig[10] = m.sig[10] == 'A' ? 'B' : 'A';
        assert_int_equal(feed(st, "4-0", &m, &out), CONTROL_BAD_SIGNATURE);
        /* sig text of another length, alphabet or padding */
        memcpy(m.sig, good, sizeof good);
        m.sig[87] = '\0'; /* 87 characters */
        assert_int_equal(feed(st, "5-0", &m, &out), CONTROL_BAD_SIGNATURE);
        assert_non_null(strstr(out.detail, "87 bytes, expected 88"));
        memcpy(m.sig, good, sizeof good);
        m.sig[86] = 'A'; /* "A=": the padding cut to one '=' plus a character */
        assert_int_equal(feed(st, "6-0", &m, &out), CONTROL_BAD_SIGNATURE);
        memcpy(m.sig, good, sizeof good);
        for (i = 0; i < 86; i++) {
                if (m.sig[i] == '+' || m.sig[i] == '/')
                        m.sig[i] = m.sig[i] == '+' ? '-' : '_';
        }
        if (strcmp(m.sig, good) == 0)
                m.sig[0] = '-';
        assert_int_equal(feed(st, "7-0", &m, &out), CONTROL_BAD_SIGNATURE);
        assert_non_null(strstr(out.detail, "not valid base64"));
        /* non-zero padding bits: the last character before "==" must encode 0000 */
        memcpy(m.sig, good, sizeof good);
        m.sig[85] = (char)(m.sig[85] == 'A' ? 'B' : m.sig[85] ^ 1);
        assert_int_equal(feed(st, "8-0", &m, &out), CONTROL_BAD_SIGNATURE);
        /* a NUL inside the 88 characters */
        memcpy(m.sig, good, sizeof good);
        {
                struct control_field f[2] = {{"msg", 3, m.text, m.len}, {"sig", 3, "", 88}};
                char withnul[88];

                memcpy(withnul, good, 88);
                withnul[40] = '\0';
                f[1].value = withnul;
                assert_int_equal(control_state_entry(st, "9-0", f, 2, NULL, &out),
                                 CONTROL_BAD_SIGNATURE);
        }
        /* 89 characters (a trailing newline), and none */
        {
                char longer[90];
                struct control_field f[2] = {{"msg", 3, m.text, m.len}, {"sig", 3, longer, 89}};

                memcpy(longer, good, 88);
                longer[88] = '\n';
                longer[89] = '\0';
                assert_int_equal(control_state_entry(st, "10-0", f, 2, NULL, &out),
                                 CONTROL_BAD_SIGNATURE);
                f[1].value_len = 0;
                assert_int_equal(control_state_entry(st, "11-0", f, 2, NULL, &out),
                                 CONTROL_BAD_SIGNATURE);
        }
        assert_false(control_state_halted(st));
        /* and the untouched one passes */
        assert_int_equal(feed(st, "12-0", &m, &out), CONTROL_ACCEPTED);
        msg_free(&m);
}

static void the_signature_comes_before_utf8_and_json(void **state)
{
        struct control_state *st = *state;
        struct msg m;

        /* not UTF-8 and not JSON, signed by nobody: bad_signature */
        m = raw("\xff\xfe not json", 11, &nobody);
        expect_reject(st, "1-0", m, CONTROL_BAD_SIGNATURE);
        m = halt(halt_id('a'), &wd, NULL);
        m.text[20] = (char)0xc0; /* breaks UTF-8 and the signature */
        expect_reject(st, "2-0", m, CONTROL_BAD_SIGNATURE);
        /* the same, signed for real by a trusted key: not_utf8 */
        m = raw("\xff\xfe not json", 11, &wd);
        expect_reject(st, "3-0", m, CONTROL_NOT_UTF8);
}

static void the_strict_json_steps(void **state)
{
        struct control_state *st = *state;
        const char *a = halt_id('a');
        struct msg h = halt(a, &wd, NULL);
        struct control_outcome out;
        char *text;

        /* step 4: an overlong '/' inside a string, a NUL, a surrogate */
        expect_reject(st, "1-0",
                      edited(&h, "exceeds",
                             "exc\xc0\xaf"
                             "eds",
                             &wd),
                      CONTROL_NOT_UTF8);
        expect_reject(st, "2-0", edited(&h, "exceeds", "exc\xed\xa0\x80s", &wd), CONTROL_NOT_UTF8);
        text = malloc(h.len + 1);
        assert_non_null(text);
        memcpy(text, h.text, h.len + 1);
        text[strstr(text, "exceeds") - text] = '\0';
        expect_reject(st, "3-0", raw(text, h.len, &wd), CONTROL_NOT_UTF8);
        free(text);
        /* non-UTF-8 inside what is also bad JSON: not_utf8 (step 4 first) */
        expect_reject(st, "4-0", edited(&h, "{\"v\":1", " {\"v\":1,\"v\":\xff", &wd),
                      CONTROL_NOT_UTF8);

        /* step 5 */
        expect_reject(st, "5-0", edited(&h, "{\"v\"", " {\"v\"", &wd), CONTROL_BAD_JSON);
        expect_reject(st, "7-0", edited(&h, "\"}", "\"}\n", &wd), CONTROL_BAD_JSON);
        expect_reject(st, "8-0", edited(&h, "\"v\":1", "\"v\":01", &wd), CONTROL_BAD_JSON);
        expect_reject(st, "9-0", edited(&h, "\"heights\":{", "\"heights\":{\"x\":+1,", &wd),
                      CONTROL_BAD_JSON);
        expect_reject(st, "10-0", edited(&h, "\"evidence\":{}", "\"evidence\":{\"a\":NaN}", &wd),
                      CONTROL_BAD_JSON);
        expect_reject(st, "11-0", edited(&h, "\"evidence\":{}", "\"evidence\":{'a':1}", &wd),
                      CONTROL_BAD_JSON);
        expect_reject(st, "12-0", edited(&h, "\"evidence\":{}", "\"evidence\":{\"a\":1,}", &wd),
                      CONTROL_BAD_JSON);
        expect_reject(st, "13-0", edited(&h, "exceeds", "\\ud800", &wd), CONTROL_BAD_JSON);
        expect_reject(st, "14-0", edited(&h, "exceeds", "\\udc00", &wd), CONTROL_BAD_JSON);
        expect_reject(st, "15-0", edited(&h, "\"evidence\":{}", "\"evidence\":{/**/}", &wd),
                      CONTROL_BAD_JSON);
        /* a duplicate and a grammar error after it: bad_json */
        expect_reject(st, "16-0", edited(&h, "{\"v\":1", "{\"v\":1,\"v\":1,", &wd),
                      CONTROL_BAD_JSON);

        /* step 6 */
        expect_reject(st, "17-0", edited(&h, "{\"v\":1", "{\"v\":1,\"v\":1", &wd),
                      CONTROL_DUPLICATE_KEY);
        expect_reject(st, "18-0",
                      edited(&h, "\"evidence\":{}", "\"evidence\":{\"a\":1,\"a\":1}", &wd),
                      CONTROL_DUPLICATE_KEY);
        expect_reject(
                st, "19-0",
                edited(&h, "\"evidence\":{}", "\"evidence\":{\"l\":[{\"b\":1,\"b\":2}]}", &wd),
                CONTROL_DUPLICATE_KEY);
        expect_reject(st, "20-0", edited(&h, "{\"v\":1", "{\"\\u0076\":1,\"v\":1", &wd),
                      CONTROL_DUPLICATE_KEY);
        /* id given twice, a HALT of one id to one reader and of another to the next */
        {
                char two[128];

                (void)snprintf(two, sizeof two, "\"id\":\"%s\",\"id\":\"%s\"", a, halt_id('b'));
                {
                        char one[64];

                        (void)snprintf(one, sizeof one, "\"id\":\"%s\"", a);
                        expect_reject(st, "21-0", edited(&h, one, two, &wd), CONTROL_DUPLICATE_KEY);
                }
        }
        assert_int_equal(feed(st, "22-0", &h, &out), CONTROL_ACCEPTED);
        msg_free(&h);
}

static void version_fields_and_rules(void **state)
{
        struct control_state *st = *state;
        const char *la[] = {halt_id('a')};
        struct msg h = halt(halt_id('a'), &wd, NULL);
        struct msg r = resume(resume_id('1'), la, 1, &op, NULL);
        char *k;

        /* step 7: v present and not the number 1, before any other field is looked at */
        expect_reject(st, "1-0", edited(&h, "\"v\":1", "\"v\":2", &wd), CONTROL_UNKNOWN_VERSION);
        expect_reject(st, "2-0", edited(&h, "\"v\":1", "\"v\":\"1\"", &wd),
                      CONTROL_UNKNOWN_VERSION);
        expect_reject(st, "3-0", edited(&h, "\"v\":1", "\"v\":1.5", &wd), CONTROL_UNKNOWN_VERSION);
        expect_reject(st, "4-0", edited(&h, "\"v\":1", "\"v\":null", &wd), CONTROL_UNKNOWN_VERSION);
        expect_reject(st, "5-0", edited(&h, "\"v\":1", "\"v\":[1]", &wd), CONTROL_UNKNOWN_VERSION);
        expect_reject(st, "6-0", raw("{\"v\":2}", 7, &wd), CONTROL_UNKNOWN_VERSION);
        expect_reject(st, "7-0", raw("{\"v\":0,\"type\":7}", 16, &wd), CONTROL_UNKNOWN_VERSION);

        /* step 8: every required field present (v included) */
        expect_reject(st, "8-0", edited(&h, "\"v\":1,", "", &wd), CONTROL_MISSING_FIELD);
        expect_reject(st, "9-0", raw("{}", 2, &wd), CONTROL_MISSING_FIELD);
        expect_reject(st, "10-0", raw("{\"v\":1}", 7, &wd), CONTROL_MISSING_FIELD);
        k = strstr(h.text, ",\"key_id\"");
        assert_non_null(k);
        {
                char *cut = malloc(h.len + 1);
                size_t head = (size_t)(k - h.text);

                assert_non_null(cut);
                memcpy(cut, h.text, head);
                memcpy(cut + head, "}", 2);
                expect_reject(st, "11-0", raw(cut, head + 1, &wd), CONTROL_MISSING_FIELD);
                free(cut);
        }
        expect_reject(st, "12-0", edited(&r, "\"lifts\":[", "\"lifted\":[", &op),
                      CONTROL_MISSING_FIELD);
        expect_reject(st, "13-0", edited(&r, "\"resume_from\":", "\"resumefrom\":", &op),
                      CONTROL_MISSING_FIELD);
        /* a missing field beats a bad one (step 8 before 9), wherever they stand */
        {
                struct msg t = edited(&h, "\"type\":\"HALT\"", "\"type\":\"PAUSE\"", &wd);

                expect_reject(st, "14-0", edited(&t, "\"watchdog_id\":", "\"watchdog\":", &wd),
                              CONTROL_MISSING_FIELD);
                msg_free(&t);
        }

        /* step 9 */
        expect_reject(st, "15-0", edited(&h, "\"HALT\"", "\"PAUSE\"", &wd), CONTROL_BAD_FIELD);
        expect_reject(st, "16-0", edited(&h, "\"HALT\"", "\"halt\"", &wd), CONTROL_BAD_FIELD);
        expect_reject(st, "17-0", edited(&h, "\"HALT\"", "1", &wd), CONTROL_BAD_FIELD);
        expect_reject(st, "18-0", edited(&h, "\"id\":\"halt-", "\"id\":\"halt-x", &wd),
                      CONTROL_BAD_FIELD);
        expect_reject(st, "19-0",
                      edited(&h, "\"reason\":\"minted exceeds locked\"", "\"reason\":\"\"", &wd),
                      CONTROL_BAD_FIELD);
        expect_reject(st, "20-0", edited(&h, "\"evidence\":{}", "\"evidence\":[]", &wd),
                      CONTROL_BAD_FIELD);
        expect_reject(st, "21-0", edited(&h, "\"source\":100", "\"source\":-1", &wd),
                      CONTROL_BAD_FIELD);
        expect_reject(st, "22-0", edited(&h, "\"source\":100", "\"source\":9007199254740992", &wd),
                      CONTROL_BAD_FIELD);
        expect_reject(st, "23-0", edited(&h, "\"source\":100", "\"source\":1.5", &wd),
                      CONTROL_BAD_FIELD);
        expect_reject(st, "24-0", edited(&h, ".678Z", ".678", &wd), CONTROL_BAD_FIELD);
        expect_reject(st, "25-0", edited(&h, "2024-01-02", "2023-02-29", &wd), CONTROL_BAD_FIELD);
        expect_reject(st, "26-0", edited(&h, "\"heights\":{", "\"lifts\":[],\"heights\":{", &wd),
                      CONTROL_BAD_FIELD);
        expect_reject(st, "27-0",
                      edited(&h, "\"heights\":{", "\"resume_from\":{\"a\":1},\"heights\":{", &wd),
                      CONTROL_BAD_FIELD);
        /* the key_id's form is step 9, whatever key it names */
        expect_reject(st, "28-0", edited(&h, wd.pub.key_id, "0123456789ABCDEF", &wd),
                      CONTROL_BAD_FIELD);
        /* a bad field beats a wrong key_id (step 9 before 10) */
        {
                struct msg t = edited(&h, "\"HALT\"", "\"PAUSE\"", &wd);

                expect_reject(st, "29-0", edited(&t, wd.pub.key_id, op.pub.key_id, &wd),
                              CONTROL_BAD_FIELD);
                msg_free(&t);
        }
        /* RESUME rules */
        expect_reject(st, "30-0", edited(&r, "\"lifts\":[", "\"lifts\":[1,", &op),
                      CONTROL_BAD_FIELD);
        expect_reject(st, "31-0", edited(&r, "\"lifts\":[\"halt", "\"lifts\":[\"resume", &op),
                      CONTROL_BAD_FIELD);
        {
                char twice[128];

                (void)snprintf(twice, sizeof twice, "\"lifts\":[\"%s\",", la[0]);
                expect_reject(st, "32-0", edited(&r, "\"lifts\":[", twice, &op), CONTROL_BAD_FIELD);
        }
        expect_reject(st, "33-0",
                      edited(&r, "\"resume_from\":{\"source\":100}", "\"resume_from\":{}", &op),
                      CONTROL_BAD_FIELD);
        expect_reject(st, "34-0", edited(&r, "\"id\":\"resume-", "\"id\":\"halt-", &op),
                      CONTROL_BAD_FIELD);
        {
                char list[64], text[64];

                (void)snprintf(list, sizeof list, "\"lifts\":[\"%s\"]", la[0]);
                (void)snprintf(text, sizeof text, "\"lifts\":\"%s\"", la[0]);
                expect_reject(st, "35-0", edited(&r, list, text, &op), CONTROL_BAD_FIELD);
        }
        /* unknown extra fields are allowed */
        {
                struct control_outcome out;
                struct msg t = edited(&h, "\"v\":1,", "\"v\":1,\"later\":{\"x\":[1,2]},", &wd);

                assert_int_equal(feed(st, "36-0", &t, &out), CONTROL_ACCEPTED);
                msg_free(&t);
        }
        msg_free(&h);
        msg_free(&r);
}

static void key_id_and_who_may_resume(void **state)
{
        struct control_state *st = *state;
        const char *a = halt_id('a');
        const char *la[] = {a};
        struct control_outcome out;
        struct msg t;

        /* step 10: key_id naming another trusted key */
        t = halt(a, &wd, op.pub.key_id);
        assert_int_equal(feed(st, "1-0", &t, &out), CONTROL_KEY_ID_MISMATCH);
        assert_int_equal(out.role, CONTROL_ROLE_WATCHDOG);
        assert_string_equal(out.key_id, wd.pub.key_id);
        assert_non_null(strstr(out.detail, op.pub.key_id));
        msg_free(&t);
        expect_reject(st, "2-0", halt(a, &wd, wd2.pub.key_id), CONTROL_KEY_ID_MISMATCH);
        expect_reject(st, "3-0", halt(a, &op, wd.pub.key_id), CONTROL_KEY_ID_MISMATCH);
        expect_reject(st, "4-0", halt(a, &wd, nobody.pub.key_id), CONTROL_KEY_ID_MISMATCH);
        expect_reject(st, "5-0", halt(a, &wd, "0000000000000000"), CONTROL_KEY_ID_MISMATCH);
        assert_false(control_state_halted(st));
        expect_accept(st, "6-0", halt(a, &wd, NULL), &out);

        /* step 10 before 11: a RESUME of the watchdog's key naming the operator's */
        t = resume(resume_id('1'), la, 1, &wd, op.pub.key_id);
        assert_int_equal(feed(st, "7-0", &t, &out), CONTROL_KEY_ID_MISMATCH);
        msg_free(&t);
        /* step 11: a RESUME of the watchdog's key, honest about it */
        t = resume(resume_id('1'), la, 1, &wd, NULL);
        assert_int_equal(feed(st, "8-0", &t, &out), CONTROL_RESUME_BY_WATCHDOG_KEY);
        assert_int_equal(out.role, CONTROL_ROLE_WATCHDOG);
        assert_string_equal(out.key_id, wd.pub.key_id);
        msg_free(&t);
        expect_reject(st, "9-0", resume(resume_id('1'), la, 1, &wd2, NULL),
                      CONTROL_RESUME_BY_WATCHDOG_KEY);
        /* step 11 before 12: lifting nothing does not matter then */
        {
                const char *none[] = {halt_id('f')};

                expect_reject(st, "10-0", resume(resume_id('2'), none, 1, &wd, NULL),
                              CONTROL_RESUME_BY_WATCHDOG_KEY);
        }
        /* the operator's RESUME naming the watchdog's key */
        expect_reject(st, "11-0", resume(resume_id('1'), la, 1, &op, wd.pub.key_id),
                      CONTROL_KEY_ID_MISMATCH);
        assert_true(control_state_halted(st));
        /* none of those was accepted: the operator's own RESUME of that id still is */
        expect_accept(st, "12-0", resume(resume_id('1'), la, 1, &op, NULL), &out);
        assert_false(control_state_halted(st));
}

static void a_key_in_both_roles_resumes_as_operator(void **state)
{
        struct verify_key both = wd.pub;
        struct control_keys k = {&both, 1, &both, 1};
        struct control_state *st = control_state_new(&k);
        const char *la[] = {halt_id('a')};
        struct control_outcome out;

        (void)state;
        assert_non_null(st);
        expect_accept(st, "1-0", halt(la[0], &wd, NULL), &out);
        assert_int_equal(out.role, CONTROL_ROLE_WATCHDOG);
        expect_accept(st, "2-0", resume(resume_id('1'), la, 1, &wd, NULL), &out);
        assert_int_equal(out.role, CONTROL_ROLE_OPERATOR);
        control_state_free(st);
}

static void no_keys_verify_nothing(void **state)
{
        struct control_keys k = {NULL, 0, NULL, 0};
        struct control_state *st = control_state_new(&k);

        (void)state;
        assert_non_null(st);
        expect_reject(st, "1-0", halt(halt_id('a'), &wd, NULL), CONTROL_BAD_SIGNATURE);
        control_state_free(st);
}

/* ------------------------------------------------------------- the rest */

static void every_rejection_has_its_name(void **state)
{
        static const char *const names[] = {
                "accepted",      "bad_entry", "too_long",        "bad_signature",
                "not_utf8",      "bad_json",  "duplicate_key",   "unknown_version",
                "missing_field", "bad_field", "key_id_mismatch", "resume_by_watchdog_key",
                "replay",        "no_memory",
        };
        int i;

        (void)state;
        for (i = CONTROL_ACCEPTED; i <= CONTROL_NO_MEMORY; i++)
                assert_string_equal(control_reject_name((enum control_reject)i), names[i]);
        assert_string_equal(control_reject_name((enum control_reject)99), "unknown");
        assert_string_equal(control_role_name(CONTROL_ROLE_WATCHDOG), "watchdog");
        assert_string_equal(control_role_name(CONTROL_ROLE_OPERATOR), "operator");
        assert_string_equal(control_role_name(CONTROL_ROLE_NONE), "none");
}

static void reset_forgets_and_keeps_the_keys(void **state)
{
        struct control_state *st = *state;
        const char *a = halt_id('a');
        struct control_outcome out;
        struct msg h = halt(a, &wd, NULL);

        assert_int_equal(feed(st, "1-0", &h, &out), CONTROL_ACCEPTED);
        control_state_reset(st);
        assert_false(control_state_halted(st));
        /* forgotten: the same HALT halts again (a restart) */
        assert_int_equal(feed(st, "1-0", &h, &out), CONTROL_ACCEPTED);
        assert_true(control_state_halted(st));
        msg_free(&h);
        control_state_free(NULL);
}

static void many_halts_and_one_resume(void **state)
{
        struct control_state *st = *state;
        char ids[CONTROL_LIFTS_MAX][CONTROL_ID_SIZE], entry[32];
        const char *lifts[CONTROL_LIFTS_MAX];
        struct control_outcome out;
        size_t i;

        for (i = 0; i < CONTROL_LIFTS_MAX; i++) {
                (void)snprintf(ids[i], sizeof ids[i], "halt-%032zx", i + 1);
                lifts[CONTROL_LIFTS_MAX - 1 - i] = ids[i];
                (void)snprintf(entry, sizeof entry, "%zu-0", i + 1);
                expect_accept(st, entry, halt(ids[i], &wd, NULL), &out);
        }
        {
                const struct control_in_force *list;

                assert_int_equal(control_state_in_force(st, &list), CONTROL_LIFTS_MAX);
                assert_string_equal(list[0].halt_id, ids[0]);
                assert_string_equal(list[CONTROL_LIFTS_MAX - 1].halt_id,
                                    ids[CONTROL_LIFTS_MAX - 1]);
        }
        expect_accept(st, "1000-0", resume(resume_id('1'), lifts, CONTROL_LIFTS_MAX, &op, NULL),
                      &out);
        assert_int_equal(out.nlifted, CONTROL_LIFTS_MAX);
        assert_false(control_state_halted(st));
}

static void keys_from_a_keyring(void **state)
{
        struct keyring ring;
        struct control_keys k;

        (void)state;
        memset(&ring, 0, sizeof ring);
        ring.watchdog[0] = wd.pub;
        ring.nwatchdog = 1;
        ring.operator[0] = op.pub;
        ring.operator[1] = nobody.pub;
        ring.noperator = 2;
        control_keys_from_keyring(&k, &ring);
        assert_ptr_equal(k.watchdog_keys, ring.watchdog);
        assert_int_equal(k.nwatchdog, 1);
        assert_ptr_equal(k.operator_keys, ring.operator);
        assert_int_equal(k.noperator, 2);
}

#define STATE_TEST(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
        const struct CMUnitTest tests[] = {
                STATE_TEST(a_valid_halt_is_in_force),
                STATE_TEST(a_resume_lifts_only_what_it_lists),
                STATE_TEST(a_resume_lifting_nothing_is_a_replay),
                STATE_TEST(the_same_id_twice_is_a_replay),
                STATE_TEST(the_halt_key_then_its_entry_is_known),
                STATE_TEST(a_halt_key_holding_a_lifted_halt_is_a_replay),
                STATE_TEST(a_halt_key_is_judged_like_an_entry),
                STATE_TEST(entries_without_exactly_msg_and_sig),
                STATE_TEST(too_long_comes_before_the_signature),
                STATE_TEST(bad_signatures),
                STATE_TEST(the_signature_comes_before_utf8_and_json),
                STATE_TEST(the_strict_json_steps),
                STATE_TEST(version_fields_and_rules),
                STATE_TEST(key_id_and_who_may_resume),
                cmocka_unit_test(a_key_in_both_roles_resumes_as_operator),
                cmocka_unit_test(no_keys_verify_nothing),
                cmocka_unit_test(every_rejection_has_its_name),
                STATE_TEST(reset_forgets_and_keeps_the_keys),
                STATE_TEST(many_halts_and_one_resume),
                cmocka_unit_test(keys_from_a_keyring),
        };

        return cmocka_run_group_tests(tests, group_setup, NULL);
}
