/*
 * Unit tests for watchdog/jsonlog: every line it prints is parsed back with
 * cJSON and checked field by field; levels filter; strings that could break
 * a line (quotes, newlines, control characters, invalid UTF-8) leave it one
 * valid JSON line; an over-long line is replaced, not cut mid-JSON; lines
 * from several threads never interleave.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "jsonlog.h"

#define MAX_LINES 2048

struct capture {
        FILE *f;
        char *text;
        size_t nlines;
        char *lines[MAX_LINES]; /* point into text */
};

static int setup(void **state)
{
        struct capture *c = calloc(1, sizeof *c);

        if (c == NULL || (c->f = tmpfile()) == NULL) {
                free(c);
                return -1;
        }
        jsonlog_set_output(c->f);
        jsonlog_set_min_level(JSONLOG_INFO);
        *state = c;
        return 0;
}

static int teardown(void **state)
{
        struct capture *c = *state;

        jsonlog_set_output(NULL);
        jsonlog_set_min_level(JSONLOG_INFO);
        (void)fclose(c->f);
        free(c->text);
        free(c);
        return 0;
}

/* Reads everything written so far and splits it at '\n' (the last line must end with one). */
static void collect(struct capture *c)
{
        long size;
        char *p;

        assert_int_equal(fseek(c->f, 0, SEEK_END), 0);
        size = ftell(c->f);
        assert_true(size >= 0);
        free(c->text);
        c->text = malloc((size_t)size + 1);
        assert_non_null(c->text);
        rewind(c->f);
        assert_int_equal(fread(c->text, 1, (size_t)size, c->f), (size_t)size);
        c->text[size] = '\0';
        assert_true(size == 0 || c->text[size - 1] == '\n');
        c->nlines = 0;
        for (p = c->text; *p != '\0';) {
                char *nl = strchr(p, '\n');

                assert_non_null(nl);
                assert_true(c->nlines < MAX_LINES);
                *nl = '\0';
                c->lines[c->nlines++] = p;
                p = nl + 1;
        }
}

/* Parses line i; the caller deletes the result. */
static cJSON *parse_line(const struct capture *c, size_t i)
{
        cJSON *j;

        assert_true(i < c->nlines);
        j = cJSON_Parse(c->lines[i]);
        if (j == NULL)
                fail_msg("line %zu is not JSON: %s", i + 1, c->lines[i]);
        assert_true(cJSON_IsObject(j));
        return j;
}

static const char *string_field(const cJSON *j, const char *name)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, name);

        if (!cJSON_IsString(v))
                fail_msg("field %s missing or not a string", name);
        return v->valuestring;
}

static void format_utc(time_t t, char out[32])
{
        struct tm tm;

        assert_non_null(gmtime_r(&t, &tm));
        assert_int_equal(strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm), 19);
}

/*
 * ts is YYYY-MM-DDTHH:MM:SS.mmmZ, between `since` and now (this format sorts
 * as text in time order).
 */
static void assert_timestamp(const char *ts, time_t since)
{
        char lo[32], hi[32];
        size_t i;

        assert_int_equal(strlen(ts), 24);
        for (i = 0; i < 24; i++) {
                const char want = "dddd-dd-ddTdd:dd:dd.dddZ"[i];

                if (want == 'd')
                        assert_true(ts[i] >= '0' && ts[i] <= '9');
                else
                        assert_int_equal(ts[i], want);
        }
        format_utc(since, lo);
        format_utc(time(NULL), hi);
        assert_true(strncmp(ts, lo, 19) >= 0);
        assert_true(strncmp(ts, hi, 19) <= 0);
}

static void fields_come_first_and_in_order(void **state)
{
        static const char *const order[] = {"ts",     "level", "event", "correlation_id",
                                            "blocks", "chain", "ok",    "nested"};
        struct capture *c = *state;
        time_t since = time(NULL);
        cJSON *line, *j, *item;
        size_t i = 0;

        line = jsonlog_begin(JSONLOG_WARN, "cycle_done", "rw-0123456789abcdef");
        assert_non_null(line);
        assert_non_null(cJSON_AddNumberToObject(line, "blocks", 12));
        assert_non_null(cJSON_AddStringToObject(line, "chain", "source"));
        assert_non_null(cJSON_AddTrueToObject(line, "ok"));
        item = cJSON_AddObjectToObject(line, "nested");
        assert_non_null(cJSON_AddNumberToObject(item, "x", 1));
        jsonlog_emit(line);

        collect(c);
        assert_int_equal(c->nlines, 1);
        j = parse_line(c, 0);
        cJSON_ArrayForEach(item, j)
        {
                assert_true(i < sizeof order / sizeof order[0]);
                assert_string_equal(item->string, order[i]);
                i++;
        }
        assert_int_equal(i, sizeof order / sizeof order[0]);
        assert_timestamp(string_field(j, "ts"), since);
        assert_string_equal(string_field(j, "level"), "warn");
        assert_string_equal(string_field(j, "event"), "cycle_done");
        assert_string_equal(string_field(j, "correlation_id"), "rw-0123456789abcdef");
        assert_int_equal(cJSON_GetObjectItemCaseSensitive(j, "blocks")->valueint, 12);
        assert_string_equal(string_field(j, "chain"), "source");
        /* printed unformatted: no space or newline inside the line */
        assert_null(strchr(c->lines[0], ' '));
        cJSON_Delete(j);
}

static void correlation_id_is_left_out_when_null(void **state)
{
        struct capture *c = *state;
        cJSON *j;

        jsonlog_emit(jsonlog_begin(JSONLOG_INFO, "started", NULL));
        jsonlog_message(JSONLOG_ERROR, "config_reload_refused", NULL, "kept the old config: %s",
                        "x.conf:3: unknown key");
        collect(c);
        assert_int_equal(c->nlines, 2);
        j = parse_line(c, 0);
        assert_null(cJSON_GetObjectItemCaseSensitive(j, "correlation_id"));
        assert_string_equal(string_field(j, "event"), "started");
        assert_string_equal(string_field(j, "level"), "info");
        cJSON_Delete(j);
        j = parse_line(c, 1);
        assert_null(cJSON_GetObjectItemCaseSensitive(j, "correlation_id"));
        assert_string_equal(string_field(j, "level"), "error");
        assert_string_equal(string_field(j, "message"),
                            "kept the old config: x.conf:3: unknown key");
        cJSON_Delete(j);
}

/* A line links its runbook as runbooks/NAME.md; a NULL line is no crash. */
static void a_line_links_its_runbook(void **state)
{
        struct capture *c = *state;
        cJSON *line = jsonlog_begin(JSONLOG_CRITICAL, "verdict", "cid-1");
        cJSON *j;

        jsonlog_add_runbook(line, "SUPPLY_MISMATCH");
        jsonlog_emit(line);
        jsonlog_add_runbook(NULL, "SUPPLY_MISMATCH");
        collect(c);
        assert_int_equal(c->nlines, 1);
        j = parse_line(c, 0);
        assert_string_equal(string_field(j, "runbook"), "runbooks/SUPPLY_MISMATCH.md");
        cJSON_Delete(j);
}

static void levels_below_the_minimum_are_dropped(void **state)
{
        static const char *const names[] = {"debug", "info", "warn", "error", "critical"};
        struct capture *c = *state;
        enum jsonlog_level lv;
        cJSON *j;
        int i;

        jsonlog_set_min_level(JSONLOG_WARN);
        assert_false(jsonlog_enabled(JSONLOG_DEBUG));
        assert_false(jsonlog_enabled(JSONLOG_INFO));
        assert_true(jsonlog_enabled(JSONLOG_WARN));
        assert_true(jsonlog_enabled(JSONLOG_CRITICAL));
        assert_null(jsonlog_begin(JSONLOG_INFO, "dropped", "c1"));
        jsonlog_emit(NULL); /* what a caller does with the NULL */
        for (i = JSONLOG_DEBUG; i <= JSONLOG_CRITICAL; i++)
                jsonlog_message((enum jsonlog_level)i, "level_test", "c2", "at %s", names[i]);
        collect(c);
        assert_int_equal(c->nlines, 3);
        for (i = 0; i < 3; i++) {
                j = parse_line(c, (size_t)i);
                assert_string_equal(string_field(j, "level"), names[i + 2]);
                cJSON_Delete(j);
        }

        jsonlog_set_min_level(JSONLOG_DEBUG);
        jsonlog_message(JSONLOG_DEBUG, "level_test", "c3", "now shown");
        collect(c);
        assert_int_equal(c->nlines, 4);

        for (i = 0; i < 5; i++) {
                assert_int_equal(jsonlog_level_parse(names[i], &lv), 0);
                assert_int_equal(lv, i);
                assert_string_equal(jsonlog_level_name(lv), names[i]);
        }
        lv = JSONLOG_ERROR;
        assert_int_equal(jsonlog_level_parse("WARN", &lv), -1);
        assert_int_equal(jsonlog_level_parse("warning", &lv), -1);
        assert_int_equal(jsonlog_level_parse(NULL, &lv), -1);
        assert_int_equal(lv, JSONLOG_ERROR);
}

static void hostile_strings_stay_one_valid_line(void **state)
{
        static const char nasty[] = "say \"hi\"\nline two\r\n\ttab \\ back\x01\x1f\x7f end";
        struct capture *c = *state;
        cJSON *line, *j;

        jsonlog_message(JSONLOG_ERROR, "rpc_error", "c\"id\n", "%s", nasty);
        line = jsonlog_begin(JSONLOG_INFO, "weird\nevent", NULL);
        assert_non_null(cJSON_AddStringToObject(line, "key\"with\nnewline", nasty));
        /* invalid UTF-8: a lone continuation byte, a truncated sequence, an overlong '/' */
        assert_non_null(
                cJSON_AddStringToObject(line, "bytes", "a\x80 b\xe2\x82 c\xc0\xaf d\xe2\x82\xac"));
        jsonlog_emit(line);

        collect(c);
        assert_int_equal(c->nlines, 2);
        j = parse_line(c, 0);
        assert_string_equal(string_field(j, "message"), nasty);
        assert_string_equal(string_field(j, "correlation_id"), "c\"id\n");
        cJSON_Delete(j);
        j = parse_line(c, 1);
        assert_string_equal(string_field(j, "event"), "weird\nevent");
        assert_string_equal(string_field(j, "key\"with\nnewline"), nasty);
        /* each bad byte became '?', the euro sign (valid) stayed */
        assert_string_equal(string_field(j, "bytes"), "a? b?? c?? d\xe2\x82\xac");
        cJSON_Delete(j);
}

static void long_message_is_cut_and_long_line_replaced(void **state)
{
        struct capture *c = *state;
        size_t big = JSONLOG_LINE_MAX + 10;
        char *text = malloc(big + 1);
        cJSON *line, *j;

        assert_non_null(text);
        memset(text, 'm', big);
        text[big] = '\0';
        jsonlog_message(JSONLOG_INFO, "long", "c1", "%s", text);
        line = jsonlog_begin(JSONLOG_CRITICAL, "huge", "c2");
        assert_non_null(cJSON_AddStringToObject(line, "blob", text));
        jsonlog_emit(line);
        free(text);

        collect(c);
        assert_int_equal(c->nlines, 2);
        j = parse_line(c, 0);
        assert_int_equal(strlen(string_field(j, "message")), JSONLOG_MESSAGE_MAX - 1);
        cJSON_Delete(j);
        assert_true(strlen(c->lines[1]) < 256);
        j = parse_line(c, 1);
        assert_string_equal(string_field(j, "event"), "huge");
        assert_string_equal(string_field(j, "level"), "critical");
        assert_string_equal(string_field(j, "correlation_id"), "c2");
        assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "truncated")));
        assert_true(cJSON_GetObjectItemCaseSensitive(j, "line_bytes")->valuedouble >
                    (double)JSONLOG_LINE_MAX);
        assert_null(cJSON_GetObjectItemCaseSensitive(j, "blob"));
        cJSON_Delete(j);
}

#define THREADS 4
#define PER_THREAD 250

static void *log_many(void *arg)
{
        int t = *(const int *)arg, i;
        char pad[300];

        memset(pad, 'a' + t, sizeof pad - 1);
        pad[sizeof pad - 1] = '\0';
        for (i = 0; i < PER_THREAD; i++) {
                cJSON *line = jsonlog_begin(JSONLOG_INFO, "thread_line", NULL);

                (void)cJSON_AddNumberToObject(line, "thread", t);
                (void)cJSON_AddNumberToObject(line, "i", i);
                (void)cJSON_AddStringToObject(line, "pad", pad);
                jsonlog_emit(line);
        }
        return NULL;
}

static void threads_never_interleave(void **state)
{
        struct capture *c = *state;
        pthread_t th[THREADS];
        int ids[THREADS], next[THREADS] = {0};
        size_t i;

        for (i = 0; i < THREADS; i++) {
                ids[i] = (int)i;
                assert_int_equal(pthread_create(&th[i], NULL, log_many, &ids[i]), 0);
        }
        for (i = 0; i < THREADS; i++)
                assert_int_equal(pthread_join(th[i], NULL), 0);
        collect(c);
        assert_int_equal(c->nlines, THREADS * PER_THREAD);
        for (i = 0; i < c->nlines; i++) {
                cJSON *j = parse_line(c, i);
                int t = cJSON_GetObjectItemCaseSensitive(j, "thread")->valueint;
                const char *pad = string_field(j, "pad");

                assert_true(t >= 0 && t < THREADS);
                /* each thread's lines arrive whole and in its order */
                assert_int_equal(cJSON_GetObjectItemCaseSensitive(j, "i")->valueint, next[t]);
                next[t]++;
                assert_int_equal(strspn(pad, (const char[]){(char)('a' + t), '\0'}), 299);
                cJSON_Delete(j);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(fields_come_first_and_in_order, setup, teardown),
                cmocka_unit_test_setup_teardown(correlation_id_is_left_out_when_null, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(levels_below_the_minimum_are_dropped, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(hostile_strings_stay_one_valid_line, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(long_message_is_cut_and_long_line_replaced, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(threads_never_interleave, setup, teardown),
                cmocka_unit_test_setup_teardown(a_line_links_its_runbook, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
