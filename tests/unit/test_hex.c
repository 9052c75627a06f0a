/* Unit tests for chain/hex: strict hex decoding and encoding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hex.h"
#include "rwerr.h"

static void decode_accepts_prefix_and_both_cases(void **state)
{
        uint8_t out[4];
        struct rwerr err;

        (void)state;
        assert_int_equal(hex_decode("0xDeadBEEF", 10, out, sizeof out, &err), RW_OK);
        assert_memory_equal(out, "\xde\xad\xbe\xef", 4);
        assert_int_equal(hex_decode("0Xdeadbeef", 10, out, sizeof out, &err), RW_OK);
        assert_memory_equal(out, "\xde\xad\xbe\xef", 4);
        assert_int_equal(hex_decode("01020304", 8, out, sizeof out, &err), RW_OK);
        assert_memory_equal(out, "\x01\x02\x03\x04", 4);
}

static void decode_rejects_wrong_length_and_leaves_output(void **state)
{
        uint8_t out[4] = {0xaa, 0xaa, 0xaa, 0xaa};
        struct rwerr err;

        (void)state;
        /* One byte short: a truncated word must never become a shorter value. */
        assert_int_equal(hex_decode("0x010203", 8, out, sizeof out, &err), RW_ERR_INVALID);
        assert_string_equal(err.msg, "expected 8 hex digits (4 bytes), got 6");
        assert_memory_equal(out, "\xaa\xaa\xaa\xaa", 4);
        /* One byte too many. */
        assert_int_equal(hex_decode("0x0102030405", 12, out, sizeof out, &err), RW_ERR_INVALID);
        assert_string_equal(err.msg, "expected 8 hex digits (4 bytes), got 10");
        /* An odd digit count is reported as such. */
        assert_int_equal(hex_decode("0x0102030", 9, out, sizeof out, &err), RW_ERR_INVALID);
        assert_string_equal(err.msg, "hex value has an odd number of digits (7)");
}

static void decode_names_the_bad_character(void **state)
{
        uint8_t out[2];
        struct rwerr err;

        (void)state;
        assert_int_equal(hex_decode("0x01g2", 6, out, sizeof out, &err), RW_ERR_INVALID);
        assert_string_equal(err.msg, "invalid hex digit 'g' at position 4");
        assert_int_equal(hex_decode("0x01\n2", 6, out, sizeof out, &err), RW_ERR_INVALID);
        assert_string_equal(err.msg, "invalid hex digit (byte 0x0a) at position 4");
        /* "0x" only counts as a prefix at the start. */
        assert_int_equal(hex_decode("000x", 4, out, sizeof out, &err), RW_ERR_INVALID);
        assert_int_equal(hex_decode(NULL, 0, out, sizeof out, &err), RW_ERR_INVALID);
        assert_string_equal(err.msg, "hex value is missing");
}

static void decode_respects_given_length(void **state)
{
        uint8_t out[1];
        struct rwerr err;

        (void)state;
        /* Only `len` characters are read, so a value inside a larger buffer works. */
        assert_int_equal(hex_decode("0xffzz", 4, out, sizeof out, &err), RW_OK);
        assert_int_equal(out[0], 0xff);
}

static void decode_any_reports_length_and_cap(void **state)
{
        uint8_t out[3];
        size_t n = 99;
        struct rwerr err;

        (void)state;
        assert_int_equal(hex_decode_any("0x", 2, out, sizeof out, &n, &err), RW_OK);
        assert_int_equal(n, 0);
        assert_int_equal(hex_decode_any("0xa1b2", 6, out, sizeof out, &n, &err), RW_OK);
        assert_int_equal(n, 2);
        assert_memory_equal(out, "\xa1\xb2", 2);
        n = 99;
        assert_int_equal(hex_decode_any("0xa1b2c3d4", 10, out, sizeof out, &n, &err), RW_ERR_RANGE);
        assert_string_equal(err.msg, "hex value of 4 bytes exceeds the limit of 3 bytes");
        assert_int_equal(n, 99);
}

static void encode_round_trips(void **state)
{
        uint8_t in[256], back[256];
        char text[HEX_ENCODED_SIZE(256)];
        struct rwerr err;
        size_t i;

        (void)state;
        for (i = 0; i < sizeof in; i++)
                in[i] = (uint8_t)i;
        assert_int_equal(hex_encode(in, sizeof in, text, sizeof text), 2 + 2 * sizeof in);
        assert_int_equal(strncmp(text, "0x000102", 8), 0);
        assert_string_equal(text + strlen(text) - 4, "feff");
        assert_int_equal(hex_decode(text, strlen(text), back, sizeof back, &err), RW_OK);
        assert_memory_equal(in, back, sizeof in);
}

static void encode_refuses_small_buffer(void **state)
{
        uint8_t in[2] = {0x12, 0x34};
        char text[6] = "xxxxx";

        (void)state;
        /* "0x1234" needs 7 bytes with its NUL. */
        assert_int_equal(hex_encode(in, 2, text, sizeof text), 0);
        assert_string_equal(text, "");
        assert_int_equal(hex_encode(in, 0, text, sizeof text), 2);
        assert_string_equal(text, "0x");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(decode_accepts_prefix_and_both_cases),
                cmocka_unit_test(decode_rejects_wrong_length_and_leaves_output),
                cmocka_unit_test(decode_names_the_bad_character),
                cmocka_unit_test(decode_respects_given_length),
                cmocka_unit_test(decode_any_reports_length_and_cap),
                cmocka_unit_test(encode_round_trips),
                cmocka_unit_test(encode_refuses_small_buffer),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
