//! Privacy policy: the one definition, shared by the SDK and the collector, of what may not leave a
//! page or be stored — sensitive prop keys, emails, payment card numbers and international phone
//! numbers, in any text (prop keys and values, event names, path segments, `#/routes`, UTM values,
//! order and user ids) and in numbers.
//!
//! Input: text or a number as a page or a sender gave it. Output: whether it holds PII, and for a
//! prop, a [`Verdict`]. The SDK calls it to drop a prop with a console warning; the collector calls
//! the same functions for every sender (browser or write token), so a beacon posted straight to
//! `/api/collect` meets the same rules. The SDK's build (without `server`) calls only the parts its
//! byte budget allows — sensitive keys, the email shape (`@` or `%40`) and the card shape on
//! strings; the collector's build also undoes every encoding first, and checks phone numbers, card
//! numbers sent as numbers and keys holding PII ([`SERVER`]). Must not: allocate a parser crate or
//! use `core::fmt`, Unicode tables, `char` patterns or panicking slices (it runs in the SDK's wasm:
//! every rule here is written on bytes).

use alloc::vec::Vec;

use crate::scrub::pieces;
use crate::wire::{MAX_PROPS, MAX_PROP_KEY_LEN, MAX_PROP_VALUE_LEN};

/// Key words that mark a prop as a secret or a contact detail, matched per word of the key.
pub const SENSITIVE_KEYS: &str = concat!(
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
            if pieces(SENSITIVE_KEYS, b' ').any(|s| word.eq_ignore_ascii_case(s.as_bytes())) {
                return true;
            }
            start = if separator { i + 1 } else { i };
        }
        prev_lower = b.is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    }
    key.eq_ignore_ascii_case("code")
}

/// A prop value as the page or the sender gave it.
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
    /// Kept as it is.
    Keep,
    /// A string kept cut to this many characters.
    Cut(usize),
    /// Left out, for this reason (the SDK shows it in a console warning).
    Drop(&'static str),
}

/// Decides one prop; `index` is its position among the event's props.
pub fn check_prop(key: &str, value: Value<'_>, index: usize) -> Verdict {
    if index >= MAX_PROPS {
        return Verdict::Drop("an event takes at most 30 props");
    }
    if key.is_empty() || key.len() > MAX_PROP_KEY_LEN {
        return Verdict::Drop("keys are 1-64 characters");
    }
    if is_sensitive_key(key) || (SERVER && contains_pii(key)) {
        return Verdict::Drop("its key names a secret or contact detail");
    }
    match value {
        Value::Str(s) if contains_pii(s) => Verdict::Drop(PII),
        Value::Str(s) if char_count(s) > MAX_PROP_VALUE_LEN => Verdict::Cut(MAX_PROP_VALUE_LEN),
        Value::Num(n) if !n.is_finite() => Verdict::Drop("numbers must be finite"),
        Value::Num(n) if SERVER && is_card_number(n) => Verdict::Drop(PII),
        Value::Other => Verdict::Drop("values are strings, numbers or booleans"),
        _ => Verdict::Keep,
    }
}

const PII: &str = "it looks like an email or card number";

/// The number of characters of `s`: its bytes that do not continue a UTF-8 sequence (what
/// `chars().count()` returns, without its ~1 KB of unrolled wasm).
pub fn char_count(s: &str) -> usize {
    s.bytes().filter(|b| (b & 0xC0) != 0x80).count()
}

/// True when `text` holds an email address, a payment card number or (collector) an international
/// phone number; the collector reads it through every layer of percent-encoding (`%40`, `%2540`,
/// `%2E`, …) and full-width or ideographic `＠` and `．`.
pub fn contains_pii(text: &str) -> bool {
    match unescaped(text) {
        Some(text) => has_pii(&text),
        None => has_pii(text.as_bytes()),
    }
}

fn has_pii(text: &[u8]) -> bool {
    has_email(text) || has_card_number(text) || (SERVER && has_phone_number(text))
}

/// True in the collector's build. The SDK's wasm leaves out what only the collector can afford
/// (see the module's list): every shape is defined once, here, and the collector applies all.
pub const SERVER: bool = cfg!(feature = "server");

/// True when `text` holds `local@domain.tld`, in any of the encodings [`contains_pii`] reads.
pub fn looks_like_email(text: &str) -> bool {
    match unescaped(text) {
        Some(text) => has_email(&text),
        None => has_email(text.as_bytes()),
    }
}

/// True for a number that is an integer shaped like a payment card number (see [`has_card_number`]).
pub fn is_card_number(n: f64) -> bool {
    // Integers of 14-19 digits; an f64 holds those up to 2^53 exactly, which covers every 14-16
    // digit card (the collector checks the exact digits of larger JSON integers, see
    // [`is_card_integer`]).
    let n = if n < 0.0 { -n } else { n };
    (1e13..1e19).contains(&n) && n == (n as u64) as f64 && is_card_integer(n as u64)
}

/// True for an integer whose decimal digits are a payment card number (see [`has_card_number`]).
pub fn is_card_integer(n: u64) -> bool {
    has_card_number(crate::encode::decimal(n).as_bytes())
}

/// `text` with percent-encoding undone as often as it was applied (`%2540` → `%40` → `@`, and
/// `%EF%BC%A0` → `＠` → `@`) and the full-width and ideographic `@` and `.` made ASCII; `None`
/// when there is nothing to undo (most text: no `%` and no lead byte of those forms).
fn unescaped(text: &str) -> Option<Vec<u8>> {
    if !SERVER || !text.bytes().any(|b| b == b'%' || b >= 0xE3) {
        return None;
    }
    let mut bytes = Vec::from(text.as_bytes());
    // Each round undoes one layer in place; a layer shortens the text, so a round that does not
    // is the last, and 8 layers are more than any honest encoding applies.
    for _ in 0..8 {
        let (mut read, mut write) = (0, 0);
        while let Some(&b) = bytes.get(read) {
            let rest = bytes.get(read..).unwrap_or_default();
            let percent = match (b, rest.get(1).and_then(hex), rest.get(2).and_then(hex)) {
                (b'%', Some(hi), Some(lo)) => Some((hi * 16 + lo, 3)),
                _ => None,
            };
            let wide = WIDE
                .iter()
                .find(|(form, _)| rest.starts_with(form))
                .map(|&(form, ascii)| (ascii, form.len()));
            let (byte, len) = percent.or(wide).unwrap_or((b, 1));
            if let Some(slot) = bytes.get_mut(write) {
                *slot = byte;
            }
            read += len;
            write += 1;
        }
        if write == bytes.len() {
            break;
        }
        bytes.truncate(write);
    }
    Some(bytes)
}

/// The forms of `@` and `.` that read as ASCII ones: browsers treat the dots as a domain's dots.
const WIDE: [(&[u8], u8); 5] = [
    ("＠".as_bytes(), b'@'),
    ("﹫".as_bytes(), b'@'),
    ("．".as_bytes(), b'.'),
    ("。".as_bytes(), b'.'),
    ("｡".as_bytes(), b'.'),
];

fn hex(b: &u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// True when `text` holds `local@domain.tld`: a word byte (or `. _ % + -`) before the `@`, a
/// domain of word bytes, `.` and `-` after it with a dot not first and at least two bytes after
/// its last dot. The `@` may be written `%40` or `%2540`, as URLs carry it (the SDK reads no other
/// encoding: the collector undoes every one first, see [`contains_pii`]).
fn has_email(bytes: &[u8]) -> bool {
    // Bytes, not chars: every byte of a non-ASCII character is >= 0x80, a word byte (see
    // `is_word`), so byte runs and lengths are what char runs would give.
    let mut prev = b' ';
    bytes.iter().enumerate().any(|(at, &b)| {
        let local = is_word(prev) || matches!(prev, b'.' | b'_' | b'%' | b'+' | b'-');
        prev = b;
        // `@`, or `%40` as URLs carry it.
        let sign = match (b, bytes.get(at + 1), bytes.get(at + 2)) {
            (b'@', _, _) => 1,
            (b'%', Some(b'4'), Some(b'0')) => 3,
            _ => return false,
        };
        local && has_domain(bytes.get(at + sign..).unwrap_or_default())
    })
}

/// True when `text` starts with `domain.tld` (see [`has_email`]).
fn has_domain(text: &[u8]) -> bool {
    let mut len = 0;
    let mut dot = 0;
    for &c in text {
        if c == b'.' {
            dot = len;
        } else if !(is_word(c) || c == b'-') {
            break;
        }
        len += 1;
    }
    dot > 0 && len - dot > 2
}

/// ASCII letters and digits, and any byte of a non-ASCII character (so international addresses
/// count too, without Unicode tables in the SDK's wasm).
fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || !b.is_ascii()
}

/// True when `text` holds a payment card number: 14-19 digits, with single spaces, dashes or dots
/// between them, starting where a group of digits starts, with an issuer's first digits (Mastercard
/// 22-27 and 5, Amex, Diners and JCB 30 and 34-39, Visa 4, Discover, UnionPay and Maestro 6), and a
/// valid Luhn check digit. Not cards: 13-digit barcodes (EAN-13) and millisecond timestamps,
/// compact dates (`2026…`), order numbers and SKUs that fail the check digit.
pub fn has_card_number(text: &[u8]) -> bool {
    let mut prev = b' ';
    text.iter().enumerate().any(|(at, &b)| {
        let group_start = b.is_ascii_digit() && !prev.is_ascii_digit();
        prev = b;
        group_start && card_at(text.get(at..).unwrap_or_default())
    })
}

/// True when the digits from the start of `text` (separated as [`has_card_number`] allows) begin
/// with a card number of 14-19 digits.
fn card_at(text: &[u8]) -> bool {
    // The Luhn sum of every prefix at once, without keeping its digits: `sums[0]` doubles the
    // digits at even positions from the left, `sums[1]` those at odd ones; a prefix of n digits
    // doubles every second digit from its last, so it reads `sums[n % 2]`.
    let mut sums = [0u32; 2];
    let mut head = 0;
    let mut n = 0;
    let mut after_digit = false;
    for &b in text {
        if b.is_ascii_digit() {
            let d = u32::from(b - b'0');
            let doubled = if d > 4 { 2 * d - 9 } else { 2 * d };
            sums[n % 2] += doubled;
            sums[1 - n % 2] += d;
            n += 1;
            if n <= 2 {
                head = head * 10 + d;
            }
            if n >= 14 && issuer(head) && sums[n % 2] % 10 == 0 {
                return true;
            }
            after_digit = true;
        } else if after_digit && n < 19 && matches!(b, b' ' | b'-' | b'.') {
            after_digit = false;
        } else {
            return false;
        }
        if n == 19 {
            return false;
        }
    }
    false
}

/// True for the first two digits of a card issuer's numbers.
fn issuer(head: u32) -> bool {
    matches!(head, 22..=27 | 30 | 34..=69)
}

/// True when `text` holds a phone number in international form: `+` (not after a letter or digit)
/// or `00` (not after a letter, digit, `-`, `_` or `.`), then a country code (not starting with 0) and 8-15 digits in all, with spaces, dashes or
/// brackets between (at most two in a row): `+44 20 7946 0958`, `+1-202-555-0143`,
/// `0049 30 1234567`, `+44 (0)20 7946 0958`. Not phones: prices, time-zone offsets (`+01:00`),
/// order numbers and timestamps (no `+` or `00` in front), numbers of more than 15 digits.
pub fn has_phone_number(text: &[u8]) -> bool {
    let mut prev = b' ';
    text.iter().enumerate().any(|(at, &b)| {
        let before = prev;
        prev = b;
        let number = match text.get(at..).unwrap_or_default() {
            [b'+', number @ ..] if !before.is_ascii_alphanumeric() => number,
            // `00` only where a number starts: `SKU-0049…` and `v1.0049…` are codes.
            [b'0', b'0', number @ ..]
                if !(before.is_ascii_alphanumeric() || matches!(before, b'-' | b'_' | b'.')) =>
            {
                number
            }
            _ => return false,
        };
        phone_digits(number)
    })
}

/// True when `text` starts with 8-15 digits, the first not 0, separated as [`has_phone_number`]
/// allows, and no further digit follows them.
fn phone_digits(text: &[u8]) -> bool {
    if !matches!(text.first(), Some(b'1'..=b'9')) {
        return false;
    }
    let mut digits = 0;
    let mut separators = 0;
    for &b in text {
        if b.is_ascii_digit() {
            digits += 1;
            separators = 0;
        } else if matches!(b, b' ' | b'-' | b'(' | b')') && separators < 2 {
            separators += 1;
        } else {
            break;
        }
    }
    (8..=15).contains(&digits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sensitive_keys_are_found_by_word() {
        for key in [
            "password",
            "api_key",
            "apiKey",
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
        assert_eq!(check_prop("sku", Value::Str("SKU-1"), 0), Verdict::Keep);
        assert_eq!(check_prop("n", Value::Num(2.5), 0), Verdict::Keep);
        assert_eq!(check_prop("ok", Value::Bool(true), 0), Verdict::Keep);
        assert_eq!(
            check_prop("x", Value::Str(&"y".repeat(600)), 0),
            Verdict::Cut(500)
        );
        let dropped = |key, value| matches!(check_prop(key, value, 0), Verdict::Drop(_));
        assert!(dropped("who", Value::Str("a@b.co")));
        assert!(dropped("password", Value::Str("hunter2")));
        assert!(dropped("api_key", Value::Num(42.0)));
        assert_eq!(dropped("jane@example.com", Value::Bool(true)), SERVER);
        assert!(dropped("nested", Value::Other));
        assert!(dropped("n", Value::Num(f64::NAN)));
        assert!(dropped("pan", Value::Str("4111 1111 1111 1111")));
        if SERVER {
            assert!(dropped("pan", Value::Num(4111111111111111.0)));
            assert!(dropped("pan", Value::Num(-4111111111111111.0)));
            assert!(dropped("tel", Value::Str("+44 20 7946 0958")));
        }
        assert!(!dropped("ts", Value::Num(1_764_000_000_000.0)));
        assert!(!dropped("order", Value::Num(4111111111111112.0)));
        assert!(!dropped("price", Value::Num(4111.11)));
        assert!(matches!(
            check_prop("k", Value::Bool(true), 30),
            Verdict::Drop(_)
        ));
        assert!(matches!(
            check_prop(&"k".repeat(65), Value::Bool(true), 0),
            Verdict::Drop(_)
        ));
    }

    #[test]
    #[cfg(feature = "server")]
    fn emails_are_found_in_every_encoding() {
        for email in [
            "contact jane.doe+x@mail.example.com now",
            "jane%40example.org",
            "jane%2540example.org",
            "jane%252540example.org",
            "jane@example%2Ecom",
            "jane%40example%2ecom",
            "jane%25%34%30example.com",
            "jane＠example.com",
            "jane﹫example。com",
            "jane%EF%BC%A0example.com",
            "jane%25EF%25BC%25A0example%252Ecom",
            "ä@b.cd",
            "zoë@exämple.de",
        ] {
            assert!(looks_like_email(email), "{email}");
            assert!(contains_pii(email), "{email}");
        }
        for text in [
            "jane@localhost",
            "jane@.org",
            "@handle and a@b",
            "100%",
            "50% off",
            "%%40",
            "%E2%82%AC 24.50",
            "email me",
        ] {
            assert!(!looks_like_email(text), "{text}");
        }
        assert_eq!(unescaped("a%40b%2540c%25%4040%2").unwrap(), b"a@b@c%@40%2");
        assert_eq!(unescaped("%%40zoë%2540").unwrap(), "%@zoë@".as_bytes());
        assert_eq!(unescaped("plain text, zoë"), None);
    }

    #[test]
    fn card_numbers_are_found_with_any_separator() {
        for card in [
            "4111111111111111",
            "4111 1111 1111 1111",
            "4111-1111-1111-1111",
            "4111.1111.1111.1111",
            "order-4111-1111-1111-1111",
            "card 4111111111111111, thanks",
            "2 4111 1111 1111 1111",
            "41111111111111110",
            "5555555555554444",
            "2223003122003222",
            "378282246310005",
            "3530111333300000",
            "6011111111111117",
            "30569309025904",
            "6200000000000005",
        ] {
            assert!(contains_pii(card), "{card}");
        }
        assert_eq!(contains_pii("4111%201111%201111%201111"), SERVER);
        for text in [
            // Luhn fails.
            "4111111111111112",
            "4111 1111 1111 1112",
            // Order numbers, SKUs, prices, timestamps, dates, barcodes.
            "ORD-2026-11-24-000123",
            "SKU-1234567890123",
            "order 12345 on 2026-11-24",
            "24.99",
            "4111.11",
            "1764000000000",
            "1764000000000000",
            "2026-11-24T10:15:30.123Z",
            "20261124101530",
            "4006381333931",
            "9781234567897",
            "79927398713",
            // Too long to start a card at its first digit, and no group start inside.
            "94111111111111111",
        ] {
            assert!(!has_card_number(text.as_bytes()), "{text}");
        }
        assert!(is_card_integer(4_111_111_111_111_111));
        assert!(!is_card_integer(1_764_000_000_000));
        assert!(is_card_number(5555555555554444.0));
        assert!(!is_card_number(1_764_000_000_000_000.0));
        assert!(!is_card_number(411111111111.1111));
    }

    #[test]
    #[cfg(feature = "server")]
    fn international_phone_numbers_are_found() {
        for phone in [
            "+44 20 7946 0958",
            "+442079460958",
            "+1-202-555-0143",
            "+1 (202) 555-0143",
            "+44 (0)20 7946 0958",
            "0049 30 1234567",
            "004930123456",
            "call +33 1 23 45 67 89 today",
            "tel:+4915123456789",
            "%2B44%2020%207946%200958",
        ] {
            assert!(contains_pii(phone), "{phone}");
        }
        for text in [
            "+24.50",
            "+5",
            "2026-11-24T10:15:30+01:00",
            "+0100",
            "ORD-004512",
            "order 0012",
            "1764000000000",
            "c++17",
            "+1234567",
            "+4420794609581234",
            "SKU-0049301234",
            "1000493012345",
            "020 7946 0958",
            "+40.689247-074.044502",
        ] {
            assert!(!has_phone_number(text.as_bytes()), "{text}");
        }
    }
}
