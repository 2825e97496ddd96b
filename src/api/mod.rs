//! One module per API resource. Each handle comes from a [`Client`](crate::Client) method
//! (`tl.indexes()`, `tl.videos(index)`, `tl.tasks()`, …), owns a clone of the client, and builds
//! requests that go through the client core (retries, errors, tracing).

pub mod classify;
pub mod embed;
pub mod engines;
pub mod generate;
pub mod indexes;
pub mod search;
pub mod tasks;
pub mod videos;

use chrono::{DateTime, Utc};

use crate::error::{Error, Result};

/// A list filter on one field: an exact value, or a range with `[gte]` and/or `[lte]` bounds.
///
/// ```
/// use twelvelabs::Filter;
/// let at_least_ten_seconds = Filter::gte(10.0);
/// let exactly_24_fps = Filter::eq(24.0);
/// let between = Filter::between(10.0, 60.0);
/// # let _ = (at_least_ten_seconds, exactly_24_fps, between);
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Filter<T> {
    /// `field=value`
    pub eq: Option<T>,
    /// `field[gte]=value`
    pub gte: Option<T>,
    /// `field[lte]=value`
    pub lte: Option<T>,
}

impl<T> Filter<T> {
    /// Exactly `v`.
    pub fn eq(v: T) -> Self {
        Self {
            eq: Some(v),
            gte: None,
            lte: None,
        }
    }
    /// At least `v`.
    pub fn gte(v: T) -> Self {
        Self {
            eq: None,
            gte: Some(v),
            lte: None,
        }
    }
    /// At most `v`.
    pub fn lte(v: T) -> Self {
        Self {
            eq: None,
            gte: None,
            lte: Some(v),
        }
    }
    /// Between `low` and `high`, inclusive.
    pub fn between(low: T, high: T) -> Self {
        Self {
            eq: None,
            gte: Some(low),
            lte: Some(high),
        }
    }
}

impl<T> From<T> for Filter<T> {
    fn from(v: T) -> Self {
        Filter::eq(v)
    }
}

impl<T: PartialOrd> Filter<T> {
    /// Rejects an empty range before any request is sent.
    pub(crate) fn check(&self, field: &'static str) -> Result<()> {
        if let (Some(lo), Some(hi)) = (&self.gte, &self.lte)
            && lo > hi
        {
            return Err(Error::invalid(
                field,
                "the lower bound is above the upper bound",
            ));
        }
        Ok(())
    }
}

/// Dates go out as RFC 3339.
pub(crate) fn rfc3339(d: &DateTime<Utc>) -> String {
    d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Applies a [`Filter`] to a generated list builder: `apply_filter!(builder, filter, eq, gte, lte, map)`.
macro_rules! apply_filter {
    ($b:ident, $f:expr, $eq:ident, $gte:ident, $lte:ident, $map:expr) => {
        if let Some(f) = &$f {
            if let Some(v) = &f.eq {
                $b = $b.$eq($map(v));
            }
            if let Some(v) = &f.gte {
                $b = $b.$gte($map(v));
            }
            if let Some(v) = &f.lte {
                $b = $b.$lte($map(v));
            }
        }
    };
}
pub(crate) use apply_filter;

/// Gives a page-number list builder `page_limit`, `concurrency`, `send`, `page`, `pages`, `items`.
/// The builder must have fields `page_limit: Option<u64>`, `concurrency: usize`, a
/// `fn check(&self) -> Result<()>` and an `async fn fetch(self, page: u64) -> Result<Page<$item>>`.
macro_rules! page_number_list {
    ($builder:ident, $item:ty) => {
        impl $builder {
            /// Items per page, 1 to 50 (checked before any request). The API's default is 10.
            pub fn page_limit(mut self, n: u64) -> Self {
                self.page_limit = Some(n);
                self
            }

            /// Fetch up to `n` pages at once once the number of pages is known (after the first
            /// page). Items still come in page order. Default 1.
            pub fn concurrency(mut self, n: usize) -> Self {
                self.concurrency = n.max(1);
                self
            }

            /// The first page.
            pub async fn send(self) -> $crate::Result<$crate::pagination::Page<$item>> {
                self.page(1).await
            }

            /// Page `n` (1-based).
            pub async fn page(self, n: u64) -> $crate::Result<$crate::pagination::Page<$item>> {
                self.check()?;
                if n == 0 {
                    return Err($crate::Error::invalid("page", "pages start at 1"));
                }
                self.fetch(n).await
            }

            /// Every page, as a `Stream` (`Send + 'static`). Invalid settings are its first item.
            pub fn pages(self) -> futures::stream::BoxStream<'static, $crate::Result<$crate::pagination::Page<$item>>> {
                use futures::StreamExt;
                if let Err(e) = self.check() {
                    return futures::stream::once(async move { Err(e) }).boxed();
                }
                let concurrency = self.concurrency;
                let fetch: $crate::pagination::FetchPage<$item> = std::sync::Arc::new(move |n| {
                    let me = self.clone();
                    Box::pin(me.fetch(n))
                });
                $crate::pagination::page_stream(fetch, 1, concurrency)
            }

            /// Every item of every page, as a `Stream` (`Send + 'static`), in order.
            pub fn items(self) -> futures::stream::BoxStream<'static, $crate::Result<$item>> {
                $crate::pagination::items_of(self.pages(), |p| p.items)
            }
        }
    };
}
pub(crate) use page_number_list;

/// A setter for a [`Filter`] field: `filter_setter!(field, Type, "doc");` inside an `impl`.
macro_rules! filter_setter {
    ($name:ident, $t:ty, $doc:literal) => {
        #[doc = $doc]
        pub fn $name(mut self, f: impl Into<$crate::Filter<$t>>) -> Self {
            self.$name = Some(f.into());
            self
        }
    };
}
pub(crate) use filter_setter;

/// `sort_by` / `sort_option` setters inside an `impl` of a builder with those fields.
macro_rules! sort_setters {
    () => {
        /// Sort by creation or update date (the API's default: creation date).
        pub fn sort_by(mut self, by: $crate::SortBy) -> Self {
            self.sort_by = Some(by);
            self
        }
        /// Sort direction (the API's default: descending, newest first).
        pub fn sort_option(mut self, o: $crate::SortOption) -> Self {
            self.sort_option = Some(o);
            self
        }
    };
}
pub(crate) use sort_setters;
