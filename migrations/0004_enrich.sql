-- 0004: the source name an event's visit came from ("Google", a utm_source, or a referrer host), from
-- referer-parser's data; channel, device, browser and os (in 0001) are now filled in too.

ALTER TABLE events ADD COLUMN source TEXT;
