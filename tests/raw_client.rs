//! Request/response tests through the generated client (`twelvelabs::raw`), at least one per tag:
//! method, path, query, exact JSON body, `x-api-key` header, typed response.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use httpmock::prelude::*;
use serde_json::json;
use twelvelabs::raw::{self, types};
use twelvelabs::transport::Transport;

const KEY: &str = "tlk_RAW_TEST_0123456789";

fn client(server: &MockServer) -> raw::Client {
    let transport = Transport::new(Some(KEY.to_owned().into()));
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    raw::Client::new_with_client(&server.url("/v1.2"), http, transport)
}

fn body<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> T {
    serde_json::from_value(v).unwrap()
}

#[tokio::test]
async fn engines_list_and_get() {
    let server = MockServer::start_async().await;
    let list = server
        .mock_async(|when, then| {
            when.method(GET).path("/v1.2/engines").header("x-api-key", KEY);
            then.status(200).json_body(json!({"data": [
                {"_id": "marengo2.6", "author": "twelvelabs", "allowed_engine_options": ["visual", "conversation", "text_in_video", "logo"], "ready": true, "finetune": false},
                {"_id": "pegasus1.1", "allowed_engine_options": ["visual", "conversation", "audio"], "ready": true}
            ]}));
        })
        .await;
    let get = server
        .mock_async(|when, then| {
            when.method(GET).path("/v1.2/engines/pegasus1.1");
            then.status(200)
                .json_body(json!({"_id": "pegasus1.1", "ready": false}));
        })
        .await;
    let tl = client(&server);
    let engines = tl.list_engines().send().await.unwrap().into_inner();
    assert_eq!(engines.data.len(), 2);
    assert_eq!(engines.data[0].id, "marengo2.6");
    assert_eq!(
        engines.data[0].allowed_engine_options[3],
        types::EngineOption::Logo
    );
    // A v1.3-style option value does not fail the list.
    assert_eq!(engines.data[1].allowed_engine_options[2].as_str(), "audio");
    let engine = tl
        .get_engine()
        .engine_id("pegasus1.1")
        .send()
        .await
        .unwrap();
    assert_eq!(engine.ready, Some(false));
    list.assert_async().await;
    get.assert_async().await;
}

#[tokio::test]
async fn indexes_create_with_the_seed_body_and_201() {
    let server = MockServer::start_async().await;
    let seed_body = json!({
        "engines": [
            {"engine_name": "marengo2.6", "engine_options": ["visual", "conversation", "text_in_video", "logo"]},
            {"engine_name": "pegasus1", "engine_options": ["visual", "conversation"]}
        ],
        "index_name": "Content Creator Videos",
        "addons": ["thumbnail"]
    });
    let m = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/v1.2/indexes")
                .header("x-api-key", KEY)
                .header("content-type", "application/json")
                .json_body(seed_body.clone());
            then.status(201)
                .json_body(json!({"_id": "666599d4e6fb7df29de0f89c"}));
        })
        .await;
    let tl = client(&server);
    let engine = |name: &str, options: Vec<types::EngineOption>| types::IndexEngine {
        id: None,
        engine_name: name.into(),
        engine_options: options,
        addons: vec![],
        finetuned: None,
    };
    use types::EngineOption::*;
    let created = tl
        .create_index()
        .body_map(|b| {
            b.index_name("Content Creator Videos")
                .engines(vec![
                    engine("marengo2.6", vec![Visual, Conversation, TextInVideo, Logo]),
                    engine("pegasus1", vec![Visual, Conversation]),
                ])
                .addons(vec![types::Addon::Thumbnail])
        })
        .send()
        .await
        .unwrap();
    assert_eq!(created.status().as_u16(), 201);
    assert_eq!(created.id, "666599d4e6fb7df29de0f89c");
    m.assert_async().await;
}

#[tokio::test]
async fn indexes_create_accepts_200_list_paginates_and_rename_accepts_204() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(POST).path("/v1.2/indexes");
            then.status(200)
                .json_body(json!({"_id": "666599d4e6fb7df29de0f89c"}));
        })
        .await;
    let list = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/v1.2/indexes")
                .query_param("page", "1")
                .query_param("page_limit", "10")
                .query_param("sort_by", "created_at")
                .query_param("sort_option", "asc")
                .query_param("created_at[gte]", "2024-06-01T00:00:00Z");
            then.status(200).json_body(json!({
                "data": [{"_id": "66649f31937ce44a0402bad8", "index_name": "My Index (Default)", "expires_at": null,
                          "engines": [{"engine_name": "marengo2.6", "engine_options": ["visual"]}], "video_count": 0, "total_duration": 0}],
                "page_info": {"limit_per_page": 10, "page": 1, "total_page": 1, "total_results": 1}
            }));
        })
        .await;
    let rename = server
        .mock_async(|when, then| {
            when.method(PUT)
                .path("/v1.2/indexes/666599d4e6fb7df29de0f89c")
                .json_body(json!({"index_name": "Renamed"}));
            then.status(204);
        })
        .await;
    let delete = server
        .mock_async(|when, then| {
            when.method(DELETE)
                .path("/v1.2/indexes/666599d4e6fb7df29de0f89c");
            then.status(200);
        })
        .await;
    let tl = client(&server);
    let created = tl
        .create_index()
        .body(body::<types::CreateIndexRequest>(json!({"index_name": "x", "engines": [{"engine_name": "marengo2.6", "engine_options": ["visual"]}]})))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status().as_u16(), 200);
    let page = tl
        .list_indexes()
        .page(1u64)
        .page_limit(10u64)
        .sort_by(types::SortBy::CreatedAt)
        .sort_option(types::SortOption::Asc)
        .created_at_gte("2024-06-01T00:00:00Z")
        .send()
        .await
        .unwrap();
    assert_eq!(
        page.data[0].index_name.as_deref(),
        Some("My Index (Default)")
    );
    assert_eq!(page.data[0].expires_at, None);
    assert_eq!(page.page_info.as_ref().unwrap().total_page, Some(1));
    let renamed = tl
        .update_index()
        .index_id("666599d4e6fb7df29de0f89c")
        .body_map(|b| b.index_name("Renamed"))
        .send()
        .await
        .unwrap();
    assert_eq!(renamed.status().as_u16(), 204);
    tl.delete_index()
        .index_id("666599d4e6fb7df29de0f89c")
        .send()
        .await
        .unwrap();
    list.assert_async().await;
    rename.assert_async().await;
    delete.assert_async().await;
}

#[tokio::test]
async fn tasks_external_provider_get_list_status_delete() {
    let server = MockServer::start_async().await;
    let external = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/v1.2/tasks/external-provider")
                .json_body(json!({"index_id": "666599d4e6fb7df29de0f89c", "url": "https://www.youtube.com/watch?v=73_1biulkYk.mp4"}));
            then.status(201).json_body(json!({"_id": "66659a3efa7835326810120c"}));
        })
        .await;
    let get = server
        .mock_async(|when, then| {
            when.method(GET).path("/v1.2/tasks/66659a3efa7835326810120c").header("x-api-key", KEY);
            then.status(200).json_body(json!({
                "_id": "66659a3efa7835326810120c", "index_id": "666599d4e6fb7df29de0f89c",
                "status": "indexing", "estimated_time": "2024-06-09T12:07:40.728Z",
                "process": {"percentage": 42.5, "remain_seconds": 118},
                "metadata": {"duration": 159, "filename": "trailer.mp4", "height": 720, "width": 1280},
                "created_at": "2024-06-09T12:04:14.069Z", "updated_at": "2024-06-09T12:05:00Z"
            }));
        })
        .await;
    let list = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/v1.2/tasks")
                .query_param("index_id", "666599d4e6fb7df29de0f89c")
                .query_param("duration", "159.0") // `number` parameters are f64
                .query_param("page_limit", "50");
            then.status(200).json_body(json!({"data": [], "page_info": {"limit_per_page": 50, "page": 1, "total_page": 0, "total_results": 0}}));
        })
        .await;
    let counts = server
        .mock_async(|when, then| {
            when.method(GET).path("/v1.2/tasks/status").query_param("index_id", "666599d4e6fb7df29de0f89c");
            then.status(200).json_body(json!({"index_id": "666599d4e6fb7df29de0f89c", "ready": 1, "validating": 0, "pending": 2, "failed": 0, "total_result": 3}));
        })
        .await;
    let delete = server
        .mock_async(|when, then| {
            when.method(DELETE)
                .path("/v1.2/tasks/66659a3efa7835326810120c");
            then.status(204);
        })
        .await;
    let tl = client(&server);
    let created = tl
        .create_external_provider_task()
        .body_map(|b| {
            b.index_id("666599d4e6fb7df29de0f89c")
                .url("https://www.youtube.com/watch?v=73_1biulkYk.mp4")
        })
        .send()
        .await
        .unwrap();
    assert_eq!(created.id, "66659a3efa7835326810120c");
    let task = tl.get_task().task_id(&created.id).send().await.unwrap();
    assert_eq!(task.status, Some(types::TaskStatus::Indexing));
    assert_eq!(task.process.as_ref().unwrap().remain_seconds, Some(118.0));
    assert_eq!(task.metadata.as_ref().unwrap().width, Some(1280));
    let page = tl
        .list_tasks()
        .index_id("666599d4e6fb7df29de0f89c")
        .duration(159.0)
        .page_limit(50u64)
        .send()
        .await
        .unwrap();
    assert!(page.data.is_empty());
    let c = tl
        .get_task_status()
        .index_id("666599d4e6fb7df29de0f89c")
        .send()
        .await
        .unwrap();
    assert_eq!(
        (c.ready, c.pending, c.total_result),
        (Some(1), Some(2), Some(3))
    );
    tl.delete_task()
        .task_id("66659a3efa7835326810120c")
        .send()
        .await
        .unwrap();
    for m in [external, get, list, counts, delete] {
        m.assert_async().await;
    }
}

#[tokio::test]
async fn videos_list_filters_update_metadata_and_extracted_data() {
    let server = MockServer::start_async().await;
    let list = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/v1.2/indexes/666599d4e6fb7df29de0f89c/videos")
                .query_param("fps[gte]", "24.0")
                .query_param("size[lte]", "2000000000")
                .query_param("page", "2");
            then.status(200).json_body(json!({
                "data": [{"_id": "66659a48d22b3a3c97bf1d5f", "created_at": "2024-06-09T12:04:14Z", "indexed_at": "2024-06-09T12:08:52Z",
                          "metadata": {"duration": 159, "engine_ids": ["marengo2.6", "pegasus1"], "filename": "Deadpool & Wolverine | Official Trailer | In Theaters July 26",
                                       "fps": 24, "height": 720, "size": 10016501, "width": 1280, "category": "trailer"},
                          "updated_at": "2024-06-09T12:04:24Z"}],
                "page_info": {"limit_per_page": 10, "page": 2, "total_duration": 159, "total_page": 2, "total_results": 11}
            }));
        })
        .await;
    let update = server
        .mock_async(|when, then| {
            when.method(PUT)
                .path("/v1.2/indexes/666599d4e6fb7df29de0f89c/videos/66659a48d22b3a3c97bf1d5f")
                .json_body(json!({"video_title": "Trailer", "metadata": {"category": "trailer", "needsReview": true, "views": 1000, "rating": 4.5}}));
            then.status(200);
        })
        .await;
    let transcription = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/v1.2/indexes/666599d4e6fb7df29de0f89c/videos/66659a48d22b3a3c97bf1d5f/transcription")
                .query_param("start", "10.0")
                .query_param("end", "20.5");
            then.status(200).json_body(json!({"data": [{"start": 10.0, "end": 14.2, "value": "guy with red mask"}]}));
        })
        .await;
    let thumbnail = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/v1.2/indexes/666599d4e6fb7df29de0f89c/videos/66659a48d22b3a3c97bf1d5f/thumbnail")
                .query_param("time", "5.0");
            then.status(200).json_body(json!({"thumbnail": "https://deuqpmn4rs7j5.cloudfront.net/t.jpg"}));
        })
        .await;
    let tl = client(&server);
    let page = tl
        .list_videos()
        .index_id("666599d4e6fb7df29de0f89c")
        .fps_gte(24.0)
        .size_lte(2_000_000_000i64)
        .page(2u64)
        .send()
        .await
        .unwrap();
    let meta = page.data[0].metadata.as_ref().unwrap();
    assert_eq!(meta.size, Some(10_016_501));
    assert_eq!(meta.engine_ids, vec!["marengo2.6", "pegasus1"]);
    assert_eq!(meta.extra["category"], "trailer");
    assert_eq!(page.page_info.as_ref().unwrap().total_duration, Some(159.0));

    let mut metadata = std::collections::HashMap::new();
    metadata.insert(
        "category".to_owned(),
        types::MetadataValue::String("trailer".into()),
    );
    metadata.insert(
        "needsReview".to_owned(),
        types::MetadataValue::Boolean(true),
    );
    metadata.insert("views".to_owned(), types::MetadataValue::Integer(1000));
    metadata.insert("rating".to_owned(), types::MetadataValue::Number(4.5));
    tl.update_video()
        .index_id("666599d4e6fb7df29de0f89c")
        .video_id("66659a48d22b3a3c97bf1d5f")
        .body_map(|b| b.video_title(Some("Trailer".to_owned())).metadata(metadata))
        .send()
        .await
        .unwrap();
    let t = tl
        .get_video_transcription()
        .index_id("666599d4e6fb7df29de0f89c")
        .video_id("66659a48d22b3a3c97bf1d5f")
        .start(10.0)
        .end(20.5)
        .send()
        .await
        .unwrap();
    assert_eq!(t.data[0].value.as_deref(), Some("guy with red mask"));
    let th = tl
        .get_video_thumbnail()
        .index_id("666599d4e6fb7df29de0f89c")
        .video_id("66659a48d22b3a3c97bf1d5f")
        .time(5.0)
        .send()
        .await
        .unwrap();
    assert!(th.thumbnail.as_deref().unwrap().ends_with("t.jpg"));
    for m in [list, update, transcription, thumbnail] {
        m.assert_async().await;
    }
}

#[tokio::test]
async fn search_sends_only_what_was_set_and_decodes_clips_and_groups() {
    let server = MockServer::start_async().await;
    let first = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/v1.2/search")
                // Exactly the seed's body: no documented default is added.
                .json_body(json!({"query": "guy with red mask", "index_id": "666599d4e6fb7df29de0f89c",
                                  "search_options": ["conversation"], "conversation_option": "semantic"}));
            then.status(200).json_body(json!({
                "data": [{"score": 83.46, "start": 12.5, "end": 20.25, "video_id": "66659a48d22b3a3c97bf1d5f", "confidence": "high",
                          "metadata": [{"type": "conversation", "text": "that guy with the red mask"}]}],
                "page_info": {"limit_per_page": 10, "page_expired_at": "2024-06-09T12:17:14Z", "total_results": 2, "next_page_token": "tok-2"},
                "search_pool": {"index_id": "666599d4e6fb7df29de0f89c", "total_count": 1, "total_duration": 159}
            }));
        })
        .await;
    let next = server
        .mock_async(|when, then| {
            when.method(GET).path("/v1.2/search/tok-2");
            then.status(200).json_body(json!({
                "data": [{"id": "66659a48d22b3a3c97bf1d5f", "clips": [{"start": 1, "end": 2, "video_id": "66659a48d22b3a3c97bf1d5f", "confidence": "extremely_low"}]}],
                "page_info": {"limit_per_page": 10, "total_results": 2, "prev_page_token": "tok-1"}
            }));
        })
        .await;
    let tl = client(&server);
    let request: types::SearchRequest = body(json!({
        "query": "guy with red mask", "index_id": "666599d4e6fb7df29de0f89c",
        "search_options": ["conversation"], "conversation_option": "semantic"
    }));
    let page = tl.search().body(request).send().await.unwrap();
    let types::SearchResultItem::Clip(clip) = &page.data[0] else {
        panic!("{:?}", page.data[0])
    };
    assert_eq!(clip.confidence, Some(types::Confidence::High));
    assert_eq!(
        clip.metadata[0].text.as_deref(),
        Some("that guy with the red mask")
    );
    let token = page
        .page_info
        .as_ref()
        .unwrap()
        .next_page_token
        .clone()
        .unwrap();
    let page2 = tl.get_search_page().page_token(token).send().await.unwrap();
    let types::SearchResultItem::GroupedItem(group) = &page2.data[0] else {
        panic!("{:?}", page2.data[0])
    };
    assert_eq!(
        group.clips[0].confidence,
        Some(types::Confidence::ExtremelyLow)
    );
    first.assert_async().await;
    next.assert_async().await;
}

#[tokio::test]
async fn combined_queries_serialize_their_operators() {
    let server = MockServer::start_async().await;
    let m = server
        .mock_async(|when, then| {
            when.method(POST).path("/v1.2/search").json_body(json!({
                "index_id": "666599d4e6fb7df29de0f89c", "search_options": ["visual", "conversation"],
                "query": {"$and": [{"text": "red mask", "search_options": ["visual"]},
                                   {"$not": {"origin": {"text": "guy"}, "sub": {"text": "woman"}}}]}
            }));
            then.status(200).json_body(json!({"data": [], "page_info": {"total_results": 0}}));
        })
        .await;
    let tl = client(&server);
    let request: types::SearchRequest = body(json!({
        "index_id": "666599d4e6fb7df29de0f89c", "search_options": ["visual", "conversation"],
        "query": {"$and": [{"text": "red mask", "search_options": ["visual"]},
                           {"$not": {"origin": {"text": "guy"}, "sub": {"text": "woman"}}}]}
    }));
    assert!(matches!(
        request.query,
        types::SearchQuery::CombinedQuery(_)
    ));
    tl.search().body(request).send().await.unwrap();
    m.assert_async().await;
}

#[tokio::test]
async fn classify_bulk_with_the_seed_body() {
    let server = MockServer::start_async().await;
    let seed = json!({
        "options": ["visual", "conversation", "text_in_video"],
        "index_id": "666599d4e6fb7df29de0f89c",
        "include_clips": true,
        "classes": [{"name": "BeautyTok", "prompts": ["Makeup", "Skincare", "Cosmetic Products", "Doing Nails", "Doing Hair", "Eyeshadow", "Lipstick", "Blush"]}],
        "threshold": {"min_video_score": 80, "min_duration_ratio": 0.5}
    });
    // Thresholds are `number`s: 80 goes out as 80.0, the same JSON number.
    let mut on_wire = seed.clone();
    on_wire["threshold"]["min_video_score"] = json!(80.0);
    let m = server
        .mock_async(|when, then| {
            when.method(POST).path("/v1.2/classify/bulk").json_body(on_wire.clone());
            then.status(200).json_body(json!({"data": [], "page_info": {"limit_per_page": 0, "page_expired_at": "", "total_results": 0}}));
        })
        .await;
    let next = server
        .mock_async(|when, then| {
            when.method(GET).path("/v1.2/classify/tok-c");
            then.status(200).json_body(json!({"data": [{"video_id": "66659a48d22b3a3c97bf1d5f", "classes": [
                {"name": "BeautyTok", "score": 92.1, "duration_ratio": 0.8, "detailed_scores": {"max_score": 93.0, "avg_score": 85.0, "normalized_score": 90.0},
                 "clips": [{"start": 0, "end": 30.5, "score": 88.4, "option": "visual", "prompt": "Makeup"}]}]}],
                "page_info": {"limit_per_page": 10, "total_results": 1}}));
        })
        .await;
    let tl = client(&server);
    let page = tl
        .classify_index()
        .body(body::<types::ClassifyIndexRequest>(seed.clone()))
        .send()
        .await
        .unwrap();
    assert!(page.data.is_empty());
    assert_eq!(
        page.page_info.as_ref().unwrap().page_expired_at.as_deref(),
        Some("")
    );
    let page = tl
        .get_classify_page()
        .page_token("tok-c")
        .send()
        .await
        .unwrap();
    let class = &page.data[0].classes[0];
    assert_eq!(
        class.detailed_scores.as_ref().unwrap().normalized_score,
        Some(90.0)
    );
    assert_eq!(class.clips[0].prompt.as_deref(), Some("Makeup"));
    m.assert_async().await;
    next.assert_async().await;
}

#[tokio::test]
async fn generate_gist_summarize_and_text() {
    let server = MockServer::start_async().await;
    let gist = server
        .mock_async(|when, then| {
            when.method(POST).path("/v1.2/gist").json_body(json!({"video_id": "6528b54a43e8c47e4eb47e80", "types": ["title", "topic", "hashtag"]}));
            then.status(200).json_body(json!({"id": "g1", "title": "How Girls Get Dressed", "topics": ["Fashion"], "hashtags": ["#fashion"]}));
        })
        .await;
    let summarize = server
        .mock_async(|when, then| {
            when.method(POST).path("/v1.2/summarize").json_body(json!({"video_id": "6528b54a43e8c47e4eb47e80", "type": "chapter", "prompt": "Generate chapters using stressful language."}));
            then.status(200).json_body(json!({"id": "s1", "chapters": [{"chapter_number": 0, "start": 0, "end": 45.5, "chapter_title": "The closet", "chapter_summary": "Panic."}]}));
        })
        .await;
    let text = server
        .mock_async(|when, then| {
            when.method(POST).path("/v1.2/generate").json_body(json!({"video_id": "6528b54a43e8c47e4eb47e80", "prompt": "Write a rap song based on this video."}));
            then.status(200).json_body(json!({"id": "t1", "data": "Yo, closet door swings"}));
        })
        .await;
    let tl = client(&server);
    use types::GistType::*;
    let g = tl
        .gist()
        .body_map(|b| {
            b.video_id("6528b54a43e8c47e4eb47e80")
                .types(vec![Title, Topic, Hashtag])
        })
        .send()
        .await
        .unwrap();
    assert_eq!(g.title.as_deref(), Some("How Girls Get Dressed"));
    let s = tl
        .summarize()
        .body_map(|b| {
            b.video_id("6528b54a43e8c47e4eb47e80")
                .type_(types::SummarizeType::Chapter)
                .prompt(Some(
                    types::SummarizeRequestPrompt::try_from(
                        "Generate chapters using stressful language.",
                    )
                    .unwrap(),
                ))
        })
        .send()
        .await
        .unwrap();
    assert_eq!(s.chapters[0].end, Some(45.5));
    let t = tl
        .generate_text()
        .body_map(|b| {
            b.video_id("6528b54a43e8c47e4eb47e80")
                .prompt("Write a rap song based on this video.")
        })
        .send()
        .await
        .unwrap();
    assert_eq!(t.data.as_deref(), Some("Yo, closet door swings"));
    for m in [gist, summarize, text] {
        m.assert_async().await;
    }
}

#[tokio::test]
async fn embed_tasks_list_get_and_status() {
    let server = MockServer::start_async().await;
    let list = server
        .mock_async(|when, then| {
            when.method(GET).path("/v1.2/embed/tasks").query_param("status", "ready").query_param("page_limit", "20");
            then.status(200).json_body(json!({"data": [{"_id": "6745e1b1c3f7a9d3e5b2c4a1", "engine_name": "Marengo-retrieval-2.6", "status": "ready"}],
                                              "page_info": {"limit_per_page": 20, "page": 1, "total_page": 1, "total_results": 1}}));
        })
        .await;
    let get = server
        .mock_async(|when, then| {
            when.method(GET).path("/v1.2/embed/tasks/6745e1b1c3f7a9d3e5b2c4a1");
            then.status(200).json_body(json!({"_id": "6745e1b1c3f7a9d3e5b2c4a1", "status": "ready", "video_embedding": {
                "segments": [{"float": [0.031, -0.022], "start_offset_sec": 0, "end_offset_sec": 6, "embedding_scope": "clip"}],
                "metadata": {"video_clip_length": 6, "video_embedding_scope": ["clip"], "duration": 159}}}));
        })
        .await;
    let status = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/v1.2/embed/tasks/6745e1b1c3f7a9d3e5b2c4a1/status");
            then.status(200)
                .json_body(json!({"_id": "6745e1b1c3f7a9d3e5b2c4a1", "status": "processing"}));
        })
        .await;
    let tl = client(&server);
    let page = tl
        .list_embed_tasks()
        .status(types::EmbedTaskStatus::Ready)
        .page_limit(20u64)
        .send()
        .await
        .unwrap();
    assert_eq!(page.data[0].status, Some(types::EmbedTaskStatus::Ready));
    let task = tl
        .get_embed_task()
        .task_id("6745e1b1c3f7a9d3e5b2c4a1")
        .send()
        .await
        .unwrap();
    let segment = &task.video_embedding.as_ref().unwrap().segments[0];
    assert_eq!(segment.float, vec![0.031, -0.022]);
    assert_eq!(segment.embedding_scope, Some(types::EmbeddingScope::Clip));
    let s = tl
        .get_embed_task_status()
        .task_id("6745e1b1c3f7a9d3e5b2c4a1")
        .send()
        .await
        .unwrap();
    assert_eq!(s.status, Some(types::EmbedTaskStatus::Processing));
    for m in [list, get, status] {
        m.assert_async().await;
    }
}

#[tokio::test]
async fn error_statuses_come_back_raw_with_status_and_body() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/v1.2/indexes/nope");
            then.status(404)
                .json_body(json!({"code": "resource_not_exist", "message": "gone"}));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/v1.2/engines");
            then.status(401).body("");
        })
        .await;
    let tl = client(&server);
    match tl.get_index().index_id("nope").send().await {
        Err(raw::Error::UnexpectedResponse(r)) => {
            assert_eq!(r.status().as_u16(), 404);
            let body: types::ErrorBody = r.json().await.unwrap();
            assert_eq!(body.code.as_str(), "resource_not_exist");
            assert!(body.code.is_known());
        }
        other => panic!("{other:?}"),
    }
    match tl.list_engines().send().await {
        Err(raw::Error::UnexpectedResponse(r)) => assert_eq!(r.status().as_u16(), 401),
        other => panic!("{other:?}"),
    }
}
