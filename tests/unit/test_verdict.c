/*
 * Unit tests for invariants/verdict: combining statuses and validate's exit
 * codes; and verdict_add_subject (invariant.h), the subjects paging opens
 * one alert for each.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "invariant.h"
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

static const cJSON *subjects(const struct verdict *v)
{
        return cJSON_GetObjectItemCaseSensitive(v->evidence, "subjects");
}

static const char *subject(const struct verdict *v, int i)
{
        const char *text = cJSON_GetStringValue(cJSON_GetArrayItem(subjects(v), i));

        assert_non_null(text);
        return text;
}

static int truncated(const struct verdict *v)
{
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(v->evidence, "subjects_truncated");

        if (t == NULL)
                return 0;
        assert_true(cJSON_IsTrue(t));
        return 1;
}

static void subjects_are_formatted_in_order_each_once(void **state)
{
        struct verdict v;

        (void)state;
        memset(&v, 0, sizeof v);
        verdict_add_subject(&v, "asset %s", "SIGIL");
        /* the evidence is made on first use, with the subjects in it */
        assert_true(cJSON_IsObject(v.evidence));
        assert_true(cJSON_IsArray(subjects(&v)));
        verdict_add_subject(&v, "batch %d", 12);
        verdict_add_subject(&v, "asset %s", "SIGIL"); /* again: listed once */
        verdict_add_subject(&v, "asset SIGIL");
        verdict_add_subject(&v, "asset %s", "sigil"); /* another subject: case counts */
        assert_int_equal(cJSON_GetArraySize(subjects(&v)), 3);
        assert_string_equal(subject(&v, 0), "asset SIGIL");
        assert_string_equal(subject(&v, 1), "batch 12");
        assert_string_equal(subject(&v, 2), "asset sigil");
        assert_false(truncated(&v));
        /* what else the evidence holds is left alone */
        cJSON_AddStringToObject(v.evidence, "note", "kept");
        verdict_add_subject(&v, "chain source");
        assert_string_equal(
                cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(v.evidence, "note")), "kept");
        assert_int_equal(cJSON_GetArraySize(subjects(&v)), 4);
        verdict_release(&v);
}

static void empty_subject_is_the_whole_bridge(void **state)
{
        struct verdict v;

        (void)state;
        memset(&v, 0, sizeof v);
        verdict_add_subject(&v, "%s", "");
        assert_null(subjects(&v));
        verdict_add_subject(&v, "stream %s", "relayer:deposits");
        verdict_add_subject(&v, "%s", "");
        assert_int_equal(cJSON_GetArraySize(subjects(&v)), 1);
        verdict_add_subject(NULL, "asset SIGIL"); /* ignored, like a NULL verdict elsewhere */
        verdict_release(&v);
}

static void at_most_sixteen_subjects_then_truncated(void **state)
{
        struct verdict v;
        char want[32];
        int i;

        (void)state;
        memset(&v, 0, sizeof v);
        for (i = 1; i <= VERDICT_SUBJECTS_MAX; i++)
                verdict_add_subject(&v, "asset A%d", i);
        assert_int_equal(cJSON_GetArraySize(subjects(&v)), VERDICT_SUBJECTS_MAX);
        assert_false(truncated(&v));
        /* a subject already listed is not one more */
        verdict_add_subject(&v, "asset A%d", 7);
        assert_false(truncated(&v));
        /* the 17th */
        verdict_add_subject(&v, "asset A%d", 17);
        assert_int_equal(cJSON_GetArraySize(subjects(&v)), VERDICT_SUBJECTS_MAX);
        assert_true(truncated(&v));
        for (i = 0; i < VERDICT_SUBJECTS_MAX; i++) {
                snprintf(want, sizeof want, "asset A%d", i + 1);
                assert_string_equal(subject(&v, i), want);
        }
        /* and more: still 16, one flag */
        verdict_add_subject(&v, "asset A%d", 18);
        assert_int_equal(cJSON_GetArraySize(subjects(&v)), VERDICT_SUBJECTS_MAX);
        assert_int_equal(cJSON_GetArraySize(v.evidence), 2);
        assert_true(truncated(&v));
        verdict_release(&v);
}

static void long_subjects_are_cut_at_a_whole_character(void **state)
{
        char text[300];
        struct verdict v;
        size_t len;

        (void)state;
        memset(&v, 0, sizeof v);
        memset(text, 'x', sizeof text - 1);
        text[sizeof text - 1] = '\0';
        verdict_add_subject(&v, "stream %s", text);
        assert_int_equal(strlen(subject(&v, 0)), VERDICT_SUBJECT_MAX - 1);
        assert_memory_equal(subject(&v, 0), "stream xxx", 10);
        /* the same long text again is the same (cut) subject */
        verdict_add_subject(&v, "stream %s", text);
        assert_int_equal(cJSON_GetArraySize(subjects(&v)), 1);

        /* "é" (2 bytes) across the cut: dropped whole, never half */
        len = VERDICT_SUBJECT_MAX - 2; /* "é" takes the bytes 118 and 119 */
        memset(text, 'y', len);
        memcpy(text + len, "\xc3\xa9tail", 7);
        verdict_add_subject(&v, "%s", text);
        assert_int_equal(strlen(subject(&v, 1)), len);
        assert_int_equal((unsigned char)subject(&v, 1)[len - 1], 'y');
        /* one byte earlier it fits whole */
        memset(text, 'z', len - 1);
        memcpy(text + len - 1, "\xc3\xa9tail", 7);
        verdict_add_subject(&v, "%s", text);
        assert_int_equal(strlen(subject(&v, 2)), VERDICT_SUBJECT_MAX - 1);
        assert_memory_equal(subject(&v, 2) + len - 1, "\xc3\xa9", 2);
        /* a 3-byte character cut after its first or second byte */
        memset(text, 'w', len - 1);
        memcpy(text + len - 1, "\xe2\x82\xac", 4); /* "€" at 117..119 */
        verdict_add_subject(&v, "%s", text);
        assert_int_equal(strlen(subject(&v, 3)), len - 1);
        verdict_release(&v);
}

/* cJSON allocations fail after `budget` more. */
static long budget = -1;

static void *failing_malloc(size_t n)
{
        if (budget == 0)
                return NULL;
        if (budget > 0)
                budget--;
        return malloc(n);
}

static void out_of_memory_is_ignored(void **state)
{
        cJSON_Hooks hooks = {failing_malloc, free};
        struct verdict v;
        long b;

        (void)state;
        cJSON_InitHooks(&hooks);
        memset(&v, 0, sizeof v);
        /* no evidence at all: nothing happens */
        budget = 0;
        verdict_add_subject(&v, "asset SIGIL");
        assert_null(v.evidence);
        /* every point an allocation can fail at: never a crash, never a leak (valgrind) */
        for (b = 1; b < 8; b++) {
                budget = b;
                verdict_add_subject(&v, "asset SIGIL");
                verdict_add_subject(&v, "asset USDX");
                budget = -1;
                verdict_release(&v);
        }
        budget = -1;
        cJSON_InitHooks(NULL);
        verdict_add_subject(&v, "asset SIGIL");
        assert_string_equal(subject(&v, 0), "asset SIGIL");
        verdict_release(&v);
}

static void subjects_must_be_an_array(void **state)
{
        struct verdict v;

        (void)state;
        memset(&v, 0, sizeof v);
        cJSON_AddStringToObject(verdict_evidence(&v), "subjects", "not a list");
        verdict_add_subject(&v, "asset SIGIL");
        assert_string_equal(cJSON_GetStringValue(subjects(&v)), "not a list");
        verdict_release(&v);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(names),
                cmocka_unit_test(violation_wins_over_everything),
                cmocka_unit_test(unknown_is_never_ok_nor_violated),
                cmocka_unit_test(exit_codes_match_the_cli_contract),
                cmocka_unit_test(subjects_are_formatted_in_order_each_once),
                cmocka_unit_test(empty_subject_is_the_whole_bridge),
                cmocka_unit_test(at_most_sixteen_subjects_then_truncated),
                cmocka_unit_test(long_subjects_are_cut_at_a_whole_character),
                cmocka_unit_test(out_of_memory_is_ignored),
                cmocka_unit_test(subjects_must_be_an_array),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
