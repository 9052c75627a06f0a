/*
 * cmd_halt: `relaywatch halt`, a manual HALT on the relayer's control
 * stream, and the small helpers `relaywatch resume` and `relaywatch status`
 * share with it.
 */
#ifndef RELAYWATCH_CMD_HALT_H
#define RELAYWATCH_CMD_HALT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "rwerr.h"
#include "signing_key.h"

/*
 * Exit 0 the HALT is on the stream (or a manual halt is in force already),
 * 1 it is not (Redis unreachable: it waits in the outbox; or a failure),
 * 64 for a usage error.
 */
int cmd_halt(int argc, char **argv, FILE *out, FILE *errout);

/*
 * Loads the public key files paths[0..n) (n <= CONFIG_KEYS_MAX) into
 * out[0..n). The message names the file that failed; out is then partly filled.
 */
int cmd_halt_load_pubkeys(char *const *paths, size_t n, struct verify_key *out, struct rwerr *err)
        __attribute__((warn_unused_result));

/* The wall clock in unix milliseconds. */
int64_t cmd_halt_now_ms(void);

#endif
