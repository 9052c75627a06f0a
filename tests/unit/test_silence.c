/*
 * Unit tests for watchdog/alert/silence: durations, adding, matching and
 * ending silences, the file written and read back (mode 0600, ended
 * silences dropped), and every way a hand-edited file is refused, naming
 * the file and the field.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "rwclock.h"
#include "rwerr.h"
#include "silence.h"

#define MIN_MS ((int64_t)60 * 1000)
#define HOUR_MS ((int64_t)3600 * 1000)
#define DAY_MS ((int64_t)24 * HOUR_MS)
#define T0 ((int64_t)1800000000000) /* a fixed wall time for the pure functions */

/* ------------------------------------------------------------ helpers */

struct dir {
        char path[64];
};

static struct dir dir_make(void)
{
        struct dir d = {"/tmp/test_silence.XXXXXX"};

        assert_non_null(mkdtemp(d.path));
        return d;
}

static void dir_remove(struct dir *d)
{
        char p[128];

        (void)snprintf(p, sizeof p, "%s/silences.json", d->path);
        (void)unlink(p);
        (void)snprintf(p, sizeof p, "%s/silences.json.tmp", d->path);
        (void)unlink(p);
        assert_int_equal(rmdir(d->path), 0);
}

static void write_file(const struct dir *d, const char *text)
{
        char p[128];
        FILE *f;

        (void)snprintf(p, sizeof p, "%s/silences.json", d->path);
        f = fopen(p, "w");
        assert_non_null(f);
        assert_int_equal(fputs(text, f) >= 0, 1);
        assert_int_equal(fclose(f), 0);
}

static struct silence_set *new_set(void)
{
        struct silence_set *s = calloc(1, sizeof *s);

        assert_non_null(s);
        return s;
}

/* `got` contains `want`; prints both when it does not. */
static void assert_has(const char *got, const char *want)
{
        if (strstr(got, want) == NULL)
                fail_msg("expected '%s' in '%s'", want, got);
}

/* ------------------------------------------------------------ durations */

static void durations_read(void **state)
{
        static const struct {
                const char *text;
                int64_t ms;
        } good[] = {
                {"45s", 45000},         {"90m", 90 * MIN_MS}, {"2h", 2 * HOUR_MS},
                {"1d", DAY_MS},         {"7d", 7 * DAY_MS},   {"0m", 0},
                {"0010m", 10 * MIN_MS},
        };
        static const char *const bad[] = {"",     "h",   "5",   "5 parsecs", "2H", "-1m", "+1m",
                                          "1.5h", "2hh", " 2h", "2h ",       "2w", "m5",  "1d2h"};
        struct rwerr err;
        int64_t ms;
        size_t i;

        (void)state;
        for (i = 0; i < sizeof good / sizeof good[0]; i++) {
                ms = -1;
                assert_int_equal(silence_parse_duration(good[i].text, &ms, &err), RW_OK);
                assert_int_equal(ms, good[i].ms);
        }
        for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                ms = -7;
                if (silence_parse_duration(bad[i], &ms, &err) != RW_ERR_INVALID)
                        fail_msg("'%s' was read as a duration", bad[i]);
                assert_int_equal(ms, -7);
        }
        assert_int_equal(silence_parse_duration("5 parsecs", &ms, &err), RW_ERR_INVALID);
        assert_has(err.msg, "'5 parsecs' is not a duration");
        assert_int_equal(silence_parse_duration("99999999999999999999d", &ms, &err), RW_ERR_RANGE);
        assert_int_equal(silence_parse_duration("9999999999999999d", &ms, &err), RW_ERR_RANGE);
}

/* ------------------------------------------------------------ the set */

static void id_shape(const char *id)
{
        size_t i;

        assert_int_equal(strlen(id), 18);
        assert_memory_equal(id, "s-", 2);
        for (i = 2; i < 18; i++)
                assert_non_null(strchr("0123456789abcdef", id[i]));
}

static void add_match_expire(void **state)
{
        struct silence_set *set = new_set();
        struct silence a, b;
        const struct silence *m;
        struct rwerr err;

        (void)state;
        assert_int_equal(silence_add(set, "SUPPLY_MISMATCH", "asset SIGIL", "migration", "alice",
                                     T0, 2 * HOUR_MS, &a, &err),
                         RW_OK);
        assert_int_equal(silence_add(set, "HALT_PATH_DOWN", NULL, "redis upgrade", NULL, T0,
                                     30 * MIN_MS, &b, &err),
                         RW_OK);
        assert_int_equal(set->n, 2);
        id_shape(a.id);
        id_shape(b.id);
        assert_string_not_equal(a.id, b.id);
        assert_string_equal(a.created_by, "alice");
        assert_string_equal(b.created_by, "unknown");
        assert_string_equal(b.subject, "");
        assert_int_equal(a.created_ms, T0);
        assert_int_equal(a.ends_ms, T0 + 2 * HOUR_MS);
        /* one subject */
        m = silence_match(set, "SUPPLY_MISMATCH", "asset SIGIL", T0 + HOUR_MS);
        assert_non_null(m);
        assert_string_equal(m->id, a.id);
        assert_null(silence_match(set, "SUPPLY_MISMATCH", "asset OTHER", T0 + HOUR_MS));
        assert_null(silence_match(set, "SUPPLY_MISMATCH", "", T0 + HOUR_MS));
        assert_null(silence_match(set, "NONCE_DESYNC", "asset SIGIL", T0 + HOUR_MS));
        /* every subject */
        assert_non_null(silence_match(set, "HALT_PATH_DOWN", "redis", T0 + MIN_MS));
        assert_non_null(silence_match(set, "HALT_PATH_DOWN", NULL, T0 + MIN_MS));
        /* the end is the end: in force strictly before ends_ms */
        assert_non_null(silence_match(set, "SUPPLY_MISMATCH", "asset SIGIL", a.ends_ms - 1));
        assert_null(silence_match(set, "SUPPLY_MISMATCH", "asset SIGIL", a.ends_ms));
        /* expire */
        assert_int_equal(silence_expire(set, a.id, T0 + MIN_MS, &err), RW_OK);
        assert_null(silence_match(set, "SUPPLY_MISMATCH", "asset SIGIL", T0 + MIN_MS));
        assert_int_equal(silence_expire(set, a.id, T0 + 2 * MIN_MS, &err), RW_ERR_INVALID);
        assert_has(err.msg, "already ended");
        assert_int_equal(silence_expire(set, "s-0000000000000000", T0, &err), RW_ERR_INVALID);
        assert_has(err.msg, "no silence s-0000000000000000");
        free(set);
}

static void match_prefers_the_longest(void **state)
{
        struct silence_set *set = new_set();
        struct silence short_one, long_one, subject_one;
        const struct silence *m;
        struct rwerr err;

        (void)state;
        assert_int_equal(
                silence_add(set, "RPC_TIMEOUT", "", "a", "u", T0, HOUR_MS, &short_one, &err),
                RW_OK);
        assert_int_equal(
                silence_add(set, "RPC_TIMEOUT", "", "b", "u", T0, 3 * HOUR_MS, &long_one, &err),
                RW_OK);
        assert_int_equal(silence_add(set, "RPC_TIMEOUT", "chain source", "c", "u", T0, 2 * HOUR_MS,
                                     &subject_one, &err),
                         RW_OK);
        m = silence_match(set, "RPC_TIMEOUT", "chain source", T0);
        assert_non_null(m);
        assert_string_equal(m->id, long_one.id);
        assert_int_equal(silence_expire(set, long_one.id, T0, &err), RW_OK);
        m = silence_match(set, "RPC_TIMEOUT", "chain source", T0);
        assert_string_equal(m->id, subject_one.id);
        m = silence_match(set, "RPC_TIMEOUT", "chain execution", T0);
        assert_string_equal(m->id, short_one.id);
        free(set);
}

static void add_refuses(void **state)
{
        char long_reason[SILENCE_REASON_MAX + 1], long_subject[ALERT_SUBJECT_MAX + 1];
        char long_name[ALERT_NAME_MAX + 1], max_name[ALERT_NAME_MAX];
        struct silence_set *set = new_set();
        struct rwerr err;

        (void)state;
        memset(long_reason, 'r', sizeof long_reason - 1);
        long_reason[sizeof long_reason - 1] = '\0';
        memset(long_subject, 's', sizeof long_subject - 1);
        long_subject[sizeof long_subject - 1] = '\0';
        memset(long_name, 'N', sizeof long_name - 1);
        long_name[sizeof long_name - 1] = '\0';
        memset(max_name, 'N', sizeof max_name - 1);
        max_name[sizeof max_name - 1] = '\0';
#define REFUSED(code, name, subject, reason, for_ms, text)                                         \
        do {                                                                                       \
                assert_int_equal(                                                                  \
                        silence_add(set, name, subject, reason, "u", T0, for_ms, NULL, &err),      \
                        code);                                                                     \
                assert_has(err.msg, text);                                                         \
                assert_int_equal(set->n, 0);                                                       \
        } while (0)
        REFUSED(RW_ERR_INVALID, "supply_mismatch", "", "r", HOUR_MS, "is not an alert name");
        REFUSED(RW_ERR_INVALID, "", "", "r", HOUR_MS, "is not an alert name");
        REFUSED(RW_ERR_INVALID, "A-B", "", "r", HOUR_MS, "is not an alert name");
        REFUSED(RW_ERR_INVALID, long_name, "", "r", HOUR_MS, "is not an alert name");
        REFUSED(RW_ERR_INVALID, NULL, "", "r", HOUR_MS, "is not an alert name");
        REFUSED(RW_ERR_INVALID, "X", "", "", HOUR_MS, "the reason is empty");
        REFUSED(RW_ERR_INVALID, "X", "", "   ", HOUR_MS, "the reason is empty");
        REFUSED(RW_ERR_INVALID, "X", "", NULL, HOUR_MS, "the reason is empty");
        REFUSED(RW_ERR_INVALID, "X", "", "two\nlines", HOUR_MS, "control character");
        REFUSED(RW_ERR_RANGE, "X", "", long_reason, HOUR_MS, "keep it under 256");
        REFUSED(RW_ERR_RANGE, "X", long_subject, "r", HOUR_MS, "the subject is longer");
        REFUSED(RW_ERR_INVALID, "X", "a\tb", "r", HOUR_MS, "the subject holds a control");
        REFUSED(RW_ERR_RANGE, "X", "", "r", MIN_MS - 1, "from 1 minute to 7 days");
        REFUSED(RW_ERR_RANGE, "X", "", "r", SILENCE_FOR_MAX_MS + 1, "from 1 minute to 7 days");
        REFUSED(RW_ERR_RANGE, "X", "", "r", -HOUR_MS, "from 1 minute to 7 days");
#undef REFUSED
        /* the bounds themselves are fine */
        assert_int_equal(silence_add(set, max_name, "", "r", "u", T0, MIN_MS, NULL, &err), RW_OK);
        assert_int_equal(silence_add(set, "X", "", "r", "u", T0, SILENCE_FOR_MAX_MS, NULL, &err),
                         RW_OK);
        free(set);
}

static void full_set_makes_room_as_silences_end(void **state)
{
        struct silence_set *set = new_set();
        struct rwerr err;
        size_t i;

        (void)state;
        for (i = 0; i < SILENCE_MAX; i++)
                assert_int_equal(silence_add(set, "X", "", "r", "u", T0, (int64_t)(i + 1) * MIN_MS,
                                             NULL, &err),
                                 RW_OK);
        assert_int_equal(silence_add(set, "X", "", "r", "u", T0, HOUR_MS * 2, NULL, &err),
                         RW_ERR_RANGE);
        assert_has(err.msg, "64 silences are in force already");
        assert_int_equal(set->n, SILENCE_MAX);
        /* three minutes later the first three have ended: they make room */
        assert_int_equal(silence_add(set, "X", "", "r", "u", T0 + 3 * MIN_MS, HOUR_MS, NULL, &err),
                         RW_OK);
        assert_int_equal(set->n, SILENCE_MAX - 3 + 1);
        free(set);
}

static void user_is_kept_safely(void **state)
{
        char long_user[200];
        struct silence_set *set = new_set();
        struct silence s;
        struct rwerr err;

        (void)state;
        memset(long_user, 'u', sizeof long_user - 1);
        long_user[sizeof long_user - 1] = '\0';
        assert_int_equal(silence_add(set, "X", "", "r", long_user, T0, HOUR_MS, &s, &err), RW_OK);
        assert_int_equal(strlen(s.created_by), sizeof s.created_by - 1);
        assert_int_equal(silence_add(set, "X", "", "r", "eve\n\x1b[31m", T0, HOUR_MS, &s, &err),
                         RW_OK);
        assert_string_equal(s.created_by, "eve??[31m");
        assert_int_equal(silence_add(set, "X", "", "r", "", T0, HOUR_MS, &s, &err), RW_OK);
        assert_string_equal(s.created_by, "unknown");
        free(set);
}

static void list_json_holds_those_in_force(void **state)
{
        struct silence_set *set = new_set();
        struct silence a, b;
        struct rwerr err;
        cJSON *list, *o;

        (void)state;
        assert_int_equal(silence_add(set, "A", "one", "ra", "u", T0, HOUR_MS, &a, &err), RW_OK);
        assert_int_equal(silence_add(set, "B", "", "rb", "u", T0, 3 * HOUR_MS, &b, &err), RW_OK);
        list = silence_list_json(set, T0 + 2 * HOUR_MS);
        assert_non_null(list);
        assert_int_equal(cJSON_GetArraySize(list), 1);
        o = cJSON_GetArrayItem(list, 0);
        assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(o, "id")), b.id);
        assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(o, "reason")), "rb");
        assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(o, "ends_at")),
                            "2027-01-15T11:00:00.000Z");
        assert_true(cJSON_GetObjectItem(o, "ends_ms")->valuedouble == (double)b.ends_ms);
        cJSON_Delete(list);
        list = silence_list_json(set, T0);
        assert_int_equal(cJSON_GetArraySize(list), 2);
        cJSON_Delete(list);
        free(set);
}

/* ------------------------------------------------------------ the file */

static void absent_file_is_empty(void **state)
{
        struct silence_set *set = new_set();
        struct dir d;
        struct rwerr err;

        (void)state;
        d = dir_make();
        set->n = 3; /* replaced by the empty set */
        assert_int_equal(silence_load(d.path, set, &err), RW_OK);
        assert_int_equal(set->n, 0);
        dir_remove(&d);
        free(set);
}

static void saved_and_read_back(void **state)
{
        struct silence_set *set = new_set(), *back = new_set();
        int64_t now = rwclock_wall_ms();
        struct silence a, b, gone;
        char path[128];
        struct stat st;
        struct rwerr err;
        struct dir d;

        (void)state;
        d = dir_make();
        assert_int_equal(silence_add(set, "SUPPLY_MISMATCH", "asset \"SIGIL\" \\ é", "a reason",
                                     "alice", now, 2 * HOUR_MS, &a, &err),
                         RW_OK);
        assert_int_equal(
                silence_add(set, "HALT_PATH_DOWN", "", "b reason", "bob", now, DAY_MS, &b, &err),
                RW_OK);
        /* added "two hours ago" for one hour: in the set, ended */
        assert_int_equal(silence_add(set, "GONE", "", "ended", "bob", now - 2 * HOUR_MS, HOUR_MS,
                                     &gone, &err),
                         RW_OK);
        assert_int_equal(set->n, 3);
        assert_int_equal(silence_save(d.path, set, &err), RW_OK);
        (void)snprintf(path, sizeof path, "%s/silences.json", d.path);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);
        assert_int_equal(silence_load(d.path, back, &err), RW_OK);
        assert_int_equal(back->n, 2); /* the ended one is not written */
        assert_memory_equal(&back->items[0], &a, sizeof a);
        assert_memory_equal(&back->items[1], &b, sizeof b);
        dir_remove(&d);
        free(set);
        free(back);
}

/* A file that is refused names `field` and the file, and leaves the set as it was. */
static void refused(const char *text, const char *field)
{
        struct silence_set *set = new_set();
        struct rwerr err;
        struct dir d;
        char path[128];

        d = dir_make();
        (void)snprintf(path, sizeof path, "%s/silences.json", d.path);
        write_file(&d, text);
        set->n = 1;
        (void)snprintf(set->items[0].id, sizeof set->items[0].id, "s-before");
        if (silence_load(d.path, set, &err) == RW_OK)
                fail_msg("accepted:\n%s", text);
        assert_has(err.msg, path);
        assert_has(err.msg, field);
        assert_int_equal(set->n, 1);
        assert_string_equal(set->items[0].id, "s-before");
        dir_remove(&d);
        free(set);
}

#define GOOD_ID "s-0123456789abcdef"
#define ENTRY(id, name, reason, created, ends, extra)                                              \
        "{\"id\":\"" id "\",\"name\":\"" name "\",\"subject\":\"\",\"reason\":\"" reason           \
        "\",\"created_by\":\"u\",\"created_ms\":" created ",\"ends_ms\":" ends extra "}"
#define FILE_OF(entries) "{\"version\":1,\"silences\":[" entries "]}"

static void strict_on_load(void **state)
{
        char many[16384];
        size_t n = 0, i;

        (void)state;
        refused("not json", "not a JSON object");
        refused("[]", "not a JSON object");
        refused("{\"version\":2,\"silences\":[]}", "\"version\"");
        refused("{\"silences\":[]}", "\"version\"");
        refused("{\"version\":1}", "\"silences\"");
        refused("{\"version\":1,\"silences\":{}}", "\"silences\"");
        refused("{\"version\":1,\"silences\":[],\"more\":1}", "keys besides");
        refused(FILE_OF("1"), "silences[0] is not an object");
        refused(FILE_OF(ENTRY(GOOD_ID, "X", "r", "1000", "61000", ",\"color\":\"red\"")),
                "silences[0].color is not a key");
        refused(FILE_OF(ENTRY(GOOD_ID, "X", "r", "1000", "61000", ",\"name\":\"Y\"")),
                "silences[0] has a key twice");
        refused(FILE_OF(ENTRY("s-0123", "X", "r", "1000", "61000", "")), "silences[0].id");
        refused(FILE_OF(ENTRY("s-0123456789ABCDEF", "X", "r", "1000", "61000", "")),
                "silences[0].id");
        refused(FILE_OF(ENTRY(GOOD_ID, "lower", "r", "1000", "61000", "")),
                "silences[0].name is not an alert name");
        refused(FILE_OF(ENTRY(GOOD_ID, "X", "", "1000", "61000", "")),
                "silences[0].reason is empty");
        refused(FILE_OF(ENTRY(GOOD_ID, "X", "a\\nb", "1000", "61000", "")),
                "silences[0].reason holds a control character");
        refused(FILE_OF(ENTRY(GOOD_ID, "X", "r", "1000.5", "61000", "")), "silences[0].created_ms");
        refused(FILE_OF(ENTRY(GOOD_ID, "X", "r", "-1", "61000", "")), "silences[0].created_ms");
        refused(FILE_OF(ENTRY(GOOD_ID, "X", "r", "1000", "\"soon\"", "")), "silences[0].ends_ms");
        refused(FILE_OF(ENTRY(GOOD_ID, "X", "r", "0", "604800001", "")),
                "silences[0].ends_ms is more than 7 days after");
        refused(FILE_OF(ENTRY(GOOD_ID, "X", "r", "1000", "61000",
                              "") "," ENTRY("s-1111111111111111", "X", "r", "1000", "61000",
                                            "") "," ENTRY(GOOD_ID, "Y", "r", "1000", "61000", "")),
                "silences[2].id is the id of an earlier silence");
        /* one too many */
        n += (size_t)snprintf(many + n, sizeof many - n, "{\"version\":1,\"silences\":[");
        for (i = 0; i <= SILENCE_MAX; i++)
                n += (size_t)snprintf(many + n, sizeof many - n,
                                      "%s{\"id\":\"s-%016zx\",\"name\":\"X\",\"subject\":\"\","
                                      "\"reason\":\"r\",\"created_by\":\"u\",\"created_ms\":0,"
                                      "\"ends_ms\":60000}",
                                      i > 0 ? "," : "", i);
        (void)snprintf(many + n, sizeof many - n, "]}");
        refused(many, "more than 64 silences");
}

static void ended_silences_in_the_file_are_kept_but_not_in_force(void **state)
{
        struct silence_set *set = new_set();
        struct rwerr err;
        struct dir d;

        (void)state;
        d = dir_make();
        write_file(&d, FILE_OF(ENTRY(GOOD_ID, "X", "r", "1000", "61000", "")));
        assert_int_equal(silence_load(d.path, set, &err), RW_OK);
        assert_int_equal(set->n, 1);
        assert_null(silence_match(set, "X", "", T0));
        assert_non_null(silence_match(set, "X", "anything", 30000));
        dir_remove(&d);
        free(set);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(durations_read),
                cmocka_unit_test(add_match_expire),
                cmocka_unit_test(match_prefers_the_longest),
                cmocka_unit_test(add_refuses),
                cmocka_unit_test(full_set_makes_room_as_silences_end),
                cmocka_unit_test(user_is_kept_safely),
                cmocka_unit_test(list_json_holds_those_in_force),
                cmocka_unit_test(absent_file_is_empty),
                cmocka_unit_test(saved_and_read_back),
                cmocka_unit_test(strict_on_load),
                cmocka_unit_test(ended_silences_in_the_file_are_kept_but_not_in_force),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
