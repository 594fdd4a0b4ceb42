//! Stage: buffer. The queue message between the collector (which makes one per beacon, after every
//! stage that needs the request) and the consumer (which stores it).
//!
//! A beacon's events share their site, receive time, visitor and visit keys and sender (country,
//! browser, OS, device), and mostly a few pages: a message says each of those once ([`Queued`], v2)
//! and the consumer expands it into [`Event`] rows. Writing them once per event made the message
//! ~27 KB for 50 events and its serialisation a quarter of the collector's CPU per beacon.
//! Must not: hold anything an [`Event`] may not hold (no IP, no user agent).

use serde::{Deserialize, Serialize};

use super::enrich::{self, Enrichment};
use super::Event;

/// Version of [`Queued`]. A consumer also reads version 1 (a plain list of [`Event`]s), so
/// messages enqueued before an upgrade are stored, not dead-lettered.
pub const QUEUE_VERSION: u32 = 2;

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
    /// Custom properties as a JSON object, PII removed; absent when empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub props: Option<String>,
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

/// The version 1 message: every field written out per event.
#[derive(Deserialize)]
struct Legacy {
    v: u32,
    events: Vec<Event>,
}

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

    /// Reads a message of version 2 or 1 into the rows to store; `None` for anything else (and for
    /// a v2 message whose event points at a page it does not have).
    pub fn decode(text: &str) -> Option<Vec<Event>> {
        if let Ok(queued) = serde_json::from_str::<Queued>(text) {
            return (queued.v == QUEUE_VERSION)
                .then(|| queued.into_events())
                .flatten();
        }
        serde_json::from_str::<Legacy>(text)
            .ok()
            .filter(|legacy| legacy.v == 1)
            .map(|legacy| legacy.events)
    }

    /// The rows to store, each with every field written out.
    pub fn into_events(self) -> Option<Vec<Event>> {
        let Queued {
            site,
            received_at,
            visitor_key,
            session_key,
            sender,
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
                    props_json: item.props.unwrap_or_else(|| "{}".to_owned()),
                    order_id: item.order_id,
                    lost: item.lost,
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
                props: Some(r#"{"value":3.0}"#.into()),
                order_id: Some("o-1".into()),
                lost: 4,
            }],
        }
    }

    #[test]
    fn a_message_expands_into_full_rows_and_v1_still_reads() {
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
        let v1 = serde_json::json!({"v": 1, "events": events}).to_string();
        assert_eq!(Queued::decode(&v1).unwrap(), events);
    }

    #[test]
    fn unreadable_messages_are_refused() {
        let mut dangling = message();
        dangling.events[0].page = 1;
        assert_eq!(Queued::decode(&dangling.encode()), None);
        let mut future = message();
        future.v = 3;
        assert_eq!(Queued::decode(&future.encode()), None);
        assert_eq!(Queued::decode(r#"{"v":2,"events":[]}"#), None);
        assert_eq!(Queued::decode("not json"), None);
    }
}
