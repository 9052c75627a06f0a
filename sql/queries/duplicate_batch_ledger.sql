-- duplicate_batch_ledger.sql: every merkle root or batch number the ledger
-- holds more than once, with each batch that holds it.
--
-- Runbook: runbooks/DUPLICATE_BATCH.md ("First three things to look at", 3;
-- findings ledger_duplicate_root and ledger_duplicate_batch).
--
-- Run it as the watchdog's read-only role (relaywatch_reader):
--
--   psql "$RELAYWATCH_READER_URL" -f sql/queries/duplicate_batch_ledger.sql
--
-- ($RELAYWATCH_READER_URL: the watchdog's own login, the [database] url
-- of relaywatch.conf; not the admin role `relaywatch db migrate` takes from
-- the same variable, though every query here only reads.)
--
-- What it shows: one row per duplicate of relaywatch.duplicate_batches
-- (kind merkle_root: `value` is the root, held by the batches in
-- `batch_numbers`; kind batch_number: `value` is the batch number, held by
-- more than one row) and per ledger batch holding it, as
-- relaywatch.batches_after gives it: its root, status, leaf count, anchor
-- block and transaction, and when it was created and anchored.
--
-- How to read it: no rows is the answer when all is well (the reference
-- schema's UNIQUE constraints make a ledger duplicate impossible; another
-- relayer schema may lack them). A root held by two batches means two
-- settlements share a root: withdrawals proven against it can be claimed
-- under either. Look at which row came second (created_at), whether it was
-- anchored (status, anchor_tx_hash) and who wrote it: that is the row to
-- fix forward or roll back. Whether an anchor on chain repeats it:
-- duplicate_batch_anchors.sql and duplicate_batch_halts.sql.
-- Reads the whole settlement table once (the view groups every batch): fine
-- by hand, not in a loop.

SELECT d.kind,
       d.value,
       d.batch_numbers::text AS batch_numbers,
       b.batch_number,
       b.merkle_root,
       b.status,
       b.leaf_count,
       b.anchor_block,
       b.anchor_tx_hash,
       b.created_at,
       b.anchored_at
FROM relaywatch.duplicate_batches d
CROSS JOIN LATERAL (SELECT DISTINCT n FROM unnest(d.batch_numbers) AS n) nums
-- batches_after is a cursor read: the rows of batch n are the first ones
-- after n - 1 (several when the number itself is held twice).
LEFT JOIN LATERAL (
    SELECT x.* FROM relaywatch.batches_after(nums.n - 1, 100) x WHERE x.batch_number = nums.n
) b ON true
ORDER BY d.kind, d.value, b.batch_number, b.created_at;
