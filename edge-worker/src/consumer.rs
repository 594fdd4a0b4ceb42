//! The queue consumer: a batch of messages (each the events of one beacon) in, one D1 transaction
//! out. It reads what storage knows (event and order ids, the visitors' visits, time zones, the
//! touched rollup days), runs core's de-duplicate → sessionise → aggregate stages, and writes the new
//! events, visits and rollups in one guarded transaction: a redelivered or resent batch counts once,
//! and a concurrent consumer's write in between makes the transaction fail and the cycle run again.
//! A batch that keeps failing is retried by Queues and finally dead-lettered, and counted.
//! Must not: log event contents.

use sightline_core::faults::Faults;
use sightline_core::ingest::{aggregate, dedupe, sessionise, Event, Queued};
use sightline_core::wire::WireError;
use sightline_core::zone::Zone;
use worker::{Env, MessageBatch, MessageExt, QueueRetryOptionsBuilder};

use crate::edge;
use crate::error::AppError;
use crate::store::ingest::Known;
use crate::store::Store;

/// The dead-letter queue's name (wrangler.toml).
const DEAD_LETTER_QUEUE: &str = "sightline-events-dlq";

/// Most events one transaction writes: a batch of many large beacons is written in several
/// transactions (each guarded on its own), so none runs long, and a failure retries only its part.
const EVENTS_PER_WRITE: usize = 1000;

/// Handles one batch of either queue.
pub async fn consume(batch: MessageBatch<String>, env: &Env) {
    let dead = batch.queue() == DEAD_LETTER_QUEUE;
    let mut readable = Vec::new();
    let mut unreadable = 0;
    for message in batch.raw_iter() {
        match message
            .body()
            .as_string()
            .as_deref()
            .and_then(Queued::decode)
        {
            Some(events) => readable.push((message, events)),
            None => {
                // A message this consumer cannot read will never be readable: count it, drop it.
                unreadable += 1;
                message.ack();
            }
        }
    }
    if dead {
        let events = readable.iter().map(|(_, e)| e.len()).sum();
        let settle = count_dead(env, readable.len() + unreadable, events).await;
        finish(&readable, settle);
        return;
    }
    if unreadable > 0 {
        if let Ok(store) = Store::new(env) {
            let _ = store.count_dead_letters(edge::now(), unreadable, 0).await;
        }
    }
    // Whole messages, in order, up to EVENTS_PER_WRITE events per transaction.
    let mut start = 0;
    while start < readable.len() {
        let mut end = start + 1;
        let mut size = readable[start].1.len();
        while end < readable.len() && size + readable[end].1.len() <= EVENTS_PER_WRITE {
            size += readable[end].1.len();
            end += 1;
        }
        let chunk = &readable[start..end];
        let events: Vec<Event> = chunk.iter().flat_map(|(_, e)| e.iter().cloned()).collect();
        finish(chunk, store(env, &events).await);
        start = end;
    }
}

/// Acks the messages of a written part, or has Queues retry them.
fn finish(messages: &[(worker::RawMessage, Vec<Event>)], result: Result<(), AppError>) {
    match result {
        Ok(()) => messages.iter().for_each(|(m, _)| m.ack()),
        Err(error) => {
            if let AppError::Internal(detail) = &error {
                worker::console_error!("queue messages failed, retrying: {detail}");
            }
            let retry = QueueRetryOptionsBuilder::new()
                .with_delay_seconds(1)
                .build();
            messages
                .iter()
                .for_each(|(m, _)| m.retry_with_options(&retry));
        }
    }
}

/// Stores one queue message's events as the queue handler does, for the test suite's concurrent
/// consumers (`POST /api/admin/test/consume`, only with `TEST_ROUTES=1`): many of these at once are
/// many consumers writing overlapping visitors and days. Returns the number of events read.
pub async fn store_message(env: &Env, text: &str) -> Result<usize, AppError> {
    let events = Queued::decode(text).ok_or_else(|| {
        AppError::Wire(WireError::MalformedJson(
            "not a queue message this consumer reads".into(),
        ))
    })?;
    store(env, &events).await?;
    Ok(events.len())
}

async fn store(env: &Env, events: &[Event]) -> Result<(), AppError> {
    if events.iter().any(|e| Faults::applies_to(&e.site_id))
        && edge::inject_fault(env, edge::FaultPoint::Consumer)
    {
        return Err(AppError::Injected);
    }
    let store = Store::new(env)?;
    let mut tries = 0;
    loop {
        tries += 1;
        match write_once(&store, events.to_vec()).await {
            Ok(()) => return Ok(()),
            // Most likely a concurrent consumer wrote the same visitors or days first: read again.
            Err(_) if tries < CONFLICT_TRIES => {
                worker::console_log!("consumer: a concurrent write came first, reading again");
                continue;
            }
            Err(e) => return Err(e),
        }
    }
}

/// Tries to write a batch within one read-compute-write cycle.
const CONFLICT_TRIES: u32 = 3;

/// Reads what storage knows, runs the pure stages (de-duplicate, sessionise, aggregate), and
/// writes everything in one guarded transaction.
async fn write_once(store: &Store, events: Vec<Event>) -> Result<(), AppError> {
    let Known {
        events: stored_ids,
        orders,
        visits,
        zones,
    } = store.known(&events).await?;
    let fresh = dedupe::fresh(events, &stored_ids, &orders);
    if fresh.is_empty() {
        return Ok(());
    }
    let sessions = sessionise::sessionise(visits, &fresh);
    let zone_of = |site: &str| zones.get(site).copied().unwrap_or(Zone::named("UTC"));
    let deltas = aggregate::deltas(&sessions, &fresh, &zone_of);
    let stored_days = store.rollup_days(deltas.0.keys()).await?;
    let days = aggregate::roll(stored_days, deltas);
    let written = store.commit(&fresh, &sessions, &days).await?;
    // One line per batch: D1 bills rows written, and `npm run bench:collector` reads this.
    worker::console_log!(
        "ingest: {} events stored, {} D1 rows written",
        fresh.len(),
        written
    );
    Ok(())
}

async fn count_dead(env: &Env, messages: usize, events: usize) -> Result<(), AppError> {
    worker::console_error!("{messages} queue messages ({events} events) dead-lettered");
    Store::new(env)?
        .count_dead_letters(edge::now(), messages, events)
        .await
}
