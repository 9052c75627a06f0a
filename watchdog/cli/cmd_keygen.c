#include "cmd_keygen.h"

#include <string.h>

#include "cli.h"
#include "rwerr.h"
#include "signing_key.h"

static const char help[] =
        "Generates an Ed25519 key pair for signing control messages: the secret key\n"
        "in FILE (mode 0600) and the public key, for the relayer, in FILE.pub.\n"
        "Never overwrites an existing file.\n"
        "\n"
        "  -o, --out FILE  where to write the secret key\n";

const struct cli_command cmd_keygen_command = {
        "keygen", "relaywatch keygen --out FILE",
        "generate an Ed25519 key pair for signing control messages (FILE, FILE.pub)", help,
        cmd_keygen};

int cmd_keygen(int argc, char **argv, FILE *out, FILE *errout)
{
        static const struct cli_option options[] = {{"out", 'o', "FILE"}};
        char pub_path[4096];
        const char *path = NULL;
        struct signing_key *key = NULL;
        struct verify_key vk;
        struct cli_args a;
        struct rwerr err;
        int opt;

        cli_args_init(&a, &cmd_keygen_command, options, CLI_NOPTIONS(options), argc, argv, out,
                      errout);
        while ((opt = cli_args_next(&a)) > 0)
                path = a.value; /* --out is its only option */
        if (opt == CLI_ARGS_EXIT)
                return a.exit_code;
        if (path == NULL)
                return cli_usage_error(&cmd_keygen_command, errout, "--out FILE is required");
        if ((size_t)snprintf(pub_path, sizeof pub_path, "%s.pub", path) >= sizeof pub_path)
                return cli_usage_error(&cmd_keygen_command, errout, "%s: file name too long", path);

        if (signing_key_generate(path, &err) != RW_OK) {
                fprintf(errout, "relaywatch keygen: %s\n", err.msg);
                return CLI_EXIT_FAILURE;
        }
        /* Read both back: what was written is what the watchdog and the relayer will load. */
        if (signing_key_load(path, &key, &err) != RW_OK ||
            verify_key_load(pub_path, &vk, &err) != RW_OK) {
                fprintf(errout, "relaywatch keygen: reading the new key back: %s\n", err.msg);
                signing_key_free(key);
                return CLI_EXIT_FAILURE;
        }
        if (strcmp(key->pub.key_id, vk.key_id) != 0) {
                fprintf(errout, "relaywatch keygen: %s and %s do not hold the same key\n", path,
                        pub_path);
                signing_key_free(key);
                return CLI_EXIT_FAILURE;
        }
        signing_key_free(key);
        fprintf(out, "secret key: %s (mode 0600; keep it on the watchdog host only)\n", path);
        fprintf(out, "public key: %s (give this file to the relayer)\n", pub_path);
        fprintf(out, "key_id: %s\n", vk.key_id);
        return CLI_EXIT_OK;
}
