-- Short-lived links to one material's media or one take's audio, for
-- players that cannot send a bearer token (`<video src>`, `<audio src>`
-- stream with Range requests of their own). Only a SHA-256 of the link's
-- token is kept, as for sessions; a link dies with its row's owner, its
-- material or its recording.
CREATE TABLE media_links (
    token_hash   bytea PRIMARY KEY CHECK (length(token_hash) = 32),
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    material_id  uuid,
    recording_id uuid,
    expires_at   timestamptz NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (user_id, material_id) REFERENCES materials (user_id, id) ON DELETE CASCADE,
    FOREIGN KEY (user_id, recording_id) REFERENCES recordings (user_id, id) ON DELETE CASCADE,
    CONSTRAINT media_links_one_target CHECK ((material_id IS NULL) <> (recording_id IS NULL)),
    CONSTRAINT media_links_expire_after_creation CHECK (expires_at > created_at)
);
CREATE INDEX media_links_expires_at_idx ON media_links (expires_at);
