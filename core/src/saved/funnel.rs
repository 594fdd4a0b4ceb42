//! Funnels: a name, 2–8 steps a visitor takes in order, and the window the steps must fall in.
//!
//! Input: a body's fields or a stored definition. Output: a [`Funnel`] whose steps say what they
//! match ([`Step::matches`]), and its canonical JSON ([`Funnel::definition`]). Must not: accept a
//! step that could match nothing the collector stores (a query string in a page, a secret prop,
//! an email), or a window longer than a visitor can be followed (one UTC day: visitor keys are
//! hashed with the day's salt).
//!
//! A step is `{"page": pattern}` or `{"event": name}`, either with `"props": {key: value, …}`.
//! A page pattern without `*` equals a stored path exactly (paths are stored scrubbed, case kept,
//! without query string or fragment). In a pattern, `*` stands for any run of characters but `/`
//! (one path segment's worth: `/blog/*` matches `/blog/` and `/blog/post`, not `/blog/a/b`) and
//! `**` for any run at all (`/blog/**` matches `/blog/a/b`; neither matches `/blog`), as page goals
//! are written in Plausible. An event step matches events of that name (case-sensitive). Each prop
//! matches an event whose prop of that key, as text (a number or boolean as JSON writes it), equals
//! the value. `within`: `"visit"` (the steps in order within one visit, the default) or
//! `{"hours": N}` (in order, the last within N hours of the first, across visits of one visitor),
//! N from 1 to [`MAX_WITHIN_HOURS`].

use serde_json::{json, Map, Value};

use super::{known_keys, name, read_stored, required, Kind};
use crate::privacy::{self, Verdict};
use crate::query::{quote, step, ErrorKind, QueryError};
use crate::wire::{self, MAX_URL_LEN};

/// Fewest steps in a funnel.
pub const MIN_STEPS: usize = 2;
/// Most steps in a funnel.
pub const MAX_STEPS: usize = 8;
/// Longest `within` window, in hours: a visitor's key lasts one UTC day (the day's salt), so a
/// longer window could not be followed.
pub const MAX_WITHIN_HOURS: u32 = 24;
/// Most props one step filters on.
pub const MAX_STEP_PROPS: usize = 10;

/// A funnel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Funnel {
    /// Its name.
    pub name: String,
    /// Its steps, in order: [`MIN_STEPS`] to [`MAX_STEPS`].
    pub steps: Vec<Step>,
    /// The window the steps must fall in.
    pub within: Within,
}

/// One step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// A page or an event.
    pub target: Target,
    /// Props the step's event must carry, each equal to its value, sorted by key.
    pub props: Vec<(String, String)>,
}

/// What a step matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A pageview of a path matching the pattern.
    Page(PagePattern),
    /// An event of this name.
    Event(String),
}

/// The window a funnel's steps must fall in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Within {
    /// In order within one visit.
    Visit,
    /// In order, the last within this many hours of the first.
    Hours(u32),
}

/// A page pattern: a path with `*` (within a path segment) and `**` (any depth) wildcards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PagePattern {
    text: String,
}

impl PagePattern {
    /// The pattern, or why it is refused.
    pub fn new(text: &str) -> Result<PagePattern, &'static str> {
        if !text.starts_with('/') {
            return Err("a page pattern is a path: it starts with `/`");
        }
        if text.len() > MAX_URL_LEN {
            return Err("a page pattern is at most 2048 bytes");
        }
        if text.contains(['?', '#']) {
            return Err("paths are stored without query string or fragment: no `?` or `#`");
        }
        if text.chars().any(char::is_control) {
            return Err("a page pattern holds no control characters");
        }
        if text.contains("***") {
            return Err("`*` matches within one path segment and `**` any depth; `***` is neither");
        }
        if privacy::contains_pii(text) {
            return Err(
                "it looks like it holds an email address, a card or a phone number, which \
                        the collector never stores in a path",
            );
        }
        Ok(PagePattern {
            text: text.to_owned(),
        })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// True when the pattern has no wildcard: it matches one path, by equality.
    pub fn is_exact(&self) -> bool {
        !self.text.contains('*')
    }

    /// True when `path` matches the pattern.
    pub fn matches(&self, path: &str) -> bool {
        if self.is_exact() {
            return self.text == path;
        }
        // The pattern as a small automaton over bytes (`/` is one byte in UTF-8, never part of
        // another character): `states[i]` is true when the path so far can have matched the
        // first `i` pieces. Time is the path's length times the pattern's; no backtracking.
        let pieces = pieces(&self.text);
        let mut states = vec![false; pieces.len() + 1];
        states[0] = true;
        skip_stars(&pieces, &mut states);
        for &b in path.as_bytes() {
            let mut next = vec![false; pieces.len() + 1];
            for (i, piece) in pieces.iter().enumerate() {
                if !states[i] {
                    continue;
                }
                match piece {
                    Piece::Byte(c) if *c == b => next[i + 1] = true,
                    Piece::Star if b != b'/' => next[i] = true,
                    Piece::AnyDepth => next[i] = true,
                    _ => {}
                }
            }
            skip_stars(&pieces, &mut next);
            if !next.contains(&true) {
                return false;
            }
            states = next;
        }
        states[pieces.len()]
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Piece {
    Byte(u8),
    /// `*`: any run of bytes but `/`.
    Star,
    /// `**`: any run of bytes.
    AnyDepth,
}

fn pieces(text: &str) -> Vec<Piece> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match (bytes[i], bytes.get(i + 1)) {
            (b'*', Some(b'*')) => {
                out.push(Piece::AnyDepth);
                i += 2;
            }
            (b'*', _) => {
                out.push(Piece::Star);
                i += 1;
            }
            (b, _) => {
                out.push(Piece::Byte(b));
                i += 1;
            }
        }
    }
    out
}

/// A wildcard may match nothing: a state before one is also a state after it.
fn skip_stars(pieces: &[Piece], states: &mut [bool]) {
    for (i, piece) in pieces.iter().enumerate() {
        if states[i] && !matches!(piece, Piece::Byte(_)) {
            states[i + 1] = true;
        }
    }
}

impl Step {
    /// True when an event (its name, its path, its props as text) matches the step. A page step
    /// matches pageviews only.
    pub fn matches(&self, name: &str, path: &str, prop: impl Fn(&str) -> Option<String>) -> bool {
        let target = match &self.target {
            Target::Page(pattern) => name == wire::PAGEVIEW && pattern.matches(path),
            Target::Event(event) => name == event,
        };
        target
            && self
                .props
                .iter()
                .all(|(key, value)| prop(key).as_deref() == Some(value.as_str()))
    }

    fn definition(&self) -> Value {
        let mut out = Map::new();
        match &self.target {
            Target::Page(p) => out.insert("page".into(), json!(p.as_str())),
            Target::Event(e) => out.insert("event".into(), json!(e)),
        };
        if !self.props.is_empty() {
            let props: Map<String, Value> = self
                .props
                .iter()
                .map(|(k, v)| (k.clone(), json!(v)))
                .collect();
            out.insert("props".into(), Value::Object(props));
        }
        Value::Object(out)
    }
}

impl Funnel {
    /// Reads `{"name", "steps", "within"?}`.
    pub(super) fn read(fields: &Map<String, Value>) -> Result<Funnel, QueryError> {
        known_keys(
            Kind::Funnel,
            "#",
            fields,
            &["name", "steps", "within"],
            "funnel",
        )?;
        let name = name(Kind::Funnel, fields)?;
        let steps = match fields.get("steps") {
            Some(Value::Array(items)) if (MIN_STEPS..=MAX_STEPS).contains(&items.len()) => items
                .iter()
                .enumerate()
                .map(|(i, item)| read_step(item, i))
                .collect::<Result<Vec<_>, _>>()?,
            Some(Value::Array(items)) => {
                return Err(err(format!(
                    "#/steps: A funnel has {MIN_STEPS} to {MAX_STEPS} steps, not {}.",
                    items.len()
                )))
            }
            Some(other) => {
                return Err(err(format!(
                    "#/steps: Type mismatch. Expected Array but got {}.",
                    quote(other)
                )))
            }
            None => return Err(required(Kind::Funnel, "steps")),
        };
        let within = match fields.get("within") {
            None => Within::Visit,
            Some(v) => read_within(v)?,
        };
        Ok(Funnel {
            name,
            steps,
            within,
        })
    }

    /// Funnel `id` as stored: its name and definition, read by the same rules as a new one.
    pub fn stored(id: u64, name: &str, definition: &str) -> Result<Funnel, QueryError> {
        read_stored(Kind::Funnel, id, name, definition, Funnel::read)
    }

    /// Everything but the name, canonical: `{"steps": […], "within": "visit" | {"hours": N}}`.
    pub fn definition(&self) -> Value {
        let within = match self.within {
            Within::Visit => json!("visit"),
            Within::Hours(n) => json!({ "hours": n }),
        };
        let steps: Vec<Value> = self.steps.iter().map(Step::definition).collect();
        json!({ "steps": steps, "within": within })
    }
}

fn err(message: String) -> QueryError {
    QueryError::new(ErrorKind::InvalidFunnel, message)
}

fn read_step(item: &Value, i: usize) -> Result<Step, QueryError> {
    let path = format!("#/steps/{i}");
    let Value::Object(fields) = item else {
        return Err(err(format!(
            "{path}: Invalid step {}: a step is an object with `page` or `event`.",
            quote(item)
        )));
    };
    known_keys(
        Kind::Funnel,
        &path,
        fields,
        &["page", "event", "props"],
        "step",
    )?;
    let target = match (fields.get("page"), fields.get("event")) {
        (Some(Value::String(p)), None) => Target::Page(PagePattern::new(p).map_err(|why| {
            err(format!(
                "{path}/page: Invalid page pattern {}: {why}.",
                quote(&Value::String(p.clone()))
            ))
        })?),
        (None, Some(Value::String(e))) if e == wire::PAGEVIEW => {
            return Err(err(format!(
                "{path}/event: A pageview step is a page step: {{\"page\": \"/path\"}} (`/**` for any page)."
            )))
        }
        (None, Some(Value::String(e))) if wire::is_valid_event_name(e) => Target::Event(e.clone()),
        (None, Some(e)) => {
            return Err(err(format!(
                "{path}/event: Invalid event name {}: 1 to {} bytes, no control characters or \
                 spaces at the ends, no email address, card or phone number (the collector's rule \
                 for event names).",
                quote(e),
                wire::MAX_NAME_LEN
            )))
        }
        (Some(p), None) => {
            return Err(err(format!(
                "{path}/page: Invalid page pattern {}: a string.",
                quote(p)
            )))
        }
        (Some(_), Some(_)) => {
            return Err(err(format!(
                "{path}: A step has `page` or `event`, not both."
            )))
        }
        (None, None) => {
            return Err(err(format!(
                "{path}: A step has `page` (a path pattern) or `event` (an event name)."
            )))
        }
    };
    let props = match fields.get("props") {
        None => Vec::new(),
        Some(v) => read_props(v, &format!("{path}/props"))?,
    };
    Ok(Step { target, props })
}

fn read_props(v: &Value, path: &str) -> Result<Vec<(String, String)>, QueryError> {
    let fields = match v {
        Value::Object(f) if (1..=MAX_STEP_PROPS).contains(&f.len()) => f,
        other => {
            return Err(err(format!(
                "{path}: Invalid props {}: an object of 1 to {MAX_STEP_PROPS} keys, each with a \
                 string value (leave props out for none).",
                quote(other)
            )))
        }
    };
    let mut out = Vec::with_capacity(fields.len());
    for (i, (key, value)) in fields.iter().enumerate() {
        let at = format!("{path}/{}", step(key));
        let Value::String(text) = value else {
            return Err(err(format!(
                "{at}: Invalid value {}: a string (a number or boolean prop matches its JSON text, \
                 \"3\" or \"true\").",
                quote(value)
            )));
        };
        match privacy::check_prop(key, privacy::Value::Str(text), i) {
            Verdict::Keep => out.push((key.clone(), text.clone())),
            Verdict::Cut(n) => {
                return Err(err(format!(
                    "{at}: The value is over {n} characters; props are stored cut to {n}, so it \
                     could match nothing."
                )))
            }
            Verdict::Drop(why) => {
                return Err(err(format!(
                    "{at}: The collector never stores this prop ({why}), so the step could match \
                     nothing."
                )))
            }
        }
    }
    out.sort();
    Ok(out)
}

fn read_within(v: &Value) -> Result<Within, QueryError> {
    let hours = match v {
        Value::String(s) if s == "visit" => return Ok(Within::Visit),
        Value::Object(f) if f.len() == 1 => f.get("hours").and_then(Value::as_u64),
        _ => None,
    };
    match hours {
        Some(n) if (1..=u64::from(MAX_WITHIN_HOURS)).contains(&n) => Ok(Within::Hours(n as u32)),
        _ => Err(err(format!(
            "#/within: Invalid within {}: \"visit\" (in order within one visit), or {{\"hours\": N}} \
             with N from 1 to {MAX_WITHIN_HOURS} (a visitor is known for one UTC day: visitor keys \
             are hashed with the day's salt).",
            quote(v)
        ))),
    }
}
