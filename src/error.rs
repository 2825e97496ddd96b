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
use std::fmt::{self, Display, Write as _};
use std::path::PathBuf;
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::HeaderMap;

use crate::rate_limit::RateLimit;
pub use crate::raw::types::ErrorCode;

/// `Result<T, twelvelabs::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The underlying cause of an [`Error::Timeout`] or [`Error::Protocol`]: usually a
/// [`reqwest::Error`] (downcast it to inspect), absent when the client itself ended the attempt.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Bodies longer than this are cut in error messages.
pub(crate) const SNIPPET_LEN: usize = 512;

/// Everything that can go wrong in a call.
///
/// `Display` prints one line in the crate's words, with any text that came from the server
/// shown with control characters escaped (so a hostile body cannot forge log lines or colour a
/// terminal) and the configured API key replaced by `[REDACTED]`. The underlying cause, when
/// there is one, is returned by [`source`](std::error::Error::source) and not repeated in the
/// message: print the chain with `{:#}` in `anyhow`, or walk it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The API answered with an error status (any non-2xx except 429 and redirects).
    #[error(transparent)]
    Api(Box<ApiError>),
    /// The API answered 429 Too Many Requests, and retrying was not possible or not allowed
    /// (the server asked for a longer wait than [`RetryPolicy::max_retry_after`](crate::RetryPolicy::max_retry_after),
    /// or the retries ran out).
    #[error(transparent)]
    RateLimited(Box<RateLimitedError>),
    /// A timeout ended the call: connecting, the request, the upload, or a body that stalled
    /// (see [`TimeoutKind`]), on every attempt.
    #[error("{kind} ({attempts} attempt{s})", s = plural(*attempts))]
    Timeout {
        /// How many attempts were made.
        attempts: u32,
        /// Which limit was reached.
        kind: TimeoutKind,
        /// The transport error, when the HTTP stack reported the timeout (a [`reqwest::Error`]);
        /// `None` when the client's own watchdog ended the attempt.
        #[source]
        source: Option<BoxError>,
    },
    /// The connection failed (refused, reset, DNS, TLS), on every attempt.
    #[error("connection failed ({attempts} attempt{s}): {}", connection_failure(source), s = plural(*attempts))]
    Connection {
        /// How many attempts were made.
        attempts: u32,
        /// The transport error.
        #[source]
        source: reqwest::Error,
    },
    /// The server answered with a redirect (3xx). The v1.2 API never redirects, so the client
    /// follows none: the API key is never sent to another host, and the redirect is not retried.
    /// A redirect usually means a wrong base URL (for example `http://` where the host wants
    /// `https://`) or a proxy in the way.
    #[error("the server redirected (HTTP {status}){}; redirects are not followed (check the base URL)", location_suffix(location.as_deref()))]
    Redirect {
        /// The redirect status (301, 302, 303, 307, 308…).
        status: StatusCode,
        /// The `Location` the server named, if any (not followed, not contacted).
        location: Option<String>,
    },
    /// A response was larger than the client accepts: its body exceeded
    /// [`ClientBuilder::max_response_bytes`](crate::ClientBuilder::max_response_bytes) (declared in
    /// `Content-Length` or counted as it arrived), or one line of the generation stream exceeded
    /// its line limit. Nothing more was read; not retried.
    #[error("{what} exceeds the limit of {limit} bytes{}", declared_suffix(*declared))]
    ResponseTooLarge {
        /// The limit, in bytes.
        limit: u64,
        /// The length the server declared in `Content-Length`, when that is what was refused.
        declared: Option<u64>,
        /// What was too large.
        what: SizeLimited,
    },
    /// The server's answer breaks HTTP or the API's protocol: a malformed or oversized response
    /// head, or a page token that is not a single URL path segment. Not retried.
    #[error("invalid response from the server: {}", Clean(reason))]
    Protocol {
        /// What was wrong.
        reason: String,
        /// How many attempts were made.
        attempts: u32,
        /// The underlying error, if any.
        #[source]
        source: Option<BoxError>,
    },
    /// A 2xx response whose body is not what the API documents.
    #[error(transparent)]
    Decode(Box<DecodeError>),
    /// An argument was rejected before any request was sent.
    #[error("invalid input `{}`: {}", Clean(field), Clean(reason))]
    InvalidInput {
        /// The argument or field, as the API names it (e.g. `page_limit`).
        field: Cow<'static, str>,
        /// What is wrong with it.
        reason: String,
    },
    /// The client could not be configured (missing API key, bad base URL…), or is used where it
    /// cannot work (the blocking client inside an async runtime). No request was sent.
    #[error("configuration error in `{}`: {}", Clean(setting), Clean(reason))]
    Config {
        /// The setting, as the builder or environment names it (`api_key`, `base_url`,
        /// `TWELVE_LABS_API_KEY`, `http_client`, `blocking`…).
        setting: Cow<'static, str>,
        /// What is wrong with it.
        reason: String,
    },
    /// A waited-for task ended in `failed`.
    #[error("task {} failed (status {})", Clean(.0.id()), Clean(.0.status()))]
    TaskFailed(Box<crate::wait::WaitedTask>),
    /// Waiting for a task reached its deadline; carries the last state seen, if any poll
    /// answered before the deadline.
    #[error("the task was not done after {waited:?} ({})", last_seen(last.as_deref()))]
    WaitTimeout {
        /// How long the waiter waited.
        waited: Duration,
        /// The task as last seen; `None` when no poll answered before the deadline.
        last: Option<Box<crate::wait::WaitedTask>>,
    },
    /// The text-generation stream reported an error, or ended without `stream_end`.
    #[error("generation stream failed: {}", Clean(message))]
    StreamFailed {
        /// What the stream said (or that it ended early).
        message: String,
        /// The error code, when the stream sent one.
        code: Option<String>,
    },
    /// Reading a local file failed.
    #[error("I/O error on {}", Clean(&path.display().to_string()))]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

/// Which time limit ended a call ([`Error::Timeout`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimeoutKind {
    /// Connecting took longer than [`ClientBuilder::connect_timeout`](crate::ClientBuilder::connect_timeout).
    Connect,
    /// An attempt took longer than [`ClientBuilder::request_timeout`](crate::ClientBuilder::request_timeout)
    /// (for an upload: waiting for the answer once the file was sent).
    Request,
    /// Sending a file took longer than [`ClientBuilder::upload_timeout`](crate::ClientBuilder::upload_timeout).
    Upload,
    /// A file upload stopped moving: no byte of it went out for `idle`
    /// ([`ClientBuilder::stall_timeout`](crate::ClientBuilder::stall_timeout)), because the server
    /// stopped taking it (or the reader you gave stopped producing).
    UploadStalled {
        /// How long no byte moved.
        idle: Duration,
    },
    /// The response body stopped: no byte of it arrived for `idle`
    /// ([`ClientBuilder::stall_timeout`](crate::ClientBuilder::stall_timeout)).
    ResponseStalled {
        /// How long no byte moved.
        idle: Duration,
    },
}

impl Display for TimeoutKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Connect => f.write_str("connect timed out"),
            Self::Request => f.write_str("request timed out"),
            Self::Upload => f.write_str("upload timed out"),
            Self::UploadStalled { idle } => {
                write!(f, "upload stalled: the server took no data for {idle:?}")
            }
            Self::ResponseStalled { idle } => {
                write!(f, "response stalled: no data arrived for {idle:?}")
            }
        }
    }
}

/// What an [`Error::ResponseTooLarge`] refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SizeLimited {
    /// A whole response body.
    Body,
    /// One line of the generation (NDJSON) stream.
    StreamLine,
}

impl Display for SizeLimited {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Body => "the response body",
            Self::StreamLine => "a line of the generation stream",
        })
    }
}

fn plural(n: u32) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn location_suffix(location: Option<&str>) -> String {
    location.map_or_else(String::new, |l| format!(" to {}", Clean(l)))
}

fn declared_suffix(declared: Option<u64>) -> String {
    declared.map_or_else(String::new, |d| format!(" (Content-Length: {d})"))
}

fn last_seen(last: Option<&crate::wait::WaitedTask>) -> String {
    match last {
        Some(t) => format!("task {}, last status {}", Clean(t.id()), Clean(t.status())),
        None => "no poll answered before the deadline".to_owned(),
    }
}

/// A short account of a connection failure in our words; the details are in the source chain.
fn connection_failure(e: &reqwest::Error) -> String {
    let host = e
        .url()
        .and_then(|u| {
            let host = u.host_str()?;
            Some(match u.port() {
                Some(p) => format!("{host}:{p}"),
                None => host.to_owned(),
            })
        })
        .unwrap_or_else(|| "the server".to_owned());
    if e.is_connect() {
        format!("could not connect to {host}")
    } else if e.is_body() || e.is_decode() {
        format!("the connection to {host} broke while the response body was read")
    } else if e.is_request() {
        format!("no complete response came back from {host}")
    } else {
        format!("the exchange with {host} failed")
    }
}

impl Error {
    /// The HTTP status of the response that caused the error, if there was one.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Self::Api(e) => Some(e.status),
            Self::RateLimited(_) => Some(StatusCode::TOO_MANY_REQUESTS),
            Self::Redirect { status, .. } => Some(*status),
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
    /// connection failures. Redirects, oversized or malformed responses are not: the same
    /// request would get the same answer. (The client has already retried per its
    /// [`RetryPolicy`](crate::RetryPolicy).)
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

    /// An [`Error::Config`].
    pub(crate) fn config(setting: impl Into<Cow<'static, str>>, reason: impl Into<String>) -> Self {
        Self::Config {
            setting: setting.into(),
            reason: reason.into(),
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
        if status.is_redirection() {
            return Self::Redirect {
                status,
                location: headers
                    .get(reqwest::header::LOCATION)
                    .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned()),
            };
        }
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

    /// Replaces every occurrence of `secret` (the API key) in the text this error kept from the
    /// server (messages, snippets, ids, locations, decoder messages).
    pub(crate) fn redact(mut self, secret: &str) -> Self {
        if secret.is_empty() {
            return self;
        }
        let scrub = |s: &mut String| scrub_secret(s, secret);
        match &mut self {
            Self::Api(e) => {
                scrub(&mut e.message);
                e.docs_url.iter_mut().for_each(scrub);
                e.request_id.iter_mut().for_each(scrub);
                if let Some(ErrorCode::Unknown(c)) = &mut e.code {
                    scrub(c);
                }
            }
            Self::RateLimited(e) => {
                scrub(&mut e.message);
                e.request_id.iter_mut().for_each(scrub);
                if let Some(ErrorCode::Unknown(c)) = &mut e.code {
                    scrub(c);
                }
            }
            Self::Redirect { location, .. } => location.iter_mut().for_each(scrub),
            Self::Protocol { reason, .. } => scrub(reason),
            Self::Decode(d) => {
                scrub(&mut d.snippet);
                scrub(&mut d.path);
                let text = d.source.to_string();
                if text.contains(secret) {
                    d.source = serde::de::Error::custom(text.replace(secret, REDACTED));
                }
            }
            Self::InvalidInput { reason, .. } => scrub(reason),
            Self::Config { reason, .. } => scrub(reason),
            Self::StreamFailed { message, code } => {
                scrub(message);
                code.iter_mut().for_each(scrub);
            }
            Self::Timeout { .. }
            | Self::Connection { .. }
            | Self::ResponseTooLarge { .. }
            | Self::TaskFailed(_)
            | Self::WaitTimeout { .. }
            | Self::Io { .. } => {}
        }
        self
    }
}

/// What replaces the API key in server text.
pub(crate) const REDACTED: &str = "[REDACTED]";

/// Replaces `secret` in `s`. A snippet cut at its length limit (ending in `…`) may end with the
/// start of the secret: that is replaced too (from 4 characters on).
pub(crate) fn scrub_secret(s: &mut String, secret: &str) {
    if secret.is_empty() {
        return;
    }
    if s.contains(secret) {
        *s = s.replace(secret, REDACTED);
    }
    if let Some(head) = s.strip_suffix('…') {
        let cut = (4..secret.len())
            .rev()
            .filter_map(|k| secret.get(..k))
            .find(|prefix| head.ends_with(prefix));
        if let Some(prefix) = cut {
            let keep = head.len() - prefix.len();
            let mut out = head.get(..keep).unwrap_or_default().to_owned();
            out.push_str(REDACTED);
            out.push('…');
            *s = out;
        }
    }
}

/// Shows text from outside (the server, a file name) on one line: control characters (newlines,
/// ANSI escapes, NUL…) and the Unicode bidirectional overrides are escaped (`\n`, `\u{1b}`,
/// `\u{202e}`), everything else is shown as is.
pub(crate) struct Clean<'a>(pub(crate) &'a str);

impl Display for Clean<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.0.chars() {
            let bidi = matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{061c}');
            if c.is_control() {
                for e in c.escape_debug() {
                    f.write_char(e)?;
                }
            } else if bidi {
                for e in c.escape_unicode() {
                    f.write_char(e)?;
                }
            } else {
                f.write_char(c)?;
            }
        }
        Ok(())
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
    /// The API's message, or the start of the body when it was not JSON (as sent, except that the
    /// API key is replaced by `[REDACTED]`; `Display` escapes control characters).
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

impl Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HTTP {}", self.status)?;
        if let Some(code) = &self.code {
            write!(f, " {}", Clean(code.as_str()))?;
        }
        if !self.message.is_empty() {
            write!(f, ": {}", Clean(&self.message))?;
        }
        if let Some(url) = &self.docs_url {
            write!(f, " (see {})", Clean(url))?;
        }
        if let Some(id) = &self.request_id {
            write!(f, " [request id {}]", Clean(id))?;
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
    /// The API's message, or the start of the body (the API key replaced by `[REDACTED]`).
    pub message: String,
    /// The request id, when present.
    pub request_id: Option<String>,
    /// How many attempts were made.
    pub attempts: u32,
}

impl Display for RateLimitedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "rate limited (HTTP 429)")?;
        if !self.message.is_empty() {
            write!(f, ": {}", Clean(&self.message))?;
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
///
/// `Display` includes the decoder's message (it is the heart of the error), so `source()` is
/// `None`; the decoder's error is the `source` field.
#[derive(Debug)]
#[non_exhaustive]
pub struct DecodeError {
    /// The HTTP status of the response, when known.
    pub status: Option<StatusCode>,
    /// Where in the JSON document decoding failed (e.g. `data[3].metadata.duration`).
    pub path: String,
    /// The start of the body (at most 512 bytes; the API key replaced by `[REDACTED]`).
    pub snippet: String,
    /// The decoder's error.
    pub source: serde_json::Error,
}

impl Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "could not decode the response")?;
        if let Some(status) = self.status {
            write!(f, " (HTTP {status})")?;
        }
        write!(
            f,
            " at `{}`: {}; body starts: {}",
            Clean(&self.path),
            Clean(&self.source.to_string()),
            Clean(&self.snippet)
        )
    }
}

impl std::error::Error for DecodeError {}

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

    #[test]
    fn server_text_is_escaped_in_display_and_the_key_redacted() {
        let key = "tlk_SECRET_0123456789abcdef";
        let body = format!(
            r#"{{"code":"bad\u001b[31m","message":"line one\nFAKE LOG LINE key={key} \u202egnp.exe"}}"#
        );
        let mut h = HeaderMap::new();
        h.insert("x-request-id", HeaderValue::from_str(key).unwrap());
        let e = Error::from_response(StatusCode::BAD_REQUEST, &h, body.as_bytes(), 1).redact(key);
        let shown = e.to_string();
        let debug = format!("{e:?}");
        assert!(
            !shown.contains(key) && !debug.contains(key),
            "{shown} / {debug}"
        );
        assert!(!shown.contains('\n') && !shown.contains('\u{1b}') && !shown.contains('\u{202e}'));
        assert!(
            shown.contains("line one\\nFAKE LOG LINE key=[REDACTED]"),
            "{shown}"
        );
        assert!(shown.contains("\\u{1b}[31m"), "{shown}");
        assert!(shown.contains("\\u{202e}"), "{shown}");
        assert!(shown.contains("[request id [REDACTED]]"), "{shown}");

        // A snippet cut in the middle of the key loses the part it kept.
        let mut body = vec![b'x'; SNIPPET_LEN - 10];
        body.extend_from_slice(key.as_bytes());
        let e =
            Error::from_response(StatusCode::BAD_GATEWAY, &HeaderMap::new(), &body, 1).redact(key);
        let Error::Api(a) = &e else { panic!("{e:?}") };
        assert!(a.message.ends_with("[REDACTED]…"), "{}", a.message);
        assert!(!a.message.contains(&key[..8]), "{}", a.message);

        // The decoder's message can quote a value from the body.
        let body = format!(r#"{{"duration":"{key}"}}"#);
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct T {
            duration: f64,
        }
        let first = serde_json::from_slice::<T>(body.as_bytes()).unwrap_err();
        assert!(first.to_string().contains(key));
        let e = Error::Decode(Box::new(DecodeError::new::<T>(
            Some(StatusCode::OK),
            body.as_bytes(),
            first,
        )))
        .redact(key);
        assert!(
            !e.to_string().contains(key) && !format!("{e:?}").contains(key),
            "{e}"
        );
    }

    #[test]
    fn a_redirect_names_its_location_and_is_not_retryable() {
        let mut h = HeaderMap::new();
        h.insert(
            "location",
            HeaderValue::from_static("https://evil.example/x"),
        );
        let e = Error::from_response(StatusCode::FOUND, &h, b"", 1);
        assert!(
            matches!(&e, Error::Redirect { status, location: Some(l) } if status.as_u16() == 302 && l.starts_with("https://evil.example/")),
            "{e:?}"
        );
        assert!(!e.is_retryable());
        assert_eq!(e.status(), Some(StatusCode::FOUND));
        assert!(e.to_string().contains("redirects are not followed"), "{e}");
    }

    #[test]
    fn sources_are_not_repeated_in_display() {
        let io = std::io::Error::other("disk on fire");
        let e = Error::Io {
            path: "/tmp/x\ny".into(),
            source: io,
        };
        assert_eq!(e.to_string(), "I/O error on /tmp/x\\ny");
        assert_eq!(
            std::error::Error::source(&e).unwrap().to_string(),
            "disk on fire"
        );
        let e = Error::Timeout {
            attempts: 3,
            kind: TimeoutKind::ResponseStalled {
                idle: Duration::from_secs(2),
            },
            source: None,
        };
        assert_eq!(
            e.to_string(),
            "response stalled: no data arrived for 2s (3 attempts)"
        );
    }
}
