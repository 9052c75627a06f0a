/*
 * PROOF_SUCCESS_RATE (tracked): the share of this cycle's withdrawals whose
 * proof verifies against the root anchored on the source chain (view 0), or
 * the ledger's root while no root is anchored for the batch.
 */
#include <cjson/cJSON.h>

#include "checks.h"
#include "evidence.h"

static void evaluate(const struct snapshot *s, const size_t view[SNAP_NCHAINS],
                     const struct invariant_params *p, struct verdict *out)
{
        const struct snap_ledger *l = &s->ledger;
        char why[RWERR_MSG_MAX] = "";
        const struct snap_view *src;
        cJSON *ev = verdict_evidence(out);
        size_t i, verified = 0, failed = 0, unchecked = 0;

        (void)p;
        out->unit = "ratio";
        if (!l->ok) {
                verdict_set(out, VERDICT_UNKNOWN, "ledger not read: %s", l->error);
                return;
        }
        src = evidence_view(s, SNAP_SOURCE, view[SNAP_SOURCE], why, sizeof why);
        if (src == NULL)
                evidence_str(ev, "roots", why); /* verified against the ledger's roots */
        else
                evidence_str(ev, "endpoint", src->endpoint);
        for (i = 0; i < l->nwithdrawals && l->withdrawals != NULL; i++) {
                char text[RWERR_MSG_MAX];
                int on_chain = 0;
                int r = checks_withdrawal_proof(s, src, &l->withdrawals[i], &on_chain, text,
                                                sizeof text);

                if (r > 0)
                        verified++;
                else if (r == 0)
                        failed++;
                else
                        unchecked++;
        }
        evidence_u64(ev, "withdrawals", l->nwithdrawals);
        evidence_u64(ev, "verified", verified);
        evidence_u64(ev, "failed", failed);
        evidence_u64(ev, "unchecked", unchecked);
        if (l->nwithdrawals == 0) {
                verdict_set(out, VERDICT_OK, "no withdrawals this cycle");
                return;
        }
        out->has_value = 1;
        out->value = (double)verified / (double)l->nwithdrawals;
        verdict_set(out, VERDICT_OK, "%zu of %zu withdrawal proofs verify (%.4f)", verified,
                    l->nwithdrawals, out->value);
}

const struct invariant proof_success_rate_check = {
        .name = "PROOF_SUCCESS_RATE",
        .tier = VERDICT_TIER_TRACK,
        .weighs_views = 0,
        .evaluate = evaluate,
        .reads_history = 1,
        .worse_value = -1,
};
