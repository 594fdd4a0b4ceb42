//! The cron's work: purge raw events past each site's retention (and of erased sites) and salts
//! older than two days, nudge again forwards whose queue message was lost (and forget given-up
//! ones after 30 days), then sum closed weeks and months (core's `ingest::compact`) within a
//! budget of days read, and build the blocks of closed days that have none or a stale one (core's
//! `engine::block`, from the day's raw events) within a budget of days. Runs on the `[triggers]
//! crons` schedule; `wrangler dev --test-scheduled` exposes it locally at `/__scheduled`; `POST
//! /api/admin/compact` runs both on demand (after an import, say). Must not: change a day's
//! rollups.

use serde::Serialize;
use sightline_core::audit;
use sightline_core::engine::{block::Block, visits};
use sightline_core::ingest::{compact, parts};
use sightline_core::query::midnight;
use sightline_core::retention;
use worker::{Env, Response};

use crate::error::AppError;
use crate::store::Store;
use crate::{deflate, edge};

/// Runs the housekeeping once; failures are logged and left to the next run.
pub async fn run(env: &Env) {
    let store = match Store::new(env) {
        Ok(store) => store,
        Err(e) => return worker::console_error!("housekeeping failed: {e:?}"),
    };
    match store.purge(edge::now()).await {
        Ok(purged) => {
            worker::console_log!("housekeeping: {purged} raw events past retention purged")
        }
        Err(e) => worker::console_error!("housekeeping: purge failed: {e:?}"),
    }
    match store.purge_audit(edge::now() - audit::KEEP_MS).await {
        Ok(0) => {}
        Ok(n) => worker::console_log!("housekeeping: {n} audit entries past 90 days deleted"),
        Err(e) => worker::console_error!("housekeeping: audit purge failed: {e:?}"),
    }
    forwarding(env, &store).await;
    let summed = match summing(&store, compact::DAYS_PER_RUN).await {
        Ok(done) => {
            worker::console_log!(
                "housekeeping: {} weeks and months summed, {} still due",
                done.summed,
                done.due
            );
            done.summed + done.raced
        }
        Err(e) => {
            worker::console_error!("housekeeping: summing failed: {e:?}");
            1
        }
    };
    // One heavy job a run: both at once outgrow a worker's memory on a busy site.
    if summed > 0 {
        return;
    }
    match building(&store, BLOCK_DAYS_PER_RUN).await {
        Ok(done) => worker::console_log!(
            "housekeeping: {} day blocks built, {} still due",
            done.built,
            done.due
        ),
        Err(e) => worker::console_error!("housekeeping: building blocks failed: {e:?}"),
    }
}

/// Most outbox rows one cron run nudges again.
const FORWARD_SWEEP: usize = 5000;
/// How long given-up outbox rows are kept for a replay.
const FORWARD_DEAD_KEEP_MS: i64 = 30 * 24 * 3600 * 1000;

/// Nudges again the outbox rows whose message was lost, and forgets rows given up long ago.
async fn forwarding(env: &Env, store: &Store) {
    let now = edge::now();
    let swept = crate::forwarder::sweep(env, store, now, FORWARD_SWEEP).await;
    if swept > 0 {
        worker::console_log!("housekeeping: {swept} waiting forwards nudged again");
    }
    match store.purge_forwards(now - FORWARD_DEAD_KEEP_MS, now).await {
        Ok(0) => {}
        Ok(n) => worker::console_log!(
            "housekeeping: {n} forwards deleted (given up over 30 days ago, past their site's \
             retention, or of an erased site)"
        ),
        Err(e) => worker::console_error!("housekeeping: forward purge failed: {e:?}"),
    }
}

/// `POST /api/admin/compact` (admin token): one summing pass now, then — when it summed nothing
/// (one heavy job a request, as a cron run) — one pass of block building; answers what each did
/// and what is still due (call again until both `due` are 0).
pub async fn compact_now(env: &Env) -> Result<Response, AppError> {
    let store = Store::new(env)?;
    let mut done = summing(&store, compact::DAYS_PER_RUN).await?;
    // A budget of 0 builds nothing and counts what is due.
    let budget = if done.summed + done.raced == 0 {
        BLOCK_DAYS_PER_RUN
    } else {
        0
    };
    done.blocks = building(&store, budget).await?;
    Ok(edge::json(200, &done))
}

/// Most days one pass builds blocks of (each reads a day's raw events).
const BLOCK_DAYS_PER_RUN: usize = 4;
/// A day gets a block once it ended this long ago (a later event makes the block stale: the day
/// is read raw until it is built again).
const BLOCK_AFTER_MS: i64 = 3600 * 1000;

/// What one pass of block building did.
#[derive(Debug, Default, Serialize)]
pub struct Building {
    /// Blocks built and stored.
    pub built: usize,
    /// Days written by the consumer while their block was built (built again next pass).
    pub raced: usize,
    /// Days with more raw events than one worker holds (left to raw events, and refused there).
    pub too_big: usize,
    /// Days still due after this pass, over every site.
    pub due: usize,
}

/// Visitor-key bounds of the slices a day's raw events are read in (keys are hex digests; the
/// first and last slices are open, so any key falls in one).
const SLICES: [(Option<&str>, Option<&str>); 4] = [
    (None, Some("4")),
    (Some("4"), Some("8")),
    (Some("8"), Some("c")),
    (Some("c"), None),
];

/// A day's block, built a slice of visitors at a time from its raw events without props (each
/// slice's events alone in memory: a busy day read at once outgrows a worker's memory); `None`
/// when the day has more raw events than one answer reads.
async fn day_block(
    store: &Store,
    site: &str,
    day: i64,
    zone: sightline_core::zone::Zone,
) -> Result<Option<Block>, AppError> {
    let range = (midnight(zone, day), midnight(zone, day + 1));
    let mut left = crate::routes::query::MAX_RAW_EVENTS;
    let mut block: Option<Block> = None;
    for slice in SLICES {
        let Some(hits) = store.hits_without_props(site, range, slice, left).await? else {
            return Ok(None);
        };
        left -= hits.len();
        let part = Block::of_day(&visits::build(hits, zone), day, zone);
        match block.as_mut() {
            None => block = Some(part),
            Some(b) => b.append(part),
        }
    }
    Ok(block)
}

/// Builds the due blocks of every site with stats (closed days within the raw retention, newest
/// first), at most `budget` days in all.
async fn building(store: &Store, budget: usize) -> Result<Building, AppError> {
    let now = edge::now();
    let mut done = Building::default();
    let mut left = budget;
    // Building a busy day takes much of a worker's memory: the block parts it holds for queries
    // go first (the next query reads them from D1 again).
    crate::held::clear_blocks();
    for site in store.stats_sites().await? {
        let Some(settings) = store.query_settings(&site.id, "").await? else {
            // (no token asked about)
            continue;
        };
        // Every whole day the raw retention keeps, and the day before the first (a query from
        // that one reads it for the visits that cross into it; it may be partly purged, its
        // block holds what is left).
        let first = site.first_day.max(retention::first_read_day(
            site.zone,
            now,
            settings.retention_days,
        ));
        let last = site.zone.local(now - BLOCK_AFTER_MS).day - 1;
        if first > last {
            continue;
        }
        let (days, due) = store.due_blocks(&site.id, first, last, left).await?;
        let mut settled = 0;
        for d in days {
            if left == 0 {
                break;
            }
            left -= 1;
            let Some(block) = day_block(store, &site.id, d.day, site.zone).await? else {
                done.too_big += 1;
                continue;
            };
            let mut parts = Vec::new();
            for (name, bytes) in block.encode() {
                parts.push((name, deflate::pack(&bytes).await?));
            }
            if store
                .store_block(&site.id, d.day, d.version, &parts)
                .await?
            {
                done.built += 1;
                settled += 1;
            } else {
                done.raced += 1;
            }
        }
        done.due += due.saturating_sub(settled);
    }
    Ok(done)
}

/// What one summing pass did.
#[derive(Debug, Default, Serialize)]
pub struct Summing {
    /// Periods summed and stored (or marked too big to store).
    pub summed: usize,
    /// Periods a day changed under while they were summed (they are summed again next run).
    pub raced: usize,
    /// Periods still due after this pass, over every site.
    pub due: usize,
    /// The pass of block building `POST /api/admin/compact` runs with it.
    pub blocks: Building,
}

/// Sums due periods of every site with stats, newest first, reading at most `budget` days in all.
async fn summing(store: &Store, budget: i64) -> Result<Summing, AppError> {
    store.purge_periods().await?;
    let now = edge::now();
    let mut done = Summing::default();
    let mut left = budget;
    for site in store.stats_sites().await? {
        let today = site.zone.local(now).day;
        let periods = compact::closed(site.first_day, today);
        if periods.is_empty() {
            continue;
        }
        let statuses = store.period_statuses(&site.id, &periods).await?;
        let due = compact::due(&statuses, left.max(0));
        let all_due = compact::due(&statuses, i64::MAX).len();
        let mut summed_here = 0;
        for period in due {
            if left <= 0 {
                break;
            }
            left -= period.days();
            let days = store.period_days(&site.id, period).await?;
            let stamp = compact::stamp(&days.iter().map(|(d, (v, _))| (*d, *v)).collect());
            // Each day is parsed as the sum takes it (a busy month parsed at once outgrew the
            // isolate's memory beside a block build).
            let joined = days.into_values().map(|(_, stored)| {
                let (day, unreadable) = parts::join(stored);
                for (part, _, e) in unreadable {
                    worker::console_error!(
                        "an unreadable rollup part {part} of site {} left out of a period: {e}",
                        site.id
                    );
                }
                day
            });
            let stored = match compact::sum(joined) {
                compact::Summed::Parts(parts) => {
                    store.store_period(&site.id, period, stamp, &parts).await?
                }
                compact::Summed::TooBig => {
                    store
                        .store_period(&site.id, period, -stamp, &[(parts::TOTALS, "{}".into())])
                        .await?
                }
            };
            if stored {
                done.summed += 1;
                summed_here += 1;
            } else {
                done.raced += 1;
            }
        }
        done.due += all_due.saturating_sub(summed_here);
    }
    Ok(done)
}
