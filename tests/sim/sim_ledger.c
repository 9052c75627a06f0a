#include "sim_ledger.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "hex.h"
#include "rwerr.h"

/* The session advisory lock that keeps a second simulator off the ledger ("relay"). */
#define SIM_LEDGER_LOCK_KEY "491496043897"

/* Text sizes of the parameters: "\x" and hex digits, or decimal digits, and a NUL. */
#define BYTEA_TEXT_SIZE(n) HEX_ENCODED_SIZE(n)
#define INT_TEXT_SIZE 24

struct sim_ledger {
        PGconn *conn;
};

static const char *const op_kinds[] = {
        [SIM_OP_MINT] = "mint",
        [SIM_OP_ANCHOR] = "anchor",
        [SIM_OP_RELEASE] = "release",
};

const char *sim_ledger_op_kind_name(enum sim_op_kind kind)
{
        return op_kinds[kind];
}

/* ---------------------------------------------------------------- parameters */

/* bytea input text: "\x" and lowercase hex digits. */
static void p_bytea(char *out, size_t cap, const uint8_t *b, size_t n)
{
        if (hex_encode(b, n, out, cap) > 0)
                out[0] = '\\';
}

static void p_u64(char out[INT_TEXT_SIZE], uint64_t v)
{
        (void)snprintf(out, INT_TEXT_SIZE, "%llu", (unsigned long long)v);
}

static void p_i64(char out[INT_TEXT_SIZE], int64_t v)
{
        (void)snprintf(out, INT_TEXT_SIZE, "%lld", (long long)v);
}

static void p_u256(char out[U256_DEC_SIZE], const struct u256 *v)
{
        (void)u256_format_dec(v, out, U256_DEC_SIZE);
}

/* ---------------------------------------------------------------- results */

static int get_u64(const PGresult *r, int row, int col, uint64_t *out, struct rwerr *err)
{
        const char *s = PQgetvalue(r, row, col);
        char *end = NULL;
        unsigned long long v;

        if (PQgetisnull(r, row, col) || s[0] == '\0' || s[0] == '-')
                return rwerr_set(err, RW_ERR_INVALID, "ledger: column %s is not a count",
                                 PQfname(r, col));
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno != 0 || *end != '\0')
                return rwerr_set(err, RW_ERR_INVALID, "ledger: column %s: bad integer %.24s",
                                 PQfname(r, col), s);
        *out = (uint64_t)v;
        return RW_OK;
}

static int get_i64(const PGresult *r, int row, int col, int64_t *out, struct rwerr *err)
{
        const char *s = PQgetvalue(r, row, col);
        char *end = NULL;
        long long v;

        if (PQgetisnull(r, row, col) || s[0] == '\0')
                return rwerr_set(err, RW_ERR_INVALID, "ledger: column %s is null", PQfname(r, col));
        errno = 0;
        v = strtoll(s, &end, 10);
        if (errno != 0 || *end != '\0')
                return rwerr_set(err, RW_ERR_INVALID, "ledger: column %s: bad integer %.24s",
                                 PQfname(r, col), s);
        *out = (int64_t)v;
        return RW_OK;
}

/* A column selected as encode(x, 'hex'), of exactly n bytes. */
static int get_bytes(const PGresult *r, int row, int col, uint8_t *out, size_t n, struct rwerr *err)
{
        const char *s = PQgetvalue(r, row, col);
        int rc;

        if (PQgetisnull(r, row, col))
                return rwerr_set(err, RW_ERR_INVALID, "ledger: column %s is null", PQfname(r, col));
        if ((rc = hex_decode(s, strlen(s), out, n, err)) != RW_OK)
                return rwerr_prefix(err, rc, PQfname(r, col));
        return RW_OK;
}

static int get_u256(const PGresult *r, int row, int col, struct u256 *out, struct rwerr *err)
{
        const char *s = PQgetvalue(r, row, col);
        int rc;

        if ((rc = u256_parse_dec(s, strlen(s), out, err)) != RW_OK)
                return rwerr_prefix(err, rc, PQfname(r, col));
        return RW_OK;
}

/* ---------------------------------------------------------------- statements */

/* The server's message for a failed statement, on one line. */
static int sql_error(struct sim_ledger *l, const PGresult *r, const char *what, struct rwerr *err)
{
        const char *primary = r != NULL ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
        const char *detail = r != NULL ? PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL) : NULL;
        const char *msg = primary != NULL ? primary : PQerrorMessage(l->conn);
        int code = PQstatus(l->conn) == CONNECTION_OK ? RW_ERR_REMOTE : RW_ERR_IO;
        size_t len = strcspn(msg, "\n");

        return rwerr_set(err, code, "ledger %s: %.*s%s%s", what, (int)len, msg,
                         detail != NULL ? " (" : "", detail != NULL ? ")" : "");
}

/*
 * Runs one parameterised statement (all parameters text; a NULL value is
 * SQL NULL). With `out`, the result is handed over (caller PQclears);
 * without, it is cleared here.
 */
static int run(struct sim_ledger *l, const char *what, const char *sql, int n,
               const char *const *values, PGresult **out, struct rwerr *err)
{
        PGresult *r = PQexecParams(l->conn, sql, n, NULL, values, NULL, NULL, 0);
        ExecStatusType st = PQresultStatus(r);
        int rc;

        if (r == NULL || (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)) {
                rc = sql_error(l, r, what, err);
                PQclear(r);
                return rc;
        }
        if (out != NULL)
                *out = r;
        else
                PQclear(r);
        return RW_OK;
}

/* Runs a statement that must change exactly one row. */
static int run_one(struct sim_ledger *l, const char *what, const char *sql, int n,
                   const char *const *values, struct rwerr *err)
{
        PGresult *r = NULL;
        int rc;

        if ((rc = run(l, what, sql, n, values, &r, err)) != RW_OK)
                return rc;
        if (strcmp(PQcmdTuples(r), "1") != 0)
                rc = rwerr_set(err, RW_ERR_INVALID, "ledger %s: changed %s rows, expected 1", what,
                               PQcmdTuples(r));
        PQclear(r);
        return rc;
}

static int begin(struct sim_ledger *l, struct rwerr *err)
{
        return run(l, "BEGIN", "BEGIN", 0, NULL, NULL, err);
}

static int commit(struct sim_ledger *l, struct rwerr *err)
{
        return run(l, "COMMIT", "COMMIT", 0, NULL, NULL, err);
}

/* Ends a failed transaction; the caller's error stands. */
static void rollback(struct sim_ledger *l)
{
        PQclear(PQexec(l->conn, "ROLLBACK"));
}

/* ---------------------------------------------------------------- connection */

static int take_lock(struct sim_ledger *l, struct rwerr *err)
{
        static const char *const values[] = {SIM_LEDGER_LOCK_KEY};
        PGresult *r = NULL;
        int rc;

        if ((rc = run(l, "advisory lock", "SELECT pg_try_advisory_lock($1::bigint)", 1, values, &r,
                      err)) != RW_OK)
                return rc;
        if (PQntuples(r) != 1 || strcmp(PQgetvalue(r, 0, 0), "t") != 0)
                rc = rwerr_set(err, RW_ERR_REFUSED,
                               "ledger: another relayer_sim is writing this ledger");
        PQclear(r);
        return rc;
}

static int connect_error(PGconn *conn, struct rwerr *err)
{
        const char *msg = conn != NULL ? PQerrorMessage(conn) : "out of memory";

        return rwerr_set(err, RW_ERR_IO, "ledger: cannot connect: %.*s", (int)strcspn(msg, "\n"),
                         msg);
}

struct sim_ledger *sim_ledger_open(const char *conninfo, struct rwerr *err)
{
        /*
         * Defaults before "dbname" (the URL, expanded in place) so the URL can
         * override them; no GSSAPI probe for a password login on loopback.
         */
        static const char *const keys[] = {"gssencmode", "connect_timeout", "dbname",
                                           "application_name", NULL};
        const char *values[] = {"disable", "10", conninfo, "relayer_sim", NULL};
        struct sim_ledger *l = calloc(1, sizeof *l);

        if (l == NULL) {
                rwerr_set(err, RW_ERR_NOMEM, "ledger: out of memory");
                return NULL;
        }
        l->conn = PQconnectdbParams(keys, values, 1);
        if (l->conn == NULL || PQstatus(l->conn) != CONNECTION_OK) {
                connect_error(l->conn, err);
                goto fail;
        }
        if (take_lock(l, err) != RW_OK)
                goto fail;
        return l;
fail:
        sim_ledger_free(l);
        return NULL;
}

void sim_ledger_free(struct sim_ledger *l)
{
        if (l == NULL)
                return;
        PQfinish(l->conn);
        free(l);
}

int sim_ledger_ensure(struct sim_ledger *l, struct rwerr *err)
{
        if (PQstatus(l->conn) == CONNECTION_OK)
                return RW_OK;
        PQreset(l->conn);
        if (PQstatus(l->conn) != CONNECTION_OK)
                return connect_error(l->conn, err);
        /* A session lock does not survive the connection. */
        return take_lock(l, err);
}

/* ---------------------------------------------------------------- bootstrap */

static int bootstrap_chain(struct sim_ledger *l, uint64_t chain_id, const char *role,
                           struct rwerr *err)
{
        char id[INT_TEXT_SIZE];
        const char *values[] = {id, role};
        PGresult *r = NULL;
        int rc;

        p_u64(id, chain_id);
        if ((rc = run(l, "insert chain",
                      "INSERT INTO relayer.chains (chain_id, role) VALUES ($1, $2) "
                      "ON CONFLICT DO NOTHING",
                      2, values, NULL, err)) != RW_OK)
                return rc;
        if ((rc = run(l, "read chain", "SELECT role FROM relayer.chains WHERE chain_id = $1", 1,
                      values, &r, err)) != RW_OK)
                return rc;
        if (PQntuples(r) != 1 || strcmp(PQgetvalue(r, 0, 0), role) != 0)
                rc = rwerr_set(err, RW_ERR_REFUSED,
                               "ledger: relayer.chains has another %s chain than %llu, or chain "
                               "%llu with another role: this ledger belongs to another stack",
                               role, (unsigned long long)chain_id, (unsigned long long)chain_id);
        PQclear(r);
        return rc;
}

static int bootstrap_progress(struct sim_ledger *l, uint64_t chain_id, uint64_t ready,
                              struct rwerr *err)
{
        char id[INT_TEXT_SIZE], block[INT_TEXT_SIZE];
        const char *values[] = {id, block};

        p_u64(id, chain_id);
        p_u64(block, ready);
        return run(l, "insert chain_progress",
                   "INSERT INTO relayer.chain_progress (chain_id, indexed_through) "
                   "VALUES ($1, $2) ON CONFLICT DO NOTHING",
                   2, values, NULL, err);
}

static int bootstrap_asset(struct sim_ledger *l, const struct sim_ledger_setup *s, int *asset_id,
                           struct rwerr *err)
{
        char decimals[INT_TEXT_SIZE], src[BYTEA_TEXT_SIZE(ABI_ADDRESS_BYTES)],
                bridged[BYTEA_TEXT_SIZE(ABI_ADDRESS_BYTES)];
        const char *values[] = {s->symbol, decimals, src, bridged};
        const char *read_values[] = {s->symbol, src, bridged};
        PGresult *r = NULL;
        int64_t id = 0;
        uint64_t have_decimals = 0;
        int rc;

        p_u64(decimals, s->decimals);
        p_bytea(src, sizeof src, s->source_token, ABI_ADDRESS_BYTES);
        p_bytea(bridged, sizeof bridged, s->bridged_token, ABI_ADDRESS_BYTES);
        if ((rc = run(l, "insert asset",
                      "INSERT INTO relayer.assets (symbol, decimals, source_token, bridged_token) "
                      "VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                      4, values, NULL, err)) != RW_OK)
                return rc;
        if ((rc = run(l, "read asset",
                      "SELECT asset_id, decimals FROM relayer.assets "
                      "WHERE symbol = $1 AND source_token = $2 AND bridged_token = $3",
                      3, read_values, &r, err)) != RW_OK)
                return rc;
        if (PQntuples(r) != 1) {
                rc = rwerr_set(err, RW_ERR_REFUSED,
                               "ledger: relayer.assets holds %s with other token addresses (or "
                               "the tokens under another symbol): this ledger belongs to another "
                               "deployment",
                               s->symbol);
                goto out;
        }
        if ((rc = get_i64(r, 0, 0, &id, err)) != RW_OK ||
            (rc = get_u64(r, 0, 1, &have_decimals, err)) != RW_OK)
                goto out;
        if (have_decimals != s->decimals) {
                rc = rwerr_set(err, RW_ERR_REFUSED,
                               "ledger: %s has %llu decimals in relayer.assets, the token %u",
                               s->symbol, (unsigned long long)have_decimals, s->decimals);
                goto out;
        }
        *asset_id = (int)id;
out:
        PQclear(r);
        return rc;
}

int sim_ledger_bootstrap(struct sim_ledger *l, const struct sim_ledger_setup *s, int *asset_id,
                         struct rwerr *err)
{
        int id = 0;
        int rc;

        if ((rc = begin(l, err)) != RW_OK)
                return rc;
        if ((rc = bootstrap_chain(l, s->source_chain_id, "source", err)) != RW_OK ||
            (rc = bootstrap_chain(l, s->exec_chain_id, "execution", err)) != RW_OK ||
            (rc = bootstrap_asset(l, s, &id, err)) != RW_OK ||
            (rc = bootstrap_progress(l, s->source_chain_id, s->source_ready_block, err)) != RW_OK ||
            (rc = bootstrap_progress(l, s->exec_chain_id, s->exec_ready_block, err)) != RW_OK ||
            (rc = commit(l, err)) != RW_OK) {
                rollback(l);
                return rc;
        }
        *asset_id = id;
        return RW_OK;
}

/* ---------------------------------------------------------------- progress and nonces */

int sim_ledger_indexed_through(struct sim_ledger *l, uint64_t chain_id, uint64_t *block,
                               struct rwerr *err)
{
        char id[INT_TEXT_SIZE];
        const char *values[] = {id};
        PGresult *r = NULL;
        int rc;

        p_u64(id, chain_id);
        if ((rc = run(l, "read chain_progress",
                      "SELECT indexed_through FROM relayer.chain_progress WHERE chain_id = $1", 1,
                      values, &r, err)) != RW_OK)
                return rc;
        if (PQntuples(r) != 1)
                rc = rwerr_set(err, RW_ERR_INVALID, "ledger: no chain_progress for chain %llu",
                               (unsigned long long)chain_id);
        else
                rc = get_u64(r, 0, 0, block, err);
        PQclear(r);
        return rc;
}

int sim_ledger_next_nonce(struct sim_ledger *l, uint64_t chain_id,
                          const uint8_t account[ABI_ADDRESS_BYTES], uint64_t *next_nonce,
                          struct rwerr *err)
{
        char id[INT_TEXT_SIZE], acct[BYTEA_TEXT_SIZE(ABI_ADDRESS_BYTES)];
        const char *values[] = {id, acct};
        PGresult *r = NULL;
        int rc;

        p_u64(id, chain_id);
        p_bytea(acct, sizeof acct, account, ABI_ADDRESS_BYTES);
        if ((rc = run(l, "read nonce_state",
                      "SELECT next_nonce FROM relayer.nonce_state "
                      "WHERE chain_id = $1 AND account = $2",
                      2, values, &r, err)) != RW_OK)
                return rc;
        if (PQntuples(r) != 1)
                rc = rwerr_set(err, RW_ERR_INVALID, "ledger: no nonce_state for chain %llu",
                               (unsigned long long)chain_id);
        else
                rc = get_u64(r, 0, 0, next_nonce, err);
        PQclear(r);
        return rc;
}

int sim_ledger_nonce_init(struct sim_ledger *l, uint64_t chain_id,
                          const uint8_t account[ABI_ADDRESS_BYTES], uint64_t chain_nonce,
                          uint64_t *next_nonce, struct rwerr *err)
{
        char id[INT_TEXT_SIZE], acct[BYTEA_TEXT_SIZE(ABI_ADDRESS_BYTES)], nonce[INT_TEXT_SIZE];
        const char *values[] = {id, acct, nonce};
        int rc;

        p_u64(id, chain_id);
        p_bytea(acct, sizeof acct, account, ABI_ADDRESS_BYTES);
        p_u64(nonce, chain_nonce);
        if ((rc = run(l, "insert nonce_state",
                      "INSERT INTO relayer.nonce_state (chain_id, account, next_nonce) "
                      "VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                      3, values, NULL, err)) != RW_OK)
                return rc;
        return sim_ledger_next_nonce(l, chain_id, account, next_nonce, err);
}

/* Moves indexed_through from `after` to `through`, inside the caller's transaction. */
static int advance(struct sim_ledger *l, uint64_t chain_id, uint64_t after, uint64_t through,
                   struct rwerr *err)
{
        char id[INT_TEXT_SIZE], from[INT_TEXT_SIZE], to[INT_TEXT_SIZE];
        const char *values[] = {id, to, from};

        p_u64(id, chain_id);
        p_u64(from, after);
        p_u64(to, through);
        return run_one(l, "advance indexed_through",
                       "UPDATE relayer.chain_progress SET indexed_through = $2, updated_at = now() "
                       "WHERE chain_id = $1 AND indexed_through = $3",
                       3, values, err);
}

/* ---------------------------------------------------------------- events */

static int insert_deposit(struct sim_ledger *l, int asset_id, const void *event, bool *is_new,
                          struct rwerr *err)
{
        const struct sim_locked *d = event;
        char asset[INT_TEXT_SIZE], nonce[U256_DEC_SIZE], amount[U256_DEC_SIZE];
        char depositor[BYTEA_TEXT_SIZE(ABI_ADDRESS_BYTES)],
                recipient[BYTEA_TEXT_SIZE(ABI_ADDRESS_BYTES)];
        char tx[BYTEA_TEXT_SIZE(SIM_HASH_BYTES)], log_index[INT_TEXT_SIZE], block[INT_TEXT_SIZE];
        const char *values[] = {asset, nonce, depositor, recipient, amount, tx, log_index, block};
        PGresult *r = NULL;
        int rc;

        p_i64(asset, asset_id);
        p_u256(nonce, &d->nonce);
        p_bytea(depositor, sizeof depositor, d->depositor, ABI_ADDRESS_BYTES);
        p_bytea(recipient, sizeof recipient, d->recipient, ABI_ADDRESS_BYTES);
        p_u256(amount, &d->amount);
        p_bytea(tx, sizeof tx, d->tx_hash, SIM_HASH_BYTES);
        p_u64(log_index, d->log_index);
        p_u64(block, d->block_number);
        if ((rc = run(
                     l, "insert deposit",
                     "INSERT INTO relayer.deposits (asset_id, deposit_nonce, depositor, recipient, "
                     "amount, tx_hash, log_index, block_number) "
                     "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
                     "ON CONFLICT (tx_hash, log_index) DO NOTHING RETURNING deposit_id",
                     8, values, &r, err)) != RW_OK)
                return rc;
        if (is_new != NULL)
                *is_new = PQntuples(r) == 1;
        PQclear(r);
        return RW_OK;
}

/* Inserts one indexed event; *is_new says whether it was not recorded before. */
typedef int (*insert_event)(struct sim_ledger *l, int asset_id, const void *event, bool *is_new,
                            struct rwerr *err);

/*
 * Records n events of `size` bytes each and moves the chain's indexed
 * height to `through`, in one transaction: the ledger never claims a block
 * whose events it has not recorded.
 */
static int record_events(struct sim_ledger *l, uint64_t chain_id, int asset_id, const void *events,
                         size_t size, size_t n, insert_event insert, bool *is_new, uint64_t after,
                         uint64_t through, struct rwerr *err)
{
        const unsigned char *p = events;
        size_t i;
        int rc;

        if ((rc = begin(l, err)) != RW_OK)
                return rc;
        for (i = 0; i < n; i++) {
                if ((rc = insert(l, asset_id, p + i * size, is_new != NULL ? &is_new[i] : NULL,
                                 err)) != RW_OK)
                        goto fail;
        }
        if ((rc = advance(l, chain_id, after, through, err)) != RW_OK ||
            (rc = commit(l, err)) != RW_OK)
                goto fail;
        return RW_OK;
fail:
        rollback(l);
        return rc;
}

int sim_ledger_record_deposits(struct sim_ledger *l, uint64_t chain_id, int asset_id,
                               const struct sim_locked *d, size_t n, bool *is_new, uint64_t after,
                               uint64_t through, struct rwerr *err)
{
        return record_events(l, chain_id, asset_id, d, sizeof *d, n, insert_deposit, is_new, after,
                             through, err);
}

static int insert_burn(struct sim_ledger *l, int asset_id, const void *event, bool *is_new,
                       struct rwerr *err)
{
        const struct sim_burned *b = event;
        char asset[INT_TEXT_SIZE], nonce[U256_DEC_SIZE], amount[U256_DEC_SIZE];
        char burner[BYTEA_TEXT_SIZE(ABI_ADDRESS_BYTES)],
                recipient[BYTEA_TEXT_SIZE(ABI_ADDRESS_BYTES)];
        char tx[BYTEA_TEXT_SIZE(SIM_HASH_BYTES)], log_index[INT_TEXT_SIZE], block[INT_TEXT_SIZE];
        char burn_id[INT_TEXT_SIZE];
        const char *values[] = {asset, nonce, burner, recipient, amount, tx, log_index, block};
        const char *wvalues[] = {nonce, burn_id, asset, recipient, amount};
        PGresult *r = NULL;
        uint64_t wid;
        int rc;

        /* withdrawal_id is a bigint. */
        if (u256_to_u64(&b->nonce, &wid) != RW_OK || wid > INT64_MAX)
                return rwerr_set(err, RW_ERR_RANGE, "burn nonce does not fit a withdrawal_id");
        p_i64(asset, asset_id);
        p_u256(nonce, &b->nonce);
        p_bytea(burner, sizeof burner, b->burner, ABI_ADDRESS_BYTES);
        p_bytea(recipient, sizeof recipient, b->recipient, ABI_ADDRESS_BYTES);
        p_u256(amount, &b->amount);
        p_bytea(tx, sizeof tx, b->tx_hash, SIM_HASH_BYTES);
        p_u64(log_index, b->log_index);
        p_u64(block, b->block_number);
        if ((rc = run(l, "insert burn",
                      "INSERT INTO relayer.burns (asset_id, burn_nonce, burner, recipient, amount, "
                      "tx_hash, log_index, block_number) "
                      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
                      "ON CONFLICT (tx_hash, log_index) DO NOTHING RETURNING burn_id",
                      8, values, &r, err)) != RW_OK)
                return rc;
        if (is_new != NULL)
                *is_new = PQntuples(r) == 1;
        if (PQntuples(r) != 1) {
                PQclear(r);
                return RW_OK;
        }
        (void)snprintf(burn_id, sizeof burn_id, "%s", PQgetvalue(r, 0, 0));
        PQclear(r);
        return run(l, "insert withdrawal",
                   "INSERT INTO relayer.withdrawals (withdrawal_id, burn_id, asset_id, recipient, "
                   "amount, status) VALUES ($1, $2, $3, $4, $5, 'confirmed')",
                   5, wvalues, NULL, err);
}

int sim_ledger_record_burns(struct sim_ledger *l, uint64_t chain_id, int asset_id,
                            const struct sim_burned *b, size_t n, bool *is_new, uint64_t after,
                            uint64_t through, struct rwerr *err)
{
        return record_events(l, chain_id, asset_id, b, sizeof *b, n, insert_burn, is_new, after,
                             through, err);
}

/* ---------------------------------------------------------------- work lists */

/*
 * Runs a list query with $1 = max. On success *n is its row count and, when
 * *n > 0, *rows is a zeroed array of *n rows of `size` bytes (else NULL).
 */
static int list(struct sim_ledger *l, const char *what, const char *sql, size_t max, size_t size,
                PGresult **out, void **rows, int *n, struct rwerr *err)
{
        char limit[INT_TEXT_SIZE];
        const char *values[] = {limit};
        PGresult *r = NULL;
        void *p = NULL;
        int count, rc;

        p_u64(limit, max);
        if ((rc = run(l, what, sql, 1, values, &r, err)) != RW_OK)
                return rc;
        count = PQntuples(r);
        if (count > 0 && (p = calloc((size_t)count, size)) == NULL) {
                PQclear(r);
                return rwerr_set(err, RW_ERR_NOMEM, "ledger %s: out of memory", what);
        }
        *out = r;
        *rows = p;
        *n = count;
        return RW_OK;
}

int sim_ledger_unminted(struct sim_ledger *l, size_t max, struct sim_deposit_row **rows, size_t *n,
                        struct rwerr *err)
{
        struct sim_deposit_row *out = NULL;
        PGresult *r = NULL;
        int i, count = 0, rc;

        if ((rc = list(l, "list unminted deposits",
                       "SELECT d.deposit_id, d.deposit_nonce, encode(d.recipient, 'hex'), d.amount "
                       "FROM relayer.deposits d "
                       "WHERE NOT EXISTS (SELECT 1 FROM relayer.mints m "
                       "                  WHERE m.deposit_id = d.deposit_id) "
                       "AND NOT EXISTS (SELECT 1 FROM relayer.operations o "
                       "                WHERE o.kind = 'mint' AND o.ref_id = d.deposit_id "
                       "                AND o.status IN ('pending', 'sent')) "
                       "ORDER BY d.deposit_id LIMIT $1",
                       max, sizeof *out, &r, (void **)&out, &count, err)) != RW_OK)
                return rc;
        for (i = 0; i < count; i++) {
                if ((rc = get_i64(r, i, 0, &out[i].deposit_id, err)) != RW_OK ||
                    (rc = get_u256(r, i, 1, &out[i].deposit_nonce, err)) != RW_OK ||
                    (rc = get_bytes(r, i, 2, out[i].recipient, ABI_ADDRESS_BYTES, err)) != RW_OK ||
                    (rc = get_u256(r, i, 3, &out[i].amount, err)) != RW_OK)
                        goto fail;
        }
        *rows = out;
        *n = (size_t)count;
        PQclear(r);
        return RW_OK;
fail:
        free(out);
        PQclear(r);
        return rc;
}

int sim_ledger_deposit(struct sim_ledger *l, int64_t deposit_id, struct sim_deposit_row *out,
                       struct rwerr *err)
{
        char id[INT_TEXT_SIZE];
        const char *values[] = {id};
        struct sim_deposit_row d;
        PGresult *r = NULL;
        int rc;

        p_i64(id, deposit_id);
        if ((rc = run(l, "read deposit",
                      "SELECT deposit_id, deposit_nonce, encode(recipient, 'hex'), amount "
                      "FROM relayer.deposits WHERE deposit_id = $1",
                      1, values, &r, err)) != RW_OK)
                return rc;
        if (PQntuples(r) != 1)
                rc = rwerr_set(err, RW_ERR_INVALID, "ledger: no deposit %lld",
                               (long long)deposit_id);
        else if ((rc = get_i64(r, 0, 0, &d.deposit_id, err)) == RW_OK &&
                 (rc = get_u256(r, 0, 1, &d.deposit_nonce, err)) == RW_OK &&
                 (rc = get_bytes(r, 0, 2, d.recipient, ABI_ADDRESS_BYTES, err)) == RW_OK &&
                 (rc = get_u256(r, 0, 3, &d.amount, err)) == RW_OK)
                *out = d;
        PQclear(r);
        return rc;
}

int sim_ledger_unbatched(struct sim_ledger *l, size_t max, struct sim_withdrawal **rows, size_t *n,
                         struct rwerr *err)
{
        struct sim_withdrawal *out = NULL;
        PGresult *r = NULL;
        int i, count = 0, rc;

        if ((rc = list(l, "list unbatched withdrawals",
                       "SELECT withdrawal_id, encode(recipient, 'hex'), amount "
                       "FROM relayer.withdrawals WHERE status = 'confirmed' "
                       "ORDER BY withdrawal_id LIMIT $1",
                       max, sizeof *out, &r, (void **)&out, &count, err)) != RW_OK)
                return rc;
        for (i = 0; i < count; i++) {
                if ((rc = get_u64(r, i, 0, &out[i].withdrawal_id, err)) != RW_OK ||
                    (rc = get_bytes(r, i, 1, out[i].recipient, ABI_ADDRESS_BYTES, err)) != RW_OK ||
                    (rc = get_u256(r, i, 2, &out[i].amount, err)) != RW_OK)
                        goto fail;
        }
        *rows = out;
        *n = (size_t)count;
        PQclear(r);
        return RW_OK;
fail:
        free(out);
        PQclear(r);
        return rc;
}

int sim_ledger_unanchored(struct sim_ledger *l, size_t max, struct sim_anchor_row **rows, size_t *n,
                          struct rwerr *err)
{
        struct sim_anchor_row *out = NULL;
        PGresult *r = NULL;
        int i, count = 0, rc;

        if ((rc = list(l, "list unanchored batches",
                       "SELECT s.batch_number, encode(s.merkle_root, 'hex') "
                       "FROM relayer.settlement_batch s WHERE s.status = 'created' "
                       "AND NOT EXISTS (SELECT 1 FROM relayer.operations o "
                       "                WHERE o.kind = 'anchor' AND o.ref_id = s.batch_number "
                       "                AND o.status IN ('pending', 'sent')) "
                       "ORDER BY s.batch_number LIMIT $1",
                       max, sizeof *out, &r, (void **)&out, &count, err)) != RW_OK)
                return rc;
        for (i = 0; i < count; i++) {
                if ((rc = get_u64(r, i, 0, &out[i].batch_number, err)) != RW_OK ||
                    (rc = get_bytes(r, i, 1, out[i].root, SIM_HASH_BYTES, err)) != RW_OK)
                        goto fail;
        }
        *rows = out;
        *n = (size_t)count;
        PQclear(r);
        return RW_OK;
fail:
        free(out);
        PQclear(r);
        return rc;
}

static int get_proof(const PGresult *r, int row, int col, struct sim_release_row *out,
                     struct rwerr *err)
{
        const char *s = PQgetvalue(r, row, col);
        size_t len = 0;
        int rc;

        rc = hex_decode_any(s, strlen(s), &out->proof[0][0], sizeof out->proof, &len, err);
        if (rc != RW_OK)
                return rwerr_prefix(err, rc, "withdrawal proof");
        if (len % SIM_HASH_BYTES != 0)
                return rwerr_set(err, RW_ERR_INVALID, "withdrawal proof is %zu bytes", len);
        out->proof_len = len / SIM_HASH_BYTES;
        return RW_OK;
}

int sim_ledger_unreleased(struct sim_ledger *l, size_t max, struct sim_release_row **rows,
                          size_t *n, struct rwerr *err)
{
        struct sim_release_row *out = NULL;
        PGresult *r = NULL;
        int i, count = 0, rc;

        if ((rc = list(l, "list unreleased withdrawals",
                       "SELECT w.batch_number, w.withdrawal_id, encode(w.recipient, 'hex'), "
                       "w.amount, encode(p.proof, 'hex') "
                       "FROM relayer.withdrawals w "
                       "JOIN relayer.settlement_batch s ON s.batch_number = w.batch_number "
                       "JOIN relayer.withdrawal_proofs p ON p.withdrawal_id = w.withdrawal_id "
                       "WHERE w.status = 'batched' AND s.status = 'anchored' "
                       "AND NOT EXISTS (SELECT 1 FROM relayer.operations o "
                       "                WHERE o.kind = 'release' AND o.ref_id = w.withdrawal_id "
                       "                AND o.status IN ('pending', 'sent')) "
                       "ORDER BY w.withdrawal_id LIMIT $1",
                       max, sizeof *out, &r, (void **)&out, &count, err)) != RW_OK)
                return rc;
        for (i = 0; i < count; i++) {
                if ((rc = get_u64(r, i, 0, &out[i].batch_number, err)) != RW_OK ||
                    (rc = get_u64(r, i, 1, &out[i].w.withdrawal_id, err)) != RW_OK ||
                    (rc = get_bytes(r, i, 2, out[i].w.recipient, ABI_ADDRESS_BYTES, err)) !=
                            RW_OK ||
                    (rc = get_u256(r, i, 3, &out[i].w.amount, err)) != RW_OK ||
                    (rc = get_proof(r, i, 4, &out[i], err)) != RW_OK)
                        goto fail;
        }
        *rows = out;
        *n = (size_t)count;
        PQclear(r);
        return RW_OK;
fail:
        free(out);
        PQclear(r);
        return rc;
}

static int op_kind_parse(const char *s, enum sim_op_kind *out)
{
        size_t i;

        for (i = 0; i < sizeof op_kinds / sizeof op_kinds[0]; i++) {
                if (strcmp(s, op_kinds[i]) == 0) {
                        *out = (enum sim_op_kind)i;
                        return RW_OK;
                }
        }
        return RW_ERR_INVALID;
}

int sim_ledger_open_ops(struct sim_ledger *l, struct sim_op **ops, size_t *n, struct rwerr *err)
{
        struct sim_op *out = NULL;
        PGresult *r = NULL;
        int i, count = 0, rc;

        if ((rc = list(l, "list open operations",
                       "SELECT op_id, kind, chain_id, encode(account, 'hex'), nonce, gas_estimate, "
                       "ref_id, status, encode(tx_hash, 'hex') FROM relayer.operations "
                       "WHERE status IN ('pending', 'sent') ORDER BY op_id LIMIT $1",
                       (size_t)10000, sizeof *out, &r, (void **)&out, &count, err)) != RW_OK)
                return rc;
        for (i = 0; i < count; i++) {
                struct sim_op *op = &out[i];

                if ((rc = get_i64(r, i, 0, &op->op_id, err)) != RW_OK ||
                    (rc = get_u64(r, i, 2, &op->chain_id, err)) != RW_OK ||
                    (rc = get_bytes(r, i, 3, op->account, ABI_ADDRESS_BYTES, err)) != RW_OK ||
                    (rc = get_u64(r, i, 4, &op->nonce, err)) != RW_OK ||
                    (rc = get_u64(r, i, 5, &op->gas_estimate, err)) != RW_OK ||
                    (rc = get_i64(r, i, 6, &op->ref_id, err)) != RW_OK)
                        goto fail;
                if (op_kind_parse(PQgetvalue(r, i, 1), &op->kind) != RW_OK) {
                        rc = rwerr_set(err, RW_ERR_INVALID, "ledger: operation %lld has kind %.16s",
                                       (long long)op->op_id, PQgetvalue(r, i, 1));
                        goto fail;
                }
                op->sent = strcmp(PQgetvalue(r, i, 7), "sent") == 0;
                if (op->sent &&
                    (rc = get_bytes(r, i, 8, op->tx_hash, SIM_HASH_BYTES, err)) != RW_OK)
                        goto fail;
        }
        *ops = out;
        *n = (size_t)count;
        PQclear(r);
        return RW_OK;
fail:
        free(out);
        PQclear(r);
        return rc;
}

/* ---------------------------------------------------------------- batches */

static int insert_leaf(struct sim_ledger *l, const char *number, const struct sim_batch *b,
                       size_t i, struct rwerr *err)
{
        char index[INT_TEXT_SIZE], wid[INT_TEXT_SIZE], leaf[BYTEA_TEXT_SIZE(SIM_HASH_BYTES)];
        char proof[BYTEA_TEXT_SIZE(SIM_PROOF_MAX * SIM_HASH_BYTES)];
        const char *leaf_values[] = {number, index, wid, leaf};
        const char *proof_values[] = {wid, number, proof};
        const char *w_values[] = {number, wid};
        int rc;

        p_u64(index, i);
        p_u64(wid, b->withdrawals[i].withdrawal_id);
        p_bytea(leaf, sizeof leaf, b->leaves[i], SIM_HASH_BYTES);
        if (b->proof_len[i] > 0)
                p_bytea(proof, sizeof proof, &b->proofs[i][0][0], b->proof_len[i] * SIM_HASH_BYTES);
        else
                (void)snprintf(proof, sizeof proof, "\\x");
        if ((rc = run(l, "insert batch leaf",
                      "INSERT INTO relayer.batch_leaves (batch_number, leaf_index, withdrawal_id, "
                      "leaf_hash) VALUES ($1, $2, $3, $4)",
                      4, leaf_values, NULL, err)) != RW_OK ||
            (rc = run(l, "insert withdrawal proof",
                      "INSERT INTO relayer.withdrawal_proofs (withdrawal_id, batch_number, proof) "
                      "VALUES ($1, $2, $3)",
                      3, proof_values, NULL, err)) != RW_OK)
                return rc;
        return run_one(l, "batch withdrawal",
                       "UPDATE relayer.withdrawals SET status = 'batched', batch_number = $1 "
                       "WHERE withdrawal_id = $2 AND status = 'confirmed'",
                       2, w_values, err);
}

int sim_ledger_record_batch(struct sim_ledger *l, const struct sim_batch *b, uint64_t *batch_number,
                            struct rwerr *err)
{
        char number[INT_TEXT_SIZE], root[BYTEA_TEXT_SIZE(SIM_HASH_BYTES)], count[INT_TEXT_SIZE];
        char sig[BYTEA_TEXT_SIZE(SIG_BYTES)];
        const char *values[] = {number, root, count, sig};
        PGresult *r = NULL;
        uint64_t next = 0;
        size_t i;
        int rc;

        if ((rc = begin(l, err)) != RW_OK)
                return rc;
        if ((rc = run(l, "next batch number",
                      "SELECT coalesce(max(batch_number), 0) + 1 FROM relayer.settlement_batch", 0,
                      NULL, &r, err)) != RW_OK)
                goto fail;
        rc = get_u64(r, 0, 0, &next, err);
        PQclear(r);
        if (rc != RW_OK)
                goto fail;
        p_u64(number, next);
        p_bytea(root, sizeof root, b->root, SIM_HASH_BYTES);
        p_u64(count, b->n);
        p_bytea(sig, sizeof sig, b->signature, SIG_BYTES);
        if ((rc = run(
                     l, "insert batch",
                     "INSERT INTO relayer.settlement_batch (batch_number, merkle_root, leaf_count, "
                     "status, relayer_signature) VALUES ($1, $2, $3, 'created', $4)",
                     4, values, NULL, err)) != RW_OK)
                goto fail;
        for (i = 0; i < b->n; i++) {
                if ((rc = insert_leaf(l, number, b, i, err)) != RW_OK)
                        goto fail;
        }
        if ((rc = commit(l, err)) != RW_OK)
                goto fail;
        *batch_number = next;
        return RW_OK;
fail:
        rollback(l);
        return rc;
}

/* ---------------------------------------------------------------- operations */

int sim_ledger_op_begin(struct sim_ledger *l, struct sim_op *op, struct rwerr *err)
{
        char chain[INT_TEXT_SIZE], acct[BYTEA_TEXT_SIZE(ABI_ADDRESS_BYTES)], nonce[INT_TEXT_SIZE];
        char gas[INT_TEXT_SIZE], ref[INT_TEXT_SIZE];
        const char *values[] = {op_kinds[op->kind], chain, acct, nonce, gas, ref};
        PGresult *r = NULL;
        int rc;

        p_u64(chain, op->chain_id);
        p_bytea(acct, sizeof acct, op->account, ABI_ADDRESS_BYTES);
        p_u64(nonce, op->nonce);
        p_u64(gas, op->gas_estimate);
        p_i64(ref, op->ref_id);
        if ((rc = run(l, "insert operation",
                      "INSERT INTO relayer.operations (kind, chain_id, account, nonce, "
                      "gas_estimate, "
                      "status, ref_id) VALUES ($1, $2, $3, $4, $5, 'pending', $6) "
                      "RETURNING op_id",
                      6, values, &r, err)) != RW_OK)
                return rc;
        rc = get_i64(r, 0, 0, &op->op_id, err);
        PQclear(r);
        return rc;
}

/* next_nonce past op->nonce (never backwards), inside the caller's transaction. */
static int consume_nonce(struct sim_ledger *l, const struct sim_op *op, struct rwerr *err)
{
        char chain[INT_TEXT_SIZE], acct[BYTEA_TEXT_SIZE(ABI_ADDRESS_BYTES)], nonce[INT_TEXT_SIZE];
        const char *values[] = {chain, acct, nonce};

        p_u64(chain, op->chain_id);
        p_bytea(acct, sizeof acct, op->account, ABI_ADDRESS_BYTES);
        p_u64(nonce, op->nonce);
        return run_one(l, "bump nonce_state",
                       "UPDATE relayer.nonce_state "
                       "SET next_nonce = greatest(next_nonce, $3::bigint + 1), updated_at = now() "
                       "WHERE chain_id = $1 AND account = $2",
                       3, values, err);
}

/* Sets the operation's status, and its hash and gas used when given (NULL keeps them). */
static int set_op(struct sim_ledger *l, int64_t op_id, const char *status, const uint8_t *tx_hash,
                  const uint64_t *gas_used, struct rwerr *err)
{
        char id[INT_TEXT_SIZE], tx[BYTEA_TEXT_SIZE(SIM_HASH_BYTES)], gas[INT_TEXT_SIZE];
        const char *values[] = {id, status, tx_hash != NULL ? tx : NULL,
                                gas_used != NULL ? gas : NULL};

        p_i64(id, op_id);
        if (tx_hash != NULL)
                p_bytea(tx, sizeof tx, tx_hash, SIM_HASH_BYTES);
        if (gas_used != NULL)
                p_u64(gas, *gas_used);
        return run_one(l, "update operation",
                       "UPDATE relayer.operations SET status = $2, "
                       "tx_hash = coalesce($3, tx_hash), gas_used = coalesce($4, gas_used), "
                       "updated_at = now() "
                       "WHERE op_id = $1 AND status IN ('pending', 'sent')",
                       4, values, err);
}

int sim_ledger_op_sent(struct sim_ledger *l, const struct sim_op *op, struct rwerr *err)
{
        int rc;

        if ((rc = begin(l, err)) != RW_OK)
                return rc;
        if ((rc = set_op(l, op->op_id, "sent", op->tx_hash, NULL, err)) != RW_OK ||
            (rc = consume_nonce(l, op, err)) != RW_OK || (rc = commit(l, err)) != RW_OK) {
                rollback(l);
                return rc;
        }
        return RW_OK;
}

int sim_ledger_op_drop(struct sim_ledger *l, const struct sim_op *op, struct rwerr *err)
{
        char id[INT_TEXT_SIZE];
        const char *values[] = {id};

        p_i64(id, op->op_id);
        return run_one(l, "drop unsent operation",
                       "DELETE FROM relayer.operations "
                       "WHERE op_id = $1 AND status = 'pending' AND tx_hash IS NULL",
                       1, values, err);
}

/* What a confirmed operation did, inside the caller's transaction. */
static int record_effect(struct sim_ledger *l, const struct sim_op *op, const struct sim_receipt *r,
                         struct rwerr *err)
{
        char ref[INT_TEXT_SIZE], tx[BYTEA_TEXT_SIZE(SIM_HASH_BYTES)], block[INT_TEXT_SIZE];
        const char *values[] = {ref, tx, block};

        p_i64(ref, op->ref_id);
        p_bytea(tx, sizeof tx, r->tx_hash, SIM_HASH_BYTES);
        p_u64(block, r->block_number);
        switch (op->kind) {
        case SIM_OP_MINT:
                return run_one(
                        l, "insert mint",
                        "INSERT INTO relayer.mints (deposit_id, asset_id, recipient, amount, "
                        "tx_hash, block_number) "
                        "SELECT deposit_id, asset_id, recipient, amount, $2, $3 "
                        "FROM relayer.deposits WHERE deposit_id = $1",
                        3, values, err);
        case SIM_OP_ANCHOR:
                return run_one(l, "anchor batch",
                               "UPDATE relayer.settlement_batch SET status = 'anchored', "
                               "anchor_tx_hash = $2, anchor_block = $3, anchored_at = now() "
                               "WHERE batch_number = $1 AND status = 'created'",
                               3, values, err);
        case SIM_OP_RELEASE:
                return run_one(l, "release withdrawal",
                               "UPDATE relayer.withdrawals SET status = 'released', "
                               "release_tx_hash = $2, release_block = $3, released_at = now() "
                               "WHERE withdrawal_id = $1 AND status = 'batched'",
                               3, values, err);
        }
        return rwerr_set(err, RW_ERR_INVALID, "ledger: unknown operation kind %d", (int)op->kind);
}

int sim_ledger_op_confirmed(struct sim_ledger *l, const struct sim_op *op,
                            const struct sim_receipt *r, struct rwerr *err)
{
        int rc;

        if ((rc = begin(l, err)) != RW_OK)
                return rc;
        if ((rc = record_effect(l, op, r, err)) != RW_OK ||
            (rc = set_op(l, op->op_id, "confirmed", r->tx_hash, &r->gas_used, err)) != RW_OK ||
            (rc = consume_nonce(l, op, err)) != RW_OK || (rc = commit(l, err)) != RW_OK) {
                rollback(l);
                return rc;
        }
        return RW_OK;
}

int sim_ledger_op_failed(struct sim_ledger *l, const struct sim_op *op, const struct sim_receipt *r,
                         struct rwerr *err)
{
        int rc;

        if ((rc = begin(l, err)) != RW_OK)
                return rc;
        if ((rc = set_op(l, op->op_id, "failed", r != NULL ? r->tx_hash : NULL,
                         r != NULL ? &r->gas_used : NULL, err)) != RW_OK ||
            (rc = consume_nonce(l, op, err)) != RW_OK || (rc = commit(l, err)) != RW_OK) {
                rollback(l);
                return rc;
        }
        return RW_OK;
}

int sim_ledger_cycle_timing(struct sim_ledger *l, const char *started_at, uint64_t duration_ms,
                            struct rwerr *err)
{
        char duration[INT_TEXT_SIZE];
        const char *values[] = {started_at, duration};

        p_u64(duration, duration_ms);
        return run(l, "insert cycle timing",
                   "INSERT INTO relayer.cycle_timings (started_at, duration_ms) VALUES ($1, $2)", 2,
                   values, NULL, err);
}
