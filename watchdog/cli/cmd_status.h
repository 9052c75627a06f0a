/*
 * cmd_status: `relaywatch status`, what an on-call engineer asks first:
 * is the relayer halted, by which HALTs, why and since when, which relayer
 * instances acknowledged them, what did the last cycle see, and is the
 * halt path itself healthy.
 *
 * It reads STATE_DIR/status.json (written by `relaywatch run` after every
 * cycle) and STATE_DIR/halt-state.json, and asks Redis. The control stream
 * is judged by a control_state as a relayer judges it (the halt key, then
 * every entry): every valid HALT in force is shown, whoever signed or wrote
 * it, and every rejected entry is a problem. Each group of [control]
 * consumer_group (one per relayer instance) is checked for existence, one
 * consumer, a live consumer and the protocol versions it announced; each
 * HALT's acknowledgements are read from STREAM:ack:HALT_ID.
 */
#ifndef RELAYWATCH_CMD_STATUS_H
#define RELAYWATCH_CMD_STATUS_H

#include <stdio.h>

#include "cli_args.h"

extern const struct cli_command cmd_status_command;

#define CMD_STATUS_FILE "status.json"

/*
 * Exit 0 not halted and healthy; 1 halted; 2 cannot tell: a state file
 * unreadable, status.json missing or stale, Redis unreachable, no key to
 * verify the stream with, a rejected entry on the stream, the halt path
 * down, or another problem listed; 64 a usage error.
 */
int cmd_status(int argc, char **argv, FILE *out, FILE *errout);

#endif
