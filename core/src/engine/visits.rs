//! Stage: visits. Input: raw events ([`Hit`]) in any order. Output: [`Data`]: the events sorted
//! into visits — a run of one session's events with no gap over 30 minutes, as the collector's
//! sessionise stage makes them — with what each visit is counted by (its start, its arrival
//! fields, its entry and exit page, bounce, duration). Staff traffic is its own audience: a
//! session's staff events make a visit apart from its customers' events, so every visit is wholly
//! one or the other. Must not: drop or reorder a visit's events other than by time.

use std::collections::HashMap;

use super::Hit;
use crate::ingest::sessionise::{IDLE_MS, NON_INTERACTIVE};
use crate::wire::PAGEVIEW;
use crate::zone::Zone;

/// One visit.
#[derive(Debug, Clone, PartialEq)]
pub struct Visit {
    /// Its events: indices into [`Data::hits`], by time.
    pub hits: std::ops::Range<usize>,
    /// The event it arrived with (the earliest; of two at once, the one whose fields order first).
    pub arrival: usize,
    /// Its first and last pageview (by time, then path), if any.
    pub entry: Option<usize>,
    /// Its last pageview.
    pub exit: Option<usize>,
    /// First event time.
    pub start: i64,
    /// Last event time.
    pub last: i64,
    /// The local day it started on.
    pub day: i64,
    /// The visitor (of its audience), as a number unique within [`Data`].
    pub visitor: u32,
    /// Staff traffic.
    pub internal: bool,
    /// Pageviews.
    pub pageviews: u32,
    /// Neither two pageviews nor an interactive event.
    pub bounced: bool,
}

impl Visit {
    /// Duration, ms.
    pub fn duration(&self) -> i64 {
        self.last - self.start
    }
}

/// Events in visits.
#[derive(Debug, Default)]
pub struct Data {
    /// Every event, grouped by visit, each visit's by time.
    pub hits: Vec<Hit>,
    /// Every visit.
    pub visits: Vec<Visit>,
}

/// The fields a visit's arrival is chosen by after its time (as sessionise orders them).
fn arrival_order(h: &Hit) -> impl Ord + '_ {
    (
        h.ts,
        &h.source,
        &h.channel,
        &h.referrer,
        &h.utm_campaign,
        &h.country,
        &h.device,
        &h.browser,
        &h.os,
    )
}

/// Sorts events into visits.
pub fn build(mut hits: Vec<Hit>, zone: Zone) -> Data {
    hits.sort_by(|a, b| {
        (&a.visitor, &a.session, a.internal(), a.ts, &a.name, &a.path).cmp(&(
            &b.visitor,
            &b.session,
            b.internal(),
            b.ts,
            &b.name,
            &b.path,
        ))
    });
    // A visitor is one audience's: a person with staff and customer visits is one of each.
    let mut visitors: HashMap<(String, bool), u32> = HashMap::new();
    let mut visits = Vec::new();
    let mut i = 0;
    while i < hits.len() {
        let mut end = i + 1;
        while end < hits.len()
            && hits[end].visitor == hits[i].visitor
            && hits[end].session == hits[i].session
            && hits[end].internal() == hits[i].internal()
            && hits[end].ts - hits[end - 1].ts <= IDLE_MS
        {
            end += 1;
        }
        let next = visitors.len() as u32;
        let key = (hits[i].visitor.clone(), hits[i].internal());
        let visitor = *visitors.entry(key).or_insert(next);
        visits.push(visit(&hits, i..end, visitor, zone));
        i = end;
    }
    Data { hits, visits }
}

fn visit(hits: &[Hit], range: std::ops::Range<usize>, visitor: u32, zone: Zone) -> Visit {
    let arrival = range
        .clone()
        .min_by(|a, b| arrival_order(&hits[*a]).cmp(&arrival_order(&hits[*b])))
        .unwrap_or(range.start);
    let pageviews: Vec<usize> = range
        .clone()
        .filter(|i| hits[*i].name == PAGEVIEW)
        .collect();
    let by_page = |i: &usize| (hits[*i].ts, hits[*i].path.as_str());
    let entry = pageviews.iter().copied().min_by_key(by_page);
    let exit = pageviews.iter().copied().max_by_key(by_page);
    let interactive = range.clone().any(|i| {
        let name = hits[i].name.as_str();
        name != PAGEVIEW && !NON_INTERACTIVE.contains(&name)
    });
    let start = hits[range.start].ts;
    Visit {
        arrival,
        entry,
        exit,
        start,
        last: hits[range.end - 1].ts,
        day: zone.local(start).day,
        visitor,
        internal: hits[range.start].internal(),
        pageviews: pageviews.len() as u32,
        bounced: pageviews.len() < 2 && !interactive,
        hits: range,
    }
}

/// Whether raw events read over `[a, b]` may have cut a visit that touches `[from, to)`: in
/// some session (of one audience) with events in the range, the run of events with no gap over
/// the idle time that holds its first one there begins within the idle time after `a`, or the
/// run that holds its last one there ends within the idle time before `b` (an unread event
/// could begin or continue that visit). Answers (before `a`, after `b`): a reader reads further
/// that way before it counts.
pub fn cut(hits: &[Hit], (from, to): (i64, i64), (a, b): (i64, i64)) -> (bool, bool) {
    let mut sessions: HashMap<(&str, &str, bool), Vec<i64>> = HashMap::new();
    for h in hits {
        sessions
            .entry((&h.visitor, &h.session, h.internal()))
            .or_default()
            .push(h.ts);
    }
    let (mut before, mut after) = (false, false);
    for mut ts in sessions.into_values() {
        ts.sort_unstable();
        let inside = |t: &i64| (from..to).contains(t);
        let (Some(mut first), Some(mut last)) =
            (ts.iter().position(inside), ts.iter().rposition(inside))
        else {
            continue;
        };
        while first > 0 && ts[first] - ts[first - 1] <= IDLE_MS {
            first -= 1;
        }
        while last + 1 < ts.len() && ts[last + 1] - ts[last] <= IDLE_MS {
            last += 1;
        }
        before |= ts[first] - a <= IDLE_MS;
        after |= b - ts[last] <= IDLE_MS;
    }
    (before, after)
}

/// The events of the visits in `hits` that started on local `days` (the others' are dropped).
pub fn started_on(hits: Vec<Hit>, zone: Zone, days: std::ops::RangeInclusive<i64>) -> Vec<Hit> {
    let data = build(hits, zone);
    let mut keep = vec![false; data.hits.len()];
    for v in data.visits.iter().filter(|v| days.contains(&v.day)) {
        keep[v.hits.clone()].iter_mut().for_each(|k| *k = true);
    }
    data.hits
        .into_iter()
        .zip(keep)
        .filter_map(|(h, k)| k.then_some(h))
        .collect()
}
