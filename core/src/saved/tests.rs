//! Tests of saved segments and funnels: what is accepted and stored, each refusal's message,
//! segments expanded into queries, page patterns, and hostile input (never a panic).

use std::collections::BTreeMap;

use super::funnel::{PagePattern, Step, Target, Within, MAX_STEPS};
use super::*;
use crate::query::{self, Context, Filter};
use crate::zone::Zone;

fn checked(kind: Kind, body: &str) -> Checked {
    parse(kind, body.as_bytes()).unwrap_or_else(|e| panic!("{body}\n  refused: {}", e.message()))
}

fn refused(kind: Kind, body: &str) -> QueryError {
    match parse(kind, body.as_bytes()) {
        Ok(c) => panic!("{body}\n  was accepted: {c:?}"),
        Err(e) => e,
    }
}

fn segment(body: &str) -> Segment {
    let c = checked(Kind::Segment, body);
    Segment::stored(1, &c.name, &c.definition).expect("a checked segment reads back")
}

fn funnel(body: &str) -> Funnel {
    let c = checked(Kind::Funnel, body);
    Funnel::stored(1, &c.name, &c.definition).expect("a checked funnel reads back")
}

// ---- Segments ---------------------------------------------------------------------------------

#[test]
fn a_segment_is_stored_as_sent_and_reads_back() {
    let body = r#"{"name":"Mobile from Google","filters":[["is","visit:device",["Mobile"]],["is","visit:source",["Google"]]]}"#;
    let c = checked(Kind::Segment, body);
    assert_eq!(c.name, "Mobile from Google");
    assert_eq!(
        c.definition,
        r#"{"filters":[["is","visit:device",["Mobile"]],["is","visit:source",["Google"]]]}"#
    );
    let s = Segment::stored(4, &c.name, &c.definition).unwrap();
    assert_eq!(s.filters.len(), 2);
    let view = view(&Stored {
        id: 4,
        name: c.name.clone(),
        definition: c.definition.clone(),
        created_at: 1_700_000_000_000,
    });
    assert_eq!(
        view,
        serde_json::json!({"id": 4, "name": "Mobile from Google", "created_at": 1_700_000_000_000i64,
            "filters": [["is","visit:device",["Mobile"]],["is","visit:source",["Google"]]]})
    );
    // Goals at a segment's top level, behavioral filters, every operator: what a query may hold.
    segment(
        r#"{"name":"Buyers","filters":[["is","event:goal",["Purchase"]],["has_done",["contains","event:page",["/checkout"]]],
            ["or",[["matches","event:page",["^/p/\\d+$"]],["is_not","visit:country",["DE"]]]],
            ["contains","event:props:plan",["pro"],{"case_sensitive":false}]]}"#,
    );
}

#[test]
fn each_segment_refusal_names_what_is_wrong() {
    let nested = |depth: usize| {
        let mut f = r#"["is","visit:os",["Mac"]]"#.to_owned();
        for _ in 0..depth {
            f = format!(r#"["not",{f}]"#);
        }
        format!(r#"{{"name":"deep","filters":[{f}]}}"#)
    };
    let many = {
        let one = r#"["is","visit:os",["Mac"]]"#;
        let list = vec![one; query::MAX_FILTER_NODES + 1].join(",");
        format!(r#"{{"name":"many","filters":[["or",[{list}]]]}}"#)
    };
    let cases: Vec<(String, &str, &str)> = vec![
        ("[]".into(), "invalid_segment", "#: A segment is a JSON object."),
        (r#"{"name":"x","filters":[["is","visit:os",["Mac"]]],"type":"site"}"#.into(), "invalid_segment", "#/type: Unknown key. A segment takes name, filters."),
        (r#"{"filters":[["is","visit:os",["Mac"]]]}"#.into(), "invalid_segment", "#: Required property name was not present."),
        (r#"{"name":"","filters":[["is","visit:os",["Mac"]]]}"#.into(), "invalid_segment", r#"#/name: Invalid name "": 1 to 120 bytes, no control characters or spaces at the ends, no email address, card or phone number."#),
        (r#"{"name":"bob@example.com","filters":[["is","visit:os",["Mac"]]]}"#.into(), "invalid_segment", r#"#/name: Invalid name "bob@example.com": 1 to 120 bytes, no control characters or spaces at the ends, no email address, card or phone number."#),
        (r#"{"name":"x"}"#.into(), "invalid_segment", "#: Required property filters was not present."),
        (r#"{"name":"x","filters":[]}"#.into(), "invalid_filters", "#/filters: Expected a minimum of 1 items but got 0: a segment holds at least one filter."),
        (r#"{"name":"x","filters":[["is","visit:town",["x"]]]}"#.into(), "invalid_filters", r#"#/filters/0: Invalid filter ["is","visit:town",["x"]]: no dimension is called "visit:town"."#),
        (r#"{"name":"x","filters":[["is","segment",[1]]]}"#.into(), "invalid_filters", "#/filters/0: Invalid filters. A segment cannot contain a segment; put that segment's filters here instead."),
        (r#"{"name":"x","filters":[["is","visit:os",["Mac"]],["and",[["is","visit:os",["iOS"]],["not",["is","segment",[2,3]]]]]]}"#.into(), "invalid_filters", "#/filters/1: Invalid filters. A segment cannot contain a segment; put that segment's filters here instead."),
        (r#"{"name":"x","filters":[["is","event:props:plan",["a@b.example"]]]}"#.into(), "invalid_filters", "#/filters/0: Invalid filters. The filter on `event:props:plan` names a secret prop, or a clause looks like an email address, a card or a phone number: the collector never stores those, so it could match nothing, and a segment does not keep it."),
        (r#"{"name":"x","filters":[["is_not","event:props:password",["x"]]]}"#.into(), "invalid_filters", "#/filters/0: Invalid filters. The filter on `event:props:password` names a secret prop, or a clause looks like an email address, a card or a phone number: the collector never stores those, so it could match nothing, and a segment does not keep it."),
        (r#"{"name":"x","filters":[["or",[["is","event:goal",["A"]],["is","visit:os",["Mac"]]]]]}"#.into(), "invalid_filters", "Invalid filters. Dimension `event:goal` can only be filtered at the top level."),
        (r#"{"name":"x","filters":[["has_done",["is","visit:source",["Google"]]]]}"#.into(), "invalid_filters", "Invalid filters. Behavioral filters (has_done, has_not_done) can only be used with event dimension filters."),
        (nested(9), "invalid_filters", "#/filters/0/1/1/1/1/1/1/1/1: Invalid filters. Filters nest at most 8 levels deep."),
        (many, "invalid_filters", "#/filters/0/1/99: Invalid filters. At most 100 filters in a query."),
    ];
    for (body, code, message) in &cases {
        let e = refused(Kind::Segment, body);
        assert_eq!((e.code(), e.message()), (*code, *message), "for {body}");
    }
    segment(&nested(8));
    assert_eq!(refused(Kind::Segment, "{nope").code(), "invalid_json");
    let deep = format!(
        r#"{{"name":"x","filters":[{}1{}]}}"#,
        "[".repeat(500),
        "]".repeat(500)
    );
    assert_eq!(refused(Kind::Segment, &deep).code(), "invalid_json");
    let huge = format!(
        r#"{{"name":"x","filters":[["is","event:page",["{}"]]]}}"#,
        "a".repeat(MAX_BODY_BYTES)
    );
    assert_eq!(
        refused(Kind::Segment, &huge).message(),
        "The body is over 16384 bytes."
    );
}

#[test]
fn a_stored_segment_that_no_longer_holds_is_named() {
    let e = Segment::stored(7, "x", "[1").unwrap_err();
    assert_eq!(
        e.message(),
        "Segment 7 is stored unreadable; delete it and save it again."
    );
    let e = Segment::stored(7, "x", r#"{"filters":[["is","visit:town",["x"]]]}"#).unwrap_err();
    assert_eq!(
        e.message(),
        r#"Segment 7 as stored no longer holds: #/filters/0: Invalid filter ["is","visit:town",["x"]]: no dimension is called "visit:town"."#
    );
}

fn request(filters: &str) -> query::Request {
    let body = format!(
        r#"{{"site_id":"s","metrics":["visitors"],"date_range":"7d","filters":{filters}}}"#
    );
    query::parse(body.as_bytes()).unwrap_or_else(|e| panic!("{body}: {}", e.message()))
}

fn saved_segments() -> BTreeMap<u64, Segment> {
    BTreeMap::from([
        (
            1,
            segment(r#"{"name":"mobile","filters":[["is","visit:device",["Mobile"]]]}"#),
        ),
        (
            2,
            segment(
                r#"{"name":"google buyers","filters":[["is","visit:source",["Google"]],["is","event:goal",["Purchase"]]]}"#,
            ),
        ),
        (
            3,
            segment(r#"{"name":"staff","filters":[["is","event:internal",["true"]]]}"#),
        ),
    ])
}

fn filters(json: &str) -> Vec<Filter> {
    query::parse_filters(&serde_json::from_str(json).unwrap()).unwrap()
}

#[test]
fn segments_are_replaced_by_their_filters() {
    let saved = saved_segments();
    let expand =
        |f: &str| expand(request(f), &saved).unwrap_or_else(|e| panic!("{f}: {}", e.message()));
    // Alone at the top level: its filters join the top level (its goal stays allowed there).
    assert_eq!(
        expand(r#"[["is","visit:os",["Mac"]],["is","segment",[2]]]"#).filters,
        filters(
            r#"[["is","visit:os",["Mac"]],["is","visit:source",["Google"]],["is","event:goal",["Purchase"]]]"#
        )
    );
    assert_eq!(
        expand(r#"[["is","segment",[1,1]]]"#).filters,
        filters(r#"[["is","visit:device",["Mobile"]]]"#)
    );
    // Several ids: in any of them.
    assert_eq!(
        expand(r#"[["is","segment",[1,3]]]"#).filters,
        filters(r#"[["or",[["is","visit:device",["Mobile"]],["is","event:internal",["true"]]]]]"#)
    );
    // Deeper: in place of the leaf; a segment of several filters as their `and`.
    let mixed = expand(
        r#"[["not",["is","segment",[1]]],["or",[["is","visit:os",["Mac"]],["is","segment",[1]]]]]"#,
    );
    assert_eq!(
        mixed.filters,
        filters(
            r#"[["not",["is","visit:device",["Mobile"]]],["or",[["is","visit:os",["Mac"]],["is","visit:device",["Mobile"]]]]]"#
        )
    );
    let staff = expand(r#"[["not",["is","segment",[3]]]]"#);
    assert!(
        staff.internal(),
        "a segment's event:internal filter asks for staff traffic"
    );
    staff
        .resolve(&Context {
            zone: Zone::named("UTC"),
            now: 1_764_000_000_000,
            stats_start: None,
        })
        .unwrap();
    // No segment: the request is unchanged.
    let plain = request(r#"[["is","visit:os",["Mac"]]]"#);
    assert_eq!(expand(r#"[["is","visit:os",["Mac"]]]"#), plain);
}

#[test]
fn an_expanded_query_is_checked_again() {
    let saved = saved_segments();
    let message = |f: &str| expand(request(f), &saved).unwrap_err().message().to_owned();
    assert_eq!(
        message(r#"[["is","segment",[9]]]"#),
        "Invalid filters. This site has no segment 9."
    );
    assert_eq!(
        message(r#"[["is","segment",[1]],["or",[["is","segment",[9,8]],["is","segment",[1]]]]]"#),
        "Invalid filters. This site has no segments 9, 8."
    );
    // Segment 2 holds a goal: in an `or` of two segments the goal is no longer at the top level.
    assert_eq!(
        message(r#"[["is","segment",[1,2]]]"#),
        "With segments 1, 2 in place: Invalid filters. Dimension `event:goal` can only be filtered at the top level."
    );
    let body = r#"{"site_id":"s","metrics":["views_per_visit"],"date_range":"7d","filters":[["is","segment",[4]]]}"#;
    let pages = BTreeMap::from([(
        4,
        segment(r#"{"name":"blog","filters":[["contains","event:page",["/blog"]]]}"#),
    )]);
    assert_eq!(
        expand(query::parse(body.as_bytes()).unwrap(), &pages)
            .unwrap_err()
            .message(),
        "With segment 4 in place: Metric `views_per_visit` cannot be queried with a filter on `event:page`."
    );
}

#[test]
fn an_expanded_query_is_bounded() {
    let one = r#"["is","visit:os",["Mac"]]"#;
    let big = format!(
        r#"{{"name":"big","filters":[["or",[{}]]]}}"#,
        vec![one; 99].join(",")
    );
    let saved: BTreeMap<u64, Segment> = (1..=11).map(|id| (id, segment(&big))).collect();
    let ids = (1..=11)
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(",");
    let e = expand(request(&format!(r#"[["is","segment",[{ids}]]]"#)), &saved).unwrap_err();
    assert_eq!(
        e.message(),
        "Invalid filters. With segments 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 in place, the query holds 1101 filters; at most 1000."
    );
    // Nine: 9 × 100 nodes and the `or` that joins them.
    expand(request(r#"[["is","segment",[1,2,3,4,5,6,7,8,9]]]"#), &saved).unwrap();
}

// ---- Funnels ----------------------------------------------------------------------------------

#[test]
fn a_funnel_is_stored_canonical_and_reads_back() {
    let c = checked(
        Kind::Funnel,
        r#"{"name":"Checkout","steps":[{"page":"/products/*"},{"event":"add_to_cart","props":{"plan":"pro","color":"red"}},
            {"page":"/checkout/**"},{"event":"purchase"}]}"#,
    );
    assert_eq!(c.name, "Checkout");
    assert_eq!(
        c.definition,
        r#"{"steps":[{"page":"/products/*"},{"event":"add_to_cart","props":{"color":"red","plan":"pro"}},{"page":"/checkout/**"},{"event":"purchase"}],"within":"visit"}"#
    );
    let f = Funnel::stored(2, &c.name, &c.definition).unwrap();
    assert_eq!(f.within, Within::Visit);
    assert_eq!(
        f.steps[1],
        Step {
            target: Target::Event("add_to_cart".into()),
            props: vec![
                ("color".into(), "red".into()),
                ("plan".into(), "pro".into())
            ],
        }
    );
    let hours = funnel(
        r#"{"name":"Return","steps":[{"page":"/"},{"page":"/pricing"}],"within":{"hours":24}}"#,
    );
    assert_eq!(hours.within, Within::Hours(24));
    assert_eq!(
        hours.definition().to_string(),
        r#"{"steps":[{"page":"/"},{"page":"/pricing"}],"within":{"hours":24}}"#
    );
    let steps = [r#"{"page":"/"}"#; MAX_STEPS].join(",");
    funnel(&format!(r#"{{"name":"eight","steps":[{steps}]}}"#));
}

#[test]
fn each_funnel_refusal_names_what_is_wrong() {
    let two = r#"[{"page":"/"},{"event":"signup"}]"#;
    let with_steps = |steps: &str| format!(r#"{{"name":"f","steps":{steps}}}"#);
    let with_step = |step: &str| with_steps(&format!(r#"[{{"page":"/"}},{step}]"#));
    let nine = with_steps(&format!("[{}]", [r#"{"page":"/"}"#; 9].join(",")));
    let cases: Vec<(String, &str)> = vec![
        (r#""funnel""#.into(), "#: A funnel is a JSON object."),
        (format!(r#"{{"name":"f","steps":{two},"order":"visit"}}"#), "#/order: Unknown key. A funnel takes name, steps, within."),
        (format!(r#"{{"steps":{two}}}"#), "#: Required property name was not present."),
        (r#"{"name":"f"}"#.into(), "#: Required property steps was not present."),
        (with_steps(r#"[{"page":"/"}]"#), "#/steps: A funnel has 2 to 8 steps, not 1."),
        (nine, "#/steps: A funnel has 2 to 8 steps, not 9."),
        (with_steps(r#"{"page":"/"}"#), r#"#/steps: Type mismatch. Expected Array but got {"page":"/"}."#),
        (with_step(r#""/x""#), r#"#/steps/1: Invalid step "/x": a step is an object with `page` or `event`."#),
        (with_step(r#"{"goal":"x"}"#), "#/steps/1/goal: Unknown key. A step takes page, event, props."),
        (with_step(r#"{}"#), "#/steps/1: A step has `page` (a path pattern) or `event` (an event name)."),
        (with_step(r#"{"page":"/","event":"x"}"#), "#/steps/1: A step has `page` or `event`, not both."),
        (with_step(r#"{"page":"pricing"}"#), r#"#/steps/1/page: Invalid page pattern "pricing": a page pattern is a path: it starts with `/`."#),
        (with_step(r#"{"page":"/p?id=1"}"#), r#"#/steps/1/page: Invalid page pattern "/p?id=1": paths are stored without query string or fragment: no `?` or `#`."#),
        (with_step(r#"{"page":"/a/***"}"#), r#"#/steps/1/page: Invalid page pattern "/a/***": `*` matches within one path segment and `**` any depth; `***` is neither."#),
        (with_step(r#"{"page":"/u/bob@example.com"}"#), r#"#/steps/1/page: Invalid page pattern "/u/bob@example.com": it looks like it holds an email address, a card or a phone number, which the collector never stores in a path."#),
        (with_step(r#"{"page":3}"#), "#/steps/1/page: Invalid page pattern 3: a string."),
        (with_step(r#"{"event":"pageview"}"#), r#"#/steps/1/event: A pageview step is a page step: {"page": "/path"} (`/**` for any page)."#),
        (with_step(r#"{"event":" signup"}"#), r#"#/steps/1/event: Invalid event name " signup": 1 to 120 bytes, no control characters or spaces at the ends, no email address, card or phone number (the collector's rule for event names)."#),
        (with_step(r#"{"event":"signup","props":{}}"#), "#/steps/1/props: Invalid props {}: an object of 1 to 10 keys, each with a string value (leave props out for none)."),
        (with_step(r#"{"event":"signup","props":{"plan":3}}"#), r#"#/steps/1/props/plan: Invalid value 3: a string (a number or boolean prop matches its JSON text, "3" or "true")."#),
        (with_step(r#"{"event":"signup","props":{"email":"x"}}"#), "#/steps/1/props/email: The collector never stores this prop (its key names a secret or contact detail), so the step could match nothing."),
        (with_step(r#"{"event":"signup","props":{"ref":"bob@example.com"}}"#), "#/steps/1/props/ref: The collector never stores this prop (it looks like an email or card number), so the step could match nothing."),
        (with_step(&format!(r#"{{"event":"signup","props":{{"ref":"{}"}}}}"#, "x".repeat(501))), "#/steps/1/props/ref: The value is over 500 characters; props are stored cut to 500, so it could match nothing."),
    ];
    for (body, message) in &cases {
        let e = refused(Kind::Funnel, body);
        assert_eq!(
            (e.code(), e.message()),
            ("invalid_funnel", *message),
            "for {body}"
        );
    }
    for within in [
        r#""day""#,
        r#"{"hours":0}"#,
        r#"{"hours":25}"#,
        r#"{"hours":"3"}"#,
        r#"{"hours":2.5}"#,
        r#"{"days":1,"hours":3}"#,
        "null",
    ] {
        let e = refused(
            Kind::Funnel,
            &format!(r#"{{"name":"f","steps":{two},"within":{within}}}"#),
        );
        assert_eq!(
            e.message(),
            format!("#/within: Invalid within {within}: \"visit\" (in order within one visit), or {{\"hours\": N}} with N from 1 to 24 (a visitor is known for one UTC day: visitor keys are hashed with the day's salt).")
        );
    }
}

#[test]
fn page_patterns_match_as_documented() {
    let table: &[(&str, &[&str], &[&str])] = &[
        (
            "/pricing",
            &["/pricing"],
            &["/pricing/", "/Pricing", "/pricing/x", "/"],
        ),
        (
            "/blog/*",
            &["/blog/", "/blog/post", "/blog/ünïcode"],
            &["/blog", "/blog/a/b", "/blogs/x"],
        ),
        (
            "/blog/**",
            &["/blog/", "/blog/a", "/blog/a/b/c"],
            &["/blog", "/blo"],
        ),
        ("/blog*", &["/blog", "/blogs", "/blog-post"], &["/blog/x"]),
        (
            "/*/checkout",
            &["/de/checkout", "//checkout"],
            &["/checkout", "/de/en/checkout"],
        ),
        (
            "/**/checkout",
            &["/de/checkout", "/de/en/checkout", "//checkout"],
            &["/checkout", "/de/checkout/x"],
        ),
        ("/p/*/*", &["/p/1/2", "/p//"], &["/p/1", "/p/1/2/3"]),
        (
            "/a*b*c",
            &["/abc", "/axxbyyc", "/abbc"],
            &["/ab", "/a/bc", "/abcd"],
        ),
        ("/**", &["/", "/a/b/c"], &[""]),
        ("/*", &["/", "/a"], &["/a/b"]),
    ];
    for (pattern, yes, no) in table {
        let p = PagePattern::new(pattern).unwrap();
        for path in *yes {
            assert!(p.matches(path), "{pattern} should match {path}");
        }
        for path in *no {
            assert!(!p.matches(path), "{pattern} should not match {path}");
        }
    }
    assert!(PagePattern::new("/pricing").unwrap().is_exact());
    // A pattern of many wildcards against a long path that almost matches: no backtracking blow-up.
    let pattern = PagePattern::new(&format!("{}b", "/**a".repeat(200))).unwrap();
    let path = format!("/{}", "a/".repeat(1000));
    assert!(!pattern.matches(&path));
}

#[test]
fn steps_match_pageviews_events_and_props() {
    let f = funnel(
        r#"{"name":"f","steps":[{"page":"/p/*","props":{"plan":"pro"}},{"event":"signup","props":{"n":"3"}}]}"#,
    );
    let props = |pairs: &'static [(&'static str, &'static str)]| {
        move |key: &str| {
            pairs
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| v.to_string())
        }
    };
    assert!(f.steps[0].matches("pageview", "/p/1", props(&[("plan", "pro")])));
    assert!(!f.steps[0].matches("pageview", "/p/1", props(&[("plan", "free")])));
    assert!(!f.steps[0].matches("pageview", "/p/1", props(&[])));
    assert!(!f.steps[0].matches("click", "/p/1", props(&[("plan", "pro")])));
    assert!(f.steps[1].matches("signup", "/anywhere", props(&[("n", "3"), ("x", "y")])));
    assert!(!f.steps[1].matches("Signup", "/anywhere", props(&[("n", "3")])));
}

// ---- Ids and hostile input --------------------------------------------------------------------

#[test]
fn ids_in_urls_are_strict() {
    for (text, id) in [("1", 1), ("42", 42), ("9007199254740991", query::MAX_ID)] {
        assert_eq!(parse_id(Kind::Segment, text).unwrap(), id);
    }
    for text in [
        "",
        "0",
        "007",
        "+5",
        "-1",
        "1.0",
        "1e3",
        "abc",
        "9007199254740992",
        "18446744073709551616",
        " 1",
    ] {
        let e = parse_id(Kind::Funnel, text).unwrap_err();
        assert_eq!(e.code(), "invalid_funnel", "{text}");
    }
    assert_eq!(
        parse_id(Kind::Segment, "abc").unwrap_err().message(),
        r#"Invalid segment id "abc": an id is an integer from 1 to 9007199254740991."#
    );
}

#[test]
fn hostile_bodies_are_refused_without_a_panic() {
    // A seeded xorshift: a failure repeats.
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let words = [
        "name",
        "filters",
        "steps",
        "within",
        "page",
        "event",
        "props",
        "hours",
        "visit",
        "is",
        "not",
        "and",
        "or",
        "segment",
        "has_done",
        "event:page",
        "event:goal",
        "visit:os",
        "/",
        "/*",
        "/**",
        "***",
        "signup",
        "pageview",
        "",
        "a@b.co",
        "1",
        "-1",
        "null",
        "true",
        "[",
        "]",
        "{",
        "}",
        ",",
        ":",
        "\"",
    ];
    for _ in 0..20_000 {
        let n = (next() % 30) as usize;
        let body: String = (0..n)
            .map(|_| words[(next() % words.len() as u64) as usize])
            .collect::<Vec<_>>()
            .join(if next() % 2 == 0 { "\"" } else { "," });
        for kind in [Kind::Segment, Kind::Funnel] {
            if let Ok(c) = parse(kind, body.as_bytes()) {
                // Whatever is accepted reads back as stored.
                let back = match kind {
                    Kind::Segment => Segment::stored(1, &c.name, &c.definition).map(|_| ()),
                    Kind::Funnel => Funnel::stored(1, &c.name, &c.definition).map(|_| ()),
                };
                assert!(back.is_ok(), "{body}");
            }
        }
    }
}
