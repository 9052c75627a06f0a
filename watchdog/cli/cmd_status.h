/*
 * cmd_status: `relaywatch status`, what an on-call engineer asks first:
 * is the relayer halted, why and since when, did it acknowledge, what did
 * the last cycle see, and is the halt path itself healthy.
 *
 * It reads STATE_DIR/status.json (written by `relaywatch run` after every
 * cycle) and STATE_DIR/halt-state.json, and asks Redis for the halt key,
 * the open halts, the heartbeat and the relayer's consumer group; every
 * message it reads there is verified before it is believed.
 */
#ifndef RELAYWATCH_CMD_STATUS_H
#define RELAYWATCH_CMD_STATUS_H

#include <stdio.h>

#include "cli_args.h"

extern const struct cli_command cmd_status_command;

#define CMD_STATUS_FILE "status.json"

/*
 * Exit 0 not halted and healthy; 1 halted; 2 cannot tell: a state file
 * unreadable, status.json missing or stale, Redis unreachable, the halt
 * path down, or another problem listed; 64 a usage error.
 */
int cmd_status(int argc, char **argv, FILE *out, FILE *errout);

#endif
