/*
 * conninfo: safe descriptions of PostgreSQL connection strings.
 *
 * Operators give the ledger's location as a URL (postgres://user:pw@host/db)
 * or as libpq key=value pairs, and either may carry a password. Anything
 * relaywatch prints about the connection goes through conninfo_describe, which
 * parses the string with libpq itself and rebuilds it without the password.
 */
#ifndef RELAYWATCH_CONNINFO_H
#define RELAYWATCH_CONNINFO_H

#include <stddef.h>

struct rwerr;

/*
 * Writes "postgres://USER@HOST:PORT/DBNAME" for `conninfo` into `out` (cap
 * bytes), leaving out the password and any part the string does not set
 * (libpq's defaults then apply: a missing host means the local socket).
 * Returns 0, RW_ERR_INVALID when libpq cannot parse the string (the message
 * does not repeat the string, which may hold a password), or RW_ERR_RANGE
 * when `out` is too small. `out` holds "" on failure.
 */
int conninfo_describe(const char *conninfo, char *out, size_t cap, struct rwerr *err)
        __attribute__((warn_unused_result));

#endif
