//! Errors of the store, and EMQX's own refusals of exports and imports with its messages.

use std::path::PathBuf;

/// A failure of the database or of the files rendered from it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite failed.
    #[error("store {}: {source}", path.display())]
    Sqlite {
        /// The database file.
        path: PathBuf,
        /// What SQLite said.
        source: rusqlite::Error,
    },
    /// A file under the data dir could not be written or read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A stored row does not decode (the database was changed behind the node's back).
    #[error("store: table {table}: {message}")]
    Corrupt {
        /// The table.
        table: String,
        /// What is wrong.
        message: String,
    },
    /// A record that is not a tuple with a key, or a table EMQX does not have.
    #[error("table {table}: {message}")]
    BadRecord {
        /// The table.
        table: String,
        /// What is wrong.
        message: String,
    },
}

/// Why EMQX refuses an export, import, upload, download or delete. `Display` is EMQX's
/// message (spec §5.3, §6); `code()` is the REST error code.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// `not_core_node`.
    #[error("backup data import is only allowed on core EMQX nodes, but requested node '{0}' is not core")]
    NotCoreNode(String),
    /// `ee_to_ce_backup`.
    #[error("importing EMQX Enterprise data backup to EMQX is not allowed")]
    EeToCe,
    /// `missing_backup_meta`.
    #[error("invalid backup archive file: missing META.hocon")]
    MissingMeta,
    /// `invalid_edition`.
    #[error("invalid backup archive content: wrong EMQX edition value in META.hocon")]
    InvalidEdition,
    /// `invalid_version`.
    #[error("invalid backup archive content: wrong EMQX version value in META.hocon")]
    InvalidVersion,
    /// `bad_archive_dir`.
    #[error("invalid backup archive content: all files in the archive must be under <backup name> directory")]
    BadArchiveDir,
    /// `not_found`.
    #[error("backup file not found")]
    NotFound,
    /// `bad_backup_name`.
    #[error("invalid backup name: file name must have .tar.gz extension")]
    BadBackupName,
    /// `unsafe_backup_name`.
    #[error("unsafe backup name")]
    UnsafeBackupName,
    /// `{unsupported_version, V}`, worded as the node's release line prints it.
    #[error("[warning] Backup version \"{backup}\" {} EMQX version \"{own}\", import is not allowed.\n", refusal_verb(.own))]
    UnsupportedVersion {
        /// The archive's version.
        backup: String,
        /// The node's version.
        own: String,
    },
    /// `{already_exists, Name}`.
    #[error("Backup file \"{0}\" already exists")]
    AlreadyExists(String),
    /// Another import runs on the node (the sim imports one archive at a time; the name is the
    /// running import's file).
    #[error("backup data import is already in progress: \"{0}\"; only one import runs at a time, try again when it has finished")]
    ImportInProgress(String),
    /// Unknown `root_keys` (`Invalid root keys: a, b`).
    #[error("{0}")]
    InvalidRootKeys(String),
    /// Unknown `table_sets` (`Invalid table sets: x, y`).
    #[error("{0}")]
    InvalidTableSets(String),
    /// The archive is corrupt or its config fails EMQX's schema check (the message names the
    /// entry or config path).
    #[error("{0}")]
    Invalid(String),
    /// The node failed (store, disk).
    #[error("{0}")]
    Internal(#[from] StoreError),
}

impl DataError {
    /// The REST error code EMQX answers with: `NOT_FOUND` for a missing backup file (download,
    /// delete; EMQX's import answers `BAD_REQUEST` with the same message), `INTERNAL_ERROR` for
    /// failures of the node itself, `BAD_REQUEST` for every other refusal.
    pub fn code(&self) -> &'static str {
        match self {
            DataError::NotFound => "NOT_FOUND",
            DataError::Internal(_) => "INTERNAL_ERROR",
            _ => "BAD_REQUEST",
        }
    }
}

/// 5.x says an archive "is newer than" the node; 6.x says it "is incompatible with" it.
fn refusal_verb(own: &str) -> &'static str {
    match emqx_archive::Meta::major_minor(own) {
        Some((major, _)) if major >= 6 => "is incompatible with",
        _ => "is newer than",
    }
}
