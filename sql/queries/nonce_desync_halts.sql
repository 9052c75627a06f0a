-- nonce_desync_halts.sql: the accounts of the latest NONCE_DESYNC halts,
-- with which case each one was and the ledger's next nonce now.
--
-- Runbook: runbooks/NONCE_DESYNC.md ("First three things to look at", 1).
--
-- Run it as the watchdog's read-only role (relaywatch_reader):
--
--   psql "$RELAYWATCH_READER_URL" -f sql/queries/nonce_desync_halts.sql
--
-- ($RELAYWATCH_READER_URL: the watchdog's own login, the [database] url
-- of relaywatch.conf; not the admin role `relaywatch db migrate` takes from
-- the same variable, though every query here only reads.)
--
-- What it shows: for the 10 latest halts of relaywatch_state.halts with
-- invariant NONCE_DESYNC (enforce mode only: shadow mode records no halt;
-- then use `relaywatch validate --json`, .evidence.accounts[]), every
-- account of the halt's evidence (invariants/nonce_desync.c) that was not
-- ok: chain, address, the block it was read at (the chain's tip), the
-- chain's nonce_latest and nonce_pending, the ledger's ledger_next then,
-- the allowed nonce_gap, and `which_case`:
--   chain ahead of the ledger    nonce_latest > ledger_next: by how many;
--                                transactions mined from the key that the
--                                ledger does not count;
--   ledger ahead of pending      ledger_next - nonce_pending > nonce_gap:
--                                by how many; transactions the ledger
--                                counts never reached the chain;
-- and next_nonce_now, relaywatch.expected_nonces for that account now
-- (moved since the halt: the relayer, or whoever holds the key, is still
-- sending: see HALT_NOT_EFFECTIVE). `lifted_by` names the RESUME
-- (relaywatch_state.resumes) that lifted the halt, empty while it stands.
-- No rows: no NONCE_DESYNC halt was recorded.

\x on

WITH h AS (
    SELECT halt_id, issued_at, acknowledged_at, evidence
    FROM relaywatch_state.halts
    WHERE invariant = 'NONCE_DESYNC'
    ORDER BY issued_at DESC
    LIMIT 10
),
acc AS (
    SELECT h.halt_id, h.issued_at, h.acknowledged_at, a, n,
           (h.evidence ->> 'nonce_gap')::numeric AS nonce_gap,
           (a ->> 'nonce_latest')::numeric AS latest,
           (a ->> 'nonce_pending')::numeric AS pending,
           (a ->> 'ledger_next')::numeric AS ledger_next,
           h.evidence #>> ARRAY[a ->> 'chain', 'chain_id'] AS chain_id
    FROM h, jsonb_array_elements(coalesce(h.evidence -> 'accounts', '[]')) WITH ORDINALITY AS x(a, n)
    WHERE a ->> 'status' IS DISTINCT FROM 'ok'
)
SELECT acc.halt_id,
       acc.issued_at,
       acc.acknowledged_at,
       (SELECT string_agg(r.resume_id, ', ' ORDER BY r.seen_at)
        FROM relaywatch_state.resumes r WHERE r.lifts @> ARRAY[acc.halt_id]) AS lifted_by,
       acc.a ->> 'chain' AS chain,
       acc.chain_id,
       acc.a ->> 'address' AS account,
       acc.a ->> 'status' AS status,
       CASE WHEN acc.latest > acc.ledger_next
                THEN 'chain ahead of the ledger by ' || (acc.latest - acc.ledger_next)
                     || ': nonces ' || acc.ledger_next || '..' || (acc.latest - 1) || ' mined with no ledger count'
            WHEN acc.ledger_next - acc.pending > acc.nonce_gap
                THEN 'ledger ahead of pending by ' || (acc.ledger_next - acc.pending)
                     || ' (allowed ' || acc.nonce_gap || '): nonces ' || acc.pending || '..'
                     || (acc.ledger_next - 1) || ' never reached the chain'
            ELSE coalesce(acc.a ->> 'detail', '')
       END AS which_case,
       acc.a ->> 'block' AS block,
       acc.latest AS nonce_latest,
       acc.pending AS nonce_pending,
       acc.ledger_next,
       acc.nonce_gap,
       e.next_nonce AS next_nonce_now,
       acc.a ->> 'endpoint' AS endpoint
FROM acc
LEFT JOIN relaywatch.expected_nonces e
       ON e.account = lower(acc.a ->> 'address')
      AND e.chain_id = CASE WHEN acc.chain_id ~ '^[0-9]{1,18}$' THEN acc.chain_id::bigint END
ORDER BY acc.issued_at DESC, acc.n;
