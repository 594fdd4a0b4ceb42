//! Saved: a site's segments, funnels and share links, as `POST /api/sites/{site}/segments`,
//! `…/funnels` and `…/shares` take them and as they are stored.
//!
//! Input: a request body (at most [`MAX_BODY_BYTES`]), a stored row, or an id from a URL. Output: a
//! [`Checked`] definition (its name, and the rest as canonical JSON text for the store), the JSON
//! answer for a stored one ([`view`]), or a [`QueryError`] whose message points at the fault
//! (`#/steps/1/page: …`). [`segment`] checks a segment's filters with the query language's own
//! parser and rules, and replaces segments in a query by their filters ([`expand`]); [`funnel`]
//! reads a funnel's steps and says what each matches; [`share`] reads a share link's body and
//! locks its holder's queries to its segment. Must not: touch storage, read the clock, or
//! keep text the collector would never store (an email, a card or phone number, a secret prop).

pub mod funnel;
pub mod segment;
pub mod share;

pub use funnel::Funnel;
pub use segment::{expand, Segment};

use serde_json::{json, Map, Value};

use crate::query::{quote, step, ErrorKind, QueryError, MAX_ID};

/// Largest body a segment or funnel is sent in, in bytes (the worker answers 413 past it).
pub const MAX_BODY_BYTES: usize = 16 * 1024;
/// Most segments one site keeps.
pub const MAX_SEGMENTS: usize = 500;
/// Most funnels one site keeps.
pub const MAX_FUNNELS: usize = 100;

/// Which kind of saved definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A segment: a name and a filter tree.
    Segment,
    /// A funnel: a name, 2–8 steps, an order window.
    Funnel,
}

impl Kind {
    /// The kind named by its collection in the API's path (`segments`, `funnels`).
    pub fn from_plural(name: &str) -> Option<Kind> {
        match name {
            "segments" => Some(Kind::Segment),
            "funnels" => Some(Kind::Funnel),
            _ => None,
        }
    }

    /// The collection's name: the path's segment and the list answer's key.
    pub fn plural(self) -> &'static str {
        match self {
            Kind::Segment => "segments",
            Kind::Funnel => "funnels",
        }
    }

    /// One of them, for messages.
    pub fn singular(self) -> &'static str {
        match self {
            Kind::Segment => "segment",
            Kind::Funnel => "funnel",
        }
    }

    /// How many one site keeps.
    pub fn max_per_site(self) -> usize {
        match self {
            Kind::Segment => MAX_SEGMENTS,
            Kind::Funnel => MAX_FUNNELS,
        }
    }

    fn error(self, message: impl Into<String>) -> QueryError {
        QueryError::new(self.into(), message)
    }
}

/// The error a fault in a body or id of this kind answers.
impl From<Kind> for ErrorKind {
    fn from(kind: Kind) -> ErrorKind {
        match kind {
            Kind::Segment => ErrorKind::InvalidSegment,
            Kind::Funnel => ErrorKind::InvalidFunnel,
        }
    }
}

/// A definition checked and ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    /// Its name.
    pub name: String,
    /// Everything but the name, as canonical JSON text (an object): what the store keeps and what
    /// [`Segment::stored`] and [`Funnel::stored`] read back.
    pub definition: String,
}

/// Reads and checks a body: `{"name", "filters"}` for a segment, `{"name", "steps", "within"?}`
/// for a funnel.
pub fn parse(kind: Kind, body: &[u8]) -> Result<Checked, QueryError> {
    let value = crate::query::json(body, MAX_BODY_BYTES, "body")?;
    let Value::Object(fields) = value else {
        return Err(kind.error(format!("#: A {} is a JSON object.", kind.singular())));
    };
    let (name, definition) = match kind {
        Kind::Segment => {
            let segment = Segment::read(&fields)?;
            let definition = json!({ "filters": fields.get("filters") });
            (segment.name, definition)
        }
        Kind::Funnel => {
            let funnel = Funnel::read(&fields)?;
            let definition = funnel.definition();
            (funnel.name, definition)
        }
    };
    Ok(Checked {
        name,
        definition: definition.to_string(),
    })
}

/// A segment or funnel id as a URL gives it: decimal digits, 1 to [`MAX_ID`], no sign, no leading
/// zero.
pub fn parse_id(kind: Kind, text: &str) -> Result<u64, QueryError> {
    id_in_path(kind.into(), kind.singular(), text)
}

/// An id as a URL gives it ([`parse_id`]); `what` names its kind, `error` the answer's code.
fn id_in_path(error: ErrorKind, what: &str, text: &str) -> Result<u64, QueryError> {
    let digits = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    match text.parse::<u64>() {
        Ok(n) if digits && !text.starts_with('0') && n <= MAX_ID => Ok(n),
        _ => Err(QueryError::new(
            error,
            format!(
                "Invalid {what} id {}: an id is an integer from 1 to {MAX_ID}.",
                quote(&Value::String(text.to_owned()))
            ),
        )),
    }
}

/// A definition as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// Its id (ids are never reused).
    pub id: u64,
    /// Its name.
    pub name: String,
    /// [`Checked::definition`].
    pub definition: String,
    /// When it was made, ms since the epoch.
    pub created_at: i64,
}

/// The API's answer for a stored definition: `{"id", "name", …its definition's keys, "created_at"}`.
/// A definition that cannot be read (never written so) answers without its keys.
pub fn view(stored: &Stored) -> Value {
    let mut out = match serde_json::from_str(&stored.definition) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    };
    out.insert("id".into(), json!(stored.id));
    out.insert("name".into(), json!(stored.name));
    out.insert("created_at".into(), json!(stored.created_at));
    Value::Object(out)
}

/// Refuses a key of the object at `path` (a JSON pointer) not in `keys`; `what` names the object.
fn known_keys(
    kind: impl Into<ErrorKind>,
    path: &str,
    fields: &Map<String, Value>,
    keys: &[&str],
    what: &str,
) -> Result<(), QueryError> {
    match fields.keys().find(|k| !keys.contains(&k.as_str())) {
        Some(key) => Err(QueryError::new(
            kind.into(),
            format!(
                "{path}/{}: Unknown key. A {what} takes {}.",
                step(key),
                keys.join(", ")
            ),
        )),
        None => Ok(()),
    }
}

/// The `name`: the rule for event names (1–120 bytes, printable, no spaces at its ends, nothing
/// the privacy policy calls PII), since it is stored as it is.
fn name(kind: impl Into<ErrorKind>, fields: &Map<String, Value>) -> Result<String, QueryError> {
    let kind = kind.into();
    match fields.get("name") {
        Some(Value::String(s)) if crate::wire::is_valid_event_name(s) => Ok(s.clone()),
        Some(v) => Err(QueryError::new(
            kind,
            format!(
                "#/name: Invalid name {}: 1 to {} bytes, no control characters or spaces at the \
                 ends, no email address, card or phone number.",
                quote(v),
                crate::wire::MAX_NAME_LEN
            ),
        )),
        None => Err(required(kind, "name")),
    }
}

fn required(kind: impl Into<ErrorKind>, key: &str) -> QueryError {
    QueryError::new(
        kind.into(),
        format!("#: Required property {key} was not present."),
    )
}

/// Reads definition `id` as stored, by the same code and rules as a new one (`read`, given the
/// stored object with its `name` put back): a definition saved under older rules that no longer
/// holds is refused, naming it.
fn read_stored<T>(
    kind: Kind,
    id: u64,
    name: &str,
    definition: &str,
    read: fn(&Map<String, Value>) -> Result<T, QueryError>,
) -> Result<T, QueryError> {
    let title = match kind {
        Kind::Segment => "Segment",
        Kind::Funnel => "Funnel",
    };
    let mut fields = match serde_json::from_str(definition) {
        Ok(Value::Object(fields)) => fields,
        _ => {
            return Err(kind.error(format!(
                "{title} {id} is stored unreadable; delete it and save it again."
            )))
        }
    };
    fields.insert("name".into(), Value::String(name.to_owned()));
    read(&fields).map_err(|e| {
        QueryError::new(
            e.kind(),
            format!("{title} {id} as stored no longer holds: {}", e.message()),
        )
    })
}

#[cfg(test)]
mod tests;
