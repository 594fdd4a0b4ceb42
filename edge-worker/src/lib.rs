//! Sightline's collector, stats API and dashboard host, as a Cloudflare Worker.
//!
//! This file holds only the `#[event]` entry points (fetch, queue, scheduled); [`consumer`] handles
//! the events queue's batches, [`forwarder`] the forwarding queue's; [`router`] is the route table, `routes/*` the thin
//! handlers, [`edge`] the only reader of the request, [`store`] the only user of D1, and [`error`] the
//! one mapping of failures to JSON responses. Every rule lives in `sightline-core`.

mod consumer;
mod deflate;
mod edge;
mod error;
mod forwarder;
mod held;
mod pending;
mod router;
mod routes;
mod store;
mod turns;

use worker::{
    event, Context, Env, MessageBatch, Request, Response, Result, ScheduleContext, ScheduledEvent,
};

/// Every HTTP request: the route table answers; failures are already JSON responses.
#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    Ok(router::route(req, env).await)
}

/// Every queue batch: the events of accepted beacons, written to D1 (or dead letters, counted);
/// or the forwarder's, delivered to GA4 and Umami.
#[event(queue)]
async fn queue(batch: MessageBatch<String>, env: Env, _ctx: Context) -> Result<()> {
    let queue = batch.queue();
    if queue == forwarder::QUEUE || queue == forwarder::DEAD_LETTER_QUEUE {
        forwarder::deliver(batch, &env).await;
    } else {
        consumer::consume(batch, &env).await;
    }
    Ok(())
}

/// The cron: purge raw events past retention and old salts.
#[event(scheduled)]
async fn scheduled(_event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    routes::housekeeping::run(&env).await;
}
