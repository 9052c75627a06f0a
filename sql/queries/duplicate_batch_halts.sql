-- duplicate_batch_halts.sql: the findings of the latest DUPLICATE_BATCH
-- halts, one row per anchor they name, with what the ledger holds for its
-- root and whether the ledger records its transaction as the relayer's.
--
-- Runbook: runbooks/DUPLICATE_BATCH.md ("First three things to look at", 1
-- and 2).
--
-- Run it as the watchdog's read-only role (relaywatch_reader):
--
--   psql "$RELAYWATCH_READER_URL" -f sql/queries/duplicate_batch_halts.sql
--
-- ($RELAYWATCH_READER_URL: the watchdog's own login, the [database] url
-- of relaywatch.conf; not the admin role `relaywatch db migrate` takes from
-- the same variable, though every query here only reads.)
--
-- What it shows: for the 10 latest halts of relaywatch_state.halts with
-- invariant DUPLICATE_BATCH (enforce mode only: shadow mode records no
-- halt; then use `relaywatch validate --json`, .evidence.findings), every
-- finding of the halt's evidence: its kind and message (the check's words,
-- invariants/duplicate_batch.c) and, for each anchor it names (`anchors`:
-- batch_id, root, block, tx_hash), one row with
--   ledger_batches_now  the batches the ledger holds for that root now
--                       (relaywatch.batches_with_roots; NULL: unknown);
--   ledger_records_tx   whether the ledger has the anchor's transaction: as
--                       the anchor_tx_hash of a ledger batch holding that
--                       root, or as an `anchor` operation among its last
--                       10,000 operations (relaywatch.operations_after).
-- Ledger findings (ledger_duplicate_root, ledger_duplicate_batch) name no
-- anchor: one row, with the batch numbers in `value` / `batch_numbers`
-- (then duplicate_batch_ledger.sql).
--
-- How to read it: for a root or batch anchored twice the first anchor is
-- normally the relayer's (ledger_records_tx yes) and the second the one to
-- explain. An anchor the ledger does not record (no): look up its sender
-- on an explorer; another account means the registry's access is
-- compromised, the relayer's own account that its key is used outside the
-- relayer (NONCE_DESYNC usually follows). forged_anchor is a root the
-- ledger has never held. `lifted_by` names the RESUME that lifted the
-- halt, if any.
-- No rows: no DUPLICATE_BATCH halt was recorded.

\x on

WITH h AS (
    SELECT halt_id, issued_at, acknowledged_at, evidence
    FROM relaywatch_state.halts
    WHERE invariant = 'DUPLICATE_BATCH'
    ORDER BY issued_at DESC
    LIMIT 10
),
f AS (
    SELECT h.halt_id, h.issued_at, h.acknowledged_at, fi.finding, fi.n
    FROM h, jsonb_array_elements(coalesce(h.evidence -> 'findings', '[]')) WITH ORDINALITY AS fi(finding, n)
),
rows AS (
    SELECT f.*, an.anchor, an.k
    FROM f
    LEFT JOIN LATERAL jsonb_array_elements(coalesce(f.finding -> 'anchors', '[]'))
        WITH ORDINALITY AS an(anchor, k) ON true
),
roots AS (
    SELECT k.merkle_root, array_agg(k.batch_number ORDER BY k.batch_number) AS batches,
           array_agg(b.anchor_tx_hash) AS anchor_txs
    FROM relaywatch.batches_with_roots(
             (SELECT array_agg(DISTINCT lower(r.anchor ->> 'root')) FROM rows r
              WHERE r.anchor ->> 'root' ~* '^0x[0-9a-f]{64}$')) k
    LEFT JOIN LATERAL (
        SELECT x.anchor_tx_hash FROM relaywatch.batches_after(k.batch_number - 1, 100) x
        WHERE x.batch_number = k.batch_number LIMIT 1
    ) b ON true
    GROUP BY k.merkle_root
),
anchor_ops AS (
    SELECT o.op_id, o.tx_hash, o.status
    FROM relaywatch.latest_ids li,
         LATERAL relaywatch.operations_after(greatest(li.op_id - 10000, 0), 10000) o
    WHERE o.kind = 'anchor' AND o.tx_hash IS NOT NULL
)
SELECT r.halt_id,
       r.issued_at,
       r.acknowledged_at,
       (SELECT string_agg(x.resume_id, ', ' ORDER BY x.seen_at)
        FROM relaywatch_state.resumes x WHERE x.lifts @> ARRAY[r.halt_id]) AS lifted_by,
       r.finding ->> 'kind' AS kind,
       r.finding ->> 'message' AS message,
       r.finding ->> 'value' AS value,
       r.finding ->> 'batch_numbers' AS batch_numbers,
       r.finding ->> 'ledger_batches' AS ledger_batches_at_halt,
       r.finding ->> 'known_tx_hash' AS known_tx_hash,
       r.finding ->> 'known_block' AS known_block,
       r.k AS anchor_no,
       r.anchor ->> 'batch_id' AS anchor_batch,
       r.anchor ->> 'root' AS anchor_root,
       r.anchor ->> 'block' AS anchor_block,
       r.anchor ->> 'tx_hash' AS anchor_tx,
       ro.batches::text AS ledger_batches_now,
       CASE WHEN r.anchor IS NULL THEN NULL
            WHEN lower(r.anchor ->> 'tx_hash') = ANY (ro.anchor_txs)
                THEN 'yes: anchor_tx_hash of a ledger batch with this root'
            WHEN op.op_id IS NOT NULL THEN 'yes: anchor operation ' || op.op_id || ' (' || op.status || ')'
            ELSE 'no: not in the ledger (or older than its last 10000 operations)'
       END AS ledger_records_tx
FROM rows r
LEFT JOIN roots ro ON ro.merkle_root = lower(r.anchor ->> 'root')
LEFT JOIN LATERAL (
    SELECT ao.op_id, ao.status FROM anchor_ops ao
    WHERE ao.tx_hash = lower(r.anchor ->> 'tx_hash') ORDER BY ao.op_id LIMIT 1
) op ON true
ORDER BY r.issued_at DESC, r.n, r.k;
