#include "state.h"

#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hex.h"
#include "pgrow.h"
#include "rwerr.h"

const struct dbconn_statement state_statements[] = {
        {"state_checkpoint_clear",
         "DELETE FROM relaywatch_state.checkpoints WHERE scope = $1 AND side = $2", 2},
        /* every asset in one statement: names and figures travel as text arrays */
        {"state_checkpoint_put",
         "INSERT INTO relaywatch_state.checkpoints (scope, side, asset, credited, debited, "
         "through_block) SELECT $1, $2, u.a, u.c::numeric, u.d::numeric, $3::bigint "
         "FROM unnest($4::text[], $5::text[], $6::text[]) AS u(a, c, d)",
         6},
        {"state_checkpoint_get",
         "SELECT asset, credited, debited, through_block FROM relaywatch_state.checkpoints "
         "WHERE scope = $1 AND side = $2 ORDER BY asset",
         2},
        {"state_cursor_put",
         "INSERT INTO relaywatch_state.cursors (name, value) VALUES ($1, $2::bigint) "
         "ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value, updated_at = now()",
         2},
        {"state_cursor_get", "SELECT value FROM relaywatch_state.cursors WHERE name = $1", 1},
        /* The known-anchors index: roots, hashes and the registry travel as hex, arrays as text. */
        {"state_anchors_put",
         "INSERT INTO relaywatch_state.anchors (chain_id, registry, tx_hash, root, batch_number, "
         "block_number) SELECT $1::bigint, decode($2, 'hex'), decode(substr(u.t, 3), 'hex'), "
         "decode(substr(u.r, 3), 'hex'), u.b::numeric, u.k::bigint "
         "FROM unnest($3::text[], $4::text[], $5::text[], $6::text[]) AS u(t, r, b, k) "
         "ON CONFLICT DO NOTHING",
         6},
        {"state_anchors_get",
         "SELECT '0x' || encode(root, 'hex'), batch_number::text, block_number, "
         "'0x' || encode(tx_hash, 'hex') FROM relaywatch_state.anchors "
         "WHERE chain_id = $1::bigint AND registry = decode($2, 'hex') "
         "AND root IN (SELECT decode(substr(u.r, 3), 'hex') FROM unnest($3::text[]) AS u(r)) "
         "ORDER BY block_number, tx_hash, root, batch_number",
         3},
        /* Times travel as unix milliseconds and are stored exactly: epoch + N ms. */
        {"state_halt_put",
         "INSERT INTO relaywatch_state.halts (halt_id, invariant, severity, reason, evidence, "
         "heights, correlation_id, msg, sig, issued_at, published_at) "
         "VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7, $8, $9, "
         "timestamptz 'epoch' + $10::bigint * interval '1 millisecond', "
         "timestamptz 'epoch' + $11::bigint * interval '1 millisecond') "
         "ON CONFLICT (halt_id) DO UPDATE "
         "SET published_at = COALESCE(halts.published_at, EXCLUDED.published_at)",
         11},
        {"state_halt_ack",
         "WITH acked AS (UPDATE relaywatch_state.halts "
         "SET acknowledged_at = timestamptz 'epoch' + $2::bigint * interval '1 millisecond' "
         "WHERE halt_id = $1 AND acknowledged_at IS NULL RETURNING 1) "
         "SELECT (SELECT count(*) FROM acked), "
         "EXISTS (SELECT 1 FROM relaywatch_state.halts WHERE halt_id = $1)",
         2},
        {"state_halt_times",
         "SELECT floor(extract(epoch FROM issued_at)::numeric * 1000)::bigint, "
         "floor(extract(epoch FROM published_at)::numeric * 1000)::bigint, "
         "floor(extract(epoch FROM acknowledged_at)::numeric * 1000)::bigint "
         "FROM relaywatch_state.halts WHERE halt_id = $1",
         1},
        {"state_finding_put",
         "INSERT INTO relaywatch_state.findings (kind, severity, summary, evidence, "
         "correlation_id) VALUES ($1, $2, $3, $4::jsonb, $5)",
         5},
        /* A row is never replaced: RETURNING says whether this one was written. */
        {"state_audit_checkpoint_put",
         "INSERT INTO relaywatch_state.audit_checkpoints (origin, size, root, note, epoch, key_id, "
         "signed_at) VALUES ($1, $2::bigint, decode($3, 'hex'), $4, $5::bigint, $6, "
         "timestamptz 'epoch' + $7::bigint * interval '1 millisecond') "
         "ON CONFLICT (origin, size) DO NOTHING RETURNING 1",
         7},
        {"state_audit_checkpoint_root",
         "SELECT '0x' || encode(root, 'hex') FROM relaywatch_state.audit_checkpoints "
         "WHERE origin = $1 AND size = $2::bigint",
         2},
        {"state_audit_checkpoint_latest",
         "SELECT size, '0x' || encode(root, 'hex'), note, epoch, key_id, "
         "floor(extract(epoch FROM signed_at)::numeric * 1000)::bigint "
         "FROM relaywatch_state.audit_checkpoints WHERE origin = $1 ORDER BY size DESC LIMIT 1",
         1},
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

/*
 * Ends the transaction a save began: COMMIT when `rc` is RW_OK (its
 * failure is the result), else ROLLBACK and `rc` (the save failed already;
 * a failed rollback only adds noise).
 */
static int end_transaction(struct dbconn *c, int rc, struct rwerr *err)
{
        struct rwerr ignored;

        if (rc == RW_OK)
                return dbconn_command(c, "COMMIT", err);
        if (dbconn_pg(c) != NULL) {
                int rolled_back = dbconn_command(c, "ROLLBACK", &ignored);

                (void)rolled_back;
        }
        return rc;
}

struct textbuf {
        char *p;
        size_t len, cap;
};

static int textbuf_add(struct textbuf *b, const char *s)
{
        size_t n = strlen(s);

        if (b->len + n + 1 > b->cap) {
                size_t cap = b->cap ? b->cap : 256;
                char *p;

                while (cap < b->len + n + 1)
                        cap *= 2;
                if ((p = realloc(b->p, cap)) == NULL)
                        return -1;
                b->p = p;
                b->cap = cap;
        }
        memcpy(b->p + b->len, s, n + 1);
        b->len += n;
        return 0;
}

/* Adds element `s` to the array literal in `b` ("{" first, "," between). */
static int textbuf_elem(struct textbuf *b, size_t i, const char *s)
{
        return textbuf_add(b, i == 0 ? "{" : ",") != 0 || textbuf_add(b, s) != 0 ? -1 : 0;
}

/* textbuf_elem for any text: double-quoted, with '"' and '\\' escaped. */
static int textbuf_quoted_elem(struct textbuf *b, size_t i, const char *s)
{
        char one[3] = {0, 0, 0};

        if (textbuf_add(b, i == 0 ? "{\"" : ",\"") != 0)
                return -1;
        for (; *s != '\0'; s++) {
                if (*s == '"' || *s == '\\') {
                        one[0] = '\\';
                        one[1] = *s;
                } else {
                        one[0] = *s;
                        one[1] = '\0';
                }
                if (textbuf_add(b, one) != 0)
                        return -1;
        }
        return textbuf_add(b, "\"");
}

int state_checkpoint_save(struct dbconn *c, const char *scope, enum ledger_side side,
                          const struct ledger_totals *totals, uint64_t through_block,
                          struct rwerr *err)
{
        const char *side_name = ledger_side_name(side);
        char credited[U256_DEC_SIZE], debited[U256_DEC_SIZE], block[24];
        const char *clear[2] = {scope, side_name};
        struct textbuf col[3] = {{NULL, 0, 0}};
        const char *put[6];
        size_t i;
        int rc, oom = 0;

        if (through_block > (uint64_t)INT64_MAX)
                return rwerr_set(err, RW_ERR_RANGE, "%s checkpoint: block %" PRIu64 " is too large",
                                 side_name, through_block);
        (void)snprintf(block, sizeof block, "%" PRIu64, through_block);
        for (i = 0; i < totals->n && !oom; i++) {
                u256_format_dec(&totals->rows[i].credited, credited, sizeof credited);
                u256_format_dec(&totals->rows[i].debited, debited, sizeof debited);
                oom |= textbuf_quoted_elem(&col[0], i, totals->rows[i].asset) |
                       textbuf_elem(&col[1], i, credited) | textbuf_elem(&col[2], i, debited);
        }
        for (i = 0; i < 3 && !oom; i++)
                oom |= textbuf_add(&col[i], totals->n > 0 ? "}" : "{}");
        if (oom) {
                rc = rwerr_set(err, RW_ERR_NOMEM,
                               "out of memory saving the %s checkpoint of %zu "
                               "assets",
                               side_name, totals->n);
                goto done;
        }
        put[0] = scope;
        put[1] = side_name;
        put[2] = block;
        for (i = 0; i < 3; i++)
                put[3 + i] = col[i].p;
        if ((rc = dbconn_command(c, "BEGIN", err)) != RW_OK)
                goto done;
        rc = command(c, "state_checkpoint_clear", 2, clear, err);
        if (rc == RW_OK)
                rc = command(c, "state_checkpoint_put", 6, put, err);
        rc = end_transaction(c, rc, err);
done:
        for (i = 0; i < 3; i++)
                free(col[i].p);
        return rc;
}

int state_checkpoint_load(struct dbconn *c, const char *scope, enum ledger_side side,
                          struct ledger_totals *out, uint64_t *through_block, int *found,
                          struct rwerr *err)
{
        const char *side_name = ledger_side_name(side);
        const char *get[2] = {scope, side_name};
        PGresult *res =
                dbconn_exec_prepared(c, "state_checkpoint_get", 2, get, PGRES_TUPLES_OK, err);
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

/* A required string: present, non-empty, at most `max` bytes. */
static int check_text(const char *what, const char *field, const char *v, size_t max,
                      struct rwerr *err)
{
        if (v == NULL || v[0] == '\0')
                return rwerr_set(err, RW_ERR_INVALID, "%s: %s is %s, and it is required", what,
                                 field, v == NULL ? "NULL" : "empty");
        if (strnlen(v, max + 1) > max)
                return rwerr_set(err, RW_ERR_RANGE, "%s: %s is longer than the limit of %zu bytes",
                                 what, field, max);
        return RW_OK;
}

static int check_time(const char *what, const char *field, int64_t ms, int zero_ok,
                      struct rwerr *err)
{
        if ((ms == 0 && zero_ok) || (ms > 0 && ms <= STATE_TIME_MAX_MS))
                return RW_OK;
        return rwerr_set(err, RW_ERR_RANGE,
                         "%s: %s = %" PRId64 " ms is not a time between 1970 and 9999%s", what,
                         field, ms, zero_ok ? " (or 0 for unset)" : "");
}

/* Refuses to write inside an open transaction: a record must not share a cycle's fate. */
static int autocommit_only(struct dbconn *c, const char *what, struct rwerr *err)
{
        PGconn *pg = dbconn_pg(c);

        if (pg != NULL && PQtransactionStatus(pg) != PQTRANS_IDLE)
                return rwerr_set(err, RW_ERR_INVALID,
                                 "%s: refused inside an open transaction (a cycle's snapshot?); "
                                 "halts and findings are written on their own",
                                 what);
        return RW_OK;
}

int state_halt_record(struct dbconn *c, const struct state_halt *h, struct rwerr *err)
{
        char what[96], issued[24], published[24];
        const char *params[11];
        int rc;

        (void)snprintf(what, sizeof what, "recording halt %.64s",
                       h->halt_id != NULL ? h->halt_id : "(no id)");
        if ((rc = check_text(what, "halt_id", h->halt_id, STATE_NAME_MAX, err)) != RW_OK ||
            (rc = check_text(what, "invariant", h->invariant, STATE_NAME_MAX, err)) != RW_OK ||
            (rc = check_text(what, "severity", h->severity, STATE_NAME_MAX, err)) != RW_OK ||
            (rc = check_text(what, "reason", h->reason, STATE_TEXT_MAX, err)) != RW_OK ||
            (h->evidence_json != NULL &&
             (rc = check_text(what, "evidence", h->evidence_json, STATE_JSON_MAX, err)) != RW_OK) ||
            (rc = check_text(what, "heights", h->heights_json, STATE_JSON_MAX, err)) != RW_OK ||
            (rc = check_text(what, "correlation_id", h->correlation_id, STATE_NAME_MAX, err)) !=
                    RW_OK ||
            (rc = check_text(what, "msg", h->msg, STATE_MSG_MAX, err)) != RW_OK ||
            (rc = check_text(what, "sig", h->sig, STATE_NAME_MAX, err)) != RW_OK ||
            (rc = check_time(what, "issued_at_ms", h->issued_at_ms, 0, err)) != RW_OK ||
            (rc = check_time(what, "published_at_ms", h->published_at_ms, 1, err)) != RW_OK ||
            (rc = autocommit_only(c, what, err)) != RW_OK)
                return rc;
        (void)snprintf(issued, sizeof issued, "%" PRId64, h->issued_at_ms);
        (void)snprintf(published, sizeof published, "%" PRId64, h->published_at_ms);
        params[0] = h->halt_id;
        params[1] = h->invariant;
        params[2] = h->severity;
        params[3] = h->reason;
        params[4] = h->evidence_json != NULL ? h->evidence_json : "{}";
        params[5] = h->heights_json;
        params[6] = h->correlation_id;
        params[7] = h->msg;
        params[8] = h->sig;
        params[9] = issued;
        params[10] = h->published_at_ms != 0 ? published : NULL; /* SQL NULL: not yet */
        if ((rc = command(c, "state_halt_put", 11, params, err)) != RW_OK)
                return rwerr_prefix(err, rc, what);
        return RW_OK;
}

int state_halt_acknowledged(struct dbconn *c, const char *halt_id, int64_t acked_at_ms,
                            struct rwerr *err)
{
        char what[112], at[24];
        const char *params[2] = {halt_id, at};
        PGresult *res;
        int rc;

        (void)snprintf(what, sizeof what, "recording the acknowledgement of halt %.64s",
                       halt_id != NULL ? halt_id : "(no id)");
        if ((rc = check_text(what, "halt_id", halt_id, STATE_NAME_MAX, err)) != RW_OK ||
            (rc = check_time(what, "acked_at_ms", acked_at_ms, 0, err)) != RW_OK ||
            (rc = autocommit_only(c, what, err)) != RW_OK)
                return rc;
        (void)snprintf(at, sizeof at, "%" PRId64, acked_at_ms);
        res = dbconn_exec_prepared(c, "state_halt_ack", 2, params, PGRES_TUPLES_OK, err);
        if (res == NULL)
                return rwerr_prefix(err, RW_ERR_IO, what);
        if (PQntuples(res) != 1 || PQnfields(res) != 2)
                rc = rwerr_set(err, RW_ERR_PROTOCOL,
                               "%s: expected 1 row of 2 columns, got %d of %d", what,
                               PQntuples(res), PQnfields(res));
        else if (strcmp(PQgetvalue(res, 0, 1), "t") != 0)
                rc = rwerr_set(err, RW_ERR_INVALID, "%s: no halt with that id is recorded", what);
        PQclear(res);
        return rc;
}

int state_halt_times(struct dbconn *c, const char *halt_id, struct state_halt_times *out,
                     int *found, struct rwerr *err)
{
        char what[80];
        struct state_halt_times t = {0, 0, 0};
        int64_t *cols[3] = {&t.issued_at_ms, &t.published_at_ms, &t.acknowledged_at_ms};
        PGresult *res;
        int i, is_null = 0, rc;

        (void)snprintf(what, sizeof what, "halt %.64s", halt_id != NULL ? halt_id : "(no id)");
        if ((rc = check_text(what, "halt_id", halt_id, STATE_NAME_MAX, err)) != RW_OK)
                return rc;
        res = dbconn_exec_prepared(c, "state_halt_times", 1, &halt_id, PGRES_TUPLES_OK, err);
        if (res == NULL)
                return rwerr_prefix(err, RW_ERR_IO, what);
        *found = PQntuples(res) == 1;
        for (i = 0; *found && i < 3 && rc == RW_OK; i++) {
                rc = pgrow_i64_or_null(res, 0, i, what, 0, STATE_TIME_MAX_MS, cols[i], &is_null,
                                       err);
                if (rc == RW_OK && is_null)
                        *cols[i] = 0;
        }
        PQclear(res);
        if (rc == RW_OK && *found)
                *out = t;
        return rc;
}

int state_finding_record(struct dbconn *c, const char *kind, const char *severity,
                         const char *summary, const char *evidence_json, const char *correlation_id,
                         struct rwerr *err)
{
        char what[96];
        const char *params[5] = {kind, severity, summary,
                                 evidence_json != NULL ? evidence_json : "{}", correlation_id};
        int rc;

        (void)snprintf(what, sizeof what, "recording finding %.64s",
                       kind != NULL ? kind : "(no kind)");
        if ((rc = check_text(what, "kind", kind, STATE_NAME_MAX, err)) != RW_OK ||
            (rc = check_text(what, "severity", severity, STATE_NAME_MAX, err)) != RW_OK ||
            (rc = check_text(what, "summary", summary, STATE_TEXT_MAX, err)) != RW_OK ||
            (evidence_json != NULL &&
             (rc = check_text(what, "evidence", evidence_json, STATE_JSON_MAX, err)) != RW_OK) ||
            (rc = check_text(what, "correlation_id", correlation_id, STATE_NAME_MAX, err)) !=
                    RW_OK ||
            (rc = autocommit_only(c, what, err)) != RW_OK)
                return rc;
        if ((rc = command(c, "state_finding_put", 5, params, err)) != RW_OK)
                return rwerr_prefix(err, rc, what);
        return RW_OK;
}

/* ------------------------------------------------------------ audit checkpoints */

static int check_count(const char *what, const char *field, uint64_t v, struct rwerr *err)
{
        if (v <= (uint64_t)INT64_MAX)
                return RW_OK;
        return rwerr_set(err, RW_ERR_RANGE, "%s: %s = %" PRIu64 " does not fit a bigint", what,
                         field, v);
}

/* Whether the note begins with the checkpoint text of (origin, size, root). */
static int check_note_claims(const char *what, const struct state_audit_checkpoint *cp,
                             struct rwerr *err)
{
        char root[sodium_base64_ENCODED_LEN(STATE_ROOT_BYTES, sodium_base64_VARIANT_ORIGINAL)];
        const char *p = cp->note;
        size_t n;
        char size[24];

        if (cp->origin == NULL || p == NULL || cp->root == NULL)
                return rwerr_set(err, RW_ERR_INVALID, "%s: origin, note and root are required",
                                 what);
        n = strlen(cp->origin);
        (void)sodium_bin2base64(root, sizeof root, cp->root, STATE_ROOT_BYTES,
                                sodium_base64_VARIANT_ORIGINAL);
        (void)snprintf(size, sizeof size, "%" PRIu64, cp->size);
        if (strncmp(p, cp->origin, n) == 0 && p[n] == '\n') {
                p += n + 1;
                n = strlen(size);
                if (strncmp(p, size, n) == 0 && p[n] == '\n') {
                        p += n + 1;
                        n = strlen(root);
                        if (strncmp(p, root, n) == 0 && p[n] == '\n')
                                return RW_OK;
                }
        }
        return rwerr_set(err, RW_ERR_INVALID,
                         "%s: the note does not begin with this checkpoint's origin, size and "
                         "root (%s)",
                         what, root);
}

/* The root already recorded for (origin, size) into held; *found = 0 when none is. */
static int stored_root(struct dbconn *c, const char *what, const char *origin, const char *size,
                       unsigned char held[STATE_ROOT_BYTES], int *found, struct rwerr *err)
{
        const char *params[2] = {origin, size};
        PGresult *res = dbconn_exec_prepared(c, "state_audit_checkpoint_root", 2, params,
                                             PGRES_TUPLES_OK, err);
        int rc = RW_OK;

        if (res == NULL)
                return rwerr_prefix(err, RW_ERR_IO, what);
        *found = PQntuples(res) == 1;
        if (*found)
                rc = pgrow_hex(res, 0, 0, what, held, STATE_ROOT_BYTES, err);
        PQclear(res);
        return rc;
}

int state_audit_checkpoint_put(struct dbconn *c, const struct state_audit_checkpoint *cp,
                               struct rwerr *err)
{
        char what[320], size[24], epoch[24], at[24], root[2 * STATE_ROOT_BYTES + 1];
        char held_b64[48], sent_b64[48];
        unsigned char held[STATE_ROOT_BYTES];
        const char *params[7];
        PGresult *res;
        int rc, inserted, found = 0;

        (void)snprintf(what, sizeof what, "recording checkpoint %" PRIu64 " of %.256s", cp->size,
                       cp->origin != NULL ? cp->origin : "(no origin)");
        if ((rc = check_text(what, "origin", cp->origin, STATE_NAME_MAX, err)) != RW_OK ||
            (rc = check_count(what, "size", cp->size, err)) != RW_OK ||
            (rc = check_text(what, "note", cp->note, STATE_NOTE_MAX, err)) != RW_OK ||
            (rc = check_count(what, "epoch", cp->epoch, err)) != RW_OK ||
            (rc = check_text(what, "key_id", cp->key_id, STATE_NAME_MAX, err)) != RW_OK ||
            (rc = check_time(what, "signed_at_ms", cp->signed_at_ms, 0, err)) != RW_OK)
                return rc;
        if (cp->root == NULL)
                return rwerr_set(err, RW_ERR_INVALID, "%s: root is NULL, and it is required", what);
        if ((rc = check_note_claims(what, cp, err)) != RW_OK ||
            (rc = autocommit_only(c, what, err)) != RW_OK)
                return rc;
        (void)snprintf(size, sizeof size, "%" PRIu64, cp->size);
        (void)snprintf(epoch, sizeof epoch, "%" PRIu64, cp->epoch);
        (void)snprintf(at, sizeof at, "%" PRId64, cp->signed_at_ms);
        (void)sodium_bin2hex(root, sizeof root, cp->root, STATE_ROOT_BYTES);
        params[0] = cp->origin;
        params[1] = size;
        params[2] = root;
        params[3] = cp->note;
        params[4] = epoch;
        params[5] = cp->key_id;
        params[6] = at;
        res = dbconn_exec_prepared(c, "state_audit_checkpoint_put", 7, params, PGRES_TUPLES_OK,
                                   err);
        if (res == NULL)
                return rwerr_prefix(err, RW_ERR_IO, what);
        inserted = PQntuples(res) == 1;
        PQclear(res);
        if (inserted)
                return RW_OK;
        /* (origin, size) was there already: the same root is a checkpoint sent again. */
        if ((rc = stored_root(c, what, cp->origin, size, held, &found, err)) != RW_OK)
                return rc;
        if (!found)
                return rwerr_set(err, RW_ERR_IO,
                                 "%s: neither written nor found (removed meanwhile?)", what);
        if (sodium_memcmp(held, cp->root, STATE_ROOT_BYTES) == 0)
                return RW_OK;
        (void)sodium_bin2base64(held_b64, sizeof held_b64, held, STATE_ROOT_BYTES,
                                sodium_base64_VARIANT_ORIGINAL);
        (void)sodium_bin2base64(sent_b64, sizeof sent_b64, cp->root, STATE_ROOT_BYTES,
                                sodium_base64_VARIANT_ORIGINAL);
        return rwerr_set(err, RW_ERR_REFUSED,
                         "the database already holds another root for checkpoint %s of %.120s: "
                         "the audit log was rewritten or forked (held %s, now %s)",
                         size, cp->origin, held_b64, sent_b64);
}

int state_audit_checkpoint_latest(struct dbconn *c, const char *origin,
                                  struct state_audit_checkpoint_row *out, int *found,
                                  struct rwerr *err)
{
        struct state_audit_checkpoint_row row;
        char what[320];
        int64_t size = 0, epoch = 0;
        PGresult *res;
        size_t len;
        int rc;

        (void)snprintf(what, sizeof what, "the latest checkpoint of %.256s",
                       origin != NULL ? origin : "(no origin)");
        if ((rc = check_text(what, "origin", origin, STATE_NAME_MAX, err)) != RW_OK)
                return rc;
        res = dbconn_exec_prepared(c, "state_audit_checkpoint_latest", 1, &origin, PGRES_TUPLES_OK,
                                   err);
        if (res == NULL)
                return rwerr_prefix(err, RW_ERR_IO, what);
        if (PQntuples(res) == 0) {
                PQclear(res);
                *found = 0;
                return RW_OK;
        }
        memset(&row, 0, sizeof row);
        if ((rc = pgrow_i64(res, 0, 0, what, 0, INT64_MAX, &size, err)) != RW_OK ||
            (rc = pgrow_hex(res, 0, 1, what, row.root, STATE_ROOT_BYTES, err)) != RW_OK ||
            (rc = pgrow_i64(res, 0, 3, what, 0, INT64_MAX, &epoch, err)) != RW_OK ||
            (rc = pgrow_text(res, 0, 4, what, row.key_id, sizeof row.key_id, err)) != RW_OK ||
            (rc = pgrow_i64(res, 0, 5, what, 1, STATE_TIME_MAX_MS, &row.signed_at_ms, err)) !=
                    RW_OK)
                goto out;
        if (PQgetisnull(res, 0, 2) || (len = (size_t)PQgetlength(res, 0, 2)) > STATE_NOTE_MAX) {
                rc = rwerr_set(err, RW_ERR_PROTOCOL, "%s: the note is NULL or longer than %d bytes",
                               what, STATE_NOTE_MAX);
                goto out;
        }
        if ((row.note = malloc(len + 1)) == NULL) {
                rc = rwerr_set(err, RW_ERR_NOMEM, "out of memory reading %s", what);
                goto out;
        }
        memcpy(row.note, PQgetvalue(res, 0, 2), len);
        row.note[len] = '\0';
        row.size = (uint64_t)size;
        row.epoch = (uint64_t)epoch;
        *out = row;
        *found = 1;
out:
        PQclear(res);
        return rc;
}

/* ------------------------------------------------------------ cursors, together */

int state_cursors_save(struct dbconn *c, const char *const *names, const int64_t *values, size_t n,
                       struct rwerr *err)
{
        char value[24];
        const char *put[2] = {NULL, value};
        size_t i;
        int rc;

        for (i = 0; i < n; i++)
                if ((rc = check_text("saving cursors", "name", names[i], STATE_NAME_MAX, err)) !=
                    RW_OK)
                        return rc;
        if ((rc = autocommit_only(c, "saving cursors", err)) != RW_OK ||
            (rc = dbconn_command(c, "BEGIN", err)) != RW_OK)
                return rc;
        for (i = 0, rc = RW_OK; rc == RW_OK && i < n; i++) {
                put[0] = names[i];
                (void)snprintf(value, sizeof value, "%" PRId64, values[i]);
                if ((rc = command(c, "state_cursor_put", 2, put, err)) != RW_OK)
                        rc = rwerr_prefix(err, rc, "saving cursors");
        }
        return end_transaction(c, rc, err);
}

/* ------------------------------------------------------------ the known-anchors index */

/* A growing text buffer for the array literals; 0 on success, -1 out of memory. */
static int check_key(const char *what, uint64_t chain_id, const uint8_t *registry, char *hex,
                     size_t cap, struct rwerr *err)
{
        if (chain_id > (uint64_t)INT64_MAX)
                return rwerr_set(err, RW_ERR_RANGE, "%s: chain id %" PRIu64 " is too large", what,
                                 chain_id);
        if (registry == NULL)
                return rwerr_set(err, RW_ERR_INVALID, "%s: no registry address", what);
        (void)hex_encode(registry, STATE_ADDRESS_BYTES, hex, cap);
        memmove(hex, hex + 2, strlen(hex + 2) + 1); /* decode() takes no "0x" */
        return RW_OK;
}

int state_anchors_add(struct dbconn *c, uint64_t chain_id, const uint8_t *registry,
                      const struct state_anchor *a, size_t n, struct rwerr *err)
{
        char chain[24], reg[HEX_ENCODED_SIZE(STATE_ADDRESS_BYTES)];
        char tx[HEX_ENCODED_SIZE(32)], root[HEX_ENCODED_SIZE(32)], num[24];
        size_t done, i;
        int rc;

        if ((rc = check_key("indexing anchors", chain_id, registry, reg, sizeof reg, err)) !=
                    RW_OK ||
            (rc = autocommit_only(c, "indexing anchors", err)) != RW_OK)
                return rc;
        for (i = 0; i < n; i++)
                if (a[i].block_number > (uint64_t)INT64_MAX)
                        return rwerr_set(err, RW_ERR_RANGE,
                                         "indexing anchors: block %" PRIu64 " is too large",
                                         a[i].block_number);
        (void)snprintf(chain, sizeof chain, "%" PRIu64, chain_id);
        for (done = 0; done < n; done += STATE_ANCHORS_PER_STATEMENT) {
                size_t k = n - done < STATE_ANCHORS_PER_STATEMENT ? n - done
                                                                  : STATE_ANCHORS_PER_STATEMENT;
                struct textbuf col[4] = {{NULL, 0, 0}};
                const char *params[6];
                int oom = 0;

                for (i = 0; i < k && !oom; i++) {
                        const struct state_anchor *x = &a[done + i];

                        (void)hex_encode(x->tx_hash, 32, tx, sizeof tx);
                        (void)hex_encode(x->root, 32, root, sizeof root);
                        oom |= textbuf_elem(&col[0], i, tx) | textbuf_elem(&col[1], i, root);
                        (void)snprintf(num, sizeof num, "%" PRIu64, x->batch_number);
                        oom |= textbuf_elem(&col[2], i, num);
                        (void)snprintf(num, sizeof num, "%" PRIu64, x->block_number);
                        oom |= textbuf_elem(&col[3], i, num);
                }
                for (i = 0; i < 4 && !oom; i++)
                        oom |= textbuf_add(&col[i], "}");
                if (oom) {
                        rc = rwerr_set(err, RW_ERR_NOMEM, "out of memory indexing %zu anchors", k);
                } else {
                        params[0] = chain;
                        params[1] = reg;
                        for (i = 0; i < 4; i++)
                                params[2 + i] = col[i].p;
                        if ((rc = command(c, "state_anchors_put", 6, params, err)) != RW_OK)
                                rc = rwerr_prefix(err, rc, "indexing anchors");
                }
                for (i = 0; i < 4; i++)
                        free(col[i].p);
                if (rc != RW_OK)
                        return rc;
        }
        return RW_OK;
}

/* A decimal uint64 in column `col`. */
static int row_u64_text(const PGresult *res, int row, int col, const char *what, uint64_t *out,
                        struct rwerr *err)
{
        const char *v = PQgetvalue(res, row, col);
        char *end = NULL;
        unsigned long long x;

        if (PQgetisnull(res, row, col) || v[0] < '0' || v[0] > '9')
                return rwerr_set(err, RW_ERR_PROTOCOL, "%s: column %d is not a whole number", what,
                                 col + 1);
        errno = 0;
        x = strtoull(v, &end, 10);
        if (errno != 0 || *end != '\0')
                return rwerr_set(err, RW_ERR_RANGE, "%s: column %d (%.40s) is out of range", what,
                                 col + 1, v);
        *out = (uint64_t)x;
        return RW_OK;
}

static int lookup_chunk(struct dbconn *c, const char *const params[3], struct state_anchor **out,
                        size_t *nout, size_t *cap, struct rwerr *err)
{
        PGresult *res =
                dbconn_exec_prepared(c, "state_anchors_get", 3, params, PGRES_TUPLES_OK, err);
        char what[64];
        int i, n, rc = RW_OK;

        if (res == NULL)
                return rwerr_prefix(err, RW_ERR_IO, "reading the known anchors");
        n = PQntuples(res);
        for (i = 0; i < n && rc == RW_OK; i++) {
                struct state_anchor *x;
                int64_t block = 0;

                if (*nout == *cap) {
                        size_t ncap = *cap ? *cap * 2 : 16;
                        struct state_anchor *p = realloc(*out, ncap * sizeof *p);

                        if (p == NULL) {
                                rc = rwerr_set(err, RW_ERR_NOMEM,
                                               "out of memory for %zu known anchors", ncap);
                                break;
                        }
                        *out = p;
                        *cap = ncap;
                }
                x = &(*out)[*nout];
                (void)snprintf(what, sizeof what, "known anchor row %d", i + 1);
                if ((rc = pgrow_hex(res, i, 0, what, x->root, 32, err)) == RW_OK &&
                    (rc = row_u64_text(res, i, 1, what, &x->batch_number, err)) == RW_OK &&
                    (rc = pgrow_i64(res, i, 2, what, 0, INT64_MAX, &block, err)) == RW_OK &&
                    (rc = pgrow_hex(res, i, 3, what, x->tx_hash, 32, err)) == RW_OK) {
                        x->block_number = (uint64_t)block;
                        (*nout)++;
                }
        }
        PQclear(res);
        return rc;
}

int state_anchors_lookup(struct dbconn *c, uint64_t chain_id, const uint8_t *registry,
                         const uint8_t (*roots)[32], size_t nroots, struct state_anchor **out,
                         size_t *nout, struct rwerr *err)
{
        char chain[24], reg[HEX_ENCODED_SIZE(STATE_ADDRESS_BYTES)], root[HEX_ENCODED_SIZE(32)];
        size_t done, i, cap = 0;
        int rc;

        *out = NULL;
        *nout = 0;
        if ((rc = check_key("reading the known anchors", chain_id, registry, reg, sizeof reg,
                            err)) != RW_OK)
                return rc;
        (void)snprintf(chain, sizeof chain, "%" PRIu64, chain_id);
        for (done = 0, rc = RW_OK; done < nroots && rc == RW_OK;
             done += STATE_ANCHORS_PER_STATEMENT) {
                size_t k = nroots - done < STATE_ANCHORS_PER_STATEMENT
                                   ? nroots - done
                                   : STATE_ANCHORS_PER_STATEMENT;
                struct textbuf list = {NULL, 0, 0};
                const char *params[3] = {chain, reg, NULL};
                int oom = 0;

                for (i = 0; i < k && !oom; i++) {
                        (void)hex_encode(roots[done + i], 32, root, sizeof root);
                        oom |= textbuf_elem(&list, i, root);
                }
                if (oom || textbuf_add(&list, "}") != 0) {
                        rc = rwerr_set(err, RW_ERR_NOMEM, "out of memory looking up %zu roots", k);
                } else {
                        params[2] = list.p;
                        rc = lookup_chunk(c, params, out, nout, &cap, err);
                }
                free(list.p);
        }
        if (rc != RW_OK) {
                free(*out);
                *out = NULL;
                *nout = 0;
        }
        return rc;
}
