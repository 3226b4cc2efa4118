//! Planning an EMQX import of one archive into a node whose state another archive holds,
//! through every plugin at once; the merged archive when asked for.

use crate::error::HostError;
use crate::registry::Registry;
use crate::sections::{join, split, Split};
use emqx_archive::{classify, table_def, Contents, EntryKind};
use emqx_backup_plugin_abi::{Entry, Section};
use emqx_backup_plugin_sdk::table::{merge_table, RawTable};
use emqx_backup_plugin_sdk::{Options, Plan, Warning};

/// Archive entries as `(path below the top folder, bytes)`.
type Entries = Vec<(String, Vec<u8>)>;

/// The name of the pseudo-domain that holds what no plugin owns.
pub const UNOWNED: &str = "(unowned)";

/// The plan of an import, per domain, and the archive it would leave.
#[derive(Debug)]
pub struct ImportPlan {
    /// One plan per plugin, then one for unowned tables and roots.
    pub domains: Vec<Plan>,
    /// The archive the node would export afterwards, when asked for.
    pub merged: Option<Contents>,
}

/// Plans importing `incoming` into a node holding `current`.
pub fn plan_import(
    registry: &Registry,
    current: Contents,
    incoming: Contents,
    options: &Options,
) -> Result<ImportPlan, HostError> {
    let mut cur = split(registry, current);
    let inc = split(registry, incoming);
    let results: Vec<Result<crate::registry::Merged, HostError>> = std::thread::scope(|s| {
        let handles: Vec<_> = registry
            .plugins
            .iter()
            .zip(cur.sections.iter().zip(&inc.sections))
            .map(|(plugin, (c, i))| (plugin, s.spawn(move || plugin.merge(c, i, options))))
            .collect();
        handles
            .into_iter()
            .map(|(plugin, h)| {
                h.join().unwrap_or_else(|_| {
                    Err(HostError::Call {
                        domain: plugin.name().to_owned(),
                        path: plugin.path.clone(),
                        operation: "merge",
                        message: "the host's side of the call panicked".into(),
                    })
                })
            })
            .collect()
    });
    let mut domains = Vec::new();
    let mut merged_sections = Vec::new();
    for result in results {
        let merged = result?;
        domains.push(merged.plan);
        merged_sections.push(merged.section.unwrap_or_default());
    }
    let (unowned_plan, merged_unowned) = plan_unowned(&cur, &inc, options)?;
    domains.push(unowned_plan);
    let merged = options.want_merged.then(|| {
        cur.sections = merged_sections;
        cur.unowned_entries = merged_unowned;
        join(registry, cur)
    });
    Ok(ImportPlan { domains, merged })
}

/// Tables no plugin owns merge by key as EMQX's import does when the node has the table;
/// files EMQX does not back up and roots no plugin owns are not imported.
fn plan_unowned(cur: &Split, inc: &Split, options: &Options) -> Result<(Plan, Entries), HostError> {
    let mut plan = Plan {
        domain: UNOWNED.into(),
        ..Plan::default()
    };
    let mut merged: Entries = cur.unowned_entries.clone();
    for (rel, bytes) in &inc.unowned_entries {
        let table = match classify(rel) {
            EntryKind::Table(t) if table_def(&t).is_some() => t,
            _ => {
                plan.warnings.push(Warning::new(
                    "unowned.ignored_entry",
                    format!("{rel}: not a table EMQX backs up; EMQX's import ignores it"),
                ));
                continue;
            }
        };
        let name: &'static str = table_def(&table).map(|d| d.name).unwrap_or("?");
        let current = cur
            .unowned_entries
            .iter()
            .find(|(r, _)| r == rel)
            .map(|(_, b)| b.as_slice());
        let result = merge_table(&RawTable(name), current, bytes, options, &mut |_, _| {})
            .map_err(|e| HostError::Call {
                domain: UNOWNED.into(),
                path: inc.path.clone(),
                operation: "merge",
                message: e.0,
            })?;
        plan.scopes.push(result.plan);
        if let Some(m) = result.merged {
            match merged.iter_mut().find(|(r, _)| r == rel) {
                Some(slot) => slot.1 = m,
                None => merged.push((rel.clone(), m)),
            }
        }
    }
    for root in inc.unowned_roots.keys() {
        plan.warnings.push(Warning::new(
            "unowned.root_not_imported",
            format!("config root {root}: no plugin owns it; EMQX's import does not apply it"),
        ));
    }
    Ok((plan, merged))
}

/// A section from plain parts (for tests and tools).
pub fn section(
    entries: Vec<(String, Vec<u8>)>,
    config: serde_json::Map<String, serde_json::Value>,
) -> Section {
    Section {
        entries: entries
            .into_iter()
            .map(|(n, b)| Entry {
                name: n.into(),
                bytes: b.into(),
            })
            .collect(),
        config_json: serde_json::Value::Object(config).to_string().into(),
    }
}
