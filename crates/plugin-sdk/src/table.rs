//! Mnesia table files of a domain: decoding to canonical JSON, encoding back, and the
//! key-by-key merge an EMQX import performs (`mnesia:restore` with `keep_tables`: write every
//! incoming record over the one with the same key, delete nothing).

use crate::error::PluginError;
use crate::model::{Options, ScopeKind, ScopePlan, TableRecords};
use crate::term_json;
use erlang_term::{AtomEncoding, Term};
use mnesia_backup::{BackupReader, BackupWriter, LogHeader, ReadOptions, Schema};
use rustc_hash::FxHashMap;
use serde_json::{json, Value};

/// How one table's records look in JSON. Implement it once per table a plugin owns.
pub trait TableFormat: Send + Sync {
    /// The table's name (its file name under `mnesia/`).
    fn table(&self) -> &'static str;

    /// The record as readable JSON. Must be lossless: fall back to [`raw_record`] for shapes
    /// the plugin does not model.
    fn record_to_json(&self, record: &Term) -> Value {
        raw_record(record)
    }

    /// The record a JSON form stands for; accepts what [`TableFormat::record_to_json`] writes.
    fn record_from_json(&self, value: &Value) -> Result<Term, String> {
        from_raw_record(value).unwrap_or_else(|| Err("expected {\"term\": ...}".into()))
    }

    /// The key as an operator reads it in a plan (Erlang syntax unless overridden).
    fn key_text(&self, key: &Term) -> String {
        key.to_string()
    }

    /// What EMQX would make of a record it imports, when that is wrong (`None` when fine).
    fn check_record(&self, _record: &Term) -> Option<String> {
        None
    }
}

/// A table whose records the plugin does not model: every record in its lossless form.
pub struct RawTable(pub &'static str);

impl TableFormat for RawTable {
    fn table(&self) -> &'static str {
        self.0
    }
}

/// The lossless JSON form of a whole record: `{"term": ...}`.
pub fn raw_record(record: &Term) -> Value {
    json!({ "term": term_json::to_json(record) })
}

/// Reads `{"term": ...}` when the value has that form.
pub fn from_raw_record(value: &Value) -> Option<Result<Term, String>> {
    let o = value.as_object()?;
    (o.len() == 1).then(|| o.get("term").map(term_json::from_json))?
}

/// The key of a record: its first field after the record tag.
pub fn record_key(record: &Term) -> Option<&Term> {
    record.as_tuple().and_then(|t| t.get(1))
}

fn open<'a>(entry: &str, bytes: &'a [u8]) -> Result<BackupReader<&'a [u8]>, PluginError> {
    BackupReader::open(entry, bytes, ReadOptions::default()).map_err(PluginError::from)
}

fn check_table(entry: &str, reader: &BackupReader<&[u8]>, table: &str) -> Result<(), PluginError> {
    let named = &reader.schema().table;
    if named != table {
        return Err(PluginError::new(format!(
            "{entry}: the schema names table {named}, expected {table}"
        )));
    }
    Ok(())
}

/// Decodes a table file into its records' JSON.
pub fn decode_table(
    format: &dyn TableFormat,
    entry: &str,
    bytes: &[u8],
) -> Result<TableRecords, PluginError> {
    let mut reader = open(entry, bytes)?;
    check_table(entry, &reader, format.table())?;
    let node = reader.header().node.clone();
    let attributes = reader.schema().attributes().unwrap_or_default();
    let mut records = Vec::new();
    while let Some((_, term)) = reader.next_record()? {
        records.push(format.record_to_json(&term));
    }
    Ok(TableRecords {
        table: format.table().to_owned(),
        node,
        attributes,
        records,
    })
}

/// Encodes records into a table file with EMQX's schema for the table (or the attributes the
/// records came with, for legacy layouts EMQX still imports).
pub fn encode_table(
    format: &dyn TableFormat,
    records: &TableRecords,
    options: &Options,
) -> Result<Vec<u8>, PluginError> {
    let table = format.table();
    let entry = format!("mnesia/{table}");
    let def = emqx_archive::table_def(table)
        .ok_or_else(|| PluginError::new(format!("{entry}: not a table EMQX backs up")))?;
    let node = match (&options.node, records.node.as_str()) {
        (_, n) if !n.is_empty() => n.to_owned(),
        (Some(n), _) => n.clone(),
        (None, _) => "emqx@127.0.0.1".to_owned(),
    };
    let attributes: Vec<&str> = if records.attributes.is_empty() {
        def.attributes.to_vec()
    } else if def.accepts(&records.attributes) {
        records.attributes.iter().map(String::as_str).collect()
    } else {
        return Err(PluginError::new(format!(
            "{entry}: attributes {:?} are not EMQX's {:?}",
            records.attributes, def.attributes
        )));
    };
    let schema = Schema::new(table, def.kind, def.record_name, &attributes, &node);
    let mut writer = BackupWriter::new(
        &entry,
        Vec::new(),
        &LogHeader::new(&node),
        &schema,
        AtomEncoding::Utf8,
    )?;
    for (i, value) in records.records.iter().enumerate() {
        let term = format
            .record_from_json(value)
            .map_err(|why| PluginError::new(format!("{entry}: record {i}: {why}")))?;
        let arity = term.as_tuple().map_or(0, <[Term]>::len);
        if arity != attributes.len() + 1 {
            return Err(PluginError::new(format!(
                "{entry}: record {i} has {arity} elements, the schema needs {}",
                attributes.len() + 1
            )));
        }
        writer.write_record(&term)?;
    }
    Ok(writer.finish()?)
}

/// What happened to a record of the current side in a merge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fate {
    /// The incoming side has no record with its key: kept as is.
    Kept,
    /// The incoming side has an equal record.
    Unchanged,
    /// The incoming side replaces it.
    Updated,
}

/// Result of merging one table.
#[derive(Debug)]
pub struct TableMerge {
    /// Counts and keys.
    pub plan: ScopePlan,
    /// The merged file, when asked for.
    pub merged: Option<Vec<u8>>,
}

struct Slot {
    digest: u128,
    ordinal: u32,
    seen: bool,
}

/// Bytes that identify a term up to Erlang's exact equality: its encoding with UTF-8 atoms
/// and map pairs in term order.
pub fn canonical_bytes(term: &Term, out: &mut Vec<u8>) -> Result<(), String> {
    out.clear();
    let sorted;
    let term = if holds_map(term) {
        sorted = sort_maps(term);
        &sorted
    } else {
        term
    };
    erlang_term::encode(term, AtomEncoding::Utf8, out).map_err(|e| e.to_string())
}

fn holds_map(term: &Term) -> bool {
    match term {
        Term::Map(_) => true,
        Term::List(items) | Term::Tuple(items) => items.iter().any(holds_map),
        Term::ImproperList(items, tail) => items.iter().any(holds_map) || holds_map(tail),
        _ => false,
    }
}

fn sort_maps(term: &Term) -> Term {
    match term {
        Term::Map(pairs) => {
            let mut pairs: Vec<(Term, Term)> = pairs
                .iter()
                .map(|(k, v)| (sort_maps(k), sort_maps(v)))
                .collect();
            pairs.sort_by(|a, b| a.0.cmp(&b.0));
            Term::Map(pairs)
        }
        Term::List(items) => Term::List(items.iter().map(sort_maps).collect()),
        Term::Tuple(items) => Term::Tuple(items.iter().map(sort_maps).collect()),
        Term::ImproperList(items, tail) => Term::ImproperList(
            items.iter().map(sort_maps).collect(),
            Box::new(sort_maps(tail)),
        ),
        other => other.clone(),
    }
}

fn key_of<'t>(entry: &str, offset: u64, record: &'t Term) -> Result<&'t Term, PluginError> {
    record_key(record)
        .ok_or_else(|| PluginError::new(format!("{entry}: byte {offset}: record has no key field")))
}

/// Merges an incoming table file into the current one as an EMQX import would.
///
/// `observe` sees every current record with its fate. The merged file keeps the current
/// records the import leaves alone, in their order, then every incoming record in its order;
/// restoring it yields the table EMQX would hold.
pub fn merge_table(
    format: &dyn TableFormat,
    current: Option<&[u8]>,
    incoming: &[u8],
    options: &Options,
    observe: &mut dyn FnMut(&Term, Fate),
) -> Result<TableMerge, PluginError> {
    merge_table_observed(format, current, incoming, options, observe, &mut |_| {})
}

/// [`merge_table`], with `observe_incoming` seeing every incoming record once (so a plugin
/// that needs facts about the incoming records does not decode them a second time).
pub fn merge_table_observed(
    format: &dyn TableFormat,
    current: Option<&[u8]>,
    incoming: &[u8],
    options: &Options,
    observe: &mut dyn FnMut(&Term, Fate),
    observe_incoming: &mut dyn FnMut(&Term),
) -> Result<TableMerge, PluginError> {
    let table = format.table();
    let entry = format!("mnesia/{table}");
    let mut plan = ScopePlan::new(ScopeKind::Table, table);
    // Records take some 100 bytes or more in a file; sizing the map up front saves rehashing.
    let mut slots: FxHashMap<Box<[u8]>, Slot> =
        FxHashMap::with_capacity_and_hasher(incoming.len() / 96, Default::default());
    let mut key_buf = Vec::new();
    let mut rec_buf = Vec::new();
    let mut ordinal: u32 = 0;

    let mut reader = open(&entry, incoming)?;
    check_table(&entry, &reader, table)?;
    while let Some((raw, term)) = reader.next_record()? {
        let offset = raw.offset;
        let key = key_of(&entry, offset, &term)?;
        canonical_bytes(key, &mut key_buf)
            .map_err(|e| PluginError::new(format!("{entry}: byte {offset}: {e}")))?;
        canonical_bytes(&term, &mut rec_buf)
            .map_err(|e| PluginError::new(format!("{entry}: byte {offset}: {e}")))?;
        let digest = xxhash_rust::xxh3::xxh3_128(&rec_buf);
        observe_incoming(&term);
        match slots.get_mut(key_buf.as_slice()) {
            Some(slot) => slot.digest = digest,
            None => {
                slots.insert(
                    key_buf.as_slice().into(),
                    Slot {
                        digest,
                        ordinal,
                        seen: false,
                    },
                );
                ordinal += 1;
            }
        }
    }

    let mut merged_writer = None;
    if let Some(current) = current {
        let mut reader = open(&entry, current)?;
        check_table(&entry, &reader, table)?;
        if options.want_merged {
            let (header, schema_raw) = reader.preamble_raw();
            merged_writer = Some(BackupWriter::from_raw_preamble(
                &entry,
                Vec::with_capacity(current.len() + incoming.len()),
                header,
                reader.schema(),
                schema_raw,
                reader.atom_encoding(),
            )?);
        }
        let mut kept_keys = options.list_kept.then(Vec::new);
        let mut unchanged_keys = options.list_unchanged.then(Vec::new);
        while let Some((raw, term)) = reader.next_record()? {
            let offset = raw.offset;
            let key = key_of(&entry, offset, &term)?;
            canonical_bytes(key, &mut key_buf)
                .map_err(|e| PluginError::new(format!("{entry}: byte {offset}: {e}")))?;
            let fate = match slots.get_mut(key_buf.as_slice()) {
                None => {
                    if let Some(w) = merged_writer.as_mut() {
                        w.write_raw(raw.bytes)?;
                    }
                    plan.kept += 1;
                    if let Some(keys) = kept_keys.as_mut() {
                        keys.push(format.key_text(key));
                    }
                    Fate::Kept
                }
                Some(slot) if slot.seen => Fate::Updated,
                Some(slot) => {
                    slot.seen = true;
                    canonical_bytes(&term, &mut rec_buf)
                        .map_err(|e| PluginError::new(format!("{entry}: byte {offset}: {e}")))?;
                    if xxhash_rust::xxh3::xxh3_128(&rec_buf) == slot.digest {
                        plan.unchanged += 1;
                        if let Some(keys) = unchanged_keys.as_mut() {
                            keys.push(format.key_text(key));
                        }
                        Fate::Unchanged
                    } else {
                        plan.update.push(format.key_text(key));
                        Fate::Updated
                    }
                }
            };
            observe(&term, fate);
        }
        plan.kept_keys = kept_keys;
        plan.unchanged_keys = unchanged_keys;
    }

    let mut inserts: Vec<(u32, &[u8])> = slots
        .iter()
        .filter(|(_, s)| !s.seen)
        .map(|(k, s)| (s.ordinal, &k[..]))
        .collect();
    inserts.sort_unstable_by_key(|(o, _)| *o);
    plan.insert = inserts
        .into_iter()
        .map(|(_, k)| match erlang_term::decode(k) {
            Ok(term) => format.key_text(&term),
            Err(_) => String::from("?"),
        })
        .collect();
    drop(slots);

    let merged = match (merged_writer, options.want_merged) {
        (Some(mut w), _) => {
            let mut reader = open(&entry, incoming)?;
            while let Some(raw) = reader.next_raw()? {
                w.write_raw(raw.bytes)?;
            }
            Some(w.finish()?)
        }
        (None, true) => Some(incoming.to_vec()),
        (None, false) => None,
    };
    Ok(TableMerge { plan, merged })
}

/// Every record of a table file, for checks that need the terms.
pub fn read_terms(
    entry: &str,
    bytes: &[u8],
    mut each: impl FnMut(u64, &Term),
) -> Result<(), PluginError> {
    let mut reader = open(entry, bytes)?;
    while let Some((raw, term)) = reader.next_record()? {
        each(raw.offset, &term);
    }
    Ok(())
}

/// The readable form of a record when it reads back to exactly the record, else the lossless
/// form. Lets a plugin model the common shapes and stay lossless on every other.
pub fn readable_or_raw(format: &dyn TableFormat, record: &Term, readable: Option<Value>) -> Value {
    match readable {
        Some(value) if format.record_from_json(&value).as_ref() == Ok(record) => value,
        _ => raw_record(record),
    }
}
