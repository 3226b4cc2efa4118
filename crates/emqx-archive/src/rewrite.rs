//! Decode every entry and encode it again into a new archive with a fresh EMQX name.

use crate::entry::{classify, EntryKind};
use crate::error::{ArchiveError, ErrorKind};
use crate::inspect::{open_table, read_hocon, read_meta};
use crate::limits::Limits;
use crate::name::export_file_name;
use crate::writer::ArchiveWriter;
use mnesia_backup::{BackupWriter, ReadOptions};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// How to rewrite.
#[derive(Clone, Copy, Debug, Default)]
pub struct RewriteOptions {
    /// Limits for reading the source.
    pub limits: Limits,
    /// Encode every record anew instead of copying the bytes of records that decoded cleanly.
    pub reencode: bool,
}

/// What a rewrite produced.
#[derive(Clone, Debug, Serialize)]
pub struct RewriteReport {
    /// The archive read.
    pub source: PathBuf,
    /// The archive written.
    pub output: PathBuf,
    /// Records per table written.
    pub tables: BTreeMap<String, u64>,
    /// Entries copied byte for byte because nothing understands them.
    pub passed_through: Vec<String>,
}

/// Rewrites `source` into `out_dir` under a fresh export name; returns what was written.
/// Nothing appears in `out_dir` unless the whole archive was read and written.
pub fn rewrite(
    source: &Path,
    out_dir: &Path,
    options: &RewriteOptions,
) -> Result<RewriteReport, ArchiveError> {
    let err = |kind| ArchiveError::new(source, kind);
    let mut out = ArchiveWriter::create(out_dir, &export_file_name(chrono::Local::now()))?;
    let read = ReadOptions {
        max_item: options.limits.max_item_bytes,
        ..ReadOptions::default()
    };
    let mut tables = BTreeMap::new();
    let mut passed_through = Vec::new();
    let mut has_meta = false;
    read_archive_into(source, options, |entry| {
        let rel = entry.rel.to_owned();
        match classify(&rel) {
            EntryKind::Meta => {
                let meta = read_meta(entry).map_err(err)?;
                out.add_bytes(&rel, meta.to_hocon().as_bytes(), None)?;
                has_meta = true;
            }
            EntryKind::ClusterConfig | EntryKind::NamespaceConfig(_) => {
                let tree = read_hocon(entry).map_err(err)?;
                out.add_bytes(&rel, emqx_hocon::to_string(&tree).as_bytes(), None)?;
            }
            EntryKind::Table(table) => {
                let name = entry.name.to_owned();
                let mut reader = open_table(&name, entry, &table, read).map_err(err)?;
                let spool = tempfile::tempfile_in(out_dir).map_err(|e| io_error(out_dir, e))?;
                let (header, schema_raw) = reader.preamble_raw();
                let schema = reader.schema().clone();
                let atoms = reader.atom_encoding();
                let mut w = if options.reencode {
                    BackupWriter::new(
                        &name,
                        BufWriter::new(spool),
                        &reader.header().clone(),
                        &schema,
                        atoms,
                    )
                } else {
                    BackupWriter::from_raw_preamble(
                        &name,
                        BufWriter::new(spool),
                        header,
                        &schema,
                        schema_raw,
                        atoms,
                    )
                }
                .map_err(|e| err(e.into()))?;
                while let Some((raw, term)) = reader.next_record().map_err(|e| err(e.into()))? {
                    if options.reencode {
                        w.write_record(&term)
                    } else {
                        w.write_raw(raw.bytes)
                    }
                    .map_err(|e| err(e.into()))?;
                }
                let records = w.records();
                let mut spool = w
                    .finish()
                    .map_err(|e| err(e.into()))?
                    .into_inner()
                    .map_err(|e| io_error(out_dir, e.into_error()))?;
                out.add_file(&rel, &mut spool, Some(records))?;
                tables.insert(table, records);
            }
            EntryKind::Manifest => {}
            EntryKind::Unknown => {
                let mut spool = tempfile::tempfile_in(out_dir).map_err(|e| io_error(out_dir, e))?;
                io::copy(entry, &mut spool)
                    .and_then(|_| spool.flush())
                    .map_err(|e| {
                        err(ErrorKind::Corrupt {
                            entry: Some(rel.clone()),
                            message: e.to_string(),
                        })
                    })?;
                out.add_file(&rel, &mut spool, None)?;
                passed_through.push(rel);
            }
        }
        Ok(())
    })?;
    if !has_meta {
        return Err(err(ErrorKind::MissingMeta));
    }
    let output = out.finish()?;
    Ok(RewriteReport {
        source: source.to_owned(),
        output,
        tables,
        passed_through,
    })
}

fn read_archive_into(
    source: &Path,
    options: &RewriteOptions,
    visit: impl FnMut(&mut crate::reader::Entry<'_>) -> Result<(), ArchiveError>,
) -> Result<(), ArchiveError> {
    crate::reader::read_archive(source, &options.limits, visit).map(|_| ())
}

fn io_error(path: &Path, source: io::Error) -> ArchiveError {
    ArchiveError::new(
        path,
        ErrorKind::Io {
            path: path.to_owned(),
            source,
        },
    )
}
