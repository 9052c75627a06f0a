#include "observe_streams.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redisconn.h"

/* Marks the stream unread: "stream NAME: STEP: DETAIL". */
static void stream_failed(struct snap_stream *st, const char *step, const char *detail)
{
        st->ok = 0;
        /* cut to fit: Redis's own detail comes last */
        if (snprintf(st->error, sizeof st->error, "stream %s: %s: %s", st->name, step, detail) < 0)
                st->error[0] = '\0';
}

/* A reply to XINFO GROUPS into st->groups (replacing any), or the stream marked unread. */
static void read_groups(const redisReply *reply, struct snap_stream *st)
{
        struct redisconn_group *groups = NULL;
        struct rwerr err;
        size_t n = 0, i;

        /* an error reply, "ERR no such key": the producer has not created the stream yet */
        if (redisconn_xinfo_groups(reply, &groups, &n, &err) != RW_OK) {
                stream_failed(st, "XINFO GROUPS", err.msg);
                return;
        }
        free(st->groups);
        st->ngroups = 0;
        st->groups = calloc(n ? n : 1, sizeof *st->groups);
        if (st->groups == NULL) {
                free(groups);
                stream_failed(st, "XINFO GROUPS", "out of memory");
                return;
        }
        for (i = 0; i < n; i++) {
                struct snap_stream_group *g = &st->groups[i];

                (void)snprintf(g->name, sizeof g->name, "%.*s", (int)sizeof g->name - 1,
                               groups[i].name);
                g->consumers = groups[i].consumers;
                g->pending = groups[i].pending;
                g->lag_known = groups[i].lag_known;
                g->lag = groups[i].lag;
        }
        st->ngroups = n;
        st->ok = 1;
        free(groups);
}

static void read_stream(redisContext *ctx, struct snap_stream *st)
{
        redisReply *len = redisCommand(ctx, "XLEN %s", st->name);
        redisReply *groups = NULL;

        if (len == NULL) {
                stream_failed(st, "XLEN failed", ctx->errstr);
                return;
        }
        if (len->type != REDIS_REPLY_INTEGER) {
                stream_failed(st, "XLEN",
                              len->type == REDIS_REPLY_ERROR ? len->str : "not an integer");
                goto done;
        }
        st->length = (uint64_t)len->integer;
        groups = redisCommand(ctx, "XINFO GROUPS %s", st->name);
        if (groups == NULL) {
                stream_failed(st, "XINFO GROUPS failed", ctx->errstr);
                goto done;
        }
        read_groups(groups, st);
done:
        freeReplyObject(len);
        freeReplyObject(groups);
}

int observe_streams(redisContext *ctx, const char *why, const struct config *cfg,
                    struct snapshot *s, struct rwerr *err)
{
        size_t i;

        if (cfg->nstreams == 0)
                return RW_OK;
        s->streams = calloc(cfg->nstreams, sizeof *s->streams);
        if (s->streams == NULL)
                return rwerr_set(err, RW_ERR_NOMEM, "out of memory for %zu streams", cfg->nstreams);
        s->nstreams = cfg->nstreams;
        for (i = 0; i < cfg->nstreams; i++) {
                struct snap_stream *st = &s->streams[i];

                (void)snprintf(st->name, sizeof st->name, "%s", cfg->streams[i].name);
                st->maxlen = cfg->streams[i].maxlen;
                if (ctx == NULL)
                        stream_failed(st, "Redis", why ? why : "not configured");
                else
                        read_stream(ctx, st);
        }
        return RW_OK;
}
