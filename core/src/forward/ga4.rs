//! GA4's Measurement Protocol (`POST {GA4_ENDPOINT}/mp/collect?measurement_id&api_secret`): one
//! stored event mapped to a GA4 event ([`map`]), and the requests a target's waiting events make
//! ([`requests`]: one client a request, at most [`MAX_EVENTS`] events each).
//!
//! Names map to GA4's recommended events where one fits (orders → `purchase` with
//! `transaction_id`, `value`, `currency` and `items`; `signup_completed` → `sign_up`;
//! `login_completed` → `login`; `search` → `search` with `search_term`; pageviews → `page_view`);
//! every other name, and every param name, is made snake_case letters, digits and underscores,
//! starting with a letter, at most [`MAX_NAME`] characters, clear of GA4's reserved names and
//! prefixes ([`name`]). At most [`MAX_PARAMS`] params an event, text values at most
//! [`MAX_VALUE`] characters (the page's URL and referrer have GA4's longer limits). The visitor
//! key is the `client_id`, the site's own id of a signed-in visitor the `user_id`; staff traffic carries `traffic_type: internal` (GA4's filter for
//! internal traffic); ads consent is denied (Sightline sends no ads data).
//! Must not: send the visitor's IP or user agent (the request carries neither), or a private prop
//! ([`super::private`]).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{cut, page_url, private};
use crate::ingest::Event;
use crate::wire::PropValue;

/// Most events a request carries.
pub const MAX_EVENTS: usize = 25;
/// Most bytes of a request's events (GA4 takes a body of at most 130 000 bytes).
pub const MAX_BODY_BYTES: usize = 120_000;
/// Most params an event carries.
pub const MAX_PARAMS: usize = 25;
/// Longest event or param name.
pub const MAX_NAME: usize = 40;
/// Longest text param value.
pub const MAX_VALUE: usize = 100;
/// Longest `page_location`.
pub const MAX_LOCATION: usize = 1000;
/// Longest `page_referrer`.
pub const MAX_REFERRER: usize = 420;

/// Event names GA4 reserves.
pub const RESERVED_EVENTS: &[&str] = &[
    "ad_activeview",
    "ad_click",
    "ad_exposure",
    "ad_impression",
    "ad_query",
    "ad_reward",
    "adunit_exposure",
    "app_background",
    "app_clear_data",
    "app_exception",
    "app_install",
    "app_remove",
    "app_store_refund",
    "app_store_subscription_cancel",
    "app_store_subscription_convert",
    "app_store_subscription_renew",
    "app_update",
    "app_upgrade",
    "dynamic_link_app_open",
    "dynamic_link_app_update",
    "dynamic_link_first_open",
    "error",
    "firebase_campaign",
    "first_open",
    "first_visit",
    "in_app_purchase",
    "notification_dismiss",
    "notification_foreground",
    "notification_open",
    "notification_receive",
    "os_update",
    "screen_view",
    "session_start",
    "session_start_with_rollout",
    "user_engagement",
];

/// Name prefixes GA4 reserves (for events and params).
pub const RESERVED_PREFIXES: &[&str] = &["_", "firebase_", "ga_", "google_", "gtag."];

/// What stands before a name GA4 would refuse as reserved.
const RENAMED: &str = "sl_";

/// One event waiting for GA4, as its outbox row holds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    /// The visitor key.
    pub client_id: String,
    /// The site's own id of a signed-in visitor (`identify()`), as GA4's `user_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// The event.
    pub event: Ga4Event,
}

/// An event in the Measurement Protocol's shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ga4Event {
    /// A GA4 event name.
    pub name: String,
    /// Its params.
    pub params: Map<String, Value>,
    /// When it happened, µs since the epoch.
    pub timestamp_micros: i64,
}

/// GA4's recommended event for a Sightline name, if one fits.
fn recommended(name: &str) -> Option<&'static str> {
    Some(match name {
        crate::wire::PAGEVIEW => "page_view",
        "purchase" | "checkout_completed" | "booking_completed" => "purchase",
        "signup_completed" => "sign_up",
        "login_completed" => "login",
        "search" => "search",
        _ => return None,
    })
}

/// `text` as a GA4 name: snake_case (a capital after a lower-case letter or digit starts a word),
/// letters, digits and underscores only, starting with a letter, at most [`MAX_NAME`]
/// characters, renamed with `sl_` first when GA4 reserves it.
pub fn name(text: &str) -> String {
    let mut out = snake(text);
    if out.is_empty() {
        out.push_str("event");
    }
    if !out.starts_with(|c: char| c.is_ascii_alphabetic())
        || RESERVED_EVENTS.contains(&out.as_str())
        || RESERVED_PREFIXES.iter().any(|p| out.starts_with(p))
    {
        out.insert_str(0, RENAMED);
    }
    cut(&out, MAX_NAME).trim_end_matches('_').to_owned()
}

/// `text` in snake_case: lower-case ASCII letters and digits, words joined by one `_` (a capital
/// after a lower-case letter or digit starts a word; anything else separates), none at the ends.
pub fn snake(text: &str) -> String {
    let mut out = String::new();
    let mut prev_word = false;
    for c in text.chars() {
        if c.is_ascii_uppercase() && prev_word && !out.ends_with('_') {
            out.push('_');
        }
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
            prev_word = c.is_ascii_lowercase() || c.is_ascii_digit();
        } else {
            if !out.ends_with('_') {
                out.push('_');
            }
            prev_word = false;
        }
    }
    out.trim_matches('_').to_owned()
}

/// Props an order's item is made of (GA4's item fields).
const ITEM_FIELDS: &[&str] = &[
    "item_id",
    "item_name",
    "item_brand",
    "item_category",
    "item_variant",
    "price",
    "quantity",
];

/// Props that become GA4's own fields, not params.
const CONSUMED: &[&str] = &["order_id", "value", "currency", "is_internal"];

/// Props of a `search` event that hold the term (the SDK's names).
const SEARCH_TERMS: &[&str] = &["term", "query", "q", "search_term"];

fn value_of(value: &PropValue, max: usize) -> Value {
    match value {
        PropValue::Str(s) => Value::String(cut(s, max)),
        PropValue::Num(n) => serde_json::Number::from_f64(*n).map_or(Value::Null, Value::Number),
        PropValue::Bool(b) => Value::String(if *b { "true" } else { "false" }.into()),
    }
}

/// A numeric GA4 session id from the visit key (GA4 reads session ids as numbers; 12 hex digits
/// stay exact in a JSON number).
fn session_id(session_key: &str) -> u64 {
    let hex: String = session_key.chars().take(12).collect();
    u64::from_str_radix(&hex, 16).unwrap_or(0)
}

/// Maps a stored event to GA4's shape.
pub fn map(event: &Event) -> Item {
    let ga4_name = recommended(&event.name)
        .map(str::to_owned)
        .unwrap_or_else(|| name(&event.name));
    let mut params = Map::new();
    params.insert(
        "page_location".into(),
        Value::String(cut(&page_url(event), MAX_LOCATION)),
    );
    if let Some(host) = &event.enrichment.referrer_host {
        params.insert(
            "page_referrer".into(),
            Value::String(cut(&format!("https://{host}/"), MAX_REFERRER)),
        );
    }
    params.insert(
        "session_id".into(),
        Value::from(session_id(&event.session_key)),
    );
    let engaged_ms = match event.props.get("seconds") {
        Some(PropValue::Num(s)) if event.name == "engagement" && *s > 0.0 => (s * 1000.0) as i64,
        _ => 1,
    };
    params.insert("engagement_time_msec".into(), Value::from(engaged_ms));
    if event.internal() {
        params.insert("traffic_type".into(), Value::String("internal".into()));
    }
    // Keys as GA4 names them: a prop is what GA4 calls its key (`Value`, `isInternal` too).
    let props: Vec<(String, &PropValue)> = private(event).map(|(k, v)| (snake(k), v)).collect();
    let get = |key: &str| props.iter().find(|(k, _)| k == key).map(|(_, v)| *v);
    let mut consumed: Vec<&str> = CONSUMED.to_vec();
    if ga4_name == "purchase" {
        if let Some(order) = &event.order_id {
            params.insert(
                "transaction_id".into(),
                Value::String(cut(order, MAX_VALUE)),
            );
        }
        // GA4 takes a value only with its currency.
        let currency = match get("currency") {
            Some(PropValue::Str(c)) => crate::commerce::currency(c),
            _ => None,
        };
        if let (Some(PropValue::Num(v)), Some(code)) = (get("value"), currency) {
            params.insert("value".into(), value_of(&PropValue::Num(*v), MAX_VALUE));
            params.insert("currency".into(), Value::String(code));
        }
        // An item when the event names one (props are flat: one item an event); else the
        // SDK's `items` count stays a param of its own.
        let mut item = Map::new();
        for field in ITEM_FIELDS {
            if let Some(v) = get(field) {
                item.insert((*field).into(), value_of(v, MAX_VALUE));
            }
        }
        if item.contains_key("item_id") || item.contains_key("item_name") {
            params.insert("items".into(), Value::Array(vec![Value::Object(item)]));
            consumed.extend(ITEM_FIELDS);
        }
    }
    if ga4_name == "search" {
        if let Some((key, term)) = props
            .iter()
            .find(|(k, _)| SEARCH_TERMS.contains(&k.as_str()))
        {
            params.insert("search_term".into(), value_of(term, MAX_VALUE));
            consumed.push(key.as_str());
        }
    }
    for (key, value) in &props {
        if params.len() >= MAX_PARAMS {
            break;
        }
        if consumed.contains(&key.as_str()) {
            continue;
        }
        let key = name(key);
        if !params.contains_key(&key) {
            params.insert(key, value_of(value, MAX_VALUE));
        }
    }
    Item {
        client_id: event.visitor_key.clone(),
        user_id: event.user_id.clone(),
        event: Ga4Event {
            name: ga4_name,
            params,
            timestamp_micros: event.ts.saturating_mul(1000),
        },
    }
}

/// Consecutive runs of `events`, each at most [`MAX_EVENTS`] events and [`MAX_BODY_BYTES`] of
/// them (an event alone is always at most 25 params of 100 characters, far less).
fn chunks(events: &[(String, Ga4Event)]) -> Vec<&[(String, Ga4Event)]> {
    let mut out = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (i, (_, e)) in events.iter().enumerate() {
        let size = serde_json::to_string(e).map_or(0, |t| t.len()) + 1;
        if i > start && (i - start == MAX_EVENTS || bytes + size > MAX_BODY_BYTES) {
            out.push(&events[start..i]);
            (start, bytes) = (i, 0);
        }
        bytes += size;
    }
    if start < events.len() {
        out.push(&events[start..]);
    }
    out
}

/// One Measurement Protocol request: the outbox ids it delivers and its JSON body.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// The event ids it carries.
    pub ids: Vec<String>,
    /// The body.
    pub body: Value,
}

/// The requests that deliver `items` (event id, item): one client (and user) a request (the
/// protocol names one `client_id` and `user_id` a body), at most [`MAX_EVENTS`] events each, in
/// the order given.
pub fn requests(items: Vec<(String, Item)>) -> Vec<Request> {
    type Client = (String, Option<String>);
    let mut by_client: Vec<(Client, Vec<(String, Ga4Event)>)> = Vec::new();
    for (id, item) in items {
        let client = (item.client_id, item.user_id);
        match by_client.iter_mut().find(|(c, _)| *c == client) {
            Some((_, events)) => events.push((id, item.event)),
            None => by_client.push((client, vec![(id, item.event)])),
        }
    }
    let mut out = Vec::new();
    for ((client, user), events) in by_client {
        for chunk in chunks(&events) {
            let mut body = serde_json::json!({
                "client_id": client,
                "consent": {"ad_user_data": "DENIED", "ad_personalization": "DENIED"},
                "events": chunk.iter().map(|(_, e)| e).collect::<Vec<_>>(),
            });
            if let Some(user) = &user {
                body["user_id"] = Value::String(user.clone());
            }
            out.push(Request {
                ids: chunk.iter().map(|(id, _)| id.clone()).collect(),
                body,
            });
        }
    }
    out
}
