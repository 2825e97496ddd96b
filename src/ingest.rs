//! Resumable, idempotent bulk ingest (feature `ingest`): put folders of videos into an index and
//! wait until they are ready, with bounded concurrency, a crash-safe manifest and a stream of typed
//! events. The `twelvelabs` command-line tool is a renderer of this stream.
//!
//! ```no_run
//! # async fn demo(tl: twelvelabs::Client) -> Result<(), twelvelabs::ingest::IngestError> {
//! use futures::StreamExt;
//! use twelvelabs::ingest::{Ingest, IngestEvent};
//!
//! let mut run = Ingest::new(&tl, "666599d4e6fb7df29de0f89c")
//!     .source("videos/")                       // folders are walked; files and URLs work too
//!     .concurrency(4)                          // uploads at a time
//!     .manifest("twelvelabs-ingest.json")      // re-runs resume from it
//!     .start().await?;                         // manifest and index checked here
//! while let Some(event) = run.next().await {
//!     match event? {
//!         IngestEvent::Ready { source, video_id, .. } => println!("{source} → {video_id}"),
//!         IngestEvent::Failed { source, reason, .. } => eprintln!("{source}: {reason}"),
//!         IngestEvent::Summary(s) => println!("{} ready, {} failed", s.ready + s.already_ready, s.failed),
//!         _ => {}
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! # What a run does
//!
//! 1. **Plans** (before any request): folders are walked recursively in name order, taking files
//!    with a video extension ([`VIDEO_EXTENSIONS`]) and skipping hidden entries; a file named on
//!    its own is always taken. Symbolic links are followed to their target, except links to
//!    folders found inside a folder (a loop could never end). Every file is checked: it exists, is
//!    a regular file (not a pipe or device), is not empty and is at most 2 GB. A file that fails a
//!    check is [`IngestEvent::Rejected`] with the reason; the others go on. The same file reached
//!    twice (a link, or a folder and a file in it) is taken once.
//! 2. **Identifies** each file by the SHA-256 of its content (of `url:<URL>` for a URL). Two files
//!    with the same content are sent once ([`IngestEvent::Duplicate`]).
//! 3. **Looks up** the content: in the manifest (ready: skipped; indexing: the same task is waited
//!    on again; failed: sent again), else in the index itself, through the custom metadata
//!    field (default [`DEFAULT_METADATA_KEY`]) every video ingested this way carries, so a run on
//!    another machine, without the manifest, still skips what the index holds.
//! 4. **Uploads** at most `concurrency` files at a time, then waits on every created task at once
//!    (polling spaced by the task's own estimate), then stores the hash on the video.
//!
//! The manifest is rewritten atomically after every change (temporary file, `fsync`, `rename`):
//! killed at any instant, the run leaves it consistent. An upload whose task creation was not
//! recorded (killed mid-way, or a connection lost after the request was sent) is looked up among
//! the index's tasks by file name before the file is sent again, so the API never indexes the same
//! content twice because of a retry. [`StopHandle::stop`] stops starting uploads, lets the uploads
//! in flight finish and leaves their tasks indexing; running the same ingest again resumes.
//!
//! A manifest that cannot be read is [`IngestError::ManifestCorrupt`] and is never overwritten; a
//! manifest of another index is [`IngestError::ManifestIndexMismatch`].

mod manifest;
mod plan;

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures::stream::{FuturesUnordered, Stream, StreamExt};
use serde::{Serialize, Serializer};
use sha2::{Digest, Sha256};
use tokio::sync::{Semaphore, mpsc};
use tokio_util::sync::CancellationToken;

pub use manifest::{EntryState, MANIFEST_VERSION, Manifest, ManifestEntry};
pub use plan::VIDEO_EXTENSIONS;

use crate::Client;
use crate::error::Error;
use crate::ids::{IndexId, TaskId, VideoId};
use crate::model::{Task, Video};
use manifest::Store;

/// The custom metadata field that carries each video's content hash.
pub const DEFAULT_METADATA_KEY: &str = "content_sha256";
/// Uploads at a time by default.
pub const DEFAULT_CONCURRENCY: usize = 4;
/// The most uploads at a time [`Ingest::concurrency`] accepts.
pub const MAX_CONCURRENCY: usize = 64;

/// How far back (before the recorded start of an upload) a task found by file name may have been
/// created and still count as that upload: the API's clock and ours need not agree.
const CLOCK_SKEW: Duration = Duration::from_secs(600);

/// Upload progress events are sent at most this often per file (and always at the end).
const PROGRESS_EVERY: Duration = Duration::from_millis(100);

/// Something to ingest: a local file or folder, or a URL the API fetches itself.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Source {
    /// A file, or a folder to walk.
    File(PathBuf),
    /// An `http(s)` URL of a raw video file.
    Url(String),
}

impl Source {
    /// `scheme://…` is a URL (only `http` and `https` are then accepted); anything else is a
    /// path.
    pub fn parse(s: &str) -> Self {
        let is_url = s.split_once("://").is_some_and(|(scheme, _)| {
            !scheme.is_empty()
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        });
        if is_url {
            Self::Url(s.to_owned())
        } else {
            Self::File(PathBuf::from(s))
        }
    }

    /// The file name sent with an upload.
    fn filename(&self) -> Option<String> {
        match self {
            Self::File(p) => p.file_name().map(|n| n.to_string_lossy().into_owned()),
            Self::Url(_) => None,
        }
    }
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::File(p) => write!(f, "{}", p.display()),
            Self::Url(u) => f.write_str(u),
        }
    }
}

impl Serialize for Source {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl From<&str> for Source {
    fn from(s: &str) -> Self {
        Self::parse(s)
    }
}
impl From<String> for Source {
    fn from(s: String) -> Self {
        Self::parse(&s)
    }
}
impl From<PathBuf> for Source {
    fn from(p: PathBuf) -> Self {
        Self::File(p)
    }
}
impl From<&Path> for Source {
    fn from(p: &Path) -> Self {
        Self::File(p.to_path_buf())
    }
}

/// What ended an ingest before it could run, or stopped it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IngestError {
    /// The manifest file is not a manifest this version can read. It is left untouched.
    #[error(
        "the manifest {} cannot be read ({reason}); it was left untouched: move it away to start over",
        path.display()
    )]
    ManifestCorrupt {
        /// The manifest file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The manifest belongs to another index.
    #[error(
        "the manifest {} belongs to index {manifest_index}, not {index}: use another manifest path",
        path.display()
    )]
    ManifestIndexMismatch {
        /// The manifest file.
        path: PathBuf,
        /// The index it records.
        manifest_index: IndexId,
        /// The index of this run.
        index: IndexId,
    },
    /// Another run is using the manifest (its lock file exists and its process is alive).
    #[error(
        "the manifest {} is in use by another ingest{}; if none runs, delete {}",
        path.display(),
        pid.map(|p| format!(" (process {p})")).unwrap_or_default(),
        lock.display()
    )]
    ManifestLocked {
        /// The manifest file.
        path: PathBuf,
        /// The lock file next to it.
        lock: PathBuf,
        /// The process holding it, when known.
        pid: Option<u32>,
    },
    /// Reading or writing a local file (the manifest, or a folder while planning) failed.
    #[error("I/O error on {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A call failed (the index does not exist, the key is wrong, bad settings…).
    #[error(transparent)]
    Api(#[from] Error),
}

/// Where content that is already ready was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FoundIn {
    /// The manifest of an earlier run.
    Manifest,
    /// The index: a video carries the content hash as custom metadata.
    Index,
}

/// What happens during an ingest, in order per item. `item` numbers the files and URLs being
/// ingested (`0..files` of [`IngestEvent::Planned`]).
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
#[non_exhaustive]
pub enum IngestEvent {
    /// The sources were expanded and checked; this is the work to do.
    Planned {
        /// Files and URLs to ingest.
        files: usize,
        /// Their total size.
        bytes: u64,
        /// Sources rejected (each also gets a [`IngestEvent::Rejected`]).
        rejected: usize,
        /// Files left alone in folders (each also gets an [`IngestEvent::Ignored`]).
        ignored: usize,
    },
    /// A source that will not be sent, and why. Counts as a failure.
    Rejected {
        /// The file, folder or URL.
        source: Source,
        /// Why.
        reason: String,
    },
    /// A file in a folder that is not ingested (not a video, a sub-folder not followed). Not a
    /// failure.
    Ignored {
        /// The file or folder.
        source: Source,
        /// Why.
        reason: String,
    },
    /// A file was read and hashed.
    Checked {
        /// The item.
        item: usize,
        /// The file or URL.
        source: Source,
        /// Its size in bytes (0 for a URL).
        size: u64,
        /// The SHA-256 of its content, lowercase hex.
        sha256: String,
    },
    /// The same content as another item of this run: sent once, under the other item.
    Duplicate {
        /// The item.
        item: usize,
        /// The file.
        source: Source,
        /// The item with the same content.
        of: Source,
    },
    /// Already in the index: nothing sent.
    AlreadyReady {
        /// The item.
        item: usize,
        /// The file or URL.
        source: Source,
        /// Its video.
        video_id: VideoId,
        /// Where it was found.
        found_in: FoundIn,
    },
    /// The upload of an item starts.
    UploadStarted {
        /// The item.
        item: usize,
        /// The file or URL.
        source: Source,
        /// Bytes to send (0 for a URL).
        bytes: u64,
    },
    /// Bytes sent so far (at most every 100 ms per file, and at the end).
    UploadProgress {
        /// The item.
        item: usize,
        /// Bytes sent.
        sent: u64,
        /// Bytes to send.
        total: u64,
    },
    /// The upload went through: the API created an indexing task.
    TaskCreated {
        /// The item.
        item: usize,
        /// The file or URL.
        source: Source,
        /// The task.
        task_id: TaskId,
    },
    /// A task of an earlier run is waited on again instead of uploading.
    Resumed {
        /// The item.
        item: usize,
        /// The file or URL.
        source: Source,
        /// The task.
        task_id: TaskId,
    },
    /// A new state of an item's task (sent when the status or the estimate changes).
    TaskStatus {
        /// The item.
        item: usize,
        /// The file or URL.
        source: Source,
        /// The task.
        task_id: TaskId,
        /// The status, as the API spells it (`validating`, `pending`, `indexing`…).
        status: String,
        /// The task's own estimate of the seconds left.
        remaining_secs: Option<f64>,
        /// How far indexing is, 0–100, when the API says.
        percent: Option<f64>,
    },
    /// The video is ready.
    Ready {
        /// The item.
        item: usize,
        /// The file or URL.
        source: Source,
        /// The task that indexed it.
        task_id: TaskId,
        /// The video.
        video_id: VideoId,
    },
    /// The item failed; the others go on. A re-run tries it again.
    Failed {
        /// The item.
        item: usize,
        /// The file or URL.
        source: Source,
        /// The task, when one was created.
        task_id: Option<TaskId>,
        /// Why.
        reason: String,
    },
    /// Something the user should know that did not fail the item.
    Warning {
        /// The item, when it concerns one.
        item: Option<usize>,
        /// What happened.
        message: String,
    },
    /// [`StopHandle::stop`] was called: no new upload starts.
    Stopping {
        /// Uploads in flight, which are allowed to finish.
        uploads_in_flight: usize,
    },
    /// The end of the run (always the last event, unless an error ends the stream).
    Summary(IngestSummary),
}

/// How an ingest ended.
#[derive(Clone, Debug, Default, Serialize)]
#[non_exhaustive]
pub struct IngestSummary {
    /// Items planned (files and URLs).
    pub files: usize,
    /// Items that became ready in this run (uploaded now, or resumed from an earlier run).
    pub ready: usize,
    /// Of `ready`, the items uploaded in this run.
    pub uploaded: usize,
    /// Items that were already in the index.
    pub already_ready: usize,
    /// Items with the same content as another item.
    pub duplicates: usize,
    /// Items that failed.
    pub failed: usize,
    /// Sources rejected before anything was sent.
    pub rejected: usize,
    /// Files in folders that were left alone.
    pub ignored: usize,
    /// Items whose task was still indexing when the run stopped (stopped, or `max_wait`).
    pub still_indexing: usize,
    /// Items not started because the run was stopped.
    pub not_started: usize,
    /// Bytes uploaded.
    pub bytes_uploaded: u64,
    /// Wall-clock seconds.
    pub elapsed_secs: f64,
    /// Whether [`StopHandle::stop`] was called.
    pub stopped: bool,
    /// Every failure and rejection, with its reason.
    pub failures: Vec<Failure>,
    /// The manifest, when there is one.
    pub manifest: Option<PathBuf>,
}

impl IngestSummary {
    /// Whether every item is in the index: nothing failed, was rejected or is left to do.
    pub fn is_complete(&self) -> bool {
        self.failed == 0 && self.rejected == 0 && self.still_indexing == 0 && self.not_started == 0
    }
}

/// A failed or rejected source.
#[derive(Clone, Debug, Serialize)]
#[non_exhaustive]
pub struct Failure {
    /// The file, folder or URL.
    pub source: Source,
    /// Why.
    pub reason: String,
}

/// Settings of a bulk ingest. See the [module docs](self).
#[derive(Clone, Debug)]
#[must_use = "call .start()"]
pub struct Ingest {
    client: Client,
    index: IndexId,
    sources: Vec<Source>,
    concurrency: usize,
    manifest: Option<PathBuf>,
    metadata_key: String,
    recursive: bool,
    min_poll: Duration,
    max_poll: Duration,
    max_wait: Duration,
    verify: bool,
}

impl Ingest {
    /// An ingest into `index` with `client`.
    pub fn new(client: &Client, index: impl Into<IndexId>) -> Self {
        Self {
            client: client.clone(),
            index: index.into(),
            sources: Vec::new(),
            concurrency: DEFAULT_CONCURRENCY,
            manifest: None,
            metadata_key: DEFAULT_METADATA_KEY.to_owned(),
            recursive: true,
            min_poll: Duration::from_secs(2),
            max_poll: Duration::from_secs(30),
            max_wait: Duration::from_secs(2 * 3600),
            verify: false,
        }
    }

    /// Adds a file, a folder or an `http(s)` URL (see [`Source::parse`] for how a `&str` is
    /// read).
    pub fn source(mut self, source: impl Into<Source>) -> Self {
        self.sources.push(source.into());
        self
    }

    /// Adds several sources.
    pub fn sources<S: Into<Source>>(mut self, sources: impl IntoIterator<Item = S>) -> Self {
        self.sources.extend(sources.into_iter().map(Into::into));
        self
    }

    /// Uploads at a time, 1–64. Default 4. Tasks are waited on all at once whatever this is.
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n;
        self
    }

    /// The manifest file that makes the ingest resumable (created when missing). Without one,
    /// only the index itself is consulted (through the content-hash metadata).
    pub fn manifest(mut self, path: impl AsRef<Path>) -> Self {
        self.manifest = Some(path.as_ref().to_path_buf());
        self
    }

    /// The custom metadata field the content hash is stored in. Default
    /// [`DEFAULT_METADATA_KEY`].
    pub fn metadata_key(mut self, key: impl Into<String>) -> Self {
        self.metadata_key = key.into();
        self
    }

    /// Whether folders inside folders are walked. Default `true`.
    pub fn recursive(mut self, yes: bool) -> Self {
        self.recursive = yes;
        self
    }

    /// The shortest and longest pause between two polls of a task. Default 2 s and 30 s; within
    /// them the task's own estimate of the time left is followed.
    pub fn poll_interval(mut self, min: Duration, max: Duration) -> Self {
        self.min_poll = min;
        self.max_poll = max;
        self
    }

    /// How long to wait for one task before leaving it indexing (a re-run waits again).
    /// Default 2 h.
    pub fn max_wait(mut self, d: Duration) -> Self {
        self.max_wait = d;
        self
    }

    /// Whether to check (one request per file) that each video the manifest records as ready is
    /// still in the index; content whose video was deleted is sent again. Default `false`: the
    /// manifest is trusted, and a re-run of a finished ingest sends no request per file.
    pub fn verify(mut self, yes: bool) -> Self {
        self.verify = yes;
        self
    }

    /// Checks the settings, reads the manifest, checks that the index exists, plans the work, and
    /// starts the run in the background of the current Tokio runtime.
    ///
    /// # Errors
    /// [`IngestError::Api`] with [`Error::InvalidInput`] for bad settings, or the API's error when
    /// the index cannot be read; [`IngestError::ManifestCorrupt`] /
    /// [`IngestError::ManifestIndexMismatch`] for a manifest that cannot be used. Nothing is sent
    /// then.
    pub async fn start(self) -> Result<IngestRun, IngestError> {
        if !(1..=MAX_CONCURRENCY).contains(&self.concurrency) {
            return Err(Error::invalid(
                "concurrency",
                format!("must be between 1 and {MAX_CONCURRENCY}"),
            )
            .into());
        }
        if self.sources.is_empty() {
            return Err(Error::invalid("sources", "give at least one file, folder or URL").into());
        }
        if self.metadata_key.trim().is_empty() {
            return Err(Error::invalid("metadata_key", "must not be empty").into());
        }
        if self.min_poll.is_zero() || self.max_poll < self.min_poll {
            return Err(Error::invalid(
                "poll_interval",
                "min must be above zero and max at least min",
            )
            .into());
        }
        if self.index.as_str().trim().is_empty() {
            return Err(Error::invalid("index_id", "must not be empty").into());
        }
        let lock = match &self.manifest {
            Some(path) => Some(manifest::Lock::acquire(path)?),
            None => None,
        };
        let manifest = match &self.manifest {
            Some(path) => {
                let loaded = {
                    let path = path.clone();
                    tokio::task::spawn_blocking(move || Manifest::load(&path))
                        .await
                        .map_err(|e| IngestError::Io {
                            path: self.manifest.clone().unwrap_or_default(),
                            source: std::io::Error::other(e),
                        })??
                };
                match loaded {
                    Some(m) if m.index_id != self.index => {
                        return Err(IngestError::ManifestIndexMismatch {
                            path: path.clone(),
                            manifest_index: m.index_id,
                            index: self.index.clone(),
                        });
                    }
                    Some(mut m) => {
                        if m.metadata_key != self.metadata_key {
                            // The hashes are stored under another key: tag again under this one.
                            m.metadata_key = self.metadata_key.clone();
                            m.entries.values_mut().for_each(|e| e.tagged = false);
                        }
                        m
                    }
                    None => Manifest::new(self.index.clone(), self.metadata_key.clone()),
                }
            }
            None => Manifest::new(self.index.clone(), self.metadata_key.clone()),
        };
        self.client.indexes().get(&self.index).await?;
        let (sources, recursive) = (self.sources.clone(), self.recursive);
        let plan = tokio::task::spawn_blocking(move || plan::plan(&sources, recursive))
            .await
            .map_err(|e| IngestError::Io {
                path: PathBuf::from("."),
                source: std::io::Error::other(e),
            })?;
        let store = Store::new(self.manifest.clone(), manifest);
        if self.manifest.is_some() {
            // Fails now, before anything is sent, when the manifest cannot be written.
            store.update_meta().await?;
        }
        let (tx, rx) = mpsc::channel(1024);
        let stop = CancellationToken::new();
        let ctx = Arc::new(Ctx {
            client: self.client,
            index: self.index,
            key: self.metadata_key,
            store,
            permits: Semaphore::new(self.concurrency),
            stop: stop.clone(),
            tx,
            claims: Mutex::new(HashMap::new()),
            min_poll: self.min_poll,
            max_poll: self.max_poll,
            max_wait: self.max_wait,
            verify: self.verify,
            bytes_uploaded: AtomicU64::new(0),
            uploading: AtomicUsize::new(0),
            lock: Mutex::new(lock),
        });
        let task = tokio::spawn(drive(ctx, plan));
        Ok(IngestRun {
            rx,
            stop: StopHandle(stop),
            task,
        })
    }
}

/// A running ingest: a [`Stream`] of [`IngestEvent`]s ending with [`IngestEvent::Summary`] (or an
/// error that stopped the run, e.g. a manifest that can no longer be written). Dropping it stops
/// the run at once; the manifest stays consistent.
#[must_use = "a run is driven by reading its events"]
pub struct IngestRun {
    rx: mpsc::Receiver<Result<IngestEvent, IngestError>>,
    stop: StopHandle,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for IngestRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IngestRun").finish_non_exhaustive()
    }
}

impl IngestRun {
    /// A handle to stop the run gracefully (e.g. from a Ctrl-C handler).
    pub fn stop_handle(&self) -> StopHandle {
        self.stop.clone()
    }
}

impl Stream for IngestRun {
    type Item = Result<IngestEvent, IngestError>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.rx.poll_recv(cx)
    }
}

impl Drop for IngestRun {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Stops an ingest gracefully: no new upload starts, the uploads in flight finish and their tasks
/// are recorded, waiting stops (the tasks go on indexing; a re-run waits on them). Cheap to clone.
#[derive(Clone, Debug)]
pub struct StopHandle(CancellationToken);

impl StopHandle {
    /// Asks the run to stop.
    pub fn stop(&self) {
        self.0.cancel();
    }
    /// Whether a stop was asked.
    pub fn is_stopped(&self) -> bool {
        self.0.is_cancelled()
    }
}

struct Ctx {
    client: Client,
    index: IndexId,
    key: String,
    store: Store,
    permits: Semaphore,
    stop: CancellationToken,
    tx: mpsc::Sender<Result<IngestEvent, IngestError>>,
    /// Content hash → the first item of this run with that content.
    claims: Mutex<HashMap<String, Source>>,
    min_poll: Duration,
    max_poll: Duration,
    max_wait: Duration,
    verify: bool,
    bytes_uploaded: AtomicU64,
    uploading: AtomicUsize,
    /// Released when the run ends (or is dropped).
    lock: Mutex<Option<manifest::Lock>>,
}

impl Ctx {
    async fn emit(&self, event: IngestEvent) {
        if self.tx.send(Ok(event)).await.is_err() {
            // Nobody reads the events any more: stop.
            self.stop.cancel();
        }
    }
}

enum Outcome {
    Ready { uploaded: bool },
    AlreadyReady,
    Duplicate,
    Failed(Failure),
    StillIndexing,
    NotStarted,
    Fatal(IngestError),
}

async fn drive(ctx: Arc<Ctx>, plan: plan::Plan) {
    let started = Instant::now();
    let mut summary = IngestSummary {
        files: plan.items.len(),
        rejected: plan.rejected.len(),
        ignored: plan.ignored.len(),
        manifest: ctx.store.path().map(Path::to_path_buf),
        ..IngestSummary::default()
    };
    ctx.emit(IngestEvent::Planned {
        files: plan.items.len(),
        bytes: plan.items.iter().map(|(_, len)| *len).sum(),
        rejected: plan.rejected.len(),
        ignored: plan.ignored.len(),
    })
    .await;
    for (source, reason) in plan.rejected {
        summary.failures.push(Failure {
            source: source.clone(),
            reason: reason.clone(),
        });
        ctx.emit(IngestEvent::Rejected { source, reason }).await;
    }
    for (source, reason) in plan.ignored {
        ctx.emit(IngestEvent::Ignored { source, reason }).await;
    }
    let mut items: FuturesUnordered<_> = plan
        .items
        .into_iter()
        .enumerate()
        .map(|(n, (source, size))| run_item(ctx.clone(), n, source, size))
        .collect();
    let mut fatal = None;
    let mut announced = false;
    loop {
        let outcome = tokio::select! {
            o = items.next() => o,
            () = ctx.stop.cancelled(), if !announced => {
                announced = true;
                summary.stopped = true;
                let uploads_in_flight = ctx.uploading.load(Ordering::SeqCst);
                ctx.emit(IngestEvent::Stopping { uploads_in_flight }).await;
                continue;
            }
        };
        let Some(outcome) = outcome else { break };
        match outcome {
            Outcome::Ready { uploaded } => {
                summary.ready += 1;
                summary.uploaded += usize::from(uploaded);
            }
            Outcome::AlreadyReady => summary.already_ready += 1,
            Outcome::Duplicate => summary.duplicates += 1,
            Outcome::Failed(f) => {
                summary.failed += 1;
                summary.failures.push(f);
            }
            Outcome::StillIndexing => summary.still_indexing += 1,
            Outcome::NotStarted => summary.not_started += 1,
            Outcome::Fatal(e) => {
                ctx.stop.cancel();
                fatal.get_or_insert(e);
            }
        }
    }
    if let Err(e) = ctx.store.flush().await {
        fatal.get_or_insert(e);
    }
    // Free the manifest before saying the run is over: the next run may start at once.
    drop(
        ctx.lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take(),
    );
    if let Some(e) = fatal {
        let _ = ctx.tx.send(Err(e)).await;
        return;
    }
    summary.stopped |= ctx.stop.is_cancelled();
    summary.bytes_uploaded = ctx.bytes_uploaded.load(Ordering::SeqCst);
    summary.elapsed_secs = started.elapsed().as_secs_f64();
    let _ = ctx.tx.send(Ok(IngestEvent::Summary(summary))).await;
}

/// Returns early from an item with `Outcome::Fatal` when the manifest cannot be written.
macro_rules! record {
    ($e:expr) => {
        if let Err(e) = $e {
            return Outcome::Fatal(e);
        }
    };
}

async fn run_item(ctx: Arc<Ctx>, item: usize, source: Source, _planned: u64) -> Outcome {
    let permit = tokio::select! {
        biased;
        () = ctx.stop.cancelled() => return Outcome::NotStarted,
        p = ctx.permits.acquire() => match p {
            Ok(p) => p,
            Err(_) => return Outcome::NotStarted,
        },
    };
    if ctx.stop.is_cancelled() {
        return Outcome::NotStarted;
    }
    let failed = |reason: String, task_id: Option<TaskId>| {
        let (ctx, source) = (ctx.clone(), source.clone());
        async move {
            ctx.emit(IngestEvent::Failed {
                item,
                source: source.clone(),
                task_id,
                reason: reason.clone(),
            })
            .await;
            Outcome::Failed(Failure { source, reason })
        }
    };

    // 1. What is it?
    let (hash, size) = match &source {
        Source::Url(u) => (sha256_hex(format!("url:{u}").as_bytes()), 0),
        Source::File(p) => {
            let path = p.clone();
            match tokio::task::spawn_blocking(move || hash_file(&path)).await {
                Ok(Ok(h)) => h,
                Ok(Err(reason)) => return failed(reason, None).await,
                Err(e) => return failed(format!("hashing failed: {e}"), None).await,
            }
        }
    };
    ctx.emit(IngestEvent::Checked {
        item,
        source: source.clone(),
        size,
        sha256: hash.clone(),
    })
    .await;
    let first = {
        let mut claims = ctx
            .claims
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match claims.get(&hash) {
            Some(first) => Some(first.clone()),
            None => {
                claims.insert(hash.clone(), source.clone());
                None
            }
        }
    };
    if let Some(of) = first {
        ctx.emit(IngestEvent::Duplicate { item, source, of }).await;
        return Outcome::Duplicate;
    }

    // 2. Is it there already, or on its way?
    let mut entry = ctx.store.get(&hash);
    if ctx.verify
        && let Some(e) = &entry
        && e.state == EntryState::Ready
        && let Some(video) = e.video_id.clone()
    {
        match ctx.client.videos(&ctx.index).get(&video).await {
            Ok(_) => {}
            Err(err) if err.status().is_some_and(|st| st.as_u16() == 404) => {
                ctx.emit(IngestEvent::Warning {
                    item: Some(item),
                    message: format!(
                        "{source}: video {video} is no longer in the index; sending it again"
                    ),
                })
                .await;
                entry = None;
            }
            Err(err) => {
                return failed(
                    format!("could not check that video {video} is still in the index: {err}"),
                    None,
                )
                .await;
            }
        }
    }
    let mut resume: Option<TaskId> = None;
    if let Some(entry) = &entry {
        match entry.state {
            EntryState::Ready => {
                if let Some(video) = entry.video_id.clone() {
                    if !entry.tagged {
                        record!(tag(&ctx, item, &hash, &video).await);
                    }
                    ctx.emit(IngestEvent::AlreadyReady {
                        item,
                        source,
                        video_id: video,
                        found_in: FoundIn::Manifest,
                    })
                    .await;
                    return Outcome::AlreadyReady;
                }
            }
            EntryState::Indexing => resume = entry.task_id.clone(),
            _ => {}
        }
        if resume.is_none() && entry.upload_started_at.is_some() {
            match find_lost_task(&ctx, entry).await {
                Ok(found) => resume = found,
                Err(e) => {
                    return failed(
                        format!(
                            "could not check whether an earlier upload of it reached the API \
                             (so it is not sent twice): {e}"
                        ),
                        None,
                    )
                    .await;
                }
            }
        }
    } else {
        match find_in_index(&ctx, &hash).await {
            Ok(Some(video)) => {
                let src = source.to_string();
                let v = video.clone();
                record!(
                    ctx.store
                        .set(&hash, &src, size, EntryState::Ready, |e| {
                            e.video_id = Some(v);
                            e.tagged = true;
                            e.source = src.clone();
                        })
                        .await
                );
                ctx.emit(IngestEvent::AlreadyReady {
                    item,
                    source,
                    video_id: video,
                    found_in: FoundIn::Index,
                })
                .await;
                return Outcome::AlreadyReady;
            }
            Ok(None) => {}
            Err(e) => {
                return failed(
                    format!(
                        "could not check whether the index already holds it (so it is not sent \
                         twice): {e}"
                    ),
                    None,
                )
                .await;
            }
        }
    }

    // 3. Upload, unless a task is already on it.
    let (task_id, uploaded) = match resume {
        Some(task_id) => {
            let src = source.to_string();
            let t = task_id.clone();
            record!(
                ctx.store
                    .set(&hash, &src, size, EntryState::Indexing, |e| {
                        e.task_id = Some(t);
                        e.error = None;
                    })
                    .await
            );
            ctx.emit(IngestEvent::Resumed {
                item,
                source: source.clone(),
                task_id: task_id.clone(),
            })
            .await;
            (task_id, false)
        }
        None => {
            if ctx.stop.is_cancelled() {
                return Outcome::NotStarted;
            }
            match upload(&ctx, item, &source, &hash, size).await {
                Ok(Ok(task_id)) => (task_id, true),
                Ok(Err(reason)) => return failed(reason, None).await,
                Err(e) => return Outcome::Fatal(e),
            }
        }
    };
    drop(permit);

    // 4. Wait.
    let video = match wait(&ctx, item, &source, &task_id).await {
        Waited::Ready(video) => video,
        Waited::Failed(reason) => {
            let (r, t) = (reason.clone(), task_id.clone());
            let src = source.to_string();
            record!(
                ctx.store
                    .set(&hash, &src, size, EntryState::Failed, |e| {
                        e.task_id = Some(t);
                        e.error = Some(r);
                    })
                    .await
            );
            return failed(reason, Some(task_id)).await;
        }
        Waited::Stopped => return Outcome::StillIndexing,
    };

    // 5. Done: record it and label the video with its content hash.
    let src = source.to_string();
    let v = video.clone();
    record!(
        ctx.store
            .set(&hash, &src, size, EntryState::Ready, |e| {
                e.video_id = Some(v);
                e.error = None;
            })
            .await
    );
    record!(tag(&ctx, item, &hash, &video).await);
    ctx.emit(IngestEvent::Ready {
        item,
        source,
        task_id,
        video_id: video,
    })
    .await;
    Outcome::Ready { uploaded }
}

/// Uploads an item. `Ok(Err(reason))` when the upload failed (the item fails); `Err` when the
/// manifest cannot be written (the run stops).
async fn upload(
    ctx: &Arc<Ctx>,
    item: usize,
    source: &Source,
    hash: &str,
    size: u64,
) -> Result<Result<TaskId, String>, IngestError> {
    let src = source.to_string();
    let filename = source.filename();
    let name = filename.clone();
    ctx.store
        .set(hash, &src, size, EntryState::Uploading, |e| {
            e.source = src.clone();
            e.size = size;
            e.filename = name;
            e.upload_started_at = Some(chrono::Utc::now());
            e.task_id = None;
            e.video_id = None;
        })
        .await?;
    ctx.emit(IngestEvent::UploadStarted {
        item,
        source: source.clone(),
        bytes: size,
    })
    .await;
    let create = ctx.client.tasks().create(&ctx.index);
    let create = match source {
        Source::File(p) => {
            let tx = ctx.tx.clone();
            let last = Mutex::new(None::<Instant>);
            create.video_file(p).on_progress(move |sent, total| {
                let mut last = last
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                let due = last.is_none_or(|t| t.elapsed() >= PROGRESS_EVERY);
                if due || sent >= total {
                    *last = Some(Instant::now());
                    // Progress may be dropped when the reader is behind; the next one catches up.
                    let _ = tx.try_send(Ok(IngestEvent::UploadProgress { item, sent, total }));
                }
            })
        }
        Source::Url(u) => create.video_url(u),
    };
    ctx.uploading.fetch_add(1, Ordering::SeqCst);
    let result = create.send().await;
    ctx.uploading.fetch_sub(1, Ordering::SeqCst);
    match result {
        Ok(created) => {
            let t = created.id.clone();
            ctx.store
                .set(hash, &src, size, EntryState::Indexing, |e| {
                    e.task_id = Some(t);
                    e.error = None;
                })
                .await?;
            ctx.bytes_uploaded.fetch_add(size, Ordering::SeqCst);
            ctx.emit(IngestEvent::TaskCreated {
                item,
                source: source.clone(),
                task_id: created.id.clone(),
            })
            .await;
            Ok(Ok(created.id))
        }
        Err(e) => {
            let reason = format!("upload failed: {e}");
            let r = reason.clone();
            ctx.store
                .set(hash, &src, size, EntryState::Failed, |e| {
                    e.error = Some(r);
                })
                .await?;
            Ok(Err(reason))
        }
    }
}

enum Waited {
    Ready(VideoId),
    Failed(String),
    Stopped,
}

async fn wait(ctx: &Arc<Ctx>, item: usize, source: &Source, task_id: &TaskId) -> Waited {
    if ctx.stop.is_cancelled() {
        return Waited::Stopped;
    }
    let mut updates = ctx
        .client
        .tasks()
        .wait(task_id)
        .min_delay(ctx.min_poll)
        .max_delay(ctx.max_poll)
        .max_wait(ctx.max_wait)
        .updates();
    let mut last_seen: Option<(String, Option<i64>, Option<i64>)> = None;
    let mut last_task: Option<Task> = None;
    loop {
        let next = tokio::select! {
            biased;
            () = ctx.stop.cancelled() => return Waited::Stopped,
            n = updates.next() => n,
        };
        match next {
            Some(Ok(task)) => {
                let status = match task.status().as_str() {
                    "" => "unknown".to_owned(),
                    s => s.to_owned(),
                };
                let remaining = task.raw().process.as_ref().and_then(|p| p.remain_seconds);
                let percent = task.percentage();
                // Whole seconds and percents: the event is sent when one of them changes.
                let seen = (
                    status.clone(),
                    remaining
                        .filter(|r| r.is_finite())
                        .map(|r| r.round() as i64),
                    percent.filter(|p| p.is_finite()).map(|p| p.round() as i64),
                );
                if last_seen.as_ref() != Some(&seen) {
                    last_seen = Some(seen);
                    ctx.emit(IngestEvent::TaskStatus {
                        item,
                        source: source.clone(),
                        task_id: task_id.clone(),
                        status,
                        remaining_secs: remaining,
                        percent,
                    })
                    .await;
                }
                last_task = Some(task);
            }
            Some(Err(Error::TaskFailed(t))) => {
                return Waited::Failed(format!(
                    "indexing failed: task {} ended with status {}",
                    t.id(),
                    t.status()
                ));
            }
            Some(Err(Error::WaitTimeout { waited, .. })) => {
                ctx.emit(IngestEvent::Warning {
                    item: Some(item),
                    message: format!(
                        "{source}: task {task_id} still not ready after {}s; it goes on \
                         indexing, and a re-run waits for it again",
                        waited.as_secs()
                    ),
                })
                .await;
                return Waited::Stopped;
            }
            Some(Err(e)) => {
                return Waited::Failed(format!("waiting for task {task_id} failed: {e}"));
            }
            None => {
                return match last_task.as_ref().and_then(Task::video_id) {
                    Some(v) if !v.as_str().trim().is_empty() => Waited::Ready(v.clone()),
                    _ => Waited::Failed(format!(
                        "task {task_id} is ready but the API did not say which video it made"
                    )),
                };
            }
        }
    }
}

/// Stores the content hash on the video, so a run without the manifest finds it. A failure is a
/// warning (the video is ready); the next run tries again.
async fn tag(ctx: &Arc<Ctx>, item: usize, hash: &str, video: &VideoId) -> Result<(), IngestError> {
    let result = ctx
        .client
        .videos(&ctx.index)
        .update(video)
        .metadata(ctx.key.clone(), hash)
        .send()
        .await;
    match result {
        Ok(()) => {
            ctx.store
                .update(
                    hash,
                    |e| e.tagged = true,
                    || ManifestEntry::new(String::new(), 0, EntryState::Ready),
                )
                .await
        }
        Err(e) => {
            ctx.emit(IngestEvent::Warning {
                item: Some(item),
                message: format!(
                    "video {video} is ready, but its content hash could not be stored as \
                     metadata `{}` ({e}); a re-run tries again",
                    ctx.key
                ),
            })
            .await;
            Ok(())
        }
    }
}

/// A video of the index that carries `hash` under the metadata key. The answer of the filtered
/// list is checked: a server that ignored the filter must not make new content look present.
async fn find_in_index(ctx: &Ctx, hash: &str) -> Result<Option<VideoId>, Error> {
    let page = ctx
        .client
        .videos(&ctx.index)
        .list()
        .metadata(ctx.key.clone(), hash)
        .page_limit(50)
        .send()
        .await?;
    Ok(page
        .items
        .iter()
        .find(|v| carries(v, &ctx.key, hash))
        .map(|v| v.id().clone()))
}

fn carries(video: &Video, key: &str, hash: &str) -> bool {
    video.custom(key).and_then(serde_json::Value::as_str) == Some(hash)
}

/// An upload whose task was not recorded (the run was killed mid-way, or the connection was lost
/// after the request went out): a task of the index with the same file name, created since the
/// upload started, that no other entry claims and that did not fail.
async fn find_lost_task(ctx: &Ctx, entry: &ManifestEntry) -> Result<Option<TaskId>, Error> {
    let (Some(filename), Some(started)) = (&entry.filename, entry.upload_started_at) else {
        return Ok(None);
    };
    let since = started - chrono::Duration::from_std(CLOCK_SKEW).unwrap_or_default();
    let known = ctx.store.known_tasks();
    let page = ctx
        .client
        .tasks()
        .list()
        .index(&ctx.index)
        .filename(filename.clone())
        .page_limit(50)
        .send()
        .await?;
    Ok(page
        .items
        .into_iter()
        .filter(|t| !known.contains(t.id().as_str()))
        .filter(|t| t.index_id().is_none_or(|i| i == &ctx.index))
        .filter(|t| t.filename().is_empty() || t.filename() == filename)
        .filter(|t| t.created_at().is_some_and(|c| c >= since))
        .filter(|t| t.status().outcome() != Some(crate::raw::Outcome::Failure))
        .max_by_key(|t| t.created_at())
        .map(|t| t.id().clone()))
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Hashes a file; checks again that it is a non-empty regular file of at most 2 GB (it may have
/// changed since planning).
fn hash_file(path: &Path) -> Result<(String, u64), String> {
    let mut file = std::fs::File::open(path).map_err(|e| format!("cannot be read: {e}"))?;
    let meta = file
        .metadata()
        .map_err(|e| format!("cannot be read: {e}"))?;
    if !meta.is_file() {
        return Err("not a regular file".into());
    }
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0u64;
    loop {
        let n = file
            .read(&mut buf)
            .map_err(|e| format!("cannot be read: {e}"))?;
        if n == 0 {
            break;
        }
        hasher.update(buf.get(..n).unwrap_or_default());
        total = total.saturating_add(n as u64);
        if total > crate::upload::MAX_FILE_SIZE {
            return Err("the file grew past 2 GB, the most the API accepts".into());
        }
    }
    if total == 0 {
        return Err("the file is empty".into());
    }
    Ok((hex(&hasher.finalize()), total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_are_urls_only_with_a_scheme() {
        assert_eq!(
            Source::parse("https://x.example/a.mp4"),
            Source::Url("https://x.example/a.mp4".into())
        );
        assert_eq!(
            Source::parse("ftp://x.example/a.mp4"),
            Source::Url("ftp://x.example/a.mp4".into())
        );
        assert_eq!(
            Source::parse("videos/a.mp4"),
            Source::File("videos/a.mp4".into())
        );
        assert_eq!(
            Source::parse("odd:name.mp4"),
            Source::File("odd:name.mp4".into())
        );
        assert_eq!(Source::parse("://x"), Source::File("://x".into()));
    }

    #[test]
    fn hashes_are_lowercase_hex_sha256() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(manifest::is_sha256_hex(&sha256_hex(b"")));
        assert!(!manifest::is_sha256_hex("BA7816BF"));
    }
}
