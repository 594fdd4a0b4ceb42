//! Stage: de-duplicate. Input: a queue batch's events and what storage already holds of them (event
//! ids, and every stored report of the batch's orders: [`OrderKey`]). Output: the events to store
//! and count, each once: a resent or redelivered event is dropped, and so is a second report of
//! one order. A browser's order id counts per visitor, so a stranger who guesses it cannot make
//! the real buyer's conversion a duplicate. A server's report (sent with the site's write token:
//! a payment webhook) and the buyer's beacon are one conversion, whichever came first: a beacon
//! after a server's report of its order is a duplicate; a server's report after a beacon is one
//! when the beacon is the same visitor's (the webhook named the user or the SDK's visitor) or
//! reported the same amount (value and currency: the buyer's beacon without ids — a stranger who
//! guessed the order id would have to guess its amount too, and cannot pre-empt the webhook
//! otherwise). Storage remembers orders for the raw events' retention and at least 48 hours
//! after they were received, whatever their own timestamps. Must not: do I/O.

use std::collections::BTreeSet;

use super::Event;
use crate::wire::PropValue;

/// An event's identity in storage.
pub type EventKey = (String, String);
/// One report of a conversion's order, stored or in the batch: (site, name, order id, owner,
/// amount) — the owner is the visitor key of a browser's report, [`SERVER`] for a server's; the
/// amount is [`amount`] of its value and currency (empty without a finite value).
pub type OrderKey = (String, String, String, String, String);

/// The owner of a server's conversion in an [`OrderKey`] (never a visitor key: those are hex).
pub const SERVER: &str = "server";

/// The storage key of an event.
pub fn event_key(e: &Event) -> EventKey {
    (e.site_id.clone(), e.event_id.clone())
}

/// The order key of a conversion that carries an order id.
pub fn order_key(e: &Event) -> Option<OrderKey> {
    let order = e.order_id.as_ref()?;
    let owner = if e.server { SERVER } else { &e.visitor_key };
    let value = match e.props.get("value") {
        Some(PropValue::Num(n)) => Some(*n),
        _ => None,
    };
    let currency = match e.props.get("currency") {
        Some(PropValue::Str(c)) => Some(c.as_str()),
        _ => None,
    };
    Some((
        e.site_id.clone(),
        e.name.clone(),
        order.clone(),
        owner.to_owned(),
        amount(value, currency),
    ))
}

/// An order's amount as reports are compared by it: the finite value to the cent and the
/// currency code (`40.00 EUR`; `40.00 ` without one), or empty without a value.
pub fn amount(value: Option<f64>, currency: Option<&str>) -> String {
    match value.filter(|v| v.is_finite()) {
        Some(v) => {
            let currency = currency
                .and_then(crate::commerce::currency)
                .unwrap_or_default();
            format!("{v:.2} {currency}")
        }
        None => String::new(),
    }
}

/// Two reports' amounts are the same: both have a value, equal to the cent, and their currencies
/// are equal where both name one.
fn same_amount(a: &str, b: &str) -> bool {
    let (Some((va, ca)), Some((vb, cb))) = (a.split_once(' '), b.split_once(' ')) else {
        return false;
    };
    va == vb && (ca == cb || ca.is_empty() || cb.is_empty())
}

/// True when `counted` (reports stored, or earlier in the batch) already counts the order `e`
/// reports (`key`, its [`order_key`]): a browser's report is counted by its own visitor's or a
/// server's; a server's by another server's, its visitor's, or one of the same amount.
fn counted(e: &Event, key: &OrderKey, counted: &BTreeSet<OrderKey>) -> bool {
    let (site, name, order, owner, amount) = key;
    let first = (
        site.clone(),
        name.clone(),
        order.clone(),
        String::new(),
        String::new(),
    );
    let mut same = counted
        .range(first..)
        .take_while(|k| (&k.0, &k.1, &k.2) == (site, name, order));
    if owner == SERVER {
        same.any(|k| k.3 == SERVER || k.3 == e.visitor_key || same_amount(&k.4, amount))
    } else {
        same.any(|k| k.3 == *owner || k.3 == SERVER)
    }
}

/// The events that are new: not stored, not an order already counted, and each only once in the
/// batch. Keeps the batch's order.
pub fn fresh(
    events: Vec<Event>,
    stored: &BTreeSet<EventKey>,
    orders: &BTreeSet<OrderKey>,
) -> Vec<Event> {
    let mut seen_events = BTreeSet::new();
    let mut seen_orders = BTreeSet::new();
    events
        .into_iter()
        .filter(|e| {
            let key = event_key(e);
            if stored.contains(&key) || !seen_events.insert(key) {
                return false;
            }
            match order_key(e) {
                Some(order) => {
                    !counted(e, &order, orders)
                        && !counted(e, &order, &seen_orders)
                        && seen_orders.insert(order)
                }
                None => true,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::sessionise::tests::ev;

    #[test]
    fn keeps_each_event_and_each_order_once() {
        let mut p1 = ev("p1", "s", 0, "purchase", "/t");
        p1.order_id = Some("o-1".into());
        let mut p2 = ev("p2", "s", 1, "purchase", "/t");
        p2.order_id = Some("o-1".into());
        let mut p3 = ev("p3", "s", 2, "purchase", "/t");
        p3.order_id = Some("o-2".into());
        let a = ev("a", "s", 0, "pageview", "/");
        let batch = vec![
            a.clone(),
            a.clone(),
            p1,
            p2,
            p3,
            ev("b", "s", 3, "pageview", "/"),
        ];
        let stored = BTreeSet::from([("s".to_owned(), "b".to_owned())]);
        let orders = BTreeSet::from([(
            "s".to_owned(),
            "purchase".to_owned(),
            "o-2".to_owned(),
            "v".to_owned(),
            String::new(),
        )]);
        let ids: Vec<String> = fresh(batch, &stored, &orders)
            .into_iter()
            .map(|e| e.event_id)
            .collect();
        assert_eq!(ids, ["a", "p1"]);
    }

    #[test]
    fn a_strangers_guess_of_an_order_id_does_not_pre_empt_the_buyer() {
        let mut stranger = ev("x", "s9", 0, "purchase", "/t");
        stranger.visitor_key = "stranger".into();
        stranger.order_id = Some("o-7".into());
        let mut buyer = ev("b", "s1", 1, "purchase", "/t");
        buyer.order_id = Some("o-7".into());
        let stored_order = order_key(&stranger).into_iter().collect();
        let kept = fresh(vec![buyer.clone()], &BTreeSet::new(), &stored_order);
        assert_eq!(kept, [buyer.clone()], "stored by a stranger first");
        let both = fresh(vec![stranger, buyer], &BTreeSet::new(), &BTreeSet::new());
        assert_eq!(both.len(), 2, "in one batch");
    }

    #[test]
    fn a_webhooks_order_and_the_buyers_beacon_count_once_whichever_comes_first() {
        let paid = |mut e: Event, value: f64| {
            e.order_id = Some("o-9".into());
            e.props.insert("value".into(), PropValue::Num(value));
            e.props
                .insert("currency".into(), PropValue::Str("eur".into()));
            e
        };
        let buyer = paid(ev("b", "s1", 0, "checkout_completed", "/thanks"), 40.0);
        let mut webhook = paid(ev("w", "s9", 1, "checkout_completed", "/thanks"), 40.0);
        webhook.visitor_key = "another".into();
        webhook.server = true;
        let stored = |e: &Event| order_key(e).into_iter().collect::<BTreeSet<_>>();
        let none = BTreeSet::new();
        let kept = |batch: Vec<Event>, orders: &BTreeSet<OrderKey>| -> Vec<String> {
            fresh(batch, &none, orders)
                .into_iter()
                .map(|e| e.event_id)
                .collect()
        };
        let nothing = BTreeSet::new();
        // Stored first, then the other side: one conversion.
        assert!(
            kept(vec![webhook.clone()], &stored(&buyer)).is_empty(),
            "same amount"
        );
        assert!(kept(vec![buyer.clone()], &stored(&webhook)).is_empty());
        // In one batch, either order.
        assert_eq!(kept(vec![webhook.clone(), buyer.clone()], &nothing), ["w"]);
        assert_eq!(kept(vec![buyer.clone(), webhook.clone()], &nothing), ["b"]);
        // A retried webhook.
        let mut resent = webhook.clone();
        resent.event_id = "w2".into();
        assert_eq!(kept(vec![webhook.clone(), resent], &nothing), ["w"]);
        // A webhook naming the buyer (their visitor key) matches their beacon whatever its amount.
        let mut named = paid(webhook.clone(), 41.0);
        named.visitor_key = buyer.visitor_key.clone();
        assert!(kept(vec![named], &stored(&buyer)).is_empty());
        // A stranger's guess of the order id, with another amount, pre-empts neither the webhook
        // nor (per visitor) the buyer; the buyer's beacon after the webhook is the webhook's.
        let mut stranger = paid(ev("x", "s7", 0, "checkout_completed", "/thanks"), 0.01);
        stranger.visitor_key = "stranger".into();
        assert_eq!(kept(vec![webhook.clone()], &stored(&stranger)), ["w"]);
        assert_eq!(kept(vec![buyer.clone()], &stored(&stranger)), ["b"]);
        assert_eq!(
            kept(vec![stranger, webhook.clone(), buyer.clone()], &nothing),
            ["x", "w"]
        );
        // Another order, or another conversion name, is another conversion.
        let mut other_order = webhook.clone();
        other_order.order_id = Some("o-10".into());
        assert_eq!(kept(vec![other_order], &stored(&buyer)), ["w"]);
        let mut other_name = webhook;
        other_name.name = "purchase".into();
        assert_eq!(kept(vec![other_name], &stored(&buyer)), ["w"]);
        assert_eq!(amount(Some(59.9), Some("eur")), "59.90 EUR");
        assert!(same_amount(
            &amount(Some(40.0), None),
            &amount(Some(40.001), Some("EUR"))
        ));
        assert!(!same_amount(
            &amount(Some(40.0), Some("USD")),
            &amount(Some(40.0), Some("EUR"))
        ));
        assert!(!same_amount(
            &amount(None, Some("EUR")),
            &amount(None, Some("EUR"))
        ));
        assert_eq!(amount(Some(f64::NAN), Some("EUR")), "");
    }
}
