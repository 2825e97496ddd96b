//! The first steps of the Twelve Labs tour with the blocking client: no async, no runtime of
//! your own. Create an index, upload a video, wait for it, list, search, summarise.
//!
//! ```sh
//! cargo run --example blocking --features blocking,testing            # against the built-in fake
//! TWELVE_LABS_API_KEY=tlk_... cargo run --example blocking --features blocking,testing clip.mp4
//! ```
//!
//! Without `TWELVE_LABS_API_KEY` it runs against the built-in fake and says so on its first line;
//! with it, against the real API (and a video path as the first argument is uploaded).

use std::process::ExitCode;

use twelvelabs::blocking::Client;
use twelvelabs::testing::FakeServer;
use twelvelabs::{EngineConfig, EngineOption, SearchOption};

fn main() -> ExitCode {
    let (tl, fake) = match std::env::var("TWELVE_LABS_API_KEY") {
        Ok(key) if !key.trim().is_empty() => match Client::from_env() {
            Ok(tl) => (tl, None),
            Err(e) => return fail(e),
        },
        _ => {
            let fake = match FakeServer::start_blocking() {
                Ok(f) => f,
                Err(e) => return fail(e),
            };
            println!(
                "No TWELVE_LABS_API_KEY: using the built-in fake Twelve Labs API at {}.",
                fake.base_url()
            );
            match fake.blocking_client() {
                Ok(tl) => (tl, Some(fake)),
                Err(e) => return fail(e),
            }
        }
    };
    let video = std::env::args().nth(1);
    let result = first_steps(&tl, video.as_deref());
    drop(fake);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(e),
    }
}

fn fail(e: twelvelabs::Error) -> ExitCode {
    eprintln!("FAILED: {e}");
    ExitCode::FAILURE
}

/// Index, upload, wait, list, search, summarise — each call returns its result.
pub fn first_steps(tl: &Client, video_path: Option<&str>) -> twelvelabs::Result<()> {
    use EngineOption::*;
    let index = tl
        .indexes()
        .create(format!("Blocking tour {}", std::process::id()))
        .engine(EngineConfig::new("marengo2.6").options([Visual, Conversation]))
        .engine(EngineConfig::new("pegasus1").options([Visual, Conversation]))
        .send()?;
    println!("Index created with ID: {index}");

    let upload = tl.tasks().create(&index);
    let created = match video_path {
        Some(path) => upload.video_file(path).send()?,
        None => upload
            .video_bytes(vec![0u8; 256 * 1024], "blocking-tour.mp4")
            .send()?,
    };
    println!("Created {created}");
    let ready = tl
        .tasks()
        .wait(&created.id)
        .on_update(|t| println!("  {t}"))
        .run()?;
    let video = ready.video_id().clone();
    println!("Ready: {ready}");

    println!("Videos of the index:");
    for v in tl.videos(&index).list().items() {
        println!("  {}", v?);
    }

    let hits = tl
        .search(&index)
        .query("a woman wearing makeup")
        .options([SearchOption::Visual])
        .send()?;
    println!("Search: {} clip(s)", hits.clips().count());
    for clip in hits.clips() {
        println!("  {clip}");
    }

    let summary = tl.generate().summary(&video).send()?;
    println!("Summary: {summary}");
    print!("Streamed:");
    for event in tl
        .generate()
        .text_stream(&video, "Describe the video in one line.")?
    {
        if let twelvelabs::api::generate::TextEvent::Text(t) = event? {
            print!("{t}");
        }
    }
    println!();
    Ok(())
}
