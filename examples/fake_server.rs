//! The fake Twelve Labs v1.2 API as a process of its own, for code in any language.
//!
//! ```sh
//! cargo run --features testing --example fake_server -- [--port 4010] [--bind 127.0.0.1]
//!     [--api-key tlk_local] [--indexing-time 2.5] [--page-token-ttl 3600] [--fail-tasks-matching broken]
//!     [--task-quota 50]
//! ```
//!
//! It prints `TWELVELABS_BASE_URL=…`, `TWELVE_LABS_API_KEY=…` and `ready`, then serves until
//! Ctrl-C or SIGTERM. Point the official SDKs at it with `TWELVELABS_BASE_URL`, or this crate with
//! `Client::from_env()`. Everything is in `twelvelabs::testing::serve_until_signal`; this file only
//! reads the flags.

use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;
use std::time::Duration;

use twelvelabs::testing::{FakeServer, FakeServerBuilder, serve_until_signal};

const USAGE: &str = "usage: fake_server [--port N] [--bind ADDR] [--api-key KEY] \
                     [--indexing-time SECS] [--page-token-ttl SECS] [--fail-tasks-matching TEXT] \
                     [--task-quota N]";

fn secs(flag: &str, v: &str) -> Result<Duration, String> {
    v.parse::<f64>()
        .ok()
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .ok_or_else(|| format!("{flag} takes a number of seconds, not {v:?}"))
}

fn parse(args: impl IntoIterator<Item = String>) -> Result<FakeServerBuilder, String> {
    let mut b = FakeServer::builder();
    let (mut ip, mut port): (IpAddr, u16) = ([127, 0, 0, 1].into(), 0);
    let mut args = args.into_iter();
    while let Some(flag) = args.next() {
        if flag == "-h" || flag == "--help" {
            return Err(USAGE.into());
        }
        let value = args
            .next()
            .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        match flag.as_str() {
            "--port" => port = value.parse().map_err(|_| format!("bad port {value:?}"))?,
            "--bind" => {
                ip = value
                    .parse()
                    .map_err(|_| format!("bad address {value:?}"))?
            }
            "--api-key" => b = b.api_key(value),
            "--indexing-time" => b = b.indexing_time(secs(&flag, &value)?),
            "--page-token-ttl" => b = b.page_token_ttl(secs(&flag, &value)?),
            "--fail-tasks-matching" => b = b.fail_tasks_matching(value),
            "--task-quota" => {
                b = b.task_quota(
                    value
                        .parse()
                        .map_err(|_| format!("--task-quota takes a whole number, not {value:?}"))?,
                )
            }
            other => return Err(format!("unknown flag {other:?}\n{USAGE}")),
        }
    }
    Ok(b.bind(SocketAddr::new(ip, port)))
}

#[tokio::main]
async fn main() -> ExitCode {
    let builder = match parse(std::env::args().skip(1)) {
        Ok(b) => b,
        Err(msg) => {
            eprintln!("{msg}");
            return ExitCode::from(2);
        }
    };
    match serve_until_signal(builder).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fake_server: {e}");
            ExitCode::FAILURE
        }
    }
}
