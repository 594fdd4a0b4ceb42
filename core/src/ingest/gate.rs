//! Stage: gate. Input: the site as stored, the request's `Origin`, and the hash of a write token when
//! the sender presented one. Output: pass, or a [`GateError`] (answered 403, or 401 for a wrong write
//! token). Must not: look the site up itself (the worker's store does, and passes it in).

use crate::scrub::{host_matches, split_url};

/// What the gate needs to know about a site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    /// Site id.
    pub id: String,
    /// Hosts allowed to send events (subdomains included).
    pub domains: Vec<String>,
    /// False when the site is paused or deleted.
    pub active: bool,
    /// SHA-256 hex of the site's write token, if it has one.
    pub write_token_hash: Option<String>,
}

/// Why a request is refused before its events are read.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum GateError {
    /// No active site with this id.
    UnknownSite,
    /// The `Origin` header names a host outside the site's domains.
    OriginNotAllowed(String),
    /// A bearer token was presented and it is not the site's write token.
    WrongWriteToken,
    /// Over the beacons-per-minute limit of the site, or of one anonymised address on the site.
    RateLimited,
}

/// Seconds a rate-limited sender is told to wait (the limits count per minute).
pub const RETRY_AFTER_SECONDS: u32 = 60;

/// The rate-limit keys of a beacon: its site, and its anonymised address on that site (never the
/// raw IP).
pub fn limit_keys(site: &str, anonymised_ip: &str) -> [String; 2] {
    [site.to_owned(), format!("{site} {anonymised_ip}")]
}

impl GateError {
    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            GateError::UnknownSite => "unknown_site",
            GateError::OriginNotAllowed(_) => "origin_not_allowed",
            GateError::WrongWriteToken => "unauthorized",
            GateError::RateLimited => "rate_limited",
        }
    }

    /// A sentence for a human.
    pub fn message(&self) -> String {
        match self {
            GateError::UnknownSite => "no active site has this id".into(),
            GateError::OriginNotAllowed(host) => {
                format!("origin host `{host}` is not one of the site's domains")
            }
            GateError::WrongWriteToken => {
                "the bearer token is not this site's write token (browsers send none)".into()
            }
            GateError::RateLimited => format!(
                "too many beacons from this site or address; retry after {RETRY_AFTER_SECONDS} s"
            ),
        }
    }
}

/// Checks the site is active, then either the presented write token (a server-side sender) or the
/// origin (when the browser sent one) against the site's domains.
pub fn check(
    site: Option<Site>,
    origin: Option<&str>,
    write_token_hash: Option<&str>,
) -> Result<Site, GateError> {
    let site = site.filter(|s| s.active).ok_or(GateError::UnknownSite)?;
    if let Some(presented) = write_token_hash {
        return if site.write_token_hash.as_deref() == Some(presented) {
            Ok(site)
        } else {
            Err(GateError::WrongWriteToken)
        };
    }
    let Some(origin) = origin.filter(|o| !o.is_empty() && *o != "null") else {
        return Ok(site);
    };
    let host = split_url(origin).map(|p| p.host).unwrap_or(origin);
    if site.domains.iter().any(|d| host_matches(host, d)) {
        Ok(site)
    } else {
        Err(GateError::OriginNotAllowed(host.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(active: bool) -> Site {
        Site {
            id: "demo".into(),
            domains: vec!["shop.example".into()],
            active,
            write_token_hash: Some("hash".into()),
        }
    }

    #[test]
    fn gates_site_and_origin() {
        assert_eq!(
            check(Some(site(true)), Some("https://www.shop.example"), None),
            Ok(site(true))
        );
        assert_eq!(check(Some(site(true)), None, None), Ok(site(true)));
        assert_eq!(check(None, None, None), Err(GateError::UnknownSite));
        assert_eq!(
            check(Some(site(false)), None, None),
            Err(GateError::UnknownSite)
        );
        let err = check(Some(site(true)), Some("https://evil.example"), None).unwrap_err();
        assert_eq!(err.code(), "origin_not_allowed");
    }

    #[test]
    fn limit_keys_hold_only_the_anonymised_address() {
        assert_eq!(
            limit_keys("demo", "203.0.113.0"),
            ["demo", "demo 203.0.113.0"]
        );
    }

    #[test]
    fn a_write_token_replaces_the_origin_check() {
        let evil = Some("https://evil.example");
        assert_eq!(check(Some(site(true)), evil, Some("hash")), Ok(site(true)));
        assert_eq!(
            check(Some(site(true)), None, Some("other")),
            Err(GateError::WrongWriteToken)
        );
    }
}
