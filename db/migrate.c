#include "migrate.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rwerr.h"
#include "sql_embedded.h"

/* Any constant; all relaywatch migrations take this lock. */
#define MIGRATE_LOCK_KEY "7424830651"

static const char bootstrap_sql[] =
        "CREATE SCHEMA IF NOT EXISTS relaywatch_state;"
        "CREATE TABLE IF NOT EXISTS relaywatch_state.schema_migrations ("
        "  version integer PRIMARY KEY,"
        "  name text NOT NULL,"
        "  sha256 text NOT NULL,"
        "  applied_at timestamptz NOT NULL DEFAULT now());"
        "CREATE TABLE IF NOT EXISTS relaywatch_state.contract ("
        "  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),"
        "  name text NOT NULL,"
        "  sha256 text NOT NULL,"
        "  applied_at timestamptz NOT NULL DEFAULT now());";

static void sha256_hex(const char *text, char out[65])
{
        unsigned char digest[crypto_hash_sha256_BYTES];
        size_t i;

        crypto_hash_sha256(digest, (const unsigned char *)text, strlen(text));
        for (i = 0; i < sizeof digest; i++)
                (void)snprintf(out + 2 * i, 3, "%02x", digest[i]);
}

/* The server's error of a failed command, on one line. */
static int pg_error(PGconn *pg, const PGresult *res, const char *what, struct rwerr *err)
{
        char msg[RWERR_MSG_MAX];
        const char *text = res ? PQresultErrorMessage(res) : PQerrorMessage(pg);
        size_t i;

        (void)snprintf(msg, sizeof msg, "%s", text && text[0] ? text : "(no message)");
        for (i = 0; msg[i] != '\0'; i++) {
                if (msg[i] == '\n')
                        msg[i] = msg[i + 1] ? ' ' : '\0';
        }
        return rwerr_set(err, RW_ERR_IO, "%s: %s", what, msg);
}

static int exec_command(PGconn *pg, const char *sql, const char *what, struct rwerr *err)
{
        PGresult *res = PQexec(pg, sql);
        ExecStatusType st = PQresultStatus(res);
        int rc = RW_OK;

        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
                rc = pg_error(pg, res, what, err);
        PQclear(res);
        return rc;
}

/* The version number a migration file name starts with ("0001_x.sql" -> 1). */
static int version_of(const char *name, long *version, struct rwerr *err)
{
        char *end = NULL;

        *version = strtol(name, &end, 10);
        if (end == name || *end != '_' || *version <= 0)
                return rwerr_set(
                        err, RW_ERR_INVALID,
                        "migration %s: the file name must start with a version number and '_'",
                        name);
        return RW_OK;
}

/* Applies one migration unless recorded; a recorded one must not have changed. */
static int apply_migration(PGconn *pg, const struct sql_embedded_file *m,
                           struct migrate_report *report, struct rwerr *err)
{
        char version[24], sha[65], what[160];
        const char *params[3] = {version, m->name, sha};
        long v = 0;
        PGresult *res;
        int rc;

        if ((rc = version_of(m->name, &v, err)) != RW_OK)
                return rc;
        (void)snprintf(version, sizeof version, "%ld", v);
        sha256_hex(m->text, sha);
        res = PQexecParams(pg,
                           "SELECT name, sha256 FROM relaywatch_state.schema_migrations "
                           "WHERE version = $1::integer",
                           1, NULL, params, NULL, NULL, 0);
        if (PQresultStatus(res) != PGRES_TUPLES_OK) {
                rc = pg_error(pg, res, "reading relaywatch_state.schema_migrations", err);
                PQclear(res);
                return rc;
        }
        if (PQntuples(res) == 1) {
                if (strcmp(PQgetvalue(res, 0, 1), sha) != 0)
                        rc = rwerr_set(err, RW_ERR_INVALID,
                                       "migration %s was applied as %s with another text "
                                       "(sha256 %.12s, now %.12s): a migration must never change "
                                       "once released",
                                       m->name, PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1), sha);
                else
                        report->already++;
                PQclear(res);
                return rc;
        }
        PQclear(res);
        (void)snprintf(what, sizeof what, "migration %s", m->name);
        if ((rc = exec_command(pg, m->text, what, err)) != RW_OK)
                return rc;
        res = PQexecParams(pg,
                           "INSERT INTO relaywatch_state.schema_migrations (version, name, sha256) "
                           "VALUES ($1::integer, $2, $3)",
                           3, NULL, params, NULL, NULL, 0);
        if (PQresultStatus(res) != PGRES_COMMAND_OK)
                rc = pg_error(pg, res, "recording a migration", err);
        PQclear(res);
        if (rc == RW_OK) {
                if (report->applied < MIGRATE_MAX_REPORTED)
                        report->applied_names[report->applied] = m->name;
                report->applied++;
        }
        return rc;
}

static int apply_contract(PGconn *pg, const char *name, const char *sql,
                          struct migrate_report *report, struct rwerr *err)
{
        const char *params[2];
        char what[192];
        PGresult *res;
        int rc;

        sha256_hex(sql, report->contract_sha256);
        (void)snprintf(report->contract_name, sizeof report->contract_name, "%s", name);
        (void)snprintf(what, sizeof what, "contract %s", name);
        if ((rc = exec_command(pg, sql, what, err)) != RW_OK)
                return rc;
        params[0] = report->contract_name;
        params[1] = report->contract_sha256;
        res = PQexecParams(pg,
                           "INSERT INTO relaywatch_state.contract (name, sha256) VALUES ($1, $2) "
                           "ON CONFLICT (singleton) DO UPDATE SET name = EXCLUDED.name, "
                           "sha256 = EXCLUDED.sha256, applied_at = now()",
                           2, NULL, params, NULL, NULL, 0);
        if (PQresultStatus(res) != PGRES_COMMAND_OK)
                rc = pg_error(pg, res, "recording the contract", err);
        PQclear(res);
        report->contract_applied = rc == RW_OK;
        return rc;
}

int migrate_run(PGconn *pg, const struct migrate_options *opt, struct migrate_report *report,
                struct rwerr *err)
{
        size_t i;
        int rc;

        memset(report, 0, sizeof *report);
        if ((rc = exec_command(pg, "BEGIN", "BEGIN", err)) != RW_OK)
                return rc;
        rc = exec_command(pg, "SELECT pg_advisory_xact_lock(" MIGRATE_LOCK_KEY ")",
                          "taking the migration lock", err);
        if (rc == RW_OK)
                rc = exec_command(pg, bootstrap_sql, "creating relaywatch_state", err);
        for (i = 0; rc == RW_OK && i < sql_embedded_nmigrations; i++)
                rc = apply_migration(pg, &sql_embedded_migrations[i], report, err);
        if (rc == RW_OK && !opt->skip_contract) {
                if (opt->contract_sql != NULL)
                        rc = apply_contract(pg,
                                            opt->contract_name ? opt->contract_name : "(custom)",
                                            opt->contract_sql, report, err);
                else
                        rc = apply_contract(pg, sql_embedded_contract.name,
                                            sql_embedded_contract.text, report, err);
        }
        if (rc == RW_OK)
                rc = exec_command(pg, "COMMIT", "COMMIT", err);
        if (rc != RW_OK) {
                PGresult *res = PQexec(pg, "ROLLBACK");

                PQclear(res);
                report->applied = 0;
                report->contract_applied = 0;
        }
        return rc;
}
