-- Media in object storage (issue 4): the size and type of each stored
-- object, and the state of resumable (tus) uploads, kept here so any
-- instance can continue an upload another one started. See
-- docs/decisions/0007-media-uploads-and-segment-ids.md.

ALTER TABLE materials
    ADD COLUMN media_size          bigint CHECK (media_size > 0),
    ADD COLUMN media_content_type  text CHECK (length(media_content_type) <= 100);

ALTER TABLE recordings
    ADD COLUMN audio_size          bigint CHECK (audio_size > 0),
    ADD COLUMN audio_content_type  text CHECK (length(audio_content_type) <= 100);

-- Media and recording lookups by the object they point at (sweeper).
CREATE INDEX materials_media_url_idx ON materials (media_url) WHERE media_url IS NOT NULL;
CREATE INDEX recordings_cloud_url_idx ON recordings (cloud_url) WHERE cloud_url IS NOT NULL;

CREATE TABLE media_uploads (
    id             uuid PRIMARY KEY,
    user_id        uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    target         text NOT NULL CHECK (target IN ('material_media', 'recording_audio')),
    -- The material, or the recording created when the upload completes.
    target_id      uuid NOT NULL,
    segment_id     uuid,
    object_key     text NOT NULL UNIQUE CHECK (length(object_key) <= 1024),
    upload_length  bigint NOT NULL CHECK (upload_length > 0),
    upload_offset  bigint NOT NULL DEFAULT 0,
    metadata       text NOT NULL DEFAULT '' CHECK (length(metadata) <= 4096),
    -- Recognised from the first bytes; NULL until they arrived.
    content_type   text CHECK (length(content_type) <= 100),
    -- Multipart stores (S3): the store's upload id, the ids of full parts
    -- and the length of the unfinished part kept as a tail object.
    multipart_id   text,
    parts          text[] NOT NULL DEFAULT '{}',
    tail_len       bigint NOT NULL DEFAULT 0 CHECK (tail_len >= 0),
    -- One request writes at a time; a lease, so a dead instance's claim lapses.
    lock_token     uuid,
    locked_until   timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz NOT NULL DEFAULT now() + interval '7 days',
    CONSTRAINT media_uploads_offset_in_range CHECK (upload_offset BETWEEN 0 AND upload_length),
    CONSTRAINT media_uploads_recording_has_segment CHECK ((target = 'recording_audio') = (segment_id IS NOT NULL))
);
CREATE INDEX media_uploads_user_idx ON media_uploads (user_id);
CREATE INDEX media_uploads_expiry_idx ON media_uploads (expires_at);

-- The version of a material's segment list (its ETag) is the last change
-- number among them, tombstones included: one index probe.
CREATE INDEX segments_material_change_idx ON segments (user_id, material_id, change_seq);

-- Bulk writes (a list of up to 20,000 segments) reserve a block of change
-- numbers with one counter update instead of one per row: 20,000 updates of
-- one counter row in one transaction take seconds. The writer takes the block
-- (`UPDATE user_change_counters ... + n`, which keeps the counter row locked
-- until commit, so the no-skip guarantee of 0001 holds), sets
-- `echoloop.change_seq_reserved` to 'on' for its statements, and gives every
-- row it writes a number from the block. Without the setting, or without a
-- number, rows are stamped one by one as before.
CREATE OR REPLACE FUNCTION stamp_owned_row() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('echoloop.change_seq_reserved', true) IS DISTINCT FROM 'on'
       OR NEW.change_seq IS NULL
       OR (TG_OP = 'UPDATE' AND NEW.change_seq = OLD.change_seq) THEN
        NEW.change_seq := next_change_seq(NEW.user_id);
    END IF;
    IF TG_OP = 'UPDATE' THEN
        NEW.updated_at := now();
    END IF;
    RETURN NEW;
END
$$;
