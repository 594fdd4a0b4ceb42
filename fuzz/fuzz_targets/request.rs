//! What both fuzz targets stand in for the request: a fixed receive time, a browser sender (a client
//! IP and user agent whose traces must not show up in what the pipeline returns), and a gated site.
//! Included by each target with `#[path]` (cargo-fuzz builds every target as its own binary).

use sightline_core::ingest::{Context, Site};
use sightline_core::wire::MAX_CLIENT_AGE_MS;

/// The receive time.
pub const NOW: i64 = 1_764_000_000_000;
/// The request's client IP; its /24 must not show up in anything `run` returns.
pub const CLIENT_IP: &str = "203.0.113.77";
/// A browser user agent (not a bot, so events go through every stage).
pub const USER_AGENT: &str = "Mozilla/5.0 (X11; Linux x86_64) Chrome/140.0 Safari/537.36";

/// The site a beacon names, as the gate passed it.
pub fn site(id: &str) -> Site {
    Site {
        id: id.to_owned(),
        domains: vec!["localhost".into()],
        active: true,
        write_token_hash: None,
        forwards_user_id: false,
        ga4_server_only: false,
    }
}

/// A browser sender's context.
pub fn browser() -> Context<'static> {
    Context {
        received_at: NOW,
        client_ip: Some(CLIENT_IP),
        user_agent: USER_AGENT,
        country: Some("DE"),
        salt: b"salt-of-the-day",
        max_client_age_ms: MAX_CLIENT_AGE_MS,
        server: false,
    }
}
