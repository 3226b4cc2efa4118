//! One simulated EMQX node: its identity, its store, its plugins and its backup files, and
//! EMQX's export and import.

use crate::error::DataError;
use crate::files::BackupFileInfo;
use crate::store::Store;
use emqx_archive::Edition;
use emqx_backup_plugin_host::Registry;
use emqx_backup_plugin_sdk::Plan;
use serde::Serialize;
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
}

impl Node {
    /// Opens the node's data dir (creating the folders EMQX has) and loads the plugins.
    pub fn open(_info: NodeInfo, _plugin_dir: Option<&Path>) -> Result<Node, DataError> {
        todo!("node: open")
    }

    /// `<data_dir>/backup`.
    pub fn backup_dir(&self) -> PathBuf {
        self.info.data_dir.join("backup")
    }

    /// Writes an EMQX archive of the node's state; `log` receives EMQX's CLI lines.
    pub fn export(&self, _options: &ExportOptions, _log: &mut dyn FnMut(&str)) -> Result<PathBuf, DataError> {
        todo!("node: export")
    }

    /// Imports an archive as EMQX does (core only; edition, version, top-folder and schema
    /// checks first; every domain in one transaction or none).
    pub fn import(&self, _path: &Path, _log: &mut dyn FnMut(&str)) -> Result<ImportReport, DataError> {
        todo!("node: import")
    }

    /// Resolves `ctl data import FILE` as EMQX: a path (absolute or relative to the node's
    /// root), else a bare name in the backup dir.
    pub fn resolve_import_path(&self, _file: &str) -> Result<PathBuf, DataError> {
        todo!("node: resolve_import_path")
    }

    /// The backup files of this node.
    pub fn list_files(&self) -> Result<Vec<BackupFileInfo>, DataError> {
        todo!("node: list_files")
    }

    /// Stores an uploaded archive after EMQX's upload validation (name, top folder, META,
    /// config check); nothing stays behind when it fails.
    pub fn upload(&self, _name: &str, _bytes: &[u8]) -> Result<(), DataError> {
        todo!("node: upload")
    }

    /// The bytes of a backup file.
    pub fn download(&self, _name: &str) -> Result<Vec<u8>, DataError> {
        todo!("node: download")
    }

    /// Deletes a backup file.
    pub fn delete(&self, _name: &str) -> Result<(), DataError> {
        todo!("node: delete")
    }

    /// Whether the archive holds the sensitive tables (`emqx_admin`, `emqx_app`).
    pub fn has_sensitive_tables(&self, _name: &str) -> Result<bool, DataError> {
        todo!("node: has_sensitive_tables")
    }
}
