//! Who is calling, from the bearer token: the admin (the `ADMIN_TOKEN` secret, every site), a
//! tenant (its tenant token: the personal-data requests of its sites), a reader of one site (its
//! read token), or nobody. Input: the request's `Authorization`, the
//! secret, the site's stored read-token hash. Output: a [`Caller`] or `401`. Must not: answer a
//! wrong token differently from another site's, compare tokens other than as hashes (the time
//! taken says nothing about a token's prefix), or say whether a site exists to a non-admin.

use sightline_core::token;
use worker::{Env, Request};

use crate::edge;
use crate::error::AppError;
use crate::store::Store;

/// Who a site's API is talking to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    /// The admin token: reads and changes every site.
    Admin,
    /// The site's read token: reads it.
    Reader,
}

/// The hash of the request's bearer token, if it sent one.
fn presented(req: &Request) -> Option<String> {
    let auth = edge::authorization(req);
    token::bearer(auth.as_deref()).map(token::hash)
}

/// True when `hash` is the hash of the admin token (set).
fn is_admin(env: &Env, hash: &str) -> bool {
    edge::admin_token(env).is_some_and(|admin| token::hash(&admin) == hash)
}

/// The admin API's check: the admin token, or `401`; `403` when no `ADMIN_TOKEN` is set.
pub fn admin(req: &Request, env: &Env) -> Result<(), AppError> {
    configured(req, edge::admin_token(env), "ADMIN_TOKEN")
}

/// The request presents `expected` (`403` when it is not set), else `401` asking for `wanted`.
fn configured(
    req: &Request,
    expected: Option<String>,
    wanted: &'static str,
) -> Result<(), AppError> {
    let expected = expected.ok_or(AppError::AdminDisabled)?;
    match presented(req) {
        Some(hash) if hash == token::hash(&expected) => Ok(()),
        _ => Err(AppError::Unauthorized(wanted)),
    }
}

/// `GET /metrics`'s check: `METRICS_TOKEN`, else the admin token, or `401`; `403` when neither
/// is set.
pub fn metrics(req: &Request, env: &Env) -> Result<(), AppError> {
    configured(
        req,
        edge::metrics_token(env),
        "METRICS_TOKEN or ADMIN_TOKEN",
    )
}

/// The stats API's check: the site's read token, or `401`.
pub async fn reader(req: &Request, store: &Store, site: &str) -> Result<(), AppError> {
    const WANTED: &str = "the site's read token";
    let hash = presented(req).ok_or(AppError::Unauthorized(WANTED))?;
    if !store.read_token_matches(site, &hash).await? {
        return Err(AppError::Unauthorized(WANTED));
    }
    Ok(())
}

/// What [`site`] asks for.
const SITE_WANTED: &str = "the site's read token, or ADMIN_TOKEN";

/// A site's saved segments and funnels: the admin token (the site must exist: `404`) or the
/// site's read token; anything else `401`.
pub async fn site(req: &Request, env: &Env, store: &Store, site: &str) -> Result<Caller, AppError> {
    let hash = presented_hash(req)?;
    let found = if is_admin(env, &hash) {
        store.site_exists(site).await?.then_some(false)
    } else {
        store.read_token_matches(site, &hash).await?.then_some(true)
    };
    site_found(env, &hash, found)
}

/// The presented token's hash, for [`site_found`]; `401` when there is none.
pub fn presented_hash(req: &Request) -> Result<String, AppError> {
    presented(req).ok_or(AppError::Unauthorized(SITE_WANTED))
}

/// [`site`] once the store has said whether the site exists (`None`: it does not, or it is not
/// asked for the admin) and whether `hash` is its read token's (`Some(true)`) — for a route that
/// reads both with the site's settings, in one round trip.
pub fn site_found(env: &Env, hash: &str, found: Option<bool>) -> Result<Caller, AppError> {
    if is_admin(env, hash) {
        return found
            .map(|_| Caller::Admin)
            .ok_or(AppError::Missing("site"));
    }
    match found {
        Some(true) => Ok(Caller::Reader),
        _ => Err(AppError::Unauthorized(SITE_WANTED)),
    }
}

/// A site's personal-data requests (export, erasure of one person): the admin token, or the
/// token of the site's tenant; anything else `401`.
pub async fn data_request(
    req: &Request,
    env: &Env,
    store: &Store,
    site: &str,
) -> Result<(), AppError> {
    const WANTED: &str = "ADMIN_TOKEN, or the token of the site's tenant";
    let hash = presented(req).ok_or(AppError::Unauthorized(WANTED))?;
    if is_admin(env, &hash) {
        return Ok(());
    }
    if store.tenant_token_matches(site, &hash).await? {
        return Ok(());
    }
    Err(AppError::Unauthorized(WANTED))
}
