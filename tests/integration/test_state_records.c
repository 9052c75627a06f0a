/*
 * db/state's halt and finding records against the stack's real PostgreSQL,
 * written as the watchdog's own role (relaywatch_reader): a halt recorded
 * and recorded again is one row; published_at is filled once, later; the
 * first acknowledgement stays; findings are appended; times are exact to
 * the millisecond; missing, oversized and malformed values are refused
 * with a message that names the field; nothing is written inside an open
 * transaction.
 *
 * The run works in a database of its own (created and dropped here) with
 * `relaywatch db migrate`'s SQL applied.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "dbconn.h"
#include "migrate.h"
#include "rwerr.h"
#include "stack_env.h"
#include "state.h"
#include "test_util.h"

#define HALT_ID "halt-0123456789abcdef0123456789abcdef"
#define ISSUED_MS 1795000000123LL /* 2026-11-18T11:06:40.123Z */
#define PUBLISHED_MS 1795000000456LL
#define ACKED_MS 1795000004567LL /* 2026-11-18T11:06:44.567Z */

struct fixture {
        struct stack_env *env;
        char dbname[64];
        char admin_url[512];
        char watchdog_url[512];
        PGconn *admin;
        struct dbconn *c; /* as the watchdog */
};

static void quiet(void *arg, const char *message)
{
        (void)arg;
        (void)message;
}

/* One value of an admin query that returns one row and one column; caller frees. */
static char *admin_value(struct fixture *fx, const char *sql)
{
        PGresult *res = PQexec(fx->admin, sql);
        char *v;

        if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1 || PQnfields(res) != 1)
                fail_msg("admin query failed (%s): %s", PQresultErrorMessage(res), sql);
        v = strdup(PQgetisnull(res, 0, 0) ? "<NULL>" : PQgetvalue(res, 0, 0));
        PQclear(res);
        assert_non_null(v);
        return v;
}

static void assert_admin_value(struct fixture *fx, const char *sql, const char *want)
{
        char *got = admin_value(fx, sql);

        if (strcmp(got, want) != 0)
                fail_msg("%s\n  got:  %s\n  want: %s", sql, got, want);
        free(got);
}

static int setup(void **state)
{
        struct fixture *fx = calloc(1, sizeof *fx);
        const char *path = getenv("RELAYWATCH_STACK_ENV");
        struct migrate_options opt = {NULL, NULL, 1}; /* the state tables; no contract needed */
        struct migrate_report report;
        struct dbconn_config cfg = {0};
        char sql[128];
        struct rwerr err;
        PGconn *bootstrap;
        PGresult *res;

        if (fx == NULL || path == NULL) {
                fprintf(stderr, "RELAYWATCH_STACK_ENV must be set (ctest sets it)\n");
                free(fx);
                return -1;
        }
        *state = fx;
        if ((fx->env = stack_env_load(path, &err)) == NULL) {
                fprintf(stderr, "%s\n", err.msg);
                return -1;
        }
        (void)snprintf(fx->dbname, sizeof fx->dbname, "state_records_test_%d", (int)getpid());
        bootstrap = PQconnectdb(stack_env_get(fx->env, "DATABASE_ADMIN_URL"));
        (void)snprintf(sql, sizeof sql, "CREATE DATABASE %s", fx->dbname);
        res = PQexec(bootstrap, sql);
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
                fprintf(stderr, "%s", PQerrorMessage(bootstrap));
                PQclear(res);
                PQfinish(bootstrap);
                return -1;
        }
        PQclear(res);
        PQfinish(bootstrap);
        test_url_with_database(stack_env_get(fx->env, "DATABASE_ADMIN_URL"), fx->dbname,
                               fx->admin_url, sizeof fx->admin_url);
        test_url_with_database(stack_env_get(fx->env, "DATABASE_URL"), fx->dbname, fx->watchdog_url,
                               sizeof fx->watchdog_url);
        fx->admin = PQconnectdb(fx->admin_url);
        if (PQstatus(fx->admin) != CONNECTION_OK) {
                fprintf(stderr, "%s", PQerrorMessage(fx->admin));
                return -1;
        }
        PQsetNoticeProcessor(fx->admin, quiet, NULL);
        if (migrate_run(fx->admin, &opt, &report, &err) != RW_OK) {
                fprintf(stderr, "%s\n", err.msg);
                return -1;
        }
        cfg.conninfo = fx->watchdog_url;
        cfg.name = "ledger";
        if ((fx->c = dbconn_new(&cfg, &err)) == NULL ||
            dbconn_add_statements(fx->c, state_statements, state_nstatements, &err) != RW_OK ||
            dbconn_ensure(fx->c, &err) != RW_OK) {
                fprintf(stderr, "%s\n", err.msg);
                return -1;
        }
        return 0;
}

static int teardown(void **state)
{
        struct fixture *fx = *state;
        char sql[128];
        PGconn *bootstrap;

        dbconn_free(fx->c);
        PQfinish(fx->admin);
        bootstrap = PQconnectdb(stack_env_get(fx->env, "DATABASE_ADMIN_URL"));
        (void)snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", fx->dbname);
        PQclear(PQexec(bootstrap, sql));
        PQfinish(bootstrap);
        stack_env_free(fx->env);
        free(fx);
        return 0;
}

/* Each test starts with no halts and no findings. */
static int reset(void **state)
{
        struct fixture *fx = *state;
        PGresult *res = PQexec(fx->admin, "TRUNCATE relaywatch_state.halts, "
                                          "relaywatch_state.findings RESTART IDENTITY");
        int ok = PQresultStatus(res) == PGRES_COMMAND_OK;

        PQclear(res);
        return ok ? 0 : -1;
}

static const char halt_msg[] =
        "{\"v\":1,\"type\":\"HALT\",\"id\":\"" HALT_ID "\",\"invariant\":\"SUPPLY_MISMATCH\"}";
static const char halt_sig[] = "c2lnbmF0dXJlIGJ5dGVz";

static struct state_halt sample_halt(void)
{
        struct state_halt h;

        memset(&h, 0, sizeof h);
        h.halt_id = HALT_ID;
        h.invariant = "SUPPLY_MISMATCH";
        h.severity = "CRITICAL";
        h.reason = "SIGIL: ledger locked 100 != lockbox 99";
        h.evidence_json = "{\"asset\":\"SIGIL\",\"ledger\":\"100\",\"chain\":\"99\"}";
        h.heights_json = "{\"source\":1234,\"execution\":5678}";
        h.correlation_id = "rw-0123456789abcdef";
        h.msg = halt_msg;
        h.sig = halt_sig;
        h.issued_at_ms = ISSUED_MS;
        h.published_at_ms = 0;
        return h;
}

static void assert_times(struct fixture *fx, const char *id, int64_t issued, int64_t published,
                         int64_t acked)
{
        struct state_halt_times t = {-1, -1, -1};
        struct rwerr err;
        int found = -1;

        if (state_halt_times(fx->c, id, &t, &found, &err) != RW_OK)
                fail_msg("%s", err.msg);
        assert_int_equal(found, 1);
        assert_int_equal(t.issued_at_ms, issued);
        assert_int_equal(t.published_at_ms, published);
        assert_int_equal(t.acknowledged_at_ms, acked);
}

static void halt_recorded_again_is_one_row(void **state)
{
        struct fixture *fx = *state;
        struct state_halt h = sample_halt();
        struct state_halt_times t = {7, 7, 7};
        struct rwerr err;
        int found = -1;

        assert_int_equal(state_halt_times(fx->c, HALT_ID, &t, &found, &err), RW_OK);
        assert_int_equal(found, 0);
        assert_int_equal(t.issued_at_ms, 7);

        if (state_halt_record(fx->c, &h, &err) != RW_OK)
                fail_msg("%s", err.msg);
        assert_times(fx, HALT_ID, ISSUED_MS, 0, 0);
        /* exact, in UTC, to the millisecond */
        assert_admin_value(fx,
                           "SELECT to_char(issued_at AT TIME ZONE 'UTC', "
                           "'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') FROM relaywatch_state.halts",
                           "2026-11-18T11:06:40.123Z");
        assert_admin_value(fx, "SELECT published_at IS NULL FROM relaywatch_state.halts", "t");
        assert_admin_value(fx, "SELECT msg FROM relaywatch_state.halts", halt_msg);
        assert_admin_value(fx, "SELECT sig FROM relaywatch_state.halts", halt_sig);
        assert_admin_value(fx, "SELECT evidence->>'chain' FROM relaywatch_state.halts", "99");
        assert_admin_value(fx, "SELECT heights->>'execution' FROM relaywatch_state.halts", "5678");
        assert_admin_value(fx, "SELECT correlation_id FROM relaywatch_state.halts",
                           "rw-0123456789abcdef");

        /* a retry, or a second replica: still one row, the first record kept */
        h.reason = "a later, different reason";
        h.issued_at_ms = ISSUED_MS + 5000;
        assert_int_equal(state_halt_record(fx->c, &h, &err), RW_OK);
        assert_int_equal(state_halt_record(fx->c, &h, &err), RW_OK);
        assert_admin_value(fx, "SELECT count(*) FROM relaywatch_state.halts", "1");
        assert_admin_value(fx, "SELECT reason FROM relaywatch_state.halts",
                           "SIGIL: ledger locked 100 != lockbox 99");
        assert_times(fx, HALT_ID, ISSUED_MS, 0, 0);
}

static void published_at_is_filled_once(void **state)
{
        struct fixture *fx = *state;
        struct state_halt h = sample_halt();
        struct rwerr err;

        /* recorded from the outbox, before Redis took it */
        assert_int_equal(state_halt_record(fx->c, &h, &err), RW_OK);
        assert_times(fx, HALT_ID, ISSUED_MS, 0, 0);
        /* delivered later */
        h.published_at_ms = PUBLISHED_MS;
        assert_int_equal(state_halt_record(fx->c, &h, &err), RW_OK);
        assert_times(fx, HALT_ID, ISSUED_MS, PUBLISHED_MS, 0);
        /* neither a later publication nor a record without one changes it */
        h.published_at_ms = PUBLISHED_MS + 999;
        assert_int_equal(state_halt_record(fx->c, &h, &err), RW_OK);
        h.published_at_ms = 0;
        assert_int_equal(state_halt_record(fx->c, &h, &err), RW_OK);
        assert_times(fx, HALT_ID, ISSUED_MS, PUBLISHED_MS, 0);
        assert_admin_value(fx, "SELECT count(*) FROM relaywatch_state.halts", "1");
}

static void first_acknowledgement_stays(void **state)
{
        struct fixture *fx = *state;
        struct state_halt h = sample_halt();
        struct rwerr err;

        h.published_at_ms = PUBLISHED_MS;
        assert_int_equal(state_halt_record(fx->c, &h, &err), RW_OK);
        if (state_halt_acknowledged(fx->c, HALT_ID, ACKED_MS, &err) != RW_OK)
                fail_msg("%s", err.msg);
        assert_times(fx, HALT_ID, ISSUED_MS, PUBLISHED_MS, ACKED_MS);
        assert_int_equal(state_halt_acknowledged(fx->c, HALT_ID, ACKED_MS + 60000, &err), RW_OK);
        assert_times(fx, HALT_ID, ISSUED_MS, PUBLISHED_MS, ACKED_MS);
        assert_admin_value(fx,
                           "SELECT to_char(acknowledged_at AT TIME ZONE 'UTC', "
                           "'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') FROM relaywatch_state.halts",
                           "2026-11-18T11:06:44.567Z");
        /* re-recording the halt leaves the acknowledgement alone */
        assert_int_equal(state_halt_record(fx->c, &h, &err), RW_OK);
        assert_times(fx, HALT_ID, ISSUED_MS, PUBLISHED_MS, ACKED_MS);

        /* an id that was never recorded */
        assert_int_equal(state_halt_acknowledged(fx->c, "halt-ffffffffffffffffffffffffffffffff",
                                                 ACKED_MS, &err),
                         RW_ERR_INVALID);
        assert_non_null(strstr(err.msg, "halt-ffffffffffffffffffffffffffffffff"));
        assert_non_null(strstr(err.msg, "no halt with that id is recorded"));
        assert_int_equal(state_halt_acknowledged(fx->c, HALT_ID, 0, &err), RW_ERR_RANGE);
        assert_non_null(strstr(err.msg, "acked_at_ms = 0 ms"));
}

static void findings_are_appended(void **state)
{
        struct fixture *fx = *state;
        struct rwerr err;

        if (state_finding_record(fx->c, "HALT_NOT_ACKNOWLEDGED", "CRITICAL",
                                 "halt " HALT_ID " not acknowledged by group relayer in 10000 ms",
                                 "{\"halt_id\":\"" HALT_ID "\",\"waited_ms\":10000}",
                                 "rw-0123456789abcdef", &err) != RW_OK)
                fail_msg("%s", err.msg);
        assert_int_equal(state_finding_record(fx->c, "HALT_PATH_DOWN", "CRITICAL",
                                              "redis://127.0.0.1:6379/0 unreachable", NULL, "rw-1",
                                              &err),
                         RW_OK);
        /* the same finding again is a second observation, not a duplicate to drop */
        assert_int_equal(state_finding_record(fx->c, "HALT_PATH_DOWN", "CRITICAL",
                                              "redis://127.0.0.1:6379/0 unreachable", NULL, "rw-2",
                                              &err),
                         RW_OK);
        assert_admin_value(fx, "SELECT count(*) FROM relaywatch_state.findings", "3");
        assert_admin_value(fx,
                           "SELECT kind || ' ' || severity || ' ' || correlation_id || ' ' || "
                           "(evidence->>'waited_ms') FROM relaywatch_state.findings "
                           "WHERE finding_id = 1",
                           "HALT_NOT_ACKNOWLEDGED CRITICAL rw-0123456789abcdef 10000");
        assert_admin_value(fx,
                           "SELECT evidence::text FROM relaywatch_state.findings "
                           "WHERE finding_id = 2",
                           "{}");
        assert_admin_value(fx,
                           "SELECT bool_and(observed_at > now() - interval '1 minute') "
                           "FROM relaywatch_state.findings",
                           "t");
}

static void bad_input_is_refused_by_name(void **state)
{
        struct fixture *fx = *state;
        struct state_halt h;
        struct rwerr err;
        char *big = malloc(STATE_JSON_MAX + 2);

        assert_non_null(big);

        h = sample_halt();
        h.invariant = NULL;
        assert_int_equal(state_halt_record(fx->c, &h, &err), RW_ERR_INVALID);
        assert_string_equal(err.msg,
                            "recording halt " HALT_ID ": invariant is NULL, and it is required");
        h = sample_halt();
        h.halt_id = NULL;
        assert_int_equal(state_halt_record(fx->c, &h, &err), RW_ERR_INVALID);
        assert_non_null(strstr(err.msg, "halt_id is NULL"));
        h = sample_halt();
        h.reason = "";
        assert_int_equal(state_halt_record(fx->c, &h, &err), RW_ERR_INVALID);
        assert_non_null(strstr(err.msg, "reason is empty"));
        h = sample_halt();
        h.heights_json = NULL;
        assert_int_equal(state_halt_record(fx->c, &h, &err), RW_ERR_INVALID);
        assert_non_null(strstr(err.msg, "heights is NULL"));

        memset(big, 'r', STATE_TEXT_MAX + 1);
        big[STATE_TEXT_MAX + 1] = '\0';
        h = sample_halt();
        h.reason = big;
        assert_int_equal(state_halt_record(fx->c, &h, &err), RW_ERR_RANGE);
        assert_non_null(strstr(err.msg, "reason is longer than the limit of 4096 bytes"));
        big[STATE_TEXT_MAX] = '\0'; /* exactly at the limit: fine */
        h.halt_id = "halt-00000000000000000000000000000001";
        assert_int_equal(state_halt_record(fx->c, &h, &err), RW_OK);

        memset(big, ' ', STATE_JSON_MAX + 1);
        big[0] = '{';
        big[STATE_JSON_MAX] = '}';
        big[STATE_JSON_MAX + 1] = '\0';
        h = sample_halt();
        h.evidence_json = big;
        assert_int_equal(state_halt_record(fx->c, &h, &err), RW_ERR_RANGE);
        assert_non_null(strstr(err.msg, "evidence is longer than the limit of 262144 bytes"));

        h = sample_halt();
        h.issued_at_ms = 0;
        assert_int_equal(state_halt_record(fx->c, &h, &err), RW_ERR_RANGE);
        assert_non_null(strstr(err.msg, "issued_at_ms = 0 ms is not a time"));
        h = sample_halt();
        h.published_at_ms = -1;
        assert_int_equal(state_halt_record(fx->c, &h, &err), RW_ERR_RANGE);
        assert_non_null(strstr(err.msg, "published_at_ms = -1 ms"));

        /* JSON is PostgreSQL's to judge; its word comes back */
        h = sample_halt();
        h.evidence_json = "{\"asset\": SIGIL}";
        assert_int_equal(state_halt_record(fx->c, &h, &err), RW_ERR_IO);
        assert_non_null(strstr(err.msg, "recording halt " HALT_ID));
        assert_non_null(strstr(err.msg, "invalid input syntax for type json"));

        assert_int_equal(
                state_finding_record(fx->c, "HALT_PATH_DOWN", "CRITICAL", NULL, NULL, "rw-1", &err),
                RW_ERR_INVALID);
        assert_string_equal(
                err.msg, "recording finding HALT_PATH_DOWN: summary is NULL, and it is required");
        assert_int_equal(
                state_finding_record(fx->c, "HALT_PATH_DOWN", "CRITICAL", "x", NULL, "", &err),
                RW_ERR_INVALID);
        assert_non_null(strstr(err.msg, "correlation_id is empty"));
        assert_int_equal(state_finding_record(fx->c, NULL, "CRITICAL", "x", NULL, "rw-1", &err),
                         RW_ERR_INVALID);
        assert_non_null(strstr(err.msg, "kind is NULL"));
        assert_int_equal(state_finding_record(fx->c, "X", "CRITICAL", "x", "[1,", "rw-1", &err),
                         RW_ERR_IO);
        assert_non_null(strstr(err.msg, "invalid input syntax for type json"));

        /* only the one record at the limit got in */
        assert_admin_value(fx, "SELECT count(*) FROM relaywatch_state.halts", "1");
        assert_admin_value(fx, "SELECT count(*) FROM relaywatch_state.findings", "0");
        /* and the connection still works after the server's refusals */
        h = sample_halt();
        assert_int_equal(state_halt_record(fx->c, &h, &err), RW_OK);
        free(big);
}

static void never_inside_an_open_transaction(void **state)
{
        struct fixture *fx = *state;
        struct state_halt h = sample_halt();
        struct rwerr err;

        assert_int_equal(dbconn_command(fx->c,
                                        "BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ "
                                        "READ ONLY",
                                        &err),
                         RW_OK);
        assert_int_equal(state_halt_record(fx->c, &h, &err), RW_ERR_INVALID);
        assert_non_null(strstr(err.msg, "refused inside an open transaction"));
        assert_int_equal(state_finding_record(fx->c, "K", "WARNING", "s", NULL, "rw-1", &err),
                         RW_ERR_INVALID);
        assert_int_equal(state_halt_acknowledged(fx->c, HALT_ID, ACKED_MS, &err), RW_ERR_INVALID);
        assert_int_equal(dbconn_command(fx->c, "ROLLBACK", &err), RW_OK);
        /* after the snapshot: written, and committed on its own */
        assert_int_equal(state_halt_record(fx->c, &h, &err), RW_OK);
        assert_admin_value(fx, "SELECT count(*) FROM relaywatch_state.halts", "1");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup(halt_recorded_again_is_one_row, reset),
                cmocka_unit_test_setup(published_at_is_filled_once, reset),
                cmocka_unit_test_setup(first_acknowledgement_stays, reset),
                cmocka_unit_test_setup(findings_are_appended, reset),
                cmocka_unit_test_setup(bad_input_is_refused_by_name, reset),
                cmocka_unit_test_setup(never_inside_an_open_transaction, reset),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
