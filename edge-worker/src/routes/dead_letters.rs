//! `/api/admin/dead-letters`: what the dead-letter queue kept (`GET`), and its re-ingestion
//! (`POST …/replay`): the oldest kept messages go back to the events queue, whose consumer stores
//! each event exactly once (an event or order stored before is a duplicate there), and are then
//! forgotten; and the forwarder's given-up events (`POST /api/admin/forward/replay`): back to
//! waiting, and nudged. Admin token only (the router checks it). Must not: decide anything about
//! events.

use serde_json::json;
use sightline_core::audit::Action;
use worker::{Env, Request, Response};

use crate::edge;
use crate::error::AppError;
use crate::routes::admin;
use crate::store::Store;

/// Most messages one replay call sends back.
const REPLAY_BATCH: usize = 100;

/// `GET /api/admin/dead-letters`.
pub async fn summary(env: &Env) -> Result<Response, AppError> {
    let summary = Store::new(env)?.dead_letter_summary().await?;
    Ok(edge::json(200, &summary))
}

/// `POST /api/admin/dead-letters/replay`: up to [`REPLAY_BATCH`] of the oldest kept messages.
pub async fn replay(req: &Request, env: &Env) -> Result<Response, AppError> {
    let store = Store::new(env)?;
    let kept = store.oldest_dead_letters(REPLAY_BATCH).await?;
    let queue = env.queue("EVENTS")?;
    let mut ids = Vec::with_capacity(kept.len());
    for message in &kept {
        queue.send(message.body.as_str()).await?;
        ids.push(message.id);
    }
    // Sent before forgotten: a failure in between sends a message twice, which counts once.
    store.forget_dead_letters(&ids).await?;
    if !ids.is_empty() {
        let detail = json!({"messages": ids.len()});
        admin::record(&store, req, Action::DeadLettersReplayed, "", detail).await?;
    }
    let left = store.dead_letter_summary().await?;
    Ok(edge::json(
        200,
        &json!({
            "replayed_messages": ids.len(),
            "kept_messages": left.kept_messages,
            "kept_events": left.kept_events,
        }),
    ))
}

/// Most given-up forwards one replay call revives.
const FORWARD_REPLAY_BATCH: usize = 1000;

/// `POST /api/admin/forward/replay[?site=…]`: up to [`FORWARD_REPLAY_BATCH`] of the oldest
/// given-up forwards (of one site, or all) wait again, and the forwarder is nudged for them.
pub async fn forward_replay(req: &Request, env: &Env) -> Result<Response, AppError> {
    let site = edge::query_pairs(req)
        .into_iter()
        .find(|(k, _)| k == "site")
        .map(|(_, v)| v)
        .unwrap_or_default();
    let store = Store::new(env)?;
    let revived = store
        .revive_dead(FORWARD_REPLAY_BATCH, &site, edge::now())
        .await?;
    if !revived.is_empty() {
        let detail = json!({"events": revived.len()});
        admin::record(&store, req, Action::ForwardsReplayed, &site, detail).await?;
    }
    // Waiting again before nudged: a nudge that fails leaves them to the cron's sweep.
    if let Err(e) = crate::forwarder::renudge(env, &revived).await {
        worker::console_error!("forward replay: nudge not sent ({e:?}); the cron will send them");
    }
    Ok(edge::json(200, &json!({"replayed_events": revived.len()})))
}
