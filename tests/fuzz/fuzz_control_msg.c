/*
 * Fuzz target for watchdog/control_msg: whatever bytes arrive as a control
 * message. Each input is parsed as a msg; then signed with a fixed test key
 * and run through control_msg_check, as a consumer would, so a correctly
 * signed message of garbage is parsed just as safely; then used as the
 * signature text of a fixed msg. Nothing may read or write out of bounds or
 * leak; a refusal must come with a terminated message; an accepted message
 * must hold what control_msg.h promises.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "control_msg.h"
#include "fuzz_key.h"
#include "rwerr.h"
#include "signing_key.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct signing_key key;

static void init_key(void)
{
        fuzz_key_init(&key, 0x5a);
}

static void check_message(const struct rwerr *err, int rc)
{
        if (rc < 0 &&
            (strnlen(err->msg, sizeof err->msg) == sizeof err->msg || err->msg[0] == '\0'))
                abort();
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
        if (m->type == CONTROL_RESUME && (m->nresume_from == 0 || m->resume_from == NULL))
                abort();
        if (m->type == CONTROL_HALT && m->resume_from != NULL)
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const char fixed[] = "{\"v\":1}";
        const char *msg = (const char *)data;
        char sig[CONTROL_SIG_B64_SIZE], text[256];
        struct control_msg m;
        struct rwerr err;
        int parsed, ours = 0, rc;

        init_key();
        rc = control_msg_parse(msg, size, &m, &err);
        check_message(&err, rc);
        parsed = rc == RW_OK;
        if (parsed) {
                check_parsed(&m);
                ours = strcmp(m.key_id, key.pub.key_id) == 0;
        } else if (m.root != NULL || m.heights != NULL || m.resume_from != NULL) {
                abort();
        }
        control_msg_free(&m);

        /* Signed correctly: check accepts exactly what parses and names this key. */
        if (control_msg_sign(&key, msg, size, sig, &err) != RW_OK)
                abort();
        rc = control_msg_check(&key.pub, 1, CONTROL_ALLOW_HALT | CONTROL_ALLOW_RESUME, msg, size,
                               sig, &m, &err);
        check_message(&err, rc);
        if ((rc == 0) != (parsed && ours))
                abort();
        if (rc == 0)
                check_parsed(&m);
        else if (m.root != NULL)
                abort();
        control_msg_free(&m);

        /* The input as the signature text of a fixed msg. */
        if (size < sizeof text) {
                memcpy(text, data, size);
                text[size] = '\0';
                rc = control_msg_verify(&key.pub, 1, fixed, sizeof fixed - 1, text, &err);
                check_message(&err, rc);
        }
        return 0;
}
