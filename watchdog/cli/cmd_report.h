/*
 * cmd_report: `relaywatch report`, what paging did over a window, from the
 * alert history (watchdog/alert/alert_history.h): the alerts opened and
 * resolved with their durations, those still open, updates and re-pages,
 * halts lifted and resumes, silences, delivery failures and the last
 * cycle's Tier 3 figures. The same report the daemon sends every day at
 * [alerting] report_at.
 *
 *   relaywatch report [--since DURATION] [--json] [-c FILE]
 */
#ifndef RELAYWATCH_CMD_REPORT_H
#define RELAYWATCH_CMD_REPORT_H

#include <stdio.h>

#include "cli_args.h"

extern const struct cli_command cmd_report_command;

/*
 * Exit 0 the report is printed and no alert is open at its end; 1 printed,
 * and some alert is still open; 2 the configuration or the history could
 * not be read (what could be read is still printed); 64 a usage error.
 */
int cmd_report(int argc, char **argv, FILE *out, FILE *errout);

#endif
