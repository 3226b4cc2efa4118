//! Text rendering of plans, shared by merge and diff.

use emqx_backup_plugin_sdk::{Plan, ScopeKind};
use std::fmt::Write;

/// How many keys per list a text report shows unless verbose.
const SHOWN: usize = 10;

fn keys(s: &mut String, sign: char, keys: &[String], verbose: bool) {
    let shown = if verbose {
        keys.len()
    } else {
        keys.len().min(SHOWN)
    };
    for k in &keys[..shown] {
        let _ = writeln!(s, "      {sign} {k}");
    }
    if shown < keys.len() {
        let _ = writeln!(s, "      … and {} more (-v lists all)", keys.len() - shown);
    }
}

/// The plan of one domain as text: a line per table or root, changed keys, warnings.
pub fn plan_text(plan: &Plan, verbose: bool) -> String {
    let mut s = String::new();
    if plan.scopes.is_empty() && plan.warnings.is_empty() {
        return s;
    }
    let (i, u, n) = plan.totals();
    let _ = writeln!(
        s,
        "{}: {i} to insert, {u} to update, {n} unchanged",
        plan.domain
    );
    for scope in &plan.scopes {
        if scope.insert.is_empty()
            && scope.update.is_empty()
            && scope.unchanged == 0
            && scope.kept == 0
        {
            continue;
        }
        let kind = match scope.kind {
            ScopeKind::Table => "table",
            ScopeKind::Root => "root ",
        };
        let _ = writeln!(
            s,
            "  {kind} {:<28} insert {:>7}  update {:>7}  unchanged {:>7}  kept {:>7}",
            scope.name,
            scope.insert.len(),
            scope.update.len(),
            scope.unchanged,
            scope.kept
        );
        keys(&mut s, '+', &scope.insert, verbose);
        keys(&mut s, '~', &scope.update, verbose);
    }
    for w in &plan.warnings {
        let _ = writeln!(s, "  warning [{}]: {}", w.code, w.message);
    }
    s
}
