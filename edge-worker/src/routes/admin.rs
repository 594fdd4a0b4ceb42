//! `/api/admin/…`: tenants and sites, guarded by the `ADMIN_TOKEN` secret (the router checks it
//! with [`super::access::admin`] before any of these). Read (edge), validate
//! (core's `admin`), store, record in the audit log (core's `audit`: the action and the token's
//! fingerprint), answer. Tokens are generated here (or chosen by the caller), answered once, and
//! stored only as hashes.

use serde_json::json;
use sightline_core::admin::{self, SiteSpec};
use sightline_core::audit::{self, Action};
use sightline_core::token;
use worker::{Env, Request, Response};

use crate::edge;
use crate::error::AppError;
use crate::store::admin::Created;
use crate::store::Store;

/// `POST /api/admin/tenants`.
pub async fn create_tenant(mut req: Request, env: &Env) -> Result<Response, AppError> {
    let spec = admin::parse_tenant(&edge::admin_body(&mut req).await?)?;
    let now = edge::now();
    let audit = entry(&req, Action::TenantCreated, &spec.id, json!({}), now);
    match Store::new(env)?.create_tenant(&spec, now, &audit).await? {
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
    let now = edge::now();
    let detail = json!({"tenant": spec.tenant});
    let audit = entry(&req, Action::SiteCreated, &spec.id, detail, now);
    let created = store
        .create_site(
            &spec,
            &token::hash(&read),
            &token::hash(&write),
            now,
            &audit,
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

/// `GET /api/admin/sites`: every site's settings, by id (what a dashboard holding the admin token
/// offers to switch between).
pub async fn sites(env: &Env) -> Result<Response, AppError> {
    let sites = Store::new(env)?.site_views().await?;
    Ok(edge::json(200, &json!({ "sites": sites })))
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
    let settings = patch.apply(view.settings.clone());
    let action = audit::site_change(view.settings.active, settings.active);
    let fields = audit::changed_fields(&view.settings, &settings);
    let audit = entry(&req, action, id, json!({"fields": fields}), edge::now());
    store.update_site(id, &settings, &audit).await?;
    site(env, id).await
}

/// `POST /api/admin/sites/{id}/tokens`: new read and write tokens; the old ones stop working.
pub async fn rotate_tokens(req: &Request, env: &Env, id: &str) -> Result<Response, AppError> {
    let store = Store::new(env)?;
    store
        .site_view(id)
        .await?
        .ok_or(AppError::Missing("site"))?;
    let (read, write) = (edge::random_hex(32), edge::random_hex(32));
    let audit = entry(req, Action::TokensRotated, id, json!({}), edge::now());
    store
        .set_tokens(id, &token::hash(&read), &token::hash(&write), &audit)
        .await?;
    Ok(edge::json(
        200,
        &json!({"read_token": read, "write_token": write}),
    ))
}

/// `POST /api/admin/tenants/{id}/token`: a new token for the tenant (shown this once; the old one
/// stops working), which opens its sites' exports and erasures.
pub async fn tenant_token(req: &Request, env: &Env, id: &str) -> Result<Response, AppError> {
    let store = Store::new(env)?;
    let fresh = edge::random_hex(32);
    let audit = entry(req, Action::TenantTokenRotated, id, json!({}), edge::now());
    if !store
        .set_tenant_token(id, &token::hash(&fresh), &audit)
        .await?
    {
        return Err(AppError::Missing("tenant"));
    }
    Ok(edge::json(201, &json!({"tenant": id, "token": fresh})))
}

/// `DELETE /api/admin/sites/{id}`: erases the site and all its data.
pub async fn delete_site(req: &Request, env: &Env, id: &str) -> Result<Response, AppError> {
    let store = Store::new(env)?;
    store
        .site_view(id)
        .await?
        .ok_or(AppError::Missing("site"))?;
    let audit = entry(req, Action::SiteErased, id, json!({}), edge::now());
    store.erase_site(id, &audit).await?;
    Ok(edge::json(200, &json!({"deleted": id})))
}

/// `GET /api/admin/audit?before=<id>&limit=<n>`: the audit log, newest first (`limit` at most
/// 500, 100 by default); `next_before` pages on.
pub async fn audit_log(req: &Request, env: &Env) -> Result<Response, AppError> {
    let mut before = i64::MAX;
    let mut limit = 100;
    for (key, value) in edge::query_pairs(req) {
        let number = value.parse::<i64>().ok().filter(|n| *n > 0);
        match (key.as_str(), number) {
            ("before", Some(n)) => before = n,
            ("limit", Some(n)) if n <= audit::MAX_PAGE as i64 => limit = n as usize,
            _ => {
                return Err(AppError::Invalid(
                    "invalid_parameter",
                    format!(
                        "`{key}`: `before` is an entry id, `limit` 1 to {}",
                        audit::MAX_PAGE
                    ),
                ))
            }
        }
    }
    let entries = Store::new(env)?.audit_page(before, limit).await?;
    let next = (entries.len() == limit)
        .then(|| entries.last().map(|e| e.id as i64))
        .flatten();
    let entries: Vec<_> = entries
        .into_iter()
        .map(|e| {
            let detail: serde_json::Value = serde_json::from_str(&e.detail).unwrap_or(json!({}));
            json!({"id": e.id as i64, "at": e.at as i64, "action": e.action, "target": e.target,
                   "actor": e.actor, "detail": detail})
        })
        .collect();
    Ok(edge::json(
        200,
        &json!({"entries": entries, "next_before": next}),
    ))
}

/// The audit entry of an admin action done with the request's token (core's `audit`: the
/// token's fingerprint, never the token).
pub fn entry(
    req: &Request,
    action: Action,
    target: &str,
    detail: serde_json::Value,
    at: i64,
) -> audit::Entry {
    let auth = edge::authorization(req);
    let token = token::bearer(auth.as_deref()).unwrap_or_default();
    audit::entry(action, target, token, detail, at)
}

/// Writes the audit entry of an action with no transaction of its own to join it to (an export
/// before it streams, an erasure or replay after it): one that cannot be written fails the
/// request (500), so no action goes unlogged silently.
pub async fn record(
    store: &Store,
    req: &Request,
    action: Action,
    target: &str,
    detail: serde_json::Value,
) -> Result<(), AppError> {
    store
        .audit(&entry(req, action, target, detail, edge::now()))
        .await
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
