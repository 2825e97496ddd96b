//! The client: configuration, construction, and the call path every resource uses.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use progenitor_client::ResponseValue;
use reqwest::header::HeaderValue;
use secrecy::SecretString;

use crate::error::{DecodeError, Error, Result, SizeLimited, TimeoutKind};
use crate::rate_limit::RateLimit;
use crate::retry::RetryPolicy;
use crate::transport::{
    BodyCut, CallContext, DEFAULT_USER_AGENT, FOLLOWS_REDIRECTS, Failure, Settings, Transport,
    find_in_chain, follows_no_redirects, is_protocol_violation,
};

/// The environment variable holding the API key.
pub const API_KEY_ENV: &str = "TWELVE_LABS_API_KEY";
/// The environment variable overriding the base URL (the host root; `/v1.2` is appended when
/// absent), as the official SDKs read it.
pub const BASE_URL_ENV: &str = "TWELVELABS_BASE_URL";
/// The API this crate speaks: `servers[0].url` of `openapi.yaml`.
pub const DEFAULT_BASE_URL: &str = crate::raw::operations::DEFAULT_BASE_URL;
/// The API version, the last segment of [`DEFAULT_BASE_URL`].
const API_VERSION_SEGMENT: &str = crate::raw::operations::API_VERSION;

/// Error bodies longer than this are not read whole (a snippet is enough).
const MAX_ERROR_BODY: usize = 64 * 1024;

/// The default ceiling on a response body: 128 MiB.
///
/// Sized from the largest legitimate v1.2 response, a video embedding task with its segments
/// (`GET /embed/tasks/{id}`, or a video fetched with `embed=true`): a video of up to 2 h (7,200 s,
/// Marengo's maximum) cut into clips of at least 2 s gives at most 3,600 clip segments plus one
/// video segment; each carries 1,024 floats, and a float takes at most 25 bytes of JSON
/// (`-1.2345678901234567e-05, `). 3,601 × 1,024 × 25 B ≈ 92 MB (88 MiB), plus a few hundred bytes
/// of offsets per segment. 128 MiB leaves about 45% headroom. Change it with
/// [`ClientBuilder::max_response_bytes`].
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 128 * 1024 * 1024;

/// The default pauses between a waiter's polls: 2 s to 30 s.
pub const DEFAULT_WAIT_DELAYS: (Duration, Duration) =
    (Duration::from_secs(2), Duration::from_secs(30));

/// The default stall timeout: 30 s. See [`ClientBuilder::stall_timeout`].
pub const DEFAULT_STALL_TIMEOUT: Duration = Duration::from_secs(30);

/// A Twelve Labs API client. Cheap to clone (an `Arc`), `Send + Sync`; build one and share it.
///
/// ```no_run
/// # async fn demo() -> twelvelabs::Result<()> {
/// // The key from TWELVE_LABS_API_KEY, the base URL from TWELVELABS_BASE_URL if set.
/// let tl = twelvelabs::Client::from_env()?;
///
/// // Or configured explicitly.
/// let tl = twelvelabs::Client::builder()
///     .api_key("tlk_...")
///     .request_timeout(std::time::Duration::from_secs(60))
///     .retry_policy(twelvelabs::RetryPolicy::default().with_max_retries(4))
///     .build()?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    raw: crate::raw::Client,
    config: Config,
    /// The runtime of a [`crate::blocking::Client`]; `None` for the async client.
    #[cfg(feature = "blocking")]
    runtime: Option<Arc<crate::blocking::Runtime>>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

/// The settings a [`Client`] was built with. The API key is not part of it (`Debug` shows
/// `api_key: [REDACTED]`).
#[derive(Clone)]
#[non_exhaustive]
pub struct Config {
    /// The base URL, normalised: scheme, host, optional path, ending in `/v1.2`, no trailing slash.
    pub base_url: String,
    /// The connect timeout.
    pub connect_timeout: Duration,
    /// The timeout of one attempt of an ordinary request; `None` for no limit.
    pub request_timeout: Option<Duration>,
    /// The limit on sending a file (while it streams); `None` for no limit.
    pub upload_timeout: Option<Duration>,
    /// How long a request or response body may move no byte; `None` for no limit.
    pub stall_timeout: Option<Duration>,
    /// The largest response body accepted, in bytes.
    pub max_response_bytes: u64,
    /// The retry policy.
    pub retry: RetryPolicy,
    /// The `User-Agent` header.
    pub user_agent: String,
    /// The shortest and longest pause between a waiter's polls, unless the waiter sets its own.
    pub wait_delays: (Duration, Duration),
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("base_url", &self.base_url)
            .field("api_key", &Redacted)
            .field("connect_timeout", &self.connect_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("upload_timeout", &self.upload_timeout)
            .field("stall_timeout", &self.stall_timeout)
            .field("max_response_bytes", &self.max_response_bytes)
            .field("retry", &self.retry)
            .field("user_agent", &self.user_agent)
            .field("wait_delays", &self.wait_delays)
            .finish()
    }
}

/// Prints `[REDACTED]` in place of a secret.
struct Redacted;

impl std::fmt::Debug for Redacted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[REDACTED]")
    }
}

impl Client {
    /// A client with `api_key` and the default settings.
    ///
    /// Fails (without sending anything) when the key is empty.
    pub fn new(api_key: impl Into<String>) -> Result<Self> {
        Self::builder().api_key(api_key).build()
    }

    /// A client configured from the environment: the key from `TWELVE_LABS_API_KEY` (required)
    /// and the base URL from `TWELVELABS_BASE_URL` (optional).
    pub fn from_env() -> Result<Self> {
        ClientBuilder::from_env().build()
    }

    /// A builder with the default settings and nothing read from the environment.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// Indexes: create, list, get, rename, delete.
    pub fn indexes(&self) -> crate::api::indexes::Indexes {
        crate::api::indexes::Indexes::new(self.clone())
    }

    /// The videos of an index: list, get, update, delete, transcription, text, logos, thumbnails.
    pub fn videos(&self, index: impl Into<crate::IndexId>) -> crate::api::videos::Videos {
        crate::api::videos::Videos::new(self.clone(), index.into())
    }

    /// Video indexing tasks: uploads, YouTube, transfers, imports, waiting.
    pub fn tasks(&self) -> crate::api::tasks::Tasks {
        crate::api::tasks::Tasks::new(self.clone())
    }

    /// Starts a search of `index` (text, combined or image query).
    pub fn search(&self, index: impl Into<crate::IndexId>) -> crate::api::search::Search {
        crate::api::search::Search::new(self.clone(), index.into())
    }

    /// Classification of videos or whole indexes.
    pub fn classify(&self) -> crate::api::classify::Classify {
        crate::api::classify::Classify::new(self.clone())
    }

    /// Text generation: gist, summaries, chapters, highlights, open-ended text and its stream.
    pub fn generate(&self) -> crate::api::generate::Generate {
        crate::api::generate::Generate::new(self.clone())
    }

    /// Embeddings of text, images, audio, and video embedding tasks.
    pub fn embed(&self) -> crate::api::embed::Embed {
        crate::api::embed::Embed::new(self.clone())
    }

    /// The engines of the platform.
    pub fn engines(&self) -> crate::api::engines::Engines {
        crate::api::engines::Engines::new(self.clone())
    }

    /// The generated low-level client, configured like this one (key, retries, timeouts).
    pub fn raw(&self) -> &crate::raw::Client {
        &self.inner.raw
    }

    /// The same client with the runtime of a blocking client.
    #[cfg(feature = "blocking")]
    pub(crate) fn with_runtime(self, runtime: Arc<crate::blocking::Runtime>) -> Self {
        Client {
            inner: Arc::new(Inner {
                raw: self.inner.raw.clone(),
                config: self.inner.config.clone(),
                runtime: Some(runtime),
            }),
        }
    }

    /// The runtime of a blocking client.
    #[cfg(feature = "blocking")]
    pub(crate) fn runtime(&self) -> Option<Arc<crate::blocking::Runtime>> {
        self.inner.runtime.clone()
    }

    /// The settings this client was built with.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The `X-Ratelimit-*` headers of the latest response that carried them.
    pub fn rate_limit(&self) -> Option<RateLimit> {
        progenitor_client::ClientInfo::inner(&self.inner.raw).rate_limit()
    }

    /// The server's clock now: the latest response's `Date` plus what elapsed since (this
    /// machine's clock before any response). Quota windows are measured on it.
    #[cfg(feature = "ingest")]
    pub(crate) fn server_now(&self) -> std::time::SystemTime {
        progenitor_client::ClientInfo::inner(&self.inner.raw).server_now()
    }

    /// The `X-Ratelimit-*` headers of the latest response of one operation that carried them.
    /// Twelve Labs counts each family of endpoints on its own (task creation, search, generate…),
    /// so this is the count that matters before calling that operation again.
    ///
    /// ```
    /// # fn demo(tl: &twelvelabs::Client) {
    /// use twelvelabs::raw::operations::CREATE_TASK;
    /// if let Some(q) = tl.rate_limit_of(&CREATE_TASK) {
    ///     println!("task creations left today: {:?}", q.remaining);
    /// }
    /// # }
    /// ```
    pub fn rate_limit_of(
        &self,
        operation: &crate::raw::operations::Operation,
    ) -> Option<RateLimit> {
        progenitor_client::ClientInfo::inner(&self.inner.raw).rate_limit_of(operation.name)
    }

    /// Runs a call of the generated client and turns its outcome into this crate's
    /// [`Result`]: error statuses are decoded into [`Error::Api`] / [`Error::RateLimited`] (with
    /// status, code, message, request id, rate-limit headers and attempt count), a redirect into
    /// [`Error::Redirect`], transport failures into [`Error::Timeout`] / [`Error::Connection`] /
    /// [`Error::Protocol`], an oversized body into [`Error::ResponseTooLarge`], bad bodies into
    /// [`Error::Decode`] with the JSON path that failed. The API key is redacted from any server
    /// text the error keeps.
    ///
    /// Every resource method uses this; it is public so that any operation of [`Client::raw`]
    /// gets the same treatment.
    ///
    /// ```no_run
    /// # async fn demo(tl: twelvelabs::Client) -> twelvelabs::Result<()> {
    /// let task = tl.call(tl.raw().get_task().task_id("66659a3efa7835326810120c").send()).await?;
    /// println!("{:?}", task.status);
    /// # Ok(()) }
    /// ```
    pub fn call<T, F>(&self, request: F) -> impl Future<Output = Result<T>> + use<T, F>
    where
        T: serde::de::DeserializeOwned,
        F: Future<Output = std::result::Result<ResponseValue<T>, crate::raw::Error<()>>>,
    {
        call(request)
    }

    fn transport(&self) -> &Transport {
        progenitor_client::ClientInfo::inner(&self.inner.raw)
    }
}

/// [`Client::call`] as a free function (the resource files use it). The API key of the transport
/// that sent the call is redacted from its error.
///
/// Not an `async fn`: the generated future (kilobytes) is boxed once, here, so that the futures
/// of the resource methods above stay small; nested `async fn`s would each store and copy it
/// (measured: about 4.8k fewer instructions per request, see BENCHMARKS.md).
pub(crate) fn call<T, F>(request: F) -> impl Future<Output = Result<T>> + use<T, F>
where
    T: serde::de::DeserializeOwned,
    F: Future<Output = std::result::Result<ResponseValue<T>, crate::raw::Error<()>>>,
{
    let request = Box::pin(request);
    async move {
        let (result, seen) = CallContext::scope(request).await;
        match result {
            Ok(value) => Ok(value.into_inner()),
            // Boxed too: the error path (reading the body) is large and rarely taken.
            Err(e) => {
                let error = Box::pin(convert_error::<T>(e, seen.attempts, seen.status)).await;
                Err(match &seen.transport {
                    Some(transport) => transport.redact(error),
                    None => error,
                })
            }
        }
    }
}

impl Client {
    /// Sends a hand-written request (multipart, NDJSON) of operation `op` through the transport:
    /// the method and URL come from the descriptor (`path_params` fill its path template), and
    /// `make` completes the request for each attempt (`None` when it cannot be built again);
    /// `upload` says that its body streams a file (see [`Transport::execute`]). Returns the 2xx
    /// response; any other status becomes an [`Error`].
    pub(crate) async fn execute_raw(
        &self,
        op: &'static crate::raw::operations::Operation,
        path_params: &[(&str, &str)],
        upload: bool,
        mut make: impl FnMut(reqwest::RequestBuilder) -> Option<reqwest::Request>,
    ) -> Result<reqwest::Response> {
        use progenitor_client::ClientInfo;
        let raw = self.raw();
        let http = raw.client();
        let transport = self.transport();
        transport
            .check_client(http)
            .map_err(|reason| Error::config("http_client", reason))?;
        let url = op.url(raw.baseurl(), path_params)?;
        let mut attempt = || make(http.request(op.method.clone(), url.as_str()));
        let Some(first) = attempt() else {
            return Err(Error::invalid("request", "the request could not be built"));
        };
        let fut = transport.execute(http, op.name, upload, first, attempt);
        let (result, seen) = CallContext::scope(fut).await;
        let attempts = seen.attempts.max(1);
        let outcome = match result {
            Ok(r) if r.status().is_success() => Ok(r),
            Ok(r) => Err(error_from_response(r, attempts).await),
            Err(Failure::Http(e)) => Err(transport_error(e, attempts)),
            Err(Failure::Timeout(kind)) => Err(Error::Timeout {
                attempts,
                kind,
                source: None,
            }),
        };
        outcome.map_err(|e| transport.redact(e))
    }

    /// Sends a multipart form for operation `op`; returns the 2xx response. The form says whether
    /// a file streams (then the upload timeout and stall watch apply while it goes out).
    pub(crate) async fn post_form(
        &self,
        op: &'static crate::raw::operations::Operation,
        path_params: &[(&str, &str)],
        form: &crate::upload::MultipartForm,
        progress: Option<crate::upload::Progress>,
    ) -> Result<reqwest::Response> {
        self.execute_raw(op, path_params, form.streams_file(), |request| {
            let form = form.build(progress.clone())?;
            request.multipart(form).build().ok()
        })
        .await
    }

    /// Sends `form` as the `multipart/form-data` body of operation `op` (a descriptor from
    /// [`raw::operations`](crate::raw::operations), for instance of an operation you added to your
    /// own copy of the spec), with `path_params` filling its path template, and decodes the JSON
    /// answer. Same retries, timeouts and errors as every other call: a file part is re-opened for
    /// each attempt, and an operation marked `x-twelvelabs-creates` is not repeated once it may
    /// have reached the server.
    ///
    /// Fails with [`Error::InvalidInput`] before sending when `op` has no multipart body.
    pub async fn send_multipart<T: serde::de::DeserializeOwned>(
        &self,
        op: &'static crate::raw::operations::Operation,
        path_params: &[(&str, &str)],
        form: crate::upload::MultipartForm,
    ) -> Result<T> {
        if !matches!(op.body, crate::raw::operations::Body::Multipart { .. }) {
            return Err(Error::invalid(
                "operation",
                format!("{} does not take a multipart body", op.id),
            ));
        }
        self.send_form(op, path_params, form, None).await
    }

    /// Sends a multipart form for operation `op` and decodes the JSON answer.
    pub(crate) async fn send_form<T: serde::de::DeserializeOwned>(
        &self,
        op: &'static crate::raw::operations::Operation,
        path_params: &[(&str, &str)],
        form: crate::upload::MultipartForm,
        progress: Option<crate::upload::Progress>,
    ) -> Result<T> {
        let response = self.post_form(op, path_params, &form, progress).await?;
        decode_json(response)
            .await
            .map_err(|e| self.transport().redact(e))
    }

    /// `error` with the API key redacted from any server text it kept.
    pub(crate) fn redact(&self, error: Error) -> Error {
        self.transport().redact(error)
    }
}

/// Reads a 2xx response and decodes it as `T`, with the JSON path of any failure.
pub(crate) async fn decode_json<T: serde::de::DeserializeOwned>(
    response: reqwest::Response,
) -> Result<T> {
    let status = response.status();
    let body = response.bytes().await.map_err(|e| transport_error(e, 1))?;
    serde_json::from_slice(&body)
        .map_err(|e| Error::Decode(Box::new(DecodeError::new::<T>(Some(status), &body, e))))
}

/// Turns a generated-client error into ours. Async because an error response's body is read here.
pub(crate) async fn convert_error<T: serde::de::DeserializeOwned>(
    error: crate::raw::Error<()>,
    attempts: u32,
    status: Option<reqwest::StatusCode>,
) -> Error {
    use progenitor_client::Error as E;
    let attempts = attempts.max(1);
    match error {
        E::UnexpectedResponse(response) => error_from_response(response, attempts).await,
        E::InvalidResponsePayload(body, e) => {
            Error::Decode(Box::new(DecodeError::new::<T>(status, &body, e)))
        }
        E::CommunicationError(e) | E::ResponseBodyError(e) | E::InvalidUpgrade(e) => {
            transport_error(e, attempts)
        }
        E::InvalidRequest(reason) => crate::api::unset_field(&reason),
        E::ErrorResponse(r) => Error::Api(Box::new(crate::error::ApiError {
            status: r.status(),
            code: None,
            message: String::new(),
            docs_url: None,
            request_id: None,
            rate_limit: RateLimit::from_headers(r.headers()),
            attempts,
        })),
        E::Custom(reason) => Error::config("http_client", reason),
    }
}

/// Classifies a transport error: the transport's own cuts of a body (size, stall, deadline), a
/// server breaking HTTP, timeouts, and everything else as a connection failure.
pub(crate) fn transport_error(e: reqwest::Error, attempts: u32) -> Error {
    if let Some(cut) = find_in_chain::<BodyCut>(&e) {
        return match cut {
            BodyCut::TooLarge { limit, declared } => Error::ResponseTooLarge {
                limit: *limit,
                declared: *declared,
                what: SizeLimited::Body,
            },
            BodyCut::Stalled { idle } => Error::Timeout {
                attempts,
                kind: TimeoutKind::ResponseStalled { idle: *idle },
                source: Some(Box::new(e)),
            },
            BodyCut::Deadline => Error::Timeout {
                attempts,
                kind: TimeoutKind::Request,
                source: Some(Box::new(e)),
            },
        };
    }
    if is_protocol_violation(&e) {
        // hyper says which (e.g. "message head is too large" for oversized headers).
        let reason = find_in_chain::<hyper::Error>(&e).map_or_else(
            || "malformed response".to_owned(),
            |h| format!("malformed or oversized response head: {h}"),
        );
        return Error::Protocol {
            reason,
            attempts,
            source: Some(Box::new(e)),
        };
    }
    if e.is_redirect() {
        return Error::Protocol {
            reason: "the HTTP client followed a redirect".to_owned(),
            attempts,
            source: Some(Box::new(e)),
        };
    }
    if e.is_timeout() {
        let kind = if e.is_connect() {
            TimeoutKind::Connect
        } else {
            TimeoutKind::Request
        };
        return Error::Timeout {
            attempts,
            kind,
            source: Some(Box::new(e)),
        };
    }
    Error::Connection {
        attempts,
        source: e,
    }
}

/// Reads (at most [`MAX_ERROR_BODY`] of) an error response and decodes it.
pub(crate) async fn error_from_response(mut response: reqwest::Response, attempts: u32) -> Error {
    let status = response.status();
    let headers = response.headers().clone();
    let mut body = Vec::new();
    // A body that breaks off still leaves us the status: report what we have.
    while let Ok(Some(chunk)) = response.chunk().await {
        body.extend_from_slice(&chunk);
        if body.len() >= MAX_ERROR_BODY {
            break;
        }
    }
    Error::from_response(status, &headers, &body, attempts)
}

/// Builds a [`Client`].
///
/// Defaults: base URL `https://api.twelvelabs.io/v1.2`, connect timeout 10 s, request timeout
/// 5 min (generation on long videos is slow), upload timeout none (a 2 GB upload must not be cut;
/// the stall timeout, the connect timeout and TCP keep-alive still apply), stall timeout 30 s,
/// response ceiling 128 MiB ([`DEFAULT_MAX_RESPONSE_BYTES`]), [`RetryPolicy::default`], user agent
/// `twelvelabs-rs/<version>`, no redirects followed.
#[derive(Clone)]
pub struct ClientBuilder {
    api_key: Option<SecretString>,
    base_url: Option<String>,
    allow_insecure_http: bool,
    connect_timeout: Duration,
    request_timeout: Option<Duration>,
    upload_timeout: Option<Duration>,
    stall_timeout: Option<Duration>,
    max_response_bytes: u64,
    retry: RetryPolicy,
    user_agent: Option<String>,
    wait_delays: (Duration, Duration),
    http_client: Option<reqwest::Client>,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            api_key: None,
            base_url: None,
            allow_insecure_http: false,
            connect_timeout: Duration::from_secs(10),
            request_timeout: Some(Duration::from_secs(300)),
            upload_timeout: None,
            stall_timeout: Some(DEFAULT_STALL_TIMEOUT),
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            retry: RetryPolicy::default(),
            user_agent: None,
            wait_delays: DEFAULT_WAIT_DELAYS,
            http_client: None,
        }
    }
}

impl std::fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("api_key", &self.api_key.as_ref().map(|_| Redacted))
            .field("base_url", &self.base_url)
            .field("allow_insecure_http", &self.allow_insecure_http)
            .field("connect_timeout", &self.connect_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("upload_timeout", &self.upload_timeout)
            .field("stall_timeout", &self.stall_timeout)
            .field("max_response_bytes", &self.max_response_bytes)
            .field("retry", &self.retry)
            .field("user_agent", &self.user_agent)
            .field("http_client", &self.http_client.as_ref().map(|_| "custom"))
            .finish()
    }
}

impl ClientBuilder {
    /// A builder with the key from `TWELVE_LABS_API_KEY` and the base URL from
    /// `TWELVELABS_BASE_URL`, when set. Later setters override them.
    pub fn from_env() -> Self {
        let mut b = Self::default();
        if let Ok(key) = std::env::var(API_KEY_ENV) {
            b.api_key = Some(SecretString::from(key));
        }
        if let Ok(url) = std::env::var(BASE_URL_ENV)
            && !url.trim().is_empty()
        {
            b.base_url = Some(url);
        }
        b
    }

    /// The API key (sent as `x-api-key`; never printed).
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(SecretString::from(key.into()));
        self
    }

    /// The base URL: a host root (`https://proxy.example`) or a URL ending in `/v1.2`. `/v1.2` is
    /// appended when absent; a trailing slash is removed. Plain `http://` is refused unless the host
    /// is a loopback address or [`allow_insecure_http`](Self::allow_insecure_http) is set.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// Allows a plain `http://` base URL on a non-loopback host. The API key then travels in clear
    /// text; only for trusted networks (e.g. a proxy on a private link).
    pub fn allow_insecure_http(mut self, yes: bool) -> Self {
        self.allow_insecure_http = yes;
        self
    }

    /// The connect timeout. Default 10 s. Ignored with [`http_client`](Self::http_client).
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.connect_timeout = d;
        self
    }

    /// The timeout of one attempt of a request, from sending it to the last byte of the answer.
    /// Default 5 min. For a request that uploads a file, it bounds the wait for the answer once
    /// the file has gone out (the upload itself has [`upload_timeout`](Self::upload_timeout)).
    pub fn request_timeout(mut self, d: Duration) -> Self {
        self.request_timeout = Some(d);
        self
    }

    /// No timeout for ordinary requests.
    pub fn no_request_timeout(mut self) -> Self {
        self.request_timeout = None;
        self
    }

    /// The limit on sending a file (video, image, audio, transfer list) in one attempt, from the
    /// attempt's start until the file's last byte has gone out. Default: none (a 2 GB upload on a
    /// slow link must not be cut; the stall timeout still ends one the server stops taking).
    /// Requests that upload no file (text embeddings, image search by URL…) have the
    /// [`request_timeout`](Self::request_timeout) instead.
    pub fn upload_timeout(mut self, d: Duration) -> Self {
        self.upload_timeout = Some(d);
        self
    }

    /// How long a body may move no byte before the attempt ends with [`Error::Timeout`]
    /// ([`TimeoutKind::UploadStalled`] / [`TimeoutKind::ResponseStalled`]), as aws-sdk-rust's
    /// stalled-stream protection does: a response body that delivers nothing (counted while you
    /// wait for it), or a file upload the server stops taking. Default 30 s, long enough for the
    /// first event of a generation stream. Must not be zero.
    pub fn stall_timeout(mut self, d: Duration) -> Self {
        self.stall_timeout = Some(d);
        self
    }

    /// No stall detection (the request and upload timeouts still apply).
    pub fn no_stall_timeout(mut self) -> Self {
        self.stall_timeout = None;
        self
    }

    /// The largest response body accepted, in bytes: a longer one ends with
    /// [`Error::ResponseTooLarge`] as soon as it is known to be longer (a `Content-Length` above it
    /// is refused before reading), so a hostile or broken server cannot exhaust memory. Default
    /// 128 MiB ([`DEFAULT_MAX_RESPONSE_BYTES`], sized from the largest legitimate response).
    /// Applies to every response: generated operations, uploads, error bodies, the generation
    /// stream. Must not be zero.
    pub fn max_response_bytes(mut self, n: u64) -> Self {
        self.max_response_bytes = n;
        self
    }

    /// The retry policy. Default [`RetryPolicy::default`]; [`RetryPolicy::disabled`] turns retries off.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// The `User-Agent` header. Default `twelvelabs-rs/<version>`.
    pub fn user_agent(mut self, ua: impl Into<String>) -> Self {
        self.user_agent = Some(ua.into());
        self
    }

    /// The shortest and longest pause between a waiter's polls (`tl.tasks().wait(..)`), unless
    /// the waiter sets its own with `min_delay` / `max_delay`. Default 2 s and 30 s: indexing takes
    /// minutes. [`FakeServer::client`](crate::testing::FakeServer::client) sets 10 ms and 100 ms,
    /// so waits against the fake end as soon as its clock says so.
    pub fn wait_delays(mut self, min: Duration, max: Duration) -> Self {
        self.wait_delays = (min, max.max(min));
        self
    }

    /// Uses your `reqwest::Client` (proxies, TLS roots, pool settings…). The API key, user agent,
    /// retries, per-request timeouts, stall detection and the response ceiling are still applied;
    /// the connect timeout set here is not (configure it on your client).
    ///
    /// The client must follow no redirects: build it with
    /// `.redirect(reqwest::redirect::Policy::none())`. reqwest forwards custom headers such as
    /// `x-api-key` to whatever host a redirect names, so [`build`](Self::build) refuses a client
    /// that follows redirects with [`Error::Config`].
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http_client = Some(client);
        self
    }

    /// Validates the settings and builds the client. No request is sent.
    ///
    /// Fails with [`Error::Config`] when the key is missing or empty, the base URL is invalid or
    /// insecure, a limit is zero, or the `reqwest::Client` given to
    /// [`http_client`](Self::http_client) follows redirects.
    pub fn build(self) -> Result<Client> {
        let key = match self.api_key {
            Some(key) if !secrecy::ExposeSecret::expose_secret(&key).trim().is_empty() => key,
            Some(_) => return Err(Error::config("api_key", "the API key is empty")),
            None => {
                return Err(Error::config(
                    API_KEY_ENV,
                    format!("no API key: set {API_KEY_ENV} or call ClientBuilder::api_key"),
                ));
            }
        };
        if HeaderValue::from_str(secrecy::ExposeSecret::expose_secret(&key)).is_err() {
            return Err(Error::config(
                "api_key",
                "contains characters not allowed in an HTTP header",
            ));
        }
        let base_url = normalize_base_url(
            self.base_url.as_deref().unwrap_or(DEFAULT_BASE_URL),
            self.allow_insecure_http,
        )?;
        let user_agent = self
            .user_agent
            .unwrap_or_else(|| DEFAULT_USER_AGENT.to_owned());
        let ua_header = HeaderValue::from_str(&user_agent).map_err(|_| {
            Error::config(
                "user_agent",
                format!("{user_agent:?} is not a valid header value"),
            )
        })?;
        if self.max_response_bytes == 0 {
            return Err(Error::config("max_response_bytes", "must not be zero"));
        }
        if self.stall_timeout == Some(Duration::ZERO) {
            return Err(Error::config(
                "stall_timeout",
                "must not be zero (use no_stall_timeout to turn it off)",
            ));
        }
        let (http, own) = match self.http_client {
            Some(c) if follows_no_redirects(&c) => (c, false),
            Some(_) => return Err(Error::config("http_client", FOLLOWS_REDIRECTS)),
            // No redirects: the v1.2 API does not redirect, and reqwest would forward x-api-key
            // to any host a redirect names. A 3xx becomes Error::Redirect.
            None => (
                reqwest::Client::builder()
                    .connect_timeout(self.connect_timeout)
                    .tcp_keepalive(Duration::from_secs(30))
                    .redirect(reqwest::redirect::Policy::none())
                    .build()
                    .map_err(|e| {
                        Error::config("http_client", format!("cannot build the HTTP client: {e}"))
                    })?,
                true,
            ),
        };
        let transport = Transport::with_settings(Settings {
            api_key: Some(key),
            user_agent: ua_header,
            retry: self.retry.clone(),
            request_timeout: self.request_timeout,
            upload_timeout: self.upload_timeout,
            stall_timeout: self.stall_timeout,
            max_response_bytes: self.max_response_bytes,
        });
        if own || follows_no_redirects(&http) {
            transport.trust_client();
        }
        let raw = crate::raw::Client::new_with_client(&base_url, http, transport);
        Ok(Client {
            inner: Arc::new(Inner {
                raw,
                #[cfg(feature = "blocking")]
                runtime: None,
                config: Config {
                    base_url,
                    connect_timeout: self.connect_timeout,
                    request_timeout: self.request_timeout,
                    upload_timeout: self.upload_timeout,
                    stall_timeout: self.stall_timeout,
                    max_response_bytes: self.max_response_bytes,
                    retry: self.retry,
                    user_agent,
                    wait_delays: self.wait_delays,
                },
            }),
        })
    }
}

/// Normalises a base URL: `/v1.2` appended when absent, no trailing slash, https unless loopback
/// or explicitly allowed.
pub(crate) fn normalize_base_url(input: &str, allow_insecure_http: bool) -> Result<String> {
    let bad = |why: &str| Error::config("base_url", format!("{input:?}: {why}"));
    // The URL parser would resolve these to another path (`/api/%2e%2e/v1.2` is `/v1.2`): refuse
    // them instead, the key must go where the user wrote.
    if input.contains('\\') {
        return Err(bad("it must not contain a backslash"));
    }
    if has_dot_segment(input.trim()) {
        return Err(bad(
            "its path must not contain `.` or `..` segments (in any spelling, such as `%2e%2e`)",
        ));
    }
    let mut url = reqwest::Url::parse(input.trim()).map_err(|e| bad(&e.to_string()))?;
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad("it must not have a query or fragment"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("it must not carry credentials"));
    }
    let host = url.host_str().ok_or_else(|| bad("no host"))?.to_owned();
    match url.scheme() {
        "https" => {}
        "http" if allow_insecure_http || is_loopback(&host) => {}
        "http" => {
            return Err(bad(
                "plain http would send the API key in clear text; use https, a loopback host, \
                 or ClientBuilder::allow_insecure_http(true)",
            ));
        }
        other => return Err(bad(&format!("unsupported scheme {other:?}"))),
    }
    let path = url.path().trim_end_matches('/').to_owned();
    // A path past the API root (`…/v1.2/indexes`) would be kept and the operations' paths added
    // to it: refuse it. A prefix without a version (a proxy's `/twelvelabs`) is kept as written.
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    if let Some(at) = segments.iter().position(|s| is_version_segment(s))
        && at + 1 < segments.len()
    {
        return Err(bad(&format!(
            "it goes past the API root: end it at /{} (without /{})",
            segments.get(at).copied().unwrap_or_default(),
            segments.get(at + 1..).unwrap_or_default().join("/")
        )));
    }
    if let Some(last) = segments.last()
        && crate::raw::operations::ALL
            .iter()
            .any(|op| op.path.split('/').nth(1) == Some(*last))
    {
        return Err(bad(&format!(
            "it ends with the API path /{last}: give the API root (the host, a proxy prefix, or \
             …/{API_VERSION_SEGMENT})"
        )));
    }
    let last = path.rsplit('/').next().unwrap_or_default();
    let path = if last == API_VERSION_SEGMENT {
        path
    } else if is_version_segment(last) {
        return Err(bad(&format!(
            "this SDK speaks the {API_VERSION_SEGMENT} API, not {last}"
        )));
    } else {
        format!("{path}/{API_VERSION_SEGMENT}")
    };
    url.set_path(&path);
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

/// Whether the path of a URL, as written, has a `.` or `..` segment in any spelling the URL
/// standard resolves (`%2e`, `.%2E`, …).
fn has_dot_segment(input: &str) -> bool {
    let rest = input.split_once("://").map_or(input, |(_, rest)| rest);
    let path = rest
        .find('/')
        .and_then(|i| rest.get(i..))
        .unwrap_or_default();
    let path = path.split(['?', '#']).next().unwrap_or_default();
    path.split('/').any(|segment| {
        matches!(
            segment.to_ascii_lowercase().as_str(),
            "." | ".." | "%2e" | ".%2e" | "%2e." | "%2e%2e"
        )
    })
}

fn is_version_segment(s: &str) -> bool {
    s.strip_prefix('v').is_some_and(|rest| {
        !rest.is_empty() && rest.chars().all(|c| c.is_ascii_digit() || c == '.')
    })
}

fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_are_normalised() {
        let n = |s| normalize_base_url(s, false).unwrap();
        assert_eq!(
            n("https://api.twelvelabs.io"),
            "https://api.twelvelabs.io/v1.2"
        );
        assert_eq!(
            n("https://api.twelvelabs.io/"),
            "https://api.twelvelabs.io/v1.2"
        );
        assert_eq!(
            n("https://api.twelvelabs.io/v1.2"),
            "https://api.twelvelabs.io/v1.2"
        );
        assert_eq!(
            n("https://api.twelvelabs.io/v1.2/"),
            "https://api.twelvelabs.io/v1.2"
        );
        assert_eq!(
            n(" https://proxy.example/tl/ "),
            "https://proxy.example/tl/v1.2"
        );
        assert_eq!(n("http://127.0.0.1:8080"), "http://127.0.0.1:8080/v1.2");
        assert_eq!(n("http://localhost:9"), "http://localhost:9/v1.2");
        assert_eq!(n("http://[::1]:9/v1.2"), "http://[::1]:9/v1.2");
    }

    #[test]
    fn insecure_and_malformed_base_urls_are_refused() {
        for bad in [
            "http://example.com",
            "http://10.0.0.1:8080",
            "ftp://api.twelvelabs.io",
            "not a url",
            "https://api.twelvelabs.io/v1.3",
            "https://user:pw@api.twelvelabs.io",
            "https://api.twelvelabs.io/?x=1",
            "https://proxy.example/tl/%2e%2e/v1.2",
            "https://proxy.example/tl/%2E%2e",
            "https://proxy.example/tl/../admin",
            "https://proxy.example/./v1.2",
            "https://proxy.example/a/.%2e/v1.2",
            "https://proxy.example/a\\..\\v1.2",
            "https://api.twelvelabs.io/v1.2/indexes",
            "https://api.twelvelabs.io/v1.2/tasks/",
            "https://proxy.example/tl/v1.2/search",
            "https://proxy.example/indexes",
            "https://proxy.example/tl/embed",
        ] {
            let e = normalize_base_url(bad, false).unwrap_err();
            assert!(matches!(e, Error::Config { .. }), "{bad}: {e:?}");
        }
        assert!(
            normalize_base_url("http://example.com", false)
                .unwrap_err()
                .to_string()
                .contains("clear text")
        );
        assert_eq!(
            normalize_base_url("http://example.com", true).unwrap(),
            "http://example.com/v1.2"
        );
    }
}
