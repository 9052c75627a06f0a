/*
 * latency_hist: the buckets the endpoint pool fills and the metrics export.
 * An observation goes in the first bucket whose bound it does not exceed
 * (a bound is inclusive), past the last bound in the overflow bucket;
 * negative and NaN count as 0 ms.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "latency_hist.h"

/* The index of the one bucket `ms` lands in, checked to be the only change. */
static unsigned bucket_of(double ms)
{
        struct latency_hist h;
        unsigned i, found = LATENCY_HIST_BOUNDS + 1;

        memset(&h, 0, sizeof h);
        latency_hist_add(&h, ms);
        assert_int_equal(h.count, 1);
        for (i = 0; i <= LATENCY_HIST_BOUNDS; i++) {
                if (h.bucket[i] == 0)
                        continue;
                assert_int_equal(h.bucket[i], 1);
                assert_int_equal(found, LATENCY_HIST_BOUNDS + 1);
                found = i;
        }
        assert_true(found <= LATENCY_HIST_BOUNDS);
        return found;
}

static void bounds_are_the_documented_ones(void **state)
{
        static const double want[LATENCY_HIST_BOUNDS] = {
                1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000,
        };
        unsigned i;

        (void)state;
        for (i = 0; i < LATENCY_HIST_BOUNDS; i++)
                assert_true(latency_hist_bounds_ms[i] == want[i]);
}

static void bucket_edges_are_inclusive_upper_bounds(void **state)
{
        unsigned i;

        (void)state;
        assert_int_equal(bucket_of(0), 0);
        assert_int_equal(bucket_of(0.5), 0);
        assert_int_equal(bucket_of(1), 0);
        assert_int_equal(bucket_of(1.0001), 1);
        assert_int_equal(bucket_of(2.5), 1);
        assert_int_equal(bucket_of(2.5001), 2);
        assert_int_equal(bucket_of(30000), LATENCY_HIST_BOUNDS - 1);
        assert_int_equal(bucket_of(30001), LATENCY_HIST_BOUNDS);
        assert_int_equal(bucket_of(1e12), LATENCY_HIST_BOUNDS);
        assert_int_equal(bucket_of(INFINITY), LATENCY_HIST_BOUNDS);
        /* Every bound lands in its own bucket, a hair above it in the next. */
        for (i = 0; i < LATENCY_HIST_BOUNDS; i++) {
                assert_int_equal(bucket_of(latency_hist_bounds_ms[i]), i);
                assert_int_equal(bucket_of(latency_hist_bounds_ms[i] * 1.000001), i + 1);
        }
}

static void negative_and_nan_count_as_zero(void **state)
{
        struct latency_hist h;

        (void)state;
        memset(&h, 0, sizeof h);
        latency_hist_add(&h, -5);
        latency_hist_add(&h, NAN);
        latency_hist_add(&h, -INFINITY);
        latency_hist_add(&h, 0);
        assert_int_equal(h.count, 4);
        assert_int_equal(h.bucket[0], 4);
        assert_true(h.sum_ms == 0.0); /* not NaN, not negative */
}

static void sum_and_count_follow_the_observations(void **state)
{
        struct latency_hist h;

        (void)state;
        memset(&h, 0, sizeof h);
        latency_hist_add(&h, 0.25);
        latency_hist_add(&h, 7);
        latency_hist_add(&h, 40000);
        assert_int_equal(h.count, 3);
        assert_true(h.sum_ms == 40007.25);
        assert_int_equal(h.bucket[0], 1);
        assert_int_equal(h.bucket[3], 1); /* (5, 10] */
        assert_int_equal(h.bucket[LATENCY_HIST_BOUNDS], 1);
}

static void merge_adds_every_bucket_count_and_sum(void **state)
{
        struct latency_hist a, b, before;
        unsigned i;

        (void)state;
        memset(&a, 0, sizeof a);
        memset(&b, 0, sizeof b);
        latency_hist_add(&a, 1);
        latency_hist_add(&a, 3);
        latency_hist_add(&b, 3);
        latency_hist_add(&b, 600);
        latency_hist_add(&b, 30001);
        before = b;
        latency_hist_merge(&a, &b);
        assert_int_equal(a.count, 5);
        assert_true(a.sum_ms == 1 + 3 + 3 + 600 + 30001);
        assert_int_equal(a.bucket[0], 1);
        assert_int_equal(a.bucket[2], 2); /* (2.5, 5] */
        assert_int_equal(a.bucket[9], 1); /* (500, 1000] */
        assert_int_equal(a.bucket[LATENCY_HIST_BOUNDS], 1);
        assert_memory_equal(&b, &before, sizeof b); /* the source is untouched */
        /* Merging an empty histogram changes nothing. */
        memset(&b, 0, sizeof b);
        before = a;
        latency_hist_merge(&a, &b);
        for (i = 0; i <= LATENCY_HIST_BOUNDS; i++)
                assert_int_equal(a.bucket[i], before.bucket[i]);
        assert_int_equal(a.count, before.count);
        assert_true(a.sum_ms == before.sum_ms);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(bounds_are_the_documented_ones),
                cmocka_unit_test(bucket_edges_are_inclusive_upper_bounds),
                cmocka_unit_test(negative_and_nan_count_as_zero),
                cmocka_unit_test(sum_and_count_follow_the_observations),
                cmocka_unit_test(merge_adds_every_bucket_count_and_sum),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
