/*
 * Unit tests for watchdog/cli: the command line as a user types it, and the
 * paging commands (silence, report, alert test) run against a state
 * directory of their own and a stand-in receiver on loopback.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "alert.h"
#include "alert_history.h"
#include "cli.h"
#include "cli_run.h"
#include "rwclock.h"
#include "silence.h"
#include "version.h"

static void help_lists_commands(void **state)
{
        char *argv[] = {"relaywatch", "--help"};
        struct cli_run r = cli_run(2, argv);

        (void)state;
        assert_int_equal(r.code, CLI_EXIT_OK);
        assert_non_null(strstr(r.out, "Usage: relaywatch COMMAND"));
        assert_non_null(strstr(r.out, "  version "));
        assert_non_null(strstr(r.out, "  check-config parse and validate a configuration file"));
        assert_non_null(strstr(r.out, "  validate     run one cycle of every check"));
        assert_string_equal(r.err, "");
        cli_run_free(&r);
}

static void version_flag_and_command_agree(void **state)
{
        char *flag[] = {"relaywatch", "--version"};
        char *cmd[] = {"relaywatch", "version"};
        struct cli_run a = cli_run(2, flag);
        struct cli_run b = cli_run(2, cmd);

        (void)state;
        assert_int_equal(a.code, CLI_EXIT_OK);
        assert_string_equal(a.out, "relaywatch " RELAYWATCH_VERSION "\n");
        assert_int_equal(b.code, CLI_EXIT_OK);
        assert_string_equal(a.out, b.out);
        cli_run_free(&a);
        cli_run_free(&b);
}

static void no_arguments_is_a_usage_error(void **state)
{
        char *argv[] = {"relaywatch"};
        struct cli_run r = cli_run(1, argv);

        (void)state;
        assert_int_equal(r.code, CLI_EXIT_USAGE);
        assert_string_equal(r.out, "");
        assert_non_null(strstr(r.err, "Usage: relaywatch COMMAND"));
        cli_run_free(&r);
}

static void unknown_command_is_named(void **state)
{
        char *argv[] = {"relaywatch", "valdiate"};
        struct cli_run r = cli_run(2, argv);

        (void)state;
        assert_int_equal(r.code, CLI_EXIT_USAGE);
        assert_non_null(strstr(r.err, "unknown command 'valdiate'"));
        cli_run_free(&r);
}

static void unknown_option_is_named(void **state)
{
        char *argv[] = {"relaywatch", "--verbose"};
        struct cli_run r = cli_run(2, argv);

        (void)state;
        assert_int_equal(r.code, CLI_EXIT_USAGE);
        assert_non_null(strstr(r.err, "unknown option '--verbose'"));
        cli_run_free(&r);
}

static void command_help(void **state)
{
        char *via_flag[] = {"relaywatch", "version", "--help"};
        char *via_help[] = {"relaywatch", "help", "version"};
        char *unknown[] = {"relaywatch", "help", "nope"};
        struct cli_run a = cli_run(3, via_flag);
        struct cli_run b = cli_run(3, via_help);
        struct cli_run c = cli_run(3, unknown);

        (void)state;
        assert_int_equal(a.code, CLI_EXIT_OK);
        assert_non_null(strstr(a.out, "Usage: relaywatch version"));
        assert_string_equal(a.out, b.out);
        assert_int_equal(c.code, CLI_EXIT_USAGE);
        assert_non_null(strstr(c.err, "unknown command 'nope'"));
        cli_run_free(&a);
        cli_run_free(&b);
        cli_run_free(&c);
}

static void extra_arguments_are_refused(void **state)
{
        char *argv[] = {"relaywatch", "version", "now"};
        struct cli_run r = cli_run(3, argv);

        (void)state;
        assert_int_equal(r.code, CLI_EXIT_USAGE);
        assert_non_null(strstr(r.err, "relaywatch version: unexpected argument 'now'\n"));
        cli_run_free(&r);
}

/* relaywatch runbook: the list, one runbook by any spelling of its name, and the mistakes. */
static void runbooks_are_printed_and_listed(void **state)
{
        char *list[] = {"relaywatch", "runbook"};
        char *one[] = {"relaywatch", "runbook", "supply_mismatch.md"};
        char *unknown[] = {"relaywatch", "runbook", "NO_SUCH_ALERT"};
        char *bad[] = {"relaywatch", "runbook", "../etc/passwd"};
        struct cli_run r;

        (void)state;
        r = cli_run(2, list);
        assert_int_equal(r.code, CLI_EXIT_OK);
        assert_non_null(strstr(r.out, "SUPPLY_MISMATCH\n"));
        assert_non_null(strstr(r.out, "HALT_NOT_ACKNOWLEDGED\n"));
        assert_null(strstr(r.out, "README"));
        cli_run_free(&r);
        r = cli_run(3, one);
        assert_int_equal(r.code, CLI_EXIT_OK);
        assert_true(strncmp(r.out, "# SUPPLY_MISMATCH", 17) == 0);
        cli_run_free(&r);
        r = cli_run(3, unknown);
        assert_int_equal(r.code, CLI_EXIT_FAILURE);
        assert_non_null(strstr(r.err, "no runbook for 'NO_SUCH_ALERT'"));
        assert_non_null(strstr(r.err, "\nNONCE_DESYNC\n"));
        cli_run_free(&r);
        r = cli_run(3, bad);
        assert_int_equal(r.code, CLI_EXIT_USAGE);
        assert_non_null(strstr(r.err, "'../etc/passwd' is not an alert name"));
        cli_run_free(&r);
}

/*
 * RELAYWATCH_PARSE_ONLY: a command line that parses does nothing and
 * exits 0 (validate would fail on the missing file); one that does not is
 * refused as always, before or after a positional word.
 */
static void parse_only_stops_after_the_command_line(void **state)
{
        char *validate[] = {"relaywatch", "validate", "-c", "/nonexistent/relaywatch.conf"};
        char *wrong[] = {"relaywatch", "validate", "--jsn"};
        char *word[] = {"relaywatch", "silence", "expire", "ID", "-c", "/nonexistent"};
        char *word_wrong[] = {"relaywatch", "silence", "expire", "ID", "--bogus"};
        struct cli_run r;

        (void)state;
        assert_int_equal(setenv("RELAYWATCH_PARSE_ONLY", "1", 1), 0);
        r = cli_run(4, validate);
        assert_int_equal(r.code, CLI_EXIT_OK);
        assert_string_equal(r.err, "");
        cli_run_free(&r);
        r = cli_run(3, wrong);
        assert_int_equal(r.code, CLI_EXIT_USAGE);
        cli_run_free(&r);
        r = cli_run(6, word);
        assert_int_equal(r.code, CLI_EXIT_OK);
        cli_run_free(&r);
        r = cli_run(5, word_wrong);
        assert_int_equal(r.code, CLI_EXIT_USAGE);
        cli_run_free(&r);
        assert_int_equal(unsetenv("RELAYWATCH_PARSE_ONLY"), 0);
        r = cli_run(4, validate);
        assert_int_not_equal(r.code, CLI_EXIT_OK);
        cli_run_free(&r);
}

static void validate_usage_and_missing_config(void **state)
{
        char *help[] = {"relaywatch", "validate", "--help"};
        char *bad[] = {"relaywatch", "validate", "--jsno"};
        char *missing[] = {"relaywatch", "validate", "-c", "/nonexistent/relaywatch.conf"};
        struct cli_run a = cli_run(3, help);
        struct cli_run b = cli_run(3, bad);
        struct cli_run c = cli_run(4, missing);

        (void)state;
        assert_int_equal(a.code, CLI_EXIT_OK);
        assert_non_null(strstr(a.out, "Usage: relaywatch validate [-c FILE] [--json]"));
        assert_int_equal(b.code, CLI_EXIT_USAGE);
        assert_non_null(strstr(b.err, "unexpected argument '--jsno'"));
        /* no configuration: nothing could be evaluated, which is never "valid" */
        assert_int_equal(c.code, 2);
        assert_non_null(strstr(c.err, "/nonexistent/relaywatch.conf"));
        assert_string_equal(c.out, "");
        cli_run_free(&a);
        cli_run_free(&b);
        cli_run_free(&c);
}

/* ------------------------------------------------------------ every command's options */

/* A command line: the words after "relaywatch" that name the command, and how it fails. */
struct command_case {
        char *words[2];   /* "control", "tail"; the second may be NULL */
        const char *name; /* in messages: "control tail" */
        char *extra[4];   /* what else it needs to get as far as the configuration */
        int config_code;  /* its exit status when the configuration cannot be read */
};

static const struct command_case commands[] = {
        {{"check-config", NULL}, "check-config", {NULL}, 1},
        {{"validate", NULL}, "validate", {NULL}, 2},
        {{"status", NULL}, "status", {NULL}, 2},
        {{"halt", NULL}, "halt", {"--reason", "a test", NULL}, 1},
        {{"resume", NULL},
         "resume",
         {"--from-last-checkpoint", "--key=/nonexistent/operator.key", NULL},
         1},
        {{"control", "tail"}, "control tail", {NULL}, 2},
        {{"run", NULL}, "run", {NULL}, -1}, /* -1: its configuration is not tried here */
        {{"silence", "add"}, "silence add", {"X", "--for=1h", "--reason=r"}, 2},
        {{"silence", "list"}, "silence list", {NULL}, 2},
        {{"silence", "expire"}, "silence expire", {"s-0123456789abcdef", NULL}, 2},
        {{"report", NULL}, "report", {NULL}, 2},
        {{"alert", "test"}, "alert test", {"oncall", NULL}, 2},
};

#define NCOMMANDS (sizeof commands / sizeof commands[0])
#define ARGS_MAX 16

/* Runs `c` with `args` (NULL-terminated) after its words and extras. */
static struct cli_run run_case(const struct command_case *c, char *const *args)
{
        char *argv[ARGS_MAX];
        int argc = 0;
        size_t i;

        argv[argc++] = "relaywatch";
        for (i = 0; i < 2 && c->words[i] != NULL; i++)
                argv[argc++] = c->words[i];
        for (i = 0; c->extra[i] != NULL; i++)
                argv[argc++] = c->extra[i];
        for (i = 0; args[i] != NULL && argc < ARGS_MAX; i++)
                argv[argc++] = args[i];
        return cli_run(argc, argv);
}

/* The text after "relaywatch NAME: " on the first line of err, copied into out. */
static void first_message(const struct command_case *c, const char *err, char *out, size_t cap)
{
        char prefix[64];
        const char *nl;
        size_t n;

        (void)snprintf(prefix, sizeof prefix, "relaywatch %s: ", c->name);
        if (strncmp(err, prefix, strlen(prefix)) != 0)
                fail_msg("'%s' does not start with '%s'", err, prefix);
        err += strlen(prefix);
        nl = strchr(err, '\n');
        n = nl != NULL ? (size_t)(nl - err) : strlen(err);
        assert_true(n < cap);
        memcpy(out, err, n);
        out[n] = '\0';
}

/* A usage error of `c`: exit 64, `want` as the message, the usage line and the help hint. */
static void expect_usage(const struct command_case *c, const struct cli_run *r, const char *want)
{
        char msg[256], line[128];

        if (r->code != CLI_EXIT_USAGE)
                fail_msg("relaywatch %s: exit %d, expected 64; stderr:\n%s", c->name, r->code,
                         r->err);
        first_message(c, r->err, msg, sizeof msg);
        assert_string_equal(msg, want);
        (void)snprintf(line, sizeof line, "\nUsage: relaywatch %s", c->name);
        assert_non_null(strstr(r->err, line));
        (void)snprintf(line, sizeof line, "\nRun 'relaywatch %s --help' for details.\n", c->name);
        assert_non_null(strstr(r->err, line));
        assert_string_equal(r->out, "");
}

static void config_in_every_form(void **state)
{
        static const char path[] = "/nonexistent/relaywatch-test.conf";
        char *forms[][3] = {
                {"--config=/nonexistent/relaywatch-test.conf", NULL, NULL},
                {"--config", "/nonexistent/relaywatch-test.conf", NULL},
                {"-c/nonexistent/relaywatch-test.conf", NULL, NULL},
                {"-c", "/nonexistent/relaywatch-test.conf", NULL},
                {"--conf", "/nonexistent/relaywatch-test.conf", NULL}, /* abbreviated */
        };
        char want[128];
        size_t i, f;

        (void)state;
        (void)snprintf(want, sizeof want, "cannot open %s: No such file or directory", path);
        for (i = 0; i < NCOMMANDS; i++) {
                if (commands[i].config_code < 0)
                        continue;
                for (f = 0; f < sizeof forms / sizeof forms[0]; f++) {
                        struct cli_run r = run_case(&commands[i], forms[f]);
                        char msg[256];

                        if (r.code != commands[i].config_code)
                                fail_msg("relaywatch %s %s: exit %d; stderr:\n%s", commands[i].name,
                                         forms[f][0], r.code, r.err);
                        first_message(&commands[i], r.err, msg, sizeof msg);
                        assert_string_equal(msg, want);
                        cli_run_free(&r);
                }
        }
}

static void missing_value_is_one_message(void **state)
{
        char *short_form[] = {"-c", NULL};
        char *long_form[] = {"--config", NULL};
        char *empty[] = {"--config=", NULL};
        size_t i;

        (void)state;
        for (i = 0; i < NCOMMANDS; i++) {
                struct cli_run a = run_case(&commands[i], short_form);
                struct cli_run b = run_case(&commands[i], long_form);
                struct cli_run c = run_case(&commands[i], empty);

                expect_usage(&commands[i], &a, "-c needs a FILE");
                expect_usage(&commands[i], &b, "--config needs a FILE");
                expect_usage(&commands[i], &c, "--config needs a FILE");
                cli_run_free(&a);
                cli_run_free(&b);
                cli_run_free(&c);
        }
}

static void unknown_options_and_stray_arguments(void **state)
{
        char *unknown_long[] = {"--frobnicate", NULL};
        char *unknown_short[] = {"-Z", NULL};
        char *stray[] = {"now", NULL};
        char *after_dashes[] = {"--", "--config=x", NULL};
        char *twice[] = {"-c", "a", "--config=b", NULL};
        size_t i;

        (void)state;
        for (i = 0; i < NCOMMANDS; i++) {
                struct cli_run r;

                r = run_case(&commands[i], unknown_long);
                expect_usage(&commands[i], &r, "unexpected argument '--frobnicate'");
                cli_run_free(&r);
                r = run_case(&commands[i], unknown_short);
                expect_usage(&commands[i], &r, "unexpected argument '-Z'");
                cli_run_free(&r);
                r = run_case(&commands[i], stray);
                expect_usage(&commands[i], &r, "unexpected argument 'now'");
                cli_run_free(&r);
                r = run_case(&commands[i], after_dashes);
                expect_usage(&commands[i], &r, "unexpected argument '--config=x'");
                cli_run_free(&r);
                r = run_case(&commands[i], twice);
                expect_usage(&commands[i], &r, "--config: the file is given twice");
                cli_run_free(&r);
        }
}

static void flags_values_and_numbers(void **state)
{
        const struct command_case validate = {{"validate", NULL}, "validate", {NULL}, 2};
        const struct command_case tail = {{"control", "tail"}, "control tail", {NULL}, 2};
        const struct command_case run = {{"run", NULL}, "run", {NULL}, -1};
        char *json_value[] = {"--json=yes", NULL};
        char *count_text[] = {"--count=many", NULL};
        char *count_short[] = {"-n0", NULL};
        char *cycles[] = {"--max-cycles", "-1", NULL};
        char *level[] = {"--log-level=loud", NULL};
        struct cli_run r;

        (void)state;
        r = run_case(&validate, json_value);
        expect_usage(&validate, &r, "--json takes no value");
        cli_run_free(&r);
        r = run_case(&tail, count_text);
        expect_usage(&tail, &r, "--count 'many': expected a number from 1 to 10000");
        cli_run_free(&r);
        r = run_case(&tail, count_short);
        expect_usage(&tail, &r, "-n '0': expected a number from 1 to 10000");
        cli_run_free(&r);
        r = run_case(&run, cycles);
        expect_usage(&run, &r, "--max-cycles '-1': expected a number of at least 0");
        cli_run_free(&r);
        r = run_case(&run, level);
        expect_usage(&run, &r,
                     "--log-level 'loud': not a level (debug, info, warn, error or critical)");
        cli_run_free(&r);
}

static void help_on_every_command(void **state)
{
        static char *const names[] = {"help",   "version", "db",       "run",          "status",
                                      "halt",   "resume",  "validate", "check-config", "control",
                                      "keygen", "silence", "report",   "alert"};
        size_t i;

        (void)state;
        for (i = 0; i < sizeof names / sizeof names[0]; i++) {
                char *flag[] = {"relaywatch", names[i], "--help"};
                char *short_flag[] = {"relaywatch", names[i], "-h"};
                char *via_help[] = {"relaywatch", "help", names[i]};
                char want[64];
                struct cli_run a = cli_run(3, flag);
                struct cli_run b = cli_run(3, short_flag);
                struct cli_run c = cli_run(3, via_help);

                (void)snprintf(want, sizeof want, "Usage: relaywatch %s", names[i]);
                assert_int_equal(a.code, CLI_EXIT_OK);
                if (strncmp(a.out, want, strlen(want)) != 0)
                        fail_msg("relaywatch %s --help printed:\n%s", names[i], a.out);
                assert_string_equal(a.err, "");
                assert_int_equal(b.code, CLI_EXIT_OK);
                assert_string_equal(a.out, b.out);
                assert_int_equal(c.code, CLI_EXIT_OK);
                assert_string_equal(a.out, c.out);
                cli_run_free(&a);
                cli_run_free(&b);
                cli_run_free(&c);
        }
        /* the subcommands too */
        {
                char *tail[] = {"relaywatch", "control", "tail", "--help"};
                char *migrate[] = {"relaywatch", "db", "migrate", "--help"};
                struct cli_run a = cli_run(4, tail);
                struct cli_run b = cli_run(4, migrate);

                assert_int_equal(a.code, CLI_EXIT_OK);
                assert_non_null(strstr(a.out, "Usage: relaywatch control tail [-c FILE]"));
                assert_int_equal(b.code, CLI_EXIT_OK);
                assert_non_null(strstr(b.out, "Usage: relaywatch db migrate [--database-url URL]"));
                cli_run_free(&a);
                cli_run_free(&b);
        }
}

/* ------------------------------------------------------------ paging: silence, report, alert */

#define HOUR_MS ((int64_t)3600 * 1000)

/* A configuration that loads (nothing is contacted) with its own state directory. */
struct paging_state {
        char dir[64];
        char conf[128];
};

static void state_make(struct paging_state *t, const char *extra)
{
        static const struct paging_state fresh = {"/tmp/test_cli.XXXXXX", ""};
        FILE *f;

        *t = fresh;
        assert_non_null(mkdtemp(t->dir));
        (void)snprintf(t->conf, sizeof t->conf, "%s/relaywatch.conf", t->dir);
        f = fopen(t->conf, "w");
        assert_non_null(f);
        fprintf(f,
                "[watchdog]\nstate_dir = %s\n"
                "[database]\nurl = postgres://rw@127.0.0.1:5432/bridge\n"
                "[asset SIGIL]\nsource_token = 0x9fe46736679d2d9a65f0992f2272de9f3c7fa6e0\n"
                "bridged_token = 0xcf7ed3acca5a467e9e704c703e8d87f634fb0fc9\ndecimals = 18\n"
                "[relayer]\naccounts = 0x70997970c51812dc3a010c7d01b50e0d17dc79c8\n"
                "[chain source]\nchain_id = 31337\nendpoints = http://127.0.0.1:8545\n"
                "lockbox = 0x5fbdb2315678afecb367f032d93f642f64180aa3\n"
                "root_registry = 0xe7f1725e7734ce288f8367e1bb143e90bb3f0512\n"
                "[chain execution]\nchain_id = 31338\nendpoints = http://127.0.0.1:8546\n%s",
                t->dir, extra);
        assert_int_equal(fclose(f), 0);
}

/* Removes what the commands may write; the directory must then be empty. */
static void state_remove(struct paging_state *t)
{
        static const char *const names[] = {"relaywatch.conf", "silences.json",
                                            "alert-history.jsonl", "alert-history.1.jsonl",
                                            "status.json"};
        char p[160];
        size_t i;

        for (i = 0; i < sizeof names / sizeof names[0]; i++) {
                (void)snprintf(p, sizeof p, "%s/%s", t->dir, names[i]);
                (void)unlink(p);
        }
        assert_int_equal(rmdir(t->dir), 0);
}

/* Runs relaywatch with the NULL-terminated words. */
static struct cli_run run_words(char **words)
{
        int argc = 0;

        while (words[argc] != NULL)
                argc++;
        return cli_run(argc, words);
}

static void assert_has(const char *got, const char *want)
{
        if (strstr(got, want) == NULL)
                fail_msg("expected '%s' in:\n%s", want, got);
}

static void assert_lacks(const char *got, const char *unwanted)
{
        if (strstr(got, unwanted) != NULL)
                fail_msg("did not expect '%s' in:\n%s", unwanted, got);
}

/* `silence add` as typed; the new silence's id from its output into id[19]. */
static struct cli_run add_silence(char **words, char id[19])
{
        struct cli_run r = run_words(words);
        const char *p = strstr(r.out, "silence s-");

        if (r.code != CLI_EXIT_OK || p == NULL) {
                fail_msg("silence add: exit %d\n%s%s", r.code, r.out, r.err);
                id[0] = '\0';
                return r;
        }
        memcpy(id, p + strlen("silence "), 18);
        id[18] = '\0';
        return r;
}

static cJSON *parse_out(const struct cli_run *r)
{
        cJSON *o = cJSON_Parse(r->out);

        if (o == NULL)
                fail_msg("not JSON:\n%s", r->out);
        return o;
}

static void silences_round_trip(void **state)
{
        struct paging_state t;
        struct silence_set *set = calloc(1, sizeof *set);
        char id[19], other[19], unknown[19], ends[RWCLOCK_UTC_SIZE], want[160], p[160];
        struct cli_run r, before;
        struct rwerr err;
        struct stat st;
        int problems_before;
        cJSON *o;

        (void)state;
        assert_non_null(set);
        state_make(&t, "");
        assert_int_equal(setenv("USER", "alice", 1), 0);
        {
                char *status[] = {"relaywatch", "status", "-c", t.conf, NULL};
                char *json[] = {"relaywatch", "status", "--json", "-c", t.conf, NULL};

                before = run_words(status);
                r = run_words(json);
                o = parse_out(&r);
                problems_before = cJSON_GetArraySize(cJSON_GetObjectItem(o, "problems"));
                assert_true(problems_before > 0); /* no Redis, no status.json: exit 2 already */
                assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(o, "silences")), 0);
                cJSON_Delete(o);
                cli_run_free(&r);
        }
        /* NAME:SUBJECT with the options on both sides of it */
        {
                char *add[] = {"relaywatch", "silence",
                               "add",        "-c",
                               t.conf,       "SUPPLY_MISMATCH:asset SIGIL",
                               "--for",      "2h",
                               "--reason",   "token migration",
                               NULL};

                r = add_silence(add, id);
        }
        assert_int_equal(silence_load(t.dir, set, &err), RW_OK);
        assert_int_equal(set->n, 1);
        assert_string_equal(set->items[0].id, id);
        assert_string_equal(set->items[0].subject, "asset SIGIL");
        assert_string_equal(set->items[0].created_by, "alice");
        assert_int_equal(set->items[0].ends_ms - set->items[0].created_ms, 2 * HOUR_MS);
        (void)rwclock_format_utc(set->items[0].ends_ms, ends, NULL);
        (void)snprintf(want, sizeof want,
                       "silence %s added: SUPPLY_MISMATCH:asset SIGIL until %s (2h)\n", id, ends);
        assert_has(r.out, want);
        assert_has(r.out, "SUPPLY_MISMATCH is a Tier 1 invariant: this silence holds its page "
                          "only. It never stops the HALT");
        assert_string_equal(r.err, "");
        cli_run_free(&r);
        (void)snprintf(p, sizeof p, "%s/silences.json", t.dir);
        assert_int_equal(stat(p, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);
        /* a finding: no note, no warning; an unknown name: a warning, kept anyway */
        {
                char *add[] = {"relaywatch", "silence",
                               "add",        "HALT_PATH_DOWN",
                               "--for=90m",  "--reason=redis upgrade",
                               "-c",         t.conf,
                               NULL};
                char *odd[] = {"relaywatch",    "silence",  "add",
                               "NOT_A_CHECK:x", "--for=1d", "--reason=just in case",
                               "--config",      t.conf,     NULL};

                r = add_silence(add, other);
                assert_lacks(r.out, "Tier 1");
                assert_string_equal(r.err, "");
                cli_run_free(&r);
                r = add_silence(odd, unknown);
                assert_has(r.err, "warning: NOT_A_CHECK is not an invariant or a finding "
                                  "relaywatch knows");
                cli_run_free(&r);
        }
        /* list, text and JSON */
        {
                char *list[] = {"relaywatch", "silence", "list", "-c", t.conf, NULL};
                char *json[] = {"relaywatch", "silence", "list", "--json", "-c", t.conf, NULL};

                r = run_words(list);
                assert_int_equal(r.code, CLI_EXIT_OK);
                (void)snprintf(want, sizeof want,
                               "%s  SUPPLY_MISMATCH:asset SIGIL  until %s (1h 59m left), by alice: "
                               "token migration\n",
                               id, ends);
                assert_has(r.out, want);
                assert_has(r.out, "HALT_PATH_DOWN (every subject)");
                cli_run_free(&r);
                r = run_words(json);
                assert_int_equal(r.code, CLI_EXIT_OK);
                o = parse_out(&r);
                assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(o, "silences")), 3);
                assert_string_equal(
                        cJSON_GetStringValue(cJSON_GetObjectItem(
                                cJSON_GetArrayItem(cJSON_GetObjectItem(o, "silences"), 0), "id")),
                        id);
                cJSON_Delete(o);
                cli_run_free(&r);
        }
        /* status shows them and exits as it did without them */
        {
                char *status[] = {"relaywatch", "status", "-c", t.conf, NULL};
                char *json[] = {"relaywatch", "status", "--json", "-c", t.conf, NULL};

                r = run_words(status);
                assert_int_equal(r.code, before.code);
                assert_has(r.out, "silences in force (pages held, never a HALT):\n");
                (void)snprintf(
                        want, sizeof want,
                        "  %s SUPPLY_MISMATCH:asset SIGIL until %s, by alice: token migration\n",
                        id, ends);
                assert_has(r.out, want);
                assert_lacks(before.out, "silences in force");
                cli_run_free(&r);
                r = run_words(json);
                assert_int_equal(r.code, before.code);
                o = parse_out(&r);
                assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(o, "silences")), 3);
                assert_int_equal(cJSON_GetObjectItem(o, "exit_code")->valueint, before.code);
                /* not a problem either: the same problems as without them */
                assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(o, "problems")),
                                 problems_before);
                cJSON_Delete(o);
                cli_run_free(&r);
        }
        cli_run_free(&before);
        /* expire: once, then there is nothing to expire */
        {
                char *expire[] = {"relaywatch", "silence", "expire", id, "-c", t.conf, NULL};
                char *list[] = {"relaywatch", "silence", "list", "-c", t.conf, NULL};

                r = run_words(expire);
                assert_int_equal(r.code, CLI_EXIT_OK);
                (void)snprintf(want, sizeof want,
                               "silence %s expired: SUPPLY_MISMATCH:asset SIGIL pages again\n", id);
                assert_string_equal(r.out, want);
                cli_run_free(&r);
                r = run_words(expire);
                assert_int_equal(r.code, 1);
                assert_has(r.err, "there is no silence");
                assert_string_equal(r.out, "");
                cli_run_free(&r);
                r = run_words(list);
                assert_lacks(r.out, id);
                assert_has(r.out, other);
                cli_run_free(&r);
        }
        /* the history and so the report know what was done */
        {
                char *report[] = {"relaywatch", "report", "--json", "-c", t.conf, NULL};

                r = run_words(report);
                assert_int_equal(r.code, CLI_EXIT_OK);
                o = parse_out(&r);
                assert_int_equal(
                        cJSON_GetObjectItem(cJSON_GetObjectItem(o, "counts"), "silence_changes")
                                ->valueint,
                        4);
                assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(
                                         cJSON_GetObjectItem(o, "silences_in_force"), "list")),
                                 2);
                cJSON_Delete(o);
                cli_run_free(&r);
        }
        free(set);
        state_remove(&t);
}

static void status_with_a_damaged_silences_file(void **state)
{
        struct paging_state t;
        char *status[] = {"relaywatch", "status", "-c", NULL, NULL};
        char *json[] = {"relaywatch", "status", "--json", "-c", NULL, NULL};
        char p[160];
        struct cli_run before, r;
        cJSON *o;
        FILE *f;

        (void)state;
        state_make(&t, "");
        status[3] = json[4] = t.conf;
        before = run_words(status);
        (void)snprintf(p, sizeof p, "%s/silences.json", t.dir);
        f = fopen(p, "w");
        assert_non_null(f);
        fputs("{\"version\":1,\"silences\":[{\"id\":\"s-x\"}]}", f);
        assert_int_equal(fclose(f), 0);
        r = run_words(status);
        assert_int_equal(r.code, before.code);
        assert_has(r.out, "silences: cannot be read (they are not shown): ");
        assert_has(r.out, "silences.json: silences[0].name is missing or not a string");
        cli_run_free(&r);
        r = run_words(json);
        o = parse_out(&r);
        assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "silences")));
        assert_has(cJSON_GetStringValue(cJSON_GetObjectItem(o, "silences_error")), p);
        cJSON_Delete(o);
        cli_run_free(&r);
        cli_run_free(&before);
        state_remove(&t);
}

static void silence_usage_errors(void **state)
{
        const struct command_case add = {{"silence", "add"}, "silence add", {NULL}, 2};
        const struct command_case expire = {{"silence", "expire"}, "silence expire", {NULL}, 2};
        const struct command_case silence = {{"silence", NULL}, "silence", {NULL}, 2};
        const struct command_case report = {{"report", NULL}, "report", {NULL}, 2};
        /* a configuration that does not exist: the command line is judged before it */
        char *no_reason[] = {"X", "--for", "1h", "-c", "/nonexistent/rw.conf", NULL};
        char *parsecs[] = {"X", "--for", "5 parsecs", "--reason", "r", NULL};
        char *too_long[] = {"X", "--for", "8d", "--reason", "r", NULL};
        char *too_short[] = {"X", "--for", "30s", "--reason", "r", NULL};
        char *no_for[] = {"X", "--reason", "r", NULL};
        char *no_name[] = {"--for", "1h", "--reason", "r", NULL};
        char *lower[] = {"supply:x", "--for", "1h", "--reason", "r", NULL};
        char *blank[] = {"X", "--for", "1h", "--reason", "   ", NULL};
        char *two_names[] = {"X", "Y", "--for", "1h", "--reason", "r", NULL};
        char *twice[] = {"-c", "a", "X", "--for", "1h", "--reason", "r", "-c", "b", NULL};
        char *none[] = {NULL};
        char *frob[] = {"frob", NULL};
        char *since_long[] = {"--since", "31d", NULL};
        char *since_bad[] = {"--since=5 parsecs", NULL};
        struct cli_run r;

        (void)state;
        r = run_case(&add, no_reason);
        expect_usage(&add, &r, "--reason TEXT is required: say why the pages may wait");
        cli_run_free(&r);
        r = run_case(&add, parsecs);
        expect_usage(&add, &r,
                     "--for '5 parsecs' is not a duration: a number and one of s, m, h, d (45s, "
                     "90m, 2h, 1d)");
        cli_run_free(&r);
        r = run_case(&add, too_long);
        expect_usage(&add, &r, "--for '8d': a silence lasts from 1 minute to 7 days");
        cli_run_free(&r);
        r = run_case(&add, too_short);
        expect_usage(&add, &r, "--for '30s': a silence lasts from 1 minute to 7 days");
        cli_run_free(&r);
        r = run_case(&add, no_for);
        expect_usage(&add, &r,
                     "--for DURATION is required: how long (45s, 90m, 2h, 1d; at most 7d)");
        cli_run_free(&r);
        r = run_case(&add, no_name);
        expect_usage(&add, &r, "NAME is required: the alert to silence (NAME or NAME:SUBJECT)");
        cli_run_free(&r);
        r = run_case(&add, lower);
        expect_usage(&add, &r,
                     "'supply' is not an alert name: A-Z, 0-9 and _ only, 1 to 47 characters");
        cli_run_free(&r);
        r = run_case(&add, blank);
        expect_usage(&add, &r, "the reason is empty: say why");
        cli_run_free(&r);
        r = run_case(&add, two_names);
        expect_usage(&add, &r, "unexpected argument 'Y'");
        cli_run_free(&r);
        r = run_case(&add, twice);
        expect_usage(&add, &r, "-c: the file is given twice");
        cli_run_free(&r);
        r = run_case(&expire, none);
        expect_usage(&expire, &r,
                     "ID is required: the silence to end (see `relaywatch silence list`)");
        cli_run_free(&r);
        r = run_case(&silence, none);
        expect_usage(&silence, &r, "a subcommand is required: add, list or expire");
        cli_run_free(&r);
        r = run_case(&silence, frob);
        expect_usage(&silence, &r, "unknown subcommand 'frob'; there are add, list and expire");
        cli_run_free(&r);
        r = run_case(&report, since_long);
        expect_usage(&report, &r, "--since '31d': from 1 second to 30 days");
        cli_run_free(&r);
        r = run_case(&report, since_bad);
        expect_usage(&report, &r,
                     "--since '5 parsecs' is not a duration: a number and one of s, m, h, d "
                     "(45s, 90m, 2h, 1d)");
        cli_run_free(&r);
}

/* One event of a made alert in the state directory's history. */
static void history_event(const struct paging_state *t, const char *event, const char *name,
                          const char *subject, uint64_t seq, int64_t opened_ms, int64_t at_ms,
                          const char *summary)
{
        struct alert a;
        struct rwerr err;

        memset(&a, 0, sizeof a);
        (void)snprintf(a.name, sizeof a.name, "%s", name);
        (void)snprintf(a.subject, sizeof a.subject, "%s", subject);
        alert_dedup_key(a.name, a.subject, a.dedup_key);
        a.severity = FINDING_CRITICAL;
        a.state = strcmp(event, "resolved") == 0 ? ALERT_RESOLVED : ALERT_FIRING;
        a.tier = 1;
        a.seq = seq;
        a.opened_ms = opened_ms;
        a.at_ms = at_ms;
        (void)snprintf(a.summary, sizeof a.summary, "%s", summary);
        assert_int_equal(alert_history_append(t->dir, event, &a, &err), RW_OK);
}

static void report_on_a_written_history(void **state)
{
        struct paging_state t;
        int64_t now = rwclock_wall_ms();
        char hist[160];
        struct cli_run r;
        const cJSON *a;
        cJSON *o;
        FILE *f;

        (void)state;
        state_make(&t, "");
        (void)snprintf(hist, sizeof hist, "%s/alert-history.jsonl", t.dir);
        history_event(&t, "opened", "SUPPLY_MISMATCH", "asset SIGIL", 1, now - 3 * HOUR_MS,
                      now - 3 * HOUR_MS, "SIGIL: locked 100 < minted 101");
        history_event(&t, "resolved", "SUPPLY_MISMATCH", "asset SIGIL", 1, now - 3 * HOUR_MS,
                      now - 2 * HOUR_MS, "resolved");
        f = fopen(hist, "a");
        assert_non_null(f);
        fputs("{\"event\": \"opened\", truncated\n", f);
        assert_int_equal(fclose(f), 0);
        history_event(&t, "opened", "NONCE_DESYNC", "account 0x70", 4, now - HOUR_MS / 2,
                      now - HOUR_MS / 2, "nonce 7 vs 9");
        {
                char *text[] = {"relaywatch", "report", "-c", t.conf, NULL};
                char *json[] = {"relaywatch", "report", "--json", "-c", t.conf, NULL};
                char *last_hour[] = {"relaywatch", "report", "--since", "1h",
                                     "--json",     "-c",     t.conf,    NULL};
                char want[256];

                r = run_words(text);
                assert_int_equal(r.code, 1); /* an alert is still open */
                assert_has(r.out, "2 alerts opened, 1 resolved, 1 still open;");
                assert_has(r.out, "CRITICAL SUPPLY_MISMATCH asset SIGIL (tier 1)\n      resolved ");
                assert_has(r.out, " after 1h 0m\n      SIGIL: locked 100 < minted 101\n");
                assert_has(
                        r.out,
                        "CRITICAL NONCE_DESYNC account 0x70 (tier 1)\n      STILL OPEN, for 30m ");
                (void)snprintf(want, sizeof want, "  %s:3: not JSON\n", hist);
                assert_has(r.out, want);
                assert_string_equal(r.err, "");
                cli_run_free(&r);
                r = run_words(json);
                assert_int_equal(r.code, 1);
                o = parse_out(&r);
                assert_int_equal(
                        cJSON_GetObjectItem(cJSON_GetObjectItem(o, "counts"), "unreadable_lines")
                                ->valueint,
                        1);
                a = cJSON_GetArrayItem(cJSON_GetObjectItem(o, "alerts"), 0);
                assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(a, "name")),
                                    "SUPPLY_MISMATCH");
                assert_true(cJSON_GetObjectItem(a, "duration_ms")->valuedouble == (double)HOUR_MS);
                cJSON_Delete(o);
                cli_run_free(&r);
                /* the last hour: the resolved one is out, the open one stays */
                r = run_words(last_hour);
                assert_int_equal(r.code, 1);
                o = parse_out(&r);
                assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(o, "alerts")), 1);
                assert_int_equal(
                        cJSON_GetObjectItem(cJSON_GetObjectItem(o, "counts"), "resolved")->valueint,
                        0);
                cJSON_Delete(o);
                cli_run_free(&r);
        }
        /* nothing open: exit 0 */
        history_event(&t, "resolved", "NONCE_DESYNC", "account 0x70", 4, now - HOUR_MS / 2,
                      now - 1000, "resolved");
        {
                char *text[] = {"relaywatch", "report", "-c", t.conf, NULL};

                r = run_words(text);
                assert_int_equal(r.code, CLI_EXIT_OK);
                assert_has(r.out, "2 alerts opened, 2 resolved, 0 still open;");
                cli_run_free(&r);
        }
        state_remove(&t);
}

static void alert_test_without_routes(void **state)
{
        struct paging_state t;
        char *test[] = {"relaywatch", "alert", "test", "-c", NULL, NULL};
        struct cli_run r;

        (void)state;
        state_make(&t, "");
        test[4] = t.conf;
        r = run_words(test);
        assert_int_equal(r.code, 2);
        assert_string_equal(r.out, "");
        assert_has(r.err, "relaywatch alert test: ");
        assert_has(r.err, "configures no alert route, so there is nothing to test");
        assert_has(r.err, "  [alert oncall]\n  type = pagerduty\n");
        cli_run_free(&r);
        state_remove(&t);
}

/*
 * A receiver on loopback for `alert test`: every request is read whole
 * (headers and Content-Length body) and answered with one status and body,
 * then the connection is closed.
 */
struct receiver {
        int fd;
        uint16_t port;
        pthread_t thread;
        pthread_mutex_t lock;
        int status;
        char body[512];
        unsigned requests;
};

/* The value of header `name` ("content-length") in the head `buf`, or NULL. */
static const char *header(const char *buf, const char *name)
{
        const char *line = strstr(buf, "\r\n");

        for (; line != NULL && line[2] != '\r'; line = strstr(line + 2, "\r\n")) {
                if (strncasecmp(line + 2, name, strlen(name)) == 0 && line[2 + strlen(name)] == ':')
                        return line + 3 + strlen(name);
        }
        return NULL;
}

/* Reads one request from c; 0, or -1 when the peer went away first. */
static int read_request(int c)
{
        char buf[16384], *end;
        const char *expect, *cl;
        size_t n = 0, want;
        ssize_t r;

        for (;;) {
                if (n + 1 >= sizeof buf || (r = read(c, buf + n, sizeof buf - 1 - n)) <= 0)
                        return -1;
                n += (size_t)r;
                buf[n] = '\0';
                if ((end = strstr(buf, "\r\n\r\n")) != NULL)
                        break;
        }
        if ((expect = header(buf, "expect")) != NULL && strstr(expect, "100") != NULL &&
            write(c, "HTTP/1.1 100 Continue\r\n\r\n", 25) != 25)
                return -1;
        cl = header(buf, "content-length");
        want = (size_t)(end + 4 - buf) + (cl != NULL ? strtoul(cl, NULL, 10) : 0);
        while (n < want) {
                r = read(c, buf, sizeof buf < want - n ? sizeof buf : want - n);
                if (r <= 0)
                        return -1;
                n += (size_t)r;
        }
        return 0;
}

static void *receiver_main(void *arg)
{
        struct receiver *rv = arg;
        struct timeval tv = {5, 0};
        char answer[768];
        int c, len;

        while ((c = accept(rv->fd, NULL, NULL)) >= 0 || errno == EINTR) {
                if (c < 0)
                        continue;
                (void)setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
                if (read_request(c) == 0) {
                        pthread_mutex_lock(&rv->lock);
                        rv->requests++;
                        len = snprintf(answer, sizeof answer,
                                       "HTTP/1.1 %d X\r\nContent-Type: text/plain\r\n"
                                       "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                                       rv->status, strlen(rv->body), rv->body);
                        pthread_mutex_unlock(&rv->lock);
                        if (write(c, answer, (size_t)len) != len)
                                fprintf(stderr, "test receiver: the answer was cut short\n");
                }
                close(c);
        }
        return NULL; /* the socket was shut down */
}

static void receiver_start(struct receiver *rv)
{
        struct sockaddr_in a;
        socklen_t alen = sizeof a;

        memset(rv, 0, sizeof *rv);
        assert_int_equal(pthread_mutex_init(&rv->lock, NULL), 0);
        rv->fd = socket(AF_INET, SOCK_STREAM, 0);
        assert_true(rv->fd >= 0);
        memset(&a, 0, sizeof a);
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        assert_int_equal(bind(rv->fd, (struct sockaddr *)&a, sizeof a), 0);
        assert_int_equal(listen(rv->fd, 8), 0);
        assert_int_equal(getsockname(rv->fd, (struct sockaddr *)&a, &alen), 0);
        rv->port = ntohs(a.sin_port);
        assert_int_equal(pthread_create(&rv->thread, NULL, receiver_main, rv), 0);
}

static void receiver_answer(struct receiver *rv, int status, const char *body)
{
        pthread_mutex_lock(&rv->lock);
        rv->status = status;
        (void)snprintf(rv->body, sizeof rv->body, "%s", body);
        pthread_mutex_unlock(&rv->lock);
}

static unsigned receiver_requests(struct receiver *rv)
{
        unsigned n;

        pthread_mutex_lock(&rv->lock);
        n = rv->requests;
        pthread_mutex_unlock(&rv->lock);
        return n;
}

static void receiver_stop(struct receiver *rv)
{
        (void)shutdown(rv->fd, SHUT_RDWR);
        assert_int_equal(pthread_join(rv->thread, NULL), 0);
        close(rv->fd);
        pthread_mutex_destroy(&rv->lock);
}

static void alert_test_through_routes(void **state)
{
        struct receiver f;
        struct paging_state t;
        char routes[512], long_answer[301];
        struct cli_run r;

        (void)state;
        receiver_start(&f);
        memset(long_answer, 'x', 250);
        memset(long_answer + 250, 'y', 50);
        long_answer[300] = '\0';
        receiver_answer(&f, 200, "ok");
        /* a Slack route that answers, and a webhook where nothing listens (port 1) */
        (void)snprintf(routes, sizeof routes,
                       "[alert team]\ntype = slack\nurl = http://127.0.0.1:%u/hook\n"
                       "[alert hooks]\ntype = webhook\nurl = http://127.0.0.1:1/x\n"
                       "secret = 0123456789abcdef0123\n",
                       (unsigned)f.port);
        state_make(&t, routes);
        {
                char *all[] = {"relaywatch", "alert", "test", "-c", t.conf, NULL};
                char *one[] = {"relaywatch", "alert", "test", "-c", t.conf, "team", NULL};
                char *unknown[] = {"relaywatch", "alert", "test", "nope", "-c", t.conf, NULL};
                char want[256];

                r = run_words(all);
                assert_int_equal(r.code, 1);
                assert_has(r.out, "team             slack        delivered 200 \"ok\"\n");
                assert_has(r.out, "hooks            webhook      FAILED      0 \"\": ");
                assert_int_equal(receiver_requests(&f), 1);
                cli_run_free(&r);
                r = run_words(one);
                assert_int_equal(r.code, CLI_EXIT_OK);
                assert_string_equal(r.out, "team             slack        delivered 200 \"ok\"\n");
                assert_int_equal(receiver_requests(&f), 2);
                cli_run_free(&r);
                r = run_words(unknown);
                assert_int_equal(r.code, CLI_EXIT_USAGE);
                (void)snprintf(want, sizeof want,
                               "relaywatch alert test: no route 'nope' in %s; the routes there "
                               "are: team, hooks\n",
                               t.conf);
                assert_has(r.err, want);
                assert_int_equal(receiver_requests(&f), 2);
                cli_run_free(&r);
                /* an answer that is not plain stays on one line, made printable; a long one is cut */
                receiver_answer(&f, 500, "oops\n\"\x1b[2J");
                r = run_words(one);
                assert_int_equal(r.code, 1);
                assert_has(r.out, "team             slack        FAILED    500 "
                                  "\"oops \\x22?[2J\": alert route team (slack): ");
                cli_run_free(&r);
                receiver_answer(&f, 500, long_answer);
                r = run_words(one);
                assert_int_equal(r.code, 1);
                assert_has(r.out, "FAILED    500 \"xxxxxxxxxx");
                assert_has(r.out, "xxx...\": ");
                assert_lacks(r.out, "yyy");
                cli_run_free(&r);
        }
        receiver_stop(&f);
        state_remove(&t);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(help_lists_commands),
                cmocka_unit_test(runbooks_are_printed_and_listed),
                cmocka_unit_test(parse_only_stops_after_the_command_line),
                cmocka_unit_test(version_flag_and_command_agree),
                cmocka_unit_test(no_arguments_is_a_usage_error),
                cmocka_unit_test(unknown_command_is_named),
                cmocka_unit_test(unknown_option_is_named),
                cmocka_unit_test(command_help),
                cmocka_unit_test(extra_arguments_are_refused),
                cmocka_unit_test(validate_usage_and_missing_config),
                cmocka_unit_test(config_in_every_form),
                cmocka_unit_test(missing_value_is_one_message),
                cmocka_unit_test(unknown_options_and_stray_arguments),
                cmocka_unit_test(flags_values_and_numbers),
                cmocka_unit_test(help_on_every_command),
                cmocka_unit_test(silences_round_trip),
                cmocka_unit_test(status_with_a_damaged_silences_file),
                cmocka_unit_test(silence_usage_errors),
                cmocka_unit_test(report_on_a_written_history),
                cmocka_unit_test(alert_test_without_routes),
                cmocka_unit_test(alert_test_through_routes),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
