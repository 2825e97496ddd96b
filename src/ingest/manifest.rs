//! The ingest manifest: an SQLite database (WAL) of which content went where, and of which files
//! were hashed, written one small transaction per batch of changes.
//!
//! Why SQLite rather than a JSON document or a journal: a change costs one row (O(1), not a
//! rewrite of the whole manifest), a file's quick-check record is found without holding every
//! record in memory, a commit is atomic and durable (`synchronous=FULL`) so `kill -9` at any
//! instant leaves the last committed state, and another process can read it while a run writes
//! (`twelvelabs ingest status`).

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use serde::{Deserialize, Serialize};

use super::IngestError;
use crate::ids::{IndexId, TaskId, VideoId};

/// The manifest format this version writes (2: SQLite). Version 1 (one JSON document) is read
/// and imported.
pub const MANIFEST_VERSION: u32 = 2;

/// What the `meta` table's `format` row holds in every ingest manifest.
pub(super) const FORMAT: &str = "twelvelabs-ingest";
const SQLITE_MAGIC: &[u8] = b"SQLite format 3\0";

/// Where one piece of content stands in the index.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
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

impl EntryState {
    /// The name stored in the manifest and printed (`uploading`, `indexing`, `ready`, `failed`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Uploading => "uploading",
            Self::Indexing => "indexing",
            Self::Ready => "ready",
            Self::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "uploading" => Self::Uploading,
            "indexing" => Self::Indexing,
            "ready" => Self::Ready,
            "failed" => Self::Failed,
            _ => return None,
        })
    }
}

impl std::fmt::Display for EntryState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
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

/// One file the manifest has hashed, with where its content stands (from
/// [`Manifest::for_each_file`]).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct FileStatus {
    /// The file (absolute path).
    pub path: PathBuf,
    /// Its size when it was hashed.
    pub size: u64,
    /// The SHA-256 of its content, lowercase hex.
    pub sha256: String,
    /// Where its content stands; `None` when it was hashed but never sent (not started, a
    /// duplicate of another file, or refused by the daily quota).
    pub state: Option<EntryState>,
    /// The video, once ready.
    pub video_id: Option<VideoId>,
    /// The indexing task, once created.
    pub task_id: Option<TaskId>,
    /// Why it failed.
    pub error: Option<String>,
}

/// The task-creation quota last seen (`X-Ratelimit-*` of a task creation), kept across runs so a
/// run started while the quota is spent uploads nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct QuotaRecord {
    /// Task creations left in the window.
    pub remaining: u64,
    /// When the window resets, on the API's clock (its `X-Ratelimit-Reset`).
    #[serde(with = "epoch_secs")]
    pub resets_at: SystemTime,
}

mod epoch_secs {
    use std::time::SystemTime;
    pub(super) fn serialize<S: serde::Serializer>(t: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(super::epoch(*t))
    }
}

pub(super) fn epoch(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Counts of a manifest's files by where their content stands.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ManifestCounts {
    /// Files hashed.
    pub files: u64,
    /// Files whose content is in the index.
    pub ready: u64,
    /// Files whose content is being indexed.
    pub indexing: u64,
    /// Files whose upload started without a recorded result.
    pub uploading: u64,
    /// Files whose content failed.
    pub failed: u64,
    /// Files hashed but not sent (not started, duplicates, refused by the quota).
    pub not_sent: u64,
}

/// An ingest manifest, opened to read (a run may be writing it at the same time).
///
/// [`Ingest`](super::Ingest) keeps it as an SQLite database: one row per content hash
/// ([`ManifestEntry`]) and one per file hashed ([`FileStatus`]), each change committed on its own
/// (in small batches), so a crash loses nothing that was committed and never tears the file. A
/// manifest of the earlier JSON format (version 1) can be read too; a run imports it.
pub struct Manifest {
    conn: Connection,
    index_id: IndexId,
    metadata_key: String,
}

impl std::fmt::Debug for Manifest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Manifest")
            .field("index_id", &self.index_id)
            .field("metadata_key", &self.metadata_key)
            .finish_non_exhaustive()
    }
}

impl Manifest {
    /// Opens a manifest to read. `Ok(None)` when the file does not exist.
    ///
    /// # Errors
    /// [`IngestError::ManifestCorrupt`] when the file is not a manifest this version can read
    /// (it is never written then), [`IngestError::Io`] when it cannot be read.
    pub fn open(path: impl AsRef<Path>) -> Result<Option<Self>, IngestError> {
        let path = path.as_ref();
        let conn = match kind_of(path)? {
            Kind::Missing => return Ok(None),
            Kind::Json(bytes) => {
                let conn = Connection::open_in_memory().map_err(|e| db_err(path, e))?;
                init(&conn, path)?;
                write_v1(&conn, path, &parse_v1(path, &bytes)?)?;
                conn
            }
            Kind::Sqlite | Kind::Empty => {
                let conn = Connection::open_with_flags(
                    path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )
                .map_err(|e| db_err(path, e))?;
                conn.busy_timeout(Duration::from_secs(10))
                    .map_err(|e| db_err(path, e))?;
                conn
            }
        };
        let Some((index_id, metadata_key)) = read_meta(&conn, path)? else {
            return Err(corrupt(path, "an empty database: not an ingest manifest"));
        };
        Ok(Some(Self {
            conn,
            index_id,
            metadata_key,
        }))
    }

    /// The index the entries belong to.
    pub fn index_id(&self) -> &IndexId {
        &self.index_id
    }

    /// The custom metadata key the content hash is stored under on each video.
    pub fn metadata_key(&self) -> &str {
        &self.metadata_key
    }

    /// The entry of one content hash (lowercase hex SHA-256).
    ///
    /// # Errors
    /// [`IngestError::Io`] when the database cannot be read.
    pub fn entry(&self, sha256: &str) -> Result<Option<ManifestEntry>, IngestError> {
        get_entry(&self.conn, sha256).map_err(|e| db_err(Path::new(""), e))
    }

    /// Every content entry, by hash (loaded into memory: for a large manifest prefer
    /// [`Manifest::for_each_file`] or [`Manifest::counts`]).
    ///
    /// # Errors
    /// [`IngestError::Io`] when the database cannot be read.
    pub fn entries(&self) -> Result<Vec<(String, ManifestEntry)>, IngestError> {
        let read = || -> rusqlite::Result<Vec<(String, ManifestEntry)>> {
            let mut stmt = self.conn.prepare(&format!(
                "SELECT sha256, {ENTRY_COLUMNS} FROM content ORDER BY sha256"
            ))?;
            let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, entry_from(r, 1)?)))?;
            rows.collect()
        };
        read().map_err(|e| db_err(Path::new(""), e))
    }

    /// Calls `f` for every file hashed, in path order, with where its content stands. Reads
    /// row by row: memory does not grow with the manifest.
    ///
    /// # Errors
    /// [`IngestError::Io`] when the database cannot be read.
    pub fn for_each_file(&self, mut f: impl FnMut(FileStatus)) -> Result<(), IngestError> {
        let mut read = || -> rusqlite::Result<()> {
            let mut stmt = self.conn.prepare(
                "SELECT f.path, f.size, f.sha256, c.state, c.video_id, c.task_id, c.error \
                 FROM files f LEFT JOIN content c ON c.sha256 = f.sha256 ORDER BY f.path",
            )?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                let path: Vec<u8> = r.get(0)?;
                f(FileStatus {
                    path: path_from_bytes(path),
                    size: u64::try_from(r.get::<_, i64>(1)?).unwrap_or(0),
                    sha256: r.get(2)?,
                    state: r
                        .get::<_, Option<String>>(3)?
                        .and_then(|s| EntryState::parse(&s)),
                    video_id: r.get::<_, Option<String>>(4)?.map(VideoId::from),
                    task_id: r.get::<_, Option<String>>(5)?.map(TaskId::from),
                    error: r.get(6)?,
                });
            }
            Ok(())
        };
        read().map_err(|e| db_err(Path::new(""), e))
    }

    /// How many files stand where.
    ///
    /// # Errors
    /// [`IngestError::Io`] when the database cannot be read.
    pub fn counts(&self) -> Result<ManifestCounts, IngestError> {
        let read = || -> rusqlite::Result<ManifestCounts> {
            let mut stmt = self.conn.prepare(
                "SELECT c.state, count(*) FROM files f LEFT JOIN content c ON c.sha256 = f.sha256 \
                 GROUP BY c.state",
            )?;
            let mut counts = ManifestCounts::default();
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                let n = u64::try_from(r.get::<_, i64>(1)?).unwrap_or(0);
                counts.files = counts.files.saturating_add(n);
                let slot = match r.get::<_, Option<String>>(0)?.as_deref() {
                    Some("ready") => &mut counts.ready,
                    Some("indexing") => &mut counts.indexing,
                    Some("uploading") => &mut counts.uploading,
                    Some("failed") => &mut counts.failed,
                    _ => &mut counts.not_sent,
                };
                *slot = slot.saturating_add(n);
            }
            Ok(counts)
        };
        read().map_err(|e| db_err(Path::new(""), e))
    }

    /// The task-creation quota the last run saw, if any.
    pub fn quota(&self) -> Option<QuotaRecord> {
        read_quota(&self.conn)
    }
}

/// The columns of a [`ManifestEntry`], in the order [`entry_from`] reads them.
const ENTRY_COLUMNS: &str = "source, size, state, task_id, video_id, filename, upload_started_at, tagged, error, updated_at";

fn entry_from(r: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<ManifestEntry> {
    let time = |s: Option<String>| {
        s.and_then(|s| DateTime::parse_from_rfc3339(&s).ok())
            .map(|t| t.with_timezone(&Utc))
    };
    let state: String = r.get(at + 2)?;
    Ok(ManifestEntry {
        source: r.get(at)?,
        size: u64::try_from(r.get::<_, i64>(at + 1)?).unwrap_or(0),
        // A state this version does not know is treated as a failure: sent again.
        state: EntryState::parse(&state).unwrap_or(EntryState::Failed),
        task_id: r.get::<_, Option<String>>(at + 3)?.map(TaskId::from),
        video_id: r.get::<_, Option<String>>(at + 4)?.map(VideoId::from),
        filename: r.get(at + 5)?,
        upload_started_at: time(r.get(at + 6)?),
        tagged: r.get::<_, i64>(at + 7)? != 0,
        error: r.get(at + 8)?,
        updated_at: time(r.get(at + 9)?).unwrap_or_else(Utc::now),
    })
}

pub(super) fn get_entry(conn: &Connection, hash: &str) -> rusqlite::Result<Option<ManifestEntry>> {
    conn.prepare_cached(&format!(
        "SELECT {ENTRY_COLUMNS} FROM content WHERE sha256 = ?1"
    ))?
    .query_row([hash], |r| entry_from(r, 0))
    .optional()
}

pub(super) fn put_entry(conn: &Connection, hash: &str, e: &ManifestEntry) -> rusqlite::Result<()> {
    conn.prepare_cached(&format!(
        "INSERT OR REPLACE INTO content (sha256, {ENTRY_COLUMNS}) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
    ))?
    .execute(params![
        hash,
        e.source,
        i64::try_from(e.size).unwrap_or(i64::MAX),
        e.state.as_str(),
        e.task_id.as_ref().map(|t| t.as_str()),
        e.video_id.as_ref().map(|v| v.as_str()),
        e.filename,
        e.upload_started_at.map(|t| t.to_rfc3339()),
        i64::from(e.tagged),
        e.error,
        e.updated_at.to_rfc3339(),
    ])?;
    Ok(())
}

/// What a file was when it was hashed: if all of it is unchanged, the hash is reused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct FileStamp {
    pub(crate) size: u64,
    pub(crate) mtime_ns: i64,
    pub(crate) inode: u64,
}

impl FileStamp {
    pub(crate) fn of(meta: &std::fs::Metadata) -> Self {
        let mtime_ns = meta
            .modified()
            .ok()
            .and_then(|t| match t.duration_since(SystemTime::UNIX_EPOCH) {
                Ok(d) => i64::try_from(d.as_nanos()).ok(),
                Err(e) => i64::try_from(e.duration().as_nanos()).ok().map(|n| -n),
            })
            .unwrap_or(0);
        #[cfg(unix)]
        let inode = std::os::unix::fs::MetadataExt::ino(meta);
        #[cfg(not(unix))]
        let inode = 0;
        Self {
            size: meta.len(),
            mtime_ns,
            inode,
        }
    }
}

pub(super) fn path_bytes(path: &Path) -> Vec<u8> {
    path.as_os_str().as_encoded_bytes().to_vec()
}

fn path_from_bytes(bytes: Vec<u8>) -> PathBuf {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStringExt;
        PathBuf::from(std::ffi::OsString::from_vec(bytes))
    }
    #[cfg(not(unix))]
    {
        PathBuf::from(String::from_utf8_lossy(&bytes).into_owned())
    }
}

pub(super) fn db_err(path: &Path, e: rusqlite::Error) -> IngestError {
    IngestError::Io {
        path: path.to_path_buf(),
        source: std::io::Error::other(e),
    }
}

pub(super) fn corrupt(path: &Path, reason: impl Into<String>) -> IngestError {
    IngestError::ManifestCorrupt {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

pub(super) enum Kind {
    Missing,
    Empty,
    Sqlite,
    Json(Vec<u8>),
}

/// What the file at `path` is, from its first bytes (nothing is written).
pub(super) fn kind_of(path: &Path) -> Result<Kind, IngestError> {
    let io = |source| IngestError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Kind::Missing),
        Err(e) => return Err(io(e)),
    };
    let meta = file.metadata().map_err(io)?;
    if !meta.is_file() {
        return Err(corrupt(path, "not a regular file"));
    }
    if meta.len() == 0 {
        return Ok(Kind::Empty);
    }
    let mut head = [0u8; 16];
    let n = std::io::Read::read(&mut file, &mut head).map_err(io)?;
    if head.get(..n) == Some(SQLITE_MAGIC) {
        return Ok(Kind::Sqlite);
    }
    let first = head
        .get(..n)
        .unwrap_or_default()
        .iter()
        .find(|b| !b.is_ascii_whitespace());
    if first == Some(&b'{') {
        // The JSON manifest of version 1: at most the size of a few hundred thousand entries.
        const MAX_JSON: u64 = 1 << 30;
        if meta.len() > MAX_JSON {
            return Err(corrupt(
                path,
                "a JSON file over 1 GiB: not an ingest manifest",
            ));
        }
        return std::fs::read(path).map(Kind::Json).map_err(io);
    }
    Err(corrupt(
        path,
        "neither an SQLite database nor a JSON manifest",
    ))
}

/// Creates the tables (in a transaction) of a new manifest.
///
/// What a change costs on disk is the pages it dirties (once in the write-ahead log, once when
/// that is folded back), so the layout keeps them few: tables keyed by their own key (`WITHOUT
/// ROWID`: no second b-tree for the key), 1 KiB pages (a row is a few hundred bytes), no index
/// beyond the keys (the one look-up by task id happens only after a crash, and scans).
pub(super) fn init(conn: &Connection, path: &Path) -> Result<(), IngestError> {
    conn.execute_batch(
        "PRAGMA page_size = 1024;
         BEGIN;
         CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
         CREATE TABLE IF NOT EXISTS content (
            sha256 TEXT PRIMARY KEY, source TEXT NOT NULL, size INTEGER NOT NULL,
            state TEXT NOT NULL, task_id TEXT, video_id TEXT, filename TEXT,
            upload_started_at TEXT, tagged INTEGER NOT NULL DEFAULT 0, error TEXT,
            updated_at TEXT NOT NULL) WITHOUT ROWID;
         CREATE TABLE IF NOT EXISTS files (
            path BLOB PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
            inode INTEGER NOT NULL, sha256 TEXT NOT NULL) WITHOUT ROWID;
         COMMIT;",
    )
    .map_err(|e| db_err(path, e))
}

pub(super) fn set_meta(conn: &Connection, key: &str, value: &str) -> rusqlite::Result<()> {
    conn.prepare_cached("INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)")?
        .execute([key, value])?;
    Ok(())
}

pub(super) fn meta(conn: &Connection, key: &str) -> rusqlite::Result<Option<String>> {
    conn.prepare_cached("SELECT value FROM meta WHERE key = ?1")?
        .query_row([key], |r| r.get(0))
        .optional()
}

/// The index and metadata key of a manifest; `None` for a database with no tables at all (new).
/// A database of something else, or of a later format, is [`IngestError::ManifestCorrupt`].
pub(super) fn read_meta(
    conn: &Connection,
    path: &Path,
) -> Result<Option<(IndexId, String)>, IngestError> {
    let tables: i64 = conn
        .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
        .map_err(|e| corrupt(path, format!("not a readable SQLite database: {e}")))?;
    if tables == 0 {
        return Ok(None);
    }
    let not_ours = || corrupt(path, "an SQLite database, but not an ingest manifest");
    let format = meta(conn, "format").map_err(|_| not_ours())?;
    if format.as_deref() != Some(FORMAT) {
        return Err(not_ours());
    }
    let version = meta(conn, "version")
        .map_err(|e| db_err(path, e))?
        .and_then(|v| v.parse::<u32>().ok());
    if version != Some(MANIFEST_VERSION) {
        return Err(corrupt(
            path,
            format!(
                "format version {}; this version of twelvelabs reads version {MANIFEST_VERSION}",
                version.map_or_else(|| "unknown".to_owned(), |v| v.to_string())
            ),
        ));
    }
    let index = meta(conn, "index_id").map_err(|e| db_err(path, e))?;
    let key = meta(conn, "metadata_key").map_err(|e| db_err(path, e))?;
    match (index, key) {
        (Some(i), Some(k)) => Ok(Some((IndexId::from(i), k))),
        _ => Err(corrupt(path, "the manifest names no index")),
    }
}

pub(super) fn read_quota(conn: &Connection) -> Option<QuotaRecord> {
    let remaining = meta(conn, "quota_remaining").ok()??.parse().ok()?;
    let reset: u64 = meta(conn, "quota_reset").ok()??.parse().ok()?;
    Some(QuotaRecord {
        remaining,
        resets_at: SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(reset))?,
    })
}

/// The manifest format of version 1 (one JSON document), read to import it.
#[derive(Deserialize)]
pub(super) struct ManifestV1 {
    pub(super) index_id: IndexId,
    metadata_key: String,
    entries: std::collections::BTreeMap<String, ManifestEntry>,
}

/// Reads a version-1 JSON manifest.
pub(super) fn parse_v1(path: &Path, bytes: &[u8]) -> Result<ManifestV1, IngestError> {
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| corrupt(path, format!("not JSON: {e}")))?;
    match value.get("version").and_then(serde_json::Value::as_u64) {
        Some(1) => {}
        Some(v) => {
            return Err(corrupt(
                path,
                format!(
                    "format version {v}; this version of twelvelabs reads versions 1 and \
                     {MANIFEST_VERSION}"
                ),
            ));
        }
        None => return Err(corrupt(path, "no format version: not an ingest manifest")),
    }
    let m: ManifestV1 = serde_path_to_error::deserialize(value)
        .map_err(|e| corrupt(path, format!("at {}: {}", e.path(), e.inner())))?;
    if let Some(bad) = m.entries.keys().find(|k| !is_sha256_hex(k)) {
        return Err(corrupt(
            path,
            format!("entry key {bad:?} is not a SHA-256 hex digest"),
        ));
    }
    Ok(m)
}

/// Fills a new database from a version-1 manifest.
pub(super) fn write_v1(conn: &Connection, path: &Path, m: &ManifestV1) -> Result<(), IngestError> {
    let write = || -> rusqlite::Result<()> {
        conn.execute_batch("BEGIN")?;
        set_meta(conn, "format", FORMAT)?;
        set_meta(conn, "version", &MANIFEST_VERSION.to_string())?;
        set_meta(conn, "index_id", m.index_id.as_str())?;
        set_meta(conn, "metadata_key", &m.metadata_key)?;
        for (hash, e) in &m.entries {
            put_entry(conn, hash, e)?;
        }
        conn.execute_batch("COMMIT")
    };
    write().map_err(|e| db_err(path, e))
}

pub(crate) fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}
