//! A run: each planned item is identified, looked up and uploaded by a bounded window of item
//! futures (memory does not grow with the library); created tasks go to the poller
//! ([`super::poll`]), which finishes them.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use chrono::{DateTime, Utc};
use futures::stream::{self, StreamExt};
use sha2::{Digest, Sha256};
use tokio::sync::{OnceCell, Semaphore, mpsc};
use tokio_util::sync::CancellationToken;

use super::manifest::{EntryState, FileStamp, ManifestEntry};
use super::plan::{Plan, PlanItem};
use super::poll::{self, Tracked};
use super::quota::{Answer, Quota};
use super::store::{Lock, Opened, Store};
use super::{
    CLOCK_SKEW, Failure, FoundIn, IngestError, IngestEvent, IngestSummary, PROGRESS_EVERY, Source,
};
use crate::Client;
use crate::error::Error;
use crate::ids::{IndexId, TaskId, VideoId};
use crate::raw::operations::CREATE_TASK;

/// How long to wait for a quota whose reset the API did not say before trying again.
const UNKNOWN_RESET_WAIT: Duration = Duration::from_secs(15 * 60);
/// Files hashed at a time (reading is mostly I/O; more would only seek).
const HASHING: usize = 4;

/// The settings of a run, checked.
pub(super) struct Settings {
    pub(super) index: IndexId,
    pub(super) key: String,
    pub(super) concurrency: usize,
    pub(super) min_poll: Duration,
    pub(super) max_poll: Duration,
    pub(super) max_wait: Duration,
    pub(super) verify: bool,
    pub(super) rehash: bool,
    pub(super) wait_for_quota: bool,
    pub(super) keeps_manifest: bool,
}

/// What the index held when it was listed (once per run, when first needed).
struct IndexContents {
    by_hash: HashMap<[u8; 32], VideoId>,
    videos: HashSet<String>,
}

pub(super) struct Ctx {
    pub(super) client: Client,
    pub(super) s: Settings,
    pub(super) store: Store,
    quota: Quota,
    permits: Semaphore,
    hashing: Semaphore,
    pub(super) stop: CancellationToken,
    tx: mpsc::Sender<Result<IngestEvent, IngestError>>,
    /// Where created tasks go; taken (closed) once every item has run.
    track: Mutex<Option<mpsc::UnboundedSender<Tracked>>>,
    /// Content hash → the first item of this run with that content.
    claims: Mutex<HashMap<[u8; 32], usize>>,
    index: OnceCell<Result<IndexContents, String>>,
    /// One sleep until the quota resets at a time.
    quota_wait: tokio::sync::Mutex<()>,
    quota_announced: AtomicBool,
    quota_spent_at: Mutex<Option<SystemTime>>,
    bytes_uploaded: AtomicU64,
    uploading: AtomicUsize,
    files_hashed: AtomicUsize,
    bytes_hashed: AtomicU64,
}

impl Ctx {
    pub(super) async fn emit(&self, event: IngestEvent) {
        if self.tx.send(Ok(event)).await.is_err() {
            // Nobody reads the events any more: stop.
            self.stop.cancel();
        }
    }

    fn lock_claims(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], usize>> {
        self.claims
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn track(&self, t: Tracked) -> bool {
        self.track
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .as_ref()
            .is_some_and(|tx| tx.send(t).is_ok())
    }
}

/// How an item ended (or that the poller now has it).
pub(super) enum Outcome {
    Ready {
        uploaded: bool,
    },
    AlreadyReady,
    Duplicate,
    Failed(Failure),
    StillIndexing,
    NotStarted,
    WaitingForQuota,
    /// Its task went to the poller, which reports the end.
    Submitted,
    Fatal(IngestError),
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn drive(
    client: Client,
    s: Settings,
    opened: Opened,
    plan: Plan,
    stop: CancellationToken,
    tx: mpsc::Sender<Result<IngestEvent, IngestError>>,
    lock: Mutex<Option<Lock>>,
) {
    let started = Instant::now();
    let (track_tx, track_rx) = mpsc::unbounded_channel();
    let (done_tx, mut done_rx) = mpsc::unbounded_channel();
    let ctx = Arc::new(Ctx {
        client,
        permits: Semaphore::new(s.concurrency),
        hashing: Semaphore::new(HASHING),
        s,
        store: opened.store,
        quota: Quota::new(opened.quota),
        stop,
        tx,
        track: Mutex::new(Some(track_tx)),
        claims: Mutex::new(HashMap::new()),
        index: OnceCell::new(),
        quota_wait: tokio::sync::Mutex::new(()),
        quota_announced: AtomicBool::new(false),
        quota_spent_at: Mutex::new(None),
        bytes_uploaded: AtomicU64::new(0),
        uploading: AtomicUsize::new(0),
        files_hashed: AtomicUsize::new(0),
        bytes_hashed: AtomicU64::new(0),
    });
    let mut summary = IngestSummary {
        files: plan.items.len(),
        rejected: plan.rejected.len(),
        ignored: plan.ignored.len(),
        manifest: ctx.s.keeps_manifest.then(|| ctx.store.path().to_path_buf()),
        ..IngestSummary::default()
    };
    if let Some(backup) = opened.imported_from {
        ctx.emit(IngestEvent::Warning {
            item: None,
            message: format!(
                "the manifest was in the earlier JSON format: imported, and the JSON kept as {}",
                backup.display()
            ),
        })
        .await;
    }
    ctx.emit(IngestEvent::Planned {
        files: plan.items.len(),
        bytes: plan.items.iter().map(PlanItem::size).sum(),
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
    let poller = tokio::spawn(poll::run(ctx.clone(), track_rx, done_tx));
    let items = Arc::new(plan.items);
    // Enough items ahead of the uploads that hashing and look-ups never starve them; bounded, so
    // memory does not grow with the library.
    let window = ctx.s.concurrency.saturating_mul(4).max(32);
    let mut work = {
        let (ctx, items) = (ctx.clone(), items.clone());
        stream::iter(0..items.len())
            .map(move |n| run_item(ctx.clone(), items.clone(), n))
            .buffer_unordered(window)
    };
    let (mut work_done, mut poll_done, mut announced) = (false, false, false);
    let mut fatal = None;
    while !(work_done && poll_done) {
        let outcome = tokio::select! {
            o = work.next(), if !work_done => match o {
                Some(o) => o,
                None => {
                    work_done = true;
                    // No more tasks will come: the poller ends once it has finished its own.
                    ctx.track
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .take();
                    continue;
                }
            },
            o = done_rx.recv(), if !poll_done => match o {
                Some(o) => o,
                None => {
                    poll_done = true;
                    continue;
                }
            },
            () = ctx.stop.cancelled(), if !announced => {
                announced = true;
                summary.stopped = true;
                let uploads_in_flight = ctx.uploading.load(Ordering::SeqCst);
                ctx.emit(IngestEvent::Stopping { uploads_in_flight }).await;
                continue;
            }
        };
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
            Outcome::WaitingForQuota => summary.waiting_for_quota += 1,
            Outcome::Submitted => {}
            Outcome::Fatal(e) => {
                ctx.stop.cancel();
                fatal.get_or_insert(e);
            }
        }
    }
    let _ = poller.await;
    if let Some(q) = ctx.quota.record()
        && let Err(e) = ctx.store.set_quota(q).await
    {
        fatal.get_or_insert(e);
    }
    if let Err(e) = ctx.store.close().await {
        fatal.get_or_insert(e);
    }
    // Free the manifest before saying the run is over: the next run may start at once.
    drop(
        lock.lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take(),
    );
    if let Some(e) = fatal {
        let _ = ctx.tx.send(Err(e)).await;
        return;
    }
    summary.stopped |= ctx.stop.is_cancelled();
    summary.bytes_uploaded = ctx.bytes_uploaded.load(Ordering::SeqCst);
    summary.files_hashed = ctx.files_hashed.load(Ordering::SeqCst);
    summary.bytes_hashed = ctx.bytes_hashed.load(Ordering::SeqCst);
    summary.quota_resets_at = if summary.waiting_for_quota > 0 {
        ctx.quota.resets_at().map(DateTime::<Utc>::from)
    } else {
        None
    };
    summary.elapsed_secs = started.elapsed().as_secs_f64();
    let _ = ctx.tx.send(Ok(IngestEvent::Summary(summary))).await;
}

/// What an item's content is.
struct Identity {
    hash: [u8; 32],
    hex: String,
    size: u64,
    /// The file as it was when hashed (`None` for a URL).
    stamp: Option<FileStamp>,
    /// The file's absolute path, the key of its quick-check record.
    key: Option<PathBuf>,
    unchanged: bool,
}

async fn run_item(ctx: Arc<Ctx>, items: Arc<Vec<PlanItem>>, item: usize) -> Outcome {
    let Some(planned) = items.get(item) else {
        return Outcome::NotStarted;
    };
    if ctx.stop.is_cancelled() {
        return Outcome::NotStarted;
    }
    let source = planned.source.clone();
    let id = match identify(&ctx, planned).await {
        Ok(Ok(id)) => id,
        Ok(Err(reason)) => return fail(&ctx, item, &source, reason, None).await,
        Err(e) => return Outcome::Fatal(e),
    };
    ctx.emit(IngestEvent::Checked {
        item,
        source: source.clone(),
        size: id.size,
        sha256: id.hex.clone(),
        unchanged: id.unchanged,
    })
    .await;
    let first = {
        let mut claims = ctx.lock_claims();
        match claims.get(&id.hash) {
            Some(first) => Some(*first),
            None => {
                claims.insert(id.hash, item);
                None
            }
        }
    };
    if let Some(first) = first {
        let of = items
            .get(first)
            .map_or_else(|| source.clone(), |p| p.source.clone());
        ctx.emit(IngestEvent::Duplicate { item, source, of }).await;
        return Outcome::Duplicate;
    }
    match look_up(&ctx, item, &source, &id).await {
        Ok(Found::Done(outcome)) => outcome,
        Ok(Found::Resume(task_id)) => resume(&ctx, item, source, &id, task_id).await,
        Ok(Found::Nothing) => send(&ctx, item, source, &id).await,
        Err(e) => Outcome::Fatal(e),
    }
}

/// Reports an item as failed, for the reason given.
pub(super) async fn fail(
    ctx: &Ctx,
    item: usize,
    source: &Source,
    reason: String,
    task_id: Option<TaskId>,
) -> Outcome {
    ctx.emit(IngestEvent::Failed {
        item,
        source: source.clone(),
        task_id,
        reason: reason.clone(),
    })
    .await;
    Outcome::Failed(Failure {
        source: source.clone(),
        reason,
    })
}

/// Hashes an item, or takes the hash the manifest recorded for the file when its path, size,
/// modification time and inode are unchanged. `Ok(Err(reason))` fails the item alone.
async fn identify(ctx: &Ctx, planned: &PlanItem) -> Result<Result<Identity, String>, IngestError> {
    let path = match &planned.source {
        Source::Url(u) => {
            let hash: [u8; 32] = Sha256::digest(format!("url:{u}").as_bytes()).into();
            return Ok(Ok(Identity {
                hash,
                hex: hex(&hash),
                size: 0,
                stamp: None,
                key: None,
                unchanged: false,
            }));
        }
        Source::File(p) => p.clone(),
    };
    let key = std::path::absolute(&path).unwrap_or_else(|_| path.clone());
    if !ctx.s.rehash
        && let Some(planned_stamp) = &planned.stamp
        && let Some((stamp, hex_hash)) = ctx.store.file(&key).await?
        && &stamp == planned_stamp
        && let Some(hash) = parse_hex(&hex_hash)
    {
        return Ok(Ok(Identity {
            hash,
            hex: hex_hash,
            size: stamp.size,
            stamp: Some(stamp),
            key: Some(key),
            unchanged: true,
        }));
    }
    let hashed = {
        let _slot = ctx.hashing.acquire().await;
        let p = path.clone();
        tokio::task::spawn_blocking(move || hash_file(&p)).await
    };
    let (hash, stamp) = match hashed {
        Ok(Ok(h)) => h,
        Ok(Err(reason)) => return Ok(Err(reason)),
        Err(e) => return Ok(Err(format!("hashing failed: {e}"))),
    };
    ctx.files_hashed.fetch_add(1, Ordering::Relaxed);
    ctx.bytes_hashed.fetch_add(stamp.size, Ordering::Relaxed);
    let hex_hash = hex(&hash);
    ctx.store.put_file(&key, stamp.clone(), &hex_hash).await?;
    Ok(Ok(Identity {
        hash,
        hex: hex_hash,
        size: stamp.size,
        stamp: Some(stamp),
        key: Some(key),
        unchanged: false,
    }))
}

enum Found {
    /// Nothing to send: the item ended.
    Done(Outcome),
    /// A task is already on it.
    Resume(TaskId),
    /// Not in the manifest nor in the index: send it.
    Nothing,
}

/// Whether the content is there already, or on its way.
async fn look_up(
    ctx: &Ctx,
    item: usize,
    source: &Source,
    id: &Identity,
) -> Result<Found, IngestError> {
    let mut entry = ctx.store.get(&id.hex).await?;
    if ctx.s.verify
        && let Some(e) = &entry
        && e.state == EntryState::Ready
        && let Some(video) = e.video_id.clone()
    {
        match index_contents(ctx).await {
            Ok(contents) if contents.videos.contains(video.as_str()) => {}
            Ok(_) => {
                ctx.emit(IngestEvent::Warning {
                    item: Some(item),
                    message: format!(
                        "{source}: video {video} is no longer in the index; sending it again"
                    ),
                })
                .await;
                entry = None;
            }
            Err(reason) => {
                let reason =
                    format!("could not check that video {video} is still in the index: {reason}");
                return Ok(Found::Done(fail(ctx, item, source, reason, None).await));
            }
        }
    }
    if let Some(entry) = &entry {
        match entry.state {
            EntryState::Ready => {
                if let Some(video) = entry.video_id.clone() {
                    if !entry.tagged && tag(ctx, item, &id.hex, &video).await {
                        ctx.store.set_tagged(&id.hex).await?;
                    }
                    ctx.emit(IngestEvent::AlreadyReady {
                        item,
                        source: source.clone(),
                        video_id: video,
                        found_in: FoundIn::Manifest,
                    })
                    .await;
                    return Ok(Found::Done(Outcome::AlreadyReady));
                }
            }
            EntryState::Indexing => {
                if let Some(t) = entry.task_id.clone() {
                    return Ok(Found::Resume(t));
                }
            }
            _ => {}
        }
        if entry.upload_started_at.is_some() {
            return match find_lost_task(ctx, entry).await {
                Ok(Some(t)) => Ok(Found::Resume(t)),
                Ok(None) => Ok(Found::Nothing),
                Err(e) => {
                    let reason = format!(
                        "could not check whether an earlier upload of it reached the API (so it \
                         is not sent twice): {e}"
                    );
                    Ok(Found::Done(fail(ctx, item, source, reason, None).await))
                }
            };
        }
        return Ok(Found::Nothing);
    }
    let video = match index_contents(ctx).await {
        Ok(contents) => contents.by_hash.get(&id.hash).cloned(),
        Err(reason) => {
            let reason = format!(
                "could not check whether the index already holds it (so it is not sent twice): \
                 {reason}"
            );
            return Ok(Found::Done(fail(ctx, item, source, reason, None).await));
        }
    };
    let Some(video) = video else {
        return Ok(Found::Nothing);
    };
    let (src, v) = (source.to_string(), video.clone());
    ctx.store
        .set(
            &id.hex,
            &src.clone(),
            id.size,
            EntryState::Ready,
            move |e| {
                e.video_id = Some(v);
                e.tagged = true;
                e.source = src;
            },
        )
        .await?;
    ctx.emit(IngestEvent::AlreadyReady {
        item,
        source: source.clone(),
        video_id: video,
        found_in: FoundIn::Index,
    })
    .await;
    Ok(Found::Done(Outcome::AlreadyReady))
}

/// The index's videos by content hash, listed once per run (pages of 50, four at a time).
async fn index_contents(ctx: &Ctx) -> Result<&IndexContents, String> {
    let listed = ctx
        .index
        .get_or_init(|| async {
            let mut pages = ctx
                .client
                .videos(&ctx.s.index)
                .list()
                .page_limit(50)
                .concurrency(4)
                .pages();
            let mut contents = IndexContents {
                by_hash: HashMap::new(),
                videos: HashSet::new(),
            };
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| e.to_string())?;
                for v in page.items {
                    if let Some(hash) = v
                        .custom(&ctx.s.key)
                        .and_then(serde_json::Value::as_str)
                        .and_then(parse_hex)
                    {
                        contents
                            .by_hash
                            .entry(hash)
                            .or_insert_with(|| v.id().clone());
                    }
                    contents.videos.insert(v.id().as_str().to_owned());
                }
            }
            Ok(contents)
        })
        .await;
    listed.as_ref().map_err(Clone::clone)
}

async fn resume(ctx: &Ctx, item: usize, source: Source, id: &Identity, task: TaskId) -> Outcome {
    let t = task.clone();
    if let Err(e) = ctx
        .store
        .set(
            &id.hex,
            &source.to_string(),
            id.size,
            EntryState::Indexing,
            move |e| {
                e.task_id = Some(t);
                e.error = None;
            },
        )
        .await
    {
        return Outcome::Fatal(e);
    }
    ctx.emit(IngestEvent::Resumed {
        item,
        source: source.clone(),
        task_id: task.clone(),
    })
    .await;
    submit(ctx, item, source, id, task, false, None)
}

fn submit(
    ctx: &Ctx,
    item: usize,
    source: Source,
    id: &Identity,
    task: TaskId,
    uploaded: bool,
    created_after: Option<Instant>,
) -> Outcome {
    let tracked = Tracked {
        item,
        source,
        hash: id.hex.clone(),
        size: id.size,
        task,
        uploaded,
        created_after,
    };
    if ctx.track(tracked) {
        Outcome::Submitted
    } else {
        Outcome::StillIndexing
    }
}

/// Uploads an item within the concurrency and the quota, then hands its task to the poller.
async fn send(ctx: &Ctx, item: usize, source: Source, id: &Identity) -> Outcome {
    let _permit = tokio::select! {
        biased;
        () = ctx.stop.cancelled() => return Outcome::NotStarted,
        p = ctx.permits.acquire() => match p {
            Ok(p) => p,
            Err(_) => return Outcome::NotStarted,
        },
    };
    loop {
        if ctx.stop.is_cancelled() {
            return Outcome::NotStarted;
        }
        if let Err(spent) = ctx.quota.acquire(|| ctx.client.server_now()).await {
            announce_spent(ctx, spent.resets_at).await;
            if !ctx.s.wait_for_quota {
                return Outcome::WaitingForQuota;
            }
            if !sleep_until_reset(ctx).await {
                return Outcome::NotStarted;
            }
            continue;
        }
        let started = Instant::now();
        match upload(ctx, item, &source, id).await {
            Ok(Uploaded::Created(task)) => {
                if let Some(reason) = changed_since_hashed(id).await {
                    return changed_during_upload(ctx, item, &source, id, task, reason).await;
                }
                return submit(ctx, item, source, id, task, true, Some(started));
            }
            Ok(Uploaded::Refused) => continue,
            Ok(Uploaded::Failed(reason)) => return fail(ctx, item, &source, reason, None).await,
            Err(e) => return Outcome::Fatal(e),
        }
    }
}

/// Says once per spell that the quota is spent.
async fn announce_spent(ctx: &Ctx, resets_at: Option<SystemTime>) {
    if ctx.quota_announced.swap(true, Ordering::SeqCst) {
        return;
    }
    *ctx.quota_spent_at
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = resets_at;
    let now = ctx.client.server_now();
    ctx.emit(IngestEvent::QuotaSpent {
        resets_at: resets_at.map(DateTime::<Utc>::from),
        resets_in_secs: resets_at.map(|r| r.duration_since(now).unwrap_or_default().as_secs()),
        waiting: ctx.s.wait_for_quota,
    })
    .await;
}

/// Sleeps until the quota resets on the API's clock (one item sleeps; the others wait for it).
/// The API's clock is read again (a cheap request) every ten longest poll pauses, so a clock that
/// jumps (a test's fake) or drifts is followed. `false` when the run was stopped meanwhile.
async fn sleep_until_reset(ctx: &Ctx) -> bool {
    let _one = tokio::select! {
        biased;
        () = ctx.stop.cancelled() => return false,
        g = ctx.quota_wait.lock() => g,
    };
    if !ctx.quota_announced.load(Ordering::SeqCst) {
        // Another item slept and renewed it meanwhile.
        return true;
    }
    let resets_at = *ctx
        .quota_spent_at
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let recheck = ctx.s.max_poll.saturating_mul(10);
    let started = Instant::now();
    loop {
        let left = match resets_at {
            // A second past the reset: the API's window has surely turned.
            Some(r) => r
                .duration_since(ctx.client.server_now())
                .map_or(Duration::ZERO, |d| d.saturating_add(Duration::from_secs(1))),
            None => UNKNOWN_RESET_WAIT.saturating_sub(started.elapsed()),
        };
        if left.is_zero() {
            break;
        }
        tokio::select! {
            biased;
            () = ctx.stop.cancelled() => return false,
            () = tokio::time::sleep(left.min(recheck)) => {}
        }
        // Any answer carries the API's `Date`; what it says does not matter here.
        let _ = ctx.client.indexes().get(&ctx.s.index).await;
    }
    ctx.quota.renew();
    ctx.quota_announced.store(false, Ordering::SeqCst);
    ctx.emit(IngestEvent::QuotaRenewed).await;
    true
}

enum Uploaded {
    Created(TaskId),
    /// The quota refused it (429): nothing was created; try again when the quota allows.
    Refused,
    Failed(String),
}

/// Uploads an item. `Err` when the manifest cannot be written (the run stops).
async fn upload(
    ctx: &Ctx,
    item: usize,
    source: &Source,
    id: &Identity,
) -> Result<Uploaded, IngestError> {
    let (src, size) = (source.to_string(), id.size);
    let filename = source.filename();
    let name = filename.clone();
    let s2 = src.clone();
    ctx.store
        .set(&id.hex, &src, size, EntryState::Uploading, move |e| {
            e.source = s2;
            e.size = size;
            e.filename = name;
            e.upload_started_at = Some(Utc::now());
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
    let create = ctx.client.tasks().create(&ctx.s.index);
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
            ctx.quota.finish(
                &Answer::Created(ctx.client.rate_limit_of(&CREATE_TASK).as_ref()),
                ctx.client.server_now(),
            );
            let t = created.id.clone();
            ctx.store
                .set(&id.hex, &src, size, EntryState::Indexing, move |e| {
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
            Ok(Uploaded::Created(created.id))
        }
        Err(Error::RateLimited(e)) => {
            ctx.quota.finish(
                &Answer::Refused {
                    rate_limit: e.rate_limit.as_ref(),
                    retry_after: e.retry_after,
                },
                ctx.client.server_now(),
            );
            // Refused before anything was created: nothing to look for on a re-run.
            ctx.store.remove(&id.hex).await?;
            Ok(Uploaded::Refused)
        }
        Err(e) => {
            ctx.quota.finish(&Answer::Other, ctx.client.server_now());
            let reason = format!("upload failed: {e}");
            let r = reason.clone();
            ctx.store
                .set(&id.hex, &src, size, EntryState::Failed, move |e| {
                    e.error = Some(r);
                })
                .await?;
            Ok(Uploaded::Failed(reason))
        }
    }
}

/// Whether the file changed (size, modification time, inode) since it was hashed.
async fn changed_since_hashed(id: &Identity) -> Option<String> {
    let (Some(before), Some(path)) = (id.stamp.clone(), id.key.clone()) else {
        return None;
    };
    let now =
        tokio::task::spawn_blocking(move || std::fs::metadata(&path).map(|m| FileStamp::of(&m)))
            .await
            .ok()?;
    match now {
        Ok(now) if now == before => None,
        Ok(now) if now.size != before.size => Some(format!(
            "its size changed from {} to {} bytes",
            before.size, now.size
        )),
        Ok(_) => Some("its modification time changed".to_owned()),
        Err(e) => Some(format!("it can no longer be read ({e})")),
    }
}

/// The file changed while it was uploaded: the task indexes bytes that may not be the ones
/// hashed, so it is not recorded under that hash; the file is hashed again next time.
async fn changed_during_upload(
    ctx: &Ctx,
    item: usize,
    source: &Source,
    id: &Identity,
    task: TaskId,
    what: String,
) -> Outcome {
    let reason = format!(
        "the file changed while it was uploaded ({what}): task {task} was left as it is and not \
         recorded as this content; run again to send the file as it is now"
    );
    let r = reason.clone();
    let recorded = async {
        ctx.store
            .set(
                &id.hex,
                &source.to_string(),
                id.size,
                EntryState::Failed,
                move |e| {
                    e.error = Some(r);
                    e.task_id = None;
                    e.upload_started_at = None;
                },
            )
            .await?;
        if let Some(key) = &id.key {
            ctx.store.forget_file(key).await?;
        }
        Ok::<(), IngestError>(())
    };
    if let Err(e) = recorded.await {
        return Outcome::Fatal(e);
    }
    fail(ctx, item, source, reason, Some(task)).await
}

/// Stores the content hash on the video, so a run without the manifest finds it. Returns whether
/// it worked; a failure is a warning (the video is ready), and the next run tries again.
pub(super) async fn tag(ctx: &Ctx, item: usize, hash: &str, video: &VideoId) -> bool {
    let result = ctx
        .client
        .videos(&ctx.s.index)
        .update(video)
        .metadata(ctx.s.key.clone(), hash)
        .send()
        .await;
    match result {
        Ok(()) => true,
        Err(e) => {
            ctx.emit(IngestEvent::Warning {
                item: Some(item),
                message: format!(
                    "video {video} is ready, but its content hash could not be stored as \
                     metadata `{}` ({e}); a re-run tries again",
                    ctx.s.key
                ),
            })
            .await;
            false
        }
    }
}

/// An upload whose task was not recorded (the run was killed mid-way, or the connection was lost
/// after the request went out): a task of the index with the same file name, created since the
/// upload started, that no other entry claims and that did not fail.
async fn find_lost_task(ctx: &Ctx, entry: &ManifestEntry) -> Result<Option<TaskId>, Error> {
    let (Some(filename), Some(started)) = (&entry.filename, entry.upload_started_at) else {
        return Ok(None);
    };
    let since = started - chrono::Duration::from_std(CLOCK_SKEW).unwrap_or_default();
    let page = ctx
        .client
        .tasks()
        .list()
        .index(&ctx.s.index)
        .filename(filename.clone())
        .page_limit(50)
        .send()
        .await?;
    let mut found = None;
    for t in page
        .items
        .into_iter()
        .filter(|t| t.index_id().is_none_or(|i| i == &ctx.s.index))
        .filter(|t| t.filename().is_empty() || t.filename() == filename)
        .filter(|t| t.created_at().is_some_and(|c| c >= since))
        .filter(|t| t.status().outcome() != Some(crate::raw::Outcome::Failure))
    {
        if ctx.store.task_known(t.id().as_str()).await.unwrap_or(true) {
            continue;
        }
        if found
            .as_ref()
            .is_none_or(|f: &crate::model::Task| t.created_at() > f.created_at())
        {
            found = Some(t);
        }
    }
    Ok(found.map(|t| t.id().clone()))
}

#[cfg(test)]
pub(super) fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn parse_hex(s: &str) -> Option<[u8; 32]> {
    if !super::manifest::is_sha256_hex(s) {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, slot) in out.iter_mut().enumerate() {
        let pair = s.get(i * 2..i * 2 + 2)?;
        *slot = u8::from_str_radix(pair, 16).ok()?;
    }
    Some(out)
}

/// Hashes a file; checks again that it is a non-empty regular file of at most 2 GB (it may have
/// changed since planning) and that it did not change while it was read. Returns the hash and the
/// file as it was.
fn hash_file(path: &Path) -> Result<([u8; 32], FileStamp), String> {
    let mut file = std::fs::File::open(path).map_err(|e| format!("cannot be read: {e}"))?;
    let meta = file
        .metadata()
        .map_err(|e| format!("cannot be read: {e}"))?;
    if !meta.is_file() {
        return Err("not a regular file".into());
    }
    let stamp = FileStamp::of(&meta);
    let mut hasher = Sha256::new();
    // 64 KiB: below the allocator's threshold for a mapping of its own, so the buffer is reused
    // from the thread's heap instead of leaving a megabyte behind in each thread that hashed.
    let mut buf = vec![0u8; 64 * 1024];
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
    let after = file
        .metadata()
        .map(|m| FileStamp::of(&m))
        .map_err(|e| format!("cannot be read: {e}"))?;
    if after != stamp || total != stamp.size {
        return Err(
            "the file changed while it was being read; run again once it is complete".into(),
        );
    }
    Ok((hasher.finalize().into(), stamp))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips() {
        let h: [u8; 32] = Sha256::digest(b"abc").into();
        assert_eq!(parse_hex(&hex(&h)), Some(h));
        assert_eq!(parse_hex("abc"), None);
        assert_eq!(parse_hex(&"G".repeat(64)), None);
    }
}
