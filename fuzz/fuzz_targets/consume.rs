//! Fuzz target `consume`: arbitrary bytes as a beacon body (after one control byte), through the
//! whole consumer path — ingest → queue message (its text) → de-duplicate → sessionise → aggregate
//! → serialise → read back → merge — against storage modelled in memory
//! (`consume::InMemory`). Checks: nothing panics; every visit and day written reads back, every
//! figure in it is finite and no day passes `MAX_DAY_BYTES`; every stored pageview is counted once;
//! a redelivery of the same events changes nothing; and the days are the same however the events
//! were batched, unless arrival order decides by design: a dimension overflowed into `(other)`, or
//! one order id was reported twice (the first report to arrive is the one counted).
//! Must not: read the clock, the network or files.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sightline_core::ingest::aggregate::{Day, MAX_DAY_BYTES, OTHER};
use sightline_core::ingest::consume::InMemory;
use sightline_core::ingest::dedupe;
use sightline_core::ingest::sessionise::Visit;
use sightline_core::ingest::{self, Event};
use sightline_core::wire;

#[path = "request.rs"]
mod request;

fuzz_target!(|input: &[u8]| {
    let Some((&control, body)) = input.split_first() else {
        return;
    };
    let Ok(beacon) = wire::parse_beacon(body) else {
        return;
    };
    let outcome = ingest::run(&beacon, &request::site(&beacon.site), &request::browser());
    let Some(events) = ingest::Queued::decode(&outcome.queued.encode()) else {
        panic!("the consumer cannot read the collector's message");
    };
    // Whole, then in batches of `control % 7 + 1` events, newest first.
    let whole = store(vec![events.clone()]);
    let size = usize::from(control % 7) + 1;
    let mut reversed = events.clone();
    reversed.reverse();
    let batches: Vec<Vec<Event>> = reversed.chunks(size).map(<[Event]>::to_vec).collect();
    let mut split = store(batches);
    let stored_pageviews = events.iter().filter(|e| e.is_pageview()).count() as i64;
    let counted: i64 = days(&whole).iter().map(|d| d.pageviews).sum();
    assert_eq!(counted, stored_pageviews, "every pageview counted once");
    let before = split.days.clone();
    let again = split.consume(events.clone());
    assert!(again.events.is_empty(), "a redelivery is all duplicates");
    assert_eq!(split.days, before, "a redelivery changes nothing");
    let overflowed = |m: &InMemory| {
        days(m)
            .iter()
            .any(|d| d.dims.values().any(|v| v.contains_key(OTHER)))
    };
    let mut orders = std::collections::BTreeSet::new();
    let order_twice = events
        .iter()
        .filter_map(dedupe::order_key)
        .any(|key| !orders.insert(key));
    if !order_twice && !overflowed(&whole) && !overflowed(&split) {
        let clean =
            |m: &InMemory| -> Vec<Day> { days(m).into_iter().map(Day::without_zeros).collect() };
        assert_eq!(clean(&whole), clean(&split), "same however batched");
    }
});

/// Stores the batches in a fresh model of storage, checking every write.
fn store(batches: Vec<Vec<Event>>) -> InMemory {
    let mut memory = InMemory::default();
    for batch in batches {
        let write = memory.consume(batch);
        for (_, _, _, _, text) in &write.visits {
            let visit: Visit = serde_json::from_str(text).expect("a written visit reads back");
            assert!(visit.last_at >= visit.started_at);
        }
        for ((site, day), _, parts) in &write.days {
            let bytes: usize = parts.iter().map(|(_, text)| text.len()).sum();
            assert!(bytes <= MAX_DAY_BYTES, "a day of {bytes} bytes");
            let owned = parts.iter().map(|(p, t)| ((*p).to_owned(), t.clone())).collect();
            let (_, unreadable) = sightline_core::ingest::parts::join(owned);
            assert!(unreadable.is_empty(), "a written part reads back: {unreadable:?}");
            check_finite(&memory.day(site, *day).expect("a written day reads back"));
        }
        assert!(
            write.set_aside.is_empty(),
            "this code's rows always read back"
        );
    }
    memory
}

fn days(memory: &InMemory) -> Vec<Day> {
    let keys: std::collections::BTreeSet<(&String, i64)> =
        memory.days.keys().map(|(site, day, _)| (site, *day)).collect();
    keys.into_iter()
        .map(|(site, day)| memory.day(site, day).expect("a stored day reads back"))
        .collect()
}

/// Every amount is finite, and no count a batch adds is negative once applied.
fn check_finite(day: &Day) {
    assert!(day.pageviews >= 0 && day.visits >= 0 && day.visitors >= 0 && day.duration_ms >= 0);
    for values in day.dims.values() {
        for tally in values.values() {
            assert!(tally.amount.is_finite(), "{tally:?}");
            assert!(tally.count >= 0, "{tally:?}");
        }
    }
}
