#include "cli.h"

#include <stdarg.h>
#include <string.h>

#include "cmd_check_config.h"
#include "cmd_control.h"
#include "cmd_db.h"
#include "cmd_halt.h"
#include "cmd_keygen.h"
#include "cmd_resume.h"
#include "cmd_run.h"
#include "cmd_status.h"
#include "cmd_validate.h"
#include "version.h"

struct cli_command {
        const char *name;
        const char *synopsis;
        const char *summary;
        int (*run)(int argc, char **argv, FILE *out, FILE *errout);
};

static int cmd_help(int argc, char **argv, FILE *out, FILE *errout);
static int cmd_version(int argc, char **argv, FILE *out, FILE *errout);

/* Commands are added here as they are built; --help lists exactly these. */
static const struct cli_command cli_commands[] = {
        {"help", "relaywatch help [COMMAND]", "show help for relaywatch or one command", cmd_help},
        {"version", "relaywatch version", "print the version", cmd_version},
        {"db", "relaywatch db migrate [--database-url URL] [--contract FILE | --no-contract]",
         "apply relaywatch's migrations and contract views to the ledger database", cmd_db},
        {"run", "relaywatch run [-c FILE] [--log-level LEVEL]",
         "supervise until SIGTERM: observe, evaluate, halt the relayer on a Tier 1 violation",
         cmd_run},
        {"status", "relaywatch status [-c FILE] [--json]",
         "halted or running, why and since when, acknowledged or not, the last cycle's verdicts, "
         "endpoints, heartbeat; exit 0 running, 1 halted, 2 cannot tell",
         cmd_status},
        {"halt", "relaywatch halt [-c FILE] --reason TEXT [--key FILE]",
         "publish a manual HALT, signed with the watchdog's key", cmd_halt},
        {"resume",
         "relaywatch resume [-c FILE] --from-last-checkpoint [--force --reason TEXT] [--key FILE]",
         "publish a RESUME signed with an operator key, after a full validate passes", cmd_resume},
        {"validate", "relaywatch validate [-c FILE] [--json]",
         "run one cycle of every check and print the verdicts; exit 0 valid, 1 violated, 2 "
         "could not evaluate",
         cmd_validate},
        {"check-config", "relaywatch check-config [-c FILE]",
         "parse and validate a configuration file without touching anything", cmd_check_config},
        {"control", "relaywatch control tail [-c FILE] [--count N] [--follow] [--json]",
         "print the control stream's messages, each verified against the configured keys; exit 0 "
         "all verified, 1 one rejected, 2 Redis or the configuration could not be used",
         cmd_control},
        {"keygen", "relaywatch keygen --out FILE",
         "generate an Ed25519 key pair for signing control messages (FILE, FILE.pub)", cmd_keygen},
};

#define CLI_NCOMMANDS (sizeof cli_commands / sizeof cli_commands[0])

static const struct cli_command *cli_find(const char *name)
{
        size_t i;

        for (i = 0; i < CLI_NCOMMANDS; i++) {
                if (strcmp(cli_commands[i].name, name) == 0)
                        return &cli_commands[i];
        }
        return NULL;
}

static int is_help_flag(const char *arg)
{
        return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
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
                fprintf(out, "  %-12s %s\n", cli_commands[i].name, cli_commands[i].summary);
        fprintf(out, "\nRun 'relaywatch help COMMAND' or 'relaywatch COMMAND --help' for one "
                     "command.\n");
}

static void print_command_usage(const struct cli_command *cmd, FILE *out)
{
        fprintf(out, "Usage: %s\n\n%s.\n", cmd->synopsis, cmd->summary);
}

static int usage_error(FILE *errout, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int usage_error(FILE *errout, const char *fmt, ...)
{
        va_list ap;

        fprintf(errout, "relaywatch: ");
        va_start(ap, fmt);
        vfprintf(errout, fmt, ap);
        va_end(ap);
        fprintf(errout, "\nRun 'relaywatch --help' for the list of commands.\n");
        return CLI_EXIT_USAGE;
}

static int cmd_help(int argc, char **argv, FILE *out, FILE *errout)
{
        const struct cli_command *cmd;

        if (argc < 2) {
                print_usage(out);
                return CLI_EXIT_OK;
        }
        if (argc > 2)
                return usage_error(errout,
                                   "'help' takes at most one command name, got extra argument '%s'",
                                   argv[2]);
        cmd = cli_find(argv[1]);
        if (cmd == NULL)
                return usage_error(errout, "no help for unknown command '%s'", argv[1]);
        print_command_usage(cmd, out);
        return CLI_EXIT_OK;
}

static int cmd_version(int argc, char **argv, FILE *out, FILE *errout)
{
        if (argc > 1)
                return usage_error(errout, "'version' takes no arguments, got '%s'", argv[1]);
        fprintf(out, "relaywatch %s\n", RELAYWATCH_VERSION);
        return CLI_EXIT_OK;
}

int cli_main(int argc, char **argv, FILE *out, FILE *errout)
{
        const struct cli_command *cmd;
        int i;

        if (argc < 2) {
                print_usage(errout);
                return CLI_EXIT_USAGE;
        }
        if (is_help_flag(argv[1]))
                return cmd_help(1, argv + 1, out, errout);
        if (is_version_flag(argv[1]))
                return cmd_version(1, argv + 1, out, errout);
        if (argv[1][0] == '-')
                return usage_error(errout, "unknown option '%s'", argv[1]);

        cmd = cli_find(argv[1]);
        if (cmd == NULL)
                return usage_error(errout, "unknown command '%s'", argv[1]);
        for (i = 2; i < argc; i++) {
                if (is_help_flag(argv[i])) {
                        print_command_usage(cmd, out);
                        return CLI_EXIT_OK;
                }
        }
        return cmd->run(argc - 1, argv + 1, out, errout);
}
