-- The audit log's signed checkpoints (docs/AUDIT.md), published here as the
-- watchdog signs them, so an auditor holds a copy of each checkpoint outside
-- the log's own files and can check the log against it
-- (`relaywatch audit checkpoint --from db`, then
-- `relaywatch audit verify --checkpoint NOTE`).
--
-- One row per (origin, size): a checkpoint is never changed once written.
-- The same checkpoint sent again (a restart) is nothing new; another root
-- for the same origin and size means the log was rewritten or forked, and
-- the watchdog refuses to replace it (db/state.c). The watchdog's role may
-- only read and append: no UPDATE, no DELETE.
CREATE TABLE relaywatch_state.audit_checkpoints (
    origin      text NOT NULL CHECK (origin <> ''),
    size        bigint NOT NULL CHECK (size >= 0),
    root        bytea NOT NULL CHECK (length(root) = 32),
    note        text NOT NULL CHECK (note <> ''),
    epoch       bigint NOT NULL CHECK (epoch >= 0),
    key_id      text NOT NULL CHECK (key_id <> ''),
    signed_at   timestamptz NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (origin, size)
);

REVOKE ALL ON relaywatch_state.audit_checkpoints FROM PUBLIC;
GRANT SELECT, INSERT ON relaywatch_state.audit_checkpoints TO relaywatch_reader;
-- Said out loud: append-only, even for the watchdog.
REVOKE UPDATE, DELETE, TRUNCATE ON relaywatch_state.audit_checkpoints FROM relaywatch_reader;

-- The hash-chained mirror of 0001 belonged to a design the signed Merkle
-- tree replaced; nothing ever wrote to it.
DROP TABLE IF EXISTS relaywatch_state.audit_mirror;
