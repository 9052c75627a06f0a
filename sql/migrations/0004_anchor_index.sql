-- The known-anchors index: every RootAnchored event of the root registry
-- that the watchdog has checked (read in a cycle in which every Tier 1 check
-- passed), so an incremental cycle can tell a root anchored again on chain
-- from the first anchoring of that root, read cycles or restarts before
-- (DUPLICATE_BATCH, "root anchored again"), instead of waiting for the next
-- full sweep to read both events together.
--
-- Rows are keyed by the chain and the registry they were read from, so an
-- index filled under another configuration is never compared with this
-- one's events. An event is identified by its transaction, root and batch
-- number: two events of one transaction are in one block, so every cycle
-- that reads one reads both, and the same root twice in one transaction is
-- caught within that cycle (and never indexed). Adding an event again (a
-- full sweep reads every event again) changes nothing: first_seen stays.
-- The watchdog's role may only read and append: no UPDATE, no DELETE.
CREATE TABLE relaywatch_state.anchors (
    chain_id     bigint NOT NULL CHECK (chain_id >= 0),
    registry     bytea NOT NULL CHECK (length(registry) = 20),
    tx_hash      bytea NOT NULL CHECK (length(tx_hash) = 32),
    root         bytea NOT NULL CHECK (length(root) = 32),
    batch_number numeric(78,0) NOT NULL CHECK (batch_number >= 0),
    block_number bigint NOT NULL CHECK (block_number >= 0),
    first_seen   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (chain_id, registry, tx_hash, root, batch_number)
);

-- Each cycle looks up the roots it read.
CREATE INDEX anchors_by_root ON relaywatch_state.anchors (chain_id, registry, root);

REVOKE ALL ON relaywatch_state.anchors FROM PUBLIC;
GRANT SELECT, INSERT ON relaywatch_state.anchors TO relaywatch_reader;
REVOKE UPDATE, DELETE, TRUNCATE ON relaywatch_state.anchors FROM relaywatch_reader;
