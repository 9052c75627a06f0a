-- proof_verification_halts.sql: the findings of the latest
-- PROOF_VERIFICATION_FAIL halts, one row per finding.
--
-- Runbook: runbooks/PROOF_VERIFICATION_FAIL.md ("First three things to look
-- at", 1).
--
-- Run it as the watchdog's read-only role (relaywatch_reader):
--
--   psql "$RELAYWATCH_READER_URL" -f sql/queries/proof_verification_halts.sql
--
-- ($RELAYWATCH_READER_URL: the watchdog's own login, the [database] url
-- of relaywatch.conf; not the admin role `relaywatch db migrate` takes from
-- the same variable, though every query here only reads.)
--
-- What it shows: for the 10 latest halts of relaywatch_state.halts with
-- invariant PROOF_VERIFICATION_FAIL (enforce mode only: shadow mode records
-- no halt; then use `relaywatch validate --json`, .evidence.findings), each
-- finding of the halt's evidence (invariants/proof_verification_fail.c, at
-- most 100 per halt; the counts are exact): kind, status (violated, or
-- unknown: could not be checked), batch and the check's message, with the
-- halt's counts (batches, leaves, withdrawals and proofs read, proofs
-- verified, anchors in flight, violations) and `lifted_by`, the RESUME
-- (relaywatch_state.resumes) that lifted the halt, empty while it stands.
--
-- How to read `kind` (the runbook's words): leaf_hash, leaf_count, root:
-- the ledger's batch contradicts itself (rows edited, or the tree built
-- wrong); anchored_root: the chain holds another root than the ledger;
-- not_anchored: the ledger says anchored, the registry has no root at the
-- pinned block; signature: signed by a key that is not a configured
-- signer; withdrawal_proof: a proof the relayer hands out does not verify.
-- Then the batch: proof_verification_batches.sql and
-- proof_verification_batch_leaves.sql (-v batch=N). No rows: no
-- PROOF_VERIFICATION_FAIL halt was recorded.

WITH h AS (
    SELECT halt_id, issued_at, acknowledged_at, heights, evidence
    FROM relaywatch_state.halts
    WHERE invariant = 'PROOF_VERIFICATION_FAIL'
    ORDER BY issued_at DESC
    LIMIT 10
)
SELECT h.halt_id,
       h.issued_at,
       (SELECT string_agg(r.resume_id, ', ' ORDER BY r.seen_at)
        FROM relaywatch_state.resumes r WHERE r.lifts @> ARRAY[h.halt_id]) AS lifted_by,
       f ->> 'kind' AS kind,
       f ->> 'status' AS status,
       f ->> 'batch' AS batch,
       f ->> 'message' AS message,
       format('%s batches, %s leaves, %s withdrawals; %s proofs verified, %s anchors in flight; %s violations',
              h.evidence ->> 'batches', h.evidence ->> 'leaves', h.evidence ->> 'withdrawals',
              h.evidence ->> 'proofs_verified', h.evidence ->> 'anchors_in_flight',
              h.evidence ->> 'violations') AS halt_counts,
       h.heights::text AS heights
FROM h
CROSS JOIN LATERAL jsonb_array_elements(coalesce(h.evidence -> 'findings', '[]')) WITH ORDINALITY AS x(f, n)
ORDER BY h.issued_at DESC, x.n;
