//! Typed ids, so an index id cannot be passed where a video id is expected.
//!
//! Every id converts from `&str`, `String` and references to itself, so calls accept plain strings:
//!
//! ```
//! use twelvelabs::{IndexId, VideoId};
//! let index = IndexId::from("666599d4e6fb7df29de0f89c");
//! let video: VideoId = "66659a48d22b3a3c97bf1d5f".into();
//! assert_eq!(index.as_str(), "666599d4e6fb7df29de0f89c");
//! assert_eq!(video.to_string(), "66659a48d22b3a3c97bf1d5f");
//! ```

use crate::error::{Error, Result};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Wraps an id string.
            pub fn new(id: impl Into<String>) -> Self {
                Self(id.into())
            }
            /// The id as a string.
            pub fn as_str(&self) -> &str {
                &self.0
            }
            /// The id, checked to be non-empty, for a request field named `field`.
            pub(crate) fn checked(&self, field: &'static str) -> Result<&str> {
                if self.0.trim().is_empty() {
                    Err(Error::invalid(field, "must not be empty"))
                } else {
                    Ok(&self.0)
                }
            }
        }
        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self(s.to_owned())
            }
        }
        impl From<String> for $name {
            fn from(s: String) -> Self {
                Self(s)
            }
        }
        impl From<&String> for $name {
            fn from(s: &String) -> Self {
                Self(s.clone())
            }
        }
        impl From<&$name> for $name {
            fn from(s: &$name) -> Self {
                s.clone()
            }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

id_type!(
    /// The id of an index.
    IndexId
);
id_type!(
    /// The id of a video in an index.
    VideoId
);
id_type!(
    /// The id of a video indexing task.
    TaskId
);
id_type!(
    /// The id of a video embedding task.
    EmbedTaskId
);
id_type!(
    /// The id of an engine (e.g. `marengo2.6`).
    EngineId
);
id_type!(
    /// The id of a cloud-storage integration.
    IntegrationId
);
