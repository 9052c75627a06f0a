/* DB_CONNECTION_LOST: the ledger connection failed too many times in a row. */
#include <cjson/cJSON.h>

#include "checks.h"
#include "evidence.h"

static void evaluate(const struct snapshot *s, const size_t view[SNAP_NCHAINS],
                     const struct invariant_params *p, struct verdict *out)
{
        cJSON *ev = verdict_evidence(out);

        (void)view;
        (void)p;
        cJSON_AddBoolToObject(ev, "connection_lost", s->ledger.connection_lost != 0);
        cJSON_AddBoolToObject(ev, "ledger_read", s->ledger.ok != 0);
        cJSON_AddNumberToObject(ev, "consecutive_failures", (double)s->ledger.consecutive_failures);
        if (!s->ledger.ok)
                evidence_str(ev, "ledger_error", s->ledger.error);
        if (s->ledger.connection_lost) {
                evidence_str(ev, "reason", s->ledger.connection_reason);
                verdict_set(out, VERDICT_VIOLATED, "ledger database connection lost: %s",
                            s->ledger.connection_reason);
                return;
        }
        if (!s->ledger.ok) {
                /* below the threshold: not yet an alert, but not "up" either */
                verdict_set(out, VERDICT_OK,
                            "ledger not read this cycle (%u connection failure%s in a row, not yet "
                            "lost): %s",
                            s->ledger.consecutive_failures,
                            s->ledger.consecutive_failures == 1 ? "" : "s", s->ledger.error);
                return;
        }
        verdict_set(out, VERDICT_OK, "ledger database connection up");
}

const struct invariant db_connection_lost_check = {
        .name = "DB_CONNECTION_LOST",
        .tier = VERDICT_TIER_ALERT,
        .weighs_views = 0,
        .evaluate = evaluate,
};
