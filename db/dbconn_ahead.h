/*
 * dbconn_ahead: prepared statements sent ahead on one libpq connection, in
 * pipeline mode, and their results kept until the caller asks for them.
 *
 * A cycle's snapshot reads a dozen statements whose parameters are all
 * known before the first one runs. Sent one by one, each costs a round
 * trip and the server idles while the client parses the previous result;
 * sent ahead, the server runs them back to back and the client parses one
 * result while the next is computed.
 *
 * Each statement goes in its own pipeline segment (a Sync after it), so
 * statement_timeout and a failure are each statement's own, exactly as if
 * it had been run alone. Results are read from the connection in the order
 * the statements were sent and kept here; ahead_take hands over the result
 * of the statement with the same name and the same parameters, whatever
 * the order of the asking. Only statements that read belong here: they may
 * run before commands the caller would otherwise have issued first.
 *
 * This module knows nothing of reconnecting or of the caller's messages:
 * dbconn uses it and owns the connection.
 */
#ifndef RELAYWATCH_DBCONN_AHEAD_H
#define RELAYWATCH_DBCONN_AHEAD_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#define AHEAD_MAX 16        /* statements sent ahead at once */
#define AHEAD_PARAMS_MAX 4  /* parameters of one statement */
#define AHEAD_PARAM_SIZE 32 /* bytes of one parameter's text, NUL included */
#define AHEAD_NAME_SIZE 64  /* bytes of a statement name, NUL included */

/* One prepared statement to send ahead; the texts are copied. */
struct ahead_query {
        const char *name;
        int nparams;               /* 0 .. AHEAD_PARAMS_MAX */
        const char *const *params; /* nparams texts, none NULL, each < AHEAD_PARAM_SIZE */
};

struct ahead;

/* An empty set; NULL when out of memory. Free with ahead_free (accepts NULL). */
struct ahead *ahead_new(void);
void ahead_free(struct ahead *a);

#define AHEAD_OUT_OF_BOUNDS (-2)

/*
 * Sends `n` statements (1 .. AHEAD_MAX) on `pg`, which must not be in
 * pipeline mode and must have nothing sent ahead still due (ahead_settle
 * first). Returns 0; AHEAD_OUT_OF_BOUNDS when there are too many or one
 * does not fit the limits above (nothing is sent); or -1 when libpq could
 * not send (PQerrorMessage says why; call ahead_settle, whose failure
 * means the connection is no longer usable).
 */
int ahead_send(struct ahead *a, PGconn *pg, const struct ahead_query *q, size_t n)
        __attribute__((warn_unused_result));

enum ahead_take_result {
        AHEAD_NONE,   /* no statement sent ahead has this name and these parameters */
        AHEAD_TAKEN,  /* *res is its result, the caller's to PQclear */
        AHEAD_BROKEN, /* it was sent, but the connection failed before its result came */
};

/*
 * The result of the statement sent ahead with this name and these
 * parameters, each statement's result given once. Reads from `pg` the
 * results still due up to it; once every result is read, pipeline mode is
 * left. On AHEAD_NONE nothing is read or changed.
 */
enum ahead_take_result ahead_take(struct ahead *a, PGconn *pg, const char *name, int nparams,
                                  const char *const *params, PGresult **res);

/*
 * Reads every result still due, discards those never taken and leaves
 * pipeline mode, so that `pg` can run commands of its own again. Returns
 * 0, or -1 when the connection failed on the way (then it is not usable).
 */
int ahead_settle(struct ahead *a, PGconn *pg) __attribute__((warn_unused_result));

/* Drops what is kept without reading, for a connection that is gone (PQfinish). */
void ahead_forget(struct ahead *a);

/* Counts since ahead_new: statements sent ahead, and those whose results were never taken. */
void ahead_counts(const struct ahead *a, uint64_t *sent, uint64_t *unused);

#endif
