/*
 * cmd_audit_checkpoint: `relaywatch audit checkpoint`, the latest signed
 * checkpoint of the audit log as the watchdog published it outside the
 * log's files: in the ledger database (relaywatch_state.audit_checkpoints)
 * or in Redis (HGET <[audit] redis_key> checkpoint). It prints the signed
 * note exactly, so an auditor can keep it and later check the log extends
 * it (`relaywatch audit verify --checkpoint NOTE`).
 */
#ifndef RELAYWATCH_CMD_AUDIT_CHECKPOINT_H
#define RELAYWATCH_CMD_AUDIT_CHECKPOINT_H

#include <stdio.h>

#include "cli_args.h"

extern const struct cli_command cmd_audit_checkpoint_command;

/*
 * argv[0] is "checkpoint" (called by `relaywatch audit`). Exit status: 0
 * the note printed; 2 none published, or the database or Redis could not
 * be read (the message names which and why); 64 usage.
 */
int cmd_audit_checkpoint(int argc, char **argv, FILE *out, FILE *errout);

#endif
