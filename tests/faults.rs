//! The fault matrix: what the client does when the network and the server misbehave. Each scenario
//! is a test below, bounded in time, asserting the exact outcome. `SCENARIOS`, and the hostile
//! scenarios of `tests/hostile.rs` / `tests/hostile_memory.rs` (`hostile_support/scenarios.rs`),
//! are rendered into `docs/reliability.md`; `the_reliability_table_is_current` fails when they
//! drift (run it with `UPDATE_RELIABILITY_DOC=1` to rewrite the file).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "hostile_support/scenarios.rs"]
mod hostile_scenarios;
mod support;

use std::time::{Duration, Instant, SystemTime};

use serde_json::{Value, json};
use support::{Reply, ScriptServer};
use twelvelabs::raw::spec_info::roundtrip_component;
use twelvelabs::{Client, Error, RetryPolicy};

/// (test name, scenario, outcome)
const SCENARIOS: &[(&str, &str, &str)] = &[
    (
        "connection_refused",
        "Connection refused",
        "`Error::Connection` after 3 attempts (connect failures are retried); retryable",
    ),
    (
        "reset_before_response_then_success",
        "Connection reset before the response, once",
        "retried; success on the 2nd attempt",
    ),
    (
        "reset_before_response_every_time",
        "Connection reset before the response, every time",
        "`Error::Connection` after 3 attempts",
    ),
    (
        "reset_in_the_middle_of_the_body",
        "Connection closed in the middle of the body",
        "`Error::Connection` (body read failed); retryable; no panic, no decode attempt on half a body",
    ),
    (
        "truncated_json",
        "A complete 200 whose JSON is cut short",
        "`Error::Decode` with status 200 and a body snippet",
    ),
    (
        "html_502_page",
        "An HTML 502 page from a gateway, 3 times",
        "`Error::Api` status 502, no code, the page's start as message, 3 attempts",
    ),
    (
        "empty_401",
        "401 with an empty body",
        "`Error::Api` status 401, not retried",
    ),
    (
        "text_plain_200",
        "200 with `text/plain`",
        "`Error::Decode` with status 200",
    ),
    (
        "array_instead_of_object",
        "200 with a JSON array where an object is expected",
        "`Error::Decode` naming the path",
    ),
    (
        "headers_then_stall",
        "Headers, then nothing",
        "`Error::Timeout` after the request timeout, 3 attempts (GET)",
    ),
    (
        "slow_trickle_within_the_timeout",
        "A body trickling in slowly, within the timeout",
        "success",
    ),
    (
        "slow_trickle_past_the_timeout",
        "A body trickling in past the timeout",
        "`Error::Timeout`",
    ),
    (
        "retry_after_seconds",
        "429 with `Retry-After: 1`",
        "waits ≥ 1 s, then succeeds",
    ),
    (
        "retry_after_http_date",
        "429 with `Retry-After` as an HTTP date",
        "waits until then, then succeeds",
    ),
    (
        "rate_limit_reset_without_retry_after",
        "429 with only `X-Ratelimit-Reset` (1 s away)",
        "waits until the reset, then succeeds",
    ),
    (
        "rate_limit_reset_hours_away",
        "429 with a reset hours away",
        "`Error::RateLimited` at once, with the wait and the `X-Ratelimit-*` values",
    ),
    (
        "burst_longer_than_the_budget",
        "503 five times",
        "`Error::Api` 503 after 3 attempts",
    ),
    (
        "unknown_values_and_fields_in_every_response_type",
        "Unknown enum values and unknown fields in every response example of the spec",
        "decoded; unknown values kept",
    ),
    (
        "null_in_optional_fields",
        "`null` in every optional field of every response example",
        "decoded",
    ),
    (
        "integers_as_floats_and_floats_as_integers",
        "`159.0` for integers and `159` for floats in every response example",
        "decoded",
    ),
    (
        "status_200_where_201_is_documented",
        "200 where 201 is documented (create index)",
        "success",
    ),
    (
        "status_204_without_body",
        "204 with no body (delete)",
        "success",
    ),
    (
        "stream_without_stream_end",
        "NDJSON stream that ends without `stream_end`",
        "the text so far, then `Error::StreamFailed`",
    ),
    (
        "stream_with_stream_error",
        "NDJSON stream with a `stream_error` event",
        "`Error::StreamFailed` with its message",
    ),
    (
        "task_never_ready",
        "A task that never becomes ready",
        "`Error::WaitTimeout` at the deadline, with the last task",
    ),
    (
        "task_fails",
        "A task that fails",
        "`Error::TaskFailed` with the task",
    ),
];

const TASK: &str = r#"{"_id":"66659a3efa7835326810120c","index_id":"666599d4e6fb7df29de0f89c","status":"ready","created_at":"2024-06-09T12:04:14.069Z"}"#;

fn client(server: &ScriptServer) -> Client {
    client_with(server, |b| b)
}

fn client_with(
    server: &ScriptServer,
    f: impl FnOnce(twelvelabs::ClientBuilder) -> twelvelabs::ClientBuilder,
) -> Client {
    f(Client::builder()
        .api_key("tlk_FAULTS")
        .base_url(&server.base_url)
        .retry_policy(
            RetryPolicy::default()
                .with_initial_backoff(Duration::from_millis(5))
                .with_max_backoff(Duration::from_millis(20)),
        ))
    .build()
    .unwrap()
}

async fn get_task(tl: &Client) -> twelvelabs::Result<twelvelabs::Task> {
    tl.tasks().get("66659a3efa7835326810120c").await
}

/// Runs `f` and fails the test if it takes longer than `limit`.
async fn within<T>(limit: Duration, f: impl std::future::IntoFuture<Output = T>) -> T {
    tokio::time::timeout(limit, f)
        .await
        .expect("the scenario took too long")
}

#[tokio::test]
async fn connection_refused() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let tl = Client::builder()
        .api_key("k")
        .base_url(format!("http://127.0.0.1:{port}"))
        .retry_policy(RetryPolicy::default().with_initial_backoff(Duration::from_millis(5)))
        .build()
        .unwrap();
    let e = within(Duration::from_secs(5), get_task(&tl))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Connection { attempts: 3, .. }), "{e:?}");
    assert!(e.is_retryable());
}

#[tokio::test]
async fn reset_before_response_then_success() {
    let server = ScriptServer::start([Reply::Drop, Reply::json(200, TASK)]).await;
    within(Duration::from_secs(5), get_task(&client(&server)))
        .await
        .unwrap();
    assert_eq!(server.hits(), 2);
}

#[tokio::test]
async fn reset_before_response_every_time() {
    let server = ScriptServer::start([
        Reply::Drop,
        Reply::Drop,
        Reply::Drop,
        Reply::json(200, TASK),
    ])
    .await;
    let e = within(Duration::from_secs(5), get_task(&client(&server)))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Connection { attempts: 3, .. }), "{e:?}");
}

#[tokio::test]
async fn reset_in_the_middle_of_the_body() {
    let server = ScriptServer::start([Reply::Truncated {
        status: 200,
        body: TASK.as_bytes().to_vec(),
        sent: 20,
    }])
    .await;
    let e = within(Duration::from_secs(5), get_task(&client(&server)))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Connection { .. }), "{e:?}");
    assert!(e.is_retryable());
}

#[tokio::test]
async fn truncated_json() {
    let server = ScriptServer::start([Reply::json(
        200,
        r#"{"_id":"66659a3efa7835326810120c","status":"rea"#,
    )])
    .await;
    let e = within(Duration::from_secs(5), get_task(&client(&server)))
        .await
        .unwrap_err();
    let Error::Decode(d) = &e else {
        panic!("{e:?}")
    };
    assert_eq!(d.status.map(|s| s.as_u16()), Some(200));
    assert!(d.snippet.starts_with("{\"_id\""));
}

#[tokio::test]
async fn html_502_page() {
    let page = "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>";
    let server =
        ScriptServer::start(std::iter::repeat_n(Reply::raw(502, "text/html", page), 3)).await;
    let e = within(Duration::from_secs(5), get_task(&client(&server)))
        .await
        .unwrap_err();
    let Error::Api(a) = &e else { panic!("{e:?}") };
    assert_eq!(
        (a.status.as_u16(), a.code.as_ref(), a.attempts),
        (502, None, 3)
    );
    assert!(a.message.contains("502 Bad Gateway"));
}

#[tokio::test]
async fn empty_401() {
    let server = ScriptServer::start([
        Reply::raw(401, "application/json", ""),
        Reply::json(200, TASK),
    ])
    .await;
    let e = within(Duration::from_secs(5), get_task(&client(&server)))
        .await
        .unwrap_err();
    assert_eq!(e.status().unwrap().as_u16(), 401);
    assert_eq!(server.hits(), 1);
}

#[tokio::test]
async fn text_plain_200() {
    let server = ScriptServer::start([Reply::raw(200, "text/plain", "OK")]).await;
    let e = within(Duration::from_secs(5), get_task(&client(&server)))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::Decode(d) if d.status.map(|s| s.as_u16()) == Some(200)),
        "{e:?}"
    );
}

#[tokio::test]
async fn array_instead_of_object() {
    let server = ScriptServer::start([Reply::json(200, "[1, 2, 3]")]).await;
    let e = within(Duration::from_secs(5), get_task(&client(&server)))
        .await
        .unwrap_err();
    let Error::Decode(d) = &e else {
        panic!("{e:?}")
    };
    assert!(d.source.to_string().contains("invalid type"), "{d}");
}

#[tokio::test]
async fn headers_then_stall() {
    let server = ScriptServer::start(std::iter::repeat_n(Reply::Stall { status: 200 }, 3)).await;
    let tl = client_with(&server, |b| b.request_timeout(Duration::from_millis(200)));
    let e = within(Duration::from_secs(5), get_task(&tl))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Timeout { .. }), "{e:?}");
}

#[tokio::test]
async fn slow_trickle_within_the_timeout() {
    let server = ScriptServer::start([Reply::Trickle {
        status: 200,
        body: TASK.as_bytes().to_vec(),
        every: Duration::from_millis(5),
    }])
    .await;
    let tl = client_with(&server, |b| b.request_timeout(Duration::from_secs(10)));
    let t = within(Duration::from_secs(10), get_task(&tl))
        .await
        .unwrap();
    assert_eq!(t.id(), "66659a3efa7835326810120c");
}

#[tokio::test]
async fn slow_trickle_past_the_timeout() {
    let server = ScriptServer::start([Reply::Trickle {
        status: 200,
        body: TASK.as_bytes().to_vec(),
        every: Duration::from_millis(50),
    }])
    .await;
    let tl = client_with(&server, |b| {
        b.request_timeout(Duration::from_millis(300))
            .retry_policy(RetryPolicy::disabled())
    });
    let e = within(Duration::from_secs(5), get_task(&tl))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Timeout { .. }), "{e:?}");
}

#[tokio::test]
async fn retry_after_seconds() {
    let server = ScriptServer::start([
        Reply::json(429, "").header("retry-after", "1"),
        Reply::json(200, TASK),
    ])
    .await;
    let t = Instant::now();
    within(Duration::from_secs(5), get_task(&client(&server)))
        .await
        .unwrap();
    assert!(t.elapsed() >= Duration::from_secs(1));
}

#[tokio::test]
async fn retry_after_http_date() {
    let at = SystemTime::now() + Duration::from_secs(2);
    let server = ScriptServer::start([
        Reply::json(429, "").header("retry-after", &httpdate::fmt_http_date(at)),
        Reply::json(200, TASK),
    ])
    .await;
    let t = Instant::now();
    within(Duration::from_secs(6), get_task(&client(&server)))
        .await
        .unwrap();
    // HTTP dates have whole seconds: at least ~1 s is left when the 429 arrives.
    assert!(
        t.elapsed() >= Duration::from_millis(900),
        "{:?}",
        t.elapsed()
    );
}

#[tokio::test]
async fn rate_limit_reset_without_retry_after() {
    let reset = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 2;
    let server = ScriptServer::start([
        Reply::json(429, "").header("x-ratelimit-reset", &reset.to_string()),
        Reply::json(200, TASK),
    ])
    .await;
    let t = Instant::now();
    within(Duration::from_secs(6), get_task(&client(&server)))
        .await
        .unwrap();
    assert!(
        t.elapsed() >= Duration::from_millis(900),
        "{:?}",
        t.elapsed()
    );
}

#[tokio::test]
async fn rate_limit_reset_hours_away() {
    let reset = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 7200;
    let server = ScriptServer::start([Reply::json(
        429,
        r#"{"code":"too_many_requests","message":"slow down"}"#,
    )
    .header("x-ratelimit-reset", &reset.to_string())
    .header("x-ratelimit-remaining", "0")])
    .await;
    let e = within(Duration::from_secs(2), get_task(&client(&server)))
        .await
        .unwrap_err();
    let Error::RateLimited(r) = &e else {
        panic!("{e:?}")
    };
    assert!(r.retry_after.unwrap() > Duration::from_secs(7000));
    assert_eq!(r.rate_limit.as_ref().unwrap().remaining, Some(0));
    assert_eq!(r.message, "slow down");
}

#[tokio::test]
async fn burst_longer_than_the_budget() {
    let server = ScriptServer::start(std::iter::repeat_n(Reply::json(503, "{}"), 5)).await;
    let e = within(Duration::from_secs(5), get_task(&client(&server)))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::Api(a) if a.status.as_u16() == 503 && a.attempts == 3),
        "{e:?}"
    );
    assert_eq!(server.hits(), 3);
}

fn spec() -> Value {
    yaml_serde::from_str(include_str!("../openapi.yaml")).unwrap()
}

/// (schema name, example) for every response example of the spec.
fn response_examples(spec: &Value) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    let mut add = |content: &Value| {
        for (media, m) in content.as_object().into_iter().flatten() {
            let Some(name) = m["schema"]["$ref"]
                .as_str()
                .and_then(|r| r.strip_prefix("#/components/schemas/"))
            else {
                continue;
            };
            if media.starts_with("multipart/") {
                continue;
            }
            if let Some(e) = m.get("example") {
                out.push((name.to_owned(), e.clone()));
            }
            for e in m["examples"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(_, e)| &e["value"])
            {
                out.push((name.to_owned(), e.clone()));
            }
        }
    };
    for item in spec["paths"].as_object().unwrap().values() {
        for op in item.as_object().unwrap().values() {
            for r in op["responses"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(_, r)| r)
            {
                add(&r["content"]);
            }
        }
    }
    out
}

/// Walks `value` along `schema`, calling `f` at every node with the node's schema (refs resolved).
fn walk(spec: &Value, schema: &Value, value: &mut Value, f: &mut dyn FnMut(&Value, &mut Value)) {
    let schema = match schema["$ref"].as_str() {
        Some(r) => spec.pointer(r.trim_start_matches('#')).unwrap(),
        None => schema,
    };
    if let Some(alts) = schema["anyOf"].as_array() {
        // The first alternative with an object that has all its required keys.
        let chosen = alts.iter().find(|a| {
            let a = match a["$ref"].as_str() {
                Some(r) => spec.pointer(r.trim_start_matches('#')).unwrap(),
                None => *a,
            };
            a["required"]
                .as_array()
                .is_some_and(|req| req.iter().all(|k| value.get(k.as_str().unwrap()).is_some()))
        });
        if let Some(a) = chosen {
            walk(spec, a, value, f);
        }
        return;
    }
    f(schema, value);
    match value {
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                if let Some(s) = schema["properties"].get(k.as_str()) {
                    walk(spec, s, v, f);
                }
            }
        }
        Value::Array(items) => {
            for v in items {
                walk(spec, &schema["items"], v, f);
            }
        }
        _ => {}
    }
}

fn decodes(schema: &str, value: Value) -> Value {
    roundtrip_component(schema, value.clone())
        .unwrap()
        .unwrap_or_else(|e| panic!("{schema}: {e}\n{value}"))
}

#[test]
fn unknown_values_and_fields_in_every_response_type() {
    let spec = spec();
    let examples = response_examples(&spec);
    assert!(examples.len() >= 30);
    let mut enums = 0;
    for (name, mut ex) in examples {
        let root = json!({"$ref": format!("#/components/schemas/{name}")});
        walk(&spec, &root, &mut ex, &mut |schema, v| {
            if schema.get("enum").is_some() && v.is_string() {
                *v = json!("brand_new_value_from_the_future");
                enums += 1;
            }
            if let Value::Object(m) = v
                && schema["properties"].is_object()
            {
                m.insert(
                    "x_brand_new_field".into(),
                    json!({"nested": [1, 2.5, "three", null]}),
                );
            }
        });
        let back = decodes(&name, ex.clone());
        assert!(
            back.to_string().contains("brand_new_value_from_the_future")
                || !ex.to_string().contains("brand_new_value_from_the_future"),
            "{name}: an unknown enum value was lost"
        );
    }
    assert!(enums >= 20, "only {enums} enum values were mutated");
}

#[test]
fn null_in_optional_fields() {
    let spec = spec();
    let mut nulled = 0;
    for (name, mut ex) in response_examples(&spec) {
        let root = json!({"$ref": format!("#/components/schemas/{name}")});
        walk(&spec, &root, &mut ex, &mut |schema, v| {
            if let Value::Object(m) = v {
                let required: Vec<&str> = schema["required"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .collect();
                for (k, field) in m.iter_mut() {
                    if !required.contains(&k.as_str())
                        && schema["properties"].get(k.as_str()).is_some()
                        && !field.is_array()
                    {
                        *field = Value::Null;
                        nulled += 1;
                    }
                }
            }
        });
        decodes(&name, ex);
    }
    assert!(nulled >= 50, "only {nulled} fields were nulled");
}

#[test]
fn integers_as_floats_and_floats_as_integers() {
    let spec = spec();
    let (mut ints, mut floats) = (0, 0);
    for (name, mut ex) in response_examples(&spec) {
        let root = json!({"$ref": format!("#/components/schemas/{name}")});
        walk(
            &spec,
            &root,
            &mut ex,
            &mut |schema, v| match (schema["type"].as_str(), v.as_f64()) {
                (Some("integer"), Some(f)) => {
                    *v = json!(f + 0.0); // 1280 -> 1280.0
                    ints += 1;
                }
                (Some("number"), Some(f)) if f.fract() == 0.0 => {
                    *v = json!(f as i64); // 159.0 -> 159
                    floats += 1;
                }
                _ => {}
            },
        );
        decodes(&name, ex);
    }
    assert!(
        ints >= 20 && floats >= 20,
        "{ints} integers, {floats} floats"
    );
    // A fractional value where an integer belongs is still an error.
    let r = roundtrip_component("TaskMetadata", json!({"width": 1280.5})).unwrap();
    assert!(r.is_err());
}

#[tokio::test]
async fn status_200_where_201_is_documented() {
    let server =
        ScriptServer::start([Reply::json(200, r#"{"_id":"666599d4e6fb7df29de0f89c"}"#)]).await;
    let tl = client(&server);
    let id = tl
        .indexes()
        .create("x")
        .engine(
            twelvelabs::EngineConfig::new("marengo2.6").options([twelvelabs::EngineOption::Visual]),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(id.as_str(), "666599d4e6fb7df29de0f89c");
}

#[tokio::test]
async fn status_204_without_body() {
    let server = ScriptServer::start([Reply::Http {
        status: 204,
        headers: vec![],
        body: vec![],
        delay: Duration::ZERO,
    }])
    .await;
    client(&server)
        .indexes()
        .delete("666599d4e6fb7df29de0f89c")
        .await
        .unwrap();
}

#[tokio::test]
async fn stream_without_stream_end() {
    let body = "{\"event_type\":\"stream_start\"}\n{\"event_type\":\"text_generation\",\"text\":\"half a\"}\n";
    let server = ScriptServer::start([Reply::raw(200, "application/x-ndjson", body)]).await;
    let mut s = client(&server)
        .generate()
        .text_stream("v", "p")
        .await
        .unwrap();
    use futures::StreamExt;
    let mut text = String::new();
    let mut last = None;
    while let Some(e) = s.next().await {
        match e {
            Ok(twelvelabs::api::generate::TextEvent::Text(t)) => text.push_str(&t),
            Ok(_) => {}
            Err(e) => last = Some(e),
        }
    }
    assert_eq!(text, "half a");
    assert!(matches!(last, Some(Error::StreamFailed { .. })), "{last:?}");
}

#[tokio::test]
async fn stream_with_stream_error() {
    let body = "{\"event_type\":\"stream_start\"}\n{\"event_type\":\"stream_error\",\"error\":{\"message\":\"model overloaded\"}}\n";
    let server = ScriptServer::start([Reply::raw(200, "application/x-ndjson", body)]).await;
    let e = client(&server)
        .generate()
        .text_stream("v", "p")
        .await
        .unwrap()
        .collect_text()
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::StreamFailed { message, .. } if message == "model overloaded"),
        "{e:?}"
    );
}

#[tokio::test]
async fn task_never_ready() {
    let indexing = TASK.replace("ready", "indexing");
    let server = ScriptServer::start(std::iter::repeat_n(Reply::json(200, &indexing), 100)).await;
    let e = within(
        Duration::from_secs(3),
        client(&server)
            .tasks()
            .wait("66659a3efa7835326810120c")
            .min_delay(Duration::from_millis(10))
            .max_wait(Duration::from_millis(200)),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&e, Error::WaitTimeout { last: Some(last), .. } if last.status() == "indexing"),
        "{e:?}"
    );
}

#[tokio::test]
async fn task_fails() {
    let server = ScriptServer::start([Reply::json(200, &TASK.replace("ready", "failed"))]).await;
    let e = within(
        Duration::from_secs(3),
        client(&server).tasks().wait("66659a3efa7835326810120c"),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&e, Error::TaskFailed(t) if t.status() == "failed"),
        "{e:?}"
    );
}

fn render_table() -> String {
    let mut s = String::from(
        "# Reliability: faults and outcomes\n\n\
         Generated from `tests/faults.rs` (`SCENARIOS`); the test `the_reliability_table_is_current` fails when\n\
         this file and the tests drift. Every scenario is a test against a misbehaving loopback server, bounded in\n\
         time, with the default retry policy (3 attempts) unless the outcome says otherwise.\n\n\
         | scenario | outcome | test |\n|---|---|---|\n",
    );
    for (test, scenario, outcome) in SCENARIOS {
        s.push_str(&format!("| {scenario} | {outcome} | `{test}` |\n"));
    }
    s.push_str(
        "\n## Hostile networks\n\n\
         Generated from `tests/hostile_support/scenarios.rs`; the tests are in `tests/hostile.rs` and, for\n\
         memory, `tests/hostile_memory.rs` (its own process: the peak RSS of each scenario is measured from\n\
         `/proc/self/status`). A loopback server written on raw TCP misbehaves on purpose; each test asserts the\n\
         exact typed outcome and fails when the scenario does not end within its bound + 2 s. Across all of\n\
         them: no panic, and no request carries the key to another origin.\n\n\
         | scenario | outcome | bound | test |\n|---|---|---|---|\n",
    );
    for (test, scenario, outcome, ms) in hostile_scenarios::HOSTILE {
        let bound = if ms % 1000 == 0 {
            format!("{} s", ms / 1000)
        } else {
            format!("{} s", *ms as f64 / 1000.0)
        };
        let file = if test.starts_with("memory_") {
            "hostile_memory.rs"
        } else {
            "hostile.rs"
        };
        s.push_str(&format!(
            "| {scenario} | {outcome} | {bound} | `{file}`: `{test}` |\n"
        ));
    }
    s
}

#[test]
fn the_reliability_table_is_current() {
    let source = include_str!("faults.rs");
    for (test, _, _) in SCENARIOS {
        assert!(
            source.contains(&format!("fn {test}(")),
            "scenario {test} has no test"
        );
    }
    let hostile = [
        include_str!("hostile.rs"),
        include_str!("hostile_memory.rs"),
    ];
    for (test, ..) in hostile_scenarios::HOSTILE {
        assert!(
            hostile.iter().any(|s| s.contains(&format!("fn {test}("))),
            "hostile scenario {test} has no test"
        );
    }
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/reliability.md");
    let rendered = render_table();
    if std::env::var_os("UPDATE_RELIABILITY_DOC").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &rendered).unwrap();
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert_eq!(
        on_disk, rendered,
        "docs/reliability.md is out of date: run `UPDATE_RELIABILITY_DOC=1 cargo test --all-features --test faults`"
    );
}
