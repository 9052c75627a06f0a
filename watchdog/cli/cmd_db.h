/*
 * cmd_db: `relaywatch db ...`, the commands that look after the ledger
 * database (today: `db migrate`).
 */
#ifndef RELAYWATCH_CMD_DB_H
#define RELAYWATCH_CMD_DB_H

#include <stdio.h>

#include "cli_args.h"

extern const struct cli_command cmd_db_command;

/* argv[0] is "db". Returns the process exit code. */
int cmd_db(int argc, char **argv, FILE *out, FILE *errout);

#endif
