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
        assert_non_null(strstr(r.err, "'version' takes no arguments, got 'now'"));
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
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
