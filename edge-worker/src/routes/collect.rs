//! `POST /api/collect` (a browser's beacon) and `POST /api/sites/{site}/events` (a server's, with
//! the site's write token): one beacon in, `202 {"accepted","dropped","reasons"}` out.
//! Reads the request (edge), parses it, rate-limits it and gates it (core; the limits before any D1
//! read), runs the ingest stages (core), enqueues the events (the consumer stores them,
//! de-duplicated by event id), answers. Bad bodies are 4xx; bad events (and events of foreign
//! pages) are counted; `accepted` events are in the queue, which never loses them.

use std::cell::RefCell;
use std::collections::BTreeMap;

use sightline_core::faults::Faults;
use sightline_core::ingest::{self, anonymise, gate, queue, Context, GateError, Site};
use sightline_core::ops::DropBuffer;
use sightline_core::token;
use sightline_core::wire::{parse_beacon, DropReason, MAX_CLIENT_AGE_MS, MAX_IMPORT_AGE_MS};
use worker::{Env, Request, Response};

use crate::edge;
use crate::error::AppError;
use crate::store::Store;

/// Handles one browser beacon (or an import with the write token).
pub async fn handle(req: Request, env: &Env) -> Result<Response, AppError> {
    beacon(req, env, None).await
}

/// Handles one server-side beacon for `site` (`POST /api/sites/{site}/events`): the write token
/// required, no browser context (core's `Context::server`).
pub async fn server(req: Request, env: &Env, site: &str) -> Result<Response, AppError> {
    beacon(req, env, Some(site)).await
}

/// One beacon; `server` names the site of a server-side sender's path.
async fn beacon(mut req: Request, env: &Env, server: Option<&str>) -> Result<Response, AppError> {
    let inbound = edge::inbound(&req);
    let write_token = token::bearer(inbound.authorization.as_deref()).map(token::hash);
    if server.is_some() && write_token.is_none() {
        // Refused before the body is read.
        return Err(GateError::WriteTokenRequired.into());
    }
    let body = edge::beacon_body(&mut req).await?;
    let mut beacon = parse_beacon(&body)?;
    if let Some(path_site) = server {
        gate::check_server(path_site, &beacon.site, write_token.as_deref())?;
    }
    if Faults::applies_to(&beacon.site) && edge::inject_fault(env, edge::FaultPoint::Collect) {
        return Err(AppError::Injected);
    }
    let anonymised = anonymise::ip(inbound.client_ip.as_deref());
    let [site_key, address_key] = gate::limit_keys(&beacon.site, &anonymised);
    if !edge::within_limit(env, "SITE_LIMIT", &site_key).await
        || !edge::within_limit(env, "IP_LIMIT", &address_key).await
    {
        return Err(GateError::RateLimited.into());
    }
    let store = Store::new(env)?;
    let received_at = edge::now();
    let site = gate::check(
        site(&store, env, &beacon.site, &anonymised, received_at).await?,
        inbound.origin.as_deref(),
        write_token.as_deref(),
    )?;
    let foreign = gate::drop_foreign_pages(&site, &mut beacon.events);
    let salt = store.salt(received_at, || edge::random_hex(32)).await?;
    let ctx = Context {
        received_at,
        client_ip: inbound.client_ip.as_deref(),
        user_agent: &inbound.user_agent,
        country: inbound.country.as_deref(),
        salt: salt.as_bytes(),
        // A sender with the write token (the gate checked it) may backfill history.
        max_client_age_ms: if write_token.is_some() {
            MAX_IMPORT_AGE_MS
        } else {
            MAX_CLIENT_AGE_MS
        },
        server: server.is_some(),
    };
    let mut outcome = ingest::run(&beacon, &site, &ctx);
    outcome.drop_events(DropReason::ForeignHost, foreign);
    let accepted = outcome.queued.len();
    let dropped = outcome.dropped_total();
    let reasons: BTreeMap<&str, u32> = outcome
        .dropped
        .iter()
        .map(|(reason, n)| (reason.code(), *n))
        .collect();
    // The drops ride on a queue message to be counted by the consumer (`GET /metrics`): this
    // beacon's message, or, for a beacon with nothing accepted, a later one (core's DropBuffer).
    let own: Vec<(String, String, u32)> = reasons
        .iter()
        .map(|(reason, n)| (site.id.clone(), (*reason).to_owned(), *n))
        .collect();
    let held = DROPS.with_borrow_mut(|buffer| {
        if accepted == 0 {
            buffer.restore(own.clone());
        }
        buffer.take(accepted > 0)
    });
    if accepted > 0 || !held.is_empty() {
        outcome.queued.dropped = held.clone();
        if accepted > 0 {
            outcome.queued.dropped.extend(own);
        }
        if let Err((sent, e)) = enqueue(env, &outcome.queued).await {
            // Held drops go back unless the part carrying them went; this beacon's own are
            // counted when it is sent again.
            if sent == 0 {
                DROPS.with_borrow_mut(|buffer| buffer.restore(held));
            }
            return Err(e);
        }
    }
    Ok(edge::json(
        202,
        &serde_json::json!({
            "accepted": accepted,
            "dropped": dropped,
            "reasons": reasons,
        }),
    ))
}

thread_local! {
    /// Drops of this isolate's beacons with nothing accepted, until a message carries them.
    static DROPS: RefCell<DropBuffer> = RefCell::new(DropBuffer::default());
}

/// Sends a message to the events queue, cut in parts that fit (the first carrying the drops); a
/// beacon that cannot be cut to fit enqueues nothing (`413`). A failure says how many parts went.
async fn enqueue(env: &Env, queued: &queue::Queued) -> Result<(), (usize, AppError)> {
    let parts = queued
        .encode_parts(queue::MAX_MESSAGE_BYTES)
        .map_err(|_| (0, AppError::BodyTooLarge(queue::MAX_MESSAGE_BYTES)))?;
    let events = env.queue("EVENTS").map_err(|e| (0, e.into()))?;
    for (sent, part) in parts.into_iter().enumerate() {
        events.send(part).await.map_err(|e| (sent, e.into()))?;
    }
    Ok(())
}

/// Site `id` as this isolate remembers it, or as read from D1 when the sender's address is within
/// its lookups a minute (so random site ids cost a bounded number of reads).
async fn site(
    store: &Store,
    env: &Env,
    id: &str,
    anonymised: &str,
    now: i64,
) -> Result<Option<Site>, AppError> {
    if let Some(site) = Store::remembered_site(id, now) {
        return Ok(site);
    }
    if !edge::within_limit(env, "IP_LIMIT", &gate::lookup_key(anonymised)).await {
        return Err(GateError::RateLimited.into());
    }
    store.read_site(id, now).await
}

/// `POST /api/bench/empty` (only built with the `test-hooks` feature, and served with `BENCH=1`): reads a beacon-sized body and answers like the
/// collector, doing nothing else; the benchmark's baseline for what the platform itself costs.
#[cfg(feature = "test-hooks")]
pub async fn empty(mut req: Request) -> Result<Response, AppError> {
    let body = edge::beacon_body(&mut req).await?;
    Ok(edge::json(
        202,
        &serde_json::json!({"accepted": 0, "dropped": 0, "bytes": body.len()}),
    ))
}
