-- 0011: the collector's own counters, for GET /metrics (core's `ops`): events stored and dropped
-- per site and reason, queue batches, retries, D1 rows written, when a site's events were last
-- stored. Written by the queue consumer in the same transaction as the batch they count, so a
-- counter never counts a batch that was not written, and survives isolate restarts. `site_id` and
-- `label` are '' where a metric has no such label.
CREATE TABLE counters (
  metric   TEXT NOT NULL,
  site_id  TEXT NOT NULL,
  label    TEXT NOT NULL,
  value    REAL NOT NULL,
  PRIMARY KEY (metric, site_id, label)
) WITHOUT ROWID;
