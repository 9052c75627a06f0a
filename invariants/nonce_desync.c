/*
 * NONCE_DESYNC: per relayer account, the ledger's next nonce against
 * eth_getTransactionCount at the chain's tip (snapshot.h) and
 * pending. The
 * chain ahead of the ledger means someone else sent from the key or the
 * ledger lost state; the ledger ahead of pending by more than the allowed
 * gap means transactions vanished.
 */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "abi.h"
#include "checks.h"
#include "evidence.h"

static void evaluate(const struct snapshot *s, const size_t view[SNAP_NCHAINS],
                     const struct invariant_params *p, struct verdict *out)
{
        char first_bad[INVARIANT_SUMMARY_MAX] = "", first_unknown[INVARIANT_SUMMARY_MAX] = "";
        size_t i, nviolated = 0, nunknown = 0;
        cJSON *ev = verdict_evidence(out), *arr;

        evidence_chain(ev, "source", s, SNAP_SOURCE, view[SNAP_SOURCE]);
        evidence_chain(ev, "execution", s, SNAP_EXECUTION, view[SNAP_EXECUTION]);
        if (s->naccounts == 0 || s->accounts == NULL) {
                verdict_set(out, VERDICT_UNKNOWN,
                            "no relayer accounts configured: nothing to check");
                return;
        }
        if (!s->ledger.ok) {
                verdict_set(out, VERDICT_UNKNOWN, "ledger not read: %s", s->ledger.error);
                return;
        }
        arr = cJSON_AddArrayToObject(ev, "accounts");
        for (i = 0; i < s->naccounts; i++) {
                const struct snap_account *a = &s->accounts[i];
                enum verdict_status st = VERDICT_OK;
                char addr[ABI_ADDRESS_TEXT_SIZE], why[RWERR_MSG_MAX] = "";
                char line[INVARIANT_SUMMARY_MAX];
                const struct snap_view *v = NULL;
                const char *chain = snap_chain_role_name(a->chain);
                uint64_t latest = 0, pending = 0;
                cJSON *o = cJSON_CreateObject();

                if (o != NULL && !cJSON_AddItemToArray(arr, o)) {
                        cJSON_Delete(o);
                        o = NULL;
                }
                abi_address_format(a->address, addr);
                evidence_str(o, "address", addr);
                evidence_str(o, "chain", chain);
                if ((unsigned)a->chain < SNAP_NCHAINS)
                        v = evidence_view(s, a->chain, view[a->chain], why, sizeof why);
                else
                        evidence_format(why, sizeof why, "account on an unknown chain (%d)",
                                        (int)a->chain);
                if (v != NULL && (v->nonce_latest == NULL || v->nonce_pending == NULL)) {
                        evidence_format(why, sizeof why, "%s endpoint %s returned no nonces", chain,
                                        v->endpoint);
                        v = NULL;
                }
                if (v != NULL) {
                        latest = v->nonce_latest[i];
                        pending = v->nonce_pending[i];
                        evidence_str(o, "endpoint", v->endpoint);
                        evidence_u64(o, "block", s->chains[a->chain].tip);
                        evidence_u64(o, "nonce_latest", latest);
                        evidence_u64(o, "nonce_pending", pending);
                }
                if (a->ledger_known)
                        evidence_u64(o, "ledger_next", a->ledger_next);

                if (!a->ledger_known) {
                        st = VERDICT_UNKNOWN;
                        evidence_format(line, sizeof line,
                                        "account %s on %s: the ledger has no nonce for it", addr,
                                        chain);
                } else if (v == NULL) {
                        st = VERDICT_UNKNOWN;
                        evidence_format(line, sizeof line, "account %s: %s", addr, why);
                } else if (latest > a->ledger_next) {
                        st = VERDICT_VIOLATED;
                        evidence_format(
                                line, sizeof line,
                                "account %s on %s: chain nonce %llu at block %llu is ahead of the "
                                "ledger's next nonce %llu: someone else sent from the key, or "
                                "the ledger lost state",
                                addr, chain, (unsigned long long)latest,
                                (unsigned long long)s->chains[a->chain].tip,
                                (unsigned long long)a->ledger_next);
                } else if (a->ledger_next > pending && a->ledger_next - pending > p->nonce_gap) {
                        st = VERDICT_VIOLATED;
                        evidence_format(
                                line, sizeof line,
                                "account %s on %s: the ledger's next nonce %llu is ahead of the "
                                "pending nonce %llu by %llu (allowed %llu): transactions "
                                "vanished",
                                addr, chain, (unsigned long long)a->ledger_next,
                                (unsigned long long)pending,
                                (unsigned long long)(a->ledger_next - pending),
                                (unsigned long long)p->nonce_gap);
                } else {
                        evidence_format(
                                line, sizeof line,
                                "account %s on %s: ledger next %llu, chain latest %llu, pending "
                                "%llu",
                                addr, chain, (unsigned long long)a->ledger_next,
                                (unsigned long long)latest, (unsigned long long)pending);
                }
                evidence_str(o, "status", verdict_status_name(st));
                evidence_str(o, "detail", line);
                if (st == VERDICT_VIOLATED) {
                        checks_rests_on(out, chain);
                        verdict_add_subject(out, "account %s", addr);
                        if (nviolated++ == 0)
                                memcpy(first_bad, line, sizeof first_bad);
                } else if (st == VERDICT_UNKNOWN && nunknown++ == 0) {
                        memcpy(first_unknown, line, sizeof first_unknown);
                }
        }
        evidence_u64(ev, "nonce_gap", p->nonce_gap);
        if (nviolated > 1)
                verdict_set(out, VERDICT_VIOLATED, "%zu accounts out of step, first: %s", nviolated,
                            first_bad);
        else if (nviolated == 1)
                verdict_set(out, VERDICT_VIOLATED, "%s", first_bad);
        else if (nunknown > 0)
                verdict_set(out, VERDICT_UNKNOWN, "%s", first_unknown);
        else
                verdict_set(out, VERDICT_OK,
                            "%zu relayer account%s: ledger nonces in step with the chain "
                            "(within %llu of pending)",
                            s->naccounts, s->naccounts == 1 ? "" : "s",
                            (unsigned long long)p->nonce_gap);
}

const struct invariant nonce_desync_check = {
        .name = "NONCE_DESYNC",
        .tier = VERDICT_TIER_HALT,
        .weighs_views = 1,
        .evaluate = evaluate,
};
