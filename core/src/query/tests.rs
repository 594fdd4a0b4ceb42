//! Tests of the query language: Plausible's documented request bodies, each rule's message, date
//! ranges and comparisons, and hostile input (never a panic).

use super::*;
use crate::stats::{format_date, parse_date};
use crate::zone::Zone;
use serde_json::{json, Value};

const DAY_MS: i64 = 24 * 3600 * 1000;
/// 2025-11-24T16:00:00Z, a Monday.
const NOW: i64 = 1_764_000_000_000;

fn cx(zone: &str) -> Context {
    Context {
        zone: Zone::named(zone),
        now: NOW,
        stats_start: None,
    }
}

fn ok(body: &str) -> Request {
    parse(body.as_bytes()).unwrap_or_else(|e| panic!("{body}\n  refused: {}", e.message()))
}

fn query(body: &str) -> Query {
    ok(body)
        .resolve(&cx("UTC"))
        .unwrap_or_else(|e| panic!("{body}\n  refused: {}", e.message()))
}

/// The error a body gets, parsing and resolving it in UTC.
fn refused(body: &str) -> QueryError {
    match parse(body.as_bytes()).and_then(|r| r.resolve(&cx("UTC"))) {
        Ok(q) => panic!("{body}\n  was accepted: {q:?}"),
        Err(e) => e,
    }
}

fn message(body: &str) -> String {
    refused(body).message().to_owned()
}

/// A body with `site_id` and the given fields (a JSON object's inside).
fn body(fields: &str) -> String {
    format!(r#"{{"site_id":"dummy.site",{fields}}}"#)
}

/// The UTC dates `[from, to)` of a range, as text.
fn dates(range: crate::stats::Range) -> (String, String) {
    (format_date(range.from), format_date(range.to))
}

fn ms(text: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(text)
        .unwrap()
        .timestamp_millis()
}

// ---- Plausible's documentation examples -------------------------------------------------------

/// The request bodies of the Stats API v2 reference (plausible.io/docs/stats-api, "Examples" and
/// the tables of date ranges and filters), as the docs give them; the e2e suite runs them too.
const DOC_EXAMPLES_JSON: &str = include_str!("../../../tests/fixtures/plausible-v2-examples.json");

fn doc_examples() -> Vec<String> {
    let list: Vec<Value> = serde_json::from_str(DOC_EXAMPLES_JSON).expect("the examples are JSON");
    list.iter().map(Value::to_string).collect()
}

#[test]
fn plausibles_documented_requests_are_accepted() {
    for body in &doc_examples() {
        let q = query(body);
        assert_eq!(q.site_id, "dummy.site");
        assert!(q.date_range.range.from < q.date_range.range.to, "{body}");
        assert!(!q.internal, "{body}");
    }
}

#[test]
fn documented_requests_read_into_their_types() {
    let q = query(&doc_examples()[3]);
    assert_eq!(
        q.metrics,
        [Metric::Visitors, Metric::Pageviews, Metric::BounceRate]
    );
    assert_eq!(q.dimensions, [Dimension::CountryName, Dimension::CityName]);
    assert!(!q.dimensions[1].recorded() && q.dimensions[0].recorded());
    let q = query(&doc_examples()[6]);
    let Some(Filter::Condition(c)) = &q.filters else {
        panic!("{:?}", q.filters)
    };
    assert_eq!((c.op, &c.dimension), (Op::Contains, &Dimension::Page));
    assert_eq!(
        (c.clauses.as_slice(), c.case_sensitive),
        (&["blog".to_owned()][..], false)
    );
    assert_eq!(
        query(&doc_examples()[7]).filters,
        Some(Filter::Segment(vec![2]))
    );
    let q = query(&doc_examples()[9]);
    assert_eq!(q.dimensions, [Dimension::Time(TimeBucket::Hour)]);
    assert!(q.include.time_labels);
    let q = query(&doc_examples()[11]);
    assert_eq!(
        q.pagination,
        Pagination {
            limit: 3,
            offset: 1
        }
    );
    assert!(q.include.total_rows);
    let q = query(&doc_examples()[16]);
    let Some(Filter::And(top)) = &q.filters else {
        panic!("{:?}", q.filters)
    };
    assert!(matches!(&top[1], Filter::HasDone(inner)
        if matches!(&**inner, Filter::Condition(c) if c.dimension == Dimension::Page)));
    assert_eq!(
        query(&doc_examples()[10]).dimensions[1],
        Dimension::Prop("is_customer".into())
    );
    assert_eq!(
        query(&doc_examples()[18]).filters.map(|f| match f {
            Filter::And(list) => list.len(),
            _ => 1,
        }),
        Some(4)
    );
}

#[test]
fn names_round_trip() {
    for m in Metric::ALL {
        assert_eq!(Metric::parse(m.name()), Some(*m));
    }
    for name in [
        "event:goal",
        "event:internal",
        "event:props:plan",
        "visit:utm_term",
        "visit:channel",
        "time",
        "time:week",
    ] {
        assert_eq!(Dimension::parse(name).unwrap().name(), name);
    }
    assert_eq!(Metric::P75(Vital::Cls).name(), "cls_p75");
    assert_eq!(Vital::Ttfb.stored_name(), "TTFB");
    for vital in [Vital::Lcp, Vital::Inp, Vital::Cls, Vital::Fcp, Vital::Ttfb] {
        assert!(crate::ingest::aggregate::VITALS.contains(&vital.stored_name()));
    }
    assert_eq!(Dimension::parse("event:props:"), None);
    assert_eq!(
        Dimension::parse(&format!("event:props:{}", "k".repeat(65))),
        None
    );
}

// ---- Date ranges ------------------------------------------------------------------------------

fn range_of(range: &str, zone: &str) -> Span {
    let r = ok(&body(&format!(
        r#""metrics":["visitors"],"date_range":{range}"#
    )));
    r.resolve(&cx(zone)).unwrap().date_range
}

fn utc_dates(range: &str) -> (String, String) {
    dates(range_of(range, "UTC").range)
}

#[test]
fn shorthands_are_plausibles_whole_days_before_today() {
    let d = |a: &str, b: &str| (a.to_owned(), b.to_owned());
    assert_eq!(utc_dates(r#""day""#), d("2025-11-24", "2025-11-25"));
    assert_eq!(
        utc_dates(r#""7d""#),
        d("2025-11-17", "2025-11-24"),
        "today is not in 7d"
    );
    assert_eq!(utc_dates(r#""28d""#), d("2025-10-27", "2025-11-24"));
    assert_eq!(utc_dates(r#""30d""#), d("2025-10-25", "2025-11-24"));
    assert_eq!(utc_dates(r#""91d""#), d("2025-08-25", "2025-11-24"));
    assert_eq!(utc_dates(r#""month""#), d("2025-11-01", "2025-12-01"));
    assert_eq!(utc_dates(r#""6mo""#), d("2025-05-01", "2025-11-01"));
    assert_eq!(utc_dates(r#""12mo""#), d("2024-11-01", "2025-11-01"));
    assert_eq!(utc_dates(r#""year""#), d("2025-01-01", "2026-01-01"));
    assert_eq!(
        utc_dates(r#""all""#),
        d("2025-11-24", "2025-11-25"),
        "no stats yet: today"
    );
    assert_eq!(
        utc_dates(r#"["2024-02-28","2024-03-01"]"#),
        d("2024-02-28", "2024-03-02")
    );
    let h24 = range_of(r#""24h""#, "UTC");
    assert_eq!(
        (h24.range.from, h24.range.to, h24.whole_days),
        (NOW - DAY_MS, NOW, false)
    );
    let seven = range_of(r#""7d""#, "UTC");
    assert_eq!(
        (seven.last_day - seven.first_day, seven.whole_days),
        (6, true)
    );
}

#[test]
fn all_starts_at_the_first_day_of_stats_and_at_most_5000_days_back() {
    let r = ok(&body(r#""metrics":["visitors"],"date_range":"all""#));
    let mut at = cx("UTC");
    at.stats_start = Some(ms("2025-03-10T05:00:00Z"));
    let span = r.clone().resolve(&at).unwrap().date_range;
    assert_eq!(
        dates(span.range),
        ("2025-03-10".into(), "2025-11-25".into())
    );
    at.stats_start = Some(ms("1990-01-01T00:00:00Z"));
    let span = r.clone().resolve(&at).unwrap().date_range;
    assert_eq!(span.last_day - span.first_day + 1, MAX_RANGE_DAYS);
    at.stats_start = Some(NOW + 10 * DAY_MS);
    let span = r.resolve(&at).unwrap().date_range;
    assert_eq!(
        span.first_day, span.last_day,
        "a start in the future counts from today"
    );
}

#[test]
fn days_are_the_sites_local_days_across_daylight_saving() {
    // 16:00Z is 17:00 in Berlin (UTC+1 in November): today starts at 23:00Z the day before.
    let day = range_of(r#""day""#, "Europe/Berlin").range;
    assert_eq!(
        (day.from, day.to),
        (ms("2025-11-23T23:00:00Z"), ms("2025-11-24T23:00:00Z"))
    );
    // The spring-forward day in Berlin has 23 hours.
    let spring = range_of(r#"["2026-03-29","2026-03-29"]"#, "Europe/Berlin").range;
    assert_eq!(
        (spring.from, spring.to),
        (ms("2026-03-28T23:00:00Z"), ms("2026-03-29T22:00:00Z"))
    );
    // São Paulo once jumped over midnight (2018-11-04 00:00 → 01:00): that day starts at 01:00.
    let gap = range_of(r#"["2018-11-04","2018-11-04"]"#, "America/Sao_Paulo").range;
    assert_eq!(
        (gap.from, gap.to),
        (ms("2018-11-04T03:00:00Z"), ms("2018-11-05T02:00:00Z"))
    );
    // New York is behind UTC: its "7d" ends at local midnight, 05:00Z.
    let ny = range_of(r#""7d""#, "America/New_York").range;
    assert_eq!(ny.to, ms("2025-11-24T05:00:00Z"));
}

#[test]
fn date_times_run_to_the_end_of_the_last_second() {
    let docs = range_of(
        r#"["2024-01-01T12:00:00+02:00","2024-01-01T15:59:59+02:00"]"#,
        "UTC",
    );
    assert_eq!(
        (docs.range.from, docs.range.to),
        (ms("2024-01-01T10:00:00Z"), ms("2024-01-01T14:00:00Z"))
    );
    assert!(!docs.whole_days);
    // Without an offset, a date-time is the site's local time.
    let local = range_of(
        r#"["2024-01-01 12:00:00","2024-01-01T13:00:00.5"]"#,
        "Europe/Berlin",
    );
    assert_eq!(
        (local.range.from, local.range.to),
        (ms("2024-01-01T11:00:00Z"), ms("2024-01-01T12:00:01Z"))
    );
}

fn compared(range: &str, comparisons: &str) -> (String, String) {
    let r = ok(&body(&format!(
        r#""metrics":["visitors"],"date_range":{range},"include":{{"comparisons":{comparisons}}}"#
    )));
    dates(r.resolve(&cx("UTC")).unwrap().comparison.unwrap().range)
}

#[test]
fn comparisons_are_resolved_to_a_second_range() {
    let d = |a: &str, b: &str| (a.to_owned(), b.to_owned());
    let prev = r#"{"mode":"previous_period"}"#;
    let yoy = r#"{"mode":"year_over_year"}"#;
    assert_eq!(compared(r#""7d""#, prev), d("2025-11-10", "2025-11-17"));
    // This month so far (24 days) against the 24 days before it.
    assert_eq!(compared(r#""month""#, prev), d("2025-10-08", "2025-11-01"));
    // The same days 365 days earlier, cut at today.
    assert_eq!(compared(r#""month""#, yoy), d("2024-11-01", "2024-11-25"));
    assert_eq!(
        compared(
            r#""7d""#,
            r#"{"mode":"custom","date_range":["2024-01-01","2024-01-07"]}"#
        ),
        d("2024-01-01", "2024-01-08")
    );
    let r = ok(&body(
        r#""metrics":["visitors"],"date_range":"24h","include":{"comparisons":{"mode":"previous_period"}}"#,
    ));
    let c = r.resolve(&cx("UTC")).unwrap().comparison.unwrap();
    assert_eq!((c.range.from, c.range.to), (NOW - 2 * DAY_MS, NOW - DAY_MS));
}

#[test]
fn match_day_of_week_moves_the_comparison_to_the_same_weekday_without_overlap() {
    let d = |a: &str, b: &str| (a.to_owned(), b.to_owned());
    // 7d starts on Monday 2025-11-17; 365 days earlier is a Sunday: one day forward.
    assert_eq!(
        compared(
            r#""7d""#,
            r#"{"mode":"year_over_year","match_day_of_week":true}"#
        ),
        d("2024-11-18", "2024-11-25")
    );
    // 30d starts on Saturday 2025-10-25; the previous 30 days start on a Thursday. Two days
    // forward would overlap the range, so it moves five days back, to Saturday 2025-09-20.
    assert_eq!(
        compared(
            r#""30d""#,
            r#"{"mode":"previous_period","match_day_of_week":true}"#
        ),
        d("2025-09-20", "2025-10-20")
    );
    assert_eq!(
        compared(
            r#""7d""#,
            r#"{"mode":"previous_period","match_day_of_week":true}"#
        ),
        d("2025-11-10", "2025-11-17")
    );
}

#[test]
fn the_time_dimension_picks_plausibles_bucket() {
    let bucket = |range: &str| {
        let q = query(&body(&format!(
            r#""metrics":["visitors"],"date_range":{range},"dimensions":["time"],"order_by":[["time","desc"]]"#
        )));
        assert_eq!(
            q.order_by,
            [(SortKey::Dimension(q.dimensions[0].clone()), Direction::Desc)]
        );
        q.dimensions[0].clone()
    };
    use TimeBucket::*;
    assert_eq!(bucket(r#""day""#), Dimension::Time(Hour));
    assert_eq!(bucket(r#""24h""#), Dimension::Time(Hour));
    assert_eq!(bucket(r#""7d""#), Dimension::Time(Day));
    assert_eq!(bucket(r#""month""#), Dimension::Time(Day));
    assert_eq!(bucket(r#""30d""#), Dimension::Time(Day));
    assert_eq!(bucket(r#""91d""#), Dimension::Time(Month));
    assert_eq!(bucket(r#""12mo""#), Dimension::Time(Month));
    assert_eq!(
        bucket(r#"["2024-01-01","2024-02-01"]"#),
        Dimension::Time(Month)
    );
    assert_eq!(
        bucket(r#"["2024-01-01","2024-01-31"]"#),
        Dimension::Time(Day)
    );
    // The day daylight saving ends in Berlin has 25 hours, and is still one day: hours.
    let fall = ok(&body(
        r#""metrics":["visitors"],"date_range":["2025-10-26","2025-10-26"],"dimensions":["time"]"#,
    ));
    let q = fall.resolve(&cx("Europe/Berlin")).unwrap();
    assert_eq!(
        q.date_range.range.to - q.date_range.range.from,
        25 * 3600 * 1000
    );
    assert_eq!(q.dimensions, [Dimension::Time(Hour)]);
}

#[test]
fn the_default_order_is_time_then_the_first_metric_descending() {
    let q = query(&body(
        r#""metrics":["pageviews","visitors"],"date_range":"7d","dimensions":["visit:source","time:day"]"#,
    ));
    assert_eq!(
        q.order_by,
        [
            (
                SortKey::Dimension(Dimension::Time(TimeBucket::Day)),
                Direction::Asc
            ),
            (SortKey::Metric(Metric::Pageviews), Direction::Desc),
        ]
    );
}

#[test]
fn staff_traffic_is_counted_only_when_asked_for() {
    let internal = |extra: &str| {
        query(&body(&format!(
            r#""metrics":["visitors"],"date_range":"7d"{extra}"#
        )))
        .internal
    };
    assert!(!internal(""));
    assert!(internal(r#","include":{"internal":true}"#));
    assert!(internal(r#","dimensions":["event:internal"]"#));
    assert!(internal(
        r#","filters":[["is","event:internal",["false"]]]"#
    ));
    assert!(!internal(r#","include":{"internal":false}"#));
}

#[test]
fn a_funnel_query_names_its_funnel() {
    let q = query(
        r#"{"site_id":"s","funnel":7,"date_range":"30d","include":{"comparisons":{"mode":"previous_period"}}}"#,
    );
    assert_eq!((q.funnel, q.metrics.len()), (Some(7), 0));
    assert!(q.comparison.is_some());
    query(
        r#"{"site_id":"s","funnel":7,"metrics":["visitors"],"date_range":"30d","filters":[["is","visit:device",["Mobile"]]]}"#,
    );
}

// ---- Errors, each with its message ------------------------------------------------------------

#[test]
fn each_rule_names_what_is_wrong() {
    let m = |fields: &str| message(&body(fields));
    let cases: &[(&str, &str)] = &[
        // Shape.
        (r#""metrics":["visitors","uniques"],"date_range":"7d""#, r#"#/metrics/1: Invalid metric "uniques""#),
        (r#""metrics":[],"date_range":"7d""#, "#/metrics: Expected a minimum of 1 items but got 0."),
        (r#""metrics":["visitors","visitors"],"date_range":"7d""#, "#/metrics: Expected items to be unique but they were not (`visitors` is listed twice)."),
        (r#""metrics":["visitors"],"date_range":"7d","dimensions":["visit:nope"]"#, r#"#/dimensions/0: Invalid dimension "visit:nope""#),
        (r#""metrics":["visitors"],"date_range":"7d","dimensions":["time:day","time:week"]"#, r#"#/dimensions/1: Invalid dimension "time:week": at most one time dimension."#),
        (r#""metrics":["visitors"],"date_range":"2d""#, r#"#/date_range: Invalid date range "2d". Use day, 24h, 7d, 28d, 30d, 91d, month, 6mo, 12mo, year, all, or two ISO 8601 dates or date-times."#),
        (r#""metrics":["visitors"],"date_range":["2024-02-01","2024-01-01"]"#, r#"#/date_range: Invalid date range ["2024-02-01","2024-01-01"]: the first date is after the last."#),
        (r#""metrics":["visitors"],"date_range":["2024-02-01","2024-02-30"]"#, r#"#/date_range: Invalid date range ["2024-02-01","2024-02-30"]: two ISO 8601 dates (YYYY-MM-DD) or date-times (YYYY-MM-DDTHH:MM:SS+02:00)."#),
        (r#""metrics":["visitors"],"date_range":["2024-02-01","2024-02-03T00:00:00Z"]"#, r#"#/date_range: Invalid date range ["2024-02-01","2024-02-03T00:00:00Z"]: both ends are dates, or both are date-times."#),
        (r#""metrics":["visitors"],"date_range":["2024-02-01T10:00:00Z","2024-02-01T09:00:00Z"]"#, "#/date_range: Invalid date range: the first date-time is after the last."),
        (r#""metrics":["visitors"],"date_range":["2000-01-01","2024-01-01"]"#, r#"#/date_range: Invalid date range ["2000-01-01","2024-01-01"]: at most 5000 days."#),
        (r#""metrics":["visitors"],"date_range":"7d","order_by":[["pageviews","desc"]]"#, r#"Invalid order_by entry ["pageviews","desc"]. Entry is not a queried metric or dimension."#),
        (r#""metrics":["visitors"],"date_range":"7d","order_by":[["visitors","down"]]"#, r#"Invalid order_by entry ["visitors","down"]."#),
        (r#""metrics":["visitors"],"date_range":"7d","include":{"time_labels":true}"#, "Invalid include.time_labels: requires a time dimension."),
        (r#""metrics":["visitors"],"date_range":"7d","include":{"labels":true}"#, "#/include/labels: Invalid include key. include takes imports, time_labels, total_rows, comparisons, internal."),
        (r#""metrics":["visitors"],"date_range":"7d","include":{"total_rows":"yes"}"#, r#"#/include/total_rows: Invalid value "yes": true or false."#),
        (r#""metrics":["visitors"],"date_range":"7d","include":{"comparisons":{"mode":"custom"}}"#, "#/include/comparisons: mode `custom` needs a date_range of two dates."),
        (r#""metrics":["visitors"],"date_range":"7d","include":{"comparisons":{"mode":"last_year"}}"#, r#"#/include/comparisons/mode: Invalid mode "last_year": previous_period, year_over_year or custom."#),
        (r#""metrics":["visitors"],"date_range":"7d","pagination":{"limit":0}"#, "#/pagination/limit: Invalid value 0: an integer from 1 to 10000."),
        (r#""metrics":["visitors"],"date_range":"7d","pagination":{"limit":10001}"#, "#/pagination/limit: Invalid value 10001: an integer from 1 to 10000."),
        (r#""metrics":["visitors"],"date_range":"7d","pagination":{"offset":-1}"#, "#/pagination/offset: Invalid value -1: an integer from 0 to 1000000."),
        (r#""metrics":["visitors"],"date_range":"7d","pagination":{"page":2}"#, "#/pagination/page: Unknown key. pagination takes limit, offset."),
        // Metrics against the rest of the query (Plausible's rules and wording).
        (r#""metrics":["views_per_visit"],"date_range":"7d","dimensions":["visit:source"]"#, "Metric `views_per_visit` cannot be queried with `dimensions`."),
        (r#""metrics":["views_per_visit"],"date_range":"7d","filters":[["not",["is","event:page",["/"]]]]"#, "Metric `views_per_visit` cannot be queried with a filter on `event:page`."),
        (r#""metrics":["time_on_page"],"date_range":"7d""#, "Metric `time_on_page` can only be queried with event:page filters or dimensions."),
        (r#""metrics":["scroll_depth"],"date_range":"7d","filters":[["not",["is","event:page",["/"]]]]"#, "Metric `scroll_depth` can only be queried with event:page filters or dimensions."),
        (r#""metrics":["conversion_rate"],"date_range":"7d","dimensions":["visit:source"]"#, "Metric `conversion_rate` can only be queried with event:goal filters or dimensions."),
        (r#""metrics":["group_conversion_rate"],"date_range":"7d","filters":[["has_done",["is","event:goal",["Signup"]]]]"#, "Metric `group_conversion_rate` can only be queried with event:goal filters or dimensions."),
        (r#""metrics":["percentage"],"date_range":"7d""#, "Metric `percentage` requires non-empty `dimensions`."),
        (r#""metrics":["visitors","bounce_rate","visit_duration"],"date_range":"7d","dimensions":["event:goal"]"#, "Session metric(s) `bounce_rate`, `visit_duration` cannot be queried along with event dimension(s) `event:goal`"),
        (r#""metrics":["pageviews"],"date_range":"7d","dimensions":["visit:entry_page"]"#, "Event metric(s) `pageviews` cannot be queried along with session dimension(s) `visit:entry_page`"),
        (r#""metrics":["lcp_p75"],"date_range":"7d","dimensions":["visit:exit_page"]"#, "Event metric(s) `lcp_p75` cannot be queried along with session dimension(s) `visit:exit_page`"),
        // Filters.
        (r#""metrics":["visitors"],"date_range":"7d","filters":[["equals","event:page",["/"]]]"#, r#"#/filters/0: Unknown operator for filter ["equals","event:page",["/"]]."#),
        (r#""metrics":["visitors"],"date_range":"7d","filters":[["is","time:day",["2024-01-01"]]]"#, r#"#/filters/0: Invalid filter ["is","time:day",["2024-01-01"]]: time dimensions cannot be filtered; set `date_range` instead."#),
        (r#""metrics":["visitors"],"date_range":"7d","filters":[["is","visit:town",["x"]]]"#, r#"#/filters/0: Invalid filter ["is","visit:town",["x"]]: no dimension is called "visit:town"."#),
        (r#""metrics":["visitors"],"date_range":"7d","filters":[["is","event:page","/"]]"#, r#"#/filters/0: Invalid filter ["is","event:page","/"]: a filter is [operator, dimension, clauses] or [operator, dimension, clauses, modifiers]."#),
        (r#""metrics":["visitors"],"date_range":"7d","filters":[["is","event:page",[1]]]"#, r#"#/filters/0: Invalid filter ["is","event:page",[1]]: clause 0 must be a string."#),
        (r#""metrics":["visitors"],"date_range":"7d","filters":[["is","event:page",["/"],{"case":false}]]"#, r#"#/filters/0: Invalid filter ["is","event:page",["/"],{"case":false}]: the only modifier is {"case_sensitive": true or false}."#),
        (r#""metrics":["visitors"],"date_range":"7d","filters":[["and",[]]]"#, r#"#/filters/0: Invalid filter ["and",[]]: `and` and `or` take one non-empty list of filters."#),
        (r#""metrics":["visitors"],"date_range":"7d","filters":[["not",["is","visit:os",["Mac"]],["is","visit:os",["iOS"]]]]"#, r#"#/filters/0: Invalid filter ["not",["is","visit:os",["Mac"]],["is","visit:os",["iOS"]]]: `not` takes one filter."#),
        (r#""metrics":["visitors"],"date_range":"7d","filters":[["or",[["is","event:goal",["A"]],["is","visit:os",["Mac"]]]]]"#, "Invalid filters. Dimension `event:goal` can only be filtered at the top level."),
        (r#""metrics":["visitors"],"date_range":"7d","filters":[["not",["is","event:hostname",["a.com"]]]]"#, "Invalid filters. Dimension `event:hostname` can only be filtered at the top level."),
        (r#""metrics":["conversion_rate"],"date_range":"7d","filters":[["is","event:goal",["A"]],["not",["is","event:props:plan",["pro"]]]]"#, "Invalid filters. When `conversion_rate` or `group_conversion_rate` metrics are used, custom property filters can only be used on top level."),
        (r#""metrics":["visitors"],"date_range":"7d","filters":[["has_done",["has_not_done",["is","event:page",["/"]]]]]"#, "Invalid filters. Behavioral filters (has_done, has_not_done) cannot be nested."),
        (r#""metrics":["visitors"],"date_range":"7d","filters":[["has_done",["is","visit:source",["Google"]]]]"#, "Invalid filters. Behavioral filters (has_done, has_not_done) can only be used with event dimension filters."),
        (r#""metrics":["visitors"],"date_range":"7d","filters":[["has_not_done",["is","segment",[1]]]]"#, "Invalid filters. Behavioral filters (has_done, has_not_done) can only be used with event dimension filters."),
        (r#""metrics":["visitors"],"date_range":"7d","filters":[["is_not","event:goal",["A"]]]"#, "Invalid filters. Only `is` and `contains` can filter `event:goal` (not `is_not`)."),
        (r#""metrics":["visitors"],"date_range":"7d","filters":[["is","visit:country",["Germany"]]]"#, "Invalid visit:country filter, visit:country needs to be a valid 2-letter country code."),
        (r#""metrics":["visitors"],"date_range":"7d","filters":[["is","event:internal",["yes"]]]"#, "Invalid filters. `event:internal` is filtered with `is` or `is_not` and the clauses \"true\" (staff traffic) or \"false\" (customers')."),
        (r#""metrics":["visitors"],"date_range":"7d","filters":[["is_not","segment",[1]]]"#, r#"#/filters/0: Invalid filter ["is_not","segment",[1]]: segments are filtered as ["is", "segment", [segment ids]]."#),
        (r#""metrics":["visitors"],"date_range":"7d","filters":[["is","segment",["1"]]]"#, r#"#/filters/0: Invalid filter ["is","segment",["1"]]: segments are filtered as ["is", "segment", [segment ids]]."#),
        (r#""metrics":["visitors"],"date_range":"7d","filters":{"is":"x"}"#, r#"#/filters: Type mismatch. Expected Array but got {"is":"x"}."#),
        // Funnels.
        (r#""funnel":3,"date_range":"7d","dimensions":["visit:source"]"#, "A funnel query takes no `dimensions`: its rows are the funnel's steps."),
        (r#""funnel":3,"metrics":["pageviews"],"date_range":"7d""#, "A funnel query answers `visitors` per step; leave `metrics` out or ask for [\"visitors\"]."),
        (r#""funnel":0,"date_range":"7d""#, "#/funnel: Invalid funnel 0: a funnel id is a positive integer."),
        (r#""funnel":"signup","date_range":"7d""#, r#"#/funnel: Invalid funnel "signup": a funnel id is a positive integer."#),
        // The query itself.
        (r#""date_range":"7d""#, "#: Required property metrics was not present."),
        (r#""metrics":["visitors"]"#, "#: Required property date_range was not present."),
        (r#""metrics":["visitors"],"date_range":"7d","date":"2024-01-01""#, "#/date: Unknown key. A query takes site_id, metrics, date_range, dimensions, filters, order_by, include, pagination, funnel."),
    ];
    for (fields, expected) in cases {
        assert_eq!(&m(fields), expected, "for {fields}");
    }
    assert_eq!(
        message(r#"{"metrics":["visitors"],"date_range":"7d"}"#),
        "#: Required property site_id was not present."
    );
    assert_eq!(message("[]"), "#: The query must be a JSON object.");
    assert_eq!(refused("{").code(), "invalid_json");
    assert_eq!(
        refused(&body(
            r#""metrics":["visitors"],"date_range":"7d","filters":[["is","visit:country",["DEU"]]]"#
        ))
        .code(),
        "invalid_filters"
    );
}

#[test]
fn rules_allow_what_plausible_allows() {
    for fields in [
        // event:page alone may go with session metrics (Plausible's special case).
        r#""metrics":["bounce_rate","visit_duration"],"date_range":"7d","dimensions":["event:page"]"#,
        r#""metrics":["scroll_depth","time_on_page"],"date_range":"7d","filters":[["is","event:page",["/"]]]"#,
        r#""metrics":["time_on_page"],"date_range":"7d","filters":[["or",[["is","event:page",["/a"]],["is","event:page",["/b"]]]]]"#,
        r#""metrics":["conversion_rate","group_conversion_rate"],"date_range":"7d","dimensions":["event:goal"]"#,
        r#""metrics":["conversion_rate"],"date_range":"7d","filters":[["contains","event:goal",["Sign"]],["is","event:props:plan",["pro"]]]"#,
        r#""metrics":["views_per_visit","bounce_rate"],"date_range":"7d","filters":[["has_done",["is","event:page",["/pricing"]]]]"#,
        r#""metrics":["percentage","visitors"],"date_range":"7d","dimensions":["visit:device"]"#,
        r#""metrics":["visitors"],"date_range":"7d","filters":[["is","visit:city",[2950159]],["is","visit:country",["DE"]]]"#,
        r#""metrics":["visitors"],"date_range":"7d","filters":[["matches","event:page",["^/blog"],{"case_sensitive":false}]]"#,
        r#""metrics":["visitors"],"date_range":"7d","filters":[["is","event:page",[]]]"#,
        r#""metrics":["lost_in_browser","inp_p75","ttfb_p75"],"date_range":"7d","dimensions":["event:page","visit:country"]"#,
        r#""metrics":["visitors"],"date_range":"7d","dimensions":null,"filters":null,"include":{"comparisons":null}"#,
    ] {
        query(&body(fields));
    }
}

#[test]
fn a_time_dimension_is_bounded_in_buckets() {
    let e = refused(&body(
        r#""metrics":["visitors"],"date_range":["2020-01-01","2024-12-31"],"dimensions":["time:hour"]"#,
    ));
    assert_eq!(e.kind(), ErrorKind::InvalidDimensions);
    assert!(
        e.message()
            .starts_with("Invalid dimensions. `time:hour` over this date range makes"),
        "{}",
        e.message()
    );
    query(&body(
        r#""metrics":["visitors"],"date_range":"12mo","dimensions":["time:hour"]"#,
    ));
}

// ---- Hostile input ----------------------------------------------------------------------------

#[test]
fn deep_nesting_is_refused() {
    // Past serde_json's own limit (128 levels).
    let deep = format!(
        r#"{{"site_id":"s","metrics":["visitors"],"date_range":"7d","filters":[{}["is","event:page",["/"]]{}]}}"#,
        r#"["not","#.repeat(5000),
        "]".repeat(5000)
    );
    assert_eq!(refused(&deep).code(), "invalid_json");
    // Within serde_json's limit, past ours.
    let nested = format!(
        r#"{{"site_id":"s","metrics":["visitors"],"date_range":"7d","filters":[{}["is","event:page",["/"]]{}]}}"#,
        r#"["not","#.repeat(20),
        "]".repeat(20)
    );
    assert_eq!(
        message(&nested),
        "#/filters/0/1/1/1/1/1/1/1/1: Invalid filters. Filters nest at most 8 levels deep."
    );
    let at_limit = format!(
        r#"{{"site_id":"s","metrics":["visitors"],"date_range":"7d","filters":[{}["is","event:page",["/"]]{}]}}"#,
        r#"["not","#.repeat(MAX_FILTER_DEPTH),
        "]".repeat(MAX_FILTER_DEPTH)
    );
    query(&at_limit);
    // A Value built in memory, deeper than any body could be, is refused as well.
    let mut v = json!(["is", "event:page", ["/"]]);
    for _ in 0..1000 {
        v = json!(["not", v]);
    }
    let e =
        parse_value(&json!({"site_id":"s","metrics":["visitors"],"date_range":"7d","filters":[v]}));
    assert_eq!(e.unwrap_err().kind(), ErrorKind::InvalidFilters);
}

#[test]
fn large_inputs_are_refused() {
    let e = refused(&format!(
        r#"{{"site_id":"{}"}}"#,
        "s".repeat(MAX_BODY_BYTES)
    ));
    assert_eq!(e.message(), "The query body is over 65536 bytes.");
    let many = |key: &str, item: Value, n: usize| {
        let mut q = json!({"site_id":"s","metrics":["visitors"],"date_range":"7d"});
        q[key] = Value::Array(vec![item; n]);
        parse_value(&q).unwrap_err().message().to_owned()
    };
    assert_eq!(
        many("metrics", json!("visitors"), 5000),
        "#/metrics: Expected a maximum of 20 items but got 5000."
    );
    assert_eq!(
        many("dimensions", json!("visit:os"), 9),
        "#/dimensions: Expected a maximum of 8 items but got 9."
    );
    assert_eq!(
        many("filters", json!(["is", "visit:os", ["Mac"]]), 101),
        "#/filters: Expected a maximum of 100 items but got 101."
    );
    let leaf = json!(["is", "visit:os", ["Mac"]]);
    let wide = json!(["and", vec![leaf; 150]]);
    assert_eq!(
        parse_value(
            &json!({"site_id":"s","metrics":["visitors"],"date_range":"7d","filters":[wide]})
        )
        .unwrap_err()
        .message(),
        "#/filters/0/1/99: Invalid filters. At most 100 filters in a query."
    );
    let clauses: Vec<String> = (0..101).map(|i| i.to_string()).collect();
    let e = parse_value(
        &json!({"site_id":"s","metrics":["visitors"],"date_range":"7d",
        "filters":[["is","event:page",clauses]]}),
    );
    assert!(e.unwrap_err().message().ends_with(": at most 100 clauses."));
    let long = "x".repeat(MAX_CLAUSE_LEN + 1);
    let e = parse_value(
        &json!({"site_id":"s","metrics":["visitors"],"date_range":"7d",
        "filters":[["is","event:page",[long]]]}),
    )
    .unwrap_err();
    assert!(
        e.message().ends_with(": clause 0 is over 2048 bytes."),
        "{}",
        e.message()
    );
    assert!(e.message().len() < 300, "quotes are cut: {}", e.message());
    let e = refused(&body(&format!(
        r#""metrics":["{}"],"date_range":"7d""#,
        "m".repeat(10_000)
    )));
    assert!(e.message().len() < 200, "quotes are cut: {}", e.message());
    let long_site = format!(
        r#"{{"site_id":"{}","metrics":["visitors"],"date_range":"7d"}}"#,
        "s".repeat(254)
    );
    assert!(message(&long_site).len() < 250, "quotes are cut");
}

#[test]
fn odd_types_and_numbers_are_refused() {
    for fields in [
        r#""metrics":"visitors","date_range":"7d""#,
        r#""metrics":[["visitors"]],"date_range":"7d""#,
        r#""metrics":[null],"date_range":"7d""#,
        r#""metrics":["visitors"],"date_range":7"#,
        r#""metrics":["visitors"],"date_range":["2024-01-01"]"#,
        r#""metrics":["visitors"],"date_range":["2024-01-01","2024-01-02","2024-01-03"]"#,
        r#""metrics":["visitors"],"date_range":["2024-01-01",20240102]"#,
        r#""metrics":["visitors"],"date_range":["2024-1-1","2024-1-2"]"#,
        r#""metrics":["visitors"],"date_range":["2024-01-01T25:00:00Z","2024-01-02T00:00:00Z"]"#,
        r#""metrics":["visitors"],"date_range":"7d","dimensions":[1]"#,
        r#""metrics":["visitors"],"date_range":"7d","dimensions":"visit:os""#,
        r#""metrics":["visitors"],"date_range":"7d","filters":[[]]"#,
        r#""metrics":["visitors"],"date_range":"7d","filters":[[1,2,3]]"#,
        r#""metrics":["visitors"],"date_range":"7d","filters":[["is",1,["x"]]]"#,
        r#""metrics":["visitors"],"date_range":"7d","filters":[["is","visit:city",[-1]]]"#,
        r#""metrics":["visitors"],"date_range":"7d","filters":[["is","visit:city",[1.5]]]"#,
        r#""metrics":["visitors"],"date_range":"7d","filters":[["is","segment",[9007199254740992]]]"#,
        r#""metrics":["visitors"],"date_range":"7d","filters":[["is","segment",[]]]"#,
        r#""metrics":["visitors"],"date_range":"7d","filters":[["is","event:page",["/"],"i"]]"#,
        r#""metrics":["visitors"],"date_range":"7d","filters":[["is","event:page",["/"],{"case_sensitive":"no"}]]"#,
        r#""metrics":["visitors"],"date_range":"7d","order_by":"visitors""#,
        r#""metrics":["visitors"],"date_range":"7d","order_by":[["visitors"]]"#,
        r#""metrics":["visitors"],"date_range":"7d","order_by":[["visitors","desc"],["visitors","asc"]]"#,
        r#""metrics":["visitors"],"date_range":"7d","include":[]"#,
        r#""metrics":["visitors"],"date_range":"7d","include":{"comparisons":"previous_period"}"#,
        r#""metrics":["visitors"],"date_range":"7d","include":{"comparisons":{"mode":"custom","date_range":"7d"}}"#,
        r#""metrics":["visitors"],"date_range":"7d","include":{"comparisons":{"mode":"previous_period","date_range":["2024-01-01","2024-01-02"]}}"#,
        r#""metrics":["visitors"],"date_range":"7d","include":{"comparisons":{"mode":"previous_period","match_day_of_week":1}}"#,
        r#""metrics":["visitors"],"date_range":"7d","pagination":5"#,
        r#""metrics":["visitors"],"date_range":"7d","pagination":{"limit":"10"}"#,
        r#""metrics":["visitors"],"date_range":"7d","pagination":{"limit":2.5}"#,
        r#""metrics":["visitors"],"date_range":"7d","pagination":{"limit":1e300}"#,
        r#""metrics":["visitors"],"date_range":"7d","pagination":{"offset":18446744073709551616}"#,
        r#""metrics":["visitors"],"date_range":"7d","pagination":{"offset":1e400}"#,
        r#""metrics":["visitors"],"date_range":"7d","funnel":-3"#,
        r#""metrics":["visitors"],"date_range":"7d","funnel":1e3"#,
    ] {
        refused(&body(fields));
    }
    for whole in [
        r#"{"site_id":5,"metrics":["visitors"],"date_range":"7d"}"#,
        r#"{"site_id":"","metrics":["visitors"],"date_range":"7d"}"#,
        "null",
        "\"query\"",
        "",
        "\u{feff}{}",
    ] {
        refused(whole);
    }
    assert_eq!(
        parse(b"{\"site_id\":\"\xff\xfe\"}").unwrap_err().code(),
        "invalid_json"
    );
}

/// A small xorshift generator: the tests' own randomness, seeded, so a failure repeats.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Words the query language knows besides its top-level keys (`parse::KEYS`), so random values
/// reach deep into the parser.
const MORE_WORDS: &[&str] = &[
    "visitors",
    "bounce_rate",
    "conversion_rate",
    "scroll_depth",
    "time_on_page",
    "views_per_visit",
    "percentage",
    "event:goal",
    "event:page",
    "event:props:x",
    "visit:country",
    "visit:entry_page",
    "time",
    "time:hour",
    "is",
    "is_not",
    "contains",
    "matches",
    "and",
    "or",
    "not",
    "has_done",
    "has_not_done",
    "segment",
    "asc",
    "desc",
    "7d",
    "day",
    "all",
    "24h",
    "2024-01-01",
    "2024-12-31",
    "2024-01-01T00:00:00Z",
    "comparisons",
    "mode",
    "custom",
    "previous_period",
    "year_over_year",
    "match_day_of_week",
    "time_labels",
    "limit",
    "offset",
    "case_sensitive",
    "true",
    "DE",
    "",
];

/// A word of the query language: a top-level key or one of [`MORE_WORDS`].
fn word(rng: &mut Rng) -> &'static str {
    let keys = super::parse::KEYS;
    let i = rng.below(keys.len() + MORE_WORDS.len());
    keys.get(i)
        .copied()
        .unwrap_or_else(|| MORE_WORDS[i - keys.len()])
}

fn random_value(rng: &mut Rng, depth: usize) -> Value {
    let leaf = depth >= 6 || rng.below(3) == 0;
    match if leaf { rng.below(5) } else { 5 + rng.below(2) } {
        0 => Value::Null,
        1 => Value::Bool(rng.below(2) == 0),
        2 => json!([0i64, 1, -1, 3, 10_000, 10_001, 1 << 53, i64::MIN][rng.below(8)]),
        3 => json!([0.5, 1e300, -0.0][rng.below(3)]),
        4 => Value::String(word(rng).into()),
        5 => Value::Array(
            (0..rng.below(5))
                .map(|_| random_value(rng, depth + 1))
                .collect(),
        ),
        _ => Value::Object(
            (0..rng.below(5))
                .map(|_| {
                    let key = word(rng).to_owned();
                    (key, random_value(rng, depth + 1))
                })
                .collect(),
        ),
    }
}

/// Replaces a random node of `v` with a random value.
fn mutate(rng: &mut Rng, v: &mut Value) {
    let children = match v {
        Value::Array(items) if !items.is_empty() => items.len(),
        Value::Object(map) if !map.is_empty() => map.len(),
        _ => 0,
    };
    if children == 0 || rng.below(4) == 0 {
        *v = random_value(rng, 3);
        return;
    }
    let i = rng.below(children);
    match v {
        Value::Array(items) => mutate(rng, &mut items[i]),
        Value::Object(map) => {
            if let Some(child) = map.values_mut().nth(i) {
                mutate(rng, child);
            }
        }
        _ => {}
    }
}

/// Parses and resolves, and checks what an accepted query promises.
fn run(v: &Value, rng: &mut Rng) {
    let zones = [
        "UTC",
        "Europe/Berlin",
        "America/Sao_Paulo",
        "Pacific/Kiritimati",
        "Asia/Kathmandu",
    ];
    let Ok(request) = parse_value(v) else { return };
    let cx = Context {
        zone: Zone::named(zones[rng.below(zones.len())]),
        now: NOW + (rng.next() % (400 * DAY_MS as u64)) as i64,
        stats_start: [None, Some(0), Some(NOW)][rng.below(3)],
    };
    if let Ok(q) = request.resolve(&cx) {
        assert!(q.date_range.range.from < q.date_range.range.to, "{v}");
        assert!(q.date_range.first_day <= q.date_range.last_day, "{v}");
        assert!(
            !q.dimensions.contains(&Dimension::Time(TimeBucket::Auto)),
            "{v}"
        );
    }
}

#[test]
fn random_and_mutated_queries_never_panic() {
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    for _ in 0..20_000 {
        let mut v = random_value(&mut rng, 0);
        if let Value::Object(map) = &mut v {
            map.insert("site_id".into(), json!("s"));
        }
        run(&v, &mut rng);
    }
    let examples: Vec<Value> = serde_json::from_str(DOC_EXAMPLES_JSON).unwrap();
    for _ in 0..20_000 {
        let mut v = examples[rng.below(examples.len())].clone();
        for _ in 0..1 + rng.below(3) {
            mutate(&mut rng, &mut v);
        }
        run(&v, &mut rng);
        // And as bytes: cut short or with a byte changed.
        let mut bytes = v.to_string().into_bytes();
        let i = rng.below(bytes.len().max(1));
        if rng.below(2) == 0 {
            bytes.truncate(i);
        } else if let Some(b) = bytes.get_mut(i) {
            *b = rng.next() as u8;
        }
        let _ = parse(&bytes).map(|r| r.resolve(&cx("Europe/Berlin")));
    }
}

#[test]
fn dates_parse_as_the_stats_module_does() {
    assert_eq!(parse_date("2024-02-29").map(|ms| ms / DAY_MS), Some(19_782));
    assert!(matches!(
        DateRange::pair("2024-02-29", "2024-03-01"),
        Ok(DateRange::Dates {
            first: 19_782,
            last: 19_783
        })
    ));
}
