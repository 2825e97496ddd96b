//! Secret hygiene: the API key never shows in tracing output, even at TRACE level, nor in the
//! `Debug` / `Display` of anything a representative flow touches.
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
async fn tracing_and_printing_never_show_the_key() {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(capture.clone())
        .with_ansi(false)
        .finish();
    tracing::subscriber::set_global_default(subscriber).unwrap();
    flow_part(&capture).await;

    let server = ScriptServer::start([
        Reply::json(503, r#"{"code":"x","message":"busy"}"#),
        Reply::json(200, TASK).header("x-request-id", "req-77"),
        Reply::json(404, r#"{"code":"resource_not_exists","message":"gone"}"#),
    ])
    .await;
    let tl = Client::builder()
        .api_key(KEY)
        .base_url(&server.base_url)
        .retry_policy(RetryPolicy::default().with_initial_backoff(Duration::from_millis(5)))
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

/// Everything printable from a representative flow: client, builders, config, transport, requests in
/// flight, errors built from real (fake-server) responses.
async fn representative_flow(key: &str, printed: &mut Vec<String>) {
    use twelvelabs::testing::{FakeServer, Fault};
    use twelvelabs::{EngineConfig, EngineOption, SearchOption};
    let fake = FakeServer::builder()
        .api_key(key)
        .indexing_time(Duration::from_millis(20))
        .start()
        .await
        .unwrap();
    let tl = fake.client().unwrap();
    printed.push(format!(
        "{tl:?} {:?} {:?} {:?}",
        tl.config(),
        tl.raw(),
        fake
    ));
    let create = tl
        .indexes()
        .create("secrets")
        .engine(EngineConfig::new("marengo2.6").options([EngineOption::Visual]))
        .engine(EngineConfig::new("pegasus1").options([EngineOption::Visual]));
    printed.push(format!("{create:?}"));
    let index = create.send().await.unwrap();
    let upload = tl
        .tasks()
        .create(&index)
        .video_bytes(vec![1u8; 100], "v.mp4");
    printed.push(format!("{upload:?}"));
    let task = upload.send().await.unwrap();
    let wait = tl
        .tasks()
        .wait(&task.id)
        .min_delay(Duration::from_millis(5));
    printed.push(format!("{wait:?}"));
    let ready = wait.await.unwrap();
    let search = tl
        .search(&index)
        .query("woman")
        .options([SearchOption::Visual]);
    printed.push(format!("{search:?}"));
    printed.push(format!("{:?}", search.send().await.unwrap()));
    let video = ready.video_id().clone();
    printed.push(format!("{:?}", tl.generate().text(&video, "p")));
    let stream = tl.generate().text_stream(&video, "p").await.unwrap();
    printed.push(format!("{stream:?}"));
    // Errors from real responses: 404, 401 (wrong key), injected 429 and 500, a timeout.
    for e in [
        tl.indexes()
            .get("000000000000000000000000")
            .await
            .unwrap_err(),
        twelvelabs::Client::builder()
            .api_key("tlk_wrong")
            .base_url(fake.base_url())
            .build()
            .unwrap()
            .engines()
            .list()
            .await
            .unwrap_err(),
        {
            fake.inject(Fault::status(429).times(3));
            tl.engines().list().await.unwrap_err()
        },
        {
            fake.inject(Fault::status(500).times(3));
            tl.engines().list().await.unwrap_err()
        },
        {
            fake.inject(Fault::slow(Duration::from_millis(200)));
            let quick = twelvelabs::Client::builder()
                .api_key(key)
                .base_url(fake.base_url())
                .request_timeout(Duration::from_millis(20))
                .retry_policy(RetryPolicy::disabled())
                .build()
                .unwrap();
            quick.engines().list().await.unwrap_err()
        },
        twelvelabs::Client::builder()
            .api_key(key)
            .base_url("http://example.com")
            .build()
            .unwrap_err(),
    ] {
        printed.push(format!(
            "{e} | {e:?} | {:?}",
            std::error::Error::source(&e).map(ToString::to_string)
        ));
    }
}

/// The representative flow, under the same global TRACE subscriber.
async fn flow_part(capture: &Capture) {
    let key = "tlk_FLOW_SECRET_9a8b7c6d5e4f";
    let mut printed = Vec::new();
    representative_flow(key, &mut printed).await;
    assert!(printed.len() >= 14, "{}", printed.len());
    for p in &printed {
        assert!(!p.contains(key), "the key leaked: {p}");
    }
    let traced = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(traced.contains("twelvelabs.request"), "nothing was traced");
    assert!(!traced.contains(key), "the key leaked into tracing output");
}
