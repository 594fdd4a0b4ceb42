//! Storage for operations: the collector's counters (`counters`, migration 0011), added to in the
//! consumer's own transaction, and everything `GET /metrics` reads (the counters, the dead-letter
//! tables). Must not: decide what a counter means (core's `ops` does) or log event contents.

use serde::Deserialize;
use sightline_core::ops::{self, Sample};
use worker::D1PreparedStatement;

use super::{text, Store};
use crate::error::AppError;

/// Adds each sample of ?1 to its counter; the gauge of the latest time (?2) keeps the larger
/// value, and the gauges of ?3 (core's `ops::LATEST`) take the new one.
const ADD_SQL: &str = "INSERT INTO counters (metric, site_id, label, value) \
     SELECT c ->> '$.metric', c ->> '$.site', c ->> '$.label', c ->> '$.value' \
     FROM (SELECT value AS c FROM json_each(?1)) WHERE true \
     ON CONFLICT (metric, site_id, label) DO UPDATE SET value = CASE \
       WHEN metric = ?2 THEN MAX(value, excluded.value) \
       WHEN metric IN (SELECT value FROM json_each(?3)) THEN excluded.value \
       ELSE value + excluded.value END";
/// Every counter, with its site's tenant ('' for none, or a site erased since).
const READ_SQL: &str = "SELECT c.metric AS metric, c.site_id AS site, c.label AS label, \
       c.value AS value, COALESCE(s.tenant_id, '') AS tenant \
     FROM counters c LEFT JOIN sites s ON s.id = c.site_id \
     ORDER BY c.metric, c.site_id, c.label";

#[derive(Deserialize)]
struct Row {
    metric: String,
    site: String,
    label: String,
    value: f64,
    tenant: String,
}

impl Store {
    /// The statement that adds `samples` to the counters (for the consumer's transaction).
    pub fn counters_statement(&self, samples: &[Sample]) -> Result<D1PreparedStatement, AppError> {
        let list = serde_json::to_string(samples)
            .map_err(|e| AppError::Internal(format!("counters: {e}")))?;
        let latest = serde_json::to_string(ops::LATEST)
            .map_err(|e| AppError::Internal(format!("counters: {e}")))?;
        self.statement(
            ADD_SQL,
            &[text(&list), text(ops::LAST_STORED), text(&latest)],
        )
    }

    /// Adds `samples` to the counters on their own (a batch that wrote nothing else); answers the
    /// D1 rows it wrote.
    pub async fn add_counters(&self, samples: &[Sample]) -> Result<usize, AppError> {
        let result = self.counters_statement(samples)?.run().await?;
        Ok(result.meta()?.and_then(|m| m.rows_written).unwrap_or(0))
    }

    /// Every sample `GET /metrics` shows: the counters, and the dead-letter tables' totals.
    pub async fn metrics(&self) -> Result<Vec<Sample>, AppError> {
        let rows: Vec<Row> = self.rows(self.statement(READ_SQL, &[])?).await?;
        let mut samples: Vec<Sample> = rows
            .into_iter()
            .map(|r| Sample {
                tenant: r.tenant,
                ..Sample::new(&r.metric, &r.site, &r.label, r.value)
            })
            .collect();
        let dead = self.dead_letter_summary().await?;
        for (metric, value) in [
            (ops::DEAD_LETTERED, dead.dead_lettered_messages),
            (ops::DEAD_KEPT, dead.kept_messages),
            (ops::SET_ASIDE, dead.set_aside_rows),
        ] {
            samples.push(Sample::new(metric, "", "", value));
        }
        samples.extend(self.forward_waiting().await?);
        Ok(samples)
    }
}
