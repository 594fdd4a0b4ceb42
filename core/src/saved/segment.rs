//! Segments: a saved filter tree, checked with the query language's own parser and rules, and put
//! in place of `["is", "segment", [ids]]` in a query.
//!
//! Input: a body's fields or a stored definition; a parsed [`Request`] and the site's segments it
//! names. Output: a [`Segment`]; the request with every segment replaced by its filters and checked
//! again. Must not: let a segment hold a segment (nothing to recurse into, nothing to bound), or
//! keep a clause the collector would never store.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::{known_keys, name, read_stored, required, Kind};
use crate::query::{
    parse_filters, DateRange, Dimension, ErrorKind, Filter, Include, Metric, Pagination,
    QueryError, Request,
};

/// Most filter nodes a query may hold once its segments are replaced (a query holds at most
/// [`crate::query::MAX_FILTER_NODES`] as sent, and so does each segment). Nesting needs no bound
/// of its own: a segment is at most [`crate::query::MAX_FILTER_DEPTH`] deep and stands where a
/// query's leaf stood, under at most an `or` and an `and`.
pub const MAX_EXPANDED_FILTER_NODES: usize = 1_000;

/// A segment: a name, and filters that a query's top-level `filters` could hold (an implicit
/// `and`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// Its name.
    pub name: String,
    /// Its filters: at least one; none of them a segment.
    pub filters: Vec<Filter>,
}

impl Segment {
    /// Reads `{"name", "filters"}`.
    pub(super) fn read(fields: &Map<String, Value>) -> Result<Segment, QueryError> {
        known_keys(Kind::Segment, "#", fields, &["name", "filters"], "segment")?;
        let name = name(Kind::Segment, fields)?;
        let filters = match fields.get("filters") {
            Some(v) => filters(v)?,
            None => return Err(required(Kind::Segment, "filters")),
        };
        Ok(Segment { name, filters })
    }

    /// Segment `id` as stored: its name and definition, read by the rules of today's build (a
    /// segment saved under older rules that no longer holds is refused, naming it).
    pub fn stored(id: u64, name: &str, definition: &str) -> Result<Segment, QueryError> {
        read_stored(Kind::Segment, id, name, definition, Segment::read)
    }
}

fn filter_err(message: String) -> QueryError {
    QueryError::new(ErrorKind::InvalidFilters, message)
}

/// A segment's filters: the query's parser and limits, no segment inside, nothing the collector
/// never stores, and the query's rules for filters at the top level of a query.
fn filters(v: &Value) -> Result<Vec<Filter>, QueryError> {
    let filters = parse_filters(v)?;
    if filters.is_empty() {
        return Err(filter_err(
            "#/filters: Expected a minimum of 1 items but got 0: a segment holds at least one filter."
                .into(),
        ));
    }
    for (i, f) in filters.iter().enumerate() {
        let mut nested = false;
        let mut never_stored = None;
        f.walk(&mut |leaf, _, _| match leaf {
            Filter::Segment(_) => nested = true,
            Filter::Condition(c)
                if never_stored.is_none() && !storable(&c.dimension, &c.clauses) =>
            {
                never_stored = Some(c.dimension.clone())
            }
            _ => {}
        });
        if nested {
            return Err(filter_err(format!(
                "#/filters/{i}: Invalid filters. A segment cannot contain a segment; put that \
                 segment's filters here instead."
            )));
        }
        if let Some(dimension) = never_stored {
            return Err(filter_err(format!(
                "#/filters/{i}: Invalid filters. The filter on `{dimension}` names a secret prop, or \
                 a clause looks like an email address, a card or a phone number: the collector never \
                 stores those, so it could match nothing, and a segment does not keep it."
            )));
        }
    }
    // Every rule a query's filters meet, with these as a query's top-level filters.
    let alone = Request {
        site_id: String::new(),
        metrics: vec![Metric::Visitors],
        date_range: DateRange::Day,
        dimensions: Vec::new(),
        filters,
        order_by: None,
        include: Include::default(),
        pagination: Pagination::default(),
        funnel: None,
    };
    alone.check()?;
    Ok(alone.filters)
}

/// False when the collector never stores what the condition names: a prop key that is a secret
/// or a contact detail, or a clause holding PII (the privacy policy's rules).
fn storable(dimension: &Dimension, clauses: &[String]) -> bool {
    let secret_key = match dimension {
        Dimension::Prop(key) => {
            crate::privacy::is_sensitive_key(key) || crate::privacy::contains_pii(key)
        }
        _ => false,
    };
    !secret_key && !clauses.iter().any(|c| crate::privacy::contains_pii(c))
}

/// Replaces every `["is", "segment", [ids]]` of the request's filters with those segments'
/// filters (one segment: its filters, an `and`; several: an `or` of them), then checks the request
/// again ([`Request::check`]). A segment that is a whole top-level filter by itself stands as its
/// filters at the top level, so its `event:goal` filters stay where the rules allow them.
/// `saved` holds the site's segments, at least those the request names; an id not in it is
/// refused, naming it. Run it before [`Request::resolve`].
pub fn expand(req: Request, saved: &BTreeMap<u64, Segment>) -> Result<Request, QueryError> {
    let mut named: Vec<u64> = Vec::new();
    for f in &req.filters {
        for id in f.segments() {
            if !named.contains(&id) {
                named.push(id);
            }
        }
    }
    if named.is_empty() {
        return Ok(req);
    }
    let missing: Vec<u64> = named
        .iter()
        .copied()
        .filter(|id| !saved.contains_key(id))
        .collect();
    if !missing.is_empty() {
        return Err(unknown(&missing));
    }
    let mut req = req;
    let mut filters = Vec::with_capacity(req.filters.len());
    for f in std::mem::take(&mut req.filters) {
        match f {
            Filter::Segment(ids) => match distinct(&ids).as_slice() {
                [one] => filters.extend(lookup(saved, *one)?.iter().cloned()),
                _ => filters.push(replace(Filter::Segment(ids), saved)?),
            },
            other => filters.push(replace(other, saved)?),
        }
    }
    let nodes: usize = filters.iter().map(count).sum();
    let ids = segments_named(&named);
    if nodes > MAX_EXPANDED_FILTER_NODES {
        return Err(filter_err(format!(
            "Invalid filters. With {ids} in place, the query holds {nodes} filters; at most \
             {MAX_EXPANDED_FILTER_NODES}."
        )));
    }
    req.filters = filters;
    req.check()
        .map_err(|e| QueryError::new(e.kind(), format!("With {ids} in place: {}", e.message())))?;
    Ok(req)
}

fn lookup(saved: &BTreeMap<u64, Segment>, id: u64) -> Result<&[Filter], QueryError> {
    saved
        .get(&id)
        .map(|s| s.filters.as_slice())
        .ok_or_else(|| unknown(&[id]))
}

/// The error for ids the site has no segment for.
fn unknown(ids: &[u64]) -> QueryError {
    filter_err(format!(
        "Invalid filters. This site has no {}.",
        segments_named(ids)
    ))
}

/// "segment 3", "segments 3, 4".
fn segments_named(ids: &[u64]) -> String {
    let list: Vec<String> = ids.iter().map(u64::to_string).collect();
    match list.len() {
        1 => format!("segment {}", list.join("")),
        _ => format!("segments {}", list.join(", ")),
    }
}

/// The ids, each once, in order.
fn distinct(ids: &[u64]) -> Vec<u64> {
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        if !out.contains(id) {
            out.push(*id);
        }
    }
    out
}

/// The tree with its segments replaced.
fn replace(f: Filter, saved: &BTreeMap<u64, Segment>) -> Result<Filter, QueryError> {
    let all = |children: Vec<Filter>| {
        children
            .into_iter()
            .map(|c| replace(c, saved))
            .collect::<Result<Vec<_>, _>>()
    };
    Ok(match f {
        Filter::Segment(ids) => {
            let mut trees = distinct(&ids)
                .into_iter()
                .map(|id| {
                    let filters = lookup(saved, id)?;
                    Ok(match filters {
                        [one] => one.clone(),
                        many => Filter::And(many.to_vec()),
                    })
                })
                .collect::<Result<Vec<_>, QueryError>>()?;
            match trees.len() {
                1 => trees.remove(0),
                _ => Filter::Or(trees),
            }
        }
        Filter::And(children) => Filter::And(all(children)?),
        Filter::Or(children) => Filter::Or(all(children)?),
        Filter::Not(child) => Filter::Not(Box::new(replace(*child, saved)?)),
        Filter::HasDone(child) => Filter::HasDone(Box::new(replace(*child, saved)?)),
        Filter::HasNotDone(child) => Filter::HasNotDone(Box::new(replace(*child, saved)?)),
        leaf @ Filter::Condition(_) => leaf,
    })
}

/// The nodes of a tree, counted as the parser counts them.
fn count(f: &Filter) -> usize {
    1 + match f {
        Filter::And(children) | Filter::Or(children) => children.iter().map(count).sum(),
        Filter::Not(child) | Filter::HasDone(child) | Filter::HasNotDone(child) => count(child),
        Filter::Condition(_) | Filter::Segment(_) => 0,
    }
}
