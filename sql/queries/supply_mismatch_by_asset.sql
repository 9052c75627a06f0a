-- supply_mismatch_by_asset.sql: per asset, the ledger's locked and minted
-- totals and which way they differ: tokens LOST or tokens CREATED.
--
-- Runbook: runbooks/SUPPLY_MISMATCH.md ("First three things to look at",
-- "Which way: lost or created").
--
-- Run it as the watchdog's read-only role (relaywatch_reader):
--
--   psql "$RELAYWATCH_READER_URL" -f sql/queries/supply_mismatch_by_asset.sql
--
-- ($RELAYWATCH_READER_URL: the watchdog's own login, the [database] url
-- of relaywatch.conf; not the admin role `relaywatch db migrate` takes from
-- the same variable, though every query here only reads.)
--
-- and, to set the ledger beside the chains as the check does (recommended
-- during an incident), with the check's own evidence:
--
--   psql "$RELAYWATCH_READER_URL" -f sql/queries/supply_mismatch_by_asset.sql \
--     -v evidence="$(relaywatch validate --json | jq -c '.checks[] | select(.check=="SUPPLY_MISMATCH") | .evidence')"
--
-- (the whole `relaywatch validate --json` output is accepted too).
--
-- What it shows, one record per asset (relaywatch.assets):
--
-- The ledger side, summed from the ledger's beginning (after_block -1) with
-- relaywatch.locked_in_range and relaywatch.minted_in_range, as
-- invariants/supply_mismatch.c takes it:
--   ledger_locked = deposited - released (source chain),
--   ledger_minted = minted - burnt (execution chain),
-- through the blocks in source_block / execution_block: the pinned blocks
-- of the evidence when it is given (the very blocks the check summed to),
-- else the block through which the ledger has indexed each chain
-- (relaywatch.indexed_through). Amounts are in token units (name as in the
-- evidence's "units"); the *_base columns are exact base units, the form of
-- the evidence's "base" strings.
--
-- locked_vs_minted / ledger_reading: the ledger against itself. Normally
-- locked >= minted: the difference is deposits not yet minted and burns not
-- yet released (in flight). Minted above locked means the ledger itself
-- records unbacked bridged tokens: either mints beyond everything ever
-- deposited (CREATED) or releases beyond everything ever burnt (LOST from
-- the lockbox); the reading names which.
--
-- The chain side (lockbox balance, bridged totalSupply) is not in SQL: it
-- comes from the check's evidence, `relaywatch validate --json`, under
-- .checks[] | select(.check=="SUPPLY_MISMATCH") | .evidence.assets[]:
-- lockbox_balance.base (source, pinned block), total_supply.base
-- (execution, pinned block), lockbox_balance_at_tip / total_supply_at_tip
-- (the backing comparison's figures, present when the tip differs from the
-- pinned block), tolerance.base (from the configuration); the pinned blocks
-- are .evidence.source.pinned and .evidence.execution.pinned. Without -v
-- evidence those columns say "not given".
--
-- With the evidence, the three comparisons of the check, in its words, each
-- within the asset's tolerance (inclusive) or not:
--   locked  : lockbox below the ledger's locked total -> tokens LOST
--             (a drain, a release the ledger never recorded);
--             lockbox above -> a deposit the ledger missed, or a ledger
--             release row for a release that never happened.
--   minted  : totalSupply above the ledger's minted total -> tokens CREATED
--             (minted outside the bridge);
--             totalSupply below -> a burn the ledger missed, or a ledger
--             mint row for a mint that never happened.
--   backing : totalSupply above the lockbox balance (chains alone, at their
--             tips) -> bridged tokens UNBACKED; the locked and minted lines
--             say whether the lockbox lost tokens or tokens were created.
-- The evidence lists every asset when 16 or fewer are configured, else only
-- those not ok; an asset it does not list shows "not given".
-- ledger_since_evidence is not "unchanged" when the ledger now sums to other
-- figures at the pinned blocks than the evidence's ledger figures: rows at
-- or below those blocks were written or changed since validate ran.

\if :{?evidence}
\else
\set evidence ''
\endif
\x on

WITH given AS (
    SELECT CASE
               WHEN j IS NULL THEN NULL
               WHEN j ? 'checks' THEN (SELECT c -> 'evidence' FROM jsonb_array_elements(j -> 'checks') c
                                       WHERE c ->> 'check' = 'SUPPLY_MISMATCH' LIMIT 1)
               ELSE j
           END AS ev
    FROM (SELECT nullif(:'evidence', '')::jsonb AS j) s
),
heights AS (
    SELECT coalesce((g.ev #>> '{source,pinned}')::bigint,
                    (SELECT max(i.indexed_through) FROM relaywatch.indexed_through i
                     WHERE i.role = 'source')) AS source_block,
           coalesce((g.ev #>> '{execution,pinned}')::bigint,
                    (SELECT max(i.indexed_through) FROM relaywatch.indexed_through i
                     WHERE i.role = 'execution')) AS execution_block,
           CASE WHEN g.ev IS NULL THEN 'relaywatch.indexed_through'
                WHEN g.ev #>> '{source,pinned}' IS NOT NULL AND g.ev #>> '{execution,pinned}' IS NOT NULL
                    THEN 'the evidence''s pinned blocks'
                ELSE 'relaywatch.indexed_through where the evidence has no pinned block' END AS summed_through
    FROM given g
),
locked AS (
    SELECT l.asset, l.credited, l.debited
    FROM heights h, LATERAL relaywatch.locked_in_range(-1, h.source_block) l
),
minted AS (
    SELECT m.asset, m.credited, m.debited
    FROM heights h, LATERAL relaywatch.minted_in_range(-1, h.execution_block) m
),
chain AS (
    SELECT e ->> 'asset' AS asset,
           (e #>> '{lockbox_balance,base}')::numeric AS lockbox,
           (e #>> '{total_supply,base}')::numeric AS supply,
           coalesce((e #>> '{lockbox_balance_at_tip,base}')::numeric,
                    (e #>> '{lockbox_balance,base}')::numeric) AS lockbox_tip,
           coalesce((e #>> '{total_supply_at_tip,base}')::numeric,
                    (e #>> '{total_supply,base}')::numeric) AS supply_tip,
           (e #>> '{tolerance,base}')::numeric AS tolerance,
           (e #>> '{ledger,locked,base}')::numeric AS ev_locked,
           (e #>> '{ledger,minted_net,base}')::numeric AS ev_minted,
           e ->> 'status' AS status
    FROM given g, jsonb_array_elements(coalesce(g.ev -> 'assets', '[]')) e
),
t AS (
    SELECT a.asset, a.decimals, ('1e-' || a.decimals)::numeric AS unit,
           h.source_block, h.execution_block, h.summed_through, g.ev IS NOT NULL AS have_ev,
           l.credited AS deposited, l.debited AS released, l.credited - l.debited AS locked,
           m.credited AS minted, m.debited AS burnt, m.credited - m.debited AS minted_net,
           c.asset IS NOT NULL AS listed, c.status, c.lockbox, c.supply, c.lockbox_tip,
           c.supply_tip, c.tolerance, c.ev_locked, c.ev_minted
    FROM relaywatch.assets a
    CROSS JOIN heights h
    CROSS JOIN given g
    LEFT JOIN locked l ON l.asset = a.asset
    LEFT JOIN minted m ON m.asset = a.asset
    LEFT JOIN chain c ON c.asset = a.asset
),
d AS (
    SELECT t.*,
           t.locked - t.minted_net AS gap,
           t.lockbox - t.locked AS locked_delta,
           t.supply - t.minted_net AS minted_delta,
           t.supply_tip - t.lockbox_tip AS backing_delta
    FROM t
),
-- Amounts as token units: exact (a base amount times 1e-decimals), with
-- trailing zeros trimmed, followed by the asset's name.
u AS (
    SELECT d.*, x.*
    FROM d, LATERAL (
        SELECT max(CASE WHEN k = 1 THEN s END) AS u_deposited,
               max(CASE WHEN k = 2 THEN s END) AS u_released,
               max(CASE WHEN k = 3 THEN s END) AS u_locked,
               max(CASE WHEN k = 4 THEN s END) AS u_minted,
               max(CASE WHEN k = 5 THEN s END) AS u_burnt,
               max(CASE WHEN k = 6 THEN s END) AS u_minted_net,
               max(CASE WHEN k = 7 THEN s END) AS u_gap,
               max(CASE WHEN k = 8 THEN s END) AS u_locked_delta,
               max(CASE WHEN k = 9 THEN s END) AS u_minted_delta,
               max(CASE WHEN k = 10 THEN s END) AS u_backing_delta,
               max(CASE WHEN k = 11 THEN s END) AS u_minted_excess,
               max(CASE WHEN k = 12 THEN s END) AS u_released_excess
        FROM (SELECT k, regexp_replace(regexp_replace((abs(v) * d.unit)::text,
                                                      '(\.[0-9]*?)0+$', '\1'), '\.$', '')
                            || ' ' || d.asset AS s
              FROM unnest(ARRAY[d.deposited, d.released, d.locked, d.minted, d.burnt,
                                d.minted_net, d.gap, d.locked_delta, d.minted_delta,
                                d.backing_delta, d.minted - d.deposited,
                                d.released - d.burnt]) WITH ORDINALITY AS v(v, k)) f
    ) x
)
SELECT asset,
       source_block,
       execution_block,
       summed_through,
       u_deposited AS deposited,
       u_released AS released,
       CASE WHEN locked < 0 THEN '-' ELSE '' END || u_locked AS ledger_locked,
       u_minted AS minted,
       u_burnt AS burnt,
       CASE WHEN minted_net < 0 THEN '-' ELSE '' END || u_minted_net AS ledger_minted,
       CASE WHEN gap = 0 THEN 'equal'
            WHEN gap > 0 THEN 'locked above minted by ' || u_gap
            ELSE 'minted above locked by ' || u_gap END AS locked_vs_minted,
       concat_ws('; ',
           CASE WHEN gap = 0 THEN 'every token the ledger says is locked is minted'
                WHEN gap > 0 THEN 'in flight: deposits not yet minted, burns not yet released (not a loss by itself)'
                ELSE 'the ledger itself records more minted than locked: unbacked by its own figures' END,
           CASE WHEN minted > deposited THEN
                'CREATED: minted exceeds everything ever deposited by ' || u_minted_excess END,
           CASE WHEN released > burnt THEN
                'LOST: released from the lockbox beyond everything ever burnt by ' || u_released_excess END
       ) AS ledger_reading,
       CASE WHEN NOT have_ev THEN 'not given (run with -v evidence=..., see the header)'
            WHEN NOT listed THEN 'not given (the evidence does not list this asset: it was ok)'
            WHEN lockbox IS NULL THEN 'not given (the evidence has no lockbox balance: source unreadable)'
            WHEN abs(locked_delta) <= tolerance THEN 'ok: lockbox within tolerance of the ledger''s locked total'
            WHEN locked_delta < 0 THEN 'LOST: lockbox below the ledger''s locked total by ' || u_locked_delta
                                       || ' (a drain, a release the ledger never recorded)'
            ELSE 'lockbox above the ledger''s locked total by ' || u_locked_delta
                 || ' (a deposit the ledger missed, or a ledger release that never happened)'
       END AS locked_comparison,
       CASE WHEN NOT have_ev OR NOT listed OR supply IS NULL THEN 'not given'
            WHEN abs(minted_delta) <= tolerance THEN 'ok: totalSupply within tolerance of the ledger''s minted total'
            WHEN minted_delta > 0 THEN 'CREATED: totalSupply above the ledger''s minted total by ' || u_minted_delta
                                       || ' (minted outside the bridge)'
            ELSE 'totalSupply below the ledger''s minted total by ' || u_minted_delta
                 || ' (a burn the ledger missed, or a ledger mint that never happened)'
       END AS minted_comparison,
       CASE WHEN NOT have_ev OR NOT listed OR supply_tip IS NULL OR lockbox_tip IS NULL THEN 'not given'
            WHEN backing_delta > tolerance THEN 'UNBACKED: totalSupply above the lockbox balance by ' || u_backing_delta
                                                || ' (more minted than locked; the two lines above say lost or created)'
            ELSE 'ok: totalSupply within the lockbox balance'
       END AS backing_comparison,
       CASE WHEN NOT have_ev OR NOT listed THEN 'not given'
            WHEN ev_locked IS NOT DISTINCT FROM locked AND ev_minted IS NOT DISTINCT FROM minted_net
                THEN 'unchanged'
            ELSE 'CHANGED: the ledger now sums to other figures at these blocks than the evidence ('
                 || coalesce(ev_locked::text, '?') || ' locked, ' || coalesce(ev_minted::text, '?')
                 || ' minted, in base units): rows written or changed since'
       END AS ledger_since_evidence,
       locked AS ledger_locked_base,
       minted_net AS ledger_minted_base,
       lockbox AS lockbox_balance_base,
       supply AS total_supply_base,
       tolerance AS tolerance_base
FROM u
ORDER BY asset;
