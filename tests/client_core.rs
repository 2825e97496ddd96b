//! The client core: configuration, errors, retries, rate limits, timeouts, secret hygiene.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::time::{Duration, Instant, SystemTime};

use support::{Reply, ScriptServer};
use twelvelabs::raw::types;
use twelvelabs::{Client, Error, ErrorCode, RetryPolicy};

const KEY: &str = "tlk_TEST_5f1d8c2a9e7b4d3c";

const TASK: &str = r#"{"_id":"66659a3efa7835326810120c","index_id":"666599d4e6fb7df29de0f89c","status":"ready","video_id":"66659a48d22b3a3c97bf1d5f","created_at":"2024-06-09T12:04:14.069Z"}"#;
const TASK_ID: &str = "66659a3efa7835326810120c";

/// Fast retries so the tests do not sleep for long.
fn fast() -> RetryPolicy {
    RetryPolicy::default()
        .with_initial_backoff(Duration::from_millis(5))
        .with_max_backoff(Duration::from_millis(20))
}

fn client(server: &ScriptServer, retry: RetryPolicy) -> Client {
    Client::builder()
        .api_key(KEY)
        .base_url(&server.base_url)
        .retry_policy(retry)
        .build()
        .unwrap()
}

async fn get_task(tl: &Client) -> twelvelabs::Result<types::Task> {
    tl.call(tl.raw().get_task().task_id(TASK_ID).send()).await
}

fn index_body() -> types::CreateIndexRequest {
    serde_json::from_value(serde_json::json!({
        "index_name": "Content Creator Videos",
        "engines": [{"engine_name": "marengo2.6", "engine_options": ["visual"]}]
    }))
    .unwrap()
}

#[tokio::test]
async fn transient_503s_are_retried_until_success() {
    let server = ScriptServer::start([
        Reply::json(503, r#"{"code":"unavailable","message":"try later"}"#),
        Reply::raw(503, "text/html", "<html>503</html>"),
        Reply::json(200, TASK),
    ])
    .await;
    let task = get_task(&client(&server, fast())).await.unwrap();
    assert_eq!(task.id, TASK_ID);
    assert_eq!(task.status, Some(types::TaskStatus::Ready));
    assert_eq!(server.hits(), 3);
    for r in server.requests() {
        assert_eq!(r.method, "GET");
        assert_eq!(r.path, format!("/v1.2/tasks/{TASK_ID}"));
        assert_eq!(r.header("x-api-key"), Some(KEY));
    }
}

#[tokio::test]
async fn a_500_on_a_creating_post_is_not_retried_by_default() {
    let server = ScriptServer::start([
        Reply::json(500, r#"{"code":"internal","message":"boom"}"#),
        Reply::json(201, r#"{"_id":"666599d4e6fb7df29de0f89c"}"#),
    ])
    .await;
    let tl = client(&server, fast());
    let err = tl
        .call(tl.raw().create_index().body(index_body()).send())
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(500));
    assert_eq!(
        server.hits(),
        1,
        "a creating POST must not be repeated after a 500"
    );
    assert_eq!(server.requests()[0].path, "/v1.2/indexes");
}

#[tokio::test]
async fn a_creating_post_is_retried_on_503_and_when_opted_in_on_500() {
    let server = ScriptServer::start([
        Reply::json(503, r#"{"code":"x","message":"busy"}"#),
        Reply::json(201, r#"{"_id":"666599d4e6fb7df29de0f89c"}"#),
    ])
    .await;
    let tl = client(&server, fast());
    let created = tl
        .call(tl.raw().create_index().body(index_body()).send())
        .await
        .unwrap();
    assert_eq!(created.id, "666599d4e6fb7df29de0f89c");
    assert_eq!(server.hits(), 2);
    // Both attempts carried the same JSON body.
    let bodies: Vec<_> = server.requests().into_iter().map(|r| r.body).collect();
    assert_eq!(bodies[0], bodies[1]);
    assert!(String::from_utf8_lossy(&bodies[0]).contains("Content Creator Videos"));

    let server = ScriptServer::start([
        Reply::json(500, r#"{"code":"x","message":"boom"}"#),
        Reply::json(200, r#"{"_id":"666599d4e6fb7df29de0f89c"}"#),
    ])
    .await;
    let tl = client(&server, fast().with_retry_non_idempotent(true));
    tl.call(tl.raw().create_index().body(index_body()).send())
        .await
        .unwrap();
    assert_eq!(server.hits(), 2);
}

#[tokio::test]
async fn client_errors_are_not_retried_and_keep_code_and_message() {
    for (status, code) in [
        (400, "parameter_invalid"),
        (401, "api_key_invalid"),
        (404, "resource_not_exists"),
    ] {
        let body = format!(r#"{{"code":"{code}","message":"nope {status}"}}"#);
        let server =
            ScriptServer::start([Reply::json(status, &body), Reply::json(200, TASK)]).await;
        let err = get_task(&client(&server, fast())).await.unwrap_err();
        assert_eq!(server.hits(), 1, "{status} must not be retried");
        assert_eq!(err.status().unwrap().as_u16(), status);
        assert_eq!(err.code().unwrap().as_str(), code);
        assert!(!err.is_retryable());
        let Error::Api(api) = &err else {
            panic!("{err:?}")
        };
        assert_eq!(api.message, format!("nope {status}"));
        assert_eq!(api.attempts, 1);
    }
}

#[tokio::test]
async fn the_seed_404_decodes_with_its_spelling() {
    let server = ScriptServer::start([Reply::json(
        404,
        r#"{"code":"resource_not_exists","message":"Resource with id '6528b54a43e8c47e4eb47e80' does not exist in video collection."}"#,
    )])
    .await;
    let err = get_task(&client(&server, fast())).await.unwrap_err();
    assert_eq!(err.code(), Some(&ErrorCode::ResourceNotExists));
    assert!(
        err.to_string()
            .contains("does not exist in video collection"),
        "{err}"
    );
}

#[tokio::test]
async fn exhausted_retries_say_how_many_attempts_were_made() {
    let server = ScriptServer::start(std::iter::repeat_n(
        Reply::raw(502, "text/html", "<html><h1>502 Bad Gateway</h1></html>"),
        5,
    ))
    .await;
    let err = get_task(&client(&server, fast())).await.unwrap_err();
    assert_eq!(server.hits(), 3, "2 retries by default");
    let Error::Api(api) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(api.status.as_u16(), 502);
    assert_eq!(api.code, None);
    assert_eq!(api.attempts, 3);
    assert!(err.to_string().contains("502 Bad Gateway"), "{err}");
    assert!(err.to_string().ends_with("after 3 attempts"), "{err}");
    assert!(err.is_retryable());
}

#[tokio::test]
async fn retries_can_be_disabled() {
    let server = ScriptServer::start([Reply::json(503, "{}"), Reply::json(200, TASK)]).await;
    let err = get_task(&client(&server, RetryPolicy::disabled()))
        .await
        .unwrap_err();
    assert_eq!(err.status().unwrap().as_u16(), 503);
    assert_eq!(server.hits(), 1);
}

#[tokio::test]
async fn a_429_with_retry_after_waits_then_succeeds() {
    let server = ScriptServer::start([
        Reply::json(429, "").header("retry-after", "1"),
        Reply::json(200, TASK),
    ])
    .await;
    let started = Instant::now();
    get_task(&client(&server, fast())).await.unwrap();
    let waited = started.elapsed();
    assert!(waited >= Duration::from_secs(1), "waited only {waited:?}");
    assert!(waited < Duration::from_secs(5), "waited {waited:?}");
    assert_eq!(server.hits(), 2);
}

#[tokio::test]
async fn a_429_with_a_reset_hours_away_fails_at_once_with_the_headers() {
    let reset = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 5 * 3600;
    let server = ScriptServer::start([Reply::json(429, "")
        .header("x-ratelimit-limit", "50")
        .header("x-ratelimit-remaining", "0")
        .header("x-ratelimit-used", "50")
        .header("x-ratelimit-reset", &reset.to_string())])
    .await;
    let started = Instant::now();
    let err = get_task(&client(&server, fast())).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(server.hits(), 1);
    let Error::RateLimited(r) = &err else {
        panic!("{err:?}")
    };
    let rl = r.rate_limit.as_ref().unwrap();
    assert_eq!(
        (rl.limit, rl.remaining, rl.used),
        (Some(50), Some(0), Some(50))
    );
    assert_eq!(
        rl.reset,
        Some(SystemTime::UNIX_EPOCH + Duration::from_secs(reset))
    );
    let wait = r.retry_after.unwrap();
    assert!(
        wait > Duration::from_secs(4 * 3600) && wait <= Duration::from_secs(5 * 3600),
        "{wait:?}"
    );
    assert!(err.is_retryable());
    assert_eq!(err.status().unwrap().as_u16(), 429);
}

#[tokio::test]
async fn the_latest_rate_limit_snapshot_is_readable_from_the_client() {
    let server = ScriptServer::start([Reply::json(200, TASK)
        .header("X-Ratelimit-Limit", "3000")
        .header("X-Ratelimit-Remaining", "2999")
        .header("X-Ratelimit-Used", "1")
        .header("X-Ratelimit-Reset", "1717977600")])
    .await;
    let tl = client(&server, fast());
    assert_eq!(tl.rate_limit(), None);
    get_task(&tl).await.unwrap();
    let rl = tl.rate_limit().unwrap();
    assert_eq!(
        (rl.limit, rl.remaining, rl.used),
        (Some(3000), Some(2999), Some(1))
    );
    // Clones share the snapshot.
    assert_eq!(tl.clone().rate_limit(), Some(rl));
}

#[tokio::test]
async fn a_request_timeout_is_a_timeout_error_after_the_retries() {
    let slow = Reply::json(200, TASK).delayed(Duration::from_secs(3));
    let server = ScriptServer::start([slow.clone(), slow.clone(), slow]).await;
    let tl = Client::builder()
        .api_key(KEY)
        .base_url(&server.base_url)
        .request_timeout(Duration::from_millis(200))
        .retry_policy(fast())
        .build()
        .unwrap();
    let started = Instant::now();
    let err = get_task(&tl).await.unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    let Error::Timeout { attempts, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(*attempts, 3);
    assert!(err.is_retryable());
    assert!(
        err.to_string()
            .starts_with("request timed out (3 attempts)"),
        "{err}"
    );
}

#[tokio::test]
async fn connection_refused_is_a_retryable_connection_error() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    }; // closed again: nothing listens there now
    let tl = Client::builder()
        .api_key(KEY)
        .base_url(format!("http://127.0.0.1:{port}"))
        .retry_policy(fast())
        .build()
        .unwrap();
    let err = get_task(&tl).await.unwrap_err();
    let Error::Connection { attempts, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(*attempts, 3, "connect failures are retried");
    assert!(err.is_retryable());
    assert_eq!(err.status(), None);
}

#[tokio::test]
async fn a_success_body_that_does_not_decode_names_status_and_path() {
    let server = ScriptServer::start([Reply::json(
        200,
        r#"{"_id":"66659a3efa7835326810120c","metadata":{"duration":"long"}}"#,
    )])
    .await;
    let err = get_task(&client(&server, fast())).await.unwrap_err();
    let Error::Decode(d) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(d.status.map(|s| s.as_u16()), Some(200));
    assert_eq!(d.path, "metadata.duration");
    assert!(d.snippet.contains("\"long\""));
}

#[tokio::test]
async fn requests_carry_the_key_user_agent_and_no_secret_leaks_into_debug() {
    let server = ScriptServer::start([Reply::json(200, TASK)]).await;
    let tl = client(&server, fast());
    get_task(&tl).await.unwrap();
    let seen = &server.requests()[0];
    assert_eq!(seen.header("x-api-key"), Some(KEY));
    let ua = seen.header("user-agent").unwrap();
    assert_eq!(ua, format!("twelvelabs-rs/{}", env!("CARGO_PKG_VERSION")));

    let builder = Client::builder().api_key(KEY).base_url(&server.base_url);
    let printed = [
        format!("{tl:?}"),
        format!("{tl:#?}"),
        format!("{:?}", tl.config()),
        format!("{:?}", tl.raw()),
        format!("{builder:?}"),
    ];
    for p in &printed {
        assert!(!p.contains(KEY), "key leaked: {p}");
        assert!(
            p.contains("REDACTED") || p.contains("Sensitive"),
            "no redaction marker: {p}"
        );
    }
}

#[tokio::test]
async fn a_caller_supplied_http_client_still_sends_the_key() {
    let server = ScriptServer::start([Reply::json(200, TASK)]).await;
    let tl = Client::builder()
        .api_key(KEY)
        .base_url(&server.base_url)
        .http_client(
            reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
        )
        .user_agent("my-app/1.0")
        .build()
        .unwrap();
    get_task(&tl).await.unwrap();
    let seen = &server.requests()[0];
    assert_eq!(seen.header("x-api-key"), Some(KEY));
    assert_eq!(seen.header("user-agent"), Some("my-app/1.0"));
}

#[test]
fn missing_or_empty_keys_and_insecure_urls_are_configuration_errors() {
    let e = Client::builder().build().unwrap_err();
    assert!(
        matches!(&e, Error::Config { reason: m, .. } if m.contains("TWELVE_LABS_API_KEY")),
        "{e}"
    );
    let e = Client::new("   ").unwrap_err();
    assert!(matches!(e, Error::Config { .. }), "{e}");
    let e = Client::builder()
        .api_key(KEY)
        .base_url("http://example.com")
        .build()
        .unwrap_err();
    assert!(
        matches!(&e, Error::Config { reason: m, .. } if m.contains("clear text")),
        "{e}"
    );
    assert!(!e.to_string().contains(KEY));
    let ok = Client::builder()
        .api_key(KEY)
        .base_url("http://127.0.0.1:8080/")
        .build()
        .unwrap();
    assert_eq!(ok.config().base_url, "http://127.0.0.1:8080/v1.2");
    let default = Client::new(KEY).unwrap();
    assert_eq!(default.config().base_url, "https://api.twelvelabs.io/v1.2");
}

#[test]
fn public_types_are_send_sync_and_static() {
    fn assert_send_sync<T: Send + Sync + 'static>() {}
    fn assert_send<T: Send>(_: &T) {}
    assert_send_sync::<Client>();
    assert_send_sync::<Error>();
    assert_send_sync::<twelvelabs::ClientBuilder>();
    assert_send_sync::<twelvelabs::RateLimit>();
    let tl = Client::new(KEY).unwrap();
    let fut = async move { get_task(&tl).await };
    assert_send(&fut);
    fn assert_error<E: std::error::Error + Send + Sync + 'static>() {}
    assert_error::<Error>();
}

#[tokio::test]
async fn a_retried_request_is_the_same_request_with_its_extra_query_once() {
    // Custom-metadata filters are appended to the query per attempt; a retry must not append
    // them twice (it did, when the retry copy was taken after the first attempt's additions).
    let server = ScriptServer::start([
        Reply::json(503, r#"{"code":"unavailable","message":"try later"}"#),
        Reply::json(
            200,
            r#"{"data": [], "page_info": {"page": 1, "total_page": 1}}"#,
        ),
    ])
    .await;
    let tl = client(&server, fast());
    tl.videos("666599d4e6fb7df29de0f89c")
        .list()
        .metadata("category", "recentlyAdded")
        .send()
        .await
        .unwrap();
    let seen = server.requests();
    assert_eq!(seen.len(), 2);
    for r in &seen {
        assert_eq!(
            r.path.matches("category=recentlyAdded").count(),
            1,
            "{}",
            r.path
        );
        assert_eq!(r.header("x-api-key"), Some(KEY));
        assert!(
            r.header("user-agent")
                .is_some_and(|ua| ua.starts_with("twelvelabs-rs/"))
        );
        assert_eq!(
            r.header("api-version"),
            None,
            "no undocumented api-version header"
        );
    }
    assert_eq!(seen[0].path, seen[1].path);
}
