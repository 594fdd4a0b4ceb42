//! Sightline's browser SDK: its wasm exports, called by the npm wrapper (`npm/index.js`).
//!
//! Input: `start(options, early)`, then `trackPageview(options)`, `trackEvent(name, props)`,
//! `flush()`, `consent(granted)`, `optOut()`, `identify(userId)`, `reset()` from the page (calls
//! made before the wasm was ready are replayed, in order, by `early`). Output: wire-v1 batches (see
//! `docs/PROTOCOL.md`) posted to `${endpoint}/api/collect`. The exports here are thin; the work is
//! in one module per job:
//! - `tracker`: the page's tracker state (options, identity, outbox) in one slot, the stored ids
//!   and storage keys;
//! - `record`: a call made into a scrubbed, checked wire event;
//! - `delivery`: every event goes into the [`outbox`] (kept in localStorage unless strict) and
//!   leaves it only when the collector confirms it; batches go out with `fetch` + `keepalive` on a
//!   short timer, failures are retried with backoff, and when the page is hidden everything
//!   unconfirmed also goes out with `sendBeacon`. A resend carries the same event ids, so the
//!   collector counts it once;
//! - `extras`: auto-capture, engagement, web vitals and 404 pages (feature `extras` only).
//!
//! Policy lives in plain modules ([`batch`], [`outbox`], [`session`], [`spa`], [`props`],
//! [`capture`], [`vitals`]) and in `sightline-core` (wire limits, privacy, scrubbing); [`browser`]
//! alone touches the page, and [`heap`] is the wasm allocator.
//! Must not: throw into the host page.
// On wasm the SDK uses only `core` and `alloc`: `std` would bring its panic and formatting machinery
// (see `sightline_core`'s panic handler). Natively (unit tests) it is a normal `std` crate.
#![cfg_attr(target_arch = "wasm32", no_std)]

extern crate alloc;

pub mod batch;
pub mod browser;
pub mod capture;
mod delivery;
mod extras;
pub mod heap;
pub mod outbox;
pub mod props;
mod record;
pub mod session;
pub mod spa;
mod tracker;
pub mod vitals;

use browser::{Area, JsValue};
use outbox::Outbox;
use record::Origin;
use tracker::{started, visitor_id, wipe_storage, with_tracker, OPT_OUT_KEY, SESSION_KEY};

#[cfg(target_arch = "wasm32")]
#[global_allocator]
static HEAP: heap::Heap = heap::Heap::new();

/// Starts tracking: `options` is `{ site, endpoint, privacy?: "strict", requireConsent?: bool,
/// surface?: "storefront" | "admin" | "instructor", autoPageview?: bool }`. Strict mode (nothing
/// stored) applies with `privacy: "strict"`, with `requireConsent` until `consent(true)`, and when
/// the browser sends Global Privacy Control or Do-Not-Track until `consent(true)`.
/// `early` is a function of the wrapper that replays, in order, the calls made before the wasm was
/// ready (those an earlier page saved first): it runs once the tracker exists, before anything is
/// sent, so an early `optOut()`, `consent(false)`, `identify()` or `reset()` holds for the first
/// pageview too. Unless `autoPageview` is false, then sends the first pageview (when the page is
/// shown: a prerendered page counts only once activated) and one per SPA navigation. Events left
/// unconfirmed by an earlier page are sent again. Calling it twice does nothing.
#[cfg_attr(target_arch = "wasm32", export_name = "start")]
pub extern "C" fn start(options: JsValue, early: JsValue) {
    if started() {
        return;
    }
    let Some(resend) = tracker::install(&options) else {
        return;
    };
    browser::call(&early, "call", &JsValue::UNDEFINED, &JsValue::UNDEFINED);
    delivery::listen_page();
    if extras::ENABLED && with_tracker(|t| t.capture.is_some()) == Some(true) {
        extras::start_capture();
    }
    if extras::ENABLED && browser::get_bool(&options, "notFound") == Some(true) {
        extras::count_not_found();
    }
    if browser::get_bool(&options, "autoPageview") != Some(false) {
        record::track_pages();
    }
    // After the first pageview, so a page's vitals follow it; a prerendered page is measured from
    // its activation (`activationStart` is known only then, and it was hidden until then).
    if extras::ENABLED && with_tracker(|t| t.vitals.is_some()) == Some(true) {
        browser::when_shown(|_| extras::start_vitals());
    }
    if resend {
        delivery::flush();
    }
}

/// `consent(true)`: the visitor agreed; ids and the outbox may be stored (unless `privacy: "strict"`).
/// `consent(false)`: back to strict mode, and every stored id is wiped.
#[cfg_attr(target_arch = "wasm32", export_name = "consent")]
pub extern "C" fn consent(granted: JsValue) {
    let granted = granted.as_bool() == Some(true);
    let wipe = with_tracker(|t| {
        if !granted {
            t.strict = true;
            t.visitor_id = None;
        } else if !t.always_strict {
            t.strict = false;
            t.opted_out = false;
            browser::remove_stored(Area::Local, OPT_OUT_KEY);
            t.visitor_id = Some(visitor_id());
            t.persist();
        }
        !granted
    });
    if wipe == Some(true) {
        wipe_storage();
    }
}

/// Stops all tracking in this browser (remembered), drops unsent events and wipes stored ids.
#[cfg_attr(target_arch = "wasm32", export_name = "optOut")]
pub extern "C" fn opt_out() {
    with_tracker(|t| {
        t.opted_out = true;
        t.strict = true;
        t.visitor_id = None;
        t.user_id = None;
        t.outbox = Outbox::default();
        t.cancel_timer();
    });
    wipe_storage();
    browser::set_stored(Area::Local, OPT_OUT_KEY, "1".into());
}

/// Names the signed-in user with the site's own id, so their visits on every device are one
/// visitor. Emails, phone numbers and anything but an id of 1-64 `[A-Za-z0-9_-.:]` are refused.
#[cfg_attr(target_arch = "wasm32", export_name = "identify")]
pub extern "C" fn identify(user_id: JsValue) {
    // Taken as a JS value (the wrapper passes a string): a `String` parameter costs its own
    // conversion code in the wasm.
    let user_id = user_id.as_string().unwrap_or_default();
    if !sightline_core::wire::is_valid_user_id(&user_id) {
        browser::warn(&[
            "identify() takes the site's internal user id, never an email or phone number; ignored",
        ]);
        return;
    }
    // Events so far belong to the anonymous visitor: send them under the old identity first.
    delivery::beacon_all();
    with_tracker(|t| t.user_id = Some(user_id));
}

/// Logout: forgets the user id and starts a new session.
#[cfg_attr(target_arch = "wasm32", export_name = "reset")]
pub extern "C" fn reset() {
    delivery::beacon_all();
    with_tracker(|t| t.user_id = None);
    browser::remove_stored(Area::Session, SESSION_KEY);
}

/// Records a pageview of the current page; `options` may override `{ path, referrer }`. `queued`:
/// the wrapper's record of the call, when it was made before the wasm was ready (see [`Origin::of`]).
#[cfg_attr(target_arch = "wasm32", export_name = "trackPageview")]
pub extern "C" fn track_pageview(options: JsValue, queued: JsValue) {
    record::pageview(&options, Origin::of(queued));
}

/// Records a custom event `name` with optional `props` (an object of strings, numbers, booleans);
/// `queued` as for [`track_pageview`].
#[cfg_attr(target_arch = "wasm32", export_name = "trackEvent")]
pub extern "C" fn track_event(name: JsValue, props: JsValue, queued: JsValue) {
    record::event(
        name.as_string().unwrap_or_default(),
        &props,
        Origin::of(queued),
    );
}

/// Sends the oldest unconfirmed events now (one batch at a time; the next follows its answer).
#[cfg_attr(target_arch = "wasm32", export_name = "flush")]
pub extern "C" fn flush() {
    delivery::flush();
}
