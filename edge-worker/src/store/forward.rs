//! Storage for forwarding to GA4 and Umami (migration 0014): the outbox the consumer writes in its
//! own transaction ([`Store::outbox_statements`]), what the forwarder reads and settles, the dead
//! rows' replay, and the cron's sweep for rows whose delivery message was lost. Must not: decide
//! which events go where (core's `forward` does) or log a payload.

use serde::Deserialize;
use sightline_core::forward::{Forwarding, Row, Target};
use sightline_core::ingest::consume::json_arrays;
use sightline_core::ops::{self, Sample};
use worker::D1PreparedStatement;

use super::{number, text, Store};
use crate::error::AppError;

/// Each row of ?1 is `[site, target, event id, body]`; ?2 is the time.
const OUTBOX_SQL: &str =
    "INSERT INTO forward_outbox (site_id, target, event_id, body, created_at) \
     SELECT r ->> 0, r ->> 1, r ->> 2, r ->> 3, ?2 FROM (SELECT value AS r FROM json_each(?1)) \
     WHERE true ON CONFLICT DO NOTHING";
const WAITING_SQL: &str = "SELECT event_id, body FROM forward_outbox \
     WHERE site_id = ?1 AND target = ?2 AND dead = 0 \
     AND event_id IN (SELECT value FROM json_each(?3)) ORDER BY created_at, event_id";
const DELIVERED_SQL: &str = "DELETE FROM forward_outbox WHERE site_id = ?1 AND target = ?2 \
     AND event_id IN (SELECT value FROM json_each(?3))";
/// ?4: 1 gives the rows up (dead), 0 leaves them waiting.
const FAILED_SQL: &str = "UPDATE forward_outbox SET attempts = attempts + 1, error = ?5, \
     dead = MAX(dead, ?4) WHERE site_id = ?1 AND target = ?2 \
     AND event_id IN (SELECT value FROM json_each(?3))";
const GIVE_UP_SQL: &str = "UPDATE forward_outbox SET dead = 1, \
     error = COALESCE(error, 'retries_exhausted') WHERE site_id = ?1 AND target = ?2 AND dead = 0 \
     AND event_id IN (SELECT value FROM json_each(?3))";
/// Waiting rows last nudged before ?1 (their message lost: the consumer's send failed, or an
/// isolate ended between its commit and the send), oldest first, at most ?2, marked nudged now
/// (?3: `created_at` is when a row was last nudged, so the next sweep leaves it to this one).
const STALE_SQL: &str = "UPDATE forward_outbox SET created_at = ?3 \
     WHERE (site_id, target, event_id) IN (SELECT site_id, target, event_id FROM forward_outbox \
       WHERE dead = 0 AND created_at < ?1 ORDER BY created_at LIMIT ?2) \
     RETURNING site_id, target, event_id";
/// Dead rows back to waiting, nudged now (?3), at most ?1 (oldest first), optionally of site ?2
/// only.
const REVIVE_SQL: &str = "UPDATE forward_outbox SET dead = 0, attempts = 0, error = NULL, \
     created_at = ?3 \
     WHERE (site_id, target, event_id) IN (SELECT site_id, target, event_id FROM forward_outbox \
       WHERE dead = 1 AND (?2 = '' OR site_id = ?2) ORDER BY created_at LIMIT ?1) \
     RETURNING site_id, target, event_id";
/// The outbox rows of an erased person's events (?2 lists their ids), and GA4's rows carrying
/// their user id (?3; events older than the kept salts cannot be found by key, but by it).
const ERASE_SQL: &str = "DELETE FROM forward_outbox WHERE site_id = ?1 \
     AND (event_id IN (SELECT value FROM json_each(?2)) \
       OR (?3 IS NOT NULL AND target = 'ga4' AND body ->> '$.user_id' = ?3))";
/// Forgotten: given-up rows last nudged before ?1 (30 days), any row past its site's raw
/// retention (?2 is now), and the rows of a site that no longer exists.
const PURGE_DEAD_SQL: &str = "DELETE FROM forward_outbox WHERE (dead = 1 AND created_at < ?1) \
     OR created_at < ?2 - 86400000 * \
       COALESCE((SELECT retention_days FROM sites WHERE sites.id = forward_outbox.site_id), 0)";
const WAITING_COUNT_SQL: &str = "SELECT o.site_id AS site, o.target AS target, \
     COUNT(*) AS n, COALESCE(s.tenant_id, '') AS tenant \
     FROM forward_outbox o LEFT JOIN sites s ON s.id = o.site_id WHERE o.dead = 0 \
     GROUP BY o.site_id, o.target";
const TARGET_SQL: &str = "SELECT ga4_measurement_id AS ga4, umami_website_id AS umami, \
     forwarding FROM sites WHERE id = ?1";

/// What one outbox row holds for delivery.
#[derive(Deserialize)]
pub struct Waiting {
    /// The event id.
    pub event_id: String,
    /// The mapped event (core's `forward::ga4::Item` or `forward::umami::Item`) as JSON.
    pub body: String,
}

/// An outbox row's key.
#[derive(Deserialize)]
pub struct Key {
    /// The site.
    pub site_id: String,
    /// The target's name.
    pub target: String,
    /// The event id.
    pub event_id: String,
}

/// A site's ids at its targets, now.
#[derive(Deserialize)]
pub struct Ids {
    /// The GA4 measurement id.
    pub ga4: Option<String>,
    /// The Umami website id.
    pub umami: Option<String>,
    /// The forwarding setting as stored.
    pub forwarding: String,
}

impl Ids {
    /// The site's forwarding, each target only with its id.
    pub fn forwarding(&self) -> Forwarding {
        serde_json::from_str::<Forwarding>(&self.forwarding)
            .unwrap_or_default()
            .with_ids(self.ga4.is_some(), self.umami.is_some())
    }
}

#[derive(Deserialize)]
struct CountRow {
    site: String,
    target: String,
    n: f64,
    tenant: String,
}

impl Store {
    /// The statements that put `rows` in the outbox (for the consumer's transaction), as lists
    /// that stay under D1's size of one parameter.
    pub fn outbox_statements(
        &self,
        rows: &[Row],
        now: i64,
        max_bytes: usize,
    ) -> Result<Vec<D1PreparedStatement>, AppError> {
        let rows = rows
            .iter()
            .map(|r| serde_json::to_string(&(&r.site, r.target.name(), &r.event_id, &r.body)))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| AppError::Internal(format!("outbox: {e}")))?;
        json_arrays(rows, max_bytes)
            .into_iter()
            .map(|list| self.statement(OUTBOX_SQL, &[text(&list), number(now)]))
            .collect()
    }

    /// The statement that deletes the outbox rows of erased events, and GA4's rows carrying
    /// the erased `user` id (an erasure's transaction).
    pub fn outbox_erase_statement(
        &self,
        site: &str,
        ids: &wasm_bindgen::JsValue,
        user: Option<&str>,
    ) -> Result<D1PreparedStatement, AppError> {
        let user = user.map_or(wasm_bindgen::JsValue::NULL, text);
        self.statement(ERASE_SQL, &[text(site), ids.clone(), user])
    }

    /// The site's ids at its targets and its forwarding, if the site exists.
    pub async fn forward_target(&self, site: &str) -> Result<Option<Ids>, AppError> {
        self.row(self.statement(TARGET_SQL, &[text(site)])?).await
    }

    /// The rows of `ids` still waiting for `target` (delivered and dead ones are not).
    pub async fn waiting(
        &self,
        site: &str,
        target: Target,
        ids: &[String],
    ) -> Result<Vec<Waiting>, AppError> {
        let ids = serde_json::to_string(ids).map_err(|e| AppError::Internal(e.to_string()))?;
        self.rows(self.statement(WAITING_SQL, &[text(site), text(target.name()), text(&ids)])?)
            .await
    }

    /// Settles one delivery in one transaction: `delivered` rows deleted, `failed` rows tried once
    /// more with their `reason` (and given up when `refused`), and the counters. Answers the D1
    /// rows it wrote.
    pub async fn settle(
        &self,
        site: &str,
        target: Target,
        delivered: &[String],
        failed: &[(Vec<String>, String, bool)],
    ) -> Result<usize, AppError> {
        let list = |ids: &[String]| {
            serde_json::to_string(ids)
                .map(|t| text(&t))
                .map_err(|e| AppError::Internal(e.to_string()))
        };
        let mut statements = Vec::new();
        let mut samples = Vec::new();
        if !delivered.is_empty() {
            statements.push(self.statement(
                DELIVERED_SQL,
                &[text(site), text(target.name()), list(delivered)?],
            )?);
            samples.push(Sample::new(
                ops::FORWARDED,
                site,
                target.name(),
                delivered.len() as f64,
            ));
        }
        for (ids, reason, refused) in failed {
            statements.push(self.statement(
                FAILED_SQL,
                &[
                    text(site),
                    text(target.name()),
                    list(ids)?,
                    number(*refused as i64),
                    text(reason),
                ],
            )?);
            samples.push(Sample::new(
                ops::FORWARD_FAILURES,
                site,
                target.name(),
                ids.len() as f64,
            ));
            if *refused {
                samples.push(Sample::new(
                    ops::FORWARD_DEAD,
                    site,
                    target.name(),
                    ids.len() as f64,
                ));
            }
        }
        if statements.is_empty() {
            return Ok(0);
        }
        statements.push(self.counters_statement(&samples)?);
        let mut written = 0;
        for result in self.batch(statements).await? {
            written += result.meta()?.and_then(|m| m.rows_written).unwrap_or(0);
        }
        Ok(written)
    }

    /// Gives up on the waiting rows of `ids` (their message failed every retry), counted.
    pub async fn give_up(
        &self,
        site: &str,
        target: Target,
        ids: &[String],
    ) -> Result<(), AppError> {
        let ids = serde_json::to_string(ids).map_err(|e| AppError::Internal(e.to_string()))?;
        let result = self
            .statement(GIVE_UP_SQL, &[text(site), text(target.name()), text(&ids)])?
            .run()
            .await?;
        let changed = result.meta()?.and_then(|m| m.changes).unwrap_or(0);
        if changed > 0 {
            let sample = Sample::new(ops::FORWARD_DEAD, site, target.name(), changed as f64);
            self.add_counters(&[sample]).await?;
        }
        Ok(())
    }

    /// Waiting rows last nudged before `before` (ms), oldest first, at most `limit`, marked
    /// nudged at `now`, returned.
    pub async fn stale_waiting(
        &self,
        before: i64,
        limit: usize,
        now: i64,
    ) -> Result<Vec<Key>, AppError> {
        let binds = [number(before), number(limit as i64), number(now)];
        self.rows(self.statement(STALE_SQL, &binds)?).await
    }

    /// Dead rows back to waiting, nudged at `now` (at most `limit`, of `site` only unless
    /// empty), returned.
    pub async fn revive_dead(
        &self,
        limit: usize,
        site: &str,
        now: i64,
    ) -> Result<Vec<Key>, AppError> {
        let binds = [number(limit as i64), text(site), number(now)];
        self.rows(self.statement(REVIVE_SQL, &binds)?).await
    }

    /// Forgets given-up rows last nudged before `dead_before` (ms), rows past their site's raw
    /// retention, and rows of erased sites; answers how many.
    pub async fn purge_forwards(&self, dead_before: i64, now: i64) -> Result<usize, AppError> {
        let binds = [number(dead_before), number(now)];
        let result = self.statement(PURGE_DEAD_SQL, &binds)?.run().await?;
        Ok(result.meta()?.and_then(|m| m.changes).unwrap_or(0))
    }

    /// The waiting rows per site and target, as samples of core's `ops::FORWARD_WAITING`.
    pub async fn forward_waiting(&self) -> Result<Vec<Sample>, AppError> {
        let rows: Vec<CountRow> = self.rows(self.statement(WAITING_COUNT_SQL, &[])?).await?;
        Ok(rows
            .into_iter()
            .map(|r| Sample {
                tenant: r.tenant,
                ..Sample::new(ops::FORWARD_WAITING, &r.site, &r.target, r.n)
            })
            .collect())
    }
}
