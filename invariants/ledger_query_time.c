/* LEDGER_QUERY_TIME (tracked): the slowest ledger query of the cycle; the evidence lists each. */
#include <cjson/cJSON.h>

#include "checks.h"
#include "evidence.h"

static void evaluate(const struct snapshot *s, const size_t view[SNAP_NCHAINS],
                     const struct invariant_params *p, struct verdict *out)
{
        const struct snap_ledger *l = &s->ledger;
        cJSON *ev = verdict_evidence(out), *arr = cJSON_AddArrayToObject(ev, "queries");
        const char *slowest = NULL;
        double worst = 0;
        size_t i, n = l->nqueries > SNAP_QUERIES_MAX ? SNAP_QUERIES_MAX : l->nqueries;

        (void)view;
        (void)p;
        out->unit = "ms";
        for (i = 0; i < n; i++) {
                const struct snap_query_time *q = &l->queries[i];
                const char *name = q->name != NULL ? q->name : "(unnamed)";
                cJSON *o = cJSON_CreateObject();

                if (slowest == NULL || q->ms > worst) {
                        worst = q->ms;
                        slowest = name;
                }
                if (o == NULL || !cJSON_AddItemToArray(arr, o)) {
                        cJSON_Delete(o);
                        continue;
                }
                evidence_str(o, "query", name);
                cJSON_AddNumberToObject(o, "ms", q->ms);
        }
        if (slowest == NULL) {
                verdict_set(out, VERDICT_OK, "no ledger queries timed this cycle");
                return;
        }
        out->has_value = 1;
        out->value = worst;
        verdict_set(out, VERDICT_OK, "%zu ledger queries, slowest %s at %.1f ms", n, slowest,
                    worst);
}

const struct invariant ledger_query_time_check = {
        .name = "LEDGER_QUERY_TIME",
        .tier = VERDICT_TIER_TRACK,
        .weighs_views = 0,
        .evaluate = evaluate,
};
