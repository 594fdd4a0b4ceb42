//! Query errors: why a `POST /api/v2/query` body is refused (answered 400).
//!
//! Input: the stage that found the fault and a sentence naming it. Output: a [`QueryError`] with a
//! stable machine code ([`QueryError::code`]) and a message in Plausible's wording where Plausible
//! has one (`#/metrics/0: Invalid metric "x"`, "Metric `views_per_visit` cannot be queried with
//! `dimensions`."). Must not: echo unbounded input (values quoted in messages are cut short).

use core::fmt;

/// Why a query is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryError {
    kind: ErrorKind,
    message: String,
}

/// Which part of the query is wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The body is not JSON, or is larger than [`super::MAX_BODY_BYTES`].
    InvalidJson,
    /// The body is JSON but not a query object: a missing required key, an unknown key, `site_id`.
    InvalidQuery,
    /// `metrics`, or a metric that a rule does not allow with the rest of the query.
    InvalidMetrics,
    /// `dimensions`.
    InvalidDimensions,
    /// `filters`.
    InvalidFilters,
    /// `date_range` (or a comparison's `date_range`).
    InvalidDateRange,
    /// `order_by`.
    InvalidOrderBy,
    /// `include`.
    InvalidInclude,
    /// `pagination`.
    InvalidPagination,
    /// `funnel`, or what a funnel query may not carry; a funnel definition (`crate::saved`).
    InvalidFunnel,
    /// A segment definition's name or shape, or a segment id (`crate::saved`).
    InvalidSegment,
    /// A share link's name or shape, or a share id (`crate::saved::share`).
    InvalidShare,
}

impl QueryError {
    /// An error of `kind` saying `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> QueryError {
        QueryError {
            kind,
            message: message.into(),
        }
    }

    /// Which part of the query is wrong.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The stable machine-readable code (Plausible's where it has one: `invalid_metrics`,
    /// `invalid_filters`, `invalid_order_by`, `invalid_include`).
    pub fn code(&self) -> &'static str {
        match self.kind {
            ErrorKind::InvalidJson => "invalid_json",
            ErrorKind::InvalidQuery => "invalid_query",
            ErrorKind::InvalidMetrics => "invalid_metrics",
            ErrorKind::InvalidDimensions => "invalid_dimensions",
            ErrorKind::InvalidFilters => "invalid_filters",
            ErrorKind::InvalidDateRange => "invalid_date_range",
            ErrorKind::InvalidOrderBy => "invalid_order_by",
            ErrorKind::InvalidInclude => "invalid_include",
            ErrorKind::InvalidPagination => "invalid_pagination",
            ErrorKind::InvalidFunnel => "invalid_funnel",
            ErrorKind::InvalidSegment => "invalid_segment",
            ErrorKind::InvalidShare => "invalid_share",
        }
    }

    /// The sentence for a human, naming what is wrong.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for QueryError {}
