//! Waiting on every task of a run at once. While more than [`FEW`] are in flight, one listing of
//! the index's tasks changed since the last look (`sort_by=updated_at`, newest first,
//! `updated_at[gte]`, pages of 50) updates all of them; a few are read one by one. Polls are
//! spaced by the tasks' own estimates of the time left.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures::stream::{self, StreamExt};
use tokio::sync::mpsc;

use super::manifest::EntryState;
use super::run::{Ctx, Outcome, fail, tag};
use super::{IngestEvent, Source};
use crate::api::Filter;
use crate::error::Error;
use crate::ids::TaskId;
use crate::model::Task;
use crate::{SortBy, SortOption};

/// At most this many tasks in flight are read one by one; more are listed.
const FEW: usize = 3;
/// Tasks per page of a listing (the API's maximum).
const PAGE: u64 = 50;
/// Pages read per poll at most; tasks past them are caught by the next polls or read alone.
const MAX_PAGES: u64 = 200;
/// A listing starts this far before the newest update the previous one saw: updates committed
/// out of order by the server are not missed.
const MARGIN: Duration = Duration::from_secs(1);
/// A task seen before that no listing has shown for 10 s is read on its own, then after 20 s,
/// 40 s… up to this: a task the listings keep missing (its change slipped between two pages: they
/// are read while tasks keep changing, and tasks updated at the same instant come in any order)
/// is found soon, and one that simply does not change (queued for long) costs few reads.
const STALE: Duration = Duration::from_secs(600);
const UNLISTED_FIRST: Duration = Duration::from_secs(10);

fn unlisted_for(read_alone: u32) -> Duration {
    UNLISTED_FIRST
        .saturating_mul(1u32.checked_shl(read_alone.min(16)).unwrap_or(u32::MAX))
        .min(STALE)
}
/// Tasks finished (recorded, tagged) at a time.
const FINISHING: usize = 8;

/// A task the poller waits on, and the item it belongs to.
pub(super) struct Tracked {
    pub(super) item: usize,
    pub(super) source: Source,
    pub(super) hash: String,
    pub(super) size: u64,
    pub(super) task: TaskId,
    /// Whether this run uploaded it (else it was resumed from an earlier run).
    pub(super) uploaded: bool,
    /// When its upload started (this machine's clock), for a task created by this run.
    pub(super) created_after: Option<Instant>,
}

struct InFlight {
    t: Tracked,
    waiting_since: Instant,
    /// The latest update seen (the server's clock).
    updated_at: Option<DateTime<Utc>>,
    /// When a response last showed it.
    seen: Option<Instant>,
    /// Listings since it was handed over that did not show it, while no response had.
    missed: u32,
    /// Times it was read on its own since a listing last showed it.
    read_alone: u32,
    /// What was last reported (status, whole seconds left, whole percent).
    last: Option<(String, Option<i64>, Option<i64>)>,
    remaining: Option<f64>,
}

/// The server's clock as far as the listings tell.
#[derive(Default)]
struct ServerClock {
    /// The newest update any listing showed.
    newest: Option<DateTime<Utc>>,
    /// A lower bound of (server time − local time), from the newest updates seen.
    offset: Option<chrono::Duration>,
}

impl ServerClock {
    fn saw(&mut self, updated: DateTime<Utc>) {
        if self.newest.is_none_or(|n| updated > n) {
            self.newest = Some(updated);
        }
        let offset = updated - Utc::now();
        if self.offset.is_none_or(|o| offset > o) {
            self.offset = Some(offset);
        }
    }

    /// A time on the server's clock no later than the local instant `at`.
    fn server_time_before(&self, at: Instant) -> DateTime<Utc> {
        let ago = chrono::Duration::from_std(at.elapsed()).unwrap_or_default();
        let local = Utc::now() - ago;
        match self.offset {
            Some(o) => local + o,
            None => local - chrono::Duration::from_std(super::CLOCK_SKEW).unwrap_or_default(),
        }
    }
}

pub(super) async fn run(
    ctx: Arc<Ctx>,
    mut rx: mpsc::UnboundedReceiver<Tracked>,
    out: mpsc::UnboundedSender<Outcome>,
) {
    let mut flight: HashMap<TaskId, InFlight> = HashMap::new();
    let mut clock = ServerClock::default();
    let mut open = true;
    let mut quiet = 0u32;
    let add = |flight: &mut HashMap<TaskId, InFlight>, t: Tracked| {
        flight.insert(
            t.task.clone(),
            InFlight {
                t,
                waiting_since: Instant::now(),
                updated_at: None,
                seen: None,
                missed: 0,
                read_alone: 0,
                last: None,
                remaining: None,
            },
        );
    };
    loop {
        while open {
            match rx.try_recv() {
                Ok(t) => add(&mut flight, t),
                Err(mpsc::error::TryRecvError::Empty) => break,
                Err(mpsc::error::TryRecvError::Disconnected) => open = false,
            }
        }
        if ctx.stop.is_cancelled() {
            // Waiting stops: the tasks go on indexing, and a re-run waits on them. Tasks created
            // after this find the channel closed and say so themselves.
            for _ in flight.drain() {
                let _ = out.send(Outcome::StillIndexing);
            }
            return;
        }
        if flight.is_empty() {
            if !open {
                return;
            }
            tokio::select! {
                () = ctx.stop.cancelled() => {}
                t = rx.recv() => match t {
                    Some(t) => add(&mut flight, t),
                    None => open = false,
                },
            }
            quiet = 0;
            continue;
        }
        let pause = next_delay(
            (ctx.s.min_poll, ctx.s.max_poll),
            flight.values().filter_map(|f| f.remaining),
            quiet,
        );
        let deadline = tokio::time::Instant::now() + pause;
        loop {
            tokio::select! {
                biased;
                () = ctx.stop.cancelled() => break,
                () = tokio::time::sleep_until(deadline) => break,
                t = rx.recv(), if open => match t {
                    Some(t) => add(&mut flight, t),
                    None => open = false,
                },
            }
        }
        if ctx.stop.is_cancelled() {
            continue;
        }
        let tasks = poll_once(&ctx, &mut flight, &mut clock).await;
        let mut changed = false;
        let mut finished = Vec::new();
        for task in tasks {
            let Some(f) = flight.get_mut(task.id()) else {
                continue;
            };
            f.seen = Some(Instant::now());
            if let Some(u) = task.updated_at() {
                f.updated_at = Some(u);
            }
            changed |= report(&ctx, f, &task).await;
            if task.is_done()
                && let Some(f) = flight.remove(task.id())
            {
                finished.push((f, task));
            }
        }
        quiet = if changed || !finished.is_empty() {
            0
        } else {
            quiet.saturating_add(1)
        };
        let overdue: Vec<TaskId> = flight
            .iter()
            .filter(|(_, f)| f.waiting_since.elapsed() >= ctx.s.max_wait)
            .map(|(id, _)| id.clone())
            .collect();
        for id in overdue {
            if let Some(f) = flight.remove(&id) {
                ctx.emit(IngestEvent::Warning {
                    item: Some(f.t.item),
                    message: format!(
                        "{}: task {id} still not ready after {}s; it goes on indexing, and a \
                         re-run waits for it again",
                        f.t.source,
                        f.waiting_since.elapsed().as_secs()
                    ),
                })
                .await;
                let _ = out.send(Outcome::StillIndexing);
            }
        }
        stream::iter(finished)
            .for_each_concurrent(FINISHING, |(f, task)| {
                let (ctx, out) = (&ctx, &out);
                async move {
                    let _ = out.send(finish(ctx, f.t, &task).await);
                }
            })
            .await;
    }
}

/// The pause before the next poll, within the poll interval: the soonest estimate of the time
/// left among the tasks in flight, but at least a quarter of their mean estimate, so that each
/// task is looked at a bounded number of times while it indexes however many are in flight (a
/// listing returns every task whose progress moved, not only the finished ones). Without
/// estimates, growing from the shortest pause while nothing changes.
fn next_delay(
    (min, max): (Duration, Duration),
    estimates: impl Iterator<Item = f64>,
    quiet: u32,
) -> Duration {
    let (mut soonest, mut sum, mut n) = (f64::INFINITY, 0.0, 0u32);
    for r in estimates {
        if r.is_finite() && r >= 0.0 {
            soonest = soonest.min(r);
            sum += r;
            n = n.saturating_add(1);
        }
    }
    let d = if n == 0 {
        min.saturating_mul(1u32.checked_shl(quiet.min(16)).unwrap_or(u32::MAX))
    } else {
        let secs = soonest.max(sum / f64::from(n) / 4.0);
        Duration::try_from_secs_f64(secs).unwrap_or(max)
    };
    d.clamp(min, max)
}

/// The tasks in flight that changed, as the API answers now.
async fn poll_once(
    ctx: &Ctx,
    flight: &mut HashMap<TaskId, InFlight>,
    clock: &mut ServerClock,
) -> Vec<Task> {
    let mut alone: Vec<TaskId> = Vec::new();
    let mut found = Vec::new();
    if flight.len() <= FEW {
        alone.extend(flight.keys().cloned());
    } else {
        // What changed since the newest update the last listing saw (a little before: the server
        // may commit updates out of order). Before any listing: since the oldest upload of this
        // run, on the server's clock as far as it is known.
        let since = clock
            .newest
            .map(|n| n - chrono::Duration::from_std(MARGIN).unwrap_or_default())
            .or_else(|| {
                flight
                    .values()
                    .filter_map(|f| f.t.created_after.map(|at| clock.server_time_before(at)))
                    .min()
            });
        // No time to start from: only tasks of earlier runs, read one by one below.
        if let Some(since) = since {
            match list_changed(ctx, flight, since, clock).await {
                Ok(tasks) => found = tasks,
                Err(e) => {
                    ctx.emit(IngestEvent::Warning {
                        item: None,
                        message: format!("listing the index's tasks failed ({e}); trying again"),
                    })
                    .await;
                }
            }
        }
        let listed: std::collections::HashSet<&TaskId> = found.iter().map(Task::id).collect();
        for id in &listed {
            if let Some(f) = flight.get_mut(*id) {
                f.read_alone = 0;
            }
        }
        // Read alone: tasks of earlier runs, new tasks two listings did not show (created just
        // before the previous listing and unchanged since), and tasks no listing showed for long
        // (a server that ignores the listing's filter or order cannot hide one forever).
        for (id, f) in flight.iter_mut() {
            if listed.contains(id) {
                continue;
            }
            let read = match (f.seen, f.t.created_after) {
                (None, None) => true,
                (None, Some(_)) => {
                    f.missed = f.missed.saturating_add(1);
                    f.missed >= 2
                }
                (Some(seen), _) => {
                    seen.elapsed() >= unlisted_for(f.read_alone) || overdue(f, seen, ctx.s.min_poll)
                }
            };
            if read {
                f.read_alone = f.read_alone.saturating_add(1);
                alone.push(id.clone());
            }
        }
    }
    let got: Vec<Option<Task>> = stream::iter(alone)
        .map(|id| async move {
            match ctx.client.tasks().get(&id).await {
                Ok(t) => Some(t),
                Err(e) => {
                    ctx.emit(IngestEvent::Warning {
                        item: None,
                        message: format!("reading task {id} failed ({e}); trying again"),
                    })
                    .await;
                    None
                }
            }
        })
        .buffer_unordered(8)
        .collect()
        .await;
    for task in got.into_iter().flatten() {
        if let Some(u) = task.updated_at() {
            clock.saw(u);
        }
        found.push(task);
    }
    found
}

/// Whether a task should have finished by now by its own estimate (with two short pauses to
/// spare) and no listing has shown it since: its last change may have slipped between two pages
/// (a listing's pages are read while tasks keep changing, and tasks updated at the same instant
/// may come in any order), so it is read on its own.
fn overdue(f: &InFlight, seen: Instant, min_poll: Duration) -> bool {
    let Some(left) = f
        .remaining
        .and_then(|r| Duration::try_from_secs_f64(r).ok())
    else {
        return false;
    };
    let spare = min_poll.max(Duration::from_secs(1)).saturating_mul(2);
    seen.elapsed() >= left.saturating_add(spare)
}

/// The index's tasks updated since `since`, newest first, as far as they concern `flight`.
async fn list_changed(
    ctx: &Ctx,
    flight: &HashMap<TaskId, InFlight>,
    since: DateTime<Utc>,
    clock: &mut ServerClock,
) -> Result<Vec<Task>, Error> {
    let list = ctx
        .client
        .tasks()
        .list()
        .index(&ctx.s.index)
        .sort_by(SortBy::UpdatedAt)
        .sort_option(SortOption::Desc)
        .updated_at(Filter::gte(since))
        .page_limit(PAGE);
    let mut found = Vec::new();
    let mut remaining = flight.len();
    for n in 1..=MAX_PAGES {
        let page = list.clone().page(n).await?;
        let last = page.is_last() || (page.items.len() as u64) < PAGE;
        for task in page.items {
            if let Some(u) = task.updated_at() {
                clock.saw(u);
            }
            if flight.contains_key(task.id()) {
                remaining = remaining.saturating_sub(1);
                found.push(task);
            }
        }
        if last || remaining == 0 {
            break;
        }
    }
    Ok(found)
}

/// Sends a [`IngestEvent::TaskStatus`] when the status, the whole seconds left or the whole
/// percent changed. Returns whether it did.
async fn report(ctx: &Ctx, f: &mut InFlight, task: &Task) -> bool {
    let status = match task.status().as_str() {
        "" => "unknown".to_owned(),
        s => s.to_owned(),
    };
    let remaining = task.remaining().map(|d| d.as_secs_f64());
    let percent = task.percentage();
    f.remaining = remaining;
    let seen = (
        status.clone(),
        remaining
            .filter(|r| r.is_finite())
            .map(|r| r.round() as i64),
        percent.filter(|p| p.is_finite()).map(|p| p.round() as i64),
    );
    if f.last.as_ref() == Some(&seen) {
        return false;
    }
    f.last = Some(seen);
    ctx.emit(IngestEvent::TaskStatus {
        item: f.t.item,
        source: f.t.source.clone(),
        task_id: f.t.task.clone(),
        status,
        remaining_secs: remaining,
        percent,
    })
    .await;
    true
}

/// Records a finished task: ready (the video tagged with its content hash) or failed.
async fn finish(ctx: &Ctx, t: Tracked, task: &Task) -> Outcome {
    let src = t.source.to_string();
    if task.status().outcome() == Some(crate::raw::Outcome::Failure) {
        let reason = format!(
            "indexing failed: task {} ended with status {}",
            t.task,
            task.status()
        );
        let (r, id) = (reason.clone(), t.task.clone());
        if let Err(e) = ctx
            .store
            .set(&t.hash, &src, t.size, EntryState::Failed, move |e| {
                e.task_id = Some(id);
                e.error = Some(r);
            })
            .await
        {
            return Outcome::Fatal(e);
        }
        return fail(ctx, t.item, &t.source, reason, Some(t.task)).await;
    }
    let video = match task.video_id() {
        Some(v) if !v.as_str().trim().is_empty() => v.clone(),
        _ => {
            let reason = format!(
                "task {} is ready but the API did not say which video it made",
                t.task
            );
            return fail(ctx, t.item, &t.source, reason, Some(t.task)).await;
        }
    };
    // Tagged first, then recorded once: killed in between, the entry still says indexing and a
    // re-run waits on the (ready) task and tags it again, which changes nothing.
    let tagged = tag(ctx, t.item, &t.hash, &video).await;
    let v = video.clone();
    if let Err(e) = ctx
        .store
        .set(&t.hash, &src, t.size, EntryState::Ready, move |e| {
            e.video_id = Some(v);
            e.error = None;
            e.tagged = tagged;
        })
        .await
    {
        return Outcome::Fatal(e);
    }
    ctx.emit(IngestEvent::Ready {
        item: t.item,
        source: t.source,
        task_id: t.task,
        video_id: video,
    })
    .await;
    Outcome::Ready {
        uploaded: t.uploaded,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polls_follow_the_soonest_estimate_but_not_faster_than_a_quarter_of_the_mean() {
        let bounds = (Duration::from_secs(2), Duration::from_secs(30));
        let secs = |d: Duration| d.as_secs_f64();
        // One task: its own estimate, within the bounds.
        assert_eq!(secs(next_delay(bounds, [10.0].into_iter(), 0)), 10.0);
        assert_eq!(secs(next_delay(bounds, [0.5].into_iter(), 0)), 2.0);
        assert_eq!(secs(next_delay(bounds, [500.0].into_iter(), 0)), 30.0);
        // A thousand tasks spread over 0–100 s: not every 2 s (the soonest), but a quarter of the
        // mean (12.5 s), so each task is looked at a bounded number of times.
        let many = (0..1000).map(|i| f64::from(i) / 10.0);
        let d = secs(next_delay(bounds, many, 0));
        assert!((12.0..=13.0).contains(&d), "{d}");
        // No estimates: growing from the shortest pause while nothing changes, up to the longest.
        assert_eq!(secs(next_delay(bounds, std::iter::empty(), 0)), 2.0);
        assert_eq!(secs(next_delay(bounds, std::iter::empty(), 2)), 8.0);
        assert_eq!(secs(next_delay(bounds, std::iter::empty(), 40)), 30.0);
        // Garbage estimates are ignored.
        let odd = [f64::NAN, -1.0, f64::INFINITY].into_iter();
        assert_eq!(secs(next_delay(bounds, odd, 0)), 2.0);
    }
}
