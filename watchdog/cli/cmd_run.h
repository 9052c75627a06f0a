/* `relaywatch run`: the supervisor (supervisor.h). */
#ifndef RELAYWATCH_CMD_RUN_H
#define RELAYWATCH_CMD_RUN_H

#include <stdio.h>

int cmd_run(int argc, char **argv, FILE *out, FILE *errout);

#endif
