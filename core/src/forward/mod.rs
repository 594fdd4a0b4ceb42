//! Stage: forward — which stored events go on to Google Analytics 4 and Umami, and what each
//! carries. Input: the events a consumer batch stored, and each site's [`Forwarding`]. Output: the
//! outbox rows the batch writes in its own transaction ([`outbox`]), each one event for one
//! target, already mapped ([`ga4::map`], [`umami::map`]); at delivery, the requests those rows make
//! ([`ga4::requests`], [`umami::requests`]).
//!
//! Exactly one side: a site says, per target, whether the collector forwards every event but the
//! names its page sends itself ([`Mode::All`] with `page_events`), or only what a server sent
//! ([`Mode::Server`]: the page's own tag sends every browser event; a webhook's conversion that
//! no beacon reported is what the tag missed). An event the consumer found stored before (a resent
//! beacon, an order a beacon already reported) is not stored, so it is never forwarded twice.
//!
//! Must not: forward an IP, a user agent, an email, a phone or card number, a name or a secret
//! ([`private`] drops such props once more, whoever sent them), or do I/O.

pub mod ga4;
pub mod umami;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ingest::Event;
use crate::privacy::{contains_pii, is_sensitive_key};
use crate::wire::PropValue;

/// Where events go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    /// Google Analytics 4, through the Measurement Protocol.
    Ga4,
    /// Umami, through its `/api/batch` endpoint.
    Umami,
}

impl Target {
    /// Every target.
    pub const ALL: [Target; 2] = [Target::Ga4, Target::Umami];

    /// Its name in settings, storage and metrics.
    pub fn name(self) -> &'static str {
        match self {
            Target::Ga4 => "ga4",
            Target::Umami => "umami",
        }
    }

    /// The target named `name`.
    pub fn named(name: &str) -> Option<Target> {
        Target::ALL.into_iter().find(|t| t.name() == name)
    }
}

/// Which events the collector forwards to a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// None.
    #[default]
    Off,
    /// Every stored event but the names the page sends itself.
    All,
    /// Only events a server sent (`POST /api/sites/{site}/events`): the page sends the rest.
    Server,
}

impl Mode {
    /// Its name in settings.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Off => "off",
            Mode::All => "all",
            Mode::Server => "server",
        }
    }

    /// The mode named `name`.
    pub fn named(name: &str) -> Option<Mode> {
        [Mode::Off, Mode::All, Mode::Server]
            .into_iter()
            .find(|m| m.name() == name)
    }
}

/// A site's forwarding to one target.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Route {
    /// Which events.
    #[serde(default)]
    pub mode: Mode,
    /// Event names the page sends to the target itself (never forwarded in [`Mode::All`]).
    #[serde(default)]
    pub page_events: Vec<String>,
}

impl Route {
    /// True when the collector forwards `event` on this route.
    pub fn takes(&self, event: &Event) -> bool {
        match self.mode {
            Mode::Off => false,
            Mode::All => !self.page_events.contains(&event.name),
            Mode::Server => event.server,
        }
    }
}

/// A site's forwarding (the admin API's `forwarding` setting, stored as this JSON).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Forwarding {
    /// To GA4 (only with a measurement id).
    #[serde(default)]
    pub ga4: Route,
    /// To Umami (only with a website id).
    #[serde(default)]
    pub umami: Route,
}

impl Forwarding {
    /// The route to `target`, if the site forwards there at all.
    pub fn route(&self, target: Target) -> Option<&Route> {
        Some(match target {
            Target::Ga4 => &self.ga4,
            Target::Umami => &self.umami,
        })
        .filter(|r| r.mode != Mode::Off)
    }

    /// True when the site forwards anything.
    pub fn any(&self) -> bool {
        Target::ALL.into_iter().any(|t| self.route(t).is_some())
    }

    /// The routes of a site whose GA4 measurement id and Umami website id are as given: a
    /// target without its id gets nothing.
    pub fn with_ids(mut self, ga4: bool, umami: bool) -> Forwarding {
        if !ga4 {
            self.ga4.mode = Mode::Off;
        }
        if !umami {
            self.umami.mode = Mode::Off;
        }
        self
    }
}

/// One event waiting for one target: stored with the batch, deleted once delivered.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The site.
    pub site: String,
    /// The target.
    pub target: Target,
    /// The event's id.
    pub event_id: String,
    /// The mapped event as JSON ([`ga4::Item`] or [`umami::Item`]).
    pub body: String,
}

/// The outbox rows of a batch's stored events, per the sites' forwarding (`routes`; a site
/// absent there forwards nothing).
pub fn outbox(stored: &[Event], routes: &BTreeMap<String, Forwarding>) -> Vec<Row> {
    let mut rows = Vec::new();
    for event in stored {
        let Some(forwarding) = routes.get(&event.site_id) else {
            continue;
        };
        for target in Target::ALL {
            if !forwarding.route(target).is_some_and(|r| r.takes(event)) {
                continue;
            }
            let body = match target {
                Target::Ga4 => serde_json::to_string(&ga4::map(event)),
                Target::Umami => serde_json::to_string(&umami::map(event)),
            };
            if let Ok(body) = body {
                rows.push(Row {
                    site: event.site_id.clone(),
                    target,
                    event_id: event.event_id.clone(),
                    body,
                });
            }
        }
    }
    rows
}

/// A queue message asking the forwarder to deliver some waiting events of one site to one target
/// (the outbox holds the events: a message lost or repeated loses or repeats nothing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Nudge {
    /// The site.
    pub site: String,
    /// The target.
    pub target: Target,
    /// The waiting events' ids.
    pub ids: Vec<String>,
}

/// Most event ids a [`Nudge`] names: its delivery makes at most one GA4 request per visitor, and
/// an invocation has a limited number of subrequests (50 on Workers' free plan).
pub const NUDGE_IDS: usize = 40;

/// The nudges for outbox rows given as (site, target, event id): one per site and target, at most
/// [`NUDGE_IDS`] ids each.
pub fn nudges<'a>(rows: impl IntoIterator<Item = (&'a str, Target, &'a str)>) -> Vec<Nudge> {
    let mut grouped: BTreeMap<(&str, Target), Vec<String>> = BTreeMap::new();
    for (site, target, id) in rows {
        grouped
            .entry((site, target))
            .or_default()
            .push(id.to_owned());
    }
    let mut out = Vec::new();
    for ((site, target), ids) in grouped {
        for chunk in ids.chunks(NUDGE_IDS) {
            out.push(Nudge {
                site: site.to_owned(),
                target,
                ids: chunk.to_vec(),
            });
        }
    }
    out
}

/// What a delivery attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// The target took it (2xx).
    Delivered,
    /// Worth trying again later (no answer, 408, 429, 5xx): the reason.
    Retry(String),
    /// Never worth trying again as it is (any other status; or the site lacks what delivery
    /// needs): the reason. Kept dead for replay once fixed.
    Refused(String),
}

impl Delivery {
    /// The outcome of an HTTP answer with `status`, or of none (`None`: the request failed).
    pub fn of_status(status: Option<u16>) -> Delivery {
        match status {
            Some(200..=299) => Delivery::Delivered,
            Some(s @ (408 | 429 | 500..=599)) => Delivery::Retry(format!("http_{s}")),
            Some(s) => Delivery::Refused(format!("http_{s}")),
            None => Delivery::Retry("unreachable".into()),
        }
    }
}

/// The Worker secret holding site `site`'s own GA4 API secret, which takes precedence over
/// `GA_API_SECRET`: `GA_API_SECRET_` and the site id, its letters and digits as they are and
/// every other character as `_` and its two hex digits (site `shop`: `GA_API_SECRET_shop`; site
/// `demo-shop`: `GA_API_SECRET_demo_2Dshop`), so no two site ids share one.
pub fn site_secret_name(site: &str) -> String {
    let mut name = String::from("GA_API_SECRET_");
    for c in site.chars() {
        if c.is_ascii_alphanumeric() {
            name.push(c);
        } else {
            name.push_str(&format!("_{:02X}", u32::from(c)));
        }
    }
    name
}

/// Words that make a prop key personal wherever they stand in it (`billing_address`,
/// `userAgent`, `ip`): a person's address, or what only the collector may read.
const PERSONAL_WORDS: &[&str] = &[
    "address",
    "street",
    "ip",
    "agent",
    "ua",
    "surname",
    "username",
    "firstname",
    "lastname",
    "fullname",
    "birth",
    "birthday",
    "birthdate",
    "dob",
    "passport",
];

/// Words that, before `name`, make it a person's (`first_name`, `customerName`); `name` alone is
/// one too. (`item_name`, `page_name` are not.)
const PERSON_NAMES: &[&str] = &[
    "first",
    "last",
    "full",
    "given",
    "family",
    "middle",
    "maiden",
    "nick",
    "display",
    "real",
    "user",
    "customer",
    "client",
    "contact",
    "buyer",
    "billing",
    "shipping",
    "person",
    "account",
    "owner",
    "recipient",
    "sender",
];

/// True when a prop key names something personal: split into lower-case words at `_ - . `,
/// spaces and case changes (as GA4's names are made), any [`PERSONAL_WORDS`] word, or `name`
/// alone or after a [`PERSON_NAMES`] word.
pub fn is_personal_key(key: &str) -> bool {
    let snake = ga4::snake(key);
    let words: Vec<&str> = snake.split('_').filter(|w| !w.is_empty()).collect();
    words.iter().any(|w| PERSONAL_WORDS.contains(w))
        || words.as_slice() == ["name"]
        || words
            .windows(2)
            .any(|pair| pair[1] == "name" && PERSON_NAMES.contains(&pair[0]))
}

/// The props of `event` that may leave Sightline: none whose key is sensitive
/// ([`is_sensitive_key`]) or personal ([`is_personal_key`]), none whose text holds an email,
/// phone or card number (stored props passed the same policy at ingest; this holds it for every
/// forwarded payload, whoever sent the event).
pub fn private(event: &Event) -> impl Iterator<Item = (&str, &PropValue)> {
    event.props.iter().filter_map(|(key, value)| {
        let personal = is_sensitive_key(key) || is_personal_key(key);
        let pii = matches!(value, PropValue::Str(s) if contains_pii(s));
        (!personal && !pii).then_some((key.as_str(), value))
    })
}

/// The page an event was on, as an absolute URL (hosts and paths are stored scrubbed).
pub fn page_url(event: &Event) -> String {
    format!("https://{}{}", event.hostname, event.path)
}

/// Cuts `text` to at most `max` characters.
pub fn cut(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

#[cfg(test)]
mod tests;
