//! Wire format v1: the one contract between the SDK and the collector (see `docs/PROTOCOL.md`).
//!
//! Input: the raw body bytes of `POST /api/collect`. Output: a [`RawBeacon`] whose events are each
//! validated on their own into a [`ValidEvent`] or a [`DropReason`], so one bad event never costs the
//! good events of the same batch. A body that is not a beacon at all is a [`WireError`] (a 4xx).
//! Field names, limits and the checks both sides share live here once; the SDK builds its payload
//! from these constants. The collector's parser is `wire/parse.rs` (feature `server`).
//! Must not: read the clock (the receive time is an argument), or know about sites or storage.

use alloc::format;
use alloc::string::String;

/// The wire format version this build speaks.
pub const VERSION: u32 = 1;
/// Largest accepted request body, in bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Largest payload the SDK puts in one beacon (under `sendBeacon`'s 64 KiB).
pub const SDK_MAX_PAYLOAD_BYTES: usize = 60 * 1024;
/// Most events in one batch.
pub const MAX_EVENTS: usize = 100;
/// Longest site id, visitor id, session id or event id.
pub const MAX_ID_LEN: usize = 64;
/// Longest event name.
pub const MAX_NAME_LEN: usize = 120;
/// Longest page or referrer URL.
pub const MAX_URL_LEN: usize = 2048;
/// Largest count of lost events one beacon may report (more is read as this many).
pub const MAX_LOST: u32 = 1_000_000;
/// Most props on one event; extra props are dropped.
pub const MAX_PROPS: usize = 30;
/// Longest prop key.
pub const MAX_PROP_KEY_LEN: usize = 64;
/// Longest string prop value; longer values are cut.
pub const MAX_PROP_VALUE_LEN: usize = 500;
/// How far in the past a client timestamp is trusted (offline replays), in ms: 7 days.
pub const MAX_CLIENT_AGE_MS: i64 = 7 * 24 * 3600 * 1000;
/// How old an event a server-side sender holding the site's write token may send (a backfill or an
/// import of history).
pub const MAX_IMPORT_AGE_MS: i64 = 400 * 24 * 3600 * 1000;
/// How far in the future a client timestamp is tolerated (clock skew), in ms: 5 minutes.
pub const MAX_CLIENT_SKEW_MS: i64 = 5 * 60 * 1000;
/// The event name of a pageview.
pub const PAGEVIEW: &str = "pageview";

/// Field names of the beacon envelope and of each event, exactly as they travel.
pub mod field {
    /// Envelope: wire format version (number).
    pub const VERSION: &str = "v";
    /// Envelope: site id (string).
    pub const SITE: &str = "site";
    /// Envelope: the SDK's random visitor id (string, absent in strict mode).
    pub const VISITOR_ID: &str = "visitor_id";
    /// Envelope: the SDK's session id (string, absent in strict mode).
    pub const SESSION_ID: &str = "session_id";
    /// Envelope: the site's own id for a signed-in user, set by `identify()` (string, optional).
    pub const USER_ID: &str = "user_id";
    /// Envelope: the batch (array of events).
    pub const EVENTS: &str = "events";
    /// Envelope: events this browser's outbox dropped unsent (full while offline) since its last
    /// confirmed batch (non-negative integer, optional; anything else is ignored).
    pub const LOST: &str = "lost";
    /// Event: client-made unique id (string).
    pub const ID: &str = "id";
    /// Event: client time in ms since the Unix epoch (integer).
    pub const TS: &str = "ts";
    /// Event: name; `pageview` for pageviews (string).
    pub const NAME: &str = "name";
    /// Event: the page URL, already scrubbed by the SDK (string).
    pub const URL: &str = "url";
    /// Event: the referrer URL, if any (string).
    pub const REFERRER: &str = "referrer";
    /// Event: custom properties (object of string, number or boolean).
    pub const PROPS: &str = "props";
}

/// True for ids the wire accepts: 1..=64 characters of `[A-Za-z0-9_-.:]`.
pub fn is_valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':'))
}

/// True for user ids `identify()` accepts: a wire id that is not shaped like a phone number (7–15
/// digits) or a card number; emails never are wire ids (`@` is not allowed). The SDK and the
/// collector must agree exactly (a refused `user_id` refuses the whole body), so only rules that
/// the SDK's build applies too are used here.
pub fn is_valid_user_id(id: &str) -> bool {
    let phone_like = (7..=15).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_digit());
    is_valid_id(id) && !phone_like && !crate::privacy::has_card_number(id.as_bytes())
}

/// True for event names the wire accepts: 1..=120 printable characters, no control characters,
/// no PII ([`crate::privacy::contains_pii`]: a name is stored as it is).
pub fn is_valid_event_name(name: &str) -> bool {
    // `name.trim() == name` and no `char::is_control`, checked on bytes: no UTF-8 decoding or
    // generic trimming code in the SDK's wasm. (A test compares both rules on every character.)
    let edge_space = SPACES
        .iter()
        .any(|space| name.starts_with(space) || name.ends_with(space));
    !name.is_empty()
        && !edge_space
        && name.len() <= MAX_NAME_LEN
        && !has_control(name)
        && !crate::privacy::contains_pii(name)
}

/// The Unicode `White_Space` characters that are not control characters (those are refused anyway).
const SPACES: [&str; 19] = [
    " ", "\u{a0}", "\u{1680}", "\u{2000}", "\u{2001}", "\u{2002}", "\u{2003}", "\u{2004}",
    "\u{2005}", "\u{2006}", "\u{2007}", "\u{2008}", "\u{2009}", "\u{200a}", "\u{2028}", "\u{2029}",
    "\u{202f}", "\u{205f}", "\u{3000}",
];

/// True when `text` holds a control character (`char::is_control`: U+0000–U+001F, U+007F–U+009F).
fn has_control(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.iter().enumerate().any(|(i, &b)| {
        b < 0x20 || b == 0x7f || (b == 0xc2 && bytes.get(i + 1).is_some_and(|&n| n < 0xa0))
    })
}

/// True for page URLs the wire accepts: `http(s)://host/...` within [`MAX_URL_LEN`].
pub fn is_valid_page_url(url: &str) -> bool {
    url.len() <= MAX_URL_LEN
        && crate::scrub::split_url(url).is_some_and(|parts| !parts.host.is_empty())
}

/// Why a whole body is refused (answered 4xx; nothing in it is counted).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WireError {
    /// The body is not JSON, or not an object of the beacon's shape.
    MalformedJson(String),
    /// `v` is missing or not a version this build speaks.
    UnsupportedVersion,
    /// `site` is missing or not a valid id.
    InvalidSite,
    /// `visitor_id`, `session_id` or `user_id` is present but not a valid id.
    InvalidVisitor,
    /// `events` is empty.
    EmptyBatch,
    /// `events` has more than [`MAX_EVENTS`] entries.
    TooManyEvents(usize),
}

impl WireError {
    /// The stable machine-readable code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            WireError::MalformedJson(_) => "malformed_json",
            WireError::UnsupportedVersion => "unsupported_version",
            WireError::InvalidSite => "invalid_site",
            WireError::InvalidVisitor => "invalid_visitor",
            WireError::EmptyBatch => "empty_batch",
            WireError::TooManyEvents(_) => "too_many_events",
        }
    }

    /// A sentence for a human saying what is wrong.
    pub fn message(&self) -> String {
        match self {
            WireError::MalformedJson(detail) => format!("body is not a valid beacon: {detail}"),
            WireError::UnsupportedVersion => format!("field `v` must be {VERSION}"),
            WireError::InvalidSite => {
                "field `site` must be an id of 1-64 characters [A-Za-z0-9_-.:]".into()
            }
            WireError::InvalidVisitor => {
                "fields `visitor_id`, `session_id` and `user_id` must be ids of 1-64 characters when present"
                    .into()
            }
            WireError::EmptyBatch => "field `events` must hold at least one event".into(),
            WireError::TooManyEvents(n) => {
                format!("field `events` holds {n} events; at most {MAX_EVENTS} are allowed")
            }
        }
    }
}

/// Why one event of a batch was dropped. Closed: every drop is one of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DropReason {
    /// The event is not an object.
    NotAnObject,
    /// `id` missing or not a valid id.
    InvalidId,
    /// `ts` missing or not an integer.
    InvalidTimestamp,
    /// `name` missing, empty, too long or with control characters.
    InvalidName,
    /// `url` missing, not http(s), or too long.
    InvalidUrl,
    /// The same event id twice in one beacon (across beacons, storage keeps each id once).
    Duplicate,
    /// Sent by a bot or crawler (its user agent is on the `isbot` list).
    Bot,
    /// The event's page (`url`) is not on one of the site's domains or their subdomains.
    ForeignHost,
}

impl DropReason {
    /// The stable machine-readable code of this reason.
    pub fn code(self) -> &'static str {
        match self {
            DropReason::NotAnObject => "not_an_object",
            DropReason::InvalidId => "invalid_id",
            DropReason::InvalidTimestamp => "invalid_timestamp",
            DropReason::InvalidName => "invalid_name",
            DropReason::InvalidUrl => "invalid_url",
            DropReason::Duplicate => "duplicate",
            DropReason::Bot => "bot",
            DropReason::ForeignHost => "foreign_host",
        }
    }
}

#[cfg(feature = "server")]
mod parse;
#[cfg(feature = "server")]
pub use parse::*;
