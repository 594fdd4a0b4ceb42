//! Stage: enrich. Input: the page URL, referrer URL, edge country and user agent of a valid event.
//! Output: the page's host and scrubbed path, and an [`Enrichment`] (referrer host, source and
//! channel, UTM tags, country, browser, OS and device class).
//! Must not: keep a query string, a referrer path with PII, a city, or the user-agent string.

use super::{agent, source};
use crate::privacy::contains_pii;
use crate::scrub::{clean_path, hash_route, query_param, split_url};

/// Where the event came from, in the fields reports group by.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Enrichment {
    /// Referrer host when it is another site; `None` for direct or internal traffic.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub referrer_host: Option<String>,
    /// `utm_source`, or `ref`/`source` when no `utm_source` is given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub utm_source: Option<String>,
    /// `utm_medium`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub utm_medium: Option<String>,
    /// `utm_campaign`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub utm_campaign: Option<String>,
    /// `utm_term`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub utm_term: Option<String>,
    /// `utm_content`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub utm_content: Option<String>,
    /// Two-letter upper-case country code from the edge.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// Source name: a known referrer's name ("Google"), else `utm_source`, else the referrer host.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// GA4 default channel group ("Organic Search", "Direct", …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// Browser family ("Chrome"); never the user-agent string.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub browser: Option<String>,
    /// OS family ("Android").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub os: Option<String>,
    /// Device class: desktop, mobile or tablet.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
}

/// A page location that may be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// Lower-case host.
    pub hostname: String,
    /// Scrubbed path, no query; a hash-routed page keeps its `#/route`.
    pub path: String,
}

/// The storable location of a page URL, or `None` when it is not an http(s) URL or its host holds
/// PII. The fragment is kept only as a `#/route` without PII ([`hash_route`]): a beacon says its
/// page routes by hash by sending one, and every other fragment is dropped.
pub fn page(url: &str) -> Option<Page> {
    let parts = split_url(url).filter(|p| !contains_pii(p.host))?;
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

/// What the request says about the sender, read once per beacon.
#[derive(Debug, Clone, Copy)]
pub struct Sender<'a> {
    /// Two-letter country code from the edge, if any.
    pub country: Option<&'a str>,
    /// Browser, OS and device class, from the user agent.
    pub agent: agent::Agent,
}

impl<'a> Sender<'a> {
    /// Reads the user agent (which is not kept) and the edge country.
    pub fn new(user_agent: &str, country: Option<&'a str>) -> Self {
        Sender {
            country,
            agent: agent::agent(user_agent),
        }
    }
}

impl Sender<'_> {
    /// Country, browser, OS and device class: the fields every event of a beacon shares.
    pub fn tags(&self) -> Enrichment {
        let agent = self.agent;
        Enrichment {
            country: self
                .country
                .filter(|c| c.len() == 2 && c.bytes().all(|b| b.is_ascii_alphabetic()))
                .map(str::to_ascii_uppercase),
            browser: Some(agent.browser.to_owned()),
            os: Some(agent.os.to_owned()),
            device: Some(agent.device.name().to_owned()),
            ..Enrichment::default()
        }
    }
}

/// `page`'s fields with the sender's country, browser, OS and device.
pub fn merge(page: Enrichment, sender: Enrichment) -> Enrichment {
    Enrichment {
        country: sender.country,
        browser: sender.browser,
        os: sender.os,
        device: sender.device,
        ..page
    }
}

/// Referrer, source, channel and UTM tags of one page view (the sender's fields left empty).
pub fn page_tags(url: &str, referrer: Option<&str>) -> Enrichment {
    let page = split_url(url);
    let query = page.map(|p| p.query).unwrap_or_default();
    let tag = |name: &str| {
        query_param(query, name)
            .map(decode_tag)
            .filter(|v| !v.is_empty() && !contains_pii(v))
    };
    let referrer_host = referrer
        .and_then(split_url)
        .map(|r| r.host.to_ascii_lowercase())
        .filter(|host| page.is_none_or(|p| !p.host.eq_ignore_ascii_case(host)))
        .filter(|host| !contains_pii(host));
    let utm_source = tag("utm_source")
        .or_else(|| tag("ref"))
        .or_else(|| tag("source"));
    let utm_medium = tag("utm_medium");
    let utm_campaign = tag("utm_campaign");
    let click_id = source::CLICK_IDS
        .iter()
        .find(|id| query_param(query, id).is_some_and(|v| !v.is_empty()))
        .copied();
    let classified = source::classify(
        referrer_host.as_deref(),
        utm_source.as_deref(),
        utm_medium.as_deref(),
        utm_campaign.as_deref(),
        click_id,
    );
    Enrichment {
        referrer_host,
        utm_source,
        utm_medium,
        utm_campaign,
        utm_term: tag("utm_term"),
        utm_content: tag("utm_content"),
        source: classified.source,
        channel: Some(classified.channel.to_owned()),
        ..Enrichment::default()
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

    /// Source, channel, campaign, geo and device for one event, as the consumer puts them together.
    fn enrich(url: &str, referrer: Option<&str>, sender: Sender<'_>) -> Enrichment {
        merge(page_tags(url, referrer), sender.tags())
    }

    #[test]
    fn extracts_source_campaign_and_country() {
        let e = enrich(
            "https://shop.example/?utm_source=News%20Letter&utm_campaign=bf+2026",
            Some("https://www.google.com/search?q=secret"),
            Sender::new(IPHONE, Some("de")),
        );
        assert_eq!(e.utm_source.as_deref(), Some("news letter"));
        assert_eq!(e.utm_campaign.as_deref(), Some("bf 2026"));
        assert_eq!(e.referrer_host.as_deref(), Some("www.google.com"));
        assert_eq!(e.country.as_deref(), Some("DE"));
        assert_eq!(
            (e.browser.as_deref(), e.os.as_deref(), e.device.as_deref()),
            (Some("Safari"), Some("iOS"), Some("mobile"))
        );
        let paid = enrich(
            "https://shop.example/p?gclid=abc",
            Some("https://www.google.com/"),
            Sender::new(IPHONE, None),
        );
        assert_eq!(paid.channel.as_deref(), Some("Paid Search"));
        assert_eq!(paid.source.as_deref(), Some("Google"));
        let direct = enrich("https://shop.example/", None, Sender::new(IPHONE, None));
        assert_eq!(
            (direct.channel.as_deref(), direct.source),
            (Some("Direct"), None)
        );
    }

    const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1";

    #[test]
    fn internal_referrers_and_bad_countries_are_dropped() {
        let e = enrich(
            "http://localhost/b",
            Some("http://localhost/a"),
            Sender::new("", Some("XXX")),
        );
        assert_eq!(e.referrer_host, None);
        assert_eq!(e.country, None);
        let sender = Sender::new("", None);
        assert_eq!(
            enrich("http://x/?ref=a@b.co", None, sender).utm_source,
            None
        );
    }

    #[test]
    fn pages_are_scrubbed() {
        let p = page("https://Shop.example/account/jane@x.org?token=1").unwrap();
        assert_eq!(
            (p.hostname.as_str(), p.path.as_str()),
            ("shop.example", "/account/_")
        );
        let path = |url| page(url).map(|p| p.path);
        assert_eq!(
            path("http://localhost/app#/cart/2").as_deref(),
            Some("/app#/cart/2")
        );
        for dropped in [
            "http://localhost/app#top",
            "http://localhost/app#access_token=s3cret",
            "http://localhost/app#email=jane@example.com",
            "http://localhost/app#/u/jane%2540example.com",
            "http://localhost/app#/pay?card=4111-1111-1111-1111",
            "http://localhost/app#/call/+44 20 7946 0958",
        ] {
            assert_eq!(path(dropped).as_deref(), Some("/app"), "{dropped}");
        }
        assert_eq!(page("http://4111-1111-1111-1111.example/"), None);
    }

    #[test]
    fn referrer_hosts_and_tags_with_pii_are_dropped() {
        let tags = page_tags(
            "http://localhost/?utm_source=jane%2540example.com&utm_medium=%2B44%2020%207946%200958&utm_campaign=bf",
            Some("http://4111-1111-1111-1111.example/"),
        );
        assert_eq!(
            (tags.utm_source, tags.utm_medium, tags.referrer_host),
            (None, None, None)
        );
        assert_eq!(tags.utm_campaign.as_deref(), Some("bf"));
    }
}
