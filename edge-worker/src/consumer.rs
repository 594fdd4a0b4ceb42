//! The queue consumer: a batch of messages (each the events of one beacon) in, one D1 transaction
//! out. It reads what storage knows (event and order ids, the visitors' visits, time zones, the
//! touched rollup days), runs core's de-duplicate → sessionise → aggregate stages, and writes the new
//! events, visits and rollups in one guarded transaction: a redelivered or resent batch counts once,
//! and a concurrent consumer's write in between makes the transaction fail and the cycle run again.
//! A batch that keeps failing is retried by Queues and finally dead-lettered, and counted.
//! Must not: log event contents.

use sightline_core::faults::Faults;
use sightline_core::ingest::{aggregate, dedupe, sessionise, Event, Queued};
use sightline_core::zone::Zone;
use worker::{Env, MessageBatch, MessageExt, QueueRetryOptionsBuilder};

use crate::edge;
use crate::error::AppError;
use crate::store::ingest::Known;
use crate::store::Store;

/// The dead-letter queue's name (wrangler.toml).
const DEAD_LETTER_QUEUE: &str = "sightline-events-dlq";

/// Handles one batch of either queue.
pub async fn consume(batch: MessageBatch<String>, env: &Env) {
    let dead = batch.queue() == DEAD_LETTER_QUEUE;
    let mut events: Vec<Event> = Vec::new();
    let mut unreadable = 0;
    for message in batch.raw_iter() {
        match message
            .body()
            .as_string()
            .as_deref()
            .and_then(Queued::decode)
        {
            Some(queued) => events.extend(queued.events),
            None => {
                // A message this consumer cannot read will never be readable: count it, drop it.
                unreadable += 1;
                message.ack();
            }
        }
    }
    let result = match dead {
        true => count_dead(env, batch.raw_iter().count(), events.len()).await,
        false => store(env, &events, unreadable).await,
    };
    match result {
        Ok(()) => batch.ack_all(),
        Err(error) => {
            if let AppError::Internal(detail) = &error {
                worker::console_error!("queue batch failed, retrying: {detail}");
            }
            batch.retry_all_with_options(
                &QueueRetryOptionsBuilder::new()
                    .with_delay_seconds(1)
                    .build(),
            );
        }
    }
}

async fn store(env: &Env, events: &[Event], unreadable: usize) -> Result<(), AppError> {
    if events.iter().any(|e| Faults::applies_to(&e.site_id))
        && edge::inject_fault(env, edge::FaultPoint::Consumer)
    {
        return Err(AppError::Injected);
    }
    let store = Store::new(env)?;
    if unreadable > 0 {
        store.count_dead_letters(edge::now(), unreadable, 0).await?;
    }
    let mut tries = 0;
    loop {
        tries += 1;
        match write_once(&store, events.to_vec()).await {
            Ok(()) => return Ok(()),
            // Most likely a concurrent consumer wrote the same visitors or days first: read again.
            Err(_) if tries < CONFLICT_TRIES => continue,
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
