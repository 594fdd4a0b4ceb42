//! `POST /api/v2/query`: Plausible's Stats API v2, answered by core's engine. Read the body (at
//! most 64 KB), parse it (a 400 naming what is wrong), check the caller against the body's
//! `site_id` (the site's read token or the admin token; anything else 401 with no data), replace
//! saved segments with their filters, fetch a named funnel, resolve the ranges in the site's zone,
//! read what answers it — the rollups' parts for what they hold (days, or the closed weeks and
//! months the cron summed), else the raw events of the visits the ranges touch — and answer. The test-hooks build adds
//! `X-D1-Rows-Read`.

use std::collections::BTreeMap;

use sightline_core::engine::{self, Input};
use sightline_core::query::{self, Context, ErrorKind, QueryError};
use sightline_core::saved::{self, Funnel, Kind, Segment};
use worker::{Env, Request, Response};

use super::access;
use crate::edge;
use crate::error::AppError;
use crate::store::Store;

const DAY_MS: i64 = 24 * 3600 * 1000;

/// Most raw events one answer reads (a worker holds them in memory, at about 300 bytes each). A
/// query whose ranges hold more is refused with a 400 that says so, never half answered.
pub const MAX_RAW_EVENTS: usize = 200_000;

/// Answers one query.
pub async fn handle(mut req: Request, env: &Env) -> Result<Response, AppError> {
    let body = edge::query_body(&mut req).await?;
    let request = query::parse(&body)?;
    let site = request.site_id.clone();
    let store = Store::new(env)?;
    access::site(&req, env, &store, &site).await?;
    let settings = store
        .query_settings(&site)
        .await?
        .ok_or(AppError::Missing("site"))?;
    let request = if request.filters.iter().any(|f| !f.segments().is_empty()) {
        let segments: BTreeMap<u64, Segment> = store
            .saved(&site, Kind::Segment)
            .await?
            .iter()
            .filter_map(|s| Some((s.id, Segment::stored(s.id, &s.name, &s.definition).ok()?)))
            .collect();
        saved::expand(request, &segments)?
    } else {
        request
    };
    let funnel = match request.funnel {
        None => None,
        Some(id) => {
            let stored = store
                .saved_one(&site, Kind::Funnel, id)
                .await?
                .ok_or_else(|| {
                    QueryError::new(
                        ErrorKind::InvalidFunnel,
                        format!("Invalid funnel. The site has no funnel with id {id}."),
                    )
                })?;
            Some((id, Funnel::stored(id, &stored.name, &stored.definition)?))
        }
    };
    let now = edge::now();
    let cx = Context {
        zone: settings.zone,
        now,
        // The first rollup's local day, at noon UTC (the same local day in every zone).
        stats_start: settings.first_day.map(|d| d * DAY_MS + DAY_MS / 2),
    };
    let q = request.resolve(&cx)?;
    // Both ranges are read at once: the query's, and the comparison's (itself when none).
    let (main, other) = (q.date_range, q.comparison.unwrap_or(q.date_range));
    let first_day = main.first_day.min(other.first_day);
    let last_day = main.last_day.max(other.last_day);
    // Summed weeks and months stand in for their days when no time bucket splits the range and
    // the two ranges do not overlap (each piece then lies in one range); else the days are read.
    let apart = main.last_day < other.first_day || other.last_day < main.first_day;
    let buckets = q.dimensions.iter().any(|d| d.is_time());
    let (ranges, periods) = if apart {
        (
            vec![
                (main.first_day, main.last_day),
                (other.first_day, other.last_day),
            ],
            !buckets,
        )
    } else {
        (
            vec![(first_day, last_day)],
            !buckets && q.comparison.is_none(),
        )
    };
    let (hits, lost, days) = match engine::rollup::parts_for(&q) {
        Some(parts) => {
            let days = store.rollups(&site, &ranges, &parts, periods).await?;
            (
                Vec::new(),
                BTreeMap::new(),
                Some(days.into_iter().collect()),
            )
        }
        None => {
            let from = main.range.from.min(other.range.from);
            let to = main.range.to.max(other.range.to);
            let hits = store
                .hits(&site, from, to, MAX_RAW_EVENTS)
                .await?
                .ok_or_else(|| {
                    QueryError::new(
                        ErrorKind::InvalidDateRange,
                        format!(
                            "Invalid date range. The range holds more than {MAX_RAW_EVENTS} raw \
                             events of this site, more than one answer reads; ask for a shorter \
                             date_range."
                        ),
                    )
                })?;
            let lost = if q.metrics.contains(&query::Metric::LostInBrowser) {
                store.lost(&site, first_day, last_day).await?
            } else {
                BTreeMap::new()
            };
            (hits, lost, None)
        }
    };
    let echo: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let answer = engine::answer(Input {
        query: &q,
        body: &echo,
        zone: settings.zone,
        hits,
        funnel: funnel.as_ref().map(|(id, f)| (*id, f)),
        kept_from: now - settings.retention_days * DAY_MS,
        lost,
        days,
        blocks: None,
    })?;
    let response = edge::json(200, &answer);
    #[cfg(feature = "test-hooks")]
    let response = edge::test_hooks::with_rows_read(response, store.rows_read());
    Ok(response)
}
