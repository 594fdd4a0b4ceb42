//! Shares: a link that opens one site's reports, read-only, to whoever holds it — the whole site,
//! or only what one saved segment matches. As `POST /api/sites/{site}/shares` takes one, as it is
//! answered, and what its holder's query becomes.
//!
//! Input: a request body (at most [`MAX_BODY_BYTES`]), random bytes the caller drew, a stored
//! row, an id from a URL, a parsed query. Output: a [`ShareSpec`], the secret and the link that
//! carries it, the JSON answers, a query locked to the share's segment ([`lock`]). Must not: draw
//! randomness, touch storage, or put the secret in any answer but its creation's.

use serde_json::{json, Value};

use super::{id_in_path, known_keys, name, MAX_BODY_BYTES};
use crate::query::{id, quote, ErrorKind, Filter, QueryError, Request, MAX_ID};

/// Most shares one site keeps.
pub const MAX_SHARES: usize = 100;
/// Random bytes in a secret (256 bits).
pub const SECRET_BYTES: usize = 32;
/// What every secret starts with, so one found in a log or a paste says what it is.
pub const SECRET_PREFIX: &str = "share_";

/// A share as asked for: checked, not yet stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareSpec {
    /// Its name (the rule for a segment's name).
    pub name: String,
    /// The saved segment its holder sees only, if any (the caller checks the site has it).
    pub segment: Option<u64>,
}

/// A share as stored (its secret is not: only its hash, which no answer holds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Share {
    /// Its id (ids are never reused).
    pub id: u64,
    /// Its name.
    pub name: String,
    /// The segment it is locked to, if any.
    pub segment: Option<u64>,
    /// When it was made, ms since the epoch.
    pub created_at: i64,
}

fn share_err(message: impl Into<String>) -> QueryError {
    QueryError::new(ErrorKind::InvalidShare, message)
}

/// Reads and checks a body: `{"name", "segment"?}`, `segment` a segment id or `null` (the whole
/// site).
pub fn parse(body: &[u8]) -> Result<ShareSpec, QueryError> {
    let value = crate::query::json(body, MAX_BODY_BYTES, "body")?;
    let Value::Object(fields) = value else {
        return Err(share_err("#: A share is a JSON object."));
    };
    known_keys(
        ErrorKind::InvalidShare,
        "#",
        &fields,
        &["name", "segment"],
        "share",
    )?;
    let name = name(ErrorKind::InvalidShare, &fields)?;
    let segment = match fields.get("segment") {
        None | Some(Value::Null) => None,
        Some(v) => Some(id(v).ok_or_else(|| {
            QueryError::new(
                ErrorKind::InvalidSegment,
                format!(
                    "#/segment: Invalid segment id {}: an id is an integer from 1 to {MAX_ID}, or \
                     null for the whole site.",
                    quote(v)
                ),
            )
        })?),
    };
    Ok(ShareSpec { name, segment })
}

/// The refusal of a share locked to a segment the site does not have.
pub fn unknown_segment(segment: u64) -> QueryError {
    QueryError::new(
        ErrorKind::InvalidSegment,
        format!("#/segment: This site has no segment {segment}."),
    )
}

/// A share id as a URL gives it (the rule for a segment's id).
pub fn parse_id(text: &str) -> Result<u64, QueryError> {
    id_in_path(ErrorKind::InvalidShare, "share", text)
}

/// A new secret from `random` (drawn by the caller from a cryptographic source): the prefix and
/// the bytes as hex — URL-safe, and as strong as the bytes.
pub fn secret(random: &[u8; SECRET_BYTES]) -> String {
    format!("{SECRET_PREFIX}{}", crate::encode::hex(random))
}

/// The dashboard's link carrying `secret` for `site`, in the fragment (which a browser never
/// sends to a server, so no request log holds it). Site ids (`A-Za-z0-9_-.:`) and secrets need
/// no escaping there.
pub fn link(site: &str, secret: &str) -> String {
    format!("/dashboard/#site={site}&share={secret}")
}

/// The answer for a stored share: `{"id", "name", "segment" (null: none), "created_at"}`.
pub fn view(share: &Share) -> Value {
    json!({
        "id": share.id,
        "name": share.name,
        "segment": share.segment,
        "created_at": share.created_at,
    })
}

/// The answer to its creation: [`view`] with the `secret` and the `link` of `site` — the only
/// answer that holds them.
pub fn made(share: &Share, site: &str, secret: &str) -> Value {
    let mut out = view(share);
    if let Value::Object(map) = &mut out {
        map.insert("secret".into(), json!(secret));
        map.insert("link".into(), json!(link(site, secret)));
    }
    out
}

/// A query as a share locked to `segment` asks it: `["is", "segment", [segment]]` joined to the
/// top-level filters (an implicit `and`, so the holder's own filters can only narrow it), both
/// in the request and in `body`, the body the answer echoes. Run it before segments are
/// expanded ([`super::expand`]).
pub fn lock(mut request: Request, body: &mut Value, segment: u64) -> Request {
    request.filters.push(Filter::Segment(vec![segment]));
    if let Value::Object(fields) = body {
        let filters = fields.entry("filters").or_insert_with(|| json!([]));
        if let Value::Array(list) = filters {
            list.push(json!(["is", "segment", [segment]]));
        }
    }
    request
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::saved::{self, Kind, Segment};

    fn refused(body: &str) -> QueryError {
        parse(body.as_bytes()).expect_err(body)
    }

    #[test]
    fn a_share_names_itself_and_maybe_a_segment() {
        let whole = parse(br#"{"name":"Board"}"#).unwrap();
        assert_eq!(
            whole,
            ShareSpec {
                name: "Board".into(),
                segment: None
            }
        );
        let null = parse(br#"{"name":"Board","segment":null}"#).unwrap();
        assert_eq!(null.segment, None);
        let locked = parse(br#"{"name":"Agency","segment":7}"#).unwrap();
        assert_eq!(locked.segment, Some(7));
    }

    #[test]
    fn bad_bodies_are_refused_naming_the_fault() {
        let cases = [
            ("{not json", "invalid_json", "Invalid JSON"),
            ("[]", "invalid_share", "#: A share is a JSON object."),
            ("{}", "invalid_share", "Required property name"),
            (
                r#"{"segment":1}"#,
                "invalid_share",
                "Required property name",
            ),
            (r#"{"name":" x"}"#, "invalid_share", "#/name: Invalid name"),
            (
                r#"{"name":"a@example.com"}"#,
                "invalid_share",
                "email address",
            ),
            (
                r#"{"name":"x","expires":1}"#,
                "invalid_share",
                "#/expires: Unknown key. A share takes name, segment.",
            ),
            (
                r#"{"name":"x","segment":"1"}"#,
                "invalid_segment",
                "#/segment: Invalid segment id \"1\"",
            ),
            (
                r#"{"name":"x","segment":0}"#,
                "invalid_segment",
                "#/segment: Invalid segment id 0",
            ),
            (
                r#"{"name":"x","segment":1.5}"#,
                "invalid_segment",
                "integer from 1 to",
            ),
            (
                r#"{"name":"x","segment":9007199254740992}"#,
                "invalid_segment",
                "integer from 1 to",
            ),
            (
                r#"{"name":"x","segment":[1]}"#,
                "invalid_segment",
                "#/segment",
            ),
        ];
        for (body, code, message) in cases {
            let e = refused(body);
            assert_eq!(e.code(), code, "{body}: {}", e.message());
            assert!(e.message().contains(message), "{body}: {}", e.message());
        }
        let big = format!(r#"{{"name":"{}"}}"#, "x".repeat(MAX_BODY_BYTES));
        assert_eq!(refused(&big).code(), "invalid_json");
        assert_eq!(unknown_segment(9).code(), "invalid_segment");
        assert!(unknown_segment(9).message().contains("no segment 9"));
    }

    #[test]
    fn ids_in_paths_follow_the_segments_rule() {
        assert_eq!(parse_id("12"), Ok(12));
        for bad in ["", "0", "01", "-1", "x", "1.0", "9007199254740992"] {
            let e = parse_id(bad).expect_err(bad);
            assert_eq!(e.code(), "invalid_share");
            assert!(
                e.message().starts_with("Invalid share id"),
                "{}",
                e.message()
            );
        }
    }

    #[test]
    fn the_secret_and_its_link() {
        let s = secret(&[0xab; SECRET_BYTES]);
        assert_eq!(s.len(), SECRET_PREFIX.len() + 2 * SECRET_BYTES);
        assert!(s.starts_with("share_abab"));
        assert!(s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'));
        assert_eq!(
            link("demo", "share_1"),
            "/dashboard/#site=demo&share=share_1"
        );
        let share = Share {
            id: 3,
            name: "Board".into(),
            segment: None,
            created_at: 5,
        };
        assert_eq!(
            view(&share),
            json!({"id": 3, "name": "Board", "segment": null, "created_at": 5})
        );
        let answer = made(&share, "demo", &s);
        assert_eq!(answer["secret"], json!(s));
        assert_eq!(
            answer["link"],
            json!(format!("/dashboard/#site=demo&share={s}"))
        );
        assert!(!view(&share).to_string().contains("share_"));
    }

    #[test]
    fn a_locked_query_keeps_its_own_filters_and_adds_the_segment() {
        let body = br#"{"site_id":"demo","metrics":["visitors"],"date_range":"7d",
            "filters":[["or",[["is","visit:device",["Mobile"]],["is","visit:device",["Desktop"]]]]]}"#;
        let mut echo: Value = serde_json::from_slice(body).unwrap();
        let locked = lock(crate::query::parse(body).unwrap(), &mut echo, 4);
        assert_eq!(locked.filters.last(), Some(&Filter::Segment(vec![4])));
        assert_eq!(echo["filters"].as_array().map(Vec::len), Some(2));
        assert_eq!(echo["filters"][1], json!(["is", "segment", [4]]));
        // Expanded, the segment's filters stand beside the query's own: an `and` of both.
        let stored = saved::parse(
            Kind::Segment,
            br#"{"name":"Google","filters":[["is","visit:source",["Google"]]]}"#,
        )
        .unwrap();
        let segments = BTreeMap::from([(
            4,
            Segment::stored(4, &stored.name, &stored.definition).unwrap(),
        )]);
        let expanded = saved::expand(locked, &segments).unwrap();
        assert_eq!(expanded.filters.len(), 2);
        assert!(matches!(expanded.filters[0], Filter::Or(_)));
        assert!(expanded.filters[1].mentions(&crate::query::Dimension::Source));
        // A query without filters gets the list; a segment the site lost is refused.
        let bare = br#"{"site_id":"demo","metrics":["visitors"],"date_range":"7d"}"#;
        let mut echo: Value = serde_json::from_slice(bare).unwrap();
        let locked = lock(crate::query::parse(bare).unwrap(), &mut echo, 9);
        assert_eq!(echo["filters"], json!([["is", "segment", [9]]]));
        let e = saved::expand(locked, &segments).unwrap_err();
        assert_eq!(e.code(), "invalid_filters");
    }
}
