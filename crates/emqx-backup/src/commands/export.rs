//! `emqx-backup export`: export a live node into a verified local archive.

use super::live::{self, Ui};
use super::verify::{inspect_and_check, refuse_errors};
use crate::cli::ExportArgs;
use crate::exit::Invalid;
use anyhow::Context;
use emqx_archive::roots::{check_root_keys, check_table_sets};
use emqx_archive::{classify, Contents, EntryKind, Inspection, Limits};
use emqx_backup_plugin_host::Registry;
use emqx_backup_plugin_sdk::select::owns_entry;
use emqx_client::Client;
use serde_json::{json, Map, Value};

/// Exports, downloads, verifies and saves.
pub fn run(args: &ExportArgs, client: &Client, registry: &Registry, ui: &Ui) -> anyhow::Result<()> {
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
    let mut sets = args.table_sets.clone();
    let mut roots = args.root_keys.clone();
    for d in &domains {
        sets.extend(d.manifest.table_sets.iter().cloned());
        for r in &d.manifest.roots {
            let top = r.split('.').next().unwrap_or(r).to_owned();
            if check_root_keys(std::slice::from_ref(&top)).is_none() {
                roots.push(top);
            }
        }
    }
    sets.sort();
    sets.dedup();
    roots.sort();
    roots.dedup();
    let spin = ui.spinner(&format!("exporting on {}", client.base_url()));
    let info = client.export(&sets, &roots)?;
    if let Some(s) = spin {
        s.finish_and_clear();
    }
    ui.step(format!(
        "node {} exported {} ({} bytes)",
        info.node, info.filename, info.size
    ));
    let limits = Limits::default();
    let tmp = live::download_temp(client, &info, &args.output, ui)?;
    let (inspection, found) = inspect_and_check(&tmp.path, &limits, registry)
        .with_context(|| format!("{} downloaded from {}", info.filename, info.node))?;
    refuse_errors(&tmp.path, &found)?;
    let target = args.output.join(&info.filename);
    let (written, inspection, manifest) = if inspection.has_manifest && domains.is_empty() {
        tmp.persist(&target)?;
        (target, inspection, "verified")
    } else {
        // Rewritten atomically under the EMQX name, with the manifest (and only the chosen
        // domains).
        let mut contents = Contents::read(&tmp.path, &limits)?;
        if !domains.is_empty() {
            contents.entries.retain(|(rel, _)| match classify(rel) {
                EntryKind::Table(_) => domains.iter().any(|d| owns_entry(&d.manifest, rel)),
                _ => true,
            });
            if let Some(config) = contents.config.as_mut() {
                config.retain(|root, _| {
                    registry
                        .root_owner(root)
                        .is_some_and(|p| domains.iter().any(|d| d.name() == p.name()))
                });
            }
        }
        let written = contents.write(&args.output, &info.filename)?;
        drop(tmp);
        let inspection = emqx_archive::inspect(&written, &limits)?;
        (written, inspection, "added")
    };
    let per_domain = by_domain(&inspection, registry);
    if ui.json {
        let doc = json!({
            "ok": true,
            "file": written,
            "node": info.node,
            "filename": info.filename,
            "meta": inspection.meta,
            "manifest": manifest,
            "domains": per_domain,
        });
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else if !ui.quiet {
        println!(
            "exported {} from {} ({} {}), manifest {manifest}",
            written.display(),
            info.node,
            inspection.meta.edition.as_str(),
            inspection.meta.version
        );
        for (domain, v) in &per_domain {
            let tables: Vec<String> = v["tables"]
                .as_object()
                .map(|t| {
                    t.iter()
                        .map(|(name, n)| format!("{name} {n} records"))
                        .collect()
                })
                .unwrap_or_default();
            let roots: Vec<String> = v["roots"]
                .as_array()
                .map(|r| {
                    r.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default();
            let mut parts = Vec::new();
            if !tables.is_empty() {
                parts.push(tables.join(", "));
            }
            if !roots.is_empty() {
                parts.push(format!("roots {}", roots.join(", ")));
            }
            println!("  {domain}: {}", parts.join("; "));
        }
    }
    Ok(())
}

/// What the archive holds per domain: tables with record counts, and config roots.
fn by_domain(i: &Inspection, registry: &Registry) -> Map<String, Value> {
    let mut out = Map::new();
    fn slot<'a>(out: &'a mut Map<String, Value>, domain: &str) -> &'a mut Value {
        out.entry(domain.to_owned())
            .or_insert_with(|| json!({"tables": {}, "roots": []}))
    }
    for (table, info) in &i.tables {
        let domain = registry
            .table_owner(table)
            .map(|p| p.name().to_owned())
            .unwrap_or_else(|| "(unowned)".to_owned());
        slot(&mut out, &domain)["tables"][table.as_str()] = json!(info.records);
    }
    for root in &i.config_roots {
        let domain = registry
            .root_owner(root)
            .map(|p| p.name().to_owned())
            .unwrap_or_else(|| "(unowned)".to_owned());
        if let Some(a) = slot(&mut out, &domain)["roots"].as_array_mut() {
            a.push(json!(root));
        }
    }
    out
}
