//! Stage: de-duplicate. Input: a queue batch's events and what storage already holds of them (event
//! ids, and conversions' `(site, name, order_id, visitor)`). Output: the events to store and count,
//! each once: a resent or redelivered event is dropped, and so is a second report of one order by
//! the same visitor. An order id counts per visitor, so a stranger who guesses it cannot make the
//! real buyer's conversion a duplicate. Storage remembers both for the raw events' retention and at
//! least 48 hours after they were received, whatever their own timestamps. Must not: do I/O.

use std::collections::BTreeSet;

use super::Event;

/// An event's identity in storage.
pub type EventKey = (String, String);
/// A conversion's order identity in storage: (site, name, order id, visitor key).
pub type OrderKey = (String, String, String, String);

/// The storage key of an event.
pub fn event_key(e: &Event) -> EventKey {
    (e.site_id.clone(), e.event_id.clone())
}

/// The order key of a conversion that carries an order id.
pub fn order_key(e: &Event) -> Option<OrderKey> {
    let order = e.order_id.as_ref()?;
    Some((
        e.site_id.clone(),
        e.name.clone(),
        order.clone(),
        e.visitor_key.clone(),
    ))
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
                Some(order) => !orders.contains(&order) && seen_orders.insert(order),
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
}
