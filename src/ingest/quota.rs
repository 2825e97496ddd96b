//! The daily task-creation quota: read from the `X-Ratelimit-*` headers of task creations, it
//! decides whether an upload may start (an upload the quota would refuse is never started).
//! Times are on the API's clock (`X-Ratelimit-Reset` is its epoch seconds; the caller passes the
//! server's time now, from the responses' `Date`), so a machine whose clock is off, or a fake API
//! whose clock a test moves, still agrees with the API on when the window resets.

use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use tokio::sync::Notify;

use super::manifest::QuotaRecord;
use crate::rate_limit::RateLimit;

/// Why an upload may not start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Spent {
    /// When the window resets, when the API said.
    pub(crate) resets_at: Option<SystemTime>,
}

#[derive(Debug)]
struct State {
    /// Task creations left in the window, when a task creation said so.
    remaining: Option<u64>,
    /// When the window resets, on the API's clock.
    resets_at: Option<SystemTime>,
    /// Whether a task creation answered without rate-limit headers: nothing is known to limit.
    unlimited: bool,
    /// Uploads started and not answered yet.
    in_flight: u64,
    /// The API refused a task creation (429): no upload starts until the reset.
    refused: bool,
}

/// The quota as this run knows it.
#[derive(Debug)]
pub(crate) struct Quota {
    state: Mutex<State>,
    changed: Notify,
}

/// How a task creation ended, for [`Quota::finish`].
pub(crate) enum Answer<'a> {
    /// Created; the response's rate-limit headers, if any.
    Created(Option<&'a RateLimit>),
    /// Refused with 429: the quota is spent.
    Refused {
        rate_limit: Option<&'a RateLimit>,
        retry_after: Option<Duration>,
    },
    /// Another failure: says nothing of the quota.
    Other,
}

impl Quota {
    /// Starts from what the previous run saw: a quota spent in a window that has not reset yet
    /// (checked at each [`Quota::acquire`]) is still spent.
    pub(crate) fn new(previous: Option<QuotaRecord>) -> Self {
        let (remaining, resets_at) = match previous {
            Some(q) => (Some(q.remaining), Some(q.resets_at)),
            None => (None, None),
        };
        Self {
            state: Mutex::new(State {
                remaining,
                resets_at,
                unlimited: false,
                in_flight: 0,
                refused: false,
            }),
            changed: Notify::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Takes the right to start one upload: `Ok` when the quota allows one more, `Err` when it is
    /// spent. While the quota is unknown, one upload at a time goes (its answer tells the
    /// quota); while uploads in flight may still give their share back, waits.
    /// `now` is the API's clock.
    pub(crate) async fn acquire(&self, now: impl Fn() -> SystemTime) -> Result<(), Spent> {
        loop {
            let notified = self.changed.notified();
            {
                let mut st = self.lock();
                st.expire(now());
                if st.refused {
                    return Err(Spent {
                        resets_at: st.resets_at,
                    });
                }
                let allowed = if st.unlimited {
                    true
                } else {
                    match st.remaining {
                        None => st.in_flight == 0,
                        Some(r) => r > st.in_flight,
                    }
                };
                if allowed {
                    st.in_flight = st.in_flight.saturating_add(1);
                    return Ok(());
                }
                if st.in_flight == 0 {
                    // Nothing in flight can change the answer: spent until the reset.
                    return Err(Spent {
                        resets_at: st.resets_at,
                    });
                }
            }
            notified.await;
        }
    }

    /// Gives back the right taken by [`Quota::acquire`], with what the API answered; `now` is
    /// the API's clock.
    pub(crate) fn finish(&self, answer: &Answer<'_>, now: SystemTime) {
        {
            let mut st = self.lock();
            st.in_flight = st.in_flight.saturating_sub(1);
            match answer {
                Answer::Created(Some(rl)) => st.observe(rl, now),
                Answer::Created(None) => {
                    if st.remaining.is_none() {
                        st.unlimited = true;
                    }
                }
                Answer::Refused {
                    rate_limit,
                    retry_after,
                } => {
                    if let Some(rl) = rate_limit {
                        st.observe(rl, now);
                    }
                    st.refused = true;
                    st.remaining = Some(0);
                    if st.resets_at.is_none_or(|r| r <= now) {
                        st.resets_at = retry_after.and_then(|d| now.checked_add(d));
                    }
                }
                Answer::Other => {}
            }
        }
        self.changed.notify_waiters();
    }

    /// The quota to keep for the next run, when known.
    pub(crate) fn record(&self) -> Option<QuotaRecord> {
        let st = self.lock();
        Some(QuotaRecord {
            remaining: st.remaining?,
            resets_at: st.resets_at?,
        })
    }

    /// When the window resets, when known.
    pub(crate) fn resets_at(&self) -> Option<SystemTime> {
        self.lock().resets_at
    }

    /// The window has reset (after waiting for it): forget what was known; the next upload
    /// learns the new quota.
    pub(crate) fn renew(&self) {
        {
            let mut st = self.lock();
            st.refused = false;
            st.remaining = None;
            st.resets_at = None;
        }
        self.changed.notify_waiters();
    }
}

impl State {
    fn observe(&mut self, rl: &RateLimit, now: SystemTime) {
        let Some(remaining) = rl.remaining else {
            return;
        };
        // A reset in the past (or absent) says nothing of this window.
        let resets_at = rl.reset.filter(|r| *r > now);
        let new_window = match (resets_at, self.resets_at) {
            (Some(new), Some(old)) => new > old + Duration::from_secs(60),
            _ => true,
        };
        // Answers of one window arrive in any order: the smallest count left is the latest.
        self.remaining = Some(match self.remaining {
            Some(old) if !new_window => old.min(remaining),
            _ => remaining,
        });
        if resets_at.is_some() {
            self.resets_at = resets_at;
        }
        self.unlimited = false;
    }

    /// A window whose reset has passed is forgotten.
    fn expire(&mut self, now: SystemTime) {
        if self.resets_at.is_some_and(|r| r <= now) {
            self.remaining = None;
            self.resets_at = None;
            self.refused = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rl(remaining: u64, reset_in: u64) -> RateLimit {
        RateLimit {
            limit: Some(30),
            remaining: Some(remaining),
            used: None,
            reset: SystemTime::now().checked_add(Duration::from_secs(reset_in)),
            date: None,
        }
    }

    fn now() -> SystemTime {
        SystemTime::now()
    }

    async fn waits(q: &Quota) -> bool {
        tokio::time::timeout(Duration::from_millis(50), q.acquire(now))
            .await
            .is_err()
    }

    #[tokio::test]
    async fn unknown_quota_lets_one_upload_probe_then_follows_the_headers() {
        let q = Quota::new(None);
        q.acquire(now).await.unwrap();
        assert!(
            waits(&q).await,
            "a second upload started before the quota was known"
        );
        q.finish(&Answer::Created(Some(&rl(2, 3600))), now());
        q.acquire(now).await.unwrap();
        q.acquire(now).await.unwrap();
        // Two in flight, two left: a third would be refused if both are created.
        assert!(waits(&q).await);
        q.finish(&Answer::Created(Some(&rl(1, 3600))), now());
        q.finish(&Answer::Created(Some(&rl(0, 3600))), now());
        let spent = q.acquire(now).await.unwrap_err();
        assert!(spent.resets_at.is_some());
        assert_eq!(q.record().unwrap().remaining, 0);
    }

    #[tokio::test]
    async fn a_refusal_spends_the_quota_for_everyone_and_renew_forgets_it() {
        let q = Quota::new(None);
        q.acquire(now).await.unwrap();
        let refused = Answer::Refused {
            rate_limit: None,
            retry_after: Some(Duration::from_secs(60)),
        };
        q.finish(&refused, now());
        assert!(q.acquire(now).await.is_err());
        q.renew();
        q.acquire(now).await.unwrap();
    }

    #[tokio::test]
    async fn no_headers_means_no_known_limit() {
        let q = Quota::new(None);
        q.acquire(now).await.unwrap();
        q.finish(&Answer::Created(None), now());
        for _ in 0..10 {
            q.acquire(now).await.unwrap();
        }
    }

    #[tokio::test]
    async fn a_spent_quota_of_an_earlier_run_holds_until_its_reset_on_the_apis_clock() {
        let reset = SystemTime::now() + Duration::from_secs(3600);
        let q = Quota::new(Some(QuotaRecord {
            remaining: 0,
            resets_at: reset,
        }));
        assert_eq!(q.acquire(now).await.unwrap_err().resets_at, Some(reset));
        // The API's clock says the window has turned (whatever this machine's says).
        q.acquire(|| reset + Duration::from_secs(1)).await.unwrap();
    }
}
