/*
 * control_consumer: the reference relayer side of the control stream.
 * The behaviour is documented in control_consumer.h; this file is meant
 * to be read top to bottom.
 */
#include "control_consumer.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "control_msg.h"
#include "heartbeat.h"
#include "redisconn.h"

#define READ_COUNT 64     /* entries per XREADGROUP */
#define RECONNECT_MS 1000 /* at most one connection attempt a second after a failure */
#define ENTRY_ID_SIZE 48  /* "1700000000000-0"; Redis ids are at most 41 characters */
#define REASON_SIZE 512
#define DETAIL_SIZE 1024

struct control_consumer {
        /* the configuration, copied */
        char *redis_url, *stream, *group, *consumer, *halt_key, *heartbeat_key;
        char server[REDISCONN_FIELD_MAX + 32]; /* redis://HOST:PORT/DB, for messages */
        struct verify_key *wkeys, *okeys;
        size_t nwkeys, nokeys;
        int require_heartbeat;
        long timeout_ms;
        void (*log)(void *ctx, const char *level, const char *event, const char *detail);
        void *log_ctx;

        redisContext *redis;  /* NULL while disconnected */
        int64_t failed_at_ms; /* monotonic time of the last Redis failure, 0: none */
        int started;          /* the halt key has been read (once, at the first connection) */

        /* what decides may_run; the *_down flags are -1 until first known */
        int halted;
        int64_t halt_issued_ms; /* issued_at of the newest HALT in force */
        int redis_down, heartbeat_down;
        char halt_why[REASON_SIZE], redis_why[REASON_SIZE], heartbeat_why[REASON_SIZE];
        char reason[3 * REASON_SIZE + 8];

        /* HALT entries confirm_stopped will XACK */
        char (*unacked)[ENTRY_ID_SIZE];
        size_t nunacked, capunacked;
};

/* ---- small helpers ---- */

static void say(const struct control_consumer *c, const char *level, const char *event,
                const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void say(const struct control_consumer *c, const char *level, const char *event,
                const char *fmt, ...)
{
        char detail[DETAIL_SIZE];
        va_list ap;

        if (c->log == NULL)
                return;
        va_start(ap, fmt);
        (void)vsnprintf(detail, sizeof detail, fmt, ap);
        va_end(ap);
        c->log(c->log_ctx, level, event, detail);
}

static int64_t clock_ms(clockid_t which)
{
        struct timespec ts;

        clock_gettime(which, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
        struct timespec left = {ms / 1000, (ms % 1000) * 1000000L};

        while (nanosleep(&left, &left) != 0 && errno == EINTR)
                ;
}

static struct timeval timeval_ms(long ms)
{
        struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

        return tv;
}

/* Rebuilds the text control_consumer_reason returns. */
static void update_reason(struct control_consumer *c)
{
        const char *parts[3] = {NULL, NULL, NULL};
        size_t n = 0, i, used = 0;

        if (c->halted)
                parts[n++] = c->halt_why;
        if (c->redis_down != 0)
                parts[n++] = c->redis_why;
        if (c->require_heartbeat && c->heartbeat_down != 0)
                parts[n++] = c->heartbeat_why;
        if (n == 0)
                (void)snprintf(c->reason, sizeof c->reason, "running");
        for (i = 0; i < n && used < sizeof c->reason; i++) {
                int w = snprintf(c->reason + used, sizeof c->reason - used, "%s%s",
                                 i > 0 ? "; " : "", parts[i]);

                used += w > 0 ? (size_t)w : 0;
        }
}

/* Sets the Redis state (why: when down); logs only when it changes. */
static void set_redis(struct control_consumer *c, int down, const char *why)
{
        if (down)
                (void)snprintf(c->redis_why, sizeof c->redis_why, "Redis unavailable: %.*s",
                               (int)(sizeof c->redis_why - sizeof "Redis unavailable: "), why);
        if (down != c->redis_down) {
                if (down)
                        say(c, "error", "redis_down", "fail safe: %s", c->redis_why);
                else
                        say(c, "info", "redis_ok", "connected to %s, stream %s, group %s",
                            c->server, c->stream, c->group);
        }
        c->redis_down = down;
        update_reason(c);
}

/* Sets the heartbeat state; logs only when it changes. */
static void set_heartbeat(struct control_consumer *c, int down, const char *why)
{
        /* cut to fit: the reason is for a log line */
        (void)snprintf(c->heartbeat_why, sizeof c->heartbeat_why, "heartbeat: %.*s",
                       (int)(sizeof c->heartbeat_why - sizeof "heartbeat: "), why);
        if (down != c->heartbeat_down) {
                if (down)
                        say(c, "error", "heartbeat_bad", "fail safe: %s", c->heartbeat_why);
                else
                        say(c, "info", "heartbeat_ok", "%s", c->heartbeat_why);
        }
        c->heartbeat_down = down;
        update_reason(c);
}

/*
 * A NULL reply (the connection failed) or an error reply is a Redis failure;
 * the reply is freed then. (The codes are returned after rwerr_set, not
 * through it, so static analysis sees that r is non-NULL on RW_OK.)
 */
static int check_reply(struct control_consumer *c, redisReply *r, const char *what,
                       struct rwerr *err)
{
        if (r == NULL) {
                (void)rwerr_set(err, RW_ERR_IO, "%s: %s: %s", c->server, what,
                                c->redis->errstr[0] ? c->redis->errstr : "no reply");
                return RW_ERR_IO;
        }
        if (r->type == REDIS_REPLY_ERROR) {
                (void)rwerr_set(err, RW_ERR_REMOTE, "%s: %s: Redis says: %s", c->server, what,
                                r->str);
                freeReplyObject(r);
                return RW_ERR_REMOTE;
        }
        return RW_OK;
}

/* XACKs ids[0..n) in one command (all or none). */
static int ack(struct control_consumer *c, const char *const *ids, size_t n, struct rwerr *err)
{
        const char **argv = calloc(n + 3, sizeof *argv);
        redisReply *r;
        size_t i;
        int rc;

        if (argv == NULL)
                return rwerr_set(err, RW_ERR_NOMEM, "out of memory acking %zu entries", n);
        argv[0] = "XACK";
        argv[1] = c->stream;
        argv[2] = c->group;
        for (i = 0; i < n; i++)
                argv[3 + i] = ids[i];
        r = redisCommandArgv(c->redis, (int)(n + 3), argv, NULL);
        free(argv);
        if ((rc = check_reply(c, r, "XACK", err)) != RW_OK)
                return rc;
        freeReplyObject(r);
        return RW_OK;
}

static int ack_one(struct control_consumer *c, const char *id, struct rwerr *err)
{
        return ack(c, &id, 1, err);
}

static void remember_unacked(struct control_consumer *c, const char *id)
{
        size_t i;

        for (i = 0; i < c->nunacked; i++) {
                if (strcmp(c->unacked[i], id) == 0)
                        return; /* re-read after a reconnect */
        }
        if (c->nunacked == c->capunacked) {
                size_t cap = c->capunacked ? 2 * c->capunacked : 8;
                char(*grown)[ENTRY_ID_SIZE] = realloc(c->unacked, cap * sizeof *grown);

                if (grown == NULL) {
                        /* It stays pending in Redis: a restart re-reads it. */
                        say(c, "error", "out_of_memory", "HALT entry %s will not be acked", id);
                        return;
                }
                c->unacked = grown;
                c->capunacked = cap;
        }
        (void)snprintf(c->unacked[c->nunacked++], ENTRY_ID_SIZE, "%s", id);
}

/* ---- judging a signed message ---- */

/*
 * Checks msg/sig: with the watchdog keys it may be a HALT, with the operator
 * keys a HALT or (when operator_allow says so) a RESUME. 0 with *m filled and
 * *signer naming the key set, or -1 with `why` filled.
 */
static int judge(const struct control_consumer *c, const char *msg, size_t len, const char *sig,
                 unsigned operator_allow, struct control_msg *m, const char **signer, char *why,
                 size_t cap)
{
        struct rwerr werr = {"no watchdog key configured"}, oerr = {"no operator key configured"};

        *signer = "watchdog";
        if (c->nwkeys > 0 && control_msg_check(c->wkeys, c->nwkeys, CONTROL_ALLOW_HALT, msg, len,
                                               sig, m, &werr) >= 0)
                return 0;
        *signer = "operator";
        if (c->nokeys > 0 &&
            control_msg_check(c->okeys, c->nokeys, operator_allow, msg, len, sig, m, &oerr) >= 0)
                return 0;
        (void)snprintf(why, cap, "watchdog keys: %s; operator keys: %s", werr.msg, oerr.msg);
        return -1;
}

static void apply_halt(struct control_consumer *c, const struct control_msg *m, const char *where)
{
        if (!c->halted || m->issued_at_ms > c->halt_issued_ms) {
                c->halt_issued_ms = m->issued_at_ms;
                (void)snprintf(c->halt_why, sizeof c->halt_why, "halted by %s (%s, %s): %s", m->id,
                               m->invariant, where, m->reason);
        }
        c->halted = 1;
        update_reason(c);
}

/* Reads the durable halt key: a HALT there that verifies halts from the start. */
static int read_halt_key(struct control_consumer *c, struct rwerr *err)
{
        redisReply *r = redisCommand(c->redis, "HMGET %s msg sig", c->halt_key);
        const redisReply *msg, *sig;
        struct control_msg m;
        const char *signer = "";
        char why[DETAIL_SIZE];
        int rc;

        if (r != NULL && r->type == REDIS_REPLY_ERROR && strncmp(r->str, "WRONGTYPE", 9) == 0) {
                /* not a hash: nothing that could verify */
                say(c, "warn", "halt_key_rejected", "halt key %s ignored: %s", c->halt_key, r->str);
                freeReplyObject(r);
                return RW_OK;
        }
        if ((rc = check_reply(c, r, "HMGET of the halt key", err)) != RW_OK)
                return rc;
        if (r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
                freeReplyObject(r);
                return rwerr_set(err, RW_ERR_PROTOCOL, "%s: HMGET %s: unexpected reply", c->server,
                                 c->halt_key);
        }
        msg = r->element[0];
        sig = r->element[1];
        if (msg->type == REDIS_REPLY_NIL && sig->type == REDIS_REPLY_NIL) {
                say(c, "info", "halt_key", "no halt in force at %s", c->halt_key);
        } else if (msg->type != REDIS_REPLY_STRING || sig->type != REDIS_REPLY_STRING ||
                   strlen(sig->str) != sig->len) {
                say(c, "warn", "halt_key_rejected",
                    "halt key %s ignored: it needs fields msg and sig", c->halt_key);
        } else if (judge(c, msg->str, msg->len, sig->str, CONTROL_ALLOW_HALT, &m, &signer, why,
                         sizeof why) != 0) {
                say(c, "warn", "halt_key_rejected", "halt key %s ignored: %s", c->halt_key, why);
        } else {
                apply_halt(c, &m, "halt key");
                say(c, "warn", "halt",
                    "HALT %s from the halt key %s: invariant %s, signed by %s key "
                    "%s: %s",
                    m.id, c->halt_key, m.invariant, signer, m.key_id, m.reason);
                control_msg_free(&m);
        }
        freeReplyObject(r);
        return RW_OK;
}

/* ---- stream entries ---- */

static int reject(struct control_consumer *c, const char *id, const char *why, struct rwerr *err)
{
        say(c, "warn", "rejected", "entry %s rejected, acked, nothing changed: %s", id, why);
        return ack_one(c, id, err);
}

/* A RESUME lifts the halt and is acked at once, with every HALT it lifts. */
static int apply_resume(struct control_consumer *c, const char *id, const struct control_msg *m,
                        struct rwerr *err)
{
        const char **ids;
        size_t i;
        int rc;

        if (c->halted && m->issued_at_ms < c->halt_issued_ms) {
                char why[REASON_SIZE];

                (void)snprintf(why, sizeof why,
                               "RESUME %s was issued at %s, before the HALT in force: a replay",
                               m->id, m->issued_at);
                return reject(c, id, why, err);
        }
        if ((ids = calloc(c->nunacked + 1, sizeof *ids)) == NULL)
                return rwerr_set(err, RW_ERR_NOMEM, "out of memory acking RESUME %s", id);
        ids[0] = id;
        for (i = 0; i < c->nunacked; i++)
                ids[i + 1] = c->unacked[i];
        rc = ack(c, ids, c->nunacked + 1, err);
        free(ids);
        if (rc != RW_OK)
                return rc;
        say(c, "info", "resume", "RESUME %s (entry %s) by operator key %s: %s%s", m->id, id,
            m->key_id, m->reason, c->halted ? "" : " (was not halted)");
        c->nunacked = 0;
        c->halted = 0;
        c->halt_issued_ms = 0;
        update_reason(c);
        return RW_OK;
}

/* One entry of an XREADGROUP reply: [id, [field, value, ...]] (fields nil once deleted). */
static int handle_entry(struct control_consumer *c, const redisReply *e, struct rwerr *err)
{
        const redisReply *fields, *msg = NULL, *sig = NULL;
        const char *id, *signer = "";
        char why[DETAIL_SIZE];
        struct control_msg m;
        size_t i, nmsg = 0, nsig = 0;
        int rc = RW_OK;

        if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
            e->element[0]->type != REDIS_REPLY_STRING || e->element[0]->len >= ENTRY_ID_SIZE)
                return rwerr_set(err, RW_ERR_PROTOCOL, "%s: XREADGROUP: malformed entry",
                                 c->server);
        id = e->element[0]->str;
        fields = e->element[1];
        if (fields->type != REDIS_REPLY_ARRAY)
                return reject(c, id, "the entry was deleted from the stream", err);
        for (i = 0; i + 1 < fields->elements; i += 2) {
                const redisReply *k = fields->element[i], *v = fields->element[i + 1];

                if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
                        continue;
                if (strcmp(k->str, "msg") == 0) {
                        msg = v;
                        nmsg++;
                } else if (strcmp(k->str, "sig") == 0) {
                        sig = v;
                        nsig++;
                }
        }
        if (msg == NULL || sig == NULL)
                return reject(c, id, msg == NULL ? "no msg field" : "no sig field", err);
        if (nmsg != 1 || nsig != 1)
                return reject(c, id, "msg or sig given twice", err);
        if (strlen(sig->str) != sig->len)
                return reject(c, id, "sig contains a NUL byte", err);
        if (judge(c, msg->str, msg->len, sig->str, CONTROL_ALLOW_HALT | CONTROL_ALLOW_RESUME, &m,
                  &signer, why, sizeof why) != 0)
                return reject(c, id, why, err);
        if (m.type == CONTROL_HALT) {
                apply_halt(c, &m, "control stream");
                remember_unacked(c, id);
                say(c, "warn", "halt", "HALT %s (entry %s): invariant %s, signed by %s key %s: %s",
                    m.id, id, m.invariant, signer, m.key_id, m.reason);
        } else {
                rc = apply_resume(c, id, &m, err);
        }
        control_msg_free(&m);
        return rc;
}

/*
 * Reads entries: from = "0" re-reads this consumer's pending entries, from
 * = ">" reads new ones (the first read waits up to block_ms).
 */
static int read_entries(struct control_consumer *c, const char *from, long block_ms,
                        struct rwerr *err)
{
        char next[ENTRY_ID_SIZE], blockarg[24], count[24];
        int pending = strcmp(from, ">") != 0;

        (void)snprintf(next, sizeof next, "%s", from);
        (void)snprintf(count, sizeof count, "%d", READ_COUNT);
        for (;;) {
                const char *argv[11] = {"XREADGROUP", "GROUP", c->group,
                                        c->consumer,  "COUNT", count};
                const redisReply *entries;
                redisReply *r;
                size_t i, n = 0;
                int argc = 6, rc = RW_OK;

                /* BLOCK 0 would wait forever: without a wait, BLOCK is left out. */
                if (block_ms > 0) {
                        (void)snprintf(blockarg, sizeof blockarg, "%ld", block_ms);
                        argv[argc++] = "BLOCK";
                        argv[argc++] = blockarg;
                        redisSetTimeout(c->redis, timeval_ms(block_ms + c->timeout_ms));
                }
                argv[argc++] = "STREAMS";
                argv[argc++] = c->stream;
                argv[argc++] = next;
                r = redisCommandArgv(c->redis, argc, argv, NULL);
                if (block_ms > 0 && c->redis->err == 0)
                        redisSetTimeout(c->redis, timeval_ms(c->timeout_ms));
                if ((rc = check_reply(c, r, "XREADGROUP", err)) != RW_OK)
                        return rc;
                /* nil: nothing new before the block ran out; else [[stream, [entry, ...]]] */
                if (r->type == REDIS_REPLY_ARRAY && r->elements == 1 &&
                    r->element[0]->type == REDIS_REPLY_ARRAY && r->element[0]->elements == 2 &&
                    r->element[0]->element[1]->type == REDIS_REPLY_ARRAY) {
                        entries = r->element[0]->element[1];
                        n = entries->elements;
                        for (i = 0; i < n && rc == RW_OK; i++) {
                                rc = handle_entry(c, entries->element[i], err);
                                if (pending && rc == RW_OK)
                                        (void)snprintf(next, sizeof next, "%s",
                                                       entries->element[i]->element[0]->str);
                        }
                } else if (r->type != REDIS_REPLY_NIL) {
                        rc = rwerr_set(err, RW_ERR_PROTOCOL, "%s: XREADGROUP: unexpected reply",
                                       c->server);
                }
                freeReplyObject(r);
                if (rc != RW_OK || n < READ_COUNT)
                        return rc;
                block_ms = 0; /* more is waiting: read it without waiting */
        }
}

/* ---- heartbeat ---- */

/* Reads and checks the heartbeat; only a Redis failure is returned as an error. */
static int check_heartbeat(struct control_consumer *c, struct rwerr *err)
{
        redisReply *r = redisCommand(c->redis, "HMGET %s msg sig", c->heartbeat_key);
        const redisReply *msg, *sig;
        int64_t issued = 0, ttl = 0;
        struct rwerr herr;
        char why[REASON_SIZE];
        int rc;

        if ((rc = check_reply(c, r, "HMGET of the heartbeat key", err)) != RW_OK)
                return rc;
        if (r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
                freeReplyObject(r);
                return rwerr_set(err, RW_ERR_PROTOCOL, "%s: HMGET %s: unexpected reply", c->server,
                                 c->heartbeat_key);
        }
        msg = r->element[0];
        sig = r->element[1];
        if (msg->type == REDIS_REPLY_NIL && sig->type == REDIS_REPLY_NIL) {
                (void)snprintf(why, sizeof why,
                               "no heartbeat at %s: the watchdog is gone or not running",
                               c->heartbeat_key);
                set_heartbeat(c, 1, why);
        } else if (msg->type != REDIS_REPLY_STRING || sig->type != REDIS_REPLY_STRING ||
                   strlen(sig->str) != sig->len) {
                (void)snprintf(why, sizeof why, "%s needs fields msg and sig", c->heartbeat_key);
                set_heartbeat(c, 1, why);
        } else if (heartbeat_check(c->wkeys, c->nwkeys, msg->str, msg->len, sig->str,
                                   clock_ms(CLOCK_REALTIME), &issued, &ttl, &herr) < 0) {
                (void)snprintf(why, sizeof why, "%s refused: %s", c->heartbeat_key, herr.msg);
                set_heartbeat(c, 1, why);
        } else {
                (void)snprintf(why, sizeof why, "fresh at %s (ttl %lld ms)", c->heartbeat_key,
                               (long long)ttl);
                set_heartbeat(c, 0, why);
        }
        freeReplyObject(r);
        return RW_OK;
}

/* ---- connection ---- */

/* After any Redis failure: drop the connection (a later poll makes a new one), fail safe. */
static void redis_failed(struct control_consumer *c, const char *why)
{
        redisFree(c->redis);
        c->redis = NULL;
        c->failed_at_ms = clock_ms(CLOCK_MONOTONIC);
        set_redis(c, 1, why);
}

/* Connects, makes sure the group exists, reads the halt key (first time) and pending entries. */
static int connect_and_catch_up(struct control_consumer *c, struct rwerr *err)
{
        redisReply *r;
        int rc, exists;

        if ((c->redis = redisconn_connect(c->redis_url, c->timeout_ms, err)) == NULL)
                return RW_ERR_IO;
        /*
         * The connection is named after the consumer: before Redis 7.2 a consumer
         * blocked on a quiet stream looks idle in XINFO CONSUMERS, and relaywatch
         * then tells a live relayer by its connection (CLIENT LIST).
         */
        r = redisCommand(c->redis, "CLIENT SETNAME %s", c->consumer);
        if ((rc = check_reply(c, r, "CLIENT SETNAME", err)) != RW_OK)
                return rc;
        freeReplyObject(r);
        r = redisCommand(c->redis, "XGROUP CREATE %s %s 0 MKSTREAM", c->stream, c->group);
        exists = r != NULL && r->type == REDIS_REPLY_ERROR && strncmp(r->str, "BUSYGROUP", 9) == 0;
        if (!exists && (rc = check_reply(c, r, "XGROUP CREATE", err)) != RW_OK)
                return rc;
        freeReplyObject(r);
        if (!c->started) {
                if ((rc = read_halt_key(c, err)) != RW_OK)
                        return rc;
                c->started = 1;
        }
        return read_entries(c, "0", 0, err);
}

int control_consumer_poll(struct control_consumer *c, long block_ms, struct rwerr *err)
{
        struct rwerr e;
        int rc = RW_OK;

        if (block_ms < 0)
                block_ms = 0;
        if (block_ms > CONTROL_CONSUMER_BLOCK_MAX_MS)
                block_ms = CONTROL_CONSUMER_BLOCK_MAX_MS;
        if (c->redis == NULL && c->failed_at_ms != 0 &&
            clock_ms(CLOCK_MONOTONIC) - c->failed_at_ms < RECONNECT_MS) {
                sleep_ms(block_ms); /* too soon to try again; never spin while Redis is away */
                return rwerr_set(err, RW_ERR_IO, "%s", c->redis_why);
        }
        if (c->redis == NULL)
                rc = connect_and_catch_up(c, &e);
        if (rc == RW_OK)
                rc = read_entries(c, ">", block_ms, &e);
        if (rc == RW_OK && c->require_heartbeat)
                rc = check_heartbeat(c, &e);
        if (rc != RW_OK) {
                redis_failed(c, e.msg);
                sleep_ms(block_ms);
                return rwerr_set(err, rc, "%s", c->redis_why);
        }
        set_redis(c, 0, NULL);
        return RW_OK;
}

int control_consumer_confirm_stopped(struct control_consumer *c, struct rwerr *err)
{
        const char **ids;
        struct rwerr e;
        size_t i, n = c->nunacked;
        int rc;

        if (n == 0)
                return RW_OK;
        if (c->redis == NULL)
                return rwerr_set(err, RW_ERR_IO, "%s: not connected: %zu HALT entries stay unacked",
                                 c->server, n);
        if ((ids = calloc(n, sizeof *ids)) == NULL)
                return rwerr_set(err, RW_ERR_NOMEM, "out of memory acking %zu entries", n);
        for (i = 0; i < n; i++)
                ids[i] = c->unacked[i];
        rc = ack(c, ids, n, &e);
        free(ids);
        if (rc != RW_OK) {
                redis_failed(c, e.msg);
                return rwerr_set(err, rc, "%s", c->redis_why);
        }
        say(c, "info", "acked", "stopped: XACKed %zu HALT entr%s, the last %s", n,
            n == 1 ? "y" : "ies", c->unacked[n - 1]);
        c->nunacked = 0;
        return RW_OK;
}

int control_consumer_may_run(const struct control_consumer *c)
{
        return !c->halted && c->redis_down == 0 &&
               (!c->require_heartbeat || c->heartbeat_down == 0);
}

const char *control_consumer_reason(const struct control_consumer *c)
{
        return c->reason;
}

/* ---- open and close ---- */

static char *copy_name(const char *s, const char *fallback)
{
        return strdup(s != NULL ? s : fallback);
}

static struct verify_key *copy_keys(const struct verify_key *keys, size_t n)
{
        struct verify_key *out = malloc(n > 0 ? n * sizeof *out : 1);

        if (out != NULL && n > 0)
                memcpy(out, keys, n * sizeof *out);
        return out;
}

static int check_config(const struct control_consumer_config *cfg, struct rwerr *err)
{
        const char *names[] = {cfg->stream, cfg->group, cfg->consumer, cfg->halt_key,
                               cfg->heartbeat_key};
        struct redisconn_target t;
        size_t i;
        int rc;

        if ((rc = redisconn_parse_url(cfg->redis_url, &t, err)) != RW_OK)
                return rc;
        memset(t.password, 0, sizeof t.password);
        for (i = 0; i < sizeof names / sizeof names[0]; i++) {
                if (names[i] != NULL && names[i][0] == '\0')
                        return rwerr_set(err, RW_ERR_INVALID,
                                         "control consumer: a stream, group, consumer or key "
                                         "name is empty");
        }
        if (cfg->nwatchdog_keys + cfg->noperator_keys == 0)
                return rwerr_set(err, RW_ERR_INVALID,
                                 "control consumer: no watchdog or operator public key: nothing "
                                 "could ever verify");
        if ((cfg->nwatchdog_keys > 0 && cfg->watchdog_keys == NULL) ||
            (cfg->noperator_keys > 0 && cfg->operator_keys == NULL))
                return rwerr_set(err, RW_ERR_INVALID, "control consumer: a key count without keys");
        if (cfg->require_heartbeat && cfg->nwatchdog_keys == 0)
                return rwerr_set(err, RW_ERR_INVALID,
                                 "control consumer: a heartbeat is required but no watchdog "
                                 "public key is configured to check it");
        if (cfg->redis_timeout_ms < 0)
                return rwerr_set(err, RW_ERR_RANGE, "control consumer: redis_timeout_ms < 0");
        return RW_OK;
}

struct control_consumer *control_consumer_open(const struct control_consumer_config *cfg,
                                               struct rwerr *err)
{
        struct control_consumer *c;
        struct redisconn_target t;

        if (check_config(cfg, err) != RW_OK)
                return NULL;
        if ((c = calloc(1, sizeof *c)) == NULL) {
                (void)rwerr_set(err, RW_ERR_NOMEM, "control consumer: out of memory");
                return NULL;
        }
        c->redis_url = strdup(cfg->redis_url);
        c->stream = copy_name(cfg->stream, CONTROL_CONSUMER_DEFAULT_STREAM);
        c->group = copy_name(cfg->group, CONTROL_CONSUMER_DEFAULT_GROUP);
        c->consumer = copy_name(cfg->consumer, CONTROL_CONSUMER_DEFAULT_CONSUMER);
        c->halt_key = copy_name(cfg->halt_key, CONTROL_CONSUMER_DEFAULT_HALT_KEY);
        c->heartbeat_key = copy_name(cfg->heartbeat_key, CONTROL_CONSUMER_DEFAULT_HEARTBEAT_KEY);
        c->wkeys = copy_keys(cfg->watchdog_keys, cfg->nwatchdog_keys);
        c->okeys = copy_keys(cfg->operator_keys, cfg->noperator_keys);
        if (c->redis_url == NULL || c->stream == NULL || c->group == NULL || c->consumer == NULL ||
            c->halt_key == NULL || c->heartbeat_key == NULL || c->wkeys == NULL ||
            c->okeys == NULL) {
                control_consumer_close(c);
                (void)rwerr_set(err, RW_ERR_NOMEM, "control consumer: out of memory");
                return NULL;
        }
        c->nwkeys = cfg->nwatchdog_keys;
        c->nokeys = cfg->noperator_keys;
        c->require_heartbeat = cfg->require_heartbeat;
        c->timeout_ms = cfg->redis_timeout_ms > 0 ? cfg->redis_timeout_ms
                                                  : CONTROL_CONSUMER_DEFAULT_TIMEOUT_MS;
        c->log = cfg->log;
        c->log_ctx = cfg->log_ctx;
        if (redisconn_parse_url(c->redis_url, &t, NULL) == RW_OK) /* checked above */
                redisconn_describe(&t, c->server, sizeof c->server);
        memset(t.password, 0, sizeof t.password);
        c->redis_down = -1;
        c->heartbeat_down = -1;
        (void)snprintf(c->redis_why, sizeof c->redis_why, "Redis unavailable: not connected yet");
        (void)snprintf(c->heartbeat_why, sizeof c->heartbeat_why, "heartbeat: not checked yet");
        update_reason(c);
        (void)control_consumer_poll(c, 0, err);
        return c;
}

void control_consumer_close(struct control_consumer *c)
{
        if (c == NULL)
                return;
        redisFree(c->redis);
        free(c->redis_url);
        free(c->stream);
        free(c->group);
        free(c->consumer);
        free(c->halt_key);
        free(c->heartbeat_key);
        free(c->wkeys);
        free(c->okeys);
        free(c->unacked);
        free(c);
}
