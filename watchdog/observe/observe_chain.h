/*
 * observe_chain: one cycle's reads of one chain, into a snapshot.
 *
 * observe_chain_heads asks the pool for the head (and the finalized block
 * when the chain pins against it) and remembers which endpoint answered.
 * observe_chain_view then reads everything the checks need at the pinned
 * height through that one endpoint, in batched JSON-RPC calls: the pinned
 * block's hash, per asset the lockbox balance (source) or the bridged
 * totalSupply (execution) at the pinned height and, when it differs, at
 * the chain's tip, per relayer account of the chain the nonce at the tip
 * and pending, and on the source chain roots(batch) of
 * the root registry for every ledger batch of the page and the RootAnchored
 * events of the page's block range in chunked eth_getLogs ranges that split in two when a provider refuses a
 * range as too large. A view holds what one endpoint said, never a mix.
 *
 * Where the chain's configuration names a Multicall3 (the default address
 * unless "off"), the per-asset and per-batch single-word reads go as
 * aggregate3 calls of up to 500 reads each at the same block, and any read
 * the aggregate did not answer with one word is made again on its own: the
 * values are those of one call per read either way.
 */
#ifndef RELAYWATCH_OBSERVE_CHAIN_H
#define RELAYWATCH_OBSERVE_CHAIN_H

#include "config.h"
#include "endpoint_pool.h"
#include "snapshot.h"

/*
 * Fills s->chains[role]: head, finalized, and on success *served with the
 * index of the endpoint that answered. RW_OK or an error naming the chain.
 */
int observe_chain_heads(struct endpoint_pool *pool, const struct config_chain *cc,
                        enum snap_chain_role role, struct snapshot *s, int *served,
                        struct rwerr *err) __attribute__((warn_unused_result));

/*
 * What the reads learnt of one endpoint's Multicall3, kept by the caller
 * between cycles (zeroed at first): after an aggregate3 failed as a whole
 * (no contract at the address, a node that refused it, a reply that does
 * not decode), that endpoint's reads make one call each until retry_ms.
 */
struct multicall_memo {
        uint64_t retry_ms;           /* monotonic ms; 0: aggregate3 is used */
        char problem[RWERR_MSG_MAX]; /* why not, while retry_ms is set */
};

/*
 * Reads view `v` of chain `role` at s->chains[role].pinned through endpoint
 * `endpoint` of the pool. The view's arrays must be allocated
 * (snapshot_alloc_view). `memo` is the endpoint's (updated here; NULL: one
 * call per read). Sets v->ok, or v->error and returns the error.
 */
int observe_chain_view(struct endpoint_pool *pool, size_t endpoint, const struct config *cfg,
                       enum snap_chain_role role, struct snapshot *s, struct snap_view *v,
                       struct multicall_memo *memo, struct rwerr *err)
        __attribute__((warn_unused_result));

/*
 * The view's state only: the pinned block's hash, the per-asset values and
 * the nonces, none of its history (the first page's comes after with
 * observe_chain_history, once the ledger's batches are read: the two
 * together read what observe_chain_view reads). Same contract otherwise.
 */
int observe_chain_state(struct endpoint_pool *pool, size_t endpoint, const struct config *cfg,
                        enum snap_chain_role role, struct snapshot *s, struct snap_view *v,
                        struct multicall_memo *memo, struct rwerr *err)
        __attribute__((warn_unused_result));

/*
 * A page of history (pages.h) for view `v` of the source chain, at
 * the same pinned height: roots(batch) for s->ledger's batches of this
 * page into v->anchored_roots (allocated for them by the caller), and the
 * RootAnchored events in anchors_from < b <= anchors_to into v->anchors
 * (freed before). The view's other values stay as they were; v->ok is
 * whether these reads succeeded. Same contract as observe_chain_view
 * otherwise.
 */
int observe_chain_history(struct endpoint_pool *pool, size_t endpoint, const struct config *cfg,
                          struct snapshot *s, struct snap_view *v, struct multicall_memo *memo,
                          struct rwerr *err) __attribute__((warn_unused_result));

#endif
