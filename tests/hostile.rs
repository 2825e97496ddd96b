//! Hostile networks: a loopback server that misbehaves on purpose, one scenario per test, each
//! bounded in time (`hostile_support::scenarios` holds the bounds and `docs/reliability.md` the
//! table), asserting the exact typed outcome. Memory scenarios are in `tests/hostile_memory.rs`
//! (their own process, so that RSS is theirs).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod hostile_support;

use std::future::IntoFuture;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use hostile_support::scenarios::{HOSTILE, bound};
use hostile_support::{Conn, Rogue, bounded};
use proptest::prelude::*;
use twelvelabs::api::generate::TextEvent;
use twelvelabs::error::{SizeLimited, TimeoutKind};
use twelvelabs::upload::Media;
use twelvelabs::{
    Client, ClientBuilder, EngineConfig, EngineOption, Error, RetryPolicy, SearchOption,
};

const KEY: &str = "tlk_HOSTILE_7d3f9a1c5e2b4f60a8";
const TASK_ID: &str = "66659a3efa7835326810120c";
const TASK: &str =
    r#"{"_id":"66659a3efa7835326810120c","index_id":"666599d4e6fb7df29de0f89c","status":"ready"}"#;
const INDEXING: &str = r#"{"_id":"66659a3efa7835326810120c","index_id":"666599d4e6fb7df29de0f89c","status":"indexing"}"#;
const INDEX: &str = "666599d4e6fb7df29de0f89c";

fn fast() -> RetryPolicy {
    RetryPolicy::default()
        .with_initial_backoff(Duration::from_millis(5))
        .with_max_backoff(Duration::from_millis(20))
}

fn client(rogue: &Rogue, f: impl FnOnce(ClientBuilder) -> ClientBuilder) -> Client {
    f(Client::builder()
        .api_key(KEY)
        .base_url(&rogue.base_url)
        .retry_policy(fast()))
    .build()
    .unwrap()
}

/// A sink subscriber at WARN, so that the crate's warnings (which format `RateLimit`) run.
fn warnings_on() -> tracing::subscriber::DefaultGuard {
    tracing::subscriber::set_default(
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::WARN)
            .with_writer(std::io::sink)
            .finish(),
    )
}

// ---------------------------------------------------------------- panics from one header

#[tokio::test]
async fn reset_u64_max_on_a_200() {
    let _warn = warnings_on();
    let rogue = Rogue::start(|mut c: Conn| async move {
        c.respond(
            200,
            &[
                ("content-type", "application/json"),
                ("x-ratelimit-reset", "18446744073709551615"),
                ("x-ratelimit-remaining", "0"),
                ("x-ratelimit-limit", "50"),
            ],
            TASK.as_bytes(),
        )
        .await;
    })
    .await;
    let tl = client(&rogue, |b| b);
    let (out, _) = bounded(bound("reset_u64_max_on_a_200"), tl.tasks().get(TASK_ID)).await;
    assert_eq!(out.unwrap().id(), TASK_ID);
    let rl = tl.rate_limit().unwrap();
    assert_eq!((rl.remaining, rl.reset), (Some(0), None));
    assert_eq!(rl.to_string(), "limit 50, remaining 0, used ?");
}

#[tokio::test]
async fn reset_past_year_9999_on_a_429() {
    let _warn = warnings_on();
    let rogue = Rogue::start(|mut c: Conn| async move {
        c.respond(
            429,
            &[
                ("x-ratelimit-reset", "253402300800"),
                ("x-ratelimit-remaining", "0"),
            ],
            b"",
        )
        .await;
    })
    .await;
    let tl = client(&rogue, |b| b);
    let (out, _) = bounded(
        bound("reset_past_year_9999_on_a_429"),
        tl.tasks().get(TASK_ID),
    )
    .await;
    let e = out.unwrap_err();
    let Error::RateLimited(r) = &e else {
        panic!("{e:?}")
    };
    assert!(r.retry_after.unwrap() > Duration::from_secs(200_000_000_000));
    assert!(
        e.to_string().contains("resets at Sat, 01 Jan +10000"),
        "{e}"
    );
    assert_eq!(rogue.hits(), 1);
}

/// A header value: numbers of every size and sign, floats, dates (year 9999 and beyond), junk.
fn header_value() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<u64>().prop_map(|n| n.to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|f| f.to_string()),
        (0u64..4_000_000_000_000).prop_map(|n| n.to_string()),
        Just("Fri, 31 Dec 9999 23:59:59 GMT".to_owned()),
        Just("Sat, 01 Jan 10000 00:00:00 GMT".to_owned()),
        Just("Thu, 01 Jan 1970 00:00:00 GMT".to_owned()),
        Just("1e308".to_owned()),
        Just("NaN".to_owned()),
        Just("-0".to_owned()),
        "[!-~][ -~]{0,60}[!-~]",
        "(https?|ftp|javascript|data)://[a-z0-9.:@\\[\\]/%-]{0,40}",
        "//[a-z.]{1,20}/[ -~]{0,20}",
    ]
}

#[test]
fn arbitrary_rate_limit_and_retry_after_headers() {
    type Reply = (u16, Vec<(&'static str, String)>);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let next: Arc<Mutex<Option<Reply>>> = Arc::default();
    let (rogue, tl) = rt.block_on(async {
        let next = next.clone();
        let rogue = Rogue::start(move |mut c: Conn| {
            let reply = next.lock().unwrap().clone();
            async move {
                let (status, headers) = reply.unwrap();
                let mut h: Vec<(&str, &str)> =
                    headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
                h.push(("content-type", "application/json"));
                let body = if status == 200 {
                    TASK
                } else {
                    r#"{"code":"x","message":"m"}"#
                };
                c.respond(status, &h, body.as_bytes()).await;
            }
        })
        .await;
        let tl = client(&rogue, |b| b.retry_policy(RetryPolicy::disabled()));
        (rogue, tl)
    });
    let started = std::time::Instant::now();
    let cases = std::sync::atomic::AtomicU32::new(0);
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 96,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    runner
        .run(
            &(
                prop::sample::select(vec![200u16, 301, 429, 503]),
                prop::collection::vec(
                    (
                        prop::sample::select(vec![
                            "retry-after",
                            "x-ratelimit-limit",
                            "x-ratelimit-remaining",
                            "x-ratelimit-used",
                            "x-ratelimit-reset",
                            "location",
                        ]),
                        header_value(),
                    ),
                    0..6,
                ),
            ),
            |(status, headers)| {
                cases.fetch_add(1, Ordering::Relaxed);
                let before = rogue.hits();
                *next.lock().unwrap() = Some((status, headers.clone()));
                let out = rt.block_on(async {
                    tokio::time::timeout(Duration::from_secs(5), tl.tasks().get(TASK_ID)).await
                });
                let out = out.expect("a case took more than 5 s");
                prop_assert_eq!(
                    rogue.hits(),
                    before + 1,
                    "exactly one request, nothing followed"
                );
                match (status, &out) {
                    (200, Ok(t)) => prop_assert_eq!(t.id().as_str(), TASK_ID),
                    (301, Err(Error::Redirect { status, .. })) => {
                        prop_assert_eq!(status.as_u16(), 301)
                    }
                    (429, Err(Error::RateLimited(_))) => {}
                    (503, Err(Error::Api(a))) => prop_assert_eq!(a.status.as_u16(), 503),
                    _ => prop_assert!(false, "status {status} with {headers:?} gave {out:?}"),
                }
                if let Err(e) = &out {
                    let _ = (e.to_string(), format!("{e:?}"), e.is_retryable());
                }
                if let Some(rl) = tl.rate_limit() {
                    let _ = rl.to_string();
                }
                Ok(())
            },
        )
        .unwrap();
    assert_eq!(cases.load(Ordering::Relaxed), 96);
    let limit = bound("arbitrary_rate_limit_and_retry_after_headers") + Duration::from_secs(2);
    assert!(started.elapsed() <= limit, "{:?}", started.elapsed());
}

// ---------------------------------------------------------------- redirects and the key

#[tokio::test]
async fn redirects_to_another_origin_are_not_followed() {
    let elsewhere = Rogue::start(|mut c: Conn| async move {
        c.drain_body().await;
        c.json(TASK).await;
    })
    .await;
    let target = format!("{}/v1.2/tasks/{TASK_ID}", elsewhere.origin);
    let status = Arc::new(AtomicUsize::new(0));
    let (s, t) = (status.clone(), target.clone());
    let rogue = Rogue::start(move |mut c: Conn| {
        let (status, target) = (s.load(Ordering::SeqCst) as u16, t.clone());
        async move {
            c.drain_body().await;
            c.respond(status, &[("location", &target)], b"moved").await;
        }
    })
    .await;
    let tl = client(&rogue, |b| b);
    let (_, _) = bounded(
        bound("redirects_to_another_origin_are_not_followed"),
        async {
            let mut expected_hits = 0;
            for code in [301u16, 302, 303, 307, 308] {
                status.store(code as usize, Ordering::SeqCst);
                let get = tl.tasks().get(TASK_ID).await.unwrap_err();
                let post = tl
                    .indexes()
                    .create("x")
                    .engine(EngineConfig::new("marengo2.6").options([EngineOption::Visual]))
                    .send()
                    .await
                    .unwrap_err();
                let upload = tl.embed().text("x").send().await.unwrap_err();
                expected_hits += 3;
                for e in [get, post, upload] {
                    assert!(
                        matches!(&e, Error::Redirect { status, location: Some(l) }
                        if status.as_u16() == code && *l == target),
                        "{code}: {e:?}"
                    );
                    assert!(!e.is_retryable());
                    assert!(!e.to_string().contains(KEY));
                }
                assert_eq!(rogue.hits(), expected_hits, "{code}: not retried");
            }
        },
    )
    .await;
    assert_eq!(elsewhere.hits(), 0, "nothing reached the other origin");
    assert!(
        rogue
            .heads()
            .iter()
            .all(|h| h.header("x-api-key") == Some(KEY))
    );
}

#[tokio::test]
async fn a_same_origin_redirect_loop() {
    let rogue = Rogue::start(|mut c: Conn| async move {
        let here = c.head.path.clone();
        c.respond(302, &[("location", &here)], b"").await;
    })
    .await;
    let tl = client(&rogue, |b| b);
    let (out, _) = bounded(
        bound("a_same_origin_redirect_loop"),
        tl.tasks().get(TASK_ID),
    )
    .await;
    let e = out.unwrap_err();
    assert!(
        matches!(&e, Error::Redirect { status, .. } if status.as_u16() == 302),
        "{e:?}"
    );
    assert!(!e.is_retryable());
    assert_eq!(rogue.hits(), 1);
}

#[tokio::test]
async fn a_caller_client_that_follows_redirects_is_refused() {
    let rogue = Rogue::start(|mut c: Conn| async move {
        c.json(TASK).await;
    })
    .await;
    let (_, _) = bounded(
        bound("a_caller_client_that_follows_redirects_is_refused"),
        async {
            for follows in [
                reqwest::Client::new(),
                reqwest::Client::builder()
                    .redirect(reqwest::redirect::Policy::limited(2))
                    .build()
                    .unwrap(),
            ] {
                let e = Client::builder()
                    .api_key(KEY)
                    .base_url(&rogue.base_url)
                    .http_client(follows.clone())
                    .build()
                    .unwrap_err();
                assert!(
                    matches!(&e, Error::Config { reason: m, .. } if m.contains("Policy::none()")),
                    "{e:?}"
                );
                // The low-level client with the same reqwest::Client sends nothing.
                let transport = twelvelabs::transport::Transport::new(Some(KEY.to_owned().into()));
                let raw =
                    twelvelabs::raw::Client::new_with_client(&rogue.base_url, follows, transport);
                let e = raw.get_task().task_id(TASK_ID).send().await.unwrap_err();
                assert!(
                    matches!(&e, twelvelabs::raw::Error::Custom(m) if m.contains("redirect")),
                    "{e:?}"
                );
            }
        },
    )
    .await;
    assert_eq!(rogue.hits(), 0);
    // With Policy::none() it is accepted and used.
    let ok = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let tl = client(&rogue, |b| b.http_client(ok));
    tl.tasks().get(TASK_ID).await.unwrap();
    assert_eq!(rogue.hits(), 1);
}

// ---------------------------------------------------------------- time

/// A server that takes the request (body included) and never answers.
async fn silent() -> Rogue {
    Rogue::start(|mut c: Conn| async move {
        c.drain_body().await;
        c.hold().await;
    })
    .await
}

#[tokio::test]
async fn embed_text_gets_the_request_timeout() {
    let rogue = silent().await;
    let tl = client(&rogue, |b| {
        b.request_timeout(Duration::from_millis(500))
            .retry_policy(RetryPolicy::disabled())
    });
    let (out, took) = bounded(
        bound("embed_text_gets_the_request_timeout"),
        tl.embed().text("a dog on a skateboard").send(),
    )
    .await;
    let e = out.unwrap_err();
    assert!(
        matches!(
            &e,
            Error::Timeout {
                kind: TimeoutKind::Request,
                attempts: 1,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(took >= Duration::from_millis(450), "{took:?}");
}

#[tokio::test]
async fn image_search_by_url_gets_the_request_timeout() {
    let rogue = silent().await;
    let tl = client(&rogue, |b| {
        b.request_timeout(Duration::from_millis(500))
            .retry_policy(RetryPolicy::disabled())
    });
    let (out, _) = bounded(
        bound("image_search_by_url_gets_the_request_timeout"),
        tl.search(INDEX)
            .image(Media::url("https://example.com/cat.png"))
            .options([SearchOption::Visual])
            .send(),
    )
    .await;
    let e = out.unwrap_err();
    assert!(
        matches!(
            &e,
            Error::Timeout {
                kind: TimeoutKind::Request,
                ..
            }
        ),
        "{e:?}"
    );
}

#[tokio::test]
async fn an_upload_the_server_stops_taking() {
    // Reads the head, then nothing: the socket buffers fill and the body stops moving.
    let rogue = Rogue::start(|c: Conn| async move {
        tokio::time::sleep(Duration::from_secs(60)).await;
        drop(c);
    })
    .await;
    let tl = client(&rogue, |b| b.stall_timeout(Duration::from_millis(500)));
    let (out, _) = bounded(
        bound("an_upload_the_server_stops_taking"),
        tl.tasks()
            .create(INDEX)
            .video_bytes(vec![7u8; 64 << 20], "clip.mp4")
            .send(),
    )
    .await;
    let e = out.unwrap_err();
    assert!(
        matches!(&e, Error::Timeout { kind: TimeoutKind::UploadStalled { idle }, attempts: 1, .. }
            if *idle == Duration::from_millis(500)),
        "{e:?}"
    );
    assert!(e.is_retryable());
    assert_eq!(
        rogue.hits(),
        1,
        "creating a task is not repeated after a timeout"
    );
}

#[tokio::test]
async fn an_upload_then_silence() {
    let rogue = silent().await;
    let tl = client(&rogue, |b| {
        b.request_timeout(Duration::from_millis(500))
            .retry_policy(RetryPolicy::disabled())
    });
    let (out, took) = bounded(
        bound("an_upload_then_silence"),
        tl.embed()
            .tasks()
            .create(Media::bytes(vec![1u8; 8 << 20], "clip.mp4"))
            .send(),
    )
    .await;
    let e = out.unwrap_err();
    assert!(
        matches!(
            &e,
            Error::Timeout {
                kind: TimeoutKind::Request,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(took >= Duration::from_millis(450), "{took:?}");
}

#[tokio::test]
async fn a_slow_upload_meets_the_upload_timeout() {
    use tokio::io::AsyncReadExt;
    // Takes 64 KiB every 20 ms: slow, but never stalled.
    let rogue = Rogue::start(|mut c: Conn| async move {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            tokio::time::sleep(Duration::from_millis(20)).await;
            match c.stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
    let tl = client(&rogue, |b| {
        b.upload_timeout(Duration::from_millis(1500))
            .stall_timeout(Duration::from_secs(1))
            .retry_policy(RetryPolicy::disabled())
    });
    let (out, took) = bounded(
        bound("a_slow_upload_meets_the_upload_timeout"),
        tl.embed()
            .tasks()
            .create(Media::bytes(vec![1u8; 64 << 20], "clip.mp4"))
            .send(),
    )
    .await;
    let e = out.unwrap_err();
    assert!(
        matches!(
            &e,
            Error::Timeout {
                kind: TimeoutKind::Upload,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(took >= Duration::from_millis(1450), "{took:?}");
}

#[tokio::test]
async fn a_response_body_that_stalls() {
    let rogue = Rogue::start(|mut c: Conn| async move {
        c.write("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{\"_id\":\"66")
            .await;
        c.hold().await;
    })
    .await;
    let tl = client(&rogue, |b| {
        b.no_request_timeout()
            .stall_timeout(Duration::from_millis(500))
    });
    let (out, took) = bounded(
        bound("a_response_body_that_stalls"),
        tl.tasks().get(TASK_ID),
    )
    .await;
    let e = out.unwrap_err();
    assert!(
        matches!(
            &e,
            Error::Timeout {
                kind: TimeoutKind::ResponseStalled { .. },
                ..
            }
        ),
        "{e:?}"
    );
    assert!(took >= Duration::from_millis(450), "{took:?}");
}

#[tokio::test]
async fn a_generation_stream_that_stalls() {
    let rogue = Rogue::start(|mut c: Conn| async move {
        c.drain_body().await;
        c.write("HTTP/1.1 200 OK\r\ncontent-type: application/x-ndjson\r\ntransfer-encoding: chunked\r\n\r\n")
            .await;
        let event = "{\"event_type\":\"text_generation\",\"text\":\"Yo\"}\n";
        c.write(format!("{:x}\r\n{event}\r\n", event.len())).await;
        c.hold().await;
    })
    .await;
    let tl = client(&rogue, |b| {
        b.no_request_timeout()
            .stall_timeout(Duration::from_millis(500))
    });
    let (events, _) = bounded(bound("a_generation_stream_that_stalls"), async {
        let s = tl.generate().text_stream("v", "p").await.unwrap();
        s.collect::<Vec<_>>().await
    })
    .await;
    assert_eq!(events.len(), 2, "{events:?}");
    assert!(matches!(&events[0], Ok(TextEvent::Text(t)) if t == "Yo"));
    assert!(
        matches!(
            &events[1],
            Err(Error::Timeout {
                kind: TimeoutKind::ResponseStalled { .. },
                ..
            })
        ),
        "{events:?}"
    );
}

// ---------------------------------------------------------------- memory and CPU (time bounds)

#[tokio::test]
async fn a_declared_2_gib_body_is_refused_before_reading() {
    let rogue = Rogue::start(|mut c: Conn| async move {
        c.write("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2147483648\r\n\r\n{\"_id\"")
            .await;
        c.hold().await;
    })
    .await;
    let tl = client(&rogue, |b| b);
    let (out, _) = bounded(
        bound("a_declared_2_gib_body_is_refused_before_reading"),
        tl.tasks().get(TASK_ID),
    )
    .await;
    let e = out.unwrap_err();
    assert!(
        matches!(&e, Error::ResponseTooLarge { limit, declared: Some(2147483648), what: SizeLimited::Body }
            if *limit == twelvelabs::client::DEFAULT_MAX_RESPONSE_BYTES),
        "{e:?}"
    );
    assert!(!e.is_retryable());
}

/// Writes a chunked body forever (until the client hangs up): `head` first, then `filler`.
async fn endless(mut c: Conn, content_type: &str, head: &str, filler: Vec<u8>) {
    c.drain_body().await;
    let out = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\ntransfer-encoding: chunked\r\n\r\n{:x}\r\n{head}\r\n",
        head.len()
    )
    .into_bytes();
    if !c.write(out).await {
        return;
    }
    let mut chunk = format!("{:x}\r\n", filler.len()).into_bytes();
    chunk.extend_from_slice(&filler);
    chunk.extend_from_slice(b"\r\n");
    while c.write(&chunk).await {}
}

#[tokio::test]
async fn an_endless_body_stops_at_the_ceiling() {
    let rogue = Rogue::start(|c: Conn| {
        endless(c, "application/json", "{\"_id\":\"", vec![b'a'; 256 * 1024])
    })
    .await;
    let tl = client(&rogue, |b| b.max_response_bytes(4 << 20));
    let (out, _) = bounded(bound("an_endless_body_stops_at_the_ceiling"), async {
        (
            tl.tasks().get(TASK_ID).await,
            tl.embed().text("x").send().await,
        )
    })
    .await;
    for e in [out.0.unwrap_err(), out.1.unwrap_err()] {
        assert!(
            matches!(
                &e,
                Error::ResponseTooLarge {
                    limit: 4194304,
                    declared: None,
                    what: SizeLimited::Body
                }
            ),
            "{e:?}"
        );
    }
    assert_eq!(rogue.hits(), 2, "not retried");
}

#[tokio::test]
async fn an_ndjson_line_without_end() {
    let sent = Arc::new(AtomicUsize::new(0));
    let s = sent.clone();
    let rogue = Rogue::start(move |mut c: Conn| {
        let sent = s.clone();
        async move {
            c.drain_body().await;
            c.write("HTTP/1.1 200 OK\r\ncontent-type: application/x-ndjson\r\ntransfer-encoding: chunked\r\n\r\n")
                .await;
            let piece = vec![b'x'; 64 * 1024];
            let mut chunk = format!("{:x}\r\n", piece.len()).into_bytes();
            chunk.extend_from_slice(&piece);
            chunk.extend_from_slice(b"\r\n");
            for _ in 0..1024 {
                if !c.write(&chunk).await {
                    return;
                }
                sent.fetch_add(piece.len(), Ordering::Relaxed);
            }
        }
    })
    .await;
    let tl = client(&rogue, |b| b);
    let (events, _) = bounded(bound("an_ndjson_line_without_end"), async {
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
                limit: 1048576,
                what: SizeLimited::StreamLine,
                ..
            })
        ),
        "{events:?}"
    );
    // The client stopped reading near the line limit (socket buffers hold a few MiB more).
    assert!(
        sent.load(Ordering::Relaxed) < 48 << 20,
        "{}",
        sent.load(Ordering::Relaxed)
    );
}

#[tokio::test]
async fn an_endless_ndjson_stream_stops_at_the_ceiling() {
    let mut filler = Vec::new();
    for _ in 0..256 {
        filler.extend_from_slice(b"{\"event_type\":\"text_generation\",\"text\":\"la \"}\n");
    }
    let rogue = Rogue::start(move |c: Conn| {
        endless(
            c,
            "application/x-ndjson",
            "{\"event_type\":\"stream_start\"}\n",
            filler.clone(),
        )
    })
    .await;
    let tl = client(&rogue, |b| b.max_response_bytes(1 << 20));
    let (events, _) = bounded(
        bound("an_endless_ndjson_stream_stops_at_the_ceiling"),
        async {
            tl.generate()
                .text_stream("v", "p")
                .await
                .unwrap()
                .collect::<Vec<_>>()
                .await
        },
    )
    .await;
    assert!(events.len() > 1000, "{}", events.len());
    assert!(events[..events.len() - 1].iter().all(Result::is_ok));
    assert!(
        matches!(
            events.last(),
            Some(Err(Error::ResponseTooLarge {
                limit: 1048576,
                what: SizeLimited::Body,
                ..
            }))
        ),
        "{:?}",
        events.last()
    );
}

// ---------------------------------------------------------------- ids and URLs

#[tokio::test]
async fn dot_segment_ids_are_refused_before_any_request() {
    let rogue = Rogue::start(|mut c: Conn| async move {
        c.json(TASK).await;
    })
    .await;
    let tl = client(&rogue, |b| b);
    let (_, _) = bounded(
        bound("dot_segment_ids_are_refused_before_any_request"),
        async {
            for id in ["..", ".", "a\\b", "\\..", "", "  "] {
                let checks: Vec<(&str, twelvelabs::Result<()>)> = vec![
                    ("video_id", tl.videos(INDEX).delete(id).await.map(drop)),
                    ("index_id", tl.videos(id).delete(TASK_ID).await.map(drop)),
                    ("video_id", tl.videos(INDEX).get(id).await.map(drop)),
                    ("task_id", tl.tasks().get(id).await.map(drop)),
                    ("task_id", tl.tasks().delete(id).await.map(drop)),
                    ("index_id", tl.indexes().get(id).await.map(drop)),
                    ("index_id", tl.indexes().delete(id).await.map(drop)),
                    ("engine_id", tl.engines().get(id).await.map(drop)),
                    ("task_id", tl.embed().tasks().get(id).await.map(drop)),
                    ("index_id", tl.videos(id).list().send().await.map(drop)),
                ];
                for (field, out) in checks {
                    let e = out.unwrap_err();
                    assert!(
                        matches!(&e, Error::InvalidInput { field: f, .. } if f == field),
                        "{id:?}: expected InvalidInput({field}), got {e:?}"
                    );
                }
            }
        },
    )
    .await;
    assert_eq!(rogue.hits(), 0);
}

/// Decodes `%XX` escapes.
fn percent_decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let hex = b
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        if b[i] == b'%'
            && let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

#[test]
fn arbitrary_ids_stay_one_path_segment() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (rogue, tl) = rt.block_on(async {
        let rogue = Rogue::start(|mut c: Conn| async move {
            c.respond(
                404,
                &[("content-type", "application/json")],
                br#"{"code":"resource_not_exists","message":"no"}"#,
            )
            .await;
        })
        .await;
        let tl = client(&rogue, |b| b.retry_policy(RetryPolicy::disabled()));
        (rogue, tl)
    });
    let started = std::time::Instant::now();
    let id = prop_oneof![
        any::<String>(),
        "[./\\\\%a-z0-9 ?#]{0,8}",
        prop::sample::select(vec![
            ".".to_owned(),
            "..".to_owned(),
            "%2e%2e".to_owned(),
            ".%2E".to_owned(),
            "a/../b".to_owned(),
            "\\..".to_owned(),
            "\u{202e}".to_owned(),
            "\t..".to_owned(),
            "..\n".to_owned(),
        ]),
    ];
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 160,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    runner
        .run(&id, |id| {
            let before = rogue.hits();
            let out = rt.block_on(tl.tasks().get(id.as_str()));
            match out {
                Err(Error::InvalidInput { field, .. }) => {
                    prop_assert_eq!(field, "task_id");
                    prop_assert_eq!(rogue.hits(), before, "nothing sent for a refused id");
                }
                Err(Error::Api(a)) => {
                    prop_assert_eq!(a.status.as_u16(), 404);
                    prop_assert_eq!(rogue.hits(), before + 1);
                    let path = rogue.heads()[before].path.clone();
                    let segment = path.strip_prefix("/v1.2/tasks/");
                    prop_assert!(segment.is_some(), "{:?} was sent to {}", id, path);
                    let segment = segment.unwrap();
                    prop_assert!(!segment.contains('/') && !segment.contains('?'), "{}", path);
                    prop_assert_eq!(percent_decode(segment), id.as_bytes().to_vec(), "{}", path);
                }
                other => prop_assert!(false, "{:?}: {:?}", id, other),
            }
            Ok(())
        })
        .unwrap();
    let limit = bound("arbitrary_ids_stay_one_path_segment") + Duration::from_secs(2);
    assert!(started.elapsed() <= limit, "{:?}", started.elapsed());
}

#[test]
fn a_base_url_with_encoded_dot_segments_is_refused() {
    let started = std::time::Instant::now();
    for url in [
        "https://proxy.example/tl/%2e%2e/v1.2",
        "https://proxy.example/tl/.%2E",
        "https://proxy.example/tl/%2E",
        "https://proxy.example/a\\..\\v1.2",
        "http://127.0.0.1:9/x/../v1.2",
    ] {
        let e = Client::builder()
            .api_key(KEY)
            .base_url(url)
            .build()
            .unwrap_err();
        assert!(
            matches!(&e, Error::Config { setting, .. } if setting == "base_url"),
            "{url}: {e:?}"
        );
    }
    // An encoded slash is not a dot segment: kept as written.
    let tl = Client::builder()
        .api_key(KEY)
        .base_url("https://proxy.example/a%2Fb")
        .build()
        .unwrap();
    assert_eq!(tl.config().base_url, "https://proxy.example/a%2Fb/v1.2");
    assert!(started.elapsed() <= bound("a_base_url_with_encoded_dot_segments_is_refused"));
}

// ---------------------------------------------------------------- waiting

#[tokio::test]
async fn wait_on_a_silent_server_ends_at_max_wait() {
    let rogue = silent().await;
    let tl = client(&rogue, |b| b.request_timeout(Duration::from_secs(30)));
    let (out, took) = bounded(
        bound("wait_on_a_silent_server_ends_at_max_wait"),
        tl.tasks()
            .wait(TASK_ID)
            .min_delay(Duration::from_millis(10))
            .max_wait(Duration::from_secs(1))
            .into_future(),
    )
    .await;
    let e = out.unwrap_err();
    assert!(matches!(&e, Error::WaitTimeout { last: None, .. }), "{e:?}");
    assert!(
        took >= Duration::from_millis(990) && took < Duration::from_millis(1300),
        "{took:?}"
    );
}

#[tokio::test]
async fn wait_with_a_429_retry_after_20() {
    let rogue = Rogue::start(|mut c: Conn| async move {
        if c.index == 0 {
            c.json(INDEXING).await;
        } else {
            c.respond(429, &[("retry-after", "20")], b"").await;
        }
    })
    .await;
    let tl = client(&rogue, |b| b);
    let (out, took) = bounded(
        bound("wait_with_a_429_retry_after_20"),
        tl.tasks()
            .wait(TASK_ID)
            .min_delay(Duration::from_millis(10))
            .max_wait(Duration::from_secs(2))
            .into_future(),
    )
    .await;
    let e = out.unwrap_err();
    assert!(
        matches!(&e, Error::WaitTimeout { last: Some(t), .. } if t.status() == "indexing"),
        "{e:?}"
    );
    assert!(
        took >= Duration::from_millis(1990) && took < Duration::from_millis(2300),
        "{took:?}"
    );
}

// ---------------------------------------------------------------- page walks

fn page_number(path: &str) -> u64 {
    path.split(['?', '&'])
        .find_map(|kv| kv.strip_prefix("page="))
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
}

fn index_page(page: u64, total: u64) -> String {
    format!(
        r#"{{"data":[{{"_id":"idx{page}","index_name":"n{page}"}}],"page_info":{{"page":{page},"total_page":{total},"limit_per_page":1,"total_results":{total}}}}}"#
    )
}

#[tokio::test]
async fn a_growing_total_page_ends_at_the_first_count() {
    let rogue = Rogue::start(|mut c: Conn| async move {
        let page = page_number(&c.head.path);
        c.json(&index_page(page, page + 2)).await;
    })
    .await;
    let tl = client(&rogue, |b| b);
    let (_, _) = bounded(
        bound("a_growing_total_page_ends_at_the_first_count"),
        async {
            let pages: Vec<_> = tl.indexes().list().pages().try_collect().await.unwrap();
            assert_eq!(pages.len(), 3);
            assert_eq!(rogue.hits(), 3);
            let items: Vec<_> = tl
                .indexes()
                .list()
                .concurrency(4)
                .items()
                .try_collect()
                .await
                .unwrap();
            assert_eq!(items.len(), 3);
            assert_eq!(rogue.hits(), 6);
        },
    )
    .await;
}

#[tokio::test]
async fn prefetch_stays_within_concurrency() {
    let rogue = Rogue::start(|mut c: Conn| async move {
        let page = page_number(&c.head.path);
        c.json(&index_page(page, 1_000_000_000)).await;
    })
    .await;
    let tl = client(&rogue, |b| b);
    let (_, _) = bounded(bound("prefetch_stays_within_concurrency"), async {
        let mut pages = tl.indexes().list().concurrency(1000).pages();
        for n in 1..=20u64 {
            let page = pages.next().await.unwrap().unwrap();
            assert_eq!(page.page, n);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        drop(pages);
        tokio::time::sleep(Duration::from_millis(200)).await;
    })
    .await;
    let hits = rogue.hits();
    assert!(hits <= 20 + 16 + 1, "{hits} requests for 20 pages");
    assert_eq!(twelvelabs::pagination::MAX_CONCURRENCY, 16);
}

#[tokio::test]
async fn a_page_token_that_is_not_one_segment() {
    let rogue = Rogue::start(|mut c: Conn| async move {
        c.drain_body().await;
        c.json(r#"{"search_pool":{"total_count":1,"total_duration":10,"index_id":"666599d4e6fb7df29de0f89c"},"data":[{"score":80.0,"start":0,"end":5,"video_id":"v1","confidence":"high"}],"page_info":{"limit_per_page":1,"total_results":9,"next_page_token":".."}}"#)
            .await;
    })
    .await;
    let tl = client(&rogue, |b| b);
    let (pages, _) = bounded(bound("a_page_token_that_is_not_one_segment"), async {
        tl.search(INDEX)
            .query("dogs")
            .options([SearchOption::Visual])
            .pages()
            .collect::<Vec<_>>()
            .await
    })
    .await;
    assert_eq!(pages.len(), 2, "{pages:?}");
    assert!(pages[0].is_ok());
    assert!(
        matches!(&pages[1], Err(Error::Protocol { reason, .. }) if reason.contains("next_page_token")),
        "{:?}",
        pages[1]
    );
    assert_eq!(rogue.hits(), 1);
}

// ---------------------------------------------------------------- errors

#[tokio::test]
async fn the_key_echoed_by_the_server_is_redacted() {
    let rogue = Rogue::start(|mut c: Conn| async move {
        let key = c.head.header("x-api-key").unwrap_or_default().to_owned();
        c.drain_body().await;
        match c.index {
            0 => {
                let body = format!(r#"{{"code":"api_key_invalid","message":"bad key {key}, try again"}}"#);
                c.respond(401, &[("content-type", "application/json"), ("x-request-id", &key)], body.as_bytes())
                    .await
            }
            1 => {
                let loc = format!("https://evil.example/?k={key}");
                c.respond(302, &[("location", &loc)], b"").await
            }
            2 => {
                let body = format!(r#"{{"_id":"{TASK_ID}","metadata":{{"duration":"{key}"}}}}"#);
                c.json(&body).await
            }
            3 => {
                let body = format!("{{\"event_type\":\"stream_error\",\"error\":{{\"message\":\"echo {key}\",\"code\":\"{key}\"}}}}\n");
                c.respond(200, &[("content-type", "application/x-ndjson")], body.as_bytes()).await
            }
            _ => {
                let body = format!("<html>{}{key}</html>", "x".repeat(490));
                c.respond(502, &[("content-type", "text/html")], body.as_bytes()).await
            }
        };
    })
    .await;
    let tl = client(&rogue, |b| b.retry_policy(RetryPolicy::disabled()));
    let (errors, _) = bounded(bound("the_key_echoed_by_the_server_is_redacted"), async {
        vec![
            tl.tasks().get(TASK_ID).await.unwrap_err(),
            tl.tasks().get(TASK_ID).await.unwrap_err(),
            tl.tasks().get(TASK_ID).await.unwrap_err(),
            tl.generate()
                .text_stream("v", "p")
                .await
                .unwrap()
                .collect_text()
                .await
                .unwrap_err(),
            tl.tasks().get(TASK_ID).await.unwrap_err(),
        ]
    })
    .await;
    let kinds: Vec<&str> = errors
        .iter()
        .map(|e| match e {
            Error::Api(_) => "api",
            Error::Redirect { .. } => "redirect",
            Error::Decode(_) => "decode",
            Error::StreamFailed { .. } => "stream",
            _ => "other",
        })
        .collect();
    assert_eq!(kinds, ["api", "redirect", "decode", "stream", "api"]);
    for e in &errors {
        let shown = format!("{e} | {e:?}");
        assert!(!shown.contains(KEY), "the key leaked: {shown}");
        assert!(
            !shown.contains(&KEY[..12]),
            "part of the key leaked: {shown}"
        );
        assert!(shown.contains("[REDACTED]"), "{shown}");
    }
}

#[tokio::test]
async fn control_characters_in_server_text_are_escaped() {
    let rogue = Rogue::start(|mut c: Conn| async move {
        c.respond(
            400,
            &[("content-type", "application/json")],
            br#"{"code":"parameter_invalid","message":"bad\u001b[2J\u001b[31m\nINFO all good\r\u202egnp.exe"}"#,
        )
        .await;
    })
    .await;
    let tl = client(&rogue, |b| b);
    let (out, _) = bounded(
        bound("control_characters_in_server_text_are_escaped"),
        tl.tasks().get(TASK_ID),
    )
    .await;
    let e = out.unwrap_err();
    let shown = e.to_string();
    assert!(
        !shown.chars().any(|c| c.is_control() || c == '\u{202e}'),
        "{shown:?}"
    );
    assert!(
        shown.contains(r"bad\u{1b}[2J\u{1b}[31m\nINFO all good\r\u{202e}gnp.exe"),
        "{shown}"
    );
    let Error::Api(a) = &e else { panic!("{e:?}") };
    assert!(
        a.message.contains('\n') && a.message.contains('\u{1b}'),
        "the field keeps the text"
    );
}

#[tokio::test]
async fn an_oversized_response_head_is_a_protocol_error() {
    let rogue = Rogue::start(|mut c: Conn| async move {
        let big = "a".repeat(1 << 20);
        c.write(format!(
            "HTTP/1.1 200 OK\r\nx-big: {big}\r\ncontent-length: 2\r\n\r\n{{}}"
        ))
        .await;
    })
    .await;
    let tl = client(&rogue, |b| b);
    let (out, _) = bounded(
        bound("an_oversized_response_head_is_a_protocol_error"),
        tl.tasks().get(TASK_ID),
    )
    .await;
    let e = out.unwrap_err();
    assert!(
        matches!(&e, Error::Protocol { reason, attempts: 1, .. } if reason.contains("too large")),
        "{e:?}"
    );
    assert!(std::error::Error::source(&e).is_some(), "the cause is kept");
    assert!(!e.is_retryable());
    assert_eq!(rogue.hits(), 1);
}

#[tokio::test]
async fn a_malformed_status_line_is_a_protocol_error() {
    let rogue = Rogue::start(|mut c: Conn| async move {
        c.write("HTTP/1.1 abc Nope\r\ncontent-length: 0\r\n\r\n")
            .await;
    })
    .await;
    let tl = client(&rogue, |b| b);
    let (out, _) = bounded(
        bound("a_malformed_status_line_is_a_protocol_error"),
        tl.tasks().get(TASK_ID),
    )
    .await;
    let e = out.unwrap_err();
    assert!(matches!(&e, Error::Protocol { attempts: 1, .. }), "{e:?}");
    assert!(!e.is_retryable());
    assert_eq!(rogue.hits(), 1);
}

/// The README's table of limits states the defaults the builder has.
#[test]
fn the_readme_limits_table_matches_the_defaults() {
    let readme = include_str!("../README.md");
    let row = |name: &str| {
        readme
            .lines()
            .find(|l| l.starts_with(&format!("| {name} |")))
            .unwrap_or_else(|| panic!("no README row for {name}"))
    };
    let tl = Client::new(KEY).unwrap();
    let c = tl.config();
    assert_eq!(c.connect_timeout, Duration::from_secs(10));
    assert!(row("connect").starts_with("| connect | 10 s |"));
    assert_eq!(c.request_timeout, Some(Duration::from_secs(300)));
    assert!(row("request").starts_with("| request | 5 min |"));
    assert_eq!(c.upload_timeout, None);
    assert!(row("upload").starts_with("| upload | none |"));
    assert_eq!(c.stall_timeout, Some(Duration::from_secs(30)));
    assert!(row("stall").starts_with("| stall | 30 s |"));
    assert_eq!(c.max_response_bytes, 128 << 20);
    assert!(row("response size").starts_with("| response size | 128 MiB |"));
    assert!(readme.contains("capped at 16 (`MAX_CONCURRENCY`)"));
    assert_eq!(twelvelabs::pagination::MAX_CONCURRENCY, 16);
    assert!(readme.contains("a line over 1 MiB"));
    assert_eq!(twelvelabs::api::generate::MAX_STREAM_LINE_BYTES, 1 << 20);
}

/// Every scenario of this file has its test (memory ones live in `hostile_memory.rs`).
#[test]
fn every_scenario_has_a_test() {
    let here = include_str!("hostile.rs");
    let memory = include_str!("hostile_memory.rs");
    for (test, ..) in HOSTILE {
        assert!(
            here.contains(&format!("fn {test}(")) || memory.contains(&format!("fn {test}(")),
            "scenario {test} has no test"
        );
    }
}
