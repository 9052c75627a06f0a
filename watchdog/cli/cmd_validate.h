/*
 * cmd_validate: `relaywatch validate`, the operator's manual check and the
 * gate before a resume. One cycle (cycle_validate in cycle.h) that reports
 * instead of acting (cli_report.h prints it).
 */
#ifndef RELAYWATCH_CMD_VALIDATE_H
#define RELAYWATCH_CMD_VALIDATE_H

#include <stdio.h>

#include "cli_args.h"

extern const struct cli_command cmd_validate_command;

/* Exit 0 valid, 1 violated, 2 could not evaluate; 64 for a usage error. */
int cmd_validate(int argc, char **argv, FILE *out, FILE *errout);

#endif
