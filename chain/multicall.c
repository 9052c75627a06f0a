#include "multicall.h"

#include <stdlib.h>
#include <string.h>

#include "hex.h"
#include "rwerr.h"

#define WORD ((size_t)ABI_WORD_BYTES)

/* `n` rounded up to a whole number of words. */
static size_t padded(size_t n)
{
        return (n + WORD - 1) / WORD * WORD;
}

/* One call's tuple: target, allowFailure, the offset of callData, its length and bytes. */
static size_t tuple_size(const struct multicall_call *c)
{
        return 4 * WORD + padded(c->call.len);
}

static void put_u64(uint8_t *word, uint64_t v)
{
        int i;

        memset(word, 0, WORD);
        for (i = 0; i < 8; i++)
                word[WORD - 1 - i] = (uint8_t)(v >> (8 * i));
}

char *multicall_encode(const struct multicall_call *calls, size_t n, struct rwerr *err)
{
        uint8_t *data, *p, *offsets;
        size_t i, len, next;
        char *hex;

        if (n == 0 || n > MULTICALL_CALLS_MAX) {
                rwerr_set(err, RW_ERR_RANGE, "aggregate3 of %zu calls (1 to %d)", n,
                          MULTICALL_CALLS_MAX);
                return NULL;
        }
        /* selector, the array's offset and length, an offset per call, the tuples */
        len = ABI_SELECTOR_BYTES + 2 * WORD + n * WORD;
        for (i = 0; i < n; i++)
                len += tuple_size(&calls[i]);
        if ((data = calloc(1, len)) == NULL || (hex = malloc(HEX_ENCODED_SIZE(len))) == NULL) {
                free(data);
                rwerr_set(err, RW_ERR_NOMEM, "out of memory for an aggregate3 of %zu calls", n);
                return NULL;
        }
        abi_selector("aggregate3((address,bool,bytes)[])", data);
        p = data + ABI_SELECTOR_BYTES;
        put_u64(p, WORD); /* the array starts right after this word */
        put_u64(p + WORD, n);
        offsets = p + 2 * WORD; /* tuple offsets count from here */
        next = n * WORD;
        for (i = 0; i < n; i++) {
                uint8_t *t = offsets + next;

                put_u64(offsets + i * WORD, next);
                memcpy(t + WORD - ABI_ADDRESS_BYTES, calls[i].target, ABI_ADDRESS_BYTES);
                t[2 * WORD - 1] = 1;             /* allowFailure */
                put_u64(t + 2 * WORD, 3 * WORD); /* callData follows the three head words */
                put_u64(t + 3 * WORD, calls[i].call.len);
                memcpy(t + 4 * WORD, calls[i].call.data, calls[i].call.len);
                next += tuple_size(&calls[i]);
        }
        (void)hex_encode(data, len, hex, HEX_ENCODED_SIZE(len));
        free(data);
        return hex;
}

/* The word at byte `at` of data[0..len) as a size: RW_ERR_INVALID when outside or above len. */
static int word_size(const uint8_t *data, size_t len, size_t at, const char *what, size_t *out,
                     struct rwerr *err)
{
        size_t i;

        if (at > len || len - at < WORD)
                return rwerr_set(err, RW_ERR_INVALID,
                                 "aggregate3 reply: %s at byte %zu is past its end (%zu bytes)",
                                 what, at, len);
        for (i = 0; i < WORD - 8; i++) {
                if (data[at + i] != 0)
                        return rwerr_set(err, RW_ERR_INVALID,
                                         "aggregate3 reply: %s at byte %zu is too large", what, at);
        }
        *out = 0;
        for (i = WORD - 8; i < WORD; i++)
                *out = (*out << 8) | data[at + i];
        if (*out > len)
                return rwerr_set(err, RW_ERR_INVALID,
                                 "aggregate3 reply: %s at byte %zu is %zu, past its end (%zu "
                                 "bytes)",
                                 what, at, *out, len);
        return RW_OK;
}

/* Result `i`, the tuple at byte `at`. */
static int decode_result(const uint8_t *data, size_t len, size_t at, size_t i,
                         struct multicall_result *out, struct rwerr *err)
{
        size_t flag, off, n, j;

        if (at > len || len - at < 2 * WORD)
                return rwerr_set(err, RW_ERR_INVALID,
                                 "aggregate3 reply: result %zu at byte %zu is past its end (%zu "
                                 "bytes)",
                                 i, at, len);
        for (j = 0; j < WORD - 1; j++) {
                if (data[at + j] != 0)
                        break;
        }
        flag = data[at + WORD - 1];
        if (j < WORD - 1 || flag > 1)
                return rwerr_set(err, RW_ERR_INVALID,
                                 "aggregate3 reply: result %zu's success flag is not 0 or 1", i);
        if (word_size(data, len, at + WORD, "a returnData offset", &off, err) != RW_OK)
                return RW_ERR_INVALID;
        if (off > len - at)
                return rwerr_set(err, RW_ERR_INVALID,
                                 "aggregate3 reply: result %zu's returnData is past its end", i);
        if (word_size(data, len, at + off, "a returnData length", &n, err) != RW_OK)
                return RW_ERR_INVALID;
        if (n > len - (at + off + WORD))
                return rwerr_set(err, RW_ERR_INVALID,
                                 "aggregate3 reply: result %zu's returnData of %zu bytes runs past "
                                 "its end",
                                 i, n);
        out->success = (int)flag;
        out->data = data + at + off + WORD;
        out->len = n;
        return RW_OK;
}

int multicall_decode(const char *hex, size_t hexlen, size_t n, struct multicall_result *out,
                     uint8_t **buf, struct rwerr *err)
{
        uint8_t *data;
        size_t len = 0, array = 0, count = 0, base, i, off;
        int rc;

        *buf = NULL;
        if (hexlen >= 2 && hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X')) {
                hex += 2;
                hexlen -= 2;
        }
        if (hexlen == 0)
                return rwerr_set(err, RW_ERR_INVALID,
                                 "aggregate3 reply is empty (\"0x\"): no Multicall3 contract at "
                                 "that address on this chain");
        if ((data = malloc(hexlen / 2 + 1)) == NULL)
                return rwerr_set(err, RW_ERR_NOMEM, "out of memory for an aggregate3 reply");
        *buf = data;
        if ((rc = hex_decode_any(hex, hexlen, data, hexlen / 2 + 1, &len, err)) != RW_OK)
                return rwerr_prefix(err, rc, "aggregate3 reply");
        if ((rc = word_size(data, len, 0, "the array offset", &array, err)) != RW_OK ||
            (rc = word_size(data, len, array, "the array length", &count, err)) != RW_OK)
                return rc;
        if (count != n)
                return rwerr_set(err, RW_ERR_INVALID,
                                 "aggregate3 reply has %zu results for %zu calls", count, n);
        base = array + WORD;
        if (n > (len - base) / WORD)
                return rwerr_set(err, RW_ERR_INVALID,
                                 "aggregate3 reply is too short for %zu results", n);
        for (i = 0; i < n; i++) {
                if ((rc = word_size(data, len, base + i * WORD, "a result offset", &off, err)) !=
                    RW_OK)
                        return rc;
                if (off > len - base)
                        return rwerr_set(err, RW_ERR_INVALID,
                                         "aggregate3 reply: result %zu's offset is past its end",
                                         i);
                if ((rc = decode_result(data, len, base + off, i, &out[i], err)) != RW_OK)
                        return rc;
        }
        return RW_OK;
}
