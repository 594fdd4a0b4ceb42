//! Session policy (pure): keep the stored session while it is active, start a new one after 30 idle
//! minutes. Input: the stored id and last-activity time, and `now`. Output: keep or renew.
//! Must not: read storage or the clock (the browser edge does, and passes them in).

/// Idle time after which a visit ends, in ms.
pub const SESSION_IDLE_MS: f64 = 30.0 * 60.0 * 1000.0;

/// True when a stored session may go on at `now`.
pub fn is_active(stored_id: Option<&str>, last_activity: Option<f64>, now: f64) -> bool {
    match (stored_id, last_activity) {
        (Some(id), Some(last)) => {
            sightline_core::wire::is_valid_id(id) && now >= last && now - last < SESSION_IDLE_MS
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_end_after_thirty_idle_minutes() {
        assert!(is_active(
            Some("s1"),
            Some(1000.0),
            1000.0 + SESSION_IDLE_MS - 1.0
        ));
        assert!(!is_active(
            Some("s1"),
            Some(1000.0),
            1000.0 + SESSION_IDLE_MS
        ));
        assert!(!is_active(None, Some(1000.0), 1000.0));
        assert!(!is_active(Some("bad id!"), Some(1000.0), 1000.0));
        assert!(
            !is_active(Some("s1"), Some(5000.0), 1000.0),
            "a clock that went back renews"
        );
    }
}
