/*
 * sim_chain: one chain of the local stack as the relayer simulator uses it.
 *
 * Thin calls over chain/rpc (one JSON-RPC request per exchange): the head,
 * nonces, eth_call, eth_estimateGas, eth_sendTransaction from anvil's
 * unlocked accounts (no signing here), receipts, and eth_getLogs with topic
 * filters. Also the calldata of the bridge contracts' functions and the
 * decoding of their events.
 *
 * Every function returns 0 or a negative RW_ERR_* code with `err` filled
 * and its outputs untouched on failure. Nothing logs.
 */
#ifndef RELAYWATCH_SIM_CHAIN_H
#define RELAYWATCH_SIM_CHAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "abi.h"
#include "u256.h"

struct rwerr;
struct rpc_block;
struct sim_chain;

#define SIM_HASH_BYTES 32
/* The longest merkle proof release() calldata can carry (a batch of 2^31 leaves). */
#define SIM_PROOF_MAX 32
/* Selector, six head words, the array length and the proof. */
#define SIM_CALLDATA_MAX (ABI_SELECTOR_BYTES + ABI_WORD_BYTES * (7 + SIM_PROOF_MAX))
/* Leave nonce or gas to the node (eth_sendTransaction fills them in). */
#define SIM_CHAIN_AUTO UINT64_MAX

/* Calldata of one function call, on the caller's stack. */
struct sim_calldata {
        uint8_t data[SIM_CALLDATA_MAX];
        size_t len;
};

/* A transaction from an unlocked account. */
struct sim_tx {
        const uint8_t *from; /* ABI_ADDRESS_BYTES */
        const uint8_t *to;   /* ABI_ADDRESS_BYTES */
        const struct sim_calldata *data;
        uint64_t nonce; /* SIM_CHAIN_AUTO: the node's next nonce */
        uint64_t gas;   /* SIM_CHAIN_AUTO: the node's estimate */
};

struct sim_receipt {
        uint8_t tx_hash[SIM_HASH_BYTES];
        bool success; /* status 0x1 */
        uint64_t block_number;
        uint64_t gas_used;
};

/* Lockbox.Locked(uint256 indexed nonce, address indexed token, address indexed depositor, address recipient, uint256 amount) */
struct sim_locked {
        struct u256 nonce;
        uint8_t token[ABI_ADDRESS_BYTES];
        uint8_t depositor[ABI_ADDRESS_BYTES];
        uint8_t recipient[ABI_ADDRESS_BYTES];
        struct u256 amount;
        uint8_t tx_hash[SIM_HASH_BYTES];
        uint64_t log_index;
        uint64_t block_number;
};

/* BridgedToken.Burned(uint256 indexed nonce, address indexed from, address recipient, uint256 amount) */
struct sim_burned {
        struct u256 nonce;
        uint8_t burner[ABI_ADDRESS_BYTES];
        uint8_t recipient[ABI_ADDRESS_BYTES];
        struct u256 amount;
        uint8_t tx_hash[SIM_HASH_BYTES];
        uint64_t log_index;
        uint64_t block_number;
};

enum sim_chain_event {
        SIM_EVENT_LOCKED,        /* Lockbox */
        SIM_EVENT_RELEASED,      /* Lockbox: topics batchId, withdrawalId, token */
        SIM_EVENT_ROOT_ANCHORED, /* RootRegistry: topics batchId, root, relayer */
        SIM_EVENT_MINTED,        /* BridgedToken: topics to, depositNonce */
        SIM_EVENT_BURNED,        /* BridgedToken */
};

/*
 * Opens `url` and checks that it serves `chain_id`. `name` ("source",
 * "execution") names the chain in messages; the URL never appears in one.
 * Free with sim_chain_free (accepts NULL).
 */
struct sim_chain *sim_chain_open(const char *name, const char *url, uint64_t chain_id,
                                 struct rwerr *err);
void sim_chain_free(struct sim_chain *c);

uint64_t sim_chain_id(const struct sim_chain *c);
const char *sim_chain_name(const struct sim_chain *c);

int sim_chain_head(struct sim_chain *c, uint64_t *head, struct rwerr *err)
        __attribute__((warn_unused_result));

/* eth_getTransactionCount of `account` at `tag` ("latest" or "pending"). */
int sim_chain_nonce(struct sim_chain *c, const uint8_t account[ABI_ADDRESS_BYTES], const char *tag,
                    uint64_t *nonce, struct rwerr *err) __attribute__((warn_unused_result));

/* eth_call returning one uint256, at `at` (NULL: latest). */
int sim_chain_call_uint(struct sim_chain *c, const uint8_t to[ABI_ADDRESS_BYTES],
                        const struct sim_calldata *data, const struct rpc_block *at,
                        struct u256 *out, struct rwerr *err) __attribute__((warn_unused_result));

/* eth_estimateGas of a call from `from`; a revert is RW_ERR_REMOTE with the node's reason. */
int sim_chain_estimate_gas(struct sim_chain *c, const uint8_t from[ABI_ADDRESS_BYTES],
                           const uint8_t to[ABI_ADDRESS_BYTES], const struct sim_calldata *data,
                           uint64_t *gas, struct rwerr *err) __attribute__((warn_unused_result));

/*
 * eth_sendTransaction. RW_ERR_REMOTE means the node refused the transaction
 * (it was not sent); any other failure leaves it unknown whether it was.
 */
int sim_chain_send(struct sim_chain *c, const struct sim_tx *tx, uint8_t tx_hash[SIM_HASH_BYTES],
                   struct rwerr *err) __attribute__((warn_unused_result));

/*
 * Polls eth_getTransactionReceipt until the transaction is mined or
 * `timeout_ms` passes (RW_ERR_TIMEOUT). A reverted transaction is a success
 * of this call with out->success false.
 */
int sim_chain_wait_receipt(struct sim_chain *c, const uint8_t tx_hash[SIM_HASH_BYTES],
                           long timeout_ms, struct sim_receipt *out, struct rwerr *err)
        __attribute__((warn_unused_result));

/*
 * eth_getLogs of `address` in blocks from..to (inclusive) for `event`, with
 * topics[1..3] optionally pinned: topic[i] NULL matches anything (topic may
 * be NULL altogether). Logs with removed = true are left out. On success
 * *logs is a malloc'd array of *n entries (NULL when none) that the caller
 * frees with free().
 */
int sim_chain_logs(struct sim_chain *c, const uint8_t address[ABI_ADDRESS_BYTES],
                   enum sim_chain_event event, const uint8_t *const topic[3], uint64_t from,
                   uint64_t to, struct abi_log **logs, size_t *n, struct rwerr *err)
        __attribute__((warn_unused_result));

void sim_chain_event_topic(enum sim_chain_event event, uint8_t out[ABI_WORD_BYTES]);

/* Decode one log of the event; RW_ERR_INVALID when it is another event or malformed. */
int sim_chain_decode_locked(const struct abi_log *log, struct sim_locked *out, struct rwerr *err)
        __attribute__((warn_unused_result));
int sim_chain_decode_burned(const struct abi_log *log, struct sim_burned *out, struct rwerr *err)
        __attribute__((warn_unused_result));

/* ---- calldata ---- */

void sim_chain_data_balance_of(struct sim_calldata *cd, const uint8_t holder[ABI_ADDRESS_BYTES]);
void sim_chain_data_allowance(struct sim_calldata *cd, const uint8_t owner[ABI_ADDRESS_BYTES],
                              const uint8_t spender[ABI_ADDRESS_BYTES]);
void sim_chain_data_approve(struct sim_calldata *cd, const uint8_t spender[ABI_ADDRESS_BYTES],
                            const struct u256 *amount);
/* Lockbox.lock(token, amount, recipient) */
void sim_chain_data_lock(struct sim_calldata *cd, const uint8_t token[ABI_ADDRESS_BYTES],
                         const struct u256 *amount, const uint8_t recipient[ABI_ADDRESS_BYTES]);
/* BridgedToken.mint(to, amount, depositNonce) */
void sim_chain_data_mint(struct sim_calldata *cd, const uint8_t to[ABI_ADDRESS_BYTES],
                         const struct u256 *amount, const struct u256 *deposit_nonce);
/* BridgedToken.burn(amount, recipient) */
void sim_chain_data_burn(struct sim_calldata *cd, const struct u256 *amount,
                         const uint8_t recipient[ABI_ADDRESS_BYTES]);
/* RootRegistry.anchor(batchId, root) */
void sim_chain_data_anchor(struct sim_calldata *cd, uint64_t batch_id,
                           const uint8_t root[SIM_HASH_BYTES]);
/*
 * Lockbox.release(batchId, withdrawalId, token, recipient, amount, proof).
 * RW_ERR_RANGE when the proof has more than SIM_PROOF_MAX hashes.
 */
int sim_chain_data_release(struct sim_calldata *cd, uint64_t batch_id, uint64_t withdrawal_id,
                           const uint8_t token[ABI_ADDRESS_BYTES],
                           const uint8_t recipient[ABI_ADDRESS_BYTES], const struct u256 *amount,
                           const uint8_t (*proof)[SIM_HASH_BYTES], size_t proof_len,
                           struct rwerr *err) __attribute__((warn_unused_result));

#endif
