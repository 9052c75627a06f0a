#include "observe_streams.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Marks the stream unread: "stream NAME: STEP: DETAIL". */
static void stream_failed(struct snap_stream *st, const char *step, const char *detail)
{
        st->ok = 0;
        (void)snprintf(st->error, sizeof st->error, "stream %s: %s: %s", st->name, step, detail);
}

static int reply_u64(const redisReply *r, uint64_t *out)
{
        if (r->type == REDIS_REPLY_INTEGER && r->integer >= 0) {
                *out = (uint64_t)r->integer;
                return 1;
        }
        return 0;
}

/* One group of XINFO GROUPS: a flat field/value array (RESP2). */
static int read_group(const redisReply *g, struct snap_stream_group *out)
{
        size_t i;
        int have_name = 0;

        if (g->type != REDIS_REPLY_ARRAY)
                return 0;
        for (i = 0; i + 1 < g->elements; i += 2) {
                const redisReply *k = g->element[i], *v = g->element[i + 1];

                if (k->type != REDIS_REPLY_STRING && k->type != REDIS_REPLY_STATUS)
                        continue;
                if (strcmp(k->str, "name") == 0 && v->type == REDIS_REPLY_STRING) {
                        (void)snprintf(out->name, sizeof out->name, "%s", v->str);
                        have_name = 1;
                } else if (strcmp(k->str, "consumers") == 0) {
                        (void)reply_u64(v, &out->consumers);
                } else if (strcmp(k->str, "pending") == 0) {
                        (void)reply_u64(v, &out->pending);
                } else if (strcmp(k->str, "lag") == 0) {
                        out->lag_known = reply_u64(v, &out->lag);
                }
        }
        return have_name;
}

void observe_streams_groups(const redisReply *groups, struct snap_stream *st)
{
        size_t i;

        if (groups->type == REDIS_REPLY_ERROR) {
                /* "ERR no such key": the producer has not created it yet */
                stream_failed(st, "XINFO GROUPS", groups->str);
                return;
        }
        if (groups->type != REDIS_REPLY_ARRAY) {
                stream_failed(st, "XINFO GROUPS", "unexpected reply type");
                return;
        }
        free(st->groups);
        st->ngroups = 0;
        st->groups = calloc(groups->elements ? groups->elements : 1, sizeof *st->groups);
        if (st->groups == NULL) {
                stream_failed(st, "XINFO GROUPS", "out of memory");
                return;
        }
        for (i = 0; i < groups->elements; i++) {
                if (read_group(groups->element[i], &st->groups[st->ngroups]))
                        st->ngroups++;
        }
        st->ok = 1;
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
        observe_streams_groups(groups, st);
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
