//! Who is calling, from the bearer token: the admin (the `ADMIN_TOKEN` secret, every site), a
//! tenant (its tenant token: the personal-data requests of its sites), a reader of one site (its
//! read token), the holder of one of its share links, or nobody. Input: the request's
//! `Authorization`, the secret, what the store says the token's hash is to the site. Output: a
//! [`Caller`] or `401`. Must not: answer a wrong token differently from another site's, compare
//! tokens other than as hashes (the time taken says nothing about a token's prefix), say whether
//! a site exists to a non-admin, or remember a share (a revoked one stops at the next request).

use sightline_core::token;
use worker::{Env, Request};

use crate::edge;
use crate::error::AppError;
use crate::store::shares::Holder;
use crate::store::Store;

/// Who a site's API is talking to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    /// The admin token: reads and changes every site.
    Admin,
    /// The site's read token: reads it.
    Reader,
    /// A share link's secret: reads the site's reports and its saved segments and funnels, and
    /// when locked to a segment, queries only what that segment matches.
    Share {
        /// The segment its queries are locked to.
        segment: Option<u64>,
    },
}

impl Caller {
    /// The admin, or `403`: every change to a site takes the admin token.
    pub fn admin_only(self) -> Result<(), AppError> {
        match self {
            Caller::Admin => Ok(()),
            Caller::Reader | Caller::Share { .. } => Err(AppError::Forbidden("ADMIN_TOKEN")),
        }
    }

    /// The admin or the site's read token, or `403`: what a share's holder may not see (the
    /// site's shares).
    pub fn not_share(self) -> Result<Caller, AppError> {
        match self {
            Caller::Share { .. } => Err(AppError::Forbidden(SITE_WANTED)),
            other => Ok(other),
        }
    }
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

/// The stats API's check: the site's read token, or a share of it not locked to a segment (a
/// locked one: `403`, its segment applies only to the query API); else `401`.
pub async fn reader(req: &Request, store: &Store, site: &str) -> Result<(), AppError> {
    const WANTED: &str = "the site's read token, or a share's secret";
    let hash = presented(req).ok_or(AppError::Unauthorized(WANTED))?;
    match store.site_token(site, &hash).await? {
        Some(Holder::Reader | Holder::Share(None)) => Ok(()),
        Some(Holder::Share(Some(_))) => Err(AppError::SegmentLocked),
        _ => Err(AppError::Unauthorized(WANTED)),
    }
}

/// What [`site`] asks for.
const SITE_WANTED: &str = "the site's read token, or ADMIN_TOKEN";

/// A site's saved segments, funnels and shares: the admin token (the site must exist: `404`), the
/// site's read token, or a share's secret; anything else `401`. Each route says which it takes
/// ([`Caller::admin_only`], [`Caller::not_share`]).
pub async fn site(req: &Request, env: &Env, store: &Store, site: &str) -> Result<Caller, AppError> {
    let hash = presented_hash(req)?;
    site_found(env, &hash, store.site_token(site, &hash).await?)
}

/// The presented token's hash, for [`site_found`]; `401` when there is none.
pub fn presented_hash(req: &Request) -> Result<String, AppError> {
    presented(req).ok_or(AppError::Unauthorized(SITE_WANTED))
}

/// [`site`] once the store has said what `hash` is to the site (`None`: the site does not
/// exist) — for a route that reads it with the site's settings, in one round trip.
pub fn site_found(env: &Env, hash: &str, found: Option<Holder>) -> Result<Caller, AppError> {
    if is_admin(env, hash) {
        return found
            .map(|_| Caller::Admin)
            .ok_or(AppError::Missing("site"));
    }
    match found {
        Some(Holder::Reader) => Ok(Caller::Reader),
        Some(Holder::Share(segment)) => Ok(Caller::Share { segment }),
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
