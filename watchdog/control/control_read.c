#include "control_read.h"

#include <stdio.h>
#include <string.h>

#define FIELDS_MAX 16 /* an entry with more is a bad_entry all the same */

static int is_text(const redisReply *r)
{
        return r != NULL && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS);
}

int control_read_entry_fields(const redisReply *e, char entry_id[CONTROL_ENTRY_ID_SIZE],
                              struct control_field *fields, size_t cap)
{
        const redisReply *kv;
        size_t i, n = 0;

        if (e == NULL || e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
            !is_text(e->element[0]) || e->element[0]->len >= CONTROL_ENTRY_ID_SIZE)
                return -1;
        memcpy(entry_id, e->element[0]->str, e->element[0]->len);
        entry_id[e->element[0]->len] = '\0';
        kv = e->element[1];
        if (kv == NULL || kv->type != REDIS_REPLY_ARRAY)
                return 0;
        for (i = 0; i + 1 < kv->elements && n < cap; i += 2) {
                if (!is_text(kv->element[i]) || !is_text(kv->element[i + 1]))
                        continue;
                fields[n].name = kv->element[i]->str;
                fields[n].name_len = kv->element[i]->len;
                fields[n].value = kv->element[i + 1]->str;
                fields[n].value_len = kv->element[i + 1]->len;
                n++;
        }
        return (int)n;
}

static int failed(redisContext *ctx, redisReply *r, const char *what, const char *key,
                  struct rwerr *err)
{
        int rc;

        if (r == NULL)
                rc = rwerr_set(err, RW_ERR_IO, "%s %s: %s", what, key,
                               ctx->errstr[0] != '\0' ? ctx->errstr : "no reply");
        else if (r->type == REDIS_REPLY_ERROR)
                rc = rwerr_set(err, RW_ERR_REMOTE, "%s %s: Redis says: %.200s", what, key, r->str);
        else
                rc = rwerr_set(err, RW_ERR_PROTOCOL, "%s %s: unexpected reply of type %d", what,
                               key, r->type);
        freeReplyObject(r);
        return rc;
}

/* Judges fields[0..n) and tells fn. */
static void judge(struct control_state *st, const char *entry_id,
                  const struct control_field *fields, size_t n, control_read_fn fn, void *arg)
{
        struct control_outcome out;

        if (entry_id[0] == '\0')
                (void)control_state_halt_key(st, fields, n, NULL, &out);
        else
                (void)control_state_entry(st, entry_id, fields, n, NULL, &out);
        if (fn != NULL)
                fn(arg, entry_id, fields, n, &out);
}

int control_read_halt_key(redisContext *ctx, const char *halt_key, struct control_state *st,
                          int *present, control_read_fn fn, void *arg, struct rwerr *err)
{
        struct control_field fields[FIELDS_MAX];
        redisReply *r = redisCommand(ctx, "HGETALL %s", halt_key);
        size_t i, n = 0;

        *present = 0;
        if (r != NULL && r->type == REDIS_REPLY_ERROR && strncmp(r->str, "WRONGTYPE", 9) == 0) {
                freeReplyObject(r);
                *present = 1;
                judge(st, "", fields, 0, fn, arg);
                return RW_OK;
        }
        if (r == NULL || r->type != REDIS_REPLY_ARRAY)
                return failed(ctx, r, "HGETALL", halt_key, err);
        for (i = 0; i + 1 < r->elements && n < FIELDS_MAX; i += 2) {
                if (!is_text(r->element[i]) || !is_text(r->element[i + 1]))
                        continue;
                fields[n].name = r->element[i]->str;
                fields[n].name_len = r->element[i]->len;
                fields[n].value = r->element[i + 1]->str;
                fields[n].value_len = r->element[i + 1]->len;
                n++;
        }
        if (r->elements > 0) {
                *present = 1;
                judge(st, "", fields, n, fn, arg);
        }
        freeReplyObject(r);
        return RW_OK;
}

int control_read_stream(redisContext *ctx, const char *stream, const char *after,
                        struct control_state *st, char last[CONTROL_ENTRY_ID_SIZE],
                        control_read_fn fn, void *arg, struct rwerr *err)
{
        char from[CONTROL_ENTRY_ID_SIZE + 1], entry_id[CONTROL_ENTRY_ID_SIZE];
        struct control_field fields[FIELDS_MAX];

        (void)snprintf(from, sizeof from, "(%s", after);
        for (;;) {
                redisReply *r = redisCommand(ctx, "XRANGE %s %s + COUNT %d", stream, from,
                                             CONTROL_READ_PAGE);
                size_t i;

                if (r == NULL || r->type != REDIS_REPLY_ARRAY)
                        return failed(ctx, r, "XRANGE", stream, err);
                for (i = 0; i < r->elements; i++) {
                        int n = control_read_entry_fields(r->element[i], entry_id, fields,
                                                          FIELDS_MAX);

                        if (n < 0) {
                                freeReplyObject(r);
                                return rwerr_set(err, RW_ERR_PROTOCOL,
                                                 "XRANGE %s: an entry that is not [id, fields]",
                                                 stream);
                        }
                        judge(st, entry_id, fields, (size_t)n, fn, arg);
                        if (last != NULL)
                                (void)snprintf(last, CONTROL_ENTRY_ID_SIZE, "%s", entry_id);
                        (void)snprintf(from, sizeof from, "(%s", entry_id);
                }
                i = r->elements;
                freeReplyObject(r);
                if (i < CONTROL_READ_PAGE)
                        return RW_OK;
        }
}
