//! Uploads: the hand-written multipart requests (`POST /tasks`, `/tasks/transfers`, `/search-v2`,
//! `/embed`, `/embed/tasks`).
//!
//! A [`Media`] is a file on disk (streamed with its length, never read whole into memory, and
//! re-opened for each retry), bytes in memory, an `AsyncRead` of known length (sent once: it cannot
//! be replayed, so it is not retried), or a URL. Files are checked before any request: they exist,
//! are regular, non-empty files of at most 2 GB.

use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures::{Stream, StreamExt};
use reqwest::multipart::{Form, Part};
use tokio::io::AsyncRead;

use crate::error::{Error, Result};

/// The largest file the API accepts: 2 GB.
pub const MAX_FILE_SIZE: u64 = 2 * 1024 * 1024 * 1024;

/// A reader for [`Media::reader`].
type BoxReader = Pin<Box<dyn AsyncRead + Send + Sync>>;

/// Upload progress: `(bytes sent, total bytes)`.
pub type Progress = Arc<dyn Fn(u64, u64) + Send + Sync>;

/// What to upload: a local file (streamed with its length, never read whole, re-opened for each
/// retry), bytes in memory, a reader of known length (sent once: it cannot be replayed, so it is
/// not retried), or a URL the API fetches itself. Build one with [`Media::path`],
/// [`Media::bytes`], [`Media::reader`] or [`Media::url`].
#[derive(Clone)]
pub struct Media(Source);

impl std::fmt::Debug for Media {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl Media {
    /// A local file.
    pub fn path(p: impl AsRef<Path>) -> Self {
        Self(Source::Path(p.as_ref().to_path_buf()))
    }
    /// Bytes in memory, sent with `filename`.
    pub fn bytes(data: impl Into<Bytes>, filename: impl Into<String>) -> Self {
        Self(Source::Bytes {
            data: data.into(),
            filename: filename.into(),
        })
    }
    /// A reader of `len` bytes, sent with `filename` (once: a request that carries it is not
    /// retried).
    pub fn reader(
        reader: impl AsyncRead + Send + Sync + 'static,
        len: u64,
        filename: impl Into<String>,
    ) -> Self {
        Self(Source::Reader {
            reader: Arc::new(Mutex::new(Some(Box::pin(reader)))),
            len,
            filename: filename.into(),
        })
    }
    /// A URL the API fetches itself.
    pub fn url(u: impl Into<String>) -> Self {
        Self(Source::Url(u.into()))
    }
    /// Checks the media before any request; returns its length (0 for a URL).
    pub(crate) async fn check(&self, field: &'static str) -> Result<u64> {
        self.0.check(field).await
    }
    fn part(&self, len: u64, progress: Option<Progress>) -> Option<Part> {
        self.0.part(len, progress)
    }
    fn is_url(&self) -> bool {
        matches!(self.0, Source::Url(_))
    }
}

/// The kinds of [`Media`].
#[derive(Clone)]
enum Source {
    /// A local file, streamed.
    Path(PathBuf),
    /// Bytes in memory, with a file name.
    Bytes {
        /// The content.
        data: Bytes,
        /// The file name sent with it.
        filename: String,
    },
    /// A reader of known length (not retried: it cannot be read twice).
    Reader {
        /// The reader; taken by the first attempt.
        reader: Arc<Mutex<Option<BoxReader>>>,
        /// Its length in bytes.
        len: u64,
        /// The file name sent with it.
        filename: String,
    },
    /// A URL the API fetches itself.
    Url(String),
}

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Path(p) => f.debug_tuple("Path").field(p).finish(),
            Self::Bytes { data, filename } => f
                .debug_struct("Bytes")
                .field("len", &data.len())
                .field("filename", filename)
                .finish(),
            Self::Reader { len, filename, .. } => f
                .debug_struct("Reader")
                .field("len", len)
                .field("filename", filename)
                .finish(),
            Self::Url(u) => f.debug_tuple("Url").field(u).finish(),
        }
    }
}

impl Source {
    /// Checks the media before any request; returns its length (0 for a URL).
    async fn check(&self, field: &'static str) -> Result<u64> {
        match self {
            Self::Path(p) => {
                let meta = tokio::fs::metadata(p).await.map_err(|source| Error::Io {
                    path: p.clone(),
                    source,
                })?;
                if !meta.is_file() {
                    return Err(Error::invalid(
                        field,
                        format!("{} is not a regular file", p.display()),
                    ));
                }
                check_len(field, meta.len())
            }
            Self::Bytes { data, .. } => check_len(field, data.len() as u64),
            Self::Reader { len, .. } => check_len(field, *len),
            Self::Url(u) => {
                let url = reqwest::Url::parse(u)
                    .map_err(|e| Error::invalid(field, format!("not a URL: {e}")))?;
                if !matches!(url.scheme(), "http" | "https") {
                    return Err(Error::invalid(field, "must be an http(s) URL"));
                }
                Ok(0)
            }
        }
    }

    /// The multipart part for an attempt; `None` when the media cannot be sent again.
    fn part(&self, len: u64, progress: Option<Progress>) -> Option<Part> {
        let (body, filename): (reqwest::Body, String) = match self {
            Self::Url(u) => return Some(Part::text(u.clone())),
            Self::Path(p) => {
                let path = p.clone();
                // Opened lazily, when the body is polled: every attempt re-opens the file.
                let stream =
                    futures::stream::once(async move { tokio::fs::File::open(path).await })
                        .map(|file| match file {
                            Ok(f) => tokio_util::io::ReaderStream::with_capacity(f, 256 * 1024)
                                .left_stream(),
                            Err(e) => futures::stream::once(async move { Err(e) }).right_stream(),
                        })
                        .flatten();
                let name = p
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "upload".into());
                (
                    reqwest::Body::wrap_stream(counted(stream, len, progress)),
                    name,
                )
            }
            Self::Bytes { data, filename } => {
                let chunks: Vec<std::io::Result<Bytes>> = data
                    .chunks(256 * 1024)
                    .map(|c| Ok(data.slice_ref(c)))
                    .collect();
                let stream = futures::stream::iter(chunks);
                (
                    reqwest::Body::wrap_stream(counted(stream, len, progress)),
                    filename.clone(),
                )
            }
            Self::Reader {
                reader, filename, ..
            } => {
                let reader = reader.lock().ok()?.take()?;
                let stream = tokio_util::io::ReaderStream::with_capacity(reader, 256 * 1024);
                (
                    reqwest::Body::wrap_stream(counted(stream, len, progress)),
                    filename.clone(),
                )
            }
        };
        Part::stream_with_length(body, len)
            .file_name(filename)
            .mime_str("application/octet-stream")
            .ok()
    }
}

fn check_len(field: &'static str, len: u64) -> Result<u64> {
    if len == 0 {
        return Err(Error::invalid(field, "the file is empty"));
    }
    if len > MAX_FILE_SIZE {
        return Err(Error::invalid(
            field,
            format!("the file is {len} bytes; the API accepts at most {MAX_FILE_SIZE} (2 GB)"),
        ));
    }
    Ok(len)
}

/// Reports progress as chunks go out.
fn counted<S>(
    stream: S,
    total: u64,
    progress: Option<Progress>,
) -> impl Stream<Item = std::io::Result<Bytes>> + Send + 'static
where
    S: Stream<Item = std::io::Result<Bytes>> + Send + 'static,
{
    let mut sent = 0u64;
    stream.inspect(move |chunk| {
        if let (Ok(c), Some(p)) = (chunk, &progress) {
            sent += c.len() as u64;
            p(sent, total);
        }
    })
}

/// The fields of a `multipart/form-data` request, rebuilt into a fresh body for every attempt (a
/// file is re-opened, so an upload can be retried). The crate's uploads use it; send a multipart
/// operation of your own spec with [`Client::send_multipart`](crate::Client::send_multipart).
///
/// ```no_run
/// # async fn demo(tl: twelvelabs::Client) -> twelvelabs::Result<()> {
/// use twelvelabs::upload::{Media, MultipartForm};
/// let mut form = MultipartForm::default();
/// form.text("index_id", "666599d4e6fb7df29de0f89c");
/// form.flag("disable_video_stream", true);
/// form.media("video_url", "video_file", Media::path("clip.mp4")).await?; // checked here
/// let created: twelvelabs::raw::types::CreatedResponse = tl
///     .send_multipart(&twelvelabs::raw::operations::CREATE_TASK, &[], form)
///     .await?;
/// # let _ = created; Ok(()) }
/// ```
#[derive(Clone, Debug, Default)]
pub struct MultipartForm {
    text: Vec<(&'static str, String)>,
    media: Vec<(&'static str, &'static str, Media, u64)>,
}

impl MultipartForm {
    /// A text field.
    pub fn text(&mut self, name: &'static str, value: impl Into<String>) {
        self.text.push((name, value.into()));
    }

    /// A boolean field, as the API expects it: `true` / `false`.
    pub fn flag(&mut self, name: &'static str, value: bool) {
        self.text(name, if value { "true" } else { "false" });
    }

    /// An array field: the field repeated once per value.
    pub fn repeated<S: AsRef<str>>(
        &mut self,
        name: &'static str,
        values: impl IntoIterator<Item = S>,
    ) {
        for v in values {
            self.text(name, v.as_ref());
        }
    }

    /// A media: sent as `url_field` when it is a URL, as the file part `file_field` otherwise.
    /// Checks it first (a file exists, is regular, non-empty and at most 2 GB; a URL is http(s)),
    /// naming `file_field` or `url_field` in the error.
    pub async fn media(
        &mut self,
        url_field: &'static str,
        file_field: &'static str,
        media: Media,
    ) -> Result<()> {
        let field = if media.is_url() {
            url_field
        } else {
            file_field
        };
        let len = media.check(field).await?;
        self.media.push((url_field, file_field, media, len));
        Ok(())
    }

    /// Whether the form streams a file (a path, bytes or a reader, not only URLs and text): the
    /// transport then applies the upload timeout and the upload stall watch instead of the request
    /// timeout.
    pub(crate) fn streams_file(&self) -> bool {
        self.media.iter().any(|(_, _, media, _)| !media.is_url())
    }

    /// Builds the form for one attempt; `None` when a part cannot be sent again.
    pub(crate) fn build(&self, progress: Option<Progress>) -> Option<Form> {
        let mut form = Form::new();
        for (name, value) in &self.text {
            form = form.text(*name, value.clone());
        }
        for (url_field, file_field, media, len) in &self.media {
            let name = if media.is_url() {
                *url_field
            } else {
                *file_field
            };
            form = form.part(name, media.part(*len, progress.clone())?);
        }
        Some(form)
    }
}
