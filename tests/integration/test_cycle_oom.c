/*
 * test_cycle_oom: under `relaywatch run`, a cycle that runs out of memory
 * is could-not-evaluate, never violated, and the next cycle runs as usual.
 *
 * The supervisor runs in-process on the shared stack (read only: its own
 * state directory and its own control-stream keys, so nothing the other
 * tests read is touched) for two cycles, with the Nth allocation of the
 * first cycle failing. Allocations are counted by wrapping malloc, calloc
 * and realloc at link time (-Wl,--wrap), only inside cycle_run (wrapped
 * too) on the cycle thread: every code path of the cycle that allocates
 * through the project's own code is made to fail once, for N across the
 * whole first cycle.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "cycle.h"
#include "dbconn.h"
#include "fileio.h"
#include "jsonlog.h"
#include "rwerr.h"
#include "stack_env.h"
#include "supervisor.h"

#define SAMPLES 24 /* failure points spread over the first cycle */

/* ------------------------------------------------------------ the wraps */

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
int __real_cycle_run(struct observer *o, const struct invariant_params *params,
                     const struct observe_window *w, uint64_t previous_cycle_ms,
                     struct cycle_result *out, struct rwerr *err);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
int __wrap_cycle_run(struct observer *o, const struct invariant_params *params,
                     const struct observe_window *w, uint64_t previous_cycle_ms,
                     struct cycle_result *out, struct rwerr *err);

static __thread int in_first_cycle;
static long fail_at;    /* the allocation of the first cycle that fails; 0: none */
static long counted;    /* allocations of the first cycle so far */
static int cycle_calls; /* cycle_run calls in this supervisor run */
static int failed_one;  /* the failure was injected */
/* the ledger connection's reads sent ahead, after the last cycle of a run without failures */
static uint64_t sent_ahead, sent_ahead_unused;

static int fail_now(void)
{
        long k;

        if (!in_first_cycle)
                return 0;
        k = __atomic_add_fetch(&counted, 1, __ATOMIC_SEQ_CST);
        if (fail_at == 0 || k != fail_at)
                return 0;
        failed_one = 1;
        return 1;
}

void *__wrap_malloc(size_t n)
{
        return fail_now() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t size)
{
        return fail_now() ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t n)
{
        return fail_now() ? NULL : __real_realloc(p, n);
}

int __wrap_cycle_run(struct observer *o, const struct invariant_params *params,
                     const struct observe_window *w, uint64_t previous_cycle_ms,
                     struct cycle_result *out, struct rwerr *err)
{
        int rc;

        in_first_cycle = __atomic_add_fetch(&cycle_calls, 1, __ATOMIC_SEQ_CST) == 1;
        rc = __real_cycle_run(o, params, w, previous_cycle_ms, out, err);
        in_first_cycle = 0;
        if (fail_at == 0) {
                struct dbconn_health h;

                dbconn_health(observer_db(o), &h);
                sent_ahead = h.sent_ahead;
                sent_ahead_unused = h.sent_ahead_unused;
        }
        return rc;
}

/* ------------------------------------------------------------ the run */

struct fixture {
        char dir[64];
        char conf[128];
};

/* One line of the shared stack's config, as this test's copy has it. */
static void copy_line(FILE *fp, const char *line, size_t n, const char *dir)
{
        if (n >= 12 && strncmp(line, "state_dir = ", 12) == 0)
                fprintf(fp, "state_dir = %s\n", dir);
        else if (n >= 4 && strncmp(line, "mode", 4) == 0)
                fprintf(fp, "mode = interval\n");
        else if (n >= 11 && strncmp(line, "interval_ms", 11) == 0)
                fprintf(fp, "interval_ms = 200\n");
        else
                fprintf(fp, "%.*s\n", (int)n, line);
}

/* The shared stack's config, with a state directory and control keys of this test's own. */
static int setup(void **state)
{
        static struct fixture f;
        char path[512], *text = NULL;
        const char *line, *end, *last_section = NULL;
        size_t len = 0;
        struct rwerr err;
        FILE *fp;

        memset(&f, 0, sizeof f);
        snprintf(f.dir, sizeof f.dir, "/tmp/rw-oom-XXXXXX");
        assert_non_null(mkdtemp(f.dir));
        snprintf(f.conf, sizeof f.conf, "%s/relaywatch.conf", f.dir);
        if (stack_env_copy("RELAYWATCH_CONFIG", path, sizeof path, &err) != RW_OK)
                fail_msg("%s", err.msg);
        if (fileio_read(path, (size_t)1 << 20, &text, &len, &err) != RW_OK)
                fail_msg("%s", err.msg);
        fp = fopen(f.conf, "w");
        assert_non_null(fp);
        for (line = text; line < text + len; line = end + 1) {
                end = memchr(line, '\n', (size_t)(text + len - line));
                if (end == NULL)
                        end = text + len;
                if (line[0] == '[')
                        last_section = line;
                copy_line(fp, line, (size_t)(end - line), f.dir);
        }
        /* [control] is the last section the stack writes: these keys land in it */
        assert_true(last_section != NULL && strncmp(last_section, "[control]", 9) == 0);
        fprintf(fp, "stream = oomtest:control\nhalt_key = oomtest:halt\n"
                    "heartbeat_key = oomtest:heartbeat\n");
        assert_int_equal(fclose(fp), 0);
        free(text);
        *state = &f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;
        char cmd[160];

        snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
        assert_int_equal(system(cmd), 0);
        return 0;
}

/* What one supervisor run logged of its cycles. */
struct run {
        int rc;
        int cycles;        /* "cycle" and "cycle_failed" lines */
        char first[32];    /* the first cycle: its tier1, or "failed" */
        char second[32];   /* the second */
        int halts;         /* halt_published / halt_queued lines */
        char failure[256]; /* the first cycle_failed message */
};

static void read_log(const char *text, struct run *r)
{
        const char *line = text, *end;

        while (*line != '\0') {
                cJSON *o, *ev, *t;
                char *copy;

                end = strchr(line, '\n');
                if (end == NULL)
                        end = line + strlen(line);
                copy = strndup(line, (size_t)(end - line));
                assert_non_null(copy);
                o = cJSON_Parse(copy);
                free(copy);
                ev = cJSON_GetObjectItemCaseSensitive(o, "event");
                if (cJSON_IsString(ev)) {
                        const char *what = NULL;

                        if (strcmp(ev->valuestring, "cycle_failed") == 0) {
                                what = "failed";
                                t = cJSON_GetObjectItemCaseSensitive(o, "message");
                                if (r->failure[0] == '\0' && cJSON_IsString(t))
                                        snprintf(r->failure, sizeof r->failure, "%s",
                                                 t->valuestring);
                        } else if (strcmp(ev->valuestring, "cycle") == 0) {
                                t = cJSON_GetObjectItemCaseSensitive(o, "tier1");
                                what = cJSON_IsString(t) ? t->valuestring : "?";
                        } else if (strncmp(ev->valuestring, "halt_", 5) == 0) {
                                r->halts++;
                        }
                        if (what != NULL) {
                                r->cycles++;
                                snprintf(r->cycles == 1 ? r->first : r->second, sizeof r->first,
                                         "%s", what);
                        }
                }
                cJSON_Delete(o);
                line = *end == '\0' ? end : end + 1;
        }
}

/* Two cycles of `relaywatch run` with allocation `at` of the first failing (0: none). */
static void run_two_cycles(const struct fixture *f, long at, struct run *r)
{
        struct supervisor_options opt = {.config_path = f->conf, .max_cycles = 2};
        char *text = NULL;
        size_t len = 0;
        FILE *log = open_memstream(&text, &len);

        assert_non_null(log);
        memset(r, 0, sizeof *r);
        fail_at = at;
        counted = 0;
        cycle_calls = 0;
        failed_one = 0;
        jsonlog_set_output(log);
        jsonlog_set_min_level(JSONLOG_DEBUG);
        r->rc = supervisor_run(&opt);
        jsonlog_set_output(NULL);
        fail_at = 0;
        assert_int_equal(fclose(log), 0);
        read_log(text, r);
        free(text);
}

static void an_allocation_failure_costs_one_cycle(void **state)
{
        const struct fixture *f = *state;
        long allocations, step, at;
        int failed_cycles = 0, runs = 0;
        struct run r;

        /* how many allocations a first cycle makes */
        run_two_cycles(f, 0, &r);
        assert_int_equal(r.rc, 0);
        assert_int_equal(r.cycles, 2);
        assert_string_equal(r.first, "ok");
        allocations = counted;
        assert_true(allocations > 10);
        /* the cycles sent their ledger reads ahead, and took every result they sent for */
        assert_true(sent_ahead >= 20);
        assert_int_equal(sent_ahead_unused, 0);
        step = allocations / SAMPLES > 0 ? allocations / SAMPLES : 1;
        for (at = 1; at <= allocations; at += step) {
                run_two_cycles(f, at, &r);
                runs++;
                if (!failed_one)
                        continue; /* this run's first cycle allocated less: nothing failed */
                if (r.rc != 0 || r.cycles != 2 || strcmp(r.first, "violated") == 0 ||
                    strcmp(r.second, "ok") != 0 || r.halts != 0)
                        fail_msg("allocation %ld of %ld failing: exit %d, %d cycles, first %s, "
                                 "second %s, %d halt lines (%s)",
                                 at, allocations, r.rc, r.cycles, r.first, r.second, r.halts,
                                 r.failure);
                failed_cycles += strcmp(r.first, "failed") == 0;
        }
        print_message("%d runs over %ld allocations: %d first cycles failed outright, the rest "
                      "were could-not-evaluate or ok; every second cycle ok\n",
                      runs, allocations, failed_cycles);
        assert_true(failed_cycles > 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(an_allocation_failure_costs_one_cycle, setup,
                                                teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
