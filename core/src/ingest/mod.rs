//! The collector's ingest pipeline, one module per stage, in the order [`run`] states once:
//! drop bots ([`bots::is_bot`]) → validate (per event, [`crate::wire`]) → de-duplicate within the
//! beacon → anonymise → enrich ([`agent`], [`source`]) → identify → one [`Queued`] message
//! (the worker enqueues it; the consumer expands it into [`Event`] rows).
//!
//! Input: a parsed [`RawBeacon`], the gated [`Site`], and a [`Context`] holding everything from outside
//! (receive time, client IP, user agent, edge country, today's salt). Output: an [`Outcome`] with the
//! rows to store and a count per [`DropReason`]. Must not: do I/O, read the clock, or keep the raw IP
//! or user agent in anything it returns.

pub mod agent;
pub mod aggregate;
pub mod anonymise;
pub mod bots;
pub mod compact;
pub mod consume;
pub mod dedupe;
pub mod enrich;
pub mod erase;
pub mod gate;
pub mod identify;
pub mod parts;
pub mod queue;
pub mod sessionise;
pub mod source;

use std::collections::BTreeMap;

pub use gate::{GateError, Site};
pub use queue::Queued;

use crate::wire::{validate_event, DropReason, PropValue, RawBeacon, PAGEVIEW};

/// An event's custom properties, by key.
pub type Props = BTreeMap<String, PropValue>;

/// What the edge knows about one request, read once by the worker and passed in.
#[derive(Debug, Clone)]
pub struct Context<'a> {
    /// Receive time, ms since the epoch.
    pub received_at: i64,
    /// The client IP as the edge saw it. Anonymised before any other stage reads it.
    pub client_ip: Option<&'a str>,
    /// The full user-agent header. Read by enrich/identify only; never returned.
    pub user_agent: &'a str,
    /// Two-letter country code from the edge, if any.
    pub country: Option<&'a str>,
    /// Today's secret salt for keyed visitor hashes.
    pub salt: &'a [u8],
    /// How old a client timestamp may be: [`crate::wire::MAX_CLIENT_AGE_MS`] for browsers,
    /// [`crate::wire::MAX_IMPORT_AGE_MS`] for a sender holding the site's write token.
    pub max_client_age_ms: i64,
    /// A server-side sender at `POST /api/sites/{site}/events` (holding the write token): no
    /// browser context, so the user agent neither drops the beacon as a bot's nor gives a device,
    /// browser, OS or country, and a beacon without ids is a visitor of its own.
    pub server: bool,
}

/// One stored event: only the privacy-safe fields (no IP, no user agent, no query string, no email).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Event {
    /// Site id.
    pub site_id: String,
    /// Client-made unique id; the de-duplication key with `site_id`.
    pub event_id: String,
    /// Event time, ms since the epoch.
    pub ts: i64,
    /// Receive time, ms since the epoch.
    pub received_at: i64,
    /// Event name; `pageview` for pageviews.
    pub name: String,
    /// Page host, lower case.
    pub hostname: String,
    /// Page path, scrubbed, without query string.
    pub path: String,
    /// Enrichment: source, campaign and geo.
    pub enrichment: enrich::Enrichment,
    /// Keyed, salted hash identifying the visitor for one day.
    pub visitor_key: String,
    /// Keyed, salted hash identifying the visit.
    pub session_key: String,
    /// Custom properties, PII removed (typed: read by the stages without parsing, serialised
    /// once, into the queue message and into D1).
    #[serde(default)]
    pub props: Props,
    /// A conversion's `order_id` prop: one order counts once, however many events report it.
    #[serde(default)]
    pub order_id: Option<String>,
    /// Events the sender's browser dropped unsent, reported with its beacon and carried by the
    /// beacon's first event, so a redelivered or resent beacon counts them once (with that event).
    #[serde(default)]
    pub lost: u32,
    /// Sent by a server (`POST /api/sites/{site}/events`), not a browser: its order counts once
    /// per site, whoever reported it first (a payment webhook and the buyer's beacon).
    #[serde(default)]
    pub server: bool,
    /// The site's own id of a signed-in visitor (`identify()`), carried only to GA4's `user_id`
    /// when the site forwards there (core's `forward`); never stored with the event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
}

impl Event {
    /// Staff traffic: the SDK marked it `is_internal` (a staff surface, or an `admin:` /
    /// `instructor:` name). Counted apart from customers' (docs/METRICS.md).
    pub fn internal(&self) -> bool {
        matches!(self.props.get("is_internal"), Some(PropValue::Bool(true)))
    }

    /// True for pageviews.
    pub fn is_pageview(&self) -> bool {
        self.name == PAGEVIEW
    }
}

/// What one beacon gave: the queue message of the events to store, and the drops, by reason.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    /// The events to store (de-duplication by event id happens in storage).
    pub queued: Queued,
    /// Dropped events, by reason.
    pub dropped: BTreeMap<DropReason, u32>,
}

impl Outcome {
    /// Total number of dropped events.
    pub fn dropped_total(&self) -> u32 {
        self.dropped.values().sum()
    }

    /// Records `n` events dropped for `reason`.
    pub fn drop_events(&mut self, reason: DropReason, n: u32) {
        if n > 0 {
            *self.dropped.entry(reason).or_default() += n;
        }
    }
}

/// Runs every pure stage over one gated beacon.
pub fn run(beacon: &RawBeacon, site: &Site, ctx: &Context<'_>) -> Outcome {
    let anon_ip = anonymise::ip(ctx.client_ip);
    let ids = identify::Ids {
        user: beacon.user_id.as_deref(),
        visitor: beacon.visitor_id.as_deref(),
        session: beacon.session_id.as_deref(),
    };
    let mut outcome = Outcome::default();
    // A server's user agent says nothing of a visitor (a payment provider's webhook client is no
    // bot to drop, and no browser to count).
    if !ctx.server && bots::is_bot(ctx.user_agent) {
        outcome.drop_events(DropReason::Bot, beacon.events.len() as u32);
        // No events, but a message the consumer reads (the drops may ride on it).
        outcome.queued = Queued {
            v: queue::QUEUE_VERSION,
            site: site.id.clone(),
            received_at: ctx.received_at,
            ..Queued::default()
        };
        return outcome;
    }
    let identity = if ctx.server && ids.user.is_none() && ids.visitor.is_none() {
        // No ids: the request is a visitor of its own, named by its first event id (a resent
        // request is the same visitor), never the server's address and agent.
        let anchor = beacon.events.iter().find_map(|e| e.id.as_str());
        identify::Identity::server(ctx.salt, &beacon.site, anchor.unwrap_or_default())
    } else {
        identify::Identity::new(ctx.salt, &beacon.site, ids, &anon_ip, ctx.user_agent)
    };
    let sender = if ctx.server {
        enrich::Enrichment::default()
    } else {
        enrich::Sender::new(ctx.user_agent, ctx.country).tags()
    };
    let mut queued = Queued {
        v: queue::QUEUE_VERSION,
        site: site.id.clone(),
        received_at: ctx.received_at,
        visitor_key: identity.visitor_key,
        session_key: identity.session_key,
        sender,
        server: ctx.server,
        // Only for GA4's `user_id`, and only when the site forwards these events there.
        user_id: beacon
            .user_id
            .clone()
            .filter(|_| site.forwards_user_id && (ctx.server || !site.ga4_server_only)),
        dropped: Vec::new(),
        pages: Vec::new(),
        events: Vec::with_capacity(beacon.events.len()),
    };
    let mut seen = std::collections::BTreeSet::new();
    // (page URL, referrer) → index in `queued.pages`: a beacon's events mostly share a few pages
    // (one per pageview), so each is scrubbed and classified once.
    let mut pages: Vec<(String, Option<String>)> = Vec::new();
    for raw in &beacon.events {
        let valid = match validate_event(raw, ctx.received_at, ctx.max_client_age_ms) {
            Ok(valid) => valid,
            Err(reason) => {
                outcome.drop_events(reason, 1);
                continue;
            }
        };
        // The same id twice in one beacon: the second is a duplicate (across beacons, storage
        // de-duplicates by the same key).
        if !seen.insert(valid.id.clone()) {
            outcome.drop_events(DropReason::Duplicate, 1);
            continue;
        }
        let referrer = valid.referrer.as_deref();
        let known = pages
            .iter()
            .position(|(u, r)| *u == valid.url && r.as_deref() == referrer);
        let page = match known {
            Some(index) => index,
            None => {
                let Some(location) = enrich::page(&valid.url) else {
                    outcome.drop_events(DropReason::InvalidUrl, 1);
                    continue;
                };
                queued.pages.push(queue::Page {
                    host: location.hostname,
                    path: location.path,
                    tags: enrich::page_tags(&valid.url, referrer),
                });
                pages.push((valid.url.clone(), valid.referrer.clone()));
                pages.len() - 1
            }
        };
        let order_id = order_id(&valid.name, &valid.props);
        let lost = if queued.events.is_empty() {
            beacon.lost()
        } else {
            0
        };
        queued.events.push(queue::Item {
            lost,
            // Already through the privacy policy (`validate_event`).
            props: valid.props.into_iter().collect(),
            id: valid.id,
            ts: valid.ts,
            name: valid.name,
            page,
            order_id,
        });
    }
    outcome.queued = queued;
    outcome
}

/// The `order_id` of a conversion event, when it has one. Its props passed the privacy policy
/// (`wire::validate_event`), so an order id shaped like an email, card or phone number is not
/// among them (the order then counts by its event id only).
fn order_id(name: &str, props: &[(String, PropValue)]) -> Option<String> {
    if !crate::commerce::CONVERSIONS.contains(&name) {
        return None;
    }
    props.iter().find_map(|(key, value)| match value {
        PropValue::Str(s) if key == "order_id" && !s.trim().is_empty() => Some(s.trim().to_owned()),
        PropValue::Num(n) if key == "order_id" && n.fract() == 0.0 && *n >= 0.0 => {
            Some(crate::encode::decimal(*n as u64))
        }
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::parse_beacon;

    const NOW: i64 = 1_764_000_000_000;

    fn ctx() -> Context<'static> {
        Context {
            received_at: NOW,
            client_ip: Some("203.0.113.77"),
            user_agent: "Mozilla/5.0 (X11; Linux x86_64) Chrome/140.0 Safari/537.36",
            country: Some("DE"),
            salt: b"salt-of-the-day",
            max_client_age_ms: crate::wire::MAX_CLIENT_AGE_MS,
            server: false,
        }
    }

    /// The rows the consumer stores, through the queue message's text as in production.
    fn rows(out: &Outcome) -> Vec<Event> {
        Queued::decode(&out.queued.encode()).expect("a message the consumer reads")
    }

    fn site() -> Site {
        Site {
            id: "demo".into(),
            domains: vec!["localhost".into()],
            active: true,
            write_token_hash: None,
            forwards_user_id: false,
            ga4_server_only: false,
        }
    }

    #[test]
    fn a_user_id_rides_along_only_to_a_site_forwarding_to_ga4() {
        let body = br#"{"v":1,"site":"demo","user_id":"customer-42","events":[
            {"id":"a","ts":1763999999000,"name":"pageview","url":"http://localhost/"}]}"#;
        let beacon = parse_beacon(body).unwrap();
        let quiet = rows(&run(&beacon, &site(), &ctx()));
        assert_eq!(quiet[0].user_id, None);
        let forwarding = Site {
            forwards_user_id: true,
            ..site()
        };
        let carried = rows(&run(&beacon, &forwarding, &ctx()));
        assert_eq!(carried[0].user_id.as_deref(), Some("customer-42"));
        let server_only = Site {
            forwards_user_id: true,
            ga4_server_only: true,
            ..site()
        };
        let browser = rows(&run(&beacon, &server_only, &ctx()));
        assert_eq!(
            browser[0].user_id, None,
            "a browser's events are not forwarded then"
        );
        let webhook = Context {
            server: true,
            ..ctx()
        };
        let server = rows(&run(&beacon, &server_only, &webhook));
        assert_eq!(server[0].user_id.as_deref(), Some("customer-42"));
        assert!(!carried[0].visitor_key.contains("customer"));
    }

    #[test]
    fn good_events_survive_bad_neighbours() {
        let body = br#"{"v":1,"site":"demo","visitor_id":"v1","session_id":"s1","events":[
            {"id":"a","ts":1763999999000,"name":"pageview","url":"http://localhost/p?email=x@y.com&utm_source=nl"},
            {"id":"b","ts":"bad","name":"pageview","url":"http://localhost/"},
            {"id":"c","ts":1763999999500,"name":"cart_add","url":"http://localhost/p","props":{"who":"x@y.com","n":2}},
            {"id":"c","ts":1763999999500,"name":"cart_add","url":"http://localhost/p"}
        ]}"#;
        let out = run(&parse_beacon(body).unwrap(), &site(), &ctx());
        let events = rows(&out);
        assert_eq!(events.len(), 2);
        assert_eq!(out.dropped_total(), 2);
        assert_eq!(out.dropped[&DropReason::InvalidTimestamp], 1);
        assert_eq!(out.dropped[&DropReason::Duplicate], 1);
        let pv = &events[0];
        assert!(pv.is_pageview());
        assert_eq!(
            (pv.hostname.as_str(), pv.path.as_str()),
            ("localhost", "/p")
        );
        assert_eq!(pv.enrichment.utm_source.as_deref(), Some("nl"));
        assert_eq!(pv.enrichment.country.as_deref(), Some("DE"));
        assert_eq!(
            events[1].props,
            Props::from([("n".into(), PropValue::Num(2.0))])
        );
        assert_eq!(pv.session_key, events[1].session_key);
        assert_eq!((pv.site_id.as_str(), pv.received_at), ("demo", NOW));
        assert_eq!(
            (
                events[1].enrichment.browser.as_deref(),
                events[1].enrichment.channel.as_deref()
            ),
            (Some("Chrome"), Some("Direct"))
        );
        assert_eq!(
            out.queued.pages.len(),
            2,
            "one entry per distinct page and referrer"
        );
    }

    #[test]
    fn lost_events_ride_on_the_first_accepted_event_and_bad_counts_are_ignored() {
        let lost_of = |lost: &str| {
            let body = format!(
                r#"{{"v":1,"site":"demo","lost":{lost},"events":[
                {{"id":"bad","ts":"x","name":"pageview","url":"http://localhost/"}},
                {{"id":"a","ts":{NOW},"name":"pageview","url":"http://localhost/"}},
                {{"id":"b","ts":{NOW},"name":"cart_add","url":"http://localhost/"}}]}}"#
            );
            let out = run(&parse_beacon(body.as_bytes()).unwrap(), &site(), &ctx());
            rows(&out).iter().map(|e| e.lost).collect::<Vec<_>>()
        };
        assert_eq!(
            lost_of("12"),
            [12, 0],
            "counted once, with the first stored event"
        );
        for ignored in ["0", "-3", "1.5", "\"12\"", "null", "[1]"] {
            assert_eq!(lost_of(ignored), [0, 0], "{ignored}");
        }
        assert_eq!(lost_of("99999999999"), [crate::wire::MAX_LOST, 0]);
    }

    #[test]
    fn an_order_id_shaped_like_an_email_is_not_kept() {
        let body = br#"{"v":1,"site":"demo","events":[{"id":"a","ts":1,"name":"purchase","url":"http://localhost/","props":{"order_id":"jane@x.org"}},{"id":"b","ts":1,"name":"purchase","url":"http://localhost/","props":{"order_id":"o-17"}}]}"#;
        let out = run(&parse_beacon(body).unwrap(), &site(), &ctx());
        let orders: Vec<_> = rows(&out).into_iter().map(|e| e.order_id).collect();
        assert_eq!(orders, [None, Some("o-17".to_owned())]);
    }

    #[test]
    fn bots_are_dropped_and_counted() {
        let body = br#"{"v":1,"site":"demo","events":[{"id":"a","ts":1,"name":"pageview","url":"http://localhost/"},{"id":"b","ts":1,"name":"pageview","url":"http://localhost/"}]}"#;
        let ctx = Context {
            user_agent: "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            ..ctx()
        };
        let out = run(&parse_beacon(body).unwrap(), &site(), &ctx);
        assert!(out.queued.is_empty());
        assert_eq!(out.dropped[&DropReason::Bot], 2);
        assert_eq!(
            Queued::read(&out.queued.encode()).map(|(events, _)| events),
            Some(vec![]),
            "an empty message the consumer reads, for the drops to ride on"
        );
    }

    #[test]
    fn a_server_sender_is_no_browser() {
        let webhook = |ids: &str, first: &str| {
            let body = format!(
                r#"{{"v":1,"site":"demo",{ids}"events":[{{"id":"{first}","ts":{NOW},"name":"checkout_completed","url":"http://localhost/thanks","props":{{"order_id":"o-1"}}}}]}}"#
            );
            let ctx = Context {
                user_agent: "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
                client_ip: Some("198.51.100.7"),
                server: true,
                ..ctx()
            };
            let out = run(&parse_beacon(body.as_bytes()).unwrap(), &site(), &ctx);
            rows(&out).remove(0)
        };
        let e = webhook("", "w1");
        assert!(e.server, "marked server-sent");
        assert_eq!(e.order_id.as_deref(), Some("o-1"));
        let sender = &e.enrichment;
        assert_eq!(
            (&sender.country, &sender.browser, &sender.os, &sender.device),
            (&None, &None, &None, &None),
            "the server's agent and address describe no visitor"
        );
        assert_ne!(
            e.visitor_key,
            webhook("", "w2").visitor_key,
            "without ids each request is a visitor of its own, not one per server"
        );
        assert_eq!(
            e.visitor_key,
            webhook("", "w1").visitor_key,
            "a resend is the same"
        );
        let browser = |ids: &str| {
            let body = format!(
                r#"{{"v":1,"site":"demo",{ids}"events":[{{"id":"b","ts":{NOW},"name":"pageview","url":"http://localhost/"}}]}}"#
            );
            rows(&run(
                &parse_beacon(body.as_bytes()).unwrap(),
                &site(),
                &ctx(),
            ))
            .remove(0)
        };
        for ids in [r#""user_id":"u-7","#, r#""visitor_id":"v-7","#] {
            let (server, page) = (webhook(ids, "w1"), browser(ids));
            assert_eq!(
                server.visitor_key, page.visitor_key,
                "{ids}: the page's visitor"
            );
            assert!(!page.server);
        }
    }

    #[test]
    fn nothing_returned_holds_the_ip_or_user_agent() {
        let body = br#"{"v":1,"site":"demo","events":[{"id":"a","ts":1,"name":"pageview","url":"http://localhost/"}]}"#;
        let out = run(&parse_beacon(body).unwrap(), &site(), &ctx());
        let dump = format!("{out:?}");
        assert!(!dump.contains("203.0.113"), "{dump}");
        assert!(!dump.contains("Chrome/140"), "{dump}");
        assert_eq!(
            rows(&out)[0].ts,
            NOW,
            "a timestamp outside the window becomes the receive time"
        );
    }
}
