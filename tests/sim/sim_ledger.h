/*
 * sim_ledger: the relayer's ledger (schema `relayer`,
 * sql/reference/relayer_schema.sql) as the relayer simulator writes it.
 *
 * Every statement is parameterised. Whatever must hold together is written
 * in one transaction: the events of a block range with the chain's
 * indexed_through, an operation marked sent with the nonce it used, a
 * confirmed operation with the mint, anchor or release it made, a batch
 * with its leaves, proofs and withdrawals. A failed transaction is rolled
 * back whole.
 *
 * One simulator per ledger: sim_ledger_open takes a session advisory lock
 * and refuses a ledger another simulator holds.
 *
 * Functions return 0 or a negative RW_ERR_* code with `err` filled
 * (RW_ERR_IO: the connection is gone, sim_ledger_ensure reconnects;
 * RW_ERR_REMOTE: the server refused a statement; RW_ERR_INVALID: the
 * ledger is not in the state the call expects). Nothing logs, and no
 * message carries the connection string.
 */
#ifndef RELAYWATCH_SIM_LEDGER_H
#define RELAYWATCH_SIM_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim_batch.h"
#include "sim_chain.h"
#include "u256.h"

struct rwerr;
struct sim_ledger;

/* What sim_ledger_bootstrap puts in the ledger when it is missing. */
struct sim_ledger_setup {
        uint64_t source_chain_id;
        uint64_t exec_chain_id;
        const char *symbol;
        unsigned decimals;
        const uint8_t *source_token;  /* ABI_ADDRESS_BYTES */
        const uint8_t *bridged_token; /* ABI_ADDRESS_BYTES */
        uint64_t source_ready_block;  /* first indexed_through of each chain */
        uint64_t exec_ready_block;
};

enum sim_op_kind {
        SIM_OP_MINT,    /* ref_id: deposit_id */
        SIM_OP_ANCHOR,  /* ref_id: batch_number */
        SIM_OP_RELEASE, /* ref_id: withdrawal_id */
};

/* A row of relayer.operations. */
struct sim_op {
        int64_t op_id;
        enum sim_op_kind kind;
        uint64_t chain_id;
        uint8_t account[ABI_ADDRESS_BYTES];
        uint64_t nonce;
        uint64_t gas_estimate;
        int64_t ref_id;
        bool sent; /* status 'sent': tx_hash is set */
        uint8_t tx_hash[SIM_HASH_BYTES];
};

/* A deposit that has no mint yet. */
struct sim_deposit_row {
        int64_t deposit_id;
        struct u256 deposit_nonce;
        uint8_t recipient[ABI_ADDRESS_BYTES];
        struct u256 amount;
};

/* A batch recorded but not anchored. */
struct sim_anchor_row {
        uint64_t batch_number;
        uint8_t root[SIM_HASH_BYTES];
};

/* A batched withdrawal of an anchored batch, not released yet, with its proof. */
struct sim_release_row {
        uint64_t batch_number;
        struct sim_withdrawal w;
        uint8_t proof[SIM_PROOF_MAX][SIM_HASH_BYTES];
        size_t proof_len;
};

/*
 * Connects to `conninfo` (a postgres:// URL or key=value pairs) and takes
 * the simulator's advisory lock (RW_ERR_REFUSED when another session holds
 * it). Free with sim_ledger_free (accepts NULL).
 */
struct sim_ledger *sim_ledger_open(const char *conninfo, struct rwerr *err);
void sim_ledger_free(struct sim_ledger *l);

/* Reconnects (and locks again) when the connection was lost; 0 when usable. */
int sim_ledger_ensure(struct sim_ledger *l, struct rwerr *err) __attribute__((warn_unused_result));

/*
 * Inserts the chains, the asset and each chain's first indexed_through when
 * missing, in one transaction, and checks what is there matches `s`
 * (RW_ERR_REFUSED: the ledger belongs to another deployment). Stores the
 * asset's id in *asset_id.
 */
int sim_ledger_bootstrap(struct sim_ledger *l, const struct sim_ledger_setup *s, int *asset_id,
                         struct rwerr *err) __attribute__((warn_unused_result));

int sim_ledger_indexed_through(struct sim_ledger *l, uint64_t chain_id, uint64_t *block,
                               struct rwerr *err) __attribute__((warn_unused_result));

/*
 * Creates the nonce_state row of (chain, account) with `chain_nonce` when it
 * is missing, and stores the row's next_nonce in *next_nonce.
 */
int sim_ledger_nonce_init(struct sim_ledger *l, uint64_t chain_id,
                          const uint8_t account[ABI_ADDRESS_BYTES], uint64_t chain_nonce,
                          uint64_t *next_nonce, struct rwerr *err)
        __attribute__((warn_unused_result));

int sim_ledger_next_nonce(struct sim_ledger *l, uint64_t chain_id,
                          const uint8_t account[ABI_ADDRESS_BYTES], uint64_t *next_nonce,
                          struct rwerr *err) __attribute__((warn_unused_result));

/*
 * In one transaction: inserts the deposits d[0..n) (an event already in the
 * ledger, same tx_hash and log_index, is skipped and its is_new[i] set
 * false; is_new may be NULL) and moves the chain's indexed_through from
 * `after` to `through` (RW_ERR_INVALID if it is no longer `after`).
 */
int sim_ledger_record_deposits(struct sim_ledger *l, uint64_t chain_id, int asset_id,
                               const struct sim_locked *d, size_t n, bool *is_new, uint64_t after,
                               uint64_t through, struct rwerr *err)
        __attribute__((warn_unused_result));

/* The same for burns, each with its withdrawal (withdrawal_id = burn nonce, 'confirmed'). */
int sim_ledger_record_burns(struct sim_ledger *l, uint64_t chain_id, int asset_id,
                            const struct sim_burned *b, size_t n, bool *is_new, uint64_t after,
                            uint64_t through, struct rwerr *err)
        __attribute__((warn_unused_result));

/*
 * Work lists, oldest first, at most `max` rows. On success *rows is a
 * malloc'd array of *n rows (NULL when none) that the caller frees with free().
 *   unminted:   deposits without a mint or an open mint operation
 *   unbatched:  withdrawals still 'confirmed', by withdrawal_id
 *   unanchored: batches 'created' without an open anchor operation
 *   unreleased: withdrawals of anchored batches, not released, without an
 *               open release operation, with their proofs
 *   open ops:   operations 'pending' or 'sent', by op_id
 */
int sim_ledger_unminted(struct sim_ledger *l, size_t max, struct sim_deposit_row **rows, size_t *n,
                        struct rwerr *err) __attribute__((warn_unused_result));
int sim_ledger_unbatched(struct sim_ledger *l, size_t max, struct sim_withdrawal **rows, size_t *n,
                         struct rwerr *err) __attribute__((warn_unused_result));
int sim_ledger_unanchored(struct sim_ledger *l, size_t max, struct sim_anchor_row **rows, size_t *n,
                          struct rwerr *err) __attribute__((warn_unused_result));
int sim_ledger_unreleased(struct sim_ledger *l, size_t max, struct sim_release_row **rows,
                          size_t *n, struct rwerr *err) __attribute__((warn_unused_result));
int sim_ledger_open_ops(struct sim_ledger *l, struct sim_op **ops, size_t *n, struct rwerr *err)
        __attribute__((warn_unused_result));

/* The deposit with `deposit_id` (RW_ERR_INVALID when there is none). */
int sim_ledger_deposit(struct sim_ledger *l, int64_t deposit_id, struct sim_deposit_row *out,
                       struct rwerr *err) __attribute__((warn_unused_result));

/*
 * In one transaction: the batch (number = the ledger's highest + 1, status
 * 'created'), its leaves and proofs, and its withdrawals set 'batched'
 * (RW_ERR_INVALID when one is no longer 'confirmed'). Stores the number in
 * *batch_number.
 */
int sim_ledger_record_batch(struct sim_ledger *l, const struct sim_batch *b, uint64_t *batch_number,
                            struct rwerr *err) __attribute__((warn_unused_result));

/*
 * Inserts an operation 'pending' (op->op_id is filled in; op->sent must be
 * false). The nonce is not consumed until sim_ledger_op_sent.
 */
int sim_ledger_op_begin(struct sim_ledger *l, struct sim_op *op, struct rwerr *err)
        __attribute__((warn_unused_result));

/* In one transaction: the operation 'sent' with op->tx_hash, next_nonce past op->nonce. */
int sim_ledger_op_sent(struct sim_ledger *l, const struct sim_op *op, struct rwerr *err)
        __attribute__((warn_unused_result));

/* Deletes a 'pending' operation that was never sent: its nonce is free again. */
int sim_ledger_op_drop(struct sim_ledger *l, const struct sim_op *op, struct rwerr *err)
        __attribute__((warn_unused_result));

/*
 * In one transaction: the operation 'confirmed' with the receipt's hash and
 * gas used, next_nonce past its nonce, and what it did: the mint row (block
 * from the receipt), the batch 'anchored', or the withdrawal 'released'.
 */
int sim_ledger_op_confirmed(struct sim_ledger *l, const struct sim_op *op,
                            const struct sim_receipt *r, struct rwerr *err)
        __attribute__((warn_unused_result));

/*
 * In one transaction: the operation 'failed' (with the receipt's hash and
 * gas used when there is a receipt; r may be NULL) and next_nonce past its
 * nonce, which the chain consumed.
 */
int sim_ledger_op_failed(struct sim_ledger *l, const struct sim_op *op, const struct sim_receipt *r,
                         struct rwerr *err) __attribute__((warn_unused_result));

/* One row of relayer.cycle_timings; `started_at` is an ISO 8601 UTC timestamp. */
int sim_ledger_cycle_timing(struct sim_ledger *l, const char *started_at, uint64_t duration_ms,
                            struct rwerr *err) __attribute__((warn_unused_result));

/* "mint", "anchor", "release". */
const char *sim_ledger_op_kind_name(enum sim_op_kind kind);

#endif
