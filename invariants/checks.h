/*
 * checks: the checks invariant.c runs, one object per file (the file is the
 * check's name in lowercase), and the little the checks share.
 *
 * Internal to invariants/: the rest of the program reaches the checks
 * through invariant_table and invariant_find (invariant.h).
 */
#ifndef RELAYWATCH_CHECKS_H
#define RELAYWATCH_CHECKS_H

#include <stddef.h>
#include <stdint.h>

#include "invariant.h"

/* Tier 1 */
extern const struct invariant supply_mismatch_check;
extern const struct invariant duplicate_batch_check;
extern const struct invariant proof_verification_fail_check;
extern const struct invariant nonce_desync_check;
/* Tier 2 */
extern const struct invariant rpc_timeout_check;
extern const struct invariant db_connection_lost_check;
extern const struct invariant high_latency_check;
extern const struct invariant gas_estimate_miss_check;
extern const struct invariant queue_buildup_check;
/* Tier 3 */
extern const struct invariant settlement_latency_check;
extern const struct invariant proof_success_rate_check;
extern const struct invariant duplicate_event_rate_check;
extern const struct invariant rpc_success_rate_check;
extern const struct invariant ledger_query_time_check;

/*
 * The evidence key a weighed check sets, when it reports a violation, to
 * what the violation rests on: chain names ("source", "execution") and
 * CHECKS_LEDGER. The engine weighs the views of the chains listed only (none
 * when the violation rests on the ledger alone); without the key, every
 * chain the check reads counts.
 */
#define CHECKS_RESTS_ON "rests_on"
#define CHECKS_LEDGER "ledger"

/* Adds `what` (snap_chain_role_name(c) or CHECKS_LEDGER) to out's CHECKS_RESTS_ON once. */
void checks_rests_on(struct verdict *out, const char *what);

/*
 * Checks one withdrawal's proof (PROOF_VERIFICATION_FAIL and
 * PROOF_SUCCESS_RATE): the leaf is recomputed from the withdrawal's fields
 * and folded with its proof; the root is the one `src` (a source view, may
 * be NULL) has anchored for the batch, or the ledger's root when the chain
 * has none. Returns 1 when the proof verifies, 0 when it does not (why[cap]
 * says how), -1 when it cannot be checked (its batch is not in the
 * snapshot). *chain_root tells which root was used.
 */
int checks_withdrawal_proof(const struct snapshot *s, const struct snap_view *src,
                            const struct snap_withdrawal *w, int *chain_root, char *why,
                            size_t cap);

/* The 32-byte ABI word of a uint64 (a withdrawal id). */
void checks_u64_word(uint64_t v, uint8_t out[32]);

#endif
