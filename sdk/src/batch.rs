//! Delivery policy (pure): pending events, already JSON-encoded, cut into beacon payloads.
//!
//! Input: the envelope's site and ids, and outbox entries (oldest first). Output: payload strings,
//! each one session's run of events within the wire limits (at most [`MAX_EVENTS`] events and
//! [`SDK_MAX_PAYLOAD_BYTES`] bytes). Must not: touch the browser.

use crate::outbox::Entry;
use alloc::string::String;
use sightline_core::encode::push_decimal;
use sightline_core::wire::{field, MAX_EVENTS, SDK_MAX_PAYLOAD_BYTES, VERSION};

/// The identity fields every beacon of this page carries (the session comes with the events).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Envelope<'a> {
    /// Site id (a wire-valid id, so it needs no JSON escaping).
    pub site: &'a str,
    /// Visitor id; `None` in strict mode.
    pub visitor_id: Option<&'a str>,
    /// The site's user id from `identify()`, if any.
    pub user_id: Option<&'a str>,
    /// Events the outbox dropped unsent and not yet reported (sent when not 0).
    pub lost: u32,
}

// The version is written as text: this build speaks version 1.
const _: () = assert!(VERSION == 1);

/// The next payload to send: the first of `events` (oldest first) that share the first one's
/// session, as many as the wire allows (at most [`MAX_EVENTS`] and [`SDK_MAX_PAYLOAD_BYTES`], but
/// always at least one: the outbox refuses events too large for a payload). Returns the body and how
/// many events it holds (0 when `events` is empty).
pub fn next_payload(envelope: &Envelope<'_>, events: &[&Entry]) -> (String, usize) {
    let Some(first) = events.first() else {
        return (String::new(), 0);
    };
    // Pushed piece by piece rather than with `format!`: `core::fmt` costs kilobytes of wasm.
    // Ids are wire-valid ([A-Za-z0-9_-.:]), so they need no JSON escaping.
    let mut body = String::from("{\"");
    body.push_str(field::VERSION);
    body.push_str("\":");
    body += "1";
    for (name, value) in [
        (field::SITE, Some(envelope.site)),
        (field::VISITOR_ID, envelope.visitor_id),
        (
            field::SESSION_ID,
            Some(first.session.as_str()).filter(|s| !s.is_empty()),
        ),
        (field::USER_ID, envelope.user_id),
    ] {
        if let Some(value) = value {
            for piece in [",\"", name, "\":\"", value, "\""] {
                body.push_str(piece);
            }
        }
    }
    if envelope.lost > 0 {
        for piece in [",\"", field::LOST, "\":"] {
            body.push_str(piece);
        }
        push_decimal(&mut body, envelope.lost.into());
    }
    for piece in [",\"", field::EVENTS, "\":["] {
        body.push_str(piece);
    }
    let mut count = 0;
    for event in events.iter().take(MAX_EVENTS) {
        let fits = body.len() + 1 + event.json.len() + 2 <= SDK_MAX_PAYLOAD_BYTES;
        if event.session != first.session || (count > 0 && !fits) {
            break;
        }
        if count > 0 {
            body += ",";
        }
        body.push_str(&event.json);
        count += 1;
    }
    body.push_str("]}");
    (body, count)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    fn envelope() -> Envelope<'static> {
        Envelope {
            site: "demo",
            visitor_id: Some("v1"),
            user_id: None,
            lost: 0,
        }
    }

    fn entry(session: &str, json: String) -> Entry {
        Entry {
            id: json.clone(),
            session: session.into(),
            json,
            beaconed: false,
        }
    }

    /// Every payload of `events`, as `flush` and `beacon_all` take them.
    fn payloads(events: &[Entry]) -> Vec<(String, usize)> {
        let refs: Vec<&Entry> = events.iter().collect();
        let mut rest = &refs[..];
        let mut out = Vec::new();
        while !rest.is_empty() {
            let (body, n) = next_payload(&envelope(), rest);
            rest = &rest[n..];
            out.push((body, n));
        }
        out
    }

    #[test]
    fn one_small_batch_is_one_payload() {
        let events = [
            entry("s1", r#"{"id":"a"}"#.into()),
            entry("s1", r#"{"id":"b"}"#.into()),
        ];
        assert_eq!(
            payloads(&events),
            [(
                r#"{"v":1,"site":"demo","visitor_id":"v1","session_id":"s1","events":[{"id":"a"},{"id":"b"}]}"#.into(),
                2
            )]
        );
        let strict = [entry("", r#"{"id":"a"}"#.into())];
        assert_eq!(
            payloads(&strict)[0].0,
            r#"{"v":1,"site":"demo","visitor_id":"v1","events":[{"id":"a"}]}"#
        );
        assert_eq!(next_payload(&envelope(), &[]), (String::new(), 0));
        let reporting = Envelope {
            lost: 37,
            ..envelope()
        };
        assert_eq!(
            next_payload(&reporting, &[&strict[0]]).0,
            r#"{"v":1,"site":"demo","visitor_id":"v1","lost":37,"events":[{"id":"a"}]}"#
        );
    }

    #[test]
    fn payloads_respect_sessions_count_and_size_limits() {
        let small: Vec<Entry> = (0..250)
            .map(|i| entry("s", format!(r#"{{"id":"{i}"}}"#)))
            .collect();
        let counts: Vec<usize> = payloads(&small).iter().map(|p| p.1).collect();
        assert_eq!(counts, [100, 100, 50]);
        let big = format!(r#"{{"p":"{}"}}"#, "x".repeat(25_000));
        let out = payloads(&[
            entry("s", big.clone()),
            entry("s", big.clone()),
            entry("s", big),
        ]);
        assert_eq!(out.len(), 2);
        assert!(out.iter().all(|p| p.0.len() <= SDK_MAX_PAYLOAD_BYTES));
        let mixed = [
            entry("s1", "{}".into()),
            entry("s2", "{}".into()),
            entry("s1", "{}".into()),
        ];
        let out = payloads(&mixed);
        assert_eq!(out.iter().map(|p| p.1).collect::<Vec<_>>(), [1, 1, 1]);
        assert!(out[1].0.contains(r#""session_id":"s2""#));
    }
}
