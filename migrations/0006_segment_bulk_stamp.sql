-- A list write (up to 20,000 segments) stamps every row itself from a
-- reserved block of change numbers (0005). The row trigger then only had to
-- look and return, yet calling PL/pgSQL 20,000 times cost about a quarter
-- of the write. A WHEN condition is checked without calling the function,
-- so the trigger now fires only for rows that need stamping: a row without
-- a reserved number, or any write outside a reserved block. Bulk updates
-- set `updated_at` themselves.
DROP TRIGGER segments_stamp ON segments;

CREATE TRIGGER segments_stamp_insert BEFORE INSERT ON segments
    FOR EACH ROW
    WHEN (NEW.change_seq IS NULL
          OR current_setting('echoloop.change_seq_reserved', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION stamp_owned_row();

CREATE TRIGGER segments_stamp_update BEFORE UPDATE ON segments
    FOR EACH ROW
    WHEN (NEW.change_seq IS NULL
          OR NEW.change_seq = OLD.change_seq
          OR current_setting('echoloop.change_seq_reserved', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION stamp_owned_row();
