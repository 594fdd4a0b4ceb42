//! Storage for compaction (the cron's summing of closed weeks and months, core's
//! `ingest::compact`): which sites have stats and since when, each period's stamp beside its days'
//! version sum now, one period's days, and the write of a period's parts — guarded, in one
//! transaction, so that a day written by the consumer after the read leaves the period unstored
//! (it is summed again on the next run) instead of stale.
//! Must not: decide which periods to sum (core does), or parse stored state.

use std::collections::BTreeMap;

use serde::Deserialize;
use sightline_core::ingest::compact::{Period, Status};
use sightline_core::ingest::parts;
use sightline_core::zone::Zone;

use super::{number, text, Store};
use crate::error::AppError;

/// Sites with stats: their zone and first local day with a rollup.
const SITES_SQL: &str = "SELECT id, timezone, first_day FROM (SELECT s.id AS id, \
       s.timezone AS timezone, (SELECT MIN(d.day) FROM day_parts d WHERE d.site_id = s.id \
       AND d.part = 'totals') AS first_day FROM sites s) WHERE first_day IS NOT NULL";

/// For each period `[first, last]` of ?2: its stored stamp and its days' version sum now.
const STATUS_SQL: &str = "SELECT j.value ->> 0 AS first, j.value ->> 1 AS last, \
       (SELECT SUM(d.version) FROM day_parts d WHERE d.site_id = ?1 AND d.part = 'totals' \
          AND d.day BETWEEN j.value ->> 0 AND j.value ->> 1) AS versions, \
       (SELECT p.stamp FROM period_parts p WHERE p.site_id = ?1 AND p.part = 'totals' \
          AND p.first_day = j.value ->> 0 AND p.last_day = j.value ->> 1) AS stamp \
     FROM json_each(?2) j";

/// Every part (?4, a JSON list of names) of a site's days `[?2, ?3]`, with its version.
const DAYS_SQL: &str = "SELECT p.day AS day, p.part AS part, p.version AS version, p.data AS data \
     FROM json_each(?4) j CROSS JOIN day_parts p \
     ON p.site_id = ?1 AND p.part = j.value AND p.day >= ?2 AND p.day <= ?3";

const DELETE_SQL: &str =
    "DELETE FROM period_parts WHERE site_id = ?1 AND first_day = ?2 AND last_day = ?3";

/// One part of a period, stored only while its days' version sum is still the stamp ?5 (or its
/// negation, for the marker of a period too big to store).
const INSERT_SQL: &str =
    "INSERT INTO period_parts (site_id, part, first_day, last_day, stamp, data) \
     SELECT ?1, ?4, ?2, ?3, ?5, ?6 WHERE abs(?5) = (SELECT SUM(d.version) FROM day_parts d \
       WHERE d.site_id = ?1 AND d.part = 'totals' AND d.day BETWEEN ?2 AND ?3)";

/// Periods of erased sites.
const PURGE_SQL: &str = "DELETE FROM period_parts WHERE site_id NOT IN (SELECT id FROM sites)";

/// A site with stats.
#[derive(Debug, Clone)]
pub struct StatsSite {
    /// Its id.
    pub id: String,
    /// Its time zone.
    pub zone: Zone,
    /// Its first local day with a rollup.
    pub first_day: i64,
}

/// One period's days as stored: local day → (version, [(part, JSON)]).
pub type PeriodDays = BTreeMap<i64, (i64, Vec<(String, String)>)>;

impl Store {
    /// Sites with stats.
    pub async fn stats_sites(&self) -> Result<Vec<StatsSite>, AppError> {
        #[derive(Deserialize)]
        struct Row {
            id: String,
            timezone: String,
            first_day: f64,
        }
        let rows: Vec<Row> = self.rows(self.statement(SITES_SQL, &[])?).await?;
        Ok(rows
            .into_iter()
            .map(|r| StatsSite {
                id: r.id,
                zone: Zone::named(&r.timezone),
                first_day: r.first_day as i64,
            })
            .collect())
    }

    /// What storage holds of each period of a site.
    pub async fn period_statuses(
        &self,
        site: &str,
        periods: &[Period],
    ) -> Result<Vec<Status>, AppError> {
        #[derive(Deserialize)]
        struct Row {
            first: f64,
            last: f64,
            versions: Option<f64>,
            stamp: Option<f64>,
        }
        let list: Vec<(i64, i64)> = periods.iter().map(|p| (p.first, p.last)).collect();
        let list = serde_json::to_string(&list).map_err(|e| AppError::Internal(e.to_string()))?;
        let rows: Vec<Row> = self
            .rows(self.statement(STATUS_SQL, &[text(site), text(&list)])?)
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| Status {
                period: Period {
                    first: r.first as i64,
                    last: r.last as i64,
                },
                stamp: r.stamp.map(|s| s as i64),
                versions: r.versions.map(|v| v as i64),
            })
            .collect())
    }

    /// Every part of a period's days, with each day's version (its totals part's).
    pub async fn period_days(&self, site: &str, period: Period) -> Result<PeriodDays, AppError> {
        #[derive(Deserialize)]
        struct Row {
            day: f64,
            part: String,
            version: f64,
            data: String,
        }
        let names: Vec<&str> = parts::names().collect();
        let names = serde_json::to_string(&names).map_err(|e| AppError::Internal(e.to_string()))?;
        let rows: Vec<Row> = self
            .rows(self.statement(
                DAYS_SQL,
                &[
                    text(site),
                    number(period.first),
                    number(period.last),
                    text(&names),
                ],
            )?)
            .await?;
        let mut days = PeriodDays::new();
        for r in rows {
            let entry = days.entry(r.day as i64).or_default();
            if r.part == parts::TOTALS {
                entry.0 = r.version as i64;
            }
            entry.1.push((r.part, r.data));
        }
        Ok(days)
    }

    /// Replaces a period's parts with these, stamped `stamp` (negative: the marker of a period
    /// too big to store), unless one of its days changed since it was read. True when stored.
    pub async fn store_period(
        &self,
        site: &str,
        period: Period,
        stamp: i64,
        parts: &[(&str, String)],
    ) -> Result<bool, AppError> {
        let key = [text(site), number(period.first), number(period.last)];
        let mut statements = vec![self.statement(DELETE_SQL, &key)?];
        for (part, data) in parts {
            statements.push(self.statement(
                INSERT_SQL,
                &[
                    key[0].clone(),
                    key[1].clone(),
                    key[2].clone(),
                    text(part),
                    number(stamp),
                    text(data),
                ],
            )?);
        }
        let results = self.batch(statements).await?;
        let written = results
            .iter()
            .skip(1)
            .filter_map(|r| r.meta().ok().flatten().and_then(|m| m.changes))
            .sum::<usize>();
        Ok(written == parts.len())
    }

    /// Deletes the periods of erased sites.
    pub async fn purge_periods(&self) -> Result<(), AppError> {
        self.batch(vec![self.statement(PURGE_SQL, &[])?]).await?;
        Ok(())
    }
}
