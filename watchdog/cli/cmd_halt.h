/*
 * cmd_halt: `relaywatch halt`, a manual HALT on the relayer's control
 * stream, signed with the watchdog's key (or --key FILE).
 */
#ifndef RELAYWATCH_CMD_HALT_H
#define RELAYWATCH_CMD_HALT_H

#include <stdio.h>

#include "cli_args.h"

extern const struct cli_command cmd_halt_command;

/*
 * Exit 0 the HALT is on the stream (or a manual halt is in force already),
 * 1 it is not (Redis unreachable: it waits in the outbox; or a failure),
 * 64 for a usage error.
 */
int cmd_halt(int argc, char **argv, FILE *out, FILE *errout);

#endif
