/* Unit tests for chain/rwerr: the shared error convention. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "rwerr.h"

static void set_formats_and_returns_code(void **state)
{
        struct rwerr err;

        (void)state;
        assert_int_equal(rwerr_set(&err, RW_ERR_RANGE, "value %d of %s", 7, "x"), RW_ERR_RANGE);
        assert_string_equal(err.msg, "value 7 of x");
        /* A NULL error struct is allowed: the code still comes back. */
        assert_int_equal(rwerr_set(NULL, RW_ERR_IO, "ignored"), RW_ERR_IO);
}

static void set_truncates_long_messages(void **state)
{
        struct rwerr err;
        char longtext[RWERR_MSG_MAX * 2];

        (void)state;
        memset(longtext, 'a', sizeof longtext - 1);
        longtext[sizeof longtext - 1] = '\0';
        rwerr_set(&err, RW_ERR_INVALID, "%s", longtext);
        assert_int_equal(strlen(err.msg), RWERR_MSG_MAX - 1);
}

static void prefix_adds_context(void **state)
{
        struct rwerr err;

        (void)state;
        rwerr_set(&err, RW_ERR_INVALID, "expected 64 hex digits, got 63");
        assert_int_equal(rwerr_prefix(&err, RW_ERR_INVALID, "SIGIL balanceOf"), RW_ERR_INVALID);
        assert_string_equal(err.msg, "SIGIL balanceOf: expected 64 hex digits, got 63");
}

static void code_names_are_distinct(void **state)
{
        (void)state;
        assert_string_equal(rwerr_code_name(RW_OK), "ok");
        assert_string_equal(rwerr_code_name(RW_ERR_INVALID), "invalid input");
        assert_string_equal(rwerr_code_name(RW_ERR_RANGE), "out of range");
        assert_string_equal(rwerr_code_name(RW_ERR_NOMEM), "out of memory");
        assert_string_equal(rwerr_code_name(RW_ERR_IO), "I/O error");
        assert_string_equal(rwerr_code_name(RW_ERR_TIMEOUT), "timed out");
        assert_string_equal(rwerr_code_name(RW_ERR_PROTOCOL), "protocol error");
        assert_string_equal(rwerr_code_name(RW_ERR_REMOTE), "remote error");
        assert_string_equal(rwerr_code_name(RW_ERR_REFUSED), "refused");
        assert_string_equal(rwerr_code_name(-999), "unknown error");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(set_formats_and_returns_code),
                cmocka_unit_test(set_truncates_long_messages),
                cmocka_unit_test(prefix_adds_context),
                cmocka_unit_test(code_names_are_distinct),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
