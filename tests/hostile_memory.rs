//! Hostile networks, memory: huge bodies against the response ceiling, each measured by the
//! process's peak RSS (`/proc/self/status`). One test, run alone in its own process, so that no
//! other test's allocations count; scenarios run one after the other and each measures its peak
//! from the RSS at its start (the high-water mark is reset through `/proc/self/clear_refs`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod hostile_support;

use std::time::Duration;

use futures::StreamExt;
use hostile_support::scenarios::bound;
use hostile_support::{Conn, Rogue, bounded, reset_peak_rss, rss};
use twelvelabs::error::SizeLimited;
use twelvelabs::{Client, Error, RetryPolicy};

const KEY: &str = "tlk_MEMORY_0f9e8d7c6b5a4";
const MIB: u64 = 1 << 20;
const GIB: usize = 1 << 30;
/// What may come on top of the configured ceiling: buffers, the runtime, the server's chunk.
const SLACK: u64 = 32 * MIB;

/// Streams a chunked body of `head` then `filler` repeated up to `total` bytes (or until the
/// client hangs up); `status` first.
async fn huge(mut c: Conn, status: u16, content_type: &str, head: &str, total: usize) {
    c.drain_body().await;
    let mut out = format!(
        "HTTP/1.1 {status} Huge\r\ncontent-type: {content_type}\r\ntransfer-encoding: chunked\r\n\r\n{:x}\r\n{head}\r\n",
        head.len()
    )
    .into_bytes();
    let piece = vec![b'a'; 256 * 1024];
    let mut chunk = format!("{:x}\r\n", piece.len()).into_bytes();
    chunk.extend_from_slice(&piece);
    chunk.extend_from_slice(b"\r\n");
    let mut sent = 0;
    while sent < total {
        out.extend_from_slice(&chunk);
        if !c.write(&out).await {
            return;
        }
        out.clear();
        sent += piece.len();
    }
    c.write("0\r\n\r\n").await;
}

fn client(rogue: &Rogue, ceiling: Option<u64>) -> Client {
    let mut b = Client::builder()
        .api_key(KEY)
        .base_url(&rogue.base_url)
        .retry_policy(RetryPolicy::default().with_initial_backoff(Duration::from_millis(5)));
    if let Some(c) = ceiling {
        b = b.max_response_bytes(c);
    }
    b.build().unwrap()
}

/// Runs a scenario and returns how far the peak RSS rose above the RSS at its start.
async fn peak_over_start<T>(name: &str, f: impl std::future::Future<Output = T>) -> (T, u64) {
    let (start, _) = rss();
    let exact = reset_peak_rss();
    let (out, took) = bounded(bound(name), f).await;
    let (_, peak) = rss();
    let rise = peak.saturating_sub(start);
    println!(
        "{name}: {took:?}, RSS {} MiB at start, peak {} MiB, rise {} MiB{}",
        start / MIB,
        peak / MIB,
        rise / MIB,
        if exact {
            ""
        } else {
            " (peak not reset: an upper bound)"
        }
    );
    (out, rise)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_scenarios() {
    memory_1_gib_json_body_to_a_get().await;
    memory_1_gib_string_in_a_json_body().await;
    memory_1_gib_error_body().await;
    memory_1_gib_ndjson_line().await;
}

async fn memory_1_gib_json_body_to_a_get() {
    let rogue =
        Rogue::start(|c: Conn| huge(c, 200, "application/json", "{\"data\":[\"", GIB)).await;
    let tl = client(&rogue, None);
    let (out, rise) = peak_over_start(
        "memory_1_gib_json_body_to_a_get",
        tl.indexes().list().send(),
    )
    .await;
    let e = out.unwrap_err();
    let ceiling = twelvelabs::client::DEFAULT_MAX_RESPONSE_BYTES;
    assert!(
        matches!(&e, Error::ResponseTooLarge { limit, declared: None, what: SizeLimited::Body } if *limit == ceiling),
        "{e:?}"
    );
    assert!(rise <= ceiling + SLACK, "peak rose {} MiB", rise / MIB);
    assert_eq!(rogue.hits(), 1);
}

async fn memory_1_gib_string_in_a_json_body() {
    let rogue = Rogue::start(|c: Conn| huge(c, 200, "application/json", "{\"_id\":\"", GIB)).await;
    let ceiling = 16 * MIB;
    let tl = client(&rogue, Some(ceiling));
    let (out, rise) = peak_over_start(
        "memory_1_gib_string_in_a_json_body",
        tl.tasks().get("66659a3efa7835326810120c"),
    )
    .await;
    let e = out.unwrap_err();
    assert!(
        matches!(&e, Error::ResponseTooLarge { limit, .. } if *limit == ceiling),
        "{e:?}"
    );
    assert!(rise <= ceiling + SLACK, "peak rose {} MiB", rise / MIB);
}

async fn memory_1_gib_error_body() {
    let rogue = Rogue::start(|c: Conn| huge(c, 500, "text/html", "<html>", GIB)).await;
    let tl = client(&rogue, None);
    let (out, rise) = peak_over_start(
        "memory_1_gib_error_body",
        tl.tasks().get("66659a3efa7835326810120c"),
    )
    .await;
    let e = out.unwrap_err();
    let Error::Api(a) = &e else { panic!("{e:?}") };
    assert_eq!((a.status.as_u16(), a.attempts), (500, 3));
    assert!(
        a.message.starts_with("<html>aaa") && a.message.len() <= 520,
        "{}",
        a.message.len()
    );
    assert!(rise <= SLACK, "peak rose {} MiB", rise / MIB);
}

async fn memory_1_gib_ndjson_line() {
    let rogue = Rogue::start(|c: Conn| {
        huge(
            c,
            200,
            "application/x-ndjson",
            "{\"event_type\":\"text_generation\",\"text\":\"",
            GIB,
        )
    })
    .await;
    let tl = client(&rogue, None);
    let (events, rise) = peak_over_start("memory_1_gib_ndjson_line", async {
        tl.generate()
            .text_stream("v", "p")
            .await
            .unwrap()
            .collect::<Vec<_>>()
            .await
    })
    .await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert!(
        matches!(
            &events[0],
            Err(Error::ResponseTooLarge {
                what: SizeLimited::StreamLine,
                ..
            })
        ),
        "{events:?}"
    );
    let line = twelvelabs::api::generate::MAX_STREAM_LINE_BYTES as u64;
    assert!(rise <= line + SLACK, "peak rose {} MiB", rise / MIB);
}
