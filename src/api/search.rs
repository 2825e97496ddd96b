//! Search: natural language (`POST /search`), combined queries (`$and`, `$or`, `$not`, `$then`),
//! and any-to-video by image (`POST /search-v2`, multipart). Results are token-paginated.
//!
//! ```no_run
//! # async fn demo(tl: twelvelabs::Client) -> twelvelabs::Result<()> {
//! use twelvelabs::SearchOption::*;
//! use twelvelabs::api::search::Query;
//! let hits = tl.search("666599d4e6fb7df29de0f89c").query("A woman wearing makeup").options([Visual]).send().await?;
//! for clip in hits.clips() {
//!     println!("{clip}"); // 66659a48d22b3a3c97bf1d5f  0:40–0:44  high  83.2
//! }
//! let both = tl.search("666599d4e6fb7df29de0f89c")
//!     .combined(Query::and([Query::text("red mask").options([Visual]), Query::text("guy").options([Conversation])]))
//!     .options([Visual, Conversation])
//!     .send().await?;
//! # let _ = both; Ok(()) }
//! ```

use std::sync::Arc;

use futures::stream::BoxStream;

use super::build;
use std::marker::PhantomData;

use crate::Client;
use crate::error::{Error, ErrorCode, Result};
use crate::ids::IndexId;
use crate::mode::{Async, Mode, faces};
use crate::model::{SearchClip, SearchHit};
use crate::pagination::{TokenPage, check_page_limit, items_of, token_stream};
use crate::raw::operations;
use crate::raw::types::{
    self, ConversationOption, GroupBy, SearchOperator, SearchOption, SearchPool, SearchResult,
    SearchSortOption, SearchThreshold,
};
use crate::upload::{Media, MultipartForm};

/// One query of a combined search: a text, or an operator over queries.
#[derive(Clone, Debug, PartialEq)]
pub enum Query {
    /// A natural-language sub-query, optionally with its own options.
    Text {
        /// The text.
        text: String,
        /// The search options of this sub-query.
        options: Vec<SearchOption>,
        /// How speech is matched.
        conversation_option: Option<ConversationOption>,
    },
    /// All operands match.
    And(Vec<Query>),
    /// Any operand matches.
    Or(Vec<Query>),
    /// Matches of `origin` that are not matches of `sub`.
    Not(Box<Query>, Box<Query>),
    /// The operands match in this order in time.
    Then(Vec<Query>),
}

impl Query {
    /// A text sub-query.
    pub fn text(t: impl Into<String>) -> Self {
        Self::Text {
            text: t.into(),
            options: Vec::new(),
            conversation_option: None,
        }
    }
    /// Sets the options of a text sub-query (ignored on operators).
    pub fn options(mut self, o: impl IntoIterator<Item = SearchOption>) -> Self {
        if let Self::Text { options, .. } = &mut self {
            options.extend(o);
        }
        self
    }
    /// Sets how speech is matched in a text sub-query.
    pub fn conversation_option(mut self, c: ConversationOption) -> Self {
        if let Self::Text {
            conversation_option,
            ..
        } = &mut self
        {
            *conversation_option = Some(c);
        }
        self
    }
    /// `$and`
    pub fn and(q: impl IntoIterator<Item = Query>) -> Self {
        Self::And(q.into_iter().collect())
    }
    /// `$or`
    pub fn or(q: impl IntoIterator<Item = Query>) -> Self {
        Self::Or(q.into_iter().collect())
    }
    /// `$not`: `origin` but not `sub`.
    pub fn not(origin: Query, sub: Query) -> Self {
        Self::Not(Box::new(origin), Box::new(sub))
    }
    /// `$then`
    pub fn then(q: impl IntoIterator<Item = Query>) -> Self {
        Self::Then(q.into_iter().collect())
    }

    fn operand(self) -> Result<types::QueryOperand> {
        Ok(match self {
            Self::Text {
                text,
                options,
                conversation_option,
            } => {
                if text.trim().is_empty() {
                    return Err(Error::invalid("query.text", "must not be empty"));
                }
                types::QueryOperand::SubQuery(build(
                    types::SubQuery::builder()
                        .text(text)
                        .search_options(options)
                        .conversation_option(conversation_option),
                )?)
            }
            other => types::QueryOperand::CombinedQuery(Box::new(other.combined()?)),
        })
    }

    fn combined(self) -> Result<types::CombinedQuery> {
        let list = |qs: Vec<Query>, op: &str| -> Result<Vec<types::QueryOperand>> {
            if qs.len() < 2 {
                return Err(Error::invalid(
                    format!("query.{op}"),
                    "needs at least two operands",
                ));
            }
            qs.into_iter().map(Query::operand).collect()
        };
        let c = types::CombinedQuery::builder();
        let c = match self {
            Self::And(q) => c.and(list(q, "$and")?),
            Self::Or(q) => c.or(list(q, "$or")?),
            Self::Then(q) => c.then(list(q, "$then")?),
            Self::Not(o, s) => c.not(build::<_, types::NotQuery>(
                types::NotQuery::builder()
                    .origin(o.operand()?)
                    .sub(s.operand()?),
            )?),
            Self::Text { .. } => {
                return Err(Error::invalid(
                    "query",
                    "a combined query needs an operator at the top",
                ));
            }
        };
        build(c)
    }
}

/// A page of search results. `Display` prints one result per line (see [`SearchHit`]).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct SearchPage {
    /// Clips, or videos with their clips when grouped by video.
    pub page: TokenPage<SearchHit>,
    /// What was searched (videos and duration of the index).
    pub search_pool: Option<SearchPool>,
}

impl SearchPage {
    fn from(r: SearchResult) -> Self {
        Self {
            page: TokenPage {
                items: r.data.into_iter().map(SearchHit::from).collect(),
                page_info: r.page_info,
            },
            search_pool: r.search_pool,
        }
    }
    /// The results of this page.
    pub fn items(&self) -> &[SearchHit] {
        &self.page.items
    }
    /// Every clip of this page, grouped results flattened.
    pub fn clips(&self) -> impl Iterator<Item = &SearchClip> {
        self.page.items.iter().flat_map(SearchHit::clips)
    }
}

impl std::fmt::Display for SearchPage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, hit) in self.page.items.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{hit}")?;
        }
        Ok(())
    }
}

#[derive(Clone, Debug)]
enum What {
    None,
    Text(String),
    Combined(Query),
    Image(Media),
}

/// A search of one index. From [`Client::search`].
#[derive(Clone, Debug)]
#[must_use = "call .send(), .pages() or .items()"]
pub struct Search<M: Mode = Async> {
    mode: PhantomData<M>,
    client: Client,
    index: IndexId,
    what: What,
    queries: u8,
    combined_endpoint: bool,
    options: Vec<SearchOption>,
    adjust_confidence_level: Option<f64>,
    group_by: Option<GroupBy>,
    threshold: Option<SearchThreshold>,
    sort_option: Option<SearchSortOption>,
    operator: Option<SearchOperator>,
    conversation_option: Option<ConversationOption>,
    filter: serde_json::Map<String, serde_json::Value>,
    page_limit: Option<u64>,
}

impl<M: Mode> Search<M> {
    pub(crate) fn new(client: Client, index: IndexId) -> Self {
        Self {
            mode: PhantomData,
            client,
            index,
            what: What::None,
            queries: 0,
            combined_endpoint: false,
            options: Vec::new(),
            adjust_confidence_level: None,
            group_by: None,
            threshold: None,
            sort_option: None,
            operator: None,
            conversation_option: None,
            filter: serde_json::Map::new(),
            page_limit: None,
        }
    }

    fn what(mut self, w: What) -> Self {
        self.what = w;
        self.queries += 1;
        self
    }
    /// A natural-language query.
    pub fn query(self, text: impl Into<String>) -> Self {
        self.what(What::Text(text.into()))
    }
    /// A combined query (not groupable by video).
    pub fn combined(self, q: Query) -> Self {
        self.what(What::Combined(q))
    }
    /// Send a combined query to `POST /search/combined` (the Python SDK's endpoint) instead of
    /// `POST /search` (the v1.2 reference's). Both take the same query; `/search/combined` has no
    /// `group_by`, `operator` or `sort_option`. Default false.
    pub fn combined_endpoint(mut self, yes: bool) -> Self {
        self.combined_endpoint = yes;
        self
    }
    /// Search by image (a file, bytes or a URL), through `/search-v2`.
    pub fn image(self, m: Media) -> Self {
        self.what(What::Image(m))
    }
    /// The sources of information to search (required; a subset of the index's options).
    pub fn options(mut self, o: impl IntoIterator<Item = SearchOption>) -> Self {
        self.options.extend(o);
        self
    }
    /// Adjusts the confidence level, 0 to 1 (the API's default 0.5).
    pub fn adjust_confidence_level(mut self, v: f64) -> Self {
        self.adjust_confidence_level = Some(v);
        self
    }
    /// Group results by video or by clip.
    pub fn group_by(mut self, g: GroupBy) -> Self {
        self.group_by = Some(g);
        self
    }
    /// The minimum confidence of results.
    pub fn threshold(mut self, t: SearchThreshold) -> Self {
        self.threshold = Some(t);
        self
    }
    /// Result order.
    pub fn sort_option(mut self, s: SearchSortOption) -> Self {
        self.sort_option = Some(s);
        self
    }
    /// How several options combine (`or` / `and`).
    pub fn operator(mut self, o: SearchOperator) -> Self {
        self.operator = Some(o);
        self
    }
    /// How speech is matched (`semantic` / `exact_match`).
    pub fn conversation_option(mut self, c: ConversationOption) -> Self {
        self.conversation_option = Some(c);
        self
    }
    /// A filter: `key` equal to `value`, or a range object `{"gte": x, "lte": y}`; keys `id`,
    /// `duration`, `width`, `height`, `size`, `fps`, `title` or custom metadata.
    pub fn filter(mut self, key: impl Into<String>, value: impl Into<serde_json::Value>) -> Self {
        self.filter.insert(key.into(), value.into());
        self
    }
    /// Results per page, 1 to 50.
    pub fn page_limit(mut self, n: u64) -> Self {
        self.page_limit = Some(n);
        self
    }

    fn check(&self) -> Result<()> {
        self.index.checked("index_id")?;
        if self.options.is_empty() {
            return Err(Error::invalid(
                "search_options",
                "set at least one search option",
            ));
        }
        if let Some(v) = self.adjust_confidence_level
            && !(0.0..=1.0).contains(&v)
        {
            return Err(Error::invalid(
                "adjust_confidence_level",
                "must be between 0 and 1",
            ));
        }
        check_page_limit(self.page_limit)?;
        match (&self.what, self.queries) {
            (_, n) if n > 1 => Err(Error::invalid(
                "query",
                "set only one of query, combined and image",
            )),
            (What::None, _) => Err(Error::invalid(
                "query",
                "set a query, a combined query or an image",
            )),
            (What::Text(t), _) if t.trim().is_empty() => {
                Err(Error::invalid("query", "must not be empty"))
            }
            (What::Combined(_), _) if self.group_by == Some(GroupBy::Video) => Err(Error::invalid(
                "group_by",
                "combined queries cannot be grouped by video",
            )),
            _ => Ok(()),
        }
    }

    async fn first(self) -> Result<(SearchResult, Origin)> {
        self.check()?;
        let filter = (!self.filter.is_empty()).then(|| types::SearchFilter(self.filter.clone()));
        let query = match self.what {
            What::Text(t) => types::SearchQuery::String(t),
            What::Combined(q) if self.combined_endpoint => {
                for (field, set) in [
                    ("group_by", self.group_by.is_some()),
                    ("operator", self.operator.is_some()),
                    ("sort_option", self.sort_option.is_some()),
                ] {
                    if set {
                        return Err(Error::invalid(
                            field,
                            "is not supported by the combined endpoint (`combined_endpoint(true)`)",
                        ));
                    }
                }
                let body: types::CombinedSearchRequest = build(
                    types::CombinedSearchRequest::builder()
                        .index_id(self.index.as_str())
                        .query(q.combined()?)
                        .search_options(self.options)
                        .conversation_option(self.conversation_option)
                        .threshold(self.threshold)
                        .filter(filter)
                        .page_limit(self.page_limit.and_then(std::num::NonZeroU64::new))
                        .adjust_confidence_level(self.adjust_confidence_level),
                )?;
                let raw = self.client.raw();
                let r = self
                    .client
                    .call(raw.combined_search().body(body).send())
                    .await?;
                return Ok((r, Origin::Combined));
            }
            What::Combined(q) => types::SearchQuery::CombinedQuery(q.combined()?),
            What::Image(media) => {
                let mut form = MultipartForm::default();
                form.text("index_id", self.index.as_str());
                form.repeated(
                    "search_options",
                    self.options.iter().map(SearchOption::as_str),
                );
                form.text("query_media_type", "image");
                form.media("query_media_url", "query_media_file", media)
                    .await?;
                if let Some(v) = self.adjust_confidence_level {
                    form.text("adjust_confidence_level", v.to_string());
                }
                for (name, v) in [
                    ("group_by", self.group_by.as_ref().map(ToString::to_string)),
                    (
                        "threshold",
                        self.threshold.as_ref().map(ToString::to_string),
                    ),
                    ("operator", self.operator.as_ref().map(ToString::to_string)),
                    (
                        "conversation_option",
                        self.conversation_option.as_ref().map(ToString::to_string),
                    ),
                    (
                        "sort_option",
                        self.sort_option.as_ref().map(ToString::to_string),
                    ),
                ] {
                    if let Some(v) = v {
                        form.text(name, v);
                    }
                }
                if let Some(f) = &filter {
                    form.text("filter", serde_json::Value::Object(f.0.clone()).to_string());
                }
                if let Some(n) = self.page_limit {
                    form.text("page_limit", n.to_string());
                }
                let r = self
                    .client
                    .send_form(&operations::SEARCH_V2, &[], form, None)
                    .await?;
                return Ok((r, Origin::SearchV2));
            }
            What::None => return Err(Error::invalid("query", "set a query")),
        };
        let body: types::SearchRequest = build(
            types::SearchRequest::builder()
                .query(query)
                .index_id(self.index.as_str())
                .search_options(self.options)
                .adjust_confidence_level(self.adjust_confidence_level)
                .group_by(self.group_by)
                .threshold(self.threshold)
                .sort_option(self.sort_option)
                .operator(self.operator)
                .conversation_option(self.conversation_option)
                .filter(filter)
                .page_limit(self.page_limit.and_then(std::num::NonZeroU64::new)),
        )?;
        let raw = self.client.raw();
        Ok((
            self.client.call(raw.search().body(body).send()).await?,
            Origin::Search,
        ))
    }

    async fn send_impl(self) -> Result<SearchPage> {
        Ok(SearchPage::from(self.first().await?.0))
    }

    fn pages_impl(self) -> BoxStream<'static, Result<SearchPage>> {
        let client = self.client.clone();
        let origin = Arc::new(std::sync::atomic::AtomicU8::new(Origin::Search as u8));
        let origin_first = origin.clone();
        let first = Box::pin(async move {
            let (r, from) = self.first().await?;
            origin_first.store(from as u8, std::sync::atomic::Ordering::Relaxed);
            Ok(SearchPage::from(r))
        });
        let next = Arc::new(move |token: String| {
            let (client, from) = (
                client.clone(),
                Origin::from_u8(origin.load(std::sync::atomic::Ordering::Relaxed)),
            );
            Box::pin(async move { next_page(&client, token, from).await.map(SearchPage::from) })
                as futures::future::BoxFuture<'static, Result<SearchPage>>
        });
        token_stream(first, next, |p: &SearchPage| {
            (
                p.page.items.len(),
                p.page.next_page_token().map(str::to_owned),
            )
        })
    }

    fn items_impl(self) -> BoxStream<'static, Result<SearchHit>> {
        items_of(self.pages_impl(), |p| p.page.items)
    }
}

/// Which request answered the first page: its tokens are followed at that request's page paths.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Origin {
    /// `POST /search`.
    Search = 0,
    /// `POST /search-v2`.
    SearchV2 = 1,
    /// `POST /search/combined`.
    Combined = 2,
}

impl Origin {
    fn from_u8(n: u8) -> Self {
        match n {
            1 => Self::SearchV2,
            2 => Self::Combined,
            _ => Self::Search,
        }
    }
}

/// Fetches the page of a token. The sources document two page paths each for `/search-v2` and
/// `/search/combined` results: the first is tried, then the second when it answers 404 (an expired
/// token is `search_page_token_expired` on either and is returned as is). `/search` results have
/// one path.
pub(crate) async fn next_page(
    client: &Client,
    token: String,
    origin: Origin,
) -> Result<SearchResult> {
    let raw = client.raw();
    let moved = |r: &Result<SearchResult>| {
        matches!(r, Err(e) if e.status().map(|s| s.as_u16()) == Some(404)
            && e.code() != Some(&ErrorCode::SearchPageTokenExpired))
    };
    match origin {
        Origin::Search | Origin::SearchV2 => {
            let first = client
                .call(raw.get_search_page().page_token(token.clone()).send())
                .await;
            if origin == Origin::SearchV2 && moved(&first) {
                return client
                    .call(raw.get_search_v2_page().page_token(token).send())
                    .await;
            }
            first
        }
        Origin::Combined => {
            let first = client
                .call(
                    raw.get_combined_search_page()
                        .page_token(token.clone())
                        .send(),
                )
                .await;
            if moved(&first) {
                return client
                    .call(raw.get_combined_search_page_docs().page_token(token).send())
                    .await;
            }
            first
        }
    }
}

faces! {
    impl[] Search<Async> | Search<crate::blocking::Blocking> {
        /// The first page.
        pub fn send(self) -> SearchPage => send_impl;
        /// Every page, following `next_page_token`.
        pub fn pages(self) -> stream SearchPage => pages_impl;
        /// Every result of every page.
        pub fn items(self) -> stream SearchHit => items_impl;
    }
}
