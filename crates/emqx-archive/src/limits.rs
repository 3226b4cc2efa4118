//! Bounds that stop gzip bombs and tar bombs before they cost memory, disk or time.

/// Limits enforced while reading an archive. Memory use does not depend on them: entries stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Most entries (files and folders) an archive may hold.
    pub max_entries: u64,
    /// Largest single entry, uncompressed, in bytes.
    pub max_entry_bytes: u64,
    /// Largest total of all entries, uncompressed, in bytes.
    pub max_total_bytes: u64,
    /// Largest single item in a mnesia backup file, in bytes.
    pub max_item_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_entries: 100_000,
            max_entry_bytes: 8 << 30,
            max_total_bytes: 32 << 30,
            max_item_bytes: disk_log::DEFAULT_MAX_ITEM,
        }
    }
}
