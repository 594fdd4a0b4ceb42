//! Stage: enrich. Input: the page URL, referrer URL and edge country of a valid event. Output: the
//! page's host and scrubbed path, and an [`Enrichment`] (referrer host, UTM tags, country).
//! Must not: keep a query string, a referrer path with PII, or a city.

use crate::scrub::{clean_path, hash_route, query_param, split_url};

/// Where the event came from, in the fields reports group by.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Enrichment {
    /// Referrer host when it is another site; `None` for direct or internal traffic.
    pub referrer_host: Option<String>,
    /// `utm_source`, or `ref`/`source` when no `utm_source` is given.
    pub utm_source: Option<String>,
    /// `utm_medium`.
    pub utm_medium: Option<String>,
    /// `utm_campaign`.
    pub utm_campaign: Option<String>,
    /// `utm_term`.
    pub utm_term: Option<String>,
    /// `utm_content`.
    pub utm_content: Option<String>,
    /// Two-letter upper-case country code from the edge.
    pub country: Option<String>,
}

/// A page location that may be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// Lower-case host.
    pub hostname: String,
    /// Scrubbed path, no query; a hash-routed page keeps its `#/route`.
    pub path: String,
}

/// The storable location of a page URL, or `None` when it is not an http(s) URL.
pub fn page(url: &str) -> Option<Page> {
    let parts = split_url(url)?;
    let mut path = clean_path(parts.path);
    if let Some(route) = hash_route(&parts) {
        path.push('#');
        path.push_str(&route);
    }
    Some(Page {
        hostname: parts.host.to_ascii_lowercase(),
        path,
    })
}

/// Source, campaign and geo for one event.
pub fn enrich(url: &str, referrer: Option<&str>, country: Option<&str>) -> Enrichment {
    let page = split_url(url);
    let query = page.map(|p| p.query).unwrap_or_default();
    let tag = |name: &str| {
        query_param(query, name)
            .map(decode_tag)
            .filter(|v| !v.is_empty() && !crate::scrub::contains_pii(v))
    };
    let referrer_host = referrer
        .and_then(split_url)
        .map(|r| r.host.to_ascii_lowercase())
        .filter(|host| page.is_none_or(|p| !p.host.eq_ignore_ascii_case(host)));
    Enrichment {
        referrer_host,
        utm_source: tag("utm_source")
            .or_else(|| tag("ref"))
            .or_else(|| tag("source")),
        utm_medium: tag("utm_medium"),
        utm_campaign: tag("utm_campaign"),
        utm_term: tag("utm_term"),
        utm_content: tag("utm_content"),
        country: country
            .filter(|c| c.len() == 2 && c.bytes().all(|b| b.is_ascii_alphabetic()))
            .map(str::to_ascii_uppercase),
    }
}

/// Decodes `+` and `%XX` in a tag value, lower-cases it and cuts it to 100 characters.
fn decode_tag(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |j: usize| bytes.get(j).and_then(|b| (*b as char).to_digit(16));
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => match (hex(i + 1), hex(i + 2)) {
                (Some(hi), Some(lo)) => {
                    out.push((hi * 16 + lo) as u8);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out)
        .trim()
        .to_lowercase()
        .chars()
        .take(100)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extracts_source_campaign_and_country() {
        let e = enrich(
            "https://shop.example/?utm_source=News%20Letter&utm_campaign=bf+2026",
            Some("https://www.google.com/search?q=secret"),
            Some("de"),
        );
        assert_eq!(e.utm_source.as_deref(), Some("news letter"));
        assert_eq!(e.utm_campaign.as_deref(), Some("bf 2026"));
        assert_eq!(e.referrer_host.as_deref(), Some("www.google.com"));
        assert_eq!(e.country.as_deref(), Some("DE"));
    }

    #[test]
    fn internal_referrers_and_bad_countries_are_dropped() {
        let e = enrich(
            "http://localhost/b",
            Some("http://localhost/a"),
            Some("XXX"),
        );
        assert_eq!(e.referrer_host, None);
        assert_eq!(e.country, None);
        assert_eq!(enrich("http://x/?ref=a@b.co", None, None).utm_source, None);
    }

    #[test]
    fn pages_are_scrubbed() {
        let p = page("https://Shop.example/account/jane@x.org?token=1").unwrap();
        assert_eq!(
            (p.hostname.as_str(), p.path.as_str()),
            ("shop.example", "/account/_")
        );
    }
}
