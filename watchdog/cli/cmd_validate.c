#include "cmd_validate.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "cli_report.h"
#include "cli_setup.h"
#include "config.h"
#include "cycle.h"

static const char help[] =
        "Runs one full cycle of every check against the chains and the ledger and\n"
        "prints a table of the results, ending in \"INVARIANT VALID\" or\n"
        "\"INVARIANT VIOLATED: <names>\". Changes nothing: no halt, no cursor.\n"
        "\n"
        "  -c, --config FILE  the configuration (default: $RELAYWATCH_CONFIG, then\n"
        "                     " CONFIG_DEFAULT_PATH ")\n"
        "  --json             one JSON object for machines instead of the table\n"
        "\n"
        "Exit status: 0 every Tier 1 check valid, 1 a Tier 1 check violated,\n"
        "2 a Tier 1 check could not be evaluated (e.g. no endpoint reachable).\n";

/* The verdict as JSON; its evidence moves into the result (nothing is copied). */
static cJSON *verdict_json(struct verdict *v)
{
        cJSON *o = cJSON_CreateObject();

        if (o == NULL)
                return NULL;
        cJSON_AddStringToObject(o, "check", v->invariant);
        cJSON_AddNumberToObject(o, "tier", (double)v->tier);
        cJSON_AddStringToObject(o, "mode", invariant_mode_name(v->mode));
        cJSON_AddStringToObject(o, "status", verdict_status_name(v->status));
        cJSON_AddStringToObject(o, "summary", v->summary);
        if (v->has_value) {
                cJSON_AddNumberToObject(o, "value", v->value);
                cJSON_AddStringToObject(o, "unit", v->unit ? v->unit : "");
        }
        if (v->evidence != NULL && cJSON_AddItemToObject(o, "evidence", v->evidence))
                v->evidence = NULL;
        return o;
}

static int print_json(struct cycle_result *r, FILE *out)
{
        const struct snapshot *s = &r->snapshot;
        cJSON *root = cJSON_CreateObject(), *heights, *list;
        char names[512];
        char *text;
        size_t i;

        if (root == NULL)
                return RW_ERR_NOMEM;
        cJSON_AddStringToObject(root, "result",
                                r->tier1 == VERDICT_OK         ? "valid"
                                : r->tier1 == VERDICT_VIOLATED ? "violated"
                                                               : "not-evaluated");
        cli_report_tier1_names(r, r->tier1, names, sizeof names);
        cJSON_AddStringToObject(root, "tier1", r->tier1 == VERDICT_OK ? "" : names);
        cJSON_AddNumberToObject(root, "exit_code", verdict_exit_code(r->tier1));
        cJSON_AddStringToObject(root, "correlation_id", s->correlation_id);
        cJSON_AddNumberToObject(root, "cycle_ms", (double)r->duration_ms);
        cJSON_AddBoolToObject(root, "confirmed_through_other_endpoints", r->confirmed);
        heights = cJSON_AddObjectToObject(root, "heights");
        for (i = 0; heights != NULL && i < SNAP_NCHAINS; i++) {
                const struct snap_chain *ch = &s->chains[i];
                cJSON *h = cJSON_AddObjectToObject(heights,
                                                   snap_chain_role_name((enum snap_chain_role)i));

                if (h == NULL)
                        break;
                cJSON_AddNumberToObject(h, "chain_id", (double)ch->chain_id);
                cJSON_AddBoolToObject(h, "read", ch->ok);
                if (!ch->ok)
                        cJSON_AddStringToObject(h, "error", ch->error);
                cJSON_AddNumberToObject(h, "head", (double)ch->head);
                cJSON_AddNumberToObject(h, "indexed_through", (double)ch->indexed_through);
                cJSON_AddNumberToObject(h, "pinned", (double)ch->pinned);
        }
        list = cJSON_AddArrayToObject(root, "checks");
        for (i = 0; list != NULL && i < r->nverdicts; i++)
                cJSON_AddItemToArray(list, verdict_json(&r->verdicts[i]));
        text = cJSON_PrintUnformatted(root);
        cJSON_Delete(root);
        if (text == NULL)
                return RW_ERR_NOMEM;
        fprintf(out, "%s\n", text);
        free(text);
        return RW_OK;
}

const struct cli_command cmd_validate_command = {
        "validate", "relaywatch validate [-c FILE] [--json]",
        "run one cycle of every check and print the verdicts; exit 0 valid, 1 violated, 2 "
        "could not evaluate",
        help, cmd_validate};

int cmd_validate(int argc, char **argv, FILE *out, FILE *errout)
{
        enum { OPT_JSON = CLI_OPT_LONG };
        static const struct cli_option options[] = {CLI_OPTION_CONFIG, {"json", OPT_JSON, NULL}};
        const char *given = NULL;
        struct cycle_result result;
        struct cli_setup s;
        struct cli_args a;
        struct rwerr err = {{0}};
        int json = 0, opt, code = 2;

        cli_args_init(&a, &cmd_validate_command, options, CLI_NOPTIONS(options), argc, argv, out,
                      errout);
        while ((opt = cli_args_next(&a)) > 0) {
                if (opt == 'c')
                        given = a.value;
                else
                        json = 1;
        }
        if (opt == CLI_ARGS_EXIT)
                return a.exit_code;
        memset(&result, 0, sizeof result);
        cli_setup_init(&s, &cmd_validate_command, errout);
        if (cli_setup_config(&s, given) != RW_OK)
                return 2; /* nothing could be evaluated, which is never "valid" */
        if (cycle_validate(s.cfg, &result, &err) != RW_OK) {
                cli_error(&cmd_validate_command, errout, "%s", err.msg);
                goto done;
        }
        if (json) {
                if (print_json(&result, out) != RW_OK) {
                        cli_error(&cmd_validate_command, errout, "out of memory printing JSON");
                        goto done;
                }
        } else {
                cli_report_table(&result, out);
        }
        code = verdict_exit_code(result.tier1);
done:
        cycle_result_release(&result);
        cli_setup_release(&s);
        return code;
}
