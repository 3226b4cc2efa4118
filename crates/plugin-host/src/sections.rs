//! Splitting an archive into the plugins' sections, and joining sections back into one.
//! Entry bytes move, never copy: an archive of a million users is held once.

use crate::registry::Registry;
use emqx_archive::{Contents, Meta};
use emqx_backup_plugin_abi::{Entry, Section};
use emqx_backup_plugin_sdk::roots::put_path;
use emqx_backup_plugin_sdk::select::owns_entry;
use serde_json::{Map, Value};
use std::path::PathBuf;

/// An archive cut into sections, one per loaded plugin (same order as the registry), plus
/// what no plugin claims.
#[derive(Debug)]
pub struct Split {
    /// Where the archive came from.
    pub path: PathBuf,
    /// Its top folder.
    pub base: String,
    /// Its META.hocon.
    pub meta: Meta,
    /// Whether it had a cluster.hocon.
    pub has_config: bool,
    /// One section per plugin.
    pub sections: Vec<Section>,
    /// Entries no plugin owns, passed through byte for byte.
    pub unowned_entries: Vec<(String, Vec<u8>)>,
    /// Roots (or what is left of them) no plugin owns.
    pub unowned_roots: Map<String, Value>,
}

/// Moves an archive's entries and roots into the sections of their owners.
pub fn split(registry: &Registry, contents: Contents) -> Split {
    let full_config = contents.config.clone().unwrap_or_default();
    let mut sections: Vec<Section> = registry
        .plugins
        .iter()
        .map(|_| Section::default())
        .collect();
    let mut configs: Vec<Map<String, Value>> =
        registry.plugins.iter().map(|_| Map::new()).collect();
    let mut unowned_entries = Vec::new();
    for (rel, bytes) in contents.entries {
        match registry
            .plugins
            .iter()
            .position(|p| owns_entry(&p.manifest, &rel))
        {
            Some(i) => sections[i].entries.push(Entry {
                name: rel.into(),
                bytes: bytes.into(),
            }),
            None => unowned_entries.push((rel, bytes)),
        }
    }
    let mut unowned_roots = Map::new();
    for (root, mut value) in full_config.clone() {
        if let Some(i) = registry
            .plugins
            .iter()
            .position(|p| p.manifest.roots.contains(&root))
        {
            configs[i].insert(root, value);
            continue;
        }
        for (i, plugin) in registry.plugins.iter().enumerate() {
            for claim in &plugin.manifest.roots {
                if let Some(rest) = claim.strip_prefix(&format!("{root}.")) {
                    if let Some(v) = take_path(&mut value, rest) {
                        configs[i].insert(claim.clone(), v);
                    }
                }
            }
        }
        let empty_after_claims = value.as_object().is_some_and(Map::is_empty)
            && registry.plugins.iter().any(|p| {
                p.manifest
                    .roots
                    .iter()
                    .any(|c| c.starts_with(&format!("{root}.")))
            });
        if !empty_after_claims {
            unowned_roots.insert(root, value);
        }
    }
    for (i, plugin) in registry.plugins.iter().enumerate() {
        let reads = &plugin.manifest.reads_roots;
        if reads.iter().any(|r| r == "*") {
            configs[i] = full_config.clone();
        } else {
            for r in reads {
                if let Some(v) = emqx_backup_plugin_sdk::roots::get_path(&full_config, r) {
                    configs[i].insert(r.clone(), v.clone());
                }
            }
        }
        sections[i].config_json = Value::Object(std::mem::take(&mut configs[i]))
            .to_string()
            .into();
    }
    Split {
        path: contents.path,
        base: contents.base,
        meta: contents.meta,
        has_config: contents.config.is_some(),
        sections,
        unowned_entries,
        unowned_roots,
    }
}

fn take_path(value: &mut Value, path: &str) -> Option<Value> {
    match path.split_once('.') {
        None => value.as_object_mut()?.remove(path),
        Some((head, rest)) => take_path(value.as_object_mut()?.get_mut(head)?, rest),
    }
}

/// Parses a section's config JSON (an object; anything else counts as empty).
pub fn section_config(section: &Section) -> Map<String, Value> {
    match serde_json::from_str(section.config_json.as_str()) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

/// Joins sections (one per plugin, registry order) and the unowned parts into contents:
/// each plugin contributes only the entries and roots it owns.
pub fn join(registry: &Registry, split: Split) -> Contents {
    let mut config = split.unowned_roots;
    let mut entries = Vec::new();
    for (plugin, section) in registry.plugins.iter().zip(split.sections) {
        let owned = section_config(&section);
        for (root, value) in owned {
            if plugin.manifest.roots.contains(&root) {
                put_path(&mut config, &root, value);
            }
        }
        for e in section.entries {
            if owns_entry(&plugin.manifest, e.name.as_str()) {
                entries.push((e.name.into_string(), e.bytes.into_vec()));
            }
        }
    }
    entries.extend(split.unowned_entries);
    Contents {
        path: split.path,
        base: split.base,
        meta: split.meta,
        config: (split.has_config || !config.is_empty()).then_some(config),
        entries,
    }
}
