//! Auto-capture policy (pure, opt-in with `autoCapture`): which clicks are outbound links or file
//! downloads, scroll depth buckets, engaged time, and which error messages may be sent.
//!
//! Input: hrefs, hosts, scroll positions, visibility/focus changes with their times, error texts.
//! Output: whether and what to record. Must not: touch the browser, or record form field values,
//! full link query strings or error texts holding PII.

use alloc::string::String;
use sightline_core::privacy::contains_pii;
use sightline_core::scrub::split_url;

/// File endings counted as downloads.
const DOWNLOADS: &[&str] = &[
    "pdf", "zip", "gz", "tgz", "rar", "7z", "dmg", "exe", "msi", "pkg", "deb", "rpm", "apk", "csv",
    "xls", "xlsx", "doc", "docx", "ppt", "pptx", "odt", "ods", "txt", "rtf", "epub", "mp3", "wav",
    "mp4", "mov", "avi", "mkv", "iso",
];

/// What a click on a link is, if anything worth recording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkClick {
    /// A link to a file: `file_download` with `url` (host and path).
    Download(String),
    /// A link to another site: `outbound_click` with `url` (host and path).
    Outbound(String),
}

/// Classifies a click on a link to `href` from a page on `page_host`; `download` is the `<a download>`
/// attribute's presence.
pub fn link_click(href: &str, page_host: &str, download: bool) -> Option<LinkClick> {
    let parts = split_url(href)?;
    let target = {
        let mut t = String::from(parts.host);
        t.push_str(&sightline_core::scrub::clean_path(parts.path));
        t
    };
    let file = parts.path.rsplit('/').next().unwrap_or_default();
    let ext = file.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    if download || ext.is_some_and(|e| DOWNLOADS.contains(&e.as_str())) {
        return Some(LinkClick::Download(target));
    }
    let host = without_www(parts.host);
    (!host.eq_ignore_ascii_case(without_www(page_host))).then_some(LinkClick::Outbound(target))
}

/// `host` without its leading `www.` labels (as `trim_start_matches("www.")`, which costs a
/// substring searcher in the wasm).
fn without_www(mut host: &str) -> &str {
    while let Some(rest) = host.strip_prefix("www.") {
        host = rest;
    }
    host
}

/// Scroll depth in percent (0–100) of the page seen so far: the bottom of the viewport over the
/// document height.
pub fn scroll_percent(scroll_top: f64, viewport: f64, document: f64) -> u8 {
    if document <= viewport || document <= 0.0 {
        return 100;
    }
    (((scroll_top + viewport) / document) * 100.0).clamp(0.0, 100.0) as u8
}

/// Engaged time: the page is visible and focused. Fed with state changes, in ms.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Engagement {
    since: Option<f64>,
    total_ms: f64,
}

impl Engagement {
    /// Records whether the page is engaged (visible and focused) from `now` on.
    pub fn set(&mut self, engaged: bool, now: f64) {
        match (self.since, engaged) {
            (None, true) => self.since = Some(now),
            (Some(start), false) => {
                self.total_ms += (now - start).max(0.0);
                self.since = None;
            }
            _ => {}
        }
    }

    /// Whole seconds engaged since the last report, and starts counting again.
    pub fn take_seconds(&mut self, now: f64) -> u32 {
        if let Some(start) = self.since {
            self.total_ms += (now - start).max(0.0);
            self.since = Some(now);
        }
        let seconds = (self.total_ms / 1000.0) as u32;
        self.total_ms -= f64::from(seconds) * 1000.0;
        seconds
    }
}

/// An uncaught error's message as it may be sent: at most 200 characters, none holding PII.
pub fn error_message(message: &str) -> Option<String> {
    let message = message.trim_ascii();
    (!message.is_empty() && !contains_pii(message))
        .then(|| crate::props::cut_chars(message, 200).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_downloads_outbound_or_nothing() {
        let d = link_click(
            "https://shop.example/files/Guide.PDF?token=x",
            "shop.example",
            false,
        );
        assert_eq!(
            d,
            Some(LinkClick::Download("shop.example/files/Guide.PDF".into()))
        );
        let o = link_click(
            "https://partner.example/offer?id=1",
            "www.shop.example",
            false,
        );
        assert_eq!(o, Some(LinkClick::Outbound("partner.example/offer".into())));
        assert_eq!(
            link_click("https://www.shop.example/cart", "shop.example", false),
            None
        );
        assert_eq!(
            link_click("mailto:jane@example.com", "shop.example", false),
            None
        );
        let attr = link_click("https://shop.example/export", "shop.example", true);
        assert!(matches!(attr, Some(LinkClick::Download(_))));
    }

    #[test]
    fn scroll_depth_is_a_percentage_of_the_document() {
        assert_eq!(scroll_percent(0.0, 800.0, 4000.0), 20);
        assert_eq!(scroll_percent(3200.0, 800.0, 4000.0), 100);
        assert_eq!(
            scroll_percent(0.0, 800.0, 600.0),
            100,
            "a page shorter than the screen is seen whole"
        );
    }

    #[test]
    fn engaged_time_counts_only_visible_and_focused_time() {
        let mut e = Engagement::default();
        e.set(true, 0.0);
        e.set(false, 4_500.0); // 4.5 s engaged
        e.set(false, 9_000.0); // still away
        e.set(true, 10_000.0);
        assert_eq!(e.take_seconds(11_000.0), 5); // 4.5 + 1.0 s
        assert_eq!(
            e.take_seconds(11_600.0),
            1,
            "the half second carried over, plus 0.6 s"
        );
        assert_eq!(e.take_seconds(11_600.0), 0);
    }

    #[test]
    fn error_messages_are_cut_and_never_hold_pii() {
        assert_eq!(
            error_message(" TypeError: x is undefined ").as_deref(),
            Some("TypeError: x is undefined")
        );
        assert_eq!(error_message("failed for jane@example.com"), None);
        assert_eq!(error_message(&"e".repeat(300)).map(|m| m.len()), Some(200));
        assert_eq!(error_message("  "), None);
    }
}
