//! Sightline's browser SDK: wasm exports, called by the npm wrapper (`npm/index.js`).
//!
//! Input: `start(options, early)`, then `trackPageview(options)`, `trackEvent(name, props)`,
//! `flush()`, `consent(granted)`, `optOut()`, `identify(userId)`, `reset()` from the page (calls
//! made before the wasm was ready are replayed, in order, by `early`). Output: wire-v1 batches (see `docs/PROTOCOL.md`) posted to `${endpoint}/api/collect`.
//! Delivery: every event goes into the [`outbox`] (kept in localStorage unless strict) and leaves it
//! only when the collector confirms it; batches go out with `fetch` + `keepalive` on a short timer,
//! failures are retried with backoff, and when the page is hidden everything unconfirmed also goes
//! out with `sendBeacon`. A resend carries the same event ids, so the collector counts it once.
//! Policy lives in plain modules ([`batch`], [`outbox`], [`session`], [`spa`]) and in
//! `sightline-core` (wire limits, scrubbing); [`browser`] alone touches the page.
//! Must not: throw into the host page.
// On wasm the SDK uses only `core` and `alloc`: `std` would bring its panic and formatting machinery
// (see `sightline_core`'s panic handler). Natively (unit tests) it is a normal `std` crate.
#![cfg_attr(target_arch = "wasm32", no_std)]

extern crate alloc;

pub mod batch;
pub mod browser;
pub mod capture;
pub mod heap;
pub mod outbox;
pub mod props;
pub mod session;
pub mod spa;
pub mod vitals;

use alloc::borrow::ToOwned;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::RefCell;

use browser::Target::{Document, Window};
use browser::{listen, Area, JsValue};
use outbox::{Answer, Entry, Outbox};
use sightline_core::privacy::{check_prop, Value, Verdict};
use sightline_core::scrub::{clean_url, split_url, trim_end_byte, DEFAULT_QUERY_ALLOWLIST};
use sightline_core::wire::{field, is_valid_event_name, is_valid_id, PAGEVIEW};

#[cfg(target_arch = "wasm32")]
#[global_allocator]
static HEAP: heap::Heap = heap::Heap::new();

/// Web vitals and auto-capture (404 pages included) are compiled in only with the `extras` feature:
/// the npm wrapper loads that build (`sightline-full.wasm`) when a page asks for `webVitals`,
/// `autoCapture` or `notFound`, and the smaller default build otherwise. Without it, those options
/// are ignored.
const EXTRAS: bool = cfg!(feature = "extras");

/// How long events wait for companions before a batch goes out, in ms.
const FLUSH_DELAY_MS: u32 = 1000;
/// Unconfirmed events that trigger an immediate flush.
const FLUSH_AT_EVENTS: usize = 50;
const VISITOR_KEY: &str = "sl_vid";
const SESSION_KEY: &str = "sl_sid";
const SESSION_LAST_KEY: &str = "sl_last";
const OUTBOX_KEY: &str = "sl_outbox";
/// Events the full outbox dropped, not yet reported (absent when none).
const LOST_KEY: &str = "sl_lost";
/// Calls the npm wrapper saved because its page went away before the wasm was ready (the wrapper
/// replays them on the next page; the wasm only wipes them).
const SAVED_CALLS_KEY: &str = "sl_queue";
/// Set by `optOut()`: this browser is not tracked at all. A flag, not an id.
const OPT_OUT_KEY: &str = "sl_optout";
/// Everything the SDK may store that identifies or queues: wiped by `consent(false)` and `optOut()`.
const STORED_KEYS: [&str; 6] = [
    VISITOR_KEY,
    SESSION_KEY,
    SESSION_LAST_KEY,
    OUTBOX_KEY,
    LOST_KEY,
    SAVED_CALLS_KEY,
];

struct Tracker {
    endpoint: String,
    site: String,
    /// `None` in strict mode.
    visitor_id: Option<String>,
    /// Stores nothing: `privacy: "strict"`, consent required and not given, or GPC / Do-Not-Track.
    strict: bool,
    /// `privacy: "strict"` was asked for: consent does not lift it.
    always_strict: bool,
    /// `optOut()`: nothing is tracked.
    opted_out: bool,
    /// Staff surface (`surface: "admin" | "instructor"`): every event is internal traffic.
    internal: bool,
    /// The site's id for the signed-in user, from `identify()`.
    user_id: Option<String>,
    /// Query parameters kept in URLs: the defaults and `queryAllowlist`.
    /// `start` runs once per page, so the page's own names are leaked to live as long as it does:
    /// every URL is then scrubbed without copying the list.
    allowlist: Vec<&'static str>,
    /// The page's `beforeSend(event)` hook.
    before_send: Option<JsValue>,
    /// `hashRouting: true`: `#/route` fragments are pages.
    hash_routes: bool,
    /// Auto-capture state, when `autoCapture: true`.
    capture: Option<Capture>,
    /// Web-vitals state, when `webVitals: true`.
    vitals: Option<Vitals>,
    /// The page is being hidden: events recorded now go out with the hide's beacons.
    hiding: bool,
    /// The page was hidden and has not been seen visible since: an event recorded now (say, by a
    /// `pagehide` listener of the page that runs after ours) is beaconed at once.
    after_hide: bool,
    /// Scrubbed URL of the last pageview, so one navigation is never two pageviews.
    last_page: String,
    outbox: Outbox,
    /// The pending flush or retry: its timer id.
    timer: Option<f64>,
    /// The ids of the batch on its way, and the count of lost events it reports; the next batch
    /// waits for its answer.
    in_flight: Option<(Vec<String>, u32)>,
    /// `flush` as a JS function, for timers.
    flush_fn: JsValue,
    /// [`on_response`] as a JS function, for `fetch`.
    answer_fn: JsValue,
    /// Failed attempts in a row.
    failures: u32,
}

/// What the web-vitals measurement keeps until the page is hidden.
struct Vitals {
    /// `performance.now()` when the page was first hidden (infinite while it has not been).
    first_hidden: f64,
    /// `activationStart` of a prerendered page, the time of a back/forward-cache restore, else 0.
    activation: f64,
    /// The latest LCP candidate; reported on the first input or hide.
    lcp: Option<f64>,
    lcp_final: bool,
    cls: vitals::Cls,
    inp: vitals::Inp,
    /// Interaction ids seen, to estimate the interaction count as `web-vitals` does.
    interaction_ids: (u64, u64),
    reported: bool,
}

impl Vitals {
    fn new(first_hidden: f64, activation: f64) -> Self {
        Vitals {
            first_hidden,
            activation,
            lcp: None,
            lcp_final: false,
            cls: vitals::Cls::default(),
            inp: vitals::Inp::default(),
            interaction_ids: (u64::MAX, 0),
            reported: false,
        }
    }
}

/// What auto-capture tracks between reports.
#[derive(Default)]
struct Capture {
    engagement: capture::Engagement,
    /// Deepest scroll since the last report, in percent.
    scroll: u8,
    /// Error messages already sent from this page (each once).
    errors: Vec<String>,
}

impl Tracker {
    /// Writes the outbox to localStorage (never in strict mode).
    fn persist(&self) {
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
    fn cancel_timer(&mut self) {
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
fn with_tracker<R>(f: impl FnOnce(&mut Tracker) -> R) -> Option<R> {
    slot(|s| s.0.try_borrow_mut().ok()?.as_mut().map(f))
}

/// True once `start` ran.
fn started() -> bool {
    with_tracker(|_| ()).is_some()
}

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
    let Some(site) = browser::get_str(&options, "site").filter(|s| is_valid_id(s)) else {
        browser::warn(&["init() needs `site`: an id of 1-64 characters [A-Za-z0-9_-.:]"]);
        return;
    };
    let Some(endpoint) = browser::get_str(&options, "endpoint") else {
        browser::warn(&["init() needs `endpoint`: the collector's origin"]);
        return;
    };
    let always_strict = browser::get_str(&options, "privacy").as_deref() == Some("strict");
    let opted_out = browser::get_stored(Area::Local, OPT_OUT_KEY).is_some();
    let strict = always_strict
        || opted_out
        || browser::get_bool(&options, "requireConsent") == Some(true)
        || browser::privacy_signal();
    let surface = browser::get_str(&options, "surface").unwrap_or_default();
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
    for name in browser::items(&browser::get(&options, "queryAllowlist")) {
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
        before_send: browser::get_function(&options, "beforeSend").map(JsValue::pin),
        hash_routes: browser::get_bool(&options, "hashRouting") == Some(true),
        capture: (EXTRAS && browser::get_bool(&options, "autoCapture") == Some(true)).then(|| {
            Capture {
                scroll: browser::scroll_percent(),
                ..Capture::default()
            }
        }),
        hiding: false,
        after_hide: false,
        vitals: (EXTRAS && browser::get_bool(&options, "webVitals") == Some(true))
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
    browser::call(&early, "call", &JsValue::UNDEFINED, &JsValue::UNDEFINED);
    // Hidden or unloading: hiding fires `visibilitychange` and then `pagehide` (see `on_hide`).
    listen(Document, "visibilitychange", false, |_| {
        if browser::is_hidden() {
            on_hide();
        }
    });
    listen(Window, "pagehide", false, |_| on_hide());
    if EXTRAS && with_tracker(|t| t.capture.is_some()) == Some(true) {
        start_capture();
    }
    listen(Window, "online", false, |_| on_online());
    if EXTRAS && browser::get_bool(&options, "notFound") == Some(true) {
        // The site's 404 page says so: counted as a `404` event with its path.
        browser::when_shown(|_| {
            let path = split_url(&browser::page_url())
                .map(|p| p.path.to_owned())
                .unwrap_or_default();
            event_with("404", "path", path.into());
        });
    }
    if browser::get_bool(&options, "autoPageview") != Some(false) {
        browser::when_shown(|_| pageview(&JsValue::UNDEFINED, Origin::now()));
        // SPA navigations: history calls, back/forward (`popstate`), hash routes (`hashchange`: a
        // no-op unless enabled, since the scrubbed URL then has no route and the page is the same),
        // and back/forward-cache restores, which always count.
        browser::on_history_change(|| on_navigation(false));
        listen(Window, "popstate", false, |_| on_navigation(false));
        listen(Window, "hashchange", false, |_| on_navigation(false));
        listen(Window, "pageshow", false, |event| {
            if browser::get_bool(&event, "persisted") == Some(true) {
                on_navigation(true);
            }
        });
    }
    // After the first pageview, so a page's vitals follow it; a prerendered page is measured from
    // its activation (`activationStart` is known only then, and it was hidden until then).
    if EXTRAS && with_tracker(|t| t.vitals.is_some()) == Some(true) {
        browser::when_shown(|_| start_vitals());
    }
    if resend {
        flush();
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
    beacon_all();
    with_tracker(|t| t.user_id = Some(user_id));
}

/// Logout: forgets the user id and starts a new session.
#[cfg_attr(target_arch = "wasm32", export_name = "reset")]
pub extern "C" fn reset() {
    beacon_all();
    with_tracker(|t| t.user_id = None);
    browser::remove_stored(Area::Session, SESSION_KEY);
}

fn wipe_storage() {
    for key in STORED_KEYS {
        browser::remove_stored(Area::Local, key);
        browser::remove_stored(Area::Session, key);
    }
}

/// Where and when a call was made, and its event id if the wrapper already chose one.
struct Origin {
    url: String,
    ts: f64,
    id: Option<String>,
}

impl Origin {
    /// Where and when `call` was made, when it is one the wrapper queued before the wasm was ready,
    /// `[method, args, url, ts, id]` (so a replayed call counts once, on its own page); else now.
    fn of(call: JsValue) -> Origin {
        if !call.is_object() {
            return Origin::now();
        }
        let at = |key| browser::get(&call, key);
        Origin {
            url: at("2").as_string().unwrap_or_else(browser::page_url),
            ts: at("3").as_f64().unwrap_or_else(browser::now),
            id: at("4").as_string().filter(|id| is_valid_id(id)),
        }
    }

    fn now() -> Origin {
        Origin {
            url: browser::page_url(),
            ts: browser::now(),
            id: None,
        }
    }
}

/// A history change or a back/forward-cache restore (`force`): a pageview if the page changed.
fn on_navigation(force: bool) {
    let url = browser::page_url();
    let clean = scrub_url(&url);
    let is_new = with_tracker(|t| force || !spa::same_page(&t.last_page, &clean));
    if is_new == Some(true) {
        // No referrer: the visit's source was counted with its first pageview.
        enqueue(
            PAGEVIEW,
            Origin {
                url,
                ts: browser::now(),
                id: None,
            },
            None,
            &JsValue::UNDEFINED,
        );
    }
}

/// Records a pageview of the current page; `options` may override `{ path, referrer }`. `queued`:
/// the wrapper's record of the call, when it was made before the wasm was ready (see [`Origin::of`]).
#[cfg_attr(target_arch = "wasm32", export_name = "trackPageview")]
pub extern "C" fn track_pageview(options: JsValue, queued: JsValue) {
    pageview(&options, Origin::of(queued));
}

fn pageview(options: &JsValue, origin: Origin) {
    let url = match (browser::get_str(options, "path"), split_url(&origin.url)) {
        (Some(path), Some(parts)) if path.starts_with("/") => parts.origin() + &path,
        _ => origin.url.clone(),
    };
    let referrer = browser::get_str(options, "referrer").unwrap_or_else(browser::referrer);
    enqueue(
        PAGEVIEW,
        Origin { url, ..origin },
        Some(&referrer),
        &JsValue::UNDEFINED,
    );
}

/// Records a custom event `name` with optional `props` (an object of strings, numbers, booleans);
/// `queued` as for [`track_pageview`].
#[cfg_attr(target_arch = "wasm32", export_name = "trackEvent")]
pub extern "C" fn track_event(name: JsValue, props: JsValue, queued: JsValue) {
    event(
        name.as_string().unwrap_or_default(),
        &props,
        Origin::of(queued),
    );
}

fn event(name: String, props: &JsValue, origin: Origin) {
    if !is_valid_event_name(&name) || name == PAGEVIEW {
        browser::warn(&[
            "trackEvent() needs a name of 1-120 characters, not `pageview`; event dropped",
        ]);
        return;
    }
    enqueue(&name, origin, None, props);
}

/// Sends the oldest unconfirmed events now (one batch at a time; the next follows its answer).
#[cfg_attr(target_arch = "wasm32", export_name = "flush")]
pub extern "C" fn flush() {
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
fn on_response(response: JsValue) {
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
fn beacon_all() {
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

/// The page is hidden or unloading: report engagement (auto-capture), then beacon everything.
fn on_hide() {
    with_tracker(|t| {
        t.hiding = true;
        t.after_hide = true;
    });
    if EXTRAS {
        report_engagement();
        report_vitals_on_hide();
    }
    beacon_all();
    with_tracker(|t| t.hiding = false);
}

/// Records a custom event with one prop.
fn event_with(name: &str, key: &str, value: JsValue) {
    let props = browser::object();
    browser::put(&props, key, value);
    event(name.into(), &props, Origin::now());
}

/// Runs `f` on the auto-capture state, if enabled.
fn with_capture<R>(f: impl FnOnce(&mut Capture) -> R) -> Option<R> {
    with_tracker(|t| t.capture.as_mut().map(f)).flatten()
}

fn start_capture() {
    with_capture(|c| c.engagement.set(browser::is_engaged(), browser::now()));
    listen(Document, "click", true, |event| {
        if let Some((href, download)) = browser::clicked_link(&event) {
            let page_host = split_url(&browser::page_url())
                .map(|p| p.host.to_owned())
                .unwrap_or_default();
            let (name, url) = match capture::link_click(&href, &page_host, download) {
                Some(capture::LinkClick::Download(url)) => ("file_download", url),
                Some(capture::LinkClick::Outbound(url)) => ("outbound_click", url),
                None => return,
            };
            event_with(name, "url", url.into());
        }
    });
    listen(Document, "submit", true, |event| {
        if let Some(form) = browser::submitted_form(&event) {
            event_with("form_submit", "form", form.into());
        }
    });
    listen(Window, "scroll", true, |_| {
        let percent = browser::scroll_percent();
        with_capture(|c| c.scroll = c.scroll.max(percent));
    });
    // Visible and focused, or not: engaged time.
    for (target, name) in [
        (Window, "focus"),
        (Window, "blur"),
        (Document, "visibilitychange"),
    ] {
        listen(target, name, true, |_| {
            with_capture(|c| c.engagement.set(browser::is_engaged(), browser::now()));
        });
    }
    listen(Window, "error", true, |event| {
        let Some(message) = browser::get_str(&event, "message") else {
            return;
        };
        let Some(message) = capture::error_message(&message) else {
            return;
        };
        let first = with_capture(|c| {
            let first = !c.errors.contains(&message) && c.errors.len() < 10;
            if first {
                c.errors.push(message.clone());
            }
            first
        });
        if first == Some(true) {
            event_with("js_error", "message", message.into());
        }
    });
}

/// Runs `f` on the web-vitals state, if measured.
fn with_vitals<R>(f: impl FnOnce(&mut Vitals) -> R) -> Option<R> {
    with_tracker(|t| t.vitals.as_mut().map(f)).flatten()
}

/// Sends one `web_vital` event: `{ metric, value, rating }` (ms; CLS unitless).
fn report_vital(metric: &str, value: f64) {
    let props = browser::object();
    browser::put(&props, "metric", metric.into());
    browser::put(&props, "value", vitals::rounded(metric, value).into());
    browser::put(&props, "rating", vitals::rating(metric, value).into());
    event("web_vital".into(), &props, Origin::now());
}

fn start_vitals() {
    let first_hidden = if browser::is_hidden() {
        0.0
    } else {
        f64::INFINITY
    };
    let entry = browser::navigation_entry();
    let activation = entry
        .and_then(|e| browser::get_number(&e, "activationStart"))
        .unwrap_or(0.0);
    with_vitals(|v| *v = Vitals::new(first_hidden, activation));
    if let Some(response) = entry.and_then(|e| browser::get_number(&e, "responseStart")) {
        if response > 0.0 {
            report_vital("TTFB", vitals::ttfb(response, activation));
        }
    }
    browser::observe("paint", None, |list| {
        browser::each_entry(&list, |entry| {
            if browser::get_str(entry, "name").as_deref() != Some("first-contentful-paint") {
                return;
            }
            let start = browser::get_number(entry, "startTime").unwrap_or(0.0);
            if let Some(fcp) =
                with_vitals(|v| vitals::visible_value(start, v.activation, v.first_hidden))
                    .flatten()
            {
                report_vital("FCP", fcp);
            }
        })
    });
    browser::observe("largest-contentful-paint", None, |list| {
        browser::each_entry(&list, |entry| {
            let start = browser::get_number(entry, "startTime").unwrap_or(0.0);
            with_vitals(|v| {
                if !v.lcp_final {
                    if let Some(lcp) = vitals::visible_value(start, v.activation, v.first_hidden) {
                        v.lcp = Some(lcp);
                    }
                }
            });
        })
    });
    browser::observe("layout-shift", None, |list| {
        browser::each_entry(&list, |entry| {
            let start = browser::get_number(entry, "startTime").unwrap_or(0.0);
            let value = browser::get_number(entry, "value").unwrap_or(0.0);
            let input = browser::get_bool(entry, "hadRecentInput") == Some(true);
            with_vitals(|v| v.cls.add(start, value, input));
        })
    });
    browser::observe("event", Some(40.0), |list| {
        browser::each_entry(&list, on_event_timing)
    });
    browser::observe("first-input", None, |list| {
        browser::each_entry(&list, on_event_timing)
    });
    // LCP stops at the first input: later paints are caused by the visitor.
    for name in ["keydown", "click"] {
        listen(Window, name, true, |_| finalize_lcp());
    }
    listen(Window, "pageshow", false, |event| {
        if browser::get_bool(&event, "persisted") == Some(true) {
            on_restore(&event);
        }
    });
}

/// A back/forward-cache restore is a new page view to measure, as `web-vitals` does: CLS and INP
/// start again (reported when the page is next hidden), TTFB is 0, and FCP and LCP are the time
/// from the restore to the next frame after the one it painted (two animation frames). No paint
/// or LCP entries arrive for a restored page, so LCP is final at once.
fn on_restore(event: &JsValue) {
    let restored_at = browser::get_number(event, "timeStamp").unwrap_or(0.0);
    with_vitals(|v| {
        *v = Vitals::new(f64::INFINITY, restored_at);
        v.lcp_final = true;
    });
    report_vital("TTFB", 0.0);
    browser::next_frame(|_| {
        browser::next_frame(|_| {
            let since = with_vitals(|v| browser::perf_now() - v.activation).unwrap_or(0.0);
            report_vital("FCP", since);
            report_vital("LCP", since);
        })
    });
}

/// An `event` or `first-input` entry: an interaction's latency for INP.
fn on_event_timing(entry: &JsValue) {
    let id = browser::get_number(entry, "interactionId").unwrap_or(0.0) as u64;
    let duration = browser::get_number(entry, "duration").unwrap_or(0.0);
    with_vitals(|v| {
        v.inp.add(id, duration);
        if id > 0 {
            v.interaction_ids = (v.interaction_ids.0.min(id), v.interaction_ids.1.max(id));
        }
    });
}

fn finalize_lcp() {
    let lcp = with_vitals(|v| {
        let first = !v.lcp_final;
        v.lcp_final = true;
        v.lcp.filter(|_| first)
    })
    .flatten();
    if let Some(lcp) = lcp {
        report_vital("LCP", lcp);
    }
}

/// The first time the page is hidden: LCP (if not yet final), CLS and INP go out.
fn report_vitals_on_hide() {
    let now = browser::perf_now();
    let Some(first) = with_vitals(|v| {
        v.first_hidden = v.first_hidden.min(now);
        !core::mem::replace(&mut v.reported, true)
    }) else {
        return;
    };
    if !first {
        return;
    }
    finalize_lcp();
    let (cls, inp) = with_vitals(|v| {
        let (min, max) = v.interaction_ids;
        // Chrome gives interactions ids 7 apart: `web-vitals` estimates the count the same way.
        let count = if max >= min {
            ((max - min) / 7 + 1) as u32
        } else {
            0
        };
        (v.cls.value, v.inp.value(count))
    })
    .unwrap_or((0.0, None));
    report_vital("CLS", cls);
    if let Some(inp) = inp {
        report_vital("INP", inp);
    }
}

/// Auto-capture: one `engagement` event with the engaged seconds and deepest scroll since the last.
fn report_engagement() {
    let report = with_tracker(|t| {
        let c = t.capture.as_mut()?;
        let seconds = c.engagement.take_seconds(browser::now());
        let scroll = core::mem::take(&mut c.scroll).max(browser::scroll_percent());
        (seconds > 0).then_some((seconds, scroll))
    })
    .flatten();
    if let Some((seconds, scroll)) = report {
        let props = browser::object();
        browser::put(&props, "seconds", seconds.into());
        browser::put(&props, "scroll", scroll.into());
        event("engagement".into(), &props, Origin::now());
    }
}

/// Back online: retry now instead of waiting out the backoff.
fn on_online() {
    with_tracker(|t| {
        t.failures = 0;
        t.cancel_timer();
    });
    flush();
}

fn enqueue(name: &str, origin: Origin, referrer: Option<&str>, props: &JsValue) {
    let Some((strict, internal)) =
        with_tracker(|t| (!t.opted_out).then_some((t.strict, t.internal))).flatten()
    else {
        return;
    };
    let internal = internal || name.starts_with("admin:") || name.starts_with("instructor:");
    let session = if strict {
        String::new()
    } else {
        session_id(browser::now())
    };
    let id = origin.id.unwrap_or_else(browser::random_id);
    let clean_url = scrub_url(&origin.url);
    let event = browser::object();
    browser::put(&event, field::ID, id.as_str().into());
    browser::put(&event, field::TS, origin.ts.into());
    browser::put(&event, field::NAME, name.into());
    browser::put(&event, field::URL, clean_url.as_str().into());
    if let Some(referrer) = referrer.filter(|r| !r.is_empty()) {
        browser::put(&event, field::REFERRER, scrub_url(referrer).into());
    }
    if let Some(props) = clean_props(name, props, internal) {
        browser::put(&event, field::PROPS, props);
    }
    let hook = with_tracker(|t| t.before_send).flatten();
    let event = match hook {
        Some(hook) => match browser::before_send(&hook, &event) {
            Some(event) => event,
            None => return,
        },
        None => event,
    };
    let json = match browser::to_json(&event) {
        Some(json) if json.len() <= outbox::MAX_EVENT_BYTES => json,
        _ => {
            browser::warn(&["event props are not JSON, or larger than 32 KB; event dropped"]);
            return;
        }
    };
    let flush_now = with_tracker(|t| {
        if name == PAGEVIEW {
            t.last_page = clean_url;
        }
        t.outbox.push(Entry {
            id,
            session,
            json,
            beaconed: false,
        });
        // Stored by the next flush or when the page is hidden, not per event: writing the whole
        // outbox to localStorage on every call would make tracking O(n) per event.
        if t.timer.is_none() && t.in_flight.is_none() {
            t.schedule(FLUSH_DELAY_MS);
        }
        // A pageview goes out at once (the page's first signal); other events wait for companions.
        name == PAGEVIEW || t.outbox.len() >= FLUSH_AT_EVENTS
    });
    if flush_now == Some(true) {
        flush();
    }
    let late = with_tracker(|t| !t.hiding && (t.after_hide || browser::is_hidden()));
    if late == Some(true) {
        beacon_all();
    }
}

/// Only what may leave the page (see `sightline_core::scrub::clean_url`), keeping the tracker's
/// allowlisted query parameters; empty for non-http URLs.
fn scrub_url(url: &str) -> String {
    with_tracker(|t| clean_url(url, &t.allowlist, t.hash_routes))
        .flatten()
        .unwrap_or_default()
}

/// The event's props as they may leave the page; a console warning names each dropped prop.
fn clean_props(name: &str, props: &JsValue, internal: bool) -> Option<JsValue> {
    let out = browser::object();
    let mut kept = 0;
    for (index, (key, value)) in browser::entries(props).into_iter().enumerate() {
        let text = value.as_string();
        let view = match (&text, value.as_f64(), value.as_bool()) {
            (Some(s), _, _) => Value::Str(s),
            (_, Some(n), _) => Value::Num(n),
            (_, _, Some(b)) => Value::Bool(b),
            _ => Value::Other,
        };
        let verdict = check_prop(&key, view, index);
        let value = match (verdict, &text) {
            (Verdict::Drop(why), _) => {
                browser::warn(&["prop `", &key, "` of `", name, "` dropped: ", why]);
                continue;
            }
            (_, Some(s)) if props::is_search_term(name, &key) => {
                JsValue::from(props::search_term(s, browser::trim_lower_case))
            }
            (Verdict::Cut(n), Some(s)) => JsValue::from(props::cut_chars(s, n)),
            _ => value,
        };
        browser::put(&out, &key, value);
        kept += 1;
    }
    let has_order_id = browser::get_str(props, "order_id").is_some_and(|s| !s.is_empty())
        || browser::get_number(props, "order_id").is_some();
    let value = browser::get_number(props, "value");
    let currency = browser::get_str(props, "currency");
    for warning in props::conversion_warnings(name, has_order_id, value, currency.as_deref())
        .into_iter()
        .flatten()
    {
        browser::warn(&[name, " ", warning]);
    }
    if internal {
        browser::put(&out, "is_internal", true.into());
        kept += 1;
    }
    (kept > 0).then_some(out)
}

fn visitor_id() -> String {
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
fn session_id(now: f64) -> String {
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
