#include "halt_publish.h"

#include <stdio.h>
#include <string.h>

/*
 * KEYS[1] marker, KEYS[2] stream, KEYS[3] halt key ("" for none);
 * ARGV[1] msg, ARGV[2] sig. Returns the new entry id, or false when the
 * marker already existed (published before, by anyone).
 */
static const char publish_script[] =
        "if not redis.call('SET', KEYS[1], '1', 'NX') then return false end\n"
        "local id = redis.call('XADD', KEYS[2], '*', 'msg', ARGV[1], 'sig', ARGV[2])\n"
        "if KEYS[3] ~= '' and redis.call('EXISTS', KEYS[3]) == 0 then\n"
        "  redis.call('HSET', KEYS[3], 'msg', ARGV[1], 'sig', ARGV[2])\n"
        "end\n"
        "return id\n";

void halt_publish_default_keys(struct halt_publish_keys *k)
{
        k->stream = "relayer:control";
        k->halt_key = "relayer:halt";
        k->marker_base = "relayer:control:published";
}

int halt_publish(redisContext *ctx, const struct halt_publish_keys *k, const char *id,
                 const char *msg, size_t msg_len, const char *sig, int *published,
                 char entry_id[HALT_PUBLISH_ENTRY_ID_SIZE], struct rwerr *err)
{
        char marker[256];
        const char *halt_key = k->halt_key != NULL ? k->halt_key : "";
        redisReply *r;
        int rc = RW_OK;

        *published = 0;
        entry_id[0] = '\0';
        if (snprintf(marker, sizeof marker, "%s:%s", k->marker_base, id) >= (int)sizeof marker)
                return rwerr_set(err, RW_ERR_RANGE, "message id %s makes a marker key too long",
                                 id);
        r = redisCommand(ctx, "EVAL %s 3 %s %s %s %b %s", publish_script, marker, k->stream,
                         halt_key, msg, msg_len, sig);
        if (r == NULL)
                return rwerr_set(err, RW_ERR_IO, "publishing %s on stream %s: %s", id, k->stream,
                                 ctx->errstr[0] ? ctx->errstr : "no reply from Redis");
        if (r->type == REDIS_REPLY_ERROR) {
                rc = rwerr_set(err, RW_ERR_REMOTE, "publishing %s on stream %s: Redis says: %s", id,
                               k->stream, r->str);
        } else if (r->type == REDIS_REPLY_STRING) {
                *published = 1;
                (void)snprintf(entry_id, HALT_PUBLISH_ENTRY_ID_SIZE, "%s", r->str);
        } else if (r->type != REDIS_REPLY_NIL) {
                rc = rwerr_set(err, RW_ERR_PROTOCOL,
                               "publishing %s on stream %s: unexpected reply type %d", id,
                               k->stream, r->type);
        }
        freeReplyObject(r);
        return rc;
}
