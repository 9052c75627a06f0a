-- proof_verification_batches.sql: the latest settlement batches, and those
-- named by the latest PROOF_VERIFICATION_FAIL halts, with what SQL alone
-- can tell about whether each one holds together.
--
-- Runbook: runbooks/PROOF_VERIFICATION_FAIL.md ("First three things to look
-- at", 1 to 3).
--
-- Run it as the watchdog's read-only role (relaywatch_reader):
--
--   psql "$RELAYWATCH_READER_URL" -f sql/queries/proof_verification_batches.sql
--
-- ($RELAYWATCH_READER_URL: the watchdog's own login, the [database] url
-- of relaywatch.conf; not the admin role `relaywatch db migrate` takes from
-- the same variable, though every query here only reads.)
--
-- What it shows: one row per batch, for the 20 latest ledger batches and
-- every batch named in a finding of the 5 latest PROOF_VERIFICATION_FAIL
-- halts (relaywatch_state.halts), newest first:
--   halt_findings   the halts' finding kinds for this batch (leaf_hash,
--                   leaf_count, root, anchored_root, not_anchored,
--                   signature, withdrawal_proof), with the halt id;
--   status, merkle_root, leaf_count, anchor_block, anchor_tx_hash,
--   created_at, anchored_at: the batch as relaywatch.batches_after gives it;
--   leaves          the leaves relaywatch.batch_leaves returns for it;
--   proofs          the withdrawals with a proof in it
--                   (relaywatch.withdrawals_in_batches);
--   indexed_root    the root the watchdog read anchored for this batch
--                   number on chain, from its checked anchors
--                   (relaywatch_state.anchors; NULL: none indexed, e.g. the
--                   watchdog never passed a cycle with it anchored);
--   problem         what SQL can see: leaf_count against the leaves, leaf
--                   indexes not 0..n-1, leaves against proofs, a status of
--                   anchored without anchor block or transaction, an
--                   indexed root other than the ledger's, a relayer
--                   signature that is not 65 bytes. Empty: nothing SQL can
--                   see.
--
-- How to read it: SQL cannot recompute keccak256, so a leaf hash, a root
-- or a proof that does not verify (findings leaf_hash, root,
-- withdrawal_proof) and a signature by an unknown key leave `problem`
-- empty: the halt's findings and `relaywatch validate --json` name them;
-- proof_verification_batch_leaves.sql shows the batch's rows to compare.
-- A batch with halt findings and an empty problem had rows whose values
-- changed (leaves, withdrawals, proofs) rather than rows missing.

WITH halt_batches AS (
    SELECT (fi ->> 'batch')::bigint AS batch_number,
           string_agg(DISTINCT (fi ->> 'kind') || ' (' || h.halt_id || ')', ', ') AS halt_findings
    FROM (SELECT halt_id, evidence FROM relaywatch_state.halts
          WHERE invariant = 'PROOF_VERIFICATION_FAIL'
          ORDER BY issued_at DESC LIMIT 5) h,
         jsonb_array_elements(coalesce(h.evidence -> 'findings', '[]')) fi
    WHERE fi ->> 'batch' ~ '^[0-9]{1,18}$'
    GROUP BY 1
),
-- The contract has no "latest batch number": read the batch list once
-- (batch numbers, roots and a few columns per batch: cheap even for years
-- of batches) and keep the ones shown.
all_batches AS (
    SELECT * FROM relaywatch.batches_after(-1, 2147483647)
),
picked AS (
    SELECT b.* FROM all_batches b
    WHERE b.batch_number IN (SELECT batch_number FROM all_batches ORDER BY batch_number DESC LIMIT 20)
       OR b.batch_number IN (SELECT batch_number FROM halt_batches)
),
leaves AS (
    SELECT p.batch_number, count(l.leaf_index) AS n,
           count(DISTINCT l.leaf_index) AS distinct_indexes,
           min(l.leaf_index) AS min_index, max(l.leaf_index) AS max_index
    FROM picked p
    LEFT JOIN LATERAL relaywatch.batch_leaves(p.batch_number) l ON true
    GROUP BY p.batch_number
),
proofs AS (
    SELECT p.batch_number, count(w.withdrawal_id) AS n
    FROM picked p
    LEFT JOIN LATERAL relaywatch.withdrawals_in_batches(p.batch_number - 1, p.batch_number) w ON true
    GROUP BY p.batch_number
),
indexed AS (
    SELECT a.batch_number, string_agg(DISTINCT '0x' || encode(a.root, 'hex'), ', ') AS roots
    FROM relaywatch_state.anchors a
    WHERE a.batch_number IN (SELECT batch_number FROM picked)
    GROUP BY a.batch_number
)
SELECT p.batch_number,
       hb.halt_findings,
       concat_ws('; ',
           CASE WHEN lv.n <> p.leaf_count
                THEN 'leaf_count ' || p.leaf_count || ' but ' || lv.n || ' leaves' END,
           CASE WHEN lv.n > 0 AND (lv.distinct_indexes <> lv.n OR lv.min_index <> 0 OR lv.max_index <> lv.n - 1)
                THEN 'leaf indexes are not 0..' || (lv.n - 1) END,
           CASE WHEN pr.n <> lv.n THEN pr.n || ' withdrawals with a proof for ' || lv.n || ' leaves' END,
           CASE WHEN p.status = 'anchored' AND (p.anchor_block IS NULL OR p.anchor_tx_hash IS NULL)
                THEN 'anchored without anchor block or transaction' END,
           CASE WHEN p.status NOT IN ('created', 'anchored') THEN 'unknown status ' || p.status END,
           CASE WHEN ix.roots IS NOT NULL AND ix.roots <> p.merkle_root
                THEN 'anchored on chain with root ' || ix.roots || ', not the ledger''s' END,
           CASE WHEN p.relayer_signature IS NULL OR length(p.relayer_signature) <> 132
                THEN 'relayer signature missing or not 65 bytes' END
       ) AS problem,
       p.status,
       p.merkle_root,
       ix.roots AS indexed_root,
       p.leaf_count,
       lv.n AS leaves,
       pr.n AS proofs,
       p.anchor_block,
       p.anchor_tx_hash,
       p.created_at,
       p.anchored_at
FROM picked p
JOIN leaves lv USING (batch_number)
JOIN proofs pr USING (batch_number)
LEFT JOIN indexed ix USING (batch_number)
LEFT JOIN halt_batches hb USING (batch_number)
ORDER BY p.batch_number DESC;
