/*
 * observe_streams: the relayer's Redis queue streams, for QUEUE_BUILDUP.
 *
 * For each configured stream: its length (XLEN) and, per consumer group,
 * consumers, pending entries and lag (XINFO GROUPS, read by
 * redisconn_xinfo_groups; lag needs Redis 7.0 and is unknown when Redis
 * cannot tell, e.g. after trimming).
 */
#ifndef RELAYWATCH_OBSERVE_STREAMS_H
#define RELAYWATCH_OBSERVE_STREAMS_H

#include <hiredis/hiredis.h>

#include "config.h"
#include "snapshot.h"

/*
 * Fills s->streams from `ctx` (NULL: Redis unreachable, `why` says why).
 * Each stream that cannot be read is marked !ok with the reason; returns
 * RW_ERR_NOMEM only when the snapshot's arrays cannot be allocated.
 */
int observe_streams(redisContext *ctx, const char *why, const struct config *cfg,
                    struct snapshot *s, struct rwerr *err) __attribute__((warn_unused_result));

#endif
