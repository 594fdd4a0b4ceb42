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
    let mut out = String::new();
    push_decimal(&mut out, n);
    out
}

/// Appends `n` in decimal to `out`: most significant digit first, by recursion (at most 20 deep),
/// with constant divisors, so no panic code comes into the wasm.
pub fn push_decimal(out: &mut String, n: u64) {
    if n >= 10 {
        push_decimal(out, n / 10);
    }
    out.push(char::from(b'0' + (n % 10) as u8));
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
