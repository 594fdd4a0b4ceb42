use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::*;
use crate::query::{self, Context};
use crate::saved::funnel::Funnel;

const DAY: i64 = 86_400_000;
/// 2026-03-02 00:00 UTC (a Monday).
const T0: i64 = 1_772_409_600_000;
const MIN: i64 = 60_000;

fn hit(visitor: &str, session: &str, ts: i64, name: &str, path: &str) -> Hit {
    Hit {
        ts,
        name: name.into(),
        hostname: "shop.example".into(),
        path: path.into(),
        visitor: visitor.into(),
        session: session.into(),
        device: Some("desktop".into()),
        ..Hit::default()
    }
}

fn from(mut h: Hit, source: &str) -> Hit {
    h.source = Some(source.into());
    h
}

fn with(mut h: Hit, props: Value) -> Hit {
    h.props = serde_json::from_value(props).unwrap();
    h
}

/// Two days of a small shop: visits from Google and direct, a purchase, staff traffic.
fn shop() -> Vec<Hit> {
    vec![
        // a: Google, 3 pages, buys (20 EUR) — one visit.
        from(hit("a", "s1", T0 + 10 * MIN, "pageview", "/"), "Google"),
        hit("a", "s1", T0 + 11 * MIN, "pageview", "/p/1"),
        hit("a", "s1", T0 + 12 * MIN, "pageview", "/checkout"),
        with(
            hit("a", "s1", T0 + 13 * MIN, "checkout_completed", "/checkout"),
            json!({"value": 20.0, "currency": "eur"}),
        ),
        with(
            hit("a", "s1", T0 + 14 * MIN, "engagement", "/checkout"),
            json!({"seconds": 30, "scroll": 80}),
        ),
        // b: direct, bounces on /p/1; back 2 hours later (a second visit), views /.
        hit("b", "s2", T0 + 20 * MIN, "pageview", "/p/1"),
        hit("b", "s2", T0 + 140 * MIN, "pageview", "/"),
        // c, next day: Google, /p/2 then /checkout.
        from(
            hit("c", "s3", T0 + DAY + 5 * MIN, "pageview", "/p/2"),
            "Google",
        ),
        hit("c", "s3", T0 + DAY + 6 * MIN, "pageview", "/checkout"),
        with(
            hit("c", "s3", T0 + DAY + 7 * MIN, "web_vital", "/checkout"),
            json!({"metric": "LCP", "value": 1800}),
        ),
        // staff: an admin page view and a test purchase, never counted by default.
        with(
            hit("z", "s9", T0 + 30 * MIN, "pageview", "/admin"),
            json!({"is_internal": true}),
        ),
        with(
            hit("z", "s9", T0 + 31 * MIN, "checkout_completed", "/checkout"),
            json!({"is_internal": true, "value": 999.0, "currency": "EUR"}),
        ),
    ]
}

fn run(body: Value, hits: Vec<Hit>, funnel: Option<(u64, &Funnel)>) -> Value {
    let cx = Context {
        zone: Zone::named("UTC"),
        now: T0 + 3 * DAY,
        stats_start: Some(T0 - 10 * DAY),
    };
    let bytes = serde_json::to_vec(&body).unwrap();
    let q = query::parse(&bytes).unwrap().resolve(&cx).unwrap();
    answer(Input {
        query: &q,
        body: &body,
        zone: cx.zone,
        hits,
        funnel,
        kept_from: T0 - 30 * DAY,
        lost: BTreeMap::from([(T0 / DAY, 4)]),
        days: None,
        blocks: None,
    })
    .unwrap()
}

fn q(metrics: Value, extra: Value) -> Value {
    let mut body = json!({"site_id": "shop", "metrics": metrics,
                          "date_range": ["2026-03-02", "2026-03-03"]});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    body
}

fn results(v: &Value) -> Vec<(Vec<String>, Vec<Value>)> {
    v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let dims = r["dimensions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d.as_str().unwrap().to_owned())
                .collect();
            (dims, r["metrics"].as_array().unwrap().clone())
        })
        .collect()
}

#[test]
fn totals_follow_plausible_definitions_and_leave_staff_out() {
    let out = run(
        q(
            json!([
                "visitors",
                "visits",
                "pageviews",
                "views_per_visit",
                "bounce_rate",
                "visit_duration",
                "events",
                "lost_in_browser",
                "lcp_p75"
            ]),
            json!({}),
        ),
        shop(),
        None,
    );
    // Visits: a (4 min), b×2 (bounces, 0 s each), c (2 min) → 4 visits, 3 visitors.
    // Pageviews 7; events: 7 pageviews + 1 purchase (measurements not counted).
    assert_eq!(
        results(&out)[0].1,
        vec![
            json!(3),
            json!(4),
            json!(7),
            json!(1.75),
            json!(50),
            json!(90),
            json!(8),
            json!(4),
            json!(1800)
        ]
    );
    assert_eq!(
        out["query"]["date_range"],
        json!(["2026-03-02T00:00:00+00:00", "2026-03-03T23:59:59+00:00"])
    );
    let staff = run(
        q(
            json!(["visitors", "pageviews"]),
            json!({"include": {"internal": true}}),
        ),
        shop(),
        None,
    );
    assert_eq!(results(&staff)[0].1, vec![json!(4), json!(8)]);
}

#[test]
fn breakdowns_filters_and_goals() {
    let pages = run(
        q(
            json!(["visitors", "pageviews", "time_on_page", "scroll_depth"]),
            json!({"dimensions": ["event:page"]}),
        ),
        shop(),
        None,
    );
    let rows = results(&pages);
    // Ties on visitors are ordered by the dimension.
    let order: Vec<&str> = rows.iter().map(|r| r.0[0].as_str()).collect();
    assert_eq!(order, vec!["/", "/checkout", "/p/1", "/p/2"]);
    assert_eq!(rows[1].1, vec![json!(2), json!(2), json!(15), json!(80)]);
    assert_eq!(
        rows[0].1[2],
        json!(0),
        "pages without engagement reports: 0 s over their visits"
    );
    // Pages seen by visitors from Google.
    let google = run(
        q(
            json!(["visitors", "pageviews"]),
            json!({"dimensions": ["event:page"], "filters": [["is", "visit:source", ["Google"]]]}),
        ),
        shop(),
        None,
    );
    let rows = results(&google);
    assert_eq!(rows.len(), 4, "{rows:?}");
    assert_eq!(
        rows[0],
        (vec!["/checkout".to_owned()], vec![json!(2), json!(2)])
    );
    let sources = run(
        q(
            json!(["visitors", "conversion_rate", "total_revenue"]),
            json!({"dimensions": ["visit:source"], "filters": [["is", "event:goal", ["checkout_completed"]]]}),
        ),
        shop(),
        None,
    );
    let rows = results(&sources);
    assert_eq!(
        rows,
        vec![(
            vec!["Google".to_owned()],
            vec![
                json!(1),
                json!(33.33),
                json!({"value": 20.0, "currency": "EUR", "long": "EUR 20.00", "short": "EUR 20.00"})
            ]
        )]
    );
    // Case-insensitive contains, `not`, regex, has_done.
    let f = |filters: Value| {
        let out = run(
            q(json!(["visitors"]), json!({"filters": filters})),
            shop(),
            None,
        );
        results(&out)[0].1[0].clone()
    };
    assert_eq!(
        f(json!([["contains", "event:page", ["CHECK"], {"case_sensitive": false}]])),
        json!(2)
    );
    assert_eq!(
        f(json!([["not", ["is", "visit:source", ["Google"]]]])),
        json!(1)
    );
    assert_eq!(
        f(json!([["matches", "event:page", ["^/p/[0-9]+$"]]])),
        json!(3)
    );
    assert_eq!(
        f(json!([[
            "has_done",
            ["is", "event:name", ["checkout_completed"]]
        ]])),
        json!(1)
    );
    assert_eq!(
        f(json!([[
            "has_not_done",
            ["is", "event:goal", ["Visit /checkout"]]
        ]])),
        json!(1)
    );
    assert_eq!(f(json!([["is", "visit:device", ["Desktop"]]])), json!(3));
    let bad = query::parse(br#"{"site_id":"shop","metrics":["visitors"],"date_range":"7d","filters":[["matches","event:page",["("]]]}"#).unwrap();
    let bad = bad
        .resolve(&Context {
            zone: Zone::named("UTC"),
            now: T0,
            stats_start: None,
        })
        .unwrap();
    assert!(filter::compile(bad.filters.as_ref().unwrap())
        .unwrap_err()
        .message()
        .contains("not a regular expression"));
}

#[test]
fn time_buckets_comparisons_and_labels() {
    let out = run(
        q(
            json!(["visitors", "pageviews"]),
            json!({"dimensions": ["time:day"], "include": {"time_labels": true, "comparisons": {"mode": "previous_period"}}}),
        ),
        shop(),
        None,
    );
    let rows = results(&out);
    assert_eq!(rows[0].0, vec!["2026-03-02"]);
    assert_eq!(rows[0].1, vec![json!(2), json!(5)]);
    assert_eq!(
        out["meta"]["time_labels"],
        json!(["2026-03-02", "2026-03-03"])
    );
    assert_eq!(
        out["results"][0]["comparison"]["dimensions"],
        json!(["2026-02-28"])
    );
    assert_eq!(out["results"][0]["comparison"]["change"], json!([100, 100]));
    let hours = run(
        q(
            json!(["pageviews"]),
            json!({"date_range": "day", "dimensions": ["time:hour"]}),
        ),
        vec![],
        None,
    );
    assert_eq!(results(&hours).len(), 0);
}

#[test]
fn funnels_count_visitors_in_order() {
    let f = Funnel::stored(
        7,
        "buy",
        r#"{"steps":[{"page":"/p/*"},{"page":"/checkout"},{"event":"checkout_completed"}],"within":"visit"}"#,
    )
    .unwrap();
    let out = run(
        q(json!(["visitors"]), json!({"funnel": 7})),
        shop(),
        Some((7, &f)),
    );
    let rows = results(&out);
    assert_eq!(
        rows.iter().map(|r| r.1[0].clone()).collect::<Vec<_>>(),
        vec![json!(3), json!(2), json!(1)]
    );
    assert_eq!(
        out["meta"]["funnel"]["steps"][2]["conversion_rate"],
        json!(33.33)
    );
    assert_eq!(rows[0].0, vec!["Visit /p/*"]);
}

/// The hits as the collector's events, through the consumer's own path into rollup days.
/// The rollups of `hits` as the worker reads them: each stored part apart, by day.
fn rolled(hits: &[Hit]) -> Vec<rollup::Piece> {
    use crate::ingest::consume::InMemory;
    use crate::ingest::enrich::Enrichment;
    use crate::ingest::Event;
    let events: Vec<Event> = hits
        .iter()
        .enumerate()
        .map(|(i, h)| Event {
            site_id: "shop".into(),
            event_id: format!("e{i}"),
            ts: h.ts,
            received_at: h.ts,
            name: h.name.clone(),
            hostname: h.hostname.clone(),
            path: h.path.clone(),
            enrichment: Enrichment {
                referrer_host: h.referrer.clone(),
                source: h.source.clone(),
                channel: h.channel.clone(),
                device: h.device.clone(),
                country: h.country.clone(),
                ..Enrichment::default()
            },
            visitor_key: h.visitor.clone(),
            session_key: h.session.clone(),
            props: h.props.clone(),
            order_id: None,
            lost: 0,
            server: false,
            user_id: None,
        })
        .collect();
    let mut store = InMemory::default();
    // Two batches, out of order: the rollups must not depend on how events arrive.
    let (a, b) = events.split_at(events.len() / 2);
    store.consume(b.to_vec());
    store.consume(a.to_vec());
    store
        .days
        .iter()
        .filter(|((site, _, _), _)| site == "shop")
        .map(|((_, day, part), (_, text))| {
            let read = crate::ingest::parts::read_part(part, text).unwrap();
            (*day, std::rc::Rc::new(read))
        })
        .collect()
}

#[test]
fn the_rollups_answer_what_they_hold_as_raw_events_do() {
    let mut hits = shop();
    // A conversion the page sent without a pageview of its page: the page counts its visitor.
    hits.push(hit(
        "b",
        "s2",
        T0 + 141 * MIN,
        "signup_completed",
        "/welcome",
    ));
    let days = rolled(&hits);
    let cx = Context {
        zone: Zone::named("UTC"),
        now: T0 + 3 * DAY,
        stats_start: Some(T0 - 10 * DAY),
    };
    let eligible = [
        q(
            json!([
                "visitors",
                "visits",
                "pageviews",
                "views_per_visit",
                "bounce_rate",
                "visit_duration",
                "events"
            ]),
            json!({}),
        ),
        q(
            json!(["visitors", "pageviews"]),
            json!({"include": {"internal": true}}),
        ),
        q(
            json!(["visitors", "pageviews", "percentage"]),
            json!({"dimensions": ["event:page"]}),
        ),
        q(
            json!(["visitors", "visits"]),
            json!({"dimensions": ["visit:source", "time:day"]}),
        ),
        q(
            json!(["visitors", "visits"]),
            json!({"dimensions": ["visit:device"], "include": {"comparisons": {"mode": "previous_period"}}}),
        ),
        q(
            json!(["visitors", "events", "conversion_rate"]),
            json!({"dimensions": ["event:goal"]}),
        ),
        q(
            json!(["visitors"]),
            json!({"dimensions": ["visit:entry_page"]}),
        ),
    ];
    for body in eligible {
        let bytes = serde_json::to_vec(&body).unwrap();
        let query = query::parse(&bytes).unwrap().resolve(&cx).unwrap();
        assert!(rollup::parts_for(&query).is_some(), "{body}");
        let from_rollups = answer(Input {
            query: &query,
            body: &body,
            zone: cx.zone,
            hits: vec![],
            funnel: None,
            kept_from: T0 - 30 * DAY,
            lost: BTreeMap::new(),
            days: Some(days.clone()),
            blocks: None,
        })
        .unwrap();
        let from_raw = run(body.clone(), hits.clone(), None);
        assert_eq!(from_rollups["results"], from_raw["results"], "{body}");
    }
    for body in [
        q(
            json!(["visitors"]),
            json!({"filters": [["is", "visit:source", ["Google"]]]}),
        ),
        q(
            json!(["visitors"]),
            json!({"dimensions": ["event:props:product"]}),
        ),
        q(
            json!(["pageviews"]),
            json!({"date_range": "day", "dimensions": ["time:hour"]}),
        ),
        q(
            json!(["visitors", "time_on_page"]),
            json!({"dimensions": ["event:page"]}),
        ),
        q(json!(["lcp_p75"]), json!({})),
    ] {
        let query = query::parse(&serde_json::to_vec(&body).unwrap())
            .unwrap()
            .resolve(&cx)
            .unwrap();
        assert_eq!(rollup::parts_for(&query), None, "raw events answer {body}");
    }
}

#[test]
fn a_read_over_a_while_knows_when_it_may_have_cut_a_visit() {
    // Read over [a, b], the range [from, to) within it.
    let (a, from, to, b) = (T0, T0 + 40 * MIN, T0 + 100 * MIN, T0 + 140 * MIN);
    let cut = |hits: &[Hit]| visits::cut(hits, (from, to), (a, b));
    let pv = |v: &str, s: &str, t: i64| hit(v, s, t, "pageview", "/");
    // A visit wholly in range, and ones wholly before and after it: nothing is cut.
    let whole = [
        pv("v1", "s1", from + MIN),
        pv("v2", "s2", a + MIN),
        pv("v6", "s6", b - MIN),
    ];
    assert_eq!(cut(&whole), (false, false));
    // A visit reaching the range whose first read event is within the idle time after `a`.
    let chained = [pv("v3", "s3", a + 15 * MIN), pv("v3", "s3", from + MIN)];
    assert_eq!(cut(&chained), (true, false));
    // The same session's earlier visit (over 30 minutes before) is not the one in range.
    let apart = [pv("v4", "s4", a + MIN), pv("v4", "s4", a + 45 * MIN)];
    assert_eq!(cut(&apart), (false, false));
    // A visit that began over the idle time after `a` began where it was read.
    let late = [pv("v5", "s5", a + 31 * MIN), pv("v5", "s5", from + 5 * MIN)];
    assert_eq!(cut(&late), (false, false));
    // A visit of the range going on past `to`, its last read event within the idle time of `b`.
    let going = [
        pv("v7", "s7", to - MIN),
        pv("v7", "s7", to + 25 * MIN),
        pv("v7", "s7", b - 10 * MIN),
    ];
    assert_eq!(cut(&going), (false, true));
    // One that ended over the idle time before `b` was read to its end.
    let ended = [pv("v8", "s8", to - MIN), pv("v8", "s8", to + 5 * MIN)];
    assert_eq!(cut(&ended), (false, false));
}
