#include "cmd_validate.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "config.h"
#include "cycle.h"
#include "hex.h"

static const char validate_usage[] =
        "Usage: relaywatch validate [-c FILE] [--json]\n"
        "\n"
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

void cmd_validate_tier1_names(const struct cycle_result *r, enum verdict_status status, char *out,
                              size_t cap)
{
        size_t i, used = 0;

        out[0] = '\0';
        for (i = 0; i < r->nverdicts; i++) {
                const struct verdict *v = &r->verdicts[i];
                int n;

                if (v->tier != VERDICT_TIER_HALT || v->status != status ||
                    v->mode != INVARIANT_ENFORCE)
                        continue;
                n = snprintf(out + used, cap - used, "%s%s", used ? ", " : "", v->invariant);
                if (n < 0 || (size_t)n >= cap - used)
                        return;
                used += (size_t)n;
        }
}

static void print_heights(const struct snapshot *s, FILE *out)
{
        size_t role;

        for (role = 0; role < SNAP_NCHAINS; role++) {
                const struct snap_chain *ch = &s->chains[role];
                char hash[HEX_ENCODED_SIZE(32)] = "";
                char indexed[64];

                if (!ch->ok) {
                        fprintf(out, "%-9s chain %" PRIu64 ": not read: %s\n",
                                snap_chain_role_name((enum snap_chain_role)role), ch->chain_id,
                                ch->error);
                        continue;
                }
                (void)hex_encode(ch->views[0].block_hash, 32, hash, sizeof hash);
                if (s->ledger.ok && ch->ledger_indexed)
                        (void)snprintf(indexed, sizeof indexed, "ledger indexed through %" PRIu64,
                                       ch->indexed_through);
                else
                        (void)snprintf(indexed, sizeof indexed, "%s",
                                       s->ledger.ok ? "ledger has not indexed it"
                                                    : "ledger not read");
                fprintf(out,
                        "%-9s chain %" PRIu64 ": pinned at block %" PRIu64 " %s (head %" PRIu64
                        ", %s) via %s\n",
                        snap_chain_role_name((enum snap_chain_role)role), ch->chain_id, ch->pinned,
                        hash, ch->head, indexed, ch->views[0].endpoint);
        }
        if (!s->ledger.ok)
                fprintf(out, "ledger: not read: %s\n", s->ledger.error);
}

static const char *status_word(const struct verdict *v)
{
        switch (v->status) {
        case VERDICT_OK:
                return "ok";
        case VERDICT_VIOLATED:
                return v->tier == VERDICT_TIER_HALT ? "VIOLATED" : "ALERT";
        case VERDICT_UNKNOWN:
                return "UNKNOWN";
        }
        return "invalid";
}

static void print_table(const struct cycle_result *r, FILE *out)
{
        size_t i;

        print_heights(&r->snapshot, out);
        fprintf(out, "\n%-24s %-5s %-7s %-9s %s\n", "CHECK", "TIER", "MODE", "STATUS", "DETAIL");
        for (i = 0; i < r->nverdicts; i++) {
                const struct verdict *v = &r->verdicts[i];

                fprintf(out, "%-24s %-5d %-7s %-9s %s\n", v->invariant, (int)v->tier,
                        v->tier == VERDICT_TIER_HALT ? invariant_mode_name(v->mode) : "-",
                        status_word(v), v->summary);
        }
        for (i = 0; i < r->nverdicts; i++) {
                const struct verdict *v = &r->verdicts[i];
                char *text;

                if (v->status == VERDICT_OK || v->evidence == NULL)
                        continue;
                text = cJSON_PrintUnformatted(v->evidence);
                if (text != NULL)
                        fprintf(out, "\n%s evidence: %s\n", v->invariant, text);
                free(text);
        }
        fprintf(out, "\ncycle %s took %" PRIu64 " ms%s\n", r->snapshot.correlation_id,
                r->duration_ms,
                r->confirmed ? " (violations re-read through other endpoints)" : "");
}

static void final_line(const struct cycle_result *r, FILE *out)
{
        char names[512];

        if (r->tier1 == VERDICT_VIOLATED) {
                cmd_validate_tier1_names(r, VERDICT_VIOLATED, names, sizeof names);
                fprintf(out, "INVARIANT VIOLATED: %s\n", names);
        } else if (r->tier1 == VERDICT_UNKNOWN) {
                cmd_validate_tier1_names(r, VERDICT_UNKNOWN, names, sizeof names);
                fprintf(out, "INVARIANT NOT EVALUATED: %s could not be evaluated\n", names);
        } else {
                fprintf(out, "INVARIANT VALID\n");
        }
}

void cmd_validate_print(const struct cycle_result *r, FILE *out)
{
        print_table(r, out);
        final_line(r, out);
}

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
        cmd_validate_tier1_names(r, r->tier1, names, sizeof names);
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

int cmd_validate_cycle(const struct config *cfg, struct cycle_result *out, struct rwerr *err)
{
        /* every anchor from the deploy block, every batch, the latest rows: no cursor */
        struct observe_window w = {-1, 0, 0, -1, -1, 0, 0};
        struct observer *obs;
        int rc;

        memset(out, 0, sizeof *out);
        if ((obs = observer_new(cfg, err)) == NULL)
                return RW_ERR_INVALID;
        rc = cycle_run(obs, &cfg->params, &w, 0, out, err);
        observer_free(obs);
        return rc;
}

int cmd_validate(int argc, char **argv, FILE *out, FILE *errout)
{
        const char *given = NULL;
        struct cycle_result result;
        struct config *cfg = NULL;
        struct rwerr err = {{0}};
        int json = 0, i, code = 2;

        for (i = 1; i < argc; i++) {
                if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) &&
                    i + 1 < argc) {
                        given = argv[++i];
                } else if (strcmp(argv[i], "--json") == 0) {
                        json = 1;
                } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
                        fputs(validate_usage, out);
                        return CLI_EXIT_OK;
                } else {
                        fprintf(errout, "relaywatch validate: unexpected argument '%s'\n%s",
                                argv[i], validate_usage);
                        return CLI_EXIT_USAGE;
                }
        }
        memset(&result, 0, sizeof result);
        if ((cfg = config_load(config_path(given), errout, &err)) == NULL) {
                fprintf(errout, "relaywatch validate: %s\n", err.msg);
                return 2;
        }
        if (cmd_validate_cycle(cfg, &result, &err) != RW_OK) {
                fprintf(errout, "relaywatch validate: %s\n", err.msg);
                goto done;
        }
        if (json) {
                if (print_json(&result, out) != RW_OK) {
                        fprintf(errout, "relaywatch validate: out of memory printing JSON\n");
                        goto done;
                }
        } else {
                cmd_validate_print(&result, out);
        }
        code = verdict_exit_code(result.tier1);
done:
        cycle_result_release(&result);
        config_free(cfg);
        return code;
}
