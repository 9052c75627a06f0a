#include "ledger.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgrow.h"
#include "rwerr.h"

const struct dbconn_statement ledger_statements[] = {
        {"ledger_locked_in_range",
         "SELECT asset, credited, debited FROM relaywatch.locked_in_range($1::bigint, $2::bigint)",
         2},
        {"ledger_minted_in_range",
         "SELECT asset, credited, debited FROM relaywatch.minted_in_range($1::bigint, $2::bigint)",
         2},
        {"ledger_indexed_through",
         "SELECT chain_id, role, indexed_through FROM relaywatch.indexed_through ORDER BY chain_id",
         0},
        {"ledger_batches_after",
         "SELECT batch_number, merkle_root, leaf_count, status, anchor_block, relayer_signature "
         "FROM relaywatch.batches_after($1::bigint, $2::integer)",
         2},
        {"ledger_batch_leaves",
         "SELECT leaf_index, withdrawal_id, token, recipient, amount, leaf_hash "
         "FROM relaywatch.batch_leaves($1::bigint)",
         1},
        {"ledger_withdrawals_in_batches",
         "SELECT withdrawal_id, batch_number, token, recipient, amount, status, proof "
         "FROM relaywatch.withdrawals_in_batches($1::bigint, $2::bigint)",
         2},
        {"ledger_expected_nonces",
         "SELECT chain_id, account, next_nonce FROM relaywatch.expected_nonces "
         "ORDER BY chain_id, account",
         0},
        {"ledger_pending_operations",
         "SELECT coalesce(sum(pending), 0) FROM relaywatch.pending_operations", 0},
};

const size_t ledger_nstatements = sizeof ledger_statements / sizeof ledger_statements[0];

const char *ledger_side_name(enum ledger_side side)
{
        return side == LEDGER_LOCKED ? "locked" : "minted";
}

int ledger_snapshot_begin(struct dbconn *c, struct rwerr *err)
{
        return dbconn_command(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", err);
}

int ledger_snapshot_end(struct dbconn *c, struct rwerr *err)
{
        PGconn *pg = dbconn_pg(c);

        if (pg == NULL)
                return RW_OK; /* the connection died: the server ended the transaction */
        if (PQtransactionStatus(pg) == PQTRANS_INERROR)
                return dbconn_command(c, "ROLLBACK", err);
        if (PQtransactionStatus(pg) == PQTRANS_IDLE)
                return RW_OK;
        return dbconn_command(c, "COMMIT", err);
}

/* Runs a prepared statement that returns rows; NULL with `err` filled on failure. */
static PGresult *query(struct dbconn *c, const char *name, int nparams, const char *const *params,
                       struct rwerr *err)
{
        return dbconn_exec_prepared(c, name, nparams, params, PGRES_TUPLES_OK, err);
}

/* calloc for `n` rows of `size`, at least one so an empty result is not NULL. */
static void *alloc_rows(size_t n, size_t size, struct rwerr *err)
{
        void *p = calloc(n > 0 ? n : 1, size);

        if (p == NULL)
                rwerr_set(err, RW_ERR_NOMEM, "out of memory for %zu ledger rows", n);
        return p;
}

static uint64_t as_u64(int64_t v)
{
        return (uint64_t)v;
}

/* Reads row `i` of `res` into `row`; the ctx carries what a reader needs besides. */
typedef int (*row_reader)(const PGresult *res, int i, void *row, const void *ctx,
                          struct rwerr *err);

/*
 * Runs a statement and reads every row with `read` into a new array of
 * `size`-byte rows. On success *rows and *n are set; on failure nothing is kept.
 */
static int read_rows(struct dbconn *c, const char *name, int nparams, const char *const *params,
                     size_t size, row_reader read, const void *ctx, void **rows, size_t *n,
                     struct rwerr *err)
{
        PGresult *res = query(c, name, nparams, params, err);
        unsigned char *out;
        int i, count, rc = RW_OK;

        if (res == NULL)
                return RW_ERR_IO;
        count = PQntuples(res);
        if ((out = alloc_rows((size_t)count, size, err)) == NULL) {
                PQclear(res);
                return RW_ERR_NOMEM;
        }
        for (i = 0; i < count && rc == RW_OK; i++)
                rc = read(res, i, out + (size_t)i * size, ctx, err);
        PQclear(res);
        if (rc != RW_OK) {
                free(out);
                return rc;
        }
        *rows = out;
        *n = (size_t)count;
        return RW_OK;
}

static int read_total(const PGresult *res, int i, void *row, const void *ctx, struct rwerr *err)
{
        struct ledger_total *t = row;
        const char *fn = ctx;
        char what[160];
        int rc;

        (void)snprintf(what, sizeof what, "%s row %d", fn, i + 1);
        if ((rc = pgrow_text(res, i, 0, what, t->asset, sizeof t->asset, err)) != RW_OK)
                return rc;
        (void)snprintf(what, sizeof what, "%s row %d (asset %s)", fn, i + 1, t->asset);
        if ((rc = pgrow_u256(res, i, 1, what, &t->credited, err)) != RW_OK)
                return rc;
        return pgrow_u256(res, i, 2, what, &t->debited, err);
}

int ledger_totals_in_range(struct dbconn *c, enum ledger_side side, int64_t after_block,
                           uint64_t through_block, struct ledger_totals *out, struct rwerr *err)
{
        const char *name =
                side == LEDGER_LOCKED ? "ledger_locked_in_range" : "ledger_minted_in_range";
        const char *fn = side == LEDGER_LOCKED ? "locked_in_range" : "minted_in_range";
        char after[24], through[24];
        const char *params[2] = {after, through};
        void *rows = NULL;

        if (through_block > INT64_MAX || after_block < -1 || after_block > (int64_t)through_block)
                return rwerr_set(err, RW_ERR_RANGE,
                                 "%s: bad block range (%" PRId64 ", %" PRIu64 "]", fn, after_block,
                                 through_block);
        (void)snprintf(after, sizeof after, "%" PRId64, after_block);
        (void)snprintf(through, sizeof through, "%" PRIu64, through_block);
        if (read_rows(c, name, 2, params, sizeof *out->rows, read_total, fn, &rows, &out->n, err) !=
            RW_OK)
                return RW_ERR_IO;
        out->rows = rows;
        return RW_OK;
}

void ledger_totals_free(struct ledger_totals *t)
{
        if (t == NULL)
                return;
        free(t->rows);
        t->rows = NULL;
        t->n = 0;
}

static int read_progress(const PGresult *res, int i, void *row, const void *ctx, struct rwerr *err)
{
        struct ledger_progress *p = row;
        int64_t chain = 0, block = 0;
        int is_null = 0, rc;
        char what[64];

        (void)ctx;
        (void)snprintf(what, sizeof what, "indexed_through row %d", i + 1);
        if ((rc = pgrow_i64(res, i, 0, what, 0, INT64_MAX, &chain, err)) != RW_OK ||
            (rc = pgrow_text(res, i, 1, what, p->role, sizeof p->role, err)) != RW_OK ||
            (rc = pgrow_i64_or_null(res, i, 2, what, 0, INT64_MAX, &block, &is_null, err)) != RW_OK)
                return rc;
        p->chain_id = as_u64(chain);
        p->indexed = !is_null;
        p->indexed_through = as_u64(block);
        return RW_OK;
}

int ledger_indexed_through(struct dbconn *c, struct ledger_progress_list *out, struct rwerr *err)
{
        void *rows = NULL;
        int rc = read_rows(c, "ledger_indexed_through", 0, NULL, sizeof *out->rows, read_progress,
                           NULL, &rows, &out->n, err);

        if (rc == RW_OK)
                out->rows = rows;
        return rc;
}

void ledger_progress_free(struct ledger_progress_list *l)
{
        if (l == NULL)
                return;
        free(l->rows);
        l->rows = NULL;
        l->n = 0;
}

static int read_batch(const PGresult *res, int i, void *row, const void *ctx, struct rwerr *err)
{
        struct ledger_batch *b = row;
        char what[64], status[16];
        int64_t number = 0, leaves = 0, block = 0;
        int is_null = 0, rc;

        (void)ctx;
        (void)snprintf(what, sizeof what, "batches_after row %d", i + 1);
        if ((rc = pgrow_i64(res, i, 0, what, 1, INT64_MAX, &number, err)) != RW_OK)
                return rc;
        (void)snprintf(what, sizeof what, "batches_after row %d (batch %" PRId64 ")", i + 1,
                       number);
        if ((rc = pgrow_hex(res, i, 1, what, b->merkle_root, 32, err)) != RW_OK ||
            (rc = pgrow_i64(res, i, 2, what, 1, UINT32_MAX, &leaves, err)) != RW_OK ||
            (rc = pgrow_text(res, i, 3, what, status, sizeof status, err)) != RW_OK ||
            (rc = pgrow_i64_or_null(res, i, 4, what, 0, INT64_MAX, &block, &is_null, err)) !=
                    RW_OK ||
            (rc = pgrow_hex(res, i, 5, what, b->relayer_signature, 65, err)) != RW_OK)
                return rc;
        if (strcmp(status, "created") != 0 && strcmp(status, "anchored") != 0)
                return rwerr_set(err, RW_ERR_INVALID, "%s, column status: unknown status \"%s\"",
                                 what, status);
        b->batch_number = as_u64(number);
        b->leaf_count = (uint32_t)leaves;
        b->anchored = strcmp(status, "anchored") == 0;
        b->has_anchor_block = !is_null;
        b->anchor_block = as_u64(block);
        return RW_OK;
}

int ledger_batches_after(struct dbconn *c, uint64_t after_batch, unsigned max_rows,
                         struct ledger_batches *out, struct rwerr *err)
{
        char after[24], limit[16];
        const char *params[2] = {after, limit};
        void *rows = NULL;
        int rc;

        (void)snprintf(after, sizeof after, "%" PRIu64, after_batch);
        (void)snprintf(limit, sizeof limit, "%u", max_rows);
        rc = read_rows(c, "ledger_batches_after", 2, params, sizeof *out->rows, read_batch, NULL,
                       &rows, &out->n, err);
        if (rc == RW_OK)
                out->rows = rows;
        return rc;
}

void ledger_batches_free(struct ledger_batches *b)
{
        if (b == NULL)
                return;
        free(b->rows);
        b->rows = NULL;
        b->n = 0;
}

static int read_leaf(const PGresult *res, int i, void *row, const void *ctx, struct rwerr *err)
{
        struct ledger_leaf *l = row;
        int64_t index = 0, id = 0;
        char what[96];
        int rc;

        (void)snprintf(what, sizeof what, "batch_leaves of batch %" PRIu64 " row %d",
                       *(const uint64_t *)ctx, i + 1);
        if ((rc = pgrow_i64(res, i, 0, what, 0, UINT32_MAX, &index, err)) != RW_OK ||
            (rc = pgrow_i64(res, i, 1, what, 0, INT64_MAX, &id, err)) != RW_OK ||
            (rc = pgrow_hex(res, i, 2, what, l->token, 20, err)) != RW_OK ||
            (rc = pgrow_hex(res, i, 3, what, l->recipient, 20, err)) != RW_OK ||
            (rc = pgrow_u256(res, i, 4, what, &l->amount, err)) != RW_OK ||
            (rc = pgrow_hex(res, i, 5, what, l->leaf_hash, 32, err)) != RW_OK)
                return rc;
        l->leaf_index = (uint32_t)index;
        l->withdrawal_id = as_u64(id);
        return RW_OK;
}

int ledger_batch_leaves(struct dbconn *c, uint64_t batch_number, struct ledger_leaves *out,
                        struct rwerr *err)
{
        char batch[24];
        const char *params[1] = {batch};
        void *rows = NULL;
        int rc;

        (void)snprintf(batch, sizeof batch, "%" PRIu64, batch_number);
        rc = read_rows(c, "ledger_batch_leaves", 1, params, sizeof *out->rows, read_leaf,
                       &batch_number, &rows, &out->n, err);
        if (rc == RW_OK)
                out->rows = rows;
        return rc;
}

void ledger_leaves_free(struct ledger_leaves *l)
{
        if (l == NULL)
                return;
        free(l->rows);
        l->rows = NULL;
        l->n = 0;
}

static int read_withdrawal(const PGresult *res, int i, void *row, const void *ctx,
                           struct rwerr *err)
{
        struct ledger_withdrawal *w = row;
        uint8_t proof[LEDGER_PROOF_MAX * 32];
        char what[96], status[16];
        int64_t id = 0, batch = 0;
        size_t len = 0;
        int is_null = 0, rc;

        (void)ctx;
        (void)snprintf(what, sizeof what, "withdrawals_in_batches row %d", i + 1);
        if ((rc = pgrow_i64(res, i, 0, what, 0, INT64_MAX, &id, err)) != RW_OK)
                return rc;
        (void)snprintf(what, sizeof what, "withdrawals_in_batches row %d (withdrawal %" PRId64 ")",
                       i + 1, id);
        if ((rc = pgrow_i64(res, i, 1, what, 1, INT64_MAX, &batch, err)) != RW_OK ||
            (rc = pgrow_hex(res, i, 2, what, w->token, 20, err)) != RW_OK ||
            (rc = pgrow_hex(res, i, 3, what, w->recipient, 20, err)) != RW_OK ||
            (rc = pgrow_u256(res, i, 4, what, &w->amount, err)) != RW_OK ||
            (rc = pgrow_text(res, i, 5, what, status, sizeof status, err)) != RW_OK ||
            (rc = pgrow_hex_any(res, i, 6, what, 0, proof, sizeof proof, &len, &is_null, err)) !=
                    RW_OK)
                return rc;
        if (len % 32 != 0)
                return rwerr_set(
                        err, RW_ERR_INVALID,
                        "%s, column proof: %zu bytes is not a whole number of 32-byte hashes", what,
                        len);
        w->withdrawal_id = as_u64(id);
        w->batch_number = as_u64(batch);
        w->released = strcmp(status, "released") == 0;
        w->proof_len = len / 32;
        memcpy(w->proof, proof, len);
        return RW_OK;
}

int ledger_withdrawals_in_batches(struct dbconn *c, uint64_t after_batch, uint64_t through_batch,
                                  struct ledger_withdrawals *out, struct rwerr *err)
{
        char after[24], through[24];
        const char *params[2] = {after, through};
        void *rows = NULL;
        int rc;

        (void)snprintf(after, sizeof after, "%" PRIu64, after_batch);
        (void)snprintf(through, sizeof through, "%" PRIu64, through_batch);
        rc = read_rows(c, "ledger_withdrawals_in_batches", 2, params, sizeof *out->rows,
                       read_withdrawal, NULL, &rows, &out->n, err);
        if (rc == RW_OK)
                out->rows = rows;
        return rc;
}

void ledger_withdrawals_free(struct ledger_withdrawals *w)
{
        if (w == NULL)
                return;
        free(w->rows);
        w->rows = NULL;
        w->n = 0;
}

static int read_nonce(const PGresult *res, int i, void *row, const void *ctx, struct rwerr *err)
{
        struct ledger_nonce *n = row;
        int64_t chain = 0, nonce = 0;
        char what[64];
        int rc;

        (void)ctx;
        (void)snprintf(what, sizeof what, "expected_nonces row %d", i + 1);
        if ((rc = pgrow_i64(res, i, 0, what, 0, INT64_MAX, &chain, err)) != RW_OK ||
            (rc = pgrow_hex(res, i, 1, what, n->account, 20, err)) != RW_OK ||
            (rc = pgrow_i64(res, i, 2, what, 0, INT64_MAX, &nonce, err)) != RW_OK)
                return rc;
        n->chain_id = as_u64(chain);
        n->next_nonce = as_u64(nonce);
        return RW_OK;
}

int ledger_expected_nonces(struct dbconn *c, struct ledger_nonces *out, struct rwerr *err)
{
        void *rows = NULL;
        int rc = read_rows(c, "ledger_expected_nonces", 0, NULL, sizeof *out->rows, read_nonce,
                           NULL, &rows, &out->n, err);

        if (rc == RW_OK)
                out->rows = rows;
        return rc;
}

void ledger_nonces_free(struct ledger_nonces *n)
{
        if (n == NULL)
                return;
        free(n->rows);
        n->rows = NULL;
        n->n = 0;
}

int ledger_pending_operations(struct dbconn *c, uint64_t *pending, struct rwerr *err)
{
        PGresult *res = query(c, "ledger_pending_operations", 0, NULL, err);
        int64_t v = 0;
        int rc;

        if (res == NULL)
                return RW_ERR_IO;
        rc = pgrow_i64(res, 0, 0, "pending_operations", 0, INT64_MAX, &v, err);
        PQclear(res);
        if (rc == RW_OK)
                *pending = as_u64(v);
        return rc;
}
