/*
 * Fuzz target for chain/rpc's reply matching: whatever bytes a provider
 * sends back for a batch. The first input byte chooses the batch size
 * (1 to 8 requests); the rest is the reply body. On success every request
 * must hold exactly one of a result and an error; on failure none may hold
 * either.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "rpc.h"
#include "rwerr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct rpc_batch *b;
        struct rwerr err;
        size_t i, n;
        int rc;

        if (size < 1)
                return 0;
        b = rpc_batch_new();
        if (b == NULL)
                return 0;
        n = 1 + data[0] % 8;
        for (i = 0; i < n; i++) {
                if (rpc_batch_add(b, "eth_call", NULL, &err) < 0)
                        abort();
        }
        rc = rpc_batch_parse_reply(b, (const char *)data + 1, size - 1, &err);
        for (i = 0; i < n; i++) {
                int has_result = rpc_batch_result(b, i) != NULL;
                int has_error = rpc_batch_error(b, i) != NULL;

                if (rc == RW_OK && has_result == has_error)
                        abort();
                if (rc != RW_OK && (has_result || has_error))
                        abort();
        }
        rpc_batch_free(b);
        return 0;
}
