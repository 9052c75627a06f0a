-- Every RESUME relaywatch saw on the control stream (docs/PROTOCOL.md): the
-- HALTs it lifted, the operator key that signed it, its reason, whether it
-- was forced over a violation that still stood, the exact signed message and
-- signature, the stream entry that carried it, when it was issued and when
-- the watchdog read it. Halts relaywatch tracks are in `halts`; the RESUMEs
-- that ended them are here.
--
-- One row per resume id: a RESUME read again (a restart reads the stream
-- again) is nothing new (ON CONFLICT DO NOTHING, db/state_resume.c). The
-- watchdog's role may only read and append: no UPDATE, no DELETE.
CREATE TABLE relaywatch_state.resumes (
    resume_id   text PRIMARY KEY CHECK (resume_id <> ''),
    lifts       text[] NOT NULL CHECK (cardinality(lifts) >= 1),
    key_id      text NOT NULL CHECK (key_id <> ''),
    reason      text NOT NULL,
    forced      boolean NOT NULL,
    msg         text NOT NULL CHECK (msg <> ''),
    sig         text NOT NULL CHECK (sig <> ''),
    entry_id    text NOT NULL CHECK (entry_id <> ''),
    issued_at   timestamptz NOT NULL,
    seen_at     timestamptz NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now()
);

-- Which RESUME lifted a given HALT: WHERE lifts @> ARRAY['halt-...'].
CREATE INDEX resumes_lifts ON relaywatch_state.resumes USING gin (lifts);

REVOKE ALL ON relaywatch_state.resumes FROM PUBLIC;
GRANT SELECT, INSERT ON relaywatch_state.resumes TO relaywatch_reader;
-- Said out loud: append-only, even for the watchdog.
REVOKE UPDATE, DELETE, TRUNCATE ON relaywatch_state.resumes FROM relaywatch_reader;
