#include "sim_batch.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "merkle.h"
#include "rwerr.h"

void sim_batch_free(struct sim_batch *b)
{
        if (b == NULL)
                return;
        free(b->withdrawals);
        free(b->leaves);
        free(b->proofs);
        free(b->proof_len);
        free(b);
}

int sim_batch_build(const struct sim_withdrawal *w, size_t n,
                    const uint8_t token[ABI_ADDRESS_BYTES], const uint8_t seckey[SIG_SECKEY_BYTES],
                    struct sim_batch **out, struct rwerr *err)
{
        struct sim_batch *b = NULL;
        size_t i;
        int rc;

        if (n == 0 || w == NULL)
                return rwerr_set(err, RW_ERR_INVALID, "a batch needs at least one withdrawal");
        if (n > SIM_BATCH_MAX)
                return rwerr_set(err, RW_ERR_RANGE, "a batch holds at most %d withdrawals, not %zu",
                                 SIM_BATCH_MAX, n);
        b = calloc(1, sizeof *b);
        if (b == NULL)
                goto nomem;
        b->n = n;
        b->withdrawals = malloc(n * sizeof *b->withdrawals);
        b->leaves = malloc(n * sizeof *b->leaves);
        b->proofs = malloc(n * sizeof *b->proofs);
        b->proof_len = malloc(n * sizeof *b->proof_len);
        if (b->withdrawals == NULL || b->leaves == NULL || b->proofs == NULL ||
            b->proof_len == NULL)
                goto nomem;
        memcpy(b->withdrawals, w, n * sizeof *w);
        for (i = 0; i < n; i++) {
                struct u256 id = u256_from_u64(w[i].withdrawal_id);
                uint8_t id_word[32], amount_word[32];

                u256_to_be32(&id, id_word);
                u256_to_be32(&w[i].amount, amount_word);
                merkle_withdrawal_leaf(id_word, token, w[i].recipient, amount_word, b->leaves[i]);
        }
        if ((rc = merkle_root((const uint8_t(*)[MERKLE_HASH_BYTES])b->leaves, n, b->root, err)) !=
            RW_OK)
                goto fail;
        for (i = 0; i < n; i++) {
                rc = merkle_proof((const uint8_t(*)[MERKLE_HASH_BYTES])b->leaves, n, i,
                                  b->proofs[i], SIM_PROOF_MAX, &b->proof_len[i], err);
                if (rc != RW_OK)
                        goto fail;
                if (!merkle_verify(b->leaves[i], (const uint8_t(*)[MERKLE_HASH_BYTES])b->proofs[i],
                                   b->proof_len[i], b->root)) {
                        rc = rwerr_set(err, RW_ERR_INVALID,
                                       "the proof of withdrawal %llu does not verify",
                                       (unsigned long long)w[i].withdrawal_id);
                        goto fail;
                }
        }
        if ((rc = sig_sign_personal(seckey, b->root, sizeof b->root, b->signature, err)) != RW_OK)
                goto fail;
        *out = b;
        return RW_OK;
nomem:
        rc = rwerr_set(err, RW_ERR_NOMEM, "out of memory for a batch of %zu withdrawals", n);
fail:
        sim_batch_free(b);
        return rc;
}
