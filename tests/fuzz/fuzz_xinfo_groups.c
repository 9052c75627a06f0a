/*
 * Fuzz target for watchdog/observe_streams: whatever Redis answers to
 * XINFO GROUPS. The input is RESP bytes, parsed by hiredis's own reader
 * into a reply as the connection would; the reply is then read into a
 * stream's groups. On success there are no more groups than elements and
 * every name is a terminated string; on failure the reason is not empty.
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

#include "observe_streams.h"

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        redisReader *reader = redisReaderCreate();
        void *reply = NULL;
        struct snap_stream st;
        size_t i;

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
        memset(&st, 0, sizeof st);
        memcpy(st.name, "fuzz", 5);
        observe_streams_groups(reply, &st);
        if (st.ok) {
                const redisReply *r = reply;

                if (st.ngroups > r->elements)
                        abort();
                for (i = 0; i < st.ngroups; i++) {
                        if (memchr(st.groups[i].name, '\0', sizeof st.groups[i].name) == NULL)
                                abort();
                }
        } else if (st.error[0] == '\0') {
                abort();
        }
        free(st.groups);
        freeReplyObject(reply);
        redisReaderFree(reader);
        return 0;
}
