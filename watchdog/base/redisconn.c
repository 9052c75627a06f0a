#include "redisconn.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "rwclock.h"

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
        char server[REDISCONN_SERVER_MAX];
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

/* ------------------------------------------------------------ the link */

/* Waits after failed connection attempts: 0.1, 0.2, 0.5, 1, 2, then every 5 s. */
static const uint64_t backoff_ms[] = {100, 200, 500, 1000, 2000, 5000};
#define BACKOFF_STEPS (sizeof backoff_ms / sizeof backoff_ms[0])

struct redisconn {
        char *url; /* NULL when there is none or it cannot be parsed; wiped at free */
        long timeout_ms;
        redisconn_clock_fn clock;
        void *clock_arg;
        char server[REDISCONN_SERVER_MAX];
        redisContext *ctx;
        unsigned failures;    /* connection attempts failed in a row */
        uint64_t retry_at_ms; /* no attempt before this (monotonic), after a failure */
        char problem[REDISCONN_PROBLEM_MAX];
};

static uint64_t default_clock(void *arg)
{
        (void)arg;
        return rwclock_mono_ms();
}

static uint64_t link_now(const struct redisconn *l)
{
        return l->clock(l->clock_arg);
}

static void link_drop(struct redisconn *l)
{
        if (l->ctx != NULL)
                redisFree(l->ctx);
        l->ctx = NULL;
}

static void wipe_url(struct redisconn *l)
{
        if (l->url != NULL)
                sodium_memzero(l->url, strlen(l->url));
        free(l->url);
        l->url = NULL;
}

struct redisconn *redisconn_new(const struct redisconn_options *opt, struct rwerr *err)
{
        struct redisconn *l = calloc(1, sizeof *l);
        struct redisconn_target t;
        struct rwerr perr;

        if (l == NULL || (opt->url != NULL && (l->url = strdup(opt->url)) == NULL)) {
                free(l);
                rwerr_set(err, RW_ERR_NOMEM, "out of memory for a Redis link");
                return NULL;
        }
        l->timeout_ms = opt->timeout_ms > 0 ? opt->timeout_ms : REDISCONN_TIMEOUT_MS;
        l->clock = opt->clock != NULL ? opt->clock : default_clock;
        l->clock_arg = opt->clock_arg;
        (void)snprintf(l->server, sizeof l->server, "redis (no usable URL)");
        if (l->url == NULL) {
                (void)snprintf(l->problem, sizeof l->problem, "no Redis URL configured");
        } else if (redisconn_parse_url(l->url, &t, &perr) != RW_OK) {
                (void)snprintf(l->problem, sizeof l->problem, "%s", perr.msg);
                wipe_url(l);
        } else {
                redisconn_describe(&t, l->server, sizeof l->server);
        }
        sodium_memzero(&t, sizeof t);
        return l;
}

void redisconn_free(struct redisconn *l)
{
        if (l == NULL)
                return;
        link_drop(l);
        wipe_url(l);
        free(l);
}

static redisContext *link_connect(struct redisconn *l, int now_or_never)
{
        struct rwerr err;
        size_t step;

        if (l->ctx != NULL && l->ctx->err == 0)
                return l->ctx;
        if (l->ctx != NULL) {
                (void)snprintf(l->problem, sizeof l->problem, "%s: connection lost: %s", l->server,
                               l->ctx->errstr[0] != '\0' ? l->ctx->errstr : "no detail");
                link_drop(l);
        }
        if (l->url == NULL)
                return NULL;
        if (!now_or_never && l->failures > 0 && link_now(l) < l->retry_at_ms)
                return NULL;
        l->ctx = redisconn_connect(l->url, l->timeout_ms, &err);
        if (l->ctx == NULL) {
                step = l->failures < BACKOFF_STEPS ? l->failures : BACKOFF_STEPS - 1;
                (void)snprintf(l->problem, sizeof l->problem, "%s", err.msg);
                l->failures++;
                /* measured from the end of the attempt: a slow failure is no reason to hurry */
                l->retry_at_ms = link_now(l) + backoff_ms[step];
                return NULL;
        }
        l->failures = 0;
        l->problem[0] = '\0';
        return l->ctx;
}

redisContext *redisconn_get(struct redisconn *l)
{
        return link_connect(l, 0);
}

redisContext *redisconn_get_now(struct redisconn *l)
{
        return link_connect(l, 1);
}

int redisconn_failed(struct redisconn *l, int rc, const struct rwerr *err)
{
        const char *msg = err != NULL && err->msg[0] != '\0' ? err->msg : rwerr_code_name(rc);

        if (strstr(msg, l->server) != NULL)
                (void)snprintf(l->problem, sizeof l->problem, "%.*s", RWERR_MSG_MAX, msg);
        else
                (void)snprintf(l->problem, sizeof l->problem, "%s: %.*s", l->server, RWERR_MSG_MAX,
                               msg);
        if (rc == RW_ERR_IO || rc == RW_ERR_TIMEOUT || (l->ctx != NULL && l->ctx->err != 0))
                link_drop(l);
        return rc;
}

const char *redisconn_problem(const struct redisconn *l)
{
        return l->problem;
}

const char *redisconn_server(const struct redisconn *l)
{
        return l->server;
}

unsigned redisconn_failures(const struct redisconn *l)
{
        return l->failures;
}

uint64_t redisconn_retry_in_ms(const struct redisconn *l)
{
        uint64_t now;

        if (l->failures == 0 || (l->ctx != NULL && l->ctx->err == 0))
                return 0;
        now = link_now(l);
        return l->retry_at_ms > now ? l->retry_at_ms - now : 0;
}

/* ------------------------------------------------------------ XINFO replies */

const char *redisconn_reply_type_name(int type)
{
        switch (type) {
        case REDIS_REPLY_STRING:
                return "a string";
        case REDIS_REPLY_ARRAY:
                return "an array";
        case REDIS_REPLY_INTEGER:
                return "an integer";
        case REDIS_REPLY_NIL:
                return "nil";
        case REDIS_REPLY_STATUS:
                return "a status";
        case REDIS_REPLY_ERROR:
                return "an error";
        default:
                return "an unknown type";
        }
}

static int is_text(const redisReply *r)
{
        return r != NULL && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS);
}

/* The value of `name` in a flat [name, value, ...] array, or NULL. */
static const redisReply *flat_get(const redisReply *arr, const char *name)
{
        size_t i, len = strlen(name);

        for (i = 0; i + 1 < arr->elements; i += 2) {
                const redisReply *k = arr->element[i];

                if (is_text(k) && k->len == len && memcmp(k->str, name, len) == 0)
                        return arr->element[i + 1];
        }
        return NULL;
}

enum field_kind {
        FIELD_TEXT,      /* a string of at most `size` - 1 bytes, no NUL byte */
        FIELD_COUNT,     /* an integer >= 0 (uint64_t) */
        FIELD_COUNT_NIL, /* the same, or nil (the int at `known` says which) */
        FIELD_MS,        /* an integer, -1 allowed (int64_t), optional */
};

/* One field of an XINFO entry and where it goes in the output struct. */
struct field {
        const char *name;
        enum field_kind kind;
        int required;
        size_t offset;
        size_t size;  /* FIELD_TEXT: the buffer */
        size_t known; /* optional fields: offset of the int set to 1 when present (not nil) */
};

#define TEXT(t, n, m)                                                                              \
        {                                                                                          \
                n, FIELD_TEXT, 1, offsetof(t, m), sizeof(((t *)0)->m), 0                           \
        }
#define COUNT(t, n, m)                                                                             \
        {                                                                                          \
                n, FIELD_COUNT, 1, offsetof(t, m), 0, 0                                            \
        }
#define OPTIONAL(t, n, kind, m, k)                                                                 \
        {                                                                                          \
                n, kind, 0, offsetof(t, m), 0, offsetof(t, k)                                      \
        }

static const struct field group_fields[] = {
        TEXT(struct redisconn_group, "name", name),
        COUNT(struct redisconn_group, "consumers", consumers),
        COUNT(struct redisconn_group, "pending", pending),
        TEXT(struct redisconn_group, "last-delivered-id", last_delivered_id),
        OPTIONAL(struct redisconn_group, "entries-read", FIELD_COUNT_NIL, entries_read,
                 entries_read_known),
        OPTIONAL(struct redisconn_group, "lag", FIELD_COUNT_NIL, lag, lag_known),
};

static const struct field consumer_fields[] = {
        TEXT(struct redisconn_consumer, "name", name),
        COUNT(struct redisconn_consumer, "pending", pending),
        COUNT(struct redisconn_consumer, "idle", idle_ms),
        OPTIONAL(struct redisconn_consumer, "inactive", FIELD_MS, inactive_ms, inactive_known),
};

/* What kind of entry a table describes, for messages. */
struct entry_kind {
        const char *noun; /* "group", "consumer" */
        const struct field *fields;
        size_t nfields;
        size_t size; /* of the output struct */
};

/* parse_entry names an entry by its first field */
_Static_assert(offsetof(struct redisconn_group, name) == 0, "name first");
_Static_assert(offsetof(struct redisconn_consumer, name) == 0, "name first");

static const struct entry_kind groups_kind = {"group", group_fields,
                                              sizeof group_fields / sizeof group_fields[0],
                                              sizeof(struct redisconn_group)};
static const struct entry_kind consumers_kind = {"consumer", consumer_fields,
                                                 sizeof consumer_fields / sizeof consumer_fields[0],
                                                 sizeof(struct redisconn_consumer)};

/* Stores value `v` of field `f` into `out`; 0, or -1 when it is not of the field's kind. */
static int store_field(const struct field *f, const redisReply *v, unsigned char *out)
{
        switch (f->kind) {
        case FIELD_TEXT:
                if (!is_text(v) || v->len >= f->size || memchr(v->str, '\0', v->len) != NULL)
                        return -1;
                memcpy(out + f->offset, v->str, v->len);
                out[f->offset + v->len] = '\0';
                break;
        case FIELD_COUNT_NIL:
                if (v->type == REDIS_REPLY_NIL)
                        return 0; /* present, but Redis cannot tell: not known */
                /* fall through */
        case FIELD_COUNT:
                if (v->type != REDIS_REPLY_INTEGER || v->integer < 0)
                        return -1;
                *(uint64_t *)(void *)(out + f->offset) = (uint64_t)v->integer;
                break;
        case FIELD_MS:
                if (v->type != REDIS_REPLY_INTEGER || v->integer < -1)
                        return -1;
                *(int64_t *)(void *)(out + f->offset) = (int64_t)v->integer;
                break;
        }
        if (!f->required)
                *(int *)(void *)(out + f->known) = 1;
        return 0;
}

/* What a value refused by store_field is, for the message. */
static const char *refused_as(const struct field *f, const redisReply *v)
{
        if (f->kind == FIELD_TEXT && is_text(v))
                return "too long or holds a NUL byte";
        if (f->kind != FIELD_TEXT && v->type == REDIS_REPLY_INTEGER)
                return "an integer out of range";
        return redisconn_reply_type_name(v->type);
}

static const char *field_wants(enum field_kind kind)
{
        switch (kind) {
        case FIELD_TEXT:
                return "a string without NUL bytes";
        case FIELD_COUNT:
                return "an integer >= 0";
        case FIELD_COUNT_NIL:
                return "an integer >= 0 or nil";
        case FIELD_MS:
                return "an integer >= -1";
        }
        return "?";
}

/* Entry number `i` (from 0) of an XINFO reply into `out` (zeroed by the caller). */
static int parse_entry(const struct entry_kind *k, const redisReply *e, size_t i,
                       unsigned char *out, struct rwerr *err)
{
        const char *name = (const char *)out; /* the name is the first field of both structs */
        size_t f;

        if (e == NULL || e->type != REDIS_REPLY_ARRAY || e->elements % 2 != 0)
                return rwerr_set(
                        err, RW_ERR_PROTOCOL, "%s %zu is %s, not field/value pairs", k->noun, i + 1,
                        e == NULL                      ? "missing"
                        : e->type == REDIS_REPLY_ARRAY ? "an odd-length array"
                                                       : redisconn_reply_type_name(e->type));
        for (f = 0; f < k->nfields; f++) {
                const struct field *fd = &k->fields[f];
                const redisReply *v = flat_get(e, fd->name);

                if (v == NULL && !fd->required)
                        continue;
                if (v == NULL)
                        return rwerr_set(err, RW_ERR_PROTOCOL, "%s %zu%s%.64s%s has no %s", k->noun,
                                         i + 1, name[0] ? " (" : "", name, name[0] ? ")" : "",
                                         fd->name);
                if (store_field(fd, v, out) != 0)
                        return rwerr_set(err, RW_ERR_PROTOCOL,
                                         "%s %zu%s%.64s%s: %s is %s, expected %s", k->noun, i + 1,
                                         name[0] ? " (" : "", name, name[0] ? ")" : "", fd->name,
                                         refused_as(fd, v), field_wants(fd->kind));
        }
        return RW_OK;
}

static int parse_entries(const struct entry_kind *k, const redisReply *reply, void **out, size_t *n,
                         struct rwerr *err)
{
        unsigned char *list = NULL;
        size_t i;
        int rc;

        *out = NULL;
        *n = 0;
        if (reply == NULL)
                return rwerr_set(err, RW_ERR_IO, "no reply");
        if (reply->type == REDIS_REPLY_ERROR && strnlen(reply->str, reply->len) == 0)
                return rwerr_set(err, RW_ERR_REMOTE, "Redis answered with an empty error");
        if (reply->type == REDIS_REPLY_ERROR) /* Redis's own words: "ERR no such key" */
                return rwerr_set(err, RW_ERR_REMOTE, "%.*s",
                                 (int)strnlen(reply->str, reply->len > 200 ? 200 : reply->len),
                                 reply->str);
        if (reply->type != REDIS_REPLY_ARRAY)
                return rwerr_set(err, RW_ERR_PROTOCOL, "Redis returned %s, not a list",
                                 redisconn_reply_type_name(reply->type));
        if (reply->elements == 0)
                return RW_OK;
        if ((list = calloc(reply->elements, k->size)) == NULL)
                return rwerr_set(err, RW_ERR_NOMEM, "out of memory for %zu %ss", reply->elements,
                                 k->noun);
        for (i = 0; i < reply->elements; i++) {
                if ((rc = parse_entry(k, reply->element[i], i, list + i * k->size, err)) != RW_OK) {
                        free(list);
                        return rc;
                }
        }
        *out = list;
        *n = reply->elements;
        return RW_OK;
}

int redisconn_xinfo_groups(const redisReply *reply, struct redisconn_group **out, size_t *n,
                           struct rwerr *err)
{
        void *list = NULL;
        int rc = parse_entries(&groups_kind, reply, &list, n, err);

        *out = list;
        return rc;
}

int redisconn_xinfo_consumers(const redisReply *reply, struct redisconn_consumer **out, size_t *n,
                              struct rwerr *err)
{
        void *list = NULL;
        int rc = parse_entries(&consumers_kind, reply, &list, n, err);

        *out = list;
        return rc;
}
