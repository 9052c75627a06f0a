#include "cmd_audit_witness.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "audit_witness.h"
#include "cli.h"
#include "cli_setup.h"
#include "redisconn.h"
#include "rwclock.h"
#include "signing_key.h"

#define WITNESS_USAGE                                                                              \
        "relaywatch audit witness [-c FILE] --log REDIS_KEY --pubkey GENESIS.pub --key "           \
        "WITNESS.key [--name NAME] [--state DIR] [--redis URL] [--json]"

static const char witness_help[] =
        "Witnesses another watchdog's audit log, once: reads the checkpoint it\n"
        "publishes under REDIS_KEY, follows its key chain from the pinned genesis key,\n"
        "checks the checkpoint is signed by the key in force and extends the one this\n"
        "witness accepted before (an RFC 6962 consistency proof the watchdog publishes),\n"
        "keeps it in the state directory, and stores the note with this witness's\n"
        "cosignature at REDIS_KEY:cosigned. The first checkpoint seen is accepted on\n"
        "the pinned key's authority alone (trust on first use).\n"
        "\n"
        "  -c, --config FILE  defaults from [audit] witness_log, witness_log_pubkey,\n"
        "                     witness_signing_key, witness_state_dir, origin (the name)\n"
        "                     and [redis] url\n"
        "      --log KEY      the Redis key the witnessed log is published under (its\n"
        "                     [audit] redis_key, e.g. relaywatch:audit:watchdog-1)\n"
        "      --pubkey F     the witnessed log's genesis public key (its audit.key.pub)\n"
        "      --key F        this witness's secret key (relaywatch keygen --out F)\n"
        "      --name NAME    the cosignature's key name (default: [audit] origin)\n"
        "      --state DIR    where the accepted checkpoint is kept (default:\n"
        "                     [audit] witness_state_dir, else STATE_DIR/witness)\n"
        "      --redis URL    redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]\n"
        "      --json         the result as one JSON object\n"
        "\n"
        "Exit status: 0 accepted or unchanged (cosigned), 1 inconsistent (the log was\n"
        "rolled back, forked or rewritten, or signed by a key not in force:\n"
        "AUDIT_LOG_INCONSISTENT, both checkpoints printed), 2 cannot tell (no proof\n"
        "published yet, Redis down, nothing published, the cosignature not stored).\n";

static const struct cli_command witness_command = {
        "audit witness", WITNESS_USAGE, "witness another watchdog's audit log", witness_help, NULL};

enum {
        OPT_LOG = CLI_OPT_LONG,
        OPT_PUBKEY,
        OPT_KEY,
        OPT_NAME,
        OPT_STATE,
        OPT_REDIS,
        OPT_JSON,
};

struct witness_opts {
        const char *config, *log, *pubkey, *key, *name, *state, *redis;
        long timeout_ms;
        int json;
        char state_buf[4096];
};

static int parse(struct witness_opts *o, int argc, char **argv, FILE *out, FILE *errout,
                 int *exit_code)
{
        static const struct cli_option options[] = {
                CLI_OPTION_CONFIG,           {"log", OPT_LOG, "REDIS_KEY"},
                {"pubkey", OPT_PUBKEY, "F"}, {"key", OPT_KEY, "F"},
                {"name", OPT_NAME, "NAME"},  {"state", OPT_STATE, "DIR"},
                {"redis", OPT_REDIS, "URL"}, {"json", OPT_JSON, NULL},
        };
        struct cli_args a;
        int key;

        cli_args_init(&a, &witness_command, options, CLI_NOPTIONS(options), argc, argv, out,
                      errout);
        while ((key = cli_args_next(&a)) > 0) {
                switch (key) {
                case 'c':
                        o->config = a.value;
                        break;
                case OPT_LOG:
                        o->log = a.value;
                        break;
                case OPT_PUBKEY:
                        o->pubkey = a.value;
                        break;
                case OPT_KEY:
                        o->key = a.value;
                        break;
                case OPT_NAME:
                        o->name = a.value;
                        break;
                case OPT_STATE:
                        o->state = a.value;
                        break;
                case OPT_REDIS:
                        o->redis = a.value;
                        break;
                case OPT_JSON:
                        o->json = 1;
                        break;
                default:
                        break;
                }
        }
        *exit_code = a.exit_code;
        return key;
}

/* Fills what the command line left out from the configuration. */
static void defaults_from(struct witness_opts *o, const struct config *cfg)
{
        if (o->log == NULL)
                o->log = cfg->witness_log;
        if (o->pubkey == NULL)
                o->pubkey = cfg->witness_log_pubkey;
        if (o->key == NULL)
                o->key = cfg->witness_signing_key;
        if (o->name == NULL)
                o->name = cfg->audit_origin;
        if (o->redis == NULL)
                o->redis = cfg->redis_url;
        if (o->state == NULL && cfg->witness_state_dir != NULL)
                o->state = cfg->witness_state_dir;
        if (o->state == NULL && cfg->state_dir != NULL) {
                snprintf(o->state_buf, sizeof o->state_buf, "%s/witness", cfg->state_dir);
                o->state = o->state_buf;
        }
        o->timeout_ms = cfg->redis_timeout_ms;
}

/* A usage error naming every setting that is missing, or 0. */
static int missing(const struct witness_opts *o, FILE *errout)
{
        char list[256] = "";
        size_t used = 0;
        const struct {
                const char *v, *what;
        } need[] = {
                {o->log, "--log REDIS_KEY"},   {o->pubkey, "--pubkey GENESIS.pub"},
                {o->key, "--key WITNESS.key"}, {o->name, "--name NAME"},
                {o->state, "--state DIR"},     {o->redis, "--redis URL"},
        };
        size_t i;

        for (i = 0; i < sizeof need / sizeof need[0]; i++)
                if (need[i].v == NULL || need[i].v[0] == '\0')
                        used += (size_t)snprintf(list + used, sizeof list - used, "%s%s",
                                                 used ? ", " : "", need[i].what);
        if (used == 0)
                return 0;
        return cli_usage_error(&witness_command, errout,
                               "missing %s (give them, or -c FILE with [audit] witness_log, "
                               "witness_log_pubkey, witness_signing_key and [redis] url)",
                               list);
}

static const char *headline(enum audit_witness_outcome o)
{
        switch (o) {
        case AUDIT_WITNESS_ACCEPTED:
                return "WITNESS ACCEPTED";
        case AUDIT_WITNESS_UNCHANGED:
                return "WITNESS UNCHANGED";
        case AUDIT_WITNESS_WAITING:
                return "WITNESS WAITING (cannot tell yet)";
        case AUDIT_WITNESS_INCONSISTENT:
                return AUDIT_WITNESS_FINDING " (CRITICAL)";
        case AUDIT_WITNESS_CANNOT_TELL:
                return "WITNESS CANNOT TELL";
        }
        return "WITNESS";
}

static void print_text(const struct witness_opts *o, const struct audit_witness_result *r, int rc,
                       const struct rwerr *err, FILE *out)
{
        fprintf(out, "%s: %s\n", headline(r->outcome), r->message);
        if (r->outcome == AUDIT_WITNESS_INCONSISTENT) {
                if (r->accepted_note != NULL)
                        fprintf(out, "\ncheckpoint accepted before (%" PRIu64 " records):\n%s",
                                r->previous_size, r->accepted_note);
                else
                        fprintf(out, "\nno checkpoint was accepted before\n");
                if (r->published_note != NULL)
                        fprintf(out, "\ncheckpoint published now (%" PRIu64 " records):\n%s",
                                r->size, r->published_note);
        }
        if (r->published && r->outcome == AUDIT_WITNESS_WAITING)
                fprintf(out,
                        "the checkpoint of %" PRIu64 " records accepted before cosigned again as "
                        "%s at %s:cosigned (the size to prove from)\n",
                        r->previous_size, o->name, o->log);
        else if (r->published)
                fprintf(out, "cosigned as %s at %s:cosigned\n", o->name, o->log);
        else if (rc != RW_OK && r->outcome != AUDIT_WITNESS_CANNOT_TELL)
                fprintf(out, "the cosignature could not be stored: %s\n", err->msg);
}

static void print_json(const struct witness_opts *o, const struct audit_witness_result *r, int rc,
                       const struct rwerr *err, FILE *out)
{
        cJSON *j = cJSON_CreateObject();
        char *text;

        if (j == NULL)
                return;
        cJSON_AddStringToObject(j, "outcome", audit_witness_outcome_name(r->outcome));
        cJSON_AddStringToObject(j, "message", r->message);
        cJSON_AddStringToObject(j, "log", o->log);
        cJSON_AddStringToObject(j, "origin", r->origin);
        cJSON_AddStringToObject(j, "witness", o->name);
        cJSON_AddBoolToObject(j, "first_use", r->first_use);
        if (r->published_note != NULL) {
                cJSON_AddNumberToObject(j, "size", (double)r->size);
                cJSON_AddStringToObject(j, "root", r->root);
                cJSON_AddNumberToObject(j, "epoch", (double)r->epoch);
        }
        cJSON_AddNumberToObject(j, "previous_size", (double)r->previous_size);
        cJSON_AddBoolToObject(j, "published", r->published);
        if (r->cosigned != NULL && r->published)
                cJSON_AddStringToObject(j, "cosigned", r->cosigned);
        if (rc != RW_OK && r->outcome != AUDIT_WITNESS_CANNOT_TELL)
                cJSON_AddStringToObject(j, "error", err->msg);
        if (r->outcome == AUDIT_WITNESS_INCONSISTENT) {
                cJSON_AddStringToObject(j, "finding", AUDIT_WITNESS_FINDING);
                cJSON_AddStringToObject(j, "severity", "CRITICAL");
                cJSON_AddItemToObject(j, "evidence", audit_witness_evidence(r));
        }
        if ((text = cJSON_Print(j)) != NULL)
                fprintf(out, "%s\n", text);
        free(text);
        cJSON_Delete(j);
}

static int exit_status(const struct audit_witness_result *r)
{
        switch (r->outcome) {
        case AUDIT_WITNESS_ACCEPTED:
        case AUDIT_WITNESS_UNCHANGED:
                return r->published ? CLI_EXIT_OK : 2;
        case AUDIT_WITNESS_INCONSISTENT:
                return 1;
        case AUDIT_WITNESS_WAITING:
        case AUDIT_WITNESS_CANNOT_TELL:
                break;
        }
        return 2;
}

/* Loads the keys, connects and polls once; the exit status. */
static int witness(struct witness_opts *o, FILE *out, FILE *errout)
{
        struct audit_witness_config wc;
        struct audit_witness_result r;
        struct signing_key *mine = NULL;
        struct verify_key pin;
        redisContext *ctx;
        struct rwerr err;
        int rc;

        if (verify_key_load(o->pubkey, &pin, &err) != RW_OK) {
                cli_error(&witness_command, errout, "the witnessed log's genesis key: %s", err.msg);
                return 2;
        }
        if (signing_key_load(o->key, &mine, &err) != RW_OK) {
                cli_error(&witness_command, errout, "the witness's own key: %s", err.msg);
                return 2;
        }
        if ((ctx = redisconn_connect(o->redis,
                                     o->timeout_ms > 0 ? o->timeout_ms : REDISCONN_TIMEOUT_MS,
                                     &err)) == NULL) {
                signing_key_free(mine);
                cli_error(&witness_command, errout, "cannot tell: %s", err.msg);
                return 2;
        }
        memset(&wc, 0, sizeof wc);
        wc.genesis = &pin;
        wc.key = mine;
        wc.name = o->name;
        wc.state_dir = o->state;
        wc.now_s = rwclock_wall_ms() / 1000;
        rc = audit_witness_poll(ctx, o->log, &wc, &r, &err);
        redisFree(ctx);
        signing_key_free(mine);
        if (o->json)
                print_json(o, &r, rc, &err, out);
        else
                print_text(o, &r, rc, &err, out);
        rc = exit_status(&r);
        audit_witness_result_release(&r);
        return rc;
}

int cmd_audit_witness(int argc, char **argv, FILE *out, FILE *errout)
{
        struct witness_opts o;
        struct cli_setup s;
        int rc, code = 0;

        memset(&o, 0, sizeof o);
        if (parse(&o, argc, argv, out, errout, &code) == CLI_ARGS_EXIT)
                return code;
        cli_setup_init(&s, &witness_command, errout);
        if (o.config != NULL) {
                if (cli_setup_config(&s, o.config) != RW_OK) {
                        cli_setup_release(&s);
                        return CLI_EXIT_USAGE;
                }
                defaults_from(&o, s.cfg);
        }
        if ((rc = missing(&o, errout)) == 0)
                rc = witness(&o, out, errout);
        cli_setup_release(&s);
        return rc;
}
