/*
 * redisconn: a hiredis connection from a redis:// URL.
 *
 * URL form: redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]. The password is
 * sent with AUTH and never appears in a message; messages name the server
 * as "redis://HOST:PORT/DB".
 */
#ifndef RELAYWATCH_REDISCONN_H
#define RELAYWATCH_REDISCONN_H

#include <stddef.h>

#include <hiredis/hiredis.h>

#include "rwerr.h"

#define REDISCONN_FIELD_MAX 256

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
 * Connects, authenticates and selects the database, each step bounded by
 * `timeout_ms`. Returns a context the caller frees with redisFree, or NULL
 * with `err` naming the server and the failing step.
 */
redisContext *redisconn_connect(const char *url, long timeout_ms, struct rwerr *err);

#endif
