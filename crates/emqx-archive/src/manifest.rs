//! `<top>/MANIFEST.json`: our record of what an archive holds. EMQX ignores the file.

use crate::reader::EntryDigest;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Version of the manifest layout.
pub const MANIFEST_FORMAT: u32 = 1;

/// Size, SHA-256 and record count of every entry, written last in the archive.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Layout version ([`MANIFEST_FORMAT`]).
    pub format: u32,
    /// Tool and version that wrote the archive.
    pub tool: String,
    /// When the archive was written (RFC 3339).
    pub created_at: String,
    /// Every file entry except the manifest, in archive order.
    pub entries: Vec<ManifestEntry>,
}

/// One entry of the manifest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestEntry {
    /// Path under the top folder.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// Lowercase hex SHA-256 of the content.
    pub sha256: String,
    /// Record count, for mnesia table files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub records: Option<u64>,
}

impl Manifest {
    /// Checks the manifest against what was read; the message names the first entry that differs.
    pub fn check(
        &self,
        digests: &[EntryDigest],
        records: &BTreeMap<String, u64>,
    ) -> Result<(), String> {
        if self.format != MANIFEST_FORMAT {
            return Err(format!("unknown format {}", self.format));
        }
        let found: BTreeMap<&str, &EntryDigest> = digests
            .iter()
            .filter(|d| d.rel != "MANIFEST.json")
            .map(|d| (d.rel.as_str(), d))
            .collect();
        let mut listed = BTreeMap::new();
        for e in &self.entries {
            listed.insert(e.path.as_str(), e);
            let Some(d) = found.get(e.path.as_str()) else {
                return Err(format!(
                    "entry {:?} is listed but missing from the archive",
                    e.path
                ));
            };
            if d.size != e.size {
                return Err(format!(
                    "entry {:?} is {} bytes, manifest says {}",
                    e.path, d.size, e.size
                ));
            }
            if d.sha256 != e.sha256 {
                return Err(format!(
                    "entry {:?} has SHA-256 {}, manifest says {}",
                    e.path, d.sha256, e.sha256
                ));
            }
            if let (Some(want), Some(got)) = (e.records, records.get(&e.path)) {
                if want != *got {
                    return Err(format!(
                        "entry {:?} holds {got} records, manifest says {want}",
                        e.path
                    ));
                }
            }
        }
        match found.keys().find(|k| !listed.contains_key(*k)) {
            Some(extra) => Err(format!("entry {extra:?} is not listed")),
            None => Ok(()),
        }
    }
}
