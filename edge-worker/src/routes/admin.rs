//! `/api/admin/…`: tenants and sites, guarded by the `ADMIN_TOKEN` secret (the router checks it
//! with [`super::access::admin`] before any of these). Read (edge), validate
//! (core's `admin`), store, answer. Tokens are generated here (or chosen by the caller), answered
//! once, and stored only as hashes.

use serde_json::json;
use sightline_core::admin::{self, SiteSpec};
use sightline_core::token;
use worker::{Env, Request, Response};

use crate::edge;
use crate::error::AppError;
use crate::store::admin::Created;
use crate::store::Store;

/// `POST /api/admin/tenants`.
pub async fn create_tenant(mut req: Request, env: &Env) -> Result<Response, AppError> {
    let spec = admin::parse_tenant(&edge::admin_body(&mut req).await?)?;
    match Store::new(env)?.create_tenant(&spec, edge::now()).await? {
        Created::Yes => Ok(edge::json(201, &json!({"id": spec.id, "name": spec.name}))),
        _ => Err(AppError::Conflict("tenant")),
    }
}

/// `GET /api/admin/tenants`.
pub async fn tenants(env: &Env) -> Result<Response, AppError> {
    let tenants = Store::new(env)?.tenants().await?;
    Ok(edge::json(200, &json!({ "tenants": tenants })))
}

/// `POST /api/admin/sites`: answers the site with its two tokens (shown this once).
pub async fn create_site(mut req: Request, env: &Env) -> Result<Response, AppError> {
    let spec: SiteSpec = admin::parse_site(&edge::admin_body(&mut req).await?)?;
    let read = spec
        .read_token
        .clone()
        .unwrap_or_else(|| edge::random_hex(32));
    let write = spec
        .write_token
        .clone()
        .unwrap_or_else(|| edge::random_hex(32));
    let store = Store::new(env)?;
    let created = store
        .create_site(
            &spec,
            &token::hash(&read),
            &token::hash(&write),
            edge::now(),
        )
        .await?;
    match created {
        Created::Yes => {}
        Created::Exists => return Err(AppError::Conflict("site")),
        Created::NoTenant => return Err(AppError::Missing("tenant")),
    }
    let view = store
        .site_view(&spec.id)
        .await?
        .ok_or(AppError::Missing("site"))?;
    Ok(edge::json(
        201,
        &json!({"site": view, "read_token": read, "write_token": write}),
    ))
}

/// `GET /api/admin/sites/{id}`.
pub async fn site(env: &Env, id: &str) -> Result<Response, AppError> {
    let view = Store::new(env)?
        .site_view(id)
        .await?
        .ok_or(AppError::Missing("site"))?;
    Ok(edge::json(200, &view))
}

/// `PATCH /api/admin/sites/{id}`: changes only the fields given.
pub async fn update_site(mut req: Request, env: &Env, id: &str) -> Result<Response, AppError> {
    let patch = admin::parse_patch(&edge::admin_body(&mut req).await?)?;
    let store = Store::new(env)?;
    let view = store
        .site_view(id)
        .await?
        .ok_or(AppError::Missing("site"))?;
    store.update_site(id, &patch.apply(view.settings)).await?;
    site(env, id).await
}

/// `POST /api/admin/sites/{id}/tokens`: new read and write tokens; the old ones stop working.
pub async fn rotate_tokens(env: &Env, id: &str) -> Result<Response, AppError> {
    let store = Store::new(env)?;
    store
        .site_view(id)
        .await?
        .ok_or(AppError::Missing("site"))?;
    let (read, write) = (edge::random_hex(32), edge::random_hex(32));
    store
        .set_tokens(id, &token::hash(&read), &token::hash(&write))
        .await?;
    Ok(edge::json(
        200,
        &json!({"read_token": read, "write_token": write}),
    ))
}

/// `DELETE /api/admin/sites/{id}`: erases the site and all its data.
pub async fn delete_site(env: &Env, id: &str) -> Result<Response, AppError> {
    let store = Store::new(env)?;
    store
        .site_view(id)
        .await?
        .ok_or(AppError::Missing("site"))?;
    store.erase_site(id).await?;
    Ok(edge::json(200, &json!({"deleted": id})))
}

/// `POST /api/admin/test/consume` (only with `TEST_ROUTES=1`, which the test suite sets, in a build
/// with the `test-hooks` feature): stores one queue message as the queue consumer does, so the
/// suite can run many consumers at once. The deployable build has neither.
#[cfg(feature = "test-hooks")]
pub async fn test_consume(mut req: Request, env: &Env) -> Result<Response, AppError> {
    let body = edge::admin_body(&mut req).await?;
    let stored = crate::consumer::store_message(env, &String::from_utf8_lossy(&body)).await?;
    Ok(edge::json(200, &json!({"events": stored})))
}
