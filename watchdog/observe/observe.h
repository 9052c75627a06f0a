/*
 * observe: the first step of a cycle. Reads the chains and the ledger into
 * one pinned snapshot (docs/ARCHITECTURE.md, "The one-way flow").
 *
 * An observer holds what lives across cycles: an endpoint pool per chain,
 * the ledger connection, the Redis connection. observer_observe fills a
 * snapshot in this order:
 *   1. read the heads (execution chain first, then source, so a mint seen
 *      on the execution chain has its deposit within the source height);
 *   2. open the ledger snapshot transaction and read how far the ledger has
 *      indexed each chain: every transaction mined by the heads was sent
 *      before the ledger was read (the nonces are compared at the heads);
 *   3. pin each chain at min(head - confirmations or finalized, indexed);
 *   4. read the ledger at the pinned heights;
 *   5. read view 0 of each chain at its pinned height, through the endpoint
 *      that served the head;
 *   6. look up the anchored roots in the ledger, close the transaction;
 *   7. look up the same roots in the watchdog's known-anchors index
 *      (relaywatch_state.anchors, in autocommit: earlier anchors of them);
 *   8. endpoint and connection health, and the relayer's Redis streams.
 * Whatever fails is recorded in the snapshot (chain, view, ledger or stream
 * not ok, with the reason), so the checks can say what they could not
 * evaluate; the observer never gives up on the whole cycle for one failure.
 */
#ifndef RELAYWATCH_OBSERVE_H
#define RELAYWATCH_OBSERVE_H

#include "config.h"
#include "observe_ledger.h"
#include "snapshot.h"

struct observer;

/*
 * Creates the pools and connection objects (no network traffic yet). `cfg`
 * is borrowed and must outlive the observer. NULL with `err` filled on a
 * bad configuration or out of memory. Free with observer_free (NULL ok).
 */
struct observer *observer_new(const struct config *cfg, struct rwerr *err);
void observer_free(struct observer *o);

/*
 * Fills `s` (zeroed by the caller). Returns RW_OK even when reads failed
 * (the snapshot says which); an error only when memory ran out, in which
 * case the snapshot must still be freed.
 */
int observer_observe(struct observer *o, const struct observe_window *w, struct snapshot *s,
                     struct rwerr *err) __attribute__((warn_unused_result));

/*
 * The history of a cycle comes in pages (pages.h): observer_observe reads
 * the first (at most max_batches ledger batches and page_blocks source
 * blocks of events) and, when more is left, keeps the ledger's snapshot
 * transaction open. observer_next_page then frees the page's history in
 * `s` and reads the next at the same pinned heights and in the same
 * transaction: the ledger batches after the last one read, with their
 * leaves and withdrawals, and through every source view's own endpoint
 * their roots and the next block range of events, then what the ledger and
 * the known-anchors index hold of those events' roots. *more is 1 when a
 * page was read (failures are recorded in `s`, as observer_observe does),
 * 0 when the history is done (the transaction then ends). An error return
 * is out of memory only. observer_end_pages ends the transaction whatever
 * is left (call it after the last page, or to give up, on every path).
 */
int observer_next_page(struct observer *o, struct snapshot *s, int *more, struct rwerr *err)
        __attribute__((warn_unused_result));
void observer_end_pages(struct observer *o);

/*
 * When the snapshot's totals since the first block came from the running
 * totals the observer keeps between cycles (s->ledger.totals_running), sums
 * the whole ledger again at the same heights in the same transaction and
 * puts those figures in the snapshot (observe_ledger_recount): the caller
 * evaluates again before it believes a verdict that is not ok. A failure is
 * recorded in s->ledger (ok 0, error).
 */
void observer_recount_totals(struct observer *o, struct snapshot *s);

/*
 * Makes the cycles report the bridge's progress figures (metrics only),
 * read on a thread and connection of their own (progress_reader.h) that
 * start with the next cycle: for `relaywatch run`. Without it a snapshot
 * says they were not read, and a one-shot command (validate) opens no
 * second connection.
 */
int observer_track_progress(struct observer *o, struct rwerr *err)
        __attribute__((warn_unused_result));

/*
 * The running totals of `side` as the last cycle left them and the block
 * they run through: 1 with *totals borrowed until the next cycle, seed or
 * observer_free; 0 when there are none that stand (none yet, or waiting
 * for a full sum to check them).
 */
int observer_totals(struct observer *o, enum ledger_side side, const struct ledger_totals **totals,
                    uint64_t *through_block);

/*
 * Seeds the running totals of `side` with a saved checkpoint (a copy is
 * taken): the next cycle still sums the whole ledger, and compares, so a
 * history changed while nobody watched shows as ledger_totals_changed.
 */
int observer_seed_totals(struct observer *o, enum ledger_side side,
                         const struct ledger_totals *saved, uint64_t through_block,
                         struct rwerr *err) __attribute__((warn_unused_result));

/*
 * For every chain with fewer views that answered than its quorum, reads
 * the same values at the same pinned height through its endpoints not read
 * yet this cycle, adding a view per endpoint, until the quorum has answered
 * or none is left: those in service first, so a hung endpoint costs its
 * timeout only when the quorum cannot do without it. Call it again while
 * the checks still need confirmation (views that disagree); it adds no
 * view once every endpoint was read. Same error contract as
 * observer_observe.
 */
int observer_confirm(struct observer *o, struct snapshot *s, struct rwerr *err)
        __attribute__((warn_unused_result));

/*
 * The latest block number of `role`, one eth_blockNumber through its
 * endpoint pool (with the pool's failover). For the supervisor's per-block
 * schedule.
 */
int observer_head(struct observer *o, enum snap_chain_role role, uint64_t *head, struct rwerr *err)
        __attribute__((warn_unused_result));

/*
 * Cuts the reads of a cycle in progress short, for a stop: every RPC
 * exchange under way ends at once and every later one fails ("reads
 * interrupted"), so the cycle ends as could-not-evaluate. The one function
 * here that may be called from another thread than the observer's; there
 * is no way back (free the observer). The ledger is not interrupted: its
 * queries are bounded by statement_timeout_ms.
 */
void observer_interrupt(struct observer *o);

/*
 * The ledger connection (borrowed; owned by the observer), with the
 * statements of db/state.h registered, for the watchdog's own records
 * between cycles. Never use it while observer_observe runs.
 */
struct dbconn *observer_db(struct observer *o);

#endif
