//! The tracker state of this page: what `start` read from its options, the identity (visitor,
//! session and user ids, strict mode, opt-out), the outbox and its timers, held in one slot.
//!
//! Input: the `start` options and what earlier visits stored. Output: the [`Tracker`], reached
//! through [`with_tracker`]; the stored ids, and the one list of storage keys ([`STORED_KEYS`]) that
//! `consent(false)` and `optOut()` wipe. Must not: decide what is recorded or when it is sent
//! ([`crate::record`], [`crate::delivery`]), or be borrowed by a call that borrows it again.

use alloc::borrow::ToOwned;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::RefCell;

use crate::browser::{self, Area, JsValue};
use crate::delivery::{flush, on_response};
use crate::extras::{self, Capture, Vitals};
use crate::outbox::Outbox;
use crate::session;
use sightline_core::scrub::{trim_end_byte, DEFAULT_QUERY_ALLOWLIST};
use sightline_core::wire::is_valid_id;

const VISITOR_KEY: &str = "sl_vid";
pub(crate) const SESSION_KEY: &str = "sl_sid";
const SESSION_LAST_KEY: &str = "sl_last";
pub(crate) const OUTBOX_KEY: &str = "sl_outbox";
/// Events the full outbox dropped, not yet reported (absent when none).
pub(crate) const LOST_KEY: &str = "sl_lost";
/// Calls the npm wrapper saved because its page went away before the wasm was ready (the wrapper
/// replays them on the next page; the wasm only wipes them).
const SAVED_CALLS_KEY: &str = "sl_queue";
/// Set by `optOut()`: this browser is not tracked at all. A flag, not an id.
pub(crate) const OPT_OUT_KEY: &str = "sl_optout";
/// Everything the SDK may store that identifies or queues: wiped by `consent(false)` and `optOut()`.
const STORED_KEYS: [&str; 6] = [
    VISITOR_KEY,
    SESSION_KEY,
    SESSION_LAST_KEY,
    OUTBOX_KEY,
    LOST_KEY,
    SAVED_CALLS_KEY,
];

pub(crate) struct Tracker {
    pub(crate) endpoint: String,
    pub(crate) site: String,
    /// `None` in strict mode.
    pub(crate) visitor_id: Option<String>,
    /// Stores nothing: `privacy: "strict"`, consent required and not given, or GPC / Do-Not-Track.
    pub(crate) strict: bool,
    /// `privacy: "strict"` was asked for: consent does not lift it.
    pub(crate) always_strict: bool,
    /// `optOut()`: nothing is tracked.
    pub(crate) opted_out: bool,
    /// Staff surface (`surface: "admin" | "instructor"`): every event is internal traffic.
    pub(crate) internal: bool,
    /// The site's id for the signed-in user, from `identify()`.
    pub(crate) user_id: Option<String>,
    /// Query parameters kept in URLs: the defaults and `queryAllowlist`.
    /// `start` runs once per page, so the page's own names are leaked to live as long as it does:
    /// every URL is then scrubbed without copying the list.
    pub(crate) allowlist: Vec<&'static str>,
    /// The page's `beforeSend(event)` hook.
    pub(crate) before_send: Option<JsValue>,
    /// `hashRouting: true`: `#/route` fragments are pages.
    pub(crate) hash_routes: bool,
    /// Auto-capture state, when `autoCapture: true`.
    pub(crate) capture: Option<Capture>,
    /// Web-vitals state, when `webVitals: true`.
    pub(crate) vitals: Option<Vitals>,
    /// The page is being hidden: events recorded now go out with the hide's beacons.
    pub(crate) hiding: bool,
    /// The page was hidden and has not been seen visible since: an event recorded now (say, by a
    /// `pagehide` listener of the page that runs after ours) is beaconed at once.
    pub(crate) after_hide: bool,
    /// Scrubbed URL of the last pageview, so one navigation is never two pageviews.
    pub(crate) last_page: String,
    pub(crate) outbox: Outbox,
    /// The pending flush or retry: its timer id.
    pub(crate) timer: Option<f64>,
    /// The ids of the batch on its way, and the count of lost events it reports; the next batch
    /// waits for its answer.
    pub(crate) in_flight: Option<(Vec<String>, u32)>,
    /// `flush` as a JS function, for timers.
    pub(crate) flush_fn: JsValue,
    /// [`on_response`] as a JS function, for `fetch`.
    pub(crate) answer_fn: JsValue,
    /// Failed attempts in a row.
    pub(crate) failures: u32,
}

/// Builds the tracker from the `start` options (see `start`) and puts it in its slot (the slot must
/// be empty); with a stored opt-out, wipes what an earlier visit stored. Answers whether events
/// left unconfirmed by an earlier page wait in the outbox; `None`, with a console warning, when
/// `site` or `endpoint` is missing or invalid.
pub(crate) fn install(options: &JsValue) -> Option<bool> {
    let Some(site) = browser::get_str(options, "site").filter(|s| is_valid_id(s)) else {
        browser::warn(&["init() needs `site`: an id of 1-64 characters [A-Za-z0-9_-.:]"]);
        return None;
    };
    let Some(endpoint) = browser::get_str(options, "endpoint") else {
        browser::warn(&["init() needs `endpoint`: the collector's origin"]);
        return None;
    };
    let always_strict = browser::get_str(options, "privacy").as_deref() == Some("strict");
    let opted_out = browser::get_stored(Area::Local, OPT_OUT_KEY).is_some();
    let strict = always_strict
        || opted_out
        || browser::get_bool(options, "requireConsent") == Some(true)
        || browser::privacy_signal();
    let surface = browser::get_str(options, "surface").unwrap_or_default();
    let outbox = if strict {
        Outbox::default()
    } else {
        let mut stored =
            Outbox::decode(&browser::get_stored(Area::Local, OUTBOX_KEY).unwrap_or_default());
        stored.dropped = browser::get_stored_number(Area::Local, LOST_KEY).unwrap_or(0.0) as u32;
        stored
    };
    let resend = !outbox.is_empty();
    // Pushed, not collected from a chain: `collect` brings size hints and a capacity panic.
    let mut allowlist = DEFAULT_QUERY_ALLOWLIST.to_vec();
    for name in browser::items(&browser::get(options, "queryAllowlist")) {
        if let Some(name) = name.as_string() {
            allowlist.push(&*name.leak());
        }
    }
    let tracker = Tracker {
        endpoint: trim_end_byte(&endpoint, b'/').to_owned() + "/api/collect",
        site,
        visitor_id: (!strict).then(visitor_id),
        strict,
        always_strict,
        opted_out,
        internal: surface == "admin" || surface == "instructor",
        user_id: None,
        allowlist,
        before_send: browser::get_function(options, "beforeSend").map(JsValue::pin),
        hash_routes: browser::get_bool(options, "hashRouting") == Some(true),
        capture: (extras::ENABLED && browser::get_bool(options, "autoCapture") == Some(true))
            .then(Capture::new),
        hiding: false,
        after_hide: false,
        vitals: (extras::ENABLED && browser::get_bool(options, "webVitals") == Some(true))
            .then(|| Vitals::new(f64::INFINITY, 0.0)),
        last_page: String::new(),
        outbox,
        timer: None,
        in_flight: None,
        flush_fn: browser::callback(|_| flush()),
        answer_fn: browser::callback(on_response),
        failures: 0,
    };
    // The slot is empty (`started()` said so) and nothing else borrows it during `start`: the
    // tracker is moved in without a drop of either (a `Tracker` drop is ~200 bytes of wasm).
    let tracker = core::mem::ManuallyDrop::new(tracker);
    slot(|s| {
        if let Ok(mut t) = s.0.try_borrow_mut() {
            core::mem::forget(t.replace(core::mem::ManuallyDrop::into_inner(tracker)));
        }
    });
    if opted_out {
        // The opt-out may have been recorded by the wrapper alone (its page left before the wasm
        // came): what an earlier visit stored goes now.
        wipe_storage();
    }
    Some(resend)
}

/// The tracker of this page, once started.
struct Slot(RefCell<Option<Tracker>>);

// SAFETY: wasm32 without the `atomics` target feature runs one thread, so the slot is never shared
// between threads. Natively (unit tests of the pure modules) the slot does not exist.
#[cfg(target_arch = "wasm32")]
unsafe impl Sync for Slot {}

#[cfg(target_arch = "wasm32")]
static TRACKER: Slot = Slot(RefCell::new(None));

#[cfg(target_arch = "wasm32")]
fn slot<R>(f: impl FnOnce(&Slot) -> R) -> R {
    f(&TRACKER)
}

#[cfg(not(target_arch = "wasm32"))]
fn slot<R>(f: impl FnOnce(&Slot) -> R) -> R {
    std::thread_local! {
        static TRACKER: Slot = const { Slot(RefCell::new(None)) };
    }
    TRACKER.with(f)
}

/// Runs `f` on the tracker, if started. `f` must not call back into anything that borrows it.
pub(crate) fn with_tracker<R>(f: impl FnOnce(&mut Tracker) -> R) -> Option<R> {
    slot(|s| s.0.try_borrow_mut().ok()?.as_mut().map(f))
}

/// True once `start` ran.
pub(crate) fn started() -> bool {
    with_tracker(|_| ()).is_some()
}

/// Removes every stored id and queue ([`STORED_KEYS`]) from both storage areas.
pub(crate) fn wipe_storage() {
    for key in STORED_KEYS {
        browser::remove_stored(Area::Local, key);
        browser::remove_stored(Area::Session, key);
    }
}

/// The stored visitor id, or a new one, stored.
pub(crate) fn visitor_id() -> String {
    match browser::get_stored(Area::Local, VISITOR_KEY).filter(|id| is_valid_id(id)) {
        Some(id) => id,
        None => {
            let id = browser::random_id();
            browser::set_stored(Area::Local, VISITOR_KEY, id.as_str().into());
            id
        }
    }
}

/// The active session id, renewed after 30 idle minutes; records `now` as the last activity.
pub(crate) fn session_id(now: f64) -> String {
    let stored = browser::get_stored(Area::Session, SESSION_KEY);
    let last = browser::get_stored_number(Area::Session, SESSION_LAST_KEY);
    let id = match stored {
        Some(id) if session::is_active(Some(&id), last, now) => id,
        _ => {
            let id = browser::random_id();
            browser::set_stored(Area::Session, SESSION_KEY, id.as_str().into());
            id
        }
    };
    browser::set_stored(Area::Session, SESSION_LAST_KEY, now.into());
    id
}
