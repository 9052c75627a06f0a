#include "cmd_resume.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "cli_report.h"
#include "cli_setup.h"
#include "config.h"
#include "control_msg.h"
#include "cycle.h"
#include "halt_publish.h"
#include "rwclock.h"

#define REASON_MAX 1024
#define EXIT_REDIS 2 /* Redis could not be reached: a RESUME is never queued */

static const char help[] =
        "Lifts a halt: runs one full validate cycle (the checks of `relaywatch\n"
        "validate`, table printed) and, when every Tier 1 check is valid, publishes\n"
        "a RESUME signed with the operator key. The RESUME carries the heights that\n"
        "validate pinned, the last checkpoint the relayer resumes from.\n"
        "Publishes nothing when no halt is open.\n"
        "\n"
        "  -c, --config FILE       the configuration (default: $RELAYWATCH_CONFIG, then\n"
        "                          " CONFIG_DEFAULT_PATH ")\n"
        "  --from-last-checkpoint  resume from the heights the validate pins (required)\n"
        "  --force --reason TEXT   resume although a Tier 1 check is violated or could\n"
        "                          not be evaluated; both together, the reason is kept\n"
        "                          in the RESUME\n"
        "  --key FILE              the operator's secret key (default: $" CMD_RESUME_KEY_ENV ");\n"
        "                          never a watchdog key, and one of [control]\n"
        "                          operator_keys when those are configured\n"
        "\n"
        "Exit status: 0 resumed, or nothing to resume; 1 refused or failed; 2 Redis\n"
        "could not be reached (a RESUME is never queued: run it again); 64 a usage\n"
        "error.\n";

const struct cli_command cmd_resume_command = {
        "resume",
        "relaywatch resume [-c FILE] --from-last-checkpoint [--force --reason TEXT] [--key FILE]",
        "publish a RESUME signed with an operator key, after a full validate passes", help,
        cmd_resume};

struct args {
        const char *given, *reason, *key_path;
        int from_last_checkpoint, force;
};

/* -1 to go on, else the exit status to return at once (0 after --help, 64: reported). */
static int parse_args(int argc, char **argv, struct args *r, FILE *out, FILE *errout)
{
        enum { OPT_FROM = CLI_OPT_LONG, OPT_FORCE, OPT_REASON, OPT_KEY };
        static const struct cli_option options[] = {
                CLI_OPTION_CONFIG,          {"from-last-checkpoint", OPT_FROM, NULL},
                {"force", OPT_FORCE, NULL}, {"reason", OPT_REASON, "TEXT"},
                {"key", OPT_KEY, "FILE"},
        };
        const struct cli_command *cmd = &cmd_resume_command;
        struct cli_args a;
        int opt;

        memset(r, 0, sizeof *r);
        cli_args_init(&a, cmd, options, CLI_NOPTIONS(options), argc, argv, out, errout);
        while ((opt = cli_args_next(&a)) > 0) {
                switch (opt) {
                case 'c':
                        r->given = a.value;
                        break;
                case OPT_FROM:
                        r->from_last_checkpoint = 1;
                        break;
                case OPT_FORCE:
                        r->force = 1;
                        break;
                case OPT_REASON:
                        r->reason = a.value;
                        break;
                default:
                        r->key_path = a.value;
                        break;
                }
        }
        if (opt == CLI_ARGS_EXIT)
                return a.exit_code;
        if (!r->from_last_checkpoint)
                return cli_usage_error(cmd, errout,
                                       "--from-last-checkpoint is required: the relayer resumes "
                                       "from the heights the validate pins");
        if (r->force && r->reason == NULL)
                return cli_usage_error(cmd, errout,
                                       "--force needs --reason TEXT: say why you resume although "
                                       "Tier 1 may not be valid");
        if (!r->force && r->reason != NULL)
                return cli_usage_error(cmd, errout,
                                       "--reason goes with --force (a resume after a passing "
                                       "validate needs no reason)");
        if (r->reason != NULL && strlen(r->reason) > REASON_MAX)
                return cli_usage_error(cmd, errout, "--reason is %zu bytes; keep it under %d",
                                       strlen(r->reason), REASON_MAX);
        if (r->key_path == NULL) {
                const char *env = getenv(CMD_RESUME_KEY_ENV);

                if (env == NULL || env[0] == '\0')
                        return cli_usage_error(cmd, errout,
                                               "no operator key: pass --key FILE or set $%s to "
                                               "the operator's secret key file (a RESUME is never "
                                               "signed with the watchdog's key)",
                                               CMD_RESUME_KEY_ENV);
                r->key_path = env;
        }
        return -1;
}

/* The watchdog's own signing_key.pub, also when watchdog_keys lists others, as a watchdog key. */
static void add_own_key(struct cli_setup *s)
{
        char pub[4096];
        struct rwerr err;

        if (s->cfg->signing_key == NULL ||
            (size_t)snprintf(pub, sizeof pub, "%s.pub", s->cfg->signing_key) >= sizeof pub)
                return;
        if (keyring_add(&s->keys, KEYRING_WATCHDOG, pub, &err) != RW_OK)
                return; /* not readable (an operator's host): the listed keys are checked */
}

/*
 * Refuses a key the relayer would reject for a RESUME: a watchdog key (one
 * of [control] watchdog_keys, or the watchdog's own signing_key.pub), or
 * one missing from [control] operator_keys when those are configured.
 * Returns 0 when s->keys.signing may sign, else CLI_EXIT_FAILURE (reported).
 */
static int check_operator_key(struct cli_setup *s, const char *key_path, FILE *errout)
{
        const struct config *cfg = s->cfg;
        const char *id = s->keys.signing->pub.key_id;
        size_t listed = s->keys.nwatchdog, i = 0;

        add_own_key(s);
        switch (keyring_role_of(&s->keys, id, &i)) {
        case KEYRING_WATCHDOG:
                if (i < listed)
                        cli_error(&cmd_resume_command, errout,
                                  "refused: %s is a watchdog key (key_id %s, the public key in "
                                  "%s). A RESUME must be signed with an operator key; the "
                                  "relayer rejects a RESUME signed by the watchdog.",
                                  key_path, id, s->keys.watchdog_path[i]);
                else
                        cli_error(&cmd_resume_command, errout,
                                  "refused: %s is the watchdog's signing key (key_id %s, %s). A "
                                  "RESUME must be signed with an operator key.",
                                  key_path, id, cfg->signing_key);
                return CLI_EXIT_FAILURE;
        case KEYRING_OPERATOR:
                return 0;
        case KEYRING_NONE:
        default:
                break;
        }
        if (cfg->noperator_pubkeys == 0)
                return 0;
        cli_error(&cmd_resume_command, errout,
                  "refused: %s (key_id %s) is not one of the [control] operator_keys of %s; the "
                  "relayer would reject a RESUME it signed",
                  key_path, id, cfg->path);
        return CLI_EXIT_FAILURE;
}

static const char *validate_word(enum verdict_status s)
{
        return s == VERDICT_OK ? "valid" : s == VERDICT_VIOLATED ? "violated" : "not evaluated";
}

struct resume_msg {
        char id[CONTROL_ID_SIZE];
        char sig[CONTROL_SIG_B64_SIZE];
        char *msg;
        size_t msg_len;
        struct control_height from[SNAP_NCHAINS];
        size_t nfrom;
        const char *lifts[CONTROL_LIFTS_MAX];
};

static int build_resume(const struct config *cfg, const struct signing_key *key,
                        const struct cycle_result *r, const char *reason, int forced,
                        const struct halt_publish_open *open, size_t nopen, struct resume_msg *m,
                        struct rwerr *err)
{
        struct control_msg_fields f;
        cJSON *evidence = cJSON_CreateObject(), *lifted = NULL;
        size_t i;
        int rc = RW_OK;

        if (evidence == NULL ||
            cJSON_AddStringToObject(evidence, "validate", validate_word(r->tier1)) == NULL ||
            cJSON_AddBoolToObject(evidence, "forced", forced) == NULL ||
            (lifted = cJSON_AddArrayToObject(evidence, "lifted")) == NULL) {
                rc = rwerr_set(err, RW_ERR_NOMEM, "out of memory for the evidence");
                goto out;
        }
        for (i = 0; i < nopen; i++) {
                cJSON *s = cJSON_CreateString(open[i].halt_id);

                if (s == NULL || !cJSON_AddItemToArray(lifted, s)) {
                        cJSON_Delete(s);
                        rc = rwerr_set(err, RW_ERR_NOMEM, "out of memory for the evidence");
                        goto out;
                }
        }
        control_resume_id(m->id);
        memset(&f, 0, sizeof f);
        for (i = 0; i < nopen && i < CONTROL_LIFTS_MAX; i++)
                m->lifts[i] = open[i].halt_id;
        f.lifts = m->lifts;
        f.nlifts = i;
        f.type = CONTROL_RESUME;
        f.id = m->id;
        f.invariant = "*";
        f.severity = "INFO";
        f.reason = reason;
        f.evidence = evidence;
        f.heights = m->from;
        f.nheights = m->nfrom;
        f.resume_from = m->from;
        f.nresume_from = m->nfrom;
        f.issued_at_ms = rwclock_wall_ms();
        f.watchdog_id = cfg->watchdog_id;
        f.correlation_id = r->snapshot.correlation_id;
        f.key_id = key->pub.key_id;
        if ((rc = control_msg_build(&f, &m->msg, &m->msg_len, err)) != RW_OK)
                goto out;
        rc = control_msg_sign(key, m->msg, m->msg_len, m->sig, err);
out:
        cJSON_Delete(evidence);
        return rc;
}

/*
 * Whether anything is halted: the open halts (into *open, *nopen) and the
 * halt key. RW_OK, or the Redis error (reported by the caller).
 */
static int halted_now(redisContext *ctx, const struct halt_publish_keys *keys,
                      struct halt_publish_open **open, size_t *nopen, int *halt_key, FILE *errout,
                      struct rwerr *err)
{
        char sig[CONTROL_SIG_B64_SIZE];
        char *msg = NULL;
        size_t len = 0;
        int rc;

        *halt_key = 0;
        if ((rc = halt_publish_open_halts(ctx, keys, open, nopen, err)) != RW_OK)
                return rc;
        rc = halt_publish_read_halt_key(ctx, keys, halt_key, &msg, &len, sig, err);
        free(msg);
        if (rc == RW_ERR_PROTOCOL) {
                /* something is in the halt key; the RESUME clears it */
                fprintf(errout, "relaywatch resume: warning: %s\n", err->msg);
                *halt_key = 1;
                rc = RW_OK;
        }
        return rc;
}

/*
 * The configuration, the operator key checked against the configured keys,
 * and Redis. 0, or the exit status (reported).
 */
static int set_up(struct cli_setup *s, const struct args *a, FILE *errout)
{
        const struct cli_command *cmd = &cmd_resume_command;
        struct rwerr err;

        if (cli_setup_config(s, a->given) != RW_OK || cli_setup_require_redis(s) != RW_OK)
                return CLI_EXIT_FAILURE;
        if (cli_setup_keys(s, a->key_path, NULL, NULL, &err) != RW_OK) {
                cli_error(cmd, errout, "%s", err.msg); /* names the role and the file */
                return CLI_EXIT_FAILURE;
        }
        return check_operator_key(s, a->key_path, errout);
}

/* What a published RESUME says, on `out`. */
static void print_published(const struct cli_setup *s, const struct halt_publish_keys *keys,
                            const struct resume_msg *m, const char *entry,
                            const struct halt_publish_open *open, size_t nopen, FILE *out)
{
        size_t i;

        fprintf(out, "RESUME published: %s\n", m->id);
        fprintf(out, "stream %s entry %s, signed with operator key %s\n", keys->stream, entry,
                s->keys.signing->pub.key_id);
        fprintf(out, "resume_from:");
        for (i = 0; i < m->nfrom; i++)
                fprintf(out, "%s %s %" PRIu64, i ? "," : "", m->from[i].chain, m->from[i].block);
        fprintf(out, "\nlifted:%s", nopen == 0 ? " the halt key" : "");
        for (i = 0; i < nopen; i++)
                fprintf(out, "%s %s", i ? "," : "", open[i].halt_id);
        fprintf(out, "\n");
}

int cmd_resume(int argc, char **argv, FILE *out, FILE *errout)
{
        const struct cli_command *cmd = &cmd_resume_command;
        struct args a;
        struct cli_setup s;
        struct halt_publish_keys keys;
        struct halt_publish_open *open = NULL;
        struct cycle_result result;
        struct resume_msg m;
        struct halt_publish_resume_result res;
        redisContext *ctx = NULL;
        char entry[HALT_PUBLISH_ENTRY_ID_SIZE], names[512];
        struct rwerr err = {{0}};
        size_t nopen = 0, i, role;
        int code, rc, halt_key = 0, forced, published = 0;

        memset(&result, 0, sizeof result);
        memset(&m, 0, sizeof m);
        if ((code = parse_args(argc, argv, &a, out, errout)) >= 0)
                return code;
        cli_setup_init(&s, cmd, errout);
        if ((code = set_up(&s, &a, errout)) != 0)
                goto done;
        code = CLI_EXIT_FAILURE;
        halt_publish_keys_from_config(&keys, s.cfg);
        if ((ctx = cli_setup_redis(&s, &err)) == NULL ||
            halted_now(ctx, &keys, &open, &nopen, &halt_key, errout, &err) != RW_OK) {
                cli_error(cmd, errout,
                          "%s\nNothing published: a RESUME is never queued; run this again when "
                          "Redis answers.",
                          err.msg);
                code = EXIT_REDIS;
                goto done;
        }
        if (nopen == 0 && !halt_key) {
                fprintf(out,
                        "not halted: nothing to resume (no open halt in %s:incidents, no "
                        "halt key %s)\n",
                        keys.stream, keys.halt_key);
                code = CLI_EXIT_OK;
                goto done;
        }
        fprintf(out, "open halts:%s\n", nopen == 0 ? " none listed (the halt key is set)" : "");
        for (i = 0; i < nopen; i++)
                fprintf(out, "  %-24s %s (stream entry %s)\n", open[i].field, open[i].halt_id,
                        open[i].entry_id);
        fprintf(out, "\nvalidating before the resume:\n");
        fflush(out);
        if (cycle_validate(s.cfg, &result, &err) != RW_OK) {
                cli_error(cmd, errout, "the validate could not run: %s", err.msg);
                goto done;
        }
        cli_report_table(&result, out);
        fprintf(out, "\n");
        forced = result.tier1 != VERDICT_OK;
        if (forced && !a.force) {
                cli_report_tier1_names(&result, result.tier1, names, sizeof names);
                cli_error(cmd, errout,
                          "refused: Tier 1 %s: %s. Nothing published. Fix it and run this again, "
                          "or resume anyway with --force --reason TEXT.",
                          result.tier1 == VERDICT_VIOLATED ? "violated" : "could not be evaluated",
                          names);
                goto done;
        }
        if (!forced && a.force)
                fprintf(out, "validate passed: --force was not needed (your reason is kept)\n");
        for (role = 0; role < SNAP_NCHAINS; role++) {
                const struct snap_chain *ch = &result.snapshot.chains[role];

                if (!ch->ok || ch->pinned > CONTROL_HEIGHT_MAX)
                        continue;
                m.from[m.nfrom].chain = snap_chain_role_name((enum snap_chain_role)role);
                m.from[m.nfrom].block = ch->pinned;
                m.nfrom++;
        }
        if (m.nfrom == 0) {
                cli_error(cmd, errout,
                          "refused: no chain could be read, so there is no "
                          "checkpoint to resume from. Nothing published.");
                goto done;
        }
        if (build_resume(s.cfg, s.keys.signing, &result,
                         a.reason != NULL ? a.reason : "validate passed", forced, open, nopen, &m,
                         &err) != RW_OK) {
                cli_error(cmd, errout, "building the RESUME: %s", err.msg);
                goto done;
        }
        if ((rc = halt_publish_resume(ctx, &keys, m.id, m.msg, m.msg_len, m.sig, forced, m.lifts,
                                      nopen, &res, &err)) != RW_OK) {
                cli_error(cmd, errout,
                          "%s\nThe RESUME is NOT published (a RESUME is never queued); the "
                          "relayer stays halted. Run this again.",
                          err.msg);
                code = rc == RW_ERR_IO ? EXIT_REDIS : CLI_EXIT_FAILURE;
                goto done;
        }
        published = res.outcome == HALT_RESUME_PUBLISHED;
        (void)snprintf(entry, sizeof entry, "%s", res.entry_id);
        if (!published) {
                cli_error(cmd, errout, "RESUME %s was already published", m.id);
                goto done;
        }
        print_published(&s, &keys, &m, entry, open, nopen, out);
        if (forced)
                fprintf(out,
                        "FORCED: Tier 1 was %s. The supervisor does not halt again for the "
                        "lifted invariants until it has seen each of them ok.\n",
                        validate_word(result.tier1));
        code = CLI_EXIT_OK;
done:
        free(open);
        free(m.msg);
        cycle_result_release(&result);
        cli_setup_release(&s);
        return code;
}
