//! Pagination: one page, or every page / every item as a `Stream`.
//!
//! Two styles exist in v1.2:
//! - **page numbers** (indexes, videos, tasks, embed tasks): `page` / `page_limit`, answered with
//!   `page_info.total_page`. [`Page`] is one page; the list builders' `pages()` and `items()` walk
//!   them all, optionally fetching several pages at once once `total_page` is known
//!   (`.concurrency(n)`), always yielding items in page order;
//! - **page tokens** (search, classify): each page carries `next_page_token`. [`TokenPage`] is one
//!   page; `pages()` / `items()` follow the tokens.
//!
//! Every walk ends on the last page (`page >= total_page`), on an empty page, and when the server
//! repeats a page number or a token, so a misbehaving server cannot make it loop forever. The
//! number of pages is fixed by the first page: a later page that reports more pages does not
//! extend the walk (a `total_page` that grows on every page would never end), one that reports
//! fewer ends it there. Walks are lazy: with `.concurrency(n)` at most `n` pages are requested
//! ahead of the page you are reading, and `n` is capped at [`MAX_CONCURRENCY`].
//!
//! A page token goes into the URL path of the next request (`/search/{token}`): one that is not a
//! single path segment (`..`, a backslash, empty) ends the walk with [`Error::Protocol`] before
//! anything is sent.
//!
//! ```no_run
//! # async fn demo(tl: twelvelabs::Client) -> twelvelabs::Result<()> {
//! use futures::TryStreamExt;
//! let videos: Vec<_> = tl.videos("666599d4e6fb7df29de0f89c").list().page_limit(50).items().try_collect().await?;
//! # Ok(()) }
//! ```

use std::collections::HashSet;

use futures::future::BoxFuture;
use futures::stream::{self, BoxStream, StreamExt};

use crate::error::{Error, Result};
use crate::raw::types::{PageInfo, TokenPageInfo};

/// The largest `page_limit` the API accepts.
pub const MAX_PAGE_LIMIT: u64 = 50;

/// The most pages a walk fetches at once (`.concurrency(n)` is capped at this). Sixteen requests
/// in flight already saturate what one API key is allowed; more only queue at the server and
/// hold memory for pages nobody has asked for yet.
pub const MAX_CONCURRENCY: usize = 16;

/// Checks a `page_limit` before any request is sent.
pub(crate) fn check_page_limit(limit: Option<u64>) -> Result<()> {
    match limit {
        Some(n) if !(1..=MAX_PAGE_LIMIT).contains(&n) => Err(Error::invalid(
            "page_limit",
            format!("must be between 1 and {MAX_PAGE_LIMIT}, got {n}"),
        )),
        _ => Ok(()),
    }
}

/// One page of a page-number list.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// The page number that was requested (1-based).
    pub page: u64,
    /// The server's `page_info` (total pages, total results, and for videos the total duration).
    pub page_info: Option<PageInfo>,
}

impl<T> Page<T> {
    /// `page_info.total_page`, when the server sent it.
    pub fn total_pages(&self) -> Option<u64> {
        self.page_info
            .as_ref()
            .and_then(|p| p.total_page)
            .and_then(|t| u64::try_from(t).ok())
    }

    /// `page_info.total_results`, when the server sent it.
    pub fn total_results(&self) -> Option<u64> {
        self.page_info
            .as_ref()
            .and_then(|p| p.total_results)
            .and_then(|t| u64::try_from(t).ok())
    }

    /// Whether no page follows this one: `page >= total_page`, an empty page, or (when the server
    /// does not say how many pages there are) a page shorter than its limit.
    pub fn is_last(&self) -> bool {
        if self.items.is_empty() {
            return true;
        }
        match self.total_pages() {
            Some(total) => self.page >= total,
            None => {
                let limit = self
                    .page_info
                    .as_ref()
                    .and_then(|p| p.limit_per_page)
                    .and_then(|l| usize::try_from(l).ok());
                limit.is_none_or(|l| self.items.len() < l)
            }
        }
    }

    /// The page number the server says this is, when it says.
    fn reported_page(&self) -> Option<u64> {
        self.page_info
            .as_ref()
            .and_then(|p| p.page)
            .and_then(|p| u64::try_from(p).ok())
    }
}

/// Fetches page `n` of a list.
pub(crate) type FetchPage<T> =
    std::sync::Arc<dyn Fn(u64) -> BoxFuture<'static, Result<Page<T>>> + Send + Sync>;

enum State<T> {
    Start,
    Sequential {
        next: u64,
        previous: Option<u64>,
        /// The last page to fetch, as the first page said (`None`: unknown).
        last: Option<u64>,
    },
    Concurrent {
        inner: BoxStream<'static, Result<Page<T>>>,
        expected: u64,
    },
    Done,
}

/// Every page from `start`, fetching up to `concurrency` pages at once once the total is known.
/// The first page's `total_page` bounds the walk (see the module docs).
pub(crate) fn page_stream<T: Send + 'static>(
    fetch: FetchPage<T>,
    start: u64,
    concurrency: usize,
) -> BoxStream<'static, Result<Page<T>>> {
    let concurrency = concurrency.clamp(1, MAX_CONCURRENCY);
    stream::unfold(State::Start, move |state| {
        let fetch = fetch.clone();
        async move {
            match state {
                State::Done => None,
                State::Start => match fetch(start).await {
                    Err(e) => Some((Err(e), State::Done)),
                    Ok(page) if page.items.is_empty() => Some((Ok(page), State::Done)),
                    Ok(page) => {
                        let next = if page.is_last() {
                            State::Done
                        } else if let (true, Some(total)) = (concurrency > 1, page.total_pages()) {
                            let f = fetch.clone();
                            let inner = stream::iter(start.saturating_add(1)..=total)
                                .map(move |n| f(n))
                                .buffered(concurrency)
                                .boxed();
                            State::Concurrent {
                                inner,
                                expected: start.saturating_add(1),
                            }
                        } else {
                            State::Sequential {
                                next: start.saturating_add(1),
                                previous: page.reported_page(),
                                last: page.total_pages(),
                            }
                        };
                        Some((Ok(page), next))
                    }
                },
                State::Sequential {
                    next,
                    previous,
                    last,
                } => match fetch(next).await {
                    Err(e) => Some((Err(e), State::Done)),
                    Ok(page) => {
                        let repeated = previous.is_some() && page.reported_page() == previous;
                        if page.items.is_empty() || repeated {
                            if repeated {
                                tracing::warn!(page = next, "server repeated a page; stopping");
                            }
                            return None;
                        }
                        // The first page's count bounds the walk; a smaller one ends it sooner.
                        let last = match (last, page.total_pages()) {
                            (Some(a), Some(b)) => {
                                if b > a {
                                    tracing::warn!(
                                        page = next,
                                        "the page count grew from {a} to {b}; the walk ends at {a}"
                                    );
                                }
                                Some(a.min(b))
                            }
                            (a, b) => a.or(b),
                        };
                        let state = if page.is_last() || last.is_some_and(|l| next >= l) {
                            State::Done
                        } else {
                            State::Sequential {
                                next: next.saturating_add(1),
                                previous: page.reported_page(),
                                last,
                            }
                        };
                        Some((Ok(page), state))
                    }
                },
                State::Concurrent {
                    mut inner,
                    expected,
                } => match inner.next().await {
                    None => None,
                    Some(Err(e)) => Some((Err(e), State::Done)),
                    Some(Ok(page)) => {
                        let mismatch = page.reported_page().is_some_and(|p| p != expected);
                        if page.items.is_empty() || mismatch {
                            if mismatch {
                                tracing::warn!(
                                    page = expected,
                                    "server answered another page; stopping"
                                );
                            }
                            return None;
                        }
                        // A page that reports fewer pages ends the walk after it; more pages do not
                        // extend it (the range was fixed by the first page).
                        let state = if page.is_last() {
                            State::Done
                        } else {
                            State::Concurrent {
                                inner,
                                expected: expected.saturating_add(1),
                            }
                        };
                        Some((Ok(page), state))
                    }
                },
            }
        }
    })
    .boxed()
}

/// The items of a stream of pages, in order.
pub(crate) fn items_of<P, T>(
    pages: BoxStream<'static, Result<P>>,
    items: fn(P) -> Vec<T>,
) -> BoxStream<'static, Result<T>>
where
    P: Send + 'static,
    T: Send + 'static,
{
    pages
        .flat_map(move |page| match page {
            Ok(p) => stream::iter(items(p).into_iter().map(Ok).collect::<Vec<_>>()),
            Err(e) => stream::iter(vec![Err(e)]),
        })
        .boxed()
}

/// One page of a token-paginated result (search, classify).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct TokenPage<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// The server's `page_info` (`next_page_token`, `total_results`, `page_expired_at`…).
    pub page_info: Option<TokenPageInfo>,
}

impl<T> TokenPage<T> {
    /// The token of the next page, if there is one.
    pub fn next_page_token(&self) -> Option<&str> {
        self.page_info
            .as_ref()
            .and_then(|p| p.next_page_token.as_deref())
            .filter(|t| !t.is_empty())
    }
}

/// Fetches the page of a token.
pub(crate) type FetchToken<P> =
    std::sync::Arc<dyn Fn(String) -> BoxFuture<'static, Result<P>> + Send + Sync>;

/// The first page, then every page its tokens lead to. Ends on a missing or repeated token and on
/// an empty page; a token that is not one URL path segment is an [`Error::Protocol`]. Seen tokens
/// are remembered by hash (8 bytes each), so an endless walk cannot grow memory by the tokens'
/// size.
pub(crate) fn token_stream<P>(
    first: BoxFuture<'static, Result<P>>,
    next: FetchToken<P>,
    view: fn(&P) -> (usize, Option<String>),
) -> BoxStream<'static, Result<P>>
where
    P: Send + 'static,
{
    enum S<P> {
        First(BoxFuture<'static, Result<P>>),
        Next(String, HashSet<u64>),
        Fail(Error),
        Done,
    }
    let step = move |result: Result<P>, mut seen: HashSet<u64>| match result {
        Err(e) => Some((Err(e), S::Done)),
        Ok(page) => {
            let (len, token) = view(&page);
            let state = match token {
                Some(t) if len > 0 => {
                    if let Err(why) = check_token(&t) {
                        S::Fail(why)
                    } else if seen.insert(token_hash(&t)) {
                        S::Next(t, seen)
                    } else {
                        tracing::warn!("server repeated a page token; stopping");
                        S::Done
                    }
                }
                _ => S::Done,
            };
            Some((Ok(page), state))
        }
    };
    stream::unfold(S::First(first), move |state| {
        let next = next.clone();
        async move {
            match state {
                S::Done => None,
                S::Fail(e) => Some((Err(e), S::Done)),
                S::First(f) => step(f.await, HashSet::new()),
                S::Next(token, seen) => step(next(token).await, seen),
            }
        }
    })
    .boxed()
}

/// The longest page token accepted (it goes into a URL path).
const MAX_TOKEN_LEN: usize = 4096;

/// Checks a server-sent page token before it goes into the next request's path.
fn check_token(token: &str) -> Result<()> {
    let why = if token.len() > MAX_TOKEN_LEN {
        Some(format!(
            "next_page_token is {} bytes long (at most {MAX_TOKEN_LEN})",
            token.len()
        ))
    } else {
        crate::ids::check_segment(token)
            .err()
            .map(|why| format!("next_page_token {why}"))
    };
    match why {
        None => Ok(()),
        Some(reason) => Err(Error::Protocol {
            reason,
            attempts: 1,
            source: None,
        }),
    }
}

fn token_hash(token: &str) -> u64 {
    use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
    BuildHasherDefault::<DefaultHasher>::default().hash_one(token)
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::TryStreamExt;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::{Arc, Mutex};

    fn info(page: i64, total: i64) -> PageInfo {
        serde_json::from_value(
            serde_json::json!({"page": page, "total_page": total, "limit_per_page": 3}),
        )
        .unwrap()
    }

    fn fetcher(total: u64, log: Arc<Mutex<Vec<u64>>>) -> FetchPage<u64> {
        Arc::new(move |n| {
            let log = log.clone();
            Box::pin(async move {
                // Later pages answer faster, so out-of-order completion is exercised.
                tokio::time::sleep(std::time::Duration::from_millis(30 / n)).await;
                log.lock().unwrap().push(n);
                Ok(Page {
                    items: if n <= total {
                        vec![n * 10, n * 10 + 1, n * 10 + 2]
                    } else {
                        vec![]
                    },
                    page: n,
                    page_info: Some(info(n as i64, total as i64)),
                })
            })
        })
    }

    #[tokio::test]
    async fn sequential_and_concurrent_give_the_same_items_in_order() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let seq: Vec<u64> = items_of(page_stream(fetcher(7, log.clone()), 1, 1), |p| p.items)
            .try_collect()
            .await
            .unwrap();
        assert_eq!(seq.len(), 21);
        assert_eq!(*log.lock().unwrap(), (1..=7).collect::<Vec<_>>());
        let con: Vec<u64> = items_of(page_stream(fetcher(7, log.clone()), 1, 4), |p| p.items)
            .try_collect()
            .await
            .unwrap();
        assert_eq!(seq, con);
        assert_eq!(
            log.lock().unwrap().len(),
            14,
            "no page fetched twice or beyond total"
        );
    }

    #[tokio::test]
    async fn a_server_that_repeats_a_page_does_not_loop() {
        let calls = Arc::new(AtomicU64::new(0));
        let c = calls.clone();
        let fetch: FetchPage<u64> = Arc::new(move |_n| {
            c.fetch_add(1, Ordering::SeqCst);
            // Always answers page 1 of 99, whatever was asked.
            Box::pin(async {
                Ok(Page {
                    items: vec![1, 2, 3],
                    page: 1,
                    page_info: Some(info(1, 99)),
                })
            })
        });
        let pages: Vec<_> = page_stream(fetch, 1, 1).try_collect().await.unwrap();
        assert_eq!(pages.len(), 1);
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn an_empty_page_ends_the_walk_and_errors_are_yielded_once() {
        let fetch: FetchPage<u64> = Arc::new(|n| {
            Box::pin(async move {
                match n {
                    1 => Ok(Page {
                        items: vec![1],
                        page: 1,
                        page_info: Some(info(1, 5)),
                    }),
                    _ => Ok(Page {
                        items: vec![],
                        page: n,
                        page_info: Some(info(n as i64, 5)),
                    }),
                }
            })
        });
        let items: Vec<u64> = items_of(page_stream(fetch, 1, 1), |p| p.items)
            .try_collect()
            .await
            .unwrap();
        assert_eq!(items, vec![1]);

        let fetch: FetchPage<u64> = Arc::new(|n| {
            Box::pin(async move {
                if n == 2 {
                    Err(Error::invalid("x", "boom"))
                } else {
                    Ok(Page {
                        items: vec![n],
                        page: n,
                        page_info: Some(info(n as i64, 3)),
                    })
                }
            })
        });
        let all: Vec<Result<u64>> = items_of(page_stream(fetch, 1, 1), |p| p.items)
            .collect()
            .await;
        assert_eq!(all.len(), 2);
        assert!(all[1].is_err());
    }

    #[tokio::test]
    async fn token_walk_stops_on_a_repeated_token() {
        let first: BoxFuture<'static, Result<(usize, Option<String>)>> =
            Box::pin(async { Ok((3, Some("a".into()))) });
        let calls = Arc::new(AtomicU64::new(0));
        let c = calls.clone();
        let next: FetchToken<(usize, Option<String>)> = Arc::new(move |t| {
            c.fetch_add(1, Ordering::SeqCst);
            Box::pin(async move { Ok((3, Some(if t == "a" { "b".into() } else { "a".into() }))) })
        });
        let pages: Vec<_> = token_stream(first, next, |p| p.clone())
            .try_collect()
            .await
            .unwrap();
        assert_eq!(pages.len(), 3); // first, "a", "b" (which points back to "a")
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }
}
