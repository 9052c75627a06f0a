/*
 * Fuzz target for watchdog/control_msg and control_state: whatever bytes
 * arrive as a control message. Each input is
 *
 *   1. parsed as a msg (control_msg_parse_why);
 *   2. signed with a fixed watchdog key, then with a fixed operator key, and
 *      judged by control_msg_judge as a consumer would (PROTOCOL.md section
 *      6.1), so a correctly signed message of garbage is parsed just as
 *      safely; the verdict must follow from the parse (the rejection the
 *      parse named, else key_id and who may sign a RESUME);
 *   3. fed to a fresh control_state as a stream entry twice (an accepted
 *      one is a replay the second time) and as the halt key;
 *   4. used as the signature text of a fixed msg, and split at its NUL
 *      bytes into the names and values of an entry's fields.
 *
 * Nothing may read or write out of bounds or leak; every rejection comes
 * with a terminated detail of printable ASCII (safe to log); an accepted
 * message holds what control_msg.h promises.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "control_msg.h"
#include "control_state.h"
#include "fuzz_key.h"
#include "rwerr.h"
#include "signing_key.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct signing_key wd, op;

static void check_message(const struct rwerr *err, int rc)
{
        if (rc < 0 &&
            (strnlen(err->msg, sizeof err->msg) == sizeof err->msg || err->msg[0] == '\0'))
                abort();
}

/* A detail is terminated, not empty, printable ASCII. */
static void check_detail(const char *detail, size_t cap)
{
        size_t n = strnlen(detail, cap), i;

        if (n == cap || n == 0)
                abort();
        for (i = 0; i < n; i++) {
                if ((unsigned char)detail[i] < 0x20 || (unsigned char)detail[i] > 0x7e)
                        abort();
        }
}

static void check_parsed(const struct control_msg *m)
{
        size_t i;

        if (m->root == NULL || (m->type != CONTROL_HALT && m->type != CONTROL_RESUME))
                abort();
        if (m->id == NULL || m->invariant[0] == '\0' || m->severity[0] == '\0' ||
            m->reason[0] == '\0' || m->watchdog_id[0] == '\0' || m->correlation_id[0] == '\0')
                abort();
        if (strncmp(m->id, m->type == CONTROL_HALT ? "halt-" : "resume-",
                    m->type == CONTROL_HALT ? 5 : 7) != 0)
                abort();
        if (strlen(m->key_id) != SIGNING_KEY_ID_LEN || strlen(m->issued_at) != 24 ||
            m->issued_at_ms < 0 || m->evidence == NULL)
                abort();
        if ((m->nheights == 0) != (m->heights == NULL))
                abort();
        for (i = 0; i < m->nheights; i++) {
                if (m->heights[i].chain == NULL || m->heights[i].block > CONTROL_HEIGHT_MAX)
                        abort();
        }
        if (m->type == CONTROL_RESUME) {
                if (m->nresume_from == 0 || m->resume_from == NULL || m->lifts == NULL ||
                    m->nlifts == 0 || m->nlifts > CONTROL_LIFTS_MAX)
                        abort();
                for (i = 0; i < m->nlifts; i++) {
                        if (strncmp(m->lifts[i], "halt-", 5) != 0 || strlen(m->lifts[i]) != 37)
                                abort();
                }
        } else if (m->resume_from != NULL || m->lifts != NULL || m->nlifts != 0) {
                abort();
        }
}

/* What judging msg signed by `signer` must give, from the parse alone. */
static enum control_reject expected(enum control_reject parsed, const struct control_msg *m,
                                    const struct signing_key *signer, size_t size)
{
        if (size > CONTROL_MSG_MAX)
                return CONTROL_TOO_LONG;
        if (parsed != CONTROL_ACCEPTED)
                return parsed;
        if (strcmp(m->key_id, signer->pub.key_id) != 0)
                return CONTROL_KEY_ID_MISMATCH;
        if (m->type == CONTROL_RESUME && signer == &wd)
                return CONTROL_RESUME_BY_WATCHDOG_KEY;
        return CONTROL_ACCEPTED;
}

/* Judges msg signed by `signer` with both keys trusted; returns the verdict. */
static enum control_reject judge(const struct control_keys *keys, const char *msg, size_t size,
                                 const struct signing_key *signer, char sig[CONTROL_SIG_B64_SIZE])
{
        struct control_judgement j;
        struct control_msg m;
        struct rwerr err;
        enum control_reject r;

        if (control_msg_sign(signer, msg, size, sig, &err) != RW_OK)
                abort();
        r = control_msg_judge(keys, msg, size, sig, strlen(sig), &m, &j);
        if (r != j.reject)
                abort();
        if (r == CONTROL_ACCEPTED) {
                check_parsed(&m);
                if (j.key == NULL || strcmp(j.key->key_id, signer->pub.key_id) != 0)
                        abort();
        } else {
                if (m.root != NULL || m.heights != NULL || m.lifts != NULL)
                        abort();
                check_detail(j.detail, sizeof j.detail);
                /* a real signature of a trusted key always verifies */
                if (r == CONTROL_BAD_SIGNATURE || r == CONTROL_BAD_ENTRY)
                        abort();
                if (r != CONTROL_TOO_LONG && (j.key == NULL || j.role == CONTROL_ROLE_NONE))
                        abort();
        }
        control_msg_free(&m);
        return r;
}

static void check_outcome(const struct control_outcome *out, enum control_reject r)
{
        if (out->reject != r || strcmp(control_reject_name(r), "unknown") == 0)
                abort();
        if (r != CONTROL_ACCEPTED)
                check_detail(out->detail, sizeof out->detail);
}

/* The input split at NUL bytes into name, value, name, value...: an entry of up to 6 fields. */
static void odd_entry(struct control_state *st, const uint8_t *data, size_t size)
{
        struct control_field f[6];
        struct control_outcome out;
        const char *p = (const char *)data, *end = p + size;
        size_t n = 0;

        while (p < end && n < 6) {
                const char *nul = memchr(p, '\0', (size_t)(end - p)), *v;
                size_t nl = nul != NULL ? (size_t)(nul - p) : (size_t)(end - p), vl;

                v = nul != NULL ? nul + 1 : end;
                nul = memchr(v, '\0', (size_t)(end - v));
                vl = nul != NULL ? (size_t)(nul - v) : (size_t)(end - v);
                f[n].name = p;
                f[n].name_len = nl;
                f[n].value = v;
                f[n].value_len = vl;
                n++;
                p = v + vl + (nul != NULL);
        }
        enum control_reject r = control_state_entry(st, "9-0", f, n, NULL, &out);

        check_outcome(&out, r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const char fixed[] = "{\"v\":1}";
        const char *msg = (const char *)data;
        char wsig[CONTROL_SIG_B64_SIZE], osig[CONTROL_SIG_B64_SIZE], text[256];
        enum control_reject parsed = CONTROL_ACCEPTED, rw, ro;
        struct control_keys keys;
        struct control_state *st;
        struct control_outcome out;
        struct control_judgement j;
        struct control_msg m;
        struct rwerr err;
        int rc;

        fuzz_key_init(&wd, 0x5a);
        fuzz_key_init(&op, 0x5b);
        keys.watchdog_keys = &wd.pub;
        keys.nwatchdog = 1;
        keys.operator_keys = &op.pub;
        keys.noperator = 1;

        /* 1. the parse, and its rejection */
        rc = control_msg_parse_why(msg, size, &m, &parsed, &err);
        check_message(&err, rc);
        if ((rc == RW_OK) != (parsed == CONTROL_ACCEPTED))
                abort();
        if (rc == RW_OK)
                check_parsed(&m);
        else if (m.root != NULL || m.heights != NULL || m.resume_from != NULL || m.lifts != NULL)
                abort();
        if (rc != RW_OK && (parsed < CONTROL_TOO_LONG || parsed > CONTROL_NO_MEMORY ||
                            parsed == CONTROL_BAD_SIGNATURE))
                abort();
        if (parsed == CONTROL_NO_MEMORY) {
                control_msg_free(&m);
                return 0;
        }

        /* 2. signed by each role: the verdict follows from the parse */
        rw = judge(&keys, msg, size, &wd, wsig);
        if (rw != expected(parsed, &m, &wd, size))
                abort();
        ro = judge(&keys, msg, size, &op, osig);
        if (ro != expected(parsed, &m, &op, size))
                abort();
        control_msg_free(&m);

        /* 3. through the state machine, as an entry and as the halt key */
        if ((st = control_state_new(&keys)) == NULL)
                abort();
        {
                struct control_field f[2] = {{"msg", 3, msg, size}, {"sig", 3, osig, strlen(osig)}};
                enum control_reject first = control_state_entry(st, "1-0", f, 2, NULL, &out),
                                    second;

                check_outcome(&out, first);
                if (first != ro && !(first == CONTROL_REPLAY && ro == CONTROL_ACCEPTED &&
                                     out.type == CONTROL_RESUME))
                        abort();
                second = control_state_entry(st, "2-0", f, 2, NULL, &out);
                check_outcome(&out, second);
                if (first == CONTROL_ACCEPTED && second != CONTROL_REPLAY)
                        abort();
                f[1].value = wsig;
                second = control_state_halt_key(st, f, 2, NULL, &out);
                check_outcome(&out, second);
                if (out.reject == CONTROL_ACCEPTED && !control_state_halted(st))
                        abort();
        }
        odd_entry(st, data, size);
        control_state_free(st);

        /* 4. the input as the signature text of a fixed msg */
        if (control_msg_judge(&keys, fixed, sizeof fixed - 1, msg, size, &m, &j) ==
            CONTROL_ACCEPTED)
                abort(); /* {"v":1} is no control message, whatever signs it */
        check_detail(j.detail, sizeof j.detail);
        control_msg_free(&m);
        if (size < sizeof text) {
                memcpy(text, data, size);
                text[size] = '\0';
                rc = control_msg_verify(&wd.pub, 1, fixed, sizeof fixed - 1, text, &err);
                check_message(&err, rc);
        }
        return 0;
}
