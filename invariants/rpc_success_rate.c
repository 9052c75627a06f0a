/* RPC_SUCCESS_RATE (tracked): 1 - failures / exchanges over every endpoint of both chains. */
#include <cjson/cJSON.h>

#include "checks.h"
#include "evidence.h"

static void evaluate(const struct snapshot *s, const size_t view[SNAP_NCHAINS],
                     const struct invariant_params *p, struct verdict *out)
{
        cJSON *ev = verdict_evidence(out), *arr = cJSON_AddArrayToObject(ev, "endpoints");
        uint64_t exchanges = 0, failures = 0;
        size_t c, i;

        (void)view;
        (void)p;
        out->unit = "ratio";
        for (c = 0; c < SNAP_NCHAINS; c++) {
                const struct snap_chain *ch = &s->chains[c];

                for (i = 0; i < ch->nendpoints && i < SNAP_VIEWS_MAX; i++) {
                        const struct snap_endpoint_health *h = &ch->endpoints[i];
                        uint64_t f = h->failures > h->exchanges ? h->exchanges : h->failures;
                        cJSON *o = cJSON_CreateObject();

                        exchanges += h->exchanges;
                        failures += f;
                        if (o == NULL || !cJSON_AddItemToArray(arr, o)) {
                                cJSON_Delete(o);
                                continue;
                        }
                        evidence_str(o, "chain", snap_chain_role_name((enum snap_chain_role)c));
                        evidence_str(o, "endpoint", h->endpoint);
                        evidence_u64(o, "exchanges", h->exchanges);
                        evidence_u64(o, "failures", h->failures);
                }
        }
        evidence_u64(ev, "exchanges", exchanges);
        evidence_u64(ev, "failures", failures);
        if (exchanges == 0) {
                verdict_set(out, VERDICT_OK, "no JSON-RPC exchanges yet");
                return;
        }
        out->has_value = 1;
        out->value = 1.0 - (double)failures / (double)exchanges;
        verdict_set(out, VERDICT_OK, "%llu of %llu JSON-RPC exchanges failed (success %.4f)",
                    (unsigned long long)failures, (unsigned long long)exchanges, out->value);
}

const struct invariant rpc_success_rate_check = {
        .name = "RPC_SUCCESS_RATE",
        .tier = VERDICT_TIER_TRACK,
        .weighs_views = 0,
        .evaluate = evaluate,
};
