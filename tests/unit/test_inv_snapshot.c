/*
 * Unit tests for invariants/snapshot.c: the allocation helpers, freeing a
 * fully populated snapshot (valgrind checks nothing leaks), and the batch
 * index lookup.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "snapshot.h"

static void role_names(void **state)
{
        (void)state;
        assert_string_equal(snap_chain_role_name(SNAP_SOURCE), "source");
        assert_string_equal(snap_chain_role_name(SNAP_EXECUTION), "execution");
        assert_string_equal(snap_chain_role_name(SNAP_NCHAINS), "invalid");
}

static int all_zero(const void *p, size_t n)
{
        const uint8_t *b = p;
        size_t i;

        for (i = 0; i < n; i++)
                if (b[i] != 0)
                        return 0;
        return 1;
}

static void alloc_sizes_and_zeroes(void **state)
{
        struct snapshot s;
        struct snap_view *src, *exe;

        (void)state;
        memset(&s, 0, sizeof s);
        src = &s.chains[SNAP_SOURCE].views[0];
        exe = &s.chains[SNAP_EXECUTION].views[0];
        assert_int_equal(snapshot_alloc_assets_accounts(&s, 2, 3), RW_OK);
        assert_int_equal(s.nassets, 2);
        assert_int_equal(s.naccounts, 3);
        assert_non_null(s.assets);
        assert_non_null(s.accounts);
        assert_non_null(s.ledger.assets);
        assert_true(all_zero(s.assets, 2 * sizeof *s.assets));
        assert_true(all_zero(s.ledger.assets, 2 * sizeof *s.ledger.assets));

        s.ledger.batches = calloc(4, sizeof *s.ledger.batches);
        assert_non_null(s.ledger.batches);
        s.ledger.nbatches = 4;
        assert_int_equal(snapshot_alloc_view(&s, SNAP_SOURCE, src), RW_OK);
        assert_int_equal(snapshot_alloc_view(&s, SNAP_EXECUTION, exe), RW_OK);
        assert_non_null(src->token_values);
        assert_non_null(src->nonce_latest);
        assert_non_null(src->nonce_pending);
        assert_non_null(src->anchored_roots);
        assert_true(all_zero(src->anchored_roots, 4 * sizeof *src->anchored_roots));
        assert_true(all_zero(src->nonce_pending, 3 * sizeof *src->nonce_pending));
        /* execution views hold no roots */
        assert_null(exe->anchored_roots);
        /* writing the last element of each array is in bounds (ASan/valgrind) */
        src->token_values[1] = u256_from_u64(1);
        src->nonce_latest[2] = 1;
        src->anchored_roots[3][31] = 1;
        exe->nonce_pending[2] = 1;
        /* allocating again replaces the arrays without leaking, and keeps the anchors */
        src->anchors = calloc(1, sizeof *src->anchors);
        assert_non_null(src->anchors);
        src->nanchors = 1;
        assert_int_equal(snapshot_alloc_view(&s, SNAP_SOURCE, src), RW_OK);
        assert_true(all_zero(src->token_values, 2 * sizeof *src->token_values));
        assert_non_null(src->anchors);
        assert_int_equal(src->nanchors, 1);
        assert_int_equal(snapshot_alloc_assets_accounts(&s, 1, 0), RW_OK);
        assert_int_equal(s.nassets, 1);
        assert_null(s.accounts);
        snapshot_free(&s);
        assert_true(all_zero(&s, sizeof s));
        snapshot_free(NULL);
}

static void free_releases_everything(void **state)
{
        struct snapshot s;
        struct snap_view *v;

        (void)state;
        memset(&s, 0, sizeof s);
        assert_int_equal(snapshot_alloc_assets_accounts(&s, 1, 1), RW_OK);
        s.ledger.batches = calloc(2, sizeof *s.ledger.batches);
        s.ledger.nbatches = 2;
        s.ledger.leaves = calloc(2, sizeof *s.ledger.leaves);
        s.ledger.withdrawals = calloc(2, sizeof *s.ledger.withdrawals);
        s.ledger.duplicates = calloc(1, sizeof *s.ledger.duplicates);
        s.ledger.roots_known = calloc(1, sizeof *s.ledger.roots_known);
        s.ledger.operations = calloc(1, sizeof *s.ledger.operations);
        s.ledger.cycles = calloc(1, sizeof *s.ledger.cycles);
        s.streams = calloc(2, sizeof *s.streams);
        assert_non_null(s.streams);
        s.nstreams = 2;
        s.streams[0].groups = calloc(3, sizeof *s.streams[0].groups);
        s.streams[1].groups = calloc(1, sizeof *s.streams[1].groups);
        /* views past nviews (a confirmation read that failed half-way) are freed too */
        s.chains[SNAP_SOURCE].nviews = 1;
        for (size_t i = 0; i < 3; i++) {
                v = &s.chains[SNAP_SOURCE].views[i];
                assert_int_equal(snapshot_alloc_view(&s, SNAP_SOURCE, v), RW_OK);
                v->anchors = calloc(2, sizeof *v->anchors);
                v->nanchors = 2;
        }
        assert_int_equal(
                snapshot_alloc_view(&s, SNAP_EXECUTION, &s.chains[SNAP_EXECUTION].views[0]), RW_OK);
        snapshot_free(&s); /* valgrind: no leak */
        assert_null(s.streams);
        assert_null(s.chains[SNAP_SOURCE].views[2].anchors);
        assert_int_equal(s.chains[SNAP_SOURCE].nviews, 0);
}

static void zero_counts_allocate_nothing(void **state)
{
        struct snapshot s;

        (void)state;
        memset(&s, 0, sizeof s);
        assert_int_equal(snapshot_alloc_assets_accounts(&s, 0, 0), RW_OK);
        assert_int_equal(snapshot_alloc_view(&s, SNAP_SOURCE, &s.chains[0].views[0]), RW_OK);
        assert_null(s.chains[0].views[0].anchored_roots);
        snapshot_free(&s);
}

static void batch_index(void **state)
{
        struct snapshot s;
        static const uint64_t sorted[] = {3, 4, 7, 100};
        static const uint64_t unsorted[] = {9, 2, 5};
        size_t i;

        (void)state;
        memset(&s, 0, sizeof s);
        assert_int_equal(snapshot_batch_index(&s, 1), -1);
        s.ledger.batches = calloc(4, sizeof *s.ledger.batches);
        assert_non_null(s.ledger.batches);
        s.ledger.nbatches = 4;
        for (i = 0; i < 4; i++)
                s.ledger.batches[i].batch_number = sorted[i];
        for (i = 0; i < 4; i++)
                assert_int_equal(snapshot_batch_index(&s, sorted[i]), (long)i);
        assert_int_equal(snapshot_batch_index(&s, 0), -1);
        assert_int_equal(snapshot_batch_index(&s, 5), -1);
        assert_int_equal(snapshot_batch_index(&s, 101), -1);
        /* a ledger that does not list batches in order is still searched */
        s.ledger.nbatches = 3;
        for (i = 0; i < 3; i++)
                s.ledger.batches[i].batch_number = unsorted[i];
        for (i = 0; i < 3; i++)
                assert_int_equal(snapshot_batch_index(&s, unsorted[i]), (long)i);
        assert_int_equal(snapshot_batch_index(&s, 3), -1);
        snapshot_free(&s);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(role_names),
                cmocka_unit_test(alloc_sizes_and_zeroes),
                cmocka_unit_test(free_releases_everything),
                cmocka_unit_test(zero_counts_allocate_nothing),
                cmocka_unit_test(batch_index),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
