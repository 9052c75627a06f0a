/*
 * cmd_resume: `relaywatch resume --from-last-checkpoint`, the operator's
 * RESUME after a halt. It reads the control stream as a relayer does (the
 * halt key, then every entry, judged by a control_state) and lifts every
 * HALT in force there, whoever signed it, plus any open halt of
 * STREAM:incidents not among them: the RESUME's `lifts` (and its evidence
 * `lifted`) name them all, so after it nothing is in force. It runs one
 * full validate cycle first (the code of `relaywatch validate`) and
 * refuses while a Tier 1 invariant is violated or could not be evaluated,
 * unless forced with a reason. The RESUME is signed with an operator key,
 * never a watchdog key, and carries the pinned heights of that validate as
 * the checkpoint the relayer resumes from. When a HALT comes in force
 * between the reading and the publishing (halt_publish_resume says
 * NOT_LISTED), it reads again and tries once more, then gives up.
 */
#ifndef RELAYWATCH_CMD_RESUME_H
#define RELAYWATCH_CMD_RESUME_H

#include <stdio.h>

#include "cli_args.h"

extern const struct cli_command cmd_resume_command;

/* The operator's secret key file when --key is not given. */
#define CMD_RESUME_KEY_ENV "RELAYWATCH_OPERATOR_KEY"

/*
 * Exit 0 the RESUME is on the stream, or nothing was halted; 1 refused
 * (Tier 1 not valid, a watchdog or unlisted key, a HALT came in force twice
 * while publishing) or failed; 2 Redis could not be reached (a RESUME is
 * never queued); 64 a usage error.
 */
int cmd_resume(int argc, char **argv, FILE *out, FILE *errout);

#endif
