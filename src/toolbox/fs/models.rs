//! What the file endpoints answer (`FileInfo`, `Match`, `ReplaceResult`)
//! and the parameters of `set_file_permissions`.
//!
//! Decoding is lenient: unknown fields are ignored and fields the toolbox
//! may leave out take their default.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A file or folder (`FileInfo`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct FileInfo {
    /// Its name, without the folder.
    pub name: String,
    /// Whether it is a folder.
    #[serde(default)]
    pub is_dir: bool,
    /// Its size in bytes.
    #[serde(default, deserialize_with = "crate::models::number::int")]
    pub size: u64,
    /// Its mode as the toolbox shows it, e.g. `-rw-r--r--`.
    #[serde(default)]
    pub mode: String,
    /// Its permission bits in octal, e.g. `0644`.
    #[serde(default)]
    pub permissions: String,
    /// The user that owns it.
    #[serde(default)]
    pub owner: String,
    /// Its group.
    #[serde(default)]
    pub group: String,
    /// When it was last modified, RFC 3339.
    #[serde(default)]
    pub modified_at: Option<String>,
    /// When it was last modified, in Go's `time.String()` layout
    /// (deprecated by the toolbox in favour of `modified_at`).
    #[serde(default)]
    pub mod_time: Option<String>,
}

/// A line that contains the pattern of [`super::FileSystem::find_files`]
/// (`Match`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Match {
    /// The file.
    pub file: String,
    /// The line number, from 1: the spec's unbounded `integer`, kept as
    /// sent.
    #[serde(default)]
    pub line: i64,
    /// The line's text.
    #[serde(default)]
    pub content: String,
}

/// The outcome of [`super::FileSystem::replace_in_files`] for one file
/// (`ReplaceResult`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ReplaceResult {
    /// The file.
    #[serde(default)]
    pub file: String,
    /// Whether the replacement was made.
    #[serde(default)]
    pub success: bool,
    /// Why it was not.
    #[serde(default)]
    pub error: Option<String>,
}

/// New mode, owner or group of a file, for
/// [`super::FileSystem::set_file_permissions`]; at least one must be set.
///
/// ```
/// use daytona::toolbox::FilePermissions;
///
/// let p = FilePermissions::new().mode("0640").owner("daytona").group("staff");
/// # let _ = p;
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[must_use]
pub struct FilePermissions {
    pub(super) mode: Option<String>,
    pub(super) owner: Option<String>,
    pub(super) group: Option<String>,
}

impl FilePermissions {
    /// No change yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The permission bits in octal, such as `"644"` or `"0755"`.
    pub fn mode(mut self, mode: impl Into<String>) -> Self {
        self.mode = Some(mode.into());
        self
    }

    /// The owner: a user name or a numeric uid.
    pub fn owner(mut self, owner: impl Into<String>) -> Self {
        self.owner = Some(owner.into());
        self
    }

    /// The group: a group name or a numeric gid.
    pub fn group(mut self, group: impl Into<String>) -> Self {
        self.group = Some(group.into());
        self
    }

    pub(super) fn validate(&self) -> Result<()> {
        if self == &Self::default() {
            return Err(Error::validation(
                "permissions",
                "set at least one of mode, owner, group",
            ));
        }
        if let Some(mode) = &self.mode {
            check_mode(mode)?;
        }
        for (field, value) in [("owner", &self.owner), ("group", &self.group)] {
            if value.as_deref().is_some_and(|v| v.trim().is_empty()) {
                return Err(Error::validation(field, "must not be empty"));
            }
        }
        Ok(())
    }
}

/// An octal mode of one to four digits.
pub(super) fn check_mode(mode: &str) -> Result<()> {
    let ok = (1..=4).contains(&mode.len()) && mode.bytes().all(|b| (b'0'..=b'7').contains(&b));
    if ok {
        Ok(())
    } else {
        Err(Error::validation(
            "mode",
            format!("{mode:?} is not an octal mode such as \"755\" or \"0644\""),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes() {
        for ok in ["7", "755", "0644", "1777"] {
            assert!(check_mode(ok).is_ok(), "{ok}");
        }
        for bad in ["", "8", "0x755", "75 5", "07555", "rwx"] {
            assert!(check_mode(bad).unwrap_err().is_validation(), "{bad}");
        }
    }

    #[test]
    fn file_info_is_lenient() {
        let info: FileInfo = serde_json::from_str(r#"{"name":"a","extra":1}"#).unwrap();
        assert_eq!(info.name, "a");
        assert_eq!(info.size, 0);
        assert_eq!(info.modified_at, None);
    }
}
