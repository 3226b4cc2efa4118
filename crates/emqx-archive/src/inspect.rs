//! Inspect and verify: read every entry, decode every table, parse every config file.

use crate::entry::{classify, EntryKind};
use crate::error::{ArchiveError, ErrorKind, Place};
use crate::limits::Limits;
use crate::manifest::Manifest;
use crate::meta::{Meta, MetaFault};
use crate::reader::{read_archive, Entry, EntryDigest};
use mnesia_backup::{BackupReader, ReadOptions};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

/// What an archive holds.
#[derive(Clone, Debug, Serialize)]
pub struct Inspection {
    /// The archive file.
    pub file: PathBuf,
    /// The top folder.
    pub top: String,
    /// META.hocon.
    pub meta: Meta,
    /// Top-level keys of cluster.hocon, in file order (empty when there is none).
    pub config_roots: Vec<String>,
    /// Whether cluster.hocon is present.
    pub has_cluster_config: bool,
    /// Namespaces with an `ns/<ns>/cluster.hocon` (EMQX 6).
    pub namespaces: Vec<String>,
    /// Every mnesia table file, by table name.
    pub tables: BTreeMap<String, TableInfo>,
    /// Every file entry in archive order.
    pub entries: Vec<EntryInfo>,
    /// Whether the archive carries our MANIFEST.json.
    pub has_manifest: bool,
}

/// One table file.
#[derive(Clone, Debug, Serialize)]
pub struct TableInfo {
    /// Path under the top folder.
    pub entry: String,
    /// Number of records.
    pub records: u64,
    /// Attribute names from the schema item.
    pub attributes: Vec<String>,
    /// Record name from the schema item.
    pub record_name: String,
    /// `set`, `ordered_set` or `bag`, when stated.
    pub table_type: Option<String>,
    /// Node that wrote the file.
    pub node: String,
    /// Mnesia version that wrote the file.
    pub mnesia_version: String,
}

/// One file entry.
#[derive(Clone, Debug, Serialize)]
pub struct EntryInfo {
    /// Path under the top folder.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// Lowercase hex SHA-256.
    pub sha256: String,
    /// What the entry is.
    #[serde(flatten)]
    pub kind: EntryKind,
}

/// Lets a caller see entries during [`inspect_with`]'s single pass over the archive.
pub trait InspectHook {
    /// Whether the caller checks this table entry's records itself; inspect then hands it the
    /// bytes and only walks the file's framing and schema instead of decoding every record.
    fn wants_table(&mut self, _rel: &str) -> bool {
        false
    }

    /// The bytes of a table entry the caller wanted.
    fn table(&mut self, _rel: &str, _bytes: Vec<u8>) {}

    /// The parsed cluster.hocon.
    fn config(&mut self, _config: &emqx_hocon::Object) {}
}

struct NoHook;

impl InspectHook for NoHook {}

/// Reads the whole archive, decoding every table record, parsing every config file and checking
/// the manifest when there is one; the first fault is the error. This is `verify`.
pub fn inspect(path: &Path, limits: &Limits) -> Result<Inspection, ArchiveError> {
    inspect_with(path, limits, &mut NoHook)
}

/// [`inspect`], showing the entries a hook asks for as they pass.
pub fn inspect_with(
    path: &Path,
    limits: &Limits,
    hook: &mut dyn InspectHook,
) -> Result<Inspection, ArchiveError> {
    let err = |kind| ArchiveError::new(path, kind);
    let mut meta = None;
    let mut config_roots = Vec::new();
    let mut has_cluster_config = false;
    let mut namespaces = Vec::new();
    let mut tables = BTreeMap::new();
    let mut manifest = None;
    let mut kinds = Vec::new();
    let options = ReadOptions {
        max_item: limits.max_item_bytes,
        ..ReadOptions::default()
    };
    let digests = read_archive(path, limits, |entry| {
        let kind = classify(entry.rel);
        match &kind {
            EntryKind::Meta => meta = Some(read_meta(entry).map_err(err)?),
            EntryKind::ClusterConfig => {
                has_cluster_config = true;
                let config = read_hocon(entry).map_err(err)?;
                config_roots = config.keys().map(str::to_owned).collect();
                hook.config(&config);
            }
            EntryKind::NamespaceConfig(ns) => {
                read_hocon(entry).map_err(err)?;
                namespaces.push(ns.clone());
            }
            EntryKind::Table(table) if hook.wants_table(entry.rel) => {
                let (info, bytes) = frame_table(entry, table, options).map_err(err)?;
                tables.insert(table.clone(), info);
                hook.table(&info_rel(&tables, table), bytes);
            }
            EntryKind::Table(table) => {
                let info = read_table(entry, table, options).map_err(err)?;
                tables.insert(table.clone(), info);
            }
            EntryKind::Manifest => {
                let text = read_text(entry).map_err(err)?;
                let m: Manifest = serde_json::from_str(&text).map_err(|e| {
                    err(ErrorKind::Manifest(format!(
                        "MANIFEST.json does not parse: {e}"
                    )))
                })?;
                manifest = Some(m);
            }
            EntryKind::Unknown => {}
        }
        kinds.push(kind);
        Ok(())
    })?;
    let meta = meta.ok_or_else(|| err(ErrorKind::MissingMeta))?;
    let entries = digests
        .into_iter()
        .zip(kinds)
        .map(|(d, kind)| EntryInfo {
            path: d.rel,
            size: d.size,
            sha256: d.sha256,
            kind,
        })
        .collect();
    let file_name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let inspection = Inspection {
        file: path.to_owned(),
        top: crate::name::backup_base(file_name)
            .unwrap_or_default()
            .to_owned(),
        meta,
        config_roots,
        has_cluster_config,
        namespaces,
        tables,
        entries,
        has_manifest: manifest.is_some(),
    };
    if let Some(m) = manifest {
        check_manifest(&inspection, &m).map_err(|why| err(ErrorKind::Manifest(why)))?;
    }
    Ok(inspection)
}

fn check_manifest(inspection: &Inspection, manifest: &Manifest) -> Result<(), String> {
    let digests: Vec<EntryDigest> = inspection
        .entries
        .iter()
        .map(|e| EntryDigest {
            rel: e.path.clone(),
            size: e.size,
            sha256: e.sha256.clone(),
        })
        .collect();
    let records = inspection
        .tables
        .values()
        .map(|t| (t.entry.clone(), t.records))
        .collect();
    manifest.check(&digests, &records)
}

fn read_text(entry: &mut Entry<'_>) -> Result<String, ErrorKind> {
    let mut text = String::new();
    entry
        .read_to_string(&mut text)
        .map_err(|e| ErrorKind::Corrupt {
            place: Place::At(entry.name.to_owned()),
            message: e.to_string(),
        })?;
    Ok(text)
}

pub(crate) fn read_hocon(entry: &mut Entry<'_>) -> Result<emqx_hocon::Object, ErrorKind> {
    let text = read_text(entry)?;
    emqx_hocon::parse(&text).map_err(|e| ErrorKind::Hocon {
        entry: entry.name.to_owned(),
        message: e.to_string(),
    })
}

pub(crate) fn read_meta(entry: &mut Entry<'_>) -> Result<Meta, ErrorKind> {
    let text = read_text(entry)?;
    Meta::parse(&text).map_err(|f| match f {
        MetaFault::Missing(why) => ErrorKind::Hocon {
            entry: entry.name.to_owned(),
            message: format!("invalid backup archive file: missing META.hocon ({why})"),
        },
        MetaFault::Edition => ErrorKind::InvalidEdition {
            entry: entry.name.to_owned(),
        },
        MetaFault::Version => ErrorKind::InvalidVersion {
            entry: entry.name.to_owned(),
        },
    })
}

fn info_rel(tables: &BTreeMap<String, TableInfo>, table: &str) -> String {
    tables
        .get(table)
        .map(|t| t.entry.clone())
        .unwrap_or_default()
}

/// Reads a table entry whole and checks its framing, header and schema, leaving the records'
/// terms to the caller.
fn frame_table(
    entry: &mut Entry<'_>,
    table: &str,
    options: ReadOptions,
) -> Result<(TableInfo, Vec<u8>), ErrorKind> {
    let name = entry.name.to_owned();
    let rel = entry.rel.to_owned();
    let mut bytes = Vec::with_capacity(entry.capacity_hint());
    entry
        .read_to_end(&mut bytes)
        .map_err(|e| ErrorKind::Corrupt {
            place: Place::At(name.clone()),
            message: e.to_string(),
        })?;
    let mut reader = open_table(&name, bytes.as_slice(), table, options)?;
    while reader.next_raw()?.is_some() {}
    let schema = reader.schema();
    let info = TableInfo {
        entry: rel,
        records: reader.records(),
        attributes: schema.attributes().unwrap_or_default(),
        record_name: schema.record_name(),
        table_type: schema.table_type().map(|t| t.as_str().to_owned()),
        node: reader.header().node.clone(),
        mnesia_version: reader.header().mnesia_version.clone(),
    };
    Ok((info, bytes))
}

fn read_table(
    entry: &mut Entry<'_>,
    table: &str,
    options: ReadOptions,
) -> Result<TableInfo, ErrorKind> {
    let name = entry.name.to_owned();
    let rel = entry.rel.to_owned();
    let mut reader = open_table(&name, entry, table, options)?;
    while reader.next_record()?.is_some() {}
    let schema = reader.schema();
    Ok(TableInfo {
        entry: rel,
        records: reader.records(),
        attributes: schema.attributes().unwrap_or_default(),
        record_name: schema.record_name(),
        table_type: schema.table_type().map(|t| t.as_str().to_owned()),
        node: reader.header().node.clone(),
        mnesia_version: reader.header().mnesia_version.clone(),
    })
}

/// Opens a table entry and checks that its schema names the table its file name says.
pub(crate) fn open_table<R: Read>(
    name: &str,
    inner: R,
    table: &str,
    options: ReadOptions,
) -> Result<BackupReader<R>, ErrorKind> {
    let reader = BackupReader::open(name, inner, options)?;
    let schema = reader.schema();
    if schema.table != table {
        return Err(ErrorKind::TableName {
            entry: name.to_owned(),
            expected: table.to_owned(),
            found: schema.table.clone(),
        });
    }
    if let Some(def) = crate::tables::table_def(table) {
        let found = schema.attributes().unwrap_or_default();
        if !def.accepts(&found) {
            return Err(ErrorKind::TableSchema {
                entry: name.to_owned(),
                table: table.to_owned(),
                found,
                expected: def.attributes.iter().map(|a| a.to_string()).collect(),
            });
        }
    }
    Ok(reader)
}
