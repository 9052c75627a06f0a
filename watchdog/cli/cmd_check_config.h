/*
 * cmd_check_config: `relaywatch check-config [-c FILE]`, which reads and
 * validates a configuration file without connecting to anything.
 */
#ifndef RELAYWATCH_CMD_CHECK_CONFIG_H
#define RELAYWATCH_CMD_CHECK_CONFIG_H

#include <stdio.h>

#include "cli_args.h"

extern const struct cli_command cmd_check_config_command;

/*
 * argv[0] is "check-config". On success prints a summary (no URL, no
 * password) to `out` and returns 0; otherwise every problem of the file
 * ("FILE:LINE: message") goes to `errout` and it returns 1. 64 for a bad
 * command line.
 */
int cmd_check_config(int argc, char **argv, FILE *out, FILE *errout);

#endif
