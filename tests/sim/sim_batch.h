/*
 * sim_batch: a settlement batch as the relayer builds it, in memory.
 *
 * Leaves are the bridge's withdrawal leaves (merkle_withdrawal_leaf of
 * withdrawalId, the source-chain token, recipient, amount) in the order the
 * withdrawals are given (the caller passes them by withdrawal_id); the root
 * and proofs are OpenZeppelin StandardMerkleTree's (chain/merkle), every
 * proof is checked against the root before the batch is handed out, and the
 * relayer signs the 32 root bytes as an EIP-191 personal message.
 *
 * Pure: no I/O, nothing logged.
 */
#ifndef RELAYWATCH_SIM_BATCH_H
#define RELAYWATCH_SIM_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "sig.h"
#include "sim_chain.h"
#include "u256.h"

struct rwerr;

/* The most withdrawals in one batch: their proofs stay within SIM_PROOF_MAX hashes. */
#define SIM_BATCH_MAX 4096

struct sim_withdrawal {
        uint64_t withdrawal_id;
        uint8_t recipient[ABI_ADDRESS_BYTES];
        struct u256 amount;
};

struct sim_batch {
        size_t n;
        struct sim_withdrawal *withdrawals; /* n, in leaf order */
        uint8_t (*leaves)[SIM_HASH_BYTES];  /* n */
        uint8_t root[SIM_HASH_BYTES];
        uint8_t (*proofs)[SIM_PROOF_MAX][SIM_HASH_BYTES]; /* n */
        size_t *proof_len;                                /* n */
        uint8_t signature[SIG_BYTES];
};

/*
 * Builds the batch over w[0..n) (1 <= n <= SIM_BATCH_MAX) for `token` and
 * signs its root with `seckey`. On success *out is the caller's, freed with
 * sim_batch_free. Errors: RW_ERR_INVALID / RW_ERR_RANGE for n, RW_ERR_NOMEM,
 * the signer's errors, and RW_ERR_INVALID if a proof fails to verify (a bug).
 */
int sim_batch_build(const struct sim_withdrawal *w, size_t n,
                    const uint8_t token[ABI_ADDRESS_BYTES], const uint8_t seckey[SIG_SECKEY_BYTES],
                    struct sim_batch **out, struct rwerr *err) __attribute__((warn_unused_result));

/* Accepts NULL. */
void sim_batch_free(struct sim_batch *b);

#endif
