//! `/api/sites/{site}/segments` and `/api/sites/{site}/funnels`: a site's saved segments and
//! funnels. Reading takes the site's read token (what a dashboard holds), a share's secret, or the
//! admin token; creating and deleting take the admin token, as every other change to a site does
//! (a shared read token must not let its holder change what others' reports rely on). Read
//! (access, edge), check (core's `saved`), store, answer. Definitions are never changed in place:
//! a query naming an id always means what it meant.

use serde_json::{json, Value};
use sightline_core::saved::{self, Kind, Stored};
use worker::{Env, Request, Response};

use super::access;
use crate::edge;
use crate::error::AppError;
use crate::store::saved::Saved;
use crate::store::Store;

/// `GET …/{kind}`: every one of the site's, oldest first.
pub async fn list(req: &Request, env: &Env, site: &str, kind: Kind) -> Result<Response, AppError> {
    let store = Store::new(env)?;
    access::site(req, env, &store, site).await?;
    let items: Vec<Value> = store
        .saved(site, kind)
        .await?
        .iter()
        .map(saved::view)
        .collect();
    Ok(edge::json(200, &json!({ kind.plural(): items })))
}

/// `GET …/{kind}/{id}`.
pub async fn one(
    req: &Request,
    env: &Env,
    site: &str,
    kind: Kind,
    id: &str,
) -> Result<Response, AppError> {
    let store = Store::new(env)?;
    access::site(req, env, &store, site).await?;
    let id = saved::parse_id(kind, id)?;
    let stored = store
        .saved_one(site, kind, id)
        .await?
        .ok_or(AppError::Missing(kind.singular()))?;
    Ok(edge::json(200, &saved::view(&stored)))
}

/// `POST …/{kind}`: answers `201` with what was stored, its id and time.
pub async fn create(
    mut req: Request,
    env: &Env,
    site: &str,
    kind: Kind,
) -> Result<Response, AppError> {
    let store = Store::new(env)?;
    access::site(&req, env, &store, site).await?.admin_only()?;
    let checked = saved::parse(kind, &edge::definition_body(&mut req).await?)?;
    let now = edge::now();
    let id = match store.save(site, kind, &checked, now).await? {
        Saved::Yes(id) => id,
        Saved::Full => return Err(AppError::LimitReached(kind.plural(), kind.max_per_site())),
        Saved::NoSite => return Err(AppError::Missing("site")),
    };
    let stored = Stored {
        id,
        name: checked.name,
        definition: checked.definition,
        created_at: now,
    };
    Ok(edge::json(201, &saved::view(&stored)))
}

/// `DELETE …/{kind}/{id}`.
pub async fn delete(
    req: &Request,
    env: &Env,
    site: &str,
    kind: Kind,
    id: &str,
) -> Result<Response, AppError> {
    let store = Store::new(env)?;
    access::site(req, env, &store, site).await?.admin_only()?;
    let id = saved::parse_id(kind, id)?;
    if !store.delete_saved(site, kind, id).await? {
        return Err(AppError::Missing(kind.singular()));
    }
    Ok(edge::json(200, &json!({ "deleted": id })))
}
