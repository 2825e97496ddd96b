//! Embeddings (Marengo-retrieval-2.6): text, image and audio at once; videos as tasks.
//!
//! ```no_run
//! # async fn demo(tl: twelvelabs::Client) -> twelvelabs::Result<()> {
//! use twelvelabs::upload::Media;
//! let e = tl.embed().text("a guy with a red mask").send().await?;
//! let vector = e.text_embedding.unwrap().segments[0].vector().to_vec();
//! // Several modalities in one request:
//! let both = tl.embed().text("a red mask").image(Media::url("https://example.com/mask.png")).send().await?;
//! let task = tl.embed().tasks().create(Media::path("clip.mp4")).clip_length(6).send().await?;
//! let done = tl.embed().tasks().wait(&task).await?;
//! # let _ = (vector, both, done); Ok(()) }
//! ```

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::{ListCommon, fetch_page, page_number_list, raw_list, rfc3339};
use std::marker::PhantomData;

use crate::Client;
use crate::error::{Error, Result};
use crate::ids::EmbedTaskId;
use crate::mode::{Async, Mode, faces};
use crate::pagination::Page;
use crate::raw::operations;
use crate::raw::types::{
    EmbedResponse, EmbedTask, EmbedTaskStatus, EmbedTaskStatusResponse, EmbeddingScope,
    EmbeddingSegment, TextTruncate,
};
use crate::upload::{Media, MultipartForm, Progress};
use crate::wait::Wait;

raw_list!(ListEmbedTasks, EmbedTask);

/// The embedding engine of v1.2.
pub const DEFAULT_ENGINE: &str = "Marengo-retrieval-2.6";

/// Embeddings. From [`Client::embed`].
#[derive(Clone, Debug)]
pub struct Embed<M: Mode = Async> {
    mode: PhantomData<M>,
    client: Client,
}

impl<M: Mode> Embed<M> {
    pub(crate) fn new(client: Client) -> Self {
        Self {
            client,
            mode: PhantomData,
        }
    }

    fn create(&self) -> CreateEmbedding<M> {
        CreateEmbedding {
            mode: PhantomData,
            client: self.client.clone(),
            engine: DEFAULT_ENGINE.into(),
            text: None,
            image: None,
            audio: None,
            text_truncate: None,
            audio_start_offset: None,
        }
    }

    /// Embeds a text (at most 77 tokens). Add an image or audio to the same request with
    /// [`CreateEmbedding::image`] / [`CreateEmbedding::audio`].
    pub fn text(&self, text: impl Into<String>) -> CreateEmbedding<M> {
        self.create().text(text)
    }
    /// Embeds an image (file, bytes or URL).
    pub fn image(&self, image: Media) -> CreateEmbedding<M> {
        self.create().image(image)
    }
    /// Embeds an audio clip (file, bytes or URL).
    pub fn audio(&self, audio: Media) -> CreateEmbedding<M> {
        self.create().audio(audio)
    }

    /// Video embedding tasks: create, list, get, wait (as [`Client::tasks`] is for indexing).
    pub fn tasks(&self) -> EmbedTasks<M> {
        EmbedTasks {
            mode: PhantomData,
            client: self.client.clone(),
        }
    }
}

/// Video embedding tasks. From [`Embed::tasks`].
#[derive(Clone, Debug)]
pub struct EmbedTasks<M: Mode = Async> {
    mode: PhantomData<M>,
    client: Client,
}

impl<M: Mode> EmbedTasks<M> {
    /// Starts a video embedding task: set options, then `.send()`.
    pub fn create(&self, video: Media) -> CreateEmbedTask<M> {
        CreateEmbedTask {
            mode: PhantomData,
            client: self.client.clone(),
            engine: DEFAULT_ENGINE.into(),
            video,
            start: None,
            end: None,
            clip_length: None,
            scopes: Vec::new(),
            progress: None,
        }
    }

    /// Lists video embedding tasks (the last 7 days unless a window is set).
    pub fn list(&self) -> ListEmbedTasks<M> {
        ListEmbedTasks {
            mode: PhantomData,
            client: self.client.clone(),
            common: ListCommon::default(),
            started_at: None,
            ended_at: None,
            status: None,
        }
    }

    async fn get_impl(&self, id: impl Into<EmbedTaskId>) -> Result<EmbedTask> {
        let id = id.into();
        let raw = self.client.raw();
        self.client
            .call(raw.get_embed_task().task_id(id.checked("task_id")?).send())
            .await
    }

    async fn status_impl(&self, id: impl Into<EmbedTaskId>) -> Result<EmbedTaskStatusResponse> {
        let id = id.into();
        let raw = self.client.raw();
        self.client
            .call(
                raw.get_embed_task_status()
                    .task_id(id.checked("task_id")?)
                    .send(),
            )
            .await
    }

    /// Waits until the task is `ready` (then fetch the embeddings with [`EmbedTasks::get`]).
    pub fn wait(&self, id: impl Into<EmbedTaskId>) -> Wait<EmbedTaskStatusResponse, M> {
        let (tasks, id) = (self.clone(), id.into());
        Wait::new(
            self.client.clone(),
            Arc::new(move || {
                let (tasks, id) = (tasks.clone(), id.clone());
                Box::pin(async move { tasks.status_impl(id).await })
            }),
        )
        .max_wait(std::time::Duration::from_secs(3600))
    }
}

/// An embedding request: a text, an image and an audio clip, any of them, in one call; each comes
/// back in its own field of the answer. From [`Embed::text`], [`Embed::image`], [`Embed::audio`].
#[derive(Clone, Debug)]
#[must_use = "call .send()"]
pub struct CreateEmbedding<M: Mode = Async> {
    mode: PhantomData<M>,
    client: Client,
    engine: String,
    text: Option<String>,
    image: Option<Media>,
    audio: Option<Media>,
    text_truncate: Option<TextTruncate>,
    audio_start_offset: Option<f64>,
}

impl<M: Mode> CreateEmbedding<M> {
    /// Also (or instead) embeds this text, at most 77 tokens.
    pub fn text(mut self, text: impl Into<String>) -> Self {
        self.text = Some(text.into());
        self
    }
    /// Also (or instead) embeds this image (file, bytes or URL).
    pub fn image(mut self, image: Media) -> Self {
        self.image = Some(image);
        self
    }
    /// Also (or instead) embeds this audio clip (file, bytes or URL).
    pub fn audio(mut self, audio: Media) -> Self {
        self.audio = Some(audio);
        self
    }
    /// Another engine than `Marengo-retrieval-2.6`.
    pub fn engine(mut self, name: impl Into<String>) -> Self {
        self.engine = name.into();
        self
    }
    /// How text longer than 77 tokens is cut (`none` makes it an error).
    pub fn text_truncate(mut self, t: TextTruncate) -> Self {
        self.text_truncate = Some(t);
        self
    }
    /// Where in the audio to start, in seconds.
    pub fn audio_start_offset(mut self, secs: f64) -> Self {
        self.audio_start_offset = Some(secs);
        self
    }
    async fn send_impl(self) -> Result<EmbedResponse> {
        if self.engine.trim().is_empty() {
            return Err(Error::invalid("engine_name", "must not be empty"));
        }
        if let Some(t) = &self.text
            && t.trim().is_empty()
        {
            return Err(Error::invalid("text", "must not be empty"));
        }
        if let Some(o) = self.audio_start_offset
            && !(o.is_finite() && o >= 0.0)
        {
            return Err(Error::invalid(
                "audio_start_offset_sec",
                "must be a non-negative number",
            ));
        }
        let mut form = MultipartForm::default();
        form.text("engine_name", self.engine);
        if let Some(t) = self.text {
            form.text("text", t);
            if let Some(tt) = self.text_truncate {
                form.text("text_truncate", tt.to_string());
            }
        }
        if let Some(m) = self.image {
            form.media("image_url", "image_file", m).await?;
        }
        if let Some(m) = self.audio {
            form.media("audio_url", "audio_file", m).await?;
            if let Some(o) = self.audio_start_offset {
                form.text("audio_start_offset_sec", o.to_string());
            }
        }
        self.client
            .send_form(&operations::CREATE_EMBEDDING, &[], form, None)
            .await
    }
}

/// A video embedding task to create. From [`EmbedTasks::create`].
#[derive(Clone)]
#[must_use = "call .send()"]
pub struct CreateEmbedTask<M: Mode = Async> {
    mode: PhantomData<M>,
    client: Client,
    engine: String,
    video: Media,
    start: Option<f64>,
    end: Option<f64>,
    clip_length: Option<u32>,
    scopes: Vec<EmbeddingScope>,
    progress: Option<Progress>,
}

impl std::fmt::Debug for CreateEmbedTask {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreateEmbedTask")
            .field("engine", &self.engine)
            .field("video", &self.video)
            .field("start", &self.start)
            .field("end", &self.end)
            .field("clip_length", &self.clip_length)
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

impl<M: Mode> CreateEmbedTask<M> {
    /// Another engine than `Marengo-retrieval-2.6`.
    pub fn engine(mut self, name: impl Into<String>) -> Self {
        self.engine = name.into();
        self
    }
    /// Embed only from `start` to `end` seconds (set both).
    pub fn range(mut self, start: f64, end: f64) -> Self {
        self.start = Some(start);
        self.end = Some(end);
        self
    }
    /// Clip length in seconds, 2 to 10 (the API's default 6).
    pub fn clip_length(mut self, secs: u32) -> Self {
        self.clip_length = Some(secs);
        self
    }
    /// `clip` (default) and/or `video`.
    pub fn scopes(mut self, s: impl IntoIterator<Item = EmbeddingScope>) -> Self {
        self.scopes.extend(s);
        self
    }
    /// Upload progress `(bytes sent, total)`.
    pub fn on_progress(mut self, f: impl Fn(u64, u64) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(f));
        self
    }
    async fn send_impl(self) -> Result<EmbedTaskId> {
        if let Some(c) = self.clip_length
            && !(2..=10).contains(&c)
        {
            return Err(Error::invalid(
                "video_clip_length",
                "must be between 2 and 10 seconds",
            ));
        }
        if let (Some(s), Some(e)) = (self.start, self.end) {
            if !(s.is_finite() && s >= 0.0) {
                return Err(Error::invalid(
                    "video_start_offset_sec",
                    "must be a non-negative number",
                ));
            }
            if !(e.is_finite() && e > s) {
                return Err(Error::invalid(
                    "video_end_offset_sec",
                    "must be after the start offset",
                ));
            }
        }
        let mut form = MultipartForm::default();
        form.text("engine_name", self.engine);
        form.media("video_url", "video_file", self.video).await?;
        if let (Some(s), Some(e)) = (self.start, self.end) {
            form.text("video_start_offset_sec", s.to_string());
            form.text("video_end_offset_sec", e.to_string());
        }
        if let Some(c) = self.clip_length {
            form.text("video_clip_length", c.to_string());
        }
        form.repeated(
            "video_embedding_scope",
            self.scopes.iter().map(EmbeddingScope::as_str),
        );
        let created: crate::raw::types::CreatedResponse = self
            .client
            .send_form(&operations::CREATE_EMBED_TASK, &[], form, self.progress)
            .await?;
        Ok(EmbedTaskId::new(created.id))
    }
}

/// Lists video embedding tasks. From [`EmbedTasks::list`].
#[derive(Clone, Debug)]
#[must_use = "call .send(), .pages() or .items()"]
pub struct ListEmbedTasks<M: Mode = Async> {
    mode: PhantomData<M>,
    client: Client,
    common: ListCommon,
    started_at: Option<DateTime<Utc>>,
    ended_at: Option<DateTime<Utc>>,
    status: Option<EmbedTaskStatus>,
}

page_number_list!(ListEmbedTasks, EmbedTask);

impl<M: Mode> ListEmbedTasks<M> {
    /// The start of the window.
    pub fn started_at(mut self, t: DateTime<Utc>) -> Self {
        self.started_at = Some(t);
        self
    }
    /// The end of the window.
    pub fn ended_at(mut self, t: DateTime<Utc>) -> Self {
        self.ended_at = Some(t);
        self
    }
    /// Only tasks with this status.
    pub fn status(mut self, s: EmbedTaskStatus) -> Self {
        self.status = Some(s);
        self
    }
    fn check_own(&self) -> Result<()> {
        if let (Some(s), Some(e)) = (self.started_at, self.ended_at)
            && s > e
        {
            return Err(Error::invalid("ended_at", "must not be before started_at"));
        }
        Ok(())
    }
    async fn fetch(self, page: u64) -> Result<Page<EmbedTask>> {
        let raw = self.client.raw();
        let mut b = raw.list_embed_tasks();
        if let Some(s) = &self.started_at {
            b = b.started_at(rfc3339(s));
        }
        if let Some(e) = &self.ended_at {
            b = b.ended_at(rfc3339(e));
        }
        if let Some(s) = self.status.clone() {
            b = b.status(s);
        }
        fetch_page(&self.common, b, page).await
    }
}

impl EmbeddingSegment {
    /// The vector of this segment: `float`, or `embedding.float` in the older shape of the answer.
    pub fn vector(&self) -> &[f64] {
        match &self.embedding {
            Some(nested) if self.float.is_empty() => &nested.float,
            _ => &self.float,
        }
    }
}

faces! {
    impl[] EmbedTasks<Async> | EmbedTasks<crate::blocking::Blocking> {
        /// A video embedding task with its embeddings.
        pub fn get(&self, id: impl Into<EmbedTaskId>) -> EmbedTask => get_impl;
        /// The status of a video embedding task.
        pub fn status(&self, id: impl Into<EmbedTaskId>) -> EmbedTaskStatusResponse => status_impl;
    }
}

faces! {
    impl[] CreateEmbedding<Async> | CreateEmbedding<crate::blocking::Blocking> {
        /// Embeds.
        pub fn send(self) -> EmbedResponse => send_impl;
    }
}

faces! {
    impl[] CreateEmbedTask<Async> | CreateEmbedTask<crate::blocking::Blocking> {
        /// Starts the task.
        pub fn send(self) -> EmbedTaskId => send_impl;
    }
}
