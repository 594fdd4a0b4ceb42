//! Static files (storefront, dashboard, hosted loader and SDK) from the `ASSETS` binding.
//! Wrangler serves most of them before the worker runs; this covers requests routed here anyway.

use worker::{Env, Request, Response};

use crate::error::AppError;

/// Serves a static file, or 404 JSON when the binding is missing.
pub async fn handle(req: Request, env: &Env) -> Result<Response, AppError> {
    let assets = env.assets("ASSETS").map_err(|_| AppError::NotFound)?;
    Ok(assets.fetch_request(req).await?)
}
