#include "cmd_db.h"

#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "conninfo.h"
#include "dbconn.h"
#include "migrate.h"
#include "rwerr.h"

#define CONTRACT_MAX_BYTES ((size_t)1 << 20)

static const char migrate_usage[] =
        "Usage: relaywatch db migrate [--database-url URL] [--contract FILE | --no-contract]\n"
        "\n"
        "Applies relaywatch's migrations (its own state tables and roles) and the\n"
        "contract views it reads the ledger through, in one transaction.\n"
        "\n"
        "  --database-url URL  the ledger database, as a role that may create schemas\n"
        "                      and roles (default: $RELAYWATCH_DATABASE_URL, which is\n"
        "                      better for a URL with a password: ps shows arguments)\n"
        "  --contract FILE     your contract for your relayer schema, instead of the\n"
        "                      reference contract built in (see sql/README.md)\n"
        "  --no-contract       leave the contract as it is\n";

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
        struct rwerr err;
        int i, rc = CLI_EXIT_FAILURE;
        size_t k;

        for (i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--database-url") == 0 && i + 1 < argc) {
                        url = argv[++i];
                } else if (strcmp(argv[i], "--contract") == 0 && i + 1 < argc) {
                        contract_file = argv[++i];
                } else if (strcmp(argv[i], "--no-contract") == 0) {
                        opt.skip_contract = 1;
                } else {
                        fprintf(errout, "relaywatch db migrate: unexpected argument '%s'\n%s",
                                argv[i], migrate_usage);
                        return CLI_EXIT_USAGE;
                }
        }
        if (url == NULL || url[0] == '\0') {
                fprintf(errout, "relaywatch db migrate: no database: give --database-url or set "
                                "RELAYWATCH_DATABASE_URL\n");
                return CLI_EXIT_USAGE;
        }
        if (contract_file != NULL && opt.skip_contract) {
                fprintf(errout,
                        "relaywatch db migrate: --contract and --no-contract exclude each other\n");
                return CLI_EXIT_USAGE;
        }
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
        fprintf(errout, "relaywatch db: %s\nUsage: relaywatch db migrate [OPTIONS]\n",
                argc < 2 ? "missing subcommand" : "unknown subcommand");
        return CLI_EXIT_USAGE;
}
