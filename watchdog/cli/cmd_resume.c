#include "cmd_resume.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <sodium.h>

#include "cli.h"
#include "cmd_halt.h"
#include "cmd_validate.h"
#include "config.h"
#include "control_msg.h"
#include "cycle.h"
#include "halt_publish.h"
#include "redisconn.h"

#define REASON_MAX 1024
#define EXIT_REDIS 2 /* Redis could not be reached: a RESUME is never queued */

static const char usage[] =
        "Usage: relaywatch resume [-c FILE] --from-last-checkpoint [--force --reason TEXT]\n"
        "                         [--key FILE]\n"
        "\n"
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

static int usage_error(FILE *errout, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int usage_error(FILE *errout, const char *fmt, ...)
{
        va_list ap;

        fprintf(errout, "relaywatch resume: ");
        va_start(ap, fmt);
        vfprintf(errout, fmt, ap);
        va_end(ap);
        fprintf(errout, "\n%s", usage);
        return CLI_EXIT_USAGE;
}

struct args {
        const char *given, *reason, *key_path;
        int from_last_checkpoint, force;
};

/* 0, or the exit code of a usage error (already reported). */
static int parse_args(int argc, char **argv, struct args *a, FILE *out, FILE *errout)
{
        int i;

        memset(a, 0, sizeof *a);
        for (i = 1; i < argc; i++) {
                const char *s = argv[i];
                const char **value = NULL;

                if (strcmp(s, "-c") == 0 || strcmp(s, "--config") == 0)
                        value = &a->given;
                else if (strcmp(s, "--reason") == 0)
                        value = &a->reason;
                else if (strcmp(s, "--key") == 0)
                        value = &a->key_path;
                if (value != NULL) {
                        if (i + 1 >= argc || argv[i + 1][0] == '\0')
                                return usage_error(errout, "%s needs a value", s);
                        if (*value != NULL)
                                return usage_error(errout, "%s is given twice", s);
                        *value = argv[++i];
                } else if (strcmp(s, "--from-last-checkpoint") == 0) {
                        a->from_last_checkpoint = 1;
                } else if (strcmp(s, "--force") == 0) {
                        a->force = 1;
                } else if (strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0) {
                        fputs(usage, out);
                        return -1;
                } else {
                        return usage_error(errout, "unexpected argument '%s'", s);
                }
        }
        if (!a->from_last_checkpoint)
                return usage_error(errout, "--from-last-checkpoint is required: the relayer "
                                           "resumes from the heights the validate pins");
        if (a->force && a->reason == NULL)
                return usage_error(errout, "--force needs --reason TEXT: say why you resume "
                                           "although Tier 1 may not be valid");
        if (!a->force && a->reason != NULL)
                return usage_error(errout, "--reason goes with --force (a resume after a "
                                           "passing validate needs no reason)");
        if (a->reason != NULL && strlen(a->reason) > REASON_MAX)
                return usage_error(errout, "--reason is %zu bytes; keep it under %d",
                                   strlen(a->reason), REASON_MAX);
        if (a->key_path == NULL) {
                const char *env = getenv(CMD_RESUME_KEY_ENV);

                if (env == NULL || env[0] == '\0')
                        return usage_error(errout,
                                           "no operator key: pass --key FILE or set $%s to the "
                                           "operator's secret key file (a RESUME is never signed "
                                           "with the watchdog's key)",
                                           CMD_RESUME_KEY_ENV);
                a->key_path = env;
        }
        return 0;
}

/*
 * Refuses a key the relayer would reject for a RESUME: a watchdog key, or
 * one missing from [control] operator_keys when those are configured.
 * Returns 0 when the key may sign, else CLI_EXIT_FAILURE (reported).
 */
static int check_operator_key(const struct config *cfg, const struct signing_key *key,
                              const char *key_path, FILE *errout)
{
        struct verify_key keys[CONFIG_KEYS_MAX + 1];
        char pub[4096];
        struct rwerr err;
        size_t i;

        if (cmd_halt_load_pubkeys(cfg->watchdog_pubkeys, cfg->nwatchdog_pubkeys, keys, &err) !=
            RW_OK) {
                fprintf(errout,
                        "relaywatch resume: cannot check the key against the watchdog keys of "
                        "%s: %s\n",
                        cfg->path, err.msg);
                return CLI_EXIT_FAILURE;
        }
        for (i = 0; i < cfg->nwatchdog_pubkeys; i++) {
                if (strcmp(keys[i].key_id, key->pub.key_id) == 0) {
                        fprintf(errout,
                                "relaywatch resume: refused: %s is a watchdog key (key_id %s, "
                                "the public key in %s). A RESUME must be signed with an "
                                "operator key; the relayer rejects a RESUME signed by the "
                                "watchdog.\n",
                                key_path, key->pub.key_id, cfg->watchdog_pubkeys[i]);
                        return CLI_EXIT_FAILURE;
                }
        }
        /* the watchdog's own key pair, also when watchdog_keys lists others */
        if (cfg->signing_key != NULL &&
            (size_t)snprintf(pub, sizeof pub, "%s.pub", cfg->signing_key) < sizeof pub &&
            verify_key_load(pub, &keys[0], &err) == RW_OK &&
            strcmp(keys[0].key_id, key->pub.key_id) == 0) {
                fprintf(errout,
                        "relaywatch resume: refused: %s is the watchdog's signing key (key_id "
                        "%s, %s). A RESUME must be signed with an operator key.\n",
                        key_path, key->pub.key_id, cfg->signing_key);
                return CLI_EXIT_FAILURE;
        }
        if (cfg->noperator_pubkeys == 0)
                return 0;
        if (cmd_halt_load_pubkeys(cfg->operator_pubkeys, cfg->noperator_pubkeys, keys, &err) !=
            RW_OK) {
                fprintf(errout, "relaywatch resume: cannot read the operator keys of %s: %s\n",
                        cfg->path, err.msg);
                return CLI_EXIT_FAILURE;
        }
        for (i = 0; i < cfg->noperator_pubkeys; i++) {
                if (strcmp(keys[i].key_id, key->pub.key_id) == 0)
                        return 0;
        }
        fprintf(errout,
                "relaywatch resume: refused: %s (key_id %s) is not one of the [control] "
                "operator_keys of %s; the relayer would reject a RESUME it signed\n",
                key_path, key->pub.key_id, cfg->path);
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
        f.issued_at_ms = cmd_halt_now_ms();
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

int cmd_resume(int argc, char **argv, FILE *out, FILE *errout)
{
        struct args a;
        struct config *cfg = NULL;
        struct signing_key *key = NULL;
        struct halt_publish_keys keys;
        struct halt_publish_open *open = NULL;
        struct cycle_result result;
        struct resume_msg m;
        redisContext *ctx = NULL;
        char entry[HALT_PUBLISH_ENTRY_ID_SIZE], names[512];
        struct rwerr err = {{0}};
        size_t nopen = 0, i, role;
        int code, rc, halt_key = 0, forced, published = 0;

        memset(&result, 0, sizeof result);
        memset(&m, 0, sizeof m);
        if ((code = parse_args(argc, argv, &a, out, errout)) != 0)
                return code < 0 ? CLI_EXIT_OK : code;
        code = CLI_EXIT_FAILURE;
        if (sodium_init() < 0) {
                fprintf(errout, "relaywatch resume: libsodium failed to initialise\n");
                return CLI_EXIT_FAILURE;
        }
        if ((cfg = config_load(config_path(a.given), errout, &err)) == NULL) {
                fprintf(errout, "relaywatch resume: %s\n", err.msg);
                return CLI_EXIT_FAILURE;
        }
        if (cfg->redis_url == NULL) {
                fprintf(errout,
                        "relaywatch resume: %s has no [redis] url: a RESUME is published on the "
                        "relayer's Redis control stream\n",
                        cfg->path);
                goto done;
        }
        if (signing_key_load(a.key_path, &key, &err) != RW_OK) {
                fprintf(errout, "relaywatch resume: the operator key: %s\n", err.msg);
                goto done;
        }
        if ((code = check_operator_key(cfg, key, a.key_path, errout)) != 0)
                goto done;
        code = CLI_EXIT_FAILURE;

        halt_publish_keys_from_config(&keys, cfg);
        if ((ctx = redisconn_connect(cfg->redis_url, cfg->redis_timeout_ms, &err)) == NULL ||
            halted_now(ctx, &keys, &open, &nopen, &halt_key, errout, &err) != RW_OK) {
                fprintf(errout,
                        "relaywatch resume: %s\nNothing published: a RESUME is never "
                        "queued; run this again when Redis answers.\n",
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
        if (cmd_validate_cycle(cfg, &result, &err) != RW_OK) {
                fprintf(errout, "relaywatch resume: the validate could not run: %s\n", err.msg);
                goto done;
        }
        cmd_validate_print(&result, out);
        fprintf(out, "\n");
        forced = result.tier1 != VERDICT_OK;
        if (forced && !a.force) {
                cmd_validate_tier1_names(&result, result.tier1, names, sizeof names);
                fprintf(errout,
                        "relaywatch resume: refused: Tier 1 %s: %s. Nothing published. Fix it "
                        "and run this again, or resume anyway with --force --reason TEXT.\n",
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
                fprintf(errout, "relaywatch resume: refused: no chain could be read, so there is "
                                "no checkpoint to resume from. Nothing published.\n");
                goto done;
        }
        if (build_resume(cfg, key, &result, a.reason != NULL ? a.reason : "validate passed", forced,
                         open, nopen, &m, &err) != RW_OK) {
                fprintf(errout, "relaywatch resume: building the RESUME: %s\n", err.msg);
                goto done;
        }
        if ((rc = halt_publish_resume(ctx, &keys, m.id, m.msg, m.msg_len, m.sig, forced, &published,
                                      entry, &err)) != RW_OK) {
                fprintf(errout,
                        "relaywatch resume: %s\nThe RESUME is NOT published (a RESUME "
                        "is never queued); the relayer stays halted. Run this again.\n",
                        err.msg);
                code = rc == RW_ERR_IO ? EXIT_REDIS : CLI_EXIT_FAILURE;
                goto done;
        }
        if (!published) {
                fprintf(errout, "relaywatch resume: RESUME %s was already published\n", m.id);
                goto done;
        }
        fprintf(out, "RESUME published: %s\n", m.id);
        fprintf(out, "stream %s entry %s, signed with operator key %s\n", keys.stream, entry,
                key->pub.key_id);
        fprintf(out, "resume_from:");
        for (i = 0; i < m.nfrom; i++)
                fprintf(out, "%s %s %" PRIu64, i ? "," : "", m.from[i].chain, m.from[i].block);
        fprintf(out, "\nlifted:%s", nopen == 0 ? " the halt key" : "");
        for (i = 0; i < nopen; i++)
                fprintf(out, "%s %s", i ? "," : "", open[i].halt_id);
        fprintf(out, "\n");
        if (forced)
                fprintf(out,
                        "FORCED: Tier 1 was %s. The supervisor does not halt again for the "
                        "lifted invariants until it has seen each of them ok.\n",
                        validate_word(result.tier1));
        code = CLI_EXIT_OK;
done:
        if (ctx != NULL)
                redisFree(ctx);
        free(open);
        free(m.msg);
        cycle_result_release(&result);
        signing_key_free(key);
        config_free(cfg);
        return code;
}
