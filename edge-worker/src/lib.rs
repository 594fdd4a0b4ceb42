//! Sightline's collector, stats API and dashboard host, as a Cloudflare Worker.
//!
//! This file holds only the `#[event]` entry points; [`router`] is the route table, `routes/*` the thin
//! handlers, [`edge`] the only reader of the request, [`store`] the only user of D1, and [`error`] the
//! one mapping of failures to JSON responses. Every rule lives in `sightline-core`.

mod edge;
mod error;
mod router;
mod routes;
mod store;

use worker::{event, Context, Env, Request, Response, Result};

/// Every HTTP request: the route table answers; failures are already JSON responses.
#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    Ok(router::route(req, env).await)
}
