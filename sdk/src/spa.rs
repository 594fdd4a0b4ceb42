//! Navigation policy (pure): whether a history change is a new page. Input: the scrubbed URL of the
//! last counted pageview and of the page now. Output: count it or not — never two pageviews for one
//! navigation. Must not: touch the browser.

use sightline_core::scrub::{before_byte, split_at_byte};

/// True when `next` is the same page as `last`: same origin, path and `#/route` (a scrubbed URL
/// keeps the route only in hash-routing mode); query changes are not pages.
pub fn same_page(last: &str, next: &str) -> bool {
    let page = |url| {
        let (before, route) = split_at_byte(url, b'#').unwrap_or((url, ""));
        (before_byte(before, b'?'), route)
    };
    !last.is_empty() && page(last) == page(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_path_changes_are_pages() {
        assert!(same_page("http://x/a", "http://x/a"));
        assert!(same_page("http://x/a?utm_source=b", "http://x/a"));
        assert!(!same_page("http://x/a", "http://x/b"));
        assert!(
            !same_page("", "http://x/a"),
            "the first pageview always counts"
        );
    }
}
