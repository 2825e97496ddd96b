//! `twelvelabs ingest`: renders the events of `twelvelabs::ingest` as progress bars (on a
//! terminal), log lines (elsewhere), JSON lines (`--jsonl`) or one JSON document (`--json`).

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use futures::StreamExt;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;
use twelvelabs::IndexId;
use twelvelabs::ingest::{
    DEFAULT_CONCURRENCY, DEFAULT_METADATA_KEY, FoundIn, Ingest, IngestEvent, IngestSummary, Source,
};

use crate::commands::{EngineSpec, IndexRef, default_engines, resolve_index};
use crate::error::CliError;
use crate::render::{self, Mode};
use crate::{Global, exit};

#[derive(Debug, Args)]
pub struct IngestArgs {
    /// Files, folders (walked recursively, video extensions only) and http(s) URLs.
    #[arg(required = true, value_name = "DIR|FILE|URL")]
    sources: Vec<String>,
    /// The index: its name or id.
    #[arg(long, value_name = "NAME|ID")]
    index: String,
    /// Create the index (named by --index) when it does not exist.
    #[arg(long)]
    create_index: bool,
    /// With --create-index: an engine and its options, e.g. `marengo2.6=visual,conversation`
    /// (repeatable; default: marengo2.6 with visual, conversation, text_in_video, logo).
    #[arg(
        long = "engine",
        value_name = "NAME=OPTIONS",
        requires = "create_index"
    )]
    engines: Vec<EngineSpec>,
    /// Uploads at a time (1–64). Tasks are waited on all at once.
    #[arg(short = 'j', long, default_value_t = DEFAULT_CONCURRENCY, value_name = "N")]
    concurrency: usize,
    /// The manifest that makes re-runs resume (default: twelvelabs-ingest-<INDEX_ID>.json in the
    /// current folder).
    #[arg(long, value_name = "PATH", conflicts_with = "no_manifest")]
    manifest: Option<PathBuf>,
    /// Keep no manifest: a re-run still skips what the index holds (found by content hash).
    #[arg(long)]
    no_manifest: bool,
    /// The custom metadata field each video's content hash is stored in.
    #[arg(long, default_value = DEFAULT_METADATA_KEY, value_name = "KEY")]
    metadata_key: String,
    /// Check that the videos the manifest records are still in the index (one request per file);
    /// what was deleted is sent again.
    #[arg(long)]
    verify: bool,
    /// Do not walk folders inside the folders given.
    #[arg(long)]
    no_recursive: bool,
    /// Stop waiting for a task after this many seconds (it goes on indexing; re-run to wait again).
    #[arg(long, default_value_t = 7200.0, value_name = "SECS")]
    max_wait: f64,
    /// The shortest pause between two status checks of a task, in seconds.
    #[arg(long, default_value_t = 2.0, value_name = "SECS")]
    poll_min: f64,
    /// The longest pause between two status checks of a task, in seconds (within these bounds the
    /// task's own estimate is followed).
    #[arg(long, default_value_t = 30.0, value_name = "SECS")]
    poll_max: f64,
}

fn secs(flag: &str, v: f64) -> Result<Duration, CliError> {
    Duration::try_from_secs_f64(v)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| CliError::usage(format!("--{flag} must be a positive number of seconds")))
}

/// One line of the final table.
#[derive(Clone, Debug, Serialize)]
struct Row {
    source: String,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    video_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    task_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sha256: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
}

impl Row {
    fn new(source: &Source, status: &'static str) -> Self {
        Self {
            source: source.to_string(),
            status,
            video_id: None,
            task_id: None,
            sha256: None,
            reason: None,
        }
    }
}

#[derive(Serialize)]
struct Report<'a> {
    index_id: &'a str,
    summary: &'a IngestSummary,
    items: Vec<&'a Row>,
}

pub async fn run(g: &Global, a: IngestArgs) -> Result<u8, CliError> {
    let tl = crate::client(g)?;
    if !(1..=twelvelabs::ingest::MAX_CONCURRENCY).contains(&a.concurrency) {
        return Err(CliError::usage(format!(
            "--concurrency must be between 1 and {}",
            twelvelabs::ingest::MAX_CONCURRENCY
        )));
    }
    let (max_wait, poll_min, poll_max) = (
        secs("max-wait", a.max_wait)?,
        secs("poll-min", a.poll_min)?,
        secs("poll-max", a.poll_max)?,
    );
    if poll_max < poll_min {
        return Err(CliError::usage("--poll-max must be at least --poll-min"));
    }
    let index = match resolve_index(&tl, &a.index).await? {
        IndexRef::Found(id) => id,
        IndexRef::Missing if a.create_index => {
            let engines = if a.engines.is_empty() {
                default_engines()
            } else {
                a.engines.clone()
            };
            let mut create = tl.indexes().create(a.index.clone());
            for e in engines {
                create = create.engine(e.into_config());
            }
            let id = create.send().await?;
            render::note(format!("Created index {} ({id})", a.index));
            id
        }
        IndexRef::Missing => {
            return Err(
                CliError::new(format!("no index named or with id {:?}", a.index))
                    .hint("add --create-index to create it, or see `twelvelabs index list`"),
            );
        }
    };
    let manifest = if a.no_manifest {
        None
    } else {
        Some(
            a.manifest
                .clone()
                .unwrap_or_else(|| PathBuf::from(format!("twelvelabs-ingest-{index}.json"))),
        )
    };
    let mut ingest = Ingest::new(&tl, index.clone())
        .sources(a.sources.iter().map(String::as_str))
        .concurrency(a.concurrency)
        .metadata_key(a.metadata_key.clone())
        .recursive(!a.no_recursive)
        .verify(a.verify)
        .max_wait(max_wait)
        .poll_interval(poll_min, poll_max);
    if let Some(m) = &manifest {
        ingest = ingest.manifest(m);
    }
    // One listener for the whole run, installed before the first upload: a Ctrl-C that arrives
    // while an event is being drawn is kept for the next turn of the loop, not lost (a fresh
    // `ctrl_c()` per turn would miss it).
    let mut interrupt = Interrupt::new()?;
    let mut run = ingest.start().await?;
    let stop = run.stop_handle();
    let mut view = View::new(&index);
    let mut interrupts = 0u32;
    let summary = loop {
        let event = tokio::select! {
            e = run.next() => e,
            () = interrupt.recv() => {
                interrupts += 1;
                if interrupts == 1 {
                    view.interrupted();
                    stop.stop();
                    continue;
                }
                view.interrupted();
                view.clear();
                render::note(format!(
                    "Quit. {}",
                    resume_hint(manifest.as_ref())
                ));
                return Ok(exit::INTERRUPTED);
            }
        };
        match event {
            Some(Ok(IngestEvent::Summary(s))) => break s,
            Some(Ok(e)) => view.event(&e)?,
            Some(Err(e)) => {
                view.clear();
                return Err(e.into());
            }
            None => {
                view.clear();
                return Err(CliError::new("the ingest ended without a summary"));
            }
        }
    };
    view.finish(&summary)?;
    let code = if summary.stopped {
        render::note(resume_hint(manifest.as_ref()));
        exit::INTERRUPTED
    } else if summary.is_complete() {
        exit::OK
    } else {
        if summary.still_indexing > 0 || summary.failed > 0 {
            render::note(resume_hint(manifest.as_ref()));
        }
        exit::PARTIAL
    };
    Ok(code)
}

/// Ctrl-C (SIGINT) for the whole run.
struct Interrupt {
    #[cfg(unix)]
    inner: tokio::signal::unix::Signal,
    #[cfg(windows)]
    inner: tokio::signal::windows::CtrlC,
}

impl Interrupt {
    fn new() -> Result<Self, CliError> {
        #[cfg(unix)]
        let inner = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt());
        #[cfg(windows)]
        let inner = tokio::signal::windows::ctrl_c();
        inner
            .map(|inner| Self { inner })
            .map_err(|e| CliError::new(format!("cannot listen for Ctrl-C: {e}")))
    }

    /// The next Ctrl-C (pending forever if the listener is gone).
    async fn recv(&mut self) {
        if self.inner.recv().await.is_none() {
            std::future::pending::<()>().await;
        }
    }
}

fn resume_hint(manifest: Option<&PathBuf>) -> String {
    let how = "Run the same command again to resume: what is ready is skipped, tasks in flight are \
               waited on, failures are retried, nothing is uploaded twice.";
    match manifest {
        Some(m) => format!("{how} (manifest: {})", m.display()),
        None => how.to_owned(),
    }
}

/// A log line is a mark of ours (maybe coloured), a space, then text that may come from a file
/// name or the server: its control characters (escape sequences) are blanked.
fn safe(msg: &str) -> String {
    match msg.split_once(' ') {
        Some((mark, body)) => format!("{mark} {}", render::clean(body)),
        None => render::clean(msg),
    }
}

/// Whether the terminal echoes control characters (`stty` settings `echo` and `echoctl`).
fn echoes_ctrl_c() -> bool {
    std::process::Command::new("stty")
        .arg("-a")
        .stdin(std::process::Stdio::inherit())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .is_some_and(|o| {
            let text = String::from_utf8_lossy(&o.stdout);
            let words: Vec<&str> = text.split([' ', ';', '\n']).collect();
            words.contains(&"echo") && words.contains(&"echoctl")
        })
}

/// Shows the events.
struct View {
    index: IndexId,
    multi: Option<MultiProgress>,
    overall: Option<ProgressBar>,
    lines: HashMap<usize, ProgressBar>,
    names: HashMap<usize, Source>,
    rows: Vec<Row>,
    row_of: HashMap<usize, usize>,
    files: usize,
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("━╸ ")
}

/// A file name short enough for a bar.
fn short(source: &Source) -> String {
    let name = match source {
        Source::File(p) => p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| p.display().to_string()),
        Source::Url(u) => u.rsplit('/').next().unwrap_or(u).to_owned(),
    };
    let name = render::clean(&name);
    if name.chars().count() > 28 {
        let tail: String = name
            .chars()
            .rev()
            .take(27)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        format!("…{tail}")
    } else {
        name
    }
}

impl View {
    fn new(index: &IndexId) -> Self {
        let multi = render::bars()
            .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(10)));
        Self {
            index: index.clone(),
            multi,
            overall: None,
            lines: HashMap::new(),
            names: HashMap::new(),
            rows: Vec::new(),
            row_of: HashMap::new(),
            files: 0,
        }
    }

    /// A line above the bars (or on stderr), unless quiet or JSON on a non-terminal.
    fn log(&self, msg: String) {
        if render::quiet() {
            return;
        }
        let msg = safe(&msg);
        match &self.multi {
            Some(m) => {
                let _ = m.println(msg);
            }
            None if render::mode() == Mode::Human => eprintln!("{msg}"),
            None => {}
        }
    }

    /// A failure or a warning: on stderr in every output mode, unless quiet.
    fn alert(&self, msg: String) {
        if render::quiet() {
            return;
        }
        let msg = safe(&msg);
        match &self.multi {
            Some(m) => {
                let _ = m.println(msg);
            }
            None => eprintln!("{msg}"),
        }
    }

    fn row(&mut self, item: usize, source: &Source, status: &'static str) -> Option<&mut Row> {
        let i = match self.row_of.get(&item) {
            Some(i) => *i,
            None => {
                self.rows.push(Row::new(source, status));
                let i = self.rows.len() - 1;
                self.row_of.insert(item, i);
                i
            }
        };
        let row = self.rows.get_mut(i)?;
        row.status = status;
        Some(row)
    }

    fn line(&mut self, item: usize) -> Option<ProgressBar> {
        if let Some(pb) = self.lines.get(&item) {
            return Some(pb.clone());
        }
        let multi = self.multi.as_ref()?;
        // Styled before it is added, so it is never drawn with the default style.
        let pb = ProgressBar::new(0).with_style(style("{prefix:28} {spinner} {msg}"));
        let pb = match &self.overall {
            Some(o) => multi.insert_before(o, pb),
            None => multi.add(pb),
        };
        let name = self.names.get(&item).map(short).unwrap_or_default();
        pb.set_prefix(name);
        self.lines.insert(item, pb.clone());
        Some(pb)
    }

    /// The overall bar's message: what is in the air.
    fn counts(&self) {
        if let Some(o) = &self.overall {
            let (mut up, mut wait) = (0, 0);
            for i in self.lines.keys() {
                match self
                    .row_of
                    .get(i)
                    .and_then(|r| self.rows.get(*r))
                    .map(|r| r.status)
                {
                    Some("uploading") => up += 1,
                    Some("indexing") => wait += 1,
                    _ => {}
                }
            }
            o.set_message(format!("{up} uploading · {wait} indexing"));
        }
    }

    fn done(&mut self, item: usize) {
        if let Some(pb) = self.lines.remove(&item) {
            pb.finish_and_clear();
            if let Some(m) = &self.multi {
                m.remove(&pb);
            }
        }
        if let Some(o) = &self.overall {
            o.inc(1);
        }
        self.counts();
    }

    fn event(&mut self, e: &IngestEvent) -> Result<(), CliError> {
        if render::mode() == Mode::Jsonl {
            render::json_line(e)?;
        }
        match e {
            IngestEvent::Planned {
                files,
                bytes,
                rejected,
                ignored,
            } => {
                self.files = *files;
                let mut msg = format!(
                    "Ingesting {files} file{} ({}) into index {}",
                    if *files == 1 { "" } else { "s" },
                    render::bytes(*bytes),
                    self.index
                );
                if *rejected > 0 {
                    msg.push_str(&format!("; {rejected} rejected"));
                }
                if *ignored > 0 {
                    msg.push_str(&format!("; {ignored} other files left alone"));
                }
                self.log(msg);
                if let Some(m) = &self.multi {
                    let o = m.add(ProgressBar::new(*files as u64).with_style(style(
                        "{prefix:.bold} [{bar:30.green}] {pos}/{len} files  {msg}  ETA {eta}",
                    )));
                    o.set_prefix("total");
                    o.enable_steady_tick(Duration::from_millis(200));
                    self.overall = Some(o);
                }
            }
            IngestEvent::Rejected { source, reason } => {
                self.rows.push(Row {
                    reason: Some(reason.clone()),
                    ..Row::new(source, "rejected")
                });
                self.alert(format!("{} {source}: {reason}", render::red("✗")));
            }
            IngestEvent::Ignored { source, reason } if render::verbose() > 0 => {
                self.log(format!("{} {source}: {reason}", render::dim("·")));
            }
            IngestEvent::Checked {
                item,
                source,
                sha256,
                ..
            } => {
                self.names.insert(*item, source.clone());
                if let Some(row) = self.row(*item, source, "checked") {
                    row.sha256 = Some(sha256.clone());
                }
            }
            IngestEvent::Duplicate { item, source, of } => {
                if let Some(row) = self.row(*item, source, "duplicate") {
                    row.reason = Some(format!("same content as {of}"));
                }
                self.log(format!(
                    "{} {source}: same content as {of}",
                    render::dim("=")
                ));
                self.done(*item);
            }
            IngestEvent::AlreadyReady {
                item,
                source,
                video_id,
                found_in,
            } => {
                if let Some(row) = self.row(*item, source, "already ready") {
                    row.video_id = Some(video_id.to_string());
                }
                if render::verbose() > 0 {
                    let where_ = match found_in {
                        FoundIn::Manifest => "the manifest",
                        _ => "the index",
                    };
                    self.log(format!(
                        "{} {source}: already ready as video {video_id} (found in {where_})",
                        render::green("✓")
                    ));
                }
                self.done(*item);
            }
            IngestEvent::UploadStarted {
                item,
                source,
                bytes,
            } => {
                self.names.insert(*item, source.clone());
                self.row(*item, source, "uploading");
                if let Some(pb) = self.line(*item) {
                    pb.set_style(style(
                        "{prefix:28} [{bar:24.cyan}] {bytes:>10}/{total_bytes:<10} {bytes_per_sec:>12}",
                    ));
                    pb.set_length(*bytes);
                    pb.set_position(0);
                }
                self.counts();
            }
            IngestEvent::UploadProgress { item, sent, total } => {
                if let Some(pb) = self.lines.get(item) {
                    pb.set_length(*total);
                    pb.set_position(*sent);
                }
            }
            IngestEvent::TaskCreated {
                item,
                source,
                task_id,
            }
            | IngestEvent::Resumed {
                item,
                source,
                task_id,
            } => {
                let resumed = matches!(e, IngestEvent::Resumed { .. });
                if let Some(row) = self.row(*item, source, "indexing") {
                    row.task_id = Some(task_id.to_string());
                }
                if self.multi.is_none() && render::verbose() > 0 || resumed && self.multi.is_none()
                {
                    let what = if resumed {
                        "waiting again on"
                    } else {
                        "uploaded:"
                    };
                    self.log(format!(
                        "{} {source}: {what} task {task_id}",
                        render::dim("↑")
                    ));
                }
                if let Some(pb) = self.line(*item) {
                    pb.set_style(style("{prefix:28} {spinner} {msg}"));
                    pb.set_message(if resumed {
                        format!("resuming task {task_id}")
                    } else {
                        "uploaded; waiting for the task".to_owned()
                    });
                    pb.enable_steady_tick(Duration::from_millis(120));
                }
                self.counts();
            }
            IngestEvent::TaskStatus {
                item,
                status,
                remaining_secs,
                percent,
                ..
            } => {
                if let Some(pb) = self.line(*item) {
                    let mut msg = render::clean(status);
                    if let Some(p) = percent.filter(|p| p.is_finite()) {
                        msg.push_str(&format!(" {p:.0}%"));
                    }
                    if let Some(r) = remaining_secs.filter(|r| r.is_finite() && *r > 0.0) {
                        msg.push_str(&format!(" · {} left", render::mmss(r)));
                    }
                    pb.set_message(msg);
                }
            }
            IngestEvent::Ready {
                item,
                source,
                task_id,
                video_id,
            } => {
                if let Some(row) = self.row(*item, source, "ready") {
                    row.video_id = Some(video_id.to_string());
                    row.task_id = Some(task_id.to_string());
                }
                self.log(format!(
                    "{} {source} → video {video_id}",
                    render::green("✓")
                ));
                self.done(*item);
            }
            IngestEvent::Failed {
                item,
                source,
                task_id,
                reason,
            } => {
                if let Some(row) = self.row(*item, source, "failed") {
                    row.reason = Some(reason.clone());
                    row.task_id = task_id.as_ref().map(ToString::to_string);
                }
                self.alert(format!("{} {source}: {reason}", render::red("✗")));
                self.done(*item);
            }
            IngestEvent::Warning { message, .. } => {
                self.alert(format!("{} {message}", render::yellow("!")));
            }
            IngestEvent::Stopping { uploads_in_flight } => {
                self.alert(format!(
                    "{} Stopping: no new uploads; {uploads_in_flight} upload{} in flight will \
                     finish. Ctrl-C again quits at once.",
                    render::yellow("!"),
                    if *uploads_in_flight == 1 { "" } else { "s" }
                ));
            }
            _ => {}
        }
        Ok(())
    }

    /// The terminal echoed `^C` after the bars, whose last line ends at the right edge: the echo
    /// started a new line that the bars do not know of. Take that line back, so the next redraw
    /// leaves no stale bar behind.
    fn interrupted(&self) {
        if let Some(m) = &self.multi
            && echoes_ctrl_c()
        {
            m.suspend(|| {
                let mut err = std::io::stderr();
                let _ = std::io::Write::write_all(&mut err, b"\x1b[1A\r\x1b[2K");
                let _ = std::io::Write::flush(&mut err);
            });
        }
    }

    fn clear(&mut self) {
        for (_, pb) in self.lines.drain() {
            pb.finish_and_clear();
        }
        if let Some(o) = self.overall.take() {
            o.finish_and_clear();
        }
        if let Some(m) = &self.multi {
            let _ = m.clear();
        }
    }

    fn finish(&mut self, s: &IngestSummary) -> Result<(), CliError> {
        // Items still in the air when the run stopped.
        for (item, _) in self.lines.clone() {
            if let Some(src) = self.names.get(&item).cloned()
                && let Some(row) = self.row(item, &src, "indexing")
                && row.task_id.is_none()
            {
                row.status = "not started";
            }
        }
        for row in &mut self.rows {
            if matches!(row.status, "checked" | "uploading") {
                row.status = "not started";
            }
        }
        self.clear();
        self.rows.sort_by(|a, b| a.source.cmp(&b.source));
        match render::mode() {
            Mode::Jsonl => render::json_line(&IngestEvent::Summary(s.clone()))?,
            Mode::Json => render::json_doc(&Report {
                index_id: self.index.as_str(),
                summary: s,
                items: self.rows.iter().collect(),
            })?,
            Mode::Human => {
                let rows: Vec<Vec<String>> = self
                    .rows
                    .iter()
                    .filter(|r| {
                        r.status != "already ready"
                            || render::verbose() > 0
                            || s.already_ready == s.files
                    })
                    .map(|r| {
                        vec![
                            r.source.clone(),
                            r.status.to_owned(),
                            r.video_id
                                .clone()
                                .or_else(|| r.reason.clone())
                                .or_else(|| r.task_id.as_ref().map(|t| format!("task {t}")))
                                .unwrap_or_default(),
                        ]
                    })
                    .collect();
                if !rows.is_empty() {
                    render::out(render::table(&["FILE", "STATUS", "VIDEO / REASON"], &rows))?;
                }
            }
        }
        if render::mode() == Mode::Human || self.multi.is_some() {
            let mut parts = vec![format!("{} ready", s.ready)];
            if s.already_ready > 0 {
                parts.push(format!("{} already in the index", s.already_ready));
            }
            if s.duplicates > 0 {
                let plural = if s.duplicates == 1 { "" } else { "s" };
                parts.push(format!("{} duplicate{plural}", s.duplicates));
            }
            if s.failed > 0 {
                parts.push(render::red(&format!("{} failed", s.failed)));
            }
            if s.rejected > 0 {
                parts.push(render::red(&format!("{} rejected", s.rejected)));
            }
            if s.still_indexing > 0 {
                parts.push(render::yellow(&format!(
                    "{} still indexing",
                    s.still_indexing
                )));
            }
            if s.not_started > 0 {
                parts.push(render::yellow(&format!("{} not started", s.not_started)));
            }
            render::note(format!(
                "{} in {} ({} uploaded)",
                parts.join(", "),
                render::mmss(s.elapsed_secs),
                render::bytes(s.bytes_uploaded)
            ));
        }
        Ok(())
    }
}
