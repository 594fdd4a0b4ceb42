//! Stage: sessionise. Input: the new events of a queue batch (already de-duplicated against storage)
//! and every stored visit of the visitors they belong to. Output: the visits after the batch (new,
//! changed, merged away), so the aggregate stage can count each visit's change exactly once.
//! A visit is a run of one session key's events with no gap over 30 minutes; events may arrive in
//! any order, and an event that fills a gap merges the visits on either side. Must not: do I/O.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::Event;
use crate::wire::{PropValue, PAGEVIEW};

/// Idle time that ends a visit.
pub const IDLE_MS: i64 = 30 * 60 * 1000;
/// Most distinct pages (and event names) a visit remembers for unique-visitor counts.
pub const MAX_REMEMBERED: usize = 200;

/// Events that do not make a visit interactive (a visit with one pageview and only these bounces).
pub const NON_INTERACTIVE: &[&str] = &["web_vital", "engagement", "js_error", "404"];

/// Conversion events (the one list, shared with the SDK).
pub use crate::commerce::CONVERSIONS;

/// Where a visit came from: the fields of its earliest event (of two at the same time, the one
/// whose fields order first, so the answer never depends on which arrived first).
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Arrival {
    /// Time of the earliest event.
    pub ts: i64,
    /// Source name.
    pub source: Option<String>,
    /// GA4 channel.
    pub channel: Option<String>,
    /// Referrer host.
    pub referrer: Option<String>,
    /// UTM campaign.
    pub campaign: Option<String>,
    /// Country code.
    pub country: Option<String>,
    /// Device class.
    pub device: Option<String>,
    /// Browser family.
    pub browser: Option<String>,
    /// OS family.
    pub os: Option<String>,
}

/// One visit's state, as stored (JSON) in the `sessions` table.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Visit {
    /// First event time.
    pub started_at: i64,
    /// Last event time.
    pub last_at: i64,
    /// (time, path) of the first pageview.
    pub entry: Option<(i64, String)>,
    /// (time, path) of the last pageview.
    pub exit: Option<(i64, String)>,
    /// Pageviews.
    pub pageviews: u32,
    /// Interactive (non-pageview, not [`NON_INTERACTIVE`]) events.
    pub interactive: u32,
    /// Source fields of the earliest event.
    pub arrival: Arrival,
    /// Paths viewed (at most [`MAX_REMEMBERED`]).
    pub pages: BTreeSet<String>,
    /// Custom event names sent (at most [`MAX_REMEMBERED`]).
    pub names: BTreeSet<String>,
    /// Currencies of conversions with a value.
    pub currencies: BTreeSet<String>,
    /// Staff traffic (its events are `is_internal`; a session's staff events make visits apart).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub internal: bool,
}

impl Visit {
    /// A visit of one event.
    pub fn start(event: &Event) -> Visit {
        let mut visit = Visit {
            started_at: event.ts,
            last_at: event.ts,
            arrival: arrival(event),
            internal: event.internal(),
            ..Visit::default()
        };
        visit.count(event);
        visit
    }

    /// True when `ts` is within the idle gap of this visit.
    pub fn reaches(&self, ts: i64) -> bool {
        ts >= self.started_at - IDLE_MS && ts <= self.last_at + IDLE_MS
    }

    /// A visit bounces unless it has two pageviews or an interactive event.
    pub fn bounced(&self) -> bool {
        self.pageviews < 2 && self.interactive == 0
    }

    /// Duration, ms.
    pub fn duration(&self) -> i64 {
        self.last_at - self.started_at
    }

    /// Adds one event of this visit.
    pub fn add(&mut self, event: &Event) {
        let from = arrival(event);
        if (event.ts, &from) < (self.started_at, &self.arrival) {
            self.started_at = event.ts;
            self.arrival = from;
        }
        self.last_at = self.last_at.max(event.ts);
        self.count(event);
    }

    fn count(&mut self, event: &Event) {
        // A page counts its visitors by any event on it (the query API's `event:page`): the
        // page of a purchase sent without a pageview, too.
        remember(&mut self.pages, &event.path);
        if event.is_pageview() {
            self.pageviews += 1;
            let page = (event.ts, event.path.clone());
            if self.entry.as_ref().is_none_or(|e| page < *e) {
                self.entry = Some(page.clone());
            }
            if self.exit.as_ref().is_none_or(|e| page > *e) {
                self.exit = Some(page);
            }
        } else {
            if !NON_INTERACTIVE.contains(&event.name.as_str()) {
                self.interactive += 1;
            }
            remember(&mut self.names, &event.name);
            if let Some(currency) = conversion_currency(event) {
                remember(&mut self.currencies, &currency);
            }
        }
    }

    /// Merges another visit of the same session into this one.
    pub fn absorb(&mut self, other: Visit) {
        if (other.started_at, &other.arrival) < (self.started_at, &self.arrival) {
            self.started_at = other.started_at;
            self.arrival = other.arrival;
        }
        self.last_at = self.last_at.max(other.last_at);
        self.pageviews += other.pageviews;
        self.interactive += other.interactive;
        self.entry = [self.entry.take(), other.entry].into_iter().flatten().min();
        self.exit = [self.exit.take(), other.exit].into_iter().flatten().max();
        for page in &other.pages {
            remember(&mut self.pages, page);
        }
        for name in &other.names {
            remember(&mut self.names, name);
        }
        for currency in &other.currencies {
            remember(&mut self.currencies, currency);
        }
    }
}

/// Remembers a value (as a day's dimension keeps it: cut to its length cap), up to
/// [`MAX_REMEMBERED`] of them: a visit's stored state stays bounded however long it runs.
fn remember(set: &mut BTreeSet<String>, value: &str) {
    let value = super::aggregate::capped(value);
    if set.len() < MAX_REMEMBERED || set.contains(value) {
        set.insert(value.to_owned());
    }
}

fn arrival(event: &Event) -> Arrival {
    let e = &event.enrichment;
    Arrival {
        ts: event.ts,
        source: e.source.clone(),
        channel: e.channel.clone(),
        referrer: e.referrer_host.clone(),
        campaign: e.utm_campaign.clone(),
        country: e.country.clone(),
        device: e.device.clone(),
        browser: e.browser.clone(),
        os: e.os.clone(),
    }
}

/// A numeric prop of an event.
pub fn numeric_prop(event: &Event, key: &str) -> Option<f64> {
    match event.props.get(key)? {
        PropValue::Num(n) => Some(*n).filter(|v| v.is_finite()),
        _ => None,
    }
}

/// A string prop of an event.
pub fn text_prop<'a>(event: &'a Event, key: &str) -> Option<&'a str> {
    match event.props.get(key)? {
        PropValue::Str(s) => Some(s),
        _ => None,
    }
}

/// The upper-case currency of a conversion with a numeric `value`, if it is one.
pub fn conversion_currency(event: &Event) -> Option<String> {
    if !CONVERSIONS.contains(&event.name.as_str()) {
        return None;
    }
    numeric_prop(event, "value").and_then(super::aggregate::summable)?;
    crate::commerce::currency(text_prop(event, "currency")?)
}

/// Which stored visit: (site, visitor key, session key, visit number).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct VisitKey {
    /// Site id.
    pub site_id: String,
    /// Visitor key.
    pub visitor_key: String,
    /// Session key.
    pub session_key: String,
    /// Visit number within the session key (a session key idle for 30 minutes starts a new one).
    pub visit_no: u32,
}

/// A stored visit with its optimistic-concurrency version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredVisit {
    /// Key.
    pub key: VisitKey,
    /// Version as read (a write expects it unchanged and stores `version + 1`).
    pub version: u32,
    /// State.
    pub visit: Visit,
}

/// The visits of the touched visitors before and after a batch.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sessions {
    /// Every stored visit of the touched visitors, as read.
    pub before: BTreeMap<VisitKey, StoredVisit>,
    /// The same visitors' visits after the batch (merged-away visits are absent).
    pub after: BTreeMap<VisitKey, Visit>,
}

impl Sessions {
    /// Visits to write: new or changed ones, with the version they expect (0 for new).
    pub fn upserts(&self) -> Vec<(VisitKey, u32, &Visit)> {
        self.after
            .iter()
            .filter(|(key, visit)| self.before.get(*key).is_none_or(|b| b.visit != **visit))
            .map(|(key, visit)| {
                (
                    key.clone(),
                    self.before.get(key).map_or(0, |b| b.version),
                    visit,
                )
            })
            .collect()
    }

    /// Visits merged into another: to delete, with the version they expect.
    pub fn deletes(&self) -> Vec<(VisitKey, u32)> {
        self.before
            .iter()
            .filter(|(key, _)| !self.after.contains_key(*key))
            .map(|(key, stored)| (key.clone(), stored.version))
            .collect()
    }
}

/// Places every new event in a visit. `existing` must hold every stored visit of the events'
/// visitors (the aggregate stage counts unique visitors from them).
pub fn sessionise(existing: Vec<StoredVisit>, events: &[Event]) -> Sessions {
    let before: BTreeMap<VisitKey, StoredVisit> =
        existing.into_iter().map(|s| (s.key.clone(), s)).collect();
    let mut after: BTreeMap<VisitKey, Visit> = before
        .iter()
        .map(|(k, s)| (k.clone(), s.visit.clone()))
        .collect();
    let mut order: Vec<&Event> = events.iter().collect();
    order.sort_by(|a, b| (a.ts, &a.event_id).cmp(&(b.ts, &b.event_id)));
    for event in order {
        // The session's visits: one range of the keys (site, visitor, session, visit number).
        let mut key = VisitKey {
            site_id: event.site_id.clone(),
            visitor_key: event.visitor_key.clone(),
            session_key: event.session_key.clone(),
            visit_no: 0,
        };
        let session = after.range(&key..).take_while(|(k, _)| {
            k.site_id == event.site_id
                && k.visitor_key == event.visitor_key
                && k.session_key == event.session_key
        });
        let mut reached: Vec<VisitKey> = Vec::new();
        let mut next_no = 0;
        for (k, v) in session {
            next_no = k.visit_no + 1;
            if v.reaches(event.ts) {
                reached.push(k.clone());
            }
        }
        match reached.split_first() {
            None => {
                key.visit_no = next_no;
                after.insert(key, Visit::start(event));
            }
            Some((first, rest)) => {
                // The event bridges the gap between visits: they become one.
                for key in rest {
                    if let Some(other) = after.remove(key) {
                        if let Some(visit) = after.get_mut(first) {
                            visit.absorb(other);
                        }
                    }
                }
                if let Some(visit) = after.get_mut(first) {
                    visit.add(event);
                }
            }
        }
    }
    Sessions { before, after }
}

/// Convenience for tests and the traffic generator: is `name` a pageview?
pub fn is_pageview(name: &str) -> bool {
    name == PAGEVIEW
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::ingest::enrich::Enrichment;

    pub(crate) fn ev(id: &str, session: &str, ts_min: i64, name: &str, path: &str) -> Event {
        Event {
            site_id: "s".into(),
            event_id: id.into(),
            ts: ts_min * 60_000,
            received_at: 0,
            name: name.into(),
            hostname: "x".into(),
            path: path.into(),
            enrichment: Enrichment {
                source: Some(format!("src-{id}")),
                ..Enrichment::default()
            },
            visitor_key: "v".into(),
            session_key: session.into(),
            props: Default::default(),
            order_id: None,
            lost: 0,
            server: false,
            user_id: None,
        }
    }

    #[test]
    fn idle_gaps_split_visits_and_late_events_bridge_them() {
        let first = sessionise(
            vec![],
            &[
                ev("a", "s1", 0, "pageview", "/a"),
                ev("c", "s1", 50, "pageview", "/c"),
            ],
        );
        assert_eq!(first.after.len(), 2, "50 minutes apart: two visits");
        let stored: Vec<StoredVisit> = first
            .after
            .iter()
            .map(|(k, v)| StoredVisit {
                key: k.clone(),
                version: 1,
                visit: v.clone(),
            })
            .collect();
        let second = sessionise(stored, &[ev("b", "s1", 25, "cart_add", "/b")]);
        assert_eq!(second.after.len(), 1, "an event at 25 minutes joins them");
        let visit = second.after.values().next().unwrap();
        assert_eq!((visit.pageviews, visit.interactive), (2, 1));
        assert_eq!(visit.entry.as_ref().unwrap().1, "/a");
        assert_eq!(visit.exit.as_ref().unwrap().1, "/c");
        assert_eq!(visit.duration(), 50 * 60_000);
        assert_eq!(visit.arrival.source.as_deref(), Some("src-a"));
        assert_eq!(second.deletes().len(), 1);
        assert_eq!(second.upserts().len(), 1);
    }

    /// The visits after a batch as the next batch reads them back from storage.
    pub(crate) fn stored_after(sessions: Sessions) -> Vec<StoredVisit> {
        sessions
            .after
            .into_iter()
            .map(|(key, visit)| StoredVisit {
                key,
                version: 1,
                visit,
            })
            .collect()
    }

    #[test]
    fn out_of_order_events_give_the_same_visit() {
        let events = [
            ev("a", "s1", 0, "pageview", "/a"),
            ev("b", "s1", 5, "pageview", "/b"),
            ev("c", "s1", 9, "web_vital", "/b"),
        ];
        let all = sessionise(vec![], &events);
        let reversed: Vec<Event> = events.iter().rev().cloned().collect();
        // Delivered one by one, newest first, each batch seeing what the last one stored.
        let mut stored: Vec<StoredVisit> = vec![];
        for e in &reversed {
            stored = stored_after(sessionise(stored, std::slice::from_ref(e)));
        }
        assert_eq!(stored.len(), 1);
        assert_eq!(Some(&stored[0].visit), all.after.values().next());
        assert!(!stored[0].visit.bounced());
        let single = sessionise(vec![], &[ev("x", "s2", 0, "pageview", "/x")]);
        assert!(single.after.values().next().unwrap().bounced());
    }
}
