-- nonce_desync_expected.sql: per relayer account and chain, the nonce the
-- ledger expects next, beside the nonces its own operations hold.
--
-- Runbook: runbooks/NONCE_DESYNC.md ("First three things to look at", 1
-- and 2).
--
-- Run it as the watchdog's read-only role (relaywatch_reader):
--
--   psql "$RELAYWATCH_READER_URL" -f sql/queries/nonce_desync_expected.sql
--
-- ($RELAYWATCH_READER_URL: the watchdog's own login, the [database] url
-- of relaywatch.conf; not the admin role `relaywatch db migrate` takes from
-- the same variable, though every query here only reads.)
--
-- What it shows: one row per row of relaywatch.expected_nonces (chain_id,
-- account, next_nonce: what the check compares, `ledger_next` in its
-- evidence), with the chain's role (relaywatch.indexed_through) and, from
-- the ledger's last 10,000 operations (relaywatch.operations_after from
-- relaywatch.latest_ids) of that account on that chain: how many, the
-- highest nonce recorded, the highest confirmed one, the operations sent or
-- pending (not yet mined) and failed, and the chain's operations waiting
-- (relaywatch.pending_operations, all accounts, per kind).
--
-- How to read it, with the check's evidence (`relaywatch validate --json`,
-- .evidence.accounts[]: nonce_latest, nonce_pending, ledger_next, block):
--   nonce_latest > next_nonce      chain ahead of the ledger: transactions
--                                  mined from the key that the ledger does
--                                  not count (someone else sent, or the
--                                  ledger lost state). Here: next_nonce
--                                  below highest_nonce + 1 means the ledger
--                                  itself lost count.
--   next_nonce - nonce_pending     ledger ahead of pending by more than
--     > nonce_gap (default 5)      [thresholds] nonce_gap: transactions the
--                                  ledger counts never reached the chain.
--                                  Here: the sent/pending operations at
--                                  nonces >= nonce_pending are the ones to
--                                  find (nonce_desync_operations.sql).
-- `ledger_consistent` compares next_nonce with the operations: "yes" when
-- next_nonce = highest nonce + 1; "counted ahead" when next_nonce is
-- higher (nonces counted with no operation recorded: a send recorded
-- late, or state lost); "behind its operations" when an operation already
-- holds a nonce >= next_nonce (the relayer would reuse a nonce).
-- No rows: the ledger has no relayer account (the check is then
-- could-not-evaluate).

WITH ops AS (
    SELECT o.*
    FROM relaywatch.latest_ids li,
         LATERAL relaywatch.operations_after(greatest(li.op_id - 10000, 0), 10000) o
),
per_account AS (
    SELECT chain_id, account,
           count(*) AS operations,
           min(op_id) AS first_op,
           max(nonce) AS highest_nonce,
           max(nonce) FILTER (WHERE status = 'confirmed') AS highest_confirmed,
           count(*) FILTER (WHERE status IN ('sent', 'pending')) AS in_flight,
           min(nonce) FILTER (WHERE status IN ('sent', 'pending')) AS lowest_in_flight,
           count(*) FILTER (WHERE status = 'failed') AS failed
    FROM ops
    GROUP BY chain_id, account
),
waiting AS (
    SELECT chain_id, string_agg(kind || ' ' || pending || ' since ' || oldest, ', ' ORDER BY kind) AS waiting
    FROM relaywatch.pending_operations
    GROUP BY chain_id
)
SELECT e.chain_id,
       (SELECT string_agg(i.role, ', ') FROM relaywatch.indexed_through i WHERE i.chain_id = e.chain_id) AS role,
       e.account,
       e.next_nonce,
       CASE WHEN p.operations IS NULL THEN 'no operation in the last 10000'
            WHEN e.next_nonce = p.highest_nonce + 1 THEN 'yes'
            WHEN e.next_nonce > p.highest_nonce + 1
                THEN 'counted ahead: ' || (e.next_nonce - p.highest_nonce - 1) || ' nonce(s) with no operation'
            ELSE 'behind its operations: an operation holds nonce ' || p.highest_nonce
       END AS ledger_consistent,
       p.highest_nonce,
       p.highest_confirmed,
       p.in_flight AS sent_or_pending,
       p.lowest_in_flight,
       p.failed,
       p.operations,
       p.first_op AS since_op,
       w.waiting AS chain_waiting
FROM relaywatch.expected_nonces e
LEFT JOIN per_account p ON p.chain_id = e.chain_id AND p.account = e.account
LEFT JOIN waiting w ON w.chain_id = e.chain_id
ORDER BY e.chain_id, e.account;
