#include "conninfo.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <string.h>

#include "rwerr.h"

static const char *conninfo_value(const PQconninfoOption *opts, const char *key)
{
        const PQconninfoOption *o;

        for (o = opts; o->keyword != NULL; o++) {
                if (strcmp(o->keyword, key) == 0)
                        return (o->val != NULL && o->val[0] != '\0') ? o->val : NULL;
        }
        return NULL;
}

int conninfo_describe(const char *conninfo, char *out, size_t cap, struct rwerr *err)
{
        PQconninfoOption *opts;
        char *pqerr = NULL;
        const char *user, *host, *port, *dbname;
        int n;

        if (cap > 0)
                out[0] = '\0';
        if (conninfo == NULL)
                return rwerr_set(err, RW_ERR_INVALID, "database connection string is missing");
        opts = PQconninfoParse(conninfo, &pqerr);
        if (opts == NULL) {
                /* libpq's message may quote the string, password included. */
                PQfreemem(pqerr);
                return rwerr_set(err, RW_ERR_INVALID,
                                 "database connection string is not a valid PostgreSQL URL "
                                 "or key=value list");
        }
        user = conninfo_value(opts, "user");
        host = conninfo_value(opts, "host");
        if (host == NULL)
                host = conninfo_value(opts, "hostaddr");
        port = conninfo_value(opts, "port");
        dbname = conninfo_value(opts, "dbname");

        n = snprintf(out, cap, "postgres://%s%s%s%s%s/%s", user ? user : "", user ? "@" : "",
                     host ? host : "(local socket)", port ? ":" : "", port ? port : "",
                     dbname ? dbname : "");
        PQconninfoFree(opts);
        if (n < 0 || (size_t)n >= cap) {
                if (cap > 0)
                        out[0] = '\0';
                return rwerr_set(err, RW_ERR_RANGE,
                                 "database description needs %d bytes, buffer holds %zu", n + 1,
                                 cap);
        }
        return RW_OK;
}
