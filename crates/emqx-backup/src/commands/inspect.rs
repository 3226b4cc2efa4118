//! `emqx-backup inspect`.

use crate::cli::InspectArgs;
use emqx_archive::{Contents, EntryKind, Inspection};
use emqx_backup_plugin_host::{split, Registry};
use emqx_backup_plugin_sdk::Options;
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::fmt::Write;

/// Which plugin owns each part of an archive.
#[derive(Debug, Default, Serialize)]
pub struct Ownership {
    /// Table name to owning domain.
    pub tables: BTreeMap<String, String>,
    /// Root name to owning domain (`domain` or `domain (part)` for nested claims).
    pub roots: BTreeMap<String, String>,
    /// Entries no plugin owns: passed through byte for byte.
    pub unowned_entries: Vec<String>,
    /// Roots no plugin owns.
    pub unowned_roots: Vec<String>,
}

/// Works out the owner of every table file, entry and root of an inspected archive.
pub fn ownership(i: &Inspection, registry: &Registry) -> Ownership {
    let mut o = Ownership::default();
    for e in &i.entries {
        match &e.kind {
            EntryKind::Table(t) => match registry.table_owner(t) {
                Some(p) => {
                    o.tables.insert(t.clone(), p.name().to_owned());
                }
                None => o.unowned_entries.push(e.path.clone()),
            },
            EntryKind::Unknown | EntryKind::NamespaceConfig(_) => {
                o.unowned_entries.push(e.path.clone())
            }
            _ => {}
        }
    }
    for root in &i.config_roots {
        if let Some(p) = registry.root_owner(root) {
            o.roots.insert(root.clone(), p.name().to_owned());
            continue;
        }
        let nested: Vec<String> = registry
            .plugins
            .iter()
            .flat_map(|p| {
                p.manifest
                    .roots
                    .iter()
                    .filter(|r| r.starts_with(&format!("{root}.")))
                    .map(move |r| format!("{r}: {}", p.name()))
            })
            .collect();
        if !nested.is_empty() {
            o.roots
                .insert(root.clone(), format!("partly ({})", nested.join(", ")));
        }
        o.unowned_roots.push(root.clone());
    }
    o
}

/// Decodes the chosen domains' sections (all when none is chosen).
fn records(args: &InspectArgs, registry: &Registry) -> anyhow::Result<Map<String, Value>> {
    for d in &args.domain {
        registry.get(d)?;
    }
    let contents = Contents::read(&args.file, &args.read.limits())?;
    let split = split(registry, contents);
    let mut out = Map::new();
    for (plugin, section) in registry.plugins.iter().zip(&split.sections) {
        if !args.domain.is_empty() && !args.domain.iter().any(|d| d == plugin.name()) {
            continue;
        }
        let records = plugin.decode(section, &Options::default())?;
        out.insert(plugin.name().to_owned(), serde_json::to_value(records)?);
    }
    Ok(out)
}

/// Prints what the archive holds, who owns each part, and optionally the records.
pub fn run(args: &InspectArgs, registry: &Registry) -> anyhow::Result<()> {
    let inspection = emqx_archive::inspect(&args.file, &args.read.limits())?;
    let owners = ownership(&inspection, registry);
    let records = if args.records || !args.domain.is_empty() {
        Some(records(args, registry)?)
    } else {
        None
    };
    if args.json {
        let mut doc = serde_json::to_value(&inspection)?;
        if let Value::Object(m) = &mut doc {
            m.insert("owners".into(), serde_json::to_value(&owners)?);
            if let Some(r) = &records {
                m.insert("records".into(), Value::Object(r.clone()));
            }
        }
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        print!("{}", render(&inspection));
        print!("{}", render_owners(&owners, registry));
        if let Some(r) = records {
            for (domain, recs) in r {
                println!("records of {domain}:");
                println!("{}", serde_json::to_string_pretty(&recs)?);
            }
        }
    }
    Ok(())
}

/// The ownership part of the text report.
pub fn render_owners(o: &Ownership, registry: &Registry) -> String {
    let mut s = String::new();
    if registry.plugins.is_empty() {
        let _ = writeln!(s, "plugins   none found (see `emqx-backup plugins`)");
    }
    let mut by_domain: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (t, d) in &o.tables {
        by_domain.entry(d).or_default().push(format!("mnesia/{t}"));
    }
    for (r, d) in &o.roots {
        if registry.root_owner(r).is_some() {
            by_domain.entry(d).or_default().push(format!("root {r}"));
        }
    }
    for (d, parts) in by_domain {
        let _ = writeln!(s, "domain    {d}: {}", parts.join(", "));
    }
    if o.unowned_entries.is_empty() && o.unowned_roots.is_empty() {
        let _ = writeln!(s, "unowned   none");
    } else {
        let _ = writeln!(s, "unowned   passed through byte for byte:");
        for e in &o.unowned_entries {
            let _ = writeln!(s, "  {e}");
        }
        for r in &o.unowned_roots {
            match o.roots.get(r) {
                Some(part) => {
                    let _ = writeln!(s, "  root {r} (owned {part})");
                }
                None => {
                    let _ = writeln!(s, "  root {r}");
                }
            }
        }
    }
    s
}

/// The text report.
pub fn render(i: &Inspection) -> String {
    let mut s = String::new();
    let records: u64 = i.tables.values().map(|t| t.records).sum();
    let _ = writeln!(s, "archive   {}", i.file.display());
    let _ = writeln!(s, "top       {}/", i.top);
    let _ = writeln!(
        s,
        "meta      edition {}, version {}",
        i.meta.edition.as_str(),
        i.meta.version
    );
    if i.has_cluster_config {
        let _ = writeln!(
            s,
            "config    cluster.hocon, {} roots: {}",
            i.config_roots.len(),
            i.config_roots.join(", ")
        );
    } else {
        let _ = writeln!(s, "config    no cluster.hocon");
    }
    for ns in &i.namespaces {
        let _ = writeln!(s, "config    namespace {ns}: ns/{ns}/cluster.hocon");
    }
    let _ = writeln!(s, "tables    {} tables, {records} records", i.tables.len());
    let width = i.tables.keys().map(String::len).max().unwrap_or(0);
    for (name, t) in &i.tables {
        let _ = writeln!(
            s,
            "  {name:<width$}  {:>9} records  {:<11}  record {}  [{}]",
            t.records,
            t.table_type.as_deref().unwrap_or("-"),
            t.record_name,
            t.attributes.join(", ")
        );
    }
    let unknown: Vec<_> = i
        .entries
        .iter()
        .filter(|e| e.kind == EntryKind::Unknown)
        .collect();
    if unknown.is_empty() {
        let _ = writeln!(s, "unknown   none");
    } else {
        let _ = writeln!(
            s,
            "unknown   {} entries no part of the tool understands (kept unchanged):",
            unknown.len()
        );
        for e in unknown {
            let _ = writeln!(s, "  {}  {} bytes", e.path, e.size);
        }
    }
    let _ = writeln!(
        s,
        "manifest  {}",
        if i.has_manifest {
            "present, matches the archive"
        } else {
            "absent"
        }
    );
    s
}
