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
//! 2. **Identifies** each file by the SHA-256 of its content (of `url:<URL>` for a URL). A file
//!    whose path, size, modification time and inode are what the manifest recorded when it was
//!    last hashed is not read again (the quick check git and rsync make; [`Ingest::rehash`] reads
//!    everything). Two files with the same content are sent once ([`IngestEvent::Duplicate`]).
//! 3. **Looks up** the content: in the manifest (ready: skipped; indexing: the same task is waited
//!    on again; failed: sent again), else in the index itself, through the custom metadata
//!    field (default [`DEFAULT_METADATA_KEY`]) every video ingested this way carries, so a run on
//!    another machine, without the manifest, still skips what the index holds. The index's videos
//!    are listed once per run (pages of 50), the first time a file is not in the manifest.
//! 4. **Uploads** at most `concurrency` files at a time, within the daily quota of task creations
//!    (below), and re-checks each file's size and modification time after its upload: a file
//!    that changed meanwhile is reported, not recorded under the hash of other bytes.
//! 5. **Waits** on every task at once: while more than a few are in flight, one listing of the
//!    index's tasks changed since the last look (newest first, pages of 50) per poll updates all
//!    of them; a few are read one by one. Polls are spaced by the tasks' own estimates of the
//!    time left (within [`Ingest::poll_interval`]). A ready video gets its content hash as
//!    custom metadata.
//!
//! # The daily quota
//!
//! Twelve Labs counts task creations per 24 hours (Free 50, Developer 1,000) and says how many
//! are left in the `X-Ratelimit-*` headers of each one. An upload the quota would refuse is
//! never started: while the count is unknown one upload goes first, and a `429` stops new uploads
//! for the whole run instead of failing files one by one. When the quota is spent the uploads in
//! flight finish, the tasks are still waited on, and the run ends with
//! [`IngestSummary::waiting_for_quota`] files left and [`IngestSummary::quota_resets_at`]; the
//! manifest remembers the quota, so a run started before the reset uploads nothing. With
//! [`Ingest::wait_for_quota`] the run sleeps until the reset instead ([`IngestEvent::QuotaSpent`]
//! then [`IngestEvent::QuotaRenewed`]) and goes on: one run can span days.
//!
//! # The manifest
//!
//! The manifest is an SQLite database ([`Manifest`]): one row per content hash and one per file
//! hashed, each change committed durably (changes that queue up meanwhile are committed together),
//! so its cost per change does not grow with the library and a kill at any instant loses nothing
//! committed. An upload is never started before its `uploading` record is on disk; an upload
//! whose task creation was not recorded (killed mid-way, or a connection lost after the request
//! was sent) is looked up among the index's tasks by file name before the file is sent again, so
//! the API never indexes the same content twice because of a retry. [`StopHandle::stop`] stops
//! starting uploads, lets the uploads in flight finish and leaves their tasks indexing; running
//! the same ingest again resumes. Another process can read the manifest while a run writes it
//! ([`Manifest::open`]).
//!
//! A manifest of the earlier JSON format is imported on first use and kept beside it as
//! `<manifest>.v1.bak`. A file that is not a manifest is [`IngestError::ManifestCorrupt`] and is
//! never overwritten; a manifest of another index is [`IngestError::ManifestIndexMismatch`].

mod manifest;
mod plan;
mod poll;
mod quota;
mod run;
mod store;

use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::stream::Stream;
use serde::{Serialize, Serializer};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

pub use manifest::{
    EntryState, FileStatus, MANIFEST_VERSION, Manifest, ManifestCounts, ManifestEntry, QuotaRecord,
};
pub use plan::VIDEO_EXTENSIONS;

use crate::Client;
use crate::error::Error;
use crate::ids::{IndexId, TaskId, VideoId};

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
    /// A file was identified by its content hash.
    Checked {
        /// The item.
        item: usize,
        /// The file or URL.
        source: Source,
        /// Its size in bytes (0 for a URL).
        size: u64,
        /// The SHA-256 of its content, lowercase hex.
        sha256: String,
        /// Whether the hash came from the manifest without reading the file (its path, size,
        /// modification time and inode are unchanged since it was hashed).
        unchanged: bool,
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
    /// The daily quota of task creations is spent: no new upload starts. The uploads in flight
    /// finish and the tasks are still waited on. With [`Ingest::wait_for_quota`] the run then
    /// sleeps until `resets_at` ([`IngestEvent::QuotaRenewed`] follows); otherwise it ends, with
    /// the files left in [`IngestSummary::waiting_for_quota`].
    QuotaSpent {
        /// When the quota resets (the API's `X-Ratelimit-Reset`), when it said.
        resets_at: Option<DateTime<Utc>>,
        /// Seconds until then, on the API's clock.
        resets_in_secs: Option<u64>,
        /// Whether the run waits for the reset.
        waiting: bool,
    },
    /// The quota's window has reset after a wait: uploads start again.
    QuotaRenewed,
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
    /// Items not started because the daily quota of task creations is spent (a run after
    /// [`IngestSummary::quota_resets_at`] sends them).
    pub waiting_for_quota: usize,
    /// When the quota resets (the API's `X-Ratelimit-Reset`), when it was spent during the run
    /// and the API said.
    pub quota_resets_at: Option<DateTime<Utc>>,
    /// Bytes uploaded.
    pub bytes_uploaded: u64,
    /// Files read to hash them (the others were unchanged since the manifest recorded them).
    pub files_hashed: usize,
    /// Bytes read to hash files.
    pub bytes_hashed: u64,
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
        self.failed == 0
            && self.rejected == 0
            && self.still_indexing == 0
            && self.not_started == 0
            && self.waiting_for_quota == 0
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
    rehash: bool,
    wait_for_quota: bool,
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
            rehash: false,
            wait_for_quota: false,
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

    /// The manifest file that makes the ingest resumable (an SQLite database, created when
    /// missing; a manifest of the earlier JSON format is imported and kept as
    /// `<path>.v1.bak`). Without one, only the index itself is consulted (through the
    /// content-hash metadata) and every file is read.
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

    /// Whether to check that each video the manifest records as ready is still in the index (the
    /// index's videos are listed once, pages of 50); content whose video was deleted is sent
    /// again. Default `false`: the manifest is trusted, and a re-run of a finished ingest sends
    /// no request per file.
    pub fn verify(mut self, yes: bool) -> Self {
        self.verify = yes;
        self
    }

    /// Whether to read and hash every file again, even those the manifest recorded with the same
    /// path, size, modification time and inode. Default `false`.
    pub fn rehash(mut self, yes: bool) -> Self {
        self.rehash = yes;
        self
    }

    /// Whether a run that spends the daily quota of task creations sleeps until it resets and
    /// goes on (`true`), or ends with the files left (`false`, the default). See
    /// [the daily quota](self#the-daily-quota).
    pub fn wait_for_quota(mut self, yes: bool) -> Self {
        self.wait_for_quota = yes;
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
            Some(path) => Some(store::Lock::acquire(path)?),
            None => None,
        };
        let opened = {
            let (path, index, key) = (
                self.manifest.clone(),
                self.index.clone(),
                self.metadata_key.clone(),
            );
            tokio::task::spawn_blocking(move || store::open_for_run(path.as_deref(), &index, &key))
                .await
                .map_err(|e| IngestError::Io {
                    path: self.manifest.clone().unwrap_or_default(),
                    source: std::io::Error::other(e),
                })??
        };
        self.client.indexes().get(&self.index).await?;
        let (sources, recursive) = (self.sources.clone(), self.recursive);
        let plan = tokio::task::spawn_blocking(move || plan::plan(&sources, recursive))
            .await
            .map_err(|e| IngestError::Io {
                path: PathBuf::from("."),
                source: std::io::Error::other(e),
            })?;
        let (tx, rx) = mpsc::channel(1024);
        let stop = CancellationToken::new();
        let settings = run::Settings {
            index: self.index,
            key: self.metadata_key,
            concurrency: self.concurrency,
            min_poll: self.min_poll,
            max_poll: self.max_poll,
            max_wait: self.max_wait,
            verify: self.verify,
            rehash: self.rehash,
            wait_for_quota: self.wait_for_quota,
            keeps_manifest: self.manifest.is_some(),
        };
        let task = tokio::spawn(run::drive(
            self.client,
            settings,
            opened,
            plan,
            stop.clone(),
            tx,
            Mutex::new(lock),
        ));
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
        // The waiting on tasks runs beside the run's own task: both end.
        self.stop.stop();
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
        use super::run::sha256_hex;
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(manifest::is_sha256_hex(&sha256_hex(b"")));
        assert!(!manifest::is_sha256_hex("BA7816BF"));
    }
}
