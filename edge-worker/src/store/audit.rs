//! Storage for the audit log (`audit_log`, migration 0012): one entry per admin action — written
//! in the action's own transaction where it has one ([`Store::audit_statement`]) —, the log read
//! newest first, a page at a time, and entries past their 90 days deleted by the cron.
//! Must not: decide what an entry holds (core's `audit` does).

use serde::{Deserialize, Serialize};
use sightline_core::audit::Entry;

use super::{number, text, Store};
use crate::error::AppError;

const INSERT_SQL: &str =
    "INSERT INTO audit_log (at, action, target, actor, detail) VALUES (?1, ?2, ?3, ?4, ?5)";
/// The entry, only if the tenant ?3 was made by this transaction (created at ?1).
const IF_TENANT_MADE_SQL: &str = "INSERT INTO audit_log (at, action, target, actor, detail) \
     SELECT ?1, ?2, ?3, ?4, ?5 WHERE (SELECT created_at FROM tenants WHERE id = ?3) = ?1";
/// The entry, only if the site ?3 was made by this transaction (created at ?1).
const IF_SITE_MADE_SQL: &str = "INSERT INTO audit_log (at, action, target, actor, detail) \
     SELECT ?1, ?2, ?3, ?4, ?5 WHERE (SELECT created_at FROM sites WHERE id = ?3) = ?1";
/// The entry, only if the tenant ?3 exists.
const IF_TENANT_SQL: &str = "INSERT INTO audit_log (at, action, target, actor, detail) \
     SELECT ?1, ?2, ?3, ?4, ?5 WHERE EXISTS (SELECT 1 FROM tenants WHERE id = ?3)";
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

/// What an action's transaction makes, which its entry is written only if it did.
#[derive(Debug, Clone, Copy)]
pub enum Made {
    /// Nothing to check: the entry is written with the action.
    Nothing,
    /// A tenant, created at this time (ms): the entry's target.
    Tenant(i64),
    /// A site, created at this time (ms): the entry's target.
    Site(i64),
    /// Nothing made, but the entry's target, a tenant, must exist.
    TenantExists,
}

impl Store {
    /// The statement writing `entry` (for the action's own transaction: an action and its entry
    /// are written together or not at all). A made tenant or site must have been created at the
    /// entry's time.
    pub fn audit_statement(
        &self,
        entry: &Entry,
        made: Made,
    ) -> Result<worker::D1PreparedStatement, AppError> {
        let (sql, at) = match made {
            Made::Nothing => (INSERT_SQL, entry.at),
            Made::Tenant(at) => (IF_TENANT_MADE_SQL, at),
            Made::Site(at) => (IF_SITE_MADE_SQL, at),
            Made::TenantExists => (IF_TENANT_SQL, entry.at),
        };
        let binds = [
            number(at),
            text(entry.action),
            text(&entry.target),
            text(&entry.actor),
            text(&entry.detail.to_string()),
        ];
        self.statement(sql, &binds)
    }

    /// Writes one entry on its own (an action with no transaction of its own to join).
    pub async fn audit(&self, entry: &Entry) -> Result<(), AppError> {
        self.audit_statement(entry, Made::Nothing)?.run().await?;
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
