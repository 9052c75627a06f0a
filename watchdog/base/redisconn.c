#include "redisconn.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Copies s[0..len) into out; RW_ERR_RANGE when it does not fit. */
static int copy_part(char *out, size_t cap, const char *s, size_t len, const char *what,
                     struct rwerr *err)
{
        if (len >= cap)
                return rwerr_set(err, RW_ERR_RANGE, "redis URL: %s is longer than %zu bytes", what,
                                 cap - 1);
        memcpy(out, s, len);
        out[len] = '\0';
        return RW_OK;
}

static int parse_number(const char *s, size_t len, long max, const char *what, long *out,
                        struct rwerr *err)
{
        char buf[16];
        char *end = NULL;
        long v;

        if (len == 0 || len >= sizeof buf)
                return rwerr_set(err, RW_ERR_INVALID, "redis URL: bad %s", what);
        memcpy(buf, s, len);
        buf[len] = '\0';
        errno = 0;
        v = strtol(buf, &end, 10);
        if (errno != 0 || *end != '\0' || v < 0 || v > max || buf[0] == '-' || buf[0] == '+')
                return rwerr_set(err, RW_ERR_INVALID,
                                 "redis URL: %s \"%s\" is not a number in 0..%ld", what, buf, max);
        *out = v;
        return RW_OK;
}

int redisconn_parse_url(const char *url, struct redisconn_target *out, struct rwerr *err)
{
        static const char scheme[] = "redis://";
        const char *p, *at, *slash, *colon, *host_end;
        long v = 0;
        int rc;

        memset(out, 0, sizeof *out);
        out->port = 6379;
        if (url == NULL || strncmp(url, scheme, sizeof scheme - 1) != 0)
                return rwerr_set(err, RW_ERR_INVALID,
                                 "redis URL must start with redis:// (rediss:// is not supported)");
        p = url + sizeof scheme - 1;
        slash = strchr(p, '/');
        host_end = slash ? slash : p + strlen(p);
        at = NULL;
        for (const char *q = p; q < host_end; q++) {
                if (*q == '@')
                        at = q;
        }
        if (at != NULL) {
                const char *sep = memchr(p, ':', (size_t)(at - p));

                if (sep == NULL)
                        return rwerr_set(err, RW_ERR_INVALID,
                                         "redis URL: credentials must be USER:PASSWORD or "
                                         ":PASSWORD");
                if ((rc = copy_part(out->user, sizeof out->user, p, (size_t)(sep - p), "user",
                                    err)) != RW_OK ||
                    (rc = copy_part(out->password, sizeof out->password, sep + 1,
                                    (size_t)(at - sep - 1), "password", err)) != RW_OK)
                        return rc;
                p = at + 1;
        }
        colon = memchr(p, ':', (size_t)(host_end - p));
        if ((rc = copy_part(out->host, sizeof out->host, p,
                            (size_t)((colon ? colon : host_end) - p), "host", err)) != RW_OK)
                return rc;
        if (out->host[0] == '\0')
                return rwerr_set(err, RW_ERR_INVALID, "redis URL has no host");
        if (colon != NULL) {
                if ((rc = parse_number(colon + 1, (size_t)(host_end - colon - 1), 65535, "port", &v,
                                       err)) != RW_OK)
                        return rc;
                if (v == 0)
                        return rwerr_set(err, RW_ERR_INVALID, "redis URL: port 0");
                out->port = (int)v;
        }
        if (slash != NULL && slash[1] != '\0') {
                if ((rc = parse_number(slash + 1, strlen(slash + 1), INT_MAX, "database", &v,
                                       err)) != RW_OK)
                        return rc;
                out->db = (int)v;
        }
        return RW_OK;
}

void redisconn_describe(const struct redisconn_target *t, char *out, size_t cap)
{
        (void)snprintf(out, cap, "redis://%s:%d/%d", t->host, t->port, t->db);
}

/* Runs one command that must answer +OK; `what` names it in messages. */
static int expect_ok(redisContext *ctx, redisReply *reply, const char *server, const char *what,
                     struct rwerr *err)
{
        int rc = RW_OK;

        if (reply == NULL)
                rc = rwerr_set(err, RW_ERR_IO, "%s: %s failed: %s", server, what, ctx->errstr);
        else if (reply->type == REDIS_REPLY_ERROR)
                rc = rwerr_set(err, RW_ERR_REFUSED, "%s: %s refused: %s", server, what, reply->str);
        freeReplyObject(reply);
        return rc;
}

redisContext *redisconn_connect(const char *url, long timeout_ms, struct rwerr *err)
{
        struct redisconn_target t;
        struct timeval tv;
        redisContext *ctx;
        char server[REDISCONN_FIELD_MAX + 32];
        int rc;

        if (redisconn_parse_url(url, &t, err) != RW_OK)
                return NULL;
        redisconn_describe(&t, server, sizeof server);
        tv.tv_sec = timeout_ms / 1000;
        tv.tv_usec = (timeout_ms % 1000) * 1000;
        ctx = redisConnectWithTimeout(t.host, t.port, tv);
        if (ctx == NULL) {
                rwerr_set(err, RW_ERR_NOMEM, "%s: out of memory for a connection", server);
                return NULL;
        }
        if (ctx->err) {
                rwerr_set(err, RW_ERR_IO, "%s: cannot connect: %s", server, ctx->errstr);
                redisFree(ctx);
                return NULL;
        }
        if (redisSetTimeout(ctx, tv) != REDIS_OK) {
                rwerr_set(err, RW_ERR_IO, "%s: cannot set the timeout", server);
                redisFree(ctx);
                return NULL;
        }
        rc = RW_OK;
        if (t.password[0] != '\0') {
                redisReply *r = t.user[0] != '\0'
                                        ? redisCommand(ctx, "AUTH %s %s", t.user, t.password)
                                        : redisCommand(ctx, "AUTH %s", t.password);

                rc = expect_ok(ctx, r, server, "AUTH", err);
        }
        if (rc == RW_OK && t.db != 0)
                rc = expect_ok(ctx, redisCommand(ctx, "SELECT %d", t.db), server, "SELECT", err);
        memset(t.password, 0, sizeof t.password);
        if (rc != RW_OK) {
                redisFree(ctx);
                return NULL;
        }
        return ctx;
}
