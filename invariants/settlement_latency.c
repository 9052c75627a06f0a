/*
 * SETTLEMENT_LATENCY (tracked): anchored_ms - created_ms of the ledger
 * batches anchored this cycle; the value is the worst, the evidence adds the
 * mean.
 */
#include <cjson/cJSON.h>

#include "checks.h"
#include "evidence.h"

static void evaluate(const struct snapshot *s, const size_t view[SNAP_NCHAINS],
                     const struct invariant_params *p, struct verdict *out)
{
        const struct snap_ledger *l = &s->ledger;
        cJSON *ev = verdict_evidence(out);
        uint64_t worst = 0, worst_batch = 0;
        size_t i, n = 0, skewed = 0;
        double sum = 0;

        (void)view;
        (void)p;
        out->unit = "ms";
        if (!l->ok) {
                verdict_set(out, VERDICT_UNKNOWN, "ledger not read: %s", l->error);
                return;
        }
        for (i = 0; i < l->nbatches && l->batches != NULL; i++) {
                const struct snap_batch *b = &l->batches[i];
                uint64_t ms = 0;

                if (!b->anchored || b->anchored_ms < 0 || b->created_ms < 0)
                        continue;
                if (b->anchored_ms >= b->created_ms)
                        ms = (uint64_t)(b->anchored_ms - b->created_ms);
                else
                        skewed++; /* anchored before created: clocks disagree; count it as 0 */
                if (n++ == 0 || ms > worst) {
                        worst = ms;
                        worst_batch = b->batch_number;
                }
                sum += (double)ms;
        }
        evidence_u64(ev, "batches_anchored", n);
        if (n == 0) {
                verdict_set(out, VERDICT_OK, "no batches anchored this cycle");
                return;
        }
        cJSON_AddNumberToObject(ev, "mean_ms", sum / (double)n);
        evidence_u64(ev, "max_ms", worst);
        evidence_u64(ev, "max_batch", worst_batch);
        if (skewed > 0)
                evidence_u64(ev, "anchored_before_created", skewed);
        out->has_value = 1;
        out->value = (double)worst;
        verdict_set(out, VERDICT_OK,
                    "%zu batch%s anchored: settlement latency mean %.0f ms, max %llu ms (batch "
                    "%llu)",
                    n, n == 1 ? "" : "es", sum / (double)n, (unsigned long long)worst,
                    (unsigned long long)worst_batch);
}

const struct invariant settlement_latency_check = {
        .name = "SETTLEMENT_LATENCY",
        .tier = VERDICT_TIER_TRACK,
        .weighs_views = 0,
        .evaluate = evaluate,
        .reads_history = 1,
        .worse_value = 1,
};
