/*
 * rwclock: the monotonic deadline handed to pthread_cond_timedwait (always
 * normalised, never before now + ms) and the UTC text of timestamps.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "rwclock.h"
#include "rwerr.h"

static uint64_t ns_of(struct timespec t)
{
        return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void deadlines_are_normalised_and_never_early(void **state)
{
        static const uint64_t ms[] = {0, 1, 999, 1000, 1001, 15000, 86400000};
        size_t i;
        int k;

        (void)state;
        for (i = 0; i < sizeof ms / sizeof ms[0]; i++) {
                /* many tries, so some land near a second's end and carry */
                for (k = 0; k < 2000; k++) {
                        struct timespec before, until, after;

                        (void)clock_gettime(CLOCK_MONOTONIC, &before);
                        until = rwclock_mono_deadline(ms[i]);
                        (void)clock_gettime(CLOCK_MONOTONIC, &after);
                        assert_true(until.tv_nsec >= 0 && until.tv_nsec < 1000000000L);
                        assert_true(ns_of(until) >= ns_of(before) + ms[i] * 1000000u);
                        assert_true(ns_of(until) <= ns_of(after) + ms[i] * 1000000u);
                }
        }
}

static void utc_text(void **state)
{
        char out[RWCLOCK_UTC_SIZE];
        struct rwerr err;

        (void)state;
        assert_int_equal(rwclock_format_utc(1796312104910LL, out, &err), 0);
        assert_string_equal(out, "2026-12-03T15:35:04.910Z");
        assert_int_equal(rwclock_format_utc(-1, out, &err), RW_ERR_RANGE);
        assert_string_equal(out, "1970-01-01T00:00:00.000Z");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(deadlines_are_normalised_and_never_early),
                cmocka_unit_test(utc_text),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
