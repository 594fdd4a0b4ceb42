//! Date ranges: a query's `date_range` and `include.comparisons`, resolved in the site's days.
//!
//! Input: a [`DateRange`] (or a [`Compare`]) and the site's [`Context`]: its [`Zone`], `now` and
//! the instant its stats start. Output: a [`Span`], a half-open `[from, to)` range of UTC ms with
//! the local days it covers. The shorthands are Plausible's: `day` is today; `7d`, `28d`, `30d`,
//! `91d` are the N whole days before today (today is not in them); `month` and `year` are the
//! whole calendar month and year holding today; `6mo` and `12mo` the N whole months before this
//! one; `all` runs from the first day of stats to today; `24h` (ours) is the 24 hours up to `now`.
//! A pair of dates covers both days whole; a pair of date-times runs from the first to the last
//! second given, inclusive (a date-time without an offset is the site's local time).
//! Must not: read the clock (`now` is an argument).

use super::{ErrorKind, TimeBucket};
use super::{QueryError, MAX_RANGE_DAYS, MAX_TIME_BUCKETS};
use crate::stats::Range;
use crate::zone::Zone;
use chrono::{DateTime, Datelike, Months, NaiveDate, NaiveDateTime};

const DAY_MS: i64 = 24 * 3600 * 1000;
const HOUR_MS: i64 = 3600 * 1000;
/// Days from 0001-01-01 (chrono's day 1) to 1970-01-01.
const EPOCH_CE_DAYS: i64 = 719_163;
/// Longest date or date-time text read, in bytes.
const MAX_DATE_TEXT: usize = 40;

/// What a range is resolved against: the site's zone, the time of the request, and when the
/// site's stats start (for `all`; `None` when nothing was recorded yet).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Context {
    /// The site's time zone.
    pub zone: Zone,
    /// The time of the request, ms since the epoch.
    pub now: i64,
    /// The instant of the site's first stats (or its creation), ms since the epoch.
    pub stats_start: Option<i64>,
}

/// A `date_range` as asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateRange {
    /// `day`: today.
    Day,
    /// `24h`: the 24 hours up to `now`.
    Last24Hours,
    /// `7d`, `28d`, `30d`, `91d`: the N whole days before today.
    LastDays(u16),
    /// `month`: this calendar month, whole.
    Month,
    /// `6mo`, `12mo`: the N whole months before this one.
    LastMonths(u8),
    /// `year`: this calendar year, whole.
    Year,
    /// `all`: from the first day of stats to today.
    All,
    /// Two dates: from the first day's start to the last day's end, both local days (as day
    /// numbers, days since 1970-01-01).
    Dates {
        /// The first day.
        first: i64,
        /// The last day (inclusive).
        last: i64,
    },
    /// Two date-times: from the first to the end of the last's second.
    Times {
        /// The start.
        from: Instant,
        /// The last second (inclusive).
        to: Instant,
    },
}

/// A date-time as given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Instant {
    /// With an offset (or `Z`): ms since the epoch.
    Utc(i64),
    /// Without one: the site's local wall-clock time, as ms since 1970-01-01T00:00 local.
    Local(i64),
}

/// `include.comparisons`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Compare {
    /// Which range to compare with.
    pub mode: CompareMode,
    /// Move a day-based comparison to start on the same weekday as the range.
    pub match_day_of_week: bool,
}

/// The comparison modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareMode {
    /// `previous_period`: as many days (or ms), just before.
    PreviousPeriod,
    /// `year_over_year`: the same days 365 days earlier.
    YearOverYear,
    /// `custom`: the given range.
    Custom(DateRange),
}

/// A resolved range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// `[from, to)`, UTC ms.
    pub range: Range,
    /// The local day of `from` (days since 1970-01-01 of the local date).
    pub first_day: i64,
    /// The local day of the range's last instant.
    pub last_day: i64,
    /// True when the range is whole local days (`from` and `to` are local midnights).
    pub whole_days: bool,
}

impl DateRange {
    /// The range a shorthand names.
    pub fn shorthand(name: &str) -> Option<DateRange> {
        Some(match name {
            "day" => DateRange::Day,
            "24h" => DateRange::Last24Hours,
            "7d" => DateRange::LastDays(7),
            "28d" => DateRange::LastDays(28),
            "30d" => DateRange::LastDays(30),
            "91d" => DateRange::LastDays(91),
            "month" => DateRange::Month,
            "6mo" => DateRange::LastMonths(6),
            "12mo" => DateRange::LastMonths(12),
            "year" => DateRange::Year,
            "all" => DateRange::All,
            _ => return None,
        })
    }

    /// The range between two ISO 8601 texts, both dates or both date-times; the error completes
    /// the sentence "Invalid date range …".
    pub fn pair(first: &str, last: &str) -> Result<DateRange, &'static str> {
        if first.len() > MAX_DATE_TEXT || last.len() > MAX_DATE_TEXT {
            return Err(": dates are at most 40 characters.");
        }
        match (date(first), date(last)) {
            (Some(first), Some(last)) if first > last => Err(": the first date is after the last."),
            (Some(first), Some(last)) if last - first >= MAX_RANGE_DAYS => {
                Err(": at most 5000 days.")
            }
            (Some(first), Some(last)) => Ok(DateRange::Dates { first, last }),
            (first_date, last_date) => match (instant(first), instant(last)) {
                (Some(from), Some(to)) => Ok(DateRange::Times { from, to }),
                (a, b)
                    if (first_date.is_some() || a.is_some())
                        && (last_date.is_some() || b.is_some()) =>
                {
                    Err(": both ends are dates, or both are date-times.")
                }
                _ => Err(
                    ": two ISO 8601 dates (YYYY-MM-DD) or date-times (YYYY-MM-DDTHH:MM:SS+02:00).",
                ),
            },
        }
    }
}

/// The day number of a `YYYY-MM-DD` date.
fn date(text: &str) -> Option<i64> {
    crate::stats::parse_date(text).map(|ms| ms.div_euclid(DAY_MS))
}

/// An ISO 8601 date-time: with an offset (RFC 3339), or without one (local).
fn instant(text: &str) -> Option<Instant> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(Instant::Utc(t.timestamp_millis()));
    }
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
        .map(|t| Instant::Local(t.and_utc().timestamp_millis()))
}

/// Resolves a range; the error completes the sentence "Invalid date range …".
pub(super) fn resolve(range: &DateRange, cx: &Context) -> Result<Span, &'static str> {
    let today = cx.zone.local(cx.now).day;
    let days = |first: i64, last: i64| Ok(days(cx.zone, first, last));
    match *range {
        DateRange::Day => days(today, today),
        DateRange::Last24Hours => Ok(instants(cx.zone, cx.now - DAY_MS, cx.now)),
        DateRange::LastDays(n) => days(today - i64::from(n), today - 1),
        DateRange::Month => {
            let first = add_months(today, 0).unwrap_or(today);
            let last = add_months(first, 1).map_or(today, |next| next - 1);
            days(first, last)
        }
        DateRange::LastMonths(n) => {
            let this = add_months(today, 0).unwrap_or(today);
            let first = add_months(this, -i32::from(n)).unwrap_or(this);
            days(first, this - 1)
        }
        DateRange::Year => {
            let first = calendar(today)
                .and_then(|d| NaiveDate::from_ymd_opt(d.year(), 1, 1))
                .map_or(today, day_number);
            let last = add_months(first, 12).map_or(today, |next| next - 1);
            days(first, last)
        }
        DateRange::All => {
            let start = cx.stats_start.map_or(today, |s| cx.zone.local(s).day);
            days(start.clamp(today - (MAX_RANGE_DAYS - 1), today), today)
        }
        DateRange::Dates { first, last } => days(first, last),
        DateRange::Times { from, to } => {
            let (from, to) = (utc(from, cx.zone), utc(to, cx.zone));
            if to < from {
                return Err(": the first date-time is after the last.");
            }
            let to = to.div_euclid(1000) * 1000 + 1000;
            if to - from > MAX_RANGE_DAYS * DAY_MS {
                return Err(": at most 5000 days.");
            }
            Ok(instants(cx.zone, from, to))
        }
    }
}

/// The comparison range for `main`. `previous_period` is as long as `main` up to today (or
/// `now`) and ends just before it; `year_over_year` is the same days 365 days earlier, also cut
/// at today (Plausible's definitions); for a date-time range, the same lengths in ms. With
/// `match_day_of_week`, a day-based `previous_period` or `year_over_year` comparison is moved to
/// the nearest start on the same weekday as `main`'s (at most 3 days either way, never
/// overlapping `main`; Plausible always moves it forward, which can overlap). A `custom`
/// comparison is the range given.
pub(super) fn compare(main: &Span, compare: &Compare, cx: &Context) -> Result<Span, &'static str> {
    let year = 365;
    match compare.mode {
        CompareMode::Custom(range) => resolve(&range, cx),
        mode if main.whole_days => {
            let today = cx.zone.local(cx.now).day;
            let (first, last) = (main.first_day, main.last_day.min(today).max(main.first_day));
            let (mut from, mut to) = match mode {
                CompareMode::YearOverYear => (first - year, last - year),
                _ => (first - (last - first + 1), first - 1),
            };
            if compare.match_day_of_week {
                let mut shift = (first - from).rem_euclid(7);
                if shift > 3 {
                    shift -= 7;
                }
                if shift > 0 && to + shift >= first {
                    shift -= 7;
                }
                (from, to) = (from + shift, to + shift);
            }
            Ok(days(cx.zone, from, to))
        }
        mode => {
            let Range { from, to } = main.range;
            let end = if from < cx.now && cx.now < to {
                cx.now
            } else {
                to
            };
            let (from, to) = match mode {
                CompareMode::YearOverYear => (from - year * DAY_MS, end - year * DAY_MS),
                _ => (from - (end - from), from),
            };
            Ok(instants(cx.zone, from, to))
        }
    }
}

/// The bucket Plausible's `time` dimension picks: months when the range spans a full month or
/// more, days when it spans a full day or more, hours otherwise.
pub(super) fn auto_bucket(span: &Span, cx: &Context) -> TimeBucket {
    let last = span.range.to - 1;
    let (Some(a), Some(b)) = (local(cx.zone, span.range.from), local(cx.zone, last)) else {
        return TimeBucket::Day;
    };
    let mut months = (b.year() * 12 + b.month0() as i32) - (a.year() * 12 + a.month0() as i32);
    if (b.day(), b.time()) < (a.day(), a.time()) {
        months -= 1;
    }
    // A whole-day range counts its local days, so a 25-hour day (daylight saving ends) is one.
    let days = if span.whole_days {
        span.last_day > span.first_day
    } else {
        last - span.range.from >= DAY_MS
    };
    if months > 0 {
        TimeBucket::Month
    } else if days {
        TimeBucket::Day
    } else {
        TimeBucket::Hour
    }
}

/// How many buckets of `bucket` the span makes (an upper bound for hours and weeks).
pub(super) fn bucket_count(span: &Span, bucket: TimeBucket) -> u64 {
    let days = (span.last_day - span.first_day).max(0) as u64;
    match bucket {
        TimeBucket::Hour => {
            ((span.range.to - span.range.from).max(0) as u64).div_ceil(HOUR_MS as u64) + 1
        }
        TimeBucket::Day | TimeBucket::Auto => days + 1,
        TimeBucket::Week => days / 7 + 2,
        TimeBucket::Month => match (calendar(span.first_day), calendar(span.last_day)) {
            (Some(a), Some(b)) => {
                let n = (b.year() * 12 + b.month0() as i32) - (a.year() * 12 + a.month0() as i32);
                n.max(0) as u64 + 1
            }
            _ => MAX_TIME_BUCKETS + 1,
        },
    }
}

/// Whole local days `first..=last`.
fn days(zone: Zone, first: i64, last: i64) -> Span {
    Span {
        range: Range {
            from: midnight(zone, first),
            to: midnight(zone, last + 1),
        },
        first_day: first,
        last_day: last,
        whole_days: true,
    }
}

/// `[from, to)` in UTC ms, with the local days it touches.
fn instants(zone: Zone, from: i64, to: i64) -> Span {
    Span {
        range: Range { from, to },
        first_day: zone.local(from).day,
        last_day: zone.local(to - 1).day,
        whole_days: false,
    }
}

fn utc(at: Instant, zone: Zone) -> i64 {
    match at {
        Instant::Utc(ms) => ms,
        Instant::Local(ms) => local_to_utc(zone, ms),
    }
}

/// The UTC instant the local day `day` starts.
pub fn midnight(zone: Zone, day: i64) -> i64 {
    local_to_utc(zone, day * DAY_MS)
}

/// The first UTC instant whose local wall-clock time is `local` (ms since 1970-01-01 local); in a
/// gap (a daylight-saving jump over `local`), the instant the jump lands.
fn local_to_utc(zone: Zone, local: i64) -> i64 {
    let mut offsets = [-DAY_MS, 0, DAY_MS].map(|probe| zone.offset_ms(local + probe));
    offsets.sort_unstable();
    let valid = offsets
        .iter()
        .map(|o| local - o)
        .filter(|t| t + zone.offset_ms(*t) == local)
        .min();
    if let Some(t) = valid {
        return t;
    }
    // A gap: the first instant whose local time is past `local`.
    let (mut lo, mut hi) = (local - offsets[2], local - offsets[0]);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if mid + zone.offset_ms(mid) >= local {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    lo
}

/// The local wall-clock date-time of `ts`.
fn local(zone: Zone, ts: i64) -> Option<NaiveDateTime> {
    DateTime::from_timestamp_millis(ts + zone.offset_ms(ts)).map(|t| t.naive_utc())
}

/// The calendar date of a day number.
fn calendar(day: i64) -> Option<NaiveDate> {
    i32::try_from(day + EPOCH_CE_DAYS)
        .ok()
        .and_then(NaiveDate::from_num_days_from_ce_opt)
}

fn day_number(date: NaiveDate) -> i64 {
    i64::from(date.num_days_from_ce()) - EPOCH_CE_DAYS
}

/// The first day of the month `n` months from the one holding `day`.
fn add_months(day: i64, n: i32) -> Option<i64> {
    let first = calendar(day)?.with_day(1)?;
    let moved = if n >= 0 {
        first.checked_add_months(Months::new(n as u32))
    } else {
        first.checked_sub_months(Months::new(n.unsigned_abs()))
    }?;
    Some(day_number(moved))
}

/// The error for a range that `resolve` or `compare` refused, at `path`.
pub(super) fn error(path: &str, why: &str) -> QueryError {
    QueryError::new(
        ErrorKind::InvalidDateRange,
        format!("{path}: Invalid date range{why}"),
    )
}
