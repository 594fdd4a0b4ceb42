-- 0009: closed weeks and months, summed from their days, so that a report over many days reads a
-- few rows per part instead of one per day (a year of top pages: 12 months, not 365 days).
--
-- The cron (core's `ingest::compact`) sums a site's closed ISO weeks (Monday to Sunday) and
-- calendar months from their `day_parts`, into the same parts, and stamps each with the sum of its
-- days' versions (their `totals` rows') when it read them. Every write of a day raises that day's
-- version, so a period whose stamp differs from that sum now is stale: reports skip it (they read
-- its days) and the next run sums it again. A stamp below zero marks a period too big to store
-- (a part over the size one row takes) at that sum: it is not summed again until a day changes.

CREATE TABLE period_parts (
  site_id    TEXT NOT NULL,
  part       TEXT NOT NULL,                  -- a day_parts part name
  first_day  INTEGER NOT NULL,               -- days since 1970-01-01 of the local date
  last_day   INTEGER NOT NULL,
  stamp      INTEGER NOT NULL,
  data       TEXT NOT NULL,
  PRIMARY KEY (site_id, part, first_day, last_day)
) WITHOUT ROWID;
