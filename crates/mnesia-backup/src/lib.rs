//! Mnesia backup files as EMQX writes them under `mnesia/<table>` in an export archive.
//!
//! A backup file is a disk_log halt log ([`disk_log`]) whose items are Erlang terms
//! ([`erlang_term`]): first `{log_header, backup_log, "1.2", MnesiaVsn, Node, Timestamp}`,
//! then one `{schema, Tab, CreateList}`, then the records, each a tuple tagged with the
//! table name. [`BackupReader`] yields them one at a time and [`BackupWriter`] writes them,
//! so a file of any size passes through in constant memory.

mod error;
mod header;
mod reader;
mod schema;
mod writer;

pub use error::{BackupError, BackupErrorKind};
pub use header::LogHeader;
pub use reader::{BackupReader, RawRecord, ReadOptions};
pub use schema::{Schema, TableType};
pub use writer::BackupWriter;
