//! `sightline-core`: the pure heart of Sightline, shared by the browser SDK and the edge worker.
//!
//! Input is plain data (bytes, strings, numbers, and the clock, salts and geo passed in as arguments);
//! output is plain data. Nothing here reads the clock, the network, storage or randomness, and nothing
//! depends on `wasm-bindgen`, `web-sys` or `worker`.
//!
//! - [`wire`]: the one versioned wire format, its limits and error codes (used by the SDK and the worker).
//! - [`encode`]: hex and decimal text without `core::fmt` (used by the SDK and the worker).
//! - [`scrub`]: URL splitting, query allowlists and path scrubbing (used by the SDK and the worker).
//! - [`privacy`]: the one privacy policy — sensitive prop keys, emails, card and phone numbers in
//!   any encoding, and each prop's verdict (the SDK applies it, the collector enforces it).
//! - [`commerce`]: conversion and order event names, currency codes (used by the SDK and the worker).
//! - `admin` (feature `server`): tenant and site settings as the admin API takes them, validated.
//! - `engine` (feature `server`): answers a Stats API v2 query from raw events — metrics,
//!   filters, comparisons, funnels — in Plausible's shape.
//! - `faults` (feature `server`): the test suite's fault injection rates, for `fault-` sites only.
//! - `forward` (feature `server`): which stored events go on to GA4 and Umami, mapped to their
//!   protocols and batched.
//! - `ingest` (feature `server`): the collector's stages, in the order `ingest::run` states once.
//! - `query` (feature `server`): Plausible's Stats API v2 query language, parsed and validated.
//! - `saved` (feature `server`): a site's segments, funnels and share links, validated; segments
//!   expanded into a query, a share's segment locked onto its holder's.
//! - `stats` (feature `server`): report queries parsed into data, and result shaping.
//! - `zone` (feature `server`): a site's local days and hours in its time zone.
//! - `token` (feature `server`): read-token hashing and `Authorization` parsing.
#![deny(missing_docs)]
// Without `server` (the SDK's build) only `alloc` is needed: no `std`, so the SDK's wasm carries none
// of std's panic and formatting machinery (several KB). Tests keep `std` for their helpers.
#![cfg_attr(not(any(feature = "server", test)), no_std)]

extern crate alloc;

/// Without `std` on wasm (the SDK), a panic traps, as `panic = "abort"` did: the SDK never panics on
/// purpose, and a trap never formats a message (no `core::fmt` in the wasm).
#[cfg(all(target_arch = "wasm32", not(any(feature = "server", test))))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    core::arch::wasm32::unreachable()
}

pub mod commerce;
pub mod encode;
pub mod privacy;
pub mod scrub;
pub mod wire;

#[cfg(feature = "server")]
pub mod admin;
#[cfg(feature = "server")]
pub mod audit;
#[cfg(feature = "server")]
pub mod engine;
#[cfg(feature = "server")]
pub mod export;
#[cfg(feature = "server")]
pub mod faults;
#[cfg(feature = "server")]
pub mod forward;
#[cfg(feature = "server")]
pub mod ingest;
#[cfg(feature = "server")]
pub mod ops;
#[cfg(feature = "server")]
pub mod query;
#[cfg(feature = "server")]
pub mod retention;
#[cfg(feature = "server")]
pub mod saved;
#[cfg(feature = "server")]
pub mod stats;
#[cfg(feature = "server")]
pub mod token;
#[cfg(feature = "server")]
pub mod zone;
