/* `relaywatch run`: the supervisor (supervisor.h). */
#ifndef RELAYWATCH_CMD_RUN_H
#define RELAYWATCH_CMD_RUN_H

#include <stdio.h>

#include "cli_args.h"

extern const struct cli_command cmd_run_command;

/* Exit 0 stopped by a signal (or after --max-cycles), 2 and 1 as supervisor_run says. */
int cmd_run(int argc, char **argv, FILE *out, FILE *errout);

#endif
