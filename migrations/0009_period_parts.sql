-- 0009: closed weeks and months, summed from their days, so that a report over many days reads a
-- few rows per part instead of one per day (a year of top pages: 12 months, not 365 days).
--
-- The cron (core's `ingest::compact`) sums a site's closed ISO weeks (Monday to Sunday) and
-- calendar months from their `day_parts`, into the same parts, and stamps each with the sum of its
-- days' versions (their `totals` rows') when it read them; the write is guarded by that sum, so a
-- day changed after the read leaves the period unstored. Whatever writes a day drops the periods
-- holding it in the same transaction (the consumer does; so must any later writer of day_parts),
-- so a stored period is always its days' exact sum and reports use it as it is; the next run sums
-- it again. A stamp below zero marks a period too big to store (a part over the size one row
-- takes): reports never use it, and it is tried again when one of its days changes.

CREATE TABLE period_parts (
  site_id    TEXT NOT NULL,
  part       TEXT NOT NULL,                  -- a day_parts part name
  first_day  INTEGER NOT NULL,               -- days since 1970-01-01 of the local date
  last_day   INTEGER NOT NULL,
  stamp      INTEGER NOT NULL,
  data       TEXT NOT NULL,
  PRIMARY KEY (site_id, part, first_day, last_day)
) WITHOUT ROWID;

-- The consumer's drop of a written day's periods: the periods of a site ending on or after a day.
CREATE INDEX period_parts_last ON period_parts (site_id, last_day);
