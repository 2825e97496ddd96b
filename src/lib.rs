//! Rust SDK for the Twelve Labs v1.2 video understanding API.
//!
//! Start with [`Client`]: [`Client::from_env`] reads `TWELVE_LABS_API_KEY` (and optionally
//! `TWELVELABS_BASE_URL`). Every call returns [`Result`], whose [`Error`] tells API errors, rate
//! limits, timeouts, connection failures, undecodable bodies and invalid input apart. Requests are
//! retried per the client's [`RetryPolicy`]. The generated low-level client is [`raw`].
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod client;
pub mod error;
pub mod rate_limit;
pub mod raw;
pub mod retry;
pub mod transport;

pub use client::{Client, ClientBuilder, Config};
pub use error::{ApiError, DecodeError, Error, ErrorCode, RateLimitedError, Result};
pub use rate_limit::RateLimit;
pub use retry::RetryPolicy;

/// Which hand-written operations the crate implements (read by the coverage test).
#[doc(hidden)]
pub mod __coverage {
    /// operationIds (and stripped media types, `operationId status media-type`) implemented by hand.
    pub const HAND_WRITTEN: &[&str] = &[];
}
