//! One simulated EMQX node: its identity, its store, its plugins and its backup files, and
//! EMQX's export and import.

use crate::error::{DataError, StoreError};
use crate::files::{check_backup_name, BackupFileInfo};
use crate::inflight::InFlight;
use crate::store::{sync_dir, Store, Tx};
use emqx_archive::{
    classify, roots, ArchiveError, Contents, Edition, EntryKind, ErrorKind, Limits, Meta, TableDef,
    EMQX_TABLES,
};
use emqx_backup_plugin_host::{default_search_path, plan_import, Registry};
use emqx_backup_plugin_sdk::model::{ScopeKind, Severity};
use emqx_backup_plugin_sdk::roots::get_path;
use emqx_backup_plugin_sdk::roots::put_path;
use emqx_backup_plugin_sdk::select::{config_for, owns_entry};
use emqx_backup_plugin_sdk::{Options, Plan};
use erlang_term::{AtomEncoding, Term};
use mnesia_backup::{BackupReader, BackupWriter, LogHeader, ReadOptions};
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Core or replicant, as `mria_rlog:role()`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Holds the data; the only role that imports.
    Core,
    /// Serves reads; refuses imports (`not_core_node`).
    Replicant,
}

/// Who a node is.
#[derive(Clone, Debug)]
pub struct NodeInfo {
    /// Erlang node name (`emqx@127.0.0.1`).
    pub name: String,
    /// Core or replicant.
    pub role: Role,
    /// `ce` or `ee`.
    pub edition: Edition,
    /// Release version (`5.8.6`).
    pub version: String,
    /// The data dir (holds the database, `configs/`, `certs/`, `authz/`, `backup/`).
    pub data_dir: PathBuf,
}

/// Filters of an export, with EMQX's names.
#[derive(Clone, Debug, Default)]
pub struct ExportOptions {
    /// Table sets to export (all when empty).
    pub table_sets: Vec<String>,
    /// Config roots to export (all when empty).
    pub root_keys: Vec<String>,
    /// Folder for the archive (`<data_dir>/backup` when `None`), as `ctl data export --dir`.
    pub dir: Option<PathBuf>,
    /// Drop the sensitive table sets (`dashboard_users`, `api_keys`), as EMQX does silently
    /// for API-key callers.
    pub without_sensitive: bool,
}

/// What an import did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ImportReport {
    /// The plan that was committed, per domain.
    pub plans: Vec<Plan>,
    /// Config paths present before and overwritten (`Config key path "..." was present before
    /// import and has been overwritten.`).
    pub overwritten: Vec<String>,
    /// Every line EMQX's CLI prints for this import, in order.
    pub lines: Vec<String>,
}

/// A running node's state.
pub struct Node {
    /// Who it is.
    pub info: NodeInfo,
    /// Its database.
    pub store: Store,
    /// The domain plugins it exports and imports through.
    pub plugins: Registry,
    /// The running import and the exports being written.
    inflight: InFlight,
}

/// The sensitive table sets (spec §5.8).
pub const SENSITIVE_TABLE_SETS: [&str; 2] = ["dashboard_users", "api_keys"];

/// The sensitive tables whose presence in an archive restricted callers may not import.
pub const SENSITIVE_TABLES: [&str; 2] = ["emqx_admin", "emqx_app"];

/// The dashboard user and password of a fresh EMQX node.
pub const DEFAULT_ADMIN: (&str, &str) = ("admin", "public");

/// The retainer's message table, re-indexed after an import.
const RETAINER_TABLE: &str = "emqx_retainer_message";

/// EMQX's CLI output: every line goes to the caller's log and into the report.
struct Lines<'a> {
    log: &'a mut dyn FnMut(&str),
    lines: Vec<String>,
}

impl Lines<'_> {
    fn say(&mut self, line: String) {
        (self.log)(&line);
        self.lines.push(line);
    }
}

fn io_error(path: &Path) -> impl Fn(std::io::Error) -> DataError + '_ {
    move |source| {
        DataError::Internal(StoreError::Io {
            path: path.to_owned(),
            source,
        })
    }
}

/// EMQX's refusal for an archive fault, or the fault itself.
fn archive_error(e: ArchiveError) -> DataError {
    let text = e.to_string();
    match e.kind {
        ErrorKind::BadBackupName => DataError::BadBackupName,
        ErrorKind::BadArchiveDir { .. } => DataError::BadArchiveDir,
        ErrorKind::MissingMeta => DataError::MissingMeta,
        ErrorKind::Hocon { entry, .. } if entry.ends_with("/META.hocon") => DataError::MissingMeta,
        ErrorKind::InvalidEdition { .. } => DataError::InvalidEdition,
        ErrorKind::InvalidVersion { .. } => DataError::InvalidVersion,
        ErrorKind::Io { path, source } => {
            if source.kind() == std::io::ErrorKind::NotFound && path == e.archive {
                DataError::NotFound
            } else {
                DataError::Internal(StoreError::Io { path, source })
            }
        }
        _ => DataError::Invalid(text),
    }
}

/// `root[id]` units of a plan as EMQX prints changed config paths (`root.id`).
fn dotted(unit: &str) -> String {
    unit.replace('[', ".").replace(']', "")
}

/// The legacy dashboard password hash (spec §4.4): 4 lowercase hex salt characters, then
/// `sha256(salt ‖ password)`.
pub fn legacy_password_hash(password: &str) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    let salt = format!("{:04x}", h.finish() as u16);
    let mut out = salt.clone().into_bytes();
    let mut sha = Sha256::new();
    sha.update(salt.as_bytes());
    sha.update(password.as_bytes());
    out.extend_from_slice(&sha.finalize());
    out
}

impl Node {
    /// Opens the node's data dir (creating the folders EMQX has) and loads the plugins.
    pub fn open(info: NodeInfo, plugin_dir: Option<&Path>) -> Result<Node, DataError> {
        for sub in ["configs", "certs", "authz", "backup"] {
            let dir = info.data_dir.join(sub);
            std::fs::create_dir_all(&dir).map_err(io_error(&dir))?;
        }
        remove_temporaries(&info.data_dir);
        let store = Store::open(&info.data_dir)?;
        let plugins = Registry::load(&default_search_path(plugin_dir))
            .map_err(|e| e.to_string())
            .map_err(|e| DataError::Invalid(format!("loading plugins: {e}")))?;
        let node = Node {
            info,
            store,
            plugins,
            inflight: InFlight::default(),
        };
        node.seed()?;
        Ok(node)
    }

    /// Seeds what a fresh EMQX node has: the dashboard user `admin` / `public`.
    fn seed(&self) -> Result<(), DataError> {
        self.store.write(|tx| -> Result<(), DataError> {
            if tx.user_version()? != 0 {
                return Ok(());
            }
            let (user, password) = DEFAULT_ADMIN;
            if tx.get("emqx_admin", &Term::binary(user))?.is_none() {
                let admin = Term::tuple(vec![
                    Term::atom("emqx_admin"),
                    Term::binary(user),
                    Term::binary(legacy_password_hash(password)),
                    Term::binary("administrator"),
                    Term::binary("administrator"),
                    Term::Map(Vec::new()),
                ]);
                tx.put("emqx_admin", &admin)?;
            }
            tx.set_user_version(1)?;
            Ok(())
        })
    }

    /// `<data_dir>/backup`.
    pub fn backup_dir(&self) -> PathBuf {
        self.info.data_dir.join("backup")
    }

    /// The node's root (EMQX's working dir): the data dir's parent.
    pub fn root_dir(&self) -> PathBuf {
        self.info
            .data_dir
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default()
    }

    /// The tables this node has, in catalog order: the `_ns` tables from 6.0, `emqx_mt_config`
    /// on Enterprise 5.9+ and 6.x.
    pub fn tables(&self) -> Vec<&'static TableDef> {
        let (major, minor) = Meta::major_minor(&self.info.version).unwrap_or((5, 0));
        EMQX_TABLES
            .iter()
            .filter(|t| {
                if t.name.ends_with("_ns") {
                    major >= 6
                } else if t.table_set == "mt" {
                    major >= 6 || (self.info.edition == Edition::Ee && (major, minor) >= (5, 9))
                } else {
                    true
                }
            })
            .collect()
    }

    /// META of the archives this node writes.
    pub fn meta(&self) -> Meta {
        Meta {
            edition: self.info.edition,
            version: self.info.version.clone(),
        }
    }

    fn plugin_options(&self, want_merged: bool) -> Options {
        Options {
            node: Some(self.info.name.clone()),
            want_merged,
            now: Some(chrono::Utc::now().timestamp()),
            ..Options::default()
        }
    }

    /// The prefixes of config values that point into the data dir (spec §1.7: the data dir as
    /// configured, and the working dir joined with it when relative).
    fn data_dir_prefixes(&self) -> Vec<String> {
        let dir = &self.info.data_dir;
        let mut out = vec![dir.to_string_lossy().into_owned()];
        if dir.is_relative() {
            if let Ok(cwd) = std::env::current_dir() {
                out.push(cwd.join(dir).to_string_lossy().into_owned());
            }
        }
        out
    }

    /// The text of a file a config value names: a stored file when the path is in the data
    /// dir, else the file on disk.
    fn read_data_file(&self, tx: &Tx<'_>, path: &str) -> Result<Option<String>, StoreError> {
        for prefix in self.data_dir_prefixes() {
            if let Some(rel) = path.strip_prefix(&prefix).and_then(|r| r.strip_prefix('/')) {
                if let Some(bytes) = tx.file(rel)? {
                    return Ok(String::from_utf8(bytes).ok());
                }
            }
        }
        let p = Path::new(path);
        if !p.is_file() {
            return Ok(None);
        }
        Ok(std::fs::read_to_string(p).ok())
    }

    /// The config as EMQX exports it: every root, files inlined (spec §1.7).
    fn exported_config(&self, tx: &Tx<'_>) -> Result<Map<String, Value>, StoreError> {
        let mut config = tx.config_all()?;
        // 1. authz file sources: `path` replaced by `rules`.
        let sources = config
            .get_mut("authorization")
            .and_then(|a| a.get_mut("sources"))
            .and_then(Value::as_array_mut);
        if let Some(sources) = sources {
            for source in sources.iter_mut().filter_map(Value::as_object_mut) {
                if source.get("type").and_then(Value::as_str) != Some("file") {
                    continue;
                }
                let Some(path) = source.get("path").and_then(Value::as_str) else {
                    continue;
                };
                if let Some(text) = self.read_data_file(tx, path)? {
                    source.remove("path");
                    source.insert("rules".into(), Value::String(text));
                }
            }
        }
        // 3. every map value naming a readable file in the data dir.
        let prefixes = self.data_dir_prefixes();
        self.inline_map(tx, &prefixes, &mut config, 0)?;
        Ok(config)
    }

    fn inline_map(
        &self,
        tx: &Tx<'_>,
        prefixes: &[String],
        map: &mut Map<String, Value>,
        depth: usize,
    ) -> Result<(), StoreError> {
        for value in map.values_mut() {
            match value {
                Value::String(s) if prefixes.iter().any(|p| s.starts_with(p.as_str())) => {
                    if let Some(text) = self.read_data_file(tx, s)? {
                        *s = text;
                    }
                }
                other => self.inline_nested(tx, prefixes, other, depth + 1)?,
            }
        }
        Ok(())
    }

    /// Recurses into maps and lists; bare list elements are not converted (as EMQX).
    fn inline_nested(
        &self,
        tx: &Tx<'_>,
        prefixes: &[String],
        value: &mut Value,
        depth: usize,
    ) -> Result<(), StoreError> {
        if depth > 256 {
            return Ok(());
        }
        match value {
            Value::Object(map) => self.inline_map(tx, prefixes, map, depth),
            Value::Array(items) => {
                for item in items {
                    self.inline_nested(tx, prefixes, item, depth + 1)?;
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// A table as a mnesia backup file: this node in the header, EMQX's schema, the records in
    /// key order.
    fn table_file(&self, tx: &Tx<'_>, def: &TableDef) -> Result<Vec<u8>, StoreError> {
        let entry = format!("mnesia/{}", def.name);
        let corrupt = |e: mnesia_backup::BackupError| StoreError::Corrupt {
            table: def.name.to_owned(),
            message: e.to_string(),
        };
        let mut writer = BackupWriter::new(
            &entry,
            Vec::new(),
            &LogHeader::new(&self.info.name),
            &def.schema(&self.info.name),
            AtomEncoding::Latin1,
        )
        .map_err(corrupt)?;
        for record in tx.scan(def.name)? {
            writer.write_record(&record).map_err(corrupt)?;
        }
        writer.finish().map_err(corrupt)
    }

    /// The archive of the node's state in memory: META, the config (filtered by `root_keys`),
    /// one table file per table of `tables`. `log` receives EMQX's export lines.
    fn snapshot(
        &self,
        tx: &Tx<'_>,
        tables: &[&'static TableDef],
        root_keys: &[String],
        path: &Path,
        log: &mut dyn FnMut(&str),
    ) -> Result<Contents, StoreError> {
        log("Exporting cluster configuration...");
        let data_dir = self.info.data_dir.display().to_string();
        log(&format!(
            "Exporting additional files from EMQX data_dir: \"{data_dir}\"..."
        ));
        let mut config = self.exported_config(tx)?;
        if !root_keys.is_empty() {
            config.retain(|k, _| root_keys.contains(k));
        }
        log("Exporting built-in database...");
        let mut entries = Vec::new();
        for def in tables {
            log(&format!("Exporting {} database table...", def.name));
            entries.push((format!("mnesia/{}", def.name), self.table_file(tx, def)?));
        }
        let file_name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        Ok(Contents {
            path: path.to_owned(),
            base: emqx_archive::backup_base(&file_name)
                .unwrap_or("emqx-export")
                .to_owned(),
            meta: self.meta(),
            config: Some(config),
            entries,
        })
    }

    /// Every error-severity problem the plugins find in an archive (its config, and its tables
    /// when `tables`), one per line: `domain: place: message`.
    fn plugin_problems(&self, contents: &Contents, tables: bool) -> Vec<String> {
        let options = self.plugin_options(false);
        let mut errors = Vec::new();
        for plugin in &self.plugins.plugins {
            let entries: Vec<(String, Vec<u8>)> = if tables {
                contents
                    .entries
                    .iter()
                    .filter(|(rel, _)| owns_entry(&plugin.manifest, rel))
                    .cloned()
                    .collect()
            } else {
                Vec::new()
            };
            let config = contents
                .config
                .as_ref()
                .map(|c| config_for(&plugin.manifest, c))
                .unwrap_or_default();
            if entries.is_empty() && config.is_empty() {
                continue;
            }
            let section = emqx_backup_plugin_host::plan::section(entries, config);
            match plugin.validate(&section, &options) {
                Ok(problems) => errors.extend(
                    problems
                        .into_iter()
                        .filter(|p| p.severity == Severity::Error)
                        .map(|p| format!("{}: {}: {}", plugin.name(), p.place, p.message)),
                ),
                Err(e) => errors.push(e.to_string()),
            }
        }
        errors
    }

    fn check_plugins(&self, contents: &Contents, tables: bool) -> Result<(), DataError> {
        let errors = self.plugin_problems(contents, tables);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(DataError::Invalid(errors.join("\n")))
        }
    }

    /// EMQX's edition and version checks (spec §5.4: 5.x rules on a 5.x node, 6.x rules on
    /// a 6.x node).
    fn check_meta(&self, meta: &Meta) -> Result<(), DataError> {
        if meta.edition == Edition::Ee && self.info.edition == Edition::Ce {
            return Err(DataError::EeToCe);
        }
        let (Some((major, minor)), Some((own_major, own_minor))) = (
            Meta::major_minor(&meta.version),
            Meta::major_minor(&self.info.version),
        ) else {
            return Err(DataError::InvalidVersion);
        };
        let refused = if own_major >= 6 {
            major <= 4 || major > own_major || (major == own_major && minor > own_minor)
        } else {
            major > own_major || minor > own_minor
        };
        if refused {
            return Err(DataError::UnsupportedVersion {
                backup: meta.version.clone(),
                own: self.info.version.clone(),
            });
        }
        Ok(())
    }

    /// Every table file of the archive that this node has must hold that table with
    /// attributes EMQX accepts (`different_table_schema` otherwise).
    fn check_table_schemas(&self, contents: &Contents) -> Result<(), DataError> {
        let tables = self.tables();
        for (rel, bytes) in &contents.entries {
            let EntryKind::Table(table) = classify(rel) else {
                continue;
            };
            let Some(def) = tables.iter().find(|d| d.name == table) else {
                continue;
            };
            let reader = BackupReader::open(rel, bytes.as_slice(), ReadOptions::default())
                .map_err(|e| {
                    DataError::Invalid(format!(
                        "Failed to import built-in database table: {table}, reason: {e}"
                    ))
                })?;
            let schema = reader.schema();
            let attributes = schema.attributes().unwrap_or_default();
            if schema.table != table || !def.accepts(&attributes) {
                return Err(DataError::Invalid(format!(
                    "Failed to import built-in database table: {table}, reason: {{\"Backup traversal failed\",different_table_schema}}"
                )));
            }
        }
        Ok(())
    }

    /// Reads an archive EMQX's way: name rules, top folder, META and the node's edition and
    /// version checks.
    fn read_checked(&self, path: &Path) -> Result<Contents, DataError> {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let base = name.strip_suffix(".tar.gz").unwrap_or(&name);
        if base.is_empty() || base == "." || base == ".." || base.contains(['/', '\\', '\0']) {
            return Err(DataError::UnsafeBackupName);
        }
        if !name.ends_with(".tar.gz") {
            return Err(DataError::BadBackupName);
        }
        let contents = Contents::read(path, &Limits::default()).map_err(archive_error)?;
        self.check_meta(&contents.meta)?;
        Ok(contents)
    }

    /// The file name of the archive this node is importing, if any.
    pub fn import_in_progress(&self) -> Option<String> {
        self.inflight.import_running()
    }

    /// Writes an EMQX archive of the node's state; `log` receives EMQX's CLI lines.
    pub fn export(
        &self,
        options: &ExportOptions,
        log: &mut dyn FnMut(&str),
    ) -> Result<PathBuf, DataError> {
        if let Some(message) = roots::check_root_keys(&options.root_keys) {
            return Err(DataError::InvalidRootKeys(message));
        }
        if let Some(message) = roots::check_table_sets(&options.table_sets) {
            return Err(DataError::InvalidTableSets(message));
        }
        let mut sets: Vec<&str> = if options.table_sets.is_empty() {
            roots::table_set_names()
        } else {
            options.table_sets.iter().map(String::as_str).collect()
        };
        if options.without_sensitive {
            sets.retain(|s| !SENSITIVE_TABLE_SETS.contains(s));
        }
        let tables: Vec<&'static TableDef> = self
            .tables()
            .into_iter()
            .filter(|t| sets.contains(&t.table_set))
            .collect();
        let dir = options.dir.clone().unwrap_or_else(|| self.backup_dir());
        std::fs::create_dir_all(&dir).map_err(io_error(&dir))?;
        let taken = self.inflight.take_export_name(&dir);
        let name = taken.name.clone();
        let path = dir.join(&name);
        log(&format!("Exporting data to \"{}\"...", path.display()));
        let contents = self
            .store
            .read(|tx| self.snapshot(tx, &tables, &options.root_keys, &path, &mut *log))?;
        let problems = self.plugin_problems(&contents, true);
        if !problems.is_empty() {
            return Err(DataError::Invalid(format!(
                "the export would hold what EMQX refuses:\n{}",
                problems.join("\n")
            )));
        }
        let written = contents.write(&dir, &name).map_err(archive_error)?;
        log(&format!(
            "Data has been successfully exported to {}.",
            written.display()
        ));
        Ok(written)
    }

    /// Imports an archive as EMQX does (core only; edition, version, top-folder and schema
    /// checks first; every domain in one transaction or none). One import runs at a time; a
    /// second one meanwhile is refused with [`DataError::ImportInProgress`].
    pub fn import(
        &self,
        path: &Path,
        log: &mut dyn FnMut(&str),
    ) -> Result<ImportReport, DataError> {
        if self.info.role != Role::Core {
            return Err(DataError::NotCoreNode(self.info.name.clone()));
        }
        if !path.is_file() {
            return Err(DataError::NotFound);
        }
        let file_name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let _slot = self
            .inflight
            .start_import(&file_name)
            .map_err(DataError::ImportInProgress)?;
        let mut out = Lines {
            log,
            lines: Vec::new(),
        };
        out.say(format!("Importing data from \"{}\"...", path.display()));
        let incoming = self.read_checked(path)?;
        self.check_plugins(&incoming, true)?;
        self.check_table_schemas(&incoming)?;
        let tables = self.tables();
        let has_config = incoming.config.is_some();
        let incoming_tables: HashSet<String> = incoming
            .entries
            .iter()
            .filter_map(|(rel, _)| match classify(rel) {
                EntryKind::Table(t) => Some(t),
                _ => None,
            })
            .collect();
        let options = self.plugin_options(true);
        let (plans, retained) = self.store.write(|tx| -> Result<_, DataError> {
            let current = self.snapshot(tx, &tables, &[], path, &mut |_| {})?;
            let current_config = current.config.clone().unwrap_or_default();
            let plan = plan_import(&self.plugins, current, incoming, &options)
                .map_err(|e| DataError::Invalid(e.to_string()))?;
            let merged = plan
                .merged
                .ok_or_else(|| DataError::Invalid("the plugins returned no merge".into()))?;
            // Tables: every table the import changes becomes the merged file's records.
            let changed: HashSet<&str> = plan
                .domains
                .iter()
                .flat_map(|d| &d.scopes)
                .filter(|s| {
                    s.kind == ScopeKind::Table && (!s.insert.is_empty() || !s.update.is_empty())
                })
                .map(|s| s.name.as_str())
                .collect();
            for (rel, bytes) in &merged.entries {
                let EntryKind::Table(table) = classify(rel) else {
                    continue;
                };
                if !changed.contains(table.as_str()) || !tables.iter().any(|d| d.name == table) {
                    continue;
                }
                self.replace_table(tx, &table, rel, bytes)?;
            }
            // Roots: every root a plugin owns whose merged value differs.
            let merged_config = merged.config.unwrap_or_default();
            let mut staged = Map::new();
            let mut roots = Vec::new();
            for plugin in &self.plugins.plugins {
                for root in &plugin.manifest.roots {
                    let Some(new) = get_path(&merged_config, root) else {
                        continue;
                    };
                    if get_path(&current_config, root) != Some(new) {
                        put_path(&mut staged, root, new.clone());
                        roots.push(root.clone());
                    }
                }
            }
            crate::certs::write_back(tx, &mut staged)?;
            for root in &roots {
                let value = get_path(&staged, root).cloned().unwrap_or(Value::Null);
                match root.split_once('.') {
                    None => tx.set_config(root, &value)?,
                    Some((top, rest)) => {
                        let mut top_value = match tx.config(top)? {
                            Some(Value::Object(m)) => m,
                            _ => Map::new(),
                        };
                        put_path(&mut top_value, rest, value);
                        tx.set_config(top, &Value::Object(top_value))?;
                    }
                }
            }
            let retained = tx.count(RETAINER_TABLE)?;
            // Table files the node has no table for are ignored, as EMQX does.
            let mut domains = plan.domains;
            for domain in &mut domains {
                domain.scopes.retain(|s| {
                    s.kind != ScopeKind::Table || tables.iter().any(|d| d.name == s.name)
                });
            }
            Ok((domains, retained))
        })?;
        let mut overwritten = Vec::new();
        if has_config {
            out.say("Importing cluster configuration...".into());
            for scope in plans
                .iter()
                .flat_map(|d| &d.scopes)
                .filter(|s| s.kind == ScopeKind::Root)
            {
                for unit in &scope.update {
                    let p = dotted(unit);
                    out.say(format!(
                        "Config key path \"{p}\" was present before import and has been overwritten."
                    ));
                    overwritten.push(p);
                }
            }
        } else {
            out.say("No cluster configuration to be imported.".into());
        }
        out.say("Importing built-in database...".into());
        for def in &tables {
            if incoming_tables.contains(def.name) {
                out.say(format!("Importing {} database table...", def.name));
                if def.name == RETAINER_TABLE {
                    out.say("Starting reindexing retained messages ".into());
                    out.say(format!("Reindexed {retained} messages"));
                    out.say("Reindexing retained messages finished".into());
                }
            } else {
                out.say(format!("No backup file for {} database table...", def.name));
            }
        }
        out.say("Data has been imported successfully.".into());
        Ok(ImportReport {
            plans,
            overwritten,
            lines: out.lines,
        })
    }

    /// Replaces the rows of `table` with the records of a table file.
    fn replace_table(
        &self,
        tx: &mut Tx<'_>,
        table: &str,
        rel: &str,
        bytes: &[u8],
    ) -> Result<(), DataError> {
        let bad = |e: mnesia_backup::BackupError| DataError::Invalid(e.to_string());
        let mut reader = BackupReader::open(rel, bytes, ReadOptions::default()).map_err(bad)?;
        tx.clear(table)?;
        while let Some((_, record)) = reader.next_record().map_err(bad)? {
            tx.put(table, &record)?;
        }
        Ok(())
    }

    /// Resolves `ctl data import FILE` as EMQX: a path (absolute or relative to the node's
    /// root), else a bare name in the backup dir.
    pub fn resolve_import_path(&self, file: &str) -> Result<PathBuf, DataError> {
        if file.is_empty() || file.contains('\0') {
            return Err(DataError::NotFound);
        }
        let p = Path::new(file);
        let as_path = if p.is_absolute() {
            p.to_owned()
        } else {
            self.root_dir().join(p)
        };
        if as_path.is_file() {
            return Ok(as_path);
        }
        // EMQX reports a bad name in the backup dir as not found.
        if check_backup_name(file).is_ok() {
            let in_backup = self.backup_dir().join(file);
            if in_backup.is_file() {
                return Ok(in_backup);
            }
        }
        Err(DataError::NotFound)
    }

    /// The backup files of this node.
    pub fn list_files(&self) -> Result<Vec<BackupFileInfo>, DataError> {
        crate::files::list(&self.backup_dir(), &self.info.name)
    }

    /// Stores an uploaded archive after EMQX's upload validation (name, top folder, META,
    /// config check); nothing stays behind when it fails.
    pub fn upload(&self, name: &str, bytes: &[u8]) -> Result<(), DataError> {
        check_backup_name(name)?;
        let dir = self.backup_dir();
        let dest = dir.join(name);
        if dest.exists() {
            return Err(DataError::AlreadyExists(name.to_owned()));
        }
        std::fs::create_dir_all(&dir).map_err(io_error(&dir))?;
        let tmp = tempfile::Builder::new()
            .prefix(".upload-")
            .tempdir_in(&dir)
            .map_err(io_error(&dir))?;
        let staged = tmp.path().join(name);
        {
            let mut file = std::fs::File::create(&staged).map_err(io_error(&staged))?;
            file.write_all(bytes).map_err(io_error(&staged))?;
            file.sync_all().map_err(io_error(&staged))?;
        }
        let mut contents = self.read_checked(&staged)?;
        contents.entries.clear();
        self.check_plugins(&contents, false)?;
        match std::fs::hard_link(&staged, &dest) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                return Err(DataError::AlreadyExists(name.to_owned()))
            }
            Err(e) => return Err(io_error(&dest)(e)),
        }
        sync_dir(&dir);
        drop(tmp);
        Ok(())
    }

    /// The bytes of a backup file.
    pub fn download(&self, name: &str) -> Result<Vec<u8>, DataError> {
        check_backup_name(name)?;
        let path = self.backup_dir().join(name);
        match std::fs::read(&path) {
            Ok(bytes) => Ok(bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound || path.is_dir() => {
                Err(DataError::NotFound)
            }
            Err(e) => Err(io_error(&path)(e)),
        }
    }

    /// Deletes a backup file.
    pub fn delete(&self, name: &str) -> Result<(), DataError> {
        check_backup_name(name)?;
        let path = self.backup_dir().join(name);
        if !path.is_file() {
            return Err(DataError::NotFound);
        }
        match std::fs::remove_file(&path) {
            Ok(()) => {
                sync_dir(&self.backup_dir());
                Ok(())
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(DataError::NotFound),
            Err(e) => Err(io_error(&path)(e)),
        }
    }

    /// Whether the archive holds the sensitive tables (`emqx_admin`, `emqx_app`).
    pub fn has_sensitive_tables(&self, name: &str) -> Result<bool, DataError> {
        Ok(!self.sensitive_table_sets(name)?.is_empty())
    }

    /// The sensitive table sets whose tables the archive holds, in EMQX's order
    /// (`dashboard_users`, `api_keys`).
    pub fn sensitive_table_sets(&self, name: &str) -> Result<Vec<&'static str>, DataError> {
        check_backup_name(name)?;
        let path = self.backup_dir().join(name);
        if !path.is_file() {
            return Err(DataError::NotFound);
        }
        let mut found = [false; SENSITIVE_TABLES.len()];
        emqx_archive::read_archive(&path, &Limits::default(), |entry| {
            if let Some(table) = entry.rel.strip_prefix("mnesia/") {
                for (i, t) in SENSITIVE_TABLES.iter().enumerate() {
                    found[i] |= *t == table;
                }
            }
            Ok(())
        })
        .map_err(|e| DataError::Invalid(format!("Bad backup file: {e}")))?;
        Ok(SENSITIVE_TABLE_SETS
            .iter()
            .zip(found)
            .filter_map(|(set, present)| present.then_some(*set))
            .collect())
    }
}

/// Removes what a killed node left in its data dir: in `backup/`, the folders of interrupted
/// uploads (`.upload-*`) and the hidden temporary files (`.*.tmp`) of interrupted exports and
/// archive copies; under `configs/`, `authz/` and `certs/`, the hidden temporary files of
/// interrupted renders. A final name only appears by rename or link of a finished file, so
/// nothing else can be partial.
fn remove_temporaries(data_dir: &Path) {
    for sub in ["backup", "configs", "authz", "certs"] {
        remove_temporaries_in(&data_dir.join(sub), sub == "backup", 0);
    }
}

fn remove_temporaries_in(dir: &Path, uploads: bool, depth: usize) {
    let Ok(read) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in read.filter_map(Result::ok) {
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            if uploads && name.starts_with(".upload-") {
                let _ = std::fs::remove_dir_all(&path);
            } else if !uploads && depth < 16 {
                remove_temporaries_in(&path, false, depth + 1);
            }
        } else if kind.is_file() && name.starts_with('.') && name.ends_with(".tmp") {
            let _ = std::fs::remove_file(&path);
        }
    }
}
