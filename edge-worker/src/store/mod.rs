//! Storage: the only module that talks to D1, and the only Rust module holding SQL (this file: sites,
//! salts, events and reports; [`admin`]: tenants and site settings; [`saved`]: segments and
//! funnels; [`shares`]: share links, and what a token is to a site).
//!
//! Every statement is a `&'static str` with `?N` binds; the one choice of SQL by input (a breakdown's
//! dimension) is a `match` over core's closed [`Dimension`] enum. Numbers are bound as `f64` (an `i64`
//! would reach D1 as a BigInt, which it rejects). Input: core's rows and queries. Output: core's row
//! types. Must not: build SQL from values, or store anything core did not hand it.
//!
//! Reads of this module go through [`Store::rows`] / [`Store::row`] / [`Store::batch`], which in
//! the `test-hooks` build also sum D1's `meta.rows_read` for `Store::rows_read` (the
//! `X-D1-Rows-Read` header `npm run bench:reports` reads).

use std::cell::RefCell;

use serde::Deserialize;
use sightline_core::forward::{Forwarding, Mode, Target};
use sightline_core::ingest::aggregate::Day;
use sightline_core::ingest::gate::SiteCache;
use sightline_core::ingest::Site;
use sightline_core::zone::Zone;
use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement, D1Result, Env};

use crate::error::AppError;

pub mod admin;
pub mod audit;
pub mod blocks;
pub mod compact;
pub mod dead_letters;
pub mod erase;
pub mod export;
pub mod forward;
pub mod ingest;
pub mod ops;
pub mod query;
pub mod saved;
pub mod shares;

pub(crate) const DAY_MS: i64 = 24 * 3600 * 1000;

/// The rows the first statement of a batch changed.
pub(crate) fn first_changes(results: &[D1Result]) -> Result<usize, AppError> {
    Ok(results
        .first()
        .map(|r| r.meta())
        .transpose()?
        .flatten()
        .and_then(|m| m.changes)
        .unwrap_or(0))
}

/// The D1 database behind the `DB` binding.
pub struct Store {
    db: D1Database,
    /// D1's `rows_read`, summed over the statements run through this store's read helpers.
    #[cfg(feature = "test-hooks")]
    rows_read: std::cell::Cell<usize>,
}

thread_local! {
    /// Today's salt, cached for the life of the isolate: (UTC day, salt).
    static SALT: RefCell<Option<(i64, String)>> = const { RefCell::new(None) };
    /// What the collector's gate read about site ids, per isolate (core's rules: real sites and
    /// unknown ids apart, each bounded, trusted for `gate::SITE_TTL_MS`). Locally one site read was
    /// ~a third of the collector's cost per request; on Cloudflare it is a round trip to D1.
    static SITES: RefCell<SiteCache> = RefCell::new(SiteCache::default());
}

/// Makes this isolate read every site again on its next beacon (after an admin change).
pub(crate) fn forget_sites() {
    SITES.with_borrow_mut(SiteCache::clear);
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
     s.write_token_hash AS write_token_hash, s.forwarding AS forwarding, \
     s.ga4_measurement_id IS NOT NULL AS ga4, \
     COALESCE(group_concat(d.domain, ' '), '') AS domains \
     FROM sites s LEFT JOIN site_domains d ON d.site_id = s.id WHERE s.id = ?1 GROUP BY s.id";

const SITE_EXISTS_SQL: &str = "SELECT 1 AS ok FROM sites WHERE id = ?1";

const SALT_INSERT_SQL: &str = "INSERT OR IGNORE INTO salts (day, salt) VALUES (?1, ?2)";
const SALT_PURGE_SQL: &str = "DELETE FROM salts WHERE day < ?1 - 2";
const SALT_SELECT_SQL: &str = "SELECT salt FROM salts WHERE day = ?1";

/// A raw event goes once it is past its site's retention by its own time AND was received over
/// 48 hours ago: its id (the de-duplication key) is remembered that long whatever its timestamp
/// (a week-old offline replay on a two-day site, an import). An erased site's go at once. Past
/// retention is `core::retention::purge_before` (?2: today's UTC day): before the UTC midnight a
/// day before the site's retention, so every kept local day stays whole in any zone.
const PURGE_EVENTS_SQL: &str = "DELETE FROM events WHERE \
     (ts < 86400000 * (?2 - 1 - \
        COALESCE((SELECT retention_days FROM sites WHERE sites.id = events.site_id), 0)) \
      AND received_at < ?1 - 172800000) \
     OR site_id NOT IN (SELECT id FROM sites)";
const PURGE_SESSIONS_SQL: &str = "DELETE FROM sessions WHERE last_at < 86400000 * (?1 - 1 - \
     COALESCE((SELECT retention_days FROM sites WHERE sites.id = sessions.site_id), 0))";
/// Rollups are kept for as long as their site exists (events queued when a site was erased may
/// have made some after the erasure), or its `aggregate_retention_days` when set: a day older
/// than that (?1: today's UTC day), and a summed week or month ending before it, goes.
const PURGE_ROLLUPS_SQL: &str =
    "DELETE FROM day_parts WHERE site_id NOT IN (SELECT id FROM sites) \
     OR day < ?1 - COALESCE((SELECT NULLIF(aggregate_retention_days, 0) FROM sites \
       WHERE sites.id = day_parts.site_id), ?1)";
const PURGE_PERIODS_SQL: &str = "DELETE FROM period_parts WHERE \
     last_day < ?1 - COALESCE((SELECT NULLIF(aggregate_retention_days, 0) FROM sites \
       WHERE sites.id = period_parts.site_id), ?1)";
const PURGE_SALTS_SQL: &str = "DELETE FROM salts WHERE day < ?1 - 2";
/// The recent log keeps `core::retention::recent_first_hour` on (?1), and rows of erased sites
/// go.
const PURGE_RECENT_SQL: &str = "DELETE FROM recent_events WHERE hour < ?1 \
     OR site_id NOT IN (SELECT id FROM sites)";
/// Day blocks go with their site's raw events (local days before the day before
/// `core::retention::purge_before_day`, ?1 being today's UTC day: a site's
/// `retention::first_read_day` is kept, in any zone), and with their site.
const PURGE_BLOCKS_SQL: &str =
    "DELETE FROM day_blocks WHERE site_id NOT IN (SELECT id FROM sites) \
     OR day < ?1 - 2 - COALESCE((SELECT retention_days FROM sites \
       WHERE sites.id = day_blocks.site_id), 0)";

/// The parts ?4 (a JSON list) of a site's days `[?2, ?3]`, as pieces keyed by their first and last
/// day, with the version (a day's) or stamp (a summed period's) each part is stored under — the
/// text of those whose `first:last:part:version` is in ?6 (what the worker holds, each key between
/// commas: a search in one text, where a list in a table would count as rows read) left out. When
/// ?5 is 1, each summed month inside the range, then each summed week inside it that no such
/// month overlaps, then the days of the gaps between the chosen periods (which never overlap). A stored period is its days'
/// exact sum (a write of a day drops its periods); a negative stamp marks one too big to store.
/// `CROSS JOIN` keeps SQLite's join order: the part names first, so each part is a range of its
/// key, not a scan of the site.
const ROLLUPS_SQL: &str = "WITH months AS MATERIALIZED (SELECT first_day AS f, last_day AS l \
       FROM period_parts WHERE ?5 = 1 AND site_id = ?1 AND part = 'totals' \
       AND first_day >= ?2 AND last_day <= ?3 AND stamp > 0 AND last_day - first_day > 6), \
     chosen AS MATERIALIZED (SELECT f, l FROM months UNION ALL \
       SELECT w.first_day, w.last_day FROM period_parts w WHERE ?5 = 1 AND w.site_id = ?1 \
         AND w.part = 'totals' AND w.first_day >= ?2 AND w.last_day <= ?3 AND w.stamp > 0 \
         AND w.last_day - w.first_day <= 6 \
         AND NOT EXISTS (SELECT 1 FROM months m WHERE m.f <= w.last_day AND w.first_day <= m.l)), \
     gaps AS (SELECT COALESCE(lag(l) OVER (ORDER BY f), ?2 - 1) + 1 AS a, f - 1 AS b FROM chosen \
       UNION ALL SELECT COALESCE(MAX(l), ?2 - 1) + 1, ?3 FROM chosen) \
     SELECT c.f AS day, c.l AS last, p.part AS part, p.stamp AS version, \
       CASE WHEN instr(?6, ',' || c.f || ':' || c.l || ':' || p.part || ':' || p.stamp || ',') \
         THEN NULL ELSE p.data END AS data \
     FROM chosen c CROSS JOIN json_each(?4) j \
       CROSS JOIN period_parts p ON p.site_id = ?1 AND p.part = j.value AND p.first_day = c.f \
       AND p.last_day = c.l \
     UNION ALL \
     SELECT d.day AS day, d.day AS last, d.part AS part, d.version AS version, \
       CASE WHEN instr(?6, ',' || d.day || ':' || d.day || ':' || d.part || ':' || d.version || ',') \
         THEN NULL ELSE d.data END AS data \
     FROM gaps g CROSS JOIN json_each(?4) j \
       CROSS JOIN day_parts d ON d.site_id = ?1 AND d.part = j.value AND d.day >= g.a \
       AND d.day <= g.b WHERE g.a <= g.b";

/// Visits with an event in the window, and their visitors and pageviews.
const REALTIME_SQL: &str = "SELECT COUNT(DISTINCT visitor_key) AS visitors, COUNT(*) AS visits, \
       COALESCE(SUM(state ->> '$.pageviews'), 0) AS pageviews \
     FROM sessions WHERE site_id = ?1 AND last_at >= ?2";

const ZONE_SQL: &str = "SELECT timezone FROM sites WHERE id = ?1";

#[derive(Deserialize)]
struct SiteRow {
    id: String,
    active: f64,
    write_token_hash: Option<String>,
    forwarding: String,
    ga4: f64,
    domains: String,
}

#[derive(Deserialize)]
struct SaltRow {
    salt: String,
}

impl Store {
    /// Opens the `DB` binding.
    pub fn new(env: &Env) -> Result<Self, AppError> {
        Ok(Store {
            db: env.d1("DB")?,
            #[cfg(feature = "test-hooks")]
            rows_read: std::cell::Cell::new(0),
        })
    }

    /// Runs a statement and returns its rows.
    pub(crate) async fn rows<T: serde::de::DeserializeOwned>(
        &self,
        statement: D1PreparedStatement,
    ) -> Result<Vec<T>, AppError> {
        let result = statement.all().await?;
        self.count(&result);
        Ok(result.results()?)
    }

    /// Runs a statement and returns its first row, if any.
    pub(crate) async fn row<T: serde::de::DeserializeOwned>(
        &self,
        statement: D1PreparedStatement,
    ) -> Result<Option<T>, AppError> {
        Ok(self.rows(statement).await?.into_iter().next())
    }

    /// Runs statements in one batch (one transaction).
    pub(crate) async fn batch(
        &self,
        statements: Vec<D1PreparedStatement>,
    ) -> Result<Vec<D1Result>, AppError> {
        let results = self.db.batch(statements).await?;
        results.iter().for_each(|r| self.count(r));
        Ok(results)
    }

    /// Adds a result's rows read to `Store::rows_read` (the test-hooks build only).
    fn count(&self, _result: &D1Result) {
        #[cfg(feature = "test-hooks")]
        if let Ok(Some(meta)) = _result.meta() {
            let read = meta.rows_read.unwrap_or(0);
            self.rows_read.set(self.rows_read.get() + read);
        }
    }

    /// D1's rows read by this store's statements so far (the test-hooks build only).
    #[cfg(feature = "test-hooks")]
    pub fn rows_read(&self) -> usize {
        self.rows_read.get()
    }

    pub(crate) fn statement(
        &self,
        sql: &'static str,
        binds: &[JsValue],
    ) -> Result<D1PreparedStatement, AppError> {
        Ok(self.db.prepare(sql).bind(binds)?)
    }

    /// What this isolate read about site `id` (active or not; `Some(None)`: no such site) within
    /// the cache's time before `now`; `None` when it must be read with [`Store::read_site`].
    pub fn remembered_site(id: &str, now: i64) -> Option<Option<Site>> {
        SITES.with_borrow(|sites| sites.get(id, now))
    }

    /// Reads site `id` (active or not) from D1 and remembers it, or its absence, for the gate.
    pub async fn read_site(&self, id: &str, now: i64) -> Result<Option<Site>, AppError> {
        let site = self.site(id).await?;
        SITES.with_borrow_mut(|sites| sites.put(id, now, site.clone()));
        Ok(site)
    }

    /// The site with this id, if any (active or not).
    async fn site(&self, id: &str) -> Result<Option<Site>, AppError> {
        let row: Option<SiteRow> = self.row(self.statement(SITE_SQL, &[text(id)])?).await?;
        Ok(row.map(|r| {
            let ga4 = serde_json::from_str::<Forwarding>(&r.forwarding)
                .unwrap_or_default()
                .with_ids(r.ga4 != 0.0, false)
                .route(Target::Ga4)
                .map(|route| route.mode);
            Site {
                id: r.id,
                active: r.active != 0.0,
                write_token_hash: r.write_token_hash,
                forwards_user_id: ga4.is_some(),
                ga4_server_only: ga4 == Some(Mode::Server),
                domains: r
                    .domains
                    .split(' ')
                    .filter(|d| !d.is_empty())
                    .map(str::to_owned)
                    .collect(),
            }
        }))
    }

    /// True when site `id` exists (active or not).
    pub async fn site_exists(&self, id: &str) -> Result<bool, AppError> {
        let row: Option<serde_json::Value> = self
            .row(self.statement(SITE_EXISTS_SQL, &[text(id)])?)
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

    /// Housekeeping: raw events, visits and day blocks past their site's retention (and of erased
    /// sites, with their rollups), rollup days and summed periods past the site's retention of aggregates,
    /// salts older than two days. Returns the number of events deleted.
    pub async fn purge(&self, now: i64) -> Result<usize, AppError> {
        let results = self
            .batch(vec![
                self.statement(
                    PURGE_EVENTS_SQL,
                    &[number(now), number(now.div_euclid(DAY_MS))],
                )?,
                self.statement(PURGE_SESSIONS_SQL, &[number(now.div_euclid(DAY_MS))])?,
                self.statement(PURGE_ROLLUPS_SQL, &[number(now.div_euclid(DAY_MS))])?,
                self.statement(PURGE_PERIODS_SQL, &[number(now.div_euclid(DAY_MS))])?,
                self.statement(PURGE_SALTS_SQL, &[number(now.div_euclid(DAY_MS))])?,
                self.statement(PURGE_BLOCKS_SQL, &[number(now.div_euclid(DAY_MS))])?,
                self.statement(
                    PURGE_RECENT_SQL,
                    &[number(sightline_core::retention::recent_first_hour(now))],
                )?,
            ])
            .await?;
        first_changes(&results)
    }

    /// A site's stored rollups over each range of local days `(first, last)` (inclusive), with
    /// only the parts named (`core::ingest::parts`) read: days, or — when `periods` — also the
    /// closed weeks and months the cron summed (`core::ingest::compact`), each keyed by its
    /// first day. Ranges must not overlap (a day is read once); each is read in one statement,
    /// all in one round trip.
    pub async fn rollups(
        &self,
        site: &str,
        ranges: &[(i64, i64)],
        parts: &[&str],
        periods: bool,
    ) -> Result<Vec<(i64, Day)>, AppError> {
        let mut days: std::collections::BTreeMap<i64, Vec<(String, String)>> = Default::default();
        for r in self.rollup_parts(site, ranges, parts, periods, &[]).await? {
            days.entry(r.first)
                .or_default()
                .extend(r.data.map(|d| (r.part, d)));
        }
        // A part that cannot be read is left out of reports (the consumer sets it aside on its
        // next write to that day): one damaged day never makes a report fail.
        Ok(days
            .into_iter()
            .map(|(day, parts)| {
                let (joined, unreadable) = sightline_core::ingest::parts::join(parts);
                for (part, _, e) in unreadable {
                    worker::console_error!(
                        "an unreadable rollup part {part} of site {site} left out: {e}"
                    );
                }
                (day, joined)
            })
            .collect())
    }

    /// [`Store::rollups`] as stored parts, each with its version: without the text of those
    /// whose key (`held::rollup_key`) is in `held`.
    pub async fn rollup_parts(
        &self,
        site: &str,
        ranges: &[(i64, i64)],
        parts: &[&str],
        periods: bool,
        held: &[String],
    ) -> Result<Vec<RollupPart>, AppError> {
        #[derive(Deserialize)]
        struct Row {
            day: f64,
            last: f64,
            part: String,
            version: f64,
            data: Option<String>,
        }
        let names = serde_json::to_string(parts).map_err(|e| AppError::Internal(e.to_string()))?;
        let held = between_commas(held);
        let statements = ranges
            .iter()
            .map(|(first, last)| {
                self.statement(
                    ROLLUPS_SQL,
                    &[
                        text(site),
                        number(*first),
                        number(*last),
                        text(&names),
                        number(i64::from(periods)),
                        text(&held),
                    ],
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut out = Vec::new();
        for result in self.batch(statements).await? {
            for r in result.results::<Row>()? {
                out.push(RollupPart {
                    first: r.day as i64,
                    last: r.last as i64,
                    part: r.part,
                    version: r.version as i64,
                    data: r.data,
                });
            }
        }
        Ok(out)
    }

    /// Visitors, visits and their pageviews active since `since` (ms).
    pub async fn realtime(&self, site: &str, since: i64) -> Result<Realtime, AppError> {
        let row = self
            .row(self.statement(REALTIME_SQL, &[text(site), number(since)])?)
            .await?;
        Ok(row.unwrap_or_default())
    }

    /// The site's time zone (UTC for an unknown site).
    pub async fn zone(&self, site: &str) -> Result<Zone, AppError> {
        #[derive(Deserialize)]
        struct Row {
            timezone: String,
        }
        let row: Option<Row> = self.row(self.statement(ZONE_SQL, &[text(site)])?).await?;
        Ok(row.map_or(Zone::named("UTC"), |r| Zone::named(&r.timezone)))
    }
}

/// Keys as one text, each between commas (`,a,b,`): what a statement searches with `instr` for
/// `',' || key || ','`.
pub(crate) fn between_commas<T: std::fmt::Display>(keys: &[T]) -> String {
    let mut out = String::from(",");
    for k in keys {
        out.push_str(&k.to_string());
        out.push(',');
    }
    out
}

/// A stored rollup part of a day or summed period, as read.
#[derive(Debug)]
pub struct RollupPart {
    /// The piece's first local day.
    pub first: i64,
    /// Its last.
    pub last: i64,
    /// The part's name.
    pub part: String,
    /// The day's version, or the summed period's stamp, it is stored under.
    pub version: i64,
    /// Its text, unless the reader holds it.
    pub data: Option<String>,
}

/// The realtime report's counts.
#[derive(Debug, Default, Deserialize, serde::Serialize)]
pub struct Realtime {
    /// Distinct visitors.
    pub visitors: f64,
    /// Visits.
    pub visits: f64,
    /// Pageviews of those visits.
    pub pageviews: f64,
}
