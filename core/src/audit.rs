//! Audit: what the admin log records of an admin action — which action (a closed list), on what,
//! when, by which token (its fingerprint, never the token), with what details (the names of the
//! fields changed, an export's range: never a secret or a value a token could be read from) —
//! and how long it is kept. Input: the action, the presented token, the details. Output: an
//! [`Entry`] to store. Must not: do I/O, or put a token or a token's hash in an entry.

use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::admin::Settings;
use crate::zone::DAY_MS;

/// How long entries are kept: 90 days (the cron deletes older ones).
pub const KEEP_MS: i64 = 90 * DAY_MS;

/// Most entries one `GET /api/admin/audit` answers.
pub const MAX_PAGE: usize = 500;

/// An admin action the log records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Action {
    /// A tenant was created.
    TenantCreated,
    /// A site was created.
    SiteCreated,
    /// A site's settings changed (detail: the fields).
    SiteChanged,
    /// A site was paused (`active: false`).
    SitePaused,
    /// A paused site was resumed.
    SiteResumed,
    /// A site's tokens were rotated.
    TokensRotated,
    /// A site and all its data were erased.
    SiteErased,
    /// A site's data was exported (detail: what, the range, the format).
    Exported,
    /// One person's data was erased on request (detail: visitor or user, how much; never the id).
    PersonErased,
    /// Dead-lettered messages were sent back to the queue.
    DeadLettersReplayed,
    /// Given-up forwards to GA4 or Umami were sent again.
    ForwardsReplayed,
    /// A tenant's token was made anew.
    TenantTokenRotated,
}

impl Action {
    /// The stored name.
    pub fn name(self) -> &'static str {
        match self {
            Action::TenantCreated => "tenant.created",
            Action::SiteCreated => "site.created",
            Action::SiteChanged => "site.changed",
            Action::SitePaused => "site.paused",
            Action::SiteResumed => "site.resumed",
            Action::TokensRotated => "site.tokens_rotated",
            Action::SiteErased => "site.erased",
            Action::Exported => "site.exported",
            Action::PersonErased => "person.erased",
            Action::DeadLettersReplayed => "dead_letters.replayed",
            Action::ForwardsReplayed => "forwards.replayed",
            Action::TenantTokenRotated => "tenant.token_rotated",
        }
    }
}

/// One entry to store.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    /// When, ms since the epoch.
    pub at: i64,
    /// [`Action::name`].
    pub action: &'static str,
    /// The tenant or site it was done to (empty: none).
    pub target: String,
    /// [`fingerprint`] of the token that did it.
    pub actor: String,
    /// Details (JSON object).
    pub detail: Value,
}

/// A token's fingerprint: `sha256:` and the first 12 hex digits of SHA-256 of the hash the store
/// keeps (so the log never holds a token, nor the stored hash a token is checked against, yet
/// tells two tokens apart and matches `token::hash` of a known one).
pub fn fingerprint(token: &str) -> String {
    let stored = crate::token::hash(token);
    let twice = Sha256::digest(stored.as_bytes());
    format!("sha256:{}", &crate::encode::hex(&twice)[..12])
}

/// The entry for `action` on `target` at `at`, done with `token`.
pub fn entry(action: Action, target: &str, token: &str, detail: Value, at: i64) -> Entry {
    Entry {
        at,
        action: action.name(),
        target: target.to_owned(),
        actor: fingerprint(token),
        detail,
    }
}

/// The action a site change is: pausing or resuming when `active` changed, else a change.
pub fn site_change(was_active: bool, is_active: bool) -> Action {
    match (was_active, is_active) {
        (true, false) => Action::SitePaused,
        (false, true) => Action::SiteResumed,
        _ => Action::SiteChanged,
    }
}

/// The names of the settings that differ between `before` and `after` (never their values).
pub fn changed_fields(before: &Settings, after: &Settings) -> Vec<&'static str> {
    let mut fields = Vec::new();
    let mut check = |name, differs: bool| {
        if differs {
            fields.push(name);
        }
    };
    check("domains", before.domains != after.domains);
    check("timezone", before.timezone != after.timezone);
    check(
        "retention_days",
        before.retention_days != after.retention_days,
    );
    check(
        "aggregate_retention_days",
        before.aggregate_retention_days != after.aggregate_retention_days,
    );
    check(
        "ga4_measurement_id",
        before.ga4_measurement_id != after.ga4_measurement_id,
    );
    check(
        "umami_website_id",
        before.umami_website_id != after.umami_website_id,
    );
    check("forwarding", before.forwarding != after.forwarding);
    check("active", before.active != after.active);
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_names_its_token_by_fingerprint_only() {
        let token = "secret-admin-token-1234567890";
        let e = entry(
            Action::TokensRotated,
            "shop",
            token,
            serde_json::json!({}),
            7,
        );
        let text = serde_json::to_string(&e).unwrap();
        assert!(!text.contains(token));
        assert!(!text.contains(&crate::token::hash(token)));
        assert!(!text.contains(&crate::token::hash(token)[..12]));
        assert_eq!(e.actor, fingerprint(token));
        assert_eq!(e.actor.len(), "sha256:".len() + 12);
        assert_ne!(fingerprint("another"), e.actor);
        assert_eq!(e.action, "site.tokens_rotated");
    }

    #[test]
    fn a_change_names_its_fields_not_their_values() {
        let before = Settings {
            domains: vec!["shop.example".into()],
            timezone: "UTC".into(),
            retention_days: 30,
            aggregate_retention_days: 0,
            ga4_measurement_id: None,
            umami_website_id: None,
            forwarding: Default::default(),
            active: true,
        };
        let after = Settings {
            timezone: "Europe/Berlin".into(),
            active: false,
            ..before.clone()
        };
        assert_eq!(changed_fields(&before, &after), ["timezone", "active"]);
        assert!(changed_fields(&before, &before).is_empty());
    }

    #[test]
    fn pausing_and_resuming_are_named() {
        assert_eq!(site_change(true, false), Action::SitePaused);
        assert_eq!(site_change(false, true), Action::SiteResumed);
        assert_eq!(site_change(true, true), Action::SiteChanged);
    }
}
