//! `emqx-backup verify`.

use crate::cli::VerifyArgs;
use crate::exit::Invalid;
use emqx_archive::{classify, read_archive, ArchiveError, EntryKind, ErrorKind, Place};
use emqx_backup_plugin_host::plan::section;
use emqx_backup_plugin_host::Registry;
use emqx_backup_plugin_sdk::model::Severity;
use emqx_backup_plugin_sdk::select::{config_for, owns_entry};
use emqx_backup_plugin_sdk::{Options, Problem};
use serde_json::{json, Map, Value};
use std::io::Read;

/// A problem a plugin found, with the domain that found it.
#[derive(Debug, serde::Serialize)]
pub struct Found {
    /// The plugin's domain.
    pub domain: String,
    /// The problem.
    #[serde(flatten)]
    pub problem: Problem,
}

/// Runs every plugin's checks, one table file at a time (memory stays at one entry), then
/// over each plugin's config roots.
pub fn plugin_problems(args: &VerifyArgs, registry: &Registry) -> anyhow::Result<Vec<Found>> {
    let mut found = Vec::new();
    if registry.plugins.is_empty() {
        return Ok(found);
    }
    let options = Options::default();
    let mut config: Option<Map<String, Value>> = None;
    read_archive(&args.file, &args.read.limits(), |entry| {
        let rel = entry.rel.to_owned();
        let owner = registry
            .plugins
            .iter()
            .find(|p| owns_entry(&p.manifest, &rel));
        let wanted = owner.is_some() || classify(&rel) == EntryKind::ClusterConfig;
        if !wanted {
            return Ok(());
        }
        let mut bytes = Vec::with_capacity(entry.size as usize);
        entry.read_to_end(&mut bytes).map_err(|e| {
            ArchiveError::new(
                &args.file,
                ErrorKind::Corrupt {
                    place: Place::At(entry.name.to_owned()),
                    message: e.to_string(),
                },
            )
        })?;
        if let Some(plugin) = owner {
            let s = section(vec![(rel, bytes)], Map::new());
            match plugin.validate(&s, &options) {
                Ok(problems) => found.extend(problems.into_iter().map(|problem| Found {
                    domain: plugin.name().to_owned(),
                    problem,
                })),
                Err(e) => found.push(Found {
                    domain: plugin.name().to_owned(),
                    problem: Problem::error(entry.rel, e.to_string()),
                }),
            }
        } else if let Ok(object) = String::from_utf8(bytes)
            .map_err(|_| ())
            .and_then(|t| emqx_archive::parse_config(&t).map_err(|_| ()))
        {
            config = Some(object);
        }
        Ok(())
    })?;
    if let Some(config) = config {
        for plugin in &registry.plugins {
            let mine = config_for(&plugin.manifest, &config);
            if mine.is_empty() {
                continue;
            }
            let s = section(Vec::new(), mine);
            match plugin.validate(&s, &options) {
                Ok(problems) => found.extend(problems.into_iter().map(|problem| Found {
                    domain: plugin.name().to_owned(),
                    problem,
                })),
                Err(e) => found.push(Found {
                    domain: plugin.name().to_owned(),
                    problem: Problem::error("cluster.hocon", e.to_string()),
                }),
            }
        }
    }
    Ok(found)
}

/// Checks the archive; errors carry the entry and the fault.
pub fn run(
    args: &VerifyArgs,
    registry: &Registry,
    quiet: bool,
    verbose: bool,
) -> anyhow::Result<()> {
    let i = emqx_archive::inspect(&args.file, &args.read.limits())?;
    let found = plugin_problems(args, registry)?;
    let errors: Vec<&Found> = found
        .iter()
        .filter(|f| f.problem.severity == Severity::Error)
        .collect();
    let records: u64 = i.tables.values().map(|t| t.records).sum();
    if !errors.is_empty() {
        let list: Vec<String> = errors
            .iter()
            .map(|f| format!("{}: {}: {}", f.domain, f.problem.place, f.problem.message))
            .collect();
        return Err(Invalid(format!(
            "{}: {} problems EMQX would refuse:\n  {}",
            args.file.display(),
            errors.len(),
            list.join("\n  ")
        ))
        .into());
    }
    if args.json {
        let doc = json!({
            "ok": true,
            "file": i.file,
            "meta": i.meta,
            "tables": i.tables.len(),
            "records": records,
            "config_roots": i.config_roots,
            "manifest": if i.has_manifest { "verified" } else { "absent" },
            "plugins": registry.names(),
            "warnings": found,
        });
        println!("{doc}");
    } else if !quiet {
        println!(
            "ok: {}: {} {}, {} tables, {records} records, {} config roots, manifest {}, checked by {} plugins",
            i.file.display(),
            i.meta.edition.as_str(),
            i.meta.version,
            i.tables.len(),
            i.config_roots.len(),
            if i.has_manifest { "verified" } else { "absent" },
            registry.plugins.len()
        );
        for f in &found {
            println!(
                "  warning: {}: {}: {}",
                f.domain, f.problem.place, f.problem.message
            );
        }
        if verbose {
            for (name, t) in &i.tables {
                println!(
                    "  {name}: {} records decoded, attributes [{}]",
                    t.records,
                    t.attributes.join(", ")
                );
            }
            for e in &i.entries {
                println!("  {} {} bytes sha256 {}", e.path, e.size, e.sha256);
            }
        }
    }
    Ok(())
}
