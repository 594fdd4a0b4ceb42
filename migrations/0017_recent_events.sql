-- 0017: the recent log. The raw events of the last two days as the queue consumer stored them, a
-- row per site, UTC hour of the events' own time and consumer write (`first_id`: the id of the
-- row's first event): `data` is a JSON array of events, each an array of the `events` columns in
-- the order the store's EVENTS_SQL inserts them. A read of today's or the last minutes' raw events
-- takes these few rows (a range of the key) instead of scanning the site's whole raw log, which
-- is keyed by event id: a row per write costs about 0.01 rows written per event, where an index
-- on time would cost one per event. Written in the same transaction as the events, so it holds
-- exactly what they hold; the cron deletes hours over 48 old; an erasure takes its person's
-- events out of every row. `recent_log.since` (ms) is when the log began: every event stored from
-- then on is in it (an event's time is never after it was received, so none before it is). The
-- first write of a consumer that keeps the log sets it, a minute on (a consumer of the worker
-- before, still finishing a batch when this one was deployed, wrote no log rows).
CREATE TABLE recent_events (
  site_id  TEXT NOT NULL,
  hour     INTEGER NOT NULL,
  first_id TEXT NOT NULL,
  data     TEXT NOT NULL,
  PRIMARY KEY (site_id, hour, first_id)
) WITHOUT ROWID;

CREATE TABLE recent_log (
  id    INTEGER PRIMARY KEY CHECK (id = 1),
  since INTEGER NOT NULL
);
