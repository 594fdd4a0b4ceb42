//! The collector's side of wire format v1: the parser of `POST /api/collect` bodies.
//!
//! Input: the raw body bytes. Output: a [`RawBeacon`] whose events are each checked on their own
//! ([`validate_event`]) into a [`ValidEvent`] or a [`DropReason`]. Fields are read loosely (see
//! [`Loose`]: a scalar, or anything else), so a field of the wrong type drops its event, not the
//! batch; strings without escapes are borrowed from the body. The limits it enforces are the
//! parent module's constants. Built with the `server` feature only: the SDK never parses beacons.

use super::*;
use alloc::borrow::Cow;
use alloc::collections::BTreeMap;
use core::fmt;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

/// A body that has the beacon's envelope; its events are still unchecked.
#[derive(Debug, Clone, Deserialize)]
pub struct RawBeacon<'a> {
    /// Wire format version.
    pub v: u32,
    /// Site id.
    pub site: String,
    /// The SDK's visitor id; absent in strict mode.
    #[serde(default)]
    pub visitor_id: Option<String>,
    /// The SDK's session id; absent in strict mode.
    #[serde(default)]
    pub session_id: Option<String>,
    /// The site's id for a signed-in user, from `identify()`.
    #[serde(default)]
    pub user_id: Option<String>,
    /// The batch, each event checked on its own by [`validate_event`].
    #[serde(borrow)]
    pub events: Vec<RawEvent<'a>>,
    /// Events the sender's outbox dropped unsent, as sent (read by [`RawBeacon::lost`]).
    #[serde(default, borrow)]
    pub lost: Loose<'a>,
}

impl RawBeacon<'_> {
    /// The beacon's count of events its sender dropped unsent: 0 unless a positive integer,
    /// at most [`MAX_LOST`].
    pub fn lost(&self) -> u32 {
        match self.lost {
            Loose::Int(n) if n > 0 => n.min(i64::from(MAX_LOST)) as u32,
            _ => 0,
        }
    }
}

/// One event as sent, read without judging it: each field the wire knows, whatever its type
/// (a wrong type drops the event in [`validate_event`], never the beacon). Strings borrow from the
/// body when they hold no escapes. (Reading straight into these, instead of a `serde_json::Value`
/// tree, halved the parse's cost per event: no map nodes, no copies.)
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RawEvent<'a> {
    /// False when the event is not a JSON object.
    pub object: bool,
    /// `id`.
    pub id: Loose<'a>,
    /// `ts`.
    pub ts: Loose<'a>,
    /// `name`.
    pub name: Loose<'a>,
    /// `url`.
    pub url: Loose<'a>,
    /// `referrer`.
    pub referrer: Loose<'a>,
    /// `props` when it is an object, by key (a key given twice keeps its last value).
    pub props: BTreeMap<Cow<'a, str>, Loose<'a>>,
}

/// A JSON value as the wire reads it: a scalar, or anything else (missing, null, array, object).
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Loose<'a> {
    /// A string.
    Str(Cow<'a, str>),
    /// An integer that fits an `i64`.
    Int(i64),
    /// Any other number.
    Num(f64),
    /// A boolean.
    Bool(bool),
    /// Missing, null, an array or an object.
    #[default]
    Other,
}

impl<'a> Loose<'a> {
    /// The string, when this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Loose::Str(s) => Some(s),
            _ => None,
        }
    }
}

/// Reads any JSON value into a [`Loose`], skipping the insides of arrays and objects.
struct LooseVisitor;

impl<'de> Visitor<'de> for LooseVisitor {
    type Value = Loose<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Loose::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Loose::Str(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Loose::Str(Cow::Owned(v)))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Loose::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(i64::try_from(v).map_or(Loose::Num(v as f64), Loose::Int))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Loose::Num(v))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Loose::Bool(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Loose::Other)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Loose::Other)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Loose::Other)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Loose<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(LooseVisitor)
    }
}

/// Visitor methods for every JSON scalar (string, number, boolean, null), each giving `$value`.
macro_rules! scalars_are {
    ($value:expr) => {
        fn visit_borrowed_str<E: de::Error>(self, _: &'de str) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok($value)
        }
    };
}

/// `props`: an object's entries, or nothing for any other value.
struct Props<'a>(BTreeMap<Cow<'a, str>, Loose<'a>>);

impl<'de: 'a, 'a> Deserialize<'de> for Props<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct PropsVisitor;
        impl<'de> Visitor<'de> for PropsVisitor {
            type Value = Props<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut props = BTreeMap::new();
                while let Some(key) = map.next_key::<Loose<'de>>()? {
                    let value = map.next_value::<Loose<'de>>()?;
                    if let Loose::Str(key) = key {
                        props.insert(key, value);
                    }
                }
                Ok(Props(props))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                LooseVisitor.visit_seq(seq).map(|_| Props(BTreeMap::new()))
            }
            scalars_are!(Props(BTreeMap::new()));
        }
        d.deserialize_any(PropsVisitor)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for RawEvent<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct EventVisitor;
        impl<'de> Visitor<'de> for EventVisitor {
            type Value = RawEvent<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut event = RawEvent {
                    object: true,
                    ..RawEvent::default()
                };
                while let Some(key) = map.next_key::<Loose<'de>>()? {
                    let slot = match key.as_str() {
                        Some(field::ID) => &mut event.id,
                        Some(field::TS) => &mut event.ts,
                        Some(field::NAME) => &mut event.name,
                        Some(field::URL) => &mut event.url,
                        Some(field::REFERRER) => &mut event.referrer,
                        Some(field::PROPS) => {
                            event.props = map.next_value::<Props<'de>>()?.0;
                            continue;
                        }
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                            continue;
                        }
                    };
                    *slot = map.next_value()?;
                }
                Ok(event)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                LooseVisitor.visit_seq(seq).map(|_| RawEvent::default())
            }
            scalars_are!(RawEvent::default());
        }
        d.deserialize_any(EventVisitor)
    }
}

/// A property value the wire accepts (serialised as the bare JSON value).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum PropValue {
    /// A string, cut to [`MAX_PROP_VALUE_LEN`] characters.
    Str(String),
    /// A finite number.
    Num(f64),
    /// A boolean.
    Bool(bool),
}

/// One event that passed validation. Its URLs are not yet scrubbed by the server.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidEvent {
    /// Client-made unique id.
    pub id: String,
    /// Event time, ms since the epoch: the client's when plausible, else the receive time.
    pub ts: i64,
    /// Event name (`pageview` for pageviews).
    pub name: String,
    /// Page URL.
    pub url: String,
    /// Referrer URL, if a valid one was sent.
    pub referrer: Option<String>,
    /// Properties that passed; invalid ones are left out.
    pub props: Vec<(String, PropValue)>,
}

/// Parses a body into a beacon envelope, or says why it is not one.
pub fn parse_beacon(body: &[u8]) -> Result<RawBeacon<'_>, WireError> {
    let beacon: RawBeacon =
        serde_json::from_slice(body).map_err(|e| WireError::MalformedJson(e.to_string()))?;
    if beacon.v != VERSION {
        return Err(WireError::UnsupportedVersion);
    }
    if !is_valid_id(&beacon.site) {
        return Err(WireError::InvalidSite);
    }
    let ids_ok = [&beacon.visitor_id, &beacon.session_id]
        .iter()
        .all(|id| id.as_deref().is_none_or(is_valid_id))
        && beacon.user_id.as_deref().is_none_or(is_valid_user_id);
    if !ids_ok {
        return Err(WireError::InvalidVisitor);
    }
    match beacon.events.len() {
        0 => Err(WireError::EmptyBatch),
        n if n > MAX_EVENTS => Err(WireError::TooManyEvents(n)),
        _ => Ok(beacon),
    }
}

/// Validates one event of a batch; `received_at` is the server's receive time in ms, and
/// `max_age_ms` how old a client timestamp may be ([`MAX_CLIENT_AGE_MS`] for browsers).
pub fn validate_event(
    raw: &RawEvent<'_>,
    received_at: i64,
    max_age_ms: i64,
) -> Result<ValidEvent, DropReason> {
    if !raw.object {
        return Err(DropReason::NotAnObject);
    }
    let id = raw
        .id
        .as_str()
        .filter(|id| is_valid_id(id))
        .ok_or(DropReason::InvalidId)?;
    let Loose::Int(client_ts) = raw.ts else {
        return Err(DropReason::InvalidTimestamp);
    };
    let name = raw
        .name
        .as_str()
        .filter(|n| is_valid_event_name(n))
        .ok_or(DropReason::InvalidName)?;
    let url = raw
        .url
        .as_str()
        .filter(|u| is_valid_page_url(u))
        .ok_or(DropReason::InvalidUrl)?;
    let referrer = raw
        .referrer
        .as_str()
        .filter(|r| is_valid_page_url(r))
        .map(str::to_owned);
    let props = validate_props(&raw.props);
    Ok(ValidEvent {
        id: id.to_owned(),
        ts: event_time(client_ts, received_at, max_age_ms),
        name: name.to_owned(),
        url: url.to_owned(),
        referrer,
        props,
    })
}

/// The client's timestamp when it lies in the trusted window around `received_at`, else `received_at`.
pub fn event_time(client_ts: i64, received_at: i64, max_age_ms: i64) -> i64 {
    let oldest = received_at - max_age_ms;
    let newest = received_at + MAX_CLIENT_SKEW_MS;
    if (oldest..=newest).contains(&client_ts) {
        client_ts.min(received_at)
    } else {
        received_at
    }
}

/// The props that pass [`crate::privacy::check_prop`], the SDK's own policy, so a sender that
/// is not the SDK meets the same rules; strings cut as it says, a `currency` normalised
/// ([`crate::commerce::currency`]). Integers are also checked by their exact digits (a JSON
/// integer beyond 2^53 is not exact as an `f64`).
fn validate_props(props: &BTreeMap<Cow<'_, str>, Loose<'_>>) -> Vec<(String, PropValue)> {
    use crate::privacy::{check_prop, is_card_integer, Value, Verdict};
    let mut kept = Vec::new();
    for (key, value) in props {
        let view = match value {
            Loose::Str(s) => Value::Str(s),
            Loose::Int(n) if is_card_integer(n.unsigned_abs()) => continue,
            Loose::Int(n) => Value::Num(*n as f64),
            Loose::Num(n) => Value::Num(*n),
            Loose::Bool(b) => Value::Bool(*b),
            Loose::Other => Value::Other,
        };
        let value = match (check_prop(key, view, kept.len()), view) {
            (Verdict::Drop(_), _) => continue,
            // A cut can end a long digit run inside a phone number's limits: checked again.
            (Verdict::Cut(n), Value::Str(s)) => {
                let cut: String = s.chars().take(n).collect();
                if crate::privacy::contains_pii(&cut) {
                    continue;
                }
                PropValue::Str(cut)
            }
            (_, Value::Str(s)) if key == "currency" => {
                PropValue::Str(crate::commerce::currency(s).unwrap_or_else(|| s.to_owned()))
            }
            (_, Value::Str(s)) => PropValue::Str(s.to_owned()),
            (_, Value::Num(n)) => PropValue::Num(n),
            (_, Value::Bool(b)) => PropValue::Bool(b),
            (_, Value::Other) => continue,
        };
        kept.push((key.to_string(), value));
    }
    kept
}

#[cfg(all(test, feature = "server"))]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_764_000_000_000;

    /// Validates an event given as a JSON value, through its text as the collector reads it.
    fn check(event: &serde_json::Value) -> Result<ValidEvent, DropReason> {
        let text = event.to_string();
        let raw: RawEvent = serde_json::from_str(&text).unwrap();
        validate_event(&raw, NOW, MAX_CLIENT_AGE_MS)
    }

    fn event() -> serde_json::Value {
        json!({"id": "e1", "ts": NOW - 1000, "name": "pageview", "url": "https://shop.example/p/1"})
    }

    #[test]
    fn event_name_byte_rules_match_the_char_rules_on_every_character() {
        for c in (0..=0x10ffff).filter_map(char::from_u32) {
            let text = c.to_string();
            assert_eq!(has_control(&text), c.is_control(), "{c:?}");
            let edge = SPACES.iter().any(|s| text.starts_with(s));
            assert_eq!(edge, c.is_whitespace() && !c.is_control(), "{c:?}");
        }
    }

    #[test]
    fn event_names_have_no_edge_spaces_or_controls() {
        for good in [
            "cart_add",
            "admin:course_created",
            "ai.usage",
            "zoë wins",
            "a",
        ] {
            assert!(is_valid_event_name(good), "{good}");
        }
        let long = "x".repeat(MAX_NAME_LEN + 1);
        for bad in [
            "",
            " ",
            " cart",
            "cart ",
            "cart\u{a0}",
            "\u{3000}cart",
            "ca\nrt",
            "ca\u{85}rt",
            "x\u{7f}",
            "jane@example.org",
            &long,
        ] {
            assert!(!is_valid_event_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn golden_fixture_parses_and_validates() {
        let body = include_bytes!("../../../tests/fixtures/beacon-v1.json");
        let beacon = parse_beacon(body).expect("fixture is a valid beacon");
        assert_eq!(beacon.site, "demo");
        let events: Vec<_> = beacon
            .events
            .iter()
            .map(|e| validate_event(e, NOW, MAX_CLIENT_AGE_MS))
            .collect();
        assert!(events.iter().all(Result::is_ok), "{events:?}");
        let custom = events[1].as_ref().unwrap();
        assert_eq!(custom.name, "cart_add");
        assert!(custom
            .props
            .contains(&("sku".into(), PropValue::Str("SKU-1".into()))));
    }

    #[test]
    fn envelope_errors_have_codes() {
        let cases: [(&[u8], &str); 7] = [
            (b"not json", "malformed_json"),
            (
                br#"{"v":2,"site":"demo","events":[{}]}"#,
                "unsupported_version",
            ),
            (
                br#"{"v":1,"site":"bad site","events":[{}]}"#,
                "invalid_site",
            ),
            (
                br#"{"v":1,"site":"demo","visitor_id":"","events":[{}]}"#,
                "invalid_visitor",
            ),
            (
                br#"{"v":1,"site":"demo","user_id":"15551234567","events":[{}]}"#,
                "invalid_visitor",
            ),
            (br#"{"v":1,"site":"demo","events":[]}"#, "empty_batch"),
            (br#"{"v":1,"site":"demo","events":{}}"#, "malformed_json"),
        ];
        for (body, code) in cases {
            assert_eq!(parse_beacon(body).unwrap_err().code(), code);
        }
        let many = json!({"v":1,"site":"demo","events": vec![event(); MAX_EVENTS + 1]});
        let err = parse_beacon(many.to_string().as_bytes()).unwrap_err();
        assert_eq!(err, WireError::TooManyEvents(MAX_EVENTS + 1));
    }

    #[test]
    fn user_ids_are_internal_ids_only() {
        assert!(is_valid_user_id("user_42"));
        assert!(is_valid_user_id("123456"), "short numeric ids are fine");
        assert!(is_valid_user_id("u-15551234567"));
        assert!(
            !is_valid_user_id("15551234567"),
            "shaped like a phone number"
        );
        assert!(!is_valid_user_id("jane@example.com"));
        assert!(!is_valid_user_id("+1 555 123 4567"));
        assert!(!is_valid_user_id("4111-1111-1111-1111"), "a card number");
        assert!(is_valid_user_id("4111-1111-1111-1112"));
    }

    #[test]
    fn each_bad_event_has_its_reason() {
        let mut e = event();
        e["id"] = json!("has space");
        assert_eq!(check(&e), Err(DropReason::InvalidId));
        let mut e = event();
        e["ts"] = json!("yesterday");
        assert_eq!(check(&e), Err(DropReason::InvalidTimestamp));
        let mut e = event();
        e["name"] = json!(" padded ");
        assert_eq!(check(&e), Err(DropReason::InvalidName));
        let mut e = event();
        e["name"] = json!("signup jane@example.com");
        assert_eq!(check(&e), Err(DropReason::InvalidName));
        let mut e = event();
        e["url"] = json!("javascript:alert(1)");
        assert_eq!(check(&e), Err(DropReason::InvalidUrl));
        assert_eq!(check(&json!(3)), Err(DropReason::NotAnObject));
    }

    #[test]
    fn events_are_read_by_type_without_judging_the_beacon() {
        let body = br#"{"v":1,"site":"demo","events":[
            {"id":"a","ts":5.0,"name":"x","url":"https://s.example/"},
            {"id":"b","ts":18446744073709551615,"name":"x","url":"https://s.example/"},
            {"id":7,"ts":1,"name":"x","url":"https://s.example/"},
            [1,{"id":"c"}], null, "text",
            {"id":"d","ts":1,"name":"caf\u00e9","url":"https://s.example/\u0070","extra":{"deep":[1,{"x":null}]},
             "props":{"k":"first","k":"last","n":-3,"big":18446744073709551615,"o":{"x":1},"z":null}},
            {"id":"e","ts":1,"name":"x","url":"https://s.example/","props":[1,2],"referrer":42}
        ]}"#;
        let beacon = parse_beacon(body).unwrap();
        let results: Vec<_> = beacon
            .events
            .iter()
            .map(|e| validate_event(e, NOW, MAX_CLIENT_AGE_MS))
            .collect();
        assert_eq!(
            results[0],
            Err(DropReason::InvalidTimestamp),
            "a float is not a timestamp"
        );
        assert_eq!(results[1], Err(DropReason::InvalidTimestamp), "beyond i64");
        assert_eq!(results[2], Err(DropReason::InvalidId));
        for not_an_object in &results[3..6] {
            assert_eq!(not_an_object, &Err(DropReason::NotAnObject));
        }
        let d = results[6].as_ref().unwrap();
        assert_eq!(
            (d.name.as_str(), d.url.as_str()),
            ("café", "https://s.example/p")
        );
        assert_eq!(
            d.props,
            [
                ("big".to_owned(), PropValue::Num(18446744073709551615.0)),
                ("k".to_owned(), PropValue::Str("last".into())),
                ("n".to_owned(), PropValue::Num(-3.0)),
            ]
        );
        let e = results[7].as_ref().unwrap();
        assert!(e.props.is_empty() && e.referrer.is_none());
    }

    #[test]
    fn client_time_is_trusted_only_in_window() {
        assert_eq!(
            event_time(NOW - 3_600_000, NOW, MAX_CLIENT_AGE_MS),
            NOW - 3_600_000
        );
        assert_eq!(
            event_time(NOW - MAX_CLIENT_AGE_MS - 1, NOW, MAX_CLIENT_AGE_MS),
            NOW
        );
        assert_eq!(
            event_time(NOW + 60_000, NOW, MAX_CLIENT_AGE_MS),
            NOW,
            "small skew is clamped to now"
        );
        assert_eq!(
            event_time(NOW + MAX_CLIENT_SKEW_MS + 1, NOW, MAX_CLIENT_AGE_MS),
            NOW
        );
        let year_ago = NOW - 365 * 86_400_000;
        assert_eq!(event_time(year_ago, NOW, MAX_CLIENT_AGE_MS), NOW);
        assert_eq!(event_time(year_ago, NOW, MAX_IMPORT_AGE_MS), year_ago);
    }

    #[test]
    fn props_meet_the_sdks_privacy_policy_whoever_sends_them() {
        let mut e = event();
        e["name"] = json!("purchase");
        e["props"] = json!({
            "password": "hunter2", "api_key": "k-123", "pan": 4111111111111111_u64,
            "pan19": 6011000000000000001_u64,
            "c1": "4111 1111 1111 1111", "c2": "4111-1111-1111-1111", "c3": "4111.1111.1111.1111",
            "e1": "jane@example%2Ecom", "e2": "jane%2540example.com", "e3": "jane＠example.com",
            "tel": "+44 20 7946 0958", "jane@example.com": 1,
            "sku": "SKU-4006381333931", "order_id": "ORD-2026-000123", "price": 24.5,
            "ts": 1764000000000_u64, "big": 4111111111111112_u64, "currency": "eur", "ok": true
        });
        let v = check(&e).unwrap();
        let keys: Vec<_> = v.props.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            ["big", "currency", "ok", "order_id", "price", "sku", "ts"]
        );
        assert!(v
            .props
            .contains(&("currency".into(), PropValue::Str("EUR".into()))));
    }

    #[test]
    fn props_keep_scalars_and_drop_the_rest() {
        let mut e = event();
        let long = "x".repeat(MAX_PROP_VALUE_LEN + 10);
        e["props"] = json!({"a": "s", "b": 2.5, "c": true, "d": {"nested": 1}, "e": [1], "f": long, "jane@example.com": 1});
        let v = check(&e).unwrap();
        let keys: Vec<_> = v.props.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["a", "b", "c", "f"]);
        assert!(matches!(&v.props[3].1, PropValue::Str(s) if s.len() == MAX_PROP_VALUE_LEN));
    }
}
