//! The `twelvelabs` binary, run as a user runs it, against the fake API (in this process, or
//! `twelvelabs fake serve` as a child).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use futures::TryStreamExt;
use serde_json::Value;
use sha2::Digest;
use tokio::io::{AsyncBufReadExt, BufReader};
use twelvelabs::ingest::{EntryState, Manifest};
use twelvelabs::testing::{FakeServer, Fault, Segment, VideoData};

const BIN: &str = env!("CARGO_BIN_EXE_twelvelabs");

/// Fast polling, so tests do not wait the real defaults.
const FAST: [&str; 4] = ["--poll-min", "0.05", "--poll-max", "0.2"];

fn root(fake: &FakeServer) -> String {
    fake.base_url().trim_end_matches("/v1.2").to_owned()
}

/// The binary with the fake's URL and key, in `dir`, with no colour or log settings inherited.
fn cmd(fake: &FakeServer, dir: &Path) -> tokio::process::Command {
    let mut c = tokio::process::Command::new(BIN);
    c.current_dir(dir)
        .env("TWELVELABS_BASE_URL", root(fake))
        .env("TWELVE_LABS_API_KEY", fake.api_key())
        .env_remove("TWELVE_LABS_API_KEY_FILE")
        .env_remove("NO_COLOR")
        .env_remove("TWELVELABS_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    c
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

async fn run(mut c: tokio::process::Command, args: &[&str]) -> Run {
    let out = tokio::time::timeout(Duration::from_secs(60), c.args(args).output())
        .await
        .expect("the binary finished within 60 s")
        .expect("the binary runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

impl Run {
    fn jsonl(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
            .collect()
    }
    fn events(&self, kind: &str) -> Vec<Value> {
        self.jsonl()
            .into_iter()
            .filter(|e| e["event"] == kind)
            .collect()
    }
    fn summary(&self) -> Value {
        self.events("summary")
            .pop()
            .unwrap_or_else(|| panic!("no summary in {}\n{}", self.stdout, self.stderr))
    }
    fn assert_code(&self, code: i32) {
        assert_eq!(
            self.code, code,
            "exit code\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
    }
}

/// `n` distinct videos of `size` bytes, every fifth in a sub-folder.
fn videos(dir: &Path, n: usize, size: usize) -> Vec<PathBuf> {
    std::fs::create_dir_all(dir.join("more")).unwrap();
    (0..n)
        .map(|i| {
            let path = if i % 5 == 4 {
                dir.join("more").join(format!("clip{i:02}.mp4"))
            } else {
                dir.join(format!("clip{i:02}.mp4"))
            };
            let data: Vec<u8> = (0..size).map(|j| ((i * 31 + j * 7) % 251) as u8).collect();
            std::fs::write(&path, data).unwrap();
            path
        })
        .collect()
}

/// A manifest's entries by content hash.
fn entries_of(path: &Path) -> std::collections::HashMap<String, twelvelabs::ingest::ManifestEntry> {
    Manifest::open(path)
        .unwrap()
        .expect("a manifest")
        .entries()
        .unwrap()
        .into_iter()
        .collect()
}

fn sha256(path: &Path) -> String {
    let d = sha2::Sha256::digest(std::fs::read(path).unwrap());
    d.iter().map(|b| format!("{b:02x}")).collect()
}

async fn index_named(fake: &FakeServer, name: &str) -> String {
    let tl = fake.client().unwrap();
    tl.indexes()
        .create(name)
        .engine(twelvelabs::EngineConfig::new("marengo2.6").options([
            twelvelabs::EngineOption::Visual,
            twelvelabs::EngineOption::Conversation,
        ]))
        .engine(twelvelabs::EngineConfig::new("pegasus1").options([
            twelvelabs::EngineOption::Visual,
            twelvelabs::EngineOption::Conversation,
        ]))
        .send()
        .await
        .unwrap()
        .to_string()
}

async fn tasks_of(fake: &FakeServer, index: &str) -> Vec<twelvelabs::Task> {
    let tl = fake.client().unwrap();
    tl.tasks()
        .list()
        .index(index)
        .page_limit(50)
        .items()
        .try_collect()
        .await
        .unwrap()
}

async fn videos_of(fake: &FakeServer, index: &str) -> Vec<twelvelabs::Video> {
    let tl = fake.client().unwrap();
    tl.videos(index)
        .list()
        .page_limit(50)
        .items()
        .try_collect()
        .await
        .unwrap()
}

fn hash_on(v: &twelvelabs::Video) -> Option<String> {
    v.custom("content_sha256")
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// Every distinct file is in the index exactly once, carrying its hash.
async fn assert_each_once(fake: &FakeServer, index: &str, files: &[PathBuf]) {
    let want: HashSet<String> = files.iter().map(|f| sha256(f)).collect();
    let videos = videos_of(fake, index).await;
    let mut seen = BTreeMap::new();
    for v in &videos {
        let h = hash_on(v).unwrap_or_else(|| panic!("video {} has no content hash", v.id()));
        *seen.entry(h).or_insert(0) += 1;
    }
    assert!(
        seen.values().all(|n| *n == 1),
        "content indexed twice: {seen:?}"
    );
    assert_eq!(seen.keys().cloned().collect::<HashSet<_>>(), want);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingest_20_files_at_concurrency_4_then_a_rerun_sends_nothing() {
    let fake = FakeServer::start().await.unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let files = videos(&tmp.path().join("library"), 20, 48 * 1024);

    let first = run(
        cmd(&fake, tmp.path()),
        &[
            &[
                "ingest",
                "library",
                "--index",
                "Library",
                "--create-index",
                "--concurrency",
                "4",
                "--jsonl",
            ][..],
            &FAST,
        ]
        .concat(),
    )
    .await;
    first.assert_code(0);
    let s = first.summary();
    assert_eq!(
        (
            s["files"].as_u64(),
            s["ready"].as_u64(),
            s["uploaded"].as_u64()
        ),
        (Some(20), Some(20), Some(20))
    );
    assert_eq!(s["failed"], 0);
    // Never more than 4 uploads in flight.
    let (mut in_flight, mut peak) = (0i32, 0i32);
    for e in first.jsonl() {
        match e["event"].as_str() {
            Some("upload_started") => in_flight += 1,
            Some("task_created" | "failed") => in_flight -= 1,
            _ => {}
        }
        peak = peak.max(in_flight);
    }
    assert!((1..=4).contains(&peak), "peak uploads in flight: {peak}");

    // The index was created by name; the manifest maps every hash to its task and video.
    let tl = fake.client().unwrap();
    let index = tl
        .indexes()
        .list()
        .page_limit(50)
        .send()
        .await
        .unwrap()
        .items;
    assert_eq!(index.len(), 1);
    let index = index[0].id().to_string();
    let manifest_path = tmp.path().join(format!("twelvelabs-ingest-{index}.db"));
    let manifest = Manifest::open(&manifest_path).unwrap().expect("a manifest");
    assert_eq!(manifest.index_id().as_str(), index);
    let entries = entries_of(&manifest_path);
    assert_eq!(entries.len(), 20);
    let tasks = tasks_of(&fake, &index).await;
    assert_eq!(tasks.len(), 20);
    for f in &files {
        let e = &entries[&sha256(f)];
        assert_eq!(e.state, EntryState::Ready);
        assert!(e.tagged);
        let task = tasks
            .iter()
            .find(|t| Some(t.id().as_str()) == e.task_id.as_ref().map(|t| t.as_str()))
            .expect("the task exists");
        assert_eq!(
            task.video_id().map(|v| v.as_str()),
            e.video_id.as_ref().map(|v| v.as_str())
        );
    }
    assert_each_once(&fake, &index, &files).await;

    // Again: nothing is uploaded, everything is found in the manifest.
    let before = fake.request_count();
    let again = run(
        cmd(&fake, tmp.path()),
        &[
            &["ingest", "library", "--index", "Library", "--jsonl"][..],
            &FAST,
        ]
        .concat(),
    )
    .await;
    again.assert_code(0);
    assert!(again.events("upload_started").is_empty());
    let already = again.events("already_ready");
    assert_eq!(already.len(), 20);
    assert!(already.iter().all(|e| e["found_in"] == "manifest"));
    assert_eq!(tasks_of(&fake, &index).await.len(), 20, "no new task");
    // Resolving the index by name and checking it: a handful of requests, none per file.
    assert!(
        fake.request_count() - before <= 3,
        "{} requests",
        fake.request_count() - before
    );
    // The quick check: nothing was read (same path, size, modification time and inode).
    let s = again.summary();
    assert_eq!(
        (s["files_hashed"].as_u64(), s["bytes_hashed"].as_u64()),
        (Some(0), Some(0))
    );
    assert!(
        again
            .events("checked")
            .iter()
            .all(|e| e["unchanged"] == true)
    );

    // --rehash reads everything again; a file rewritten (new modification time) is read again
    // alone; neither uploads anything.
    let rehash = run(
        cmd(&fake, tmp.path()),
        &[
            &[
                "ingest", "library", "--index", "Library", "--rehash", "--jsonl",
            ][..],
            &FAST,
        ]
        .concat(),
    )
    .await;
    rehash.assert_code(0);
    let s = rehash.summary();
    assert_eq!(s["files_hashed"], 20);
    assert_eq!(s["bytes_hashed"], 20 * 48 * 1024);
    std::thread::sleep(Duration::from_millis(20));
    let same = std::fs::read(&files[3]).unwrap();
    std::fs::write(&files[3], &same).unwrap();
    let touched = run(
        cmd(&fake, tmp.path()),
        &[
            &["ingest", "library", "--index", "Library", "--jsonl"][..],
            &FAST,
        ]
        .concat(),
    )
    .await;
    touched.assert_code(0);
    assert_eq!(touched.summary()["files_hashed"], 1);
    assert!(touched.events("upload_started").is_empty());
    assert_eq!(tasks_of(&fake, &index).await.len(), 20, "no new task");

    // Without the manifest (another machine): the index itself says what it holds.
    let elsewhere = run(
        cmd(&fake, tmp.path()),
        &[
            &[
                "ingest",
                "library",
                "--index",
                &index,
                "--no-manifest",
                "--jsonl",
            ][..],
            &FAST,
        ]
        .concat(),
    )
    .await;
    elsewhere.assert_code(0);
    assert!(elsewhere.events("upload_started").is_empty());
    let found = elsewhere.events("already_ready");
    assert_eq!(found.len(), 20);
    assert!(found.iter().all(|e| e["found_in"] == "index"));
    assert_eq!(tasks_of(&fake, &index).await.len(), 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_ingest_resumes_without_uploading_anything_twice() {
    let fake = FakeServer::builder()
        .indexing_time(Duration::from_secs(3))
        .start()
        .await
        .unwrap();
    let index = index_named(&fake, "resume").await;
    let tmp = tempfile::tempdir().unwrap();
    let files = videos(&tmp.path().join("v"), 12, 256 * 1024);
    // Slow uploads, so the kill lands with some tasks created and others on their way.
    fake.inject(
        Fault::slow(Duration::from_millis(150))
            .times(1000)
            .path("/tasks"),
    );

    let mut child = cmd(&fake, tmp.path())
        .args(
            [
                &["ingest", "v", "--index", &index, "-j", "3", "--jsonl"][..],
                &FAST,
            ]
            .concat(),
        )
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut created = 0;
    while let Some(line) = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .expect("events keep coming")
        .unwrap()
    {
        let e: Value = serde_json::from_str(&line).unwrap();
        if e["event"] == "task_created" {
            created += 1;
            if created == 4 {
                break;
            }
        }
    }
    assert_eq!(created, 4);
    child.start_kill().unwrap(); // SIGKILL: no chance to clean up
    child.wait().await.unwrap();

    // Whatever instant the kill hit, the manifest is whole and records the tasks created.
    let manifest_path = tmp.path().join(format!("twelvelabs-ingest-{index}.db"));
    let m = entries_of(&manifest_path);
    let recorded: Vec<_> = m.values().filter_map(|e| e.task_id.clone()).collect();
    assert!(recorded.len() >= 4, "{} tasks recorded", recorded.len());
    assert!(
        m.values()
            .all(|e| e.state != EntryState::Ready || e.video_id.is_some())
    );
    let tasks_at_kill = tasks_of(&fake, &index).await.len();
    assert!(tasks_at_kill < files.len(), "the kill came before the end");

    let resumed = run(
        cmd(&fake, tmp.path()),
        &[
            &["ingest", "v", "--index", &index, "-j", "3", "--jsonl"][..],
            &FAST,
        ]
        .concat(),
    )
    .await;
    resumed.assert_code(0);
    let s = resumed.summary();
    assert_eq!(s["files"], 12);
    assert_eq!(
        s["ready"].as_u64().unwrap() + s["already_ready"].as_u64().unwrap(),
        12
    );
    // Tasks of the first run are waited on, not uploaded again.
    let resumed_tasks: HashSet<String> = resumed
        .events("resumed")
        .iter()
        .map(|e| e["task_id"].as_str().unwrap().to_owned())
        .collect();
    for t in &recorded {
        let e = m.values().find(|e| e.task_id.as_ref() == Some(t)).unwrap();
        if e.state == EntryState::Indexing {
            assert!(
                resumed_tasks.contains(t.as_str()),
                "task {t} was not resumed"
            );
        }
    }
    assert_eq!(
        tasks_of(&fake, &index).await.len(),
        12,
        "one task per file, no duplicate upload"
    );
    assert_each_once(&fake, &index, &files).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_stops_new_uploads_and_says_how_to_resume() {
    let fake = FakeServer::builder()
        .indexing_time(Duration::from_secs(2))
        .start()
        .await
        .unwrap();
    let index = index_named(&fake, "interrupt").await;
    let tmp = tempfile::tempdir().unwrap();
    let files = videos(&tmp.path().join("v"), 10, 64 * 1024);
    fake.inject(
        Fault::slow(Duration::from_millis(200))
            .times(1000)
            .path("/tasks"),
    );

    let mut child = cmd(&fake, tmp.path())
        .args(
            [
                &["ingest", "v", "--index", &index, "-j", "2", "--jsonl"][..],
                &FAST,
            ]
            .concat(),
        )
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut events = Vec::new();
    while let Some(line) = lines.next_line().await.unwrap() {
        let e: Value = serde_json::from_str(&line).unwrap();
        let first_task = e["event"] == "task_created";
        events.push(e);
        if first_task {
            break;
        }
    }
    let pid = child.id().unwrap().to_string();
    let sent = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap();
    assert!(sent.success());
    while let Some(line) = lines.next_line().await.unwrap() {
        events.push(serde_json::from_str(&line).unwrap());
    }
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .unwrap()
        .unwrap();
    let mut stderr = String::new();
    tokio::io::AsyncReadExt::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr)
        .await
        .unwrap();
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert!(events.iter().any(|e| e["event"] == "stopping"));
    let summary = events
        .iter()
        .find(|e| e["event"] == "summary")
        .expect("a summary");
    assert_eq!(summary["stopped"], true);
    assert!(summary["not_started"].as_u64().unwrap() > 0, "{summary}");
    assert!(
        stderr.contains("Run the same command again to resume"),
        "{stderr}"
    );
    // Uploads in flight were allowed to finish: every task the API created is in the manifest.
    let m = entries_of(&tmp.path().join(format!("twelvelabs-ingest-{index}.db")));
    let recorded: HashSet<String> = m
        .values()
        .filter_map(|e| e.task_id.as_ref().map(|t| t.to_string()))
        .collect();
    for t in tasks_of(&fake, &index).await {
        assert!(
            recorded.contains(t.id().as_str()),
            "task {} missing from the manifest",
            t.id()
        );
    }

    let resumed = run(
        cmd(&fake, tmp.path()),
        &[&["ingest", "v", "--index", &index, "--jsonl"][..], &FAST].concat(),
    )
    .await;
    resumed.assert_code(0);
    assert_eq!(tasks_of(&fake, &index).await.len(), 10);
    assert_each_once(&fake, &index, &files).await;
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_files_fail_alone_and_only_failures_are_retried() {
    let fake = FakeServer::builder()
        .fail_tasks_matching("broken")
        .start()
        .await
        .unwrap();
    let index = index_named(&fake, "mixed").await;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("v");
    let good = videos(&dir, 3, 10_000);
    std::fs::write(dir.join("broken.mp4"), b"not really a video").unwrap();
    std::fs::write(dir.join("empty.mp4"), b"").unwrap();
    std::fs::write(dir.join("notes.txt"), b"left alone").unwrap();
    std::fs::write(dir.join(".hidden.mp4"), b"hidden").unwrap();
    std::fs::copy(&good[0], dir.join("same-content.mp4")).unwrap();
    std::os::unix::fs::symlink(dir.join("nowhere.mp4"), dir.join("dangling.mp4")).unwrap();
    std::os::unix::fs::symlink(&good[1], dir.join("link.mp4")).unwrap(); // the same file again
    std::os::unix::fs::symlink(&dir, dir.join("more").join("loop")).unwrap(); // a folder loop
    let fifo = dir.join("pipe.mp4");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );

    let r = run(
        cmd(&fake, tmp.path()),
        &[
            &["ingest", "v", "missing.mp4", "--index", "mixed", "--json"][..],
            &FAST,
        ]
        .concat(),
    )
    .await;
    r.assert_code(4);
    let doc: Value = serde_json::from_str(&r.stdout).unwrap();
    let s = &doc["summary"];
    assert_eq!(s["ready"], 3, "{doc:#}");
    assert_eq!(s["failed"], 1);
    assert_eq!(s["duplicates"], 1);
    assert_eq!(s["rejected"], 4); // missing, empty, dangling, pipe
    let reason = |name: &str| -> String {
        doc["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["source"].as_str().unwrap().ends_with(name))
            .unwrap_or_else(|| panic!("no item {name}: {doc:#}"))["reason"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    assert!(reason("missing.mp4").contains("does not exist"));
    assert!(reason("empty.mp4").contains("empty"));
    assert!(reason("dangling.mp4").contains("broken symbolic link"));
    assert!(reason("pipe.mp4").contains("not a regular file"));
    assert!(reason("broken.mp4").contains("indexing failed"));
    assert!(reason("same-content.mp4").contains("same content as"));
    // Each failure is named on stderr too.
    assert!(
        r.stderr.contains("broken.mp4") && r.stderr.contains("pipe.mp4"),
        "{}",
        r.stderr
    );
    assert_eq!(tasks_of(&fake, &index).await.len(), 4);

    // A re-run sends the failed file again, and only it.
    let again = run(
        cmd(&fake, tmp.path()),
        &[&["ingest", "v", "--index", "mixed", "--jsonl"][..], &FAST].concat(),
    )
    .await;
    again.assert_code(4);
    let uploads: Vec<String> = again
        .events("upload_started")
        .iter()
        .map(|e| e["source"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(uploads.len(), 1, "{uploads:?}");
    assert!(uploads[0].ends_with("broken.mp4"));
    assert_eq!(tasks_of(&fake, &index).await.len(), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupt_or_foreign_manifest_is_a_clear_error_and_is_never_overwritten() {
    let fake = FakeServer::start().await.unwrap();
    let a = index_named(&fake, "a").await;
    let b = index_named(&fake, "b").await;
    let tmp = tempfile::tempdir().unwrap();
    videos(&tmp.path().join("v"), 2, 1000);

    let corrupt = tmp.path().join("corrupt.json");
    std::fs::write(&corrupt, b"{\"version\": 1, \"index_id\": ").unwrap();
    let r = run(
        cmd(&fake, tmp.path()),
        &["ingest", "v", "--index", &a, "--manifest", "corrupt.json"],
    )
    .await;
    r.assert_code(1);
    assert!(
        r.stderr
            .starts_with("error: the manifest corrupt.json cannot be read"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("hint: to start over"));
    assert_eq!(
        r.stderr.lines().count(),
        2,
        "one line and a hint: {}",
        r.stderr
    );
    assert_eq!(
        std::fs::read(&corrupt).unwrap(),
        b"{\"version\": 1, \"index_id\": "
    );

    // A manifest of index a, used for index b.
    let ok = run(
        cmd(&fake, tmp.path()),
        &[
            &["ingest", "v", "--index", &a, "--manifest", "m.json"][..],
            &FAST,
        ]
        .concat(),
    )
    .await;
    ok.assert_code(0);
    let before = std::fs::read(tmp.path().join("m.json")).unwrap();
    let r = run(
        cmd(&fake, tmp.path()),
        &["ingest", "v", "--index", &b, "--manifest", "m.json"],
    )
    .await;
    r.assert_code(2);
    assert!(
        r.stderr.contains(&format!("belongs to index {a}, not {b}")),
        "{}",
        r.stderr
    );
    assert_eq!(std::fs::read(tmp.path().join("m.json")).unwrap(), before);
    assert!(
        tasks_of(&fake, &b).await.is_empty(),
        "nothing was sent to b"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_generate_and_the_other_commands_print_tables_text_and_json() {
    let fake = FakeServer::start().await.unwrap();
    let index = index_named(&fake, "tour").await;
    let tmp = tempfile::tempdir().unwrap();
    videos(&tmp.path().join("v"), 2, 1000);
    let r = run(
        cmd(&fake, tmp.path()),
        &[&["ingest", "v", "--index", "tour", "--json"][..], &FAST].concat(),
    )
    .await;
    r.assert_code(0);
    let doc: Value = serde_json::from_str(&r.stdout).unwrap();
    let video = doc["items"][0]["video_id"].as_str().unwrap().to_owned();
    fake.attach(
        &video,
        VideoData {
            visual: vec![Segment::new(
                65.0,
                72.5,
                "a chef cooking pasta in a small kitchen",
            )],
            conversation: vec![Segment::new(0.0, 30.0, "today we cook pasta together")],
            duration: 90.0,
            ..VideoData::default()
        },
    )
    .unwrap();

    // Search: a table with the clip's time as mm:ss.
    let s = run(
        cmd(&fake, tmp.path()),
        &[
            "search",
            "cooking pasta",
            "--index",
            "tour",
            "--options",
            "visual",
        ],
    )
    .await;
    s.assert_code(0);
    let mut lines = s.stdout.lines();
    let header = lines.next().unwrap();
    assert!(
        header.starts_with("VIDEO")
            && header.contains("TIME")
            && header.contains("CONFIDENCE")
            && header.contains("SCORE"),
        "{header}"
    );
    let row = lines.next().expect("one clip");
    assert!(
        row.starts_with(&video) && row.contains("1:05–1:12"),
        "{row}"
    );
    // The same as JSON.
    let s = run(
        cmd(&fake, tmp.path()),
        &["search", "cooking pasta", "--index", &index, "--json"],
    )
    .await;
    s.assert_code(0);
    let clips: Value = serde_json::from_str(&s.stdout).unwrap();
    assert_eq!(clips[0]["video_id"], video.as_str());
    assert_eq!(clips[0]["start"], 65.0);

    // Generate: the text on stdout; JSON lines per piece.
    let g = run(
        cmd(&fake, tmp.path()),
        &["generate", &video, "Write a rap song based on this video."],
    )
    .await;
    g.assert_code(0);
    assert!(g.stdout.trim().len() > 20, "{}", g.stdout);
    assert!(g.stdout.ends_with('\n'));
    let g = run(
        cmd(&fake, tmp.path()),
        &["generate", &video, "Describe it.", "--jsonl"],
    )
    .await;
    g.assert_code(0);
    assert!(!g.jsonl().is_empty() && g.jsonl().iter().all(|l| l["text"].is_string()));

    // Every other command's JSON parses, and its table has the expected header.
    for (args, header) in [
        (vec!["gist", video.as_str()], "Title"),
        (vec!["summary", video.as_str()], ""),
        (vec!["chapters", video.as_str()], "#"),
        (vec!["highlights", video.as_str()], "TIME"),
        (
            vec![
                "classify",
                "--index",
                "tour",
                "--class",
                "Food=cooking,pasta",
                "--min-duration-ratio",
                "0.05",
            ],
            "VIDEO",
        ),
        (vec!["index", "list"], "ID"),
        (vec!["videos", "list", "--index", "tour"], "ID"),
        (vec!["tasks", "list", "--index", "tour"], "ID"),
        (vec!["embed", "text", "a red mask"], ""),
    ] {
        let human = run(cmd(&fake, tmp.path()), &args).await;
        human.assert_code(0);
        assert!(
            human.stdout.starts_with(header) && !human.stdout.trim().is_empty(),
            "{args:?}: {}",
            human.stdout
        );
        let json = run(cmd(&fake, tmp.path()), &[&args[..], &["--json"]].concat()).await;
        json.assert_code(0);
        let v: Value = serde_json::from_str(&json.stdout)
            .unwrap_or_else(|e| panic!("{args:?}: {e}: {}", json.stdout));
        assert!(!v.is_null());
    }

    // tasks wait: every task ready.
    let tasks = tasks_of(&fake, &index).await;
    let w = run(
        cmd(&fake, tmp.path()),
        &[
            "tasks",
            "wait",
            tasks[0].id().as_str(),
            tasks[1].id().as_str(),
            "--jsonl",
        ],
    )
    .await;
    w.assert_code(0);
    assert_eq!(w.jsonl().len(), 2);
    assert!(w.jsonl().iter().all(|t| t["status"] == "ready"));

    // index create / rename / delete.
    let c = run(
        cmd(&fake, tmp.path()),
        &[
            "index",
            "create",
            "scratch",
            "--engine",
            "marengo2.6=visual",
        ],
    )
    .await;
    c.assert_code(0);
    let id = c.stdout.trim().to_owned();
    run(
        cmd(&fake, tmp.path()),
        &["index", "rename", "scratch", "renamed"],
    )
    .await
    .assert_code(0);
    let d = run(cmd(&fake, tmp.path()), &["index", "delete", "renamed"]).await;
    d.assert_code(2);
    assert!(d.stderr.contains("--yes"));
    run(cmd(&fake, tmp.path()), &["index", "delete", &id, "--yes"])
        .await
        .assert_code(0);
    let l = run(cmd(&fake, tmp.path()), &["index", "list", "--jsonl"]).await;
    assert_eq!(l.jsonl().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn output_off_a_terminal_has_no_escape_codes() {
    let fake = FakeServer::builder()
        .fail_tasks_matching("clip01")
        .start()
        .await
        .unwrap();
    index_named(&fake, "plain").await;
    let tmp = tempfile::tempdir().unwrap();
    videos(&tmp.path().join("v"), 3, 5000);
    // A file name carrying an escape sequence is printed with it blanked.
    std::fs::write(tmp.path().join("v").join("evil\u{1b}[2Jname.mp4"), b"data").unwrap();
    let ingest = [&["ingest", "v", "--index", "plain", "-v"][..], &FAST].concat();
    for args in [
        &ingest[..],
        &["search", "chef", "--index", "plain"],
        &["index", "list"],
        &["videos", "list", "--index", "nope"],
        &["ingest", "status"],
    ] {
        let r = run(cmd(&fake, tmp.path()), args).await;
        assert!(
            !r.stdout.contains('\u{1b}'),
            "{args:?} stdout: {:?}",
            r.stdout
        );
        assert!(
            !r.stderr.contains('\u{1b}'),
            "{args:?} stderr: {:?}",
            r.stderr
        );
        if args[0] == "ingest" && args[1] != "status" {
            r.assert_code(4);
            assert!(
                r.stderr.contains("✗ v/clip01.mp4: indexing failed"),
                "{}",
                r.stderr
            );
            // No per-file table at the end of a run: the counts, and where the table is.
            assert!(r.stdout.is_empty(), "{}", r.stdout);
            assert!(
                r.stderr.contains("twelvelabs ingest status --manifest"),
                "{}",
                r.stderr
            );
        }
        if args[..2] == ["ingest", "status"] {
            r.assert_code(0);
            assert!(r.stdout.starts_with("FILE"), "{}", r.stdout);
            assert!(r.stdout.contains("evil [2Jname.mp4"), "{}", r.stdout);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_are_one_line_with_a_hint_and_a_documented_exit_code() {
    let fake = FakeServer::start().await.unwrap();
    let tmp = tempfile::tempdir().unwrap();

    let mut no_key = cmd(&fake, tmp.path());
    no_key.env_remove("TWELVE_LABS_API_KEY");
    let r = run(no_key, &["index", "list"]).await;
    r.assert_code(3);
    assert_eq!(r.stderr.lines().collect::<Vec<_>>()[0], "error: no API key");
    assert!(
        r.stderr
            .lines()
            .nth(1)
            .unwrap()
            .starts_with("hint: set TWELVE_LABS_API_KEY")
    );

    let mut bad_key = cmd(&fake, tmp.path());
    bad_key.env("TWELVE_LABS_API_KEY", "tlk_wrong");
    let r = run(bad_key, &["index", "list"]).await;
    r.assert_code(3);
    assert!(
        r.stderr.contains("hint: the API refused the key"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("tlk_wrong"), "the key is never printed");

    // The key from a file.
    std::fs::write(tmp.path().join("key"), format!("{}\n", fake.api_key())).unwrap();
    let mut from_file = cmd(&fake, tmp.path());
    from_file
        .env_remove("TWELVE_LABS_API_KEY")
        .env("TWELVE_LABS_API_KEY_FILE", "key");
    run(from_file, &["index", "list"]).await.assert_code(0);

    let r = run(
        cmd(&fake, tmp.path()),
        &["videos", "list", "--index", "nope"],
    )
    .await;
    r.assert_code(1);
    assert!(
        r.stderr
            .starts_with("error: no index named or with id \"nope\"\nhint:"),
        "{}",
        r.stderr
    );

    let r = run(
        cmd(&fake, tmp.path()),
        &["search", "x", "--index", "nope", "--options", "smell"],
    )
    .await;
    r.assert_code(2);
    assert!(r.stderr.contains("unknown search option \"smell\""));

    let mut nowhere = cmd(&fake, tmp.path());
    nowhere.env("TWELVELABS_BASE_URL", "http://127.0.0.1:9");
    let r = run(nowhere, &["index", "list"]).await;
    r.assert_code(1);
    assert!(
        r.stderr
            .contains("hint: is the network up and the base URL right?"),
        "{}",
        r.stderr
    );

    assert!(!r.stderr.contains("panicked") && !r.stderr.contains("backtrace"));
    let c = run(cmd(&fake, tmp.path()), &["completions", "bash"]).await;
    c.assert_code(0);
    assert!(c.stdout.contains("_twelvelabs()") && c.stdout.contains("ingest"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fake_serve_runs_the_fake_as_a_server_until_ctrl_c() {
    let tmp = tempfile::tempdir().unwrap();
    let mut child = tokio::process::Command::new(BIN)
        .args([
            "fake",
            "serve",
            "--port",
            "0",
            "--api-key",
            "tlk_local",
            "--indexing-time",
            "0.1",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut env = BTreeMap::new();
    loop {
        let line = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
            .await
            .unwrap()
            .unwrap()
            .expect("a line");
        if line == "ready" {
            break;
        }
        let (k, v) = line.split_once('=').expect("NAME=value");
        env.insert(k.to_owned(), v.to_owned());
    }
    assert_eq!(env["TWELVE_LABS_API_KEY"], "tlk_local");
    let base = env["TWELVELABS_BASE_URL"].clone();
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");

    // The tool itself, pointed at it the way the official SDKs are.
    videos(&tmp.path().join("v"), 2, 1000);
    let mut c = tokio::process::Command::new(BIN);
    c.current_dir(tmp.path())
        .env("TWELVELABS_BASE_URL", &base)
        .env("TWELVE_LABS_API_KEY", "tlk_local")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let r = run(
        c,
        &[
            &[
                "ingest",
                "v",
                "--index",
                "served",
                "--create-index",
                "--json",
            ][..],
            &FAST,
        ]
        .concat(),
    )
    .await;
    r.assert_code(0);
    let doc: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(doc["summary"]["ready"], 2);

    let pid = child.id().unwrap().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status.code(), Some(0));
}

/// One ingest in a real pseudo-terminal: the bars are drawn, and cleared when it ends.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_terminal_the_bars_render_and_finish() {
    let (raw, screen) = ingest_in_a_pty(false).await;
    let text = String::from_utf8_lossy(&raw);
    // Drawn: the overall bar, an upload bar with bytes and rate, a task status line, colours.
    assert!(text.contains("total"), "{text}");
    assert!(text.contains("/6 files"), "{text}");
    assert!(text.contains("MiB/s") || text.contains("KiB/s"), "{text}");
    assert!(text.contains("━"), "{text}");
    assert!(
        text.contains("indexing") || text.contains("pending") || text.contains("validating"),
        "{text}"
    );
    assert!(text.contains("\u{1b}[32m"), "colours: {text:?}");
    // Finished: the screen a person sees at the end has the counts and where the per-file table
    // is, and no bar left over.
    assert!(screen.contains("6 ready"), "{screen}");
    assert!(
        screen.contains("twelvelabs ingest status --manifest"),
        "{screen}"
    );
    assert!(
        !screen.contains("━") && !screen.contains("files  "),
        "a bar is left: {screen}"
    );
}

/// `NO_COLOR` on a terminal: bars, but not a single colour.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_color_on_a_terminal_keeps_the_bars_without_colour() {
    let (raw, screen) = ingest_in_a_pty(true).await;
    let text = String::from_utf8_lossy(&raw);
    assert!(text.contains("━") && text.contains("total"), "{text}");
    // Cursor movement and line clearing, yes; SGR (`ESC [ … m`: colour, bold, dim), never.
    for seq in text.split("\u{1b}[").skip(1) {
        let end = seq.find(|c: char| c.is_ascii_alphabetic()).unwrap();
        assert_ne!(
            &seq[end..=end],
            "m",
            "a colour sequence: ESC[{}",
            &seq[..=end]
        );
    }
    assert!(screen.contains("6 ready"), "{screen}");
}

/// Runs an ingest of 6 files in a pseudo-terminal: the raw output and the final screen.
#[cfg(unix)]
async fn ingest_in_a_pty(no_color: bool) -> (Vec<u8>, String) {
    use portable_pty::{CommandBuilder, PtySize, native_pty_system};
    use std::io::Read;

    let fake = FakeServer::builder()
        .indexing_time(Duration::from_millis(1500))
        .start()
        .await
        .unwrap();
    index_named(&fake, "tty").await;
    let tmp = tempfile::tempdir().unwrap();
    videos(&tmp.path().join("v"), 6, 2 * 1024 * 1024);
    fake.inject(
        Fault::slow(Duration::from_millis(400))
            .times(6)
            .path("/tasks"),
    );

    let (rows, cols) = (30, 120);
    let pty = native_pty_system()
        .openpty(PtySize {
            rows,
            cols,
            pixel_width: 0,
            pixel_height: 0,
        })
        .unwrap();
    let mut c = CommandBuilder::new(BIN);
    c.args([&["ingest", "v", "--index", "tty", "-j", "2"][..], &FAST].concat());
    c.cwd(tmp.path());
    c.env("TWELVELABS_BASE_URL", root(&fake));
    c.env("TWELVE_LABS_API_KEY", fake.api_key());
    c.env("TERM", "xterm-256color");
    if no_color {
        c.env("NO_COLOR", "1");
    } else {
        c.env_remove("NO_COLOR");
    }
    let mut child = pty.slave.spawn_command(c).unwrap();
    drop(pty.slave);
    let mut reader = pty.master.try_clone_reader().unwrap();
    let output = tokio::task::spawn_blocking(move || {
        let mut out = Vec::new();
        let mut buf = [0u8; 8192];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        out
    });
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    drop(pty.master);
    let raw = tokio::time::timeout(Duration::from_secs(10), output)
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "{}", String::from_utf8_lossy(&raw));
    let nz = |n: u16| std::num::NonZeroU16::new(n).unwrap();
    let mut term = vt100::Parser::new(nz(rows), nz(cols), 0);
    term.process(&raw);
    (raw, term.screen().contents())
}

/// The README's exit-code table and `--help` say the same, and every code is one the tool uses.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_documents_the_exit_codes_of_help() {
    let help = std::process::Command::new(BIN)
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8(help.stdout).unwrap();
    let codes: Vec<(u32, String)> = help
        .split("Exit codes:")
        .nth(1)
        .expect("an exit-code section in --help")
        .lines()
        .filter_map(|l| {
            let (code, meaning) = l.trim().split_once(char::is_whitespace)?;
            Some((code.parse().ok()?, meaning.trim().to_owned()))
        })
        .collect();
    assert_eq!(
        codes.iter().map(|c| c.0).collect::<Vec<_>>(),
        [0, 1, 2, 3, 4, 130]
    );
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let table: Vec<(u32, String)> = readme
        .lines()
        .skip_while(|l| !l.starts_with("| code | meaning |"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .filter_map(|l| {
            let mut cells = l.trim_matches('|').split('|').map(str::trim);
            Some((cells.next()?.parse().ok()?, cells.next()?.to_owned()))
        })
        .collect();
    assert_eq!(table.len(), codes.len(), "README table: {table:?}");
    for ((a, help_meaning), (b, readme_meaning)) in codes.iter().zip(&table) {
        assert_eq!(a, b);
        // The README may say more; it starts the same way.
        let first_words: String = help_meaning
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ");
        assert!(
            readme_meaning
                .replace('`', "")
                .to_lowercase()
                .starts_with(&first_words.to_lowercase()),
            "code {a}: --help says {help_meaning:?}, the README {readme_meaning:?}"
        );
    }
}

/// `n` small files with distinct content in `dir`.
fn many(dir: &Path, n: usize, size: usize) -> Vec<PathBuf> {
    std::fs::create_dir_all(dir).unwrap();
    (0..n)
        .map(|i| {
            let path = dir.join(format!("v{i:05}.mp4"));
            let mut data = format!("video {i}\n").into_bytes();
            data.resize(size.max(data.len()), b'.');
            std::fs::write(&path, data).unwrap();
            path
        })
        .collect()
}

/// Killed with SIGKILL at 50 random moments (planning, hashing, uploads, polling, manifest
/// writes), each time resumed: in the end every file is in the index exactly once (one task per
/// file), the manifest agrees with the API, and every video carries its content hash.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_kills_at_random_moments_never_index_a_file_twice() {
    let fake = FakeServer::builder()
        .indexing_time(Duration::from_millis(700))
        .start()
        .await
        .unwrap();
    let index = index_named(&fake, "crash").await;
    let tmp = tempfile::tempdir().unwrap();
    let files = many(&tmp.path().join("v"), 300, 16 * 1024);
    // Uploads take a while, so most runs are killed with work left and uploads in flight.
    fake.inject(
        Fault::slow(Duration::from_millis(80))
            .times(100_000)
            .path("/tasks"),
    );
    let args = [
        &["ingest", "v", "--index", &index, "-j", "2", "--jsonl"][..],
        &FAST,
    ]
    .concat();
    let mut seed = 0x9e37_79b9_7f4a_7c15u64 ^ u64::from(std::process::id());
    let (mut kills, mut reads) = (0, 0);
    let manifest_name = format!("twelvelabs-ingest-{index}.db");
    for _ in 0..50 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let after = Duration::from_millis(30 + seed % 320);
        let mut child = cmd(&fake, tmp.path()).args(&args).spawn().unwrap();
        // Every fifth time, another process reads the manifest while the run writes it.
        if seed.is_multiple_of(5) {
            let status = run(
                cmd(&fake, tmp.path()),
                &["ingest", "status", "--manifest", &manifest_name, "--json"],
            )
            .await;
            if status.code == 0 {
                let doc: Value = serde_json::from_str(&status.stdout).unwrap();
                assert!(doc["counts"]["files"].as_u64().unwrap() <= 300);
                reads += 1;
            } else {
                // Only before the first run created it.
                assert!(
                    status.stderr.contains("no manifest at"),
                    "{}",
                    status.stderr
                );
            }
        }
        tokio::select! {
            _ = child.wait() => {}
            () = tokio::time::sleep(after) => {
                child.start_kill().unwrap(); // SIGKILL
                kills += 1;
            }
        }
        child.wait().await.unwrap();
    }
    assert!(reads > 0, "the manifest was never read during a run");
    eprintln!("{kills} of 50 runs were killed before they ended");
    assert!(
        kills >= 40,
        "only {kills} runs were killed before they ended"
    );
    let last = run(cmd(&fake, tmp.path()), &args).await;
    last.assert_code(0);
    let s = last.summary();
    assert_eq!(
        s["ready"].as_u64().unwrap() + s["already_ready"].as_u64().unwrap(),
        300,
        "{s}"
    );

    // One task per file at the API: nothing was indexed twice.
    let tasks = tasks_of(&fake, &index).await;
    let mut per_file: BTreeMap<String, usize> = BTreeMap::new();
    for t in &tasks {
        *per_file.entry(t.filename().to_owned()).or_default() += 1;
    }
    let twice: Vec<_> = per_file.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "indexed more than once: {twice:?}");
    assert_eq!(per_file.len(), 300);
    assert_each_once(&fake, &index, &files).await;

    // The manifest agrees with the API: each file's content is ready, as the video the API made
    // from that file's task.
    let entries = entries_of(&tmp.path().join(format!("twelvelabs-ingest-{index}.db")));
    for f in &files {
        let e = &entries[&sha256(f)];
        assert_eq!(e.state, EntryState::Ready, "{}", f.display());
        assert!(e.tagged);
        let task = tasks
            .iter()
            .find(|t| Some(t.id()) == e.task_id.as_ref())
            .unwrap_or_else(|| panic!("{}: task {:?} is not the API's", f.display(), e.task_id));
        assert_eq!(task.video_id(), e.video_id.as_ref());
    }
}

/// 500 files in a 40-line terminal: a bounded number of lines (the screen never scrolls, no
/// line per file) and the total bar stays on screen until the end.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_hundred_files_fit_a_forty_line_terminal() {
    use portable_pty::{CommandBuilder, PtySize, native_pty_system};
    use std::io::Read;

    let fake = FakeServer::builder()
        .indexing_time(Duration::from_millis(500))
        .fail_tasks_matching("v0004")
        .start()
        .await
        .unwrap();
    index_named(&fake, "big").await;
    let tmp = tempfile::tempdir().unwrap();
    many(&tmp.path().join("v"), 500, 2048);

    let (rows, cols) = (40, 120);
    let pty = native_pty_system()
        .openpty(PtySize {
            rows,
            cols,
            pixel_width: 0,
            pixel_height: 0,
        })
        .unwrap();
    let mut c = CommandBuilder::new(BIN);
    c.args([&["ingest", "v", "--index", "big", "-j", "8"][..], &FAST].concat());
    c.cwd(tmp.path());
    c.env("TWELVELABS_BASE_URL", root(&fake));
    c.env("TWELVE_LABS_API_KEY", fake.api_key());
    c.env("TERM", "xterm-256color");
    let mut child = pty.slave.spawn_command(c).unwrap();
    drop(pty.slave);
    let mut reader = pty.master.try_clone_reader().unwrap();
    let watched = tokio::task::spawn_blocking(move || {
        let nz = |n: u16| std::num::NonZeroU16::new(n).unwrap();
        let mut term = vt100::Parser::new(nz(rows), nz(cols), 10_000);
        let (mut most_lines, mut with_total, mut frames) = (0, 0, 0);
        let mut buf = [0u8; 65536];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            term.process(&buf[..n]);
            let screen = term.screen().contents();
            let used = screen.lines().filter(|l| !l.trim().is_empty()).count();
            most_lines = most_lines.max(used);
            if screen.contains("files  ") {
                frames += 1;
                with_total += usize::from(screen.contains("total"));
            }
        }
        term.screen_mut().set_scrollback(usize::MAX);
        let scrolled = term.screen().scrollback();
        term.screen_mut().set_scrollback(0);
        (
            term.screen().contents(),
            most_lines,
            with_total,
            frames,
            scrolled,
        )
    });
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    drop(pty.master);
    let (screen, most_lines, with_total, frames, scrolled) =
        tokio::time::timeout(Duration::from_secs(20), watched)
            .await
            .unwrap()
            .unwrap();
    // One file fails (4 with "v0004" in their name: v00040…v00049 would be 10; v0004x only).
    assert_eq!(status.exit_code(), 4, "{screen}");
    assert_eq!(scrolled, 0, "the screen scrolled:\n{screen}");
    assert!(most_lines <= 14, "{most_lines} lines in use at once");
    assert!(frames > 10, "{frames} frames with the bars");
    assert_eq!(with_total, frames, "a frame without the total bar");
    assert!(screen.contains("490 ready"), "{screen}");
    assert!(screen.contains("10 failed"), "{screen}");
    assert!(screen.contains("Failures:"), "{screen}");
    assert!(
        screen.contains("twelvelabs ingest status --manifest"),
        "{screen}"
    );
}

/// The daily quota, 30 task creations for 100 files: the run uploads 30, never starts an upload
/// the quota would refuse, and ends with the files left, the reset and the command to resume; a
/// run before the reset sends nothing; runs after each reset go on until everything is in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spent_daily_quota_ends_the_run_with_what_is_left_and_how_to_resume() {
    let fake = FakeServer::builder().task_quota(30).start().await.unwrap();
    let index = index_named(&fake, "quota").await;
    let tmp = tempfile::tempdir().unwrap();
    let files = many(&tmp.path().join("v"), 100, 1024);
    let args = [
        &["ingest", "v", "--index", "quota", "-j", "4", "--jsonl"][..],
        &FAST,
    ]
    .concat();
    let creations = |fake: &FakeServer| {
        fake.request_counts()
            .get("POST /tasks")
            .copied()
            .unwrap_or(0)
    };

    let first = run(cmd(&fake, tmp.path()), &args).await;
    first.assert_code(4);
    let s = first.summary();
    assert_eq!(
        (
            s["uploaded"].as_u64(),
            s["ready"].as_u64(),
            s["waiting_for_quota"].as_u64()
        ),
        (Some(30), Some(30), Some(70)),
        "{s}"
    );
    assert!(s["quota_resets_at"].is_string(), "{s}");
    let spent = first.events("quota_spent");
    assert_eq!(spent.len(), 1);
    assert_eq!(spent[0]["waiting"], false);
    assert!(spent[0]["resets_in_secs"].as_u64().unwrap() <= 24 * 3600);
    // Not one upload was refused: the headers of each creation said how many were left.
    assert_eq!(creations(&fake), 30);
    for text in [
        "The daily quota of task creations is spent: 70 files left.",
        "It resets at ",
        " UTC).",
        "Resume then with:\n  twelvelabs ingest v --index quota -j 4 --jsonl",
        "--wait-for-quota",
    ] {
        assert!(
            first.stderr.contains(text),
            "{text:?} not in:\n{}",
            first.stderr
        );
    }

    // Before the reset: nothing is sent (the manifest remembers the quota).
    let early = run(cmd(&fake, tmp.path()), &args).await;
    early.assert_code(4);
    assert_eq!(early.summary()["waiting_for_quota"], 70);
    assert!(early.events("upload_started").is_empty());
    assert_eq!(creations(&fake), 30);

    // After each reset (the fake's clock, a day on), 30 more, until all are in.
    let mut left = 70;
    while left > 0 {
        fake.advance(Duration::from_secs(24 * 3600 + 1));
        let next = run(cmd(&fake, tmp.path()), &args).await;
        let s = next.summary();
        let sent = left.min(30);
        left -= sent;
        assert_eq!(s["uploaded"], sent, "{s}");
        assert_eq!(s["waiting_for_quota"], left, "{s}");
        next.assert_code(if left == 0 { 0 } else { 4 });
    }
    assert_eq!(creations(&fake), 100);
    assert_each_once(&fake, &index, &files).await;
}

/// `--wait-for-quota`: the same 100 files in one run that sleeps until each reset (the test moves
/// the fake's clock a day on whenever the run says it waits).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_for_quota_sleeps_until_each_reset_and_finishes_in_one_run() {
    let fake = FakeServer::builder().task_quota(30).start().await.unwrap();
    let index = index_named(&fake, "patient").await;
    let tmp = tempfile::tempdir().unwrap();
    let files = many(&tmp.path().join("v"), 100, 1024);
    let mut child = cmd(&fake, tmp.path())
        .args(
            [
                &[
                    "ingest",
                    "v",
                    "--index",
                    "patient",
                    "-j",
                    "4",
                    "--wait-for-quota",
                    "--jsonl",
                ][..],
                &FAST,
            ]
            .concat(),
        )
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let (mut spent, mut renewed) = (0, 0);
    let mut summary = None;
    while let Some(line) = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
        .await
        .expect("events keep coming")
        .unwrap()
    {
        let e: Value = serde_json::from_str(&line).unwrap();
        match e["event"].as_str() {
            Some("quota_spent") => {
                assert_eq!(e["waiting"], true);
                spent += 1;
                fake.advance(Duration::from_secs(24 * 3600 + 1));
            }
            Some("quota_renewed") => renewed += 1,
            Some("summary") => summary = Some(e),
            _ => {}
        }
    }
    let status = child.wait().await.unwrap();
    assert_eq!(status.code(), Some(0));
    let s = summary.expect("a summary");
    assert_eq!(
        (s["uploaded"].as_u64(), s["waiting_for_quota"].as_u64()),
        (Some(100), Some(0)),
        "{s}"
    );
    assert_eq!((spent, renewed), (3, 3));
    assert_eq!(fake.request_counts()["POST /tasks"], 100);
    assert_each_once(&fake, &index, &files).await;
}
