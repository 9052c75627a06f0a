/*
 * state: relaywatch's own records in the ledger database
 * (relaywatch_state): the running-totals checkpoints, so a restarted
 * watchdog resumes from them and checks them against a full sum first, and
 * the cursors of its incremental reads.
 *
 * Writes run in a transaction of their own, never inside a cycle's
 * read-only snapshot. Register the statements on the connection first:
 * dbconn_add_statements(c, state_statements, state_nstatements, &err).
 */
#ifndef RELAYWATCH_STATE_H
#define RELAYWATCH_STATE_H

#include <stdint.h>

#include "dbconn.h"
#include "ledger.h"

extern const struct dbconn_statement state_statements[];
extern const size_t state_nstatements;

/* Replaces the checkpoint of `side` with `totals` through `through_block`, atomically. */
int state_checkpoint_save(struct dbconn *c, enum ledger_side side,
                          const struct ledger_totals *totals, uint64_t through_block,
                          struct rwerr *err) __attribute__((warn_unused_result));

/*
 * Loads the checkpoint of `side`: *found = 0 when there is none. On success
 * with *found the caller frees `out` with ledger_totals_free. All assets of a
 * checkpoint share one block; rows that disagree are an error.
 */
int state_checkpoint_load(struct dbconn *c, enum ledger_side side, struct ledger_totals *out,
                          uint64_t *through_block, int *found, struct rwerr *err)
        __attribute__((warn_unused_result));

int state_cursor_save(struct dbconn *c, const char *name, int64_t value, struct rwerr *err)
        __attribute__((warn_unused_result));

/* *found = 0 and *value untouched when the cursor was never saved. */
int state_cursor_load(struct dbconn *c, const char *name, int64_t *value, int *found,
                      struct rwerr *err) __attribute__((warn_unused_result));

#endif
