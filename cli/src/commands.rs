//! Every command but `ingest`: each calls one resource of the library and prints the result.

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::time::Duration;

use clap::{Args, Subcommand};
use futures::{StreamExt, TryStreamExt};
use serde::Serialize;
use twelvelabs::api::generate::TextEvent;
use twelvelabs::raw::types::{Confidence, EmbeddingResult};
use twelvelabs::{ClassifiedVideo, Index, SearchClip, Task, Video};
use twelvelabs::{
    ClassifyOption, Client, EngineConfig, EngineOption, GistType, IndexId, SearchOption,
};

use crate::error::CliError;
use crate::render::{self, Mode};
use crate::{Global, exit};

// ---------------------------------------------------------------- shared arguments

/// `NAME=opt,opt`: an engine and its options.
#[derive(Clone, Debug)]
pub struct EngineSpec {
    name: String,
    options: Vec<EngineOption>,
}

impl EngineSpec {
    pub fn into_config(self) -> EngineConfig {
        EngineConfig::new(self.name).options(self.options)
    }
}

impl FromStr for EngineSpec {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (name, opts) = s.split_once('=').unwrap_or((s, ""));
        let name = name.trim();
        if name.is_empty() {
            return Err("give an engine name, e.g. marengo2.6=visual,conversation".into());
        }
        let options = parse_list::<EngineOption>(opts, "engine option")?;
        if options.is_empty() {
            return Err(format!(
                "give {name}'s options, e.g. {name}=visual,conversation"
            ));
        }
        Ok(Self {
            name: name.to_owned(),
            options,
        })
    }
}

/// Comma-separated values of an open enum; values this version does not know are refused.
fn parse_list<T>(s: &str, what: &str) -> Result<Vec<T>, String>
where
    T: FromStr + OpenEnum,
{
    s.split(',')
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(|v| match v.parse::<T>() {
            Ok(t) if t.known() => Ok(t),
            _ => Err(format!("unknown {what} {v:?}")),
        })
        .collect()
}

trait OpenEnum {
    fn known(&self) -> bool;
}
macro_rules! open_enum {
    ($($t:ty),*) => {$(impl OpenEnum for $t { fn known(&self) -> bool { self.is_known() } })*};
}
open_enum!(EngineOption, SearchOption, ClassifyOption);
// A request-only enum: closed, so parsing already refuses unknown values.
impl OpenEnum for GistType {
    fn known(&self) -> bool {
        true
    }
}

/// A clap parser for one value of an enum (used with `value_delimiter = ','`).
fn one_of<T: FromStr + OpenEnum + Clone + Send + Sync + 'static>(
    what: &'static str,
) -> impl Fn(&str) -> Result<T, String> + Clone {
    move |s| match s.trim().parse::<T>() {
        Ok(t) if t.known() => Ok(t),
        _ => Err(format!("unknown {what} {s:?}")),
    }
}

pub fn default_engines() -> Vec<EngineSpec> {
    use EngineOption::*;
    vec![EngineSpec {
        name: "marengo2.6".into(),
        options: vec![Visual, Conversation, TextInVideo, Logo],
    }]
}

pub enum IndexRef {
    Found(IndexId),
    Missing,
}

/// An index by id (24 hex digits) or by exact name.
pub async fn resolve_index(tl: &Client, s: &str) -> Result<IndexRef, CliError> {
    let s = s.trim();
    if s.is_empty() {
        return Err(CliError::usage("--index must not be empty"));
    }
    let is_id = s.len() == 24 && s.bytes().all(|b| b.is_ascii_hexdigit());
    if is_id {
        match tl.indexes().get(s).await {
            Ok(_) => return Ok(IndexRef::Found(IndexId::from(s))),
            Err(e) if e.status().is_some_and(|st| st.as_u16() == 404) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let matches: Vec<Index> = tl
        .indexes()
        .list()
        .name(s)
        .page_limit(50)
        .items()
        .try_filter(|i| std::future::ready(i.raw().index_name.as_deref() == Some(s)))
        .try_collect()
        .await?;
    match matches.as_slice() {
        [] => Ok(IndexRef::Missing),
        [one] => Ok(IndexRef::Found(IndexId::from(one.id().as_str()))),
        many => Err(CliError::new(format!(
            "{} indexes are named {s:?}: {}",
            many.len(),
            many.iter()
                .map(|i| i.id().as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .hint("pass the index id instead")),
    }
}

async fn index_id(tl: &Client, s: &str) -> Result<IndexId, CliError> {
    match resolve_index(tl, s).await? {
        IndexRef::Found(id) => Ok(id),
        IndexRef::Missing => Err(CliError::new(format!("no index named or with id {s:?}"))
            .hint("see `twelvelabs index list`")),
    }
}

// ---------------------------------------------------------------- search

#[derive(Debug, Args)]
pub struct SearchArgs {
    /// What to look for, in natural language.
    query: String,
    /// The index: its name or id.
    #[arg(long, value_name = "NAME|ID")]
    index: String,
    /// Where to look: visual, conversation, text_in_video, logo (comma-separated).
    #[arg(long, default_value = "visual", value_delimiter = ',', value_parser = one_of::<SearchOption>("search option"))]
    options: Vec<SearchOption>,
    /// At most this many clips.
    #[arg(long, default_value_t = 10, value_name = "N")]
    limit: usize,
}

#[derive(Serialize)]
struct ClipRow<'a> {
    video_id: &'a str,
    start: f64,
    end: f64,
    confidence: Option<&'a str>,
    score: Option<f64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    text: Vec<String>,
}

fn confidence(c: Option<&Confidence>) -> Option<&str> {
    c.map(Confidence::as_str)
}

pub async fn search(g: &Global, a: SearchArgs) -> Result<u8, CliError> {
    let tl = crate::client(g)?;
    if a.limit == 0 {
        return Err(CliError::usage("--limit must be at least 1"));
    }
    let options: Vec<SearchOption> = a.options;
    let index = index_id(&tl, &a.index).await?;
    let clips: Vec<SearchClip> = tl
        .search(&index)
        .query(a.query)
        .options(options)
        .page_limit(a.limit.min(50) as u64)
        .pages()
        .map_ok(|p| {
            futures::stream::iter(
                p.clips()
                    .cloned()
                    .map(Ok::<_, twelvelabs::Error>)
                    .collect::<Vec<_>>(),
            )
        })
        .try_flatten()
        .take(a.limit)
        .try_collect()
        .await?;
    let rows: Vec<ClipRow> = clips
        .iter()
        .map(|c| ClipRow {
            video_id: c.video_id().as_str(),
            start: c.span().start,
            end: c.span().end,
            confidence: confidence(Some(c.confidence())).filter(|c| !c.is_empty()),
            score: c.raw().score,
            text: c
                .raw()
                .metadata
                .iter()
                .filter_map(|m| m.text.clone())
                .collect(),
        })
        .collect();
    render::list(&rows, &["VIDEO", "TIME", "CONFIDENCE", "SCORE"], |r| {
        vec![
            r.video_id.to_owned(),
            render::span(Some(r.start), Some(r.end)),
            r.confidence.unwrap_or("").to_owned(),
            render::score(r.score),
        ]
    })?;
    Ok(exit::OK)
}

// ---------------------------------------------------------------- generate

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// The video id.
    video: String,
    /// What to write.
    prompt: String,
    /// 0–1: how inventive.
    #[arg(long)]
    temperature: Option<f64>,
}

pub async fn generate(g: &Global, a: GenerateArgs) -> Result<u8, CliError> {
    let tl = crate::client(g)?;
    let mut req = tl.generate().text(a.video.as_str(), a.prompt);
    if let Some(t) = a.temperature {
        req = req.temperature(t);
    }
    let mut stream = req.stream().await?;
    let mut text = String::new();
    let mut generation_id = None;
    while let Some(event) = stream.next().await {
        match event? {
            TextEvent::Start { generation_id: id } => generation_id = id,
            TextEvent::Text(t) => {
                match render::mode() {
                    Mode::Human => render::out(render::text(&t))?,
                    Mode::Jsonl => render::json_line(&serde_json::json!({"text": t}))?,
                    Mode::Json => {}
                }
                text.push_str(&t);
            }
            _ => {}
        }
    }
    match render::mode() {
        Mode::Human if !text.ends_with('\n') => render::out("\n")?,
        Mode::Json => render::json_doc(&serde_json::json!({
            "video_id": a.video, "id": generation_id, "text": text
        }))?,
        _ => {}
    }
    Ok(exit::OK)
}

// ---------------------------------------------------------------- gist / summaries

#[derive(Debug, Args)]
pub struct GistArgs {
    /// The video id.
    video: String,
    /// What to generate: title, topic, hashtag (comma-separated).
    #[arg(long, default_value = "title,topic,hashtag", value_delimiter = ',', value_parser = one_of::<GistType>("gist type"))]
    types: Vec<GistType>,
}

pub async fn gist(g: &Global, a: GistArgs) -> Result<u8, CliError> {
    let tl = crate::client(g)?;
    let types: Vec<GistType> = a.types;
    let gist = tl.generate().gist(a.video.as_str(), types).await?;
    match render::mode() {
        Mode::Json => render::json_doc(&gist)?,
        Mode::Jsonl => render::json_line(&gist)?,
        Mode::Human => {
            let mut s = String::new();
            if let Some(t) = &gist.title() {
                s.push_str(&format!(
                    "{}   {}\n",
                    render::bold("Title"),
                    render::clean(t)
                ));
            }
            if !gist.topics().is_empty() {
                s.push_str(&format!(
                    "{}  {}\n",
                    render::bold("Topics"),
                    render::clean(&gist.topics().join(", "))
                ));
            }
            if !gist.hashtags().is_empty() {
                let tags: Vec<String> = gist
                    .hashtags()
                    .iter()
                    .map(|h| format!("#{}", h.trim_start_matches('#')))
                    .collect();
                s.push_str(&format!(
                    "{}    {}\n",
                    render::bold("Tags"),
                    render::clean(&tags.join(" "))
                ));
            }
            render::out(s)?;
        }
    }
    Ok(exit::OK)
}

#[derive(Debug, Args)]
pub struct SummarizeArgs {
    /// The video id.
    video: String,
    /// Guide the result, e.g. "for a teenage audience".
    #[arg(long)]
    prompt: Option<String>,
    /// 0–1: how inventive.
    #[arg(long)]
    temperature: Option<f64>,
}

macro_rules! summarize {
    ($tl:expr, $method:ident, $a:expr) => {{
        let mut req = $tl.generate().$method($a.video.as_str());
        if let Some(p) = $a.prompt {
            req = req.prompt(p);
        }
        if let Some(t) = $a.temperature {
            req = req.temperature(t);
        }
        req.send().await?
    }};
}

pub async fn summary(g: &Global, a: SummarizeArgs) -> Result<u8, CliError> {
    let tl = crate::client(g)?;
    let video = a.video.clone();
    let s = summarize!(tl, summary, a);
    let doc = serde_json::json!({"video_id": video, "id": s.id, "summary": s.summary});
    match render::mode() {
        Mode::Json => render::json_doc(&doc)?,
        Mode::Jsonl => render::json_line(&doc)?,
        Mode::Human => render::out(format!("{}\n", render::text(s.summary.trim_end())))?,
    }
    Ok(exit::OK)
}

pub async fn chapters(g: &Global, a: SummarizeArgs) -> Result<u8, CliError> {
    let tl = crate::client(g)?;
    let chapters = summarize!(tl, chapters, a);
    render::list(&chapters, &["#", "TIME", "TITLE", "SUMMARY"], |c| {
        vec![
            c.raw()
                .chapter_number
                .map(|n| n.to_string())
                .unwrap_or_default(),
            render::span(c.raw().start, c.raw().end),
            c.raw().chapter_title.clone().unwrap_or_default(),
            c.raw().chapter_summary.clone().unwrap_or_default(),
        ]
    })?;
    Ok(exit::OK)
}

pub async fn highlights(g: &Global, a: SummarizeArgs) -> Result<u8, CliError> {
    let tl = crate::client(g)?;
    let highlights = summarize!(tl, highlights, a);
    render::list(&highlights, &["TIME", "HIGHLIGHT"], |h| {
        vec![
            render::span(h.raw().start, h.raw().end),
            h.raw().highlight.clone().unwrap_or_default(),
        ]
    })?;
    Ok(exit::OK)
}

// ---------------------------------------------------------------- classify

/// `NAME=prompt,prompt`.
#[derive(Clone, Debug)]
pub struct ClassSpec {
    name: String,
    prompts: Vec<String>,
}

impl FromStr for ClassSpec {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (name, prompts) = s
            .split_once('=')
            .ok_or("write a class as NAME=prompt,prompt")?;
        let prompts: Vec<String> = prompts
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect();
        if name.trim().is_empty() || prompts.is_empty() {
            return Err("write a class as NAME=prompt,prompt".into());
        }
        Ok(Self {
            name: name.trim().to_owned(),
            prompts,
        })
    }
}

#[derive(Debug, Args)]
pub struct ClassifyArgs {
    /// A class and the prompts that describe it: `BeautyTok=Makeup,Skincare` (repeatable).
    #[arg(long = "class", required = true, value_name = "NAME=PROMPTS")]
    classes: Vec<ClassSpec>,
    /// Classify every video of this index (name or id)…
    #[arg(
        long,
        value_name = "NAME|ID",
        required_unless_present = "videos",
        conflicts_with = "videos"
    )]
    index: Option<String>,
    /// …or these videos (comma-separated ids).
    #[arg(long, value_delimiter = ',', value_name = "IDS")]
    videos: Vec<String>,
    /// What to look at: visual, conversation (comma-separated).
    #[arg(long, default_value = "visual", value_delimiter = ',', value_parser = one_of::<ClassifyOption>("classify option"))]
    options: Vec<ClassifyOption>,
    /// Only videos scoring at least this (0–100; the API's default is 75).
    #[arg(long, value_name = "SCORE")]
    min_video_score: Option<f64>,
    /// Only classes covering at least this share of a video (0.01–1; the API's default is 0.5).
    #[arg(long, value_name = "RATIO")]
    min_duration_ratio: Option<f64>,
}

#[derive(Serialize)]
struct ClassRow {
    video_id: String,
    class: String,
    score: Option<f64>,
    duration_ratio: Option<f64>,
    clips: usize,
}

pub async fn classify(g: &Global, a: ClassifyArgs) -> Result<u8, CliError> {
    let tl = crate::client(g)?;
    let mut req = match &a.index {
        Some(i) => tl.classify().index(index_id(&tl, i).await?),
        None => tl.classify().videos(a.videos.iter().map(String::as_str)),
    };
    for c in a.classes {
        req = req.class(c.name, c.prompts);
    }
    req = req.options(a.options);
    if let Some(s) = a.min_video_score {
        req = req.min_video_score(s);
    }
    if let Some(r) = a.min_duration_ratio {
        req = req.min_duration_ratio(r);
    }
    let videos: Vec<ClassifiedVideo> = req.include_clips(true).items().try_collect().await?;
    let rows: Vec<ClassRow> = videos
        .iter()
        .flat_map(|v| {
            v.classes().iter().map(move |c| ClassRow {
                video_id: v.video_id().to_string(),
                class: c.name().to_owned(),
                score: c.raw().score,
                duration_ratio: c.duration_ratio(),
                clips: c.clips().count(),
            })
        })
        .collect();
    render::list(
        &rows,
        &["VIDEO", "CLASS", "SCORE", "DURATION", "CLIPS"],
        |r| {
            vec![
                r.video_id.clone(),
                r.class.clone(),
                render::score(r.score),
                r.duration_ratio
                    .filter(|d| d.is_finite())
                    .map(|d| format!("{:.0}%", d * 100.0))
                    .unwrap_or_default(),
                r.clips.to_string(),
            ]
        },
    )?;
    Ok(exit::OK)
}

// ---------------------------------------------------------------- index

#[derive(Debug, Subcommand)]
pub enum IndexCommand {
    /// Every index.
    List,
    /// Create an index.
    Create {
        /// Its name.
        name: String,
        /// An engine and its options, e.g. `marengo2.6=visual,conversation` (repeatable; default:
        /// marengo2.6 with visual, conversation, text_in_video, logo).
        #[arg(long = "engine", value_name = "NAME=OPTIONS")]
        engines: Vec<EngineSpec>,
        /// Add-ons, e.g. thumbnail (repeatable).
        #[arg(long = "addon", value_name = "ADDON")]
        addons: Vec<String>,
    },
    /// Rename an index.
    Rename {
        /// Its name or id.
        index: String,
        /// The new name.
        new_name: String,
    },
    /// Delete an index and its videos.
    Delete {
        /// Its name or id.
        index: String,
        /// Required: deleting cannot be undone.
        #[arg(long)]
        yes: bool,
    },
}

pub async fn index(g: &Global, c: IndexCommand) -> Result<u8, CliError> {
    let tl = crate::client(g)?;
    match c {
        IndexCommand::List => {
            let indexes: Vec<Index> = tl
                .indexes()
                .list()
                .page_limit(50)
                .items()
                .try_collect()
                .await?;
            render::list(
                &indexes,
                &["ID", "NAME", "VIDEOS", "DURATION", "ENGINES", "CREATED"],
                |i| {
                    vec![
                        i.id().to_string(),
                        i.name().to_owned(),
                        i.video_count().to_string(),
                        render::mmss(i.total_duration()),
                        i.engines()
                            .map(|(name, _)| name)
                            .collect::<Vec<_>>()
                            .join(","),
                        render::date(i.created_at()),
                    ]
                },
            )?;
        }
        IndexCommand::Create {
            name,
            engines,
            addons,
        } => {
            let engines = if engines.is_empty() {
                default_engines()
            } else {
                engines
            };
            let mut req = tl.indexes().create(name.clone());
            for e in engines {
                req = req.engine(e.into_config());
            }
            for a in addons {
                let addon: twelvelabs::Addon =
                    a.parse().map_err(|_| CliError::usage("bad add-on"))?;
                if !addon.is_known() {
                    return Err(CliError::usage(format!("unknown add-on {a:?}")));
                }
                req = req.addon(addon);
            }
            let id = req.send().await?;
            done(
                serde_json::json!({"id": id, "name": name}),
                format!("{id}\n"),
            )?;
        }
        IndexCommand::Rename { index, new_name } => {
            let id = index_id(&tl, &index).await?;
            tl.indexes().rename(&id, new_name.clone()).await?;
            render::note(format!("Renamed index {id} to {new_name:?}"));
            done(
                serde_json::json!({"id": id, "name": new_name}),
                String::new(),
            )?;
        }
        IndexCommand::Delete { index, yes } => {
            if !yes {
                return Err(CliError::usage(format!(
                    "deleting index {index:?} deletes its videos and cannot be undone"
                ))
                .hint("add --yes to delete it"));
            }
            let id = index_id(&tl, &index).await?;
            tl.indexes().delete(&id).await?;
            render::note(format!("Deleted index {id}"));
            done(
                serde_json::json!({"id": id, "deleted": true}),
                String::new(),
            )?;
        }
    }
    Ok(exit::OK)
}

/// The result of a command that changes something: JSON, or `human` on stdout.
fn done(json: serde_json::Value, human: String) -> Result<(), CliError> {
    match render::mode() {
        Mode::Json => render::json_doc(&json),
        Mode::Jsonl => render::json_line(&json),
        Mode::Human if human.is_empty() => Ok(()),
        Mode::Human => render::out(human),
    }
}

// ---------------------------------------------------------------- videos

#[derive(Debug, Subcommand)]
pub enum VideosCommand {
    /// The videos of an index.
    List {
        /// The index: its name or id.
        #[arg(long, value_name = "NAME|ID")]
        index: String,
    },
}

pub async fn videos(g: &Global, c: VideosCommand) -> Result<u8, CliError> {
    let tl = crate::client(g)?;
    let VideosCommand::List { index } = c;
    let id = index_id(&tl, &index).await?;
    let videos: Vec<Video> = tl
        .videos(&id)
        .list()
        .page_limit(50)
        .items()
        .try_collect()
        .await?;
    render::list(
        &videos,
        &["ID", "FILE", "DURATION", "SIZE", "INDEXED"],
        |v| {
            let m = v.raw().metadata.as_ref();
            vec![
                v.id().to_string(),
                v.filename().to_owned(),
                render::mmss(v.duration()),
                m.and_then(|m| m.size)
                    .and_then(|s| u64::try_from(s).ok())
                    .map(render::bytes)
                    .unwrap_or_default(),
                render::date(v.indexed_at()),
            ]
        },
    )?;
    Ok(exit::OK)
}

// ---------------------------------------------------------------- tasks

#[derive(Debug, Subcommand)]
pub enum TasksCommand {
    /// Indexing tasks, newest first.
    List {
        /// Only this index's (name or id).
        #[arg(long, value_name = "NAME|ID")]
        index: Option<String>,
    },
    /// Wait until tasks are ready, showing their status.
    Wait {
        /// Task ids.
        #[arg(required = true)]
        tasks: Vec<String>,
        /// Give up after this many seconds.
        #[arg(long, default_value_t = 7200.0, value_name = "SECS")]
        max_wait: f64,
    },
}

fn task_row(t: &Task) -> Vec<String> {
    vec![
        t.id().to_string(),
        t.status().to_string(),
        t.filename().to_owned(),
        t.video_id().map(ToString::to_string).unwrap_or_default(),
        render::date(t.created_at()),
    ]
}

pub async fn tasks(g: &Global, c: TasksCommand) -> Result<u8, CliError> {
    let tl = crate::client(g)?;
    match c {
        TasksCommand::List { index } => {
            let mut req = tl.tasks().list().page_limit(50);
            if let Some(i) = index {
                req = req.index(index_id(&tl, &i).await?);
            }
            let tasks: Vec<Task> = req.items().try_collect().await?;
            render::list(
                &tasks,
                &["ID", "STATUS", "FILE", "VIDEO", "CREATED"],
                task_row,
            )?;
            Ok(exit::OK)
        }
        TasksCommand::Wait { tasks, max_wait } => {
            let max_wait = Duration::try_from_secs_f64(max_wait)
                .map_err(|_| CliError::usage("--max-wait must be a number of seconds"))?;
            let waits = tasks.iter().map(|id| {
                let tl = tl.clone();
                let id = id.clone();
                async move {
                    let mut updates = tl.tasks().wait(id.as_str()).max_wait(max_wait).updates();
                    let mut last = None;
                    let mut seen = String::new();
                    while let Some(u) = updates.next().await {
                        match u {
                            Ok(t) => {
                                let status = match t.status().as_str() {
                                    "" => "?".to_owned(),
                                    s => s.to_owned(),
                                };
                                if status != seen
                                    && !render::quiet()
                                    && render::mode() == Mode::Human
                                {
                                    eprintln!("{id}: {status}");
                                }
                                seen = status;
                                last = Some(t);
                            }
                            Err(e) => return Err(CliError::from(e)),
                        }
                    }
                    last.ok_or_else(|| CliError::new(format!("task {id}: no state seen")))
                }
            });
            let results = futures::future::join_all(waits).await;
            let mut done_tasks = Vec::new();
            let mut first_err = None;
            for r in results {
                match r {
                    Ok(t) => done_tasks.push(t),
                    Err(e) => {
                        e.print();
                        first_err.get_or_insert(e.code);
                    }
                }
            }
            render::list(
                &done_tasks,
                &["ID", "STATUS", "FILE", "VIDEO", "CREATED"],
                task_row,
            )?;
            Ok(first_err.unwrap_or(exit::OK))
        }
    }
}

// ---------------------------------------------------------------- embed

#[derive(Debug, Subcommand)]
pub enum EmbedCommand {
    /// The embedding of a text.
    Text {
        /// The text (at most 77 tokens).
        text: String,
        /// The engine.
        #[arg(long)]
        engine: Option<String>,
    },
}

pub async fn embed(g: &Global, c: EmbedCommand) -> Result<u8, CliError> {
    let tl = crate::client(g)?;
    let EmbedCommand::Text { text, engine } = c;
    let mut req = tl.embed().text(text);
    if let Some(e) = engine {
        req = req.engine(e);
    }
    let r = req.send().await?;
    let result: Option<&EmbeddingResult> = r.text_embedding.as_ref();
    let vector: Vec<f64> = result
        .map(|t| {
            t.segments
                .first()
                .map(|s| s.vector().to_vec())
                .unwrap_or_else(|| t.float.clone())
        })
        .unwrap_or_default();
    if vector.is_empty() {
        return Err(CliError::new("the API returned no text embedding"));
    }
    let doc =
        serde_json::json!({"engine": r.engine_name, "dimensions": vector.len(), "vector": vector});
    match render::mode() {
        Mode::Json => render::json_doc(&doc)?,
        Mode::Jsonl => render::json_line(&doc)?,
        Mode::Human => {
            render::note(format!(
                "{} dimensions ({})",
                vector.len(),
                r.engine_name.as_deref().unwrap_or("engine not named")
            ));
            let line: Vec<String> = vector.iter().map(|v| v.to_string()).collect();
            render::out(format!("{}\n", line.join(" ")))?;
        }
    }
    Ok(exit::OK)
}

// ---------------------------------------------------------------- fake

/// The `/_fake` control routes, for `fake serve --help`.
const FAKE_CONTROL_HELP: &str = "\
Control routes (same x-api-key header, under /_fake next to /v1.2):
  POST /_fake/advance             {\"seconds\": 60}: move the fake's clock (tasks progress, page
                                  tokens expire, task-quota windows pass)
  PUT  /_fake/videos/ID/data      {\"visual\": [{\"start\": 0, \"end\": 10, \"text\": \"…\"}], …}: what a
                                  video's search, classify and generation work from
  POST /_fake/faults              {\"status\": 429, \"times\": 2, \"path\": \"/search\"} or
                                  {\"delay_ms\": 300}: make the next matching requests fail or wait
  PUT  /_fake/task-quota          {\"per_day\": N}, or {\"per_day\": null} for no cap: the daily cap
                                  on task creation (as --task-quota)
  GET  /_fake/task-quota          the cap, this window's used and remaining, and its reset
  GET  /_fake/requests            API requests per route: {\"POST /tasks\": 3, \"GET /tasks/{id}\": 12}

Every answer has a Date header on the fake's clock.";

#[derive(Debug, Subcommand)]
pub enum FakeCommand {
    /// Run the fake API until Ctrl-C; prints TWELVELABS_BASE_URL=…, TWELVE_LABS_API_KEY=…, ready.
    #[command(after_help = FAKE_CONTROL_HELP)]
    Serve {
        /// The port (default: any free port).
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// The address to listen on (0.0.0.0 only on a network you trust).
        #[arg(long, default_value = "127.0.0.1")]
        bind: IpAddr,
        /// The key the fake accepts (default: a random tlk_FAKE… key).
        #[arg(long, env = "TWELVELABS_FAKE_API_KEY", hide_env_values = true)]
        api_key: Option<String>,
        /// How long indexing a video takes, in seconds.
        #[arg(long, default_value_t = 0.3, value_name = "SECS")]
        indexing_time: f64,
        /// Tasks whose file name contains this end in `failed`.
        #[arg(long, value_name = "TEXT")]
        fail_tasks_matching: Option<String>,
        /// Cap task creation at N a day, as the API's rate limit on creating video indexing tasks
        /// (Free plan 50, Developer 1000). Days are fixed 24-hour windows of the fake's clock from
        /// its start; `POST /tasks` answers carry that counter in the X-Ratelimit-* headers, and
        /// past the cap it answers 429 too_many_requests until the window resets. Change it at
        /// run time with `PUT /_fake/task-quota {"per_day": N}` (null: no cap). Default: no cap.
        #[arg(long, value_name = "N")]
        task_quota: Option<u64>,
    },
}

pub async fn fake(_g: &Global, c: FakeCommand) -> Result<u8, CliError> {
    let FakeCommand::Serve {
        port,
        bind,
        api_key,
        indexing_time,
        fail_tasks_matching,
        task_quota,
    } = c;
    let indexing = Duration::try_from_secs_f64(indexing_time)
        .map_err(|_| CliError::usage("--indexing-time must be a number of seconds"))?;
    let mut b = twelvelabs::testing::FakeServer::builder()
        .bind(SocketAddr::new(bind, port))
        .indexing_time(indexing);
    if let Some(k) = api_key {
        b = b.api_key(k);
    }
    if let Some(p) = fail_tasks_matching {
        b = b.fail_tasks_matching(p);
    }
    if let Some(n) = task_quota {
        b = b.task_quota(n);
    }
    twelvelabs::testing::serve_until_signal(b)
        .await
        .map_err(|e| {
            CliError::new(e.to_string()).hint("is the port taken? try another --port, or 0")
        })?;
    Ok(exit::OK)
}
