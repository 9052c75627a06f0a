/*
 * totals: running ledger totals, read incrementally.
 *
 * Summing every deposit since genesis each cycle grows with the ledger. A
 * tracker keeps, per asset, the credited and debited sums through the last
 * block it covered, and each cycle reads only the blocks after it. Every
 * `full_every_ms` (and at the first read after a restart) it sums the whole
 * range again and compares: a difference means rows at or below the
 * covered block were added, changed or deleted after they had been
 * counted, and comes back as a history change with both figures. The full
 * figures then replace the running ones.
 *
 * All reads go through the caller's snapshot transaction (ledger_snapshot_*).
 */
#ifndef RELAYWATCH_TOTALS_H
#define RELAYWATCH_TOTALS_H

#include <stddef.h>
#include <stdint.h>

#include "ledger.h"

struct totals_tracker;

/* A ledger total that changed under the tracker's feet. */
struct totals_history_change {
        char asset[LEDGER_ASSET_MAX];
        uint64_t through_block;
        struct u256 running_credited, full_credited;
        struct u256 running_debited, full_debited;
};

/* What one totals_tracker_advance saw. Owned by the tracker until the next advance. */
struct totals_result {
        const struct ledger_totals *totals; /* per asset, through `through_block` */
        uint64_t through_block;
        int full_recompute; /* this advance summed the whole ledger */
        size_t nchanges;
        const struct totals_history_change *changes;
};

/* NULL when out of memory. Free with totals_tracker_free (accepts NULL). */
struct totals_tracker *totals_tracker_new(enum ledger_side side, uint64_t full_every_ms);
void totals_tracker_free(struct totals_tracker *t);

/*
 * Seeds the tracker with a saved checkpoint (totals through `through_block`);
 * the next advance recomputes in full and reports any difference with it.
 * Takes a copy of `saved`.
 */
int totals_tracker_seed(struct totals_tracker *t, const struct ledger_totals *saved,
                        uint64_t through_block, struct rwerr *err)
        __attribute__((warn_unused_result));

/*
 * Brings the totals to `through_block`, reading only the new blocks unless
 * a full recompute is due, the tracker is new or seeded, or the block went
 * backwards. `now_ms` is a monotonic clock reading (for the schedule).
 */
int totals_tracker_advance(struct totals_tracker *t, struct dbconn *c, uint64_t through_block,
                           uint64_t now_ms, struct totals_result *out, struct rwerr *err)
        __attribute__((warn_unused_result));

/*
 * The running totals and the block they run through, when the tracker has
 * them and they need no check (not new, not seeded and not waiting for a
 * recount): 1, with *totals borrowed until the next advance, seed or free;
 * else 0.
 */
int totals_tracker_current(const struct totals_tracker *t, const struct ledger_totals **totals,
                           uint64_t *through_block);

/*
 * Makes the next advance sum the whole ledger and compare it with the
 * running totals (a history change then comes back as for a seed): for a
 * cycle whose figures disagree with the chains, so that a verdict never
 * rests on running totals that missed a row. Nothing before the first
 * advance or seed.
 */
void totals_tracker_recount(struct totals_tracker *t);

/*
 * The reads (ledger_read_totals) the next totals_tracker_advance to
 * `through_block` at `now_ms` makes, in the order it makes them, to send
 * them ahead (ledger_send_ahead): 0, 1 or 2 of them.
 */
size_t totals_tracker_reads(const struct totals_tracker *t, uint64_t through_block, uint64_t now_ms,
                            struct ledger_read r[2]);

#endif
