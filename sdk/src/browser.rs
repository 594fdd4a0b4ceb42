//! The browser edge: the only module that touches the page.
//!
//! Input: calls from the SDK's glue (`lib.rs`, `tracker`, `record`, `delivery`, `extras`). Output:
//! values read from the page (URL, referrer, storage, clock, random ids) and effects on it (storage
//! writes, beacons, listeners, console warnings).
//! No wasm-bindgen: the page's values live in a table kept by the npm wrapper (`npm/index.js`), and
//! the wasm names them by index ([`JsValue`], a plain `i32`). About a dozen tiny imports read and
//! set properties, call functions and move strings; everything else is built from them here. A
//! call from the page frees the values it made when it returns, so a `JsValue` is `Copy` and never
//! dropped; the few kept longer (the page's hook, the functions handed to timers) are pinned.
//! Must not: throw into the host page (every JS error is swallowed here) or decide policy.

use alloc::string::String;
use alloc::vec::Vec;
use sightline_core::scrub::before_byte;

/// Declares the wrapper's imports (module `e`, one-letter names); natively (unit tests of the pure
/// modules, which never reach the page) they are stubs.
macro_rules! imports {
    ($($(#[$doc:meta])* fn $name:ident($($arg:ident: $ty:ty),*) $(-> $ret:ty)? = $js:literal;)*) => {
        #[cfg(target_arch = "wasm32")]
        #[link(wasm_import_module = "e")]
        extern "C" {
            $($(#[$doc])* #[link_name = $js] fn $name($($arg: $ty),*) $(-> $ret)?;)*
        }
        $(
            #[cfg(not(target_arch = "wasm32"))]
            #[allow(unused_variables, clippy::missing_safety_doc)]
            unsafe fn $name($($arg: $ty),*) $(-> $ret)? {
                unreachable!("the page is reached only from wasm")
            }
        )*
    };
}

imports! {
    /// `value(obj)[key]`, or `undefined` when that throws.
    fn js_get(obj: i32, key: *const u8, len: usize) -> i32 = "g";
    /// `value(obj)[key] = value(v)`; nothing when that throws.
    fn js_set(obj: i32, key: *const u8, len: usize, v: i32) = "s";
    /// A JS string from UTF-8 bytes.
    fn js_text(text: *const u8, len: usize) -> i32 = "t";
    /// A JS number.
    fn js_number(n: f64) -> i32 = "n";
    /// Index of `typeof value` in string, number, boolean, object, function; -1 for null and the rest.
    fn js_kind(v: i32) -> i32 = "k";
    /// `+value` (for numbers and booleans).
    fn js_to_number(v: i32) -> f64 = "v";
    /// UTF-8 length of a string, kept for [`js_copy`]; -1 when it is not a string.
    fn js_text_len(v: i32) -> i32 = "l";
    /// Copies the string measured last by [`js_text_len`] to `to`.
    fn js_copy(to: *mut u8) = "c";
    /// `value(array)[index]`.
    fn js_item(array: i32, index: u32) -> i32 = "j";
    /// `f.call(this, a, b, c)`; [`THREW`] when it threw (the exception is kept for [`js_rethrow`]).
    fn js_call(f: i32, this: i32, a: i32, b: i32, c: i32) -> i32 = "a";
    /// `new f(a)`, or `undefined` when that throws.
    fn js_construct(f: i32, a: i32) -> i32 = "o";
    /// A pinned JS function `(a, b, c) => cb(kind, data, a, b, c)`, for [`dispatch`].
    fn js_function(kind: usize, data: usize) -> i32 = "f";
    /// Pins a value: its handle stays valid for the page's lifetime.
    fn js_pin(v: i32) -> i32 = "p";
    /// A fresh event id (32 hex characters from `crypto.getRandomValues`).
    fn js_random_id() -> i32 = "i";
    /// Throws the exception [`js_call`] kept.
    fn js_rethrow() = "r";
}

/// What [`js_call`] returns when the function threw.
const THREW: i32 = i32::MAX;

/// A page value: an index into the wrapper's table (negative: pinned). `Copy`, never dropped.
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(transparent)]
pub struct JsValue(i32);

impl JsValue {
    /// `undefined` (the wrapper's table starts with `undefined, null, true, false, globalThis`).
    pub const UNDEFINED: JsValue = JsValue(0);
    /// `null`.
    pub const NULL: JsValue = JsValue(1);
    const TRUE: JsValue = JsValue(2);
    const FALSE: JsValue = JsValue(3);
    const GLOBAL: JsValue = JsValue(4);

    fn kind(self) -> i32 {
        // SAFETY: the import only reads the wrapper's table.
        unsafe { js_kind(self.0) }
    }

    /// The string, if this is one.
    pub fn as_string(self) -> Option<String> {
        // SAFETY: `js_copy` writes exactly the `len` bytes `js_text_len` measured, which are UTF-8
        // (`TextEncoder` output), into the buffer reserved for them.
        unsafe {
            let len = usize::try_from(js_text_len(self.0)).ok()?;
            let mut bytes = Vec::with_capacity(len);
            js_copy(bytes.as_mut_ptr());
            bytes.set_len(len);
            Some(String::from_utf8_unchecked(bytes))
        }
    }

    /// The number, if this is one.
    pub fn as_f64(self) -> Option<f64> {
        // SAFETY: as in `kind`.
        (self.kind() == 1).then(|| unsafe { js_to_number(self.0) })
    }

    /// The boolean, if this is one.
    pub fn as_bool(self) -> Option<bool> {
        // SAFETY: as in `kind`.
        (self.kind() == 2).then(|| unsafe { js_to_number(self.0) } != 0.0)
    }

    /// True for a string.
    pub fn is_string(self) -> bool {
        self.kind() == 0
    }

    /// `+value`: a string's number (`NaN` when it is none).
    pub fn to_number(self) -> f64 {
        // SAFETY: as in `kind`.
        unsafe { js_to_number(self.0) }
    }

    /// True for a non-null object (arrays included).
    pub fn is_object(self) -> bool {
        self.kind() == 3
    }

    /// True for a function.
    pub fn is_function(self) -> bool {
        self.kind() == 4
    }

    /// The same value, valid for as long as the page lives.
    pub fn pin(self) -> JsValue {
        // SAFETY: as in `kind`.
        JsValue(unsafe { js_pin(self.0) })
    }
}

impl From<&str> for JsValue {
    fn from(text: &str) -> JsValue {
        // SAFETY: the import reads `len` bytes at `text`, which are valid UTF-8.
        JsValue(unsafe { js_text(text.as_ptr(), text.len()) })
    }
}

impl From<String> for JsValue {
    fn from(text: String) -> JsValue {
        text.as_str().into()
    }
}

impl From<f64> for JsValue {
    fn from(n: f64) -> JsValue {
        // SAFETY: as in `kind`.
        JsValue(unsafe { js_number(n) })
    }
}

impl From<u32> for JsValue {
    fn from(n: u32) -> JsValue {
        f64::from(n).into()
    }
}

impl From<u8> for JsValue {
    fn from(n: u8) -> JsValue {
        f64::from(n).into()
    }
}

impl From<bool> for JsValue {
    fn from(b: bool) -> JsValue {
        if b {
            JsValue::TRUE
        } else {
            JsValue::FALSE
        }
    }
}

/// Every JS function the SDK makes calls this with the `kind` and `data` it was made with:
/// `kind` 0 calls `data` as a `fn(JsValue)` with the first argument; any other `kind` is a
/// history wrapper (see [`on_history_change`]).
#[cfg_attr(target_arch = "wasm32", export_name = "cb")]
pub extern "C" fn dispatch(
    kind: usize,
    data: usize,
    a: JsValue,
    b: JsValue,
    c: JsValue,
) -> JsValue {
    if kind == 0 {
        // SAFETY: `data` came from `callback`, which took it from a `fn(JsValue)`; the wrapper
        // hands `cb` to no one else.
        let handler: fn(JsValue) = unsafe { core::mem::transmute::<usize, fn(JsValue)>(data) };
        handler(a);
        return JsValue::UNDEFINED;
    }
    // SAFETY: as above; `kind` came from `on_history_change`'s `fn()`.
    let handler: fn() = unsafe { core::mem::transmute::<usize, fn()>(kind) };
    // The page's own call goes first, and its exception (if any) reaches the page.
    // SAFETY: as in `JsValue::kind`; `data` is the pinned original method.
    let result = unsafe { js_call(data as i32, global_get("history").0, a.0, b.0, c.0) };
    if result == THREW {
        // SAFETY: throws into the page's `history` call; no Rust state is borrowed here.
        unsafe { js_rethrow() };
        return JsValue::UNDEFINED;
    }
    handler();
    JsValue(result)
}

/// A JS function calling `handler` with its first argument, for as long as the page lives.
pub fn callback(handler: fn(JsValue)) -> JsValue {
    // SAFETY: as in `JsValue::kind`; `dispatch` turns `data` back into this `fn`.
    JsValue(unsafe { js_function(0, handler as usize) })
}

/// `f.call(this, a, b, c)`; `None` when it threw (or `f` is not a function).
fn invoke(f: JsValue, this: JsValue, a: JsValue, b: JsValue, c: JsValue) -> Option<JsValue> {
    // SAFETY: as in `JsValue::kind`.
    let result = unsafe { js_call(f.0, this.0, a.0, b.0, c.0) };
    (result != THREW).then_some(JsValue(result))
}

/// `globalThis` (the window).
fn global() -> JsValue {
    JsValue::GLOBAL
}

/// `obj[key]`, or `undefined` when it cannot be read.
pub fn get(obj: &JsValue, key: &str) -> JsValue {
    // SAFETY: the import reads `key`'s bytes.
    JsValue(unsafe { js_get(obj.0, key.as_ptr(), key.len()) })
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
    invoke(get(obj, method), *obj, *a, *b, JsValue::UNDEFINED)
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
    // SAFETY: as in `JsValue::kind`.
    Some(JsValue(unsafe { js_construct(global_get(name).0, arg.0) })).filter(|v| v.is_object())
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

/// Stores a value (a number is stored as its text); silently does nothing when storage is blocked
/// or full.
pub fn set_stored(area: Area, key: &str, value: JsValue) {
    call(&storage(area), "setItem", &key.into(), &value);
}

/// Reads a stored number (stored with [`set_stored`]); `NaN` when the text is not one.
pub fn get_stored_number(area: Area, key: &str) -> Option<f64> {
    Some(call1(&storage(area), "getItem", &key.into())?)
        .filter(|v| v.is_string())
        .map(JsValue::to_number)
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

/// 128 random bits from the crypto RNG as 32 hex characters (never a fingerprint): the wrapper's
/// `eventId()`, which also names the calls it queues before the wasm is ready.
pub fn random_id() -> String {
    // SAFETY: as in `JsValue::kind`.
    JsValue(unsafe { js_random_id() })
        .as_string()
        .unwrap_or_default()
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
    Some(get(obj, key)).filter(|v| v.is_function())
}

/// The items of an array (nothing for anything else), in order.
pub fn items(array: &JsValue) -> Vec<JsValue> {
    if !is_array(array) {
        return Vec::new();
    }
    let len = get_number(array, "length").unwrap_or(0.0) as u64;
    // Pushed, not collected: `collect` reserves `len` up front, with its capacity-overflow panic.
    let mut out = Vec::new();
    for i in 0..len {
        // SAFETY: as in `JsValue::kind`.
        out.push(JsValue(unsafe { js_item(array.0, i as u32) }));
    }
    out
}

/// The own enumerable `[key, value]` pairs of a plain object, in order.
pub fn entries(obj: &JsValue) -> Vec<(String, JsValue)> {
    if !is_plain_object(obj) {
        return Vec::new();
    }
    let keys = builtin("Object", "keys", obj).unwrap_or(JsValue::UNDEFINED);
    let mut out = Vec::new();
    for key in items(&keys) {
        if let Some(key) = key.as_string() {
            let value = get(obj, &key);
            out.push((key, value));
        }
    }
    out
}

/// Calls the page's `beforeSend(event)`: `Some(event)` to send (possibly rewritten), `None` to drop.
/// An exception drops the event (the hook may exist to filter private data).
pub fn before_send(hook: &JsValue, event: &JsValue) -> Option<JsValue> {
    let u = JsValue::UNDEFINED;
    match invoke(*hook, JsValue::NULL, *event, u, u) {
        Some(result) if is_plain_object(&result) => Some(result),
        Some(_) => None,
        None => {
            warn(&["beforeSend threw; event dropped"]);
            None
        }
    }
}

/// A fresh plain object to fill with [`put`].
pub fn object() -> JsValue {
    let u = JsValue::UNDEFINED;
    invoke(global_get("Object"), u, u, u, u).unwrap_or(u)
}

/// Sets `obj[key] = value`.
pub fn put(obj: &JsValue, key: &str, value: JsValue) {
    // SAFETY: the import reads `key`'s bytes.
    unsafe { js_set(obj.0, key.as_ptr(), key.len(), value.0) }
}

fn is_array(value: &JsValue) -> bool {
    builtin("Array", "isArray", value).and_then(|v| v.as_bool()) == Some(true)
}

/// True when `value` is a non-null object that is not an array.
pub fn is_plain_object(value: &JsValue) -> bool {
    value.is_object() && !is_array(value)
}

/// `text.trim().toLowerCase()`, by the browser (keeps Unicode tables out of the wasm).
pub fn trim_lower_case(text: &str) -> String {
    call0(&text.into(), "trim")
        .and_then(|t| call0(&t, "toLowerCase"))
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
    /// Longest wait for the collector's answer (a slow mobile upload of a 60 KB batch fits).
    const FETCH_TIMEOUT_MS: u32 = 20_000;
    let init = object();
    put(&init, "method", "POST".into());
    put(&init, "body", body.into());
    put(&init, "keepalive", true.into());
    // A request that hangs (a stalled connection) would hold the outbox: it is given up after this
    // long, and retried. (Browsers without `AbortSignal.timeout` wait as long as the network does.)
    if let Some(signal) = builtin("AbortSignal", "timeout", &FETCH_TIMEOUT_MS.into()) {
        put(&init, "signal", signal);
    }
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
    // The body is drained (a few bytes): until it is, the browser counts the request against its
    // 64 KB budget for `keepalive` requests in flight, and a page sending several batches in a row
    // would see the next ones refused.
    call0(response, "text");
    // Read as a number by the browser (`+text`: spaces trimmed, `NaN` for an HTTP date, which is
    // then ignored), not by an integer parser in the wasm.
    let retry_after = call1(&get(response, "headers"), "get", &"Retry-After".into())
        .filter(|v| v.is_string())
        .map(JsValue::to_number)
        .filter(|s| (0.0..=f64::from(u32::MAX)).contains(s))
        .map(|s| s as u32);
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
    invoke(add, target, event.into(), callback(handler), capture.into());
}

/// Calls `handler` after `history.pushState` / `replaceState` succeed. The history methods are
/// replaced by functions the wasm makes (see [`dispatch`]): no `eval`, so it works under a strict CSP.
pub fn on_history_change(handler: fn()) {
    let history = global_get("history");
    for name in ["pushState", "replaceState"] {
        let Some(original) = get_function(&history, name) else {
            continue;
        };
        // SAFETY: as in `JsValue::kind`; `dispatch` calls `original` (pinned), then `handler`.
        let wrapper = unsafe { js_function(handler as usize, original.pin().0 as usize) };
        put(&history, name, JsValue(wrapper));
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
    .or_else(|| attribute(&form, "action").map(|a| before_byte(&a, b'?').into()))
    .unwrap_or_else(|| "form".into());
    Some(name)
}

/// Calls `then` (with the frame's time) before the browser's next repaint.
pub fn next_frame(then: fn(JsValue)) {
    call1(&global(), "requestAnimationFrame", &callback(then));
}

/// `performance.now()`.
pub fn perf_now() -> f64 {
    number(builtin("performance", "now", &JsValue::UNDEFINED))
}

/// The page's navigation entry (`performance.getEntriesByType("navigation")[0]`).
pub fn navigation_entry() -> Option<JsValue> {
    let list = builtin("performance", "getEntriesByType", &"navigation".into())?;
    Some(get(&list, "0")).filter(|v| v.is_object())
}

/// Observes performance entries of `kind`, buffered ones included: `handler` gets each entry list
/// (read it with [`each_entry`]). The options object is built by hand: `entryTypes` would make
/// browsers ignore `buffered`.
pub fn observe(kind: &str, duration_threshold: Option<f64>, handler: fn(JsValue)) {
    let Some(observer) = construct("PerformanceObserver", &callback(handler)) else {
        return;
    };
    let options = object();
    put(&options, "type", kind.into());
    put(&options, "buffered", true.into());
    if let Some(threshold) = duration_threshold {
        put(&options, "durationThreshold", threshold.into());
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

/// `console.warn("[sightline]", message)`, the message being `parts` joined.
pub fn warn(parts: &[&str]) {
    let mut message = String::new();
    for part in parts {
        message.push_str(part);
    }
    call(
        &global_get("console"),
        "warn",
        &"[sightline]".into(),
        &message.into(),
    );
}
