//! The browser edge: the only module that touches the page.
//!
//! Input: calls from `lib.rs`. Output: values read from the page (URL, referrer, storage, clock,
//! random ids) and effects on it (storage writes, beacons, listeners, console warnings).
//! Everything goes through four JS builtins — `Reflect.get`, `Reflect.set`, `Reflect.construct` and
//! `Function.prototype.call` — and one closure type, rather than a `web_sys` binding per method:
//! each binding costs its own JS glue and wasm shim, and the SDK needs about forty of them.
//! Must not: throw into the host page (every JS error is swallowed here) or decide policy.

use alloc::string::String;
use alloc::vec::Vec;
use sightline_core::encode::decimal;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// `globalThis.valueOf()`, which is `globalThis` itself: a plain call, where an imported
    /// `static` would bring a lazily initialised cell into the wasm.
    #[wasm_bindgen(js_namespace = globalThis, js_name = valueOf)]
    fn global_this() -> JsValue;
    /// `Reflect.get(target, key)`: throws when `target` is not an object, or from a getter.
    #[wasm_bindgen(js_namespace = Reflect, js_name = get, catch)]
    fn reflect_get(target: &JsValue, key: &str) -> Result<JsValue, JsValue>;
    /// `Reflect.set(target, key, value)`.
    #[wasm_bindgen(js_namespace = Reflect, js_name = set, catch)]
    fn reflect_set(target: &JsValue, key: &str, value: &JsValue) -> Result<(), JsValue>;
    /// `new constructor(...args)`.
    #[wasm_bindgen(js_namespace = Reflect, js_name = construct, catch)]
    fn reflect_construct(constructor: &JsValue, args: &JsValue) -> Result<JsValue, JsValue>;
    /// `f.call(this, a, b, c)`: every call into the page; extra `undefined` arguments are ignored by
    /// the functions used here.
    #[wasm_bindgen(js_namespace = ["Function", "prototype", "call"], js_name = call, catch)]
    fn invoke(
        f: &JsValue,
        this: &JsValue,
        a: &JsValue,
        b: &JsValue,
        c: &JsValue,
    ) -> Result<JsValue, JsValue>;
}

/// The one closure type the SDK hands to the page: up to three arguments; an `Err` is thrown.
type Callback = dyn FnMut(JsValue, JsValue, JsValue) -> Result<JsValue, JsValue>;

/// Wraps `f` as a JS function that lives as long as the page.
fn function(
    f: impl FnMut(JsValue, JsValue, JsValue) -> Result<JsValue, JsValue> + 'static,
) -> JsValue {
    Closure::<Callback>::new(f).into_js_value()
}

/// A JS function calling `handler` with its first argument, for as long as the page lives.
pub fn callback(handler: fn(JsValue)) -> JsValue {
    function(move |a, _, _| {
        handler(a);
        Ok(JsValue::UNDEFINED)
    })
}

/// `globalThis` (the window).
fn global() -> JsValue {
    global_this()
}

/// `obj[key]`, or `undefined` when it cannot be read.
pub fn get(obj: &JsValue, key: &str) -> JsValue {
    reflect_get(obj, key).unwrap_or(JsValue::UNDEFINED)
}

/// `globalThis[key]`.
fn global_get(key: &str) -> JsValue {
    get(&global(), key)
}

/// `globalThis.document[key]`.
fn document_get(key: &str) -> JsValue {
    get(&global_get("document"), key)
}

/// Calls `obj[method](a, b)`; `None` when it is not a function or throws.
pub fn call(obj: &JsValue, method: &str, a: &JsValue, b: &JsValue) -> Option<JsValue> {
    invoke(&get(obj, method), obj, a, b, &JsValue::UNDEFINED).ok()
}

/// Calls `obj[method](arg)`.
fn call1(obj: &JsValue, method: &str, arg: &JsValue) -> Option<JsValue> {
    call(obj, method, arg, &JsValue::UNDEFINED)
}

/// Calls `obj[method]()`.
fn call0(obj: &JsValue, method: &str) -> Option<JsValue> {
    call1(obj, method, &JsValue::UNDEFINED)
}

/// Calls `globalThis[namespace][method](arg)`, e.g. `JSON.parse(text)`.
fn builtin(namespace: &str, method: &str, arg: &JsValue) -> Option<JsValue> {
    call1(&global_get(namespace), method, arg)
}

/// `new globalThis[name](arg)`.
fn construct(name: &str, arg: &JsValue) -> Option<JsValue> {
    let args = parse_json("[0]")?;
    put(&args, "0", arg);
    reflect_construct(&global_get(name), &args).ok()
}

/// Which Web Storage area.
#[derive(Debug, Clone, Copy)]
pub enum Area {
    /// `localStorage`: survives the tab.
    Local,
    /// `sessionStorage`: this tab only.
    Session,
}

/// The storage object; reading it throws when storage is blocked, which gives `undefined`.
fn storage(area: Area) -> JsValue {
    global_get(match area {
        Area::Local => "localStorage",
        Area::Session => "sessionStorage",
    })
}

/// Reads a stored value; `None` when absent or storage is blocked.
pub fn get_stored(area: Area, key: &str) -> Option<String> {
    call1(&storage(area), "getItem", &key.into())?.as_string()
}

/// Stores a value; silently does nothing when storage is blocked or full.
pub fn set_stored(area: Area, key: &str, value: &str) {
    call(&storage(area), "setItem", &key.into(), &value.into());
}

/// Removes a stored value.
pub fn remove_stored(area: Area, key: &str) {
    call1(&storage(area), "removeItem", &key.into());
}

/// True when the browser asks not to be tracked: Global Privacy Control or Do-Not-Track.
pub fn privacy_signal() -> bool {
    let navigator = global_get("navigator");
    get_bool(&navigator, "globalPrivacyControl") == Some(true)
        || get_str(&navigator, "doNotTrack").as_deref() == Some("1")
}

/// Milliseconds since the epoch.
pub fn now() -> f64 {
    number(builtin("Date", "now", &JsValue::UNDEFINED))
}

/// A number in `[0, 1)` for retry jitter (not for ids).
pub fn random() -> f64 {
    number(builtin("Math", "random", &JsValue::UNDEFINED))
}

fn number(value: Option<JsValue>) -> f64 {
    value.and_then(|v| v.as_f64()).unwrap_or(0.0)
}

/// 128 random bits from the crypto RNG as 32 hex characters (never a fingerprint).
pub fn random_id() -> String {
    let words = construct("Uint32Array", &4.into())
        .filter(|words| call1(&global_get("crypto"), "getRandomValues", words).is_some());
    let mut bytes = Vec::with_capacity(16);
    for i in 0..4 {
        let word = match &words {
            Some(words) => get_number(words, &decimal(i)).unwrap_or(0.0) as u32,
            // No crypto RNG (very old browser): Math.random is weaker but still not a fingerprint.
            None => (random() * 4_294_967_296.0) as u32,
        };
        bytes.extend_from_slice(&word.to_be_bytes());
    }
    sightline_core::encode::hex(&bytes)
}

/// The page's full URL.
pub fn page_url() -> String {
    get_str(&global_get("location"), "href").unwrap_or_default()
}

/// `document.referrer` (empty when none).
pub fn referrer() -> String {
    document_get("referrer").as_string().unwrap_or_default()
}

/// True while the page is hidden (background tab, unloading).
pub fn is_hidden() -> bool {
    document_get("visibilityState").as_string().as_deref() == Some("hidden")
}

/// Reads `obj[key]` as a string, if it is one.
pub fn get_str(obj: &JsValue, key: &str) -> Option<String> {
    get(obj, key).as_string()
}

/// Reads `obj[key]` as a boolean, if it is one.
pub fn get_bool(obj: &JsValue, key: &str) -> Option<bool> {
    get(obj, key).as_bool()
}

/// Reads `obj[key]` as a number, if it is one.
pub fn get_number(obj: &JsValue, key: &str) -> Option<f64> {
    get(obj, key).as_f64()
}

/// `obj[key]` when it is a function.
pub fn get_function(obj: &JsValue, key: &str) -> Option<JsValue> {
    Some(get(obj, key)).filter(JsValue::is_function)
}

/// The items of an array (nothing for anything else), in order.
pub fn items(array: &JsValue) -> Vec<JsValue> {
    if !is_array(array) {
        return Vec::new();
    }
    let len = get_number(array, "length").unwrap_or(0.0) as u64;
    (0..len).map(|i| get(array, &decimal(i))).collect()
}

/// The own enumerable `[key, value]` pairs of a plain object, in order.
pub fn entries(obj: &JsValue) -> Vec<(String, JsValue)> {
    if !is_plain_object(obj) {
        return Vec::new();
    }
    let keys = builtin("Object", "keys", obj).unwrap_or(JsValue::UNDEFINED);
    items(&keys)
        .into_iter()
        .filter_map(|key| key.as_string())
        .map(|key| {
            let value = get(obj, &key);
            (key, value)
        })
        .collect()
}

/// `obj[key]` when it is an array of strings; other items are skipped.
pub fn get_strings(obj: &JsValue, key: &str) -> Vec<String> {
    items(&get(obj, key))
        .into_iter()
        .filter_map(|v| v.as_string())
        .collect()
}

/// Calls the page's `beforeSend(event)`: `Some(event)` to send (possibly rewritten), `None` to drop.
/// An exception drops the event (the hook may exist to filter private data).
pub fn before_send(hook: &JsValue, event: &JsValue) -> Option<JsValue> {
    let u = JsValue::UNDEFINED;
    match invoke(hook, &JsValue::NULL, event, &u, &u) {
        Ok(result) if is_plain_object(&result) => Some(result),
        Ok(_) => None,
        Err(_) => {
            warn("beforeSend threw; event dropped");
            None
        }
    }
}

/// A fresh plain object to fill with [`put`].
pub fn object() -> JsValue {
    let u = JsValue::UNDEFINED;
    invoke(&global_get("Object"), &u, &u, &u, &u).unwrap_or(u)
}

/// Sets `obj[key] = value`.
pub fn put(obj: &JsValue, key: &str, value: impl Into<JsValue>) {
    let _ = reflect_set(obj, key, &value.into());
}

fn is_array(value: &JsValue) -> bool {
    builtin("Array", "isArray", value).and_then(|v| v.as_bool()) == Some(true)
}

/// True when `value` is a non-null object that is not an array.
pub fn is_plain_object(value: &JsValue) -> bool {
    value.is_object() && !is_array(value)
}

/// `JSON.parse(text)`, or `None` when it is not JSON.
pub fn parse_json(text: &str) -> Option<JsValue> {
    builtin("JSON", "parse", &text.into())
}

/// The browser's own `String.prototype.toLowerCase` (keeps Unicode case tables out of the wasm).
pub fn to_lower_case(text: &str) -> String {
    // `Reflect.get` refuses primitives: the method is taken from `String.prototype`.
    let lower = get(&get(&global_get("String"), "prototype"), "toLowerCase");
    let u = JsValue::UNDEFINED;
    invoke(&lower, &text.into(), &u, &u, &u)
        .ok()
        .and_then(|s| s.as_string())
        .unwrap_or_default()
}

/// The browser's own `JSON.stringify` (keeps serde out of the wasm).
pub fn to_json(value: &JsValue) -> Option<String> {
    builtin("JSON", "stringify", value)?.as_string()
}

/// Posts `body` as `text/plain` (no CORS preflight) with `fetch` + `keepalive`; `answered` (from
/// [`callback`]) later gets the `Response`, or the error when there was no answer (read either with
/// [`answer`]). Returns false when nothing was sent (no `fetch`): `answered` is then not called.
pub fn post(url: &str, body: &str, answered: &JsValue) -> bool {
    let init = object();
    put(&init, "method", "POST");
    put(&init, "body", body);
    put(&init, "keepalive", true);
    let sent = call(&global(), "fetch", &url.into(), &init)
        .and_then(|promise| call(&promise, "then", answered, answered));
    sent.is_some()
}

/// What `fetch` settled with: the HTTP status (`0` when there was no answer) and the `Retry-After`
/// seconds, if any.
pub fn answer(response: &JsValue) -> (u16, Option<u32>) {
    let Some(status) = get_number(response, "status") else {
        return (0, None);
    };
    let retry_after = call1(&get(response, "headers"), "get", &"Retry-After".into())
        .and_then(|v| v.as_string())
        // Parsed as u64 like the stored session time (one integer parser in the wasm), then narrowed.
        .and_then(|s| s.trim().parse::<u64>().ok())
        .and_then(|s| u32::try_from(s).ok());
    (status as u16, retry_after)
}

/// Hands `body` to the browser with `navigator.sendBeacon` as `text/plain`, which outlives the page.
/// Returns false when the browser refused it.
pub fn beacon(url: &str, body: &str) -> bool {
    call(
        &global_get("navigator"),
        "sendBeacon",
        &url.into(),
        &body.into(),
    )
    .and_then(|v| v.as_bool())
        == Some(true)
}

/// Calls `f` (from [`callback`]) after `ms` milliseconds; returns the timer's id.
pub fn set_timeout(f: &JsValue, ms: u32) -> f64 {
    number(call(&global(), "setTimeout", f, &ms.into()))
}

/// Cancels a timer from [`set_timeout`] (nothing if it already ran).
pub fn clear_timeout(id: f64) {
    call1(&global(), "clearTimeout", &id.into());
}

/// Where a listener goes.
#[derive(Debug, Clone, Copy)]
pub enum Target {
    /// `window`.
    Window,
    /// `document`.
    Document,
}

/// `target.addEventListener(event, handler, capture)`, for as long as the page lives. Every
/// listener is a plain `fn` behind the one closure type: a capturing closure per listener would cost
/// its own shims in the wasm.
pub fn listen(target: Target, event: &str, capture: bool, handler: fn(JsValue)) {
    let target = match target {
        Target::Window => global(),
        Target::Document => global_get("document"),
    };
    let add = get(&target, "addEventListener");
    let _ = invoke(
        &add,
        &target,
        &event.into(),
        &callback(handler),
        &capture.into(),
    );
}

/// Calls `handler` after `history.pushState` / `replaceState` succeed. The history methods are
/// wrapped through `Reflect` with Rust closures: no `eval`, so it works under a strict CSP.
pub fn on_history_change(handler: fn()) {
    let history = global_get("history");
    for name in ["pushState", "replaceState"] {
        let Some(original) = get_function(&history, name) else {
            continue;
        };
        let target = history.clone();
        let wrapper = function(move |state, title, url| {
            // The page's own call goes first, and its exception (if any) reaches the page.
            let result = invoke(&original, &target, &state, &title, &url)?;
            handler();
            Ok(result)
        });
        put(&history, name, wrapper);
    }
}

/// True while the page is visible and has focus.
pub fn is_engaged() -> bool {
    !is_hidden()
        && call0(&global_get("document"), "hasFocus").and_then(|v| v.as_bool()) == Some(true)
}

/// Percent of the document seen so far at the current scroll position.
pub fn scroll_percent() -> u8 {
    let root = document_get("documentElement");
    if !root.is_object() {
        return 0;
    }
    let px = |key| get_number(&root, key).unwrap_or(0.0) as i32;
    crate::capture::scroll_percent(
        f64::from(px("scrollTop")),
        f64::from(px("clientHeight")),
        f64::from(px("scrollHeight")),
    )
}

/// `element.getAttribute(name)`, if present.
fn attribute(element: &JsValue, name: &str) -> Option<String> {
    call1(element, "getAttribute", &name.into())?.as_string()
}

/// The link a `click` event hit: its absolute `href` and whether it has a `download` attribute.
pub fn clicked_link(event: &JsValue) -> Option<(String, bool)> {
    let link = call1(&get(event, "target"), "closest", &"a[href]".into())?;
    let href = get_str(&link, "href")?;
    let download = call1(&link, "hasAttribute", &"download".into());
    Some((href, download.and_then(|d| d.as_bool()) == Some(true)))
}

/// The form a `submit` event sent: its id, name or action path (never its fields).
pub fn submitted_form(event: &JsValue) -> Option<String> {
    let form = get(event, "target");
    if !form.is_object() {
        return None;
    }
    let name = [
        get_str(&form, "id").unwrap_or_default(),
        attribute(&form, "name").unwrap_or_default(),
    ]
    .into_iter()
    .find(|n| !n.is_empty())
    .or_else(|| attribute(&form, "action").and_then(|a| a.split('?').next().map(String::from)))
    .unwrap_or_else(|| "form".into());
    Some(name)
}

/// `performance.now()`.
pub fn perf_now() -> f64 {
    number(builtin("performance", "now", &JsValue::UNDEFINED))
}

/// The page's navigation entry (`performance.getEntriesByType("navigation")[0]`).
pub fn navigation_entry() -> Option<JsValue> {
    let list = builtin("performance", "getEntriesByType", &"navigation".into())?;
    Some(get(&list, "0")).filter(JsValue::is_object)
}

/// Observes performance entries of `kind`, buffered ones included: `handler` gets each entry list
/// (read it with [`each_entry`]). The options object is built by hand: `entryTypes` would make
/// browsers ignore `buffered`.
pub fn observe(kind: &str, duration_threshold: Option<f64>, handler: fn(JsValue)) {
    let Some(observer) = construct("PerformanceObserver", &callback(handler)) else {
        return;
    };
    let options = object();
    put(&options, "type", kind);
    put(&options, "buffered", true);
    if let Some(threshold) = duration_threshold {
        put(&options, "durationThreshold", threshold);
    }
    // An entry type the browser does not know throws here: that metric is then not measured.
    call1(&observer, "observe", &options);
}

/// Calls `f` with each entry of a performance entry list.
pub fn each_entry(list: &JsValue, f: fn(&JsValue)) {
    for entry in call0(list, "getEntries")
        .map(|e| items(&e))
        .unwrap_or_default()
    {
        f(&entry);
    }
}

/// Runs `then` once the page is shown: now, or when a prerendered page is activated (`then` gets
/// the activation event, which it ignores).
pub fn when_shown(then: fn(JsValue)) {
    if get_bool(&global_get("document"), "prerendering") != Some(true) {
        then(JsValue::UNDEFINED);
        return;
    }
    // `prerenderingchange` fires once, when the prerendered page is activated.
    listen(Target::Document, "prerenderingchange", false, then);
}

/// `console.warn("[sightline]", message)`.
pub fn warn(message: &str) {
    call(
        &global_get("console"),
        "warn",
        &"[sightline]".into(),
        &message.into(),
    );
}
