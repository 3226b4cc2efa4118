//! Errors that name the table file and the byte offset.

use erlang_term::DecodeError;

/// A fault in a mnesia backup file.
#[derive(Debug, thiserror::Error)]
#[error("{file}: byte {offset}: {kind}")]
pub struct BackupError {
    /// The file, as the caller named it (an archive entry such as `<top>/mnesia/emqx_acl`).
    pub file: String,
    /// Offset of the faulty item (or of the fault) from the start of the file.
    pub offset: u64,
    /// What is wrong.
    pub kind: BackupErrorKind,
}

/// What is wrong with a mnesia backup file.
#[derive(Debug, thiserror::Error)]
pub enum BackupErrorKind {
    /// The disk_log framing is broken.
    #[error("{0}")]
    Log(disk_log::ErrorKind),
    /// An item is not a well-formed Erlang term.
    #[error("bad term: {0}")]
    Term(DecodeError),
    /// No items at all, or the first is not a log header (mnesia: "Missing header").
    #[error("missing header: the first item must be {{log_header, backup_log, ...}}")]
    MissingHeader,
    /// The header's log version is not one mnesia restores.
    #[error("bad header version {0:?}: mnesia restores only \"1.1\" and \"1.2\"")]
    BadHeaderVersion(String),
    /// A header item of the wrong shape.
    #[error("bad log header: {0}")]
    BadHeader(String),
    /// No `{schema, Tab, CreateList}` item after the header.
    #[error("missing schema item: expected {{schema, Table, CreateList}} after the header")]
    MissingSchema,
    /// A schema item of the wrong shape.
    #[error("bad schema item: {0}")]
    BadSchema(String),
    /// A second schema item: EMQX files hold exactly one table.
    #[error("unexpected second schema item for table {0}")]
    ExtraSchema(String),
    /// A record that mnesia would refuse or silently drop.
    #[error("bad record: {0}")]
    BadRecord(String),
    /// Writing failed.
    #[error("write failed: {0}")]
    Write(String),
}

impl BackupError {
    pub(crate) fn new(file: &str, offset: u64, kind: BackupErrorKind) -> Self {
        BackupError {
            file: file.to_owned(),
            offset,
            kind,
        }
    }

    pub(crate) fn from_log(file: &str, e: disk_log::Error) -> Self {
        BackupError::new(file, e.offset, BackupErrorKind::Log(e.kind))
    }
}
