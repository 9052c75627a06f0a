#include "cmd_halt.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "cli_setup.h"
#include "config.h"
#include "control_msg.h"
#include "cycle.h"
#include "dbconn.h"
#include "halt_publish.h"
#include "outbox.h"
#include "rpc.h"
#include "state.h"
#include "rwclock.h"

#define HEAD_TIMEOUT_MS 2000L /* a manual halt does not wait long for a chain head */
#define HEAD_CONNECT_TIMEOUT_MS 1000L
#define REASON_MAX 1024

static const char help[] =
        "Publishes a manual HALT on the relayer's control stream, signed with the\n"
        "watchdog's key: the relayer stops until an operator runs `relaywatch resume`.\n"
        "The HALT names invariant MANUAL, severity CRITICAL, your reason, who asked\n"
        "and from which host, and the head of each chain that answers within 2 s.\n"
        "\n"
        "  -c, --config FILE  the configuration (default: $RELAYWATCH_CONFIG, then\n"
        "                     " CONFIG_DEFAULT_PATH ")\n"
        "  --reason TEXT      why the relayer must stop (required)\n"
        "  --key FILE         sign with this secret key instead of [control] signing_key\n"
        "\n"
        "Exit status: 0 the HALT is on the stream, or a manual halt is already in\n"
        "force; 1 it is not: Redis could not be reached (the HALT then waits in\n"
        "STATE_DIR/outbox and `relaywatch run` delivers it when Redis is back) or\n"
        "something else failed; 64 a usage error.\n";

const struct cli_command cmd_halt_command = {
        "halt", "relaywatch halt [-c FILE] --reason TEXT [--key FILE]",
        "publish a manual HALT, signed with the watchdog's key", help, cmd_halt};

/*
 * The head of one chain through its first endpoint that answers eth_chainId
 * with the configured id and eth_blockNumber, within HEAD_TIMEOUT_MS each.
 */
static int read_head(const struct config_chain *ch, const char *role, uint64_t *head,
                     struct rwerr *err)
{
        size_t i;
        int rc = rwerr_set(err, RW_ERR_INVALID, "no endpoints configured");

        for (i = 0; i < ch->nendpoints; i++) {
                char name[64];
                struct rpc_config rc_cfg;
                struct rpc_client *client;
                struct rpc_batch *b = NULL;
                uint64_t chain_id = 0;

                (void)snprintf(name, sizeof name, "%s[%zu]", role, i);
                memset(&rc_cfg, 0, sizeof rc_cfg);
                rc_cfg.url = ch->endpoints[i];
                rc_cfg.name = name;
                rc_cfg.connect_timeout_ms = HEAD_CONNECT_TIMEOUT_MS;
                rc_cfg.timeout_ms = ch->timeout_ms > 0 && ch->timeout_ms < HEAD_TIMEOUT_MS
                                            ? ch->timeout_ms
                                            : HEAD_TIMEOUT_MS;
                rc_cfg.max_reply_bytes = 4096;
                if ((client = rpc_client_new(&rc_cfg, err)) == NULL) {
                        rc = RW_ERR_INVALID;
                        continue;
                }
                if ((b = rpc_batch_new()) == NULL) {
                        rc = rwerr_set(err, RW_ERR_NOMEM, "%s: out of memory", name);
                } else if ((rc = rpc_batch_add(b, "eth_chainId", NULL, err)) >= 0 &&
                           (rc = rpc_batch_add(b, "eth_blockNumber", NULL, err)) >= 0 &&
                           (rc = rpc_batch_send(client, b, err)) == RW_OK &&
                           (rc = rpc_batch_u64(b, 0, &chain_id, err)) == RW_OK &&
                           (rc = rpc_batch_u64(b, 1, head, err)) == RW_OK) {
                        if (chain_id != ch->chain_id)
                                rc = rwerr_set(err, RW_ERR_REFUSED,
                                               "%s serves chain %" PRIu64 ", not %" PRIu64, name,
                                               chain_id, ch->chain_id);
                }
                rpc_batch_free(b);
                rpc_client_free(client);
                if (rc == RW_OK)
                        return RW_OK;
        }
        return rc < 0 ? rc : RW_ERR_INVALID;
}

/* Who asked: $USER, else "uid N". */
static void requester(char *out, size_t cap)
{
        const char *user = getenv("USER");

        if (user != NULL && user[0] != '\0')
                (void)snprintf(out, cap, "%s", user);
        else
                (void)snprintf(out, cap, "uid %u", (unsigned)getuid());
}

struct manual_halt {
        char id[CONTROL_ID_SIZE];
        char correlation_id[64];
        char sig[CONTROL_SIG_B64_SIZE];
        char *msg;
        size_t msg_len;
        char *evidence_json; /* for the database record */
        char *heights_json;
        int64_t issued_at_ms;
        struct control_height heights[SNAP_NCHAINS];
        size_t nheights;
};

/* The evidence and heights as JSON text, for the database record. */
static int record_texts(struct manual_halt *h, const cJSON *evidence, struct rwerr *err)
{
        cJSON *heights = cJSON_CreateObject();
        size_t i;

        for (i = 0; heights != NULL && i < h->nheights; i++) {
                if (cJSON_AddNumberToObject(heights, h->heights[i].chain,
                                            (double)h->heights[i].block) == NULL)
                        break;
        }
        if (heights != NULL && i == h->nheights) {
                h->heights_json = cJSON_PrintUnformatted(heights);
                h->evidence_json = cJSON_PrintUnformatted(evidence);
        }
        cJSON_Delete(heights);
        if (h->heights_json == NULL || h->evidence_json == NULL)
                return rwerr_set(err, RW_ERR_NOMEM, "out of memory for the HALT's record");
        return RW_OK;
}

/*
 * Records the manual halt in the ledger database (relaywatch_state.halts),
 * after it is published or saved: the record never holds the halt back. A
 * failure is a warning, not a failed halt.
 */
static void record_halt(const struct config *cfg, const struct manual_halt *h, const char *reason,
                        int64_t published_at_ms, FILE *errout)
{
        struct dbconn_config dc;
        struct state_halt rec;
        struct dbconn *db = NULL;
        struct rwerr err;

        memset(&dc, 0, sizeof dc);
        dc.conninfo = cfg->database_url;
        dc.name = "ledger";
        dc.connect_timeout_s = 3;
        dc.statement_timeout_ms =
                cfg->statement_timeout_ms > 0 ? (unsigned)cfg->statement_timeout_ms : 5000;
        dc.statements = state_statements;
        dc.nstatements = state_nstatements;
        memset(&rec, 0, sizeof rec);
        rec.halt_id = h->id;
        rec.invariant = HALT_PUBLISH_MANUAL;
        rec.severity = "CRITICAL";
        rec.reason = reason;
        rec.evidence_json = h->evidence_json;
        rec.heights_json = h->heights_json;
        rec.correlation_id = h->correlation_id;
        rec.msg = h->msg;
        rec.sig = h->sig;
        rec.issued_at_ms = h->issued_at_ms;
        rec.published_at_ms = published_at_ms;
        if ((db = dbconn_new(&dc, &err)) == NULL || dbconn_ensure(db, &err) != RW_OK ||
            state_halt_record(db, &rec, &err) != RW_OK)
                fprintf(errout,
                        "relaywatch halt: warning: the HALT %s is not recorded in the ledger "
                        "database: %s\n",
                        h->id, err.msg);
        dbconn_free(db);
}

/* Reads the heads, builds and signs the HALT into *h (h->msg freed by the caller). */
static int build_halt(const struct config *cfg, const struct signing_key *key, const char *reason,
                      struct manual_halt *h, FILE *errout, struct rwerr *err)
{
        struct control_msg_fields f;
        char who[128], host[256];
        int64_t now = rwclock_wall_ms();
        cJSON *evidence = NULL, *unread = NULL;
        size_t role;
        int rc;

        if ((evidence = cJSON_CreateObject()) == NULL)
                return rwerr_set(err, RW_ERR_NOMEM, "out of memory for the evidence");
        requester(who, sizeof who);
        if (gethostname(host, sizeof host) != 0)
                (void)snprintf(host, sizeof host, "unknown");
        host[sizeof host - 1] = '\0';
        if (cJSON_AddStringToObject(evidence, "requested_by", who) == NULL ||
            cJSON_AddStringToObject(evidence, "host", host) == NULL) {
                rc = rwerr_set(err, RW_ERR_NOMEM, "out of memory for the evidence");
                goto out;
        }
        for (role = 0; role < SNAP_NCHAINS; role++) {
                const char *name = snap_chain_role_name((enum snap_chain_role)role);
                struct rwerr rerr;
                uint64_t head = 0;

                if (!cfg->chains[role].present)
                        continue;
                if (read_head(&cfg->chains[role], name, &head, &rerr) == RW_OK &&
                    head <= CONTROL_HEIGHT_MAX) {
                        h->heights[h->nheights].chain = name;
                        h->heights[h->nheights].block = head;
                        h->nheights++;
                        continue;
                }
                /* a chain that cannot be read is left out; the halt must not wait for it */
                fprintf(errout,
                        "relaywatch halt: %s chain head not read (left out of heights): %s\n", name,
                        rerr.msg);
                if (unread == NULL &&
                    (unread = cJSON_AddArrayToObject(evidence, "heights_not_read")) == NULL) {
                        rc = rwerr_set(err, RW_ERR_NOMEM, "out of memory for the evidence");
                        goto out;
                }
                cJSON_AddItemToArray(unread, cJSON_CreateString(name));
        }
        control_new_halt_id(h->id);
        cycle_new_correlation_id(h->correlation_id, sizeof h->correlation_id);
        memset(&f, 0, sizeof f);
        f.type = CONTROL_HALT;
        f.id = h->id;
        f.invariant = HALT_PUBLISH_MANUAL;
        f.severity = "CRITICAL";
        f.reason = reason;
        f.evidence = evidence;
        f.heights = h->heights;
        f.nheights = h->nheights;
        f.issued_at_ms = now;
        f.watchdog_id = cfg->watchdog_id;
        f.correlation_id = h->correlation_id;
        f.key_id = key->pub.key_id;
        h->issued_at_ms = now;
        if ((rc = control_msg_build(&f, &h->msg, &h->msg_len, err)) != RW_OK)
                goto out;
        if ((rc = control_msg_sign(key, h->msg, h->msg_len, h->sig, err)) != RW_OK)
                goto out;
        rc = record_texts(h, evidence, err);
out:
        cJSON_Delete(evidence);
        return rc;
}

static void print_heights(const struct manual_halt *h, FILE *out)
{
        size_t i;

        fprintf(out, "heights:");
        if (h->nheights == 0)
                fprintf(out, " none (no chain head could be read)");
        for (i = 0; i < h->nheights; i++)
                fprintf(out, "%s %s %" PRIu64, i ? "," : "", h->heights[i].chain,
                        h->heights[i].block);
        fprintf(out, "\n");
}

/* Redis is out of reach: the HALT goes to the outbox. Always exit 1. */
static int to_outbox(const struct config *cfg, const struct manual_halt *h, const char *why,
                     FILE *errout)
{
        char dir[4096];
        struct outbox *o;
        struct rwerr err;

        fprintf(errout, "relaywatch halt: %s\n", why);
        if ((size_t)snprintf(dir, sizeof dir, "%s/outbox", cfg->state_dir) >= sizeof dir) {
                fprintf(errout,
                        "relaywatch halt: the HALT %s is NOT on the stream and NOT saved: the "
                        "state directory path is too long\n",
                        h->id);
                return CLI_EXIT_FAILURE;
        }
        if ((o = outbox_open(dir, &err)) == NULL ||
            outbox_put(o, h->id, h->msg, h->msg_len, h->sig, &err) != RW_OK) {
                fprintf(errout,
                        "relaywatch halt: the HALT %s is NOT on the stream and could NOT be "
                        "saved in the outbox either: %s\n"
                        "The relayer does NOT know it must stop. Fix Redis and run this command "
                        "again.\n",
                        h->id, err.msg);
                outbox_close(o);
                return CLI_EXIT_FAILURE;
        }
        outbox_close(o);
        fprintf(errout,
                "relaywatch halt: the HALT %s is NOT on the stream yet: it is saved in %s, and "
                "`relaywatch run` delivers it when Redis is back.\n"
                "Until then the relayer does NOT know it must stop.\n",
                h->id, dir);
        return CLI_EXIT_FAILURE;
}

struct halt_args {
        const char *config, *reason, *key;
};

/* -1 to go on, else the exit status to return at once (0 after --help, 64: reported). */
static int parse_args(int argc, char **argv, struct halt_args *h, FILE *out, FILE *errout)
{
        enum { OPT_REASON = CLI_OPT_LONG, OPT_KEY };
        static const struct cli_option options[] = {
                CLI_OPTION_CONFIG,
                {"reason", OPT_REASON, "TEXT"},
                {"key", OPT_KEY, "FILE"},
        };
        struct cli_args a;
        int opt;

        memset(h, 0, sizeof *h);
        cli_args_init(&a, &cmd_halt_command, options, CLI_NOPTIONS(options), argc, argv, out,
                      errout);
        while ((opt = cli_args_next(&a)) > 0) {
                if (opt == 'c')
                        h->config = a.value;
                else if (opt == OPT_REASON)
                        h->reason = a.value;
                else
                        h->key = a.value;
        }
        if (opt == CLI_ARGS_EXIT)
                return a.exit_code;
        if (h->reason == NULL)
                return cli_usage_error(&cmd_halt_command, errout,
                                       "--reason TEXT is required: say why the relayer must stop");
        if (strlen(h->reason) > REASON_MAX)
                return cli_usage_error(&cmd_halt_command, errout,
                                       "--reason is %zu bytes; keep it under %d", strlen(h->reason),
                                       REASON_MAX);
        return -1;
}

/* Publishes the signed HALT `h` on s's Redis, or puts it in the outbox. The exit status. */
static int publish(struct cli_setup *s, const struct manual_halt *h, const char *reason, FILE *out,
                   FILE *errout)
{
        const struct config *cfg = s->cfg;
        struct halt_publish_keys keys;
        struct halt_publish_result res;
        redisContext *ctx;
        struct rwerr err;

        halt_publish_keys_from_config(&keys, cfg);
        if ((ctx = cli_setup_redis(s, &err)) == NULL ||
            halt_publish(ctx, &keys, h->id, HALT_PUBLISH_MANUAL, h->msg, h->msg_len, h->sig, &res,
                         &err) != RW_OK) {
                int code = to_outbox(cfg, h, err.msg, errout);

                record_halt(cfg, h, reason, 0, errout);
                return code;
        }
        switch (res.outcome) {
        case HALT_PUBLISHED:
                fprintf(out, "HALT published: %s\n", h->id);
                fprintf(out, "stream %s entry %s, halt key %s\n", keys.stream, res.entry_id,
                        keys.halt_key);
                fprintf(out, "invariant MANUAL, severity CRITICAL, reason: %s\n", reason);
                print_heights(h, out);
                fprintf(out, "signed with key %s, correlation id %s\n", s->keys.signing->pub.key_id,
                        h->correlation_id);
                fprintf(out, "The relayer stops when it reads it; `relaywatch status` shows "
                             "whether it acknowledged.\n");
                fflush(out);
                record_halt(cfg, h, reason, rwclock_wall_ms(), errout);
                return CLI_EXIT_OK;
        case HALT_ALREADY_OPEN:
                fprintf(out,
                        "a manual halt is already in force: %s (stream %s entry %s); nothing "
                        "new published\n",
                        res.halt_id, keys.stream, res.entry_id);
                return CLI_EXIT_OK;
        case HALT_ALREADY_SENT:
                fprintf(out, "HALT %s was published before; nothing new published\n", h->id);
                return CLI_EXIT_OK;
        case HALT_RESUMED_OPEN:
        default:
                cli_error(&cmd_halt_command, errout, "unexpected outcome %d publishing %s",
                          (int)res.outcome, h->id);
                return CLI_EXIT_FAILURE;
        }
}

int cmd_halt(int argc, char **argv, FILE *out, FILE *errout)
{
        const struct cli_command *cmd = &cmd_halt_command;
        struct halt_args args;
        struct manual_halt h;
        struct cli_setup s;
        const char *key_path;
        struct rwerr err = {{0}};
        int code;

        if ((code = parse_args(argc, argv, &args, out, errout)) >= 0)
                return code;
        code = CLI_EXIT_FAILURE;
        memset(&h, 0, sizeof h);
        cli_setup_init(&s, cmd, errout);
        if (cli_setup_config(&s, args.config) != RW_OK)
                return CLI_EXIT_FAILURE;
        if (cli_setup_require_redis(&s) != RW_OK)
                goto done;
        key_path = args.key != NULL ? args.key : s.cfg->signing_key;
        if (key_path == NULL) {
                cli_error(cmd, errout,
                          "no signing key: set [control] signing_key in %s or pass --key FILE",
                          s.cfg->path);
                goto done;
        }
        if (cli_setup_signing_key(&s, key_path, &err) != RW_OK) {
                cli_error(cmd, errout, "%s", err.msg);
                goto done;
        }
        if (build_halt(s.cfg, s.keys.signing, args.reason, &h, errout, &err) != RW_OK) {
                cli_error(cmd, errout, "building the HALT: %s", err.msg);
                goto done;
        }
        code = publish(&s, &h, args.reason, out, errout);
done:
        free(h.msg);
        free(h.evidence_json);
        free(h.heights_json);
        cli_setup_release(&s);
        return code;
}
