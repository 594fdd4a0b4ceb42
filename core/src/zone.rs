//! Time zones: a site's days and hours are counted in its IANA time zone. Input: a zone name and a
//! UTC instant (ms). Output: the local day number (days since 1970-01-01 of the local date) and hour.
//! Must not: read the clock.

use chrono::{TimeZone, Timelike, Utc};
use chrono_tz::Tz;

/// Milliseconds in a day.
pub const DAY_MS: i64 = 24 * 3600 * 1000;

/// A site's time zone; an unknown name counts as UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Zone(Tz);

/// A local calendar position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Local {
    /// Days since 1970-01-01 of the local date.
    pub day: i64,
    /// Local hour, 0–23.
    pub hour: u8,
}

impl Zone {
    /// The zone called `name`, or UTC.
    pub fn named(name: &str) -> Zone {
        Zone(name.parse().unwrap_or(Tz::UTC))
    }

    /// The zone's offset from UTC at `ts`, in ms.
    pub fn offset_ms(self, ts: i64) -> i64 {
        match Utc.timestamp_millis_opt(ts).single() {
            Some(utc) => {
                let local = utc.with_timezone(&self.0).naive_local();
                local.and_utc().timestamp_millis() - ts
            }
            None => 0,
        }
    }

    /// The local day and hour of `ts`.
    pub fn local(self, ts: i64) -> Local {
        let shifted = ts + self.offset_ms(ts);
        let hour = Utc
            .timestamp_millis_opt(shifted)
            .single()
            .map_or(0, |t| t.hour() as u8);
        Local {
            day: shifted.div_euclid(DAY_MS),
            hour,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_days_follow_the_zone_and_its_daylight_saving() {
        // 2026-07-01T23:30:00Z is already 2 July, 01:30 in Berlin (UTC+2 in summer).
        let ts = 1_782_948_600_000;
        let utc = Zone::named("UTC").local(ts);
        let berlin = Zone::named("Europe/Berlin").local(ts);
        assert_eq!((berlin.day - utc.day, utc.hour, berlin.hour), (1, 23, 1));
        // In winter Berlin is UTC+1; New York is behind UTC.
        let winter = 1_767_225_600_000; // 2026-01-01T00:00:00Z
        assert_eq!(Zone::named("Europe/Berlin").offset_ms(winter), 3_600_000);
        assert_eq!(Zone::named("America/New_York").local(winter).hour, 19);
        assert_eq!(Zone::named("Not/AZone"), Zone::named("UTC"));
    }
}
