//! Erasing one person on their request (the admin token, or the site's tenant token): `DELETE /api/sites/{site}/visitors/{id}`,
//! `DELETE /api/sites/{site}/users/{id}`, or — keeping the id out of URLs and request logs —
//! `POST /api/sites/{site}/erasures` with `{"visitor_id"}` or `{"user_id"}`. The keys their events
//! were stored under come from the salts still kept (core's `erase::keys`). Their raw events are
//! read (a scan of the site's events, once), then their visits and the touched rollup days, and
//! core's `erase::plan` / `erase::write` count them out through the consumer's own write, which
//! its guarded transaction stores; a write a concurrent consumer came before is read again from
//! the visits (cheap), and from the events when the person had a new event meanwhile. The audit
//! log records it without the id. Must not: log or store the id.

use serde_json::{json, Value};
use sightline_core::audit::Action;
use sightline_core::ingest::erase::{self, Person};
use sightline_core::stats::format_date;
use sightline_core::wire;
use sightline_core::zone::{Zone, DAY_MS};
use worker::{Env, Request, Response};

use crate::edge;
use crate::error::AppError;
use crate::routes::{access, admin};
use crate::store::Store;

/// Tries at the guarded write (each reads the visits and days again), and reads of the events.
const WRITE_TRIES: u32 = 8;
const EVENT_READS: u32 = 3;

/// `DELETE /api/sites/{site}/{kind}/{id}`, `kind` `visitors` or `users`.
pub async fn by_path(
    req: &Request,
    env: &Env,
    site: &str,
    kind: &str,
    id: &str,
) -> Result<Response, AppError> {
    access::data_request(req, env, &Store::new(env)?, site).await?;
    let person = match kind {
        "users" => Person::User(id),
        _ => Person::Visitor(id),
    };
    erase_person(req, env, site, person).await
}

/// `POST /api/sites/{site}/erasures` with `{"visitor_id": …}` or `{"user_id": …}`.
pub async fn by_body(mut req: Request, env: &Env, site: &str) -> Result<Response, AppError> {
    access::data_request(&req, env, &Store::new(env)?, site).await?;
    let body = edge::admin_body(&mut req).await?;
    let fields: serde_json::Map<String, Value> = serde_json::from_slice(&body).map_err(|_| {
        invalid("the body is a JSON object: {\"visitor_id\": …} or {\"user_id\": …}")
    })?;
    let text = |key: &str| fields.get(key).and_then(Value::as_str);
    let person = match (fields.len(), text("visitor_id"), text("user_id")) {
        (1, Some(id), None) => Person::Visitor(id),
        (1, None, Some(id)) => Person::User(id),
        _ => {
            return Err(invalid(
                "the body holds exactly one of `visitor_id` and `user_id`, a string",
            ))
        }
    };
    erase_person(&req, env, site, person).await
}

fn invalid(message: &str) -> AppError {
    AppError::Invalid("invalid_parameter", message.to_owned())
}

async fn erase_person(
    req: &Request,
    env: &Env,
    site: &str,
    person: Person<'_>,
) -> Result<Response, AppError> {
    let (Person::Visitor(id) | Person::User(id)) = person;
    if !wire::is_valid_id(id) {
        return Err(invalid(
            "the id is 1–64 characters of A–Z a–z 0–9 _ - . :, as the SDK or identify() sent it",
        ));
    }
    let store = Store::new(env)?;
    if !store.site_exists(site).await? {
        return Err(AppError::Missing("site"));
    }
    let (salts, oldest) = store.kept_salts().await?;
    let keys = erase::keys(site, person, &salts);
    let zone = store.zone(site).await?;
    let user = match person {
        Person::User(id) => Some(id),
        Person::Visitor(_) => None,
    };
    let (events, visits, days) = write(&store, site, &keys, zone, user).await?;
    let who = match person {
        Person::User(_) => "user",
        Person::Visitor(_) => "visitor",
    };
    let detail = json!({"kind": who, "events": events, "visits": visits});
    admin::record(&store, req, Action::PersonErased, site, detail).await?;
    Ok(edge::json(
        200,
        &json!({
            "erased": {"events": events, "visits": visits, "days_adjusted": days},
            // Keys are salted per day and old salts deleted: events received before this day
            // cannot be linked to the id by anyone.
            "linkable_since": oldest.map(|d| format_date(d * DAY_MS)),
        }),
    ))
}

/// Reads and writes the erasure; answers (events, visits, days) erased.
async fn write(
    store: &Store,
    site: &str,
    keys: &[String],
    zone: Zone,
    user: Option<&str>,
) -> Result<(usize, usize, usize), AppError> {
    let mut last = None;
    for _ in 0..EVENT_READS {
        let events = store.person_events(site, keys).await?;
        for _ in 0..WRITE_TRIES {
            let visits = store.person_visits(site, keys).await?;
            let visit_count = visits.len();
            let Some(plan) = erase::plan(visits, events.clone(), zone) else {
                break; // an event of theirs came after the events were read: read them again
            };
            let stored = store.rollup_days(plan.deltas.0.keys()).await?;
            let w = erase::write(plan, stored, site, keys.to_vec(), &events, user);
            match store.commit(&w, &[], edge::now()).await {
                Ok(_) => return Ok((events.len(), visit_count, w.days.len())),
                // Most likely a concurrent consumer wrote one of the days first: read again.
                Err(e) => last = Some(e),
            }
        }
    }
    Err(last.unwrap_or_else(|| {
        AppError::Internal("the person kept sending events while being erased".into())
    }))
}
