//! The blocking client from plain `fn`s (no `#[tokio::test]`): the same handles and builders,
//! results returned directly, pages and text as iterators, waits that block; and a clear refusal
//! inside an async runtime.
#![cfg(all(feature = "blocking", feature = "testing"))]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    dead_code
)]

use std::time::Duration;

use twelvelabs::testing::{FakeServer, Segment, VideoData};
use twelvelabs::{EngineConfig, EngineOption, Error, SearchOption};

#[path = "../examples/blocking.rs"]
mod example;

#[test]
fn the_blocking_example_runs_against_the_fake_from_a_plain_fn() {
    let fake = FakeServer::start_blocking().unwrap();
    let tl = fake.blocking_client().unwrap();
    example::first_steps(&tl, None).unwrap();
    // Index, upload, at least one poll, a list, a search, a summary, a stream.
    assert!(fake.request_count() >= 7, "{}", fake.request_count());
}

#[test]
fn calls_pages_waits_and_streams_block_and_return_results() {
    let fake = FakeServer::builder()
        .indexing_time(Duration::from_millis(200))
        .start_blocking()
        .unwrap();
    let tl = fake.blocking_client().unwrap();
    let index = tl
        .indexes()
        .create("blocking")
        .engine(EngineConfig::new("marengo2.6").options([EngineOption::Visual]))
        .engine(EngineConfig::new("pegasus1").options([EngineOption::Visual]))
        .send()
        .unwrap();
    let mut videos = Vec::new();
    for i in 0..3 {
        let created = tl
            .tasks()
            .create(&index)
            .video_bytes(vec![1u8; 1000], format!("v{i}.mp4"))
            .send()
            .unwrap();
        let ready = tl.tasks().wait(&created.id).run().unwrap();
        videos.push(ready.video_id().clone());
    }
    // Updates as an iterator: ends with the ready state.
    let created = tl
        .tasks()
        .create(&index)
        .video_bytes(vec![1u8; 1000], "v3.mp4")
        .send()
        .unwrap();
    let states: Vec<_> = tl
        .tasks()
        .wait(&created.id)
        .updates()
        .map(|t| t.unwrap().status().to_string())
        .collect();
    assert_eq!(
        states.last().map(String::as_str),
        Some("ready"),
        "{states:?}"
    );

    // Pages and items as iterators, one request per page.
    let before = fake.request_count();
    let listed: Vec<_> = tl
        .videos(&index)
        .list()
        .page_limit(1)
        .items()
        .map(|v| v.unwrap().id().clone())
        .collect();
    assert_eq!(listed.len(), 4);
    assert_eq!(fake.request_count() - before, 4, "one request per page");
    let pages = tl.videos(&index).list().page_limit(2).pages().count();
    assert_eq!(pages, 2);

    fake.attach(
        &videos[0],
        VideoData {
            visual: vec![Segment::new(0.0, 10.0, "a chef cooking pasta")],
            ..VideoData::default()
        },
    )
    .unwrap();
    let hits = tl
        .search(&index)
        .query("cooking pasta")
        .options([SearchOption::Visual])
        .send()
        .unwrap();
    assert_eq!(hits.clips().count(), 1);
    assert_eq!(hits.clips().next().unwrap().video_id(), &videos[0]);

    let text: String = tl
        .generate()
        .text_stream(&videos[0], "Describe it.")
        .unwrap()
        .filter_map(|e| match e.unwrap() {
            twelvelabs::api::generate::TextEvent::Text(t) => Some(t),
            _ => None,
        })
        .collect();
    assert!(!text.is_empty());
    let whole = tl
        .generate()
        .text(&videos[0], "Describe it.")
        .send()
        .unwrap();
    assert_eq!(text, whole, "streamed and whole text agree");
}

#[test]
fn errors_are_typed_and_end_an_iteration() {
    let fake = FakeServer::start_blocking().unwrap();
    let tl = fake.blocking_client().unwrap();
    let e = tl.indexes().get("000000000000000000000000").unwrap_err();
    assert_eq!(e.status().map(|s| s.as_u16()), Some(404), "{e}");
    // Invalid settings are the first (and only) item.
    let items: Vec<_> = tl.indexes().list().page_limit(0).items().collect();
    assert_eq!(items.len(), 1);
    assert!(matches!(&items[0], Err(Error::InvalidInput { field, .. }) if field == "page_limit"));
}

#[test]
fn the_blocking_client_refuses_to_run_inside_an_async_runtime() {
    let fake = FakeServer::start_blocking().unwrap();
    let tl = fake.blocking_client().unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let e = tl.indexes().list().send().unwrap_err();
        assert!(
            matches!(&e, Error::Config { reason: m, .. } if m.contains("inside an async runtime")),
            "{e:?}"
        );
        // An iterator yields the refusal once, then ends.
        let mut items = tl.indexes().list().items();
        assert!(matches!(items.next(), Some(Err(Error::Config { .. }))));
        assert!(items.next().is_none());
        // Starting a blocking fake is refused too; dropping a blocking client here is fine.
        assert!(matches!(
            FakeServer::start_blocking(),
            Err(Error::Config { .. })
        ));
        drop(tl.clone());
    });
    // And outside it the same client works.
    assert!(tl.indexes().list().send().is_ok());
    // Dropping the last clone of a blocking client (and its runtime) inside a runtime does not
    // panic either.
    rt.block_on(async move { drop(tl) });
}
