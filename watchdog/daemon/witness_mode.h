/*
 * witness_mode: `relaywatch run` as a witness of another watchdog's audit
 * log ([audit] witness_log, witness_log_pubkey, witness_signing_key,
 * witness_state_dir): every checkpoint_s on the loop's tick it polls the
 * published checkpoint (audit_witness.h), keeps and cosigns what is
 * consistent, and reports what is not as AUDIT_LOG_INCONSISTENT (CRITICAL)
 * with both checkpoints as evidence, once per published checkpoint.
 */
#ifndef RELAYWATCH_WITNESS_MODE_H
#define RELAYWATCH_WITNESS_MODE_H

#include "config.h"
#include "finding.h"

struct witness_mode;

/* NULL when cfg names no log to witness, or out of memory; a key that cannot be read is logged. */
struct witness_mode *witness_mode_new(const struct config *cfg, struct finding_journal *journal);
void witness_mode_free(struct witness_mode *w);

/* From the loop's tick. */
void witness_mode_tick(struct witness_mode *w);

#endif
