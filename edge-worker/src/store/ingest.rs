//! Storage for the queue consumer: what D1 already knows of a batch (event ids, order ids, the
//! visitors' visits, the sites' time zones, the touched rollup days), and one transaction that
//! writes the batch's events, visits and rollups (dropping the summed weeks and months of the days
//! it changes), guarded so that a concurrent consumer's write in
//! between makes it fail (and the consumer read again) instead of counting twice.
//! Lists travel as JSON parameters read with `json_each`, split so that none passes
//! [`PARAM_BYTES`]; each part of a rollup day is bound on its own (no second escaping of its JSON). Unreadable
//! stored rows that core set aside are moved to `set_aside` in the same transaction.
//! Must not: decide anything (core's `consume` stage does), or parse stored state.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use sightline_core::forward::Forwarding;
use sightline_core::ingest::consume::{
    json_arrays, json_arrays_by, DayKey, Known, PartKey, Stored, Write,
};
use sightline_core::ingest::sessionise::VisitKey;
use sightline_core::ingest::Event;
use sightline_core::ingest::{dedupe, parts};
use sightline_core::retention::HOUR_MS;
use sightline_core::zone::Zone;

use super::{number, text, Store};
use crate::error::AppError;

/// Most bytes one bound list carries: D1 takes at most 2 MB per value, and its local form passes
/// each parameter through JSON once more.
const PARAM_BYTES: usize = 900_000;

const KNOWN_EVENTS_SQL: &str = "SELECT e.site_id AS site_id, e.event_id AS event_id \
     FROM json_each(?1) j JOIN events e \
     ON e.site_id = j.value ->> '$[0]' AND e.event_id = j.value ->> '$[1]'";
/// Every stored report of the batch's orders (site, name, order id), whoever made it, with its
/// owner (the visitor key of a browser's, `server` for a server's: core's `dedupe::SERVER`) and
/// its value and currency (core's `dedupe::amount` compares them).
const KNOWN_ORDERS_SQL: &str = "SELECT DISTINCT e.site_id AS site_id, e.name AS name, \
     e.order_id AS order_id, \
     CASE WHEN e.sender = 'server' THEN 'server' ELSE e.visitor_key END AS owner, \
     CASE WHEN json_type(e.props, '$.value') IN ('integer', 'real') \
       THEN e.props ->> '$.value' END AS value, \
     CASE WHEN json_type(e.props, '$.currency') = 'text' \
       THEN e.props ->> '$.currency' END AS currency \
     FROM json_each(?1) j JOIN events e \
     ON e.site_id = j.value ->> '$[0]' AND e.name = j.value ->> '$[1]' \
     AND e.order_id = j.value ->> '$[2]'";
const VISITS_SQL: &str = "SELECT s.site_id AS site_id, s.visitor_key AS visitor_key, \
     s.session_key AS session_key, s.visit_no AS visit_no, s.version AS version, s.state AS state \
     FROM json_each(?1) j JOIN sessions s \
     ON s.site_id = j.value ->> '$[0]' AND s.visitor_key = j.value ->> '$[1]'";
/// The batch's sites' time zones and forwarding (each target only with its id).
const ZONES_SQL: &str = "SELECT id, timezone, forwarding, \
     ga4_measurement_id IS NOT NULL AS ga4, umami_website_id IS NOT NULL AS umami \
     FROM sites WHERE id IN (SELECT value FROM json_each(?1))";
/// The stored parts of the touched days: ?1 lists every (site, day, part) a day may have.
const DAYS_SQL: &str = "SELECT p.site_id AS site_id, p.day AS day, p.part AS part, \
     p.version AS version, p.data AS data FROM json_each(?1) j JOIN day_parts p \
     ON p.site_id = j.value ->> '$[0]' AND p.part = j.value ->> '$[2]' \
     AND p.day = j.value ->> '$[1]'";

/// Fails the transaction (`json('stale')` raises "malformed JSON") unless, since the read:
/// the visitors ?1 still have exactly ?2 visits, each read visit ?3 has its version, and each
/// rollup day ?4 has its version (its totals part's; 0: absent).
const GUARD_SQL: &str = "SELECT json(CASE WHEN \
       (SELECT COUNT(*) FROM json_each(?1) j JOIN sessions s \
          ON s.site_id = j.value ->> '$[0]' AND s.visitor_key = j.value ->> '$[1]') = ?2 \
       AND NOT EXISTS (SELECT 1 FROM json_each(?3) j LEFT JOIN sessions s \
          ON s.site_id = j.value ->> '$[0]' AND s.visitor_key = j.value ->> '$[1]' \
          AND s.session_key = j.value ->> '$[2]' AND s.visit_no = j.value ->> '$[3]' \
          WHERE s.version IS NOT j.value ->> '$[4]') \
       AND NOT EXISTS (SELECT 1 FROM json_each(?4) j LEFT JOIN day_parts r \
          ON r.site_id = j.value ->> '$[0]' AND r.part = 'totals' AND r.day = j.value ->> '$[1]' \
          WHERE COALESCE(r.version, 0) <> j.value ->> '$[2]') \
     THEN '{}' ELSE 'stale: a concurrent consumer wrote first' END)";

/// A plain INSERT: an event id stored since the read makes the transaction fail. Each event travels
/// as an array in [`EventColumns`]' order (no keys: half the bytes of an object, and the local
/// D1 passes every parameter through JSON once more).
const EVENTS_SQL: &str = "INSERT INTO events (site_id, event_id, ts, received_at, \
     name, hostname, path, referrer_host, utm_source, utm_medium, utm_campaign, utm_term, \
     utm_content, country, visitor_key, session_key, props, source, channel, device, browser, os, \
     order_id, sender) \
     SELECT e ->> 0, e ->> 1, e ->> 2, e ->> 3, e ->> 4, e ->> 5, e ->> 6, e ->> 7, e ->> 8, \
       e ->> 9, e ->> 10, e ->> 11, e ->> 12, e ->> 13, e ->> 14, e ->> 15, e ->> 16, e ->> 17, \
       e ->> 18, e ->> 19, e ->> 20, e ->> 21, e ->> 22, e ->> 23 \
     FROM (SELECT value AS e FROM json_each(?1))";

/// One event as [`EVENTS_SQL`] reads it: a JSON array of its columns, in the statement's order.
struct EventColumns<'a>(&'a Event);

impl serde::Serialize for EventColumns<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeTuple;
        let e = self.0;
        let t = &e.enrichment;
        let mut row = serializer.serialize_tuple(24)?;
        row.serialize_element(&e.site_id)?;
        row.serialize_element(&e.event_id)?;
        row.serialize_element(&e.ts)?;
        row.serialize_element(&e.received_at)?;
        row.serialize_element(&e.name)?;
        row.serialize_element(&e.hostname)?;
        row.serialize_element(&e.path)?;
        for tag in [
            &t.referrer_host,
            &t.utm_source,
            &t.utm_medium,
            &t.utm_campaign,
            &t.utm_term,
            &t.utm_content,
            &t.country,
        ] {
            row.serialize_element(tag)?;
        }
        row.serialize_element(&e.visitor_key)?;
        row.serialize_element(&e.session_key)?;
        // The props object itself: `e ->> 16` reads it as its JSON text (serialised once).
        row.serialize_element(&e.props)?;
        for tag in [
            &t.source,
            &t.channel,
            &t.device,
            &t.browser,
            &t.os,
            &e.order_id,
        ] {
            row.serialize_element(tag)?;
        }
        row.serialize_element(&e.server.then_some(dedupe::SERVER))?;
        row.end()
    }
}

/// The recent log (migration 0017): a row per site, UTC hour and list of a write's events, each
/// list the one [`EVENTS_SQL`] inserts.
const RECENT_SQL: &str =
    "INSERT INTO recent_events (site_id, hour, first_id, data) VALUES (?1, ?2, ?3, ?4)";
/// The log begins with the first write that keeps it, a minute on (?1: the write's time).
const RECENT_SINCE_SQL: &str =
    "INSERT OR IGNORE INTO recent_log (id, since) VALUES (1, ?1 + 60000)";
/// An erasure's events leave every row of the site's recent log that holds one (by event id).
const ERASE_RECENT_SQL: &str =
    "UPDATE recent_events SET data = (SELECT json_group_array(json(e.value)) \
       FROM json_each(recent_events.data) e \
       WHERE e.value ->> 1 NOT IN (SELECT value FROM json_each(?2))) \
     WHERE site_id = ?1 AND EXISTS (SELECT 1 FROM json_each(recent_events.data) e \
       WHERE e.value ->> 1 IN (SELECT value FROM json_each(?2)))";

const VISITS_DELETE_SQL: &str = "DELETE FROM sessions WHERE (site_id, visitor_key, session_key, \
     visit_no) IN (SELECT j.value ->> '$[0]', j.value ->> '$[1]', j.value ->> '$[2]', \
     j.value ->> '$[3]' FROM json_each(?1) j)";
const VISITS_UPSERT_SQL: &str = "INSERT INTO sessions (site_id, visitor_key, session_key, \
     visit_no, version, started_at, last_at, state) \
     SELECT v ->> '$[0]', v ->> '$[1]', v ->> '$[2]', v ->> '$[3]', v ->> '$[4]', v ->> '$[5]', \
       v ->> '$[6]', v ->> '$[7]' FROM (SELECT value AS v FROM json_each(?1)) WHERE true \
     ON CONFLICT (site_id, visitor_key, session_key, visit_no) DO UPDATE SET \
       version = excluded.version, started_at = excluded.started_at, last_at = excluded.last_at, \
       state = excluded.state";
const DAY_UPSERT_SQL: &str = "INSERT INTO day_parts (site_id, day, part, version, data) \
     VALUES (?1, ?2, ?3, ?4, ?5) \
     ON CONFLICT (site_id, part, day) DO UPDATE SET version = excluded.version, data = excluded.data";
/// A written day's summed weeks and months are stale: dropped in the same transaction (the cron sums
/// them again; reports read the days meanwhile). Local days of today and yesterday are in none.
const PERIODS_STALE_SQL: &str = "DELETE FROM period_parts WHERE site_id = ?1 AND last_day >= ?2 \
     AND first_day <= ?2";
/// A person's raw events, erased on request: site ?1, the event ids of ?2 (by key).
const ERASE_EVENTS_SQL: &str = "DELETE FROM events WHERE site_id = ?1 \
     AND event_id IN (SELECT value FROM json_each(?2))";
/// An erasure's touched days lose their blocks (migration 0016) at once: a stale block is never
/// read, but it still holds the person's visits until the cron builds the day again.
const ERASE_BLOCKS_SQL: &str = "DELETE FROM day_blocks WHERE site_id = ?1 \
     AND day IN (SELECT value FROM json_each(?2))";
const SET_ASIDE_SQL: &str = "INSERT INTO set_aside (kind, site_id, key, data, reason, at) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6)";

#[derive(Deserialize)]
struct EventRow {
    site_id: String,
    event_id: String,
}

#[derive(Deserialize)]
struct OrderRow {
    site_id: String,
    name: String,
    order_id: String,
    owner: String,
    value: Option<f64>,
    currency: Option<String>,
}

/// A stored visit as read (the consumer's, and an erasure's).
#[derive(Deserialize)]
pub(super) struct VisitRow {
    site_id: String,
    visitor_key: String,
    session_key: String,
    visit_no: f64,
    version: f64,
    state: String,
}

impl From<VisitRow> for Stored<VisitKey> {
    fn from(r: VisitRow) -> Self {
        Stored {
            key: VisitKey {
                site_id: r.site_id,
                visitor_key: r.visitor_key,
                session_key: r.session_key,
                visit_no: r.visit_no as u32,
            },
            version: r.version as u32,
            text: r.state,
        }
    }
}

#[derive(Deserialize)]
struct ZoneRow {
    id: String,
    timezone: String,
    forwarding: String,
    ga4: f64,
    umami: f64,
}

#[derive(Deserialize)]
struct DayRow {
    site_id: String,
    day: f64,
    part: String,
    version: f64,
    data: String,
}

/// A (small) list bound as one JSON parameter, written straight from tuples (each an array).
fn json_param(value: &impl serde::Serialize) -> Result<wasm_bindgen::JsValue, AppError> {
    serde_json::to_string(value)
        .map(|json| text(&json))
        .map_err(|e| internal("parameter", e))
}

fn internal(what: &str, e: impl std::fmt::Display) -> AppError {
    AppError::Internal(format!("{what}: {e}"))
}

impl Store {
    /// Reads what storage holds of `events` in one round trip.
    pub async fn known(&self, events: &[Event]) -> Result<Known, AppError> {
        let ids: Vec<_> = events.iter().map(|e| (&e.site_id, &e.event_id)).collect();
        let orders: Vec<_> = events
            .iter()
            .filter_map(|e| e.order_id.as_ref().map(|o| (&e.site_id, &e.name, o)))
            .collect();
        let visitors: BTreeSet<(&str, &str)> = events
            .iter()
            .map(|e| (e.site_id.as_str(), e.visitor_key.as_str()))
            .collect();
        let sites: BTreeSet<&str> = events.iter().map(|e| e.site_id.as_str()).collect();
        let results = self
            .db
            .batch(vec![
                self.statement(KNOWN_EVENTS_SQL, &[json_param(&ids)?])?,
                self.statement(KNOWN_ORDERS_SQL, &[json_param(&orders)?])?,
                self.statement(VISITS_SQL, &[json_param(&visitors)?])?,
                self.statement(ZONES_SQL, &[json_param(&sites)?])?,
            ])
            .await?;
        let [ids, orders, visits, zones] = <[_; 4]>::try_from(results)
            .map_err(|_| AppError::Internal("expected four result sets".into()))?;
        let mut known = Known::default();
        for r in ids.results::<EventRow>()? {
            known.events.insert((r.site_id, r.event_id));
        }
        for r in orders.results::<OrderRow>()? {
            known.orders.insert((
                r.site_id,
                r.name,
                r.order_id,
                r.owner,
                dedupe::amount(r.value, r.currency.as_deref()),
            ));
        }
        known
            .visits
            .extend(visits.results::<VisitRow>()?.into_iter().map(Stored::from));
        for r in zones.results::<ZoneRow>()? {
            known.zones.insert(r.id.clone(), Zone::named(&r.timezone));
            // A setting that cannot be read forwards nothing (the admin API only writes valid ones).
            let forwarding = serde_json::from_str::<Forwarding>(&r.forwarding)
                .unwrap_or_default()
                .with_ids(r.ga4 != 0.0, r.umami != 0.0);
            if forwarding.any() {
                known.forwarding.insert(r.id, forwarding);
            }
        }
        Ok(known)
    }

    /// The stored parts of these (site, day)s, with their versions, as text (core reads them).
    pub async fn rollup_days(
        &self,
        keys: impl Iterator<Item = &DayKey>,
    ) -> Result<Vec<Stored<PartKey>>, AppError> {
        let keys: Vec<_> = keys
            .flat_map(|(site, day)| parts::names().map(move |part| (site, day, part)))
            .collect();
        let rows = self
            .statement(DAYS_SQL, &[json_param(&keys)?])?
            .all()
            .await?
            .results::<DayRow>()?;
        Ok(rows
            .into_iter()
            .map(|r| Stored {
                key: (r.site_id, r.day as i64, r.part),
                version: r.version as u32,
                text: r.data,
            })
            .collect())
    }

    /// Writes a batch in one transaction: the guard, the set-aside rows, the visits, the rollups,
    /// the events. Returns the rows D1 reports written (its billing unit; index entries included).
    pub async fn commit(
        &self,
        write: &Write,
        counters: &[sightline_core::ops::Sample],
        now: i64,
    ) -> Result<usize, AppError> {
        // Every visitor whose visits were read (the guard counts their rows) or are written.
        // An erasure's keys too: a visit of the person stored since the read fails the guard.
        let erased = write
            .erase
            .iter()
            .flat_map(|e| e.visitors.iter().map(|k| (e.site.as_str(), k.as_str())));
        let visitors: BTreeSet<(&str, &str)> = write
            .events
            .iter()
            .map(|e| (e.site_id.as_str(), e.visitor_key.as_str()))
            .chain(
                write
                    .read_visits
                    .iter()
                    .map(|(k, _)| (k.site_id.as_str(), k.visitor_key.as_str())),
            )
            .chain(erased)
            .collect();
        let read: Vec<_> = write
            .read_visits
            .iter()
            .map(|(k, version)| {
                (
                    &k.site_id,
                    &k.visitor_key,
                    &k.session_key,
                    k.visit_no,
                    version,
                )
            })
            .collect();
        let read_days: Vec<_> = write
            .days
            .iter()
            .map(|((site, day), version, _)| (site, day, version))
            .collect();
        let key_of = |k: &VisitKey| {
            (
                k.site_id.clone(),
                k.visitor_key.clone(),
                k.session_key.clone(),
                k.visit_no,
            )
        };
        let deletes: Vec<_> = write.delete_visits.iter().map(key_of).collect();
        let mut statements = vec![
            self.statement(
                GUARD_SQL,
                &[
                    json_param(&visitors)?,
                    number(read.len() as i64),
                    json_param(&read)?,
                    json_param(&read_days)?,
                ],
            )?,
            self.statement(VISITS_DELETE_SQL, &[json_param(&deletes)?])?,
        ];
        for aside in &write.set_aside {
            worker::console_error!(
                "consumer: an unreadable stored {} of site {} set aside: {}",
                aside.kind,
                aside.site_id,
                aside.reason
            );
            statements.push(self.statement(
                SET_ASIDE_SQL,
                &[
                    text(aside.kind),
                    text(&aside.site_id),
                    text(&aside.key),
                    text(&aside.text),
                    text(&aside.reason),
                    number(now),
                ],
            )?);
        }
        let visits = write
            .visits
            .iter()
            .map(|(k, version, started, last, state)| {
                serde_json::to_string(&(
                    &k.site_id,
                    &k.visitor_key,
                    &k.session_key,
                    k.visit_no,
                    version,
                    started,
                    last,
                    state,
                ))
                .map_err(|e| internal("visit", e))
            })
            .collect::<Result<Vec<_>, AppError>>()?;
        for list in json_arrays(visits, PARAM_BYTES) {
            statements.push(self.statement(VISITS_UPSERT_SQL, &[text(&list)])?);
        }
        for ((site, day), version, parts) in &write.days {
            statements.push(self.statement(PERIODS_STALE_SQL, &[text(site), number(*day)])?);
            for (part, data) in parts {
                statements.push(self.statement(
                    DAY_UPSERT_SQL,
                    &[
                        text(site),
                        number(*day),
                        text(part),
                        number(i64::from(*version) + 1),
                        text(data),
                    ],
                )?);
            }
        }
        // Events by site and UTC hour: each list is inserted, and kept in the recent log.
        let mut groups: BTreeMap<(&str, i64), Vec<(&str, String)>> = BTreeMap::new();
        for e in &write.events {
            let row = serde_json::to_string(&EventColumns(e)).map_err(|e| internal("events", e))?;
            groups
                .entry((&e.site_id, e.ts.div_euclid(HOUR_MS)))
                .or_default()
                .push((&e.event_id, row));
        }
        if !groups.is_empty() {
            statements.push(self.statement(RECENT_SINCE_SQL, &[number(now)])?);
        }
        for ((site, hour), rows) in groups {
            for (first_id, list) in json_arrays_by(rows, PARAM_BYTES) {
                statements.push(self.statement(EVENTS_SQL, &[text(&list)])?);
                statements.push(self.statement(
                    RECENT_SQL,
                    &[text(site), number(hour), text(first_id), text(&list)],
                )?);
            }
        }
        statements.extend(self.outbox_statements(&write.outbox, now, PARAM_BYTES)?);
        if let Some(erase) = &write.erase {
            let ids = json_param(&erase.events)?;
            statements.push(self.outbox_erase_statement(
                &erase.site,
                &ids,
                erase.user_id.as_deref(),
            )?);
            statements.push(self.statement(ERASE_EVENTS_SQL, &[text(&erase.site), ids.clone()])?);
            statements.push(self.statement(ERASE_RECENT_SQL, &[text(&erase.site), ids])?);
            let days: Vec<i64> = write
                .days
                .iter()
                .filter(|((site, _), _, _)| *site == erase.site)
                .map(|((_, day), _, _)| *day)
                .collect();
            statements
                .push(self.statement(ERASE_BLOCKS_SQL, &[text(&erase.site), json_param(&days)?])?);
        }
        if !counters.is_empty() {
            statements.push(self.counters_statement(counters)?);
        }
        let mut written = 0;
        for result in self.db.batch(statements).await? {
            written += result.meta()?.and_then(|m| m.rows_written).unwrap_or(0);
        }
        Ok(written)
    }
}
