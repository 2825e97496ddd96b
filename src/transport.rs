//! The one path every request takes: authentication, user agent, timeouts, retries, tracing,
//! rate-limit tracking, and the guards against a hostile network.
//!
//! Generated operations reach it through progenitor's `ClientHooks::exec`; hand-written ones
//! (multipart uploads, the NDJSON stream) call `Transport::execute` with a factory that builds
//! the request again for each attempt, so that bodies which cannot be cloned (a streamed file)
//! are re-opened instead of not retried.
//!
//! The guards, each one mechanism for every request:
//! - **redirects**: the client the crate builds follows none, and a caller's `reqwest::Client`
//!   is accepted only when it follows none either (checked once, before anything is sent), so the
//!   key never reaches another origin; a 3xx answer becomes [`Error::Redirect`](crate::Error::Redirect);
//! - **response size**: every response body is counted as it arrives and cut at the configured
//!   ceiling (a declared `Content-Length` above it is refused before reading);
//! - **stalls**: a response body that delivers no byte for the stall timeout, or a request body
//!   (a file upload) that the server stops taking, ends the attempt with a typed timeout;
//! - **time**: ordinary requests are bounded by the request timeout; a request that streams a
//!   file by the upload timeout while the file goes out, then by the request timeout;
//! - **protocol**: a malformed or oversized response head is not retried.

use std::cell::{Cell, RefCell};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http_body::{Body as HttpBody, Frame, SizeHint};
use progenitor_client::{ClientHooks, ClientInfo, OperationInfo};
use reqwest::header::{CONTENT_LENGTH, HeaderName, HeaderValue, USER_AGENT};
use reqwest::{Request, Response, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use tokio::time::{Instant, Sleep};
use tracing::Instrument;

use crate::error::{BoxError, TimeoutKind};
use crate::rate_limit::RateLimit;
use crate::retry::{RequestKind, RetryPolicy, server_delay};

/// The header that carries the API key.
pub(crate) const API_KEY_HEADER: HeaderName = HeaderName::from_static("x-api-key");
/// The header that carries the server's request id.
const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// What the generated client carries for the hand-written layer (progenitor's "inner type"):
/// the API key, retry policy, timeouts, limits and the latest rate-limit snapshot. Cheap to clone.
///
/// [`crate::Client`] builds one for you. To use [`crate::raw::Client`] on its own, build one with
/// [`Transport::new`] and pass it to [`crate::raw::Client::new_with_client`] with a
/// `reqwest::Client` built with `.redirect(reqwest::redirect::Policy::none())`: a client that
/// follows redirects would send the key wherever a redirect points, so the transport refuses to
/// send anything through one (every call fails with a configuration error). A transport checks the
/// first `reqwest::Client` it serves; use one transport per client.
#[derive(Clone)]
pub struct Transport {
    shared: Arc<Shared>,
}

/// Everything a [`Transport`] is configured with.
#[derive(Clone)]
pub(crate) struct Settings {
    pub(crate) api_key: Option<SecretString>,
    pub(crate) user_agent: HeaderValue,
    pub(crate) retry: RetryPolicy,
    pub(crate) request_timeout: Option<Duration>,
    pub(crate) upload_timeout: Option<Duration>,
    pub(crate) stall_timeout: Option<Duration>,
    pub(crate) max_response_bytes: u64,
}

impl Settings {
    fn defaults(api_key: Option<SecretString>) -> Self {
        Self {
            api_key,
            user_agent: HeaderValue::from_static(DEFAULT_USER_AGENT),
            retry: RetryPolicy::default(),
            request_timeout: None,
            upload_timeout: None,
            stall_timeout: Some(crate::client::DEFAULT_STALL_TIMEOUT),
            max_response_bytes: crate::client::DEFAULT_MAX_RESPONSE_BYTES,
        }
    }
}

struct Shared {
    /// The key as a ready header value, marked sensitive (built once, not per request).
    api_key: Option<HeaderValue>,
    /// The key as text, to redact it from server text kept in errors.
    secret: Option<SecretString>,
    user_agent: HeaderValue,
    retry: RetryPolicy,
    request_timeout: Option<Duration>,
    upload_timeout: Option<Duration>,
    stall_timeout: Option<Duration>,
    max_response_bytes: u64,
    rate_limit: Mutex<Option<RateLimit>>,
    /// The latest snapshot per operation (a handful of entries: the operations called).
    rate_limits: Mutex<Vec<(&'static str, RateLimit)>>,
    /// The `Date` header of the latest response, and when it arrived: the server's clock.
    server_date: Mutex<Option<(HeaderValue, Instant)>>,
    /// Whether the `reqwest::Client` used with this transport is safe (follows no redirect).
    client_check: OnceLock<Result<(), String>>,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field(
                "api_key",
                &self.shared.api_key.as_ref().map(|_| "[REDACTED]"),
            )
            .field("user_agent", &self.shared.user_agent)
            .field("retry", &self.shared.retry)
            .field("request_timeout", &self.shared.request_timeout)
            .field("upload_timeout", &self.shared.upload_timeout)
            .field("stall_timeout", &self.shared.stall_timeout)
            .field("max_response_bytes", &self.shared.max_response_bytes)
            .finish_non_exhaustive()
    }
}

/// The default `User-Agent`: `twelvelabs-rs/<version>`.
pub(crate) const DEFAULT_USER_AGENT: &str = concat!("twelvelabs-rs/", env!("CARGO_PKG_VERSION"));

/// Whether a `reqwest::Client` was built with `redirect::Policy::none()`.
///
/// reqwest offers no accessor; its `Debug` output names a non-default policy
/// (`redirect_policy: "Policy(None)"`). The check fails closed: anything else, including a future
/// change of that output, counts as "follows redirects" (a test pins the format).
pub(crate) fn follows_no_redirects(http: &reqwest::Client) -> bool {
    format!("{http:?}").contains("redirect_policy: \"Policy(None)\"")
}

/// The message for a `reqwest::Client` that follows redirects.
pub(crate) const FOLLOWS_REDIRECTS: &str = "the reqwest::Client follows redirects: reqwest would \
     forward the API key (x-api-key) to whatever host a redirect names. Build it with \
     .redirect(reqwest::redirect::Policy::none())";

impl Transport {
    /// A transport that sends `api_key` as `x-api-key` (marked sensitive), with the default retry
    /// policy, the default response-size ceiling and stall timeout, no request or upload timeout,
    /// and the default user agent. `None` sends no key: use it when the `reqwest::Client` already
    /// adds one.
    pub fn new(api_key: Option<SecretString>) -> Self {
        Self::with_settings(Settings::defaults(api_key))
    }

    pub(crate) fn with_settings(s: Settings) -> Self {
        let api_key = s.api_key.as_ref().and_then(|key| {
            let mut value = HeaderValue::from_str(key.expose_secret()).ok()?;
            value.set_sensitive(true);
            Some(value)
        });
        Self {
            shared: Arc::new(Shared {
                api_key,
                secret: s.api_key,
                user_agent: s.user_agent,
                retry: s.retry,
                request_timeout: s.request_timeout,
                upload_timeout: s.upload_timeout,
                stall_timeout: s.stall_timeout,
                max_response_bytes: s.max_response_bytes,
                rate_limit: Mutex::new(None),
                rate_limits: Mutex::new(Vec::new()),
                server_date: Mutex::new(None),
                client_check: OnceLock::new(),
            }),
        }
    }

    /// The retry policy.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.shared.retry
    }

    /// The `X-Ratelimit-*` headers of the latest response that had them.
    pub fn rate_limit(&self) -> Option<RateLimit> {
        self.shared.rate_limit.lock().ok().and_then(|r| r.clone())
    }

    /// The `X-Ratelimit-*` headers of the latest response of one operation (by its snake_case
    /// name) that had them.
    pub(crate) fn rate_limit_of(&self, operation: &str) -> Option<RateLimit> {
        let all = self.shared.rate_limits.lock().ok()?;
        all.iter()
            .find(|(op, _)| *op == operation)
            .map(|(_, r)| r.clone())
    }

    /// The server's clock now, as far as the latest response's `Date` header tells (its time
    /// plus what elapsed here since); this machine's clock before any response said.
    #[cfg_attr(not(feature = "ingest"), allow(dead_code))]
    pub(crate) fn server_now(&self) -> SystemTime {
        let seen = self.shared.server_date.lock().ok().and_then(|d| d.clone());
        seen.and_then(|(value, at)| {
            let date = httpdate::parse_http_date(value.to_str().ok()?).ok()?;
            date.checked_add(at.elapsed())
        })
        .unwrap_or_else(SystemTime::now)
    }

    /// Checks (once) that `http` follows no redirect; the message says how to fix it otherwise.
    pub(crate) fn check_client(&self, http: &reqwest::Client) -> Result<(), String> {
        self.shared
            .client_check
            .get_or_init(|| {
                if follows_no_redirects(http) {
                    Ok(())
                } else {
                    Err(FOLLOWS_REDIRECTS.to_owned())
                }
            })
            .clone()
    }

    /// Records that the client this transport serves was built by the crate (no check needed).
    pub(crate) fn trust_client(&self) {
        let _ = self.shared.client_check.set(Ok(()));
    }

    /// `error` with the API key replaced by `[REDACTED]` wherever server text was kept.
    pub(crate) fn redact(&self, error: crate::Error) -> crate::Error {
        match &self.shared.secret {
            Some(secret) => error.redact(secret.expose_secret()),
            None => error,
        }
    }

    /// Sends a request, retrying per the policy. `make` builds the request for each attempt; it
    /// returns `None` when the request cannot be built again (then no retry is made). `upload`
    /// says that the request body streams a file: then the upload timeout and the upload stall
    /// watch apply while it goes out.
    ///
    /// Returns the last response whatever its status (its body guarded: size ceiling, stall
    /// timeout, deadline): turning an error status into [`crate::Error`] is the caller's job, so
    /// that the body is read once.
    pub(crate) async fn execute(
        &self,
        http: &reqwest::Client,
        operation_id: &'static str,
        upload: bool,
        first: Request,
        make: impl FnMut() -> Option<Request>,
    ) -> Result<Response, Failure> {
        if upload {
            self.run(operation_id, true, first, make, |request| {
                self.send_upload(http, request)
            })
            .await
        } else {
            self.run(operation_id, false, first, make, |request| {
                let pending = http.execute(request);
                async move { pending.await.map(|r| (r, None)).map_err(Failure::Http) }
            })
            .await
        }
    }

    /// The retry loop, whatever sends an attempt.
    async fn run<E, S, Fut>(
        &self,
        operation_id: &'static str,
        upload: bool,
        first: Request,
        mut make: impl FnMut() -> Option<Request>,
        mut send: S,
    ) -> Result<Response, E>
    where
        E: AttemptError,
        S: FnMut(Request) -> Fut,
        Fut: Future<Output = Result<(Response, Option<Instant>), E>>,
    {
        let policy = &self.shared.retry;
        let kind = RequestKind::of(first.method(), operation_id);
        let total = policy.max_retries().saturating_add(1);
        let mut request = first;
        let mut attempt: u32 = 0;
        loop {
            attempt = attempt.saturating_add(1);
            let can_retry = attempt <= policy.max_retries();
            // Keep a copy for the next attempt before the request is completed (so that the
            // per-attempt additions are not made twice) and consumed.
            let spare = if can_retry {
                request.try_clone().or_else(&mut make)
            } else {
                None
            };
            self.prepare(&mut request, upload);
            let span = tracing::debug_span!(
                "twelvelabs.request",
                operation = operation_id,
                method = %request.method(),
                path = %request.url().path(),
                attempt,
                status = tracing::field::Empty,
                duration_ms = tracing::field::Empty,
                request_id = tracing::field::Empty,
            );
            // Nobody listening (no subscriber, or DEBUG filtered out): skip the span's
            // bookkeeping, which is measurable per request (see BENCHMARKS.md).
            let traced = !span.is_disabled();
            let result = if traced {
                let started = std::time::Instant::now();
                let result = send(request).instrument(span.clone()).await;
                span.record("duration_ms", started.elapsed().as_millis() as u64);
                result
            } else {
                send(request).await
            };
            CallContext::record(self, attempt, result.as_ref().ok().map(|(r, _)| r.status()));

            let delay = match &result {
                Ok((response, _)) => {
                    let status = response.status();
                    if traced {
                        span.record("status", status.as_u16());
                        if let Some(id) = response
                            .headers()
                            .get(REQUEST_ID_HEADER)
                            .and_then(|v| v.to_str().ok())
                        {
                            span.record("request_id", id);
                        }
                    }
                    self.observe(response, operation_id);
                    tracing::debug!(parent: &span, "response {status}");
                    if status.is_success() || !policy.retries_status(status, kind) {
                        return result.map(|(r, deadline)| self.guard(r, deadline));
                    }
                    match server_delay(status, response.headers(), SystemTime::now()) {
                        Some(wait) if wait > policy.max_retry_after() => {
                            tracing::warn!(
                                parent: &span,
                                "server asked to wait {wait:?}, more than max_retry_after; not retrying"
                            );
                            return result.map(|(r, deadline)| self.guard(r, deadline));
                        }
                        Some(wait) => wait,
                        None => policy.backoff(attempt),
                    }
                }
                Err(error) => {
                    tracing::debug!(parent: &span, "transport error: {error}");
                    if !error.retryable(policy, kind) {
                        return result.map(|(r, deadline)| self.guard(r, deadline));
                    }
                    policy.backoff(attempt)
                }
            };
            let Some(spare) = spare else {
                return result.map(|(r, deadline)| self.guard(r, deadline));
            };
            let next = attempt.saturating_add(1);
            match &result {
                Ok((r, _)) => tracing::warn!(
                    parent: &span,
                    "{operation_id}: HTTP {}, retrying in {delay:?} (attempt {next} of {total})",
                    r.status(),
                ),
                Err(e) => tracing::warn!(
                    parent: &span,
                    "{operation_id}: {e}, retrying in {delay:?} (attempt {next} of {total})",
                ),
            }
            drop(result);
            tokio::time::sleep(delay).await;
            request = spare;
        }
    }

    /// Adds what every attempt carries: the key, the user agent, the timeout. An upload gets no
    /// reqwest timeout: [`Transport::send_upload`] times its phases itself.
    fn prepare(&self, request: &mut Request, upload: bool) {
        let headers = request.headers_mut();
        if let Some(key) = &self.shared.api_key {
            headers.insert(API_KEY_HEADER, key.clone());
        }
        headers.insert(USER_AGENT, self.shared.user_agent.clone());
        if request.timeout().is_none() && !upload {
            *request.timeout_mut() = self.shared.request_timeout;
        }
    }

    /// Sends a request whose body streams a file. While the body goes out, the attempt is bounded
    /// by the upload timeout (from the attempt's start) and by the stall timeout (no byte taken
    /// by the connection for that long); once the last byte is out, by the request timeout, for
    /// the answer's head and then (through the returned deadline) its body.
    async fn send_upload(
        &self,
        http: &reqwest::Client,
        mut request: Request,
    ) -> Result<(Response, Option<Instant>), Failure> {
        let expected = request
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        let watch = Arc::new(UploadWatch::new(expected));
        if let Some(body) = request.body_mut().take() {
            *request.body_mut() = Some(reqwest::Body::wrap(WatchedBody {
                inner: body,
                watch: watch.clone(),
            }));
        }
        let limits = PhaseLimits {
            stall: self.shared.stall_timeout,
            upload: self.shared.upload_timeout,
            answer: self.shared.request_timeout,
        };
        let mut sending = std::pin::pin!(http.execute(request));
        let outcome = loop {
            match watch.check(Instant::now(), limits) {
                Check::Expired(kind) => return Err(Failure::Timeout(kind)),
                Check::Until(at) => {
                    if let Ok(outcome) = tokio::time::timeout_at(at, &mut sending).await {
                        break outcome;
                    }
                }
                Check::NoLimit => break sending.await,
            }
        };
        let response = outcome.map_err(Failure::Http)?;
        let deadline = limits
            .answer
            .and_then(|t| watch.sent_at().unwrap_or_else(Instant::now).checked_add(t));
        Ok((response, deadline))
    }

    /// Wraps the body of a response this transport hands out: the size ceiling (a declared
    /// `Content-Length` above it is refused at the first read), the stall timeout, and an
    /// optional deadline.
    fn guard(&self, response: Response, deadline: Option<Instant>) -> Response {
        let limit = self.shared.max_response_bytes;
        let declared = response.content_length();
        let url = response.url().clone();
        let (mut parts, body) = http::Response::<reqwest::Body>::from(response).into_parts();
        let guarded = GuardedBody {
            inner: body,
            read: 0,
            limit,
            refuse: declared.filter(|d| *d > limit),
            stall: self.shared.stall_timeout,
            stall_timer: None,
            waiting: false,
            deadline: deadline.map(|at| Box::pin(tokio::time::sleep_until(at))),
            done: false,
        };
        // Keep the URL reqwest reports (the conversion would otherwise forget it).
        if let Ok(with_url) =
            reqwest::ResponseBuilderExt::url(http::Response::builder(), url).body(())
        {
            parts.extensions.extend(with_url.into_parts().0.extensions);
        }
        Response::from(http::Response::from_parts(
            parts,
            reqwest::Body::wrap(guarded),
        ))
    }

    /// Records the rate-limit headers of a response and warns when few requests are left.
    fn observe(&self, response: &Response, operation_id: &'static str) {
        if let Some(date) = response.headers().get(reqwest::header::DATE)
            && let Ok(mut slot) = self.shared.server_date.lock()
        {
            *slot = Some((date.clone(), Instant::now()));
        }
        let Some(snapshot) = RateLimit::from_headers(response.headers()) else {
            return;
        };
        if snapshot.is_low() {
            tracing::warn!(
                operation = operation_id,
                "rate limit running low: {snapshot}"
            );
        }
        if let Ok(mut all) = self.shared.rate_limits.lock() {
            match all.iter_mut().find(|(op, _)| *op == operation_id) {
                Some((_, slot)) => *slot = snapshot.clone(),
                None => all.push((operation_id, snapshot.clone())),
            }
        }
        if let Ok(mut slot) = self.shared.rate_limit.lock() {
            *slot = Some(snapshot);
        }
    }
}

/// How an attempt failed, for the retry loop.
pub(crate) trait AttemptError: std::fmt::Display {
    fn retryable(&self, policy: &RetryPolicy, kind: RequestKind) -> bool;
}

impl AttemptError for reqwest::Error {
    fn retryable(&self, policy: &RetryPolicy, kind: RequestKind) -> bool {
        policy.retries_error(self, kind)
    }
}

/// Why an attempt of [`Transport::execute`] produced no response.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The HTTP stack failed.
    Http(reqwest::Error),
    /// The client's own watch ended an upload attempt.
    Timeout(TimeoutKind),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Http(e) => e.fmt(f),
            Self::Timeout(kind) => kind.fmt(f),
        }
    }
}

impl AttemptError for Failure {
    fn retryable(&self, policy: &RetryPolicy, kind: RequestKind) -> bool {
        match self {
            Self::Http(e) => policy.retries_error(e, kind),
            Self::Timeout(_) => policy.retries_timeout(kind),
        }
    }
}

impl ClientHooks<Transport> for crate::raw::Client {
    /// Refuses (before anything is sent) a `reqwest::Client` that follows redirects.
    async fn pre<E>(
        &self,
        _request: &mut Request,
        _info: &OperationInfo,
    ) -> Result<(), progenitor_client::Error<E>> {
        self.inner()
            .check_client(self.client())
            .map_err(progenitor_client::Error::Custom)
    }

    async fn exec(&self, request: Request, info: &OperationInfo) -> reqwest::Result<Response> {
        let transport = self.inner();
        let http = self.client();
        transport
            .run(
                info.operation_id,
                false,
                request,
                || None,
                |request| {
                    let pending = http.execute(request);
                    async move { pending.await.map(|r| (r, None)) }
                },
            )
            .await
    }
}

/// Whether a transport error is the server breaking HTTP (a malformed or oversized response
/// head): repeating the request would get the same answer.
pub(crate) fn is_protocol_violation(error: &reqwest::Error) -> bool {
    find_in_chain::<hyper::Error>(error).is_some_and(hyper::Error::is_parse)
}

/// The first error of type `T` in `error`'s source chain (itself included).
pub(crate) fn find_in_chain<'a, T: std::error::Error + 'static>(
    error: &'a (dyn std::error::Error + 'static),
) -> Option<&'a T> {
    let mut next = Some(error);
    while let Some(e) = next {
        if let Some(found) = e.downcast_ref::<T>() {
            return Some(found);
        }
        next = e.source();
    }
    None
}

/// Why the transport cut a response body.
#[derive(Debug)]
pub(crate) enum BodyCut {
    /// More than `limit` bytes (or a declared length above it).
    TooLarge { limit: u64, declared: Option<u64> },
    /// No byte for `idle`.
    Stalled { idle: Duration },
    /// The attempt's deadline passed while the body was read.
    Deadline,
}

impl std::fmt::Display for BodyCut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::TooLarge {
                limit,
                declared: Some(d),
            } => write!(
                f,
                "the response declares {d} bytes, over the {limit}-byte limit"
            ),
            Self::TooLarge { limit, .. } => {
                write!(f, "the response exceeds the {limit}-byte limit")
            }
            Self::Stalled { idle } => write!(f, "no response data for {idle:?}"),
            Self::Deadline => f.write_str("the request timed out while the response was read"),
        }
    }
}

impl std::error::Error for BodyCut {}

/// A response body with the transport's limits applied.
struct GuardedBody {
    inner: reqwest::Body,
    read: u64,
    limit: u64,
    /// A declared length over the limit: refused at the first read.
    refuse: Option<u64>,
    stall: Option<Duration>,
    stall_timer: Option<Pin<Box<Sleep>>>,
    /// Whether the consumer is waiting for data (the stall clock runs only then).
    waiting: bool,
    deadline: Option<Pin<Box<Sleep>>>,
    done: bool,
}

impl GuardedBody {
    fn cut(&mut self, why: BodyCut) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        self.done = true;
        Poll::Ready(Some(Err(Box::new(why))))
    }
}

impl HttpBody for GuardedBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(None);
        }
        if let Some(declared) = this.refuse.take() {
            let limit = this.limit;
            return this.cut(BodyCut::TooLarge {
                limit,
                declared: Some(declared),
            });
        }
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                this.waiting = false;
                if let Some(data) = frame.data_ref() {
                    this.read = this.read.saturating_add(data.len() as u64);
                    if this.read > this.limit {
                        let limit = this.limit;
                        return this.cut(BodyCut::TooLarge {
                            limit,
                            declared: None,
                        });
                    }
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => {
                this.done = true;
                Poll::Ready(Some(Err(Box::new(e))))
            }
            Poll::Ready(None) => {
                this.done = true;
                Poll::Ready(None)
            }
            Poll::Pending => {
                if let Some(deadline) = &mut this.deadline
                    && deadline.as_mut().poll(cx).is_ready()
                {
                    return this.cut(BodyCut::Deadline);
                }
                if let Some(idle) = this.stall {
                    // The stall clock starts when the consumer starts waiting, not while it is
                    // busy with the previous chunk.
                    if !this.waiting {
                        this.waiting = true;
                        match Instant::now().checked_add(idle) {
                            Some(at) => match &mut this.stall_timer {
                                Some(timer) => timer.as_mut().reset(at),
                                None => {
                                    this.stall_timer = Some(Box::pin(tokio::time::sleep_until(at)))
                                }
                            },
                            None => this.stall = None,
                        }
                    }
                    if let Some(timer) = &mut this.stall_timer
                        && timer.as_mut().poll(cx).is_ready()
                    {
                        return this.cut(BodyCut::Stalled { idle });
                    }
                }
                Poll::Pending
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.done || (self.refuse.is_none() && self.inner.is_end_stream())
    }

    fn size_hint(&self) -> SizeHint {
        let hint = self.inner.size_hint();
        match hint.exact() {
            Some(n) if n <= self.limit && self.refuse.is_none() => hint,
            _ => SizeHint::default(),
        }
    }
}

/// The progress of a streamed request body, shared by the body and the watch in
/// [`Transport::send_upload`]. Times are microseconds since the attempt started.
struct UploadWatch {
    started: Instant,
    last_progress: AtomicU64,
    sent_at: AtomicU64,
    sent: AtomicU64,
    expected: Option<u64>,
}

const NOT_YET: u64 = u64::MAX;

#[derive(Clone, Copy)]
struct PhaseLimits {
    stall: Option<Duration>,
    upload: Option<Duration>,
    answer: Option<Duration>,
}

enum Check {
    Expired(TimeoutKind),
    Until(Instant),
    NoLimit,
}

impl UploadWatch {
    fn new(expected: Option<u64>) -> Self {
        Self {
            started: Instant::now(),
            last_progress: AtomicU64::new(0),
            sent_at: AtomicU64::new(NOT_YET),
            sent: AtomicU64::new(0),
            expected,
        }
    }

    fn now(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_micros()).unwrap_or(NOT_YET - 1)
    }

    fn at(&self, micros: u64) -> Instant {
        self.started
            .checked_add(Duration::from_micros(micros))
            .unwrap_or(self.started)
    }

    fn progress(&self, bytes: usize) {
        let now = self.now();
        self.last_progress.store(now, Ordering::Relaxed);
        let sent = self
            .sent
            .fetch_add(bytes as u64, Ordering::Relaxed)
            .saturating_add(bytes as u64);
        // hyper may not ask for the end of a body whose declared length has gone out.
        if self.expected.is_some_and(|e| sent >= e) {
            self.finish();
        }
    }

    fn finish(&self) {
        let now = self.now();
        let _ = self
            .sent_at
            .compare_exchange(NOT_YET, now, Ordering::Relaxed, Ordering::Relaxed);
    }

    fn sent_at(&self) -> Option<Instant> {
        match self.sent_at.load(Ordering::Relaxed) {
            NOT_YET => None,
            t => Some(self.at(t)),
        }
    }

    /// What the watch says at `now`: a limit expired, or when to look again.
    fn check(&self, now: Instant, limits: PhaseLimits) -> Check {
        let earliest = |a: Option<Instant>, b: Option<Instant>| match (a, b) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if let Some(sent) = self.sent_at() {
            // The file is out: the answer has the request timeout.
            return match limits.answer.and_then(|t| sent.checked_add(t)) {
                Some(at) if now >= at => Check::Expired(TimeoutKind::Request),
                Some(at) => Check::Until(at),
                None => Check::NoLimit,
            };
        }
        let mut next = None;
        if let Some(idle) = limits.stall {
            let last = self.at(self.last_progress.load(Ordering::Relaxed));
            if let Some(at) = last.checked_add(idle) {
                if now >= at {
                    return Check::Expired(TimeoutKind::UploadStalled { idle });
                }
                next = earliest(next, Some(at));
            }
        }
        if let Some(limit) = limits.upload
            && let Some(at) = self.started.checked_add(limit)
        {
            if now >= at {
                return Check::Expired(TimeoutKind::Upload);
            }
            next = earliest(next, Some(at));
        }
        // The body may finish any moment; the answer's deadline cannot come sooner than this.
        next = earliest(next, limits.answer.and_then(|t| now.checked_add(t)));
        next.map_or(Check::NoLimit, Check::Until)
    }
}

/// A request body that reports its progress to an [`UploadWatch`].
struct WatchedBody {
    inner: reqwest::Body,
    watch: Arc<UploadWatch>,
}

impl HttpBody for WatchedBody {
    type Data = Bytes;
    type Error = reqwest::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, reqwest::Error>>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.watch.progress(data.len());
                }
            }
            Poll::Ready(None) => this.watch.finish(),
            _ => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

tokio::task_local! {
    static CALL: CallContext;
}

/// What the transport learned about one call (attempts, last status, itself: its key is redacted
/// from the call's error), for error reporting. Set by [`CallContext::scope`] around a call;
/// absent for raw calls made outside it.
#[derive(Default)]
pub(crate) struct CallContext {
    attempts: Cell<u32>,
    status: Cell<Option<StatusCode>>,
    transport: RefCell<Option<Transport>>,
}

/// What [`CallContext::scope`] learned.
pub(crate) struct Seen {
    /// Attempts made (0 when nothing was sent).
    pub(crate) attempts: u32,
    /// The status of the last response.
    pub(crate) status: Option<StatusCode>,
    /// The transport that sent the call.
    pub(crate) transport: Option<Transport>,
}

impl CallContext {
    fn record(transport: &Transport, attempt: u32, status: Option<StatusCode>) {
        let _ = CALL.try_with(|c| {
            c.attempts.set(attempt);
            c.status.set(status);
            if attempt == 1 {
                c.transport.replace(Some(transport.clone()));
            }
        });
    }

    /// Runs `fut` with a fresh context; returns its output and what the transport recorded.
    pub(crate) async fn scope<F: std::future::Future>(fut: F) -> (F::Output, Seen) {
        CALL.scope(CallContext::default(), async move {
            let out = fut.await;
            let seen = CALL
                .try_with(|c| Seen {
                    attempts: c.attempts.get(),
                    status: c.status.get(),
                    transport: c.transport.take(),
                })
                .unwrap_or(Seen {
                    attempts: 0,
                    status: None,
                    transport: None,
                });
            (out, seen)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_redirect_policy_check_recognises_policy_none_only() {
        let none = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        assert!(follows_no_redirects(&none), "{none:?}");
        for follows in [
            reqwest::Client::new(),
            reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::limited(3))
                .build()
                .unwrap(),
            reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::custom(|a| a.stop()))
                .build()
                .unwrap(),
        ] {
            assert!(!follows_no_redirects(&follows), "{follows:?}");
        }
    }

    #[test]
    fn the_upload_watch_moves_from_the_stall_limit_to_the_answer_limit() {
        let limits = PhaseLimits {
            stall: Some(Duration::from_secs(2)),
            upload: Some(Duration::from_secs(10)),
            answer: Some(Duration::from_secs(5)),
        };
        let w = UploadWatch::new(Some(100));
        let t0 = w.started;
        let at = |s: u64| t0 + Duration::from_secs(s);
        assert!(matches!(w.check(at(0), limits), Check::Until(t) if t == at(2)));
        assert!(matches!(
            w.check(at(3), limits),
            Check::Expired(TimeoutKind::UploadStalled { .. })
        ));
        w.progress(100); // the whole declared length: sent
        let sent = w.sent_at().unwrap();
        assert!(
            matches!(w.check(sent, limits), Check::Until(t) if t == sent + Duration::from_secs(5))
        );
        assert!(matches!(
            w.check(sent + Duration::from_secs(6), limits),
            Check::Expired(TimeoutKind::Request)
        ));
        // Absurd limits do not overflow.
        let huge = PhaseLimits {
            stall: Some(Duration::MAX),
            upload: Some(Duration::MAX),
            answer: Some(Duration::MAX),
        };
        let w = UploadWatch::new(None);
        assert!(matches!(w.check(Instant::now(), huge), Check::NoLimit));
        let upload_only = PhaseLimits {
            stall: None,
            upload: Some(Duration::from_secs(1)),
            answer: None,
        };
        assert!(matches!(
            w.check(w.started + Duration::from_secs(1), upload_only),
            Check::Expired(TimeoutKind::Upload)
        ));
    }
}
