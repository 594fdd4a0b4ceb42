//! `DELETE /api/sites/{site}/visitors/{id}` and `DELETE /api/sites/{site}/users/{id}`: one
//! person's data erased on their request (admin token). The keys their events were stored under
//! come from the salts still kept (core's `erase::keys`); their visits and raw events are read,
//! core's `erase::plan` and `consume::write` take their counts out of the rollup days, and the
//! consumer's guarded transaction writes it (read again when a concurrent consumer came first).
//! The audit log records it without the id. Must not: log or store the id.

use serde_json::json;
use sightline_core::audit::Action;
use sightline_core::ingest::consume;
use sightline_core::ingest::erase::{self, Person};
use sightline_core::stats::format_date;
use sightline_core::wire;
use sightline_core::zone::DAY_MS;
use worker::{Env, Request, Response};

use crate::edge;
use crate::error::AppError;
use crate::routes::{access, admin};
use crate::store::Store;

/// Tries at the guarded write before giving up (a concurrent consumer wrote the person first).
const TRIES: u32 = 3;

/// `DELETE /api/sites/{site}/{kind}/{id}`, `kind` `visitors` or `users`.
pub async fn handle(
    req: &Request,
    env: &Env,
    site: &str,
    kind: &str,
    id: &str,
) -> Result<Response, AppError> {
    access::admin(req, env)?;
    if !wire::is_valid_id(id) {
        return Err(AppError::Invalid(
            "invalid_parameter",
            "the id is 1–64 characters of A–Z a–z 0–9 _ - . :, as the SDK or identify() sent it"
                .into(),
        ));
    }
    let store = Store::new(env)?;
    if !store.site_exists(site).await? {
        return Err(AppError::Missing("site"));
    }
    let (person, who) = match kind {
        "users" => (Person::User(id), "user"),
        _ => (Person::Visitor(id), "visitor"),
    };
    let (salts, oldest) = store.kept_salts().await?;
    let keys = erase::keys(site, person, &salts);
    let zone = store.zone(site).await?;
    let mut tries = 0;
    let (events, visits, days) = loop {
        tries += 1;
        let (visits, events) = store.person(site, &keys).await?;
        let counts = (events.len(), visits.len());
        let plan = erase::plan(visits, events, zone);
        let stored = store.rollup_days(plan.deltas.0.keys()).await?;
        let mut write = consume::write(plan, stored);
        write.erase = keys.iter().map(|k| (site.to_owned(), k.clone())).collect();
        match store.commit(&write, &[], edge::now()).await {
            Ok(_) => break (counts.0, counts.1, write.days.len()),
            Err(_) if tries < TRIES => continue,
            Err(e) => return Err(e),
        }
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
