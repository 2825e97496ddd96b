//! Retry policy: which failures are retried, and how long to wait between attempts.
//!
//! Every request the crate sends, generated or hand-written, goes through one retry loop (in the
//! transport). This module holds the policy it follows; the defaults are:
//!
//! | setting (setter / getter) | default | why |
//! |---|---|---|
//! | [`with_max_retries`](RetryPolicy::with_max_retries) / [`max_retries`](RetryPolicy::max_retries) | 2 (3 attempts) | rides out a blip without tripling a real outage's latency |
//! | [`with_initial_backoff`](RetryPolicy::with_initial_backoff) / [`initial_backoff`](RetryPolicy::initial_backoff) | 500 ms | a restarted backend is usually back within a second |
//! | [`with_max_backoff`](RetryPolicy::with_max_backoff) / [`max_backoff`](RetryPolicy::max_backoff) | 30 s | the cap of any computed delay |
//! | [`with_max_retry_after`](RetryPolicy::with_max_retry_after) / [`max_retry_after`](RetryPolicy::max_retry_after) | 60 s | a server may ask for longer (the v1.2 rate-limit window is a day): then the typed rate-limit error is returned at once instead of sleeping |
//! | [`with_retry_non_idempotent`](RetryPolicy::with_retry_non_idempotent) / [`retry_non_idempotent`](RetryPolicy::retry_non_idempotent) | false | a POST that creates something is not repeated once it may have reached the server |
//!
//! Setters follow the aws-sdk convention (`with_*`, consuming and returning the policy); getters
//! have the plain names.
//!
//! Retried statuses: 408, 429, 500, 502, 503, 504; retried failures: connection errors, and for
//! requests that are safe to repeat, timeouts (a stalled upload included) and other transport
//! errors. Never retried: redirects (the client follows none), malformed responses (an oversized
//! or unparsable head) and responses over the size limit: the same request would get the same
//! answer. Requests that are safe
//! to repeat are GET/PUT/DELETE and the read-only POSTs (search, classify, gist, summarize,
//! generate, embed). POSTs that create something (marked `x-twelvelabs-creates` in `openapi.yaml`:
//! index, task, transfer import, embed task) are retried only when the request surely did not get
//! through: a connection that could not be made, or a 429 / 503 answer.
//!
//! The delay before retry *n* (1-based) is a random duration in `[b/2, b]` with
//! `b = min(max_backoff, initial_backoff * 2^(n-1))` ("equal jitter"), unless the server said how
//! long to wait: `Retry-After` (seconds or an HTTP date) or, on a 429, `X-Ratelimit-Reset`.
//!
//! ```
//! use std::time::Duration;
//! use twelvelabs::RetryPolicy;
//!
//! let policy = RetryPolicy::default()
//!     .with_max_retries(4)
//!     .with_initial_backoff(Duration::from_millis(200))
//!     .with_max_retry_after(Duration::from_secs(5));
//! assert_eq!(policy.max_retries(), 4);
//! assert_eq!(policy.max_retry_after(), Duration::from_secs(5));
//! assert_eq!(RetryPolicy::disabled().max_retries(), 0);
//! ```

use std::time::{Duration, SystemTime};

use reqwest::StatusCode;
use reqwest::header::HeaderMap;

/// How the client retries failed requests. See the [module docs](self) for the rules and defaults.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    max_retries: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
    max_retry_after: Duration,
    retry_non_idempotent: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 2,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(60),
            retry_non_idempotent: false,
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries.
    pub fn disabled() -> Self {
        Self {
            max_retries: 0,
            ..Self::default()
        }
    }

    /// How many times a failed request is retried (0 disables retries). Default 2.
    pub fn with_max_retries(mut self, n: u32) -> Self {
        self.max_retries = n;
        self
    }

    /// The base of the exponential backoff. Default 500 ms.
    pub fn with_initial_backoff(mut self, d: Duration) -> Self {
        self.initial_backoff = d;
        self
    }

    /// The cap of a computed backoff delay. Default 30 s.
    pub fn with_max_backoff(mut self, d: Duration) -> Self {
        self.max_backoff = d;
        self
    }

    /// The longest wait the client accepts from `Retry-After` / `X-Ratelimit-Reset`. A server that
    /// asks for longer gets no retry: the rate-limit error is returned at once. Default 60 s.
    pub fn with_max_retry_after(mut self, d: Duration) -> Self {
        self.max_retry_after = d;
        self
    }

    /// Also retry POSTs that create something (index, task, transfer import, embed task) after
    /// errors where the request may have reached the server (500, 502, 504, timeouts). This can
    /// create duplicates. Default false.
    pub fn with_retry_non_idempotent(mut self, yes: bool) -> Self {
        self.retry_non_idempotent = yes;
        self
    }

    /// How many times a failed request is retried.
    pub fn max_retries(&self) -> u32 {
        self.max_retries
    }

    /// The base of the exponential backoff.
    pub fn initial_backoff(&self) -> Duration {
        self.initial_backoff
    }

    /// The cap of a computed backoff delay.
    pub fn max_backoff(&self) -> Duration {
        self.max_backoff
    }

    /// The longest server-requested wait the client accepts.
    pub fn max_retry_after(&self) -> Duration {
        self.max_retry_after
    }

    /// Whether POSTs that create something are retried after errors where they may have landed.
    pub fn retry_non_idempotent(&self) -> bool {
        self.retry_non_idempotent
    }

    /// Whether a response with `status` may be retried for a request of this kind.
    pub(crate) fn retries_status(&self, status: StatusCode, kind: RequestKind) -> bool {
        match status.as_u16() {
            429 | 503 => true,
            408 | 500 | 502 | 504 => kind == RequestKind::Repeatable || self.retry_non_idempotent,
            _ => false,
        }
    }

    /// Whether a transport error may be retried for a request of this kind.
    pub(crate) fn retries_error(&self, error: &reqwest::Error, kind: RequestKind) -> bool {
        if error.is_builder()
            || error.is_redirect()
            || error.is_decode()
            || crate::transport::is_protocol_violation(error)
        {
            return false;
        }
        // A failed connect never reached the server; anything else (timeout, reset) may have.
        error.is_connect() || self.retries_timeout(kind)
    }

    /// Whether an attempt that timed out (or stalled) may be retried for a request of this kind:
    /// the request may have reached the server.
    pub(crate) fn retries_timeout(&self, kind: RequestKind) -> bool {
        kind == RequestKind::Repeatable || self.retry_non_idempotent
    }

    /// The backoff before retry number `retry` (1-based), with jitter.
    pub(crate) fn backoff(&self, retry: u32) -> Duration {
        let exp = self
            .initial_backoff
            .saturating_mul(2u32.saturating_pow(retry.saturating_sub(1)));
        let cap = exp.min(self.max_backoff);
        let half = cap / 2;
        let spread = u64::try_from((cap - half).as_micros()).unwrap_or(u64::MAX);
        half + Duration::from_micros(fastrand::u64(0..=spread))
    }
}

/// Whether repeating a request is harmless.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RequestKind {
    /// GET/PUT/DELETE, and POSTs that only read (search, classify, generate…).
    Repeatable,
    /// A POST that creates something.
    Creating,
}

impl RequestKind {
    pub(crate) fn of(method: &reqwest::Method, operation_id: &str) -> Self {
        if *method == reqwest::Method::POST
            && crate::raw::operations::by_name(operation_id).is_some_and(|op| op.creates)
        {
            Self::Creating
        } else {
            Self::Repeatable
        }
    }
}

/// How long the server asked us to wait, from `Retry-After` (delta-seconds or an HTTP date) or,
/// failing that on a 429, from `X-Ratelimit-Reset` (epoch seconds).
pub(crate) fn server_delay(
    status: StatusCode,
    headers: &HeaderMap,
    now: SystemTime,
) -> Option<Duration> {
    if let Some(value) = headers
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
    {
        if let Ok(secs) = value.parse::<u64>() {
            return Some(Duration::from_secs(secs));
        }
        if let Ok(secs) = value.parse::<f64>()
            && secs.is_finite()
            && secs >= 0.0
        {
            return Some(Duration::from_secs_f64(secs.min(1e9)));
        }
        if let Ok(at) = httpdate::parse_http_date(value) {
            return Some(at.duration_since(now).unwrap_or(Duration::ZERO));
        }
    }
    if status == StatusCode::TOO_MANY_REQUESTS {
        let reset = crate::rate_limit::RateLimit::from_headers(headers)?.reset?;
        return Some(reset.duration_since(now).unwrap_or(Duration::ZERO));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn backoff_grows_exponentially_with_equal_jitter_and_is_capped() {
        let p = RetryPolicy::default()
            .with_initial_backoff(Duration::from_millis(500))
            .with_max_backoff(Duration::from_secs(3));
        for _ in 0..200 {
            let d1 = p.backoff(1);
            assert!(
                d1 >= Duration::from_millis(250) && d1 <= Duration::from_millis(500),
                "{d1:?}"
            );
            let d2 = p.backoff(2);
            assert!(
                d2 >= Duration::from_millis(500) && d2 <= Duration::from_secs(1),
                "{d2:?}"
            );
            let d5 = p.backoff(5); // 8 s uncapped
            assert!(
                d5 >= Duration::from_millis(1500) && d5 <= Duration::from_secs(3),
                "{d5:?}"
            );
            let huge = p.backoff(200);
            assert!(huge <= Duration::from_secs(3), "{huge:?}");
        }
        // Jitter actually varies.
        let samples: std::collections::BTreeSet<_> = (0..50).map(|_| p.backoff(3)).collect();
        assert!(samples.len() > 10);
    }

    #[test]
    fn creating_posts_are_retried_only_when_the_request_surely_did_not_land() {
        let p = RetryPolicy::default();
        let c = RequestKind::Creating;
        let r = RequestKind::Repeatable;
        for s in [429, 503] {
            assert!(p.retries_status(StatusCode::from_u16(s).unwrap(), c), "{s}");
        }
        for s in [408, 500, 502, 504] {
            let s = StatusCode::from_u16(s).unwrap();
            assert!(!p.retries_status(s, c), "{s}");
            assert!(p.retries_status(s, r), "{s}");
            assert!(
                p.clone()
                    .with_retry_non_idempotent(true)
                    .retries_status(s, c),
                "{s}"
            );
        }
        for s in [400, 401, 403, 404, 409, 422, 501] {
            let s = StatusCode::from_u16(s).unwrap();
            assert!(!p.retries_status(s, r), "{s}");
        }
    }

    #[test]
    fn request_kind_comes_from_the_spec() {
        let post = reqwest::Method::POST;
        assert_eq!(
            RequestKind::of(&post, "create_index"),
            RequestKind::Creating
        );
        assert_eq!(RequestKind::of(&post, "create_task"), RequestKind::Creating);
        assert_eq!(
            RequestKind::of(&post, "create_embed_task"),
            RequestKind::Creating
        );
        assert_eq!(RequestKind::of(&post, "search"), RequestKind::Repeatable);
        assert_eq!(
            RequestKind::of(&post, "generate_text"),
            RequestKind::Repeatable
        );
        assert_eq!(
            RequestKind::of(&reqwest::Method::DELETE, "delete_index"),
            RequestKind::Repeatable
        );
    }

    #[test]
    fn server_delay_reads_retry_after_seconds_dates_and_rate_limit_reset() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let mut h = HeaderMap::new();
        h.insert("retry-after", HeaderValue::from_static("7"));
        assert_eq!(
            server_delay(StatusCode::TOO_MANY_REQUESTS, &h, now),
            Some(Duration::from_secs(7))
        );

        let later = now + Duration::from_secs(90);
        h.insert(
            "retry-after",
            HeaderValue::from_str(&httpdate::fmt_http_date(later)).unwrap(),
        );
        assert_eq!(
            server_delay(StatusCode::SERVICE_UNAVAILABLE, &h, now),
            Some(Duration::from_secs(90))
        );

        let mut h = HeaderMap::new();
        h.insert("x-ratelimit-reset", HeaderValue::from_static("1700003600"));
        assert_eq!(
            server_delay(StatusCode::TOO_MANY_REQUESTS, &h, now),
            Some(Duration::from_secs(3600))
        );
        // X-Ratelimit-Reset only speaks for a 429.
        assert_eq!(server_delay(StatusCode::SERVICE_UNAVAILABLE, &h, now), None);
        // A reset in the past means "now".
        h.insert("x-ratelimit-reset", HeaderValue::from_static("1600000000"));
        assert_eq!(
            server_delay(StatusCode::TOO_MANY_REQUESTS, &h, now),
            Some(Duration::ZERO)
        );
        // Garbage is ignored.
        let mut h = HeaderMap::new();
        h.insert("retry-after", HeaderValue::from_static("soon"));
        assert_eq!(server_delay(StatusCode::TOO_MANY_REQUESTS, &h, now), None);
    }
}
