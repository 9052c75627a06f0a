-- relaywatch's own state in the ledger database, and the roles it runs as.
--
-- relaywatch_reader: what the watchdog's login role is granted. It can read
-- the `relaywatch` contract (views and functions) and write only the tables
-- of `relaywatch_state`; it has no right on the relayer's tables at all.
-- relaywatch_contract: owns the contract views and functions, and may only
-- SELECT the relayer's tables (granted by the contract file), so even the
-- contract cannot change the ledger.

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'relaywatch_reader') THEN
        CREATE ROLE relaywatch_reader NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'relaywatch_contract') THEN
        CREATE ROLE relaywatch_contract NOLOGIN;
    END IF;
END
$$;

CREATE SCHEMA IF NOT EXISTS relaywatch_state;
REVOKE ALL ON SCHEMA relaywatch_state FROM PUBLIC;
GRANT USAGE ON SCHEMA relaywatch_state TO relaywatch_reader;

-- Running totals per asset and side, with the block they cover, so each
-- cycle reads only the blocks after it. credited/debited are the sums of
-- what added to and took from the total (deposits and releases for
-- "locked", mints and burns for "minted").
CREATE TABLE relaywatch_state.checkpoints (
    asset         text NOT NULL,
    side          text NOT NULL CHECK (side IN ('locked', 'minted')),
    credited      numeric(78,0) NOT NULL CHECK (credited >= 0),
    debited       numeric(78,0) NOT NULL CHECK (debited >= 0),
    through_block bigint NOT NULL CHECK (through_block >= 0),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (asset, side)
);

-- Where each incremental read (batches, withdrawals, operations) stopped.
CREATE TABLE relaywatch_state.cursors (
    name          text PRIMARY KEY,
    value         bigint NOT NULL,
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- Every halt relaywatch published, with the signed message.
CREATE TABLE relaywatch_state.halts (
    halt_id         text PRIMARY KEY,
    invariant       text NOT NULL,
    severity        text NOT NULL,
    reason          text NOT NULL,
    evidence        jsonb NOT NULL,
    heights         jsonb NOT NULL,
    correlation_id  text NOT NULL,
    msg             text NOT NULL,
    sig             text NOT NULL,
    issued_at       timestamptz NOT NULL,
    published_at    timestamptz,
    acknowledged_at timestamptz
);

-- Findings that are not halts: alerts, could-not-evaluate, history changes.
CREATE TABLE relaywatch_state.findings (
    finding_id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind           text NOT NULL,
    severity       text NOT NULL,
    summary        text NOT NULL,
    evidence       jsonb NOT NULL,
    correlation_id text NOT NULL,
    observed_at    timestamptz NOT NULL DEFAULT now()
);

-- A copy of the signed, hash-chained audit log.
CREATE TABLE relaywatch_state.audit_mirror (
    seq           bigint PRIMARY KEY,
    prev_hash     bytea NOT NULL CHECK (length(prev_hash) = 32),
    entry_hash    bytea NOT NULL UNIQUE CHECK (length(entry_hash) = 32),
    entry         jsonb NOT NULL,
    signature     bytea NOT NULL,
    recorded_at   timestamptz NOT NULL DEFAULT now()
);

GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA relaywatch_state TO relaywatch_reader;
-- The migration records (created by `relaywatch db migrate` itself) are the
-- migrator's, not the watchdog's.
REVOKE INSERT, UPDATE ON relaywatch_state.schema_migrations, relaywatch_state.contract
    FROM relaywatch_reader;
-- A checkpoint is replaced whole (its assets share one block).
GRANT DELETE ON relaywatch_state.checkpoints TO relaywatch_reader;
-- The audit mirror is append-only, even for the watchdog.
REVOKE UPDATE ON relaywatch_state.audit_mirror FROM relaywatch_reader;
