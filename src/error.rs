//! The crate's one error type.
//!
//! Every fallible call returns [`Result<T>`](Result), whose error is [`Error`]. Match on the
//! variant for the kind of failure, or use the accessors: [`Error::status`], [`Error::code`],
//! [`Error::is_retryable`].
//!
//! ```no_run
//! # async fn demo(tl: twelvelabs::Client) {
//! use twelvelabs::{Error, ErrorCode};
//!
//! match tl.call(tl.raw().get_index().index_id("666599d4e6fb7df29de0f89c").send()).await {
//!     Ok(index) => println!("{}", index.index_name.unwrap_or_default()),
//!     Err(e) if e.code() == Some(&ErrorCode::ResourceNotExists) => println!("no such index"),
//!     Err(Error::RateLimited(r)) => println!("slow down; retry after {:?}", r.retry_after),
//!     Err(e) => eprintln!("{e}"),
//! }
//! # }
//! ```

use std::borrow::Cow;
use std::path::PathBuf;
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::HeaderMap;

use crate::rate_limit::RateLimit;
pub use crate::raw::types::ErrorCode;

/// `Result<T, twelvelabs::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Bodies longer than this are cut in error messages.
pub(crate) const SNIPPET_LEN: usize = 512;

/// Everything that can go wrong in a call.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The API answered with an error status (any non-2xx except 429).
    #[error(transparent)]
    Api(Box<ApiError>),
    /// The API answered 429 Too Many Requests, and retrying was not possible or not allowed
    /// (the server asked for a longer wait than [`RetryPolicy::max_retry_after`](crate::RetryPolicy::max_retry_after),
    /// or the retries ran out).
    #[error(transparent)]
    RateLimited(Box<RateLimitedError>),
    /// The request timed out (connect, or the whole request), on every attempt.
    #[error("request timed out ({attempts} attempt{s}): {source}", s = plural(*attempts))]
    Timeout {
        /// How many attempts were made.
        attempts: u32,
        /// The transport error.
        #[source]
        source: reqwest::Error,
    },
    /// The connection failed (refused, reset, DNS, TLS), on every attempt.
    #[error("connection failed ({attempts} attempt{s}): {source}", s = plural(*attempts))]
    Connection {
        /// How many attempts were made.
        attempts: u32,
        /// The transport error.
        #[source]
        source: reqwest::Error,
    },
    /// A 2xx response whose body is not what the API documents.
    #[error(transparent)]
    Decode(Box<DecodeError>),
    /// An argument was rejected before any request was sent.
    #[error("invalid input `{field}`: {reason}")]
    InvalidInput {
        /// The argument or field, as the API names it (e.g. `page_limit`).
        field: Cow<'static, str>,
        /// What is wrong with it.
        reason: String,
    },
    /// The client could not be configured (missing API key, bad base URL…). No request was sent.
    #[error("configuration error: {0}")]
    Config(String),
    /// A waited-for task ended in `failed`.
    #[error("task {} failed (status {})", .0.id(), .0.status())]
    TaskFailed(Box<crate::wait::WaitedTask>),
    /// Waiting for a task reached its deadline; carries the last state seen.
    #[error("task {} was not done after {waited:?} (last status {})", last.id(), last.status())]
    WaitTimeout {
        /// How long the waiter waited.
        waited: Duration,
        /// The task as last seen.
        last: Box<crate::wait::WaitedTask>,
    },
    /// The text-generation stream reported an error, or ended without `stream_end`.
    #[error("generation stream failed: {message}")]
    StreamFailed {
        /// What the stream said (or that it ended early).
        message: String,
        /// The error code, when the stream sent one.
        code: Option<String>,
    },
    /// Reading a local file failed.
    #[error("I/O error on {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

fn plural(n: u32) -> &'static str {
    if n == 1 { "" } else { "s" }
}

impl Error {
    /// The HTTP status of the response that caused the error, if there was one.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Self::Api(e) => Some(e.status),
            Self::RateLimited(_) => Some(StatusCode::TOO_MANY_REQUESTS),
            Self::Decode(e) => e.status,
            _ => None,
        }
    }

    /// The API's error code (`resource_not_exists`, `parameter_invalid`, …), if the body had one.
    pub fn code(&self) -> Option<&ErrorCode> {
        match self {
            Self::Api(e) => e.code.as_ref(),
            Self::RateLimited(e) => e.code.as_ref(),
            _ => None,
        }
    }

    /// Whether repeating the same call later may succeed: rate limits, 408/5xx, timeouts and
    /// connection failures. (The client has already retried per its [`RetryPolicy`](crate::RetryPolicy).)
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::RateLimited(_) | Self::Timeout { .. } | Self::Connection { .. } => true,
            Self::Api(e) => matches!(e.status.as_u16(), 408 | 500 | 502 | 503 | 504),
            _ => false,
        }
    }

    /// The request id the server assigned, if the response carried one.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Self::Api(e) => e.request_id.as_deref(),
            Self::RateLimited(e) => e.request_id.as_deref(),
            _ => None,
        }
    }

    /// An [`Error::InvalidInput`].
    pub(crate) fn invalid(field: impl Into<Cow<'static, str>>, reason: impl Into<String>) -> Self {
        Self::InvalidInput {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// Builds the error for a non-2xx response from its parts.
    pub(crate) fn from_response(
        status: StatusCode,
        headers: &HeaderMap,
        body: &[u8],
        attempts: u32,
    ) -> Self {
        let parsed: Option<crate::raw::types::ErrorBody> = serde_json::from_slice(body).ok();
        let request_id = request_id(headers);
        let rate_limit = RateLimit::from_headers(headers);
        let (code, message, docs_url) = match parsed {
            Some(b) => (Some(b.code), b.message, b.docs_url),
            None => (None, snippet(body), None),
        };
        if status == StatusCode::TOO_MANY_REQUESTS {
            return Self::RateLimited(Box::new(RateLimitedError {
                retry_after: crate::retry::server_delay(
                    status,
                    headers,
                    std::time::SystemTime::now(),
                ),
                rate_limit,
                code,
                message,
                request_id,
                attempts,
            }));
        }
        Self::Api(Box::new(ApiError {
            status,
            code,
            message,
            docs_url,
            request_id,
            rate_limit,
            attempts,
        }))
    }
}

/// An error status from the API, with the documented body `{code, message, docs_url?}` decoded.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The API's error code; `None` when the body was not the documented JSON (an HTML 502 page,
    /// an empty 401…).
    pub code: Option<ErrorCode>,
    /// The API's message, or the start of the body when it was not JSON.
    pub message: String,
    /// A link to the documentation of the error, when the API sent one.
    pub docs_url: Option<String>,
    /// The request id, from `x-request-id` (or `request-id`, `x-amzn-requestid`) when present.
    pub request_id: Option<String>,
    /// The rate-limit headers of the response, when present.
    pub rate_limit: Option<RateLimit>,
    /// How many attempts were made.
    pub attempts: u32,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HTTP {}", self.status)?;
        if let Some(code) = &self.code {
            write!(f, " {code}")?;
        }
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        if let Some(url) = &self.docs_url {
            write!(f, " (see {url})")?;
        }
        if let Some(id) = &self.request_id {
            write!(f, " [request id {id}]")?;
        }
        if self.attempts > 1 {
            write!(f, " after {} attempts", self.attempts)?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

/// The API answered 429 Too Many Requests.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct RateLimitedError {
    /// How long the server asked to wait (`Retry-After`, or the time until `X-Ratelimit-Reset`).
    pub retry_after: Option<Duration>,
    /// The `X-Ratelimit-*` headers of the response.
    pub rate_limit: Option<RateLimit>,
    /// The API's error code, if the body had one (the v1.3 docs say the body is empty).
    pub code: Option<ErrorCode>,
    /// The API's message, or the start of the body.
    pub message: String,
    /// The request id, when present.
    pub request_id: Option<String>,
    /// How many attempts were made.
    pub attempts: u32,
}

impl std::fmt::Display for RateLimitedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "rate limited (HTTP 429)")?;
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        if let Some(d) = self.retry_after {
            write!(f, "; retry after {}s", d.as_secs_f64().ceil())?;
        }
        if let Some(r) = &self.rate_limit {
            write!(f, " ({r})")?;
        }
        if self.attempts > 1 {
            write!(f, " after {} attempts", self.attempts)?;
        }
        Ok(())
    }
}

impl std::error::Error for RateLimitedError {}

/// A success response whose body could not be decoded.
#[derive(Debug)]
#[non_exhaustive]
pub struct DecodeError {
    /// The HTTP status of the response, when known.
    pub status: Option<StatusCode>,
    /// Where in the JSON document decoding failed (e.g. `data[3].metadata.duration`).
    pub path: String,
    /// The start of the body (at most 512 bytes).
    pub snippet: String,
    /// The decoder's error.
    pub source: serde_json::Error,
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "could not decode the response")?;
        if let Some(status) = self.status {
            write!(f, " (HTTP {status})")?;
        }
        write!(
            f,
            " at `{}`: {}; body starts: {}",
            self.path, self.source, self.snippet
        )
    }
}

impl std::error::Error for DecodeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

impl DecodeError {
    /// Decodes `body` as `T` again to find the JSON path of the failure.
    pub(crate) fn new<T: serde::de::DeserializeOwned>(
        status: Option<StatusCode>,
        body: &[u8],
        fallback: serde_json::Error,
    ) -> Self {
        let mut de = serde_json::Deserializer::from_slice(body);
        let (path, source) = match serde_path_to_error::deserialize::<_, T>(&mut de) {
            Err(e) => (e.path().to_string(), e.into_inner()),
            Ok(_) => (".".to_owned(), fallback),
        };
        Self {
            status,
            path,
            snippet: snippet(body),
            source,
        }
    }
}

/// The first [`SNIPPET_LEN`] bytes of a body as text (lossy), marked when cut.
pub(crate) fn snippet(body: &[u8]) -> String {
    let cut = body.len() > SNIPPET_LEN;
    let head = body.get(..SNIPPET_LEN).unwrap_or(body);
    let mut s = String::from_utf8_lossy(head).trim().to_owned();
    if cut {
        s.push('…');
    }
    s
}

fn request_id(headers: &HeaderMap) -> Option<String> {
    ["x-request-id", "request-id", "x-amzn-requestid"]
        .iter()
        .find_map(|h| headers.get(*h))
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn api_error_from_documented_body() {
        let mut h = HeaderMap::new();
        h.insert("x-request-id", HeaderValue::from_static("req-42"));
        let body = br#"{"code":"resource_not_exists","message":"Resource with id '6528b54a43e8c47e4eb47e80' does not exist in video collection."}"#;
        let e = Error::from_response(StatusCode::NOT_FOUND, &h, body, 1);
        assert_eq!(e.status(), Some(StatusCode::NOT_FOUND));
        assert_eq!(e.code(), Some(&ErrorCode::ResourceNotExists));
        assert_eq!(e.request_id(), Some("req-42"));
        assert!(!e.is_retryable());
        assert_eq!(
            e.to_string(),
            "HTTP 404 Not Found resource_not_exists: Resource with id '6528b54a43e8c47e4eb47e80' \
             does not exist in video collection. [request id req-42]"
        );
    }

    #[test]
    fn non_json_bodies_keep_the_status() {
        let html = b"<html><body><h1>502 Bad Gateway</h1></body></html>";
        let e = Error::from_response(StatusCode::BAD_GATEWAY, &HeaderMap::new(), html, 3);
        assert_eq!(e.status(), Some(StatusCode::BAD_GATEWAY));
        assert_eq!(e.code(), None);
        assert!(e.is_retryable());
        assert!(e.to_string().contains("502 Bad Gateway"), "{e}");
        assert!(e.to_string().ends_with("after 3 attempts"), "{e}");

        let e = Error::from_response(StatusCode::UNAUTHORIZED, &HeaderMap::new(), b"", 1);
        assert_eq!(e.status(), Some(StatusCode::UNAUTHORIZED));
        assert_eq!(e.to_string(), "HTTP 401 Unauthorized");
    }

    #[test]
    fn unknown_codes_are_kept() {
        let body = br#"{"code":"quota_melted","message":"m","docs_url":"https://docs.example/x"}"#;
        let e = Error::from_response(StatusCode::BAD_REQUEST, &HeaderMap::new(), body, 1);
        assert_eq!(e.code().map(ErrorCode::as_str), Some("quota_melted"));
        assert!(e.to_string().contains("(see https://docs.example/x)"));
    }

    #[test]
    fn rate_limited_carries_the_headers() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", HeaderValue::from_static("30"));
        h.insert("x-ratelimit-limit", HeaderValue::from_static("50"));
        h.insert("x-ratelimit-remaining", HeaderValue::from_static("0"));
        let e = Error::from_response(StatusCode::TOO_MANY_REQUESTS, &h, b"", 1);
        let Error::RateLimited(r) = &e else {
            panic!("{e:?}")
        };
        assert_eq!(r.retry_after, Some(Duration::from_secs(30)));
        assert_eq!(r.rate_limit.as_ref().unwrap().remaining, Some(0));
        assert!(e.is_retryable());
        assert_eq!(e.status(), Some(StatusCode::TOO_MANY_REQUESTS));
    }

    #[test]
    fn decode_error_names_the_json_path() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Page {
            data: Vec<Item>,
        }
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Item {
            duration: f64,
        }
        let body = br#"{"data":[{"duration":1},{"duration":"long"}]}"#;
        let first = serde_json::from_slice::<Page>(body).unwrap_err();
        let e = DecodeError::new::<Page>(Some(StatusCode::OK), body, first);
        assert_eq!(e.path, "data[1].duration");
        assert!(e.to_string().contains("at `data[1].duration`"), "{e}");
    }

    #[test]
    fn snippets_are_bounded() {
        let long = vec![b'x'; 10_000];
        let s = snippet(&long);
        assert_eq!(s.chars().count(), SNIPPET_LEN + 1);
        assert!(s.ends_with('…'));
    }
}
