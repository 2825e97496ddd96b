// The README is the crate documentation, and its examples are doctests. Its fake-server example
// needs the `testing` feature, so without it the crate docs point to the README instead.
#![cfg_attr(feature = "testing", doc = include_str!("../README.md"))]
#![cfg_attr(
    not(feature = "testing"),
    doc = "Rust SDK for the Twelve Labs v1.2 API. Start with [`Client`]; the README (rendered \
           here when the `testing` feature is on, as on docs.rs) has the full guide."
)]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod api;
#[cfg(feature = "blocking")]
#[cfg_attr(docsrs, doc(cfg(feature = "blocking")))]
pub mod blocking;
pub mod client;
pub mod error;
pub mod ids;
#[cfg(feature = "ingest")]
#[cfg_attr(docsrs, doc(cfg(feature = "ingest")))]
pub mod ingest;
pub mod mode;
pub mod model;
pub mod pagination;
pub mod rate_limit;
pub mod raw;
pub mod retry;
#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;
pub mod transport;
pub mod upload;
pub mod wait;

pub use api::Filter;
pub use api::indexes::EngineConfig;
pub use client::{Client, ClientBuilder, Config};
pub use error::{ApiError, DecodeError, Error, ErrorCode, RateLimitedError, Result};
pub use ids::{EmbedTaskId, EngineId, IndexId, IntegrationId, TaskId, VideoId};
pub use model::{
    ClassifiedVideo, CreatedTask, Gist, Index, ReadyTask, SearchClip, SearchHit, Task, Video,
};
pub use pagination::{Page, TokenPage};
pub use rate_limit::RateLimit;
pub use raw::types::{
    Addon, ClassifyOption, Confidence, ConversationOption, EmbedTaskStatus, EngineOption, GistType,
    GroupBy, SearchOperator, SearchOption, SearchSortOption, SearchThreshold, SortBy, SortOption,
    TaskStatus,
};
pub use retry::RetryPolicy;
