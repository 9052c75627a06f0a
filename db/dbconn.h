/*
 * dbconn: one PostgreSQL connection that heals itself.
 *
 * The connection string (a postgres:// URL or libpq key=value pairs) is
 * completed with what a watchdog needs: connect_timeout, TCP keepalives,
 * statement_timeout and application_name=relaywatch. The statements given
 * in the configuration are prepared after every connect, so queries name
 * them instead of sending SQL text; the SET and all the prepares go in one
 * libpq pipeline, one round trip however many statements there are. A
 * statement that cannot be prepared fails the connect with "preparing
 * statement NAME: <the server's message>", and the connection is not used.
 *
 * When the server goes away, the next dbconn_ensure reconnects, but not
 * before the backoff delay since the last failed attempt has passed (0, 1,
 * 2, 5, 10, then every 30 s): a dead database costs a cycle nothing. After
 * `failure_threshold` consecutive failures the health says
 * connection_lost (DB_CONNECTION_LOST); the first success clears it.
 *
 * No message ever holds the password: connections are described with
 * conninfo_describe, and text copied from libpq is scrubbed of it.
 */
#ifndef RELAYWATCH_DBCONN_H
#define RELAYWATCH_DBCONN_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#include "dbconn_ahead.h"
#include "rwerr.h"

struct dbconn;

#define DBCONN_DESCRIPTION_MAX 160

/* A statement prepared on every connection. */
struct dbconn_statement {
        const char *name;
        const char *sql;
        int nparams;
};

struct dbconn_config {
        const char *conninfo;          /* URL or key=value; may hold a password */
        const char *name;              /* for messages: "ledger" */
        unsigned connect_timeout_s;    /* 0: 5 */
        unsigned statement_timeout_ms; /* 0: 5000 */
        unsigned failure_threshold;    /* failures in a row that mean DB_CONNECTION_LOST; 0: 5 */
        const struct dbconn_statement *statements; /* may be NULL */
        size_t nstatements;
};

struct dbconn_health {
        char description[DBCONN_DESCRIPTION_MAX]; /* "ledger (postgres://user@host:port/db)" */
        int connected;
        int connection_lost; /* consecutive_failures >= failure_threshold */
        unsigned consecutive_failures;
        uint64_t connects;              /* successful connects, reconnects included */
        uint64_t failures;              /* failed connects and connections found dead */
        char last_error[RWERR_MSG_MAX]; /* "" after a success */
        uint64_t sent_ahead;            /* statements sent ahead (dbconn_send_ahead) */
        uint64_t sent_ahead_unused;     /* of which no caller took the result */
};

/*
 * Checks and copies the configuration; does not connect. NULL with `err`
 * filled when the connection string cannot be parsed (the message does not
 * repeat it). Free with dbconn_free (accepts NULL).
 */
struct dbconn *dbconn_new(const struct dbconn_config *cfg, struct rwerr *err);
void dbconn_free(struct dbconn *c);

#define DBCONN_MAX_STATEMENT_SETS 4

/*
 * Adds a set of statements to prepare on every connection, beside those of
 * the configuration (for a module that brings its own, such as state).
 * Call before the first dbconn_ensure; the array must outlive `c`.
 * RW_ERR_RANGE past DBCONN_MAX_STATEMENT_SETS sets in all.
 */
int dbconn_add_statements(struct dbconn *c, const struct dbconn_statement *statements, size_t n,
                          struct rwerr *err) __attribute__((warn_unused_result));

/*
 * Makes sure the connection is up and its statements prepared: connects
 * when there is no connection or it broke, unless the backoff delay has not
 * passed yet (RW_ERR_IO, "next attempt in N s"). Returns 0 or RW_ERR_IO.
 */
int dbconn_ensure(struct dbconn *c, struct rwerr *err) __attribute__((warn_unused_result));

/*
 * Runs a prepared statement (by name) or, with nparams < 0, plain SQL text
 * without parameters. Returns the result for the caller to PQclear when its
 * status is `expect`; otherwise NULL with `err` holding the server's
 * message, and a connection that failed is marked for reconnecting.
 */
PGresult *dbconn_exec_prepared(struct dbconn *c, const char *name, int nparams,
                               const char *const *params, ExecStatusType expect, struct rwerr *err);
PGresult *dbconn_exec(struct dbconn *c, const char *sql, ExecStatusType expect, struct rwerr *err);

/*
 * Sends `n` prepared statements that only read (1 .. AHEAD_MAX, each
 * with at most AHEAD_PARAMS_MAX parameters) in one libpq pipeline, without
 * waiting for their results (dbconn_ahead.h says how). The
 * dbconn_exec_prepared call with the same name and the same parameters
 * then takes its statement's result instead of running it, in any order;
 * any other command on the connection (dbconn_exec, a statement not sent
 * ahead, dbconn_pg, a savepoint) first drops the results not yet taken.
 * So callers that do not know of it are served all the same, and a
 * result is never taken across a command that could have changed it.
 * RW_OK, or an error (then the statements run one by one when asked for;
 * the connection is dropped if it failed).
 */
int dbconn_send_ahead(struct dbconn *c, const struct ahead_query *q, size_t n, struct rwerr *err)
        __attribute__((warn_unused_result));

/* Runs SQL that returns no rows (BEGIN, COMMIT, SET ...); 0 or RW_ERR_IO. */
int dbconn_command(struct dbconn *c, const char *sql, struct rwerr *err)
        __attribute__((warn_unused_result));

/*
 * Runs fn(c, arg, err) under SAVEPOINT `name` (an SQL identifier) when a
 * transaction is open, rolled back to it when fn fails, so that one failed
 * read does not end the transaction's other reads; as it is when no
 * transaction is open. Returns fn's result, or RW_ERR_IO (err filled) when
 * the savepoint cannot be made or released.
 */
int dbconn_with_savepoint(struct dbconn *c, const char *name,
                          int (*fn)(struct dbconn *c, void *arg, struct rwerr *err), void *arg,
                          struct rwerr *err) __attribute__((warn_unused_result));

/*
 * The libpq connection, or NULL when not connected. Owned by `c`. Statements
 * sent ahead and not yet taken are dropped first (dbconn_send_ahead).
 */
PGconn *dbconn_pg(struct dbconn *c);

void dbconn_health(const struct dbconn *c, struct dbconn_health *out);

#endif
