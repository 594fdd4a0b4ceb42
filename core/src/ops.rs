//! Operations: the collector's own counters and their Prometheus text exposition (`GET /metrics`).
//! Input: what a consumer batch read, stored and dropped (the collector's drops ride on its queue
//! messages), and the counter rows storage holds. Output: the increments a batch stores in its
//! own transaction (so a counter never counts a batch that was not written, and survives isolate
//! restarts), and the text format 0.0.4. Must not: do I/O, or name a metric anywhere but
//! [`METRICS`].

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::commerce;
use crate::ingest::Event;

/// A metric's type in the exposition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Only ever grows (from D1 rows only added to).
    Counter,
    /// A value now.
    Gauge,
    /// Counts of observations at most each bound of [`WRITE_BUCKETS`], their sum and count
    /// (stored as counters named `_bucket`, `_sum`, `_count`).
    Histogram,
}

/// One metric: its name, type, help text, and the name of its second label (besides `site`).
#[derive(Debug, Clone, Copy)]
pub struct Metric {
    /// Name, `sightline_` first.
    pub name: &'static str,
    /// Counter or gauge.
    pub kind: Kind,
    /// One line for `# HELP`.
    pub help: &'static str,
    /// The label a row's `label` column fills (empty: none).
    pub label: &'static str,
    /// Whether rows carry a `site` label.
    pub per_site: bool,
}

/// Events the consumer stored (each once: what reports count).
pub const EVENTS_STORED: &str = "sightline_events_stored_total";
/// Conversions stored (goals: `commerce::CONVERSIONS`), by name.
pub const CONVERSIONS: &str = "sightline_conversions_total";
/// How long the oldest message of the last written batch had waited in the queue.
pub const QUEUE_AGE: &str = "sightline_queue_message_age_seconds";
/// Events not stored, by reason.
pub const EVENTS_DROPPED: &str = "sightline_events_dropped_total";
/// Consumer transactions written.
pub const QUEUE_BATCHES: &str = "sightline_queue_batches_total";
/// Queue messages handed back for a retry.
pub const QUEUE_RETRIES: &str = "sightline_queue_retries_total";
/// D1 rows the consumer's transactions wrote.
pub const ROWS_WRITTEN: &str = "sightline_d1_rows_written_total";
/// How long the consumer's D1 transactions took, seconds.
pub const WRITE_SECONDS: &str = "sightline_d1_write_seconds";
/// The upper bounds of [`WRITE_SECONDS`]' buckets, seconds (`+Inf` follows).
pub const WRITE_BUCKETS: [f64; 10] = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0];
/// How long stats queries took to answer, seconds.
pub const QUERY_SECONDS: &str = "sightline_query_seconds";
/// When a site's events were last stored.
pub const LAST_STORED: &str = "sightline_last_stored_timestamp_seconds";
/// Queue messages dead-lettered (kept or unreadable).
pub const DEAD_LETTERED: &str = "sightline_dead_lettered_messages_total";
/// Dead-lettered messages kept for replay.
pub const DEAD_KEPT: &str = "sightline_dead_letter_messages_kept";
/// Stored rows the consumer could not read, set aside.
pub const SET_ASIDE: &str = "sightline_set_aside_rows";

/// Events delivered to a forwarding target, by target.
pub const FORWARDED: &str = "sightline_forwarded_events_total";
/// Failed deliveries of an event to a forwarding target, by target.
pub const FORWARD_FAILURES: &str = "sightline_forward_failures_total";
/// Events given up on after every delivery failed, by target.
pub const FORWARD_DEAD: &str = "sightline_forward_dead_letters_total";
/// Events waiting in the outbox for a forwarding target, by target.
pub const FORWARD_WAITING: &str = "sightline_forward_waiting_events";

/// The gauges whose stored value is replaced by the latest batch's, not added to.
pub const LATEST: &[&str] = &[QUEUE_AGE];

/// The reason the consumer drops an event a queue message carried: stored before (a resend, or a
/// redelivered message), or an order already counted.
pub const DUPLICATE_STORED: &str = "duplicate_stored";

/// Every metric `GET /metrics` answers, in its order.
pub const METRICS: &[Metric] = &[
    Metric {
        name: EVENTS_STORED,
        kind: Kind::Counter,
        help: "Events stored by the queue consumer, each once (what reports count).",
        label: "",
        per_site: true,
    },
    Metric {
        name: CONVERSIONS,
        kind: Kind::Counter,
        help: "Conversions stored (purchase, checkout_completed, booking_completed, \
               signup_completed, login_completed), each once, by name.",
        label: "goal",
        per_site: true,
    },
    Metric {
        name: EVENTS_DROPPED,
        kind: Kind::Counter,
        help: "Events not stored, by reason: the collector's (bot, invalid_*, duplicate, \
               foreign_host) and the consumer's (duplicate_stored: stored before, or an order \
               already counted).",
        label: "reason",
        per_site: true,
    },
    Metric {
        name: QUEUE_BATCHES,
        kind: Kind::Counter,
        help: "Queue consumer transactions written (a batch is written in parts of at most \
               1000 events).",
        label: "",
        per_site: false,
    },
    Metric {
        name: QUEUE_AGE,
        kind: Kind::Gauge,
        help: "How long the oldest message of the queue consumer's last written batch had \
               waited since it was enqueued, seconds (high: a backlog).",
        label: "",
        per_site: false,
    },
    Metric {
        name: QUEUE_RETRIES,
        kind: Kind::Counter,
        help: "Queue messages handed back for a retry, counted with the isolate's next written \
               transaction.",
        label: "",
        per_site: false,
    },
    Metric {
        name: ROWS_WRITTEN,
        kind: Kind::Counter,
        help: "D1 rows written by the queue consumer's transactions (D1's billing unit), \
               counted with the isolate's next written transaction.",
        label: "",
        per_site: false,
    },
    Metric {
        name: WRITE_SECONDS,
        kind: Kind::Histogram,
        help: "How long the queue consumer's D1 transactions took (read to written), seconds, \
               counted with the isolate's next written transaction.",
        label: "",
        per_site: false,
    },
    Metric {
        name: QUERY_SECONDS,
        kind: Kind::Histogram,
        help: "How long stats queries (POST /api/v2/query, GET /api/sites/{site}/stats/{report}) \
               took to answer, D1 reads included, seconds; counted by the isolate, written every \
               50 queries or minute or with its next consumer transaction.",
        label: "",
        per_site: false,
    },
    Metric {
        name: LAST_STORED,
        kind: Kind::Gauge,
        help: "When the queue consumer last stored an event of the site (Unix seconds).",
        label: "",
        per_site: true,
    },
    Metric {
        name: DEAD_LETTERED,
        kind: Kind::Counter,
        help: "Queue messages that failed every retry (kept for replay) or could not be read.",
        label: "",
        per_site: false,
    },
    Metric {
        name: DEAD_KEPT,
        kind: Kind::Gauge,
        help: "Dead-lettered queue messages kept for POST /api/admin/dead-letters/replay.",
        label: "",
        per_site: false,
    },
    Metric {
        name: FORWARDED,
        kind: Kind::Counter,
        help: "Events delivered to a forwarding target (ga4, umami).",
        label: "target",
        per_site: true,
    },
    Metric {
        name: FORWARD_FAILURES,
        kind: Kind::Counter,
        help: "Failed deliveries of an event to a forwarding target (each attempt counted; \
               retried with backoff).",
        label: "target",
        per_site: true,
    },
    Metric {
        name: FORWARD_DEAD,
        kind: Kind::Counter,
        help: "Events a forwarding target never took (every retry failed, or it refused them): \
               kept for POST /api/admin/forward/replay.",
        label: "target",
        per_site: true,
    },
    Metric {
        name: FORWARD_WAITING,
        kind: Kind::Gauge,
        help: "Events waiting in the outbox for a forwarding target (not given up on).",
        label: "target",
        per_site: true,
    },
    Metric {
        name: SET_ASIDE,
        kind: Kind::Gauge,
        help: "Stored visits or rollup days the consumer could not read, set aside.",
        label: "",
        per_site: false,
    },
];

/// One row of a counter as stored, or one sample as exposed: (metric, site, label) and a value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sample {
    /// A name from [`METRICS`].
    pub metric: String,
    /// The site (empty: none).
    pub site: String,
    /// The metric's second label's value (empty: none).
    pub label: String,
    /// The value (an increment, when stored).
    pub value: f64,
    /// The site's tenant, when read for the exposition (never stored: a site's tenant is read
    /// from `sites`).
    #[serde(skip)]
    pub tenant: String,
}

impl Sample {
    /// A sample of `metric` for `site` (empty: none) with its second label `label`.
    pub fn new(metric: &str, site: &str, label: &str, value: f64) -> Sample {
        Sample {
            metric: metric.to_owned(),
            site: site.to_owned(),
            label: label.to_owned(),
            value,
            tenant: String::new(),
        }
    }
}

/// Drops the collector counted, per (site, reason), carried by queue messages.
pub type Drops = BTreeMap<(String, String), u64>;

/// What one written transaction adds: per site, the events stored (and the conversions among
/// them) and those the consumer found stored before, the collector's drops its messages carried,
/// one batch, and the isolate's pending counts; [`LAST_STORED`] as `now_ms` (a maximum, not a
/// sum) and [`QUEUE_AGE`] from `oldest_ms`, when the batch's oldest message was enqueued (the
/// latest value, not a sum: [`LATEST`]).
pub fn increments(
    read: &BTreeMap<String, u64>,
    stored: &[Event],
    drops: &Drops,
    pending: Pending,
    oldest_ms: Option<i64>,
    now_ms: i64,
) -> Vec<Sample> {
    let mut by_site: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for (site, n) in read {
        by_site.entry(site).or_default().0 += n;
    }
    for e in stored {
        by_site.entry(&e.site_id).or_default().1 += 1;
    }
    let mut out = Vec::new();
    for (site, (read, stored)) in by_site {
        if stored > 0 {
            out.push(Sample::new(EVENTS_STORED, site, "", stored as f64));
            out.push(Sample::new(LAST_STORED, site, "", (now_ms / 1000) as f64));
        }
        if read > stored {
            let dropped = (read - stored) as f64;
            out.push(Sample::new(EVENTS_DROPPED, site, DUPLICATE_STORED, dropped));
        }
    }
    let mut goals: BTreeMap<(&str, &str), u64> = BTreeMap::new();
    for e in stored
        .iter()
        .filter(|e| commerce::CONVERSIONS.contains(&e.name.as_str()))
    {
        *goals.entry((&e.site_id, &e.name)).or_default() += 1;
    }
    for ((site, goal), n) in goals {
        out.push(Sample::new(CONVERSIONS, site, goal, n as f64));
    }
    for ((site, reason), n) in drops {
        out.push(Sample::new(EVENTS_DROPPED, site, reason, *n as f64));
    }
    out.push(Sample::new(QUEUE_BATCHES, "", "", 1.0));
    if let Some(enqueued) = oldest_ms {
        let age = (now_ms - enqueued).max(0) as f64 / 1000.0;
        out.push(Sample::new(QUEUE_AGE, "", "", age));
    }
    out.extend(pending_samples(pending));
    out
}

/// The samples of an isolate's pending counts (retries, rows written, write and query times),
/// written with its next transaction, or on their own after a failed one (or, for queries, every
/// [`QUERIES_FLUSH`] queries or [`QUERIES_FLUSH_MS`]).
pub fn pending_samples(pending: Pending) -> Vec<Sample> {
    let mut out = Vec::new();
    for (metric, n) in [
        (QUEUE_RETRIES, pending.retries),
        (ROWS_WRITTEN, pending.rows_written),
    ] {
        if n > 0 {
            out.push(Sample::new(metric, "", "", n as f64));
        }
    }
    for (metric, buckets, seconds) in [
        (WRITE_SECONDS, pending.writes, pending.write_seconds),
        (QUERY_SECONDS, pending.queries, pending.query_seconds),
    ] {
        if buckets.iter().sum::<u64>() == 0 {
            continue;
        }
        // Stored per bucket (each observation writes one bucket's row, not every bucket above
        // its time: D1 bills rows written); the exposition sums them up ([`render`]).
        for (i, n) in buckets.iter().enumerate().filter(|(_, n)| **n > 0) {
            let name = format!("{metric}_bucket");
            out.push(Sample::new(&name, "", &bound(i), *n as f64));
        }
        let sum = format!("{metric}_sum");
        out.push(Sample::new(&sum, "", "", seconds));
    }
    out
}

/// How many timed stats queries an isolate holds before writing them on their own.
pub const QUERIES_FLUSH: u64 = 50;
/// How long an isolate holds timed stats queries before writing them on their own, ms.
pub const QUERIES_FLUSH_MS: i64 = 60_000;

/// How many held drops make a queue message of their own.
pub const DROPS_FLUSH: u64 = 1000;

/// The collector's drops from beacons with nothing accepted (a bot's, say), held by its isolate
/// until a queue message carries them: its next message with events, or one of their own once
/// they pass [`DROPS_FLUSH`] events — so a flood of bot beacons costs a queue message per
/// thousand drops, not one per beacon. An isolate that ends first loses what it held (fewer than
/// [`DROPS_FLUSH`]; docs/OPERATIONS.md says so).
#[derive(Debug, Default)]
pub struct DropBuffer {
    held: BTreeMap<(String, String), u64>,
    total: u64,
}

impl DropBuffer {
    /// Holds `n` drops of `site` for `reason`.
    pub fn add(&mut self, site: &str, reason: &str, n: u64) {
        if n > 0 {
            *self
                .held
                .entry((site.to_owned(), reason.to_owned()))
                .or_default() += n;
            self.total += n;
        }
    }

    /// What a message takes as (site, reason, count): everything held when `carrying` (a message
    /// with events goes anyway) or when it passes [`DROPS_FLUSH`]; else nothing.
    pub fn take(&mut self, carrying: bool) -> Vec<(String, String, u32)> {
        if !carrying && self.total < DROPS_FLUSH {
            return Vec::new();
        }
        self.total = 0;
        std::mem::take(&mut self.held)
            .into_iter()
            .map(|((site, reason), n)| (site, reason, n.min(u64::from(u32::MAX)) as u32))
            .collect()
    }

    /// Holds again what a message failed to carry.
    pub fn restore(&mut self, taken: Vec<(String, String, u32)>) {
        for (site, reason, n) in taken {
            self.add(&site, &reason, u64::from(n));
        }
    }
}

/// How many of `events` each site has (what a batch read, before de-duplication).
pub fn per_site(events: &[Event]) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    for e in events {
        *counts.entry(e.site_id.clone()).or_default() += 1;
    }
    counts
}

/// What an isolate counted outside a written transaction (retries it asked for, rows its last
/// transactions wrote), added with its next one.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Pending {
    /// Messages handed back for a retry.
    pub retries: u64,
    /// D1 rows written.
    pub rows_written: u64,
    /// Transactions timed, per bucket of [`WRITE_BUCKETS`] (each counted in the first bucket
    /// whose bound it is within; the last slot: above them all).
    pub writes: [u64; WRITE_BUCKETS.len() + 1],
    /// Their summed duration, seconds.
    pub write_seconds: f64,
    /// Stats queries timed, per bucket of [`WRITE_BUCKETS`] (as `writes`).
    pub queries: [u64; WRITE_BUCKETS.len() + 1],
    /// Their summed duration, seconds.
    pub query_seconds: f64,
}

impl Pending {
    /// One transaction of `ms` milliseconds timed.
    pub fn timed(ms: i64) -> Pending {
        let (writes, write_seconds) = one_timed(ms);
        Pending {
            writes,
            write_seconds,
            ..Pending::default()
        }
    }

    /// One stats query of `ms` milliseconds timed.
    pub fn query_timed(ms: i64) -> Pending {
        let (queries, query_seconds) = one_timed(ms);
        Pending {
            queries,
            query_seconds,
            ..Pending::default()
        }
    }

    /// How many stats queries it holds.
    pub fn query_count(&self) -> u64 {
        self.queries.iter().sum()
    }

    /// Both counts together.
    pub fn plus(self, more: Pending) -> Pending {
        let add = |mut a: [u64; WRITE_BUCKETS.len() + 1], b: [u64; WRITE_BUCKETS.len() + 1]| {
            for (x, y) in a.iter_mut().zip(b) {
                *x += y;
            }
            a
        };
        Pending {
            retries: self.retries + more.retries,
            rows_written: self.rows_written + more.rows_written,
            writes: add(self.writes, more.writes),
            write_seconds: self.write_seconds + more.write_seconds,
            queries: add(self.queries, more.queries),
            query_seconds: self.query_seconds + more.query_seconds,
        }
    }
}

/// One observation of `ms` milliseconds: its bucket counted once, and its seconds.
fn one_timed(ms: i64) -> ([u64; WRITE_BUCKETS.len() + 1], f64) {
    let seconds = ms.max(0) as f64 / 1000.0;
    let mut buckets = [0; WRITE_BUCKETS.len() + 1];
    let slot = WRITE_BUCKETS
        .iter()
        .position(|bound| seconds <= *bound)
        .unwrap_or(WRITE_BUCKETS.len());
    buckets[slot] = 1;
    (buckets, seconds)
}

/// A bucket bound as the exposition writes it.
fn bound(i: usize) -> String {
    WRITE_BUCKETS
        .get(i)
        .map_or_else(|| "+Inf".to_owned(), |b| number(*b))
}

/// The text exposition (format 0.0.4) of `samples`: every metric of [`METRICS`] with its `HELP`
/// and `TYPE`, its samples sorted; a metric with no sample and no labels shows 0. Samples of
/// names not in [`METRICS`] are left out.
pub fn render(samples: &[Sample]) -> String {
    let mut out = String::new();
    for m in METRICS {
        let kind = match m.kind {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        };
        let _ = writeln!(out, "# HELP {} {}", m.name, m.help);
        let _ = writeln!(out, "# TYPE {} {kind}", m.name);
        if m.kind == Kind::Histogram {
            histogram(&mut out, m.name, samples);
            continue;
        }
        let mut mine: Vec<&Sample> = samples.iter().filter(|s| s.metric == m.name).collect();
        mine.sort_by(|a, b| (&a.site, &a.label).cmp(&(&b.site, &b.label)));
        if mine.is_empty() && !m.per_site && m.label.is_empty() {
            let _ = writeln!(out, "{} 0", m.name);
        }
        for s in mine {
            let mut labels = Vec::new();
            if m.per_site {
                labels.push(format!("tenant=\"{}\"", escape(&s.tenant)));
                labels.push(format!("site=\"{}\"", escape(&s.site)));
            }
            if !m.label.is_empty() {
                labels.push(format!("{}=\"{}\"", m.label, escape(&s.label)));
            }
            let labels = if labels.is_empty() {
                String::new()
            } else {
                format!("{{{}}}", labels.join(","))
            };
            let _ = writeln!(out, "{}{labels} {}", m.name, number(s.value));
        }
    }
    out
}

/// A histogram's lines: every bucket (cumulative; 0 when never observed), in order of bound,
/// then its sum and count.
fn histogram(out: &mut String, name: &str, samples: &[Sample]) {
    let value = |metric: &str, label: &str| {
        samples
            .iter()
            .find(|s| s.metric == metric && s.label == label)
            .map_or(0.0, |s| s.value)
    };
    let bucket = format!("{name}_bucket");
    // Stored per bucket; exposed cumulative, as the format wants (a bucket counts every
    // observation within its bound), the last bucket being the count.
    let mut within = 0.0;
    for i in 0..=WRITE_BUCKETS.len() {
        let le = bound(i);
        within += value(&bucket, &le);
        let _ = writeln!(out, "{bucket}{{le=\"{le}\"}} {}", number(within));
    }
    let _ = writeln!(
        out,
        "{name}_sum {}",
        number(value(&format!("{name}_sum"), ""))
    );
    let _ = writeln!(out, "{name}_count {}", number(within));
}

/// A label value as the format writes it: backslash, double quote and line feed escaped.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// A sample value: integers without a fraction, anything else as Rust writes an `f64` (finite
/// only; a non-finite value is written as Prometheus spells it).
fn number(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::sessionise::tests::ev;

    #[test]
    fn a_batch_counts_what_it_stored_and_what_it_found_stored_before() {
        let read = vec![
            ev("a", "s", 0, "pageview", "/"),
            ev("b", "s", 1, "pageview", "/"),
            ev("c", "s", 2, "purchase", "/thanks"),
        ];
        let stored = vec![read[0].clone(), read[2].clone()];
        let drops = Drops::from([(("s".into(), "bot".into()), 3)]);
        let pending = Pending {
            retries: 2,
            ..Pending::default()
        };
        let got = increments(
            &per_site(&read),
            &stored,
            &drops,
            pending,
            Some(1_763_999_990_000),
            1_764_000_000_500,
        );
        let site = &read[0].site_id;
        assert_eq!(
            got,
            [
                Sample::new(EVENTS_STORED, site, "", 2.0),
                Sample::new(LAST_STORED, site, "", 1_764_000_000.0),
                Sample::new(EVENTS_DROPPED, site, DUPLICATE_STORED, 1.0),
                Sample::new(CONVERSIONS, site, "purchase", 1.0),
                Sample::new(EVENTS_DROPPED, "s", "bot", 3.0),
                Sample::new(QUEUE_BATCHES, "", "", 1.0),
                Sample::new(QUEUE_AGE, "", "", 10.5),
                Sample::new(QUEUE_RETRIES, "", "", 2.0),
            ]
        );
    }

    #[test]
    fn drops_wait_for_a_message_or_a_thousand() {
        let mut buffer = DropBuffer::default();
        buffer.add("shop", "bot", 3);
        buffer.add("blog", "invalid_url", 1);
        assert!(
            buffer.take(false).is_empty(),
            "a bot's beacon alone sends nothing"
        );
        let taken = buffer.take(true);
        assert_eq!(
            taken,
            [
                ("blog".to_owned(), "invalid_url".to_owned(), 1),
                ("shop".to_owned(), "bot".to_owned(), 3)
            ]
        );
        assert!(buffer.take(true).is_empty(), "carried once");
        buffer.restore(taken);
        buffer.add("shop", "bot", DROPS_FLUSH);
        assert_eq!(
            buffer.take(false).len(),
            2,
            "a thousand make a message of their own"
        );
    }

    #[test]
    fn write_times_are_a_cumulative_histogram() {
        let pending = Pending::timed(30)
            .plus(Pending::timed(30))
            .plus(Pending::timed(4000));
        let samples = increments(&BTreeMap::new(), &[], &Drops::new(), pending, None, 0);
        let text = render(&samples);
        for line in [
            "sightline_d1_write_seconds_bucket{le=\"0.025\"} 0\n",
            "sightline_d1_write_seconds_bucket{le=\"0.05\"} 2\n",
            "sightline_d1_write_seconds_bucket{le=\"2\"} 2\n",
            "sightline_d1_write_seconds_bucket{le=\"5\"} 3\n",
            "sightline_d1_write_seconds_bucket{le=\"+Inf\"} 3\n",
            "sightline_d1_write_seconds_sum 4.06\n",
            "sightline_d1_write_seconds_count 3\n",
        ] {
            assert!(text.contains(line), "{line}{text}");
        }
    }

    #[test]
    fn query_times_are_a_histogram_of_their_own() {
        let pending = Pending::query_timed(120)
            .plus(Pending::query_timed(800))
            .plus(Pending::timed(30));
        assert_eq!(pending.query_count(), 2);
        let text = render(&pending_samples(pending));
        for line in [
            "sightline_query_seconds_bucket{le=\"0.1\"} 0\n",
            "sightline_query_seconds_bucket{le=\"0.25\"} 1\n",
            "sightline_query_seconds_bucket{le=\"1\"} 2\n",
            "sightline_query_seconds_sum 0.92\n",
            "sightline_query_seconds_count 2\n",
            "sightline_d1_write_seconds_count 1\n",
        ] {
            assert!(text.contains(line), "{line}{text}");
        }
    }

    #[test]
    fn the_exposition_names_every_metric_and_escapes_labels() {
        let text = render(&[
            Sample::new(EVENTS_STORED, "shop", "", 12.0),
            Sample::new(EVENTS_DROPPED, "a\"b\\c\nd", "bot", 2.0),
            Sample::new(EVENTS_STORED, "blog", "", 3.0),
            Sample::new("not_ours", "", "", 1.0),
        ]);
        for m in METRICS {
            assert!(text.contains(&format!("# TYPE {} ", m.name)), "{}", m.name);
        }
        assert!(text.contains(
            "sightline_events_stored_total{tenant=\"\",site=\"blog\"} 3\nsightline_events_stored_total{tenant=\"\",site=\"shop\"} 12\n"
        ));
        assert!(text.contains(
            "sightline_events_dropped_total{tenant=\"\",site=\"a\\\"b\\\\c\\nd\",reason=\"bot\"} 2\n"
        ));
        assert!(text.contains("\nsightline_queue_batches_total 0\n"));
        assert!(!text.contains("not_ours"));
        assert!(text.contains("# TYPE sightline_d1_write_seconds histogram\n"));
        assert!(text.contains("sightline_d1_write_seconds_bucket{le=\"+Inf\"} 0\n"));
        assert_eq!(number(0.25), "0.25");
        assert_eq!(number(f64::NAN), "NaN");
    }
}
