//! Secret hygiene: the API key never shows in tracing output, even at TRACE level.
//!
//! Its own test binary, with one test: the subscriber is process-global here, so no other test's
//! threads can race tracing's callsite cache.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use support::{Reply, ScriptServer};
use twelvelabs::{Client, RetryPolicy};

const KEY: &str = "tlk_TEST_5f1d8c2a9e7b4d3c";
const TASK: &str = r#"{"_id":"66659a3efa7835326810120c","status":"ready"}"#;

/// A `MakeWriter` that appends everything to a shared buffer.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Capture {
    type Writer = Capture;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[tokio::test(flavor = "current_thread")]
async fn tracing_at_trace_level_shows_requests_but_never_the_key() {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(capture.clone())
        .with_ansi(false)
        .finish();
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let server = ScriptServer::start([
        Reply::json(503, r#"{"code":"x","message":"busy"}"#),
        Reply::json(200, TASK).header("x-request-id", "req-77"),
        Reply::json(404, r#"{"code":"resource_not_exists","message":"gone"}"#),
    ])
    .await;
    let tl = Client::builder()
        .api_key(KEY)
        .base_url(&server.base_url)
        .retry_policy(RetryPolicy::default().initial_backoff(Duration::from_millis(5)))
        .build()
        .unwrap();
    let get = || {
        tl.call(
            tl.raw()
                .get_task()
                .task_id("66659a3efa7835326810120c")
                .send(),
        )
    };
    get().await.unwrap();
    let err = get().await.unwrap_err();
    tracing::info!("{err} / {err:?}");

    let out = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(
        out.contains("twelvelabs.request"),
        "no request span in:\n{out}"
    );
    assert!(out.contains("operation=\"get_task\""), "{out}");
    assert!(out.contains("attempt=2"), "{out}");
    assert!(out.contains("retrying"), "{out}");
    assert!(out.contains("req-77"), "{out}");
    assert!(
        !out.contains(KEY),
        "the key leaked into tracing output:\n{out}"
    );
}
