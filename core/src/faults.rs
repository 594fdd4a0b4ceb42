//! Fault injection for the test suite: which share of requests the collector answers 503 and which
//! share of queue batches the consumer fails, for sites whose id starts with [`FAULT_SITE_PREFIX`]
//! only; and outages: the consumer fails every batch of a site `fault-outage-<ms>` until that time.
//! Input: the `FAULTS` variable (`collect=0.2,consumer=0.3`), unset in production. Output: the
//! rates. Must not: touch any other site.

/// Only sites with this id prefix are ever faulted.
pub const FAULT_SITE_PREFIX: &str = "fault-";
/// Sites `fault-outage-<ms since the epoch>`: the consumer is down for them until that time.
pub const OUTAGE_SITE_PREFIX: &str = "fault-outage-";

/// Rates in `[0, 1]`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Faults {
    /// Share of `POST /api/collect` requests answered `503` before anything is read.
    pub collect: f64,
    /// Share of queue batches the consumer fails before writing.
    pub consumer: f64,
}

impl Faults {
    /// Parses `name=rate` pairs; unknown names and bad rates are ignored (no faults).
    pub fn parse(spec: &str) -> Faults {
        let mut faults = Faults::default();
        for (name, rate) in spec.split(',').filter_map(|pair| pair.split_once('=')) {
            let Ok(rate) = rate.trim().parse::<f64>() else {
                continue;
            };
            let rate = if rate.is_finite() {
                rate.clamp(0.0, 1.0)
            } else {
                0.0
            };
            match name.trim() {
                "collect" => faults.collect = rate,
                "consumer" => faults.consumer = rate,
                _ => {}
            }
        }
        faults
    }

    /// True when `site` may be faulted.
    pub fn applies_to(site: &str) -> bool {
        site.starts_with(FAULT_SITE_PREFIX)
    }

    /// True while the consumer is down for `site` (an outage site whose end time is after `now`).
    pub fn in_outage(site: &str, now: i64) -> bool {
        site.strip_prefix(OUTAGE_SITE_PREFIX)
            .and_then(|rest| rest.split(['-', '.']).next())
            .and_then(|until| until.parse::<i64>().ok())
            .is_some_and(|until| now < until)
    }

    /// Whether the `n`-th faultable call (counting from 0) fails: `rate` of any run of calls,
    /// evenly spread, starting with the first, so a test that makes even one call meets a fault.
    pub fn fire(rate: f64, n: u64) -> bool {
        let at = |n: u64| (n as f64 * rate + (1.0 - rate)).floor();
        rate > 0.0 && at(n + 1) > at(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rates_and_ignores_the_rest() {
        let f = Faults::parse("collect=0.2, consumer=1.5,bogus=1,consumer2");
        assert_eq!(
            f,
            Faults {
                collect: 0.2,
                consumer: 1.0
            }
        );
        assert_eq!(Faults::parse(""), Faults::default());
        assert!(Faults::applies_to("fault-x") && !Faults::applies_to("demo"));
        let fired: Vec<u64> = (0..10).filter(|&n| Faults::fire(0.3, n)).collect();
        assert_eq!(fired, [0, 4, 7]);
        assert!((0..100).all(|n| !Faults::fire(0.0, n)));
        assert!((0..100).all(|n| Faults::fire(1.0, n)));
        assert!(Faults::in_outage("fault-outage-5000-a", 4999));
        assert!(!Faults::in_outage("fault-outage-5000-a", 5000));
        assert!(!Faults::in_outage("fault-x", 0) && !Faults::in_outage("demo", 0));
    }
}
