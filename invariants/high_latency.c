/*
 * HIGH_LATENCY: relayer cycles (from the ledger) over relayer_cycle_ms, or
 * the watchdog's own last cycle over watchdog_cycle_ms. At the limit is fine.
 */
#include <stdio.h>

#include <cjson/cJSON.h>

#include "checks.h"
#include "evidence.h"

#define IDS_LISTED 100 /* slow cycle ids in the evidence */
#define IDS_TEXT 96    /* slow cycle ids in the summary */

static void evaluate(const struct snapshot *s, const size_t view[SNAP_NCHAINS],
                     const struct invariant_params *p, struct verdict *out)
{
        const struct snap_ledger *l = &s->ledger;
        char ids[IDS_TEXT] = "", relayer[INVARIANT_SUMMARY_MAX] = "";
        char watchdog[INVARIANT_SUMMARY_MAX] = "";
        cJSON *ev = verdict_evidence(out), *arr = NULL;
        size_t i, nslow = 0, len = 0;
        int cut = 0;
        uint64_t worst = 0, worst_id = 0;

        (void)view;
        evidence_u64(ev, "relayer_cycle_ms_limit", p->relayer_cycle_ms);
        evidence_u64(ev, "watchdog_cycle_ms_limit", p->watchdog_cycle_ms);
        evidence_u64(ev, "watchdog_previous_cycle_ms", s->previous_cycle_ms);
        evidence_u64(ev, "observe_ms", s->observe_ms);
        if (l->ok) {
                evidence_u64(ev, "relayer_cycles", l->ncycles);
                arr = cJSON_AddArrayToObject(ev, "slow_cycles");
        }
        for (i = 0; l->ok && l->cycles != NULL && i < l->ncycles; i++) {
                const struct snap_cycle_timing *c = &l->cycles[i];

                if (c->duration_ms <= p->relayer_cycle_ms)
                        continue;
                if (nslow++ < IDS_LISTED) {
                        cJSON *o = cJSON_CreateObject();

                        if (o != NULL && !cJSON_AddItemToArray(arr, o))
                                cJSON_Delete(o);
                        else {
                                evidence_u64(o, "cycle_id", c->cycle_id);
                                evidence_u64(o, "duration_ms", c->duration_ms);
                        }
                }
                if (!cut) {
                        int n = snprintf(ids + len, sizeof ids - len, "%s%llu", len > 0 ? ", " : "",
                                         (unsigned long long)c->cycle_id);

                        if (n < 0 || (size_t)n >= sizeof ids - len) {
                                ids[len] = '\0'; /* whole ids only */
                                cut = 1;
                        } else {
                                len += (size_t)n;
                        }
                }
                if (c->duration_ms > worst) {
                        worst = c->duration_ms;
                        worst_id = c->cycle_id;
                }
        }
        if (nslow > 0)
                evidence_format(
                        relayer, sizeof relayer,
                        "%zu relayer cycle%s over %llu ms (worst %llu ms, cycle %llu; cycles "
                        "%s%s)",
                        nslow, nslow == 1 ? "" : "s", (unsigned long long)p->relayer_cycle_ms,
                        (unsigned long long)worst, (unsigned long long)worst_id, ids,
                        cut ? ", ..." : "");
        if (s->previous_cycle_ms > p->watchdog_cycle_ms)
                evidence_format(watchdog, sizeof watchdog,
                                "the watchdog's last cycle took %llu ms (limit %llu ms)",
                                (unsigned long long)s->previous_cycle_ms,
                                (unsigned long long)p->watchdog_cycle_ms);
        if (relayer[0] != '\0')
                verdict_add_subject(out, "relayer");
        if (watchdog[0] != '\0')
                verdict_add_subject(out, "watchdog");
        if (relayer[0] != '\0' || watchdog[0] != '\0')
                verdict_set(out, VERDICT_VIOLATED, "%s%s%s", relayer,
                            relayer[0] != '\0' && watchdog[0] != '\0' ? "; " : "", watchdog);
        else if (!l->ok)
                verdict_set(out, VERDICT_UNKNOWN,
                            "relayer cycle times unknown: ledger not read: %s", l->error);
        else if (s->previous_cycle_ms == 0)
                verdict_set(out, VERDICT_OK,
                            "%zu relayer cycles within %llu ms (the watchdog's last cycle: none "
                            "yet)",
                            l->ncycles, (unsigned long long)p->relayer_cycle_ms);
        else
                verdict_set(out, VERDICT_OK,
                            "%zu relayer cycles within %llu ms, the watchdog's last cycle %llu ms",
                            l->ncycles, (unsigned long long)p->relayer_cycle_ms,
                            (unsigned long long)s->previous_cycle_ms);
}

const struct invariant high_latency_check = {
        .name = "HIGH_LATENCY",
        .tier = VERDICT_TIER_ALERT,
        .weighs_views = 0,
        .evaluate = evaluate,
};
