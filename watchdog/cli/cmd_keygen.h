/*
 * cmd_keygen: `relaywatch keygen --out FILE`, a new Ed25519 key pair for
 * signing control messages (signing_key.h): the secret key in FILE (0600),
 * the public key for the relayer in FILE.pub.
 */
#ifndef RELAYWATCH_CMD_KEYGEN_H
#define RELAYWATCH_CMD_KEYGEN_H

#include <stdio.h>

#include "cli_args.h"

extern const struct cli_command cmd_keygen_command;

/* Exit 0 when the pair was written, 1 when it could not be, 64 for a usage error. */
int cmd_keygen(int argc, char **argv, FILE *out, FILE *errout);

#endif
