/*
 * cmd_runbook: `relaywatch runbook [NAME]`, which prints the runbook of an
 * alert (the copy compiled into the binary, the same the HTTP endpoint
 * serves), or lists the runbooks there are.
 */
#ifndef RELAYWATCH_CMD_RUNBOOK_H
#define RELAYWATCH_CMD_RUNBOOK_H

#include <stdio.h>

#include "cli_args.h"

extern const struct cli_command cmd_runbook_command;

/*
 * argv[0] is "runbook". With NAME (an alert name, "SUPPLY_MISMATCH", with
 * or without ".md", any case) prints that runbook to `out` and returns 0;
 * an unknown name is reported to `errout` with the names there are, 1.
 * Without NAME lists every runbook, one name per line. 64 for a bad
 * command line.
 */
int cmd_runbook(int argc, char **argv, FILE *out, FILE *errout);

#endif
