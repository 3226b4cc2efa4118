//! `emqx-backup inspect`.

use crate::cli::InspectArgs;
use emqx_archive::{EntryKind, Inspection};
use std::fmt::Write;

/// Prints what the archive holds.
pub fn run(args: &InspectArgs) -> anyhow::Result<()> {
    let inspection = emqx_archive::inspect(&args.file, &args.read.limits())?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&inspection)?);
    } else {
        print!("{}", render(&inspection));
    }
    Ok(())
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
