-- How far a running transcription has got, for the learner waiting on a
-- long film. Written every few seconds by the job outside its own
-- transaction (the job's row is locked by it), read by any instance.
-- UNLOGGED: losing it in a crash loses nothing (the job starts over and
-- writes it anew), and it costs no WAL.
CREATE UNLOGGED TABLE transcription_progress (
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    material_id  uuid NOT NULL,
    done_ms      bigint NOT NULL CHECK (done_ms >= 0),
    total_ms     bigint CHECK (total_ms > 0),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, material_id)
);
