//! `GET /api/sites/{site}/export?data=events|days&format=ndjson|csv&from&to`: a site's raw events
//! (within its retention) or daily aggregates, streamed a page at a time (never the whole export
//! in memory), with the admin token or the site's tenant token only, recorded in the audit log.
//! Core's `export` checks the request and writes each line; the store reads the pages. Must not:
//! hold SQL, or shape a row itself.

use futures_util::stream;
use sightline_core::audit::Action;
use sightline_core::export::{self, Data, Format, Request as Export};
use sightline_core::stats::format_date;
use sightline_core::zone::{Zone, DAY_MS};
use worker::{Env, Headers, Request, Response};

use crate::edge;
use crate::error::AppError;
use crate::routes::{access, admin};
use crate::store::Store;

/// Events read a page.
const EVENTS_PAGE: usize = 1000;
/// Days read a page.
const DAYS_PAGE: i64 = 31;

/// Where the stream is.
enum Step {
    /// The CSV header (nothing for NDJSON).
    Header,
    /// Events after this id (`""`: from the first).
    Events(String),
    /// Days from this one.
    Days(i64),
    /// Nothing more.
    Done,
}

/// What every page needs.
struct Job {
    store: Store,
    site: String,
    zone: Zone,
    export: Export,
}

/// `GET /api/sites/{site}/export`.
pub async fn handle(req: &Request, env: &Env, site: &str) -> Result<Response, AppError> {
    let store = Store::new(env)?;
    access::data_request(req, env, &store, site).await?;
    if !store.site_exists(site).await? {
        return Err(AppError::Missing("site"));
    }
    let zone = store.zone(site).await?;
    let today = zone.local(edge::now()).day;
    let export = export::parse(&edge::query_pairs(req), today)
        .map_err(|m| AppError::Invalid("invalid_export", m))?;
    let data = match export.data {
        Data::Events => "events",
        Data::Days => "days",
    };
    let format = match export.format {
        Format::Ndjson => "ndjson",
        Format::Csv => "csv",
    };
    let from = format_date(export.first_day * DAY_MS);
    let to = format_date(export.last_day * DAY_MS);
    let detail = serde_json::json!({"data": data, "format": format, "from": from, "to": to});
    admin::record(&store, req, Action::Exported, site, detail).await?;
    let name = format!("sightline-{site}-{data}-{from}-{to}.{format}");
    let headers = Headers::new();
    headers.set("Content-Type", export.content_type())?;
    headers.set(
        "Content-Disposition",
        &format!("attachment; filename=\"{name}\""),
    )?;
    headers.set("Cache-Control", "no-store")?;
    let job = Job {
        store,
        site: site.to_owned(),
        zone,
        export,
    };
    let body = stream::unfold((job, Step::Header), |(job, step)| async move {
        let (chunk, next) = match page(&job, step).await {
            Ok(Some(page)) => page,
            Ok(None) => return None,
            Err(e) => {
                // The status is sent; the body ends short, and the log says why.
                worker::console_error!("export of {} failed: {}", job.site, e.message());
                return Some((
                    Err(worker::Error::RustError(e.message())),
                    (job, Step::Done),
                ));
            }
        };
        Some((
            Ok::<Vec<u8>, worker::Error>(chunk.into_bytes()),
            (job, next),
        ))
    });
    Ok(Response::from_stream(body)?.with_headers(headers))
}

/// The text of one step and the step after it; `None` when done.
async fn page(job: &Job, step: Step) -> Result<Option<(String, Step)>, AppError> {
    let e = &job.export;
    Ok(Some(match step {
        Step::Done => return Ok(None),
        Step::Header => (
            e.header(),
            match e.data {
                Data::Events => Step::Events(String::new()),
                Data::Days => Step::Days(e.first_day),
            },
        ),
        Step::Events(after) => {
            // A day's instants lie within a day either side of its UTC span whatever the zone;
            // the zone decides each event's local day exactly.
            let (from, to) = ((e.first_day - 1) * DAY_MS, (e.last_day + 2) * DAY_MS);
            let rows = job
                .store
                .export_events(&job.site, &after, from, to, EVENTS_PAGE)
                .await?;
            let next = match rows.last() {
                Some(last) if rows.len() == EVENTS_PAGE => Step::Events(
                    last.get("event_id")
                        .and_then(|v| v.as_str())
                        .unwrap_or_default()
                        .to_owned(),
                ),
                _ => Step::Done,
            };
            let mut text = String::new();
            for row in &rows {
                let ts = row.get("ts").and_then(|v| v.as_f64()).unwrap_or(0.0) as i64;
                let day = job.zone.local(ts).day;
                if (e.first_day..=e.last_day).contains(&day) {
                    text.push_str(&e.event(row));
                }
            }
            (text, next)
        }
        Step::Days(first) => {
            let last = (first + DAYS_PAGE - 1).min(e.last_day);
            let rows = job.store.export_days(&job.site, first, last).await?;
            let text: String = rows.iter().map(|r| e.day(r.day as i64, &r.data)).collect();
            let next = if last >= e.last_day {
                Step::Done
            } else {
                Step::Days(last + 1)
            };
            (text, next)
        }
    }))
}
