//! Blocks answer what they answer as raw events do: the same generated traffic (many visitors,
//! visits over midnight, staff, every arrival field, goals) is answered from raw events alone,
//! and from blocks of some days (encoded and read back) with raw events for the others, for a
//! matrix of metrics × dimensions × filters × comparisons × funnels, in two time zones.

use std::collections::BTreeSet;

use serde_json::{json, Value};

use super::*;
use crate::query::{self, Context};
use crate::saved::funnel::Funnel;

const DAY: i64 = 86_400_000;
/// 2026-03-02 00:00 UTC (a Monday).
const T0: i64 = 1_772_409_600_000;
const MIN: i64 = 60_000;

/// A small deterministic generator (no dependency for a test's dice).
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
    fn pick<'a>(&mut self, of: &[&'a str]) -> &'a str {
        of[(self.next() % of.len() as u64) as usize]
    }
    fn maybe(&mut self, of: &[&str]) -> Option<String> {
        let v = self.pick(of);
        (!v.is_empty()).then(|| v.to_owned())
    }
}

/// Six days of traffic: visitors with a few sessions each, some crossing midnight, some staff.
fn traffic(seed: u64) -> Vec<Hit> {
    let mut d = Dice(seed);
    let mut hits = Vec::new();
    for day in 0..6 {
        for v in 0..30 {
            let visitor = format!("v{day}-{v}");
            let sessions = 1 + d.next() % 2;
            for s in 0..sessions {
                // Some start late in the evening (UTC and Berlin), so they run past midnight.
                let mut ts = T0
                    + day * DAY
                    + if d.next().is_multiple_of(5) {
                        (22 * 60 + 40 + (d.next() % 75) as i64) * MIN
                    } else {
                        (d.next() % (22 * 60)) as i64 * MIN
                    };
                let staff = d.next().is_multiple_of(9);
                let arrival = Hit {
                    source: d.maybe(&["", "Google", "Bing", "Newsletter"]),
                    channel: d.maybe(&["", "Organic Search", "Email"]),
                    referrer: d.maybe(&["", "google.com", "bing.com"]),
                    utm_source: d.maybe(&["", "", "news"]),
                    utm_medium: d.maybe(&["", "email"]),
                    utm_campaign: d.maybe(&["", "", "spring", "Spring"]),
                    utm_content: d.maybe(&["", "a"]),
                    utm_term: d.maybe(&["", "shoes"]),
                    country: d.maybe(&["", "US", "DE"]),
                    device: d.maybe(&["", "desktop", "mobile", "mobile", "tablet"]),
                    browser: d.maybe(&["Chrome", "Firefox", ""]),
                    os: d.maybe(&["Linux", "Android", ""]),
                    ..Hit::default()
                };
                for e in 0..1 + d.next() % 7 {
                    let name = d.pick(&[
                        "pageview",
                        "pageview",
                        "pageview",
                        "cart_add",
                        "purchase",
                        "engagement",
                        "web_vital",
                        "signup_completed",
                    ]);
                    let mut h = Hit {
                        ts,
                        name: name.into(),
                        hostname: d
                            .pick(&["shop.example", "shop.example", "blog.example"])
                            .into(),
                        path: d
                            .pick(&["/", "/products/a", "/products/b", "/checkout", "/Blog/x"])
                            .into(),
                        visitor: visitor.clone(),
                        session: format!("s{s}"),
                        ..if e == 0 {
                            arrival.clone()
                        } else {
                            Hit::default()
                        }
                    };
                    if e > 0 && d.next().is_multiple_of(3) {
                        // A later event with its own fields: the visit keeps its arrival's.
                        h.device = Some("desktop".into());
                        h.source = Some("Other".into());
                    }
                    if staff {
                        h.props = serde_json::from_value(json!({"is_internal": true})).unwrap();
                    }
                    hits.push(h);
                    // Now and then a gap over 30 minutes: another visit of the same session.
                    ts += if d.next().is_multiple_of(8) {
                        45 * MIN
                    } else {
                        (1 + d.next() % 12) as i64 * MIN
                    };
                }
            }
        }
    }
    hits
}

fn resolve(body: &Value, zone: Zone) -> query::Query {
    valid(body, zone).unwrap()
}

/// The query resolved, `None` when Plausible's rules refuse it (both paths refuse it alike).
fn valid(body: &Value, zone: Zone) -> Option<query::Query> {
    let cx = Context {
        zone,
        now: T0 + 8 * DAY,
        stats_start: Some(T0 - 10 * DAY),
    };
    query::parse(&serde_json::to_vec(body).unwrap())
        .ok()?
        .resolve(&cx)
        .ok()
}

fn answer_with(
    body: &Value,
    hits: &[Hit],
    zone: Zone,
    funnel: Option<(u64, &Funnel)>,
    blocks: Option<Blocks>,
) -> Value {
    let q = resolve(body, zone);
    answer(Input {
        query: &q,
        body,
        zone,
        hits: hits.to_vec(),
        funnel,
        kept_from: T0 - 30 * DAY,
        lost: BTreeMap::new(),
        days: None,
        blocks,
    })
    .unwrap()
}

/// Blocks of every local day with visits but `raw`, encoded (each read back whole equals itself).
struct Encoded {
    parts: Vec<Vec<(&'static str, Vec<u8>)>>,
    raw_days: BTreeSet<i64>,
}

impl Encoded {
    /// The blocks read from the parts the query reads only.
    fn read(&self, q: &query::Query, funnel: bool) -> Blocks {
        let wanted = scan::parts(q, funnel);
        Blocks {
            blocks: self
                .parts
                .iter()
                .map(|parts| {
                    let some: Vec<(&str, &[u8])> = parts
                        .iter()
                        .filter(|(n, _)| wanted.contains(n))
                        .map(|(n, p)| (*n, &p[..]))
                        .collect();
                    block::Block::decode(&some).unwrap()
                })
                .collect(),
            raw_days: self.raw_days.clone(),
        }
    }
}

fn blocks(hits: &[Hit], zone: Zone, raw: &[i64]) -> Encoded {
    let data = visits::build(hits.to_vec(), zone);
    let days: BTreeSet<i64> = data.visits.iter().map(|v| v.day).collect();
    let raw_days: BTreeSet<i64> = raw.iter().map(|d| T0 / DAY + d).collect();
    Encoded {
        parts: days
            .difference(&raw_days)
            .map(|day| {
                let whole = block::Block::of_day(&data, *day, zone);
                let parts = whole.encode();
                let all: Vec<(&str, &[u8])> = parts.iter().map(|(n, p)| (*n, &p[..])).collect();
                assert_eq!(block::Block::decode(&all).unwrap(), whole);
                // As the worker builds it: slices of visitor keys, in key order, appended.
                let mut sliced: Option<block::Block> = None;
                for (lo, hi) in [("", "v2"), ("v2", "v4"), ("v4", "~")] {
                    let part: Vec<Hit> = hits
                        .iter()
                        .filter(|h| h.visitor.as_str() >= lo && h.visitor.as_str() < hi)
                        .cloned()
                        .collect();
                    let b = block::Block::of_day(&visits::build(part, zone), *day, zone);
                    match sliced.as_mut() {
                        None => sliced = Some(b),
                        Some(s) => s.append(b),
                    }
                }
                let sliced = sliced.unwrap();
                assert_eq!(sliced.visits(), whole.visits());
                sliced.encode()
            })
            .collect(),
        raw_days,
    }
}

/// The query answered from raw events alone, and from the blocks (only the parts it reads) with
/// raw events: the same.
fn same_answers(q: &Value, hits: &[Hit], zone: Zone, b: &Encoded) {
    let from_raw = answer_with(q, hits, zone, None, None);
    let from_blocks = answer_with(q, hits, zone, None, Some(b.read(&resolve(q, zone), false)));
    assert_eq!(from_blocks["results"], from_raw["results"], "{q}");
    assert_eq!(from_blocks["meta"], from_raw["meta"], "{q}");
}

fn body(range: (&str, &str), extra: Value) -> Value {
    let mut b = json!({"site_id": "shop", "date_range": [range.0, range.1]});
    for (k, v) in extra.as_object().unwrap() {
        b[k] = v.clone();
    }
    b
}

#[test]
fn blocks_answer_as_raw_events_do() {
    let metrics = json!([
        "visitors",
        "visits",
        "pageviews",
        "views_per_visit",
        "bounce_rate",
        "visit_duration",
        "events"
    ]);
    let dimensions = [
        json!([]),
        json!(["event:page"]),
        json!(["event:name"]),
        json!(["event:goal"]),
        json!(["event:hostname"]),
        json!(["visit:source"]),
        json!(["visit:device", "event:page"]),
        json!(["visit:entry_page"]),
        json!(["visit:exit_page"]),
        json!(["visit:utm_campaign"]),
        json!(["visit:country", "visit:referrer"]),
        json!(["time:day"]),
        json!(["time:week", "visit:channel"]),
        json!(["time:month", "event:goal"]),
    ];
    let filters = [
        json!([]),
        json!([["is", "visit:device", ["Mobile"]]]),
        json!([
            ["is", "visit:device", ["Mobile"]],
            ["contains", "event:page", ["/"]]
        ]),
        json!([["contains", "event:page", ["/products"]]]),
        json!([
            ["is", "visit:source", ["Google"]],
            ["is_not", "event:name", ["pageview"]]
        ]),
        json!([["has_done", ["is", "event:goal", ["purchase"]]]]),
        json!([["has_not_done", ["is", "event:name", ["cart_add"]]]]),
        json!([["matches", "event:page", ["^/p"]]]),
        json!([["is", "event:goal", ["Visit /products/*"]]]),
        json!([["contains_not", "event:page", ["blog"], {"case_sensitive": false}]]),
        json!([["or", [["is", "visit:utm_campaign", ["spring"], {"case_sensitive": false}], ["is", "visit:entry_page", ["/checkout"]]]]]),
        json!([["not", ["is", "visit:browser", ["Chrome"]]]]),
        json!([
            ["contains", "visit:exit_page", ["/products"]],
            ["is", "event:hostname", ["shop.example"]]
        ]),
    ];
    let ranges = [("2026-03-02", "2026-03-07"), ("2026-03-04", "2026-03-05")];
    let mut compared = 0;
    for zone in [Zone::named("UTC"), Zone::named("Europe/Berlin")] {
        let hits = traffic(7);
        for raw in [&[][..], &[5, 6][..], &[2][..]] {
            let b = blocks(&hits, zone, raw);
            for range in ranges {
                for dims in &dimensions {
                    for f in &filters {
                        // All the metrics, else those Plausible allows with these.
                        let Some((q, rq)) = [
                            metrics.clone(),
                            json!(["visitors", "visits", "pageviews", "events"]),
                            json!(["visitors", "pageviews", "events"]),
                        ]
                        .into_iter()
                        .map(|m| {
                            body(
                                range,
                                json!({"metrics": m, "dimensions": dims, "filters": f}),
                            )
                        })
                        .find_map(|q| Some((q.clone(), valid(&q, zone)?))) else {
                            continue;
                        };
                        assert!(scan::eligible(&rq, None), "{q}");
                        same_answers(&q, &hits, zone, &b);
                        compared += 1;
                    }
                }
                // Shares, conversion rates and comparisons.
                for extra in [
                    json!({"metrics": ["visitors", "percentage"], "dimensions": ["visit:source"]}),
                    json!({"metrics": ["visitors", "events", "conversion_rate"], "dimensions": ["visit:device"], "filters": [["is", "event:goal", ["purchase"]]]}),
                    json!({"metrics": ["visitors", "group_conversion_rate"], "dimensions": ["event:goal"]}),
                    json!({"metrics": ["visitors", "pageviews"], "dimensions": ["event:page"], "include": {"comparisons": {"mode": "previous_period"}, "total_rows": true}}),
                    json!({"metrics": ["visitors"], "dimensions": ["time:day"], "include": {"time_labels": true}}),
                ] {
                    let q = body(range, extra);
                    same_answers(&q, &hits, zone, &b);
                }
                let funnel = Funnel::stored(
                    3,
                    "shop",
                    r#"{"steps":[{"page":"/products/*"},{"event":"cart_add"},{"page":"/checkout"},{"event":"purchase"}]}"#,
                )
                .unwrap();
                for f in [json!([]), json!([["is", "visit:device", ["Mobile"]]])] {
                    let q = body(
                        range,
                        json!({"metrics": ["visitors"], "funnel": 3, "filters": f,
                               "include": {"comparisons": {"mode": "previous_period"}}}),
                    );
                    assert!(scan::eligible(&resolve(&q, zone), Some(&funnel)));
                    let from_raw = answer_with(&q, &hits, zone, Some((3, &funnel)), None);
                    let from_blocks = answer_with(
                        &q,
                        &hits,
                        zone,
                        Some((3, &funnel)),
                        Some(b.read(&resolve(&q, zone), true)),
                    );
                    assert_eq!(from_blocks, from_raw, "{q}");
                    assert!(from_raw["results"][0]["metrics"][0].as_u64().unwrap() > 0);
                }
            }
        }
    }
    assert!(compared > 500, "{compared} queries compared");
}

#[test]
fn blocks_leave_to_raw_events_what_they_do_not_hold() {
    let zone = Zone::named("UTC");
    let funnel_hours = Funnel::stored(
        4,
        "h",
        r#"{"steps":[{"page":"/"},{"event":"purchase"}],"within":{"hours":2}}"#,
    )
    .unwrap();
    let range = ("2026-03-02", "2026-03-07");
    for (q, funnel) in [
        (
            json!({"metrics": ["visitors"], "dimensions": ["event:props:sku"]}),
            None,
        ),
        (
            json!({"metrics": ["visitors"], "filters": [["is", "event:props:sku", ["a"]]]}),
            None,
        ),
        (
            json!({"metrics": ["pageviews"], "dimensions": ["time:hour"]}),
            None,
        ),
        (
            json!({"metrics": ["visitors", "time_on_page"], "dimensions": ["event:page"]}),
            None,
        ),
        (
            json!({"metrics": ["total_revenue"], "filters": [["is", "event:goal", ["purchase"]]]}),
            None,
        ),
        (json!({"metrics": ["lcp_p75"]}), None),
        (
            json!({"metrics": ["visitors"], "include": {"internal": true}}),
            None,
        ),
        (
            json!({"metrics": ["visitors"], "dimensions": ["visit:entry_page_hostname"]}),
            None,
        ),
        (
            json!({"metrics": ["visitors"], "funnel": 4}),
            Some(&funnel_hours),
        ),
    ] {
        let b = body(range, q);
        assert!(!scan::eligible(&resolve(&b, zone), funnel), "{b}");
    }
    let hours = body(
        ("2026-03-02T10:00:00Z", "2026-03-03T10:00:00Z"),
        json!({"metrics": ["visitors"]}),
    );
    assert!(!scan::eligible(&resolve(&hours, zone), None));
}

#[test]
fn a_cut_or_foreign_block_is_unreadable() {
    let zone = Zone::named("UTC");
    let data = visits::build(traffic(3), zone);
    let parts = block::Block::of_day(&data, T0 / DAY + 1, zone).encode();
    let (_, visits) = &parts[0];
    let (_, device) = parts.iter().find(|(n, _)| *n == "device").unwrap();
    let read = |v: &[u8], d: &[u8]| block::Block::decode(&[("visits", v), ("device", d)]);
    assert!(read(visits, device).is_ok());
    for cut in [0, 3, 10, visits.len() / 2, visits.len() - 1] {
        assert_eq!(
            read(&visits[..cut], device),
            Err(block::Unreadable),
            "cut at {cut}"
        );
    }
    for cut in [0, 5, device.len() - 1] {
        assert_eq!(
            read(visits, &device[..cut]),
            Err(block::Unreadable),
            "cut at {cut}"
        );
    }
    assert_eq!(
        block::Block::decode(&[("device", device)]),
        Err(block::Unreadable),
        "no visits part"
    );
    let mut foreign = visits.clone();
    foreign[3] = b'9';
    assert_eq!(read(&foreign, device), Err(block::Unreadable));
    // A huge count claims more than the bytes hold: refused, nothing allocated for it.
    for magic in [b"SLB2", b"SLB3"] {
        let mut huge = magic.to_vec();
        huge.extend([0x02, 0xff, 0xff, 0xff, 0xff, 0x0f]);
        assert_eq!(
            block::Block::decode(&[("visits", &huge)]),
            Err(block::Unreadable)
        );
    }
}

#[test]
fn blocks_of_the_format_before_still_read() {
    let zone = Zone::named("Europe/Berlin");
    let data = visits::build(traffic(5), zone);
    let days: BTreeSet<i64> = data.visits.iter().map(|v| v.day).collect();
    let mut past_midnight = 0;
    for day in days {
        let whole = block::Block::of_day(&data, day, zone);
        past_midnight += whole.day_offset.iter().filter(|d| **d > 0).count();
        let (old, new) = (whole.encode_as(true), whole.encode());
        assert_ne!(old, new);
        for parts in [old, new] {
            let all: Vec<(&str, &[u8])> = parts.iter().map(|(n, p)| (*n, &p[..])).collect();
            assert_eq!(block::Block::decode(&all).unwrap(), whole);
        }
    }
    assert!(past_midnight > 0, "visits past midnight were read back");
}
