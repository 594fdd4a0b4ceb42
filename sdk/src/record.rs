//! Recording: a pageview or custom event, from the call that made it to the JSON text that goes
//! into the outbox.
//!
//! Input: the page's calls (`trackPageview`, `trackEvent`, SPA navigations) with their [`Origin`].
//! Output: one wire-v1 event per call, handed to [`crate::delivery::enqueue`]: its URL and referrer
//! scrubbed (`sightline_core::scrub::clean_url`), each prop checked
//! (`sightline_core::privacy::check_prop`, a console warning per dropped one), the session id,
//! internal traffic marked, and the page's `beforeSend` run; built as a JS object with the field
//! names of `sightline_core::wire::field` and encoded by the browser's `JSON.stringify`. Nothing is
//! recorded after `optOut()`. Must not: hold a privacy rule of its own, or send anything.

use alloc::string::String;

use crate::browser::Target::Window;
use crate::browser::{self, listen, JsValue};
use crate::outbox::{self, Entry};
use crate::tracker::{session_id, with_tracker};
use crate::{delivery, props, spa};
use sightline_core::privacy::{check_prop, Value, Verdict};
use sightline_core::scrub::{clean_url, split_url};
use sightline_core::wire::{field, is_valid_event_name, is_valid_id, PAGEVIEW};

/// Where and when a call was made, and its event id if the wrapper already chose one.
pub(crate) struct Origin {
    url: String,
    ts: f64,
    id: Option<String>,
}

impl Origin {
    /// Where and when `call` was made, when it is one the wrapper queued before the wasm was ready,
    /// `[method, args, url, ts, id]` (so a replayed call counts once, on its own page); else now.
    pub(crate) fn of(call: JsValue) -> Origin {
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

    pub(crate) fn now() -> Origin {
        Origin {
            url: browser::page_url(),
            ts: browser::now(),
            id: None,
        }
    }
}

/// `autoPageview`: the first pageview when the page is shown (a prerendered page counts only once
/// activated), then one per SPA navigation.
pub(crate) fn track_pages() {
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

/// A history change or a back/forward-cache restore (`force`): a pageview if the page changed.
fn on_navigation(force: bool) {
    let url = browser::page_url();
    let clean = scrub_url(&url);
    let is_new = with_tracker(|t| force || !spa::same_page(&t.last_page, &clean));
    if is_new == Some(true) {
        // No referrer: the visit's source was counted with its first pageview.
        record(
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

/// Records a pageview of the page at `origin`; `options` may override `{ path, referrer }`.
pub(crate) fn pageview(options: &JsValue, origin: Origin) {
    let url = match (browser::get_str(options, "path"), split_url(&origin.url)) {
        (Some(path), Some(parts)) if path.starts_with("/") => parts.origin() + &path,
        _ => origin.url.clone(),
    };
    let referrer = browser::get_str(options, "referrer").unwrap_or_else(browser::referrer);
    record(
        PAGEVIEW,
        Origin { url, ..origin },
        Some(&referrer),
        &JsValue::UNDEFINED,
    );
}

/// Records a custom event `name` with `props`; a console warning drops an invalid name.
pub(crate) fn event(name: String, props: &JsValue, origin: Origin) {
    if !is_valid_event_name(&name) || name == PAGEVIEW {
        browser::warn(&[
            "trackEvent() needs a name of 1-120 characters, not `pageview`; event dropped",
        ]);
        return;
    }
    record(&name, origin, None, props);
}

/// Records a custom event with one prop.
pub(crate) fn event_with(name: &str, key: &str, value: JsValue) {
    let props = browser::object();
    browser::put(&props, key, value);
    event(name.into(), &props, Origin::now());
}

/// Builds the event as it may leave the page and hands it to delivery.
fn record(name: &str, origin: Origin, referrer: Option<&str>, props: &JsValue) {
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
    let pageview = name == PAGEVIEW;
    if pageview {
        with_tracker(|t| t.last_page = clean_url);
    }
    delivery::enqueue(
        Entry {
            id,
            session,
            json,
            beaconed: false,
        },
        pageview,
    );
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
