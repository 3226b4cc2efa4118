//! The node's backup files in `<data_dir>/backup`, as EMQX lists them.

use crate::error::{DataError, StoreError};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// A backup file as `GET /data/files` lists it (spec §6.1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupFileInfo {
    /// The file name (`emqx-export-....tar.gz`).
    pub filename: String,
    /// Size in bytes.
    pub size: u64,
    /// File ctime, RFC 3339 with the local offset.
    pub created_at: String,
    /// The same in epoch seconds.
    pub created_at_sec: i64,
    /// The node holding the file.
    pub node: String,
}

/// Checks a backup file name given to upload, download, delete or import by name: one path
/// segment ending in `.tar.gz` (`bad_backup_name` otherwise).
pub fn check_backup_name(name: &str) -> Result<(), DataError> {
    match emqx_archive::backup_base(name) {
        Some(_) if !name.contains(['/', '\\', '\0']) => Ok(()),
        _ => Err(DataError::BadBackupName),
    }
}

/// The backup files in `dir` (`*.tar.gz`, regular files, temporary files left out), sorted as
/// EMQX sorts them: newest ctime first, ties by name descending.
pub(crate) fn list(dir: &Path, node: &str) -> Result<Vec<BackupFileInfo>, DataError> {
    let io = |source| {
        DataError::Internal(StoreError::Io {
            path: dir.to_owned(),
            source,
        })
    };
    let read = match std::fs::read_dir(dir) {
        Ok(r) => r,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io(e)),
    };
    let mut out = Vec::new();
    for entry in read {
        let entry = entry.map_err(io)?;
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        if name.starts_with('.') || check_backup_name(&name).is_err() {
            continue;
        }
        let Ok(meta) = entry.metadata() else { continue };
        if !meta.is_file() {
            continue;
        }
        let sec = ctime(&meta);
        out.push(BackupFileInfo {
            filename: name,
            size: meta.len(),
            created_at: rfc3339_local(sec),
            created_at_sec: sec,
            node: node.to_owned(),
        });
    }
    out.sort_by(|a, b| {
        b.created_at_sec
            .cmp(&a.created_at_sec)
            .then_with(|| b.filename.cmp(&a.filename))
    });
    Ok(out)
}

#[cfg(unix)]
fn ctime(meta: &std::fs::Metadata) -> i64 {
    use std::os::unix::fs::MetadataExt;
    meta.ctime()
}

#[cfg(not(unix))]
fn ctime(meta: &std::fs::Metadata) -> i64 {
    meta.created()
        .or_else(|_| meta.modified())
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs() as i64)
}

/// Epoch seconds as RFC 3339 with the local offset (`2023-11-23T19:13:19+02:00`).
pub fn rfc3339_local(sec: i64) -> String {
    use chrono::TimeZone;
    chrono::Local
        .timestamp_opt(sec, 0)
        .earliest()
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, false))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(check_backup_name("emqx-export-upload-ce.tar.gz").is_ok());
        for bad in [
            "x.tgz",
            "../x.tar.gz",
            "a/b.tar.gz",
            ".tar.gz",
            "..tar.gz",
            "x\0.tar.gz",
        ] {
            assert!(
                matches!(check_backup_name(bad), Err(DataError::BadBackupName)),
                "{bad}"
            );
        }
        assert!(rfc3339_local(1_700_759_599).starts_with("2023-11-2"));
    }
}
