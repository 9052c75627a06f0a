/*
 * `relaywatch control tail` (watchdog/cmd_control) on the local stack's
 * Redis, run in-process with its output captured: a watchdog-signed HALT
 * and an operator-signed RESUME that lifts it verify; a forged HALT
 * (another key, the watchdog's key_id), an altered HALT and a RESUME signed
 * with the watchdog's key are REJECTED with the rejection's name; a copy of
 * an earlier entry is a REPLAY of it, also when only the copy is printed
 * (the history is judged silently); exit 0/1/2 as documented; --json is
 * valid UTF-8 JSON whatever the entry holds (msg only when it passed the
 * strict checks, else msg_escaped); --count and --follow (stopped by
 * SIGTERM) do what they say.
 *
 * Each test uses a control stream of its own (test:<pid>:<n>:control) and
 * keys made in a fresh temporary directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
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

#include "cmd_control.h"
#include "control_msg.h"
#include "redisconn.h"
#include "rwerr.h"
#include "signing_key.h"
#include "stack_env.h"
#include "test_util.h"

#define NENTRIES 12

struct fx {
        char redis_url[512];
        char dir[64];
        char conf[128];
        char stream[96];
        char halt_key[96];
        struct signing_key *watchdog, *operator_key, *forger;
        redisContext *ctx;
        char ids[NENTRIES][64]; /* stream entry ids of the entries added */
        size_t nids;
        char last_halt[CONTROL_ID_SIZE]; /* the id of the last HALT built, for a RESUME's lifts */
        char last_msg[4096];             /* the last entry built, to copy it */
        size_t last_len;
        char last_sig[CONTROL_SIG_B64_SIZE];
};

static unsigned stream_serial;

static void path_in(const struct fx *f, const char *name, char *out, size_t cap)
{
        (void)snprintf(out, cap, "%s/%s", f->dir, name);
}

static struct signing_key *make_key(const struct fx *f, const char *name)
{
        struct signing_key *k = NULL;
        struct rwerr err;
        char path[128];

        path_in(f, name, path, sizeof path);
        if (signing_key_generate(path, &err) != RW_OK || signing_key_load(path, &k, &err) != RW_OK)
                fail_msg("%s", err.msg);
        return k;
}

static void write_text(const char *path, const char *text)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

        assert_true(fd >= 0);
        assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
        assert_int_equal(close(fd), 0);
}

/* A valid configuration whose [control] names `stream` and the keys; `extra` goes at the end. */
static void write_config(struct fx *f, const char *redis_url, const char *control_lines)
{
        char text[4096];

        (void)snprintf(text, sizeof text,
                       "[database]\n"
                       "url = postgres://rw@127.0.0.1:5432/bridge\n"
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
                       "[control]\n"
                       "stream = %s\n"
                       "halt_key = %s\n"
                       "%s",
                       redis_url, f->stream, f->halt_key, control_lines);
        write_text(f->conf, text);
}

/* The usual [control] keys: the watchdog's secret key (its .pub is implied) and the operator's. */
static void write_usual_config(struct fx *f)
{
        char lines[512];

        (void)snprintf(lines, sizeof lines,
                       "signing_key = %s/watchdog.key\noperator_keys = %s/operator.key.pub\n",
                       f->dir, f->dir);
        write_config(f, f->redis_url, lines);
}

static int setup(void **state)
{
        struct fx *f = calloc(1, sizeof *f);
        const char *path = getenv("RELAYWATCH_STACK_ENV");
        struct stack_env *env;
        struct rwerr err;
        const char *url;

        if (f == NULL || path == NULL) {
                fprintf(stderr, "RELAYWATCH_STACK_ENV must be set (ctest sets it)\n");
                free(f);
                return -1;
        }
        *state = f;
        if ((env = stack_env_load(path, &err)) == NULL) {
                fprintf(stderr, "%s\n", err.msg);
                return -1;
        }
        url = stack_env_get(env, "REDIS_URL");
        if (url == NULL) {
                stack_env_free(env);
                return -1;
        }
        (void)snprintf(f->redis_url, sizeof f->redis_url, "%s", url);
        stack_env_free(env);
        (void)snprintf(f->dir, sizeof f->dir, "/tmp/relaywatch-control-tail.XXXXXX");
        if (mkdtemp(f->dir) == NULL)
                return -1;
        (void)snprintf(f->conf, sizeof f->conf, "%s/relaywatch.conf", f->dir);
        (void)snprintf(f->stream, sizeof f->stream, "test:%d:%u:control", (int)getpid(),
                       ++stream_serial);
        (void)snprintf(f->halt_key, sizeof f->halt_key, "test:%d:%u:halt", (int)getpid(),
                       stream_serial);
        f->watchdog = make_key(f, "watchdog.key");
        f->operator_key = make_key(f, "operator.key");
        f->forger = make_key(f, "forger.key");
        if ((f->ctx = redisconn_connect(f->redis_url, 2000, &err)) == NULL) {
                fprintf(stderr, "%s\n", err.msg);
                return -1;
        }
        write_usual_config(f);
        return 0;
}

static int teardown(void **state)
{
        static const char *const files[] = {
                "watchdog.key", "watchdog.key.pub", "operator.key",   "operator.key.pub",
                "forger.key",   "forger.key.pub",   "relaywatch.conf"};
        struct fx *f = *state;
        char path[128];
        size_t i;

        if (f->ctx != NULL) {
                freeReplyObject(redisCommand(f->ctx, "DEL %s", f->stream));
                freeReplyObject(redisCommand(f->ctx, "DEL %s", f->halt_key));
                redisFree(f->ctx);
        }
        signing_key_free(f->watchdog);
        signing_key_free(f->operator_key);
        signing_key_free(f->forger);
        for (i = 0; i < sizeof files / sizeof files[0]; i++) {
                path_in(f, files[i], path, sizeof path);
                (void)unlink(path);
        }
        (void)rmdir(f->dir);
        free(f);
        return 0;
}

/* XADDs msg[0..len) and sig as an entry; its id goes to f->ids. */
static void xadd(struct fx *f, const char *msg, size_t len, const char *sig)
{
        redisReply *r = redisCommand(f->ctx, "XADD %s * msg %b sig %s", f->stream, msg, len, sig);

        assert_non_null(r);
        assert_int_equal(r->type, REDIS_REPLY_STRING);
        assert_true(f->nids < NENTRIES);
        (void)snprintf(f->ids[f->nids++], sizeof f->ids[0], "%s", r->str);
        freeReplyObject(r);
}

/* Signs exactly msg[0..len) with `signer` and XADDs it. */
static void add_signed(struct fx *f, const struct signing_key *signer, const char *msg, size_t len)
{
        char sig[CONTROL_SIG_B64_SIZE];
        struct rwerr err;

        if (control_msg_sign(signer, msg, len, sig, &err) != RW_OK)
                fail_msg("%s", err.msg);
        xadd(f, msg, len, sig);
}

/* XADDs the last entry built again, byte for byte: a replay. */
static void add_copy(struct fx *f)
{
        assert_true(f->last_len > 0);
        xadd(f, f->last_msg, f->last_len, f->last_sig);
}

/*
 * Builds a msg of `type` naming `claimed_key_id`, signs it with `signer`,
 * optionally changes one byte after signing, and XADDs it. A RESUME lifts
 * the last HALT built.
 */
static void add_entry(struct fx *f, enum control_type type, const struct signing_key *signer,
                      const char *claimed_key_id, int alter, const char *reason)
{
        struct control_height h[2] = {{"source", 1234}, {"execution", 5678}};
        struct control_height from[2] = {{"source", 1200}, {"execution", 5600}};
        struct control_msg_fields m;
        char id[CONTROL_ID_SIZE], sig[CONTROL_SIG_B64_SIZE];
        const char *lifts[1] = {f->last_halt};
        struct rwerr err;
        char *msg = NULL, *p;
        size_t len = 0;

        memset(&m, 0, sizeof m);
        m.type = type;
        if (type == CONTROL_HALT) {
                control_halt_id("SUPPLY_MISMATCH", "SIGIL", 1234 + f->nids, id);
                (void)snprintf(f->last_halt, sizeof f->last_halt, "%s", id);
                m.invariant = "SUPPLY_MISMATCH";
        } else {
                if (f->last_halt[0] == '\0')
                        control_halt_id("SUPPLY_MISMATCH", "SIGIL", 1, f->last_halt);
                control_resume_id(id);
                m.invariant = "*";
                m.lifts = lifts;
                m.nlifts = 1;
                m.resume_from = from;
                m.nresume_from = 2;
        }
        m.id = id;
        m.severity = "CRITICAL";
        m.reason = reason;
        m.heights = h;
        m.nheights = 2;
        m.issued_at_ms = 1795000000123LL;
        m.watchdog_id = "test-watchdog";
        m.correlation_id = "rw-0123456789abcdef";
        m.key_id = claimed_key_id;
        if (control_msg_build(&m, &msg, &len, &err) != RW_OK ||
            control_msg_sign(signer, msg, len, sig, &err) != RW_OK)
                fail_msg("%s", err.msg);
        if (alter) {
                p = strstr(msg, "\"reason\":\"");
                assert_non_null(p);
                p[10] ^= 0x20; /* the reason's first letter changes case */
        }
        assert_true(len < sizeof f->last_msg);
        memcpy(f->last_msg, msg, len);
        f->last_len = len;
        (void)snprintf(f->last_sig, sizeof f->last_sig, "%s", sig);
        xadd(f, msg, len, sig);
        free(msg);
}

/* The five entries: two good, three bad. */
static void add_the_five(struct fx *f)
{
        add_entry(f, CONTROL_HALT, f->watchdog, f->watchdog->pub.key_id, 0, "supply broke");
        add_entry(f, CONTROL_RESUME, f->operator_key, f->operator_key->pub.key_id, 0, "fixed");
        /* a forger's key claiming to be the watchdog's */
        add_entry(f, CONTROL_HALT, f->forger, f->watchdog->pub.key_id, 0, "forged halt");
        /* the watchdog's own HALT, altered after signing */
        add_entry(f, CONTROL_HALT, f->watchdog, f->watchdog->pub.key_id, 1, "altered halt");
        /* the watchdog's key may halt, never resume */
        add_entry(f, CONTROL_RESUME, f->watchdog, f->watchdog->pub.key_id, 0, "sneaky resume");
}

struct run {
        int code;
        char *out, *err;
        size_t out_len, err_len;
};

/* cmd_control(argv) with stdout and stderr captured. */
static struct run run_tail(char **argv, size_t n)
{
        struct run r;
        FILE *out, *errout;

        memset(&r, 0, sizeof r);
        out = open_memstream(&r.out, &r.out_len);
        errout = open_memstream(&r.err, &r.err_len);
        assert_non_null(out);
        assert_non_null(errout);
        r.code = cmd_control((int)n, argv, out, errout);
        assert_int_equal(fclose(out), 0);
        assert_int_equal(fclose(errout), 0);
        return r;
}

static void run_free(struct run *r)
{
        free(r->out);
        free(r->err);
}

/* Position of `needle` in `hay` after `from`, failing the test when absent. */
static size_t find_after(const char *hay, size_t from, const char *needle)
{
        const char *p = strstr(hay + from, needle);

        if (p == NULL)
                fail_msg("'%s' not found in output after offset %zu:\n%s", needle, from, hay);
        return (size_t)(p - hay);
}

static void tail_verifies_each_entry(void **state)
{
        struct fx *f = *state;
        char *args[] = {"control", "tail", "-c", f->conf};
        char want[256];
        struct run r;
        size_t at;

        add_the_five(f);
        r = run_tail(args, 4);
        assert_int_equal(r.code, CMD_CONTROL_REJECTED);
        assert_string_equal(r.err, "");

        /* oldest first, each with its fields and its verdict */
        at = find_after(r.out, 0, f->ids[0]);
        at = find_after(r.out, at, " HALT halt-");
        at = find_after(r.out, at,
                        "invariant SUPPLY_MISMATCH, severity CRITICAL, issued_at "
                        "2026-11-18T11:06:40.123Z");
        at = find_after(r.out, at, "reason: supply broke");
        at = find_after(r.out, at, "heights: source=1234 execution=5678");
        (void)snprintf(want, sizeof want, "  verified: watchdog key %s, HALT in force\n",
                       f->watchdog->pub.key_id);
        at = find_after(r.out, at, want);

        at = find_after(r.out, at, f->ids[1]);
        at = find_after(r.out, at, " RESUME resume-");
        at = find_after(r.out, at, "resume_from: source=1200 execution=5600");
        at = find_after(r.out, at, "  lifts: halt-");
        (void)snprintf(want, sizeof want, "  verified: operator key %s, RESUME lifted 1 HALT\n",
                       f->operator_key->pub.key_id);
        at = find_after(r.out, at, want);

        at = find_after(r.out, at, f->ids[2]);
        at = find_after(r.out, at, "reason: forged halt");
        at = find_after(r.out, at,
                        "  REJECTED bad_signature: no configured watchdog or operator key "
                        "verifies the signature\n");

        at = find_after(r.out, at, f->ids[3]);
        at = find_after(r.out, at, "reason: Altered halt");
        at = find_after(r.out, at, "  REJECTED bad_signature: ");

        at = find_after(r.out, at, f->ids[4]);
        (void)snprintf(want, sizeof want,
                       "  REJECTED resume_by_watchdog_key: a RESUME signed with watchdog key %s: "
                       "only an operator key may sign a RESUME\n",
                       f->watchdog->pub.key_id);
        (void)find_after(r.out, at, want);
        run_free(&r);
}

static const cJSON *item(const cJSON *o, const char *name)
{
        const cJSON *i = cJSON_GetObjectItemCaseSensitive(o, name);

        if (i == NULL)
                fail_msg("no member %s", name);
        return i;
}

/* Fails unless s[0..n) is well-formed UTF-8 (what a JSON reader requires). */
static void assert_utf8(const char *text, size_t n)
{
        const unsigned char *s = (const unsigned char *)text;
        size_t i = 0, len, k;

        while (i < n) {
                if (s[i] < 0x80) {
                        i++;
                        continue;
                }
                len = s[i] >= 0xf0 ? 4 : s[i] >= 0xe0 ? 3 : s[i] >= 0xc2 ? 2 : 0;
                if (len == 0 || i + len > n)
                        fail_msg("byte 0x%02x at %zu is not UTF-8:\n%s", s[i], i, text);
                for (k = 1; k < len; k++) {
                        if ((s[i + k] & 0xc0) != 0x80)
                                fail_msg("byte 0x%02x at %zu is not UTF-8", s[i + k], i + k);
                }
                i += len;
        }
}

/* The lines of r->out (at most `cap`), each parsed; the caller frees each with cJSON_Delete. */
static size_t json_lines(const struct run *r, cJSON **lines, size_t cap)
{
        char *copy = strdup(r->out), *line, *save = NULL;
        size_t n = 0;

        assert_non_null(copy);
        assert_utf8(r->out, r->out_len);
        for (line = strtok_r(copy, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
                assert_true(n < cap);
                if ((lines[n] = cJSON_Parse(line)) == NULL)
                        fail_msg("line %zu is not JSON: %s", n + 1, line);
                n++;
        }
        free(copy);
        return n;
}

static void tail_json_is_one_object_per_entry(void **state)
{
        static const int verified[5] = {1, 1, 0, 0, 0};
        static const char *const outcomes[5] = {"halt", "resume", "reject", "reject", "reject"};
        static const char *const rejections[5] = {NULL, NULL, "bad_signature", "bad_signature",
                                                  "resume_by_watchdog_key"};
        static const char *const roles[5] = {"watchdog", "operator", NULL, NULL, "watchdog"};
        struct fx *f = *state;
        char *args[] = {"control", "tail", "--json", "-c", f->conf};
        cJSON *lines[8] = {NULL};
        struct run r;
        size_t i, n;

        add_the_five(f);
        r = run_tail(args, 5);
        assert_int_equal(r.code, CMD_CONTROL_REJECTED);
        n = json_lines(&r, lines, 8);
        assert_int_equal(n, 5);
        for (i = 0; i < n; i++) {
                const cJSON *j = lines[i], *msg, *esc, *role, *error, *key_id, *rej;

                assert_string_equal(item(j, "entry_id")->valuestring, f->ids[i]);
                assert_int_equal(cJSON_IsTrue(item(j, "verified")), verified[i]);
                assert_string_equal(item(j, "outcome")->valuestring, outcomes[i]);
                rej = item(j, "rejection");
                role = item(j, "key_role");
                error = item(j, "error");
                key_id = item(j, "key_id");
                if (rejections[i] == NULL)
                        assert_true(cJSON_IsNull(rej) && cJSON_IsNull(error));
                else
                        assert_true(cJSON_IsString(rej) &&
                                    strcmp(rej->valuestring, rejections[i]) == 0 &&
                                    cJSON_IsString(error) && error->valuestring[0] != '\0');
                if (roles[i] == NULL) {
                        assert_true(cJSON_IsNull(role) && cJSON_IsNull(key_id));
                } else {
                        assert_string_equal(role->valuestring, roles[i]);
                        assert_string_equal(key_id->valuestring,
                                            strcmp(roles[i], "watchdog") == 0
                                                    ? f->watchdog->pub.key_id
                                                    : f->operator_key->pub.key_id);
                }
                assert_true(cJSON_IsNull(item(j, "replay_of")));
                if (i == 1)
                        assert_int_equal(item(j, "lifted")->valueint, 1);
                else
                        assert_true(cJSON_IsNull(item(j, "lifted")));
                msg = item(j, "msg");
                esc = item(j, "msg_escaped");
                if (i == 2 || i == 3) {
                        /* never verified, so never checked as strict JSON: bytes only */
                        assert_true(cJSON_IsNull(msg));
                        assert_true(cJSON_IsString(esc));
                        assert_non_null(strstr(esc->valuestring, "\"type\":\"HALT\""));
                        continue;
                }
                /* passed the strict checks: the msg as an object */
                assert_true(cJSON_IsNull(esc));
                assert_true(cJSON_IsObject(msg));
                assert_string_equal(item(msg, "type")->valuestring,
                                    i == 1 || i == 4 ? "RESUME" : "HALT");
                assert_int_equal(item(item(msg, "heights"), "source")->valueint, 1234);
        }
        for (i = 0; i < n; i++)
                cJSON_Delete(lines[i]);
        run_free(&r);
}

/* A RESUME copied after it lifted its HALT, and a HALT copied after the RESUME. */
static void replays_are_rejected_as_replays(void **state)
{
        struct fx *f = *state;
        char *args[] = {"control", "tail", "-c", f->conf};
        char *last[] = {"control", "tail", "-c", f->conf, "--count", "1"};
        char *json[] = {"control", "tail", "-c", f->conf, "--json"};
        char halt_msg[4096], halt_sig[CONTROL_SIG_B64_SIZE], want[256];
        size_t halt_len, at;
        cJSON *lines[8] = {NULL};
        struct run r;

        add_entry(f, CONTROL_HALT, f->watchdog, f->watchdog->pub.key_id, 0, "halt");
        memcpy(halt_msg, f->last_msg, f->last_len);
        halt_len = f->last_len;
        (void)snprintf(halt_sig, sizeof halt_sig, "%s", f->last_sig);
        add_entry(f, CONTROL_RESUME, f->operator_key, f->operator_key->pub.key_id, 0, "resume");
        add_copy(f);                           /* ids[2]: the RESUME again */
        xadd(f, halt_msg, halt_len, halt_sig); /* ids[3]: the HALT again */

        r = run_tail(args, 4);
        assert_int_equal(r.code, CMD_CONTROL_REJECTED);
        at = find_after(r.out, 0, f->ids[2]);
        (void)snprintf(want, sizeof want, "  REJECTED replay: REPLAY of entry %s: RESUME resume-",
                       f->ids[1]);
        at = find_after(r.out, at, want);
        at = find_after(r.out, at, f->ids[3]);
        (void)snprintf(want, sizeof want, "  REJECTED replay: REPLAY of entry %s: HALT halt-",
                       f->ids[0]);
        (void)find_after(r.out, at, want);
        run_free(&r);

        /* only the last printed: the history before it is judged all the same */
        r = run_tail(last, 6);
        assert_int_equal(r.code, CMD_CONTROL_REJECTED);
        assert_null(strstr(r.out, f->ids[2]));
        (void)find_after(r.out, find_after(r.out, 0, f->ids[3]), want);
        run_free(&r);

        r = run_tail(json, 5);
        assert_int_equal(r.code, CMD_CONTROL_REJECTED);
        assert_int_equal(json_lines(&r, lines, 8), 4);
        assert_string_equal(item(lines[2], "rejection")->valuestring, "replay");
        assert_string_equal(item(lines[2], "outcome")->valuestring, "reject");
        assert_false(cJSON_IsTrue(item(lines[2], "verified")));
        assert_string_equal(item(lines[2], "replay_of")->valuestring, f->ids[1]);
        assert_string_equal(item(lines[2], "key_role")->valuestring, "operator");
        assert_string_equal(item(item(lines[2], "msg"), "type")->valuestring, "RESUME");
        assert_string_equal(item(lines[3], "replay_of")->valuestring, f->ids[0]);
        for (at = 0; at < 4; at++)
                cJSON_Delete(lines[at]);
        run_free(&r);
}

/* A RESUME whose HALT is not in force (its entry trimmed, say) lifts nothing: a replay too. */
static void a_resume_lifting_nothing_is_a_replay(void **state)
{
        struct fx *f = *state;
        char *args[] = {"control", "tail", "-c", f->conf};
        struct run r;

        add_entry(f, CONTROL_RESUME, f->operator_key, f->operator_key->pub.key_id, 0, "orphan");
        r = run_tail(args, 4);
        assert_int_equal(r.code, CMD_CONTROL_REJECTED);
        (void)find_after(r.out, 0, "  REJECTED replay: REPLAY: RESUME resume-");
        (void)find_after(r.out, 0, "lifts no HALT in force");
        run_free(&r);
}

/*
 * Signed msgs that fail the strict checks: bytes that are not UTF-8 (and a
 * backslash, a newline), a name twice. --json stays valid UTF-8 JSON with
 * msg null and the bytes escaped.
 */
static void json_escapes_what_fails_the_strict_checks(void **state)
{
        static const char not_utf8[] = "{\"v\":1,\"type\":\"HALT\",\"reason\":\"\xff\xfe\\\n\"}";
        static const char dup[] = "{\"v\":1,\"type\":\"HALT\",\"type\":\"RESUME\"}";
        struct fx *f = *state;
        char *json[] = {"control", "tail", "-c", f->conf, "--json"};
        char *text[] = {"control", "tail", "-c", f->conf};
        cJSON *lines[8] = {NULL};
        struct run r;
        size_t i, n;

        add_signed(f, f->watchdog, not_utf8, sizeof not_utf8 - 1);
        add_signed(f, f->watchdog, dup, sizeof dup - 1);
        /* the same bytes, never signed by a configured key */
        add_signed(f, f->forger, not_utf8, sizeof not_utf8 - 1);
        r = run_tail(json, 5);
        assert_int_equal(r.code, CMD_CONTROL_REJECTED);
        n = json_lines(&r, lines, 8);
        assert_int_equal(n, 3);
        assert_string_equal(item(lines[0], "rejection")->valuestring, "not_utf8");
        assert_string_equal(item(lines[0], "key_role")->valuestring, "watchdog");
        assert_true(cJSON_IsNull(item(lines[0], "msg")));
        assert_string_equal(item(lines[0], "msg_escaped")->valuestring,
                            "{\"v\":1,\"type\":\"HALT\",\"reason\":\"\\xff\\xfe\\\\\\x0a\"}");
        assert_string_equal(item(lines[1], "rejection")->valuestring, "duplicate_key");
        assert_true(cJSON_IsNull(item(lines[1], "msg")));
        assert_string_equal(item(lines[1], "msg_escaped")->valuestring, dup);
        assert_non_null(strstr(item(lines[1], "error")->valuestring, "\"type\" is given twice"));
        assert_string_equal(item(lines[2], "rejection")->valuestring, "bad_signature");
        assert_true(cJSON_IsNull(item(lines[2], "key_role")));
        assert_true(cJSON_IsNull(item(lines[2], "msg")));
        assert_string_equal(item(lines[2], "msg_escaped")->valuestring,
                            item(lines[0], "msg_escaped")->valuestring);
        for (i = 0; i < n; i++)
                cJSON_Delete(lines[i]);
        /* the raw text has no byte that is not UTF-8, and no name twice in one object */
        assert_null(strstr(r.out, "\xff"));
        assert_null(strstr(r.out, "\"type\":\"HALT\",\"type\""));
        run_free(&r);

        /* text: the rejection named, the bytes escaped */
        r = run_tail(text, 4);
        assert_int_equal(r.code, CMD_CONTROL_REJECTED);
        (void)find_after(r.out, 0, "  REJECTED not_utf8: ");
        (void)find_after(r.out, 0,
                         "  msg: {\"v\":1,\"type\":\"HALT\",\"reason\":\"\\xff\\xfe\\\\\\n\"}\n");
        (void)find_after(r.out, 0, "  REJECTED duplicate_key: ");
        assert_null(strstr(r.out, "\xff"));
        run_free(&r);
}

static void count_takes_the_latest_in_order(void **state)
{
        struct fx *f = *state;
        char *args[] = {"control", "tail", "-c", f->conf, "--count", "2"};
        struct run r;

        add_the_five(f);
        r = run_tail(args, 6);
        assert_int_equal(r.code, CMD_CONTROL_REJECTED);
        assert_null(strstr(r.out, f->ids[0]));
        assert_null(strstr(r.out, f->ids[1]));
        assert_null(strstr(r.out, f->ids[2]));
        assert_true(find_after(r.out, 0, f->ids[3]) < find_after(r.out, 0, f->ids[4]));
        run_free(&r);
}

static void all_verified_exits_zero(void **state)
{
        struct fx *f = *state;
        char *args[] = {"control", "tail", "-c", f->conf};
        struct run r;

        /* an empty (absent) stream is nothing to reject */
        r = run_tail(args, 4);
        assert_int_equal(r.code, 0);
        (void)find_after(r.out, 0, ": no entries");
        run_free(&r);

        add_entry(f, CONTROL_HALT, f->watchdog, f->watchdog->pub.key_id, 0, "one");
        add_entry(f, CONTROL_RESUME, f->operator_key, f->operator_key->pub.key_id, 0, "two");
        /* an operator may halt too */
        add_entry(f, CONTROL_HALT, f->operator_key, f->operator_key->pub.key_id, 0, "three");
        r = run_tail(args, 4);
        assert_int_equal(r.code, 0);
        assert_null(strstr(r.out, "REJECTED"));
        (void)find_after(r.out, find_after(r.out, 0, f->ids[2]), "verified: operator key");
        run_free(&r);
}

static void malformed_and_hostile_entries_are_rejected(void **state)
{
        struct fx *f = *state;
        char *args[] = {"control", "tail", "-c", f->conf};
        struct run r;

        freeReplyObject(redisCommand(f->ctx, "XADD %s * msg {} note x", f->stream));
        freeReplyObject(redisCommand(f->ctx, "XADD %s * sig abc", f->stream));
        freeReplyObject(redisCommand(f->ctx, "XADD %s * msg hello sig AAAA", f->stream));
        /* a forged entry that tries to clear the screen and fake a verified line */
        add_entry(f, CONTROL_HALT, f->forger, f->watchdog->pub.key_id, 0,
                  "evil\x1b[2J\n  verified: watchdog key \\o/");
        r = run_tail(args, 4);
        assert_int_equal(r.code, CMD_CONTROL_REJECTED);
        (void)find_after(r.out, 0,
                         "REJECTED bad_entry: the entry has 2 fields (1 msg, 0 sig); it must have "
                         "exactly one msg and one sig");
        (void)find_after(r.out, 0,
                         "(no msg field)\n  REJECTED bad_entry: the entry has 1 field "
                         "(0 msg, 1 sig)");
        (void)find_after(r.out, 0,
                         "  msg: hello\n  REJECTED bad_signature: sig: 4 bytes, "
                         "expected 88 base64 characters");
        /* shown escaped, on its own line, not obeyed */
        (void)find_after(r.out, 0,
                         "reason: evil\\x1b[2J\\n  verified: watchdog key \\\\o/\n"
                         "  heights:");
        assert_null(strchr(r.out, '\x1b'));
        assert_null(strstr(r.out, "\n  verified"));
        run_free(&r);
}

static void unusable_redis_or_config_exits_two(void **state)
{
        struct fx *f = *state;
        char *args[] = {"control", "tail", "-c", f->conf};
        char *missing[] = {"control", "tail", "-c", "/nonexistent/relaywatch.conf"};
        char url[64], lines[512];
        struct run r;
        uint16_t port = test_free_port();

        r = run_tail(missing, 4);
        assert_int_equal(r.code, CMD_CONTROL_UNUSABLE);
        (void)find_after(r.err, 0, "relaywatch control tail: cannot open ");
        (void)find_after(r.err, 0, "/nonexistent/relaywatch.conf");
        run_free(&r);

        /* nobody listens there */
        assert_true(port != 0);
        (void)snprintf(url, sizeof url, "redis://127.0.0.1:%u/0", (unsigned)port);
        (void)snprintf(lines, sizeof lines, "signing_key = %s/watchdog.key\n", f->dir);
        write_config(f, url, lines);
        r = run_tail(args, 4);
        assert_int_equal(r.code, CMD_CONTROL_UNUSABLE);
        (void)find_after(r.err, 0, "relaywatch control tail: cannot use Redis: ");
        (void)find_after(r.err, 0, url);
        assert_string_equal(r.out, "");
        run_free(&r);

        /* a configured key file that is not there */
        (void)snprintf(lines, sizeof lines,
                       "signing_key = %s/watchdog.key\noperator_keys = %s/gone.pub\n", f->dir,
                       f->dir);
        write_config(f, f->redis_url, lines);
        r = run_tail(args, 4);
        assert_int_equal(r.code, CMD_CONTROL_UNUSABLE);
        (void)find_after(r.err, 0, "[control] operator key: ");
        (void)find_after(r.err, 0, "gone.pub");
        run_free(&r);

        /* no key at all: nothing could be verified */
        write_config(f, f->redis_url, "");
        r = run_tail(args, 4);
        assert_int_equal(r.code, CMD_CONTROL_UNUSABLE);
        (void)find_after(r.err, 0, "no public key to verify with");
        run_free(&r);

        /* the stream's key holds something else */
        write_usual_config(f);
        freeReplyObject(redisCommand(f->ctx, "SET %s not-a-stream", f->stream));
        r = run_tail(args, 4);
        assert_int_equal(r.code, CMD_CONTROL_UNUSABLE);
        (void)find_after(r.err, 0, "refused XREVRANGE on stream ");
        (void)find_after(r.err, 0, "WRONGTYPE");
        run_free(&r);
}

static void usage_errors(void **state)
{
        char *none[] = {"control"};
        char *unknown[] = {"control", "head"};
        char *count[] = {"control", "tail", "--count", "0"};
        char *big[] = {"control", "tail", "--count", "10001"};
        char *extra[] = {"control", "tail", "--frobnicate"};
        struct run r;

        (void)state;
        r = run_tail(none, 1);
        assert_int_equal(r.code, 64);
        (void)find_after(r.err, 0, "a subcommand is required: tail");
        run_free(&r);
        r = run_tail(unknown, 2);
        assert_int_equal(r.code, 64);
        (void)find_after(r.err, 0, "unknown subcommand 'head'");
        run_free(&r);
        r = run_tail(count, 4);
        assert_int_equal(r.code, 64);
        (void)find_after(r.err, 0, "--count '0': expected a number from 1 to 10000");
        run_free(&r);
        r = run_tail(big, 4);
        assert_int_equal(r.code, 64);
        run_free(&r);
        r = run_tail(extra, 3);
        assert_int_equal(r.code, 64);
        (void)find_after(r.err, 0, "unexpected argument '--frobnicate'");
        run_free(&r);
}

/* ------------------------------------------------------------ --follow */

struct follower {
        char conf[128];
        FILE *out, *errout;
        char *err;
        size_t err_len;
        int code;
};

static void *follow_run(void *arg)
{
        struct follower *fl = arg;
        char *argv[] = {"control", "tail", "--follow", "-c", fl->conf, NULL};

        fl->code = cmd_control(5, argv, fl->out, fl->errout);
        (void)fclose(fl->out); /* the reader sees end of file */
        return NULL;
}

/* Reads from fd into buf until `needle` shows up; 10 s at most. */
static void read_until(int fd, char *buf, size_t cap, size_t *len, const char *needle)
{
        struct timespec start, now;

        assert_int_equal(clock_gettime(CLOCK_MONOTONIC, &start), 0);
        while (strstr(buf, needle) == NULL) {
                struct pollfd p = {fd, POLLIN, 0};
                ssize_t n;

                assert_int_equal(clock_gettime(CLOCK_MONOTONIC, &now), 0);
                if (now.tv_sec - start.tv_sec > 10)
                        fail_msg("'%s' did not appear within 10 s; output so far:\n%s", needle,
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

static void ignore_signal(int sig)
{
        (void)sig;
}

static void follow_prints_new_entries_until_sigterm(void **state)
{
        struct fx *f = *state;
        struct follower fl;
        struct sigaction sa, old;
        pthread_t th;
        char buf[16384] = "";
        size_t len = 0;
        int fds[2];

        /* A SIGTERM that came before cmd_control's handler must not end the test. */
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = ignore_signal;
        assert_int_equal(sigemptyset(&sa.sa_mask), 0);
        assert_int_equal(sigaction(SIGTERM, &sa, &old), 0);

        add_entry(f, CONTROL_HALT, f->watchdog, f->watchdog->pub.key_id, 0, "before");
        memset(&fl, 0, sizeof fl);
        (void)snprintf(fl.conf, sizeof fl.conf, "%s", f->conf);
        assert_int_equal(pipe(fds), 0);
        fl.out = fdopen(fds[1], "w");
        assert_non_null(fl.out);
        fl.errout = open_memstream(&fl.err, &fl.err_len);
        assert_non_null(fl.errout);
        assert_int_equal(pthread_create(&th, NULL, follow_run, &fl), 0);

        read_until(fds[0], buf, sizeof buf, &len, "verified: watchdog key");
        (void)find_after(buf, 0, f->ids[0]);
        /* new entries arrive while it waits: a good RESUME, then a forged HALT */
        add_entry(f, CONTROL_RESUME, f->operator_key, f->operator_key->pub.key_id, 0, "after");
        read_until(fds[0], buf, sizeof buf, &len, "verified: operator key");
        add_entry(f, CONTROL_HALT, f->forger, f->watchdog->pub.key_id, 0, "forged later");
        read_until(fds[0], buf, sizeof buf, &len, "REJECTED");
        (void)find_after(buf, find_after(buf, 0, f->ids[1]), f->ids[2]);

        assert_int_equal(kill(getpid(), SIGTERM), 0);
        assert_int_equal(pthread_join(th, NULL), 0);
        assert_int_equal(fl.code, CMD_CONTROL_REJECTED);
        assert_int_equal(fclose(fl.errout), 0);
        assert_string_equal(fl.err, "");
        free(fl.err);
        (void)close(fds[0]);
        assert_int_equal(sigaction(SIGTERM, &old, NULL), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(tail_verifies_each_entry, setup, teardown),
                cmocka_unit_test_setup_teardown(tail_json_is_one_object_per_entry, setup, teardown),
                cmocka_unit_test_setup_teardown(replays_are_rejected_as_replays, setup, teardown),
                cmocka_unit_test_setup_teardown(a_resume_lifting_nothing_is_a_replay, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(json_escapes_what_fails_the_strict_checks, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(count_takes_the_latest_in_order, setup, teardown),
                cmocka_unit_test_setup_teardown(all_verified_exits_zero, setup, teardown),
                cmocka_unit_test_setup_teardown(malformed_and_hostile_entries_are_rejected, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(unusable_redis_or_config_exits_two, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(usage_errors, setup, teardown),
                cmocka_unit_test_setup_teardown(follow_prints_new_entries_until_sigterm, setup,
                                                teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
