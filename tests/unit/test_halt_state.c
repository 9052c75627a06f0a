/* watchdog/halt_state and watchdog/finding: the halt state on disk and the finding journal. */
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

#include "finding.h"
#include "halt_state.h"
#include "jsonlog.h"

static char dir[] = "/tmp/relaywatch-halt-state-XXXXXX";

static int setup(void **state)
{
        (void)state;
        return mkdtemp(dir) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
        char path[256];

        (void)state;
        (void)snprintf(path, sizeof path, "%s/%s", dir, HALT_STATE_FILE);
        (void)unlink(path);
        return rmdir(dir);
}

static void write_file(const char *text)
{
        char path[256];
        FILE *f;

        (void)snprintf(path, sizeof path, "%s/%s", dir, HALT_STATE_FILE);
        f = fopen(path, "w");
        assert_non_null(f);
        fputs(text, f);
        fclose(f);
}

static void missing_file_is_empty(void **state)
{
        struct halt_state s;
        struct rwerr err = {0};
        char path[256];

        (void)state;
        (void)snprintf(path, sizeof path, "%s/%s", dir, HALT_STATE_FILE);
        (void)unlink(path);
        assert_int_equal(halt_state_load(dir, &s, &err), RW_OK);
        assert_int_equal(s.n, 0);
}

static void round_trip(void **state)
{
        struct halt_state s, back;
        struct incident *a, *b;
        struct rwerr err = {0};
        struct stat st;
        char path[256];

        (void)state;
        memset(&s, 0, sizeof s);
        a = halt_state_add(&s, "SUPPLY_MISMATCH");
        assert_non_null(a);
        (void)snprintf(a->subject, sizeof a->subject, "SIGIL backing");
        (void)snprintf(a->id, sizeof a->id, "halt-0123456789abcdef0123456789abcdef");
        (void)snprintf(a->entry_id, sizeof a->entry_id, "1795405749066-0");
        a->first_height = 999999999999999ULL; /* cJSON prints 15 digits exactly */
        a->phase = INCIDENT_PUBLISHED;
        a->ours = 1;
        a->published_at_ms = 1795405749066;
        a->acked_at_ms = 1795405749070;
        a->has_baseline = 1;
        a->baseline_nonces[0] = 12;
        a->baseline_nonces[1] = 34;
        a->baseline_op_id = 567;
        b = halt_state_add(&s, "MANUAL");
        assert_non_null(b);
        (void)snprintf(b->id, sizeof b->id, "halt-ffffffffffffffffffffffffffffffff");
        b->phase = INCIDENT_PENDING;
        (void)snprintf(b->reason, sizeof b->reason, "a \"quoted\"\nreason");
        if (halt_state_save(dir, &s, &err) != RW_OK)
                fail_msg("%s", err.msg);

        (void)snprintf(path, sizeof path, "%s/%s", dir, HALT_STATE_FILE);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);

        assert_int_equal(halt_state_load(dir, &back, &err), RW_OK);
        assert_int_equal(back.n, 2);
        assert_memory_equal(&back.incidents[0], a, sizeof *a);
        assert_memory_equal(&back.incidents[1], b, sizeof *b);
        assert_ptr_equal(halt_state_find(&back, "MANUAL"), &back.incidents[1]);
        assert_null(halt_state_find(&back, "NONCE_DESYNC"));
        halt_state_remove(&back, 0);
        assert_int_equal(back.n, 1);
        assert_string_equal(back.incidents[0].invariant, "MANUAL");
}

static void full_state(void **state)
{
        struct halt_state s;
        char name[16];
        int i;

        (void)state;
        memset(&s, 0, sizeof s);
        for (i = 0; i < HALT_STATE_MAX; i++) {
                (void)snprintf(name, sizeof name, "I%d", i);
                assert_non_null(halt_state_add(&s, name));
        }
        assert_null(halt_state_add(&s, "ONE_TOO_MANY"));
}

/* A damaged file is an error naming the file and what is wrong, never an empty state. */
static void damaged_files_refused(void **state)
{
        static const struct {
                const char *text;
                const char *expect;
        } cases[] = {
                {"{\"v\":1,\"incidents\":[", "is not a JSON object"},
                {"[]", "is not a JSON object"},
                {"{\"v\":2,\"incidents\":[]}", "version is not 1"},
                {"{\"v\":1}", "incidents is not an array"},
                {"{\"v\":1,\"incidents\":[{\"invariant\":\"X\"}]}", "incident 0: subject"},
                {"{\"v\":1,\"incidents\":[7]}", "incident 0: the entry is not an object"},
        };
        struct halt_state s;
        struct rwerr err = {0};
        size_t i;

        (void)state;
        for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                write_file(cases[i].text);
                memset(&err, 0, sizeof err);
                assert_int_equal(halt_state_load(dir, &s, &err), RW_ERR_INVALID);
                assert_int_equal(s.n, 0);
                if (strstr(err.msg, cases[i].expect) == NULL || strstr(err.msg, dir) == NULL)
                        print_error("case %zu: %s\n", i, err.msg);
                assert_non_null(strstr(err.msg, cases[i].expect));
                assert_non_null(strstr(err.msg, HALT_STATE_FILE));
        }
}

/* ---------------------------------------------------------- the finding journal */

static int sink_calls;
static void count_sink(void *ctx, const struct finding *f)
{
        (void)ctx;
        assert_string_equal(f->kind, "HALT_NOT_ACKNOWLEDGED");
        sink_calls++;
}

static void journal(void **state)
{
        struct finding_journal j;
        struct finding_sink sink = {count_sink, NULL};
        struct finding f;
        char *logged = NULL, summary[64];
        size_t len = 0;
        FILE *logf = open_memstream(&logged, &len);
        cJSON *recent, *first, *line;
        int i;

        (void)state;
        assert_non_null(logf);
        jsonlog_set_output(logf);
        memset(&j, 0, sizeof j);
        assert_int_equal(finding_journal_add_sink(&j, &sink), 0);
        memset(&f, 0, sizeof f);
        f.kind = "HALT_NOT_ACKNOWLEDGED";
        f.severity = FINDING_CRITICAL;
        f.correlation_id = "rw-1";
        f.halt_id = "halt-1";
        for (i = 0; i < FINDING_RECENT_MAX + 5; i++) {
                (void)snprintf(summary, sizeof summary, "finding %d", i);
                f.summary = summary;
                finding_report(&j, &f);
        }
        fflush(logf);
        jsonlog_set_output(stderr);
        assert_int_equal(sink_calls, FINDING_RECENT_MAX + 5);
        /* every finding logged as one JSON line */
        line = cJSON_Parse(logged);
        assert_non_null(line);
        assert_string_equal(cJSON_GetObjectItem(line, "event")->valuestring, "finding");
        assert_string_equal(cJSON_GetObjectItem(line, "level")->valuestring, "critical");
        assert_string_equal(cJSON_GetObjectItem(line, "summary")->valuestring, "finding 0");
        cJSON_Delete(line);
        /* the recent ring keeps the newest, oldest first */
        recent = finding_journal_recent_json(&j);
        assert_int_equal(cJSON_GetArraySize(recent), FINDING_RECENT_MAX);
        first = cJSON_GetArrayItem(recent, 0);
        assert_string_equal(cJSON_GetObjectItem(first, "summary")->valuestring, "finding 5");
        assert_string_equal(cJSON_GetObjectItem(first, "severity")->valuestring, "CRITICAL");
        cJSON_Delete(recent);
        /* all of them wait for the database until saved */
        assert_int_equal(j.nunsaved, FINDING_RECENT_MAX + 5);
        assert_string_equal(j.unsaved[0].summary, "finding 0");
        finding_journal_saved(&j, 3);
        assert_int_equal(j.nunsaved, FINDING_RECENT_MAX + 2);
        assert_string_equal(j.unsaved[0].summary, "finding 3");
        finding_journal_release(&j);
        fclose(logf);
        free(logged);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(missing_file_is_empty),
                cmocka_unit_test(round_trip),
                cmocka_unit_test(full_state),
                cmocka_unit_test(damaged_files_refused),
                cmocka_unit_test(journal),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
