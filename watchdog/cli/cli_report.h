/*
 * cli_report: a validate cycle's result as the operator reads it, shared by
 * `relaywatch validate` and `relaywatch resume` (which prints the validate
 * it runs before it resumes).
 */
#ifndef RELAYWATCH_CLI_REPORT_H
#define RELAYWATCH_CLI_REPORT_H

#include <stddef.h>
#include <stdio.h>

#include "cycle_result.h"

/*
 * The table: the pinned heights and block hashes, one row per check, the
 * evidence of every check that is not ok, the cycle's duration, and the
 * last line: "INVARIANT VALID", "INVARIANT VIOLATED: <names>" or
 * "INVARIANT NOT EVALUATED: <names> could not be evaluated".
 */
void cli_report_table(const struct cycle_result *r, FILE *out);

/* The enforce-mode Tier 1 checks with `status`, joined by ", ", into out[cap] (cut to fit). */
void cli_report_tier1_names(const struct cycle_result *r, enum verdict_status status, char *out,
                            size_t cap);

#endif
