/*
 * The ledger side against the stack's real PostgreSQL: the contract on
 * hand-written fixtures with exact totals (above 2^128 too), snapshot
 * consistency while another connection writes, incremental totals against
 * full sums, a changed historical row, the watchdog role's lack of rights
 * on the relayer's tables, NULL and garbage rows, migrations applied twice
 * or tampered with, and PostgreSQL restarted under a live connection.
 *
 * Each run works in a database of its own (created and dropped here) with
 * the reference schema and `relaywatch db migrate`'s SQL applied.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "dbconn.h"
#include "ledger.h"
#include "migrate.h"
#include "observe_ledger.h"
#include "progress_reader.h"
#include "rwerr.h"
#include "sql_embedded.h"
#include "stack_env.h"
#include "state.h"
#include "test_util.h"
#include "totals.h"
#include "u256.h"

#define TWO_128 "340282366920938463463374607431768211456"
#define TWO_200 "1606938044258990275541962092341162602522202993782792835301376"

struct fixture {
        struct stack_env *env;
        char dbname[64];
        char admin_url[512];    /* superuser, on the test database */
        char watchdog_url[512]; /* relaywatch role, on the test database */
        PGconn *admin;
};

static struct fixture *fx_global;

static void admin_exec(const char *sql)
{
        PGresult *res = PQexec(fx_global->admin, sql);
        ExecStatusType st = PQresultStatus(res);

        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
                fail_msg("admin SQL failed: %s\n%s", PQresultErrorMessage(res), sql);
        PQclear(res);
}

static void quiet(void *arg, const char *message)
{
        (void)arg;
        (void)message;
}

static int setup(void **state)
{
        struct fixture *fx = calloc(1, sizeof *fx);
        const char *path = getenv("RELAYWATCH_STACK_ENV");
        const char *sql_dir = getenv("RELAYWATCH_SQL_DIR");
        struct migrate_options opt = {NULL, NULL, 0};
        struct migrate_report report;
        char create[128], schema_path[512];
        char *schema;
        struct rwerr err;
        PGconn *bootstrap;
        PGresult *res;

        if (fx == NULL || path == NULL || sql_dir == NULL) {
                fprintf(stderr, "RELAYWATCH_STACK_ENV and RELAYWATCH_SQL_DIR must be set (ctest "
                                "sets them)\n");
                free(fx);
                return -1;
        }
        *state = fx;
        fx_global = fx;
        if ((fx->env = stack_env_load(path, &err)) == NULL) {
                fprintf(stderr, "%s\n", err.msg);
                return -1;
        }
        snprintf(fx->dbname, sizeof fx->dbname, "ledger_test_%d", (int)getpid());
        bootstrap = PQconnectdb(stack_env_get(fx->env, "DATABASE_ADMIN_URL"));
        snprintf(create, sizeof create, "CREATE DATABASE %s", fx->dbname);
        res = PQexec(bootstrap, create);
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
                fprintf(stderr, "%s", PQerrorMessage(bootstrap));
                return -1;
        }
        PQclear(res);
        PQfinish(bootstrap);
        test_url_with_database(stack_env_get(fx->env, "DATABASE_ADMIN_URL"), fx->dbname,
                               fx->admin_url, sizeof fx->admin_url);
        test_url_with_database(stack_env_get(fx->env, "DATABASE_URL"), fx->dbname, fx->watchdog_url,
                               sizeof fx->watchdog_url);
        fx->admin = PQconnectdb(fx->admin_url);
        if (PQstatus(fx->admin) != CONNECTION_OK)
                return -1;
        PQsetNoticeProcessor(fx->admin, quiet, NULL);
        snprintf(schema_path, sizeof schema_path, "%s/reference/relayer_schema.sql", sql_dir);
        if ((schema = test_read_file(schema_path)) == NULL)
                return -1;
        res = PQexec(fx->admin, schema);
        free(schema);
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
                fprintf(stderr, "reference schema: %s", PQresultErrorMessage(res));
                return -1;
        }
        PQclear(res);
        if (migrate_run(fx->admin, &opt, &report, &err) != RW_OK) {
                fprintf(stderr, "%s\n", err.msg);
                return -1;
        }
        return 0;
}

static int teardown(void **state)
{
        struct fixture *fx = *state;
        char drop[128];
        PGconn *bootstrap;

        PQfinish(fx->admin);
        bootstrap = PQconnectdb(stack_env_get(fx->env, "DATABASE_ADMIN_URL"));
        snprintf(drop, sizeof drop, "DROP DATABASE IF EXISTS %s WITH (FORCE)", fx->dbname);
        PQclear(PQexec(bootstrap, drop));
        PQfinish(bootstrap);
        stack_env_free(fx->env);
        free(fx);
        return 0;
}

/* Each test starts from an empty ledger with two chains and two assets. */
static int reset(void **state)
{
        (void)state;
        admin_exec(
                "TRUNCATE relayer.withdrawal_proofs, relayer.batch_leaves, relayer.withdrawals, "
                "relayer.settlement_batch, relayer.mints, relayer.burns, relayer.deposits, "
                "relayer.operations, relayer.nonce_state, relayer.cycle_timings, "
                "relayer.chain_progress, relayer.assets, relayer.chains, "
                "relaywatch_state.checkpoints, relaywatch_state.cursors RESTART IDENTITY CASCADE");
        admin_exec("INSERT INTO relayer.chains VALUES (31337, 'source'), (31338, 'execution')");
        admin_exec(
                "INSERT INTO relayer.assets (symbol, decimals, source_token, bridged_token) VALUES "
                "('BIG', 0, '\\x1111111111111111111111111111111111111111', "
                "'\\x2222222222222222222222222222222222222222'), "
                "('SIGIL', 18, '\\x5fbdb2315678afecb367f032d93f642f64180aa3', "
                "'\\x5fbdb2315678afecb367f032d93f642f64180aa4')");
        return 0;
}

/* A deposit of `amount` of asset `asset_id` at `block`, with a unique tx hash. */
static void deposit(int asset_id, const char *amount, long block)
{
        static long n;
        char sql[1024];

        n++;
        snprintf(sql, sizeof sql,
                 "INSERT INTO relayer.deposits (asset_id, deposit_nonce, depositor, recipient, "
                 "amount, tx_hash, log_index, block_number) VALUES (%d, %ld, "
                 "'\\xaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', "
                 "'\\xbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb', %s, "
                 "decode(lpad(to_hex(%ld), 64, '0'), 'hex'), 0, %ld)",
                 asset_id, n, amount, n, block);
        admin_exec(sql);
}

static struct dbconn *watchdog_conn(void)
{
        struct dbconn_config cfg = {0};
        struct dbconn *c;
        struct rwerr err;

        cfg.conninfo = fx_global->watchdog_url;
        cfg.name = "ledger";
        cfg.statements = ledger_statements;
        cfg.nstatements = ledger_nstatements;
        c = dbconn_new(&cfg, &err);
        if (c == NULL || dbconn_ensure(c, &err) != RW_OK)
                fail_msg("%s", err.msg);
        return c;
}

static void assert_amount(const struct u256 *got, const char *want_decimal)
{
        struct u256 want;
        char text[U256_DEC_SIZE];
        struct rwerr err;

        assert_int_equal(u256_parse_dec(want_decimal, strlen(want_decimal), &want, &err), RW_OK);
        if (!u256_eq(got, &want)) {
                u256_format_dec(got, text, sizeof text);
                fail_msg("amount %s, expected %s", text, want_decimal);
        }
}

static void totals_at(struct dbconn *c, enum ledger_side side, int64_t after, uint64_t through,
                      struct ledger_totals *out)
{
        struct rwerr err;

        if (ledger_totals_in_range(c, side, after, through, out, &err) != RW_OK)
                fail_msg("%s", err.msg);
}

static void burn_and_release(long withdrawal_id, int asset_id, const char *amount, long burn_block,
                             long batch, long release_block)
{
        char sql[1024];

        snprintf(sql, sizeof sql,
                 "INSERT INTO relayer.burns (asset_id, burn_nonce, burner, recipient, amount, "
                 "tx_hash, log_index, block_number) VALUES (%d, %ld, "
                 "'\\xcccccccccccccccccccccccccccccccccccccccc', "
                 "'\\xcccccccccccccccccccccccccccccccccccccccc', %s, "
                 "decode('e' || lpad(to_hex(%ld), 63, '0'), 'hex'), 0, %ld)",
                 asset_id, withdrawal_id, amount, withdrawal_id, burn_block);
        admin_exec(sql);
        snprintf(sql, sizeof sql,
                 "INSERT INTO relayer.withdrawals (withdrawal_id, burn_id, asset_id, recipient, "
                 "amount, status) SELECT %ld, burn_id, %d, recipient, amount, 'confirmed' "
                 "FROM relayer.burns WHERE burn_nonce = %ld",
                 withdrawal_id, asset_id, withdrawal_id);
        admin_exec(sql);
        if (batch > 0) {
                snprintf(sql, sizeof sql,
                         "INSERT INTO relayer.settlement_batch (batch_number, merkle_root, "
                         "leaf_count, status, anchor_tx_hash, anchor_block, relayer_signature) "
                         "VALUES (%ld, decode('a' || lpad(to_hex(%ld), 63, '0'), 'hex'), 1, "
                         "'anchored', "
                         "decode(repeat('cd', 32), 'hex'), %ld, decode(repeat('ef', 65), 'hex')) "
                         "ON CONFLICT DO NOTHING",
                         batch, batch, burn_block + 1);
                admin_exec(sql);
                snprintf(sql, sizeof sql,
                         "UPDATE relayer.withdrawals SET status = 'batched', batch_number = %ld "
                         "WHERE withdrawal_id = %ld",
                         batch, withdrawal_id);
                admin_exec(sql);
        }
        if (release_block >= 0) {
                snprintf(sql, sizeof sql,
                         "UPDATE relayer.withdrawals SET status = 'released', release_block = %ld, "
                         "release_tx_hash = decode(repeat('12', 32), 'hex') WHERE withdrawal_id = "
                         "%ld",
                         release_block, withdrawal_id);
                admin_exec(sql);
        }
}

static void mint(long deposit_id, int asset_id, const char *amount, long block)
{
        char sql[1024];

        snprintf(
                sql, sizeof sql,
                "INSERT INTO relayer.mints (deposit_id, asset_id, recipient, amount, tx_hash, "
                "block_number) VALUES (%ld, %d, '\\xbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb', %s, "
                "decode('f' || lpad(to_hex(%ld), 63, '0'), 'hex'), %ld)",
                deposit_id, asset_id, amount, deposit_id, block);
        admin_exec(sql);
}

static void totals_on_fixtures_are_exact(void **state)
{
        struct dbconn *c = watchdog_conn();
        struct ledger_totals t;

        (void)state;
        deposit(2, "1000000000000000000", 10); /* 1 SIGIL */
        deposit(2, TWO_200, 20);               /* far above 2^128 */
        deposit(2, TWO_128, 30);
        deposit(1, "7", 30);
        mint(1, 2, "1000000000000000000", 11);
        mint(2, 2, TWO_200, 21);
        burn_and_release(1, 2, "5", 40, 1, 45);

        /* Locked through block 30: both assets, exact to the last unit. */
        totals_at(c, LEDGER_LOCKED, -1, 30, &t);
        assert_int_equal(t.n, 2);
        assert_string_equal(t.rows[0].asset, "BIG");
        assert_amount(&t.rows[0].credited, "7");
        assert_amount(&t.rows[0].debited, "0");
        assert_string_equal(t.rows[1].asset, "SIGIL");
        assert_amount(&t.rows[1].credited,
                      "1606938044258990275542302374708083540985667368390224603512832");
        assert_amount(&t.rows[1].debited, "0");
        ledger_totals_free(&t);

        /* A range counts only its own blocks: (20, 45] holds 2^128 in, 5 out. */
        totals_at(c, LEDGER_LOCKED, 20, 45, &t);
        assert_amount(&t.rows[1].credited, TWO_128);
        assert_amount(&t.rows[1].debited, "5");
        ledger_totals_free(&t);
        totals_at(c, LEDGER_LOCKED, 20, 44, &t);
        assert_amount(&t.rows[1].debited, "0"); /* the release is at 45 */
        ledger_totals_free(&t);

        /* Minted: mints in, burns out, on the execution chain's blocks. */
        totals_at(c, LEDGER_MINTED, -1, 39, &t);
        assert_amount(&t.rows[1].credited,
                      "1606938044258990275541962092341162602522203993782792835301376");
        assert_amount(&t.rows[1].debited, "0");
        assert_amount(&t.rows[0].credited, "0"); /* BIG: nothing minted, still a row */
        ledger_totals_free(&t);
        totals_at(c, LEDGER_MINTED, -1, 40, &t);
        assert_amount(&t.rows[1].debited, "5");
        ledger_totals_free(&t);
        dbconn_free(c);
}

static void contract_rows_on_fixtures(void **state)
{
        struct dbconn *c = watchdog_conn();
        struct ledger_progress_list p;
        struct ledger_batches b;
        struct ledger_leaves l;
        struct ledger_withdrawals w;
        struct ledger_nonces n;
        uint64_t pending = 99;
        struct rwerr err;

        (void)state;
        admin_exec("INSERT INTO relayer.chain_progress (chain_id, indexed_through) VALUES (31337, "
                   "120)");
        burn_and_release(7, 2, "300", 50, 3, -1);
        admin_exec("INSERT INTO relayer.batch_leaves VALUES (3, 0, 7, decode(repeat('77', 32), "
                   "'hex'))");
        admin_exec("INSERT INTO relayer.withdrawal_proofs VALUES (7, 3, "
                   "decode(repeat('01', 32) || repeat('02', 32), 'hex'))");
        admin_exec("INSERT INTO relayer.nonce_state (chain_id, account, next_nonce) VALUES "
                   "(31338, '\\x70997970c51812dc3a010c7d01b50e0d17dc79c8', 42)");
        admin_exec("INSERT INTO relayer.operations (kind, chain_id, account, nonce, gas_estimate, "
                   "status) "
                   "VALUES ('mint', 31338, '\\x70997970c51812dc3a010c7d01b50e0d17dc79c8', 41, "
                   "60000, 'sent'), "
                   "('mint', 31338, '\\x70997970c51812dc3a010c7d01b50e0d17dc79c8', 40, 60000, "
                   "'confirmed')");

        assert_int_equal(ledger_indexed_through(c, &p, &err), RW_OK);
        assert_int_equal(p.n, 2);
        assert_int_equal(p.rows[0].chain_id, 31337);
        assert_string_equal(p.rows[0].role, "source");
        assert_true(p.rows[0].indexed);
        assert_int_equal(p.rows[0].indexed_through, 120);
        assert_false(p.rows[1].indexed); /* nothing recorded of the execution chain yet */
        ledger_progress_free(&p);

        assert_int_equal(ledger_batches_after(c, 0, 100, &b, &err), RW_OK);
        assert_int_equal(b.n, 1);
        assert_int_equal(b.rows[0].batch_number, 3);
        assert_true(b.rows[0].anchored);
        assert_true(b.rows[0].has_anchor_block);
        assert_int_equal(b.rows[0].anchor_block, 51);
        assert_int_equal(b.rows[0].leaf_count, 1);
        assert_int_equal(b.rows[0].merkle_root[0], 0xa0);
        assert_int_equal(b.rows[0].merkle_root[31], 0x03);
        assert_int_equal(b.rows[0].relayer_signature[64], 0xef);
        ledger_batches_free(&b);
        assert_int_equal(ledger_batches_after(c, 3, 100, &b, &err), RW_OK);
        assert_int_equal(b.n, 0);
        ledger_batches_free(&b);

        assert_int_equal(ledger_batch_leaves(c, 3, &l, &err), RW_OK);
        assert_int_equal(l.n, 1);
        assert_int_equal(l.rows[0].withdrawal_id, 7);
        assert_int_equal(l.rows[0].token[0], 0x5f);
        assert_int_equal(l.rows[0].recipient[19], 0xcc);
        assert_amount(&l.rows[0].amount, "300");
        assert_int_equal(l.rows[0].leaf_hash[0], 0x77);
        ledger_leaves_free(&l);

        assert_int_equal(ledger_withdrawals_in_batches(c, 0, 3, &w, &err), RW_OK);
        assert_int_equal(w.n, 1);
        assert_int_equal(w.rows[0].proof_len, 2);
        assert_int_equal(w.rows[0].proof[0][0], 0x01);
        assert_int_equal(w.rows[0].proof[1][31], 0x02);
        assert_false(w.rows[0].released);
        ledger_withdrawals_free(&w);
        assert_int_equal(ledger_withdrawals_in_batches(c, 3, 9, &w, &err), RW_OK);
        assert_int_equal(w.n, 0);
        ledger_withdrawals_free(&w);

        assert_int_equal(ledger_expected_nonces(c, &n, &err), RW_OK);
        assert_int_equal(n.n, 1);
        assert_int_equal(n.rows[0].chain_id, 31338);
        assert_int_equal(n.rows[0].next_nonce, 42);
        assert_int_equal(n.rows[0].account[0], 0x70);
        ledger_nonces_free(&n);

        assert_int_equal(ledger_pending_operations(c, &pending, &err), RW_OK);
        assert_int_equal(pending, 1);
        dbconn_free(c);
}

static void snapshot_holds_while_another_connection_writes(void **state)
{
        struct dbconn *c = watchdog_conn();
        struct ledger_totals t;
        struct rwerr err;

        (void)state;
        deposit(2, "100", 10);
        assert_int_equal(ledger_snapshot_begin(c, &err), RW_OK);
        totals_at(c, LEDGER_LOCKED, -1, 1000, &t);
        assert_amount(&t.rows[1].credited, "100");
        ledger_totals_free(&t);

        deposit(2, "23", 11); /* committed by another connection, inside our range */

        totals_at(c, LEDGER_LOCKED, -1, 1000, &t);
        assert_amount(&t.rows[1].credited, "100"); /* the snapshot does not move */
        ledger_totals_free(&t);
        assert_int_equal(ledger_snapshot_end(c, &err), RW_OK);

        assert_int_equal(ledger_snapshot_begin(c, &err), RW_OK);
        totals_at(c, LEDGER_LOCKED, -1, 1000, &t);
        assert_amount(&t.rows[1].credited, "123"); /* the next snapshot sees it */
        ledger_totals_free(&t);
        assert_int_equal(ledger_snapshot_end(c, &err), RW_OK);

        /* A snapshot is read-only, whatever the role could do. */
        assert_int_equal(ledger_snapshot_begin(c, &err), RW_OK);
        assert_null(
                dbconn_exec(c, "INSERT INTO relaywatch_state.cursors (name, value) VALUES ('x', 1)",
                            PGRES_COMMAND_OK, &err));
        assert_non_null(strstr(err.msg, "read-only transaction"));
        assert_int_equal(ledger_snapshot_end(c, &err), RW_OK); /* rolls back */
        dbconn_free(c);
}

static uint64_t next_random(uint64_t *s)
{
        *s ^= *s << 13;
        *s ^= *s >> 7;
        *s ^= *s << 17;
        return *s;
}

static void incremental_totals_equal_full_sums(void **state)
{
        struct dbconn *c = watchdog_conn();
        struct totals_tracker *tr = totals_tracker_new(LEDGER_LOCKED, UINT64_MAX);
        struct totals_result r;
        struct ledger_totals full;
        uint64_t seed = 0x5eed, block = 0, now = 1;
        char amount[32];
        struct rwerr err;
        int step, k;
        size_t i;

        (void)state;
        assert_non_null(tr);
        for (step = 0; step < 40; step++) {
                /* New rows only in blocks the tracker has not covered yet. */
                for (k = (int)(next_random(&seed) % 4); k > 0; k--) {
                        snprintf(amount, sizeof amount, "%llu",
                                 (unsigned long long)(next_random(&seed) % 1000000000000ULL + 1));
                        deposit(1 + (int)(next_random(&seed) % 2), amount,
                                (long)(block + 1 + next_random(&seed) % 5));
                }
                block += 1 + next_random(&seed) % 5;
                assert_int_equal(ledger_snapshot_begin(c, &err), RW_OK);
                if (totals_tracker_advance(tr, c, block, now++, &r, &err) != RW_OK)
                        fail_msg("%s", err.msg);
                assert_int_equal(r.full_recompute, step == 0);
                assert_int_equal(r.nchanges, 0);
                totals_at(c, LEDGER_LOCKED, -1, block, &full);
                assert_int_equal(r.totals->n, full.n);
                for (i = 0; i < full.n; i++) {
                        assert_string_equal(r.totals->rows[i].asset, full.rows[i].asset);
                        assert_true(u256_eq(&r.totals->rows[i].credited, &full.rows[i].credited));
                        assert_true(u256_eq(&r.totals->rows[i].debited, &full.rows[i].debited));
                }
                ledger_totals_free(&full);
                assert_int_equal(ledger_snapshot_end(c, &err), RW_OK);
        }
        totals_tracker_free(tr);
        dbconn_free(c);
}

static void changed_history_is_reported_with_both_figures(void **state)
{
        struct dbconn *c = watchdog_conn();
        struct totals_tracker *tr = totals_tracker_new(LEDGER_LOCKED, 1000);
        struct totals_result r;
        struct rwerr err;

        (void)state;
        assert_non_null(tr);
        deposit(2, "500", 10);
        deposit(2, "250", 20);
        assert_int_equal(totals_tracker_advance(tr, c, 30, 0, &r, &err), RW_OK);
        assert_true(r.full_recompute);
        assert_amount(&r.totals->rows[1].credited, "750");

        /* Someone edits a counted row; the incremental reads cannot see it... */
        admin_exec("UPDATE relayer.deposits SET amount = 501 WHERE block_number = 10");
        deposit(2, "1", 35);
        assert_int_equal(totals_tracker_advance(tr, c, 40, 500, &r, &err), RW_OK);
        assert_false(r.full_recompute);
        assert_amount(&r.totals->rows[1].credited, "751");

        /* ...the scheduled full recompute does, and says what changed. */
        assert_int_equal(totals_tracker_advance(tr, c, 40, 1000, &r, &err), RW_OK);
        assert_true(r.full_recompute);
        assert_int_equal(r.nchanges, 1);
        assert_string_equal(r.changes[0].asset, "SIGIL");
        assert_int_equal(r.changes[0].through_block, 40);
        assert_amount(&r.changes[0].running_credited, "751");
        assert_amount(&r.changes[0].full_credited, "752");
        assert_amount(&r.totals->rows[1].credited, "752"); /* the full figure now stands */

        /* A deleted row too; and a seeded checkpoint is checked on the first read. */
        admin_exec("DELETE FROM relayer.deposits WHERE block_number = 20");
        assert_int_equal(totals_tracker_advance(tr, c, 40, 5000, &r, &err), RW_OK);
        assert_int_equal(r.nchanges, 1);
        assert_amount(&r.changes[0].running_credited, "752");
        assert_amount(&r.changes[0].full_credited, "502");
        totals_tracker_free(tr);

        tr = totals_tracker_new(LEDGER_LOCKED, UINT64_MAX);
        {
                struct ledger_total saved[2] = {{"BIG", {{0}}, {{0}}}, {"SIGIL", {{0}}, {{0}}}};
                struct ledger_totals cp = {2, saved};

                saved[1].credited = u256_from_u64(999);
                assert_int_equal(totals_tracker_seed(tr, &cp, 40, &err), RW_OK);
        }
        assert_int_equal(totals_tracker_advance(tr, c, 40, 1, &r, &err), RW_OK);
        assert_true(r.full_recompute);
        assert_int_equal(r.nchanges, 1);
        assert_amount(&r.changes[0].running_credited, "999");
        assert_amount(&r.changes[0].full_credited, "502");
        totals_tracker_free(tr);
        dbconn_free(c);
}

/* Runs `sql` as the watchdog's role; returns 1 when the server refused it for lack of rights. */
static int refused(PGconn *pg, const char *sql)
{
        PGresult *res = PQexec(pg, sql);
        const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        int denied = PQresultStatus(res) == PGRES_FATAL_ERROR && state != NULL &&
                     strcmp(state, "42501") == 0; /* insufficient_privilege */

        if (!denied)
                fprintf(stderr, "not refused for lack of rights: %s (%s)\n", sql,
                        PQresultErrorMessage(res));
        PQclear(res);
        return denied;
}

static void watchdog_role_cannot_touch_relayer_data(void **state)
{
        PGconn *pg = PQconnectdb(fx_global->watchdog_url);
        PGresult *res;

        (void)state;
        assert_int_equal(PQstatus(pg), CONNECTION_OK);
        deposit(2, "1", 1);
        assert_true(refused(pg, "SELECT * FROM relayer.deposits"));
        assert_true(refused(pg, "INSERT INTO relayer.chains VALUES (1, 'other')"));
        assert_true(refused(pg, "UPDATE relayer.deposits SET amount = 2"));
        assert_true(refused(pg, "DELETE FROM relayer.deposits"));
        assert_true(refused(pg, "TRUNCATE relayer.deposits"));
        assert_true(refused(pg, "SET ROLE relaywatch_contract"));
        assert_true(refused(pg, "CREATE TABLE relaywatch.mine (x int)"));
        assert_true(refused(pg, "CREATE OR REPLACE VIEW relaywatch.assets AS SELECT 1 AS asset"));
        assert_true(refused(pg, "UPDATE relaywatch_state.audit_checkpoints SET size = 0"));
        assert_true(refused(pg, "DELETE FROM relaywatch_state.audit_checkpoints"));
        assert_true(refused(
                pg, "INSERT INTO relaywatch_state.schema_migrations VALUES (99, 'x', 'y')"));

        /* What it may do: read the contract and write its own state. */
        res = PQexec(
                pg,
                "SELECT credited FROM relaywatch.locked_in_range(-1, 10) WHERE asset = 'SIGIL'");
        assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
        assert_string_equal(PQgetvalue(res, 0, 0), "1");
        PQclear(res);
        res = PQexec(pg,
                     "INSERT INTO relaywatch_state.cursors (name, value) VALUES ('batches', 7)");
        assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
        PQclear(res);
        PQfinish(pg);

        /* And the row is still there, unchanged. */
        res = PQexec(fx_global->admin, "SELECT amount FROM relayer.deposits");
        assert_string_equal(PQgetvalue(res, 0, 0), "1");
        PQclear(res);
}

/* Replaces locked_in_range with rows from a table without constraints, as an operator's might be. */
static void weird_rows(const char *values)
{
        char sql[1024];

        admin_exec("CREATE TABLE IF NOT EXISTS public.weird (asset text, credited numeric, debited "
                   "numeric)");
        admin_exec("TRUNCATE public.weird");
        snprintf(sql, sizeof sql, "INSERT INTO public.weird VALUES %s", values);
        admin_exec(sql);
        admin_exec("CREATE OR REPLACE FUNCTION relaywatch.locked_in_range(after_block bigint, "
                   "through_block bigint) RETURNS TABLE (asset text, credited numeric, debited "
                   "numeric) "
                   "LANGUAGE sql STABLE AS $$ SELECT * FROM public.weird ORDER BY asset $$");
        admin_exec("GRANT SELECT ON public.weird TO relaywatch_reader");
}

static void expect_totals_error(const char *values, const char *needle)
{
        struct dbconn *c;
        struct ledger_totals t = {0, NULL};
        struct rwerr err;
        int rc;

        weird_rows(values);
        c = watchdog_conn();
        rc = ledger_totals_in_range(c, LEDGER_LOCKED, -1, 10, &t, &err);
        if (rc == RW_OK || strstr(err.msg, needle) == NULL)
                fail_msg("rows %s: expected an error with \"%s\", got %s", values, needle,
                         rc == RW_OK ? "success" : err.msg);
        assert_null(t.rows); /* nothing half-read is handed back */
        dbconn_free(c);
}

static void null_and_garbage_rows_are_named(void **state)
{
        struct migrate_options opt = {NULL, NULL, 0};
        struct migrate_report report;
        struct rwerr err;

        (void)state;
        expect_totals_error(
                "('A', 1, 0), ('B', NULL, 0)",
                "locked_in_range row 2 (asset B), column credited: NULL where a value is required");
        expect_totals_error("('A', 1, -5)",
                            "locked_in_range row 1 (asset A), column debited: negative amount");
        expect_totals_error("('A', 1.5, 0)",
                            "locked_in_range row 1 (asset A), column credited: non-integer amount");
        expect_totals_error("('A', 1e80, 0)", "column credited: decimal amount exceeds 2^256-1");
        expect_totals_error("(NULL, 1, 0)", "locked_in_range row 1, column asset: NULL");
        /* Put the reference contract back for the other tests. */
        assert_int_equal(migrate_run(fx_global->admin, &opt, &report, &err), RW_OK);
}

static void migrations_apply_once_and_refuse_tampering(void **state)
{
        struct migrate_options opt = {NULL, NULL, 0};
        struct migrate_report report;
        char sha[65], sql[256];
        struct rwerr err;
        PGresult *res;

        (void)state;
        assert_int_equal(migrate_run(fx_global->admin, &opt, &report, &err), RW_OK);
        assert_int_equal(report.applied, 0);
        assert_int_equal(report.already, sql_embedded_nmigrations); /* every one, once */
        assert_true(report.contract_applied);
        assert_string_equal(report.contract_name, "reference.sql");

        res = PQexec(fx_global->admin,
                     "SELECT sha256 FROM relaywatch_state.schema_migrations WHERE version = 1");
        assert_int_equal(PQntuples(res), 1);
        snprintf(sha, sizeof sha, "%s", PQgetvalue(res, 0, 0));
        PQclear(res);

        /* A released migration whose text no longer matches its record is refused. */
        admin_exec("UPDATE relaywatch_state.schema_migrations SET sha256 = 'tampered' WHERE "
                   "version = 1");
        assert_int_equal(migrate_run(fx_global->admin, &opt, &report, &err), RW_ERR_INVALID);
        assert_non_null(strstr(err.msg, "migration 0001_watchdog_state.sql was applied as "
                                        "0001_watchdog_state.sql with another text"));

        /* A failing migration leaves nothing behind: the whole run rolls back. */
        admin_exec("DELETE FROM relaywatch_state.schema_migrations WHERE version = 1");
        assert_int_equal(migrate_run(fx_global->admin, &opt, &report, &err), RW_ERR_IO);
        assert_non_null(strstr(err.msg, "migration 0001_watchdog_state.sql: ERROR:"));
        assert_non_null(strstr(err.msg, "already exists"));
        assert_int_equal(report.applied, 0);
        res = PQexec(fx_global->admin, "SELECT string_agg(version::text, ',' ORDER BY version) "
                                       "FROM relaywatch_state.schema_migrations");
        {
                char rest[64] = "";
                size_t v;

                for (v = 2; v <= sql_embedded_nmigrations; v++) /* every one but the first */
                        snprintf(rest + strlen(rest), sizeof rest - strlen(rest), "%s%zu",
                                 v > 2 ? "," : "", v);
                assert_string_equal(PQgetvalue(res, 0, 0), rest);
        }
        PQclear(res);

        snprintf(sql, sizeof sql,
                 "INSERT INTO relaywatch_state.schema_migrations (version, name, sha256) "
                 "VALUES (1, '0001_watchdog_state.sql', '%s')",
                 sha);
        admin_exec(sql);
        assert_int_equal(migrate_run(fx_global->admin, &opt, &report, &err), RW_OK);
        assert_int_equal(report.already, sql_embedded_nmigrations);
}

static void checkpoints_and_cursors_survive_a_restart(void **state)
{
        struct dbconn *c = watchdog_conn();
        struct ledger_total rows[2] = {{"BIG \"x\" \\ {y}", {{0}}, {{0}}}, {"SIGIL", {{0}}, {{0}}}};
        struct ledger_totals saved = {2, rows}, loaded = {0, NULL}, none = {0, NULL};
        uint64_t block = 0;
        int64_t cursor = -1;
        int found = -1;
        struct rwerr err;

        (void)state;
        assert_int_equal(dbconn_add_statements(c, state_statements, state_nstatements, &err),
                         RW_OK);
        assert_int_equal(dbconn_ensure(c, &err), RW_OK);
        assert_int_equal(
                state_checkpoint_load(c, "source=1", LEDGER_LOCKED, &loaded, &block, &found, &err),
                RW_OK);
        assert_int_equal(found, 0);
        assert_int_equal(u256_parse_dec(TWO_200, strlen(TWO_200), &rows[1].credited, &err), RW_OK);
        rows[1].debited = u256_from_u64(12345);
        rows[0].credited = u256_from_u64(7);
        /* saved twice: the second replaces the first */
        saved.n = 1;
        assert_int_equal(state_checkpoint_save(c, "source=1", LEDGER_LOCKED, &saved, 700, &err),
                         RW_OK);
        saved.n = 2;
        assert_int_equal(state_checkpoint_save(c, "source=1", LEDGER_LOCKED, &saved, 777, &err),
                         RW_OK);
        /* another chain's, and an empty one, are their own */
        assert_int_equal(state_checkpoint_save(c, "source=2", LEDGER_LOCKED, &none, 5, &err),
                         RW_OK);
        assert_int_equal(state_cursor_save(c, "batches", 42, &err), RW_OK);
        assert_int_equal(state_cursor_save(c, "batches", 43, &err), RW_OK);
        dbconn_free(c);

        /* A new connection, as after a restart. */
        c = watchdog_conn();
        assert_int_equal(dbconn_add_statements(c, state_statements, state_nstatements, &err),
                         RW_OK);
        assert_int_equal(dbconn_ensure(c, &err), RW_OK);
        assert_int_equal(
                state_checkpoint_load(c, "source=1", LEDGER_LOCKED, &loaded, &block, &found, &err),
                RW_OK);
        assert_int_equal(found, 1);
        assert_int_equal(block, 777);
        assert_int_equal(loaded.n, 2);
        assert_string_equal(loaded.rows[0].asset, "BIG \"x\" \\ {y}");
        assert_string_equal(loaded.rows[1].asset, "SIGIL");
        assert_amount(&loaded.rows[1].credited, TWO_200);
        assert_amount(&loaded.rows[1].debited, "12345");
        assert_amount(&loaded.rows[0].credited, "7");
        ledger_totals_free(&loaded);
        assert_int_equal(
                state_checkpoint_load(c, "source=1", LEDGER_MINTED, &loaded, &block, &found, &err),
                RW_OK);
        assert_int_equal(found, 0);
        assert_int_equal(
                state_checkpoint_load(c, "source=3", LEDGER_LOCKED, &loaded, &block, &found, &err),
                RW_OK);
        assert_int_equal(found, 0);
        assert_int_equal(state_cursor_load(c, "batches", &cursor, &found, &err), RW_OK);
        assert_int_equal(found, 1);
        assert_int_equal(cursor, 43);
        assert_int_equal(state_cursor_load(c, "never", &cursor, &found, &err), RW_OK);
        assert_int_equal(found, 0);
        assert_int_equal(cursor, 43);

        /* Never inside a cycle's read-only snapshot. */
        assert_int_equal(ledger_snapshot_begin(c, &err), RW_OK);
        assert_int_equal(state_cursor_save(c, "batches", 44, &err), RW_ERR_IO);
        assert_non_null(strstr(err.msg, "read-only transaction"));
        assert_int_equal(ledger_snapshot_end(c, &err), RW_OK);
        dbconn_free(c);
}

/* Test-only statements prepared beside the ledger's and the state's. */
static const struct dbconn_statement pipeline_extra[] = {
        {"p16_add_one", "SELECT $1::int + 1", 1},
        {"p16_assets", "SELECT count(*) FROM relaywatch.assets", 0},
};

static const struct dbconn_statement pipeline_broken[] = {
        {"p16_ok_before", "SELECT 1", 0},
        {"p16_broken", "SELECT * FROM relaywatch.no_such_view", 0},
        {"p16_ok_after", "SELECT 2", 0},
};

static const struct dbconn_statement pipeline_broken_first[] = {
        {"p16_syntax", "SELEC 1", 0},
        {"p16_never", "SELECT 1", 0},
};

/* Whether `name` is among the connection's prepared statements. */
static int is_prepared(struct dbconn *c, const char *name)
{
        const char *params[1] = {name};
        PGresult *res;
        int found;

        res = PQexecParams(dbconn_pg(c),
                           "SELECT count(*) FROM pg_prepared_statements WHERE name = $1", 1, NULL,
                           params, NULL, NULL, 0);
        if (PQresultStatus(res) != PGRES_TUPLES_OK)
                fail_msg("pg_prepared_statements: %s", PQresultErrorMessage(res));
        found = strcmp(PQgetvalue(res, 0, 0), "1") == 0;
        PQclear(res);
        return found;
}

/*
 * Every statement of every set is prepared in one pipeline on connect: all
 * of them exist afterwards, statement_timeout is set, the connection is out
 * of pipeline mode and queries run (the lazily prepared progress statement
 * too). A statement that cannot be prepared fails the connect naming it and
 * the server's message, not a statement after it; the connection is not
 * used.
 */
static void statements_prepare_in_one_pipeline(void **state)
{
        struct dbconn_config cfg = {0};
        struct dbconn_health h;
        struct ledger_assets assets = {0, NULL};
        struct ledger_progress_list progress = {0, NULL};
        const char *params[1] = {"41"};
        struct dbconn *c;
        struct rwerr err;
        PGresult *res;
        size_t i;

        (void)state;
        cfg.conninfo = fx_global->watchdog_url;
        cfg.name = "ledger";
        cfg.statements = ledger_statements;
        cfg.nstatements = ledger_nstatements;
        cfg.statement_timeout_ms = 4321;
        c = dbconn_new(&cfg, &err);
        assert_non_null(c);
        assert_int_equal(dbconn_add_statements(c, state_statements, state_nstatements, &err),
                         RW_OK);
        assert_int_equal(dbconn_add_statements(c, pipeline_extra,
                                               sizeof pipeline_extra / sizeof pipeline_extra[0],
                                               &err),
                         RW_OK);
        if (dbconn_ensure(c, &err) != RW_OK)
                fail_msg("%s", err.msg);
        assert_int_equal(PQpipelineStatus(dbconn_pg(c)), PQ_PIPELINE_OFF);
        for (i = 0; i < ledger_nstatements; i++)
                if (!is_prepared(c, ledger_statements[i].name))
                        fail_msg("%s is not prepared", ledger_statements[i].name);
        for (i = 0; i < state_nstatements; i++)
                if (!is_prepared(c, state_statements[i].name))
                        fail_msg("%s is not prepared", state_statements[i].name);
        assert_true(is_prepared(c, "p16_add_one"));
        assert_true(is_prepared(c, "p16_assets"));
        res = dbconn_exec(c, "SHOW statement_timeout", PGRES_TUPLES_OK, &err);
        assert_non_null(res);
        assert_string_equal(PQgetvalue(res, 0, 0), "4321ms");
        PQclear(res);
        res = dbconn_exec_prepared(c, "p16_add_one", 1, params, PGRES_TUPLES_OK, &err);
        assert_non_null(res);
        assert_string_equal(PQgetvalue(res, 0, 0), "42");
        PQclear(res);
        res = dbconn_exec_prepared(c, "p16_assets", 0, NULL, PGRES_TUPLES_OK, &err);
        assert_non_null(res);
        assert_string_equal(PQgetvalue(res, 0, 0), "2");
        PQclear(res);
        assert_int_equal(ledger_snapshot_begin(c, &err), RW_OK);
        if (ledger_assets(c, &assets, &err) != RW_OK ||
            ledger_indexed_through(c, &progress, &err) != RW_OK)
                fail_msg("%s", err.msg);
        assert_int_equal(assets.n, 2);
        assert_int_equal(ledger_snapshot_end(c, &err), RW_OK);
        ledger_assets_free(&assets);
        ledger_progress_free(&progress);
        dbconn_health(c, &h);
        assert_true(h.connected);
        assert_int_equal(h.connects, 1);
        dbconn_free(c);

        /* A broken statement in the middle of a later set: named, and nothing after it. */
        c = dbconn_new(&cfg, &err);
        assert_non_null(c);
        assert_int_equal(dbconn_add_statements(c, pipeline_broken,
                                               sizeof pipeline_broken / sizeof pipeline_broken[0],
                                               &err),
                         RW_OK);
        assert_int_equal(dbconn_ensure(c, &err), RW_ERR_IO);
        if (strstr(err.msg, "ledger (postgres://relaywatch@") != err.msg ||
            strstr(err.msg, ": preparing statement p16_broken: ERROR:  relation "
                            "\"relaywatch.no_such_view\" does not exist") == NULL ||
            strstr(err.msg, "p16_ok_after") != NULL || strchr(err.msg, '\n') != NULL)
                fail_msg("unexpected message: %s", err.msg);
        assert_null(dbconn_pg(c));
        dbconn_health(c, &h);
        assert_false(h.connected);
        assert_int_equal(h.connects, 0);
        assert_int_equal(h.failures, 1);
        assert_string_equal(h.last_error, err.msg);
        assert_null(dbconn_exec_prepared(c, "ledger_assets", 0, NULL, PGRES_TUPLES_OK, &err));
        assert_non_null(strstr(err.msg, "not connected"));
        dbconn_free(c);

        /* A syntax error in the first statement of the only set. */
        cfg.statements = pipeline_broken_first;
        cfg.nstatements = sizeof pipeline_broken_first / sizeof pipeline_broken_first[0];
        c = dbconn_new(&cfg, &err);
        assert_non_null(c);
        assert_int_equal(dbconn_ensure(c, &err), RW_ERR_IO);
        if (strstr(err.msg, ": preparing statement p16_syntax: ERROR:  syntax error at or near "
                            "\"SELEC\"") == NULL ||
            strstr(err.msg, "p16_never") != NULL)
                fail_msg("unexpected message: %s", err.msg);
        assert_null(dbconn_pg(c));
        dbconn_free(c);
}

/* Totals as "ASSET credited debited" lines, to compare two reads whole. */
static void totals_text(const struct ledger_totals *t, char *out, size_t cap)
{
        size_t i, len = 0;

        out[0] = '\0';
        for (i = 0; i < t->n && len < cap; i++) {
                char cr[U256_DEC_SIZE], db[U256_DEC_SIZE];

                u256_format_dec(&t->rows[i].credited, cr, sizeof cr);
                u256_format_dec(&t->rows[i].debited, db, sizeof db);
                len += (size_t)snprintf(out + len, cap - len, "%s %s %s\n", t->rows[i].asset, cr,
                                        db);
        }
}

static void totals_now(struct dbconn *c, enum ledger_side side, int64_t after, uint64_t through,
                       char *out, size_t cap)
{
        struct ledger_totals t;

        totals_at(c, side, after, through, &t);
        totals_text(&t, out, cap);
        ledger_totals_free(&t);
}

static void send_ahead(struct dbconn *c, const struct ledger_read *r, size_t n)
{
        struct rwerr err;

        if (ledger_send_ahead(c, r, n, &err) != RW_OK)
                fail_msg("%s", err.msg);
}

/*
 * Reads sent ahead in one pipeline give the results the same reads give
 * one by one, taken in any order; a command not sent ahead drops what is
 * left (and the read runs again when asked); a statement that fails fails
 * alone; a connection cut while results are due is reported and dropped.
 */
static void reads_sent_ahead_are_taken_in_any_order(void **state)
{
        struct dbconn *c = watchdog_conn();
        char locked[512], minted[512], got[512];
        struct ledger_read r[3];
        struct ledger_assets a = {0, NULL};
        struct dbconn_health h;
        struct rwerr err;
        uint64_t op = 0, cycle = 0;
        PGresult *res;
        int pid;

        (void)state;
        deposit(2, "1000000000000000000", 10);
        deposit(1, "7", 30);
        mint(1, 2, "1000000000000000000", 11);
        totals_now(c, LEDGER_LOCKED, -1, 30, locked, sizeof locked);
        totals_now(c, LEDGER_MINTED, -1, 40, minted, sizeof minted);
        assert_non_null(strstr(locked, "SIGIL 1000000000000000000 0"));

        /* Three ahead, taken last first. */
        ledger_read_assets(&r[0]);
        assert_int_equal(ledger_read_totals(&r[1], LEDGER_LOCKED, -1, 30, &err), RW_OK);
        assert_int_equal(ledger_read_totals(&r[2], LEDGER_MINTED, -1, 40, &err), RW_OK);
        send_ahead(c, r, 3);
        totals_now(c, LEDGER_MINTED, -1, 40, got, sizeof got);
        assert_string_equal(got, minted);
        assert_int_equal(ledger_assets(c, &a, &err), RW_OK);
        assert_int_equal(a.n, 2);
        assert_string_equal(a.rows[1].asset, "SIGIL");
        ledger_assets_free(&a);
        totals_now(c, LEDGER_LOCKED, -1, 30, got, sizeof got);
        assert_string_equal(got, locked);
        dbconn_health(c, &h);
        assert_int_equal(h.sent_ahead, 3);
        assert_int_equal(h.sent_ahead_unused, 0);

        /* Other parameters are another read: it runs on its own and drops the rest. */
        send_ahead(c, r + 1, 2);
        totals_now(c, LEDGER_LOCKED, -1, 9, got, sizeof got);
        assert_non_null(strstr(got, "SIGIL 0 0"));
        totals_now(c, LEDGER_LOCKED, -1, 30, got, sizeof got);
        assert_string_equal(got, locked);
        totals_now(c, LEDGER_MINTED, -1, 40, got, sizeof got);
        assert_string_equal(got, minted);
        dbconn_health(c, &h);
        assert_int_equal(h.sent_ahead, 5);
        assert_int_equal(h.sent_ahead_unused, 2);

        /* A statement the server refuses fails alone; the one after it is still served. */
        {
                const char *bad[2] = {"not-a-number", "10"};
                struct ahead_query q[2] = {{"ledger_batches_after", 2, bad},
                                           {"ledger_latest_ids", 0, NULL}};

                assert_int_equal(dbconn_send_ahead(c, q, 2, &err), RW_OK);
                res = dbconn_exec_prepared(c, "ledger_batches_after", 2, bad, PGRES_TUPLES_OK,
                                           &err);
                assert_null(res);
                assert_non_null(strstr(err.msg, "ledger_batches_after"));
                assert_non_null(strstr(err.msg, "not-a-number"));
                assert_int_equal(ledger_latest_ids(c, &op, &cycle, &err), RW_OK);
                dbconn_health(c, &h);
                assert_true(h.connected);
                assert_int_equal(h.sent_ahead_unused, 2);
        }

        /* Too many, or a parameter too long, is refused before anything is sent. */
        {
                const char *long_param[1] = {"123456789012345678901234567890123"};
                struct ahead_query q[1] = {{"ledger_batch_leaves", 1, long_param}};

                assert_int_equal(dbconn_send_ahead(c, q, 1, &err), RW_ERR_RANGE);
                assert_non_null(strstr(err.msg, "statements to send ahead"));
                assert_int_equal(dbconn_send_ahead(c, q, AHEAD_MAX + 1, &err), RW_ERR_RANGE);
        }

        /*
         * The connection cut while results are due (the reads wait on a lock
         * the fixture holds, so none has answered yet): the read fails, the
         * connection is dropped, and the next ensure reconnects.
         */
        pid = PQbackendPID(dbconn_pg(c));
        admin_exec("BEGIN");
        admin_exec("LOCK TABLE relayer.assets IN ACCESS EXCLUSIVE MODE");
        send_ahead(c, r, 3);
        {
                char sql[256];
                int waited;

                snprintf(sql, sizeof sql,
                         "SELECT 1 FROM pg_stat_activity WHERE pid = %d AND wait_event_type = "
                         "'Lock'",
                         pid);
                for (waited = 0; waited < 100; waited++) {
                        PGresult *w = PQexec(fx_global->admin, sql);
                        int blocked = PQntuples(w) == 1;

                        PQclear(w);
                        if (blocked)
                                break;
                        nanosleep(&(struct timespec){0, 20000000L}, NULL);
                }
                assert_true(waited < 100);
                snprintf(sql, sizeof sql, "SELECT pg_terminate_backend(%d)", pid);
                admin_exec(sql);
        }
        admin_exec("COMMIT");
        assert_int_equal(ledger_assets(c, &a, &err), RW_ERR_IO);
        dbconn_health(c, &h);
        assert_false(h.connected);
        assert_int_equal(dbconn_ensure(c, &err), RW_OK);
        totals_now(c, LEDGER_LOCKED, -1, 30, got, sizeof got);
        assert_string_equal(got, locked);
        dbconn_free(c);
}

/* One cycle's ledger reads, at these heights, with these running totals, into a new snapshot. */
/*
 * One cycle's ledger reads with window `w` at the given pinned heights, the
 * roots looked up as the cycle does after them, then a recount when asked.
 */
static void observe_window_at(struct dbconn *c, const struct observe_window *w,
                              const struct observe_totals *totals, uint64_t source,
                              uint64_t execution, int recount, struct snapshot *s)
{
        struct rwerr err;

        memset(s, 0, sizeof *s);
        assert_int_equal(snapshot_alloc_assets_accounts(s, 2, 0), RW_OK);
        snprintf(s->assets[0].name, sizeof s->assets[0].name, "BIG");
        snprintf(s->assets[1].name, sizeof s->assets[1].name, "SIGIL");
        s->chains[SNAP_SOURCE].pinned = source;
        s->chains[SNAP_EXECUTION].pinned = execution;
        assert_int_equal(ledger_snapshot_begin(c, &err), RW_OK);
        s->ledger.ok = 1;
        if (observe_ledger_read(c, w, totals, s, &err) != RW_OK ||
            observe_ledger_roots(c, s, &err) != RW_OK)
                fail_msg("%s", err.msg);
        if (recount && observe_ledger_recount(c, totals, s, &err) != RW_OK)
                fail_msg("%s", err.msg);
        assert_int_equal(ledger_snapshot_end(c, &err), RW_OK);
}

/* observe_window_at for a full sweep's window. */
static void observe_at(struct dbconn *c, const struct observe_totals *totals, uint64_t source,
                       uint64_t execution, int recount, struct snapshot *s)
{
        struct observe_window w = {-1, 0, 0, -1, -1, 0, 0, 0};

        observe_window_at(c, &w, totals, source, execution, recount, s);
}

/*
 * The cycle's totals since the first block come from running totals: a
 * row written late at a block already counted is missed until a full sum
 * (a recount, or the schedule), which puts it in and says how many assets
 * changed; the running totals take the full figures from then on. Every
 * read the trackers make is the one they described to be sent ahead.
 */
static void running_totals_miss_a_late_row_until_a_full_sum(void **state)
{
        struct dbconn *c = watchdog_conn();
        struct observe_totals t = {{totals_tracker_new(LEDGER_LOCKED, 60000),
                                    totals_tracker_new(LEDGER_MINTED, 60000)},
                                   1000};
        struct dbconn_health h;
        struct snapshot s;

        (void)state;
        assert_non_null(t.side[0]);
        assert_non_null(t.side[1]);
        deposit(2, "100", 10);
        deposit(1, "7", 20);
        mint(1, 2, "100", 11);

        /* the first cycle sums in full */
        observe_at(c, &t, 30, 30, 0, &s);
        assert_false(s.ledger.totals_running);
        assert_amount(&s.ledger.assets[1].deposited, "100");
        assert_amount(&s.ledger.assets[1].minted, "100");
        snapshot_free(&s);

        /* a deposit at a new block is counted; one written late at block 25 is not */
        deposit(2, "1", 33);
        deposit(2, "5", 25);
        t.now_ms += 1000;
        observe_at(c, &t, 35, 35, 0, &s);
        assert_true(s.ledger.totals_running);
        assert_amount(&s.ledger.assets[1].deposited, "101");
        assert_int_equal(s.ledger.totals_changed, 0);
        snapshot_free(&s);

        /* a recount (a cycle not ok on running totals) sums in full and says what changed */
        t.now_ms += 1000;
        observe_at(c, &t, 35, 35, 1, &s);
        assert_false(s.ledger.totals_running);
        assert_amount(&s.ledger.assets[1].deposited, "106");
        assert_amount(&s.ledger.assets[0].deposited, "7");
        assert_int_equal(s.ledger.totals_changed, 1);
        snapshot_free(&s);

        /* the running totals carry the full figures on */
        deposit(1, "3", 40);
        t.now_ms += 1000;
        observe_at(c, &t, 40, 40, 0, &s);
        assert_true(s.ledger.totals_running);
        assert_amount(&s.ledger.assets[1].deposited, "106");
        assert_amount(&s.ledger.assets[0].deposited, "10");
        snapshot_free(&s);

        /* a full sum on schedule (60 s on) compares too: the late row is found without a recount */
        deposit(2, "2", 38);
        t.now_ms += 60000;
        observe_at(c, &t, 45, 45, 0, &s);
        assert_false(s.ledger.totals_running);
        assert_amount(&s.ledger.assets[1].deposited, "108");
        assert_int_equal(s.ledger.totals_changed, 1);
        snapshot_free(&s);

        /* heights that go back are summed in full */
        t.now_ms += 1000;
        observe_at(c, &t, 20, 20, 0, &s);
        assert_false(s.ledger.totals_running);
        assert_amount(&s.ledger.assets[1].deposited, "100");
        snapshot_free(&s);

        dbconn_health(c, &h);
        assert_true(h.sent_ahead > 0);
        assert_int_equal(h.sent_ahead_unused, 0);
        totals_tracker_free(t.side[0]);
        totals_tracker_free(t.side[1]);
        dbconn_free(c);
}

static void restarted_postgres_is_reconnected(void **state)
{
        struct dbconn_config cfg = {0};
        struct dbconn_health h;
        struct dbconn *c;
        struct rwerr err;
        char cmd[1024];
        PGresult *res;
        int i;

        (void)state;
        cfg.conninfo = fx_global->watchdog_url;
        cfg.name = "ledger";
        cfg.statements = ledger_statements;
        cfg.nstatements = ledger_nstatements;
        cfg.failure_threshold = 2;
        c = dbconn_new(&cfg, &err);
        assert_non_null(c);
        assert_int_equal(dbconn_ensure(c, &err), RW_OK);

        snprintf(cmd, sizeof cmd, "%s/scripts/stack-service %s postgres restart > /dev/null 2>&1",
                 getenv("RELAYWATCH_SOURCE_DIR"), stack_env_get(fx_global->env, "STACK_DIR"));
        assert_int_equal(system(cmd), 0);
        /* The old connection is dead: the first query fails and says so... */
        assert_null(dbconn_exec(c, "SELECT 1", PGRES_TUPLES_OK, &err));
        dbconn_health(c, &h);
        assert_int_equal(h.failures, 1);
        assert_false(h.connected);
        /* ...and the next ensure reconnects and prepares again. */
        assert_int_equal(dbconn_ensure(c, &err), RW_OK);
        res = dbconn_exec_prepared(c, "ledger_pending_operations", 0, NULL, PGRES_TUPLES_OK, &err);
        assert_non_null(res);
        PQclear(res);
        dbconn_health(c, &h);
        assert_int_equal(h.connects, 2);
        assert_int_equal(h.consecutive_failures, 0);

        /* Down for good: DB_CONNECTION_LOST after the threshold, with backoff between tries. */
        snprintf(cmd, sizeof cmd, "%s/scripts/stack-service %s postgres stop > /dev/null 2>&1",
                 getenv("RELAYWATCH_SOURCE_DIR"), stack_env_get(fx_global->env, "STACK_DIR"));
        assert_int_equal(system(cmd), 0);
        assert_null(dbconn_exec(c, "SELECT 1", PGRES_TUPLES_OK, &err));
        assert_int_equal(dbconn_ensure(c, &err), RW_ERR_IO);    /* second failure */
        assert_null(strstr(err.msg, "postgres://relaywatch:")); /* no password in sight */
        dbconn_health(c, &h);
        assert_true(h.connection_lost);
        assert_int_equal(dbconn_ensure(c, &err), RW_ERR_IO);
        assert_non_null(strstr(err.msg, "next attempt in"));

        snprintf(cmd, sizeof cmd, "%s/scripts/stack-service %s postgres start > /dev/null 2>&1",
                 getenv("RELAYWATCH_SOURCE_DIR"), stack_env_get(fx_global->env, "STACK_DIR"));
        assert_int_equal(system(cmd), 0);
        for (i = 0; i < 100 && dbconn_ensure(c, &err) != RW_OK; i++)
                nanosleep(&(struct timespec){0, 100000000L}, NULL);
        dbconn_health(c, &h);
        assert_true(h.connected);
        assert_false(h.connection_lost);
        dbconn_free(c);
        /* The fixture's own admin connection was cut too. */
        PQreset(fx_global->admin);
}

/* Asserts a failed read whose message holds `needle`. */
static void assert_error(int rc, const struct rwerr *err, const char *needle)
{
        if (rc == RW_OK)
                fail_msg("expected an error with \"%s\", got success", needle);
        if (strstr(err->msg, needle) == NULL)
                fail_msg("expected an error with \"%s\", got: %s", needle, err->msg);
}

/* Puts the reference contract back after a test replaced part of it. */
static int restore_contract(void **state)
{
        struct migrate_options opt = {NULL, NULL, 0};
        struct migrate_report report;
        struct rwerr err;

        (void)state;
        if (migrate_run(fx_global->admin, &opt, &report, &err) != RW_OK) {
                fprintf(stderr, "%s\n", err.msg);
                return -1;
        }
        return 0;
}

/* The merkle_root batch_row gives `root`: 0xa0, zeros, `root` in the last bytes. */
static void root_of(long root, uint8_t out[32])
{
        int i;

        memset(out, 0, 32);
        out[0] = 0xa0;
        for (i = 0; i < 7; i++)
                out[31 - i] = (uint8_t)((unsigned long)root >> (8 * i));
}

/*
 * A settlement batch with root root_of(root), created at `created_at`;
 * anchored at `anchored_at` (and at block 100 + number), or only created
 * when that is NULL.
 */
static void batch_row(long number, long root, const char *created_at, const char *anchored_at)
{
        char sql[1024];

        if (anchored_at != NULL)
                snprintf(sql, sizeof sql,
                         "INSERT INTO relayer.settlement_batch (batch_number, merkle_root, "
                         "leaf_count, status, anchor_tx_hash, anchor_block, relayer_signature, "
                         "created_at, anchored_at) VALUES (%ld, decode('a' || lpad(to_hex(%ld), "
                         "63, '0'), 'hex'), 1, 'anchored', decode(repeat('cd', 32), 'hex'), %ld, "
                         "decode(repeat('ef', 65), 'hex'), '%s', '%s')",
                         number, root, 100 + number, created_at, anchored_at);
        else
                snprintf(sql, sizeof sql,
                         "INSERT INTO relayer.settlement_batch (batch_number, merkle_root, "
                         "leaf_count, status, relayer_signature, created_at) VALUES (%ld, "
                         "decode('a' || lpad(to_hex(%ld), 63, '0'), 'hex'), 1, 'created', "
                         "decode(repeat('ef', 65), 'hex'), '%s')",
                         number, root, created_at);
        admin_exec(sql);
}

/* Withdrawal `id` of `amount` SIGIL in `batch`, as leaf `index` with hash repeat(hash_byte). */
static void leaf_row(long batch, int index, long id, const char *amount, const char *hash_byte)
{
        char sql[512];

        burn_and_release(id, 2, amount, 60, batch, -1);
        snprintf(sql, sizeof sql,
                 "INSERT INTO relayer.batch_leaves VALUES (%ld, %d, %ld, decode(repeat('%s', 32), "
                 "'hex'))",
                 batch, index, id, hash_byte);
        admin_exec(sql);
}

static void batches_carry_timestamps_and_leaves_their_batch(void **state)
{
        struct dbconn *c = watchdog_conn();
        struct ledger_batches b = {0, NULL};
        struct ledger_leaves l = {0, NULL};
        struct rwerr err;

        (void)state;
        batch_row(1, 1, "2024-01-02 03:04:05.678+00", NULL);
        batch_row(2, 2, "2024-01-02 04:04:05.678+01", "2024-01-02 03:05:00.001+00");
        batch_row(3, 3, "2023-12-31 23:59:59.999+00", "2024-01-01 00:00:00+00");
        /* Inserted out of order: the readers give them by batch, then leaf index. */
        leaf_row(2, 0, 21, "2100", "21");
        leaf_row(1, 1, 12, "1200", "12");
        leaf_row(3, 0, 31, "3100", "31");
        leaf_row(1, 0, 11, "1100", "11");

        assert_int_equal(ledger_batches_after(c, 0, 100, &b, &err), RW_OK);
        assert_int_equal(b.n, 3);
        assert_int_equal(b.rows[0].batch_number, 1);
        assert_false(b.rows[0].anchored);
        assert_false(b.rows[0].has_anchor_block);
        assert_int_equal(b.rows[0].created_ms, 1704164645678LL);
        assert_int_equal(b.rows[0].anchored_ms, -1); /* not anchored */
        assert_int_equal(b.rows[1].batch_number, 2);
        assert_true(b.rows[1].anchored);
        assert_int_equal(b.rows[1].anchor_block, 102);
        assert_int_equal(b.rows[1].created_ms, 1704164645678LL); /* same instant, other zone */
        assert_int_equal(b.rows[1].anchored_ms, 1704164700001LL);
        assert_int_equal(b.rows[2].created_ms, 1704067199999LL);
        assert_int_equal(b.rows[2].anchored_ms, 1704067200000LL);
        ledger_batches_free(&b);
        assert_int_equal(ledger_batches_after(c, 1, 1, &b, &err), RW_OK);
        assert_int_equal(b.n, 1); /* max_rows */
        assert_int_equal(b.rows[0].batch_number, 2);
        ledger_batches_free(&b);

        assert_int_equal(ledger_batch_leaves(c, 1, &l, &err), RW_OK);
        assert_int_equal(l.n, 2);
        assert_int_equal(l.rows[0].batch_number, 1);
        assert_int_equal(l.rows[0].leaf_index, 0);
        assert_int_equal(l.rows[0].withdrawal_id, 11);
        assert_int_equal(l.rows[1].batch_number, 1);
        assert_int_equal(l.rows[1].leaf_index, 1);
        assert_int_equal(l.rows[1].withdrawal_id, 12);
        ledger_leaves_free(&l);

        /* Batches 1 and 2, in order, each leaf with its batch and values. */
        assert_int_equal(ledger_leaves_in_batches(c, 0, 2, &l, &err), RW_OK);
        assert_int_equal(l.n, 3);
        assert_int_equal(l.rows[0].batch_number, 1);
        assert_int_equal(l.rows[0].leaf_index, 0);
        assert_int_equal(l.rows[0].withdrawal_id, 11);
        assert_amount(&l.rows[0].amount, "1100");
        assert_int_equal(l.rows[0].leaf_hash[31], 0x11);
        assert_int_equal(l.rows[0].token[0], 0x5f);
        assert_int_equal(l.rows[0].token[19], 0xa3);
        assert_int_equal(l.rows[0].recipient[0], 0xcc);
        assert_int_equal(l.rows[1].batch_number, 1);
        assert_int_equal(l.rows[1].leaf_index, 1);
        assert_int_equal(l.rows[1].withdrawal_id, 12);
        assert_int_equal(l.rows[1].leaf_hash[0], 0x12);
        assert_int_equal(l.rows[2].batch_number, 2);
        assert_int_equal(l.rows[2].leaf_index, 0);
        assert_int_equal(l.rows[2].withdrawal_id, 21);
        assert_amount(&l.rows[2].amount, "2100");
        ledger_leaves_free(&l);

        /* The range is after < n <= through. */
        assert_int_equal(ledger_leaves_in_batches(c, 2, 3, &l, &err), RW_OK);
        assert_int_equal(l.n, 1);
        assert_int_equal(l.rows[0].batch_number, 3);
        assert_int_equal(l.rows[0].withdrawal_id, 31);
        ledger_leaves_free(&l);
        assert_int_equal(ledger_leaves_in_batches(c, 3, 100, &l, &err), RW_OK);
        assert_int_equal(l.n, 0);
        ledger_leaves_free(&l);
        assert_int_equal(ledger_leaves_in_batches(c, 1, 1, &l, &err), RW_OK);
        assert_int_equal(l.n, 0);
        ledger_leaves_free(&l);
        assert_int_equal(ledger_batch_leaves(c, 9, &l, &err), RW_OK);
        assert_int_equal(l.n, 0);
        ledger_leaves_free(&l);

        /* Cursors beyond a bigint are refused before any query. */
        assert_error(ledger_leaves_in_batches(c, 0, UINT64_MAX, &l, &err), &err,
                     "leaves_in_batches: through_batch 18446744073709551615 is above the largest "
                     "bigint");
        assert_error(ledger_batches_after(c, UINT64_MAX, 10, &b, &err), &err,
                     "batches_after: after_batch 18446744073709551615");
        dbconn_free(c);
}

/* Replaces the contract's leaves_in_batches with fixed rows (`values` of its 7 columns). */
static void weird_leaves(const char *values)
{
        char sql[2048];

        snprintf(sql, sizeof sql,
                 "CREATE OR REPLACE FUNCTION relaywatch.leaves_in_batches(after_batch bigint, "
                 "through_batch bigint) RETURNS TABLE (batch_number bigint, leaf_index integer, "
                 "withdrawal_id bigint, token text, recipient text, amount numeric, leaf_hash "
                 "text) LANGUAGE sql STABLE AS $$ SELECT * FROM (VALUES %s) AS v(b, i, w, t, r, "
                 "a, h) $$",
                 values);
        admin_exec(sql);
}

#define ADDR "'0x5fbdb2315678afecb367f032d93f642f64180aa3'"
#define HASH                                                                                       \
        "'0x"                                                                                      \
        "7777777777777777777777777777777777777777777777777777777777777777'"
#define LEAF(b, i, hash)                                                                           \
        "(" #b "::bigint, " #i ", 7::bigint, " ADDR ", " ADDR ", 1::numeric, " hash ")"

static void leaves_null_garbage_and_disorder_are_named(void **state)
{
        struct dbconn *c;
        struct ledger_leaves l = {0, NULL};
        struct rwerr err;

        (void)state;
        weird_leaves(LEAF(1, 0, HASH) ", " LEAF(1, 1, "NULL::text"));
        c = watchdog_conn();
        assert_error(ledger_leaves_in_batches(c, 0, 2, &l, &err), &err,
                     "leaves_in_batches row 2 (batch 1), column leaf_hash: NULL where a value is "
                     "required");
        assert_null(l.rows);

        weird_leaves(LEAF(1, 0, HASH) ", " LEAF(1, 1, "'0x77'"));
        assert_error(ledger_leaves_in_batches(c, 0, 2, &l, &err), &err,
                     "leaves_in_batches row 2 (batch 1), column leaf_hash");

        weird_leaves(LEAF(1, 1, HASH) ", " LEAF(1, 0, HASH));
        assert_error(ledger_leaves_in_batches(c, 0, 2, &l, &err), &err,
                     "leaves_in_batches row 2 (batch 1), column leaf_index: leaf 0 comes after "
                     "leaf 1 of batch 1");
        weird_leaves(LEAF(2, 0, HASH) ", " LEAF(1, 5, HASH));
        assert_error(ledger_leaves_in_batches(c, 0, 2, &l, &err), &err,
                     "leaves_in_batches row 2 (batch 1), column leaf_index: leaf 5 comes after "
                     "leaf 0 of batch 2");
        /* A repeated leaf is no read error: the root recomputed from the leaves will say. */
        weird_leaves(LEAF(1, 0, HASH) ", " LEAF(1, 0, HASH));
        assert_int_equal(ledger_leaves_in_batches(c, 0, 2, &l, &err), RW_OK);
        assert_int_equal(l.n, 2);
        assert_int_equal(l.rows[1].leaf_index, 0);
        ledger_leaves_free(&l);

        weird_leaves(LEAF(1, 0, HASH) ", " LEAF(3, 0, HASH));
        assert_error(ledger_leaves_in_batches(c, 0, 2, &l, &err), &err,
                     "leaves_in_batches row 2, column batch_number: batch 3 is outside the range "
                     "asked for (0, 2]");
        weird_leaves("(NULL::bigint, 0, 7::bigint, " ADDR ", " ADDR ", 1::numeric, " HASH ")");
        assert_error(
                ledger_leaves_in_batches(c, 0, 2, &l, &err), &err,
                "leaves_in_batches row 1, column batch_number: NULL where a value is required");
        weird_leaves("(1::bigint, 0, 7::bigint, " ADDR ", " ADDR ", -1::numeric, " HASH ")");
        assert_error(ledger_leaves_in_batches(c, 0, 2, &l, &err), &err,
                     "leaves_in_batches row 1 (batch 1), column amount: negative amount");
        assert_null(l.rows);
        dbconn_free(c);
}

/* Replaces batches_after with one row whose created_at and anchored_at are given. */
static void weird_batch_times(const char *created_at, const char *anchored_at)
{
        char sql[2048];

        snprintf(sql, sizeof sql,
                 "CREATE OR REPLACE FUNCTION relaywatch.batches_after(after_batch bigint, max_rows "
                 "integer) RETURNS TABLE (batch_number bigint, merkle_root text, leaf_count "
                 "integer, status text, anchor_block bigint, anchor_tx_hash text, "
                 "relayer_signature text, created_at timestamptz, anchored_at timestamptz) "
                 "LANGUAGE sql STABLE AS $$ SELECT 4::bigint, '0x' || repeat('ab', 32), 1, "
                 "'created', NULL::bigint, NULL::text, '0x' || repeat('ef', 65), %s::timestamptz, "
                 "%s::timestamptz $$",
                 created_at, anchored_at);
        admin_exec(sql);
}

static void batch_timestamps_null_and_garbage_are_named(void **state)
{
        struct dbconn *c;
        struct ledger_batches b = {0, NULL};
        struct rwerr err;

        (void)state;
        weird_batch_times("NULL", "NULL");
        c = watchdog_conn();
        assert_error(ledger_batches_after(c, 0, 10, &b, &err), &err,
                     "batches_after row 1 (batch 4), column created_at: NULL where a value is "
                     "required");
        weird_batch_times("'1969-12-31 23:59:59+00'", "NULL");
        assert_error(ledger_batches_after(c, 0, 10, &b, &err), &err,
                     "batches_after row 1 (batch 4), column created_at: -1000 is outside");
        weird_batch_times("'1970-01-01 00:00:00.002+00'", "'1970-01-01 00:00:00+00'");
        assert_int_equal(ledger_batches_after(c, 0, 10, &b, &err), RW_OK);
        assert_int_equal(b.n, 1);
        assert_int_equal(b.rows[0].created_ms, 2);
        assert_int_equal(b.rows[0].anchored_ms, 0); /* the epoch itself, not "not anchored" */
        ledger_batches_free(&b);
        /* A contract that ignores the cursor would have the watchdog read batch 4 forever. */
        assert_error(ledger_batches_after(c, 4, 10, &b, &err), &err,
                     "batches_after row 1, column batch_number: 4 is not above the cursor 4");
        dbconn_free(c);
}

static void assets_are_read_by_name(void **state)
{
        struct dbconn *c = watchdog_conn();
        struct ledger_assets a = {0, NULL};
        struct rwerr err;

        (void)state;
        admin_exec("INSERT INTO relayer.assets (symbol, decimals, source_token, bridged_token) "
                   "VALUES ('ALPHA', 6, '\\x3333333333333333333333333333333333333333', "
                   "'\\x4444444444444444444444444444444444444444')");
        assert_int_equal(ledger_assets(c, &a, &err), RW_OK);
        assert_int_equal(a.n, 3);
        assert_string_equal(a.rows[0].asset, "ALPHA");
        assert_int_equal(a.rows[0].decimals, 6);
        assert_int_equal(a.rows[0].source_token[0], 0x33);
        assert_int_equal(a.rows[0].bridged_token[19], 0x44);
        assert_string_equal(a.rows[1].asset, "BIG");
        assert_int_equal(a.rows[1].decimals, 0);
        assert_string_equal(a.rows[2].asset, "SIGIL");
        assert_int_equal(a.rows[2].decimals, 18);
        assert_int_equal(a.rows[2].source_token[0], 0x5f);
        assert_int_equal(a.rows[2].source_token[19], 0xa3);
        assert_int_equal(a.rows[2].bridged_token[19], 0xa4);
        ledger_assets_free(&a);

        admin_exec("TRUNCATE relayer.assets CASCADE");
        assert_int_equal(ledger_assets(c, &a, &err), RW_OK);
        assert_int_equal(a.n, 0);
        ledger_assets_free(&a);
        ledger_assets_free(NULL);
        dbconn_free(c);
}

/* Replaces the assets view with fixed rows of (asset, decimals, source_token, bridged_token). */
static void weird_assets(const char *values)
{
        char sql[1024];

        snprintf(sql, sizeof sql,
                 "CREATE OR REPLACE VIEW relaywatch.assets AS SELECT * FROM (VALUES %s) AS "
                 "v(asset, decimals, source_token, bridged_token)",
                 values);
        admin_exec(sql);
}

static void asset_null_and_garbage_are_named(void **state)
{
        struct dbconn *c;
        struct ledger_assets a = {0, NULL};
        struct rwerr err;

        (void)state;
        weird_assets("('A'::text, 18, " ADDR "::text, " ADDR "::text), ('B', 78, " ADDR ", " ADDR
                     ")");
        c = watchdog_conn();
        assert_error(ledger_assets(c, &a, &err), &err,
                     "assets row 2 (asset B), column decimals: 78 is outside 0..77");
        weird_assets("('A'::text, 18, " ADDR "::text, '0x1234'::text)");
        assert_error(ledger_assets(c, &a, &err), &err,
                     "assets row 1 (asset A), column bridged_token");
        weird_assets("('A'::text, 18, 'zz'::text, " ADDR "::text)");
        assert_error(ledger_assets(c, &a, &err), &err,
                     "assets row 1 (asset A), column source_token: \"zz\" is not 0x-hex");
        weird_assets("(NULL::text, 18, " ADDR "::text, " ADDR "::text)");
        assert_error(ledger_assets(c, &a, &err), &err,
                     "assets row 1, column asset: NULL where a value is required");
        weird_assets("('A'::text, NULL::integer, " ADDR "::text, " ADDR "::text)");
        assert_error(ledger_assets(c, &a, &err), &err,
                     "assets row 1 (asset A), column decimals: NULL where a value is required");
        assert_null(a.rows);
        dbconn_free(c);
}

static void duplicate_batches_are_listed(void **state)
{
        struct dbconn *c = watchdog_conn();
        struct ledger_duplicates d = {0, NULL};
        struct ledger_batches b = {0, NULL};
        char want[160], root[80];
        struct rwerr err;
        size_t len;
        long i;

        (void)state;
        batch_row(1, 1, "2024-01-01 00:00:00+00", NULL);
        batch_row(2, 2, "2024-01-01 00:00:00+00", NULL);
        assert_int_equal(ledger_duplicate_batches(c, &d, &err), RW_OK);
        assert_int_equal(d.n, 0); /* the reference schema's constraints keep it so */
        ledger_duplicates_free(&d);

        /* A schema without those constraints: root 5 under batches 6 and 5, batch 7 twice. */
        admin_exec("ALTER TABLE relayer.settlement_batch DROP CONSTRAINT "
                   "settlement_batch_merkle_root_key");
        admin_exec("ALTER TABLE relayer.settlement_batch DROP CONSTRAINT settlement_batch_pkey "
                   "CASCADE");
        batch_row(6, 5, "2024-01-01 00:00:00+00", NULL);
        batch_row(5, 5, "2024-01-01 00:00:00+00", NULL);
        batch_row(7, 70, "2024-01-01 00:00:00+00", NULL);
        batch_row(7, 71, "2024-01-01 00:00:00+00", NULL);
        assert_int_equal(ledger_duplicate_batches(c, &d, &err), RW_OK);
        assert_int_equal(d.n, 2);
        assert_false(d.rows[0].is_root);
        assert_string_equal(d.rows[0].value, "7");
        assert_string_equal(d.rows[0].batch_numbers, "{7,7}");
        assert_true(d.rows[1].is_root);
        snprintf(root, sizeof root, "0xa%063x", 5);
        assert_string_equal(d.rows[1].value, root);
        assert_string_equal(d.rows[1].batch_numbers, "{5,6}");
        ledger_duplicates_free(&d);
        /* Reading the batches still works, so the duplicates reach DUPLICATE_BATCH. */
        assert_int_equal(ledger_batches_after(c, 4, 100, &b, &err), RW_OK);
        assert_int_equal(b.n, 4);
        assert_int_equal(b.rows[2].batch_number, 7);
        assert_int_equal(b.rows[3].batch_number, 7);
        ledger_batches_free(&b);

        /*
         * Sixty batches under one root: the list is cut after a whole number, with "...".
         * Root 3 sorts before root 5, but rows come by their batch numbers.
         */
        for (i = 100000; i < 100060; i++)
                batch_row(i, 3, "2024-01-01 00:00:00+00", NULL);
        assert_int_equal(ledger_duplicate_batches(c, &d, &err), RW_OK);
        assert_int_equal(d.n, 3);
        assert_true(d.rows[1].is_root);
        assert_string_equal(d.rows[1].batch_numbers, "{5,6}");
        assert_true(d.rows[2].is_root);
        snprintf(root, sizeof root, "0xa%063x", 3);
        assert_string_equal(d.rows[2].value, root);
        /* "{" and 22 numbers with their commas fill 155 of the 159 characters. */
        len = 0;
        want[len++] = '{';
        for (i = 100000; i < 100022; i++)
                len += (size_t)snprintf(want + len, sizeof want - len, "%ld,", i);
        snprintf(want + len, sizeof want - len, "...");
        assert_string_equal(d.rows[2].batch_numbers, want);
        assert_int_equal(strlen(d.rows[2].batch_numbers), 158);
        ledger_duplicates_free(&d);
        ledger_duplicates_free(NULL);
        dbconn_free(c);
}

/* The duplicates an observation of the ledger with batch cursor `after` lists, as text. */
static void duplicates_seen(struct dbconn *c, uint64_t after, char *out, size_t size)
{
        struct observe_window w = {-1, after, 0, -1, -1, 0, 0, 0};
        struct snapshot s;
        size_t i, len = 0;

        observe_window_at(c, &w, NULL, 30, 30, 0, &s);
        assert_true(s.ledger.ok);
        assert_int_equal(s.ledger.duplicates_in_page, after > 0);
        out[0] = '\0';
        for (i = 0; i < s.ledger.nduplicates; i++)
                len += (size_t)snprintf(out + len, size - len, "%s%s %s", i ? "; " : "",
                                        s.ledger.duplicates[i].value,
                                        s.ledger.duplicates[i].batch_numbers);
        snapshot_free(&s);
}

/*
 * An incremental cycle (a batch cursor) never groups the whole ledger's
 * batches: the duplicates it lists are those of the batches after the
 * cursor, found with the roots it looks up anyway (a new batch holding an
 * old root, a batch number twice among the new). One wholly behind the
 * cursor waits for the full sweep, which lists every one.
 */
static void an_incremental_cycle_lists_the_new_batches_duplicates(void **state)
{
        struct dbconn *c = watchdog_conn();
        char seen[1024], want[1024], r1[80], r2[80];

        (void)state;
        admin_exec("ALTER TABLE relayer.settlement_batch DROP CONSTRAINT "
                   "settlement_batch_merkle_root_key");
        admin_exec("ALTER TABLE relayer.settlement_batch DROP CONSTRAINT settlement_batch_pkey "
                   "CASCADE");
        batch_row(1, 1, "2024-01-01 00:00:00+00", NULL);
        batch_row(2, 2, "2024-01-01 00:00:00+00", NULL);
        batch_row(3, 2, "2024-01-01 00:00:00+00", NULL); /* behind the cursor */
        batch_row(4, 4, "2024-01-01 00:00:00+00", NULL);
        batch_row(5, 5, "2024-01-01 00:00:00+00", NULL);
        snprintf(r1, sizeof r1, "0xa%063x", 1);
        snprintf(r2, sizeof r2, "0xa%063x", 2);

        /* nothing after the cursor: nothing listed, and nothing to look up */
        duplicates_seen(c, 5, seen, sizeof seen);
        assert_string_equal(seen, "");

        batch_row(6, 1, "2024-01-01 00:00:00+00", NULL); /* an old root again */
        batch_row(7, 70, "2024-01-01 00:00:00+00", NULL);
        batch_row(7, 71, "2024-01-01 00:00:00+00", NULL); /* batch 7 twice */
        batch_row(8, 8, "2024-01-01 00:00:00+00", NULL);
        duplicates_seen(c, 5, seen, sizeof seen);
        snprintf(want, sizeof want, "%s {1,6}; 7 {7,7}", r1);
        assert_string_equal(seen, want);

        /* past them: clean again */
        duplicates_seen(c, 7, seen, sizeof seen);
        assert_string_equal(seen, "");

        /* the full sweep lists all three (the view's order: batch numbers first) */
        duplicates_seen(c, 0, seen, sizeof seen);
        snprintf(want, sizeof want, "7 {7,7}; %s {1,6}; %s {2,3}", r1, r2);
        assert_string_equal(seen, want);
        dbconn_free(c);
}

/* Puts back the constraints duplicate_batches_are_listed dropped. */
static int restore_batch_constraints(void **state)
{
        reset(state);
        admin_exec("ALTER TABLE relayer.settlement_batch ADD PRIMARY KEY (batch_number)");
        admin_exec("ALTER TABLE relayer.settlement_batch ADD CONSTRAINT "
                   "settlement_batch_merkle_root_key UNIQUE (merkle_root)");
        admin_exec("ALTER TABLE relayer.withdrawals ADD FOREIGN KEY (batch_number) REFERENCES "
                   "relayer.settlement_batch");
        admin_exec("ALTER TABLE relayer.batch_leaves ADD FOREIGN KEY (batch_number) REFERENCES "
                   "relayer.settlement_batch");
        admin_exec("ALTER TABLE relayer.withdrawal_proofs ADD FOREIGN KEY (batch_number) "
                   "REFERENCES relayer.settlement_batch");
        return 0;
}

static void weird_duplicates(const char *values)
{
        char sql[1024];

        snprintf(sql, sizeof sql,
                 "CREATE OR REPLACE VIEW relaywatch.duplicate_batches AS SELECT * FROM (VALUES %s) "
                 "AS v(kind, value, batch_numbers)",
                 values);
        admin_exec(sql);
}

static void duplicate_null_and_garbage_are_named(void **state)
{
        struct dbconn *c;
        struct ledger_duplicates d = {0, NULL};
        struct rwerr err;

        (void)state;
        weird_duplicates("('batch_number'::text, '7'::text, '{7,7}'::bigint[]), "
                         "('merkle_root', NULL, '{1,2}')");
        c = watchdog_conn();
        assert_error(ledger_duplicate_batches(c, &d, &err), &err,
                     "duplicate_batches row 2, column value: NULL where a value is required");
        weird_duplicates("('leaf_hash'::text, '7'::text, '{7,7}'::bigint[])");
        assert_error(ledger_duplicate_batches(c, &d, &err), &err,
                     "duplicate_batches row 1, column kind: unknown kind \"leaf_hash\"");
        weird_duplicates("('batch_number'::text, '7'::text, NULL::bigint[])");
        assert_error(ledger_duplicate_batches(c, &d, &err), &err,
                     "duplicate_batches row 1, column batch_numbers: NULL where a value is "
                     "required");
        weird_duplicates("('batch_number'::text, repeat('7', 80), '{7,7}'::bigint[])");
        assert_error(ledger_duplicate_batches(c, &d, &err), &err,
                     "duplicate_batches row 1, column value: 80 characters, at most 79");
        assert_null(d.rows);
        dbconn_free(c);
}

static void batches_are_found_by_root(void **state)
{
        struct dbconn *c = watchdog_conn();
        struct dbconn_config cfg = {0};
        struct ledger_root_batches r = {0, NULL};
        uint8_t roots[3][32], want[32];
        struct dbconn *offline;
        struct rwerr err;

        (void)state;
        batch_row(1, 1, "2024-01-01 00:00:00+00", NULL);
        batch_row(2, 2, "2024-01-01 00:00:00+00", "2024-01-01 00:01:00+00");
        batch_row(3, 3, "2024-01-01 00:00:00+00", NULL);

        /* Asked in another order, with a root the ledger never held: by batch, no row for it. */
        root_of(3, roots[0]);
        root_of(99, roots[1]);
        root_of(1, roots[2]);
        assert_int_equal(ledger_batches_with_roots(c, roots, 3, &r, &err), RW_OK);
        assert_int_equal(r.n, 2);
        assert_int_equal(r.rows[0].batch_number, 1);
        root_of(1, want);
        assert_memory_equal(r.rows[0].merkle_root, want, 32);
        assert_int_equal(r.rows[1].batch_number, 3);
        assert_memory_equal(r.rows[1].merkle_root, roots[0], 32);
        ledger_root_batches_free(&r);

        assert_int_equal(ledger_batches_with_roots(c, roots + 1, 1, &r, &err), RW_OK);
        assert_int_equal(r.n, 0); /* unknown only */
        ledger_root_batches_free(&r);
        ledger_root_batches_free(NULL);

        /* No roots, no query: even a connection that never connected answers. */
        cfg.conninfo = fx_global->watchdog_url;
        cfg.name = "offline";
        cfg.statements = ledger_statements;
        cfg.nstatements = ledger_nstatements;
        offline = dbconn_new(&cfg, &err);
        assert_non_null(offline);
        assert_int_equal(ledger_batches_with_roots(offline, roots, 0, &r, &err), RW_OK);
        assert_int_equal(r.n, 0);
        ledger_root_batches_free(&r);
        assert_error(ledger_batches_with_roots(offline, roots, 1, &r, &err), &err, "not connected");
        dbconn_free(offline);
        dbconn_free(c);
}

static void weird_roots(const char *values)
{
        char sql[1024];

        snprintf(sql, sizeof sql,
                 "CREATE OR REPLACE FUNCTION relaywatch.batches_with_roots(roots text[]) RETURNS "
                 "TABLE (merkle_root text, batch_number bigint) LANGUAGE sql STABLE AS $$ SELECT * "
                 "FROM (VALUES %s) AS v(r, b) $$",
                 values);
        admin_exec(sql);
}

static void root_rows_null_and_garbage_are_named(void **state)
{
        struct dbconn *c;
        struct ledger_root_batches r = {0, NULL};
        uint8_t roots[1][32];
        struct rwerr err;

        (void)state;
        root_of(1, roots[0]);
        weird_roots("(" HASH "::text, 1::bigint), (" HASH ", NULL)");
        c = watchdog_conn();
        assert_error(ledger_batches_with_roots(c, roots, 1, &r, &err), &err,
                     "batches_with_roots row 2, column batch_number: NULL where a value is "
                     "required");
        weird_roots("('0x7777'::text, 1::bigint)");
        assert_error(ledger_batches_with_roots(c, roots, 1, &r, &err), &err,
                     "batches_with_roots row 1, column merkle_root");
        weird_roots("(" HASH "::text, 0::bigint)");
        assert_error(ledger_batches_with_roots(c, roots, 1, &r, &err), &err,
                     "batches_with_roots row 1, column batch_number: 0 is outside");
        assert_null(r.rows);
        dbconn_free(c);
}

static void operations_and_cycles_follow_their_cursors(void **state)
{
        struct dbconn *c = watchdog_conn();
        struct ledger_operations o = {0, NULL};
        struct ledger_cycles cy = {0, NULL};
        uint64_t op_id = 99, cycle_id = 99;
        struct rwerr err;

        (void)state;
        assert_int_equal(ledger_latest_ids(c, &op_id, &cycle_id, &err), RW_OK);
        assert_int_equal(op_id, 0); /* an empty ledger: cursors start at 0 */
        assert_int_equal(cycle_id, 0);
        assert_int_equal(ledger_operations_after(c, 0, 100, &o, &err), RW_OK);
        assert_int_equal(o.n, 0);
        ledger_operations_free(&o);
        assert_int_equal(ledger_cycle_timings_after(c, 0, 100, &cy, &err), RW_OK);
        assert_int_equal(cy.n, 0);
        ledger_cycles_free(&cy);

        admin_exec("INSERT INTO relayer.operations (kind, chain_id, account, nonce, tx_hash, "
                   "gas_estimate, gas_used, status) VALUES "
                   "('mint', 31338, '\\x70997970c51812dc3a010c7d01b50e0d17dc79c8', 4, NULL, "
                   "60000, NULL, 'pending'), "
                   "('anchor', 31337, '\\x70997970c51812dc3a010c7d01b50e0d17dc79c8', 9, "
                   "decode(repeat('ab', 32), 'hex'), 80000, NULL, 'sent'), "
                   "('release', 31337, '\\x70997970c51812dc3a010c7d01b50e0d17dc79c8', 10, "
                   "decode(repeat('cd', 31) || 'ef', 'hex'), 90000, 0, 'confirmed'), "
                   "('mint', 31338, '\\x70997970c51812dc3a010c7d01b50e0d17dc79c8', 5, "
                   "decode(repeat('01', 32), 'hex'), 60000, 59000, 'failed')");
        assert_int_equal(ledger_operations_after(c, 0, 100, &o, &err), RW_OK);
        assert_int_equal(o.n, 4);
        assert_int_equal(o.rows[0].op_id, 1);
        assert_string_equal(o.rows[0].kind, "mint");
        assert_int_equal(o.rows[0].chain_id, 31338);
        assert_int_equal(o.rows[0].account[0], 0x70);
        assert_int_equal(o.rows[0].account[19], 0xc8);
        assert_int_equal(o.rows[0].nonce, 4);
        assert_false(o.rows[0].has_tx_hash);
        assert_int_equal(o.rows[0].gas_estimate, 60000);
        assert_false(o.rows[0].has_gas_used);
        assert_string_equal(o.rows[0].status, "pending");
        assert_int_equal(o.rows[1].op_id, 2);
        assert_string_equal(o.rows[1].kind, "anchor");
        assert_true(o.rows[1].has_tx_hash);
        assert_int_equal(o.rows[1].tx_hash[0], 0xab);
        assert_false(o.rows[1].has_gas_used);
        assert_string_equal(o.rows[1].status, "sent");
        assert_string_equal(o.rows[2].kind, "release");
        assert_int_equal(o.rows[2].tx_hash[30], 0xcd);
        assert_int_equal(o.rows[2].tx_hash[31], 0xef);
        assert_true(o.rows[2].has_gas_used);
        assert_int_equal(o.rows[2].gas_used, 0); /* zero, and present */
        assert_string_equal(o.rows[2].status, "confirmed");
        assert_int_equal(o.rows[3].op_id, 4);
        assert_int_equal(o.rows[3].gas_used, 59000);
        assert_string_equal(o.rows[3].status, "failed");
        ledger_operations_free(&o);
        assert_int_equal(ledger_operations_after(c, 1, 2, &o, &err), RW_OK);
        assert_int_equal(o.n, 2); /* max_rows */
        assert_int_equal(o.rows[0].op_id, 2);
        assert_int_equal(o.rows[1].op_id, 3);
        ledger_operations_free(&o);
        assert_int_equal(ledger_operations_after(c, 4, 100, &o, &err), RW_OK);
        assert_int_equal(o.n, 0);
        ledger_operations_free(&o);
        ledger_operations_free(NULL);

        /* Cycle ids need not be dense: the latest is the highest, not the count. */
        admin_exec("INSERT INTO relayer.cycle_timings (cycle_id, started_at, duration_ms) "
                   "OVERRIDING SYSTEM VALUE VALUES "
                   "(41, '2024-01-02 03:05:00.001+00', 0), "
                   "(7, '2024-01-02 03:04:05.678+00', 1500), "
                   "(12, '2024-01-02 03:04:07.178+00', 2147483647)");
        assert_int_equal(ledger_cycle_timings_after(c, 0, 100, &cy, &err), RW_OK);
        assert_int_equal(cy.n, 3);
        assert_int_equal(cy.rows[0].cycle_id, 7);
        assert_int_equal(cy.rows[0].started_ms, 1704164645678LL);
        assert_int_equal(cy.rows[0].duration_ms, 1500);
        assert_int_equal(cy.rows[1].cycle_id, 12);
        assert_int_equal(cy.rows[1].started_ms, 1704164647178LL);
        assert_int_equal(cy.rows[1].duration_ms, 2147483647);
        assert_int_equal(cy.rows[2].cycle_id, 41);
        assert_int_equal(cy.rows[2].started_ms, 1704164700001LL);
        assert_int_equal(cy.rows[2].duration_ms, 0);
        ledger_cycles_free(&cy);
        assert_int_equal(ledger_cycle_timings_after(c, 7, 1, &cy, &err), RW_OK);
        assert_int_equal(cy.n, 1);
        assert_int_equal(cy.rows[0].cycle_id, 12);
        ledger_cycles_free(&cy);
        assert_int_equal(ledger_cycle_timings_after(c, 41, 100, &cy, &err), RW_OK);
        assert_int_equal(cy.n, 0);
        ledger_cycles_free(&cy);
        ledger_cycles_free(NULL);

        assert_int_equal(ledger_latest_ids(c, &op_id, &cycle_id, &err), RW_OK);
        assert_int_equal(op_id, 4);
        assert_int_equal(cycle_id, 41);

        /* Inside a snapshot, like every cycle's reads. */
        assert_int_equal(ledger_snapshot_begin(c, &err), RW_OK);
        assert_int_equal(ledger_operations_after(c, 3, 100, &o, &err), RW_OK);
        assert_int_equal(o.n, 1);
        ledger_operations_free(&o);
        assert_int_equal(ledger_snapshot_end(c, &err), RW_OK);
        assert_error(ledger_operations_after(c, (uint64_t)INT64_MAX + 1, 10, &o, &err), &err,
                     "operations_after: after_op 9223372036854775808 is above the largest bigint");
        assert_error(ledger_cycle_timings_after(c, UINT64_MAX, 10, &cy, &err), &err,
                     "cycle_timings_after: after_cycle 18446744073709551615");
        dbconn_free(c);
}

/* Replaces operations_after with fixed rows of its 9 columns; the cursor is ignored. */
static void weird_operations(const char *values)
{
        char sql[2048];

        snprintf(sql, sizeof sql,
                 "CREATE OR REPLACE FUNCTION relaywatch.operations_after(after_op bigint, max_rows "
                 "integer) RETURNS TABLE (op_id bigint, kind text, chain_id bigint, account text, "
                 "nonce bigint, tx_hash text, gas_estimate bigint, gas_used bigint, status text) "
                 "LANGUAGE sql STABLE AS $$ SELECT * FROM (VALUES %s) AS v(a, b, c, d, e, f, g, "
                 "h, i) $$",
                 values);
        admin_exec(sql);
}

#define OP(id, kind, tx, used, status)                                                             \
        "(" #id "::bigint, " kind "::text, 31338::bigint, " ADDR "::text, 1::bigint, " tx          \
        "::text, 60000::bigint, " used "::bigint, " status "::text)"

static void operation_null_and_garbage_are_named(void **state)
{
        struct dbconn *c;
        struct ledger_operations o = {0, NULL};
        struct rwerr err;

        (void)state;
        weird_operations(OP(1, "'mint'", "NULL", "NULL", "'sent'") ", " OP(2, "'mint'", "NULL",
                                                                           "NULL", "'lost'"));
        c = watchdog_conn();
        assert_error(ledger_operations_after(c, 0, 10, &o, &err), &err,
                     "operations_after row 2 (op 2), column status: unknown status \"lost\"");
        weird_operations(OP(1, "'burn'", "NULL", "NULL", "'sent'"));
        assert_error(ledger_operations_after(c, 0, 10, &o, &err), &err,
                     "operations_after row 1 (op 1), column kind: unknown kind \"burn\"");
        weird_operations(OP(1, "NULL", "NULL", "NULL", "'sent'"));
        assert_error(ledger_operations_after(c, 0, 10, &o, &err), &err,
                     "operations_after row 1 (op 1), column kind: NULL where a value is required");
        weird_operations(OP(1, "'mint'", "'0x' || repeat('ab', 31)", "NULL", "'sent'"));
        assert_error(ledger_operations_after(c, 0, 10, &o, &err), &err,
                     "operations_after row 1 (op 1), column tx_hash: 31 bytes, expected 32");
        weird_operations(OP(1, "'mint'", "'abab'", "NULL", "'sent'"));
        assert_error(ledger_operations_after(c, 0, 10, &o, &err), &err,
                     "operations_after row 1 (op 1), column tx_hash: \"abab\" is not 0x-hex");
        weird_operations(OP(1, "'mint'", "NULL", "-1", "'confirmed'"));
        assert_error(ledger_operations_after(c, 0, 10, &o, &err), &err,
                     "operations_after row 1 (op 1), column gas_used: -1 is outside");
        weird_operations(OP(NULL, "'mint'", "NULL", "NULL", "'sent'"));
        assert_error(ledger_operations_after(c, 0, 10, &o, &err), &err,
                     "operations_after row 1, column op_id: NULL where a value is required");
        /* A contract that ignores the cursor or the order would make the cursor skip or repeat. */
        weird_operations(OP(3, "'mint'", "NULL", "NULL", "'sent'"));
        assert_error(ledger_operations_after(c, 5, 10, &o, &err), &err,
                     "operations_after row 1, column op_id: 3 is not above the cursor 5");
        weird_operations(OP(3, "'mint'", "NULL", "NULL", "'sent'") ", " OP(2, "'mint'", "NULL",
                                                                           "NULL", "'sent'"));
        assert_error(ledger_operations_after(c, 0, 10, &o, &err), &err,
                     "operations_after row 2, column op_id: 2 is not above the previous row's 3");
        assert_null(o.rows);
        dbconn_free(c);
}

static void cycle_and_latest_null_and_garbage_are_named(void **state)
{
        struct dbconn *c;
        struct ledger_cycles cy = {0, NULL};
        uint64_t op_id = 99, cycle_id = 98;
        struct rwerr err;

        (void)state;
        admin_exec("CREATE OR REPLACE FUNCTION relaywatch.cycle_timings_after(after_cycle bigint, "
                   "max_rows integer) RETURNS TABLE (cycle_id bigint, started_at timestamptz, "
                   "duration_ms integer) LANGUAGE sql STABLE AS $$ SELECT * FROM (VALUES "
                   "(1::bigint, now(), 5), (2, NULL, 5)) AS v(a, b, c) $$");
        admin_exec("CREATE OR REPLACE VIEW relaywatch.latest_ids AS SELECT 1::bigint AS op_id, "
                   "NULL::bigint AS cycle_id");
        c = watchdog_conn();
        assert_error(ledger_cycle_timings_after(c, 0, 10, &cy, &err), &err,
                     "cycle_timings_after row 2 (cycle 2), column started_at: NULL where a value "
                     "is required");
        assert_error(ledger_latest_ids(c, &op_id, &cycle_id, &err), &err,
                     "latest_ids, column cycle_id: NULL where a value is required");
        assert_int_equal(op_id, 99); /* untouched on failure */
        assert_int_equal(cycle_id, 98);

        admin_exec("CREATE OR REPLACE FUNCTION relaywatch.cycle_timings_after(after_cycle bigint, "
                   "max_rows integer) RETURNS TABLE (cycle_id bigint, started_at timestamptz, "
                   "duration_ms integer) LANGUAGE sql STABLE AS $$ SELECT 3::bigint, now(), -4 $$");
        admin_exec("CREATE OR REPLACE VIEW relaywatch.latest_ids AS SELECT 1::bigint AS op_id, "
                   "1::bigint AS cycle_id WHERE false");
        assert_error(ledger_cycle_timings_after(c, 0, 10, &cy, &err), &err,
                     "cycle_timings_after row 1 (cycle 3), column duration_ms: -4 is outside");
        assert_error(ledger_cycle_timings_after(c, 3, 10, &cy, &err), &err,
                     "cycle_timings_after row 1, column cycle_id: 3 is not above the cursor 3");
        assert_null(cy.rows);
        assert_error(ledger_latest_ids(c, &op_id, &cycle_id, &err), &err,
                     "latest_ids: 0 rows where exactly 1 is expected");
        assert_int_equal(op_id, 99);
        dbconn_free(c);
}

/*
 * relaywatch.progress on a known fixture: the counts, read under a savepoint
 * at the end of a snapshot; at most every 15 s; and optional: with the view
 * dropped (an older contract) the figures are unknown with the reason, and
 * the snapshot's other reads and its end are untouched.
 */
static void contains(const char *hay, const char *needle)
{
        if (strstr(hay, needle) == NULL)
                fail_msg("\"%s\" is not in: %s", needle, hay);
}

static void progress_fixture(void)
{
        int i;

        for (i = 0; i < 5; i++)
                deposit(2, "1000", 10 + i); /* deposits 1 .. 5 */
        mint(1, 2, "1000", 20);
        mint(2, 2, "1000", 21);
        burn_and_release(1, 2, "7", 60, 1, 70);          /* batch 1 (anchored), released */
        burn_and_release(2, 2, "8", 61, 1, -1);          /* batch 1, not released */
        burn_and_release(3, 2, "9", 62, 0, -1);          /* confirmed, in no batch */
        batch_row(2, 2, "2026-01-01 00:00:00+00", NULL); /* created, not anchored */
}

static void assert_fixture_figures(const struct ledger_progress_figures *f, uint64_t deposits)
{
        assert_int_equal(f->deposits, deposits);
        assert_int_equal(f->deposits_pending, deposits - 2);
        assert_int_equal(f->batches_created, 2);
        assert_int_equal(f->batches_anchored, 1);
        assert_int_equal(f->withdrawals, 3);
        assert_int_equal(f->withdrawals_claimed, 1);
        assert_int_equal(f->withdrawals_pending, 2);
}

/* A read the checks make, inside the snapshot, still works (the transaction is healthy). */
static void assert_snapshot_still_reads(struct dbconn *c, const char *sigil_deposited)
{
        struct ledger_totals t = {0, NULL};
        struct rwerr err;

        if (ledger_totals_in_range(c, LEDGER_LOCKED, -1, 100, &t, &err) != RW_OK)
                fail_msg("a read after relaywatch.progress failed: %s", err.msg);
        assert_int_equal(t.n, 2);
        assert_string_equal(t.rows[1].asset, "SIGIL");
        assert_amount(&t.rows[1].credited, sigil_deposited);
        ledger_totals_free(&t);
        assert_int_equal(PQtransactionStatus(dbconn_pg(c)), PQTRANS_INTRANS);
}

/* The reader's first finished attempt (it reads at once when started), waiting 20 s at most. */
static void reader_first(const char *conninfo, struct ledger_progress_state *st)
{
        struct dbconn_config cfg = {0};
        struct progress_reader *r;
        struct rwerr err;
        int i;

        cfg.conninfo = conninfo;
        cfg.name = "ledger";
        cfg.statements = ledger_statements; /* the reader prepares none of these */
        cfg.nstatements = ledger_nstatements;
        if ((r = progress_reader_new(&cfg, &err)) == NULL)
                fail_msg("%s", err.msg);
        for (i = 0; i < 200; i++) {
                progress_reader_latest(r, st);
                if (st->attempted)
                        break;
                nanosleep(&(struct timespec){0, 100000000L}, NULL);
        }
        progress_reader_free(r); /* it sleeps 15 s now: stopping must wake it */
        if (!st->attempted)
                fail_msg("the progress reader made no attempt in 20 s");
}

/*
 * The progress figures are read on a connection and a thread of their own,
 * so the view's cost never lengthens a cycle: the same figures as read in
 * the snapshot; a contract without the view, or no database at all, is the
 * figures' own problem, named.
 */
static void progress_is_read_off_the_cycles_path(void **state)
{
        struct ledger_progress_state st;

        (void)state;
        progress_fixture();
        reader_first(fx_global->watchdog_url, &st);
        if (!st.known)
                fail_msg("%s", st.problem);
        assert_fixture_figures(&st.figures, 5);

        admin_exec("DROP VIEW relaywatch.progress");
        reader_first(fx_global->watchdog_url, &st);
        assert_false(st.known);
        contains(st.problem, "relaywatch.progress: preparing: ");
        contains(st.problem, "SQLSTATE 42P01");

        reader_first("postgresql://relaywatch@127.0.0.1:1/nothing?connect_timeout=2", &st);
        assert_false(st.known);
        contains(st.problem, "relaywatch.progress: not read");
}

static void progress_is_counted_every_15_s_and_optional(void **state)
{
        struct ledger_progress_state st, fresh;
        struct ledger_progress_figures f;
        struct dbconn *c = watchdog_conn(), *c2;
        const uint64_t t0 = 1000000;
        struct rwerr err;

        (void)state;
        memset(&st, 0, sizeof st);
        memset(&fresh, 0, sizeof fresh);
        progress_fixture();

        /* Read directly, after another read of the snapshot, and then the snapshot goes on. */
        assert_int_equal(ledger_snapshot_begin(c, &err), RW_OK);
        assert_snapshot_still_reads(c, "5000");
        if (ledger_progress_read(c, &st, &f, &err) != RW_OK)
                fail_msg("%s", err.msg);
        assert_fixture_figures(&f, 5);
        assert_snapshot_still_reads(c, "5000");
        assert_int_equal(ledger_snapshot_end(c, &err), RW_OK);

        /* Refreshed at most every 15 s: a deposit made meanwhile shows only then. */
        assert_int_equal(ledger_snapshot_begin(c, &err), RW_OK);
        assert_int_equal(ledger_progress_refresh(c, &st, t0), 1);
        assert_true(st.known);
        assert_string_equal(st.problem, "");
        assert_fixture_figures(&st.figures, 5);
        assert_int_equal(ledger_snapshot_end(c, &err), RW_OK);
        deposit(2, "1000", 30);
        assert_int_equal(ledger_snapshot_begin(c, &err), RW_OK);
        assert_int_equal(ledger_progress_refresh(c, &st, t0 + LEDGER_PROGRESS_PERIOD_MS - 1), 0);
        assert_fixture_figures(&st.figures, 5);
        assert_int_equal(ledger_progress_refresh(c, &st, t0 + LEDGER_PROGRESS_PERIOD_MS), 1);
        assert_true(st.known);
        assert_fixture_figures(&st.figures, 6);
        assert_int_equal(ledger_snapshot_end(c, &err), RW_OK);

        /*
         * The view dropped under a connection that has its statement prepared,
         * and on a new connection that must prepare it (an older contract).
         */
        admin_exec("DROP VIEW relaywatch.progress");
        c2 = watchdog_conn();
        assert_int_equal(ledger_snapshot_begin(c, &err), RW_OK);
        assert_int_equal(ledger_snapshot_begin(c2, &err), RW_OK);
        assert_snapshot_still_reads(c, "6000");
        assert_snapshot_still_reads(c2, "6000");
        assert_int_equal(ledger_progress_refresh(c, &st, t0 + 2ULL * LEDGER_PROGRESS_PERIOD_MS), 1);
        assert_int_equal(ledger_progress_refresh(c2, &fresh, t0), 1);
        assert_false(st.known);
        assert_false(fresh.known);
        print_message("dropped, prepared: %s\ndropped, new connection: %s\n", st.problem,
                      fresh.problem);
        contains(st.problem, "relaywatch.progress: reading: ");
        contains(fresh.problem, "relaywatch.progress: preparing: ");
        contains(st.problem, "SQLSTATE 42P01");
        contains(fresh.problem, "SQLSTATE 42P01");
        contains(fresh.problem, "does not exist");
        assert_snapshot_still_reads(c, "6000");
        assert_snapshot_still_reads(c2, "6000");
        assert_int_equal(ledger_progress_read(c2, &fresh, &f, &err), RW_ERR_INVALID);
        contains(err.msg, "relaywatch.progress");
        assert_snapshot_still_reads(c2, "6000");
        assert_int_equal(ledger_snapshot_end(c, &err), RW_OK);
        assert_int_equal(ledger_snapshot_end(c2, &err), RW_OK);

        /* Outside a snapshot there is nothing to read it in. */
        assert_int_equal(ledger_progress_read(c, &st, &f, &err), RW_ERR_INVALID);
        contains(err.msg, "no healthy snapshot transaction");

        /* The contract applied again: both connections read it again. */
        assert_int_equal(restore_contract(NULL), 0);
        assert_int_equal(ledger_snapshot_begin(c, &err), RW_OK);
        assert_int_equal(ledger_snapshot_begin(c2, &err), RW_OK);
        assert_int_equal(ledger_progress_refresh(c, &st, t0 + 3ULL * LEDGER_PROGRESS_PERIOD_MS), 1);
        assert_int_equal(ledger_progress_refresh(c2, &fresh, t0 + LEDGER_PROGRESS_PERIOD_MS), 1);
        if (!st.known || !fresh.known)
                fail_msg("after the contract came back: %s / %s", st.problem, fresh.problem);
        assert_fixture_figures(&st.figures, 6);
        assert_fixture_figures(&fresh.figures, 6);
        assert_int_equal(ledger_snapshot_end(c, &err), RW_OK);
        assert_int_equal(ledger_snapshot_end(c2, &err), RW_OK);
        dbconn_free(c2);
        dbconn_free(c);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup(totals_on_fixtures_are_exact, reset),
                cmocka_unit_test_setup(contract_rows_on_fixtures, reset),
                cmocka_unit_test_setup(snapshot_holds_while_another_connection_writes, reset),
                cmocka_unit_test_setup(incremental_totals_equal_full_sums, reset),
                cmocka_unit_test_setup(changed_history_is_reported_with_both_figures, reset),
                cmocka_unit_test_setup(watchdog_role_cannot_touch_relayer_data, reset),
                cmocka_unit_test_setup(null_and_garbage_rows_are_named, reset),
                cmocka_unit_test_setup(batches_carry_timestamps_and_leaves_their_batch, reset),
                cmocka_unit_test_setup_teardown(leaves_null_garbage_and_disorder_are_named, reset,
                                                restore_contract),
                cmocka_unit_test_setup_teardown(batch_timestamps_null_and_garbage_are_named, reset,
                                                restore_contract),
                cmocka_unit_test_setup(assets_are_read_by_name, reset),
                cmocka_unit_test_setup_teardown(asset_null_and_garbage_are_named, reset,
                                                restore_contract),
                cmocka_unit_test_setup_teardown(duplicate_batches_are_listed, reset,
                                                restore_batch_constraints),
                cmocka_unit_test_setup_teardown(duplicate_null_and_garbage_are_named, reset,
                                                restore_contract),
                cmocka_unit_test_setup(batches_are_found_by_root, reset),
                cmocka_unit_test_setup_teardown(root_rows_null_and_garbage_are_named, reset,
                                                restore_contract),
                cmocka_unit_test_setup(operations_and_cycles_follow_their_cursors, reset),
                cmocka_unit_test_setup_teardown(progress_is_read_off_the_cycles_path, reset,
                                                restore_contract),
                cmocka_unit_test_setup_teardown(progress_is_counted_every_15_s_and_optional, reset,
                                                restore_contract),
                cmocka_unit_test_setup_teardown(operation_null_and_garbage_are_named, reset,
                                                restore_contract),
                cmocka_unit_test_setup_teardown(cycle_and_latest_null_and_garbage_are_named, reset,
                                                restore_contract),
                cmocka_unit_test_setup(migrations_apply_once_and_refuse_tampering, reset),
                cmocka_unit_test_setup(checkpoints_and_cursors_survive_a_restart, reset),
                cmocka_unit_test_setup(statements_prepare_in_one_pipeline, reset),
                cmocka_unit_test_setup(reads_sent_ahead_are_taken_in_any_order, reset),
                cmocka_unit_test_setup(running_totals_miss_a_late_row_until_a_full_sum, reset),
                cmocka_unit_test_setup_teardown(
                        an_incremental_cycle_lists_the_new_batches_duplicates, reset,
                        restore_batch_constraints),
                cmocka_unit_test_setup(restarted_postgres_is_reconnected, reset),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
