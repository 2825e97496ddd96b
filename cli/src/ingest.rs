//! `twelvelabs ingest`: renders the events of `twelvelabs::ingest` as progress bars (on a
//! terminal), log lines (elsewhere), JSON lines (`--jsonl`) or one JSON document (`--json`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Local, Utc};
use clap::{Args, Subcommand};
use futures::StreamExt;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;
use twelvelabs::IndexId;
use twelvelabs::ingest::{
    DEFAULT_CONCURRENCY, DEFAULT_METADATA_KEY, FoundIn, Ingest, IngestEvent, IngestSummary,
    Manifest, Source,
};

use crate::commands::{EngineSpec, IndexRef, default_engines, resolve_index};
use crate::error::CliError;
use crate::render::{self, Mode};
use crate::{Global, exit};

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct IngestArgs {
    #[command(subcommand)]
    action: Option<IngestAction>,
    /// Files, folders (walked recursively, video extensions only) and http(s) URLs.
    #[arg(required = true, value_name = "DIR|FILE|URL")]
    sources: Vec<String>,
    /// The index: its name or id.
    #[arg(long, value_name = "NAME|ID", required = true)]
    index: Option<String>,
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
    /// The manifest that makes re-runs resume, an SQLite file (default:
    /// twelvelabs-ingest-<INDEX_ID>.db in the current folder; a JSON manifest of an earlier
    /// version there is imported).
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
    /// Read and hash every file again, even those unchanged (same path, size, modification time
    /// and inode) since the manifest recorded them.
    #[arg(long)]
    rehash: bool,
    /// When the daily quota of task creations runs out, wait for it to reset and go on, instead
    /// of ending with the files left (exit code 4).
    #[arg(long)]
    wait_for_quota: bool,
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

#[derive(Debug, Subcommand)]
enum IngestAction {
    /// Where every file of a manifest stands (a table, or --json), read without the network,
    /// also while an ingest runs.
    Status(StatusArgs),
}

#[derive(Debug, Args)]
struct StatusArgs {
    /// The manifest (default: the one twelvelabs-ingest-*.db in the current folder).
    #[arg(long, value_name = "PATH")]
    manifest: Option<PathBuf>,
}

fn secs(flag: &str, v: f64) -> Result<Duration, CliError> {
    Duration::try_from_secs_f64(v)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| CliError::usage(format!("--{flag} must be a positive number of seconds")))
}

/// One item of `--json`'s `items`.
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

/// Failures and warnings shown as lines on a terminal during a run; the rest are counted (and
/// listed at the end, up to [`SHOWN_AT_END`]).
const SHOWN_LIVE: usize = 10;
/// Failures listed at the end; the full list is in `ingest status`.
const SHOWN_AT_END: usize = 20;
/// Upload bars at most, whatever the concurrency.
const UPLOAD_BARS: usize = 4;

pub async fn run(g: &Global, a: IngestArgs) -> Result<u8, CliError> {
    if let Some(IngestAction::Status(s)) = a.action {
        return status(s);
    }
    let index_arg = a.index.clone().unwrap_or_default();
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
    let index = match resolve_index(&tl, &index_arg).await? {
        IndexRef::Found(id) => id,
        IndexRef::Missing if a.create_index => {
            let engines = if a.engines.is_empty() {
                default_engines()
            } else {
                a.engines.clone()
            };
            let mut create = tl.indexes().create(index_arg.clone());
            for e in engines {
                create = create.engine(e.into_config());
            }
            let id = create.send().await?;
            render::note(format!("Created index {index_arg} ({id})"));
            id
        }
        IndexRef::Missing => {
            return Err(
                CliError::new(format!("no index named or with id {index_arg:?}"))
                    .hint("add --create-index to create it, or see `twelvelabs index list`"),
            );
        }
    };
    let manifest = if a.no_manifest {
        None
    } else {
        Some(match &a.manifest {
            Some(m) => m.clone(),
            None => default_manifest(&index)?,
        })
    };
    let mut ingest = Ingest::new(&tl, index.clone())
        .sources(a.sources.iter().map(String::as_str))
        .concurrency(a.concurrency)
        .metadata_key(a.metadata_key.clone())
        .recursive(!a.no_recursive)
        .verify(a.verify)
        .rehash(a.rehash)
        .wait_for_quota(a.wait_for_quota)
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
    let mut view = View::new(&index, a.concurrency);
    let mut interrupts = 0u32;
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let summary = loop {
        let event = tokio::select! {
            e = run.next() => e,
            _ = tick.tick() => {
                view.tick();
                continue;
            }
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
    view.finish(&summary, manifest.as_deref())?;
    let code = if summary.stopped {
        render::note(resume_hint(manifest.as_ref()));
        exit::INTERRUPTED
    } else if summary.is_complete() {
        exit::OK
    } else {
        if summary.waiting_for_quota > 0 {
            render::note(quota_message(&summary));
        } else if summary.still_indexing > 0 || summary.failed > 0 {
            render::note(resume_hint(manifest.as_ref()));
        }
        exit::PARTIAL
    };
    Ok(code)
}

/// `twelvelabs-ingest-<INDEX_ID>.db` in the current folder. A JSON manifest of an earlier version
/// under the old name (`….json`) is copied there first, so the run imports it (the JSON stays).
fn default_manifest(index: &IndexId) -> Result<PathBuf, CliError> {
    let db = PathBuf::from(format!("twelvelabs-ingest-{index}.db"));
    let old = PathBuf::from(format!("twelvelabs-ingest-{index}.json"));
    if !db.exists() && old.is_file() {
        let tmp = PathBuf::from(format!(".twelvelabs-ingest-{index}.db.copying"));
        std::fs::copy(&old, &tmp)
            .and_then(|_| std::fs::rename(&tmp, &db))
            .map_err(|e| {
                CliError::new(format!(
                    "cannot copy the earlier manifest {} to {}: {e}",
                    old.display(),
                    db.display()
                ))
            })?;
        render::note(format!(
            "Importing the earlier manifest {} into {}",
            old.display(),
            db.display()
        ));
    }
    Ok(db)
}

/// `ingest status`: the manifest's files, read without the network.
fn status(a: StatusArgs) -> Result<u8, CliError> {
    let path = match a.manifest {
        Some(p) => p,
        None => {
            let mut found: Vec<PathBuf> = std::fs::read_dir(".")
                .map_err(|e| CliError::new(format!("cannot read the current folder: {e}")))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.file_name()
                        .map(|n| n.to_string_lossy())
                        .is_some_and(|n| n.starts_with("twelvelabs-ingest-") && n.ends_with(".db"))
                })
                .collect();
            found.sort();
            match found.len() {
                1 => found.remove(0),
                0 => {
                    return Err(CliError::new("no manifest in the current folder")
                        .hint("pass --manifest PATH (the file `ingest --manifest` wrote)"));
                }
                _ => {
                    let names: Vec<String> =
                        found.iter().map(|p| p.display().to_string()).collect();
                    return Err(CliError::new(format!(
                        "several manifests in the current folder: {}",
                        names.join(", ")
                    ))
                    .hint("pass --manifest PATH"));
                }
            }
        }
    };
    let Some(m) = Manifest::open(&path)? else {
        return Err(CliError::new(format!("no manifest at {}", path.display())));
    };
    let counts = m.counts()?;
    match render::mode() {
        Mode::Json | Mode::Jsonl => {
            let mut files = Vec::new();
            m.for_each_file(|f| files.push(f))?;
            if render::mode() == Mode::Jsonl {
                for f in &files {
                    render::json_line(f)?;
                }
                return Ok(exit::OK);
            }
            render::json_doc(&serde_json::json!({
                "manifest": path,
                "index_id": m.index_id(),
                "counts": counts,
                "quota": m.quota(),
                "files": files,
            }))?;
        }
        Mode::Human => {
            let mut rows = Vec::new();
            m.for_each_file(|f| {
                let state = f.state.map_or("not sent", |s| s.as_str());
                let detail = f
                    .video_id
                    .as_ref()
                    .map(ToString::to_string)
                    .or(f.error.clone())
                    .or_else(|| f.task_id.as_ref().map(|t| format!("task {t}")))
                    .unwrap_or_default();
                rows.push(vec![f.path.display().to_string(), state.to_owned(), detail]);
            })?;
            if !rows.is_empty() {
                render::out(render::table(&["FILE", "STATUS", "VIDEO / REASON"], &rows))?;
            }
            render::note(format!(
                "{} files in {} (index {}): {}",
                counts.files,
                path.display(),
                m.index_id(),
                count_line(&[
                    ("ready", counts.ready),
                    ("indexing", counts.indexing),
                    ("uploading", counts.uploading),
                    ("failed", counts.failed),
                    ("not sent", counts.not_sent),
                ])
            ));
            if let Some(q) = m.quota() {
                let at = DateTime::<Utc>::from(q.resets_at);
                if q.remaining == 0 && at > Utc::now() {
                    render::note(format!(
                        "The daily quota of task creations was spent; it resets at {}.",
                        when(at)
                    ));
                }
            }
        }
    }
    Ok(exit::OK)
}

/// `indexing 842 · ready 1,204 · failed 3`: the non-zero counts.
fn count_line(counts: &[(&str, u64)]) -> String {
    let parts: Vec<String> = counts
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(name, n)| format!("{name} {}", thousands(*n)))
        .collect();
    if parts.is_empty() {
        "nothing yet".to_owned()
    } else {
        parts.join(" · ")
    }
}

/// `12,345`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A time in local time and UTC: `2026-12-05 09:00:00 +01:00 (08:00:00 UTC)`.
fn when(at: DateTime<Utc>) -> String {
    format!(
        "{} ({} UTC)",
        at.with_timezone(&Local).format("%Y-%m-%d %H:%M:%S %:z"),
        at.format("%H:%M:%S")
    )
}

/// The command line of this run, quoted for a POSIX shell.
fn this_command() -> String {
    let mut args = std::env::args_os();
    let _ = args.next();
    let mut words = vec!["twelvelabs".to_owned()];
    words.extend(args.map(|a| shell_quote(&a.to_string_lossy())));
    words.join(" ")
}

fn shell_quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,@%+".contains(c));
    if plain {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

fn quota_message(s: &IngestSummary) -> String {
    let left = s.waiting_for_quota;
    let plural = if left == 1 { "" } else { "s" };
    let reset = match s.quota_resets_at {
        Some(at) => format!("It resets at {}.", when(at)),
        None => "The API did not say when it resets.".to_owned(),
    };
    format!(
        "The daily quota of task creations is spent: {left} file{plural} left. {reset}\n\
         Resume then with:\n  {}\n(or add --wait-for-quota to wait for the reset in one run)",
        render::clean(&this_command())
    )
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

/// Shows the events. On a terminal: at most [`UPLOAD_BARS`] upload bars, one line of counts by
/// state, a quota line while waiting for it, and the total bar — a bounded number of lines
/// however many files; only failures and warnings are printed above them (the first
/// [`SHOWN_LIVE`]). Elsewhere: one log line per finished file.
struct View {
    index: IndexId,
    multi: Option<MultiProgress>,
    total: Option<ProgressBar>,
    counts_line: Option<ProgressBar>,
    quota_line: Option<ProgressBar>,
    uploads: HashMap<usize, ProgressBar>,
    /// The state of each item in flight (uploading, validating, indexing…), by item.
    state: HashMap<usize, String>,
    /// Finished items by outcome.
    done: HashMap<&'static str, u64>,
    files: usize,
    alerts: usize,
    failures: Vec<(String, String)>,
    /// While waiting for the quota: when it resets (here, and as the API says).
    quota_until: Option<(std::time::Instant, Option<DateTime<Utc>>)>,
    quota_spent: bool,
    /// `--json` only: one row per item.
    rows: Vec<Row>,
    row_of: HashMap<usize, usize>,
}

impl View {
    fn new(index: &IndexId, concurrency: usize) -> Self {
        let multi = render::bars()
            .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(10)));
        let _ = concurrency;
        Self {
            index: index.clone(),
            multi,
            total: None,
            counts_line: None,
            quota_line: None,
            uploads: HashMap::new(),
            state: HashMap::new(),
            done: HashMap::new(),
            files: 0,
            alerts: 0,
            failures: Vec::new(),
            quota_until: None,
            quota_spent: false,
            rows: Vec::new(),
            row_of: HashMap::new(),
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

    /// A failure or a warning: on stderr in every output mode, unless quiet. On a terminal only
    /// the first few are printed (all are counted, and listed at the end).
    fn alert(&mut self, msg: String) {
        if render::quiet() {
            return;
        }
        let msg = safe(&msg);
        match &self.multi {
            Some(m) => {
                self.alerts += 1;
                if self.alerts <= SHOWN_LIVE {
                    let _ = m.println(msg);
                } else if self.alerts == SHOWN_LIVE + 1 {
                    let _ = m.println(render::dim(
                        "… more failures and warnings are counted below and listed at the end",
                    ));
                }
            }
            None => eprintln!("{msg}"),
        }
    }

    /// `--json` keeps one row per item for its `items`.
    fn row(&mut self, item: usize, source: &Source, status: &'static str) -> Option<&mut Row> {
        if render::mode() != Mode::Json {
            return None;
        }
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

    fn upload_bar(&mut self, item: usize, source: &Source, bytes: u64) {
        let Some(multi) = &self.multi else { return };
        if self.uploads.len() >= UPLOAD_BARS {
            return;
        }
        // Styled before it is added, so it is never drawn with the default style.
        let pb = ProgressBar::new(bytes).with_style(style(
            "{prefix:28} [{bar:24.cyan}] {bytes:>10}/{total_bytes:<10} {bytes_per_sec:>12}",
        ));
        let pb = match &self.counts_line {
            Some(c) => multi.insert_before(c, pb),
            None => multi.add(pb),
        };
        pb.set_prefix(short(source));
        self.uploads.insert(item, pb);
    }

    fn end_upload(&mut self, item: usize) {
        if let Some(pb) = self.uploads.remove(&item) {
            pb.finish_and_clear();
            if let Some(m) = &self.multi {
                m.remove(&pb);
            }
        }
    }

    /// The counts line: items in flight by state, then finished ones.
    fn counts(&self) -> String {
        let mut by: Vec<(String, u64)> = Vec::new();
        for s in self.state.values() {
            match by.iter_mut().find(|(n, _)| n == s) {
                Some((_, c)) => *c += 1,
                None => by.push((s.clone(), 1)),
            }
        }
        let order = |s: &str| match s {
            "uploading" => 0,
            "validating" => 1,
            "pending" => 2,
            "indexing" => 3,
            _ => 4,
        };
        by.sort_by(|a, b| order(&a.0).cmp(&order(&b.0)).then(a.0.cmp(&b.0)));
        let mut parts: Vec<(String, u64)> = by;
        for name in ["ready", "already ready", "duplicate", "failed", "rejected"] {
            let n = self.done.get(name).copied().unwrap_or(0);
            // A task the API calls ready or failed that is still being recorded counts with the
            // finished ones.
            match parts.iter_mut().find(|(p, _)| p == name) {
                Some((_, c)) => *c += n,
                None => parts.push((name.to_owned(), n)),
            }
        }
        if self.quota_spent {
            let finished: u64 = self.done.values().sum();
            let left = (self.files as u64)
                .saturating_sub(finished)
                .saturating_sub(self.state.len() as u64);
            parts.push(("waiting for quota".to_owned(), left));
        }
        let refs: Vec<(&str, u64)> = parts.iter().map(|(n, c)| (n.as_str(), *c)).collect();
        count_line(&refs)
    }

    fn refresh(&self) {
        if let Some(c) = &self.counts_line {
            c.set_message(render::clean(&self.counts()));
        }
        if let Some(t) = &self.total {
            let rate = t.per_sec();
            t.set_message(if rate >= 10.0 {
                format!("{rate:.0} files/s")
            } else {
                format!("{rate:.1} files/s")
            });
        }
    }

    fn finished(&mut self, item: usize, outcome: &'static str) {
        self.state.remove(&item);
        self.end_upload(item);
        *self.done.entry(outcome).or_insert(0) += 1;
        if let Some(t) = &self.total {
            t.inc(1);
        }
        self.refresh();
    }

    fn set_state(&mut self, item: usize, state: &str) {
        self.state.insert(item, state.to_owned());
        self.refresh();
    }

    /// Once a second: the countdown to the quota's reset.
    fn tick(&mut self) {
        let Some((until, at)) = self.quota_until else {
            return;
        };
        let left = until
            .saturating_duration_since(std::time::Instant::now())
            .as_secs_f64()
            .round();
        let msg = match at {
            Some(at) => format!(
                "waiting for the daily quota: resets in {} at {}",
                render::mmss(left),
                when(at)
            ),
            None => format!(
                "waiting for the daily quota: trying again in {}",
                render::mmss(left)
            ),
        };
        if let Some(q) = &self.quota_line {
            q.set_message(msg);
        }
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
                    "Ingesting {} file{} ({}) into index {}",
                    thousands(*files as u64),
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
                    let c = m.add(ProgressBar::new_spinner().with_style(style("{msg}")));
                    let t = m.add(ProgressBar::new(*files as u64).with_style(style(
                        "{prefix:.bold} [{bar:30.green}] {human_pos}/{human_len} files  {msg}  ETA {eta}",
                    )));
                    t.set_prefix("total");
                    t.enable_steady_tick(Duration::from_millis(200));
                    self.counts_line = Some(c);
                    self.total = Some(t);
                    self.refresh();
                }
            }
            IngestEvent::Rejected { source, reason } => {
                self.rows.push(Row {
                    reason: Some(reason.clone()),
                    ..Row::new(source, "rejected")
                });
                *self.done.entry("rejected").or_insert(0) += 1;
                self.failures.push((source.to_string(), reason.clone()));
                self.alert(format!("{} {source}: {reason}", render::red("✗")));
                self.refresh();
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
                if let Some(row) = self.row(*item, source, "checked") {
                    row.sha256 = Some(sha256.clone());
                }
            }
            IngestEvent::Duplicate { item, source, of } => {
                if let Some(row) = self.row(*item, source, "duplicate") {
                    row.reason = Some(format!("same content as {of}"));
                }
                if self.multi.is_none() || render::verbose() > 0 {
                    self.log(format!(
                        "{} {source}: same content as {of}",
                        render::dim("=")
                    ));
                }
                self.finished(*item, "duplicate");
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
                self.finished(*item, "already ready");
            }
            IngestEvent::UploadStarted {
                item,
                source,
                bytes,
            } => {
                self.row(*item, source, "uploading");
                self.upload_bar(*item, source, *bytes);
                self.set_state(*item, "uploading");
            }
            IngestEvent::UploadProgress { item, sent, total } => {
                if let Some(pb) = self.uploads.get(item) {
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
                if self.multi.is_none() && (render::verbose() > 0 || resumed) {
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
                self.end_upload(*item);
                self.set_state(*item, "validating");
            }
            IngestEvent::TaskStatus { item, status, .. } => {
                let status = render::clean(status);
                if self.state.get(item) != Some(&status) {
                    self.set_state(*item, &status);
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
                if self.multi.is_none() {
                    self.log(format!(
                        "{} {source} → video {video_id}",
                        render::green("✓")
                    ));
                }
                self.finished(*item, "ready");
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
                self.failures.push((source.to_string(), reason.clone()));
                self.alert(format!("{} {source}: {reason}", render::red("✗")));
                self.finished(*item, "failed");
            }
            IngestEvent::Warning { message, .. } => {
                self.alert(format!("{} {message}", render::yellow("!")));
            }
            IngestEvent::QuotaSpent {
                resets_at,
                resets_in_secs,
                waiting,
            } => {
                self.quota_spent = true;
                let at = resets_at.map_or_else(|| "an unknown time".to_owned(), when);
                let what = if *waiting {
                    "Waiting for the reset"
                } else {
                    "The uploads in flight finish and the tasks are waited on; the files left wait for a re-run"
                };
                self.alert(format!(
                    "{} The daily quota of task creations is spent; it resets at {at}. {what}.",
                    render::yellow("!")
                ));
                if *waiting {
                    let wait = Duration::from_secs(resets_in_secs.unwrap_or(15 * 60));
                    self.quota_until = Some((std::time::Instant::now() + wait, *resets_at));
                    if let (Some(m), Some(c)) = (&self.multi, &self.counts_line) {
                        let q = m.insert_before(
                            c,
                            ProgressBar::new_spinner().with_style(style("{msg}")),
                        );
                        self.quota_line = Some(q);
                    }
                    self.tick();
                }
                self.refresh();
            }
            IngestEvent::QuotaRenewed => {
                self.quota_spent = false;
                self.quota_until = None;
                if let Some(q) = self.quota_line.take() {
                    q.finish_and_clear();
                    if let Some(m) = &self.multi {
                        m.remove(&q);
                    }
                }
                self.log(format!(
                    "{} The daily quota has reset: uploading again.",
                    render::green("✓")
                ));
                self.refresh();
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
        for (_, pb) in self.uploads.drain() {
            pb.finish_and_clear();
        }
        for pb in [
            self.quota_line.take(),
            self.counts_line.take(),
            self.total.take(),
        ]
        .into_iter()
        .flatten()
        {
            pb.finish_and_clear();
        }
        if let Some(m) = &self.multi {
            let _ = m.clear();
        }
    }

    fn finish(&mut self, s: &IngestSummary, manifest: Option<&Path>) -> Result<(), CliError> {
        self.clear();
        match render::mode() {
            Mode::Jsonl => render::json_line(&IngestEvent::Summary(s.clone()))?,
            Mode::Json => {
                for row in &mut self.rows {
                    if matches!(row.status, "checked" | "uploading") {
                        row.status = "not started";
                    }
                }
                self.rows.sort_by(|a, b| a.source.cmp(&b.source));
                render::json_doc(&Report {
                    index_id: self.index.as_str(),
                    summary: s,
                    items: self.rows.iter().collect(),
                })?;
            }
            Mode::Human => {}
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
            if s.waiting_for_quota > 0 {
                parts.push(render::yellow(&format!(
                    "{} waiting for the quota",
                    s.waiting_for_quota
                )));
            }
            render::note(format!(
                "{} in {} ({} uploaded; {} file{} read, the others unchanged)",
                parts.join(", "),
                render::mmss(s.elapsed_secs),
                render::bytes(s.bytes_uploaded),
                s.files_hashed,
                if s.files_hashed == 1 { "" } else { "s" },
            ));
            if !self.failures.is_empty() && self.multi.is_some() {
                render::note("Failures:");
                for (source, reason) in self.failures.iter().take(SHOWN_AT_END) {
                    render::note(format!(
                        "  {} {}: {}",
                        render::red("✗"),
                        render::clean(source),
                        render::clean(reason)
                    ));
                }
                if self.failures.len() > SHOWN_AT_END {
                    render::note(format!(
                        "  … and {} more",
                        self.failures.len() - SHOWN_AT_END
                    ));
                }
            }
            if let Some(m) = manifest {
                render::note(format!(
                    "Every file's status: twelvelabs ingest status --manifest {}",
                    shell_quote(&m.display().to_string())
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_print_with_thousands_separators_and_only_non_zero() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_204), "1,204");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(
            count_line(&[("indexing", 842), ("failed", 0), ("ready", 1_204)]),
            "indexing 842 · ready 1,204"
        );
        assert_eq!(count_line(&[("ready", 0)]), "nothing yet");
    }

    #[test]
    fn the_resume_command_is_quoted_for_a_shell() {
        assert_eq!(shell_quote("videos/a.mp4"), "videos/a.mp4");
        assert_eq!(shell_quote("my videos"), "'my videos'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
    }
}
