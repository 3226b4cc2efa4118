//! `emqx-backup filter`.

use crate::cli::FilterArgs;
use crate::exit::Invalid;
use emqx_archive::roots::{check_root_keys, check_table_sets};
use emqx_archive::{classify, export_file_name, table_def, Contents, EntryKind};
use emqx_backup_plugin_host::Registry;
use serde_json::json;

/// Keeps the chosen domains, table sets and roots of an archive.
pub fn run(args: &FilterArgs, registry: &Registry, quiet: bool) -> anyhow::Result<()> {
    if args.domains.is_empty() && args.table_sets.is_empty() && args.root_keys.is_empty() {
        anyhow::bail!("filter needs --domains, --table-sets or --root-keys");
    }
    if let Some(msg) = check_table_sets(&args.table_sets) {
        return Err(Invalid(msg).into());
    }
    if let Some(msg) = check_root_keys(&args.root_keys) {
        return Err(Invalid(msg).into());
    }
    let domains = args
        .domains
        .iter()
        .map(|d| registry.get(d))
        .collect::<Result<Vec<_>, _>>()?;
    let mut contents = Contents::read(&args.file, &args.read.limits())?;
    let keep_table = |table: &str| {
        (domains.is_empty()
            || domains
                .iter()
                .any(|p| p.manifest.tables.iter().any(|t| t == table)))
            && (args.table_sets.is_empty()
                || table_def(table)
                    .is_some_and(|d| args.table_sets.iter().any(|s| s == d.table_set)))
    };
    let keep_root = |root: &str| {
        (domains.is_empty()
            || domains.iter().any(|p| {
                p.manifest
                    .roots
                    .iter()
                    .any(|r| r == root || r.starts_with(&format!("{root}.")))
            }))
            && (args.root_keys.is_empty() || args.root_keys.iter().any(|k| k == root))
    };
    contents.entries.retain(|(rel, _)| match classify(rel) {
        EntryKind::Table(t) => keep_table(&t),
        _ => false,
    });
    if let Some(config) = contents.config.as_mut() {
        config.retain(|root, _| keep_root(root));
    }
    let tables: Vec<String> = contents.entries.iter().map(|(r, _)| r.clone()).collect();
    let roots: Vec<String> = contents
        .config
        .iter()
        .flat_map(|c| c.keys().cloned())
        .collect();
    let written = contents.write(&args.output, &export_file_name(chrono::Local::now()))?;
    emqx_archive::inspect(&written, &args.read.limits())?;
    if args.json {
        println!(
            "{}",
            json!({"ok": true, "file": written, "entries": tables, "roots": roots})
        );
    } else if !quiet {
        println!(
            "kept {} table files and {} roots: {}",
            tables.len(),
            roots.len(),
            written.display()
        );
    }
    Ok(())
}
