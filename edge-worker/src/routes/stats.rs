//! `GET /api/sites/{site}/stats/{report}`: bearer-token auth, then core parses the query in the
//! site's time zone, the store reads the range's rollup days (realtime: the active visits), core
//! merges and shapes them. With `compare=previous` the previous period rides along. The
//! test-hooks build adds `X-D1-Rows-Read`: D1's rows read by the request's statements.

use serde_json::{json, Value};
use sightline_core::stats::{self, rollup, Query, Range, Report};
use worker::{Env, Request, Response};

use crate::edge;
use crate::error::AppError;
use crate::store::Store;

const DAY_MS: i64 = 24 * 3600 * 1000;

/// Answers one report.
pub async fn handle(
    req: &Request,
    env: &Env,
    site: &str,
    report: &str,
) -> Result<Response, AppError> {
    let store = Store::new(env)?;
    super::access::reader(req, &store, site).await?;
    let now = edge::now();
    // Periods are local days of the site: "today" starts at the site's midnight.
    let local_now = now + store.zone(site).await?.offset_ms(now);
    let query = stats::parse_query(report, &edge::query_pairs(req), local_now)?;
    let mut body = run(&store, site, &query, query.range, now).await?;
    let compare = query.compare.filter(|_| query.report != Report::Realtime);
    if let (Some(previous), Value::Object(map)) = (compare, &mut body) {
        map.insert(
            "compare".into(),
            run(&store, site, &query, previous, now).await?,
        );
    }
    let response = edge::json(200, &body);
    #[cfg(feature = "test-hooks")]
    let response = edge::test_hooks::with_rows_read(response, store.rows_read());
    Ok(response)
}

async fn run(
    store: &Store,
    site: &str,
    query: &Query,
    range: Range,
    now: i64,
) -> Result<Value, AppError> {
    if query.report == Report::Realtime {
        let active = store
            .realtime(site, now - stats::REALTIME_WINDOW_MS)
            .await?;
        return Ok(json!({
            "visitors": active.visitors as u64,
            "visits": active.visits as u64,
            "pageviews": active.pageviews as u64,
        }));
    }
    let days = store
        .rollups(
            site,
            &[(
                range.from.div_euclid(DAY_MS),
                range.to.div_euclid(DAY_MS) - 1,
            )],
            &query.report.parts(),
            // A timeseries needs its days; every other report sums them.
            query.report != Report::Timeseries,
        )
        .await?;
    let merged = rollup::merge(days.iter().map(|(_, day)| day));
    let mut body = match query.report {
        Report::Overview => json!(stats::Overview::from(rollup::totals(&merged))),
        Report::Timeseries if query.hourly => json!({"results": rollup::shape_hours(range, &days)}),
        Report::Timeseries => {
            let rows: Vec<_> = days
                .iter()
                .map(|(n, day)| rollup::day_row(*n, day))
                .collect();
            json!({"results": stats::shape_timeseries(range, &rows)})
        }
        Report::Breakdown(dimension) => {
            let rows = rollup::breakdown(dimension, &merged);
            json!({"results": stats::shape_breakdown(dimension, rows)})
        }
        Report::Realtime => Value::Null,
    };
    if let Value::Object(map) = &mut body {
        map.insert(
            "range".into(),
            json!({
                "from": stats::format_date(range.from),
                "to": stats::format_date(range.to - 1),
            }),
        );
    }
    Ok(body)
}
