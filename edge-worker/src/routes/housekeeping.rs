//! The cron's work: purge raw events past each site's retention (and of erased sites) and salts
//! older than two days, nudge again forwards whose queue message was lost (and forget given-up
//! ones after 30 days), then sum closed weeks and months (core's `ingest::compact`) within a
//! budget of days read. Runs on the `[triggers] crons` schedule; `wrangler dev --test-scheduled`
//! exposes it locally at `/__scheduled`; `POST /api/admin/compact` runs the summing on demand
//! (after an import, say). Must not: change a day's rollups.

use serde::Serialize;
use sightline_core::audit;
use sightline_core::ingest::{compact, parts};
use worker::{Env, Response};

use crate::edge;
use crate::error::AppError;
use crate::store::Store;

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
    match summing(&store, compact::DAYS_PER_RUN).await {
        Ok(done) => worker::console_log!(
            "housekeeping: {} weeks and months summed, {} still due",
            done.summed,
            done.due
        ),
        Err(e) => worker::console_error!("housekeeping: summing failed: {e:?}"),
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

/// `POST /api/admin/compact` (admin token): one summing pass now; answers what it did and what
/// is still due (call again until `due` is 0).
pub async fn compact_now(env: &Env) -> Result<Response, AppError> {
    let store = Store::new(env)?;
    let done = summing(&store, compact::DAYS_PER_RUN).await?;
    Ok(edge::json(200, &done))
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
            let joined: Vec<_> = days
                .into_values()
                .map(|(_, stored)| {
                    let (day, unreadable) = parts::join(stored);
                    for (part, _, e) in unreadable {
                        worker::console_error!(
                            "an unreadable rollup part {part} of site {} left out of a period: {e}",
                            site.id
                        );
                    }
                    day
                })
                .collect();
            let stored = match compact::sum(&joined) {
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
