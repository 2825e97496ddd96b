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

/// Checks that `value` stays exactly one URL path segment once the generated client has
/// percent-encoded it: not blank, not a dot segment (`.`, `..`), no backslash (URL parsers treat it
/// as `/` in `http(s)` URLs), nothing the URL parser would normalise away. Otherwise
/// `tl.videos(index).delete("..")` would address the index itself.
///
/// The test is the real one: the encoded value is put in a URL and must come back unchanged as the
/// only segment (ids made only of unreserved characters skip it: nothing can change them). Returns
/// why it does not, for an [`Error::InvalidInput`].
pub(crate) fn check_segment(value: &str) -> std::result::Result<(), &'static str> {
    if value.trim().is_empty() {
        return Err("must not be empty");
    }
    if matches!(value, "." | "..") {
        return Err(
            "must not be `.` or `..` (a path segment that would change the request's target)",
        );
    }
    // Fast path (every real id): only unreserved characters, which neither the encoder nor the
    // URL parser touch; a dot segment is then only `.` or `..`, refused above.
    if value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~'))
    {
        return Ok(());
    }
    let encoded = progenitor_client::encode_path(value);
    let stays = reqwest::Url::parse(&format!("http://h/{encoded}"))
        .is_ok_and(|url| url.path().strip_prefix('/') == Some(encoded.as_str()));
    if stays {
        Ok(())
    } else {
        Err(
            "must be a single URL path segment (no `\\`, and not a `.`/`..` segment in any spelling)",
        )
    }
}

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
            /// The id, checked to be usable as one URL path segment (see [`check_segment`]), for
            /// a request field named `field`.
            pub(crate) fn checked(&self, field: &'static str) -> Result<&str> {
                check_segment(&self.0).map_err(|reason| Error::invalid(field, reason))?;
                Ok(&self.0)
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
        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }
        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }
        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                &self.0 == other
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_must_stay_one_path_segment() {
        for ok in [
            "66659a3efa7835326810120c",
            "marengo2.6",
            "...",
            ".a",
            "a.",
            "a b",
            "a/b",
            "a?b#c",
            "%2e%2e",
            "é",
            "a%",
        ] {
            assert_eq!(check_segment(ok), Ok(()), "{ok:?}");
        }
        for bad in ["", "  ", ".", "..", "a\\b", "\\", "\\.."] {
            assert!(check_segment(bad).is_err(), "{bad:?}");
        }
        let e = VideoId::from("..").checked("video_id").unwrap_err();
        assert!(
            matches!(&e, Error::InvalidInput { field, .. } if field == "video_id"),
            "{e:?}"
        );
    }
}
