//! Seeds `npm run bench:reports`' busy site: a year of synthetic traffic for one site (`busy`,
//! UTC), made deterministically from fixed seeds, run through the collector's own pure path —
//! beacon JSON → `wire::parse_beacon` → `ingest::run` → queue message (`encode_parts`) →
//! `Queued::decode` → consumer writes of whole messages, at most 1000 events each (the consumer's
//! `EVENTS_PER_WRITE`) → `consume::InMemory` (core's `plan` and `write`, with the reads the
//! worker's store makes) — and keeps what the housekeeping purge would keep: the events and visits
//! of today and the 30 whole days before it (the site's retention; the purge keeps a UTC day
//! more, `core::retention`) and a rollup for every day. Written as SQL files
//! (site, rollups, visits, events) that `wrangler d1 execute DB --local --file` or, faster,
//! `bench/load-d1.mjs` loads: statements under D1's 100 000-byte limit, each ending a line.
//!
//! The traffic: UTC days ending with the day of `NOW_MS` (cut at that time, so nothing lies in the
//! future), each with `EVENTS_PER_DAY` events sent by people (100 000 by default; crawlers and
//! resent beacons come on top and are dropped), a daily curve, ~2 200 pages with Zipf popularity,
//! search, social, referral (2 000 hosts), e-mail, paid and affiliate arrivals with UTM tags, 40
//! countries, a dozen user agents on three device classes, web vitals, engagement, carts,
//! purchases in three currencies (some reported twice), sign-ups, errors and 404s; a fifth of the
//! visitors in strict mode, three in ten returning.
//!
//! Days are independent, so they run on every core: visitor keys change with the daily salt (a
//! visit never spans two days' keys), and a UTC site counts events on their own day. Unlike real
//! traffic, a visit still going at midnight ends there, and consumer writes are larger than the
//! worker's queue batches (100 messages) make them: rows and rollups count the same, versions are
//! lower, and which values reach a dimension's 500-value cap first can differ.
//!
//! This example holds INSERT statements because it loads a benchmark's database and nothing else
//! (SQL otherwise lives only in `migrations/` and the worker's store); its column lists follow
//! `migrations/` and the store's `EVENTS_SQL` / `VISITS_UPSERT_SQL` / `DAY_UPSERT_SQL`.
//! Run: `cargo run --release -p sightline-core --features server --example busy_site -- OUT_DIR
//! NOW_MS [DAYS] [EVENTS_PER_DAY]` (365 days and 100 000 events by default).

use std::cell::Cell;
use std::fs::{self, File};
use std::io::{BufWriter, Write as _};
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::{json, Value};
use sightline_core::ingest::consume::{json_arrays_by, InMemory};
use sightline_core::ingest::sessionise::{Visit, VisitKey};
use sightline_core::ingest::{self, queue, Context, Event, Queued, Site};
use sightline_core::token;
use sightline_core::wire::{parse_beacon, MAX_CLIENT_AGE_MS};

const SITE: &str = "busy";
const HOST: &str = "shop.busy.example";
/// The read token the benchmark sends (only its SHA-256 is stored, as for every site).
const READ_TOKEN: &str = "bench-read-busy";
const RETENTION_DAYS: i64 = 30;
const DAY_MS: i64 = 24 * 3600 * 1000;
const HOUR_MS: i64 = 3600 * 1000;
/// Most events in one consumer write (the consumer's `EVENTS_PER_WRITE`).
const EVENTS_PER_WRITE: usize = 1000;
/// Longest statement D1 runs (100 000 bytes), less a margin; and about the most SQL in one file.
const MAX_STATEMENT_BYTES: usize = 98_000;
const FILE_BYTES: usize = 64 << 20;

/// splitmix64: a small deterministic generator (the data must be the same on every run).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
    /// A whole number in `lo..=hi`.
    fn int(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.unit() * (hi - lo + 1) as f64) as i64
    }
    fn pick<'a, T>(&mut self, list: &'a [T]) -> &'a T {
        &list[(self.unit() * list.len() as f64) as usize % list.len()]
    }
}

/// Values with weights, picked in proportion.
struct Table<T> {
    items: Vec<T>,
    cumulative: Vec<f64>,
}

impl<T> Table<T> {
    fn new(weighted: impl IntoIterator<Item = (T, f64)>) -> Self {
        let (mut items, mut cumulative, mut total) = (Vec::new(), Vec::new(), 0.0);
        for (item, weight) in weighted {
            total += weight;
            items.push(item);
            cumulative.push(total);
        }
        Table { items, cumulative }
    }
    /// Weights 1/rank^s: a few values take most of the traffic, a long tail the rest.
    fn zipf(items: Vec<T>, s: f64) -> Self {
        Table::new(
            items
                .into_iter()
                .enumerate()
                .map(|(i, item)| (item, 1.0 / ((i + 1) as f64).powf(s))),
        )
    }
    fn pick(&self, rng: &mut Rng) -> &T {
        let total = self.cumulative.last().copied().unwrap_or(0.0);
        let r = rng.unit() * total;
        let at = self.cumulative.partition_point(|&c| c <= r);
        &self.items[at.min(self.items.len() - 1)]
    }
}

const AGENTS: &[(&str, f64)] = &[
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/139.0.0.0 Safari/537.36", 24.0),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.5 Mobile/15E148 Safari/604.1", 20.0),
    ("Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/139.0.0.0 Mobile Safari/537.36", 16.0),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.5 Safari/605.1.15", 8.0),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/139.0.0.0 Safari/537.36", 8.0),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/139.0.0.0 Safari/537.36 Edg/139.0.0.0", 6.0),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:141.0) Gecko/20100101 Firefox/141.0", 4.0),
    ("Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/28.0 Chrome/130.0.0.0 Mobile Safari/537.36", 4.0),
    ("Mozilla/5.0 (iPad; CPU OS 18_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.5 Mobile/15E148 Safari/604.1", 3.0),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/139.0.7258.76 Mobile/15E148 Safari/604.1", 3.0),
    ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/139.0.0.0 Safari/537.36", 2.0),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/139.0.0.0 Safari/537.36 OPR/121.0.0.0", 1.0),
    ("Mozilla/5.0 (Android 14; Mobile; rv:141.0) Gecko/141.0 Firefox/141.0", 1.0),
];

const BOTS: &[&str] = &[
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
    "curl/8.5.0",
];

const COUNTRIES: &[(&str, f64)] = &[
    ("US", 22.0),
    ("DE", 12.0),
    ("GB", 8.0),
    ("FR", 6.0),
    ("IN", 3.0),
    ("NL", 4.0),
    ("CA", 4.0),
    ("ES", 3.0),
    ("IT", 3.0),
    ("PL", 2.5),
    ("SE", 2.0),
    ("AU", 2.0),
    ("AT", 2.0),
    ("CH", 2.0),
    ("BR", 2.0),
    ("BE", 1.5),
    ("JP", 1.5),
    ("MX", 1.0),
    ("DK", 1.0),
    ("NO", 1.0),
    ("FI", 0.8),
    ("IE", 0.8),
    ("PT", 0.8),
    ("CZ", 0.7),
    ("RO", 0.6),
    ("TR", 0.6),
    ("ZA", 0.5),
    ("NZ", 0.5),
    ("SG", 0.5),
    ("KR", 0.5),
    ("AR", 0.4),
    ("UA", 0.4),
    ("GR", 0.4),
    ("HU", 0.4),
    ("IL", 0.3),
    ("CN", 0.3),
    ("ID", 0.3),
    ("PH", 0.3),
    ("NG", 0.2),
    ("EG", 0.2),
];

/// Share of visits starting in each UTC hour (a European and American shop).
const HOURS: [f64; 24] = [
    2.0, 1.5, 1.0, 0.8, 0.8, 1.0, 1.5, 2.5, 3.5, 4.5, 5.0, 5.0, 5.0, 5.0, 5.0, 5.5, 6.0, 6.5, 7.0,
    7.0, 6.5, 5.0, 4.0, 3.0,
];

const CATEGORIES: &[&str] = &[
    "shoes",
    "boots",
    "sandals",
    "jackets",
    "coats",
    "shirts",
    "t-shirts",
    "jeans",
    "trousers",
    "dresses",
    "skirts",
    "knitwear",
    "hats",
    "scarves",
    "gloves",
    "bags",
    "backpacks",
    "wallets",
    "belts",
    "watches",
    "jewellery",
    "sunglasses",
    "socks",
    "sportswear",
];
const SEARCH_TERMS: &[&str] = &[
    "red shoes",
    "winter coat",
    "rain jacket",
    "leather bag",
    "wool hat",
    "running shoes",
    "gift",
    "sale",
    "linen shirt",
    "black jeans",
    "silver ring",
    "kids boots",
    "travel backpack",
    "scarf",
];

/// How a visit arrived: the landing URL's query and the referrer.
struct Arrival {
    query: String,
    referrer: Option<String>,
}

/// The site's pages (paths) and how often each is landed on and browsed to.
struct Pages {
    landing: Table<String>,
    browse: Table<String>,
    products: Vec<String>,
}

impl Pages {
    fn new(rng: &mut Rng) -> Pages {
        let mut products = Vec::new();
        for (c, category) in CATEGORIES.iter().enumerate() {
            for n in 0..75 {
                products.push(format!("/products/{category}/item-{:04}", c * 100 + n));
            }
        }
        let mut rest: Vec<String> = ["/shop", "/sale", "/new", "/search", "/account", "/login"]
            .iter()
            .map(|p| (*p).to_owned())
            .chain(CATEGORIES.iter().map(|c| format!("/c/{c}")))
            .chain((0..300).map(|n| format!("/blog/post-{n:03}")))
            .chain((0..60).map(|n| format!("/help/topic-{n:02}")))
            .chain(products.iter().cloned())
            .collect();
        // Popularity is not alphabetical: a fixed shuffle, then Zipf by rank, the home page first.
        for i in (1..rest.len()).rev() {
            rest.swap(i, rng.int(0, i as i64) as usize);
        }
        let mut landing = vec!["/".to_owned()];
        landing.extend(rest.iter().cloned());
        let browse: Vec<String> = rest
            .iter()
            .filter(|p| !p.starts_with("/blog/"))
            .cloned()
            .collect();
        Pages {
            landing: Table::zipf(landing, 0.9),
            browse: Table::zipf(browse, 0.8),
            products,
        }
    }
}

fn referral_hosts() -> Vec<String> {
    let kinds = ["blog", "forum", "news", "magazine", "deals", "community"];
    (0..2000)
        .map(|n| {
            format!(
                "{}-{n}.example.{}",
                kinds[n % kinds.len()],
                ["org", "net", "com"][n % 3]
            )
        })
        .collect()
}

/// An arrival for a visit in week `week` of the year.
fn arrival(rng: &mut Rng, week: i64, referrals: &Table<String>) -> Arrival {
    let r = |q: &str, referrer: Option<&str>| Arrival {
        query: q.to_owned(),
        referrer: referrer.map(str::to_owned),
    };
    let roll = rng.unit() * 100.0;
    match roll {
        x if x < 30.0 => r("", None),
        x if x < 55.0 => r("", Some("https://www.google.com/")),
        x if x < 58.0 => r("", Some(*rng.pick(&["https://www.google.de/", "https://www.google.co.uk/", "https://www.google.fr/"]))),
        x if x < 62.0 => r("", Some("https://www.bing.com/")),
        x if x < 64.0 => r("", Some("https://duckduckgo.com/")),
        x if x < 65.0 => r("", Some(*rng.pick(&["https://www.ecosia.org/", "https://search.yahoo.com/", "https://yandex.ru/"]))),
        x if x < 75.0 => r(
            "",
            Some(*rng.pick(&[
                "https://l.facebook.com/", "https://m.facebook.com/", "https://l.instagram.com/",
                "https://t.co/x1y2", "https://www.linkedin.com/", "https://www.reddit.com/r/fashion/",
                "https://www.youtube.com/", "https://www.pinterest.com/", "https://www.tiktok.com/",
            ])),
        ),
        x if x < 80.0 => r(&format!("?utm_source=newsletter&utm_medium=email&utm_campaign=nl-week-{week:02}"), None),
        x if x < 83.0 => r(&format!("?gclid=cj0k{}", rng.int(1000, 9999)), Some("https://www.google.com/")),
        x if x < 85.0 => {
            let term = rng.pick(SEARCH_TERMS).replace(' ', "+");
            let campaign = rng.pick(&["brand", "generic", "shopping", "retargeting"]);
            r(&format!("?utm_source=google&utm_medium=cpc&utm_campaign={campaign}&utm_term={term}"), Some("https://www.google.com/"))
        }
        x if x < 87.0 => r(
            &format!("?utm_source=facebook&utm_medium=paid_social&utm_campaign=season-{}&utm_content=ad-{}", week / 13, rng.int(1, 12)),
            Some("https://l.facebook.com/"),
        ),
        x if x < 89.0 => r(&format!("?utm_source=partner-{}&utm_medium=affiliate", rng.int(1, 60)), None),
        x if x < 90.0 => r("", Some(*rng.pick(&["https://chatgpt.com/", "https://www.perplexity.ai/"]))),
        _ => r("", Some(&format!("https://{}/post/{}", referrals.pick(rng), rng.int(1, 400)))),
    }
}

/// A visitor: their SDK id (none in strict mode), network, browser and country.
#[derive(Clone)]
struct Visitor {
    id: Option<String>,
    ip: String,
    agent: &'static str,
    country: &'static str,
}

/// A beacon about to be sent: its sender, body, send time and number of events (none for bots).
struct Beacon {
    at: i64,
    events: usize,
    visitor: Visitor,
    body: String,
}

/// Everything that shapes the traffic, made once.
struct World {
    pages: Pages,
    referrals: Table<String>,
    agents: Table<&'static str>,
    countries: Table<&'static str>,
    hours: Table<i64>,
    regulars: Vec<Visitor>,
}

impl World {
    fn new(rng: &mut Rng) -> World {
        let agents = Table::new(AGENTS.iter().map(|(ua, w)| (*ua, *w)));
        let countries = Table::new(COUNTRIES.iter().map(|(c, w)| (*c, *w)));
        let mut world = World {
            pages: Pages::new(rng),
            referrals: Table::zipf(referral_hosts(), 0.9),
            agents,
            countries,
            hours: Table::new(HOURS.iter().enumerate().map(|(h, w)| (h as i64, *w))),
            regulars: Vec::new(),
        };
        world.regulars = (0..40_000)
            .map(|n| world.visitor(rng, format!("r{n}")))
            .collect();
        world
    }

    fn visitor(&self, rng: &mut Rng, id: String) -> Visitor {
        Visitor {
            id: (!rng.chance(0.2)).then_some(id),
            ip: format!(
                "{}.{}.{}.{}",
                rng.int(11, 223),
                rng.int(0, 255),
                rng.int(0, 255),
                rng.int(1, 254)
            ),
            agent: self.agents.pick(rng),
            country: self.countries.pick(rng),
        }
    }
}

/// One visit's events (as the SDK writes them) from `start`; returns the beacons, batched as the
/// SDK batches them (a pageview goes at once, other events ride with the next flush, ≤ 5 each).
fn visit(
    rng: &mut Rng,
    world: &World,
    who: &Visitor,
    start: i64,
    serial: &Cell<u64>,
    end: i64,
) -> (Vec<Beacon>, usize) {
    let window = start.div_euclid(DAY_MS);
    let url = |path: &str| format!("https://{HOST}{path}");
    let how = arrival(rng, (start / DAY_MS / 7) % 53, &world.referrals);
    let session = format!("s{window}-{}", serial.get());
    let mut t = start;
    let mut events: Vec<Value> = Vec::new();
    let mut push = |t: i64,
                    name: &str,
                    path: &str,
                    props: Option<Value>,
                    referrer: Option<&str>| {
        if t >= end {
            return;
        }
        serial.set(serial.get() + 1);
        let mut e = json!({"id": format!("e{window}-{}", serial.get()), "ts": t, "name": name, "url": url(path)});
        if let Some(p) = props {
            e["props"] = p;
        }
        if let Some(r) = referrer {
            e["referrer"] = json!(r);
        }
        events.push(e);
    };
    let pageviews = if rng.chance(0.42) {
        1
    } else {
        2 + (rng.unit().ln() / 0.75f64.ln()) as i64
    }
    .min(14);
    let mut carted = false;
    let landing = world.pages.landing.pick(rng).clone();
    for p in 0..pageviews {
        let path = if p == 0 {
            landing.clone()
        } else {
            world.pages.browse.pick(rng).clone()
        };
        if p == 0 {
            push(
                t,
                "pageview",
                &format!("{path}{}", how.query),
                None,
                how.referrer.as_deref(),
            );
        } else {
            push(t, "pageview", &path, None, None);
        }
        t += rng.int(300, 3000);
        if rng.chance(0.45) {
            let metric = *rng.pick(&["LCP", "FCP", "TTFB", "CLS", "INP"]);
            let value = match metric {
                "CLS" => rng.int(0, 60) as f64 / 100.0,
                "TTFB" => rng.int(40, 1800) as f64,
                "INP" => rng.int(16, 900) as f64,
                _ => rng.int(300, 6000) as f64,
            };
            push(
                t,
                "web_vital",
                &path,
                Some(json!({"metric": metric, "value": value})),
                None,
            );
        }
        if path.starts_with("/products/") && rng.chance(0.12) {
            carted = true;
            t += rng.int(2000, 40_000);
            let product = path.rsplit('/').next().unwrap_or_default();
            push(
                t,
                "cart_add",
                &path,
                Some(
                    json!({"product": product, "qty": rng.int(1, 3), "price": rng.int(900, 19900) as f64 / 100.0}),
                ),
                None,
            );
        }
        if path == "/search" {
            push(
                t,
                "search",
                &path,
                Some(json!({"term": rng.pick(SEARCH_TERMS)})),
                None,
            );
        }
        t += rng.int(4000, 120_000);
    }
    if pageviews == 1 && rng.chance(0.5) {
        push(
            t,
            "engagement",
            &landing,
            Some(json!({"seconds": rng.int(2, 90), "scroll": rng.int(5, 100)})),
            None,
        );
    }
    if carted && rng.chance(0.35) {
        push(t, "pageview", "/cart", None, None);
        t += rng.int(10_000, 90_000);
        push(t, "pageview", "/checkout", None, None);
        t += rng.int(30_000, 240_000);
        push(t, "pageview", "/thank-you", None, None);
        let order = format!("o{window}-{}", serial.get());
        let currency = *rng.pick(&["EUR", "EUR", "EUR", "USD", "USD", "GBP"]);
        let props = json!({"order_id": order, "value": rng.int(1500, 48_000) as f64 / 100.0, "currency": currency, "items": rng.int(1, 5)});
        push(t, "purchase", "/thank-you", Some(props.clone()), None);
        if rng.chance(0.1) {
            // The thank-you page reloaded: the same order again, a new event id.
            push(t + 1500, "purchase", "/thank-you", Some(props), None);
        }
    }
    if rng.chance(0.01) {
        push(t, "signup_completed", "/account", None, None);
    }
    if rng.chance(0.004) {
        let path = format!("/old/page-{}", rng.int(1, 5000));
        push(t, "pageview", &path, None, None);
        push(t + 200, "404", &path, Some(json!({"path": path})), None);
    }
    if rng.chance(0.003) {
        push(
            t,
            "js_error",
            "/checkout",
            Some(json!({"message": "TypeError: undefined is not a function"})),
            None,
        );
    }
    let n = events.len();
    let mut beacons = Vec::new();
    let mut current: Vec<Value> = Vec::new();
    let mut flush = |current: &mut Vec<Value>, rng: &mut Rng| {
        if current.is_empty() {
            return;
        }
        let last = current
            .last()
            .and_then(|e| e["ts"].as_i64())
            .unwrap_or(start);
        let events = current.len();
        let mut body = json!({"v": 1, "site": SITE, "events": std::mem::take(current)});
        if let Some(id) = &who.id {
            body["visitor_id"] = json!(id);
            body["session_id"] = json!(session);
        }
        beacons.push(Beacon {
            at: (last + rng.int(150, 2500)).min(end - 1).max(last),
            events,
            visitor: who.clone(),
            body: body.to_string(),
        });
    };
    for e in events {
        if e["name"] == "pageview" || current.len() >= 5 {
            flush(&mut current, rng);
        }
        current.push(e);
    }
    flush(&mut current, rng);
    (beacons, n)
}

/// One row's values as SQL text: strings quoted (quotes doubled), NULL for none.
#[derive(Default)]
struct Row(String);

impl Row {
    fn text(mut self, value: Option<&str>) -> Row {
        self.comma();
        match value {
            Some(v) => {
                self.0.push('\'');
                for (i, part) in v.split('\'').enumerate() {
                    if i > 0 {
                        self.0.push_str("''");
                    }
                    self.0.push_str(part);
                }
                self.0.push('\'');
            }
            None => self.0.push_str("NULL"),
        }
        self
    }
    fn texts<'a>(self, values: impl IntoIterator<Item = Option<&'a str>>) -> Row {
        values.into_iter().fold(self, Row::text)
    }
    fn int(mut self, n: i64) -> Row {
        self.comma();
        self.0.push_str(&n.to_string());
        self
    }
    fn comma(&mut self) {
        if !self.0.is_empty() {
            self.0.push(',');
        }
    }
}

/// INSERTs of many rows each, into numbered files of about [`FILE_BYTES`]. Every statement ends
/// with `;` and a newline, and no value holds a newline, so a loader can split a file on those.
struct Sink {
    dir: PathBuf,
    name: String,
    head: String,
    file: Option<BufWriter<File>>,
    files: usize,
    bytes: usize,
    /// Rows and bytes of the statement being written.
    in_statement: usize,
    statement_bytes: usize,
    rows: usize,
}

impl Sink {
    fn new(dir: &Path, name: String, head: &str) -> Sink {
        Sink {
            dir: dir.to_owned(),
            name,
            head: head.to_owned(),
            file: None,
            files: 0,
            bytes: 0,
            in_statement: 0,
            statement_bytes: 0,
            rows: 0,
        }
    }

    /// Adds a row to the current INSERT, or starts one (and a file) when it would pass a limit.
    fn row(&mut self, values: &str) -> std::io::Result<()> {
        assert!(!values.contains('\n'), "no value holds a newline");
        if self.in_statement > 0 && self.statement_bytes + values.len() + 4 > MAX_STATEMENT_BYTES {
            self.end_statement()?;
        }
        let text = if self.in_statement == 0 {
            format!("{} VALUES\n({values})", self.head)
        } else {
            format!(",\n({values})")
        };
        self.write(&text)?;
        self.in_statement += 1;
        self.statement_bytes += text.len();
        self.rows += 1;
        Ok(())
    }

    /// Writes one whole statement (without its `;`).
    fn statement(&mut self, sql: &str) -> std::io::Result<()> {
        assert!(!sql.contains('\n') && sql.len() < MAX_STATEMENT_BYTES);
        self.end_statement()?;
        self.write(sql)?;
        self.in_statement = 1;
        self.end_statement()
    }

    fn write(&mut self, text: &str) -> std::io::Result<()> {
        if self.file.is_none() || (self.in_statement == 0 && self.bytes >= FILE_BYTES) {
            self.close()?;
            self.files += 1;
            let path = self
                .dir
                .join(format!("{}-{:03}.sql", self.name, self.files));
            self.file = Some(BufWriter::new(File::create(path)?));
            self.bytes = 0;
        }
        if let Some(file) = self.file.as_mut() {
            file.write_all(text.as_bytes())?;
            self.bytes += text.len();
        }
        Ok(())
    }

    fn end_statement(&mut self) -> std::io::Result<()> {
        if self.in_statement > 0 {
            if let Some(file) = self.file.as_mut() {
                file.write_all(b";\n")?;
            }
        }
        self.in_statement = 0;
        self.statement_bytes = 0;
        Ok(())
    }

    fn close(&mut self) -> std::io::Result<()> {
        self.end_statement()?;
        if let Some(mut file) = self.file.take() {
            file.flush()?;
        }
        Ok(())
    }
}

/// A rollup day as statements of at most [`MAX_STATEMENT_BYTES`]: its JSON in pieces, the first
/// inserted and the rest appended (D1 takes no longer statement; the worker binds the JSON).
fn rollup_statements(
    sink: &mut Sink,
    day: i64,
    part: &str,
    version: u32,
    data: &str,
) -> std::io::Result<()> {
    let mut rest = data;
    let mut first = true;
    while first || !rest.is_empty() {
        let mut cut = rest.len().min(MAX_STATEMENT_BYTES / 2 - 200);
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        let piece = Row::default().text(Some(&rest[..cut])).0;
        let sql = if first {
            format!("{ROLLUPS_HEAD} VALUES ('{SITE}', {day}, '{part}', {version}, {piece})")
        } else {
            format!(
                "UPDATE day_parts SET data = data || {piece} \
                 WHERE site_id = '{SITE}' AND day = {day} AND part = '{part}'"
            )
        };
        sink.statement(&sql)?;
        rest = &rest[cut..];
        first = false;
    }
    sink.rows += 1;
    Ok(())
}

fn tags(list: [&Option<String>; 6]) -> [Option<&str>; 6] {
    list.map(|v| v.as_deref())
}

fn event_row(e: &Event) -> String {
    let t = &e.enrichment;
    let props = serde_json::to_string(&e.props).unwrap_or_else(|_| "{}".into());
    Row(String::with_capacity(400))
        .texts([Some(e.site_id.as_str()), Some(&e.event_id)])
        .int(e.ts)
        .int(e.received_at)
        .texts([Some(e.name.as_str()), Some(&e.hostname), Some(&e.path)])
        .texts(tags([
            &t.referrer_host,
            &t.utm_source,
            &t.utm_medium,
            &t.utm_campaign,
            &t.utm_term,
            &t.utm_content,
        ]))
        .text(t.country.as_deref())
        .texts([
            Some(e.visitor_key.as_str()),
            Some(&e.session_key),
            Some(&props),
        ])
        .texts(tags([
            &t.source,
            &t.channel,
            &t.device,
            &t.browser,
            &t.os,
            &e.order_id,
        ]))
        .0
}

const EVENTS_HEAD: &str =
    "INSERT INTO events (site_id, event_id, ts, received_at, name, hostname, path, \
     referrer_host, utm_source, utm_medium, utm_campaign, utm_term, utm_content, country, \
     visitor_key, session_key, props, source, channel, device, browser, os, order_id)";
const RECENT_HEAD: &str = "INSERT INTO recent_events (site_id, hour, first_id, data)";

/// The first instant the recent log holds at `now`: the start of the oldest hour it keeps.
fn recent_from(now: i64) -> i64 {
    sightline_core::retention::recent_first_hour(now) * HOUR_MS
}

/// An event as the recent log holds it: an array of the `events` columns in the worker's
/// EVENTS_SQL order (its store's `EventColumns`).
fn recent_json(e: &Event) -> String {
    let t = &e.enrichment;
    json!([
        e.site_id,
        e.event_id,
        e.ts,
        e.received_at,
        e.name,
        e.hostname,
        e.path,
        t.referrer_host,
        t.utm_source,
        t.utm_medium,
        t.utm_campaign,
        t.utm_term,
        t.utm_content,
        t.country,
        e.visitor_key,
        e.session_key,
        e.props,
        t.source,
        t.channel,
        t.device,
        t.browser,
        t.os,
        e.order_id,
        e.server.then_some("server"),
    ])
    .to_string()
}

/// One write's events of the recent log's hours, as its rows: by UTC hour, in lists short
/// enough for a statement of their own.
fn recent_rows(events: &[Event], now: i64, sink: &mut Sink) -> std::io::Result<()> {
    let mut hours: std::collections::BTreeMap<i64, Vec<(&str, String)>> = Default::default();
    for e in events.iter().filter(|e| e.ts >= recent_from(now)) {
        hours
            .entry(e.ts.div_euclid(HOUR_MS))
            .or_default()
            .push((&e.event_id, recent_json(e)));
    }
    for (hour, rows) in hours {
        for (first_id, list) in json_arrays_by(rows, MAX_STATEMENT_BYTES / 2 - 400) {
            sink.row(
                &Row::default()
                    .text(Some(SITE))
                    .int(hour)
                    .texts([Some(first_id), Some(&list)])
                    .0,
            )?;
        }
    }
    Ok(())
}

const SESSIONS_HEAD: &str =
    "INSERT INTO sessions (site_id, visitor_key, session_key, visit_no, version, \
     started_at, last_at, state)";
const ROLLUPS_HEAD: &str = "INSERT INTO day_parts (site_id, day, part, version, data)";

fn session_row(key: &VisitKey, version: u32, visit: &Visit, state: &str) -> String {
    Row::default()
        .texts([
            Some(key.site_id.as_str()),
            Some(&key.visitor_key),
            Some(&key.session_key),
        ])
        .int(key.visit_no.into())
        .int(version.into())
        .int(visit.started_at)
        .int(visit.last_at)
        .text(Some(state))
        .0
}

/// A stored rollup day part: its day number, part name, version and JSON.
type RollupPart = (i64, String, u32, String);

/// What one thread made: its counts, rollup day parts, raw event rows and visit rows.
type ThreadOut = (Counts, Vec<RollupPart>, usize, usize);

/// What one day's traffic came to.
#[derive(Default)]
struct Counts {
    sent: usize,
    beacons: usize,
    dropped: usize,
    stored: usize,
}

/// The files one thread writes.
struct Sinks {
    events: Sink,
    sessions: Sink,
    recent: Sink,
}

/// UTC day `day`'s traffic up to `now`, through the collector's path and the consumer's into a
/// store of its own (a day shares nothing with another: visitor keys change with the daily salt,
/// so visits and dedupe keys never cross midnight, and a UTC site's events count on their own
/// day; a visit still going at midnight ends there). Writes the events and visits the purge would
/// keep; returns the counts and the day's rollup parts (day, part, version, JSON).
fn run_day(
    world: &World,
    day: i64,
    now: i64,
    per_day: usize,
    sinks: &mut Sinks,
) -> std::io::Result<(Counts, Vec<RollupPart>)> {
    let site = Site {
        id: SITE.into(),
        domains: vec![HOST.into()],
        active: true,
        write_token_hash: None,
        forwards_user_id: false,
        ga4_server_only: false,
    };
    let keep_from = sightline_core::retention::purge_before(now, RETENTION_DAYS);
    let (from, end) = (day * DAY_MS, ((day + 1) * DAY_MS).min(now));
    let mut rng = Rng(0x5eed ^ (day as u64).wrapping_mul(0x9e37_79b9));
    let serial = Cell::new(0);
    let mut counts = Counts::default();
    let mut beacons = Vec::new();
    let mut made = 0;
    while made < per_day {
        let start = from + *world.hours.pick(&mut rng) * HOUR_MS + rng.int(0, HOUR_MS - 1);
        let who = if rng.chance(0.3) {
            rng.pick(&world.regulars).clone()
        } else {
            world.visitor(&mut rng, format!("n{day}-{made}"))
        };
        // Counted whether or not it happened before `now` (today is a part of a day).
        let (sent, n) = visit(&mut rng, world, &who, start, &serial, (day + 1) * DAY_MS);
        made += n;
        beacons.extend(sent.into_iter().filter(|b| b.at < end));
        if rng.chance(0.03) && start < end {
            // A crawler's page: dropped by the bot filter before anything is stored.
            serial.set(serial.get() + 1);
            let page = world.pages.landing.pick(&mut rng);
            let event = json!({"id": format!("b{day}-{}", serial.get()), "ts": start, "name": "pageview", "url": format!("https://{HOST}{page}")});
            let agent = *rng.pick(BOTS);
            let bot = Visitor {
                id: None,
                ip: "66.249.66.1".into(),
                agent,
                country: "US",
            };
            let body = json!({"v": 1, "site": SITE, "events": [event]}).to_string();
            beacons.push(Beacon {
                at: start,
                events: 0,
                visitor: bot,
                body,
            });
        }
    }
    counts.sent = beacons.iter().map(|b| b.events).sum();
    // 1 % of beacons is sent again up to 2 minutes later (within the day).
    let mut again = Vec::new();
    for b in &beacons {
        if rng.chance(0.01) {
            again.push(Beacon {
                at: (b.at + rng.int(1000, 120_000)).min(end - 1),
                events: 0,
                visitor: b.visitor.clone(),
                body: b.body.clone(),
            });
        }
    }
    beacons.extend(again);
    beacons.sort_by_key(|b| b.at);
    let mut messages = Vec::with_capacity(beacons.len());
    for b in &beacons {
        let salt = format!("bench-salt-{day:08}-0123456789abcdef");
        let ctx = Context {
            received_at: b.at,
            client_ip: Some(&b.visitor.ip),
            user_agent: b.visitor.agent,
            country: Some(b.visitor.country),
            salt: salt.as_bytes(),
            max_client_age_ms: MAX_CLIENT_AGE_MS,
            server: false,
        };
        let Ok(beacon) = parse_beacon(b.body.as_bytes()) else {
            continue;
        };
        let outcome = ingest::run(&beacon, &site, &ctx);
        counts.beacons += 1;
        counts.dropped += outcome.dropped_total() as usize;
        if !outcome.queued.is_empty() {
            let parts = outcome.queued.encode_parts(queue::MAX_MESSAGE_BYTES);
            messages.extend(parts.unwrap_or_default());
        }
    }
    let mut store = InMemory::default();
    // The consumer's parts: whole messages, at most EVENTS_PER_WRITE events each.
    let mut part: Vec<Event> = Vec::new();
    for message in &messages {
        let Some(decoded) = Queued::decode(message) else {
            continue;
        };
        if !part.is_empty() && part.len() + decoded.len() > EVENTS_PER_WRITE {
            counts.stored += write_part(
                &mut store,
                std::mem::take(&mut part),
                (keep_from, now),
                sinks,
            )?;
        }
        part.extend(decoded);
    }
    counts.stored += write_part(&mut store, part, (keep_from, now), sinks)?;
    for (key, (version, text)) in &store.visits {
        let visit: Visit = serde_json::from_str(text)?;
        if visit.last_at >= keep_from {
            sinks
                .sessions
                .row(&session_row(key, *version, &visit, text))?;
        }
    }
    let rollup: Vec<RollupPart> = store
        .days
        .into_iter()
        .map(|((_, n, part), (version, data))| (n, part, version, data))
        .collect();
    Ok((counts, rollup))
}

/// One consumer write against the store; its new events that the purge would keep go to the sink,
/// and those of the recent log's hours (before `now`) to its sink.
fn write_part(
    store: &mut InMemory,
    part: Vec<Event>,
    (keep_from, now): (i64, i64),
    sinks: &mut Sinks,
) -> std::io::Result<usize> {
    if part.is_empty() {
        return Ok(0);
    }
    let write = store.consume(part);
    assert!(
        write.set_aside.is_empty(),
        "nothing the model wrote is unreadable"
    );
    for e in write.events.iter().filter(|e| e.ts >= keep_from) {
        sinks.events.row(&event_row(e))?;
    }
    recent_rows(&write.events, now, &mut sinks.recent)?;
    Ok(write.events.len())
}

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: busy_site OUT_DIR NOW_MS [DAYS] [EVENTS_PER_DAY]";
    let (Some(out), Some(now)) = (args.get(1), args.get(2).and_then(|a| a.parse::<i64>().ok()))
    else {
        eprintln!("{usage}");
        std::process::exit(2);
    };
    let days: i64 = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(365);
    let per_day: usize = args.get(4).and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let out = Path::new(out);
    fs::create_dir_all(out)?;
    let clock = Instant::now();
    let world = World::new(&mut Rng(20_261_124));
    let today = now.div_euclid(DAY_MS);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let done = std::sync::atomic::AtomicUsize::new(0);
    // Days are independent: each thread takes every `threads`-th one, with files of its own.
    let results: Vec<std::io::Result<ThreadOut>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (world, done) = (&world, &done);
                scope.spawn(move || {
                    let mut sinks = Sinks {
                        events: Sink::new(out, format!("events-{t}"), EVENTS_HEAD),
                        sessions: Sink::new(out, format!("sessions-{t}"), SESSIONS_HEAD),
                        recent: Sink::new(out, format!("recent-{t}"), RECENT_HEAD),
                    };
                    let mut total = Counts::default();
                    let mut rollups = Vec::new();
                    for day in (today - days + 1..=today).skip(t).step_by(threads) {
                        let (counts, rollup) = run_day(world, day, now, per_day, &mut sinks)?;
                        total.sent += counts.sent;
                        total.beacons += counts.beacons;
                        total.dropped += counts.dropped;
                        total.stored += counts.stored;
                        rollups.extend(rollup);
                        let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                        if n % 30 == 0 {
                            eprintln!(
                                "[busy_site] {n}/{days} days, {:.0} s",
                                clock.elapsed().as_secs_f64()
                            );
                        }
                    }
                    sinks.events.close()?;
                    sinks.sessions.close()?;
                    sinks.recent.close()?;
                    Ok((total, rollups, sinks.events.rows, sinks.sessions.rows))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(std::io::Error::other("a day panicked")))
            })
            .collect()
    });
    let mut total = Counts::default();
    let mut rollups = Vec::new();
    let (mut raw_events, mut visits) = (0, 0);
    for result in results {
        let (counts, days, events, sessions) = result?;
        total.sent += counts.sent;
        total.beacons += counts.beacons;
        total.dropped += counts.dropped;
        total.stored += counts.stored;
        rollups.extend(days);
        raw_events += events;
        visits += sessions;
    }
    rollups.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    let mut sink = Sink::new(out, "rollups".into(), ROLLUPS_HEAD);
    let mut bytes_by_day: std::collections::BTreeMap<i64, usize> = Default::default();
    for (day, part, version, data) in &rollups {
        *bytes_by_day.entry(*day).or_default() += data.len();
        rollup_statements(&mut sink, *day, part, *version, data)?;
    }
    let mut day_bytes: Vec<usize> = bytes_by_day.into_values().collect();
    sink.close()?;
    let mut site_sql = BufWriter::new(File::create(out.join("site.sql"))?);
    writeln!(
        site_sql,
        "INSERT INTO tenants (id, name, created_at) VALUES ('bench', 'Bench', {now});\n\
         INSERT INTO sites (id, tenant_id, timezone, retention_days, read_token_hash, created_at) \
         VALUES ('{SITE}', 'bench', 'UTC', {RETENTION_DAYS}, '{}', {now});\n\
         INSERT INTO site_domains (site_id, domain) VALUES ('{SITE}', '{HOST}');\n\
         INSERT INTO recent_log (id, since) VALUES (1, {});",
        token::hash(READ_TOKEN),
        recent_from(now)
    )?;
    site_sql.flush()?;
    day_bytes.sort_unstable();
    let summary = json!({
        "site": SITE,
        "read_token": READ_TOKEN,
        "now": now,
        "days": days,
        "events_per_day": per_day,
        "events_sent": total.sent,
        "beacons": total.beacons,
        "events_dropped": total.dropped,
        "events_stored": total.stored,
        "raw_events": raw_events,
        "visits": visits,
        "rollup_days": day_bytes.len(),
        "threads": threads,
        "pages_in_catalogue": world.pages.landing.items.len(),
        "products": world.pages.products.len(),
        "rollup_bytes_median": day_bytes.get(day_bytes.len() / 2).copied().unwrap_or(0),
        "rollup_bytes_max": day_bytes.last().copied().unwrap_or(0),
        "seconds": clock.elapsed().as_secs_f64(),
    });
    fs::write(out.join("summary.json"), summary.to_string())?;
    println!("{summary}");
    Ok(())
}
