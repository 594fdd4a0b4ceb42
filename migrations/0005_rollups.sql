-- 0005: visits and daily rollups, written by the queue consumer; reports read the rollups.
--
-- The raw event log is now read only by key (de-duplication, erasure) and by the retention purge,
-- so its time index goes: D1 bills a written row per index entry, and the log is the biggest
-- writer. A conversion's order id is unique per site and event name (a partial index: only
-- conversions with an order id pay for it).

DROP INDEX events_site_ts;
ALTER TABLE events ADD COLUMN order_id TEXT;
CREATE UNIQUE INDEX events_order ON events (site_id, name, order_id) WHERE order_id IS NOT NULL;

-- One row per visit. The key starts with the visitor, so all visits of a visitor (for unique
-- visitor counts) are one range of the primary key. `state` is core's `sessionise::Visit` as JSON;
-- `version` guards concurrent consumers (a write expects the version it read).
CREATE TABLE sessions (
  site_id      TEXT NOT NULL,
  visitor_key  TEXT NOT NULL,
  session_key  TEXT NOT NULL,
  visit_no     INTEGER NOT NULL,
  version      INTEGER NOT NULL,
  started_at   INTEGER NOT NULL,             -- ms since the epoch
  last_at      INTEGER NOT NULL,
  state        TEXT NOT NULL,
  PRIMARY KEY (site_id, visitor_key, session_key, visit_no)
) WITHOUT ROWID;

-- One row per site and local day (in the site's time zone): core's `aggregate::Day` as JSON —
-- totals, 24 hours, capped dimensions, web-vital histograms. Kept regardless of raw retention.
CREATE TABLE rollups (
  site_id  TEXT NOT NULL,
  day      INTEGER NOT NULL,                 -- days since 1970-01-01 of the local date
  version  INTEGER NOT NULL,
  data     TEXT NOT NULL,
  PRIMARY KEY (site_id, day)
) WITHOUT ROWID;
