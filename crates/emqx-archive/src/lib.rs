//! EMQX 5.x export archives (`emqx-export-YYYY-MM-DD-HH-mm-ss.sss.tar.gz`).
//!
//! Reading streams the gzip-compressed tar once, enforcing EMQX's own rules (file name, one top
//! folder named as the file, META.hocon with edition and version) and ours against hostile
//! input (no absolute paths, `..`, links or devices; limits on entries and sizes). Writing goes
//! to a temporary file that is synced and renamed into place, and ends with `MANIFEST.json`.

mod contents;
mod entry;
mod error;
mod hashing;
mod inspect;
mod limits;
mod manifest;
mod meta;
mod name;
mod reader;
mod rewrite;
pub mod roots;
mod tables;
mod writer;

pub use contents::{parse_config, Contents};
pub use entry::{classify, EntryKind};
pub use error::{ArchiveError, ErrorKind, Place};
pub use inspect::{inspect, inspect_with, EntryInfo, InspectHook, Inspection, TableInfo};
pub use limits::{Limits, RATIO_FLOOR};
pub use manifest::{Manifest, ManifestEntry, MANIFEST_FORMAT};
pub use meta::{Edition, Meta, VersionRules};
pub use name::{backup_base, export_file_name, is_export_name};
pub use reader::{read_archive, Entry};
pub use rewrite::{rewrite, RewriteOptions, RewriteReport};
pub use tables::{table_def, TableDef, EMQX_TABLES};
pub use writer::ArchiveWriter;

/// The tool's name and version as recorded in manifests.
pub const TOOL: &str = concat!("emqx-backup ", env!("CARGO_PKG_VERSION"));
