#include "cmd_keygen.h"

#include <stdarg.h>
#include <string.h>

#include "cli.h"
#include "rwerr.h"
#include "signing_key.h"

static const char usage[] =
        "Usage: relaywatch keygen --out FILE\n"
        "\n"
        "Generates an Ed25519 key pair for signing control messages: the secret key\n"
        "in FILE (mode 0600) and the public key, for the relayer, in FILE.pub.\n"
        "Never overwrites an existing file.\n"
        "\n"
        "  -o, --out FILE  where to write the secret key\n";

static int usage_error(FILE *errout, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int usage_error(FILE *errout, const char *fmt, ...)
{
        va_list ap;

        fprintf(errout, "relaywatch keygen: ");
        va_start(ap, fmt);
        vfprintf(errout, fmt, ap);
        va_end(ap);
        fprintf(errout, "\n%s", usage);
        return CLI_EXIT_USAGE;
}

int cmd_keygen(int argc, char **argv, FILE *out, FILE *errout)
{
        char pub_path[4096];
        const char *path = NULL;
        struct signing_key *key = NULL;
        struct verify_key vk;
        struct rwerr err;
        int i;

        for (i = 1; i < argc; i++) {
                if (strcmp(argv[i], "-o") != 0 && strcmp(argv[i], "--out") != 0)
                        return usage_error(errout, "unexpected argument '%s'", argv[i]);
                if (i + 1 >= argc || argv[i + 1][0] == '\0')
                        return usage_error(errout, "%s needs a FILE", argv[i]);
                if (path != NULL)
                        return usage_error(errout, "%s: the file is given twice", argv[i]);
                path = argv[++i];
        }
        if (path == NULL)
                return usage_error(errout, "--out FILE is required");
        if ((size_t)snprintf(pub_path, sizeof pub_path, "%s.pub", path) >= sizeof pub_path)
                return usage_error(errout, "%s: file name too long", path);

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
