//! Which parts of an archive belong to a plugin: the entries of its tables and the roots it
//! owns or reads. The host splits archives with it; plugin tests use it on real archives.

use crate::domain::{SectionOut, SectionView};
use crate::model::Manifest;
use crate::roots::get_path;
use emqx_archive::Contents;
use serde_json::{Map, Value};

/// The entry path of a table.
pub fn table_entry(table: &str) -> String {
    format!("mnesia/{table}")
}

/// Whether a manifest claims an entry (`mnesia/<table>` of one of its tables).
pub fn owns_entry(manifest: &Manifest, rel: &str) -> bool {
    rel.strip_prefix("mnesia/")
        .is_some_and(|t| manifest.tables.iter().any(|m| m == t))
}

/// The roots of `config` a manifest owns or reads, a dotted root (`cluster.links`) under its
/// dotted name.
pub fn config_for(manifest: &Manifest, config: &Map<String, Value>) -> Map<String, Value> {
    if manifest.reads_roots.iter().any(|r| r == "*") {
        return config.clone();
    }
    let mut out = Map::new();
    for root in manifest.roots.iter().chain(&manifest.reads_roots) {
        if let Some(v) = get_path(config, root) {
            out.insert(root.clone(), v.clone());
        }
    }
    out
}

/// A plugin's section of an archive, copied out.
pub fn section_for(manifest: &Manifest, contents: &Contents) -> SectionOut {
    SectionOut {
        entries: contents
            .entries
            .iter()
            .filter(|(rel, _)| owns_entry(manifest, rel))
            .map(|(rel, bytes)| (rel.clone(), bytes.clone()))
            .collect(),
        config: contents
            .config
            .as_ref()
            .map(|c| config_for(manifest, c))
            .unwrap_or_default(),
    }
}

/// Borrows an output section as a view (to feed one plugin's output into its next call).
pub fn view_of(section: &SectionOut) -> SectionView<'_> {
    SectionView {
        entries: section
            .entries
            .iter()
            .map(|(n, b)| (n.as_str(), b.as_slice()))
            .collect(),
        config: section.config.clone(),
    }
}
