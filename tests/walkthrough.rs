//! The walkthrough example as an integration test: its own `tour` (the seed notebook, every step),
//! run against the fake. The example's code is included, not copied.
#![cfg(feature = "testing")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    dead_code
)]

#[path = "../examples/walkthrough.rs"]
mod walkthrough;

#[tokio::test]
async fn the_tour_runs_end_to_end_against_the_fake() {
    let fake = twelvelabs::testing::FakeServer::start().await.unwrap();
    let tl = fake.client().unwrap();
    if let Err((step, e)) = walkthrough::tour(&tl, None).await {
        panic!("the walkthrough failed to {step}: {e}");
    }
    // Every step talked to the server: index, upload, polls, 2 lists, 4 searches, 4 classifications,
    // gist, 6 summaries, 2 generations.
    assert!(
        fake.request_count() >= 21,
        "{} requests",
        fake.request_count()
    );
}

#[tokio::test]
async fn the_tour_uploads_a_local_file_when_given_one() {
    let fake = twelvelabs::testing::FakeServer::start().await.unwrap();
    let tl = fake.client().unwrap();
    let path = std::env::temp_dir().join(format!("tl-walk-{}.mp4", std::process::id()));
    std::fs::write(&path, vec![0u8; 64 * 1024]).unwrap();
    let result = walkthrough::tour(&tl, Some(path.display().to_string())).await;
    std::fs::remove_file(&path).unwrap();
    if let Err((step, e)) = result {
        panic!("the walkthrough failed to {step}: {e}");
    }
    let index = tl.indexes().list().send().await.unwrap().items.remove(0);
    let videos = tl.videos(index.id()).list().send().await.unwrap();
    assert_eq!(
        videos.items[0].raw().metadata.as_ref().unwrap().size,
        Some(64 * 1024)
    );
}
