/*
 * cli_setup: what several commands do before their own work, done one way:
 *
 *   the configuration  -c FILE, else $RELAYWATCH_CONFIG, else
 *                      CONFIG_DEFAULT_PATH; every problem of the file as
 *                      "FILE:LINE: message", then "relaywatch CMD: SUMMARY"
 *   the key ring       [control] watchdog_keys and operator_keys, and the
 *                      secret key the command signs with (keyring.h)
 *   the Redis link     [redis] url with [control] redis_timeout_ms
 *                      (redisconn.h), connected at once
 *
 * A command keeps one struct cli_setup on its stack and releases it with
 * cli_setup_release in every case. Only the configuration step reports
 * its failure itself (every command says it the same way); the others
 * return the message, which each command words and weighs (exit status)
 * its own way.
 */
#ifndef RELAYWATCH_CLI_SETUP_H
#define RELAYWATCH_CLI_SETUP_H

#include <stdio.h>

#include <hiredis/hiredis.h>

#include "cli_args.h"
#include "config.h"
#include "keyring.h"
#include "redisconn.h"
#include "rwerr.h"

struct cli_setup {
        const struct cli_command *cmd;
        FILE *errout;
        struct config *cfg;      /* after cli_setup_config; owned */
        struct keyring keys;     /* after cli_setup_keys; owned */
        struct redisconn *redis; /* after cli_setup_redis; owned */
};

/* Starts an empty setup for `cmd`, reporting on `errout` (both borrowed). */
void cli_setup_init(struct cli_setup *s, const struct cli_command *cmd, FILE *errout);

/*
 * Loads the configuration (`given`: the -c value, or NULL) into s->cfg.
 * RW_OK, or an error already reported (see above).
 */
int cli_setup_config(struct cli_setup *s, const char *given) __attribute__((warn_unused_result));

/*
 * Loads s->keys from s->cfg's [control] watchdog_keys and operator_keys,
 * and the secret key `signing_key` (NULL: none), with keyring_load's
 * `skip` and `arg` (NULL: the first file that fails fails). Messages name
 * the role and the file; not reported.
 */
int cli_setup_keys(struct cli_setup *s, const char *signing_key, keyring_skip_fn skip, void *arg,
                   struct rwerr *err) __attribute__((warn_unused_result));

/* Loads only the secret key `path` into s->keys.signing: a command that signs, verifies nothing. */
int cli_setup_signing_key(struct cli_setup *s, const char *path, struct rwerr *err)
        __attribute__((warn_unused_result));

/*
 * Whether s->cfg names Redis ([redis] url): RW_OK, or RW_ERR_INVALID
 * reported ("FILE has no [redis] url: ..."), for a command that cannot
 * work without it and says so before anything else.
 */
int cli_setup_require_redis(struct cli_setup *s) __attribute__((warn_unused_result));

/*
 * Opens s->redis on s->cfg and connects now: the connection (borrowed from
 * s->redis), or NULL with `err` saying why ("FILE has no [redis] url: ...",
 * or the link's problem, naming the server). Not reported.
 */
redisContext *cli_setup_redis(struct cli_setup *s, struct rwerr *err);

/* Frees what the setup holds; the struct may be set up again after. */
void cli_setup_release(struct cli_setup *s);

#endif
