//! The request edge: the only module that reads a `worker::Request` (headers, `cf`, body, URL) or
//! builds a `worker::Response`, and the only source of time and randomness for the worker.
//! Input: the platform's request. Output: plain values for the handlers and core. Must not: log
//! the client IP or user agent, or pass the raw IP anywhere but `ingest::Context`.

use serde::Serialize;
use sightline_core::wire::MAX_BODY_BYTES;
use wasm_bindgen::prelude::*;
use worker::js_sys::{Reflect, Uint8Array};
use worker::wasm_bindgen_futures::JsFuture;
use worker::worker_sys::web_sys::ReadableStreamDefaultReader;
use worker::{Headers, Request, Response};

use crate::error::AppError;

/// What one request says about its sender.
#[derive(Debug, Clone, Default)]
pub struct Inbound {
    /// `CF-Connecting-IP` as set by Cloudflare. Anonymised by core before any other use.
    pub client_ip: Option<String>,
    /// The `User-Agent` header. Read by core's enrich and identify stages only.
    pub user_agent: String,
    /// The `Origin` header, when the browser sent one.
    pub origin: Option<String>,
    /// Country from `request.cf`.
    pub country: Option<String>,
    /// The `Authorization` header (a server-side sender's write token).
    pub authorization: Option<String>,
}

fn header(req: &Request, name: &str) -> Option<String> {
    req.headers().get(name).ok().flatten()
}

/// Reads the sender's context.
pub fn inbound(req: &Request) -> Inbound {
    Inbound {
        client_ip: header(req, "CF-Connecting-IP"),
        user_agent: header(req, "User-Agent").unwrap_or_default(),
        origin: header(req, "Origin"),
        country: req.cf().and_then(|cf| cf.country()),
        authorization: header(req, "Authorization"),
    }
}

/// The body of a beacon: `text/plain` or `application/json`, at most [`MAX_BODY_BYTES`].
pub async fn beacon_body(req: &mut Request) -> Result<Vec<u8>, AppError> {
    let media_type = header(req, "Content-Type").unwrap_or_default();
    let media_type = media_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if media_type != "text/plain" && media_type != "application/json" {
        return Err(AppError::UnsupportedMediaType);
    }
    bounded_body(req, MAX_BODY_BYTES).await
}

/// The body, refused as too large by its declared length before reading, or while it is read: the
/// bytes are counted as they arrive and reading stops at `max + 1` (a chunked body declares no
/// length, and one that never ends must not hold the request).
async fn bounded_body(req: &mut Request, max: usize) -> Result<Vec<u8>, AppError> {
    let declared = header(req, "Content-Length").and_then(|n| n.trim().parse::<usize>().ok());
    if declared.is_some_and(|n| n > max) {
        return Err(AppError::BodyTooLarge(max));
    }
    let Some(stream) = req.inner().body() else {
        return Ok(Vec::new());
    };
    let reader: ReadableStreamDefaultReader = stream.get_reader().unchecked_into();
    let mut body = Vec::with_capacity(declared.unwrap_or(0));
    let read = loop {
        let chunk = match JsFuture::from(reader.read()).await {
            Ok(chunk) => chunk,
            Err(e) => break Err(AppError::Internal(format!("reading the body: {e:?}"))),
        };
        let field = |name: &str| Reflect::get(&chunk, &JsValue::from_str(name)).ok();
        if field("done").and_then(|d| d.as_bool()).unwrap_or(true) {
            break Ok(body);
        }
        let bytes = Uint8Array::new(&field("value").unwrap_or(JsValue::UNDEFINED));
        let start = body.len();
        if start + bytes.length() as usize > max {
            break Err(AppError::BodyTooLarge(max));
        }
        body.resize(start + bytes.length() as usize, 0);
        bytes.copy_to(&mut body[start..]);
    };
    // Released, not cancelled: the rest of a refused body is left to the platform, as an unread
    // one is (cancelling it broke `wrangler dev`'s next request: "worker restarted mid-request").
    reader.release_lock();
    read
}

/// Largest admin request body.
const MAX_ADMIN_BODY_BYTES: usize = 16 * 1024;

/// The body of an admin request: JSON, at most 16 KB.
pub async fn admin_body(req: &mut Request) -> Result<Vec<u8>, AppError> {
    bounded_body(req, MAX_ADMIN_BODY_BYTES).await
}

/// The body of a segment or funnel: JSON, at most `sightline_core::saved::MAX_BODY_BYTES`.
pub async fn definition_body(req: &mut Request) -> Result<Vec<u8>, AppError> {
    bounded_body(req, sightline_core::saved::MAX_BODY_BYTES).await
}

/// The body of a Stats API v2 query: JSON, at most `sightline_core::query::MAX_BODY_BYTES`.
pub async fn query_body(req: &mut Request) -> Result<Vec<u8>, AppError> {
    bounded_body(req, sightline_core::query::MAX_BODY_BYTES).await
}

/// The `ADMIN_TOKEN` secret (or, in local development, a `--var`), when set and not empty.
pub fn admin_token(env: &worker::Env) -> Option<String> {
    secret_or_var(env, "ADMIN_TOKEN")
}

/// A secret (or, in local development, a `--var`) called `name`, when set and not empty.
pub fn secret_or_var(env: &worker::Env, name: &str) -> Option<String> {
    env.secret(name)
        .map(|s| s.to_string())
        .or_else(|_| env.var(name).map(|v| v.to_string()))
        .ok()
        .filter(|t| !t.is_empty())
}

/// The token `GET /metrics` wants: the `METRICS_TOKEN` secret (or var), else the admin token.
pub fn metrics_token(env: &worker::Env) -> Option<String> {
    secret_or_var(env, "METRICS_TOKEN").or_else(|| admin_token(env))
}

/// A plain-text answer (the Prometheus exposition: `content_type` names its format).
pub fn text(status: u16, body: String, content_type: &str) -> Response {
    let headers = Headers::new();
    let _ = headers.set("Content-Type", content_type);
    let _ = headers.set("Cache-Control", "no-store");
    match Response::ok(body) {
        Ok(r) => r.with_status(status).with_headers(headers),
        Err(_) => Response::empty()
            .map(|r| r.with_status(500))
            .unwrap_or_else(|_| Response::builder().fixed(Vec::new())),
    }
}

/// The URL's query as decoded pairs.
pub fn query_pairs(req: &Request) -> Vec<(String, String)> {
    req.url()
        .map(|url| {
            url.query_pairs()
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect()
        })
        .unwrap_or_default()
}

/// The `Authorization` header.
pub fn authorization(req: &Request) -> Option<String> {
    header(req, "Authorization")
}

/// Milliseconds since the epoch.
pub fn now() -> i64 {
    js_sys_now() as i64
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = Date, js_name = now)]
    fn js_sys_now() -> f64;
    #[wasm_bindgen(js_namespace = crypto, js_name = getRandomValues)]
    fn get_random_values(buf: &mut [u8]);
}

/// Which fault point is asking.
#[derive(Clone, Copy)]
pub enum FaultPoint {
    /// `POST /api/collect`.
    Collect,
    /// A queue batch.
    Consumer,
}

/// True when this call should fail, by the `FAULTS` rates (only ever for `fault-` sites: the caller
/// checks [`sightline_core::faults::Faults::applies_to`] first). Only a build with the `test-hooks`
/// feature reads `FAULTS`; the deployable build never fails on purpose.
#[cfg(feature = "test-hooks")]
pub fn inject_fault(env: &worker::Env, point: FaultPoint) -> bool {
    test_hooks::inject_fault(env, point)
}

/// Never: the deployable build has no fault injection, whatever `FAULTS` says.
#[cfg(not(feature = "test-hooks"))]
pub fn inject_fault(_env: &worker::Env, _point: FaultPoint) -> bool {
    false
}

/// True while the test suite's outage holds for `site` (a `fault-outage-<ms>` site, with `FAULTS`
/// set): the consumer then fails every batch of it. Only in a build with the `test-hooks` feature.
#[cfg(feature = "test-hooks")]
pub fn in_outage(env: &worker::Env, site: &str, now: i64) -> bool {
    env.var("FAULTS").is_ok() && sightline_core::faults::Faults::in_outage(site, now)
}

/// Never: the deployable build has no outages on purpose.
#[cfg(not(feature = "test-hooks"))]
pub fn in_outage(_env: &worker::Env, _site: &str, _now: i64) -> bool {
    false
}

/// The test suite's switches, compiled only with the `test-hooks` feature (`npm test` and
/// `npm run bench:collector` build it; `wrangler deploy` never does).
#[cfg(feature = "test-hooks")]
pub mod test_hooks {
    use super::FaultPoint;

    thread_local! {
        /// Faultable calls so far in this isolate: (collect requests, queue batches).
        static FAULT_CALLS: std::cell::Cell<(u64, u64)> = const { std::cell::Cell::new((0, 0)) };
    }

    /// See [`super::inject_fault`].
    pub fn inject_fault(env: &worker::Env, point: FaultPoint) -> bool {
        let faults = faults(env);
        let (rate, n) = FAULT_CALLS.with(|calls| {
            let (collect, consumer) = calls.get();
            match point {
                FaultPoint::Collect => {
                    calls.set((collect + 1, consumer));
                    (faults.collect, collect)
                }
                FaultPoint::Consumer => {
                    calls.set((collect, consumer + 1));
                    (faults.consumer, consumer)
                }
            }
        });
        sightline_core::faults::Faults::fire(rate, n)
    }

    /// True when the `BENCH` var is `1` (only `npm run bench:collector` sets it): the empty
    /// baseline route is served.
    pub fn bench_enabled(env: &worker::Env) -> bool {
        env.var("BENCH").is_ok_and(|v| v.to_string() == "1")
    }

    /// True when the `TEST_ROUTES` var is `1` (only `npm test` sets it): the admin API then also
    /// serves `POST /api/admin/test/consume`, the queue consumer's write on demand.
    pub fn test_routes_enabled(env: &worker::Env) -> bool {
        env.var("TEST_ROUTES").is_ok_and(|v| v.to_string() == "1")
    }

    /// The response with `X-D1-Rows-Read: rows` (D1's rows read by the request's statements),
    /// for `npm run bench:reports`.
    pub fn with_rows_read(response: worker::Response, rows: usize) -> worker::Response {
        with_header(response, "X-D1-Rows-Read", rows)
    }

    /// The response with a count the tests read (`X-Parts-Held`: the query's block and rollup
    /// parts read from the isolate's memory).
    pub fn with_header(mut response: worker::Response, name: &str, n: usize) -> worker::Response {
        let _ = response.headers_mut().set(name, &n.to_string());
        response
    }

    /// The test suite's fault rates (`FAULTS` var); none when unset.
    fn faults(env: &worker::Env) -> sightline_core::faults::Faults {
        env.var("FAULTS")
            .map(|v| sightline_core::faults::Faults::parse(&v.to_string()))
            .unwrap_or_default()
    }
}

/// `n` bytes from the platform's crypto RNG, as hex.
pub fn random_hex(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    get_random_values(&mut bytes);
    sightline_core::encode::hex(&bytes)
}

/// `N` bytes from the platform's crypto RNG.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    get_random_values(&mut bytes);
    bytes
}

/// A JSON response (CORS headers are the router's: [`with_cors`]).
pub fn json<T: Serialize>(status: u16, body: &T) -> Response {
    let body = serde_json::to_string(body).unwrap_or_else(|_| "{}".into());
    text(status, body, "application/json; charset=utf-8")
}

/// The response with `Retry-After: seconds`.
pub fn with_retry_after(mut response: Response, seconds: u32) -> Response {
    let _ = response
        .headers_mut()
        .set("Retry-After", &seconds.to_string());
    response
}

/// True unless the rate-limit binding `binding` says `key` is over its limit. Without the binding
/// (or when it fails) the request passes: a limiter outage must not drop analytics.
pub async fn within_limit(env: &worker::Env, binding: &str, key: &str) -> bool {
    match env.rate_limiter(binding) {
        Ok(limiter) => limiter
            .limit(key.to_owned())
            .await
            .map_or(true, |outcome| outcome.success),
        Err(_) => true,
    }
}

/// Who may call an endpoint from a page on another origin.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Cors {
    /// The collector: any page (the gate checks its `Origin`) may `POST` a beacon and read the
    /// answer's `Retry-After`, so the SDK can honour a `429`. No `Authorization`: the write token
    /// is for servers, and a browser that sends one cross-origin fails its preflight.
    Beacon,
    /// The stats API (and health): any page may read it with a bearer token. It takes no cookie,
    /// so `*` lends a page nothing it does not hold already; the dashboard may live elsewhere.
    Reader,
    /// The query API (`POST /api/v2/query`): as [`Cors::Reader`], with a JSON body.
    Query,
    /// No CORS headers at all (the admin API, whose token must never be in a page; and everything
    /// else): a browser on another origin cannot read the answer or pass a preflight.
    None,
}

/// The response with the CORS headers of `cors`.
pub fn with_cors(mut response: Response, cors: Cors) -> Response {
    let (methods, headers) = match cors {
        Cors::Beacon => ("POST, OPTIONS", "Content-Type"),
        Cors::Reader => ("GET, OPTIONS", "Authorization"),
        Cors::Query => ("POST, OPTIONS", "Authorization, Content-Type"),
        Cors::None => return response,
    };
    let set = response.headers_mut();
    let _ = set.set("Access-Control-Allow-Origin", "*");
    let _ = set.set("Access-Control-Allow-Methods", methods);
    let _ = set.set("Access-Control-Allow-Headers", headers);
    let _ = set.set("Access-Control-Expose-Headers", "Retry-After");
    response
}

/// The answer to a CORS preflight (what it allows comes from [`with_cors`]).
pub fn preflight() -> Response {
    let headers = Headers::new();
    let _ = headers.set("Access-Control-Max-Age", "86400");
    Response::builder()
        .with_status(204)
        .with_headers(headers)
        .fixed(Vec::new())
}

/// A random id of 53 bits (exact as a JS number, so D1 stores and hands it back unchanged).
pub fn random_id() -> i64 {
    (u64::from_le_bytes(random_bytes()) >> 11) as i64
}

/// A random number in `[0, 1)` (the retry delays' jitter).
pub fn random_unit() -> f64 {
    f64::from(u32::from_le_bytes(random_bytes())) / (f64::from(u32::MAX) + 1.0)
}

/// Queues' retry of a message enqueued at `enqueued_ms`: after about as long as it has waited so
/// far (core's `queue::retry_delay_s`: exponential, jittered, at most [`retry_max_delay_s`]).
pub fn retry_options(env: &worker::Env, enqueued_ms: i64) -> worker::QueueRetryOptions {
    let delay = sightline_core::ingest::queue::retry_delay_s(
        now() - enqueued_ms,
        retry_max_delay_s(env),
        random_unit(),
    );
    worker::QueueRetryOptionsBuilder::new()
        .with_delay_seconds(delay)
        .build()
}

/// The longest delay before a failed queue message is tried again (`RETRY_MAX_DELAY_S`, seconds;
/// 300 by default). The test suite sets a short one, so retries run out within a test.
pub fn retry_max_delay_s(env: &worker::Env) -> u32 {
    env.var("RETRY_MAX_DELAY_S")
        .ok()
        .and_then(|v| v.to_string().parse().ok())
        .filter(|s| (1..=43_200).contains(s))
        .unwrap_or(300)
}
