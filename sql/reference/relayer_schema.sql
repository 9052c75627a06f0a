-- The reference relayer's ledger: what a lock-and-mint relayer records, as
-- the local stack's relayer simulator writes it. relaywatch never reads
-- these tables directly; it reads the `relaywatch` contract views
-- (sql/contract/reference.sql), which an operator with another schema
-- rewrites for theirs.
--
-- Conventions: addresses and hashes are bytea of their exact length;
-- amounts are NUMERIC(78,0) (every uint256 fits); block numbers are the
-- block of the chain the row's event happened on.

CREATE SCHEMA relayer;

CREATE TABLE relayer.chains (
    chain_id      bigint PRIMARY KEY,
    role          text NOT NULL UNIQUE CHECK (role IN ('source', 'execution'))
);

-- One row per bridged asset: the token locked on the source chain and its
-- mint/burn twin on the execution chain.
CREATE TABLE relayer.assets (
    asset_id      integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    symbol        text NOT NULL UNIQUE,
    decimals      integer NOT NULL CHECK (decimals BETWEEN 0 AND 77),
    source_token  bytea NOT NULL UNIQUE CHECK (length(source_token) = 20),
    bridged_token bytea NOT NULL UNIQUE CHECK (length(bridged_token) = 20)
);

-- Locks into the Lockbox, recorded once they have the relayer's
-- confirmation depth.
CREATE TABLE relayer.deposits (
    deposit_id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    asset_id      integer NOT NULL REFERENCES relayer.assets,
    deposit_nonce numeric(78,0) NOT NULL UNIQUE,
    depositor     bytea NOT NULL CHECK (length(depositor) = 20),
    recipient     bytea NOT NULL CHECK (length(recipient) = 20),
    amount        numeric(78,0) NOT NULL CHECK (amount > 0),
    tx_hash       bytea NOT NULL CHECK (length(tx_hash) = 32),
    log_index     integer NOT NULL CHECK (log_index >= 0),
    block_number  bigint NOT NULL CHECK (block_number >= 0),
    confirmed_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tx_hash, log_index)
);
CREATE INDEX deposits_by_block ON relayer.deposits (block_number) INCLUDE (asset_id, amount);

-- Mints on the execution chain, one per deposit, recorded once confirmed.
CREATE TABLE relayer.mints (
    mint_id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    deposit_id    bigint NOT NULL UNIQUE REFERENCES relayer.deposits,
    asset_id      integer NOT NULL REFERENCES relayer.assets,
    recipient     bytea NOT NULL CHECK (length(recipient) = 20),
    amount        numeric(78,0) NOT NULL CHECK (amount > 0),
    tx_hash       bytea NOT NULL UNIQUE CHECK (length(tx_hash) = 32),
    block_number  bigint NOT NULL CHECK (block_number >= 0),
    minted_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX mints_by_block ON relayer.mints (block_number) INCLUDE (asset_id, amount);

-- Burns on the execution chain (a user asks to withdraw to the source chain).
CREATE TABLE relayer.burns (
    burn_id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    asset_id      integer NOT NULL REFERENCES relayer.assets,
    burn_nonce    numeric(78,0) NOT NULL UNIQUE,
    burner        bytea NOT NULL CHECK (length(burner) = 20),
    recipient     bytea NOT NULL CHECK (length(recipient) = 20),
    amount        numeric(78,0) NOT NULL CHECK (amount > 0),
    tx_hash       bytea NOT NULL CHECK (length(tx_hash) = 32),
    log_index     integer NOT NULL CHECK (log_index >= 0),
    block_number  bigint NOT NULL CHECK (block_number >= 0),
    confirmed_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tx_hash, log_index)
);
CREATE INDEX burns_by_block ON relayer.burns (block_number) INCLUDE (asset_id, amount);

-- Settlement batches: a merkle root over withdrawals, signed by the relayer
-- (EIP-191 over the 32 root bytes) and anchored in the RootRegistry.
CREATE TABLE relayer.settlement_batch (
    batch_number      bigint PRIMARY KEY CHECK (batch_number > 0),
    merkle_root       bytea NOT NULL UNIQUE CHECK (length(merkle_root) = 32),
    leaf_count        integer NOT NULL CHECK (leaf_count > 0),
    status            text NOT NULL CHECK (status IN ('created', 'anchored')),
    anchor_tx_hash    bytea CHECK (length(anchor_tx_hash) = 32),
    anchor_block      bigint CHECK (anchor_block >= 0),
    relayer_signature bytea NOT NULL CHECK (length(relayer_signature) = 65),
    created_at        timestamptz NOT NULL DEFAULT now(),
    anchored_at       timestamptz,
    CHECK ((status = 'anchored') = (anchor_block IS NOT NULL AND anchor_tx_hash IS NOT NULL))
);

-- Withdrawals: one per burn; batched, then released from the Lockbox.
-- withdrawal_id is the id inside the merkle leaf.
CREATE TABLE relayer.withdrawals (
    withdrawal_id   bigint PRIMARY KEY,
    burn_id         bigint NOT NULL UNIQUE REFERENCES relayer.burns,
    asset_id        integer NOT NULL REFERENCES relayer.assets,
    recipient       bytea NOT NULL CHECK (length(recipient) = 20),
    amount          numeric(78,0) NOT NULL CHECK (amount > 0),
    status          text NOT NULL CHECK (status IN ('confirmed', 'batched', 'released')),
    batch_number    bigint REFERENCES relayer.settlement_batch,
    release_tx_hash bytea CHECK (length(release_tx_hash) = 32),
    release_block   bigint CHECK (release_block >= 0),
    created_at      timestamptz NOT NULL DEFAULT now(),
    released_at     timestamptz,
    CHECK ((status = 'released') = (release_block IS NOT NULL)),
    CHECK (status = 'confirmed' OR batch_number IS NOT NULL)
);
CREATE INDEX withdrawals_by_release ON relayer.withdrawals (release_block) INCLUDE (asset_id, amount)
    WHERE release_block IS NOT NULL;
CREATE INDEX withdrawals_by_batch ON relayer.withdrawals (batch_number);

-- The leaves of each batch, in the order the relayer built the tree from.
CREATE TABLE relayer.batch_leaves (
    batch_number  bigint NOT NULL REFERENCES relayer.settlement_batch,
    leaf_index    integer NOT NULL CHECK (leaf_index >= 0),
    withdrawal_id bigint NOT NULL UNIQUE REFERENCES relayer.withdrawals,
    leaf_hash     bytea NOT NULL CHECK (length(leaf_hash) = 32),
    PRIMARY KEY (batch_number, leaf_index)
);

-- The proof the relayer hands out for each withdrawal: sibling hashes, leaf
-- to root, concatenated (32 bytes each).
CREATE TABLE relayer.withdrawal_proofs (
    withdrawal_id bigint PRIMARY KEY REFERENCES relayer.withdrawals,
    batch_number  bigint NOT NULL REFERENCES relayer.settlement_batch,
    proof         bytea NOT NULL CHECK (length(proof) % 32 = 0)
);
-- withdrawals_in_batches reads a page of batches at a time: without this a
-- full sweep scans every proof once per page.
CREATE INDEX withdrawal_proofs_by_batch ON relayer.withdrawal_proofs (batch_number);

-- Every transaction the relayer sends, with its nonce and gas estimate.
CREATE TABLE relayer.operations (
    op_id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind          text NOT NULL CHECK (kind IN ('mint', 'anchor', 'release')),
    chain_id      bigint NOT NULL REFERENCES relayer.chains,
    account       bytea NOT NULL CHECK (length(account) = 20),
    nonce         bigint NOT NULL CHECK (nonce >= 0),
    tx_hash       bytea CHECK (length(tx_hash) = 32),
    gas_estimate  bigint NOT NULL CHECK (gas_estimate > 0),
    gas_used      bigint CHECK (gas_used >= 0),
    status        text NOT NULL CHECK (status IN ('pending', 'sent', 'confirmed', 'failed')),
    ref_id        bigint,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (chain_id, account, nonce)
);
CREATE INDEX operations_open ON relayer.operations (status) WHERE status IN ('pending', 'sent');

-- The next nonce the relayer will use, per chain and account.
CREATE TABLE relayer.nonce_state (
    chain_id      bigint NOT NULL REFERENCES relayer.chains,
    account       bytea NOT NULL CHECK (length(account) = 20),
    next_nonce    bigint NOT NULL CHECK (next_nonce >= 0),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (chain_id, account)
);

-- How long each relayer cycle took.
CREATE TABLE relayer.cycle_timings (
    cycle_id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    started_at    timestamptz NOT NULL,
    duration_ms   integer NOT NULL CHECK (duration_ms >= 0)
);

-- The block through which the relayer has recorded every event of a chain.
CREATE TABLE relayer.chain_progress (
    chain_id        bigint PRIMARY KEY REFERENCES relayer.chains,
    indexed_through bigint NOT NULL CHECK (indexed_through >= 0),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
