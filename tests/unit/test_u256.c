/*
 * Unit tests for chain/u256: exact 256-bit amounts.
 *
 * Expected values above 2^64 were computed with Python's big integers while
 * writing these tests (e.g. `python3 -c 'print(hex(3**160 + 2**128 +
 * 12345678901234567890))'`) and pasted as literals.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "rwerr.h"
#include "u256.h"

/* 2^256-1 in decimal and hex. */
#define MAX_DEC "115792089237316195423570985008687907853269984665640564039457584007913129639935"
#define MAX_HEX "0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
/* 3^160, a value above 2^253 with no regular bit pattern. */
#define A_DEC "21847450052839212624230656502990235142567050104912751880812823948662932355201"
#define A_HEX "0x304d37f120d696c834550e63d9bb9c14b4f9165c9ede434e4644e3998d6db881"
/* 2^128 + 12345678901234567890. */
#define B_HEX "0x10000000000000000ab54a98ceb1f0ad2"

/* A value from hex text the test trusts; fails the test if it does not parse. */
static struct u256 hexval(const char *s)
{
        struct u256 v;
        struct rwerr err;

        assert_int_equal(u256_parse_hex(s, strlen(s), &v, &err), RW_OK);
        return v;
}

static void assert_u256_hex(const struct u256 *v, const char *expected)
{
        char buf[U256_HEX_SIZE];

        assert_int_equal(u256_format_hex(v, buf, sizeof buf), strlen(expected));
        assert_string_equal(buf, expected);
}

static void basics(void **state)
{
        struct u256 zero = u256_from_u64(0), one = u256_from_u64(1);
        struct u256 max = hexval(MAX_HEX), a = hexval(A_HEX);
        uint64_t v = 7;

        (void)state;
        assert_true(u256_is_zero(&zero));
        assert_false(u256_is_zero(&one));
        assert_int_equal(u256_cmp(&zero, &one), -1);
        assert_int_equal(u256_cmp(&one, &zero), 1);
        assert_int_equal(u256_cmp(&a, &a), 0);
        assert_int_equal(u256_cmp(&a, &max), -1);
        assert_true(u256_eq(&max, &max));
        assert_false(u256_eq(&a, &max));
        /* Only the top limb differs: the comparison must look there first. */
        {
                struct u256 lo = {{UINT64_MAX, UINT64_MAX, UINT64_MAX, 1}};
                struct u256 hi = {{0, 0, 0, 2}};

                assert_int_equal(u256_cmp(&lo, &hi), -1);
        }
        assert_int_equal(u256_to_u64(&one, &v), RW_OK);
        assert_int_equal(v, 1);
        v = 7;
        assert_int_equal(u256_to_u64(&a, &v), RW_ERR_RANGE);
        assert_int_equal(v, 7);
}

static void add_sub_big_values(void **state)
{
        struct u256 a = hexval(A_HEX), b = hexval(B_HEX), r;

        (void)state;
        assert_int_equal(u256_add(&a, &b, &r), RW_OK);
        assert_u256_hex(&r, "0x304d37f120d696c834550e63d9bb9c15b4f9165c9ede434ef1998d26788cc353");
        assert_int_equal(u256_sub(&a, &b, &r), RW_OK);
        assert_u256_hex(&r, "0x304d37f120d696c834550e63d9bb9c13b4f9165c9ede434d9af03a0ca24eadaf");
        /* Output may alias an input. */
        r = a;
        assert_int_equal(u256_add(&r, &b, &r), RW_OK);
        assert_int_equal(u256_sub(&r, &b, &r), RW_OK);
        assert_true(u256_eq(&r, &a));
        /* A borrow that runs through two limbs: 2^128 - 1. */
        {
                struct u256 p128 = hexval("0x100000000000000000000000000000000");
                struct u256 one = u256_from_u64(1);

                assert_int_equal(u256_sub(&p128, &one, &r), RW_OK);
                assert_u256_hex(&r, "0xffffffffffffffffffffffffffffffff");
                assert_int_equal(u256_add(&r, &one, &r), RW_OK);
                assert_true(u256_eq(&r, &p128));
        }
}

static void add_sub_overflow_by_exactly_one(void **state)
{
        struct u256 max = hexval(MAX_HEX), one = u256_from_u64(1), zero = u256_from_u64(0);
        struct u256 max_minus_one =
                hexval("0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe");
        struct u256 r = hexval("0x1234"), keep = r;

        (void)state;
        /* (2^256-2) + 1 fits, (2^256-1) + 1 does not. */
        assert_int_equal(u256_add(&max_minus_one, &one, &r), RW_OK);
        assert_true(u256_eq(&r, &max));
        r = keep;
        assert_int_equal(u256_add(&max, &one, &r), RW_ERR_RANGE);
        assert_true(u256_eq(&r, &keep));
        assert_int_equal(u256_add(&one, &max, &r), RW_ERR_RANGE);
        assert_int_equal(u256_add(&max, &max, &r), RW_ERR_RANGE);
        assert_true(u256_eq(&r, &keep));
        assert_int_equal(u256_add(&max, &zero, &r), RW_OK);
        assert_true(u256_eq(&r, &max));
        /* 1 - 1 is zero, 0 - 1 and 1 - 2 underflow by one. */
        r = keep;
        assert_int_equal(u256_sub(&one, &one, &r), RW_OK);
        assert_true(u256_is_zero(&r));
        r = keep;
        assert_int_equal(u256_sub(&zero, &one, &r), RW_ERR_RANGE);
        assert_true(u256_eq(&r, &keep));
        {
                struct u256 two = u256_from_u64(2);

                assert_int_equal(u256_sub(&one, &two, &r), RW_ERR_RANGE);
                assert_true(u256_eq(&r, &keep));
        }
        assert_int_equal(u256_sub(&max_minus_one, &max, &r), RW_ERR_RANGE);
        assert_true(u256_eq(&r, &keep));
        assert_int_equal(u256_sub(&max, &max_minus_one, &r), RW_OK);
        assert_true(u256_eq(&r, &one));
}

static void mul_u64(void **state)
{
        struct u256 b = hexval(B_HEX), a = hexval(A_HEX), max = hexval(MAX_HEX), r;
        struct u256 keep = hexval("0x77");
        /* (2^256-1) / (2^64-1), exactly. */
        struct u256 q = hexval("0x1000000000000000100000000000000010000000000000001");

        (void)state;
        assert_int_equal(u256_mul_u64(&b, 0xfedcba9876543210ULL, &r), RW_OK);
        assert_u256_hex(&r, "0xfedcba9876543210aa91b9dd13094959a5c894971af5b120");
        assert_int_equal(u256_mul_u64(&max, 1, &r), RW_OK);
        assert_true(u256_eq(&r, &max));
        assert_int_equal(u256_mul_u64(&max, 0, &r), RW_OK);
        assert_true(u256_is_zero(&r));
        assert_int_equal(u256_mul_u64(&q, UINT64_MAX, &r), RW_OK);
        assert_true(u256_eq(&r, &max));
        /* Overflow: by a factor of two at the top, and by a carry out of the last limb. */
        r = keep;
        assert_int_equal(u256_mul_u64(&max, 2, &r), RW_ERR_RANGE);
        assert_true(u256_eq(&r, &keep));
        assert_int_equal(u256_mul_u64(&a, 0xfedcba9876543210ULL, &r), RW_ERR_RANGE);
        {
                struct u256 p255 = hexval(
                        "0x8000000000000000000000000000000000000000000000000000000000000000");

                assert_int_equal(u256_mul_u64(&p255, 2, &r), RW_ERR_RANGE);
                assert_true(u256_eq(&r, &keep));
        }
        /* q * 2^64 is 2^256 - 1 + q: one more than fits. */
        {
                struct u256 q1;

                assert_int_equal(u256_add(&q, &(struct u256){{1, 0, 0, 0}}, &q1), RW_OK);
                assert_int_equal(u256_mul_u64(&q1, UINT64_MAX, &r), RW_ERR_RANGE);
        }
}

static void divmod_u64(void **state)
{
        struct u256 a = hexval(A_HEX), max = hexval(MAX_HEX), q, keep = hexval("0x99");
        uint64_t rem = 0;

        (void)state;
        assert_int_equal(u256_divmod_u64(&a, 10000000000000000000ULL, &q, &rem), RW_OK);
        assert_u256_hex(&q, "0x5919cd59c5b58b0969c10abfd555c3cdfbc82f7bc7a19771");
        assert_int_equal(rem, 2823948662932355201ULL);
        assert_int_equal(u256_divmod_u64(&max, 7, &q, &rem), RW_OK);
        assert_u256_hex(&q, "0x2492492492492492492492492492492492492492492492492492492492492492");
        assert_int_equal(rem, 1);
        assert_int_equal(u256_divmod_u64(&max, UINT64_MAX, &q, &rem), RW_OK);
        assert_u256_hex(&q, "0x1000000000000000100000000000000010000000000000001");
        assert_int_equal(rem, 0);
        /* A divisor with its top bit set exercises the shifted-out bit. */
        assert_int_equal(u256_divmod_u64(&max, 0x8000000000000001ULL, &q, &rem), RW_OK);
        {
                struct u256 back;
                struct u256 r = u256_from_u64(rem);

                assert_int_equal(u256_mul_u64(&q, 0x8000000000000001ULL, &back), RW_OK);
                assert_int_equal(u256_add(&back, &r, &back), RW_OK);
                assert_true(u256_eq(&back, &max));
                assert_true(rem < 0x8000000000000001ULL);
        }
        /* Either output may be NULL. */
        assert_int_equal(u256_divmod_u64(&max, 10, NULL, &rem), RW_OK);
        assert_int_equal(rem, 5);
        assert_int_equal(u256_divmod_u64(&max, 10, &q, NULL), RW_OK);
        assert_u256_hex(&q, "0x1999999999999999999999999999999999999999999999999999999999999999");
        /* Division by zero leaves both outputs alone. */
        q = keep;
        rem = 42;
        assert_int_equal(u256_divmod_u64(&max, 0, &q, &rem), RW_ERR_INVALID);
        assert_true(u256_eq(&q, &keep));
        assert_int_equal(rem, 42);
}

static void abs_diff_says_which_side_is_larger(void **state)
{
        struct u256 a = hexval(A_HEX), b = hexval(B_HEX), d;

        (void)state;
        assert_int_equal(u256_abs_diff(&a, &b, &d), 1);
        assert_u256_hex(&d, "0x304d37f120d696c834550e63d9bb9c13b4f9165c9ede434d9af03a0ca24eadaf");
        assert_int_equal(u256_abs_diff(&b, &a, &d), -1);
        assert_u256_hex(&d, "0x304d37f120d696c834550e63d9bb9c13b4f9165c9ede434d9af03a0ca24eadaf");
        assert_int_equal(u256_abs_diff(&a, &a, &d), 0);
        assert_true(u256_is_zero(&d));
}

static void signed_differences(void **state)
{
        struct u256 a = u256_from_u64(7), b = u256_from_u64(10), three = u256_from_u64(3), max;
        struct u256_signed d, e;

        (void)state;
        memset(&max, 0xff, sizeof max);
        u256_signed_diff(&a, &b, &d); /* 7 - 10 = -3 */
        assert_true(d.neg);
        assert_true(u256_eq(&d.mag, &three));
        assert_int_equal(u256_signed_sub(&d, &a, &e), RW_OK); /* -3 - 7 = -10 */
        assert_true(e.neg);
        assert_true(u256_eq(&e.mag, &b));
        u256_signed_diff(&b, &a, &d); /* 10 - 7 = 3 */
        assert_false(d.neg);
        assert_int_equal(u256_signed_sub(&d, &b, &e), RW_OK); /* 3 - 10 = -7 */
        assert_true(e.neg);
        assert_true(u256_eq(&e.mag, &a));
        u256_signed_diff(&a, &a, &d); /* zero is never negative */
        assert_false(d.neg);
        assert_true(u256_is_zero(&d.mag));
        d.neg = 1; /* -(2^256 - 1) - 10 does not fit */
        d.mag = max;
        assert_int_equal(u256_signed_sub(&d, &b, &e), RW_ERR_RANGE);
}

static void be32_round_trip(void **state)
{
        uint8_t be[32], back[32];
        struct u256 v;
        size_t i;

        (void)state;
        for (i = 0; i < 32; i++)
                be[i] = (uint8_t)(i + 1);
        u256_from_be32(be, &v);
        assert_u256_hex(&v, "0x102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20");
        assert_int_equal(v.limb[0], 0x191a1b1c1d1e1f20ULL);
        assert_int_equal(v.limb[3], 0x0102030405060708ULL);
        u256_to_be32(&v, back);
        assert_memory_equal(be, back, 32);
}

static void parse_dec_good(void **state)
{
        struct u256 v;
        struct rwerr err;
        char padded[200];

        (void)state;
        assert_int_equal(u256_parse_dec(MAX_DEC, strlen(MAX_DEC), &v, &err), RW_OK);
        assert_u256_hex(&v, MAX_HEX);
        assert_int_equal(u256_parse_dec(A_DEC, strlen(A_DEC), &v, &err), RW_OK);
        assert_u256_hex(&v, A_HEX);
        assert_int_equal(u256_parse_dec("0", 1, &v, &err), RW_OK);
        assert_true(u256_is_zero(&v));
        assert_int_equal(u256_parse_dec("18446744073709551616", 20, &v, &err), RW_OK);
        assert_u256_hex(&v, "0x10000000000000000");
        /* Leading zeros are fine, however many. */
        memset(padded, '0', sizeof padded);
        memcpy(padded + sizeof padded - (sizeof MAX_DEC - 1), MAX_DEC, sizeof MAX_DEC - 1);
        assert_int_equal(u256_parse_dec(padded, sizeof padded, &v, &err), RW_OK);
        assert_u256_hex(&v, MAX_HEX);
        /* Only `len` characters are read. */
        assert_int_equal(u256_parse_dec("1234,5678", 4, &v, &err), RW_OK);
        assert_u256_hex(&v, "0x4d2");
}

static void parse_dec_rejects(void **state)
{
        struct u256 keep = hexval("0xabc"), v = keep;
        struct rwerr err;

        (void)state;
        assert_int_equal(u256_parse_dec("", 0, &v, &err), RW_ERR_INVALID);
        assert_string_equal(err.msg, "decimal amount is empty");
        assert_int_equal(u256_parse_dec(NULL, 0, &v, &err), RW_ERR_INVALID);
        assert_string_equal(err.msg, "decimal amount is missing");
        assert_int_equal(u256_parse_dec("-5", 2, &v, &err), RW_ERR_INVALID);
        assert_string_equal(err.msg, "negative amount: decimal amount starts with '-'");
        assert_int_equal(u256_parse_dec("+5", 2, &v, &err), RW_ERR_INVALID);
        assert_string_equal(err.msg, "decimal amount starts with a sign '+'");
        assert_int_equal(u256_parse_dec("1000.5", 6, &v, &err), RW_ERR_INVALID);
        assert_string_equal(err.msg, "non-integer amount: decimal amount has a '.' at position 4");
        /* PostgreSQL prints a NUMERIC with a scale as "1000.00": still not an integer text. */
        assert_int_equal(u256_parse_dec("1000.00", 7, &v, &err), RW_ERR_INVALID);
        assert_string_equal(err.msg, "non-integer amount: decimal amount has a '.' at position 4");
        assert_int_equal(u256_parse_dec(" 1", 2, &v, &err), RW_ERR_INVALID);
        assert_string_equal(err.msg, "decimal amount has a non-digit ' ' at position 0");
        assert_int_equal(u256_parse_dec("1 000", 5, &v, &err), RW_ERR_INVALID);
        assert_string_equal(err.msg, "decimal amount has a non-digit ' ' at position 1");
        assert_int_equal(u256_parse_dec("12-3", 4, &v, &err), RW_ERR_INVALID);
        assert_string_equal(err.msg, "decimal amount has a non-digit '-' at position 2");
        assert_int_equal(u256_parse_dec("1e18", 4, &v, &err), RW_ERR_INVALID);
        assert_string_equal(err.msg, "decimal amount has a non-digit 'e' at position 1");
        assert_int_equal(u256_parse_dec("0x10", 4, &v, &err), RW_ERR_INVALID);
        assert_string_equal(err.msg, "decimal amount has a non-digit 'x' at position 1");
        assert_int_equal(u256_parse_dec("5\n", 2, &v, &err), RW_ERR_INVALID);
        assert_string_equal(err.msg, "decimal amount has a non-digit (byte 0x0a) at position 1");
        /* 2^256 exactly: over by one. */
        assert_int_equal(u256_parse_dec("115792089237316195423570985008687907853269984665640564039"
                                        "457584007913129639936",
                                        78, &v, &err),
                         RW_ERR_RANGE);
        assert_string_equal(err.msg, "decimal amount exceeds 2^256-1");
        assert_int_equal(u256_parse_dec(MAX_DEC "0", strlen(MAX_DEC) + 1, &v, &err), RW_ERR_RANGE);
        assert_string_equal(err.msg, "decimal amount exceeds 2^256-1");
        assert_true(u256_eq(&v, &keep));
}

static void parse_hex_good(void **state)
{
        struct u256 v;
        struct rwerr err;

        (void)state;
        assert_int_equal(u256_parse_hex("0x0", 3, &v, &err), RW_OK);
        assert_true(u256_is_zero(&v));
        assert_int_equal(u256_parse_hex("0x1a", 4, &v, &err), RW_OK);
        assert_int_equal(v.limb[0], 26);
        assert_int_equal(u256_parse_hex("0X1A", 4, &v, &err), RW_OK);
        assert_int_equal(v.limb[0], 26);
        assert_int_equal(u256_parse_hex(MAX_HEX, strlen(MAX_HEX), &v, &err), RW_OK);
        assert_int_equal(v.limb[0], UINT64_MAX);
        assert_int_equal(v.limb[3], UINT64_MAX);
        /* A full 32-byte word with leading zeros, as an ABI result carries it. */
        assert_int_equal(
                u256_parse_hex("0x00000000000000000000000000000000000000000000003635c9adc5dea00000",
                               66, &v, &err),
                RW_OK);
        assert_u256_hex(&v, "0x3635c9adc5dea00000");
        assert_int_equal(u256_parse_hex("0x0ffzz", 5, &v, &err), RW_OK);
        assert_int_equal(v.limb[0], 0xff);
}

static void parse_hex_rejects(void **state)
{
        struct u256 keep = hexval("0xabc"), v = keep;
        struct rwerr err;

        (void)state;
        assert_int_equal(u256_parse_hex("", 0, &v, &err), RW_ERR_INVALID);
        assert_string_equal(err.msg, "hex quantity is empty");
        assert_int_equal(u256_parse_hex("0x", 2, &v, &err), RW_ERR_INVALID);
        assert_string_equal(err.msg, "hex quantity \"0x\" has no digits");
        assert_int_equal(u256_parse_hex("1a", 2, &v, &err), RW_ERR_INVALID);
        assert_string_equal(err.msg, "hex quantity does not start with \"0x\"");
        assert_int_equal(u256_parse_hex("0", 1, &v, &err), RW_ERR_INVALID);
        assert_string_equal(err.msg, "hex quantity does not start with \"0x\"");
        assert_int_equal(u256_parse_hex("-0x1", 4, &v, &err), RW_ERR_INVALID);
        assert_string_equal(err.msg, "hex quantity does not start with \"0x\"");
        assert_int_equal(u256_parse_hex("0x1g", 4, &v, &err), RW_ERR_INVALID);
        assert_string_equal(err.msg, "hex quantity has an invalid hex digit 'g' at position 3");
        assert_int_equal(u256_parse_hex("0x 1", 4, &v, &err), RW_ERR_INVALID);
        assert_string_equal(err.msg, "hex quantity has an invalid hex digit ' ' at position 2");
        assert_int_equal(u256_parse_hex("0x0x1", 5, &v, &err), RW_ERR_INVALID);
        assert_string_equal(err.msg, "hex quantity has an invalid hex digit 'x' at position 3");
        assert_int_equal(u256_parse_hex("0x1\xff", 4, &v, &err), RW_ERR_INVALID);
        assert_string_equal(err.msg,
                            "hex quantity has an invalid hex digit (byte 0xff) at position 3");
        /* 65 significant digits: 2^256. */
        assert_int_equal(
                u256_parse_hex(
                        "0x10000000000000000000000000000000000000000000000000000000000000000", 67,
                        &v, &err),
                RW_ERR_RANGE);
        assert_string_equal(err.msg,
                            "hex quantity exceeds 2^256-1 (65 significant digits, at most 64)");
        /* 66 digits that are a zero-padded 1: strict, at most 64 digits in all. */
        assert_int_equal(
                u256_parse_hex(
                        "0x000000000000000000000000000000000000000000000000000000000000000001", 68,
                        &v, &err),
                RW_ERR_INVALID);
        assert_string_equal(
                err.msg, "hex quantity has 66 digits, at most 64 allowed (too much zero padding)");
        assert_true(u256_eq(&v, &keep));
}

static void parse_units_good(void **state)
{
        struct u256 v;
        struct rwerr err;

        (void)state;
        /* decimals 0: whole units only. */
        assert_int_equal(u256_parse_units("7", 1, 0, &v, &err), RW_OK);
        assert_u256_hex(&v, "0x7");
        /* decimals 6 (USDC-like): 1234.5678 -> 1234567800. */
        assert_int_equal(u256_parse_units("1234.5678", 9, 6, &v, &err), RW_OK);
        assert_u256_hex(&v, "0x49960278");
        assert_int_equal(u256_parse_units("0.000001", 8, 6, &v, &err), RW_OK);
        assert_u256_hex(&v, "0x1");
        /* decimals 18: the SUPPLY_MISMATCH tolerance default, 0.001 token = 10^15 wei. */
        assert_int_equal(u256_parse_units("0.001", 5, 18, &v, &err), RW_OK);
        assert_u256_hex(&v, "0x38d7ea4c68000");
        assert_int_equal(u256_parse_units("1", 1, 18, &v, &err), RW_OK);
        assert_u256_hex(&v, "0xde0b6b3a7640000");
        assert_int_equal(u256_parse_units("1000", 4, 18, &v, &err), RW_OK);
        assert_u256_hex(&v, "0x3635c9adc5dea00000");
        assert_int_equal(u256_parse_units("0.000000000000000001", 20, 18, &v, &err), RW_OK);
        assert_u256_hex(&v, "0x1");
        assert_int_equal(u256_parse_units("007.50", 6, 18, &v, &err), RW_OK);
        assert_u256_hex(&v, "0x68155a43676e0000"); /* 7.5e18 */
        /* 2^256-1 base units at 18 decimals, the largest amount there is. */
        assert_int_equal(u256_parse_units("11579208923731619542357098500868790785326998466564056403"
                                          "9457.584007913129639935",
                                          79, 18, &v, &err),
                         RW_OK);
        assert_u256_hex(&v, MAX_HEX);
        /* The most decimals a token can have and still hold one whole token. */
        assert_int_equal(u256_parse_units("1", 1, 77, &v, &err), RW_OK);
        assert_int_equal(u256_parse_units("1.15792089237316195423570985008687907853269984665640564"
                                          "039457584007913129639935",
                                          79, 77, &v, &err),
                         RW_OK);
        assert_u256_hex(&v, MAX_HEX);
}

static void parse_units_rejects(void **state)
{
        struct u256 keep = hexval("0xabc"), v = keep;
        struct rwerr err;

        (void)state;
        assert_int_equal(u256_parse_units("0.0001", 6, 3, &v, &err), RW_ERR_RANGE);
        assert_string_equal(err.msg, "token amount has 4 decimal places, the token allows 3");
        /* Exactness as written: trailing zeros beyond the token's decimals count too. */
        assert_int_equal(u256_parse_units("7.0", 3, 0, &v, &err), RW_ERR_RANGE);
        assert_string_equal(err.msg, "token amount has 1 decimal places, the token allows 0");
        assert_int_equal(u256_parse_units("-1", 2, 18, &v, &err), RW_ERR_INVALID);
        assert_string_equal(err.msg, "negative amount: token amount starts with '-'");
        assert_int_equal(u256_parse_units("+1", 2, 18, &v, &err), RW_ERR_INVALID);
        assert_string_equal(err.msg, "token amount starts with a sign '+'");
        assert_int_equal(u256_parse_units("", 0, 18, &v, &err), RW_ERR_INVALID);
        assert_string_equal(err.msg, "token amount is empty");
        assert_int_equal(u256_parse_units(NULL, 0, 18, &v, &err), RW_ERR_INVALID);
        assert_string_equal(err.msg, "token amount is missing");
        assert_int_equal(u256_parse_units(".5", 2, 18, &v, &err), RW_ERR_INVALID);
        assert_string_equal(
                err.msg,
                "token amount has no digit before the '.' at position 0 (write 0.5, not .5)");
        assert_int_equal(u256_parse_units(".", 1, 18, &v, &err), RW_ERR_INVALID);
        assert_int_equal(u256_parse_units("1.", 2, 18, &v, &err), RW_ERR_INVALID);
        assert_string_equal(err.msg, "token amount has no digit after the '.' at position 1");
        assert_int_equal(u256_parse_units("1.2.3", 5, 18, &v, &err), RW_ERR_INVALID);
        assert_string_equal(err.msg, "token amount has a second '.' at position 3");
        assert_int_equal(u256_parse_units("1e18", 4, 18, &v, &err), RW_ERR_INVALID);
        assert_string_equal(err.msg, "token amount uses exponent notation ('e' at position 1); "
                                     "write the digits out");
        assert_int_equal(u256_parse_units("1.5E3", 5, 18, &v, &err), RW_ERR_INVALID);
        assert_string_equal(err.msg, "token amount uses exponent notation ('E' at position 3); "
                                     "write the digits out");
        assert_int_equal(u256_parse_units("1,5", 3, 18, &v, &err), RW_ERR_INVALID);
        assert_string_equal(err.msg, "token amount has a non-digit ',' at position 1");
        assert_int_equal(u256_parse_units(" 1", 2, 18, &v, &err), RW_ERR_INVALID);
        assert_string_equal(err.msg, "token amount has a non-digit ' ' at position 0");
        /* 2^256 base units at 18 decimals: over by one wei. */
        assert_int_equal(u256_parse_units("11579208923731619542357098500868790785326998466564056403"
                                          "9457.584007913129639936",
                                          79, 18, &v, &err),
                         RW_ERR_RANGE);
        assert_string_equal(err.msg, "token amount exceeds 2^256-1 base units at 18 decimals");
        /* 10 tokens at 77 decimals is 10^78 > 2^256. */
        assert_int_equal(u256_parse_units("10", 2, 77, &v, &err), RW_ERR_RANGE);
        assert_string_equal(err.msg, "token amount exceeds 2^256-1 base units at 77 decimals");
        assert_int_equal(u256_parse_units("1", 1, 78, &v, &err), RW_ERR_INVALID);
        assert_string_equal(err.msg, "token amount: 78 decimals is more than the 77 supported");
        assert_true(u256_eq(&v, &keep));
}

static void format_dec_and_hex(void **state)
{
        struct u256 zero = u256_from_u64(0), max = hexval(MAX_HEX), a = hexval(A_HEX);
        char buf[U256_DEC_SIZE];
        char small[4] = "xyz";

        (void)state;
        assert_int_equal(u256_format_dec(&max, buf, sizeof buf), 78);
        assert_string_equal(buf, MAX_DEC);
        assert_int_equal(u256_format_dec(&a, buf, sizeof buf), strlen(A_DEC));
        assert_string_equal(buf, A_DEC);
        assert_int_equal(u256_format_dec(&zero, buf, sizeof buf), 1);
        assert_string_equal(buf, "0");
        /* 10^19 and 10^19 - 1 straddle the chunk size used inside. */
        {
                struct u256 p19 = u256_from_u64(10000000000000000000ULL);
                struct u256 p38 = hexval("0x4b3b4ca85a86c47a098a224000000000"); /* 10^38 */

                assert_int_equal(u256_format_dec(&p19, buf, sizeof buf), 20);
                assert_string_equal(buf, "10000000000000000000");
                assert_int_equal(u256_format_dec(&p38, buf, sizeof buf), 39);
                assert_string_equal(buf, "100000000000000000000000000000000000000");
        }
        assert_u256_hex(&zero, "0x0");
        assert_u256_hex(&max, MAX_HEX);
        {
                struct u256 v = u256_from_u64(26);

                assert_u256_hex(&v, "0x1a");
        }
        /* Too small: 0 and an empty string. */
        assert_int_equal(u256_format_dec(&max, buf, 78), 0);
        assert_string_equal(buf, "");
        assert_int_equal(u256_format_hex(&max, small, sizeof small), 0);
        assert_string_equal(small, "");
        assert_int_equal(u256_format_hex(&zero, small, sizeof small), 3);
        assert_string_equal(small, "0x0");
        assert_int_equal(u256_format_dec(&zero, small, 1), 0);
        assert_int_equal(u256_format_dec(&zero, NULL, 0), 0);
}

static void format_units(void **state)
{
        struct u256 v;
        struct rwerr err;
        char buf[U256_UNITS_SIZE(5)];
        char exact[sizeof "1234.5678 SIGIL"];

        (void)state;
        assert_int_equal(u256_parse_dec("1234567800000000000000", 22, &v, &err), RW_OK);
        assert_int_equal(u256_format_units(&v, 18, "SIGIL", buf, sizeof buf), 15);
        assert_string_equal(buf, "1234.5678 SIGIL");
        /* The exact size fits; one byte less does not. */
        assert_int_equal(u256_format_units(&v, 18, "SIGIL", exact, sizeof exact), 15);
        assert_int_equal(u256_format_units(&v, 18, "SIGIL", exact, sizeof exact - 1), 0);
        assert_string_equal(exact, "");
        assert_int_equal(u256_parse_dec("1234000000000000000000", 22, &v, &err), RW_OK);
        assert_int_equal(u256_format_units(&v, 18, "SIGIL", buf, sizeof buf), 10);
        assert_string_equal(buf, "1234 SIGIL");
        v = u256_from_u64(1);
        assert_int_equal(u256_format_units(&v, 18, "SIGIL", buf, sizeof buf), 26);
        assert_string_equal(buf, "0.000000000000000001 SIGIL");
        v = u256_from_u64(0);
        assert_int_equal(u256_format_units(&v, 18, "SIGIL", buf, sizeof buf), 7);
        assert_string_equal(buf, "0 SIGIL");
        /* No symbol, or an empty one: no trailing space. */
        v = u256_from_u64(1500000);
        assert_int_equal(u256_format_units(&v, 6, NULL, buf, sizeof buf), 3);
        assert_string_equal(buf, "1.5");
        assert_int_equal(u256_format_units(&v, 6, "", buf, sizeof buf), 3);
        assert_string_equal(buf, "1.5");
        assert_int_equal(u256_format_units(&v, 0, NULL, buf, sizeof buf), 7);
        assert_string_equal(buf, "1500000");
        /* The 0.001 tolerance default, shown back to the operator. */
        assert_int_equal(u256_parse_units("0.001", 5, 18, &v, &err), RW_OK);
        assert_int_equal(u256_format_units(&v, 18, "SIGIL", buf, sizeof buf), 11);
        assert_string_equal(buf, "0.001 SIGIL");
        /* The longest numbers: U256_UNITS_SIZE must hold them. */
        v = hexval(MAX_HEX);
        assert_int_equal(u256_format_units(&v, 77, "SIGIL", buf, sizeof buf), 79 + 6);
        assert_string_equal(buf, "1.15792089237316195423570985008687907853269984665640564039457584"
                                 "007913129639935 SIGIL");
        v = u256_from_u64(1);
        assert_int_equal(u256_format_units(&v, 77, "SIGIL", buf, sizeof buf), 79 + 6);
        assert_int_equal(u256_format_units(&v, 78, NULL, buf, sizeof buf), 0);
}

/* A small deterministic generator so the round trips cover many shapes. */
static uint64_t next_rand(uint64_t *s)
{
        *s ^= *s << 13;
        *s ^= *s >> 7;
        *s ^= *s << 17;
        return *s;
}

/* q * d + r == a and r < d, for random values and divisors on both sides
 * of 2^32 (below it the division works in 32-bit halves, above it bit by bit). */
static void divmod_u64_multiplies_back(void **state)
{
        uint64_t seed = 0x243f6a8885a308d3ULL;
        int i;

        (void)state;
        for (i = 0; i < 4000; i++) {
                struct u256 a, q, back, r;
                uint64_t d = next_rand(&seed) >> (next_rand(&seed) % 64), rem;
                int j;

                if (d == 0)
                        d = 1;
                for (j = 0; j < 4; j++)
                        a.limb[j] = next_rand(&seed);
                assert_int_equal(u256_divmod_u64(&a, d, &q, &rem), RW_OK);
                assert_true(rem < d);
                r = u256_from_u64(rem);
                assert_int_equal(u256_mul_u64(&q, d, &back), RW_OK);
                assert_int_equal(u256_add(&back, &r, &back), RW_OK);
                assert_true(u256_eq(&back, &a));
        }
}

static void round_trips(void **state)
{
        uint64_t seed = 0x9e3779b97f4a7c15ULL;
        char buf[U256_UNITS_SIZE(0)];
        struct rwerr err;
        int i;

        (void)state;
        for (i = 0; i < 2000; i++) {
                struct u256 v, back;
                unsigned decimals = (unsigned)(next_rand(&seed) % (U256_DECIMALS_MAX + 1));
                int limbs = (int)(next_rand(&seed) % 5); /* 0..4 significant limbs */
                int j;
                size_t n;

                memset(&v, 0, sizeof v);
                for (j = 0; j < limbs; j++)
                        v.limb[j] = next_rand(&seed) >> (next_rand(&seed) % 64);
                n = u256_format_dec(&v, buf, sizeof buf);
                assert_true(n > 0);
                assert_int_equal(u256_parse_dec(buf, n, &back, &err), RW_OK);
                assert_true(u256_eq(&v, &back));
                n = u256_format_hex(&v, buf, sizeof buf);
                assert_true(n > 0);
                assert_int_equal(u256_parse_hex(buf, n, &back, &err), RW_OK);
                assert_true(u256_eq(&v, &back));
                n = u256_format_units(&v, decimals, NULL, buf, sizeof buf);
                assert_true(n > 0);
                assert_int_equal(u256_parse_units(buf, n, decimals, &back, &err), RW_OK);
                assert_true(u256_eq(&v, &back));
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(basics),
                cmocka_unit_test(add_sub_big_values),
                cmocka_unit_test(add_sub_overflow_by_exactly_one),
                cmocka_unit_test(mul_u64),
                cmocka_unit_test(divmod_u64),
                cmocka_unit_test(abs_diff_says_which_side_is_larger),
                cmocka_unit_test(signed_differences),
                cmocka_unit_test(be32_round_trip),
                cmocka_unit_test(parse_dec_good),
                cmocka_unit_test(parse_dec_rejects),
                cmocka_unit_test(parse_hex_good),
                cmocka_unit_test(parse_hex_rejects),
                cmocka_unit_test(parse_units_good),
                cmocka_unit_test(parse_units_rejects),
                cmocka_unit_test(format_dec_and_hex),
                cmocka_unit_test(format_units),
                cmocka_unit_test(round_trips),
                cmocka_unit_test(divmod_u64_multiplies_back),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
