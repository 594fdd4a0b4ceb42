//! Storage for the audit log (`audit_log`, migration 0012): one entry per admin action, the log
//! read newest first, a page at a time, and entries past their 90 days deleted by the cron.
//! Must not: decide what an entry holds (core's `audit` does).

use serde::{Deserialize, Serialize};
use sightline_core::audit::Entry;

use super::{number, text, Store};
use crate::error::AppError;

const INSERT_SQL: &str =
    "INSERT INTO audit_log (at, action, target, actor, detail) VALUES (?1, ?2, ?3, ?4, ?5)";
/// Entries before id ?1, newest first, at most ?2.
const PAGE_SQL: &str = "SELECT id, at, action, target, actor, detail FROM audit_log \
     WHERE id < ?1 ORDER BY id DESC LIMIT ?2";
const PURGE_SQL: &str = "DELETE FROM audit_log WHERE at < ?1";

/// A stored entry as the admin API answers it.
#[derive(Debug, Deserialize, Serialize)]
pub struct Row {
    /// Its place in the log.
    pub id: f64,
    /// When (ms).
    pub at: f64,
    /// What.
    pub action: String,
    /// To which tenant or site.
    pub target: String,
    /// By which token (fingerprint).
    pub actor: String,
    /// Details, as their JSON text.
    pub detail: String,
}

impl Store {
    /// Writes one entry.
    pub async fn audit(&self, entry: &Entry) -> Result<(), AppError> {
        let binds = [
            number(entry.at),
            text(entry.action),
            text(&entry.target),
            text(&entry.actor),
            text(&entry.detail.to_string()),
        ];
        self.statement(INSERT_SQL, &binds)?.run().await?;
        Ok(())
    }

    /// Up to `limit` entries before id `before`, newest first.
    pub async fn audit_page(&self, before: i64, limit: usize) -> Result<Vec<Row>, AppError> {
        let binds = [number(before), number(limit as i64)];
        self.rows(self.statement(PAGE_SQL, &binds)?).await
    }

    /// Deletes the entries made before `cutoff` (ms); answers how many.
    pub async fn purge_audit(&self, cutoff: i64) -> Result<usize, AppError> {
        let result = self.statement(PURGE_SQL, &[number(cutoff)])?.run().await?;
        Ok(result.meta()?.and_then(|m| m.changes).unwrap_or(0))
    }
}
