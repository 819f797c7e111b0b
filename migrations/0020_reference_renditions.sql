-- espeak-ng's renditions of a sentence as the phone recogniser hears them
-- (docs/speech.md, step 5): what a take of that sentence is judged against.
-- Rendering them costs about a second of CPU per sentence, so they are kept
-- here, shared by every instance and every learner whose sentence has the
-- same words, and survive restarts. Keyed by the text's SHA-256, never the
-- text: the rows are no one's and say nothing of anyone's sentences. The
-- engine names the phone recogniser's weights and espeak-ng's version, so
-- a new model or voice data is never judged against old renditions.
CREATE TABLE reference_renditions (
    engine        text NOT NULL CHECK (length(engine) BETWEEN 1 AND 200),
    language      text NOT NULL CHECK (language ~ '^[a-z]{2,3}$'),
    text_sha256   bytea NOT NULL CHECK (length(text_sha256) = 32),
    voice         text NOT NULL CHECK (voice ~ '^[a-z][a-z0-9+-]{0,63}$'),
    wpm           integer NOT NULL CHECK (wpm BETWEEN 80 AND 450),
    -- Per word, null or one log-posterior ratio per scored phone.
    expected      jsonb NOT NULL CHECK (jsonb_typeof(expected) = 'array'),
    speech_frames integer NOT NULL CHECK (speech_frames >= 0),
    -- Last read or written; rows unused for long are removed.
    used_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (engine, language, text_sha256, voice, wpm)
);
CREATE INDEX reference_renditions_used_at_idx ON reference_renditions (used_at);

-- One pending preparation per segment: a learner scored on sentence n
-- queues sentence n + 1 once, however many takes they record.
CREATE UNIQUE INDEX jobs_segment_prepare_once ON jobs ((payload ->> 'user_id'), (payload ->> 'segment_id'))
    WHERE kind = 'segment.prepare';
