//! Engine: answers a resolved [`Query`] (Plausible's Stats API v2) from a site's raw events,
//! exactly — no sampling, no caps. Every metric, dimension, filter, comparison and funnel is
//! answered here the same way, so one definition of each lives in one place (docs/METRICS.md
//! states them).
//!
//! Input: the query, the site's zone, the raw events ([`Hit`]) of every visit that touches the
//! query's ranges (the store reads them), a saved funnel when the query names one, the first
//! instant raw events are kept from, and the browsers' reported losses per local day. Output: the
//! answer as JSON in Plausible's shape (`results`, `meta`, `query`).
//! Stages, in order: [`visits`] (events → visits, staff apart) → [`filter`] (the tree compiled,
//! matched per event within its visit) → [`tally`] (grouped and counted per range) →
//! [`funnel`] (for funnel queries) → [`shape`] (metrics, order, pages, comparisons, JSON).
//! The queries the daily rollups hold exactly are answered from them instead ([`rollup`]), at any
//! range.
//! Must not: do I/O, read the clock, or hold SQL.

pub mod block;
pub mod filter;
pub mod funnel;
pub mod rollup;
pub mod scan;
pub mod shape;
pub mod tally;
pub mod visits;

#[cfg(test)]
mod scan_tests;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ingest::Props;
use crate::query::{self, Query, QueryError};
use crate::saved::Funnel;
use crate::wire::PropValue;
use crate::zone::Zone;

/// One raw event as the engine reads it (the columns of the `events` table it needs).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Hit {
    /// Event time, ms since the epoch.
    pub ts: i64,
    /// `pageview` or a custom event name.
    pub name: String,
    /// Page host.
    pub hostname: String,
    /// Page path, scrubbed.
    pub path: String,
    /// Visitor key (salted per day).
    pub visitor: String,
    /// Session key.
    pub session: String,
    /// Custom properties.
    #[serde(default)]
    pub props: Props,
    /// Referrer host.
    pub referrer: Option<String>,
    /// Source name.
    pub source: Option<String>,
    /// Channel.
    pub channel: Option<String>,
    /// `utm_source`.
    pub utm_source: Option<String>,
    /// `utm_medium`.
    pub utm_medium: Option<String>,
    /// `utm_campaign`.
    pub utm_campaign: Option<String>,
    /// `utm_content`.
    pub utm_content: Option<String>,
    /// `utm_term`.
    pub utm_term: Option<String>,
    /// Country code.
    pub country: Option<String>,
    /// Device class (`desktop`, `mobile`, `tablet`).
    pub device: Option<String>,
    /// Browser family.
    pub browser: Option<String>,
    /// OS family.
    pub os: Option<String>,
}

impl Hit {
    /// Staff traffic: the SDK marked it `is_internal` (staff surfaces, `admin:`/`instructor:` names).
    pub fn internal(&self) -> bool {
        matches!(self.props.get("is_internal"), Some(PropValue::Bool(true)))
    }

    /// A prop as text, as the `event:props:<key>` dimension shows it.
    pub fn prop(&self, key: &str) -> Option<String> {
        Some(match self.props.get(key)? {
            PropValue::Str(s) => s.clone(),
            PropValue::Num(n) => crate::engine::shape::number_text(*n),
            PropValue::Bool(b) => b.to_string(),
        })
    }

    /// A numeric prop.
    pub fn number(&self, key: &str) -> Option<f64> {
        match self.props.get(key)? {
            PropValue::Num(n) => Some(*n).filter(|v| v.is_finite()),
            _ => None,
        }
    }
}

/// Everything one answer is computed from.
#[derive(Debug)]
pub struct Input<'a> {
    /// The query, resolved.
    pub query: &'a Query,
    /// The query's body as sent (echoed in `query`, with the date range resolved).
    pub body: &'a Value,
    /// The site's time zone.
    pub zone: Zone,
    /// The raw events of every visit touching the query's ranges, in any order.
    pub hits: Vec<Hit>,
    /// The saved funnel the query names.
    pub funnel: Option<(u64, &'a Funnel)>,
    /// The first instant raw events are kept from (the site's retention).
    pub kept_from: i64,
    /// Events browsers reported dropped, per local day (from the rollups).
    pub lost: BTreeMap<i64, i64>,
    /// The rollup pieces, when [`rollup::parts_for`] said the rollups answer the query (the
    /// hits are then not read): per stored part of a day or summed period, its first local day
    /// and what it holds as a day (`ingest::parts::read_part`; a piece's parts add up).
    pub days: Option<Vec<rollup::Piece>>,
    /// Closed days' blocks, when [`scan::eligible`] said they answer the query: the hits are
    /// then read for the other days only, and count only visits that started on them.
    pub blocks: Option<Blocks>,
}

/// Closed days' blocks, and the days read from raw events instead.
#[derive(Debug, Default)]
pub struct Blocks {
    /// The blocks.
    pub blocks: Vec<block::Block>,
    /// The local days no block holds (their visits are counted from the hits).
    pub raw_days: std::collections::BTreeSet<i64>,
}

/// Answers the query.
pub fn answer(input: Input<'_>) -> Result<Value, QueryError> {
    let q = input.query;
    if let (Some(days), None) = (&input.days, input.funnel) {
        let lost = rollup::lost(days, q.internal);
        let cx = shape::Shaping {
            query: q,
            body: input.body,
            zone: input.zone,
            kept_from: i64::MIN,
            lost: &lost,
        };
        let source = rollup::Rollups {
            days,
            internal: q.internal,
        };
        return shape::answer(&source, q, None, &cx);
    }
    let hits: Vec<Hit> = if q.internal {
        input.hits
    } else {
        input.hits.into_iter().filter(|h| !h.internal()).collect()
    };
    let mut data = visits::build(hits, input.zone);
    if let Some(b) = &input.blocks {
        data = scan::only_days(data, &b.raw_days);
    }
    let compiled = q.filters.as_ref().map(filter::compile).transpose()?;
    let cx = shape::Shaping {
        query: q,
        body: input.body,
        zone: input.zone,
        kept_from: input.kept_from,
        lost: &input.lost,
    };
    let blocks = input.blocks.as_ref().map_or(&[][..], |b| &b.blocks[..]);
    if let Some((id, f)) = input.funnel {
        let reached = |span: &query::Span| {
            let mut counts = funnel::reached(&data, compiled.as_ref(), f, span);
            let mut steps_of = std::collections::HashMap::new();
            for b in blocks {
                let more = scan::reached(b, compiled.as_ref(), f, span, &mut steps_of);
                counts.iter_mut().zip(more).for_each(|(c, m)| *c += m);
            }
            counts
        };
        return Ok(funnel::answer(reached, id, f, &cx));
    }
    if input.blocks.is_some() {
        let source = scan::Scan {
            blocks,
            raw: &data,
            zone: input.zone,
        };
        return shape::answer(&source, q, compiled.as_ref(), &cx);
    }
    let raw = tally::Raw {
        data: &data,
        zone: input.zone,
    };
    shape::answer(&raw, q, compiled.as_ref(), &cx)
}
