#include "cmd_report.h"

#include <stdlib.h>

#include <cjson/cJSON.h>

#include "alert_history.h"
#include "cli.h"
#include "cli_setup.h"
#include "config.h"
#include "rwclock.h"
#include "silence.h"

#define EXIT_OPEN 1
#define EXIT_CANNOT 2
#define SINCE_DEFAULT_MS ((int64_t)24 * 3600 * 1000)
#define SINCE_MAX_MS ((int64_t)30 * 24 * 3600 * 1000)

static const char help[] =
        "Prints what paging did over the last DURATION (default 24h), from\n"
        "STATE_DIR/alert-history.jsonl (and alert-history.1.jsonl): the alerts opened\n"
        "and resolved with how long each lasted, those still open at the end, updates\n"
        "and re-pages, halts lifted and resumes, silences, delivery failures, and the\n"
        "Tier 3 figures of the last cycle (STATE_DIR/status.json). A history line that\n"
        "cannot be read is counted and named (FILE:LINE), never fatal. The daemon\n"
        "sends the same report every day at [alerting] report_at.\n"
        "\n"
        "  -c, --config FILE   the configuration (default: $RELAYWATCH_CONFIG, then\n"
        "                      " CONFIG_DEFAULT_PATH ")\n"
        "  --since DURATION    how far back: 45s, 90m, 24h, 7d (at most 30d; default 24h)\n"
        "  --json              one JSON object instead of text\n"
        "\n"
        "Exit status: 0 no alert open at the end; 1 some alert still open; 2 the\n"
        "configuration or the history could not be read; 64 a usage error.\n";

const struct cli_command cmd_report_command = {
        "report", "relaywatch report [--since DURATION] [--json] [-c FILE]",
        "what paging did over the last 24 h (or --since): alerts, durations, silences, "
        "Tier 3 figures",
        help, cmd_report};

struct report_args {
        const char *config;
        int64_t since_ms;
        int json;
};

/* -1 to go on, else the exit status (0 after --help, 64: reported). */
static int parse_args(int argc, char **argv, struct report_args *x, FILE *out, FILE *errout)
{
        enum { OPT_SINCE = CLI_OPT_LONG, OPT_JSON };
        static const struct cli_option options[] = {
                CLI_OPTION_CONFIG,
                {"since", OPT_SINCE, "DURATION"},
                {"json", OPT_JSON, NULL},
        };
        struct cli_args a;
        struct rwerr err = {{0}};
        int opt;

        x->config = NULL;
        x->since_ms = SINCE_DEFAULT_MS;
        x->json = 0;
        cli_args_init(&a, &cmd_report_command, options, CLI_NOPTIONS(options), argc, argv, out,
                      errout);
        while ((opt = cli_args_next(&a)) > 0) {
                if (opt == 'c') {
                        x->config = a.value;
                } else if (opt == OPT_JSON) {
                        x->json = 1;
                } else if (silence_parse_duration(a.value, &x->since_ms, &err) != RW_OK) {
                        return cli_usage_error(&cmd_report_command, errout, "--since %s", err.msg);
                } else if (x->since_ms < 1000 || x->since_ms > SINCE_MAX_MS) {
                        return cli_usage_error(&cmd_report_command, errout,
                                               "--since '%s': from 1 second to 30 days", a.value);
                }
        }
        if (opt == CLI_ARGS_EXIT)
                return a.exit_code;
        return -1;
}

static int print_json(const cJSON *report, FILE *out)
{
        char *text = cJSON_PrintUnformatted(report);

        if (text == NULL)
                return RW_ERR_NOMEM;
        fprintf(out, "%s\n", text);
        free(text);
        return RW_OK;
}

/* Why the history could not be read, as the report says. */
static const char *history_error(const cJSON *report)
{
        const cJSON *history = cJSON_GetObjectItemCaseSensitive(report, "history");
        const char *why = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(history, "error"));

        return why != NULL ? why : "unknown";
}

/* 2 when the history could not be read, 1 when an alert is still open, else 0. */
static int exit_code(const cJSON *report)
{
        const cJSON *history = cJSON_GetObjectItemCaseSensitive(report, "history");
        const cJSON *counts = cJSON_GetObjectItemCaseSensitive(report, "counts");
        const cJSON *open = cJSON_GetObjectItemCaseSensitive(counts, "still_open");

        if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(history, "read")))
                return EXIT_CANNOT;
        return cJSON_IsNumber(open) && open->valuedouble > 0 ? EXIT_OPEN : CLI_EXIT_OK;
}

int cmd_report(int argc, char **argv, FILE *out, FILE *errout)
{
        const struct cli_command *cmd = &cmd_report_command;
        struct report_args x;
        struct cli_setup s;
        struct rwerr err = {{0}};
        cJSON *report = NULL;
        char *text = NULL;
        int64_t now = rwclock_wall_ms();
        int code;

        if ((code = parse_args(argc, argv, &x, out, errout)) >= 0)
                return code;
        cli_setup_init(&s, cmd, errout);
        if (cli_setup_config(&s, x.config) != RW_OK)
                return EXIT_CANNOT;
        if (alert_report_build(s.cfg->state_dir, now > x.since_ms ? now - x.since_ms : 0, now,
                               &report, x.json ? NULL : &text, &err) != RW_OK) {
                cli_error(cmd, errout, "the report cannot be made: %s", err.msg);
                code = EXIT_CANNOT;
                goto done;
        }
        code = exit_code(report);
        if (code == EXIT_CANNOT)
                cli_error(cmd, errout, "the alert history could not be read: %s",
                          history_error(report));
        if (x.json && print_json(report, out) != RW_OK) {
                cli_error(cmd, errout, "out of memory printing JSON");
                code = EXIT_CANNOT;
        } else if (!x.json) {
                fputs(text, out);
        }
done:
        cJSON_Delete(report);
        free(text);
        cli_setup_release(&s);
        return code;
}
