/*
 * cmd_audit_witness: `relaywatch audit witness`, one poll of a witness
 * (audit_witness.h) for an auditor or a cron job: fetch the checkpoint
 * another watchdog publishes in Redis, check it is signed by the log's key
 * (followed from the pinned genesis key) and consistent with the last one
 * this witness accepted, keep it, and publish the cosigned note back.
 */
#ifndef RELAYWATCH_CMD_AUDIT_WITNESS_H
#define RELAYWATCH_CMD_AUDIT_WITNESS_H

#include <stdio.h>

#include "cli_args.h"

/*
 * argv[0] is "witness". Exit 0 accepted or unchanged (and cosigned), 1
 * inconsistent (AUDIT_LOG_INCONSISTENT: both checkpoints printed), 2 cannot
 * tell (no proof yet, Redis down, nothing published, the cosignature not
 * stored), 64 usage.
 */
int cmd_audit_witness(int argc, char **argv, FILE *out, FILE *errout);

#endif
