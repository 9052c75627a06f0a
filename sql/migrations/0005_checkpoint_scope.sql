-- The running-totals checkpoints are kept per scope: the chain whose blocks
-- a side's totals run through ("source=<chain id>" for locked,
-- "execution=<chain id>" for minted). A configuration pointed at another
-- chain then finds no checkpoint of its own instead of seeding its totals
-- with another chain's block numbers. Rows saved before this migration have
-- the empty scope, which no configuration reads.
ALTER TABLE relaywatch_state.checkpoints ADD COLUMN scope text NOT NULL DEFAULT '';
ALTER TABLE relaywatch_state.checkpoints DROP CONSTRAINT checkpoints_pkey;
ALTER TABLE relaywatch_state.checkpoints ADD PRIMARY KEY (scope, side, asset);
