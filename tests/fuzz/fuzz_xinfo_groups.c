/*
 * Fuzz target for the one parser of XINFO GROUPS replies,
 * redisconn_xinfo_groups (watchdog/base/redisconn.h), which the stream
 * observer and the halt acknowledgement check both read through. The input
 * is RESP bytes, parsed by hiredis's own reader into a reply as the
 * connection would; the reply is then parsed into groups. On success there
 * are as many groups as the reply has elements, every name and
 * last-delivered-id is a terminated string and the known flags are 0 or 1;
 * on failure there are no groups and the reason is not empty. The same
 * bytes also go through the XINFO CONSUMERS parser, which shares the code.
 *
 * hiredis 0.14 (Debian's) allocates whatever element count a reply
 * declares, with no cap; inputs declaring more than a million elements or
 * bytes are skipped, so the fuzzer tests this code and not that allocation.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "redisconn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Some '*' or '$' header declares a count of seven digits or more. */
static int declares_huge_count(const uint8_t *data, size_t size)
{
        size_t i, digits;

        for (i = 0; i < size; i++) {
                if (data[i] != '*' && data[i] != '$')
                        continue;
                for (digits = 0; i + 1 < size && data[i + 1] >= '0' && data[i + 1] <= '9'; i++)
                        digits++;
                if (digits >= 7)
                        return 1;
        }
        return 0;
}

static int terminated(const char *s, size_t cap)
{
        return memchr(s, '\0', cap) != NULL;
}

static void check_groups(const redisReply *r)
{
        struct redisconn_group *g = NULL;
        struct rwerr err = {""};
        size_t n = 99, i;

        if (redisconn_xinfo_groups(r, &g, &n, &err) != RW_OK) {
                if (g != NULL || n != 0 || err.msg[0] == '\0')
                        abort();
                return;
        }
        if (n != r->elements || (n > 0) != (g != NULL))
                abort();
        for (i = 0; i < n; i++) {
                if (!terminated(g[i].name, sizeof g[i].name) ||
                    !terminated(g[i].last_delivered_id, sizeof g[i].last_delivered_id) ||
                    (g[i].lag_known & ~1) != 0 || (g[i].entries_read_known & ~1) != 0)
                        abort();
        }
        free(g);
}

static void check_consumers(const redisReply *r)
{
        struct redisconn_consumer *c = NULL;
        struct rwerr err = {""};
        size_t n = 99, i;

        if (redisconn_xinfo_consumers(r, &c, &n, &err) != RW_OK) {
                if (c != NULL || n != 0 || err.msg[0] == '\0')
                        abort();
                return;
        }
        if (n != r->elements)
                abort();
        for (i = 0; i < n; i++) {
                if (!terminated(c[i].name, sizeof c[i].name) ||
                    (c[i].inactive_known && c[i].inactive_ms < -1))
                        abort();
        }
        free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        redisReader *reader = redisReaderCreate();
        void *reply = NULL;

        if (reader == NULL)
                return 0;
        if (declares_huge_count(data, size)) {
                redisReaderFree(reader);
                return 0;
        }
        if (redisReaderFeed(reader, (const char *)data, size) != REDIS_OK ||
            redisReaderGetReply(reader, &reply) != REDIS_OK || reply == NULL) {
                redisReaderFree(reader);
                return 0;
        }
        check_groups(reply);
        check_consumers(reply);
        freeReplyObject(reply);
        redisReaderFree(reader);
        return 0;
}
