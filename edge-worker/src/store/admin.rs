//! Storage for the admin API: tenants, sites, their domains and token hashes. Input: core's validated
//! admin specs and token hashes. Output: site settings as stored. Must not: see a token itself.

use serde::{Deserialize, Serialize};
use sightline_core::admin::{Settings, SiteSpec, TenantSpec};
use sightline_core::audit::Entry;
use worker::D1PreparedStatement;

use super::audit::Made;
use super::{first_changes, number, opt_text, text, Store};
use crate::error::AppError;

const TENANT_INSERT_SQL: &str =
    "INSERT INTO tenants (id, name, created_at) VALUES (?1, ?2, ?3) ON CONFLICT (id) DO NOTHING";
const TENANTS_SQL: &str = "SELECT id, name, created_at FROM tenants ORDER BY id";
const TENANT_EXISTS_SQL: &str = "SELECT 1 AS ok FROM tenants WHERE id = ?1";
const TENANT_TOKEN_SQL: &str = "UPDATE tenants SET token_hash = ?2 WHERE id = ?1";
/// Site ?1 belongs to a tenant whose token hash is ?2.
const TENANT_TOKEN_MATCHES_SQL: &str = "SELECT 1 AS ok FROM sites s \
     JOIN tenants t ON t.id = s.tenant_id WHERE s.id = ?1 AND t.token_hash = ?2";

const SITE_INSERT_SQL: &str = "INSERT INTO sites (id, tenant_id, timezone, retention_days, \
     ga4_measurement_id, umami_website_id, active, read_token_hash, write_token_hash, created_at, \
     aggregate_retention_days, forwarding) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) ON CONFLICT (id) DO NOTHING";
/// Domains come as one JSON array, so any number binds as one parameter. Only for a site that the
/// statement before made in the same batch (`changes()`), so a clash never touches another's site.
const DOMAINS_INSERT_NEW_SQL: &str = "INSERT INTO site_domains (site_id, domain) \
     SELECT ?1, value FROM json_each(?2) WHERE changes() = 1";
const SITE_UPDATE_SQL: &str = "UPDATE sites SET timezone = ?2, retention_days = ?3, \
     ga4_measurement_id = ?4, umami_website_id = ?5, active = ?6, aggregate_retention_days = ?7, \
     forwarding = ?8 WHERE id = ?1";
const DOMAINS_DELETE_SQL: &str = "DELETE FROM site_domains WHERE site_id = ?1";
const DOMAINS_INSERT_SQL: &str =
    "INSERT INTO site_domains (site_id, domain) SELECT ?1, value FROM json_each(?2)";
/// A site's settings (never its token hashes), of the sites `$which` picks.
macro_rules! site_select {
    ($which:literal) => {
        concat!(
            "SELECT s.id AS id, s.tenant_id AS tenant, s.timezone AS timezone, \
             s.retention_days AS retention_days, \
             s.aggregate_retention_days AS aggregate_retention_days, \
             s.ga4_measurement_id AS ga4_measurement_id, \
             s.umami_website_id AS umami_website_id, s.active AS active, \
             s.created_at AS created_at, s.forwarding AS forwarding, \
             (SELECT json_group_array(domain) FROM (SELECT domain FROM site_domains \
                WHERE site_id = s.id ORDER BY domain)) AS domains \
             FROM sites s ",
            $which
        )
    };
}
const SITE_SELECT_SQL: &str = site_select!("WHERE s.id = ?1");
/// Every site, by id (one statement: each site's domains by its key in `site_domains`).
const SITES_SELECT_SQL: &str = site_select!("ORDER BY s.id");
const TOKENS_UPDATE_SQL: &str =
    "UPDATE sites SET read_token_hash = ?2, write_token_hash = ?3 WHERE id = ?1";
/// Erasure: every row of the site, raw and aggregated (its summed periods, operational counters
/// and forwards waiting or given up too), its saved segments and funnels, its share links, then
/// the site (their references to it make a site with rows left undeletable).
const ERASE_SQL: [&str; 13] = [
    "DELETE FROM forward_outbox WHERE site_id = ?1",
    "DELETE FROM recent_events WHERE site_id = ?1",
    "DELETE FROM day_blocks WHERE site_id = ?1",
    "DELETE FROM events WHERE site_id = ?1",
    "DELETE FROM sessions WHERE site_id = ?1",
    "DELETE FROM day_parts WHERE site_id = ?1",
    "DELETE FROM period_parts WHERE site_id = ?1",
    "DELETE FROM counters WHERE site_id = ?1",
    "DELETE FROM segments WHERE site_id = ?1",
    "DELETE FROM funnels WHERE site_id = ?1",
    "DELETE FROM shares WHERE site_id = ?1",
    "DELETE FROM site_domains WHERE site_id = ?1",
    "DELETE FROM sites WHERE id = ?1",
];

/// A tenant as stored.
#[derive(Debug, Serialize, Deserialize)]
pub struct TenantRow {
    /// Id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Creation time, ms since the epoch.
    pub created_at: f64,
}

/// A site's settings as stored (no token hashes).
#[derive(Debug, Serialize)]
pub struct SiteView {
    /// Id.
    pub id: String,
    /// Owning tenant.
    pub tenant: String,
    /// Domains, time zone, retention, comparison ids, active.
    #[serde(flatten)]
    pub settings: Settings,
    /// Creation time, ms since the epoch.
    pub created_at: i64,
}

#[derive(Deserialize)]
struct SiteSelectRow {
    id: String,
    tenant: String,
    timezone: String,
    retention_days: f64,
    aggregate_retention_days: f64,
    ga4_measurement_id: Option<String>,
    umami_website_id: Option<String>,
    active: f64,
    created_at: f64,
    forwarding: String,
    domains: String,
}

impl From<SiteSelectRow> for SiteView {
    fn from(r: SiteSelectRow) -> SiteView {
        SiteView {
            id: r.id,
            tenant: r.tenant,
            settings: Settings {
                domains: serde_json::from_str(&r.domains).unwrap_or_default(),
                timezone: r.timezone,
                retention_days: r.retention_days as u32,
                aggregate_retention_days: r.aggregate_retention_days as u32,
                ga4_measurement_id: r.ga4_measurement_id,
                umami_website_id: r.umami_website_id,
                forwarding: serde_json::from_str(&r.forwarding).unwrap_or_default(),
                active: r.active != 0.0,
            },
            created_at: r.created_at as i64,
        }
    }
}

/// Outcome of an insert that may clash with an existing id.
pub enum Created {
    /// Made.
    Yes,
    /// The id is taken.
    Exists,
    /// The named tenant does not exist.
    NoTenant,
}

fn flag(value: bool) -> wasm_bindgen::JsValue {
    number(value as i64)
}

impl Store {
    /// Makes a tenant; `audit` is written in the same transaction if it was made.
    pub async fn create_tenant(
        &self,
        spec: &TenantSpec,
        now: i64,
        audit: &Entry,
    ) -> Result<Created, AppError> {
        let results = self
            .db
            .batch(vec![
                self.statement(
                    TENANT_INSERT_SQL,
                    &[text(&spec.id), text(&spec.name), number(now)],
                )?,
                self.audit_statement(audit, Made::Tenant(now))?,
            ])
            .await?;
        Ok(if first_changes(&results)? == 1 {
            Created::Yes
        } else {
            Created::Exists
        })
    }

    /// Replaces a tenant's token hash, with `audit` (written only if the tenant exists); false
    /// when there is no such tenant.
    pub async fn set_tenant_token(
        &self,
        id: &str,
        hash: &str,
        audit: &Entry,
    ) -> Result<bool, AppError> {
        let results = self
            .db
            .batch(vec![
                self.statement(TENANT_TOKEN_SQL, &[text(id), text(hash)])?,
                self.audit_statement(audit, Made::TenantExists)?,
            ])
            .await?;
        Ok(first_changes(&results)? == 1)
    }

    /// True when `hash` is the token hash of the tenant of site `site`.
    pub async fn tenant_token_matches(&self, site: &str, hash: &str) -> Result<bool, AppError> {
        let row: Option<serde_json::Value> = self
            .row(self.statement(TENANT_TOKEN_MATCHES_SQL, &[text(site), text(hash)])?)
            .await?;
        Ok(row.is_some())
    }

    /// Every tenant.
    pub async fn tenants(&self) -> Result<Vec<TenantRow>, AppError> {
        Ok(self.statement(TENANTS_SQL, &[])?.all().await?.results()?)
    }

    fn settings_binds(id: &str, s: &Settings) -> [wasm_bindgen::JsValue; 8] {
        [
            text(id),
            text(&s.timezone),
            number(s.retention_days as i64),
            opt_text(&s.ga4_measurement_id),
            opt_text(&s.umami_website_id),
            flag(s.active),
            number(i64::from(s.aggregate_retention_days)),
            text(&serde_json::to_string(&s.forwarding).unwrap_or_else(|_| "{}".into())),
        ]
    }

    fn domains_json(settings: &Settings) -> wasm_bindgen::JsValue {
        text(&serde_json::to_string(&settings.domains).unwrap_or_else(|_| "[]".into()))
    }

    /// Makes a site with its domains and token hashes; `audit` is written in the same transaction
    /// if it was made.
    pub async fn create_site(
        &self,
        spec: &SiteSpec,
        read_hash: &str,
        write_hash: &str,
        now: i64,
        audit: &Entry,
    ) -> Result<Created, AppError> {
        let tenant: Option<serde_json::Value> = self
            .statement(TENANT_EXISTS_SQL, &[text(&spec.tenant)])?
            .first(None)
            .await?;
        if tenant.is_none() {
            return Ok(Created::NoTenant);
        }
        let [id, tz, retention, ga4, umami, active, aggregates, forwarding] =
            Self::settings_binds(&spec.id, &spec.settings);
        let results = self
            .db
            .batch(vec![
                self.statement(
                    SITE_INSERT_SQL,
                    &[
                        id.clone(),
                        text(&spec.tenant),
                        tz,
                        retention,
                        ga4,
                        umami,
                        active,
                        text(read_hash),
                        text(write_hash),
                        number(now),
                        aggregates,
                        forwarding,
                    ],
                )?,
                self.statement(
                    DOMAINS_INSERT_NEW_SQL,
                    &[id, Self::domains_json(&spec.settings)],
                )?,
                self.audit_statement(audit, Made::Site(now))?,
            ])
            .await?;
        let made = first_changes(&results)?;
        super::forget_sites();
        Ok(if made == 1 {
            Created::Yes
        } else {
            Created::Exists
        })
    }

    /// A site's settings.
    pub async fn site_view(&self, id: &str) -> Result<Option<SiteView>, AppError> {
        let row: Option<SiteSelectRow> = self
            .statement(SITE_SELECT_SQL, &[text(id)])?
            .first(None)
            .await?;
        Ok(row.map(SiteView::from))
    }

    /// Every site's settings, by id.
    pub async fn site_views(&self) -> Result<Vec<SiteView>, AppError> {
        let rows: Vec<SiteSelectRow> = self.rows(self.statement(SITES_SELECT_SQL, &[])?).await?;
        Ok(rows.into_iter().map(SiteView::from).collect())
    }

    /// Replaces a site's settings (domains included) in one transaction, with `audit`.
    pub async fn update_site(
        &self,
        id: &str,
        settings: &Settings,
        audit: &Entry,
    ) -> Result<(), AppError> {
        let binds = Self::settings_binds(id, settings);
        self.db
            .batch(vec![
                self.statement(SITE_UPDATE_SQL, &binds)?,
                self.statement(DOMAINS_DELETE_SQL, &[text(id)])?,
                self.statement(
                    DOMAINS_INSERT_SQL,
                    &[text(id), Self::domains_json(settings)],
                )?,
                self.audit_statement(audit, Made::Nothing)?,
            ])
            .await?;
        super::forget_sites();
        Ok(())
    }

    /// Replaces both token hashes, with `audit`, in one transaction.
    pub async fn set_tokens(
        &self,
        id: &str,
        read_hash: &str,
        write_hash: &str,
        audit: &Entry,
    ) -> Result<(), AppError> {
        self.db
            .batch(vec![
                self.statement(
                    TOKENS_UPDATE_SQL,
                    &[text(id), text(read_hash), text(write_hash)],
                )?,
                self.audit_statement(audit, Made::Nothing)?,
            ])
            .await?;
        super::forget_sites();
        Ok(())
    }

    /// Deletes a site and every row it owns, with `audit`, in one transaction.
    pub async fn erase_site(&self, id: &str, audit: &Entry) -> Result<(), AppError> {
        let mut statements = ERASE_SQL
            .iter()
            .map(|sql| self.statement(sql, &[text(id)]))
            .collect::<Result<Vec<D1PreparedStatement>, _>>()?;
        statements.push(self.audit_statement(audit, Made::Nothing)?);
        self.db.batch(statements).await?;
        super::forget_sites();
        Ok(())
    }
}
