//! Rust SDK for the Twelve Labs v1.2 video understanding API.
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod raw;

/// Which hand-written operations the crate implements (read by the coverage test).
#[doc(hidden)]
pub mod __coverage {
    /// operationIds (and stripped media types, `operationId status media-type`) implemented by hand.
    pub const HAND_WRITTEN: &[&str] = &[];
}
