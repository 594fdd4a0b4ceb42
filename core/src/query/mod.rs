//! Query: Plausible's Stats API v2 query language (`POST /api/v2/query`), parsed and validated.
//!
//! Two stages, each a type the next one trusts:
//! 1. [`parse`] (or [`parse_value`]): a JSON body → a [`Request`]: every key read into a closed
//!    type, and every rule that needs no site checked ([`Request::check`]: which metrics go with
//!    which dimensions and filters, where a filter may stand, the limits below).
//! 2. [`Request::resolve`]: the request and the site's [`Context`] (time zone, `now`, first day of
//!    stats) → a [`Query`]: date ranges as `[from, to)` UTC ms, the comparison range, the `time`
//!    dimension's bucket, the ordering.
//!
//! Input: bytes (or a `serde_json::Value`), then plain data. Output: [`Query`], or a
//! [`QueryError`] whose message names what is wrong. Must not: read the clock, touch storage,
//! hold SQL. Not checked here, because they need the site's stored data: that a goal exists, and
//! revenue currencies. Segments are replaced by their stored filters between the two stages, by
//! [`crate::saved::expand`], which runs [`Request::check`] again. A `matches`
//! pattern is kept as text: no regex crate is in the workspace, so the stage that runs patterns
//! compiles (and so validates) them.

mod error;
mod parse;
mod range;
mod validate;

pub use error::{ErrorKind, QueryError};
pub(crate) use parse::{id, json, quote, step};
pub use parse::{parse, parse_filters, parse_value};
pub use range::{midnight, Compare, CompareMode, Context, DateRange, Instant, Span};

use std::borrow::Cow;
use std::fmt;

/// Largest body [`parse`] reads, in bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Most dimensions a query groups by.
pub const MAX_DIMENSIONS: usize = 8;
/// Most filter nodes (conditions, `and`/`or`/`not`/`has_done` nodes, segments) in a query.
pub const MAX_FILTER_NODES: usize = 100;
/// Deepest nesting of `and`/`or`/`not`/`has_done` below the top level.
pub const MAX_FILTER_DEPTH: usize = 8;
/// Most clauses (values) one filter condition matches against.
pub const MAX_CLAUSES: usize = 100;
/// Longest clause, in bytes: a stored page path can be that long.
pub const MAX_CLAUSE_LEN: usize = crate::wire::MAX_URL_LEN;
/// Longest `site_id`, in bytes (a domain name's limit).
pub const MAX_SITE_ID_LEN: usize = 253;
/// Largest `pagination.limit` (Plausible's).
pub const MAX_LIMIT: u32 = 10_000;
/// Largest `pagination.offset`.
pub const MAX_OFFSET: u32 = 1_000_000;
/// Largest id a segment or funnel can have: exact in a JSON number and in D1 (2^53 − 1).
pub const MAX_ID: u64 = (1 << 53) - 1;
/// Longest date range, in days (Plausible's bound on `Nd`); `all` starts at most this far back.
pub const MAX_RANGE_DAYS: i64 = 5_000;
/// Most time buckets a `time` dimension may make over the date range.
pub const MAX_TIME_BUCKETS: u64 = 10_000;

/// A metric: what is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Metric {
    /// Unique visitors.
    Visitors,
    /// Visits (sessions).
    Visits,
    /// Pageview events.
    Pageviews,
    /// Pageviews divided by visits.
    ViewsPerVisit,
    /// Share of visits that bounced, percent.
    BounceRate,
    /// Mean visit duration, seconds.
    VisitDuration,
    /// Events (pageviews and custom events); with a goal filter, total conversions.
    Events,
    /// Share of all visitors that fall into the row, percent (needs dimensions).
    Percentage,
    /// Share of all visitors that completed the goal, percent.
    ConversionRate,
    /// Share of the row's visitors that completed the goal, percent.
    GroupConversionRate,
    /// Revenue of the goal's conversions.
    TotalRevenue,
    /// Revenue per conversion.
    AverageRevenue,
    /// Mean engaged time on a page per visit, seconds (needs a page context).
    TimeOnPage,
    /// Mean scroll depth on a page, percent (needs a page context).
    ScrollDepth,
    /// Sightline's own: events visitors' browsers dropped unsent, as they reported.
    LostInBrowser,
    /// Sightline's own: the 75th percentile of a web vital.
    P75(Vital),
}

/// A Core Web Vital the SDK measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Vital {
    /// Largest Contentful Paint, ms.
    Lcp,
    /// Interaction to Next Paint, ms.
    Inp,
    /// Cumulative Layout Shift, unitless.
    Cls,
    /// First Contentful Paint, ms.
    Fcp,
    /// Time to First Byte, ms.
    Ttfb,
}

impl Vital {
    /// The vital's name as the SDK sends it and a stored day keeps it
    /// ([`crate::ingest::aggregate::VITALS`]).
    pub fn stored_name(self) -> &'static str {
        match self {
            Vital::Lcp => "LCP",
            Vital::Inp => "INP",
            Vital::Cls => "CLS",
            Vital::Fcp => "FCP",
            Vital::Ttfb => "TTFB",
        }
    }
}

/// Where a metric or dimension is read from, as Plausible partitions them: a rule forbids mixing
/// session-only metrics with event-only dimensions and the other way round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Only per event.
    Event,
    /// Only per visit.
    Session,
    /// Either.
    Either,
    /// Computed apart (`time_on_page`).
    Other,
}

impl Metric {
    /// Every metric, in the order the docs list them.
    pub const ALL: &'static [Metric] = &[
        Metric::Visitors,
        Metric::Visits,
        Metric::Pageviews,
        Metric::ViewsPerVisit,
        Metric::BounceRate,
        Metric::VisitDuration,
        Metric::Events,
        Metric::Percentage,
        Metric::ConversionRate,
        Metric::GroupConversionRate,
        Metric::TotalRevenue,
        Metric::AverageRevenue,
        Metric::TimeOnPage,
        Metric::ScrollDepth,
        Metric::LostInBrowser,
        Metric::P75(Vital::Lcp),
        Metric::P75(Vital::Inp),
        Metric::P75(Vital::Cls),
        Metric::P75(Vital::Fcp),
        Metric::P75(Vital::Ttfb),
    ];

    /// The metric's name in the API.
    pub fn name(self) -> &'static str {
        match self {
            Metric::Visitors => "visitors",
            Metric::Visits => "visits",
            Metric::Pageviews => "pageviews",
            Metric::ViewsPerVisit => "views_per_visit",
            Metric::BounceRate => "bounce_rate",
            Metric::VisitDuration => "visit_duration",
            Metric::Events => "events",
            Metric::Percentage => "percentage",
            Metric::ConversionRate => "conversion_rate",
            Metric::GroupConversionRate => "group_conversion_rate",
            Metric::TotalRevenue => "total_revenue",
            Metric::AverageRevenue => "average_revenue",
            Metric::TimeOnPage => "time_on_page",
            Metric::ScrollDepth => "scroll_depth",
            Metric::LostInBrowser => "lost_in_browser",
            Metric::P75(Vital::Lcp) => "lcp_p75",
            Metric::P75(Vital::Inp) => "inp_p75",
            Metric::P75(Vital::Cls) => "cls_p75",
            Metric::P75(Vital::Fcp) => "fcp_p75",
            Metric::P75(Vital::Ttfb) => "ttfb_p75",
        }
    }

    /// The metric called `name`.
    pub fn parse(name: &str) -> Option<Metric> {
        Metric::ALL.iter().copied().find(|m| m.name() == name)
    }

    /// Where the metric is read from.
    pub fn scope(self) -> Scope {
        match self {
            Metric::Visitors
            | Metric::Visits
            | Metric::Percentage
            | Metric::ConversionRate
            | Metric::GroupConversionRate => Scope::Either,
            Metric::BounceRate | Metric::VisitDuration | Metric::ViewsPerVisit => Scope::Session,
            Metric::TimeOnPage => Scope::Other,
            Metric::Pageviews
            | Metric::Events
            | Metric::TotalRevenue
            | Metric::AverageRevenue
            | Metric::ScrollDepth
            | Metric::LostInBrowser
            | Metric::P75(_) => Scope::Event,
        }
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The bucket a time dimension groups by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeBucket {
    /// `time`: chosen from the date range by [`Request::resolve`]; never left in a [`Query`].
    Auto,
    /// `time:hour`.
    Hour,
    /// `time:day`.
    Day,
    /// `time:week` (weeks start on Monday).
    Week,
    /// `time:month`.
    Month,
}

/// A dimension: what results are grouped (or filtered) by. Names and values follow Plausible's.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Dimension {
    /// `event:goal`.
    Goal,
    /// `event:page`.
    Page,
    /// `event:hostname`.
    Hostname,
    /// `event:name`.
    Name,
    /// `event:internal` (Sightline's own): `"true"` for staff traffic, `"false"` for customers'.
    Internal,
    /// `event:props:<key>`.
    Prop(String),
    /// `visit:entry_page`.
    EntryPage,
    /// `visit:exit_page`.
    ExitPage,
    /// `visit:entry_page_hostname`.
    EntryPageHostname,
    /// `visit:exit_page_hostname`.
    ExitPageHostname,
    /// `visit:source`.
    Source,
    /// `visit:referrer`.
    Referrer,
    /// `visit:channel`.
    Channel,
    /// `visit:utm_source`.
    UtmSource,
    /// `visit:utm_medium`.
    UtmMedium,
    /// `visit:utm_campaign`.
    UtmCampaign,
    /// `visit:utm_content`.
    UtmContent,
    /// `visit:utm_term`.
    UtmTerm,
    /// `visit:device`.
    Device,
    /// `visit:browser`.
    Browser,
    /// `visit:browser_version` (not recorded by Sightline).
    BrowserVersion,
    /// `visit:os`.
    Os,
    /// `visit:os_version` (not recorded by Sightline).
    OsVersion,
    /// `visit:screen` (not recorded by Sightline).
    Screen,
    /// `visit:country`: ISO 3166-1 alpha-2.
    Country,
    /// `visit:country_name`: derived from the country code.
    CountryName,
    /// `visit:region` (not recorded by Sightline).
    Region,
    /// `visit:region_name` (not recorded by Sightline).
    RegionName,
    /// `visit:city` (not recorded by Sightline).
    City,
    /// `visit:city_name` (not recorded by Sightline).
    CityName,
    /// `time`, `time:hour`, `time:day`, `time:week`, `time:month`.
    Time(TimeBucket),
}

/// The prefix of custom property dimensions.
pub const PROPS_PREFIX: &str = "event:props:";

/// Every dimension with a fixed name, and that name.
const NAMED: &[(&str, Dimension)] = &[
    ("event:goal", Dimension::Goal),
    ("event:page", Dimension::Page),
    ("event:hostname", Dimension::Hostname),
    ("event:name", Dimension::Name),
    ("event:internal", Dimension::Internal),
    ("visit:entry_page", Dimension::EntryPage),
    ("visit:exit_page", Dimension::ExitPage),
    ("visit:entry_page_hostname", Dimension::EntryPageHostname),
    ("visit:exit_page_hostname", Dimension::ExitPageHostname),
    ("visit:source", Dimension::Source),
    ("visit:referrer", Dimension::Referrer),
    ("visit:channel", Dimension::Channel),
    ("visit:utm_source", Dimension::UtmSource),
    ("visit:utm_medium", Dimension::UtmMedium),
    ("visit:utm_campaign", Dimension::UtmCampaign),
    ("visit:utm_content", Dimension::UtmContent),
    ("visit:utm_term", Dimension::UtmTerm),
    ("visit:device", Dimension::Device),
    ("visit:browser", Dimension::Browser),
    ("visit:browser_version", Dimension::BrowserVersion),
    ("visit:os", Dimension::Os),
    ("visit:os_version", Dimension::OsVersion),
    ("visit:screen", Dimension::Screen),
    ("visit:country", Dimension::Country),
    ("visit:country_name", Dimension::CountryName),
    ("visit:region", Dimension::Region),
    ("visit:region_name", Dimension::RegionName),
    ("visit:city", Dimension::City),
    ("visit:city_name", Dimension::CityName),
    ("time", Dimension::Time(TimeBucket::Auto)),
    ("time:hour", Dimension::Time(TimeBucket::Hour)),
    ("time:day", Dimension::Time(TimeBucket::Day)),
    ("time:week", Dimension::Time(TimeBucket::Week)),
    ("time:month", Dimension::Time(TimeBucket::Month)),
];

impl Dimension {
    /// The dimension called `name`; a custom property's key must be non-empty and at most
    /// [`crate::wire::MAX_PROP_KEY_LEN`] bytes (longer keys are never stored).
    pub fn parse(name: &str) -> Option<Dimension> {
        if let Some(key) = name.strip_prefix(PROPS_PREFIX) {
            let fits = !key.is_empty() && key.len() <= crate::wire::MAX_PROP_KEY_LEN;
            return fits.then(|| Dimension::Prop(key.to_owned()));
        }
        NAMED
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, d)| d.clone())
    }

    /// The dimension's name in the API.
    pub fn name(&self) -> Cow<'static, str> {
        if let Dimension::Prop(key) = self {
            return Cow::Owned(format!("{PROPS_PREFIX}{key}"));
        }
        let name = NAMED.iter().find(|(_, d)| d == self).map_or("", |(n, _)| n);
        Cow::Borrowed(name)
    }

    /// Where the dimension is read from: `event:*` per event, entry and exit pages per visit, the
    /// rest of `visit:*` and `time` from either.
    pub fn scope(&self) -> Scope {
        match self {
            Dimension::Goal
            | Dimension::Page
            | Dimension::Hostname
            | Dimension::Name
            | Dimension::Internal
            | Dimension::Prop(_) => Scope::Event,
            Dimension::EntryPage
            | Dimension::ExitPage
            | Dimension::EntryPageHostname
            | Dimension::ExitPageHostname => Scope::Session,
            _ => Scope::Either,
        }
    }

    /// True for `time` and `time:*`.
    pub fn is_time(&self) -> bool {
        matches!(self, Dimension::Time(_))
    }

    /// False for the dimensions Plausible has and Sightline does not record (versions, screen,
    /// region, city): a query may name them, and the engine answers them as unknown.
    pub fn recorded(&self) -> bool {
        !matches!(
            self,
            Dimension::BrowserVersion
                | Dimension::OsVersion
                | Dimension::Screen
                | Dimension::Region
                | Dimension::RegionName
                | Dimension::City
                | Dimension::CityName
        )
    }
}

impl fmt::Display for Dimension {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// A filter condition's operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `is`: equals one of the clauses.
    Is,
    /// `is_not`: equals none of the clauses.
    IsNot,
    /// `contains`: contains one of the clauses.
    Contains,
    /// `contains_not`: contains none of the clauses.
    ContainsNot,
    /// `matches`: matches one of the clauses, regular expressions (re2 syntax).
    Matches,
    /// `matches_not`: matches none of the clauses.
    MatchesNot,
}

impl Op {
    /// The operator called `name`.
    pub fn parse(name: &str) -> Option<Op> {
        Some(match name {
            "is" => Op::Is,
            "is_not" => Op::IsNot,
            "contains" => Op::Contains,
            "contains_not" => Op::ContainsNot,
            "matches" => Op::Matches,
            "matches_not" => Op::MatchesNot,
            _ => return None,
        })
    }

    /// The operator's name in the API.
    pub fn name(self) -> &'static str {
        match self {
            Op::Is => "is",
            Op::IsNot => "is_not",
            Op::Contains => "contains",
            Op::ContainsNot => "contains_not",
            Op::Matches => "matches",
            Op::MatchesNot => "matches_not",
        }
    }
}

/// One condition: `[op, dimension, clauses]` or `[op, dimension, clauses, {"case_sensitive": b}]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    /// The operator.
    pub op: Op,
    /// What is compared (never a time dimension).
    pub dimension: Dimension,
    /// The values; a row matches if any clause does (`*_not`: if none does). `visit:city` ids
    /// are kept as their decimal text. `matches` clauses are patterns, not yet compiled.
    pub clauses: Vec<String>,
    /// False when the modifier `{"case_sensitive": false}` was given.
    pub case_sensitive: bool,
}

/// A filter tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    /// A condition.
    Condition(Condition),
    /// `["and", [...]]`: all hold.
    And(Vec<Filter>),
    /// `["or", [...]]`: any holds.
    Or(Vec<Filter>),
    /// `["not", f]`.
    Not(Box<Filter>),
    /// `["has_done", f]`: the visit has an event matching `f` (event dimensions only).
    HasDone(Box<Filter>),
    /// `["has_not_done", f]`: the visit has no event matching `f`.
    HasNotDone(Box<Filter>),
    /// `["is", "segment", [ids]]`: in any of these saved segments (resolved by a later stage).
    Segment(Vec<u64>),
}

impl Filter {
    /// Calls `visit` with every condition and segment of the tree, with its depth below the top
    /// level (a top-level filter is at depth 0) and how many `has_done`/`has_not_done` hold it.
    pub fn walk<'a>(&'a self, visit: &mut impl FnMut(&'a Filter, usize, usize)) {
        self.walk_from(0, 0, visit);
    }

    fn walk_from<'a>(
        &'a self,
        depth: usize,
        behavioral: usize,
        visit: &mut impl FnMut(&'a Filter, usize, usize),
    ) {
        match self {
            Filter::And(children) | Filter::Or(children) => children
                .iter()
                .for_each(|c| c.walk_from(depth + 1, behavioral, visit)),
            Filter::Not(child) => child.walk_from(depth + 1, behavioral, visit),
            Filter::HasDone(child) | Filter::HasNotDone(child) => {
                child.walk_from(depth + 1, behavioral + 1, visit)
            }
            Filter::Condition(_) | Filter::Segment(_) => visit(self, depth, behavioral),
        }
    }

    /// True when a condition on `dimension` appears anywhere in the tree outside `has_done` /
    /// `has_not_done`.
    pub fn mentions(&self, dimension: &Dimension) -> bool {
        let mut found = false;
        self.walk(&mut |leaf, _, behavioral| {
            if let Filter::Condition(c) = leaf {
                found |= behavioral == 0 && &c.dimension == dimension;
            }
        });
        found
    }

    /// The ids of every segment the tree names, in order, once each.
    pub fn segments(&self) -> Vec<u64> {
        let mut ids = Vec::new();
        self.walk(&mut |leaf, _, _| {
            if let Filter::Segment(list) = leaf {
                for id in list {
                    if !ids.contains(id) {
                        ids.push(*id);
                    }
                }
            }
        });
        ids
    }
}

/// A sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// `asc`.
    Asc,
    /// `desc`.
    Desc,
}

/// What a result can be ordered by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SortKey {
    /// A queried metric.
    Metric(Metric),
    /// A queried dimension.
    Dimension(Dimension),
}

/// One `order_by` entry.
pub type Order = (SortKey, Direction);

/// `pagination`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pagination {
    /// Rows to answer, 1–[`MAX_LIMIT`] (default [`MAX_LIMIT`]).
    pub limit: u32,
    /// Rows to skip, 0–[`MAX_OFFSET`] (default 0).
    pub offset: u32,
}

impl Default for Pagination {
    fn default() -> Self {
        Pagination {
            limit: MAX_LIMIT,
            offset: 0,
        }
    }
}

/// `include`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Include {
    /// `imports`: accepted for Plausible's scripts; Sightline has no imported data.
    pub imports: bool,
    /// `time_labels`: answer every time bucket's label in `meta` (needs a time dimension).
    pub time_labels: bool,
    /// `total_rows`: answer the row count before pagination in `meta`.
    pub total_rows: bool,
    /// `internal` (Sightline's own): count staff traffic too.
    pub internal: bool,
    /// `comparisons` (public here; internal in Plausible).
    pub comparisons: Option<Compare>,
}

/// A query as asked: read and checked, its date ranges not yet resolved (see [`parse`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// `site_id`, as sent (the caller matches it with the token's site).
    pub site_id: String,
    /// `metrics`, in order, each once.
    pub metrics: Vec<Metric>,
    /// `date_range`.
    pub date_range: DateRange,
    /// `dimensions`, in order, each once.
    pub dimensions: Vec<Dimension>,
    /// `filters`: the top-level list (an implicit `and`).
    pub filters: Vec<Filter>,
    /// `order_by`, as given.
    pub order_by: Option<Vec<Order>>,
    /// `include`.
    pub include: Include,
    /// `pagination`.
    pub pagination: Pagination,
    /// `funnel` (Sightline's own): the id of a saved funnel to answer.
    pub funnel: Option<u64>,
}

impl Request {
    /// Checks the rules across keys (Plausible's, and ours for funnels and staff traffic). [`parse`]
    /// runs it; run it again after replacing segments with their filters.
    pub fn check(&self) -> Result<(), QueryError> {
        validate::check(self)
    }

    /// True when the query asks for staff traffic: `include.internal`, or `event:internal` as a
    /// dimension or in a filter (the filter then decides which traffic counts).
    pub fn internal(&self) -> bool {
        let mut named = self.dimensions.contains(&Dimension::Internal);
        for f in &self.filters {
            f.walk(&mut |leaf, _, _| {
                if let Filter::Condition(c) = leaf {
                    named |= c.dimension == Dimension::Internal;
                }
            });
        }
        self.include.internal || named
    }

    /// Resolves the date range, the comparison and the `time` bucket in the site's [`Context`].
    pub fn resolve(self, cx: &Context) -> Result<Query, QueryError> {
        let date_range = range::resolve(&self.date_range, cx)
            .map_err(|why| range::error("#/date_range", why))?;
        let comparison = match &self.include.comparisons {
            Some(c) => Some(
                range::compare(&date_range, c, cx)
                    .map_err(|why| range::error("#/include/comparisons/date_range", why))?,
            ),
            None => None,
        };
        let auto = range::auto_bucket(&date_range, cx);
        let fix = |d: Dimension| match d {
            Dimension::Time(TimeBucket::Auto) => Dimension::Time(auto),
            other => other,
        };
        let dimensions: Vec<Dimension> = self.dimensions.iter().cloned().map(fix).collect();
        for d in &dimensions {
            if let Dimension::Time(bucket) = d {
                let spans = [Some(&date_range), comparison.as_ref()];
                let n = spans
                    .iter()
                    .flatten()
                    .map(|s| range::bucket_count(s, *bucket))
                    .max()
                    .unwrap_or(0);
                if n > MAX_TIME_BUCKETS {
                    return Err(QueryError::new(
                        ErrorKind::InvalidDimensions,
                        format!(
                            "Invalid dimensions. `{d}` over this date range makes {n} time buckets; \
                             at most {MAX_TIME_BUCKETS}. Use a longer bucket or a shorter date_range."
                        ),
                    ));
                }
            }
        }
        let order_by = match &self.order_by {
            Some(entries) => entries
                .iter()
                .map(|(key, dir)| match key {
                    SortKey::Dimension(d) => (SortKey::Dimension(fix(d.clone())), *dir),
                    SortKey::Metric(m) => (SortKey::Metric(*m), *dir),
                })
                .collect(),
            None => default_order(&dimensions, &self.metrics),
        };
        let internal = self.internal();
        let filters = match self.filters.len() {
            0 => None,
            1 => self.filters.into_iter().next(),
            _ => Some(Filter::And(self.filters)),
        };
        Ok(Query {
            site_id: self.site_id,
            metrics: self.metrics,
            date_range,
            comparison,
            dimensions,
            filters,
            order_by,
            include: self.include,
            pagination: self.pagination,
            funnel: self.funnel,
            internal,
        })
    }
}

/// Plausible's default ordering: the time dimension ascending if there is one, then the first
/// metric descending.
fn default_order(dimensions: &[Dimension], metrics: &[Metric]) -> Vec<Order> {
    let time = dimensions
        .iter()
        .find(|d| d.is_time())
        .map(|d| (SortKey::Dimension(d.clone()), Direction::Asc));
    let metric = metrics
        .first()
        .map(|m| (SortKey::Metric(*m), Direction::Desc));
    time.into_iter().chain(metric).collect()
}

/// A query ready to run: every rule checked, every range resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// `site_id`, as sent.
    pub site_id: String,
    /// The metrics, in the order the answer gives them.
    pub metrics: Vec<Metric>,
    /// The date range, resolved.
    pub date_range: Span,
    /// The range `include.comparisons` asked for, resolved.
    pub comparison: Option<Span>,
    /// The dimensions, in the order the answer gives them; `time` resolved to its bucket.
    pub dimensions: Vec<Dimension>,
    /// The filter tree: the top-level filters joined by `and` (one alone stands as itself).
    pub filters: Option<Filter>,
    /// The ordering: as given, or Plausible's default.
    pub order_by: Vec<Order>,
    /// `include`.
    pub include: Include,
    /// `pagination`.
    pub pagination: Pagination,
    /// A saved funnel to answer instead of metrics.
    pub funnel: Option<u64>,
    /// Staff traffic counts (see [`Request::internal`]); otherwise it is left out.
    pub internal: bool,
}

/// Parses a body and resolves it in one step, for callers that know the site's [`Context`]
/// before reading the body.
pub fn parse_query(body: &[u8], cx: &Context) -> Result<Query, QueryError> {
    parse(body)?.resolve(cx)
}

#[cfg(test)]
mod tests;
