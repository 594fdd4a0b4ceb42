//! Scrubbing: URL splitting, query allowlists and PII removal, shared by the SDK and the collector.
//!
//! Input: URLs and free text as sent by a page. Output: the same with only what may be stored: a host,
//! a path without PII (as [`crate::privacy`] defines it), the allowlisted query parameters, and a
//! `#/route` without PII.
//! Must not: allocate a URL parser crate (the `url` crate costs ~74 KB of wasm in the SDK; the split
//! we need — scheme, host, path, query — is small, so it is written here, see [`split_url`]).

use alloc::string::String;

use crate::privacy::contains_pii;

/// Query parameters kept by default: campaign tags, referral markers and ad click ids.
pub const DEFAULT_QUERY_ALLOWLIST: &[&str] = &[
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "ref",
    "source",
    "gclid",
    "gbraid",
    "wbraid",
    "dclid",
    "msclkid",
    "yclid",
    "ttclid",
    "li_fat_id",
    "fbclid",
    "twclid",
];

/// The parts of an absolute http(s) URL that Sightline looks at. Borrowed from the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UrlParts<'a> {
    /// True for `https`.
    pub secure: bool,
    /// Lower-case is not applied; compare with [`host_matches`]. IPv6 hosts come without brackets.
    pub host: &'a str,
    /// The port's digits; empty when none is given.
    pub port: &'a str,
    /// Always starts with `/`.
    pub path: &'a str,
    /// Without the `?`; empty when there is none.
    pub query: &'a str,
    /// Without the `#`; empty when there is none.
    pub fragment: &'a str,
}

/// Splits `http(s)://[user@]host[:port]/path?query#fragment`; `None` for anything else.
pub fn split_url(url: &str) -> Option<UrlParts<'_>> {
    let (secure, rest) = match strip_prefix_ignore_case(url, "https://") {
        Some(rest) => (true, rest),
        None => (false, strip_prefix_ignore_case(url, "http://")?),
    };
    // Byte searches and checked slicing below: in the SDK's wasm, `str` patterns and panicking
    // slices cost kilobytes (substring searchers, panic messages) for what are ASCII delimiters.
    let (rest, fragment) = split_at_byte(rest, b'#').unwrap_or((rest, ""));
    let authority_end = rest
        .bytes()
        .position(|b| b == b'/' || b == b'?')
        .unwrap_or(rest.len());
    let (authority, tail) = rest.split_at_checked(authority_end)?;
    let host_port = match authority.bytes().rposition(|b| b == b'@') {
        Some(at) => authority.get(at + 1..)?,
        None => authority,
    };
    let (host, port) = match host_port.strip_prefix("[") {
        Some(v6) => match v6.as_bytes().windows(2).position(|pair| pair == b"]:") {
            Some(end) => (v6.get(..end)?, v6.get(end + 2..)?),
            None => (trim_end_byte(v6, b']'), ""),
        },
        None => split_at_byte(host_port, b':').unwrap_or((host_port, "")),
    };
    // A host is a DNS name (browsers give IDNs as punycode) or an IP literal: nothing else, so no
    // `%`-encoded text such as an email can pass as one and be stored.
    let v6 = host_port.starts_with("[");
    let host_ok = !host.is_empty()
        && host.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_') || (v6 && b == b':')
        });
    if !host_ok || !port.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (path, query) = split_at_byte(tail, b'?').unwrap_or((tail, ""));
    Some(UrlParts {
        secure,
        host,
        port,
        path: if path.is_empty() { "/" } else { path },
        query,
        fragment,
    })
}

impl UrlParts<'_> {
    /// `scheme://host[:port]`, without any user info.
    pub fn origin(&self) -> String {
        let mut out = String::from(if self.secure { "https://" } else { "http://" });
        let v6 = self.host.bytes().any(|b| b == b':');
        if v6 {
            out += "[";
        }
        out.push_str(self.host);
        if v6 {
            out += "]";
        }
        if !self.port.is_empty() {
            out += ":";
            out.push_str(self.port);
        }
        out
    }
}

// `out += "x"` rather than `out.push('x')` in this file: a `char` push brings UTF-8 encoding code
// into the SDK's wasm.

/// Only what may leave the page: origin, a path without PII, the allowlisted query parameters, and
/// with `hash_routes` a `#/route` fragment (scrubbed like a path); no other fragment, no user info.
/// `None` for anything but an http(s) URL.
pub fn clean_url(url: &str, allowlist: &[&str], hash_routes: bool) -> Option<String> {
    let parts = split_url(url)?;
    let mut out = parts.origin();
    out.push_str(&clean_path(parts.path));
    let query = clean_query(parts.query, allowlist);
    if !query.is_empty() {
        out += "?";
        out.push_str(&query);
    }
    if let Some(route) = hash_route(&parts).filter(|_| hash_routes) {
        out += "#";
        out.push_str(&route);
    }
    Some(out)
}

/// The `#/route` of a hash-routed page (without the `#` and any `?query` of its own), if the
/// fragment is one: a fragment says the page routes by hash by starting with `/` (what the SDK
/// sends with `hashRouting`, and nothing else). Any other fragment, and a route holding PII
/// anywhere (its query too), is `None`: dropped whole.
pub fn hash_route(parts: &UrlParts<'_>) -> Option<String> {
    let route = before_byte(parts.fragment, b'?');
    (route.starts_with("/") && !contains_pii(parts.fragment)).then(|| clean_path(route))
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let (head, rest) = s.split_at_checked(prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then_some(rest)
}

/// True when `host` equals `domain` or is a subdomain of it, ignoring case and a leading `www.`.
pub fn host_matches(host: &str, domain: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let domain = domain.to_ascii_lowercase();
    let host = host.strip_prefix("www.").unwrap_or(&host);
    let domain = domain.strip_prefix("www.").unwrap_or(&domain);
    host == domain
        || host
            .strip_suffix(domain)
            .is_some_and(|sub| sub.ends_with('.'))
}

/// The value of the first query parameter `name` (not percent-decoded beyond `+` → space).
pub fn query_param<'a>(query: &'a str, name: &str) -> Option<&'a str> {
    pieces(query, b'&')
        .map(|pair| split_at_byte(pair, b'=').unwrap_or((pair, "")))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// The query string with only the allowlisted parameters whose values carry no PII, in their order.
pub fn clean_query(query: &str, allowlist: &[&str]) -> String {
    let kept = pieces(query, b'&').filter(|pair| {
        let (key, value) = split_at_byte(pair, b'=').unwrap_or((pair, ""));
        allowlist.contains(&key) && !contains_pii(value)
    });
    join(kept, "&")
}

/// `parts` with `separator` between them (what `[&str]::join` does, without its generic copy code).
fn join<'a>(parts: impl Iterator<Item = &'a str>, separator: &str) -> String {
    let mut out = String::new();
    for (i, part) in parts.enumerate() {
        if i > 0 {
            out.push_str(separator);
        }
        out.push_str(part);
    }
    out
}

/// `text` cut at the first `byte` (an ASCII delimiter, so both halves are valid `str`s), without it.
pub fn split_at_byte(text: &str, byte: u8) -> Option<(&str, &str)> {
    for (at, &b) in text.as_bytes().iter().enumerate() {
        if b == byte {
            return Some((text.get(..at)?, text.get(at + 1..)?));
        }
    }
    None
}

/// `text` without any trailing `byte`s (an ASCII byte).
pub fn trim_end_byte(text: &str, byte: u8) -> &str {
    let mut end = text.len();
    while end > 0 && text.as_bytes().get(end - 1) == Some(&byte) {
        end -= 1;
    }
    text.get(..end).unwrap_or(text)
}

/// `text` up to the first `byte`, or all of it.
pub fn before_byte(text: &str, byte: u8) -> &str {
    split_at_byte(text, byte).map_or(text, |(head, _)| head)
}

/// The pieces of `text` between the ASCII delimiter `byte` (what `str::split` does with a `char`,
/// without the generic searcher code it brings into the SDK's wasm).
pub fn pieces(text: &str, byte: u8) -> impl Iterator<Item = &str> {
    let mut rest = Some(text);
    core::iter::from_fn(move || {
        let current = rest?;
        let (piece, next) = match split_at_byte(current, byte) {
            Some((piece, next)) => (piece, Some(next)),
            None => (current, None),
        };
        rest = next;
        Some(piece)
    })
}

/// A path with every segment that holds PII replaced by `_`.
pub fn clean_path(path: &str) -> String {
    let segments =
        pieces(path, b'/').map(|segment| if contains_pii(segment) { "_" } else { segment });
    join(segments, "/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_urls() {
        let p = split_url("https://user@Shop.example:8443/p/1?utm_source=x#top").unwrap();
        assert_eq!(
            (p.host, p.port, p.path, p.query),
            ("Shop.example", "8443", "/p/1", "utm_source=x")
        );
        assert_eq!(p.origin(), "https://Shop.example:8443");
        let p = split_url("http://localhost:8787").unwrap();
        assert_eq!((p.host, p.path, p.query), ("localhost", "/", ""));
        let p = split_url("http://[::1]:8787/a?b").unwrap();
        assert_eq!(
            (p.host, p.port, p.path, p.query),
            ("::1", "8787", "/a", "b")
        );
        assert_eq!(p.origin(), "http://[::1]:8787");
        assert_eq!(split_url("http://host:80x/"), None);
        assert_eq!(split_url("ftp://x/y"), None);
        assert_eq!(split_url("https:///nohost"), None);
        assert_eq!(split_url("javascript:alert(1)"), None);
        // Regressions from `npm run fuzz`: a host holding a %-encoded email is no host.
        assert_eq!(split_url("http://jane%40x.org/"), None);
        assert_eq!(split_url("http://ex ample/"), None);
        assert_eq!(
            split_url("http://xn--bcher-kva.example/").unwrap().host,
            "xn--bcher-kva.example"
        );
    }

    #[test]
    fn urls_keep_only_what_may_leave_the_page() {
        let clean = |u| clean_url(u, DEFAULT_QUERY_ALLOWLIST, false);
        assert_eq!(
            clean("http://me:pw@localhost:8787/u/jane@x.org?utm_source=a&token=s#frag").as_deref(),
            Some("http://localhost:8787/u/_?utm_source=a")
        );
        assert_eq!(
            clean("https://shop.example").as_deref(),
            Some("https://shop.example/")
        );
        assert_eq!(clean("about:blank"), None);
        let routed = |u: &str| clean_url(u, DEFAULT_QUERY_ALLOWLIST, true);
        assert_eq!(
            routed("https://x.example/app?ref=a#/orders/17?tab=2").as_deref(),
            Some("https://x.example/app?ref=a#/orders/17")
        );
        for pii in [
            "#/orders/jane@x.org",
            "#/orders?tab=jane%40x.org",
            "#/pay/4111 1111 1111 1111",
        ] {
            assert_eq!(
                routed(&format!("https://x.example/app{pii}")).as_deref(),
                Some("https://x.example/app"),
                "a route with PII is dropped whole: {pii}"
            );
        }
        assert_eq!(
            routed("https://x.example/login#access_token=s3cret").as_deref(),
            Some("https://x.example/login"),
            "only #/routes are kept"
        );
    }

    #[test]
    #[cfg(feature = "server")]
    fn the_collector_reads_paths_and_routes_through_every_encoding() {
        assert_eq!(
            clean_path("/u/jane%2540example.com/jane＠example.com/+44-20-7946-0958/p-17"),
            "/u/_/_/_/p-17"
        );
        for pii in [
            "#/orders?tab=jane%2540x.org",
            "#/u/jane＠x.org",
            "#/u/jane@example%2Ecom",
            "#/call/+44%2020%207946%200958",
        ] {
            let url = format!("https://x.example/app{pii}");
            assert_eq!(
                clean_url(&url, DEFAULT_QUERY_ALLOWLIST, true).as_deref(),
                Some("https://x.example/app"),
                "{pii}"
            );
        }
    }

    #[test]
    fn hosts_match_domains_and_subdomains() {
        assert!(host_matches("www.shop.example", "shop.example"));
        assert!(host_matches("eu.Shop.example", "shop.example"));
        assert!(!host_matches("evilshop.example", "shop.example"));
        assert!(host_matches("127.0.0.1", "127.0.0.1"));
    }

    #[test]
    fn query_keeps_only_allowlisted_clean_params() {
        let q = "utm_source=news&token=abc&ref=a%40b.com&gclid=1&email=x";
        assert_eq!(
            clean_query(q, DEFAULT_QUERY_ALLOWLIST),
            "utm_source=news&gclid=1"
        );
        assert_eq!(query_param(q, "utm_source"), Some("news"));
        assert_eq!(query_param("flag&x=1", "flag"), Some(""));
        assert_eq!(query_param(q, "missing"), None);
    }

    #[test]
    fn paths_lose_segments_with_pii() {
        assert_eq!(clean_path("/u/jane@example.com/orders"), "/u/_/orders");
        assert_eq!(
            clean_path("/u/jane%40example.com/4111-1111-1111-1111/p-17"),
            "/u/_/_/p-17"
        );
        assert_eq!(clean_path("/"), "/");
        assert_eq!(clean_path("//a/"), "//a/");
        assert_eq!(pieces("", b'/').collect::<Vec<_>>(), [""]);
        assert_eq!(trim_end_byte("a//", b'/'), "a");
        assert_eq!(trim_end_byte("//", b'/'), "");
    }
}
