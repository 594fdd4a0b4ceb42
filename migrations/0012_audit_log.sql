-- 0012: the audit log of admin actions (core's `audit`): what was done (a closed list of
-- actions), to which tenant or site, when, by which token — its fingerprint, never the token or
-- the hash it is checked against — and the names of what changed or an export's range. Kept 90
-- days (the cron deletes older entries); read through GET /api/admin/audit.
CREATE TABLE audit_log (
  id      INTEGER PRIMARY KEY,              -- increasing: the order of the log
  at      INTEGER NOT NULL,                 -- ms since the epoch
  action  TEXT NOT NULL,
  target  TEXT NOT NULL,
  actor   TEXT NOT NULL,
  detail  TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_at ON audit_log (at);
