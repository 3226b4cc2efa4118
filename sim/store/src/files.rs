//! The node's backup files in `<data_dir>/backup`, as EMQX lists them.

use serde::{Deserialize, Serialize};

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
