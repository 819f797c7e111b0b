-- The version of a material's segment list (its ETag) was the largest
-- change number among its segments, answered by the index
-- `segments_material_change_idx`. Maintaining that fourth index on every
-- segment row cost about a sixth of a 20,000-row list write. The version
-- now lives in one row per list, raised once per statement from the rows
-- the statement wrote (transition tables), so any write — the API's, a
-- subtitle import, or plain SQL — still moves it, and the index goes.
CREATE TABLE segment_list_versions (
    user_id      uuid NOT NULL,
    material_id  uuid NOT NULL,
    version      bigint NOT NULL CHECK (version > 0),
    PRIMARY KEY (user_id, material_id),
    FOREIGN KEY (user_id, material_id) REFERENCES materials (user_id, id) ON DELETE CASCADE
);

INSERT INTO segment_list_versions (user_id, material_id, version)
SELECT user_id, material_id, max(change_seq) FROM segments GROUP BY user_id, material_id;

CREATE FUNCTION raise_segment_list_versions() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO segment_list_versions AS v (user_id, material_id, version)
    SELECT user_id, material_id, max(change_seq) FROM written_rows GROUP BY user_id, material_id
    ON CONFLICT (user_id, material_id) DO UPDATE SET version = greatest(v.version, EXCLUDED.version);
    RETURN NULL;
END;
$$;

-- A trigger with transition tables serves one event, hence two.
CREATE TRIGGER segments_list_version_insert AFTER INSERT ON segments
    REFERENCING NEW TABLE AS written_rows
    FOR EACH STATEMENT EXECUTE FUNCTION raise_segment_list_versions();
CREATE TRIGGER segments_list_version_update AFTER UPDATE ON segments
    REFERENCING NEW TABLE AS written_rows
    FOR EACH STATEMENT EXECUTE FUNCTION raise_segment_list_versions();

DROP INDEX segments_material_change_idx;
