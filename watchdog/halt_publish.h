/*
 * halt_publish: puts one signed control message on the relayer's control
 * stream, exactly once per incident, however many relaywatch replicas try.
 *
 * One Lua script does it inside Redis, atomically: SET NX on a marker key
 * named after the message id; only the caller that set it XADDs the entry
 * (fields `msg` and `sig`, DESIGN.md's protocol v1) and, for a HALT, stores
 * msg and sig in the durable halt key when that holds no halt yet (the
 * first halt of an incident stays; a relayer that restarts sees it). Every
 * other caller, a second replica or a retry after a crash, learns that the
 * message is already out and publishes nothing.
 */
#ifndef RELAYWATCH_HALT_PUBLISH_H
#define RELAYWATCH_HALT_PUBLISH_H

#include <hiredis/hiredis.h>

#include "rwerr.h"

#define HALT_PUBLISH_ENTRY_ID_SIZE 48 /* "1700000000000-0" and room to spare */

struct halt_publish_keys {
        const char *stream;   /* the control stream, default "relayer:control" */
        const char *halt_key; /* the durable halt hash, default "relayer:halt"; NULL for a RESUME */
        const char *
                marker_base; /* marker keys are MARKER_BASE:ID, default "relayer:control:published" */
};

/* The defaults of DESIGN.md: relayer:control, relayer:halt, relayer:control:published. */
void halt_publish_default_keys(struct halt_publish_keys *k);

/*
 * Publishes msg/sig (exact bytes, as built and signed by control_msg) under
 * message id `id`. On RW_OK *published is 1 and entry_id holds the stream
 * entry's id when this call published it, or 0 when the id was already out.
 * RW_ERR_IO (Redis unreachable, the caller keeps the message in its outbox)
 * or RW_ERR_REMOTE (Redis refused the script) otherwise, naming the stream.
 */
int halt_publish(redisContext *ctx, const struct halt_publish_keys *k, const char *id,
                 const char *msg, size_t msg_len, const char *sig, int *published,
                 char entry_id[HALT_PUBLISH_ENTRY_ID_SIZE], struct rwerr *err)
        __attribute__((warn_unused_result));

#endif
