//! A whole archive in memory, split by role: META, cluster config as JSON, every other entry
//! as bytes. What the plugin host and the offline commands (diff, merge, filter) work on.

use crate::entry::{classify, EntryKind};
use crate::error::{ArchiveError, ErrorKind};
use crate::inspect::{read_hocon, read_meta};
use crate::limits::Limits;
use crate::meta::Meta;
use crate::reader::read_archive;
use crate::writer::ArchiveWriter;
use serde_json::{Map, Value};
use std::io::Read;
use std::path::{Path, PathBuf};

/// An archive read whole.
#[derive(Clone, Debug)]
pub struct Contents {
    /// Where it was read from.
    pub path: PathBuf,
    /// Top folder name (the file name without `.tar.gz`).
    pub base: String,
    /// META.hocon.
    pub meta: Meta,
    /// cluster.hocon as a JSON object, when present.
    pub config: Option<Map<String, Value>>,
    /// Every other entry but `MANIFEST.json`, as `(path below the top folder, bytes)`, in
    /// archive order.
    pub entries: Vec<(String, Vec<u8>)>,
}

impl Contents {
    /// Reads an archive, enforcing the same rules and limits as [`read_archive`].
    pub fn read(path: &Path, limits: &Limits) -> Result<Contents, ArchiveError> {
        let err = |kind| ArchiveError::new(path, kind);
        let mut meta = None;
        let mut config = None;
        let mut entries = Vec::new();
        read_archive(path, limits, |entry| {
            match classify(entry.rel) {
                EntryKind::Meta => meta = Some(read_meta(entry).map_err(err)?),
                EntryKind::ClusterConfig => {
                    let object = read_hocon(entry).map_err(err)?;
                    match Value::from(emqx_hocon::Value::Object(object)) {
                        Value::Object(map) => config = Some(map),
                        _ => unreachable!("an object converts to an object"),
                    }
                }
                EntryKind::Manifest => {}
                _ => {
                    let mut bytes = Vec::with_capacity(entry.capacity_hint());
                    entry.read_to_end(&mut bytes).map_err(|e| {
                        err(ErrorKind::Corrupt {
                            place: crate::error::Place::At(entry.name.to_owned()),
                            message: e.to_string(),
                        })
                    })?;
                    entries.push((entry.rel.to_owned(), bytes));
                }
            }
            Ok(())
        })?;
        let meta = meta.ok_or_else(|| err(ErrorKind::MissingMeta))?;
        let file_name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let base = crate::name::backup_base(file_name)
            .unwrap_or_default()
            .to_owned();
        Ok(Contents {
            path: path.to_owned(),
            base,
            meta,
            config,
            entries,
        })
    }

    /// Decodes every table entry record by record, as [`crate::inspect`] does: framing,
    /// terms, record shape, the table its schema names and EMQX's attributes. Errors name the
    /// archive, the entry and the byte offset.
    pub fn check_tables(&self, limits: &Limits) -> Result<(), ArchiveError> {
        let options = mnesia_backup::ReadOptions {
            max_item: limits.max_item_bytes,
            ..mnesia_backup::ReadOptions::default()
        };
        let err = |kind| ArchiveError::new(&self.path, kind);
        for (rel, bytes) in &self.entries {
            let EntryKind::Table(table) = classify(rel) else {
                continue;
            };
            let name = format!("{}/{rel}", self.base);
            let mut reader = crate::inspect::open_table(&name, bytes.as_slice(), &table, options)
                .map_err(err)?;
            while reader
                .next_record()
                .map_err(|e| err(ErrorKind::Table(e)))?
                .is_some()
            {}
        }
        Ok(())
    }

    /// The bytes of an entry.
    pub fn entry(&self, rel: &str) -> Option<&[u8]> {
        self.entries
            .iter()
            .find(|(n, _)| n == rel)
            .map(|(_, b)| b.as_slice())
    }

    /// Writes the contents as a new archive named `file_name` in `dir` (META first, then
    /// cluster.hocon, then the entries, then a fresh manifest).
    pub fn write(&self, dir: &Path, file_name: &str) -> Result<PathBuf, ArchiveError> {
        let mut writer = ArchiveWriter::create(dir, file_name)?;
        writer.add_bytes("META.hocon", self.meta.to_hocon().as_bytes(), None)?;
        if let Some(config) = &self.config {
            let object = emqx_hocon::from_json(&Value::Object(config.clone()));
            if let emqx_hocon::Value::Object(object) = object {
                writer.add_bytes(
                    "cluster.hocon",
                    emqx_hocon::to_string(&object).as_bytes(),
                    None,
                )?;
            }
        }
        for (rel, bytes) in &self.entries {
            let records = match classify(rel) {
                EntryKind::Table(_) => count_records(rel, bytes),
                _ => None,
            };
            writer.add_bytes(rel, bytes, records)?;
        }
        writer.finish()
    }
}

fn count_records(rel: &str, bytes: &[u8]) -> Option<u64> {
    let mut reader =
        mnesia_backup::BackupReader::open(rel, bytes, mnesia_backup::ReadOptions::default())
            .ok()?;
    while reader.next_raw().ok()?.is_some() {}
    Some(reader.records())
}

/// Parses cluster.hocon text into a JSON object.
pub fn parse_config(text: &str) -> Result<Map<String, Value>, emqx_hocon::ParseError> {
    let object = emqx_hocon::parse(text)?;
    match Value::from(emqx_hocon::Value::Object(object)) {
        Value::Object(map) => Ok(map),
        _ => Ok(Map::new()),
    }
}
