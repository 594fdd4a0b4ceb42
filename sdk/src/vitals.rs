//! Web-vitals math (pure), with the semantics of Google's `web-vitals` library: LCP and FCP from
//! entries before the page was first hidden, measured from `activationStart` (prerendering); CLS as
//! the largest session window (shifts < 1 s apart, window < 5 s, shifts after input ignored); INP
//! from interaction groups (the longest entry per `interactionId`, ten longest kept, the candidate
//! at `interactionCount / 50` approximating the 98th percentile); TTFB as `responseStart` from
//! `activationStart`. A back/forward-cache restore starts every metric again (the browser edge
//! resets the state; see `on_restore` in extras.rs). Input: entry fields read by the browser edge.
//! Output: metric values. Must not: touch the browser.

use alloc::vec::Vec;

/// Most interactions kept for INP.
const MAX_INTERACTIONS: usize = 10;

/// A metric's value as seen on a page that was visible: `start - activation`, or `None` when it
/// happened after the page was first hidden.
pub fn visible_value(start_time: f64, activation_start: f64, first_hidden: f64) -> Option<f64> {
    (start_time < first_hidden).then(|| (start_time - activation_start).max(0.0))
}

/// Time to first byte, from activation.
pub fn ttfb(response_start: f64, activation_start: f64) -> f64 {
    (response_start - activation_start).max(0.0)
}

/// Cumulative layout shift: the largest session window.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Cls {
    window: f64,
    first: f64,
    last: f64,
    /// The metric: the largest window so far.
    pub value: f64,
}

impl Cls {
    /// Adds one `layout-shift` entry.
    pub fn add(&mut self, start_time: f64, value: f64, had_recent_input: bool) {
        if had_recent_input {
            return;
        }
        if self.window > 0.0 && start_time - self.last < 1000.0 && start_time - self.first < 5000.0
        {
            self.window += value;
        } else {
            self.window = value;
            self.first = start_time;
        }
        self.last = start_time;
        self.value = self.value.max(self.window);
    }
}

/// Interaction to next paint.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Inp {
    /// (interactionId, latency), longest first, at most ten.
    longest: Vec<(u64, f64)>,
}

impl Inp {
    /// Adds one `event` (or `first-input`) entry; entries without an interaction id are ignored.
    pub fn add(&mut self, interaction_id: u64, duration: f64) {
        if interaction_id == 0 {
            return;
        }
        let latency = match self
            .longest
            .iter()
            .position(|(id, _)| *id == interaction_id)
        {
            Some(known) => self.longest.remove(known).1.max(duration),
            None => duration,
        };
        // Kept longest first by inserting in place: a sort would add kilobytes of wasm for ten items.
        let at = self
            .longest
            .iter()
            .position(|(_, d)| d.total_cmp(&latency).is_lt())
            .unwrap_or(self.longest.len());
        if at < MAX_INTERACTIONS {
            self.longest.insert(at, (interaction_id, latency));
            self.longest.truncate(MAX_INTERACTIONS);
        }
    }

    /// The metric for a page with `interaction_count` interactions, if it had any.
    pub fn value(&self, interaction_count: u32) -> Option<f64> {
        let index = (interaction_count as usize / 50).min(self.longest.len().checked_sub(1)?);
        Some(self.longest[index].1)
    }
}

/// A metric's value as reported: whole ms, CLS to four decimals.
pub fn rounded(metric: &str, value: f64) -> f64 {
    if metric == "CLS" {
        round(value * 10_000.0) / 10_000.0
    } else {
        round(value)
    }
}

/// Rounds half away from zero, as `f64::round` (which needs `std`) does for the finite values here.
fn round(x: f64) -> f64 {
    if x < 0.0 {
        return -round(-x);
    }
    let whole = x as u64 as f64;
    if x - whole >= 0.5 {
        whole + 1.0
    } else {
        whole
    }
}

/// `good`, `needs-improvement` or `poor`, by the web.dev thresholds.
pub fn rating(metric: &str, value: f64) -> &'static str {
    let (good, poor) = match metric {
        "LCP" => (2500.0, 4000.0),
        "INP" => (200.0, 500.0),
        "CLS" => (0.1, 0.25),
        "FCP" => (1800.0, 3000.0),
        _ => (800.0, 1800.0), // TTFB
    };
    if value <= good {
        "good"
    } else if value <= poor {
        "needs-improvement"
    } else {
        "poor"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paint_metrics_count_only_while_visible_and_from_activation() {
        assert_eq!(visible_value(1200.0, 0.0, f64::INFINITY), Some(1200.0));
        assert_eq!(
            visible_value(1200.0, 1500.0, f64::INFINITY),
            Some(0.0),
            "prerendered"
        );
        assert_eq!(
            visible_value(1200.0, 0.0, 800.0),
            None,
            "hidden before it painted"
        );
        assert_eq!(ttfb(150.0, 100.0), 50.0);
    }

    #[test]
    fn cls_is_the_largest_session_window() {
        let mut cls = Cls::default();
        cls.add(100.0, 0.05, false);
        cls.add(600.0, 0.05, false); // same window: 0.10
        cls.add(900.0, 0.5, true); // after input: ignored
        cls.add(3000.0, 0.02, false); // > 1 s gap: new window 0.02
        assert!((cls.value - 0.10).abs() < 1e-9);
        for t in 0..8 {
            cls.add(10_000.0 + f64::from(t) * 900.0, 0.03, false); // window capped at 5 s
        }
        assert!((cls.value - 0.18).abs() < 1e-9, "{}", cls.value);
    }

    #[test]
    fn inp_takes_the_longest_interaction_and_the_p98_candidate() {
        let mut inp = Inp::default();
        assert_eq!(inp.value(0), None);
        inp.add(0, 500.0); // not an interaction
        inp.add(7, 80.0);
        inp.add(7, 120.0); // same interaction: its longest entry
        inp.add(8, 64.0);
        assert_eq!(inp.value(2), Some(120.0));
        for id in 100..120 {
            inp.add(id, 40.0 + id as f64);
        }
        assert_eq!(inp.longest.len(), 10);
        assert_eq!(
            inp.value(120),
            Some(inp.longest[2].1),
            "120 interactions: the third longest"
        );
    }

    #[test]
    fn values_are_rounded_like_f64_round() {
        for x in [
            0.0,
            0.4,
            0.5,
            1.49,
            2.5,
            1234.5678,
            99_999.5,
            0.499_999_999_999_999_94,
        ] {
            assert_eq!(round(x), x.round(), "{x}");
            assert_eq!(round(-x), (-x).round(), "{x}");
        }
        assert_eq!(rounded("CLS", 0.123_456), 0.1235);
        assert_eq!(rounded("LCP", 1234.5), 1235.0);
    }

    #[test]
    fn ratings_follow_the_thresholds() {
        assert_eq!(rating("LCP", 2400.0), "good");
        assert_eq!(rating("INP", 300.0), "needs-improvement");
        assert_eq!(rating("CLS", 0.3), "poor");
    }
}
