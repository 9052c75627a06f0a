-- proof_verification_batch_leaves.sql: one batch's leaves beside its
-- withdrawals and their proofs, row by row.
--
-- Runbook: runbooks/PROOF_VERIFICATION_FAIL.md ("First three things to look
-- at", 2: the batch in the ledger).
--
-- Run it as the watchdog's read-only role (relaywatch_reader):
--
--   psql "$RELAYWATCH_READER_URL" -f sql/queries/proof_verification_batch_leaves.sql
--
-- ($RELAYWATCH_READER_URL: the watchdog's own login, the [database] url
-- of relaywatch.conf; not the admin role `relaywatch db migrate` takes from
-- the same variable, though every query here only reads.)
--
-- Which batch: the first batch named by the latest PROOF_VERIFICATION_FAIL
-- halt (relaywatch_state.halts), else the latest batch of the ledger; to
-- look at batch N of the page (subject `batch N`) instead, add `-v batch=N`:
--
--   psql "$RELAYWATCH_READER_URL" -v batch=N -f sql/queries/proof_verification_batch_leaves.sql
--
-- What it shows: one row per leaf of relaywatch.batch_leaves(N), joined on
-- withdrawal_id with the batch's withdrawals from
-- relaywatch.withdrawals_in_batches(N - 1, N) (a withdrawal with no leaf, or
-- a leaf with no withdrawal, has a row too):
--   batch, why      the batch shown and why it was picked;
--   leaf_index, withdrawal_id, token, recipient, amount, leaf_hash: the
--                   leaf and the values it hashes (OpenZeppelin
--                   StandardMerkleTree leaf of (uint256 withdrawalId,
--                   address token, address recipient, uint256 amount));
--   w_status, release_block: the withdrawal (batched or released);
--   proof_hashes    how many 32-byte sibling hashes its proof holds, and
--                   expected_hashes the range a tree of leaf_count leaves
--                   gives (floor..ceil of log2 leaf_count);
--   problem         what SQL can see: a leaf without a withdrawal proof or
--                   the reverse, token / recipient / amount differing
--                   between the leaf and the withdrawal, a proof that is
--                   not whole 32-byte hashes or has a length the tree
--                   cannot give, a leaf hash held twice.
--
-- How to read it: SQL cannot hash (keccak256), so a leaf whose fields were
-- edited after the tree was built shows no problem here: compare these
-- values with the halt's or validate's finding (leaf_hash names the leaf
-- index; withdrawal_proof the withdrawal id), with the withdrawal's
-- deposit or burn on chain, and with an earlier copy of the ledger. Then
-- who last changed relayer.batch_leaves, relayer.withdrawal_proofs or
-- relayer.settlement_batch (a role that may read relayer.*). No rows: the
-- ledger holds no batch yet, or batch N has no leaf and no withdrawal.

\if :{?batch}
\else
\set batch NULL
\endif

WITH halt_batch AS (
    SELECT (fi ->> 'batch')::bigint AS batch_number, h.halt_id
    FROM (SELECT halt_id, evidence FROM relaywatch_state.halts
          WHERE invariant = 'PROOF_VERIFICATION_FAIL'
          ORDER BY issued_at DESC LIMIT 1) h,
         jsonb_array_elements(coalesce(h.evidence -> 'findings', '[]')) WITH ORDINALITY AS f(fi, n)
    WHERE fi ->> 'status' = 'violated' AND fi ->> 'batch' ~ '^[0-9]{1,18}$'
    ORDER BY f.n
    LIMIT 1
),
target AS (
    SELECT coalesce(g.n, hb.batch_number, lb.batch_number) AS batch_number,
           CASE WHEN g.n IS NOT NULL THEN 'given with -v batch'
                WHEN hb.batch_number IS NOT NULL THEN 'named by ' || hb.halt_id
                WHEN lb.batch_number IS NOT NULL THEN 'the latest batch'
           END AS why
    FROM (SELECT (:batch)::bigint AS n) g
    LEFT JOIN halt_batch hb ON true
    LEFT JOIN (SELECT max(x.batch_number) AS batch_number
               FROM relaywatch.batches_after(-1, 2147483647) x) lb ON true
),
b AS (
    SELECT t.batch_number, t.why, x.leaf_count
    FROM target t
    LEFT JOIN LATERAL (
        SELECT y.leaf_count FROM relaywatch.batches_after(t.batch_number - 1, 1) y
        WHERE y.batch_number = t.batch_number
    ) x ON true
    WHERE t.batch_number IS NOT NULL
),
l AS (
    SELECT x.* FROM b, LATERAL relaywatch.batch_leaves(b.batch_number) x
),
w AS (
    SELECT x.* FROM b, LATERAL relaywatch.withdrawals_in_batches(b.batch_number - 1, b.batch_number) x
),
j AS (
    SELECT l.leaf_index, coalesce(l.withdrawal_id, w.withdrawal_id) AS withdrawal_id,
           l.token, l.recipient, l.amount, l.leaf_hash,
           w.withdrawal_id IS NOT NULL AS has_w, l.leaf_index IS NOT NULL AS has_l,
           w.token AS w_token, w.recipient AS w_recipient, w.amount AS w_amount,
           w.status AS w_status, w.release_block, w.proof,
           count(*) FILTER (WHERE l.leaf_hash IS NOT NULL) OVER (PARTITION BY l.leaf_hash) AS same_hash
    FROM l FULL JOIN w ON w.withdrawal_id = l.withdrawal_id
),
-- floor(log2 n) and ceil(log2 n) from bit lengths: a StandardMerkleTree of
-- n leaves gives proofs of one of these lengths.
depth AS (
    SELECT b.*,
           length(ltrim(greatest(b.leaf_count, 1)::bit(32)::text, '0')) - 1 AS lo,
           length(ltrim((greatest(b.leaf_count, 1) - 1)::bit(32)::text, '0')) AS hi
    FROM b
)
SELECT d.batch_number AS batch,
       d.why,
       j.leaf_index,
       j.withdrawal_id,
       concat_ws('; ',
           CASE WHEN NOT j.has_w THEN 'leaf without a withdrawal proof in this batch' END,
           CASE WHEN NOT j.has_l THEN 'withdrawal with a proof but no leaf in this batch' END,
           CASE WHEN j.has_w AND j.has_l AND j.w_token IS DISTINCT FROM j.token THEN 'token differs from the withdrawal''s' END,
           CASE WHEN j.has_w AND j.has_l AND j.w_recipient IS DISTINCT FROM j.recipient THEN 'recipient differs from the withdrawal''s' END,
           CASE WHEN j.has_w AND j.has_l AND j.w_amount IS DISTINCT FROM j.amount THEN 'amount differs from the withdrawal''s' END,
           CASE WHEN j.has_w AND (j.proof IS NULL OR j.proof !~ '^0x([0-9a-f]{64})*$')
                THEN 'proof is not whole 32-byte hashes' END,
           CASE WHEN j.has_w AND j.proof ~ '^0x([0-9a-f]{64})*$'
                     AND (length(j.proof) - 2) / 64 NOT BETWEEN d.lo AND d.hi
                THEN 'proof of ' || (length(j.proof) - 2) / 64 || ' hashes, expected ' || d.lo || '..' || d.hi END,
           CASE WHEN j.same_hash > 1 THEN 'leaf hash held ' || j.same_hash || ' times' END
       ) AS problem,
       j.token,
       j.recipient,
       j.amount,
       j.leaf_hash,
       j.w_status,
       j.release_block,
       CASE WHEN j.proof ~ '^0x([0-9a-f]{64})*$' THEN (length(j.proof) - 2) / 64 END AS proof_hashes,
       d.lo || '..' || d.hi AS expected_hashes,
       d.leaf_count
FROM depth d
CROSS JOIN j
ORDER BY j.leaf_index NULLS LAST, j.withdrawal_id;
