//! Heavy reads take turns. A query that reads raw events (up to `MAX_RAW_EVENTS` of them, as
//! JS objects from D1 and then as hits) or a run of day blocks holds tens of MB while it works;
//! an isolate has 128 MB, and a dashboard opening sends several such queries at once. Three at
//! once over a busy site's month ran the isolate out of memory: workerd restarted it, and every
//! request in flight answered 503. So in one isolate such queries read and answer one at a time
//! (the first to look after one is done goes next); answers from the daily rollups (small,
//! parsed parts) never wait. Input: the time. Output: a turn, held until the query has answered.
//! Must not: be held across anything but the query's own reads and answer; wait without bound.
//!
//! A waiting query polls on a timer instead of being woken by the query before it: workerd
//! cancels a request whose only pending work is a promise another request would settle ("the
//! Worker's code had hung"), and a timer is work of its own. A request that workerd cancels
//! (its client went away) may never run its turn's drop: a turn older than [`STALE_MS`] is
//! taken over, and a query never waits longer than [`MAX_WAIT_MS`] (it then reads beside the
//! other, as without turns).

use std::cell::Cell;
use std::time::Duration;

use worker::Delay;

use crate::edge;

/// A turn held this long is taken to be lost (the heaviest answer takes a few seconds).
const STALE_MS: i64 = 30_000;
/// The longest a query waits for its turn.
const MAX_WAIT_MS: i64 = 20_000;

/// The isolate's turn: whether it is held, by which taking, and since when.
struct Line {
    held: Cell<bool>,
    taking: Cell<u64>,
    since: Cell<i64>,
}

thread_local! {
    static LINE: Line = const {
        Line { held: Cell::new(false), taking: Cell::new(0), since: Cell::new(0) }
    };
}

/// This isolate's turn to read raw events or blocks, given up when dropped.
pub struct Turn {
    /// Which taking of the turn this is (`None`: it did not wait longer, and holds none).
    taking: Option<u64>,
}

impl Drop for Turn {
    fn drop(&mut self) {
        LINE.with(|line| {
            // A turn taken over (stale) is no longer this one's to give up.
            if self.taking == Some(line.taking.get()) {
                line.held.set(false);
            }
        });
    }
}

/// Waits for this isolate's turn for a heavy read. Waiting queries look every few ms (backing
/// off to 40): the first to look after the turn is given up takes it.
pub async fn heavy() -> Turn {
    let asked = edge::now();
    let mut poll = 5;
    loop {
        let now = edge::now();
        let turn = LINE.with(|line| {
            let stale = now - line.since.get() > STALE_MS;
            if !line.held.get() || stale {
                let taking = line.taking.get() + 1;
                line.taking.set(taking);
                line.held.set(true);
                line.since.set(now);
                Some(Turn {
                    taking: Some(taking),
                })
            } else if now - asked > MAX_WAIT_MS {
                // Waited long enough: go on beside whoever holds it (as before turns).
                Some(Turn { taking: None })
            } else {
                None
            }
        });
        if let Some(turn) = turn {
            return turn;
        }
        Delay::from(Duration::from_millis(poll)).await;
        poll = (poll * 2).min(40);
    }
}
