//! Text generation with Pegasus: gist (title, topics, hashtags), summaries, chapters, highlights,
//! open-ended text, and open-ended text as a stream.
//!
//! ```no_run
//! # async fn demo(tl: twelvelabs::Client) -> twelvelabs::Result<()> {
//! use futures::StreamExt;
//! use twelvelabs::GistType::*;
//! use twelvelabs::api::generate::TextEvent;
//! let video = "6528b54a43e8c47e4eb47e80";
//! let gist = tl.generate().gist(video, [Title, Topic, Hashtag]).await?;
//! let chapters = tl.generate().chapters(video).prompt("Generate chapters using stressful language.").send().await?;
//! let mut stream = tl.generate().text_stream(video, "Write a rap song based on this video.").await?;
//! while let Some(event) = stream.next().await {
//!     if let TextEvent::Text(t) = event? {
//!         print!("{t}");
//!     }
//! }
//! # let _ = (gist, chapters); Ok(()) }
//! ```

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::stream::{BoxStream, Stream, StreamExt};

use super::build;
use std::marker::PhantomData;

use crate::Client;
use crate::error::{DecodeError, Error, Result, SizeLimited};
use crate::ids::VideoId;
use crate::mode::{Async, Mode, faces};
pub use crate::model::Summary;
use crate::model::{Chapter, Gist, Highlight};
use crate::raw::operations;
use crate::raw::types::{
    self, GenerateStreamEvent, GistType, StreamEventType, SummarizeResponse, SummarizeType,
};

/// Text generation. From [`Client::generate`].
#[derive(Clone, Debug)]
pub struct Generate<M: Mode = Async> {
    mode: PhantomData<M>,
    client: Client,
}

/// Input limits are the spec's: a prompt's `maxLength` (1500 characters) is checked by the
/// generated request type when the body is built, before anything is sent. Blank prompts are
/// refused here (the API rejects them; the spec cannot say "not only spaces").
fn check_prompt(prompt: &str) -> Result<()> {
    if prompt.trim().is_empty() {
        return Err(Error::invalid("prompt", "must not be empty"));
    }
    Ok(())
}

fn check_temperature(t: Option<f64>) -> Result<()> {
    match t {
        Some(t) if !(0.0..=1.0).contains(&t) => {
            Err(Error::invalid("temperature", "must be between 0 and 1"))
        }
        _ => Ok(()),
    }
}

impl<M: Mode> Generate<M> {
    pub(crate) fn new(client: Client) -> Self {
        Self {
            client,
            mode: PhantomData,
        }
    }

    async fn gist_impl(
        &self,
        video: impl Into<VideoId>,
        types_: impl IntoIterator<Item = GistType>,
    ) -> Result<Gist> {
        let video = video.into();
        let types_: Vec<GistType> = types_.into_iter().collect();
        if types_.is_empty() {
            return Err(Error::invalid(
                "types",
                "ask for at least one of title, topic, hashtag",
            ));
        }
        let body: types::GistRequest = build(
            types::GistRequest::builder()
                .video_id(video.checked("video_id")?)
                .types(types_),
        )?;
        let raw = self.client.raw();
        self.client
            .call(raw.gist().body(body).send())
            .await
            .map(Gist::from)
    }

    fn summarize<K: SummaryKind>(&self, video: VideoId) -> Summarize<K, M> {
        Summarize {
            mode: PhantomData,
            client: self.client.clone(),
            video,
            prompt: None,
            temperature: None,
            kind: PhantomData,
        }
    }

    /// A summary of a video. Optionally guided by `.prompt()`.
    pub fn summary(&self, video: impl Into<VideoId>) -> Summarize<Summary, M> {
        self.summarize(video.into())
    }

    /// The chapters of a video.
    pub fn chapters(&self, video: impl Into<VideoId>) -> Summarize<Chapters, M> {
        self.summarize(video.into())
    }

    /// The highlights of a video.
    pub fn highlights(&self, video: impl Into<VideoId>) -> Summarize<Highlights, M> {
        self.summarize(video.into())
    }

    /// Open-ended text from a prompt; `.send()` for the whole text, `.stream()` for events.
    pub fn text(&self, video: impl Into<VideoId>, prompt: impl Into<String>) -> GenerateText<M> {
        GenerateText {
            mode: PhantomData,
            client: self.client.clone(),
            video: video.into(),
            prompt: prompt.into(),
            temperature: None,
        }
    }

    async fn text_stream_impl(
        &self,
        video: impl Into<VideoId>,
        prompt: impl Into<String>,
    ) -> Result<TextStream> {
        self.text(video, prompt).stream_impl().await
    }
}

/// What a [`Summarize`] request returns; sealed.
pub trait SummaryKind: Send + 'static + private::Sealed {
    /// The typed result.
    type Output;
    #[doc(hidden)]
    const TYPE: SummarizeType;
    #[doc(hidden)]
    fn extract(r: SummarizeResponse) -> Result<Self::Output>;
}

mod private {
    pub trait Sealed {}
    impl Sealed for super::Summary {}
    impl Sealed for super::Chapters {}
    impl Sealed for super::Highlights {}
}

fn missing(field: &'static str) -> Error {
    Error::Decode(Box::new(DecodeError {
        status: None,
        path: field.to_owned(),
        snippet: String::new(),
        source: serde::de::Error::custom(format!("the response has no `{field}`")),
    }))
}

/// Marker for chapter summaries; the result is `Vec<Chapter>`.
#[derive(Clone, Copy, Debug)]
pub struct Chapters;
/// Marker for highlights; the result is `Vec<Highlight>`.
#[derive(Clone, Copy, Debug)]
pub struct Highlights;

impl SummaryKind for Summary {
    type Output = Summary;
    const TYPE: SummarizeType = SummarizeType::Summary;
    fn extract(r: SummarizeResponse) -> Result<Summary> {
        Ok(Summary {
            id: r.id,
            summary: r.summary.ok_or_else(|| missing("summary"))?,
        })
    }
}

impl SummaryKind for Chapters {
    type Output = Vec<Chapter>;
    const TYPE: SummarizeType = SummarizeType::Chapter;
    fn extract(r: SummarizeResponse) -> Result<Vec<Chapter>> {
        Ok(r.chapters.into_iter().map(Chapter::from).collect())
    }
}

impl SummaryKind for Highlights {
    type Output = Vec<Highlight>;
    const TYPE: SummarizeType = SummarizeType::Highlight;
    fn extract(r: SummarizeResponse) -> Result<Vec<Highlight>> {
        Ok(r.highlights.into_iter().map(Highlight::from).collect())
    }
}

/// A summary, chapters or highlights request. From [`Generate::summary`], [`Generate::chapters`],
/// [`Generate::highlights`].
#[derive(Clone, Debug)]
#[must_use = "call .send()"]
pub struct Summarize<K, M: Mode = Async> {
    mode: PhantomData<M>,
    client: Client,
    video: VideoId,
    prompt: Option<String>,
    temperature: Option<f64>,
    kind: PhantomData<fn() -> K>,
}

impl<K: SummaryKind, M: Mode> Summarize<K, M> {
    /// Guides the output (purpose, length, tone…).
    pub fn prompt(mut self, p: impl Into<String>) -> Self {
        self.prompt = Some(p.into());
        self
    }
    /// Randomness, 0 to 1 (the API's default 0.2).
    pub fn temperature(mut self, t: f64) -> Self {
        self.temperature = Some(t);
        self
    }
    async fn send_impl(self) -> Result<K::Output> {
        if let Some(p) = &self.prompt {
            check_prompt(p)?;
        }
        check_temperature(self.temperature)?;
        let body: types::SummarizeRequest = build(
            types::SummarizeRequest::builder()
                .video_id(self.video.checked("video_id")?)
                .type_(K::TYPE)
                .prompt(
                    self.prompt
                        .map(types::SummarizeRequestPrompt::try_from)
                        .transpose()
                        .map_err(|e| Error::invalid("prompt", e.to_string()))?,
                )
                .temperature(self.temperature),
        )?;
        let raw = self.client.raw();
        K::extract(self.client.call(raw.summarize().body(body).send()).await?)
    }
}

/// An open-ended generation. From [`Generate::text`].
#[derive(Clone, Debug)]
#[must_use = "call .send() or .stream()"]
pub struct GenerateText<M: Mode = Async> {
    mode: PhantomData<M>,
    client: Client,
    video: VideoId,
    prompt: String,
    temperature: Option<f64>,
}

impl<M: Mode> GenerateText<M> {
    /// Randomness, 0 to 1 (the API's default 0.2).
    pub fn temperature(mut self, t: f64) -> Self {
        self.temperature = Some(t);
        self
    }

    fn body(&self, stream: bool) -> Result<types::GenerateTextRequest> {
        check_prompt(&self.prompt)?;
        check_temperature(self.temperature)?;
        build(
            types::GenerateTextRequest::builder()
                .video_id(self.video.checked("video_id")?)
                .prompt(self.prompt.clone())
                .temperature(self.temperature)
                // Always explicit: the docs disagree on the server's default.
                .stream(stream),
        )
    }

    async fn send_impl(self) -> Result<String> {
        let body = self.body(false)?;
        let raw = self.client.raw();
        let r = self
            .client
            .call(raw.generate_text().body(body).send())
            .await?;
        r.data.ok_or_else(|| missing("data"))
    }

    async fn stream_impl(self) -> Result<TextStream> {
        let body = self.body(true)?;
        // The stream's media types come from the spec; JSON for errors.
        let op = &operations::GENERATE_TEXT;
        let accept = op
            .streams
            .iter()
            .chain(["application/json"].iter())
            .copied()
            .collect::<Vec<_>>()
            .join(", ");
        let response = self
            .client
            .execute_raw(op, &[], false, |request| {
                request
                    .header(reqwest::header::ACCEPT, accept.as_str())
                    .json(&body)
                    .build()
                    .ok()
            })
            .await?;
        let status = response.status();
        let max_line = usize::try_from(self.client.config().max_response_bytes)
            .unwrap_or(usize::MAX)
            .min(MAX_STREAM_LINE_BYTES);
        let client = self.client.clone();
        Ok(TextStream::new(
            response
                .bytes_stream()
                .map(|r| r.map_err(|e| crate::client::transport_error(e, 1)))
                .boxed(),
            status,
            max_line,
        )
        .redacted(move |e| client.redact(e)))
    }
}

/// One event of a generation stream.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum TextEvent {
    /// `stream_start`, with the generation id.
    Start {
        /// The generation id.
        generation_id: Option<String>,
    },
    /// `text_generation`: a piece of the text.
    Text(String),
    /// `stream_end`.
    End {
        /// The generation id, when sent.
        generation_id: Option<String>,
    },
    /// An event type this version does not know, as received (the whole JSON line).
    Other(serde_json::Value),
}

/// The longest line of the generation stream accepted: 1 MiB (or the client's
/// [`max_response_bytes`](crate::ClientBuilder::max_response_bytes), when smaller). An event is a
/// few hundred bytes; a longer line is [`Error::ResponseTooLarge`] and ends the stream.
pub const MAX_STREAM_LINE_BYTES: usize = 1024 * 1024;

/// Splits bytes into lines, however they were chunked. Each byte is scanned for a newline once
/// (only new bytes are searched), and a line may not grow past `max_line`.
#[derive(Debug)]
pub(crate) struct LineSplitter {
    buf: Vec<u8>,
    /// How much of `buf` is known to hold no newline.
    scanned: usize,
    max_line: usize,
}

/// A line longer than the limit.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct LineTooLong;

impl LineSplitter {
    pub(crate) fn new(max_line: usize) -> Self {
        Self {
            buf: Vec::new(),
            scanned: 0,
            max_line,
        }
    }

    /// Adds a chunk; returns the lines it completed (without their `\n`).
    pub(crate) fn push(&mut self, chunk: &[u8]) -> std::result::Result<Vec<Vec<u8>>, LineTooLong> {
        self.buf.extend_from_slice(chunk);
        let mut lines = Vec::new();
        let mut start = 0;
        while let Some(offset) = self
            .buf
            .get(self.scanned..)
            .and_then(|new| new.iter().position(|b| *b == b'\n'))
        {
            let end = self.scanned + offset;
            let line = self.buf.get(start..end).unwrap_or_default();
            if line.len() > self.max_line {
                return Err(LineTooLong);
            }
            lines.push(line.to_vec());
            start = end + 1;
            self.scanned = start;
        }
        self.buf.drain(..start);
        self.scanned = self.buf.len();
        if self.buf.len() > self.max_line {
            return Err(LineTooLong);
        }
        Ok(lines)
    }

    /// The last line, when the bytes did not end with a newline.
    pub(crate) fn finish(&mut self) -> Option<Vec<u8>> {
        self.scanned = 0;
        (!self.buf.is_empty()).then(|| std::mem::take(&mut self.buf))
    }
}

/// Parses one NDJSON line; `Ok(None)` for a blank line.
pub(crate) fn parse_line(
    line: &[u8],
    status: Option<reqwest::StatusCode>,
) -> Result<Option<TextEvent>> {
    let text = String::from_utf8_lossy(line);
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Ok(None);
    }
    let value: serde_json::Value = serde_json::from_str(trimmed).map_err(|e| {
        Error::Decode(Box::new(DecodeError::new::<GenerateStreamEvent>(
            status,
            trimmed.as_bytes(),
            e,
        )))
    })?;
    if value.get("event_type").is_none() {
        // An error object instead of an event.
        if let Ok(body) = serde_json::from_value::<types::ErrorBody>(value.clone()) {
            return Err(Error::StreamFailed {
                message: body.message,
                code: Some(body.code.as_str().to_owned()),
            });
        }
    }
    let event: GenerateStreamEvent = serde_json::from_value(value.clone()).map_err(|e| {
        Error::Decode(Box::new(DecodeError::new::<GenerateStreamEvent>(
            status,
            trimmed.as_bytes(),
            e,
        )))
    })?;
    let generation_id = event
        .metadata
        .as_ref()
        .and_then(|m| m.generation_id.clone());
    Ok(Some(match event.event_type {
        StreamEventType::StreamStart => TextEvent::Start { generation_id },
        StreamEventType::TextGeneration => TextEvent::Text(event.text.unwrap_or_default()),
        StreamEventType::StreamEnd => TextEvent::End { generation_id },
        StreamEventType::StreamError => {
            let (message, code) = match event.error {
                Some(e) => (e.message.unwrap_or_else(|| "stream_error".into()), e.code),
                None => ("stream_error".into(), None),
            };
            return Err(Error::StreamFailed { message, code });
        }
        _ => TextEvent::Other(value),
    }))
}

/// The events of a generation, as a `Stream` of `Result<TextEvent>`. Ends after `stream_end`; a
/// `stream_error` event, an error object, or an end without `stream_end` is an
/// [`Error::StreamFailed`] item (the last). A line longer than [`MAX_STREAM_LINE_BYTES`] is an
/// [`Error::ResponseTooLarge`] item (the last); the body is also bounded by the client's
/// response ceiling and stall timeout.
pub struct TextStream {
    inner: BoxStream<'static, Result<TextEvent>>,
}

impl std::fmt::Debug for TextStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TextStream")
    }
}

impl TextStream {
    pub(crate) fn new(
        bytes: BoxStream<'static, Result<Bytes>>,
        status: reqwest::StatusCode,
        max_line: usize,
    ) -> Self {
        struct St {
            bytes: BoxStream<'static, Result<Bytes>>,
            lines: LineSplitter,
            queue: std::collections::VecDeque<Result<TextEvent>>,
            ended: bool,
            finished: bool,
        }
        let st = St {
            bytes,
            lines: LineSplitter::new(max_line),
            queue: Default::default(),
            ended: false,
            finished: false,
        };
        let inner = futures::stream::unfold(st, move |mut st| async move {
            loop {
                if let Some(item) = st.queue.pop_front() {
                    match &item {
                        Ok(TextEvent::End { .. }) => {
                            st.ended = true;
                            st.finished = true;
                            st.queue.clear();
                        }
                        Err(_) => {
                            st.finished = true;
                            st.queue.clear();
                        }
                        _ => {}
                    }
                    return Some((item, st));
                }
                if st.finished {
                    return None;
                }
                match st.bytes.next().await {
                    Some(Ok(chunk)) => match st.lines.push(&chunk) {
                        Ok(lines) => {
                            for line in lines {
                                if let Some(e) = parse_line(&line, Some(status)).transpose() {
                                    st.queue.push_back(e);
                                }
                            }
                        }
                        Err(LineTooLong) => st.queue.push_back(Err(Error::ResponseTooLarge {
                            limit: max_line as u64,
                            declared: None,
                            what: SizeLimited::StreamLine,
                        })),
                    },
                    Some(Err(e)) => st.queue.push_back(Err(e)),
                    None => {
                        if let Some(line) = st.lines.finish()
                            && let Some(e) = parse_line(&line, Some(status)).transpose()
                        {
                            st.queue.push_back(e);
                        }
                        if st.queue.is_empty() {
                            st.finished = true;
                            if !st.ended {
                                return Some((
                                    Err(Error::StreamFailed {
                                        message: "the stream ended without stream_end".into(),
                                        code: None,
                                    }),
                                    st,
                                ));
                            }
                            return None;
                        }
                        // Drain what the last line gave; the end check comes after.
                        st.queue.push_back(Err(Error::StreamFailed {
                            message: "the stream ended without stream_end".into(),
                            code: None,
                        }));
                    }
                }
            }
        })
        .boxed();
        Self { inner }
    }

    /// Passes every error through `redact` (the client's key redaction).
    fn redacted(self, redact: impl Fn(Error) -> Error + Send + 'static) -> Self {
        Self {
            inner: self.inner.map(move |item| item.map_err(&redact)).boxed(),
        }
    }

    /// Reads the whole stream and returns the text.
    pub async fn collect_text(mut self) -> Result<String> {
        let mut text = String::new();
        while let Some(event) = self.inner.next().await {
            if let TextEvent::Text(t) = event? {
                text.push_str(&t);
            }
        }
        Ok(text)
    }
}

impl Stream for TextStream {
    type Item = Result<TextEvent>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.poll_next_unpin(cx)
    }
}

faces! {
    impl[] Generate<Async> | Generate<crate::blocking::Blocking> {
        /// A title, topics and/or hashtags for a video.
        pub fn gist(&self, video: impl Into<VideoId>, types_: impl IntoIterator<Item = GistType>,) -> Gist => gist_impl;
    }
}

impl Generate<Async> {
    /// Shorthand for `text(video, prompt).stream()`.
    pub async fn text_stream(
        &self,
        video: impl Into<VideoId>,
        prompt: impl Into<String>,
    ) -> Result<TextStream> {
        self.text_stream_impl(video, prompt).await
    }
}

#[cfg(feature = "blocking")]
impl Generate<crate::blocking::Blocking> {
    /// Shorthand for `text(video, prompt).stream()`: the generated text as an iterator of events.
    pub fn text_stream(
        &self,
        video: impl Into<VideoId>,
        prompt: impl Into<String>,
    ) -> Result<crate::blocking::Iter<TextEvent>> {
        let stream = crate::blocking::run(&self.client, self.text_stream_impl(video, prompt))?;
        Ok(crate::blocking::Iter::new(&self.client, stream.boxed()))
    }
}

faces! {
    impl[K: SummaryKind] Summarize<K, Async> | Summarize<K, crate::blocking::Blocking> {
        /// Generates.
        pub fn send(self) -> K::Output => send_impl;
    }
}

faces! {
    impl[] GenerateText<Async> | GenerateText<crate::blocking::Blocking> {
        /// The whole text.
        pub fn send(self) -> String => send_impl;
    }
}

impl GenerateText<Async> {
    /// The text as a stream of events (`stream: true`, NDJSON).
    pub async fn stream(self) -> Result<TextStream> {
        self.stream_impl().await
    }
}

#[cfg(feature = "blocking")]
impl GenerateText<crate::blocking::Blocking> {
    /// The text as an iterator of events (`stream: true`, NDJSON), each read as it arrives.
    pub fn stream(self) -> Result<crate::blocking::Iter<TextEvent>> {
        let client = self.client.clone();
        let stream = crate::blocking::run(&client, self.stream_impl())?;
        Ok(crate::blocking::Iter::new(&client, stream.boxed()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream_of(chunks: &[&str]) -> TextStream {
        let items: Vec<Result<Bytes>> = chunks
            .iter()
            .map(|c| Ok(Bytes::from(c.to_string())))
            .collect();
        TextStream::new(
            futures::stream::iter(items).boxed(),
            reqwest::StatusCode::OK,
            MAX_STREAM_LINE_BYTES,
        )
    }

    #[tokio::test]
    async fn lines_split_across_chunks_parse() {
        let s = stream_of(&[
            "{\"event_type\":\"stream_start\",\"metadata\":{\"generation_id\":\"g1\"}}\n{\"event_ty",
            "pe\":\"text_generation\",\"text\":\"Yo, \"}\n",
            "{\"event_type\":\"text_generation\",\"text\":\"closet\"}\n{\"event_type\":\"stream_end\",\"metadata\":{\"generation_id\":\"g1\"}}",
        ]);
        let events: Vec<_> = s.collect().await;
        assert_eq!(events.len(), 4, "{events:?}");
        assert_eq!(
            events[0].as_ref().unwrap(),
            &TextEvent::Start {
                generation_id: Some("g1".into())
            }
        );
        assert_eq!(
            events[2].as_ref().unwrap(),
            &TextEvent::Text("closet".into())
        );
        assert!(matches!(events[3], Ok(TextEvent::End { .. })));
        let text = stream_of(&[
            "{\"event_type\":\"text_generation\",\"text\":\"a\"}\r\n\n{\"event_type\":\"text_generation\",\"text\":\"b\"}\n{\"event_type\":\"stream_end\"}\n",
        ])
        .collect_text()
        .await
        .unwrap();
        assert_eq!(text, "ab");
    }

    #[tokio::test]
    async fn stream_error_and_missing_end_are_errors() {
        let e = stream_of(&["{\"event_type\":\"text_generation\",\"text\":\"a\"}\n{\"event_type\":\"stream_error\",\"error\":{\"message\":\"model overloaded\"}}\n"])
            .collect_text()
            .await
            .unwrap_err();
        assert!(
            matches!(&e, Error::StreamFailed { message, .. } if message == "model overloaded"),
            "{e:?}"
        );
        let e = stream_of(&["{\"event_type\":\"text_generation\",\"text\":\"a\"}\n"])
            .collect_text()
            .await
            .unwrap_err();
        assert!(
            matches!(&e, Error::StreamFailed { message, .. } if message.contains("without stream_end")),
            "{e:?}"
        );
        let e = stream_of(&["{\"code\":\"token_limit_exceeded\",\"message\":\"too long\"}\n"])
            .collect_text()
            .await
            .unwrap_err();
        assert!(
            matches!(&e, Error::StreamFailed { code: Some(c), .. } if c == "token_limit_exceeded"),
            "{e:?}"
        );
        // Unknown event types are passed through, not fatal.
        let events: Vec<_> = stream_of(&[
            "{\"event_type\":\"usage\",\"text\":\"x\"}\n{\"event_type\":\"stream_end\"}\n",
        ])
        .collect()
        .await;
        assert!(matches!(&events[0], Ok(TextEvent::Other(_))));
        assert_eq!(events.len(), 2);
    }

    #[test]
    fn the_line_splitter_scans_each_byte_once_and_refuses_long_lines() {
        let mut s = LineSplitter::new(8);
        assert_eq!(s.push(b"ab").unwrap(), Vec::<Vec<u8>>::new());
        assert_eq!(s.scanned, 2);
        assert_eq!(s.push(b"c\nde").unwrap(), vec![b"abc".to_vec()]);
        assert_eq!((s.buf.as_slice(), s.scanned), (&b"de"[..], 2));
        assert_eq!(s.push(b"\n\nf").unwrap(), vec![b"de".to_vec(), vec![]]);
        assert_eq!(s.finish(), Some(b"f".to_vec()));
        // A line without a newline may not grow past the limit…
        let mut s = LineSplitter::new(8);
        assert!(s.push(b"12345678").is_ok());
        assert_eq!(s.push(b"9"), Err(LineTooLong));
        // …nor may a complete one.
        let mut s = LineSplitter::new(8);
        assert_eq!(s.push(b"123456789\n"), Err(LineTooLong));
    }

    #[tokio::test]
    async fn a_line_over_the_limit_ends_the_stream_with_a_typed_error() {
        let chunks: Vec<Result<Bytes>> = (0..100)
            .map(|_| Ok(Bytes::from(vec![b'x'; 1000])))
            .collect();
        let events: Vec<_> = TextStream::new(
            futures::stream::iter(chunks).boxed(),
            reqwest::StatusCode::OK,
            4096,
        )
        .collect()
        .await;
        assert_eq!(events.len(), 1, "{events:?}");
        assert!(
            matches!(
                &events[0],
                Err(Error::ResponseTooLarge {
                    limit: 4096,
                    what: SizeLimited::StreamLine,
                    ..
                })
            ),
            "{events:?}"
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 512, ..Default::default() })]

        /// Arbitrary bytes, arbitrarily chunked, never panic the NDJSON stream and always end it.
        #[test]
        fn arbitrary_ndjson_never_panics(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512),
            cuts in proptest::collection::vec(0usize..512, 0..8),
        ) {
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(bytes.len())).collect();
            cuts.sort_unstable();
            let mut chunks = Vec::new();
            let mut last = 0;
            for c in cuts.into_iter().chain([bytes.len()]) {
                chunks.push(Ok(Bytes::copy_from_slice(&bytes[last..c])));
                last = c;
            }
            let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
            let events: Vec<_> = rt.block_on(
                TextStream::new(futures::stream::iter(chunks).boxed(), reqwest::StatusCode::OK, MAX_STREAM_LINE_BYTES).collect::<Vec<_>>(),
            );
            // It ends, and it ends with either stream_end or an error.
            if let Some(last) = events.last() {
                let ends_well = matches!(last, Ok(TextEvent::End { .. }) | Err(_));
                proptest::prop_assert!(ends_well, "the stream ended on {:?}", last);
            }
        }

        /// Valid event lines, split anywhere, always give back the same text.
        #[test]
        fn valid_ndjson_split_anywhere_gives_the_same_text(
            words in proptest::collection::vec("[a-zA-Z ,.!?\\u{e9}\\u{1F600}]{0,12}", 0..12),
            cut in 0usize..2000,
        ) {
            let mut body = String::new();
            for w in &words {
                body.push_str(&serde_json::json!({"event_type": "text_generation", "text": w}).to_string());
                body.push('\n');
            }
            body.push_str("{\"event_type\":\"stream_end\"}\n");
            let bytes = body.into_bytes();
            let cut = cut.min(bytes.len());
            let chunks = vec![Ok(Bytes::copy_from_slice(&bytes[..cut])), Ok(Bytes::copy_from_slice(&bytes[cut..]))];
            let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
            let text = rt.block_on(TextStream::new(futures::stream::iter(chunks).boxed(), reqwest::StatusCode::OK, MAX_STREAM_LINE_BYTES).collect_text()).unwrap();
            proptest::prop_assert_eq!(text, words.concat());
        }
    }
}
