//! A crate that depends on `twelvelabs` (not a fork) and builds it against its own copy of the
//! spec (`TWELVELABS_OPENAPI_SPEC`), with the additive edits `tests/regenerate.rs` applies. It
//! calls each new thing through `twelvelabs::raw` against a loopback server and prints `OK`.
//! Any failed check panics (a non-zero exit that the test reports with this program's output).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

#[derive(Clone, Debug)]
struct Seen {
    method: String,
    target: String,
    headers: BTreeMap<String, String>,
    body: String,
}

type Log = Arc<Mutex<Vec<Seen>>>;

/// Answers by route; `POST /collections` fails with a 500 (a creating POST must not be retried).
fn answer(method: &str, target: &str) -> (u16, String) {
    let path = target.split('?').next().unwrap_or("");
    match (method, path) {
        ("GET", "/v1.2/indexes/i1/stats") => (200, r#"{"videos": 3, "hours": 1.5}"#.into()),
        ("POST", "/v1.2/indexes/i1/collections") => (500, r#"{"code":"internal","message":"boom"}"#.into()),
        ("GET", "/v1.2/tasks/t1") => (
            200,
            r#"{"_id":"t1","status":"ready","priority":5.0,"default":"brand_new_default","brand_new_field":"x"}"#.into(),
        ),
        ("POST", "/v1.2/indexes/i1/posters") => (201, r#"{"_id":"p1"}"#.into()),
        ("GET", "/v1.2/tasks/t2") => (200, r#"{"_id":"t2","status":"cancelled"}"#.into()),
        ("POST", "/v1.2/search") => (
            200,
            r#"{"data":[],"page_info":{"limit_per_page":10,"total_results":0},"search_pool":{"index_id":"i1","total_count":0}}"#.into(),
        ),
        _ => (404, r#"{"code":"resource_not_exists","message":"no route"}"#.into()),
    }
}

async fn serve(listener: TcpListener, log: Log) {
    loop {
        let Ok((mut sock, _)) = listener.accept().await else { return };
        let log = log.clone();
        tokio::spawn(async move {
            let mut buf = Vec::new();
            let mut chunk = [0u8; 8192];
            let head_end = loop {
                let n = sock.read(&mut chunk).await.unwrap_or(0);
                if n == 0 {
                    return;
                }
                buf.extend_from_slice(&chunk[..n]);
                if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    break i + 4;
                }
            };
            let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
            let mut lines = head.split("\r\n");
            let mut first = lines.next().unwrap_or("").split(' ');
            let (method, target) = (first.next().unwrap_or("").to_owned(), first.next().unwrap_or("").to_owned());
            let headers: BTreeMap<String, String> = lines
                .filter_map(|l| l.split_once(':'))
                .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
                .collect();
            let len: usize = headers.get("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
            while buf.len() < head_end + len {
                let n = sock.read(&mut chunk).await.unwrap_or(0);
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            let body = String::from_utf8_lossy(&buf[head_end..]).to_string();
            let (status, json) = answer(&method, &target);
            log.lock().unwrap().push(Seen { method, target, headers, body });
            let reply = format!(
                "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{json}",
                json.len()
            );
            let _ = sock.write_all(reply.as_bytes()).await;
        });
    }
}

#[tokio::main]
async fn main() {
    use twelvelabs::raw::operations;

    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let log: Log = Arc::default();
    tokio::spawn(serve(listener, log.clone()));
    let tl = twelvelabs::Client::builder()
        .api_key("tlk_dependent")
        .base_url(&base)
        .build()
        .unwrap();
    let raw = tl.raw();
    let last = |log: &Log| log.lock().unwrap().last().cloned().unwrap();

    // 1. A new GET with a path and a query parameter, and a new response schema.
    let stats = tl
        .call(raw.get_index_stats().index_id("i1").window("7d").send())
        .await
        .unwrap();
    assert_eq!((stats.videos, stats.hours), (Some(3), Some(1.5)));
    let seen = last(&log);
    assert_eq!((seen.method.as_str(), seen.target.as_str()), ("GET", "/v1.2/indexes/i1/stats?window=7d"));
    assert_eq!(seen.headers.get("x-api-key").map(String::as_str), Some("tlk_dependent"));

    // 2. A new creating POST with a header parameter: the header is sent, and a 500 is not
    //    retried (the descriptor says it creates something).
    assert!(operations::CREATE_COLLECTION.creates);
    let before = log.lock().unwrap().len();
    let err = tl
        .call(
            raw.create_collection()
                .index_id("i1")
                .idempotency_key("key-1")
                .body_map(|b| b.name("favourites"))
                .send(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(500), "{err}");
    let posts: Vec<Seen> = log.lock().unwrap()[before..].to_vec();
    assert_eq!(posts.len(), 1, "a creating POST is sent once: {posts:?}");
    assert_eq!(posts[0].headers.get("idempotency-key").map(String::as_str), Some("key-1"));
    assert_eq!(posts[0].body, r#"{"name":"favourites"}"#);

    // 3. New response fields: an int32 sent as a float, and an enum behind a property named
    //    `default` (open: an unknown value is kept).
    //    The resource method's result exposes every generated field through `.raw()`.
    let task = tl.tasks().get("t1").await.unwrap();
    let task = task.raw();
    assert_eq!(task.priority, Some(5_i32));
    assert_eq!(task.default.as_ref().map(|d| d.as_str()), Some("brand_new_default"));
    assert!(task.default.as_ref().is_some_and(|d| !d.is_known()));

    // 4. A new terminal status: the waiter ends with TaskFailed at once, not at max_wait.
    let started = std::time::Instant::now();
    let waited = tl
        .tasks()
        .wait("t2")
        .max_wait(Duration::from_secs(60))
        .await
        .unwrap_err();
    assert!(matches!(waited, twelvelabs::Error::TaskFailed(_)), "{waited}");
    assert!(started.elapsed() < Duration::from_secs(10));

    // 5. A new optional request field: the ergonomic search still builds and works, and the
    //    field is settable through raw.
    tl.search("i1")
        .query("a red mask")
        .options([twelvelabs::SearchOption::Visual])
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = serde_json::from_str(&last(&log).body).unwrap();
    assert!(body.get("include_user_metadata").is_none(), "unset optional fields are not sent");
    tl.call(
        raw.search()
            .body_map(|b| {
                b.query(twelvelabs::raw::types::SearchQuery::String("a red mask".into()))
                    .index_id("i1")
                    .search_options(vec![twelvelabs::SearchOption::Visual])
                    .include_user_metadata(true)
            })
            .send(),
    )
    .await
    .unwrap();
    let body: serde_json::Value = serde_json::from_str(&last(&log).body).unwrap();
    assert_eq!(body["include_user_metadata"], true);

    // 6. A new required request field: the resource method refuses before sending, naming it;
    //    the raw call can set it.
    let before = log.lock().unwrap().len();
    let e = tl
        .generate()
        .gist("v1", [twelvelabs::GistType::Title])
        .await
        .unwrap_err();
    assert!(
        matches!(&e, twelvelabs::Error::InvalidInput { field, .. } if field == "language"),
        "{e:?}"
    );
    assert_eq!(log.lock().unwrap().len(), before, "nothing was sent");
    let _ = tl
        .call(
            raw.gist()
                .body_map(|b| {
                    b.video_id("v1")
                        .types(vec![twelvelabs::GistType::Title])
                        .language("en")
                })
                .send(),
        )
        .await;
    let body: serde_json::Value = serde_json::from_str(&last(&log).body).unwrap();
    assert_eq!(body["language"], "en");

    // 7. A new multipart operation, sent through its descriptor.
    let op = &operations::CREATE_POSTER;
    assert!(!op.generated && op.creates);
    assert!(matches!(op.body, operations::Body::Multipart { files } if files == ["poster_file"]));
    let mut form = twelvelabs::upload::MultipartForm::default();
    form.text("title", "Opening night");
    form.media(
        "poster_url",
        "poster_file",
        twelvelabs::upload::Media::bytes(b"PNGDATA".to_vec(), "poster.png"),
    )
    .await
    .unwrap();
    let created: twelvelabs::raw::types::CreatedResponse =
        tl.send_multipart(op, &[("index_id", "i1")], form).await.unwrap();
    assert_eq!(created.id, "p1");
    let seen = last(&log);
    assert_eq!((seen.method.as_str(), seen.target.as_str()), ("POST", "/v1.2/indexes/i1/posters"));
    assert!(seen.headers["content-type"].starts_with("multipart/form-data; boundary="));
    assert!(seen.body.contains("name=\"title\"\r\n\r\nOpening night"), "{}", seen.body);
    assert!(seen.body.contains("name=\"poster_file\"; filename=\"poster.png\""), "{}", seen.body);
    assert!(seen.body.contains("PNGDATA"));
    // A JSON operation is refused before anything is sent.
    let before = log.lock().unwrap().len();
    let e = tl
        .send_multipart::<serde_json::Value>(&operations::GET_TASK, &[("task_id", "t1")], Default::default())
        .await
        .unwrap_err();
    assert!(e.to_string().contains("getTask"), "{e}");
    assert_eq!(log.lock().unwrap().len(), before);

    println!("OK: {} requests", log.lock().unwrap().len());
}
