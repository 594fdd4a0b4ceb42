-- 0003: what the queue consumer and the cron keep besides the events themselves.

-- Queue messages that failed every retry (or could not be read), counted per UTC day; the messages
-- hold no personal data, but they are not kept: a count says how much was lost.
CREATE TABLE dead_letters (
  day       INTEGER PRIMARY KEY,             -- days since 1970-01-01 (UTC)
  messages  INTEGER NOT NULL DEFAULT 0,
  events    INTEGER NOT NULL DEFAULT 0
);
