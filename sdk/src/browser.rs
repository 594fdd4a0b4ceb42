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
    bytes.iter().map(|b| format!("{b:02x}")).collect()
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

/// The browser's own `JSON.stringify` (keeps serde out of the wasm).
pub fn to_json(value: &JsValue) -> Option<String> {
    JSON::stringify(value).ok().and_then(|s| s.as_string())
}

/// Sends one body to `url` as `text/plain` (no CORS preflight): `sendBeacon`, else `fetch` with
/// `keepalive`. Returns false when neither would take it.
pub fn send(url: &str, body: &str) -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    if window
        .navigator()
        .send_beacon_with_opt_str(url, Some(body))
        .unwrap_or(false)
    {
        return true;
    }
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_body(&JsValue::from_str(body));
    // web-sys marks `keepalive` unstable; the property itself is in every current browser.
    let _ = Reflect::set(&init, &JsValue::from_str("keepalive"), &JsValue::TRUE);
    init.set_mode(web_sys::RequestMode::NoCors);
    let promise = window.fetch_with_str_and_init(url, &init);
    // Swallow a rejected promise so it never surfaces in the host page as unhandled. The closure is
    // leaked on purpose: this fallback runs rarely, and the promise may settle after the page is gone.
    let ignore = Closure::<dyn FnMut(JsValue)>::new(|_: JsValue| {});
    let _ = promise.catch(&ignore);
    ignore.forget();
    true
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

/// `console.warn("[sightline] …")`.
pub fn warn(message: &str) {
    web_sys::console::warn_1(&JsValue::from_str(&format!("[sightline] {message}")));
}
