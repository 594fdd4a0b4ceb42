//! Errors: every failure of a request becomes one [`AppError`], answered as
//! `{"error":"<code>","message":"<what is wrong>"}`. 4xx codes are stable and say what to fix; a 5xx
//! is opaque (`internal`) and its cause is logged without request data. Must not: echo secrets,
//! IPs or user agents in a message.

use sightline_core::ingest::GateError;
use sightline_core::stats::StatsError;
use sightline_core::wire::{WireError, MAX_BODY_BYTES};

/// Everything that can stop a request.
#[derive(Debug)]
pub enum AppError {
    /// The body is not a beacon (400).
    Wire(WireError),
    /// Unknown site (403) or origin not allowed (403).
    Gate(GateError),
    /// A stats request that cannot be answered as asked (400).
    Stats(StatsError),
    /// The body is larger than the wire allows (413).
    BodyTooLarge,
    /// The body is not `text/plain` or `application/json` (415).
    UnsupportedMediaType,
    /// No or wrong bearer token (401).
    Unauthorized,
    /// No such route (404).
    NotFound,
    /// The route exists, but not for this method (405).
    MethodNotAllowed,
    /// A failure of ours or of the platform (500); the detail is logged, not answered.
    Internal(String),
}

impl AppError {
    /// HTTP status.
    pub fn status(&self) -> u16 {
        match self {
            AppError::Wire(_) | AppError::Stats(_) => 400,
            AppError::Unauthorized => 401,
            AppError::Gate(_) => 403,
            AppError::NotFound => 404,
            AppError::MethodNotAllowed => 405,
            AppError::BodyTooLarge => 413,
            AppError::UnsupportedMediaType => 415,
            AppError::Internal(_) => 500,
        }
    }

    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Wire(e) => e.code(),
            AppError::Gate(e) => e.code(),
            AppError::Stats(e) => e.code(),
            AppError::BodyTooLarge => "body_too_large",
            AppError::UnsupportedMediaType => "unsupported_media_type",
            AppError::Unauthorized => "unauthorized",
            AppError::NotFound => "not_found",
            AppError::MethodNotAllowed => "method_not_allowed",
            AppError::Internal(_) => "internal",
        }
    }

    /// A sentence for a human.
    pub fn message(&self) -> String {
        match self {
            AppError::Wire(e) => e.message(),
            AppError::Gate(e) => e.message(),
            AppError::Stats(e) => e.message(),
            AppError::BodyTooLarge => format!("body exceeds {MAX_BODY_BYTES} bytes"),
            AppError::UnsupportedMediaType => {
                "Content-Type must be text/plain or application/json".into()
            }
            AppError::Unauthorized => {
                "send `Authorization: Bearer <read token>` with a valid token for this site".into()
            }
            AppError::NotFound => "no such endpoint".into(),
            AppError::MethodNotAllowed => "this endpoint does not take this method".into(),
            AppError::Internal(_) => "internal error; the request can be retried".into(),
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
