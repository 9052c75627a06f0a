#include "ledger.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hex.h"
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
        /* Timestamps become unix milliseconds here, keeping the contract's column names. */
        {"ledger_batches_after",
         "SELECT batch_number, merkle_root, leaf_count, status, anchor_block, relayer_signature, "
         "(extract(epoch FROM created_at) * 1000)::bigint AS created_at, "
         "(extract(epoch FROM anchored_at) * 1000)::bigint AS anchored_at "
         "FROM relaywatch.batches_after($1::bigint, $2::integer)",
         2},
        {"ledger_batch_leaves",
         "SELECT leaf_index, withdrawal_id, token, recipient, amount, leaf_hash "
         "FROM relaywatch.batch_leaves($1::bigint)",
         1},
        {"ledger_leaves_in_batches",
         "SELECT batch_number, leaf_index, withdrawal_id, token, recipient, amount, leaf_hash "
         "FROM relaywatch.leaves_in_batches($1::bigint, $2::bigint)",
         2},
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
        {"ledger_assets",
         "SELECT asset, decimals, source_token, bridged_token FROM relaywatch.assets "
         "ORDER BY asset",
         0},
        {"ledger_duplicate_batches",
         "SELECT d.kind, d.value, d.batch_numbers::text AS batch_numbers "
         "FROM relaywatch.duplicate_batches d ORDER BY d.kind, d.batch_numbers, d.value",
         0},
        {"ledger_batches_with_roots",
         "SELECT merkle_root, batch_number FROM relaywatch.batches_with_roots($1::text[])", 1},
        {"ledger_operations_after",
         "SELECT op_id, kind, chain_id, account, nonce, tx_hash, gas_estimate, gas_used, status "
         "FROM relaywatch.operations_after($1::bigint, $2::integer)",
         2},
        {"ledger_cycle_timings_after",
         "SELECT cycle_id, (extract(epoch FROM started_at) * 1000)::bigint AS started_at, "
         "duration_ms FROM relaywatch.cycle_timings_after($1::bigint, $2::integer)",
         2},
        {"ledger_latest_ids", "SELECT op_id, cycle_id FROM relaywatch.latest_ids", 0},
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

/* An id or block argument as the contract's bigint (24 bytes); above INT64_MAX is an error. */
static int format_bigint(char *buf, size_t cap, uint64_t v, const char *fn, const char *arg,
                         struct rwerr *err)
{
        if (v > INT64_MAX)
                return rwerr_set(err, RW_ERR_RANGE,
                                 "%s: %s %" PRIu64 " is above the largest bigint", fn, arg, v);
        (void)snprintf(buf, cap, "%" PRIu64, v);
        return RW_OK;
}

/* A row limit as the contract's integer; a larger limit is the largest integer. */
static void format_limit(char *buf, size_t cap, unsigned max_rows)
{
        (void)snprintf(buf, cap, "%u", max_rows > INT32_MAX ? (unsigned)INT32_MAX : max_rows);
}

/*
 * A cursor's rows: each id (column `col`) above the cursor `after` and, in
 * row i > 0, above the previous row's `prev` (or equal to it unless
 * `strict`), or the cursor would read rows twice or skip them. Batch numbers
 * are not strict: a ledger holding one twice is DUPLICATE_BATCH's to report,
 * not a read error that would hide it.
 */
static int check_ascending(const PGresult *res, int i, int col, const char *what, uint64_t id,
                           uint64_t after, uint64_t prev, int strict, struct rwerr *err)
{
        if (id <= after)
                return rwerr_set(err, RW_ERR_INVALID,
                                 "%s, column %s: %" PRIu64 " is not above the cursor %" PRIu64,
                                 what, PQfname(res, col), id, after);
        if (i > 0 && (id < prev || (strict && id == prev)))
                return rwerr_set(err, RW_ERR_INVALID,
                                 "%s, column %s: %" PRIu64 " is %s the previous row's %" PRIu64
                                 " (rows must come in ascending order)",
                                 what, PQfname(res, col), id, strict ? "not above" : "below", prev);
        return RW_OK;
}

/*
 * A non-NULL text value copied into `out` (cap bytes, NUL included); a longer
 * one is cut after its last comma that fits and ends in "...".
 */
static int text_cut(const PGresult *res, int row, int col, const char *what, char *out, size_t cap,
                    struct rwerr *err)
{
        const char *v;
        size_t len, keep;

        if (row >= PQntuples(res) || col >= PQnfields(res))
                return rwerr_set(err, RW_ERR_RANGE, "%s: no column %d in row %d", what, col, row);
        if (PQgetisnull(res, row, col))
                return rwerr_set(err, RW_ERR_INVALID,
                                 "%s, column %s: NULL where a value is required", what,
                                 PQfname(res, col));
        v = PQgetvalue(res, row, col);
        len = strlen(v);
        if (len < cap) {
                memcpy(out, v, len + 1);
                return RW_OK;
        }
        keep = cap - 4; /* room for "..." and the NUL */
        while (keep > 0 && v[keep - 1] != ',')
                keep--;
        if (keep == 0)
                keep = cap - 4;
        memcpy(out, v, keep);
        memcpy(out + keep, "...", 4);
        return RW_OK;
}

/* Reads row `i` of `res` into `row`; the ctx carries what a reader needs besides. */
typedef int (*row_reader)(const PGresult *res, int i, void *row, const void *ctx,
                          struct rwerr *err);

/*
 * Runs a statement and reads every row with `read` into a new array of
 * `size`-byte rows, in order (so a reader of row i > 0 may look at row i - 1
 * just before its own). On success *rows and *n are set; on failure nothing
 * is kept.
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

/* ---------------------------------------------------------------- reads described ahead */

static void describe(struct ledger_read *r, const char *statement, int nparams)
{
        memset(r, 0, sizeof *r);
        r->statement = statement;
        r->nparams = nparams;
}

/* A read with a bigint argument and a row limit (batches, operations, cycle timings). */
static int describe_after(struct ledger_read *r, const char *statement, const char *fn,
                          const char *arg, uint64_t after, unsigned max_rows, struct rwerr *err)
{
        describe(r, statement, 2);
        format_limit(r->params[1], sizeof r->params[1], max_rows);
        return format_bigint(r->params[0], sizeof r->params[0], after, fn, arg, err);
}

/* A read of the batches in (after, through] (leaves, withdrawals). */
static int describe_batch_range(struct ledger_read *r, const char *statement, const char *fn,
                                uint64_t after, uint64_t through, struct rwerr *err)
{
        int rc;

        describe(r, statement, 2);
        if ((rc = format_bigint(r->params[0], sizeof r->params[0], after, fn, "after_batch",
                                err)) != RW_OK)
                return rc;
        return format_bigint(r->params[1], sizeof r->params[1], through, fn, "through_batch", err);
}

static void read_params(const struct ledger_read *r, const char *params[LEDGER_READ_PARAMS])
{
        int i;

        for (i = 0; i < LEDGER_READ_PARAMS; i++)
                params[i] = r->params[i];
}

/* read_rows of a described read. */
static int read_described(struct dbconn *c, const struct ledger_read *r, size_t size,
                          row_reader read, const void *ctx, void **rows, size_t *n,
                          struct rwerr *err)
{
        const char *params[LEDGER_READ_PARAMS];

        read_params(r, params);
        return read_rows(c, r->statement, r->nparams, params, size, read, ctx, rows, n, err);
}

void ledger_read_assets(struct ledger_read *r)
{
        describe(r, "ledger_assets", 0);
}

void ledger_read_duplicates(struct ledger_read *r)
{
        describe(r, "ledger_duplicate_batches", 0);
}

void ledger_read_nonces(struct ledger_read *r)
{
        describe(r, "ledger_expected_nonces", 0);
}

void ledger_read_latest_ids(struct ledger_read *r)
{
        describe(r, "ledger_latest_ids", 0);
}

void ledger_read_pending_operations(struct ledger_read *r)
{
        describe(r, "ledger_pending_operations", 0);
}

int ledger_read_totals(struct ledger_read *r, enum ledger_side side, int64_t after_block,
                       uint64_t through_block, struct rwerr *err)
{
        const char *fn = side == LEDGER_LOCKED ? "locked_in_range" : "minted_in_range";

        describe(r, side == LEDGER_LOCKED ? "ledger_locked_in_range" : "ledger_minted_in_range", 2);
        if (through_block > INT64_MAX || after_block < -1 || after_block > (int64_t)through_block)
                return rwerr_set(err, RW_ERR_RANGE,
                                 "%s: bad block range (%" PRId64 ", %" PRIu64 "]", fn, after_block,
                                 through_block);
        (void)snprintf(r->params[0], sizeof r->params[0], "%" PRId64, after_block);
        (void)snprintf(r->params[1], sizeof r->params[1], "%" PRIu64, through_block);
        return RW_OK;
}

int ledger_read_batches(struct ledger_read *r, uint64_t after_batch, unsigned max_rows,
                        struct rwerr *err)
{
        return describe_after(r, "ledger_batches_after", "batches_after", "after_batch",
                              after_batch, max_rows, err);
}

int ledger_read_leaves(struct ledger_read *r, uint64_t after_batch, uint64_t through_batch,
                       struct rwerr *err)
{
        return describe_batch_range(r, "ledger_leaves_in_batches", "leaves_in_batches", after_batch,
                                    through_batch, err);
}

int ledger_read_withdrawals(struct ledger_read *r, uint64_t after_batch, uint64_t through_batch,
                            struct rwerr *err)
{
        return describe_batch_range(r, "ledger_withdrawals_in_batches", "withdrawals_in_batches",
                                    after_batch, through_batch, err);
}

int ledger_read_operations(struct ledger_read *r, uint64_t after_op, unsigned max_rows,
                           struct rwerr *err)
{
        return describe_after(r, "ledger_operations_after", "operations_after", "after_op",
                              after_op, max_rows, err);
}

int ledger_read_cycle_timings(struct ledger_read *r, uint64_t after_cycle, unsigned max_rows,
                              struct rwerr *err)
{
        return describe_after(r, "ledger_cycle_timings_after", "cycle_timings_after", "after_cycle",
                              after_cycle, max_rows, err);
}

int ledger_send_ahead(struct dbconn *c, const struct ledger_read *r, size_t n, struct rwerr *err)
{
        struct ahead_query q[AHEAD_MAX];
        const char *params[AHEAD_MAX][LEDGER_READ_PARAMS];
        size_t i;

        if (n > AHEAD_MAX)
                return rwerr_set(err, RW_ERR_RANGE, "%zu ledger reads to send ahead: at most %d", n,
                                 AHEAD_MAX);
        for (i = 0; i < n; i++) {
                read_params(&r[i], params[i]);
                q[i] = (struct ahead_query){r[i].statement, r[i].nparams, params[i]};
        }
        return dbconn_send_ahead(c, q, n, err);
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
        const char *fn = side == LEDGER_LOCKED ? "locked_in_range" : "minted_in_range";
        struct ledger_read r;
        void *rows = NULL;
        int rc;

        if ((rc = ledger_read_totals(&r, side, after_block, through_block, err)) != RW_OK)
                return rc;
        if (read_described(c, &r, sizeof *out->rows, read_total, fn, &rows, &out->n, err) != RW_OK)
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
        const uint64_t prev = i > 0 ? b[-1].batch_number : 0;
        char what[64], status[16];
        int64_t number = 0, leaves = 0, block = 0, created = 0, anchored = 0;
        int is_null = 0, anchored_null = 0, rc;

        (void)snprintf(what, sizeof what, "batches_after row %d", i + 1);
        if ((rc = pgrow_i64(res, i, 0, what, 1, INT64_MAX, &number, err)) != RW_OK ||
            (rc = check_ascending(res, i, 0, what, as_u64(number), *(const uint64_t *)ctx, prev, 0,
                                  err)) != RW_OK)
                return rc;
        (void)snprintf(what, sizeof what, "batches_after row %d (batch %" PRId64 ")", i + 1,
                       number);
        if ((rc = pgrow_hex(res, i, 1, what, b->merkle_root, 32, err)) != RW_OK ||
            (rc = pgrow_i64(res, i, 2, what, 1, UINT32_MAX, &leaves, err)) != RW_OK ||
            (rc = pgrow_text(res, i, 3, what, status, sizeof status, err)) != RW_OK ||
            (rc = pgrow_i64_or_null(res, i, 4, what, 0, INT64_MAX, &block, &is_null, err)) !=
                    RW_OK ||
            (rc = pgrow_hex(res, i, 5, what, b->relayer_signature, 65, err)) != RW_OK ||
            (rc = pgrow_i64(res, i, 6, what, 0, INT64_MAX, &created, err)) != RW_OK ||
            (rc = pgrow_i64_or_null(res, i, 7, what, 0, INT64_MAX, &anchored, &anchored_null,
                                    err)) != RW_OK)
                return rc;
        if (strcmp(status, "created") != 0 && strcmp(status, "anchored") != 0)
                return rwerr_set(err, RW_ERR_INVALID, "%s, column status: unknown status \"%s\"",
                                 what, status);
        b->batch_number = as_u64(number);
        b->leaf_count = (uint32_t)leaves;
        b->anchored = strcmp(status, "anchored") == 0;
        b->has_anchor_block = !is_null;
        b->anchor_block = as_u64(block);
        b->created_ms = created;
        b->anchored_ms = anchored_null ? -1 : anchored;
        return RW_OK;
}

int ledger_batches_after(struct dbconn *c, uint64_t after_batch, unsigned max_rows,
                         struct ledger_batches *out, struct rwerr *err)
{
        struct ledger_read r;
        void *rows = NULL;
        int rc;

        if ((rc = ledger_read_batches(&r, after_batch, max_rows, err)) != RW_OK)
                return rc;
        rc = read_described(c, &r, sizeof *out->rows, read_batch, &after_batch, &rows, &out->n,
                            err);
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

/* What read_leaf needs: batch_leaves has one batch and no batch column. */
struct leaf_query {
        int many;                /* leaves_in_batches: column 0 is the batch number */
        uint64_t batch;          /* batch_leaves: the batch asked for */
        uint64_t after, through; /* leaves_in_batches: the range asked for */
};

static int read_leaf(const PGresult *res, int i, void *row, const void *ctx, struct rwerr *err)
{
        const struct leaf_query *q = ctx;
        struct ledger_leaf *l = row;
        const uint64_t prev_batch = i > 0 ? l[-1].batch_number : 0;
        const uint32_t prev_index = i > 0 ? l[-1].leaf_index : 0;
        int64_t batch = 0, index = 0, id = 0;
        int col = 0, rc;
        char what[96];

        if (q->many) {
                (void)snprintf(what, sizeof what, "leaves_in_batches row %d", i + 1);
                if ((rc = pgrow_i64(res, i, 0, what, 1, INT64_MAX, &batch, err)) != RW_OK)
                        return rc;
                if (as_u64(batch) <= q->after || as_u64(batch) > q->through)
                        return rwerr_set(err, RW_ERR_INVALID,
                                         "%s, column %s: batch %" PRId64
                                         " is outside the range asked for (%" PRIu64 ", %" PRIu64
                                         "]",
                                         what, PQfname(res, 0), batch, q->after, q->through);
                (void)snprintf(what, sizeof what, "leaves_in_batches row %d (batch %" PRId64 ")",
                               i + 1, batch);
                col = 1;
        } else {
                batch = (int64_t)q->batch;
                (void)snprintf(what, sizeof what, "batch_leaves of batch %" PRIu64 " row %d",
                               q->batch, i + 1);
        }
        if ((rc = pgrow_i64(res, i, col, what, 0, UINT32_MAX, &index, err)) != RW_OK ||
            (rc = pgrow_i64(res, i, col + 1, what, 0, INT64_MAX, &id, err)) != RW_OK ||
            (rc = pgrow_hex(res, i, col + 2, what, l->token, 20, err)) != RW_OK ||
            (rc = pgrow_hex(res, i, col + 3, what, l->recipient, 20, err)) != RW_OK ||
            (rc = pgrow_u256(res, i, col + 4, what, &l->amount, err)) != RW_OK ||
            (rc = pgrow_hex(res, i, col + 5, what, l->leaf_hash, 32, err)) != RW_OK)
                return rc;
        /* A repeated leaf is passed on: the root recomputed from it will not match. */
        if (i > 0 && (as_u64(batch) < prev_batch ||
                      (as_u64(batch) == prev_batch && index < (int64_t)prev_index)))
                return rwerr_set(err, RW_ERR_INVALID,
                                 "%s, column %s: leaf %" PRId64 " comes after leaf %" PRIu32
                                 " of batch %" PRIu64
                                 " (rows must be ordered by batch, then leaf index)",
                                 what, PQfname(res, col), index, prev_index, prev_batch);
        l->batch_number = as_u64(batch);
        l->leaf_index = (uint32_t)index;
        l->withdrawal_id = as_u64(id);
        return RW_OK;
}

int ledger_batch_leaves(struct dbconn *c, uint64_t batch_number, struct ledger_leaves *out,
                        struct rwerr *err)
{
        struct leaf_query q = {0, batch_number, 0, 0};
        char batch[24];
        const char *params[1] = {batch};
        void *rows = NULL;
        int rc;

        if ((rc = format_bigint(batch, sizeof batch, batch_number, "batch_leaves", "batch", err)) !=
            RW_OK)
                return rc;
        rc = read_rows(c, "ledger_batch_leaves", 1, params, sizeof *out->rows, read_leaf, &q, &rows,
                       &out->n, err);
        if (rc == RW_OK)
                out->rows = rows;
        return rc;
}

int ledger_leaves_in_batches(struct dbconn *c, uint64_t after_batch, uint64_t through_batch,
                             struct ledger_leaves *out, struct rwerr *err)
{
        struct leaf_query q = {1, 0, after_batch, through_batch};
        struct ledger_read r;
        void *rows = NULL;
        int rc;

        if ((rc = ledger_read_leaves(&r, after_batch, through_batch, err)) != RW_OK)
                return rc;
        rc = read_described(c, &r, sizeof *out->rows, read_leaf, &q, &rows, &out->n, err);
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
        struct ledger_read r;
        void *rows = NULL;
        int rc;

        if ((rc = ledger_read_withdrawals(&r, after_batch, through_batch, err)) != RW_OK)
                return rc;
        rc = read_described(c, &r, sizeof *out->rows, read_withdrawal, NULL, &rows, &out->n, err);
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
        struct ledger_read r;
        void *rows = NULL;
        int rc;

        ledger_read_nonces(&r);
        rc = read_described(c, &r, sizeof *out->rows, read_nonce, NULL, &rows, &out->n, err);

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
        struct ledger_read r;
        PGresult *res;
        int64_t v = 0;
        int rc;

        ledger_read_pending_operations(&r);
        res = query(c, r.statement, 0, NULL, err);

        if (res == NULL)
                return RW_ERR_IO;
        rc = pgrow_i64(res, 0, 0, "pending_operations", 0, INT64_MAX, &v, err);
        PQclear(res);
        if (rc == RW_OK)
                *pending = as_u64(v);
        return rc;
}

static int read_asset(const PGresult *res, int i, void *row, const void *ctx, struct rwerr *err)
{
        struct ledger_asset *a = row;
        int64_t decimals = 0;
        char what[128];
        int rc;

        (void)ctx;
        (void)snprintf(what, sizeof what, "assets row %d", i + 1);
        if ((rc = pgrow_text(res, i, 0, what, a->asset, sizeof a->asset, err)) != RW_OK)
                return rc;
        (void)snprintf(what, sizeof what, "assets row %d (asset %s)", i + 1, a->asset);
        if ((rc = pgrow_i64(res, i, 1, what, 0, 77, &decimals, err)) != RW_OK ||
            (rc = pgrow_hex(res, i, 2, what, a->source_token, 20, err)) != RW_OK ||
            (rc = pgrow_hex(res, i, 3, what, a->bridged_token, 20, err)) != RW_OK)
                return rc;
        a->decimals = (unsigned)decimals;
        return RW_OK;
}

int ledger_assets(struct dbconn *c, struct ledger_assets *out, struct rwerr *err)
{
        struct ledger_read r;
        void *rows = NULL;
        int rc;

        ledger_read_assets(&r);
        rc = read_described(c, &r, sizeof *out->rows, read_asset, NULL, &rows, &out->n, err);

        if (rc == RW_OK)
                out->rows = rows;
        return rc;
}

void ledger_assets_free(struct ledger_assets *a)
{
        if (a == NULL)
                return;
        free(a->rows);
        a->rows = NULL;
        a->n = 0;
}

static int read_duplicate(const PGresult *res, int i, void *row, const void *ctx, struct rwerr *err)
{
        struct ledger_duplicate *d = row;
        char what[64], kind[16];
        int rc;

        (void)ctx;
        (void)snprintf(what, sizeof what, "duplicate_batches row %d", i + 1);
        if ((rc = pgrow_text(res, i, 0, what, kind, sizeof kind, err)) != RW_OK)
                return rc;
        if (strcmp(kind, "merkle_root") != 0 && strcmp(kind, "batch_number") != 0)
                return rwerr_set(err, RW_ERR_INVALID,
                                 "%s, column %s: unknown kind \"%s\" (merkle_root or "
                                 "batch_number)",
                                 what, PQfname(res, 0), kind);
        if ((rc = pgrow_text(res, i, 1, what, d->value, sizeof d->value, err)) != RW_OK ||
            (rc = text_cut(res, i, 2, what, d->batch_numbers, sizeof d->batch_numbers, err)) !=
                    RW_OK)
                return rc;
        d->is_root = strcmp(kind, "merkle_root") == 0;
        return RW_OK;
}

int ledger_duplicate_batches(struct dbconn *c, struct ledger_duplicates *out, struct rwerr *err)
{
        struct ledger_read r;
        void *rows = NULL;
        int rc;

        ledger_read_duplicates(&r);
        rc = read_described(c, &r, sizeof *out->rows, read_duplicate, NULL, &rows, &out->n, err);

        if (rc == RW_OK)
                out->rows = rows;
        return rc;
}

void ledger_duplicates_free(struct ledger_duplicates *d)
{
        if (d == NULL)
                return;
        free(d->rows);
        d->rows = NULL;
        d->n = 0;
}

static int read_root_batch(const PGresult *res, int i, void *row, const void *ctx,
                           struct rwerr *err)
{
        struct ledger_root_batch *r = row;
        int64_t batch = 0;
        char what[64];
        int rc;

        (void)ctx;
        (void)snprintf(what, sizeof what, "batches_with_roots row %d", i + 1);
        if ((rc = pgrow_hex(res, i, 0, what, r->merkle_root, 32, err)) != RW_OK ||
            (rc = pgrow_i64(res, i, 1, what, 1, INT64_MAX, &batch, err)) != RW_OK)
                return rc;
        r->batch_number = as_u64(batch);
        return RW_OK;
}

/* The text[] literal "{0x..,0x..}" of `n` > 0 roots into *out; the caller frees it. */
static int roots_literal(const uint8_t (*roots)[32], size_t n, char **out, struct rwerr *err)
{
        const size_t each = HEX_ENCODED_SIZE(32) - 1; /* "0x" and 64 digits */
        char *text, *p;
        size_t i;

        if (n > (SIZE_MAX - 3) / (each + 1))
                return rwerr_set(err, RW_ERR_RANGE, "batches_with_roots: %zu roots are too many",
                                 n);
        if ((text = malloc(n * (each + 1) + 3)) == NULL)
                return rwerr_set(err, RW_ERR_NOMEM,
                                 "batches_with_roots: out of memory for %zu roots", n);
        p = text;
        *p++ = '{';
        for (i = 0; i < n; i++) {
                if (i > 0)
                        *p++ = ',';
                p += hex_encode(roots[i], 32, p, each + 1);
        }
        *p++ = '}';
        *p = '\0';
        *out = text;
        return RW_OK;
}

int ledger_batches_with_roots(struct dbconn *c, const uint8_t (*roots)[32], size_t n,
                              struct ledger_root_batches *out, struct rwerr *err)
{
        const char *params[1] = {NULL};
        char *literal = NULL;
        void *rows = NULL;
        int rc;

        if (n == 0) {
                if ((rows = alloc_rows(0, sizeof *out->rows, err)) == NULL)
                        return RW_ERR_NOMEM;
                out->rows = rows;
                out->n = 0;
                return RW_OK;
        }
        if ((rc = roots_literal(roots, n, &literal, err)) != RW_OK)
                return rc;
        params[0] = literal;
        rc = read_rows(c, "ledger_batches_with_roots", 1, params, sizeof *out->rows,
                       read_root_batch, NULL, &rows, &out->n, err);
        free(literal);
        if (rc == RW_OK)
                out->rows = rows;
        return rc;
}

void ledger_root_batches_free(struct ledger_root_batches *r)
{
        if (r == NULL)
                return;
        free(r->rows);
        r->rows = NULL;
        r->n = 0;
}

/* 1 when `s` is one of the NULL-terminated `allowed`. */
static int one_of(const char *s, const char *const *allowed)
{
        for (; *allowed != NULL; allowed++)
                if (strcmp(s, *allowed) == 0)
                        return 1;
        return 0;
}

static int read_operation(const PGresult *res, int i, void *row, const void *ctx, struct rwerr *err)
{
        static const char *const kinds[] = {"mint", "anchor", "release", NULL};
        static const char *const statuses[] = {"pending", "sent", "confirmed", "failed", NULL};
        struct ledger_operation *o = row;
        const uint64_t prev = i > 0 ? o[-1].op_id : 0;
        int64_t id = 0, chain = 0, nonce = 0, estimate = 0, used = 0;
        int tx_null = 0, used_null = 0, rc;
        size_t tx_len = 0;
        char what[80];

        (void)snprintf(what, sizeof what, "operations_after row %d", i + 1);
        if ((rc = pgrow_i64(res, i, 0, what, 1, INT64_MAX, &id, err)) != RW_OK ||
            (rc = check_ascending(res, i, 0, what, as_u64(id), *(const uint64_t *)ctx, prev, 1,
                                  err)) != RW_OK)
                return rc;
        (void)snprintf(what, sizeof what, "operations_after row %d (op %" PRId64 ")", i + 1, id);
        if ((rc = pgrow_text(res, i, 1, what, o->kind, sizeof o->kind, err)) != RW_OK ||
            (rc = pgrow_i64(res, i, 2, what, 0, INT64_MAX, &chain, err)) != RW_OK ||
            (rc = pgrow_hex(res, i, 3, what, o->account, 20, err)) != RW_OK ||
            (rc = pgrow_i64(res, i, 4, what, 0, INT64_MAX, &nonce, err)) != RW_OK ||
            (rc = pgrow_hex_any(res, i, 5, what, 1, o->tx_hash, sizeof o->tx_hash, &tx_len,
                                &tx_null, err)) != RW_OK ||
            (rc = pgrow_i64(res, i, 6, what, 0, INT64_MAX, &estimate, err)) != RW_OK ||
            (rc = pgrow_i64_or_null(res, i, 7, what, 0, INT64_MAX, &used, &used_null, err)) !=
                    RW_OK ||
            (rc = pgrow_text(res, i, 8, what, o->status, sizeof o->status, err)) != RW_OK)
                return rc;
        if (!one_of(o->kind, kinds))
                return rwerr_set(err, RW_ERR_INVALID,
                                 "%s, column %s: unknown kind \"%s\" (mint, anchor or release)",
                                 what, PQfname(res, 1), o->kind);
        if (!tx_null && tx_len != sizeof o->tx_hash)
                return rwerr_set(err, RW_ERR_INVALID, "%s, column %s: %zu bytes, expected 32", what,
                                 PQfname(res, 5), tx_len);
        if (!one_of(o->status, statuses))
                return rwerr_set(err, RW_ERR_INVALID,
                                 "%s, column %s: unknown status \"%s\" (pending, sent, confirmed "
                                 "or failed)",
                                 what, PQfname(res, 8), o->status);
        o->op_id = as_u64(id);
        o->chain_id = as_u64(chain);
        o->nonce = as_u64(nonce);
        o->has_tx_hash = !tx_null;
        o->gas_estimate = as_u64(estimate);
        o->has_gas_used = !used_null;
        o->gas_used = used_null ? 0 : as_u64(used);
        return RW_OK;
}

int ledger_operations_after(struct dbconn *c, uint64_t after_op, unsigned max_rows,
                            struct ledger_operations *out, struct rwerr *err)
{
        struct ledger_read r;
        void *rows = NULL;
        int rc;

        if ((rc = ledger_read_operations(&r, after_op, max_rows, err)) != RW_OK)
                return rc;
        rc = read_described(c, &r, sizeof *out->rows, read_operation, &after_op, &rows, &out->n,
                            err);
        if (rc == RW_OK)
                out->rows = rows;
        return rc;
}

void ledger_operations_free(struct ledger_operations *o)
{
        if (o == NULL)
                return;
        free(o->rows);
        o->rows = NULL;
        o->n = 0;
}

static int read_cycle(const PGresult *res, int i, void *row, const void *ctx, struct rwerr *err)
{
        struct ledger_cycle *cy = row;
        const uint64_t prev = i > 0 ? cy[-1].cycle_id : 0;
        int64_t id = 0, started = 0, duration = 0;
        char what[80];
        int rc;

        (void)snprintf(what, sizeof what, "cycle_timings_after row %d", i + 1);
        if ((rc = pgrow_i64(res, i, 0, what, 1, INT64_MAX, &id, err)) != RW_OK ||
            (rc = check_ascending(res, i, 0, what, as_u64(id), *(const uint64_t *)ctx, prev, 1,
                                  err)) != RW_OK)
                return rc;
        (void)snprintf(what, sizeof what, "cycle_timings_after row %d (cycle %" PRId64 ")", i + 1,
                       id);
        if ((rc = pgrow_i64(res, i, 1, what, 0, INT64_MAX, &started, err)) != RW_OK ||
            (rc = pgrow_i64(res, i, 2, what, 0, INT64_MAX, &duration, err)) != RW_OK)
                return rc;
        cy->cycle_id = as_u64(id);
        cy->started_ms = started;
        cy->duration_ms = as_u64(duration);
        return RW_OK;
}

int ledger_cycle_timings_after(struct dbconn *c, uint64_t after_cycle, unsigned max_rows,
                               struct ledger_cycles *out, struct rwerr *err)
{
        struct ledger_read r;
        void *rows = NULL;
        int rc;

        if ((rc = ledger_read_cycle_timings(&r, after_cycle, max_rows, err)) != RW_OK)
                return rc;
        rc = read_described(c, &r, sizeof *out->rows, read_cycle, &after_cycle, &rows, &out->n,
                            err);
        if (rc == RW_OK)
                out->rows = rows;
        return rc;
}

void ledger_cycles_free(struct ledger_cycles *c)
{
        if (c == NULL)
                return;
        free(c->rows);
        c->rows = NULL;
        c->n = 0;
}

int ledger_latest_ids(struct dbconn *c, uint64_t *op_id, uint64_t *cycle_id, struct rwerr *err)
{
        struct ledger_read r;
        PGresult *res;
        int64_t op = 0, cycle = 0;
        int rc;

        ledger_read_latest_ids(&r);
        res = query(c, r.statement, 0, NULL, err);

        if (res == NULL)
                return RW_ERR_IO;
        if (PQntuples(res) != 1)
                rc = rwerr_set(err, RW_ERR_INVALID,
                               "latest_ids: %d rows where exactly 1 is expected", PQntuples(res));
        else if ((rc = pgrow_i64(res, 0, 0, "latest_ids", 0, INT64_MAX, &op, err)) == RW_OK)
                rc = pgrow_i64(res, 0, 1, "latest_ids", 0, INT64_MAX, &cycle, err);
        PQclear(res);
        if (rc != RW_OK)
                return rc;
        *op_id = as_u64(op);
        *cycle_id = as_u64(cycle);
        return RW_OK;
}

/* ---------------------------------------------------------------- progress */

#define PROGRESS_VIEW "relaywatch.progress"
#define PROGRESS_SAVEPOINT "ledger_progress"

/* Prepared on first use on each connection, not with ledger_statements (see ledger.h). */
static const struct dbconn_statement progress_statement = {
        "ledger_progress",
        "SELECT deposits, deposits_pending, batches_created, batches_anchored, withdrawals, "
        "withdrawals_claimed, withdrawals_pending FROM " PROGRESS_VIEW,
        0,
};

/*
 * The failure of `res` (NULL: no result at all) during `step`, naming the
 * view and the server's message and SQLSTATE. Only the server's own text
 * is used: it never holds the connection string.
 */
static int progress_failed(PGconn *pg, const PGresult *res, const char *step, struct rwerr *err)
{
        const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
        const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
        char line[RWERR_MSG_MAX];
        size_t n;

        if (primary == NULL) {
                (void)snprintf(line, sizeof line, "%s",
                               pg && PQerrorMessage(pg)[0] ? PQerrorMessage(pg)
                                                           : "no answer from the server");
                n = strcspn(line, "\r\n");
                line[n] = '\0';
                primary = line;
        }
        if (state != NULL && strcmp(state, "42P01") == 0)
                return rwerr_set(err, RW_ERR_INVALID,
                                 "%s: %s: %s (SQLSTATE 42P01: the ledger's contract predates "
                                 "the view; `relaywatch db migrate` applies the current one)",
                                 PROGRESS_VIEW, step, primary);
        return rwerr_set(err, RW_ERR_IO, "%s: %s: %s%s%s%s", PROGRESS_VIEW, step, primary,
                         state ? " (SQLSTATE " : "", state ? state : "", state ? ")" : "");
}

static int read_progress_row(const PGresult *res, struct ledger_progress_figures *out,
                             struct rwerr *err)
{
        uint64_t *fields[] = {&out->deposits,           &out->deposits_pending,
                              &out->batches_created,    &out->batches_anchored,
                              &out->withdrawals,        &out->withdrawals_claimed,
                              &out->withdrawals_pending};
        const int nfields = (int)(sizeof fields / sizeof fields[0]);
        int64_t v = 0;
        int i, rc;

        if (PQntuples(res) != 1)
                return rwerr_set(err, RW_ERR_INVALID, "%s: %d rows where exactly 1 is expected",
                                 PROGRESS_VIEW, PQntuples(res));
        if (PQnfields(res) != nfields)
                return rwerr_set(err, RW_ERR_INVALID, "%s: %d columns where %d are expected",
                                 PROGRESS_VIEW, PQnfields(res), nfields);
        for (i = 0; i < nfields; i++) {
                if ((rc = pgrow_i64(res, 0, i, PROGRESS_VIEW, 0, INT64_MAX, &v, err)) != RW_OK)
                        return rc;
                *fields[i] = as_u64(v);
        }
        return RW_OK;
}

/* Prepares (when this connection has not) and runs the statement: the part under the savepoint. */
static int progress_query(struct dbconn *c, struct ledger_progress_state *st,
                          struct ledger_progress_figures *out, struct rwerr *err)
{
        PGconn *pg = dbconn_pg(c);
        struct dbconn_health h;
        PGresult *res;
        int rc;

        dbconn_health(c, &h);
        if (st->prepared_on != h.connects) {
                res = PQprepare(pg, progress_statement.name, progress_statement.sql,
                                progress_statement.nparams, NULL);
                if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK) {
                        rc = progress_failed(pg, res, "preparing", err);
                        PQclear(res);
                        return rc;
                }
                PQclear(res);
                st->prepared_on = h.connects;
        }
        res = PQexecPrepared(pg, progress_statement.name, 0, NULL, NULL, NULL, 0);
        if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK)
                rc = progress_failed(pg, res, "reading", err);
        else
                rc = read_progress_row(res, out, err);
        PQclear(res);
        return rc;
}

/*
 * Back to before the read. Should that fail (the connection died), the
 * transaction stays as it is and the snapshot's end deals with it: the
 * checks' rows are all read by then.
 */
static void progress_rollback(struct dbconn *c)
{
        struct rwerr ignored;

        if (dbconn_command(c, "ROLLBACK TO SAVEPOINT " PROGRESS_SAVEPOINT, &ignored) != RW_OK)
                return;
        if (dbconn_command(c, "RELEASE SAVEPOINT " PROGRESS_SAVEPOINT, &ignored) != RW_OK)
                return;
}

int ledger_progress_read(struct dbconn *c, struct ledger_progress_state *st,
                         struct ledger_progress_figures *out, struct rwerr *err)
{
        PGconn *pg = dbconn_pg(c);
        struct ledger_progress_figures f;
        int rc;

        if (pg == NULL || PQtransactionStatus(pg) != PQTRANS_INTRANS)
                return rwerr_set(err, RW_ERR_INVALID,
                                 "%s: not read: no healthy snapshot transaction is open",
                                 PROGRESS_VIEW);
        if (dbconn_command(c, "SAVEPOINT " PROGRESS_SAVEPOINT, err) != RW_OK) {
                rwerr_prefix(err, RW_ERR_IO, PROGRESS_VIEW);
                return RW_ERR_IO;
        }
        memset(&f, 0, sizeof f);
        if ((rc = progress_query(c, st, &f, err)) != RW_OK) {
                progress_rollback(c);
                return rc;
        }
        if (dbconn_command(c, "RELEASE SAVEPOINT " PROGRESS_SAVEPOINT, err) != RW_OK) {
                rwerr_prefix(err, RW_ERR_IO, PROGRESS_VIEW);
                return RW_ERR_IO;
        }
        *out = f;
        return RW_OK;
}

int ledger_progress_refresh(struct dbconn *c, struct ledger_progress_state *st, uint64_t now_ms)
{
        struct ledger_progress_figures f;
        struct rwerr err;

        if (st->attempted && now_ms - st->read_at_ms < LEDGER_PROGRESS_PERIOD_MS)
                return 0;
        st->attempted = 1;
        st->read_at_ms = now_ms;
        if (ledger_progress_read(c, st, &f, &err) != RW_OK) {
                st->known = 0;
                (void)snprintf(st->problem, sizeof st->problem, "%s", err.msg);
                return 1;
        }
        st->known = 1;
        st->problem[0] = '\0';
        st->figures = f;
        return 1;
}
