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
#include "version.h"

struct run {
        int code;
        char *out;
        char *err;
};

static struct run run_cli(int argc, char **argv)
{
        struct run r;
        size_t outlen, errlen;
        FILE *out = open_memstream(&r.out, &outlen);
        FILE *err = open_memstream(&r.err, &errlen);

        assert_non_null(out);
        assert_non_null(err);
        r.code = cli_main(argc, argv, out, err);
        fclose(out);
        fclose(err);
        return r;
}

static void run_free(struct run *r)
{
        free(r->out);
        free(r->err);
}

static void help_lists_commands(void **state)
{
        char *argv[] = {"relaywatch", "--help"};
        struct run r = run_cli(2, argv);

        (void)state;
        assert_int_equal(r.code, CLI_EXIT_OK);
        assert_non_null(strstr(r.out, "Usage: relaywatch COMMAND"));
        assert_non_null(strstr(r.out, "  version "));
        assert_non_null(strstr(r.out, "  check-config parse and validate a configuration file"));
        assert_non_null(strstr(r.out, "  validate     run one cycle of every check"));
        assert_string_equal(r.err, "");
        run_free(&r);
}

static void version_flag_and_command_agree(void **state)
{
        char *flag[] = {"relaywatch", "--version"};
        char *cmd[] = {"relaywatch", "version"};
        struct run a = run_cli(2, flag);
        struct run b = run_cli(2, cmd);

        (void)state;
        assert_int_equal(a.code, CLI_EXIT_OK);
        assert_string_equal(a.out, "relaywatch " RELAYWATCH_VERSION "\n");
        assert_int_equal(b.code, CLI_EXIT_OK);
        assert_string_equal(a.out, b.out);
        run_free(&a);
        run_free(&b);
}

static void no_arguments_is_a_usage_error(void **state)
{
        char *argv[] = {"relaywatch"};
        struct run r = run_cli(1, argv);

        (void)state;
        assert_int_equal(r.code, CLI_EXIT_USAGE);
        assert_string_equal(r.out, "");
        assert_non_null(strstr(r.err, "Usage: relaywatch COMMAND"));
        run_free(&r);
}

static void unknown_command_is_named(void **state)
{
        char *argv[] = {"relaywatch", "valdiate"};
        struct run r = run_cli(2, argv);

        (void)state;
        assert_int_equal(r.code, CLI_EXIT_USAGE);
        assert_non_null(strstr(r.err, "unknown command 'valdiate'"));
        run_free(&r);
}

static void unknown_option_is_named(void **state)
{
        char *argv[] = {"relaywatch", "--verbose"};
        struct run r = run_cli(2, argv);

        (void)state;
        assert_int_equal(r.code, CLI_EXIT_USAGE);
        assert_non_null(strstr(r.err, "unknown option '--verbose'"));
        run_free(&r);
}

static void command_help(void **state)
{
        char *via_flag[] = {"relaywatch", "version", "--help"};
        char *via_help[] = {"relaywatch", "help", "version"};
        char *unknown[] = {"relaywatch", "help", "nope"};
        struct run a = run_cli(3, via_flag);
        struct run b = run_cli(3, via_help);
        struct run c = run_cli(3, unknown);

        (void)state;
        assert_int_equal(a.code, CLI_EXIT_OK);
        assert_non_null(strstr(a.out, "Usage: relaywatch version"));
        assert_string_equal(a.out, b.out);
        assert_int_equal(c.code, CLI_EXIT_USAGE);
        assert_non_null(strstr(c.err, "unknown command 'nope'"));
        run_free(&a);
        run_free(&b);
        run_free(&c);
}

static void extra_arguments_are_refused(void **state)
{
        char *argv[] = {"relaywatch", "version", "now"};
        struct run r = run_cli(3, argv);

        (void)state;
        assert_int_equal(r.code, CLI_EXIT_USAGE);
        assert_non_null(strstr(r.err, "'version' takes no arguments, got 'now'"));
        run_free(&r);
}

static void validate_usage_and_missing_config(void **state)
{
        char *help[] = {"relaywatch", "validate", "--help"};
        char *bad[] = {"relaywatch", "validate", "--jsno"};
        char *missing[] = {"relaywatch", "validate", "-c", "/nonexistent/relaywatch.conf"};
        struct run a = run_cli(3, help);
        struct run b = run_cli(3, bad);
        struct run c = run_cli(4, missing);

        (void)state;
        assert_int_equal(a.code, CLI_EXIT_OK);
        assert_non_null(strstr(a.out, "Usage: relaywatch validate [-c FILE] [--json]"));
        assert_int_equal(b.code, CLI_EXIT_USAGE);
        assert_non_null(strstr(b.err, "unexpected argument '--jsno'"));
        /* no configuration: nothing could be evaluated, which is never "valid" */
        assert_int_equal(c.code, 2);
        assert_non_null(strstr(c.err, "/nonexistent/relaywatch.conf"));
        assert_string_equal(c.out, "");
        run_free(&a);
        run_free(&b);
        run_free(&c);
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
