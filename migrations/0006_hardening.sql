-- 0006: hardening — orders counted per visitor, unreadable rows set aside, dead letters kept.

-- A conversion's order id counts once per visitor: a stranger who guesses another buyer's order id
-- no longer makes the real conversion a duplicate.
DROP INDEX events_order;
CREATE UNIQUE INDEX events_order ON events (site_id, name, order_id, visitor_key)
  WHERE order_id IS NOT NULL;

-- Stored visits or rollup days the consumer could not read (written by an older build, or damaged):
-- moved here as they were, so they never block a site's later batches, and counted.
CREATE TABLE set_aside (
  id       INTEGER PRIMARY KEY,
  kind     TEXT NOT NULL,                    -- 'visit' or 'day'
  site_id  TEXT NOT NULL,
  key      TEXT NOT NULL,
  data     TEXT NOT NULL,
  reason   TEXT NOT NULL,
  at       INTEGER NOT NULL                  -- ms since the epoch
);

-- Queue messages that failed every retry, kept whole (they hold hashed keys and scrubbed fields
-- only, no personal data) until an admin re-ingests them (POST /api/admin/dead-letters/replay),
-- which stores each event exactly once. `dead_letters` still counts them per day.
CREATE TABLE dead_letter_messages (
  id       INTEGER PRIMARY KEY,
  at       INTEGER NOT NULL,                 -- ms since the epoch, when it was dead-lettered
  events   INTEGER NOT NULL,
  body     TEXT NOT NULL
);
