-- Every read of a material's segments filters on the owner and the material
-- (`user_id = $1 AND material_id = $2`). With `(material_id, start_time)`
-- the planner could combine it with `(user_id, change_seq)` in a bitmap AND
-- whenever its statistics lagged behind a large import (a new library, a
-- new heavy user): that scans every index entry of the owner, 4–42 ms at
-- 160,000 segments, growing with the library. One index on both equality
-- columns, in time order, is the cheapest plan under any statistics; it
-- also serves the cascade from `materials (user_id, id)`.
CREATE INDEX segments_user_material_time_idx ON segments (user_id, material_id, start_time);
DROP INDEX segments_material_time_idx;
