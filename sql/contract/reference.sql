-- The relaywatch contract for the reference relayer schema (sql/reference).
--
-- The `relaywatch` schema below is the only thing the watchdog reads. An
-- operator whose relayer keeps its ledger differently writes this file
-- again for their tables, keeping every name, column and type listed in
-- sql/README.md, and applies it with `relaywatch db migrate --contract FILE`.
--
-- Everything is owned by relaywatch_contract, which may only SELECT the
-- relayer's tables; functions run with its rights (SECURITY DEFINER, fixed
-- search_path) and are executable only by relaywatch_reader.
-- Applied again on every `db migrate`: every statement is idempotent.

CREATE SCHEMA IF NOT EXISTS relaywatch;
REVOKE ALL ON SCHEMA relaywatch FROM PUBLIC;
GRANT USAGE ON SCHEMA relaywatch TO relaywatch_reader;

GRANT USAGE ON SCHEMA relayer TO relaywatch_contract;
GRANT SELECT ON ALL TABLES IN SCHEMA relayer TO relaywatch_contract;
GRANT USAGE, CREATE ON SCHEMA relaywatch TO relaywatch_contract;

-- Assets: name, decimals, token on each chain.
CREATE OR REPLACE VIEW relaywatch.assets AS
SELECT a.symbol AS asset,
       a.decimals,
       '0x' || encode(a.source_token, 'hex') AS source_token,
       '0x' || encode(a.bridged_token, 'hex') AS bridged_token
FROM relayer.assets a;

-- The chains and the block through which the ledger has recorded them.
CREATE OR REPLACE VIEW relaywatch.indexed_through AS
SELECT c.chain_id, c.role, p.indexed_through
FROM relayer.chains c
LEFT JOIN relayer.chain_progress p USING (chain_id);

-- What added to (credited) and took from (debited) the locked total of
-- each asset in source blocks after_block < b <= through_block: deposits in,
-- released withdrawals out. Every asset has a row, zeros included.
CREATE OR REPLACE FUNCTION relaywatch.locked_in_range(after_block bigint, through_block bigint)
RETURNS TABLE (asset text, credited numeric, debited numeric)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    WITH d AS (SELECT asset_id, sum(amount) AS s FROM relayer.deposits
               WHERE block_number > after_block AND block_number <= through_block
               GROUP BY asset_id),
         w AS (SELECT asset_id, sum(amount) AS s FROM relayer.withdrawals
               WHERE release_block > after_block AND release_block <= through_block
               GROUP BY asset_id)
    SELECT a.symbol, coalesce(d.s, 0), coalesce(w.s, 0)
    FROM relayer.assets a
    LEFT JOIN d USING (asset_id)
    LEFT JOIN w USING (asset_id)
    ORDER BY a.symbol
$$;

-- The same for the minted total on the execution chain: mints in, burns out.
CREATE OR REPLACE FUNCTION relaywatch.minted_in_range(after_block bigint, through_block bigint)
RETURNS TABLE (asset text, credited numeric, debited numeric)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    WITH m AS (SELECT asset_id, sum(amount) AS s FROM relayer.mints
               WHERE block_number > after_block AND block_number <= through_block
               GROUP BY asset_id),
         b AS (SELECT asset_id, sum(amount) AS s FROM relayer.burns
               WHERE block_number > after_block AND block_number <= through_block
               GROUP BY asset_id)
    SELECT a.symbol, coalesce(m.s, 0), coalesce(b.s, 0)
    FROM relayer.assets a
    LEFT JOIN m USING (asset_id)
    LEFT JOIN b USING (asset_id)
    ORDER BY a.symbol
$$;

-- Settlement batches with a batch number above the cursor, oldest first.
CREATE OR REPLACE FUNCTION relaywatch.batches_after(after_batch bigint, max_rows integer)
RETURNS TABLE (batch_number bigint, merkle_root text, leaf_count integer, status text,
               anchor_block bigint, anchor_tx_hash text, relayer_signature text,
               created_at timestamptz, anchored_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    SELECT s.batch_number, '0x' || encode(s.merkle_root, 'hex'), s.leaf_count, s.status,
           s.anchor_block, '0x' || encode(s.anchor_tx_hash, 'hex'),
           '0x' || encode(s.relayer_signature, 'hex'), s.created_at, s.anchored_at
    FROM relayer.settlement_batch s
    WHERE s.batch_number > after_batch
    ORDER BY s.batch_number
    LIMIT max_rows
$$;

-- The batches the ledger holds for the given roots (to check anchors seen on
-- chain); a root the ledger does not know has no row.
CREATE OR REPLACE FUNCTION relaywatch.batches_with_roots(roots text[])
RETURNS TABLE (merkle_root text, batch_number bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    SELECT '0x' || encode(s.merkle_root, 'hex'), s.batch_number
    FROM relayer.settlement_batch s
    WHERE s.merkle_root = ANY (SELECT decode(substr(r, 3), 'hex') FROM unnest(roots) AS r)
    ORDER BY s.batch_number
$$;

-- Roots and batch numbers that appear more than once (never, with the
-- reference schema's UNIQUE constraints; other schemas may lack them).
CREATE OR REPLACE VIEW relaywatch.duplicate_batches AS
SELECT 'merkle_root' AS kind, '0x' || encode(merkle_root, 'hex') AS value,
       array_agg(batch_number ORDER BY batch_number) AS batch_numbers
FROM relayer.settlement_batch GROUP BY merkle_root HAVING count(*) > 1
UNION ALL
SELECT 'batch_number', batch_number::text, array_agg(batch_number)
FROM relayer.settlement_batch GROUP BY batch_number HAVING count(*) > 1;

-- The leaves of a batch with the values they hash, in leaf order.
CREATE OR REPLACE FUNCTION relaywatch.batch_leaves(batch bigint)
RETURNS TABLE (leaf_index integer, withdrawal_id bigint, token text, recipient text,
               amount numeric, leaf_hash text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    SELECT l.leaf_index, l.withdrawal_id, '0x' || encode(a.source_token, 'hex'),
           '0x' || encode(w.recipient, 'hex'), w.amount, '0x' || encode(l.leaf_hash, 'hex')
    FROM relayer.batch_leaves l
    JOIN relayer.withdrawals w USING (withdrawal_id)
    JOIN relayer.assets a ON a.asset_id = w.asset_id
    WHERE l.batch_number = batch
    ORDER BY l.leaf_index
$$;

-- The leaves of the batches after_batch < n <= through_batch, as
-- batch_leaves gives them, by batch then leaf order.
CREATE OR REPLACE FUNCTION relaywatch.leaves_in_batches(after_batch bigint, through_batch bigint)
RETURNS TABLE (batch_number bigint, leaf_index integer, withdrawal_id bigint, token text,
               recipient text, amount numeric, leaf_hash text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    SELECT l.batch_number, l.leaf_index, l.withdrawal_id, '0x' || encode(a.source_token, 'hex'),
           '0x' || encode(w.recipient, 'hex'), w.amount, '0x' || encode(l.leaf_hash, 'hex')
    FROM relayer.batch_leaves l
    JOIN relayer.withdrawals w USING (withdrawal_id)
    JOIN relayer.assets a ON a.asset_id = w.asset_id
    WHERE l.batch_number > after_batch AND l.batch_number <= through_batch
    ORDER BY l.batch_number, l.leaf_index
$$;

-- Withdrawals of the batches after_batch < n <= through_batch, with the
-- proof the relayer hands out (sibling hashes concatenated, leaf to root).
CREATE OR REPLACE FUNCTION relaywatch.withdrawals_in_batches(after_batch bigint, through_batch bigint)
RETURNS TABLE (withdrawal_id bigint, batch_number bigint, token text, recipient text,
               amount numeric, status text, proof text, release_block bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    SELECT w.withdrawal_id, p.batch_number, '0x' || encode(a.source_token, 'hex'),
           '0x' || encode(w.recipient, 'hex'), w.amount, w.status,
           '0x' || encode(p.proof, 'hex'), w.release_block
    FROM relayer.withdrawal_proofs p
    JOIN relayer.withdrawals w USING (withdrawal_id)
    JOIN relayer.assets a ON a.asset_id = w.asset_id
    WHERE p.batch_number > after_batch AND p.batch_number <= through_batch
    ORDER BY p.batch_number, w.withdrawal_id
$$;

-- The nonce the ledger expects each relayer account to use next.
CREATE OR REPLACE VIEW relaywatch.expected_nonces AS
SELECT n.chain_id, '0x' || encode(n.account, 'hex') AS account, n.next_nonce
FROM relayer.nonce_state n;

-- Operations not yet confirmed or failed, per kind and chain.
CREATE OR REPLACE VIEW relaywatch.pending_operations AS
SELECT o.kind, o.chain_id, count(*) AS pending, min(o.created_at) AS oldest
FROM relayer.operations o
WHERE o.status IN ('pending', 'sent')
GROUP BY o.kind, o.chain_id;

-- Operations with an id above the cursor, with their gas estimates.
CREATE OR REPLACE FUNCTION relaywatch.operations_after(after_op bigint, max_rows integer)
RETURNS TABLE (op_id bigint, kind text, chain_id bigint, account text, nonce bigint,
               tx_hash text, gas_estimate bigint, gas_used bigint, status text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    SELECT o.op_id, o.kind, o.chain_id, '0x' || encode(o.account, 'hex'), o.nonce,
           '0x' || encode(o.tx_hash, 'hex'), o.gas_estimate, o.gas_used, o.status
    FROM relayer.operations o
    WHERE o.op_id > after_op
    ORDER BY o.op_id
    LIMIT max_rows
$$;

-- Relayer cycles with an id above the cursor.
CREATE OR REPLACE FUNCTION relaywatch.cycle_timings_after(after_cycle bigint, max_rows integer)
RETURNS TABLE (cycle_id bigint, started_at timestamptz, duration_ms integer)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    SELECT c.cycle_id, c.started_at, c.duration_ms
    FROM relayer.cycle_timings c
    WHERE c.cycle_id > after_cycle
    ORDER BY c.cycle_id
    LIMIT max_rows
$$;

-- The highest operation and cycle ids the ledger holds, 0 when it holds
-- none: where the watchdog's cursors start.
CREATE OR REPLACE VIEW relaywatch.latest_ids AS
SELECT (SELECT coalesce(max(o.op_id), 0) FROM relayer.operations o) AS op_id,
       (SELECT coalesce(max(c.cycle_id), 0) FROM relayer.cycle_timings c) AS cycle_id;

-- The bridge's progress in counts, for metrics and the on-call page (never
-- for a verdict): exactly one row. A pending deposit has no mint yet; a
-- claimed withdrawal is released on the source chain. The watchdog reads it
-- at most every 15 s, since it counts whole tables.
CREATE OR REPLACE VIEW relaywatch.progress AS
SELECT d.deposits, d.deposits_pending, b.batches_created, b.batches_anchored,
       w.withdrawals, w.withdrawals_claimed, w.withdrawals_pending
FROM (SELECT count(*) AS deposits,
             count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM relayer.mints m
                                                WHERE m.deposit_id = d.deposit_id))
                 AS deposits_pending
      FROM relayer.deposits d) d,
     (SELECT count(*) AS batches_created,
             count(*) FILTER (WHERE s.status = 'anchored') AS batches_anchored
      FROM relayer.settlement_batch s) b,
     (SELECT count(*) AS withdrawals,
             count(*) FILTER (WHERE w.status = 'released') AS withdrawals_claimed,
             count(*) FILTER (WHERE w.status <> 'released') AS withdrawals_pending
      FROM relayer.withdrawals w) w;

-- Ownership and rights: owned by the read-only contract role, usable only
-- by the watchdog's reader role.
DO $$
DECLARE
    obj record;
BEGIN
    FOR obj IN SELECT c.oid::regclass::text AS name FROM pg_class c
               JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE n.nspname = 'relaywatch' AND c.relkind = 'v' LOOP
        EXECUTE format('ALTER VIEW %s OWNER TO relaywatch_contract', obj.name);
        EXECUTE format('REVOKE ALL ON %s FROM PUBLIC', obj.name);
        EXECUTE format('GRANT SELECT ON %s TO relaywatch_reader', obj.name);
    END LOOP;
    FOR obj IN SELECT p.oid::regprocedure::text AS name FROM pg_proc p
               JOIN pg_namespace n ON n.oid = p.pronamespace
               WHERE n.nspname = 'relaywatch' LOOP
        EXECUTE format('ALTER FUNCTION %s OWNER TO relaywatch_contract', obj.name);
        EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', obj.name);
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO relaywatch_reader', obj.name);
    END LOOP;
END
$$;
