//! The spec against the independent sources: every operation records which sources describe it
//! (`x-sources` in openapi.yaml), every disputed point is settled, and each settlement holds in
//! the spec and in what the client sends. (The conformance suite in `conformance/` runs the
//! official Python SDK and the tour notebook against the fake; see `.ci/run`.)
#![cfg(feature = "testing")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeSet;

use serde_json::{Value, json};
use twelvelabs::testing::FakeServer;
use twelvelabs::upload::Media;
use twelvelabs::{Error, Filter};

fn spec() -> Value {
    yaml_serde::from_str(include_str!("../openapi.yaml")).expect("openapi.yaml parses")
}

fn operations(spec: &Value) -> Vec<(String, String, Value)> {
    let mut ops = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if let Some(id) = op["operationId"].as_str() {
                ops.push((
                    id.to_owned(),
                    format!("{} {path}", method.to_uppercase()),
                    op.clone(),
                ));
            }
        }
    }
    ops
}

/// The operations whose sources disagree on some point (the audit of 2026-11-24, plus the
/// combined-search page found missing by it). All the others agree with every source.
const DISPUTED: &[&str] = &[
    "combinedSearch",
    "createEmbedding",
    "createTask",
    "generateText",
    "getCombinedSearchPage",
    "getCombinedSearchPageDocs",
    "getEmbedTask",
    "getSearchPage",
    "getSearchV2Page",
    "listIndexes",
    "listTasks",
    "search",
    "searchV2",
    "summarize",
];

#[test]
fn every_operation_records_its_sources_and_every_dispute_is_settled() {
    let spec = spec();
    let xs = &spec["x-sources"];
    let legend: BTreeSet<&str> = xs["legend"]
        .as_object()
        .expect("x-sources.legend")
        .keys()
        .map(String::as_str)
        .collect();
    let recorded = xs["operations"].as_object().expect("x-sources.operations");
    let ops = operations(&spec);
    let ids: BTreeSet<&str> = ops.iter().map(|(id, _, _)| id.as_str()).collect();
    let keys: BTreeSet<&str> = recorded.keys().map(String::as_str).collect();
    assert_eq!(
        ids, keys,
        "x-sources.operations must list exactly the operations"
    );

    let mut disputed = Vec::new();
    for (id, entry) in recorded {
        let sources = entry["sources"]
            .as_array()
            .unwrap_or_else(|| panic!("{id}: sources"));
        assert!(!sources.is_empty(), "{id}: no source");
        for s in sources {
            let s = s.as_str().unwrap();
            assert!(legend.contains(s), "{id}: source {s} is not in the legend");
        }
        let Some(disputes) = entry.get("disputes") else {
            continue;
        };
        disputed.push(id.as_str());
        for d in disputes.as_array().unwrap() {
            let point = d["point"]
                .as_str()
                .unwrap_or_else(|| panic!("{id}: a point"));
            let settled = d["settled"].as_str().unwrap_or_default();
            assert!(!settled.trim().is_empty(), "{id} / {point}: not settled");
            let by = d["sources"].as_object().unwrap();
            assert!(!by.is_empty(), "{id} / {point}: no sources");
            for s in by.keys() {
                assert!(
                    legend.contains(s.as_str()),
                    "{id} / {point}: {s} not in the legend"
                );
            }
        }
    }
    assert_eq!(disputed, DISPUTED);
    assert_eq!(
        ops.len() - disputed.len(),
        29,
        "operations agreeing with every source"
    );
}

#[test]
fn source_keys_stay_out_of_the_descriptions_of_the_settled_points() {
    let spec = spec();
    for (id, _, op) in operations(&spec) {
        if ![
            "createEmbedding",
            "searchV2",
            "getCombinedSearchPage",
            "getCombinedSearchPageDocs",
            "listTasks",
        ]
        .contains(&id.as_str())
        {
            continue;
        }
        let d = op["description"].as_str().unwrap();
        for key in ["PY", "JS", "D12", "DRM", "MDB", "SEED", "OAS13"] {
            assert!(
                !d.split(|c: char| !c.is_alphanumeric()).any(|w| w == key),
                "{id}: the description names the source {key}: the sources belong in x-sources"
            );
        }
    }
}

#[test]
fn each_settlement_holds_in_the_spec() {
    let spec = spec();
    let paths = &spec["paths"];
    // Both page paths of a combined search, and of a search.
    for p in [
        "/search/combined/{page_token}",
        "/combined-search/{page_token}",
        "/search/{page_token}",
        "/search-v2/{page_token}",
    ] {
        assert!(paths[p]["get"].is_object(), "{p}");
    }
    // The search-v2 filter is a plain text field, not an application/json part.
    let enc =
        &paths["/search-v2"]["post"]["requestBody"]["content"]["multipart/form-data"]["encoding"];
    assert!(enc.get("filter").is_none(), "{enc}");
    // No range on the task filters no source documents.
    let names: Vec<&str> = paths["/tasks"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    for f in ["duration", "width", "height", "estimated_time"] {
        assert!(names.contains(&f), "exact {f} is documented");
        for op in ["gte", "lte"] {
            assert!(!names.contains(&format!("{f}[{op}]").as_str()), "{f}[{op}]");
        }
    }
    for f in ["created_at[gte]", "updated_at[lte]"] {
        assert!(names.contains(&f), "{f} is documented");
    }
    // Both success statuses of POST /tasks.
    let r = &paths["/tasks"]["post"]["responses"];
    assert!(r["200"].is_object() && r["201"].is_object());
    // The disputed default of `stream` is not claimed.
    let stream = &spec["components"]["schemas"]["GenerateTextRequest"]["properties"]["stream"];
    assert!(stream.get("default").is_none(), "{stream}");
    // Both shapes of an embedding segment.
    let seg = &spec["components"]["schemas"]["EmbeddingSegment"]["properties"];
    assert!(seg["float"].is_object() && seg["embedding"].is_object());
    // `threshold: none` is accepted.
    let thresholds = &spec["components"]["schemas"]["SearchThreshold"]["enum"];
    assert!(thresholds.as_array().unwrap().contains(&json!("none")));
}

#[tokio::test]
async fn the_whole_text_is_asked_for_with_stream_false_explicitly() {
    use httpmock::prelude::*;
    let server = MockServer::start_async().await;
    let m = server
        .mock_async(|when, then| {
            when.method(POST).path("/v1.2/generate").json_body(json!({
                "video_id": "66659a48d22b3a3c97bf1d5f", "prompt": "Describe it.", "stream": false
            }));
            then.status(200)
                .json_body(json!({"id": "g", "data": "Text."}));
        })
        .await;
    let tl = twelvelabs::Client::builder()
        .api_key("tlk_TEST")
        .base_url(server.base_url())
        .build()
        .unwrap();
    let text = tl
        .generate()
        .text("66659a48d22b3a3c97bf1d5f", "Describe it.")
        .send()
        .await
        .unwrap();
    assert_eq!(text, "Text.");
    m.assert_async().await;
}

#[tokio::test]
async fn one_embedding_request_carries_several_modalities() {
    let fake = FakeServer::start().await.unwrap();
    let tl = fake.client().unwrap();
    let before = fake.request_count();
    let e = tl
        .embed()
        .text("a red mask")
        .image(Media::url("https://example.com/mask.png"))
        .audio(Media::bytes(vec![7u8; 64], "roar.mp3"))
        .audio_start_offset(1.5)
        .send()
        .await
        .unwrap();
    assert_eq!(fake.request_count() - before, 1, "one request");
    assert_eq!(e.text_embedding.unwrap().segments[0].vector().len(), 1024);
    let image = e.image_embedding.unwrap();
    assert_eq!(
        image.metadata.unwrap().input_url.as_deref(),
        Some("https://example.com/mask.png")
    );
    let audio = e.audio_embedding.unwrap();
    assert_eq!(audio.segments[0].start_offset_sec, Some(1.5));
    assert_eq!(
        audio.metadata.unwrap().input_filename.as_deref(),
        Some("roar.mp3")
    );
    // Still checked before sending.
    let e = tl
        .embed()
        .image(Media::url("https://example.com/mask.png"))
        .text("  ")
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::InvalidInput { field, .. } if field == "text"),
        "{e:?}"
    );
}

#[test]
fn both_shapes_of_an_embedding_segment_give_the_vector() {
    use twelvelabs::raw::types::{EmbedTask, EmbeddingSegment};
    let flat: EmbeddingSegment =
        serde_json::from_value(json!({"float": [0.5, -0.25], "embedding_scope": "clip"})).unwrap();
    assert_eq!(flat.vector(), &[0.5, -0.25]);
    // The JS SDK 0.2.8's shape: the vector nested as `embedding.float`.
    let task: EmbedTask = serde_json::from_value(json!({
        "_id": "6745e1b1c3f7a9d3e5b2c4a1",
        "engine_name": "Marengo-retrieval-2.6",
        "status": "ready",
        "video_embedding": {"segments": [
            {"start_offset_sec": 0, "end_offset_sec": 6, "embedding_scope": "clip", "embedding": {"float": [0.125, 0.5]}}
        ]}
    }))
    .unwrap();
    let seg = &task.video_embedding.unwrap().segments[0];
    assert_eq!(seg.vector(), &[0.125, 0.5]);
    let empty: EmbeddingSegment = serde_json::from_value(json!({})).unwrap();
    assert!(empty.vector().is_empty());
}

#[tokio::test]
async fn a_range_on_a_task_filter_is_refused_before_any_request() {
    let fake = FakeServer::start().await.unwrap();
    let tl = fake.client().unwrap();
    let before = fake.request_count();
    for e in [
        tl.tasks()
            .list()
            .duration(Filter::gte(10.0))
            .send()
            .await
            .unwrap_err(),
        tl.tasks()
            .list()
            .width(Filter::between(100, 2000))
            .send()
            .await
            .unwrap_err(),
        tl.tasks()
            .list()
            .height(Filter::lte(1080))
            .send()
            .await
            .unwrap_err(),
    ] {
        assert!(
            matches!(&e, Error::InvalidInput { field, reason } if ["duration", "width", "height"].contains(&field.as_ref()) && reason.contains("exact")),
            "{e:?}"
        );
    }
    assert_eq!(fake.request_count(), before, "nothing was sent");
    // Exact values go out.
    let page = tl
        .tasks()
        .list()
        .duration(159.0)
        .width(1280)
        .send()
        .await
        .unwrap();
    assert!(page.items.is_empty());
    assert_eq!(fake.request_count(), before + 1);
}

#[tokio::test]
async fn combined_search_pages_are_reachable_at_both_documented_paths() {
    let fake = FakeServer::builder()
        .indexing_time(std::time::Duration::ZERO)
        .start()
        .await
        .unwrap();
    let tl = fake.client().unwrap();
    let idx = tl
        .indexes()
        .create("combined")
        .engine(
            twelvelabs::EngineConfig::new("marengo2.6").options([twelvelabs::EngineOption::Visual]),
        )
        .send()
        .await
        .unwrap();
    tl.tasks()
        .create(&idx)
        .video_bytes(vec![1u8; 16], "a.mp4")
        .send()
        .await
        .unwrap();
    let raw = tl.raw();
    let body: twelvelabs::raw::types::CombinedSearchRequest = serde_json::from_value(json!({
        "index_id": idx.as_str(), "search_options": ["visual"], "page_limit": 1,
        "query": {"$or": [{"text": "red mask"}, {"text": "jewelry"}]}
    }))
    .unwrap();
    let first = tl
        .call(raw.combined_search().body(body).send())
        .await
        .unwrap();
    let token = first.page_info.unwrap().next_page_token.unwrap();
    let a = tl
        .call(
            raw.get_combined_search_page()
                .page_token(token.clone())
                .send(),
        )
        .await
        .unwrap();
    let b = tl
        .call(raw.get_combined_search_page_docs().page_token(token).send())
        .await
        .unwrap();
    assert_eq!(a.data.len(), 1);
    assert_eq!(
        serde_json::to_value(&a.data).unwrap(),
        serde_json::to_value(&b.data).unwrap()
    );
}

#[tokio::test]
async fn combined_endpoint_pages_follow_their_own_page_paths() {
    use futures::TryStreamExt;
    use twelvelabs::api::search::Query;
    let fake = FakeServer::builder()
        .indexing_time(std::time::Duration::ZERO)
        .start()
        .await
        .unwrap();
    let tl = fake.client().unwrap();
    let idx = tl
        .indexes()
        .create("combined pages")
        .engine(
            twelvelabs::EngineConfig::new("marengo2.6").options([twelvelabs::EngineOption::Visual]),
        )
        .send()
        .await
        .unwrap();
    tl.tasks()
        .create(&idx)
        .video_bytes(vec![1u8; 16], "a.mp4")
        .send()
        .await
        .unwrap();
    let pages: Vec<_> = tl
        .search(&idx)
        .combined(Query::or([Query::text("red mask"), Query::text("jewelry")]))
        .combined_endpoint(true)
        .options([twelvelabs::SearchOption::Visual])
        .page_limit(1)
        .pages()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(pages.len(), 2, "two clips, one per page");
}

#[tokio::test]
async fn a_combined_page_falls_back_to_the_docs_path_on_404() {
    use futures::TryStreamExt;
    use httpmock::prelude::*;
    use twelvelabs::api::search::Query;
    let server = MockServer::start_async().await;
    let page = |token: Option<&str>| {
        let mut info = json!({"limit_per_page": 1, "total_results": 2, "page_expired_at": "2024-06-09T12:31:05Z"});
        if let Some(t) = token {
            info["next_page_token"] = json!(t);
        }
        json!({"data": [{"score": 80, "start": 1, "end": 2, "video_id": "66659a48d22b3a3c97bf1d5f", "confidence": "high"}],
               "page_info": info, "search_pool": {"index_id": "666599d4e6fb7df29de0f89c", "total_count": 1, "total_duration": 159}})
    };
    let first = server
        .mock_async(|when, then| {
            when.method(POST).path("/v1.2/search/combined");
            then.status(200).json_body(page(Some("t2")));
        })
        .await;
    let python_path = server
        .mock_async(|when, then| {
            when.method(GET).path("/v1.2/search/combined/t2");
            then.status(404)
                .json_body(json!({"code": "resource_not_exists", "message": "no route"}));
        })
        .await;
    let docs_path = server
        .mock_async(|when, then| {
            when.method(GET).path("/v1.2/combined-search/t2");
            then.status(200).json_body(page(None));
        })
        .await;
    let tl = twelvelabs::Client::builder()
        .api_key("tlk_TEST")
        .base_url(server.base_url())
        .build()
        .unwrap();
    let pages: Vec<_> = tl
        .search("666599d4e6fb7df29de0f89c")
        .combined(Query::or([Query::text("a"), Query::text("b")]))
        .combined_endpoint(true)
        .options([twelvelabs::SearchOption::Visual])
        .pages()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(pages.len(), 2);
    first.assert_calls_async(1).await;
    python_path.assert_calls_async(1).await;
    docs_path.assert_calls_async(1).await;
}
