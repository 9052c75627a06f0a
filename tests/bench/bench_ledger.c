/*
 * bench_ledger: a cycle's ledger reads as the ledger grows, incremental
 * running totals against a full recompute.
 *
 * In a database of its own on the stack's PostgreSQL, the ledger is filled
 * in steps to each size given (ledger rows = deposits + mints, half each,
 * ten per block, two assets). At each size it measures, as the watchdog
 * role:
 *   cycle   one cycle's reads in one snapshot: both sides' totals advanced
 *           incrementally by one new block (ten new deposits and mints are
 *           committed before each cycle, outside the timing), the indexed
 *           heights, new batches, expected nonces, pending operations;
 *   full    both sides summed from genesis (what a cycle would cost without
 *           running totals).
 * Usage: bench_ledger STACK_ENV SIZE...   e.g. bench_ledger stack.env 10000 10000000
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "dbconn.h"
#include "ledger.h"
#include "migrate.h"
#include "rwerr.h"
#include "stack_env.h"
#include "test_util.h"
#include "totals.h"

#define CYCLES 200
#define FULL_RUNS 5
#define ROWS_PER_BLOCK 10

static double now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;

        return (x > y) - (x < y);
}

static void die(const char *what, const char *msg)
{
        fprintf(stderr, "bench_ledger: %s: %s\n", what, msg);
        exit(1);
}

static void exec_or_die(PGconn *pg, const char *sql)
{
        PGresult *res = PQexec(pg, sql);
        ExecStatusType st = PQresultStatus(res);

        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
                die(sql, PQresultErrorMessage(res));
        PQclear(res);
}

static void quiet(void *arg, const char *message)
{
        (void)arg;
        (void)message;
}

/* Adds deposits and mints numbered (from, to], ten per block, alternating assets. */
static void fill(PGconn *pg, long from, long to)
{
        char sql[2048];

        snprintf(sql, sizeof sql,
                 "INSERT INTO relayer.deposits (asset_id, deposit_nonce, depositor, recipient, "
                 "amount, "
                 "tx_hash, log_index, block_number) "
                 "SELECT 1 + i %% 2, i, '\\xaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', "
                 "'\\xbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb', 1000000000000000000::numeric * (1 "
                 "+ i %% 97), "
                 "decode(lpad(to_hex(i), 64, '0'), 'hex'), 0, i / %d "
                 "FROM generate_series(%ld, %ld) AS i",
                 ROWS_PER_BLOCK, from + 1, to);
        exec_or_die(pg, sql);
        snprintf(sql, sizeof sql,
                 "INSERT INTO relayer.mints (deposit_id, asset_id, recipient, amount, tx_hash, "
                 "block_number) "
                 "SELECT d.deposit_id, d.asset_id, d.recipient, d.amount, "
                 "decode('f' || lpad(to_hex(d.deposit_nonce::bigint), 63, '0'), 'hex'), "
                 "d.block_number "
                 "FROM relayer.deposits d WHERE d.deposit_nonce > %ld AND d.deposit_nonce <= %ld",
                 from, to);
        exec_or_die(pg, sql);
}

struct bench {
        PGconn *admin;
        struct dbconn *conn;
        struct totals_tracker *locked, *minted;
        long rows; /* deposits so far (mints as many) */
        uint64_t clock_ms;
};

static void one_cycle(struct bench *b, uint64_t block)
{
        struct totals_result r;
        struct ledger_progress_list p;
        struct ledger_batches batches;
        struct ledger_nonces nonces;
        uint64_t pending;
        struct rwerr err;

        if (ledger_snapshot_begin(b->conn, &err) != RW_OK ||
            totals_tracker_advance(b->locked, b->conn, block, b->clock_ms, &r, &err) != RW_OK ||
            totals_tracker_advance(b->minted, b->conn, block, b->clock_ms, &r, &err) != RW_OK ||
            ledger_indexed_through(b->conn, &p, &err) != RW_OK ||
            ledger_batches_after(b->conn, 0, 100, &batches, &err) != RW_OK ||
            ledger_expected_nonces(b->conn, &nonces, &err) != RW_OK ||
            ledger_pending_operations(b->conn, &pending, &err) != RW_OK ||
            ledger_snapshot_end(b->conn, &err) != RW_OK)
                die("cycle", err.msg);
        ledger_progress_free(&p);
        ledger_batches_free(&batches);
        ledger_nonces_free(&nonces);
}

static void measure(struct bench *b)
{
        double cycles[CYCLES], full[FULL_RUNS];
        struct ledger_totals t;
        long start_rows = 2 * b->rows;
        struct rwerr err;
        uint64_t block;
        int i;

        /* Prime the trackers at the current top (a full read each). */
        block = (uint64_t)(b->rows / ROWS_PER_BLOCK);
        one_cycle(b, block);
        for (i = 0; i < CYCLES; i++) {
                double t0;

                fill(b->admin, b->rows, b->rows + ROWS_PER_BLOCK);
                b->rows += ROWS_PER_BLOCK;
                block = (uint64_t)(b->rows / ROWS_PER_BLOCK);
                t0 = now_ms();
                one_cycle(b, block);
                cycles[i] = now_ms() - t0;
        }
        for (i = 0; i < FULL_RUNS; i++) {
                double t0 = now_ms();

                if (ledger_totals_in_range(b->conn, LEDGER_LOCKED, -1, block, &t, &err) != RW_OK)
                        die("full locked", err.msg);
                ledger_totals_free(&t);
                if (ledger_totals_in_range(b->conn, LEDGER_MINTED, -1, block, &t, &err) != RW_OK)
                        die("full minted", err.msg);
                ledger_totals_free(&t);
                full[i] = now_ms() - t0;
        }
        qsort(cycles, CYCLES, sizeof cycles[0], cmp_double);
        qsort(full, FULL_RUNS, sizeof full[0], cmp_double);
        printf("ledger rows %10ld: cycle median %7.2f ms (p90 %7.2f, %d cycles) | "
               "full sums median %9.1f ms (%d runs) | full / cycle %7.0fx\n",
               start_rows, cycles[CYCLES / 2], cycles[CYCLES * 9 / 10], CYCLES, full[FULL_RUNS / 2],
               FULL_RUNS, full[FULL_RUNS / 2] / cycles[CYCLES / 2]);
        fflush(stdout);
}

int main(int argc, char **argv)
{
        struct migrate_options opt = {NULL, NULL, 0};
        struct migrate_report report;
        struct dbconn_config cfg = {0};
        struct stack_env *env;
        struct bench b = {0};
        char admin_url[512], watchdog_url[512], sql[256], path[512];
        const char *sql_dir = getenv("RELAYWATCH_SQL_DIR");
        struct rwerr err;
        PGconn *boot;
        char *schema;
        int i;

        if (argc < 3 || sql_dir == NULL) {
                fprintf(stderr, "usage: RELAYWATCH_SQL_DIR=sql bench_ledger STACK_ENV SIZE...\n");
                return 64;
        }
        if ((env = stack_env_load(argv[1], &err)) == NULL)
                die("stack.env", err.msg);
        boot = PQconnectdb(stack_env_get(env, "DATABASE_ADMIN_URL"));
        PQsetNoticeProcessor(boot, quiet, NULL);
        exec_or_die(boot, "DROP DATABASE IF EXISTS ledger_bench WITH (FORCE)");
        exec_or_die(boot, "CREATE DATABASE ledger_bench");
        PQfinish(boot);
        test_url_with_database(stack_env_get(env, "DATABASE_ADMIN_URL"), "ledger_bench", admin_url,
                               sizeof admin_url);
        test_url_with_database(stack_env_get(env, "DATABASE_URL"), "ledger_bench", watchdog_url,
                               sizeof watchdog_url);
        b.admin = PQconnectdb(admin_url);
        if (PQstatus(b.admin) != CONNECTION_OK)
                die("admin connection", PQerrorMessage(b.admin));
        PQsetNoticeProcessor(b.admin, quiet, NULL);
        snprintf(path, sizeof path, "%s/reference/relayer_schema.sql", sql_dir);
        if ((schema = test_read_file(path)) == NULL)
                die(path, "cannot read");
        exec_or_die(b.admin, schema);
        free(schema);
        if (migrate_run(b.admin, &opt, &report, &err) != RW_OK)
                die("migrate", err.msg);
        exec_or_die(b.admin,
                    "INSERT INTO relayer.chains VALUES (31337, 'source'), (31338, 'execution')");
        exec_or_die(
                b.admin,
                "INSERT INTO relayer.assets (symbol, decimals, source_token, bridged_token) VALUES "
                "('A', 18, '\\x1111111111111111111111111111111111111111', "
                "'\\x2222222222222222222222222222222222222222'), "
                "('B', 18, '\\x3333333333333333333333333333333333333333', "
                "'\\x4444444444444444444444444444444444444444')");

        cfg.conninfo = watchdog_url;
        cfg.name = "ledger";
        cfg.statements = ledger_statements;
        cfg.nstatements = ledger_nstatements;
        cfg.statement_timeout_ms = 600000;
        b.conn = dbconn_new(&cfg, &err);
        if (b.conn == NULL || dbconn_ensure(b.conn, &err) != RW_OK)
                die("watchdog connection", err.msg);
        /* No scheduled full recompute during the measurement: only the first read is full. */
        b.locked = totals_tracker_new(LEDGER_LOCKED, UINT64_MAX);
        b.minted = totals_tracker_new(LEDGER_MINTED, UINT64_MAX);

        for (i = 2; i < argc; i++) {
                long rows = strtol(argv[i], NULL, 10) / 2;
                double t0 = now_ms();

                if (rows <= b.rows)
                        die(argv[i], "sizes must grow");
                fill(b.admin, b.rows, rows);
                b.rows = rows;
                exec_or_die(b.admin, "VACUUM ANALYZE relayer.deposits");
                exec_or_die(b.admin, "VACUUM ANALYZE relayer.mints");
                fprintf(stderr, "bench_ledger: filled to %ld rows in %.1f s\n", 2 * rows,
                        (now_ms() - t0) / 1000);
                /* New trackers per size, so each starts with one full read, as after a restart. */
                totals_tracker_free(b.locked);
                totals_tracker_free(b.minted);
                b.locked = totals_tracker_new(LEDGER_LOCKED, UINT64_MAX);
                b.minted = totals_tracker_new(LEDGER_MINTED, UINT64_MAX);
                measure(&b);
        }
        totals_tracker_free(b.locked);
        totals_tracker_free(b.minted);
        dbconn_free(b.conn);
        PQfinish(b.admin);
        boot = PQconnectdb(stack_env_get(env, "DATABASE_ADMIN_URL"));
        snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS ledger_bench WITH (FORCE)");
        PQclear(PQexec(boot, sql));
        PQfinish(boot);
        stack_env_free(env);
        return 0;
}
