/*
 * Fuzz target for chain/u256: every amount relaywatch reads from outside
 * (PostgreSQL NUMERIC text, JSON-RPC QUANTITY, token amounts in the config).
 * The same bytes go to the three parsers. Whatever parses must format back
 * and parse again to the same value; whatever fails must leave the output
 * alone and a terminated message. Parsed values also go through the
 * arithmetic, whose inverse operations must give the value back.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rwerr.h"
#include "u256.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct u256 sentinel = {{0x5a5a5a5a5a5a5a5aULL, 1, 2, 3}};

static void check_failure(const struct u256 *out, const struct rwerr *err)
{
        if (!u256_eq(out, &sentinel))
                abort(); /* outputs are untouched on failure */
        if (strnlen(err->msg, sizeof err->msg) == sizeof err->msg || err->msg[0] == '\0')
                abort(); /* the message is always there and terminated */
}

/* Inverse operations on a parsed value: each must give it back exactly. */
static void check_arithmetic(const struct u256 *v)
{
        static const uint64_t divisors[] = {1, 7, 10, 10000000000000000000ULL, UINT64_MAX};
        struct u256 c = {{0x0123456789abcdefULL, 0xfedcba9876543210ULL, 0, 1}};
        struct u256 t, back, d;
        size_t i;

        if (u256_add(v, &c, &t) == RW_OK) {
                if (u256_sub(&t, &c, &back) != RW_OK || !u256_eq(&back, v))
                        abort();
                if (u256_abs_diff(&t, v, &d) != 1 || !u256_eq(&d, &c))
                        abort();
        } else if (u256_cmp(v, &c) < 0) {
                abort(); /* a sum can only overflow when one side is large */
        }
        for (i = 0; i < sizeof divisors / sizeof divisors[0]; i++) {
                struct u256 q, r;
                uint64_t rem = 0;

                if (u256_divmod_u64(v, divisors[i], &q, &rem) != RW_OK || rem >= divisors[i])
                        abort();
                r = u256_from_u64(rem);
                if (u256_mul_u64(&q, divisors[i], &back) != RW_OK ||
                    u256_add(&back, &r, &back) != RW_OK || !u256_eq(&back, v))
                        abort();
        }
}

static void fuzz_dec(const char *in, size_t size)
{
        struct u256 v = sentinel, back;
        char buf[U256_DEC_SIZE];
        struct rwerr err;
        size_t n, skip = 0;

        memset(&err, 0, sizeof err);
        if (u256_parse_dec(in, size, &v, &err) != RW_OK) {
                check_failure(&v, &err);
                return;
        }
        n = u256_format_dec(&v, buf, sizeof buf);
        /* The text is the input without its leading zeros ("0" for zero). */
        while (skip + 1 < size && in[skip] == '0')
                skip++;
        if (n != size - skip || memcmp(buf, in + skip, n) != 0)
                abort();
        if (u256_parse_dec(buf, n, &back, &err) != RW_OK || !u256_eq(&v, &back))
                abort();
        check_arithmetic(&v);
}

static void fuzz_hex(const char *in, size_t size)
{
        struct u256 v = sentinel, back;
        char buf[U256_HEX_SIZE];
        uint8_t be[U256_BYTES];
        struct rwerr err;
        size_t n, skip = 2;

        memset(&err, 0, sizeof err);
        if (u256_parse_hex(in, size, &v, &err) != RW_OK) {
                check_failure(&v, &err);
                return;
        }
        if (size > U256_HEX_SIZE - 1)
                abort(); /* never more than "0x" and 64 digits */
        n = u256_format_hex(&v, buf, sizeof buf);
        while (skip + 1 < size && in[skip] == '0')
                skip++;
        if (n != 2 + size - skip || strncasecmp(buf + 2, in + skip, n - 2) != 0)
                abort();
        if (u256_parse_hex(buf, n, &back, &err) != RW_OK || !u256_eq(&v, &back))
                abort();
        u256_to_be32(&v, be);
        u256_from_be32(be, &back);
        if (!u256_eq(&v, &back))
                abort();
        check_arithmetic(&v);
}

static void fuzz_units(const char *in, size_t size, unsigned decimals)
{
        struct u256 v = sentinel, back;
        char buf[U256_UNITS_SIZE(0)];
        struct rwerr err;
        size_t n;

        memset(&err, 0, sizeof err);
        if (u256_parse_units(in, size, decimals, &v, &err) != RW_OK) {
                check_failure(&v, &err);
                return;
        }
        n = u256_format_units(&v, decimals, NULL, buf, sizeof buf);
        if (n == 0)
                abort();
        if (u256_parse_units(buf, n, decimals, &back, &err) != RW_OK || !u256_eq(&v, &back))
                abort();
        /* A whole number of tokens is the decimal value times 10^decimals. */
        if (memchr(in, '.', size) == NULL) {
                struct u256 whole;
                unsigned i;

                if (u256_parse_dec(in, size, &whole, &err) != RW_OK)
                        abort();
                for (i = 0; i < decimals; i++) {
                        if (u256_mul_u64(&whole, 10, &whole) != RW_OK)
                                abort();
                }
                if (!u256_eq(&whole, &v))
                        abort();
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const char *in = (const char *)data;
        unsigned decimals;

        fuzz_dec(in, size);
        fuzz_hex(in, size);
        /* The token's decimals come from the input's length, so every seed tries several. */
        decimals = (unsigned)(size % (U256_DECIMALS_MAX + 1));
        fuzz_units(in, size, decimals);
        fuzz_units(in, size, 18);
        fuzz_units(in, size, 0);
        return 0;
}
