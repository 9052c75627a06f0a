-- supply_mismatch_halts.sql: the figures of the latest SUPPLY_MISMATCH
-- halts, per asset and comparison, with which way each one broke.
--
-- Runbook: runbooks/SUPPLY_MISMATCH.md ("First three things to look at", 3;
-- "Which way: lost or created").
--
-- Run it as the watchdog's read-only role (relaywatch_reader):
--
--   psql "$RELAYWATCH_READER_URL" -f sql/queries/supply_mismatch_halts.sql
--
-- ($RELAYWATCH_READER_URL: the watchdog's own login, the [database] url
-- of relaywatch.conf; not the admin role `relaywatch db migrate` takes from
-- the same variable, though every query here only reads.)
--
-- What it shows: for the 10 latest halts of relaywatch_state.halts with
-- invariant SUPPLY_MISMATCH (enforce mode only: shadow mode pages, records
-- no halt), every comparison of the halt's evidence that was not ok (the
-- check's own record, invariants/supply_mismatch.c, taken at the pinned
-- heights in `heights`): the asset, the comparison (locked, minted or
-- backing), its status, the check's direction and delta, the chain figures
-- (lockbox_balance at the source pinned block, total_supply at the
-- execution pinned block; backing uses the *_at_tip figures when present),
-- the ledger's (ledger.locked = deposited - released, ledger.minted_net =
-- minted - burnt) and the asset's tolerance, all as the evidence's token
-- units. `lifted_by` names the RESUME (relaywatch_state.resumes) that lifted
-- the halt, empty while it stands.
--
-- How to read `meaning` (the check's direction, in the runbook's words):
--   locked, lockbox below the ledger's locked total   -> tokens LOST
--   minted, totalSupply above the ledger's minted total -> tokens CREATED
--   backing, totalSupply above the lockbox balance     -> UNBACKED (more
--     minted than locked): the locked and minted rows tell a drained
--     lockbox (LOST) from an inflated supply (CREATED). Backing is read at
--     the chains' tips, the other two at the pinned heights, so a halt may
--     hold backing alone: then run supply_mismatch_by_asset.sql with the
--     evidence of `relaywatch validate --json` for the other two.
--   lockbox above / totalSupply below the ledger       -> the ledger is
--     wrong: a deposit or burn it missed, or a row for an event that never
--     happened
-- An asset whose comparisons could not be made shows status unknown.
-- No rows: no SUPPLY_MISMATCH halt was recorded (or every comparison of
-- those recorded was ok, which a halt never is).
-- For the figures now, run `relaywatch validate --json` and
-- supply_mismatch_by_asset.sql with its evidence.

\x on

WITH h AS (
    SELECT halt_id, issued_at, acknowledged_at, heights, reason, evidence
    FROM relaywatch_state.halts
    WHERE invariant = 'SUPPLY_MISMATCH'
    ORDER BY issued_at DESC
    LIMIT 10
)
SELECT h.halt_id,
       h.issued_at,
       h.acknowledged_at,
       (SELECT string_agg(r.resume_id, ', ' ORDER BY r.seen_at)
        FROM relaywatch_state.resumes r WHERE r.lifts @> ARRAY[h.halt_id]) AS lifted_by,
       h.heights::text AS heights,
       a ->> 'asset' AS asset,
       c ->> 'comparison' AS comparison,
       c ->> 'status' AS status,
       CASE c ->> 'comparison' || '|' || coalesce(c ->> 'direction', '')
            WHEN 'locked|lockbox below the ledger''s locked total'
                THEN 'LOST: less in the lockbox than the ledger says is locked (a drain, a release the ledger never recorded)'
            WHEN 'minted|totalSupply above the ledger''s minted total'
                THEN 'CREATED: more bridged tokens than the ledger minted (minted outside the bridge)'
            WHEN 'backing|totalSupply above the lockbox balance'
                THEN 'UNBACKED: more minted than locked (the locked and minted rows, here or in validate, say LOST or CREATED)'
            WHEN 'locked|lockbox above the ledger''s locked total'
                THEN 'ledger short: a deposit the ledger missed, or a ledger release that never happened'
            WHEN 'minted|totalSupply below the ledger''s minted total'
                THEN 'ledger over: a burn the ledger missed, or a ledger mint that never happened'
            ELSE coalesce(c ->> 'detail', '')
       END AS meaning,
       c #>> '{delta,units}' AS delta,
       c ->> 'direction' AS direction,
       CASE WHEN c ->> 'comparison' = 'backing'
            THEN coalesce(a #>> '{lockbox_balance_at_tip,units}', a #>> '{lockbox_balance,units}')
            ELSE a #>> '{lockbox_balance,units}' END AS lockbox_balance,
       CASE WHEN c ->> 'comparison' = 'backing'
            THEN coalesce(a #>> '{total_supply_at_tip,units}', a #>> '{total_supply,units}')
            ELSE a #>> '{total_supply,units}' END AS total_supply,
       a #>> '{ledger,locked,units}' AS ledger_locked,
       a #>> '{ledger,minted_net,units}' AS ledger_minted,
       a #>> '{tolerance,units}' AS tolerance,
       c ->> 'detail' AS detail
FROM h
CROSS JOIN LATERAL jsonb_array_elements(coalesce(h.evidence -> 'assets', '[]')) a
CROSS JOIN LATERAL jsonb_array_elements(coalesce(a -> 'comparisons', '[]')) c
WHERE c ->> 'status' IS DISTINCT FROM 'ok'
ORDER BY h.issued_at DESC, asset,
         array_position(ARRAY['locked', 'minted', 'backing'], c ->> 'comparison');
