/*
 * cmd_control: `relaywatch control tail`, the operator's view of the
 * relayer's control stream, every entry checked as a relayer checks it.
 *
 *   relaywatch control tail [-c FILE] [--count COUNT] [--follow] [--json]
 *
 * Prints the last N entries of [control] stream (default 20), oldest first,
 * and with --follow keeps printing new ones (XREAD BLOCK) until SIGINT or
 * SIGTERM. Each entry is verified with control_msg_check exactly as a
 * consumer does: a HALT may be signed by a watchdog key ([control]
 * watchdog_keys, default signing_key.pub) or an operator key
 * (operator_keys), a RESUME only by an operator key. The result is
 * "verified: watchdog key <key_id>", "verified: operator key <key_id>" or
 * "REJECTED: <why>"; the fields of a rejected entry are shown for what
 * they claim, never trusted. --json prints one JSON object per entry per
 * line: entry_id, verified, key_role, key_id, error, msg (the msg parsed,
 * null when it is not JSON).
 */
#ifndef RELAYWATCH_CMD_CONTROL_H
#define RELAYWATCH_CMD_CONTROL_H

#include <stdio.h>

#include "cli_args.h"

extern const struct cli_command cmd_control_command;

#define CMD_CONTROL_REJECTED 1 /* exit: an entry printed was rejected */
#define CMD_CONTROL_UNUSABLE 2 /* exit: Redis or the configuration could not be used */

/*
 * argv[0] is "control", argv[1] the subcommand (`tail`). Exit 0 every entry printed
 * verified, 1 one was rejected, 2 Redis or the configuration could not be
 * used (the message says which), 64 a usage error.
 */
int cmd_control(int argc, char **argv, FILE *out, FILE *errout);

#endif
