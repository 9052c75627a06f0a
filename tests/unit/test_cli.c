/* Unit tests for watchdog/cli: the command line as a user types it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli.h"
#include "cli_run.h"
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
        char *extra[3];   /* what else it needs to get as far as the configuration */
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
        static char *const names[] = {"help",         "version", "db",     "run",
                                      "status",       "halt",    "resume", "validate",
                                      "check-config", "control", "keygen"};
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

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(help_lists_commands),
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
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
