-- Hybrid logical clocks for the batched push (docs/decisions/0024): every
-- row a client may push stores the clock of the write that made it, so
-- the server and each device decide with the core's merge rules which of
-- two writes to one row wins (last writer wins; tombstones final; progress
-- never un-completes). A delete stores its clock on the tombstone.
--
-- The wire text `<13-digit ms>-<4 hex counter>-<16 hex node>` sorts as
-- text the way it sorts as a clock. NULL: written before clocks existed
-- (any clocked write is newer).

ALTER TABLE materials ADD COLUMN hlc text
    CONSTRAINT materials_hlc_format CHECK (hlc ~ '^[0-9]{13}-[0-9a-f]{4}-[0-9a-f]{16}$');
ALTER TABLE learning_progress ADD COLUMN hlc text
    CONSTRAINT learning_progress_hlc_format CHECK (hlc ~ '^[0-9]{13}-[0-9a-f]{4}-[0-9a-f]{16}$');
ALTER TABLE vocabulary_items ADD COLUMN hlc text
    CONSTRAINT vocabulary_items_hlc_format CHECK (hlc ~ '^[0-9]{13}-[0-9a-f]{4}-[0-9a-f]{16}$');
ALTER TABLE recordings ADD COLUMN hlc text
    CONSTRAINT recordings_hlc_format CHECK (hlc ~ '^[0-9]{13}-[0-9a-f]{4}-[0-9a-f]{16}$');
