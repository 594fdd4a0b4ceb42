//! Measures what answering from day blocks costs natively, step by step: decoding the parts a
//! query reads, and answering it (the bench's filtered page breakdown and 4-step funnel over the
//! blocks given). The blocks are the inflated parts of a busy site's days, one file each, named
//! `<day>.<part>` (taken from a bench's local D1: `day_blocks`, base64-decoded and inflated).
//! Run: `cargo run --release -p sightline-core --features server --example scan_cost -- DIR
//! [OUT_DIR]` (with OUT_DIR: the blocks encoded again there, nothing timed).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use sightline_core::engine::{self, block::Block, Blocks, Input};
use sightline_core::query::{self, Context};
use sightline_core::saved::funnel::Funnel;
use sightline_core::zone::Zone;

const DAY_MS: i64 = 86_400_000;

fn main() {
    let dir = std::env::args()
        .nth(1)
        .expect("a directory of <day>.<part> files");
    let mut files: BTreeMap<i64, Vec<(String, Vec<u8>)>> = BTreeMap::new();
    for entry in std::fs::read_dir(&dir).expect("the directory") {
        let path = entry.expect("an entry").path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let Some((day, part)) = name.split_once('.') else {
            continue;
        };
        let Ok(day) = day.parse::<i64>() else {
            continue;
        };
        files
            .entry(day)
            .or_default()
            .push((part.to_owned(), std::fs::read(&path).unwrap()));
    }
    // With a second directory: the blocks written again there (as this build encodes them).
    if let Some(out) = std::env::args().nth(2) {
        std::fs::create_dir_all(&out).expect("the output directory");
        for (day, parts) in &files {
            let all: Vec<(&str, &[u8])> = parts.iter().map(|(p, b)| (p.as_str(), &b[..])).collect();
            for (part, bytes) in Block::decode(&all).expect("a block").encode() {
                std::fs::write(format!("{out}/{day}.{part}"), bytes).expect("a part written");
            }
        }
        return;
    }
    let (first, last) = (*files.keys().next().unwrap(), *files.keys().last().unwrap());
    let zone = Zone::named("UTC");
    let cx = Context {
        zone,
        now: (last + 1) * DAY_MS + 3_600_000,
        stats_start: Some(first * DAY_MS),
    };
    let range = |d: i64| chrono_date(d);
    let filtered = serde_json::json!({
        "site_id": "busy", "date_range": [range(first), range(last)],
        "metrics": ["visitors", "pageviews"], "dimensions": ["event:page"],
        "filters": [["is", "visit:device", ["Mobile"]], ["contains", "event:page", ["/"]]]
    });
    let steps = r#"{"steps": [{"page": "/products/**"}, {"event": "cart_add"}, {"page": "/checkout"}, {"event": "purchase"}], "within": "visit"}"#;
    let funnel = Funnel::stored(1, "Shop", steps).expect("the funnel");
    let funnel_body = serde_json::json!({
        "site_id": "busy", "date_range": [range(first), range(last)], "metrics": ["visitors"], "funnel": 1
    });
    for (label, body, with_funnel) in [
        ("filtered breakdown", &filtered, false),
        ("4-step funnel", &funnel_body, true),
    ] {
        let q = query::parse(&serde_json::to_vec(body).unwrap())
            .unwrap()
            .resolve(&cx)
            .unwrap();
        let parts = engine::scan::parts(&q, with_funnel);
        for _ in 0..3 {
            let t = Instant::now();
            let blocks: Vec<Block> = files
                .values()
                .map(|f| {
                    let wanted: Vec<(&str, &[u8])> = f
                        .iter()
                        .filter(|(p, _)| parts.contains(&p.as_str()))
                        .map(|(p, b)| (p.as_str(), &b[..]))
                        .collect();
                    Block::decode(&wanted).expect("a block")
                })
                .collect();
            let decoded = t.elapsed();
            let t = Instant::now();
            let answer = engine::answer(Input {
                query: &q,
                body,
                zone,
                hits: Vec::new(),
                funnel: with_funnel.then_some((1, &funnel)),
                kept_from: i64::MIN,
                lost: BTreeMap::new(),
                days: None,
                blocks: Some(Blocks {
                    blocks,
                    raw_days: BTreeSet::new(),
                }),
            })
            .unwrap();
            let answered = t.elapsed();
            let rows = answer["results"].as_array().map_or(0, Vec::len);
            println!(
                "{label}: {} days, parts {parts:?}: decode {:.1} ms, answer {:.1} ms ({rows} rows)",
                files.len(),
                decoded.as_secs_f64() * 1e3,
                answered.as_secs_f64() * 1e3
            );
        }
    }
}

fn chrono_date(day: i64) -> String {
    let d = chrono::DateTime::from_timestamp(day * 86_400, 0).unwrap();
    d.date_naive().to_string()
}
