//! Errors: every failure of a request becomes one [`AppError`], answered as
//! `{"error":"<code>","message":"<what is wrong>"}`. 4xx codes are stable and say what to fix; a 5xx
//! is opaque (`internal`) and its cause is logged without request data. Must not: echo secrets,
//! IPs or user agents in a message.

use sightline_core::admin::AdminError;
use sightline_core::ingest::GateError;
use sightline_core::query::QueryError;
use sightline_core::stats::StatsError;
use sightline_core::wire::WireError;

/// Everything that can stop a request.
#[derive(Debug)]
pub enum AppError {
    /// The body is not a beacon (400).
    Wire(WireError),
    /// Unknown site (403) or origin not allowed (403).
    Gate(GateError),
    /// A stats request that cannot be answered as asked (400).
    Stats(StatsError),
    /// An admin body with a missing or wrong field (400).
    Admin(AdminError),
    /// A query, segment or funnel that cannot be taken as sent (400); the message names the fault.
    Query(QueryError),
    /// The id is taken (409); names the kind of thing.
    Conflict(&'static str),
    /// A query parameter is wrong (400): the error code, and a message naming the parameter.
    Invalid(&'static str, String),
    /// No such tenant or site (404); names the kind of thing.
    Missing(&'static str),
    /// The admin API is off because no `ADMIN_TOKEN` secret is set (403).
    AdminDisabled,
    /// The body is larger than this endpoint allows (413): the limit in bytes.
    BodyTooLarge(usize),
    /// The body is not `text/plain` or `application/json` (415).
    UnsupportedMediaType,
    /// No or wrong bearer token (401); names the token wanted.
    Unauthorized(&'static str),
    /// A valid token that may not do this (403); names the token wanted.
    Forbidden(&'static str),
    /// A share locked to a segment, on a route that cannot apply its segment (403).
    SegmentLocked,
    /// The site keeps as many of these as it may (409): what, and how many.
    LimitReached(&'static str, usize),
    /// No such route (404).
    NotFound,
    /// The route exists, but not for this method (405).
    MethodNotAllowed,
    /// A fault the test suite asked for (`FAULTS`, `fault-` sites only): 503, retry later.
    Injected,
    /// A failure of ours or of the platform (500); the detail is logged, not answered.
    Internal(String),
}

impl AppError {
    /// Seconds to put in `Retry-After`, for answers that ask the sender to come back later.
    pub fn retry_after(&self) -> Option<u32> {
        match self {
            AppError::Gate(GateError::RateLimited) => {
                Some(sightline_core::ingest::gate::RETRY_AFTER_SECONDS)
            }
            AppError::Injected => Some(1),
            _ => None,
        }
    }

    /// HTTP status.
    pub fn status(&self) -> u16 {
        match self {
            AppError::Wire(_)
            | AppError::Stats(_)
            | AppError::Admin(_)
            | AppError::Query(_)
            | AppError::Invalid(..) => 400,
            AppError::Unauthorized(_)
            | AppError::Gate(GateError::WrongWriteToken | GateError::WriteTokenRequired) => 401,
            AppError::Gate(GateError::SiteMismatch) => 400,
            AppError::Gate(GateError::RateLimited) => 429,
            AppError::Gate(_)
            | AppError::AdminDisabled
            | AppError::Forbidden(_)
            | AppError::SegmentLocked => 403,
            AppError::NotFound | AppError::Missing(_) => 404,
            AppError::Conflict(_) | AppError::LimitReached(..) => 409,
            AppError::MethodNotAllowed => 405,
            AppError::BodyTooLarge(_) => 413,
            AppError::UnsupportedMediaType => 415,
            AppError::Internal(_) => 500,
            AppError::Injected => 503,
        }
    }

    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Wire(e) => e.code(),
            AppError::Gate(e) => e.code(),
            AppError::Stats(e) => e.code(),
            AppError::Admin(e) => e.code(),
            AppError::Query(e) => e.code(),
            AppError::Conflict(_) => "conflict",
            AppError::Invalid(code, _) => code,
            AppError::LimitReached(..) => "limit_reached",
            AppError::Missing(_) => "not_found",
            AppError::AdminDisabled => "admin_disabled",
            AppError::BodyTooLarge(_) => "body_too_large",
            AppError::UnsupportedMediaType => "unsupported_media_type",
            AppError::Unauthorized(_) => "unauthorized",
            AppError::Forbidden(_) | AppError::SegmentLocked => "forbidden",
            AppError::NotFound => "not_found",
            AppError::MethodNotAllowed => "method_not_allowed",
            AppError::Internal(_) => "internal",
            AppError::Injected => "unavailable",
        }
    }

    /// A sentence for a human.
    pub fn message(&self) -> String {
        match self {
            AppError::Wire(e) => e.message(),
            AppError::Gate(e) => e.message(),
            AppError::Stats(e) => e.message(),
            AppError::Admin(e) => e.message(),
            AppError::Query(e) => e.message().to_owned(),
            AppError::Conflict(what) => format!("a {what} with this id exists already"),
            AppError::Invalid(_, message) => message.clone(),
            AppError::LimitReached(what, max) => {
                format!("a site keeps at most {max} {what}; delete one first")
            }
            AppError::Missing(what) => format!("no {what} has this id"),
            AppError::AdminDisabled => {
                "the admin API is off: set the ADMIN_TOKEN secret (wrangler secret put ADMIN_TOKEN)"
                    .into()
            }
            AppError::BodyTooLarge(max) => format!("body exceeds {max} bytes"),
            AppError::UnsupportedMediaType => {
                "Content-Type must be text/plain or application/json".into()
            }
            AppError::Unauthorized(token) => {
                format!("send `Authorization: Bearer <{token}>` with a valid token")
            }
            AppError::Forbidden(token) => {
                format!("this token may only read; this takes `Authorization: Bearer <{token}>`")
            }
            AppError::SegmentLocked => "a segment-locked share reads only POST /api/v2/query, \
                 where its segment applies to every query; the stats reports cannot apply it"
                .into(),
            AppError::NotFound => "no such endpoint".into(),
            AppError::MethodNotAllowed => "this endpoint does not take this method".into(),
            AppError::Internal(_) => "internal error; the request can be retried".into(),
            AppError::Injected => "unavailable (injected fault); retry later".into(),
        }
    }
}

impl From<WireError> for AppError {
    fn from(e: WireError) -> Self {
        AppError::Wire(e)
    }
}

impl From<GateError> for AppError {
    fn from(e: GateError) -> Self {
        AppError::Gate(e)
    }
}

impl From<AdminError> for AppError {
    fn from(e: AdminError) -> Self {
        AppError::Admin(e)
    }
}

impl From<QueryError> for AppError {
    fn from(e: QueryError) -> Self {
        AppError::Query(e)
    }
}

impl From<StatsError> for AppError {
    fn from(e: StatsError) -> Self {
        AppError::Stats(e)
    }
}

impl From<worker::Error> for AppError {
    fn from(e: worker::Error) -> Self {
        AppError::Internal(e.to_string())
    }
}
