//! The one path every request takes: authentication, user agent, timeouts, retries, tracing and
//! rate-limit tracking.
//!
//! Generated operations reach it through progenitor's `ClientHooks::exec`; hand-written ones
//! (multipart uploads, the NDJSON stream) call `Transport::execute` with a factory that builds
//! the request again for each attempt, so that bodies which cannot be cloned (a streamed file)
//! are re-opened instead of not retried.

use std::cell::Cell;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use progenitor_client::{ClientHooks, ClientInfo, OperationInfo};
use reqwest::header::{HeaderName, HeaderValue, USER_AGENT};
use reqwest::{Request, Response, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use tracing::Instrument;

use crate::rate_limit::RateLimit;
use crate::retry::{RequestKind, RetryPolicy, server_delay};

/// The header that carries the API key.
pub(crate) const API_KEY_HEADER: HeaderName = HeaderName::from_static("x-api-key");
/// The header that carries the server's request id.
const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// What the generated client carries for the hand-written layer (progenitor's "inner type"):
/// the API key, retry policy, timeouts and the latest rate-limit snapshot. Cheap to clone.
///
/// [`crate::Client`] builds one for you. To use [`crate::raw::Client`] on its own, build one with
/// [`Transport::new`] and pass it to [`crate::raw::Client::new_with_client`].
#[derive(Clone)]
pub struct Transport {
    shared: Arc<Shared>,
}

struct Shared {
    /// The key as a ready header value, marked sensitive (built once, not per request).
    api_key: Option<HeaderValue>,
    user_agent: HeaderValue,
    retry: RetryPolicy,
    request_timeout: Option<Duration>,
    upload_timeout: Option<Duration>,
    rate_limit: Mutex<Option<RateLimit>>,
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
            .finish_non_exhaustive()
    }
}

/// The default `User-Agent`: `twelvelabs-rs/<version>`.
pub(crate) const DEFAULT_USER_AGENT: &str = concat!("twelvelabs-rs/", env!("CARGO_PKG_VERSION"));

impl Transport {
    /// A transport that sends `api_key` as `x-api-key` (marked sensitive), with the default retry
    /// policy, no timeouts of its own and the default user agent. `None` sends no key: use it
    /// when the `reqwest::Client` already adds one.
    pub fn new(api_key: Option<SecretString>) -> Self {
        Self::with_settings(
            api_key,
            HeaderValue::from_static(DEFAULT_USER_AGENT),
            RetryPolicy::default(),
            None,
            None,
        )
    }

    pub(crate) fn with_settings(
        api_key: Option<SecretString>,
        user_agent: HeaderValue,
        retry: RetryPolicy,
        request_timeout: Option<Duration>,
        upload_timeout: Option<Duration>,
    ) -> Self {
        let api_key = api_key.and_then(|key| {
            let mut value = HeaderValue::from_str(key.expose_secret()).ok()?;
            value.set_sensitive(true);
            Some(value)
        });
        Self {
            shared: Arc::new(Shared {
                api_key,
                user_agent,
                retry,
                request_timeout,
                upload_timeout,
                rate_limit: Mutex::new(None),
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

    /// Sends a request, retrying per the policy. `make` builds the request for each attempt; it
    /// returns `None` when the request cannot be built again (then no retry is made).
    ///
    /// Returns the last response whatever its status: turning an error status into
    /// [`crate::Error`] is the caller's job, so that the body is read once.
    pub(crate) async fn execute(
        &self,
        http: &reqwest::Client,
        operation_id: &'static str,
        first: Request,
        mut make: impl FnMut() -> Option<Request>,
    ) -> reqwest::Result<Response> {
        let policy = &self.shared.retry;
        let kind = RequestKind::of(first.method(), operation_id);
        let mut request = first;
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            let can_retry = attempt <= policy.get_max_retries();
            // Keep a copy for the next attempt before the request is completed (so that the
            // per-attempt additions are not made twice) and consumed.
            let spare = if can_retry {
                request.try_clone().or_else(&mut make)
            } else {
                None
            };
            self.prepare(&mut request, operation_id);
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
                let started = Instant::now();
                let result = http.execute(request).instrument(span.clone()).await;
                span.record("duration_ms", started.elapsed().as_millis() as u64);
                result
            } else {
                http.execute(request).await
            };
            CallContext::record(attempt, result.as_ref().ok().map(Response::status));

            let delay = match &result {
                Ok(response) => {
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
                        return result;
                    }
                    match server_delay(status, response.headers(), SystemTime::now()) {
                        Some(wait) if wait > policy.get_max_retry_after() => {
                            tracing::warn!(
                                parent: &span,
                                "server asked to wait {wait:?}, more than max_retry_after; not retrying"
                            );
                            return result;
                        }
                        Some(wait) => wait,
                        None => policy.backoff(attempt),
                    }
                }
                Err(error) => {
                    tracing::debug!(parent: &span, "transport error: {error}");
                    if !policy.retries_error(error, kind) {
                        return result;
                    }
                    policy.backoff(attempt)
                }
            };
            let Some(spare) = spare else {
                return result;
            };
            match &result {
                Ok(r) => tracing::warn!(
                    parent: &span,
                    "{operation_id}: HTTP {}, retrying in {delay:?} (attempt {} of {})",
                    r.status(),
                    attempt + 1,
                    policy.get_max_retries() + 1
                ),
                Err(e) => tracing::warn!(
                    parent: &span,
                    "{operation_id}: {e}, retrying in {delay:?} (attempt {} of {})",
                    attempt + 1,
                    policy.get_max_retries() + 1
                ),
            }
            drop(result);
            tokio::time::sleep(delay).await;
            request = spare;
        }
    }

    /// Adds what every attempt carries: the key, the user agent, the timeout.
    fn prepare(&self, request: &mut Request, operation_id: &str) {
        let headers = request.headers_mut();
        if let Some(key) = &self.shared.api_key {
            headers.insert(API_KEY_HEADER, key.clone());
        }
        headers.insert(USER_AGENT, self.shared.user_agent.clone());
        if request.timeout().is_none() {
            let upload = crate::raw::operations::by_name(operation_id).is_some_and(|op| {
                matches!(op.body, crate::raw::operations::Body::Multipart { .. })
            });
            *request.timeout_mut() = if upload {
                self.shared.upload_timeout
            } else {
                self.shared.request_timeout
            };
        }
    }

    /// Records the rate-limit headers of a response and warns when few requests are left.
    fn observe(&self, response: &Response, operation_id: &str) {
        let Some(snapshot) = RateLimit::from_headers(response.headers()) else {
            return;
        };
        if snapshot.is_low() {
            tracing::warn!(
                operation = operation_id,
                "rate limit running low: {snapshot}"
            );
        }
        if let Ok(mut slot) = self.shared.rate_limit.lock() {
            *slot = Some(snapshot);
        }
    }
}

impl ClientHooks<Transport> for crate::raw::Client {
    async fn exec(&self, request: Request, info: &OperationInfo) -> reqwest::Result<Response> {
        let transport = self.inner();
        transport
            .execute(self.client(), info.operation_id, request, || None)
            .await
    }
}

tokio::task_local! {
    static CALL: CallContext;
}

/// What the transport learned about one call (attempts, last status), for error reporting.
/// Set by [`CallContext::scope`] around a call; absent for raw calls made outside it.
#[derive(Default)]
pub(crate) struct CallContext {
    attempts: Cell<u32>,
    status: Cell<Option<StatusCode>>,
}

impl CallContext {
    fn record(attempt: u32, status: Option<StatusCode>) {
        let _ = CALL.try_with(|c| {
            c.attempts.set(attempt);
            c.status.set(status);
        });
    }

    /// Runs `fut` with a fresh context; returns its output and the attempts / last status seen.
    pub(crate) async fn scope<F: std::future::Future>(
        fut: F,
    ) -> (F::Output, u32, Option<StatusCode>) {
        CALL.scope(CallContext::default(), async move {
            let out = fut.await;
            let (attempts, status) = CALL
                .try_with(|c| (c.attempts.get(), c.status.get()))
                .unwrap_or((0, None));
            (out, attempts, status)
        })
        .await
    }
}
