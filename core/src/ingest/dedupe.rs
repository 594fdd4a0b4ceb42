//! Stage: de-duplicate. Input: a queue batch's events and what storage already holds of them (event
//! ids, and the conversions stored with the batch's order ids: `(site, name, order_id, owner)`).
//! Output: the events to store and count, each once: a resent or redelivered event is dropped, and
//! so is a second report of one order. A browser's order id counts per visitor, so a stranger who
//! guesses it cannot make the real buyer's conversion a duplicate; a server's (sent with the
//! site's write token: a payment webhook) is trusted for the whole site, so the order counts once
//! whichever side reported it first, the webhook or the buyer's beacon. Storage remembers both for
//! the raw events' retention and at least 48 hours after they were received, whatever their own
//! timestamps. Must not: do I/O.

use std::collections::BTreeSet;

use super::Event;

/// An event's identity in storage.
pub type EventKey = (String, String);
/// A conversion's order identity in storage: (site, name, order id, owner) — the owner is the
/// visitor key of a browser's conversion, [`SERVER`] for a server's.
pub type OrderKey = (String, String, String, String);

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
    Some((
        e.site_id.clone(),
        e.name.clone(),
        order.clone(),
        owner.to_owned(),
    ))
}

/// True when `counted` (orders stored, or earlier in the batch) already holds the order of `key`
/// for its owner: a server's order is counted by anyone's report of it; a browser's by its own
/// visitor's or a server's.
fn counted(key: &OrderKey, counted: &BTreeSet<OrderKey>) -> bool {
    let (site, name, order, owner) = key;
    let first = (site.clone(), name.clone(), order.clone(), String::new());
    let mut same = counted
        .range(first..)
        .take_while(|k| (&k.0, &k.1, &k.2) == (site, name, order));
    if owner == SERVER {
        same.next().is_some()
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
                    !counted(&order, orders)
                        && !counted(&order, &seen_orders)
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
        let mut buyer = ev("b", "s1", 0, "checkout_completed", "/thanks");
        buyer.order_id = Some("o-9".into());
        let mut webhook = ev("w", "s9", 1, "checkout_completed", "/thanks");
        webhook.visitor_key = "another".into();
        webhook.order_id = Some("o-9".into());
        webhook.server = true;
        let stored = |e: &Event| order_key(e).into_iter().collect::<BTreeSet<_>>();
        let none = BTreeSet::new();
        assert!(fresh(vec![webhook.clone()], &none, &stored(&buyer)).is_empty());
        assert!(fresh(vec![buyer.clone()], &none, &stored(&webhook)).is_empty());
        let ids = |batch: Vec<Event>| -> Vec<String> {
            fresh(batch, &none, &BTreeSet::new())
                .into_iter()
                .map(|e| e.event_id)
                .collect()
        };
        assert_eq!(ids(vec![webhook.clone(), buyer.clone()]), ["w"]);
        assert_eq!(ids(vec![buyer.clone(), webhook.clone()]), ["b"]);
        let mut resent = webhook.clone();
        resent.event_id = "w2".into();
        assert_eq!(
            ids(vec![webhook.clone(), resent]),
            ["w"],
            "the webhook retried"
        );
        let mut other_order = webhook.clone();
        other_order.event_id = "w3".into();
        other_order.order_id = Some("o-10".into());
        assert!(!fresh(vec![other_order], &none, &stored(&buyer)).is_empty());
        let mut other_name = webhook;
        other_name.name = "purchase".into();
        assert!(!fresh(vec![other_name], &none, &stored(&buyer)).is_empty());
    }
}
