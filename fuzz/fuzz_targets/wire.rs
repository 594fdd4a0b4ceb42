//! Fuzz target `wire`: arbitrary bytes as a beacon body, through everything pure the collector does
//! with one. Input: any bytes. Checks: nothing panics; `parse_beacon` → `validate_event` gives only
//! events inside the wire's limits; `ingest::run` accounts for every event (stored + dropped) and
//! returns no client IP, no user agent, no email and no PII-bearing path, route or prop (no
//! sensitive key, no card-number integer); the scrubbers (`split_url`, `clean_url`,
//! `contains_pii`) take the raw input as text. Must not: read the clock,
//! the network or files (a fixed `NOW`, IP and user agent stand in for the request).
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use sightline_core::ingest::{self, Context, Event, Site};
use sightline_core::privacy;
use sightline_core::scrub::{self, DEFAULT_QUERY_ALLOWLIST};
use sightline_core::wire::{self, DropReason, PropValue, RawBeacon, ValidEvent, MAX_CLIENT_AGE_MS};

#[path = "request.rs"]
mod request;
use request::NOW;

const CLIENT_NET: &str = "203.0.113";
const USER_AGENT_TOKEN: &str = "Chrome/140";
/// A crawler: every event of the beacon is dropped as a bot.
const BOT_USER_AGENT: &str =
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";

fuzz_target!(|body: &[u8]| {
    if let Ok(text) = std::str::from_utf8(body) {
        check_scrub(text);
    }
    let Ok(beacon) = wire::parse_beacon(body) else {
        return;
    };
    assert!((1..=wire::MAX_EVENTS).contains(&beacon.events.len()));
    assert!(wire::is_valid_id(&beacon.site));
    for raw in &beacon.events {
        if let Ok(event) = wire::validate_event(raw, NOW, MAX_CLIENT_AGE_MS) {
            check_valid_event(&event);
        }
    }
    check_run(&beacon);
});

/// The scrubbers on any text: what they keep is what their docs promise.
fn check_scrub(text: &str) {
    // Only that it returns: any text, of any length, is a fair question.
    std::hint::black_box(privacy::contains_pii(text));
    if let Some(parts) = scrub::split_url(text) {
        assert!(!parts.host.is_empty() && parts.path.starts_with('/'));
        assert!(parts.port.bytes().all(|b| b.is_ascii_digit()));
    }
    for hash_routes in [false, true] {
        let Some(clean) = scrub::clean_url(text, DEFAULT_QUERY_ALLOWLIST, hash_routes) else {
            assert!(scrub::split_url(text).is_none());
            continue;
        };
        assert!(clean.starts_with("http://") || clean.starts_with("https://"));
        let parts = scrub::split_url(&clean).expect("a cleaned URL is a URL");
        assert!(path_is_clean(parts.path), "{text:?} → {clean:?}");
        assert!(path_is_clean(parts.fragment), "{text:?} → {clean:?}");
        assert!(
            hash_routes || parts.fragment.is_empty(),
            "{text:?} → {clean:?}"
        );
        for pair in parts.query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            assert!(
                DEFAULT_QUERY_ALLOWLIST.contains(&key),
                "{text:?} → {clean:?}"
            );
            assert!(!privacy::contains_pii(value), "{text:?} → {clean:?}");
        }
    }
}

/// One event that passed `validate_event` is inside every limit of the wire.
fn check_valid_event(event: &ValidEvent) {
    assert!(wire::is_valid_id(&event.id));
    assert!(wire::is_valid_event_name(&event.name));
    assert!(wire::is_valid_page_url(&event.url));
    assert!(event
        .referrer
        .as_deref()
        .is_none_or(wire::is_valid_page_url));
    assert!((NOW - MAX_CLIENT_AGE_MS..=NOW).contains(&event.ts));
    assert!(event.props.len() <= wire::MAX_PROPS);
    for (key, value) in &event.props {
        assert!(!key.is_empty() && key.len() <= wire::MAX_PROP_KEY_LEN);
        assert!(!privacy::contains_pii(key) && !privacy::is_sensitive_key(key));
        match value {
            PropValue::Str(s) => assert!(
                s.chars().count() <= wire::MAX_PROP_VALUE_LEN && !privacy::contains_pii(s),
                "{s:?}"
            ),
            PropValue::Num(n) => assert!(n.is_finite() && !privacy::is_card_number(*n)),
            PropValue::Bool(_) => {}
        }
    }
}

/// The whole pure pipeline, as the worker runs it for a browser sender.
fn check_run(beacon: &RawBeacon<'_>) {
    let site = request::site(&beacon.site);
    let ctx = request::browser();
    let outcome = ingest::run(beacon, &site, &ctx);
    // What the consumer stores: the queue message, through its text.
    let events = ingest::Queued::decode(&outcome.queued.encode()).expect("the consumer reads it");
    assert_eq!(
        events.len() + outcome.dropped_total() as usize,
        beacon.events.len(),
        "every event is stored or dropped, once: {outcome:?}"
    );
    // The beacon itself may carry these strings (a page URL on 203.0.113.x is allowed); only
    // what `run` adds on its own is checked.
    let sent = format!("{beacon:?}");
    let dump = format!("{outcome:?}");
    for secret in [CLIENT_NET, USER_AGENT_TOKEN] {
        assert!(
            sent.contains(secret) || !dump.contains(secret),
            "{secret} leaked: {dump}"
        );
    }
    for event in &events {
        check_stored_event(event, &site, beacon);
    }
    let bot = Context {
        user_agent: BOT_USER_AGENT,
        ..ctx
    };
    let outcome = ingest::run(beacon, &site, &bot);
    assert!(outcome.queued.is_empty());
    assert_eq!(
        outcome.dropped.get(&DropReason::Bot).copied(),
        Some(beacon.events.len() as u32)
    );
}

/// A stored row holds only what may be stored: no email anywhere, no PII in the path or props.
fn check_stored_event(event: &Event, site: &Site, beacon: &RawBeacon<'_>) {
    assert_eq!(event.site_id, site.id);
    assert_eq!(event.received_at, NOW);
    assert!((NOW - MAX_CLIENT_AGE_MS..=NOW).contains(&event.ts));
    assert!(beacon
        .events
        .iter()
        .any(|raw| raw.id.as_str() == Some(event.event_id.as_str())));
    assert!(path_is_clean(&event.path), "path {:?}", event.path);
    for (key, value) in &event.props {
        assert!(!privacy::contains_pii(key), "prop key {key:?}");
        if let PropValue::Str(s) = value {
            assert!(!privacy::contains_pii(s), "prop value {s:?}");
        }
    }
    let mut row = serde_json::to_value(event).expect("an event serialises");
    row["props"] = Value::Null; // checked above
    for_each_string(&row, &mut |s| {
        assert!(
            !privacy::looks_like_email(s),
            "email {s:?} stored in {event:?}"
        );
    });
}

/// A scrubbed path: no segment of it (nor of its `#/route`) holds PII.
fn path_is_clean(path: &str) -> bool {
    path.split(['/', '#'])
        .all(|segment| !privacy::contains_pii(segment))
}

fn for_each_string(value: &Value, f: &mut impl FnMut(&str)) {
    match value {
        Value::String(s) => f(s),
        Value::Array(items) => items.iter().for_each(|v| for_each_string(v, f)),
        Value::Object(map) => map.values().for_each(|v| for_each_string(v, f)),
        _ => {}
    }
}
