-- duplicate_batch_anchors.sql: the anchors the watchdog has checked
-- (relaywatch_state.anchors) against the ledger: any root or batch number
-- anchored more than once, any anchored root the ledger does not know or
-- knows under another batch number, and whether the ledger records each
-- anchor transaction as the relayer's.
--
-- Runbook: runbooks/DUPLICATE_BATCH.md ("First three things to look at", 2
-- and 3; findings root_anchored_twice, root_anchored_again,
-- batch_anchored_twice, forged_anchor, batch_number_mismatch).
--
-- Run it as the watchdog's read-only role (relaywatch_reader):
--
--   psql "$RELAYWATCH_READER_URL" -f sql/queries/duplicate_batch_anchors.sql
--
-- ($RELAYWATCH_READER_URL: the watchdog's own login, the [database] url
-- of relaywatch.conf; not the admin role `relaywatch db migrate` takes from
-- the same variable, though every query here only reads.)
--
-- What it shows: every indexed anchor with a problem, then the 20 latest
-- indexed anchors (by block), each with:
--   problem         empty when none; else what is wrong with it, from the
--                   index and the ledger (relaywatch.batches_with_roots);
--   root, anchored_batch, block_number, tx_hash: the RootAnchored event;
--   ledger_batches  the batch numbers the ledger holds for that root (NULL:
--                   the ledger does not know the root);
--   ledger_status, ledger_anchor_tx: the ledger's batch of that number
--                   (relaywatch.batches_after): its status and the anchor
--                   transaction the relayer recorded for it;
--   ledger_records_tx
--                   whether the ledger has the event's transaction: as the
--                   batch's anchor_tx_hash, or as an `anchor` operation
--                   among its last 10,000 operations
--                   (relaywatch.operations_after). "no" is an anchor the
--                   relayer never recorded: look up its sender on an
--                   explorer. Another account: the registry's access is
--                   compromised; the relayer's own account: its key is used
--                   outside the relayer (NONCE_DESYNC usually follows).
--
-- How to read it: the index holds only events read in a cycle in which
-- every Tier 1 check passed, so the anchor that raised the page is usually
-- NOT here; the one here is the first anchoring it was compared with (the
-- finding's known_tx_hash / known_block for root_anchored_again). Find the
-- page's root (subject `root 0x...`) in the `root` column: the row gives
-- the original batch, block and transaction; the page's anchors give the
-- extra one (duplicate_batch_halts.sql). No problem rows and no rows at
-- all are both normal: a problem row means an anchor was indexed that
-- should not have been (a ledger changed since, or a contract whose
-- batches_with_roots misses roots).

WITH a AS (
    SELECT x.chain_id,
           '0x' || encode(x.registry, 'hex') AS registry,
           '0x' || encode(x.tx_hash, 'hex') AS tx_hash,
           '0x' || encode(x.root, 'hex') AS root,
           x.batch_number,
           x.block_number,
           x.first_seen
    FROM relaywatch_state.anchors x
),
per_root AS (
    SELECT chain_id, registry, root, count(*) AS events
    FROM a GROUP BY chain_id, registry, root
),
per_batch AS (
    SELECT chain_id, registry, batch_number, count(DISTINCT root) AS roots
    FROM a GROUP BY chain_id, registry, batch_number
),
ledger AS (
    SELECT k.merkle_root, array_agg(k.batch_number ORDER BY k.batch_number) AS batches
    FROM relaywatch.batches_with_roots((SELECT array_agg(DISTINCT root) FROM a)) k
    GROUP BY k.merkle_root
),
checked AS (
    SELECT a.*,
           l.batches AS ledger_batches,
           concat_ws('; ',
               CASE WHEN pr.events > 1 THEN 'root anchored ' || pr.events || ' times' END,
               CASE WHEN pb.roots > 1 THEN 'batch number anchored with ' || pb.roots || ' roots' END,
               CASE WHEN l.batches IS NULL THEN 'root unknown to the ledger (a forged anchor?)'
                    WHEN NOT (a.batch_number = ANY (l.batches))
                        THEN 'the ledger holds this root as batch ' || array_to_string(l.batches, ', ')
               END) AS problem
    FROM a
    JOIN per_root pr USING (chain_id, registry, root)
    JOIN per_batch pb USING (chain_id, registry, batch_number)
    LEFT JOIN ledger l ON l.merkle_root = a.root
),
shown AS (
    SELECT * FROM checked WHERE problem <> ''
    UNION
    (SELECT * FROM checked ORDER BY block_number DESC, tx_hash LIMIT 20)
),
anchor_ops AS (
    SELECT o.op_id, o.tx_hash, o.status
    FROM relaywatch.latest_ids li,
         LATERAL relaywatch.operations_after(greatest(li.op_id - 10000, 0), 10000) o
    WHERE o.kind = 'anchor' AND o.tx_hash IS NOT NULL
)
SELECT s.problem,
       s.root,
       s.batch_number AS anchored_batch,
       s.block_number,
       s.tx_hash,
       s.ledger_batches::text AS ledger_batches,
       b.status AS ledger_status,
       b.anchor_tx_hash AS ledger_anchor_tx,
       CASE WHEN b.anchor_tx_hash = s.tx_hash THEN 'yes: the batch''s anchor_tx_hash'
            WHEN op.op_id IS NOT NULL THEN 'yes: anchor operation ' || op.op_id || ' (' || op.status || ')'
            ELSE 'no: not in the ledger (or older than its last 10000 operations)'
       END AS ledger_records_tx,
       s.chain_id,
       s.registry,
       s.first_seen
FROM shown s
LEFT JOIN LATERAL (
    SELECT x.status, x.anchor_tx_hash
    FROM relaywatch.batches_after(CASE WHEN s.batch_number BETWEEN 1 AND 9223372036854775807
                                       THEN s.batch_number::bigint - 1 END, 100) x
    WHERE x.batch_number = s.batch_number
    ORDER BY x.anchor_tx_hash = s.tx_hash DESC NULLS LAST
    LIMIT 1
) b ON true
LEFT JOIN LATERAL (
    SELECT ao.op_id, ao.status FROM anchor_ops ao WHERE ao.tx_hash = s.tx_hash ORDER BY ao.op_id LIMIT 1
) op ON true
ORDER BY s.problem = '', s.block_number DESC, s.tx_hash;
