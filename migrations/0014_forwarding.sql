-- Forwarding to GA4 and Umami (core's `forward` stage, docs/INTEGRATIONS.md).
-- A site's forwarding: {"ga4": {"mode", "page_events"}, "umami": {…}} (core's `forward::Forwarding`);
-- off for every target until set. The GA4 API secret is never stored here: it is a Worker secret
-- (GA_API_SECRET, or GA_API_SECRET_<SITE> for one site).
ALTER TABLE sites ADD COLUMN forwarding TEXT NOT NULL DEFAULT '{}';

-- The outbox: each stored event a site forwards, once per target, written in the queue consumer's
-- own transaction with the event, deleted once the target took it. `attempts` counts failed
-- deliveries; `dead` marks an event whose deliveries all failed (kept for replay, counted);
-- `error` is the last failure's short reason (a status code, never a payload).
CREATE TABLE forward_outbox (
  site_id TEXT NOT NULL,
  target TEXT NOT NULL,
  event_id TEXT NOT NULL,
  body TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  dead INTEGER NOT NULL DEFAULT 0,
  error TEXT,
  PRIMARY KEY (site_id, target, event_id)
) WITHOUT ROWID;
-- The cron's sweep for rows whose delivery message was lost, and the dead rows' count and replay.
CREATE INDEX forward_outbox_waiting ON forward_outbox (dead, created_at);
