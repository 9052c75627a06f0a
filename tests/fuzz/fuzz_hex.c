/*
 * Fuzz target for chain/hex: every hex string a JSON-RPC provider may send.
 * Checks that decoding never reads or writes out of bounds, and that whatever
 * decodes re-encodes to the same digits (case-folded, "0x" prefix added).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hex.h"
#include "rwerr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        uint8_t bytes[64];
        char text[HEX_ENCODED_SIZE(64)];
        const char *in = (const char *)data;
        struct rwerr err;
        size_t n = 0;
        size_t skip;

        if (hex_decode_any(in, size, bytes, sizeof bytes, &n, &err) != 0) {
                if (strnlen(err.msg, sizeof err.msg) == sizeof err.msg)
                        abort(); /* the message must always be terminated */
                return 0;
        }
        if (hex_encode(bytes, n, text, sizeof text) != 2 + 2 * n)
                abort();
        skip = (size >= 2 && in[0] == '0' && (in[1] == 'x' || in[1] == 'X')) ? 2 : 0;
        if (strncasecmp(text + 2, in + skip, 2 * n) != 0)
                abort();
        /* The fixed-length decoder must agree with the variable one. */
        if (n > 0 && hex_decode(in, size, bytes, n, &err) != 0)
                abort();
        return 0;
}
