//! Stage: consume — the queue consumer's whole computation, as one pure step between its two reads
//! and its write. Input: a batch's events, what storage holds of them ([`Known`]: event and order
//! ids, the visitors' stored visits as text, the sites' time zones) and then the touched rollup days'
//! parts as text ([`parts`]). Output: a [`Write`]: the new events, the visits and days to write (already serialised,
//! each with the version its guard expects), and the stored rows that could not be read, set aside.
//! Stages, in order: read back (stored text → visits and days; what cannot be read is set aside, so
//! it never blocks a site) → de-duplicate → staff apart → sessionise → aggregate → roll → split
//! into parts → forward (the new events each site forwards, into the outbox).
//! Must not: do I/O; write a figure that does not read back (every amount is finite).

use std::collections::{BTreeMap, BTreeSet};

use super::aggregate::{self, Day, Deltas};
use super::dedupe::{self, EventKey, OrderKey};
use super::parts;
use super::sessionise::{self, Sessions, StoredVisit, Visit, VisitKey};
use super::Event;
use crate::forward::{self, Forwarding};
use crate::zone::Zone;

/// A stored row as storage read it: its key, its version, its JSON text.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored<K> {
    /// The row's key.
    pub key: K,
    /// Its version (the guard's).
    pub version: u32,
    /// Its JSON text.
    pub text: String,
}

/// A rollup day's key: (site, local day number).
pub type DayKey = (String, i64);

/// What storage holds of a batch (first read).
#[derive(Debug, Default)]
pub struct Known {
    /// Stored event ids.
    pub events: BTreeSet<EventKey>,
    /// Stored conversion orders.
    pub orders: BTreeSet<OrderKey>,
    /// Every stored visit of the batch's visitors.
    pub visits: Vec<Stored<VisitKey>>,
    /// Time zones of the batch's sites.
    pub zones: BTreeMap<String, Zone>,
    /// The batch's sites' forwarding to GA4 and Umami (a site absent forwards nothing).
    pub forwarding: BTreeMap<String, Forwarding>,
}

/// A stored row that could not be read: moved out of the way (kept, counted), never retried.
#[derive(Debug, Clone, PartialEq)]
pub struct SetAside {
    /// `visit` or `day`.
    pub kind: &'static str,
    /// Its site.
    pub site_id: String,
    /// Its key within the site, as text.
    pub key: String,
    /// The stored text, as it was.
    pub text: String,
    /// Why it could not be read.
    pub reason: String,
}

/// The batch after the first read: what is new, its visits, and the rollup deltas.
#[derive(Debug)]
pub struct Plan {
    /// New events, each once.
    pub fresh: Vec<Event>,
    /// The touched visitors' visits before and after.
    pub sessions: Sessions,
    /// Per (site, day) deltas; their keys are the days to read next.
    pub deltas: Deltas,
    /// Stored visits that could not be read, with the version they were read at.
    pub unreadable_visits: Vec<Unreadable>,
    /// The sites' forwarding, for the outbox.
    pub forwarding: BTreeMap<String, Forwarding>,
}

/// Reads back the stored visits, then de-duplicates, sessionises and aggregates the batch.
pub fn plan(batch: Vec<Event>, known: Known) -> Plan {
    let (visits, unreadable_visits) = read_back(known.visits);
    let fresh: Vec<Event> = dedupe::fresh(batch, &known.events, &known.orders)
        .into_iter()
        .map(staff_apart)
        .collect();
    let sessions = sessionise::sessionise(visits, &fresh);
    let zones = known.zones;
    let zone_of = |site: &str| zones.get(site).copied().unwrap_or(Zone::named("UTC"));
    let deltas = aggregate::deltas(&sessions, &fresh, &zone_of);
    Plan {
        fresh,
        sessions,
        deltas,
        unreadable_visits,
        forwarding: known.forwarding,
    }
}

/// A stored visit that could not be read, with the version it was read at, set aside.
pub type Unreadable = (VisitKey, u32, SetAside);

/// Reads stored visits back; one that cannot be read is set aside (never allowed to block its
/// visitor).
pub fn read_back(rows: Vec<Stored<VisitKey>>) -> (Vec<StoredVisit>, Vec<Unreadable>) {
    let mut visits = Vec::new();
    let mut unreadable_visits = Vec::new();
    for row in rows {
        match serde_json::from_str::<Visit>(&row.text) {
            Ok(visit) => visits.push(StoredVisit {
                key: row.key,
                version: row.version,
                visit,
            }),
            Err(e) => {
                let aside = SetAside {
                    kind: "visit",
                    site_id: row.key.site_id.clone(),
                    key: format!(
                        "{}/{}/{}",
                        row.key.visitor_key, row.key.session_key, row.key.visit_no
                    ),
                    text: row.text,
                    reason: e.to_string(),
                };
                unreadable_visits.push((row.key, row.version, aside));
            }
        }
    }
    (visits, unreadable_visits)
}

/// What marks a staff event's session key: a session's staff events make visits of their own,
/// never sharing one with its customers' events (docs/METRICS.md), so every visit, and every
/// count made of it, is wholly one audience.
pub const STAFF_SESSION: &str = "~staff";

fn staff_apart(mut e: Event) -> Event {
    if e.internal() && !e.session_key.ends_with(STAFF_SESSION) {
        e.session_key.push_str(STAFF_SESSION);
    }
    e
}

/// A visit to write: its key, the version it will have, its times, its state as JSON.
pub type VisitRow = (VisitKey, u32, i64, i64, String);
/// A stored part of a rollup day: (site, local day, part name; see [`parts`]).
pub type PartKey = (String, i64, String);
/// A day to write: its key, the version its totals part was read at (0: new; the guard's), and
/// the parts to write as (name, JSON): the totals always, and each part the batch changed.
pub type DayRow = (DayKey, u32, Vec<(&'static str, String)>);

/// Everything one guarded transaction writes.
#[derive(Debug, Default)]
pub struct Write {
    /// New events.
    pub events: Vec<Event>,
    /// Visits read, with their versions (the guard expects them unchanged; unreadable ones too).
    pub read_visits: Vec<(VisitKey, u32)>,
    /// Visits merged away or set aside: to delete.
    pub delete_visits: Vec<VisitKey>,
    /// New and changed visits.
    pub visits: Vec<VisitRow>,
    /// New and changed rollup days.
    pub days: Vec<DayRow>,
    /// Stored rows that could not be read, to keep apart.
    pub set_aside: Vec<SetAside>,
    /// A person's erasure ([`super::erase`]); none for a queue batch.
    pub erase: Option<Erase>,
    /// The new events waiting for GA4 and Umami ([`crate::forward::outbox`]), written with them.
    pub outbox: Vec<forward::Row>,
}

/// What an erasure deletes besides visits, and guards on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Erase {
    /// The site.
    pub site: String,
    /// The person's visitor keys: the guard fails if any gained a visit since the read.
    pub visitors: Vec<String>,
    /// The ids of their raw events, deleted by key.
    pub events: Vec<String>,
    /// The site's own id of the person (`identify()`), when they are erased by it: their
    /// forwards to GA4 waiting with it are deleted too.
    pub user_id: Option<String>,
}

/// Reads back the touched days from their parts (a part that cannot be read starts empty, is set
/// aside and written anew), adds the deltas, and splits each day again: its totals part is always
/// written (its version is the day's, which the guard checks), every other part only if it changed.
pub fn write(plan: Plan, stored_parts: Vec<Stored<PartKey>>) -> Write {
    let mut set_aside: Vec<SetAside> = Vec::new();
    let mut read: BTreeMap<DayKey, (u32, Vec<(String, String)>)> = BTreeMap::new();
    for row in stored_parts {
        let (site, day, part) = row.key;
        let entry = read.entry((site, day)).or_default();
        if part == parts::TOTALS {
            entry.0 = row.version;
        }
        entry.1.push((part, row.text));
    }
    let mut stored: BTreeMap<DayKey, (u32, Day)> = BTreeMap::new();
    let mut texts: BTreeMap<DayKey, BTreeMap<String, String>> = BTreeMap::new();
    for (key, (version, list)) in read {
        let mut before: BTreeMap<String, String> = list.iter().cloned().collect();
        let (day, unreadable) = parts::join(list);
        for (part, text, reason) in unreadable {
            // Never equal to what is written next: the part is rewritten, so it is set aside once.
            before.insert(part.clone(), String::new());
            set_aside.push(SetAside {
                kind: "day",
                site_id: key.0.clone(),
                key: format!("{}/{part}", key.1),
                text,
                reason,
            });
        }
        stored.insert(key.clone(), (version, day));
        texts.insert(key, before);
    }
    let Plan {
        fresh,
        sessions,
        deltas,
        unreadable_visits,
        forwarding,
    } = plan;
    let days = aggregate::roll(stored, deltas)
        .into_iter()
        .map(|(key, version, day)| {
            let before = texts.remove(&key).unwrap_or_default();
            let mut changed: Vec<(&'static str, String)> = parts::split(&day)
                .into_iter()
                .filter(|(name, text)| *name == parts::TOTALS || before.get(*name) != Some(text))
                .collect();
            // An unreadable part the day no longer has is written empty.
            for name in parts::names() {
                if before.get(name).is_some_and(String::is_empty)
                    && !changed.iter().any(|(n, _)| *n == name)
                {
                    changed.push((name, "{}".to_owned()));
                }
            }
            (key, version, changed)
        })
        .collect();
    let mut read_visits: Vec<(VisitKey, u32)> = sessions
        .before
        .values()
        .map(|s| (s.key.clone(), s.version))
        .collect();
    let mut delete_visits: Vec<VisitKey> = sessions.deletes().into_iter().map(|(k, _)| k).collect();
    for (key, version, aside) in unreadable_visits {
        read_visits.push((key.clone(), version));
        delete_visits.push(key);
        set_aside.push(aside);
    }
    let visits = sessions
        .upserts()
        .into_iter()
        .map(|(key, version, visit)| {
            (
                key,
                version + 1,
                visit.started_at,
                visit.last_at,
                to_json(visit),
            )
        })
        .collect();
    let outbox = forward::outbox(&fresh, &forwarding);
    Write {
        events: fresh,
        read_visits,
        delete_visits,
        visits,
        days,
        set_aside,
        erase: None,
        outbox,
    }
}

/// A visit or day as JSON: these types hold only strings, integers and finite amounts, so this
/// cannot fail.
fn to_json(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// Joins JSON values into JSON arrays of at most `max_bytes` each (one value larger than that is
/// an array of its own): a list bound as one D1 parameter stays under D1's size limit.
pub fn json_arrays(values: impl IntoIterator<Item = String>, max_bytes: usize) -> Vec<String> {
    json_arrays_by(values.into_iter().map(|v| ((), v)), max_bytes)
        .into_iter()
        .map(|(_, array)| array)
        .collect()
}

/// [`json_arrays`] of keyed values, each array with the key of its first value.
pub fn json_arrays_by<K>(
    values: impl IntoIterator<Item = (K, String)>,
    max_bytes: usize,
) -> Vec<(K, String)> {
    let mut arrays: Vec<(K, String)> = Vec::new();
    let mut current: Option<(K, String)> = None;
    for (key, value) in values {
        if let Some((_, text)) = &current {
            if text.len() + value.len() + 2 > max_bytes {
                if let Some((k, mut text)) = current.take() {
                    text.push(']');
                    arrays.push((k, text));
                }
            }
        }
        match &mut current {
            Some((_, text)) => {
                text.push(',');
                text.push_str(&value);
            }
            None => current = Some((key, format!("[{value}"))),
        }
    }
    if let Some((k, mut text)) = current {
        text.push(']');
        arrays.push((k, text));
    }
    arrays
}

/// Storage as a model in memory: applies each [`Write`] as the worker's store does (events, orders,
/// visits, days, set-aside rows). For tests, the fuzzer and native benchmarks of the whole consumer
/// path; the worker uses D1.
#[derive(Debug, Default, Clone)]
pub struct InMemory {
    /// Stored event ids.
    pub events: BTreeSet<EventKey>,
    /// Stored orders.
    pub orders: BTreeSet<OrderKey>,
    /// Stored visits: key → (version, JSON).
    pub visits: BTreeMap<VisitKey, (u32, String)>,
    /// Stored rollup day parts: key → (version, JSON).
    pub days: BTreeMap<PartKey, (u32, String)>,
    /// Rows set aside.
    pub set_aside: Vec<SetAside>,
}

impl InMemory {
    /// A stored day, joined from its parts (unreadable parts left out).
    pub fn day(&self, site: &str, day: i64) -> Option<Day> {
        let parts: Vec<(String, String)> = self
            .days
            .iter()
            .filter(|((s, d, _), _)| s == site && *d == day)
            .map(|((_, _, p), (_, text))| (p.clone(), text.clone()))
            .collect();
        (!parts.is_empty()).then(|| parts::join(parts).0)
    }

    /// Runs one batch through [`plan`] and [`write`] against this storage and applies the write.
    /// Reads what the worker's store reads: the batch's stored event and order ids, and every
    /// stored visit of its visitors (a range of the keys, as in D1's primary key).
    pub fn consume(&mut self, batch: Vec<Event>) -> Write {
        let visitors: BTreeSet<(&str, &str)> = batch
            .iter()
            .map(|e| (e.site_id.as_str(), e.visitor_key.as_str()))
            .collect();
        let mut visits = Vec::new();
        for (site, visitor) in visitors {
            let first = VisitKey {
                site_id: site.to_owned(),
                visitor_key: visitor.to_owned(),
                session_key: String::new(),
                visit_no: 0,
            };
            let theirs = self
                .visits
                .range(first..)
                .take_while(|(k, _)| k.site_id == site && k.visitor_key == visitor);
            visits.extend(theirs.map(|(k, (version, text))| Stored {
                key: k.clone(),
                version: *version,
                text: text.clone(),
            }));
        }
        let known = Known {
            events: batch
                .iter()
                .map(dedupe::event_key)
                .filter(|k| self.events.contains(k))
                .collect(),
            // Every stored report of the batch's orders, whoever made it (as the store reads).
            orders: self
                .orders
                .iter()
                .filter(|k| {
                    batch
                        .iter()
                        .filter_map(dedupe::order_key)
                        .any(|o| (&o.0, &o.1, &o.2) == (&k.0, &k.1, &k.2))
                })
                .cloned()
                .collect(),
            visits,
            zones: BTreeMap::new(),
            forwarding: BTreeMap::new(),
        };
        let plan = plan(batch, known);
        let days = plan
            .deltas
            .0
            .keys()
            .flat_map(|(site, day)| parts::names().map(move |p| (site.clone(), *day, p.to_owned())))
            .filter_map(|k| {
                self.days.get(&k).map(|(version, text)| Stored {
                    key: k.clone(),
                    version: *version,
                    text: text.clone(),
                })
            })
            .collect();
        let w = write(plan, days);
        for k in &w.delete_visits {
            self.visits.remove(k);
        }
        for (k, version, _, _, text) in &w.visits {
            self.visits.insert(k.clone(), (*version, text.clone()));
        }
        for ((site, day), version, written) in &w.days {
            for (part, text) in written {
                let key = (site.clone(), *day, (*part).to_owned());
                self.days.insert(key, (version + 1, text.clone()));
            }
        }
        for e in &w.events {
            self.events.insert(dedupe::event_key(e));
            self.orders.extend(dedupe::order_key(e));
        }
        self.set_aside.extend(w.set_aside.iter().cloned());
        w
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::aggregate::{dim, MAX_DAY_BYTES, MAX_DIM_BYTES, MAX_VALUES, OTHER};
    use crate::ingest::sessionise::tests::ev;
    use crate::wire::PropValue;

    fn purchase(id: &str, value: f64) -> Event {
        let mut e = ev(id, "s1", 1, "purchase", "/t");
        e.props = [
            ("value".to_owned(), PropValue::Num(value)),
            ("currency".to_owned(), PropValue::Str("eur".into())),
        ]
        .into();
        e
    }

    /// Runs batches through plan → write as the consumer does, keeping what it writes.
    fn consume(batches: Vec<Vec<Event>>, store: &mut InMemory) -> Vec<Write> {
        batches.into_iter().map(|b| store.consume(b)).collect()
    }

    fn totals(version: u32, text: &str) -> InMemory {
        InMemory {
            days: BTreeMap::from([(
                ("s".to_owned(), 0, parts::TOTALS.to_owned()),
                (version, text.to_owned()),
            )]),
            ..InMemory::default()
        }
    }

    #[test]
    fn staff_events_make_visits_of_their_own_and_count_apart() {
        let staff = |mut e: Event| {
            e.props = [("is_internal".to_owned(), PropValue::Bool(true))].into();
            e
        };
        // One session: a customer's page, then an admin page and a test order, then another page.
        let batch = vec![
            ev("a", "s1", 0, "pageview", "/"),
            staff(ev("b", "s1", 1, "pageview", "/admin")),
            staff(purchase("c", 99.0)),
            ev("d", "s1", 3, "pageview", "/p"),
        ];
        let mut store = InMemory::default();
        let writes = consume(vec![batch.clone(), batch], &mut store);
        assert!(writes[1].events.is_empty(), "resent: nothing new");
        let day = store.day("s", 0).unwrap();
        assert_eq!(
            (day.pageviews, day.visits, day.visitors, day.bounces),
            (2, 1, 1, 0)
        );
        assert!(!day.dims[dim::PAGES].contains_key("/admin"));
        assert!(
            !day.dims.contains_key(dim::GOALS),
            "a staff test order is no conversion"
        );
        let staff = day.staff.as_deref().expect("staff counted apart");
        assert_eq!(
            (staff.pageviews, staff.visits, staff.visitors, staff.bounces),
            (1, 1, 1, 0)
        );
        assert_eq!(staff.dims[dim::GOALS]["purchase"].count, 1);
        assert!(staff.staff.is_none());
    }

    #[test]
    fn huge_amounts_cannot_poison_a_day() {
        let mut store = InMemory::default();
        consume(
            vec![
                vec![purchase("a", 1.7e308), purchase("b", 1.7e308)],
                vec![purchase("c", 12.5)],
            ],
            &mut store,
        );
        for text in store.days.values().map(|(_, t)| t) {
            serde_json::from_str::<serde_json::Value>(text).expect("what was written reads back");
        }
        let day = store.day("s", 0).unwrap();
        let revenue = &day.dims[dim::REVENUE]["EUR"];
        assert_eq!((revenue.count, revenue.amount), (1, 12.5));
        assert_eq!(day.dims[dim::GOALS]["purchase"].count, 3, "all three count");
    }

    #[test]
    fn an_unreadable_day_or_visit_is_set_aside_and_the_batch_still_counts() {
        // What an earlier build wrote for an overflowing sum: `null` reads as 0, the rest is kept.
        let mut store = totals(
            3,
            r#"{"pageviews":4,"dims":{"revenue":{"EUR":{"n":2,"a":null}}}}"#,
        );
        let w = consume(vec![vec![ev("a", "s1", 1, "pageview", "/")]], &mut store);
        assert!(w[0].set_aside.is_empty());
        let day = store.day("s", 0).unwrap();
        assert_eq!((day.pageviews, day.dims[dim::REVENUE]["EUR"].count), (5, 2));
        // A part that cannot be read at all is set aside; it starts again from this batch.
        let mut store = totals(5, "{\"pageviews\":\"x\"");
        let goals = parts::part_of(dim::GOALS).unwrap().to_owned();
        store
            .days
            .insert(("s".to_owned(), 0, goals.clone()), (5, "[".to_owned()));
        let w = consume(vec![vec![ev("b", "s2", 1, "pageview", "/")]], &mut store);
        assert_eq!(w[0].set_aside.len(), 2);
        assert_eq!(w[0].set_aside[0].kind, "day");
        assert_eq!(w[0].days[0].1, 5, "the guard expects the version read");
        assert_eq!(
            store.days[&("s".to_owned(), 0, goals)].1,
            "{}",
            "rewritten empty"
        );
        let w = consume(vec![vec![ev("c", "s2", 2, "pageview", "/")]], &mut store);
        assert!(w[0].set_aside.is_empty(), "set aside once");
        assert_eq!(store.day("s", 0).unwrap().pageviews, 2);
        let visit = Stored {
            key: VisitKey {
                site_id: "s".into(),
                visitor_key: "v".into(),
                session_key: "s3".into(),
                visit_no: 0,
            },
            version: 2,
            text: "not json".into(),
        };
        let p = plan(
            vec![ev("c", "s3", 1, "pageview", "/")],
            Known {
                visits: vec![visit.clone()],
                ..Known::default()
            },
        );
        let w = write(p, vec![]);
        assert_eq!(w.set_aside[0].kind, "visit");
        assert!(w.read_visits.contains(&(visit.key.clone(), 2)));
        assert!(w.delete_visits.contains(&visit.key));
        assert_eq!(w.visits.len(), 1, "the new event makes a visit of its own");
    }

    #[test]
    fn a_day_filled_to_every_cap_stays_under_d1s_limit() {
        // Values of the longest kept length, of characters escaped six-fold, in every dimension.
        let long = "\u{1}".repeat(2000);
        let mut day = Day::default();
        for d in parts::dimensions() {
            let mut delta = Day::default();
            let values = delta.dims.entry(d.to_owned()).or_default();
            for i in 0..MAX_VALUES * 2 {
                values.insert(
                    format!("{i}{long}"),
                    aggregate::Tally {
                        visitors: i64::MAX / 4,
                        count: i64::MAX / 4,
                        amount: -1e12 * 1e6,
                    },
                );
            }
            day.apply(&delta);
            let kept = &day.dims[d];
            assert!(kept.contains_key(OTHER) && kept.len() <= MAX_VALUES + 1);
            let key_bytes: usize = kept
                .keys()
                .map(|k| serde_json::to_string(k).unwrap().len())
                .sum();
            assert!(key_bytes <= MAX_DIM_BYTES, "{d}: {key_bytes}");
        }
        for metric in aggregate::VITALS {
            let buckets = day.vitals.entry((*metric).to_owned()).or_default();
            for b in 0..=240 {
                buckets.insert(b, i64::MAX / 4);
            }
        }
        for h in 0..24 {
            day.hours.insert(
                h,
                aggregate::Hour {
                    pageviews: i64::MAX / 4,
                    visits: i64::MAX / 4,
                    visitors: i64::MAX / 4,
                },
            );
        }
        let text = to_json(&day);
        assert!(text.len() <= MAX_DAY_BYTES, "{}", text.len());
        assert_eq!(serde_json::from_str::<Day>(&text).unwrap(), day);
    }

    #[test]
    fn json_arrays_split_by_bytes() {
        let values: Vec<String> = (0..10)
            .map(|i| format!("\"{}\"", "x".repeat(i * 10)))
            .collect();
        let arrays = json_arrays(values.clone(), 120);
        assert!(arrays.len() > 1);
        assert!(arrays.iter().all(|a| a.len() <= 120 || !a.contains(',')));
        let back: Vec<String> = arrays
            .iter()
            .flat_map(|a| serde_json::from_str::<Vec<String>>(a).unwrap())
            .collect();
        let expected: Vec<String> = values
            .iter()
            .map(|v| serde_json::from_str(v).unwrap())
            .collect();
        assert_eq!(back, expected);
        assert!(json_arrays(Vec::<String>::new(), 10).is_empty());
    }
}
