/*
 * cmd_alert: `relaywatch alert test`, one clearly marked test alert through
 * each configured route ([alert NAME]), or through the one named, sent at
 * once without retries (alert_send_once), so an operator sees that every
 * receiver works before a real incident needs it.
 *
 *   relaywatch alert test [ROUTE] [-c FILE]
 */
#ifndef RELAYWATCH_CMD_ALERT_H
#define RELAYWATCH_CMD_ALERT_H

#include <stdio.h>

#include "cli_args.h"

extern const struct cli_command cmd_alert_command;

/*
 * argv[0] is "alert", argv[1] the subcommand (`test`). Exit 0 every route
 * tried delivered; 1 some did not; 2 no route is configured or the
 * configuration could not be read; 64 a usage error (an unknown ROUTE: the
 * message lists the routes).
 */
int cmd_alert(int argc, char **argv, FILE *out, FILE *errout);

#endif
