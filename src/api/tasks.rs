//! Video indexing tasks: upload (file, bytes, reader, URL), YouTube, transfers, cloud imports,
//! list, get, delete, status counts, and waiting.
//!
//! ```no_run
//! # async fn demo(tl: twelvelabs::Client) -> twelvelabs::Result<()> {
//! let index = twelvelabs::IndexId::from("666599d4e6fb7df29de0f89c");
//! let task = tl.tasks().create(&index)
//!     .video_file("clip.mp4")
//!     .on_progress(|sent, total| eprintln!("{sent}/{total} bytes"))
//!     .send().await?;
//! let ready = tl.tasks().wait(&task.id).await?;
//! println!("video {}", ready.video_id());
//! # Ok(()) }
//! ```

use std::path::Path;
use std::sync::Arc;

use super::{
    Filter, ListCommon, build, fetch_dated_page, filter_setter, page_number_list, raw_list,
};
use std::marker::PhantomData;

use crate::Client;
use crate::error::{Error, Result};
use crate::ids::{IndexId, IntegrationId, TaskId, VideoId};
use crate::mode::{Async, Mode, faces};
pub use crate::model::CreatedTask;
use crate::model::Task;
use crate::pagination::Page;
use crate::raw::operations;
use crate::raw::types::{self, ImportLog, ImportResult, ImportStatus, TaskStatusCounts};
use crate::upload::{Media, MultipartForm, Progress};
use crate::wait::Wait;

raw_list!(ListTasks, Task, dated);

/// Video indexing tasks. From [`Client::tasks`].
#[derive(Clone, Debug)]
pub struct Tasks<M: Mode = Async> {
    mode: PhantomData<M>,
    client: Client,
}

impl<M: Mode> Tasks<M> {
    pub(crate) fn new(client: Client) -> Self {
        Self {
            client,
            mode: PhantomData,
        }
    }

    /// Starts an upload into `index`: set exactly one video source, then `.send()`.
    pub fn create(&self, index: impl Into<IndexId>) -> CreateTask<M> {
        CreateTask {
            mode: PhantomData,
            client: self.client.clone(),
            index: index.into(),
            video: None,
            sources: 0,
            transcription: None,
            language: None,
            disable_video_stream: None,
            progress: None,
        }
    }

    async fn create_from_youtube_impl(
        &self,
        index: impl Into<IndexId>,
        url: impl Into<String>,
    ) -> Result<CreatedTask> {
        let (index, url) = (index.into(), url.into());
        check_youtube_url(&url)?;
        let body: types::CreateExternalProviderTaskRequest = build(
            types::CreateExternalProviderTaskRequest::builder()
                .index_id(index.checked("index_id")?)
                .url(url),
        )?;
        let raw = self.client.raw();
        let created = self
            .client
            .call(raw.create_external_provider_task().body(body).send())
            .await?;
        Ok(CreatedTask {
            id: TaskId::new(created.id),
            video_id: created.video_id.map(VideoId::new),
        })
    }

    async fn get_impl(&self, id: impl Into<TaskId>) -> Result<Task> {
        let id = id.into();
        let raw = self.client.raw();
        self.client
            .call(raw.get_task().task_id(id.checked("task_id")?).send())
            .await
            .map(Task::from)
    }

    async fn delete_impl(&self, id: impl Into<TaskId>) -> Result<()> {
        let id = id.into();
        let raw = self.client.raw();
        self.client
            .call(raw.delete_task().task_id(id.checked("task_id")?).send())
            .await
    }

    /// Lists tasks (newest first by default).
    pub fn list(&self) -> ListTasks<M> {
        ListTasks {
            mode: PhantomData,
            client: self.client.clone(),
            common: ListCommon::default(),
            index: None,
            filename: None,
            duration: None,
            width: None,
            height: None,
        }
    }

    async fn status_counts_impl(&self, index: impl Into<IndexId>) -> Result<TaskStatusCounts> {
        let index = index.into();
        let raw = self.client.raw();
        self.client
            .call(
                raw.get_task_status()
                    .index_id(index.checked("index_id")?)
                    .send(),
            )
            .await
    }

    /// Waits until the task is `ready` (see [`Wait`] for the options). A `failed` task is
    /// [`Error::TaskFailed`]; the deadline is [`Error::WaitTimeout`].
    pub fn wait(&self, id: impl Into<TaskId>) -> Wait<Task, M> {
        let (tasks, id) = (self.clone(), id.into());
        Wait::new(
            self.client.clone(),
            Arc::new(move || {
                let (tasks, id) = (tasks.clone(), id.clone());
                Box::pin(async move { tasks.get_impl(id).await })
            }),
        )
    }

    async fn transfer_impl(&self, file: impl AsRef<Path>) -> Result<()> {
        let mut form = MultipartForm::default();
        form.media("file", "file", Media::path(file)).await?;
        self.client
            .post_form(&operations::CREATE_TRANSFER, &[], &form, None)
            .await?;
        Ok(())
    }

    /// Starts a cloud import from an integration into `index`.
    pub fn import(
        &self,
        integration: impl Into<IntegrationId>,
        index: impl Into<IndexId>,
    ) -> ImportVideos<M> {
        ImportVideos {
            mode: PhantomData,
            client: self.client.clone(),
            integration: integration.into(),
            index: index.into(),
            incremental: None,
            retry_failed: None,
            user_metadata: serde_json::Map::new(),
        }
    }

    async fn import_status_impl(
        &self,
        integration: impl Into<IntegrationId>,
        index: impl Into<IndexId>,
    ) -> Result<ImportStatus> {
        let (integration, index) = (integration.into(), index.into());
        let raw = self.client.raw();
        let b = raw
            .get_import_status()
            .integration_id(integration.checked("integration_id")?)
            .index_id(index.checked("index_id")?);
        self.client.call(b.send()).await
    }

    async fn import_logs_impl(
        &self,
        integration: impl Into<IntegrationId>,
    ) -> Result<Vec<ImportLog>> {
        let integration = integration.into();
        let raw = self.client.raw();
        let b = raw
            .get_import_logs()
            .integration_id(integration.checked("integration_id")?);
        Ok(self.client.call(b.send()).await?.data)
    }
}

/// Uploads a video to index. From [`Tasks::create`].
#[derive(Clone)]
#[must_use = "call .send()"]
pub struct CreateTask<M: Mode = Async> {
    mode: PhantomData<M>,
    client: Client,
    index: IndexId,
    video: Option<Media>,
    sources: u8,
    transcription: Option<Media>,
    language: Option<String>,
    disable_video_stream: Option<bool>,
    progress: Option<Progress>,
}

impl std::fmt::Debug for CreateTask {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreateTask")
            .field("index", &self.index)
            .field("video", &self.video)
            .field("transcription", &self.transcription)
            .field("language", &self.language)
            .field("disable_video_stream", &self.disable_video_stream)
            .finish_non_exhaustive()
    }
}

impl<M: Mode> CreateTask<M> {
    fn source(mut self, m: Media) -> Self {
        self.video = Some(m);
        self.sources += 1;
        self
    }
    /// A local video file (streamed; ≤ 2 GB; re-opened for each retry).
    pub fn video_file(self, path: impl AsRef<Path>) -> Self {
        self.source(Media::path(path))
    }
    /// A video in memory.
    pub fn video_bytes(self, data: impl Into<bytes::Bytes>, filename: impl Into<String>) -> Self {
        self.source(Media::bytes(data, filename))
    }
    /// A video from a reader of known length (sent once; not retried).
    pub fn video_reader(
        self,
        reader: impl tokio::io::AsyncRead + Send + Sync + 'static,
        len: u64,
        filename: impl Into<String>,
    ) -> Self {
        self.source(Media::reader(reader, len, filename))
    }
    /// A publicly reachable raw video file (not a web player page).
    pub fn video_url(self, url: impl Into<String>) -> Self {
        self.source(Media::url(url))
    }
    /// A transcription (SRT or VTT) file or URL; sets `provide_transcription`.
    pub fn transcription(mut self, m: Media) -> Self {
        self.transcription = Some(m);
        self
    }
    /// The language of the video, e.g. `en`.
    pub fn language(mut self, lang: impl Into<String>) -> Self {
        self.language = Some(lang.into());
        self
    }
    /// Do not keep an HLS stream of the video.
    pub fn disable_video_stream(mut self, yes: bool) -> Self {
        self.disable_video_stream = Some(yes);
        self
    }
    /// Called as the video goes out with `(bytes sent, total bytes)`; reaches the total at the end.
    pub fn on_progress(mut self, f: impl Fn(u64, u64) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(f));
        self
    }

    async fn send_impl(self) -> Result<CreatedTask> {
        let index = self.index.checked("index_id")?.to_owned();
        if self.sources > 1 {
            return Err(Error::invalid(
                "video_file",
                "set only one of video_file, video_bytes, video_reader and video_url",
            ));
        }
        let Some(video) = self.video else {
            return Err(Error::invalid(
                "video_file",
                "set a video: video_file, video_bytes, video_reader or video_url",
            ));
        };
        let mut form = MultipartForm::default();
        form.text("index_id", index);
        form.media("video_url", "video_file", video).await?;
        if let Some(t) = self.transcription {
            form.media("transcription_url", "transcription_file", t)
                .await?;
            form.flag("provide_transcription", true);
        }
        if let Some(lang) = self.language {
            form.text("language", lang);
        }
        if let Some(d) = self.disable_video_stream {
            form.flag("disable_video_stream", d);
        }
        let created: types::CreatedResponse = self
            .client
            .send_form(&operations::CREATE_TASK, &[], form, self.progress)
            .await?;
        Ok(CreatedTask {
            id: TaskId::new(created.id),
            video_id: created.video_id.map(VideoId::new),
        })
    }
}

/// Starts a cloud import. From [`Tasks::import`].
#[derive(Clone, Debug)]
#[must_use = "call .send()"]
pub struct ImportVideos<M: Mode = Async> {
    mode: PhantomData<M>,
    client: Client,
    integration: IntegrationId,
    index: IndexId,
    incremental: Option<bool>,
    retry_failed: Option<bool>,
    user_metadata: serde_json::Map<String, serde_json::Value>,
}

impl<M: Mode> ImportVideos<M> {
    /// Only import files not imported before.
    pub fn incremental(mut self, yes: bool) -> Self {
        self.incremental = Some(yes);
        self
    }
    /// Retry files that failed before.
    pub fn retry_failed(mut self, yes: bool) -> Self {
        self.retry_failed = Some(yes);
        self
    }
    /// Metadata added to every imported video.
    pub fn user_metadata(
        mut self,
        key: impl Into<String>,
        value: impl Into<serde_json::Value>,
    ) -> Self {
        self.user_metadata.insert(key.into(), value.into());
        self
    }
    async fn send_impl(self) -> Result<ImportResult> {
        let body: types::ImportFromIntegrationRequest = build(
            types::ImportFromIntegrationRequest::builder()
                .index_id(self.index.checked("index_id")?)
                .incremental_import(self.incremental)
                .retry_failed(self.retry_failed)
                .user_metadata(self.user_metadata),
        )?;
        let raw = self.client.raw();
        let b = raw
            .import_from_integration()
            .integration_id(self.integration.checked("integration_id")?)
            .body(body);
        self.client.call(b.send()).await
    }
}

fn is_range<T>(f: &Option<Filter<T>>) -> bool {
    f.as_ref()
        .is_some_and(|f| f.gte.is_some() || f.lte.is_some())
}

/// Lists tasks. From [`Tasks::list`].
#[derive(Clone, Debug)]
#[must_use = "call .send(), .pages() or .items()"]
pub struct ListTasks<M: Mode = Async> {
    mode: PhantomData<M>,
    client: Client,
    common: ListCommon,
    index: Option<IndexId>,
    filename: Option<String>,
    duration: Option<Filter<f64>>,
    width: Option<Filter<i64>>,
    height: Option<Filter<i64>>,
}

page_number_list!(ListTasks, Task, dated);

impl<M: Mode> ListTasks<M> {
    /// Only the tasks of this index.
    pub fn index(mut self, index: impl Into<IndexId>) -> Self {
        self.index = Some(index.into());
        self
    }
    /// Only tasks for this file name.
    pub fn filename(mut self, name: impl Into<String>) -> Self {
        self.filename = Some(name.into());
        self
    }
    filter_setter!(
        duration,
        f64,
        "Only tasks of videos of exactly this duration in seconds (tasks take no range here)."
    );
    filter_setter!(
        width,
        i64,
        "Only tasks of videos exactly this wide (tasks take no range here)."
    );
    filter_setter!(
        height,
        i64,
        "Only tasks of videos exactly this high (tasks take no range here)."
    );

    fn check_own(&self) -> Result<()> {
        if let Some(i) = &self.index {
            i.checked("index_id")?;
        }
        // No source documents a range on these fields for tasks (only for videos).
        for (n, ranged) in [
            ("duration", is_range(&self.duration)),
            ("width", is_range(&self.width)),
            ("height", is_range(&self.height)),
        ] {
            if ranged {
                return Err(Error::invalid(
                    n,
                    "tasks can be filtered on an exact value only; list videos to filter on a range",
                ));
            }
        }
        Ok(())
    }

    async fn fetch(self, page: u64) -> Result<Page<Task>> {
        let raw = self.client.raw();
        let mut b = raw.list_tasks();
        if let Some(i) = &self.index {
            b = b.index_id(i.as_str());
        }
        if let Some(f) = &self.filename {
            b = b.filename(f.clone());
        }
        if let Some(v) = self.duration.as_ref().and_then(|f| f.eq) {
            b = b.duration(v);
        }
        if let Some(v) = self.width.as_ref().and_then(|f| f.eq) {
            b = b.width(v);
        }
        if let Some(v) = self.height.as_ref().and_then(|f| f.eq) {
            b = b.height(v);
        }
        fetch_dated_page(&self.common, b, page).await
    }
}

/// Accepts what YouTube links to a single video look like: `youtube.com` (any of `www.`, `m.`,
/// `music.`) with `/watch?v=<id>`, `/shorts/<id>`, `/live/<id>` or `/embed/<id>`, and
/// `youtu.be/<id>`, over http(s). The id's own format is not checked: the API accepted the tour
/// notebook's `watch?v=73_1biulkYk.mp4`.
fn check_youtube_url(url: &str) -> Result<()> {
    let bad = |why: &str| Err(Error::invalid("url", format!("{url:?} {why}")));
    let Ok(parsed) = reqwest::Url::parse(url.trim()) else {
        return bad("is not a URL");
    };
    if !matches!(parsed.scheme(), "http" | "https") {
        return bad("must be an http(s) YouTube link");
    }
    let host = parsed.host_str().unwrap_or("").to_ascii_lowercase();
    let mut segments = parsed
        .path_segments()
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty());
    let first = segments.next();
    let second = segments.next();
    let ok = match host.as_str() {
        "youtu.be" => first.is_some(),
        "youtube.com" | "www.youtube.com" | "m.youtube.com" | "music.youtube.com" => match first {
            Some("watch") => parsed.query_pairs().any(|(k, v)| k == "v" && !v.is_empty()),
            Some("shorts" | "live" | "embed") => second.is_some(),
            _ => false,
        },
        _ => return bad("is not a YouTube link (youtube.com or youtu.be)"),
    };
    if ok {
        Ok(())
    } else {
        bad("does not name a YouTube video (watch?v=…, youtu.be/…, /shorts/…)")
    }
}

faces! {
    impl[] Tasks<Async> | Tasks<crate::blocking::Blocking> {
        /// Indexes a YouTube video (it must be public and embeddable): `https://www.youtube.com/watch?v=…`,
        /// `https://youtu.be/…`, or a `/shorts/`, `/live/` or `/embed/` link. Any other URL is refused
        /// before sending (for a raw video file at a URL, use `create(index).video_url(url)`).
        pub fn create_from_youtube(&self, index: impl Into<IndexId>, url: impl Into<String>,) -> CreatedTask => create_from_youtube_impl;
        /// Retrieves a task.
        pub fn get(&self, id: impl Into<TaskId>) -> Task => get_impl;
        /// Deletes a task.
        pub fn delete(&self, id: impl Into<TaskId>) -> () => delete_impl;
        /// Counts an index's tasks by status.
        pub fn status_counts(&self, index: impl Into<IndexId>) -> TaskStatusCounts => status_counts_impl;
        /// Transfers the videos listed in a JSON file (`[{index_id, language, object, transcription}]`,
        /// S3 URLs). Any 2xx answer is a success.
        pub fn transfer(&self, file: impl AsRef<Path>) -> () => transfer_impl;
        /// The videos of a cloud import by status.
        pub fn import_status(&self, integration: impl Into<IntegrationId>, index: impl Into<IndexId>,) -> ImportStatus => import_status_impl;
        /// The imports of an integration.
        pub fn import_logs(&self, integration: impl Into<IntegrationId>,) -> Vec<ImportLog> => import_logs_impl;
    }
}

faces! {
    impl[] CreateTask<Async> | CreateTask<crate::blocking::Blocking> {
        /// Checks everything, uploads, and returns the new task.
        pub fn send(self) -> CreatedTask => send_impl;
    }
}

faces! {
    impl[] ImportVideos<Async> | ImportVideos<crate::blocking::Blocking> {
        /// Starts the import.
        pub fn send(self) -> ImportResult => send_impl;
    }
}

#[cfg(test)]
mod tests {
    use super::check_youtube_url;

    #[test]
    fn youtube_urls_are_youtube_video_urls() {
        for ok in [
            "https://www.youtube.com/watch?v=73_1biulkYk",
            "https://www.youtube.com/watch?v=73_1biulkYk.mp4",
            "https://youtube.com/watch?feature=share&v=abc",
            "http://m.youtube.com/watch?v=abc",
            "https://music.youtube.com/watch?v=abc",
            "https://youtu.be/73_1biulkYk?t=10",
            "https://www.youtube.com/shorts/abc",
            "https://www.youtube.com/live/abc",
            "https://www.youtube.com/embed/abc",
            " https://www.youtube.com/watch?v=abc ",
        ] {
            assert!(check_youtube_url(ok).is_ok(), "{ok}");
        }
        for bad in [
            "https://vimeo.com/123456",
            "https://www.youtube.com/",
            "https://www.youtube.com/watch",
            "https://www.youtube.com/watch?v=",
            "https://www.youtube.com/channel/UC123",
            "https://youtu.be/",
            "https://youtube.com.evil.example/watch?v=abc",
            "https://evil.example/?u=https://youtube.com/watch?v=abc",
            "ftp://youtube.com/watch?v=abc",
            "not a url",
            "",
        ] {
            let e = check_youtube_url(bad).unwrap_err();
            assert!(e.to_string().contains("`url`"), "{bad}: {e}");
        }
    }
}
