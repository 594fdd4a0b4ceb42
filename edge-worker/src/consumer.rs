//! The queue consumer: a batch of messages (each the events of one beacon) in, one D1 transaction
//! out. It only reads, calls and writes: it reads what storage knows (event and order ids, the
//! visitors' visits, time zones), calls core's `consume::plan`, reads the touched rollup days,
//! calls `consume::write`, and writes the result in one guarded transaction: a redelivered or resent
//! batch counts once, and a concurrent consumer's write in between makes the transaction fail and
//! the cycle run again. A batch that keeps failing is retried by Queues with exponential backoff and
//! jitter, then dead-lettered: the dead-letter queue's batches are kept whole in D1 and counted, for
//! an admin to re-ingest (`POST /api/admin/dead-letters/replay`). The new events a site forwards
//! to GA4 or Umami go into the outbox in the same transaction; once it is written, the
//! forwarder's queue is nudged ([`forwarder`]). Must not: log event contents.

use sightline_core::faults::Faults;
use sightline_core::forward;
use sightline_core::ingest::{consume, Event, Queued};
use sightline_core::ops::{self, Drops, Pending};
use worker::{Env, MessageBatch, MessageExt};

use crate::edge;
use crate::error::AppError;
use crate::forwarder;
use crate::pending::{self, pend};
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
    let mut drops: Vec<Drops> = Vec::new();
    let mut unreadable = 0;
    for message in batch.raw_iter() {
        match message.body().as_string().as_deref().and_then(Queued::read) {
            Some((events, dropped)) => {
                readable.push((message, events));
                drops.push(dropped);
            }
            None => {
                // A message this consumer cannot read will never be readable: count it, drop it.
                unreadable += 1;
                message.ack();
            }
        }
    }
    if dead {
        let settle = keep_dead(env, &readable, unreadable).await;
        finish(env, &readable, settle).await;
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
        let mut dropped = Drops::new();
        for (key, n) in drops[start..end].iter().flatten() {
            *dropped.entry(key.clone()).or_default() += n;
        }
        let oldest = chunk
            .iter()
            .map(|(m, _)| m.timestamp().as_millis() as i64)
            .min();
        finish(env, chunk, store(env, &events, &dropped, oldest).await).await;
        start = end;
    }
}

/// Acks the messages of a written part, or has Queues retry each after a delay about as long as it
/// has waited so far (`edge::retry_options`: exponential, jittered, at most `RETRY_MAX_DELAY_S`).
async fn finish(
    env: &Env,
    messages: &[(worker::RawMessage, Vec<Event>)],
    result: Result<(), AppError>,
) {
    match result {
        Ok(()) => messages.iter().for_each(|(m, _)| m.ack()),
        Err(error) => {
            if let AppError::Internal(detail) = &error {
                worker::console_error!("queue messages failed, retrying: {detail}");
            }
            pend(Pending {
                retries: messages.len() as u64,
                ..Pending::default()
            });
            // Counted now if D1 takes it (the failure may have been a concurrent consumer's, or
            // this batch's alone), else with the isolate's next written transaction.
            let pending = pending::take();
            let samples = ops::pending_samples(pending);
            let written = match Store::new(env) {
                Ok(store) => store.add_counters(&samples).await,
                Err(e) => Err(e),
            };
            if written.is_err() {
                pend(pending);
            }
            for (message, _) in messages {
                let enqueued = message.timestamp().as_millis() as i64;
                message.retry_with_options(&edge::retry_options(env, enqueued));
            }
        }
    }
}

/// Stores one queue message's events as the queue handler does, for the test suite's concurrent
/// consumers (`POST /api/admin/test/consume`, only with `TEST_ROUTES=1`): many of these at once are
/// many consumers writing overlapping visitors and days. Returns the number of events read.
#[cfg(feature = "test-hooks")]
pub async fn store_message(env: &Env, text: &str) -> Result<usize, AppError> {
    let events = Queued::decode(text).ok_or_else(|| {
        AppError::Wire(sightline_core::wire::WireError::MalformedJson(
            "not a queue message this consumer reads".into(),
        ))
    })?;
    store(env, &events, &Drops::new(), None).await?;
    Ok(events.len())
}

/// Stores a part of a batch: its events, the collector's drops its messages carried, and when its
/// oldest message was enqueued (ms).
async fn store(
    env: &Env,
    events: &[Event],
    drops: &Drops,
    oldest: Option<i64>,
) -> Result<(), AppError> {
    let now = edge::now();
    if events.iter().any(|e| edge::in_outage(env, &e.site_id, now))
        || (events.iter().any(|e| Faults::applies_to(&e.site_id))
            && edge::inject_fault(env, edge::FaultPoint::Consumer))
    {
        return Err(AppError::Injected);
    }
    let store = Store::new(env)?;
    let mut tries = 0;
    loop {
        tries += 1;
        match write_once(&store, events.to_vec(), drops, oldest).await {
            Ok(outbox) => {
                forwarder::nudge(env, &outbox).await;
                return Ok(());
            }
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

/// Reads what storage knows, has core plan the batch, reads the days it touches, has core make the
/// write, and writes it in one guarded transaction.
/// The batch's counters (core's `ops`: events stored and dropped, the collector's drops its
/// messages carried, this isolate's pending counts) go into the same transaction, or on their own
/// when the batch writes nothing else.
async fn write_once(
    store: &Store,
    events: Vec<Event>,
    drops: &Drops,
    oldest: Option<i64>,
) -> Result<Vec<forward::Row>, AppError> {
    let started = edge::now();
    let read = ops::per_site(&events);
    let pending = pending::take();
    let plan = if events.is_empty() {
        None
    } else {
        let known = store.known(&events).await.inspect_err(|_| pend(pending))?;
        Some(consume::plan(events, known))
    };
    let Some(plan) = plan.filter(|p| !p.fresh.is_empty() || !p.unreadable_visits.is_empty()) else {
        let counters = ops::increments(&read, &[], drops, pending, oldest, edge::now());
        let written = store
            .add_counters(&counters)
            .await
            .inspect_err(|_| pend(pending))?;
        pend(Pending {
            rows_written: written as u64,
            ..Pending::timed(edge::now() - started)
        });
        return Ok(Vec::new());
    };
    let days = store
        .rollup_days(plan.deltas.0.keys())
        .await
        .inspect_err(|_| pend(pending))?;
    let write = consume::write(plan, days);
    let counters = ops::increments(&read, &write.events, drops, pending, oldest, edge::now());
    let written = store
        .commit(&write, &counters, edge::now())
        .await
        .inspect_err(|_| pend(pending))?;
    pend(Pending {
        rows_written: written as u64,
        ..Pending::timed(edge::now() - started)
    });
    // One line per batch: D1 bills rows written, and `npm run bench:collector` reads this.
    worker::console_log!(
        "ingest: {} events stored, {} D1 rows written",
        write.events.len(),
        written
    );
    Ok(write.outbox)
}

/// Keeps a dead-letter batch's messages whole, and counts them (an unreadable one is only counted:
/// it can never be re-ingested).
async fn keep_dead(
    env: &Env,
    readable: &[(worker::RawMessage, Vec<Event>)],
    unreadable: usize,
) -> Result<(), AppError> {
    let events: usize = readable.iter().map(|(_, e)| e.len()).sum();
    worker::console_error!(
        "{} queue messages ({events} events) dead-lettered and kept",
        readable.len() + unreadable
    );
    let store = Store::new(env)?;
    let kept: Vec<(String, usize)> = readable
        .iter()
        .filter_map(|(m, e)| m.body().as_string().map(|body| (body, e.len())))
        .collect();
    store.keep_dead_letters(edge::now(), &kept).await?;
    if unreadable > 0 {
        store.count_dead_letters(edge::now(), unreadable, 0).await?;
    }
    Ok(())
}
