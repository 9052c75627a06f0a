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
#include "cli_setup.h"
#include "config.h"
#include "control_msg.h"
#include "control_read.h"
#include "control_state.h"
#include "halt_publish.h"
#include "json_strict.h"
#include "keyring.h"
#include "rwerr.h"

static const char help[] =
        "Prints the last COUNT entries of the relayer's control stream ([control] stream),\n"
        "oldest first, each judged exactly as a relayer that read the whole stream judges\n"
        "it (docs/PROTOCOL.md section 6): the halt key and every earlier entry are read\n"
        "first, silently, so a copy of an old entry shows as a REPLAY. A HALT may be\n"
        "signed by a watchdog key or an operator key, a RESUME only by an operator key.\n"
        "Each entry ends with its outcome:\n"
        "\n"
        "  verified: KEY_ROLE key KEY_ID, HALT in force | RESUME lifted N HALTs\n"
        "  REJECTED REJECTION: what failed     (the names of PROTOCOL.md section 6.1)\n"
        "  REJECTED replay: REPLAY of entry ID (a copy of an entry accepted before)\n"
        "\n"
        "What a rejected entry claims is shown, never trusted; bytes that are not\n"
        "printable are shown escaped (\\xNN).\n"
        "\n"
        "  -c, --config FILE  the configuration (default: $RELAYWATCH_CONFIG, then\n"
        "                     " CONFIG_DEFAULT_PATH ")\n"
        "  -n, --count COUNT  how many of the latest entries to print (1-10000, default 20)\n"
        "  -f, --follow       then wait for new entries and print them, until SIGINT/SIGTERM\n"
        "  --json             one JSON object per entry per line: entry_id, verified,\n"
        "                     outcome (halt, resume, reject), rejection, key_role, key_id,\n"
        "                     error, replay_of, lifted, msg (the msg parsed, only when it\n"
        "                     passed the strict JSON checks) and msg_escaped (otherwise:\n"
        "                     its bytes, every one that is not printable ASCII as \\xNN)\n"
        "\n"
        "Exit status: 0 every entry printed verified, 1 an entry printed was rejected\n"
        "(a replay too), 2 Redis or the configuration could not be used.\n";

#define TAIL_COUNT_DEFAULT 20
#define TAIL_COUNT_MAX 10000
#define TAIL_BLOCK_MS 500   /* one XREAD BLOCK; the stop flag is checked between them */
#define TAIL_READ_COUNT 100 /* entries per XREAD */
#define TAIL_SHOWN_MAX 512  /* bytes of one claimed field shown in text mode */
#define TAIL_FIELDS_MAX 16  /* fields of one entry looked at; more is a bad_entry all the same */

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
        const char *halt_key;
        const char *server; /* "redis://HOST:PORT/DB", no password (the link's) */
        redisContext *ctx;
        struct control_state *st;
        /* entries before this id are judged silently; "" prints every one */
        char first_shown[CONTROL_ENTRY_ID_SIZE];
        int showing;
        char last_id[CONTROL_ENTRY_ID_SIZE]; /* newest entry judged; "0-0" before any */
        size_t printed;
        size_t rejected;
        int rc; /* RW_OK, or the exit status once printing failed */
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
        "print the control stream's entries, each judged as a relayer judges it (verified, "       \
        "REJECTED, REPLAY); exit 0 all verified, 1 one rejected, 2 Redis or the configuration "    \
        "could not be used"

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

/* ------------------------------------------------------------ escaping */

/* Length of the printable UTF-8 sequence at s[0..n), or 0 (a control or invalid byte). */
static size_t printable_sequence(const unsigned char *s, size_t n)
{
        size_t len = utf8_sequence_len(s, n);

        if (len == 1 && (s[0] < 0x20 || s[0] == 0x7f))
                return 0; /* C0 controls and DEL */
        if (len == 2 && s[0] == 0xc2 && s[1] < 0xa0)
                return 0; /* C1 controls: terminal escapes */
        return len;
}

/*
 * text[0..n) as a malloc'd NUL-terminated string safe in any output: a
 * backslash doubled, every other byte that is not printable ASCII as \xNN
 * (with keep_utf8, printable UTF-8 sequences are kept as they are). At
 * most `max` bytes of the input, then "...". NULL when out of memory.
 */
static char *escaped(const char *text, size_t n, size_t max, int keep_utf8)
{
        const unsigned char *s = (const unsigned char *)text;
        size_t shown = n < max ? n : max, i = 0, used = 0, len;
        char *out = malloc(4 * shown + 4);

        if (out == NULL)
                return NULL;
        while (i < shown) {
                len = keep_utf8 ? printable_sequence(s + i, n - i) : s[i] >= 0x20 && s[i] < 0x7f;
                if (len == 0 || i + len > shown) {
                        (void)snprintf(out + used, 5, "\\x%02x", s[i]);
                        used += 4;
                        i++;
                        continue;
                }
                if (s[i] == '\\')
                        out[used++] = '\\';
                memcpy(out + used, s + i, len);
                used += len;
                i += len;
        }
        if (shown < n) {
                memcpy(out + used, "...", 3);
                used += 3;
        }
        out[used] = '\0';
        return out;
}

/* ------------------------------------------------------------ text output */

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

/* What the msg says (verified or only claimed: the verdict line below tells which). */
static void print_claims(FILE *out, const struct control_msg *m)
{
        size_t i;

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
        if (m->type == CONTROL_RESUME) {
                print_heights(out, "resume_from", m->resume_from, m->nresume_from);
                fputs("  lifts:", out);
                for (i = 0; i < m->nlifts; i++) {
                        fputc(' ', out);
                        print_str(out, m->lifts[i]);
                }
                fputc('\n', out);
        }
        fputs("  from watchdog_id ", out);
        print_str(out, m->watchdog_id);
        fputs(", correlation_id ", out);
        print_str(out, m->correlation_id);
        fputc('\n', out);
}

/* The verdict line of an entry. */
static void print_outcome(FILE *out, const struct control_outcome *o, const struct control_msg *m,
                          int parsed)
{
        if (o->reject == CONTROL_ACCEPTED && o->type == CONTROL_HALT) {
                fprintf(out, "  verified: %s key %s, HALT in force%s\n", control_role_name(o->role),
                        o->key_id, o->known ? " (the halt key holds it too)" : "");
                return;
        }
        if (o->reject == CONTROL_ACCEPTED) {
                size_t listed = parsed ? m->nlifts : o->nlifted;

                fprintf(out, "  verified: %s key %s, RESUME lifted %zu HALT%s",
                        control_role_name(o->role), o->key_id, o->nlifted,
                        o->nlifted == 1 ? "" : "s");
                if (listed > o->nlifted)
                        fprintf(out, " (it lists %zu; the others were not in force)", listed);
                fputc('\n', out);
                return;
        }
        fprintf(out, "  REJECTED %s: ", control_reject_name(o->reject));
        if (o->reject == CONTROL_REPLAY)
                fprintf(out, "REPLAY%s%s: ", o->first_seen[0] != '\0' ? " of entry " : "",
                        o->first_seen);
        print_str(out, o->detail);
        fputc('\n', out);
}

static void print_text(const struct tail *t, const char *entry_id, const char *msg, size_t len,
                       int has_msg, const struct control_outcome *o)
{
        struct control_msg m;
        struct rwerr err = {""};
        FILE *out = t->out;
        int parsed;

        memset(&m, 0, sizeof m);
        parsed = has_msg && control_msg_parse(msg, len, &m, &err) == RW_OK;

        print_str(out, entry_id);
        if (parsed) {
                print_claims(out, &m);
        } else if (has_msg) {
                fputs(" (msg not readable: ", out);
                print_str(out, err.msg);
                fputs(")\n  msg: ", out);
                print_safe(out, msg, len);
                fputc('\n', out);
        } else {
                fputs(" (no msg field)\n", out);
        }
        print_outcome(out, o, &m, parsed);
        if (parsed)
                control_msg_free(&m);
}

/* ------------------------------------------------------------ JSON output */

/* Whether the msg passed PROTOCOL.md section 5.2 (steps 4 to 6 of the judgement). */
static int strict_json_passed(enum control_reject r)
{
        return r == CONTROL_ACCEPTED ||
               (r > CONTROL_DUPLICATE_KEY && r <= CONTROL_REPLAY && r != CONTROL_NO_MEMORY);
}

static cJSON *string_or_null(const char *s)
{
        return s != NULL && s[0] != '\0' ? cJSON_CreateString(s) : cJSON_CreateNull();
}

/* Adds item to o (taken over in every case); 0 when item is NULL or adding failed. */
static int add(cJSON *o, const char *name, cJSON *item)
{
        if (item == NULL)
                return 0;
        if (!cJSON_AddItemToObject(o, name, item)) {
                cJSON_Delete(item);
                return 0;
        }
        return 1;
}

/* An escaped copy of text[0..n) as a JSON string (NULL text: null). */
static cJSON *escaped_json(const char *text, size_t n, size_t max, int keep_utf8)
{
        char *e;
        cJSON *s;

        if (text == NULL)
                return cJSON_CreateNull();
        if ((e = escaped(text, n, max, keep_utf8)) == NULL)
                return NULL;
        s = cJSON_CreateString(e);
        free(e);
        return s;
}

/*
 * One line of JSON. Every string in it is valid UTF-8: the msg is there as
 * an object only when its bytes passed the strict checks (UTF-8, grammar,
 * no duplicate name), else its bytes are in msg_escaped.
 */
static int print_json(struct tail *t, const char *entry_id, const char *msg, size_t len,
                      int has_msg, const struct control_outcome *o)
{
        cJSON *obj = cJSON_CreateObject(), *parsed = NULL;
        int accepted = o->reject == CONTROL_ACCEPTED,
            verified_by_key = o->role != CONTROL_ROLE_NONE;
        const char *outcome = !accepted ? "reject" : o->type == CONTROL_HALT ? "halt" : "resume";
        char *text = NULL;
        int ok;

        if (has_msg && strict_json_passed(o->reject)) {
                parsed = cJSON_ParseWithLength(msg, len);
                if (parsed != NULL && !cJSON_IsObject(parsed)) {
                        cJSON_Delete(parsed);
                        parsed = NULL;
                }
        }
        ok = obj != NULL && add(obj, "entry_id", cJSON_CreateString(entry_id)) &&
             add(obj, "verified", cJSON_CreateBool(accepted)) &&
             add(obj, "outcome", cJSON_CreateString(outcome)) &&
             add(obj, "rejection",
                 accepted ? cJSON_CreateNull()
                          : cJSON_CreateString(control_reject_name(o->reject))) &&
             add(obj, "key_role",
                 verified_by_key ? cJSON_CreateString(control_role_name(o->role))
                                 : cJSON_CreateNull()) &&
             add(obj, "key_id", string_or_null(verified_by_key ? o->key_id : NULL)) &&
             add(obj, "error",
                 accepted ? cJSON_CreateNull()
                          : escaped_json(o->detail, strlen(o->detail), sizeof o->detail, 1)) &&
             add(obj, "replay_of",
                 string_or_null(o->reject == CONTROL_REPLAY ? o->first_seen : NULL)) &&
             add(obj, "lifted",
                 accepted && o->type == CONTROL_RESUME ? cJSON_CreateNumber((double)o->nlifted)
                                                       : cJSON_CreateNull());
        if (ok && parsed != NULL) {
                ok = add(obj, "msg", parsed) && add(obj, "msg_escaped", cJSON_CreateNull());
                parsed = NULL;
        } else if (ok) {
                ok = add(obj, "msg", cJSON_CreateNull()) &&
                     add(obj, "msg_escaped",
                         escaped_json(has_msg ? msg : NULL, len, CONTROL_MSG_MAX, 0));
        }
        if (ok && (text = cJSON_PrintUnformatted(obj)) != NULL)
                fprintf(t->out, "%s\n", text);
        else
                ok = 0;
        free(text);
        cJSON_Delete(parsed);
        cJSON_Delete(obj);
        return ok ? RW_OK : unusable(t, "out of memory printing entry %s", entry_id);
}

/* ------------------------------------------------------------ entries */

/* The first field named msg, if any. */
static int msg_field(const struct control_field *fields, size_t n, const char **msg, size_t *len)
{
        size_t i;

        for (i = 0; i < n; i++) {
                if (fields[i].name_len == 3 && memcmp(fields[i].name, "msg", 3) == 0) {
                        *msg = fields[i].value;
                        *len = fields[i].value_len;
                        return 1;
                }
        }
        *msg = NULL;
        *len = 0;
        return 0;
}

/* Prints one judged entry and counts it. */
static void show(struct tail *t, const char *entry_id, const struct control_field *fields, size_t n,
                 const struct control_outcome *o)
{
        const char *msg;
        size_t len;
        int has_msg = msg_field(fields, n, &msg, &len);

        if (t->rc != RW_OK)
                return;
        if (o->reject == CONTROL_NO_MEMORY) {
                t->rc = unusable(t, "out of memory judging entry %s of stream %s", entry_id,
                                 t->stream);
                return;
        }
        if (t->opt->json)
                t->rc = print_json(t, entry_id, msg, len, has_msg, o);
        else
                print_text(t, entry_id, msg, len, has_msg, o);
        (void)fflush(t->out);
        t->printed++;
        if (o->reject != CONTROL_ACCEPTED)
                t->rejected++;
}

/* control_read's callback: the entries before the last COUNT are judged, not printed. */
static void judged(void *arg, const char *entry_id, const struct control_field *fields,
                   size_t nfields, const struct control_outcome *o)
{
        struct tail *t = arg;
        struct rwerr err;
        int cmp = 0;

        if (entry_id[0] == '\0') /* the halt key: state, not an entry of the stream */
                return;
        if (!t->showing) {
                if (halt_publish_entry_id_cmp(entry_id, t->first_shown, &cmp, &err) != RW_OK) {
                        if (t->rc == RW_OK)
                                t->rc = unusable(t, "stream %s: %s", t->stream, err.msg);
                        return;
                }
                if (cmp < 0)
                        return;
                t->showing = 1;
        }
        show(t, entry_id, fields, nfields, o);
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

/* The id of the oldest of the last COUNT entries into t->first_shown ("" when there are none). */
static int find_first_shown(struct tail *t)
{
        redisReply *reply =
                redisCommand(t->ctx, "XREVRANGE %s + - COUNT %ld", t->stream, t->opt->count);
        const redisReply *e;
        int rc = RW_OK;

        if (reply == NULL || reply->type != REDIS_REPLY_ARRAY) {
                rc = redis_failed(t, reply, "XREVRANGE");
                freeReplyObject(reply);
                return rc;
        }
        t->first_shown[0] = '\0';
        t->showing = reply->elements == 0;
        if (reply->elements > 0) {
                e = reply->element[reply->elements - 1];
                if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
                    e->element[0]->type != REDIS_REPLY_STRING ||
                    e->element[0]->len >= sizeof t->first_shown)
                        rc = unusable(t, "Redis %s: stream %s: an entry that is not [id, fields]",
                                      t->server, t->stream);
                else
                        memcpy(t->first_shown, e->element[0]->str, e->element[0]->len + 1);
        } else if (!t->opt->json) {
                fprintf(t->out, "stream %s: no entries%s\n", t->stream,
                        t->opt->follow ? "; waiting for new ones" : "");
        }
        freeReplyObject(reply);
        return rc;
}

/* The halt key, then the whole stream, judged in order; the last COUNT entries printed. */
static int print_latest(struct tail *t)
{
        struct rwerr err;
        int rc, present = 0;

        if ((rc = find_first_shown(t)) != RW_OK)
                return rc;
        if (control_read_halt_key(t->ctx, t->halt_key, t->st, &present, NULL, NULL, &err) != RW_OK)
                return unusable(t, "Redis %s: %s", t->server, err.msg);
        if (control_read_stream(t->ctx, t->stream, "0-0", t->st, t->last_id, judged, t, &err) !=
            RW_OK) {
                if (t->rc != RW_OK)
                        return t->rc;
                return unusable(t, "Redis %s: reading stream %s: %s", t->server, t->stream,
                                err.msg);
        }
        return t->rc;
}

/* One entry of an XREAD reply, judged after everything before it. */
static int follow_entry(struct tail *t, const redisReply *e)
{
        struct control_field fields[TAIL_FIELDS_MAX];
        struct control_outcome o;
        char entry_id[CONTROL_ENTRY_ID_SIZE];
        int n = control_read_entry_fields(e, entry_id, fields, TAIL_FIELDS_MAX);

        if (n < 0)
                return unusable(t, "Redis %s: stream %s: an entry that is not [id, fields]",
                                t->server, t->stream);
        (void)control_state_entry(t->st, entry_id, fields, (size_t)n, NULL, &o);
        show(t, entry_id, fields, (size_t)n, &o);
        (void)snprintf(t->last_id, sizeof t->last_id, "%s", entry_id);
        return t->rc;
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
                        rc = follow_entry(t, entries->element[i]);
                freeReplyObject(reply);
        }
        return rc;
}

/* The public keys named by the configuration: all of them, or the command cannot judge. */
static int load_keys(struct tail *t, struct cli_setup *s)
{
        const struct config *cfg = s->cfg;
        struct control_keys keys;
        struct rwerr err;

        if (cli_setup_keys(s, NULL, NULL, NULL, &err) != RW_OK)
                return unusable(t, "configuration %s: [control] %s", cfg->path, err.msg);
        if (s->keys.nwatchdog + s->keys.noperator == 0)
                return unusable(t,
                                "configuration %s: no public key to verify with: set [control] "
                                "signing_key, watchdog_keys or operator_keys",
                                cfg->path);
        control_keys_from_keyring(&keys, &s->keys);
        if ((t->st = control_state_new(&keys)) == NULL)
                return unusable(t, "out of memory");
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
        t.halt_key = s.cfg->halt_key;
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
        control_state_free(t.st);
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
