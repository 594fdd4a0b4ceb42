//! Storage for erasing one person (`DELETE /api/sites/{site}/visitors|users/{id}`): the salts
//! still kept (each gives one key the person's events were stored under), and the stored visits
//! and raw events of those keys. The write itself is the consumer's guarded transaction
//! (`store/ingest.rs::commit`, which deletes the raw events `Write::erase` names).
//! Must not: decide anything (core's `erase` does), or log an id or key.

use serde::Deserialize;
use sightline_core::ingest::consume::Stored;
use sightline_core::ingest::sessionise::VisitKey;
use sightline_core::ingest::Event;

use super::ingest::VisitRow;
use super::{text, Store};
use crate::error::AppError;

const SALTS_SQL: &str = "SELECT salt FROM salts ORDER BY day";
const FIRST_SALT_SQL: &str = "SELECT MIN(day) AS day FROM salts";
/// The visits of site ?1 and the visitor keys of ?2 (a range of the primary key per key).
const VISITS_SQL: &str = "SELECT s.site_id AS site_id, s.visitor_key AS visitor_key, \
       s.session_key AS session_key, \
       s.visit_no AS visit_no, s.version AS version, s.state AS state \
     FROM json_each(?2) j JOIN sessions s ON s.site_id = ?1 AND s.visitor_key = j.value";
/// The raw events of site ?1 stored under the visitor keys of ?2.
const EVENTS_SQL: &str = "SELECT event_id, ts, received_at, name, hostname, path, visitor_key, \
       session_key, props, order_id, sender FROM events \
     WHERE site_id = ?1 AND visitor_key IN (SELECT value FROM json_each(?2))";

#[derive(Deserialize)]
struct SaltRow {
    salt: String,
}

#[derive(Deserialize)]
struct EventRow {
    event_id: String,
    ts: f64,
    received_at: f64,
    name: String,
    hostname: String,
    path: String,
    visitor_key: String,
    session_key: String,
    props: String,
    order_id: Option<String>,
    sender: Option<String>,
}

impl Store {
    /// Every salt still kept (the oldest first), and the UTC day of the oldest.
    pub async fn kept_salts(&self) -> Result<(Vec<String>, Option<i64>), AppError> {
        let salts: Vec<SaltRow> = self.rows(self.statement(SALTS_SQL, &[])?).await?;
        #[derive(Deserialize)]
        struct First {
            day: Option<f64>,
        }
        let first: Option<First> = self.row(self.statement(FIRST_SALT_SQL, &[])?).await?;
        let first = first.and_then(|f| f.day).map(|d| d as i64);
        Ok((salts.into_iter().map(|r| r.salt).collect(), first))
    }

    /// The raw events of `site` under `keys` (a scan of the site's events: the raw log has no
    /// index on the visitor, which would cost a row written per event).
    pub async fn person_events(&self, site: &str, keys: &[String]) -> Result<Vec<Event>, AppError> {
        let rows: Vec<EventRow> = self
            .rows(self.statement(EVENTS_SQL, &[text(site), text(&keys_json(keys)?)])?)
            .await?;
        Ok(rows.into_iter().map(|r| event(site, r)).collect())
    }

    /// The stored visits of `site` under `keys` (a range of the primary key per key).
    pub async fn person_visits(
        &self,
        site: &str,
        keys: &[String],
    ) -> Result<Vec<Stored<VisitKey>>, AppError> {
        let visits: Vec<VisitRow> = self
            .rows(self.statement(VISITS_SQL, &[text(site), text(&keys_json(keys)?)])?)
            .await?;
        Ok(visits.into_iter().map(Stored::from).collect())
    }
}

fn keys_json(keys: &[String]) -> Result<String, AppError> {
    serde_json::to_string(keys).map_err(|e| AppError::Internal(format!("erase keys: {e}")))
}

/// A stored event as core counts it out.
fn event(site: &str, r: EventRow) -> Event {
    Event {
        site_id: site.to_owned(),
        event_id: r.event_id,
        ts: r.ts as i64,
        received_at: r.received_at as i64,
        name: r.name,
        hostname: r.hostname,
        path: r.path,
        // Not read when counting an event out (its visit holds its arrival fields).
        enrichment: Default::default(),
        visitor_key: r.visitor_key,
        session_key: r.session_key,
        // Props were checked when stored; a row whose props cannot be read counts out without.
        props: serde_json::from_str(&r.props).unwrap_or_default(),
        order_id: r.order_id,
        // Browsers' reported losses are not stored per event: nothing to count out.
        lost: 0,
        server: r.sender.as_deref() == Some("server"),
        // Never stored.
        user_id: None,
    }
}
