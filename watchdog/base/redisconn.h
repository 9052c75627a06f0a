/*
 * redisconn: relaywatch's Redis link, and the parsers of the Redis replies
 * more than one module reads.
 *
 * URL form: redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]. The password is
 * sent with AUTH and never appears in a message; messages name the server
 * as "redis://HOST:PORT/DB".
 *
 * A link (struct redisconn) owns one hiredis context made from the URL and
 * the timeout it was created with (the timeout bounds the connection, AUTH,
 * SELECT and every command). It keeps a sticky problem text, like hiredis's
 * c->errstr: the last failure, naming the server, until a connection is
 * made again. After an I/O error the context is dropped and the next
 * redisconn_get makes a new one; a connection attempt that fails makes the
 * next ones wait 0.1, 0.2, 0.5, 1 and 2 s, then every 5 s, measured on the
 * monotonic clock (injectable for tests), so a Redis that is away costs a
 * clock read per call. redisconn_get_now tries at once whatever the
 * backoff, for what must not wait (a HALT).
 *
 *     link = redisconn_new(&(struct redisconn_options){url, timeout_ms}, &err);
 *     if ((ctx = redisconn_get(link)) == NULL)
 *             report(redisconn_problem(link));
 *     else if ((rc = halt_publish(ctx, ...)) != RW_OK)
 *             redisconn_failed(link, rc, &err);   (RW_ERR_IO drops the context)
 *     redisconn_free(link);
 *
 * The reply parsers (XINFO GROUPS, XINFO CONSUMERS) take a reply the caller
 * owns and fill arrays the caller frees with free().
 */
#ifndef RELAYWATCH_REDISCONN_H
#define RELAYWATCH_REDISCONN_H

#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

#include "rwerr.h"

#define REDISCONN_FIELD_MAX 256
#define REDISCONN_SERVER_MAX (REDISCONN_FIELD_MAX + 32) /* "redis://HOST:PORT/DB" */
#define REDISCONN_PROBLEM_MAX (RWERR_MSG_MAX + REDISCONN_SERVER_MAX + 32)
#define REDISCONN_TIMEOUT_MS 1000L /* when the options give none */
#define REDISCONN_NAME_MAX 256     /* a group or consumer name */
#define REDISCONN_ENTRY_ID_SIZE 48 /* "MS-SEQ": two 64-bit numbers */

struct redisconn_target {
        char host[REDISCONN_FIELD_MAX];
        int port;                           /* default 6379 */
        char user[REDISCONN_FIELD_MAX];     /* "" for the default user */
        char password[REDISCONN_FIELD_MAX]; /* "" for none */
        int db;                             /* default 0 */
};

/* Parses `url`; the message names what is wrong but never echoes the password. */
int redisconn_parse_url(const char *url, struct redisconn_target *out, struct rwerr *err)
        __attribute__((warn_unused_result));

/* "redis://HOST:PORT/DB" for messages. */
void redisconn_describe(const struct redisconn_target *t, char *out, size_t cap);

/*
 * One connection, no link: connects, authenticates and selects the
 * database, each step bounded by `timeout_ms`. Returns a context the caller
 * frees with redisFree, or NULL with `err` naming the server and the
 * failing step. What the link uses; for tests and one-shot tools.
 */
redisContext *redisconn_connect(const char *url, long timeout_ms, struct rwerr *err);

/* ------------------------------------------------------------ the link */

struct redisconn;

/* A monotonic clock in milliseconds; `arg` is the options' clock_arg. */
typedef uint64_t (*redisconn_clock_fn)(void *arg);

struct redisconn_options {
        const char *url;          /* copied (and wiped at free); NULL: no Redis configured */
        long timeout_ms;          /* connect and every command; <= 0: REDISCONN_TIMEOUT_MS */
        redisconn_clock_fn clock; /* for the backoff; NULL: rwclock_mono_ms */
        void *clock_arg;
};

/*
 * A link to `opt->url`; no network traffic yet. A URL that is NULL or
 * cannot be parsed does not fail creation: every get then returns NULL with
 * the reason as the problem. NULL only when memory ran out. Free with
 * redisconn_free (NULL ok), which closes the connection.
 */
struct redisconn *redisconn_new(const struct redisconn_options *opt, struct rwerr *err);
void redisconn_free(struct redisconn *l);

/*
 * The connection (borrowed: valid until the next call on the link), made
 * when there is none or the last one broke (c->err set). NULL when it
 * cannot be made now: the attempt failed, or the backoff after the last
 * failed attempt has not run out yet (no attempt is made then); the
 * problem says why.
 */
redisContext *redisconn_get(struct redisconn *l);

/* redisconn_get, but a connection attempt is made now whatever the backoff. */
redisContext *redisconn_get_now(struct redisconn *l);

/*
 * After a command on the link's context failed with `rc` (an RW_ERR_* code)
 * and `err`: keeps err's message as the problem (with the server named in
 * front when it does not name it), and on RW_ERR_IO or RW_ERR_TIMEOUT, or
 * when hiredis marked the context broken, closes the connection so the
 * next get makes a new one (at once: the backoff counts failed attempts to
 * connect). Returns rc.
 */
int redisconn_failed(struct redisconn *l, int rc, const struct rwerr *err);

/* The sticky problem (see above); "" when there was none since the last connection. */
const char *redisconn_problem(const struct redisconn *l);

/* "redis://HOST:PORT/DB", or "redis (no usable URL)". */
const char *redisconn_server(const struct redisconn *l);

/* Connection attempts that failed in a row (0 once one succeeds). */
unsigned redisconn_failures(const struct redisconn *l);

/* Milliseconds until redisconn_get will try again; 0 when it would try now. */
uint64_t redisconn_retry_in_ms(const struct redisconn *l);

/* ------------------------------------------------------------ replies */

/* "a string", "an array", "an integer", "nil", ... for messages about a reply's type. */
const char *redisconn_reply_type_name(int type);

/* One consumer group, from XINFO GROUPS. */
struct redisconn_group {
        char name[REDISCONN_NAME_MAX];
        uint64_t consumers;
        uint64_t pending;
        char last_delivered_id[REDISCONN_ENTRY_ID_SIZE];
        int entries_read_known; /* Redis 7.0+, and not nil */
        uint64_t entries_read;
        int lag_known; /* Redis 7.0+, and not nil (nil after some trims or deletions) */
        uint64_t lag;
};

/*
 * Parses a reply to XINFO GROUPS (RESP2: an array of flat field/value
 * arrays). name, consumers, pending and last-delivered-id are required;
 * entries-read and lag are optional and may be nil; other fields are
 * ignored. On RW_OK *out is a malloc'd array of *n groups (NULL when there
 * are none) the caller frees with free(). An error reply is RW_ERR_REMOTE
 * with Redis's text ("ERR no such key": no stream); a reply of another
 * shape RW_ERR_PROTOCOL naming the group and the field. On failure *out is
 * NULL and *n 0.
 */
int redisconn_xinfo_groups(const redisReply *reply, struct redisconn_group **out, size_t *n,
                           struct rwerr *err) __attribute__((warn_unused_result));

/* One consumer of a group, from XINFO CONSUMERS. */
struct redisconn_consumer {
        char name[REDISCONN_NAME_MAX];
        uint64_t pending;
        uint64_t idle_ms;    /* since its last attempted interaction (before 7.2: delivery) */
        int inactive_known;  /* Redis 7.2+ */
        int64_t inactive_ms; /* since its last successful interaction; -1 never */
};

/*
 * Parses a reply to XINFO CONSUMERS the same way: name, pending and idle
 * required, inactive optional. Same ownership and errors as
 * redisconn_xinfo_groups.
 */
int redisconn_xinfo_consumers(const redisReply *reply, struct redisconn_consumer **out, size_t *n,
                              struct rwerr *err) __attribute__((warn_unused_result));

#endif
