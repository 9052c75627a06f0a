#include "state.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgrow.h"
#include "rwerr.h"

const struct dbconn_statement state_statements[] = {
        {"state_checkpoint_clear", "DELETE FROM relaywatch_state.checkpoints WHERE side = $1", 1},
        {"state_checkpoint_put",
         "INSERT INTO relaywatch_state.checkpoints (asset, side, credited, debited, through_block) "
         "VALUES ($1, $2, $3::numeric, $4::numeric, $5::bigint)",
         5},
        {"state_checkpoint_get",
         "SELECT asset, credited, debited, through_block FROM relaywatch_state.checkpoints "
         "WHERE side = $1 ORDER BY asset",
         1},
        {"state_cursor_put",
         "INSERT INTO relaywatch_state.cursors (name, value) VALUES ($1, $2::bigint) "
         "ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value, updated_at = now()",
         2},
        {"state_cursor_get", "SELECT value FROM relaywatch_state.cursors WHERE name = $1", 1},
};

const size_t state_nstatements = sizeof state_statements / sizeof state_statements[0];

/* Runs a prepared statement that returns no rows. */
static int command(struct dbconn *c, const char *name, int nparams, const char *const *params,
                   struct rwerr *err)
{
        PGresult *res = dbconn_exec_prepared(c, name, nparams, params, PGRES_COMMAND_OK, err);

        if (res == NULL)
                return RW_ERR_IO;
        PQclear(res);
        return RW_OK;
}

int state_checkpoint_save(struct dbconn *c, enum ledger_side side,
                          const struct ledger_totals *totals, uint64_t through_block,
                          struct rwerr *err)
{
        const char *side_name = ledger_side_name(side);
        char credited[U256_DEC_SIZE], debited[U256_DEC_SIZE], block[24];
        const char *put[5] = {NULL, side_name, credited, debited, block};
        size_t i;
        int rc;

        (void)snprintf(block, sizeof block, "%" PRIu64, through_block);
        if ((rc = dbconn_command(c, "BEGIN", err)) != RW_OK)
                return rc;
        rc = command(c, "state_checkpoint_clear", 1, &side_name, err);
        for (i = 0; rc == RW_OK && i < totals->n; i++) {
                put[0] = totals->rows[i].asset;
                u256_format_dec(&totals->rows[i].credited, credited, sizeof credited);
                u256_format_dec(&totals->rows[i].debited, debited, sizeof debited);
                rc = command(c, "state_checkpoint_put", 5, put, err);
        }
        if (rc == RW_OK)
                return dbconn_command(c, "COMMIT", err);
        if (dbconn_pg(c) != NULL) {
                struct rwerr ignored;

                /* The save failed already; a failed rollback only adds noise. */
                if (dbconn_command(c, "ROLLBACK", &ignored) != RW_OK)
                        return rc;
        }
        return rc;
}

int state_checkpoint_load(struct dbconn *c, enum ledger_side side, struct ledger_totals *out,
                          uint64_t *through_block, int *found, struct rwerr *err)
{
        const char *side_name = ledger_side_name(side);
        PGresult *res = dbconn_exec_prepared(c, "state_checkpoint_get", 1, &side_name,
                                             PGRES_TUPLES_OK, err);
        struct ledger_total *rows;
        int64_t block = 0, first = 0;
        char what[96];
        int i, n, rc = RW_OK;

        if (res == NULL)
                return RW_ERR_IO;
        n = PQntuples(res);
        if (n == 0) {
                PQclear(res);
                *found = 0;
                return RW_OK;
        }
        rows = calloc((size_t)n, sizeof *rows);
        if (rows == NULL) {
                PQclear(res);
                return rwerr_set(err, RW_ERR_NOMEM, "out of memory loading a checkpoint");
        }
        for (i = 0; i < n && rc == RW_OK; i++) {
                (void)snprintf(what, sizeof what, "%s checkpoint row %d", side_name, i + 1);
                if ((rc = pgrow_text(res, i, 0, what, rows[i].asset, sizeof rows[i].asset, err)) ==
                            RW_OK &&
                    (rc = pgrow_u256(res, i, 1, what, &rows[i].credited, err)) == RW_OK &&
                    (rc = pgrow_u256(res, i, 2, what, &rows[i].debited, err)) == RW_OK)
                        rc = pgrow_i64(res, i, 3, what, 0, INT64_MAX, &block, err);
                if (rc == RW_OK && i == 0)
                        first = block;
                if (rc == RW_OK && block != first)
                        rc = rwerr_set(err, RW_ERR_INVALID,
                                       "%s: through block %" PRId64 ", the others %" PRId64, what,
                                       block, first);
        }
        PQclear(res);
        if (rc != RW_OK) {
                free(rows);
                return rc;
        }
        out->rows = rows;
        out->n = (size_t)n;
        *through_block = (uint64_t)first;
        *found = 1;
        return RW_OK;
}

int state_cursor_save(struct dbconn *c, const char *name, int64_t value, struct rwerr *err)
{
        char text[24];
        const char *params[2] = {name, text};

        (void)snprintf(text, sizeof text, "%" PRId64, value);
        return command(c, "state_cursor_put", 2, params, err);
}

int state_cursor_load(struct dbconn *c, const char *name, int64_t *value, int *found,
                      struct rwerr *err)
{
        PGresult *res = dbconn_exec_prepared(c, "state_cursor_get", 1, &name, PGRES_TUPLES_OK, err);
        char what[96];
        int64_t v = 0;
        int rc = RW_OK;

        if (res == NULL)
                return RW_ERR_IO;
        *found = PQntuples(res) == 1;
        if (*found) {
                (void)snprintf(what, sizeof what, "cursor %.60s", name);
                rc = pgrow_i64(res, 0, 0, what, INT64_MIN, INT64_MAX, &v, err);
                if (rc == RW_OK)
                        *value = v;
        }
        PQclear(res);
        return rc;
}
