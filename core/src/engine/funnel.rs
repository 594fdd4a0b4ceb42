//! Stage: funnel. Input: events in visits, the compiled filter, a saved funnel, the ranges.
//! Output: per step the visitors who reached it in order — within one visit, or the last step
//! within N hours of the first (one visitor key: keys are salted per UTC day, so such a run cannot
//! cross UTC midnight) — with drop-off and conversion, as rows and in `meta.funnel`.
//! Only events that match the filter, in visits that started in the range, count as steps.
//! Must not: count a visitor twice in a step.

use std::collections::{BTreeMap, HashSet};

use serde_json::{json, Map, Value};

use super::filter::Compiled;
use super::shape::{envelope, Shaping};
use super::visits::Data;
use crate::query::Span;
use crate::saved::funnel::{Funnel, Target, Within};

const HOUR_MS: i64 = 3_600_000;

fn label(f: &Funnel, i: usize) -> String {
    match &f.steps[i].target {
        Target::Page(p) => format!("Visit {}", p.as_str()),
        Target::Event(e) => e.clone(),
    }
}

/// The deepest step (0 = none) reached in order by these events (by time), the last within
/// `window` ms of the first when one is given.
fn depth(data: &Data, hits: &[usize], f: &Funnel, window: Option<i64>) -> usize {
    let matches = |step: usize, i: usize| {
        let h = &data.hits[i];
        f.steps[step].matches(&h.name, &h.path, |k| h.prop(k))
    };
    let mut best = 0;
    for (s, &start) in hits.iter().enumerate() {
        if !matches(0, start) {
            continue;
        }
        let t0 = data.hits[start].ts;
        let mut k = 1;
        for &i in &hits[s + 1..] {
            if k == f.steps.len() {
                break;
            }
            if window.is_some_and(|w| data.hits[i].ts - t0 > w) {
                break;
            }
            if matches(k, i) {
                k += 1;
            }
        }
        best = best.max(k);
        if window.is_none() || best == f.steps.len() {
            break;
        }
    }
    best
}

/// Visitors per step over a span.
pub fn reached(data: &Data, filter: Option<&Compiled>, f: &Funnel, span: &Span) -> Vec<usize> {
    let within = |t: i64| t >= span.range.from && t < span.range.to;
    // Per unit (a visit, or a visitor for a window in hours): its matching events, by time.
    let mut units: BTreeMap<(i64, u32, u32), Vec<usize>> = BTreeMap::new();
    for (vi, v) in data.visits.iter().enumerate() {
        if !within(v.start) {
            continue;
        }
        let unit = match f.within {
            Within::Visit => (v.day, v.visitor, vi as u32),
            Within::Hours(_) => (0, v.visitor, 0),
        };
        let hits = units.entry(unit).or_default();
        hits.extend(
            v.hits
                .clone()
                .filter(|i| filter.is_none_or(|c| c.test(data, *i, v))),
        );
    }
    let window = match f.within {
        Within::Visit => None,
        Within::Hours(h) => Some(i64::from(h) * HOUR_MS),
    };
    let mut per_step: Vec<HashSet<(i64, u32)>> = vec![HashSet::new(); f.steps.len()];
    for ((day, visitor, _), mut hits) in units {
        hits.sort_by_key(|i| (data.hits[*i].ts, *i));
        let d = depth(data, &hits, f, window);
        for step in per_step.iter_mut().take(d) {
            step.insert((day, visitor));
        }
    }
    per_step.iter().map(HashSet::len).collect()
}

fn pct(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        (part as f64 * 10_000.0 / whole as f64).round() / 100.0
    }
}

fn steps(f: &Funnel, counts: &[usize]) -> Vec<Value> {
    let first = counts.first().copied().unwrap_or(0);
    counts
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let previous = if i == 0 { *n } else { counts[i - 1] };
            json!({
                "step": i + 1,
                "label": label(f, i),
                "visitors": n,
                "dropoff": previous - n,
                "dropoff_percentage": pct(previous - n, previous),
                "conversion_rate": pct(*n, first),
                "conversion_rate_step": pct(*n, previous),
            })
        })
        .collect()
}

/// Answers a funnel query, given the visitors per step over a span (from [`reached`], or from
/// blocks and raw events together).
pub fn answer(
    reached: impl Fn(&Span) -> Vec<usize>,
    id: u64,
    f: &Funnel,
    cx: &Shaping<'_>,
) -> Value {
    let q = cx.query;
    let counts = reached(&q.date_range);
    let before = q.comparison.as_ref().map(&reached);
    let results: Vec<Value> = counts
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let mut row = json!({"dimensions": [label(f, i)], "metrics": [n]});
            if let (Some(b), Value::Object(map)) = (&before, &mut row) {
                let was = b[i];
                let change = if was == 0 {
                    if *n == 0 {
                        0
                    } else {
                        100
                    }
                } else {
                    ((*n as f64 - was as f64) / was as f64 * 100.0).round() as i64
                };
                map.insert(
                    "comparison".into(),
                    json!({"dimensions": [label(f, i)], "metrics": [was], "change": [change]}),
                );
            }
            row
        })
        .collect();
    let within = match f.within {
        Within::Visit => json!("visit"),
        Within::Hours(h) => json!({"hours": h}),
    };
    let mut funnel =
        json!({"id": id, "name": f.name, "within": within, "steps": steps(f, &counts)});
    if let (Some(b), Value::Object(map)) = (&before, &mut funnel) {
        map.insert("comparison_steps".into(), json!(steps(f, b)));
    }
    let mut meta = Map::new();
    meta.insert("funnel".into(), funnel);
    envelope(results, meta, cx)
}
