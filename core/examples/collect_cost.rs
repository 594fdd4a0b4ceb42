//! Measures the collector's pure code natively. The request path, per beacon: parse the body, run
//! every ingest stage, encode the queue message — for the same 1- and 50-event bodies
//! `bench/collector.mjs` sends. The consumer's pure stages, per event: decode the messages of a
//! 1000-event part, de-duplicate, sessionise, aggregate, roll. The worker adds the platform (request,
//! D1, rate limits, queue) on top; this is the part our code owns, and what
//! `valgrind --tool=callgrind` profiles repeatably.
//! Run: `cargo run --release -p sightline-core --features server --example collect_cost`.

use std::hint::black_box;
use std::time::Instant;

use std::collections::{BTreeMap, BTreeSet};

use sightline_core::ingest::{self, aggregate, dedupe, sessionise, Context, Queued, Site};
use sightline_core::wire::{parse_beacon, MAX_IMPORT_AGE_MS};
use sightline_core::zone::Zone;

const UA: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36";
const NOW: i64 = 1_764_000_000_000;

/// The benchmark's body: a pageview from Google, then `n - 1` cart events with props.
fn body(serial: u32, n: usize) -> String {
    let events: Vec<String> = (0..n)
        .map(|i| {
            let extra = if i == 0 {
                r#""referrer":"https://www.google.com/""#.to_owned()
            } else {
                format!(r#""props":{{"sku":"s{i}","qty":1}}"#)
            };
            format!(
                r#"{{"id":"b{serial}x{i}","ts":{},"name":"{}","url":"https://bench.example/p/{}?utm_source=bench",{extra}}}"#,
                NOW + i as i64,
                if i == 0 { "pageview" } else { "cart_add" },
                i % 7
            )
        })
        .collect();
    format!(
        r#"{{"v":1,"site":"bench","visitor_id":"bv{serial}","session_id":"bs{serial}","events":[{}]}}"#,
        events.join(",")
    )
}

fn main() {
    let site = Site {
        id: "bench".into(),
        domains: vec!["bench.example".into()],
        active: true,
        write_token_hash: None,
        forwards_user_id: false,
        ga4_server_only: false,
    };
    let ctx = Context {
        received_at: NOW,
        client_ip: Some("203.0.113.77"),
        user_agent: UA,
        country: Some("DE"),
        salt: b"0123456789abcdef0123456789abcdef",
        max_client_age_ms: MAX_IMPORT_AGE_MS,
        server: false,
    };
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(2000);
    for n in [1, 50] {
        let bodies: Vec<String> = (0..64).map(|s| body(s, n)).collect();
        let mut bytes = 0;
        let start = Instant::now();
        for i in 0..runs {
            let beacon = parse_beacon(black_box(bodies[i % bodies.len()].as_bytes())).unwrap();
            let outcome = ingest::run(&beacon, &site, &ctx);
            assert_eq!(outcome.queued.len(), n);
            let message = outcome.queued.encode();
            bytes = message.len();
            black_box(message);
        }
        let each = start.elapsed().as_secs_f64() * 1e6 / runs as f64;
        println!(
            "{n:>2}-event beacon: {each:>8.1} µs per beacon, {:>6.2} µs per event, queue message {bytes} bytes",
            each / n as f64
        );
    }
    // The consumer: one part of 20 messages of 50 events (20 visitors), nothing stored before.
    let messages: Vec<String> = (0..20)
        .map(|s| {
            let beacon = body(1000 + s, 50);
            let beacon = parse_beacon(beacon.as_bytes()).unwrap();
            ingest::run(&beacon, &site, &ctx).queued.encode()
        })
        .collect();
    let parts = runs / 20;
    let start = Instant::now();
    for _ in 0..parts {
        let events: Vec<_> = messages
            .iter()
            .flat_map(|m| Queued::decode(black_box(m)).unwrap())
            .collect();
        let fresh = dedupe::fresh(events, &BTreeSet::new(), &BTreeSet::new());
        let sessions = sessionise::sessionise(Vec::new(), &fresh);
        let deltas = aggregate::deltas(&sessions, &fresh, &|_| Zone::named("UTC"));
        black_box(aggregate::roll(BTreeMap::new(), deltas));
    }
    let each = start.elapsed().as_secs_f64() * 1e6 / parts as f64;
    println!(
        "consumer, 1000-event part: {each:>8.1} µs per part, {:>6.2} µs per event",
        each / 1000.0
    );
}
