//! Stats: a report request parsed into data ([`Query`]), and raw aggregates shaped into answers.
//!
//! Input: the path's report name, the query string's `period`/`from`/`to`/`compare`, and `now`.
//! Output: a [`Query`] the worker's store turns into its fixed SQL, then JSON-ready shapes.
//! Must not: hold SQL text (that lives in the worker's one storage module) or read the clock.

use serde::Serialize;

const DAY_MS: i64 = 24 * 3600 * 1000;
/// Longest custom range, in days.
pub const MAX_RANGE_DAYS: i64 = 731;

/// Every report the stats API serves, by the name used in its URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Report {
    /// Totals: pageviews, visitors, visits, bounce rate, visit duration.
    Overview,
    /// Visitors seen in the last 5 minutes.
    Realtime,
    /// Pageviews and visitors per day.
    Timeseries,
    /// A top list grouped by one dimension.
    Breakdown(Dimension),
}

impl Report {
    /// The stored parts of a rollup day ([`crate::ingest::parts`]) the report reads: its totals,
    /// and a breakdown's dimension.
    pub fn parts(self) -> Vec<&'static str> {
        match self {
            Report::Breakdown(d) if d != Dimension::Vitals => {
                let part = crate::ingest::parts::part_of(d.key());
                [crate::ingest::parts::TOTALS]
                    .into_iter()
                    .chain(part)
                    .collect()
            }
            _ => vec![crate::ingest::parts::TOTALS],
        }
    }
}

/// The dimensions a breakdown can group by: a closed set, each mapped to fixed SQL by the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dimension {
    /// Page paths by pageviews.
    Pages,
    /// First page of each visit.
    EntryPages,
    /// Last page of each visit.
    ExitPages,
    /// Source: UTM source, else referrer host, else "Direct / None".
    Sources,
    /// Acquisition channel.
    Channels,
    /// Referrer hosts.
    Referrers,
    /// UTM campaigns.
    Utm,
    /// Countries.
    Countries,
    /// Device classes.
    Devices,
    /// Browsers.
    Browsers,
    /// Operating systems.
    Os,
    /// Custom events by name.
    Events,
    /// Conversions (goal events) by name.
    Goals,
    /// Revenue per currency.
    Revenue,
    /// Web vitals per metric.
    Vitals,
}

impl Report {
    /// Parses the `{report}` path segment.
    pub fn parse(name: &str) -> Option<Report> {
        use Dimension::*;
        let dimension = match name {
            "overview" => return Some(Report::Overview),
            "realtime" => return Some(Report::Realtime),
            "timeseries" => return Some(Report::Timeseries),
            "pages" => Pages,
            "entry-pages" => EntryPages,
            "exit-pages" => ExitPages,
            "sources" => Sources,
            "channels" => Channels,
            "referrers" => Referrers,
            "utm" => Utm,
            "countries" => Countries,
            "devices" => Devices,
            "browsers" => Browsers,
            "os" => Os,
            "events" => Events,
            "goals" => Goals,
            "revenue" => Revenue,
            "vitals" => Vitals,
            _ => return None,
        };
        Some(Report::Breakdown(dimension))
    }
}

/// A half-open time range `[from, to)` in ms since the epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Range {
    /// Inclusive start, ms.
    pub from: i64,
    /// Exclusive end, ms.
    pub to: i64,
}

impl Range {
    /// The range of the same length just before this one.
    pub fn previous(self) -> Range {
        Range {
            from: self.from - (self.to - self.from),
            to: self.from,
        }
    }
}

/// A parsed stats request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// Which report.
    pub report: Report,
    /// The period asked for.
    pub range: Range,
    /// The period to compare with, when `compare=previous`.
    pub compare: Option<Range>,
    /// `interval=hour`: the timeseries by local hour (at most [`MAX_HOURLY_DAYS`] days).
    pub hourly: bool,
}

/// Longest range the hourly timeseries covers, in days.
pub const MAX_HOURLY_DAYS: i64 = 7;

/// Why a stats request is refused (answered 400).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StatsError {
    /// The report name is not one of [`Report`]'s.
    UnknownReport(String),
    /// `period` is not `today`, `7d`, `30d`, `90d` or `custom`.
    InvalidPeriod(String),
    /// `custom` without valid `from`/`to` dates, or a range that is reversed or too long.
    InvalidRange(String),
    /// `compare` is not `previous`.
    InvalidCompare(String),
    /// `interval` is not `day` or `hour`, or hours were asked for too long a range.
    InvalidInterval(String),
}

impl StatsError {
    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            StatsError::UnknownReport(_) => "unknown_report",
            StatsError::InvalidPeriod(_) => "invalid_period",
            StatsError::InvalidRange(_) => "invalid_range",
            StatsError::InvalidCompare(_) => "invalid_compare",
            StatsError::InvalidInterval(_) => "invalid_interval",
        }
    }

    /// A sentence for a human.
    pub fn message(&self) -> String {
        match self {
            StatsError::UnknownReport(r) => format!("no report is called `{r}`"),
            StatsError::InvalidPeriod(p) => {
                format!("period `{p}` is not one of today, 7d, 30d, 90d, custom")
            }
            StatsError::InvalidRange(why) => format!("custom range: {why}"),
            StatsError::InvalidCompare(c) => format!("compare `{c}` is not `previous`"),
            StatsError::InvalidInterval(why) => format!("interval: {why}"),
        }
    }
}

/// Parses a report request from the path segment and the query pairs, at time `now` (UTC days).
pub fn parse_query(
    report: &str,
    params: &[(String, String)],
    now: i64,
) -> Result<Query, StatsError> {
    let report =
        Report::parse(report).ok_or_else(|| StatsError::UnknownReport(report.to_owned()))?;
    let param = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let today = now.div_euclid(DAY_MS) * DAY_MS;
    let last_days = |n: i64| Range {
        from: today - (n - 1) * DAY_MS,
        to: today + DAY_MS,
    };
    let range = match param("period").unwrap_or("7d") {
        "today" | "day" => last_days(1),
        "7d" => last_days(7),
        "30d" => last_days(30),
        "90d" => last_days(90),
        "custom" => custom_range(param("from"), param("to"))?,
        other => return Err(StatsError::InvalidPeriod(other.to_owned())),
    };
    let compare = match param("compare") {
        None | Some("") | Some("off") => None,
        Some("previous") => Some(range.previous()),
        Some(other) => return Err(StatsError::InvalidCompare(other.to_owned())),
    };
    let hourly = match param("interval") {
        None | Some("") | Some("day") => false,
        Some("hour") if range.to - range.from <= MAX_HOURLY_DAYS * DAY_MS => true,
        Some("hour") => {
            return Err(StatsError::InvalidInterval(format!(
                "hours cover at most {MAX_HOURLY_DAYS} days"
            )))
        }
        Some(other) => {
            return Err(StatsError::InvalidInterval(format!(
                "`{other}` is not `day` or `hour`"
            )))
        }
    };
    Ok(Query {
        report,
        range,
        compare,
        hourly,
    })
}

fn custom_range(from: Option<&str>, to: Option<&str>) -> Result<Range, StatsError> {
    let day = |name: &str, value: Option<&str>| {
        value
            .and_then(parse_date)
            .ok_or_else(|| StatsError::InvalidRange(format!("`{name}` must be a date YYYY-MM-DD")))
    };
    let (from, to) = (day("from", from)?, day("to", to)? + DAY_MS);
    if to <= from {
        return Err(StatsError::InvalidRange("`to` is before `from`".into()));
    }
    if to - from > MAX_RANGE_DAYS * DAY_MS {
        return Err(StatsError::InvalidRange(format!(
            "at most {MAX_RANGE_DAYS} days"
        )));
    }
    Ok(Range { from, to })
}

/// Midnight UTC of a `YYYY-MM-DD` date, in ms since the epoch.
pub fn parse_date(text: &str) -> Option<i64> {
    let mut parts = text.split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let (y, m, d): (i64, i64, i64) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let month_days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&m) || d < 1 || d > month_days[(m - 1) as usize] {
        return None;
    }
    Some(days_from_civil(y, m, d) * DAY_MS)
}

/// `YYYY-MM-DD` of the UTC day holding `ms`.
pub fn format_date(ms: i64) -> String {
    let z = ms.div_euclid(DAY_MS) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Raw totals over a range, as the store reads them.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Deserialize)]
pub struct Totals {
    /// Pageviews.
    pub pageviews: f64,
    /// Distinct visitor keys.
    pub visitors: f64,
    /// Distinct visits.
    pub visits: f64,
    /// Visits with fewer than two pageviews and no interactive event.
    pub bounces: f64,
    /// Sum over visits of (last event − first event), ms.
    pub total_duration_ms: f64,
    /// Events visitors' browsers dropped unsent, as they reported.
    #[serde(default)]
    pub lost: f64,
}

/// The overview report.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Overview {
    /// Pageviews.
    pub pageviews: u64,
    /// Unique visitors (per day, summed over the days' salts).
    pub visitors: u64,
    /// Visits (sessions).
    pub visits: u64,
    /// Share of visits that bounced, percent, 0–100, whole number.
    pub bounce_rate: u64,
    /// Mean visit duration in seconds, whole number.
    pub visit_duration: u64,
    /// Events visitors' browsers had to drop unsent (their outbox was full while offline), as the
    /// SDK reported on its next confirmed send: a health figure, not traffic.
    pub lost_in_browser: u64,
}

impl From<Totals> for Overview {
    fn from(t: Totals) -> Self {
        let visits = t.visits.max(0.0) as u64;
        let per_visit = |x: f64| if visits == 0 { 0.0 } else { x / visits as f64 };
        Overview {
            pageviews: t.pageviews.max(0.0) as u64,
            visitors: t.visitors.max(0.0) as u64,
            visits,
            bounce_rate: (per_visit(t.bounces) * 100.0).round() as u64,
            visit_duration: (per_visit(t.total_duration_ms) / 1000.0).round() as u64,
            lost_in_browser: t.lost.max(0.0) as u64,
        }
    }
}

/// How far back the realtime report looks, in ms.
pub const REALTIME_WINDOW_MS: i64 = 5 * 60 * 1000;

impl Dimension {
    /// The label reports show where the stored value is empty.
    pub fn empty_label(self) -> &'static str {
        match self {
            Dimension::Sources | Dimension::Referrers | Dimension::Channels => "Direct / None",
            Dimension::Utm => "(no campaign)",
            Dimension::Revenue => "(no currency)",
            _ => "(unknown)",
        }
    }
}

/// One row of a breakdown as the store reads it.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct BreakdownRow {
    /// The dimension's value; `None` when not set.
    pub value: Option<String>,
    /// Distinct visitors.
    pub visitors: f64,
    /// Events (pageviews, visits or conversions, by dimension).
    pub count: f64,
    /// Revenue sum (revenue) or p75 (vitals); absent elsewhere.
    #[serde(default)]
    pub amount: Option<f64>,
}

/// One row of a breakdown report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    /// The dimension's value, or its empty label.
    pub value: String,
    /// Distinct visitors.
    pub visitors: u64,
    /// Events counted.
    pub count: u64,
    /// Revenue sum, for the revenue report.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revenue: Option<f64>,
    /// 75th percentile, for the vitals report (ms; CLS unitless).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p75: Option<f64>,
    /// Sum of the events' numeric `value` (or `tokens`) prop, for the events report, when any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sum: Option<f64>,
}

/// Shapes a breakdown's rows, labelling empty values.
pub fn shape_breakdown(dimension: Dimension, rows: Vec<BreakdownRow>) -> Vec<Entry> {
    rows.into_iter()
        .map(|row| {
            let amount = row.amount.filter(|a| a.is_finite());
            Entry {
                value: row
                    .value
                    .filter(|v| !v.is_empty())
                    .unwrap_or_else(|| dimension.empty_label().to_owned()),
                visitors: row.visitors.max(0.0) as u64,
                count: row.count.max(0.0) as u64,
                revenue: amount.filter(|_| dimension == Dimension::Revenue),
                p75: amount.filter(|_| dimension == Dimension::Vitals),
                sum: amount.filter(|a| dimension == Dimension::Events && *a != 0.0),
            }
        })
        .collect()
}

/// One day of the timeseries as the store reads it.
#[derive(Debug, Clone, Copy, PartialEq, serde::Deserialize)]
pub struct DayRow {
    /// Days since 1970-01-01 (of the site's local date).
    pub day: f64,
    /// Pageviews that day.
    pub pageviews: f64,
    /// Distinct visitors that day.
    pub visitors: f64,
}

/// One point of the timeseries report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Point {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// Pageviews.
    pub pageviews: u64,
    /// Distinct visitors.
    pub visitors: u64,
}

/// Every day of `range`, in order, with zeros where the store had no row.
pub fn shape_timeseries(range: Range, rows: &[DayRow]) -> Vec<Point> {
    let first = range.from.div_euclid(DAY_MS);
    let last = (range.to - 1).div_euclid(DAY_MS);
    (first..=last)
        .map(|day| {
            let row = rows.iter().find(|r| r.day as i64 == day);
            Point {
                date: format_date(day * DAY_MS),
                pageviews: row.map_or(0, |r| r.pageviews.max(0.0) as u64),
                visitors: row.map_or(0, |r| r.visitors.max(0.0) as u64),
            }
        })
        .collect()
}

/// Reports from rollups: the stored [`Day`]s of a range, merged, then read per report.
pub mod rollup {
    use super::*;
    use crate::ingest::aggregate::{dim, p75, Day};

    /// Most rows a breakdown answers.
    pub const MAX_ROWS: usize = 100;

    impl Dimension {
        /// The dimension's name in a stored [`Day`].
        pub fn key(self) -> &'static str {
            match self {
                Dimension::Pages => dim::PAGES,
                Dimension::EntryPages => dim::ENTRY,
                Dimension::ExitPages => dim::EXIT,
                Dimension::Sources => dim::SOURCES,
                Dimension::Channels => dim::CHANNELS,
                Dimension::Referrers => dim::REFERRERS,
                Dimension::Utm => dim::UTM,
                Dimension::Countries => dim::COUNTRIES,
                Dimension::Devices => dim::DEVICES,
                Dimension::Browsers => dim::BROWSERS,
                Dimension::Os => dim::OS,
                Dimension::Events => dim::EVENTS,
                Dimension::Goals => dim::GOALS,
                Dimension::Revenue => dim::REVENUE,
                Dimension::Vitals => "vitals",
            }
        }
    }

    /// The days of a range, merged into one.
    pub fn merge<'a>(days: impl IntoIterator<Item = &'a Day>) -> Day {
        let mut total = Day::default();
        for day in days {
            total.merge(day);
        }
        total
    }

    /// Totals of a (merged) day.
    pub fn totals(day: &Day) -> Totals {
        Totals {
            pageviews: day.pageviews as f64,
            visitors: day.visitors as f64,
            visits: day.visits as f64,
            bounces: day.bounces as f64,
            total_duration_ms: day.duration_ms as f64,
            lost: day.lost as f64,
        }
    }

    /// A breakdown's rows, top first: by count (revenue: by amount), then by value.
    pub fn breakdown(dimension: Dimension, day: &Day) -> Vec<BreakdownRow> {
        if dimension == Dimension::Vitals {
            return day
                .vitals
                .iter()
                .map(|(metric, buckets)| BreakdownRow {
                    value: Some(metric.clone()),
                    visitors: 0.0,
                    count: buckets.values().sum::<i64>() as f64,
                    amount: p75(metric, buckets),
                })
                .collect();
        }
        let Some(values) = day.dims.get(dimension.key()) else {
            return Vec::new();
        };
        let mut rows: Vec<BreakdownRow> = values
            .iter()
            .filter(|(_, t)| t.count > 0 || t.visitors > 0)
            .map(|(value, t)| BreakdownRow {
                value: Some(value.clone()),
                visitors: t.visitors as f64,
                count: t.count as f64,
                amount: matches!(dimension, Dimension::Revenue | Dimension::Events)
                    .then_some(t.amount),
            })
            .collect();
        let rank = |r: &BreakdownRow| match dimension {
            Dimension::Revenue => r.amount.unwrap_or(0.0),
            _ => r.count,
        };
        rows.sort_by(|a, b| {
            rank(b)
                .total_cmp(&rank(a))
                .then_with(|| a.value.cmp(&b.value))
        });
        rows.truncate(MAX_ROWS);
        rows
    }

    /// One hour of the hourly timeseries.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize)]
    pub struct HourPoint {
        /// `YYYY-MM-DD` (the site's local date).
        pub date: String,
        /// Local hour, 0–23.
        pub hour: u8,
        /// Pageviews in the hour.
        pub pageviews: u64,
        /// Visits that started in the hour.
        pub visits: u64,
        /// Visitors whose first visit of the day started in the hour.
        pub visitors: u64,
    }

    /// Every hour of `range`, in order, with zeros where nothing was counted.
    pub fn shape_hours(range: Range, days: &[(i64, Day)]) -> Vec<HourPoint> {
        let first = range.from.div_euclid(DAY_MS);
        let last = (range.to - 1).div_euclid(DAY_MS);
        (first..=last)
            .flat_map(|n| {
                let day = days.iter().find(|(d, _)| *d == n).map(|(_, day)| day);
                (0u8..24).map(move |hour| {
                    let h = day
                        .and_then(|d| d.hours.get(&hour))
                        .copied()
                        .unwrap_or_default();
                    HourPoint {
                        date: format_date(n * DAY_MS),
                        hour,
                        pageviews: h.pageviews.max(0) as u64,
                        visits: h.visits.max(0) as u64,
                        visitors: h.visitors.max(0) as u64,
                    }
                })
            })
            .collect()
    }

    /// One timeseries row per stored day.
    pub fn day_row(day_number: i64, day: &Day) -> DayRow {
        DayRow {
            day: day_number as f64,
            pageviews: day.pageviews as f64,
            visitors: day.visitors as f64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_764_000_000_000; // 2025-11-24T16:00:00Z

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn hourly_timeseries_is_asked_for_short_ranges_only() {
        let pairs = |q: &[(&str, &str)]| -> Vec<(String, String)> {
            q.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let today = parse_query(
            "timeseries",
            &pairs(&[("period", "today"), ("interval", "hour")]),
            NOW,
        );
        assert!(today.unwrap().hourly);
        let long = parse_query(
            "timeseries",
            &pairs(&[("period", "30d"), ("interval", "hour")]),
            NOW,
        );
        assert_eq!(long.unwrap_err().code(), "invalid_interval");
        let odd = parse_query("timeseries", &pairs(&[("interval", "minute")]), NOW);
        assert_eq!(odd.unwrap_err().code(), "invalid_interval");
        assert!(!parse_query("timeseries", &[], NOW).unwrap().hourly);
    }

    #[test]
    fn periods_cover_whole_utc_days() {
        let q = parse_query("overview", &params(&[("period", "7d")]), NOW).unwrap();
        assert_eq!(format_date(q.range.from), "2025-11-18");
        assert_eq!(q.range.to - q.range.from, 7 * DAY_MS);
        assert!(q.range.to > NOW);
        let q = parse_query(
            "pages",
            &params(&[("period", "today"), ("compare", "previous")]),
            NOW,
        )
        .unwrap();
        assert_eq!(q.report, Report::Breakdown(Dimension::Pages));
        assert_eq!(q.compare.unwrap().to, q.range.from);
    }

    #[test]
    fn custom_ranges_are_checked() {
        let ok = params(&[
            ("period", "custom"),
            ("from", "2024-02-28"),
            ("to", "2024-03-01"),
        ]);
        let q = parse_query("overview", &ok, NOW).unwrap();
        assert_eq!(q.range.to - q.range.from, 3 * DAY_MS, "2024 is a leap year");
        let bad = |from: &str, to: &str| {
            parse_query(
                "overview",
                &params(&[("period", "custom"), ("from", from), ("to", to)]),
                NOW,
            )
            .unwrap_err()
            .code()
        };
        assert_eq!(bad("2024-02-30", "2024-03-01"), "invalid_range");
        assert_eq!(bad("2024-03-02", "2024-03-01"), "invalid_range");
        assert_eq!(bad("2020-01-01", "2024-03-01"), "invalid_range");
        assert_eq!(bad("yesterday", "2024-03-01"), "invalid_range");
    }

    #[test]
    fn bad_requests_have_codes() {
        let e = parse_query("nope", &[], NOW).unwrap_err();
        assert_eq!(e.code(), "unknown_report");
        let e = parse_query("overview", &params(&[("period", "1y")]), NOW).unwrap_err();
        assert_eq!(e.code(), "invalid_period");
        let e = parse_query("overview", &params(&[("compare", "year")]), NOW).unwrap_err();
        assert_eq!(e.code(), "invalid_compare");
    }

    #[test]
    fn breakdowns_and_timeseries_are_shaped() {
        let rows = vec![BreakdownRow {
            value: None,
            visitors: 2.0,
            count: 3.0,
            amount: Some(10.5),
        }];
        let e = &shape_breakdown(Dimension::Revenue, rows.clone())[0];
        assert_eq!(
            (e.value.as_str(), e.revenue, e.p75),
            ("(no currency)", Some(10.5), None)
        );
        assert_eq!(shape_breakdown(Dimension::Pages, rows)[0].revenue, None);
        let range = Range {
            from: parse_date("2026-11-22").unwrap(),
            to: parse_date("2026-11-25").unwrap(),
        };
        let day = (parse_date("2026-11-23").unwrap() / DAY_MS) as f64;
        let points = shape_timeseries(
            range,
            &[DayRow {
                day,
                pageviews: 4.0,
                visitors: 2.0,
            }],
        );
        let dates: Vec<_> = points
            .iter()
            .map(|p| (p.date.as_str(), p.pageviews))
            .collect();
        assert_eq!(
            dates,
            [("2026-11-22", 0), ("2026-11-23", 4), ("2026-11-24", 0)]
        );
    }

    #[test]
    fn dates_round_trip() {
        for date in ["1970-01-01", "2000-02-29", "2026-11-24", "2099-12-31"] {
            assert_eq!(format_date(parse_date(date).unwrap()), date);
        }
    }

    #[test]
    fn overview_is_shaped_from_totals() {
        let o = Overview::from(Totals {
            pageviews: 10.0,
            visitors: 3.0,
            visits: 4.0,
            bounces: 1.0,
            total_duration_ms: 130_000.0,
            lost: 7.0,
        });
        assert_eq!((o.bounce_rate, o.visit_duration), (25, 33));
        assert_eq!(o.lost_in_browser, 7);
        assert_eq!(Overview::from(Totals::default()).bounce_rate, 0);
    }
}
