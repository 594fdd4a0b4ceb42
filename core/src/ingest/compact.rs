//! Compaction (the cron's stage): a site's closed ISO weeks (Monday to Sunday) and calendar months,
//! each summed from its days into parts of its own (`period_parts`), so that a report over many
//! days reads a few rows per part instead of one per day — a year of top pages reads 12 months,
//! not 365 pages parts.
//!
//! A period is stamped with the sum of its days' versions when it is summed, and stored only while
//! that sum holds (a day written meanwhile leaves it unstored); whatever writes a day drops the
//! periods holding it. So a stored period is always exactly the sum of its days (no cap: an
//! answer from periods equals one from days), and a period with no row, or whose stamp is not its
//! days' sum, is due. A period too big to store (a part over [`MAX_PART_BYTES`]) is remembered
//! with its stamp negated and tried again only when one of its days changes.
//!
//! Input: the site's first day with stats and its local today; the periods' stamps and their days'
//! current sums; the days of one period. Output: which periods to sum, newest first, within a
//! budget of days read; each period as parts. Must not: count (the aggregate stage does) or cap.

use std::collections::BTreeMap;

use super::aggregate::Day;
use super::parts;

/// Most bytes of one stored part: D1 takes at most 2 MB per value, and its local form passes each
/// parameter through JSON once more.
pub const MAX_PART_BYTES: usize = 900_000;

/// Most days of parts one run reads for one site (a busy site's year takes a few runs; the cron
/// never holds more than about two months of a site in memory).
pub const DAYS_PER_RUN: i64 = 100;

/// Days a closed period waits after its last day before it is summed: events of the last hours
/// still arrive (queues, other time zones, the outbox of a tab that was offline).
pub const GRACE_DAYS: i64 = 1;

/// A week or a month: local days `first..=last`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Period {
    /// Its first local day (days since 1970-01-01).
    pub first: i64,
    /// Its last local day.
    pub last: i64,
}

impl Period {
    /// Its length in days.
    pub fn days(&self) -> i64 {
        self.last - self.first + 1
    }
}

/// The first day of the month holding local day `day`.
fn month_start(day: i64) -> i64 {
    crate::engine::tally::bucket_day(crate::query::TimeBucket::Month, day)
}

/// The weeks and months that hold a day in `first_day..today` and ended over [`GRACE_DAYS`]
/// before `today` (local days).
pub fn closed(first_day: i64, today: i64) -> Vec<Period> {
    let last_closed = today - 1 - GRACE_DAYS;
    let mut out = Vec::new();
    if first_day > last_closed {
        return out;
    }
    // Weeks: day 0 (1970-01-01) was a Thursday; a week starts on the day with (day + 3) % 7 == 0.
    let mut week = first_day - (first_day + 3).rem_euclid(7);
    while week + 6 <= last_closed {
        out.push(Period {
            first: week,
            last: week + 6,
        });
        week += 7;
    }
    let mut month = month_start(first_day);
    loop {
        let next = month_start(month + 31);
        if next - 1 > last_closed || next <= month {
            break;
        }
        out.push(Period {
            first: month,
            last: next - 1,
        });
        month = next;
    }
    out
}

/// A period as storage knows it: its stamp (`None`: never summed) and its days' version sum now
/// (`None`: none of its days has stats).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status {
    /// The period.
    pub period: Period,
    /// The stamp it was stored with.
    pub stamp: Option<i64>,
    /// The sum of its days' versions now.
    pub versions: Option<i64>,
}

/// The periods to sum this run: those with stats whose stamp is not their days' sum (nor, for one
/// too big to store, minus it), newest first, while the days read stay within `budget` (one period
/// at least).
pub fn due(statuses: &[Status], budget: i64) -> Vec<Period> {
    let mut stale: Vec<Period> = statuses
        .iter()
        .filter(|s| match (s.versions, s.stamp) {
            (None, _) => false,
            (Some(v), Some(stamp)) => stamp != v && stamp != -v,
            (Some(_), None) => true,
        })
        .map(|s| s.period)
        .collect();
    stale.sort_by(|a, b| b.last.cmp(&a.last).then(b.days().cmp(&a.days())));
    let mut out = Vec::new();
    let mut days = 0;
    for p in stale {
        if !out.is_empty() && days + p.days() > budget {
            break;
        }
        days += p.days();
        out.push(p);
    }
    out
}

/// What one period stores: its parts, or nothing when one is too big for a row.
#[derive(Debug, Clone, PartialEq)]
pub enum Summed {
    /// (part, JSON) to store with the stamp.
    Parts(Vec<(&'static str, String)>),
    /// A part over [`MAX_PART_BYTES`]: stored as a marker with the stamp negated.
    TooBig,
}

/// A period's parts from its days (taken one at a time: a caller that parses each day as it
/// comes holds one parsed day beside the sum, not the period's).
pub fn sum<D: std::borrow::Borrow<Day>>(days: impl IntoIterator<Item = D>) -> Summed {
    let mut total = Day::default();
    for day in days {
        total.merge(day.borrow());
    }
    let split = parts::split(&total);
    if split.iter().any(|(_, json)| json.len() > MAX_PART_BYTES) {
        return Summed::TooBig;
    }
    Summed::Parts(split)
}

/// The stamp of days read with these versions.
pub fn stamp(versions: &BTreeMap<i64, i64>) -> i64 {
    versions.values().fold(0i64, |a, v| a.saturating_add(*v))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::tally::date;
    use crate::ingest::aggregate::{dim, Tally};

    fn day_of(date_text: &str) -> i64 {
        (0..40_000).find(|d| date(*d) == date_text).unwrap()
    }

    #[test]
    fn closed_weeks_and_months_end_before_the_grace_day() {
        // 2026-10-14 is a Wednesday; today 2026-12-02 (a Wednesday).
        let got = closed(day_of("2026-10-14"), day_of("2026-12-02"));
        let text: Vec<String> = got
            .iter()
            .map(|p| format!("{}..{}", date(p.first), date(p.last)))
            .collect();
        assert_eq!(
            text,
            [
                "2026-10-12..2026-10-18",
                "2026-10-19..2026-10-25",
                "2026-10-26..2026-11-01",
                "2026-11-02..2026-11-08",
                "2026-11-09..2026-11-15",
                "2026-11-16..2026-11-22",
                "2026-11-23..2026-11-29",
                "2026-10-01..2026-10-31",
                "2026-11-01..2026-11-30",
            ]
        );
        // The week ending yesterday waits a day; a month ending yesterday too.
        let got = closed(day_of("2026-11-20"), day_of("2026-12-01"));
        assert!(got.iter().all(|p| p.last < day_of("2026-11-30")), "{got:?}");
        assert!(closed(day_of("2026-12-01"), day_of("2026-12-02")).is_empty());
        // Leap February, year end.
        let feb = closed(day_of("2028-02-01"), day_of("2029-01-03"));
        assert!(feb.contains(&Period {
            first: day_of("2028-02-01"),
            last: day_of("2028-02-29")
        }));
        assert!(feb.contains(&Period {
            first: day_of("2028-12-01"),
            last: day_of("2028-12-31")
        }));
    }

    #[test]
    fn due_takes_stale_periods_newest_first_within_the_budget() {
        let p = |first, last| Period { first, last };
        let s = |period, stamp, versions| Status {
            period,
            stamp,
            versions,
        };
        let statuses = [
            s(p(0, 6), Some(5), Some(5)),     // fresh
            s(p(7, 13), Some(5), Some(6)),    // a day changed
            s(p(14, 20), None, Some(3)),      // never summed
            s(p(21, 27), None, None),         // no stats
            s(p(0, 30), Some(-9), Some(9)),   // too big at this sum
            s(p(31, 60), Some(-9), Some(10)), // too big before; changed since
        ];
        assert_eq!(due(&statuses, 100), vec![p(31, 60), p(14, 20), p(7, 13)]);
        assert_eq!(due(&statuses, 35), vec![p(31, 60)]);
        assert_eq!(due(&statuses, 1), vec![p(31, 60)], "one period at least");
    }

    #[test]
    fn a_period_is_the_exact_sum_of_its_days() {
        let mut a = Day {
            pageviews: 3,
            visitors: 2,
            ..Day::default()
        };
        a.dims.entry(dim::PAGES.into()).or_default().insert(
            "/a".into(),
            Tally {
                visitors: 2,
                count: 3,
                amount: 0.0,
            },
        );
        let mut b = a.clone();
        b.audience(true).pageviews = 4;
        let Summed::Parts(parts) = sum([&a, &b]) else {
            panic!("small")
        };
        let owned = parts.into_iter().map(|(n, t)| (n.to_owned(), t)).collect();
        let (joined, bad) = parts::join(owned);
        assert!(bad.is_empty());
        assert_eq!((joined.pageviews, joined.visitors), (6, 4));
        assert_eq!(joined.dims[dim::PAGES]["/a"].count, 6);
        assert_eq!(joined.staff.unwrap().pageviews, 4);

        let mut huge = Day::default();
        let pages = huge.dims.entry(dim::PAGES.into()).or_default();
        for i in 0..40_000 {
            pages.insert(
                format!("/a-long-path-that-takes-room/{i}"),
                Tally {
                    visitors: 1,
                    count: 1,
                    amount: 0.0,
                },
            );
        }
        assert_eq!(sum([&huge]), Summed::TooBig);
        assert_eq!(stamp(&BTreeMap::from([(1, 3), (2, 4)])), 7);
    }
}
