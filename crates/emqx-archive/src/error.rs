//! Errors: each names the archive, and the entry where there is one.

use std::path::{Path, PathBuf};

/// A fault in an archive, or in reading or writing one.
#[derive(Debug, thiserror::Error)]
#[error("{}: {kind}", archive.display())]
pub struct ArchiveError {
    /// The archive file.
    pub archive: PathBuf,
    /// What is wrong.
    pub kind: ErrorKind,
}

/// What is wrong with an archive. EMQX's own refusals carry EMQX's message text.
#[derive(Debug, thiserror::Error)]
pub enum ErrorKind {
    /// EMQX `bad_backup_name`.
    #[error("invalid backup name: file name must have .tar.gz extension")]
    BadBackupName,
    /// EMQX `bad_archive_dir`.
    #[error("entry {entry:?}: invalid backup archive content: all files in the archive must be under <backup name> directory (expected {expected:?})")]
    BadArchiveDir {
        /// The entry outside the top folder.
        entry: String,
        /// The folder required.
        expected: String,
    },
    /// EMQX `missing_backup_meta`.
    #[error("invalid backup archive file: missing META.hocon")]
    MissingMeta,
    /// EMQX `invalid_edition`.
    #[error(
        "entry {entry:?}: invalid backup archive content: wrong EMQX edition value in META.hocon"
    )]
    InvalidEdition {
        /// The META.hocon entry.
        entry: String,
    },
    /// EMQX `invalid_version`.
    #[error(
        "entry {entry:?}: invalid backup archive content: wrong EMQX version value in META.hocon"
    )]
    InvalidVersion {
        /// The META.hocon entry.
        entry: String,
    },
    /// A path that could escape the extraction folder.
    #[error("entry {entry:?}: unsafe path: {why}")]
    UnsafePath {
        /// The raw entry name.
        entry: String,
        /// What makes it unsafe.
        why: &'static str,
    },
    /// A link, device or other non-file entry.
    #[error("entry {entry:?}: {kind} entries are not allowed")]
    EntryType {
        /// The entry.
        entry: String,
        /// Its tar type.
        kind: String,
    },
    /// The same path twice.
    #[error("entry {entry:?} appears more than once")]
    DuplicateEntry {
        /// The entry.
        entry: String,
    },
    /// Beyond [`crate::Limits::max_entries`].
    #[error("more than {limit} entries")]
    TooManyEntries {
        /// The limit in force.
        limit: u64,
    },
    /// Beyond [`crate::Limits::max_entry_bytes`].
    #[error("entry {entry:?} is {size} bytes, over the limit of {limit}")]
    EntryTooLarge {
        /// The entry.
        entry: String,
        /// Its size.
        size: u64,
        /// The limit in force.
        limit: u64,
    },
    /// Beyond [`crate::Limits::max_total_bytes`].
    #[error("entries add up to more than {limit} bytes (at {entry:?})")]
    TotalTooLarge {
        /// Where the limit was crossed.
        entry: String,
        /// The limit in force.
        limit: u64,
    },
    /// The gzip stream or the tar structure is broken.
    #[error("corrupt archive{place}: {message}")]
    Corrupt {
        /// Where in the archive the fault was met.
        place: Place,
        /// What the decompressor or tar reader said.
        message: String,
    },
    /// A HOCON file that does not parse.
    #[error("entry {entry:?}: {message}")]
    Hocon {
        /// The entry.
        entry: String,
        /// The parser's message with line and column.
        message: String,
    },
    /// A mnesia backup file that does not decode.
    #[error("{0}")]
    Table(#[from] mnesia_backup::BackupError),
    /// A table file whose schema names another table: a renamed file.
    #[error(
        "entry {entry:?}: holds table {found} (schema item), not {expected}: was the file renamed?"
    )]
    TableName {
        /// The entry.
        entry: String,
        /// The table its name says.
        expected: String,
        /// The table its schema says.
        found: String,
    },
    /// A table file whose attributes EMQX's import refuses (`different_table_schema`).
    #[error("entry {entry:?}: attributes [{}] differ from EMQX's {table} [{}]: EMQX refuses this table (different_table_schema)", found.join(", "), expected.join(", "))]
    TableSchema {
        /// The entry.
        entry: String,
        /// The table.
        table: String,
        /// Attributes in the file.
        found: Vec<String>,
        /// Attributes EMQX defines.
        expected: Vec<String>,
    },
    /// MANIFEST.json disagrees with the archive.
    #[error("manifest: {0}")]
    Manifest(String),
    /// A file system operation failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
}

/// Where a read fault was met, relative to the entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// Before the first entry.
    Start,
    /// While reading this entry's content.
    At(String),
    /// After this entry, while looking for the next one or the end.
    After(String),
}

impl Place {
    /// `After(entry)`, or `Start` when no entry was read yet.
    pub(crate) fn after(entry: Option<&str>) -> Place {
        entry.map_or(Place::Start, |e| Place::After(e.to_owned()))
    }
}

impl std::fmt::Display for Place {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Place::Start => Ok(()),
            Place::At(e) => write!(f, " at entry {e:?}"),
            Place::After(e) => write!(f, " after entry {e:?}"),
        }
    }
}

impl ArchiveError {
    /// An error about `archive`.
    pub fn new(archive: impl Into<PathBuf>, kind: ErrorKind) -> Self {
        ArchiveError {
            archive: archive.into(),
            kind,
        }
    }

    /// An I/O failure on `file` while working on `archive`.
    pub fn io(archive: &Path, file: &Path, source: std::io::Error) -> Self {
        ArchiveError::new(
            archive,
            ErrorKind::Io {
                path: file.to_owned(),
                source,
            },
        )
    }

    /// Whether the fault lies in the archive's content (as opposed to I/O on our side).
    pub fn is_invalid_archive(&self) -> bool {
        !matches!(self.kind, ErrorKind::Io { .. })
    }
}
