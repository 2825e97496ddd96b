//! The ingest manifest: which content went where, written atomically.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::IngestError;
use crate::ids::{IndexId, TaskId, VideoId};

/// The manifest format this version writes and reads.
pub const MANIFEST_VERSION: u32 = 1;

/// Where one piece of content stands in the index.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum EntryState {
    /// An upload was started; whether the API received it is not known yet. A re-run looks for
    /// the task by file name before sending the file again.
    Uploading,
    /// The task exists and the video is being indexed. A re-run waits on the same task.
    Indexing,
    /// The video is in the index. A re-run skips it.
    Ready,
    /// The upload or the indexing failed. A re-run sends the file again.
    Failed,
}

/// What the manifest knows about one piece of content (keyed by its SHA-256).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ManifestEntry {
    /// The file or URL it was last read from.
    pub source: String,
    /// Its size in bytes (0 for a URL).
    pub size: u64,
    /// Where it stands.
    pub state: EntryState,
    /// The indexing task, once created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_id: Option<TaskId>,
    /// The video, once ready.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video_id: Option<VideoId>,
    /// The file name sent with the upload (used to find a task whose creation was not recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    /// When the last upload started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload_started_at: Option<DateTime<Utc>>,
    /// Whether the video carries the content hash as custom metadata.
    #[serde(default)]
    pub tagged: bool,
    /// Why it failed, for [`EntryState::Failed`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// When this entry last changed.
    pub updated_at: DateTime<Utc>,
}

impl ManifestEntry {
    pub(crate) fn new(source: String, size: u64, state: EntryState) -> Self {
        Self {
            source,
            size,
            state,
            task_id: None,
            video_id: None,
            filename: None,
            upload_started_at: None,
            tagged: false,
            error: None,
            updated_at: Utc::now(),
        }
    }
}

/// An ingest manifest: content hash → task → video → state, for one index.
///
/// [`Ingest`](super::Ingest) reads it at the start and rewrites it after every change, atomically
/// (a temporary file, `fsync`, `rename`, then `fsync` of the folder): after a crash it holds either
/// the previous or the new version, never a torn one. Read it yourself with [`Manifest::load`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Manifest {
    /// The format version ([`MANIFEST_VERSION`]).
    pub version: u32,
    /// The index the entries belong to.
    pub index_id: IndexId,
    /// The custom metadata key the content hash is stored under on each video.
    pub metadata_key: String,
    /// The entries, by lowercase hex SHA-256 of the content (of `url:<URL>` for a URL).
    pub entries: BTreeMap<String, ManifestEntry>,
}

impl Manifest {
    pub(crate) fn new(index_id: IndexId, metadata_key: String) -> Self {
        Self {
            version: MANIFEST_VERSION,
            index_id,
            metadata_key,
            entries: BTreeMap::new(),
        }
    }

    /// Reads a manifest. `Ok(None)` when the file does not exist.
    ///
    /// # Errors
    /// [`IngestError::ManifestCorrupt`] when the file is not a manifest this version can read
    /// (it is never overwritten then), [`IngestError::Io`] when it cannot be read.
    pub fn load(path: impl AsRef<Path>) -> Result<Option<Self>, IngestError> {
        let path = path.as_ref();
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(IngestError::Io {
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        let corrupt = |reason: String| IngestError::ManifestCorrupt {
            path: path.to_path_buf(),
            reason,
        };
        let value: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| corrupt(format!("not JSON: {e}")))?;
        match value.get("version").and_then(serde_json::Value::as_u64) {
            Some(v) if v == u64::from(MANIFEST_VERSION) => {}
            Some(v) => {
                return Err(corrupt(format!(
                    "format version {v}; this version of twelvelabs reads version {MANIFEST_VERSION}"
                )));
            }
            None => return Err(corrupt("no format version: not an ingest manifest".into())),
        }
        let m: Manifest = serde_path_to_error::deserialize(value)
            .map_err(|e| corrupt(format!("at {}: {}", e.path(), e.inner())))?;
        if let Some(bad) = m.entries.keys().find(|k| !is_sha256_hex(k)) {
            return Err(corrupt(format!(
                "entry key {bad:?} is not a SHA-256 hex digest"
            )));
        }
        Ok(Some(m))
    }
}

pub(crate) fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The manifest in memory, written to disk after changes with group commit: whoever writes
/// writes the latest state, covering every change made before it.
pub(crate) struct Store {
    path: Option<PathBuf>,
    state: Mutex<(Manifest, u64)>,
    written: tokio::sync::Mutex<u64>,
}

impl Store {
    pub(crate) fn new(path: Option<PathBuf>, manifest: Manifest) -> Self {
        Self {
            path,
            state: Mutex::new((manifest, 0)),
            written: tokio::sync::Mutex::new(0),
        }
    }

    pub(crate) fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (Manifest, u64)> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The entry for `hash`, if any.
    pub(crate) fn get(&self, hash: &str) -> Option<ManifestEntry> {
        self.lock().0.entries.get(hash).cloned()
    }

    /// Task ids recorded for any entry (so a lost task is not claimed twice).
    pub(crate) fn known_tasks(&self) -> std::collections::HashSet<String> {
        self.lock()
            .0
            .entries
            .values()
            .filter_map(|e| e.task_id.as_ref().map(|t| t.as_str().to_owned()))
            .collect()
    }

    /// Changes the entry for `hash` and returns once the change is on disk.
    pub(crate) async fn update(
        &self,
        hash: &str,
        f: impl FnOnce(&mut ManifestEntry),
        default: impl FnOnce() -> ManifestEntry,
    ) -> Result<(), IngestError> {
        let generation = {
            let mut st = self.lock();
            let entry = st.0.entries.entry(hash.to_owned()).or_insert_with(default);
            f(entry);
            entry.updated_at = Utc::now();
            st.1 += 1;
            st.1
        };
        self.flush_to(generation).await
    }

    /// Puts the entry of `hash` in `state` (creating it for `source` of `size` bytes if need be),
    /// then applies `f`; written at once.
    pub(crate) async fn set(
        &self,
        hash: &str,
        source: &str,
        size: u64,
        state: EntryState,
        f: impl FnOnce(&mut ManifestEntry),
    ) -> Result<(), IngestError> {
        self.update(
            hash,
            |e| {
                e.state = state;
                f(e);
            },
            || ManifestEntry::new(source.to_owned(), size, state),
        )
        .await
    }

    /// Writes the manifest if `generation` is not on disk yet.
    pub(crate) async fn flush_to(&self, generation: u64) -> Result<(), IngestError> {
        let Some(path) = self.path.clone() else {
            return Ok(());
        };
        let mut written = self.written.lock().await;
        if *written >= generation {
            return Ok(());
        }
        let (bytes, latest) = {
            let st = self.lock();
            let bytes = serde_json::to_vec_pretty(&st.0).map_err(|e| IngestError::Io {
                path: path.clone(),
                source: std::io::Error::other(e),
            })?;
            (bytes, st.1)
        };
        let target = path.clone();
        tokio::task::spawn_blocking(move || write_atomic(&target, &bytes))
            .await
            .map_err(|e| IngestError::Io {
                path: path.clone(),
                source: std::io::Error::other(e),
            })?
            .map_err(|source| IngestError::Io { path, source })?;
        *written = latest;
        Ok(())
    }

    /// Writes the manifest now (creating it), to find out early that it cannot be written.
    pub(crate) async fn update_meta(&self) -> Result<(), IngestError> {
        let generation = {
            let mut st = self.lock();
            st.1 += 1;
            st.1
        };
        self.flush_to(generation).await
    }

    /// Writes whatever is not on disk yet.
    pub(crate) async fn flush(&self) -> Result<(), IngestError> {
        let generation = self.lock().1;
        self.flush_to(generation).await
    }
}

/// Holds `<manifest>.lock` while a run uses the manifest, so two runs cannot share one manifest
/// (each would upload what the other is uploading). Removed when the run ends; a lock left by a
/// process that no longer exists (killed) is taken over.
#[derive(Debug)]
pub(crate) struct Lock {
    path: PathBuf,
}

impl Lock {
    pub(crate) fn acquire(manifest: &Path) -> Result<Self, IngestError> {
        let mut name = manifest.as_os_str().to_owned();
        name.push(".lock");
        let path = PathBuf::from(name);
        for _ in 0..2 {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(mut f) => {
                    let _ = writeln!(f, "{}", std::process::id());
                    return Ok(Self { path });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let holder = std::fs::read_to_string(&path)
                        .ok()
                        .and_then(|s| s.trim().parse::<u32>().ok());
                    match holder {
                        Some(pid) if !process_gone(pid) => {
                            return Err(IngestError::ManifestLocked {
                                path: manifest.to_path_buf(),
                                lock: path,
                                pid: Some(pid),
                            });
                        }
                        None if !cfg!(target_os = "linux") => {
                            return Err(IngestError::ManifestLocked {
                                path: manifest.to_path_buf(),
                                lock: path,
                                pid: None,
                            });
                        }
                        // Left by a run that is gone (or unreadable half-written): take it over.
                        _ => {
                            let _ = std::fs::remove_file(&path);
                        }
                    }
                }
                Err(source) => return Err(IngestError::Io { path, source }),
            }
        }
        Err(IngestError::ManifestLocked {
            path: manifest.to_path_buf(),
            lock: path,
            pid: None,
        })
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Whether no process `pid` runs (known on Linux only; elsewhere a lock is never stale).
fn process_gone(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        pid != std::process::id() && !Path::new("/proc").join(pid.to_string()).exists()
    } else {
        false
    }
}

/// Replaces `path` with `bytes` so that a crash leaves the old or the new content: a temporary
/// file in the same folder, `fsync`, `rename` over the target, `fsync` of the folder.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "manifest".into());
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)?;
        #[cfg(unix)]
        std::fs::File::open(&dir)?.sync_all()?;
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
