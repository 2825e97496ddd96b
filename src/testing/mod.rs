//! An in-process fake of the Twelve Labs v1.2 API (feature `testing`), like stripe-mock or moto:
//! test your code without a key, a network or a bill.
//!
//! It serves the same paths, status codes, JSON shapes, pagination (page numbers; page tokens that
//! expire), error bodies and codes, and `X-Ratelimit-*` headers as the reference describes, in the
//! shapes every official client accepts: whole numbers are sent as integers (`"duration": 159`),
//! video timestamps in whole seconds, and highlights on whole seconds. It is stateful and in
//! memory; tasks move `validating → pending → indexing → ready` on a clock the test controls;
//! search, classify, generation and embeddings are deterministic text matching over each video's
//! data — predictable, not smart. Faults can be injected for resilience tests.
//!
//! ```no_run
//! # async fn demo() -> twelvelabs::Result<()> {
//! use twelvelabs::testing::{FakeServer, Fault};
//! let fake = FakeServer::start().await?;
//! let tl = fake.client()?;
//! let index = tl.indexes().create("test")
//!     .engine(twelvelabs::EngineConfig::new("marengo2.6").options([twelvelabs::EngineOption::Visual]))
//!     .send().await?;
//! fake.inject(Fault::status(429).times(2).path("/search")); // the next 2 searches are rate limited
//! # let _ = index; Ok(()) }
//! ```
//!
//! # As a process of its own
//!
//! [`serve_until_signal`] runs the fake until Ctrl-C, for code in any language (the official
//! Python and JavaScript SDKs read `TWELVELABS_BASE_URL`); `examples/fake_server.rs` is a ready
//! runner:
//!
//! ```sh
//! cargo run --features testing --example fake_server -- --port 4010 --api-key tlk_local
//! ```
//!
//! Outside a Rust test the clock, the videos' data and faults are driven over HTTP, with the same
//! `x-api-key`, under `/_fake` (next to `/v1.2`, never inside it):
//!
//! | request | body | effect |
//! |---|---|---|
//! | `POST /_fake/advance` | `{"seconds": 60}` | [`FakeServer::advance`] |
//! | `PUT /_fake/videos/{video_id}/data` | `{"visual": [{"start": 0, "end": 10, "text": "…"}], "conversation": […], "text_in_video": […], "logo": […], "duration": 60}` | [`FakeServer::attach`] (absent lists are empty; `duration` defaults to the last segment's end) |
//! | `POST /_fake/faults` | `{"status": 429, "times": 2, "path": "/search", "retry_after": 1}` or `{"delay_ms": 300, …}` | [`FakeServer::inject`] |
//! | `PUT /_fake/task-quota` | `{"per_day": 50}`, or `{"per_day": null}` for no cap | [`FakeServer::set_task_quota`]; answers as `GET` does |
//! | `GET /_fake/task-quota` | | the cap and this window's count: `{"per_day": 50, "used": 3, "remaining": 47, "reset": "2024-06-10T12:00:00Z"}` (`per_day` and `remaining` are `null` without a cap) |
//! | `GET /_fake/requests` | | [`FakeServer::request_counts`] as a JSON object: `{"GET /tasks/{id}": 12, "POST /tasks": 3, …}` |
//!
//! The `twelvelabs` command-line tool runs the same server as `twelvelabs fake serve` (with
//! `--task-quota N` for a daily cap on task creation).
//!
//! # Rate limits and the clock
//!
//! Every answer has a `Date` header on the fake's clock, so that a client can tell how far away
//! `X-Ratelimit-Reset` is (reset − date) even after a test moved the clock days ahead. API answers
//! carry `X-Ratelimit-Limit`, `-Remaining`, `-Used` and `-Reset` (UTC epoch seconds): a general
//! counter of 3,000 requests whose reset is always a day away, which never refuses anything.
//! `POST /tasks` answers carry a counter of task creations instead (in 24-hour windows, below),
//! with a limit of 1,000,000 a day while no cap is set.
//!
//! [`FakeServerBuilder::task_quota`] (or `PUT /_fake/task-quota` at run time) caps task creation
//! as the API's daily rate limit on "create video indexing tasks" does: fixed 24-hour windows of
//! the fake's clock, the first starting when the fake starts. `POST /tasks` answers then carry
//! that counter instead (limit = the cap, used = tasks created in this window, reset = the end of
//! the window); once the cap is used up `POST /tasks` answers `429` with code
//! `too_many_requests` ("You have exceeded the rate limit (50 requests per day). Please try again
//! after 2024-06-10T12:00:00Z.") and creates nothing. Only created tasks count (refused and
//! invalid requests do not; YouTube imports through `/tasks/external-provider` are not capped).
//! When the clock passes the reset, a new window starts with the whole cap.
//!
//! ```no_run
//! # async fn demo() -> twelvelabs::Result<()> {
//! use std::time::Duration;
//! use twelvelabs::testing::FakeServer;
//! let fake = FakeServer::builder().task_quota(50).start().await?; // the Free plan's cap
//! // … after 50 tasks, creating one more is a rate-limit error until the window ends;
//! fake.advance(Duration::from_secs(24 * 60 * 60)); // a new window: 50 more
//! println!("{:?}", fake.request_counts()); // {"POST /indexes": 1, "POST /tasks": 51, …}
//! # Ok(()) }
//! ```

mod data;
mod routes;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;

pub use data::{Segment, VideoData};

use crate::Client;
use crate::error::{Error, Result};

/// A fake v1.2 API on a loopback port. Stops when dropped.
pub struct FakeServer {
    base_url: String,
    api_key: String,
    state: Arc<Mutex<State>>,
    task: Option<tokio::task::JoinHandle<()>>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl std::fmt::Debug for FakeServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeServer")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

/// Settings of a [`FakeServer`].
#[derive(Clone, Debug)]
pub struct FakeServerBuilder {
    indexing_time: Duration,
    api_key: String,
    fail_pattern: Option<String>,
    token_ttl: Duration,
    addr: SocketAddr,
    task_quota: Option<u64>,
}

impl Default for FakeServerBuilder {
    fn default() -> Self {
        Self {
            indexing_time: Duration::from_millis(300),
            api_key: format!("tlk_FAKE{:016X}", fastrand::u64(..)),
            fail_pattern: None,
            token_ttl: Duration::from_secs(3600),
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            task_quota: None,
        }
    }
}

impl FakeServerBuilder {
    /// How long a task takes from creation to `ready` on the server's clock. Default 300 ms.
    pub fn indexing_time(mut self, d: Duration) -> Self {
        self.indexing_time = d;
        self
    }
    /// The API key the server accepts (default: a random `tlk_FAKE…`).
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = key.into();
        self
    }
    /// Tasks whose file name or URL contains `pattern` end in `failed`.
    pub fn fail_tasks_matching(mut self, pattern: impl Into<String>) -> Self {
        self.fail_pattern = Some(pattern.into());
        self
    }
    /// How long search and classify page tokens stay valid. Default 1 h.
    pub fn page_token_ttl(mut self, d: Duration) -> Self {
        self.token_ttl = d;
        self
    }
    /// The port to listen on (default 0: any free port), on the address set with
    /// [`bind`](Self::bind) (default `127.0.0.1`).
    pub fn port(mut self, port: u16) -> Self {
        self.addr.set_port(port);
        self
    }
    /// A daily cap on task creation, as the real API's rate limit on "create video indexing
    /// tasks" (Free plan 50, Developer 1,000). Off by default.
    ///
    /// The fake counts the tasks that `POST /tasks` creates in fixed 24-hour windows of its clock
    /// (the one [`FakeServer::advance`] moves), the first window starting when the fake starts.
    /// `POST /tasks` answers carry this counter in `X-Ratelimit-Limit` (`per_day`),
    /// `X-Ratelimit-Used`, `X-Ratelimit-Remaining` and `X-Ratelimit-Reset` (the end of the window,
    /// UTC epoch seconds) instead of the general ones. Once the window's cap is used up, `POST
    /// /tasks` answers `429` with code `too_many_requests` and creates nothing, until the clock
    /// passes the reset. Change it while the fake runs with [`FakeServer::set_task_quota`] or `PUT
    /// /_fake/task-quota`.
    pub fn task_quota(mut self, per_day: u64) -> Self {
        self.task_quota = Some(per_day);
        self
    }
    /// The address and port to listen on. Default `127.0.0.1:0`: loopback, any free port. Bind
    /// `0.0.0.0` only on a network you trust: the fake checks the key but speaks plain HTTP.
    pub fn bind(mut self, addr: SocketAddr) -> Self {
        self.addr = addr;
        self
    }

    /// Starts the fake for synchronous code: it serves from a runtime of its own (one worker
    /// thread), so a plain `fn main` or `#[test]` can use it with
    /// [`blocking::Client`](crate::blocking::Client). Stops when dropped.
    ///
    /// ```no_run
    /// # fn demo() -> twelvelabs::Result<()> {
    /// let fake = twelvelabs::testing::FakeServer::builder().start_blocking()?;
    /// let tl = fake.blocking_client()?;
    /// for index in tl.indexes().list().items() {
    ///     println!("{}", index?);
    /// }
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "blocking")]
    #[cfg_attr(docsrs, doc(cfg(feature = "blocking")))]
    pub fn start_blocking(self) -> Result<BlockingFakeServer> {
        if tokio::runtime::Handle::try_current().is_ok() {
            return Err(Error::config(
                "blocking",
                "start_blocking was called inside an async runtime: use FakeServerBuilder::start",
            ));
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("twelvelabs-fake")
            .enable_all()
            .build()
            .map_err(|e| {
                Error::config("blocking", format!("cannot start the fake's runtime: {e}"))
            })?;
        let server = runtime.block_on(self.start())?;
        Ok(BlockingFakeServer {
            server,
            runtime: Some(runtime),
        })
    }

    /// Starts the server in the background of the current Tokio runtime.
    ///
    /// # Errors
    /// [`Error::Config`] when the address cannot be bound (e.g. the port is taken).
    pub async fn start(self) -> Result<FakeServer> {
        let listener = tokio::net::TcpListener::bind(self.addr)
            .await
            .map_err(|e| {
                Error::config(
                    "bind",
                    format!("the fake server could not bind {}: {e}", self.addr),
                )
            })?;
        let addr = listener
            .local_addr()
            .map_err(|e| Error::config("bind", format!("the fake server has no address: {e}")))?;
        // Clients reach a server bound to every interface through loopback.
        let reach = match addr.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => {
                SocketAddr::from(([127, 0, 0, 1], addr.port()))
            }
            IpAddr::V6(ip) if ip.is_unspecified() => {
                SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, addr.port()))
            }
            _ => addr,
        };
        let state = Arc::new(Mutex::new(State::new(&self)));
        let app = routes::router(state.clone());
        let (shutdown, stop) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
                let _ = stop.await;
            });
            if let Err(e) = serve.await {
                tracing::error!("fake server stopped: {e}");
            }
        });
        Ok(FakeServer {
            base_url: format!("http://{reach}/v1.2"),
            api_key: self.api_key,
            state,
            task: Some(task),
            shutdown: Some(shutdown),
        })
    }
}

/// Runs a fake as a process of its own: starts it with `builder`, prints on stdout how to reach
/// it ([`FakeServer::env_lines`], then a line `ready`), and serves until Ctrl-C (or `SIGTERM` on
/// Unix), letting the requests in flight finish. This is what `examples/fake_server.rs` runs.
///
/// ```no_run
/// # async fn demo() -> twelvelabs::Result<()> {
/// use std::time::Duration;
/// use twelvelabs::testing::{FakeServer, serve_until_signal};
/// let fake = FakeServer::builder().port(4010).api_key("tlk_local").indexing_time(Duration::from_secs(5));
/// serve_until_signal(fake).await // prints TWELVELABS_BASE_URL=http://127.0.0.1:4010 …
/// # }
/// ```
///
/// # Errors
/// [`Error::Config`] when the address cannot be bound or the signal handler cannot be installed.
pub async fn serve_until_signal(builder: FakeServerBuilder) -> Result<()> {
    use std::io::Write;
    let server = builder.start().await?;
    let signal = shutdown_signal()?;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}ready", server.env_lines());
    let _ = out.flush();
    drop(out);
    server.serve_until(signal).await
}

/// Ctrl-C, or SIGTERM on Unix.
fn shutdown_signal() -> Result<impl Future<Output = ()>> {
    #[cfg(unix)]
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| Error::config("signal", format!("cannot listen for SIGTERM: {e}")))?;
    Ok(async move {
        #[cfg(unix)]
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
    })
}

impl FakeServer {
    /// Starts a fake with the default settings.
    pub async fn start() -> Result<Self> {
        FakeServerBuilder::default().start().await
    }

    /// Starts a fake with the default settings for synchronous code (see
    /// [`FakeServerBuilder::start_blocking`]).
    #[cfg(feature = "blocking")]
    #[cfg_attr(docsrs, doc(cfg(feature = "blocking")))]
    pub fn start_blocking() -> Result<BlockingFakeServer> {
        FakeServerBuilder::default().start_blocking()
    }

    /// Settings for a fake.
    pub fn builder() -> FakeServerBuilder {
        FakeServerBuilder::default()
    }

    /// The base URL (`http://127.0.0.1:PORT/v1.2`).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The API key the fake accepts.
    pub fn api_key(&self) -> &str {
        &self.api_key
    }

    /// A client for this fake: quick retries (20 ms backoff) and short pauses between a waiter's
    /// polls (10–100 ms), so waits end as soon as the fake's clock says a task is done.
    pub fn client(&self) -> Result<Client> {
        Client::builder()
            .api_key(&self.api_key)
            .base_url(&self.base_url)
            .wait_delays(Duration::from_millis(10), Duration::from_millis(100))
            .retry_policy(
                crate::RetryPolicy::default().with_initial_backoff(Duration::from_millis(20)),
            )
            .build()
    }

    /// How to reach this fake, as the environment variables that this crate
    /// ([`Client::from_env`]) and the official SDKs read: `TWELVELABS_BASE_URL` (the host root,
    /// without `/v1.2`) and `TWELVE_LABS_API_KEY`, one `NAME=value` line each. Fit for
    /// `export $(…)` or a `.env` file.
    pub fn env_lines(&self) -> String {
        let root = self
            .base_url
            .strip_suffix("/v1.2")
            .unwrap_or(&self.base_url);
        format!(
            "{}={root}\n{}={}\n",
            crate::client::BASE_URL_ENV,
            crate::client::API_KEY_ENV,
            self.api_key
        )
    }

    /// Serves until `shutdown` completes, then stops accepting connections and lets the requests
    /// in flight finish. [`serve_until_signal`] is the ready-made runner around it.
    ///
    /// # Errors
    /// [`Error::Config`] when the server task ended abnormally.
    pub async fn serve_until(mut self, shutdown: impl Future<Output = ()>) -> Result<()> {
        let Some(mut task) = self.task.take() else {
            return Ok(());
        };
        tokio::select! {
            finished = &mut task => {
                return finished
                    .map_err(|e| Error::config("fake", format!("the fake server stopped: {e}")));
            }
            () = shutdown => {}
        }
        if let Some(stop) = self.shutdown.take() {
            let _ = stop.send(());
        }
        task.await
            .map_err(|e| Error::config("fake", format!("the fake server stopped: {e}")))
    }

    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// Moves the fake's clock forward (tasks progress, page tokens expire).
    pub fn advance(&self, d: Duration) {
        self.state().advance(d);
    }

    /// Makes the next requests matching the fault answer with it instead.
    pub fn inject(&self, fault: Fault) {
        self.state().faults.push(fault);
    }

    /// Replaces the data a video's search, classification and generation work from (and its
    /// `metadata.duration`).
    pub fn attach(&self, video: impl AsRef<str>, data: VideoData) -> Result<()> {
        let mut st = self.state();
        let v = st
            .videos
            .get_mut(video.as_ref())
            .ok_or_else(|| Error::invalid("video_id", "no such video in the fake"))?;
        v.set_data(data);
        Ok(())
    }

    /// The data new videos get (by default a deterministic clip description that the tour's
    /// queries find).
    pub fn set_default_video_data(&self, data: VideoData) {
        self.state().default_data = data;
    }

    /// How many API requests the fake has received (the `/_fake` control requests not counted).
    pub fn request_count(&self) -> u64 {
        self.state().requests
    }

    /// How many API requests the fake has received per route, keyed by method and path template
    /// (after `/v1.2`, each id or page token replaced by `{id}`): `"POST /tasks"`, `"GET /tasks"`,
    /// `"GET /tasks/{id}"`, `"GET /indexes/{id}/videos"`, `"PUT /indexes/{id}/videos/{id}"`…
    /// Every request [`request_count`](Self::request_count) counts is counted here once, whatever
    /// its answer (faults and refusals included); requests outside `/v1.2` count as
    /// `"{METHOD} (outside /v1.2)"`. Also served as `GET /_fake/requests`.
    pub fn request_counts(&self) -> BTreeMap<String, u64> {
        self.state().route_requests.clone()
    }

    /// Sets the daily cap on task creation while the fake runs (`None` turns it off); see
    /// [`FakeServerBuilder::task_quota`]. The tasks already created in the current window count
    /// against the new cap.
    pub fn set_task_quota(&self, per_day: Option<u64>) {
        self.state().task_quota = per_day;
    }
}

/// A fault for [`FakeServer::inject`]: the next `times` requests whose path starts with `path`
/// (after `/v1.2`) answer with it.
#[derive(Clone, Debug)]
pub struct Fault {
    kind: FaultKind,
    times: u32,
    path: String,
}

#[derive(Clone, Debug)]
enum FaultKind {
    Status(u16, Option<u64>),
    Slow(Duration),
}

impl Fault {
    /// Answer with this status (an error body; `429` also gets rate-limit headers).
    pub fn status(status: u16) -> Self {
        Self {
            kind: FaultKind::Status(status, None),
            times: 1,
            path: String::new(),
        }
    }
    /// A 429 with `Retry-After: secs`.
    pub fn rate_limited(retry_after_secs: u64) -> Self {
        Self {
            kind: FaultKind::Status(429, Some(retry_after_secs)),
            times: 1,
            path: String::new(),
        }
    }
    /// Answer normally, after a delay.
    pub fn slow(d: Duration) -> Self {
        Self {
            kind: FaultKind::Slow(d),
            times: 1,
            path: String::new(),
        }
    }
    /// For this many requests (default 1).
    pub fn times(mut self, n: u32) -> Self {
        self.times = n;
        self
    }
    /// Only requests whose path (after `/v1.2`) starts with `prefix`, e.g. `/search`.
    pub fn path(mut self, prefix: impl Into<String>) -> Self {
        self.path = prefix.into();
        self
    }
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The fake's whole state.
pub(crate) struct State {
    api_key: String,
    offset: chrono::Duration,
    indexing_time: chrono::Duration,
    token_ttl: chrono::Duration,
    fail_pattern: Option<String>,
    next_id: u64,
    requests: u64,
    /// Requests per route template (see [`FakeServer::request_counts`]).
    route_requests: BTreeMap<String, u64>,
    /// When the fake started, on its clock (whole seconds): task-quota windows count from here.
    started: DateTime<Utc>,
    /// The daily cap on task creation, if any.
    task_quota: Option<u64>,
    /// The task-quota window `tasks_created` counts in (0 is the first day).
    quota_window: i64,
    /// Tasks created in that window (counted with or without a cap).
    tasks_created: u64,
    faults: Vec<Fault>,
    default_data: VideoData,
    indexes: BTreeMap<String, Value>,
    tasks: BTreeMap<String, FakeTask>,
    /// The tasks not yet `ready` or `failed`: the only ones [`settle`](Self::settle) visits.
    in_flight: BTreeSet<String>,
    /// Task ids by when they were last updated, so that a list of the tasks updated since a time
    /// reads those and not every task.
    by_updated: BTreeSet<(DateTime<Utc>, String)>,
    videos: BTreeMap<String, FakeVideo>,
    embed_tasks: BTreeMap<String, FakeEmbedTask>,
    pages: HashMap<String, TokenPages>,
    /// Cloud-to-cloud import runs, per integration id.
    imports: BTreeMap<String, Vec<Value>>,
}

pub(crate) struct FakeTask {
    json: Value,
    created: DateTime<Utc>,
    /// When `updated_at` last moved (its key in [`State::by_updated`]).
    updated: DateTime<Utc>,
    fails: bool,
    video: Option<String>,
    filename: String,
    size: u64,
    /// Where the video came from (`source` of the video), for YouTube imports.
    source: Option<Value>,
    /// Whether an HLS stream is made (`disable_video_stream` not set).
    stream: bool,
}

pub(crate) struct FakeVideo {
    index: String,
    /// The fields every answer about the video has (list items and `GET`).
    json: Value,
    /// `hls` and `source`, which only `GET /indexes/{index}/videos/{video}` returns.
    detail: serde_json::Map<String, Value>,
    data: VideoData,
}

impl FakeVideo {
    /// New data; the video's `metadata.duration` follows it.
    fn set_data(&mut self, data: VideoData) {
        if let Some(m) = self.json.get_mut("metadata").and_then(Value::as_object_mut) {
            m.insert("duration".into(), serde_json::json!(data.duration));
        }
        self.data = data;
    }
}

/// A video embedding task and what it was asked for.
pub(crate) struct FakeEmbedTask {
    json: Value,
    created: DateTime<Utc>,
    /// Requested scopes, in request order (`clip` when none).
    scopes: Vec<String>,
    clip_length: f64,
    start: f64,
    end: Option<f64>,
    metadata: serde_json::Map<String, Value>,
}

/// The results behind a page token: all of them, and where this token's page starts.
pub(crate) struct TokenPages {
    items: Arc<Vec<Value>>,
    offset: usize,
    limit: usize,
    extra: Arc<Value>,
    expires: DateTime<Utc>,
    /// `search` or `classify`: a token is only valid on its own kind of page path.
    kind: &'static str,
}

impl State {
    fn new(b: &FakeServerBuilder) -> Self {
        let now = Utc::now();
        Self {
            api_key: b.api_key.clone(),
            offset: chrono::Duration::zero(),
            indexing_time: chrono::Duration::from_std(b.indexing_time)
                .unwrap_or(chrono::Duration::MAX),
            token_ttl: chrono::Duration::from_std(b.token_ttl).unwrap_or(chrono::Duration::MAX),
            fail_pattern: b.fail_pattern.clone(),
            next_id: 0x99d4_e6fb_0000,
            requests: 0,
            route_requests: BTreeMap::new(),
            // Whole seconds, so that every window ends on the second `X-Ratelimit-Reset` names.
            started: DateTime::from_timestamp(now.timestamp(), 0).unwrap_or(now),
            task_quota: b.task_quota,
            quota_window: 0,
            tasks_created: 0,
            faults: Vec::new(),
            default_data: VideoData::default(),
            indexes: BTreeMap::new(),
            tasks: BTreeMap::new(),
            in_flight: BTreeSet::new(),
            by_updated: BTreeSet::new(),
            videos: BTreeMap::new(),
            embed_tasks: BTreeMap::new(),
            pages: HashMap::new(),
            imports: BTreeMap::new(),
        }
    }

    fn now(&self) -> DateTime<Utc> {
        Utc::now()
            .checked_add_signed(self.offset)
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }

    fn advance(&mut self, d: Duration) {
        let d = chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX);
        self.offset = self.offset.checked_add(&d).unwrap_or(chrono::Duration::MAX);
    }

    /// A new 24-hex id.
    fn id(&mut self) -> String {
        self.next_id += 1;
        format!("6665{:020x}", self.next_id)
    }
}

/// A [`FakeServer`] serving from a runtime of its own, for synchronous code. Derefs to the
/// server ([`FakeServer::advance`], [`FakeServer::attach`], [`FakeServer::inject`]…). From
/// [`FakeServerBuilder::start_blocking`]; stops when dropped.
#[cfg(feature = "blocking")]
#[cfg_attr(docsrs, doc(cfg(feature = "blocking")))]
pub struct BlockingFakeServer {
    server: FakeServer,
    runtime: Option<tokio::runtime::Runtime>,
}

#[cfg(feature = "blocking")]
impl BlockingFakeServer {
    /// A [`blocking::Client`](crate::blocking::Client) for this fake, configured as
    /// [`FakeServer::client`] (short waiter delays, quick retries).
    pub fn blocking_client(&self) -> Result<crate::blocking::Client> {
        crate::blocking::Client::from_async(std::ops::Deref::deref(self).client()?)
    }
}

#[cfg(feature = "blocking")]
impl std::ops::Deref for BlockingFakeServer {
    type Target = FakeServer;
    fn deref(&self) -> &FakeServer {
        &self.server
    }
}

#[cfg(feature = "blocking")]
impl std::fmt::Debug for BlockingFakeServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockingFakeServer")
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}

#[cfg(feature = "blocking")]
impl Drop for BlockingFakeServer {
    fn drop(&mut self) {
        // Without blocking, so that dropping is safe anywhere; the server's task goes with it.
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}
