//! Storage for day blocks (core's `engine::block`, migration 0016): which closed days of a site
//! are due a block (none, or one whose stamp is not its day's `totals` version now), the write of
//! one — guarded by that version, so a day the consumer wrote after its raw events were read stays
//! due instead of stale — and the read of a range's current blocks (stale ones are left out: the
//! query reads those days' raw events). Blocks are stored as the worker's `deflate` module makes
//! them (text). Must not: build or decode a block (core does), or read a stale one.

use serde::Deserialize;

use super::{number, text, Store};
use crate::error::AppError;

/// A site's days in `[?2, ?3]` with a rollup whose block is missing or stale (its parts are
/// written together: the `visits` part stands for all), newest first, at most ?4, with their
/// version now.
const DUE_SQL: &str = "SELECT t.day AS day, t.version AS version FROM day_parts t \
     LEFT JOIN day_blocks b ON b.site_id = t.site_id AND b.part = 'visits' AND b.day = t.day \
     WHERE t.site_id = ?1 AND t.part = 'totals' AND t.day >= ?2 AND t.day <= ?3 \
       AND (b.stamp IS NULL OR b.stamp != t.version) \
     ORDER BY t.day DESC LIMIT ?4";

/// The number of such days.
const DUE_COUNT_SQL: &str = "SELECT COUNT(*) AS n FROM day_parts t \
     LEFT JOIN day_blocks b ON b.site_id = t.site_id AND b.part = 'visits' AND b.day = t.day \
     WHERE t.site_id = ?1 AND t.part = 'totals' AND t.day >= ?2 AND t.day <= ?3 \
       AND (b.stamp IS NULL OR b.stamp != t.version)";

/// One part (?5) of a day's block, with its new built id ?6 (migration 0018), stored only while
/// the day's version is still the stamp ?3.
const WRITE_SQL: &str = "INSERT INTO day_blocks (site_id, part, day, stamp, data, built) \
     SELECT ?1, ?5, ?2, ?3, ?4, ?6 WHERE ?3 = (SELECT version FROM day_parts \
       WHERE site_id = ?1 AND part = 'totals' AND day = ?2) \
     ON CONFLICT (site_id, part, day) DO UPDATE SET stamp = excluded.stamp, data = excluded.data, \
       built = excluded.built";

/// The parts ?4 (a JSON list) of a site's current blocks of days `[?2, ?3]` (stamp = the day's
/// version now), with their built ids and stamps; a part whose `built:stamp` is in ?5 (those of the
/// parts the worker holds, each between commas: a search in one text, where a list in a table
/// would count as rows read) without its text. (The stamp too: a build of the release before
/// 0018 rewrites a part's text and stamp, not its id.) `CROSS JOIN` keeps the part names first:
/// each part's days are a range of the key.
const READ_SQL: &str = "SELECT b.day AS day, b.part AS part, b.built AS built, b.stamp AS stamp, \
       CASE WHEN instr(?5, ',' || b.built || ':' || b.stamp || ',') THEN NULL ELSE b.data END \
         AS data \
     FROM json_each(?4) j CROSS JOIN day_blocks b \
       ON b.site_id = ?1 AND b.part = j.value AND b.day >= ?2 AND b.day <= ?3 \
     JOIN day_parts t ON t.site_id = b.site_id AND t.part = 'totals' AND t.day = b.day \
       AND t.version = b.stamp";

/// A site's days in `[?2, ?3]` with stats (a rollup): a day without has no visit to read.
const STATS_DAYS_SQL: &str = "SELECT day FROM day_parts \
     WHERE site_id = ?1 AND part = 'totals' AND day >= ?2 AND day <= ?3";

/// A day due a block, and its version when found due.
#[derive(Debug, Clone, Copy)]
pub struct DueDay {
    /// The local day.
    pub day: i64,
    /// Its `totals` version: the stamp a block built now is stored under.
    pub version: i64,
}

impl Store {
    /// A site's days in `[first, last]` due a block, newest first, at most `max`; and how many
    /// are due in all.
    pub async fn due_blocks(
        &self,
        site: &str,
        first: i64,
        last: i64,
        max: usize,
    ) -> Result<(Vec<DueDay>, usize), AppError> {
        #[derive(Deserialize)]
        struct Row {
            day: f64,
            version: f64,
        }
        #[derive(Deserialize)]
        struct Count {
            n: f64,
        }
        let binds = [text(site), number(first), number(last)];
        let rows: Vec<Row> = self
            .rows(self.statement(
                DUE_SQL,
                &[
                    binds[0].clone(),
                    binds[1].clone(),
                    binds[2].clone(),
                    number(max as i64),
                ],
            )?)
            .await?;
        let count: Option<Count> = self.row(self.statement(DUE_COUNT_SQL, &binds)?).await?;
        Ok((
            rows.into_iter()
                .map(|r| DueDay {
                    day: r.day as i64,
                    version: r.version as i64,
                })
                .collect(),
            count.map_or(0, |c| c.n as usize),
        ))
    }

    /// Stores a day's block, its parts in one transaction, under `stamp`, each with a new built
    /// id; false when the day's version moved since (the day stays due).
    pub async fn store_block(
        &self,
        site: &str,
        day: i64,
        stamp: i64,
        parts: &[(&str, String)],
    ) -> Result<bool, AppError> {
        let statements = parts
            .iter()
            .map(|(part, data)| {
                self.statement(
                    WRITE_SQL,
                    &[
                        text(site),
                        number(day),
                        number(stamp),
                        text(data),
                        text(part),
                        number(crate::edge::random_id()),
                    ],
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        let results = self.batch(statements).await?;
        Ok(super::first_changes(&results)? > 0)
    }

    /// A site's days in `[first, last]` with stats.
    pub async fn stats_days(
        &self,
        site: &str,
        first: i64,
        last: i64,
    ) -> Result<std::collections::BTreeSet<i64>, AppError> {
        #[derive(Deserialize)]
        struct Row {
            day: f64,
        }
        let rows: Vec<Row> = self
            .rows(self.statement(STATS_DAYS_SQL, &[text(site), number(first), number(last)])?)
            .await?;
        Ok(rows.into_iter().map(|r| r.day as i64).collect())
    }

    /// The parts named of a site's current blocks of days `[first, last]`, as stored: per day,
    /// its parts — without the text of those whose `built:stamp` is in `held`.
    pub async fn blocks(
        &self,
        site: &str,
        (first, last): (i64, i64),
        parts: &[&str],
        held: &[String],
    ) -> Result<std::collections::BTreeMap<i64, Vec<StoredPart>>, AppError> {
        #[derive(Deserialize)]
        struct Row {
            day: f64,
            part: String,
            built: Option<f64>,
            stamp: f64,
            data: Option<String>,
        }
        let names = serde_json::to_string(parts).map_err(|e| AppError::Internal(e.to_string()))?;
        let held = super::between_commas(held);
        let rows: Vec<Row> = self
            .rows(self.statement(
                READ_SQL,
                &[
                    text(site),
                    number(first),
                    number(last),
                    text(&names),
                    text(&held),
                ],
            )?)
            .await?;
        let mut days = std::collections::BTreeMap::<i64, Vec<StoredPart>>::new();
        for r in rows {
            days.entry(r.day as i64).or_default().push(StoredPart {
                part: r.part,
                built: r.built.map(|b| b as i64),
                stamp: r.stamp as i64,
                data: r.data,
            });
        }
        Ok(days)
    }
}

/// A block part as read: its name, its built id (none for a part stored before migration 0018
/// that it has not reached: never held), its text (none when the reader holds it).
#[derive(Debug)]
pub struct StoredPart {
    /// The part's name.
    pub part: String,
    /// Its built id.
    pub built: Option<i64>,
    /// Its stamp (the day's version it was built at).
    pub stamp: i64,
    /// Its text, unless held.
    pub data: Option<String>,
}
