#include "cli.h"

#include <stdlib.h>
#include <string.h>

#include "cli_args.h"
#include "cmd_alert.h"
#include "cmd_audit.h"
#include "cmd_check_config.h"
#include "cmd_control.h"
#include "cmd_db.h"
#include "cmd_halt.h"
#include "cmd_keygen.h"
#include "cmd_report.h"
#include "cmd_resume.h"
#include "cmd_run.h"
#include "cmd_runbook.h"
#include "cmd_silence.h"
#include "cmd_status.h"
#include "cmd_validate.h"
#include "version.h"

static int cmd_help(int argc, char **argv, FILE *out, FILE *errout);
static int cmd_version(int argc, char **argv, FILE *out, FILE *errout);

static const struct cli_command help_command = {"help", "relaywatch help [COMMAND]",
                                                "show help for relaywatch or one command", NULL,
                                                cmd_help};

static const struct cli_command version_command = {"version", "relaywatch version",
                                                   "print the version", NULL, cmd_version};

/* Commands are added here as they are built; --help lists exactly these. */
static const struct cli_command *const cli_commands[] = {
        &help_command,        &version_command,      &cmd_db_command,
        &cmd_run_command,     &cmd_status_command,   &cmd_halt_command,
        &cmd_resume_command,  &cmd_validate_command, &cmd_check_config_command,
        &cmd_control_command, &cmd_keygen_command,   &cmd_silence_command,
        &cmd_report_command,  &cmd_alert_command,    &cmd_audit_command,
        &cmd_runbook_command,
};

#define CLI_NCOMMANDS (sizeof cli_commands / sizeof cli_commands[0])

static const struct cli_command *cli_find(const char *name)
{
        size_t i;

        for (i = 0; i < CLI_NCOMMANDS; i++) {
                if (strcmp(cli_commands[i]->name, name) == 0)
                        return cli_commands[i];
        }
        return NULL;
}

static int is_version_flag(const char *arg)
{
        return strcmp(arg, "--version") == 0 || strcmp(arg, "-V") == 0;
}

static void print_usage(FILE *out)
{
        size_t i;

        fprintf(out,
                "relaywatch %s: invariant-checking watchdog for a lock-and-mint bridge relayer\n"
                "\n"
                "Usage: relaywatch COMMAND [OPTIONS]\n"
                "       relaywatch --help | --version\n"
                "\n"
                "Commands:\n",
                RELAYWATCH_VERSION);
        for (i = 0; i < CLI_NCOMMANDS; i++)
                fprintf(out, "  %-12s %s\n", cli_commands[i]->name, cli_commands[i]->summary);
        fprintf(out, "\nRun 'relaywatch help COMMAND' or 'relaywatch COMMAND --help' for one "
                     "command.\n");
}

static int cmd_help(int argc, char **argv, FILE *out, FILE *errout)
{
        const struct cli_command *cmd;
        struct cli_args a;
        int opt;

        cli_args_init(&a, &help_command, NULL, 0, argc, argv, out, errout);
        a.max_positional = 1;
        while ((opt = cli_args_next(&a)) > 0)
                ;
        if (opt == CLI_ARGS_EXIT)
                return a.exit_code;
        if (a.next >= argc) {
                print_usage(out);
                return CLI_EXIT_OK;
        }
        cmd = cli_find(argv[a.next]);
        if (cmd == NULL)
                return cli_usage_error(&help_command, errout, "no help for unknown command '%s'",
                                       argv[a.next]);
        cli_print_help(cmd, out);
        return CLI_EXIT_OK;
}

static int cmd_version(int argc, char **argv, FILE *out, FILE *errout)
{
        struct cli_args a;
        int opt;

        cli_args_init(&a, &version_command, NULL, 0, argc, argv, out, errout);
        while ((opt = cli_args_next(&a)) > 0)
                ;
        if (opt == CLI_ARGS_EXIT)
                return a.exit_code;
        fprintf(out, "relaywatch %s\n", RELAYWATCH_VERSION);
        return CLI_EXIT_OK;
}

int cli_main(int argc, char **argv, FILE *out, FILE *errout)
{
        const struct cli_command *cmd;

        if (argc < 2) {
                print_usage(errout);
                return CLI_EXIT_USAGE;
        }
        if (cli_is_help(argv[1])) {
                print_usage(out);
                return CLI_EXIT_OK;
        }
        if (is_version_flag(argv[1]))
                return cmd_version(1, argv + 1, out, errout);
        if (argv[1][0] == '-')
                return cli_usage_error(NULL, errout, "unknown option '%s'", argv[1]);
        cmd = cli_find(argv[1]);
        if (cmd == NULL)
                return cli_usage_error(NULL, errout, "unknown command '%s'", argv[1]);
        return cmd->run(argc - 1, argv + 1, out, errout);
}

char *cli_status_json(void *config, size_t *len)
{
        char a0[] = "status", a1[] = "--json", a2[] = "-c";
        char *path = strdup(config);
        char *argv[] = {a0, a1, a2, path, NULL};
        char *text = NULL;
        size_t n = 0;
        FILE *out = open_memstream(&text, &n), *drop = fopen("/dev/null", "w");

        if (path != NULL && out != NULL && drop != NULL)
                (void)cmd_status(4, argv, out, drop);
        if (out != NULL)
                fclose(out);
        if (drop != NULL)
                fclose(drop);
        free(path);
        if (text != NULL && n == 0) {
                free(text);
                return NULL;
        }
        *len = n;
        return text;
}
