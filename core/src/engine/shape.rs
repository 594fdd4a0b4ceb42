//! Stage: shape. Input: the tallies of the query's range (and of its comparison), the query.
//! Output: the answer in Plausible's shape: `results` (each row's `dimensions` and `metrics`, and
//! with comparisons its `comparison` with `change`), `meta` (time labels, total rows, what the
//! answer could not count), `query` (what was answered, ranges resolved). Metric definitions and
//! their rounding are Plausible's (docs/METRICS.md). Must not: count (the tally stage does).

use std::cmp::Ordering;
use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::filter::{without_goals, Compiled};
use super::tally::{bucket_day, date, label, Figures, Source};
use crate::query::{Dimension, Direction, Metric, Query, SortKey, Span, TimeBucket, Vital};
use crate::zone::Zone;

const HOUR_MS: i64 = 3_600_000;

/// A result row: its dimensions' values and its metrics.
type Row = (Vec<String>, Vec<Value>);

/// What shaping needs besides the tallies.
#[derive(Debug)]
pub struct Shaping<'a> {
    /// The query.
    pub query: &'a Query,
    /// Its body as sent.
    pub body: &'a Value,
    /// The site's zone.
    pub zone: Zone,
    /// The first instant raw events are kept from.
    pub kept_from: i64,
    /// Browsers' reported losses per local day.
    pub lost: &'a BTreeMap<i64, i64>,
}

/// A number as text without a needless `.0` (`3`, `2.5`).
pub fn number_text(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

fn round_to(x: f64, places: i32) -> f64 {
    let f = 10f64.powi(places);
    (x * f).round() / f
}

/// The rates' denominators for one range.
struct Bases {
    /// All visitors of the query (for `percentage`).
    total: usize,
    /// Visitors without the goal filter (for `conversion_rate`).
    converting: usize,
    /// Per group without its goal: visitors without the goal filter (`group_conversion_rate`).
    groups: BTreeMap<Vec<String>, usize>,
    /// Dimension positions kept in a group's base key (all but `event:goal`).
    kept: Vec<usize>,
    /// Reported losses in the range, when the query can be answered with them.
    lost: Option<i64>,
}

fn bases(
    src: &dyn Source,
    span: &Span,
    filter: Option<&Compiled>,
    cx: &Shaping<'_>,
) -> Result<Bases, crate::query::QueryError> {
    let q = cx.query;
    let wants = |m: Metric| q.metrics.contains(&m);
    let visitors = |f: Option<&Compiled>, dims: &[Dimension]| {
        src.groups(span, f, dims)
            .into_iter()
            .map(|(k, a)| (k, a.visitors as usize))
            .collect::<BTreeMap<_, _>>()
    };
    let total = if wants(Metric::Percentage) || wants(Metric::ConversionRate) {
        visitors(filter, &[]).values().sum()
    } else {
        0
    };
    let kept: Vec<usize> = (0..q.dimensions.len())
        .filter(|i| q.dimensions[*i] != Dimension::Goal)
        .collect();
    let base_dims: Vec<Dimension> = kept.iter().map(|i| q.dimensions[*i].clone()).collect();
    let rates = wants(Metric::ConversionRate) || wants(Metric::GroupConversionRate);
    let base_filter = match (&q.filters, rates) {
        (Some(f), true) => without_goals(f)
            .map(|f| super::filter::compile(&f))
            .transpose()?,
        _ => None,
    };
    let goal_filtered = q
        .filters
        .as_ref()
        .is_some_and(|f| f.mentions(&Dimension::Goal));
    let converting = if wants(Metric::ConversionRate) {
        if goal_filtered {
            visitors(base_filter.as_ref(), &[]).values().sum()
        } else {
            total
        }
    } else {
        0
    };
    let groups = if wants(Metric::GroupConversionRate) {
        let f = if goal_filtered {
            base_filter.as_ref()
        } else {
            filter
        };
        visitors(f, &base_dims)
    } else {
        BTreeMap::new()
    };
    let lost = (q.filters.is_none() && q.dimensions.is_empty()).then(|| {
        cx.lost
            .range(span.first_day..=span.last_day)
            .map(|(_, n)| *n)
            .sum()
    });
    Ok(Bases {
        total,
        converting,
        groups,
        kept,
        lost,
    })
}

fn percent(part: usize, whole: usize, places: i32) -> Value {
    if whole == 0 {
        json!(0.0)
    } else {
        json!(round_to(part as f64 * 100.0 / whole as f64, places))
    }
}

/// Revenue as Plausible answers it (`value`, `currency`, `short`, `long`); a range with
/// conversions in several currencies answers each apart in `by_currency` and no single value.
fn revenue(by: &BTreeMap<String, (i64, f64)>, average: bool) -> Value {
    let amount = |(n, sum): &(i64, f64)| {
        let v = if average {
            sum / (*n).max(1) as f64
        } else {
            *sum
        };
        round_to(v, 2)
    };
    match by.len() {
        0 => Value::Null,
        1 => {
            let (currency, r) = by.iter().next().unwrap_or_else(|| unreachable!());
            let v = amount(r);
            json!({"value": v, "currency": currency, "long": format!("{currency} {v:.2}"),
                   "short": format!("{currency} {}", short(v))})
        }
        _ => json!({"value": Value::Null, "currency": Value::Null,
                    "by_currency": by.iter().map(|(c, r)| (c.clone(), json!(amount(r)))).collect::<Map<_, _>>()}),
    }
}

fn short(v: f64) -> String {
    match v.abs() {
        a if a >= 1e9 => format!("{:.1}B", v / 1e9),
        a if a >= 1e6 => format!("{:.1}M", v / 1e6),
        a if a >= 1e3 => format!("{:.1}K", v / 1e3),
        _ => format!("{v:.2}"),
    }
}

/// The 75th percentile (nearest rank) of the values.
fn p75(values: &[f64]) -> Option<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = (3 * sorted.len()).div_ceil(4);
    rank.checked_sub(1).and_then(|i| sorted.get(i).copied())
}

fn metric(m: Metric, a: &Figures, key: &[String], b: &Bases) -> Value {
    let visits = a.visits as usize;
    let visitors = a.visitors as usize;
    let per_visit = |x: f64| if visits == 0 { 0.0 } else { x / visits as f64 };
    match m {
        Metric::Visitors => json!(visitors),
        Metric::Visits => json!(visits),
        Metric::Pageviews => json!(a.pageviews),
        Metric::Events => json!(a.events),
        Metric::ViewsPerVisit => json!(round_to(per_visit(a.visit_pageviews as f64), 2)),
        Metric::BounceRate => json!(per_visit(a.bounces as f64 * 100.0).round() as i64),
        Metric::VisitDuration => json!(per_visit(a.duration_ms as f64 / 1000.0).round() as i64),
        Metric::Percentage => percent(visitors, b.total, 1),
        Metric::ConversionRate => percent(visitors, b.converting, 2),
        Metric::GroupConversionRate => {
            let base: Vec<String> = b.kept.iter().map(|i| key[*i].clone()).collect();
            percent(visitors, b.groups.get(&base).copied().unwrap_or(0), 2)
        }
        Metric::TotalRevenue => revenue(&a.revenue, false),
        Metric::AverageRevenue => revenue(&a.revenue, true),
        Metric::TimeOnPage => match a.page_visits {
            0 => Value::Null,
            n => json!((a.engaged_s / n as f64).round() as i64),
        },
        Metric::ScrollDepth => match a.scroll {
            (_, 0) => Value::Null,
            (sum, n) => json!((sum / n as f64).round() as i64),
        },
        Metric::LostInBrowser => b.lost.map_or(Value::Null, |n| json!(n)),
        Metric::P75(vital) => {
            let values = a
                .vitals
                .get(vital.stored_name())
                .map_or(&[][..], Vec::as_slice);
            match (p75(values), vital) {
                (None, _) => Value::Null,
                (Some(v), Vital::Cls) => json!(round_to(v, 3)),
                (Some(v), _) => json!(v.round() as i64),
            }
        }
    }
}

fn as_number(v: &Value) -> Option<f64> {
    match v {
        Value::Object(o) => o.get("value").and_then(Value::as_f64),
        other => other.as_f64(),
    }
}

/// Plausible's change: points for rates, else percent (100 from nothing, 0 from nothing to nothing).
fn change(m: Metric, now: &Value, before: &Value) -> Value {
    let (Some(a), Some(b)) = (as_number(now), as_number(before)) else {
        return Value::Null;
    };
    match m {
        Metric::BounceRate => json!((a - b).round() as i64),
        Metric::Percentage | Metric::ConversionRate | Metric::GroupConversionRate => {
            json!(round_to(a - b, 2))
        }
        _ if b == 0.0 => json!(if a == 0.0 { 0 } else { 100 }),
        _ => json!(((a - b) / b * 100.0).round() as i64),
    }
}

/// Every time bucket's label over the span, in order.
pub fn time_labels(span: &Span, bucket: TimeBucket, zone: Zone) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |l: String| {
        if out.last() != Some(&l) {
            out.push(l);
        }
    };
    match bucket {
        TimeBucket::Hour => {
            let mut t = span.range.from;
            while t < span.range.to {
                push(label(bucket, zone, t, span.first_day));
                t += HOUR_MS;
            }
        }
        _ => {
            for day in span.first_day..=span.last_day {
                push(date(bucket_day(bucket, day).max(span.first_day)));
            }
        }
    }
    out
}

fn time_bucket(q: &Query) -> Option<(usize, TimeBucket)> {
    q.dimensions.iter().enumerate().find_map(|(i, d)| match d {
        Dimension::Time(b) => Some((i, *b)),
        _ => None,
    })
}

/// Resolved range as Plausible echoes it: local date-times with their offset.
fn iso(zone: Zone, ts: i64) -> String {
    let offset = zone.offset_ms(ts) / 60_000;
    let local = ts + offset * 60_000;
    let day = local.div_euclid(86_400_000);
    let secs = local.rem_euclid(86_400_000) / 1000;
    let sign = if offset < 0 { '-' } else { '+' };
    format!(
        "{}T{:02}:{:02}:{:02}{sign}{:02}:{:02}",
        date(day),
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
        offset.abs() / 60,
        offset.abs() % 60
    )
}

fn echo(cx: &Shaping<'_>) -> Value {
    let q = cx.query;
    let body = cx.body.as_object();
    let given = |k: &str, default: Value| body.and_then(|b| b.get(k)).cloned().unwrap_or(default);
    let order: Vec<Value> = q
        .order_by
        .iter()
        .map(|(key, dir)| {
            let name = match key {
                SortKey::Metric(m) => m.name().to_owned(),
                SortKey::Dimension(d) => d.name().into_owned(),
            };
            json!([
                name,
                if *dir == Direction::Asc {
                    "asc"
                } else {
                    "desc"
                }
            ])
        })
        .collect();
    let mut out = json!({
        "site_id": q.site_id,
        "metrics": q.metrics.iter().map(|m| m.name()).collect::<Vec<_>>(),
        "date_range": [iso(cx.zone, q.date_range.range.from), iso(cx.zone, q.date_range.range.to - 1000)],
        "filters": given("filters", json!([])),
        "dimensions": q.dimensions.iter().map(|d| d.name().into_owned()).collect::<Vec<_>>(),
        "order_by": order,
        "include": given("include", json!({})),
        "pagination": {"limit": q.pagination.limit, "offset": q.pagination.offset},
    });
    if let (Some(c), Value::Object(map)) = (&q.comparison, &mut out) {
        map.insert(
            "comparison_date_range".into(),
            json!([iso(cx.zone, c.range.from), iso(cx.zone, c.range.to - 1000)]),
        );
    }
    out
}

fn compare_rows(
    q: &Query,
    a: &(Vec<String>, Vec<Value>),
    b: &(Vec<String>, Vec<Value>),
) -> Ordering {
    for (key, dir) in &q.order_by {
        let o = match key {
            SortKey::Metric(m) => {
                let i = q.metrics.iter().position(|x| x == m).unwrap_or(0);
                let (x, y) = (
                    a.1.get(i).and_then(as_number),
                    b.1.get(i).and_then(as_number),
                );
                x.partial_cmp(&y).unwrap_or(Ordering::Equal)
            }
            SortKey::Dimension(d) => {
                let i = q.dimensions.iter().position(|x| x == d).unwrap_or(0);
                a.0.get(i).cmp(&b.0.get(i))
            }
        };
        let o = if *dir == Direction::Desc {
            o.reverse()
        } else {
            o
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    a.0.cmp(&b.0)
}

/// What the answer could not count, for `meta`.
fn coverage(cx: &Shaping<'_>, spans: &[&Span], meta: &mut Map<String, Value>) {
    if spans.iter().any(|s| s.range.from < cx.kept_from) {
        meta.insert("counted_from".into(), json!(iso(cx.zone, cx.kept_from)));
        meta.insert(
            "warning".into(),
            json!(format!(
                "This site keeps raw events for its retention: the answer counts from {} on; \
                 earlier days in the date range are not in it.",
                iso(cx.zone, cx.kept_from)
            )),
        );
    }
}

fn rows(
    src: &dyn Source,
    span: &Span,
    filter: Option<&Compiled>,
    cx: &Shaping<'_>,
) -> Result<Vec<Row>, crate::query::QueryError> {
    let q = cx.query;
    let b = bases(src, span, filter, cx)?;
    let mut groups = src.groups(span, filter, &q.dimensions);
    if q.dimensions.is_empty() {
        groups.entry(vec![]).or_default();
    }
    Ok(groups
        .iter()
        .map(|(k, a)| {
            (
                k.clone(),
                q.metrics.iter().map(|m| metric(*m, a, k, &b)).collect(),
            )
        })
        .collect())
}

/// Answers a metrics query.
pub fn answer(
    src: &dyn Source,
    q: &Query,
    filter: Option<&Compiled>,
    cx: &Shaping<'_>,
) -> Result<Value, crate::query::QueryError> {
    let mut main = rows(src, &q.date_range, filter, cx)?;
    main.sort_by(|a, b| compare_rows(q, a, b));
    let total_rows = main.len();
    let page: Vec<_> = main
        .into_iter()
        .skip(q.pagination.offset as usize)
        .take(q.pagination.limit as usize)
        .collect();
    let mut meta = Map::new();
    meta.insert("imports_included".into(), json!(false));
    let time = time_bucket(q);
    if let (true, Some((_, bucket))) = (q.include.time_labels, time) {
        meta.insert(
            "time_labels".into(),
            json!(time_labels(&q.date_range, bucket, cx.zone)),
        );
    }
    if q.include.total_rows {
        meta.insert("total_rows".into(), json!(total_rows));
    }
    let mut spans = vec![&q.date_range];
    let results: Vec<Value> = match &q.comparison {
        None => page
            .into_iter()
            .map(|(dims, metrics)| json!({"metrics": metrics, "dimensions": dims}))
            .collect(),
        Some(c) => {
            spans.push(c);
            let before: BTreeMap<Vec<String>, Vec<Value>> =
                rows(src, c, filter, cx)?.into_iter().collect();
            // A time bucket is compared with the bucket at the same place in the other range.
            let mapping: BTreeMap<String, String> = match time {
                Some((_, bucket)) => time_labels(&q.date_range, bucket, cx.zone)
                    .into_iter()
                    .zip(time_labels(c, bucket, cx.zone))
                    .collect(),
                None => BTreeMap::new(),
            };
            let empty = rows_for_empty(cx);
            page.into_iter()
                .map(|(dims, metrics)| {
                    let mut other = dims.clone();
                    if let Some((i, _)) = time {
                        other[i] = mapping.get(&dims[i]).cloned().unwrap_or_default();
                    }
                    let theirs = before.get(&other).cloned().unwrap_or_else(|| empty.clone());
                    let changes: Vec<Value> = q
                        .metrics
                        .iter()
                        .zip(metrics.iter().zip(&theirs))
                        .map(|(m, (a, b))| change(*m, a, b))
                        .collect();
                    json!({"metrics": metrics, "dimensions": dims,
                           "comparison": {"dimensions": other, "metrics": theirs, "change": changes}})
                })
                .collect()
        }
    };
    coverage(cx, &spans, &mut meta);
    Ok(json!({"results": results, "meta": meta, "query": echo(cx)}))
}

/// The metrics of a group with nothing in it.
fn rows_for_empty(cx: &Shaping<'_>) -> Vec<Value> {
    let b = Bases {
        total: 0,
        converting: 0,
        groups: BTreeMap::new(),
        kept: vec![],
        lost: None,
    };
    let key = vec![String::new(); cx.query.dimensions.len()];
    cx.query
        .metrics
        .iter()
        .map(|m| metric(*m, &Figures::default(), &key, &b))
        .collect()
}

/// Shaping shared with the funnel stage.
pub(super) fn envelope(
    results: Vec<Value>,
    mut meta: Map<String, Value>,
    cx: &Shaping<'_>,
) -> Value {
    let mut spans = vec![&cx.query.date_range];
    if let Some(c) = &cx.query.comparison {
        spans.push(c);
    }
    meta.insert("imports_included".into(), json!(false));
    coverage(cx, &spans, &mut meta);
    json!({"results": results, "meta": meta, "query": echo(cx)})
}
