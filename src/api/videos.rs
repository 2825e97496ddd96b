//! Videos of an index: list, get, update, delete, and the data extracted from them.
//!
//! ```no_run
//! # async fn demo(tl: twelvelabs::Client) -> twelvelabs::Result<()> {
//! use futures::TryStreamExt;
//! use twelvelabs::Filter;
//! let long_ones: Vec<_> = tl.videos("666599d4e6fb7df29de0f89c").list()
//!     .duration(Filter::gte(60.0))
//!     .metadata("category", "recentlyAdded")
//!     .items().try_collect().await?;
//! # Ok(()) }
//! ```

use chrono::{DateTime, Utc};

use super::{
    Filter, ListCommon, apply_filter, build, check_filter, fetch_dated_page, filter_setter,
    page_number_list, raw_list, rfc3339,
};
use std::marker::PhantomData;

use crate::Client;
use crate::error::{Error, Result};
use crate::ids::{IndexId, VideoId};
use crate::mode::{Async, Mode, faces};
use crate::model::Video;
use crate::pagination::Page;
use crate::raw::types::{self, MetadataValue, VideoValue};

raw_list!(ListVideos, Video, dated);

/// Metadata keys the API owns; they cannot be set or used as custom filters.
pub(crate) const SYSTEM_METADATA: [&str; 8] = [
    "duration",
    "filename",
    "fps",
    "height",
    "size",
    "width",
    "engine_ids",
    "video_title",
];

/// The videos of one index. From [`Client::videos`].
#[derive(Clone, Debug)]
pub struct Videos<M: Mode = Async> {
    mode: PhantomData<M>,
    client: Client,
    index: IndexId,
}

impl<M: Mode> Videos<M> {
    pub(crate) fn new(client: Client, index: IndexId) -> Self {
        Self {
            client,
            index,
            mode: PhantomData,
        }
    }

    /// Lists the index's videos (newest first by default).
    pub fn list(&self) -> ListVideos<M> {
        ListVideos {
            mode: PhantomData,
            client: self.client.clone(),
            index: self.index.clone(),
            common: ListCommon::default(),
            filename: None,
            size: None,
            width: None,
            height: None,
            duration: None,
            fps: None,
            indexed_at: None,
            metadata: Vec::new(),
        }
    }

    async fn get_impl(&self, video: impl Into<VideoId>) -> Result<Video> {
        self.get_inner(video.into(), false).await
    }

    async fn get_with_embedding_impl(&self, video: impl Into<VideoId>) -> Result<Video> {
        self.get_inner(video.into(), true).await
    }

    async fn get_inner(&self, video: VideoId, embed: bool) -> Result<Video> {
        let raw = self.client.raw();
        let mut b = raw
            .get_video()
            .index_id(self.index.checked("index_id")?)
            .video_id(video.checked("video_id")?);
        if embed {
            b = b.embed(true);
        }
        self.client.call(b.send()).await.map(Video::from)
    }

    /// Starts updating a video's title and/or custom metadata.
    pub fn update(&self, video: impl Into<VideoId>) -> UpdateVideo<M> {
        UpdateVideo {
            mode: PhantomData,
            client: self.client.clone(),
            index: self.index.clone(),
            video: video.into(),
            title: None,
            metadata: Vec::new(),
        }
    }

    async fn delete_impl(&self, video: impl Into<VideoId>) -> Result<()> {
        let video = video.into();
        let raw = self.client.raw();
        let b = raw
            .delete_video()
            .index_id(self.index.checked("index_id")?)
            .video_id(video.checked("video_id")?);
        self.client.call(b.send()).await
    }

    /// The transcription (needs the `conversation` option). Narrow it with `.start()` / `.end()`.
    pub fn transcription(&self, video: impl Into<VideoId>) -> VideoData<M> {
        self.data(video.into(), DataKind::Transcription)
    }

    /// The text shown in the video (needs `text_in_video`).
    pub fn text_in_video(&self, video: impl Into<VideoId>) -> VideoData<M> {
        self.data(video.into(), DataKind::TextInVideo)
    }

    /// The logos detected in the video (needs `logo`).
    pub fn logos(&self, video: impl Into<VideoId>) -> VideoData<M> {
        self.data(video.into(), DataKind::Logo)
    }

    fn data(&self, video: VideoId, kind: DataKind) -> VideoData<M> {
        VideoData {
            mode: PhantomData,
            client: self.client.clone(),
            index: self.index.clone(),
            video,
            kind,
            start: None,
            end: None,
        }
    }

    async fn thumbnail_impl(&self, video: impl Into<VideoId>, time: Option<f64>) -> Result<String> {
        let video = video.into();
        if let Some(t) = time
            && !(t.is_finite() && t >= 0.0)
        {
            return Err(Error::invalid(
                "time",
                "must be a non-negative number of seconds",
            ));
        }
        let raw = self.client.raw();
        let mut b = raw
            .get_video_thumbnail()
            .index_id(self.index.checked("index_id")?)
            .video_id(video.checked("video_id")?);
        if let Some(t) = time {
            b = b.time(t);
        }
        let th = self.client.call(b.send()).await?;
        th.thumbnail
            .ok_or_else(|| Error::invalid("thumbnail", "the response carried no thumbnail URL"))
    }
}

#[derive(Clone, Copy, Debug)]
enum DataKind {
    Transcription,
    TextInVideo,
    Logo,
}

/// Timed values extracted from a video. From [`Videos::transcription`], [`Videos::text_in_video`]
/// and [`Videos::logos`].
#[derive(Clone, Debug)]
#[must_use = "call .send()"]
pub struct VideoData<M: Mode = Async> {
    mode: PhantomData<M>,
    client: Client,
    index: IndexId,
    video: VideoId,
    kind: DataKind,
    start: Option<f64>,
    end: Option<f64>,
}

impl<M: Mode> VideoData<M> {
    /// Only values from `seconds` on.
    pub fn start(mut self, seconds: f64) -> Self {
        self.start = Some(seconds);
        self
    }
    /// Only values up to `seconds`.
    pub fn end(mut self, seconds: f64) -> Self {
        self.end = Some(seconds);
        self
    }

    async fn send_impl(self) -> Result<Vec<VideoValue>> {
        for (field, v) in [("start", self.start), ("end", self.end)] {
            if let Some(v) = v
                && !(v.is_finite() && v >= 0.0)
            {
                return Err(Error::invalid(
                    field,
                    "must be a non-negative number of seconds",
                ));
            }
        }
        if let (Some(s), Some(e)) = (self.start, self.end)
            && s > e
        {
            return Err(Error::invalid("end", "must not be before start"));
        }
        let raw = self.client.raw();
        let (index, video) = (
            self.index.checked("index_id")?,
            self.video.checked("video_id")?,
        );
        macro_rules! run {
            ($builder:expr) => {{
                let mut b = $builder.index_id(index).video_id(video);
                if let Some(s) = self.start {
                    b = b.start(s);
                }
                if let Some(e) = self.end {
                    b = b.end(e);
                }
                self.client.call(b.send()).await?
            }};
        }
        let list = match self.kind {
            DataKind::Transcription => run!(raw.get_video_transcription()),
            DataKind::TextInVideo => run!(raw.get_video_text_in_video()),
            DataKind::Logo => run!(raw.get_video_logo()),
        };
        Ok(list.data)
    }
}

/// Updates a video. From [`Videos::update`].
#[derive(Clone, Debug)]
#[must_use = "call .send()"]
pub struct UpdateVideo<M: Mode = Async> {
    mode: PhantomData<M>,
    client: Client,
    index: IndexId,
    video: VideoId,
    title: Option<String>,
    metadata: Vec<(String, MetadataValue)>,
}

impl<M: Mode> UpdateVideo<M> {
    /// A new title.
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }

    /// Sets a custom metadata field. Values are strings, integers, floats or booleans (by type).
    pub fn metadata(mut self, key: impl Into<String>, value: impl Into<MetadataValue>) -> Self {
        self.metadata.push((key.into(), value.into()));
        self
    }

    async fn send_impl(self) -> Result<()> {
        if self.title.is_none() && self.metadata.is_empty() {
            return Err(Error::invalid(
                "metadata",
                "nothing to update: set a title or metadata",
            ));
        }
        let mut metadata = std::collections::HashMap::new();
        for (k, v) in self.metadata {
            check_metadata_key(&k)?;
            if let MetadataValue::Number(f) = &v
                && !f.is_finite()
            {
                return Err(Error::invalid(
                    format!("metadata.{k}"),
                    "must be a finite number",
                ));
            }
            metadata.insert(k, v);
        }
        let body: types::UpdateVideoRequest = build(
            types::UpdateVideoRequest::builder()
                .video_title(self.title)
                .metadata(metadata),
        )?;
        let raw = self.client.raw();
        let b = raw
            .update_video()
            .index_id(self.index.checked("index_id")?)
            .video_id(self.video.checked("video_id")?)
            .body(body);
        self.client.call(b.send()).await
    }
}

fn check_metadata_key(k: &str) -> Result<()> {
    if k.trim().is_empty() {
        return Err(Error::invalid("metadata", "keys must not be empty"));
    }
    if SYSTEM_METADATA.contains(&k) {
        return Err(Error::invalid(
            format!("metadata.{k}"),
            "is a system field and cannot be set or used as a custom filter",
        ));
    }
    Ok(())
}

/// Lists the videos of an index. From [`Videos::list`].
#[derive(Clone, Debug)]
#[must_use = "call .send(), .pages() or .items()"]
pub struct ListVideos<M: Mode = Async> {
    mode: PhantomData<M>,
    client: Client,
    index: IndexId,
    common: ListCommon,
    filename: Option<String>,
    size: Option<Filter<i64>>,
    width: Option<Filter<i64>>,
    height: Option<Filter<i64>>,
    duration: Option<Filter<f64>>,
    fps: Option<Filter<f64>>,
    indexed_at: Option<Filter<DateTime<Utc>>>,
    metadata: Vec<(String, String)>,
}

page_number_list!(ListVideos, Video, dated);

impl<M: Mode> ListVideos<M> {
    /// Only videos with this file name.
    pub fn filename(mut self, name: impl Into<String>) -> Self {
        self.filename = Some(name.into());
        self
    }
    filter_setter!(size, i64, "Filter on the size in bytes.");
    filter_setter!(width, i64, "Filter on the width in pixels.");
    filter_setter!(height, i64, "Filter on the height in pixels.");
    filter_setter!(duration, f64, "Filter on the duration in seconds.");
    filter_setter!(fps, f64, "Filter on the frame rate.");
    filter_setter!(indexed_at, DateTime<Utc>, "Filter on the indexing date.");

    /// Only videos whose custom metadata field `key` equals `value` (sent as `key=value`).
    pub fn metadata(mut self, key: impl Into<String>, value: impl Into<MetadataValue>) -> Self {
        let value = match value.into() {
            MetadataValue::String(s) => s,
            MetadataValue::Integer(i) => i.to_string(),
            MetadataValue::Number(f) => f.to_string(),
            MetadataValue::Boolean(b) => b.to_string(),
        };
        self.metadata.push((key.into(), value));
        self
    }

    fn check_own(&self) -> Result<()> {
        self.index.checked("index_id")?;
        check_filter("size", &self.size)?;
        check_filter("width", &self.width)?;
        check_filter("height", &self.height)?;
        check_filter("duration", &self.duration)?;
        check_filter("fps", &self.fps)?;
        check_filter("indexed_at", &self.indexed_at)?;
        let mut seen = std::collections::HashSet::new();
        for (k, _) in &self.metadata {
            check_metadata_key(k)?;
            let declared = crate::raw::operations::LIST_VIDEOS.query_params;
            if declared.contains(&k.as_str()) {
                return Err(Error::invalid(
                    format!("metadata.{k}"),
                    "is a query parameter of the list itself and cannot be a custom filter",
                ));
            }
            if !seen.insert(k.as_str()) {
                return Err(Error::invalid(
                    format!("metadata.{k}"),
                    "is set twice; a video has one value per field",
                ));
            }
        }
        Ok(())
    }

    async fn fetch(self, page: u64) -> Result<Page<Video>> {
        let raw = self.client.raw();
        let mut b = raw.list_videos().index_id(self.index.as_str());
        if let Some(f) = &self.filename {
            b = b.filename(f.clone());
        }
        let same = |v: &i64| *v;
        let same_f = |v: &f64| *v;
        apply_filter!(b, self.size, size, size_gte, size_lte, same);
        apply_filter!(b, self.width, width, width_gte, width_lte, same);
        apply_filter!(b, self.height, height, height_gte, height_lte, same);
        apply_filter!(
            b,
            self.duration,
            duration,
            duration_gte,
            duration_lte,
            same_f
        );
        apply_filter!(b, self.fps, fps, fps_gte, fps_lte, same_f);
        apply_filter!(
            b,
            self.indexed_at,
            indexed_at,
            indexed_at_gte,
            indexed_at_lte,
            rfc3339
        );
        if !self.metadata.is_empty() {
            b = b.metadata(
                self.metadata
                    .iter()
                    .cloned()
                    .collect::<std::collections::HashMap<_, _>>(),
            );
        }
        fetch_dated_page(&self.common, b, page).await
    }
}

impl From<&str> for MetadataValue {
    fn from(s: &str) -> Self {
        MetadataValue::String(s.to_owned())
    }
}

impl From<String> for MetadataValue {
    fn from(s: String) -> Self {
        MetadataValue::String(s)
    }
}

impl From<i32> for MetadataValue {
    fn from(i: i32) -> Self {
        MetadataValue::Integer(i64::from(i))
    }
}

faces! {
    impl[] Videos<Async> | Videos<crate::blocking::Blocking> {
        /// Retrieves a video.
        pub fn get(&self, video: impl Into<VideoId>) -> Video => get_impl;
        /// Retrieves a video with its embedding (`embed=true`; Marengo 2.6 or later).
        pub fn get_with_embedding(&self, video: impl Into<VideoId>) -> Video => get_with_embedding_impl;
        /// Deletes a video.
        pub fn delete(&self, video: impl Into<VideoId>) -> () => delete_impl;
        /// A thumbnail URL (valid one hour; needs the `thumbnail` add-on), at `time` seconds or, with
        /// `None`, the middle of the video.
        pub fn thumbnail(&self, video: impl Into<VideoId>, time: Option<f64>) -> String => thumbnail_impl;
    }
}

faces! {
    impl[] VideoData<Async> | VideoData<crate::blocking::Blocking> {
        /// Fetches the values (an empty list when the API sends none).
        pub fn send(self) -> Vec<VideoValue> => send_impl;
    }
}

faces! {
    impl[] UpdateVideo<Async> | UpdateVideo<crate::blocking::Blocking> {
        /// Sends the update.
        pub fn send(self) -> () => send_impl;
    }
}
