//! Commerce rules shared by the SDK and the collector: which events are conversions, which of them
//! are orders, and what a currency is.
//!
//! Input: an event name, a `currency` prop. Output: membership, a normalised ISO 4217 code. The SDK
//! warns with these (a purchase without an order id, value or currency); the collector stores every
//! sender's `currency` prop normalised and counts goals and revenue with the same lists. Must not:
//! use Unicode tables or `core::fmt` (the SDK's wasm calls it).

use alloc::string::String;

/// Conversion events: goals, and revenue when they carry `value` and `currency`. The first
/// [`ORDERS`]`.len()` are orders.
pub const CONVERSIONS: &[&str] = &[
    "purchase",
    "checkout_completed",
    "booking_completed",
    "signup_completed",
    "login_completed",
];

/// Conversions that are orders: they need `order_id` (counted once), `value` and `currency`. The
/// head of [`CONVERSIONS`], so the two lists cannot drift apart.
pub const ORDERS: &[&str] = CONVERSIONS.split_at(2).0;

/// True for a currency code: three ASCII letters, in any case (ISO 4217 once upper-cased).
pub fn is_currency(text: &str) -> bool {
    text.len() == 3 && text.bytes().all(|b| b.is_ascii_alphabetic())
}

/// A currency as reports group it and the collector stores it: an ISO 4217 code, upper-cased;
/// `None` when `text` is not a currency code ([`is_currency`]).
pub fn currency(text: &str) -> Option<String> {
    is_currency(text).then(|| text.to_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn currencies_are_three_letter_codes() {
        assert_eq!(currency("EUR").as_deref(), Some("EUR"));
        assert_eq!(currency("usd").as_deref(), Some("USD"));
        assert_eq!(currency("gBp").as_deref(), Some("GBP"));
        for bad in ["euro", "EU", "E1R", "€", "", "ÉUR", "US D", " EUR"] {
            assert_eq!(currency(bad), None, "{bad}");
        }
    }

    #[test]
    fn orders_are_the_first_conversions() {
        assert_eq!(ORDERS, ["purchase", "checkout_completed"]);
        assert!(ORDERS.iter().all(|o| CONVERSIONS.contains(o)));
    }
}
