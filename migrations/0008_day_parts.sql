-- 0008: the query engine's storage — each rollup day stored in parts, staff traffic apart.
--
-- A day was one JSON row holding every dimension (about 110 KB on a busy site), so a report read
-- and parsed all of it even for totals. Now a day is one row per part (core's `ingest::parts`):
-- `totals` (counts, 24 hours, web-vital histograms, losses; every write of the day rewrites it,
-- so its version is the day's, which the consumer's guard checks), the dimensions in five parts
-- of `{dimension: {value: counts}}` — `pages`, `entry-pages`, `exit-pages` (they grow with a
-- site's pages), `visits` (sources, channels, referrers, utm, countries, devices, browsers, os),
-- `events` (events, goals, revenue) — and `staff` (the day's staff traffic, whole). The key
-- starts with the part: a report over a range reads one part's consecutive rows. The consumer
-- rewrites only the parts a batch changed.

CREATE TABLE day_parts (
  site_id  TEXT NOT NULL,
  part     TEXT NOT NULL,
  day      INTEGER NOT NULL,                 -- days since 1970-01-01 of the local date
  version  INTEGER NOT NULL,
  data     TEXT NOT NULL,
  PRIMARY KEY (site_id, part, day)
) WITHOUT ROWID;

INSERT INTO day_parts (site_id, part, day, version, data)
  SELECT site_id, 'totals', day, version, json_remove(data, '$.dims', '$.staff') FROM rollups
  WHERE json_valid(data);
INSERT INTO day_parts (site_id, part, day, version, data)
  SELECT site_id, part, day, version, json_group_object(dim, json(value)) FROM (
    SELECT r.site_id AS site_id, r.day AS day, r.version AS version, d.key AS dim,
      d.value AS value,
      CASE WHEN d.key IN ('sources', 'channels', 'referrers', 'utm', 'countries', 'devices',
                          'browsers', 'os') THEN 'visits'
           WHEN d.key IN ('events', 'goals', 'revenue') THEN 'events'
           ELSE d.key END AS part
    FROM rollups r, json_each(r.data, '$.dims') d
    WHERE json_valid(r.data) AND d.type = 'object')
  GROUP BY site_id, part, day;
-- A day no build could read is kept aside as it was (it never counted in a report either).
INSERT INTO set_aside (kind, site_id, key, data, reason, at)
  SELECT 'day', site_id, CAST(day AS TEXT), data, 'not JSON when split into parts (0008)',
    CAST(strftime('%s', 'now') AS INTEGER) * 1000
  FROM rollups WHERE NOT json_valid(data);
DROP TABLE rollups;

-- A day whole, for reading by hand and by tests: its totals with its dimensions and staff part.
CREATE VIEW rollups AS
  SELECT t.site_id AS site_id, t.day AS day, t.version AS version,
    json_set(t.data,
      '$.dims', (SELECT json_group_object(d.key, json(d.value))
                 FROM day_parts p, json_each(p.data) d
                 WHERE p.site_id = t.site_id AND p.day = t.day
                   AND p.part NOT IN ('totals', 'staff')),
      '$.staff', (SELECT json(p.data) FROM day_parts p
                  WHERE p.site_id = t.site_id AND p.part = 'staff' AND p.day = t.day)) AS data
  FROM day_parts t WHERE t.part = 'totals';
