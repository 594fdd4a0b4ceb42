//! `POST /api/v2/query`: Plausible's Stats API v2, answered by core's engine. Read the body (at
//! most 64 KB), parse it (a 400 naming what is wrong), check the caller against the body's
//! `site_id` (the site's read token, one of its shares, or the admin token; anything else 401
//! with no data), lock a share's query to its segment, replace saved segments with their
//! filters, fetch a named funnel, resolve the ranges in the site's zone, read what answers it —
//! the rollups' parts for what they hold (days, or the closed weeks and months the cron summed),
//! else the raw events of the visits the ranges touch — and answer. The test-hooks build adds
//! `X-D1-Rows-Read`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::rc::Rc;

use sightline_core::engine::block::Block;
use sightline_core::engine::{self, visits, Hit, Input};
use sightline_core::ingest::parts;
use sightline_core::query::{self, midnight, Context, ErrorKind, QueryError};
use sightline_core::retention;
use sightline_core::saved::{self, share, Funnel, Kind, Segment};
use worker::{Env, Request, Response};

use super::access::{self, Caller};
use crate::error::AppError;
use crate::store::Store;
use crate::{deflate, edge, held, turns};

const DAY_MS: i64 = 24 * 3600 * 1000;

/// Most raw events one answer reads (a worker holds them in memory, at about 300 bytes each). A
/// query whose ranges hold more is refused with a 400 that says so, never half answered.
pub const MAX_RAW_EVENTS: usize = 200_000;

/// Days of blocks one statement reads at least (a month is read in slices, at once).
const BLOCK_SLICE_DAYS: usize = 8;
/// Most statements a run of days' blocks is read in.
const BLOCK_SLICES: usize = 8;

/// Answers one query.
pub async fn handle(mut req: Request, env: &Env) -> Result<Response, AppError> {
    let body = edge::query_body(&mut req).await?;
    let request = query::parse(&body)?;
    let site = request.site_id.clone();
    let store = Store::new(env)?;
    let hash = access::presented_hash(&req)?;
    let settings = store.query_settings(&site, &hash).await?;
    let caller = access::site_found(env, &hash, settings.as_ref().map(|s| s.holder))?;
    let settings = settings.ok_or(AppError::Missing("site"))?;
    let mut echo: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    // A share locked to a segment sees only what it matches, whatever its holder asks.
    let request = match caller {
        Caller::Share { segment: Some(id) } => share::lock(request, &mut echo, id),
        _ => request,
    };
    let request = if request.filters.iter().any(|f| !f.segments().is_empty()) {
        let segments: BTreeMap<u64, Segment> = store
            .saved(&site, Kind::Segment)
            .await?
            .iter()
            .filter_map(|s| Some((s.id, Segment::stored(s.id, &s.name, &s.definition).ok()?)))
            .collect();
        saved::expand(request, &segments)?
    } else {
        request
    };
    let funnel = match request.funnel {
        None => None,
        Some(id) => {
            let stored = store
                .saved_one(&site, Kind::Funnel, id)
                .await?
                .ok_or_else(|| {
                    QueryError::new(
                        ErrorKind::InvalidFunnel,
                        format!("Invalid funnel. The site has no funnel with id {id}."),
                    )
                })?;
            Some((id, Funnel::stored(id, &stored.name, &stored.definition)?))
        }
    };
    let now = edge::now();
    let cx = Context {
        zone: settings.zone,
        now,
        // The first rollup's local day, at noon UTC (the same local day in every zone).
        stats_start: settings.first_day.map(|d| d * DAY_MS + DAY_MS / 2),
    };
    let q = request.resolve(&cx)?;
    // Both ranges are read at once: the query's, and the comparison's (itself when none).
    let (main, other) = (q.date_range, q.comparison.unwrap_or(q.date_range));
    let first_day = main.first_day.min(other.first_day);
    let last_day = main.last_day.max(other.last_day);
    // Summed weeks and months stand in for their days when no time bucket splits the range and
    // the two ranges do not overlap (each piece then lies in one range); else the days are read.
    let apart = main.last_day < other.first_day || other.last_day < main.first_day;
    let buckets = q.dimensions.iter().any(|d| d.is_time());
    let (ranges, periods) = if apart {
        (
            vec![
                (main.first_day, main.last_day),
                (other.first_day, other.last_day),
            ],
            !buckets,
        )
    } else {
        (
            vec![(first_day, last_day)],
            !buckets && q.comparison.is_none(),
        )
    };
    let from = main.range.from.min(other.range.from);
    let to = main.range.to.max(other.range.to);
    let rollup_parts = engine::rollup::parts_for(&q);
    // The rollups count their own losses; blocks and raw events read them.
    let lost = if rollup_parts.is_none() && q.metrics.contains(&query::Metric::LostInBrowser) {
        store.lost(&site, first_day, last_day).await?
    } else {
        BTreeMap::new()
    };
    // Block and rollup parts read from this isolate's memory (the test-hooks build says how
    // many).
    let mut held_parts = 0;
    // Raw events and blocks are read one query at a time in this isolate (turns.rs); rollups
    // never wait.
    let _turn = match rollup_parts {
        Some(_) => None,
        None => Some(turns::heavy().await),
    };
    let (hits, days, blocks) = match rollup_parts {
        Some(parts) => {
            let (pieces, from_memory) = rollup_pieces(
                &store,
                (&site, settings.created_at),
                warm(&req),
                &ranges,
                &parts,
                periods,
            )
            .await?;
            held_parts += from_memory;
            (Vec::new(), Some(pieces), None)
        }
        None if engine::scan::eligible(&q, funnel.as_ref().map(|(_, f)| f)) => {
            // Each range's days, and the day before it (a visit that started then can reach in).
            let needed: BTreeSet<i64> = [main, other]
                .iter()
                .flat_map(|s| s.first_day - 1..=s.last_day)
                .collect();
            let parts = engine::scan::parts(&q, funnel.is_some());
            let held = if warm(&req) {
                held::blocks(&site)
            } else {
                held::Blocks::new()
            };
            let mut blocks = Vec::new();
            let mut with_stats = BTreeSet::new();
            for (first, last) in runs(&needed) {
                // The run's blocks in slices of a few days, read at once with its days with
                // stats: a slice is inflated while D1 still sends the next. (At most
                // BLOCK_SLICES of them: a range of years is read in longer slices, most of
                // them empty — blocks are kept as long as raw events.)
                let days = usize::try_from(last - first + 1).unwrap_or(1);
                let size = days.div_ceil(BLOCK_SLICES).max(BLOCK_SLICE_DAYS);
                let slices = (first..=last).step_by(size).map(|a| {
                    let b = (a + size as i64 - 1).min(last);
                    read_blocks(&store, &site, (a, b), &parts, &held)
                });
                let (read, stats) = futures_util::future::join(
                    futures_util::future::join_all(slices),
                    store.stats_days(&site, first, last),
                )
                .await;
                for slice in read {
                    let (read, from_memory) = slice?;
                    blocks.extend(read);
                    held_parts += from_memory;
                }
                with_stats.extend(stats?);
            }
            let held: BTreeSet<i64> = blocks.iter().map(|b| b.day).collect();
            let raw_days: BTreeSet<i64> = needed.difference(&held).copied().collect();
            // Raw events are read for the days without a block that have stats (a day without
            // has no visit: each read scans the site's raw log, which is keyed by event id), and
            // that the retention keeps (with the day before the first whole one, for the visits
            // that cross into it; earlier ones have none).
            let oldest = retention::first_read_day(settings.zone, now, settings.retention_days);
            let raw_runs = runs(
                &raw_days
                    .intersection(&with_stats)
                    .copied()
                    .filter(|d| *d >= oldest)
                    .collect(),
            );
            let mut hits = Vec::new();
            for &(first, last) in &raw_runs {
                let (a, b) = (
                    midnight(settings.zone, first),
                    midnight(settings.zone, last + 1),
                );
                let read = raw_hits(&store, &site, (a.max(from), b.min(to)), now).await?;
                // Reads of several runs may each hold a visit long enough to touch both: each
                // keeps only the visits that started on its own days.
                hits.extend(if raw_runs.len() > 1 {
                    visits::started_on(read, settings.zone, first..=last)
                } else {
                    read
                });
            }
            let blocks = engine::Blocks { blocks, raw_days };
            (hits, None, Some(blocks))
        }
        None => (raw_hits(&store, &site, (from, to), now).await?, None, None),
    };
    let answer = engine::answer(Input {
        query: &q,
        body: &echo,
        zone: settings.zone,
        hits,
        funnel: funnel.as_ref().map(|(id, f)| (*id, f)),
        kept_from: retention::kept_from(settings.zone, now, settings.retention_days),
        lost,
        days,
        blocks,
    })?;
    let response = edge::json(200, &answer);
    #[cfg(feature = "test-hooks")]
    let response = edge::test_hooks::with_rows_read(response, store.rows_read());
    #[cfg(feature = "test-hooks")]
    let response = edge::test_hooks::with_header(response, "X-Parts-Held", held_parts);
    #[cfg(not(feature = "test-hooks"))]
    let _ = held_parts;
    Ok(response)
}

/// The rollup parts of `site` (created at `created`) over `ranges` — those this isolate holds
/// ([`held`]) from memory, the others from D1, parsed and then held — as the engine's pieces, by
/// first day. A part that cannot be read is left out and logged (the consumer sets it aside on
/// its next write to that day): one damaged day never makes a report fail.
async fn rollup_pieces(
    store: &Store,
    (site, created): (&str, i64),
    warm: bool,
    ranges: &[(i64, i64)],
    parts: &[&str],
    periods: bool,
) -> Result<(Vec<engine::rollup::Piece>, usize), AppError> {
    let held = if warm {
        held::rollups(site, created)
    } else {
        HashMap::new()
    };
    // (Only those of the ranges and parts read: the key list is a statement's parameter.)
    let keys: Vec<String> = held
        .keys()
        .filter(|(first, last, part, _)| {
            parts.contains(&part.as_str()) && ranges.iter().any(|(a, b)| a <= first && last <= b)
        })
        .map(held::rollup_key)
        .collect();
    let mut pieces = Vec::new();
    let mut from_memory = 0;
    for p in store
        .rollup_parts(site, ranges, parts, periods, &keys)
        .await?
    {
        let piece = (p.first, p.last, p.part, p.version);
        let part = match &p.data {
            Some(text) => match parts::read_part(&piece.2, text) {
                Ok(read) => {
                    let read = Rc::new(read);
                    held::put_rollup(site, created, piece, Rc::clone(&read), text.len());
                    read
                }
                Err(e) => {
                    worker::console_error!(
                        "an unreadable rollup part {} of site {site} left out: {e}",
                        piece.2
                    );
                    continue;
                }
            },
            // Held under the version D1 has for it now, so it is the stored part.
            None => match held.get(&piece) {
                Some(read) => {
                    from_memory += 1;
                    Rc::clone(read)
                }
                None => {
                    worker::console_error!(
                        "a rollup part held is gone: {}",
                        held::rollup_key(&piece)
                    );
                    continue;
                }
            },
        };
        pieces.push((p.first, part));
    }
    pieces.sort_by_key(|(first, _)| *first);
    Ok((pieces, from_memory))
}

/// True when the request may use what this isolate holds ([`held`]) — always, but in the
/// test-hooks build when it asks for a cold read (`X-Test-Cold: 1`: the reports bench's cold rows,
/// and the tests that compare both).
fn warm(req: &Request) -> bool {
    #[cfg(feature = "test-hooks")]
    if req.headers().get("X-Test-Cold").ok().flatten().as_deref() == Some("1") {
        return false;
    }
    let _ = req;
    true
}

/// The raw events of every visit touching `[from, to)` — from the recent log when it holds
/// them (a few rows), else from the raw log (a scan of the site's) — or a 400 when there are
/// more than one answer reads.
async fn raw_hits(
    store: &Store,
    site: &str,
    (from, to): (i64, i64),
    now: i64,
) -> Result<Vec<Hit>, AppError> {
    let read = match store
        .recent_hits(site, (from, to), now, MAX_RAW_EVENTS)
        .await?
    {
        Some(read) => read,
        // A range of more than a day is counted first: a busy site's month is then refused
        // without reading (and holding) its first 200 000 events. A day's read is not: a day
        // that holds more is rare, and counting costs the rows it would read.
        None if to - from > DAY_MS && store.hits_over(site, (from, to), MAX_RAW_EVENTS).await? => {
            None
        }
        None => store.hits(site, from, to, MAX_RAW_EVENTS).await?,
    };
    Ok(read.ok_or_else(|| {
        QueryError::new(
            ErrorKind::InvalidDateRange,
            format!(
                "Invalid date range. The range holds more than {MAX_RAW_EVENTS} raw events \
                     of this site, more than one answer reads; ask for a shorter date_range."
            ),
        )
    })?)
}

/// The current blocks of local days `[first, last]`, the parts named read — those this isolate
/// holds ([`held`]) from memory, the others from D1, inflated and then held; a
/// block that does not read (or lacks a part) is left out (its day is read raw) and logged.
async fn read_blocks(
    store: &Store,
    site: &str,
    (first, last): (i64, i64),
    parts: &[&str],
    held: &held::Blocks,
) -> Result<(Vec<Block>, usize), AppError> {
    let ids: Vec<String> = held
        .iter()
        .filter(|(_, (day, part, _, _))| {
            (first..=last).contains(day) && parts.contains(&part.as_str())
        })
        .map(|(id, (_, _, stamp, _))| format!("{id}:{stamp}"))
        .collect();
    let stored_all = store.blocks(site, (first, last), parts, &ids).await?;
    // Every part not held inflates at once (the runtime's streams run beside each other).
    let unpacked = futures_util::future::join_all(
        stored_all
            .values()
            .flatten()
            .filter_map(|p| p.data.as_deref())
            .map(deflate::unpack),
    )
    .await;
    let mut unpacked = unpacked.into_iter();
    let mut blocks = Vec::new();
    let mut from_memory = 0;
    for (day, stored) in &stored_all {
        let mut bytes = Vec::new();
        for p in stored {
            let read = match (&p.data, p.built) {
                (Some(_), built) => {
                    let b = unpacked.next().transpose()?.flatten().map(Rc::new);
                    if let (Some(b), Some(built)) = (&b, built) {
                        held::put_block(site, (*day, &p.part), (built, p.stamp), Rc::clone(b));
                    }
                    b
                }
                // Held: the id D1 has for this day's part now, so the bytes are the part's.
                (None, Some(built)) => {
                    let read = held
                        .get(&built)
                        .filter(|(d, part, stamp, _)| {
                            d == day && *part == p.part && *stamp == p.stamp
                        })
                        .map(|(_, _, _, b)| Rc::clone(b));
                    from_memory += usize::from(read.is_some());
                    read
                }
                (None, None) => None,
            };
            if let Some(b) = read {
                bytes.push((p.part.as_str(), b));
            }
        }
        let all: Vec<(&str, &[u8])> = bytes.iter().map(|(p, b)| (*p, &b[..])).collect();
        let block = Block::decode(&all)
            .ok()
            .filter(|b| b.day == *day && bytes.len() == parts.len());
        match block {
            Some(b) => blocks.push(b),
            None => worker::console_error!("the block of day {day} of a site does not read"),
        }
    }
    Ok((blocks, from_memory))
}

/// Runs of consecutive days, as (first, last).
fn runs(days: &BTreeSet<i64>) -> Vec<(i64, i64)> {
    let mut out: Vec<(i64, i64)> = Vec::new();
    for &d in days {
        match out.last_mut() {
            Some((_, last)) if *last + 1 == d => *last = d,
            _ => out.push((d, d)),
        }
    }
    out
}
