//! `twelvelabs::ingest` used directly, as a Rust program would, for what the binary cannot show:
//! an upload whose response was lost, a failed upload, two runs on one manifest.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use twelvelabs::ingest::{EntryState, Ingest, IngestError, IngestEvent, IngestSummary, Manifest};
use twelvelabs::testing::{FakeServer, Fault};

fn files(dir: &Path, n: usize) -> Vec<PathBuf> {
    std::fs::create_dir_all(dir).unwrap();
    (0..n)
        .map(|i| {
            let p = dir.join(format!("v{i}.mp4"));
            std::fs::write(&p, vec![i as u8 + 1; 4096 + i]).unwrap();
            p
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

async fn index(fake: &FakeServer) -> String {
    fake.client()
        .unwrap()
        .indexes()
        .create(format!("i{}", fastrand()))
        .engine(
            twelvelabs::EngineConfig::new("marengo2.6").options([twelvelabs::EngineOption::Visual]),
        )
        .send()
        .await
        .unwrap()
        .to_string()
}

fn fastrand() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

fn ingest(fake: &FakeServer, index: &str, dir: &Path, manifest: &Path) -> Ingest {
    Ingest::new(&fake.client().unwrap(), index)
        .source(dir)
        .manifest(manifest)
        .concurrency(1)
        .poll_interval(Duration::from_millis(20), Duration::from_millis(100))
}

async fn drain(i: Ingest) -> (Vec<IngestEvent>, IngestSummary) {
    let events: Vec<IngestEvent> = i.start().await.unwrap().try_collect().await.unwrap();
    let summary = match events.last() {
        Some(IngestEvent::Summary(s)) => s.clone(),
        other => panic!("the last event is {other:?}"),
    };
    (events, summary)
}

async fn task_count(fake: &FakeServer, index: &str) -> usize {
    fake.client()
        .unwrap()
        .tasks()
        .list()
        .index(index)
        .items()
        .try_collect::<Vec<_>>()
        .await
        .unwrap()
        .len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_whose_creation_was_not_recorded_is_found_not_uploaded_again() {
    let fake = FakeServer::start().await.unwrap();
    let idx = index(&fake).await;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("v");
    files(&dir, 2);
    let first = tmp.path().join("m.db");
    let (_, s) = drain(ingest(&fake, &idx, &dir, &first)).await;
    assert_eq!(s.ready, 2);

    // As if the process had died after the API created the task, before the manifest said so;
    // written in the earlier JSON format, which the run imports.
    let mut entries = serde_json::Map::new();
    for (hash, e) in entries_of(&first) {
        let mut e = serde_json::to_value(e).unwrap();
        e["state"] = "uploading".into();
        e.as_object_mut().unwrap().remove("task_id");
        e.as_object_mut().unwrap().remove("video_id");
        entries.insert(hash, e);
    }
    let json = serde_json::to_vec(&serde_json::json!({
        "version": 1, "index_id": idx, "metadata_key": "content_sha256", "entries": entries,
    }))
    .unwrap();
    let manifest = tmp.path().join("m.json");
    std::fs::write(&manifest, &json).unwrap();

    let (events, s) = drain(ingest(&fake, &idx, &dir, &manifest)).await;
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, IngestEvent::UploadStarted { .. })),
        "{events:#?}"
    );
    assert_eq!(
        events
            .iter()
            .filter(|e| matches!(e, IngestEvent::Resumed { .. }))
            .count(),
        2
    );
    assert_eq!(s.ready, 2);
    assert_eq!(task_count(&fake, &idx).await, 2);
    let m = entries_of(&manifest);
    assert!(
        m.values()
            .all(|e| e.state == EntryState::Ready && e.task_id.is_some())
    );
    // The JSON was imported and kept beside the database.
    assert_eq!(
        std::fs::read(tmp.path().join("m.json.v1.bak")).unwrap(),
        json
    );
    assert!(events.iter().any(
        |e| matches!(e, IngestEvent::Warning { message, .. } if message.contains("imported"))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_upload_fails_its_file_alone_and_is_retried_next_time() {
    let fake = FakeServer::start().await.unwrap();
    let idx = index(&fake).await;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("v");
    files(&dir, 3);
    let manifest = tmp.path().join("m.json");
    // The first upload gets a 500 (an upload is not repeated after a 500: it may have landed).
    fake.inject(Fault::status(500).path("/tasks"));
    let (events, s) = drain(ingest(&fake, &idx, &dir, &manifest)).await;
    assert_eq!((s.ready, s.failed), (2, 1), "{events:#?}");
    let reason = events
        .iter()
        .find_map(|e| match e {
            IngestEvent::Failed { reason, .. } => Some(reason.clone()),
            _ => None,
        })
        .unwrap();
    assert!(reason.starts_with("upload failed"), "{reason}");
    assert_eq!(s.failures.len(), 1);
    assert!(!s.is_complete());
    let m = entries_of(&manifest);
    assert_eq!(
        m.values().filter(|e| e.state == EntryState::Failed).count(),
        1
    );

    let (events, s) = drain(ingest(&fake, &idx, &dir, &manifest)).await;
    let uploads = events
        .iter()
        .filter(|e| matches!(e, IngestEvent::UploadStarted { .. }))
        .count();
    assert_eq!((uploads, s.ready, s.already_ready), (1, 1, 2));
    assert!(s.is_complete());
    assert_eq!(task_count(&fake, &idx).await, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_runs_cannot_share_a_manifest() {
    let fake = FakeServer::start().await.unwrap();
    let idx = index(&fake).await;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("v");
    files(&dir, 2);
    let manifest = tmp.path().join("m.json");
    fake.inject(
        Fault::slow(Duration::from_millis(300))
            .times(4)
            .path("/tasks"),
    );
    let mut first = ingest(&fake, &idx, &dir, &manifest).start().await.unwrap();
    match ingest(&fake, &idx, &dir, &manifest).start().await {
        Err(IngestError::ManifestLocked { pid, .. }) => assert_eq!(pid, Some(std::process::id())),
        other => panic!("{other:?}"),
    }
    while let Some(e) = first.next().await {
        if matches!(e.unwrap(), IngestEvent::Summary(_)) {
            break;
        }
    }
    // Free again as soon as the first run has said it is over.
    let (_, s) = drain(ingest(&fake, &idx, &dir, &manifest)).await;
    assert_eq!(s.already_ready, 2);
    // A lock left by a process that is gone is taken over.
    std::fs::write(tmp.path().join("m.json.lock"), "4000000000\n").unwrap();
    let (_, s) = drain(ingest(&fake, &idx, &dir, &manifest)).await;
    assert_eq!(s.already_ready, 2);
    assert!(!tmp.path().join("m.json.lock").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_settings_are_refused_before_anything_is_sent() {
    let fake = FakeServer::start().await.unwrap();
    let idx = index(&fake).await;
    let tmp = tempfile::tempdir().unwrap();
    let before = fake.request_count();
    let tl = fake.client().unwrap();
    for (i, field) in [
        (
            Ingest::new(&tl, idx.as_str()).source("x").concurrency(0),
            "concurrency",
        ),
        (
            Ingest::new(&tl, idx.as_str()).source("x").concurrency(65),
            "concurrency",
        ),
        (Ingest::new(&tl, idx.as_str()), "sources"),
        (
            Ingest::new(&tl, idx.as_str()).source("x").metadata_key(" "),
            "metadata_key",
        ),
        (Ingest::new(&tl, "").source("x"), "index_id"),
    ] {
        match i.manifest(tmp.path().join("m.json")).start().await {
            Err(IngestError::Api(twelvelabs::Error::InvalidInput { field: f, .. })) => {
                assert_eq!(f, field)
            }
            other => panic!("{field}: {other:?}"),
        }
    }
    assert_eq!(fake.request_count(), before);
    assert!(!tmp.path().join("m.json").exists());
    assert!(!tmp.path().join("m.json.lock").exists());
    // A future manifest version is refused, not misread.
    std::fs::write(
        tmp.path().join("m.json"),
        br#"{"version": 2, "index_id": "x", "metadata_key": "k", "entries": {}}"#,
    )
    .unwrap();
    match Ingest::new(&tl, idx.as_str())
        .source(tmp.path())
        .manifest(tmp.path().join("m.json"))
        .start()
        .await
    {
        Err(IngestError::ManifestCorrupt { reason, .. }) => {
            assert!(reason.contains("version 2"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn urls_are_indexed_once_and_identified_by_their_text() {
    let fake = FakeServer::start().await.unwrap();
    let idx = index(&fake).await;
    let tmp = tempfile::tempdir().unwrap();
    let manifest = tmp.path().join("m.json");
    let url = "https://videos.example.com/talks/keynote.mp4";
    let run = |m: &Path| {
        Ingest::new(&fake.client().unwrap(), idx.as_str())
            .sources([url, url, "ftp://example.com/x.mp4"])
            .manifest(m)
            .poll_interval(Duration::from_millis(20), Duration::from_millis(100))
    };
    let (events, s) = drain(run(&manifest)).await;
    assert_eq!((s.files, s.ready, s.rejected), (1, 1, 1), "{events:#?}");
    assert!(
        events.iter().any(
            |e| matches!(e, IngestEvent::Rejected { reason, .. } if reason.contains("http(s)"))
        )
    );
    let (_, s) = drain(run(&manifest)).await;
    assert_eq!(s.already_ready, 1);
    // And without the manifest, through the hash stored on the video.
    let (events, s) = drain(run(&tmp.path().join("other.json"))).await;
    assert_eq!(s.already_ready, 1);
    assert!(events.iter().any(|e| matches!(
        e,
        IngestEvent::AlreadyReady {
            found_in: twelvelabs::ingest::FoundIn::Index,
            ..
        }
    )));
    assert_eq!(task_count(&fake, &idx).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_sends_again_what_was_deleted_from_the_index() {
    let fake = FakeServer::start().await.unwrap();
    let idx = index(&fake).await;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("v");
    files(&dir, 2);
    let manifest = tmp.path().join("m.json");
    let (_, s) = drain(ingest(&fake, &idx, &dir, &manifest)).await;
    assert_eq!(s.ready, 2);
    let m = entries_of(&manifest);
    let gone = m.values().next().unwrap().video_id.clone().unwrap();
    let tl = fake.client().unwrap();
    tl.videos(idx.as_str()).delete(&gone).await.unwrap();

    // Trusted, the manifest says both are there.
    let (_, s) = drain(ingest(&fake, &idx, &dir, &manifest)).await;
    assert_eq!(s.already_ready, 2);
    // Verified, the deleted one is sent again.
    let (events, s) = drain(ingest(&fake, &idx, &dir, &manifest).verify(true)).await;
    assert_eq!(
        (s.already_ready, s.ready, s.uploaded),
        (1, 1, 1),
        "{events:#?}"
    );
    assert!(events.iter().any(
        |e| matches!(e, IngestEvent::Warning { message, .. } if message.contains("no longer in the index"))
    ));
    assert_eq!(task_count(&fake, &idx).await, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_that_changes_while_it_uploads_is_reported_not_recorded_under_its_old_hash() {
    let fake = FakeServer::start().await.unwrap();
    let idx = index(&fake).await;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("v");
    let paths = files(&dir, 1);
    let manifest = tmp.path().join("m.db");
    // The API takes a while to answer the upload; the file is rewritten meanwhile.
    fake.inject(
        Fault::slow(Duration::from_millis(600))
            .times(1)
            .path("/tasks"),
    );
    let mut run = ingest(&fake, &idx, &dir, &manifest).start().await.unwrap();
    let mut events = Vec::new();
    while let Some(e) = run.next().await {
        let e = e.unwrap();
        if matches!(e, IngestEvent::UploadStarted { .. }) {
            tokio::time::sleep(Duration::from_millis(200)).await;
            std::fs::write(&paths[0], vec![9u8; 9000]).unwrap();
        }
        events.push(e);
    }
    let reason = events
        .iter()
        .find_map(|e| match e {
            IngestEvent::Failed {
                reason, task_id, ..
            } => {
                assert!(task_id.is_some(), "the task it made is named");
                Some(reason.clone())
            }
            _ => None,
        })
        .expect("the item failed");
    assert!(reason.contains("changed while it was uploaded"), "{reason}");
    assert!(
        reason.contains("size changed from 4096 to 9000"),
        "{reason}"
    );
    // Not recorded as ready under the hash of the bytes it had before.
    let entries = entries_of(&manifest);
    assert!(
        entries.values().all(|e| e.state != EntryState::Ready),
        "{entries:?}"
    );

    // The next run reads the file again (its record was dropped) and sends what it is now.
    let (events, s) = drain(ingest(&fake, &idx, &dir, &manifest)).await;
    assert_eq!(
        (s.files_hashed, s.uploaded, s.ready),
        (1, 1, 1),
        "{events:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_a_run_stops_it_and_frees_the_manifest() {
    let fake = FakeServer::builder()
        .indexing_time(Duration::from_secs(30))
        .start()
        .await
        .unwrap();
    let idx = index(&fake).await;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("v");
    files(&dir, 6);
    let manifest = tmp.path().join("m.db");
    let mut run = ingest(&fake, &idx, &dir, &manifest)
        .concurrency(3)
        .start()
        .await
        .unwrap();
    // Wait until tasks are being waited on, then drop the run.
    while let Some(e) = run.next().await {
        if matches!(e.unwrap(), IngestEvent::TaskCreated { .. }) {
            break;
        }
    }
    drop(run);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = fake.request_count();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        fake.request_count(),
        before,
        "a dropped run still polls the API"
    );
    assert!(!tmp.path().join("m.db.lock").exists());
    // And the manifest is usable at once.
    let (_, s) =
        drain(ingest(&fake, &idx, &dir, &manifest).max_wait(Duration::from_millis(200))).await;
    assert_eq!(s.files, 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_foreign_or_future_database_is_refused_and_left_as_it_is() {
    let fake = FakeServer::start().await.unwrap();
    let idx = index(&fake).await;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("v");
    files(&dir, 1);
    let foreign = tmp.path().join("notes.db");
    {
        let db = rusqlite::Connection::open(&foreign).unwrap();
        db.execute_batch("CREATE TABLE notes (text TEXT); INSERT INTO notes VALUES ('mine');")
            .unwrap();
    }
    let future = tmp.path().join("future.db");
    {
        let db = rusqlite::Connection::open(&future).unwrap();
        db.execute_batch(
            "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
             INSERT INTO meta VALUES ('format', 'twelvelabs-ingest'), ('version', '3');",
        )
        .unwrap();
    }
    let garbage = tmp.path().join("garbage.db");
    std::fs::write(&garbage, b"\x00\x01 not a manifest at all").unwrap();
    for (path, expected) in [
        (&foreign, "not an ingest manifest"),
        (&future, "format version 3"),
        (&garbage, "neither an SQLite database nor a JSON manifest"),
    ] {
        let before = std::fs::read(path).unwrap();
        let requests = fake.request_count();
        match ingest(&fake, &idx, &dir, path).start().await {
            Err(IngestError::ManifestCorrupt { reason, .. }) => {
                assert!(reason.contains(expected), "{}: {reason}", path.display())
            }
            other => panic!("{}: {other:?}", path.display()),
        }
        assert_eq!(
            std::fs::read(path).unwrap(),
            before,
            "{} was written",
            path.display()
        );
        assert_eq!(fake.request_count(), requests, "a request was sent");
    }
    // `ingest status`'s reader refuses them the same way.
    assert!(matches!(
        Manifest::open(&foreign),
        Err(IngestError::ManifestCorrupt { .. })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_on_task_creation_pauses_every_upload_instead_of_failing_files_one_by_one() {
    let fake = FakeServer::start().await.unwrap();
    let idx = index(&fake).await;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("v");
    files(&dir, 10);
    // The first task creation is refused for an hour (more than the client waits on its own).
    fake.inject(Fault::rate_limited(3600).times(1).path("/tasks"));
    let (events, s) =
        drain(ingest(&fake, &idx, &dir, &tmp.path().join("m.db")).concurrency(4)).await;
    assert_eq!(
        (s.failed, s.uploaded, s.waiting_for_quota),
        (0, 0, 10),
        "{events:#?}"
    );
    assert!(s.quota_resets_at.is_some());
    assert!(!s.is_complete());
    assert_eq!(
        events
            .iter()
            .filter(|e| matches!(e, IngestEvent::QuotaSpent { waiting: false, .. }))
            .count(),
        1
    );
    assert_eq!(
        fake.request_counts()["POST /tasks"],
        1,
        "one refusal, then no upload"
    );
    // Nothing of the refused upload is left to look for: the next run sends it like the others.
    let entries = entries_of(&tmp.path().join("m.db"));
    assert!(entries.is_empty(), "{entries:?}");
}
