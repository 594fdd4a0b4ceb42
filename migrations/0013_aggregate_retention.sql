-- 0013: how long a site's daily aggregates (and the weeks and months summed from them) are kept:
-- 0, the default, as long as the site; else at least 365 days (core's admin rules). The cron
-- deletes older days and periods.
ALTER TABLE sites ADD COLUMN aggregate_retention_days INTEGER NOT NULL DEFAULT 0;
