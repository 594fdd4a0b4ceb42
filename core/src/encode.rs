//! Encoding helpers shared by the SDK and the collector: lower-case hex and decimal integers.
//! Input: bytes or an integer. Output: their text. Written by hand, not with `format!`, because
//! `core::fmt` costs kilobytes of wasm in the SDK for what is a few lines here.

use alloc::string::String;

const HEX: &[u8; 16] = b"0123456789abcdef";

/// `bytes` as lower-case hex, two characters a byte.
pub fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(HEX[usize::from(b >> 4)] as char);
        out.push(HEX[usize::from(b & 15)] as char);
    }
    out
}

/// `n` in decimal.
pub fn decimal(n: u64) -> String {
    // Most significant digit first, by division: no indexing, and `checked_div` (never by zero
    // here) rather than `/`, so no panic code comes into the wasm.
    let digit = |unit: u64| n.checked_div(unit).unwrap_or(0);
    let mut unit = 1;
    while digit(unit) >= 10 {
        unit *= 10;
    }
    let mut digits = alloc::vec::Vec::with_capacity(20);
    loop {
        digits.push(b'0' + (digit(unit) % 10) as u8);
        if unit == 1 {
            break;
        }
        unit /= 10;
    }
    // SAFETY: ASCII digits are UTF-8.
    unsafe { String::from_utf8_unchecked(digits) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes() {
        assert_eq!(hex(&[0, 15, 16, 255]), "000f10ff");
        assert_eq!(hex(&[]), "");
        assert_eq!(decimal(0), "0");
        assert_eq!(decimal(1_764_000_000_000), "1764000000000");
        assert_eq!(decimal(u64::MAX), u64::MAX.to_string());
    }
}
