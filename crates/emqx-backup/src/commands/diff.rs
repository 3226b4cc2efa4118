//! `emqx-backup diff`.

use crate::cli::DiffArgs;
use emqx_backup_plugin_host::{plan_import, Registry};
use emqx_backup_plugin_sdk::{Options, ScopeKind};
use serde::Serialize;

/// What differs in one table or root.
#[derive(Debug, Serialize)]
pub struct ScopeDiff {
    /// `table` or `root`.
    pub kind: ScopeKind,
    /// Its name.
    pub name: String,
    /// Keys only the first archive holds.
    pub only_in_a: Vec<String>,
    /// Keys only the second archive holds.
    pub only_in_b: Vec<String>,
    /// Keys both hold with different values.
    pub different: Vec<String>,
    /// How many keys are equal.
    pub same: u64,
}

/// What differs in one domain.
#[derive(Debug, Serialize)]
pub struct DomainDiff {
    /// The domain.
    pub domain: String,
    /// Its tables and roots that differ.
    pub scopes: Vec<ScopeDiff>,
}

/// Compares two archives domain by domain.
pub fn run(args: &DiffArgs, registry: &Registry) -> anyhow::Result<()> {
    let limits = args.read.limits();
    let (a, b) = super::read_pair(&args.a, &args.b, &limits)?;
    let meta = (a.meta.clone(), b.meta.clone());
    let options = Options {
        list_kept: true,
        ..Options::default()
    };
    let plan = plan_import(registry, a, b, &options)?;
    let diffs: Vec<DomainDiff> = plan
        .domains
        .into_iter()
        .map(|p| DomainDiff {
            domain: p.domain,
            scopes: p
                .scopes
                .into_iter()
                .filter(|s| !s.insert.is_empty() || !s.update.is_empty() || s.kept > 0)
                .map(|s| ScopeDiff {
                    kind: s.kind,
                    name: s.name,
                    only_in_a: s.kept_keys.unwrap_or_default(),
                    only_in_b: s.insert,
                    different: s.update,
                    same: s.unchanged,
                })
                .collect(),
        })
        .filter(|d| !d.scopes.is_empty())
        .collect();
    let same = diffs.is_empty() && meta.0 == meta.1;
    if args.json {
        let doc = serde_json::json!({
            "same": same,
            "meta": {"a": meta.0, "b": meta.1},
            "domains": diffs,
        });
        println!("{}", serde_json::to_string_pretty(&doc)?);
        return Ok(());
    }
    if meta.0 != meta.1 {
        println!(
            "META: a is {} {}, b is {} {}",
            meta.0.edition.as_str(),
            meta.0.version,
            meta.1.edition.as_str(),
            meta.1.version
        );
    }
    for d in &diffs {
        println!("{}:", d.domain);
        for s in &d.scopes {
            let kind = match s.kind {
                ScopeKind::Table => "table",
                ScopeKind::Root => "root",
            };
            println!(
                "  {kind} {}: {} only in A, {} only in B, {} different, {} same",
                s.name,
                s.only_in_a.len(),
                s.only_in_b.len(),
                s.different.len(),
                s.same
            );
            for k in &s.only_in_a {
                println!("    - {k}");
            }
            for k in &s.only_in_b {
                println!("    + {k}");
            }
            for k in &s.different {
                println!("    ~ {k}");
            }
        }
    }
    if same {
        println!("no differences");
    }
    Ok(())
}
