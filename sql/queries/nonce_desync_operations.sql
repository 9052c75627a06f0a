-- nonce_desync_operations.sql: each relayer account's latest operations by
-- nonce, with gaps and reused nonces marked.
--
-- Runbook: runbooks/NONCE_DESYNC.md ("First three things to look at", 2).
--
-- Run it as the watchdog's read-only role (relaywatch_reader):
--
--   psql "$RELAYWATCH_READER_URL" -f sql/queries/nonce_desync_operations.sql
--
-- ($RELAYWATCH_READER_URL: the watchdog's own login, the [database] url
-- of relaywatch.conf; not the admin role `relaywatch db migrate` takes from
-- the same variable, though every query here only reads.)
--
-- What it shows: for every account of relaywatch.expected_nonces on every
-- chain, its 20 highest-nonce operations among the ledger's last 10,000
-- (relaywatch.operations_after from relaywatch.latest_ids), highest nonce
-- first: op_id, kind (mint, anchor, release), nonce, status (pending,
-- sent, confirmed, failed), tx_hash (NULL until sent), gas_used (NULL
-- until mined), and the account's next_nonce; `mark` says when the nonce
-- is used by more than one operation, when the next lower nonce recorded
-- is not nonce - 1 (a gap: nonces the ledger has no operation for), and
-- when the nonce is at or above next_nonce.
--
-- How to read it, with the check's evidence (`relaywatch validate --json`,
-- .evidence.accounts[]: nonce_latest, nonce_pending, ledger_next):
--   chain ahead (nonce_latest > ledger_next): the nonces from ledger_next
--     to nonce_latest - 1 were mined with no operation here: find those
--     transactions on an explorer (`cast nonce`, the account's history).
--     The relayer's own (a retry, a second instance) or unknown: unknown
--     transactions signed by the relayer's key are an incident.
--   ledger ahead (ledger_next - nonce_pending > nonce_gap): the operations
--     here with nonce >= nonce_pending never reached the chain; their
--     status (sent, pending) and tx_hash are what to look for in the
--     relayer's log and through another provider.
-- Older than the last 10,000 operations: the ledger itself (a role that may
-- read relayer.*), relayer.operations. No rows: no operation recorded.

WITH ops AS (
    SELECT o.*
    FROM relaywatch.latest_ids li,
         LATERAL relaywatch.operations_after(greatest(li.op_id - 10000, 0), 10000) o
),
marked AS (
    SELECT o.*,
           count(*) OVER (PARTITION BY o.chain_id, o.account, o.nonce) AS uses,
           lag(o.nonce) OVER (PARTITION BY o.chain_id, o.account ORDER BY o.nonce, o.op_id) AS prev_nonce,
           row_number() OVER (PARTITION BY o.chain_id, o.account ORDER BY o.nonce DESC, o.op_id DESC) AS rn
    FROM ops o
)
SELECT m.chain_id,
       m.account,
       m.nonce,
       m.op_id,
       m.kind,
       m.status,
       m.tx_hash,
       m.gas_used,
       e.next_nonce,
       concat_ws('; ',
           CASE WHEN m.uses > 1 THEN 'nonce used by ' || m.uses || ' operations' END,
           CASE WHEN m.prev_nonce IS NOT NULL AND m.prev_nonce <> m.nonce AND m.prev_nonce <> m.nonce - 1
                THEN 'gap: no operation at nonce ' || (m.prev_nonce + 1)
                     || CASE WHEN m.nonce - 1 > m.prev_nonce + 1 THEN '..' || (m.nonce - 1) ELSE '' END END,
           CASE WHEN e.next_nonce IS NOT NULL AND m.nonce >= e.next_nonce
                THEN 'at or above the ledger''s next nonce ' || e.next_nonce END,
           CASE WHEN e.next_nonce IS NULL THEN 'account not in relaywatch.expected_nonces' END
       ) AS mark
FROM marked m
LEFT JOIN relaywatch.expected_nonces e ON e.chain_id = m.chain_id AND e.account = m.account
WHERE m.rn <= 20
ORDER BY m.chain_id, m.account, m.nonce DESC, m.op_id DESC;
