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
 * the root registry for every ledger batch and the RootAnchored events in
 * chunked eth_getLogs ranges that split in two when a provider refuses a
 * range as too large. A view holds what one endpoint said, never a mix.
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
 * Reads view `v` of chain `role` at s->chains[role].pinned through endpoint
 * `endpoint` of the pool. The view's arrays must be allocated
 * (snapshot_alloc_view). Sets v->ok, or v->error and returns the error.
 */
int observe_chain_view(struct endpoint_pool *pool, size_t endpoint, const struct config *cfg,
                       enum snap_chain_role role, struct snapshot *s, struct snap_view *v,
                       struct rwerr *err) __attribute__((warn_unused_result));

#endif
