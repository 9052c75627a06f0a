/*
 * test_multicall: Multicall3 aggregate3 encoding and the decoding of its
 * reply. The vectors are an aggregate3 of SigilToken.totalSupply() and
 * balanceOf(the token itself), as the encoder writes it, and the reply a
 * local anvil gave to exactly that request (1e24 and 0): the real
 * contract's ABI both ways. Every malformed reply is refused with a
 * message that says what is wrong.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "abi.h"
#include "multicall.h"
#include "rwerr.h"

static const char TOKEN[] = "0x5fbdb2315678afecb367f032d93f642f64180aa3";

static const char REQUEST[] = "0x"
                              "82ad56cb00000000000000000000000000000000000000000000000000000000"
                              "0000002000000000000000000000000000000000000000000000000000000000"
                              "0000000200000000000000000000000000000000000000000000000000000000"
                              "0000004000000000000000000000000000000000000000000000000000000000"
                              "000000e00000000000000000000000005fbdb2315678afecb367f032d93f642f"
                              "64180aa300000000000000000000000000000000000000000000000000000000"
                              "0000000100000000000000000000000000000000000000000000000000000000"
                              "0000006000000000000000000000000000000000000000000000000000000000"
                              "0000000418160ddd000000000000000000000000000000000000000000000000"
                              "000000000000000000000000000000005fbdb2315678afecb367f032d93f642f"
                              "64180aa300000000000000000000000000000000000000000000000000000000"
                              "0000000100000000000000000000000000000000000000000000000000000000"
                              "0000006000000000000000000000000000000000000000000000000000000000"
                              "0000002470a082310000000000000000000000005fbdb2315678afecb367f032"
                              "d93f642f64180aa3000000000000000000000000000000000000000000000000"
                              "00000000";

static const char REPLY[] = "0x"
                            "0000000000000000000000000000000000000000000000000000000000000020"
                            "0000000000000000000000000000000000000000000000000000000000000002"
                            "0000000000000000000000000000000000000000000000000000000000000040"
                            "00000000000000000000000000000000000000000000000000000000000000c0"
                            "0000000000000000000000000000000000000000000000000000000000000001"
                            "0000000000000000000000000000000000000000000000000000000000000040"
                            "0000000000000000000000000000000000000000000000000000000000000020"
                            "00000000000000000000000000000000000000000000d3c21bcecceda1000000"
                            "0000000000000000000000000000000000000000000000000000000000000001"
                            "0000000000000000000000000000000000000000000000000000000000000040"
                            "0000000000000000000000000000000000000000000000000000000000000020"
                            "0000000000000000000000000000000000000000000000000000000000000000";

static void two_calls(struct multicall_call calls[2])
{
        struct rwerr err;
        uint8_t token[ABI_ADDRESS_BYTES];

        memset(calls, 0, 2 * sizeof *calls);
        assert_int_equal(abi_address_parse(TOKEN, strlen(TOKEN), token, &err), RW_OK);
        memcpy(calls[0].target, token, sizeof token);
        abi_call_init(&calls[0].call, "totalSupply()");
        memcpy(calls[1].target, token, sizeof token);
        abi_call_init(&calls[1].call, "balanceOf(address)");
        assert_int_equal(abi_call_add_address(&calls[1].call, token), RW_OK);
}

static void encodes_the_abi(void **state)
{
        struct multicall_call calls[2];
        struct rwerr err;
        char *hex;

        (void)state;
        two_calls(calls);
        hex = multicall_encode(calls, 2, &err);
        assert_non_null(hex);
        assert_string_equal(hex, REQUEST);
        free(hex);
}

static void refuses_counts_out_of_range(void **state)
{
        struct multicall_call calls[2];
        struct rwerr err;

        (void)state;
        two_calls(calls);
        assert_null(multicall_encode(calls, 0, &err));
        assert_non_null(strstr(err.msg, "0 calls"));
        assert_null(multicall_encode(calls, MULTICALL_CALLS_MAX + 1, &err));
}

static void decodes_a_real_reply(void **state)
{
        struct multicall_result res[2];
        struct rwerr err;
        /* 10^24 (a million tokens of 18 decimals) in its last ten bytes */
        static const uint8_t supply[10] = {0xd3, 0xc2, 0x1b, 0xce, 0xcc, 0xed, 0xa1, 0, 0, 0};
        uint8_t *buf = NULL;
        size_t i;

        (void)state;
        assert_int_equal(multicall_decode(REPLY, strlen(REPLY), 2, res, &buf, &err), RW_OK);
        assert_int_equal(res[0].success, 1);
        assert_int_equal(res[0].len, 32);
        for (i = 0; i < 22; i++)
                assert_int_equal(res[0].data[i], 0);
        assert_memory_equal(res[0].data + 22, supply, sizeof supply);
        assert_int_equal(res[1].success, 1);
        assert_int_equal(res[1].len, 32);
        for (i = 0; i < 32; i++)
                assert_int_equal(res[1].data[i], 0);
        free(buf);
}

/* REPLY with its hex digit at `at` (after "0x") replaced by `digit`. */
static char *patched(size_t at, char digit)
{
        char *s = strdup(REPLY);

        assert_non_null(s);
        s[2 + at] = digit;
        return s;
}

static void refuse(const char *hex, size_t n, const char *words)
{
        struct multicall_result res[4];
        struct rwerr err;
        uint8_t *buf = NULL;

        assert_int_equal(multicall_decode(hex, strlen(hex), n, res, &buf, &err), RW_ERR_INVALID);
        free(buf);
        if (strstr(err.msg, words) == NULL)
                fail_msg("expected \"%s\" in: %s", words, err.msg);
}

static void refuses_malformed_replies(void **state)
{
        char *s;

        (void)state;
        refuse("0x", 2, "no Multicall3 contract");
        refuse(REPLY, 3, "2 results for 3 calls");
        refuse("0x123", 2, "odd");
        s = strdup(REPLY);
        assert_non_null(s);
        s[strlen(s) - 64] = '\0'; /* the second result's word is cut off */
        refuse(s, 2, "runs past");
        free(s);
        s = patched((size_t)64 * 5 - 1, '2'); /* result 0's success flag: 2 */
        refuse(s, 2, "success flag");
        free(s);
        s = patched((size_t)64 * 2, 'f'); /* result 0's offset: a huge number */
        refuse(s, 2, "too large");
        free(s);
        s = patched((size_t)64 * 2 + 61, '1'); /* result 0's offset: 0x140, the reply's end */
        refuse(s, 2, "past its end");
        free(s);
        s = patched((size_t)64 * 1 - 1, '1'); /* the array offset: 0x21, its length word misread */
        refuse(s, 2, "array length");
        free(s);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(encodes_the_abi),
                cmocka_unit_test(refuses_counts_out_of_range),
                cmocka_unit_test(decodes_a_real_reply),
                cmocka_unit_test(refuses_malformed_replies),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
