//! The queue consumer: a batch of messages (each the events of one beacon) in, one D1 transaction
//! out. Events are de-duplicated by their key in storage, so a redelivered or resent batch counts
//! once; a failed write retries the whole batch, and Queues moves a batch that keeps failing to the
//! dead-letter queue, whose consumer counts it. Must not: log event contents.

use sightline_core::faults::Faults;
use sightline_core::ingest::{Event, Queued};
use worker::{Env, MessageBatch, MessageExt, QueueRetryOptionsBuilder};

use crate::edge;
use crate::error::AppError;
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
    store.insert_events(events).await?;
    Ok(())
}

async fn count_dead(env: &Env, messages: usize, events: usize) -> Result<(), AppError> {
    worker::console_error!("{messages} queue messages ({events} events) dead-lettered");
    Store::new(env)?
        .count_dead_letters(edge::now(), messages, events)
        .await
}
