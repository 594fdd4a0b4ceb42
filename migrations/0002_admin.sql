-- 0002: what the admin API manages besides domains: a write token (for server-side senders, checked
-- instead of the Origin), optional GA4 and Umami ids for side-by-side comparison. Tokens are stored
-- only as SHA-256 hex.

ALTER TABLE sites ADD COLUMN write_token_hash TEXT;
ALTER TABLE sites ADD COLUMN ga4_measurement_id TEXT;
ALTER TABLE sites ADD COLUMN umami_website_id TEXT;
