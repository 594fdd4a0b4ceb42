//! Sightline's browser SDK: wasm-bindgen exports, called by the npm wrapper (`npm/index.js`).
//!
//! Input: `start(options)`, `track_pageview(options)`, `track_event(name, props)`, `flush()` from the
//! page. Output: wire-v1 beacons (see `docs/PROTOCOL.md`) sent to `${endpoint}/api/collect`.
//! Policy lives in plain modules ([`batch`], [`session`]) and in `sightline-core` (wire limits,
//! scrubbing); [`browser`] alone touches the page. Must not: throw into the host page.

pub mod batch;
pub mod browser;
pub mod session;
pub mod spa;

use std::cell::RefCell;

use browser::Area;
use gloo_timers::callback::Timeout;
use sightline_core::encode::decimal;
use sightline_core::scrub::{clean_url, split_url, DEFAULT_QUERY_ALLOWLIST};
use sightline_core::wire::{field, is_valid_event_name, is_valid_id, PAGEVIEW};
use wasm_bindgen::prelude::*;

/// How long events wait for companions before a beacon goes out, in ms.
const FLUSH_DELAY_MS: u32 = 1000;
/// Pending events that trigger an immediate flush.
const FLUSH_AT_EVENTS: usize = 50;
const VISITOR_KEY: &str = "sl_vid";
const SESSION_KEY: &str = "sl_sid";
const SESSION_LAST_KEY: &str = "sl_last";

struct Tracker {
    endpoint: String,
    envelope: batch::Envelope,
    strict: bool,
    /// Scrubbed URL of the last pageview, so one navigation is never two pageviews.
    last_page: String,
    pending: Vec<String>,
    timer: Option<Timeout>,
}

thread_local! {
    static TRACKER: RefCell<Option<Tracker>> = const { RefCell::new(None) };
}

/// Starts tracking: `options` is `{ site, endpoint, privacy?: "strict", autoPageview?: bool }`.
/// Unless `autoPageview` is false, sends the first pageview (when the page is shown: a prerendered
/// page counts only once activated) and one per SPA navigation. Calling it twice does nothing.
#[wasm_bindgen(js_name = start)]
pub fn start(options: JsValue) {
    if TRACKER.with_borrow(Option::is_some) {
        return;
    }
    let Some(site) = browser::get_str(&options, "site").filter(|s| is_valid_id(s)) else {
        browser::warn("init() needs `site`: an id of 1-64 characters [A-Za-z0-9_-.:]");
        return;
    };
    let Some(endpoint) = browser::get_str(&options, "endpoint") else {
        browser::warn("init() needs `endpoint`: the collector's origin");
        return;
    };
    let strict = browser::get_str(&options, "privacy").as_deref() == Some("strict");
    let visitor_id = (!strict).then(visitor_id);
    let tracker = Tracker {
        endpoint: endpoint.trim_end_matches('/').to_owned() + "/api/collect",
        envelope: batch::Envelope {
            site,
            visitor_id,
            session_id: None,
        },
        strict,
        last_page: String::new(),
        pending: Vec::new(),
        timer: None,
    };
    TRACKER.set(Some(tracker));
    browser::on_hide(flush);
    if browser::get_bool(&options, "autoPageview") != Some(false) {
        browser::when_shown(|| track_pageview(JsValue::UNDEFINED));
        browser::on_navigation(on_navigation);
    }
}

/// A history change or a back/forward-cache restore (`force`): a pageview if the page changed.
fn on_navigation(force: bool) {
    let url = browser::page_url();
    let clean = scrub_url(&url);
    let is_new = TRACKER.with_borrow(|t| {
        t.as_ref()
            .is_some_and(|t| force || !spa::same_page(&t.last_page, &clean))
    });
    if is_new {
        // No referrer: the visit's source was counted with its first pageview.
        enqueue(PAGEVIEW, &url, None, &JsValue::UNDEFINED);
    }
}

/// Records a pageview of the current page; `options` may override `{ path, referrer }`.
#[wasm_bindgen(js_name = trackPageview)]
pub fn track_pageview(options: JsValue) {
    let here = browser::page_url();
    let url = match (browser::get_str(&options, "path"), split_url(&here)) {
        (Some(path), Some(parts)) if path.starts_with('/') => parts.origin() + &path,
        _ => here,
    };
    let referrer = browser::get_str(&options, "referrer").unwrap_or_else(browser::referrer);
    enqueue(PAGEVIEW, &url, Some(&referrer), &JsValue::UNDEFINED);
}

/// Records a custom event `name` with optional `props` (an object of strings, numbers, booleans).
#[wasm_bindgen(js_name = trackEvent)]
pub fn track_event(name: String, props: JsValue) {
    if !is_valid_event_name(&name) || name == PAGEVIEW {
        browser::warn(
            "trackEvent() needs a name of 1-120 characters, not `pageview`; event dropped",
        );
        return;
    }
    enqueue(&name, &browser::page_url(), None, &props);
}

/// Sends every pending event now.
#[wasm_bindgen]
pub fn flush() {
    let Some((endpoint, batches)) = TRACKER.with_borrow_mut(|t| {
        let t = t.as_mut()?;
        t.timer = None;
        if t.pending.is_empty() {
            return None;
        }
        let events = std::mem::take(&mut t.pending);
        Some((t.endpoint.clone(), batch::split(&t.envelope, &events)))
    }) else {
        return;
    };
    if batches.oversize > 0 {
        browser::warn("an event larger than a beacon was dropped");
    }
    for payload in &batches.payloads {
        browser::send(&endpoint, payload);
    }
}

fn enqueue(name: &str, url: &str, referrer: Option<&str>, props: &JsValue) {
    let now = browser::now();
    let Some(session_changed) = TRACKER.with_borrow_mut(|t| {
        let t = t.as_mut()?;
        let session = (!t.strict).then(|| session_id(now));
        Some(session != t.envelope.session_id)
    }) else {
        return;
    };
    if session_changed {
        // Events of the old visit go out under the old session id.
        flush();
        TRACKER.with_borrow_mut(|t| {
            if let Some(t) = t.as_mut() {
                t.envelope.session_id = (!t.strict).then(|| session_id(now));
            }
        });
    }
    let event = browser::object();
    browser::put(&event, field::ID, browser::random_id());
    browser::put(&event, field::TS, now);
    browser::put(&event, field::NAME, name);
    let clean_url = scrub_url(url);
    if name == PAGEVIEW {
        TRACKER.with_borrow_mut(|t| {
            if let Some(t) = t.as_mut() {
                t.last_page = clean_url.clone();
            }
        });
    }
    browser::put(&event, field::URL, clean_url);
    if let Some(referrer) = referrer.filter(|r| !r.is_empty()) {
        browser::put(&event, field::REFERRER, scrub_url(referrer));
    }
    if browser::is_plain_object(props) {
        browser::put(&event, field::PROPS, props.clone());
    }
    let Some(json) = browser::to_json(&event) else {
        browser::warn("event props could not be encoded as JSON; event dropped");
        return;
    };
    let flush_now = TRACKER.with_borrow_mut(|t| {
        let Some(t) = t.as_mut() else { return false };
        t.pending.push(json);
        if t.timer.is_none() {
            t.timer = Some(Timeout::new(FLUSH_DELAY_MS, flush));
        }
        t.pending.len() >= FLUSH_AT_EVENTS || browser::is_hidden()
    });
    if flush_now {
        flush();
    }
}

/// Only what may leave the page (see `sightline_core::scrub::clean_url`); empty for non-http URLs.
fn scrub_url(url: &str) -> String {
    clean_url(url, DEFAULT_QUERY_ALLOWLIST).unwrap_or_default()
}

fn visitor_id() -> String {
    match browser::get(Area::Local, VISITOR_KEY).filter(|id| is_valid_id(id)) {
        Some(id) => id,
        None => {
            let id = browser::random_id();
            browser::set(Area::Local, VISITOR_KEY, &id);
            id
        }
    }
}

/// The active session id, renewed after 30 idle minutes; records `now` as the last activity.
fn session_id(now: f64) -> String {
    let stored = browser::get(Area::Session, SESSION_KEY);
    let last = browser::get(Area::Session, SESSION_LAST_KEY)
        .and_then(|s| s.parse::<u64>().ok())
        .map(|ms| ms as f64);
    let id = match stored {
        Some(id) if session::is_active(Some(&id), last, now) => id,
        _ => {
            let id = browser::random_id();
            browser::set(Area::Session, SESSION_KEY, &id);
            id
        }
    };
    browser::set(Area::Session, SESSION_LAST_KEY, &decimal(now as u64));
    id
}
