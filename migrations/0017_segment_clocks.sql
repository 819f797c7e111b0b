-- Sentence corrections through the push (docs/decisions/0024, "Segments"):
-- a segment stores the hybrid logical clock of the write that made it, so
-- two devices correcting different sentences of one material offline both
-- keep theirs, and the later correction of one sentence wins (last writer
-- wins per row). Every server write stamps it: a list write (its inserted,
-- changed and tombstoned rows share the clock of that write), a single
-- segment's edit, a subtitle import, a transcription, a material's delete.
--
-- Same wire text as migration 0015 (text order = clock order). NULL:
-- written before clocks (any clocked write is newer).

ALTER TABLE segments ADD COLUMN hlc text
    CONSTRAINT segments_hlc_format CHECK (hlc ~ '^[0-9]{13}-[0-9a-f]{4}-[0-9a-f]{16}$');
