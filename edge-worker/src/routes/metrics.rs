//! `GET /metrics`: the collector's counters in Prometheus' text format, behind `METRICS_TOKEN`
//! (else the admin token). Reads them (store/ops.rs) and has core write the exposition
//! (`ops::render`). Must not: count anything itself.

use sightline_core::ops;
use worker::{Env, Request, Response};

use crate::edge;
use crate::error::AppError;
use crate::routes::access;
use crate::store::Store;

/// The exposition's media type (text format 0.0.4).
const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// `GET /metrics`.
pub async fn handle(req: &Request, env: &Env) -> Result<Response, AppError> {
    access::metrics(req, env)?;
    let samples = Store::new(env)?.metrics().await?;
    Ok(edge::text(200, ops::render(&samples), CONTENT_TYPE))
}
