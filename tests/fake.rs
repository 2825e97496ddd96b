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
    let status = |t: twelvelabs::Task| t.status().as_str().to_owned();
    assert_eq!(
        status(tl.tasks().get(&task.id).await.unwrap()),
        "validating"
    );
    fake.advance(Duration::from_secs(15));
    assert_eq!(status(tl.tasks().get(&task.id).await.unwrap()), "pending");
    fake.advance(Duration::from_secs(20));
    let indexing = tl.tasks().get(&task.id).await.unwrap();
    assert_eq!(indexing.status().as_str(), "indexing");
    let remain = indexing
        .raw()
        .process
        .clone()
        .unwrap()
        .remain_seconds
        .unwrap();
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
    assert_eq!(ready.status().as_str(), "ready");
    assert!(ready.raw().hls.is_some());
    let videos = tl.videos(&idx).list().send().await.unwrap();
    assert_eq!(videos.items.len(), 1);
    assert_eq!(videos.items[0].id(), ready.video_id().unwrap());
    assert_eq!(
        videos.items[0].raw().metadata.as_ref().unwrap().size,
        Some(4096)
    );
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
        all[0].raw().index_name.as_deref(),
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
    assert_eq!(asc.items[0].raw().index_name.as_deref(), Some("idx-00"));
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
    let video = tl
        .tasks()
        .get(&task.id)
        .await
        .unwrap()
        .video_id()
        .unwrap()
        .clone();
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
    assert_eq!(hits.clips().next().unwrap().raw().start, 0.0);
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
    assert_eq!(page.items[0].classes()[0].name(), "CookTok");
    assert!(page.items[0].classes()[0].clips().next().is_some());
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
    let video = tl
        .tasks()
        .get(&task.id)
        .await
        .unwrap()
        .video_id()
        .unwrap()
        .clone();
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

/// A raw JSON call to the fake (for what the typed client would hide: exact numbers and strings).
async fn raw(fake: &FakeServer, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let http = reqwest::Client::new();
    let mut req = http
        .request(
            method.parse().unwrap(),
            format!("{}{path}", fake.base_url()),
        )
        .header("x-api-key", fake.api_key());
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// A fake with one index (Marengo with every option, Pegasus, thumbnails) and one ready video.
async fn with_video(fake: &FakeServer) -> (twelvelabs::IndexId, String) {
    let tl = fake.client().unwrap();
    let idx = tl
        .indexes()
        .create("one video")
        .engine(EngineConfig::new("marengo2.6").options([
            EngineOption::Visual,
            EngineOption::Conversation,
            EngineOption::TextInVideo,
            EngineOption::Logo,
        ]))
        .engine(EngineConfig::new("pegasus1").options([EngineOption::Visual]))
        .addon(twelvelabs::Addon::Thumbnail)
        .send()
        .await
        .unwrap();
    let task = tl
        .tasks()
        .create_from_youtube(&idx, "https://www.youtube.com/watch?v=73_1biulkYk")
        .await
        .unwrap();
    fake.advance(Duration::from_secs(3600));
    let video = tl
        .tasks()
        .get(&task)
        .await
        .unwrap()
        .video_id()
        .unwrap()
        .to_string();
    (idx, video)
}

#[tokio::test]
async fn whole_numbers_are_integers_and_there_is_no_negative_zero() {
    let fake = FakeServer::start().await.unwrap();
    let tl = fake.client().unwrap();
    let empty = index(&tl, "empty").await;
    let (status, text) = {
        let r = reqwest::Client::new()
            .get(format!("{}/indexes/{empty}", fake.base_url()))
            .header("x-api-key", fake.api_key())
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    };
    assert_eq!(status, 200);
    assert!(text.contains("\"total_duration\":0"), "{text}");
    assert!(!text.contains(":-0"), "negative zero in {text}");

    let (idx, video) = with_video(&fake).await;
    let (_, v) = raw(
        &fake,
        "GET",
        &format!("/indexes/{idx}/videos/{video}"),
        None,
    )
    .await;
    for field in ["duration", "size", "fps", "width", "height"] {
        assert!(
            v["metadata"][field].is_u64(),
            "{field}: {}",
            v["metadata"][field]
        );
    }
    let (_, list) = raw(&fake, "GET", &format!("/indexes/{idx}/videos"), None).await;
    assert!(list["page_info"]["total_duration"].is_u64(), "{list}");
    let (_, i) = raw(&fake, "GET", &format!("/indexes/{idx}"), None).await;
    assert_eq!(i["total_duration"], serde_json::json!(159));
    let (_, s) = raw(
        &fake,
        "POST",
        "/search",
        Some(serde_json::json!({"index_id": idx.as_str(), "query": "red mask", "search_options": ["visual"]})),
    )
    .await;
    assert!(s["search_pool"]["total_duration"].is_u64(), "{s}");
    assert!(
        s["data"][0]["score"].is_u64(),
        "a whole score is an integer: {s}"
    );
    assert!(
        s["data"][0]["start"].is_f64() && s["data"][0]["end"].is_u64(),
        "a fractional start stays a number, a whole end is an integer: {s}"
    );
}

#[tokio::test]
async fn timestamps_have_the_precision_the_seed_shows() {
    let fake = FakeServer::start().await.unwrap();
    let (idx, video) = with_video(&fake).await;
    let millis = |s: &Value| {
        let s = s.as_str().unwrap();
        chrono::DateTime::parse_from_rfc3339(s).unwrap();
        s.contains('.')
    };
    let (_, v) = raw(
        &fake,
        "GET",
        &format!("/indexes/{idx}/videos/{video}"),
        None,
    )
    .await;
    for f in ["created_at", "updated_at", "indexed_at"] {
        assert!(!millis(&v[f]), "video {f} in whole seconds: {}", v[f]);
    }
    let (_, i) = raw(&fake, "GET", &format!("/indexes/{idx}"), None).await;
    assert!(millis(&i["created_at"]), "indexes keep milliseconds: {i}");
    let (_, tasks) = raw(&fake, "GET", "/tasks", None).await;
    assert!(millis(&tasks["data"][0]["estimated_time"]));
}

#[tokio::test]
async fn empty_pages_carry_what_the_seed_shows() {
    let fake = FakeServer::start().await.unwrap();
    let (idx, video) = with_video(&fake).await;
    let (_, s) = raw(
        &fake,
        "POST",
        "/search",
        Some(serde_json::json!({"index_id": idx.as_str(), "query": "submarine", "search_options": ["visual"]})),
    )
    .await;
    assert_eq!(s["data"], serde_json::json!([]));
    let expires = s["page_info"]["page_expired_at"].as_str().unwrap();
    assert!(chrono::DateTime::parse_from_rfc3339(expires).is_ok(), "{s}");
    assert_eq!(s["page_info"]["limit_per_page"], 10);
    assert_eq!(s["page_info"]["total_inner_matches"], 0);
    let (_, c) = raw(
        &fake,
        "POST",
        "/classify",
        Some(serde_json::json!({"video_ids": [video], "options": ["visual"], "classes": [{"name": "N", "prompts": ["submarine"]}]})),
    )
    .await;
    assert_eq!(
        c["page_info"],
        serde_json::json!({"limit_per_page": 0, "page_expired_at": "", "total_results": 0})
    );
}

#[tokio::test]
async fn a_video_has_hls_and_source_when_fetched_alone() {
    let fake = FakeServer::start().await.unwrap();
    let tl = fake.client().unwrap();
    let (idx, video) = with_video(&fake).await;
    let v = tl.videos(&idx).get(&video).await.unwrap();
    assert_eq!(
        v.raw()
            .hls
            .as_ref()
            .and_then(|h| h.status.as_ref())
            .unwrap()
            .as_str(),
        "COMPLETE"
    );
    let source = v.raw().source.clone().unwrap();
    assert_eq!(source.type_.as_deref(), Some("youtube"));
    assert!(source.url.unwrap().contains("73_1biulkYk"));
    let (_, list) = raw(&fake, "GET", &format!("/indexes/{idx}/videos"), None).await;
    assert!(
        list["data"][0].get("hls").is_none() && list["data"][0].get("source").is_none(),
        "list items are as the seed shows them: {list}"
    );
    // Without a stream, no hls.
    let task = tl
        .tasks()
        .create(&idx)
        .video_url("https://x.example/plain.mp4")
        .disable_video_stream(true)
        .send()
        .await
        .unwrap();
    fake.advance(Duration::from_secs(3600));
    let t = tl.tasks().get(&task.id).await.unwrap();
    assert!(t.raw().hls.is_none());
    let v = tl.videos(&idx).get(t.video_id().unwrap()).await.unwrap();
    assert!(v.raw().hls.is_none() && v.raw().source.is_none());
}

#[tokio::test]
async fn search_filters_are_honoured() {
    let fake = FakeServer::builder()
        .indexing_time(Duration::ZERO)
        .start()
        .await
        .unwrap();
    let tl = fake.client().unwrap();
    let (idx, video) = with_video(&fake).await;
    let other = tl
        .tasks()
        .create(&idx)
        .video_bytes(vec![1u8; 100], "short.mp4")
        .send()
        .await
        .unwrap();
    let other = tl
        .tasks()
        .get(&other.id)
        .await
        .unwrap()
        .video_id()
        .unwrap()
        .clone();
    fake.attach(
        &other,
        VideoData {
            visual: vec![Segment::new(0.0, 5.0, "a guy with a red mask")],
            duration: 5.0,
            ..VideoData::default()
        },
    )
    .unwrap();
    tl.videos(&idx)
        .update(&other)
        .metadata("category", "short")
        .send()
        .await
        .unwrap();
    let videos = |f: &str, v: Value| {
        let tl = tl.clone();
        let idx = idx.clone();
        let f = f.to_owned();
        async move {
            let mut found: Vec<String> = tl
                .search(&idx)
                .query("red mask")
                .options([SearchOption::Visual])
                .filter(f, v)
                .send()
                .await
                .unwrap()
                .clips()
                .map(|c| c.video_id().to_string())
                .collect();
            found.dedup();
            found
        }
    };
    assert_eq!(
        videos("id", serde_json::json!([video])).await,
        vec![video.clone()]
    );
    assert!(
        videos("id", serde_json::json!(["000000000000000000000000"]))
            .await
            .is_empty(),
        "a filter on a missing id finds nothing"
    );
    assert_eq!(
        videos("duration", serde_json::json!({"lte": 10})).await,
        vec![other.to_string()]
    );
    assert_eq!(
        videos("category", serde_json::json!("short")).await,
        vec![other.to_string()]
    );
    // Through /search-v2 the filter is a plain text field.
    let hits = tl
        .search(&idx)
        .image(twelvelabs::upload::Media::url("https://x.example/i.png"))
        .options([SearchOption::Visual])
        .filter("id", serde_json::json!([other.to_string()]))
        .send()
        .await
        .unwrap();
    assert!(hits.clips().all(|c| c.video_id() == other.as_str()) && hits.clips().count() == 1);
    let (status, e) = raw(
        &fake,
        "POST",
        "/search",
        Some(serde_json::json!({"index_id": idx.as_str(), "query": "x", "search_options": ["visual"], "filter": {"duration": {"gt": 1}}})),
    )
    .await;
    assert_eq!(
        (status, e["code"].as_str()),
        (400, Some("search_filter_invalid"))
    );
}

#[tokio::test]
async fn engines_options_and_enums_are_checked_with_the_documented_codes() {
    let fake = FakeServer::start().await.unwrap();
    let (idx, video) = with_video(&fake).await;
    let create = |engines: Value, addons: Value| serde_json::json!({"index_name": format!("n{}", fastrand::u32(..)), "engines": engines, "addons": addons});
    for (engines, addons, what) in [
        (
            serde_json::json!([{"engine_name": "marengo9", "engine_options": ["visual"]}]),
            Value::Null,
            "marengo9",
        ),
        (
            serde_json::json!([{"engine_name": "pegasus1", "engine_options": ["text_in_video"]}]),
            Value::Null,
            "text_in_video",
        ),
        (
            serde_json::json!([{"engine_name": "marengo2.6", "engine_options": ["visual", "visual"]}]),
            Value::Null,
            "twice",
        ),
        (
            serde_json::json!([{"engine_name": "marengo2.6", "engine_options": ["visual"]}, {"engine_name": "marengo2.6", "engine_options": ["logo"]}]),
            Value::Null,
            "more than one marengo",
        ),
        (
            serde_json::json!([{"engine_name": "pegasus1.1", "engine_options": ["visual"]}]),
            serde_json::json!(["thumbnail"]),
            "needs a Marengo",
        ),
    ] {
        let (status, e) = raw(&fake, "POST", "/indexes", Some(create(engines, addons))).await;
        assert_eq!(
            (status, e["code"].as_str()),
            (400, Some("parameter_invalid")),
            "{e}"
        );
        assert!(e["message"].as_str().unwrap().contains(what), "{e}");
    }
    // The engines of GET /engines are the ones an index takes.
    let (_, engines) = raw(&fake, "GET", "/engines", None).await;
    for e in engines["data"].as_array().unwrap() {
        let (status, body) = raw(
            &fake,
            "POST",
            "/indexes",
            Some(create(
                serde_json::json!([{"engine_name": e["_id"], "engine_options": ["visual"]}]),
                Value::Null,
            )),
        )
        .await;
        assert_eq!(status, 201, "{body}");
    }
    for (path, body) in [
        (
            "/search",
            serde_json::json!({"index_id": idx.as_str(), "query": "x", "search_options": ["visual"], "threshold": "extreme"}),
        ),
        (
            "/search",
            serde_json::json!({"index_id": idx.as_str(), "query": "x", "search_options": ["visual"], "group_by": "scene"}),
        ),
        (
            "/classify",
            serde_json::json!({"video_ids": [video], "options": ["logo"], "classes": [{"name": "A", "prompts": ["a"]}]}),
        ),
        (
            "/summarize",
            serde_json::json!({"video_id": video, "type": "poem"}),
        ),
        (
            "/gist",
            serde_json::json!({"video_id": video, "types": ["poem"]}),
        ),
        (
            "/generate",
            serde_json::json!({"video_id": video, "prompt": "x", "stream": "yes"}),
        ),
    ] {
        let (status, e) = raw(&fake, "POST", path, Some(body)).await;
        assert_eq!(
            (status, e["code"].as_str()),
            (400, Some("parameter_invalid")),
            "{path}: {e}"
        );
    }
    let (status, e) = raw(
        &fake,
        "PUT",
        &format!("/indexes/{idx}"),
        Some(serde_json::json!({"index_name": "x", "addons": []})),
    )
    .await;
    assert_eq!(
        (status, e["code"].as_str()),
        (400, Some("index_option_cannot_be_changed"))
    );
}

#[tokio::test]
async fn embedding_tasks_honour_scopes_clip_length_and_range() {
    let fake = FakeServer::start().await.unwrap();
    let tl = fake.client().unwrap();
    let task = tl
        .embed()
        .tasks()
        .create(Media::url("https://x.example/v.mp4"))
        .clip_length(4)
        .range(10.0, 30.0)
        .scopes([
            twelvelabs::raw::types::EmbeddingScope::Clip,
            twelvelabs::raw::types::EmbeddingScope::Video,
        ])
        .send()
        .await
        .unwrap();
    let status = tl.embed().tasks().status(&task).await.unwrap();
    assert_eq!(status.status.unwrap().as_str(), "processing");
    fake.advance(Duration::from_secs(3600));
    let done = tl.embed().tasks().get(&task).await.unwrap();
    let e = done.video_embedding.unwrap();
    let spans: Vec<(f64, f64, String)> = e
        .segments
        .iter()
        .map(|s| {
            (
                s.start_offset_sec.unwrap(),
                s.end_offset_sec.unwrap(),
                s.embedding_scope.as_ref().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        spans,
        vec![
            (10.0, 14.0, "clip".into()),
            (14.0, 18.0, "clip".into()),
            (18.0, 22.0, "clip".into()),
            (22.0, 26.0, "clip".into()),
            (26.0, 30.0, "clip".into()),
            (10.0, 30.0, "video".into()),
        ]
    );
    let m = e.metadata.unwrap();
    assert_eq!(m.video_clip_length, Some(4.0));
    assert_eq!(m.video_embedding_scope.len(), 2);
    // Only clips unless asked.
    let plain = tl
        .embed()
        .tasks()
        .create(Media::bytes(vec![1u8; 64], "v.mp4"))
        .send()
        .await
        .unwrap();
    fake.advance(Duration::from_secs(3600));
    let done = tl.embed().tasks().get(&plain).await.unwrap();
    let segments = done.video_embedding.unwrap().segments;
    assert!(
        segments
            .iter()
            .all(|s| s.embedding_scope.as_ref().unwrap().to_string() == "clip")
    );
    assert_eq!(segments.len(), 27, "159 s in 6 s clips");
}

#[tokio::test]
async fn bodies_of_the_wrong_kind_get_accurate_messages() {
    let fake = FakeServer::start().await.unwrap();
    let http = reqwest::Client::new();
    let send = |path: &str, content_type: &str, body: &'static str| {
        http.post(format!("{}{path}", fake.base_url()))
            .header("x-api-key", fake.api_key())
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let msg = |r: reqwest::Response| async move {
        let status = r.status().as_u16();
        let v: Value = r.json().await.unwrap();
        (status, v["message"].as_str().unwrap_or_default().to_owned())
    };
    let (status, m) = msg(send(
        "/indexes",
        "application/x-www-form-urlencoded",
        "index_name=a",
    )
    .await
    .unwrap())
    .await;
    assert_eq!(status, 400);
    assert!(
        m.contains("JSON") && m.contains("application/x-www-form-urlencoded"),
        "{m}"
    );
    let (_, m) = msg(send("/indexes", "application/json", "{\"index_name\": ")
        .await
        .unwrap())
    .await;
    assert!(m.contains("not valid JSON"), "{m}");
    let (_, m) = msg(send("/embed", "application/json", "{\"text\": \"a\"}")
        .await
        .unwrap())
    .await;
    assert!(m.contains("multipart/form-data"), "{m}");
    // A url-encoded embedding (as the Python SDK 0.2.10 sent it) is accepted.
    let r = send(
        "/embed",
        "application/x-www-form-urlencoded",
        "engine_name=Marengo-retrieval-2.6&text=hello",
    )
    .await
    .unwrap();
    assert_eq!(r.status().as_u16(), 200);
}

#[tokio::test]
async fn highlights_are_on_whole_seconds_and_chronological() {
    let fake = FakeServer::start().await.unwrap();
    let tl = fake.client().unwrap();
    let (_, video) = with_video(&fake).await;
    let (_, h) = raw(
        &fake,
        "POST",
        "/summarize",
        Some(serde_json::json!({"video_id": video, "type": "highlight"})),
    )
    .await;
    let items = h["highlights"].as_array().unwrap();
    assert!(!items.is_empty());
    let mut last = 0;
    for i in items {
        let (start, end) = (i["start"].as_u64().unwrap(), i["end"].as_u64().unwrap());
        assert!(start < end && start >= last, "{i}");
        last = start;
    }
    // The fraction of the underlying segment (40.0-44.5) is widened, not cut.
    assert!(
        items.iter().any(|i| i["start"] == 40 && i["end"] == 45),
        "{h}"
    );
    let typed = tl.generate().highlights(&video).send().await.unwrap();
    assert_eq!(typed.len(), items.len());
}

#[tokio::test]
async fn page_tokens_are_reusable_until_they_expire_and_lead_both_ways() {
    let fake = FakeServer::start().await.unwrap();
    let (idx, _) = with_video(&fake).await;
    let (_, first) = raw(
        &fake,
        "POST",
        "/search",
        Some(serde_json::json!({"index_id": idx.as_str(), "query": "red mask", "search_options": ["visual", "conversation"], "page_limit": 1})),
    )
    .await;
    let next = first["page_info"]["next_page_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (s1, a) = raw(&fake, "GET", &format!("/search/{next}"), None).await;
    let (s2, b) = raw(&fake, "GET", &format!("/search-v2/{next}"), None).await;
    assert_eq!((s1, s2), (200, 200));
    assert_eq!(a["data"], b["data"], "the same page at both paths, twice");
    let prev = a["page_info"]["prev_page_token"].as_str().unwrap();
    let (_, back) = raw(&fake, "GET", &format!("/search/{prev}"), None).await;
    assert_eq!(
        back["data"], first["data"],
        "prev leads back to the first page"
    );
    // Combined-search tokens at both documented paths; a search token is not a classify token.
    let (_, c) = raw(
        &fake,
        "POST",
        "/search/combined",
        Some(serde_json::json!({"index_id": idx.as_str(), "search_options": ["visual"], "page_limit": 1,
                                "query": {"$or": [{"text": "red mask"}, {"text": "jewelry"}]}})),
    )
    .await;
    let token = c["page_info"]["next_page_token"]
        .as_str()
        .unwrap()
        .to_owned();
    for path in [
        format!("/search/combined/{token}"),
        format!("/combined-search/{token}"),
    ] {
        let (status, page) = raw(&fake, "GET", &path, None).await;
        assert_eq!(status, 200, "{path}: {page}");
        assert_eq!(page["data"].as_array().unwrap().len(), 1);
    }
    let (status, _) = raw(&fake, "GET", &format!("/classify/{token}"), None).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn list_filters_take_both_list_encodings_and_dates_mean_at_or_after() {
    let fake = FakeServer::start().await.unwrap();
    let tl = fake.client().unwrap();
    index(&tl, "everything").await;
    tl.indexes()
        .create("visual only")
        .engine(EngineConfig::new("marengo2.6").options([EngineOption::Visual]))
        .send()
        .await
        .unwrap();
    let names = |q: &'static str| {
        let fake = &fake;
        async move {
            let (_, v) = raw(fake, "GET", &format!("/indexes?{q}"), None).await;
            let mut n: Vec<String> = v["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["index_name"].as_str().unwrap().to_owned())
                .collect();
            n.sort();
            n
        }
    };
    assert_eq!(
        names("engine_options=visual,logo").await,
        vec!["everything"]
    );
    assert_eq!(
        names("engine_options=visual&engine_options=logo").await,
        vec!["everything"]
    );
    assert_eq!(names("engine_family=pegasus").await, vec!["everything"]);
    assert_eq!(
        names("created_at=2000-01-01T00:00:00Z").await,
        vec!["everything", "visual only"]
    );
    assert!(names("created_at=2999-01-01T00:00:00Z").await.is_empty());
    let (status, _) = raw(&fake, "GET", "/indexes?engine_family=gemini", None).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn the_fake_binds_where_told_and_serves_until_shutdown() {
    use std::net::SocketAddr;
    let first = FakeServer::start().await.unwrap();
    let addr: SocketAddr = first
        .base_url()
        .trim_start_matches("http://")
        .trim_end_matches("/v1.2")
        .parse()
        .unwrap();
    // A taken port is a configuration error naming the address.
    let e = FakeServer::builder().bind(addr).start().await.unwrap_err();
    assert!(
        matches!(&e, Error::Config { reason: m, .. } if m.contains(&addr.to_string())),
        "{e:?}"
    );
    let e = FakeServer::builder()
        .port(addr.port())
        .start()
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Config { .. }));
    drop(first);

    let fake = FakeServer::builder()
        .bind("0.0.0.0:0".parse().unwrap())
        .api_key("tlk_standalone")
        .start()
        .await
        .unwrap();
    assert!(
        fake.base_url().starts_with("http://127.0.0.1:"),
        "{}",
        fake.base_url()
    );
    let lines = fake.env_lines();
    let root = fake.base_url().trim_end_matches("/v1.2").to_owned();
    assert_eq!(
        lines,
        format!("TWELVELABS_BASE_URL={root}\nTWELVE_LABS_API_KEY=tlk_standalone\n")
    );
    let url = format!("{}/engines", fake.base_url());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(fake.serve_until(async {
        let _ = stopped.await;
    }));
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let ok = http
        .get(&url)
        .header("x-api-key", "tlk_standalone")
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status().as_u16(), 200);
    stop.send(()).unwrap();
    serving.await.unwrap().unwrap();
    assert!(
        http.get(&url)
            .header("x-api-key", "tlk_standalone")
            .send()
            .await
            .is_err(),
        "nothing listens after the shutdown"
    );
}

#[tokio::test]
async fn control_routes_drive_the_fake_from_outside() {
    let fake = FakeServer::builder()
        .indexing_time(Duration::from_secs(100))
        .start()
        .await
        .unwrap();
    let tl = fake.client().unwrap();
    let idx = index(&tl, "control").await;
    let task = tl
        .tasks()
        .create_from_youtube(&idx, "https://youtu.be/73_1biulkYk")
        .await
        .unwrap();
    let root = fake.base_url().trim_end_matches("/v1.2").to_owned();
    let http = reqwest::Client::new();
    let control = |method: reqwest::Method, path: &str, body: Value| {
        http.request(method, format!("{root}/_fake/{path}"))
            .header("x-api-key", fake.api_key())
            .json(&body)
            .send()
    };
    let before = fake.request_count();
    let r = control(
        reqwest::Method::POST,
        "advance",
        serde_json::json!({"seconds": 200}),
    )
    .await
    .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(
        fake.request_count(),
        before,
        "control requests are not API requests"
    );
    let video = tl
        .tasks()
        .get(&task)
        .await
        .unwrap()
        .video_id()
        .unwrap()
        .clone();
    let r = control(
        reqwest::Method::PUT,
        &format!("videos/{video}/data"),
        serde_json::json!({"visual": [{"start": 0, "end": 10, "text": "a chef cooking pasta"}]}),
    )
    .await
    .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let hits = tl
        .search(&idx)
        .query("cooking pasta")
        .options([SearchOption::Visual])
        .send()
        .await
        .unwrap();
    assert_eq!(hits.clips().count(), 1);
    let r = control(
        reqwest::Method::POST,
        "faults",
        serde_json::json!({"status": 429, "times": 1, "path": "/engines", "retry_after": 0}),
    )
    .await
    .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let plain = reqwest::Client::new()
        .get(format!("{}/engines", fake.base_url()))
        .header("x-api-key", fake.api_key())
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status().as_u16(), 429);
    assert_eq!(plain.headers()["retry-after"], "0");
    let body: Value = plain.json().await.unwrap();
    assert_eq!(body["code"], "too_many_requests");
    // The key guards the control routes too; bad bodies are 400s.
    let r = http
        .post(format!("{root}/_fake/advance"))
        .json(&serde_json::json!({"seconds": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let r = control(
        reqwest::Method::POST,
        "advance",
        serde_json::json!({"seconds": -1}),
    )
    .await
    .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let r = control(
        reqwest::Method::PUT,
        &format!("videos/{video}/data"),
        serde_json::json!({"visual": [{"start": 5, "end": 1, "text": "backwards"}]}),
    )
    .await
    .unwrap();
    assert_eq!(r.status().as_u16(), 400);
}

/// `POST /tasks` with a video URL, sent raw so that the answer's headers can be read.
async fn post_task(fake: &FakeServer, index: &str, name: &str) -> reqwest::Response {
    let form = reqwest::multipart::Form::new()
        .text("index_id", index.to_owned())
        .text("video_url", format!("https://example.com/{name}.mp4"));
    reqwest::Client::new()
        .post(format!("{}/tasks", fake.base_url()))
        .header("x-api-key", fake.api_key())
        .multipart(form)
        .send()
        .await
        .unwrap()
}

/// A `/_fake` control request.
async fn control(fake: &FakeServer, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let root = fake.base_url().trim_end_matches("/v1.2");
    let mut req = reqwest::Client::new()
        .request(method.parse().unwrap(), format!("{root}/_fake/{path}"))
        .header("x-api-key", fake.api_key());
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

/// `X-Ratelimit-Limit`, `-Used`, `-Remaining` and `-Reset` of an answer.
fn limits(r: &reqwest::Response) -> (u64, u64, u64, i64) {
    let h = |name: &str| -> String {
        r.headers()
            .get(name)
            .unwrap_or_else(|| panic!("no {name}"))
            .to_str()
            .unwrap()
            .to_owned()
    };
    (
        h("x-ratelimit-limit").parse().unwrap(),
        h("x-ratelimit-used").parse().unwrap(),
        h("x-ratelimit-remaining").parse().unwrap(),
        h("x-ratelimit-reset").parse().unwrap(),
    )
}

/// The `Date` header of an answer.
fn date(r: &reqwest::Response) -> chrono::DateTime<chrono::Utc> {
    let text = r.headers()["date"].to_str().unwrap();
    chrono::DateTime::<chrono::Utc>::from(httpdate::parse_http_date(text).unwrap())
}

#[tokio::test]
async fn a_task_quota_caps_creation_per_day_of_the_fake_clock() {
    const DAY: i64 = 24 * 60 * 60;
    let before_start = chrono::Utc::now().timestamp();
    let fake = FakeServer::builder().task_quota(2).start().await.unwrap();
    let after_start = chrono::Utc::now().timestamp();
    let tl = fake.client().unwrap();
    let idx = index(&tl, "quota").await.to_string();

    let first = post_task(&fake, &idx, "one").await;
    assert_eq!(first.status().as_u16(), 201);
    let (limit, used, remaining, reset) = limits(&first);
    assert_eq!((limit, used, remaining), (2, 1, 1));
    // The first window starts when the fake starts (on a whole second) and lasts a day.
    assert!(
        (before_start + DAY..=after_start + DAY).contains(&reset),
        "{reset} is not a day after the start ({before_start}..={after_start})"
    );
    // Only created tasks count: an invalid request is answered with the counter unchanged.
    let (status, _) = raw(&fake, "POST", "/tasks", Some(serde_json::json!({}))).await;
    assert_eq!(status, 400);
    let bad = reqwest::Client::new()
        .post(format!("{}/tasks", fake.base_url()))
        .header("x-api-key", fake.api_key())
        .multipart(reqwest::multipart::Form::new().text("index_id", idx.clone()))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status().as_u16(), 400);
    assert_eq!(limits(&bad), (2, 1, 1, reset));
    let second = post_task(&fake, &idx, "two").await;
    assert_eq!(second.status().as_u16(), 201);
    assert_eq!(limits(&second), (2, 2, 0, reset));

    // The cap is used up: 429, the counter in the headers, and no task.
    let refused = post_task(&fake, &idx, "three").await;
    assert_eq!(refused.status().as_u16(), 429);
    assert_eq!(limits(&refused), (2, 2, 0, reset));
    let body: Value = refused.json().await.unwrap();
    let at = chrono::DateTime::from_timestamp(reset, 0)
        .unwrap()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    assert_eq!(body["code"], "too_many_requests");
    assert_eq!(
        body["message"],
        format!(
            "You have exceeded the rate limit (2 requests per day). Please try again after {at}."
        )
    );
    let (_, tasks) = raw(&fake, "GET", "/tasks?page_limit=50", None).await;
    assert_eq!(
        tasks["page_info"]["total_results"], 2,
        "the refusal created nothing"
    );
    // The typed client sees a rate-limit error at once (the reset is a day away).
    let e = tl
        .tasks()
        .create(idx.as_str())
        .video_url("https://example.com/typed.mp4")
        .send()
        .await
        .unwrap_err();
    assert!(matches!(e, Error::RateLimited(_)), "{e:?}");
    // Other endpoints keep the general counter.
    let other = reqwest::Client::new()
        .get(format!("{}/tasks", fake.base_url()))
        .header("x-api-key", fake.api_key())
        .send()
        .await
        .unwrap();
    assert_eq!(limits(&other).0, 3000);

    // Just before the reset the window is the same; past it, a new one with the whole cap.
    fake.advance(Duration::from_secs(
        u64::try_from(reset - chrono::Utc::now().timestamp() - 5).unwrap(),
    ));
    assert_eq!(post_task(&fake, &idx, "early").await.status().as_u16(), 429);
    fake.advance(Duration::from_secs(10));
    let next = post_task(&fake, &idx, "next day").await;
    assert_eq!(next.status().as_u16(), 201);
    assert_eq!(limits(&next), (2, 1, 1, reset + DAY));
}

#[tokio::test]
async fn the_task_quota_is_set_and_lifted_while_the_fake_runs() {
    let fake = FakeServer::start().await.unwrap();
    let tl = fake.client().unwrap();
    let idx = index(&tl, "quota at run time").await.to_string();
    // No cap by default: POST /tasks carries a counter of task creations (not the general one,
    // which a client would read as a quota spent by requests of any kind) with a limit no test
    // reaches, and is never refused.
    for (n, name) in ["a", "b"].into_iter().enumerate() {
        let r = post_task(&fake, &idx, name).await;
        assert_eq!(r.status().as_u16(), 201);
        let (limit, used, remaining, _) = limits(&r);
        assert_eq!((limit, used), (1_000_000, n as u64 + 1));
        assert_eq!(remaining, 1_000_000 - used);
    }
    let (status, q) = control(&fake, "GET", "task-quota", None).await;
    assert_eq!(status, 200);
    assert_eq!(q["per_day"], Value::Null);
    assert_eq!(q["used"], 2, "tasks count with or without a cap");

    // A cap below what this window already created refuses at once.
    let (status, q) = control(
        &fake,
        "PUT",
        "task-quota",
        Some(serde_json::json!({"per_day": 2})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        (q["per_day"].as_u64(), q["remaining"].as_u64()),
        (Some(2), Some(0))
    );
    let r = post_task(&fake, &idx, "c").await;
    assert_eq!(r.status().as_u16(), 429);
    let (limit, used, remaining, _) = limits(&r);
    assert_eq!((limit, used, remaining), (2, 2, 0));

    fake.set_task_quota(Some(3));
    let r = post_task(&fake, &idx, "d").await;
    assert_eq!(r.status().as_u16(), 201);
    let (limit, used, remaining, _) = limits(&r);
    assert_eq!((limit, used, remaining), (3, 3, 0));

    let (status, q) = control(
        &fake,
        "PUT",
        "task-quota",
        Some(serde_json::json!({"per_day": null})),
    )
    .await;
    assert_eq!((status, q["per_day"].clone()), (200, Value::Null));
    let r = post_task(&fake, &idx, "e").await;
    assert_eq!(r.status().as_u16(), 201);
    assert_eq!(limits(&r).0, 1_000_000);

    for bad in [
        serde_json::json!({}),
        serde_json::json!({"per_day": -1}),
        serde_json::json!({"per_day": 2.5}),
        serde_json::json!({"per_day": "10"}),
    ] {
        let (status, body) = control(&fake, "PUT", "task-quota", Some(bad.clone())).await;
        assert_eq!(status, 400, "{bad}");
        assert_eq!(body["code"], "parameter_invalid");
    }
    assert_eq!(
        control(&fake, "GET", "task-quota", None).await.1["per_day"],
        Value::Null,
        "a refused change changes nothing"
    );
}

#[tokio::test]
async fn the_date_header_follows_the_fake_clock() {
    let fake = FakeServer::start().await.unwrap();
    let get = |path: &'static str| {
        reqwest::Client::new()
            .get(format!("{}{path}", fake.base_url()))
            .header("x-api-key", fake.api_key())
            .send()
    };
    let close = |a: chrono::DateTime<chrono::Utc>, b: chrono::DateTime<chrono::Utc>| {
        (a - b).num_seconds().abs() <= 5
    };
    let r = get("/engines").await.unwrap();
    assert!(close(date(&r), chrono::Utc::now()), "{}", date(&r));

    fake.advance(Duration::from_secs(24 * 60 * 60));
    let day_ahead = chrono::Utc::now() + chrono::Duration::days(1);
    let r = get("/engines").await.unwrap();
    assert!(
        close(date(&r), day_ahead),
        "{} is not a day ahead",
        date(&r)
    );
    // A client computes "reset in" from the server's date: the general window is a day long.
    let reset_in = limits(&r).3 - date(&r).timestamp();
    assert!((86_399..=86_401).contains(&reset_in), "{reset_in}");
    // Errors and control answers carry it too.
    let r = get("/indexes/0123456789abcdef01234567").await.unwrap();
    assert_eq!(r.status().as_u16(), 404);
    assert!(close(date(&r), day_ahead), "{}", date(&r));
    let root = fake.base_url().trim_end_matches("/v1.2").to_owned();
    let r = reqwest::Client::new()
        .get(format!("{root}/_fake/requests"))
        .header("x-api-key", fake.api_key())
        .send()
        .await
        .unwrap();
    assert!(close(date(&r), day_ahead), "{}", date(&r));
}

#[tokio::test]
async fn requests_are_counted_per_route() {
    let fake = FakeServer::builder()
        .indexing_time(Duration::from_secs(10))
        .start()
        .await
        .unwrap();
    let (status, created) = raw(
        &fake,
        "POST",
        "/indexes",
        Some(serde_json::json!({"index_name": "counted", "engines": [{"engine_name": "marengo2.6", "engine_options": ["visual"]}]})),
    )
    .await;
    assert_eq!(status, 201);
    let idx = created["_id"].as_str().unwrap().to_owned();
    let task: Value = post_task(&fake, &idx, "counted")
        .await
        .json()
        .await
        .unwrap();
    let task = task["_id"].as_str().unwrap().to_owned();
    for _ in 0..3 {
        raw(&fake, "GET", &format!("/tasks/{task}"), None).await;
    }
    control(
        &fake,
        "POST",
        "advance",
        Some(serde_json::json!({"seconds": 60})),
    )
    .await;
    let (_, t) = raw(&fake, "GET", &format!("/tasks/{task}"), None).await;
    let video = t["video_id"].as_str().unwrap().to_owned();
    raw(&fake, "GET", &format!("/tasks?index_id={idx}"), None).await;
    raw(&fake, "GET", &format!("/indexes/{idx}"), None).await;
    raw(&fake, "GET", &format!("/indexes/{idx}/videos"), None).await;
    raw(&fake, "GET", &format!("/indexes/{idx}/videos"), None).await;
    let (status, _) = raw(
        &fake,
        "PUT",
        &format!("/indexes/{idx}/videos/{video}"),
        Some(serde_json::json!({"video_title": "renamed"})),
    )
    .await;
    assert_eq!(status, 200);
    // Refusals and faults count too; control requests do not.
    fake.inject(Fault::status(503).path("/engines"));
    raw(&fake, "GET", "/engines", None).await;
    raw(&fake, "GET", "/engines/marengo2.6", None).await;
    raw(&fake, "GET", "/search/some-page-token", None).await;
    control(&fake, "GET", "task-quota", None).await;

    let want: std::collections::BTreeMap<String, u64> = [
        ("POST /indexes", 1),
        ("POST /tasks", 1),
        ("GET /tasks/{id}", 4),
        ("GET /tasks", 1),
        ("GET /indexes/{id}", 1),
        ("GET /indexes/{id}/videos", 2),
        ("PUT /indexes/{id}/videos/{id}", 1),
        ("GET /engines", 1),
        ("GET /engines/{id}", 1),
        ("GET /search/{id}", 1),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    assert_eq!(fake.request_counts(), want);
    assert_eq!(fake.request_count(), want.values().sum::<u64>());
    let (status, served) = control(&fake, "GET", "requests", None).await;
    assert_eq!(status, 200);
    assert_eq!(served, serde_json::to_value(&want).unwrap());

    // Paths outside /v1.2 are counted apart, not as API routes.
    let root = fake.base_url().trim_end_matches("/v1.2").to_owned();
    reqwest::Client::new()
        .get(format!("{root}/v1.3/indexes"))
        .header("x-api-key", fake.api_key())
        .send()
        .await
        .unwrap();
    let counts = fake.request_counts();
    assert_eq!(counts.get("GET (outside /v1.2)"), Some(&1));
    assert_eq!(counts.get("GET /indexes"), None);
}

#[tokio::test]
async fn a_task_is_updated_only_when_what_it_shows_changes() {
    let fake = FakeServer::builder()
        .indexing_time(Duration::from_secs(100))
        .start()
        .await
        .unwrap();
    let tl = fake.client().unwrap();
    let idx = index(&tl, "updates").await.to_string();
    let task: Value = post_task(&fake, &idx, "slow").await.json().await.unwrap();
    let path = format!("/tasks/{}", task["_id"].as_str().unwrap());
    let (_, t) = raw(&fake, "GET", &path, None).await;
    assert_eq!(t["status"], "validating");
    assert_eq!(t["updated_at"], t["created_at"]);
    tokio::time::sleep(Duration::from_millis(20)).await;
    let (_, again) = raw(&fake, "GET", &path, None).await;
    assert_eq!(again["updated_at"], t["created_at"], "nothing changed");

    // 49.55 s in: indexing at 50 % with 50 s left, for the next ~0.9 s of real time.
    fake.advance(Duration::from_millis(49_550));
    let (_, indexing) = raw(&fake, "GET", &path, None).await;
    assert_eq!(indexing["status"], "indexing");
    assert_eq!(indexing["process"]["percentage"], 50);
    assert_eq!(indexing["process"]["remain_seconds"], 50, "whole seconds");
    assert_ne!(indexing["updated_at"], t["updated_at"]);
    tokio::time::sleep(Duration::from_millis(20)).await;
    let (_, same) = raw(&fake, "GET", &path, None).await;
    assert_eq!(same["process"], indexing["process"]);
    assert_eq!(same["updated_at"], indexing["updated_at"]);

    fake.advance(Duration::from_secs(10));
    let (_, later) = raw(&fake, "GET", &path, None).await;
    assert_eq!(later["process"]["remain_seconds"], 40);
    assert!(later["updated_at"].as_str() > indexing["updated_at"].as_str());

    fake.advance(Duration::from_secs(100));
    let (_, ready) = raw(&fake, "GET", &path, None).await;
    assert_eq!(ready["status"], "ready");
    assert!(ready.get("process").is_none());
    fake.advance(Duration::from_secs(3600));
    let (_, still) = raw(&fake, "GET", &path, None).await;
    assert_eq!(
        still["updated_at"], ready["updated_at"],
        "a finished task stays put"
    );
}

#[tokio::test]
async fn task_lists_show_what_changed_since_a_time_newest_first() {
    let fake = FakeServer::builder()
        .indexing_time(Duration::from_secs(100))
        .start()
        .await
        .unwrap();
    let tl = fake.client().unwrap();
    let a = index(&tl, "a").await.to_string();
    let b = index(&tl, "b").await.to_string();
    let id = |v: Value| v["_id"].as_str().unwrap().to_owned();
    let old = id(post_task(&fake, &a, "old").await.json().await.unwrap());
    post_task(&fake, &b, "other index").await;
    control(
        &fake,
        "POST",
        "advance",
        Some(serde_json::json!({"seconds": 200})),
    )
    .await;
    // In flight from before `since`; it turns `pending` after it.
    let t0 = id(post_task(&fake, &a, "t0").await.json().await.unwrap());
    let (_, now) = control(
        &fake,
        "POST",
        "advance",
        Some(serde_json::json!({"seconds": 1})),
    )
    .await;
    let since = chrono::DateTime::parse_from_rfc3339(now["now"].as_str().unwrap()).unwrap();
    let t3 = id(post_task(&fake, &a, "t3").await.json().await.unwrap());
    // t0 is 10.5 s in (pending: updated), t3 9.5 s (still validating: not updated).
    fake.advance(Duration::from_millis(9_500));
    raw(&fake, "GET", "/tasks?page_limit=1", None).await;
    let t4 = id(post_task(&fake, &a, "t4").await.json().await.unwrap());

    // The same instant in another offset: any RFC 3339 date-time is understood.
    let since = since
        .with_timezone(&chrono::FixedOffset::east_opt(2 * 3600).unwrap())
        .to_rfc3339();
    let list = |order: &'static str| {
        let path = format!(
            "/tasks?index_id={a}&sort_by=updated_at&updated_at[gte]={}&page_limit=50{order}",
            since.replace('+', "%2B")
        );
        let fake = &fake;
        async move {
            let (status, v) = raw(fake, "GET", &path, None).await;
            assert_eq!(status, 200, "{v}");
            v["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| {
                    (
                        t["_id"].as_str().unwrap().to_owned(),
                        t["updated_at"].clone(),
                    )
                })
                .collect::<Vec<_>>()
        }
    };
    let newest_first = list("").await;
    let ids: Vec<&str> = newest_first.iter().map(|(i, _)| i.as_str()).collect();
    assert_eq!(
        ids,
        [t4.as_str(), t0.as_str(), t3.as_str()],
        "{newest_first:?}"
    );
    assert!(!ids.contains(&old.as_str()));
    let mut oldest_first = list("&sort_option=asc").await;
    oldest_first.reverse();
    assert_eq!(oldest_first, newest_first);
    let (status, _) = raw(&fake, "GET", "/tasks?updated_at[gte]=yesterday", None).await;
    assert_eq!(status, 400);

    // Page by page, in either order and by either date, the same list as in one page.
    for order in [
        "",
        "&sort_option=asc",
        "&sort_by=updated_at",
        "&sort_by=created_at&sort_option=asc",
    ] {
        let ids = |v: &Value| -> Vec<String> {
            v["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["_id"].as_str().unwrap().to_owned())
                .collect()
        };
        let (_, whole) = raw(&fake, "GET", &format!("/tasks?page_limit=50{order}"), None).await;
        let whole = ids(&whole);
        assert_eq!(whole.len(), 5);
        let mut paged = Vec::new();
        for page in 1..=3 {
            let (_, v) = raw(
                &fake,
                "GET",
                &format!("/tasks?page_limit=2&page={page}{order}"),
                None,
            )
            .await;
            paged.extend(ids(&v));
        }
        assert_eq!(paged, whole, "{order}");
        let (_, past) = raw(
            &fake,
            "GET",
            &format!("/tasks?page_limit=2&page=4{order}"),
            None,
        )
        .await;
        assert!(past["data"].as_array().unwrap().is_empty());
        assert_eq!(past["page_info"]["total_results"], 5);
    }
}
