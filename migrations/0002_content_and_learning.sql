-- The seed's content, learning and dictionary tables. User-owned rows are
-- keyed by (user_id, id): clients choose the UUIDs (so uploads are
-- idempotent), and a deterministic id such as UUID v5 of "youtube:<videoId>"
-- is the same material on every device of one user without ever clashing
-- with another user's row.

CREATE TYPE material_type AS ENUM ('video', 'audio');
CREATE TYPE material_source_type AS ENUM ('youtube', 'netflix', 'local_upload');
CREATE TYPE segment_origin AS ENUM ('original', 'asr_cloud');
CREATE TYPE progress_status AS ENUM ('in_progress', 'completed');
CREATE TYPE vocabulary_status AS ENUM ('new', 'learning', 'mastered');

CREATE TABLE materials (
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    id           uuid NOT NULL,
    type         material_type NOT NULL,
    source_type  material_source_type NOT NULL,
    title        text NOT NULL CHECK (length(title) BETWEEN 1 AND 500),
    language     text CHECK (language ~ '^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$' AND length(language) <= 35),
    metadata     jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
    media_url    text CHECK (length(media_url) <= 2048),
    duration     bigint CHECK (duration > 0),            -- milliseconds, when known
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    deleted_at   timestamptz,
    change_seq   bigint NOT NULL,
    PRIMARY KEY (user_id, id)
);
CREATE INDEX materials_user_updated_idx ON materials (user_id, updated_at);
CREATE INDEX materials_user_change_idx ON materials (user_id, change_seq);
CREATE TRIGGER materials_stamp BEFORE INSERT OR UPDATE ON materials
    FOR EACH ROW EXECUTE FUNCTION stamp_owned_row();

CREATE TABLE segments (
    user_id      uuid NOT NULL,
    id           uuid NOT NULL,
    material_id  uuid NOT NULL,
    start_time   bigint NOT NULL,                        -- milliseconds
    end_time     bigint NOT NULL,                        -- milliseconds
    text         text NOT NULL CHECK (length(text) BETWEEN 1 AND 5000),
    translation  text CHECK (length(translation) <= 5000),
    origin       segment_origin NOT NULL DEFAULT 'original',
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    deleted_at   timestamptz,
    change_seq   bigint NOT NULL,
    PRIMARY KEY (user_id, id),
    FOREIGN KEY (user_id, material_id) REFERENCES materials (user_id, id) ON DELETE CASCADE,
    CONSTRAINT segments_start_not_negative CHECK (start_time >= 0),
    CONSTRAINT segments_start_before_end CHECK (start_time < end_time)
);
CREATE INDEX segments_material_time_idx ON segments (material_id, start_time);
CREATE INDEX segments_user_change_idx ON segments (user_id, change_seq);
CREATE TRIGGER segments_stamp BEFORE INSERT OR UPDATE ON segments
    FOR EACH ROW EXECUTE FUNCTION stamp_owned_row();

CREATE TABLE learning_progress (
    user_id             uuid NOT NULL,
    material_id         uuid NOT NULL,
    last_segment_index  integer NOT NULL DEFAULT 0 CHECK (last_segment_index >= 0),
    status              progress_status NOT NULL DEFAULT 'in_progress',
    completed_at        timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    deleted_at          timestamptz,
    change_seq          bigint NOT NULL,
    PRIMARY KEY (user_id, material_id),
    FOREIGN KEY (user_id, material_id) REFERENCES materials (user_id, id) ON DELETE CASCADE,
    CONSTRAINT learning_progress_completed_has_time
        CHECK ((status = 'completed') = (completed_at IS NOT NULL))
);
CREATE INDEX learning_progress_user_change_idx ON learning_progress (user_id, change_seq);
CREATE TRIGGER learning_progress_stamp BEFORE INSERT OR UPDATE ON learning_progress
    FOR EACH ROW EXECUTE FUNCTION stamp_owned_row();

CREATE TABLE recordings (
    user_id     uuid NOT NULL,
    id          uuid NOT NULL,
    segment_id  uuid NOT NULL,
    duration    bigint NOT NULL CHECK (duration > 0),    -- milliseconds
    cloud_url   text CHECK (length(cloud_url) <= 2048),  -- set once the audio is in object storage
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    deleted_at  timestamptz,
    change_seq  bigint NOT NULL,
    PRIMARY KEY (user_id, id),
    FOREIGN KEY (user_id, segment_id) REFERENCES segments (user_id, id) ON DELETE CASCADE
);
CREATE INDEX recordings_segment_idx ON recordings (user_id, segment_id);
CREATE INDEX recordings_user_change_idx ON recordings (user_id, change_seq);
CREATE TRIGGER recordings_stamp BEFORE INSERT OR UPDATE ON recordings
    FOR EACH ROW EXECUTE FUNCTION stamp_owned_row();

CREATE TABLE pronunciation_assessments (
    user_id             uuid NOT NULL,
    id                  uuid NOT NULL,
    recording_id        uuid NOT NULL,
    overall_score       real NOT NULL CHECK (overall_score BETWEEN 0 AND 100),
    accuracy_score      real CHECK (accuracy_score BETWEEN 0 AND 100),
    fluency_score       real CHECK (fluency_score BETWEEN 0 AND 100),
    completeness_score  real CHECK (completeness_score BETWEEN 0 AND 100),
    prosody_score       real CHECK (prosody_score BETWEEN 0 AND 100),
    word_results        jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(word_results) = 'array'),
    engine              text NOT NULL DEFAULT 'builtin' CHECK (length(engine) BETWEEN 1 AND 64),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    deleted_at          timestamptz,
    change_seq          bigint NOT NULL,
    PRIMARY KEY (user_id, id),
    FOREIGN KEY (user_id, recording_id) REFERENCES recordings (user_id, id) ON DELETE CASCADE
);
CREATE INDEX pronunciation_assessments_recording_idx ON pronunciation_assessments (user_id, recording_id);
CREATE INDEX pronunciation_assessments_user_change_idx ON pronunciation_assessments (user_id, change_seq);
CREATE TRIGGER pronunciation_assessments_stamp BEFORE INSERT OR UPDATE ON pronunciation_assessments
    FOR EACH ROW EXECUTE FUNCTION stamp_owned_row();

-- Global dictionary, shared by all users.
CREATE TABLE word_cores (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    word             text NOT NULL CHECK (length(word) BETWEEN 1 AND 200),
    language         text NOT NULL CHECK (language ~ '^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$' AND length(language) <= 35),
    ipa              text CHECK (length(ipa) <= 500),
    parts_of_speech  text[] NOT NULL DEFAULT '{}',
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT word_cores_language_word_key UNIQUE (language, word)
);

CREATE TABLE vocabulary_items (
    user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    id              uuid NOT NULL,
    word_core_id    uuid NOT NULL REFERENCES word_cores (id),
    status          vocabulary_status NOT NULL DEFAULT 'new',
    next_review_at  timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    deleted_at      timestamptz,
    change_seq      bigint NOT NULL,
    PRIMARY KEY (user_id, id),
    CONSTRAINT vocabulary_items_one_per_word UNIQUE (user_id, word_core_id)
);
CREATE INDEX vocabulary_items_due_idx ON vocabulary_items (user_id, next_review_at)
    WHERE deleted_at IS NULL;
CREATE INDEX vocabulary_items_user_change_idx ON vocabulary_items (user_id, change_seq);
CREATE TRIGGER vocabulary_items_stamp BEFORE INSERT OR UPDATE ON vocabulary_items
    FOR EACH ROW EXECUTE FUNCTION stamp_owned_row();
