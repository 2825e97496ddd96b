//! The Twelve Labs v1.2 tour notebook, end to end, in Rust.
//!
//! ```sh
//! cargo run --example walkthrough --features testing            # offline, against the built-in fake
//! TWELVE_LABS_API_KEY=tlk_... cargo run --example walkthrough --features testing [video.mp4]
//! ```
//!
//! Without `TWELVE_LABS_API_KEY` it starts `twelvelabs::testing::FakeServer` and says so on its first
//! line. With it, it talks to the real API (or to `TWELVELABS_BASE_URL` when set). A video path as
//! the first argument is uploaded; otherwise the tour's YouTube video is indexed. Any failed step
//! prints the typed error and exits non-zero.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt};
use twelvelabs::api::classify::Class;
use twelvelabs::api::generate::TextEvent;
use twelvelabs::testing::FakeServer;
use twelvelabs::{
    Addon, ClassifyOption, Client, ConversationOption, EngineConfig, EngineOption, GistType,
    SearchOption, SortBy, SortOption,
};

const BEAUTY: [&str; 8] = [
    "Makeup",
    "Skincare",
    "Cosmetic Products",
    "Doing Nails",
    "Doing Hair",
    "Eyeshadow",
    "Lipstick",
    "Blush",
];
const FASHION: [&str; 12] = [
    "Clothing",
    "Outfit",
    "Fashion Design",
    "Men's Fashion",
    "Women's Fashion",
    "Find Your Style",
    "Upcoming Fashion Trends",
    "Accessories",
    "Streetwear",
    "Jewelry",
    "Clothing Care",
    "Style Advice",
];
const COOK: [&str; 9] = [
    "Cooking Tutorial",
    "Cooking Utensils",
    "Baking Tutorials",
    "Recipes",
    "Restaurants",
    "Food",
    "Cooking Tips",
    "Cooking Techniques",
    "Healthy Cooking",
];
/// The tour's YouTube video (the notebook has `.mp4` glued to the end of this URL, a slip the
/// API forgives).
const YOUTUBE: &str = "https://www.youtube.com/watch?v=73_1biulkYk";

#[tokio::main]
async fn main() -> ExitCode {
    let started = Instant::now();
    let (tl, _fake) = match std::env::var("TWELVE_LABS_API_KEY") {
        Ok(key) if !key.trim().is_empty() => match Client::from_env() {
            Ok(tl) => {
                println!(
                    "Using the Twelve Labs API at {} (TWELVE_LABS_API_KEY is set).",
                    tl.config().base_url
                );
                (tl, None)
            }
            Err(e) => return fail("configure the client", e),
        },
        _ => {
            let fake = match FakeServer::start().await {
                Ok(f) => f,
                Err(e) => return fail("start the fake server", e),
            };
            println!(
                "No TWELVE_LABS_API_KEY: using the built-in fake Twelve Labs API at {}.",
                fake.base_url()
            );
            match fake.client() {
                Ok(tl) => (tl, Some(fake)),
                Err(e) => return fail("configure the client", e),
            }
        }
    };
    match tour(&tl, std::env::args().nth(1)).await {
        Ok(()) => {
            println!("\nDone in {:.1}s.", started.elapsed().as_secs_f64());
            ExitCode::SUCCESS
        }
        Err((step, e)) => fail(step, e),
    }
}

fn fail(step: &str, e: twelvelabs::Error) -> ExitCode {
    eprintln!("\nFAILED to {step}: {e}");
    eprintln!("  (typed error: {e:?})");
    ExitCode::FAILURE
}

/// A step's outcome: the failing step's name with the typed error.
pub type Step<T> = Result<T, (&'static str, twelvelabs::Error)>;

trait At<T> {
    fn at(self, step: &'static str) -> Step<T>;
}

impl<T> At<T> for twelvelabs::Result<T> {
    fn at(self, step: &'static str) -> Step<T> {
        self.map_err(|e| (step, e))
    }
}

fn heading(s: &str) {
    println!("\n== {s}");
}

/// The tour, step by step; `video_path` uploads a local file instead of the YouTube video.
pub async fn tour(tl: &Client, video_path: Option<String>) -> Step<()> {
    use EngineOption::*;
    heading("2.1 Create an index");
    let index = tl
        .indexes()
        .create("Content Creator Videos")
        .engine(EngineConfig::new("marengo2.6").options([Visual, Conversation, TextInVideo, Logo]))
        .engine(EngineConfig::new("pegasus1").options([Visual, Conversation]))
        .addon(Addon::Thumbnail)
        .send()
        .await
        .at("create the index")?;
    println!("Index created with ID: {index}");

    heading("2.2 Upload a video");
    let task = match video_path {
        Some(path) => {
            println!("Uploading {path}");
            tl.tasks()
                .create(&index)
                .video_file(&path)
                .on_progress(|sent, total| {
                    if sent == total {
                        println!("  uploaded {total} bytes");
                    }
                })
                .send()
                .await
                .at("upload the video")?
        }
        None => {
            println!("Indexing {YOUTUBE}");
            tl.tasks()
                .create_from_youtube(&index, YOUTUBE)
                .await
                .at("index the YouTube video")?
        }
    };
    println!("Created {task}");
    let waited = Instant::now();
    let ready = tl
        .tasks()
        .wait(&task.id)
        .max_wait(Duration::from_secs(3600))
        .on_update(|t| println!("  {t}"))
        .await
        .at("wait for indexing")?;
    let video = ready.video_id().clone();
    println!(
        "Time elapsed: {:.2}s; VIDEO ID: {video}",
        waited.elapsed().as_secs_f64()
    );

    heading("2.3 List indexes (page 1, 10 per page, oldest first)");
    let page = tl
        .indexes()
        .list()
        .page_limit(10)
        .sort_by(SortBy::CreatedAt)
        .sort_option(SortOption::Asc)
        .send()
        .await
        .at("list indexes")?;
    for i in &page.items {
        println!("  {i}");
    }

    heading("2.4 List the videos of the index");
    let videos: Vec<_> = tl
        .videos(&index)
        .list()
        .page_limit(50)
        .items()
        .try_collect()
        .await
        .at("list videos")?;
    for v in &videos {
        println!("  {v}");
    }

    heading("3 Search");
    for (title, query, option, semantic) in [
        (
            "3.1 Visual",
            "A woman wearing makeup",
            SearchOption::Visual,
            false,
        ),
        (
            "3.2 Conversation",
            "guy with red mask",
            SearchOption::Conversation,
            true,
        ),
        (
            "3.3 Text in video",
            "Libya",
            SearchOption::TextInVideo,
            false,
        ),
        ("3.4 Logo", "Subway", SearchOption::Logo, false),
    ] {
        let mut search = tl.search(&index).query(query).options([option]);
        if semantic {
            search = search.conversation_option(ConversationOption::Semantic);
        }
        let hits = search.send().await.at("search")?;
        println!("{title}: {query:?} -> {} result(s)", hits.clips().count());
        for clip in hits.clips() {
            match clip.matched_text() {
                Some(text) => println!("  {clip}  {text:?}"),
                None => println!("  {clip}"),
            }
        }
    }

    heading("4 Classify");
    use ClassifyOption as C;
    // (title, classes, options, include clips, detailed scores)
    type Run = (&'static str, Vec<Class>, Vec<ClassifyOption>, bool, bool);
    let runs: [Run; 4] = [
        (
            "BeautyTok",
            vec![Class::new("BeautyTok", BEAUTY)],
            vec![C::Visual, C::Conversation, C::TextInVideo],
            false,
            false,
        ),
        (
            "BeautyTok with clips",
            vec![Class::new("BeautyTok", BEAUTY)],
            vec![C::Visual, C::Conversation, C::TextInVideo],
            true,
            false,
        ),
        (
            "BeautyTok + FashionTok + CookTok",
            vec![
                Class::new("BeautyTok", BEAUTY),
                Class::new("FashionTok", FASHION),
                Class::new("CookTok", COOK),
            ],
            vec![C::Visual, C::Conversation, C::TextInVideo],
            false,
            false,
        ),
        (
            "with detailed scores",
            vec![
                Class::new("BeautyTok", BEAUTY),
                Class::new("FashionTok", FASHION),
                Class::new("CookTok", COOK),
            ],
            vec![C::Visual],
            false,
            true,
        ),
    ];
    for (title, classes, options, clips, detailed) in runs {
        let mut req = tl
            .classify()
            .index(&index)
            .options(options)
            .min_video_score(80.0)
            .min_duration_ratio(0.5);
        for c in classes {
            req = req.class_with(c);
        }
        let page = req
            .include_clips(clips)
            .show_detailed_score(detailed)
            .send()
            .await
            .at("classify")?;
        println!("{title}: {} video(s) classified", page.items.len());
        for v in &page.items {
            println!("  {v}");
        }
    }

    heading("5.1 Gist");
    use GistType::*;
    let gist = tl
        .generate()
        .gist(&video, [Title, Topic, Hashtag])
        .await
        .at("generate a gist")?;
    println!("{gist}");

    heading("5.2 Summaries, chapters and highlights");
    let summary = tl.generate().summary(&video).send().await.at("summarize")?;
    println!("Summary: {summary}");
    let summary = tl
        .generate()
        .summary(&video)
        .prompt("Generate a summary of this video for a fashion show, up to three sentences.")
        .send()
        .await
        .at("summarize with a prompt")?;
    println!("Summary (fashion show): {summary}");
    for (title, prompt) in [
        ("Chapters", None),
        (
            "Chapters (stressful)",
            Some("Generate chapters using stressful language."),
        ),
    ] {
        let mut req = tl.generate().chapters(&video);
        if let Some(p) = prompt {
            req = req.prompt(p);
        }
        println!("{title}:");
        for c in req.send().await.at("generate chapters")? {
            println!("  {c}");
        }
    }
    for (title, prompt) in [
        ("Highlights", None),
        (
            "Highlights (most confusing)",
            Some("Generate highlights that showcase the most confusing parts of the video."),
        ),
    ] {
        let mut req = tl.generate().highlights(&video);
        if let Some(p) = prompt {
            req = req.prompt(p);
        }
        println!("{title}:");
        for h in req.send().await.at("generate highlights")? {
            println!("  {h}");
        }
    }

    heading("5.3 Open-ended text");
    let post = tl
        .generate()
        .text(
            &video,
            "Write an Instagram post about women's fashion choice based on this video.",
        )
        .send()
        .await
        .at("generate text")?;
    println!("Instagram post: {post}");
    println!("Rap song (streamed):");
    let mut stream = tl
        .generate()
        .text_stream(&video, "Write a rap song based on this video.")
        .await
        .at("start the text stream")?;
    print!("  ");
    while let Some(event) = stream.next().await {
        if let TextEvent::Text(t) = event.at("stream text")? {
            print!("{t}");
        }
    }
    println!();
    Ok(())
}
