-- 0019: a site's share links (POST/GET/DELETE /api/sites/{site}/shares). A share is a secret that
-- opens the site's reports read-only — the Stats API v2, and the v1 reports when it is not locked
-- to a segment — to whoever holds it; only its SHA-256 (hex, as the sites' tokens: core's
-- `token::hash`) is stored, so the secret is shown once, when the share is made. `segment_id`
-- (NULL: the whole site) locks every query of its holder to that saved segment; it is no foreign
-- key, so deleting the segment is not refused: the share's queries then fail (400) until it is
-- revoked. Ids are never reused (AUTOINCREMENT). The rows go with their site: erasure deletes them
-- before the site, and the reference makes a site with rows left undeletable. The index serves
-- the token check (site and hash, read with the site's settings in one statement) and a site's
-- list and count; a hash is unique within its site, so the check reads at most one row.

CREATE TABLE shares (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  site_id     TEXT NOT NULL REFERENCES sites(id),
  name        TEXT NOT NULL,
  token_hash  TEXT NOT NULL,                 -- SHA-256 hex of the secret
  segment_id  INTEGER,                       -- the segment its holder sees only; NULL: the whole site
  created_at  INTEGER NOT NULL               -- ms since the epoch
);
CREATE UNIQUE INDEX shares_site_token ON shares (site_id, token_hash);
