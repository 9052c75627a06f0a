/*
 * audit_publish: the audit log's latest checkpoint where others keep a copy
 * of it, and what its witnesses say.
 *
 * On the loop's tick, when a new checkpoint was signed, it writes to Redis,
 * under K = [audit] redis_key (docs/AUDIT.md, "Witnesses"):
 *
 *     HSET K checkpoint NOTE keys KEY_CHAIN_JSON origin ORIGIN size N root B64
 *     HSET K:proofs M {"from":M,"to":N,"proof":[...]}   for each size M a
 *                                                       witness cosigned last
 *
 * (stale K:proofs fields are removed), and hands the checkpoint to the
 * record queue for relaywatch_state.audit_checkpoints. Witnesses write
 * their cosigned notes to K:cosigned. With [audit] witness_keys it checks
 * them:
 *
 *   - a cosigned checkpoint whose root is not this log's root at that size
 *     is AUDIT_LOG_INCONSISTENT (CRITICAL): the witness was shown another
 *     history;
 *   - a checkpoint published witness_max_age_s ago that no witness has
 *     cosigned (at its size or later) is AUDIT_WITNESS_STALE (ERROR),
 *     cleared when a cosignature comes.
 *
 * Redis being away costs nothing but a retry at the next tick: the halt
 * path reports Redis itself.
 */
#ifndef RELAYWATCH_AUDIT_PUBLISH_H
#define RELAYWATCH_AUDIT_PUBLISH_H

#include "config.h"
#include "finding.h"

struct audit_log;
struct audit_publish;
struct record_queue;

/* NULL only when out of memory (a witness key that cannot be read is reported at the first tick). */
struct audit_publish *audit_publish_new(const struct config *cfg, struct finding_journal *journal,
                                        struct record_queue *records);
void audit_publish_free(struct audit_publish *p);

/* From the loop's tick (`log` may be NULL: the audit log is down). */
void audit_publish_tick(struct audit_publish *p, struct audit_log *log);

#endif
