//! Event-property policy (pure): which props may leave the page, and what the page is told.
//!
//! Input: each prop's key, position and value (already read from the page's object), and the event
//! name. Output: keep, cut or drop with a reason for the console; search terms normalised; the
//! commerce fields a conversion needs. Must not: touch the browser, or let PII through (emails,
//! card-like numbers, values under sensitive keys such as `password` or `token`).

use alloc::string::String;
use sightline_core::scrub::{contains_pii, pieces};
use sightline_core::wire::{MAX_PROPS, MAX_PROP_KEY_LEN, MAX_PROP_VALUE_LEN};

/// A prop value as the page gave it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'a> {
    /// A string.
    Str(&'a str),
    /// A number.
    Num(f64),
    /// A boolean.
    Bool(bool),
    /// Anything else (object, array, null, function…).
    Other,
}

/// What happens to one prop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Sent as it is.
    Keep,
    /// A string sent cut to this many characters.
    Cut(usize),
    /// Left out, for this reason (shown in a console warning).
    Drop(&'static str),
}

/// Key words that mark a prop as a secret or a contact detail, matched per word of the key.
const SENSITIVE: &str = concat!(
    "password passwd pwd token secret auth authorization apikey key ",
    "email mail phone ssn iban cvv cvc pin card"
);

/// True when a word of `key` (split at `_ - . ` and lower-to-upper case changes) is sensitive.
pub fn is_sensitive_key(key: &str) -> bool {
    // Words are byte ranges (separators and case changes are ASCII), compared ignoring ASCII case.
    let bytes = key.as_bytes();
    let mut start = 0;
    let mut prev_lower = false;
    for i in 0..=bytes.len() {
        let b = bytes.get(i).copied();
        let separator = matches!(b, None | Some(b'_' | b'-' | b'.' | b' '));
        if separator || (prev_lower && b.is_some_and(|b| b.is_ascii_uppercase())) {
            let word = bytes.get(start..i).unwrap_or_default();
            if pieces(SENSITIVE, b' ').any(|s| word.eq_ignore_ascii_case(s.as_bytes())) {
                return true;
            }
            start = if separator { i + 1 } else { i };
        }
        prev_lower = b.is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    }
    key.eq_ignore_ascii_case("code")
}

/// Decides one prop; `index` is its position among the event's props.
pub fn check(key: &str, value: Value<'_>, index: usize) -> Verdict {
    if index >= MAX_PROPS {
        return Verdict::Drop("an event takes at most 30 props");
    }
    if key.is_empty() || key.len() > MAX_PROP_KEY_LEN {
        return Verdict::Drop("keys are 1-64 characters");
    }
    if is_sensitive_key(key) {
        return Verdict::Drop("its key names a secret or contact detail");
    }
    match value {
        Value::Str(s) if contains_pii(s) => Verdict::Drop("it looks like an email or card number"),
        Value::Str(s) if char_count(s) > MAX_PROP_VALUE_LEN => Verdict::Cut(MAX_PROP_VALUE_LEN),
        Value::Num(n) if !n.is_finite() => Verdict::Drop("numbers must be finite"),
        Value::Other => Verdict::Drop("values are strings, numbers or booleans"),
        _ => Verdict::Keep,
    }
}

/// The number of characters of `s`: its bytes that do not continue a UTF-8 sequence (what
/// `chars().count()` returns, without its ~1 KB of unrolled wasm).
fn char_count(s: &str) -> usize {
    s.bytes().filter(|b| (b & 0xC0) != 0x80).count()
}

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
    if !matches!(event, "purchase" | "checkout_completed") {
        return [None; 3];
    }
    [
        (!has_order_id).then_some("needs `order_id`, so a resent order is counted once"),
        (!value.is_some_and(|v| v.is_finite() && v >= 0.0))
            .then_some("needs `value`, a number >= 0, for revenue"),
        (!currency.is_some_and(|c| c.len() == 3 && c.bytes().all(|b| b.is_ascii_alphabetic())))
            .then_some("needs `currency`, an ISO 4217 code such as \"EUR\""),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sensitive_keys_are_found_by_word() {
        for key in [
            "password",
            "api_key",
            "accessToken",
            "user-email",
            "Authorization",
            "card_number",
            "code",
            "userEmail",
            "x-Auth-Token",
            "PIN",
        ] {
            assert!(is_sensitive_key(key), "{key}");
        }
        for key in [
            "sku",
            "keyword",
            "discount_code",
            "monkey",
            "tokens",
            "plan",
        ] {
            assert!(!is_sensitive_key(key), "{key}");
        }
    }

    #[test]
    fn props_are_kept_cut_or_dropped() {
        assert_eq!(check("sku", Value::Str("SKU-1"), 0), Verdict::Keep);
        assert_eq!(check("n", Value::Num(2.5), 0), Verdict::Keep);
        assert_eq!(check("ok", Value::Bool(true), 0), Verdict::Keep);
        assert_eq!(
            check("x", Value::Str(&"y".repeat(600)), 0),
            Verdict::Cut(500)
        );
        assert!(matches!(
            check("who", Value::Str("a@b.co"), 0),
            Verdict::Drop(_)
        ));
        assert!(matches!(
            check("password", Value::Str("hunter2"), 0),
            Verdict::Drop(_)
        ));
        assert!(matches!(check("nested", Value::Other, 0), Verdict::Drop(_)));
        assert!(matches!(
            check("n", Value::Num(f64::NAN), 0),
            Verdict::Drop(_)
        ));
        assert!(matches!(
            check("k", Value::Bool(true), 30),
            Verdict::Drop(_)
        ));
        assert!(matches!(
            check(&"k".repeat(65), Value::Bool(true), 0),
            Verdict::Drop(_)
        ));
    }

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
