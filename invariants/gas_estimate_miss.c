/*
 * GAS_ESTIMATE_MISS: an operation whose transaction used more gas than
 * gas_ratio_percent of its estimate (gas_used * 100 > estimate * ratio,
 * exactly; at the limit is fine).
 */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "checks.h"
#include "evidence.h"

#define MISSES_LISTED 100

/* used * 100 > estimate * ratio, and used * 100 / estimate in *percent (0 without an estimate). */
static int missed(const struct snap_operation *op, unsigned ratio, uint64_t *percent)
{
        struct u256 used = u256_from_u64(op->gas_used), est = u256_from_u64(op->gas_estimate);
        struct u256 lhs, rhs, q;

        *percent = 0;
        if (u256_mul_u64(&used, 100, &lhs) != RW_OK || u256_mul_u64(&est, ratio, &rhs) != RW_OK)
                return 0; /* cannot happen: 64 x 32 bits fits in 256 */
        if (op->gas_estimate > 0 && u256_divmod_u64(&lhs, op->gas_estimate, &q, NULL) == RW_OK &&
            u256_to_u64(&q, percent) != RW_OK)
                *percent = UINT64_MAX;
        return u256_cmp(&lhs, &rhs) > 0;
}

static void evaluate(const struct snapshot *s, const size_t view[SNAP_NCHAINS],
                     const struct invariant_params *p, struct verdict *out)
{
        const struct snap_ledger *l = &s->ledger;
        char first[INVARIANT_SUMMARY_MAX] = "";
        cJSON *ev = verdict_evidence(out), *arr;
        size_t i, nmissed = 0, nmeasured = 0;

        (void)view;
        evidence_u64(ev, "gas_ratio_percent", p->gas_ratio_percent);
        if (!l->ok) {
                verdict_set(out, VERDICT_UNKNOWN, "ledger not read: %s", l->error);
                return;
        }
        evidence_u64(ev, "operations", l->noperations);
        arr = cJSON_AddArrayToObject(ev, "misses");
        for (i = 0; i < l->noperations && l->operations != NULL; i++) {
                const struct snap_operation *op = &l->operations[i];
                char tx[EVIDENCE_HASH_TEXT] = "(no tx)";
                uint64_t percent = 0;
                cJSON *o;

                if (!op->has_gas_used)
                        continue;
                nmeasured++;
                if (!missed(op, p->gas_ratio_percent, &percent))
                        continue;
                if (op->has_tx_hash)
                        evidence_hex_text(op->tx_hash, sizeof op->tx_hash, tx, sizeof tx);
                verdict_add_subject(out, "operation %llu", (unsigned long long)op->op_id);
                if (nmissed++ == 0)
                        evidence_format(first, sizeof first,
                                        "operation %llu (%s, tx %s) used %llu gas, %llu%% of its "
                                        "estimate %llu (limit %u%%)",
                                        (unsigned long long)op->op_id, op->kind, tx,
                                        (unsigned long long)op->gas_used,
                                        (unsigned long long)percent,
                                        (unsigned long long)op->gas_estimate, p->gas_ratio_percent);
                if (nmissed > MISSES_LISTED)
                        continue;
                o = cJSON_CreateObject();
                if (o == NULL || !cJSON_AddItemToArray(arr, o)) {
                        cJSON_Delete(o);
                        continue;
                }
                evidence_u64(o, "op_id", op->op_id);
                evidence_str(o, "kind", op->kind);
                evidence_u64(o, "chain_id", op->chain_id);
                evidence_str(o, "tx_hash", tx);
                evidence_u64(o, "gas_estimate", op->gas_estimate);
                evidence_u64(o, "gas_used", op->gas_used);
                evidence_u64(o, "percent", percent);
        }
        evidence_u64(ev, "with_gas_used", nmeasured);
        if (nmissed > 1)
                verdict_set(out, VERDICT_VIOLATED,
                            "%zu operations over their gas estimate, first: %s", nmissed, first);
        else if (nmissed == 1)
                verdict_set(out, VERDICT_VIOLATED, "%s", first);
        else
                verdict_set(out, VERDICT_OK,
                            "%zu operations with gas used, none over %u%% of its estimate",
                            nmeasured, p->gas_ratio_percent);
}

const struct invariant gas_estimate_miss_check = {
        .name = "GAS_ESTIMATE_MISS",
        .tier = VERDICT_TIER_ALERT,
        .weighs_views = 0,
        .evaluate = evaluate,
};
