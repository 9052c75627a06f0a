/*
 * cmd_validate: `relaywatch validate`, the operator's manual check and the
 * gate before a resume. One cycle (cycle.h) that reports instead of acting.
 */
#ifndef RELAYWATCH_CMD_VALIDATE_H
#define RELAYWATCH_CMD_VALIDATE_H

#include <stddef.h>
#include <stdio.h>

#include "cycle.h"
#include "rwerr.h"

struct config;

/* Exit 0 valid, 1 violated, 2 could not evaluate; 64 for a usage error. */
int cmd_validate(int argc, char **argv, FILE *out, FILE *errout);

/*
 * One full validate cycle on `cfg` (borrowed), exactly what `relaywatch
 * validate` runs and what `relaywatch resume` runs before it resumes:
 * every check from the deploy blocks, no cursor moved, nothing acted on.
 * Fills *out; release it with cycle_result_release in every case. RW_OK,
 * or an error when the observer cannot be set up or memory ran out (read
 * failures are verdicts, not errors).
 */
int cmd_validate_cycle(const struct config *cfg, struct cycle_result *out, struct rwerr *err)
        __attribute__((warn_unused_result));

/* The table `relaywatch validate` prints, ending in its INVARIANT ... line. */
void cmd_validate_print(const struct cycle_result *r, FILE *out);

/* The enforce-mode Tier 1 checks with `status`, joined by ", ", into out[cap]. */
void cmd_validate_tier1_names(const struct cycle_result *r, enum verdict_status status, char *out,
                              size_t cap);

#endif
