//! Errors, each with the byte offset where the fault was found.

/// A fault in a disk_log file at a byte offset.
#[derive(Debug, thiserror::Error)]
#[error("byte {offset}: {kind}")]
pub struct Error {
    /// Offset from the start of the file.
    pub offset: u64,
    /// What is wrong there.
    pub kind: ErrorKind,
}

/// What is wrong with a disk_log file.
#[derive(Debug, thiserror::Error)]
pub enum ErrorKind {
    /// The file is shorter than the 8-byte header.
    #[error("file too short for a disk_log header")]
    ShortHeader,
    /// The first four bytes are not `01 02 03 04`.
    #[error("not a disk_log file (bad magic {0:02x?})")]
    NotALog([u8; 4]),
    /// The status word is neither CLOSED nor OPENED.
    #[error("unknown disk_log status {0:02x?}")]
    BadStatus([u8; 4]),
    /// An item does not start with the item magic: junk before an item, or a corrupt size.
    #[error("no item magic where an item should start (found {0:02x?}): junk or a corrupt size")]
    BadItemMagic([u8; 4]),
    /// The file ends inside an item.
    #[error("item truncated: {expected} bytes announced, {found} present")]
    Truncated {
        /// Bytes the item needs from this offset.
        expected: u64,
        /// Bytes actually there.
        found: u64,
    },
    /// The MD5 of a big item's size does not match.
    #[error("checksum of item size does not match (size field says {size} bytes)")]
    BadMd5 {
        /// The size the item claims.
        size: u64,
    },
    /// An item larger than the configured limit.
    #[error("item of {size} bytes exceeds the limit of {limit} bytes")]
    ItemTooLarge {
        /// The size the item claims.
        size: u64,
        /// The limit in force.
        limit: u64,
    },
    /// An item that cannot be written (over 4 GiB).
    #[error("item of {0} bytes is too large for the format")]
    Unwritable(usize),
    /// The underlying reader or writer failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}
