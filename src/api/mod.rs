//! One module per API resource. Each handle comes from a [`Client`](crate::Client) method
//! (`tl.indexes()`, `tl.videos(index)`, `tl.tasks()`, …), owns a clone of the client, and builds
//! requests that go through the client core (retries, errors, tracing).

// Generated enums are `Copy` while closed and not once a response can carry them (then they are
// open, with an `Unknown(String)` variant): `.clone()` keeps this layer building either way.
#![allow(clippy::clone_on_copy)]

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

/// Converts a generated request builder (`raw::types::X::builder()`) into its type. A field the
/// spec requires that the crate did not set (a new required field after a spec edit) is an
/// [`Error::InvalidInput`] naming it, before any request is sent.
pub(crate) fn build<B, T>(builder: B) -> Result<T>
where
    T: TryFrom<B>,
    T::Error: std::fmt::Display,
{
    T::try_from(builder).map_err(|e| unset_field(&e.to_string()))
}

/// The error for a message of the generated builders: "no value supplied for x" (a required
/// field left unset) or "error converting supplied value for x: why" (a value the spec's
/// constraints reject).
pub(crate) fn unset_field(message: &str) -> Error {
    if let Some((_, field)) = message.rsplit_once("no value supplied for ") {
        return Error::invalid(
            field.trim().to_owned(),
            "the API requires this field and this call does not set it (the spec gained a \
             required field?): send the request through `Client::raw`, or upgrade the crate",
        );
    }
    if let Some((_, rest)) = message.split_once("error converting supplied value for ")
        && let Some((field, why)) = rest.split_once(": ")
    {
        return Error::invalid(field.trim().to_owned(), why.trim().to_owned());
    }
    Error::invalid("request", message.to_owned())
}

/// What every page-number list has: page size and prefetch; the dated lists (indexes, tasks,
/// videos) also the sort and the creation / update filters.
#[derive(Clone, Debug)]
pub(crate) struct ListCommon {
    pub(crate) page_limit: Option<u64>,
    pub(crate) concurrency: usize,
    pub(crate) sort_by: Option<crate::SortBy>,
    pub(crate) sort_option: Option<crate::SortOption>,
    pub(crate) created_at: Option<Filter<DateTime<Utc>>>,
    pub(crate) updated_at: Option<Filter<DateTime<Utc>>>,
}

impl Default for ListCommon {
    fn default() -> Self {
        Self {
            page_limit: None,
            concurrency: 1,
            sort_by: None,
            sort_option: None,
            created_at: None,
            updated_at: None,
        }
    }
}

impl ListCommon {
    fn check(&self) -> Result<()> {
        crate::pagination::check_page_limit(self.page_limit)?;
        check_filter("created_at", &self.created_at)?;
        check_filter("updated_at", &self.updated_at)
    }
}

/// Checks an optional [`Filter`] named `field`.
pub(crate) fn check_filter<T: PartialOrd>(
    field: &'static str,
    f: &Option<Filter<T>>,
) -> Result<()> {
    f.as_ref().map_or(Ok(()), |f| f.check(field))
}

/// A generated page-number list builder (`raw.list_indexes()`, …).
pub(crate) trait RawList: Sized + Send {
    /// The item of a page.
    type Item: Send + 'static;
    fn set_page(self, n: u64) -> Self;
    fn set_page_limit(self, n: u64) -> Self;
    /// Sends it through the client core; the items and the page info.
    fn fetch(
        self,
    ) -> impl Future<Output = Result<(Vec<Self::Item>, Option<crate::raw::types::PageInfo>)>> + Send;
}

/// A generated list builder with the sort and date filters of [`ListCommon`].
pub(crate) trait RawDatedList: RawList {
    fn set_sort(self, by: Option<crate::SortBy>, option: Option<crate::SortOption>) -> Self;
    fn set_created_at(self, f: &Option<Filter<DateTime<Utc>>>) -> Self;
    fn set_updated_at(self, f: &Option<Filter<DateTime<Utc>>>) -> Self;
}

/// Implements [`RawList`] (and with `dated`, [`RawDatedList`]) for a generated builder; `$item`
/// is what the list yields (`From` the generated item).
macro_rules! raw_list {
    ($builder:ident, $item:ty) => {
        impl $crate::api::RawList for $crate::raw::builder::$builder<'_> {
            type Item = $item;
            fn set_page(self, n: u64) -> Self {
                $crate::raw::builder::$builder::page(self, n)
            }
            fn set_page_limit(self, n: u64) -> Self {
                $crate::raw::builder::$builder::page_limit(self, n)
            }
            async fn fetch(
                self,
            ) -> $crate::Result<(Vec<$item>, Option<$crate::raw::types::PageInfo>)> {
                let list = $crate::client::call(self.send()).await?;
                Ok((
                    list.data.into_iter().map(<$item>::from).collect(),
                    list.page_info,
                ))
            }
        }
    };
    ($builder:ident, $item:ty, dated) => {
        $crate::api::raw_list!($builder, $item);
        impl $crate::api::RawDatedList for $crate::raw::builder::$builder<'_> {
            fn set_sort(
                mut self,
                by: Option<$crate::SortBy>,
                option: Option<$crate::SortOption>,
            ) -> Self {
                if let Some(by) = by {
                    self = self.sort_by(by);
                }
                if let Some(o) = option {
                    self = self.sort_option(o);
                }
                self
            }
            fn set_created_at(
                mut self,
                f: &Option<$crate::Filter<chrono::DateTime<chrono::Utc>>>,
            ) -> Self {
                $crate::api::apply_filter!(
                    self,
                    f,
                    created_at,
                    created_at_gte,
                    created_at_lte,
                    $crate::api::rfc3339
                );
                self
            }
            fn set_updated_at(
                mut self,
                f: &Option<$crate::Filter<chrono::DateTime<chrono::Utc>>>,
            ) -> Self {
                $crate::api::apply_filter!(
                    self,
                    f,
                    updated_at,
                    updated_at_gte,
                    updated_at_lte,
                    $crate::api::rfc3339
                );
                self
            }
        }
    };
}
pub(crate) use raw_list;

/// Fetches page `page` of a list: the common settings applied to the builder, sent, wrapped.
pub(crate) async fn fetch_page<B: RawList>(
    common: &ListCommon,
    mut b: B,
    page: u64,
) -> Result<crate::pagination::Page<B::Item>> {
    b = b.set_page(page);
    if let Some(n) = common.page_limit {
        b = b.set_page_limit(n);
    }
    let (items, page_info) = b.fetch().await?;
    Ok(crate::pagination::Page {
        items,
        page,
        page_info,
    })
}

/// [`fetch_page`] for a dated list: the sort and the date filters too.
pub(crate) async fn fetch_dated_page<B: RawDatedList>(
    common: &ListCommon,
    b: B,
    page: u64,
) -> Result<crate::pagination::Page<B::Item>> {
    let b = b
        .set_sort(common.sort_by.clone(), common.sort_option.clone())
        .set_created_at(&common.created_at)
        .set_updated_at(&common.updated_at);
    fetch_page(common, b, page).await
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

/// Gives a page-number list builder `page_limit`, `concurrency`, `send`, `page`, `pages`, `items`
/// (in both modes). The builder must have fields `client: Client`, `common: ListCommon` and
/// `mode: PhantomData<M>`, a `fn check_own(&self) -> Result<()>` for its own settings and an
/// `async fn fetch(self, page: u64) -> Result<Page<$item>>`. With `dated`, also `sort_by`,
/// `sort_option`, `created_at` and `updated_at`.
macro_rules! page_number_list {
    ($builder:ident, $item:ty, dated) => {
        $crate::api::page_number_list!($builder, $item);
        impl<M: $crate::mode::Mode> $builder<M> {
            /// Sort by creation or update date (the API's default: creation date).
            pub fn sort_by(mut self, by: $crate::SortBy) -> Self {
                self.common.sort_by = Some(by);
                self
            }
            /// Sort direction (the API's default: descending, newest first).
            pub fn sort_option(mut self, o: $crate::SortOption) -> Self {
                self.common.sort_option = Some(o);
                self
            }
            /// Filter on the creation date: an exact time or a range ([`Filter`](crate::Filter)).
            pub fn created_at(
                mut self,
                f: impl Into<$crate::Filter<chrono::DateTime<chrono::Utc>>>,
            ) -> Self {
                self.common.created_at = Some(f.into());
                self
            }
            /// Filter on the date of the last update: an exact time or a range.
            pub fn updated_at(
                mut self,
                f: impl Into<$crate::Filter<chrono::DateTime<chrono::Utc>>>,
            ) -> Self {
                self.common.updated_at = Some(f.into());
                self
            }
        }
    };
    ($builder:ident, $item:ty) => {
        impl<M: $crate::mode::Mode> $builder<M> {
            /// Items per page, 1 to 50 (checked before any request). The API's default is 10.
            pub fn page_limit(mut self, n: u64) -> Self {
                self.common.page_limit = Some(n);
                self
            }

            /// Fetch up to `n` pages at once once the number of pages is known (after the first
            /// page), at most [`MAX_CONCURRENCY`](crate::pagination::MAX_CONCURRENCY). Items still
            /// come in page order. Default 1.
            pub fn concurrency(mut self, n: usize) -> Self {
                self.common.concurrency = n.max(1);
                self
            }

            fn check(&self) -> $crate::Result<()> {
                self.common.check()?;
                self.check_own()
            }

            async fn send_impl(self) -> $crate::Result<$crate::pagination::Page<$item>> {
                self.page_impl(1).await
            }

            async fn page_impl(self, n: u64) -> $crate::Result<$crate::pagination::Page<$item>> {
                self.check()?;
                if n == 0 {
                    return Err($crate::Error::invalid("page", "pages start at 1"));
                }
                self.fetch(n).await
            }

            fn pages_impl(self) -> futures::stream::BoxStream<'static, $crate::Result<$crate::pagination::Page<$item>>> {
                use futures::StreamExt;
                if let Err(e) = self.check() {
                    return futures::stream::once(async move { Err(e) }).boxed();
                }
                let concurrency = self.common.concurrency;
                let fetch: $crate::pagination::FetchPage<$item> = std::sync::Arc::new(move |n| {
                    let me = self.clone();
                    Box::pin(me.fetch(n))
                });
                $crate::pagination::page_stream(fetch, 1, concurrency)
            }

            fn items_impl(self) -> futures::stream::BoxStream<'static, $crate::Result<$item>> {
                $crate::pagination::items_of(self.pages_impl(), |p| p.items)
            }
        }
        $crate::mode::faces! {
            impl[] $builder<$crate::mode::Async> | $builder<$crate::blocking::Blocking> {
                /// The first page.
                pub fn send(self) -> $crate::pagination::Page<$item> => send_impl;
                /// Page `n` (1-based).
                pub fn page(self, n: u64) -> $crate::pagination::Page<$item> => page_impl;
                /// Every page, in order (fetching ahead with [`concurrency`](Self::concurrency)).
                /// Invalid settings are the first item.
                pub fn pages(self) -> stream $crate::pagination::Page<$item> => pages_impl;
                /// Every item of every page, in order.
                pub fn items(self) -> stream $item => items_impl;
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
