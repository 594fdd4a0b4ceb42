//! Tokens: how read tokens are stored and compared. Input: a token as the client sent it. Output: its
//! SHA-256 hex digest, the only form that is stored. Must not: log or return the token itself.

use sha2::{Digest, Sha256};

/// SHA-256 of `token` as 64 lower-case hex characters.
pub fn hash(token: &str) -> String {
    crate::encode::hex(&Sha256::digest(token.as_bytes()))
}

/// The token of an `Authorization: Bearer <token>` header, if that is its shape.
pub fn bearer(header: Option<&str>) -> Option<&str> {
    let header = header?.trim();
    let (scheme, token) = header.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_and_reads_bearer_tokens() {
        assert_eq!(
            hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(bearer(Some("Bearer abc")), Some("abc"));
        assert_eq!(bearer(Some("bearer  abc ")), Some("abc"));
        assert_eq!(bearer(Some("Basic abc")), None);
        assert_eq!(bearer(Some("Bearer ")), None);
        assert_eq!(bearer(None), None);
    }
}
