-- Dictionary and vocabulary (docs/decisions/0022): senses per word and
-- target language (imported from FreeDict), where a saved word was met, its
-- FSRS memory, and every review answer, from which the schedule is derived.

-- A word's meanings in one target language from one source. FreeDict has
-- many entries per headword; the importer merges those of one part of
-- speech into one row, so (word, target, source, part of speech) is unique.
-- A missing part of speech counts as one value (not distinct NULLs), which
-- an expression index says on PostgreSQL 14 too.
CREATE TABLE word_senses (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    word_core_id    uuid NOT NULL REFERENCES word_cores (id) ON DELETE CASCADE,
    to_language     text NOT NULL CHECK (to_language ~ '^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$' AND length(to_language) <= 35),
    part_of_speech  text CHECK (length(part_of_speech) BETWEEN 1 AND 32),
    definitions     text[] NOT NULL CHECK (cardinality(definitions) BETWEEN 1 AND 500),
    source          text NOT NULL CHECK (source ~ '^[a-z0-9][a-z0-9._-]{0,63}$'),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT word_senses_definitions_not_blank
        CHECK (array_position(definitions, NULL) IS NULL AND NOT ('' = ANY (definitions)))
);
CREATE UNIQUE INDEX word_senses_one_per_part_of_speech
    ON word_senses (word_core_id, to_language, source, (coalesce(part_of_speech, '')));

-- Where a saved word was met (a sentence, optionally its material, segment
-- and time), and its memory as the core's FSRS schedule last derived it
-- from the review log.
ALTER TABLE vocabulary_items
    ADD COLUMN context_sentence     text CHECK (length(context_sentence) BETWEEN 1 AND 2000),
    ADD COLUMN context_material_id  uuid,
    ADD COLUMN context_segment_id   uuid,
    ADD COLUMN context_time_ms      bigint CHECK (context_time_ms >= 0),
    ADD COLUMN stability            real CHECK (stability > 0),
    ADD COLUMN difficulty           real CHECK (difficulty BETWEEN 1 AND 10),
    ADD COLUMN reviews              integer NOT NULL DEFAULT 0 CHECK (reviews >= 0),
    ADD COLUMN lapses               integer NOT NULL DEFAULT 0 CHECK (lapses >= 0),
    ADD COLUMN last_reviewed_at     timestamptz,
    ADD CONSTRAINT vocabulary_items_context_material_fk
        FOREIGN KEY (user_id, context_material_id) REFERENCES materials (user_id, id),
    ADD CONSTRAINT vocabulary_items_context_segment_fk
        FOREIGN KEY (user_id, context_segment_id) REFERENCES segments (user_id, id),
    -- Where it was met means nothing without what was said there.
    ADD CONSTRAINT vocabulary_items_context_has_sentence CHECK (
        context_sentence IS NOT NULL
        OR (context_material_id IS NULL AND context_segment_id IS NULL AND context_time_ms IS NULL)),
    ADD CONSTRAINT vocabulary_items_context_segment_has_material
        CHECK (context_segment_id IS NULL OR context_material_id IS NOT NULL),
    ADD CONSTRAINT vocabulary_items_lapses_within_reviews CHECK (lapses <= reviews),
    -- New means never reviewed, as the core's schedule says.
    ADD CONSTRAINT vocabulary_items_new_until_reviewed
        CHECK ((status = 'new') = (reviews = 0) AND (reviews = 0) = (last_reviewed_at IS NULL));

-- One live item per word and user. A deleted item stays as a tombstone
-- (sync), and the learner may save the same word again under a new id.
ALTER TABLE vocabulary_items DROP CONSTRAINT vocabulary_items_one_per_word;
CREATE UNIQUE INDEX vocabulary_items_one_per_word ON vocabulary_items (user_id, word_core_id)
    WHERE deleted_at IS NULL;

-- Every answer to a review, append-only: a word's schedule is recomputed
-- from its whole log, and two devices' logs merge as a set (union by id).
CREATE TABLE review_logs (
    user_id             uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    id                  uuid NOT NULL,
    vocabulary_item_id  uuid NOT NULL,
    rating              smallint NOT NULL CHECK (rating BETWEEN 1 AND 4),   -- again, hard, good, easy
    reviewed_at         timestamptz NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    change_seq          bigint NOT NULL,
    PRIMARY KEY (user_id, id),
    FOREIGN KEY (user_id, vocabulary_item_id) REFERENCES vocabulary_items (user_id, id) ON DELETE CASCADE
);
CREATE INDEX review_logs_item_idx ON review_logs (user_id, vocabulary_item_id, reviewed_at);
CREATE INDEX review_logs_user_change_idx ON review_logs (user_id, change_seq);
CREATE TRIGGER review_logs_stamp BEFORE INSERT ON review_logs
    FOR EACH ROW EXECUTE FUNCTION stamp_owned_row();

CREATE FUNCTION refuse_review_log_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'review logs are append-only'
        USING ERRCODE = 'restrict_violation', CONSTRAINT = 'review_logs_append_only';
END
$$;
CREATE TRIGGER review_logs_append_only BEFORE UPDATE ON review_logs
    FOR EACH ROW EXECUTE FUNCTION refuse_review_log_update();
