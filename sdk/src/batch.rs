//! Delivery policy (pure): pending events, already JSON-encoded, cut into beacon payloads.
//!
//! Input: the envelope's site and ids, and a queue of event JSON texts. Output: payload strings, each
//! within the wire limits (at most [`MAX_EVENTS`] events and [`SDK_MAX_PAYLOAD_BYTES`] bytes).
//! Must not: touch the browser; an event too large for any payload is dropped and counted, not sent.

use alloc::string::String;
use alloc::vec::Vec;
use sightline_core::encode::decimal;
use sightline_core::wire::{field, MAX_EVENTS, SDK_MAX_PAYLOAD_BYTES, VERSION};

/// The identity fields every beacon of this page carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Envelope<'a> {
    /// Site id (a wire-valid id, so it needs no JSON escaping).
    pub site: &'a str,
    /// Visitor id; `None` in strict mode.
    pub visitor_id: Option<&'a str>,
    /// Session id; `None` in strict mode.
    pub session_id: Option<&'a str>,
    /// The site's user id from `identify()`, if any.
    pub user_id: Option<&'a str>,
}

impl Envelope<'_> {
    /// The JSON text before the first event: `{"v":1,"site":"…",…,"events":[`.
    fn head(&self) -> String {
        // Pushed piece by piece rather than with `format!`: `core::fmt` costs kilobytes of wasm.
        // Ids are wire-valid ([A-Za-z0-9_-.:]), so they need no JSON escaping.
        let mut head = String::from("{\"");
        head.push_str(field::VERSION);
        head.push_str("\":");
        head.push_str(&decimal(u64::from(VERSION)));
        for (name, value) in [
            (field::SITE, Some(self.site)),
            (field::VISITOR_ID, self.visitor_id),
            (field::SESSION_ID, self.session_id),
            (field::USER_ID, self.user_id),
        ] {
            if let Some(value) = value {
                for piece in [",\"", name, "\":\"", value, "\""] {
                    head.push_str(piece);
                }
            }
        }
        for piece in [",\"", field::EVENTS, "\":["] {
            head.push_str(piece);
        }
        head
    }
}

/// Payloads to send, and how many events could not fit in any payload.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Batches {
    /// Complete beacon bodies.
    pub payloads: Vec<String>,
    /// How many events each payload holds, in order.
    pub counts: Vec<usize>,
    /// Events dropped because one alone exceeds the payload limit.
    pub oversize: usize,
}

/// Cuts `events` (JSON texts, in order) into beacon bodies.
pub fn split(envelope: &Envelope<'_>, events: &[&str]) -> Batches {
    let head = envelope.head();
    let tail = "]}";
    let mut out = Batches::default();
    let mut body = head.clone();
    let mut count = 0;
    for &event in events {
        if head.len() + event.len() + tail.len() > SDK_MAX_PAYLOAD_BYTES {
            out.oversize += 1;
            continue;
        }
        let fits = body.len() + 1 + event.len() + tail.len() <= SDK_MAX_PAYLOAD_BYTES;
        if count == MAX_EVENTS || !fits {
            body.push_str(tail);
            out.payloads
                .push(core::mem::replace(&mut body, head.clone()));
            out.counts.push(count);
            count = 0;
        }
        if count > 0 {
            body.push(',');
        }
        body.push_str(event);
        count += 1;
    }
    if count > 0 {
        body.push_str(tail);
        out.payloads.push(body);
        out.counts.push(count);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope() -> Envelope<'static> {
        Envelope {
            site: "demo",
            visitor_id: Some("v1"),
            session_id: None,
            user_id: None,
        }
    }

    #[test]
    fn one_small_batch_is_one_payload() {
        let out = split(&envelope(), &[r#"{"id":"a"}"#, r#"{"id":"b"}"#]);
        assert_eq!(
            out.payloads,
            [r#"{"v":1,"site":"demo","visitor_id":"v1","events":[{"id":"a"},{"id":"b"}]}"#]
        );
    }

    #[test]
    fn batches_respect_count_and_size_limits() {
        let small: Vec<String> = (0..250).map(|i| format!(r#"{{"id":"{i}"}}"#)).collect();
        let small: Vec<&str> = small.iter().map(String::as_str).collect();
        let out = split(&envelope(), &small);
        assert_eq!(out.counts, [100, 100, 50]);
        let big = format!(r#"{{"p":"{}"}}"#, "x".repeat(25_000));
        let out = split(&envelope(), &[&big, &big, &big]);
        assert_eq!(out.payloads.len(), 2);
        assert!(out
            .payloads
            .iter()
            .all(|p| p.len() <= SDK_MAX_PAYLOAD_BYTES));
        let huge = format!(r#"{{"p":"{}"}}"#, "x".repeat(70_000));
        let out = split(&envelope(), &[huge.as_str(), r#"{"id":"ok"}"#]);
        assert_eq!((out.payloads.len(), out.oversize), (1, 1));
        assert!(split(&envelope(), &[]).payloads.is_empty());
    }
}
