//! Classification (v1.2 only; deprecated 2025-02-28): a set of videos, or a whole index.
//!
//! ```no_run
//! # async fn demo(tl: twelvelabs::Client) -> twelvelabs::Result<()> {
//! let page = tl.classify().index("666599d4e6fb7df29de0f89c")
//!     .class("BeautyTok", ["Makeup", "Skincare", "Eyeshadow"])
//!     .min_video_score(80.0).min_duration_ratio(0.5).include_clips(true)
//!     .send().await?;
//! for video in &page.items {
//!     println!("{video}"); // 66659a48…  BeautyTok 92.3 (60% of the video), Makeup 81.0
//! }
//! # Ok(()) }
//! ```

use std::sync::Arc;

use futures::stream::BoxStream;

use super::build;
use std::marker::PhantomData;

use crate::Client;
use crate::error::{Error, Result};
use crate::ids::{IndexId, VideoId};
use crate::mode::{Async, Mode, faces};
use crate::model::ClassifiedVideo;
use crate::pagination::{TokenPage, check_page_limit, items_of, token_stream};
use crate::raw::types::{self, ClassifyOption, ClassifyResult, ConversationOption};

/// The most prompts one request may carry, across all classes.
pub const MAX_PROMPTS: usize = 100;

/// Classification. From [`Client::classify`].
#[derive(Clone, Debug)]
pub struct Classify<M: Mode = Async> {
    mode: PhantomData<M>,
    client: Client,
}

impl<M: Mode> Classify<M> {
    pub(crate) fn new(client: Client) -> Self {
        Self {
            client,
            mode: PhantomData,
        }
    }
    /// Classifies every video of `index` (`POST /classify/bulk`).
    pub fn index(&self, index: impl Into<IndexId>) -> ClassifyRequest<M> {
        ClassifyRequest::new(self.client.clone(), Target::Index(index.into()))
    }
    /// Classifies these videos (`POST /classify`).
    pub fn videos<V: Into<VideoId>>(
        &self,
        videos: impl IntoIterator<Item = V>,
    ) -> ClassifyRequest<M> {
        ClassifyRequest::new(
            self.client.clone(),
            Target::Videos(videos.into_iter().map(Into::into).collect()),
        )
    }
}

#[derive(Clone, Debug)]
enum Target {
    Index(IndexId),
    Videos(Vec<VideoId>),
}

/// A class: a name and the prompts that define it, for [`ClassifyRequest::class_with`].
#[derive(Clone, Debug, PartialEq)]
pub struct Class {
    name: String,
    prompts: Vec<String>,
    options: Vec<ClassifyOption>,
    conversation_option: Option<ConversationOption>,
}

impl Class {
    /// A class named `name` defined by `prompts`.
    pub fn new<P: Into<String>>(
        name: impl Into<String>,
        prompts: impl IntoIterator<Item = P>,
    ) -> Self {
        Self {
            name: name.into(),
            prompts: prompts.into_iter().map(Into::into).collect(),
            options: Vec::new(),
            conversation_option: None,
        }
    }
    /// Options for this class only.
    pub fn options(mut self, o: impl IntoIterator<Item = ClassifyOption>) -> Self {
        self.options.extend(o);
        self
    }
    /// How speech is matched for this class.
    pub fn conversation_option(mut self, c: ConversationOption) -> Self {
        self.conversation_option = Some(c);
        self
    }
}

/// A classification request. From [`Classify::index`] or [`Classify::videos`].
#[derive(Clone, Debug)]
#[must_use = "call .send(), .pages() or .items()"]
pub struct ClassifyRequest<M: Mode = Async> {
    mode: PhantomData<M>,
    client: Client,
    target: Target,
    classes: Vec<Class>,
    options: Vec<ClassifyOption>,
    conversation_option: Option<ConversationOption>,
    include_clips: Option<bool>,
    show_detailed_score: Option<bool>,
    min_video_score: Option<f64>,
    min_clip_score: Option<f64>,
    min_duration_ratio: Option<f64>,
    page_limit: Option<u64>,
}

impl<M: Mode> ClassifyRequest<M> {
    fn new(client: Client, target: Target) -> Self {
        Self {
            mode: PhantomData,
            client,
            target,
            classes: Vec::new(),
            options: Vec::new(),
            conversation_option: None,
            include_clips: None,
            show_detailed_score: None,
            min_video_score: None,
            min_clip_score: None,
            min_duration_ratio: None,
            page_limit: None,
        }
    }
    /// Adds a class defined by prompts.
    pub fn class<P: Into<String>>(
        mut self,
        name: impl Into<String>,
        prompts: impl IntoIterator<Item = P>,
    ) -> Self {
        self.classes.push(Class::new(name, prompts));
        self
    }
    /// Adds a class built with [`Class`].
    pub fn class_with(mut self, class: Class) -> Self {
        self.classes.push(class);
        self
    }
    /// The sources of information to use. Default, as in the Twelve Labs tour: visual,
    /// conversation and text in video.
    pub fn options(mut self, o: impl IntoIterator<Item = ClassifyOption>) -> Self {
        self.options.extend(o);
        self
    }
    /// How speech is matched.
    pub fn conversation_option(mut self, c: ConversationOption) -> Self {
        self.conversation_option = Some(c);
        self
    }
    /// Also return the matching clips.
    pub fn include_clips(mut self, yes: bool) -> Self {
        self.include_clips = Some(yes);
        self
    }
    /// Also return max / average / normalized scores.
    pub fn show_detailed_score(mut self, yes: bool) -> Self {
        self.show_detailed_score = Some(yes);
        self
    }
    /// Minimum video score, 0 to 100 (the API's default 75).
    pub fn min_video_score(mut self, v: f64) -> Self {
        self.min_video_score = Some(v);
        self
    }
    /// Minimum clip score, 0 to 100 (the API's default 65).
    pub fn min_clip_score(mut self, v: f64) -> Self {
        self.min_clip_score = Some(v);
        self
    }
    /// Minimum share of the video matching, 0.01 to 1 (the API's default 0.5).
    pub fn min_duration_ratio(mut self, v: f64) -> Self {
        self.min_duration_ratio = Some(v);
        self
    }
    /// Videos per page, 1 to 50.
    pub fn page_limit(mut self, n: u64) -> Self {
        self.page_limit = Some(n);
        self
    }

    fn body_parts(
        &self,
    ) -> Result<(
        Vec<ClassifyOption>,
        Vec<types::ClassClause>,
        Option<types::ClassifyThreshold>,
    )> {
        if self.classes.is_empty() {
            return Err(Error::invalid("classes", "add at least one class"));
        }
        let mut total = 0;
        let mut classes = Vec::new();
        for c in &self.classes {
            if c.name.trim().is_empty() {
                return Err(Error::invalid("classes.name", "must not be empty"));
            }
            if c.prompts.is_empty() || c.prompts.iter().any(|p| p.trim().is_empty()) {
                return Err(Error::invalid(
                    "classes.prompts",
                    format!("class {} needs non-empty prompts", c.name),
                ));
            }
            total += c.prompts.len();
            classes.push(build(
                types::ClassClause::builder()
                    .name(c.name.clone())
                    .prompts(c.prompts.clone())
                    .options(c.options.clone())
                    .conversation_option(c.conversation_option.clone()),
            )?);
        }
        if total > MAX_PROMPTS {
            return Err(Error::invalid(
                "classes.prompts",
                format!("{total} prompts; at most {MAX_PROMPTS} per request"),
            ));
        }
        check_page_limit(self.page_limit)?;
        for (field, v, lo, hi) in [
            (
                "threshold.min_video_score",
                self.min_video_score,
                0.0,
                100.0,
            ),
            ("threshold.min_clip_score", self.min_clip_score, 0.0, 100.0),
            (
                "threshold.min_duration_ratio",
                self.min_duration_ratio,
                0.01,
                1.0,
            ),
        ] {
            if let Some(v) = v
                && !(lo..=hi).contains(&v)
            {
                return Err(Error::invalid(
                    field,
                    format!("must be between {lo} and {hi}"),
                ));
            }
        }
        let threshold = (self.min_video_score.is_some()
            || self.min_clip_score.is_some()
            || self.min_duration_ratio.is_some())
        .then(|| {
            build(
                types::ClassifyThreshold::builder()
                    .min_video_score(self.min_video_score)
                    .min_clip_score(self.min_clip_score)
                    .min_duration_ratio(self.min_duration_ratio),
            )
        })
        .transpose()?;
        let options = if self.options.is_empty() {
            vec![
                ClassifyOption::Visual,
                ClassifyOption::Conversation,
                ClassifyOption::TextInVideo,
            ]
        } else {
            self.options.clone()
        };
        Ok((options, classes, threshold))
    }

    async fn first(self) -> Result<ClassifyResult> {
        let (options, classes, threshold) = self.body_parts()?;
        let raw = self.client.raw();
        // The two requests differ only in what they classify.
        macro_rules! body {
            ($builder:expr) => {
                build(
                    $builder
                        .options(options)
                        .classes(classes)
                        .conversation_option(self.conversation_option.clone())
                        .include_clips(self.include_clips)
                        .show_detailed_score(self.show_detailed_score)
                        .threshold(threshold)
                        .page_limit(self.page_limit.and_then(std::num::NonZeroU64::new)),
                )?
            };
        }
        match &self.target {
            Target::Index(index) => {
                let b = types::ClassifyIndexRequest::builder().index_id(index.checked("index_id")?);
                let body: types::ClassifyIndexRequest = body!(b);
                self.client
                    .call(raw.classify_index().body(body).send())
                    .await
            }
            Target::Videos(videos) => {
                if videos.is_empty() {
                    return Err(Error::invalid("video_ids", "add at least one video"));
                }
                let video_ids = videos
                    .iter()
                    .map(|v| v.checked("video_ids").map(str::to_owned))
                    .collect::<Result<Vec<_>>>()?;
                let body: types::ClassifyVideosRequest =
                    body!(types::ClassifyVideosRequest::builder().video_ids(video_ids));
                self.client
                    .call(raw.classify_videos().body(body).send())
                    .await
            }
        }
    }

    async fn send_impl(self) -> Result<TokenPage<ClassifiedVideo>> {
        let r = self.first().await?;
        Ok(TokenPage {
            items: r.data.into_iter().map(ClassifiedVideo::from).collect(),
            page_info: r.page_info,
        })
    }

    fn pages_impl(self) -> BoxStream<'static, Result<TokenPage<ClassifiedVideo>>> {
        let client = self.client.clone();
        let first = Box::pin(async move { self.send_impl().await });
        let next = Arc::new(move |token: String| {
            let client = client.clone();
            Box::pin(async move {
                let raw = client.raw();
                let r = client
                    .call(raw.get_classify_page().page_token(token).send())
                    .await?;
                Ok(TokenPage {
                    items: r.data.into_iter().map(ClassifiedVideo::from).collect(),
                    page_info: r.page_info,
                })
            })
                as futures::future::BoxFuture<'static, Result<TokenPage<ClassifiedVideo>>>
        });
        token_stream(first, next, |p: &TokenPage<ClassifiedVideo>| {
            (p.items.len(), p.next_page_token().map(str::to_owned))
        })
    }

    fn items_impl(self) -> BoxStream<'static, Result<ClassifiedVideo>> {
        items_of(self.pages_impl(), |p| p.items)
    }
}

faces! {
    impl[] ClassifyRequest<Async> | ClassifyRequest<crate::blocking::Blocking> {
        /// The first page of classified videos.
        pub fn send(self) -> TokenPage<ClassifiedVideo> => send_impl;
        /// Every page, following `next_page_token` (`GET /classify/{token}`).
        pub fn pages(self) -> stream TokenPage<ClassifiedVideo> => pages_impl;
        /// Every classified video of every page.
        pub fn items(self) -> stream ClassifiedVideo => items_impl;
    }
}
