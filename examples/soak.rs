//! Soak run: many requests against the built-in fake with random faults injected, printing the
//! throughput and the resident memory at the start, along the way and at the end. Memory must stay
//! flat: the run fails (exit code 1) when RSS at the end exceeds RSS after warm-up by more than the
//! allowed drift.
//!
//! ```sh
//! cargo run --release --example soak --features testing              # 20,000 requests
//! cargo run --release --example soak --features testing -- 100000    # more
//! ```
//!
//! The mix: list indexes, get an index, get a task, list videos, get a video, list engines, a gist
//! (POST) and a text embedding (the hand-written multipart path), 32 at a time. Before about one
//! request in eight, one fault is injected for the next request: a 500, 502 or 503, a 429 with
//! `Retry-After: 0`, or a slow answer (1–30 ms). The client retries with its default policy (faster
//! backoff); a call whose retries all meet faults is an error, counted by kind. Needs Linux for RSS
//! (`/proc/self/status`).

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use futures::StreamExt;
use twelvelabs::testing::{FakeServer, Fault};
use twelvelabs::{Client, EngineConfig, EngineOption, GistType, RetryPolicy};

/// How much RSS may grow between the end of the warm-up and the end of the run.
const ALLOWED_DRIFT_MIB: f64 = 8.0;
const CONCURRENCY: usize = 32;

fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// One request of the mix; returns its error kind on failure.
async fn one(tl: &Client, n: usize, index: &str, task: &str, video: &str) -> Result<(), String> {
    let out = match n % 8 {
        0 => tl.indexes().list().page_limit(10).send().await.map(drop),
        1 => tl.indexes().get(index).await.map(drop),
        2 => tl.tasks().get(task).await.map(drop),
        3 => tl.videos(index).list().send().await.map(drop),
        4 => tl.videos(index).get(video).await.map(drop),
        5 => tl.engines().list().await.map(drop),
        6 => tl
            .generate()
            .gist(video, [GistType::Title, GistType::Topic])
            .await
            .map(drop),
        _ => tl
            .embed()
            .text("a dog on a skateboard")
            .send()
            .await
            .map(drop),
    };
    out.map_err(|e| {
        let kind = format!("{e:?}");
        kind.split(['(', ' ', '{']).next().unwrap_or("?").to_owned()
    })
}

fn fault() -> Fault {
    match fastrand::u8(0..5) {
        0 => Fault::status(500),
        1 => Fault::status(502),
        2 => Fault::status(503),
        3 => Fault::rate_limited(0),
        _ => Fault::slow(Duration::from_millis(fastrand::u64(1..=30))),
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    let total: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20_000);
    let fake = match FakeServer::builder()
        .indexing_time(Duration::ZERO)
        .start()
        .await
    {
        Ok(f) => f,
        Err(e) => {
            eprintln!("the fake did not start: {e}");
            return ExitCode::FAILURE;
        }
    };
    let tl = Client::builder()
        .api_key(fake.api_key())
        .base_url(fake.base_url())
        .retry_policy(RetryPolicy::default().with_initial_backoff(Duration::from_millis(2)))
        .build();
    let Ok(tl) = tl else {
        eprintln!("client: {tl:?}");
        return ExitCode::FAILURE;
    };
    let setup = async {
        let index = tl
            .indexes()
            .create("soak")
            .engine(EngineConfig::new("marengo2.6").options([EngineOption::Visual]))
            .engine(EngineConfig::new("pegasus1").options([EngineOption::Visual]))
            .send()
            .await?;
        let task = tl
            .tasks()
            .create(&index)
            .video_bytes(vec![0u8; 4096], "clip.mp4")
            .send()
            .await?;
        let video = tl.tasks().wait(&task.id).await?.video_id().to_string();
        Ok::<_, twelvelabs::Error>((
            index.as_str().to_owned(),
            task.id.as_str().to_owned(),
            video,
        ))
    };
    let (index, task, video) = match setup.await {
        Ok(ids) => ids,
        Err(e) => {
            eprintln!("setup failed: {e}");
            return ExitCode::FAILURE;
        }
    };

    // Warm-up: pools, allocator arenas, lazily built tables.
    let run = |from: usize, to: usize| {
        let (tl, fake, index, task, video) = (&tl, &fake, &index, &task, &video);
        futures::stream::iter(from..to)
            .map(move |n| async move {
                if fastrand::u8(0..8) == 0 {
                    fake.inject(fault());
                }
                one(tl, n, index, task, video).await
            })
            .buffer_unordered(CONCURRENCY)
            .fold(
                BTreeMap::<String, usize>::new(),
                |mut errors, r| async move {
                    if let Err(kind) = r {
                        *errors.entry(kind).or_default() += 1;
                    }
                    errors
                },
            )
    };
    let warm = (total / 10).max(100);
    run(0, warm).await;
    let start_rss = rss_mib();
    let requests_before = fake.request_count();
    println!("soak: {total} calls, {CONCURRENCY} in flight, ~1 in 8 preceded by a random fault");
    println!("RSS after {warm} warm-up calls: {start_rss:.1} MiB");

    let started = Instant::now();
    let mut errors = BTreeMap::<String, usize>::new();
    let step = (total / 4).max(1);
    let mut done = 0;
    while done < total {
        let next = (done + step).min(total);
        for (k, v) in run(done, next).await {
            *errors.entry(k).or_default() += v;
        }
        done = next;
        println!(
            "  {done:>7} calls  {:>8.0} calls/s  RSS {:.1} MiB",
            done as f64 / started.elapsed().as_secs_f64(),
            rss_mib()
        );
    }
    let took = started.elapsed();
    let end_rss = rss_mib();
    let sent = fake.request_count() - requests_before;
    let failed: usize = errors.values().sum();
    println!(
        "{total} calls ({sent} HTTP requests with retries) in {:.2} s: {:.0} calls/s, {:.0} requests/s",
        took.as_secs_f64(),
        total as f64 / took.as_secs_f64(),
        sent as f64 / took.as_secs_f64()
    );
    println!(
        "errors after retries: {failed} ({})",
        errors
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let drift = end_rss - start_rss;
    println!("RSS start {start_rss:.1} MiB, end {end_rss:.1} MiB, drift {drift:+.1} MiB");
    if drift > ALLOWED_DRIFT_MIB {
        eprintln!("RSS grew by more than {ALLOWED_DRIFT_MIB} MiB");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
