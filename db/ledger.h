/*
 * ledger: typed reads of the relayer's ledger through the `relaywatch`
 * contract (sql/README.md lists its columns). Nothing here names a relayer
 * table.
 *
 * One cycle's reads run inside one snapshot: ledger_snapshot_begin opens a
 * READ ONLY, REPEATABLE READ transaction, so every query of the cycle sees
 * the same ledger even while the relayer writes; ledger_snapshot_end closes
 * it. Totals are read for ranges of blocks, to be pinned to the heights the
 * chains were read at.
 *
 * Every function that returns rows allocates them; the caller frees with
 * the matching *_free (which accepts NULL). On failure nothing is returned
 * and the message names the query, the row and the column at fault.
 */
#ifndef RELAYWATCH_LEDGER_H
#define RELAYWATCH_LEDGER_H

#include <stddef.h>
#include <stdint.h>

#include "dbconn.h"
#include "u256.h"

#define LEDGER_ASSET_MAX 64 /* bytes of an asset name, NUL included */
#define LEDGER_PROOF_MAX 64 /* sibling hashes in one proof */

/* The statements the ledger prepares; pass them in the dbconn_config. */
extern const struct dbconn_statement ledger_statements[];
extern const size_t ledger_nstatements;

enum ledger_side {
        LEDGER_LOCKED, /* source chain: deposits in, released withdrawals out */
        LEDGER_MINTED, /* execution chain: mints in, burns out */
};

/* "locked" or "minted". */
const char *ledger_side_name(enum ledger_side side);

/*
 * A read described before it runs, so that several go to the server at
 * once (ledger_send_ahead) and the ledger_* call that follows with the same
 * arguments takes its result instead of asking again (dbconn_send_ahead
 * says how; a described read that is never asked for costs only its run).
 * The ledger_read_* functions fill one with the statement and parameters
 * the matching ledger_* function sends, checking the arguments as it does.
 */
#define LEDGER_READ_PARAMS 2

struct ledger_read {
        const char *statement;
        int nparams;
        char params[LEDGER_READ_PARAMS][24];
};

void ledger_read_assets(struct ledger_read *r);             /* ledger_assets */
void ledger_read_duplicates(struct ledger_read *r);         /* ledger_duplicate_batches */
void ledger_read_nonces(struct ledger_read *r);             /* ledger_expected_nonces */
void ledger_read_latest_ids(struct ledger_read *r);         /* ledger_latest_ids */
void ledger_read_pending_operations(struct ledger_read *r); /* ledger_pending_operations */
int ledger_read_totals(struct ledger_read *r, enum ledger_side side, int64_t after_block,
                       uint64_t through_block, struct rwerr *err)
        __attribute__((warn_unused_result)); /* ledger_totals_in_range */
int ledger_read_batches(struct ledger_read *r, uint64_t after_batch, unsigned max_rows,
                        struct rwerr *err)
        __attribute__((warn_unused_result)); /* ledger_batches_after */
int ledger_read_leaves(struct ledger_read *r, uint64_t after_batch, uint64_t through_batch,
                       struct rwerr *err)
        __attribute__((warn_unused_result)); /* ledger_leaves_in_batches */
int ledger_read_withdrawals(struct ledger_read *r, uint64_t after_batch, uint64_t through_batch,
                            struct rwerr *err)
        __attribute__((warn_unused_result)); /* ledger_withdrawals_in_batches */
int ledger_read_operations(struct ledger_read *r, uint64_t after_op, unsigned max_rows,
                           struct rwerr *err)
        __attribute__((warn_unused_result)); /* ledger_operations_after */
int ledger_read_cycle_timings(struct ledger_read *r, uint64_t after_cycle, unsigned max_rows,
                              struct rwerr *err)
        __attribute__((warn_unused_result)); /* ledger_cycle_timings_after */

/* Sends `n` described reads (at most AHEAD_MAX) ahead; RW_OK or an error (dbconn_send_ahead). */
int ledger_send_ahead(struct dbconn *c, const struct ledger_read *r, size_t n, struct rwerr *err)
        __attribute__((warn_unused_result));

int ledger_snapshot_begin(struct dbconn *c, struct rwerr *err) __attribute__((warn_unused_result));
/* Commits the snapshot; after a failed read call it anyway to roll back. */
int ledger_snapshot_end(struct dbconn *c, struct rwerr *err) __attribute__((warn_unused_result));

/* One asset's movement in a range of blocks. */
struct ledger_total {
        char asset[LEDGER_ASSET_MAX];
        struct u256 credited;
        struct u256 debited;
};

struct ledger_totals {
        size_t n;
        struct ledger_total *rows; /* ordered by asset name */
};

/*
 * Sums of `side` in blocks after_block < b <= through_block; after_block
 * may be -1 for "from genesis". One row per asset the ledger knows.
 */
int ledger_totals_in_range(struct dbconn *c, enum ledger_side side, int64_t after_block,
                           uint64_t through_block, struct ledger_totals *out, struct rwerr *err)
        __attribute__((warn_unused_result));
void ledger_totals_free(struct ledger_totals *t);

/* The block through which the ledger has recorded each chain. */
struct ledger_progress {
        uint64_t chain_id;
        char role[16]; /* "source" or "execution" */
        int indexed;   /* 0 while the ledger has recorded nothing of it */
        uint64_t indexed_through;
};

struct ledger_progress_list {
        size_t n;
        struct ledger_progress *rows;
};

int ledger_indexed_through(struct dbconn *c, struct ledger_progress_list *out, struct rwerr *err)
        __attribute__((warn_unused_result));
void ledger_progress_free(struct ledger_progress_list *l);

struct ledger_batch {
        uint64_t batch_number;
        uint8_t merkle_root[32];
        uint32_t leaf_count;
        int anchored; /* status 'anchored' */
        int has_anchor_block;
        uint64_t anchor_block;
        uint8_t relayer_signature[65];
        int64_t created_ms;  /* unix milliseconds */
        int64_t anchored_ms; /* unix milliseconds; -1 while not anchored */
};

struct ledger_batches {
        size_t n;
        struct ledger_batch *rows; /* by batch number */
};

/* Batches numbered above `after_batch`, at most `max_rows`. */
int ledger_batches_after(struct dbconn *c, uint64_t after_batch, unsigned max_rows,
                         struct ledger_batches *out, struct rwerr *err)
        __attribute__((warn_unused_result));
void ledger_batches_free(struct ledger_batches *b);

struct ledger_leaf {
        uint64_t batch_number;
        uint32_t leaf_index;
        uint64_t withdrawal_id;
        uint8_t token[20];
        uint8_t recipient[20];
        struct u256 amount;
        uint8_t leaf_hash[32];
};

struct ledger_leaves {
        size_t n;
        struct ledger_leaf *rows; /* by leaf index */
};

int ledger_batch_leaves(struct dbconn *c, uint64_t batch_number, struct ledger_leaves *out,
                        struct rwerr *err) __attribute__((warn_unused_result));

/* The leaves of every batch after_batch < n <= through_batch, by batch then leaf index. */
int ledger_leaves_in_batches(struct dbconn *c, uint64_t after_batch, uint64_t through_batch,
                             struct ledger_leaves *out, struct rwerr *err)
        __attribute__((warn_unused_result));
void ledger_leaves_free(struct ledger_leaves *l);

struct ledger_withdrawal {
        uint64_t withdrawal_id;
        uint64_t batch_number;
        uint8_t token[20];
        uint8_t recipient[20];
        struct u256 amount;
        int released;
        size_t proof_len; /* sibling hashes */
        uint8_t proof[LEDGER_PROOF_MAX][32];
};

struct ledger_withdrawals {
        size_t n;
        struct ledger_withdrawal *rows;
};

/* Withdrawals with their proofs, of batches after_batch < n <= through_batch. */
int ledger_withdrawals_in_batches(struct dbconn *c, uint64_t after_batch, uint64_t through_batch,
                                  struct ledger_withdrawals *out, struct rwerr *err)
        __attribute__((warn_unused_result));
void ledger_withdrawals_free(struct ledger_withdrawals *w);

struct ledger_nonce {
        uint64_t chain_id;
        uint8_t account[20];
        uint64_t next_nonce;
};

struct ledger_nonces {
        size_t n;
        struct ledger_nonce *rows;
};

int ledger_expected_nonces(struct dbconn *c, struct ledger_nonces *out, struct rwerr *err)
        __attribute__((warn_unused_result));
void ledger_nonces_free(struct ledger_nonces *n);

/* An asset as the ledger describes it (relaywatch.assets). */
struct ledger_asset {
        char asset[LEDGER_ASSET_MAX];
        unsigned decimals;
        uint8_t source_token[20];
        uint8_t bridged_token[20];
};

struct ledger_assets {
        size_t n;
        struct ledger_asset *rows; /* by asset name */
};

int ledger_assets(struct dbconn *c, struct ledger_assets *out, struct rwerr *err)
        __attribute__((warn_unused_result));
void ledger_assets_free(struct ledger_assets *a);

/* A root or batch number the ledger holds more than once (relaywatch.duplicate_batches). */
struct ledger_duplicate {
        int is_root;             /* kind 'merkle_root'; else 'batch_number' */
        char value[80];          /* the root as 0x-hex, or the batch number in decimal */
        char batch_numbers[160]; /* the batch numbers, as "{3,7}"; cut with "..." if longer */
};

struct ledger_duplicates {
        size_t n;
        struct ledger_duplicate *rows;
};

int ledger_duplicate_batches(struct dbconn *c, struct ledger_duplicates *out, struct rwerr *err)
        __attribute__((warn_unused_result));
void ledger_duplicates_free(struct ledger_duplicates *d);

/* The batch the ledger holds a root under (relaywatch.batches_with_roots). */
struct ledger_root_batch {
        uint8_t merkle_root[32];
        uint64_t batch_number;
};

struct ledger_root_batches {
        size_t n;
        struct ledger_root_batch *rows; /* by batch number; a root the ledger lacks has no row */
};

/* For `n` roots (n may be 0: no rows, no query). */
int ledger_batches_with_roots(struct dbconn *c, const uint8_t (*roots)[32], size_t n,
                              struct ledger_root_batches *out, struct rwerr *err)
        __attribute__((warn_unused_result));
void ledger_root_batches_free(struct ledger_root_batches *r);

/* A relayer transaction (relaywatch.operations_after). */
struct ledger_operation {
        uint64_t op_id;
        char kind[16]; /* "mint", "anchor", "release" */
        uint64_t chain_id;
        uint8_t account[20];
        uint64_t nonce;
        int has_tx_hash;
        uint8_t tx_hash[32];
        uint64_t gas_estimate;
        int has_gas_used;
        uint64_t gas_used;
        char status[16]; /* "pending", "sent", "confirmed", "failed" */
};

struct ledger_operations {
        size_t n;
        struct ledger_operation *rows; /* by op_id */
};

/* Operations with op_id > after_op, at most max_rows. */
int ledger_operations_after(struct dbconn *c, uint64_t after_op, unsigned max_rows,
                            struct ledger_operations *out, struct rwerr *err)
        __attribute__((warn_unused_result));
void ledger_operations_free(struct ledger_operations *o);

/* How long one relayer cycle took (relaywatch.cycle_timings_after). */
struct ledger_cycle {
        uint64_t cycle_id;
        int64_t started_ms; /* unix milliseconds */
        uint64_t duration_ms;
};

struct ledger_cycles {
        size_t n;
        struct ledger_cycle *rows; /* by cycle_id */
};

/* Cycles with cycle_id > after_cycle, at most max_rows. */
int ledger_cycle_timings_after(struct dbconn *c, uint64_t after_cycle, unsigned max_rows,
                               struct ledger_cycles *out, struct rwerr *err)
        __attribute__((warn_unused_result));
void ledger_cycles_free(struct ledger_cycles *c);

/* The highest op_id and cycle_id the ledger holds (0 when none): where cursors start. */
int ledger_latest_ids(struct dbconn *c, uint64_t *op_id, uint64_t *cycle_id, struct rwerr *err)
        __attribute__((warn_unused_result));

/* Operations not yet confirmed or failed, summed over kinds and chains. */
int ledger_pending_operations(struct dbconn *c, uint64_t *pending, struct rwerr *err)
        __attribute__((warn_unused_result));

/*
 * The bridge's progress in counts (relaywatch.progress), for metrics and
 * the on-call page, never for a verdict.
 *
 * Counting every deposit and withdrawal is a scan of tables that grow for
 * ever: on a ledger of a million rows it takes seconds, far too much for
 * every cycle. So the figures are read at most every
 * LEDGER_PROGRESS_PERIOD_MS and kept in a struct ledger_progress_state that
 * their reader owns; each snapshot gets the latest figures, up to that old.
 * The watchdog reads them on a thread and connection of their own
 * (watchdog/observe/progress_reader.h), never in the cycle's snapshot.
 *
 * The read runs inside an open transaction, under a SAVEPOINT: a contract
 * older than the view (SQLSTATE 42P01), missing rights or any other
 * failure of this one read is rolled back to the
 * savepoint and reported in the state (known = 0, `problem` naming the view
 * and the error), and neither fails the transaction nor touches what the
 * checks read. For the same reason its statement is not among
 * ledger_statements, which every connect prepares and where a missing view
 * would fail the connection itself: it is prepared on first use on each
 * connection, inside the savepoint, and reused after that.
 */
#define LEDGER_PROGRESS_PERIOD_MS 15000u

struct ledger_progress_figures {
        uint64_t deposits;            /* relayer.deposits rows */
        uint64_t deposits_pending;    /* of those, not yet minted */
        uint64_t batches_created;     /* settlement batches, any status */
        uint64_t batches_anchored;    /* of those, anchored */
        uint64_t withdrawals;         /* withdrawals recorded */
        uint64_t withdrawals_claimed; /* released on the source chain */
        uint64_t withdrawals_pending; /* not released yet */
};

struct ledger_progress_state {
        uint64_t prepared_on; /* dbconn_health.connects when its statement was prepared; 0: not */
        int attempted;        /* a read was attempted (read_at_ms is set) */
        uint64_t read_at_ms;  /* monotonic: the latest attempt */
        int known;            /* that attempt succeeded: `figures` hold */
        char problem[RWERR_MSG_MAX]; /* why not, when !known */
        struct ledger_progress_figures figures;
};

/*
 * Reads relaywatch.progress now, inside the open snapshot transaction,
 * under a savepoint (above). 0 with `out` filled, or an error naming the
 * view, with the transaction as it was before the call (unless the
 * connection itself failed).
 */
int ledger_progress_read(struct dbconn *c, struct ledger_progress_state *st,
                         struct ledger_progress_figures *out, struct rwerr *err)
        __attribute__((warn_unused_result));

/*
 * Reads the figures into `st` when the last attempt is LEDGER_PROGRESS_PERIOD_MS
 * old or there was none (`now_ms` on the monotonic clock); otherwise does
 * nothing. Never fails: the outcome is st->known and st->problem. Returns 1
 * when it read, 0 when the kept figures were still fresh.
 */
int ledger_progress_refresh(struct dbconn *c, struct ledger_progress_state *st, uint64_t now_ms);

#endif
