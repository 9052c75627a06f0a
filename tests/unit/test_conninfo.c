/* Unit tests for db/conninfo: connection strings described without secrets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "conninfo.h"
#include "rwerr.h"

static void url_loses_its_password(void **state)
{
        char out[256];
        struct rwerr err;

        (void)state;
        assert_int_equal(conninfo_describe("postgres://watch:s3cret@127.0.0.1:5433/bridge", out,
                                           sizeof out, &err),
                         RW_OK);
        assert_string_equal(out, "postgres://watch@127.0.0.1:5433/bridge");
        assert_null(strstr(out, "s3cret"));
}

static void keyword_form_loses_its_password(void **state)
{
        char out[256];
        struct rwerr err;

        (void)state;
        assert_int_equal(conninfo_describe("host=db.internal port=6432 dbname=ledger user=ro "
                                           "password='p w' sslmode=require",
                                           out, sizeof out, &err),
                         RW_OK);
        assert_string_equal(out, "postgres://ro@db.internal:6432/ledger");
}

static void missing_parts_are_left_out(void **state)
{
        char out[256];
        struct rwerr err;

        (void)state;
        assert_int_equal(conninfo_describe("dbname=ledger", out, sizeof out, &err), RW_OK);
        assert_string_equal(out, "postgres://(local socket)/ledger");
        assert_int_equal(conninfo_describe("postgresql://", out, sizeof out, &err), RW_OK);
        assert_string_equal(out, "postgres://(local socket)/");
}

static void invalid_string_error_does_not_echo_it(void **state)
{
        char out[256] = "untouched";
        struct rwerr err;

        (void)state;
        /* A missing '=' makes libpq quote the string back; we must not. */
        assert_int_equal(conninfo_describe("host=x password hunter2", out, sizeof out, &err),
                         RW_ERR_INVALID);
        assert_null(strstr(err.msg, "hunter2"));
        assert_string_equal(out, "");
        assert_int_equal(conninfo_describe("postgres://u:hunter2@h:notaport/db?bogus=1", out,
                                           sizeof out, &err),
                         RW_ERR_INVALID);
        assert_null(strstr(err.msg, "hunter2"));
        assert_int_equal(conninfo_describe(NULL, out, sizeof out, &err), RW_ERR_INVALID);
        assert_string_equal(err.msg, "database connection string is missing");
}

static void small_buffer_is_an_error(void **state)
{
        char out[8];
        struct rwerr err;

        (void)state;
        assert_int_equal(conninfo_describe("postgres://u@host/db", out, sizeof out, &err),
                         RW_ERR_RANGE);
        assert_string_equal(out, "");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(url_loses_its_password),
                cmocka_unit_test(keyword_form_loses_its_password),
                cmocka_unit_test(missing_parts_are_left_out),
                cmocka_unit_test(invalid_string_error_does_not_echo_it),
                cmocka_unit_test(small_buffer_is_an_error),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
