#include "cli_report.h"

#include <inttypes.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "hex.h"

void cli_report_tier1_names(const struct cycle_result *r, enum verdict_status status, char *out,
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
                cli_report_tier1_names(r, VERDICT_VIOLATED, names, sizeof names);
                fprintf(out, "INVARIANT VIOLATED: %s\n", names);
        } else if (r->tier1 == VERDICT_UNKNOWN) {
                cli_report_tier1_names(r, VERDICT_UNKNOWN, names, sizeof names);
                fprintf(out, "INVARIANT NOT EVALUATED: %s could not be evaluated\n", names);
        } else {
                fprintf(out, "INVARIANT VALID\n");
        }
}

void cli_report_table(const struct cycle_result *r, FILE *out)
{
        print_table(r, out);
        final_line(r, out);
}
