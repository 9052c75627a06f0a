/*
 * RPC_TIMEOUT: an endpoint pool reported consecutive failures or a call
 * slower than allowed during the cycle (the pool decides), or an endpoint
 * is still benched for it: its circuit breaker open or half-open, or it is
 * refused for serving another chain. The cycle's reads went elsewhere, so
 * nothing else would say that a provider is down until it answers again.
 * Reported with the health of every endpoint of the chain.
 */
#include <stdio.h>
#include <string.h>

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

/* The first endpoint of `ch` not in service, or NULL. */
static const struct snap_endpoint_health *benched(const struct snap_chain *ch)
{
        size_t i;

        for (i = 0; i < ch->nendpoints && i < SNAP_VIEWS_MAX; i++) {
                const char *b = ch->endpoints[i].breaker;

                if (b != NULL && strcmp(b, "closed") != 0)
                        return &ch->endpoints[i];
        }
        return NULL;
}

static void evaluate(const struct snapshot *s, const size_t view[SNAP_NCHAINS],
                     const struct invariant_params *p, struct verdict *out)
{
        cJSON *ev = verdict_evidence(out);
        char reasons[SNAP_NCHAINS][RWERR_MSG_MAX];
        size_t c, nbad = 0, first = 0;

        (void)view;
        (void)p;
        for (c = 0; c < SNAP_NCHAINS; c++) {
                const struct snap_chain *ch = &s->chains[c];
                const char *role = snap_chain_role_name((enum snap_chain_role)c);
                cJSON *o = cJSON_AddObjectToObject(ev, role);

                const struct snap_endpoint_health *out_of_service = benched(ch);

                evidence_u64(o, "chain_id", ch->chain_id);
                cJSON_AddBoolToObject(o, "timeout", ch->rpc_timeout != 0);
                if (ch->rpc_timeout)
                        (void)snprintf(reasons[c], sizeof reasons[c], "%s", ch->rpc_timeout_reason);
                else if (out_of_service != NULL)
                        (void)snprintf(reasons[c], sizeof reasons[c],
                                       "%s is out of service (breaker %s) after %llu failures",
                                       out_of_service->endpoint, out_of_service->breaker,
                                       (unsigned long long)out_of_service->failures);
                if (ch->rpc_timeout || out_of_service != NULL)
                        evidence_str(o, "reason", reasons[c]);
                endpoints_evidence(ch, o);
                if (!ch->rpc_timeout && out_of_service == NULL)
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
                            snap_chain_role_name((enum snap_chain_role)first), reasons[first]);
}

const struct invariant rpc_timeout_check = {
        .name = "RPC_TIMEOUT",
        .tier = VERDICT_TIER_ALERT,
        .weighs_views = 0,
        .evaluate = evaluate,
};
