//! The daily rollups as a [`Source`]: they answer, at any range (rollups are kept as long as the
//! site, raw events only for its retention) and from a few small rows, the queries they hold
//! exactly — no filters, whole local days, at most one dimension a day keeps (with or without a
//! day, week or month bucket), and the metrics a day counts for it. Everything else is answered
//! from raw events. The two agree: both follow docs/METRICS.md (the test suite compares both with
//! one ground truth). Input: a query, then the days' parts the store read. Output: which parts to
//! read, then the groups. Must not: answer a query it does not hold exactly.

use std::collections::{BTreeMap, HashMap};

use super::filter::{Compiled, MEASUREMENTS};
use super::tally::{bucket_day, date, Figures, Source};
use crate::ingest::aggregate::{dim, Day, Tally};
use crate::ingest::parts;
use crate::query::{Dimension, Metric, Query, Span, TimeBucket};

/// The day's dimension that answers a query dimension, and what its counts are.
fn day_dimension(d: &Dimension) -> Option<(&'static str, Counted)> {
    Some(match d {
        Dimension::Page => (dim::PAGES, Counted::Pageviews),
        Dimension::Goal => (dim::EVENTS, Counted::Events),
        Dimension::EntryPage => (dim::ENTRY, Counted::Visits),
        Dimension::ExitPage => (dim::EXIT, Counted::Visits),
        Dimension::Source => (dim::SOURCES, Counted::Visits),
        Dimension::Channel => (dim::CHANNELS, Counted::Visits),
        Dimension::Referrer => (dim::REFERRERS, Counted::Visits),
        Dimension::UtmCampaign => (dim::UTM, Counted::Visits),
        Dimension::Country => (dim::COUNTRIES, Counted::Visits),
        Dimension::Device => (dim::DEVICES, Counted::Visits),
        Dimension::Browser => (dim::BROWSERS, Counted::Visits),
        Dimension::Os => (dim::OS, Counted::Visits),
        _ => return None,
    })
}

/// What a day's dimension counts per value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Counted {
    Pageviews,
    Visits,
    Events,
}

/// The parts of each day to read when the rollups answer the query, else `None`.
pub fn parts_for(q: &Query) -> Option<Vec<&'static str>> {
    if q.filters.is_some() || q.funnel.is_some() {
        return None;
    }
    let spans = [Some(&q.date_range), q.comparison.as_ref()];
    if spans.iter().flatten().any(|s| !s.whole_days) {
        return None;
    }
    let mut plain = q.dimensions.iter().filter(|d| !d.is_time());
    let first = plain.next();
    if plain.next().is_some() {
        return None;
    }
    let time_ok = q
        .dimensions
        .iter()
        .all(|d| !matches!(d, Dimension::Time(TimeBucket::Hour | TimeBucket::Auto)));
    if !time_ok {
        return None;
    }
    let mut want = Vec::new();
    match first {
        None => {
            let ok = q.metrics.iter().all(|m| {
                matches!(
                    m,
                    Metric::Visitors
                        | Metric::Visits
                        | Metric::Pageviews
                        | Metric::ViewsPerVisit
                        | Metric::BounceRate
                        | Metric::VisitDuration
                        | Metric::Events
                        | Metric::LostInBrowser
                )
            });
            if !ok {
                return None;
            }
            want.push(parts::TOTALS);
            if q.metrics.contains(&Metric::Events) {
                want.extend(parts::part_of(dim::EVENTS));
            }
        }
        Some(d) => {
            let (name, counted) = day_dimension(d)?;
            let ok = q.metrics.iter().all(|m| match m {
                Metric::Visitors | Metric::Percentage => true,
                Metric::Visits => counted == Counted::Visits,
                Metric::Pageviews => counted == Counted::Pageviews,
                Metric::Events | Metric::ConversionRate => counted == Counted::Events,
                _ => false,
            });
            if !ok {
                return None;
            }
            // The totals (hours and web vitals with them) only for the share of all visitors.
            if q.metrics.contains(&Metric::Percentage)
                || q.metrics.contains(&Metric::ConversionRate)
            {
                want.push(parts::TOTALS);
            }
            want.extend(parts::part_of(name));
        }
    }
    if q.internal {
        want.push(parts::STAFF);
    }
    Some(want)
}

/// A stored value as the query API names it (`None`: no value, no row).
fn named(d: &Dimension, value: &str) -> Option<String> {
    let text = match (d, value) {
        (Dimension::Source | Dimension::Referrer, "") => "Direct / None",
        (Dimension::Channel, "") => "Direct",
        (_, "") => return None,
        (Dimension::Device, "desktop") => "Desktop",
        (Dimension::Device, "mobile") => "Mobile",
        (Dimension::Device, "tablet") => "Tablet",
        (Dimension::Goal, name) if MEASUREMENTS.contains(&name) => return None,
        (_, other) => other,
    };
    Some(text.to_owned())
}

/// One stored part of a rollup day or summed period: its first local day, and what it holds
/// (as [`crate::ingest::parts::read_part`] reads it). The parts of a piece add up: each holds
/// only its own counts. Shared (`Rc`): a worker keeps the parts it read for the next answer.
pub type Piece = (i64, std::rc::Rc<Day>);

/// The rollup pieces of a site, by first local day.
pub struct Rollups<'a> {
    /// The pieces read.
    pub days: &'a [Piece],
    /// Staff traffic counts too.
    pub internal: bool,
}

fn add_totals(f: &mut Figures, d: &Day) {
    f.visitors += d.visitors;
    f.visits += d.visits;
    f.bounces += d.bounces;
    f.duration_ms += d.duration_ms;
    f.visit_pageviews += d.pageviews;
    f.pageviews += d.pageviews;
    f.events += d.pageviews;
    if let Some(events) = d.dims.get(dim::EVENTS) {
        f.events += events
            .iter()
            .filter(|(name, _)| !MEASUREMENTS.contains(&name.as_str()))
            .map(|(_, t)| t.count)
            .sum::<i64>();
    }
}

fn add_value(f: &mut Figures, t: &Tally, counted: Counted) {
    f.visitors += t.visitors;
    match counted {
        Counted::Visits => f.visits += t.count,
        Counted::Pageviews => f.pageviews += t.count,
        Counted::Events => f.events += t.count,
    }
}

impl Source for Rollups<'_> {
    fn groups(
        &self,
        span: &Span,
        _filter: Option<&Compiled>,
        dims: &[Dimension],
    ) -> BTreeMap<Vec<String>, Figures> {
        let plain = dims
            .iter()
            .find(|d| !d.is_time())
            .and_then(|p| day_dimension(p).map(|x| (p, x)));
        // (A query has at most one time dimension.)
        let bucket = dims.iter().find_map(|d| match d {
            Dimension::Time(b) => Some(*b),
            _ => None,
        });
        // Counted under each (first day of the time bucket, stored value) as borrowed from the
        // days — a summed month holds thousands of values — and made the answer's groups once,
        // at the end.
        let mut counted: HashMap<(i64, &str), Figures> = HashMap::new();
        let within = self
            .days
            .iter()
            .filter(|(n, _)| (span.first_day..=span.last_day).contains(n));
        for (n, day) in within {
            let at = bucket.map_or(0, |b| bucket_day(b, *n).max(span.first_day));
            let audiences = [Some(&**day), day.staff.as_deref().filter(|_| self.internal)];
            for d in audiences.into_iter().flatten() {
                match plain {
                    None => add_totals(counted.entry((at, "")).or_default(), d),
                    Some((_, (name, how))) => {
                        for (value, t) in d.dims.get(name).into_iter().flatten() {
                            add_value(counted.entry((at, value)).or_default(), t, how);
                        }
                    }
                }
            }
        }
        let mut out: BTreeMap<Vec<String>, Figures> = BTreeMap::new();
        for ((at, value), f) in counted {
            let value = match plain {
                None => String::new(),
                Some((p, _)) => match named(p, value) {
                    Some(v) => v,
                    None => continue,
                },
            };
            let key = dims
                .iter()
                .map(|d| match d {
                    Dimension::Time(_) => date(at),
                    _ => value.clone(),
                })
                .collect();
            // (Two stored values can name one group: a visit without a source and one from a
            // source named "Direct / None".)
            out.entry(key).or_default().add_counts(&f);
        }
        // A value whose counts all came back to zero has no row (as in raw events).
        out.retain(|_, f| *f != Figures::default());
        out
    }
}

/// Browsers' reported losses per local day, customers' (and staff's when asked for).
pub fn lost(days: &[Piece], internal: bool) -> BTreeMap<i64, i64> {
    let mut out = BTreeMap::new();
    for (n, d) in days {
        let staff = d.staff.as_ref().filter(|_| internal).map_or(0, |s| s.lost);
        *out.entry(*n).or_default() += d.lost + staff;
    }
    out
}
