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
#include "control_read.h"
#include "control_state.h"
#include "cycle.h"
#include "halt_publish.h"
#include "rwclock.h"

#define REASON_MAX 1024
#define EXIT_REDIS 2        /* Redis could not be reached: a RESUME is never queued */
#define INVARIANT_SHOWN 128 /* bytes of a HALT's invariant kept for the listing */

static const char help[] =
        "Lifts a halt: reads the control stream as a relayer does (the halt key, then\n"
        "every entry) and lists every HALT in force, whoever signed it (a watchdog or\n"
        "an operator key) and whoever wrote it, with the open halts relaywatch keeps\n"
        "in STREAM:incidents; runs one full validate cycle (the checks of `relaywatch\n"
        "validate`, table printed) and, when every Tier 1 check is valid, publishes a\n"
        "RESUME signed with the operator key that lifts every one of them (its\n"
        "`lifts`). The RESUME carries the heights that validate pinned, the last\n"
        "checkpoint the relayer resumes from. When a HALT comes in force while it is\n"
        "being published, it reads again and tries once more. Publishes nothing when\n"
        "no HALT is in force.\n"
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

/* One HALT the RESUME lifts. */
struct lift {
        char halt_id[CONTROL_ID_SIZE];
        char invariant[INVARIANT_SHOWN];
        char entry_id[CONTROL_ENTRY_ID_SIZE]; /* "" when known from the halt key only */
        enum control_role role;               /* of its signer; NONE when not in force */
        char key_id[SIGNING_KEY_ID_SIZE];
        int in_force; /* 0: listed in STREAM:incidents only */
};

/* What is halted now: every HALT in force, and the open halts of STREAM:incidents. */
struct halted {
        struct lift lifts[CONTROL_LIFTS_MAX];
        size_t n;
        int halt_key_present;
        struct control_outcome halt_key; /* its outcome, when present */
        int no_memory;
        char late_halt_id[CONTROL_ID_SIZE]; /* a HALT that came in force while publishing */
};

struct resume_msg {
        char id[CONTROL_ID_SIZE];
        char sig[CONTROL_SIG_B64_SIZE];
        char *msg;
        size_t msg_len;
        struct control_height from[SNAP_NCHAINS];
        size_t nfrom;
        const char *lifts[CONTROL_LIFTS_MAX];
        size_t nlifts;
};

static int build_resume(const struct config *cfg, const struct signing_key *key,
                        const struct cycle_result *r, const char *reason, int forced,
                        const struct halted *h, struct resume_msg *m, struct rwerr *err)
{
        struct control_msg_fields f;
        cJSON *evidence = cJSON_CreateObject(), *lifted = NULL;
        size_t i;
        int rc = RW_OK;

        free(m->msg);
        m->msg = NULL;
        if (evidence == NULL ||
            cJSON_AddStringToObject(evidence, "validate", validate_word(r->tier1)) == NULL ||
            cJSON_AddBoolToObject(evidence, "forced", forced) == NULL ||
            (lifted = cJSON_AddArrayToObject(evidence, "lifted")) == NULL) {
                rc = rwerr_set(err, RW_ERR_NOMEM, "out of memory for the evidence");
                goto out;
        }
        /* evidence.lifted: the same ids as lifts */
        for (i = 0; i < h->n; i++) {
                cJSON *s = cJSON_CreateString(h->lifts[i].halt_id);

                if (s == NULL || !cJSON_AddItemToArray(lifted, s)) {
                        cJSON_Delete(s);
                        rc = rwerr_set(err, RW_ERR_NOMEM, "out of memory for the evidence");
                        goto out;
                }
                m->lifts[i] = h->lifts[i].halt_id;
        }
        m->nlifts = h->n;
        control_resume_id(m->id);
        memset(&f, 0, sizeof f);
        f.lifts = m->lifts;
        f.nlifts = m->nlifts;
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

/* control_read's callback: the halt key's outcome; running out of memory. */
static void judged(void *arg, const char *entry_id, const struct control_field *fields,
                   size_t nfields, const struct control_outcome *out)
{
        struct halted *h = arg;

        (void)fields;
        (void)nfields;
        if (out->reject == CONTROL_NO_MEMORY)
                h->no_memory = 1;
        if (entry_id[0] == '\0') {
                h->halt_key_present = 1;
                h->halt_key = *out;
        }
}

static struct lift *lift_find(struct halted *h, const char *halt_id)
{
        size_t i;

        for (i = 0; i < h->n; i++) {
                if (strcmp(h->lifts[i].halt_id, halt_id) == 0)
                        return &h->lifts[i];
        }
        return NULL;
}

static int too_many(const struct halt_publish_keys *keys, struct rwerr *err)
{
        return rwerr_set(err, RW_ERR_RANGE,
                         "more than %d HALTs are in force on %s: one RESUME lifts at most %d. "
                         "Nothing published; lift them with a RESUME built by hand, or look at "
                         "who is writing to the stream (`relaywatch control tail`)",
                         CONTROL_LIFTS_MAX, keys->stream, CONTROL_LIFTS_MAX);
}

/* The HALTs in force in `st` (the stream read) into h, oldest first. */
static int lifts_in_force(const struct control_state *st, const struct halt_publish_keys *keys,
                          struct halted *h, struct rwerr *err)
{
        const struct control_in_force *list;
        size_t n = control_state_in_force(st, &list), i;

        for (i = 0; i < n; i++) {
                struct lift *l = &h->lifts[h->n];
                struct control_msg m;
                struct rwerr perr;

                if (h->n == CONTROL_LIFTS_MAX)
                        return too_many(keys, err);
                memset(l, 0, sizeof *l);
                (void)snprintf(l->halt_id, sizeof l->halt_id, "%s", list[i].halt_id);
                (void)snprintf(l->entry_id, sizeof l->entry_id, "%s", list[i].entry_id);
                (void)snprintf(l->key_id, sizeof l->key_id, "%s", list[i].key_id);
                l->role = list[i].role;
                l->in_force = 1;
                if (control_msg_parse(list[i].msg, list[i].msg_len, &m, &perr) != RW_OK)
                        return rwerr_set(err, RW_ERR_NOMEM, "reading HALT %s again: %s",
                                         list[i].halt_id, perr.msg);
                (void)snprintf(l->invariant, sizeof l->invariant, "%s", m.invariant);
                control_msg_free(&m);
                h->n++;
        }
        return RW_OK;
}

/*
 * What is halted now, as a relayer sees it: the halt key, then every entry
 * of the stream, judged into `st` (reset first); then the open halts of
 * STREAM:incidents that are not in force already. RW_OK, or the Redis error
 * (RW_ERR_RANGE: more HALTs than one RESUME lifts; RW_ERR_NOMEM).
 */
static int read_halted(redisContext *ctx, const struct halt_publish_keys *keys,
                       struct control_state *st, struct halted *h, struct rwerr *err)
{
        struct halt_publish_open *open = NULL;
        size_t nopen = 0, i;
        int rc, present = 0;

        memset(h, 0, sizeof *h);
        control_state_reset(st);
        if ((rc = control_read_halt_key(ctx, keys->halt_key, st, &present, judged, h, err)) !=
                    RW_OK ||
            (rc = control_read_stream(ctx, keys->stream, "0-0", st, NULL, judged, h, err)) != RW_OK)
                return rc;
        if (h->no_memory)
                return rwerr_set(err, RW_ERR_NOMEM, "out of memory judging the stream %s",
                                 keys->stream);
        if ((rc = lifts_in_force(st, keys, h, err)) != RW_OK)
                return rc;
        if ((rc = halt_publish_open_halts(ctx, keys, &open, &nopen, err)) != RW_OK)
                return rc;
        for (i = 0; i < nopen && rc == RW_OK; i++) {
                struct lift *l = &h->lifts[h->n];

                if (lift_find(h, open[i].halt_id) != NULL)
                        continue;
                if (h->n == CONTROL_LIFTS_MAX) {
                        rc = too_many(keys, err);
                        break;
                }
                memset(l, 0, sizeof *l);
                (void)snprintf(l->halt_id, sizeof l->halt_id, "%s", open[i].halt_id);
                (void)snprintf(l->invariant, sizeof l->invariant, "%s", open[i].field);
                (void)snprintf(l->entry_id, sizeof l->entry_id, "%s", open[i].entry_id);
                h->n++;
        }
        free(open);
        return rc;
}

/* The HALTs the RESUME lifts, each with its signer and invariant. */
static void print_lifts(const struct halt_publish_keys *keys, const struct halted *h, FILE *out)
{
        size_t i;

        fprintf(out, "HALTs in force (the RESUME lifts every one):\n");
        for (i = 0; i < h->n; i++) {
                const struct lift *l = &h->lifts[i];

                fprintf(out, "  %s %s, ", l->halt_id, l->invariant);
                if (!l->in_force)
                        fprintf(out,
                                "open in %s:incidents (entry %s) but not in force on the "
                                "stream: cleared too\n",
                                keys->stream, l->entry_id);
                else if (l->entry_id[0] == '\0')
                        fprintf(out, "signed by %s key %s, from the halt key %s\n",
                                control_role_name(l->role), l->key_id, keys->halt_key);
                else
                        fprintf(out, "signed by %s key %s, stream entry %s\n",
                                control_role_name(l->role), l->key_id, l->entry_id);
        }
}

/* A halt key a relayer ignores: said, never lifted (nothing is in force because of it). */
static void warn_halt_key(const struct halt_publish_keys *keys, const struct halted *h,
                          FILE *errout)
{
        if (!h->halt_key_present || h->halt_key.reject == CONTROL_ACCEPTED)
                return;
        cli_error(&cmd_resume_command, errout,
                  "warning: the halt key %s is rejected, %s: %s. A relayer ignores it; "
                  "`relaywatch status` reports it",
                  keys->halt_key, control_reject_name(h->halt_key.reject), h->halt_key.detail);
}

/*
 * The configuration, the key ring (the state that judges the stream trusts
 * the configured keys, as a relayer does), the operator key checked against
 * them, and Redis. 0, or the exit status (reported).
 */
static int set_up(struct cli_setup *s, const struct args *a, struct control_state **st,
                  FILE *errout)
{
        const struct cli_command *cmd = &cmd_resume_command;
        struct control_keys keys;
        struct rwerr err;

        if (cli_setup_config(s, a->given) != RW_OK || cli_setup_require_redis(s) != RW_OK)
                return CLI_EXIT_FAILURE;
        if (cli_setup_keys(s, a->key_path, NULL, NULL, &err) != RW_OK) {
                cli_error(cmd, errout, "%s", err.msg); /* names the role and the file */
                return CLI_EXIT_FAILURE;
        }
        control_keys_from_keyring(&keys, &s->keys);
        if ((*st = control_state_new(&keys)) == NULL) {
                cli_error(cmd, errout, "out of memory");
                return CLI_EXIT_FAILURE;
        }
        return check_operator_key(s, a->key_path, errout);
}

/* What a published RESUME says, on `out`. */
static void print_published(const struct cli_setup *s, const struct halt_publish_keys *keys,
                            const struct resume_msg *m, const char *entry, FILE *out)
{
        size_t i;

        fprintf(out, "RESUME published: %s\n", m->id);
        fprintf(out, "stream %s entry %s, signed with operator key %s\n", keys->stream, entry,
                s->keys.signing->pub.key_id);
        fprintf(out, "resume_from:");
        for (i = 0; i < m->nfrom; i++)
                fprintf(out, "%s %s %" PRIu64, i ? "," : "", m->from[i].chain, m->from[i].block);
        fprintf(out, "\nlifted:");
        for (i = 0; i < m->nlifts; i++)
                fprintf(out, "%s %s", i ? "," : "", m->lifts[i]);
        fprintf(out, "\n");
}

/* A Redis failure before anything was published: exit 2 (or 1 for what Redis is not to blame). */
static int read_failed(int rc, const struct rwerr *err, FILE *errout)
{
        cli_error(&cmd_resume_command, errout,
                  "%s\nNothing published: a RESUME is never queued; run this again%s.", err->msg,
                  rc == RW_ERR_RANGE || rc == RW_ERR_NOMEM ? "" : " when Redis answers");
        return rc == RW_ERR_RANGE || rc == RW_ERR_NOMEM ? CLI_EXIT_FAILURE : EXIT_REDIS;
}

/* The chains' pinned heights of the validate, into m->from. */
static void checkpoint(const struct cycle_result *result, struct resume_msg *m)
{
        size_t role;

        for (role = 0; role < SNAP_NCHAINS; role++) {
                const struct snap_chain *ch = &result->snapshot.chains[role];

                if (!ch->ok || ch->pinned > CONTROL_HEIGHT_MAX)
                        continue;
                m->from[m->nfrom].chain = snap_chain_role_name((enum snap_chain_role)role);
                m->from[m->nfrom].block = ch->pinned;
                m->nfrom++;
        }
}

#define PUBLISH_AGAIN (-1) /* a HALT came in force meanwhile: read, validate and sign again */

/*
 * Signs a RESUME lifting everything in h and publishes it. 0 published;
 * PUBLISH_AGAIN when a HALT came in force meanwhile (NOT_LISTED: nothing
 * was published); else the exit status (reported).
 */
static int publish(struct cli_setup *s, redisContext *ctx, const struct halt_publish_keys *keys,
                   const struct cycle_result *result, const char *reason, int forced,
                   struct halted *h, struct resume_msg *m, FILE *out, FILE *errout)
{
        const struct cli_command *cmd = &cmd_resume_command;
        struct halt_publish_resume_result res;
        struct rwerr err;
        int rc;

        if (build_resume(s->cfg, s->keys.signing, result, reason, forced, h, m, &err) != RW_OK) {
                cli_error(cmd, errout, "building the RESUME: %s", err.msg);
                return CLI_EXIT_FAILURE;
        }
        if ((rc = halt_publish_resume(ctx, keys, m->id, m->msg, m->msg_len, m->sig, forced,
                                      m->lifts, m->nlifts, &res, &err)) != RW_OK) {
                cli_error(cmd, errout,
                          "%s\nThe RESUME is NOT published (a RESUME is never queued); the "
                          "relayer stays halted. Run this again.",
                          err.msg);
                return rc == RW_ERR_IO ? EXIT_REDIS : CLI_EXIT_FAILURE;
        }
        if (res.outcome == HALT_RESUME_PUBLISHED) {
                print_published(s, keys, m, res.entry_id, out);
                return 0;
        }
        if (res.outcome != HALT_RESUME_NOT_LISTED) {
                cli_error(cmd, errout, "RESUME %s was already published", m->id);
                return CLI_EXIT_FAILURE;
        }
        fprintf(out,
                "\nHALT %s came in force while the RESUME was being prepared (nothing was "
                "published)\n",
                res.halt_id);
        (void)snprintf(h->late_halt_id, sizeof h->late_halt_id, "%s", res.halt_id);
        free(m->msg);
        m->msg = NULL;
        return PUBLISH_AGAIN;
}

/*
 * One try: what is in force, a validate, and a RESUME lifting it all.
 * 0 published (or nothing to resume: *nothing 1); PUBLISH_AGAIN; else the
 * exit status (reported).
 */
static int try_resume(struct cli_setup *s, redisContext *ctx, const struct halt_publish_keys *keys,
                      struct control_state *st, const struct args *a, struct halted *h,
                      struct cycle_result *result, struct resume_msg *m, int *forced, int *nothing,
                      FILE *out, FILE *errout)
{
        const struct cli_command *cmd = &cmd_resume_command;
        char names[512];
        struct rwerr err = {{0}};
        int rc;

        *nothing = 0;
        if ((rc = read_halted(ctx, keys, st, h, &err)) != RW_OK)
                return read_failed(rc, &err, errout);
        warn_halt_key(keys, h, errout);
        if (h->n == 0) {
                fprintf(out,
                        "not halted: nothing to resume (no HALT in force on %s or in the halt "
                        "key %s, none open in %s:incidents)\n",
                        keys->stream, keys->halt_key, keys->stream);
                *nothing = 1;
                return 0;
        }
        print_lifts(keys, h, out);
        fprintf(out, "\nvalidating before the resume:\n");
        fflush(out);
        cycle_result_release(result);
        memset(result, 0, sizeof *result);
        if (cycle_validate(s->cfg, result, &err) != RW_OK) {
                cli_error(cmd, errout, "the validate could not run: %s", err.msg);
                return CLI_EXIT_FAILURE;
        }
        cli_report_table(result, out);
        fprintf(out, "\n");
        *forced = result->tier1 != VERDICT_OK;
        if (*forced && !a->force) {
                cli_report_tier1_names(result, result->tier1, names, sizeof names);
                cli_error(cmd, errout,
                          "refused: Tier 1 %s: %s. Nothing published. Fix it and run this again, "
                          "or resume anyway with --force --reason TEXT.",
                          result->tier1 == VERDICT_VIOLATED ? "violated" : "could not be evaluated",
                          names);
                return CLI_EXIT_FAILURE;
        }
        if (!*forced && a->force)
                fprintf(out, "validate passed: --force was not needed (your reason is kept)\n");
        m->nfrom = 0;
        checkpoint(result, m);
        if (m->nfrom == 0) {
                cli_error(cmd, errout,
                          "refused: no chain could be read, so there is no "
                          "checkpoint to resume from. Nothing published.");
                return CLI_EXIT_FAILURE;
        }
        return publish(s, ctx, keys, result, a->reason != NULL ? a->reason : "validate passed",
                       *forced, h, m, out, errout);
}

int cmd_resume(int argc, char **argv, FILE *out, FILE *errout)
{
        const struct cli_command *cmd = &cmd_resume_command;
        struct args a;
        struct cli_setup s;
        struct halt_publish_keys keys;
        struct control_state *st = NULL;
        struct halted *h = NULL;
        struct cycle_result result;
        struct resume_msg m;
        redisContext *ctx = NULL;
        struct rwerr err = {{0}};
        int code, attempt, forced = 0, nothing = 0;

        memset(&result, 0, sizeof result);
        memset(&m, 0, sizeof m);
        if ((code = parse_args(argc, argv, &a, out, errout)) >= 0)
                return code;
        cli_setup_init(&s, cmd, errout);
        if ((code = set_up(&s, &a, &st, errout)) != 0)
                goto done;
        code = CLI_EXIT_FAILURE;
        halt_publish_keys_from_config(&keys, s.cfg);
        if ((h = calloc(1, sizeof *h)) == NULL) {
                cli_error(cmd, errout, "out of memory");
                goto done;
        }
        if ((ctx = cli_setup_redis(&s, &err)) == NULL) {
                code = read_failed(RW_ERR_IO, &err, errout);
                goto done;
        }
        /* a HALT that comes in force meanwhile is read, validated and lifted on a second try */
        for (attempt = 1; attempt <= 2; attempt++) {
                code = try_resume(&s, ctx, &keys, st, &a, h, &result, &m, &forced, &nothing, out,
                                  errout);
                if (code != PUBLISH_AGAIN)
                        break;
                if (attempt == 1)
                        fprintf(out, "reading the stream and validating again\n");
        }
        if (code == PUBLISH_AGAIN) {
                cli_error(cmd, errout,
                          "refused: HALT %s came in force while the RESUME was being prepared, "
                          "again. Nothing published; the relayer stays halted. Something keeps "
                          "halting it: look at `relaywatch status` and `relaywatch control "
                          "tail` before you run this again.",
                          h->late_halt_id);
                code = CLI_EXIT_FAILURE;
        }
        if (code == 0 && forced && !nothing)
                fprintf(out,
                        "FORCED: Tier 1 was %s. The supervisor does not halt again for the "
                        "lifted invariants until it has seen each of them ok.\n",
                        validate_word(result.tier1));
        if (code == 0)
                code = CLI_EXIT_OK;
done:
        free(h);
        free(m.msg);
        control_state_free(st);
        cycle_result_release(&result);
        cli_setup_release(&s);
        return code;
}
