//! The opt-in measurements (the `extras` feature, `sightline-full.wasm`): auto-capture with
//! engagement, web vitals, and the 404 page, as events.
//!
//! Input: the page's clicks, submits, scrolling, focus, errors (`autoCapture`), its paint, LCP,
//! layout-shift and event-timing entries (`webVitals`), and its being hidden. Output: `file_download`,
//! `outbound_click`, `form_submit`, `js_error`, `engagement`, `web_vital` and `404` events, recorded
//! through [`crate::record`]. What to record and the metric math are [`crate::capture`]'s and
//! [`crate::vitals`]'s (pure); this is their glue. Must not: run in the default build (every entry
//! point is behind [`ENABLED`], so the default wasm holds none of it), or send anything itself.

use alloc::borrow::ToOwned;
use alloc::string::String;
use alloc::vec::Vec;

use crate::browser::Target::{Document, Window};
use crate::browser::{self, listen, JsValue};
use crate::record::{event, event_with, Origin};
use crate::tracker::with_tracker;
use crate::{capture, vitals};
use sightline_core::scrub::split_url;

/// Web vitals and auto-capture (404 pages included) are compiled in only with the `extras` feature:
/// the npm wrapper loads that build (`sightline-full.wasm`) when a page asks for `webVitals`,
/// `autoCapture` or `notFound`, and the smaller default build otherwise. Without it, those options
/// are ignored.
pub(crate) const ENABLED: bool = cfg!(feature = "extras");

/// What the web-vitals measurement keeps until the page is hidden.
pub(crate) struct Vitals {
    /// `performance.now()` when the page was first hidden (infinite while it has not been).
    first_hidden: f64,
    /// `activationStart` of a prerendered page, the time of a back/forward-cache restore, else 0.
    activation: f64,
    /// The latest LCP candidate; reported on the first input or hide.
    lcp: Option<f64>,
    lcp_final: bool,
    cls: vitals::Cls,
    inp: vitals::Inp,
    /// Interaction ids seen, to estimate the interaction count as `web-vitals` does.
    interaction_ids: (u64, u64),
    reported: bool,
}

impl Vitals {
    pub(crate) fn new(first_hidden: f64, activation: f64) -> Self {
        Vitals {
            first_hidden,
            activation,
            lcp: None,
            lcp_final: false,
            cls: vitals::Cls::default(),
            inp: vitals::Inp::default(),
            interaction_ids: (u64::MAX, 0),
            reported: false,
        }
    }
}

/// What auto-capture tracks between reports.
#[derive(Default)]
pub(crate) struct Capture {
    engagement: capture::Engagement,
    /// Deepest scroll since the last report, in percent.
    scroll: u8,
    /// Error messages already sent from this page (each once).
    errors: Vec<String>,
}

impl Capture {
    /// Auto-capture from now: the page's current scroll depth counts.
    pub(crate) fn new() -> Self {
        Capture {
            scroll: browser::scroll_percent(),
            ..Capture::default()
        }
    }
}

/// `notFound`: the site's 404 page says so, counted (when shown) as a `404` event with its path.
pub(crate) fn count_not_found() {
    browser::when_shown(|_| {
        let path = split_url(&browser::page_url())
            .map(|p| p.path.to_owned())
            .unwrap_or_default();
        event_with("404", "path", path.into());
    });
}

/// The page is being hidden: auto-capture's engagement and the vitals reported on hide go out.
pub(crate) fn on_hide() {
    report_engagement();
    report_vitals_on_hide();
}

/// Runs `f` on the auto-capture state, if enabled.
fn with_capture<R>(f: impl FnOnce(&mut Capture) -> R) -> Option<R> {
    with_tracker(|t| t.capture.as_mut().map(f)).flatten()
}

/// `autoCapture`: listens for link clicks, form submits, scrolling, engaged time and errors.
pub(crate) fn start_capture() {
    with_capture(|c| c.engagement.set(browser::is_engaged(), browser::now()));
    listen(Document, "click", true, |event| {
        if let Some((href, download)) = browser::clicked_link(&event) {
            let page_host = split_url(&browser::page_url())
                .map(|p| p.host.to_owned())
                .unwrap_or_default();
            let (name, url) = match capture::link_click(&href, &page_host, download) {
                Some(capture::LinkClick::Download(url)) => ("file_download", url),
                Some(capture::LinkClick::Outbound(url)) => ("outbound_click", url),
                None => return,
            };
            event_with(name, "url", url.into());
        }
    });
    listen(Document, "submit", true, |event| {
        if let Some(form) = browser::submitted_form(&event) {
            event_with("form_submit", "form", form.into());
        }
    });
    listen(Window, "scroll", true, |_| {
        let percent = browser::scroll_percent();
        with_capture(|c| c.scroll = c.scroll.max(percent));
    });
    // Visible and focused, or not: engaged time.
    for (target, name) in [
        (Window, "focus"),
        (Window, "blur"),
        (Document, "visibilitychange"),
    ] {
        listen(target, name, true, |_| {
            with_capture(|c| c.engagement.set(browser::is_engaged(), browser::now()));
        });
    }
    listen(Window, "error", true, |event| {
        let Some(message) = browser::get_str(&event, "message") else {
            return;
        };
        let Some(message) = capture::error_message(&message) else {
            return;
        };
        let first = with_capture(|c| {
            let first = !c.errors.contains(&message) && c.errors.len() < 10;
            if first {
                c.errors.push(message.clone());
            }
            first
        });
        if first == Some(true) {
            event_with("js_error", "message", message.into());
        }
    });
}

/// Runs `f` on the web-vitals state, if measured.
fn with_vitals<R>(f: impl FnOnce(&mut Vitals) -> R) -> Option<R> {
    with_tracker(|t| t.vitals.as_mut().map(f)).flatten()
}

/// Sends one `web_vital` event: `{ metric, value, rating }` (ms; CLS unitless).
fn report_vital(metric: &str, value: f64) {
    let props = browser::object();
    browser::put(&props, "metric", metric.into());
    browser::put(&props, "value", vitals::rounded(metric, value).into());
    browser::put(&props, "rating", vitals::rating(metric, value).into());
    event("web_vital".into(), &props, Origin::now());
}

/// `webVitals`: TTFB now, then observes paint, LCP, layout-shift and event-timing entries.
pub(crate) fn start_vitals() {
    let first_hidden = if browser::is_hidden() {
        0.0
    } else {
        f64::INFINITY
    };
    let entry = browser::navigation_entry();
    let activation = entry
        .and_then(|e| browser::get_number(&e, "activationStart"))
        .unwrap_or(0.0);
    with_vitals(|v| *v = Vitals::new(first_hidden, activation));
    if let Some(response) = entry.and_then(|e| browser::get_number(&e, "responseStart")) {
        if response > 0.0 {
            report_vital("TTFB", vitals::ttfb(response, activation));
        }
    }
    browser::observe("paint", None, |list| {
        browser::each_entry(&list, |entry| {
            if browser::get_str(entry, "name").as_deref() != Some("first-contentful-paint") {
                return;
            }
            let start = browser::get_number(entry, "startTime").unwrap_or(0.0);
            if let Some(fcp) =
                with_vitals(|v| vitals::visible_value(start, v.activation, v.first_hidden))
                    .flatten()
            {
                report_vital("FCP", fcp);
            }
        })
    });
    browser::observe("largest-contentful-paint", None, |list| {
        browser::each_entry(&list, |entry| {
            let start = browser::get_number(entry, "startTime").unwrap_or(0.0);
            with_vitals(|v| {
                if !v.lcp_final {
                    if let Some(lcp) = vitals::visible_value(start, v.activation, v.first_hidden) {
                        v.lcp = Some(lcp);
                    }
                }
            });
        })
    });
    browser::observe("layout-shift", None, |list| {
        browser::each_entry(&list, |entry| {
            let start = browser::get_number(entry, "startTime").unwrap_or(0.0);
            let value = browser::get_number(entry, "value").unwrap_or(0.0);
            let input = browser::get_bool(entry, "hadRecentInput") == Some(true);
            with_vitals(|v| v.cls.add(start, value, input));
        })
    });
    browser::observe("event", Some(40.0), |list| {
        browser::each_entry(&list, on_event_timing)
    });
    browser::observe("first-input", None, |list| {
        browser::each_entry(&list, on_event_timing)
    });
    // LCP stops at the first input: later paints are caused by the visitor.
    for name in ["keydown", "click"] {
        listen(Window, name, true, |_| finalize_lcp());
    }
    listen(Window, "pageshow", false, |event| {
        if browser::get_bool(&event, "persisted") == Some(true) {
            on_restore(&event);
        }
    });
}

/// A back/forward-cache restore is a new page view to measure, as `web-vitals` does: CLS and INP
/// start again (reported when the page is next hidden), TTFB is 0, and FCP and LCP are the time
/// from the restore to the next frame after the one it painted (two animation frames). No paint
/// or LCP entries arrive for a restored page, so LCP is final at once.
fn on_restore(event: &JsValue) {
    let restored_at = browser::get_number(event, "timeStamp").unwrap_or(0.0);
    with_vitals(|v| {
        *v = Vitals::new(f64::INFINITY, restored_at);
        v.lcp_final = true;
    });
    report_vital("TTFB", 0.0);
    browser::next_frame(|_| {
        browser::next_frame(|_| {
            let since = with_vitals(|v| browser::perf_now() - v.activation).unwrap_or(0.0);
            report_vital("FCP", since);
            report_vital("LCP", since);
        })
    });
}

/// An `event` or `first-input` entry: an interaction's latency for INP.
fn on_event_timing(entry: &JsValue) {
    let id = browser::get_number(entry, "interactionId").unwrap_or(0.0) as u64;
    let duration = browser::get_number(entry, "duration").unwrap_or(0.0);
    with_vitals(|v| {
        v.inp.add(id, duration);
        if id > 0 {
            v.interaction_ids = (v.interaction_ids.0.min(id), v.interaction_ids.1.max(id));
        }
    });
}

fn finalize_lcp() {
    let lcp = with_vitals(|v| {
        let first = !v.lcp_final;
        v.lcp_final = true;
        v.lcp.filter(|_| first)
    })
    .flatten();
    if let Some(lcp) = lcp {
        report_vital("LCP", lcp);
    }
}

/// The first time the page is hidden: LCP (if not yet final), CLS and INP go out.
fn report_vitals_on_hide() {
    let now = browser::perf_now();
    let Some(first) = with_vitals(|v| {
        v.first_hidden = v.first_hidden.min(now);
        !core::mem::replace(&mut v.reported, true)
    }) else {
        return;
    };
    if !first {
        return;
    }
    finalize_lcp();
    let (cls, inp) = with_vitals(|v| {
        let (min, max) = v.interaction_ids;
        // Chrome gives interactions ids 7 apart: `web-vitals` estimates the count the same way.
        let count = if max >= min {
            ((max - min) / 7 + 1) as u32
        } else {
            0
        };
        (v.cls.value, v.inp.value(count))
    })
    .unwrap_or((0.0, None));
    report_vital("CLS", cls);
    if let Some(inp) = inp {
        report_vital("INP", inp);
    }
}

/// Auto-capture: one `engagement` event with the engaged seconds and deepest scroll since the last.
fn report_engagement() {
    let report = with_tracker(|t| {
        let c = t.capture.as_mut()?;
        let seconds = c.engagement.take_seconds(browser::now());
        let scroll = core::mem::take(&mut c.scroll).max(browser::scroll_percent());
        (seconds > 0).then_some((seconds, scroll))
    })
    .flatten();
    if let Some((seconds, scroll)) = report {
        let props = browser::object();
        browser::put(&props, "seconds", seconds.into());
        browser::put(&props, "scroll", scroll.into());
        event("engagement".into(), &props, Origin::now());
    }
}
