//! What the resource methods return: typed, printable results.
//!
//! Each type wraps the generated one from [`raw::types`](crate::raw::types) (still available with
//! `.raw()` / `into_raw()`, including any field added to the spec after this release) and adds:
//! - ids as [`IndexId`], [`VideoId`], [`TaskId`], so they go straight back into other calls;
//! - accessors without `Option` for what the API always returns; when a server omits one anyway,
//!   the accessor documents its fallback (an empty string, zero, an `Unknown` value), never a panic;
//! - `Display` for a person at a terminal: times as `m:ss` (or `h:mm:ss`), confidence as the API's
//!   word, scores to one decimal.
//!
//! `Serialize` writes the underlying generated value, so `serde_json::to_string(&task)` is the
//! API's JSON.
//!
//! ```
//! use twelvelabs::model::Task;
//!
//! let task = Task::from(serde_json::from_value::<twelvelabs::raw::types::Task>(serde_json::json!({
//!     "_id": "66659a3efa7835326810120c",
//!     "index_id": "666599d4e6fb7df29de0f89c",
//!     "status": "indexing",
//!     "metadata": {"filename": "clip.mp4", "duration": 159.0},
//!     "process": {"percentage": 42.0, "remain_seconds": 70.0}
//! })).unwrap());
//! assert_eq!(task.status().as_str(), "indexing");
//! assert_eq!(
//!     task.to_string(),
//!     "66659a3efa7835326810120c  indexing 42%, 1:10 left  clip.mp4 (2:39)"
//! );
//! ```

use std::fmt::{self, Display, Formatter};
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::ids::{IndexId, TaskId, VideoId};
use crate::raw::types as raw;
pub use crate::raw::types::{Confidence, EmbedTaskStatus, TaskStatus};

/// Seconds as `m:ss`, or `h:mm:ss` from an hour on (`"--:--"` for a value that is not a
/// non-negative finite number). Used by every `Display` here.
///
/// ```
/// use twelvelabs::model::Clock;
/// assert_eq!(Clock(44.6).to_string(), "0:44");
/// assert_eq!(Clock(159.0).to_string(), "2:39");
/// assert_eq!(Clock(3725.0).to_string(), "1:02:05");
/// assert_eq!(Clock(f64::NAN).to_string(), "--:--");
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Clock(pub f64);

impl Display for Clock {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if !(self.0.is_finite() && self.0 >= 0.0) || self.0 > 1e12 {
            return f.write_str("--:--");
        }
        // Whole seconds, truncated: a clip that starts at 44.6 s starts in second 0:44.
        let total = self.0.trunc() as u64;
        let (h, m, s) = (total / 3600, total / 60 % 60, total % 60);
        if h > 0 {
            write!(f, "{h}:{m:02}:{s:02}")
        } else {
            write!(f, "{m}:{s:02}")
        }
    }
}

/// A `start`–`end` span in seconds, shown as `0:40–0:44`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Span {
    /// Start, seconds from the beginning of the video.
    pub start: f64,
    /// End, seconds from the beginning of the video.
    pub end: f64,
}

impl Span {
    fn new(start: Option<f64>, end: Option<f64>) -> Self {
        Self {
            start: start.unwrap_or(0.0),
            end: end.or(start).unwrap_or(0.0),
        }
    }
    /// `end - start`, in seconds (zero if the server sent them reversed).
    pub fn seconds(&self) -> f64 {
        (self.end - self.start).max(0.0)
    }
}

impl Display for Span {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}–{}", Clock(self.start), Clock(self.end))
    }
}

/// Text from the server, shown on one line: control characters (a newline, an ANSI escape)
/// become spaces, so a result cannot forge or break terminal output.
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

fn secs(d: Option<f64>) -> Option<Duration> {
    d.filter(|s| s.is_finite() && *s >= 0.0)
        .map(|s| Duration::from_secs_f64(s.min(1e9)))
}

macro_rules! wrapper_common {
    ($name:ident, $raw:ty) => {
        impl $name {
            /// The generated value, with every field the API sent (including fields added to the
            /// spec after this release).
            pub fn raw(&self) -> &$raw {
                &self.raw
            }
            /// The generated value.
            pub fn into_raw(self) -> $raw {
                self.raw
            }
        }
        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                self.raw.serialize(s)
            }
        }
    };
}

// ------------------------------------------------------------------------------------- tasks

/// A video indexing task. From `tl.tasks().get(..)`, `.list()` and the waiter's updates.
#[derive(Clone, Debug, PartialEq)]
pub struct Task {
    id: TaskId,
    index_id: Option<IndexId>,
    video_id: Option<VideoId>,
    status: TaskStatus,
    raw: raw::Task,
}

wrapper_common!(Task, raw::Task);

impl From<raw::Task> for Task {
    fn from(raw: raw::Task) -> Self {
        Self {
            id: TaskId::new(raw.id.clone()),
            index_id: raw.index_id.clone().map(IndexId::new),
            video_id: raw.video_id.clone().map(VideoId::new),
            status: raw
                .status
                .clone()
                .unwrap_or_else(|| TaskStatus::Unknown(String::new())),
            raw,
        }
    }
}

impl Task {
    /// The task id.
    pub fn id(&self) -> &TaskId {
        &self.id
    }
    /// The index the video goes into (absent only if the server omits it).
    pub fn index_id(&self) -> Option<&IndexId> {
        self.index_id.as_ref()
    }
    /// The id of the indexed video: present once the task is `ready`.
    pub fn video_id(&self) -> Option<&VideoId> {
        self.video_id.as_ref()
    }
    /// The status. `TaskStatus::Unknown("")` if the server omitted it.
    pub fn status(&self) -> &TaskStatus {
        &self.status
    }
    /// Whether the status ends the task (ready or failed, as the spec marks them).
    pub fn is_done(&self) -> bool {
        self.status.outcome().is_some()
    }
    /// The file name of the video, or `""`.
    pub fn filename(&self) -> &str {
        self.raw
            .metadata
            .as_ref()
            .and_then(|m| m.filename.as_deref())
            .unwrap_or("")
    }
    /// The duration of the video in seconds, once known.
    pub fn duration(&self) -> Option<f64> {
        self.raw.metadata.as_ref().and_then(|m| m.duration)
    }
    /// Percent done (0–100), while indexing.
    pub fn percentage(&self) -> Option<f64> {
        self.raw.process.as_ref().and_then(|p| p.percentage)
    }
    /// How long the task still needs, by its own estimate, while indexing.
    pub fn remaining(&self) -> Option<Duration> {
        secs(self.raw.process.as_ref().and_then(|p| p.remain_seconds))
    }
    /// When the task was created.
    pub fn created_at(&self) -> Option<DateTime<Utc>> {
        self.raw.created_at
    }
    /// When the task was last updated.
    pub fn updated_at(&self) -> Option<DateTime<Utc>> {
        self.raw.updated_at
    }
    /// The HLS playlist of the video, when streaming is enabled.
    pub fn hls_url(&self) -> Option<&str> {
        self.raw.hls.as_ref().and_then(|h| h.video_url.as_deref())
    }
}

/// `<id>  <status>[ <pct>%][, <m:ss> left][  video <video id>][  <file> (<duration>)]`
impl Display for Task {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let status = match self.status.as_str() {
            "" => "?".to_owned(),
            s => one_line(s),
        };
        write!(f, "{}  {status}", self.id)?;
        if let Some(p) = self.percentage().filter(|p| p.is_finite()) {
            write!(f, " {p:.0}%")?;
        }
        if let Some(r) = self.remaining() {
            write!(f, ", {} left", Clock(r.as_secs_f64()))?;
        }
        if let Some(v) = &self.video_id {
            write!(f, "  video {v}")?;
        }
        let name = self.filename();
        if !name.is_empty() {
            write!(f, "  {}", one_line(name))?;
            if let Some(d) = self.duration() {
                write!(f, " ({})", Clock(d))?;
            }
        }
        Ok(())
    }
}

/// A task that ended `ready`: the result of waiting for an indexing task, with the id of its
/// video. From `tl.tasks().wait(..)`.
#[derive(Clone, Debug, PartialEq)]
pub struct ReadyTask {
    video_id: VideoId,
    task: Task,
}

impl ReadyTask {
    /// `None` unless `task` is ready and carries its video id.
    pub(crate) fn new(task: Task) -> Option<Self> {
        let ready = task.status.outcome() == Some(crate::raw::Outcome::Success);
        let video_id = task.video_id.clone().filter(|_| ready)?;
        Some(Self { video_id, task })
    }
    /// The indexed video.
    pub fn video_id(&self) -> &VideoId {
        &self.video_id
    }
    /// The task as last seen.
    pub fn task(&self) -> &Task {
        &self.task
    }
    /// The task as last seen.
    pub fn into_task(self) -> Task {
        self.task
    }
}

impl Display for ReadyTask {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        self.task.fmt(f)
    }
}

/// A task just created by an upload or a YouTube import. From `tl.tasks().create(..).send()` and
/// `tl.tasks().create_from_youtube(..)`; wait on it with `tl.tasks().wait(&created.id)`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CreatedTask {
    /// The task id.
    pub id: TaskId,
    /// The video id, when the API already returns it.
    pub video_id: Option<VideoId>,
}

impl Display for CreatedTask {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "task {}", self.id)?;
        if let Some(v) = &self.video_id {
            write!(f, " (video {v})")?;
        }
        Ok(())
    }
}

impl From<&CreatedTask> for TaskId {
    fn from(c: &CreatedTask) -> Self {
        c.id.clone()
    }
}

// ---------------------------------------------------------------------------- indexes, videos

/// An index. From `tl.indexes().get(..)` and `.list()`.
#[derive(Clone, Debug, PartialEq)]
pub struct Index {
    id: IndexId,
    raw: raw::Index,
}

wrapper_common!(Index, raw::Index);

impl From<raw::Index> for Index {
    fn from(raw: raw::Index) -> Self {
        Self {
            id: IndexId::new(raw.id.clone()),
            raw,
        }
    }
}

impl Index {
    /// The index id.
    pub fn id(&self) -> &IndexId {
        &self.id
    }
    /// The name, or `""`.
    pub fn name(&self) -> &str {
        self.raw.index_name.as_deref().unwrap_or("")
    }
    /// The number of videos (0 if the server omitted it).
    pub fn video_count(&self) -> u64 {
        self.raw
            .video_count
            .and_then(|n| u64::try_from(n).ok())
            .unwrap_or(0)
    }
    /// Seconds of video in the index (0 if the server omitted it).
    pub fn total_duration(&self) -> f64 {
        self.raw.total_duration.unwrap_or(0.0)
    }
    /// The engines and their options, as `(engine name, options)`.
    pub fn engines(&self) -> impl Iterator<Item = (&str, &[crate::EngineOption])> {
        self.raw
            .engines
            .iter()
            .map(|e| (e.engine_name.as_str(), e.engine_options.as_slice()))
    }
    /// When the index was created.
    pub fn created_at(&self) -> Option<DateTime<Utc>> {
        self.raw.created_at
    }
    /// When the index expires (Free plan), if it does.
    pub fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.raw.expires_at
    }
}

/// `<id>  <name>  <n> video(s), <total>  <engine> (<options>), …`
impl Display for Index {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let n = self.video_count();
        let name = match self.name() {
            "" => "(unnamed)".to_owned(),
            name => one_line(name),
        };
        write!(
            f,
            "{}  {name}  {n} video{}, {}",
            self.id,
            if n == 1 { "" } else { "s" },
            Clock(self.total_duration())
        )?;
        for (i, (engine, options)) in self.engines().enumerate() {
            let options: Vec<&str> = options.iter().map(|o| o.as_str()).collect();
            let sep = if i == 0 { "  " } else { ", " };
            write!(f, "{sep}{} ({})", one_line(engine), options.join(", "))?;
        }
        Ok(())
    }
}

/// A video of an index. From `tl.videos(index).get(..)` and `.list()`.
#[derive(Clone, Debug, PartialEq)]
pub struct Video {
    id: VideoId,
    raw: raw::Video,
}

wrapper_common!(Video, raw::Video);

impl From<raw::Video> for Video {
    fn from(raw: raw::Video) -> Self {
        Self {
            id: VideoId::new(raw.id.clone()),
            raw,
        }
    }
}

impl Video {
    /// The video id.
    pub fn id(&self) -> &VideoId {
        &self.id
    }
    /// The file name, or `""`.
    pub fn filename(&self) -> &str {
        self.meta()
            .and_then(|m| m.filename.as_deref())
            .unwrap_or("")
    }
    /// The title set with `update`, if any.
    pub fn title(&self) -> Option<&str> {
        self.meta().and_then(|m| m.video_title.as_deref())
    }
    /// The duration in seconds (0 if the server omitted it).
    pub fn duration(&self) -> f64 {
        self.meta().and_then(|m| m.duration).unwrap_or(0.0)
    }
    /// `(width, height)` in pixels, when known.
    pub fn resolution(&self) -> Option<(i64, i64)> {
        let m = self.meta()?;
        Some((m.width?, m.height?))
    }
    /// A custom metadata value set with `update` (from `metadata` or `user_metadata`, whichever
    /// the server used).
    pub fn custom(&self, key: &str) -> Option<&serde_json::Value> {
        self.meta()
            .and_then(|m| m.extra.get(key))
            .or_else(|| self.raw.user_metadata.get(key))
    }
    /// When the video was uploaded.
    pub fn created_at(&self) -> Option<DateTime<Utc>> {
        self.raw.created_at
    }
    /// When indexing finished.
    pub fn indexed_at(&self) -> Option<DateTime<Utc>> {
        self.raw.indexed_at
    }
    /// The HLS playlist, when streaming is enabled.
    pub fn hls_url(&self) -> Option<&str> {
        self.raw.hls.as_ref().and_then(|h| h.video_url.as_deref())
    }
    fn meta(&self) -> Option<&raw::VideoMetadata> {
        self.raw.metadata.as_ref()
    }
}

/// `<id>  <title or file name>  <duration>[  <w>x<h>]`
impl Display for Video {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let name = match self.title().unwrap_or_else(|| self.filename()) {
            "" => "(no name)".to_owned(),
            name => one_line(name),
        };
        write!(f, "{}  {name}  {}", self.id, Clock(self.duration()))?;
        if let Some((w, h)) = self.resolution() {
            write!(f, "  {w}x{h}")?;
        }
        Ok(())
    }
}

// --------------------------------------------------------------------------------- search

/// A matching clip. From a search page's `clips()`.
#[derive(Clone, Debug, PartialEq)]
pub struct SearchClip {
    video_id: VideoId,
    confidence: Confidence,
    raw: raw::SearchClip,
}

wrapper_common!(SearchClip, raw::SearchClip);

impl From<raw::SearchClip> for SearchClip {
    fn from(raw: raw::SearchClip) -> Self {
        Self {
            video_id: VideoId::new(raw.video_id.clone()),
            confidence: raw
                .confidence
                .clone()
                .unwrap_or_else(|| Confidence::Unknown(String::new())),
            raw,
        }
    }
}

impl SearchClip {
    /// The video of the clip.
    pub fn video_id(&self) -> &VideoId {
        &self.video_id
    }
    /// Where the clip is in the video.
    pub fn span(&self) -> Span {
        Span {
            start: self.raw.start,
            end: self.raw.end,
        }
    }
    /// The API's confidence: `high`, `medium`, `low`… (`Unknown("")` if the server omitted it).
    pub fn confidence(&self) -> &Confidence {
        &self.confidence
    }
    /// The similarity score (0 if the server omitted it).
    pub fn score(&self) -> f64 {
        self.raw.score.unwrap_or(0.0)
    }
    /// A thumbnail of the clip (thumbnail add-on; expires after an hour).
    pub fn thumbnail_url(&self) -> Option<&str> {
        self.raw.thumbnail_url.as_deref()
    }
    /// The matched speech or on-screen text, when the API says what matched.
    pub fn matched_text(&self) -> Option<&str> {
        self.raw.metadata.iter().find_map(|m| m.text.as_deref())
    }
}

/// `<video id>  <start>–<end>  <confidence>  <score>`, e.g.
/// `66659a48d22b3a3c97bf1d5f  0:40–0:44  high  83.2`.
impl Display for SearchClip {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let confidence = match self.confidence.as_str() {
            "" => "?".to_owned(),
            c => one_line(c),
        };
        write!(
            f,
            "{}  {}  {confidence}  {:.1}",
            self.video_id,
            self.span(),
            self.score()
        )
    }
}

/// A video and its matching clips (a search grouped by video).
#[derive(Clone, Debug, PartialEq)]
pub struct SearchVideo {
    video_id: VideoId,
    clips: Vec<SearchClip>,
}

impl SearchVideo {
    /// The video.
    pub fn video_id(&self) -> &VideoId {
        &self.video_id
    }
    /// Its matching clips.
    pub fn clips(&self) -> &[SearchClip] {
        &self.clips
    }
}

/// One result of a search: a clip, or a video with its clips when grouped by video.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum SearchHit {
    /// A matching clip.
    Clip(SearchClip),
    /// A video and its matching clips (`group_by(GroupBy::Video)`).
    Video(SearchVideo),
}

impl From<raw::SearchResultItem> for SearchHit {
    fn from(item: raw::SearchResultItem) -> Self {
        match item {
            raw::SearchResultItem::Clip(c) => Self::Clip(c.into()),
            raw::SearchResultItem::GroupedItem(g) => Self::Video(SearchVideo {
                video_id: VideoId::new(g.id),
                clips: g.clips.into_iter().map(Into::into).collect(),
            }),
        }
    }
}

impl SearchHit {
    /// The clips of this result: the clip itself, or the video's clips.
    pub fn clips(&self) -> &[SearchClip] {
        match self {
            Self::Clip(c) => std::slice::from_ref(c),
            Self::Video(v) => &v.clips,
        }
    }
}

/// A clip on one line; a video as a header line and its clips indented below.
impl Display for SearchHit {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Self::Clip(c) => c.fmt(f),
            Self::Video(v) => {
                let n = v.clips.len();
                write!(
                    f,
                    "{}  {n} clip{}",
                    v.video_id,
                    if n == 1 { "" } else { "s" }
                )?;
                for c in &v.clips {
                    write!(
                        f,
                        "\n  {}  {}  {:.1}",
                        c.span(),
                        c.confidence.as_str(),
                        c.score()
                    )?;
                }
                Ok(())
            }
        }
    }
}

// ------------------------------------------------------------------------------- classify

/// How well a video matches one class.
#[derive(Clone, Debug, PartialEq)]
pub struct ClassMatch {
    raw: raw::ClassifyClass,
}

impl ClassMatch {
    /// The class name from the request (or `""`).
    pub fn name(&self) -> &str {
        self.raw.name.as_deref().unwrap_or("")
    }
    /// The score of the video for the class, 0–100 (0 if omitted).
    pub fn score(&self) -> f64 {
        self.raw.score.unwrap_or(0.0)
    }
    /// The share of the video that matches, 0–1, when the API sent it.
    pub fn duration_ratio(&self) -> Option<f64> {
        self.raw.duration_ratio
    }
    /// The matching clips (`include_clips(true)`), as `(span, prompt)`.
    pub fn clips(&self) -> impl Iterator<Item = (Span, &str)> {
        self.raw
            .clips
            .iter()
            .map(|c| (Span::new(c.start, c.end), c.prompt.as_deref().unwrap_or("")))
    }
    /// The generated value.
    pub fn raw(&self) -> &raw::ClassifyClass {
        &self.raw
    }
}

/// `<name> <score>[ (<n>% of the video)]`
impl Display for ClassMatch {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{} {:.1}", one_line(self.name()), self.score())?;
        if let Some(r) = self.duration_ratio().filter(|r| r.is_finite()) {
            write!(f, " ({:.0}% of the video)", r * 100.0)?;
        }
        Ok(())
    }
}

/// A video and the classes it matches. From `tl.classify()…send()`.
#[derive(Clone, Debug, PartialEq)]
pub struct ClassifiedVideo {
    video_id: VideoId,
    classes: Vec<ClassMatch>,
    raw: raw::ClassifiedVideo,
}

wrapper_common!(ClassifiedVideo, raw::ClassifiedVideo);

impl From<raw::ClassifiedVideo> for ClassifiedVideo {
    fn from(raw: raw::ClassifiedVideo) -> Self {
        Self {
            video_id: VideoId::new(raw.video_id.clone().unwrap_or_default()),
            classes: raw
                .classes
                .iter()
                .cloned()
                .map(|raw| ClassMatch { raw })
                .collect(),
            raw,
        }
    }
}

impl ClassifiedVideo {
    /// The video (an empty id if the server omitted it).
    pub fn video_id(&self) -> &VideoId {
        &self.video_id
    }
    /// The classes it matches, as the API ordered them.
    pub fn classes(&self) -> &[ClassMatch] {
        &self.classes
    }
}

/// `<video id>  <class> <score> (…), <class> <score>`
impl Display for ClassifiedVideo {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.video_id)?;
        for (i, c) in self.classes.iter().enumerate() {
            write!(f, "{}{c}", if i == 0 { "  " } else { ", " })?;
        }
        Ok(())
    }
}

// ------------------------------------------------------------------------------- generate

/// The title, topics and hashtags of a video (those requested). From `tl.generate().gist(..)`.
#[derive(Clone, Debug, PartialEq)]
pub struct Gist {
    raw: raw::GistResponse,
}

wrapper_common!(Gist, raw::GistResponse);

impl From<raw::GistResponse> for Gist {
    fn from(raw: raw::GistResponse) -> Self {
        Self { raw }
    }
}

impl Gist {
    /// The title, if requested.
    pub fn title(&self) -> Option<&str> {
        self.raw.title.as_deref()
    }
    /// The topics (empty unless requested).
    pub fn topics(&self) -> &[String] {
        &self.raw.topics
    }
    /// The hashtags (empty unless requested).
    pub fn hashtags(&self) -> &[String] {
        &self.raw.hashtags
    }
}

/// One line per part that was generated: `Title: …`, `Topics: a, b`, `Hashtags: #a #b`.
impl Display for Gist {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let mut lines = Vec::new();
        if let Some(t) = self.title() {
            lines.push(format!("Title: {}", one_line(t)));
        }
        if !self.topics().is_empty() {
            let t: Vec<String> = self.topics().iter().map(|t| one_line(t)).collect();
            lines.push(format!("Topics: {}", t.join(", ")));
        }
        if !self.hashtags().is_empty() {
            let h: Vec<String> = self.hashtags().iter().map(|h| one_line(h)).collect();
            lines.push(format!("Hashtags: {}", h.join(" ")));
        }
        f.write_str(&lines.join("\n"))
    }
}

/// A summary of a video. From `tl.generate().summary(..).send()`.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Summary {
    /// The generation id.
    pub id: Option<String>,
    /// The summary.
    pub summary: String,
}

/// The summary text, as generated (paragraphs kept).
impl Display for Summary {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(&self.summary)
    }
}

/// A chapter of a video. From `tl.generate().chapters(..).send()`.
#[derive(Clone, Debug, PartialEq)]
pub struct Chapter {
    raw: raw::Chapter,
}

wrapper_common!(Chapter, raw::Chapter);

impl From<raw::Chapter> for Chapter {
    fn from(raw: raw::Chapter) -> Self {
        Self { raw }
    }
}

impl Chapter {
    /// The chapter number as the API counts (from 0; 0 if omitted).
    pub fn number(&self) -> i64 {
        self.raw.chapter_number.unwrap_or(0)
    }
    /// Where the chapter is.
    pub fn span(&self) -> Span {
        Span::new(self.raw.start, self.raw.end)
    }
    /// Its headline (or `""`).
    pub fn title(&self) -> &str {
        self.raw.chapter_title.as_deref().unwrap_or("")
    }
    /// What happens in it (or `""`).
    pub fn summary(&self) -> &str {
        self.raw.chapter_summary.as_deref().unwrap_or("")
    }
}

/// `<start>–<end>  <title>: <summary>`
impl Display for Chapter {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}  {}", self.span(), one_line(self.title()))?;
        if !self.summary().is_empty() {
            write!(f, ": {}", one_line(self.summary()))?;
        }
        Ok(())
    }
}

/// A highlight of a video. From `tl.generate().highlights(..).send()`.
#[derive(Clone, Debug, PartialEq)]
pub struct Highlight {
    raw: raw::Highlight,
}

wrapper_common!(Highlight, raw::Highlight);

impl From<raw::Highlight> for Highlight {
    fn from(raw: raw::Highlight) -> Self {
        Self { raw }
    }
}

impl Highlight {
    /// Where the highlight is.
    pub fn span(&self) -> Span {
        Span::new(self.raw.start, self.raw.end)
    }
    /// What happens (or `""`).
    pub fn text(&self) -> &str {
        self.raw.highlight.as_deref().unwrap_or("")
    }
}

/// `<start>–<end>  <what happens>`
impl Display for Highlight {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}  {}", self.span(), one_line(self.text()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn from<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> T {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn clocks_and_spans() {
        assert_eq!(Clock(0.0).to_string(), "0:00");
        assert_eq!(Clock(59.999).to_string(), "0:59");
        assert_eq!(Clock(600.0).to_string(), "10:00");
        assert_eq!(Clock(36_000.0).to_string(), "10:00:00");
        for bad in [-1.0, f64::INFINITY, f64::NAN, 1e300] {
            assert_eq!(Clock(bad).to_string(), "--:--", "{bad}");
        }
        let s = Span::new(Some(40.0), Some(44.5));
        assert_eq!(s.to_string(), "0:40–0:44");
        assert_eq!(s.seconds(), 4.5);
        assert_eq!(Span::new(Some(9.0), Some(3.0)).seconds(), 0.0);
        assert_eq!(Span::new(Some(7.0), None).to_string(), "0:07–0:07");
    }

    #[test]
    fn a_task_as_the_seed_shows_it() {
        let t = Task::from(from::<raw::Task>(json!({
            "_id": "66659a3efa7835326810120c", "index_id": "666599d4e6fb7df29de0f89c",
            "video_id": "66659a48d22b3a3c97bf1d5f", "status": "ready",
            "metadata": {"duration": 159, "filename": "Deadpool & Wolverine | Official Trailer", "height": 720, "width": 1280},
            "created_at": "2024-06-09T12:04:14.069Z"
        })));
        assert_eq!(t.id().as_str(), "66659a3efa7835326810120c");
        assert_eq!(t.video_id().unwrap().as_str(), "66659a48d22b3a3c97bf1d5f");
        assert!(t.is_done());
        assert_eq!(
            t.to_string(),
            "66659a3efa7835326810120c  ready  video 66659a48d22b3a3c97bf1d5f  Deadpool & Wolverine | Official Trailer (2:39)"
        );
        let ready = ReadyTask::new(t.clone()).unwrap();
        assert_eq!(ready.video_id().as_str(), "66659a48d22b3a3c97bf1d5f");
        assert_eq!(ready.to_string(), t.to_string());
        // Serialize writes the API's JSON.
        assert_eq!(
            serde_json::to_value(&t).unwrap()["_id"],
            "66659a3efa7835326810120c"
        );
    }

    #[test]
    fn a_task_without_what_the_api_usually_sends_has_fallbacks() {
        let t = Task::from(from::<raw::Task>(json!({"_id": "t"})));
        assert_eq!(t.status().as_str(), "");
        assert_eq!(t.filename(), "");
        assert!(!t.is_done());
        assert_eq!(t.to_string(), "t  ?");
        assert!(ReadyTask::new(t).is_none());
        // Ready but without its video: not a ReadyTask.
        let t = Task::from(from::<raw::Task>(json!({"_id": "t", "status": "ready"})));
        assert!(ReadyTask::new(t).is_none());
        // A failed task with a video id is not ready either.
        let t = Task::from(from::<raw::Task>(
            json!({"_id": "t", "status": "failed", "video_id": "v"}),
        ));
        assert!(ReadyTask::new(t).is_none());
    }

    #[test]
    fn server_text_cannot_break_a_line() {
        let t = Task::from(from::<raw::Task>(json!({
            "_id": "t", "status": "ready\u{1b}[2J", "metadata": {"filename": "a\nFAKE LOG LINE\r"}
        })));
        let s = t.to_string();
        assert!(
            !s.contains('\n') && !s.contains('\u{1b}') && !s.contains('\r'),
            "{s:?}"
        );
        let c = SearchClip::from(from::<raw::SearchClip>(
            json!({"video_id": "v\n", "start": 1, "end": 2, "confidence": "high\u{7}"}),
        ));
        assert!(!c.to_string().contains('\u{7}'));
    }

    #[test]
    fn indexes_and_videos() {
        let i = Index::from(from::<raw::Index>(json!({
            "_id": "666599d4e6fb7df29de0f89c", "index_name": "Content Creator Videos",
            "engines": [
                {"engine_name": "marengo2.6", "engine_options": ["visual", "conversation", "text_in_video", "logo"]},
                {"engine_name": "pegasus1", "engine_options": ["visual", "conversation"]}
            ],
            "video_count": 1, "total_duration": 159
        })));
        assert_eq!(
            i.to_string(),
            "666599d4e6fb7df29de0f89c  Content Creator Videos  1 video, 2:39  marengo2.6 (visual, conversation, text_in_video, logo), pegasus1 (visual, conversation)"
        );
        assert_eq!(i.video_count(), 1);
        let empty = Index::from(from::<raw::Index>(json!({"_id": "i", "video_count": -3})));
        assert_eq!(empty.video_count(), 0);
        assert_eq!(empty.to_string(), "i  (unnamed)  0 videos, 0:00");

        let v = Video::from(from::<raw::Video>(json!({
            "_id": "66659a48d22b3a3c97bf1d5f",
            "metadata": {"duration": 421.3, "filename": "how-girls-get-dressed.mp4", "height": 1080, "width": 1920, "category": "recentlyAdded"}
        })));
        assert_eq!(
            v.to_string(),
            "66659a48d22b3a3c97bf1d5f  how-girls-get-dressed.mp4  7:01  1920x1080"
        );
        assert_eq!(v.custom("category").unwrap(), "recentlyAdded");
        let v = Video::from(from::<raw::Video>(
            json!({"_id": "v", "user_metadata": {"k": 1}, "metadata": {"video_title": "Mine"}}),
        ));
        assert_eq!(v.custom("k").unwrap(), 1);
        assert_eq!(v.to_string(), "v  Mine  0:00");
    }

    #[test]
    fn search_hits() {
        let hit = SearchHit::from(from::<raw::SearchResultItem>(json!({
            "video_id": "66659a48d22b3a3c97bf1d5f", "start": 40.0, "end": 44.5,
            "score": 83.24, "confidence": "high", "metadata": [{"type": "conversation", "text": "hello"}]
        })));
        let SearchHit::Clip(clip) = &hit else {
            panic!("{hit:?}")
        };
        assert_eq!(
            clip.to_string(),
            "66659a48d22b3a3c97bf1d5f  0:40–0:44  high  83.2"
        );
        assert_eq!(clip.matched_text(), Some("hello"));
        assert_eq!(clip.confidence(), &Confidence::High);
        let grouped = SearchHit::from(from::<raw::SearchResultItem>(json!({
            "id": "v1", "clips": [
                {"video_id": "v1", "start": 1, "end": 2, "score": 80, "confidence": "medium"},
                {"video_id": "v1", "start": 70, "end": 75, "score": 71.26, "confidence": "low"}
            ]
        })));
        assert_eq!(grouped.clips().len(), 2);
        assert_eq!(
            grouped.to_string(),
            "v1  2 clips\n  0:01–0:02  medium  80.0\n  1:10–1:15  low  71.3"
        );
        let bare = SearchClip::from(from::<raw::SearchClip>(
            json!({"video_id": "v", "start": 0, "end": 1}),
        ));
        assert_eq!(bare.to_string(), "v  0:00–0:01  ?  0.0");
    }

    #[test]
    fn classifications_gists_chapters_highlights() {
        let c = ClassifiedVideo::from(from::<raw::ClassifiedVideo>(json!({
            "video_id": "v1",
            "classes": [
                {"name": "BeautyTok", "score": 92.25, "duration_ratio": 0.6},
                {"name": "Makeup", "score": 81.0}
            ]
        })));
        assert_eq!(
            c.to_string(),
            "v1  BeautyTok 92.2 (60% of the video), Makeup 81.0"
        );
        let g = Gist::from(from::<raw::GistResponse>(json!({
            "id": "g", "title": "Getting dressed", "topics": ["Fashion", "Comedy"], "hashtags": ["#ootd", "#fashion"]
        })));
        assert_eq!(
            g.to_string(),
            "Title: Getting dressed\nTopics: Fashion, Comedy\nHashtags: #ootd #fashion"
        );
        assert_eq!(
            Gist::from(from::<raw::GistResponse>(json!({"hashtags": ["#a"]}))).to_string(),
            "Hashtags: #a"
        );
        let ch = Chapter::from(from::<raw::Chapter>(json!({
            "chapter_number": 0, "start": 0, "end": 40, "chapter_title": "Intro", "chapter_summary": "A mask."
        })));
        assert_eq!(ch.to_string(), "0:00–0:40  Intro: A mask.");
        let h = Highlight::from(from::<raw::Highlight>(
            json!({"start": 40, "end": 44.5, "highlight": "The reveal"}),
        ));
        assert_eq!(h.to_string(), "0:40–0:44  The reveal");
        let s = Summary {
            id: None,
            summary: "Two lines.\nSecond.".into(),
        };
        assert_eq!(s.to_string(), "Two lines.\nSecond.");
    }
}
