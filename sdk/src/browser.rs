//! The browser edge: the only module that touches `web_sys` / `js_sys`.
//!
//! Input: calls from `lib.rs`. Output: values read from the page (URL, referrer, storage, clock,
//! random ids) and effects on it (storage writes, beacons, listeners, console warnings).
//! Must not: throw into the host page (every JS error is swallowed here) or decide policy.

use js_sys::{Object, Reflect, JSON};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// Which Web Storage area.
#[derive(Debug, Clone, Copy)]
pub enum Area {
    /// `localStorage`: survives the tab.
    Local,
    /// `sessionStorage`: this tab only.
    Session,
}

fn storage(area: Area) -> Option<web_sys::Storage> {
    let window = web_sys::window()?;
    match area {
        Area::Local => window.local_storage(),
        Area::Session => window.session_storage(),
    }
    .ok()
    .flatten()
}

/// Reads a stored value; `None` when absent or storage is blocked.
pub fn get(area: Area, key: &str) -> Option<String> {
    storage(area)?.get_item(key).ok().flatten()
}

/// Stores a value; silently does nothing when storage is blocked or full.
pub fn set(area: Area, key: &str, value: &str) {
    if let Some(s) = storage(area) {
        let _ = s.set_item(key, value);
    }
}

/// Removes a stored value.
pub fn remove(area: Area, key: &str) {
    if let Some(s) = storage(area) {
        let _ = s.remove_item(key);
    }
}

/// True when the browser asks not to be tracked: Global Privacy Control or Do-Not-Track.
pub fn privacy_signal() -> bool {
    let Some(navigator) = web_sys::window().map(|w| w.navigator()) else {
        return false;
    };
    get_bool(&navigator, "globalPrivacyControl") == Some(true)
        || get_str(&navigator, "doNotTrack").as_deref() == Some("1")
}

/// Milliseconds since the epoch.
pub fn now() -> f64 {
    js_sys::Date::now()
}

/// 128 random bits from the crypto RNG as 32 hex characters (never a fingerprint).
pub fn random_id() -> String {
    let mut bytes = [0u8; 16];
    let filled = web_sys::window()
        .and_then(|w| w.crypto().ok())
        .is_some_and(|c| c.get_random_values_with_u8_array(&mut bytes).is_ok());
    if !filled {
        // No crypto RNG (very old browser): Math.random is weaker but still not a fingerprint.
        for b in &mut bytes {
            *b = (js_sys::Math::random() * 256.0) as u8;
        }
    }
    sightline_core::encode::hex(&bytes)
}

/// The page's full URL.
pub fn page_url() -> String {
    web_sys::window()
        .and_then(|w| w.location().href().ok())
        .unwrap_or_default()
}

/// `document.referrer` (empty when none).
pub fn referrer() -> String {
    web_sys::window()
        .and_then(|w| w.document())
        .map(|d| d.referrer())
        .unwrap_or_default()
}

/// True while the page is hidden (background tab, unloading).
pub fn is_hidden() -> bool {
    web_sys::window()
        .and_then(|w| w.document())
        .is_some_and(|d| d.visibility_state() == web_sys::VisibilityState::Hidden)
}

/// Reads `obj[key]` as a string, if it is one.
pub fn get_str(obj: &JsValue, key: &str) -> Option<String> {
    Reflect::get(obj, &JsValue::from_str(key))
        .ok()
        .and_then(|v| v.as_string())
}

/// Reads `obj[key]` as a boolean, if it is one.
pub fn get_bool(obj: &JsValue, key: &str) -> Option<bool> {
    Reflect::get(obj, &JsValue::from_str(key))
        .ok()
        .and_then(|v| v.as_bool())
}

/// The own enumerable `[key, value]` pairs of an object, in order.
pub fn entries(obj: &JsValue) -> Vec<(String, JsValue)> {
    if !is_plain_object(obj) {
        return Vec::new();
    }
    Object::entries(obj.unchecked_ref())
        .iter()
        .filter_map(|pair| {
            let key = Reflect::get_u32(&pair, 0).ok()?.as_string()?;
            Some((
                key,
                Reflect::get_u32(&pair, 1).unwrap_or(JsValue::UNDEFINED),
            ))
        })
        .collect()
}

/// `obj[key]` when it is a function.
pub fn get_function(obj: &JsValue, key: &str) -> Option<js_sys::Function> {
    Reflect::get(obj, &JsValue::from_str(key))
        .ok()?
        .dyn_into()
        .ok()
}

/// `obj[key]` when it is an array of strings; other items are skipped.
pub fn get_strings(obj: &JsValue, key: &str) -> Vec<String> {
    Reflect::get(obj, &JsValue::from_str(key))
        .ok()
        .and_then(|v| v.dyn_into::<js_sys::Array>().ok())
        .map(|a| a.iter().filter_map(|v| v.as_string()).collect())
        .unwrap_or_default()
}

/// Calls the page's `beforeSend(event)`: `Some(event)` to send (possibly rewritten), `None` to drop.
/// An exception drops the event (the hook may exist to filter private data).
pub fn before_send(hook: &js_sys::Function, event: &Object) -> Option<JsValue> {
    match hook.call1(&JsValue::NULL, event) {
        Ok(result) if is_plain_object(&result) => Some(result),
        Ok(_) => None,
        Err(_) => {
            warn("beforeSend threw; event dropped");
            None
        }
    }
}

/// A fresh plain object to fill with [`put`].
pub fn object() -> Object {
    Object::new()
}

/// Sets `obj[key] = value`.
pub fn put(obj: &Object, key: &str, value: impl Into<JsValue>) {
    let _ = Reflect::set(obj, &JsValue::from_str(key), &value.into());
}

/// True when `value` is a non-null object that is not an array.
pub fn is_plain_object(value: &JsValue) -> bool {
    value.is_object() && !js_sys::Array::is_array(value)
}

/// Calls `f` with each element of a JSON array text; anything else is ignored.
pub fn each_in_json_array(text: &str, f: impl Fn(JsValue)) {
    if let Ok(array) = JSON::parse(text).and_then(|v| v.dyn_into::<js_sys::Array>()) {
        array.for_each(&mut |item, _, _| f(item));
    }
}

/// The browser's own `String.prototype.toLowerCase` (keeps Unicode case tables out of the wasm).
pub fn to_lower_case(text: &str) -> String {
    String::from(js_sys::JsString::from(text).to_lower_case())
}

/// The browser's own `JSON.stringify` (keeps serde out of the wasm).
pub fn to_json(value: &JsValue) -> Option<String> {
    JSON::stringify(value).ok().and_then(|s| s.as_string())
}

/// Posts `body` as `text/plain` (no CORS preflight) with `fetch` + `keepalive`, and calls `done`
/// with the HTTP status (`0` when there was no answer) and the `Retry-After` seconds, if any.
pub fn post(url: &str, body: &str, done: impl FnOnce(u16, Option<u32>) + 'static) {
    let Some(window) = web_sys::window() else {
        return done(0, None);
    };
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_body(&JsValue::from_str(body));
    // web-sys marks `keepalive` unstable; the property itself is in every current browser.
    let _ = Reflect::set(&init, &JsValue::from_str("keepalive"), &JsValue::TRUE);
    let done = std::rc::Rc::new(std::cell::Cell::new(Some(done)));
    let on_error = done.clone();
    let answered = Closure::once(move |response: JsValue| {
        let response: web_sys::Response = response.unchecked_into();
        let retry_after = response
            .headers()
            .get("Retry-After")
            .ok()
            .flatten()
            .and_then(|s| s.trim().parse().ok());
        if let Some(done) = done.take() {
            done(response.status(), retry_after);
        }
    });
    let failed = Closure::once(move |_: JsValue| {
        if let Some(done) = on_error.take() {
            done(0, None);
        }
    });
    let _ = window
        .fetch_with_str_and_init(url, &init)
        .then2(&answered, &failed);
    // One of the two runs, possibly after the page is gone; both are small and leaked on purpose.
    answered.forget();
    failed.forget();
}

/// Hands `body` to the browser with `navigator.sendBeacon` as `text/plain`, which outlives the page.
/// Returns false when the browser refused it.
pub fn beacon(url: &str, body: &str) -> bool {
    web_sys::window().is_some_and(|w| {
        w.navigator()
            .send_beacon_with_opt_str(url, Some(body))
            .unwrap_or(false)
    })
}

/// Calls `handler` when the browser goes back online.
pub fn on_online(handler: fn()) {
    if let Some(window) = web_sys::window() {
        let listener = Closure::<dyn FnMut()>::new(handler);
        let _ =
            window.add_event_listener_with_callback("online", listener.as_ref().unchecked_ref());
        listener.forget();
    }
}

/// A number in `[0, 1)` for retry jitter (not for ids).
pub fn random() -> f64 {
    js_sys::Math::random()
}

/// Calls `handler` whenever the page is hidden or being unloaded.
pub fn on_hide(handler: fn()) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let listener = Closure::<dyn FnMut()>::new(move || {
        if is_hidden() {
            handler();
        }
    });
    let pagehide = Closure::<dyn FnMut()>::new(handler);
    if let Some(document) = window.document() {
        let _ = document.add_event_listener_with_callback(
            "visibilitychange",
            listener.as_ref().unchecked_ref(),
        );
    }
    let _ = window.add_event_listener_with_callback("pagehide", pagehide.as_ref().unchecked_ref());
    // The listeners live as long as the page.
    listener.forget();
    pagehide.forget();
}

/// Calls `handler(false)` after `history.pushState` / `replaceState` succeed and on `popstate`, and
/// `handler(true)` when the page is restored from the back/forward cache. The history methods are
/// wrapped through `Reflect` with Rust closures: no `eval`, so it works under a strict CSP.
pub fn on_navigation(handler: fn(bool)) {
    let Some(window) = web_sys::window() else {
        return;
    };
    if let Ok(history) = window.history() {
        for name in ["pushState", "replaceState"] {
            let key = JsValue::from_str(name);
            let Some(original) = Reflect::get(&history, &key)
                .ok()
                .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
            else {
                continue;
            };
            let target = history.clone();
            let wrapper =
                Closure::<dyn FnMut(JsValue, JsValue, JsValue) -> Result<JsValue, JsValue>>::new(
                    move |state: JsValue, title: JsValue, url: JsValue| {
                        // The page's own call goes first, and its exception (if any) reaches the page.
                        let result = original.call3(&target, &state, &title, &url)?;
                        handler(false);
                        Ok(result)
                    },
                );
            let _ = Reflect::set(&history, &key, wrapper.as_ref());
            wrapper.forget();
        }
    }
    // `popstate` covers back/forward; `hashchange` covers hash routes (a no-op unless enabled,
    // since the scrubbed URL then has no route and the page is the same).
    let popstate = Closure::<dyn FnMut()>::new(move || handler(false));
    let _ =
        window.add_event_listener_with_callback("hashchange", popstate.as_ref().unchecked_ref());
    let pageshow = Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
        if get_bool(&event, "persisted") == Some(true) {
            handler(true);
        }
    });
    let _ = window.add_event_listener_with_callback("popstate", popstate.as_ref().unchecked_ref());
    let _ = window.add_event_listener_with_callback("pageshow", pageshow.as_ref().unchecked_ref());
    popstate.forget();
    pageshow.forget();
}

/// Page signals for auto-capture, each delivered to its handler.
pub struct CaptureHandlers {
    /// A click on a link: its absolute `href` and whether it has a `download` attribute.
    pub link: fn(String, bool),
    /// A form submitted: its id, name or action path (never its fields).
    pub form: fn(String),
    /// The scroll position changed: percent of the document seen.
    pub scroll: fn(u8),
    /// Visible-and-focused changed: the new state.
    pub engaged: fn(bool),
    /// An uncaught error: its message.
    pub error: fn(String),
}

fn listen(target: &web_sys::EventTarget, event: &str, f: impl FnMut(JsValue) + 'static) {
    let closure = Closure::<dyn FnMut(JsValue)>::new(f);
    let _ = target.add_event_listener_with_callback_and_bool(
        event,
        closure.as_ref().unchecked_ref(),
        true,
    );
    closure.forget();
}

/// True while the page is visible and has focus.
pub fn is_engaged() -> bool {
    !is_hidden()
        && web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.has_focus().ok())
            .unwrap_or(false)
}

/// Percent of the document seen so far at the current scroll position.
pub fn scroll_percent() -> u8 {
    let root = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element());
    let Some(root) = root else { return 0 };
    crate::capture::scroll_percent(
        f64::from(root.scroll_top()),
        f64::from(root.client_height()),
        f64::from(root.scroll_height()),
    )
}

/// Starts listening for what auto-capture records.
pub fn on_capture(handlers: CaptureHandlers) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let Some(document) = window.document() else {
        return;
    };
    listen(&document, "click", move |event| {
        let target = Reflect::get(&event, &JsValue::from_str("target")).ok();
        let link = target
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .and_then(|el| el.closest("a[href]").ok().flatten());
        if let Some(link) = link {
            if let Some(href) = get_str(&link, "href") {
                (handlers.link)(href, link.has_attribute("download"));
            }
        }
    });
    listen(&document, "submit", move |event| {
        let form = Reflect::get(&event, &JsValue::from_str("target"))
            .ok()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok());
        if let Some(form) = form {
            let name = [form.id(), form.get_attribute("name").unwrap_or_default()]
                .into_iter()
                .find(|n| !n.is_empty())
                .or_else(|| {
                    form.get_attribute("action")
                        .and_then(|a| a.split('?').next().map(str::to_owned))
                })
                .unwrap_or_else(|| "form".into());
            (handlers.form)(name);
        }
    });
    listen(&window, "scroll", move |_| {
        (handlers.scroll)(scroll_percent())
    });
    for event in ["focus", "blur"] {
        listen(&window, event, move |_| (handlers.engaged)(is_engaged()));
    }
    listen(&document, "visibilitychange", move |_| {
        (handlers.engaged)(is_engaged())
    });
    listen(&window, "error", move |event| {
        if let Some(message) = get_str(&event, "message") {
            (handlers.error)(message);
        }
    });
}

/// Reads `obj[key]` as a number, if it is one.
pub fn get_number(obj: &JsValue, key: &str) -> Option<f64> {
    Reflect::get(obj, &JsValue::from_str(key)).ok()?.as_f64()
}

fn call_method(obj: &JsValue, name: &str, args: &js_sys::Array) -> Option<JsValue> {
    let f: js_sys::Function = Reflect::get(obj, &JsValue::from_str(name))
        .ok()?
        .dyn_into()
        .ok()?;
    Reflect::apply(&f, obj, args).ok()
}

fn performance() -> Option<JsValue> {
    Reflect::get(
        &web_sys::window()?.into(),
        &JsValue::from_str("performance"),
    )
    .ok()
}

/// `performance.now()`.
pub fn perf_now() -> f64 {
    performance()
        .and_then(|p| call_method(&p, "now", &js_sys::Array::new()))
        .and_then(|v| v.as_f64())
        .unwrap_or(0.0)
}

/// The page's navigation entry (`performance.getEntriesByType("navigation")[0]`).
pub fn navigation_entry() -> Option<JsValue> {
    let args = js_sys::Array::of1(&JsValue::from_str("navigation"));
    let list = call_method(&performance()?, "getEntriesByType", &args)?;
    Reflect::get_u32(&list, 0).ok().filter(|e| e.is_object())
}

/// Observes performance entries of `kind`, buffered ones included, calling `f` with each entry.
/// The options object is built by hand: web-sys's `PerformanceObserverInit` sets `entryTypes`,
/// with which browsers ignore `buffered`.
pub fn observe(kind: &str, duration_threshold: Option<f64>, mut f: impl FnMut(&JsValue) + 'static) {
    let Some(constructor) = web_sys::window()
        .and_then(|w| Reflect::get(&w, &JsValue::from_str("PerformanceObserver")).ok())
        .and_then(|c| c.dyn_into::<js_sys::Function>().ok())
    else {
        return;
    };
    let callback = Closure::<dyn FnMut(JsValue)>::new(move |list: JsValue| {
        if let Some(entries) = call_method(&list, "getEntries", &js_sys::Array::new()) {
            js_sys::Array::from(&entries).for_each(&mut |entry, _, _| f(&entry));
        }
    });
    let Ok(observer) = Reflect::construct(&constructor, &js_sys::Array::of1(callback.as_ref()))
    else {
        return;
    };
    callback.forget();
    let options = object();
    put(&options, "type", kind);
    put(&options, "buffered", true);
    if let Some(threshold) = duration_threshold {
        put(&options, "durationThreshold", threshold);
    }
    // An entry type the browser does not know throws here: that metric is then not measured.
    let _ = call_method(&observer, "observe", &js_sys::Array::of1(&options));
}

/// Calls `f` once, on the first `keydown` or `click` (capture phase).
pub fn on_first_input(f: fn()) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let fired = std::rc::Rc::new(std::cell::Cell::new(false));
    for event in ["keydown", "click"] {
        let fired = fired.clone();
        listen(&window, event, move |_| {
            if !fired.replace(true) {
                f();
            }
        });
    }
}

/// Runs `then` once the page is shown: now, or when a prerendered page is activated.
pub fn when_shown(then: fn()) {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    if get_bool(&document, "prerendering") != Some(true) {
        then();
        return;
    }
    // `prerenderingchange` fires once, when the prerendered page is activated.
    let listener = Closure::once_into_js(then);
    let _ =
        document.add_event_listener_with_callback("prerenderingchange", listener.unchecked_ref());
}

/// `console.warn("[sightline] …")`.
pub fn warn(message: &str) {
    web_sys::console::warn_2(
        &JsValue::from_str("[sightline]"),
        &JsValue::from_str(message),
    );
}
