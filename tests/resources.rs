//! The ergonomic layer end to end against loopback servers: the seed notebook's calls, pagination,
//! waiting, uploads, streams, validation.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use httpmock::prelude::*;
use serde_json::json;
use support::{Reply, ScriptServer};
use twelvelabs::api::generate::TextEvent;
use twelvelabs::api::search::Query;
use twelvelabs::upload::Media;
use twelvelabs::{Client, EngineConfig, Error, Filter, RetryPolicy};

const KEY: &str = "tlk_RESOURCES_0123456789";
const INDEX: &str = "666599d4e6fb7df29de0f89c";
const VIDEO: &str = "66659a48d22b3a3c97bf1d5f";
const TASK: &str = "66659a3efa7835326810120c";

fn client(base: &str) -> Client {
    Client::builder()
        .api_key(KEY)
        .base_url(base)
        .retry_policy(
            RetryPolicy::default()
                .with_initial_backoff(Duration::from_millis(5))
                .with_max_backoff(Duration::from_millis(10)),
        )
        .build()
        .unwrap()
}

fn mock_client(server: &MockServer) -> Client {
    client(&server.url("/v1.2"))
}

#[tokio::test]
async fn create_index_the_seed_way() {
    use twelvelabs::EngineOption::*;
    let server = MockServer::start_async().await;
    let m = server
        .mock_async(|when, then| {
            when.method(POST).path("/v1.2/indexes").header("x-api-key", KEY).json_body(json!({
                "index_name": "Content Creator Videos",
                "engines": [
                    {"engine_name": "marengo2.6", "engine_options": ["visual", "conversation", "text_in_video", "logo"]},
                    {"engine_name": "pegasus1", "engine_options": ["visual", "conversation"]}
                ],
                "addons": ["thumbnail"]
            }));
            then.status(201).json_body(json!({"_id": INDEX}));
        })
        .await;
    let tl = mock_client(&server);
    let index = tl
        .indexes()
        .create("Content Creator Videos")
        .engine(EngineConfig::new("marengo2.6").options([Visual, Conversation, TextInVideo, Logo]))
        .engine(EngineConfig::new("pegasus1").options([Visual, Conversation]))
        .addon(twelvelabs::Addon::Thumbnail)
        .send()
        .await
        .unwrap();
    assert_eq!(index.as_str(), INDEX);
    m.assert_async().await;
}

#[tokio::test]
async fn invalid_input_fails_before_any_request() {
    let server = MockServer::start_async().await;
    let any = server
        .mock_async(|when, then| {
            when.any_request();
            then.status(500);
        })
        .await;
    let tl = mock_client(&server);
    let field = |e: Error| match e {
        Error::InvalidInput { field, .. } => field.to_string(),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        field(tl.indexes().create("x").send().await.unwrap_err()),
        "engines"
    );
    assert_eq!(
        field(
            tl.indexes()
                .create(" ")
                .engine(EngineConfig::new("marengo2.6"))
                .send()
                .await
                .unwrap_err()
        ),
        "index_name"
    );
    assert_eq!(
        field(
            tl.indexes()
                .create("x")
                .engine(EngineConfig::new("marengo2.6"))
                .send()
                .await
                .unwrap_err()
        ),
        "engines.engine_options"
    );
    assert_eq!(field(tl.indexes().get("").await.unwrap_err()), "index_id");
    assert_eq!(
        field(tl.indexes().list().page_limit(51).send().await.unwrap_err()),
        "page_limit"
    );
    assert_eq!(
        field(tl.indexes().list().page_limit(0).send().await.unwrap_err()),
        "page_limit"
    );
    assert_eq!(
        field(
            tl.videos(INDEX)
                .list()
                .duration(Filter::between(60.0, 10.0))
                .send()
                .await
                .unwrap_err()
        ),
        "duration"
    );
    assert_eq!(
        field(
            tl.videos(INDEX)
                .list()
                .metadata("duration", 3i64)
                .send()
                .await
                .unwrap_err()
        ),
        "metadata.duration"
    );
    assert_eq!(
        field(tl.videos(INDEX).update(VIDEO).send().await.unwrap_err()),
        "metadata"
    );
    assert_eq!(
        field(
            tl.videos(INDEX)
                .update(VIDEO)
                .metadata("rating", f64::NAN)
                .send()
                .await
                .unwrap_err()
        ),
        "metadata.rating"
    );
    assert_eq!(
        field(tl.search(INDEX).query("x").send().await.unwrap_err()),
        "search_options"
    );
    use twelvelabs::SearchOption::Visual;
    assert_eq!(
        field(tl.search(INDEX).options([Visual]).send().await.unwrap_err()),
        "query"
    );
    assert_eq!(
        field(
            tl.search(INDEX)
                .query("x")
                .options([Visual])
                .adjust_confidence_level(1.5)
                .send()
                .await
                .unwrap_err()
        ),
        "adjust_confidence_level"
    );
    assert_eq!(
        field(
            tl.search(INDEX)
                .query("x")
                .query("y")
                .options([Visual])
                .send()
                .await
                .unwrap_err()
        ),
        "query"
    );
    assert_eq!(
        field(
            tl.search(INDEX)
                .combined(Query::and([Query::text("a")]))
                .options([Visual])
                .send()
                .await
                .unwrap_err()
        ),
        "query.$and"
    );
    assert_eq!(
        field(tl.classify().index(INDEX).send().await.unwrap_err()),
        "classes"
    );
    let many: Vec<String> = (0..101).map(|i| format!("p{i}")).collect();
    assert_eq!(
        field(
            tl.classify()
                .index(INDEX)
                .class("Big", many)
                .send()
                .await
                .unwrap_err()
        ),
        "classes.prompts"
    );
    assert_eq!(
        field(
            tl.classify()
                .index(INDEX)
                .class("A", ["x"])
                .min_video_score(101.0)
                .send()
                .await
                .unwrap_err()
        ),
        "threshold.min_video_score"
    );
    assert_eq!(
        field(
            tl.classify()
                .videos(Vec::<String>::new())
                .class("A", ["x"])
                .send()
                .await
                .unwrap_err()
        ),
        "video_ids"
    );
    assert_eq!(
        field(tl.generate().gist(VIDEO, []).await.unwrap_err()),
        "types"
    );
    assert_eq!(
        field(tl.generate().text(VIDEO, "").send().await.unwrap_err()),
        "prompt"
    );
    assert_eq!(
        field(
            tl.generate()
                .text(VIDEO, "x".repeat(1501))
                .send()
                .await
                .unwrap_err()
        ),
        "prompt"
    );
    assert_eq!(
        field(
            tl.generate()
                .summary(VIDEO)
                .temperature(1.2)
                .send()
                .await
                .unwrap_err()
        ),
        "temperature"
    );
    assert_eq!(
        field(
            tl.embed()
                .tasks()
                .create(Media::url("https://x.example/a.mp4"))
                .clip_length(11)
                .send()
                .await
                .unwrap_err()
        ),
        "video_clip_length"
    );
    assert_eq!(
        field(tl.tasks().create(INDEX).send().await.unwrap_err()),
        "video_file"
    );
    assert_eq!(
        field(
            tl.tasks()
                .create(INDEX)
                .video_url("https://x.example/a.mp4")
                .video_bytes(vec![1u8], "a.mp4")
                .send()
                .await
                .unwrap_err()
        ),
        "video_file"
    );
    assert_eq!(
        field(
            tl.tasks()
                .create(INDEX)
                .video_url("ftp://x.example/a.mp4")
                .send()
                .await
                .unwrap_err()
        ),
        "video_url"
    );
    assert_eq!(
        any.calls_async().await,
        0,
        "no request may reach the server"
    );
}

#[tokio::test]
async fn file_checks_happen_before_any_request() {
    let server = MockServer::start_async().await;
    let any = server
        .mock_async(|when, then| {
            when.any_request();
            then.status(500);
        })
        .await;
    let tl = mock_client(&server);
    let dir = std::env::temp_dir().join(format!("tl-files-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let missing = tl
        .tasks()
        .create(INDEX)
        .video_file(dir.join("nope.mp4"))
        .send()
        .await
        .unwrap_err();
    assert!(matches!(missing, Error::Io { .. }), "{missing:?}");
    let empty = dir.join("empty.mp4");
    std::fs::write(&empty, b"").unwrap();
    let e = tl
        .tasks()
        .create(INDEX)
        .video_file(&empty)
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::InvalidInput { field, reason } if field == "video_file" && reason.contains("empty")),
        "{e:?}"
    );
    let dir_err = tl
        .tasks()
        .create(INDEX)
        .video_file(&dir)
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(&dir_err, Error::InvalidInput { reason, .. } if reason.contains("not a regular file")),
        "{dir_err:?}"
    );
    let huge = dir.join("huge.mp4");
    let f = std::fs::File::create(&huge).unwrap();
    f.set_len(2 * 1024 * 1024 * 1024 + 1).unwrap(); // sparse: no disk used
    let e = tl
        .tasks()
        .create(INDEX)
        .video_file(&huge)
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::InvalidInput { reason, .. } if reason.contains("2 GB")),
        "{e:?}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(any.calls_async().await, 0);
}

#[tokio::test]
async fn upload_streams_the_exact_file_reports_progress_and_reopens_it_on_retry() {
    let server = ScriptServer::start([
        Reply::json(503, r#"{"code":"busy","message":"later"}"#),
        Reply::json(201, &format!(r#"{{"_id":"{TASK}"}}"#)),
    ])
    .await;
    let dir = std::env::temp_dir().join(format!("tl-upload-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("clip.mp4");
    let content: Vec<u8> = (0..700_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(&path, &content).unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    let tl = client(&server.base_url);
    let task = tl
        .tasks()
        .create(INDEX)
        .video_file(&path)
        .language("en")
        .disable_video_stream(true)
        .transcription(Media::url("https://x.example/subs.vtt"))
        .on_progress(move |sent, total| s.lock().unwrap().push((sent, total)))
        .send()
        .await
        .unwrap();
    assert_eq!(task.id.as_str(), TASK);
    let requests = server.requests();
    assert_eq!(
        requests.len(),
        2,
        "the 503 is retried (the request did not land)"
    );
    for r in &requests {
        assert_eq!(r.method, "POST");
        assert_eq!(r.path, "/v1.2/tasks");
        assert_eq!(r.header("x-api-key"), Some(KEY));
        assert!(
            r.header("content-type")
                .unwrap()
                .starts_with("multipart/form-data; boundary=")
        );
        let len: usize = r
            .header("content-length")
            .expect("a known content length")
            .parse()
            .unwrap();
        assert_eq!(len, r.body.len());
        // The file's exact bytes are in the body, whole, in both attempts.
        assert!(
            r.body
                .windows(content.len())
                .any(|w| w == content.as_slice()),
            "file bytes missing"
        );
        let text = String::from_utf8_lossy(&r.body);
        for (name, value) in [
            ("index_id", INDEX),
            ("language", "en"),
            ("disable_video_stream", "false"),
            ("provide_transcription", "true"),
            ("transcription_url", "https://x.example/subs.vtt"),
        ] {
            if name == "disable_video_stream" {
                assert!(
                    text.contains("name=\"disable_video_stream\"\r\n\r\ntrue"),
                    "{name}"
                );
                continue;
            }
            assert!(
                text.contains(&format!("name=\"{name}\"\r\n\r\n{value}")),
                "{name} missing"
            );
        }
        assert!(text.contains("name=\"video_file\"; filename=\"clip.mp4\""));
    }
    let progress = seen.lock().unwrap().clone();
    let total = content.len() as u64;
    assert!(progress.iter().all(|(_, t)| *t == total));
    assert_eq!(
        progress.last().unwrap().0,
        total,
        "progress reaches the total"
    );
    assert!(
        progress.windows(2).filter(|w| w[1].0 < w[0].0).count() <= 1,
        "monotonic within an attempt"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_reader_upload_is_sent_once_and_not_retried() {
    let server = ScriptServer::start([
        Reply::json(503, "{}"),
        Reply::json(201, &format!(r#"{{"_id":"{TASK}"}}"#)),
    ])
    .await;
    let tl = client(&server.base_url);
    let data = b"fake video bytes".to_vec();
    let err = tl
        .tasks()
        .create(INDEX)
        .video_reader(
            std::io::Cursor::new(data.clone()),
            data.len() as u64,
            "r.mp4",
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(server.hits(), 1);
    assert!(
        server.requests()[0]
            .body
            .windows(data.len())
            .any(|w| w == data.as_slice())
    );
}

#[tokio::test]
async fn list_pages_follow_total_page_and_concurrency_keeps_the_order() {
    let server = MockServer::start_async().await;
    let total_pages = 5;
    for page in 1..=total_pages {
        server
            .mock_async(|when, then| {
                when.method(GET).path(format!("/v1.2/indexes/{INDEX}/videos")).query_param("page", page.to_string()).query_param("page_limit", "2");
                let data: Vec<_> = (0..2).map(|i| json!({"_id": format!("v{page}-{i}"), "metadata": {"duration": 10}})).collect();
                then.status(200)
                    .json_body(json!({"data": data, "page_info": {"limit_per_page": 2, "page": page, "total_page": total_pages, "total_results": 10}}))
                    .delay(Duration::from_millis(60 / page as u64));
            })
            .await;
    }
    let tl = mock_client(&server);
    let ids = |v: Vec<twelvelabs::Video>| {
        v.into_iter()
            .map(|v| v.id().to_string())
            .collect::<Vec<_>>()
    };
    let seq = ids(tl
        .videos(INDEX)
        .list()
        .page_limit(2)
        .items()
        .try_collect()
        .await
        .unwrap());
    let con = ids(tl
        .videos(INDEX)
        .list()
        .page_limit(2)
        .concurrency(4)
        .items()
        .try_collect()
        .await
        .unwrap());
    assert_eq!(seq.len(), 10);
    assert_eq!(seq[0], "v1-0");
    assert_eq!(seq[9], "v5-1");
    assert_eq!(seq, con);
    let page = tl.videos(INDEX).list().page_limit(2).page(3).await.unwrap();
    assert_eq!(page.items[0].id(), "v3-0");
    assert_eq!(page.total_pages(), Some(5));
    assert!(!page.is_last());
}

#[tokio::test]
async fn an_empty_list_and_a_repeated_page_end_the_stream() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/v1.2/tasks");
            then.status(200).json_body(
                json!({"data": [], "page_info": {"page": 1, "total_page": 0, "total_results": 0}}),
            );
        })
        .await;
    // A broken server that always answers page 1 of 9.
    let repeated = server
        .mock_async(|when, then| {
            when.method(GET).path("/v1.2/indexes");
            then.status(200).json_body(json!({"data": [{"_id": "i1"}], "page_info": {"page": 1, "total_page": 9, "limit_per_page": 1}}));
        })
        .await;
    let tl = mock_client(&server);
    let tasks: Vec<_> = tl.tasks().list().items().try_collect().await.unwrap();
    assert!(tasks.is_empty());
    let indexes: Vec<_> = tl.indexes().list().items().try_collect().await.unwrap();
    assert_eq!(indexes.len(), 1);
    assert_eq!(repeated.calls_async().await, 2);
}

#[tokio::test]
async fn custom_metadata_and_range_filters_reach_the_query() {
    let server = MockServer::start_async().await;
    let m = server
        .mock_async(|when, then| {
            when.method(GET)
                .path(format!("/v1.2/indexes/{INDEX}/videos"))
                .query_param("category", "recentlyAdded")
                .query_param("needsReview", "true")
                .query_param("duration[gte]", "10.0")
                .query_param("created_at[lte]", "2024-06-09T12:00:00Z");
            then.status(200)
                .json_body(json!({"data": [], "page_info": {"page": 1, "total_page": 1}}));
        })
        .await;
    let tl = mock_client(&server);
    let until: chrono::DateTime<chrono::Utc> = "2024-06-09T12:00:00Z".parse().unwrap();
    tl.videos(INDEX)
        .list()
        .metadata("category", "recentlyAdded")
        .metadata("needsReview", true)
        .duration(Filter::gte(10.0))
        .created_at(Filter::lte(until))
        .send()
        .await
        .unwrap();
    m.assert_async().await;
}

#[tokio::test]
async fn search_follows_tokens_to_the_end() {
    use twelvelabs::SearchOption::*;
    let server = MockServer::start_async().await;
    let first = server
        .mock_async(|when, then| {
            when.method(POST).path("/v1.2/search").json_body(json!({"query": "A woman wearing makeup", "index_id": INDEX, "search_options": ["visual"]}));
            then.status(200).json_body(json!({
                "data": [{"video_id": VIDEO, "start": 1, "end": 2, "score": 90, "confidence": "high"}],
                "page_info": {"limit_per_page": 1, "total_results": 3, "next_page_token": "t2", "page_expired_at": "2024-06-09T12:09:42Z"},
                "search_pool": {"index_id": INDEX, "total_count": 1, "total_duration": 159}
            }));
        })
        .await;
    let second = server
        .mock_async(|when, then| {
            when.method(GET).path("/v1.2/search/t2");
            then.status(200).json_body(json!({"data": [{"id": VIDEO, "clips": [{"video_id": VIDEO, "start": 3, "end": 4}, {"video_id": VIDEO, "start": 5, "end": 6}]}],
                                              "page_info": {"total_results": 3, "prev_page_token": "t1"}}));
        })
        .await;
    let tl = mock_client(&server);
    let pages: Vec<_> = tl
        .search(INDEX)
        .query("A woman wearing makeup")
        .options([Visual])
        .pages()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(pages.len(), 2);
    assert_eq!(
        pages[0].search_pool.as_ref().unwrap().total_duration,
        Some(159.0)
    );
    let clips: Vec<f64> = pages
        .iter()
        .flat_map(|p| p.clips().map(|c| c.raw().start))
        .collect();
    assert_eq!(clips, vec![1.0, 3.0, 5.0]);
    first.assert_async().await;
    second.assert_async().await;
}

#[tokio::test]
async fn image_search_uses_search_v2_multipart_and_falls_back_to_the_v2_page_path() {
    let server = ScriptServer::start([
        Reply::json(
            200,
            r#"{"data":[{"video_id":"v","start":0,"end":1}],"page_info":{"next_page_token":"n1"}}"#,
        ),
        Reply::json(
            404,
            r#"{"code":"resource_not_exists","message":"no such page"}"#,
        ),
        Reply::json(
            200,
            r#"{"data":[{"video_id":"v","start":2,"end":3}],"page_info":{}}"#,
        ),
    ])
    .await;
    use twelvelabs::SearchOption::*;
    let tl = client(&server.base_url);
    let items: Vec<_> = tl
        .search(INDEX)
        .image(Media::url("https://x.example/face.png"))
        .options([Visual, Logo])
        .filter("duration", json!({"gte": 10}))
        .items()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(items.len(), 2);
    let r = server.requests();
    assert_eq!(r[0].path, "/v1.2/search-v2");
    let body = String::from_utf8_lossy(&r[0].body);
    assert_eq!(
        body.matches("name=\"search_options\"").count(),
        2,
        "array fields are repeated"
    );
    assert!(body.contains("name=\"query_media_type\"\r\n\r\nimage"));
    assert!(body.contains("name=\"query_media_url\"\r\n\r\nhttps://x.example/face.png"));
    assert!(
        body.contains("name=\"filter\"\r\n\r\n{\"duration\":{\"gte\":10}}"),
        "filter is a JSON string"
    );
    assert_eq!(r[1].path, "/v1.2/search/n1");
    assert_eq!(r[2].path, "/v1.2/search-v2/n1");
}

#[tokio::test]
async fn an_expired_token_is_a_typed_error() {
    let server = ScriptServer::start([
        Reply::json(200, r#"{"data":[{"video_id":"v","start":0,"end":1}],"page_info":{"next_page_token":"old"}}"#),
        Reply::json(400, r#"{"code":"search_page_token_expired","message":"The token expired."}"#),
    ])
    .await;
    let tl = client(&server.base_url);
    let all: Vec<_> = tl
        .search(INDEX)
        .query("x")
        .options([twelvelabs::SearchOption::Visual])
        .items()
        .collect()
        .await;
    assert_eq!(all.len(), 2);
    let err = all[1].as_ref().unwrap_err();
    assert_eq!(
        err.code(),
        Some(&twelvelabs::ErrorCode::SearchPageTokenExpired)
    );
}

#[tokio::test]
async fn classify_pages_through_tokens() {
    let server = MockServer::start_async().await;
    let first = server
        .mock_async(|when, then| {
            when.method(POST).path("/v1.2/classify").json_body(json!({
                "video_ids": [VIDEO], "options": ["visual", "conversation", "text_in_video"],
                "classes": [{"name": "BeautyTok", "prompts": ["Makeup", "Skincare"]}],
                "include_clips": true, "show_detailed_score": true,
                "threshold": {"min_video_score": 80.0, "min_duration_ratio": 0.5}
            }));
            then.status(200).json_body(json!({"data": [{"video_id": VIDEO, "classes": [{"name": "BeautyTok", "score": 91.0}]}],
                                              "page_info": {"next_page_token": "c2"}}));
        })
        .await;
    let second = server
        .mock_async(|when, then| {
            when.method(GET).path("/v1.2/classify/c2");
            then.status(200)
                .json_body(json!({"data": [{"video_id": "v2", "classes": []}], "page_info": {}}));
        })
        .await;
    let tl = mock_client(&server);
    let videos: Vec<_> = tl
        .classify()
        .videos([VIDEO])
        .class("BeautyTok", ["Makeup", "Skincare"])
        .min_video_score(80.0)
        .min_duration_ratio(0.5)
        .include_clips(true)
        .show_detailed_score(true)
        .items()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(videos.len(), 2);
    first.assert_async().await;
    second.assert_async().await;
}

fn task_json(status: &str, remain: Option<f64>) -> String {
    let mut t = json!({"_id": TASK, "index_id": INDEX, "status": status});
    if let Some(r) = remain {
        t["process"] = json!({"percentage": 50.0, "remain_seconds": r});
    }
    if status == "ready" {
        t["video_id"] = json!(VIDEO);
    }
    t.to_string()
}

#[tokio::test]
async fn waiting_goes_pending_indexing_ready_and_reports_each_state() {
    let server = ScriptServer::start([
        Reply::json(200, &task_json("pending", None)),
        Reply::json(200, &task_json("indexing", Some(0.01))),
        Reply::json(200, &task_json("ready", None)),
    ])
    .await;
    let tl = client(&server.base_url);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    let task = tl
        .tasks()
        .wait(TASK)
        .min_delay(Duration::from_millis(10))
        .max_delay(Duration::from_millis(50))
        .on_update(move |t| s.lock().unwrap().push(t.status().as_str().to_owned()))
        .await
        .unwrap();
    assert_eq!(task.video_id(), VIDEO);
    assert_eq!(*seen.lock().unwrap(), vec!["pending", "indexing", "ready"]);
    assert_eq!(server.hits(), 3);
}

#[tokio::test]
async fn a_failed_task_is_a_typed_error_and_the_stream_shows_it() {
    let server = ScriptServer::start([
        Reply::json(200, &task_json("indexing", None)),
        Reply::json(200, &task_json("failed", None)),
    ])
    .await;
    let tl = client(&server.base_url);
    let items: Vec<_> = tl
        .tasks()
        .wait(TASK)
        .min_delay(Duration::from_millis(5))
        .updates()
        .collect()
        .await;
    assert_eq!(items.len(), 3);
    assert_eq!(items[1].as_ref().unwrap().status().as_str(), "failed");
    let Err(Error::TaskFailed(t)) = &items[2] else {
        panic!("{items:?}")
    };
    assert_eq!((t.id(), t.status()), (TASK, "failed"));
}

#[tokio::test]
async fn the_deadline_is_a_wait_timeout_carrying_the_last_task() {
    let server = ScriptServer::start(std::iter::repeat_n(
        Reply::json(200, &task_json("indexing", Some(3600.0))),
        50,
    ))
    .await;
    let tl = client(&server.base_url);
    let started = std::time::Instant::now();
    let err = tl
        .tasks()
        .wait(TASK)
        .min_delay(Duration::from_millis(10))
        .max_delay(Duration::from_millis(100))
        .max_wait(Duration::from_millis(350))
        .await
        .unwrap_err();
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(350) && elapsed < Duration::from_secs(2),
        "{elapsed:?}"
    );
    let Error::WaitTimeout { last, waited } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(last.as_ref().unwrap().status(), "indexing");
    assert!(*waited >= Duration::from_millis(350));
    // The hint (an hour left) was capped by max_delay: a handful of polls, not a tight loop.
    assert!((3..=6).contains(&server.hits()), "{} polls", server.hits());
}

#[tokio::test]
async fn a_transient_outage_while_polling_does_not_end_the_wait() {
    let server = ScriptServer::start([
        Reply::json(200, &task_json("indexing", None)),
        Reply::json(503, "{}"),
        Reply::json(503, "{}"),
        Reply::json(503, "{}"), // three 503s exhaust one poll's retries: still retryable
        Reply::json(200, &task_json("ready", None)),
    ])
    .await;
    let tl = client(&server.base_url);
    let task = tl
        .tasks()
        .wait(TASK)
        .min_delay(Duration::from_millis(5))
        .max_delay(Duration::from_millis(20))
        .await
        .unwrap();
    assert_eq!(task.video_id(), VIDEO);
    assert_eq!(server.hits(), 5);
}

#[tokio::test]
async fn a_non_retryable_poll_error_ends_the_wait() {
    let server = ScriptServer::start([Reply::json(
        404,
        r#"{"code":"resource_not_exists","message":"no task"}"#,
    )])
    .await;
    let tl = client(&server.base_url);
    let err = tl
        .tasks()
        .wait(TASK)
        .min_delay(Duration::from_millis(5))
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(404));
}

#[tokio::test]
async fn generate_text_stream_parses_ndjson_from_the_wire() {
    let ndjson = concat!(
        "{\"event_type\":\"stream_start\",\"metadata\":{\"generation_id\":\"g-1\"}}\n",
        "{\"event_type\":\"text_generation\",\"text\":\"Yo, closet door swings, \"}\n",
        "{\"event_type\":\"text_generation\",\"text\":\"it's a fashion affair\"}\n",
        "{\"event_type\":\"stream_end\",\"metadata\":{\"generation_id\":\"g-1\"}}\n"
    );
    let server = ScriptServer::start([
        Reply::raw(200, "application/x-ndjson", ndjson),
        Reply::raw(200, "application/x-ndjson", ndjson),
    ])
    .await;
    let tl = client(&server.base_url);
    let mut stream = tl
        .generate()
        .text_stream(VIDEO, "Write a rap song based on this video.")
        .await
        .unwrap();
    let first = stream.next().await.unwrap().unwrap();
    assert_eq!(
        first,
        TextEvent::Start {
            generation_id: Some("g-1".into())
        }
    );
    let text = stream.collect_text().await.unwrap();
    assert_eq!(text, "Yo, closet door swings, it's a fashion affair");
    let body: serde_json::Value = serde_json::from_slice(&server.requests()[0].body).unwrap();
    assert_eq!(
        body,
        json!({"video_id": VIDEO, "prompt": "Write a rap song based on this video.", "stream": true})
    );
    let all = tl
        .generate()
        .text(VIDEO, "again")
        .stream()
        .await
        .unwrap()
        .collect_text()
        .await
        .unwrap();
    assert_eq!(all, text);
}

#[tokio::test]
async fn gist_summaries_and_text_are_typed() {
    use twelvelabs::GistType::*;
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/v1.2/gist")
                .json_body(json!({"video_id": VIDEO, "types": ["title", "topic", "hashtag"]}));
            then.status(200)
                .json_body(json!({"id": "g", "title": "T", "topics": ["a"], "hashtags": ["#a"]}));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(POST).path("/v1.2/summarize").json_body(json!({"video_id": VIDEO, "type": "summary", "prompt": "Generate a summary of this video for a fashion show, up to three sentences."}));
            then.status(200).json_body(json!({"id": "s", "summary": "Short."}));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/v1.2/summarize")
                .json_body(json!({"video_id": VIDEO, "type": "highlight"}));
            then.status(200).json_body(
                json!({"id": "h", "highlights": [{"start": 1.5, "end": 3, "highlight": "H"}]}),
            );
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(POST).path("/v1.2/generate").json_body(json!({"video_id": VIDEO, "prompt": "Write an Instagram post about women's fashion choice based on this video.", "temperature": 0.7, "stream": false}));
            then.status(200).json_body(json!({"id": "t", "data": "Post."}));
        })
        .await;
    let tl = mock_client(&server);
    let g = tl
        .generate()
        .gist(VIDEO, [Title, Topic, Hashtag])
        .await
        .unwrap();
    assert_eq!(g.hashtags(), ["#a"]);
    let s = tl
        .generate()
        .summary(VIDEO)
        .prompt("Generate a summary of this video for a fashion show, up to three sentences.")
        .send()
        .await
        .unwrap();
    assert_eq!(s.summary, "Short.");
    let h = tl.generate().highlights(VIDEO).send().await.unwrap();
    assert_eq!(h[0].raw().start, Some(1.5));
    let t = tl
        .generate()
        .text(
            VIDEO,
            "Write an Instagram post about women's fashion choice based on this video.",
        )
        .temperature(0.7)
        .send()
        .await
        .unwrap();
    assert_eq!(t, "Post.");
}

#[tokio::test]
async fn embeddings_and_embed_tasks() {
    let server = ScriptServer::start([
        Reply::json(200, r#"{"engine_name":"Marengo-retrieval-2.6","text_embedding":{"segments":[{"float":[0.1,-0.2]}]}}"#),
        Reply::json(200, r#"{"_id":"6745e1b1c3f7a9d3e5b2c4a1"}"#),
        Reply::json(200, r#"{"_id":"6745e1b1c3f7a9d3e5b2c4a1","status":"processing"}"#),
        Reply::json(200, r#"{"_id":"6745e1b1c3f7a9d3e5b2c4a1","status":"ready"}"#),
    ])
    .await;
    let tl = client(&server.base_url);
    let e = tl
        .embed()
        .text("a guy with a red mask")
        .send()
        .await
        .unwrap();
    assert_eq!(e.text_embedding.unwrap().segments[0].float, vec![0.1, -0.2]);
    let id = tl
        .embed()
        .tasks()
        .create(Media::bytes(vec![7u8; 1000], "v.mp4"))
        .range(0.0, 12.0)
        .clip_length(6)
        .scopes([
            twelvelabs::raw::types::EmbeddingScope::Clip,
            twelvelabs::raw::types::EmbeddingScope::Video,
        ])
        .send()
        .await
        .unwrap();
    let done = tl
        .embed()
        .tasks()
        .wait(&id)
        .min_delay(Duration::from_millis(5))
        .await
        .unwrap();
    assert_eq!(done.status.unwrap().as_str(), "ready");
    let r = server.requests();
    let text = String::from_utf8_lossy(&r[0].body);
    assert!(text.contains("name=\"engine_name\"\r\n\r\nMarengo-retrieval-2.6"));
    assert!(text.contains("name=\"text\"\r\n\r\na guy with a red mask"));
    let task_body = String::from_utf8_lossy(&r[1].body);
    assert_eq!(r[1].path, "/v1.2/embed/tasks");
    assert_eq!(
        task_body.matches("name=\"video_embedding_scope\"").count(),
        2
    );
    assert!(task_body.contains("name=\"video_clip_length\"\r\n\r\n6"));
    assert!(task_body.contains("name=\"video_file\"; filename=\"v.mp4\""));
    assert_eq!(
        r[2].path,
        "/v1.2/embed/tasks/6745e1b1c3f7a9d3e5b2c4a1/status"
    );
}

#[tokio::test]
async fn streams_and_futures_are_send_and_static() {
    fn assert_send_static<T: Send + 'static>(_: &T) {}
    let tl = Client::new(KEY).unwrap();
    let items = tl.videos(INDEX).list().items();
    assert_send_static(&items);
    let pages = tl.search(INDEX).query("x").pages();
    assert_send_static(&pages);
    let wait = std::future::IntoFuture::into_future(tl.tasks().wait(TASK));
    assert_send_static(&wait);
    let calls = Arc::new(AtomicU64::new(0));
    let c = calls.clone();
    let handle = tokio::spawn(async move {
        c.fetch_add(1, Ordering::SeqCst);
        tl.engines().get("").await
    });
    assert!(matches!(
        handle.await.unwrap(),
        Err(Error::InvalidInput { .. })
    ));
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn every_remaining_handle_operation_hits_its_endpoint() {
    let server = MockServer::start_async().await;
    let mut mocks = Vec::new();
    macro_rules! mock {
        ($method:expr, $path:expr, $status:expr, $body:expr) => {
            mocks.push(
                server
                    .mock_async(|when, then| {
                        when.method($method).path($path).header("x-api-key", KEY);
                        then.status($status).json_body($body);
                    })
                    .await,
            )
        };
    }
    let vpath = format!("/v1.2/indexes/{INDEX}/videos/{VIDEO}");
    mock!(
        GET,
        "/v1.2/engines",
        200,
        json!({"data": [{"_id": "marengo2.6"}]})
    );
    mock!(
        GET,
        "/v1.2/engines/pegasus1.1",
        200,
        json!({"_id": "pegasus1.1"})
    );
    mock!(
        GET,
        format!("/v1.2/indexes/{INDEX}"),
        200,
        json!({"_id": INDEX, "index_name": "Content Creator Videos"})
    );
    mock!(PUT, format!("/v1.2/indexes/{INDEX}"), 200, json!(null));
    mock!(DELETE, format!("/v1.2/indexes/{INDEX}"), 204, json!(null));
    mock!(
        POST,
        "/v1.2/tasks/external-provider",
        201,
        json!({"_id": TASK})
    );
    mock!(
        GET,
        format!("/v1.2/tasks/{TASK}"),
        200,
        json!({"_id": TASK, "status": "ready"})
    );
    mock!(DELETE, format!("/v1.2/tasks/{TASK}"), 204, json!(null));
    mock!(
        GET,
        "/v1.2/tasks/status",
        200,
        json!({"index_id": INDEX, "ready": 1, "total_result": 1})
    );
    mock!(
        POST,
        "/v1.2/tasks/transfers/import/int-1",
        200,
        json!({"videos": [{"video_id": VIDEO, "filename": "a.mp4"}]})
    );
    mock!(
        GET,
        "/v1.2/tasks/transfers/import/int-1/status",
        200,
        json!({"ready": [{"video_id": VIDEO, "filename": "a.mp4"}]})
    );
    mock!(
        GET,
        "/v1.2/tasks/transfers/import/int-1/logs",
        200,
        json!({"data": [{"index_id": INDEX}]})
    );
    mock!(
        GET,
        vpath.clone(),
        200,
        json!({"_id": VIDEO, "metadata": {"duration": 159}})
    );
    mock!(PUT, vpath.clone(), 200, json!(null));
    mock!(DELETE, vpath.clone(), 204, json!(null));
    mock!(
        GET,
        format!("{vpath}/transcription"),
        200,
        json!({"data": [{"start": 0, "end": 1, "value": "hi"}]})
    );
    mock!(GET, format!("{vpath}/text-in-video"), 200, json!({}));
    mock!(
        GET,
        format!("{vpath}/logo"),
        200,
        json!({"data": [{"start": 0, "end": 1, "value": "Subway"}]})
    );
    mock!(
        GET,
        format!("{vpath}/thumbnail"),
        200,
        json!({"thumbnail": "https://x.example/t.jpg"})
    );
    mock!(
        GET,
        "/v1.2/embed/tasks/e1",
        200,
        json!({"_id": "e1", "status": "ready"})
    );
    mock!(
        GET,
        "/v1.2/embed/tasks",
        200,
        json!({"data": [{"_id": "e1"}], "page_info": {"page": 1, "total_page": 1}})
    );
    let transfers = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/v1.2/tasks/transfers")
                .body_includes("name=\"file\"; filename=\"transfer.json\"");
            then.status(200);
        })
        .await;

    let tl = mock_client(&server);
    assert_eq!(tl.engines().list().await.unwrap()[0].id, "marengo2.6");
    assert_eq!(
        tl.engines().get("pegasus1.1").await.unwrap().id,
        "pegasus1.1"
    );
    assert_eq!(
        tl.indexes()
            .get(INDEX)
            .await
            .unwrap()
            .raw()
            .index_name
            .as_deref(),
        Some("Content Creator Videos")
    );
    tl.indexes().rename(INDEX, "Renamed").await.unwrap();
    tl.indexes().delete(INDEX).await.unwrap();
    let task = tl
        .tasks()
        .create_from_youtube(INDEX, "https://www.youtube.com/watch?v=73_1biulkYk.mp4")
        .await
        .unwrap();
    assert_eq!(
        tl.tasks().get(&task).await.unwrap().status().as_str(),
        "ready"
    );
    tl.tasks().delete(&task).await.unwrap();
    assert_eq!(
        tl.tasks().status_counts(INDEX).await.unwrap().ready,
        Some(1)
    );
    let imported = tl
        .tasks()
        .import("int-1", INDEX)
        .incremental(true)
        .user_metadata("source", "s3")
        .send()
        .await
        .unwrap();
    assert_eq!(imported.videos[0].filename.as_deref(), Some("a.mp4"));
    assert_eq!(
        tl.tasks()
            .import_status("int-1", INDEX)
            .await
            .unwrap()
            .ready
            .len(),
        1
    );
    assert_eq!(tl.tasks().import_logs("int-1").await.unwrap().len(), 1);
    let dir = std::env::temp_dir().join(format!("tl-transfer-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("transfer.json"),
        br#"[{"index_id":"x","object":"s3://b/k.mp4"}]"#,
    )
    .unwrap();
    tl.tasks()
        .transfer(dir.join("transfer.json"))
        .await
        .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    let videos = tl.videos(INDEX);
    assert_eq!(
        videos
            .get(VIDEO)
            .await
            .unwrap()
            .raw()
            .metadata
            .clone()
            .unwrap()
            .duration,
        Some(159.0)
    );
    videos
        .update(VIDEO)
        .title("Trailer")
        .metadata("views", 1000i64)
        .send()
        .await
        .unwrap();
    videos.delete(VIDEO).await.unwrap();
    assert_eq!(
        videos
            .transcription(VIDEO)
            .start(0.0)
            .end(10.0)
            .send()
            .await
            .unwrap()[0]
            .value
            .as_deref(),
        Some("hi")
    );
    assert!(
        videos.text_in_video(VIDEO).send().await.unwrap().is_empty(),
        "a missing `data` is an empty list"
    );
    assert_eq!(
        videos.logos(VIDEO).send().await.unwrap()[0]
            .value
            .as_deref(),
        Some("Subway")
    );
    assert_eq!(
        videos.thumbnail(VIDEO, Some(5.0)).await.unwrap(),
        "https://x.example/t.jpg"
    );
    assert_eq!(
        tl.embed()
            .tasks()
            .get("e1")
            .await
            .unwrap()
            .status
            .unwrap()
            .as_str(),
        "ready"
    );
    assert_eq!(
        tl.embed().tasks().list().send().await.unwrap().items.len(),
        1
    );
    for m in &mocks {
        m.assert_async().await;
    }
    transfers.assert_async().await;
}

/// `combined_endpoint(true)` sends a combined query to `POST /search/combined` (the Python SDK's
/// path) with the same query object, and refuses what that endpoint does not take.
#[tokio::test]
async fn combined_search_can_use_the_combined_endpoint() {
    use twelvelabs::SearchOption::{Conversation, Visual};
    let server = MockServer::start_async().await;
    let m = server
        .mock_async(|when, then| {
            when.method(POST).path("/v1.2/search/combined").json_body(json!({
                "index_id": INDEX,
                "search_options": ["visual", "conversation"],
                "query": {"$and": [
                    {"text": "red mask", "search_options": ["visual"]},
                    {"text": "guy", "search_options": ["conversation"]}
                ]}
            }));
            then.status(200).json_body(json!({
                "data": [{"video_id": VIDEO, "start": 1.0, "end": 2.0, "score": 80.0, "confidence": "high"}],
                "page_info": {"limit_per_page": 10, "total_results": 1},
                "search_pool": {"index_id": INDEX, "total_count": 1}
            }));
        })
        .await;
    let tl = mock_client(&server);
    let query = || {
        Query::and([
            Query::text("red mask").options([Visual]),
            Query::text("guy").options([Conversation]),
        ])
    };
    let page = tl
        .search(INDEX)
        .combined(query())
        .options([Visual, Conversation])
        .combined_endpoint(true)
        .send()
        .await
        .unwrap();
    assert_eq!(page.clips().count(), 1);
    m.assert_async().await;
    let e = tl
        .search(INDEX)
        .combined(query())
        .options([Visual])
        .operator(twelvelabs::SearchOperator::And)
        .combined_endpoint(true)
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::InvalidInput { field, .. } if field == "operator"),
        "{e:?}"
    );
    assert_eq!(m.calls_async().await, 1, "nothing sent for the refused one");
}
