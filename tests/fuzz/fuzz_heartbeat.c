/*
 * Fuzz target for watchdog/heartbeat: whatever a relayer reads from the
 * heartbeat key. Each input is signed with a fixed test key and checked as
 * a consumer would (so a correctly signed heartbeat of garbage is parsed
 * just as safely), then checked unsigned with the input as the signature.
 * Nothing may read or write out of bounds or leak; a refusal must come with
 * a terminated message; an accepted heartbeat must be fresh at `now`.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "control_msg.h"
#include "fuzz_key.h"
#include "heartbeat.h"
#include "rwerr.h"
#include "signing_key.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW_MS 1795405749066LL

static struct signing_key key;

static void init_key(void)
{
        fuzz_key_init(&key, 0x3c);
}

static void check(int rc, const struct rwerr *err, int64_t issued, int64_t ttl)
{
        if (rc < 0 &&
            (strnlen(err->msg, sizeof err->msg) == sizeof err->msg || err->msg[0] == '\0'))
                abort();
        if (rc >= 0 && (ttl <= 0 || issued > NOW_MS + HEARTBEAT_CLOCK_SLACK_MS ||
                        NOW_MS - issued > ttl + HEARTBEAT_CLOCK_SLACK_MS))
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char sig[CONTROL_SIG_B64_SIZE];
        char *text;
        struct rwerr err;
        int64_t issued = 0, ttl = 0;
        int rc;

        init_key();
        text = malloc(size + 1);
        if (text == NULL)
                return 0;
        memcpy(text, data, size);
        text[size] = '\0';
        if (control_msg_sign(&key, text, size, sig, &err) == RW_OK) {
                memset(&err, 0, sizeof err);
                rc = heartbeat_check(&key.pub, 1, text, size, sig, NOW_MS, &issued, &ttl, &err);
                check(rc, &err, issued, ttl);
        }
        memset(&err, 0, sizeof err);
        rc = heartbeat_check(&key.pub, 1, "{}", 2, text, NOW_MS, &issued, &ttl, &err);
        if (rc >= 0)
                abort(); /* "{}" is no heartbeat, whatever the signature */
        check(rc, &err, issued, ttl);
        free(text);
        return 0;
}
