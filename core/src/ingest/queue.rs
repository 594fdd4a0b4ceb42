//! Stage: buffer. The queue message between the collector (which makes one per beacon, after every
//! stage that needs the request) and the consumer (which stores it).
//!
//! A beacon's events share their site, receive time, visitor and visit keys and sender (country,
//! browser, OS, device), and mostly a few pages: a message says each of those once ([`Queued`], v2)
//! and the consumer expands it into [`Event`] rows. Writing them once per event made the message
//! ~27 KB for 50 events and its serialisation a quarter of the collector's CPU per beacon.
//! Props travel as a JSON object inside the message (v3; v2 wrote them as a string, escaped twice:
//! a body of backslashes grew fourfold), and a message longer than Queues' limit is split by
//! events into parts that fit ([`Queued::encode_parts`]).
//! Must not: hold anything an [`Event`] may not hold (no IP, no user agent).

use serde::{Deserialize, Serialize};

use super::enrich::{self, Enrichment};
use super::{Event, Props};

/// Version of [`Queued`]. A consumer also reads version 2 (props as a JSON string), so messages
/// enqueued before an upgrade are stored, not dead-lettered.
pub const QUEUE_VERSION: u32 = 3;

/// Queues' limit on one message (128 KB), less room for the platform's own envelope.
pub const MAX_MESSAGE_BYTES: usize = 120 * 1024;

/// One queue message: the events of one beacon.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Queued {
    /// [`QUEUE_VERSION`].
    pub v: u32,
    /// Site id.
    pub site: String,
    /// Receive time, ms since the epoch.
    pub received_at: i64,
    /// Keyed, salted hash identifying the visitor for one day.
    pub visitor_key: String,
    /// Keyed, salted hash identifying the visit.
    pub session_key: String,
    /// Country, browser, OS and device class (the other fields are empty).
    pub sender: Enrichment,
    /// Sent by a server with the site's write token (`POST /api/sites/{site}/events`); absent
    /// for a browser's beacon (and in messages from before it existed).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub server: bool,
    /// The beacon's user id, only when its site forwards to GA4 (its `user_id`; never stored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// Events the collector dropped (this beacon's, and those its isolate held from beacons with
    /// nothing accepted: core's `ops::DropBuffer`), as (site, reason code, count), counted by the
    /// consumer (`GET /metrics`). On the first part only of a message cut in parts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dropped: Vec<(String, String, u32)>,
    /// The distinct pages of the beacon's events.
    pub pages: Vec<Page>,
    /// The events.
    pub events: Vec<Item>,
}

/// A page (and the referrer it was reached from) one or more events of a beacon share.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page {
    /// Page host, lower case.
    pub host: String,
    /// Page path, scrubbed, without query string.
    pub path: String,
    /// Referrer, source, channel and UTM tags (the sender's fields are empty).
    pub tags: Enrichment,
}

/// One event of a message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    /// Client-made unique id.
    pub id: String,
    /// Event time, ms since the epoch.
    pub ts: i64,
    /// Event name.
    pub name: String,
    /// Index of its page in [`Queued::pages`].
    pub page: usize,
    /// Custom properties, PII removed; absent when empty. (Version 2 wrote a JSON string.)
    #[serde(
        default,
        skip_serializing_if = "Props::is_empty",
        deserialize_with = "props_of_any_version"
    )]
    pub props: Props,
    /// A conversion's `order_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    /// Events the sender's browser dropped unsent (on the beacon's first event only).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub lost: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// Props as version 3 writes them (an object) or version 2 did (the object's JSON text).
fn props_of_any_version<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Props, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum AnyProps {
        Object(Props),
        Text(String),
    }
    match AnyProps::deserialize(d)? {
        AnyProps::Object(props) => Ok(props),
        AnyProps::Text(text) => serde_json::from_str(&text).map_err(serde::de::Error::custom),
    }
}

/// The delay before a failed message is tried again, in whole seconds: about as long as the
/// message has already waited (so delays double from try to try), with equal jitter (between half
/// and all of it, `jitter` in `[0, 1)`), at least 1 s and at most `max_s`. Derived from the
/// message's age rather than a try count, which the platform does not hand the worker.
pub fn retry_delay_s(age_ms: i64, max_s: u32, jitter: f64) -> u32 {
    let age_s = (age_ms.max(0) / 1000).clamp(1, i64::from(max_s.max(1))) as f64;
    let delay = age_s / 2.0 + jitter.clamp(0.0, 1.0) * age_s / 2.0;
    (delay.round() as u32).clamp(1, max_s.max(1))
}

/// Why a beacon's events cannot be enqueued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TooLarge;

impl Queued {
    /// The number of events in the message.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// True when the message holds no event.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// The message's text, as it is sent to the queue.
    pub fn encode(&self) -> String {
        serde_json::to_string(self).expect("a queue message always serialises")
    }

    /// The message's text in parts of at most `max` bytes each: the whole message when it fits,
    /// else its events halved (each part with only the pages its events use) until every part
    /// fits. `Err` when one event alone cannot fit, so nothing is enqueued.
    pub fn encode_parts(&self, max: usize) -> Result<Vec<String>, TooLarge> {
        let text = self.encode();
        if text.len() <= max {
            return Ok(vec![text]);
        }
        if self.events.len() < 2 {
            return Err(TooLarge);
        }
        let (first, second) = self.events.split_at(self.events.len() / 2);
        let mut parts = self.with_events(first).encode_parts(max)?;
        let mut rest = self.with_events(second);
        rest.dropped.clear(); // counted once, with the first part
        parts.extend(rest.encode_parts(max)?);
        Ok(parts)
    }

    /// This message with only `events`, and only the pages they use (re-indexed).
    fn with_events(&self, events: &[Item]) -> Queued {
        let mut used: Vec<usize> = events.iter().map(|e| e.page).collect();
        used.sort_unstable();
        used.dedup();
        Queued {
            v: self.v,
            site: self.site.clone(),
            received_at: self.received_at,
            visitor_key: self.visitor_key.clone(),
            session_key: self.session_key.clone(),
            sender: self.sender.clone(),
            server: self.server,
            user_id: self.user_id.clone(),
            dropped: self.dropped.clone(),
            pages: used
                .iter()
                .filter_map(|&p| self.pages.get(p).cloned())
                .collect(),
            events: events
                .iter()
                .map(|e| Item {
                    // Every page index is in `used`: the search always finds it.
                    page: used.binary_search(&e.page).unwrap_or(usize::MAX),
                    ..e.clone()
                })
                .collect(),
        }
    }

    /// Reads a message of version 3 or 2 into the rows to store; `None` for anything else (and for
    /// a message whose event points at a page it does not have).
    pub fn decode(text: &str) -> Option<Vec<Event>> {
        Queued::read(text).map(|(events, _)| events)
    }

    /// Reads a message as [`Queued::decode`] does, with the collector's drops it carries, per
    /// (site, reason).
    pub fn read(text: &str) -> Option<(Vec<Event>, crate::ops::Drops)> {
        let mut queued = serde_json::from_str::<Queued>(text).ok()?;
        if queued.v != QUEUE_VERSION && queued.v != 2 {
            return None;
        }
        let mut drops = crate::ops::Drops::new();
        for (site, reason, n) in std::mem::take(&mut queued.dropped) {
            *drops.entry((site, reason)).or_default() += u64::from(n);
        }
        Some((queued.into_events()?, drops))
    }

    /// The rows to store, each with every field written out.
    pub fn into_events(self) -> Option<Vec<Event>> {
        let Queued {
            site,
            received_at,
            visitor_key,
            session_key,
            sender,
            server,
            user_id,
            pages,
            events,
            ..
        } = self;
        events
            .into_iter()
            .map(|item| {
                let page = pages.get(item.page)?;
                Some(Event {
                    site_id: site.clone(),
                    event_id: item.id,
                    ts: item.ts,
                    received_at,
                    name: item.name,
                    hostname: page.host.clone(),
                    path: page.path.clone(),
                    enrichment: enrich::merge(page.tags.clone(), sender.clone()),
                    visitor_key: visitor_key.clone(),
                    session_key: session_key.clone(),
                    props: item.props,
                    order_id: item.order_id,
                    lost: item.lost,
                    server,
                    user_id: user_id.clone(),
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message() -> Queued {
        Queued {
            v: QUEUE_VERSION,
            site: "demo".into(),
            received_at: 7,
            visitor_key: "vk".into(),
            session_key: "sk".into(),
            sender: Enrichment {
                country: Some("DE".into()),
                browser: Some("Firefox".into()),
                ..Enrichment::default()
            },
            server: false,
            user_id: None,
            dropped: Vec::new(),
            pages: vec![Page {
                host: "shop.example".into(),
                path: "/".into(),
                tags: Enrichment {
                    source: Some("Google".into()),
                    ..Enrichment::default()
                },
            }],
            events: vec![Item {
                id: "e1".into(),
                ts: 5,
                name: "purchase".into(),
                page: 0,
                props: Props::from([("value".into(), crate::wire::PropValue::Num(3.0))]),
                order_id: Some("o-1".into()),
                lost: 4,
            }],
        }
    }

    #[test]
    fn a_message_expands_into_full_rows_and_v2_still_reads() {
        let events = Queued::decode(&message().encode()).unwrap();
        assert_eq!(events.len(), 1);
        let e = &events[0];
        assert_eq!((e.site_id.as_str(), e.received_at), ("demo", 7));
        assert_eq!(
            (e.hostname.as_str(), e.path.as_str()),
            ("shop.example", "/")
        );
        assert_eq!(e.enrichment.source.as_deref(), Some("Google"));
        assert_eq!(e.enrichment.country.as_deref(), Some("DE"));
        assert_eq!(e.enrichment.browser.as_deref(), Some("Firefox"));
        assert_eq!(e.order_id.as_deref(), Some("o-1"));
        assert_eq!(e.lost, 4);
        let v2 = message()
            .encode()
            .replace(r#""v":3"#, r#""v":2"#)
            .replace(r#""props":{"value":3.0}"#, r#""props":"{\"value\":3.0}""#);
        assert!(
            v2.contains(r#""v":2"#) && v2.contains(r#"\"value\""#),
            "{v2}"
        );
        assert_eq!(Queued::decode(&v2).unwrap(), events);
    }

    /// The drops of several parts, summed.
    trait Concat {
        fn concat_counts(self) -> crate::ops::Drops;
    }

    impl Concat for Vec<crate::ops::Drops> {
        fn concat_counts(self) -> crate::ops::Drops {
            let mut all = crate::ops::Drops::new();
            for (key, n) in self.into_iter().flatten() {
                *all.entry(key).or_default() += n;
            }
            all
        }
    }

    #[test]
    fn props_are_escaped_once_and_long_messages_split_into_parts_that_fit() {
        // 60 KB of backslashes in one prop: the message holds each once, escaped once.
        let mut big = message();
        big.events[0].props = Props::from([(
            "note".into(),
            crate::wire::PropValue::Str("\\".repeat(15_000)),
        )]);
        let text = big.encode();
        assert!(text.len() < 61_000, "{}", text.len());
        // 40 such events (two pages) make a message over the limit: parts, each fitting, same rows.
        let mut many = message();
        many.pages.push(Page {
            host: "shop.example".into(),
            path: "/two".into(),
            tags: Enrichment::default(),
        });
        many.events = (0..40)
            .map(|i| Item {
                id: format!("e{i}"),
                page: i % 2,
                props: Props::from([(
                    "note".into(),
                    crate::wire::PropValue::Str("x".repeat(8_000)),
                )]),
                ..message().events[0].clone()
            })
            .collect();
        many.dropped = vec![
            ("demo".to_owned(), "bot".to_owned(), 1),
            ("blog".to_owned(), "invalid_url".to_owned(), 2),
        ];
        let parts = many.encode_parts(MAX_MESSAGE_BYTES).unwrap();
        assert!(parts.len() >= 3, "{}", parts.len());
        let drops: Vec<crate::ops::Drops> =
            parts.iter().map(|p| Queued::read(p).unwrap().1).collect();
        assert_eq!(
            drops.concat_counts(),
            crate::ops::Drops::from([
                (("demo".into(), "bot".into()), 1),
                (("blog".into(), "invalid_url".into()), 2)
            ]),
            "the collector's drops ride on one part only"
        );
        assert!(parts.iter().all(|p| p.len() <= MAX_MESSAGE_BYTES));
        let rows: Vec<Event> = parts
            .iter()
            .flat_map(|p| Queued::decode(p).unwrap())
            .collect();
        assert_eq!(rows, many.clone().into_events().unwrap());
        assert_eq!(
            many.encode_parts(1_000),
            Err(TooLarge),
            "one event alone is too big"
        );
    }

    #[test]
    fn retries_back_off_exponentially_with_jitter_up_to_a_cap() {
        // Tries at the ages each delay leads to: the delays about double.
        let mut age = 0;
        let mut delays = vec![];
        for _ in 0..12 {
            let d = retry_delay_s(age, 300, 0.99);
            delays.push(d);
            age += i64::from(d) * 1000;
        }
        assert_eq!(&delays[..6], [1, 1, 2, 4, 8, 16]);
        assert!(
            delays[11] >= 290 && delays.iter().all(|&d| d <= 300),
            "capped: {delays:?}"
        );
        let total: u32 = delays[..10].iter().sum();
        assert!(total > 480, "ten tries span over eight minutes: {total} s");
        assert_eq!(
            retry_delay_s(60_000, 300, 0.0),
            30,
            "half of the age, at least"
        );
        assert_eq!(retry_delay_s(-5, 0, 0.5), 1);
    }

    #[test]
    fn unreadable_messages_are_refused() {
        let mut dangling = message();
        dangling.events[0].page = 1;
        assert_eq!(Queued::decode(&dangling.encode()), None);
        let mut future = message();
        future.v = 4;
        assert_eq!(Queued::decode(&future.encode()), None);
        assert_eq!(Queued::decode(r#"{"v":2,"events":[]}"#), None);
        assert_eq!(Queued::decode("not json"), None);
    }
}
