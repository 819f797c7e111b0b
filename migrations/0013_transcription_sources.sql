-- Sound uploaded only to be transcribed (docs/decisions/0021): plans that
-- keep imported media on the device upload the material's sound track for
-- one transcription. It is not the material's media (nothing syncs or
-- streams it); it is kept until its transcription ends, or a day when no
-- transcription is asked for, and counts against storage meanwhile.

ALTER TABLE media_uploads DROP CONSTRAINT media_uploads_target_check;
ALTER TABLE media_uploads ADD CONSTRAINT media_uploads_target_check
    CHECK (target IN ('material_media', 'recording_audio', 'transcription_sound'));

CREATE TABLE transcription_sources (
    user_id       uuid NOT NULL,
    material_id   uuid NOT NULL,
    object_key    text NOT NULL UNIQUE CHECK (length(object_key) <= 1024),
    size_bytes    bigint NOT NULL CHECK (size_bytes > 0),
    content_type  text NOT NULL CHECK (length(content_type) <= 100),
    -- As ffprobe measured it; the minutes are counted from it.
    duration_ms   bigint CHECK (duration_ms > 0),
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, material_id),
    FOREIGN KEY (user_id, material_id) REFERENCES materials (user_id, id) ON DELETE CASCADE
);
-- The sweeper looks for sources past their day.
CREATE INDEX transcription_sources_created_idx ON transcription_sources (created_at);
