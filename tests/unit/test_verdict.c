/* Unit tests for invariants/verdict: combining statuses and validate's exit codes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "verdict.h"

static void names(void **state)
{
        (void)state;
        assert_string_equal(verdict_status_name(VERDICT_OK), "ok");
        assert_string_equal(verdict_status_name(VERDICT_UNKNOWN), "could-not-evaluate");
        assert_string_equal(verdict_status_name(VERDICT_VIOLATED), "violated");
        assert_string_equal(verdict_status_name((enum verdict_status)42), "invalid");
        assert_string_equal(verdict_tier_name(VERDICT_TIER_HALT), "halt");
        assert_string_equal(verdict_tier_name(VERDICT_TIER_ALERT), "alert");
        assert_string_equal(verdict_tier_name(VERDICT_TIER_TRACK), "track");
        assert_string_equal(verdict_tier_name((enum verdict_tier)0), "invalid");
}

static void violation_wins_over_everything(void **state)
{
        (void)state;
        assert_int_equal(verdict_status_combine(VERDICT_OK, VERDICT_VIOLATED), VERDICT_VIOLATED);
        assert_int_equal(verdict_status_combine(VERDICT_VIOLATED, VERDICT_OK), VERDICT_VIOLATED);
        assert_int_equal(verdict_status_combine(VERDICT_UNKNOWN, VERDICT_VIOLATED),
                         VERDICT_VIOLATED);
        assert_int_equal(verdict_status_combine(VERDICT_VIOLATED, VERDICT_UNKNOWN),
                         VERDICT_VIOLATED);
}

static void unknown_is_never_ok_nor_violated(void **state)
{
        (void)state;
        assert_int_equal(verdict_status_combine(VERDICT_OK, VERDICT_UNKNOWN), VERDICT_UNKNOWN);
        assert_int_equal(verdict_status_combine(VERDICT_UNKNOWN, VERDICT_OK), VERDICT_UNKNOWN);
        assert_int_equal(verdict_status_combine(VERDICT_OK, VERDICT_OK), VERDICT_OK);
        /* Garbage must not pass as ok. */
        assert_int_equal(verdict_status_combine(VERDICT_OK, (enum verdict_status)7),
                         VERDICT_UNKNOWN);
}

static void exit_codes_match_the_cli_contract(void **state)
{
        (void)state;
        assert_int_equal(verdict_exit_code(VERDICT_OK), 0);
        assert_int_equal(verdict_exit_code(VERDICT_VIOLATED), 1);
        assert_int_equal(verdict_exit_code(VERDICT_UNKNOWN), 2);
        assert_int_equal(verdict_exit_code((enum verdict_status)9), 2);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(names),
                cmocka_unit_test(violation_wins_over_everything),
                cmocka_unit_test(unknown_is_never_ok_nor_violated),
                cmocka_unit_test(exit_codes_match_the_cli_contract),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
