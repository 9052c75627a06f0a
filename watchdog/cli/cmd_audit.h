/*
 * cmd_audit: `relaywatch audit verify | prove | consistency`, the auditor's
 * side of the audit log (audit_verify.h): check a log from its files, print
 * one record with its inclusion proof, or a consistency proof between two
 * sizes, against a checkpoint signed by the log's key.
 */
#ifndef RELAYWATCH_CMD_AUDIT_H
#define RELAYWATCH_CMD_AUDIT_H

#include <stdio.h>

#include "cli_args.h"

extern const struct cli_command cmd_audit_command;

/* verify: 0 intact, 1 tampered, 2 cannot tell, 64 usage. prove/consistency: 0, 1 or 2 likewise. */
int cmd_audit(int argc, char **argv, FILE *out, FILE *errout);

#endif
