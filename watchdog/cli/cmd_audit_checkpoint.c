#include "cmd_audit_checkpoint.h"

#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "audit_note.h"
#include "cli.h"
#include "cli_setup.h"
#include "dbconn.h"
#include "state.h"

#define EXIT_NONE 2 /* nothing published, or where it is could not be read */

static const char help[] =
        "Prints the latest signed checkpoint of the audit log as the watchdog published\n"
        "it outside the log's files, exactly as signed, so it can be kept and later\n"
        "passed to 'relaywatch audit verify --checkpoint NOTE'.\n"
        "\n"
        "  -c, --config FILE  the watchdog's configuration\n"
        "      --from WHERE   db: the ledger database (relaywatch_state.audit_checkpoints);\n"
        "                     redis: HGET <[audit] redis_key> checkpoint\n"
        "      --origin O     the log's origin (default: [audit] origin); a note of\n"
        "                     another origin is refused\n"
        "\n"
        "Exit status: 0 printed, 2 none published or the database or Redis unreachable.\n";

const struct cli_command cmd_audit_checkpoint_command = {
        "audit checkpoint", "relaywatch audit checkpoint [-c FILE] --from db|redis [--origin O]",
        "the latest published checkpoint of the audit log", help, cmd_audit_checkpoint};

enum { OPT_FROM = CLI_OPT_LONG, OPT_ORIGIN };

/*
 * Whether `note` (len bytes, from `where`) is a signed checkpoint of
 * `origin`: RW_OK, or reported and EXIT_NONE.
 */
static int check_note(const char *note, size_t len, const char *origin, const char *where,
                      FILE *errout)
{
        const struct cli_command *cmd = &cmd_audit_checkpoint_command;
        struct audit_checkpoint cp;
        struct audit_note n;
        struct rwerr err;
        int rc = RW_OK;

        if (audit_note_parse(note, len, &n, &err) != RW_OK) {
                cli_error(cmd, errout, "%s holds something that is not a signed note: %s", where,
                          err.msg);
                return EXIT_NONE;
        }
        if (audit_checkpoint_parse(n.text, n.text_len, &cp, &err) != RW_OK) {
                cli_error(cmd, errout, "%s holds a signed note that is not a checkpoint: %s", where,
                          err.msg);
                rc = EXIT_NONE;
        } else if (strcmp(cp.origin, origin) != 0) {
                cli_error(cmd, errout, "%s holds a checkpoint of %s, not of %s", where, cp.origin,
                          origin);
                rc = EXIT_NONE;
        }
        audit_note_release(&n);
        return rc;
}

static int from_db(const struct config *cfg, const char *origin, FILE *out, FILE *errout)
{
        const struct cli_command *cmd = &cmd_audit_checkpoint_command;
        struct state_audit_checkpoint_row row;
        struct dbconn_config dc;
        struct dbconn *db = NULL;
        struct rwerr err;
        int found = 0, rc = EXIT_NONE;

        memset(&dc, 0, sizeof dc);
        memset(&row, 0, sizeof row);
        dc.conninfo = cfg->database_url;
        dc.name = "ledger";
        dc.connect_timeout_s = 5;
        dc.statement_timeout_ms =
                cfg->statement_timeout_ms > 0 ? (unsigned)cfg->statement_timeout_ms : 5000;
        dc.statements = state_statements;
        dc.nstatements = state_nstatements;
        if ((db = dbconn_new(&dc, &err)) == NULL || dbconn_ensure(db, &err) != RW_OK ||
            state_audit_checkpoint_latest(db, origin, &row, &found, &err) != RW_OK) {
                cli_error(cmd, errout, "cannot read the ledger database: %s%s", err.msg,
                          strstr(err.msg, "audit_checkpoints") != NULL &&
                                          strstr(err.msg, "does not exist") != NULL
                                  ? " (is 'relaywatch db migrate' run?)"
                                  : "");
                goto out;
        }
        if (!found) {
                cli_error(cmd, errout,
                          "the ledger database holds no checkpoint of %s "
                          "(relaywatch_state.audit_checkpoints): none published yet",
                          origin);
                goto out;
        }
        if ((rc = check_note(row.note, strlen(row.note), origin,
                             "relaywatch_state.audit_checkpoints", errout)) != RW_OK)
                goto out;
        (void)fputs(row.note, out);
        rc = CLI_EXIT_OK;
out:
        free(row.note);
        dbconn_free(db);
        return rc;
}

static int from_redis(struct cli_setup *s, const char *origin, FILE *out, FILE *errout)
{
        const struct cli_command *cmd = &cmd_audit_checkpoint_command;
        const char *key = s->cfg->audit_redis_key;
        char where[512];
        redisContext *ctx;
        redisReply *r;
        struct rwerr err;
        int rc = EXIT_NONE;

        if ((ctx = cli_setup_redis(s, &err)) == NULL) {
                cli_error(cmd, errout, "cannot read Redis: %s", err.msg);
                return EXIT_NONE;
        }
        (void)snprintf(where, sizeof where, "HGET %s checkpoint", key);
        r = redisCommand(ctx, "HGET %s checkpoint", key);
        if (r == NULL)
                cli_error(cmd, errout, "%s: %s", where, ctx->errstr);
        else if (r->type == REDIS_REPLY_NIL)
                cli_error(cmd, errout,
                          "Redis holds no checkpoint (%s is empty): none published yet", where);
        else if (r->type == REDIS_REPLY_ERROR)
                cli_error(cmd, errout, "%s: %s", where, r->str);
        else if (r->type != REDIS_REPLY_STRING)
                cli_error(cmd, errout, "%s: the reply is not a string", where);
        else if (r->len > AUDIT_NOTE_MAX)
                cli_error(cmd, errout, "%s: %zu bytes, more than a signed note may hold (%d)",
                          where, r->len, AUDIT_NOTE_MAX);
        else if ((rc = check_note(r->str, r->len, origin, where, errout)) == RW_OK)
                rc = fwrite(r->str, 1, r->len, out) == r->len ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
        freeReplyObject(r);
        return rc;
}

int cmd_audit_checkpoint(int argc, char **argv, FILE *out, FILE *errout)
{
        static const struct cli_option options[] = {
                CLI_OPTION_CONFIG,
                {"from", OPT_FROM, "WHERE"},
                {"origin", OPT_ORIGIN, "O"},
        };
        const struct cli_command *cmd = &cmd_audit_checkpoint_command;
        const char *config = NULL, *from = NULL, *origin = NULL;
        struct cli_setup s;
        struct cli_args a;
        int key, rc;

        cli_args_init(&a, cmd, options, CLI_NOPTIONS(options), argc, argv, out, errout);
        while ((key = cli_args_next(&a)) > 0) {
                if (key == 'c')
                        config = a.value;
                else if (key == OPT_FROM)
                        from = a.value;
                else if (key == OPT_ORIGIN)
                        origin = a.value;
        }
        if (key == CLI_ARGS_EXIT)
                return a.exit_code;
        if (from == NULL)
                return cli_usage_error(cmd, errout, "--from db or --from redis is required");
        if (strcmp(from, "db") != 0 && strcmp(from, "redis") != 0)
                return cli_usage_error(cmd, errout, "--from '%s': expected db or redis", from);
        cli_setup_init(&s, cmd, errout);
        if (cli_setup_config(&s, config) != RW_OK) {
                cli_setup_release(&s);
                return EXIT_NONE;
        }
        if (origin == NULL)
                origin = s.cfg->audit_origin;
        if (strcmp(from, "db") == 0)
                rc = from_db(s.cfg, origin, out, errout);
        else
                rc = from_redis(&s, origin, out, errout);
        cli_setup_release(&s);
        return rc;
}
