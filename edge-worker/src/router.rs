//! The route table: every endpoint, in one match. Input: a request. Output: a response; errors are
//! turned into their JSON form here, once. Must not: hold handler logic.

use sightline_core::saved::Kind;
use worker::{Env, Method, Request, Response};

use crate::edge;
use crate::error::AppError;
use crate::routes;

/// Who may call each API from a page on another origin: the collector and the stats API from
/// any page, the query API from any page with a token, and the reading of saved segments, funnels
/// and shares (with a token, as the stats API); their creation and deletion (the admin token's),
/// the admin API and anything else from none.
fn cors(method: &Method, segments: &[&str]) -> edge::Cors {
    let reading = matches!(method, Method::Get | Method::Options);
    match segments {
        ["api", "collect"] => edge::Cors::Beacon,
        ["api", "sites", _, "stats", _] | ["api", "health"] => edge::Cors::Reader,
        ["api", "v2", "query"] => edge::Cors::Query,
        ["api", "sites", _, "segments" | "funnels" | "shares", ..] if reading => edge::Cors::Reader,
        _ => edge::Cors::None,
    }
}

/// The kind of saved definition a path names (the route table matches only these two).
fn saved_kind(collection: &str) -> Kind {
    match collection {
        "funnels" => Kind::Funnel,
        _ => Kind::Segment,
    }
}

/// A path as the logs may hold it: an erasure's id (a person's) left out.
fn loggable(segments: &[&str]) -> String {
    match segments {
        ["api", "sites", site, kind @ ("visitors" | "users"), _] => {
            format!("/api/sites/{site}/{kind}/{{id}}")
        }
        _ => format!("/{}", segments.join("/")),
    }
}

/// Routes one request.
pub async fn route(req: Request, env: Env) -> Response {
    let path = req.path();
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let cors = cors(&req.method(), &segments);
    let result = match (req.method(), segments.as_slice()) {
        (Method::Options, ["api", ..]) => Ok(edge::preflight()),
        (Method::Get, ["metrics"]) => routes::metrics::handle(&req, &env).await,
        (_, ["metrics"]) => Err(AppError::MethodNotAllowed),
        (Method::Get, ["api", "health"]) => Ok(edge::json(200, &serde_json::json!({"ok": true}))),
        (Method::Post, ["api", "collect"]) => routes::collect::handle(req, &env).await,
        (Method::Post, ["api", "sites", site, "events"]) => {
            routes::collect::server(req, &env, site).await
        }
        #[cfg(feature = "test-hooks")]
        (Method::Post, ["api", "bench", "empty"]) if edge::test_hooks::bench_enabled(&env) => {
            routes::collect::empty(req).await
        }
        (Method::Post, ["api", "v2", "query"]) => {
            let started = edge::now();
            let answer = routes::query::handle(req, &env).await;
            crate::pending::time_query(&env, edge::now() - started).await;
            answer
        }
        (Method::Delete, ["api", "sites", site, kind @ ("visitors" | "users"), id]) => {
            routes::erase::by_path(&req, &env, site, kind, id).await
        }
        (Method::Post, ["api", "sites", site, "erasures"]) => {
            routes::erase::by_body(req, &env, site).await
        }
        (Method::Get, ["api", "sites", site, "export"]) => {
            routes::export::handle(&req, &env, site).await
        }
        (Method::Get, ["api", "sites", site, "stats", report]) => {
            let started = edge::now();
            let answer = routes::stats::handle(&req, &env, site, report).await;
            crate::pending::time_query(&env, edge::now() - started).await;
            answer
        }
        (Method::Get, ["api", "sites", site, kind @ ("segments" | "funnels")]) => {
            routes::saved::list(&req, &env, site, saved_kind(kind)).await
        }
        (Method::Post, ["api", "sites", site, kind @ ("segments" | "funnels")]) => {
            routes::saved::create(req, &env, site, saved_kind(kind)).await
        }
        (Method::Get, ["api", "sites", site, kind @ ("segments" | "funnels"), id]) => {
            routes::saved::one(&req, &env, site, saved_kind(kind), id).await
        }
        (Method::Delete, ["api", "sites", site, kind @ ("segments" | "funnels"), id]) => {
            routes::saved::delete(&req, &env, site, saved_kind(kind), id).await
        }
        (Method::Get, ["api", "sites", site, "shares"]) => {
            routes::shares::list(&req, &env, site).await
        }
        (Method::Post, ["api", "sites", site, "shares"]) => {
            routes::shares::create(req, &env, site).await
        }
        (Method::Delete, ["api", "sites", site, "shares", id]) => {
            routes::shares::delete(&req, &env, site, id).await
        }
        (method, ["api", "admin", rest @ ..]) => match routes::access::admin(&req, &env) {
            Err(e) => Err(e),
            Ok(()) => match (method, rest) {
                (Method::Post, ["tenants"]) => routes::admin::create_tenant(req, &env).await,
                (Method::Get, ["tenants"]) => routes::admin::tenants(&env).await,
                (Method::Post, ["tenants", id, "token"]) => {
                    routes::admin::tenant_token(&req, &env, id).await
                }
                (Method::Post, ["sites"]) => routes::admin::create_site(req, &env).await,
                (Method::Get, ["sites"]) => routes::admin::sites(&env).await,
                (Method::Get, ["sites", id]) => routes::admin::site(&env, id).await,
                (Method::Patch, ["sites", id]) => routes::admin::update_site(req, &env, id).await,
                (Method::Delete, ["sites", id]) => routes::admin::delete_site(&req, &env, id).await,
                (Method::Post, ["sites", id, "tokens"]) => {
                    routes::admin::rotate_tokens(&req, &env, id).await
                }
                (Method::Get, ["dead-letters"]) => routes::dead_letters::summary(&env).await,
                (Method::Get, ["audit"]) => routes::admin::audit_log(&req, &env).await,
                (Method::Post, ["compact"]) => routes::housekeeping::compact_now(&env).await,
                (Method::Post, ["dead-letters", "replay"]) => {
                    routes::dead_letters::replay(&req, &env).await
                }
                (Method::Post, ["forward", "replay"]) => {
                    routes::dead_letters::forward_replay(&req, &env).await
                }
                #[cfg(feature = "test-hooks")]
                (Method::Post, ["test", "consume"])
                    if edge::test_hooks::test_routes_enabled(&env) =>
                {
                    routes::admin::test_consume(req, &env).await
                }
                (
                    _,
                    ["tenants"]
                    | ["tenants", _, "token"]
                    | ["sites"]
                    | ["sites", _]
                    | ["sites", _, "tokens"]
                    | ["dead-letters"]
                    | ["dead-letters", "replay"]
                    | ["forward", "replay"]
                    | ["audit"]
                    | ["compact"],
                ) => Err(AppError::MethodNotAllowed),
                _ => Err(AppError::NotFound),
            },
        },
        (
            _,
            ["api", "collect"]
            | ["api", "sites", _, "events" | "export"]
            | ["api", "sites", _, "visitors" | "users", _]
            | ["api", "sites", _, "erasures"]
            | ["api", "v2", "query"]
            | ["api", "sites", _, "stats", _]
            | ["api", "sites", _, "segments" | "funnels"]
            | ["api", "sites", _, "segments" | "funnels", _]
            | ["api", "sites", _, "shares"]
            | ["api", "sites", _, "shares", _],
        ) => Err(AppError::MethodNotAllowed),
        (_, ["api", ..]) => Err(AppError::NotFound),
        _ => routes::assets::handle(req, &env).await,
    };
    let response = result.unwrap_or_else(|error| {
        if let AppError::Internal(detail) = &error {
            worker::console_error!("internal error on {}: {detail}", loggable(&segments));
        }
        let response = edge::json(
            error.status(),
            &serde_json::json!({"error": error.code(), "message": error.message()}),
        );
        match error.retry_after() {
            Some(seconds) => edge::with_retry_after(response, seconds),
            None => response,
        }
    });
    edge::with_cors(response, cors)
}
