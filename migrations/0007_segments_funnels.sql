-- 0007: a site's saved segments and funnels (POST/GET/DELETE /api/sites/{site}/segments, /funnels).
-- The definition is JSON text as core's `saved` module checked it (a segment: {"filters": [...]};
-- a funnel: {"steps": [...], "within": ...}), and read back by the same rules. Ids are never reused
-- (AUTOINCREMENT), so a query naming one always means what it meant. The rows go with their site:
-- erasure deletes them before the site, and the reference makes a site with rows left undeletable.
-- Names and clauses hold no PII: core refuses what the collector would never store.

CREATE TABLE segments (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  site_id     TEXT NOT NULL REFERENCES sites(id),
  name        TEXT NOT NULL,
  definition  TEXT NOT NULL,
  created_at  INTEGER NOT NULL               -- ms since the epoch
);
CREATE INDEX segments_site ON segments (site_id, id);

CREATE TABLE funnels (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  site_id     TEXT NOT NULL REFERENCES sites(id),
  name        TEXT NOT NULL,
  definition  TEXT NOT NULL,
  created_at  INTEGER NOT NULL               -- ms since the epoch
);
CREATE INDEX funnels_site ON funnels (site_id, id);
