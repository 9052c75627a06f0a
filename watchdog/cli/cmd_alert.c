#include "cmd_alert.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "alert.h"
#include "alert_sender.h"
#include "cli.h"
#include "cli_setup.h"
#include "config.h"
#include "cycle.h"
#include "rwclock.h"

#define EXIT_SOME_FAILED 1
#define EXIT_CANNOT 2
#define ANSWER_MAX 512   /* what alert_send_once may keep of an answer */
#define ANSWER_SHOWN 200 /* bytes of it printed */
#define TEST_NAME "RELAYWATCH_TEST"
#define RUNBOOK_NAME "README" /* runbooks/README.md: what the runbooks are; always there */

#define TEST_USAGE "relaywatch alert test [ROUTE] [-c FILE]"
#define TEST_SUMMARY                                                                               \
        "send a marked test alert through every alert route (or ROUTE) and say how each went"

static const char help[] =
        "Sends one test alert through each route of the configuration ([alert NAME]),\n"
        "or through ROUTE alone, at once and without retries, and prints one line per\n"
        "route: its name, its type, delivered or FAILED, the status code and the start\n"
        "of the receiver's answer. The alert is marked as a test everywhere (name\n"
        "RELAYWATCH_TEST, the receivers' test marks) and has the highest severity the\n"
        "route takes, so it reaches the people a real page would reach. A PagerDuty\n"
        "test opens an incident of its own: resolve it there.\n"
        "\n"
        "  -c, --config FILE  the configuration (default: $RELAYWATCH_CONFIG, then\n"
        "                     " CONFIG_DEFAULT_PATH ")\n"
        "\n"
        "Exit status: 0 every route delivered; 1 some route did not; 2 no route is\n"
        "configured, or the configuration could not be read; 64 a usage error.\n";

static int cmd_test(int argc, char **argv, FILE *out, FILE *errout);

const struct cli_command cmd_alert_command = {"alert", TEST_USAGE, TEST_SUMMARY, help, cmd_alert};
static const struct cli_command test_command = {"alert test", TEST_USAGE, TEST_SUMMARY, help,
                                                cmd_test};

/* ------------------------------------------------------------ the test alert */

/* The highest severity `route` takes (INFO when it names none). */
static enum finding_severity top_severity(const struct config_alert_route *route)
{
        int s;

        for (s = FINDING_CRITICAL; s > FINDING_INFO; s--) {
                if (route->severities & (1u << s))
                        return (enum finding_severity)s;
        }
        return FINDING_INFO;
}

/* Who the alert says it is from: [alerting] source, else the watchdog's id. */
static const char *source_of(const struct config *cfg)
{
        if (cfg->alert_source != NULL && cfg->alert_source[0] != '\0')
                return cfg->alert_source;
        if (cfg->watchdog_id != NULL && cfg->watchdog_id[0] != '\0')
                return cfg->watchdog_id;
        return "relaywatch";
}

/*
 * The test alert for `route`. Its subject holds the time, so each test is
 * an alert of its own (a receiver that deduplicates, as PagerDuty does,
 * would otherwise fold a second test into the first and page nobody). Its
 * runbook link is the runbooks' README, which exists wherever they do.
 */
static int build_test(const struct config *cfg, const struct config_alert_route *route,
                      struct alert *a)
{
        char at[RWCLOCK_UTC_SIZE];
        cJSON *details = cJSON_CreateObject();

        memset(a, 0, sizeof *a);
        a->opened_ms = a->at_ms = rwclock_wall_ms();
        (void)rwclock_format_utc(a->at_ms, at, NULL);
        (void)snprintf(a->name, sizeof a->name, "%s", RUNBOOK_NAME);
        alert_set_runbook(a, cfg);
        (void)snprintf(a->name, sizeof a->name, "%s", TEST_NAME);
        (void)snprintf(a->subject, sizeof a->subject, "route %s at %s", route->name, at);
        alert_dedup_key(a->name, a->subject, a->dedup_key);
        a->severity = top_severity(route);
        a->state = ALERT_FIRING;
        a->purpose = ALERT_TEST;
        a->seq = 1;
        (void)snprintf(a->summary, sizeof a->summary,
                       "relaywatch test alert from %s: if you can read this, %s works",
                       source_of(cfg), route->name);
        cycle_new_correlation_id(a->correlation_id, sizeof a->correlation_id);
        if (details != NULL && cJSON_AddBoolToObject(details, "test", 1) != NULL &&
            cJSON_AddStringToObject(details, "route", route->name) != NULL &&
            cJSON_AddStringToObject(details, "type", config_receiver_type_name(route->type)) !=
                    NULL)
                a->details_json = cJSON_PrintUnformatted(details);
        cJSON_Delete(details);
        return a->details_json != NULL ? RW_OK : RW_ERR_NOMEM;
}

/* "\\xNN" at s: an escape the sender wrote, four bytes to keep whole. */
static int is_escape(const char *s)
{
        static const char hex[] = "0123456789abcdefABCDEF";

        return s[0] == '\\' && s[1] == 'x' && s[2] != '\0' && strchr(hex, s[2]) != NULL &&
               s[3] != '\0' && strchr(hex, s[3]) != NULL;
}

/*
 * The start of the receiver's answer for one line between quotes. The
 * sender hands it over escaped already (control characters as \xNN) and
 * with the route's secrets redacted; this cuts it after about ANSWER_SHOWN
 * bytes, never inside an escape, escapes '"' (and any control character
 * left) the same way, and ends with "..." when there was more.
 */
static void shown_answer(const char *answer, char *out, size_t cap)
{
        size_t i = 0, n = 0;

        while (i < ANSWER_SHOWN && answer[i] != '\0' && n + 8 < cap) {
                unsigned char c = (unsigned char)answer[i];

                if (is_escape(answer + i)) {
                        memcpy(out + n, answer + i, 4);
                        n += 4;
                        i += 4;
                } else if (c < 0x20 || c == 0x7f || c == '"') {
                        n += (size_t)snprintf(out + n, cap - n, "\\x%02x", c);
                        i++;
                } else {
                        out[n++] = (char)c;
                        i++;
                }
        }
        out[n] = '\0';
        if (answer[i] != '\0')
                (void)snprintf(out + n, cap - n, "...");
}

/* Sends the test through `route` and prints its line. 1 when delivered. */
static int test_route(const struct config *cfg, const struct config_alert_route *route, FILE *out)
{
        char answer[ANSWER_MAX], shown[4 * ANSWER_SHOWN + 8];
        struct rwerr err = {{0}};
        struct alert a;
        long status = 0;
        int rc;

        answer[0] = '\0';
        rc = build_test(cfg, route, &a);
        if (rc == RW_OK)
                rc = alert_send_once(cfg, route, &a, &status, answer, sizeof answer, &err);
        else
                (void)rwerr_set(&err, rc, "out of memory building the test alert");
        alert_release(&a);
        answer[sizeof answer - 1] = '\0';
        shown_answer(answer, shown, sizeof shown);
        fprintf(out, "%-16s %-12s %-9s %3ld \"%s\"", route->name,
                config_receiver_type_name(route->type), rc == RW_OK ? "delivered" : "FAILED",
                status, shown);
        if (rc != RW_OK)
                fprintf(out, ": %s", err.msg);
        fprintf(out, "\n");
        fflush(out);
        return rc == RW_OK;
}

/* ------------------------------------------------------------ the routes */

static const struct config_alert_route *find_route(const struct config *cfg, const char *name)
{
        size_t i;

        for (i = 0; i < cfg->nroutes; i++) {
                if (strcmp(cfg->routes[i].name, name) == 0)
                        return &cfg->routes[i];
        }
        return NULL;
}

/* "a, b, c" into out[cap], cut to fit. */
static void route_names(const struct config *cfg, char *out, size_t cap)
{
        size_t i, n = 0;

        out[0] = '\0';
        for (i = 0; i < cfg->nroutes && n < cap; i++) {
                int w = snprintf(out + n, cap - n, "%s%s", i > 0 ? ", " : "", cfg->routes[i].name);

                if (w < 0)
                        break;
                n += (size_t)w;
        }
}

static void no_routes(const struct config *cfg, FILE *errout)
{
        cli_error(&test_command, errout,
                  "%s configures no alert route, so there is nothing to test. Add one section\n"
                  "per receiver, for example:\n"
                  "\n"
                  "  [alert oncall]\n"
                  "  type = pagerduty\n"
                  "  routing_key = ${PAGERDUTY_ROUTING_KEY}\n"
                  "\n"
                  "(types: pagerduty, slack, email, webhook, alertmanager; see the README), then "
                  "run `relaywatch alert test` again.",
                  cfg->path);
}

static int run_tests(const struct config *cfg, const char *only, FILE *out, FILE *errout)
{
        const struct config_alert_route *route;
        char names[1024];
        size_t i, delivered = 0;

        if (cfg->nroutes == 0) {
                no_routes(cfg, errout);
                return EXIT_CANNOT;
        }
        if (only != NULL) {
                if ((route = find_route(cfg, only)) == NULL) {
                        route_names(cfg, names, sizeof names);
                        return cli_usage_error(&test_command, errout,
                                               "no route '%s' in %s; the routes there are: %s",
                                               only, cfg->path, names);
                }
                return test_route(cfg, route, out) ? CLI_EXIT_OK : EXIT_SOME_FAILED;
        }
        for (i = 0; i < cfg->nroutes; i++)
                delivered += (size_t)test_route(cfg, &cfg->routes[i], out);
        return delivered == cfg->nroutes ? CLI_EXIT_OK : EXIT_SOME_FAILED;
}

/* ------------------------------------------------------------ the command */

static int cmd_test(int argc, char **argv, FILE *out, FILE *errout)
{
        static const struct cli_option options[] = {CLI_OPTION_CONFIG};
        const char *config = NULL;
        struct cli_setup s;
        struct cli_args a;
        int code, opt;

        /* "alert test oncall -c FILE" and "alert test -c FILE oncall" are one */
        cli_args_init(&a, &test_command, options, CLI_NOPTIONS(options), argc, argv, out, errout);
        while ((opt = cli_args_next_around_word(&a)) > 0)
                config = a.value;
        if (opt == CLI_ARGS_EXIT)
                return a.exit_code;
        cli_setup_init(&s, &test_command, errout);
        if (cli_setup_config(&s, config) != RW_OK)
                return EXIT_CANNOT;
        code = run_tests(s.cfg, a.word, out, errout);
        cli_setup_release(&s);
        return code;
}

int cmd_alert(int argc, char **argv, FILE *out, FILE *errout)
{
        const struct cli_command *cmd = &cmd_alert_command;

        if (argc >= 2 && strcmp(argv[1], "test") == 0)
                return cmd_test(argc - 1, argv + 1, out, errout);
        if (argc >= 2 && cli_is_help(argv[1])) {
                cli_print_help(cmd, out);
                return CLI_EXIT_OK;
        }
        if (argc < 2)
                return cli_usage_error(cmd, errout, "a subcommand is required: test");
        return cli_usage_error(cmd, errout, "unknown subcommand '%s'; the one there is: test",
                               argv[1]);
}
