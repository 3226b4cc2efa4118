//! Decode every entry and encode it again into a new archive with a fresh EMQX name.

use crate::entry::{classify, EntryKind};
use crate::error::{ArchiveError, ErrorKind, Place};
use crate::inspect::{open_table, read_hocon, read_meta};
use crate::limits::Limits;
use crate::name::export_file_name;
use crate::reader::{read_archive, Entry};
use crate::writer::ArchiveWriter;
use mnesia_backup::{BackupWriter, ReadOptions};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Read, Write};
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
    let spool = Spool {
        source,
        dir: out_dir,
    };
    let mut tables = BTreeMap::new();
    let mut passed_through = Vec::new();
    let mut has_meta = false;
    read_archive(source, &options.limits, |entry| {
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
                let (mut file, records) = spool.table(entry, &table, options)?;
                out.add_file(&rel, &mut file, Some(records))?;
                tables.insert(table, records);
            }
            EntryKind::Manifest => {}
            EntryKind::Unknown => {
                let mut file = spool.copy(entry)?;
                out.add_file(&rel, &mut file, None)?;
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

/// Temporary files for entries whose size is known only once written. Read faults are the
/// source archive's; write faults are ours (the spool folder).
struct Spool<'a> {
    source: &'a Path,
    dir: &'a Path,
}

impl Spool<'_> {
    fn file(&self) -> Result<File, ArchiveError> {
        tempfile::tempfile_in(self.dir).map_err(|e| ArchiveError::io(self.source, self.dir, e))
    }

    fn write_fault(&self, e: mnesia_backup::BackupError) -> ArchiveError {
        match e.kind {
            mnesia_backup::BackupErrorKind::Log(disk_log::ErrorKind::Io(io)) => {
                ArchiveError::io(self.source, self.dir, io)
            }
            _ => ArchiveError::new(self.source, e.into()),
        }
    }

    /// Decodes a table entry and writes it again; returns the spooled file and its record count.
    fn table(
        &self,
        entry: &mut Entry<'_>,
        table: &str,
        options: &RewriteOptions,
    ) -> Result<(File, u64), ArchiveError> {
        let read = ReadOptions {
            max_item: options.limits.max_item_bytes,
            ..ReadOptions::default()
        };
        let name = entry.name.to_owned();
        let mut reader =
            open_table(&name, entry, table, read).map_err(|k| ArchiveError::new(self.source, k))?;
        let out = BufWriter::new(self.file()?);
        let atoms = reader.atom_encoding();
        let (header, schema_raw) = reader.preamble_raw();
        let mut w = if options.reencode {
            BackupWriter::new(&name, out, reader.header(), reader.schema(), atoms)
        } else {
            BackupWriter::from_raw_preamble(&name, out, header, reader.schema(), schema_raw, atoms)
        }
        .map_err(|e| self.write_fault(e))?;
        while let Some((raw, term)) = reader
            .next_record()
            .map_err(|e| ArchiveError::new(self.source, e.into()))?
        {
            if options.reencode {
                w.write_record(&term)
            } else {
                w.write_raw(raw.bytes)
            }
            .map_err(|e| self.write_fault(e))?;
        }
        let records = w.records();
        let file = w
            .finish()
            .map_err(|e| self.write_fault(e))?
            .into_inner()
            .map_err(|e| ArchiveError::io(self.source, self.dir, e.into_error()))?;
        Ok((file, records))
    }

    /// Copies an entry byte for byte.
    fn copy(&self, entry: &mut Entry<'_>) -> Result<File, ArchiveError> {
        let mut file = self.file()?;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = entry.read(&mut buf).map_err(|e| {
                ArchiveError::new(
                    self.source,
                    ErrorKind::Corrupt {
                        place: Place::At(entry.name.to_owned()),
                        message: e.to_string(),
                    },
                )
            })?;
            if n == 0 {
                break;
            }
            file.write_all(&buf[..n])
                .map_err(|e| ArchiveError::io(self.source, self.dir, e))?;
        }
        Ok(file)
    }
}
