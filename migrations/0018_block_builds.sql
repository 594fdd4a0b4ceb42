-- 0018: each stored part of a day block gets `built`, a random id (53 bits: exact as a JS number)
-- drawn when it is written, so a worker that holds a part it inflated before (edge-worker's
-- block_cache) can ask D1 for the part's id instead of its text, and knows the part it holds is
-- the one stored now: a part built again — the day's version moved, an erasure, a site made anew
-- under an old id — has a new id. Parts stored before this migration get one here.
ALTER TABLE day_blocks ADD COLUMN built INTEGER;
UPDATE day_blocks SET built = random() & 9007199254740991;
