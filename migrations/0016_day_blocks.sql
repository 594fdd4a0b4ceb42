-- 0016: a closed local day's customer visits as columns (core's engine::block: dictionaries and
-- varint columns of the visits that started that day, and all their events), which the query
-- engine reads for filtered breakdowns and funnels over many days instead of raw events. A block
-- is stored in parts (`visits`, `pages`, `entries`, `times`, `hosts`, one per arrival field:
-- `source`, `device`…), so a query
-- reads only the columns it needs, each part's days one range of the key. `data` is the part
-- deflated (deflate-raw) and base64'd: TEXT, because D1 hands a BLOB over as a JSON array of
-- numbers. `stamp` is the day's `totals` version when its raw events were read: the
-- consumer moves a day's version with every event of a visit that started on it, so a block whose
-- stamp is not its day's version now is stale, never read, and built again by the cron. Kept as
-- long as the site's raw events; an erasure deletes the blocks of the days it touches.
CREATE TABLE day_blocks (
  site_id TEXT NOT NULL REFERENCES sites(id),
  part    TEXT NOT NULL,
  day     INTEGER NOT NULL,
  stamp   INTEGER NOT NULL,
  data    TEXT NOT NULL,
  PRIMARY KEY (site_id, part, day)
) WITHOUT ROWID;
