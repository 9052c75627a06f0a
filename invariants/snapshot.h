/*
 * snapshot: everything one cycle observed, pinned, as plain data.
 *
 * The observe step (watchdog/observe/observe.c) fills a snapshot; the invariants
 * read it and nothing else. Each chain is read at one pinned height; the
 * ledger is read in one snapshot transaction filtered to the same heights.
 *
 * Chain reads are kept per endpoint: view 0 is what the serving endpoint
 * returned; when a Tier 1 check fails on it, the observe step reads the same
 * values at the same height through the chain's other endpoints and adds a
 * view for each (see invariant.h for how the views are weighed). Every
 * per-asset array is indexed like `assets`, every per-account array like
 * `accounts`, every per-batch array like `ledger.batches`.
 *
 * The snapshot owns every array in it; snapshot_free releases them all.
 * Tests build snapshots by hand with the snapshot_alloc_* helpers.
 */
#ifndef RELAYWATCH_SNAPSHOT_H
#define RELAYWATCH_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "abi.h"
#include "latency_hist.h"
#include "rwerr.h"
#include "u256.h"

#define SNAP_VIEWS_MAX 16     /* endpoints of one chain */
#define SNAP_NAME_MAX 64      /* asset, stream and group names, NUL included */
#define SNAP_ENDPOINT_MAX 128 /* redacted endpoint name */
#define SNAP_PROOF_MAX 64     /* sibling hashes in one proof */
#define SNAP_QUERIES_MAX 16   /* ledger queries timed per cycle */

enum snap_chain_role {
        SNAP_SOURCE = 0,    /* tokens locked here: lockbox, root registry */
        SNAP_EXECUTION = 1, /* bridged tokens minted and burnt here */
        SNAP_NCHAINS = 2,
};

/* "source" or "execution". */
const char *snap_chain_role_name(enum snap_chain_role role);

/* One asset as the configuration names it (the trusted side). */
struct snap_asset {
        char name[SNAP_NAME_MAX];
        unsigned decimals;
        struct u256 tolerance; /* base units */
        uint8_t source_token[ABI_ADDRESS_BYTES];
        uint8_t bridged_token[ABI_ADDRESS_BYTES];
};

/* A RootAnchored event seen on the source chain. */
struct snap_anchor {
        uint64_t batch_id;
        uint8_t root[32];
        uint64_t block_number;
        uint8_t tx_hash[32];
};

/*
 * What one endpoint of a chain returned for the reads of the cycle, at the
 * chain's pinned height, except the nonces and tip_values (at the chain's
 * tip) and nonce_pending (the node's pending state).
 */
struct snap_view {
        char endpoint[SNAP_ENDPOINT_MAX]; /* redacted name */
        size_t endpoint_index;            /* in the chain's configured endpoints */
        int ok;                           /* every read below succeeded */
        char error[RWERR_MSG_MAX];        /* why not, when !ok */
        uint8_t block_hash[32];           /* of the pinned block */
        /* per asset: lockbox balance of the source token (source chain) or
         * totalSupply of the bridged token (execution chain) */
        struct u256 *token_values;
        /* the same per asset at the chain's tip; NULL when tip == pinned
         * (then token_values holds them) */
        struct u256 *tip_values;
        /* per relayer account: eth_getTransactionCount at the pinned height and "pending" */
        uint64_t *nonce_latest;
        uint64_t *nonce_pending;
        /* source chain only: roots(batch_number) of the root registry per
         * ledger batch (all zero: not anchored), and the RootAnchored events
         * in blocks anchors_from < b <= pinned */
        uint8_t (*anchored_roots)[32];
        struct snap_anchor *anchors;
        size_t nanchors;
        unsigned multicall_calls;     /* aggregate3 calls answered (observe_chain.h) */
        unsigned multicall_fallbacks; /* reads made again as single calls */
        /* why this endpoint's reads are one call each though a Multicall3
         * is configured (it failed as a whole, retried later); "" otherwise */
        char multicall_problem[RWERR_MSG_MAX];
};

/* Health of one endpoint, for RPC_TIMEOUT and the RPC success rate. */
struct snap_endpoint_health {
        char endpoint[SNAP_ENDPOINT_MAX];
        uint64_t exchanges;
        uint64_t failures;
        const char *breaker;         /* static string: "closed", "open", ... */
        struct latency_hist latency; /* attempt durations since the pool began (metrics) */
};

struct snap_chain {
        uint64_t chain_id;
        int ok;                    /* heights known and view 0 read */
        char error[RWERR_MSG_MAX]; /* why not, when !ok */
        uint64_t head;             /* latest block number */
        unsigned confirmations;
        int use_finalized;        /* pinned against the finalized tag, not head - confirmations */
        uint64_t finalized;       /* the finalized block, when use_finalized */
        int ledger_indexed;       /* the ledger has recorded this chain at all */
        uint64_t indexed_through; /* the block the ledger has recorded through */
        uint64_t pinned;          /* min(head - confirmations or finalized, indexed_through) */
        /* head - confirmations (or finalized), as read before the ledger
         * snapshot opened. What needs no ledger figure per block is read
         * here, not held back by what the ledger has indexed: nonces (a
         * transaction mined by then was sent, and its nonce recorded, before
         * the ledger was read) and the chain-only backing of each asset. A
         * relayer that stalls, say because someone else used its key or
         * drained its lockbox, must not hide it by freezing the pinned
         * height. */
        uint64_t tip;
        /* source: events read in anchors_from < b <= anchors_to, one page of
         * them; anchors_to is pinned on the last page */
        uint64_t anchors_from;
        uint64_t anchors_to;
        size_t nviews;
        struct snap_view views[SNAP_VIEWS_MAX];
        /* Tier 2/3 inputs from the endpoint pool */
        int rpc_timeout;
        char rpc_timeout_reason[RWERR_MSG_MAX];
        size_t nendpoints;
        struct snap_endpoint_health endpoints[SNAP_VIEWS_MAX];
};

/* A relayer account the watchdog checks nonces of. */
struct snap_account {
        uint8_t address[ABI_ADDRESS_BYTES];
        enum snap_chain_role chain;
        int ledger_known;     /* the ledger has a nonce row for it */
        uint64_t ledger_next; /* the nonce the ledger expects it to use next */
};

/* The ledger's figures for one asset through the pinned heights. */
struct snap_ledger_asset {
        int known;                       /* the ledger has this asset, with the configured tokens */
        char problem[RWERR_MSG_MAX];     /* when !known: missing, or tokens differ */
        struct u256 deposited, released; /* source chain, through pinned */
        struct u256 minted, burnt;       /* execution chain, through pinned */
        /* movement in the last few blocks before the pinned heights, to
         * explain a mismatch by transfers in flight */
        uint64_t recent_blocks;
        struct u256 recent_deposited, recent_released, recent_minted, recent_burnt;
};

struct snap_batch {
        uint64_t batch_number;
        uint8_t merkle_root[32];
        uint32_t leaf_count;
        int anchored;
        int has_anchor_block;
        uint64_t anchor_block;
        uint8_t relayer_signature[65];
        int64_t created_ms;  /* unix ms; -1 unknown */
        int64_t anchored_ms; /* unix ms; -1 not anchored */
};

struct snap_leaf {
        uint64_t batch_number;
        uint32_t leaf_index;
        uint64_t withdrawal_id;
        uint8_t token[ABI_ADDRESS_BYTES];
        uint8_t recipient[ABI_ADDRESS_BYTES];
        struct u256 amount;
        uint8_t leaf_hash[32]; /* as the ledger stores it */
};

struct snap_withdrawal {
        uint64_t withdrawal_id;
        uint64_t batch_number;
        uint8_t token[ABI_ADDRESS_BYTES];
        uint8_t recipient[ABI_ADDRESS_BYTES];
        struct u256 amount;
        size_t proof_len;
        uint8_t proof[SNAP_PROOF_MAX][32];
};

/* A root or batch number the ledger holds more than once. */
struct snap_duplicate {
        int is_root;             /* else a batch number */
        char value[80];          /* the root (0x...) or the batch number */
        char batch_numbers[160]; /* as the ledger lists them */
};

/* What the ledger knows of a root anchored on chain. */
struct snap_root_known {
        uint8_t root[32];
        uint64_t batch_number;
};

struct snap_operation {
        uint64_t op_id;
        char kind[16];
        uint64_t chain_id;
        uint64_t nonce;
        int has_tx_hash;
        uint8_t tx_hash[32];
        uint64_t gas_estimate;
        int has_gas_used;
        uint64_t gas_used;
        char status[16];
};

struct snap_cycle_timing {
        uint64_t cycle_id;
        uint64_t duration_ms;
};

struct snap_query_time {
        const char *name; /* static string */
        double ms;
};

/*
 * The bridge's progress as the ledger counts it, for metrics and the
 * on-call page (never for a verdict): totals through the snapshot's
 * transaction. `known` is 0 when the contract lacks relaywatch.progress
 * (an older contract) or the read failed; `problem` says which.
 */
struct snap_progress {
        int known;
        char problem[RWERR_MSG_MAX];
        uint64_t deposits;            /* deposits indexed */
        uint64_t deposits_pending;    /* indexed, not yet minted */
        uint64_t batches_created;     /* settlement batches, any status */
        uint64_t batches_anchored;    /* of those, anchored on the source chain */
        uint64_t withdrawals;         /* withdrawals recorded (burns seen) */
        uint64_t withdrawals_claimed; /* released on the source chain */
        uint64_t withdrawals_pending; /* recorded, not yet released */
};

struct snap_ledger {
        int ok;                        /* every read below succeeded */
        char error[RWERR_MSG_MAX];     /* the first failure, naming query, row and column */
        int connection_lost;           /* DB_CONNECTION_LOST raised by the connection */
        unsigned consecutive_failures; /* failed connects or dead connections in a row */
        char connection_reason[RWERR_MSG_MAX];
        struct snap_ledger_asset *assets; /* per asset */
        /*
         * batches after the batch cursor, with their leaves and withdrawals:
         * one page of them (the cycle reads history in pages, pages.h);
         * more_batches is 1 when the page is full, so more may follow
         */
        uint64_t batches_after;
        int more_batches;
        /*
         * 1: `duplicates` are this page's only (an incremental cycle): a root
         * of one of its batches that the ledger also holds under another
         * batch, or a batch number twice among them. 0: the whole ledger's
         * (relaywatch.duplicate_batches, read with a full sweep's first page).
         */
        int duplicates_in_page;
        size_t nbatches;
        struct snap_batch *batches;
        size_t nleaves;
        struct snap_leaf *leaves; /* by batch, then leaf index */
        size_t nwithdrawals;
        struct snap_withdrawal *withdrawals;
        size_t nduplicates;
        struct snap_duplicate *duplicates;
        /* for each root anchored on chain (view 0), the batches the ledger holds it under */
        size_t nroots_known;
        struct snap_root_known *roots_known;
        /* operations after the operations cursor, and cycles after the cycle cursor */
        size_t noperations;
        struct snap_operation *operations;
        size_t ncycles;
        struct snap_cycle_timing *cycles;
        uint64_t pending_operations;
        /*
         * The totals since the first block came from running totals (only the
         * blocks after those counted before were read: db/totals.h), and how
         * many assets' running totals a full sum of this cycle contradicted
         * (rows at or below blocks already counted were written or changed).
         */
        int totals_running;
        size_t totals_changed;
        size_t nqueries;
        struct snap_query_time queries[SNAP_QUERIES_MAX];
        struct snap_progress progress;
};

/* One consumer group of a relayer Redis stream, from XINFO GROUPS. */
struct snap_stream_group {
        char name[SNAP_NAME_MAX];
        uint64_t consumers;
        uint64_t pending;
        int lag_known; /* Redis reports lag (7.0+) and it is not NULL */
        uint64_t lag;
};

struct snap_stream {
        char name[SNAP_NAME_MAX];
        int ok;
        char error[RWERR_MSG_MAX];
        uint64_t length;
        uint64_t maxlen; /* configured cap the producer trims to; 0 none */
        size_t ngroups;
        struct snap_stream_group *groups;
};

struct snapshot {
        int64_t taken_ms;        /* unix ms when the observe step started */
        char correlation_id[64]; /* [prefix-]32 hex digits */
        size_t nassets;
        struct snap_asset *assets;
        size_t naccounts;
        struct snap_account *accounts;
        struct snap_chain chains[SNAP_NCHAINS];
        struct snap_ledger ledger;
        size_t nstreams;
        struct snap_stream *streams;
        uint64_t previous_cycle_ms; /* the watchdog's own last cycle; 0 unknown */
        uint64_t observe_ms;        /* this cycle's observe step */
        /*
         * The watchdog's own index of the RootAnchored events it checked in
         * earlier cycles (relaywatch_state.anchors), for the roots anchored
         * in view 0 of the source chain this cycle: every indexed event of
         * those roots, by block. It may hold this cycle's own events, when a
         * cycle before read them too (a full sweep reads every event
         * again): an indexed event is the same event as one read this cycle
         * when tx hash, root and batch id are equal (two events of one
         * transaction are always read together). So an old root anchored
         * again is seen by the cycle that reads the new event, whatever its
         * window. known_anchors_failed is 1 when the index could not be read
         * (known_anchors_error says why; the array is then empty); a
         * snapshot built by hand has none and nothing failed.
         */
        int known_anchors_failed;
        char known_anchors_error[RWERR_MSG_MAX];
        size_t nknown_anchors;
        struct snap_anchor *known_anchors;
};

/*
 * Allocate the arrays that depend on the asset, account and batch counts:
 * assets, accounts and ledger.assets (snapshot_alloc_assets_accounts), the
 * per-asset and per-account arrays of one view (tip_values only when the
 * chain's tip differs from its pinned height), and the per-batch
 * anchored_roots of a source view (snapshot_alloc_view; call it after
 * ledger.batches and the chain's heights are known). All zeroed. RW_ERR_NOMEM on failure.
 */
int snapshot_alloc_assets_accounts(struct snapshot *s, size_t nassets, size_t naccounts)
        __attribute__((warn_unused_result));
int snapshot_alloc_view(struct snapshot *s, enum snap_chain_role chain, struct snap_view *v)
        __attribute__((warn_unused_result));

/*
 * Frees one page of history (pages.h): the ledger's batches, leaves,
 * withdrawals and roots_known, the known anchors, and every source view's
 * anchored_roots and anchors, and zeroes their counts; the rest stays.
 */
void snapshot_free_history(struct snapshot *s);

/* Frees every array the snapshot holds and zeroes it. Accepts NULL. */
void snapshot_free(struct snapshot *s);

/* Index of the batch with `batch_number` in ledger.batches, or -1. */
long snapshot_batch_index(const struct snapshot *s, uint64_t batch_number);

#endif
