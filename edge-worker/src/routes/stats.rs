//! `GET /api/sites/{site}/stats/{report}`: bearer-token auth, then core parses the query, the store
//! runs its fixed SQL, core shapes the rows. With `compare=previous` the previous period rides along.

use serde_json::{json, Value};
use sightline_core::stats::{self, Query, Range, Report};
use sightline_core::token;
use worker::{Env, Request, Response};

use crate::edge;
use crate::error::AppError;
use crate::store::Store;

/// Answers one report.
pub async fn handle(
    req: &Request,
    env: &Env,
    site: &str,
    report: &str,
) -> Result<Response, AppError> {
    let store = Store::new(env)?;
    let auth = edge::authorization(req);
    let token =
        token::bearer(auth.as_deref()).ok_or(AppError::Unauthorized("the site's read token"))?;
    if !store.read_token_matches(site, &token::hash(token)).await? {
        return Err(AppError::Unauthorized("the site's read token"));
    }
    let now = edge::now();
    let query = stats::parse_query(report, &edge::query_pairs(req), now)?;
    let mut body = run(&store, site, &query, query.range, now).await?;
    let compare = query.compare.filter(|_| query.report != Report::Realtime);
    if let (Some(previous), Value::Object(map)) = (compare, &mut body) {
        map.insert(
            "compare".into(),
            run(&store, site, &query, previous, now).await?,
        );
    }
    Ok(edge::json(200, &body))
}

async fn run(
    store: &Store,
    site: &str,
    query: &Query,
    range: Range,
    now: i64,
) -> Result<Value, AppError> {
    let range_json = json!({
        "from": stats::format_date(range.from),
        "to": stats::format_date(range.to - 1),
    });
    let mut body = match query.report {
        Report::Overview => json!(stats::Overview::from(store.totals(site, range).await?)),
        Report::Realtime => {
            let window = Range {
                from: now - stats::REALTIME_WINDOW_MS,
                to: now + 1,
            };
            let totals = store.totals(site, window).await?;
            json!({"visitors": totals.visitors as u64, "pageviews": totals.pageviews as u64})
        }
        Report::Timeseries => {
            json!({"results": stats::shape_timeseries(range, &store.days(site, range).await?)})
        }
        Report::Breakdown(dimension) => {
            let rows = store.breakdown(site, dimension, range).await?;
            json!({"results": stats::shape_breakdown(dimension, rows)})
        }
    };
    if let Value::Object(map) = &mut body {
        map.insert("range".into(), range_json);
    }
    Ok(body)
}
