/*
 * Fuzz target for chain/multicall: the aggregate3 reply an endpoint sends
 * back (outside input). The first byte is the number of calls expected
 * (0..15); the rest, hex-encoded, is the reply. Checks that decoding never
 * reads out of bounds, that every result it accepts lies inside the
 * decoded reply, and that a well-formed reply built from the input decodes
 * back to exactly what it holds.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hex.h"
#include "multicall.h"
#include "rwerr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Decodes `hex` for n results and checks what was accepted. */
static void check_decode(const char *hex, size_t n, size_t reply_bytes)
{
        struct multicall_result res[16];
        struct rwerr err;
        uint8_t *buf = NULL;
        size_t i;

        if (multicall_decode(hex, strlen(hex), n, res, &buf, &err) != RW_OK) {
                if (strnlen(err.msg, sizeof err.msg) == sizeof err.msg)
                        abort();
                free(buf);
                return;
        }
        for (i = 0; i < n; i++) {
                if (res[i].success != 0 && res[i].success != 1)
                        abort();
                if (res[i].data < buf || res[i].len > reply_bytes ||
                    (size_t)(res[i].data - buf) > reply_bytes - res[i].len)
                        abort();
        }
        free(buf);
}

/* Appends the 32-byte big-endian word of v at *p. */
static uint8_t *put_word(uint8_t *p, size_t v)
{
        memset(p, 0, 32);
        for (int i = 0; i < 8; i++)
                p[31 - i] = (uint8_t)((uint64_t)v >> (8 * i));
        return p + 32;
}

/*
 * A well-formed reply of n results, result i being (i & 1, the first
 * i % 40 bytes of `data`), decodes back to exactly that.
 */
static void check_round_trip(const uint8_t *data, size_t size, size_t n)
{
        struct multicall_result res[16];
        uint8_t *reply = calloc(1, 64 + n * 32 + n * (96 + 64)), *p, *tuples;
        size_t i, off = n * 32, len;
        struct rwerr err;
        uint8_t *buf = NULL;
        char *hex;

        if (reply == NULL)
                return;
        p = put_word(reply, 32);
        p = put_word(p, n);
        tuples = p;
        for (i = 0; i < n; i++) {
                size_t dl = i % 40 < size ? i % 40 : size;
                uint8_t *t = tuples + off;

                put_word(tuples + i * 32, off);
                put_word(t, i & 1);
                put_word(t + 32, 64);
                put_word(t + 64, dl);
                memcpy(t + 96, data, dl);
                off += 96 + (dl + 31) / 32 * 32;
        }
        len = (size_t)(tuples - reply) + off;
        if ((hex = malloc(HEX_ENCODED_SIZE(len))) == NULL) {
                free(reply);
                return;
        }
        (void)hex_encode(reply, len, hex, HEX_ENCODED_SIZE(len));
        if (multicall_decode(hex, strlen(hex), n, res, &buf, &err) != RW_OK)
                abort();
        for (i = 0; i < n; i++) {
                size_t dl = i % 40 < size ? i % 40 : size;

                if (res[i].success != (int)(i & 1) || res[i].len != dl ||
                    memcmp(res[i].data, data, dl) != 0)
                        abort();
        }
        free(buf);
        free(hex);
        free(reply);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *hex;
        size_t n;

        if (size < 1)
                return 0;
        n = data[0] % 16;
        if ((hex = malloc(HEX_ENCODED_SIZE(size - 1))) == NULL)
                return 0;
        (void)hex_encode(data + 1, size - 1, hex, HEX_ENCODED_SIZE(size - 1));
        check_decode(hex, n, size - 1);
        free(hex);
        check_round_trip(data + 1, size - 1, n);
        return 0;
}
