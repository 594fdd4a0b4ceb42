//! Query parsing: a `POST /api/v2/query` body read into a [`Request`].
//!
//! Input: the body's bytes (at most [`MAX_BODY_BYTES`]) or a `serde_json::Value`. Output: a
//! [`Request`] whose every key has its closed type, checked by [`Request::check`]; or a
//! [`QueryError`] whose message starts with a JSON pointer to the fault (`#/filters/0/2: ...`),
//! worded as Plausible's schema errors are. Must not: recurse without a bound (filter nesting is
//! counted before descending, and `serde_json` stops at 128 levels), accept a key it does not
//! know, or quote unbounded input back.

use super::*;
use serde_json::{Map, Value};

type Result<T> = std::result::Result<T, QueryError>;

/// The keys a query may have.
pub(super) const KEYS: &[&str] = &[
    "site_id",
    "metrics",
    "date_range",
    "dimensions",
    "filters",
    "order_by",
    "include",
    "pagination",
    "funnel",
];

/// Longest quote of the input in a message, in bytes.
const QUOTE_LEN: usize = 120;

/// Parses and checks a query body.
pub fn parse(body: &[u8]) -> Result<Request> {
    parse_value(&json(body, MAX_BODY_BYTES, "query body")?)
}

/// A body of at most `max` bytes read as JSON (also `crate::saved`'s bodies); `what` names it in
/// the message.
pub(crate) fn json(body: &[u8], max: usize, what: &str) -> Result<Value> {
    if body.len() > max {
        return Err(QueryError::new(
            ErrorKind::InvalidJson,
            format!("The {what} is over {max} bytes."),
        ));
    }
    serde_json::from_slice(body)
        .map_err(|e| QueryError::new(ErrorKind::InvalidJson, format!("Invalid JSON: {e}.")))
}

/// Parses and checks a query already read as JSON.
pub fn parse_value(value: &Value) -> Result<Request> {
    let Value::Object(fields) = value else {
        return Err(query_err("#: The query must be a JSON object."));
    };
    if let Some(key) = fields.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Err(query_err(format!(
            "#/{}: Unknown key. A query takes {}.",
            step(key),
            KEYS.join(", ")
        )));
    }
    let funnel = match fields.get("funnel") {
        None | Some(Value::Null) => None,
        Some(v) => Some(id(v).ok_or_else(|| {
            QueryError::new(
                ErrorKind::InvalidFunnel,
                format!(
                    "#/funnel: Invalid funnel {}: a funnel id is a positive integer.",
                    quote(v)
                ),
            )
        })?),
    };
    let site_id = match fields.get("site_id") {
        Some(Value::String(s)) if !s.is_empty() && s.len() <= MAX_SITE_ID_LEN => s.clone(),
        Some(v) => {
            return Err(query_err(format!(
            "#/site_id: Invalid site_id {}: a non-empty string of at most {MAX_SITE_ID_LEN} bytes.",
            quote(v)
        )))
        }
        None => return Err(required("site_id")),
    };
    let metrics = match fields.get("metrics") {
        Some(v) => metrics(v, funnel.is_some())?,
        None if funnel.is_some() => Vec::new(),
        None => return Err(required("metrics")),
    };
    let date_range = match fields.get("date_range") {
        Some(v) => date_range(v, "#/date_range")?,
        None => return Err(required("date_range")),
    };
    let request = Request {
        site_id,
        metrics,
        date_range,
        dimensions: optional(fields, "dimensions", dimensions)?.unwrap_or_default(),
        filters: optional(fields, "filters", filters)?.unwrap_or_default(),
        order_by: optional(fields, "order_by", order_by)?,
        include: optional(fields, "include", include)?.unwrap_or_default(),
        pagination: optional(fields, "pagination", pagination)?.unwrap_or_default(),
        funnel,
    };
    request.check()?;
    Ok(request)
}

/// Reads an optional key; `null` counts as absent.
fn optional<T>(
    fields: &Map<String, Value>,
    key: &str,
    read: impl FnOnce(&Value) -> Result<T>,
) -> Result<Option<T>> {
    match fields.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => read(v).map(Some),
    }
}

fn metrics(v: &Value, funnel: bool) -> Result<Vec<Metric>> {
    let err = |m: String| QueryError::new(ErrorKind::InvalidMetrics, m);
    let items = list(v, "#/metrics", Metric::ALL.len(), ErrorKind::InvalidMetrics)?;
    if items.is_empty() && !funnel {
        return Err(err(
            "#/metrics: Expected a minimum of 1 items but got 0.".into()
        ));
    }
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let metric = item
            .as_str()
            .and_then(Metric::parse)
            .ok_or_else(|| err(format!("#/metrics/{i}: Invalid metric {}", quote(item))))?;
        if out.contains(&metric) {
            return Err(err(format!(
                "#/metrics: Expected items to be unique but they were not (`{metric}` is listed twice)."
            )));
        }
        out.push(metric);
    }
    Ok(out)
}

fn dimensions(v: &Value) -> Result<Vec<Dimension>> {
    let err = |m: String| QueryError::new(ErrorKind::InvalidDimensions, m);
    let items = list(
        v,
        "#/dimensions",
        MAX_DIMENSIONS,
        ErrorKind::InvalidDimensions,
    )?;
    let mut out: Vec<Dimension> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let dimension = item.as_str().and_then(Dimension::parse).ok_or_else(|| {
            err(format!(
                "#/dimensions/{i}: Invalid dimension {}",
                quote(item)
            ))
        })?;
        if out.contains(&dimension) {
            return Err(err(format!(
                "#/dimensions: Expected items to be unique but they were not (`{dimension}` is listed twice)."
            )));
        }
        if dimension.is_time() && out.iter().any(Dimension::is_time) {
            return Err(err(format!(
                "#/dimensions/{i}: Invalid dimension {}: at most one time dimension.",
                quote(item)
            )));
        }
        out.push(dimension);
    }
    Ok(out)
}

/// Parses a filter list on its own, as a query's `filters` (messages point into `#/filters`), with
/// the same limits: a saved segment's filters. The rules across keys are [`Request::check`]'s.
pub fn parse_filters(v: &Value) -> Result<Vec<Filter>> {
    filters(v)
}

fn filters(v: &Value) -> Result<Vec<Filter>> {
    let items = list(v, "#/filters", MAX_FILTER_NODES, ErrorKind::InvalidFilters)?;
    let mut budget = MAX_FILTER_NODES;
    items
        .iter()
        .enumerate()
        .map(|(i, item)| filter(item, &format!("#/filters/{i}"), 0, &mut budget))
        .collect()
}

/// One filter tree at `depth` below the top level; `budget` counts the nodes still allowed.
fn filter(v: &Value, path: &str, depth: usize, budget: &mut usize) -> Result<Filter> {
    let err = |why: &str| filter_err(format!("{path}: Invalid filter {}{why}", quote(v)));
    if *budget == 0 {
        return Err(filter_err(format!(
            "{path}: Invalid filters. At most {MAX_FILTER_NODES} filters in a query."
        )));
    }
    *budget -= 1;
    let Some(items) = v.as_array() else {
        return Err(err(": a filter is an array."));
    };
    let Some(op) = items.first().and_then(Value::as_str) else {
        return Err(filter_err(format!(
            "{path}: Unknown operator for filter {}.",
            quote(v)
        )));
    };
    let nested = |child: &Value, child_path: String, budget: &mut usize| {
        if depth >= MAX_FILTER_DEPTH {
            return Err(filter_err(format!(
                "{path}: Invalid filters. Filters nest at most {MAX_FILTER_DEPTH} levels deep."
            )));
        }
        filter(child, &child_path, depth + 1, budget)
    };
    match op {
        "and" | "or" => {
            let children = match items.as_slice() {
                [_, Value::Array(children)] if !children.is_empty() => children,
                _ => return Err(err(": `and` and `or` take one non-empty list of filters.")),
            };
            let children = children
                .iter()
                .enumerate()
                .map(|(i, c)| nested(c, format!("{path}/1/{i}"), budget))
                .collect::<Result<Vec<_>>>()?;
            Ok(if op == "and" {
                Filter::And(children)
            } else {
                Filter::Or(children)
            })
        }
        "not" | "has_done" | "has_not_done" => {
            let [_, child] = items.as_slice() else {
                return Err(err(&format!(": `{op}` takes one filter.")));
            };
            let child = Box::new(nested(child, format!("{path}/1"), budget)?);
            Ok(match op {
                "not" => Filter::Not(child),
                "has_done" => Filter::HasDone(child),
                _ => Filter::HasNotDone(child),
            })
        }
        _ => match Op::parse(op) {
            Some(op) => condition(op, items, v, path),
            None => Err(filter_err(format!(
                "{path}: Unknown operator for filter {}.",
                quote(v)
            ))),
        },
    }
}

/// A condition `[op, dimension, clauses]` or `[op, dimension, clauses, modifiers]`, or a segment.
fn condition(op: Op, items: &[Value], whole: &Value, path: &str) -> Result<Filter> {
    let err = |why: String| filter_err(format!("{path}: Invalid filter {}{why}", quote(whole)));
    let (dimension, clauses, modifiers) = match items {
        [_, Value::String(d), Value::Array(c)] => (d.as_str(), c, None),
        [_, Value::String(d), Value::Array(c), m] => (d.as_str(), c, Some(m)),
        _ => {
            return Err(err(
                ": a filter is [operator, dimension, clauses] or [operator, dimension, clauses, modifiers]."
                    .into(),
            ))
        }
    };
    if clauses.len() > MAX_CLAUSES {
        return Err(err(format!(": at most {MAX_CLAUSES} clauses.")));
    }
    if dimension == "segment" {
        let ids: Option<Vec<u64>> = clauses.iter().map(id).collect();
        return match (op, ids, modifiers) {
            (Op::Is, Some(ids), None) if !ids.is_empty() => Ok(Filter::Segment(ids)),
            _ => Err(err(
                ": segments are filtered as [\"is\", \"segment\", [segment ids]].".into(),
            )),
        };
    }
    let dimension = match Dimension::parse(dimension) {
        Some(d) if d.is_time() => {
            return Err(err(
                ": time dimensions cannot be filtered; set `date_range` instead.".into(),
            ))
        }
        Some(d) => d,
        None => {
            return Err(err(format!(
                ": no dimension is called {}.",
                quote_str(dimension)
            )))
        }
    };
    let case_sensitive = match modifiers {
        None => true,
        Some(Value::Object(m)) if m.is_empty() => true,
        Some(Value::Object(m)) => match (m.len(), m.get("case_sensitive")) {
            (1, Some(Value::Bool(b))) => *b,
            _ => {
                return Err(err(
                    ": the only modifier is {\"case_sensitive\": true or false}.".into(),
                ))
            }
        },
        Some(_) => return Err(err(": modifiers are an object.".into())),
    };
    // `matches` clauses are kept as text: no regex crate is in the workspace, so the stage that
    // runs the patterns compiles them, and refuses one that does not compile.
    let mut texts = Vec::with_capacity(clauses.len());
    for (i, clause) in clauses.iter().enumerate() {
        let text = match clause {
            Value::String(s) if s.len() <= MAX_CLAUSE_LEN => s.clone(),
            Value::String(_) => {
                return Err(err(format!(": clause {i} is over {MAX_CLAUSE_LEN} bytes.")))
            }
            Value::Number(n) if dimension == Dimension::City && n.is_u64() => n.to_string(),
            _ => {
                return Err(err(format!(
                    ": clause {i} must be a string{}.",
                    if dimension == Dimension::City {
                        " or a GeoName id"
                    } else {
                        ""
                    }
                )))
            }
        };
        texts.push(text);
    }
    Ok(Filter::Condition(Condition {
        op,
        dimension,
        clauses: texts,
        case_sensitive,
    }))
}

fn order_by(v: &Value) -> Result<Vec<Order>> {
    let limit = Metric::ALL.len() + MAX_DIMENSIONS;
    let items = list(v, "#/order_by", limit, ErrorKind::InvalidOrderBy)?;
    items
        .iter()
        .map(|entry| {
            let bad = || {
                QueryError::new(
                    ErrorKind::InvalidOrderBy,
                    format!("Invalid order_by entry {}.", quote(entry)),
                )
            };
            let [Value::String(key), Value::String(dir)] =
                entry.as_array().ok_or_else(bad)?.as_slice()
            else {
                return Err(bad());
            };
            let key = match Metric::parse(key) {
                Some(m) => SortKey::Metric(m),
                None => SortKey::Dimension(Dimension::parse(key).ok_or_else(bad)?),
            };
            let dir = match dir.as_str() {
                "asc" => Direction::Asc,
                "desc" => Direction::Desc,
                _ => return Err(bad()),
            };
            Ok((key, dir))
        })
        .collect()
}

fn include(v: &Value) -> Result<Include> {
    let err = |m: String| QueryError::new(ErrorKind::InvalidInclude, m);
    let Value::Object(fields) = v else {
        return Err(err(format!("Invalid include {}.", quote(v))));
    };
    let mut include = Include::default();
    for (key, value) in fields {
        let path = format!("#/include/{}", step(key));
        let flag = || match value {
            Value::Bool(b) => Ok(*b),
            other => Err(err(format!(
                "{path}: Invalid value {}: true or false.",
                quote(other)
            ))),
        };
        match key.as_str() {
            "imports" => include.imports = flag()?,
            "time_labels" => include.time_labels = flag()?,
            "total_rows" => include.total_rows = flag()?,
            "internal" => include.internal = flag()?,
            "comparisons" => include.comparisons = comparisons(value, &path)?,
            _ => {
                return Err(err(format!(
                    "{path}: Invalid include key. include takes imports, time_labels, total_rows, \
                     comparisons, internal."
                )))
            }
        }
    }
    Ok(include)
}

fn comparisons(v: &Value, path: &str) -> Result<Option<Compare>> {
    let err = |m: String| QueryError::new(ErrorKind::InvalidInclude, m);
    let fields = match v {
        Value::Null => return Ok(None),
        Value::Object(fields) => fields,
        other => {
            return Err(err(format!(
                "{path}: Invalid comparisons {}.",
                quote(other)
            )))
        }
    };
    if let Some(key) = fields
        .keys()
        .find(|k| !["mode", "date_range", "match_day_of_week"].contains(&k.as_str()))
    {
        return Err(err(format!(
            "{path}/{}: Unknown key. comparisons take mode, date_range, match_day_of_week.",
            step(key)
        )));
    }
    let match_day_of_week = match fields.get("match_day_of_week") {
        None => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => {
            return Err(err(format!(
                "{path}/match_day_of_week: Invalid value {}: true or false.",
                quote(other)
            )))
        }
    };
    let range = fields.get("date_range");
    let mode = match (fields.get("mode").and_then(Value::as_str), range) {
        (Some("previous_period"), None) => CompareMode::PreviousPeriod,
        (Some("year_over_year"), None) => CompareMode::YearOverYear,
        (Some("custom"), Some(r)) => match r {
            Value::Array(_) => CompareMode::Custom(date_range(r, &format!("{path}/date_range"))?),
            other => {
                return Err(QueryError::new(
                    ErrorKind::InvalidDateRange,
                    format!("{path}/date_range: Invalid date range {}", quote(other)),
                ))
            }
        },
        (Some("custom"), None) => {
            return Err(err(format!(
                "{path}: mode `custom` needs a date_range of two dates."
            )))
        }
        (Some("previous_period" | "year_over_year"), Some(_)) => {
            return Err(err(format!(
                "{path}/date_range: only mode `custom` takes a date_range."
            )))
        }
        _ => {
            return Err(err(format!(
                "{path}/mode: Invalid mode {}: previous_period, year_over_year or custom.",
                fields.get("mode").map_or_else(|| "(missing)".into(), quote)
            )))
        }
    };
    Ok(Some(Compare {
        mode,
        match_day_of_week,
    }))
}

fn pagination(v: &Value) -> Result<Pagination> {
    let err = |m: String| QueryError::new(ErrorKind::InvalidPagination, m);
    let Value::Object(fields) = v else {
        return Err(err(format!(
            "#/pagination: Invalid pagination {}.",
            quote(v)
        )));
    };
    let mut out = Pagination::default();
    for (key, value) in fields {
        let (slot, min, max) = match key.as_str() {
            "limit" => (&mut out.limit, 1u32, MAX_LIMIT),
            "offset" => (&mut out.offset, 0, MAX_OFFSET),
            _ => {
                return Err(err(format!(
                    "#/pagination/{}: Unknown key. pagination takes limit, offset.",
                    step(key)
                )))
            }
        };
        *slot = value
            .as_u64()
            .filter(|n| (u64::from(min)..=u64::from(max)).contains(n))
            .map(|n| n as u32)
            .ok_or_else(|| {
                err(format!(
                    "#/pagination/{key}: Invalid value {}: an integer from {min} to {max}.",
                    quote(value)
                ))
            })?;
    }
    Ok(out)
}

fn date_range(v: &Value, path: &str) -> Result<DateRange> {
    let bad = |why: &str| {
        QueryError::new(
            ErrorKind::InvalidDateRange,
            format!("{path}: Invalid date range {}{why}", quote(v)),
        )
    };
    match v {
        Value::String(s) => DateRange::shorthand(s).ok_or_else(|| {
            bad(". Use day, 24h, 7d, 28d, 30d, 91d, month, 6mo, 12mo, year, all, or two ISO 8601 dates or date-times.")
        }),
        Value::Array(pair) => match pair.as_slice() {
            [Value::String(a), Value::String(b)] => DateRange::pair(a, b).map_err(bad),
            _ => Err(bad(": two ISO 8601 dates or date-times.")),
        },
        _ => Err(bad("")),
    }
}

/// The items of an array of at most `max` items.
fn list<'v>(v: &'v Value, path: &str, max: usize, kind: ErrorKind) -> Result<&'v Vec<Value>> {
    match v {
        Value::Array(items) if items.len() <= max => Ok(items),
        Value::Array(items) => Err(QueryError::new(
            kind,
            format!(
                "{path}: Expected a maximum of {max} items but got {}.",
                items.len()
            ),
        )),
        other => Err(QueryError::new(
            kind,
            format!(
                "{path}: Type mismatch. Expected Array but got {}.",
                quote(other)
            ),
        )),
    }
}

/// A segment or funnel id: a positive integer of at most [`MAX_ID`] (also `crate::saved`'s).
pub(crate) fn id(v: &Value) -> Option<u64> {
    v.as_u64().filter(|n| (1..=MAX_ID).contains(n))
}

fn required(key: &str) -> QueryError {
    query_err(format!("#: Required property {key} was not present."))
}

fn query_err(message: impl Into<String>) -> QueryError {
    QueryError::new(ErrorKind::InvalidQuery, message)
}

fn filter_err(message: String) -> QueryError {
    QueryError::new(ErrorKind::InvalidFilters, message)
}

/// A value as compact JSON, cut to [`QUOTE_LEN`] bytes (also `crate::saved`'s messages).
pub(crate) fn quote(v: &Value) -> String {
    cut(v.to_string())
}

/// A key as a JSON string, cut to [`QUOTE_LEN`] bytes.
fn quote_str(s: &str) -> String {
    quote(&Value::String(cut(s.to_owned())))
}

/// A key as a JSON pointer's step, cut to [`QUOTE_LEN`] bytes (also `crate::saved`'s messages).
pub(crate) fn step(key: &str) -> String {
    cut(key.to_owned())
}

fn cut(mut text: String) -> String {
    if text.len() > QUOTE_LEN {
        let mut end = QUOTE_LEN;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push('…');
    }
    text
}
