//! Storage: the only module that talks to D1, and the only Rust module holding SQL (this file: sites,
//! salts, events and reports; [`admin`]: tenants and site settings).
//!
//! Every statement is a `&'static str` with `?N` binds; the one choice of SQL by input (a breakdown's
//! dimension) is a `match` over core's closed [`Dimension`] enum. Numbers are bound as `f64` (an `i64`
//! would reach D1 as a BigInt, which it rejects). Input: core's rows and queries. Output: core's row
//! types. Must not: build SQL from values, or store anything core did not hand it.

use std::cell::RefCell;

use serde::Deserialize;
use sightline_core::ingest::{Event, Site};
use sightline_core::stats::{BreakdownRow, DayRow, Dimension, Range, Totals};
use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement, Env};

use crate::error::AppError;

pub mod admin;

const DAY_MS: i64 = 24 * 3600 * 1000;

/// The D1 database behind the `DB` binding.
pub struct Store {
    db: D1Database,
}

thread_local! {
    /// Today's salt, cached for the life of the isolate: (UTC day, salt).
    static SALT: RefCell<Option<(i64, String)>> = const { RefCell::new(None) };
}

pub(crate) fn text(value: &str) -> JsValue {
    JsValue::from_str(value)
}

pub(crate) fn number(value: i64) -> JsValue {
    JsValue::from_f64(value as f64)
}

pub(crate) fn opt_text(value: &Option<String>) -> JsValue {
    value.as_deref().map_or(JsValue::NULL, JsValue::from_str)
}

const SITE_SQL: &str = "SELECT s.id AS id, s.active AS active, \
     s.write_token_hash AS write_token_hash, \
     COALESCE(group_concat(d.domain, ' '), '') AS domains \
     FROM sites s LEFT JOIN site_domains d ON d.site_id = s.id WHERE s.id = ?1 GROUP BY s.id";

const TOKEN_SQL: &str = "SELECT 1 AS ok FROM sites WHERE id = ?1 AND read_token_hash = ?2";

const SALT_INSERT_SQL: &str = "INSERT OR IGNORE INTO salts (day, salt) VALUES (?1, ?2)";
const SALT_PURGE_SQL: &str = "DELETE FROM salts WHERE day < ?1 - 2";
const SALT_SELECT_SQL: &str = "SELECT salt FROM salts WHERE day = ?1";

/// A whole batch of events as one JSON array bound to one parameter (D1 allows 100 parameters per
/// statement, not 100 rows). `OR IGNORE` on the (site_id, event_id) key makes a redelivered batch,
/// or an event sent twice, count once.
const EVENTS_INSERT_SQL: &str =
    "INSERT OR IGNORE INTO events (site_id, event_id, ts, received_at, \
     name, hostname, path, referrer_host, utm_source, utm_medium, utm_campaign, utm_term, \
     utm_content, country, visitor_key, session_key, props, source, channel, device, browser, os) \
     SELECT e ->> '$.site_id', e ->> '$.event_id', e ->> '$.ts', e ->> '$.received_at', \
       e ->> '$.name', e ->> '$.hostname', e ->> '$.path', e ->> '$.enrichment.referrer_host', \
       e ->> '$.enrichment.utm_source', e ->> '$.enrichment.utm_medium', \
       e ->> '$.enrichment.utm_campaign', e ->> '$.enrichment.utm_term', \
       e ->> '$.enrichment.utm_content', e ->> '$.enrichment.country', e ->> '$.visitor_key', \
       e ->> '$.session_key', e ->> '$.props_json', e ->> '$.enrichment.source', \
       e ->> '$.enrichment.channel', e ->> '$.enrichment.device', e ->> '$.enrichment.browser', \
       e ->> '$.enrichment.os' \
     FROM (SELECT value AS e FROM json_each(?1))";

/// Events per insert statement: keeps one bound JSON parameter well under D1's 1 MB statement size.
const EVENTS_PER_STATEMENT: usize = 200;

const DEAD_LETTER_SQL: &str =
    "INSERT INTO dead_letters (day, messages, events) VALUES (?1, ?2, ?3) \
     ON CONFLICT (day) DO UPDATE SET messages = messages + excluded.messages, \
       events = events + excluded.events";

const PURGE_EVENTS_SQL: &str = "DELETE FROM events WHERE ts < ?1 - 86400000 * \
     COALESCE((SELECT retention_days FROM sites WHERE sites.id = events.site_id), 0)";
const PURGE_SALTS_SQL: &str = "DELETE FROM salts WHERE day < ?1 - 2";

const TOTALS_SQL: &str = "SELECT \
       COALESCE(SUM(pv), 0) AS pageviews, \
       (SELECT COUNT(DISTINCT visitor_key) FROM events \
          WHERE site_id = ?1 AND ts >= ?2 AND ts < ?3) AS visitors, \
       COUNT(*) AS visits, \
       COALESCE(SUM(CASE WHEN pv < 2 AND ev = 0 THEN 1 ELSE 0 END), 0) AS bounces, \
       COALESCE(SUM(duration), 0) AS total_duration_ms \
     FROM (SELECT SUM(name = 'pageview') AS pv, SUM(name <> 'pageview') AS ev, \
             MAX(ts) - MIN(ts) AS duration \
           FROM events WHERE site_id = ?1 AND ts >= ?2 AND ts < ?3 GROUP BY session_key)";

const DAYS_SQL: &str = "SELECT ts / 86400000 AS day, SUM(name = 'pageview') AS pageviews, \
       COUNT(DISTINCT visitor_key) AS visitors \
     FROM events WHERE site_id = ?1 AND ts >= ?2 AND ts < ?3 GROUP BY day ORDER BY day";

/// Pageviews grouped by a column of the pageview itself.
macro_rules! by_pageview {
    ($column:literal) => {
        concat!(
            "SELECT ",
            $column,
            " AS value, COUNT(DISTINCT visitor_key) AS visitors, ",
            "COUNT(*) AS count FROM events ",
            "WHERE site_id = ?1 AND ts >= ?2 AND ts < ?3 AND name = 'pageview' ",
            "GROUP BY value ORDER BY count DESC, value LIMIT 100"
        )
    };
}

/// Visits grouped by a column of their first (`ASC`) or last (`DESC`) pageview.
macro_rules! by_visit {
    ($column:literal, $order:literal) => {
        concat!(
            "SELECT ",
            $column,
            " AS value, COUNT(DISTINCT visitor_key) AS visitors, ",
            "COUNT(*) AS count FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY session_key ",
            "ORDER BY ts ",
            $order,
            ", event_id ",
            $order,
            ") AS n FROM events ",
            "WHERE site_id = ?1 AND ts >= ?2 AND ts < ?3 AND name = 'pageview') WHERE n = 1 ",
            "GROUP BY value ORDER BY count DESC, value LIMIT 100"
        )
    };
}

/// Names of conversion events, counted as goals and, with a `value`, as revenue.
macro_rules! conversions {
    () => {
        "('purchase', 'checkout_completed', 'booking_completed', 'signup_completed', \
          'login_completed')"
    };
}

fn breakdown_sql(dimension: Dimension) -> &'static str {
    match dimension {
        Dimension::Pages => by_pageview!("path"),
        Dimension::Countries => by_pageview!("country"),
        Dimension::Devices => by_pageview!("device"),
        Dimension::Browsers => by_pageview!("browser"),
        Dimension::Os => by_pageview!("os"),
        Dimension::EntryPages => by_visit!("path", "ASC"),
        Dimension::ExitPages => by_visit!("path", "DESC"),
        Dimension::Sources => by_visit!("source", "ASC"),
        Dimension::Referrers => by_visit!("referrer_host", "ASC"),
        Dimension::Channels => by_visit!("channel", "ASC"),
        Dimension::Utm => by_visit!("utm_campaign", "ASC"),
        Dimension::Events => {
            "SELECT name AS value, COUNT(DISTINCT visitor_key) AS visitors, COUNT(*) AS count \
             FROM events WHERE site_id = ?1 AND ts >= ?2 AND ts < ?3 AND name <> 'pageview' \
             GROUP BY name ORDER BY count DESC, value LIMIT 100"
        }
        Dimension::Goals => concat!(
            "SELECT name AS value, COUNT(DISTINCT visitor_key) AS visitors, COUNT(*) AS count ",
            "FROM events WHERE site_id = ?1 AND ts >= ?2 AND ts < ?3 AND name IN ",
            conversions!(),
            " GROUP BY name ORDER BY count DESC, value LIMIT 100"
        ),
        Dimension::Revenue => concat!(
            "SELECT upper(json_extract(props, '$.currency')) AS value, ",
            "COUNT(DISTINCT visitor_key) AS visitors, COUNT(*) AS count, ",
            "SUM(json_extract(props, '$.value')) AS amount FROM events ",
            "WHERE site_id = ?1 AND ts >= ?2 AND ts < ?3 AND name IN ",
            conversions!(),
            " AND typeof(json_extract(props, '$.value')) IN ('integer', 'real') ",
            "GROUP BY value ORDER BY amount DESC, value LIMIT 100"
        ),
        // p75 by nearest rank: the ceil(0.75 n)-th smallest value of each metric.
        Dimension::Vitals => {
            "SELECT metric AS value, COUNT(DISTINCT visitor_key) AS visitors, MAX(n) AS count, \
               MAX(CASE WHEN rank = (3 * n + 3) / 4 THEN v END) AS amount \
             FROM (SELECT json_extract(props, '$.metric') AS metric, \
                     json_extract(props, '$.value') AS v, visitor_key, \
                     ROW_NUMBER() OVER (PARTITION BY json_extract(props, '$.metric') \
                       ORDER BY json_extract(props, '$.value')) AS rank, \
                     COUNT(*) OVER (PARTITION BY json_extract(props, '$.metric')) AS n \
                   FROM events WHERE site_id = ?1 AND ts >= ?2 AND ts < ?3 \
                     AND name = 'web_vital' \
                     AND typeof(json_extract(props, '$.value')) IN ('integer', 'real')) \
             GROUP BY metric ORDER BY metric"
        }
    }
}

#[derive(Deserialize)]
struct SiteRow {
    id: String,
    active: f64,
    write_token_hash: Option<String>,
    domains: String,
}

#[derive(Deserialize)]
struct SaltRow {
    salt: String,
}

impl Store {
    /// Opens the `DB` binding.
    pub fn new(env: &Env) -> Result<Self, AppError> {
        Ok(Store { db: env.d1("DB")? })
    }

    pub(crate) fn statement(
        &self,
        sql: &'static str,
        binds: &[JsValue],
    ) -> Result<D1PreparedStatement, AppError> {
        Ok(self.db.prepare(sql).bind(binds)?)
    }

    /// The site with this id, if any (active or not).
    pub async fn site(&self, id: &str) -> Result<Option<Site>, AppError> {
        let row: Option<SiteRow> = self.statement(SITE_SQL, &[text(id)])?.first(None).await?;
        Ok(row.map(|r| Site {
            id: r.id,
            active: r.active != 0.0,
            write_token_hash: r.write_token_hash,
            domains: r
                .domains
                .split(' ')
                .filter(|d| !d.is_empty())
                .map(str::to_owned)
                .collect(),
        }))
    }

    /// True when `token_hash` is the read token hash of site `id`.
    pub async fn read_token_matches(&self, id: &str, token_hash: &str) -> Result<bool, AppError> {
        let row: Option<serde_json::Value> = self
            .statement(TOKEN_SQL, &[text(id), text(token_hash)])?
            .first(None)
            .await?;
        Ok(row.is_some())
    }

    /// The salt of the UTC day holding `now`, creating it with `fresh()` on first use that day and
    /// deleting salts older than two days.
    pub async fn salt(&self, now: i64, fresh: impl FnOnce() -> String) -> Result<String, AppError> {
        let day = now.div_euclid(DAY_MS);
        if let Some(salt) = SALT.with_borrow(|s| {
            s.as_ref()
                .filter(|(d, _)| *d == day)
                .map(|(_, s)| s.clone())
        }) {
            return Ok(salt);
        }
        let results = self
            .db
            .batch(vec![
                self.statement(SALT_INSERT_SQL, &[number(day), text(&fresh())])?,
                self.statement(SALT_PURGE_SQL, &[number(day)])?,
                self.statement(SALT_SELECT_SQL, &[number(day)])?,
            ])
            .await?;
        let salt = results
            .last()
            .map(|r| r.results::<SaltRow>())
            .transpose()?
            .and_then(|rows| rows.into_iter().next())
            .map(|r| r.salt)
            .ok_or_else(|| AppError::Internal("salt row missing after insert".into()))?;
        SALT.set(Some((day, salt.clone())));
        Ok(salt)
    }

    /// Inserts events in one transaction; an event id already stored is ignored. Returns how many
    /// were new.
    pub async fn insert_events(&self, events: &[Event]) -> Result<usize, AppError> {
        let statements = events
            .chunks(EVENTS_PER_STATEMENT)
            .map(|chunk| {
                let json = serde_json::to_string(chunk)
                    .map_err(|e| AppError::Internal(format!("events to JSON: {e}")))?;
                self.statement(EVENTS_INSERT_SQL, &[text(&json)])
            })
            .collect::<Result<Vec<_>, _>>()?;
        if statements.is_empty() {
            return Ok(0);
        }
        let mut stored = 0;
        for result in self.db.batch(statements).await? {
            stored += result.meta()?.and_then(|m| m.changes).unwrap_or(0);
        }
        Ok(stored)
    }

    /// Counts queue messages (and the events in them) that were given up on.
    pub async fn count_dead_letters(
        &self,
        now: i64,
        messages: usize,
        events: usize,
    ) -> Result<(), AppError> {
        let day = now.div_euclid(DAY_MS);
        self.statement(
            DEAD_LETTER_SQL,
            &[number(day), number(messages as i64), number(events as i64)],
        )?
        .run()
        .await?;
        Ok(())
    }

    /// Housekeeping: raw events past their site's retention (and of deleted sites), salts older
    /// than two days. Returns the number of events deleted.
    pub async fn purge(&self, now: i64) -> Result<usize, AppError> {
        let results = self
            .db
            .batch(vec![
                self.statement(PURGE_EVENTS_SQL, &[number(now)])?,
                self.statement(PURGE_SALTS_SQL, &[number(now.div_euclid(DAY_MS))])?,
            ])
            .await?;
        Ok(results
            .first()
            .map(|r| r.meta())
            .transpose()?
            .flatten()
            .and_then(|m| m.changes)
            .unwrap_or(0))
    }

    /// Totals over a range.
    pub async fn totals(&self, site: &str, range: Range) -> Result<Totals, AppError> {
        let row = self
            .range_statement(TOTALS_SQL, site, range)?
            .first(None)
            .await?;
        Ok(row.unwrap_or_default())
    }

    /// Pageviews and visitors per UTC day.
    pub async fn days(&self, site: &str, range: Range) -> Result<Vec<DayRow>, AppError> {
        Ok(self
            .range_statement(DAYS_SQL, site, range)?
            .all()
            .await?
            .results()?)
    }

    /// A top list by `dimension`.
    pub async fn breakdown(
        &self,
        site: &str,
        dimension: Dimension,
        range: Range,
    ) -> Result<Vec<BreakdownRow>, AppError> {
        let sql = breakdown_sql(dimension);
        Ok(self
            .range_statement(sql, site, range)?
            .all()
            .await?
            .results()?)
    }

    fn range_statement(
        &self,
        sql: &'static str,
        site: &str,
        range: Range,
    ) -> Result<D1PreparedStatement, AppError> {
        self.statement(sql, &[text(site), number(range.from), number(range.to)])
    }
}
