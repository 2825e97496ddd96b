//! An in-process fake of the Twelve Labs v1.2 API (feature `testing`), like stripe-mock or moto:
//! test your code without a key, a network or a bill.
//!
//! It serves the same paths, status codes, JSON shapes, pagination (page numbers; page tokens that
//! expire), error bodies and codes, and `X-Ratelimit-*` headers as the reference describes. It is
//! stateful and in memory; tasks move `validating → pending → indexing → ready` on a clock the test
//! controls; search, classify, generation and embeddings are deterministic text matching over each
//! video's data — predictable, not smart. Faults can be injected for resilience tests.
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

mod data;
mod routes;

use std::collections::{BTreeMap, HashMap};
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
    task: tokio::task::JoinHandle<()>,
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
        self.task.abort();
    }
}

/// Settings of a [`FakeServer`].
#[derive(Clone, Debug)]
pub struct FakeServerBuilder {
    indexing_time: Duration,
    api_key: String,
    fail_pattern: Option<String>,
    token_ttl: Duration,
}

impl Default for FakeServerBuilder {
    fn default() -> Self {
        Self {
            indexing_time: Duration::from_millis(300),
            api_key: format!("tlk_FAKE{:016X}", fastrand::u64(..)),
            fail_pattern: None,
            token_ttl: Duration::from_secs(3600),
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

    /// Starts the server on `127.0.0.1` on a free port.
    pub async fn start(self) -> Result<FakeServer> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| Error::Config(format!("the fake server could not bind: {e}")))?;
        let addr = listener
            .local_addr()
            .map_err(|e| Error::Config(format!("the fake server has no address: {e}")))?;
        let state = Arc::new(Mutex::new(State::new(&self)));
        let app = routes::router(state.clone());
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!("fake server stopped: {e}");
            }
        });
        Ok(FakeServer {
            base_url: format!("http://{addr}/v1.2"),
            api_key: self.api_key,
            state,
            task,
        })
    }
}

impl FakeServer {
    /// Starts a fake with the default settings.
    pub async fn start() -> Result<Self> {
        FakeServerBuilder::default().start().await
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

    /// A client for this fake, with fast retries.
    pub fn client(&self) -> Result<Client> {
        Client::builder()
            .api_key(&self.api_key)
            .base_url(&self.base_url)
            .retry_policy(crate::RetryPolicy::default().initial_backoff(Duration::from_millis(20)))
            .build()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// Moves the fake's clock forward (tasks progress, page tokens expire).
    pub fn advance(&self, d: Duration) {
        let mut st = self.state();
        st.offset += chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX);
    }

    /// Makes the next requests matching the fault answer with it instead.
    pub fn inject(&self, fault: Fault) {
        self.state().faults.push(fault);
    }

    /// Replaces the data a video's search, classification and generation work from.
    pub fn attach(&self, video: impl AsRef<str>, data: VideoData) -> Result<()> {
        let mut st = self.state();
        let v = st
            .videos
            .get_mut(video.as_ref())
            .ok_or_else(|| Error::invalid("video_id", "no such video in the fake"))?;
        v.data = data;
        Ok(())
    }

    /// The data new videos get (by default a deterministic clip description that the tour's
    /// queries find).
    pub fn set_default_video_data(&self, data: VideoData) {
        self.state().default_data = data;
    }

    /// How many requests the fake has received.
    pub fn request_count(&self) -> u64 {
        self.state().requests
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
    faults: Vec<Fault>,
    default_data: VideoData,
    indexes: BTreeMap<String, Value>,
    tasks: BTreeMap<String, FakeTask>,
    videos: BTreeMap<String, FakeVideo>,
    embed_tasks: BTreeMap<String, (Value, DateTime<Utc>)>,
    pages: HashMap<String, TokenPages>,
}

pub(crate) struct FakeTask {
    json: Value,
    created: DateTime<Utc>,
    fails: bool,
    video: Option<String>,
    filename: String,
    size: u64,
}

pub(crate) struct FakeVideo {
    index: String,
    json: Value,
    data: VideoData,
}

/// Remaining pages behind a token.
pub(crate) struct TokenPages {
    items: Vec<Value>,
    limit: usize,
    extra: Value,
    expires: DateTime<Utc>,
    prev: Option<String>,
}

impl State {
    fn new(b: &FakeServerBuilder) -> Self {
        Self {
            api_key: b.api_key.clone(),
            offset: chrono::Duration::zero(),
            indexing_time: chrono::Duration::from_std(b.indexing_time)
                .unwrap_or(chrono::Duration::MAX),
            token_ttl: chrono::Duration::from_std(b.token_ttl).unwrap_or(chrono::Duration::MAX),
            fail_pattern: b.fail_pattern.clone(),
            next_id: 0x99d4_e6fb_0000,
            requests: 0,
            faults: Vec::new(),
            default_data: VideoData::default(),
            indexes: BTreeMap::new(),
            tasks: BTreeMap::new(),
            videos: BTreeMap::new(),
            embed_tasks: BTreeMap::new(),
            pages: HashMap::new(),
        }
    }

    fn now(&self) -> DateTime<Utc> {
        Utc::now() + self.offset
    }

    /// A new 24-hex id.
    fn id(&mut self) -> String {
        self.next_id += 1;
        format!("6665{:020x}", self.next_id)
    }
}
