#include "cmd_db.h"

#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "conninfo.h"
#include "dbconn.h"
#include "migrate.h"
#include "rwerr.h"

#define CONTRACT_MAX_BYTES ((size_t)1 << 20)

static const char migrate_help[] =
        "Applies relaywatch's migrations (its own state tables and roles) and the\n"
        "contract views it reads the ledger through, in one transaction.\n"
        "\n"
        "  --database-url URL  the ledger database, as a role that may create schemas\n"
        "                      and roles (default: $RELAYWATCH_DATABASE_URL, which is\n"
        "                      better for a URL with a password: ps shows arguments)\n"
        "  --contract FILE     your contract for your relayer schema, instead of the\n"
        "                      reference contract built in (see sql/README.md)\n"
        "  --no-contract       leave the contract as it is\n";

static int migrate(int argc, char **argv, FILE *out, FILE *errout);

static const struct cli_command migrate_command = {
        "db migrate",
        "relaywatch db migrate [--database-url URL] [--contract FILE | --no-contract]",
        "apply relaywatch's migrations and contract views to the ledger database", migrate_help,
        migrate};

const struct cli_command cmd_db_command = {
        "db", "relaywatch db migrate [--database-url URL] [--contract FILE | --no-contract]",
        "apply relaywatch's migrations and contract views to the ledger database", migrate_help,
        cmd_db};

/* Reads a whole file of at most CONTRACT_MAX_BYTES; caller frees. */
static char *read_file(const char *path, struct rwerr *err)
{
        FILE *f = fopen(path, "rb");
        char *text = NULL;
        size_t len;

        if (f == NULL) {
                rwerr_set(err, RW_ERR_IO, "cannot open contract file %s", path);
                return NULL;
        }
        text = malloc(CONTRACT_MAX_BYTES + 1);
        if (text == NULL) {
                rwerr_set(err, RW_ERR_NOMEM, "out of memory reading %s", path);
        } else {
                len = fread(text, 1, CONTRACT_MAX_BYTES + 1, f);
                if (ferror(f) || len > CONTRACT_MAX_BYTES || memchr(text, '\0', len) != NULL) {
                        rwerr_set(err, RW_ERR_INVALID,
                                  "%s: unreadable, larger than %zu bytes, or binary", path,
                                  CONTRACT_MAX_BYTES);
                        free(text);
                        text = NULL;
                } else {
                        text[len] = '\0';
                }
        }
        fclose(f);
        return text;
}

static int migrate(int argc, char **argv, FILE *out, FILE *errout)
{
        struct migrate_options opt = {NULL, NULL, 0};
        struct dbconn_config cfg = {0};
        struct migrate_report report;
        struct dbconn *conn = NULL;
        const char *url = getenv("RELAYWATCH_DATABASE_URL");
        const char *contract_file = NULL;
        char *contract = NULL;
        enum { OPT_URL = CLI_OPT_LONG, OPT_CONTRACT, OPT_NO_CONTRACT };
        static const struct cli_option options[] = {
                {"database-url", OPT_URL, "URL"},
                {"contract", OPT_CONTRACT, "FILE"},
                {"no-contract", OPT_NO_CONTRACT, NULL},
        };
        struct cli_args a;
        struct rwerr err;
        int key, rc = CLI_EXIT_FAILURE;
        size_t k;

        cli_args_init(&a, &migrate_command, options, CLI_NOPTIONS(options), argc, argv, out,
                      errout);
        while ((key = cli_args_next(&a)) > 0) {
                if (key == OPT_URL)
                        url = a.value;
                else if (key == OPT_CONTRACT)
                        contract_file = a.value;
                else
                        opt.skip_contract = 1;
        }
        if (key == CLI_ARGS_EXIT)
                return a.exit_code;
        if (url == NULL || url[0] == '\0')
                return cli_usage_error(&migrate_command, errout,
                                       "no database: give --database-url or set "
                                       "RELAYWATCH_DATABASE_URL");
        if (contract_file != NULL && opt.skip_contract)
                return cli_usage_error(&migrate_command, errout,
                                       "--contract and --no-contract exclude each other");
        if (contract_file != NULL) {
                if ((contract = read_file(contract_file, &err)) == NULL)
                        goto fail;
                opt.contract_sql = contract;
                opt.contract_name = contract_file;
        }
        cfg.conninfo = url;
        cfg.name = "ledger";
        cfg.statement_timeout_ms = 600000; /* migrations may take a while */
        if ((conn = dbconn_new(&cfg, &err)) == NULL || dbconn_ensure(conn, &err) != RW_OK)
                goto fail;
        if (migrate_run(dbconn_pg(conn), &opt, &report, &err) != RW_OK)
                goto fail;
        for (k = 0; k < report.applied && k < MIGRATE_MAX_REPORTED; k++)
                fprintf(out, "applied migration %s\n", report.applied_names[k]);
        fprintf(out, "%zu migration(s) applied, %zu already in place\n", report.applied,
                report.already);
        if (report.contract_applied)
                fprintf(out, "contract %s applied (sha256 %s)\n", report.contract_name,
                        report.contract_sha256);
        else
                fprintf(out, "contract left as it was (--no-contract)\n");
        rc = CLI_EXIT_OK;
        goto out;
fail:
        fprintf(errout, "relaywatch db migrate: %s\n", err.msg);
out:
        dbconn_free(conn);
        free(contract);
        return rc;
}

int cmd_db(int argc, char **argv, FILE *out, FILE *errout)
{
        if (argc >= 2 && strcmp(argv[1], "migrate") == 0)
                return migrate(argc - 1, argv + 1, out, errout);
        if (argc >= 2 && cli_is_help(argv[1])) {
                cli_print_help(&cmd_db_command, out);
                return CLI_EXIT_OK;
        }
        if (argc < 2)
                return cli_usage_error(&cmd_db_command, errout,
                                       "missing subcommand; the one there is: migrate");
        return cli_usage_error(&cmd_db_command, errout,
                               "unknown subcommand '%s'; the one there is: migrate", argv[1]);
}
