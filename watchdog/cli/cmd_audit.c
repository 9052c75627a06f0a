#include "cmd_audit.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <sodium.h>

#include "audit_key.h"
#include "audit_log.h"
#include "audit_verify.h"
#include "cli.h"
#include "cli_setup.h"
#include "cmd_audit_checkpoint.h"
#include "cmd_audit_witness.h"
#include "fileio.h"

#define B64 sodium_base64_VARIANT_ORIGINAL
#define FILES_MAX 100000
#define NOTE_FILE_MAX ((size_t)64 * 1024)

#define VERIFY_USAGE                                                                               \
        "relaywatch audit verify [-c FILE | --dir DIR] [--pubkey F] [--checkpoint NOTE] "          \
        "[--json] [LOGFILE...]"
#define PROVE_USAGE                                                                                \
        "relaywatch audit prove --index N [-c FILE | --dir DIR] [--pubkey F] [--json] "            \
        "[LOGFILE...]"
#define CONSISTENCY_USAGE                                                                          \
        "relaywatch audit consistency --from SIZE [--to SIZE] [-c FILE | --dir DIR] [--pubkey F] " \
        "[--json] [LOGFILE...]"

static const char help[] =
        "The audit log: a signed, append-only record of what relaywatch saw and did,\n"
        "kept as an RFC 6962 Merkle tree with signed checkpoints (C2SP signed notes).\n"
        "\n"
        "  verify       recompute the tree from the records; check sequence, key chain,\n"
        "               every checkpoint's root and signature, and that the log extends\n"
        "               a checkpoint given from outside; exit 0 intact, 1 tampered,\n"
        "               2 cannot tell\n"
        "  prove        one record with its inclusion proof against the last checkpoint\n"
        "  consistency  a consistency proof from an older tree size to the last checkpoint\n"
        "  checkpoint   print the latest checkpoint published to the database or Redis\n"
        "               (to pass to verify --checkpoint)\n"
        "  witness      check another watchdog's published checkpoint is consistent with\n"
        "               the last one accepted, and cosign it; exit 0 accepted,\n"
        "               1 inconsistent, 2 cannot tell\n"
        "\n"
        "Run 'relaywatch audit SUBCOMMAND --help' for one.\n";

const struct cli_command cmd_audit_command = {
        "audit", "relaywatch audit verify|prove|consistency|checkpoint|witness [OPTIONS]",
        "verify the signed audit log; inclusion and consistency proofs", help, cmd_audit};

static const char verify_help[] =
        "Verifies an audit log from its files. Without LOGFILEs it reads every\n"
        "audit-*.jsonl of the log's directory ([audit] dir of the configuration, or\n"
        "--dir).\n"
        "\n"
        "  -c, --config FILE      take the log's directory from this configuration\n"
        "      --dir DIR          the log's directory\n"
        "      --pubkey F         the genesis public key to pin (default: DIR/audit.key.pub;\n"
        "                         an auditor passes the copy they were given)\n"
        "      --checkpoint NOTE  a file holding a signed checkpoint from outside the log\n"
        "                         (a witness, a HALT message, a page, the database); the log\n"
        "                         must extend it\n"
        "      --json             the result as one JSON object\n"
        "\n"
        "Exit status: 0 intact, 1 tampered (the first bad record is named by file and\n"
        "line), 2 cannot tell (not an audit log, unreadable, nothing signed, no key).\n";

static const char prove_help[] =
        "Prints record N of the log with its RFC 6962 inclusion proof against the last\n"
        "checkpoint, after verifying the log. An auditor checks the one record\n"
        "without the rest of the log.\n"
        "\n"
        "  -i, --index N      the record (its seq)\n"
        "  -c, --config FILE  take the log's directory from this configuration\n"
        "      --dir DIR      the log's directory\n"
        "      --pubkey F     the genesis public key to pin (default: DIR/audit.key.pub)\n"
        "      --json         {index, record, tree_size, root, checkpoint, proof}\n";

static const char consistency_help[] =
        "Prints the RFC 6962 consistency proof that the tree of --to records (default:\n"
        "the last checkpoint's size) extends the tree of --from records, after\n"
        "verifying the log.\n"
        "\n"
        "  -f, --from SIZE    the older tree size\n"
        "  -t, --to SIZE      the newer one (default: the last checkpoint's)\n"
        "  -c, --config FILE  take the log's directory from this configuration\n"
        "      --dir DIR      the log's directory\n"
        "      --pubkey F     the genesis public key to pin (default: DIR/audit.key.pub)\n"
        "      --json         {from, from_root, to, to_root, checkpoint, proof}\n";

static const struct cli_command verify_command = {"audit verify", VERIFY_USAGE,
                                                  "verify an audit log", verify_help, NULL};
static const struct cli_command prove_command = {
        "audit prove", PROVE_USAGE, "a record with its inclusion proof", prove_help, NULL};
static const struct cli_command consistency_command = {
        "audit consistency", CONSISTENCY_USAGE, "a consistency proof", consistency_help, NULL};

enum {
        OPT_DIR = CLI_OPT_LONG,
        OPT_PUBKEY,
        OPT_CHECKPOINT,
        OPT_JSON,
};

/* What every subcommand reads: where the log is and which key to pin. */
struct audit_opts {
        const struct cli_command *cmd;
        const char *config, *dir, *pubkey, *checkpoint;
        int json;
        uint64_t index, from, to;
        int have_index, have_from, have_to;
        char **files;              /* positional LOGFILEs, borrowed from argv */
        char pubkey_default[4200]; /* DIR/audit.key.pub, when --pubkey is not given */
        char config_dir[4096];     /* [audit] dir of -c FILE: outlives the loaded config */
        size_t nfiles;
};

/* The files to verify: the positional ones, or every log file of the directory. */
static int gather(struct audit_opts *o, struct cli_setup *s, char ***paths, size_t *n,
                  char *dir_used, size_t cap, FILE *errout)
{
        char **names = NULL;
        size_t i, count = 0;
        struct rwerr err;

        *paths = NULL;
        *n = 0;
        dir_used[0] = '\0';
        if (o->dir == NULL && o->config != NULL) {
                if (cli_setup_config(s, o->config) != RW_OK)
                        return CLI_EXIT_USAGE;
                /* a copy: the configuration is released before a second gather (prove) */
                if ((size_t)snprintf(o->config_dir, sizeof o->config_dir, "%s",
                                     s->cfg->audit_dir) >= sizeof o->config_dir) {
                        fprintf(errout, "relaywatch %s: [audit] dir is too long\n", o->cmd->name);
                        return CLI_EXIT_FAILURE;
                }
                o->dir = o->config_dir;
        }
        if (o->dir != NULL)
                snprintf(dir_used, cap, "%s", o->dir);
        if (o->nfiles > 0) {
                if ((*paths = calloc(o->nfiles, sizeof **paths)) == NULL)
                        return CLI_EXIT_FAILURE;
                for (i = 0; i < o->nfiles; i++)
                        if (((*paths)[i] = strdup(o->files[i])) == NULL)
                                return CLI_EXIT_FAILURE;
                *n = o->nfiles;
                return CLI_EXIT_OK;
        }
        if (o->dir == NULL)
                return cli_usage_error(o->cmd, errout,
                                       "say where the log is: LOGFILE..., --dir DIR or -c FILE");
        if (audit_log_files(o->dir, &names, &count, &err) != RW_OK) {
                fprintf(errout, "relaywatch %s: %s\n", o->cmd->name, err.msg);
                return 2;
        }
        if ((*paths = calloc(count ? count : 1, sizeof **paths)) == NULL) {
                audit_log_files_free(names, count);
                return CLI_EXIT_FAILURE;
        }
        for (i = 0; i < count; i++) {
                size_t len = strlen(o->dir) + strlen(names[i]) + 2;

                if (((*paths)[i] = malloc(len)) == NULL)
                        break;
                snprintf((*paths)[i], len, "%s/%s", o->dir, names[i]);
                (*n)++;
        }
        audit_log_files_free(names, count);
        if (count == 0) {
                fprintf(errout,
                        "relaywatch %s: %s holds no audit-*.jsonl file: not an audit log "
                        "directory\n",
                        o->cmd->name, o->dir);
                return 2;
        }
        return *n == count ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
}

static void free_paths(char **paths, size_t n)
{
        while (n > 0)
                free(paths[--n]);
        free(paths);
}

/* Verifies the log o names; 0 when it could run (the verdict is in *r), else an exit status. */
static int run_verify(struct audit_opts *o, int keep_leaves, struct audit_verify_result *r,
                      FILE *errout)
{
        struct cli_setup s;
        struct verify_key pin;
        struct audit_verify_options vo;
        struct audit_external ext;
        char dir[4096], *note = NULL;
        char **paths = NULL;
        size_t npaths = 0, note_len = 0;
        struct rwerr err;
        int rc;

        memset(&vo, 0, sizeof vo);
        memset(r, 0, sizeof *r);
        cli_setup_init(&s, o->cmd, errout);
        rc = gather(o, &s, &paths, &npaths, dir, sizeof dir, errout);
        if (rc != CLI_EXIT_OK)
                goto done;
        if (o->pubkey == NULL && dir[0] != '\0') {
                snprintf(o->pubkey_default, sizeof o->pubkey_default, "%s/%s", dir,
                         AUDIT_KEY_PUB_FILE);
                o->pubkey = o->pubkey_default;
        }
        if (o->pubkey != NULL) {
                if (verify_key_load(o->pubkey, &pin, &err) != RW_OK) {
                        fprintf(errout, "relaywatch %s: the key to pin: %s\n", o->cmd->name,
                                err.msg);
                        rc = 2;
                        goto done;
                }
                vo.genesis = &pin;
        }
        if (o->checkpoint != NULL) {
                if (fileio_read(o->checkpoint, NOTE_FILE_MAX, &note, &note_len, &err) != RW_OK) {
                        fprintf(errout, "relaywatch %s: --checkpoint: %s\n", o->cmd->name, err.msg);
                        rc = 2;
                        goto done;
                }
                ext.note = note;
                ext.len = note_len;
                ext.source = o->checkpoint;
                vo.external = &ext;
                vo.nexternal = 1;
        }
        vo.keep_leaves = keep_leaves;
        (void)audit_verify_files((const char *const *)paths, npaths, &vo, r);
        rc = CLI_EXIT_OK;
done:
        free(note);
        free_paths(paths, npaths);
        cli_setup_release(&s);
        return rc;
}

static void print_verdict_text(const struct audit_verify_result *r, FILE *out)
{
        static const char *const names[] = {"INTACT", "TAMPERED", "CANNOT TELL"};

        fprintf(out, "AUDIT LOG %s: %s\n", names[r->verdict], r->message);
        if (r->notices[0] != '\0')
                fprintf(out, "%s", r->notices);
}

static cJSON *verdict_json(const struct audit_verify_result *r)
{
        static const char *const names[] = {"intact", "tampered", "cannot_tell"};
        cJSON *j = cJSON_CreateObject();
        char root[48];

        if (j == NULL)
                return NULL;
        cJSON_AddStringToObject(j, "verdict", names[r->verdict]);
        cJSON_AddStringToObject(j, "message", r->message);
        cJSON_AddStringToObject(j, "notices", r->notices);
        cJSON_AddStringToObject(j, "origin", r->origin);
        cJSON_AddNumberToObject(j, "records", (double)r->records);
        cJSON_AddNumberToObject(j, "checkpoints", (double)r->checkpoints);
        cJSON_AddNumberToObject(j, "epochs", (double)r->epochs);
        if (r->last_note != NULL) {
                (void)sodium_bin2base64(root, sizeof root, r->last.root, sizeof r->last.root, B64);
                cJSON_AddNumberToObject(j, "checkpoint_size", (double)r->last.size);
                cJSON_AddStringToObject(j, "checkpoint_root", root);
                cJSON_AddStringToObject(j, "checkpoint", r->last_note);
        }
        return j;
}

static void print_json(cJSON *j, FILE *out)
{
        char *text = j != NULL ? cJSON_Print(j) : NULL;

        if (text != NULL)
                fprintf(out, "%s\n", text);
        free(text);
        cJSON_Delete(j);
}

/* Parses the options every subcommand shares plus its own; CLI_ARGS_END or CLI_ARGS_EXIT. */
static int parse(struct audit_opts *o, const struct cli_option *options, size_t n, int argc,
                 char **argv, FILE *out, FILE *errout, struct cli_args *a)
{
        int key;

        cli_args_init(a, o->cmd, options, n, argc, argv, out, errout);
        a->max_positional = FILES_MAX;
        while ((key = cli_args_next(a)) > 0) {
                switch (key) {
                case 'c':
                        o->config = a->value;
                        break;
                case OPT_DIR:
                        o->dir = a->value;
                        break;
                case OPT_PUBKEY:
                        o->pubkey = a->value;
                        break;
                case OPT_CHECKPOINT:
                        o->checkpoint = a->value;
                        break;
                case OPT_JSON:
                        o->json = 1;
                        break;
                case 'i':
                        if (cli_args_number(a, 0, UINT64_MAX >> 1, &o->index) != 0)
                                return CLI_ARGS_EXIT;
                        o->have_index = 1;
                        break;
                case 'f':
                        if (cli_args_number(a, 1, UINT64_MAX >> 1, &o->from) != 0)
                                return CLI_ARGS_EXIT;
                        o->have_from = 1;
                        break;
                case 't':
                        if (cli_args_number(a, 1, UINT64_MAX >> 1, &o->to) != 0)
                                return CLI_ARGS_EXIT;
                        o->have_to = 1;
                        break;
                default:
                        break;
                }
        }
        if (key == CLI_ARGS_EXIT)
                return key;
        if (o->dir != NULL && o->config != NULL) {
                a->exit_code = cli_usage_error(o->cmd, errout, "give --dir or -c, not both");
                return CLI_ARGS_EXIT;
        }
        o->files = argv + a->next;
        o->nfiles = (size_t)(argc - a->next);
        return CLI_ARGS_END;
}

static int cmd_verify(int argc, char **argv, FILE *out, FILE *errout)
{
        static const struct cli_option options[] = {
                CLI_OPTION_CONFIG,           {"dir", OPT_DIR, "DIR"},
                {"pubkey", OPT_PUBKEY, "F"}, {"checkpoint", OPT_CHECKPOINT, "NOTE"},
                {"json", OPT_JSON, NULL},
        };
        struct audit_opts o = {.cmd = &verify_command};
        struct audit_verify_result r;
        struct cli_args a;
        int rc;

        if (parse(&o, options, CLI_NOPTIONS(options), argc, argv, out, errout, &a) == CLI_ARGS_EXIT)
                return a.exit_code;
        if ((rc = run_verify(&o, 0, &r, errout)) != CLI_EXIT_OK)
                return rc;
        if (o.json)
                print_json(verdict_json(&r), out);
        else
                print_verdict_text(&r, out);
        rc = (int)r.verdict;
        audit_verify_release(&r);
        return rc;
}

/* Verifies for a proof: the log must be intact and its last checkpoint is what proofs are against. */
static int verify_for_proof(struct audit_opts *o, struct audit_verify_result *r, FILE *errout)
{
        int rc = run_verify(o, 1, r, errout);

        if (rc != CLI_EXIT_OK)
                return rc;
        if (r->verdict != AUDIT_INTACT) {
                fprintf(errout, "relaywatch %s: the log does not verify, so no proof: %s\n",
                        o->cmd->name, r->message);
                rc = (int)r->verdict;
                audit_verify_release(r);
                return rc;
        }
        return CLI_EXIT_OK;
}

static cJSON *proof_array(unsigned char proof[][AUDIT_HASH_BYTES], size_t n)
{
        cJSON *arr = cJSON_CreateArray();
        char b64[48];
        size_t i;

        for (i = 0; arr != NULL && i < n; i++) {
                (void)sodium_bin2base64(b64, sizeof b64, proof[i], AUDIT_HASH_BYTES, B64);
                cJSON_AddItemToArray(arr, cJSON_CreateString(b64));
        }
        return arr;
}

/* Reads record `index` (its line, without the newline) back from the log's files. */
static char *read_record(struct audit_opts *o, uint64_t index, FILE *errout)
{
        struct cli_setup s;
        char dir[4096], **paths = NULL, *line = NULL, *found = NULL;
        size_t npaths = 0, i, cap = 0;
        ssize_t got;

        cli_setup_init(&s, o->cmd, errout);
        if (gather(o, &s, &paths, &npaths, dir, sizeof dir, errout) == CLI_EXIT_OK) {
                for (i = 0; i < npaths && found == NULL; i++) {
                        FILE *f = fopen(paths[i], "rb");
                        char want[40];
                        int wl = snprintf(want, sizeof want, "{\"seq\":%" PRIu64 ",", index);

                        while (f != NULL && (got = getline(&line, &cap, f)) > 0) {
                                if (got > wl && strncmp(line, want, (size_t)wl) == 0 &&
                                    line[got - 1] == '\n') {
                                        line[got - 1] = '\0';
                                        found = strdup(line);
                                        break;
                                }
                        }
                        if (f != NULL)
                                (void)fclose(f);
                }
        }
        free(line);
        free_paths(paths, npaths);
        cli_setup_release(&s);
        return found;
}

static int cmd_prove(int argc, char **argv, FILE *out, FILE *errout)
{
        static const struct cli_option options[] = {
                {"index", 'i', "N"},         CLI_OPTION_CONFIG,        {"dir", OPT_DIR, "DIR"},
                {"pubkey", OPT_PUBKEY, "F"}, {"json", OPT_JSON, NULL},
        };
        struct audit_opts o = {.cmd = &prove_command};
        struct audit_verify_result r;
        struct audit_tree_leaves src;
        unsigned char proof[AUDIT_PROOF_MAX][AUDIT_HASH_BYTES];
        char root[48], *record;
        struct cli_args a;
        struct rwerr err;
        size_t n;
        int rc;

        if (parse(&o, options, CLI_NOPTIONS(options), argc, argv, out, errout, &a) == CLI_ARGS_EXIT)
                return a.exit_code;
        if (!o.have_index)
                return cli_usage_error(o.cmd, errout, "--index N is required");
        if ((rc = verify_for_proof(&o, &r, errout)) != CLI_EXIT_OK)
                return rc;
        if (o.index >= r.last.size) {
                fprintf(errout,
                        "relaywatch audit prove: record %" PRIu64 " is not covered by the "
                        "last checkpoint (size %" PRIu64 "); wait for the next one\n",
                        o.index, r.last.size);
                audit_verify_release(&r);
                return 2;
        }
        src.leaf = (const unsigned char(*)[AUDIT_HASH_BYTES])r.leaves;
        src.n = r.records;
        if (audit_tree_inclusion_proof(audit_tree_range_leaves, &src, o.index, r.last.size, proof,
                                       &n, &err) != RW_OK ||
            (record = read_record(&o, o.index, errout)) == NULL) {
                fprintf(errout, "relaywatch audit prove: %s\n", "cannot build the proof");
                audit_verify_release(&r);
                return CLI_EXIT_FAILURE;
        }
        (void)sodium_bin2base64(root, sizeof root, r.last.root, sizeof r.last.root, B64);
        if (o.json) {
                cJSON *j = cJSON_CreateObject();

                cJSON_AddNumberToObject(j, "index", (double)o.index);
                cJSON_AddStringToObject(j, "record", record);
                cJSON_AddNumberToObject(j, "tree_size", (double)r.last.size);
                cJSON_AddStringToObject(j, "root", root);
                cJSON_AddStringToObject(j, "checkpoint", r.last_note);
                cJSON_AddItemToObject(j, "proof", proof_array(proof, n));
                print_json(j, out);
        } else {
                size_t i;

                fprintf(out, "record %" PRIu64 ": %s\ntree size %" PRIu64 ", root %s\n", o.index,
                        record, r.last.size, root);
                for (i = 0; i < n; i++) {
                        char b64[48];

                        (void)sodium_bin2base64(b64, sizeof b64, proof[i], AUDIT_HASH_BYTES, B64);
                        fprintf(out, "proof %zu: %s\n", i, b64);
                }
                fprintf(out, "checkpoint:\n%s", r.last_note);
        }
        free(record);
        audit_verify_release(&r);
        return CLI_EXIT_OK;
}

static int cmd_consistency(int argc, char **argv, FILE *out, FILE *errout)
{
        static const struct cli_option options[] = {
                {"from", 'f', "SIZE"},   {"to", 't', "SIZE"},         CLI_OPTION_CONFIG,
                {"dir", OPT_DIR, "DIR"}, {"pubkey", OPT_PUBKEY, "F"}, {"json", OPT_JSON, NULL},
        };
        struct audit_opts o = {.cmd = &consistency_command};
        struct audit_verify_result r;
        struct audit_tree_leaves src;
        unsigned char proof[AUDIT_PROOF_MAX][AUDIT_HASH_BYTES], from_root[32], to_root[32];
        char b64_from[48], b64_to[48];
        const char *note;
        struct cli_args a;
        struct rwerr err;
        uint64_t to;
        size_t n, i;
        int rc;

        if (parse(&o, options, CLI_NOPTIONS(options), argc, argv, out, errout, &a) == CLI_ARGS_EXIT)
                return a.exit_code;
        if (!o.have_from)
                return cli_usage_error(o.cmd, errout, "--from SIZE is required");
        if ((rc = verify_for_proof(&o, &r, errout)) != CLI_EXIT_OK)
                return rc;
        to = o.have_to ? o.to : r.last.size;
        if ((note = audit_verify_note_at(&r, to)) == NULL) {
                fprintf(errout,
                        "relaywatch audit consistency: no checkpoint of the log covers "
                        "exactly %" PRIu64 " records, so there is no signed root to prove "
                        "against; give --to the size of a checkpoint (the last is %" PRIu64 ")\n",
                        to, r.last.size);
                audit_verify_release(&r);
                return 2;
        }
        if (o.from > to || to > r.records) {
                fprintf(errout,
                        "relaywatch audit consistency: from %" PRIu64 " to %" PRIu64
                        ": sizes must satisfy 1 <= from <= to <= %" PRIu64 " (the log's records)\n",
                        o.from, to, r.records);
                audit_verify_release(&r);
                return CLI_EXIT_USAGE;
        }
        src.leaf = (const unsigned char(*)[AUDIT_HASH_BYTES])r.leaves;
        src.n = r.records;
        if (audit_tree_consistency_proof(audit_tree_range_leaves, &src, o.from, to, proof, &n,
                                         &err) != RW_OK ||
            audit_tree_range_leaves(&src, 0, o.from, from_root, &err) != RW_OK ||
            audit_tree_range_leaves(&src, 0, to, to_root, &err) != RW_OK) {
                fprintf(errout, "relaywatch audit consistency: %s\n", err.msg);
                audit_verify_release(&r);
                return CLI_EXIT_FAILURE;
        }
        (void)sodium_bin2base64(b64_from, sizeof b64_from, from_root, 32, B64);
        (void)sodium_bin2base64(b64_to, sizeof b64_to, to_root, 32, B64);
        if (o.json) {
                cJSON *j = cJSON_CreateObject();

                cJSON_AddNumberToObject(j, "from", (double)o.from);
                cJSON_AddStringToObject(j, "from_root", b64_from);
                cJSON_AddNumberToObject(j, "to", (double)to);
                cJSON_AddStringToObject(j, "to_root", b64_to);
                cJSON_AddStringToObject(j, "checkpoint", note);
                cJSON_AddItemToObject(j, "proof", proof_array(proof, n));
                print_json(j, out);
        } else {
                fprintf(out, "from %" PRIu64 " (root %s) to %" PRIu64 " (root %s)\n", o.from,
                        b64_from, to, b64_to);
                for (i = 0; i < n; i++) {
                        char b64[48];

                        (void)sodium_bin2base64(b64, sizeof b64, proof[i], AUDIT_HASH_BYTES, B64);
                        fprintf(out, "proof %zu: %s\n", i, b64);
                }
                fprintf(out, "checkpoint:\n%s", note);
        }
        audit_verify_release(&r);
        return CLI_EXIT_OK;
}

int cmd_audit(int argc, char **argv, FILE *out, FILE *errout)
{
        const struct cli_command *cmd = &cmd_audit_command;

        if (argc < 2)
                return cli_usage_error(cmd, errout,
                                       "a subcommand is required: verify, prove, consistency, "
                                       "checkpoint or witness");
        if (strcmp(argv[1], "verify") == 0)
                return cmd_verify(argc - 1, argv + 1, out, errout);
        if (strcmp(argv[1], "prove") == 0)
                return cmd_prove(argc - 1, argv + 1, out, errout);
        if (strcmp(argv[1], "consistency") == 0)
                return cmd_consistency(argc - 1, argv + 1, out, errout);
        if (strcmp(argv[1], "witness") == 0)
                return cmd_audit_witness(argc - 1, argv + 1, out, errout);
        if (strcmp(argv[1], "checkpoint") == 0)
                return cmd_audit_checkpoint(argc - 1, argv + 1, out, errout);
        if (cli_is_help(argv[1])) {
                cli_print_help(cmd, out);
                return CLI_EXIT_OK;
        }
        return cli_usage_error(cmd, errout,
                               "unknown subcommand '%s'; there are verify, prove, consistency, "
                               "checkpoint and witness",
                               argv[1]);
}
