#include "cmd_run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "jsonlog.h"
#include "supervisor.h"

static const char help[] =
        "Supervises the relayer until SIGTERM or SIGINT: observe, evaluate every\n"
        "invariant, and on a Tier 1 violation publish a signed HALT on the control\n"
        "stream (or keep it in the outbox until Redis is back), then watch that the\n"
        "relayer acknowledges it and stops. SIGHUP reloads the configuration (a\n"
        "configuration with problems is refused and the running one kept).\n"
        "Logs are JSON lines on stderr; STATE_DIR/status.json is what\n"
        "`relaywatch status` reads.\n"
        "\n"
        "With [http] (on by default, 127.0.0.1:9464) it serves /metrics (Prometheus),\n"
        "/health/live, /health/ready and /health/startup (probes), /status (the JSON\n"
        "of `relaywatch status --json`), the on-call page at / and the runbooks at\n"
        "/runbooks/NAME.md.\n"
        "\n"
        "  -c, --config FILE    configuration (default $RELAYWATCH_CONFIG, then\n"
        "                       " CONFIG_DEFAULT_PATH ")\n"
        "  --log-level LEVEL    debug, info, warn, error or critical (default info;\n"
        "                       debug adds one line per healthy cycle)\n"
        "  --max-cycles COUNT   stop after COUNT cycles (tests and benchmarks)\n";

const struct cli_command cmd_run_command = {
        "run", "relaywatch run [-c FILE] [--log-level LEVEL] [--max-cycles COUNT]",
        "supervise until SIGTERM: observe, evaluate, halt the relayer on a Tier 1 violation", help,
        cmd_run};

int cmd_run(int argc, char **argv, FILE *out, FILE *errout)
{
        enum { OPT_LOG_LEVEL = CLI_OPT_LONG, OPT_MAX_CYCLES };
        static const struct cli_option options[] = {
                CLI_OPTION_CONFIG,
                {"log-level", OPT_LOG_LEVEL, "LEVEL"},
                {"max-cycles", OPT_MAX_CYCLES, "COUNT"},
        };
        struct supervisor_options opt;
        const char *config = NULL;
        enum jsonlog_level level = JSONLOG_INFO;
        struct cli_args a;
        char *status_config; /* GET /status runs `relaywatch status --json -c` this */
        int key, rc;

        memset(&opt, 0, sizeof opt);
        cli_args_init(&a, &cmd_run_command, options, CLI_NOPTIONS(options), argc, argv, out,
                      errout);
        while ((key = cli_args_next(&a)) > 0) {
                switch (key) {
                case 'c':
                        config = a.value;
                        break;
                case OPT_LOG_LEVEL:
                        if (jsonlog_level_parse(a.value, &level) != 0)
                                return cli_usage_error(&cmd_run_command, errout,
                                                       "%s '%s': not a level (debug, info, "
                                                       "warn, error or critical)",
                                                       a.typed, a.value);
                        break;
                case OPT_MAX_CYCLES:
                        if (cli_args_number(&a, 0, UINT64_MAX, &opt.max_cycles) != 0)
                                return a.exit_code;
                        break;
                default:
                        break;
                }
        }
        if (key == CLI_ARGS_EXIT)
                return a.exit_code;
        opt.config_path = config_path(config);
        opt.status_json = cli_status_json;
        if ((status_config = strdup(opt.config_path)) == NULL) {
                cli_error(&cmd_run_command, errout, "out of memory");
                return CLI_EXIT_FAILURE;
        }
        opt.status_ctx = status_config;
        jsonlog_set_output(errout);
        jsonlog_set_min_level(level);
        rc = supervisor_run(&opt);
        free(status_config);
        switch (rc) {
        case 0:
                return CLI_EXIT_OK;
        case 2:
                return 2;
        default:
                return CLI_EXIT_FAILURE;
        }
}
