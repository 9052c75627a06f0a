/*
 * halt_control tracking HALTs it did not publish (issue 16, item 5), on the
 * shared stack's Redis and PostgreSQL, with halt_control run in-process:
 *
 *   - a manual HALT (signed with an operator key, published as `relaywatch
 *     halt` does) becomes an incident from the stream (not ours), nothing
 *     is published for it, and it is recorded in relaywatch_state.halts
 *     with the time of its stream entry;
 *   - not acknowledged: HALT_NOT_ACKNOWLEDGED once after ack_timeout_ms;
 *     a restart (a new halt_control on the same state directory) neither
 *     opens it again nor pages again;
 *   - acknowledged by the relayer group: no finding;
 *   - a RESUME that lifts it closes it and is written to
 *     relaywatch_state.resumes once, even when a restart reads it again;
 *   - sql/migrations/0003_resumes.sql applies on a fresh database and a
 *     second migration applies nothing; the watchdog's role may read and
 *     append to relaywatch_state.resumes, not change it.
 *
 * Redis keys are this process's own (test:PID:track:...); the database is
 * created and dropped here.
 */
#define _XOPEN_SOURCE 700
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>
#include <hiredis/hiredis.h>
#include <libpq-fe.h>
#include <sodium.h>

#include "config.h"
#include "control_msg.h"
#include "dbconn.h"
#include "finding.h"
#include "halt_control.h"
#include "halt_publish.h"
#include "jsonlog.h"
#include "migrate.h"
#include "record_queue.h"
#include "redisconn.h"
#include "rwclock.h"
#include "signing_key.h"
#include "stack_env.h"
#include "state.h"
#include "state_resume.h"
#include "test_util.h"

#define ACK_TIMEOUT_MS 300

struct fx {
        char redis_url[512];
        char stack_config[1024];
        char dir[64];
        char state_dir[128];
        char config[128];
        char watchdog_key[128];
        char operator_key[128];
        char base[64];
        char stream[96], halt_key[96], heartbeat_key[96];
        struct halt_publish_keys keys;
        struct signing_key *okey;
        struct config *cfg;
        /* a database of our own, migrated */
        char dbname[64];
        char admin_url[512];
        char watchdog_url[512];
        PGconn *admin;
        struct dbconn *db;
};

/* Findings reported (not cleared) by kind. */
struct counts {
        int not_acked;
        int lifted;
};

static void count_finding(void *ctx, const struct finding *f)
{
        struct counts *c = ctx;

        if (f->cleared)
                return;
        if (strcmp(f->kind, "HALT_NOT_ACKNOWLEDGED") == 0)
                c->not_acked++;
        else if (strcmp(f->kind, "HALT_LIFTED") == 0)
                c->lifted++;
}

static void quiet(void *arg, const char *message)
{
        (void)arg;
        (void)message;
}

static char *read_text(const char *path)
{
        FILE *f = fopen(path, "r");
        char *buf;
        long n;

        assert_non_null(f);
        assert_int_equal(fseek(f, 0, SEEK_END), 0);
        n = ftell(f);
        assert_true(n >= 0);
        rewind(f);
        buf = malloc((size_t)n + 1);
        assert_non_null(buf);
        assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
        buf[n] = '\0';
        fclose(f);
        return buf;
}

/* The stack's configuration with our state_dir and our own [control] section. */
static void write_config(const struct fx *f)
{
        char *text = read_text(f->stack_config), *line, *save = NULL;
        char section[64] = "";
        FILE *out = fopen(f->config, "w");

        assert_non_null(out);
        assert_int_equal(chmod(f->config, 0600), 0);
        for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
                if (line[0] == '[')
                        (void)snprintf(section, sizeof section, "%s", line);
                if (strcmp(section, "[control]") == 0)
                        continue;
                if (strcmp(section, "[watchdog]") == 0 && strncmp(line, "state_dir", 9) == 0)
                        fprintf(out, "state_dir = %s\n", f->state_dir);
                else
                        fprintf(out, "%s\n", line);
        }
        fprintf(out,
                "\n[control]\n"
                "stream = %s\n"
                "halt_key = %s\n"
                "heartbeat_key = %s\n"
                "consumer_group = relayer\n"
                "signing_key = %s\n"
                "operator_keys = %s.pub\n"
                "heartbeat_ttl_ms = 10000\n"
                "ack_timeout_ms = %d\n"
                "redis_timeout_ms = 3000\n",
                f->stream, f->halt_key, f->heartbeat_key, f->watchdog_key, f->operator_key,
                ACK_TIMEOUT_MS);
        assert_int_equal(fclose(out), 0);
        free(text);
}

static redisContext *connect_or_fail(const struct fx *f)
{
        struct rwerr err;
        redisContext *ctx = redisconn_connect(f->redis_url, 3000, &err);

        if (ctx == NULL)
                fail_msg("%s", err.msg);
        return ctx;
}

static void redis_cleanup(const struct fx *f)
{
        redisContext *ctx = connect_or_fail(f);
        redisReply *r = redisCommand(ctx, "KEYS %s:*", f->base);
        size_t i;

        assert_non_null(r);
        assert_int_equal(r->type, REDIS_REPLY_ARRAY);
        for (i = 0; i < r->elements; i++)
                freeReplyObject(redisCommand(ctx, "DEL %s", r->element[i]->str));
        freeReplyObject(r);
        redisFree(ctx);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        (void)st;
        (void)flag;
        (void)ftw;
        return remove(path);
}

static PGconn *bootstrap_exec(const struct stack_env *env, const char *sql)
{
        PGconn *pg = PQconnectdb(stack_env_get(env, "DATABASE_ADMIN_URL"));
        PGresult *res;

        if (PQstatus(pg) != CONNECTION_OK) {
                fprintf(stderr, "%s", PQerrorMessage(pg));
                PQfinish(pg);
                return NULL;
        }
        PQsetNoticeProcessor(pg, quiet, NULL);
        res = PQexec(pg, sql);
        if (PQresultStatus(res) != PGRES_COMMAND_OK)
                fprintf(stderr, "%s: %s", sql, PQerrorMessage(pg));
        PQclear(res);
        return pg;
}

static int setup(void **state)
{
        static struct fx f;
        const char *path = getenv("RELAYWATCH_STACK_ENV");
        struct migrate_options opt = {NULL, NULL, 1};
        struct migrate_report report;
        struct dbconn_config dc = {0};
        struct stack_env *env;
        struct rwerr err;
        char sql[160];
        PGconn *boot;

        memset(&f, 0, sizeof f);
        if (path == NULL || sodium_init() < 0) {
                fprintf(stderr, "RELAYWATCH_STACK_ENV must be set (ctest sets it)\n");
                return -1;
        }
        if ((env = stack_env_load(path, &err)) == NULL) {
                fprintf(stderr, "%s\n", err.msg);
                return -1;
        }
        (void)snprintf(f.redis_url, sizeof f.redis_url, "%s", stack_env_get(env, "REDIS_URL"));
        (void)snprintf(f.stack_config, sizeof f.stack_config, "%s",
                       stack_env_get(env, "RELAYWATCH_CONFIG"));
        (void)snprintf(f.dir, sizeof f.dir, "/tmp/relaywatch-halt-tracking.XXXXXX");
        if (mkdtemp(f.dir) == NULL)
                return -1;
        (void)snprintf(f.state_dir, sizeof f.state_dir, "%s/state", f.dir);
        (void)snprintf(f.config, sizeof f.config, "%s/relaywatch.conf", f.dir);
        (void)snprintf(f.watchdog_key, sizeof f.watchdog_key, "%s/watchdog.key", f.dir);
        (void)snprintf(f.operator_key, sizeof f.operator_key, "%s/operator.key", f.dir);
        if (mkdir(f.state_dir, 0700) != 0 || signing_key_generate(f.watchdog_key, &err) != RW_OK ||
            signing_key_generate(f.operator_key, &err) != RW_OK ||
            signing_key_load(f.operator_key, &f.okey, &err) != RW_OK) {
                fprintf(stderr, "keys: %s\n", err.msg);
                return -1;
        }
        (void)snprintf(f.base, sizeof f.base, "test:%d:track", (int)getpid());
        (void)snprintf(f.stream, sizeof f.stream, "%s:control", f.base);
        (void)snprintf(f.halt_key, sizeof f.halt_key, "%s:halt", f.base);
        (void)snprintf(f.heartbeat_key, sizeof f.heartbeat_key, "%s:heartbeat", f.base);
        f.keys.stream = f.stream;
        f.keys.halt_key = f.halt_key;
        write_config(&f);
        if ((f.cfg = config_load(f.config, stderr, &err)) == NULL) {
                fprintf(stderr, "%s\n", err.msg);
                return -1;
        }

        (void)snprintf(f.dbname, sizeof f.dbname, "halt_tracking_test_%d", (int)getpid());
        (void)snprintf(sql, sizeof sql, "CREATE DATABASE %s", f.dbname);
        if ((boot = bootstrap_exec(env, sql)) == NULL)
                return -1;
        PQfinish(boot);
        test_url_with_database(stack_env_get(env, "DATABASE_ADMIN_URL"), f.dbname, f.admin_url,
                               sizeof f.admin_url);
        test_url_with_database(stack_env_get(env, "DATABASE_URL"), f.dbname, f.watchdog_url,
                               sizeof f.watchdog_url);
        stack_env_free(env);
        f.admin = PQconnectdb(f.admin_url);
        if (PQstatus(f.admin) != CONNECTION_OK) {
                fprintf(stderr, "%s", PQerrorMessage(f.admin));
                return -1;
        }
        PQsetNoticeProcessor(f.admin, quiet, NULL);
        /* a fresh database: every migration applies, 0003 among them */
        memset(&report, 0, sizeof report);
        if (migrate_run(f.admin, &opt, &report, &err) != RW_OK) {
                fprintf(stderr, "%s\n", err.msg);
                return -1;
        }
        {
                size_t i;
                int seen = 0;

                for (i = 0; i < report.applied && i < MIGRATE_MAX_REPORTED; i++)
                        seen |= strstr(report.applied_names[i], "0003_resumes") != NULL;
                if (!seen) {
                        fprintf(stderr, "0003_resumes.sql was not applied on a fresh database\n");
                        return -1;
                }
        }
        dc.conninfo = f.watchdog_url;
        dc.name = "ledger";
        if ((f.db = dbconn_new(&dc, &err)) == NULL ||
            dbconn_add_statements(f.db, state_statements, state_nstatements, &err) != RW_OK ||
            dbconn_ensure(f.db, &err) != RW_OK) {
                fprintf(stderr, "%s\n", err.msg);
                return -1;
        }
        *state = &f;
        return 0;
}

static int teardown(void **state)
{
        struct fx *f = *state;
        struct stack_env *env;
        struct rwerr err;
        char sql[160];
        PGconn *boot;

        redis_cleanup(f);
        dbconn_free(f->db);
        PQfinish(f->admin);
        config_free(f->cfg);
        signing_key_free(f->okey);
        (void)nftw(f->dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
        if ((env = stack_env_load(getenv("RELAYWATCH_STACK_ENV"), &err)) != NULL) {
                (void)snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)",
                               f->dbname);
                if ((boot = bootstrap_exec(env, sql)) != NULL)
                        PQfinish(boot);
                stack_env_free(env);
        }
        return 0;
}

/* Each test: no key of ours in Redis, an empty state directory. */
static int before(void **state)
{
        struct fx *f = *state;

        redis_cleanup(f);
        (void)nftw(f->state_dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
        assert_int_equal(mkdir(f->state_dir, 0700), 0);
        return 0;
}

static char *admin_value(struct fx *f, const char *sql)
{
        PGresult *res = PQexec(f->admin, sql);
        char *v;

        if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1 || PQnfields(res) != 1)
                fail_msg("admin query failed (%s): %s", PQresultErrorMessage(res), sql);
        v = strdup(PQgetisnull(res, 0, 0) ? "<NULL>" : PQgetvalue(res, 0, 0));
        PQclear(res);
        assert_non_null(v);
        return v;
}

static void assert_admin_value(struct fx *f, const char *sql, const char *want)
{
        char *got = admin_value(f, sql);

        if (strcmp(got, want) != 0)
                fail_msg("%s\n  got:  %s\n  want: %s", sql, got, want);
        free(got);
}

/* A manual HALT as `relaywatch halt` publishes it (operator key, field MANUAL). */
static void manual_halt(const struct fx *f, char id[CONTROL_ID_SIZE],
                        char entry[HALT_PUBLISH_ENTRY_ID_SIZE])
{
        struct control_height hh = {"source", 7};
        struct control_msg_fields mf;
        struct halt_publish_result res;
        char sig[CONTROL_SIG_B64_SIZE];
        char *msg = NULL;
        size_t len = 0;
        struct rwerr err;
        redisContext *ctx;

        control_new_halt_id(id);
        memset(&mf, 0, sizeof mf);
        mf.type = CONTROL_HALT;
        mf.id = id;
        mf.invariant = HALT_PUBLISH_MANUAL;
        mf.severity = "CRITICAL";
        mf.reason = "stopping the bridge by hand";
        mf.heights = &hh;
        mf.nheights = 1;
        mf.issued_at_ms = rwclock_wall_ms();
        mf.watchdog_id = "an operator";
        mf.correlation_id = "manual-halt-test";
        mf.key_id = f->okey->pub.key_id;
        assert_int_equal(control_msg_build(&mf, &msg, &len, &err), RW_OK);
        assert_int_equal(control_msg_sign(f->okey, msg, len, sig, &err), RW_OK);
        ctx = connect_or_fail(f);
        if (halt_publish(ctx, &f->keys, id, HALT_PUBLISH_MANUAL, msg, len, sig, &res, &err) !=
            RW_OK)
                fail_msg("%s", err.msg);
        assert_int_equal(res.outcome, HALT_PUBLISHED);
        (void)snprintf(entry, HALT_PUBLISH_ENTRY_ID_SIZE, "%s", res.entry_id);
        redisFree(ctx);
        free(msg);
}

/* A RESUME signed with the operator key that lifts `halt_id`. */
static void resume(const struct fx *f, const char *halt_id, char id[CONTROL_ID_SIZE])
{
        struct control_height hh = {"source", 8};
        const char *lifts[1] = {halt_id};
        struct control_msg_fields mf;
        struct halt_publish_resume_result res;
        char sig[CONTROL_SIG_B64_SIZE];
        cJSON *evidence = cJSON_CreateObject();
        char *msg = NULL;
        size_t len = 0;
        struct rwerr err;
        redisContext *ctx;

        assert_non_null(evidence);
        assert_non_null(cJSON_AddBoolToObject(evidence, "forced", 1));
        control_resume_id(id);
        memset(&mf, 0, sizeof mf);
        mf.type = CONTROL_RESUME;
        mf.id = id;
        mf.invariant = "*";
        mf.severity = "INFO";
        mf.reason = "fixed by hand";
        mf.evidence = evidence;
        mf.heights = &hh;
        mf.nheights = 1;
        mf.lifts = lifts;
        mf.nlifts = 1;
        mf.resume_from = &hh;
        mf.nresume_from = 1;
        mf.issued_at_ms = rwclock_wall_ms();
        mf.watchdog_id = "an operator";
        mf.correlation_id = "manual-resume-test";
        mf.key_id = f->okey->pub.key_id;
        assert_int_equal(control_msg_build(&mf, &msg, &len, &err), RW_OK);
        assert_int_equal(control_msg_sign(f->okey, msg, len, sig, &err), RW_OK);
        ctx = connect_or_fail(f);
        if (halt_publish_resume(ctx, &f->keys, id, msg, len, sig, 0, lifts, 1, &res, &err) != RW_OK)
                fail_msg("%s", err.msg);
        assert_int_equal(res.outcome, HALT_RESUME_PUBLISHED);
        redisFree(ctx);
        free(msg);
        cJSON_Delete(evidence);
}

/* One halt_control with a journal counting the findings, and a record queue. */
struct run {
        struct finding_journal journal;
        struct counts counts;
        struct record_queue *records;
        struct halt_control *hc;
};

static void run_start(struct fx *f, struct run *r)
{
        struct finding_sink sink;
        struct rwerr err;

        memset(r, 0, sizeof *r);
        sink.report = count_finding;
        sink.ctx = &r->counts;
        assert_int_equal(finding_journal_add_sink(&r->journal, &sink), 0);
        r->records = record_queue_new();
        assert_non_null(r->records);
        r->hc = halt_control_new(f->cfg, &r->journal, r->records, &err);
        if (r->hc == NULL)
                fail_msg("%s", err.msg);
}

static void run_stop(struct run *r)
{
        halt_control_free(r->hc);
        record_queue_free(r->records);
        finding_journal_release(&r->journal);
}

static void flush_db(struct fx *f, struct run *r)
{
        struct rwerr err;

        assert_int_equal(dbconn_ensure(f->db, &err), RW_OK);
        if (record_queue_flush_db(r->records, f->db, NULL, &err) != RW_OK)
                fail_msg("%s", err.msg);
        assert_int_equal(record_queue_waiting(r->records), 0);
}

static void sleep_ms(long ms)
{
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

        (void)nanosleep(&ts, NULL);
}

static const struct incident *tracked(struct run *r, const char *id)
{
        const struct halt_state *st = halt_control_state(r->hc);
        size_t i;

        for (i = 0; i < st->n; i++)
                if (strcmp(st->incidents[i].id, id) == 0)
                        return &st->incidents[i];
        return NULL;
}

static long long stream_length(const struct fx *f)
{
        redisContext *ctx = connect_or_fail(f);
        redisReply *rep = redisCommand(ctx, "XLEN %s", f->stream);
        long long n;

        assert_non_null(rep);
        n = rep->integer;
        freeReplyObject(rep);
        redisFree(ctx);
        return n;
}

static void manual_halt_not_acknowledged_pages_once(void **state)
{
        struct fx *f = *state;
        char id[CONTROL_ID_SIZE], entry[HALT_PUBLISH_ENTRY_ID_SIZE], sql[256], want[64];
        const struct incident *inc;
        struct run r;
        int i;

        manual_halt(f, id, entry);
        run_start(f, &r);
        halt_control_tick(r.hc);
        inc = tracked(&r, id);
        assert_non_null(inc);
        assert_string_equal(inc->invariant, HALT_PUBLISH_MANUAL);
        assert_string_equal(inc->entry_id, entry);
        assert_int_equal(inc->phase, INCIDENT_PUBLISHED);
        assert_false(inc->ours);
        assert_true(inc->from_stream);
        assert_string_equal(inc->key_id, f->okey->pub.key_id);
        assert_int_equal(halt_control_state(r.hc)->n, 1);
        assert_int_equal(stream_length(f), 1); /* nothing published for it */
        assert_int_equal(r.counts.not_acked, 0);

        sleep_ms(ACK_TIMEOUT_MS + 200);
        for (i = 0; i < 3; i++) {
                halt_control_tick(r.hc);
                sleep_ms(50);
        }
        assert_int_equal(r.counts.not_acked, 1);
        assert_true(tracked(&r, id)->not_acked_reported);
        assert_int_equal(stream_length(f), 1);

        /* relaywatch_state.halts has it, published at its entry's time */
        flush_db(f, &r);
        (void)snprintf(sql, sizeof sql,
                       "SELECT invariant || ' ' || "
                       "(extract(epoch FROM published_at) * 1000)::bigint "
                       "FROM relaywatch_state.halts WHERE halt_id = '%s'",
                       id);
        (void)snprintf(want, sizeof want, "MANUAL %lld", strtoll(entry, NULL, 10));
        assert_admin_value(f, sql, want);
        run_stop(&r);

        /* a restart: the same incident from the state file, not opened nor paged again */
        run_start(f, &r);
        for (i = 0; i < 3; i++) {
                halt_control_tick(r.hc);
                sleep_ms(ACK_TIMEOUT_MS / 2 + 50);
        }
        inc = tracked(&r, id);
        assert_non_null(inc);
        assert_int_equal(halt_control_state(r.hc)->n, 1);
        assert_true(inc->from_stream);
        assert_int_equal(r.counts.not_acked, 0);
        assert_int_equal(stream_length(f), 1);
        run_stop(&r);
}

static void manual_halt_acknowledged_is_no_finding(void **state)
{
        struct fx *f = *state;
        char id[CONTROL_ID_SIZE], entry[HALT_PUBLISH_ENTRY_ID_SIZE];
        redisContext *ctx;
        redisReply *rep;
        struct run r;
        int i;

        manual_halt(f, id, entry);
        run_start(f, &r);
        halt_control_tick(r.hc);
        assert_non_null(tracked(&r, id));
        ctx = connect_or_fail(f);
        rep = redisCommand(ctx, "HSET %s:ack:%s relayer %s", f->stream, id, "relayer-1");
        assert_non_null(rep);
        freeReplyObject(rep);
        redisFree(ctx);
        halt_control_tick(r.hc);
        assert_true(tracked(&r, id)->acked_at_ms > 0);
        sleep_ms(ACK_TIMEOUT_MS + 200);
        for (i = 0; i < 3; i++)
                halt_control_tick(r.hc);
        assert_int_equal(r.counts.not_acked, 0);
        run_stop(&r);
}

static void resume_closes_it_and_is_recorded_once(void **state)
{
        struct fx *f = *state;
        char id[CONTROL_ID_SIZE], entry[HALT_PUBLISH_ENTRY_ID_SIZE], rid[CONTROL_ID_SIZE];
        char sql[512], want[256];
        struct run r;
        long n = -1;
        struct rwerr err;

        manual_halt(f, id, entry);
        run_start(f, &r);
        halt_control_tick(r.hc);
        assert_non_null(tracked(&r, id));
        resume(f, id, rid);
        halt_control_tick(r.hc);
        assert_null(tracked(&r, id));
        assert_int_equal(r.counts.lifted, 1);
        flush_db(f, &r);
        assert_int_equal(state_resume_count(f->db, rid, &n, &err), RW_OK);
        assert_int_equal(n, 1);
        (void)snprintf(sql, sizeof sql,
                       "SELECT array_to_string(lifts, ',') || ' ' || key_id || ' ' || reason || "
                       "' ' || forced::text || ' ' || entry_id || ' ' || "
                       "(msg <> '' AND length(sig) = 88 AND seen_at >= issued_at)::text "
                       "FROM relaywatch_state.resumes WHERE resume_id = '%s'",
                       rid);
        {
                /* the RESUME's entry is the stream's last */
                redisContext *ctx = connect_or_fail(f);
                redisReply *rep = redisCommand(ctx, "XREVRANGE %s + - COUNT 1", f->stream);

                assert_non_null(rep);
                assert_int_equal(rep->type, REDIS_REPLY_ARRAY);
                assert_int_equal(rep->elements, 1);
                (void)snprintf(want, sizeof want, "%s %s fixed by hand true %s true", id,
                               f->okey->pub.key_id, rep->element[0]->element[0]->str);
                freeReplyObject(rep);
                redisFree(ctx);
        }
        assert_admin_value(f, sql, want);
        run_stop(&r);

        /* a restart reads the stream again: the RESUME is queued again, and is one row */
        run_start(f, &r);
        halt_control_tick(r.hc);
        assert_null(tracked(&r, id));
        assert_int_equal(halt_control_state(r.hc)->n, 0);
        assert_true(record_queue_waiting(r.records) >= 1);
        flush_db(f, &r);
        assert_int_equal(state_resume_count(f->db, rid, &n, &err), RW_OK);
        assert_int_equal(n, 1);
        (void)snprintf(sql, sizeof sql,
                       "SELECT count(*) FROM relaywatch_state.resumes WHERE resume_id = '%s'", rid);
        assert_admin_value(f, sql, "1");
        run_stop(&r);
}

static void state_resume_record_is_idempotent_and_checked(void **state)
{
        struct fx *f = *state;
        const char *lifts[2] = {"halt-00000000000000000000000000000001",
                                "halt-00000000000000000000000000000002"};
        struct state_resume r;
        struct rwerr err;
        int inserted = -1;

        memset(&r, 0, sizeof r);
        r.resume_id = "resume-000000000000000000000000000000aa";
        r.lifts = lifts;
        r.nlifts = 2;
        r.key_id = "0123456789abcdef";
        r.reason = "test";
        r.forced = 0;
        r.msg = "{\"not\":\"checked here\"}";
        r.sig = "c2ln";
        r.entry_id = "1795000000123-0";
        r.issued_at_ms = 1795000000100LL;
        r.seen_at_ms = 1795000000456LL;
        assert_int_equal(state_resume_record(f->db, &r, &inserted, &err), RW_OK);
        assert_int_equal(inserted, 1);
        assert_int_equal(state_resume_record(f->db, &r, &inserted, &err), RW_OK);
        assert_int_equal(inserted, 0);
        assert_admin_value(f,
                           "SELECT array_to_string(lifts, ',') || ' ' || forced::text || ' ' || "
                           "(extract(epoch FROM seen_at) * 1000)::bigint FROM "
                           "relaywatch_state.resumes WHERE resume_id = "
                           "'resume-000000000000000000000000000000aa'",
                           "halt-00000000000000000000000000000001,"
                           "halt-00000000000000000000000000000002 false 1795000000456");
        r.nlifts = 0;
        assert_int_equal(state_resume_record(f->db, &r, NULL, &err), RW_ERR_INVALID);
        assert_non_null(strstr(err.msg, "lifts"));
        r.nlifts = 1;
        r.seen_at_ms = 0;
        assert_int_equal(state_resume_record(f->db, &r, NULL, &err), RW_ERR_RANGE);
        assert_non_null(strstr(err.msg, "seen_at"));
}

static void migration_applies_twice_and_is_append_only(void **state)
{
        struct fx *f = *state;
        struct migrate_options opt = {NULL, NULL, 1};
        struct migrate_report report;
        struct rwerr err;
        PGresult *res;
        PGconn *w;

        /* applied by setup on the fresh database; again: nothing to apply */
        memset(&report, 0, sizeof report);
        if (migrate_run(f->admin, &opt, &report, &err) != RW_OK)
                fail_msg("%s", err.msg);
        assert_int_equal(report.applied, 0);
        assert_true(report.already >= 3);
        memset(&report, 0, sizeof report);
        if (migrate_run(f->admin, &opt, &report, &err) != RW_OK)
                fail_msg("%s", err.msg);
        assert_int_equal(report.applied, 0);
        assert_admin_value(f,
                           "SELECT count(*) FROM relaywatch_state.schema_migrations WHERE "
                           "name LIKE '0003_resumes%'",
                           "1");
        assert_admin_value(f,
                           "SELECT has_table_privilege('relaywatch_reader', "
                           "'relaywatch_state.resumes', 'INSERT')::text || "
                           "has_table_privilege('relaywatch_reader', "
                           "'relaywatch_state.resumes', 'SELECT')::text || "
                           "has_table_privilege('relaywatch_reader', "
                           "'relaywatch_state.resumes', 'UPDATE')::text || "
                           "has_table_privilege('relaywatch_reader', "
                           "'relaywatch_state.resumes', 'DELETE')::text",
                           "truetruefalsefalse");
        /* as the watchdog: no UPDATE */
        w = PQconnectdb(f->watchdog_url);
        assert_int_equal(PQstatus(w), CONNECTION_OK);
        res = PQexec(w, "UPDATE relaywatch_state.resumes SET reason = 'x'");
        assert_int_equal(PQresultStatus(res), PGRES_FATAL_ERROR);
        PQclear(res);
        PQfinish(w);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup(manual_halt_not_acknowledged_pages_once, before),
                cmocka_unit_test_setup(manual_halt_acknowledged_is_no_finding, before),
                cmocka_unit_test_setup(resume_closes_it_and_is_recorded_once, before),
                cmocka_unit_test(state_resume_record_is_idempotent_and_checked),
                cmocka_unit_test(migration_applies_twice_and_is_append_only),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
