/*
 * db/state's halt and finding records against the stack's real PostgreSQL,
 * written as the watchdog's own role (relaywatch_reader): a halt recorded
 * and recorded again is one row; published_at is filled once, later; the
 * first acknowledgement stays; findings are appended; times are exact to
 * the millisecond; missing, oversized and malformed values are refused
 * with a message that names the field; nothing is written inside an open
 * transaction. The audit log's checkpoints: one written through the record
 * queue lands exactly; the same again is nothing new; another root for the
 * same size is refused (and dropped from the queue, said at CRITICAL); the
 * latest is the largest size; the watchdog's role cannot change or remove
 * one; `relaywatch audit checkpoint` prints the newest note exactly, from
 * the database and from Redis. The known-anchors index: an event added
 * again is one row, lookups by root stay within their chain id and
 * registry, run inside a read-only snapshot, and the watchdog's role only
 * appends; cursors saved together.
 *
 * The run works in a database of its own (created and dropped here) with
 * `relaywatch db migrate`'s SQL applied.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <hiredis/hiredis.h>
#include <libpq-fe.h>
#include <sodium.h>

#include "audit_note.h"
#include "cmd_audit_checkpoint.h"
#include "dbconn.h"
#include "jsonlog.h"
#include "migrate.h"
#include "record_queue.h"
#include "redisconn.h"
#include "rwerr.h"
#include "stack_env.h"
#include "state.h"
#include "test_util.h"

#define HALT_ID "halt-0123456789abcdef0123456789abcdef"
#define ISSUED_MS 1795000000123LL /* 2026-11-18T11:06:40.123Z */
#define PUBLISHED_MS 1795000000456LL
#define ACKED_MS 1795000004567LL /* 2026-11-18T11:06:44.567Z */
#define ORIGIN "relaywatch/state-test"
#define SIGNED_MS 1795000007089LL /* 2026-11-18T11:06:47.089Z */

struct fixture {
        struct stack_env *env;
        char dbname[64];
        char admin_url[512];
        char watchdog_url[512];
        PGconn *admin;
        struct dbconn *c; /* as the watchdog */
        char redis_url[512];
        char dir[64];       /* for `audit checkpoint`'s configuration */
        char conf[128];     /* DIR/relaywatch.conf */
        char redis_key[96]; /* its [audit] redis_key */
        unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
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
        (void)snprintf(fx->redis_url, sizeof fx->redis_url, "%s",
                       stack_env_get(fx->env, "REDIS_URL"));
        (void)snprintf(fx->redis_key, sizeof fx->redis_key, "test:%d:audit", (int)getpid());
        (void)snprintf(fx->dir, sizeof fx->dir, "/tmp/relaywatch-state-records.XXXXXX");
        if (mkdtemp(fx->dir) == NULL)
                return -1;
        (void)snprintf(fx->conf, sizeof fx->conf, "%s/relaywatch.conf", fx->dir);
        {
                unsigned char seed[crypto_sign_SEEDBYTES];

                memset(seed, 0x5a, sizeof seed);
                (void)crypto_sign_seed_keypair(fx->pk, fx->sk, seed);
        }
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
        (void)unlink(fx->conf);
        (void)rmdir(fx->dir);
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
                                          "relaywatch_state.findings, "
                                          "relaywatch_state.audit_checkpoints RESTART IDENTITY");
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

/* ------------------------------------------------------------ cursors and the anchor index */

static int denied(PGconn *pg, const char *sql);

static const uint8_t registry_a[20] = {0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa,
                                       0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa};
static const uint8_t registry_b[20] = {0xbb, 0xbb, 0xbb, 0xbb, 0xbb, 0xbb, 0xbb, 0xbb, 0xbb, 0xbb,
                                       0xbb, 0xbb, 0xbb, 0xbb, 0xbb, 0xbb, 0xbb, 0xbb, 0xbb, 0xbb};

static struct state_anchor event(uint8_t root, uint64_t batch, uint64_t block, uint8_t tx)
{
        struct state_anchor a;

        memset(&a, 0, sizeof a);
        memset(a.root, root, sizeof a.root);
        a.batch_number = batch;
        a.block_number = block;
        memset(a.tx_hash, tx, sizeof a.tx_hash);
        return a;
}

static void anchors_indexed_once_and_found_by_root(void **state)
{
        struct fixture *fx = *state;
        struct state_anchor in[3], *out = NULL;
        uint8_t roots[2][32];
        size_t n = 0;
        struct rwerr err;
        PGconn *pg;

        assert_admin_value(fx,
                           "SELECT count(*) FROM (SELECT 1 FROM pg_tables WHERE schemaname = "
                           "'relaywatch_state' AND tablename = 'anchors') t",
                           "1");
        PQclear(PQexec(fx->admin, "TRUNCATE relaywatch_state.anchors"));
        in[0] = event(0x11, 1, 50, 0xa1);
        in[1] = event(0x22, 2, 60, 0xa2);
        in[2] = event(0x11, UINT64_MAX, 70, 0xa3); /* root 0x11 again, a batch id past bigint */
        assert_int_equal(state_anchors_add(fx->c, 31337, registry_a, in, 3, &err), RW_OK);
        /* again (a full sweep reads them again), and under another registry */
        assert_int_equal(state_anchors_add(fx->c, 31337, registry_a, in, 3, &err), RW_OK);
        assert_int_equal(state_anchors_add(fx->c, 31337, registry_b, in, 1, &err), RW_OK);
        assert_admin_value(fx, "SELECT count(*) FROM relaywatch_state.anchors", "4");

        memset(roots[0], 0x11, 32);
        memset(roots[1], 0x33, 32);
        assert_int_equal(state_anchors_lookup(fx->c, 31337, registry_a, (const uint8_t(*)[32])roots,
                                              2, &out, &n, &err),
                         RW_OK);
        assert_int_equal(n, 2);
        assert_int_equal(out[0].block_number, 50);
        assert_int_equal(out[0].batch_number, 1);
        assert_int_equal(out[0].tx_hash[0], 0xa1);
        assert_int_equal(out[1].block_number, 70);
        assert_true(out[1].batch_number == UINT64_MAX);
        assert_int_equal(out[1].root[31], 0x11);
        free(out);
        /* another chain id, another registry: their own */
        assert_int_equal(state_anchors_lookup(fx->c, 1, registry_a, (const uint8_t(*)[32])roots, 2,
                                              &out, &n, &err),
                         RW_OK);
        assert_int_equal(n, 0);
        assert_null(out);
        assert_int_equal(state_anchors_lookup(fx->c, 31337, registry_b, (const uint8_t(*)[32])roots,
                                              1, &out, &n, &err),
                         RW_OK);
        assert_int_equal(n, 1);
        free(out);
        /* inside a read-only snapshot: a lookup reads, an add is refused */
        assert_int_equal(dbconn_command(fx->c,
                                        "BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ "
                                        "READ ONLY",
                                        &err),
                         RW_OK);
        assert_int_equal(state_anchors_lookup(fx->c, 31337, registry_a, (const uint8_t(*)[32])roots,
                                              1, &out, &n, &err),
                         RW_OK);
        assert_int_equal(n, 2);
        free(out);
        assert_int_equal(state_anchors_add(fx->c, 31337, registry_a, in, 1, &err), RW_ERR_INVALID);
        assert_int_equal(dbconn_command(fx->c, "ROLLBACK", &err), RW_OK);
        /* the watchdog's role appends only */
        pg = PQconnectdb(fx->watchdog_url);
        assert_int_equal(PQstatus(pg), CONNECTION_OK);
        assert_true(denied(pg, "UPDATE relaywatch_state.anchors SET block_number = 1"));
        assert_true(denied(pg, "DELETE FROM relaywatch_state.anchors"));
        PQfinish(pg);
        PQclear(PQexec(fx->admin, "TRUNCATE relaywatch_state.anchors"));
}

static void cursors_saved_together(void **state)
{
        struct fixture *fx = *state;
        const char *names[2] = {"batches_after/state-test", "anchors_after/state-test"};
        int64_t values[2] = {7, 1234}, v = 0;
        int found = 0;
        struct rwerr err;

        assert_int_equal(state_cursors_save(fx->c, names, values, 2, &err), RW_OK);
        values[0] = 8;
        values[1] = 1300;
        assert_int_equal(state_cursors_save(fx->c, names, values, 2, &err), RW_OK);
        assert_int_equal(state_cursor_load(fx->c, names[0], &v, &found, &err), RW_OK);
        assert_true(found && v == 8);
        assert_int_equal(state_cursor_load(fx->c, names[1], &v, &found, &err), RW_OK);
        assert_true(found && v == 1300);
        /* one name missing: refused before anything is sent, nothing saved */
        names[1] = "";
        values[0] = 9;
        assert_int_equal(state_cursors_save(fx->c, names, values, 2, &err), RW_ERR_INVALID);
        assert_int_equal(state_cursor_load(fx->c, names[0], &v, &found, &err), RW_OK);
        assert_true(found && v == 8);
        PQclear(PQexec(fx->admin,
                       "DELETE FROM relaywatch_state.cursors WHERE name LIKE '%/state-test'"));
}

/* ------------------------------------------------------------ audit checkpoints */

/* A root that is `b` repeated. */
static void fill_root(unsigned char root[32], unsigned char b)
{
        memset(root, b, 32);
}

/* The checkpoint of (origin, size, root) signed with the fixture's key, as the log signs it. */
static char *signed_note(struct fixture *fx, const char *origin, uint64_t size,
                         const unsigned char root[32])
{
        struct audit_checkpoint cp;
        char *text = NULL, *note = NULL;
        struct rwerr err;

        memset(&cp, 0, sizeof cp);
        (void)snprintf(cp.origin, sizeof cp.origin, "%s", origin);
        cp.size = size;
        memcpy(cp.root, root, 32);
        if (audit_checkpoint_format(&cp, &text, &err) != RW_OK ||
            audit_note_sign(text, origin, fx->sk, &note, &err) != RW_OK)
                fail_msg("%s", err.msg);
        free(text);
        return note;
}

static struct state_audit_checkpoint checkpoint_of(const char *origin, uint64_t size,
                                                   const unsigned char *root, const char *note)
{
        struct state_audit_checkpoint cp;

        memset(&cp, 0, sizeof cp);
        cp.origin = origin;
        cp.size = size;
        cp.root = root;
        cp.note = note;
        cp.epoch = 3;
        cp.key_id = "key-epoch-3";
        cp.signed_at_ms = SIGNED_MS;
        return cp;
}

static void put_ok(struct fixture *fx, const struct state_audit_checkpoint *cp)
{
        struct rwerr err;

        if (state_audit_checkpoint_put(fx->c, cp, &err) != RW_OK)
                fail_msg("%s", err.msg);
}

/* Captures jsonlog's lines while alive (open_memstream); restore with end_log. */
struct captured_log {
        FILE *f;
        char *text;
        size_t len;
};

static void begin_log(struct captured_log *l)
{
        memset(l, 0, sizeof *l);
        l->f = open_memstream(&l->text, &l->len);
        assert_non_null(l->f);
        jsonlog_set_output(l->f);
}

static void end_log(struct captured_log *l)
{
        jsonlog_set_output(NULL);
        assert_int_equal(fclose(l->f), 0);
}

static void checkpoint_through_the_queue_lands(void **state)
{
        struct fixture *fx = *state;
        struct record_queue *q = record_queue_new();
        unsigned char root[32];
        char *note;
        size_t written = 0;
        struct rwerr err;

        assert_non_null(q);
        fill_root(root, 0xab);
        note = signed_note(fx, ORIGIN, 1075, root);
        assert_int_equal(record_queue_add_checkpoint(q, ORIGIN, 1075, root, note, 3, "key-epoch-3",
                                                     SIGNED_MS),
                         RW_OK);
        /* the queue holds its own copies */
        fill_root(root, 0x00);
        if (record_queue_flush_db(q, fx->c, &written, &err) != RW_OK)
                fail_msg("%s", err.msg);
        assert_int_equal(written, 1);
        assert_int_equal(record_queue_waiting(q), 0);
        assert_int_equal(record_queue_refused(q), 0);

        assert_admin_value(fx, "SELECT count(*) FROM relaywatch_state.audit_checkpoints", "1");
        assert_admin_value(fx,
                           "SELECT origin || ' ' || size || ' ' || epoch || ' ' || key_id "
                           "FROM relaywatch_state.audit_checkpoints",
                           ORIGIN " 1075 3 key-epoch-3");
        assert_admin_value(fx, "SELECT encode(root, 'hex') FROM relaywatch_state.audit_checkpoints",
                           "abababababababababababababababababababababababababababababababab");
        assert_admin_value(fx, "SELECT note FROM relaywatch_state.audit_checkpoints", note);
        assert_admin_value(fx,
                           "SELECT to_char(signed_at AT TIME ZONE 'UTC', "
                           "'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') "
                           "FROM relaywatch_state.audit_checkpoints",
                           "2026-11-18T11:06:47.089Z");
        assert_admin_value(fx,
                           "SELECT recorded_at > now() - interval '1 minute' "
                           "FROM relaywatch_state.audit_checkpoints",
                           "t");
        free(note);
        record_queue_free(q);
}

static void same_checkpoint_again_is_nothing_new(void **state)
{
        struct fixture *fx = *state;
        struct record_queue *q = record_queue_new();
        unsigned char root[32];
        char *note = NULL, *other_note;
        struct state_audit_checkpoint cp;
        size_t written = 0;
        struct rwerr err;

        assert_non_null(q);
        fill_root(root, 0x11);
        note = signed_note(fx, ORIGIN, 40, root);
        cp = checkpoint_of(ORIGIN, 40, root, note);
        put_ok(fx, &cp);
        /* sent again after a restart: directly and through the queue, twice */
        put_ok(fx, &cp);
        assert_int_equal(
                record_queue_add_checkpoint(q, ORIGIN, 40, root, note, 3, "key-epoch-3", SIGNED_MS),
                RW_OK);
        assert_int_equal(
                record_queue_add_checkpoint(q, ORIGIN, 40, root, note, 3, "key-epoch-3", SIGNED_MS),
                RW_OK);
        if (record_queue_flush_db(q, fx->c, &written, &err) != RW_OK)
                fail_msg("%s", err.msg);
        assert_int_equal(written, 2);
        assert_int_equal(record_queue_refused(q), 0);
        /* the same root with another note (a later epoch, say): the first note stays */
        other_note = signed_note(fx, ORIGIN, 40, root);
        other_note[strlen(other_note) - 3] ^= 0x01; /* a different signature line */
        cp.note = other_note;
        cp.epoch = 4;
        put_ok(fx, &cp);
        assert_admin_value(fx, "SELECT count(*) FROM relaywatch_state.audit_checkpoints", "1");
        assert_admin_value(fx, "SELECT note FROM relaywatch_state.audit_checkpoints", note);
        assert_admin_value(fx, "SELECT epoch FROM relaywatch_state.audit_checkpoints", "3");
        free(other_note);
        free(note);
        record_queue_free(q);
}

static void another_root_for_the_same_size_is_refused(void **state)
{
        struct fixture *fx = *state;
        struct record_queue *q = record_queue_new();
        unsigned char root[32], forked[32], later[32];
        char *note, *forked_note, *later_note;
        struct state_audit_checkpoint cp;
        struct captured_log log;
        size_t written = 0;
        struct rwerr err;
        int rc;

        assert_non_null(q);
        fill_root(root, 0x22);
        fill_root(forked, 0x33);
        fill_root(later, 0x44);
        note = signed_note(fx, ORIGIN, 1075, root);
        forked_note = signed_note(fx, ORIGIN, 1075, forked);
        later_note = signed_note(fx, ORIGIN, 1200, later);
        cp = checkpoint_of(ORIGIN, 1075, root, note);
        put_ok(fx, &cp);

        cp = checkpoint_of(ORIGIN, 1075, forked, forked_note);
        assert_int_equal(state_audit_checkpoint_put(fx->c, &cp, &err), RW_ERR_REFUSED);
        assert_string_equal(err.msg,
                            "the database already holds another root for checkpoint 1075 of " ORIGIN
                            ": the audit log was rewritten or forked "
                            "(held IiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiI=, "
                            "now MzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzM=)");
        assert_admin_value(fx, "SELECT encode(root, 'hex') FROM relaywatch_state.audit_checkpoints",
                           "2222222222222222222222222222222222222222222222222222222222222222");

        /* through the queue: said at CRITICAL, dropped, and what follows is written */
        assert_int_equal(record_queue_add_checkpoint(q, ORIGIN, 1075, forked, forked_note, 3,
                                                     "key-epoch-3", SIGNED_MS),
                         RW_OK);
        assert_int_equal(record_queue_add_checkpoint(q, ORIGIN, 1200, later, later_note, 3,
                                                     "key-epoch-3", SIGNED_MS + 60000),
                         RW_OK);
        begin_log(&log);
        rc = record_queue_flush_db(q, fx->c, &written, &err);
        end_log(&log);
        if (rc != RW_OK)
                fail_msg("%s", err.msg);
        assert_int_equal(written, 1);
        assert_int_equal(record_queue_refused(q), 1);
        assert_int_equal(record_queue_waiting(q), 0);
        assert_non_null(strstr(log.text, "\"level\":\"critical\""));
        assert_non_null(strstr(log.text, "\"event\":\"audit_checkpoint_refused\""));
        assert_non_null(strstr(log.text, "\"origin\":\"" ORIGIN "\""));
        assert_non_null(strstr(log.text, "\"size\":1075"));
        assert_non_null(strstr(log.text, "the audit log was rewritten or forked"));
        assert_admin_value(fx,
                           "SELECT string_agg(size || ':' || encode(root, 'hex'), ',' "
                           "ORDER BY size) FROM relaywatch_state.audit_checkpoints",
                           "1075:2222222222222222222222222222222222222222222222222222222222222222,"
                           "1200:4444444444444444444444444444444444444444444444444444444444444444");
        free(log.text);
        free(note);
        free(forked_note);
        free(later_note);
        record_queue_free(q);
}

static void latest_is_the_largest_size(void **state)
{
        struct fixture *fx = *state;
        static const uint64_t sizes[] = {5, 1100, 17};
        unsigned char roots[3][32], other[32];
        char *notes[3], *other_note;
        struct state_audit_checkpoint_row row;
        struct state_audit_checkpoint cp;
        struct rwerr err;
        int found = -1;
        size_t i;

        memset(&row, 0, sizeof row);
        row.size = 77;
        assert_int_equal(state_audit_checkpoint_latest(fx->c, ORIGIN, &row, &found, &err), RW_OK);
        assert_int_equal(found, 0);
        assert_int_equal(row.size, 77); /* untouched */

        for (i = 0; i < 3; i++) {
                fill_root(roots[i], (unsigned char)(0x50 + i));
                notes[i] = signed_note(fx, ORIGIN, sizes[i], roots[i]);
                cp = checkpoint_of(ORIGIN, sizes[i], roots[i], notes[i]);
                cp.epoch = i;
                cp.signed_at_ms = SIGNED_MS + (int64_t)i;
                put_ok(fx, &cp);
        }
        /* another log's larger checkpoint is not this one's */
        fill_root(other, 0x99);
        other_note = signed_note(fx, "relaywatch/another", 5000, other);
        cp = checkpoint_of("relaywatch/another", 5000, other, other_note);
        put_ok(fx, &cp);

        if (state_audit_checkpoint_latest(fx->c, ORIGIN, &row, &found, &err) != RW_OK)
                fail_msg("%s", err.msg);
        assert_int_equal(found, 1);
        assert_int_equal(row.size, 1100);
        assert_memory_equal(row.root, roots[1], 32);
        assert_string_equal(row.note, notes[1]);
        assert_int_equal(row.epoch, 1);
        assert_string_equal(row.key_id, "key-epoch-3");
        assert_int_equal(row.signed_at_ms, SIGNED_MS + 1);
        free(row.note);

        for (i = 0; i < 3; i++)
                free(notes[i]);
        free(other_note);
}

/* Runs `sql` on `pg`; 1 when the server refused it for lack of rights (SQLSTATE 42501). */
static int denied(PGconn *pg, const char *sql)
{
        PGresult *res = PQexec(pg, sql);
        const char *code = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        int no = PQresultStatus(res) == PGRES_FATAL_ERROR && code != NULL &&
                 strcmp(code, "42501") == 0;

        if (!no)
                fprintf(stderr, "not refused for lack of rights: %s (%s)\n", sql,
                        PQresultErrorMessage(res));
        PQclear(res);
        return no;
}

static void watchdog_role_cannot_change_a_checkpoint(void **state)
{
        struct fixture *fx = *state;
        unsigned char root[32];
        struct state_audit_checkpoint cp;
        char *note;
        PGconn *pg;

        fill_root(root, 0x66);
        note = signed_note(fx, ORIGIN, 9, root);
        cp = checkpoint_of(ORIGIN, 9, root, note);
        put_ok(fx, &cp);

        /* as the watchdog's own login (granted relaywatch_reader) */
        pg = PQconnectdb(fx->watchdog_url);
        assert_int_equal(PQstatus(pg), CONNECTION_OK);
        assert_true(denied(pg, "UPDATE relaywatch_state.audit_checkpoints SET "
                               "root = decode(repeat('77', 32), 'hex')"));
        assert_true(denied(pg, "DELETE FROM relaywatch_state.audit_checkpoints"));
        assert_true(denied(pg, "TRUNCATE relaywatch_state.audit_checkpoints"));
        PQfinish(pg);
        assert_admin_value(fx, "SELECT encode(root, 'hex') FROM relaywatch_state.audit_checkpoints",
                           "6666666666666666666666666666666666666666666666666666666666666666");
        /* and the grants say so: append-only */
        assert_admin_value(fx,
                           "SELECT string_agg(p || '=' || has_table_privilege('relaywatch_reader', "
                           "'relaywatch_state.audit_checkpoints', p), ' ' ORDER BY p) "
                           "FROM unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', "
                           "'TRUNCATE']) AS p",
                           "DELETE=false INSERT=true SELECT=true TRUNCATE=false UPDATE=false");
        /* the old hash-chained mirror is gone */
        assert_admin_value(fx, "SELECT to_regclass('relaywatch_state.audit_mirror') IS NULL", "t");
        /* a root must be 32 bytes, even for the migrator */
        {
                PGresult *res = PQexec(
                        fx->admin, "INSERT INTO relaywatch_state.audit_checkpoints (origin, size, "
                                   "root, note, epoch, key_id, signed_at) VALUES ('o', 1, "
                                   "'\\x00'::bytea, 'n', 0, 'k', now())");

                assert_int_equal(PQresultStatus(res), PGRES_FATAL_ERROR);
                assert_string_equal(PQresultErrorField(res, PG_DIAG_SQLSTATE), "23514");
                PQclear(res);
        }
        free(note);
}

static void bad_checkpoints_are_refused_by_name(void **state)
{
        struct fixture *fx = *state;
        struct record_queue *q = record_queue_new();
        unsigned char root[32];
        struct state_audit_checkpoint cp;
        struct rwerr err;
        char *note;

        assert_non_null(q);
        fill_root(root, 0x77);
        note = signed_note(fx, ORIGIN, 12, root);

        cp = checkpoint_of(NULL, 12, root, note);
        assert_int_equal(state_audit_checkpoint_put(fx->c, &cp, &err), RW_ERR_INVALID);
        assert_string_equal(err.msg,
                            "recording checkpoint 12 of (no origin): origin is NULL, and it is "
                            "required");
        cp = checkpoint_of(ORIGIN, 12, NULL, note);
        assert_int_equal(state_audit_checkpoint_put(fx->c, &cp, &err), RW_ERR_INVALID);
        assert_non_null(strstr(err.msg, "root is NULL"));
        cp = checkpoint_of(ORIGIN, 12, root, "");
        assert_int_equal(state_audit_checkpoint_put(fx->c, &cp, &err), RW_ERR_INVALID);
        assert_non_null(strstr(err.msg, "note is empty"));
        cp = checkpoint_of(ORIGIN, (uint64_t)INT64_MAX + 1, root, note);
        assert_int_equal(state_audit_checkpoint_put(fx->c, &cp, &err), RW_ERR_RANGE);
        assert_non_null(strstr(err.msg, "size = 9223372036854775808 does not fit a bigint"));
        cp = checkpoint_of(ORIGIN, 12, root, note);
        cp.signed_at_ms = 0;
        assert_int_equal(state_audit_checkpoint_put(fx->c, &cp, &err), RW_ERR_RANGE);
        assert_non_null(strstr(err.msg, "signed_at_ms = 0 ms is not a time"));
        /* a note that signs another size (or origin, or root) than the row claims */
        cp = checkpoint_of(ORIGIN, 13, root, note);
        assert_int_equal(state_audit_checkpoint_put(fx->c, &cp, &err), RW_ERR_INVALID);
        assert_string_equal(err.msg,
                            "recording checkpoint 13 of " ORIGIN ": the note does not begin with "
                            "this checkpoint's origin, size and root "
                            "(d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3c=)");
        cp = checkpoint_of("relaywatch/state", 12, root, note);
        assert_int_equal(state_audit_checkpoint_put(fx->c, &cp, &err), RW_ERR_INVALID);
        assert_non_null(strstr(err.msg, "the note does not begin with"));
        /* never inside a cycle's snapshot */
        assert_int_equal(dbconn_command(fx->c, "BEGIN READ ONLY", &err), RW_OK);
        cp = checkpoint_of(ORIGIN, 12, root, note);
        assert_int_equal(state_audit_checkpoint_put(fx->c, &cp, &err), RW_ERR_INVALID);
        assert_non_null(strstr(err.msg, "refused inside an open transaction"));
        assert_int_equal(dbconn_command(fx->c, "ROLLBACK", &err), RW_OK);
        /* the queue takes no checkpoint with a part missing */
        assert_int_equal(record_queue_add_checkpoint(q, ORIGIN, 12, root, NULL, 3, "k", SIGNED_MS),
                         RW_ERR_INVALID);
        assert_int_equal(record_queue_add_checkpoint(q, NULL, 12, root, note, 3, "k", SIGNED_MS),
                         RW_ERR_INVALID);
        assert_int_equal(record_queue_waiting(q), 0);

        assert_admin_value(fx, "SELECT count(*) FROM relaywatch_state.audit_checkpoints", "0");
        put_ok(fx, &cp); /* and the connection still works */
        assert_admin_value(fx, "SELECT count(*) FROM relaywatch_state.audit_checkpoints", "1");
        free(note);
        record_queue_free(q);
}

/* ------------------------------------------------------------ relaywatch audit checkpoint */

static void write_config(struct fixture *fx, const char *redis_url)
{
        FILE *f;
        int fd = open(fx->conf, O_WRONLY | O_CREAT | O_TRUNC, 0600);

        assert_true(fd >= 0);
        f = fdopen(fd, "w");
        assert_non_null(f);
        fprintf(f,
                "[database]\n"
                "url = %s\n"
                "[asset SIGIL]\n"
                "source_token = 0x9fe46736679d2d9a65f0992f2272de9f3c7fa6e0\n"
                "bridged_token = 0xcf7ed3acca5a467e9e704c703e8d87f634fb0fc9\n"
                "decimals = 18\n"
                "[relayer]\n"
                "accounts = 0x70997970c51812dc3a010c7d01b50e0d17dc79c8\n"
                "[chain source]\n"
                "chain_id = 31337\n"
                "endpoints = http://127.0.0.1:8545\n"
                "lockbox = 0xdc64a140aa3e981100a9beca4e685f962f0cf6c9\n"
                "root_registry = 0xe7f1725e7734ce288f8367e1bb143e90bb3f0512\n"
                "[chain execution]\n"
                "chain_id = 31338\n"
                "endpoints = http://127.0.0.1:8546\n"
                "[redis]\n"
                "url = %s\n"
                "[audit]\n"
                "origin = " ORIGIN "\n"
                "redis_key = %s\n",
                fx->watchdog_url, redis_url, fx->redis_key);
        assert_int_equal(fclose(f), 0);
}

struct run {
        int code;
        char *out, *err;
};

/* `relaywatch audit checkpoint ARGS...` in-process (argv[0] "checkpoint", as cmd_audit passes it). */
static struct run run_checkpoint(struct fixture *fx, const char *from, const char *origin)
{
        char *argv[8], from_arg[32], origin_arg[256];
        int argc = 0;
        size_t olen = 0, elen = 0;
        struct run r;
        FILE *out, *err;

        argv[argc++] = "checkpoint";
        argv[argc++] = "-c";
        argv[argc++] = fx->conf;
        if (from != NULL) {
                argv[argc++] = "--from";
                (void)snprintf(from_arg, sizeof from_arg, "%s", from);
                argv[argc++] = from_arg;
        }
        if (origin != NULL) {
                argv[argc++] = "--origin";
                (void)snprintf(origin_arg, sizeof origin_arg, "%s", origin);
                argv[argc++] = origin_arg;
        }
        argv[argc] = NULL;
        out = open_memstream(&r.out, &olen);
        err = open_memstream(&r.err, &elen);
        assert_non_null(out);
        assert_non_null(err);
        r.code = cmd_audit_checkpoint(argc, argv, out, err);
        assert_int_equal(fclose(out), 0);
        assert_int_equal(fclose(err), 0);
        return r;
}

static void run_free(struct run *r)
{
        free(r->out);
        free(r->err);
}

static void expect_failure(struct run r, int code, const char *needle)
{
        if (r.code != code || strstr(r.err, needle) == NULL)
                fail_msg("expected exit %d and \"%s\", got %d:\n%s", code, needle, r.code, r.err);
        assert_string_equal(r.out, "");
        run_free(&r);
}

static void command_prints_the_latest_from_the_database(void **state)
{
        struct fixture *fx = *state;
        unsigned char root[32], newer[32];
        struct state_audit_checkpoint cp;
        struct audit_note parsed;
        char *note, *newer_note;
        struct rwerr err;
        struct run r;

        write_config(fx, fx->redis_url);
        expect_failure(
                run_checkpoint(fx, "db", NULL), 2,
                "relaywatch audit checkpoint: the ledger database holds no checkpoint of " ORIGIN
                " (relaywatch_state.audit_checkpoints): none published yet");

        fill_root(root, 0x81);
        fill_root(newer, 0x82);
        note = signed_note(fx, ORIGIN, 300, root);
        newer_note = signed_note(fx, ORIGIN, 301, newer);
        cp = checkpoint_of(ORIGIN, 300, root, note);
        put_ok(fx, &cp);
        cp = checkpoint_of(ORIGIN, 301, newer, newer_note);
        put_ok(fx, &cp);

        r = run_checkpoint(fx, "db", NULL);
        if (r.code != 0)
                fail_msg("exit %d: %s", r.code, r.err);
        assert_string_equal(r.out, newer_note); /* exactly, byte for byte */
        assert_string_equal(r.err, "");
        /* and it is the log's signed note: it verifies with the log's key */
        assert_int_equal(audit_note_parse(r.out, strlen(r.out), &parsed, &err), RW_OK);
        assert_int_equal(audit_note_verify(&parsed, ORIGIN, fx->pk, &err), RW_OK);
        audit_note_release(&parsed);
        run_free(&r);

        expect_failure(run_checkpoint(fx, "db", "relaywatch/nobody"), 2,
                       "holds no checkpoint of relaywatch/nobody");
        free(note);
        free(newer_note);
}

static void command_prints_the_latest_from_redis(void **state)
{
        struct fixture *fx = *state;
        unsigned char root[32];
        char *note, *foreign;
        struct rwerr err;
        redisContext *ctx = redisconn_connect(fx->redis_url, 2000, &err);
        struct run r;

        if (ctx == NULL)
                fail_msg("%s", err.msg);
        write_config(fx, fx->redis_url);
        freeReplyObject(redisCommand(ctx, "DEL %s", fx->redis_key));
        expect_failure(run_checkpoint(fx, "redis", NULL), 2,
                       "Redis holds no checkpoint (HGET test:");

        fill_root(root, 0x91);
        note = signed_note(fx, ORIGIN, 7, root);
        freeReplyObject(redisCommand(ctx, "HSET %s checkpoint %s size 7", fx->redis_key, note));
        r = run_checkpoint(fx, "redis", NULL);
        if (r.code != 0)
                fail_msg("exit %d: %s", r.code, r.err);
        assert_string_equal(r.out, note);
        assert_string_equal(r.err, "");
        run_free(&r);

        /* another log's note under our key, and something that is no note at all */
        foreign = signed_note(fx, "relaywatch/other", 7, root);
        freeReplyObject(redisCommand(ctx, "HSET %s checkpoint %s", fx->redis_key, foreign));
        expect_failure(run_checkpoint(fx, "redis", NULL), 2,
                       "holds a checkpoint of relaywatch/other, not of " ORIGIN);
        r = run_checkpoint(fx, "redis", "relaywatch/other");
        assert_int_equal(r.code, 0);
        assert_string_equal(r.out, foreign);
        run_free(&r);
        freeReplyObject(redisCommand(ctx, "HSET %s checkpoint %s", fx->redis_key, "hello"));
        expect_failure(run_checkpoint(fx, "redis", NULL), 2,
                       "holds something that is not a signed note");
        freeReplyObject(redisCommand(ctx, "DEL %s", fx->redis_key));
        redisFree(ctx);

        /* Redis away */
        write_config(fx, "redis://127.0.0.1:1/0");
        expect_failure(run_checkpoint(fx, "redis", NULL), 2,
                       "relaywatch audit checkpoint: cannot read Redis: ");
        /* the command line */
        expect_failure(run_checkpoint(fx, NULL, NULL), 64, "--from db or --from redis is required");
        expect_failure(run_checkpoint(fx, "file", NULL), 64, "--from 'file': expected db or redis");
        free(note);
        free(foreign);
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
                cmocka_unit_test_setup(anchors_indexed_once_and_found_by_root, reset),
                cmocka_unit_test_setup(cursors_saved_together, reset),
                cmocka_unit_test_setup(checkpoint_through_the_queue_lands, reset),
                cmocka_unit_test_setup(same_checkpoint_again_is_nothing_new, reset),
                cmocka_unit_test_setup(another_root_for_the_same_size_is_refused, reset),
                cmocka_unit_test_setup(latest_is_the_largest_size, reset),
                cmocka_unit_test_setup(watchdog_role_cannot_change_a_checkpoint, reset),
                cmocka_unit_test_setup(bad_checkpoints_are_refused_by_name, reset),
                cmocka_unit_test_setup(command_prints_the_latest_from_the_database, reset),
                cmocka_unit_test_setup(command_prints_the_latest_from_redis, reset),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
