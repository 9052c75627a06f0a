/*
 * cmd_silence: `relaywatch silence`, the operator's silences
 * (watchdog/alert/silence.h) in STATE_DIR/silences.json:
 *
 *   relaywatch silence add NAME[:SUBJECT] --for DURATION --reason TEXT [-c FILE]
 *   relaywatch silence list [--json] [-c FILE]
 *   relaywatch silence expire ID [-c FILE]
 *
 * A silence holds the pages of one alert (every subject, or one) for 1
 * minute to 7 days; a Tier 1 HALT is published whatever is silenced. Adding
 * and expiring are also written to the alert history, for the report.
 */
#ifndef RELAYWATCH_CMD_SILENCE_H
#define RELAYWATCH_CMD_SILENCE_H

#include <stdio.h>

#include "cli_args.h"

extern const struct cli_command cmd_silence_command;

/*
 * argv[0] is "silence", argv[1] the subcommand. Exit 0 done (add: added,
 * list: listed, expire: ended); 1 refused (add: SILENCE_MAX silences in
 * force already; expire: no such silence in force); 2 the configuration or
 * the silences file could not be read or written; 64 a usage error.
 */
int cmd_silence(int argc, char **argv, FILE *out, FILE *errout);

#endif
