//! One-line errors with a hint, and their exit codes.

use twelvelabs::ingest::IngestError;
use twelvelabs::{Error, ErrorCode};

use crate::exit;

/// An error the tool reports: `error: …` and `hint: …` on stderr, then the exit code.
#[derive(Debug)]
pub struct CliError {
    pub message: String,
    pub hint: Option<String>,
    pub code: u8,
}

impl CliError {
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            hint: None,
            code: exit::FAILED,
        }
    }

    pub fn config(message: impl Into<String>) -> Self {
        Self {
            code: exit::CONFIG,
            ..Self::new(message)
        }
    }

    pub fn usage(message: impl Into<String>) -> Self {
        Self {
            code: exit::USAGE,
            ..Self::new(message)
        }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn print(&self) {
        let (red, dim) = (crate::render::red("error:"), crate::render::dim("hint:"));
        // One line each: a message from the server never breaks the layout.
        eprintln!("{red} {}", one_line(&self.message));
        if let Some(h) = &self.hint {
            eprintln!("{dim} {}", one_line(h));
        }
    }
}

fn one_line(s: &str) -> String {
    crate::render::clean(s)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

impl From<Error> for CliError {
    fn from(e: Error) -> Self {
        let message = e.to_string();
        let status = e.status().map(|s| s.as_u16());
        let mut out = Self::new(message);
        match &e {
            Error::Config { .. } => {
                out.code = exit::CONFIG;
                out.hint = Some(
                    "check TWELVE_LABS_API_KEY and TWELVELABS_BASE_URL (or --base-url)".into(),
                );
            }
            Error::InvalidInput { .. } => {
                out.code = exit::USAGE;
            }
            Error::Connection { .. } | Error::Timeout { .. } => {
                out.hint = Some(
                    "is the network up and the base URL right? (--base-url / TWELVELABS_BASE_URL)"
                        .into(),
                );
            }
            Error::RateLimited(r) => {
                out.hint = Some(match r.retry_after {
                    Some(d) => {
                        format!("the API asks to wait {} s before trying again", d.as_secs())
                    }
                    None => "the API's rate limit was reached; try again later".into(),
                });
            }
            _ => {}
        }
        if status == Some(401) || e.code() == Some(&ErrorCode::ApiKeyInvalid) {
            out.code = exit::CONFIG;
            out.hint = Some(
                "the API refused the key: check TWELVE_LABS_API_KEY (or --api-key-file)".into(),
            );
        } else if matches!(
            e.code(),
            Some(ErrorCode::ResourceNotExists | ErrorCode::ResourceNotExist)
        ) {
            out.hint = Some(
                "check the id: `twelvelabs index list`, `twelvelabs videos list --index …`".into(),
            );
        }
        out
    }
}

impl From<IngestError> for CliError {
    fn from(e: IngestError) -> Self {
        match e {
            IngestError::Api(e) => e.into(),
            IngestError::ManifestCorrupt { ref path, .. } => {
                Self::new(e.to_string()).hint(format!(
                    "to start over: mv {} {}.bak (the index itself is still checked, so nothing is \
                 uploaded twice)",
                    path.display(),
                    path.display()
                ))
            }
            IngestError::ManifestIndexMismatch { .. } => Self::usage(e.to_string())
                .hint("each index has its own manifest: pass --manifest with another path"),
            IngestError::ManifestLocked { .. } => Self::new(e.to_string())
                .hint("one ingest per manifest: wait for the other, or pass another --manifest"),
            IngestError::Io { .. } => Self::new(e.to_string()).hint(
                "the manifest must be writable: pass --manifest PATH to keep it elsewhere, or \
                 --no-manifest",
            ),
            other => Self::new(other.to_string()),
        }
    }
}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> Self {
        Self::new(e.to_string())
    }
}
