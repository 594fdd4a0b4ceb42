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

use std::borrow::Cow;
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
pub fn parts(q: &Query, funnel: bool) -> Vec<&'static str> {
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
    let entries = dims
        .iter()
        .any(|d| matches!(d, Dimension::EntryPage | Dimension::ExitPage));
    // Pages: a page or goal dimension (page goals), entry and exit pages (their dictionary), or
    // a funnel (page steps).
    if funnel
        || entries
        || dims
            .iter()
            .any(|d| matches!(d, Dimension::Page | Dimension::Goal))
    {
        parts.push(block::PAGES);
    }
    if entries {
        parts.push(block::ENTRIES);
    }
    // What only visits' starts, ends, pageviews and bounces give.
    let timed = q.metrics.iter().any(|m| {
        matches!(
            m,
            Metric::BounceRate | Metric::VisitDuration | Metric::ViewsPerVisit
        )
    });
    if timed {
        parts.push(block::TIMES);
    }
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
fn shown<'a>(b: &'a Block, d: &Dimension, f: Field) -> Vec<Option<Cow<'a, str>>> {
    let all = |v: &'a [String]| v.iter().map(|s| Some(Cow::Borrowed(s.as_str()))).collect();
    match f {
        Field::Name => all(&b.names),
        Field::Page => all(&b.pages),
        Field::Host => all(&b.hosts),
        Field::Goal => b
            .names
            .iter()
            .map(|n| {
                (n != PAGEVIEW && !MEASUREMENTS.contains(&n.as_str()))
                    .then_some(Cow::Borrowed(n.as_str()))
            })
            .collect(),
        Field::Entry | Field::Exit => std::iter::once(None)
            .chain(b.pages.iter().map(|s| Some(Cow::Borrowed(s.as_str()))))
            .collect(),
        Field::Arrival(k) => b.arrival_values[k]
            .iter()
            .enumerate()
            .map(|(id, s)| filter::shown(d, (id != 0).then_some(s.as_str())))
            .collect(),
        Field::Time(_) => Vec::new(),
    }
}

/// A filter compiled against one block: each condition's answer per dictionary value.
enum Node {
    /// On the event's name / page / hostname id, or the visit's entry / exit / arrival id.
    Table(Field, Vec<bool>),
    /// A goal condition: per name id (events), per page id for pageviews, and per name id
    /// whether it is a pageview.
    Goal(Vec<bool>, Vec<bool>, Vec<bool>),
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
        return Node::Goal(by_name, by_page, pageviews(b));
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

/// A compiled filter as its conjuncts on the visit alone and the others (an event matches when
/// all of both hold).
fn split(node: Option<Node>) -> (Vec<Node>, Vec<Node>) {
    let list = match node {
        None => vec![],
        Some(Node::And(list)) => list,
        Some(n) => vec![n],
    };
    list.into_iter().partition(Node::visit_only)
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
    /// True when the answer depends on the visit only (not on which of its events).
    fn visit_only(&self) -> bool {
        match self {
            Node::Table(f, _) => matches!(f, Field::Entry | Field::Exit | Field::Arrival(_)),
            Node::Goal(..) => false,
            Node::And(list) | Node::Or(list) => list.iter().all(Node::visit_only),
            Node::Not(n) => n.visit_only(),
            Node::HasDone(_) | Node::HasNotDone(_) => true,
        }
    }

    fn test(&self, b: &Block, i: usize, v: usize) -> bool {
        match self {
            Node::Table(f, t) => id(b, *f, i, v).is_some_and(|id| t[id]),
            Node::Goal(by_name, by_page, pageview) => {
                let name = b.name[i] as usize;
                if pageview[name] {
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
/// come by visitor, each visit's events together; `NONE`: none yet).
#[derive(Clone, Copy)]
struct Cell {
    visitors: i64,
    visits: i64,
    bounces: i64,
    duration_ms: i64,
    visit_pageviews: i64,
    pageviews: i64,
    events: i64,
    page_visits: i64,
    visit: u32,
    visitor: u32,
    page_visit: u32,
}

const NONE: u32 = u32::MAX;

impl Cell {
    const EMPTY: Cell = Cell {
        visitors: 0,
        visits: 0,
        bounces: 0,
        duration_ms: 0,
        visit_pageviews: 0,
        pageviews: 0,
        events: 0,
        page_visits: 0,
        visit: NONE,
        visitor: NONE,
        page_visit: NONE,
    };

    fn figures(&self) -> Figures {
        Figures {
            visitors: self.visitors,
            visits: self.visits,
            bounces: self.bounces,
            duration_ms: self.duration_ms,
            visit_pageviews: self.visit_pageviews,
            pageviews: self.pageviews,
            events: self.events,
            page_visits: self.page_visits,
            ..Figures::default()
        }
    }
}

/// Most groups a block counts in a flat array (by the product of its dimensions' value counts);
/// more go in a map.
const FLAT: usize = 1 << 16;

/// A block's groups, each at its key's index (the dimensions' ids in mixed radix): in a flat
/// array (with the indices used, in first-use order) or, for many, a map.
enum Cells {
    Flat(Vec<Cell>, Vec<bool>, Vec<usize>),
    Map(HashMap<usize, Cell>),
}

impl Cells {
    fn new(size: usize) -> Cells {
        if size <= FLAT {
            Cells::Flat(vec![Cell::EMPTY; size], vec![false; size], Vec::new())
        } else {
            Cells::Map(HashMap::new())
        }
    }

    fn at(&mut self, i: usize) -> &mut Cell {
        match self {
            Cells::Flat(cells, used, order) => {
                if !used[i] {
                    used[i] = true;
                    order.push(i);
                }
                &mut cells[i]
            }
            Cells::Map(map) => map.entry(i).or_insert(Cell::EMPTY),
        }
    }

    fn into_cells(self) -> Vec<(usize, Cell)> {
        match self {
            Cells::Flat(cells, _, order) => order.into_iter().map(|i| (i, cells[i])).collect(),
            Cells::Map(map) => map.into_iter().collect(),
        }
    }
}

/// The groups of `span` by `dims` over every block. Each dimension's values get one id across
/// the blocks (a block's dictionary is mapped onto them once), so events are counted by ids in
/// one set of cells and the groups become text once, at the end.
fn blocks_groups(
    blocks: &[Block],
    span: &Span,
    filter: Option<&Compiled>,
    dims: &[Dimension],
) -> BTreeMap<Vec<String>, Figures> {
    let fields: Vec<Field> = dims.iter().map(field).collect();
    // Per dimension: the texts shown, and per block the id of each of its values (`NONE`: no
    // value, the event or visit is in no group).
    let mut texts: Vec<Vec<String>> = vec![Vec::new(); dims.len()];
    let mut index: Vec<HashMap<String, u32>> = vec![HashMap::new(); dims.len()];
    let ids: Vec<Vec<Vec<u32>>> = blocks
        .iter()
        .map(|b| {
            dims.iter()
                .zip(&fields)
                .enumerate()
                .map(|(n, (d, f))| {
                    shown(b, d, *f)
                        .into_iter()
                        .map(|v| match v {
                            None => NONE,
                            Some(text) => match index[n].get(text.as_ref()) {
                                Some(&id) => id,
                                None => {
                                    let id = texts[n].len() as u32;
                                    texts[n].push(text.clone().into_owned());
                                    index[n].insert(text.into_owned(), id);
                                    id
                                }
                            },
                        })
                        .collect()
                })
                .collect()
        })
        .collect();
    let days = (span.last_day - span.first_day + 1).max(1) as usize;
    // Each dimension's number of ids (time: days of the span), and its place value.
    let radix: Vec<usize> = fields
        .iter()
        .zip(&texts)
        .map(|(f, t)| match f {
            Field::Time(_) => days,
            _ => t.len().max(1),
        })
        .collect();
    let size = radix
        .iter()
        .try_fold(1usize, |n, r| n.checked_mul(*r))
        .unwrap_or(usize::MAX);
    let mut cells = Cells::new(size);
    // Visits and visitors are numbered across the blocks (a block's visitors are its day's).
    let (mut visit, mut visitor) = (0u32, 0u32);
    for (b, ids) in blocks.iter().zip(&ids) {
        count_block(
            b,
            span,
            filter,
            &fields,
            ids,
            &radix,
            &mut cells,
            &mut visit,
            &mut visitor,
        );
    }
    cells
        .into_cells()
        .into_iter()
        .map(|(mut k, c)| {
            let mut text = vec![String::new(); fields.len()];
            for n in (0..fields.len()).rev() {
                let id = k % radix[n];
                k /= radix[n];
                text[n] = match fields[n] {
                    Field::Time(_) => date(span.first_day + id as i64),
                    _ => texts[n][id].clone(),
                };
            }
            (text, c.figures())
        })
        .collect()
}

/// Counts one block's events and visits of `span` into `cells` (keys: the dimensions' global
/// ids, `ids` per dimension and block value, in mixed radix); `visit` and `visitor` number the
/// visits and visitors counted so far, over the blocks.
#[allow(clippy::too_many_arguments)]
fn count_block(
    b: &Block,
    span: &Span,
    filter: Option<&Compiled>,
    fields: &[Field],
    ids: &[Vec<u32>],
    radix: &[usize],
    cells: &mut Cells,
    visit: &mut u32,
    visitor: &mut u32,
) {
    // The filter's conjuncts on the visit alone are tested once a visit, the others per event.
    let (on_visit, on_event) = split(filter.map(|c| compile(b, c)));
    let in_span = |day: i64| day >= span.first_day && day <= span.last_day;
    let visit_counts = in_span(b.day);
    let timed = fields.iter().any(|f| matches!(f, Field::Time(_)));
    let key = |i: usize, v: usize, day: i64| -> Option<usize> {
        let mut k = 0usize;
        for (n, f) in fields.iter().enumerate() {
            let id = match f {
                Field::Time(bucket) => {
                    (bucket_day(*bucket, day).max(span.first_day) - span.first_day) as usize
                }
                f => match ids[n][id(b, *f, i, v)?] {
                    NONE => return None,
                    id => id as usize,
                },
            };
            k = k * radix[n] + id;
        }
        Some(k)
    };
    // Without the `times` part (no metric reads them), bounces and durations stay 0.
    let timed_part = b.start.len() == b.visits();
    let pageview = pageviews(b);
    let measurement: Vec<bool> = b
        .names
        .iter()
        .map(|n| MEASUREMENTS.contains(&n.as_str()))
        .collect();
    // A new day's visitors are new.
    *visitor = visitor.wrapping_add(1);
    for v in 0..b.visits() {
        if v > 0 && b.new_visitor[v] {
            *visitor = visitor.wrapping_add(1);
        }
        *visit = visit.wrapping_add(1);
        let events = b.events(v);
        if events.is_empty() || !on_visit.iter().all(|n| n.test(b, events.start, v)) {
            continue;
        }
        if !visit_counts
            && events
                .clone()
                .all(|i| !in_span(b.day + i64::from(b.day_offset[i])))
        {
            continue;
        }
        let vu = *visit;
        for i in events {
            if !on_event.iter().all(|n| n.test(b, i, v)) {
                continue;
            }
            let day = b.day + i64::from(b.day_offset[i]);
            let event_key = if in_span(day) { key(i, v, day) } else { None };
            let visit_key = match (visit_counts, timed) {
                (false, _) => None,
                (true, false) => event_key.or_else(|| key(i, v, b.day)),
                (true, true) => key(i, v, b.day),
            };
            let name = b.name[i] as usize;
            let count_event = |c: &mut Cell| {
                if pageview[name] {
                    c.pageviews += 1;
                    if c.page_visit != vu {
                        c.page_visit = vu;
                        c.page_visits += 1;
                    }
                }
                if !measurement[name] {
                    c.events += 1;
                }
            };
            let count_visit = |c: &mut Cell| {
                if c.visit != vu {
                    c.visit = vu;
                    c.visits += 1;
                    if c.visitor != *visitor {
                        c.visitor = *visitor;
                        c.visitors += 1;
                    }
                    if timed_part {
                        c.bounces += i64::from(b.bounced[v]);
                        c.duration_ms += b.last[v] - b.start[v];
                        c.visit_pageviews += i64::from(b.pageviews[v]);
                    }
                }
            };
            match (event_key, visit_key) {
                // Mostly one group for both: its cell is found once.
                (Some(e), Some(k)) if e == k => {
                    let c = cells.at(e);
                    count_event(c);
                    count_visit(c);
                }
                _ => {
                    if let Some(k) = event_key {
                        count_event(cells.at(k));
                    }
                    if let Some(k) = visit_key {
                        count_visit(cells.at(k));
                    }
                }
            }
        }
    }
}

/// Per name id of a block: is it a pageview.
fn pageviews(b: &Block) -> Vec<bool> {
    b.names.iter().map(|n| n == PAGEVIEW).collect()
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
        for (k, f) in blocks_groups(self.blocks, span, filter, dims) {
            out.entry(k).or_default().add_counts(&f);
        }
        out
    }
}

// A page's steps fit in a byte.
const _: () = assert!(crate::saved::funnel::MAX_STEPS <= 8);

/// Visitors per funnel step from one block over a span (visits that started in it). `steps_of`
/// keeps, per page path seen, the steps its pageviews match (a bit per step), across the blocks
/// of one answer: each path is matched against the steps' patterns once.
pub fn reached(
    b: &Block,
    filter: Option<&Compiled>,
    f: &Funnel,
    span: &Span,
    steps_of: &mut HashMap<String, u8>,
) -> Vec<usize> {
    let mut counts = vec![0usize; f.steps.len()];
    if b.day < span.first_day || b.day > span.last_day {
        return counts;
    }
    let (on_visit, on_event) = split(filter.map(|c| compile(b, c)));
    // Per step: does an event match it, by name id (events) and by page id (pageviews).
    let by_name: Vec<Vec<bool>> = f
        .steps
        .iter()
        .map(|s| b.names.iter().map(|n| s.matches(n, "", |_| None)).collect())
        .collect();
    let by_page: Vec<u8> = b
        .pages
        .iter()
        .map(|p| match steps_of.get(p.as_str()) {
            Some(&bits) => bits,
            None => {
                let bits = f.steps.iter().enumerate().fold(0u8, |bits, (k, s)| {
                    bits | u8::from(s.matches(PAGEVIEW, p, |_| None)) << k
                });
                steps_of.insert(p.clone(), bits);
                bits
            }
        })
        .collect();
    let pageview = pageviews(b);
    let matches = |step: usize, i: usize| {
        let name = b.name[i] as usize;
        if pageview[name] {
            by_page[b.page[i] as usize] & (1 << step) != 0
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
        let events = b.events(v);
        if events.is_empty() || !on_visit.iter().all(|n| n.test(b, events.start, v)) {
            continue;
        }
        unit.extend(events.filter(|i| on_event.iter().all(|n| n.test(b, *i, v))));
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
