/*
 * RPC_TIMEOUT: an endpoint pool reported consecutive failures or a call
 * slower than allowed (the pool decides; this check reports it with the
 * health of every endpoint of the chain).
 */
#include <cjson/cJSON.h>

#include "checks.h"
#include "evidence.h"

static void endpoints_evidence(const struct snap_chain *ch, cJSON *parent)
{
        cJSON *arr = cJSON_AddArrayToObject(parent, "endpoints");
        size_t i;

        for (i = 0; i < ch->nendpoints && i < SNAP_VIEWS_MAX && arr != NULL; i++) {
                const struct snap_endpoint_health *h = &ch->endpoints[i];
                cJSON *o = cJSON_CreateObject();

                if (o == NULL || !cJSON_AddItemToArray(arr, o)) {
                        cJSON_Delete(o);
                        return;
                }
                evidence_str(o, "endpoint", h->endpoint);
                evidence_u64(o, "exchanges", h->exchanges);
                evidence_u64(o, "failures", h->failures);
                evidence_str(o, "breaker", h->breaker != NULL ? h->breaker : "unknown");
        }
}

static void evaluate(const struct snapshot *s, const size_t view[SNAP_NCHAINS],
                     const struct invariant_params *p, struct verdict *out)
{
        cJSON *ev = verdict_evidence(out);
        size_t c, nbad = 0, first = 0;

        (void)view;
        (void)p;
        for (c = 0; c < SNAP_NCHAINS; c++) {
                const struct snap_chain *ch = &s->chains[c];
                const char *role = snap_chain_role_name((enum snap_chain_role)c);
                cJSON *o = cJSON_AddObjectToObject(ev, role);

                evidence_u64(o, "chain_id", ch->chain_id);
                cJSON_AddBoolToObject(o, "timeout", ch->rpc_timeout != 0);
                if (ch->rpc_timeout)
                        evidence_str(o, "reason", ch->rpc_timeout_reason);
                endpoints_evidence(ch, o);
                if (!ch->rpc_timeout)
                        continue;
                verdict_add_subject(out, "chain %s", role);
                if (nbad++ == 0)
                        first = c;
        }
        if (nbad == 0)
                verdict_set(out, VERDICT_OK, "every JSON-RPC endpoint answers in time");
        else
                verdict_set(out, VERDICT_VIOLATED, "%s%s chain: %s",
                            nbad > 1 ? "both chains time out; " : "",
                            snap_chain_role_name((enum snap_chain_role)first),
                            s->chains[first].rpc_timeout_reason);
}

const struct invariant rpc_timeout_check = {
        .name = "RPC_TIMEOUT",
        .tier = VERDICT_TIER_ALERT,
        .weighs_views = 0,
        .evaluate = evaluate,
};
