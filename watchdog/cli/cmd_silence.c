#include "cmd_silence.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "alert.h"
#include "alert_history.h"
#include "cli.h"
#include "cli_setup.h"
#include "config.h"
#include "invariant.h"
#include "rwclock.h"
#include "silence.h"

#define EXIT_REFUSED 1
#define EXIT_CANNOT 2
#define TARGET_MAX (ALERT_NAME_MAX + ALERT_SUBJECT_MAX + 32)

#define ADD_USAGE "relaywatch silence add NAME[:SUBJECT] --for DURATION --reason TEXT [-c FILE]"
#define LIST_USAGE "relaywatch silence list [--json] [-c FILE]"
#define EXPIRE_USAGE "relaywatch silence expire ID [-c FILE]"

static const char help[] =
        "Holds the pages of one alert for a while, with a reason, so a known problem\n"
        "does not wake anyone again; lists the silences in force; ends one early.\n"
        "A silence holds only the messages: the alert is still tracked, kept and\n"
        "logged, and sent if it is still open when the silence ends. A silence NEVER\n"
        "stops a Tier 1 HALT, only its page. Kept in STATE_DIR/silences.json.\n"
        "\n"
        "  relaywatch silence add NAME[:SUBJECT] --for DURATION --reason TEXT\n"
        "      NAME is the alert's name (SUPPLY_MISMATCH, HALT_PATH_DOWN, ...); with\n"
        "      :SUBJECT only that subject's alert ('SUPPLY_MISMATCH:asset SIGIL'),\n"
        "      without it every subject. DURATION: 45s, 90m, 2h, 1d (1 minute to 7\n"
        "      days). Prints the silence's id and when it ends (UTC).\n"
        "  relaywatch silence list [--json]\n"
        "      The silences in force: id, alert, end, who added it and why.\n"
        "  relaywatch silence expire ID\n"
        "      Ends silence ID now.\n"
        "\n"
        "  -c, --config FILE  the configuration (default: $RELAYWATCH_CONFIG, then\n"
        "                     " CONFIG_DEFAULT_PATH ")\n"
        "\n"
        "Exit status: 0 done; 1 refused (64 silences in force already, or no such\n"
        "silence to expire); 2 the configuration or the silences file could not be\n"
        "used; 64 a usage error.\n";

static int cmd_add(int argc, char **argv, FILE *out, FILE *errout);
static int cmd_list(int argc, char **argv, FILE *out, FILE *errout);
static int cmd_expire(int argc, char **argv, FILE *out, FILE *errout);

const struct cli_command cmd_silence_command = {
        "silence", "relaywatch silence add|list|expire ... [-c FILE]",
        "hold one alert's pages for a while, with a reason (add, list, expire); never a HALT", help,
        cmd_silence};
static const struct cli_command add_command = {"silence add", ADD_USAGE,
                                               "silence an alert for a while", help, cmd_add};
static const struct cli_command list_command = {"silence list", LIST_USAGE,
                                                "list the silences in force", help, cmd_list};
static const struct cli_command expire_command = {"silence expire", EXPIRE_USAGE,
                                                  "end a silence now", help, cmd_expire};

/* The findings paging knows besides the invariants (alert_tracker.h). */
static const char *const finding_names[] = {
        "HALT_NOT_ACKNOWLEDGED", "HALT_NOT_EFFECTIVE",    "HALT_PATH_DOWN",
        "WATCHDOG_BLIND",        "ENDPOINT_DISAGREEMENT", "ALERT_DELIVERY_FAILED",
};

/* ------------------------------------------------------------ shared by the subcommands */

/* Who is adding or ending a silence: $USER, else $LOGNAME, else "unknown". */
static const char *user_name(void)
{
        const char *u = getenv("USER");

        if (u == NULL || u[0] == '\0')
                u = getenv("LOGNAME");
        return u != NULL && u[0] != '\0' ? u : "unknown";
}

/* "NAME:SUBJECT" or "NAME" into name (cut at the first ':') and subject. */
static void split_target(const char *target, char *name, size_t name_cap, const char **subject)
{
        const char *colon = strchr(target, ':');
        size_t n = colon != NULL ? (size_t)(colon - target) : strlen(target);

        if (n >= name_cap)
                n = name_cap - 1; /* too long: silence_add says it is not a name */
        memcpy(name, target, n);
        name[n] = '\0';
        *subject = colon != NULL ? colon + 1 : "";
}

/* "SUPPLY_MISMATCH:asset SIGIL" or "SUPPLY_MISMATCH (every subject)". */
static void target_text(const struct silence *s, char *out, size_t cap)
{
        if (s->subject[0] != '\0')
                (void)snprintf(out, cap, "%s:%s", s->name, s->subject);
        else
                (void)snprintf(out, cap, "%s (every subject)", s->name);
}

/* Writes an info event about silence `s` to the alert history; a failure is a warning. */
static void record(const struct cli_command *cmd, const char *state_dir, const char *event_name,
                   const struct silence *s, const char *summary, FILE *errout)
{
        cJSON *details = cJSON_CreateObject();
        struct alert a;
        struct rwerr err = {{0}};

        memset(&a, 0, sizeof a);
        (void)snprintf(a.name, sizeof a.name, "%s", event_name);
        (void)snprintf(a.subject, sizeof a.subject, "%s", s->id);
        alert_dedup_key(a.name, a.subject, a.dedup_key);
        a.severity = FINDING_INFO;
        (void)snprintf(a.summary, sizeof a.summary, "%s", summary);
        a.opened_ms = a.at_ms = rwclock_wall_ms();
        if (details != NULL && cJSON_AddStringToObject(details, "silence", s->id) != NULL &&
            cJSON_AddStringToObject(details, "name", s->name) != NULL &&
            cJSON_AddStringToObject(details, "subject", s->subject) != NULL &&
            cJSON_AddStringToObject(details, "reason", s->reason) != NULL &&
            cJSON_AddStringToObject(details, "by", user_name()) != NULL &&
            cJSON_AddNumberToObject(details, "ends_ms", (double)s->ends_ms) != NULL)
                a.details_json = cJSON_PrintUnformatted(details);
        cJSON_Delete(details);
        if (alert_history_append(state_dir, "info", &a, &err) != RW_OK)
                cli_error(cmd, errout,
                          "warning: the silences file is up to date, but the alert history "
                          "does not record the change: %s",
                          err.msg);
        alert_release(&a);
}

/* Reads the silences, or says why not. RW_OK or the error, reported. */
static int load(const struct cli_command *cmd, const struct config *cfg, struct silence_set *set,
                FILE *errout)
{
        struct rwerr err = {{0}};

        if (silence_load(cfg->state_dir, set, &err) == RW_OK)
                return RW_OK;
        cli_error(cmd, errout, "the silences cannot be read: %s", err.msg);
        return RW_ERR_IO;
}

static int save(const struct cli_command *cmd, const struct config *cfg,
                const struct silence_set *set, FILE *errout)
{
        struct rwerr err = {{0}};

        if (silence_save(cfg->state_dir, set, &err) == RW_OK)
                return RW_OK;
        cli_error(cmd, errout, "the silences cannot be written: %s", err.msg);
        return RW_ERR_IO;
}

/* ------------------------------------------------------------ add */

enum { OPT_FOR = CLI_OPT_LONG, OPT_REASON };

struct add_args {
        const char *config, *target, *duration, *reason;
        char name[ALERT_NAME_MAX + 1]; /* one more: a name too long stays too long */
        const char *subject;
        int64_t for_ms;
};

static int is_finding(const char *name)
{
        size_t i;

        for (i = 0; i < sizeof finding_names / sizeof finding_names[0]; i++) {
                if (strcmp(finding_names[i], name) == 0)
                        return 1;
        }
        return 0;
}

/* What the operator must know about silencing `name`: unknown, Tier 1, Tier 3. */
static void explain_name(const char *name, FILE *out, FILE *errout)
{
        const struct invariant *inv = invariant_find(name);

        if (inv == NULL && !is_finding(name))
                fprintf(errout,
                        "relaywatch silence add: warning: %s is not an invariant or a finding "
                        "relaywatch knows; the silence is kept, but it may never hold anything\n",
                        name);
        else if (inv != NULL && inv->tier == VERDICT_TIER_HALT)
                fprintf(out,
                        "%s is a Tier 1 invariant: this silence holds its page only. It never "
                        "stops the HALT: when %s is violated the relayer is still halted.\n",
                        name, name);
        else if (inv != NULL && inv->tier == VERDICT_TIER_TRACK)
                fprintf(errout,
                        "relaywatch silence add: warning: %s is a Tier 3 check: it is tracked, "
                        "never paged, so this silence holds nothing\n",
                        name);
}

/*
 * Checks what add is given the way silence_add will, on an empty set, so a
 * mistake is a usage error before the configuration is read. -1 to go on.
 */
static int check_add(struct add_args *x, FILE *errout)
{
        struct silence_set *scratch;
        struct rwerr err = {{0}};
        int rc;

        if (silence_parse_duration(x->duration, &x->for_ms, &err) != RW_OK)
                return cli_usage_error(&add_command, errout, "--for %s", err.msg);
        split_target(x->target, x->name, sizeof x->name, &x->subject);
        if ((scratch = calloc(1, sizeof *scratch)) == NULL) {
                cli_error(&add_command, errout, "out of memory");
                return EXIT_CANNOT;
        }
        rc = silence_add(scratch, x->name, x->subject, x->reason, NULL, rwclock_wall_ms(),
                         x->for_ms, NULL, &err);
        free(scratch);
        if (rc == RW_OK)
                return -1;
        if (rc == RW_ERR_NOMEM || rc == RW_ERR_IO) {
                cli_error(&add_command, errout, "%s", err.msg);
                return EXIT_CANNOT;
        }
        if (x->for_ms < 60000 || x->for_ms > SILENCE_FOR_MAX_MS)
                return cli_usage_error(&add_command, errout, "--for '%s': %s", x->duration,
                                       err.msg);
        return cli_usage_error(&add_command, errout, "%s", err.msg);
}

/* -1 to go on, else the exit status (0 after --help, 64: reported). */
static int parse_add(int argc, char **argv, struct add_args *x, FILE *out, FILE *errout)
{
        static const struct cli_option options[] = {
                CLI_OPTION_CONFIG,
                {"for", OPT_FOR, "DURATION"},
                {"reason", OPT_REASON, "TEXT"},
        };
        struct cli_args a;
        int opt;

        memset(x, 0, sizeof *x);
        cli_args_init(&a, &add_command, options, CLI_NOPTIONS(options), argc, argv, out, errout);
        while ((opt = cli_args_next_around_word(&a)) > 0) {
                if (opt == 'c')
                        x->config = a.value;
                else if (opt == OPT_FOR)
                        x->duration = a.value;
                else
                        x->reason = a.value;
        }
        if (opt == CLI_ARGS_EXIT)
                return a.exit_code;
        x->target = a.word;
        if (x->target == NULL)
                return cli_usage_error(&add_command, errout,
                                       "NAME is required: the alert to silence (NAME or "
                                       "NAME:SUBJECT)");
        if (x->duration == NULL)
                return cli_usage_error(&add_command, errout,
                                       "--for DURATION is required: how long (45s, 90m, 2h, 1d; "
                                       "at most 7d)");
        if (x->reason == NULL)
                return cli_usage_error(&add_command, errout,
                                       "--reason TEXT is required: say why the pages may wait");
        return check_add(x, errout);
}

static void print_added(const struct silence *s, const char *duration, FILE *out)
{
        char ends[RWCLOCK_UTC_SIZE], target[TARGET_MAX];

        (void)rwclock_format_utc(s->ends_ms, ends, NULL);
        target_text(s, target, sizeof target);
        fprintf(out, "silence %s added: %s until %s (%s)\n", s->id, target, ends, duration);
}

static void record_added(const struct config *cfg, const struct silence *s, FILE *errout)
{
        char summary[ALERT_SUMMARY_MAX], ends[RWCLOCK_UTC_SIZE], target[TARGET_MAX];

        (void)rwclock_format_utc(s->ends_ms, ends, NULL);
        target_text(s, target, sizeof target);
        (void)snprintf(summary, sizeof summary, "silence %s added by %s for %s until %s: %s", s->id,
                       s->created_by, target, ends, s->reason);
        record(&add_command, cfg->state_dir, "SILENCE_ADDED", s, summary, errout);
}

static int cmd_add(int argc, char **argv, FILE *out, FILE *errout)
{
        const struct cli_command *cmd = &add_command;
        struct silence_set *set = NULL;
        struct add_args x;
        struct silence s;
        struct cli_setup setup;
        struct rwerr err = {{0}};
        int code, rc;

        if ((code = parse_add(argc, argv, &x, out, errout)) >= 0)
                return code;
        cli_setup_init(&setup, cmd, errout);
        if (cli_setup_config(&setup, x.config) != RW_OK)
                return EXIT_CANNOT;
        code = EXIT_CANNOT;
        if ((set = calloc(1, sizeof *set)) == NULL) {
                cli_error(cmd, errout, "out of memory");
                goto done;
        }
        if (load(cmd, setup.cfg, set, errout) != RW_OK)
                goto done;
        rc = silence_add(set, x.name, x.subject, x.reason, user_name(), rwclock_wall_ms(), x.for_ms,
                         &s, &err);
        if (rc != RW_OK) {
                cli_error(cmd, errout, "%s", err.msg);
                code = rc == RW_ERR_RANGE ? EXIT_REFUSED : EXIT_CANNOT;
                goto done;
        }
        if (save(cmd, setup.cfg, set, errout) != RW_OK)
                goto done;
        print_added(&s, x.duration, out);
        explain_name(s.name, out, errout);
        record_added(setup.cfg, &s, errout);
        code = CLI_EXIT_OK;
done:
        free(set);
        cli_setup_release(&setup);
        return code;
}

/* ------------------------------------------------------------ list */

static void print_one(const struct silence *s, int64_t now, FILE *out)
{
        char ends[RWCLOCK_UTC_SIZE], target[TARGET_MAX];
        int64_t left = (s->ends_ms - now) / 1000;

        (void)rwclock_format_utc(s->ends_ms, ends, NULL);
        target_text(s, target, sizeof target);
        fprintf(out, "%s  %s  until %s (%lldh %02lldm left), by %s: %s\n", s->id, target, ends,
                (long long)(left / 3600), (long long)(left % 3600 / 60), s->created_by, s->reason);
}

static int print_list_json(const struct silence_set *set, int64_t now, FILE *out)
{
        cJSON *root = cJSON_CreateObject(), *list = silence_list_json(set, now);
        char *text = NULL;

        if (root != NULL && list != NULL && cJSON_AddItemToObject(root, "silences", list)) {
                list = NULL;
                text = cJSON_PrintUnformatted(root);
        }
        cJSON_Delete(list);
        cJSON_Delete(root);
        if (text == NULL)
                return RW_ERR_NOMEM;
        fprintf(out, "%s\n", text);
        free(text);
        return RW_OK;
}

static void print_list_text(const struct silence_set *set, int64_t now, FILE *out)
{
        size_t i, shown = 0;

        for (i = 0; i < set->n; i++) {
                if (set->items[i].ends_ms > now) {
                        print_one(&set->items[i], now, out);
                        shown++;
                }
        }
        if (shown == 0)
                fprintf(out, "no silence in force\n");
}

static int cmd_list(int argc, char **argv, FILE *out, FILE *errout)
{
        enum { OPT_JSON = CLI_OPT_LONG };
        static const struct cli_option options[] = {CLI_OPTION_CONFIG, {"json", OPT_JSON, NULL}};
        const struct cli_command *cmd = &list_command;
        struct silence_set *set = NULL;
        struct cli_setup setup;
        struct cli_args a;
        const char *config = NULL;
        int64_t now = rwclock_wall_ms();
        int json = 0, opt, code = EXIT_CANNOT;

        cli_args_init(&a, cmd, options, CLI_NOPTIONS(options), argc, argv, out, errout);
        while ((opt = cli_args_next(&a)) > 0) {
                if (opt == 'c')
                        config = a.value;
                else
                        json = 1;
        }
        if (opt == CLI_ARGS_EXIT)
                return a.exit_code;
        cli_setup_init(&setup, cmd, errout);
        if (cli_setup_config(&setup, config) != RW_OK)
                return EXIT_CANNOT;
        if ((set = calloc(1, sizeof *set)) == NULL) {
                cli_error(cmd, errout, "out of memory");
                goto done;
        }
        if (load(cmd, setup.cfg, set, errout) != RW_OK)
                goto done;
        code = CLI_EXIT_OK;
        if (!json) {
                print_list_text(set, now, out);
        } else if (print_list_json(set, now, out) != RW_OK) {
                cli_error(cmd, errout, "out of memory printing JSON");
                code = EXIT_CANNOT;
        }
done:
        free(set);
        cli_setup_release(&setup);
        return code;
}

/* ------------------------------------------------------------ expire */

static void record_expired(const struct config *cfg, const struct silence *s, FILE *errout)
{
        char summary[ALERT_SUMMARY_MAX], target[TARGET_MAX];

        target_text(s, target, sizeof target);
        (void)snprintf(summary, sizeof summary, "silence %s for %s expired by %s (added by %s: %s)",
                       s->id, target, user_name(), s->created_by, s->reason);
        record(&expire_command, cfg->state_dir, "SILENCE_EXPIRED", s, summary, errout);
}

/* Ends silence `id` in `set` and writes it. The exit status. */
static int expire_one(const struct config *cfg, struct silence_set *set, const char *id, FILE *out,
                      FILE *errout)
{
        const struct cli_command *cmd = &expire_command;
        struct rwerr err = {{0}};
        struct silence ended;
        char target[TARGET_MAX];
        size_t i;

        if (silence_expire(set, id, rwclock_wall_ms(), &err) != RW_OK) {
                cli_error(cmd, errout, "%s in %s/silences.json", err.msg, cfg->state_dir);
                return EXIT_REFUSED;
        }
        for (i = 0; i < set->n && strcmp(set->items[i].id, id) != 0; i++)
                ;
        if (i == set->n)
                return EXIT_CANNOT; /* cannot happen: silence_expire found it */
        ended = set->items[i];
        if (save(cmd, cfg, set, errout) != RW_OK)
                return EXIT_CANNOT;
        target_text(&ended, target, sizeof target);
        fprintf(out, "silence %s expired: %s pages again\n", ended.id, target);
        record_expired(cfg, &ended, errout);
        return CLI_EXIT_OK;
}

static int cmd_expire(int argc, char **argv, FILE *out, FILE *errout)
{
        static const struct cli_option options[] = {CLI_OPTION_CONFIG};
        const struct cli_command *cmd = &expire_command;
        struct silence_set *set = NULL;
        struct cli_setup setup;
        struct cli_args a;
        const char *config = NULL, *id;
        int code, opt;

        cli_args_init(&a, cmd, options, CLI_NOPTIONS(options), argc, argv, out, errout);
        while ((opt = cli_args_next_around_word(&a)) > 0)
                config = a.value;
        if (opt == CLI_ARGS_EXIT)
                return a.exit_code;
        id = a.word;
        if (id == NULL)
                return cli_usage_error(cmd, errout,
                                       "ID is required: the silence to end (see `relaywatch "
                                       "silence list`)");
        cli_setup_init(&setup, cmd, errout);
        if (cli_setup_config(&setup, config) != RW_OK)
                return EXIT_CANNOT;
        code = EXIT_CANNOT;
        if ((set = calloc(1, sizeof *set)) == NULL)
                cli_error(cmd, errout, "out of memory");
        else if (load(cmd, setup.cfg, set, errout) == RW_OK)
                code = expire_one(setup.cfg, set, id, out, errout);
        free(set);
        cli_setup_release(&setup);
        return code;
}

/* ------------------------------------------------------------ the command */

int cmd_silence(int argc, char **argv, FILE *out, FILE *errout)
{
        const struct cli_command *cmd = &cmd_silence_command;

        if (argc >= 2 && strcmp(argv[1], "add") == 0)
                return cmd_add(argc - 1, argv + 1, out, errout);
        if (argc >= 2 && strcmp(argv[1], "list") == 0)
                return cmd_list(argc - 1, argv + 1, out, errout);
        if (argc >= 2 && strcmp(argv[1], "expire") == 0)
                return cmd_expire(argc - 1, argv + 1, out, errout);
        if (argc >= 2 && cli_is_help(argv[1])) {
                cli_print_help(cmd, out);
                return CLI_EXIT_OK;
        }
        if (argc < 2)
                return cli_usage_error(cmd, errout,
                                       "a subcommand is required: add, list or expire");
        return cli_usage_error(cmd, errout,
                               "unknown subcommand '%s'; there are add, list and expire", argv[1]);
}
