/*
 * Integration tests for `relaywatch halt`, `relaywatch resume` and
 * `relaywatch status` on the shared local stack (its Redis, its chains, its
 * ledger, and its relayer simulator running).
 *
 * status and resume judge the control stream as a relayer does: a HALT
 * signed with the operator key and XADDed by hand is in force (status exit
 * 1) and resume lifts it; a HALT that comes in force while resume validates
 * makes it read again and lift that one too; rejected entries are notices;
 * the acknowledgement is the hash STREAM:ack:HALT_ID per relayer group (an
 * XACK is not one); a group with two consumers is a problem.
 *
 * Each test writes a configuration of its own: the stack's, with the
 * [control] section replaced by one naming keys unique to this process
 * (test:PID:cmds:...), key pairs made in a fresh temporary directory, and
 * the state directory there too. The commands run in-process on memory
 * streams. Every Redis key the tests create is deleted.
 */
#define _XOPEN_SOURCE 700
#include <dirent.h>
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
#include <poll.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>
#include <hiredis/hiredis.h>
#include <sodium.h>

#include "cmd_halt.h"
#include "cmd_resume.h"
#include "cmd_status.h"
#include "config.h"
#include "control_msg.h"
#include "dbconn.h"
#include "fake_http.h"
#include "halt_publish.h"
#include "heartbeat.h"
#include "redisconn.h"
#include "rwclock.h"
#include "signing_key.h"
#include "stack_env.h"
#include "state.h"

struct fx {
        char redis_url[512];
        char stack_config[1024];
        char dir[64];
        char state_dir[128];
        char config[128];        /* the test's configuration */
        char dead_config[128];   /* the same with Redis at a closed port */
        char blind_config[128];  /* the same with the execution chain at a closed port */
        char groups_config[128]; /* the same with two relayer groups, relayer-a and relayer-b */
        char watchdog_key[128];  /* [control] signing_key */
        char operator_key[128];  /* in [control] operator_keys */
        char stranger_key[128];  /* in no list */
        char base[64];           /* test:PID:cmds */
        char stream[96], halt_key[96], heartbeat_key[96];
        struct halt_publish_keys keys;
        struct signing_key *wkey, *okey;
        struct verify_key wpub, opub;
};

/* What one command printed and returned. */
struct run {
        int code;
        char *out, *err;
};

typedef int (*command_fn)(int argc, char **argv, FILE *out, FILE *errout);

static struct run run_cmd(command_fn fn, int argc, char **argv)
{
        struct run r;
        size_t outlen, errlen;
        FILE *out = open_memstream(&r.out, &outlen);
        FILE *err = open_memstream(&r.err, &errlen);

        assert_non_null(out);
        assert_non_null(err);
        r.code = fn(argc, argv, out, err);
        fclose(out);
        fclose(err);
        return r;
}

static void run_free(struct run *r)
{
        free(r->out);
        free(r->err);
}

/* Fails with both streams shown when `r` did not exit with `code`. */
static void expect_code(const struct run *r, int code)
{
        if (getenv("HALT_CMDS_VERBOSE") != NULL)
                fprintf(stderr, "--- exit %d\n--- stdout\n%s--- stderr\n%s", r->code, r->out,
                        r->err);
        if (r->code != code)
                fail_msg("exit %d, expected %d\n--- stdout\n%s\n--- stderr\n%s", r->code, code,
                         r->out, r->err);
}

static void expect_in(const char *text, const char *needle)
{
        if (text == NULL || needle == NULL || strstr(text, needle) == NULL)
                fail_msg("'%s' not found in:\n%s", needle != NULL ? needle : "(null)",
                         text != NULL ? text : "(null)");
}

static char *read_text(const char *path)
{
        FILE *f = fopen(path, "r");
        char *text = NULL;
        long n;

        assert_non_null(f);
        assert_int_equal(fseek(f, 0, SEEK_END), 0);
        n = ftell(f);
        assert_true(n >= 0);
        rewind(f);
        text = malloc((size_t)n + 1);
        assert_non_null(text);
        assert_int_equal(fread(text, 1, (size_t)n, f), (size_t)n);
        text[n] = '\0';
        fclose(f);
        return text;
}

static void write_text(const char *path, const char *text)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        size_t len = strlen(text);

        assert_true(fd >= 0);
        assert_int_equal(write(fd, text, len), (ssize_t)len);
        assert_int_equal(close(fd), 0);
}

/*
 * The stack's configuration with our state_dir, optionally another Redis
 * URL and another execution endpoint (with a timeout of 1 s), and our
 * [control] section instead of its own, naming `groups` as the relayer
 * groups.
 */
static void write_config_full(const struct fx *f, const char *path, const char *redis_url,
                              const char *execution_url, const char *groups)
{
        char *text = read_text(f->stack_config), *line, *save = NULL;
        char section[64] = "";
        FILE *out = fopen(path, "w");

        assert_non_null(out);
        assert_int_equal(chmod(path, 0600), 0);
        for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
                if (line[0] == '[')
                        (void)snprintf(section, sizeof section, "%s", line);
                if (strcmp(section, "[control]") == 0)
                        continue;
                if (strcmp(section, "[watchdog]") == 0 && strncmp(line, "state_dir", 9) == 0)
                        fprintf(out, "state_dir = %s\n", f->state_dir);
                else if (redis_url != NULL && strcmp(section, "[redis]") == 0 &&
                         strncmp(line, "url", 3) == 0)
                        fprintf(out, "url = %s\n", redis_url);
                else if (execution_url != NULL && strcmp(section, "[chain execution]") == 0 &&
                         strncmp(line, "endpoints", 9) == 0)
                        fprintf(out, "endpoints = %s\ntimeout_ms = 1000\n", execution_url);
                else
                        fprintf(out, "%s\n", line);
        }
        fprintf(out,
                "\n[control]\n"
                "stream = %s\n"
                "halt_key = %s\n"
                "heartbeat_key = %s\n"
                "consumer_group = %s\n"
                "signing_key = %s\n"
                "operator_keys = %s.pub\n"
                "heartbeat_ttl_ms = 10000\n"
                "consumer_idle_ms = 30000\n"
                "redis_timeout_ms = 3000\n",
                f->stream, f->halt_key, f->heartbeat_key, groups, f->watchdog_key, f->operator_key);
        assert_int_equal(fclose(out), 0);
        free(text);
}

static void write_config(const struct fx *f, const char *path, const char *redis_url,
                         int dead_execution)
{
        write_config_full(f, path, redis_url, dead_execution ? "http://127.0.0.1:1" : NULL,
                          "relayer");
}

static redisContext *connect_or_fail(const struct fx *f)
{
        struct rwerr err;
        redisContext *ctx = redisconn_connect(f->redis_url, 3000, &err);

        if (ctx == NULL)
                fail_msg("%s", err.msg);
        return ctx;
}

/* Deletes every Redis key of this process's tests. */
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

static void state_cleanup(const struct fx *f)
{
        (void)nftw(f->state_dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
        assert_int_equal(mkdir(f->state_dir, 0700), 0);
}

static int setup(void **state)
{
        static struct fx f;
        const char *path = getenv("RELAYWATCH_STACK_ENV");
        struct stack_env *env;
        struct rwerr err;
        const char *url, *cfg;
        char pub[160];

        memset(&f, 0, sizeof f);
        assert_non_null(path);
        assert_true(sodium_init() >= 0);
        env = stack_env_load(path, &err);
        if (env == NULL)
                fail_msg("%s", err.msg);
        url = stack_env_get(env, "REDIS_URL");
        cfg = stack_env_get(env, "RELAYWATCH_CONFIG");
        assert_non_null(url);
        assert_non_null(cfg);
        (void)snprintf(f.redis_url, sizeof f.redis_url, "%s", url);
        (void)snprintf(f.stack_config, sizeof f.stack_config, "%s", cfg);
        stack_env_free(env);

        (void)snprintf(f.dir, sizeof f.dir, "/tmp/relaywatch-halt-cmds.XXXXXX");
        assert_non_null(mkdtemp(f.dir));
        (void)snprintf(f.state_dir, sizeof f.state_dir, "%s/state", f.dir);
        assert_int_equal(mkdir(f.state_dir, 0700), 0);
        (void)snprintf(f.config, sizeof f.config, "%s/relaywatch.conf", f.dir);
        (void)snprintf(f.dead_config, sizeof f.dead_config, "%s/dead-redis.conf", f.dir);
        (void)snprintf(f.blind_config, sizeof f.blind_config, "%s/blind.conf", f.dir);
        (void)snprintf(f.groups_config, sizeof f.groups_config, "%s/groups.conf", f.dir);
        (void)snprintf(f.watchdog_key, sizeof f.watchdog_key, "%s/watchdog.key", f.dir);
        (void)snprintf(f.operator_key, sizeof f.operator_key, "%s/operator.key", f.dir);
        (void)snprintf(f.stranger_key, sizeof f.stranger_key, "%s/stranger.key", f.dir);
        assert_int_equal(signing_key_generate(f.watchdog_key, &err), RW_OK);
        assert_int_equal(signing_key_generate(f.operator_key, &err), RW_OK);
        assert_int_equal(signing_key_generate(f.stranger_key, &err), RW_OK);
        assert_int_equal(signing_key_load(f.watchdog_key, &f.wkey, &err), RW_OK);
        assert_int_equal(signing_key_load(f.operator_key, &f.okey, &err), RW_OK);
        f.wpub = f.wkey->pub;
        (void)snprintf(pub, sizeof pub, "%s.pub", f.operator_key);
        assert_int_equal(verify_key_load(pub, &f.opub, &err), RW_OK);

        (void)snprintf(f.base, sizeof f.base, "test:%d:cmds", (int)getpid());
        (void)snprintf(f.stream, sizeof f.stream, "%s:control", f.base);
        (void)snprintf(f.halt_key, sizeof f.halt_key, "%s:halt", f.base);
        (void)snprintf(f.heartbeat_key, sizeof f.heartbeat_key, "%s:heartbeat", f.base);
        f.keys.stream = f.stream;
        f.keys.halt_key = f.halt_key;
        write_config(&f, f.config, NULL, 0);
        /* port 1 on loopback: nothing listens there */
        write_config(&f, f.dead_config, "redis://127.0.0.1:1", 0);
        write_config(&f, f.blind_config, NULL, 1);
        write_config_full(&f, f.groups_config, NULL, NULL, "relayer-a, relayer-b");
        (void)unsetenv(CMD_RESUME_KEY_ENV);
        *state = &f;
        return 0;
}

static int teardown(void **state)
{
        struct fx *f = *state;

        redis_cleanup(f);
        signing_key_free(f->wkey);
        signing_key_free(f->okey);
        (void)nftw(f->dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
        return 0;
}

/* Each test starts with no key of ours in Redis and an empty state directory. */
static int before(void **state)
{
        struct fx *f = *state;

        redis_cleanup(f);
        state_cleanup(f);
        return 0;
}

static long long stream_length(const struct fx *f)
{
        redisContext *ctx = connect_or_fail(f);
        redisReply *r = redisCommand(ctx, "XLEN %s", f->stream);
        long long n;

        assert_non_null(r);
        assert_int_equal(r->type, REDIS_REPLY_INTEGER);
        n = r->integer;
        freeReplyObject(r);
        redisFree(ctx);
        return n;
}

static long long key_exists(const struct fx *f, const char *key)
{
        redisContext *ctx = connect_or_fail(f);
        redisReply *r = redisCommand(ctx, "EXISTS %s", key);
        long long n;

        assert_non_null(r);
        n = r->integer;
        freeReplyObject(r);
        redisFree(ctx);
        return n;
}

/* The newest stream entry, checked with `keys` allowing `allow`, into *m. */
static void last_entry(const struct fx *f, const struct verify_key *keys, size_t nkeys,
                       unsigned allow, struct control_msg *m)
{
        redisContext *ctx = connect_or_fail(f);
        redisReply *r = redisCommand(ctx, "XREVRANGE %s + - COUNT 1", f->stream);
        const redisReply *fields;
        struct rwerr err;

        assert_non_null(r);
        assert_int_equal(r->type, REDIS_REPLY_ARRAY);
        assert_int_equal(r->elements, 1);
        fields = r->element[0]->element[1];
        assert_int_equal(fields->elements, 4);
        assert_string_equal(fields->element[0]->str, "msg");
        assert_string_equal(fields->element[2]->str, "sig");
        if (control_msg_check(keys, nkeys, allow, fields->element[1]->str, fields->element[1]->len,
                              fields->element[3]->str, m, &err) < 0)
                fail_msg("the entry does not check: %s", err.msg);
        freeReplyObject(r);
        redisFree(ctx);
}

/* The times the ledger database recorded for halt `id`; *found 0 when it has none. */
static void recorded_halt(const struct fx *f, const char *id, struct state_halt_times *t,
                          int *found)
{
        struct dbconn_config dc;
        struct dbconn *db;
        struct rwerr err;
        struct config *cfg = config_load(f->config, NULL, &err);

        *found = 0;
        memset(t, 0, sizeof *t);
        if (cfg == NULL) {
                fail_msg("%s", err.msg);
                return;
        }
        memset(&dc, 0, sizeof dc);
        dc.conninfo = cfg->database_url;
        dc.name = "ledger";
        dc.statements = state_statements;
        dc.nstatements = state_nstatements;
        db = dbconn_new(&dc, &err);
        if (db == NULL || dbconn_ensure(db, &err) != RW_OK ||
            state_halt_times(db, id, t, found, &err) != RW_OK)
                fail_msg("%s", err.msg);
        dbconn_free(db);
        config_free(cfg);
}

static struct run halt(char *config, char *reason)
{
        char *argv[] = {"halt", "-c", config, "--reason", reason};

        return run_cmd(cmd_halt, 5, argv);
}

static void halt_publishes_a_verified_halt(void **state)
{
        struct fx *f = *state;
        struct control_msg m;
        struct rwerr err;
        char *msg = NULL, sig[CONTROL_SIG_B64_SIZE];
        size_t len = 0, i;
        int found = 0, saw_source = 0, saw_execution = 0;
        struct state_halt_times times = {0, 0, 0};
        struct run r = halt(f->config, "operator test: stop now");
        redisContext *ctx;
        const cJSON *who;

        expect_code(&r, 0);
        assert_string_equal(r.err, ""); /* both heads read, the database record made */
        expect_in(r.out, "HALT published: halt-");
        expect_in(r.out, "invariant MANUAL, severity CRITICAL, reason: operator test: stop now");
        assert_int_equal(stream_length(f), 1);
        /* the entry verifies with the watchdog key and says what was asked */
        last_entry(f, &f->wpub, 1, CONTROL_ALLOW_HALT, &m);
        assert_int_equal(m.type, CONTROL_HALT);
        assert_string_equal(m.invariant, "MANUAL");
        assert_string_equal(m.severity, "CRITICAL");
        assert_string_equal(m.reason, "operator test: stop now");
        assert_string_equal(m.key_id, f->wpub.key_id);
        expect_in(r.out, m.id);
        who = cJSON_GetObjectItemCaseSensitive(m.evidence, "requested_by");
        assert_true(cJSON_IsString(who) && who->valuestring[0] != '\0');
        assert_true(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(m.evidence, "host")));
        /* the stack's chains answer: both heads are in */
        for (i = 0; i < m.nheights; i++) {
                saw_source |= strcmp(m.heights[i].chain, "source") == 0;
                saw_execution |= strcmp(m.heights[i].chain, "execution") == 0;
                assert_true(m.heights[i].block > 0);
        }
        assert_true(saw_source && saw_execution);

        /* the durable halt key holds the same message */
        ctx = connect_or_fail(f);
        assert_int_equal(halt_publish_read_halt_key(ctx, &f->keys, &found, &msg, &len, sig, &err),
                         RW_OK);
        assert_int_equal(found, 1);
        expect_in(msg, m.id);
        free(msg);
        redisFree(ctx);
        /* and the ledger database keeps the record, published */
        recorded_halt(f, m.id, &times, &found);
        assert_int_equal(found, 1);
        assert_int_equal(times.issued_at_ms, m.issued_at_ms);
        assert_true(times.published_at_ms >= m.issued_at_ms);
        control_msg_free(&m);
        run_free(&r);
}

static void a_second_manual_halt_is_already_in_force(void **state)
{
        struct fx *f = *state;
        struct run a = halt(f->config, "first");
        struct run b = halt(f->config, "second, a minute later");
        struct control_msg m;

        expect_code(&a, 0);
        expect_code(&b, 0);
        last_entry(f, &f->wpub, 1, CONTROL_ALLOW_HALT, &m);
        expect_in(b.out, "a manual halt is already in force: ");
        expect_in(b.out, m.id);
        assert_string_equal(m.reason, "first");
        assert_int_equal(stream_length(f), 1);
        control_msg_free(&m);
        run_free(&a);
        run_free(&b);
}

static void halt_without_redis_waits_in_the_outbox(void **state)
{
        struct fx *f = *state;
        char outbox[160];
        struct run r = halt(f->dead_config, "redis is down");
        struct stat st;

        expect_code(&r, 1);
        expect_in(r.err, "redis://127.0.0.1:1");
        expect_in(r.err, "is NOT on the stream yet");
        expect_in(r.err, "`relaywatch run` delivers it when Redis is back");
        (void)snprintf(outbox, sizeof outbox, "%s/outbox", f->state_dir);
        expect_in(r.err, outbox);
        assert_int_equal(stat(outbox, &st), 0);
        /* one message file, named after the HALT's id */
        {
                DIR *d = opendir(outbox);
                const struct dirent *e;
                int n = 0;

                assert_non_null(d);
                while ((e = readdir(d)) != NULL) {
                        size_t len = strlen(e->d_name);

                        if (len > 4 && strcmp(e->d_name + len - 4, ".msg") == 0 &&
                            strstr(e->d_name, "-halt-") != NULL)
                                n++;
                }
                closedir(d);
                assert_int_equal(n, 1);
        }
        assert_int_equal(stream_length(f), 0);
        /* recorded as not (yet) published; `relaywatch run` fills it in on delivery */
        {
                const char *p = strstr(r.err, "the HALT halt-");
                char id[CONTROL_ID_SIZE];
                struct state_halt_times times = {0, 0, 0};
                int found = 0;

                assert_non_null(p);
                p += strlen("the HALT ");
                assert_true(strcspn(p, " ") < sizeof id);
                memcpy(id, p, strcspn(p, " "));
                id[strcspn(p, " ")] = '\0';
                recorded_halt(f, id, &times, &found);
                assert_int_equal(found, 1);
                assert_int_equal(times.published_at_ms, 0);
        }
        run_free(&r);
}

static void halt_usage_errors(void **state)
{
        struct fx *f = *state;
        char *no_reason[] = {"halt", "-c", f->config};
        char *bad[] = {"halt", "--reasno", "x"};
        struct run a = run_cmd(cmd_halt, 3, no_reason);
        struct run b = run_cmd(cmd_halt, 3, bad);

        expect_code(&a, 64);
        expect_in(a.err, "--reason TEXT is required");
        expect_code(&b, 64);
        expect_in(b.err, "unexpected argument '--reasno'");
        assert_int_equal(stream_length(f), 0);
        run_free(&a);
        run_free(&b);
}

static struct run resume_with(char *config, char *key, char *extra1, char *extra2, char *extra3)
{
        char *argv[9] = {"resume", "-c", config, "--from-last-checkpoint"};
        int argc = 4;

        if (key != NULL) {
                argv[argc++] = "--key";
                argv[argc++] = key;
        }
        if (extra1 != NULL)
                argv[argc++] = extra1;
        if (extra2 != NULL)
                argv[argc++] = extra2;
        if (extra3 != NULL)
                argv[argc++] = extra3;
        return run_cmd(cmd_resume, argc, argv);
}

static struct run resume(struct fx *f, char *key, char *extra1, char *extra2)
{
        return resume_with(f->config, key, extra1, extra2, NULL);
}

static void resume_refuses_wrong_keys_and_usage(void **state)
{
        struct fx *f = *state;
        struct run h = halt(f->config, "for the resume refusals");
        struct run wd, none, stranger, force;

        expect_code(&h, 0);
        wd = resume(f, f->watchdog_key, NULL, NULL);
        expect_code(&wd, 1);
        expect_in(wd.err, "is a watchdog key");
        expect_in(wd.err, f->wpub.key_id);

        none = resume(f, NULL, NULL, NULL);
        expect_code(&none, 64);
        expect_in(none.err, "no operator key: pass --key FILE or set $" CMD_RESUME_KEY_ENV);

        stranger = resume(f, f->stranger_key, NULL, NULL);
        expect_code(&stranger, 1);
        expect_in(stranger.err, "is not one of the [control] operator_keys");

        force = resume(f, f->operator_key, "--force", NULL);
        expect_code(&force, 64);
        expect_in(force.err, "--force needs --reason TEXT");

        /* nothing was published by any of them: the halt stays */
        assert_int_equal(stream_length(f), 1);
        assert_int_equal(key_exists(f, f->halt_key), 1);
        run_free(&h);
        run_free(&wd);
        run_free(&none);
        run_free(&stranger);
        run_free(&force);
}

/* The n-th "pinned at block N" of a validate table (0: source, 1: execution). */
static uint64_t pinned(const char *table, int n)
{
        const char *p = table;
        int i;

        for (i = 0; i <= n; i++) {
                p = strstr(p, "pinned at block ");
                if (p == NULL) {
                        fail_msg("no pinned height %d in:\n%s", n, table);
                        return 0;
                }
                p += strlen("pinned at block ");
        }
        return strtoull(p, NULL, 10);
}

static void resume_with_the_operator_key_lifts_the_halt(void **state)
{
        struct fx *f = *state;
        struct run h = halt(f->config, "before the resume");
        struct control_msg halt_msg, m;
        struct run r, again;
        struct halt_publish_open *open = NULL;
        size_t nopen = 1, i;
        const cJSON *lifted, *validate;
        redisContext *ctx;
        struct rwerr err;

        expect_code(&h, 0);
        last_entry(f, &f->wpub, 1, CONTROL_ALLOW_HALT, &halt_msg);
        r = resume(f, f->operator_key, NULL, NULL);
        expect_code(&r, 0);
        /* the validate ran and printed its table */
        expect_in(r.out, "INVARIANT VALID");
        expect_in(r.out, "RESUME published: resume-");
        assert_int_equal(stream_length(f), 2);
        /* the RESUME verifies with the operator key, and only a RESUME is allowed from it */
        last_entry(f, &f->opub, 1, CONTROL_ALLOW_RESUME, &m);
        assert_int_equal(m.type, CONTROL_RESUME);
        assert_string_equal(m.invariant, "*");
        assert_string_equal(m.severity, "INFO");
        assert_string_equal(m.reason, "validate passed");
        assert_string_equal(m.key_id, f->opub.key_id);
        validate = cJSON_GetObjectItemCaseSensitive(m.evidence, "validate");
        assert_true(cJSON_IsString(validate));
        assert_string_equal(validate->valuestring, "valid");
        assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(m.evidence, "forced")));
        lifted = cJSON_GetObjectItemCaseSensitive(m.evidence, "lifted");
        assert_int_equal(cJSON_GetArraySize(lifted), 1);
        assert_string_equal(cJSON_GetArrayItem(lifted, 0)->valuestring, halt_msg.id);
        /* lifts: the same ids, and the HALT was listed with its signer */
        assert_int_equal(m.nlifts, 1);
        assert_string_equal(m.lifts[0], halt_msg.id);
        expect_in(r.out, "HALTs in force (the RESUME lifts every one):\n");
        expect_in(r.out, halt_msg.id);
        expect_in(r.out, " MANUAL, signed by watchdog key ");
        expect_in(r.out, "lifted: halt-");
        /* resume_from: the heights the validate pinned */
        assert_int_equal(m.nresume_from, 2);
        for (i = 0; i < m.nresume_from; i++) {
                int role = strcmp(m.resume_from[i].chain, "source") == 0 ? 0 : 1;

                if (role == 1)
                        assert_string_equal(m.resume_from[i].chain, "execution");
                assert_int_equal(m.resume_from[i].block, pinned(r.out, role));
        }
        /* the halt is gone: no halt key, no open halt */
        assert_int_equal(key_exists(f, f->halt_key), 0);
        ctx = connect_or_fail(f);
        assert_int_equal(halt_publish_open_halts(ctx, &f->keys, &open, &nopen, &err), RW_OK);
        assert_int_equal(nopen, 0);
        redisFree(ctx);
        /* and a second resume has nothing to do */
        again = resume(f, f->operator_key, NULL, NULL);
        expect_code(&again, 0);
        expect_in(again.out, "not halted: nothing to resume");
        assert_int_equal(stream_length(f), 2);

        control_msg_free(&halt_msg);
        control_msg_free(&m);
        run_free(&h);
        run_free(&r);
        run_free(&again);
}

static void resume_is_refused_while_tier1_is_blind_unless_forced(void **state)
{
        struct fx *f = *state;
        struct run h = halt(f->config, "manual, beside an invariant");
        struct run refused, forced;
        struct halt_publish_result res;
        struct control_msg m;
        struct control_msg_fields mf;
        struct control_height hh = {"source", 10};
        char id[CONTROL_ID_SIZE], sig[CONTROL_SIG_B64_SIZE], value[64] = "";
        char resumed[128];
        char *msg = NULL;
        size_t len = 0;
        struct rwerr err;
        redisContext *ctx;
        redisReply *rep;
        const cJSON *validate;

        expect_code(&h, 0);
        /* a supervisor's HALT for an invariant, open beside the manual one */
        control_halt_id("SUPPLY_MISMATCH", "SIGIL", 10, id);
        memset(&mf, 0, sizeof mf);
        mf.type = CONTROL_HALT;
        mf.id = id;
        mf.invariant = "SUPPLY_MISMATCH";
        mf.severity = "CRITICAL";
        mf.reason = "test";
        mf.heights = &hh;
        mf.nheights = 1;
        mf.issued_at_ms = rwclock_wall_ms();
        mf.watchdog_id = "test";
        mf.correlation_id = "c0ffee";
        mf.key_id = f->wpub.key_id;
        assert_int_equal(control_msg_build(&mf, &msg, &len, &err), RW_OK);
        assert_int_equal(control_msg_sign(f->wkey, msg, len, sig, &err), RW_OK);
        ctx = connect_or_fail(f);
        assert_int_equal(
                halt_publish(ctx, &f->keys, id, "SUPPLY_MISMATCH", msg, len, sig, &res, &err),
                RW_OK);
        assert_int_equal(res.outcome, HALT_PUBLISHED);
        assert_int_equal(stream_length(f), 2);

        /* the execution chain cannot be read: Tier 1 not evaluated, refused */
        refused = resume_with(f->blind_config, f->operator_key, NULL, NULL, NULL);
        expect_code(&refused, 1);
        expect_in(refused.out, "INVARIANT NOT EVALUATED");
        expect_in(refused.err, "refused: Tier 1 could not be evaluated: ");
        expect_in(refused.err, "--force --reason TEXT");
        assert_int_equal(stream_length(f), 2);

        /* forced, with a reason: published, and the invariant is held back */
        forced = resume_with(f->blind_config, f->operator_key, "--force", "--reason",
                             "execution RPC down, ledger checked by hand");
        expect_code(&forced, 0);
        expect_in(forced.out, "FORCED: Tier 1 was not evaluated");
        assert_int_equal(stream_length(f), 3);
        last_entry(f, &f->opub, 1, CONTROL_ALLOW_RESUME, &m);
        assert_string_equal(m.reason, "execution RPC down, ledger checked by hand");
        validate = cJSON_GetObjectItemCaseSensitive(m.evidence, "validate");
        assert_string_equal(validate->valuestring, "not evaluated");
        assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(m.evidence, "forced")));
        assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(m.evidence, "lifted")),
                         2);
        assert_int_equal(m.nlifts, 2);
        assert_true(strcmp(m.lifts[0], id) == 0 || strcmp(m.lifts[1], id) == 0);
        /* only the chain that was read gives a checkpoint */
        assert_int_equal(m.nresume_from, 1);
        assert_string_equal(m.resume_from[0].chain, "source");
        assert_int_equal(key_exists(f, f->halt_key), 0);
        (void)snprintf(resumed, sizeof resumed, "%s:resumed", f->stream);
        rep = redisCommand(ctx, "HGET %s SUPPLY_MISMATCH", resumed);
        assert_non_null(rep);
        assert_int_equal(rep->type, REDIS_REPLY_STRING);
        (void)snprintf(value, sizeof value, "%s", rep->str);
        freeReplyObject(rep);
        assert_string_equal(value, id);
        rep = redisCommand(ctx, "HEXISTS %s MANUAL", resumed);
        assert_non_null(rep);
        assert_int_equal(rep->integer, 0);
        freeReplyObject(rep);

        redisFree(ctx);
        control_msg_free(&m);
        free(msg);
        run_free(&h);
        run_free(&refused);
        run_free(&forced);
}

/* ------------------------------------------------------------ a HALT while resuming */

struct resumer {
        char *config, *key;
        FILE *out, *errout;
        char *err;
        size_t err_len;
        int code;
};

static void *resume_run(void *arg)
{
        struct resumer *rs = arg;
        char *argv[] = {"resume", "-c",      rs->config, "--from-last-checkpoint", "--key",
                        rs->key,  "--force", "--reason", "execution RPC hangs"};

        rs->code = cmd_resume(9, argv, rs->out, rs->errout);
        (void)fclose(rs->out); /* the reader sees end of file */
        return NULL;
}

/* Reads from fd into buf until `needle` shows up; 60 s at most. */
static void read_until(int fd, char *buf, size_t cap, size_t *len, const char *needle)
{
        struct timespec start, now;

        assert_int_equal(clock_gettime(CLOCK_MONOTONIC, &start), 0);
        while (strstr(buf, needle) == NULL) {
                struct pollfd p = {fd, POLLIN, 0};
                ssize_t n;

                assert_int_equal(clock_gettime(CLOCK_MONOTONIC, &now), 0);
                if (now.tv_sec - start.tv_sec > 60)
                        fail_msg("'%s' did not appear within 60 s; output so far:\n%s", needle,
                                 buf);
                if (poll(&p, 1, 1000) <= 0)
                        continue;
                n = read(fd, buf + *len, cap - 1 - *len);
                if (n <= 0)
                        fail_msg("output ended before '%s' appeared:\n%s", needle, buf);
                *len += (size_t)n;
                buf[*len] = '\0';
        }
}

/*
 * A supervisor's HALT comes in force while resume validates (the execution
 * endpoint hangs, so the validate takes its time): the RESUME signed first
 * does not list it, so Redis refuses it (NOT_LISTED); resume reads again,
 * validates again (nobody validated with the new HALT in force) and
 * publishes one that lifts both.
 */
static void resume_reads_again_when_a_halt_comes_meanwhile(void **state)
{
        struct fx *f = *state;
        struct fake_http *fake = fake_http_start(31338);
        char hang_config[160], id[CONTROL_ID_SIZE], sig[CONTROL_SIG_B64_SIZE], buf[65536] = "";
        struct halt_publish_result res;
        struct control_msg_fields mf;
        struct control_height hh = {"source", 11};
        struct resumer rs;
        struct control_msg m;
        struct rwerr err;
        struct run h;
        redisContext *ctx;
        pthread_t th;
        char *msg = NULL;
        size_t len = 0, got = 0;
        int fds[2];

        assert_non_null(fake);
        fake_http_set(fake, FAKE_HTTP_HANG, 0, NULL);
        (void)snprintf(hang_config, sizeof hang_config, "%s/hang.conf", f->dir);
        write_config_full(f, hang_config, NULL, fake_http_url(fake), "relayer");
        h = halt(f->config, "the first halt");
        expect_code(&h, 0);

        memset(&rs, 0, sizeof rs);
        rs.config = hang_config;
        rs.key = f->operator_key;
        assert_int_equal(pipe(fds), 0);
        rs.out = fdopen(fds[1], "w");
        assert_non_null(rs.out);
        rs.errout = open_memstream(&rs.err, &rs.err_len);
        assert_non_null(rs.errout);
        assert_int_equal(pthread_create(&th, NULL, resume_run, &rs), 0);
        read_until(fds[0], buf, sizeof buf, &got, "validating before the resume");

        /* the supervisor halts for an invariant meanwhile */
        control_halt_id("SUPPLY_MISMATCH", "SIGIL", 11, id);
        memset(&mf, 0, sizeof mf);
        mf.type = CONTROL_HALT;
        mf.id = id;
        mf.invariant = "SUPPLY_MISMATCH";
        mf.severity = "CRITICAL";
        mf.reason = "minted while resuming";
        mf.heights = &hh;
        mf.nheights = 1;
        mf.issued_at_ms = rwclock_wall_ms();
        mf.watchdog_id = "test";
        mf.correlation_id = "c0ffee";
        mf.key_id = f->wpub.key_id;
        assert_int_equal(control_msg_build(&mf, &msg, &len, &err), RW_OK);
        assert_int_equal(control_msg_sign(f->wkey, msg, len, sig, &err), RW_OK);
        ctx = connect_or_fail(f);
        assert_int_equal(
                halt_publish(ctx, &f->keys, id, "SUPPLY_MISMATCH", msg, len, sig, &res, &err),
                RW_OK);
        assert_int_equal(res.outcome, HALT_PUBLISHED);
        redisFree(ctx);
        free(msg);

        read_until(fds[0], buf, sizeof buf, &got, "RESUME published");
        assert_int_equal(pthread_join(th, NULL), 0);
        (void)close(fds[0]);
        assert_int_equal(fclose(rs.errout), 0);
        if (rs.code != 0)
                fail_msg("resume exited %d:\n%s\n%s", rs.code, buf, rs.err);
        expect_in(buf, "came in force while the RESUME was being prepared (nothing was "
                       "published)\nreading the stream and validating again\n");
        /* validated twice: once for each set of HALTs in force */
        assert_non_null(strstr(strstr(buf, "validating before the resume") + 1,
                               "validating before the resume"));
        expect_in(buf, id);
        expect_in(buf, " SUPPLY_MISMATCH, signed by watchdog key ");
        /* one RESUME on the stream, lifting both */
        assert_int_equal(stream_length(f), 3);
        last_entry(f, &f->opub, 1, CONTROL_ALLOW_RESUME, &m);
        assert_int_equal(m.nlifts, 2);
        assert_string_equal(m.lifts[1], id);
        assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(m.evidence, "lifted")),
                         2);
        control_msg_free(&m);
        free(rs.err);
        run_free(&h);
        fake_http_stop(fake);
}

static void resume_without_redis_exits_2(void **state)
{
        struct fx *f = *state;
        char *argv[] = {"resume", "-c",           f->dead_config, "--from-last-checkpoint",
                        "--key",  f->operator_key};
        struct run r = run_cmd(cmd_resume, 6, argv);

        expect_code(&r, 2);
        expect_in(r.err, "redis://127.0.0.1:1");
        expect_in(r.err, "a RESUME is never queued");
        run_free(&r);
}

/* STATE_DIR/status.json as `relaywatch run` writes it, updated `age_ms` ago. */
static void write_status(const struct fx *f, int64_t age_ms)
{
        char path[192], text[2048];
        int64_t at = rwclock_wall_ms() - age_ms;

        (void)snprintf(path, sizeof path, "%s/status.json", f->state_dir);
        (void)snprintf(
                text, sizeof text,
                "{\"v\":1,\"watchdog_id\":\"test\",\"pid\":1,\"updated_at\":\"x\","
                "\"updated_at_ms\":%lld,"
                "\"cycle\":{\"correlation_id\":\"c0ffee\",\"started_at\":\"x\",\"duration_ms\":12,"
                "\"full_sweep\":true,\"tier1\":\"ok\",\"heights\":{\"source\":5,\"execution\":6},"
                "\"verdicts\":[{\"invariant\":\"SUPPLY_MISMATCH\",\"tier\":1,\"status\":\"ok\","
                "\"mode\":\"enforce\",\"summary\":\"backed\"},{\"invariant\":\"RPC_TIMEOUT\","
                "\"tier\":2,\"status\":\"violated\",\"mode\":\"enforce\",\"summary\":\"slow "
                "endpoint\"}]},"
                "\"endpoints\":[{\"chain\":\"source\",\"endpoint\":\"http://127.0.0.1:1\","
                "\"ok\":true,\"error\":\"\"}],"
                "\"halt_path\":{\"ok\":true,\"problems\":[]},"
                "\"heartbeat\":{\"last_set_at_ms\":%lld},\"incidents\":[],"
                "\"findings\":[{\"kind\":\"HALT_NOT_ACKNOWLEDGED\",\"severity\":\"CRITICAL\","
                "\"summary\":\"no ack in 10 s\",\"correlation_id\":\"c0ffee\",\"at\":\"x\"}]}",
                (long long)at, (long long)at);
        write_text(path, text);
}

/* The string member `name` of o, failing the test when it is not one. */
static const char *json_s(const cJSON *o, const char *name)
{
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, name);

        if (!cJSON_IsString(s))
                fail_msg("member %s is not a string", name);
        return s->valuestring;
}

static struct run status(char *config, int json)
{
        char *argv[] = {"status", "-c", config, "--json"};

        return run_cmd(cmd_status, json ? 4 : 3, argv);
}

static void status_without_status_json_cannot_tell(void **state)
{
        struct fx *f = *state;
        char path[192];
        struct run r = status(f->config, 0);

        (void)snprintf(path, sizeof path, "%s/status.json does not exist", f->state_dir);
        expect_code(&r, 2);
        expect_in(r.out, "RUNNING: no halt in force, but not healthy");
        expect_in(r.err, path);
        run_free(&r);
}

static void status_with_a_stale_status_json_cannot_tell(void **state)
{
        struct fx *f = *state;
        struct run r;

        write_status(f, 600000);
        r = status(f->config, 0);
        expect_code(&r, 2);
        expect_in(r.err, "s old, more than the");
        run_free(&r);
}

static void status_shows_a_halt(void **state)
{
        struct fx *f = *state;
        struct run h = halt(f->config, "status shows this");
        struct run r, j;
        struct control_msg m;
        cJSON *root, *open;

        expect_code(&h, 0);
        last_entry(f, &f->wpub, 1, CONTROL_ALLOW_HALT, &m);
        write_status(f, 0);
        r = status(f->config, 0);
        expect_code(&r, 1);
        assert_true(strncmp(r.out, "HALTED since ", 13) == 0);
        expect_in(r.out, ": MANUAL (CRITICAL): status shows this");
        expect_in(r.out, m.id);
        expect_in(r.out, m.issued_at);
        expect_in(r.out, "halt key ");
        expect_in(r.out, "verified, watchdog key");
        expect_in(r.out, "halts in force (1; ");
        expect_in(r.out, " MANUAL, stream entry ");
        expect_in(r.out, "    NOT acknowledged; waiting for relayer\n");
        expect_in(r.out, "  relayer: MISSING (no such group on ");
        /* the relayer's group does not exist on our stream: said, not hidden */
        expect_in(r.err, "no consumer group relayer on");
        /* the last cycle's Tier 2 alert and the finding are shown */
        expect_in(r.out, "RPC_TIMEOUT");
        expect_in(r.out, "HALT_NOT_ACKNOWLEDGED");

        j = status(f->config, 1);
        expect_code(&j, 1);
        root = cJSON_Parse(j.out);
        assert_non_null(root);
        assert_string_equal(cJSON_GetObjectItemCaseSensitive(root, "state")->valuestring, "HALTED");
        assert_int_equal(cJSON_GetObjectItemCaseSensitive(root, "exit_code")->valueint, 1);
        open = cJSON_GetObjectItemCaseSensitive(root, "open_halts");
        assert_int_equal(cJSON_GetArraySize(open), 1);
        assert_string_equal(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(open, 0), "halt_id")
                                    ->valuestring,
                            m.id);
        assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(root, "halt_key"), "verified")));
        assert_true(cJSON_IsTrue(
                cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(open, 0), "in_force")));
        {
                const cJSON *list = cJSON_GetObjectItemCaseSensitive(root, "halts_in_force");
                const cJSON *hv = cJSON_GetArrayItem(list, 0);
                const cJSON *groups = cJSON_GetObjectItemCaseSensitive(root, "groups");

                assert_int_equal(cJSON_GetArraySize(list), 1);
                assert_string_equal(json_s(hv, "halt_id"), m.id);
                assert_string_equal(json_s(hv, "invariant"), "MANUAL");
                assert_string_equal(json_s(hv, "reason"), "status shows this");
                assert_string_equal(json_s(hv, "key_role"), "watchdog");
                assert_string_equal(json_s(hv, "key_id"), f->wpub.key_id);
                assert_string_equal(json_s(hv, "issued_at"), m.issued_at);
                assert_true(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(hv, "entry_id")));
                assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(
                        cJSON_GetObjectItemCaseSensitive(hv, "acks"), "relayer")));
                assert_int_equal(cJSON_GetArraySize(groups), 1);
                assert_string_equal(json_s(cJSON_GetArrayItem(groups, 0), "name"), "relayer");
                assert_true(cJSON_IsFalse(
                        cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(groups, 0), "exists")));
                assert_int_equal(cJSON_GetObjectItemCaseSensitive(root, "rejected_total")->valueint,
                                 0);
        }
        cJSON_Delete(root);
        control_msg_free(&m);
        run_free(&h);
        run_free(&r);
        run_free(&j);
}

/* Runs a Redis command on our keys and frees the reply; fails on an error reply. */
static void redis_do(const struct fx *f, const char *fmt, const char *arg1, const char *arg2)
{
        redisContext *ctx = connect_or_fail(f);
        redisReply *rep = redisCommand(ctx, fmt, arg1, arg2);

        assert_non_null(rep);
        if (rep->type == REDIS_REPLY_ERROR)
                fail_msg("%s: %s", fmt, rep->str);
        freeReplyObject(rep);
        redisFree(ctx);
}

/* The HALT id a `relaywatch halt` printed ("HALT published: halt-..."). */
static void published_id(const struct run *h, char id[CONTROL_ID_SIZE])
{
        const char *p = strstr(h->out, "HALT published: ");
        size_t n;

        assert_non_null(p);
        p += strlen("HALT published: ");
        n = strcspn(p, "\n");
        assert_true(n > 0 && n < CONTROL_ID_SIZE);
        memcpy(id, p, n);
        id[n] = '\0';
}

/*
 * Two relayer instances, two groups: the acknowledgement is the hash
 * STREAM:ack:HALT_ID, one field per group (PROTOCOL.md section 8). An XACK
 * says "read", not "stopped", and counts for nothing.
 */
static void status_follows_the_acknowledgement(void **state)
{
        struct fx *f = *state;
        char id[CONTROL_ID_SIZE], ack[192];
        struct run h, r;
        cJSON *root, *acks;

        redis_do(f, "XGROUP CREATE %s %s $ MKSTREAM", f->stream, "relayer-a");
        redis_do(f, "XGROUP CREATE %s %s $ MKSTREAM", f->stream, "relayer-b");
        redis_do(f, "XGROUP CREATECONSUMER %s relayer-a %s", f->stream, "a1");
        redis_do(f, "XGROUP CREATECONSUMER %s relayer-b %s", f->stream, "b1");
        h = halt(f->groups_config, "ack me");
        expect_code(&h, 0);
        published_id(&h, id);
        (void)snprintf(ack, sizeof ack, "%s:ack:%s", f->stream, id);
        write_status(f, 0);
        r = status(f->groups_config, 0);
        expect_code(&r, 1);
        expect_in(r.out, "    NOT acknowledged; waiting for relayer-a, relayer-b\n");
        expect_in(r.out, "  relayer-a: 1 consumer, 1 live; announced no versions (taken as 1)\n");
        expect_in(r.out, "  relayer-b: 1 consumer, 1 live; ");
        run_free(&r);
        /* relayer-b reads it and XACKs it: that is not an acknowledgement */
        redis_do(f, "XREADGROUP GROUP relayer-b b1 COUNT 10 STREAMS %s %s", f->stream, ">");
        {
                char entry[HALT_PUBLISH_ENTRY_ID_SIZE];
                const char *p = strstr(h.out, " entry ");
                size_t n;

                assert_non_null(p);
                p += strlen(" entry ");
                n = strcspn(p, ", \n");
                assert_true(n > 0 && n < sizeof entry);
                memcpy(entry, p, n);
                entry[n] = '\0';
                redis_do(f, "XACK %s relayer-b %s", f->stream, entry);
        }
        /* relayer-a stopped and says so */
        redis_do(f, "HSET %s relayer-a %s", ack, "2026-12-03T09:00:00.000Z");
        r = status(f->groups_config, 0);
        expect_code(&r, 1);
        expect_in(r.out, "    acknowledged by relayer-a; waiting for relayer-b\n");
        run_free(&r);
        r = status(f->groups_config, 1);
        expect_code(&r, 1);
        root = cJSON_Parse(r.out);
        assert_non_null(root);
        acks = cJSON_GetObjectItemCaseSensitive(
                cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(root, "halts_in_force"), 0),
                "acks");
        assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(acks, "relayer-a")));
        assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(acks, "relayer-b")));
        assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(root, "groups")), 2);
        cJSON_Delete(root);
        run_free(&r);
        /* and relayer-b too */
        redis_do(f, "HSET %s relayer-b %s", ack, "2026-12-03T09:00:01.000Z");
        r = status(f->groups_config, 0);
        expect_code(&r, 1);
        expect_in(r.out, "    acknowledged by relayer-a, relayer-b\n");
        run_free(&r);
        run_free(&h);
}

/* A group with two consumers: a HALT reaches only one of them. Versions announced. */
static void status_sees_two_consumers_and_versions(void **state)
{
        struct fx *f = *state;
        char clients[160];
        struct run r;
        cJSON *root;
        const cJSON *g;

        redis_do(f, "XGROUP CREATE %s %s $ MKSTREAM", f->stream, "relayer-a");
        redis_do(f, "XGROUP CREATE %s %s $ MKSTREAM", f->stream, "relayer-b");
        redis_do(f, "XGROUP CREATECONSUMER %s relayer-a %s", f->stream, "a1");
        redis_do(f, "XGROUP CREATECONSUMER %s relayer-a %s", f->stream, "a2");
        redis_do(f, "XGROUP CREATECONSUMER %s relayer-b %s", f->stream, "b1");
        (void)snprintf(clients, sizeof clients, "%s:clients", f->stream);
        redis_do(f, "HSET %s relayer-a %s", clients, "1");
        redis_do(f, "HSET %s relayer-b %s", clients, "2,3");
        write_status(f, 0);
        r = status(f->groups_config, 0);
        expect_code(&r, 2);
        assert_true(strncmp(r.out, "RUNNING: no halt in force, but not healthy", 42) == 0);
        expect_in(r.out, "  relayer-a: 2 consumers, 2 live (MORE THAN ONE: a HALT reaches only "
                         "one of them); announced versions 1\n");
        expect_in(r.out, "  relayer-b: 1 consumer, 1 live; announced versions 2,3\n");
        expect_in(r.err, "halt path down: group relayer-a on ");
        expect_in(r.err, " has 2 consumers: a HALT reaches only one of them; give each relayer "
                         "instance a group of its own");
        expect_in(r.err, "halt path down: relayer instance relayer-b announced control protocol "
                         "versions 2,3, not 1, which relaywatch writes: it could not read a HALT");
        run_free(&r);
        r = status(f->groups_config, 1);
        expect_code(&r, 2);
        root = cJSON_Parse(r.out);
        assert_non_null(root);
        g = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(root, "groups"), 0);
        assert_string_equal(json_s(g, "name"), "relayer-a");
        assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(g, "exists")));
        assert_int_equal(cJSON_GetObjectItemCaseSensitive(g, "consumers")->valueint, 2);
        assert_int_equal(cJSON_GetObjectItemCaseSensitive(g, "live")->valueint, 2);
        assert_string_equal(json_s(g, "versions"), "1");
        g = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(root, "groups"), 1);
        assert_string_equal(json_s(g, "versions"), "2,3");
        cJSON_Delete(root);
        run_free(&r);
}

/* Builds a HALT for `invariant`, signs it with `key` and XADDs it by hand (no bookkeeping). */
static void xadd_halt(const struct fx *f, const struct signing_key *key, const char *invariant,
                      const char *reason, char id[CONTROL_ID_SIZE], char *entry, size_t entry_cap)
{
        struct control_height hh = {"source", 7};
        struct control_msg_fields mf;
        char sig[CONTROL_SIG_B64_SIZE];
        char *msg = NULL;
        size_t len = 0;
        struct rwerr err;
        redisContext *ctx;
        redisReply *rep;

        control_halt_id(invariant, "by hand", (uint64_t)rwclock_wall_ms(), id);
        memset(&mf, 0, sizeof mf);
        mf.type = CONTROL_HALT;
        mf.id = id;
        mf.invariant = invariant;
        mf.severity = "CRITICAL";
        mf.reason = reason;
        mf.heights = &hh;
        mf.nheights = 1;
        mf.issued_at_ms = rwclock_wall_ms();
        mf.watchdog_id = "an operator's laptop";
        mf.correlation_id = "by-hand-1";
        mf.key_id = key->pub.key_id;
        assert_int_equal(control_msg_build(&mf, &msg, &len, &err), RW_OK);
        assert_int_equal(control_msg_sign(key, msg, len, sig, &err), RW_OK);
        ctx = connect_or_fail(f);
        rep = redisCommand(ctx, "XADD %s * msg %b sig %s", f->stream, msg, len, sig);
        assert_non_null(rep);
        assert_int_equal(rep->type, REDIS_REPLY_STRING);
        (void)snprintf(entry, entry_cap, "%s", rep->str);
        freeReplyObject(rep);
        redisFree(ctx);
        free(msg);
}

/*
 * A HALT signed with the operator key and XADDed by hand, neither through
 * relaywatch nor in its bookkeeping: a relayer halts on it, so status says
 * HALTED, and resume lifts it.
 */
static void status_and_resume_see_a_halt_written_by_hand(void **state)
{
        struct fx *f = *state;
        char id[CONTROL_ID_SIZE], entry[64], want[256];
        struct control_msg m;
        struct run r, res, j;
        cJSON *root;
        const cJSON *h;

        xadd_halt(f, f->okey, "OPERATOR_TEST", "halted by hand", id, entry, sizeof entry);
        write_status(f, 0);
        r = status(f->config, 0);
        expect_code(&r, 1);
        expect_in(r.out, ": OPERATOR_TEST (CRITICAL): halted by hand\n");
        assert_true(strncmp(r.out, "HALTED since ", 13) == 0);
        (void)snprintf(want, sizeof want,
                       "  %s OPERATOR_TEST, stream entry %s, signed by operator key %s\n", id,
                       entry, f->opub.key_id);
        expect_in(r.out, want);
        expect_in(r.out, "halt key ");
        expect_in(r.out, ": not set\n");
        run_free(&r);
        j = status(f->config, 1);
        expect_code(&j, 1);
        root = cJSON_Parse(j.out);
        assert_non_null(root);
        assert_string_equal(json_s(root, "state"), "HALTED");
        h = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(root, "halts_in_force"), 0);
        assert_string_equal(json_s(h, "halt_id"), id);
        assert_string_equal(json_s(h, "entry_id"), entry);
        assert_string_equal(json_s(h, "key_role"), "operator");
        assert_string_equal(json_s(h, "key_id"), f->opub.key_id);
        assert_string_equal(json_s(h, "invariant"), "OPERATOR_TEST");
        assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(root, "open_halts")),
                         0);
        cJSON_Delete(root);
        run_free(&j);

        res = resume(f, f->operator_key, NULL, NULL);
        expect_code(&res, 0);
        (void)snprintf(want, sizeof want,
                       "  %s OPERATOR_TEST, signed by operator key %s, stream entry %s\n", id,
                       f->opub.key_id, entry);
        expect_in(res.out, want);
        (void)snprintf(want, sizeof want, "lifted: %s\n", id);
        expect_in(res.out, want);
        last_entry(f, &f->opub, 1, CONTROL_ALLOW_RESUME, &m);
        assert_int_equal(m.nlifts, 1);
        assert_string_equal(m.lifts[0], id);
        assert_string_equal(
                cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(m.evidence, "lifted"), 0)
                        ->valuestring,
                id);
        control_msg_free(&m);
        run_free(&res);
        /* lifted: the stream holds no HALT in force any more */
        r = status(f->config, 0);
        expect_code(&r, 2); /* the relayer's group is missing on our stream */
        assert_true(strncmp(r.out, "RUNNING: no halt in force", 25) == 0);
        run_free(&r);
        res = resume(f, f->operator_key, NULL, NULL);
        expect_code(&res, 0);
        expect_in(res.out, "not halted: nothing to resume");
        run_free(&res);
}

/*
 * Forged and copied entries are notices, not problems (the supervisor pages
 * each once; they stay on the stream for good): the last five listed, all
 * counted, the exit status untouched.
 */
static void status_lists_rejected_entries(void **state)
{
        struct fx *f = *state;
        char id[CONTROL_ID_SIZE], entry[64], ids[7][64], want[256];
        redisContext *ctx = connect_or_fail(f);
        struct run r;
        cJSON *root;
        const cJSON *list;
        int i;

        for (i = 0; i < 6; i++) {
                redisReply *rep = redisCommand(ctx, "XADD %s * msg hello%d sig AAAA", f->stream, i);

                assert_non_null(rep);
                (void)snprintf(ids[i], sizeof ids[i], "%s", rep->str);
                freeReplyObject(rep);
        }
        redisFree(ctx);
        /* a stranger's HALT: not a key the relayer trusts */
        {
                struct signing_key *stranger = NULL;
                struct rwerr err;

                assert_int_equal(signing_key_load(f->stranger_key, &stranger, &err), RW_OK);
                xadd_halt(f, stranger, "FORGED", "not trusted", id, entry, sizeof entry);
                (void)snprintf(ids[6], sizeof ids[6], "%s", entry);
                signing_key_free(stranger);
        }
        write_status(f, 0);
        r = status(f->config, 0);
        /* not healthy for another reason (no relayer group here), never for the entries */
        expect_code(&r, 2);
        assert_true(strncmp(r.out, "RUNNING: no halt in force, but not healthy", 42) == 0);
        assert_null(strstr(r.err, "REJECTED"));
        assert_null(strstr(r.err, "rejected"));
        expect_in(r.out, ": 7 entries judged, 7 rejected\n");
        expect_in(r.out, "\nnotices (paged once by the supervisor as CONTROL_STREAM_FORGERY");
        expect_in(r.out, ": 7 entries rejected (forged, altered or replayed): a relayer ignores "
                         "them, but someone other than relaywatch can write to the stream (the "
                         "last 5 are listed)");
        (void)snprintf(want, sizeof want, "entry %s REJECTED bad_signature: no configured", ids[6]);
        expect_in(r.out, want);
        (void)snprintf(want, sizeof want, "entry %s REJECTED bad_signature: sig: 4 bytes", ids[2]);
        expect_in(r.out, want);
        (void)snprintf(want, sizeof want, "entry %s REJECTED", ids[1]);
        assert_null(strstr(r.out, want));
        run_free(&r);
        r = status(f->config, 1);
        root = cJSON_Parse(r.out);
        assert_non_null(root);
        assert_int_equal(cJSON_GetObjectItemCaseSensitive(root, "rejected_total")->valueint, 7);
        list = cJSON_GetObjectItemCaseSensitive(root, "rejected_entries");
        assert_int_equal(cJSON_GetArraySize(list), 5);
        for (i = 0; i < 5; i++) {
                const cJSON *e = cJSON_GetArrayItem(list, i);

                assert_string_equal(json_s(e, "entry_id"), ids[i + 2]);
                assert_string_equal(json_s(e, "rejection"), "bad_signature");
                assert_true(json_s(e, "detail")[0] != '\0');
        }
        cJSON_Delete(root);
        run_free(&r);
}

static void status_refuses_a_halt_key_that_does_not_verify(void **state)
{
        struct fx *f = *state;
        redisContext *ctx = connect_or_fail(f);
        redisReply *rep = redisCommand(ctx, "HSET %s msg {} sig AAAA", f->halt_key);
        struct run r;

        assert_non_null(rep);
        freeReplyObject(rep);
        redisFree(ctx);
        write_status(f, 0);
        r = status(f->config, 0);
        /* not healthy for another reason (no relayer group here), never for the halt key */
        expect_code(&r, 2);
        expect_in(r.out, " is rejected, bad_signature: sig: 4 bytes, expected 88 base64 "
                         "characters. A relayer ignores it (it halts no one)");
        expect_in(r.out, ": REJECTED bad_signature (a relayer ignores it)\n");
        assert_null(strstr(r.err, "is rejected"));
        assert_true(strncmp(r.out, "RUNNING: no halt in force, but not healthy", 42) == 0);
        run_free(&r);
}

static void status_with_a_corrupt_halt_state_cannot_tell(void **state)
{
        struct fx *f = *state;
        char path[192];
        struct run r;

        write_status(f, 0);
        (void)snprintf(path, sizeof path, "%s/halt-state.json", f->state_dir);
        write_text(path, "{\"v\":1,\"incidents\":[{\"invariant\":");
        r = status(f->config, 0);
        expect_code(&r, 2);
        expect_in(r.err, path);
        expect_in(r.err, "so health cannot be told");
        run_free(&r);
}

static void status_with_redis_unreachable_cannot_tell(void **state)
{
        struct fx *f = *state;
        struct run r;

        write_status(f, 0);
        r = status(f->dead_config, 0);
        expect_code(&r, 2);
        assert_true(strncmp(r.out, "UNKNOWN", 7) == 0);
        expect_in(r.err, "Redis unreachable");
        expect_in(r.err, "redis://127.0.0.1:1");
        run_free(&r);
}

static void status_is_healthy_with_heartbeat_and_consumer(void **state)
{
        struct fx *f = *state;
        redisContext *ctx = connect_or_fail(f);
        char msg[HEARTBEAT_MSG_MAX], sig[CONTROL_SIG_B64_SIZE];
        size_t len = 0;
        struct rwerr err;
        redisReply *rep;
        struct run r;

        /* a live relayer in the group, and a fresh signed heartbeat */
        rep = redisCommand(ctx, "XGROUP CREATE %s relayer $ MKSTREAM", f->stream);
        assert_non_null(rep);
        freeReplyObject(rep);
        rep = redisCommand(ctx, "XGROUP CREATECONSUMER %s relayer r1", f->stream);
        assert_non_null(rep);
        assert_int_equal(rep->type, REDIS_REPLY_INTEGER);
        freeReplyObject(rep);
        assert_int_equal(heartbeat_build("test", rwclock_wall_ms(), 10000, f->wpub.key_id, msg,
                                         sizeof msg, &len, &err),
                         RW_OK);
        assert_int_equal(control_msg_sign(f->wkey, msg, len, sig, &err), RW_OK);
        assert_int_equal(heartbeat_publish(ctx, f->heartbeat_key, msg, len, sig, 10000, &err),
                         RW_OK);
        redisFree(ctx);
        write_status(f, 0);
        r = status(f->config, 0);
        expect_code(&r, 0);
        assert_true(strncmp(r.out, "RUNNING: no halt in force\n", 26) == 0);
        expect_in(r.out, "  relayer: 1 consumer, 1 live; announced no versions (taken as 1)\n");
        expect_in(r.out, ": 0 entries judged, 0 rejected\n");
        expect_in(r.out, "heartbeat: verified (watchdog key)");
        assert_string_equal(r.err, "");
        run_free(&r);

        /* the same with the heartbeat gone: not healthy */
        ctx = connect_or_fail(f);
        rep = redisCommand(ctx, "DEL %s", f->heartbeat_key);
        freeReplyObject(rep);
        redisFree(ctx);
        r = status(f->config, 0);
        expect_code(&r, 2);
        expect_in(r.err, "is missing (expired, or never set)");
        run_free(&r);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup(halt_publishes_a_verified_halt, before),
                cmocka_unit_test_setup(a_second_manual_halt_is_already_in_force, before),
                cmocka_unit_test_setup(halt_without_redis_waits_in_the_outbox, before),
                cmocka_unit_test_setup(halt_usage_errors, before),
                cmocka_unit_test_setup(resume_refuses_wrong_keys_and_usage, before),
                cmocka_unit_test_setup(resume_with_the_operator_key_lifts_the_halt, before),
                cmocka_unit_test_setup(resume_is_refused_while_tier1_is_blind_unless_forced,
                                       before),
                cmocka_unit_test_setup(resume_reads_again_when_a_halt_comes_meanwhile, before),
                cmocka_unit_test_setup(resume_without_redis_exits_2, before),
                cmocka_unit_test_setup(status_without_status_json_cannot_tell, before),
                cmocka_unit_test_setup(status_with_a_stale_status_json_cannot_tell, before),
                cmocka_unit_test_setup(status_shows_a_halt, before),
                cmocka_unit_test_setup(status_follows_the_acknowledgement, before),
                cmocka_unit_test_setup(status_sees_two_consumers_and_versions, before),
                cmocka_unit_test_setup(status_and_resume_see_a_halt_written_by_hand, before),
                cmocka_unit_test_setup(status_lists_rejected_entries, before),
                cmocka_unit_test_setup(status_refuses_a_halt_key_that_does_not_verify, before),
                cmocka_unit_test_setup(status_with_a_corrupt_halt_state_cannot_tell, before),
                cmocka_unit_test_setup(status_with_redis_unreachable_cannot_tell, before),
                cmocka_unit_test_setup(status_is_healthy_with_heartbeat_and_consumer, before),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
