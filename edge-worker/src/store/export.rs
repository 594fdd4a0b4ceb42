//! Storage for exports: a site's raw events, a page at a time in key order (a range of the
//! primary key, never a scan of other sites' rows), and its rollup days (the `rollups` view joins
//! each day's parts). Must not: shape what it reads (core's `export` does).

use serde::Deserialize;
use serde_json::{Map, Value};

use super::{number, text, Store};
use crate::error::AppError;

/// Events of ?1 after event id ?2 with a time in [?3, ?4), in key order, at most ?5; the columns
/// are core's `export::EVENT_COLUMNS`.
const EVENTS_SQL: &str = "SELECT event_id, ts, received_at, name, hostname, path, referrer_host, \
       source, channel, utm_source, utm_medium, utm_campaign, utm_term, utm_content, country, \
       device, browser, os, visitor_key, session_key, order_id, sender, props \
     FROM events WHERE site_id = ?1 AND event_id > ?2 AND ts >= ?3 AND ts < ?4 \
     ORDER BY event_id LIMIT ?5";
/// Rollup days of ?1 in [?2, ?3], in order.
const DAYS_SQL: &str =
    "SELECT day, data FROM rollups WHERE site_id = ?1 AND day >= ?2 AND day <= ?3 ORDER BY day";

/// A stored day as exported.
#[derive(Deserialize)]
pub struct DayRow {
    /// Local day number.
    pub day: f64,
    /// Its document, parts joined.
    pub data: String,
}

impl Store {
    /// Up to `limit` events of `site` after `after` (an event id; `""` for the first page) with a
    /// time in `[from, to)` ms, in key order.
    pub async fn export_events(
        &self,
        site: &str,
        after: &str,
        from: i64,
        to: i64,
        limit: usize,
    ) -> Result<Vec<Map<String, Value>>, AppError> {
        let binds = [
            text(site),
            text(after),
            number(from),
            number(to),
            number(limit as i64),
        ];
        self.rows(self.statement(EVENTS_SQL, &binds)?).await
    }

    /// The rollup days of `site` from `first` to `last` (local day numbers).
    pub async fn export_days(
        &self,
        site: &str,
        first: i64,
        last: i64,
    ) -> Result<Vec<DayRow>, AppError> {
        let binds = [text(site), number(first), number(last)];
        self.rows(self.statement(DAYS_SQL, &binds)?).await
    }
}
