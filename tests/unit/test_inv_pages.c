/*
 * test_inv_pages: folding the verdicts of a cycle's pages of history into
 * one (invariants/pages.h), and evaluating a later page's checks only.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "inv_fixture.h"
#include "invariant.h"
#include "pages.h"

static const struct invariant *check_named(const char *name)
{
        const struct invariant *inv = invariant_find(name);

        assert_non_null(inv);
        return inv;
}

static struct verdict made(const char *name, enum verdict_status st, const char *summary,
                           const char *subject)
{
        struct verdict v;

        memset(&v, 0, sizeof v);
        v.invariant = name;
        v.tier = VERDICT_TIER_HALT;
        verdict_set(&v, st, "%s", summary);
        if (subject != NULL)
                verdict_add_subject(&v, "%s", subject);
        return v;
}

static int has_subject(const struct verdict *v, const char *subject)
{
        const cJSON *arr = cJSON_GetObjectItemCaseSensitive(v->evidence, "subjects");
        const cJSON *item;

        cJSON_ArrayForEach(item, arr)
        {
                if (strcmp(cJSON_GetStringValue(item), subject) == 0)
                        return 1;
        }
        return 0;
}

static void worse_status_wins(void **state)
{
        const struct invariant *inv = check_named("PROOF_VERIFICATION_FAIL");
        struct verdict acc = made(inv->name, VERDICT_OK, "page 1 fine", NULL);
        struct verdict page =
                made(inv->name, VERDICT_VIOLATED, "batch 700: bad proof", "batch 700");

        (void)state;
        pages_merge(inv, &acc, &page);
        assert_int_equal(acc.status, VERDICT_VIOLATED);
        assert_string_equal(acc.summary, "batch 700: bad proof");
        assert_true(has_subject(&acc, "batch 700"));
        assert_null(page.evidence);
        /* a later page that is only could-not-evaluate does not hide it */
        page = made(inv->name, VERDICT_UNKNOWN, "no roots read", NULL);
        pages_merge(inv, &acc, &page);
        assert_int_equal(acc.status, VERDICT_VIOLATED);
        /* nor does a fine one */
        page = made(inv->name, VERDICT_OK, "page 9 fine", NULL);
        pages_merge(inv, &acc, &page);
        assert_int_equal(acc.status, VERDICT_VIOLATED);
        assert_string_equal(acc.summary, "batch 700: bad proof");
        verdict_release(&acc);
}

static void unknown_beats_ok(void **state)
{
        const struct invariant *inv = check_named("DUPLICATE_BATCH");
        struct verdict acc = made(inv->name, VERDICT_OK, "fine", NULL);
        struct verdict page = made(inv->name, VERDICT_UNKNOWN, "endpoint failed", NULL);

        (void)state;
        pages_merge(inv, &acc, &page);
        assert_int_equal(acc.status, VERDICT_UNKNOWN);
        assert_string_equal(acc.summary, "endpoint failed");
        verdict_release(&acc);
}

static void violations_on_two_pages_name_both(void **state)
{
        const struct invariant *inv = check_named("PROOF_VERIFICATION_FAIL");
        struct verdict acc = made(inv->name, VERDICT_VIOLATED, "batch 3: bad root", "batch 3");
        struct verdict page =
                made(inv->name, VERDICT_VIOLATED, "batch 900: bad proof", "batch 900");

        (void)state;
        page.disagreement = 1;
        pages_merge(inv, &acc, &page);
        assert_int_equal(acc.status, VERDICT_VIOLATED);
        assert_string_equal(acc.summary, "batch 3: bad root"); /* the first page's */
        assert_true(has_subject(&acc, "batch 3"));
        assert_true(has_subject(&acc, "batch 900"));
        assert_int_equal(acc.disagreement, 1);
        verdict_release(&acc);
}

static void truncated_subjects_stay_truncated(void **state)
{
        const struct invariant *inv = check_named("PROOF_VERIFICATION_FAIL");
        struct verdict acc = made(inv->name, VERDICT_VIOLATED, "batch 1", "batch 1");
        struct verdict page = made(inv->name, VERDICT_VIOLATED, "many", NULL);
        int i;

        (void)state;
        for (i = 0; i < VERDICT_SUBJECTS_MAX + 3; i++)
                verdict_add_subject(&page, "batch %d", 100 + i);
        pages_merge(inv, &acc, &page);
        assert_true(
                cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(acc.evidence, "subjects_truncated")));
        assert_int_equal(
                cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(acc.evidence, "subjects")),
                VERDICT_SUBJECTS_MAX);
        verdict_release(&acc);
}

static void worst_value_among_ok_pages(void **state)
{
        const struct invariant *latency = check_named("SETTLEMENT_LATENCY");
        const struct invariant *rate = check_named("PROOF_SUCCESS_RATE");
        struct verdict acc = made(latency->name, VERDICT_OK, "max 500 ms", NULL);
        struct verdict page = made(latency->name, VERDICT_OK, "max 9000 ms", NULL);

        (void)state;
        acc.has_value = page.has_value = 1;
        acc.value = 500;
        page.value = 9000;
        pages_merge(latency, &acc, &page);
        assert_true(acc.value == 9000);
        assert_string_equal(acc.summary, "max 9000 ms");
        page = made(latency->name, VERDICT_OK, "max 10 ms", NULL);
        page.has_value = 1;
        page.value = 10;
        pages_merge(latency, &acc, &page);
        assert_true(acc.value == 9000);
        verdict_release(&acc);

        acc = made(rate->name, VERDICT_OK, "0.9", NULL);
        page = made(rate->name, VERDICT_OK, "1.0", NULL);
        acc.has_value = page.has_value = 1;
        acc.value = 0.9;
        page.value = 1.0;
        pages_merge(rate, &acc, &page);
        assert_true(acc.value == 0.9); /* lower is worse */
        verdict_release(&acc);
}

static void page_not_evaluated_changes_nothing(void **state)
{
        const struct invariant *inv = check_named("SUPPLY_MISMATCH");
        struct verdict acc = made(inv->name, VERDICT_VIOLATED, "asset X", "asset X");
        struct verdict page;

        (void)state;
        memset(&page, 0, sizeof page);
        pages_merge(inv, &acc, &page);
        assert_int_equal(acc.status, VERDICT_VIOLATED);
        assert_string_equal(acc.summary, "asset X");
        verdict_release(&acc);
}

static void totals_name_the_pages(void **state)
{
        struct verdict v[64];
        struct page_totals one = {1, 10, 40, 10}, many = {391, 100000, 1000000, 100000};
        size_t i, proof = invariant_count, supply = invariant_count;
        const cJSON *pages;

        (void)state;
        assert_true(invariant_count < 64);
        memset(v, 0, sizeof v);
        for (i = 0; i < invariant_count; i++) {
                v[i] = made(invariant_table[i]->name, VERDICT_OK, "fine", NULL);
                if (strcmp(invariant_table[i]->name, "PROOF_VERIFICATION_FAIL") == 0)
                        proof = i;
                if (strcmp(invariant_table[i]->name, "SUPPLY_MISMATCH") == 0)
                        supply = i;
        }
        assert_true(proof < invariant_count && supply < invariant_count);
        pages_note_totals(v, &one);
        assert_string_equal(v[proof].summary, "fine");
        pages_note_totals(v, &many);
        assert_string_equal(v[proof].summary, "391 pages (100000 batches, 1000000 withdrawals, "
                                              "100000 anchors in all), worst: fine");
        assert_string_equal(v[supply].summary, "fine"); /* reads no history */
        pages = cJSON_GetObjectItemCaseSensitive(v[proof].evidence, "pages");
        assert_non_null(pages);
        assert_int_equal(cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(pages, "batches")),
                         100000);
        for (i = 0; i < invariant_count; i++)
                verdict_release(&v[i]);
}

/* A later page evaluates the checks that read history, and leaves the others alone. */
static void history_only_evaluation(void **state)
{
        struct inv_fx *f = *state;
        struct verdict v[64];
        size_t i;

        assert_true(invariant_count < 63);
        invariants_evaluate_history(&f->s, NULL, v);
        for (i = 0; i < invariant_count; i++) {
                if (invariant_table[i]->reads_history)
                        assert_non_null(v[i].invariant);
                else
                        assert_null(v[i].invariant);
                verdict_release(&v[i]);
        }
        assert_null(v[invariant_count].invariant); /* ENDPOINT_DISAGREEMENT: not here */
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(worse_status_wins),
                cmocka_unit_test(unknown_beats_ok),
                cmocka_unit_test(violations_on_two_pages_name_both),
                cmocka_unit_test(truncated_subjects_stay_truncated),
                cmocka_unit_test(worst_value_among_ok_pages),
                cmocka_unit_test(page_not_evaluated_changes_nothing),
                cmocka_unit_test(totals_name_the_pages),
                cmocka_unit_test_setup_teardown(history_only_evaluation, inv_fx_setup,
                                                inv_fx_teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
