/*
 * migrate: brings a ledger database up to what relaywatch needs.
 *
 * Two kinds of SQL, applied in one transaction, under an advisory lock so
 * two migrations never interleave:
 *   - the versioned migrations of sql/migrations (the watchdog's own state
 *     tables and roles), each applied once and recorded with its checksum in
 *     relaywatch_state.schema_migrations; a recorded migration whose text
 *     has since changed is an error, not something to apply again;
 *   - the contract (the `relaywatch` views and functions), which is
 *     re-created every time: the reference contract built into the binary,
 *     or an operator's own file written for their relayer schema.
 * Needs a role that may create schemas and roles (the database owner or a
 * superuser); the watchdog itself then runs with relaywatch_reader.
 */
#ifndef RELAYWATCH_MIGRATE_H
#define RELAYWATCH_MIGRATE_H

#include <libpq-fe.h>
#include <stddef.h>

struct rwerr;

#define MIGRATE_MAX_REPORTED 32

struct migrate_options {
        const char *contract_sql;  /* NULL: the reference contract built in */
        const char *contract_name; /* for the record: a file name */
        int skip_contract;         /* leave the contract as it is */
};

struct migrate_report {
        size_t applied; /* migrations applied now */
        size_t already; /* migrations found applied before */
        const char *applied_names[MIGRATE_MAX_REPORTED];
        int contract_applied;
        char contract_name[128];
        char contract_sha256[65];
};

/*
 * Applies what is missing on `pg` (a connection with no transaction open).
 * Everything or nothing: on failure the transaction is rolled back and the
 * message names the file and the server's error.
 */
int migrate_run(PGconn *pg, const struct migrate_options *opt, struct migrate_report *report,
                struct rwerr *err) __attribute__((warn_unused_result));

#endif
