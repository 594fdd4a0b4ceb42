//! Delivery: recorded events, already JSON-encoded, from the outbox to the collector.
//!
//! Input: outbox entries from [`crate::record`], the collector's answers, the page being hidden or
//! back online. Output: batches posted with `fetch` + `keepalive` on a short timer (one at a time;
//! the next follows its answer), retries with backoff, and, when the page is hidden or the
//! identity changes, every unconfirmed event handed to `sendBeacon`. An event leaves the outbox
//! only when the collector confirms it, and a resend carries the same event ids, so the collector
//! counts it once. The rules are [`crate::outbox`]'s and [`crate::batch`]'s (pure); this is their
//! glue. Must not: decide what is recorded, or lose an event the collector has not confirmed.

use alloc::string::String;
use alloc::vec::Vec;

use crate::browser::Target::{Document, Window};
use crate::browser::{self, listen, Area, JsValue};
use crate::outbox::{self, Answer, Entry};
use crate::tracker::{with_tracker, Tracker, LOST_KEY, OUTBOX_KEY};
use crate::{batch, extras};

/// How long events wait for companions before a batch goes out, in ms.
const FLUSH_DELAY_MS: u32 = 1000;
/// Unconfirmed events that trigger an immediate flush.
const FLUSH_AT_EVENTS: usize = 50;

impl Tracker {
    /// Writes the outbox to localStorage (never in strict mode).
    pub(crate) fn persist(&self) {
        if !self.strict {
            browser::set_stored(Area::Local, OUTBOX_KEY, self.outbox.encode().into());
            match self.outbox.dropped {
                0 => browser::remove_stored(Area::Local, LOST_KEY),
                n => browser::set_stored(Area::Local, LOST_KEY, f64::from(n).into()),
            }
        }
    }

    /// Runs `flush` after `ms`, replacing any pending flush or retry.
    fn schedule(&mut self, ms: u32) {
        self.cancel_timer();
        self.timer = Some(browser::set_timeout(&self.flush_fn, ms));
    }

    /// Cancels the pending flush or retry, if any.
    pub(crate) fn cancel_timer(&mut self) {
        if let Some(id) = self.timer.take() {
            browser::clear_timeout(id);
        }
    }

    fn envelope(&self) -> batch::Envelope<'_> {
        batch::Envelope {
            site: &self.site,
            visitor_id: self.visitor_id.as_deref(),
            user_id: self.user_id.as_deref(),
            lost: 0,
        }
    }
}

/// Listens for the page being hidden or unloading (hiding fires `visibilitychange` and then
/// `pagehide`: see [`on_hide`]) and for the browser coming back online.
pub(crate) fn listen_page() {
    listen(Document, "visibilitychange", false, |_| {
        if browser::is_hidden() {
            on_hide();
        }
    });
    listen(Window, "pagehide", false, |_| on_hide());
    listen(Window, "online", false, |_| on_online());
}

/// Puts one recorded event into the outbox and starts the flush timer. A pageview goes out at
/// once (the page's first signal), other events wait for companions; an event recorded while the
/// page is hidden is beaconed at once.
pub(crate) fn enqueue(entry: Entry, pageview: bool) {
    let flush_now = with_tracker(|t| {
        t.outbox.push(entry);
        // Stored by the next flush or when the page is hidden, not per event: writing the whole
        // outbox to localStorage on every call would make tracking O(n) per event.
        if t.timer.is_none() && t.in_flight.is_none() {
            t.schedule(FLUSH_DELAY_MS);
        }
        pageview || t.outbox.len() >= FLUSH_AT_EVENTS
    });
    if flush_now == Some(true) {
        flush();
    }
    let late = with_tracker(|t| !t.hiding && (t.after_hide || browser::is_hidden()));
    if late == Some(true) {
        beacon_all();
    }
}

/// Sends the oldest unconfirmed events now (one batch at a time; the next follows its answer).
pub(crate) fn flush() {
    let next = with_tracker(|t| {
        t.cancel_timer();
        t.after_hide = t.after_hide && browser::is_hidden();
        t.persist();
        if t.in_flight.is_some() {
            return None;
        }
        let group = t.outbox.pending(false);
        // Only a fetch batch reports lost events: its answer says whether the count arrived.
        let lost = t.outbox.dropped;
        let envelope = batch::Envelope {
            lost,
            ..t.envelope()
        };
        let (payload, count) = batch::next_payload(&envelope, &group);
        if count == 0 {
            return None;
        }
        let ids: Vec<String> = group.iter().take(count).map(|e| e.id.clone()).collect();
        t.in_flight = Some((ids, lost));
        Some((t.endpoint.clone(), payload, t.answer_fn))
    })
    .flatten();
    if let Some((endpoint, payload, answered)) = next {
        if !browser::post(&endpoint, &payload, &answered) {
            on_answer(0, None);
        }
    }
}

/// `fetch` settled: with the collector's `Response`, or with an error (no answer).
pub(crate) fn on_response(response: JsValue) {
    let (status, retry_after) = browser::answer(&response);
    on_answer(status, retry_after);
}

/// The collector answered the batch in flight (`status` 0: no answer at all).
fn on_answer(status: u16, retry_after: Option<u32>) {
    let answer = outbox::classify(status);
    let more = with_tracker(|t| {
        let (ids, lost) = t.in_flight.take().unwrap_or_default();
        if answer == Answer::Retry {
            t.failures += 1;
            let delay = outbox::retry_delay_ms(t.failures, browser::random(), retry_after);
            t.schedule(delay);
            return false;
        }
        t.failures = 0;
        if answer == Answer::Delivered {
            t.outbox.dropped = t.outbox.dropped.saturating_sub(lost);
        }
        t.outbox.remove(&ids);
        t.persist();
        !t.outbox.is_empty()
    });
    if answer == Answer::Refused {
        browser::warn(&["the collector refused a batch; see the response in the network panel"]);
    }
    if more == Some(true) {
        flush();
    }
}

/// Hands every unconfirmed event to `sendBeacon`, which outlives the page: when the page is hidden
/// or unloading, and before the identity changes. The events stay in the outbox until a confirmed
/// send, so a lost beacon is resent later; a delivered one is then counted once, by its ids.
pub(crate) fn beacon_all() {
    let sends = with_tracker(|t| {
        t.persist();
        let fresh = t.outbox.pending(true);
        let mut rest = &fresh[..];
        let mut payloads = Vec::new();
        while !rest.is_empty() {
            let (payload, count) = batch::next_payload(&t.envelope(), rest);
            payloads.push(payload);
            rest = rest.get(count..).unwrap_or_default();
        }
        t.outbox.mark_beaconed();
        (t.endpoint.clone(), payloads)
    });
    if let Some((endpoint, payloads)) = sends {
        for payload in &payloads {
            // Refused (the browser's beacon quota is full): `fetch` with `keepalive` instead, which
            // also outlives the page. Its answer is ignored, but handled: a failure must not reach
            // the page as an unhandled rejection (which its error tracker would report).
            if !browser::beacon(&endpoint, payload) {
                browser::post(&endpoint, payload, &browser::callback(|_| {}));
            }
        }
    }
}

/// The page is hidden or unloading: the extras report (engagement, vitals), then beacon everything.
fn on_hide() {
    with_tracker(|t| {
        t.hiding = true;
        t.after_hide = true;
    });
    if extras::ENABLED {
        extras::on_hide();
    }
    beacon_all();
    with_tracker(|t| t.hiding = false);
}

/// Back online: retry now instead of waiting out the backoff.
fn on_online() {
    with_tracker(|t| {
        t.failures = 0;
        t.cancel_timer();
    });
    flush();
}
