#include "cmd_run.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "jsonlog.h"
#include "supervisor.h"

static const char usage[] =
        "Usage: relaywatch run [-c FILE] [--log-level LEVEL] [--max-cycles N]\n"
        "\n"
        "Supervises the relayer until SIGTERM or SIGINT: observe, evaluate every\n"
        "invariant, and on a Tier 1 violation publish a signed HALT on the control\n"
        "stream (or keep it in the outbox until Redis is back), then watch that the\n"
        "relayer acknowledges it and stops. SIGHUP reloads the configuration (a\n"
        "configuration with problems is refused and the running one kept).\n"
        "Logs are JSON lines on stderr; STATE_DIR/status.json is what\n"
        "`relaywatch status` reads.\n"
        "\n"
        "  -c, --config FILE    configuration (default $RELAYWATCH_CONFIG, then\n"
        "                       " CONFIG_DEFAULT_PATH ")\n"
        "  --log-level LEVEL    debug, info, warn, error or critical (default info;\n"
        "                       debug adds one line per healthy cycle)\n"
        "  --max-cycles N       stop after N cycles (tests and benchmarks)\n";

static int usage_error(FILE *errout, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int usage_error(FILE *errout, const char *fmt, ...)
{
        va_list ap;

        fprintf(errout, "relaywatch run: ");
        va_start(ap, fmt);
        vfprintf(errout, fmt, ap);
        va_end(ap);
        fprintf(errout, "\n%s", usage);
        return CLI_EXIT_USAGE;
}

int cmd_run(int argc, char **argv, FILE *out, FILE *errout)
{
        struct supervisor_options opt;
        const char *config = NULL;
        enum jsonlog_level level = JSONLOG_INFO;
        int i;

        memset(&opt, 0, sizeof opt);
        for (i = 1; i < argc; i++) {
                const char *a = argv[i];

                if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
                        fputs(usage, out);
                        return CLI_EXIT_OK;
                }
                if (i + 1 >= argc)
                        return usage_error(errout, "unexpected argument '%s'", a);
                if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) {
                        config = argv[++i];
                } else if (strcmp(a, "--log-level") == 0) {
                        if (jsonlog_level_parse(argv[++i], &level) != 0)
                                return usage_error(errout, "--log-level: '%s' is not a level",
                                                   argv[i]);
                } else if (strcmp(a, "--max-cycles") == 0) {
                        char *end;

                        errno = 0;
                        opt.max_cycles = strtoull(argv[++i], &end, 10);
                        if (errno != 0 || *end != '\0' || argv[i][0] < '0' || argv[i][0] > '9')
                                return usage_error(errout, "--max-cycles: '%s' is not a number",
                                                   argv[i]);
                } else {
                        return usage_error(errout, "unexpected argument '%s'", a);
                }
        }
        opt.config_path = config_path(config);
        jsonlog_set_output(errout);
        jsonlog_set_min_level(level);
        switch (supervisor_run(&opt)) {
        case 0:
                return CLI_EXIT_OK;
        case 2:
                return 2;
        default:
                return CLI_EXIT_FAILURE;
        }
}
