//! The isolate's pending counts: what it counted outside a written transaction (the consumer's
//! retries, rows written and write times; the stats API's query times), held in the isolate and
//! written with its next consumer transaction, or on their own ([`time_query`]). An isolate that
//! ends first loses what it held (docs/OPERATIONS.md says so). Must not: decide what a count
//! means (core's `ops` does).

use std::cell::Cell;

use sightline_core::ops::{self, Pending};
use worker::Env;

use crate::edge;
use crate::store::Store;

thread_local! {
    /// What this isolate counted outside a written transaction, added with its next one.
    static PENDING: Cell<Pending> = Cell::new(Pending::default());
    /// When this isolate last wrote its timed stats queries on their own (ms).
    static QUERIES_WRITTEN_AT: Cell<i64> = const { Cell::new(0) };
}

/// Adds to this isolate's pending counts.
pub fn pend(more: Pending) {
    PENDING.with(|p| p.set(p.get().plus(more)));
}

/// Takes this isolate's pending counts (to write them).
pub fn take() -> Pending {
    PENDING.with(|p| p.take())
}

/// Counts one stats query that took `ms`, and writes the isolate's pending counts on their own
/// once it holds `ops::QUERIES_FLUSH` queries or held them `ops::QUERIES_FLUSH_MS` (a stats
/// isolate may never consume a batch); what D1 refuses waits for the next time.
pub async fn time_query(env: &Env, ms: i64) {
    pend(Pending::query_timed(ms));
    let now = edge::now();
    let held = PENDING.with(|p| p.get().query_count());
    // An isolate's first query starts its minute (no write on every new isolate's first query).
    if QUERIES_WRITTEN_AT.with(Cell::get) == 0 {
        QUERIES_WRITTEN_AT.with(|at| at.set(now));
    }
    let since = now - QUERIES_WRITTEN_AT.with(Cell::get);
    if held < ops::QUERIES_FLUSH && since < ops::QUERIES_FLUSH_MS {
        return;
    }
    QUERIES_WRITTEN_AT.with(|at| at.set(now));
    let pending = take();
    let written = match Store::new(env) {
        Ok(store) => store.add_counters(&ops::pending_samples(pending)).await,
        Err(e) => Err(e),
    };
    if written.is_err() {
        pend(pending);
    }
}
