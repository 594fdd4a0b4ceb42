//! Stage: erase — one person's data out of storage, on their request (GDPR art. 17). Input: the
//! site, who the person is to it (the SDK's visitor id, or the site's user id from `identify()`),
//! the salts still kept; then their stored visits and raw events, and the rollup days those touch.
//! Output: the visitor keys to look for, and a [`Plan`] whose [`super::consume::write`] deletes
//! the visits, takes the events', visits' and visitor's counts out of the rollup days (the
//! consumer's own read-back, roll and guard), and names the raw events to delete.
//! Keys are salted per UTC day and salts are deleted after two days, so events received before the
//! oldest kept salt cannot be linked to the id by anyone — that is the privacy design — and are not
//! found. A dimension value that went to `(other)` at the day's cap is taken out of `(other)`.
//! Must not: do I/O, or keep the id anywhere in what it returns.

use std::collections::BTreeMap;

use super::aggregate;
use super::consume::{self, read_back, Erase, PartKey, Plan, Stored, Write};
use super::identify::{Identity, Ids};
use super::sessionise::{Sessions, VisitKey};
use super::Event;
use crate::zone::Zone;

/// Who a person is to a site.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Person<'a> {
    /// The SDK's random visitor id (localStorage), as the page can read it.
    Visitor(&'a str),
    /// The site's own id of a signed-in user, as passed to `identify()`.
    User(&'a str),
}

/// The person's visitor key under each kept salt: every key their events were stored under since
/// the oldest kept salt.
pub fn keys(site: &str, person: Person<'_>, salts: &[String]) -> Vec<String> {
    let ids = match person {
        Person::Visitor(id) => Ids {
            visitor: Some(id),
            ..Ids::default()
        },
        Person::User(id) => Ids {
            user: Some(id),
            ..Ids::default()
        },
    };
    let mut keys: Vec<String> = salts
        .iter()
        .map(|salt| Identity::new(salt.as_bytes(), site, ids, "", "").visitor_key)
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

/// The erasure of `visits` (every stored visit of the keys) and `events` (their raw events, read
/// before the visits) from a site in `zone`: all the visits go, and every count they and the
/// events made. `None` when the two disagree — an event of the person was stored between the
/// reads (the visits hold more pageviews, or end later, than the events say) —: read again.
pub fn plan(visits: Vec<Stored<VisitKey>>, events: Vec<Event>, zone: Zone) -> Option<Plan> {
    let (visits, unreadable_visits) = read_back(visits);
    let pageviews: u64 = visits.iter().map(|v| u64::from(v.visit.pageviews)).sum();
    let last_visit = visits.iter().map(|v| v.visit.last_at).max();
    let last_event = events.iter().map(|e| e.ts).max();
    let stored_pageviews = events.iter().filter(|e| e.is_pageview()).count() as u64;
    // Visits may hold fewer (those past retention are purged before their events), never more.
    if pageviews > stored_pageviews || last_visit.is_some_and(|l| Some(l) > last_event) {
        return None;
    }
    let sessions = Sessions {
        before: visits.into_iter().map(|v| (v.key.clone(), v)).collect(),
        after: BTreeMap::new(),
    };
    let deltas = aggregate::erasure(&sessions, &events, &|_| zone);
    Some(Plan {
        fresh: Vec::new(),
        sessions,
        deltas,
        unreadable_visits,
        forwarding: BTreeMap::new(),
    })
}

/// The guarded write of an erasure `plan` of `events` (the consumer's [`write`], over the read
/// `days`): it deletes the raw events by key and guards on every key (`keys`: a visit of the
/// person stored meanwhile fails it), and keeps none of the person's visits aside, even one that
/// cannot be read (a rollup day's unreadable part holds nobody and is kept as usual).
pub fn write(
    plan: Plan,
    days: Vec<Stored<PartKey>>,
    site: &str,
    keys: Vec<String>,
    events: &[Event],
    user_id: Option<&str>,
) -> Write {
    let mut w = consume::write(plan, days);
    w.set_aside.retain(|a| a.kind != "visit");
    w.erase = Some(Erase {
        site: site.to_owned(),
        visitors: keys,
        events: events.iter().map(|e| e.event_id.clone()).collect(),
        user_id: user_id.map(str::to_owned),
    });
    w
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::consume::InMemory;
    use crate::ingest::sessionise::tests::ev;

    #[test]
    fn keys_are_the_persons_under_each_salt_and_nobody_elses() {
        let salts = ["s1".to_owned(), "s2".to_owned()];
        let visitor = keys("shop", Person::Visitor("v-1"), &salts);
        assert_eq!(visitor.len(), 2);
        let page = Identity::new(
            b"s2",
            "shop",
            Ids {
                visitor: Some("v-1"),
                session: Some("x"),
                ..Ids::default()
            },
            "203.0.113.0",
            "ua",
        );
        assert!(visitor.contains(&page.visitor_key), "the page's own key");
        assert_ne!(keys("shop", Person::User("v-1"), &salts), visitor);
        assert_ne!(keys("blog", Person::Visitor("v-1"), &salts), visitor);
        assert!(!format!("{visitor:?}").contains("v-1"));
    }

    #[test]
    fn an_event_stored_between_the_reads_makes_them_read_again() {
        let mut m = InMemory::default();
        let e1 = ev("e1", "s", 0, "pageview", "/");
        let e2 = ev("e2", "s", 1, "pageview", "/b");
        m.consume(vec![e1.clone(), e2.clone()]);
        let visits = || -> Vec<Stored<VisitKey>> {
            m.visits
                .iter()
                .map(|(k, (version, text))| Stored {
                    key: k.clone(),
                    version: *version,
                    text: text.clone(),
                })
                .collect()
        };
        let zone = Zone::named("UTC");
        assert!(
            plan(visits(), vec![e1.clone()], zone).is_none(),
            "e2 came after the events were read"
        );
        assert!(plan(visits(), vec![e1, e2], zone).is_some());
    }

    #[test]
    fn erasing_a_visitor_takes_exactly_their_counts_out_of_the_days() {
        // Two visitors on one day: `a` with two pageviews and a purchase, `b` with one pageview.
        let visitor = |mut e: Event, who: &str| {
            e.visitor_key = who.to_owned();
            e
        };
        let mut buy = ev("a3", "sa", 2, "purchase", "/thanks");
        buy.props
            .insert("value".into(), crate::wire::PropValue::Num(30.0));
        buy.props
            .insert("currency".into(), crate::wire::PropValue::Str("EUR".into()));
        let a = vec![
            visitor(ev("a1", "sa", 0, "pageview", "/"), "a"),
            visitor(ev("a2", "sa", 1, "pageview", "/shoes"), "a"),
            visitor(buy, "a"),
        ];
        let b = vec![visitor(ev("b1", "sb", 0, "pageview", "/"), "b")];
        let mut with_both = InMemory::default();
        with_both.consume(a.iter().chain(&b).cloned().collect());
        let mut only_b = InMemory::default();
        only_b.consume(b.clone());

        // Erase `a`: their stored visits and events, as the store reads them.
        let site = a[0].site_id.clone();
        let visits: Vec<Stored<VisitKey>> = with_both
            .visits
            .iter()
            .filter(|(k, _)| k.visitor_key == "a")
            .map(|(k, (version, text))| Stored {
                key: k.clone(),
                version: *version,
                text: text.clone(),
            })
            .collect();
        let plan = plan(visits, a.clone(), Zone::named("UTC")).expect("consistent reads");
        let days: Vec<Stored<_>> = plan
            .deltas
            .0
            .keys()
            .flat_map(|(s, d)| {
                with_both
                    .days
                    .iter()
                    .filter(move |((ks, kd, _), _)| ks == s && kd == d)
                    .map(|(k, (version, text))| Stored {
                        key: k.clone(),
                        version: *version,
                        text: text.clone(),
                    })
            })
            .collect();
        let w = write(plan, days, &site, vec!["a".into()], &a, None);
        assert_eq!(w.erase.as_ref().map(|e| e.events.len()), Some(3));
        let before = with_both.clone();
        assert_eq!(w.delete_visits.len(), 1);
        assert!(w.visits.is_empty() && w.events.is_empty());
        for ((s, day), version, parts) in &w.days {
            for (part, text) in parts {
                with_both.days.insert(
                    (s.clone(), *day, (*part).to_owned()),
                    (version + 1, text.clone()),
                );
            }
        }
        let day = |m: &InMemory| {
            let d = m.days.keys().map(|(_, d, _)| *d).next().unwrap();
            m.day(&site, d).unwrap()
        };
        let (erased, expected) = (day(&with_both), day(&only_b));
        assert_eq!((day(&before).pageviews, erased.pageviews), (3, 1));
        assert_eq!(
            (
                erased.pageviews,
                erased.visitors,
                erased.visits,
                erased.bounces
            ),
            (
                expected.pageviews,
                expected.visitors,
                expected.visits,
                expected.bounces
            )
        );
        assert_eq!(erased.duration_ms, expected.duration_ms);
        let count = |d: &aggregate::Day, dim: &str, value: &str| {
            d.dims
                .get(dim)
                .and_then(|v| v.get(value))
                .map_or(0, |t| t.count)
        };
        for (dim, value) in [
            ("pages", "/"),
            ("pages", "/shoes"),
            ("goals", "purchase"),
            ("revenue", "EUR"),
        ] {
            assert_eq!(
                count(&erased, dim, value),
                count(&expected, dim, value),
                "{dim} {value}"
            );
        }
    }
}
