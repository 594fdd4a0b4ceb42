//! Storage for a site's share links (`shares`, migration 0019), and what a presented token is to a
//! site: its read token, one of its shares, or neither. Input: core's checked [`ShareSpec`], a
//! secret's hash. Output: core's [`Share`] rows, a [`Holder`]. Must not: see a secret (only its
//! hash), answer a hash (no read here selects one), keep what it read (a revoked share stops at
//! the next request), or store a share for a site that does not exist, past the site's limit, or
//! locked to a segment the site does not have.

use serde::Deserialize;
use sightline_core::saved::share::{Share, ShareSpec, MAX_SHARES};
use wasm_bindgen::JsValue;

use super::{number, text, Store};
use crate::error::AppError;

/// The share of site `s.id` whose hash is `?2`, as a column: NULL when it is none of the site's,
/// else its segment id, 0 for none (ids start at 1). A sub-select for a statement that reads
/// `sites s` and binds the hash as `?2` — the token check rides along with what the route reads
/// first (`SITE_TOKEN_SQL`; the query route's settings).
macro_rules! share_of {
    () => {
        "(SELECT COALESCE(sh.segment_id, 0) FROM shares sh \
           WHERE sh.site_id = s.id AND sh.token_hash = ?2)"
    };
}
pub(crate) use share_of;

/// Whether ?2 is site ?1's read token's hash, or one of its shares'; a row only when the site
/// exists.
const SITE_TOKEN_SQL: &str = concat!(
    "SELECT COALESCE(s.read_token_hash = ?2, 0) AS reader, ",
    share_of!(),
    " AS share FROM sites s WHERE s.id = ?1"
);

/// Binds: site, name, hash, segment (or NULL), now, the site's limit. Inserts only for an existing
/// site below its limit, and a segment the site has, in the same statement, so a concurrent
/// erasure, insert or deletion cannot slip past.
const INSERT_SQL: &str = "INSERT INTO shares (site_id, name, token_hash, segment_id, created_at) \
     SELECT ?1, ?2, ?3, ?4, ?5 WHERE EXISTS (SELECT 1 FROM sites WHERE id = ?1) \
     AND (SELECT COUNT(*) FROM shares WHERE site_id = ?1) < ?6 \
     AND (?4 IS NULL OR EXISTS (SELECT 1 FROM segments WHERE site_id = ?1 AND id = ?4)) \
     RETURNING id";
/// Why [`INSERT_SQL`] stored nothing. Binds: site, segment (or NULL).
const REFUSED_SQL: &str = "SELECT EXISTS (SELECT 1 FROM sites WHERE id = ?1) AS site, \
     (?2 IS NULL OR EXISTS (SELECT 1 FROM segments WHERE site_id = ?1 AND id = ?2)) AS segment";
const LIST_SQL: &str = "SELECT id, name, segment_id AS segment, created_at FROM shares \
     WHERE site_id = ?1 ORDER BY id";
const DELETE_SQL: &str = "DELETE FROM shares WHERE site_id = ?1 AND id = ?2";

/// What a presented token is to a site that exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holder {
    /// The site's read token.
    Reader,
    /// One of its shares, locked to this segment if any.
    Share(Option<u64>),
    /// Nothing of the site's.
    Neither,
}

impl Holder {
    /// From a row's `reader` (1 or 0) and its [`share_of`] column.
    pub(crate) fn of(reader: f64, share: Option<f64>) -> Holder {
        match (reader == 1.0, share) {
            (true, _) => Holder::Reader,
            (false, Some(segment)) => Holder::Share((segment >= 1.0).then_some(segment as u64)),
            (false, None) => Holder::Neither,
        }
    }
}

#[derive(Deserialize)]
struct TokenRow {
    reader: f64,
    share: Option<f64>,
}

#[derive(Deserialize)]
struct Row {
    id: f64,
    name: String,
    segment: Option<f64>,
    created_at: f64,
}

impl From<Row> for Share {
    fn from(r: Row) -> Share {
        Share {
            id: r.id as u64,
            name: r.name,
            segment: r.segment.map(|s| s as u64),
            created_at: r.created_at as i64,
        }
    }
}

/// Outcome of storing a share.
pub enum Made {
    /// Stored under this id.
    Yes(u64),
    /// The site keeps as many as it may.
    Full,
    /// The site has no segment of this id.
    NoSegment(u64),
    /// The site does not exist (erased meanwhile).
    NoSite,
}

fn segment_bind(segment: Option<u64>) -> JsValue {
    segment.map_or(JsValue::NULL, |s| number(s as i64))
}

impl Store {
    /// What the token hashed as `hash` is to site `site`; `None` when there is no such site.
    pub async fn site_token(&self, site: &str, hash: &str) -> Result<Option<Holder>, AppError> {
        let row: Option<TokenRow> = self
            .row(self.statement(SITE_TOKEN_SQL, &[text(site), text(hash)])?)
            .await?;
        Ok(row.map(|r| Holder::of(r.reader, r.share)))
    }

    /// Stores a share of `site` under the hash of its secret.
    pub async fn create_share(
        &self,
        site: &str,
        spec: &ShareSpec,
        hash: &str,
        now: i64,
    ) -> Result<Made, AppError> {
        #[derive(Deserialize)]
        struct Id {
            id: f64,
        }
        #[derive(Deserialize)]
        struct Refused {
            site: f64,
            segment: f64,
        }
        let binds = [
            text(site),
            text(&spec.name),
            text(hash),
            segment_bind(spec.segment),
            number(now),
            number(MAX_SHARES as i64),
        ];
        if let Some(row) = self.row::<Id>(self.statement(INSERT_SQL, &binds)?).await? {
            return Ok(Made::Yes(row.id as u64));
        }
        let why: Option<Refused> = self
            .row(self.statement(REFUSED_SQL, &[text(site), segment_bind(spec.segment)])?)
            .await?;
        let why = why.map(|w| (w.site != 0.0, w.segment != 0.0));
        Ok(match (why, spec.segment) {
            (Some((true, false)), Some(segment)) => Made::NoSegment(segment),
            (Some((true, _)), _) => Made::Full,
            _ => Made::NoSite,
        })
    }

    /// Every share of `site`, oldest first.
    pub async fn shares(&self, site: &str) -> Result<Vec<Share>, AppError> {
        let rows: Vec<Row> = self.rows(self.statement(LIST_SQL, &[text(site)])?).await?;
        Ok(rows.into_iter().map(Share::from).collect())
    }

    /// Deletes (revokes) one share of `site`; false when it had none with this id.
    pub async fn delete_share(&self, site: &str, id: u64) -> Result<bool, AppError> {
        let result = self
            .statement(DELETE_SQL, &[text(site), number(id as i64)])?
            .run()
            .await?;
        Ok(result.meta()?.and_then(|m| m.changes).unwrap_or(0) > 0)
    }
}
