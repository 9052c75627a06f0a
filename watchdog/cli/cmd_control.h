/*
 * cmd_control: `relaywatch control tail`, the operator's view of the
 * relayer's control stream, every entry judged as a relayer judges it.
 *
 *   relaywatch control tail [-c FILE] [--count COUNT] [--follow] [--json]
 *
 * Prints the last N entries of [control] stream (default 20), oldest first,
 * and with --follow keeps printing new ones (XREAD BLOCK) until SIGINT or
 * SIGTERM. The entries are judged by a control_state (control_state.h)
 * fed like a relayer that joined from the start: the halt key, then every
 * entry of the stream in order (those before the last N silently), so
 * replay detection knows the whole history. Each entry printed ends with
 * its outcome: "verified: ROLE key KEY_ID, HALT in force" or "..., RESUME
 * lifted N HALTs", "REJECTED REJECTION: DETAIL" with the names of
 * docs/PROTOCOL.md section 6.1, and for a copy "REJECTED replay: REPLAY of
 * entry ID: ...". The fields of a rejected entry are shown for what they
 * claim, never trusted, escaped for the terminal.
 *
 * --json prints one object per entry per line: entry_id, verified,
 * outcome ("halt", "resume", "reject"), rejection (its name or null),
 * key_role and key_id (of the key that verified the signature, also on a
 * later rejection; null when none did), error, replay_of, lifted (an
 * accepted RESUME: how many HALTs it took out of force), msg (the msg
 * parsed, only when its bytes passed the strict JSON checks: accepted, or
 * rejected after duplicate_key) and msg_escaped (otherwise: the msg's bytes
 * with a backslash doubled and every byte that is not printable ASCII as
 * \xNN; null when there is no msg field). The output is always valid
 * UTF-8 JSON without a duplicate name.
 */
#ifndef RELAYWATCH_CMD_CONTROL_H
#define RELAYWATCH_CMD_CONTROL_H

#include <stdio.h>

#include "cli_args.h"

extern const struct cli_command cmd_control_command;

#define CMD_CONTROL_REJECTED 1 /* exit: an entry printed was rejected */
#define CMD_CONTROL_UNUSABLE 2 /* exit: Redis or the configuration could not be used */

/*
 * argv[0] is "control", argv[1] the subcommand (`tail`). Exit 0 every entry
 * printed verified, 1 one was rejected (a replay too), 2 Redis or the
 * configuration could not be used (the message says which), 64 a usage
 * error.
 */
int cmd_control(int argc, char **argv, FILE *out, FILE *errout);

#endif
