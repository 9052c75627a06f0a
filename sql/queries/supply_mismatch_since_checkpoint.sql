-- supply_mismatch_since_checkpoint.sql: per asset and side, what the
-- watchdog last found matching (its checkpoint) against the ledger now:
-- rows changed under the checkpoint, and what came in since.
--
-- Runbook: runbooks/SUPPLY_MISMATCH.md ("First three things to look at",
-- 2 and 3: the blocks to look at on chain and in the ledger).
--
-- Run it as the watchdog's read-only role (relaywatch_reader):
--
--   psql "$RELAYWATCH_READER_URL" -f sql/queries/supply_mismatch_since_checkpoint.sql
--
-- ($RELAYWATCH_READER_URL: the watchdog's own login, the [database] url
-- of relaywatch.conf; not the admin role `relaywatch db migrate` takes from
-- the same variable, though every query here only reads.)
--
-- What it shows: one row per checkpoint in relaywatch_state.checkpoints (the
-- full sums of the last passing cycle that summed the whole ledger: scope
-- "source=<chain id>" for the locked side, "execution=<chain id>" for the
-- minted side; rows of the empty scope, from before migration 0005, are
-- never read and are left out), beside the ledger now, through
-- relaywatch.locked_in_range / relaywatch.minted_in_range. Amounts are
-- exact base units; "credited" is deposits (locked) or mints (minted),
-- "debited" releases (locked) or burns (minted), as in the checkpoints.
--
--   checkpoint_net       credited - debited at the checkpoint: what the
--                        watchdog last saw match the chain (locked: the
--                        lockbox balance; minted: the bridged totalSupply,
--                        each within tolerance), through checkpoint_block.
--   changed_under_checkpoint
--                        the ledger now over the same blocks (-1,
--                        checkpoint_block] minus the checkpoint: anything
--                        but 0 means rows at or below a block already
--                        matched were written, changed or deleted
--                        afterwards (the watchdog logs this as
--                        ledger_totals_changed): a ledger edited behind the
--                        relayer's back, or late indexing.
--   since_credited / since_debited / since_net
--                        what the ledger recorded after the checkpoint, in
--                        blocks checkpoint_block+1 .. indexed_through of the
--                        scope's chain: the window in which the mismatch
--                        appeared. Look at the lockbox's (locked) or the
--                        bridged token's (minted) transfers in exactly
--                        these blocks (`look_at_blocks`) and compare: a
--                        transfer on chain with no ledger row is the
--                        delta of the page.
--
-- No rows: the watchdog has saved no checkpoint yet (no passing full sweep
-- since it was installed), or relaywatch_state.checkpoints was emptied.
-- The chain figures themselves are not in SQL: the check's evidence has
-- them (`relaywatch validate --json`: .evidence.assets[].lockbox_balance,
-- .total_supply); see supply_mismatch_by_asset.sql.

WITH cp AS (
    SELECT c.scope, c.side, c.asset, c.credited, c.debited, c.through_block, c.updated_at,
           CASE WHEN c.scope ~ '^(source|execution)=[0-9]{1,18}$'
                THEN split_part(c.scope, '=', 2)::bigint END AS chain_id
    FROM relaywatch_state.checkpoints c
    WHERE c.scope <> ''
),
-- One range read per side and block (a scope's assets share one block),
-- not one per asset.
ranges AS (
    SELECT DISTINCT cp.side, cp.chain_id, cp.through_block, i.indexed_through
    FROM cp
    LEFT JOIN relaywatch.indexed_through i ON i.chain_id = cp.chain_id
),
blocks AS (
    SELECT DISTINCT cp.side, cp.through_block FROM cp
),
under AS (
    SELECT b.side, b.through_block, x.asset, x.credited, x.debited
    FROM blocks b, LATERAL relaywatch.locked_in_range(-1, b.through_block) x
    WHERE b.side = 'locked'
    UNION ALL
    SELECT b.side, b.through_block, x.asset, x.credited, x.debited
    FROM blocks b, LATERAL relaywatch.minted_in_range(-1, b.through_block) x
    WHERE b.side = 'minted'
),
since AS (
    SELECT r.side, r.chain_id, r.through_block, x.asset, x.credited, x.debited
    FROM ranges r, LATERAL relaywatch.locked_in_range(r.through_block, r.indexed_through) x
    WHERE r.side = 'locked' AND r.indexed_through > r.through_block
    UNION ALL
    SELECT r.side, r.chain_id, r.through_block, x.asset, x.credited, x.debited
    FROM ranges r, LATERAL relaywatch.minted_in_range(r.through_block, r.indexed_through) x
    WHERE r.side = 'minted' AND r.indexed_through > r.through_block
)
SELECT cp.asset,
       cp.side,
       cp.scope,
       cp.through_block AS checkpoint_block,
       cp.updated_at AS checkpoint_saved,
       cp.credited - cp.debited AS checkpoint_net,
       CASE WHEN u.asset IS NULL THEN NULL
            ELSE (u.credited - u.debited) - (cp.credited - cp.debited) END AS changed_under_checkpoint,
       CASE WHEN u.asset IS NULL THEN 'the ledger has no such asset now'
            WHEN u.credited = cp.credited AND u.debited = cp.debited THEN 'unchanged'
            ELSE 'CHANGED: credited ' || (u.credited - cp.credited) || ', debited '
                 || (u.debited - cp.debited) || ' since the checkpoint was saved'
       END AS under_checkpoint,
       coalesce(s.credited, 0) AS since_credited,
       coalesce(s.debited, 0) AS since_debited,
       coalesce(s.credited, 0) - coalesce(s.debited, 0) AS since_net,
       CASE WHEN r.indexed_through IS NULL THEN 'the ledger does not index chain ' || coalesce(cp.chain_id::text, '?')
            WHEN r.indexed_through <= cp.through_block THEN 'none: indexed through ' || r.indexed_through
            ELSE (cp.through_block + 1) || ' .. ' || r.indexed_through || ' on chain ' || cp.chain_id
       END AS look_at_blocks
FROM cp
LEFT JOIN ranges r ON r.side = cp.side AND r.chain_id IS NOT DISTINCT FROM cp.chain_id
                  AND r.through_block = cp.through_block
LEFT JOIN under u ON u.side = cp.side AND u.through_block = cp.through_block AND u.asset = cp.asset
LEFT JOIN since s ON s.side = cp.side AND s.chain_id IS NOT DISTINCT FROM cp.chain_id
                 AND s.through_block = cp.through_block AND s.asset = cp.asset
ORDER BY cp.asset, cp.side, cp.scope;
