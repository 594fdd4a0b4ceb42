//! Stage: identify. Input: today's salt, the site, the site's user id (from `identify()`), the SDK's
//! visitor and session ids (absent in strict mode), the anonymised IP and the user agent. Output: keyed, salted hashes for visitor and visit.
//! Must not: return anything from which the ids, the IP or the user agent can be read back.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The ids a beacon carries.
#[derive(Debug, Clone, Copy, Default)]
pub struct Ids<'a> {
    /// The site's user id, from `identify()`.
    pub user: Option<&'a str>,
    /// The SDK's visitor id (absent in strict mode).
    pub visitor: Option<&'a str>,
    /// The SDK's session id (absent in strict mode).
    pub session: Option<&'a str>,
}

/// The hashed identity of one beacon's sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// Visitor key: the same for one visitor and site for one salt (one day).
    pub visitor_key: String,
    /// Visit key: the SDK's session within the visitor; in strict mode the visitor's day.
    pub session_key: String,
}

impl Identity {
    /// Derives the keys. The visitor is the signed-in user when `identify()` named one (the same
    /// person on every device), else the SDK's visitor id, else (strict mode) the site, anonymised
    /// IP and user agent.
    pub fn new(salt: &[u8], site: &str, ids: Ids<'_>, anon_ip: &str, user_agent: &str) -> Self {
        let visitor_key = match (ids.user, ids.visitor) {
            (Some(user), _) => keyed_hash(salt, &["user", site, user]),
            (None, Some(id)) => keyed_hash(salt, &["sdk", site, id]),
            (None, None) => keyed_hash(salt, &["strict", site, anon_ip, user_agent]),
        };
        Identity::visiting(salt, visitor_key, ids.session.unwrap_or(""))
    }

    /// The keys of a server-side request that names no visitor or user (a payment webhook):
    /// a visitor and visit of its own, derived from `anchor` (its first event's id), never from
    /// the server's address or agent, which would make every such request one visitor.
    pub fn server(salt: &[u8], site: &str, anchor: &str) -> Self {
        Identity::visiting(salt, keyed_hash(salt, &["server", site, anchor]), "")
    }

    /// A visitor's keys for the session id `session` (empty: none).
    fn visiting(salt: &[u8], visitor_key: String, session: &str) -> Self {
        let session_key = keyed_hash(salt, &["visit", &visitor_key, session]);
        Identity {
            visitor_key,
            session_key,
        }
    }
}

/// HMAC-SHA-256 of the length-prefixed parts under `salt`, as 32 hex characters (128 bits).
fn keyed_hash(salt: &[u8], parts: &[&str]) -> String {
    // `new_from_slice` accepts keys of any length for HMAC, so this cannot fail.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(salt) else {
        return String::new();
    };
    for part in parts {
        mac.update(&(part.len() as u64).to_le_bytes());
        mac.update(part.as_bytes());
    }
    crate::encode::hex(&mac.finalize().into_bytes()[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_depend_on_salt_and_ids() {
        let ids = |v, s| Ids {
            user: None,
            visitor: Some(v),
            session: Some(s),
        };
        let a = Identity::new(b"s1", "demo", ids("v1", "x"), "", "ua");
        let b = Identity::new(b"s1", "demo", ids("v1", "y"), "", "ua");
        let c = Identity::new(b"s2", "demo", ids("v1", "x"), "", "ua");
        assert_eq!(a.visitor_key, b.visitor_key);
        assert_ne!(a.session_key, b.session_key);
        assert_ne!(
            a.visitor_key, c.visitor_key,
            "a new salt makes a new visitor"
        );
        assert_eq!(a.visitor_key.len(), 32);
    }

    #[test]
    fn strict_mode_uses_network_and_agent() {
        let a = Identity::new(b"s", "demo", Ids::default(), "203.0.113.0", "ua1");
        let b = Identity::new(b"s", "demo", Ids::default(), "203.0.113.0", "ua2");
        assert_ne!(a.visitor_key, b.visitor_key);
        assert!(!a.visitor_key.contains("203"));
    }

    #[test]
    fn a_signed_in_user_is_one_visitor_on_every_device() {
        let phone = Ids {
            user: Some("u1"),
            visitor: Some("v-phone"),
            session: Some("s1"),
        };
        let laptop = Ids {
            user: Some("u1"),
            visitor: Some("v-laptop"),
            session: Some("s2"),
        };
        let a = Identity::new(b"s", "demo", phone, "", "ua1");
        let b = Identity::new(b"s", "demo", laptop, "", "ua2");
        assert_eq!(a.visitor_key, b.visitor_key);
        assert_ne!(a.session_key, b.session_key);
    }
}
