//! Storage for a site's saved segments and funnels (`segments`, `funnels`). Input: core's checked
//! definitions (a name and canonical JSON text). Output: core's [`Stored`] rows. The table is
//! chosen by a `match` over core's closed [`Kind`]; reads go through [`Store::rows`] and
//! [`Store::row`], so they count in `X-D1-Rows-Read`. Must not: check or change a definition (core
//! did), or store one for a site that does not exist, or past the site's limit.

use serde::Deserialize;
use sightline_core::saved::{Checked, Kind, Stored};

use super::{number, text, Store};
use crate::error::AppError;

/// One kind's statements.
struct Sql {
    /// Binds: site, name, definition, now, the site's limit. Inserts only for an existing site
    /// below its limit, in the same statement, so a concurrent erasure or insert cannot slip past.
    insert: &'static str,
    /// Binds: site.
    list: &'static str,
    /// Binds: site, id.
    one: &'static str,
    /// Binds: site, id.
    delete: &'static str,
}

const SEGMENTS: Sql = Sql {
    insert: "INSERT INTO segments (site_id, name, definition, created_at) \
         SELECT ?1, ?2, ?3, ?4 WHERE EXISTS (SELECT 1 FROM sites WHERE id = ?1) \
         AND (SELECT COUNT(*) FROM segments WHERE site_id = ?1) < ?5 RETURNING id",
    list: "SELECT id, name, definition, created_at FROM segments WHERE site_id = ?1 ORDER BY id",
    one: "SELECT id, name, definition, created_at FROM segments WHERE site_id = ?1 AND id = ?2",
    delete: "DELETE FROM segments WHERE site_id = ?1 AND id = ?2",
};

const FUNNELS: Sql = Sql {
    insert: "INSERT INTO funnels (site_id, name, definition, created_at) \
         SELECT ?1, ?2, ?3, ?4 WHERE EXISTS (SELECT 1 FROM sites WHERE id = ?1) \
         AND (SELECT COUNT(*) FROM funnels WHERE site_id = ?1) < ?5 RETURNING id",
    list: "SELECT id, name, definition, created_at FROM funnels WHERE site_id = ?1 ORDER BY id",
    one: "SELECT id, name, definition, created_at FROM funnels WHERE site_id = ?1 AND id = ?2",
    delete: "DELETE FROM funnels WHERE site_id = ?1 AND id = ?2",
};

fn sql(kind: Kind) -> &'static Sql {
    match kind {
        Kind::Segment => &SEGMENTS,
        Kind::Funnel => &FUNNELS,
    }
}

#[derive(Deserialize)]
struct Row {
    id: f64,
    name: String,
    definition: String,
    created_at: f64,
}

impl From<Row> for Stored {
    fn from(r: Row) -> Stored {
        Stored {
            id: r.id as u64,
            name: r.name,
            definition: r.definition,
            created_at: r.created_at as i64,
        }
    }
}

/// Outcome of storing a definition.
pub enum Saved {
    /// Stored under this id.
    Yes(u64),
    /// The site keeps as many as it may.
    Full,
    /// The site does not exist (erased meanwhile).
    NoSite,
}

impl Store {
    /// Stores a checked definition for `site`.
    pub async fn save(
        &self,
        site: &str,
        kind: Kind,
        checked: &Checked,
        now: i64,
    ) -> Result<Saved, AppError> {
        #[derive(Deserialize)]
        struct Id {
            id: f64,
        }
        let binds = [
            text(site),
            text(&checked.name),
            text(&checked.definition),
            number(now),
            number(kind.max_per_site() as i64),
        ];
        let made: Option<Id> = self.row(self.statement(sql(kind).insert, &binds)?).await?;
        Ok(match made {
            Some(row) => Saved::Yes(row.id as u64),
            None if self.site_exists(site).await? => Saved::Full,
            None => Saved::NoSite,
        })
    }

    /// Every definition of this kind of `site`, oldest first.
    pub async fn saved(&self, site: &str, kind: Kind) -> Result<Vec<Stored>, AppError> {
        let rows: Vec<Row> = self
            .rows(self.statement(sql(kind).list, &[text(site)])?)
            .await?;
        Ok(rows.into_iter().map(Stored::from).collect())
    }

    /// One definition of `site`, if it has one with this id.
    pub async fn saved_one(
        &self,
        site: &str,
        kind: Kind,
        id: u64,
    ) -> Result<Option<Stored>, AppError> {
        let row: Option<Row> = self
            .row(self.statement(sql(kind).one, &[text(site), number(id as i64)])?)
            .await?;
        Ok(row.map(Stored::from))
    }

    /// Deletes one definition of `site`; false when it had none with this id.
    pub async fn delete_saved(&self, site: &str, kind: Kind, id: u64) -> Result<bool, AppError> {
        let result = self
            .statement(sql(kind).delete, &[text(site), number(id as i64)])?
            .run()
            .await?;
        Ok(result.meta()?.and_then(|m| m.changes).unwrap_or(0) > 0)
    }
}
