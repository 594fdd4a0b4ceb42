use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::*;
use crate::ingest::enrich::Enrichment;
use crate::ingest::Event;
use crate::wire::PropValue;

fn event(name: &str, props: &[(&str, PropValue)]) -> Event {
    Event {
        site_id: "shop".into(),
        event_id: format!("id-{name}"),
        ts: 1_764_000_000_123,
        received_at: 1_764_000_000_500,
        name: name.into(),
        hostname: "shop.example".into(),
        path: "/checkout".into(),
        enrichment: Enrichment {
            referrer_host: Some("google.com".into()),
            ..Enrichment::default()
        },
        visitor_key: "0123456789abcdef0123456789abcdef".into(),
        session_key: "fedcba9876543210fedcba9876543210".into(),
        props: props
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect(),
        order_id: None,
        lost: 0,
        server: false,
        user_id: None,
    }
}

fn s(text: &str) -> PropValue {
    PropValue::Str(text.into())
}

fn routes(ga4: Mode, umami: Mode, page_events: &[&str]) -> BTreeMap<String, Forwarding> {
    let route = |mode| Route {
        mode,
        page_events: page_events.iter().map(|n| (*n).to_owned()).collect(),
    };
    BTreeMap::from([(
        "shop".to_owned(),
        Forwarding {
            ga4: route(ga4),
            umami: route(umami),
        },
    )])
}

#[test]
fn names_follow_ga4_rules() {
    for (given, want) in [
        ("addToCart", "add_to_cart"),
        ("Newsletter Signup!", "newsletter_signup"),
        ("admin:order-refunded", "admin_order_refunded"),
        ("404_seen", "sl_404_seen"),
        ("error", "sl_error"),
        ("session_start", "sl_session_start"),
        ("google_thing", "sl_google_thing"),
        ("_hidden", "hidden"),
        ("Größe", "gr_e"),
        ("", "event"),
        ("a".repeat(60).as_str(), "a".repeat(40).as_str()),
    ] {
        let got = ga4::name(given);
        assert_eq!(got, want, "{given}");
        assert!(got.len() <= ga4::MAX_NAME);
        assert!(got.starts_with(|c: char| c.is_ascii_alphabetic()));
        assert!(got.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'));
    }
}

#[test]
fn orders_become_purchases() {
    let mut e = event(
        "checkout_completed",
        &[
            ("order_id", s("A-1")),
            ("value", PropValue::Num(40.5)),
            ("currency", s("eur")),
            ("item_name", s("Trail mug")),
            ("quantity", PropValue::Num(2.0)),
            ("coupon", s("SPRING")),
        ],
    );
    e.order_id = Some("A-1".into());
    let item = ga4::map(&e);
    assert_eq!(item.event.name, "purchase");
    let p = &item.event.params;
    assert_eq!(p["transaction_id"], json!("A-1"));
    assert_eq!(p["value"], json!(40.5));
    assert_eq!(p["currency"], json!("EUR"));
    assert_eq!(
        p["items"],
        json!([{"item_name": "Trail mug", "quantity": 2.0}])
    );
    assert_eq!(p["coupon"], json!("SPRING"));
    assert_eq!(p["page_location"], json!("https://shop.example/checkout"));
    assert_eq!(p["page_referrer"], json!("https://google.com/"));
    assert!(!p.contains_key("order_id") && !p.contains_key("item_name"));
    assert_eq!(item.client_id, e.visitor_key);
    assert_eq!(item.event.timestamp_micros, 1_764_000_000_123_000);
}

#[test]
fn recommended_events_and_staff() {
    let signup = ga4::map(&event("signup_completed", &[("method", s("google"))]));
    assert_eq!(signup.event.name, "sign_up");
    assert_eq!(signup.event.params["method"], json!("google"));
    assert_eq!(ga4::map(&event("login_completed", &[])).event.name, "login");
    assert_eq!(ga4::map(&event("pageview", &[])).event.name, "page_view");
    let search = ga4::map(&event("search", &[("term", s("trail mug"))]));
    assert_eq!(search.event.name, "search");
    assert_eq!(search.event.params["search_term"], json!("trail mug"));
    assert!(!search.event.params.contains_key("term"));
    let staff = ga4::map(&event(
        "admin:refund",
        &[("is_internal", PropValue::Bool(true))],
    ));
    assert_eq!(staff.event.name, "admin_refund");
    assert_eq!(staff.event.params["traffic_type"], json!("internal"));
    assert!(!staff.event.params.contains_key("is_internal"));
    let engaged = ga4::map(&event("engagement", &[("seconds", PropValue::Num(12.0))]));
    assert_eq!(engaged.event.params["engagement_time_msec"], json!(12000));
}

#[test]
fn params_are_capped_and_cut() {
    let long = "x".repeat(300);
    let props: Vec<(String, PropValue)> =
        (0..40).map(|i| (format!("prop{i:02}"), s(&long))).collect();
    let refs: Vec<(&str, PropValue)> = props.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    let item = ga4::map(&event("big", &refs));
    assert_eq!(item.event.params.len(), ga4::MAX_PARAMS);
    for (key, value) in &item.event.params {
        assert!(key.len() <= ga4::MAX_NAME);
        if let Value::String(v) = value {
            if key != "page_location" {
                assert!(v.chars().count() <= ga4::MAX_VALUE, "{key}");
            }
        }
    }
}

#[test]
fn nothing_personal_leaves() {
    let e = event(
        "contact",
        &[
            ("note", s("write to jo@example.com")),
            ("first_name", s("Jo")),
            ("user_email", s("x")),
            ("api_token", s("t")),
            ("phone_ref", s("+49 170 1234567")),
            ("plan", s("pro")),
        ],
    );
    for body in [
        serde_json::to_string(&ga4::map(&e)).unwrap(),
        serde_json::to_string(&umami::map(&e)).unwrap(),
    ] {
        for secret in [
            "jo@example.com",
            "Jo\"",
            "first_name",
            "user_email",
            "api_token",
            "170 1234567",
        ] {
            assert!(!body.contains(secret), "{secret} in {body}");
        }
        assert!(body.contains("pro"));
    }
}

#[test]
fn personal_keys_in_any_spelling_stay_home() {
    for key in [
        "name",
        "firstName",
        "first_name",
        "First Name",
        "lastName",
        "fullName",
        "customerName",
        "customer-name",
        "user.name",
        "ipAddress",
        "ip",
        "IP",
        "userAgent",
        "user.agent",
        "UA",
        "billing_address",
        "shippingAddress",
        "street",
        "birthDate",
        "username",
    ] {
        assert!(is_personal_key(key), "{key}");
    }
    for key in [
        "item_name",
        "page_name",
        "plan",
        "sku",
        "method",
        "value",
        "tip",
        "quantity",
        "category",
    ] {
        assert!(!is_personal_key(key), "{key}");
    }
}

#[test]
fn ga4_fields_are_found_however_spelled_and_value_needs_its_currency() {
    let mut order = event(
        "purchase",
        &[
            ("Value", PropValue::Num(12.0)),
            ("Currency", s("usd")),
            ("isInternal", PropValue::Bool(true)),
        ],
    );
    order.order_id = Some("A-2".into());
    let p = ga4::map(&order).event.params;
    assert_eq!(
        (p["value"].clone(), p["currency"].clone()),
        (json!(12.0), json!("USD"))
    );
    assert!(!p.contains_key("is_internal"));
    let no_currency = ga4::map(&event(
        "purchase",
        &[("value", PropValue::Num(5.0)), ("currency", s("dollars"))],
    ));
    assert!(
        !no_currency.event.params.contains_key("value"),
        "GA4 takes a value only with a currency"
    );
    assert!(!no_currency.event.params.contains_key("currency"));
}

#[test]
fn a_request_stays_under_ga4s_body_limit() {
    let wide = "😀".repeat(100);
    let props: Vec<(String, PropValue)> = (0..20).map(|i| (format!("p{i:02}"), s(&wide))).collect();
    let refs: Vec<(&str, PropValue)> = props.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    let items: Vec<_> = (0..25)
        .map(|i| (format!("e{i}"), ga4::map(&event("big", &refs))))
        .collect();
    let requests = ga4::requests(items);
    assert!(requests.len() > 1, "25 wide events are split");
    assert_eq!(requests.iter().map(|r| r.ids.len()).sum::<usize>(), 25);
    for r in &requests {
        assert!(
            r.body.to_string().len() < 130_000,
            "{}",
            r.body.to_string().len()
        );
    }
}

#[test]
fn requests_group_by_client_in_25s() {
    let mut items = Vec::new();
    for i in 0..30 {
        let mut e = event("pageview", &[]);
        e.visitor_key = if i % 3 == 0 { "a".into() } else { "b".into() };
        items.push((format!("e{i}"), ga4::map(&e)));
    }
    let requests = ga4::requests(items);
    let sizes: Vec<(String, usize)> = requests
        .iter()
        .map(|r| {
            (
                r.body["client_id"].as_str().unwrap().to_owned(),
                r.ids.len(),
            )
        })
        .collect();
    assert_eq!(sizes, [("a".to_owned(), 10), ("b".to_owned(), 20)]);
    assert_eq!(requests[0].body["events"].as_array().unwrap().len(), 10);
    assert_eq!(requests[0].body["consent"]["ad_user_data"], json!("DENIED"));
    let many: Vec<_> = (0..60)
        .map(|i| (format!("e{i}"), ga4::map(&event("pageview", &[]))))
        .collect();
    let sizes: Vec<usize> = ga4::requests(many).iter().map(|r| r.ids.len()).collect();
    assert_eq!(sizes, [25, 25, 10]);
    // A signed-in visitor's events carry the site's user id, in a request of their own.
    let mut signed_in = event("pageview", &[]);
    signed_in.user_id = Some("customer-42".into());
    let both = ga4::requests(vec![
        ("a".into(), ga4::map(&event("pageview", &[]))),
        ("b".into(), ga4::map(&signed_in)),
    ]);
    assert_eq!(both.len(), 2);
    assert_eq!(both[0].body.get("user_id"), None);
    assert_eq!(both[1].body["user_id"], json!("customer-42"));
    assert!(!serde_json::to_string(&umami::map(&signed_in))
        .unwrap()
        .contains("customer-42"));
}

#[test]
fn umami_payloads() {
    let page = umami::map(&event("pageview", &[]));
    assert_eq!(page.name, None);
    assert_eq!(page.url, "/checkout");
    assert_eq!(page.referrer.as_deref(), Some("https://google.com/"));
    assert_eq!(page.timestamp, 1_764_000_000);
    let click = umami::map(&event(
        "add_to_cart",
        &[("sku", s("MUG-1")), ("is_internal", PropValue::Bool(true))],
    ));
    assert_eq!(click.name.as_deref(), Some("add_to_cart"));
    assert_eq!(click.data["sku"], json!("MUG-1"));
    assert_eq!(click.data["is_internal"], json!(true));
    let items: Vec<_> = (0..45).map(|i| (format!("e{i}"), page.clone())).collect();
    let batches = umami::requests("0f8e6c1a-3b2d-4e5f-9a7b-1c2d3e4f5a6b", items);
    assert_eq!(
        batches.iter().map(|b| b.ids.len()).collect::<Vec<_>>(),
        [20, 20, 5]
    );
    let first = &batches[0].body[0];
    assert_eq!(first["type"], json!("event"));
    assert_eq!(
        first["payload"]["website"],
        json!("0f8e6c1a-3b2d-4e5f-9a7b-1c2d3e4f5a6b")
    );
    assert_eq!(first["payload"]["hostname"], json!("shop.example"));
}

#[test]
fn exactly_one_side() {
    let page = event("pageview", &[]);
    let order = event("checkout_completed", &[]);
    let mut webhook = event("checkout_completed", &[]);
    webhook.event_id = "hook".into();
    webhook.server = true;
    let batch = [page, order, webhook];
    let targets = |routes| {
        outbox(&batch, &routes)
            .into_iter()
            .map(|r| (r.target.name(), r.event_id))
            .collect::<Vec<_>>()
    };
    // The page sends its own pageviews to both: the collector forwards the rest.
    assert_eq!(
        targets(routes(Mode::All, Mode::All, &["pageview"])),
        [
            ("ga4", "id-checkout_completed".to_owned()),
            ("umami", "id-checkout_completed".to_owned()),
            ("ga4", "hook".to_owned()),
            ("umami", "hook".to_owned()),
        ]
    );
    // The page's tags send every browser event: only the server's go.
    assert_eq!(
        targets(routes(Mode::Server, Mode::Off, &[])),
        [("ga4", "hook".to_owned())]
    );
    assert!(targets(routes(Mode::Off, Mode::Off, &[])).is_empty());
    assert!(outbox(&batch, &BTreeMap::new()).is_empty());
    // Without its id, a target gets nothing.
    let mut no_ids = routes(Mode::All, Mode::All, &[]);
    for f in no_ids.values_mut() {
        *f = f.clone().with_ids(false, true);
    }
    assert!(targets(no_ids).iter().all(|(t, _)| *t == "umami"));
}

#[test]
fn nudges_and_outcomes() {
    let ids: Vec<String> = (0..150).map(|i| format!("e{i}")).collect();
    let rows = ids
        .iter()
        .map(|id| ("shop", Target::Ga4, id.as_str()))
        .chain([("shop", Target::Umami, "u1"), ("blog", Target::Ga4, "b1")]);
    let n = nudges(rows);
    let shape: Vec<(&str, &str, usize)> = n
        .iter()
        .map(|m| (m.site.as_str(), m.target.name(), m.ids.len()))
        .collect();
    assert_eq!(
        shape,
        [
            ("blog", "ga4", 1),
            ("shop", "ga4", 40),
            ("shop", "ga4", 40),
            ("shop", "ga4", 40),
            ("shop", "ga4", 30),
            ("shop", "umami", 1)
        ]
    );
    let text = serde_json::to_string(&n[0]).unwrap();
    assert_eq!(text, r#"{"site":"blog","target":"ga4","ids":["b1"]}"#);
    assert_eq!(site_secret_name("shop"), "GA_API_SECRET_shop");
    assert_eq!(
        site_secret_name("demo-shop.v2"),
        "GA_API_SECRET_demo_2Dshop_2Ev2"
    );
    let names: std::collections::BTreeSet<String> = [
        "demo-shop",
        "demo_shop",
        "demo.shop",
        "DEMO-SHOP",
        "demo_2Dshop",
    ]
    .iter()
    .map(|s| site_secret_name(s))
    .collect();
    assert_eq!(names.len(), 5, "no two site ids share a secret");
    assert_eq!(Delivery::of_status(Some(204)), Delivery::Delivered);
    assert_eq!(
        Delivery::of_status(Some(503)),
        Delivery::Retry("http_503".into())
    );
    assert_eq!(
        Delivery::of_status(Some(429)),
        Delivery::Retry("http_429".into())
    );
    assert_eq!(
        Delivery::of_status(None),
        Delivery::Retry("unreachable".into())
    );
    assert_eq!(
        Delivery::of_status(Some(400)),
        Delivery::Refused("http_400".into())
    );
}
