//! Admin: tenants and sites as the admin API takes them. Input: a JSON request body. Output: a
//! validated [`TenantSpec`], [`SiteSpec`] or [`SitePatch`], or an [`AdminError`] naming the field
//! (answered 400). Must not: hash, store or log tokens (the worker hashes them with [`crate::token`]).

use crate::forward::{Forwarding, Mode, Route, Target};
use serde_json::{Map, Value};

/// Shortest token a caller may choose; generated tokens are 32 random bytes as hex.
pub const MIN_TOKEN_LEN: usize = 12;
/// Longest token a caller may choose.
pub const MAX_TOKEN_LEN: usize = 128;
/// Most domains a site may list.
pub const MAX_DOMAINS: usize = 50;
/// Shortest raw-event retention: de-duplication remembers event ids for at least 48 hours.
pub const MIN_RETENTION_DAYS: u32 = 2;
/// Longest raw-event retention (rollups are kept regardless).
pub const MAX_RETENTION_DAYS: u32 = 3650;
/// Retention when none is given.
pub const DEFAULT_RETENTION_DAYS: u32 = 30;

/// A new tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantSpec {
    /// Tenant id (a wire id).
    pub id: String,
    /// Display name.
    pub name: String,
}

/// A new site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteSpec {
    /// Site id (a wire id; the SDK's `site`).
    pub id: String,
    /// Owning tenant.
    pub tenant: String,
    /// Settings.
    pub settings: Settings,
    /// A read token chosen by the caller; generated when absent.
    pub read_token: Option<String>,
    /// A write token chosen by the caller; generated when absent.
    pub write_token: Option<String>,
}

/// The settings of a site that can be changed after it is made.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Settings {
    /// Hosts allowed to send events (subdomains included), lower case.
    pub domains: Vec<String>,
    /// IANA time zone the site's days are counted in.
    pub timezone: String,
    /// Days raw events are kept.
    pub retention_days: u32,
    /// Days daily aggregates (and the weeks and months summed from them) are kept; 0: as long as
    /// the site.
    pub aggregate_retention_days: u32,
    /// Google Analytics 4 measurement id (`G-…`), for side-by-side comparison.
    pub ga4_measurement_id: Option<String>,
    /// Umami website id (a UUID), for side-by-side comparison.
    pub umami_website_id: Option<String>,
    /// What the collector forwards to GA4 and Umami (each only with its id; off by default).
    pub forwarding: Forwarding,
    /// False pauses collection.
    pub active: bool,
}

/// A change to a site: absent fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SitePatch {
    /// New domain list.
    pub domains: Option<Vec<String>>,
    /// New time zone.
    pub timezone: Option<String>,
    /// New retention.
    pub retention_days: Option<u32>,
    /// New retention of aggregates.
    pub aggregate_retention_days: Option<u32>,
    /// New GA4 id (`Some(None)` clears it).
    pub ga4_measurement_id: Option<Option<String>>,
    /// New Umami id (`Some(None)` clears it).
    pub umami_website_id: Option<Option<String>>,
    /// New forwarding: the targets it names replace theirs.
    pub forwarding: Option<ForwardingPatch>,
    /// Pause or resume.
    pub active: Option<bool>,
}

impl SitePatch {
    /// The settings after this patch.
    pub fn apply(self, mut settings: Settings) -> Settings {
        if let Some(v) = self.domains {
            settings.domains = v;
        }
        if let Some(v) = self.timezone {
            settings.timezone = v;
        }
        if let Some(v) = self.retention_days {
            settings.retention_days = v;
        }
        if let Some(v) = self.aggregate_retention_days {
            settings.aggregate_retention_days = v;
        }
        if let Some(v) = self.ga4_measurement_id {
            settings.ga4_measurement_id = v;
        }
        if let Some(v) = self.umami_website_id {
            settings.umami_website_id = v;
        }
        if let Some(v) = self.forwarding {
            if let Some(route) = v.ga4 {
                settings.forwarding.ga4 = route;
            }
            if let Some(route) = v.umami {
                settings.forwarding.umami = route;
            }
        }
        if let Some(v) = self.active {
            settings.active = v;
        }
        settings
    }
}

/// Why an admin body is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminError {
    /// Not a JSON object.
    InvalidJson,
    /// A field is missing or wrong: (field, what it must be).
    InvalidField(&'static str, &'static str),
}

impl AdminError {
    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            AdminError::InvalidJson => "invalid_json",
            AdminError::InvalidField(..) => "invalid_field",
        }
    }

    /// A sentence for a human.
    pub fn message(&self) -> String {
        match self {
            AdminError::InvalidJson => "the body must be a JSON object".into(),
            AdminError::InvalidField(field, rule) => format!("`{field}` must be {rule}"),
        }
    }
}

type Fields = Map<String, Value>;

fn object(body: &[u8]) -> Result<Fields, AdminError> {
    match serde_json::from_slice(body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(AdminError::InvalidJson),
    }
}

const ID_RULE: &str = "1-64 characters of A-Z a-z 0-9 _ - . :";

fn id(fields: &Fields, name: &'static str) -> Result<String, AdminError> {
    match fields.get(name) {
        Some(Value::String(s)) if crate::wire::is_valid_id(s) => Ok(s.clone()),
        _ => Err(AdminError::InvalidField(name, ID_RULE)),
    }
}

/// Reads optional field `name` with `read`; `Ok(None)` when absent.
fn optional<T>(
    fields: &Fields,
    name: &'static str,
    rule: &'static str,
    read: impl FnOnce(&Value) -> Option<T>,
) -> Result<Option<T>, AdminError> {
    match fields.get(name) {
        None => Ok(None),
        Some(value) => read(value)
            .map(Some)
            .ok_or(AdminError::InvalidField(name, rule)),
    }
}

/// True for a host a site may list: lower-case labels of `[a-z0-9-]`, or an IPv4 address.
pub fn is_valid_domain(domain: &str) -> bool {
    !domain.is_empty()
        && domain.len() <= 253
        && domain.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
}

/// True for an IANA time-zone name.
pub fn is_valid_timezone(name: &str) -> bool {
    name.parse::<chrono_tz::Tz>().is_ok()
}

fn is_valid_token(token: &str) -> bool {
    (MIN_TOKEN_LEN..=MAX_TOKEN_LEN).contains(&token.len())
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~'))
}

fn is_ga4_id(id: &str) -> bool {
    id.len() >= 6
        && id.len() <= 20
        && id.starts_with("G-")
        && id[2..]
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

fn is_uuid(id: &str) -> bool {
    let groups: Vec<&str> = id.split('-').collect();
    groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && groups
            .iter()
            .all(|g| g.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn domains(value: &Value) -> Option<Vec<String>> {
    let list = value.as_array()?;
    let mut out: Vec<String> = list
        .iter()
        .map(|d| d.as_str().map(|s| s.trim().to_ascii_lowercase()))
        .collect::<Option<_>>()?;
    out.sort();
    out.dedup();
    (!out.is_empty() && out.len() <= MAX_DOMAINS && out.iter().all(|d| is_valid_domain(d)))
        .then_some(out)
}

fn string_where(value: &Value, valid: fn(&str) -> bool) -> Option<String> {
    value.as_str().filter(|s| valid(s)).map(str::to_owned)
}

/// `null` clears; a valid string sets.
fn clearable(value: &Value, valid: fn(&str) -> bool) -> Option<Option<String>> {
    match value {
        Value::Null => Some(None),
        other => string_where(other, valid).map(Some),
    }
}

/// Aggregates kept as long as the site (0), or at least a year and at most a century.
fn aggregate_retention(value: &Value) -> Option<u32> {
    value
        .as_u64()
        .filter(|d| *d == 0 || (MIN_AGGREGATE_DAYS..=MAX_AGGREGATE_DAYS).contains(d))
        .map(|d| d as u32)
}

fn retention(value: &Value) -> Option<u32> {
    value
        .as_u64()
        .filter(|d| (MIN_RETENTION_DAYS as u64..=MAX_RETENTION_DAYS as u64).contains(d))
        .map(|d| d as u32)
}

const DOMAINS_RULE: &str = "a non-empty array of at most 50 lower-case host names";
const TZ_RULE: &str = "an IANA time zone such as \"Europe/Berlin\"";
const RETENTION_RULE: &str = "a whole number of days from 2 to 3650";
const AGGREGATE_RULE: &str =
    "0 (kept as long as the site) or a whole number of days from 365 to 36500";
/// The shortest retention of aggregates: a year (year-over-year comparisons need it).
const MIN_AGGREGATE_DAYS: u64 = 365;
const MAX_AGGREGATE_DAYS: u64 = 36_500;
const GA4_RULE: &str = "a GA4 measurement id such as \"G-ABC123\", or null";
const UMAMI_RULE: &str = "a Umami website id (a UUID), or null";
const FORWARDING_RULE: &str = "an object with \"ga4\" and/or \"umami\", each {\"mode\": \"off\"|\"all\"|\"server\", \"page_events\"?: [at most 100 event names the page sends itself]}";
/// Most names a route's `page_events` lists.
const MAX_PAGE_EVENTS: usize = 100;
const TOKEN_RULE: &str = "12-128 characters of A-Z a-z 0-9 - _ . ~";

/// A change to a site's forwarding: each target named is replaced whole.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ForwardingPatch {
    /// GA4's new route.
    pub ga4: Option<Route>,
    /// Umami's new route.
    pub umami: Option<Route>,
}

fn route(value: &Value) -> Option<Route> {
    let fields = value.as_object()?;
    if fields.keys().any(|k| k != "mode" && k != "page_events") {
        return None;
    }
    let mode = Mode::named(fields.get("mode")?.as_str()?)?;
    let page_events = match fields.get("page_events") {
        None | Some(Value::Null) => Vec::new(),
        Some(list) => {
            let list = list.as_array().filter(|l| l.len() <= MAX_PAGE_EVENTS)?;
            let mut names: Vec<String> = list
                .iter()
                .map(|n| {
                    n.as_str()
                        .filter(|n| crate::wire::is_valid_event_name(n))
                        .map(str::to_owned)
                })
                .collect::<Option<_>>()?;
            names.sort();
            names.dedup();
            names
        }
    };
    Some(Route { mode, page_events })
}

fn forwarding(value: &Value) -> Option<ForwardingPatch> {
    let fields = value.as_object()?;
    if fields.is_empty() || fields.keys().any(|k| Target::named(k).is_none()) {
        return None;
    }
    let of = |target: Target| fields.get(target.name()).map(route);
    Some(ForwardingPatch {
        ga4: of(Target::Ga4).map_or(Some(None), |r| r.map(Some))?,
        umami: of(Target::Umami).map_or(Some(None), |r| r.map(Some))?,
    })
}

/// Parses a patch from a body (`PATCH /api/admin/sites/{id}`).
pub fn parse_patch(body: &[u8]) -> Result<SitePatch, AdminError> {
    patch_from(&object(body)?)
}

fn patch_from(fields: &Fields) -> Result<SitePatch, AdminError> {
    Ok(SitePatch {
        domains: optional(fields, "domains", DOMAINS_RULE, domains)?,
        timezone: optional(fields, "timezone", TZ_RULE, |v| {
            string_where(v, is_valid_timezone)
        })?,
        retention_days: optional(fields, "retention_days", RETENTION_RULE, retention)?,
        aggregate_retention_days: optional(
            fields,
            "aggregate_retention_days",
            AGGREGATE_RULE,
            aggregate_retention,
        )?,
        ga4_measurement_id: optional(fields, "ga4_measurement_id", GA4_RULE, |v| {
            clearable(v, is_ga4_id)
        })?,
        umami_website_id: optional(fields, "umami_website_id", UMAMI_RULE, |v| {
            clearable(v, is_uuid)
        })?,
        forwarding: optional(fields, "forwarding", FORWARDING_RULE, forwarding)?,
        active: optional(fields, "active", "true or false", Value::as_bool)?,
    })
}

/// Parses a new site (`POST /api/admin/sites`).
pub fn parse_site(body: &[u8]) -> Result<SiteSpec, AdminError> {
    let fields = object(body)?;
    let patch = patch_from(&fields)?;
    if patch.domains.is_none() {
        return Err(AdminError::InvalidField("domains", DOMAINS_RULE));
    }
    let token = |name| {
        optional(&fields, name, TOKEN_RULE, |v| {
            string_where(v, is_valid_token)
        })
    };
    Ok(SiteSpec {
        id: id(&fields, "id")?,
        tenant: id(&fields, "tenant")?,
        read_token: token("read_token")?,
        write_token: token("write_token")?,
        settings: patch.apply(Settings {
            domains: Vec::new(),
            timezone: "UTC".into(),
            retention_days: DEFAULT_RETENTION_DAYS,
            aggregate_retention_days: 0,
            ga4_measurement_id: None,
            umami_website_id: None,
            forwarding: Forwarding::default(),
            active: true,
        }),
    })
}

/// Parses a new tenant (`POST /api/admin/tenants`).
pub fn parse_tenant(body: &[u8]) -> Result<TenantSpec, AdminError> {
    let fields = object(body)?;
    let id = id(&fields, "id")?;
    let name = optional(&fields, "name", "1-200 characters", |v| {
        v.as_str()
            .map(str::trim)
            .filter(|s| !s.is_empty() && s.len() <= 200)
            .map(str::to_owned)
    })?
    .unwrap_or_else(|| id.clone());
    Ok(TenantSpec { id, name })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_site_gets_defaults_and_normalised_domains() {
        let spec = parse_site(br#"{"id":"shop","tenant":"acme","domains":["Shop.Example","shop.example","127.0.0.1"]}"#).unwrap();
        assert_eq!(spec.settings.domains, ["127.0.0.1", "shop.example"]);
        assert_eq!(spec.settings.timezone, "UTC");
        assert_eq!(spec.settings.retention_days, 30);
        assert!(spec.settings.active);
        assert_eq!(spec.read_token, None);
    }

    #[test]
    fn forwarding_is_set_per_target() {
        let spec = parse_site(br#"{"id":"shop","tenant":"acme","domains":["x.com"]}"#).unwrap();
        assert_eq!(spec.settings.forwarding, Forwarding::default());
        let patch = parse_patch(
            br#"{"forwarding":{"ga4":{"mode":"all","page_events":["pageview","pageview","add_to_cart"]}}}"#,
        )
        .unwrap();
        let after = patch.apply(spec.settings.clone());
        assert_eq!(after.forwarding.ga4.mode, Mode::All);
        assert_eq!(
            after.forwarding.ga4.page_events,
            ["add_to_cart", "pageview"]
        );
        assert_eq!(after.forwarding.umami, Route::default());
        let again = parse_patch(br#"{"forwarding":{"umami":{"mode":"server"}}}"#).unwrap();
        let after = again.apply(after);
        assert_eq!(
            after.forwarding.ga4.mode,
            Mode::All,
            "a target not named stays"
        );
        assert_eq!(after.forwarding.umami.mode, Mode::Server);
        for bad in [
            r#"{"forwarding":{}}"#,
            r#"{"forwarding":{"ga5":{"mode":"all"}}}"#,
            r#"{"forwarding":{"ga4":{"mode":"some"}}}"#,
            r#"{"forwarding":{"ga4":{"mode":"all","page_events":"pageview"}}}"#,
            r#"{"forwarding":{"ga4":{"mode":"all","page_events":[""]}}}"#,
            r#"{"forwarding":{"ga4":{"mode":"all","secret":"x"}}}"#,
            r#"{"forwarding":"all"}"#,
        ] {
            assert_eq!(
                parse_patch(bad.as_bytes()),
                Err(AdminError::InvalidField("forwarding", FORWARDING_RULE)),
                "{bad}"
            );
        }
    }

    #[test]
    fn every_bad_field_is_named() {
        let cases: &[(&[u8], &str)] = &[
            (b"[]", ""),
            (br#"{"tenant":"a","domains":["x.com"]}"#, "id"),
            (br#"{"id":"a b","tenant":"a","domains":["x.com"]}"#, "id"),
            (br#"{"id":"a","tenant":"a"}"#, "domains"),
            (
                br#"{"id":"a","tenant":"a","domains":["https://x.com/"]}"#,
                "domains",
            ),
            (
                br#"{"id":"a","tenant":"a","domains":["x.com"],"timezone":"Mars/Base"}"#,
                "timezone",
            ),
            (
                br#"{"id":"a","tenant":"a","domains":["x.com"],"retention_days":1}"#,
                "retention_days",
            ),
            (
                br#"{"id":"a","tenant":"a","domains":["x.com"],"aggregate_retention_days":90}"#,
                "aggregate_retention_days",
            ),
            (
                br#"{"id":"a","tenant":"a","domains":["x.com"],"read_token":"short"}"#,
                "read_token",
            ),
            (
                br#"{"id":"a","tenant":"a","domains":["x.com"],"ga4_measurement_id":"UA-1"}"#,
                "ga4_measurement_id",
            ),
            (
                br#"{"id":"a","tenant":"a","domains":["x.com"],"umami_website_id":"nope"}"#,
                "umami_website_id",
            ),
        ];
        for (body, field) in cases {
            match parse_site(body) {
                Err(AdminError::InvalidJson) => assert_eq!(*field, ""),
                Err(AdminError::InvalidField(f, _)) => assert_eq!(f, *field),
                Ok(spec) => panic!("accepted {spec:?}"),
            }
        }
    }

    #[test]
    fn patches_change_only_what_they_name() {
        let spec = parse_site(br#"{"id":"s","tenant":"t","domains":["a.com"],"timezone":"Europe/Berlin","ga4_measurement_id":"G-AB12CD","umami_website_id":"0f8e6c1a-3b2d-4e5f-9a7b-1c2d3e4f5a6b","read_token":"dev-demo-token"}"#).unwrap();
        assert_eq!(spec.read_token.as_deref(), Some("dev-demo-token"));
        let patch = parse_patch(br#"{"ga4_measurement_id":null,"active":false}"#).unwrap();
        let after = patch.apply(spec.settings.clone());
        assert_eq!(after.ga4_measurement_id, None);
        assert!(!after.active);
        assert_eq!(after.timezone, "Europe/Berlin");
        assert_eq!(after.umami_website_id, spec.settings.umami_website_id);
    }

    #[test]
    fn tenants_default_their_name() {
        assert_eq!(
            parse_tenant(br#"{"id":"acme"}"#).unwrap(),
            TenantSpec {
                id: "acme".into(),
                name: "acme".into()
            }
        );
        assert!(parse_tenant(br#"{"id":""}"#).is_err());
    }
}
