//! Waiting for tasks (video indexing, video embedding), modelled on aws-sdk-rust waiters.
//!
//! A waiter polls with backoff and jitter between a minimum and a maximum delay, uses the task's
//! own estimate (`process.remain_seconds`, `estimated_time`) to skip useless polls, and ends with
//! the ready task (for an indexing task a [`ReadyTask`], with its video id),
//! [`Error::TaskFailed`], or [`Error::WaitTimeout`] carrying the last state. Poll errors go
//! through the client's retry policy; one that is still retryable afterwards does not end the
//! wait before the deadline, any other does. It is a plain future: dropping it stops it.
//!
//! The deadline is hard: no sleep runs past it, and every poll — with its retries and the
//! `Retry-After` waits inside the transport — runs under the time that remains, so a silent or
//! rate-limiting server cannot stretch `max_wait`. A waiter ends within a few milliseconds of its
//! deadline.
//!
//! ```no_run
//! # async fn demo(tl: twelvelabs::Client) -> twelvelabs::Result<()> {
//! use std::time::Duration;
//! let task = tl.tasks()
//!     .wait("66659a3efa7835326810120c")
//!     .max_wait(Duration::from_secs(3600))
//!     .on_update(|t| println!("{t}")) // 66659a3e…  indexing 42%, 1:10 left  clip.mp4 (2:39)
//!     .await?;
//! println!("video {} is ready", task.video_id());
//! # Ok(()) }
//! ```

use std::future::{Future, IntoFuture};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use futures::future::BoxFuture;
use futures::stream::{self, BoxStream, StreamExt};
use tokio::time::Instant;

use std::marker::PhantomData;

use crate::error::{Error, Result};
use crate::mode::{Async, Mode};
use crate::model::{ReadyTask, Task};
use crate::raw::types::{EmbedTaskStatus, EmbedTaskStatusResponse, TaskStatus};

/// The task a waiter watched, as last seen.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum WaitedTask {
    /// A video indexing task.
    Video(Task),
    /// A video embedding task.
    Embedding(EmbedTaskStatusResponse),
}

impl WaitedTask {
    /// The task id.
    pub fn id(&self) -> &str {
        match self {
            Self::Video(t) => t.id().as_str(),
            Self::Embedding(t) => &t.id,
        }
    }

    /// The last status, as the API spelled it.
    pub fn status(&self) -> &str {
        match self {
            Self::Video(t) => match t.status().as_str() {
                "" => "unknown",
                s => s,
            },
            Self::Embedding(t) => t.status.as_ref().map_or("unknown", EmbedTaskStatus::as_str),
        }
    }
}

/// Where a polled task stands.
#[doc(hidden)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Not done yet.
    Pending,
    /// Ready.
    Done,
    /// Failed.
    Failed,
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for crate::model::Task {}
    impl Sealed for crate::raw::types::EmbedTaskStatusResponse {}
}

/// A task a [`Wait`] can poll: [`Task`] and [`EmbedTaskStatusResponse`]. Sealed.
pub trait Pollable: sealed::Sealed + Clone + Send + Sync + 'static {
    /// What waiting ends with: a [`ReadyTask`] (with its video id) for an indexing task, the
    /// status for an embedding task.
    type Done: Send + 'static;
    #[doc(hidden)]
    fn done(self) -> Result<Self::Done>;
    #[doc(hidden)]
    fn phase(&self) -> Phase;
    /// The status, when this version of the SDK does not know it.
    #[doc(hidden)]
    fn unknown_status(&self) -> Option<&str>;
    /// How long the task itself expects to still take.
    #[doc(hidden)]
    fn hint(&self) -> Option<Duration>;
    #[doc(hidden)]
    fn waited(self) -> WaitedTask;
}

/// Where a task with this status stands: the terminal statuses and their outcome come from
/// `x-twelvelabs-terminal` in `openapi.yaml`. Every other status, including one this version of
/// the SDK does not know, is still in progress: the wait goes on (bounded by `max_wait`), and an
/// unknown one is logged once per waiter at `WARN` so a new terminal status does not go unseen.
fn phase_of(outcome: Option<crate::raw::Outcome>) -> Phase {
    match outcome {
        Some(crate::raw::Outcome::Success) => Phase::Done,
        Some(crate::raw::Outcome::Failure) => Phase::Failed,
        None => Phase::Pending,
    }
}

impl Pollable for Task {
    type Done = ReadyTask;
    fn done(self) -> Result<ReadyTask> {
        ReadyTask::new(self).ok_or_else(|| {
            Error::Decode(Box::new(crate::error::DecodeError {
                status: None,
                path: "video_id".to_owned(),
                snippet: String::new(),
                source: serde::de::Error::custom("the task is ready but has no `video_id`"),
            }))
        })
    }
    fn phase(&self) -> Phase {
        phase_of(self.status().outcome())
    }
    fn unknown_status(&self) -> Option<&str> {
        Some(self.status())
            .filter(|s| !s.is_known())
            .map(TaskStatus::as_str)
    }
    fn hint(&self) -> Option<Duration> {
        if let Some(r) = self.remaining().filter(|r| !r.is_zero()) {
            return Some(r.min(Duration::from_secs(86_400)));
        }
        let eta = self.raw().estimated_time?;
        (eta - Utc::now()).to_std().ok()
    }
    fn waited(self) -> WaitedTask {
        WaitedTask::Video(self)
    }
}

impl Pollable for EmbedTaskStatusResponse {
    type Done = Self;
    fn done(self) -> Result<Self> {
        Ok(self)
    }
    fn phase(&self) -> Phase {
        phase_of(self.status.as_ref().and_then(EmbedTaskStatus::outcome))
    }
    fn unknown_status(&self) -> Option<&str> {
        self.status
            .as_ref()
            .filter(|s| !s.is_known())
            .map(EmbedTaskStatus::as_str)
    }
    fn hint(&self) -> Option<Duration> {
        None
    }
    fn waited(self) -> WaitedTask {
        WaitedTask::Embedding(self)
    }
}

type Poll<T> = Arc<dyn Fn() -> BoxFuture<'static, Result<T>> + Send + Sync>;
type OnUpdate<T> = Arc<dyn Fn(&T) + Send + Sync>;

/// Waits for a task. `.await` it for the final task, or call `updates()` for a stream of every
/// state seen. From `tl.tasks().wait(id)` or `tl.embed().tasks().wait(id)`. On the blocking
/// client, `.run()` waits and `updates()` is an iterator.
#[must_use = "a waiter does nothing until awaited"]
pub struct Wait<T, M: Mode = Async> {
    poll: Poll<T>,
    min_delay: Duration,
    max_delay: Duration,
    max_wait: Duration,
    on_update: Option<OnUpdate<T>>,
    /// The client whose runtime a blocking waiter runs on.
    #[cfg_attr(not(feature = "blocking"), allow(dead_code))]
    client: crate::Client,
    mode: PhantomData<M>,
}

impl<T, M: Mode> std::fmt::Debug for Wait<T, M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Wait")
            .field("min_delay", &self.min_delay)
            .field("max_delay", &self.max_delay)
            .field("max_wait", &self.max_wait)
            .finish_non_exhaustive()
    }
}

impl<T: Pollable, M: Mode> Wait<T, M> {
    pub(crate) fn new(client: crate::Client, poll: Poll<T>) -> Self {
        let (min_delay, max_delay) = client.config().wait_delays;
        Self {
            client,
            mode: PhantomData,
            poll,
            min_delay,
            max_delay,
            max_wait: Duration::from_secs(2 * 3600),
            on_update: None,
        }
    }

    /// The shortest pause between polls. Default: the client's
    /// [`wait_delays`](crate::ClientBuilder::wait_delays) (2 s).
    pub fn min_delay(mut self, d: Duration) -> Self {
        self.min_delay = d;
        self
    }

    /// The longest pause between polls. Default: the client's
    /// [`wait_delays`](crate::ClientBuilder::wait_delays) (30 s).
    pub fn max_delay(mut self, d: Duration) -> Self {
        self.max_delay = d;
        self
    }

    /// The deadline, from the first poll. Default 2 h (the longest video Marengo indexes).
    pub fn max_wait(mut self, d: Duration) -> Self {
        self.max_wait = d;
        self
    }

    /// Called with the task after every poll, the first and the last included.
    pub fn on_update(mut self, f: impl Fn(&T) + Send + Sync + 'static) -> Self {
        self.on_update = Some(Arc::new(f));
        self
    }

    fn updates_impl(self) -> BoxStream<'static, Result<T>> {
        struct St<T> {
            started: Option<Instant>,
            polls_without_hint: u32,
            last: Option<T>,
            fail_next: Option<T>,
            done: bool,
            warned_unknown: bool,
        }
        let Self {
            client: _,
            mode: _,
            poll,
            min_delay,
            max_delay,
            max_wait,
            on_update,
        } = self;
        let max_delay = max_delay.max(min_delay);
        let init: St<T> = St {
            started: None,
            polls_without_hint: 0,
            last: None,
            fail_next: None,
            done: false,
            warned_unknown: false,
        };
        stream::unfold(init, move |mut st| {
            let (poll, on_update) = (poll.clone(), on_update.clone());
            async move {
                if st.done {
                    return None;
                }
                if let Some(failed) = st.fail_next.take() {
                    st.done = true;
                    return Some((Err(Error::TaskFailed(Box::new(failed.waited()))), st));
                }
                let started = *st.started.get_or_insert_with(Instant::now);
                let timed_out = |st: &mut St<T>| {
                    st.done = true;
                    Error::WaitTimeout {
                        waited: started.elapsed(),
                        last: st.last.clone().map(|t| Box::new(t.waited())),
                    }
                };
                if let Some(last) = &st.last {
                    // Sleep before the next poll, never past the deadline.
                    let elapsed = started.elapsed();
                    if elapsed >= max_wait {
                        return Some((Err(timed_out(&mut st)), st));
                    }
                    let delay = match last.hint() {
                        Some(h) if h > min_delay => {
                            st.polls_without_hint = 0;
                            h.min(max_delay)
                        }
                        _ => {
                            st.polls_without_hint += 1;
                            backoff(min_delay, max_delay, st.polls_without_hint)
                        }
                    };
                    tokio::time::sleep(delay.min(max_wait.saturating_sub(elapsed))).await;
                }
                loop {
                    // Every poll, its retries and its Retry-After waits included, gets only the
                    // time that remains.
                    let remaining = max_wait.saturating_sub(started.elapsed());
                    let Ok(polled) = tokio::time::timeout(remaining, poll()).await else {
                        return Some((Err(timed_out(&mut st)), st));
                    };
                    match polled {
                        Ok(task) => {
                            if let Some(f) = &on_update {
                                f(&task);
                            }
                            if let Some(status) = task.unknown_status()
                                && !st.warned_unknown
                            {
                                st.warned_unknown = true;
                                tracing::warn!(
                                    status,
                                    "task status unknown to this SDK; treating it as in progress \
                                     (the wait ends at max_wait)"
                                );
                            }
                            match task.phase() {
                                Phase::Done => st.done = true,
                                // Reported as its state now, as the error next.
                                Phase::Failed => st.fail_next = Some(task.clone()),
                                Phase::Pending => {}
                            }
                            st.last = Some(task.clone());
                            return Some((Ok(task), st));
                        }
                        Err(e) if e.is_retryable() && started.elapsed() < max_wait => {
                            tracing::warn!("polling failed, will poll again: {e}");
                            let remaining = max_wait.saturating_sub(started.elapsed());
                            tokio::time::sleep(max_delay.min(remaining)).await;
                        }
                        Err(e) => {
                            st.done = true;
                            return Some((Err(e), st));
                        }
                    }
                }
            }
        })
        .boxed()
    }
}

/// AWS-style: a random delay in `[min, min(max, min * 2^(n-1))]`.
fn backoff(min: Duration, max: Duration, n: u32) -> Duration {
    let cap = min
        .saturating_mul(2u32.saturating_pow(n.saturating_sub(1)))
        .min(max);
    let spread = u64::try_from((cap.saturating_sub(min)).as_micros()).unwrap_or(u64::MAX);
    min + Duration::from_micros(fastrand::u64(0..=spread))
}

/// The final state of a stream of updates.
async fn last_state<T: Pollable>(mut updates: BoxStream<'static, Result<T>>) -> Result<T::Done> {
    let mut last = None;
    while let Some(item) = updates.next().await {
        last = Some(item?);
    }
    last.ok_or_else(|| Error::invalid("wait", "the waiter saw no state"))?
        .done()
}

impl<T: Pollable> Wait<T, Async> {
    /// Every state seen, one per poll: `Ok(task)` items, then the end — nothing more when the task
    /// is ready, or an `Err` ([`Error::TaskFailed`], [`Error::WaitTimeout`], or a poll error).
    pub fn updates(self) -> BoxStream<'static, Result<T>> {
        self.updates_impl()
    }
}

impl<T: Pollable> IntoFuture for Wait<T, Async> {
    type Output = Result<T::Done>;
    type IntoFuture = BoxFuture<'static, Result<T::Done>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(last_state(self.updates_impl()))
    }
}

#[cfg(feature = "blocking")]
impl<T: Pollable> Wait<T, crate::blocking::Blocking> {
    /// Waits, blocking the thread: the ready task, [`Error::TaskFailed`] or
    /// [`Error::WaitTimeout`].
    pub fn run(self) -> Result<T::Done> {
        let client = self.client.clone();
        crate::blocking::run(&client, last_state(self.updates_impl()))
    }

    /// Every state seen, one per poll, as an iterator (see the async `updates`).
    pub fn updates(self) -> crate::blocking::Iter<T> {
        let client = self.client.clone();
        crate::blocking::Iter::new(&client, self.updates_impl())
    }
}

/// A future is what `Wait` becomes; assert it is `Send` so it can be spawned.
fn _assert_send() {
    fn is_send<F: Future + Send>(_: F) {}
    fn check(w: Wait<Task>) {
        is_send(w.into_future());
    }
    let _ = check;
}
