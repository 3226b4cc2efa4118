//! `emqx-backup verify`.

use crate::cli::VerifyArgs;
use crate::exit::Invalid;
use emqx_archive::{inspect_with, InspectHook, Inspection};
use emqx_backup_plugin_abi::Section;
use emqx_backup_plugin_host::plan::section;
use emqx_backup_plugin_host::{Plugin, Registry};
use emqx_backup_plugin_sdk::model::Severity;
use emqx_backup_plugin_sdk::select::{config_for, owns_entry};
use emqx_backup_plugin_sdk::{Options, Problem};
use serde_json::{json, Map, Value};

/// A problem a plugin found, with the domain that found it.
#[derive(Debug, serde::Serialize)]
pub struct Found {
    /// The plugin's domain.
    pub domain: String,
    /// The problem.
    #[serde(flatten)]
    pub problem: Problem,
}

/// Hands each table entry a plugin owns to that plugin as the single pass reads it, so memory
/// holds one entry at a time.
struct Forward<'a> {
    registry: &'a Registry,
    found: Vec<Found>,
    config: Option<Map<String, Value>>,
}

impl InspectHook for Forward<'_> {
    fn wants_table(&mut self, rel: &str) -> bool {
        self.registry
            .plugins
            .iter()
            .any(|p| owns_entry(&p.manifest, rel))
    }

    fn table(&mut self, rel: &str, bytes: Vec<u8>) {
        if let Some(plugin) = self
            .registry
            .plugins
            .iter()
            .find(|p| owns_entry(&p.manifest, rel))
        {
            let section = section(vec![(rel.to_owned(), bytes)], Map::new());
            checked(plugin, rel, &section, &mut self.found);
        }
    }

    fn config(&mut self, config: &emqx_hocon::Object) {
        if let Value::Object(map) = Value::from(&emqx_hocon::Value::Object(config.clone())) {
            self.config = Some(map);
        }
    }
}

fn checked(plugin: &Plugin, place: &str, s: &Section, found: &mut Vec<Found>) {
    match plugin.validate(s, &Options::default()) {
        Ok(problems) => found.extend(problems.into_iter().map(|problem| Found {
            domain: plugin.name().to_owned(),
            problem,
        })),
        Err(e) => found.push(Found {
            domain: plugin.name().to_owned(),
            problem: Problem::error(place, e.to_string()),
        }),
    }
}

/// Inspects the archive in one pass, the plugins checking each table they own as it passes,
/// then checks each plugin's config roots.
pub fn inspect_and_check(
    file: &std::path::Path,
    limits: &emqx_archive::Limits,
    registry: &Registry,
) -> anyhow::Result<(Inspection, Vec<Found>)> {
    let mut hook = Forward {
        registry,
        found: Vec::new(),
        config: None,
    };
    let inspection = inspect_with(file, limits, &mut hook)?;
    let mut found = hook.found;
    if let Some(config) = hook.config {
        for plugin in &registry.plugins {
            let mine = config_for(&plugin.manifest, &config);
            if !mine.is_empty() {
                checked(
                    plugin,
                    "cluster.hocon",
                    &section(Vec::new(), mine),
                    &mut found,
                );
            }
        }
    }
    Ok((inspection, found))
}

/// Fails with [`Invalid`] listing every error-level problem the plugins found.
pub fn refuse_errors(file: &std::path::Path, found: &[Found]) -> anyhow::Result<()> {
    let errors: Vec<&Found> = found
        .iter()
        .filter(|f| f.problem.severity == Severity::Error)
        .collect();
    if errors.is_empty() {
        return Ok(());
    }
    let list: Vec<String> = errors
        .iter()
        .map(|f| format!("{}: {}: {}", f.domain, f.problem.place, f.problem.message))
        .collect();
    Err(Invalid(format!(
        "{}: {} problems EMQX would refuse:\n  {}",
        file.display(),
        errors.len(),
        list.join("\n  ")
    ))
    .into())
}

/// Checks the archive; errors carry the entry and the fault.
pub fn run(
    args: &VerifyArgs,
    registry: &Registry,
    quiet: bool,
    verbose: bool,
) -> anyhow::Result<()> {
    let (i, found) = inspect_and_check(&args.file, &args.read.limits(), registry)?;
    refuse_errors(&args.file, &found)?;
    let records: u64 = i.tables.values().map(|t| t.records).sum();
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
