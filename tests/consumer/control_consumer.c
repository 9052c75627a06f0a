/*
 * control_consumer: the reference relayer side of the control stream.
 * The behaviour is documented in control_consumer.h and, normatively, in
 * docs/PROTOCOL.md; this file is meant to be read top to bottom.
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
#include "control_read.h"
#include "control_state.h"
#include "heartbeat.h"
#include "json_strict.h"
#include "redisconn.h"
#include "rwclock.h"

#define READ_COUNT 64     /* entries per XREADGROUP */
#define FIELDS_MAX 8      /* fields kept of one entry: more is a bad_entry all the same */
#define RECONNECT_MS 1000 /* at most one connection attempt a second after a failure */
#define REASON_SIZE 512
#define DETAIL_SIZE 1024
#define SHOWN_MAX 160         /* bytes of a message's text (reason, invariant) shown in a line */
#define PROTOCOL_VERSIONS "1" /* what this consumer announces (PROTOCOL.md section 10) */

/* A HALT in force, as the consumer tells it (the state machine has the rest). */
struct halt_note {
        char halt_id[CONTROL_ID_SIZE];
        char what[REASON_SIZE]; /* "HALT_ID (INVARIANT, from WHERE): REASON", escaped */
        int ack_written;        /* STREAM:ack:HALT_ID GROUP written */
};

/* An accepted HALT's stream entry, XACKed once the relayer has stopped (or it is lifted). */
struct halt_entry {
        char entry_id[CONTROL_ENTRY_ID_SIZE];
        char halt_id[CONTROL_ID_SIZE];
};

struct control_consumer {
        /* the configuration, copied */
        char *redis_url, *stream, *group, *consumer, *halt_key, *heartbeat_key;
        char *ack_prefix, *clients_key;    /* STREAM:ack: and STREAM:clients */
        char server[REDISCONN_SERVER_MAX]; /* redis://HOST:PORT/DB, for messages */
        struct verify_key *wkeys, *okeys;
        size_t nwkeys, nokeys;
        int require_heartbeat;
        long timeout_ms;
        void (*log)(void *ctx, const char *level, const char *event, const char *detail);
        void *log_ctx;

        redisContext *redis;   /* NULL while disconnected */
        uint64_t failed_at_ms; /* monotonic time of the last Redis failure, 0: none */
        int started;           /* the halt key has been read (once, at the first connection) */

        /* the protocol's state: the HALTs in force and the ids accepted */
        struct control_state *st;
        struct halt_note *notes; /* one per HALT in force, oldest first */
        size_t nnotes, capnotes;
        struct halt_entry *unacked; /* accepted HALT entries not yet XACKed */
        size_t nunacked, capunacked;
        char (*to_ack)[CONTROL_ENTRY_ID_SIZE]; /* entries to XACK now (retried after a failure) */
        size_t nto_ack, capto_ack;

        /* what decides may_run besides the HALTs; the *_down flags are -1 until first known */
        int redis_down, heartbeat_down;
        char redis_why[REASON_SIZE], heartbeat_why[REASON_SIZE];
        char reason[3 * REASON_SIZE + 64];
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

/*
 * Text from outside (a message's strings, an entry id, a Redis error) made
 * safe for a log line: printable ASCII and well-formed UTF-8 stay; control
 * characters (C0, DEL, C1), the line and paragraph separators and the
 * bidirectional overrides, bytes that are not UTF-8, and '\' itself become
 * \xNN. At most `max` bytes of s are shown, then "...". Returns out.
 */
static const char *esc(char *out, size_t cap, const char *s, size_t n, size_t max)
{
        const unsigned char *u = (const unsigned char *)s;
        size_t i = 0, used = 0;

        while (i < n && i < max && used + 8 < cap) {
                size_t len = u[i] >= 0x80 ? utf8_sequence_len(u + i, n - i) : 1;
                int plain = len == 1 ? u[i] >= 0x20 && u[i] < 0x7f && u[i] != '\\'
                                     : len > 1 && !(u[i] == 0xc2 && u[i + 1] < 0xa0) &&
                                               !(len == 3 && u[i] == 0xe2 && u[i + 1] == 0x80 &&
                                                 u[i + 2] >= 0xa8 && u[i + 2] <= 0xae) &&
                                               !(len == 3 && u[i] == 0xe2 && u[i + 1] == 0x81 &&
                                                 u[i + 2] >= 0xa6 && u[i + 2] <= 0xa9);

                if (plain) {
                        memcpy(out + used, s + i, len);
                        used += len;
                        i += len;
                } else {
                        used += (size_t)snprintf(out + used, cap - used, "\\x%02x", u[i]);
                        i++;
                }
        }
        if (i < n && used + 4 <= cap) {
                memcpy(out + used, "...", 3);
                used += 3;
        }
        out[used < cap ? used : cap - 1] = '\0';
        return out;
}

/* esc of a NUL-terminated string into a buffer of `size` named buf. */
#define ESC(buf, s) esc((buf), sizeof(buf), (s), strlen(s), SHOWN_MAX)

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

/* Grows *arr (of *cap elements of `size` bytes) to hold n + 1; 0, or -1 out of memory. */
static int grow(void **arr, size_t *cap, size_t n, size_t size)
{
        size_t ncap;
        void *grown;

        if (n < *cap)
                return 0;
        ncap = *cap ? 2 * *cap : 8;
        if ((grown = realloc(*arr, ncap * size)) == NULL)
                return -1;
        *arr = grown;
        *cap = ncap;
        return 0;
}

/* Rebuilds the text control_consumer_reason returns. */
static void update_reason(struct control_consumer *c)
{
        char halt_why[REASON_SIZE + 64];
        const char *parts[3] = {NULL, NULL, NULL};
        size_t n = 0, i, used = 0;

        if (c->nnotes > 0) {
                if (c->nnotes == 1)
                        (void)snprintf(halt_why, sizeof halt_why, "halted by %s", c->notes[0].what);
                else
                        (void)snprintf(halt_why, sizeof halt_why,
                                       "halted by %zu HALTs in force, the first %.*s", c->nnotes,
                                       (int)REASON_SIZE, c->notes[0].what);
                parts[n++] = halt_why;
        }
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
        char shown[REASON_SIZE];

        if (down)
                (void)snprintf(c->redis_why, sizeof c->redis_why, "Redis unavailable: %s",
                               esc(shown, sizeof shown, why, strlen(why), REASON_SIZE / 2));
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
        char shown[REASON_SIZE];

        (void)snprintf(c->heartbeat_why, sizeof c->heartbeat_why, "heartbeat: %s",
                       esc(shown, sizeof shown, why, strlen(why), REASON_SIZE / 2));
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
                (void)rwerr_set(err, RW_ERR_REMOTE, "%s: %s: Redis says: %.200s", c->server, what,
                                r->str);
                freeReplyObject(r);
                return RW_ERR_REMOTE;
        }
        return RW_OK;
}

/* ---- XACK ---- */

/* XACKs ids[0..n) in one command (all or none). */
static int xack(struct control_consumer *c, const char *const *ids, size_t n, struct rwerr *err)
{
        const char **argv;
        redisReply *r;
        size_t i;
        int rc;

        if (n == 0)
                return RW_OK;
        if ((argv = calloc(n + 3, sizeof *argv)) == NULL)
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

/* Queues entry `id` for the next flush_acks (an entry is queued at most once). */
static int queue_ack(struct control_consumer *c, const char *id, struct rwerr *err)
{
        size_t i;

        for (i = 0; i < c->nto_ack; i++) {
                if (strcmp(c->to_ack[i], id) == 0)
                        return RW_OK;
        }
        if (grow((void **)&c->to_ack, &c->capto_ack, c->nto_ack, sizeof c->to_ack[0]) != 0)
                return rwerr_set(err, RW_ERR_NOMEM, "out of memory queueing the XACK of %s", id);
        (void)snprintf(c->to_ack[c->nto_ack++], CONTROL_ENTRY_ID_SIZE, "%s", id);
        return RW_OK;
}

/* XACKs every queued entry; on a failure they stay queued for the next connection. */
static int flush_acks(struct control_consumer *c, struct rwerr *err)
{
        const char **ids;
        size_t i;
        int rc;

        if (c->nto_ack == 0)
                return RW_OK;
        if ((ids = calloc(c->nto_ack, sizeof *ids)) == NULL)
                return rwerr_set(err, RW_ERR_NOMEM, "out of memory acking %zu entries", c->nto_ack);
        for (i = 0; i < c->nto_ack; i++)
                ids[i] = c->to_ack[i];
        rc = xack(c, ids, c->nto_ack, err);
        free(ids);
        if (rc == RW_OK)
                c->nto_ack = 0;
        return rc;
}

/* 1 when entry `id` was handled by this consumer and still waits for its XACK. */
static int handled_before(const struct control_consumer *c, const char *id)
{
        size_t i;

        for (i = 0; i < c->nunacked; i++) {
                if (strcmp(c->unacked[i].entry_id, id) == 0)
                        return 1;
        }
        for (i = 0; i < c->nto_ack; i++) {
                if (strcmp(c->to_ack[i], id) == 0)
                        return 1;
        }
        return 0;
}

/* ---- the HALTs in force ---- */

static struct halt_note *note_find(struct control_consumer *c, const char *halt_id)
{
        size_t i;

        for (i = 0; i < c->nnotes; i++) {
                if (strcmp(c->notes[i].halt_id, halt_id) == 0)
                        return &c->notes[i];
        }
        return NULL;
}

/* Notes an accepted HALT (m), or says where it is from now when it was in force already. */
static int note_halt(struct control_consumer *c, const struct control_msg *m, const char *where,
                     struct rwerr *err)
{
        char inv[SHOWN_MAX * 4 + 8], reason[SHOWN_MAX * 4 + 8];
        struct halt_note *n = note_find(c, m->id);

        if (n == NULL) {
                if (grow((void **)&c->notes, &c->capnotes, c->nnotes, sizeof c->notes[0]) != 0)
                        return rwerr_set(err, RW_ERR_NOMEM, "out of memory noting HALT %s", m->id);
                n = &c->notes[c->nnotes++];
                memset(n, 0, sizeof *n);
                (void)snprintf(n->halt_id, sizeof n->halt_id, "%s", m->id);
        }
        (void)snprintf(n->what, sizeof n->what, "%s (%s, from %s): %s", m->id,
                       ESC(inv, m->invariant), where, ESC(reason, m->reason));
        update_reason(c);
        return RW_OK;
}

/* 1 when HALT `halt_id` is in force in the state machine. */
static int in_force(const struct control_consumer *c, const char *halt_id)
{
        const struct control_in_force *list;
        size_t n = control_state_in_force(c->st, &list), i;

        for (i = 0; i < n; i++) {
                if (strcmp(list[i].halt_id, halt_id) == 0)
                        return 1;
        }
        return 0;
}

/*
 * After a RESUME: drops the notes of the HALTs it lifted and queues the
 * XACK of their entries not yet acked.
 */
static int forget_lifted(struct control_consumer *c, struct rwerr *err)
{
        size_t i, kept = 0;
        int rc = RW_OK;

        for (i = 0; i < c->nnotes; i++) {
                if (in_force(c, c->notes[i].halt_id))
                        c->notes[kept++] = c->notes[i];
        }
        c->nnotes = kept;
        for (i = 0, kept = 0; i < c->nunacked; i++) {
                if (in_force(c, c->unacked[i].halt_id))
                        c->unacked[kept++] = c->unacked[i];
                else if (rc == RW_OK)
                        rc = queue_ack(c, c->unacked[i].entry_id, err);
        }
        c->nunacked = kept;
        update_reason(c);
        return rc;
}

/* ---- the halt key ---- */

/* control_read's callback for the halt key: log it, note its HALT. */
static void halt_key_judged(void *arg, const char *entry_id, const struct control_field *fields,
                            size_t nfields, const struct control_outcome *out)
{
        struct control_consumer *c = arg;
        const struct control_in_force *list;
        struct control_msg m;
        struct rwerr err;
        size_t n, i;

        (void)entry_id;
        (void)fields;
        (void)nfields;
        if (out->reject != CONTROL_ACCEPTED) {
                /* details are escaped by control_state; nothing raw is copied */
                say(c, "warn", "halt_key_rejected", "halt key %s ignored (%s): %s", c->halt_key,
                    control_reject_name(out->reject), out->detail);
                return;
        }
        /* the verified msg is kept by the state: read what to tell from it */
        n = control_state_in_force(c->st, &list);
        for (i = 0; i < n && strcmp(list[i].halt_id, out->msg_id) != 0; i++)
                ;
        if (i == n || control_msg_parse(list[i].msg, list[i].msg_len, &m, &err) != RW_OK) {
                say(c, "error", "halt_key", "HALT %s from the halt key: cannot read it back",
                    out->msg_id);
                return;
        }
        if (note_halt(c, &m, "the halt key", &err) != RW_OK)
                say(c, "error", "out_of_memory", "%s", err.msg);
        {
                char inv[SHOWN_MAX * 4 + 8], reason[SHOWN_MAX * 4 + 8], corr[SHOWN_MAX * 4 + 8];

                say(c, "warn", "halt",
                    "HALT %s from the halt key %s: invariant %s, signed by %s key %s, "
                    "correlation %s: %s",
                    m.id, c->halt_key, ESC(inv, m.invariant), control_role_name(out->role),
                    out->key_id, ESC(corr, m.correlation_id), ESC(reason, m.reason));
        }
        control_msg_free(&m);
}

/*
 * The halt key where an ACL grants only HGET/HMGET (PROTOCOL.md section 2):
 * HMGET msg sig, judged like the fields HGETALL would have shown (fields
 * other than those two go unseen).
 */
static int read_halt_key_hmget(struct control_consumer *c, int *present, struct rwerr *err)
{
        static const char *const names[2] = {"msg", "sig"};
        redisReply *r = redisCommand(c->redis, "HMGET %s msg sig", c->halt_key);
        struct control_field fields[2];
        struct control_outcome out;
        size_t i, n = 0;
        int rc;

        *present = 0;
        if (r == NULL)
                return check_reply(c, r, "HMGET of the halt key", err);
        if (r->type == REDIS_REPLY_ERROR && strncmp(r->str, "WRONGTYPE", 9) == 0) {
                freeReplyObject(r);
                *present = 1;
                (void)control_state_halt_key(c->st, fields, 0, NULL, &out);
                halt_key_judged(c, "", fields, 0, &out);
                return RW_OK;
        }
        if ((rc = check_reply(c, r, "HMGET of the halt key", err)) != RW_OK)
                return rc;
        if (r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
                freeReplyObject(r);
                return rwerr_set(err, RW_ERR_PROTOCOL, "%s: HMGET %s: unexpected reply", c->server,
                                 c->halt_key);
        }
        for (i = 0; i < 2; i++) {
                if (r->element[i]->type != REDIS_REPLY_STRING)
                        continue;
                fields[n].name = names[i];
                fields[n].name_len = 3;
                fields[n].value = r->element[i]->str;
                fields[n].value_len = r->element[i]->len;
                n++;
        }
        if (n > 0) {
                *present = 1;
                (void)control_state_halt_key(c->st, fields, n, NULL, &out);
                halt_key_judged(c, "", fields, n, &out);
        }
        freeReplyObject(r);
        return RW_OK;
}

/*
 * Reads the halt key with HGETALL (which sees fields other than msg and
 * sig, section 7), or with HMGET where an ACL denies HGETALL.
 */
static int read_halt_key(struct control_consumer *c, struct rwerr *err)
{
        int present = 0, rc;

        rc = control_read_halt_key(c->redis, c->halt_key, c->st, &present, halt_key_judged, c, err);
        if (rc == RW_ERR_REMOTE && strstr(err->msg, "NOPERM") != NULL) {
                say(c, "warn", "halt_key",
                    "HGETALL is denied on %s: reading msg and sig with HMGET (other fields of "
                    "the halt key go unseen)",
                    c->halt_key);
                rc = read_halt_key_hmget(c, &present, err);
        }
        if (rc != RW_OK)
                return rc;
        if (!present)
                say(c, "info", "halt_key", "no halt in force at %s", c->halt_key);
        return RW_OK;
}

/* ---- stream entries ---- */

/* A rejected entry: logged with its id and rejection, XACKed at once, nothing changed. */
static int rejected(struct control_consumer *c, const char *id, const struct control_outcome *out,
                    struct rwerr *err)
{
        char by[64] = "";
        int rc;

        if (out->role != CONTROL_ROLE_NONE)
                (void)snprintf(by, sizeof by, " (verified by %s key %s)",
                               control_role_name(out->role), out->key_id);
        say(c, "warn", "rejected", "entry %s: %s%s; acked, nothing changed: %s", id,
            control_reject_name(out->reject), by, out->detail);
        if ((rc = queue_ack(c, id, err)) != RW_OK)
                return rc;
        return flush_acks(c, err);
}

static int accepted_halt(struct control_consumer *c, const char *id,
                         const struct control_outcome *out, const struct control_msg *m,
                         struct rwerr *err)
{
        char where[CONTROL_ENTRY_ID_SIZE + 8], inv[SHOWN_MAX * 4 + 8], reason[SHOWN_MAX * 4 + 8],
                corr[SHOWN_MAX * 4 + 8];
        struct halt_entry *e;
        int rc;

        (void)snprintf(where, sizeof where, "entry %s", id);
        if ((rc = note_halt(c, m, where, err)) != RW_OK)
                return rc;
        if (grow((void **)&c->unacked, &c->capunacked, c->nunacked, sizeof c->unacked[0]) != 0)
                return rwerr_set(err, RW_ERR_NOMEM, "out of memory keeping HALT entry %s", id);
        e = &c->unacked[c->nunacked++];
        (void)snprintf(e->entry_id, sizeof e->entry_id, "%s", id);
        (void)snprintf(e->halt_id, sizeof e->halt_id, "%s", m->id);
        say(c, "warn", "halt",
            "HALT %s (entry %s)%s: invariant %s, signed by %s key %s, correlation %s: %s", m->id,
            id, out->known ? ", in force already from the halt key" : "", ESC(inv, m->invariant),
            control_role_name(out->role), out->key_id, ESC(corr, m->correlation_id),
            ESC(reason, m->reason));
        return RW_OK;
}

/* "chain=block, ..." of resume_from, escaped. */
static void resume_from_text(const struct control_msg *m, char *out, size_t cap)
{
        char chain[SHOWN_MAX * 4 + 8];
        size_t i, used = 0;

        out[0] = '\0';
        for (i = 0; i < m->nresume_from && used < cap; i++) {
                int w = snprintf(out + used, cap - used, "%s%s=%llu", i ? ", " : "",
                                 esc(chain, sizeof chain, m->resume_from[i].chain,
                                     strlen(m->resume_from[i].chain), 64),
                                 (unsigned long long)m->resume_from[i].block);

                used += w > 0 ? (size_t)w : 0;
        }
}

/* A RESUME is XACKed at once, with the entries of the HALTs it lifted that were not acked. */
static int accepted_resume(struct control_consumer *c, const char *id,
                           const struct control_outcome *out, const struct control_msg *m,
                           struct rwerr *err)
{
        char reason[SHOWN_MAX * 4 + 8], from[DETAIL_SIZE / 2];
        int rc;

        if ((rc = forget_lifted(c, err)) != RW_OK || (rc = queue_ack(c, id, err)) != RW_OK)
                return rc;
        resume_from_text(m, from, sizeof from);
        say(c, "info", "resume",
            "RESUME %s (entry %s) by %s key %s lifted %zu of the %zu HALT(s) it lists; %s; "
            "resume_from %s: %s",
            m->id, id, control_role_name(out->role), out->key_id, out->nlifted, m->nlifts,
            control_state_halted(c->st) ? "still halted by others" : "nothing in force", from,
            ESC(reason, m->reason));
        return flush_acks(c, err);
}

/* One entry of an XREADGROUP reply: [id, [field, value, ...]] (fields nil once deleted). */
static int handle_entry(struct control_consumer *c, const redisReply *e, int pending,
                        char id[CONTROL_ENTRY_ID_SIZE], struct rwerr *err)
{
        struct control_field fields[FIELDS_MAX];
        struct control_outcome out;
        struct control_msg m;
        int n, rc;

        if ((n = control_read_entry_fields(e, id, fields, FIELDS_MAX)) < 0)
                return rwerr_set(err, RW_ERR_PROTOCOL, "%s: XREADGROUP: malformed entry",
                                 c->server);
        /* re-read after a reconnection: judged already, its XACK still to come */
        if (pending && handled_before(c, id))
                return RW_OK;
        switch (control_state_entry(c->st, id, fields, (size_t)n, &m, &out)) {
        case CONTROL_ACCEPTED:
                rc = m.type == CONTROL_HALT ? accepted_halt(c, id, &out, &m, err)
                                            : accepted_resume(c, id, &out, &m, err);
                control_msg_free(&m);
                return rc;
        case CONTROL_NO_MEMORY:
                /* the state is unchanged and the entry not acked: judged again later */
                return rwerr_set(err, RW_ERR_NOMEM, "entry %s: %s", id, out.detail);
        default:
                return rejected(c, id, &out, err);
        }
}

/*
 * Reads entries: from = "0" re-reads this consumer's pending entries, from
 * = ">" reads new ones (the first read waits up to block_ms).
 */
static int read_entries(struct control_consumer *c, const char *from, long block_ms,
                        struct rwerr *err)
{
        char next[CONTROL_ENTRY_ID_SIZE], id[CONTROL_ENTRY_ID_SIZE], blockarg[24], count[24];
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
                                rc = handle_entry(c, entries->element[i], pending, id, err);
                                if (pending && rc == RW_OK)
                                        (void)snprintf(next, sizeof next, "%s", id);
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
                                   rwclock_wall_ms(), &issued, &ttl, &herr) < 0) {
                /* (set_heartbeat escapes: the message may quote the heartbeat's text) */
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
        c->failed_at_ms = rwclock_mono_ms();
        if (c->failed_at_ms == 0)
                c->failed_at_ms = 1;
        set_redis(c, 1, why);
}

/* Runs a command that must not fail (an error reply is a failure too); frees the reply. */
static int command(struct control_consumer *c, const char *what, struct rwerr *err, int argc,
                   const char **argv)
{
        redisReply *r = redisCommandArgv(c->redis, argc, argv, NULL);
        int rc;

        if ((rc = check_reply(c, r, what, err)) != RW_OK)
                return rc;
        freeReplyObject(r);
        return RW_OK;
}

/*
 * Connects and names the connection, makes sure the group exists,
 * announces the protocol versions, XACKs what a failure left unacked, reads
 * the halt key (the first time) and then this consumer's pending entries.
 */
static int connect_and_catch_up(struct control_consumer *c, struct rwerr *err)
{
        const char *setname[] = {"CLIENT", "SETNAME", c->consumer};
        const char *announce[] = {"HSET", c->clients_key, c->group, PROTOCOL_VERSIONS};
        redisReply *r;
        int rc, exists;

        if ((c->redis = redisconn_connect(c->redis_url, c->timeout_ms, err)) == NULL)
                return RW_ERR_IO;
        /*
         * The connection is named after the consumer: before Redis 7.2 a consumer
         * blocked on a quiet stream looks idle in XINFO CONSUMERS, and relaywatch
         * then tells a live relayer by its connection (CLIENT LIST).
         */
        if ((rc = command(c, "CLIENT SETNAME", err, 3, setname)) != RW_OK)
                return rc;
        /* From 0, not $: a new group reads every HALT and RESUME on the stream, in order. */
        r = redisCommand(c->redis, "XGROUP CREATE %s %s 0 MKSTREAM", c->stream, c->group);
        exists = r != NULL && r->type == REDIS_REPLY_ERROR && strncmp(r->str, "BUSYGROUP", 9) == 0;
        if (!exists && (rc = check_reply(c, r, "XGROUP CREATE", err)) != RW_OK)
                return rc;
        freeReplyObject(r);
        if ((rc = command(c, "HSET of the versions announcement", err, 4, announce)) != RW_OK ||
            (rc = flush_acks(c, err)) != RW_OK)
                return rc;
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
            rwclock_mono_ms() - c->failed_at_ms < RECONNECT_MS) {
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

/*
 * HSET STREAM:ack:HALT_ID GROUP STOPPED_AT for every HALT in force not
 * acknowledged yet; their ids into `ids` (for the log line).
 */
static int write_acks(struct control_consumer *c, const char *stopped_at, size_t *written,
                      char *ids, size_t cap, struct rwerr *err)
{
        char key[CONTROL_ID_SIZE + 512];
        const char *argv[4] = {"HSET", key, c->group, stopped_at};
        size_t i, used = 0;
        int rc;

        *written = 0;
        ids[0] = '\0';
        for (i = 0; i < c->nnotes; i++) {
                if (c->notes[i].ack_written)
                        continue;
                (void)snprintf(key, sizeof key, "%s%s", c->ack_prefix, c->notes[i].halt_id);
                if ((rc = command(c, "HSET of an acknowledgement", err, 4, argv)) != RW_OK)
                        return rc;
                c->notes[i].ack_written = 1;
                (*written)++;
                if (used < cap) {
                        int w = snprintf(ids + used, cap - used, "%s%s", used ? " " : "",
                                         c->notes[i].halt_id);

                        used += w > 0 ? (size_t)w : 0;
                }
        }
        return RW_OK;
}

int control_consumer_confirm_stopped(struct control_consumer *c, struct rwerr *err)
{
        char stopped_at[RWCLOCK_UTC_SIZE], written_ids[DETAIL_SIZE / 2];
        size_t i, written = 0, acked = c->nunacked, pending_notes = 0;
        const char **ids = NULL;
        struct rwerr e;
        int rc;

        for (i = 0; i < c->nnotes; i++)
                pending_notes += !c->notes[i].ack_written;
        if (pending_notes == 0 && c->nunacked == 0)
                return RW_OK;
        if (c->redis == NULL)
                return rwerr_set(err, RW_ERR_IO,
                                 "%s: not connected: %zu acknowledgement(s) and %zu HALT "
                                 "entr%s wait",
                                 c->server, pending_notes, c->nunacked,
                                 c->nunacked == 1 ? "y" : "ies");
        if (rwclock_format_utc(rwclock_wall_ms(), stopped_at, &e) != RW_OK)
                return rwerr_set(err, RW_ERR_RANGE, "the clock: %s", e.msg);
        /* first the acknowledgements (they say "stopped"), then the XACKs (they say "read") */
        rc = write_acks(c, stopped_at, &written, written_ids, sizeof written_ids, &e);
        if (rc == RW_OK && c->nunacked > 0) {
                if ((ids = calloc(c->nunacked, sizeof *ids)) == NULL) {
                        rc = rwerr_set(&e, RW_ERR_NOMEM, "out of memory acking %zu entries",
                                       c->nunacked);
                } else {
                        for (i = 0; i < c->nunacked; i++)
                                ids[i] = c->unacked[i].entry_id;
                        rc = xack(c, ids, c->nunacked, &e);
                        free(ids);
                }
        }
        if (rc != RW_OK) {
                if (rc != RW_ERR_NOMEM)
                        redis_failed(c, e.msg);
                return rwerr_set(err, rc, "%s", rc == RW_ERR_NOMEM ? e.msg : c->redis_why);
        }
        c->nunacked = 0;
        say(c, "info", "acked",
            "stopped at %s: acknowledged %zu HALT(s) as group %s (%s), XACKed %zu HALT entr%s",
            stopped_at, written, c->group, written > 0 ? written_ids : "none new", acked,
            acked == 1 ? "y" : "ies");
        return RW_OK;
}

int control_consumer_may_run(const struct control_consumer *c)
{
        return !control_state_halted(c->st) && c->redis_down == 0 &&
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

static char *key_of(const char *stream, const char *suffix)
{
        size_t n = strlen(stream) + strlen(suffix) + 1;
        char *k = malloc(n);

        if (k != NULL)
                (void)snprintf(k, n, "%s%s", stream, suffix);
        return k;
}

static int check_config(const struct control_consumer_config *cfg, struct rwerr *err)
{
        const char *names[] = {cfg->stream, cfg->group, cfg->consumer, cfg->halt_key,
                               cfg->heartbeat_key};
        struct redisconn_target t;
        size_t i, j;
        int rc;

        if ((rc = redisconn_parse_url(cfg->redis_url, &t, err)) != RW_OK)
                return rc;
        memset(t.password, 0, sizeof t.password);
        for (i = 0; i < sizeof names / sizeof names[0]; i++) {
                if (names[i] != NULL && (names[i][0] == '\0' || strlen(names[i]) > 256))
                        return rwerr_set(err, RW_ERR_INVALID,
                                         "control consumer: a stream, group, consumer or key "
                                         "name is empty or over 256 bytes");
        }
        if (cfg->nwatchdog_keys + cfg->noperator_keys == 0)
                return rwerr_set(err, RW_ERR_INVALID,
                                 "control consumer: no watchdog or operator public key: nothing "
                                 "could ever verify");
        if ((cfg->nwatchdog_keys > 0 && cfg->watchdog_keys == NULL) ||
            (cfg->noperator_keys > 0 && cfg->operator_keys == NULL))
                return rwerr_set(err, RW_ERR_INVALID, "control consumer: a key count without keys");
        /* PROTOCOL.md section 3: the same key MUST NOT be configured in both roles */
        for (i = 0; i < cfg->nwatchdog_keys; i++) {
                for (j = 0; j < cfg->noperator_keys; j++) {
                        if (memcmp(cfg->watchdog_keys[i].pk, cfg->operator_keys[j].pk,
                                   sizeof cfg->watchdog_keys[i].pk) == 0)
                                return rwerr_set(err, RW_ERR_INVALID,
                                                 "control consumer: key %s is configured both "
                                                 "as a watchdog and as an operator key",
                                                 cfg->watchdog_keys[i].key_id);
                }
        }
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
        struct control_keys keys;

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
        c->nwkeys = cfg->nwatchdog_keys;
        c->nokeys = cfg->noperator_keys;
        if (c->stream != NULL) {
                c->ack_prefix = key_of(c->stream, ":ack:");
                c->clients_key = key_of(c->stream, ":clients");
        }
        keys.watchdog_keys = c->wkeys;
        keys.nwatchdog = c->nwkeys;
        keys.operator_keys = c->okeys;
        keys.noperator = c->nokeys;
        if (c->wkeys != NULL && c->okeys != NULL)
                c->st = control_state_new(&keys);
        if (c->redis_url == NULL || c->stream == NULL || c->group == NULL || c->consumer == NULL ||
            c->halt_key == NULL || c->heartbeat_key == NULL || c->wkeys == NULL ||
            c->okeys == NULL || c->ack_prefix == NULL || c->clients_key == NULL || c->st == NULL) {
                control_consumer_close(c);
                (void)rwerr_set(err, RW_ERR_NOMEM, "control consumer: out of memory");
                return NULL;
        }
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
        control_state_free(c->st);
        free(c->redis_url);
        free(c->stream);
        free(c->group);
        free(c->consumer);
        free(c->halt_key);
        free(c->heartbeat_key);
        free(c->ack_prefix);
        free(c->clients_key);
        free(c->wkeys);
        free(c->okeys);
        free(c->notes);
        free(c->unacked);
        free(c->to_ack);
        free(c);
}
