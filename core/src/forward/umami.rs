//! Umami (`POST {UMAMI_HOST}/api/batch`): one stored event mapped to the payload of Umami's
//! `/api/send` ([`map`]: a pageview has no `name`, any other event its name and props as `data`),
//! and the batches a site's waiting events make ([`requests`]: at most [`MAX_EVENTS`] each, every
//! one `{"type":"event","payload":{…,"website"}}`). The visitor key is the payload's `id`
//! (Umami's session identifier); staff traffic carries `is_internal: true` in its data.
//! Must not: send the visitor's IP or user agent (the delivery's `User-Agent` is a fixed
//! browser-like one, [`USER_AGENT`], since Umami drops requests it takes for bots), or a private
//! prop ([`super::private`]).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{cut, private};
use crate::ingest::Event;
use crate::wire::PropValue;

/// Most events a batch carries.
pub const MAX_EVENTS: usize = 20;
/// Longest event name Umami keeps.
pub const MAX_NAME: usize = 50;
/// Longest URL Umami keeps.
pub const MAX_URL: usize = 500;
/// Longest text data value.
pub const MAX_VALUE: usize = 500;
/// Most data keys an event carries.
pub const MAX_DATA: usize = 50;

/// The `User-Agent` every delivery sends: a browser's shape, naming Sightline (Umami's bot check
/// refuses agents it does not take for browsers). Never the visitor's.
pub const USER_AGENT: &str =
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36 Sightline/1";

/// One event waiting for Umami, as its outbox row holds it: the payload without `website`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    /// Page host.
    pub hostname: String,
    /// Page path.
    pub url: String,
    /// The referring site, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referrer: Option<String>,
    /// Event name; none for a pageview.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Props.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub data: Map<String, Value>,
    /// The visitor key.
    pub id: String,
    /// When it happened, seconds since the epoch.
    pub timestamp: i64,
}

/// Maps a stored event to Umami's payload.
pub fn map(event: &Event) -> Item {
    let mut data = Map::new();
    for (key, value) in private(event).take(MAX_DATA) {
        let value = match value {
            PropValue::Str(s) => Value::String(cut(s, MAX_VALUE)),
            PropValue::Num(n) => {
                serde_json::Number::from_f64(*n).map_or(Value::Null, Value::Number)
            }
            PropValue::Bool(b) => Value::Bool(*b),
        };
        data.insert(cut(key, MAX_NAME), value);
    }
    Item {
        hostname: cut(&event.hostname, 100),
        url: cut(&event.path, MAX_URL),
        referrer: event
            .enrichment
            .referrer_host
            .as_ref()
            .map(|h| cut(&format!("https://{h}/"), MAX_URL)),
        name: (!event.is_pageview()).then(|| cut(&event.name, MAX_NAME)),
        data: if event.is_pageview() {
            Map::new()
        } else {
            data
        },
        id: event.visitor_key.clone(),
        timestamp: event.ts.div_euclid(1000),
    }
}

/// One `/api/batch` request: the outbox ids it delivers and its JSON body.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// The event ids it carries.
    pub ids: Vec<String>,
    /// The body (an array of `/api/send` bodies).
    pub body: Value,
}

/// The batches that deliver `items` (event id, item) to Umami website `website`.
pub fn requests(website: &str, items: Vec<(String, Item)>) -> Vec<Request> {
    items
        .chunks(MAX_EVENTS)
        .map(|chunk| Request {
            ids: chunk.iter().map(|(id, _)| id.clone()).collect(),
            body: Value::Array(
                chunk
                    .iter()
                    .map(|(_, item)| {
                        let mut payload = match serde_json::to_value(item) {
                            Ok(Value::Object(map)) => map,
                            _ => Map::new(),
                        };
                        payload.insert("website".into(), Value::String(website.into()));
                        serde_json::json!({"type": "event", "payload": payload})
                    })
                    .collect(),
            ),
        })
        .collect()
}
