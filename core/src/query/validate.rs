//! Query rules: what may go with what across a [`Request`]'s keys.
//!
//! Input: a parsed [`Request`]. Output: `Ok`, or the first broken rule as a [`QueryError`] in
//! Plausible's wording. The rules are Plausible's Stats API v2 rules (its docs and query
//! validation), checked in its order, then Sightline's own (`event:internal`, funnels). Must not:
//! check what needs the site's stored data (configured goals, segments' contents, revenue
//! currencies): a later stage does, with the site.

use super::*;

type Result = std::result::Result<(), QueryError>;

/// Dimensions Plausible filters at the top level only (outside `has_done`/`has_not_done`).
const TOP_LEVEL_ONLY: &[Dimension] = &[Dimension::Goal, Dimension::Hostname];

/// Checks every rule; the first broken one is the error.
pub(super) fn check(req: &Request) -> Result {
    order_by(req)?;
    filter_placement(req)?;
    filter_values(req)?;
    for metric in &req.metrics {
        metric_needs(*metric, req)?;
    }
    scopes(req)?;
    include(req)?;
    funnel(req)
}

/// Every condition and segment of the top-level filters: (leaf, depth, behavioral nesting).
fn leaves(req: &Request) -> Vec<(&Filter, usize, usize)> {
    let mut out = Vec::new();
    for f in &req.filters {
        f.walk(&mut |leaf, depth, behavioral| out.push((leaf, depth, behavioral)));
    }
    out
}

/// The conditions outside `has_done`/`has_not_done`, with their depth.
fn plain_conditions(req: &Request) -> Vec<(&Condition, usize)> {
    leaves(req)
        .into_iter()
        .filter_map(|(leaf, depth, behavioral)| match leaf {
            Filter::Condition(c) if behavioral == 0 => Some((c, depth)),
            _ => None,
        })
        .collect()
}

fn filtered_on(req: &Request, dimension: &Dimension) -> bool {
    plain_conditions(req)
        .iter()
        .any(|(c, _)| &c.dimension == dimension)
}

fn order_by(req: &Request) -> Result {
    let Some(entries) = &req.order_by else {
        return Ok(());
    };
    for (i, (key, dir)) in entries.iter().enumerate() {
        let (name, queried) = match key {
            SortKey::Metric(m) => (m.name().into(), req.metrics.contains(m)),
            SortKey::Dimension(d) => (d.name(), req.dimensions.contains(d)),
        };
        let dir = match dir {
            Direction::Asc => "asc",
            Direction::Desc => "desc",
        };
        let entry = format!("[\"{name}\",\"{dir}\"]");
        if !queried {
            return Err(QueryError::new(
                ErrorKind::InvalidOrderBy,
                format!(
                    "Invalid order_by entry {entry}. Entry is not a queried metric or dimension."
                ),
            ));
        }
        if entries[..i].iter().any(|(k, _)| k == key) {
            return Err(QueryError::new(
                ErrorKind::InvalidOrderBy,
                format!("Invalid order_by entry {entry}. `{name}` is ordered by twice."),
            ));
        }
    }
    Ok(())
}

fn filter_err(message: impl Into<String>) -> QueryError {
    QueryError::new(ErrorKind::InvalidFilters, message)
}

/// Where filters may stand: goal and hostname at the top level; custom properties at the top
/// level when conversion rates are asked; behavioral filters not nested, and holding event
/// dimensions only.
fn filter_placement(req: &Request) -> Result {
    for (c, depth) in plain_conditions(req) {
        if depth > 0 && TOP_LEVEL_ONLY.contains(&c.dimension) {
            return Err(filter_err(format!(
                "Invalid filters. Dimension `{}` can only be filtered at the top level.",
                c.dimension
            )));
        }
    }
    let rates = req
        .metrics
        .iter()
        .any(|m| matches!(m, Metric::ConversionRate | Metric::GroupConversionRate));
    let deep_prop = leaves(req).iter().any(|(leaf, depth, _)| {
        *depth > 0
            && matches!(leaf, Filter::Condition(c) if matches!(c.dimension, Dimension::Prop(_)))
    });
    if rates && deep_prop {
        return Err(filter_err(
            "Invalid filters. When `conversion_rate` or `group_conversion_rate` metrics are used, \
             custom property filters can only be used on top level.",
        ));
    }
    for (leaf, _, behavioral) in leaves(req) {
        if behavioral > 1 {
            return Err(filter_err(
                "Invalid filters. Behavioral filters (has_done, has_not_done) cannot be nested.",
            ));
        }
        let event = matches!(leaf, Filter::Condition(c) if c.dimension.scope() == Scope::Event);
        if behavioral == 1 && !event {
            return Err(filter_err(
                "Invalid filters. Behavioral filters (has_done, has_not_done) can only be used \
                 with event dimension filters.",
            ));
        }
    }
    Ok(())
}

/// Which operators and values a dimension takes.
fn filter_values(req: &Request) -> Result {
    for (leaf, _, _) in leaves(req) {
        let Filter::Condition(c) = leaf else { continue };
        match c.dimension {
            Dimension::Goal if !matches!(c.op, Op::Is | Op::Contains) => {
                return Err(filter_err(format!(
                    "Invalid filters. Only `is` and `contains` can filter `event:goal` (not `{}`).",
                    c.op.name()
                )))
            }
            Dimension::Internal
                if !matches!(c.op, Op::Is | Op::IsNot)
                    || c.clauses.iter().any(|v| v != "true" && v != "false") =>
            {
                return Err(filter_err(
                    "Invalid filters. `event:internal` is filtered with `is` or `is_not` and the \
                     clauses \"true\" (staff traffic) or \"false\" (customers').",
                ))
            }
            Dimension::Country
                if matches!(c.op, Op::Is | Op::IsNot)
                    && c.clauses.iter().any(|v| v.chars().count() != 2) =>
            {
                return Err(filter_err(
                    "Invalid visit:country filter, visit:country needs to be a valid 2-letter \
                     country code.",
                ))
            }
            _ => {}
        }
    }
    Ok(())
}

fn metric_err(message: String) -> QueryError {
    QueryError::new(ErrorKind::InvalidMetrics, message)
}

/// What a metric needs from the rest of the query.
fn metric_needs(metric: Metric, req: &Request) -> Result {
    let grouped_by = |d: &Dimension| req.dimensions.contains(d);
    match metric {
        Metric::ConversionRate | Metric::GroupConversionRate
            if !grouped_by(&Dimension::Goal) && !filtered_on(req, &Dimension::Goal) =>
        {
            Err(metric_err(format!(
                "Metric `{metric}` can only be queried with event:goal filters or dimensions."
            )))
        }
        Metric::ScrollDepth
            if !grouped_by(&Dimension::Page)
                && !plain_conditions(req)
                    .iter()
                    .any(|(c, depth)| *depth == 0 && c.dimension == Dimension::Page) =>
        {
            Err(metric_err(format!(
                "Metric `{metric}` can only be queried with event:page filters or dimensions."
            )))
        }
        Metric::TimeOnPage
            if !grouped_by(&Dimension::Page) && !filtered_on(req, &Dimension::Page) =>
        {
            Err(metric_err(format!(
                "Metric `{metric}` can only be queried with event:page filters or dimensions."
            )))
        }
        Metric::ViewsPerVisit if filtered_on(req, &Dimension::Page) => Err(metric_err(format!(
            "Metric `{metric}` cannot be queried with a filter on `event:page`."
        ))),
        Metric::ViewsPerVisit if !req.dimensions.is_empty() => Err(metric_err(format!(
            "Metric `{metric}` cannot be queried with `dimensions`."
        ))),
        Metric::Percentage if req.dimensions.is_empty() => Err(metric_err(format!(
            "Metric `{metric}` requires non-empty `dimensions`."
        ))),
        _ => Ok(()),
    }
}

/// Session-only metrics do not go with event-only dimensions (except `event:page` alone), nor
/// event-only metrics with session-only dimensions.
fn scopes(req: &Request) -> Result {
    let metrics = |scope| -> Vec<String> {
        req.metrics
            .iter()
            .filter(|m| m.scope() == scope)
            .map(|m| format!("`{m}`"))
            .collect()
    };
    let dimensions = |scope| -> Vec<String> {
        req.dimensions
            .iter()
            .filter(|d| d.scope() == scope)
            .map(|d| format!("`{d}`"))
            .collect()
    };
    let (event_metrics, session_metrics) = (metrics(Scope::Event), metrics(Scope::Session));
    let (event_dims, session_dims) = (dimensions(Scope::Event), dimensions(Scope::Session));
    if event_dims == ["`event:page`"] {
        return Ok(());
    }
    if !session_metrics.is_empty() && !event_dims.is_empty() {
        return Err(metric_err(format!(
            "Session metric(s) {} cannot be queried along with event dimension(s) {}",
            session_metrics.join(", "),
            event_dims.join(", ")
        )));
    }
    if !event_metrics.is_empty() && !session_dims.is_empty() {
        return Err(metric_err(format!(
            "Event metric(s) {} cannot be queried along with session dimension(s) {}",
            event_metrics.join(", "),
            session_dims.join(", ")
        )));
    }
    Ok(())
}

fn include(req: &Request) -> Result {
    if req.include.time_labels && !req.dimensions.iter().any(Dimension::is_time) {
        return Err(QueryError::new(
            ErrorKind::InvalidInclude,
            "Invalid include.time_labels: requires a time dimension.",
        ));
    }
    Ok(())
}

/// A funnel query answers the funnel's steps: no dimensions, no ordering, and `visitors` (each
/// step's) as its only metric, which may be left out.
fn funnel(req: &Request) -> Result {
    if req.funnel.is_none() {
        return Ok(());
    }
    let err = |m: &str| Err(QueryError::new(ErrorKind::InvalidFunnel, m));
    if !req.dimensions.is_empty() {
        return err("A funnel query takes no `dimensions`: its rows are the funnel's steps.");
    }
    if req.order_by.is_some() {
        return err(
            "A funnel query takes no `order_by`: its rows are the funnel's steps in order.",
        );
    }
    if req.metrics.iter().any(|m| *m != Metric::Visitors) {
        return err("A funnel query answers `visitors` per step; leave `metrics` out or ask for [\"visitors\"].");
    }
    Ok(())
}
