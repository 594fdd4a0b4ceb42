//! Event-property helpers (pure) around the shared policy: search terms normalised, strings cut, and
//! what the page is told about the commerce fields an order needs.
//!
//! Input: a prop's text, the event name. Output: the text to send, console warnings. Which props
//! may leave the page at all (PII, secret keys, types, limits) is decided by
//! `sightline_core::privacy::check_prop`, which the collector enforces too. Must not: touch the
//! browser, or hold a privacy rule or a list of its own.

use alloc::string::String;
use sightline_core::commerce::{is_currency, ORDERS};

/// A search term as reports group it: trimmed and lower-cased by `normalize` (the browser's own
/// `trim` and `toLowerCase`: Rust's Unicode tables would add ~15 KB to the wasm), at most 100
/// characters.
pub fn search_term(term: &str, normalize: impl Fn(&str) -> String) -> String {
    cut_chars(&normalize(term), 100).into()
}

/// `text` cut to its first `n` characters (at a character boundary, counting bytes that start one).
pub fn cut_chars(text: &str, n: usize) -> &str {
    let mut seen = 0;
    for (i, b) in text.bytes().enumerate() {
        if (b & 0xC0) != 0x80 {
            if seen == n {
                return text.get(..i).unwrap_or(text);
            }
            seen += 1;
        }
    }
    text
}

/// True for the props of a `search` event that hold the term.
pub fn is_search_term(event: &str, key: &str) -> bool {
    event == "search" && matches!(key, "term" | "query" | "q")
}

/// Warnings for a purchase / checkout without the fields revenue reports need.
pub fn conversion_warnings(
    event: &str,
    has_order_id: bool,
    value: Option<f64>,
    currency: Option<&str>,
) -> [Option<&'static str>; 3] {
    // An array, not a `Vec`: no allocation code for three fixed warnings.
    if !ORDERS.contains(&event) {
        return [None; 3];
    }
    [
        (!has_order_id).then_some("needs `order_id`, so a resent order is counted once"),
        (!value.is_some_and(|v| v.is_finite() && v >= 0.0))
            .then_some("needs `value`, a number >= 0, for revenue"),
        (!currency.is_some_and(is_currency))
            .then_some("needs `currency`, an ISO 4217 code such as \"EUR\""),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_terms_are_normalised() {
        // The SDK normalises with the browser's `trim()` and `toLowerCase()`.
        let lower = |s: &str| s.trim().to_lowercase();
        assert_eq!(search_term("  Trail MUG ", lower), "trail mug");
        assert_eq!(search_term(&"a".repeat(150), lower).len(), 100);
        assert_eq!(cut_chars("zoë!", 3), "zoë");
        assert_eq!(cut_chars("zoë", 3), "zoë");
        assert_eq!(cut_chars("ab", 0), "");
        assert!(is_search_term("search", "term"));
        assert!(!is_search_term("filter_applied", "term"));
    }

    #[test]
    fn conversions_say_what_revenue_needs() {
        let count = |w: [Option<&str>; 3]| w.iter().flatten().count();
        assert_eq!(
            count(conversion_warnings(
                "purchase",
                true,
                Some(24.5),
                Some("EUR")
            )),
            0
        );
        assert_eq!(
            count(conversion_warnings("purchase", false, None, Some("euro"))),
            3
        );
        assert_eq!(
            count(conversion_warnings(
                "checkout_completed",
                true,
                Some(-1.0),
                Some("EUR")
            )),
            1
        );
        assert_eq!(count(conversion_warnings("cart_add", false, None, None)), 0);
    }
}
