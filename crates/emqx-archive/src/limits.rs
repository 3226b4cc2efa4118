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
    /// Most bytes the archive may decompress to per compressed byte, checked once more than
    /// [`RATIO_FLOOR`] bytes came out (a gzip bomb); 0 turns the check off.
    pub max_ratio: u64,
}

/// Decompressed bytes below which [`Limits::max_ratio`] is not checked: small archives of
/// repetitive text compress far better than large ones.
pub const RATIO_FLOOR: u64 = 16 << 20;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_entries: 100_000,
            max_entry_bytes: 8 << 30,
            max_total_bytes: 32 << 30,
            max_item_bytes: disk_log::DEFAULT_MAX_ITEM,
            max_ratio: 200,
        }
    }
}
