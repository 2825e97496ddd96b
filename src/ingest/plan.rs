//! Turning sources (files, folders, URLs) into the items to ingest, with every check that can be
//! made before anything is sent.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::Source;
use super::manifest::FileStamp;
use crate::upload::MAX_FILE_SIZE;

/// File extensions taken from a folder (case-insensitive). A file named on its own is always
/// taken, whatever its extension.
pub const VIDEO_EXTENSIONS: &[&str] = &[
    "3gp", "avi", "flv", "m2ts", "m4v", "mkv", "mov", "mp4", "mpeg", "mpg", "mts", "mxf", "ogv",
    "ts", "webm", "wmv",
];

/// How deep folders are walked; deeper ones are rejected (a bind-mount loop cannot recurse forever).
const MAX_DEPTH: usize = 64;

/// One file or URL to ingest.
#[derive(Debug)]
pub(crate) struct PlanItem {
    pub(crate) source: Source,
    /// The file's size, modification time and inode when it was planned (`None` for a URL).
    pub(crate) stamp: Option<FileStamp>,
}

impl PlanItem {
    pub(crate) fn size(&self) -> u64 {
        self.stamp.as_ref().map_or(0, |s| s.size)
    }
}

/// What planning found.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    pub(crate) items: Vec<PlanItem>,
    /// Sources that will not be sent, with the reason: they count as failures.
    pub(crate) rejected: Vec<(Source, String)>,
    /// Files in folders that are not videos (or hidden): left alone, not failures.
    pub(crate) ignored: Vec<(Source, String)>,
}

/// Expands and checks the sources (blocking file-system calls: run it off the async runtime).
pub(crate) fn plan(sources: &[Source], recursive: bool) -> Plan {
    let mut plan = Plan::default();
    let mut seen = Seen::default();
    let mut seen_urls: HashSet<String> = HashSet::new();
    for source in sources {
        match source {
            Source::Url(u) => match check_url(u) {
                Ok(()) => {
                    if seen_urls.insert(u.clone()) {
                        plan.items.push(PlanItem {
                            source: source.clone(),
                            stamp: None,
                        });
                    }
                }
                Err(reason) => plan.rejected.push((source.clone(), reason)),
            },
            Source::File(p) => add_path(&mut plan, &mut seen, p, true, recursive, 0),
        }
    }
    plan
}

fn check_url(u: &str) -> Result<(), String> {
    let url = reqwest::Url::parse(u).map_err(|e| format!("not a valid URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("only http(s) URLs can be indexed".into());
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("the URL has no host".into());
    }
    Ok(())
}

fn add_path(
    plan: &mut Plan,
    seen: &mut Seen,
    path: &Path,
    explicit: bool,
    recursive: bool,
    depth: usize,
) {
    let source = Source::File(path.to_path_buf());
    let link = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) => {
            let reason = if e.kind() == std::io::ErrorKind::NotFound {
                "does not exist".to_owned()
            } else {
                format!("cannot be read: {e}")
            };
            plan.rejected.push((source, reason));
            return;
        }
    };
    let is_link = link.file_type().is_symlink();
    // Symbolic links are followed to their target, so the target is what gets checked and sent.
    let meta = if is_link {
        match std::fs::metadata(path) {
            Ok(m) => m,
            Err(_) => {
                plan.rejected.push((source, "broken symbolic link".into()));
                return;
            }
        }
    } else {
        link
    };
    if meta.is_dir() {
        if is_link && !explicit {
            // A link to a folder inside a folder could loop back: not followed.
            plan.ignored.push((
                source,
                "symbolic link to a folder inside a folder: not followed".into(),
            ));
            return;
        }
        if !explicit && !recursive {
            plan.ignored
                .push((source, "sub-folder (recursion is off)".into()));
            return;
        }
        if depth >= MAX_DEPTH {
            plan.rejected
                .push((source, format!("nested more than {MAX_DEPTH} folders deep")));
            return;
        }
        let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        if !seen.folders.insert(canonical) {
            return;
        }
        let mut children: Vec<PathBuf> = match std::fs::read_dir(path) {
            Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.path())).collect(),
            Err(e) => {
                plan.rejected
                    .push((source, format!("the folder cannot be read: {e}")));
                return;
            }
        };
        children.sort();
        for child in children {
            let hidden = child
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'));
            if hidden {
                continue;
            }
            add_path(plan, seen, &child, false, recursive, depth + 1);
        }
        return;
    }
    if !meta.is_file() {
        plan.rejected.push((
            source,
            "not a regular file (a device, socket or pipe)".into(),
        ));
        return;
    }
    if !explicit && !has_video_extension(path) {
        plan.ignored
            .push((source, "not a video file extension".into()));
        return;
    }
    let len = meta.len();
    if len == 0 {
        plan.rejected.push((source, "the file is empty".into()));
        return;
    }
    if len > MAX_FILE_SIZE {
        plan.rejected.push((
            source,
            format!("the file is {len} bytes; the API accepts at most {MAX_FILE_SIZE} (2 GB)"),
        ));
        return;
    }
    if seen.file(path, &meta) {
        plan.items.push(PlanItem {
            source,
            stamp: Some(FileStamp::of(&meta)),
        });
    }
}

/// What the walk has taken already: folders by canonical path, files by device and inode (16
/// bytes each, and no `realpath` per file: a library of 100,000 files costs little).
#[derive(Default)]
struct Seen {
    folders: HashSet<PathBuf>,
    #[cfg(unix)]
    files: HashSet<(u64, u64)>,
    #[cfg(not(unix))]
    files: HashSet<PathBuf>,
}

impl Seen {
    /// Whether the file is seen for the first time (a link, or a folder and a file in it, can
    /// reach the same file twice).
    #[cfg(unix)]
    fn file(&mut self, _path: &Path, meta: &std::fs::Metadata) -> bool {
        use std::os::unix::fs::MetadataExt;
        self.files.insert((meta.dev(), meta.ino()))
    }

    #[cfg(not(unix))]
    fn file(&mut self, path: &Path, _meta: &std::fs::Metadata) -> bool {
        self.files
            .insert(std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()))
    }
}

fn has_video_extension(path: &Path) -> bool {
    path.extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .is_some_and(|e| VIDEO_EXTENSIONS.contains(&e.as_str()))
}
