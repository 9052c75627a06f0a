#include "cmd_runbook.h"

#include <ctype.h>
#include <string.h>

#include "cli.h"
#include "embedded_file.h"

#define RUNBOOK_NAME_MAX 64

static const char help[] =
        "Prints the runbook of alert NAME (SUPPLY_MISMATCH, HALT_NOT_ACKNOWLEDGED, ...):\n"
        "what it means, what relaywatch has already done, how to investigate, and how\n"
        "to resume. These are the runbooks compiled into this binary, the same that\n"
        "every alert, page and log line links to. Without NAME, lists them.\n";

const struct cli_command cmd_runbook_command = {"runbook", "relaywatch runbook [NAME]",
                                                "print the runbook of an alert, or list them", help,
                                                cmd_runbook};

/* "supply_mismatch" or "SUPPLY_MISMATCH.md" -> "SUPPLY_MISMATCH.md"; 0 when it cannot be one. */
static int file_name(const char *name, char out[RUNBOOK_NAME_MAX])
{
        size_t n = strlen(name), i;

        if (n > 3 && strcmp(name + n - 3, ".md") == 0)
                n -= 3;
        if (n == 0 || n + sizeof ".md" > RUNBOOK_NAME_MAX)
                return 0;
        for (i = 0; i < n; i++) {
                if (!isalnum((unsigned char)name[i]) && name[i] != '_')
                        return 0;
                out[i] = (char)toupper((unsigned char)name[i]);
        }
        memcpy(out + n, ".md", sizeof ".md");
        return 1;
}

/* Every runbook's alert name, one per line ("README" is the index, not an alert). */
static void list(FILE *out)
{
        size_t i;

        for (i = 0; i < http_runbook_files_count; i++) {
                const char *name = http_runbook_files[i].name;
                size_t n = strlen(name);

                if (strcmp(name, "README.md") != 0 && n > 3)
                        fprintf(out, "%.*s\n", (int)(n - 3), name);
        }
}

int cmd_runbook(int argc, char **argv, FILE *out, FILE *errout)
{
        char name[RUNBOOK_NAME_MAX];
        const struct embedded_file *f;
        struct cli_args a;
        int opt;

        cli_args_init(&a, &cmd_runbook_command, NULL, 0, argc, argv, out, errout);
        a.max_positional = 1;
        while ((opt = cli_args_next(&a)) > 0)
                ;
        if (opt == CLI_ARGS_EXIT)
                return a.exit_code;
        if (a.next >= argc) {
                list(out);
                return CLI_EXIT_OK;
        }
        if (!file_name(argv[a.next], name))
                return cli_usage_error(&cmd_runbook_command, errout,
                                       "'%s' is not an alert name (letters, digits and _)",
                                       argv[a.next]);
        f = embedded_file_find(http_runbook_files, http_runbook_files_count, name);
        if (f == NULL) {
                cli_error(&cmd_runbook_command, errout,
                          "no runbook for '%s'; the runbooks there are (`relaywatch runbook`):",
                          argv[a.next]);
                list(errout);
                return CLI_EXIT_FAILURE;
        }
        if (fwrite(f->text, 1, f->len, out) != f->len)
                return CLI_EXIT_FAILURE;
        return CLI_EXIT_OK;
}
