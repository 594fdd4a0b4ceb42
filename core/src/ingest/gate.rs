//! Stage: gate. Input: the site as stored, the request's `Origin`, the hash of a write token when
//! the sender presented one, and the beacon's events. Output: pass, or a [`GateError`] (answered 403,
//! or 401 for a wrong write token); then the events whose page is on the site, the others counted as
//! [`crate::wire::DropReason::ForeignHost`]. Also the rules of the worker's site cache ([`SiteCache`]) and the
//! rate-limit keys, all checked before any storage read. Must not: look the site up itself (the
//! worker's store does, and passes it in), or read the clock (`now` is an argument).

use std::collections::HashMap;

use crate::scrub::{host_matches, split_url};
use crate::wire::{Loose, RawEvent};

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
    /// The site forwards to GA4: a beacon's user id (`identify()`) rides its queue message to
    /// GA4's `user_id` (and is never stored)...
    pub forwards_user_id: bool,
    /// ...only a server's, when it forwards only server-sent events (mode `server`).
    pub ga4_server_only: bool,
}

/// Why a request is refused before its events are read.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum GateError {
    /// No active site with this id.
    UnknownSite,
    /// The `Origin` header names a host outside the site's domains.
    OriginNotAllowed(String),
    /// Neither an `Origin` (a browser sends one with every `POST`) nor a write token.
    OriginRequired,
    /// A bearer token was presented and it is not the site's write token.
    WrongWriteToken,
    /// Over the beacons-per-minute limit of the site, or of one anonymised address on the site.
    RateLimited,
    /// A server-side event (`POST /api/sites/{site}/events`) came without a bearer token.
    WriteTokenRequired,
    /// A server-side beacon's `site` is not the site its path names.
    SiteMismatch,
}

/// Seconds a rate-limited sender is told to wait (the limits count per minute).
pub const RETRY_AFTER_SECONDS: u32 = 60;

/// The rate-limit keys of a beacon, checked before its site is looked up: its site id as sent, and
/// its anonymised address on that site (never the raw IP).
pub fn limit_keys(site: &str, anonymised_ip: &str) -> [String; 2] {
    [site.to_owned(), format!("{site} {anonymised_ip}")]
}

/// The rate-limit key of a site lookup (a site id the isolate does not remember, read from
/// storage) by one anonymised address, counted in the per-address limit's namespace: random site
/// ids from one address cost at most that limit's storage reads a minute. The parentheses never
/// occur in a site id, so it meets no beacon's key.
pub fn lookup_key(anonymised_ip: &str) -> String {
    format!("(lookup) {anonymised_ip}")
}

impl GateError {
    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            GateError::UnknownSite => "unknown_site",
            GateError::OriginNotAllowed(_) => "origin_not_allowed",
            GateError::OriginRequired => "origin_required",
            GateError::WrongWriteToken => "unauthorized",
            GateError::RateLimited => "rate_limited",
            GateError::WriteTokenRequired => "unauthorized",
            GateError::SiteMismatch => "site_mismatch",
        }
    }

    /// A sentence for a human.
    pub fn message(&self) -> String {
        match self {
            GateError::UnknownSite => "no active site has this id".into(),
            GateError::OriginNotAllowed(host) => {
                format!("origin host `{host}` is not one of the site's domains")
            }
            GateError::OriginRequired => {
                "a browser's beacon carries its page's Origin; a server-side sender needs \
                 `Authorization: Bearer <write token>`"
                    .into()
            }
            GateError::WrongWriteToken => {
                "the bearer token is not this site's write token (browsers send none)".into()
            }
            GateError::WriteTokenRequired => {
                "server-side events need `Authorization: Bearer <the site's write token>`".into()
            }
            GateError::SiteMismatch => "the beacon's `site` is not the site this path names".into(),
            GateError::RateLimited => format!(
                "too many beacons from this site or address; retry after {RETRY_AFTER_SECONDS} s"
            ),
        }
    }
}

/// Checks the site is active, then either the presented write token (a server-side sender) or the
/// `Origin` against the site's domains. A sender with neither is refused: every browser `POST`
/// carries an `Origin` (`null`, from a sandboxed or `file:` page, or under `no-referrer`, names no
/// page of the site).
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
    let origin = origin
        .map(str::trim)
        .filter(|o| !o.is_empty() && *o != "null")
        .ok_or(GateError::OriginRequired)?;
    let host = split_url(origin).map(|p| p.host).unwrap_or(origin);
    if on_site(&site, host) {
        Ok(site)
    } else {
        Err(GateError::OriginNotAllowed(host.to_owned()))
    }
}

/// What a server-side sender (`POST /api/sites/{path_site}/events`) must present before its body
/// is read further: a bearer token (checked against the site's write token by [`check`]), and a
/// beacon for the site its path names.
pub fn check_server(
    path_site: &str,
    beacon_site: &str,
    write_token_hash: Option<&str>,
) -> Result<(), GateError> {
    if write_token_hash.is_none() {
        return Err(GateError::WriteTokenRequired);
    }
    if beacon_site != path_site {
        return Err(GateError::SiteMismatch);
    }
    Ok(())
}

/// True when `host` is one of the site's domains or a subdomain of one.
fn on_site(site: &Site, host: &str) -> bool {
    site.domains.iter().any(|d| host_matches(host, d))
}

/// Keeps the events whose page (`url`) is on the site, whoever sent them (a write token opens the
/// gate, not the site to other hosts), and returns how many were dropped as
/// [`crate::wire::DropReason::ForeignHost`]. An event without a readable `url` is kept, for validation to drop
/// with its own reason.
pub fn drop_foreign_pages(site: &Site, events: &mut Vec<RawEvent<'_>>) -> u32 {
    let before = events.len();
    events.retain(|event| match &event.url {
        Loose::Str(url) => split_url(url).is_none_or(|page| on_site(site, page.host)),
        _ => true,
    });
    (before - events.len()) as u32
}

/// How long a worker isolate trusts what it read about a site id, its absence included. A change
/// made through the admin API applies at once in the isolate that made it (it clears its cache),
/// and within this time in every other; meanwhile a beacon costs no storage read.
pub const SITE_TTL_MS: i64 = 30_000;
/// Most real sites one isolate remembers (it starts over when full).
pub const SITES_REMEMBERED: usize = 10_000;
/// Most unknown site ids one isolate remembers, apart from the real sites: a flood of random ids
/// fills only this part, so it never pushes a real site out.
pub const UNKNOWN_REMEMBERED: usize = 10_000;

/// What an isolate remembers of site ids it read: real sites and unknown ids in two bounded maps.
#[derive(Debug, Default)]
pub struct SiteCache {
    /// Real sites (active or not): id → (read at, site).
    known: HashMap<String, (i64, Site)>,
    /// Ids with no site: id → read at.
    unknown: HashMap<String, i64>,
}

impl SiteCache {
    /// What was read about `id` less than [`SITE_TTL_MS`] before `now`: `Some(None)` for an id
    /// with no site, `None` when it must be read.
    pub fn get(&self, id: &str, now: i64) -> Option<Option<Site>> {
        let fresh = |read_at: i64| (0..SITE_TTL_MS).contains(&(now - read_at));
        if let Some((read_at, site)) = self.known.get(id) {
            return fresh(*read_at).then(|| Some(site.clone()));
        }
        self.unknown
            .get(id)
            .filter(|read_at| fresh(**read_at))
            .map(|_| None)
    }

    /// Remembers what was read about `id` at `now`. A full map first drops its stale entries, and
    /// starts over if none was.
    pub fn put(&mut self, id: &str, now: i64, site: Option<Site>) {
        match site {
            Some(site) => {
                self.unknown.remove(id);
                make_room(&mut self.known, SITES_REMEMBERED, |(at, _)| *at, now);
                self.known.insert(id.to_owned(), (now, site));
            }
            None => {
                self.known.remove(id);
                make_room(&mut self.unknown, UNKNOWN_REMEMBERED, |at| *at, now);
                self.unknown.insert(id.to_owned(), now);
            }
        }
    }

    /// Forgets everything (after an admin change).
    pub fn clear(&mut self) {
        self.known.clear();
        self.unknown.clear();
    }
}

/// Makes room for one more entry in a map of at most `max`: drops stale entries when full, and
/// everything if all were fresh.
fn make_room<V>(map: &mut HashMap<String, V>, max: usize, read_at: impl Fn(&V) -> i64, now: i64) {
    if map.len() < max {
        return;
    }
    map.retain(|_, v| (0..SITE_TTL_MS).contains(&(now - read_at(v))));
    if map.len() >= max {
        map.clear();
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
            forwards_user_id: false,
            ga4_server_only: false,
        }
    }

    #[test]
    fn gates_site_and_origin() {
        assert_eq!(
            check(Some(site(true)), Some("https://www.shop.example"), None),
            Ok(site(true))
        );
        assert_eq!(check(None, None, None), Err(GateError::UnknownSite));
        assert_eq!(
            check(Some(site(false)), None, None),
            Err(GateError::UnknownSite)
        );
        let err = check(Some(site(true)), Some("https://evil.example"), None).unwrap_err();
        assert_eq!(err.code(), "origin_not_allowed");
    }

    #[test]
    fn a_sender_with_neither_origin_nor_write_token_is_refused() {
        for origin in [None, Some(""), Some("null"), Some(" ")] {
            assert_eq!(
                check(Some(site(true)), origin, None),
                Err(GateError::OriginRequired),
                "{origin:?}"
            );
        }
        assert_eq!(check(Some(site(true)), None, Some("hash")), Ok(site(true)));
        assert_eq!(
            check(None, None, None),
            Err(GateError::UnknownSite),
            "an unknown site is named as such, whoever asks"
        );
    }

    #[test]
    fn a_server_sender_needs_a_token_and_its_paths_site() {
        assert_eq!(
            check_server("shop", "shop", None),
            Err(GateError::WriteTokenRequired)
        );
        assert_eq!(
            check_server("shop", "other", Some("hash")),
            Err(GateError::SiteMismatch)
        );
        assert_eq!(check_server("shop", "shop", Some("hash")), Ok(()));
    }

    #[test]
    fn events_on_foreign_pages_are_dropped_and_their_neighbours_kept() {
        let body = br#"{"v":1,"site":"demo","events":[
            {"id":"a","url":"https://shop.example/"},
            {"id":"b","url":"https://evil.example/shop.example"},
            {"id":"c","url":"http://www.shop.example:8080/p?q=1"},
            {"id":"d","url":"https://shop.example.evil.example/"},
            {"id":"e","url":"https://user@evil.example@cdn.shop.example/"},
            {"id":"f","url":7},
            {"id":"g","url":"javascript:alert(1)"},
            {"id":"h","url":"https://SHOP.EXAMPLE./"}
        ]}"#;
        let mut beacon = crate::wire::parse_beacon(body).unwrap();
        assert_eq!(drop_foreign_pages(&site(true), &mut beacon.events), 2);
        let kept: Vec<_> = beacon.events.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(
            kept,
            [
                Some("a"),
                Some("c"),
                Some("e"),
                Some("f"),
                Some("g"),
                Some("h")
            ],
            "unreadable urls are left for validation to name"
        );
    }

    #[test]
    fn limit_keys_hold_only_the_anonymised_address() {
        assert_eq!(
            limit_keys("demo", "203.0.113.0"),
            ["demo", "demo 203.0.113.0"]
        );
        assert_eq!(lookup_key("203.0.113.0"), "(lookup) 203.0.113.0");
        assert!(
            !crate::wire::is_valid_id("(lookup)"),
            "no site id makes a beacon key equal to a lookup key"
        );
    }

    #[test]
    fn the_site_cache_remembers_sites_and_absences_for_its_ttl() {
        let mut cache = SiteCache::default();
        assert_eq!(cache.get("demo", 0), None);
        cache.put("demo", 1_000, Some(site(true)));
        cache.put("ghost", 1_000, None);
        assert_eq!(
            cache.get("demo", 1_000 + SITE_TTL_MS - 1),
            Some(Some(site(true)))
        );
        assert_eq!(cache.get("ghost", 1_000 + SITE_TTL_MS - 1), Some(None));
        assert_eq!(cache.get("demo", 1_000 + SITE_TTL_MS), None, "read again");
        assert_eq!(cache.get("ghost", 1_000 + SITE_TTL_MS), None, "read again");
        assert_eq!(
            cache.get("demo", 999),
            None,
            "a clock gone back reads again"
        );
        cache.put("ghost", 2_000, Some(site(true)));
        assert_eq!(
            cache.get("ghost", 2_000),
            Some(Some(site(true))),
            "created since"
        );
        cache.clear();
        assert_eq!(cache.get("ghost", 2_000), None);
    }

    #[test]
    fn a_flood_of_unknown_ids_never_pushes_out_a_real_site() {
        let mut cache = SiteCache::default();
        cache.put("demo", 0, Some(site(true)));
        for i in 0..3 * UNKNOWN_REMEMBERED {
            cache.put(&format!("random-{i}"), 1, None);
        }
        assert_eq!(cache.get("demo", 2), Some(Some(site(true))));
        assert!(cache.unknown.len() <= UNKNOWN_REMEMBERED);
        assert_eq!(
            cache.get(&format!("random-{}", 3 * UNKNOWN_REMEMBERED - 1), 2),
            Some(None),
            "the latest absences are remembered"
        );
    }

    #[test]
    fn a_full_cache_drops_its_stale_entries_first() {
        let mut cache = SiteCache::default();
        for i in 0..SITES_REMEMBERED - 1 {
            cache.put(&format!("old-{i}"), 0, Some(site(true)));
        }
        cache.put("fresh", SITE_TTL_MS, Some(site(true)));
        cache.put("next", SITE_TTL_MS + 1, Some(site(true)));
        assert_eq!(
            cache.known.len(),
            2,
            "the stale sites went, the fresh one stayed"
        );
        assert!(cache.get("fresh", SITE_TTL_MS + 1).is_some());
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
