//! The fake server's own behaviour: task state machine, pagination edges, errors and codes, auth,
//! page-token expiry, fault injection, and that its responses decode into the SDK types.
#![cfg(feature = "testing")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::Duration;

use futures::TryStreamExt;
use serde_json::Value;
use twelvelabs::raw::spec_info::roundtrip_component;
use twelvelabs::testing::{FakeServer, Fault, Segment, VideoData};
use twelvelabs::upload::Media;
use twelvelabs::{Client, EngineConfig, EngineOption, Error, ErrorCode, SearchOption};

async fn index(tl: &Client, name: &str) -> twelvelabs::IndexId {
    tl.indexes()
        .create(name)
        .engine(EngineConfig::new("marengo2.6").options([
            EngineOption::Visual,
            EngineOption::Conversation,
            EngineOption::TextInVideo,
            EngineOption::Logo,
        ]))
        .engine(EngineConfig::new("pegasus1").options([EngineOption::Visual]))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn tasks_move_through_their_states_on_the_controlled_clock() {
    let fake = FakeServer::builder()
        .indexing_time(Duration::from_secs(100))
        .start()
        .await
        .unwrap();
    let tl = fake.client().unwrap();
    let idx = index(&tl, "clock").await;
    let task = tl
        .tasks()
        .create(&idx)
        .video_bytes(vec![1u8; 4096], "clip.mp4")
        .send()
        .await
        .unwrap();
    let status = |t: twelvelabs::raw::types::Task| t.status.unwrap().as_str().to_owned();
    assert_eq!(
        status(tl.tasks().get(&task.id).await.unwrap()),
        "validating"
    );
    fake.advance(Duration::from_secs(15));
    assert_eq!(status(tl.tasks().get(&task.id).await.unwrap()), "pending");
    fake.advance(Duration::from_secs(20));
    let indexing = tl.tasks().get(&task.id).await.unwrap();
    assert_eq!(indexing.status.as_ref().unwrap().as_str(), "indexing");
    let remain = indexing.process.unwrap().remain_seconds.unwrap();
    assert!((60.0..=66.0).contains(&remain), "{remain}");
    assert!(
        tl.videos(&idx)
            .list()
            .send()
            .await
            .unwrap()
            .items
            .is_empty(),
        "no video before ready"
    );
    fake.advance(Duration::from_secs(70));
    let ready = tl.tasks().get(&task.id).await.unwrap();
    assert_eq!(ready.status.as_ref().unwrap().as_str(), "ready");
    assert!(ready.hls.is_some());
    let videos = tl.videos(&idx).list().send().await.unwrap();
    assert_eq!(videos.items.len(), 1);
    assert_eq!(videos.items[0].id, ready.video_id.unwrap());
    assert_eq!(videos.items[0].metadata.as_ref().unwrap().size, Some(4096));
    let counts = tl.tasks().status_counts(&idx).await.unwrap();
    assert_eq!((counts.ready, counts.total_result), (Some(1), Some(1)));
}

#[tokio::test]
async fn a_configured_failure_ends_in_failed_and_the_waiter_says_so() {
    let fake = FakeServer::builder()
        .indexing_time(Duration::from_millis(50))
        .fail_tasks_matching("broken")
        .start()
        .await
        .unwrap();
    let tl = fake.client().unwrap();
    let idx = index(&tl, "fail").await;
    let task = tl
        .tasks()
        .create(&idx)
        .video_url("https://x.example/broken.mp4")
        .send()
        .await
        .unwrap();
    let err = tl
        .tasks()
        .wait(&task.id)
        .min_delay(Duration::from_millis(10))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::TaskFailed(t) if t.status() == "failed"),
        "{err:?}"
    );
}

#[tokio::test]
async fn wrong_keys_unknown_ids_duplicates_and_missing_parameters_have_the_documented_codes() {
    let fake = FakeServer::start().await.unwrap();
    let bad = Client::builder()
        .api_key("tlk_WRONG")
        .base_url(fake.base_url())
        .build()
        .unwrap();
    let e = bad.engines().list().await.unwrap_err();
    assert_eq!(
        (e.status().unwrap().as_u16(), e.code()),
        (401, Some(&ErrorCode::ApiKeyInvalid))
    );

    let tl = fake.client().unwrap();
    let e = tl
        .indexes()
        .get("000000000000000000000000")
        .await
        .unwrap_err();
    assert_eq!(
        (e.status().unwrap().as_u16(), e.code()),
        (404, Some(&ErrorCode::ResourceNotExists))
    );
    let e = tl
        .generate()
        .gist("6528b54a43e8c47e4eb47e80", [twelvelabs::GistType::Title])
        .await
        .unwrap_err();
    assert!(
        e.to_string().contains(
            "Resource with id '6528b54a43e8c47e4eb47e80' does not exist in video collection."
        ),
        "{e}"
    );

    index(&tl, "dup").await;
    let tl2 = tl.clone();
    let e = tl2
        .indexes()
        .create("dup")
        .engine(EngineConfig::new("marengo2.6").options([EngineOption::Visual]))
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some(&ErrorCode::IndexNameAlreadyExists));

    // Past the SDK's own checks, through the raw client: the fake validates too.
    let raw = tl.raw();
    let body: twelvelabs::raw::types::CreateIndexRequest =
        serde_json::from_value(serde_json::json!({"index_name": "x", "engines": []})).unwrap();
    let e = tl
        .call(raw.create_index().body(body).send())
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some(&ErrorCode::ParameterNotProvided));
    let e = tl
        .call(raw.list_indexes().page_limit(51u64).send())
        .await
        .unwrap_err();
    assert_eq!(
        (e.status().unwrap().as_u16(), e.code()),
        (400, Some(&ErrorCode::ParameterInvalid))
    );
    // Searching an option the index does not have.
    let idx = index(&tl, "opts").await;
    let raw_search: twelvelabs::raw::types::SearchRequest =
        serde_json::from_value(serde_json::json!({"query": "x", "index_id": idx.as_str(), "search_options": ["logo", "unknown"]})).unwrap();
    let e = tl
        .call(raw.search().body(raw_search).send())
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some(&ErrorCode::SearchOptionNotSupported));
}

#[tokio::test]
async fn page_number_pagination_edges() {
    let fake = FakeServer::start().await.unwrap();
    let tl = fake.client().unwrap();
    for i in 0..12 {
        index(&tl, &format!("idx-{i:02}")).await;
    }
    let first = tl.indexes().list().page_limit(5).send().await.unwrap();
    assert_eq!(
        (first.total_pages(), first.total_results()),
        (Some(3), Some(12))
    );
    let all: Vec<_> = tl
        .indexes()
        .list()
        .page_limit(5)
        .concurrency(3)
        .items()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all.len(), 12);
    assert_eq!(
        all[0].index_name.as_deref(),
        Some("idx-11"),
        "newest first by default"
    );
    let past_end = tl.indexes().list().page_limit(5).page(9).await.unwrap();
    assert!(past_end.items.is_empty() && past_end.is_last());
    let asc = tl
        .indexes()
        .list()
        .sort_option(twelvelabs::SortOption::Asc)
        .page_limit(1)
        .send()
        .await
        .unwrap();
    assert_eq!(asc.items[0].index_name.as_deref(), Some("idx-00"));
}

#[tokio::test]
async fn search_pages_expire_with_the_clock() {
    let fake = FakeServer::builder()
        .indexing_time(Duration::ZERO)
        .start()
        .await
        .unwrap();
    let tl = fake.client().unwrap();
    let idx = index(&tl, "tokens").await;
    for i in 0..3 {
        tl.tasks()
            .create(&idx)
            .video_bytes(vec![0u8; 10], format!("v{i}.mp4"))
            .send()
            .await
            .unwrap();
    }
    let pages: Vec<_> = tl
        .search(&idx)
        .query("red mask")
        .options([SearchOption::Visual])
        .page_limit(1)
        .pages()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(pages.len(), 3);
    let first = tl
        .search(&idx)
        .query("red mask")
        .options([SearchOption::Visual])
        .page_limit(1)
        .send()
        .await
        .unwrap();
    let token = first.page.next_page_token().unwrap().to_owned();
    fake.advance(Duration::from_secs(2 * 3600));
    let e = tl
        .call(tl.raw().get_search_page().page_token(token).send())
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some(&ErrorCode::SearchPageTokenExpired));
}

#[tokio::test]
async fn attached_data_drives_search_classify_and_extraction() {
    let fake = FakeServer::builder()
        .indexing_time(Duration::ZERO)
        .start()
        .await
        .unwrap();
    let tl = fake.client().unwrap();
    let idx = index(&tl, "attach").await;
    let task = tl
        .tasks()
        .create(&idx)
        .video_url("https://x.example/cooking.mp4")
        .send()
        .await
        .unwrap();
    let video = tl.tasks().get(&task.id).await.unwrap().video_id.unwrap();
    fake.attach(
        &video,
        VideoData {
            visual: vec![Segment::new(0.0, 50.0, "A chef cooking pasta in a kitchen")],
            conversation: vec![Segment::new(0.0, 40.0, "Today I share my pasta recipes")],
            text_in_video: vec![],
            logo: vec![],
            duration: 60.0,
        },
    )
    .unwrap();
    let hits = tl
        .search(&idx)
        .query("cooking pasta")
        .options([SearchOption::Visual])
        .send()
        .await
        .unwrap();
    assert_eq!(hits.clips().next().unwrap().start, 0.0);
    let none = tl
        .search(&idx)
        .query("red mask")
        .options([SearchOption::Visual])
        .send()
        .await
        .unwrap();
    assert_eq!(none.clips().count(), 0);
    let page = tl
        .classify()
        .index(&idx)
        .class("CookTok", ["Cooking", "Recipes"])
        .include_clips(true)
        .send()
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].classes[0].name.as_deref(), Some("CookTok"));
    assert!(!page.items[0].classes[0].clips.is_empty());
    let words = tl.videos(&idx).transcription(&video).send().await.unwrap();
    assert_eq!(
        words[0].value.as_deref(),
        Some("Today I share my pasta recipes")
    );
    let text = tl
        .generate()
        .text_stream(&video, "Describe it.")
        .await
        .unwrap()
        .collect_text()
        .await
        .unwrap();
    assert!(text.contains("a chef cooking pasta"), "{text}");
}

#[tokio::test]
async fn injected_faults_exercise_the_client_resilience() {
    let fake = FakeServer::start().await.unwrap();
    let tl = fake.client().unwrap();
    let idx = index(&tl, "faults").await;
    fake.inject(Fault::rate_limited(0).times(2).path("/indexes"));
    let before = fake.request_count();
    tl.indexes().get(&idx).await.unwrap();
    assert_eq!(
        fake.request_count() - before,
        3,
        "two 429s, then the answer"
    );
    fake.inject(Fault::status(500).times(5).path("/indexes"));
    let e = tl.indexes().get(&idx).await.unwrap_err();
    assert!(
        matches!(&e, Error::Api(a) if a.status.as_u16() == 500 && a.attempts == 3),
        "{e:?}"
    );
    fake.inject(Fault::slow(Duration::from_millis(300)).path("/engines"));
    let quick = Client::builder()
        .api_key(fake.api_key())
        .base_url(fake.base_url())
        .request_timeout(Duration::from_millis(100))
        .retry_policy(twelvelabs::RetryPolicy::disabled())
        .build()
        .unwrap();
    assert!(matches!(
        quick.engines().list().await,
        Err(Error::Timeout { .. })
    ));
    assert!(
        tl.rate_limit().unwrap().limit.is_some(),
        "rate-limit headers on every answer"
    );
}

#[tokio::test]
async fn fake_responses_decode_losslessly_into_the_generated_types() {
    let fake = FakeServer::builder()
        .indexing_time(Duration::ZERO)
        .start()
        .await
        .unwrap();
    let tl = fake.client().unwrap();
    let idx = index(&tl, "shapes").await;
    let task = tl
        .tasks()
        .create(&idx)
        .video_url("https://www.youtube.com/watch?v=73_1biulkYk")
        .send()
        .await
        .unwrap();
    let video = tl.tasks().get(&task.id).await.unwrap().video_id.unwrap();
    let http = reqwest::Client::new();
    let get = |path: String| {
        let (http, key, base) = (
            http.clone(),
            fake.api_key().to_owned(),
            fake.base_url().to_owned(),
        );
        async move {
            http.get(format!("{base}{path}"))
                .header("x-api-key", key)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let post = |path: &'static str, body: Value| {
        let (http, key, base) = (
            http.clone(),
            fake.api_key().to_owned(),
            fake.base_url().to_owned(),
        );
        async move {
            http.post(format!("{base}{path}"))
                .header("x-api-key", key)
                .json(&body)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let cases = vec![
        ("EngineList", get("/engines".into()).await),
        ("Index", get(format!("/indexes/{idx}")).await),
        ("IndexList", get("/indexes".into()).await),
        ("Task", get(format!("/tasks/{}", task.id)).await),
        ("TaskList", get("/tasks".into()).await),
        ("TaskStatusCounts", get(format!("/tasks/status?index_id={idx}")).await),
        ("Video", get(format!("/indexes/{idx}/videos/{video}?embed=true")).await),
        ("VideoList", get(format!("/indexes/{idx}/videos")).await),
        ("VideoValueList", get(format!("/indexes/{idx}/videos/{video}/transcription")).await),
        ("Thumbnail", get(format!("/indexes/{idx}/videos/{video}/thumbnail")).await),
        ("SearchResult", post("/search", serde_json::json!({"query": "red mask", "index_id": idx.as_str(), "search_options": ["visual", "conversation"], "group_by": "video"})).await),
        ("ClassifyResult", post("/classify/bulk", serde_json::json!({"index_id": idx.as_str(), "options": ["visual"], "classes": [{"name": "Fashion", "prompts": ["outfits", "fashion"]}], "include_clips": true, "show_detailed_score": true, "threshold": {"min_duration_ratio": 0.1}})).await),
        ("GistResponse", post("/gist", serde_json::json!({"video_id": video.as_str(), "types": ["title", "topic", "hashtag"]})).await),
        ("SummarizeResponse", post("/summarize", serde_json::json!({"video_id": video.as_str(), "type": "chapter"})).await),
        ("GenerateTextResponse", post("/generate", serde_json::json!({"video_id": video.as_str(), "prompt": "x"})).await),
    ];
    for (schema, json) in cases {
        assert!(
            json.get("code").is_none(),
            "{schema}: an error came back: {json}"
        );
        let back = roundtrip_component(schema, json.clone())
            .unwrap()
            .unwrap_or_else(|e| panic!("{schema}: {e}\n{json}"));
        let (a, b) = (strip_nulls(json.clone()), strip_nulls(back));
        for (k, v) in a.as_object().unwrap() {
            assert!(
                b.get(k).is_some() || v.as_array().is_some_and(Vec::is_empty),
                "{schema}: field {k} lost"
            );
        }
    }
    let e = tl
        .embed()
        .image(Media::url("https://x.example/face.png"))
        .send()
        .await
        .unwrap();
    assert_eq!(e.image_embedding.unwrap().segments[0].float.len(), 1024);
}

fn strip_nulls(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, strip_nulls(v)))
                .collect(),
        ),
        other => other,
    }
}
