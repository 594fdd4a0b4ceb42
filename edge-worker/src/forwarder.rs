//! The forwarder: the `sightline-forward` queue's consumer, delivering the outbox's events to
//! GA4 (Measurement Protocol) and Umami (`/api/batch`, or `/api/send` one by one for an instance
//! without it). A message names waiting events of one site
//! and target (core's `forward::Nudge`); the events themselves are read from the outbox, so a
//! message delivered twice, or a delivery that failed halfway, sends each event once. Delivered
//! events leave the outbox; failed ones are tried again with the consumer's backoff (the whole
//! message, of which only what still waits is sent); a target that refuses an event as it is
//! (a 4xx other than 408/429, or a site without its id, API secret or host) gives it up at once;
//! a message that fails every retry goes to `sightline-forward-dlq`, whose consumer gives its
//! events up. Given-up events stay in the outbox, counted, for `POST /api/admin/forward/replay`.
//! Ingestion never waits on any of this: the events consumer only writes the outbox and nudges.
//! Must not: log a payload or a secret, or send the visitor's IP or user agent.

use futures_util::future::{select, Either};
use sightline_core::forward::{self, ga4, umami, Delivery, Nudge, Target};
use worker::{
    AbortController, Delay, Env, Fetch, Headers, MessageBatch, MessageExt, Method, Queue, Request,
    RequestInit,
};

use crate::edge;
use crate::error::AppError;
use crate::store::forward::Ids;
use crate::store::Store;

/// The forwarder's queue (wrangler.toml).
pub const QUEUE: &str = "sightline-forward";
/// Its dead-letter queue.
pub const DEAD_LETTER_QUEUE: &str = "sightline-forward-dlq";
/// Google's Measurement Protocol base, unless `GA4_ENDPOINT` names another.
const GA4_DEFAULT: &str = "https://www.google-analytics.com";
/// How long one delivery request may take.
const TIMEOUT_MS: u64 = 10_000;

/// Nudges the forwarder for outbox rows just written (after their transaction). A nudge that
/// cannot be sent is not lost work: the cron's sweep ([`sweep`]) finds the rows.
pub async fn nudge(env: &Env, rows: &[forward::Row]) {
    if rows.is_empty() {
        return;
    }
    let nudges = forward::nudges(
        rows.iter()
            .map(|r| (r.site.as_str(), r.target, r.event_id.as_str())),
    );
    if let Err(e) = send(env, &nudges).await {
        worker::console_error!("forward: nudge not sent ({e:?}); the cron will find the events");
    }
}

async fn send(env: &Env, nudges: &[Nudge]) -> Result<(), AppError> {
    let queue: Queue = env.queue("FORWARD")?;
    for n in nudges {
        let text =
            serde_json::to_string(n).map_err(|e| AppError::Internal(format!("nudge: {e}")))?;
        queue.send(text).await?;
    }
    Ok(())
}

/// Handles a batch of the forwarder's queue, or of its dead-letter queue.
pub async fn deliver(batch: MessageBatch<String>, env: &Env) {
    let dead = batch.queue() == DEAD_LETTER_QUEUE;
    for message in batch.raw_iter() {
        let Some(nudge) = message
            .body()
            .as_string()
            .and_then(|t| serde_json::from_str::<Nudge>(&t).ok())
        else {
            // Never readable; its events (if any) are found by the cron's sweep.
            message.ack();
            continue;
        };
        let result = match Store::new(env) {
            Ok(store) if dead => store
                .give_up(&nudge.site, nudge.target, &nudge.ids)
                .await
                .map(|()| true),
            Ok(store) => deliver_one(env, &store, &nudge).await,
            Err(e) => Err(e),
        };
        match result {
            Ok(true) => message.ack(),
            Ok(false) | Err(_) => {
                if let Err(AppError::Internal(detail)) = &result {
                    worker::console_error!("forward: {detail}");
                }
                let enqueued = message.timestamp().as_millis() as i64;
                message.retry_with_options(&edge::retry_options(env, enqueued));
            }
        }
    }
}

/// Delivers what still waits of one nudge; true when nothing is left to retry.
async fn deliver_one(env: &Env, store: &Store, nudge: &Nudge) -> Result<bool, AppError> {
    let waiting = store.waiting(&nudge.site, nudge.target, &nudge.ids).await?;
    if waiting.is_empty() {
        return Ok(true);
    }
    let all: Vec<String> = waiting.iter().map(|w| w.event_id.clone()).collect();
    let ids = store.forward_target(&nudge.site).await?;
    let route = match ids.as_ref().map(|i| (i, i.forwarding())) {
        Some((ids, f)) if f.route(nudge.target).is_some() => Ok(ids),
        Some(_) => Err("forwarding_off"),
        None => Err("site_deleted"),
    };
    let plan =
        route.and_then(|ids| requests(env, &nudge.site, nudge.target, ids, waiting, edge::now()));
    let (requests, refused) = match plan {
        Ok(plan) => plan,
        Err(reason) => {
            store
                .settle(
                    &nudge.site,
                    nudge.target,
                    &[],
                    &[(all, reason.into(), true)],
                )
                .await?;
            return Ok(true);
        }
    };
    let mut delivered = Vec::new();
    let mut failed: Vec<(Vec<String>, String, bool)> = refused
        .into_iter()
        .map(|(id, reason)| (vec![id], reason.to_owned(), true))
        .collect();
    let mut retry = false;
    for planned in requests {
        for (ids, outcome) in send_planned(planned).await {
            match outcome {
                Delivery::Delivered => delivered.extend(ids),
                Delivery::Retry(reason) => {
                    retry = true;
                    failed.push((ids, reason, false));
                }
                Delivery::Refused(reason) => failed.push((ids, reason, true)),
            }
        }
    }
    let written = store
        .settle(&nudge.site, nudge.target, &delivered, &failed)
        .await?;
    // One line per delivery (no payload, no ids): what D1 bills for forwarding.
    worker::console_log!(
        "forward: {} events to {} delivered, {} failed, {} D1 rows written",
        delivered.len(),
        nudge.target.name(),
        failed.iter().map(|(ids, _, _)| ids.len()).sum::<usize>(),
        written
    );
    Ok(!retry)
}

/// A delivery request.
struct Planned {
    /// Where it goes.
    url: String,
    /// Its JSON body (for Umami, an array of `/api/send` bodies).
    body: serde_json::Value,
    /// The event ids it carries, in the body's order.
    ids: Vec<String>,
    /// For Umami: its `/api/send` URL (an instance older than `/api/batch` answers that 404).
    single: Option<String>,
}

/// Sends one planned request; answers what became of its events. An Umami instance without
/// `/api/batch` (404) gets each event on its own at `/api/send`.
async fn send_planned(planned: Planned) -> Vec<(Vec<String>, Delivery)> {
    let umami = planned.single.is_some();
    let outcome = post(&planned.url, &planned.body.to_string(), umami).await;
    let (Some(single), Delivery::Refused(reason)) = (&planned.single, &outcome) else {
        return vec![(planned.ids, outcome)];
    };
    let items = planned.body.as_array().cloned().unwrap_or_default();
    if reason != "http_404" || items.len() != planned.ids.len() {
        return vec![(planned.ids, outcome)];
    }
    let mut out = Vec::with_capacity(items.len());
    for (id, item) in planned.ids.into_iter().zip(items) {
        out.push((vec![id], post(single, &item.to_string(), true).await));
    }
    out
}

/// How old an event GA4 still takes (its Measurement Protocol drops older timestamps).
const GA4_MAX_AGE_MS: i64 = 72 * 3600 * 1000;

/// The requests that deliver `waiting` to `target`, and the events that cannot go as they are
/// (with why: a body that does not read, or an event too old for GA4); or why none can.
#[allow(clippy::type_complexity)]
fn requests(
    env: &Env,
    site: &str,
    target: Target,
    ids: &Ids,
    waiting: Vec<crate::store::forward::Waiting>,
    now: i64,
) -> Result<(Vec<Planned>, Vec<(String, &'static str)>), &'static str> {
    let mut refused = Vec::new();
    match target {
        Target::Ga4 => {
            let measurement = ids.ga4.as_deref().ok_or("no_measurement_id")?;
            let api_secret = edge::secret_or_var(env, &forward::site_secret_name(site))
                .or_else(|| edge::secret_or_var(env, "GA_API_SECRET"))
                .ok_or("no_api_secret")?;
            let base =
                edge::secret_or_var(env, "GA4_ENDPOINT").unwrap_or_else(|| GA4_DEFAULT.into());
            let url = format!(
                "{}/mp/collect?measurement_id={}&api_secret={}",
                base.trim_end_matches('/'),
                encode(measurement),
                encode(&api_secret)
            );
            let mut items = Vec::new();
            for w in waiting {
                match serde_json::from_str::<ga4::Item>(&w.body) {
                    Err(_) => refused.push((w.event_id, "bad_body")),
                    Ok(i) if i.event.timestamp_micros / 1000 < now - GA4_MAX_AGE_MS => {
                        refused.push((w.event_id, "older_than_72h"));
                    }
                    Ok(i) => items.push((w.event_id, i)),
                }
            }
            let planned = ga4::requests(items)
                .into_iter()
                .map(|r| Planned {
                    url: url.clone(),
                    body: r.body,
                    ids: r.ids,
                    single: None,
                })
                .collect();
            Ok((planned, refused))
        }
        Target::Umami => {
            let website = ids.umami.as_deref().ok_or("no_website_id")?;
            let host = edge::secret_or_var(env, "UMAMI_HOST").ok_or("no_umami_host")?;
            let host = host.trim_end_matches('/');
            let url = format!("{host}/api/batch");
            let single = format!("{host}/api/send");
            let mut items = Vec::new();
            for w in waiting {
                match serde_json::from_str::<umami::Item>(&w.body) {
                    Err(_) => refused.push((w.event_id, "bad_body")),
                    Ok(i) => items.push((w.event_id, i)),
                }
            }
            let planned = umami::requests(website, items)
                .into_iter()
                .map(|r| Planned {
                    url: url.clone(),
                    body: r.body,
                    ids: r.ids,
                    single: Some(single.clone()),
                })
                .collect();
            Ok((planned, refused))
        }
    }
}

/// Percent-encodes a query value.
fn encode(value: &str) -> String {
    worker::js_sys::encode_uri_component(value).into()
}

/// POSTs `body` as JSON, within [`TIMEOUT_MS`].
async fn post(url: &str, body: &str, umami_agent: bool) -> Delivery {
    let headers = Headers::new();
    let _ = headers.set("Content-Type", "application/json");
    if umami_agent {
        let _ = headers.set("User-Agent", umami::USER_AGENT);
    }
    let controller = AbortController::default();
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_headers(headers)
        .with_body(Some(body.into()));
    let Ok(request) = Request::new_with_init(url, &init) else {
        return Delivery::Refused("bad_url".into());
    };
    let fetch = Fetch::Request(request);
    let signal = controller.signal();
    let sending = fetch.send_with_signal(&signal);
    let timeout = Delay::from(std::time::Duration::from_millis(TIMEOUT_MS));
    let outcome = match select(Box::pin(sending), Box::pin(timeout)).await {
        Either::Left((Ok(response), _)) => Some(response.status_code()),
        Either::Left((Err(_), _)) => None,
        Either::Right(_) => {
            controller.abort();
            return Delivery::Retry("timeout".into());
        }
    };
    Delivery::of_status(outcome)
}

/// The cron's sweep: nudges again the events last nudged longer ago than a message's retries
/// can last (an hour, or thirteen of the longest retry delays if that is longer: their message
/// was lost), at most `limit`, marking them nudged now; answers how many.
pub async fn sweep(env: &Env, store: &Store, now: i64, limit: usize) -> usize {
    let retries_ms = 13 * i64::from(edge::retry_max_delay_s(env)) * 1000;
    let older_ms = retries_ms.max(3600 * 1000);
    let Ok(stale) = store.stale_waiting(now - older_ms, limit, now).await else {
        return 0;
    };
    match renudge(env, &stale).await {
        Ok(()) => stale.len(),
        Err(_) => 0,
    }
}

/// Nudges rows waiting again (a sweep's, a replay's).
pub async fn renudge(env: &Env, keys: &[crate::store::forward::Key]) -> Result<(), AppError> {
    let rows = keys.iter().filter_map(|k| {
        Target::named(&k.target).map(|t| (k.site_id.as_str(), t, k.event_id.as_str()))
    });
    send(env, &forward::nudges(rows)).await
}
