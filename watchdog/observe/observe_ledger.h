/*
 * observe_ledger: one cycle's reads of the relayer's ledger, into a snapshot.
 *
 * All of a cycle's ledger reads happen in one READ ONLY, REPEATABLE READ
 * transaction. It opens right after the chain heads are read and first reads
 * how far the ledger has indexed each chain, so the pinned heights never
 * pass what this very snapshot of the
 * ledger has recorded; the totals, batches, withdrawals, nonces and
 * operations are then read filtered to the pinned heights; once the source
 * chain's anchors are known, the batches the ledger holds their roots under.
 * Each query is timed into s->ledger.queries.
 */
#ifndef RELAYWATCH_OBSERVE_LEDGER_H
#define RELAYWATCH_OBSERVE_LEDGER_H

#include <stdint.h>

#include "config.h"
#include "dbconn.h"
#include "snapshot.h"
#include "totals.h"

/* Where the incremental reads of a cycle start. */
struct observe_window {
        int64_t anchors_after;  /* source block cursor for RootAnchored events; -1: from the
                                   configured deploy_block */
        uint64_t batches_after; /* batch cursor: 0 reads every batch (a full sweep) */
        unsigned max_batches;   /* batches per page of history (pages.h); 0: 256 */
        int64_t ops_after;      /* operations cursor; -1: the latest `recent_rows` */
        int64_t cycles_after;   /* relayer cycle cursor; -1: the latest `recent_rows` */
        unsigned recent_rows;   /* 0: 100 */
        unsigned recent_blocks; /* blocks of movement kept as "in flight"; 0: 10 */
        uint64_t page_blocks;   /* source blocks of RootAnchored events per page; 0: 4
                                   log_chunk_blocks ranges */
};

#define OBSERVE_PAGE_BATCHES 256u
#define OBSERVE_PAGE_LOG_CHUNKS 4u

/* Opens the snapshot transaction and fills chains[].indexed_through / ledger_indexed. */
int observe_ledger_begin(struct dbconn *c, const struct config *cfg, struct snapshot *s,
                         struct rwerr *err) __attribute__((warn_unused_result));

/*
 * The ledger's totals since its first block, kept between cycles
 * (db/totals.h): each cycle reads only the blocks after those already
 * counted, and sums the whole ledger again when a full sum is due or
 * observe_ledger_recount asks for it.
 */
struct observe_totals {
        struct totals_tracker *side[2]; /* by enum ledger_side */
        uint64_t now_ms;                /* monotonic, for the trackers' schedule */
};

/*
 * Everything else, at s->chains[].pinned; the totals since the first block
 * from `totals` (s->ledger.totals_running says whether they came from
 * running totals), or summed in full when `totals` is NULL.
 */
int observe_ledger_read(struct dbconn *c, const struct observe_window *w,
                        const struct observe_totals *totals, struct snapshot *s, struct rwerr *err)
        __attribute__((warn_unused_result));

/*
 * When this cycle's totals came from running totals: sums the whole ledger
 * again at the same heights, in the same transaction, into the snapshot,
 * and counts in s->ledger.totals_changed the assets whose running totals
 * it contradicts. For a cycle whose verdicts are not all ok: no verdict
 * rests on running totals that may have missed a row written late at a
 * block already counted. A failure is the ledger's (s->ledger.ok 0).
 */
int observe_ledger_recount(struct dbconn *c, const struct observe_totals *totals,
                           struct snapshot *s, struct rwerr *err)
        __attribute__((warn_unused_result));

/*
 * The next page of history from the ledger, in the same transaction: the
 * (at most) `max_batches` batches after `after`, with their leaves and
 * withdrawals, into s->ledger (whose history arrays must be free:
 * snapshot_free_history). A failure is the ledger's (s->ledger.ok 0).
 */
int observe_ledger_page(struct dbconn *c, uint64_t after, unsigned max_batches, struct snapshot *s,
                        struct rwerr *err) __attribute__((warn_unused_result));

/*
 * What the ledger knows of the roots anchored in view 0 of the source chain
 * (s->ledger.roots_known) and, in an incremental cycle, of the roots of the
 * page's batches: one query for both. From the second come the page's
 * duplicates (s->ledger.duplicates, replacing the last page's), so an
 * incremental cycle never groups the whole ledger's batches; a full sweep
 * reads relaywatch.duplicate_batches instead (observe_ledger_read).
 */
int observe_ledger_roots(struct dbconn *c, struct snapshot *s, struct rwerr *err)
        __attribute__((warn_unused_result));

/*
 * The watchdog's known-anchors index (db/state.h) for the roots anchored in
 * view 0 of the source chain, into s->known_anchors: one query, inside the
 * snapshot transaction under a savepoint (a failure cannot spoil the
 * ledger's reads; it never writes), or in autocommit when no transaction
 * is open. Skipped
 * when the ledger's reads failed or nothing was anchored. A failed read is
 * recorded (s->known_anchors_failed and the reason), not returned: RW_OK,
 * or RW_ERR_NOMEM.
 */
int observe_ledger_known_anchors(struct dbconn *c, const struct config *cfg, struct snapshot *s,
                                 struct rwerr *err) __attribute__((warn_unused_result));

/* Ends the transaction (rolls back after a failure). */
int observe_ledger_end(struct dbconn *c, struct rwerr *err) __attribute__((warn_unused_result));

#endif
