-- The server transcribes a material's stored media with Whisper into
-- segments of origin 'asr_cloud' (job `material.transcribe`). One row per
-- finished transcription: the month's transcription minutes are counted
-- from here, so deleting the material or its segments does not give the
-- minutes back (the work was done). Not synced: the client asks for a
-- material's transcription state.
CREATE TABLE transcriptions (
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    id           uuid NOT NULL,
    material_id  uuid NOT NULL,
    language     text CHECK (language ~ '^[a-z]{2,3}$'),
    model        text NOT NULL CHECK (length(model) BETWEEN 1 AND 64),
    media_ms     bigint NOT NULL CHECK (media_ms >= 0),
    segments     integer NOT NULL CHECK (segments >= 0),
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, id)
);
CREATE INDEX transcriptions_user_created_idx ON transcriptions (user_id, created_at);
CREATE INDEX transcriptions_material_idx ON transcriptions (user_id, material_id, created_at);

-- One transcription job per material at a time: a repeated request finds
-- the job it queued before.
CREATE UNIQUE INDEX jobs_material_transcribe_once ON jobs ((payload ->> 'user_id'), (payload ->> 'material_id'))
    WHERE kind = 'material.transcribe';
