#include "cmd_control.h"

#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <cjson/cJSON.h>
#include <hiredis/hiredis.h>

#include "cli.h"
#include "config.h"
#include "control_msg.h"
#include "cli_setup.h"
#include "rwerr.h"
#include "keyring.h"

static const char help[] =
        "Prints the last COUNT entries of the relayer's control stream ([control] stream),\n"
        "oldest first, each verified as a relayer verifies it: a HALT signed by a\n"
        "watchdog key or an operator key, a RESUME only by an operator key. Entries\n"
        "that do not verify are shown as REJECTED with the reason; what they claim is\n"
        "shown but not trusted.\n"
        "\n"
        "  -c, --config FILE  the configuration (default: $RELAYWATCH_CONFIG, then\n"
        "                     " CONFIG_DEFAULT_PATH ")\n"
        "  -n, --count COUNT  how many of the latest entries to print (1-10000, default 20)\n"
        "  -f, --follow       then wait for new entries and print them, until SIGINT/SIGTERM\n"
        "  --json             one JSON object per entry per line: entry_id, verified,\n"
        "                     key_role, key_id, error, msg\n"
        "\n"
        "Exit status: 0 every entry printed verified, 1 an entry was rejected,\n"
        "2 Redis or the configuration could not be used.\n";

#define TAIL_COUNT_DEFAULT 20
#define TAIL_COUNT_MAX 10000
#define TAIL_BLOCK_MS 500     /* one XREAD BLOCK; the stop flag is checked between them */
#define TAIL_READ_COUNT 100   /* entries per XREAD */
#define TAIL_ENTRY_ID_SIZE 64 /* "<ms>-<seq>": two 64-bit numbers and a dash */
#define TAIL_SHOWN_MAX 512    /* bytes of one claimed field shown in text mode */

struct tail_options {
        const char *config;
        long count;
        int follow;
        int json;
};

struct tail {
        FILE *out, *errout;
        const struct tail_options *opt;
        const char *stream;
        const char *server; /* "redis://HOST:PORT/DB", no password (the link's) */
        redisContext *ctx;
        const struct keyring *ring;
        char last_id[TAIL_ENTRY_ID_SIZE]; /* newest entry printed; "0-0" before any */
        size_t printed;
        size_t rejected;
};

/* What one entry turned out to be. */
struct entry_result {
        int verified;
        const char *key_role; /* "watchdog" or "operator" when verified */
        const char *key_id;   /* of the key that verified it */
        char error[RWERR_MSG_MAX];
        struct control_msg m; /* parsed (verified, or only claimed when rejected) */
        int parsed;
        char parse_error[RWERR_MSG_MAX];
};

static volatile sig_atomic_t tail_stop;

static void tail_on_signal(int sig)
{
        (void)sig;
        tail_stop = 1;
}

static int cmd_tail(int argc, char **argv, FILE *out, FILE *errout);

#define TAIL_USAGE "relaywatch control tail [-c FILE] [--count COUNT] [--follow] [--json]"
#define TAIL_SUMMARY                                                                               \
        "print the control stream's messages, each verified against the configured keys; exit 0 "  \
        "all verified, 1 one rejected, 2 Redis or the configuration could not be used"

const struct cli_command cmd_control_command = {"control", TAIL_USAGE, TAIL_SUMMARY, help,
                                                cmd_control};
static const struct cli_command tail_command = {"control tail", TAIL_USAGE, TAIL_SUMMARY, help,
                                                cmd_tail};

static int unusable(const struct tail *t, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static int unusable(const struct tail *t, const char *fmt, ...)
{
        va_list ap;

        fprintf(t->errout, "relaywatch control tail: ");
        va_start(ap, fmt);
        vfprintf(t->errout, fmt, ap);
        va_end(ap);
        fputc('\n', t->errout);
        return CMD_CONTROL_UNUSABLE;
}

/* ------------------------------------------------------------ text output */

/* Length of the printable UTF-8 sequence at s[0..n), or 0 (a control or invalid byte). */
static size_t printable_sequence(const unsigned char *s, size_t n)
{
        size_t len, i;

        if (s[0] >= 0x20 && s[0] < 0x7f)
                return 1;
        if (s[0] >= 0xc2 && s[0] <= 0xdf)
                len = 2;
        else if (s[0] >= 0xe0 && s[0] <= 0xef)
                len = 3;
        else if (s[0] >= 0xf0 && s[0] <= 0xf4)
                len = 4;
        else
                return 0;
        if (len > n)
                return 0;
        for (i = 1; i < len; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
        }
        if ((s[0] == 0xc2 && s[1] < 0xa0) || /* C1 controls: terminal escapes */
            (s[0] == 0xe0 && s[1] < 0xa0) || /* overlong */
            (s[0] == 0xed && s[1] > 0x9f) || /* UTF-16 surrogates */
            (s[0] == 0xf0 && s[1] < 0x90) || /* overlong */
            (s[0] == 0xf4 && s[1] > 0x8f))   /* past U+10FFFF */
                return 0;
        return len;
}

/*
 * Prints `n` bytes of `s` for a terminal: newline, return and tab as \n \r \t,
 * other control characters and bytes that are not valid UTF-8 as \xNN, a
 * backslash as \\, so a forged entry cannot move the cursor or
 * fake a line; at most TAIL_SHOWN_MAX bytes, then "...".
 */
static void print_safe(FILE *out, const char *text, size_t n)
{
        const unsigned char *s = (const unsigned char *)text;
        size_t i = 0, len;

        if (text == NULL) {
                fputs("(none)", out);
                return;
        }
        while (i < n && i < TAIL_SHOWN_MAX) {
                len = printable_sequence(s + i, n - i);
                if (len == 0) {
                        if (s[i] == '\n' || s[i] == '\r' || s[i] == '\t')
                                fprintf(out, "\\%c", s[i] == '\n' ? 'n' : s[i] == '\r' ? 'r' : 't');
                        else
                                fprintf(out, "\\x%02x", s[i]);
                        i++;
                        continue;
                }
                if (s[i] == '\\')
                        fputc('\\', out);
                (void)fwrite(s + i, 1, len, out);
                i += len;
        }
        if (i < n)
                fputs("...", out);
}

static void print_str(FILE *out, const char *s)
{
        print_safe(out, s, s != NULL ? strlen(s) : 0);
}

static void print_heights(FILE *out, const char *label, const struct control_height *h, size_t n)
{
        size_t i;

        fprintf(out, "  %s:", label);
        for (i = 0; i < n; i++) {
                fputc(' ', out);
                print_str(out, h[i].chain);
                fprintf(out, "=%" PRIu64, h[i].block);
        }
        fputc('\n', out);
}

static void print_text(const struct tail *t, const char *entry_id, const struct entry_result *r)
{
        const struct control_msg *m = &r->m;
        FILE *out = t->out;

        print_str(out, entry_id);
        if (r->parsed) {
                fprintf(out, " %s ", control_type_name(m->type));
                print_str(out, m->id);
                fputs("\n  invariant ", out);
                print_str(out, m->invariant);
                fputs(", severity ", out);
                print_str(out, m->severity);
                fputs(", issued_at ", out);
                print_str(out, m->issued_at);
                fputs("\n  reason: ", out);
                print_str(out, m->reason);
                fputc('\n', out);
                print_heights(out, "heights", m->heights, m->nheights);
                if (m->type == CONTROL_RESUME)
                        print_heights(out, "resume_from", m->resume_from, m->nresume_from);
                fputs("  from watchdog_id ", out);
                print_str(out, m->watchdog_id);
                fputs(", correlation_id ", out);
                print_str(out, m->correlation_id);
                fputc('\n', out);
        } else {
                fputs(" (msg not readable: ", out);
                print_str(out, r->parse_error);
                fputs(")\n", out);
        }
        if (r->verified)
                fprintf(out, "  verified: %s key %s\n", r->key_role, r->key_id);
        else {
                fputs("  REJECTED: ", out);
                print_str(out, r->error);
                fputc('\n', out);
        }
}

/* ------------------------------------------------------------ JSON output */

static int print_json(const struct tail *t, const char *entry_id, const struct entry_result *r,
                      const char *msg, size_t len)
{
        cJSON *o = cJSON_CreateObject();
        cJSON *parsed = NULL;
        char *text = NULL;
        int rc = CMD_CONTROL_UNUSABLE;

        if (o == NULL)
                goto out;
        if (r->verified)
                parsed = cJSON_Duplicate(r->m.root, 1);
        else if (len <= CONTROL_MSG_MAX)
                parsed = cJSON_ParseWithLength(msg, len);
        if (parsed != NULL && !cJSON_IsObject(parsed)) {
                cJSON_Delete(parsed);
                parsed = NULL;
        }
        if (cJSON_AddStringToObject(o, "entry_id", entry_id) == NULL ||
            cJSON_AddBoolToObject(o, "verified", r->verified) == NULL ||
            (r->verified ? cJSON_AddStringToObject(o, "key_role", r->key_role)
                         : cJSON_AddNullToObject(o, "key_role")) == NULL ||
            (r->verified ? cJSON_AddStringToObject(o, "key_id", r->key_id)
                         : cJSON_AddNullToObject(o, "key_id")) == NULL ||
            (r->verified ? cJSON_AddNullToObject(o, "error")
                         : cJSON_AddStringToObject(o, "error", r->error)) == NULL)
                goto out;
        if (parsed != NULL) {
                cJSON_AddItemToObject(o, "msg", parsed);
                parsed = NULL;
        } else if (cJSON_AddNullToObject(o, "msg") == NULL) {
                goto out;
        }
        if ((text = cJSON_PrintUnformatted(o)) == NULL)
                goto out;
        fprintf(t->out, "%s\n", text);
        rc = RW_OK;
out:
        if (rc != RW_OK)
                fprintf(t->errout, "relaywatch control tail: out of memory printing entry %s\n",
                        entry_id);
        free(text);
        cJSON_Delete(parsed);
        cJSON_Delete(o);
        return rc;
}

/* ------------------------------------------------------------ verification */

/*
 * Checks msg/sig as a consumer does: the watchdog keys may sign a HALT, the
 * operator keys a HALT or a RESUME. When neither verifies, says why, from
 * the point of view of the key that did sign it, if any.
 */
static void verify_entry(const struct tail *t, const char *msg, size_t len, const char *sig,
                         struct entry_result *r)
{
        const struct keyring *ring = t->ring;
        const struct verify_key *signer = NULL;
        enum keyring_role role = KEYRING_NONE;
        struct rwerr ew = {""}, eo = {""}, ev = {""};
        int idx;

        if (len > CONTROL_MSG_MAX) {
                (void)snprintf(r->error, sizeof r->error, "msg: %zu bytes, at most %d", len,
                               CONTROL_MSG_MAX);
                (void)snprintf(r->parse_error, sizeof r->parse_error, "%s", r->error);
                return;
        }
        if (ring->nwatchdog > 0 &&
            (idx = control_msg_check(ring->watchdog, ring->nwatchdog, CONTROL_ALLOW_HALT, msg, len,
                                     sig, &r->m, &ew)) >= 0) {
                r->verified = r->parsed = 1;
                r->key_role = keyring_role_name(KEYRING_WATCHDOG);
                r->key_id = ring->watchdog[idx].key_id;
                return;
        }
        if (ring->noperator > 0 &&
            (idx = control_msg_check(ring->operator, ring->noperator,
                                     CONTROL_ALLOW_HALT | CONTROL_ALLOW_RESUME, msg, len, sig,
                                     &r->m, &eo)) >= 0) {
                r->verified = r->parsed = 1;
                r->key_role = keyring_role_name(KEYRING_OPERATOR);
                r->key_id = ring->operator[idx].key_id;
                return;
        }

        /* Rejected. Parse what it claims, for display only, and say who signed it. */
        r->parsed = control_msg_parse(msg, len, &r->m, &ev) == RW_OK;
        if (!r->parsed)
                (void)snprintf(r->parse_error, sizeof r->parse_error, "%s", ev.msg);
        if (keyring_signer(ring, KEYRING_ANY, msg, len, sig, &signer, &role, &ev) != RW_OK)
                (void)snprintf(r->error, sizeof r->error, "%s", ev.msg);
        else if (role == KEYRING_OPERATOR)
                (void)snprintf(r->error, sizeof r->error, "signed by operator key %s, but %.200s",
                               signer->key_id, eo.msg);
        else if (r->parsed && r->m.type == CONTROL_RESUME)
                (void)snprintf(r->error, sizeof r->error,
                               "a RESUME signed with watchdog key %s: only an operator key may "
                               "sign a RESUME",
                               signer->key_id);
        else
                (void)snprintf(r->error, sizeof r->error, "signed by watchdog key %s, but %.200s",
                               signer->key_id, ew.msg);
}

/* ------------------------------------------------------------ stream entries */

static int is_string(const redisReply *r)
{
        return r != NULL && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS);
}

/* One entry of an XRANGE/XREAD reply: [id, [field, value, ...]]. */
static int handle_entry(struct tail *t, const redisReply *e)
{
        const redisReply *fields, *msg = NULL, *sig = NULL;
        struct entry_result r;
        char entry_id[TAIL_ENTRY_ID_SIZE];
        size_t i, nmsg = 0, nsig = 0;
        int rc = RW_OK;

        if (e == NULL || e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
            !is_string(e->element[0]) || e->element[0]->len >= sizeof entry_id)
                return unusable(t, "Redis %s: stream %s: an entry that is not [id, fields]",
                                t->server, t->stream);
        memcpy(entry_id, e->element[0]->str, e->element[0]->len);
        entry_id[e->element[0]->len] = '\0';
        fields = e->element[1];
        memset(&r, 0, sizeof r);
        if (fields != NULL && fields->type == REDIS_REPLY_ARRAY) {
                for (i = 0; i + 1 < fields->elements; i += 2) {
                        const redisReply *name = fields->element[i];

                        if (!is_string(name) || !is_string(fields->element[i + 1]))
                                continue;
                        if (name->len == 3 && memcmp(name->str, "msg", 3) == 0) {
                                msg = fields->element[i + 1];
                                nmsg++;
                        } else if (name->len == 3 && memcmp(name->str, "sig", 3) == 0) {
                                sig = fields->element[i + 1];
                                nsig++;
                        }
                }
        }
        if (nmsg != 1 || nsig != 1) {
                (void)snprintf(r.error, sizeof r.error,
                               "the entry has %zu msg and %zu sig fields, expected one of each",
                               nmsg, nsig);
                (void)snprintf(r.parse_error, sizeof r.parse_error, "%s",
                               nmsg == 0 ? "no msg field" : "not one msg field");
        } else if (strlen(sig->str) != sig->len) {
                (void)snprintf(r.error, sizeof r.error, "sig: contains a NUL byte");
                (void)snprintf(r.parse_error, sizeof r.parse_error, "not verified");
        } else {
                verify_entry(t, msg->str, msg->len, sig->str, &r);
        }
        if (t->opt->json)
                rc = print_json(t, entry_id, &r, nmsg == 1 ? msg->str : "",
                                nmsg == 1 ? msg->len : 0);
        else
                print_text(t, entry_id, &r);
        (void)fflush(t->out);
        control_msg_free(&r.m);
        t->printed++;
        if (!r.verified)
                t->rejected++;
        (void)snprintf(t->last_id, sizeof t->last_id, "%s", entry_id);
        return rc;
}

/* A NULL reply or an error reply from `what`: exit 2, naming Redis and the stream. */
static int redis_failed(const struct tail *t, const redisReply *reply, const char *what)
{
        if (reply == NULL)
                return unusable(t, "Redis %s: %s on stream %s: %s", t->server, what, t->stream,
                                t->ctx->errstr[0] != '\0' ? t->ctx->errstr : "no reply");
        if (reply->type == REDIS_REPLY_ERROR)
                return unusable(t, "Redis %s refused %s on stream %s: %.*s", t->server, what,
                                t->stream, (int)(reply->len > 200 ? 200 : reply->len), reply->str);
        return unusable(t, "Redis %s: %s on stream %s: unexpected reply of type %d", t->server,
                        what, t->stream, reply->type);
}

static int print_latest(struct tail *t)
{
        redisReply *reply =
                redisCommand(t->ctx, "XREVRANGE %s + - COUNT %ld", t->stream, t->opt->count);
        size_t i;
        int rc = RW_OK;

        if (reply == NULL || reply->type != REDIS_REPLY_ARRAY) {
                rc = redis_failed(t, reply, "XREVRANGE");
                freeReplyObject(reply);
                return rc;
        }
        if (reply->elements == 0 && !t->opt->json)
                fprintf(t->out, "stream %s: no entries%s\n", t->stream,
                        t->opt->follow ? "; waiting for new ones" : "");
        for (i = reply->elements; i > 0 && rc == RW_OK; i--)
                rc = handle_entry(t, reply->element[i - 1]);
        freeReplyObject(reply);
        return rc;
}

/* XREAD BLOCK in short slices until a signal sets tail_stop. */
static int follow(struct tail *t, long redis_timeout_ms)
{
        long ms = TAIL_BLOCK_MS + redis_timeout_ms;
        struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
        int rc = RW_OK;

        if (redisSetTimeout(t->ctx, tv) != REDIS_OK)
                return unusable(t, "Redis %s: cannot set the socket timeout", t->server);
        while (rc == RW_OK && !tail_stop) {
                redisReply *reply =
                        redisCommand(t->ctx, "XREAD COUNT %d BLOCK %d STREAMS %s %s",
                                     TAIL_READ_COUNT, TAIL_BLOCK_MS, t->stream, t->last_id);
                const redisReply *entries;
                size_t i;

                if (reply != NULL && reply->type == REDIS_REPLY_NIL) {
                        freeReplyObject(reply);
                        continue;
                }
                if (reply == NULL || reply->type != REDIS_REPLY_ARRAY || reply->elements != 1 ||
                    reply->element[0]->type != REDIS_REPLY_ARRAY ||
                    reply->element[0]->elements != 2 ||
                    reply->element[0]->element[1]->type != REDIS_REPLY_ARRAY) {
                        rc = redis_failed(t, reply, "XREAD");
                        freeReplyObject(reply);
                        break;
                }
                entries = reply->element[0]->element[1];
                for (i = 0; i < entries->elements && rc == RW_OK; i++)
                        rc = handle_entry(t, entries->element[i]);
                freeReplyObject(reply);
        }
        return rc;
}

/* The public keys named by the configuration: all of them, or the command cannot verify. */
static int load_keys(struct tail *t, struct cli_setup *s)
{
        const struct config *cfg = s->cfg;
        struct rwerr err;

        if (cli_setup_keys(s, NULL, NULL, NULL, &err) != RW_OK)
                return unusable(t, "configuration %s: [control] %s", cfg->path, err.msg);
        t->ring = &s->keys;
        if (t->ring->nwatchdog + t->ring->noperator == 0)
                return unusable(t,
                                "configuration %s: no public key to verify with: set [control] "
                                "signing_key, watchdog_keys or operator_keys",
                                cfg->path);
        return RW_OK;
}

static int tail_run(const struct tail_options *opt, FILE *out, FILE *errout)
{
        struct sigaction sa, old_int, old_term;
        struct cli_setup s;
        struct tail t;
        struct rwerr err;
        int rc, handlers = 0;

        memset(&t, 0, sizeof t);
        memset(&old_int, 0, sizeof old_int);
        memset(&old_term, 0, sizeof old_term);
        t.out = out;
        t.errout = errout;
        t.opt = opt;
        (void)snprintf(t.last_id, sizeof t.last_id, "0-0");
        cli_setup_init(&s, &tail_command, errout);
        if (cli_setup_config(&s, opt->config) != RW_OK)
                return CMD_CONTROL_UNUSABLE;
        t.stream = s.cfg->control_stream;
        if (cli_setup_require_redis(&s) != RW_OK) {
                rc = CMD_CONTROL_UNUSABLE;
                goto out;
        }
        if ((rc = load_keys(&t, &s)) != RW_OK)
                goto out;
        if ((t.ctx = cli_setup_redis(&s, &err)) == NULL) {
                rc = unusable(&t, "cannot use Redis: %s", err.msg);
                goto out;
        }
        t.server = redisconn_server(s.redis);
        if (opt->follow) {
                /* Installed before the first line: whoever sees output may signal us. */
                tail_stop = 0;
                memset(&sa, 0, sizeof sa);
                sa.sa_handler = tail_on_signal;
                (void)sigemptyset(&sa.sa_mask);
                (void)sigaction(SIGINT, &sa, &old_int);
                (void)sigaction(SIGTERM, &sa, &old_term);
                handlers = 1;
        }
        rc = print_latest(&t);
        if (rc == RW_OK && opt->follow)
                rc = follow(&t, s.cfg->redis_timeout_ms);
        if (rc == RW_OK)
                rc = t.rejected > 0 ? CMD_CONTROL_REJECTED : CLI_EXIT_OK;
out:
        if (handlers) {
                (void)sigaction(SIGINT, &old_int, NULL);
                (void)sigaction(SIGTERM, &old_term, NULL);
        }
        cli_setup_release(&s);
        return rc;
}

static int cmd_tail(int argc, char **argv, FILE *out, FILE *errout)
{
        enum { OPT_JSON = CLI_OPT_LONG };
        static const struct cli_option options[] = {
                CLI_OPTION_CONFIG,
                {"count", 'n', "COUNT"},
                {"follow", 'f', NULL},
                {"json", OPT_JSON, NULL},
        };
        struct tail_options opt = {NULL, TAIL_COUNT_DEFAULT, 0, 0};
        struct cli_args a;
        uint64_t count;
        int key;

        cli_args_init(&a, &tail_command, options, CLI_NOPTIONS(options), argc, argv, out, errout);
        while ((key = cli_args_next(&a)) > 0) {
                switch (key) {
                case 'c':
                        opt.config = a.value;
                        break;
                case 'n':
                        if (cli_args_number(&a, 1, TAIL_COUNT_MAX, &count) != 0)
                                return a.exit_code;
                        opt.count = (long)count;
                        break;
                case 'f':
                        opt.follow = 1;
                        break;
                default:
                        opt.json = 1;
                        break;
                }
        }
        if (key == CLI_ARGS_EXIT)
                return a.exit_code;
        return tail_run(&opt, out, errout);
}

int cmd_control(int argc, char **argv, FILE *out, FILE *errout)
{
        const struct cli_command *cmd = &cmd_control_command;

        if (argc < 2)
                return cli_usage_error(cmd, errout, "a subcommand is required: tail");
        if (strcmp(argv[1], "tail") == 0)
                return cmd_tail(argc - 1, argv + 1, out, errout);
        if (cli_is_help(argv[1])) {
                cli_print_help(cmd, out);
                return CLI_EXIT_OK;
        }
        return cli_usage_error(cmd, errout, "unknown subcommand '%s'; the one there is: tail",
                               argv[1]);
}
