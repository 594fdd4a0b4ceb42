//! Storage for the query API: what one Stats API v2 answer reads — the site's settings that
//! resolve a query (time zone, retention, the first day with stats), the raw events of every
//! visit that touches the query's ranges, and the browsers' reported losses per day.
//! Raw events come from the recent log (migration 0017) when it holds the range, else from the
//! raw log. Must not: decide anything (core's `engine` does), or read a visit's events partly: a
//! visit that began before the range is read from its start, so it is never counted as one that
//! began in it.

use std::collections::BTreeMap;

use serde::de::IgnoredAny;
use serde::Deserialize;
use sightline_core::engine::{visits, Hit};
use sightline_core::ingest::Props;
use sightline_core::zone::Zone;

use sightline_core::retention::{recent_first_hour, HOUR_MS};

use super::shares::{share_of, Holder};
use super::{number, text, Store};
use crate::error::AppError;

/// A site's settings, and whether ?2 is its read token's hash or one of its shares' (one round
/// trip for all: every answer needs them first).
const SETTINGS_SQL: &str = concat!(
    "SELECT s.timezone AS timezone, s.retention_days AS retention_days, \
       (SELECT MIN(r.day) FROM day_parts r WHERE r.site_id = s.id AND r.part = 'totals') AS first_day, \
       COALESCE(s.read_token_hash = ?2, 0) AS reader, ",
    share_of!(),
    " AS share, s.created_at AS created_at FROM sites s WHERE s.id = ?1"
);

/// Every event between the first start and the last event of the visits overlapping `[?2, ?3)`
/// (the `sessions` rows say where each visit begins and ends), with `$props` as its props.
macro_rules! hits_sql {
    ($props:literal, $more:literal) => {
        concat!(
            "WITH w AS (SELECT MIN(started_at) AS lo, MAX(last_at) AS hi FROM sessions \
               WHERE site_id = ?1 AND last_at >= ?2 AND started_at < ?3) \
             SELECT ts, name, hostname, path, visitor_key AS visitor, session_key AS session, ",
            $props,
            " AS props, referrer_host AS referrer, source, channel, utm_source, utm_medium, \
               utm_campaign, utm_content, utm_term, country, device, browser, os \
             FROM events WHERE site_id = ?1 \
               AND ts >= MIN(?2, COALESCE((SELECT lo FROM w), ?2)) \
               AND ts <= MAX(?3, COALESCE((SELECT hi FROM w), ?3)) ",
            $more,
            " LIMIT ?4"
        )
    };
}
const HITS_SQL: &str = hits_sql!("props", "");
/// How many rows [`HITS_SQL`] would read, counted up to `?4` (the index alone: no row is sent).
const HITS_COUNT_SQL: &str =
    "WITH w AS (SELECT MIN(started_at) AS lo, MAX(last_at) AS hi FROM sessions \
       WHERE site_id = ?1 AND last_at >= ?2 AND started_at < ?3) \
     SELECT COUNT(*) AS n FROM (SELECT 1 FROM events WHERE site_id = ?1 \
       AND ts >= MIN(?2, COALESCE((SELECT lo FROM w), ?2)) \
       AND ts <= MAX(?3, COALESCE((SELECT hi FROM w), ?3)) LIMIT ?4)";
/// The same with only the staff mark of the props (what a day block keeps), of the visitors whose
/// key is in `[?5, ?6)` (NULL: open): a busy day read at once would outgrow a worker's memory.
const BLOCK_HITS_SQL: &str = hits_sql!(
    "CASE WHEN props ->> '$.is_internal' = 1 THEN '{\"is_internal\":true}' ELSE '{}' END",
    "AND (?5 IS NULL OR visitor_key >= ?5) AND (?6 IS NULL OR visitor_key < ?6)"
);

const RECENT_SINCE_SQL: &str = "SELECT since FROM recent_log WHERE id = 1";
/// A site's recent log over the UTC hours `[?2, ?3]`.
const RECENT_READ_SQL: &str = "SELECT data FROM recent_events \
     WHERE site_id = ?1 AND hour >= ?2 AND hour <= ?3";

/// One event of the recent log: the `events` columns the consumer's EVENTS_SQL inserts, in its
/// order (an array; serde reads a struct from one by position).
#[derive(Deserialize)]
struct RecentEvent {
    _site_id: IgnoredAny,
    _event_id: IgnoredAny,
    ts: i64,
    _received_at: IgnoredAny,
    name: String,
    hostname: String,
    path: String,
    referrer: Option<String>,
    utm_source: Option<String>,
    utm_medium: Option<String>,
    utm_campaign: Option<String>,
    utm_term: Option<String>,
    utm_content: Option<String>,
    country: Option<String>,
    visitor: String,
    session: String,
    props: Props,
    source: Option<String>,
    channel: Option<String>,
    device: Option<String>,
    browser: Option<String>,
    os: Option<String>,
    _order_id: IgnoredAny,
    _sender: IgnoredAny,
}

/// How far before and after a range the recent log is first read, and read further each time a
/// visit may reach past what was read (one that reaches into the range has an event within the
/// idle time of it).
const LOOK_MS: i64 = 2 * HOUR_MS;

const LOST_SQL: &str = "SELECT day, data ->> '$.lost' AS lost FROM day_parts \
     WHERE site_id = ?1 AND part = 'totals' AND day >= ?2 AND day <= ?3 \
     AND (data ->> '$.lost') > 0";

/// What resolves a site's queries.
#[derive(Debug, Clone, Copy)]
pub struct QuerySettings {
    /// Its time zone.
    pub zone: Zone,
    /// Days raw events are kept.
    pub retention_days: i64,
    /// The first local day with a rollup.
    pub first_day: Option<i64>,
    /// What the token hash asked about is to the site.
    pub holder: Holder,
    /// When the site was created, ms (a site made anew under an old id has another).
    pub created_at: i64,
}

#[derive(Deserialize)]
struct SettingsRow {
    timezone: String,
    retention_days: f64,
    first_day: Option<f64>,
    reader: f64,
    share: Option<f64>,
    created_at: f64,
}

#[derive(Deserialize)]
struct HitRow {
    ts: f64,
    name: String,
    hostname: String,
    path: String,
    visitor: String,
    session: String,
    props: String,
    referrer: Option<String>,
    source: Option<String>,
    channel: Option<String>,
    utm_source: Option<String>,
    utm_medium: Option<String>,
    utm_campaign: Option<String>,
    utm_content: Option<String>,
    utm_term: Option<String>,
    country: Option<String>,
    device: Option<String>,
    browser: Option<String>,
    os: Option<String>,
}

/// A [`Hit`] of a row that names its fields as `Hit` does, with its time and props as given.
macro_rules! hit {
    ($r:ident, $ts:expr, $props:expr) => {
        Hit {
            ts: $ts,
            props: $props,
            name: $r.name,
            hostname: $r.hostname,
            path: $r.path,
            visitor: $r.visitor,
            session: $r.session,
            referrer: $r.referrer,
            source: $r.source,
            channel: $r.channel,
            utm_source: $r.utm_source,
            utm_medium: $r.utm_medium,
            utm_campaign: $r.utm_campaign,
            utm_content: $r.utm_content,
            utm_term: $r.utm_term,
            country: $r.country,
            device: $r.device,
            browser: $r.browser,
            os: $r.os,
        }
    };
}

impl From<HitRow> for Hit {
    fn from(r: HitRow) -> Hit {
        // Props were checked when stored; a row whose props cannot be read counts without them.
        let props = serde_json::from_str(&r.props).unwrap_or_default();
        hit!(r, r.ts as i64, props)
    }
}
impl From<RecentEvent> for Hit {
    fn from(r: RecentEvent) -> Hit {
        hit!(r, r.ts, r.props)
    }
}

impl Store {
    /// A site's query settings, and whether `token_hash` is its read token's; `None` for an
    /// unknown site.
    pub async fn query_settings(
        &self,
        site: &str,
        token_hash: &str,
    ) -> Result<Option<QuerySettings>, AppError> {
        let row: Option<SettingsRow> = self
            .row(self.statement(SETTINGS_SQL, &[text(site), text(token_hash)])?)
            .await?;
        Ok(row.map(|r| QuerySettings {
            zone: Zone::named(&r.timezone),
            retention_days: r.retention_days as i64,
            first_day: r.first_day.map(|d| d as i64),
            holder: Holder::of(r.reader, r.share),
            created_at: r.created_at as i64,
        }))
    }

    /// The raw events of every visit touching `[from, to)` (ms), at most `max`; `None` when
    /// there are more.
    pub async fn hits(
        &self,
        site: &str,
        from: i64,
        to: i64,
        max: usize,
    ) -> Result<Option<Vec<Hit>>, AppError> {
        self.hits_of(HITS_SQL, site, (from, to), max, &[]).await
    }

    /// True when the raw events of the visits touching `[from, to)` are more than `max`:
    /// counted, not read, so a range too long is refused without holding its events.
    pub async fn hits_over(
        &self,
        site: &str,
        (from, to): (i64, i64),
        max: usize,
    ) -> Result<bool, AppError> {
        #[derive(Deserialize)]
        struct Count {
            n: f64,
        }
        let binds = [text(site), number(from), number(to), number(max as i64 + 1)];
        let count: Option<Count> = self.row(self.statement(HITS_COUNT_SQL, &binds)?).await?;
        Ok(count.is_some_and(|c| c.n as usize > max))
    }

    /// [`Store::hits`] without their props but the staff mark, of the visitors whose key is in
    /// `[lo, hi)` (`None`: open) — a day block is read in such slices, each visitor's visits
    /// whole in one.
    pub async fn hits_without_props(
        &self,
        site: &str,
        (from, to): (i64, i64),
        (lo, hi): (Option<&str>, Option<&str>),
        max: usize,
    ) -> Result<Option<Vec<Hit>>, AppError> {
        let key = |k: Option<&str>| k.map_or(wasm_bindgen::JsValue::NULL, text);
        let more = [key(lo), key(hi)];
        self.hits_of(BLOCK_HITS_SQL, site, (from, to), max, &more)
            .await
    }

    async fn hits_of(
        &self,
        sql: &'static str,
        site: &str,
        (from, to): (i64, i64),
        max: usize,
        more: &[wasm_bindgen::JsValue],
    ) -> Result<Option<Vec<Hit>>, AppError> {
        let limit = number(max as i64 + 1);
        let mut binds = vec![text(site), number(from), number(to), limit];
        binds.extend_from_slice(more);
        let rows: Vec<HitRow> = self.rows(self.statement(sql, &binds)?).await?;
        if rows.len() > max {
            return Ok(None);
        }
        Ok(Some(rows.into_iter().map(Hit::from).collect()))
    }

    /// The raw events of every visit touching `[from, to)` from the recent log, at most `max`
    /// (`Some(None)`: more); `None` when the log does not hold them all (it began later, or they
    /// reach back past the hours it keeps): the caller reads the raw log. Read from a while
    /// before `from` to a while after `to` (or now), then further either way while a visit may
    /// begin earlier or go on later (`visits::cut`).
    pub async fn recent_hits(
        &self,
        site: &str,
        (from, to): (i64, i64),
        now: i64,
        max: usize,
    ) -> Result<Option<Option<Vec<Hit>>>, AppError> {
        #[derive(Deserialize)]
        struct Since {
            since: f64,
        }
        let Some(since) = self
            .row::<Since>(self.statement(RECENT_SINCE_SQL, &[])?)
            .await?
        else {
            return Ok(None);
        };
        let kept_from = (since.since as i64).max(recent_first_hour(now) * HOUR_MS);
        let this_hour = now.div_euclid(HOUR_MS);
        let step = LOOK_MS / HOUR_MS;
        // Hours read: `[first, last]`.
        let first = (from - LOOK_MS).div_euclid(HOUR_MS);
        let last = (to.max(from) + LOOK_MS).div_euclid(HOUR_MS).min(this_hour);
        if first * HOUR_MS < kept_from {
            return Ok(None);
        }
        let mut hits = Vec::new();
        if !self
            .read_recent(site, (first, last), max, &mut hits)
            .await?
        {
            return Ok(Some(None));
        }
        let (mut first, mut last) = (first, last);
        loop {
            let (before, after) =
                visits::cut(&hits, (from, to), (first * HOUR_MS, (last + 1) * HOUR_MS));
            // Nothing is stored past now.
            let after = after && last < this_hour;
            if !before && !after {
                return Ok(Some(Some(hits)));
            }
            if before {
                if (first - step) * HOUR_MS < kept_from {
                    return Ok(None);
                }
                if !self
                    .read_recent(site, (first - step, first - 1), max, &mut hits)
                    .await?
                {
                    return Ok(Some(None));
                }
                first -= step;
            }
            if after {
                let next = (last + step).min(this_hour);
                if !self
                    .read_recent(site, (last + 1, next), max, &mut hits)
                    .await?
                {
                    return Ok(Some(None));
                }
                last = next;
            }
        }
    }

    /// Adds the recent log's events of UTC hours `[first, last]` to `hits`; false when that
    /// makes more than `max`.
    async fn read_recent(
        &self,
        site: &str,
        (first, last): (i64, i64),
        max: usize,
        hits: &mut Vec<Hit>,
    ) -> Result<bool, AppError> {
        #[derive(Deserialize)]
        struct Row {
            data: String,
        }
        let rows: Vec<Row> = self
            .rows(self.statement(RECENT_READ_SQL, &[text(site), number(first), number(last)])?)
            .await?;
        for row in rows {
            let events: Vec<RecentEvent> = serde_json::from_str(&row.data)
                .map_err(|e| AppError::Internal(format!("a recent log row: {e}")))?;
            hits.extend(events.into_iter().map(Hit::from));
            if hits.len() > max {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Events browsers reported dropped, per local day in `first..=last`.
    pub async fn lost(
        &self,
        site: &str,
        first: i64,
        last: i64,
    ) -> Result<BTreeMap<i64, i64>, AppError> {
        #[derive(Deserialize)]
        struct Row {
            day: f64,
            lost: f64,
        }
        let rows: Vec<Row> = self
            .rows(self.statement(LOST_SQL, &[text(site), number(first), number(last)])?)
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| (r.day as i64, r.lost as i64))
            .collect())
    }
}
