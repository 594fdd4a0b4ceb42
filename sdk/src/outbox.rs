//! Delivery policy (pure): the outbox of events the collector has not yet confirmed, its stored form,
//! and when to try again.
//!
//! Input: encoded events (id, session, JSON text), collector answers, a random jitter. Output: the
//! next batch to send, what to keep, how long to wait. An event leaves the outbox only when a `2xx`
//! confirms it (or a `4xx` says it can never be accepted); every resend carries the same event id, so
//! the collector counts it once. Must not: touch the browser, or grow without bound (the oldest
//! events are dropped first, and counted).

use alloc::string::String;
use alloc::vec::Vec;
use sightline_core::scrub::{pieces, split_at_byte};

/// Most events the outbox keeps.
pub const MAX_EVENTS: usize = 500;
/// Most bytes of event JSON the outbox keeps (localStorage quotas are a few MB per origin).
pub const MAX_BYTES: usize = 256 * 1024;
/// Largest single event; a larger one is refused when tracked (a beacon must hold it).
pub const MAX_EVENT_BYTES: usize = 32 * 1024;
/// First retry delay, doubled on each failure.
pub const RETRY_BASE_MS: u32 = 1_000;
/// Longest retry delay.
pub const RETRY_MAX_MS: u32 = 60_000;

/// One unconfirmed event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The event's wire id.
    pub id: String,
    /// The session it happened in (empty in strict mode).
    pub session: String,
    /// The event as wire JSON.
    pub json: String,
    /// Already handed to `sendBeacon` by this page (not stored: the next page sends it again).
    pub beaconed: bool,
}

/// Unconfirmed events, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outbox {
    entries: Vec<Entry>,
    bytes: usize,
    /// Events dropped because the outbox was full, not yet reported to the collector (`lost`).
    pub dropped: u32,
}

impl Outbox {
    /// Adds an event, dropping the oldest ones while the outbox is over its limits.
    pub fn push(&mut self, entry: Entry) {
        self.bytes += entry.json.len();
        self.entries.push(entry);
        // A Vec, not a VecDeque: dropping from the front is rare (a full outbox) and short.
        let mut drop = 0;
        while self.entries.len() - drop > MAX_EVENTS || self.bytes > MAX_BYTES {
            let Some(old) = self.entries.get(drop) else {
                break;
            };
            self.bytes -= old.json.len();
            drop += 1;
        }
        // `retain`, not `drain(..drop)`: no range check (and its panic code) in the wasm.
        let mut index = 0;
        self.entries.retain(|_| {
            index += 1;
            index > drop
        });
        self.dropped += drop as u32;
    }

    /// Number of unconfirmed events.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when every event is confirmed.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Every unconfirmed event, oldest first; with `unbeaconed`, only those not yet beaconed by
    /// this page. Hiding fires `visibilitychange` and then `pagehide`, and an event is handed to
    /// `sendBeacon` once: then [`mark_beaconed`]. They stay in the outbox until a confirmed send.
    ///
    /// [`mark_beaconed`]: Outbox::mark_beaconed
    pub fn pending(&self, unbeaconed: bool) -> Vec<&Entry> {
        // Pushed, not collected (no size-hint and capacity code in the wasm).
        let mut out = Vec::new();
        for entry in &self.entries {
            if !(unbeaconed && entry.beaconed) {
                out.push(entry);
            }
        }
        out
    }

    /// Marks every event as beaconed by this page.
    pub fn mark_beaconed(&mut self) {
        for entry in &mut self.entries {
            entry.beaconed = true;
        }
    }

    /// Removes the events with these ids (confirmed, or refused for good).
    pub fn remove(&mut self, ids: &[String]) {
        let mut bytes = self.bytes;
        self.entries.retain(|e| {
            let keep = !ids.contains(&e.id);
            if !keep {
                bytes -= e.json.len();
            }
            keep
        });
        self.bytes = bytes;
    }

    /// The stored form: one line per event, `id \t session \t json`. JSON text never holds a raw tab
    /// or newline (they are escaped inside strings), so no further escaping is needed.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        for e in &self.entries {
            for piece in [e.id.as_str(), "\t", &e.session, "\t", &e.json, "\n"] {
                out.push_str(piece);
            }
        }
        out
    }

    /// Reads the stored form back; malformed lines are skipped.
    pub fn decode(text: &str) -> Outbox {
        let mut outbox = Outbox::default();
        for line in pieces(text, b'\n') {
            let Some((id, rest)) = split_at_byte(line, b'\t') else {
                continue;
            };
            if let Some((session, json)) = split_at_byte(rest, b'\t') {
                if !id.is_empty() && json.starts_with("{") {
                    outbox.push(Entry {
                        id: id.into(),
                        session: session.into(),
                        json: json.into(),
                        beaconed: false,
                    });
                }
            }
        }
        outbox
    }
}

/// What to do after the collector answered a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// `2xx`: the events are counted (or were already): remove them.
    Delivered,
    /// `4xx` other than 408/429: resending cannot help: remove them and warn.
    Refused,
    /// No answer (offline, network error), `408`, `429` or `5xx`: keep them and try again.
    Retry,
}

/// Classifies an HTTP status; `0` means no answer at all.
pub fn classify(status: u16) -> Answer {
    match status {
        200..=299 => Answer::Delivered,
        408 | 429 => Answer::Retry,
        400..=499 => Answer::Refused,
        _ => Answer::Retry,
    }
}

/// Delay before retry number `attempt` (1-based): exponential from 1 s to 60 s, with "equal jitter"
/// (`jitter` in `[0, 1)` picks between half and all of it), but never sooner than `Retry-After`.
pub fn retry_delay_ms(attempt: u32, jitter: f64, retry_after_s: Option<u32>) -> u32 {
    let exp = RETRY_BASE_MS.saturating_mul(1 << attempt.clamp(1, 16).saturating_sub(1));
    let capped = exp.min(RETRY_MAX_MS);
    let jittered = capped / 2 + (f64::from(capped / 2) * jitter.clamp(0.0, 1.0)) as u32;
    let floor = retry_after_s.map_or(0, |s| s.saturating_mul(1000));
    jittered.max(floor)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str, session: &str) -> Entry {
        Entry {
            id: id.into(),
            session: session.into(),
            json: format!(r#"{{"id":"{id}"}}"#),
            beaconed: false,
        }
    }

    #[test]
    fn each_event_is_beaconed_once_per_page() {
        let mut outbox = Outbox::default();
        for (id, s) in [("a", "s1"), ("b", "s1"), ("c", "s2"), ("d", "s1")] {
            outbox.push(entry(id, s));
        }
        let ids = |entries: Vec<&Entry>| entries.iter().map(|e| e.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(outbox.pending(true)), ["a", "b", "c", "d"]);
        outbox.mark_beaconed();
        assert!(
            outbox.pending(true).is_empty(),
            "each event is beaconed once per page"
        );
        outbox.push(entry("e", "s1"));
        assert_eq!(ids(outbox.pending(true)), ["e"]);
        outbox.remove(&["a".into(), "b".into()]);
        assert_eq!(outbox.pending(false)[0].id, "c");
        assert_eq!(outbox.len(), 3, "beaconed events stay until confirmed");
    }

    #[test]
    fn survives_a_round_trip_through_storage() {
        let mut outbox = Outbox::default();
        outbox.push(entry("a", "s1"));
        outbox.push(Entry {
            id: "b".into(),
            session: String::new(),
            json: r#"{"note":"tab\tand\nnewline, escaped as JSON does"}"#.into(),
            beaconed: false,
        });
        let text = outbox.encode();
        assert_eq!(Outbox::decode(&text), outbox);
        assert_eq!(Outbox::decode("garbage\nx\ty\tnot json\n").len(), 0);
    }

    #[test]
    fn drops_the_oldest_when_full_and_counts() {
        let mut outbox = Outbox::default();
        for i in 0..MAX_EVENTS + 3 {
            outbox.push(entry(&i.to_string(), "s"));
        }
        assert_eq!((outbox.len(), outbox.dropped), (MAX_EVENTS, 3));
        assert_eq!(outbox.pending(false)[0].id, "3");
        let mut outbox = Outbox::default();
        let big = "x".repeat(MAX_EVENT_BYTES);
        for i in 0..10 {
            outbox.push(Entry {
                id: i.to_string(),
                session: "s".into(),
                json: big.clone(),
                beaconed: false,
            });
        }
        assert!(outbox.encode().len() <= MAX_BYTES + 10 * 10);
        assert_eq!(outbox.dropped, 10 - (MAX_BYTES / MAX_EVENT_BYTES) as u32);
    }

    #[test]
    fn answers_are_classified() {
        assert_eq!(classify(202), Answer::Delivered);
        assert_eq!(classify(400), Answer::Refused);
        assert_eq!(classify(403), Answer::Refused);
        assert_eq!(classify(429), Answer::Retry);
        assert_eq!(classify(503), Answer::Retry);
        assert_eq!(classify(0), Answer::Retry);
    }

    #[test]
    fn retries_back_off_with_jitter_and_honour_retry_after() {
        assert_eq!(retry_delay_ms(1, 0.0, None), 500);
        assert_eq!(retry_delay_ms(1, 0.999_999, None), 999);
        assert_eq!(retry_delay_ms(3, 0.0, None), 2_000);
        assert_eq!(retry_delay_ms(30, 0.0, None), RETRY_MAX_MS / 2);
        assert!(retry_delay_ms(30, 1.0, None) <= RETRY_MAX_MS);
        assert_eq!(retry_delay_ms(1, 0.0, Some(30)), 30_000);
    }
}
