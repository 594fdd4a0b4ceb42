//! Retention of raw events: which instants a site's raw events, visits and day blocks are kept
//! for. Input: the site's zone, `now` and its `retention_days`. Output: the first instant kept
//! (answers count from it) and the instant the purge cuts before. A site keeps today and its
//! `retention_days` whole local days before it, so `"30d"` (the 30 days before today) is whole
//! with the default 30 days. The purge runs in SQL over every site at once, in UTC: it cuts a
//! UTC day earlier than the local days need ([`purge_before`], which the worker's store mirrors
//! in SQL), never after the first kept instant whatever the zone (offsets are within ±14 h).
//! The recent log (the worker's `recent_events`) keeps the last [`RECENT_HOURS`] UTC hours.
//! Must not: read the clock (`now` is an argument).

use crate::query::midnight;
use crate::zone::{Zone, DAY_MS};

/// The first instant of a site's raw events answers count from: the local midnight starting
/// the day `retention_days` before today.
pub fn kept_from(zone: Zone, now: i64, retention_days: i64) -> i64 {
    midnight(zone, zone.local(now).day - retention_days)
}

/// The first local day whose raw events are all kept (the day of [`kept_from`]).
pub fn first_kept_day(zone: Zone, now: i64, retention_days: i64) -> i64 {
    zone.local(now).day - retention_days
}

/// The first local day a query reads a block or raw events of: the day before the first kept
/// one, for the visits that cross into it (its block holds what is left of it).
pub fn first_read_day(zone: Zone, now: i64, retention_days: i64) -> i64 {
    first_kept_day(zone, now, retention_days) - 1
}

/// An hour, ms (the recent log's key is the UTC hour of an event's time).
pub const HOUR_MS: i64 = 3600 * 1000;

/// Hours of events the recent log keeps, besides the hour under way.
pub const RECENT_HOURS: i64 = 48;

/// The oldest UTC hour (hours since the epoch) the recent log keeps at `now`.
pub fn recent_first_hour(now: i64) -> i64 {
    now.div_euclid(HOUR_MS) - RECENT_HOURS
}

/// The instant the purge deletes raw events and visits before (by their own time): the UTC
/// midnight a day before the UTC day `retention_days` before today's.
pub fn purge_before(now: i64, retention_days: i64) -> i64 {
    (purge_before_day(now, retention_days)) * DAY_MS
}

/// The UTC day number [`purge_before`] starts (day blocks of local days before it are purged).
pub fn purge_before_day(now: i64, retention_days: i64) -> i64 {
    now.div_euclid(DAY_MS) - 1 - retention_days
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_purge_never_cuts_into_a_kept_day_in_any_zone() {
        let zones = [
            "UTC",
            "Pacific/Kiritimati",
            "Etc/GMT+12",
            "Pacific/Pago_Pago",
            "Europe/Berlin",
            "America/New_York",
            "Asia/Kolkata",
            "Australia/Lord_Howe",
            "Pacific/Chatham",
        ];
        // Every 17 minutes over a year and a bit (both daylight-saving changes of each zone).
        let start: i64 = 1_767_225_600_000; // 2026-01-01T00:00Z
        for name in zones {
            let zone = Zone::named(name);
            for retention in [2, 30, 365] {
                let mut now = start;
                while now < start + 400 * DAY_MS {
                    let kept = kept_from(zone, now, retention);
                    assert!(
                        purge_before(now, retention) <= kept,
                        "{name} {retention} {now}"
                    );
                    // The blocks purge (days before `purge_before_day - 1`) keeps the first day
                    // a query reads.
                    assert!(
                        purge_before_day(now, retention) - 1
                            <= first_read_day(zone, now, retention)
                    );
                    assert_eq!(zone.local(kept).day, first_kept_day(zone, now, retention));
                    // The whole retention is kept: today and `retention` days before it.
                    assert!(
                        now - kept >= retention * DAY_MS - 2 * 3600 * 1000,
                        "{name} {now}"
                    );
                    now += 17 * 60 * 1000;
                }
            }
        }
    }

    #[test]
    fn thirty_days_keep_the_thirty_days_before_today_whole() {
        let zone = Zone::named("UTC");
        let now: i64 = 1_796_587_574_405; // 2026-12-06T20:46:14Z
        let today = now.div_euclid(DAY_MS);
        assert_eq!(kept_from(zone, now, 30), (today - 30) * DAY_MS);
        assert_eq!(purge_before(now, 30), (today - 31) * DAY_MS);
    }
}
