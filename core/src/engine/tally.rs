//! Stage: tally. Input: events in visits, a range, the compiled filter, the dimensions. Output:
//! per group (the dimensions' values) an [`Acc`] of everything a metric is computed from.
//! What counts where (docs/METRICS.md): an event counts when its own time is in the range and it
//! matches; a visit, and its visitor, when the visit started in the range and any of its events
//! matches — in every group one of its matching events falls in. A visitor is a (local day,
//! visitor key) pair: keys are salted per day, so visitors over many days are the sum of each
//! day's unique visitors. Time groups take the event's time for event counts and the visit's
//! start for visit counts. Must not: round or shape (the shape stage does).

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{Datelike, NaiveDate};

use super::filter::{self, Compiled, MEASUREMENTS};
use super::visits::{Data, Visit};
use crate::commerce;
use crate::ingest::aggregate::{summable, VITALS};
use crate::query::{Dimension, Span, TimeBucket};
use crate::wire::PAGEVIEW;
use crate::zone::Zone;

/// Days from 0001-01-01 (chrono's day 1) to 1970-01-01.
const EPOCH_CE_DAYS: i64 = 719_163;

/// What a group's metrics are computed from, as it is counted: the sums, and the sets whose
/// sizes are counts (a visit or visitor counted once however many of its events match).
#[derive(Debug, Default, Clone)]
pub struct Acc {
    /// The sums (the set sizes are filled in by [`Figures::from`]).
    pub sums: Figures,
    /// (local day, visitor) pairs of the counted visits.
    pub visitors: HashSet<(i64, u32)>,
    /// The counted visits.
    pub visits: HashSet<u32>,
    /// Visits with a matching pageview (what `time_on_page` divides by).
    pub page_visits: HashSet<u32>,
    /// The deepest scroll per (visit, page) of matching `engagement` events.
    pub scroll: HashMap<(u32, String), f64>,
}

/// A group's counts as numbers: what every metric is computed from, whichever data they came
/// from (raw events' [`Acc`], or the daily rollups).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Figures {
    /// Visitors ((local day, visitor, audience) triples).
    pub visitors: i64,
    /// Visits.
    pub visits: i64,
    /// Visits that bounced.
    pub bounces: i64,
    /// Summed visit duration, ms.
    pub duration_ms: i64,
    /// The visits' pageviews.
    pub visit_pageviews: i64,
    /// Pageviews.
    pub pageviews: i64,
    /// Events (not the SDK's measurements).
    pub events: i64,
    /// Conversions with a value, per currency: (count, sum).
    pub revenue: BTreeMap<String, (i64, f64)>,
    /// Visits with a pageview (what `time_on_page` divides by).
    pub page_visits: i64,
    /// Engaged seconds.
    pub engaged_s: f64,
    /// Deepest scroll per (visit, page): their sum and count.
    pub scroll: (f64, i64),
    /// Web vital values per metric.
    pub vitals: BTreeMap<&'static str, Vec<f64>>,
}

impl Figures {
    /// Adds `b`'s counts (what blocks and rollups count: not revenue, engagement or vitals).
    pub fn add_counts(&mut self, b: &Figures) {
        self.visitors += b.visitors;
        self.visits += b.visits;
        self.bounces += b.bounces;
        self.duration_ms += b.duration_ms;
        self.visit_pageviews += b.visit_pageviews;
        self.pageviews += b.pageviews;
        self.events += b.events;
        self.page_visits += b.page_visits;
    }
}

impl From<&Acc> for Figures {
    fn from(a: &Acc) -> Figures {
        Figures {
            visitors: a.visitors.len() as i64,
            visits: a.visits.len() as i64,
            page_visits: a.page_visits.len() as i64,
            scroll: (a.scroll.values().sum(), a.scroll.len() as i64),
            ..a.sums.clone()
        }
    }
}

/// Where a query's groups come from: raw events, or the daily rollups.
pub trait Source {
    /// The groups of `span` by `dims`, with events matching `filter`.
    fn groups(
        &self,
        span: &Span,
        filter: Option<&Compiled>,
        dims: &[Dimension],
    ) -> BTreeMap<Vec<String>, Figures>;
}

/// Raw events in visits, as a [`Source`].
pub struct Raw<'a> {
    /// The events in visits.
    pub data: &'a Data,
    /// The site's zone.
    pub zone: Zone,
}

impl Source for Raw<'_> {
    fn groups(
        &self,
        span: &Span,
        filter: Option<&Compiled>,
        dims: &[Dimension],
    ) -> BTreeMap<Vec<String>, Figures> {
        tally(self.data, span, filter, dims, self.zone)
            .iter()
            .map(|(k, a)| (k.clone(), Figures::from(a)))
            .collect()
    }
}

impl Acc {
    fn add_event(&mut self, data: &Data, i: usize, vi: u32) {
        let h = &data.hits[i];
        if h.name == PAGEVIEW {
            self.sums.pageviews += 1;
            self.page_visits.insert(vi);
        }
        if !MEASUREMENTS.contains(&h.name.as_str()) {
            self.sums.events += 1;
        }
        if commerce::CONVERSIONS.contains(&h.name.as_str()) {
            let value = h.number("value").and_then(summable);
            let currency = h.prop("currency").and_then(|c| commerce::currency(&c));
            if let (Some(value), Some(currency)) = (value, currency) {
                let r = self.sums.revenue.entry(currency).or_default();
                r.0 += 1;
                r.1 += value;
            }
        }
        match h.name.as_str() {
            "engagement" => {
                self.sums.engaged_s += h.number("seconds").unwrap_or(0.0).clamp(0.0, 86_400.0);
                if let Some(depth) = h.number("scroll") {
                    let deepest = self.scroll.entry((vi, h.path.clone())).or_insert(0.0);
                    *deepest = deepest.max(depth.clamp(0.0, 100.0));
                }
            }
            "web_vital" => {
                let metric = h.prop("metric");
                let metric = VITALS.iter().find(|m| Some(**m) == metric.as_deref());
                if let (Some(metric), Some(value)) = (metric, h.number("value")) {
                    self.sums.vitals.entry(metric).or_default().push(value);
                }
            }
            _ => {}
        }
    }

    fn add_visit(&mut self, vi: u32, v: &Visit) {
        if self.visits.insert(vi) {
            self.visitors.insert((v.day, v.visitor));
            self.sums.bounces += i64::from(v.bounced);
            self.sums.duration_ms += v.duration();
            self.sums.visit_pageviews += i64::from(v.pageviews);
        }
    }
}

/// The label of the time bucket holding `ts`, as Plausible writes it: `2024-01-31 13:00:00` for
/// hours, else the bucket's first day (`2024-01-29`), never before the range's first day.
pub fn label(bucket: TimeBucket, zone: Zone, ts: i64, first_day: i64) -> String {
    let at = zone.local(ts);
    match bucket {
        TimeBucket::Hour => format!("{} {:02}:00:00", date(at.day), at.hour),
        _ => date(bucket_day(bucket, at.day).max(first_day)),
    }
}

/// The first day of the bucket holding local day `day` (weeks start on Monday).
pub fn bucket_day(bucket: TimeBucket, day: i64) -> i64 {
    match bucket {
        TimeBucket::Week => day - (day + 3).rem_euclid(7),
        TimeBucket::Month => calendar(day).map_or(day, |d| day - i64::from(d.day0())),
        _ => day,
    }
}

/// `YYYY-MM-DD` of a local day number.
pub fn date(day: i64) -> String {
    calendar(day).map_or_else(String::new, |d| {
        format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day())
    })
}

fn calendar(day: i64) -> Option<NaiveDate> {
    i32::try_from(day + EPOCH_CE_DAYS)
        .ok()
        .and_then(NaiveDate::from_num_days_from_ce_opt)
}

/// The group of event `i` of visit `v`, with time buckets taken at `at`.
fn key(
    dims: &[Dimension],
    data: &Data,
    i: usize,
    v: &Visit,
    at: i64,
    cx: &Ranging,
) -> Option<Vec<String>> {
    dims.iter()
        .map(|d| match d {
            Dimension::Time(bucket) => Some(label(*bucket, cx.zone, at, cx.first_day)),
            other => filter::value(other, data, i, v).map(|s| s.into_owned()),
        })
        .collect()
}

struct Ranging {
    zone: Zone,
    first_day: i64,
}

/// Groups and counts.
pub fn tally(
    data: &Data,
    span: &Span,
    filter: Option<&Compiled>,
    dims: &[Dimension],
    zone: Zone,
) -> BTreeMap<Vec<String>, Acc> {
    let cx = Ranging {
        zone,
        first_day: span.first_day,
    };
    let within = |t: i64| t >= span.range.from && t < span.range.to;
    let timed = dims.iter().any(Dimension::is_time);
    let mut groups: BTreeMap<Vec<String>, Acc> = BTreeMap::new();
    for (vi, v) in data.visits.iter().enumerate() {
        let vi = vi as u32;
        let visit_counts = within(v.start);
        if !visit_counts && (v.last < span.range.from || v.start >= span.range.to) {
            continue;
        }
        for i in v.hits.clone() {
            if !filter.is_none_or(|f| f.test(data, i, v)) {
                continue;
            }
            let ts = data.hits[i].ts;
            let event_key = within(ts).then(|| key(dims, data, i, v, ts, &cx)).flatten();
            let visit_key = match (visit_counts, timed) {
                (false, _) => None,
                (true, false) => event_key
                    .clone()
                    .or_else(|| key(dims, data, i, v, v.start, &cx)),
                (true, true) => key(dims, data, i, v, v.start, &cx),
            };
            if let Some(k) = event_key {
                groups.entry(k).or_default().add_event(data, i, vi);
            }
            if let Some(k) = visit_key {
                groups.entry(k).or_default().add_visit(vi, v);
            }
        }
    }
    groups
}
