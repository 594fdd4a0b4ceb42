//! Measures what user-agent and source enrichment cost natively: the first call of each function (which
//! builds its tables, as the first request of an isolate does) and the mean of later calls.
//! Run: `cargo run --release -p sightline-core --features server --example enrich_cost`.

use std::hint::black_box;
use std::time::Instant;

use sightline_core::ingest::{agent, bots, source};

const UAS: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S921B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.7; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "curl/8.5.0",
];

const REFERRERS: &[Option<&str>] = &[
    Some("www.google.com"),
    Some("l.facebook.com"),
    Some("news.ycombinator.com"),
    Some("blog.example.org"),
    None,
];

/// Microseconds taken by `f` once, and the mean over `n` more calls.
fn time(n: u32, mut f: impl FnMut(u32)) -> (f64, f64) {
    let start = Instant::now();
    f(0);
    let first = start.elapsed().as_secs_f64() * 1e6;
    let start = Instant::now();
    for i in 1..=n {
        f(i);
    }
    (first, start.elapsed().as_secs_f64() * 1e6 / f64::from(n))
}

fn main() {
    let n = 20_000;
    let pick = |i: u32| UAS[i as usize % UAS.len()];
    let report = |what: &str, (first, each): (f64, f64)| {
        println!("{what:<10} first call {first:>8.1} µs   then {each:>6.2} µs per call");
    };
    report(
        "is_bot",
        time(n, |i| {
            black_box(bots::is_bot(black_box(pick(i))));
        }),
    );
    report(
        "agent",
        time(n, |i| {
            black_box(agent::agent(black_box(pick(i))));
        }),
    );
    report(
        "classify",
        time(n, |i| {
            let referrer = REFERRERS[i as usize % REFERRERS.len()];
            black_box(source::classify(
                black_box(referrer),
                None,
                None,
                None,
                None,
            ));
        }),
    );
    report(
        "utm",
        time(n, |_| {
            black_box(source::classify(
                None,
                black_box(Some("google")),
                Some("cpc"),
                None,
                None,
            ));
        }),
    );
    println!(
        "(classify, utm: an isolate remembers each classification it works out; the first call is \
         the cost of working one out, later calls of a remembered one)"
    );
}
