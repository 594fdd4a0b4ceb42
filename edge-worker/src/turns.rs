//! Heavy reads take turns. A query that reads raw events (up to `MAX_RAW_EVENTS` of them, as
//! JS objects from D1 and then as hits) or a run of day blocks holds tens of MB while it works;
//! an isolate has 128 MB, and a dashboard opening sends several such queries at once. Three at
//! once over a busy site's month (each refused after reading its 200 000 events) ran the isolate
//! out of memory: workerd restarted it, and every request in flight answered 503. So in one
//! isolate such queries read and answer one at a time; answers from the daily rollups (small,
//! parsed parts) never wait. Input: nothing. Output: a turn, held until the query has answered.
//! Must not: be held across anything but the query's own reads and answer.
//!
//! A waiting query polls on a timer instead of being woken by the query before it: workerd
//! cancels a request whose only pending work is a promise another request would settle ("the
//! Worker's code had hung"), and a timer is work of its own.

use std::cell::Cell;
use std::time::Duration;

use worker::Delay;

/// How often a waiting query looks whether the turn is free.
const POLL: Duration = Duration::from_millis(10);

thread_local! {
    static BUSY: Cell<bool> = const { Cell::new(false) };
}

/// This isolate's turn to read raw events or blocks, released when dropped.
pub struct Turn;

impl Drop for Turn {
    fn drop(&mut self) {
        BUSY.with(|b| b.set(false));
    }
}

/// Waits for this isolate's turn for a heavy read.
pub async fn heavy() -> Turn {
    while BUSY.with(|b| b.replace(true)) {
        Delay::from(POLL).await;
    }
    Turn
}
