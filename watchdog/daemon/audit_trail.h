/*
 * audit_trail: what the supervisor writes to its audit log (audit_log.h).
 *
 * Owned by the loop's thread. It records the start (version, the
 * configuration's SHA-256, the audit key), reloads and refused reloads,
 * every cycle that is not healthy in full (pinned heights and block hashes,
 * every verdict that is not ok with its evidence), healthy cycles as one
 * summary record per checkpoint interval, cycles that could not run, and
 * the stop. A cycle whose Tier 1 verdict is violated is written durably
 * and covered by a checkpoint before the halt is published, so the log
 * holds what caused the halt before the relayer hears of it.
 *
 * The audit log never stops the watchdog: when it cannot be opened or
 * written, AUDIT_LOG_DOWN (CRITICAL) is reported through the finding
 * journal, halts go on, and a reopen is tried every AUDIT_TRAIL_RETRY_MS;
 * the finding clears when it works again.
 */
#ifndef RELAYWATCH_AUDIT_TRAIL_H
#define RELAYWATCH_AUDIT_TRAIL_H

#include <stdint.h>

#include "config.h"
#include "cycle_result.h"
#include "finding.h"

#define AUDIT_TRAIL_RETRY_MS 10000

struct audit_trail;
struct cJSON;

/*
 * Opens the log of cfg ([audit]); never NULL unless out of memory (a
 * failure is reported). Checkpoints go to `records` (the database) and to
 * Redis (audit_publish.h).
 */
struct record_queue;
struct audit_trail *audit_trail_open(const struct config *cfg, struct finding_journal *journal,
                                     struct record_queue *records);

/* The sink to lend halt control and paging (audit_sink.h); valid until audit_trail_close. */
struct audit_sink;
const struct audit_sink *audit_trail_sink(struct audit_trail *t);

/* Records the stop (durable) and closes. NULL ok. */
void audit_trail_close(struct audit_trail *t, const char *why);

/* A reload: the new configuration (the log itself keeps the [audit] it was opened with). */
void audit_trail_reconfigure(struct audit_trail *t, const struct config *cfg);

/* "start" or "config_loaded": the configuration file's hash and the keys. */
void audit_trail_config(struct audit_trail *t, const char *kind, const char *config_path);

/* A refused reload and its reason. */
void audit_trail_reload_refused(struct audit_trail *t, const char *config_path, const char *why);

/*
 * One cycle's result; `number` its count. With `halting` (a new HALT is
 * about to be published for it) it is written durably with a checkpoint
 * right after it, so the HALT can carry that checkpoint.
 */
void audit_trail_cycle(struct audit_trail *t, const struct cycle_result *r, uint64_t number,
                       int full_sweep, int halting);

/* A cycle that could not run. */
void audit_trail_cycle_failed(struct audit_trail *t, const char *correlation_id, uint64_t number,
                              const char *reason);

/* From the tick: the summary of healthy cycles, batched fsync, checkpoints, key epochs, reopen. */
void audit_trail_tick(struct audit_trail *t);

/* Adds "audit": {records, last checkpoint, down} to the status JSON. */
void audit_trail_status_json(struct audit_trail *t, struct cJSON *status);

#endif
