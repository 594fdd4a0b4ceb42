//! Closed days' [`Block`]s as a [`Source`], beside the raw events of the days no block holds:
//! the filtered breakdowns and funnels of many days, counted exactly as from raw events (the
//! same rules, docs/METRICS.md; the tests compare both on the same events) without building a
//! `Hit` per event. A block's visits all started on its day, so its counts add to the other
//! days' (visitors are per local day). Per block, each condition of the filter is tested once
//! per dictionary value, then events are counted by ids; the groups become text at the end of
//! the block. What it answers ([`eligible`]): customers' traffic over whole local days, no
//! props, hours, entry or exit hostnames, and none of the metrics that read props (revenue, time
//! on page, scroll depth, vitals). Must not: count a visit in a block and in raw events both
//! (the raw part keeps only the visits of its own days).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::block::{self, Block};
use super::filter::{self, Compiled, Cond, MEASUREMENTS};
use super::tally::{self, bucket_day, date, Figures, Source};
use super::visits::Data;
use crate::query::{Dimension, Filter, Metric, Query, Span, TimeBucket};
use crate::saved::funnel::{Funnel, Within};
use crate::wire::PAGEVIEW;
use crate::zone::Zone;

/// The arrival field a `visit:` dimension reads, in block order.
fn arrival_index(d: &Dimension) -> Option<usize> {
    Some(match d {
        Dimension::Source => 0,
        Dimension::Channel => 1,
        Dimension::Referrer => 2,
        Dimension::UtmSource => 3,
        Dimension::UtmMedium => 4,
        Dimension::UtmCampaign => 5,
        Dimension::UtmContent => 6,
        Dimension::UtmTerm => 7,
        Dimension::Country => 8,
        Dimension::Device => 9,
        Dimension::Browser => 10,
        Dimension::Os => 11,
        _ => return None,
    })
}

fn readable(d: &Dimension) -> bool {
    matches!(
        d,
        Dimension::Page
            | Dimension::Hostname
            | Dimension::Name
            | Dimension::Goal
            | Dimension::EntryPage
            | Dimension::ExitPage
            | Dimension::Time(TimeBucket::Day | TimeBucket::Week | TimeBucket::Month)
    ) || arrival_index(d).is_some()
}

fn filter_readable(f: &Filter) -> bool {
    match f {
        Filter::Condition(c) => readable(&c.dimension) && !c.dimension.is_time(),
        Filter::And(list) | Filter::Or(list) => list.iter().all(filter_readable),
        Filter::Not(f) | Filter::HasDone(f) | Filter::HasNotDone(f) => filter_readable(f),
        Filter::Segment(_) => false,
    }
}

/// Whether blocks answer the query (with the funnel it names).
pub fn eligible(q: &Query, funnel: Option<&Funnel>) -> bool {
    let spans = [Some(&q.date_range), q.comparison.as_ref()];
    if q.internal || spans.iter().flatten().any(|s| !s.whole_days) {
        return false;
    }
    if q.dimensions.len() > KEY || !q.dimensions.iter().all(readable) {
        return false;
    }
    if !q.filters.as_ref().is_none_or(filter_readable) {
        return false;
    }
    let metrics_ok = q.metrics.iter().all(|m| {
        matches!(
            m,
            Metric::Visitors
                | Metric::Visits
                | Metric::Pageviews
                | Metric::ViewsPerVisit
                | Metric::BounceRate
                | Metric::VisitDuration
                | Metric::Events
                | Metric::Percentage
                | Metric::ConversionRate
                | Metric::GroupConversionRate
                | Metric::LostInBrowser
        )
    });
    // Props are not in blocks; a run within hours pools a visitor's visits over days.
    metrics_ok
        && funnel
            .is_none_or(|f| f.within == Within::Visit && f.steps.iter().all(|s| s.props.is_empty()))
}

/// The block parts a query reads (see [`eligible`]): the visits, and the hostnames and arrival
/// fields its dimensions and filters name.
pub fn parts(q: &Query) -> Vec<&'static str> {
    fn named(f: &Filter, out: &mut Vec<Dimension>) {
        match f {
            Filter::Condition(c) => out.push(c.dimension.clone()),
            Filter::And(list) | Filter::Or(list) => list.iter().for_each(|f| named(f, out)),
            Filter::Not(f) | Filter::HasDone(f) | Filter::HasNotDone(f) => named(f, out),
            Filter::Segment(_) => {}
        }
    }
    let mut dims = q.dimensions.clone();
    if let Some(f) = &q.filters {
        named(f, &mut dims);
    }
    let mut parts = vec![block::VISITS];
    if dims.contains(&Dimension::Hostname) {
        parts.push(block::HOSTS);
    }
    for (k, name) in block::ARRIVAL_PARTS.iter().enumerate() {
        if dims.iter().any(|d| arrival_index(d) == Some(k)) {
            parts.push(name);
        }
    }
    parts
}

/// Most dimensions a block query groups by.
const KEY: usize = 4;

/// Where a dimension or condition reads from, in a block.
#[derive(Debug, Clone, Copy)]
enum Field {
    Name,
    Page,
    Host,
    Goal,
    Entry,
    Exit,
    Arrival(usize),
    Time(TimeBucket),
}

fn field(d: &Dimension) -> Field {
    match d {
        Dimension::Name => Field::Name,
        Dimension::Page => Field::Page,
        Dimension::Hostname => Field::Host,
        Dimension::Goal => Field::Goal,
        Dimension::EntryPage => Field::Entry,
        Dimension::ExitPage => Field::Exit,
        Dimension::Time(b) => Field::Time(*b),
        other => Field::Arrival(arrival_index(other).unwrap_or(0)),
    }
}

/// A block's values of a field, as the engine shows them (`None`: no value).
fn shown(b: &Block, d: &Dimension, f: Field) -> Vec<Option<String>> {
    match f {
        Field::Name => b.names.iter().cloned().map(Some).collect(),
        Field::Page => b.pages.iter().cloned().map(Some).collect(),
        Field::Host => b.hosts.iter().cloned().map(Some).collect(),
        Field::Goal => b
            .names
            .iter()
            .map(|n| (n != PAGEVIEW && !MEASUREMENTS.contains(&n.as_str())).then(|| n.clone()))
            .collect(),
        Field::Entry | Field::Exit => std::iter::once(None)
            .chain(b.pages.iter().cloned().map(Some))
            .collect(),
        Field::Arrival(k) => b.arrival_values[k]
            .iter()
            .enumerate()
            .map(|(id, s)| {
                let raw = (id != 0).then_some(s.as_str());
                filter::shown(d, raw).map(|c| c.into_owned())
            })
            .collect(),
        Field::Time(_) => Vec::new(),
    }
}

/// A filter compiled against one block: each condition's answer per dictionary value.
enum Node {
    /// On the event's name / page / hostname id, or the visit's entry / exit / arrival id.
    Table(Field, Vec<bool>),
    /// A goal condition: per name id (events), and per page id for pageviews.
    Goal(Vec<bool>, Vec<bool>),
    And(Vec<Node>),
    Or(Vec<Node>),
    Not(Box<Node>),
    HasDone(Box<Node>),
    HasNotDone(Box<Node>),
}

fn table(b: &Block, c: &Cond) -> Node {
    let d = c.dimension();
    if c.is_goal() {
        // A page goal matches pageviews of its pages; an event goal, the name.
        let by_name = b.names.iter().map(|n| c.on_event(n, "")).collect();
        let by_page = b.pages.iter().map(|p| c.on_event(PAGEVIEW, p)).collect();
        return Node::Goal(by_name, by_page);
    }
    let f = field(d);
    Node::Table(
        f,
        shown(b, d, f)
            .iter()
            .map(|v| c.on_value(v.as_deref()))
            .collect(),
    )
}

fn compile(b: &Block, c: &Compiled) -> Node {
    match c {
        Compiled::Cond(c) => table(b, c),
        Compiled::And(list) => Node::And(list.iter().map(|c| compile(b, c)).collect()),
        Compiled::Or(list) => Node::Or(list.iter().map(|c| compile(b, c)).collect()),
        Compiled::Not(c) => Node::Not(Box::new(compile(b, c))),
        Compiled::HasDone(c) => Node::HasDone(Box::new(compile(b, c))),
        Compiled::HasNotDone(c) => Node::HasNotDone(Box::new(compile(b, c))),
    }
}

/// The id of field `f` for event `i` of visit `v` (`None` for time fields).
fn id(b: &Block, f: Field, i: usize, v: usize) -> Option<usize> {
    Some(match f {
        Field::Name | Field::Goal => b.name[i] as usize,
        Field::Page => b.page[i] as usize,
        Field::Host => b.host[i] as usize,
        Field::Entry => b.entry[v] as usize,
        Field::Exit => b.exit[v] as usize,
        Field::Arrival(k) => b.arrival[k][v] as usize,
        Field::Time(_) => return None,
    })
}

impl Node {
    fn test(&self, b: &Block, i: usize, v: usize) -> bool {
        match self {
            Node::Table(f, t) => id(b, *f, i, v).is_some_and(|id| t[id]),
            Node::Goal(by_name, by_page) => {
                let name = b.name[i] as usize;
                if b.names[name] == PAGEVIEW {
                    by_page[b.page[i] as usize]
                } else {
                    by_name[name]
                }
            }
            Node::And(list) => list.iter().all(|n| n.test(b, i, v)),
            Node::Or(list) => list.iter().any(|n| n.test(b, i, v)),
            Node::Not(n) => !n.test(b, i, v),
            Node::HasDone(n) => b.events(v).any(|j| n.test(b, j, v)),
            Node::HasNotDone(n) => !b.events(v).any(|j| n.test(b, j, v)),
        }
    }
}

/// A group's counts within one block, and which visit and visitor it counted last (visits
/// come by visitor, each visit's events together).
#[derive(Default, Clone)]
struct Cell {
    f: Figures,
    visit: Option<usize>,
    visitor: Option<usize>,
    page_visit: Option<usize>,
}

/// One block's groups of `span` by `dims` (ids; time buckets as days from the span's first).
fn block_groups(
    b: &Block,
    span: &Span,
    filter: Option<&Compiled>,
    dims: &[Dimension],
) -> BTreeMap<Vec<String>, Figures> {
    let node = filter.map(|c| compile(b, c));
    let fields: Vec<Field> = dims.iter().map(field).collect();
    let values: Vec<Vec<Option<String>>> = dims
        .iter()
        .zip(&fields)
        .map(|(d, f)| shown(b, d, *f))
        .collect();
    let in_span = |day: i64| day >= span.first_day && day <= span.last_day;
    let visit_counts = in_span(b.day);
    let timed = dims.iter().any(Dimension::is_time);
    let mut cells: HashMap<[u32; KEY], Cell> = HashMap::new();
    let key = |i: usize, v: usize, day: i64| -> Option<[u32; KEY]> {
        let mut k = [0u32; KEY];
        for (n, f) in fields.iter().enumerate() {
            k[n] = match f {
                Field::Time(bucket) => {
                    (bucket_day(*bucket, day).max(span.first_day) - span.first_day) as u32
                }
                f => {
                    let id = id(b, *f, i, v)?;
                    values[n][id].as_ref()?;
                    id as u32
                }
            };
        }
        Some(k)
    };
    let mut visitor = 0usize;
    for v in 0..b.visits() {
        if v > 0 && b.new_visitor[v] {
            visitor += 1;
        }
        let events = b.events(v);
        if !visit_counts
            && events
                .clone()
                .all(|i| !in_span(b.day + i64::from(b.day_offset[i])))
        {
            continue;
        }
        for i in events {
            if !node.as_ref().is_none_or(|n| n.test(b, i, v)) {
                continue;
            }
            let day = b.day + i64::from(b.day_offset[i]);
            let event_key = if in_span(day) { key(i, v, day) } else { None };
            let visit_key = match (visit_counts, timed) {
                (false, _) => None,
                (true, false) => event_key.or_else(|| key(i, v, b.day)),
                (true, true) => key(i, v, b.day),
            };
            let name = &b.names[b.name[i] as usize];
            if let Some(k) = event_key {
                let c = cells.entry(k).or_default();
                if name == PAGEVIEW {
                    c.f.pageviews += 1;
                    if c.page_visit != Some(v) {
                        c.page_visit = Some(v);
                        c.f.page_visits += 1;
                    }
                }
                if !MEASUREMENTS.contains(&name.as_str()) {
                    c.f.events += 1;
                }
            }
            if let Some(k) = visit_key {
                let c = cells.entry(k).or_default();
                if c.visit != Some(v) {
                    c.visit = Some(v);
                    c.f.visits += 1;
                    if c.visitor != Some(visitor) {
                        c.visitor = Some(visitor);
                        c.f.visitors += 1;
                    }
                    c.f.bounces += i64::from(b.bounced[v]);
                    c.f.duration_ms += b.last[v] - b.start[v];
                    c.f.visit_pageviews += i64::from(b.pageviews[v]);
                }
            }
        }
    }
    cells
        .into_iter()
        .map(|(k, c)| {
            let text = fields
                .iter()
                .enumerate()
                .map(|(n, f)| match f {
                    Field::Time(_) => date(span.first_day + i64::from(k[n])),
                    _ => values[n][k[n] as usize].clone().unwrap_or_default(),
                })
                .collect();
            (text, c.f)
        })
        .collect()
}

/// Adds `b`'s counts to `a` (the counts blocks make).
fn add(a: &mut Figures, b: &Figures) {
    a.visitors += b.visitors;
    a.visits += b.visits;
    a.bounces += b.bounces;
    a.duration_ms += b.duration_ms;
    a.visit_pageviews += b.visit_pageviews;
    a.pageviews += b.pageviews;
    a.events += b.events;
    a.page_visits += b.page_visits;
}

/// Blocks, and the raw events of the days they do not hold.
pub struct Scan<'a> {
    /// The closed days' blocks.
    pub blocks: &'a [Block],
    /// The raw events in visits, of the visits that started on days no block holds only
    /// ([`only_days`]).
    pub raw: &'a Data,
    /// The site's zone.
    pub zone: Zone,
}

/// The visits of `data` that started on `days` (their events stay where they are).
pub fn only_days(mut data: Data, days: &BTreeSet<i64>) -> Data {
    data.visits.retain(|v| days.contains(&v.day));
    data
}

impl Source for Scan<'_> {
    fn groups(
        &self,
        span: &Span,
        filter: Option<&Compiled>,
        dims: &[Dimension],
    ) -> BTreeMap<Vec<String>, Figures> {
        let mut out = tally::Raw {
            data: self.raw,
            zone: self.zone,
        }
        .groups(span, filter, dims);
        for b in self.blocks {
            for (k, f) in block_groups(b, span, filter, dims) {
                add(out.entry(k).or_default(), &f);
            }
        }
        out
    }
}

/// Visitors per funnel step from one block over a span (visits that started in it).
pub fn reached(b: &Block, filter: Option<&Compiled>, f: &Funnel, span: &Span) -> Vec<usize> {
    let mut counts = vec![0usize; f.steps.len()];
    if b.day < span.first_day || b.day > span.last_day {
        return counts;
    }
    let node = filter.map(|c| compile(b, c));
    // Per step: does an event match it, by name id (events) and by page id (pageviews).
    let by_name: Vec<Vec<bool>> = f
        .steps
        .iter()
        .map(|s| b.names.iter().map(|n| s.matches(n, "", |_| None)).collect())
        .collect();
    let by_page: Vec<Vec<bool>> = f
        .steps
        .iter()
        .map(|s| {
            b.pages
                .iter()
                .map(|p| s.matches(PAGEVIEW, p, |_| None))
                .collect()
        })
        .collect();
    let matches = |step: usize, i: usize| {
        let name = b.name[i] as usize;
        if b.names[name] == PAGEVIEW {
            by_page[step][b.page[i] as usize]
        } else {
            by_name[step][name]
        }
    };
    // Per visitor: the deepest step any of its visits reached.
    let mut best = 0usize;
    let mut unit: Vec<usize> = Vec::new();
    for v in 0..b.visits() {
        if v > 0 && b.new_visitor[v] {
            for c in counts.iter_mut().take(best) {
                *c += 1;
            }
            best = 0;
        }
        unit.clear();
        unit.extend(
            b.events(v)
                .filter(|i| node.as_ref().is_none_or(|n| n.test(b, *i, v))),
        );
        best = best.max(depth(&unit, &matches, f.steps.len()));
    }
    for c in counts.iter_mut().take(best) {
        *c += 1;
    }
    counts
}

/// The deepest step reached in order within one visit by these events (in time order), as the
/// raw funnel counts it.
fn depth(events: &[usize], matches: &impl Fn(usize, usize) -> bool, steps: usize) -> usize {
    let Some(s) = events.iter().position(|&i| matches(0, i)) else {
        return 0;
    };
    let mut k = 1;
    for &i in &events[s + 1..] {
        if k == steps {
            break;
        }
        if matches(k, i) {
            k += 1;
        }
    }
    k
}
