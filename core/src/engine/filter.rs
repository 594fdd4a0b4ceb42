//! Stage: filter. Input: a query's filter tree. Output: the tree compiled ([`Compiled`]) and
//! matched per event within its visit: a condition on an `event:` dimension reads the event, one
//! on a `visit:` dimension reads the visit (its arrival, entry and exit page); `has_done` asks
//! whether any event of the visit matches. A visit matches when any of its events does.
//! Also here: every dimension's value for an event in its visit ([`value`]), named as Plausible
//! names them. Must not: read anything but the event and its visit.

use std::borrow::Cow;

use regex::{Regex, RegexBuilder};

use super::visits::{Data, Visit};
use super::Hit;
use crate::query::{Condition, Dimension, ErrorKind, Filter, Op, QueryError};
use crate::saved::funnel::PagePattern;
use crate::wire::PAGEVIEW;

/// Events the SDK sends as measurements, not as something a visitor did: not goals, not counted
/// in `events`.
pub const MEASUREMENTS: &[&str] = &["engagement", "web_vital"];

/// The value of a missing custom property, as Plausible shows it.
pub const NONE: &str = "(none)";

/// Most bytes a compiled `matches` pattern may take (a hostile pattern is refused, not run).
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// A compiled filter tree.
#[derive(Debug)]
pub enum Compiled {
    /// A condition.
    Cond(Cond),
    /// All hold.
    And(Vec<Compiled>),
    /// Any holds.
    Or(Vec<Compiled>),
    /// Does not hold.
    Not(Box<Compiled>),
    /// Some event of the visit matches.
    HasDone(Box<Compiled>),
    /// No event of the visit matches.
    HasNotDone(Box<Compiled>),
}

/// One compiled condition.
#[derive(Debug)]
pub struct Cond {
    dimension: Dimension,
    negated: bool,
    test: Test,
}

#[derive(Debug)]
enum Test {
    Equals(Vec<String>, bool),
    Contains(Vec<String>, bool),
    Matches(Vec<Regex>),
    Goal(Vec<Goal>, bool),
}

/// A goal clause: `Visit <page pattern>` (pageviews of matching pages) or an event name.
#[derive(Debug)]
enum Goal {
    Page(PagePattern),
    Event(String),
}

/// Compiles a filter tree; a `matches` pattern that is not a valid regular expression is a 400.
pub fn compile(filter: &Filter) -> Result<Compiled, QueryError> {
    Ok(match filter {
        Filter::Condition(c) => Compiled::Cond(condition(c)?),
        Filter::And(list) => Compiled::And(list.iter().map(compile).collect::<Result<_, _>>()?),
        Filter::Or(list) => Compiled::Or(list.iter().map(compile).collect::<Result<_, _>>()?),
        Filter::Not(f) => Compiled::Not(Box::new(compile(f)?)),
        Filter::HasDone(f) => Compiled::HasDone(Box::new(compile(f)?)),
        Filter::HasNotDone(f) => Compiled::HasNotDone(Box::new(compile(f)?)),
        // Segments are expanded before a query resolves; one left here matches nothing.
        Filter::Segment(_) => Compiled::Or(vec![]),
    })
}

fn condition(c: &Condition) -> Result<Cond, QueryError> {
    let fold = |s: &String| {
        if c.case_sensitive {
            s.clone()
        } else {
            s.to_lowercase()
        }
    };
    let negated = matches!(c.op, Op::IsNot | Op::ContainsNot | Op::MatchesNot);
    let test = match (&c.dimension, c.op) {
        (Dimension::Goal, op) => Test::Goal(
            c.clauses.iter().map(|clause| goal(clause)).collect(),
            matches!(op, Op::Contains | Op::ContainsNot),
        ),
        (_, Op::Is | Op::IsNot) => {
            Test::Equals(c.clauses.iter().map(fold).collect(), c.case_sensitive)
        }
        (_, Op::Contains | Op::ContainsNot) => {
            Test::Contains(c.clauses.iter().map(fold).collect(), c.case_sensitive)
        }
        (_, Op::Matches | Op::MatchesNot) => Test::Matches(
            c.clauses
                .iter()
                .map(|p| {
                    RegexBuilder::new(p)
                        .case_insensitive(!c.case_sensitive)
                        .size_limit(REGEX_SIZE_LIMIT)
                        .build()
                        .map_err(|e| {
                            QueryError::new(
                                ErrorKind::InvalidFilters,
                                format!(
                                    "Invalid filters. `{p}` is not a regular expression ({}).",
                                    cause(&e.to_string())
                                ),
                            )
                        })
                })
                .collect::<Result<_, _>>()?,
        ),
    };
    Ok(Cond {
        dimension: c.dimension.clone(),
        negated,
        test,
    })
}

/// The line of a regex error that says what is wrong (its last).
fn cause(s: &str) -> &str {
    s.lines().last().unwrap_or(s).trim()
}

fn goal(clause: &str) -> Goal {
    match clause.strip_prefix("Visit ").map(PagePattern::new) {
        Some(Ok(pattern)) => Goal::Page(pattern),
        _ => Goal::Event(clause.to_owned()),
    }
}

/// The goal an event completes: a custom event's name (not the SDK's measurements); pageviews
/// complete `Visit <page>` goals, which are matched by pattern, not listed.
pub fn goal_name(h: &Hit) -> Option<&str> {
    (h.name != PAGEVIEW && !MEASUREMENTS.contains(&h.name.as_str())).then_some(h.name.as_str())
}

/// The device class as Plausible names it.
fn device_name(d: &str) -> Cow<'_, str> {
    match d {
        "desktop" => Cow::Borrowed("Desktop"),
        "mobile" => Cow::Borrowed("Mobile"),
        "tablet" => Cow::Borrowed("Tablet"),
        other => Cow::Borrowed(other),
    }
}

/// What `dimension` is for event `i` of visit `v`; `None` when it has no value (the row is left
/// out of a breakdown, and `is` never matches it). Time dimensions have no value here.
pub fn value<'a>(
    dimension: &Dimension,
    data: &'a Data,
    i: usize,
    v: &Visit,
) -> Option<Cow<'a, str>> {
    let h = &data.hits[i];
    let a = &data.hits[v.arrival];
    match dimension {
        Dimension::Page => Some(Cow::Borrowed(&h.path)),
        Dimension::Hostname => Some(Cow::Borrowed(&h.hostname)),
        Dimension::Name => Some(Cow::Borrowed(&h.name)),
        Dimension::Goal => goal_name(h).map(Cow::Borrowed),
        Dimension::Internal => Some(Cow::Borrowed(if v.internal { "true" } else { "false" })),
        Dimension::Prop(key) => Some(h.prop(key).map_or(Cow::Borrowed(NONE), Cow::Owned)),
        Dimension::EntryPage => v.entry.map(|e| Cow::Borrowed(data.hits[e].path.as_str())),
        Dimension::ExitPage => v.exit.map(|e| Cow::Borrowed(data.hits[e].path.as_str())),
        Dimension::EntryPageHostname => v
            .entry
            .map(|e| Cow::Borrowed(data.hits[e].hostname.as_str())),
        Dimension::ExitPageHostname => v
            .exit
            .map(|e| Cow::Borrowed(data.hits[e].hostname.as_str())),
        other => arrival_field(other, a).and_then(|raw| shown(other, raw.as_deref())),
    }
}

/// The arrival field a `visit:` dimension of the arrival's own is read from (`None` for other
/// dimensions).
#[allow(clippy::option_option)]
pub fn arrival_field<'a>(dimension: &Dimension, a: &'a Hit) -> Option<&'a Option<String>> {
    Some(match dimension {
        Dimension::Source => &a.source,
        Dimension::Referrer => &a.referrer,
        Dimension::Channel => &a.channel,
        Dimension::UtmSource => &a.utm_source,
        Dimension::UtmMedium => &a.utm_medium,
        Dimension::UtmCampaign => &a.utm_campaign,
        Dimension::UtmContent => &a.utm_content,
        Dimension::UtmTerm => &a.utm_term,
        Dimension::Device => &a.device,
        Dimension::Browser => &a.browser,
        Dimension::Os => &a.os,
        Dimension::Country => &a.country,
        _ => return None,
    })
}

/// An arrival dimension's value as Plausible shows it, from the stored field (`raw`): sources
/// and referrers `Direct / None` when absent, channels `Direct`, devices capitalised.
pub fn shown<'a>(dimension: &Dimension, raw: Option<&'a str>) -> Option<Cow<'a, str>> {
    match dimension {
        Dimension::Source | Dimension::Referrer => {
            Some(Cow::Borrowed(raw.unwrap_or("Direct / None")))
        }
        Dimension::Channel => Some(Cow::Borrowed(raw.unwrap_or("Direct"))),
        Dimension::Device => raw.map(device_name),
        _ => raw.map(Cow::Borrowed),
    }
}

impl Compiled {
    /// True when event `i` of visit `v` matches.
    pub fn test(&self, data: &Data, i: usize, v: &Visit) -> bool {
        match self {
            Compiled::Cond(c) => c.test(data, i, v),
            Compiled::And(list) => list.iter().all(|f| f.test(data, i, v)),
            Compiled::Or(list) => list.iter().any(|f| f.test(data, i, v)),
            Compiled::Not(f) => !f.test(data, i, v),
            Compiled::HasDone(f) => v.hits.clone().any(|j| f.test(data, j, v)),
            Compiled::HasNotDone(f) => !v.hits.clone().any(|j| f.test(data, j, v)),
        }
    }
}

impl Cond {
    fn test(&self, data: &Data, i: usize, v: &Visit) -> bool {
        if self.is_goal() {
            let h = &data.hits[i];
            return self.on_event(&h.name, &h.path);
        }
        self.on_value(value(&self.dimension, data, i, v).as_deref())
    }

    /// The dimension it reads.
    pub fn dimension(&self) -> &Dimension {
        &self.dimension
    }

    /// True for an `event:goal` condition (read with [`Cond::on_event`]).
    pub fn is_goal(&self) -> bool {
        matches!(self.test, Test::Goal(..))
    }

    /// An `event:goal` condition on an event with this name and path.
    pub fn on_event(&self, name: &str, path: &str) -> bool {
        let hit = match &self.test {
            Test::Goal(goals, contains) => goals.iter().any(|g| match g {
                Goal::Page(p) => name == PAGEVIEW && p.matches(path),
                Goal::Event(goal) => {
                    let counted = name != PAGEVIEW && !MEASUREMENTS.contains(&name);
                    counted
                        && if *contains {
                            name.contains(goal.as_str())
                        } else {
                            name == goal
                        }
                }
            }),
            _ => false,
        };
        hit != self.negated
    }

    /// Any other condition on its dimension's value (`None`: the event has none).
    pub fn on_value(&self, value: Option<&str>) -> bool {
        let hit = match &self.test {
            Test::Goal(..) => false,
            test => match value {
                None => false,
                Some(value) => match test {
                    Test::Equals(clauses, sensitive) => {
                        let value = folded(value, *sensitive);
                        clauses.iter().any(|c| *c == value)
                    }
                    Test::Contains(clauses, sensitive) => {
                        let value = folded(value, *sensitive);
                        clauses.iter().any(|c| value.contains(c.as_str()))
                    }
                    Test::Matches(patterns) => patterns.iter().any(|p| p.is_match(value)),
                    Test::Goal(..) => false,
                },
            },
        };
        hit != self.negated
    }
}

fn folded(value: &str, sensitive: bool) -> Cow<'_, str> {
    if sensitive {
        Cow::Borrowed(value)
    } else {
        Cow::Owned(value.to_lowercase())
    }
}

/// The tree without its top-level `event:goal` conditions (what conversion rates divide by).
pub fn without_goals(filter: &Filter) -> Option<Filter> {
    match filter {
        Filter::Condition(c) if c.dimension == Dimension::Goal => None,
        Filter::And(list) => {
            let kept: Vec<Filter> = list.iter().filter_map(without_goals).collect();
            match kept.len() {
                0 => None,
                1 => kept.into_iter().next(),
                _ => Some(Filter::And(kept)),
            }
        }
        other => Some(other.clone()),
    }
}
