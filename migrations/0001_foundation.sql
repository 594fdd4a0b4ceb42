-- 0001: tenants, sites, daily salts and the raw event log.
-- Privacy lives in the schema: no column can hold an IP address, a user-agent string, a query string
-- or an email. Visitors and visits are keyed, salted hashes; pages are scrubbed paths.

CREATE TABLE tenants (
  id          TEXT PRIMARY KEY,
  name        TEXT NOT NULL,
  created_at  INTEGER NOT NULL
);

CREATE TABLE sites (
  id               TEXT PRIMARY KEY,
  tenant_id        TEXT NOT NULL REFERENCES tenants(id),
  timezone         TEXT NOT NULL DEFAULT 'UTC',
  retention_days   INTEGER NOT NULL DEFAULT 30,
  read_token_hash  TEXT NOT NULL,            -- sha-256 hex of the read token; the token is never stored
  active           INTEGER NOT NULL DEFAULT 1,
  created_at       INTEGER NOT NULL
);

CREATE TABLE site_domains (
  site_id  TEXT NOT NULL REFERENCES sites(id),
  domain   TEXT NOT NULL,                    -- a host; its subdomains are allowed too
  PRIMARY KEY (site_id, domain)
) WITHOUT ROWID;

-- One random salt per UTC day for visitor hashes; rows older than 48 h are deleted.
CREATE TABLE salts (
  day   INTEGER PRIMARY KEY,                 -- days since 1970-01-01 (UTC)
  salt  TEXT NOT NULL
);

-- The raw event log, kept per site for its retention. (site_id, event_id) de-duplicates resends.
CREATE TABLE events (
  site_id        TEXT NOT NULL,
  event_id       TEXT NOT NULL,
  ts             INTEGER NOT NULL,           -- event time, ms since the epoch (UTC)
  received_at    INTEGER NOT NULL,
  name           TEXT NOT NULL,              -- 'pageview' or a custom event name
  hostname       TEXT NOT NULL,
  path           TEXT NOT NULL,              -- scrubbed, no query string
  referrer_host  TEXT,                       -- another site's host; NULL for direct/internal
  utm_source     TEXT,
  utm_medium     TEXT,
  utm_campaign   TEXT,
  utm_term       TEXT,
  utm_content    TEXT,
  channel        TEXT,
  country        TEXT,                       -- ISO 3166-1 alpha-2 from the edge; never a city
  device         TEXT,                       -- class only (desktop, mobile, tablet)
  browser        TEXT,                       -- family only, never the user-agent string
  os             TEXT,                       -- family only
  visitor_key    TEXT NOT NULL,              -- keyed hash with the day's salt
  session_key    TEXT NOT NULL,              -- keyed hash with the day's salt
  props          TEXT NOT NULL DEFAULT '{}', -- JSON object, PII removed
  PRIMARY KEY (site_id, event_id)
) WITHOUT ROWID;

CREATE INDEX events_site_ts ON events (site_id, ts);
