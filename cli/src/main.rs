//! `twelvelabs`: the command-line tool of the `twelvelabs` crate. Every command is a thin shell
//! over the library: `ingest` renders the events of `twelvelabs::ingest`, `fake serve` runs
//! `twelvelabs::testing::serve_until_signal`, the others call one resource method each.

mod commands;
mod error;
mod ingest;
mod render;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, CommandFactory, Parser, Subcommand};

use crate::error::CliError;

/// Exit codes, as documented in `--help` and the README.
pub mod exit {
    /// Everything worked.
    pub const OK: u8 = 0;
    /// A request or a local operation failed.
    pub const FAILED: u8 = 1;
    /// The command line is wrong (clap's own code).
    pub const USAGE: u8 = 2;
    /// No usable API key or base URL, or the API refused the key.
    pub const CONFIG: u8 = 3;
    /// `ingest` ran, but some items failed, were rejected, are still indexing or wait for the
    /// daily quota.
    pub const PARTIAL: u8 = 4;
    /// Interrupted with Ctrl-C.
    pub const INTERRUPTED: u8 = 130;
}

const AFTER_HELP: &str = "\
Environment:
  TWELVE_LABS_API_KEY       the API key (or --api-key-file; never a command-line argument)
  TWELVELABS_BASE_URL       another host, e.g. the URL `twelvelabs fake serve` prints
  NO_COLOR                  no colours

Exit codes:
  0    success
  1    a request or a local operation failed
  2    usage error
  3    no usable API key or base URL, or the key was refused
  4    ingest finished, but some items failed, were rejected, are still indexing or
       wait for the daily quota (re-run to resume)
  130  interrupted (Ctrl-C); ingest: re-run the same command to resume";

/// Index, search and generate text about videos with Twelve Labs, from the shell.
#[derive(Debug, Parser)]
#[command(name = "twelvelabs", version, after_help = AFTER_HELP, max_term_width = 100)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

/// Options every command takes.
#[derive(Clone, Debug, Args)]
#[command(next_help_heading = "Global options")]
pub struct Global {
    /// The API host (default https://api.twelvelabs.io; `/v1.2` is added when absent).
    #[arg(long, env = "TWELVELABS_BASE_URL", global = true, value_name = "URL")]
    pub base_url: Option<String>,
    /// Read the API key from this file instead of TWELVE_LABS_API_KEY.
    #[arg(
        long,
        env = "TWELVE_LABS_API_KEY_FILE",
        global = true,
        value_name = "PATH"
    )]
    pub api_key_file: Option<PathBuf>,
    /// Print the result as one JSON document on stdout.
    #[arg(long, global = true, conflicts_with = "jsonl")]
    pub json: bool,
    /// Print one JSON object per line on stdout: per item, or per event for `ingest`.
    #[arg(long, global = true)]
    pub jsonl: bool,
    /// No progress and no messages on stderr; errors only.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// More messages on stderr (-vv: the SDK's request log).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Upload files, folders or URLs into an index and wait until they are ready; resumable.
    Ingest(ingest::IngestArgs),
    /// Search an index in natural language: a table of clips.
    Search(commands::SearchArgs),
    /// Generate text about a video from a prompt, streamed to stdout as it arrives.
    Generate(commands::GenerateArgs),
    /// A title, topics and hashtags for a video.
    Gist(commands::GistArgs),
    /// A summary of a video.
    Summary(commands::SummarizeArgs),
    /// The chapters of a video.
    Chapters(commands::SummarizeArgs),
    /// The highlights of a video.
    Highlights(commands::SummarizeArgs),
    /// Classify the videos of an index (or some videos) into classes described by prompts.
    Classify(commands::ClassifyArgs),
    /// List, create, rename and delete indexes.
    #[command(subcommand)]
    Index(commands::IndexCommand),
    /// List the videos of an index.
    #[command(subcommand)]
    Videos(commands::VideosCommand),
    /// List indexing tasks, or wait for some.
    #[command(subcommand)]
    Tasks(commands::TasksCommand),
    /// Create embeddings.
    #[command(subcommand)]
    Embed(commands::EmbedCommand),
    /// The fake Twelve Labs API as a local server, for offline tests in any language.
    #[command(subcommand)]
    Fake(commands::FakeCommand),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

fn main() -> ExitCode {
    // Never a backtrace: a bug still ends with one line and a way to report it.
    std::panic::set_hook(Box::new(|info| {
        eprintln!(
            "error: internal error: {info}\nhint: this is a bug in twelvelabs; please report it"
        );
    }));
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    render::init(&cli.global);
    init_tracing(&cli.global);
    // A few blocking threads are plenty (file hashing and checks, at most a handful at a time);
    // each one the allocator has seen keeps memory of its own.
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .max_blocking_threads(16)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(exit::FAILED);
        }
    };
    let code = match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            e.print();
            e.code
        }
    };
    // Work left in the background (a generation stream, a wait) must not hold the exit.
    runtime.shutdown_background();
    ExitCode::from(code)
}

fn init_tracing(g: &Global) {
    let level = match (g.quiet, g.verbose) {
        (true, _) => "off",
        (false, 0) => "error",
        (false, 1) => "warn",
        (false, _) => "twelvelabs=debug,warn",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("TWELVELABS_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(render::colors())
        .with_target(false)
        .without_time()
        .try_init();
}

async fn run(cli: Cli) -> Result<u8, CliError> {
    let g = cli.global;
    match cli.command {
        Command::Ingest(a) => ingest::run(&g, a).await,
        Command::Search(a) => commands::search(&g, a).await,
        Command::Generate(a) => commands::generate(&g, a).await,
        Command::Gist(a) => commands::gist(&g, a).await,
        Command::Summary(a) => commands::summary(&g, a).await,
        Command::Chapters(a) => commands::chapters(&g, a).await,
        Command::Highlights(a) => commands::highlights(&g, a).await,
        Command::Classify(a) => commands::classify(&g, a).await,
        Command::Index(c) => commands::index(&g, c).await,
        Command::Videos(c) => commands::videos(&g, c).await,
        Command::Tasks(c) => commands::tasks(&g, c).await,
        Command::Embed(c) => commands::embed(&g, c).await,
        Command::Fake(c) => commands::fake(&g, c).await,
        Command::Completions { shell } => {
            let mut cmd = Cli::command();
            let mut out = std::io::stdout();
            clap_complete::generate(shell, &mut cmd, "twelvelabs", &mut out);
            Ok(exit::OK)
        }
    }
}

/// The client, from `TWELVE_LABS_API_KEY` or `--api-key-file`, and `--base-url` /
/// `TWELVELABS_BASE_URL`.
pub fn client(g: &Global) -> Result<twelvelabs::Client, CliError> {
    let key = match &g.api_key_file {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                CliError::config(format!(
                    "cannot read the API key file {}: {e}",
                    path.display()
                ))
                .hint("--api-key-file (or TWELVE_LABS_API_KEY_FILE) names a file holding the key")
            })?;
            text.lines().next().unwrap_or_default().trim().to_owned()
        }
        None => std::env::var(twelvelabs::client::API_KEY_ENV)
            .unwrap_or_default()
            .trim()
            .to_owned(),
    };
    if key.is_empty() {
        return Err(CliError::config("no API key").hint(
            "set TWELVE_LABS_API_KEY, or put the key in a file and pass --api-key-file; \
             to try offline: `twelvelabs fake serve`",
        ));
    }
    let mut b = twelvelabs::Client::builder()
        .api_key(key)
        .user_agent(concat!("twelvelabs-cli/", env!("CARGO_PKG_VERSION")));
    if let Some(url) = g
        .base_url
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty())
    {
        b = b.base_url(url);
    }
    b.build().map_err(CliError::from)
}
