//! `/api/sites/{site}/shares`: a site's share links. Making and revoking one take the admin token
//! (a share opens the site's reports to whoever holds it); listing takes the admin token or the
//! site's read token, never a share's secret, and answers no secret or hash. Read (access, edge),
//! check (core's `saved::share`), store, answer. The secret is drawn here from the platform's RNG
//! (edge), stored only as its hash (core's `token::hash`), and answered once.

use serde_json::{json, Value};
use sightline_core::saved::share::{self, Share, MAX_SHARES};
use sightline_core::token;
use worker::{Env, Request, Response};

use super::access;
use crate::edge;
use crate::error::AppError;
use crate::store::shares::Made;
use crate::store::Store;

/// `GET …/shares`: every share of the site, oldest first.
pub async fn list(req: &Request, env: &Env, site: &str) -> Result<Response, AppError> {
    let store = Store::new(env)?;
    access::site(req, env, &store, site).await?.not_share()?;
    let shares: Vec<Value> = store.shares(site).await?.iter().map(share::view).collect();
    Ok(edge::json(200, &json!({ "shares": shares })))
}

/// `POST …/shares`: answers `201` with the share, its secret and its link (shown this once).
pub async fn create(mut req: Request, env: &Env, site: &str) -> Result<Response, AppError> {
    let store = Store::new(env)?;
    access::site(&req, env, &store, site).await?.admin_only()?;
    let spec = share::parse(&edge::definition_body(&mut req).await?)?;
    let secret = share::secret(&edge::random_bytes());
    let now = edge::now();
    let id = match store
        .create_share(site, &spec, &token::hash(&secret), now)
        .await?
    {
        Made::Yes(id) => id,
        Made::Full => return Err(AppError::LimitReached("shares", MAX_SHARES)),
        Made::NoSegment(segment) => return Err(share::unknown_segment(segment).into()),
        Made::NoSite => return Err(AppError::Missing("site")),
    };
    let made = Share {
        id,
        name: spec.name,
        segment: spec.segment,
        created_at: now,
    };
    Ok(edge::json(201, &share::made(&made, site, &secret)))
}

/// `DELETE …/shares/{id}`: revokes it; its secret opens nothing from the next request on.
pub async fn delete(req: &Request, env: &Env, site: &str, id: &str) -> Result<Response, AppError> {
    let store = Store::new(env)?;
    access::site(req, env, &store, site).await?.admin_only()?;
    let id = share::parse_id(id)?;
    if !store.delete_share(site, id).await? {
        return Err(AppError::Missing("share"));
    }
    Ok(edge::json(200, &json!({ "deleted": id })))
}
