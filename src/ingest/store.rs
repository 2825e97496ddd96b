//! The manifest of a running ingest: opening it for a run (creating or importing it), the writer
//! thread that commits changes together, and the lock against two runs.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc as std_mpsc;
use std::time::Duration;

use chrono::Utc;
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use tokio::sync::oneshot;

use super::IngestError;
use super::manifest::{
    EntryState, FileStamp, Kind, ManifestEntry, QuotaRecord, db_err, epoch, get_entry, init,
    kind_of, parse_v1, path_bytes, put_entry, read_meta, read_quota, set_meta, write_v1,
};
use crate::ids::IndexId;

/// What opening the manifest for a run found.
pub(crate) struct Opened {
    pub(crate) store: Store,
    /// The quota the previous run saw.
    pub(crate) quota: Option<QuotaRecord>,
    /// A version-1 JSON manifest that was imported, and where its backup is.
    pub(crate) imported_from: Option<PathBuf>,
}

/// Opens (creating or importing as needed) the manifest of a run for `index`. Nothing is written
/// to a file that is not a manifest of this index.
pub(crate) fn open_for_run(
    path: Option<&Path>,
    index: &IndexId,
    metadata_key: &str,
) -> Result<Opened, IngestError> {
    let Some(path) = path else {
        let conn = Connection::open_in_memory().map_err(|e| db_err(Path::new(":memory:"), e))?;
        init(&conn, Path::new(":memory:"))?;
        write_new_meta(&conn, Path::new(":memory:"), index, metadata_key)?;
        return Ok(Opened {
            store: Store::spawn(conn, PathBuf::from(":memory:"))?,
            quota: None,
            imported_from: None,
        });
    };
    let mut imported_from = None;
    if let Kind::Json(bytes) = kind_of(path)? {
        imported_from = Some(import_file(path, &bytes, index)?);
    }
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| db_err(path, e))?;
    conn.busy_timeout(Duration::from_secs(10))
        .map_err(|e| db_err(path, e))?;
    // Checked before anything is written: a foreign database is left as it is.
    let known = read_meta(&conn, path)?;
    if let Some((manifest_index, _)) = &known
        && manifest_index != index
    {
        return Err(IngestError::ManifestIndexMismatch {
            path: path.to_path_buf(),
            manifest_index: manifest_index.clone(),
            index: index.clone(),
        });
    }
    if known.is_none() {
        // Before the write-ahead log: the page size is set when the first table is made.
        init(&conn, path)?;
        write_new_meta(&conn, path, index, metadata_key)?;
    }
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(|e| db_err(path, e))?;
    // Every commit reaches the disk before the run goes on (an upload is never started before
    // its "uploading" record is durable).
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(|e| db_err(path, e))?;
    // A page changed several times between two checkpoints is written back once: 4 MiB of log
    // (4,096 pages of 1 KiB) between them.
    conn.pragma_update(None, "wal_autocheckpoint", 4096)
        .map_err(|e| db_err(path, e))?;
    if let Some((_, key)) = known
        && key != metadata_key
    {
        // The hashes are stored under another key: tag again under this one.
        let retag = || -> rusqlite::Result<()> {
            conn.execute_batch("BEGIN; UPDATE content SET tagged = 0;")?;
            set_meta(&conn, "metadata_key", metadata_key)?;
            conn.execute_batch("COMMIT")
        };
        retag().map_err(|e| db_err(path, e))?;
    }
    let quota = read_quota(&conn);
    Ok(Opened {
        store: Store::spawn(conn, path.to_path_buf())?,
        quota,
        imported_from,
    })
}

fn write_new_meta(
    conn: &Connection,
    path: &Path,
    index: &IndexId,
    metadata_key: &str,
) -> Result<(), IngestError> {
    let write = || -> rusqlite::Result<()> {
        conn.execute_batch("BEGIN")?;
        set_meta(conn, "format", super::manifest::FORMAT)?;
        set_meta(conn, "version", &super::MANIFEST_VERSION.to_string())?;
        set_meta(conn, "index_id", index.as_str())?;
        set_meta(conn, "metadata_key", metadata_key)?;
        conn.execute_batch("COMMIT")
    };
    write().map_err(|e| db_err(path, e))
}

/// Replaces the version-1 JSON manifest at `path` by a database holding the same entries, keeping
/// the JSON as `<path>.v1.bak`. Crash-safe: the database is built beside it and renamed over it
/// last, so a crash before that leaves the JSON in place and the import is done again.
fn import_file(path: &Path, bytes: &[u8], index: &IndexId) -> Result<PathBuf, IngestError> {
    let with_suffix = |s: &str| {
        let mut name = path.as_os_str().to_owned();
        name.push(s);
        PathBuf::from(name)
    };
    let (tmp, backup) = (with_suffix(".importing"), with_suffix(".v1.bak"));
    // Read and checked before anything is written.
    let m = parse_v1(path, bytes)?;
    if &m.index_id != index {
        return Err(IngestError::ManifestIndexMismatch {
            path: path.to_path_buf(),
            manifest_index: m.index_id,
            index: index.clone(),
        });
    }
    for leftover in [".importing", ".importing-journal"] {
        let _ = std::fs::remove_file(with_suffix(leftover));
    }
    let built = (|| {
        let conn = Connection::open(&tmp).map_err(|e| db_err(&tmp, e))?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(|e| db_err(&tmp, e))?;
        init(&conn, &tmp)?;
        write_v1(&conn, &tmp, &m)
    })();
    if let Err(e) = built {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |source| IngestError::Io { path: p, source }
    };
    std::fs::File::open(&tmp)
        .and_then(|f| f.sync_all())
        .map_err(io(&tmp))?;
    write_atomic(&backup, bytes).map_err(io(&backup))?;
    std::fs::rename(&tmp, path).map_err(io(path))?;
    sync_dir(path).map_err(io(path))?;
    Ok(backup)
}

type Reply<T> = oneshot::Sender<rusqlite::Result<T>>;

/// A request to the manifest's writer thread.
enum Cmd {
    GetFile(Vec<u8>, Reply<Option<(FileStamp, String)>>),
    PutFile(Vec<u8>, FileStamp, String, Reply<()>),
    ForgetFile(Vec<u8>, Reply<()>),
    Get(String, Reply<Option<ManifestEntry>>),
    Update(
        String,
        Box<dyn FnOnce(Option<ManifestEntry>) -> Option<ManifestEntry> + Send>,
        Reply<()>,
    ),
    TaskKnown(String, Reply<bool>),
    Quota(QuotaRecord, Reply<()>),
    /// Folds the write-ahead log into the database and stops the writer: the run is over.
    Close(Reply<()>),
}

/// The manifest of a running ingest: one thread owns the database and commits the changes that
/// queue up while it writes in one transaction (group commit); each caller resumes once its change
/// is durable.
pub(crate) struct Store {
    path: PathBuf,
    tx: std_mpsc::Sender<Cmd>,
}

/// Changes committed together at most.
const MAX_BATCH: usize = 512;
/// How long a commit waits for more changes to join it.
const LINGER: Duration = Duration::from_millis(2);

impl Store {
    fn spawn(conn: Connection, path: PathBuf) -> Result<Self, IngestError> {
        let (tx, rx) = std_mpsc::channel::<Cmd>();
        std::thread::Builder::new()
            .name("twelvelabs-manifest".into())
            .spawn(move || serve(conn, &rx))
            .map_err(|source| IngestError::Io {
                path: path.clone(),
                source,
            })?;
        Ok(Self { path, tx })
    }

    /// The manifest file (`:memory:` when the run keeps none).
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    async fn ask<T>(&self, make: impl FnOnce(Reply<T>) -> Cmd) -> Result<T, IngestError> {
        let (reply, answer) = oneshot::channel();
        let gone = || IngestError::Io {
            path: self.path.clone(),
            source: std::io::Error::other("the manifest writer stopped"),
        };
        self.tx.send(make(reply)).map_err(|_| gone())?;
        answer
            .await
            .map_err(|_| gone())?
            .map_err(|e| db_err(&self.path, e))
    }

    /// The stamp and hash recorded for a file.
    pub(crate) async fn file(
        &self,
        path: &Path,
    ) -> Result<Option<(FileStamp, String)>, IngestError> {
        self.ask(|r| Cmd::GetFile(path_bytes(path), r)).await
    }

    /// Records the hash of a file as it was when hashed.
    pub(crate) async fn put_file(
        &self,
        path: &Path,
        stamp: FileStamp,
        hash: &str,
    ) -> Result<(), IngestError> {
        self.ask(|r| Cmd::PutFile(path_bytes(path), stamp, hash.to_owned(), r))
            .await
    }

    /// Forgets the hash of a file (it changed): the next run reads it again.
    pub(crate) async fn forget_file(&self, path: &Path) -> Result<(), IngestError> {
        self.ask(|r| Cmd::ForgetFile(path_bytes(path), r)).await
    }

    /// The entry for `hash`, if any.
    pub(crate) async fn get(&self, hash: &str) -> Result<Option<ManifestEntry>, IngestError> {
        self.ask(|r| Cmd::Get(hash.to_owned(), r)).await
    }

    /// Whether an entry records this task (so a lost task is not claimed twice).
    pub(crate) async fn task_known(&self, task: &str) -> Result<bool, IngestError> {
        self.ask(|r| Cmd::TaskKnown(task.to_owned(), r)).await
    }

    /// Keeps the quota last seen for the next run.
    pub(crate) async fn set_quota(&self, q: QuotaRecord) -> Result<(), IngestError> {
        self.ask(|r| Cmd::Quota(q, r)).await
    }

    /// Removes the entry of `hash` (nothing of it reached the API).
    pub(crate) async fn remove(&self, hash: &str) -> Result<(), IngestError> {
        self.ask(|r| Cmd::Update(hash.to_owned(), Box::new(|_| None), r))
            .await
    }

    /// Puts the entry of `hash` in `state` (creating it for `source` of `size` bytes if need be),
    /// then applies `f`; returns once the change is durable.
    pub(crate) async fn set(
        &self,
        hash: &str,
        source: &str,
        size: u64,
        state: EntryState,
        f: impl FnOnce(&mut ManifestEntry) + Send + 'static,
    ) -> Result<(), IngestError> {
        let (source, hash_owned) = (source.to_owned(), hash.to_owned());
        self.ask(|r| {
            Cmd::Update(
                hash_owned,
                Box::new(move |old| {
                    let mut e = old.unwrap_or_else(|| ManifestEntry::new(source, size, state));
                    e.state = state;
                    f(&mut e);
                    e.updated_at = Utc::now();
                    Some(e)
                }),
                r,
            )
        })
        .await
    }

    /// Folds the write-ahead log into the database file and stops the writer, so the manifest
    /// is one self-contained file between runs.
    pub(crate) async fn close(&self) -> Result<(), IngestError> {
        self.ask(Cmd::Close).await
    }

    /// Marks the video of `hash` as carrying its content hash.
    pub(crate) async fn set_tagged(&self, hash: &str) -> Result<(), IngestError> {
        self.ask(|r| {
            Cmd::Update(
                hash.to_owned(),
                Box::new(|old| {
                    old.map(|mut e| {
                        e.tagged = true;
                        e
                    })
                }),
                r,
            )
        })
        .await
    }
}

/// The writer thread: takes what is queued (up to [`MAX_BATCH`]), runs it in one transaction,
/// commits, then answers. Ends when every [`Store`] handle is gone.
fn serve(conn: Connection, rx: &std_mpsc::Receiver<Cmd>) {
    let is_write = |c: &Cmd| {
        matches!(
            c,
            Cmd::PutFile(..) | Cmd::ForgetFile(..) | Cmd::Update(..) | Cmd::Quota(..)
        )
    };
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(c) => batch.push(c),
                Err(_) => break,
            }
        }
        let writes = batch.iter().any(is_write);
        if writes {
            // A commit costs a disk write and an fsync whatever it holds: the changes that arrive
            // within LINGER ride along (reads arriving meanwhile wait as long at most).
            let until = std::time::Instant::now() + LINGER;
            while batch.len() < MAX_BATCH {
                let left = until.saturating_duration_since(std::time::Instant::now());
                match rx.recv_timeout(left) {
                    Ok(c) => batch.push(c),
                    Err(_) => break,
                }
            }
        }
        if writes && let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
            fail_all(batch, &e);
            continue;
        }
        let mut done: Vec<(Reply<()>, rusqlite::Result<()>)> = Vec::new();
        let mut closing = None;
        for cmd in batch {
            match cmd {
                Cmd::GetFile(p, r) => {
                    let _ = r.send(get_file(&conn, &p));
                }
                Cmd::Get(h, r) => {
                    let _ = r.send(get_entry(&conn, &h));
                }
                Cmd::TaskKnown(t, r) => {
                    let _ = r.send(task_known(&conn, &t));
                }
                Cmd::PutFile(p, stamp, hash, r) => {
                    done.push((r, put_file(&conn, &p, &stamp, &hash)))
                }
                Cmd::ForgetFile(p, r) => done.push((
                    r,
                    conn.prepare_cached("DELETE FROM files WHERE path = ?1")
                        .and_then(|mut s| s.execute([p]))
                        .map(|_| ()),
                )),
                Cmd::Update(h, f, r) => {
                    let result = get_entry(&conn, &h).and_then(|old| match f(old) {
                        Some(new) => put_entry(&conn, &h, &new),
                        None => conn
                            .prepare_cached("DELETE FROM content WHERE sha256 = ?1")
                            .and_then(|mut s| s.execute([&h]))
                            .map(|_| ()),
                    });
                    done.push((r, result));
                }
                Cmd::Close(r) => closing = Some(r),
                Cmd::Quota(q, r) => {
                    let result = set_meta(&conn, "quota_remaining", &q.remaining.to_string())
                        .and_then(|()| {
                            set_meta(&conn, "quota_reset", &epoch(q.resets_at).to_string())
                        });
                    done.push((r, result));
                }
            }
        }
        if writes {
            let committed = if done.iter().any(|(_, r)| r.is_err()) {
                // Nothing of a batch with a failed change is kept: each caller hears it.
                let _ = conn.execute_batch("ROLLBACK");
                Err(rusqlite::Error::ExecuteReturnedResults)
            } else {
                conn.execute_batch("COMMIT")
            };
            for (reply, result) in done {
                let result = match (&committed, result) {
                    (_, Err(e)) => Err(e),
                    (Err(e), Ok(())) => Err(clone_err(e)),
                    (Ok(()), Ok(())) => Ok(()),
                };
                let _ = reply.send(result);
            }
        }
        if let Some(reply) = closing {
            let result = conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)");
            let closed = conn.close().map_err(|(_, e)| e);
            let _ = reply.send(result.and(closed));
            return;
        }
    }
}

fn clone_err(e: &rusqlite::Error) -> rusqlite::Error {
    let message = match e {
        rusqlite::Error::ExecuteReturnedResults => {
            "another change of the same batch failed".to_owned()
        }
        other => other.to_string(),
    };
    rusqlite::Error::SqliteFailure(
        rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ERROR),
        Some(message),
    )
}

fn fail_all(batch: Vec<Cmd>, e: &rusqlite::Error) {
    for cmd in batch {
        let err = clone_err(e);
        match cmd {
            Cmd::GetFile(_, r) => drop(r.send(Err(err))),
            Cmd::Get(_, r) => drop(r.send(Err(err))),
            Cmd::TaskKnown(_, r) => drop(r.send(Err(err))),
            Cmd::Close(r) => drop(r.send(Err(err))),
            Cmd::PutFile(.., r)
            | Cmd::ForgetFile(_, r)
            | Cmd::Update(_, _, r)
            | Cmd::Quota(_, r) => {
                drop(r.send(Err(err)));
            }
        }
    }
}

fn get_file(conn: &Connection, path: &[u8]) -> rusqlite::Result<Option<(FileStamp, String)>> {
    conn.prepare_cached("SELECT size, mtime_ns, inode, sha256 FROM files WHERE path = ?1")?
        .query_row([path], |r| {
            Ok((
                FileStamp {
                    size: u64::try_from(r.get::<_, i64>(0)?).unwrap_or(u64::MAX),
                    mtime_ns: r.get(1)?,
                    inode: u64::from_ne_bytes(r.get::<_, i64>(2)?.to_ne_bytes()),
                },
                r.get(3)?,
            ))
        })
        .optional()
}

fn put_file(conn: &Connection, path: &[u8], s: &FileStamp, hash: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT OR REPLACE INTO files (path, size, mtime_ns, inode, sha256) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        path,
        i64::try_from(s.size).unwrap_or(i64::MAX),
        s.mtime_ns,
        i64::from_ne_bytes(s.inode.to_ne_bytes()),
        hash
    ])?;
    Ok(())
}

fn task_known(conn: &Connection, task: &str) -> rusqlite::Result<bool> {
    conn.prepare_cached("SELECT 1 FROM content WHERE task_id = ?1 LIMIT 1")?
        .query_row([task], |_| Ok(()))
        .optional()
        .map(|r| r.is_some())
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

fn sync_dir(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::File::open(&dir)?.sync_all()?;
    }
    let _ = path;
    Ok(())
}

/// Replaces `path` with `bytes` so that a crash leaves the old or the new content: a temporary
/// file in the same folder, `fsync`, `rename` over the target, `fsync` of the folder.
fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
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
        sync_dir(path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
